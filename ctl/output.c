/* output.c: see output.h. Tables are built cell by cell and measured only
 * when printed, so colors (escape sequences) never count towards a width. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "output.h"

#define USEC_PER_SEC INT64_C(1000000)

/* ---- colors ------------------------------------------------------------ */

bool output_use_color(int fd) {
        const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
        if (no && *no)
                return false;
        if (term && streq(term, "dumb"))
                return false;
        return isatty(fd) == 1;
}

const char *state_color(const char *state) {
        if (!state)
                return NULL;
        if (streq(state, "running"))
                return ANSI_GREEN;
        if (streq(state, "backoff") || streq(state, "failed"))
                return ANSI_RED;
        if (streq(state, "stopping") || streq(state, "killing"))
                return ANSI_YELLOW;
        return NULL;
}

/* ---- time -------------------------------------------------------------- */

/* Kubernetes' duration.HumanDuration (k8s.io/apimachinery), which kubectl
 * uses for AGE: the precision drops as the age grows. One difference:
 * kubectl counts minutes up to 3 hours ("125m"); we switch to hours at 1 h
 * ("2h5m"), which reads better for replicas that restart. */
char *format_age(int64_t usec, char *buf, size_t size) {
        if (usec < -USEC_PER_SEC) {
                snprintf(buf, size, "<invalid>");
                return buf;
        }
        if (usec < 0)
                usec = 0;
        int64_t seconds = usec / USEC_PER_SEC;
        int64_t minutes = seconds / 60, hours = seconds / 3600, days = hours / 24;

        if (seconds < 60 * 2)
                snprintf(buf, size, "%" PRId64 "s", seconds);
        else if (minutes < 10) {
                if (seconds % 60 == 0)
                        snprintf(buf, size, "%" PRId64 "m", minutes);
                else
                        snprintf(buf, size, "%" PRId64 "m%" PRId64 "s", minutes, seconds % 60);
        } else if (minutes < 60)
                snprintf(buf, size, "%" PRId64 "m", minutes);
        else if (hours < 8) {
                if (minutes % 60 == 0)
                        snprintf(buf, size, "%" PRId64 "h", hours);
                else
                        snprintf(buf, size, "%" PRId64 "h%" PRId64 "m", hours, minutes % 60);
        } else if (hours < 48)
                snprintf(buf, size, "%" PRId64 "h", hours);
        else if (hours < 24 * 8) {
                if (hours % 24 == 0)
                        snprintf(buf, size, "%" PRId64 "d", days);
                else
                        snprintf(buf, size, "%" PRId64 "d%" PRId64 "h", days, hours % 24);
        } else if (hours < 24 * 365 * 2)
                snprintf(buf, size, "%" PRId64 "d", days);
        else if (hours < 24 * 365 * 8) {
                int64_t years = days / 365, rest = days % 365;
                if (rest == 0)
                        snprintf(buf, size, "%" PRId64 "y", years);
                else
                        snprintf(buf, size, "%" PRId64 "y%" PRId64 "d", years, rest);
        } else
                snprintf(buf, size, "%" PRId64 "y", days / 365);
        return buf;
}

static bool parse_digits(const char **p, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++, (*p)++) {
                if (**p < '0' || **p > '9')
                        return false;
                v = v * 10 + (**p - '0');
        }
        *ret = v;
        return true;
}

int parse_rfc3339(const char *s, uint64_t *ret_usec) {
        int year, mon, day, hour, min, sec, usec = 0;
        const char *p = s;

        if (!s || !parse_digits(&p, 4, &year) || *p++ != '-' || !parse_digits(&p, 2, &mon) || *p++ != '-' ||
            !parse_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
                return -EINVAL;
        p++;
        if (!parse_digits(&p, 2, &hour) || *p++ != ':' || !parse_digits(&p, 2, &min) || *p++ != ':' ||
            !parse_digits(&p, 2, &sec))
                return -EINVAL;
        if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
                return -EINVAL;
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                        if (digits < 6)
                                usec = usec * 10 + (*p - '0');
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 6; digits++)
                        usec *= 10;
        }
        int64_t offset = 0;
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, oh, om;
                if (!parse_digits(&p, 2, &oh) || *p++ != ':' || !parse_digits(&p, 2, &om) || oh > 23 || om > 59)
                        return -EINVAL;
                offset = sign * (oh * 3600 + om * 60);
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;

        struct tm tm = {
                .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                .tm_hour = hour,        .tm_min = min,     .tm_sec = sec,
        };
        time_t t = timegm(&tm);
        if (t == (time_t) -1 || (int64_t) t - offset < 0)
                return -EINVAL;
        *ret_usec = (uint64_t) ((int64_t) t - offset) * (uint64_t) USEC_PER_SEC + (uint64_t) usec;
        return 0;
}

