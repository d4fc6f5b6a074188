/* api-util.c: see api-util.h. Everything here is pure (no I/O), so the
 * decisions the control API makes about what a client sent (route, method,
 * size, content type, access) are unit-tested in tests/test-api.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-util.h"
#include "macro.h"

enum api_method api_method_from_string(const char *s) {
        /* methods are case-sensitive (RFC 9110 9.1) */
        if (!s)
                return API_METHOD_OTHER;
        if (streq(s, "GET"))
                return API_METHOD_GET;
        if (streq(s, "HEAD"))
                return API_METHOD_HEAD;
        if (streq(s, "POST"))
                return API_METHOD_POST;
        if (streq(s, "DELETE"))
                return API_METHOD_DELETE;
        return API_METHOD_OTHER;
}

/* ---- routing ----------------------------------------------------------- */

#define M(x) (1u << (x))

static const struct {
        unsigned methods;
        const char *allow;
} route_table[_API_ROUTE_MAX] = {
        [API_ROUTE_INFO] = { M(API_METHOD_GET) | M(API_METHOD_HEAD), "GET, HEAD" },
        [API_ROUTE_SERVICES] = { M(API_METHOD_GET) | M(API_METHOD_HEAD) | M(API_METHOD_POST), "GET, HEAD, POST" },
        [API_ROUTE_SERVICE] = { M(API_METHOD_GET) | M(API_METHOD_HEAD) | M(API_METHOD_DELETE), "GET, HEAD, DELETE" },
        [API_ROUTE_SERVICE_SCALE] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_SERVICE_STOP] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_SERVICE_START] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_SERVICE_RESTART] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_ROLLOUT] = { M(API_METHOD_GET) | M(API_METHOD_HEAD), "GET, HEAD" },
        [API_ROUTE_REVISIONS] = { M(API_METHOD_GET) | M(API_METHOD_HEAD), "GET, HEAD" },
        [API_ROUTE_ROLLOUT_UNDO] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_ROLLOUT_PAUSE] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_ROLLOUT_RESUME] = { M(API_METHOD_POST), "POST" },
        [API_ROUTE_ROLLOUT_RESTART] = { M(API_METHOD_POST), "POST" },
        /* a stream, like the events */
        [API_ROUTE_SERVICE_LOGS] = { M(API_METHOD_GET), "GET" },
        [API_ROUTE_REPLICAS] = { M(API_METHOD_GET) | M(API_METHOD_HEAD), "GET, HEAD" },
        /* a stream: HEAD would have to run it to learn nothing */
        [API_ROUTE_EVENTS] = { M(API_METHOD_GET), "GET" },
        [API_ROUTE_SHUTDOWN] = { M(API_METHOD_POST), "POST" },
};

static const struct {
        const char *suffix;
        enum api_route route;
} service_actions[] = {
        { "scale", API_ROUTE_SERVICE_SCALE },
        { "stop", API_ROUTE_SERVICE_STOP },
        { "start", API_ROUTE_SERVICE_START },
        { "restart", API_ROUTE_SERVICE_RESTART },
        { "rollout", API_ROUTE_ROLLOUT },
        { "revisions", API_ROUTE_REVISIONS },
        { "rollout/undo", API_ROUTE_ROLLOUT_UNDO },
        { "rollout/pause", API_ROUTE_ROLLOUT_PAUSE },
        { "rollout/resume", API_ROUTE_ROLLOUT_RESUME },
        { "rollout/restart", API_ROUTE_ROLLOUT_RESTART },
        { "logs", API_ROUTE_SERVICE_LOGS },
};

