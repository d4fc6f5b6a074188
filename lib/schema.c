/* schema.c: the generic engine behind schema.h. It knows YAML node shapes and
 * scalar syntax; it knows nothing about services (see model.c). */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "model.h"
#include "quantity.h"
#include "schema.h"
#include "util.h"

#define PATH_MAX_LEN 512

void walk_error(struct walk *w, const struct ynode *node, const char *path, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        unsigned line = node ? node->line : w->line, col = node ? node->col : w->col;
        if (path && *path)
                diag_add(w->diags, w->file, line, col, "%s: %s", path, msg);
        else
                diag_add(w->diags, w->file, line, col, "%s", msg);
}

const char *path_join(char *buf, size_t size, const char *path, const char *name) {
        int r = (!path || !*path) ? snprintf(buf, size, "%s", name) : snprintf(buf, size, "%s.%s", path, name);
        if (r < 0 || (size_t) r >= size)
                buf[size - 1] = 0; /* a very deep path is cut, never overflows */
        return buf;
}

const char *path_index(char *buf, size_t size, const char *path, size_t i) {
        int r = snprintf(buf, size, "%s[%zu]", path, i);
        if (r < 0 || (size_t) r >= size)
                buf[size - 1] = 0;
        return buf;
}

/* Shortens a user value for an error message. */
static const char *quote_value(const struct ynode *n, char *buf, size_t size) {
        if (!n || n->type != YNODE_SCALAR)
                return ynode_type_name(n);
        size_t len = strlen(n->scalar);
        if (len > 40)
                snprintf(buf, size, "\"%.37s...\"", n->scalar);
        else
                snprintf(buf, size, "\"%s\"", n->scalar);
        return buf;
}

/* ---- scalar syntax ---------------------------------------------------- */

static bool parse_int64(const char *s, int64_t *ret) {
        if (!*s || isspace((unsigned char) *s))
                return false;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || *end)
                return false;
        *ret = v;
        return true;
}

static bool parse_uint64(const char *s, uint64_t *ret) {
        if (!*s || !isdigit((unsigned char) *s))
                return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return false;
        *ret = v;
        return true;
}

static bool is_plain_integer(const struct ynode *n) {
        int64_t v;
        return n->type == YNODE_SCALAR && n->plain && parse_int64(n->scalar, &v);
}

static bool parse_bool(const char *s, bool *ret) {
        if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE")) {
                *ret = true;
                return true;
        }
        if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE")) {
                *ret = false;
                return true;
        }
        return false;
}

/* A synthetic node for defaults: plain scalar, no position. */
static struct ynode default_node(const char *text) {
        return (struct ynode) { .type = YNODE_SCALAR, .scalar = (char *) text, .len = strlen(text), .plain = true };
}

/* ---- field parsing ---------------------------------------------------- */

static bool expect_scalar(struct walk *w, const struct field *f, const struct ynode *n, const char *path,
                          const char *what) {
        if (n->type == YNODE_SCALAR)
                return true;
        walk_error(w, n, path, "expected %s, got %s", what, ynode_type_name(n));
        return false;
}

static void parse_strv(struct walk *w, const struct field *f, const struct ynode *n, struct strv *out,
                       const char *path) {
        char p[PATH_MAX_LEN];
        if (n->type != YNODE_SEQUENCE) {
                walk_error(w, n, path, "expected a list of strings, got %s%s", ynode_type_name(n),
                           n->type == YNODE_SCALAR ? " (write [\"a\", \"b\"] or one \"- item\" per line)" : "");
                return;
        }
        if (f->max > 0 && n->n > (size_t) f->max) {
                walk_error(w, n, path, "has %zu items, at most %" PRId64 " are allowed", n->n, f->max);
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct ynode *it = n->items[i];
                path_index(p, sizeof p, path, i);
                if (it->type != YNODE_SCALAR || ynode_is_null(it)) {
                        walk_error(w, it, p, "expected a string, got %s",
                                   ynode_is_null(it) ? "null" : ynode_type_name(it));
                        continue;
                }
                const char *bad = f->check ? f->check(it->scalar) : NULL;
                if (bad) {
                        char q[64];
                        walk_error(w, it, p, "%s %s", quote_value(it, q, sizeof q), bad);
                        continue;
                }
                if (strv_push(out, it->scalar) < 0)
                        w->diags->oom = true;
        }
}