char *format_age_since(const char *s, uint64_t now_usec, char *buf, size_t size) {
        uint64_t t;
        if (!s || parse_rfc3339(s, &t) < 0) {
                snprintf(buf, size, "-");
                return buf;
        }
        return format_age((int64_t) now_usec - (int64_t) t, buf, size);
}

/* ---- tables ------------------------------------------------------------ */

struct cell {
        char *text;
        const char *color;
};

struct table {
        size_t n_columns;
        struct cell *cells; /* headers first, then row after row */
        size_t n_cells, allocated;
};

struct table *table_free(struct table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t);
        return NULL;
}

static int table_push(struct table *t, char *text, const char *color) {
        if (t->n_cells == t->allocated) {
                size_t a = t->allocated ? t->allocated * 2 : 64;
                struct cell *c = realloc(t->cells, a * sizeof *c);
                if (!c) {
                        free(text);
                        return -ENOMEM;
                }
                t->cells = c;
                t->allocated = a;
        }
        t->cells[t->n_cells++] = (struct cell) { .text = text, .color = color };
        return 0;
}

struct table *table_new(const char *const *headers) {
        struct table *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        for (; headers[t->n_columns]; t->n_columns++) {
                char *h = strdup(headers[t->n_columns]);
                if (!h || table_push(t, h, NULL) < 0)
                        return table_free(t);
        }
        if (t->n_columns == 0)
                return table_free(t);
        return t;
}

int table_add(struct table *t, const char *text, const char *color) {
        char *s = strdup(text ? text : "-");
        if (!s)
                return -ENOMEM;
        return table_push(t, s, color);
}

int table_addf(struct table *t, const char *color, const char *fmt, ...) {
        char *s;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return table_push(t, s, color);
}

size_t table_rows(const struct table *t) {
        return t->n_cells / t->n_columns - 1;
}

/* Characters of a UTF-8 string: every byte that does not continue one. */
static size_t text_width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                w += ((unsigned char) *s & 0xC0) != 0x80;
        return w;
}

int table_print(const struct table *t, FILE *f, bool color) {
        _cleanup_free_ size_t *width = calloc(t->n_columns, sizeof *width);
        if (!width)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cells; i++)
                width[i % t->n_columns] = MAX(width[i % t->n_columns], text_width(t->cells[i].text));

        /* a row ending before the last column (table_add not called for all) is printed as far as it goes */
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                const struct cell *c = &t->cells[i];
                bool last = col == t->n_columns - 1 || i == t->n_cells - 1;
                if (color && c->color)
                        fprintf(f, "%s%s%s", c->color, c->text, ANSI_RESET);
                else
                        fputs(c->text, f);
                if (last)
                        fputc('\n', f);
                else
                        fprintf(f, "%*s", (int) (width[col] - text_width(c->text) + 3), "");
        }
        return 0;
}

/* ---- JSON access ------------------------------------------------------- */

const char *json_get_str(struct json_object *o, const char *key) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

bool json_get_int(struct json_object *o, const char *key, int64_t *ret) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

