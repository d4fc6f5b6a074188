/* logwire.c: see logwire.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "logwire.h"
#include "macro.h"

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t l;
        uint32_t cp;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                l = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                l = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                l = 4, cp = c & 0x07;
        else
                return 0;
        if (n < l)
                return 0;
        for (size_t i = 1; i < l; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* overlong, surrogates, beyond U+10FFFF */
        if ((l == 3 && cp < 0x800) || (l == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return l;
}

size_t logwire_encode(char *out, unsigned replica, const struct crilog_line *l) {
        static const char hex[] = "0123456789abcdef";
        char t[CRI_TIME_LEN + 1];
        char *p = out;

        p += sprintf(p, "{\"replica\":%u,\"time\":\"%s\",\"stream\":\"%s\",\"line\":\"", replica,
                     cri_format_time(l->time, t), cri_stream_to_string(l->stream));
        const unsigned char *s = (const unsigned char *) l->data;
        size_t n = l->len;
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                        /* the common case: a run of plain ASCII */
                        size_t j = i + 1;
                        while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
                                j++;
                        memcpy(p, s + i, j - i);
                        p += j - i;
                        i = j;
                        continue;
                }
                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char) c;
                        i++;
                } else if (c < 0x20) {
                        *p++ = '\\';
                        switch (c) {
                        case '\n': *p++ = 'n'; break;
                        case '\r': *p++ = 'r'; break;
                        case '\t': *p++ = 't'; break;
                        case '\b': *p++ = 'b'; break;
                        case '\f': *p++ = 'f'; break;
                        default:
                                memcpy(p, "u00", 3);
                                p += 3;
                                *p++ = hex[c >> 4];
                                *p++ = hex[c & 15];
                        }
                        i++;
                } else {
                        size_t k = utf8_len(s + i, n - i);
                        if (k == 0) {
                                memcpy(p, "\\ufffd", 6);
                                p += 6;
                                i++;
                        } else {
                                memcpy(p, s + i, k);
                                p += k;
                                i += k;
                        }
                }
        }
        memcpy(p, "\"", 1);
        p++;
        if (l->partial) {
                memcpy(p, ",\"partial\":true", 15);
                p += 15;
        }
        memcpy(p, "}\n", 2);
        p += 2;
        return (size_t) (p - out);
}

/* ---- decoding ----------------------------------------------------------- */

struct cursor {
        char *s, *end;
};

static void ws(struct cursor *c) {
        while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\r' || *c->s == '\n'))
                c->s++;
}