int api_route_find(const char *path, char *name, size_t name_size) {
        static const struct {
                const char *path;
                enum api_route route;
        } fixed[] = {
                { "/v1/info", API_ROUTE_INFO },
                { "/v1/services", API_ROUTE_SERVICES },
                { "/v1/replicas", API_ROUTE_REPLICAS },
                { "/v1/events", API_ROUTE_EVENTS },
                { "/v1/shutdown", API_ROUTE_SHUTDOWN },
        };
        static const char prefix[] = "/v1/services/";

        if (!path)
                return -ENOENT;
        if (name && name_size > 0)
                name[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (streq(path, fixed[i].path))
                        return fixed[i].route;

        if (strncmp(path, prefix, sizeof prefix - 1) != 0)
                return -ENOENT;
        const char *seg = path + sizeof prefix - 1;
        size_t n = strcspn(seg, "/");
        if (n == 0 || n > API_NAME_MAX || !name || n >= name_size)
                return -ENOENT;

        enum api_route route;
        const char *rest = seg + n;
        if (*rest == 0)
                route = API_ROUTE_SERVICE;
        else {
                rest++; /* the '/' */
                int found = -ENOENT;
                for (size_t i = 0; i < ELEMENTSOF(service_actions); i++)
                        if (streq(rest, service_actions[i].suffix)) {
                                found = (int) service_actions[i].route;
                                break;
                        }
                if (found < 0)
                        return -ENOENT;
                route = (enum api_route) found;
        }
        memcpy(name, seg, n);
        name[n] = 0;
        return (int) route;
}

bool api_route_allows(enum api_route route, enum api_method method) {
        if ((unsigned) route >= _API_ROUTE_MAX || method == API_METHOD_OTHER)
                return false;
        return route_table[route].methods & M(method);
}

const char *api_route_allow_header(enum api_route route) {
        if ((unsigned) route >= _API_ROUTE_MAX)
                return "";
        return route_table[route].allow;
}

bool api_query_allowed(enum api_route route, enum api_method method, const char *key) {
        if (!key)
                return false;
        switch (route) {
        case API_ROUTE_SERVICES:
                return method == API_METHOD_POST && streq(key, "dryRun");
        case API_ROUTE_REPLICAS:
                return streq(key, "service");
        case API_ROUTE_EVENTS:
                return streq(key, "since") || streq(key, "follow");
        case API_ROUTE_SERVICE_LOGS:
                return streq(key, "replica") || streq(key, "follow") || streq(key, "tail") || streq(key, "since") ||
                       streq(key, "until") || streq(key, "previous");
        default:
                return false;
        }
}

bool api_name_valid(const char *name) {
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > API_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                        return false;
        }
        return name[0] != '-' && name[n - 1] != '-';
}

/* ---- bodies ------------------------------------------------------------ */

int api_content_length_check(const char *value, size_t max) {
        uint64_t v;
        int r;

        if (!value)
                return 0;
        r = api_parse_u64(value, &v);
        if (r == -ERANGE)
                return -EFBIG;
        if (r < 0)
                return -EINVAL;
        return v > max ? -EFBIG : 0;
}

int api_body_append(struct api_body *b, const char *data, size_t n, size_t max) {
        b->received += n;
        if (b->too_large)
                return -EFBIG;
        if (b->received > max) {
                /* drop what we have: the answer is 413 either way */
                api_body_done(b);
                b->too_large = true;
                return -EFBIG;
        }
        if (n == 0)
                return 0;
        if (b->len + n + 1 > b->allocated) {
                size_t want = MAX(b->len + n + 1, MIN(MAX(b->allocated * 2, (size_t) 4096), max + 1));
                char *p = realloc(b->data, want);
                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->allocated = want;
        }
        memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

void api_body_done(struct api_body *b) {
        free(b->data);
        b->data = NULL;
        b->len = b->allocated = 0;
}

/* The media type of a Content-Type value: "Application/YAML ; charset=x" ->
 * compares "application/yaml" case-insensitively. */
static bool media_type_is(const char *value, const char *type) {
        while (*value == ' ' || *value == '\t')
                value++;
        size_t n = strcspn(value, ";");
        while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
                n--;
        return n == strlen(type) && strncasecmp(value, type, n) == 0;
}

static bool media_type_suffix_is(const char *value, const char *suffix) {
        while (*value == ' ' || *value == '\t')
                value++;
        size_t n = strcspn(value, ";"), k = strlen(suffix);
        while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
                n--;
        return n > k && strncasecmp(value + n - k, suffix, k) == 0;
}

int api_body_kind(const char *content_type, const char *body, size_t len) {
        static const char *const yaml[] = { "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml" };
        /* what curl -d/--data-binary and friends send when not told: sniff */
        static const char *const sniff[] = { "application/x-www-form-urlencoded", "text/plain",
                                             "application/octet-stream" };

        if (content_type && content_type[strspn(content_type, " \t")]) {
                for (size_t i = 0; i < ELEMENTSOF(yaml); i++)
                        if (media_type_is(content_type, yaml[i]))
                                return API_BODY_YAML;
                if (media_type_is(content_type, "application/json") || media_type_suffix_is(content_type, "+json"))
                        return API_BODY_JSON;
                if (media_type_suffix_is(content_type, "+yaml"))
                        return API_BODY_YAML;
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(sniff); i++)
                        ok = ok || media_type_is(content_type, sniff[i]);
                if (!ok)
                        return -EMEDIUMTYPE;
        }
        for (size_t i = 0; i < len; i++) {
                char c = body[i];
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        continue;
                return c == '{' || c == '[' ? API_BODY_JSON : API_BODY_YAML;
        }
        return API_BODY_YAML;
}