static int strmap_put(struct strmap *m, const char *k, const char *v) {
        char **keys = realloc(m->keys, (m->n + 1) * sizeof(char *));
        if (!keys)
                return -ENOMEM;
        m->keys = keys;
        char **values = realloc(m->values, (m->n + 1) * sizeof(char *));
        if (!values)
                return -ENOMEM;
        m->values = values;
        keys[m->n] = strdup(k);
        values[m->n] = strdup(v);
        if (!keys[m->n] || !values[m->n]) {
                free(keys[m->n]);
                free(values[m->n]);
                return -ENOMEM;
        }
        m->n++;
        return 0;
}

static void strmap_done(struct strmap *m) {
        for (size_t i = 0; i < m->n; i++) {
                free(m->keys[i]);
                free(m->values[i]);
        }
        free(m->keys);
        free(m->values);
        *m = (struct strmap) {};
}

static void parse_strmap(struct walk *w, const struct field *f, const struct ynode *n, struct strmap *out,
                         const char *path) {
        char p[PATH_MAX_LEN];
        if (n->type != YNODE_MAPPING) {
                walk_error(w, n, path, "expected a mapping of strings (key: value), got %s", ynode_type_name(n));
                return;
        }
        if (n->n > SCHEMA_MAP_MAX) {
                walk_error(w, n, path, "has %zu entries, at most %d are allowed", n->n, SCHEMA_MAP_MAX);
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct ynode *k = n->pairs[i].key, *v = n->pairs[i].value;
                if (k->type != YNODE_SCALAR) {
                        walk_error(w, k, path, "keys must be strings, got %s", ynode_type_name(k));
                        continue;
                }
                path_join(p, sizeof p, path, k->scalar);
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        if (n->pairs[j].key->type == YNODE_SCALAR && streq(n->pairs[j].key->scalar, k->scalar)) {
                                walk_error(w, k, p, "duplicate key \"%s\" (first at line %u)", k->scalar,
                                           n->pairs[j].key->line);
                                dup = true;
                                break;
                        }
                if (dup)
                        continue;
                const char *bad = f->check ? f->check(k->scalar) : NULL;
                if (bad) {
                        walk_error(w, k, p, "key \"%s\" %s", k->scalar, bad);
                        continue;
                }
                if (!v || v->type != YNODE_SCALAR) {
                        if (v)
                                walk_error(w, v, p, "expected a string, got %s", ynode_type_name(v));
                        continue;
                }
                if (strmap_put(out, k->scalar, ynode_is_null(v) ? "" : v->scalar) < 0)
                        w->diags->oom = true;
        }
}

static void parse_list(struct walk *w, const struct field *f, const struct ynode *n, void *obj, const char *path) {
        void **arr = FIELD_AT(obj, f, void *);
        size_t *count = (size_t *) ((char *) obj + f->aux);
        char p[PATH_MAX_LEN];

        if (n->type != YNODE_SEQUENCE) {
                walk_error(w, n, path, "expected a list, got %s", ynode_type_name(n));
                return;
        }
        size_t max = f->max > 0 ? (size_t) f->max : SCHEMA_LIST_MAX;
        if (n->n > max) {
                walk_error(w, n, path, "has %zu items, at most %zu are allowed", n->n, max);
                return;
        }
        if (n->n == 0)
                return;
        char *a = calloc(n->n, f->sub->size);
        if (!a) {
                w->diags->oom = true;
                return;
        }
        *arr = a;
        *count = n->n;
        for (size_t i = 0; i < n->n; i++) {
                path_index(p, sizeof p, path, i);
                if (ynode_is_null(n->items[i])) {
                        /* an empty "- " item is not "all defaults" */
                        walk_error(w, n->items[i], p, "expected %s (a mapping), got null", f->sub->name);
                        continue;
                }
                schema_parse(w, f->sub, n->items[i], a + i * f->sub->size, p);
        }
}