static int hex4(const char *s, uint32_t *ret) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static char *put_utf8(char *o, uint32_t cp) {
        if (cp < 0x80)
                *o++ = (char) cp;
        else if (cp < 0x800) {
                *o++ = (char) (0xc0 | (cp >> 6));
                *o++ = (char) (0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                *o++ = (char) (0xe0 | (cp >> 12));
                *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *o++ = (char) (0x80 | (cp & 0x3f));
        } else {
                *o++ = (char) (0xf0 | (cp >> 18));
                *o++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *o++ = (char) (0x80 | (cp & 0x3f));
        }
        return o;
}

/* A string at c->s ('"'), unescaped in place: *ret points at it, *ret_len. */
static int string(struct cursor *c, char **ret, size_t *ret_len) {
        if (c->s >= c->end || *c->s != '"')
                return -EBADMSG;
        char *in = ++c->s, *o = in, *start = in;
        for (;;) {
                /* plain bytes: copy the run at once */
                char *q = in;
                while (q < c->end && *q != '"' && *q != '\\' && (unsigned char) *q >= 0x20)
                        q++;
                if (o != in)
                        memmove(o, in, (size_t) (q - in));
                o += q - in;
                in = q;
                if (in >= c->end || (unsigned char) *in < 0x20)
                        return -EBADMSG;
                if (*in == '"')
                        break;
                /* an escape */
                if (in + 1 >= c->end)
                        return -EBADMSG;
                char e = in[1];
                in += 2;
                switch (e) {
                case '"': *o++ = '"'; break;
                case '\\': *o++ = '\\'; break;
                case '/': *o++ = '/'; break;
                case 'n': *o++ = '\n'; break;
                case 'r': *o++ = '\r'; break;
                case 't': *o++ = '\t'; break;
                case 'b': *o++ = '\b'; break;
                case 'f': *o++ = '\f'; break;
                case 'u': {
                        uint32_t cp, lo;
                        if (c->end - in < 4 || hex4(in, &cp) < 0)
                                return -EBADMSG;
                        in += 4;
                        if (cp >= 0xd800 && cp <= 0xdbff && c->end - in >= 6 && in[0] == '\\' && in[1] == 'u' &&
                            hex4(in + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                in += 6;
                        } else if (cp >= 0xd800 && cp <= 0xdfff)
                                cp = 0xfffd;
                        /* at most 4 bytes out for 6 or 12 in: never overtakes in */
                        o = put_utf8(o, cp);
                        break;
                }
                default:
                        return -EBADMSG;
                }
        }
        *ret = start;
        *ret_len = (size_t) (o - start);
        c->s = in + 1;
        return 0;
}

static int skip_value(struct cursor *c) {
        char *s;
        size_t n;
        if (c->s >= c->end)
                return -EBADMSG;
        if (*c->s == '"')
                return string(c, &s, &n);
        if (*c->s == '[' || *c->s == '{')
                return -EBADMSG; /* not needed, not supported */
        char *q = c->s;
        while (q < c->end && *q != ',' && *q != '}' && *q != ' ')
                q++;
        if (q == c->s)
                return -EBADMSG;
        c->s = q;
        return 0;
}

int logwire_decode(char *s, size_t len, struct logwire_msg *ret) {
        struct cursor c = { s, s + len };
        struct logwire_msg m = {};
        bool have_time = false, have_line = false, have_replica = false;

        ws(&c);
        if (c.s >= c.end || *c.s != '{')
                return -EBADMSG;
        c.s++;
        for (bool first = true;; first = false) {
                ws(&c);
                if (c.s < c.end && *c.s == '}' && first) {
                        c.s++;
                        break;
                }
                char *key;
                size_t kl;
                if (string(&c, &key, &kl) < 0)
                        return -EBADMSG;
                ws(&c);
                if (c.s >= c.end || *c.s != ':')
                        return -EBADMSG;
                c.s++;
                ws(&c);
                if (kl == 7 && memcmp(key, "replica", 7) == 0) {
                        uint64_t v = 0;
                        char *q = c.s;
                        for (; q < c.end && *q >= '0' && *q <= '9' && v < 1000000; q++)
                                v = v * 10 + (uint64_t) (*q - '0');
                        if (q == c.s || v >= 1000000)
                                return -EBADMSG;
                        m.replica = (unsigned) v;
                        c.s = q;
                        have_replica = true;
                } else if (kl == 4 && memcmp(key, "time", 4) == 0) {
                        char *v;
                        size_t vl;
                        if (string(&c, &v, &vl) < 0 || cri_parse_time(v, vl, &m.time) < 0)
                                return -EBADMSG;
                        memcpy(m.time_str, v, CRI_TIME_LEN);
                        m.time_str[CRI_TIME_LEN] = 0;
                        have_time = true;
                } else if (kl == 6 && memcmp(key, "stream", 6) == 0) {
                        char *v;
                        size_t vl;
                        if (string(&c, &v, &vl) < 0)
                                return -EBADMSG;
                        if (vl == 6 && memcmp(v, "stderr", 6) == 0)
                                m.stream = CRI_STDERR;
                        else if (vl == 6 && memcmp(v, "stdout", 6) == 0)
                                m.stream = CRI_STDOUT;
                        else
                                return -EBADMSG;
                } else if (kl == 4 && memcmp(key, "line", 4) == 0) {
                        if (string(&c, &m.line, &m.len) < 0)
                                return -EBADMSG;
                        have_line = true;
                } else if (kl == 7 && memcmp(key, "partial", 7) == 0) {
                        if (c.end - c.s >= 4 && memcmp(c.s, "true", 4) == 0) {
                                m.partial = true;
                                c.s += 4;
                        } else if (c.end - c.s >= 5 && memcmp(c.s, "false", 5) == 0)
                                c.s += 5;
                        else
                                return -EBADMSG;
                } else if (skip_value(&c) < 0)
                        return -EBADMSG;
                ws(&c);
                if (c.s < c.end && *c.s == ',') {
                        c.s++;
                        continue;
                }
                if (c.s < c.end && *c.s == '}') {
                        c.s++;
                        break;
                }
                return -EBADMSG;
        }
        ws(&c);
        if (c.s != c.end || !have_time || !have_line || !have_replica)
                return -EBADMSG;
        *ret = m;
        return 0;
}