/* ---- query values ------------------------------------------------------ */

int api_parse_bool(const char *s, bool *ret) {
        if (!s)
                return -EINVAL;
        if (streq(s, "") || streq(s, "1") || strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0) {
                *ret = true;
                return 0;
        }
        if (streq(s, "0") || strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

int api_parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                unsigned d = (unsigned) (*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

const char *api_filename_or_default(const char *s) {
        if (!s || !*s)
                return API_FILENAME_DEFAULT;
        size_t n = strlen(s);
        if (n > API_FILENAME_MAX)
                return API_FILENAME_DEFAULT;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                /* it ends up in one-line error messages: no control characters */
                if (c < 0x20 || c == 0x7f)
                        return API_FILENAME_DEFAULT;
        }
        return s;
}

/* ---- access ------------------------------------------------------------ */

bool api_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, gid_t socket_gid) {
        if (uid == 0)
                return true;
        if (gid == socket_gid)
                return true;
        for (size_t i = 0; i < n_groups; i++)
                if (groups[i] == socket_gid)
                        return true;
        return false;
}

int api_parse_status_groups(const char *status, gid_t **ret, size_t *ret_n) {
        const char *line = status;
        while (line && *line) {
                if (strncmp(line, "Groups:", 7) == 0)
                        break;
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        if (!line || !*line)
                return -ENOENT;

        const char *p = line + 7;
        const char *end = strchrnul(p, '\n');
        gid_t *v = NULL;
        size_t n = 0;
        while (p < end) {
                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                if (p >= end)
                        break;
                uint64_t g = 0;
                const char *q = p;
                while (q < end && *q >= '0' && *q <= '9') {
                        g = g * 10 + (uint64_t) (*q - '0');
                        if (g > UINT32_MAX) {
                                free(v);
                                return -EINVAL;
                        }
                        q++;
                }
                if (q == p || (q < end && *q != ' ' && *q != '\t')) {
                        free(v);
                        return -EINVAL;
                }
                gid_t *nv = realloc(v, (n + 1) * sizeof *v);
                if (!nv) {
                        free(v);
                        return -ENOMEM;
                }
                v = nv;
                v[n++] = (gid_t) g;
                p = q;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- JSON bodies ------------------------------------------------------- */

void api_offset_to_line_col(const char *buf, size_t len, size_t offset, unsigned *ret_line, unsigned *ret_col) {
        unsigned line = 1, col = 1;
        if (offset > len)
                offset = len;
        for (size_t i = 0; i < offset; i++)
                if (buf[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        *ret_line = line;
        *ret_col = col;
}

static void json_tokener_freep(struct json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

int api_json_parse(const char *buf, size_t len, const char *file, struct json_object **ret, char *err,
                   size_t err_size) {
        __attribute__((cleanup(json_tokener_freep))) struct json_tokener *tok = NULL;
        struct json_object *o;
        enum json_tokener_error e;
        unsigned line, col;
        size_t end;

        if (len > INT32_MAX)
                len = INT32_MAX; /* json-c takes an int; bodies are capped far below */
        tok = json_tokener_new_ex(32);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

        o = json_tokener_parse_ex(tok, buf, (int) len);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (!o && e == json_tokener_continue) {
                /* all of buf is consumed, inside a value ("tru", "{...", or a bare
                 * "true" json-c cannot end yet): a NUL tells json-c the input ended */
                o = json_tokener_parse_ex(tok, "", 1);
                e = json_tokener_get_error(tok);
                if (!o && e == json_tokener_continue)
                        e = json_tokener_error_parse_eof;
                end = len;
        }
        if (!o || e != json_tokener_success) {
                json_object_put(o);
                if (len == 0 || strspn(buf, " \t\r\n") >= len) {
                        snprintf(err, err_size, "%s:1:1: error: invalid JSON: the body is empty", file);
                        return -EINVAL;
                }
                /* the tokener stops at the offending character (or the end) */
                api_offset_to_line_col(buf, len, e == json_tokener_error_parse_eof ? len : MIN(end, len), &line, &col);
                snprintf(err, err_size, "%s:%u:%u: error: invalid JSON: %s", file, line, col,
                         json_tokener_error_desc(e));
                return -EINVAL;
        }
        /* json-c stops after the first value: anything but space after it is garbage */
        for (size_t i = MIN(end, len); i < len; i++)
                if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n') {
                        json_object_put(o);
                        api_offset_to_line_col(buf, len, i, &line, &col);
                        snprintf(err, err_size, "%s:%u:%u: error: invalid JSON: unexpected data after the value",
                                 file, line, col);
                        return -EINVAL;
                }
        *ret = o;
        return 0;
}