/* Parses a scalar-typed field value. n is never NULL here. */
static void parse_scalar_field(struct walk *w, const struct field *f, const struct ynode *n, void *obj,
                               const char *path) {
        char q[64];

        switch (f->type) {
        case FT_STRING: {
                if (!expect_scalar(w, f, n, path, "a string"))
                        return;
                if ((f->flags & F_NONEMPTY) && n->len == 0) {
                        walk_error(w, n, path, "must not be empty");
                        return;
                }
                const char *bad = f->check ? f->check(n->scalar) : NULL;
                if (bad) {
                        walk_error(w, n, path, "%s %s", quote_value(n, q, sizeof q), bad);
                        return;
                }
                char **s = FIELD_AT(obj, f, char *);
                free(*s);
                *s = strdup(n->scalar);
                if (!*s)
                        w->diags->oom = true;
                return;
        }
        case FT_INT: {
                int64_t v;
                if (!expect_scalar(w, f, n, path, "an integer"))
                        return;
                if (!n->plain || !parse_int64(n->scalar, &v)) {
                        walk_error(w, n, path, "%s is not an integer%s", quote_value(n, q, sizeof q),
                                   n->plain ? "" : " (remove the quotes)");
                        return;
                }
                if (v < f->min || v > f->max) {
                        walk_error(w, n, path, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", v, f->min,
                                   f->max);
                        return;
                }
                *FIELD_AT(obj, f, int64_t) = v;
                return;
        }
        case FT_UINT: {
                uint64_t v;
                if (!expect_scalar(w, f, n, path, "a non-negative integer"))
                        return;
                if (!n->plain || !parse_uint64(n->scalar, &v)) {
                        walk_error(w, n, path, "%s is not a non-negative integer%s", quote_value(n, q, sizeof q),
                                   n->plain ? "" : " (remove the quotes)");
                        return;
                }
                if (v < (uint64_t) f->min || v > (uint64_t) f->max) {
                        walk_error(w, n, path, "%" PRIu64 " is out of range (%" PRId64 "..%" PRId64 ")", v, f->min,
                                   f->max);
                        return;
                }
                *FIELD_AT(obj, f, uint64_t) = v;
                return;
        }
        case FT_BOOL: {
                bool v;
                if (!expect_scalar(w, f, n, path, "true or false"))
                        return;
                if (!n->plain || !parse_bool(n->scalar, &v)) {
                        walk_error(w, n, path, "%s is not a boolean (use true or false)", quote_value(n, q, sizeof q));
                        return;
                }
                *FIELD_AT(obj, f, bool) = v;
                return;
        }
        case FT_DOUBLE: {
                if (!expect_scalar(w, f, n, path, "a number"))
                        return;
                char *end;
                errno = 0;
                double v = n->plain && n->len > 0 && !isspace((unsigned char) n->scalar[0])
                                   ? strtod(n->scalar, &end)
                                   : NAN;
                if (isnan(v) || errno != 0 || *end || !isfinite(v)) {
                        walk_error(w, n, path, "%s is not a number (example: 2, 1.5)", quote_value(n, q, sizeof q));
                        return;
                }
                if (v < (double) f->min || v > (double) f->max) {
                        walk_error(w, n, path, "%g is out of range (%" PRId64 "..%" PRId64 ")", v, f->min, f->max);
                        return;
                }
                *FIELD_AT(obj, f, double) = v;
                return;
        }
        case FT_MEMORY:
        case FT_CPU: {
                bool mem = f->type == FT_MEMORY;
                const char *examples = mem ? "64Mi, 64M, 67108864" : "500m, 0.5, 2";
                uint64_t v;
                int r;
                if (!expect_scalar(w, f, n, path, "a quantity"))
                        return;
                if (!mem && w->canonical && is_plain_integer(n)) /* canonical JSON: millicores */
                        r = parse_uint64(n->scalar, &v) ? 0 : -ERANGE;
                else
                        r = mem ? quantity_parse_bytes(n->scalar, &v) : quantity_parse_millis(n->scalar, &v);
                if (r == -ERANGE) {
                        walk_error(w, n, path, "%s is out of range (must be positive and below 8Ei)",
                                   quote_value(n, q, sizeof q));
                        return;
                }
                if (r < 0) {
                        walk_error(w, n, path, "%s is not a quantity (examples: %s)", quote_value(n, q, sizeof q),
                                   examples);
                        return;
                }
                if ((int64_t) v < f->min || (f->max > 0 && (int64_t) v > f->max)) {
                        walk_error(w, n, path, "%s is out of range (at least %" PRId64 "%s)",
                                   quote_value(n, q, sizeof q), f->min, mem ? " bytes" : " millicores");
                        return;
                }
                *FIELD_AT(obj, f, uint64_t) = v;
                return;
        }
        case FT_DURATION: {
                uint64_t v;
                int r;
                if (!expect_scalar(w, f, n, path, "a duration"))
                        return;
                if (is_plain_integer(n) && !streq(n->scalar, "0")) {
                        if (!w->canonical) {
                                walk_error(w, n, path, "%s needs a unit (examples: %ss, %sms, 1m30s)",
                                           quote_value(n, q, sizeof q), n->scalar, n->scalar);
                                return;
                        }
                        r = parse_uint64(n->scalar, &v) ? 0 : -ERANGE; /* canonical JSON: milliseconds */
                } else
                        r = duration_parse_ms(n->scalar, &v);
                if (r == -ERANGE) {
                        walk_error(w, n, path, "%s is out of range (must be positive)", quote_value(n, q, sizeof q));
                        return;
                }
                if (r < 0) {
                        walk_error(w, n, path, "%s is not a duration (examples: 100ms, 1.5s, 2m, 1h30m)",
                                   quote_value(n, q, sizeof q));
                        return;
                }
                if ((int64_t) v < f->min || (f->max > 0 && (int64_t) v > f->max)) {
                        char a[32], b[32];
                        duration_format_ms((uint64_t) f->min, a, sizeof a);
                        duration_format_ms((uint64_t) f->max, b, sizeof b);
                        walk_error(w, n, path, "%s is out of range (%s..%s)", quote_value(n, q, sizeof q), a, b);
                        return;
                }
                *FIELD_AT(obj, f, uint64_t) = v;
                return;
        }
        case FT_ENUM: {
                if (!expect_scalar(w, f, n, path, "a string"))
                        return;
                for (size_t i = 0; f->enum_names[i]; i++)
                        if (streq(f->enum_names[i], n->scalar)) {
                                *FIELD_AT(obj, f, int) = (int) i;
                                return;
                        }
                char list[256] = "", sugg[96] = "";
                for (size_t i = 0; f->enum_names[i]; i++) {
                        if (strlen(list) + strlen(f->enum_names[i]) + 3 < sizeof list) {
                                if (i > 0)
                                        strcat(list, ", ");
                                strcat(list, f->enum_names[i]);
                        }
                        if (!sugg[0] && (strcasecmp(f->enum_names[i], n->scalar) == 0 ||
                                         edit_distance(f->enum_names[i], n->scalar, 2) <= 2))
                                snprintf(sugg, sizeof sugg, "; did you mean \"%s\"?", f->enum_names[i]);
                }
                walk_error(w, n, path, "%s is not one of %s%s", quote_value(n, q, sizeof q), list, sugg);
                return;
        }
        case FT_INT_OR_PERCENT: {
                struct int_or_percent *v = FIELD_AT(obj, f, struct int_or_percent);
                int64_t i;
                if (!expect_scalar(w, f, n, path, "an integer or a percentage"))
                        return;
                if (n->plain && parse_int64(n->scalar, &i) && i >= 0 && i <= INT32_MAX) {
                        *v = (struct int_or_percent) { .value = i };
                        return;
                }
                size_t len = strlen(n->scalar);
                if (len >= 2 && n->scalar[len - 1] == '%') {
                        char num[32];
                        if (len - 1 < sizeof num) {
                                memcpy(num, n->scalar, len - 1);
                                num[len - 1] = 0;
                                if (parse_int64(num, &i) && isdigit((unsigned char) num[0]) && i <= 100) {
                                        *v = (struct int_or_percent) { .value = i, .percent = true };
                                        return;
                                }
                        }
                }
                walk_error(w, n, path, "%s is not a non-negative integer or a percentage from 0%% to 100%% (examples: 1, 25%%)",
                           quote_value(n, q, sizeof q));
                return;
        }
        default:
                return;
        }
}