void json_print_pretty(FILE *f, struct json_object *o) {
        fprintf(f, "%s\n",
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- replicas ---------------------------------------------------------- */

char *format_replica_state(struct json_object *replica, uint64_t now_usec, char *buf, size_t size) {
        const char *state = json_get_str(replica, "state");
        const char *next = json_get_str(replica, "next_restart_at");
        uint64_t t;

        if (!state)
                snprintf(buf, size, "-");
        else if (streq(state, "backoff") && next && parse_rfc3339(next, &t) >= 0) {
                char age[AGE_MAX];
                /* "next in" rounds up: 0.4 s left is "1s", not "0s" */
                int64_t left = (int64_t) t - (int64_t) now_usec;
                if (left > 0)
                        left = (left + USEC_PER_SEC - 1) / USEC_PER_SEC * USEC_PER_SEC;
                snprintf(buf, size, "backoff (next in %s)", format_age(MAX(left, (int64_t) 0), age, sizeof age));
        } else
                snprintf(buf, size, "%s", state);
        return buf;
}

char *format_last_exit(struct json_object *replica, uint64_t now_usec, char *buf, size_t size) {
        struct json_object *e;
        const char *reason;
        int64_t code, sig;
        char detail[48] = "", ago[AGE_MAX + 8] = "";

        if (!replica || !json_object_object_get_ex(replica, "last_exit", &e) || !json_object_is_type(e, json_type_object) ||
            !(reason = json_get_str(e, "reason"))) {
                snprintf(buf, size, "-");
                return buf;
        }
        if (json_get_int(e, "signal", &sig) && sig > 0) {
                const char *name = sig < 65 ? sigabbrev_np((int) sig) : NULL;
                if (name)
                        snprintf(detail, sizeof detail, " (SIG%s)", name);
                else
                        snprintf(detail, sizeof detail, " (signal %" PRId64 ")", sig);
        } else if (json_get_int(e, "code", &code) && (code != 0 || !streq(reason, "Completed")))
                snprintf(detail, sizeof detail, " (%" PRId64 ")", code);
        /* the reasons that say it all: no exit code */
        if (streq(reason, "OOMKilled") || streq(reason, "ExecFailed") || streq(reason, "Stopped") ||
            streq(reason, "LivenessFailed"))
                detail[0] = '\0';

        const char *at = json_get_str(e, "at");
        uint64_t t;
        if (at && parse_rfc3339(at, &t) >= 0) {
                char age[AGE_MAX];
                snprintf(ago, sizeof ago, " %s ago", format_age((int64_t) now_usec - (int64_t) t, age, sizeof age));
        }
        snprintf(buf, size, "%s%s%s", reason, detail, ago);
        return buf;
}

/* ---- events ------------------------------------------------------------ */

/* "2026-11-26T19:00:00.123456Z" → "2026-11-26T19:00:00.123Z" */
static void short_time(const char *s, char *buf, size_t size) {
        const char *dot = s ? strchr(s, '.') : NULL;
        if (!s)
                snprintf(buf, size, "-");
        else if (dot && strlen(dot) >= 5 && dot[strlen(dot) - 1] == 'Z')
                snprintf(buf, size, "%.*sZ", (int) (dot - s + 4), s);
        else
                snprintf(buf, size, "%s", s);
}

char *format_event(struct json_object *event) {
        char when[64], who[128];
        const char *type = json_get_str(event, "type"), *service = json_get_str(event, "service"),
                   *message = json_get_str(event, "message");
        int64_t replica;
        char *out;

        short_time(json_get_str(event, "time"), when, sizeof when);
        if (!service)
                snprintf(who, sizeof who, "-");
        else if (json_get_int(event, "replica", &replica))
                snprintf(who, sizeof who, "%s-%" PRId64, service, replica);
        else
                snprintf(who, sizeof who, "%s", service);
        if (asprintf(&out, "%s  %-17s  %-12s  %s", when, type ? type : "-", who, message ? message : "") < 0)
                return NULL;
        /* no trailing spaces when there is no message */
        for (size_t n = strlen(out); n > 0 && out[n - 1] == ' '; n--)
                out[n - 1] = '\0';
        return out;
}

/* ---- deploy changes ---------------------------------------------------- */

char *format_change(struct json_object *change, bool dry_run) {
        const char *service = json_get_str(change, "service"), *action = json_get_str(change, "action");
        int64_t revision = 0, replicas = 0;
        bool have_rev = json_get_int(change, "revision", &revision),
             have_replicas = json_get_int(change, "replicas", &replicas);
        char detail[96] = "";
        char *out;

        if (!action || !streq(action, "unchanged")) {
                if (have_rev && have_replicas)
                        snprintf(detail, sizeof detail, " (revision %" PRId64 ", %" PRId64 " replica%s)", revision,
                                 replicas, replicas == 1 ? "" : "s");
                else if (have_replicas)
                        snprintf(detail, sizeof detail, " (%" PRId64 " replica%s)", replicas, replicas == 1 ? "" : "s");
        }
        if (asprintf(&out, "%s: %s%s%s", service ? service : "?", action ? action : "?", detail,
                     dry_run ? " (dry run)" : "") < 0)
                return NULL;
        return out;
}