/* Suggests the field name closest to an unknown key. */
static const char *suggest_field(const struct schema *s, const char *key) {
        const char *best = NULL;
        unsigned best_d = 3;
        for (size_t i = 0; i < s->n_fields; i++) {
                const char *name = s->fields[i].name;
                /* working_dir, WorkingDir, workingdir -> workingDir */
                char a[64], b[64];
                size_t ka = 0, kb = 0;
                for (const char *c = name; *c && ka < sizeof a - 1; c++)
                        a[ka++] = (char) tolower((unsigned char) *c);
                for (const char *c = key; *c && kb < sizeof b - 1; c++)
                        if (*c != '_' && *c != '-')
                                b[kb++] = (char) tolower((unsigned char) *c);
                a[ka] = b[kb] = 0;
                if (streq(a, b))
                        return name;
                unsigned d = edit_distance(name, key, 2);
                if (d < best_d) {
                        best_d = d;
                        best = name;
                }
        }
        return best;
}

static void apply_default(struct walk *w, const struct field *f, void *obj, const char *path) {
        if (!f->def)
                return;
        struct ynode d = default_node(f->def);
        struct walk dw = *w;
        dw.canonical = false;
        if (f->type == FT_STRV) {
                /* defaults for lists are written "a,b,c" */
                struct strv *l = FIELD_AT(obj, f, struct strv);
                _cleanup_free_ char *copy = strdup(f->def);
                if (!copy) {
                        w->diags->oom = true;
                        return;
                }
                char *save = NULL;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                        if (strv_push(l, t) < 0)
                                w->diags->oom = true;
                return;
        }
        parse_scalar_field(&dw, f, &d, obj, path);
}

void schema_parse(struct walk *w, const struct schema *s, const struct ynode *node, void *obj, const char *path) {
        const struct ynode *given[64] = {}, *value[64] = {};
        char p[PATH_MAX_LEN];

        if (s->n_fields > ELEMENTSOF(given))
                abort(); /* a schema table bug, caught by every unit test */

        if (node && ynode_is_null(node))
                node = NULL;

        if (node && node->type != YNODE_MAPPING) {
                walk_error(w, node, path, "expected a mapping (key: value), got %s", ynode_type_name(node));
                node = NULL;
        }

        if (node) {
                for (size_t i = 0; i < node->n; i++) {
                        const struct ynode *k = node->pairs[i].key;
                        if (k->type != YNODE_SCALAR) {
                                walk_error(w, k, path, "keys must be strings, got %s", ynode_type_name(k));
                                continue;
                        }
                        size_t fi;
                        for (fi = 0; fi < s->n_fields; fi++)
                                if (streq(s->fields[fi].name, k->scalar))
                                        break;
                        path_join(p, sizeof p, path, k->scalar);
                        if (fi == s->n_fields) {
                                const char *sugg = suggest_field(s, k->scalar);
                                if (sugg)
                                        walk_error(w, k, p, "unknown field \"%s\" (did you mean \"%s\"?)", k->scalar,
                                                   sugg);
                                else
                                        walk_error(w, k, p, "unknown field \"%s\" (see berth-manifest(5) for the fields of %s)",
                                                   k->scalar, s->name);
                                continue;
                        }
                        if (given[fi]) {
                                walk_error(w, k, p, "duplicate key \"%s\" (first at line %u)", k->scalar,
                                           given[fi]->line);
                                continue;
                        }
                        given[fi] = k;
                        value[fi] = node->pairs[i].value;
                }
        }

        for (size_t fi = 0; fi < s->n_fields; fi++) {
                const struct field *f = &s->fields[fi];
                const struct ynode *v = value[fi]; /* the first occurrence, even when duplicated */
                bool present = v && !ynode_is_null(v);
                path_join(p, sizeof p, path, f->name);

                switch (f->type) {
                case FT_STRUCT:
                        if (present && f->aux != NO_AUX)
                                *(bool *) ((char *) obj + f->aux) = true;
                        schema_parse(w, f->sub, present ? v : NULL, FIELD_AT(obj, f, char), p);
                        break;
                case FT_LIST:
                        if (present)
                                parse_list(w, f, v, obj, p);
                        break;
                case FT_STRV:
                        if (present)
                                parse_strv(w, f, v, FIELD_AT(obj, f, struct strv), p);
                        else
                                apply_default(w, f, obj, p);
                        break;
                case FT_STRMAP:
                        if (present)
                                parse_strmap(w, f, v, FIELD_AT(obj, f, struct strmap), p);
                        break;
                default:
                        if (present)
                                parse_scalar_field(w, f, v, obj, p);
                        else
                                apply_default(w, f, obj, p);
                        break;
                }

                if (w->partial)
                        continue;
                /* an absent struct takes its defaults; its required fields
                 * are only required once the struct is written */
                if ((f->flags & F_REQUIRED) && !present && node)
                        walk_error(w, given[fi] ? given[fi] : node, path,
                                   "missing required field \"%s\"%s%s%s", f->name, f->doc ? " (" : "",
                                   f->doc ? f->doc : "", f->doc ? ")" : "");
                else if ((f->flags & F_NONEMPTY) && present) {
                        if ((f->type == FT_STRV && FIELD_AT(obj, f, struct strv)->n == 0 && v->type == YNODE_SEQUENCE) ||
                            (f->type == FT_LIST && *(size_t *) ((char *) obj + f->aux) == 0 &&
                             v->type == YNODE_SEQUENCE && v->n == 0))
                                walk_error(w, v, p, "must not be empty");
                }
        }

        if (s->validate && !w->partial)
                s->validate(w, obj, node, path);
}

/* ---- free, copy, equal ------------------------------------------------ */

void schema_free(const struct schema *s, void *obj) {
        for (size_t fi = 0; fi < s->n_fields; fi++) {
                const struct field *f = &s->fields[fi];
                switch (f->type) {
                case FT_STRING: {
                        char **p = FIELD_AT(obj, f, char *);
                        free(*p);
                        *p = NULL;
                        break;
                }
                case FT_STRV:
                        strv_done(FIELD_AT(obj, f, struct strv));
                        break;
                case FT_STRMAP:
                        strmap_done(FIELD_AT(obj, f, struct strmap));
                        break;
                case FT_STRUCT:
                        schema_free(f->sub, FIELD_AT(obj, f, char));
                        break;
                case FT_LIST: {
                        char **arr = FIELD_AT(obj, f, char *);
                        size_t *n = (size_t *) ((char *) obj + f->aux);
                        for (size_t i = 0; *arr && i < *n; i++)
                                schema_free(f->sub, *arr + i * f->sub->size);
                        free(*arr);
                        *arr = NULL;
                        *n = 0;
                        break;
                }
                default:
                        break;
                }
        }
}

int schema_copy(const struct schema *s, void *dst, const void *src) {
        /* Scalars, bools and derived members come over with the memcpy; owned
         * memory is then duplicated field by field. */
        memcpy(dst, src, s->size);
        for (size_t fi = 0; fi < s->n_fields; fi++) {
                const struct field *f = &s->fields[fi];
                int r = 0;
                switch (f->type) {
                case FT_STRING: {
                        char **d = FIELD_AT(dst, f, char *);
                        if (*d && !(*d = strdup(*d)))
                                r = -ENOMEM;
                        break;
                }
                case FT_STRV:
                        r = strv_copy(FIELD_AT(dst, f, struct strv), FIELD_AT(src, f, struct strv));
                        break;
                case FT_STRMAP: {
                        const struct strmap *sm = FIELD_AT(src, f, struct strmap);
                        struct strmap *dm = FIELD_AT(dst, f, struct strmap);
                        *dm = (struct strmap) {};
                        for (size_t i = 0; r == 0 && i < sm->n; i++)
                                r = strmap_put(dm, sm->keys[i], sm->values[i]);
                        break;
                }
                case FT_STRUCT:
                        r = schema_copy(f->sub, FIELD_AT(dst, f, char), FIELD_AT(src, f, char));
                        break;
                case FT_LIST: {
                        char **d = FIELD_AT(dst, f, char *);
                        size_t n = *(const size_t *) ((const char *) src + f->aux);
                        const char *sa = *FIELD_AT(src, f, char *);
                        *d = NULL;
                        if (n == 0)
                                break;
                        *d = calloc(n, f->sub->size);
                        if (!*d) {
                                *(size_t *) ((char *) dst + f->aux) = 0;
                                r = -ENOMEM;
                                break;
                        }
                        for (size_t i = 0; r == 0 && i < n; i++)
                                r = schema_copy(f->sub, *d + i * f->sub->size, sa + i * f->sub->size);
                        break;
                }
                default:
                        break;
                }
                if (r < 0) {
                        /* leave dst freeable: clear what was not copied yet */
                        for (size_t fj = fi + 1; fj < s->n_fields; fj++) {
                                const struct field *g = &s->fields[fj];
                                if (g->type == FT_STRING)
                                        *FIELD_AT(dst, g, char *) = NULL;
                                else if (g->type == FT_STRV)
                                        *FIELD_AT(dst, g, struct strv) = (struct strv) {};
                                else if (g->type == FT_STRMAP)
                                        *FIELD_AT(dst, g, struct strmap) = (struct strmap) {};
                                else if (g->type == FT_LIST) {
                                        *FIELD_AT(dst, g, char *) = NULL;
                                        *(size_t *) ((char *) dst + g->aux) = 0;
                                } else if (g->type == FT_STRUCT)
                                        memset(FIELD_AT(dst, g, char), 0, g->sub->size);
                        }
                        return r;
                }
        }
        return 0;
}

bool schema_equal(const struct schema *s, const void *a, const void *b) {
        for (size_t fi = 0; fi < s->n_fields; fi++) {
                const struct field *f = &s->fields[fi];
                switch (f->type) {
                case FT_STRING:
                        if (!streq_ptr(*FIELD_AT(a, f, char *), *FIELD_AT(b, f, char *)))
                                return false;
                        break;
                case FT_INT:
                        if (*FIELD_AT(a, f, int64_t) != *FIELD_AT(b, f, int64_t))
                                return false;
                        break;
                case FT_UINT:
                case FT_MEMORY:
                case FT_CPU:
                case FT_DURATION:
                        if (*FIELD_AT(a, f, uint64_t) != *FIELD_AT(b, f, uint64_t))
                                return false;
                        break;
                case FT_BOOL:
                        if (*FIELD_AT(a, f, bool) != *FIELD_AT(b, f, bool))
                                return false;
                        break;
                case FT_DOUBLE:
                        if (*FIELD_AT(a, f, double) != *FIELD_AT(b, f, double))
                                return false;
                        break;
                case FT_ENUM:
                        if (*FIELD_AT(a, f, int) != *FIELD_AT(b, f, int))
                                return false;
                        break;
                case FT_INT_OR_PERCENT: {
                        const struct int_or_percent *x = FIELD_AT(a, f, struct int_or_percent),
                                                    *y = FIELD_AT(b, f, struct int_or_percent);
                        if (x->value != y->value || x->percent != y->percent)
                                return false;
                        break;
                }
                case FT_STRV:
                        if (!strv_equal(FIELD_AT(a, f, struct strv), FIELD_AT(b, f, struct strv)))
                                return false;
                        break;
                case FT_STRMAP: {
                        const struct strmap *x = FIELD_AT(a, f, struct strmap), *y = FIELD_AT(b, f, struct strmap);
                        if (x->n != y->n)
                                return false;
                        for (size_t i = 0; i < x->n; i++)
                                if (!streq(x->keys[i], y->keys[i]) || !streq(x->values[i], y->values[i]))
                                        return false;
                        break;
                }
                case FT_STRUCT:
                        if (f->aux != NO_AUX &&
                            *(const bool *) ((const char *) a + f->aux) != *(const bool *) ((const char *) b + f->aux))
                                return false;
                        if (!schema_equal(f->sub, FIELD_AT(a, f, char), FIELD_AT(b, f, char)))
                                return false;
                        break;
                case FT_LIST: {
                        size_t na = *(const size_t *) ((const char *) a + f->aux);
                        size_t nb = *(const size_t *) ((const char *) b + f->aux);
                        if (na != nb)
                                return false;
                        const char *xa = *FIELD_AT(a, f, char *), *xb = *FIELD_AT(b, f, char *);
                        for (size_t i = 0; i < na; i++)
                                if (!schema_equal(f->sub, xa + i * f->sub->size, xb + i * f->sub->size))
                                        return false;
                        break;
                }
                }
        }
        return true;
}
