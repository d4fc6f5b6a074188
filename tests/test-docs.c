/* test-docs.c: keeps the manifest reference true to the schema tables.
 *
 * Walks service_schema (lib/model.c) and, for every field, checks that
 * docs/manifest.md and man/berth-manifest.5 document it under its full key
 * path, and that the entry states what the table says: every enum value, the
 * default, "required", and the range or size limit. It also fails on entries
 * for keys the schema does not have (renamed or removed fields).
 *
 * Path convention (the same in both documents and in error messages, minus
 * the index): dotted keys from the document root, "[]" after a list of
 * mappings: "spec.resources.limits.memory", "spec.env[].name".
 *
 * Where the entries are:
 *   manifest.md: a row of a table whose header starts with "| Key |"; the key
 *     is a `backquoted` path in the row's first cell (a cell may hold several
 *     paths, as the three probes do). Values are `backquoted` in the row.
 *   berth-manifest.5: a ".B path" tag line right after ".TP" (or after ".TQ"
 *     for more tags of one entry) in the FIELDS section; the entry runs to the
 *     next .TP, .SS, .SH or .PP. Values are checked as words of its text. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "model.h"
#include "quantity.h"
#include "schema.h"
#include "util.h"

#define MANIFEST_MD TEST_SRCDIR "/docs/manifest.md"
#define MANPAGE TEST_SRCDIR "/man/berth-manifest.5"

/* ---- the schema, flattened ------------------------------------------- */

struct key {
        char path[256];
        const struct field *f;
};

struct keys {
        struct key v[512];
        size_t n;
};

static void collect(struct keys *k, const struct schema *s, const char *prefix) {
        for (size_t i = 0; i < s->n_fields; i++) {
                const struct field *f = &s->fields[i];
                struct key *e;

                assert_true(k->n < ELEMENTSOF(k->v));
                e = &k->v[k->n++];
                e->f = f;
                if (prefix)
                        snprintf(e->path, sizeof e->path, "%s.%s", prefix, f->name);
                else
                        snprintf(e->path, sizeof e->path, "%s", f->name);

                if (f->type == FT_STRUCT)
                        collect(k, f->sub, e->path);
                else if (f->type == FT_LIST) {
                        char p[256];
                        snprintf(p, sizeof p, "%s[]", e->path);
                        collect(k, f->sub, p);
                }
        }
}

static bool known_path(const struct keys *k, const char *path) {
        for (size_t i = 0; i < k->n; i++)
                if (streq(k->v[i].path, path))
                        return true;
        return false;
}

/* A token that looks like a key path of a Service document. */
static bool path_like(const char *t) {
        if (!(strncmp(t, "spec", 4) == 0 || strncmp(t, "metadata", 8) == 0 || streq(t, "apiVersion") ||
              streq(t, "kind")))
                return false;
        for (const char *p = t; *p; p++)
                if (!(isalnum((unsigned char) *p) || *p == '.' || *p == '[' || *p == ']'))
                        return false;
        return true;
}

/* ---- documents ---------------------------------------------------------- */

struct doc {
        const char *name;
        char *text;
        char **lines; /* pointers into text, NUL-terminated */
        size_t n;
};

static void doc_load(struct doc *d, const char *path) {
        size_t len;
        int r = read_full_file(path, 4 * 1024 * 1024, &d->text, &len);
        if (r < 0)
                fail_msg("cannot read %s: %s", path, strerror(-r));
        d->name = path;
        d->n = 0;
        d->lines = NULL;
        for (char *p = d->text; p && *p;) {
                char *nl = strchr(p, '\n');
                d->lines = realloc(d->lines, (d->n + 1) * sizeof *d->lines);
                assert_non_null(d->lines);
                d->lines[d->n++] = p;
                if (!nl)
                        break;
                *nl = 0;
                p = nl + 1;
        }
}

static void doc_done(struct doc *d) {
        free(d->lines);
        free(d->text);
}

/* Appends s to a growing string. */
static void append(char **buf, const char *s) {
        size_t a = *buf ? strlen(*buf) : 0, b = strlen(s);
        *buf = realloc(*buf, a + b + 2);
        assert_non_null(*buf);
        memcpy(*buf + a, s, b);
        (*buf)[a + b] = '\n';
        (*buf)[a + b + 1] = 0;
}

/* roff text to plain text: font escapes and \& dropped, \- and \e resolved. */
static char *roff_plain(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        assert_non_null(out);
        while (*s) {
                if (s[0] == '\\' && s[1] == 'f') {
                        s += 2;
                        if (*s == '(') /* \f(CW */
                                s += *(s + 1) && *(s + 2) ? 3 : 1;
                        else if (*s == '[') {
                                while (*s && *s != ']')
                                        s++;
                                if (*s)
                                        s++;
                        } else if (*s)
                                s++;
                } else if (s[0] == '\\' && s[1] == '&')
                        s += 2;
                else if (s[0] == '\\' && s[1] == '-') {
                        *o++ = '-';
                        s += 2;
                } else if (s[0] == '\\' && s[1] == 'e') {
                        *o++ = '\\';
                        s += 2;
                } else
                        *o++ = *s++;
        }
        *o = 0;
        return out;
}

static bool starts_with_macro(const char *line, const char *macro) {
        size_t n = strlen(macro);
        return strncmp(line, macro, n) == 0 && (line[n] == 0 || line[n] == ' ');
}

/* The markdown row documenting path, or NULL. */
static char *md_entry(const struct doc *d, const char *path) {
        char want[300];
        snprintf(want, sizeof want, "`%s`", path);
        for (size_t i = 0; i < d->n; i++) {
                const char *l = d->lines[i];
                if (l[0] != '|')
                        continue;
                const char *end = strchr(l + 1, '|');
                if (!end)
                        continue;
                const char *hit = strstr(l + 1, want);
                if (hit && hit < end) {
                        char *row = NULL;
                        append(&row, l);
                        return row;
                }
        }
        return NULL;
}

static bool man_tag_line(const struct doc *d, size_t i) {
        /* i is a ".B x" line right after .TP, or after .TQ */
        return i > 0 && strncmp(d->lines[i], ".B ", 3) == 0 &&
               (streq(d->lines[i - 1], ".TP") || streq(d->lines[i - 1], ".TQ"));
}

static bool man_entry_end(const char *l) {
        return starts_with_macro(l, ".TP") || starts_with_macro(l, ".SS") || starts_with_macro(l, ".SH") ||
               starts_with_macro(l, ".PP") || starts_with_macro(l, ".LP") || starts_with_macro(l, ".P");
}

/* The man page entry documenting path (plain text), or NULL. */
static char *man_entry(const struct doc *d, const char *path) {
        for (size_t i = 0; i < d->n; i++) {
                if (!man_tag_line(d, i) || !streq(d->lines[i] + 3, path))
                        continue;
                char *raw = NULL;
                for (size_t j = i; j < d->n && !man_entry_end(d->lines[j]); j++)
                        append(&raw, d->lines[j]);
                char *plain = roff_plain(raw);
                free(raw);
                return plain;
        }
        return NULL;
}

/* ---- what an entry must say --------------------------------------------- */

static bool is_word_char(char c) {
        return isalnum((unsigned char) c) || c == '_';
}

/* md: `token` somewhere in the row. man: token as a whole word. */
static bool entry_has(const char *entry, const char *token, bool md) {
        if (md) {
                char want[300];
                snprintf(want, sizeof want, "`%s`", token);
                return strstr(entry, want);
        }
        size_t n = strlen(token);
        for (const char *p = entry; (p = strstr(p, token)); p++) {
                bool left = p == entry || !is_word_char(p[-1]) || !is_word_char(token[0]);
                bool right = !is_word_char(p[n]) || !is_word_char(token[n - 1]);
                if (left && right)
                        return true;
        }
        return false;
}

/* The default as the docs write it: "" for the empty string, [a, b] for lists. */
static void default_text(const struct field *f, char *buf, size_t size) {
        if (!*f->def)
                snprintf(buf, size, "\"\"");
        else if (f->type == FT_STRV) {
                size_t o = 0;
                o += (size_t) snprintf(buf + o, size - o, "[");
                for (const char *p = f->def; *p && o + 3 < size; p++)
                        if (*p == ',')
                                o += (size_t) snprintf(buf + o, size - o, ", ");
                        else
                                buf[o++] = *p;
                snprintf(buf + o, size - o, "]");
        } else
                snprintf(buf, size, "%s", f->def);
}

static unsigned problems;

_printf_(1, 2) static void problem(const char *fmt, ...) {
        va_list ap;
        char msg[1024];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        print_error("%s\n", msg);
        problems++;
}

static void check_entry(const char *doc, const struct key *k, const char *entry, bool md) {
        const struct field *f = k->f;
        char want[128];

        if (f->type == FT_ENUM)
                for (size_t i = 0; f->enum_names[i]; i++)
                        if (!entry_has(entry, f->enum_names[i], md))
                                problem("%s: %s: enum value \"%s\" is not listed", doc, k->path, f->enum_names[i]);

        if (f->def) {
                default_text(f, want, sizeof want);
                if (!entry_has(entry, want, md))
                        problem("%s: %s: default %s is not given", doc, k->path, want);
        }

        if ((f->flags & F_REQUIRED) && !strstr(entry, "required"))
                problem("%s: %s: does not say \"required\"", doc, k->path);

        want[0] = 0;
        switch (f->type) {
        case FT_INT:
        case FT_UINT:
        case FT_DOUBLE:
                snprintf(want, sizeof want, "%" PRId64 "..%" PRId64, f->min, f->max);
                break;
        case FT_DURATION: {
                char a[32], b[32];
                assert_true(duration_format_ms((uint64_t) f->min, a, sizeof a) > 0);
                assert_true(duration_format_ms((uint64_t) f->max, b, sizeof b) > 0);
                snprintf(want, sizeof want, "%s..%s", a, b);
                break;
        }
        case FT_MEMORY:
        case FT_CPU:
                if (f->min > 0)
                        snprintf(want, sizeof want, "at least %" PRId64, f->min);
                break;
        case FT_STRV:
                if (f->max > 0)
                        snprintf(want, sizeof want, "at most %" PRId64, f->max);
                break;
        case FT_LIST:
                snprintf(want, sizeof want, "at most %" PRId64, f->max > 0 ? f->max : (int64_t) SCHEMA_LIST_MAX);
                break;
        case FT_STRMAP:
                snprintf(want, sizeof want, "at most %d", SCHEMA_MAP_MAX);
                break;
        default:
                break;
        }
        if (want[0] && !strstr(entry, want))
                problem("%s: %s: range \"%s\" is not given", doc, k->path, want);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_docs_schema_walk(void **state) {
        static struct keys k;
        size_t enums = 0;

        k.n = 0;
        collect(&k, &service_schema, NULL);
        /* the walk reaches the leaves, lists included */
        assert_true(known_path(&k, "spec.resources.limits.memory"));
        assert_true(known_path(&k, "spec.restartBackoff.initial"));
        assert_true(known_path(&k, "spec.env[].name"));
        assert_true(known_path(&k, "spec.startupProbe.httpGet.port"));
        for (size_t i = 0; i < k.n; i++) {
                assert_true(path_like(k.v[i].path));
                enums += k.v[i].f->type == FT_ENUM;
        }
        assert_true(enums >= 5);
}

static void test_docs_manifest_md(void **state) {
        static struct keys k;
        struct doc d;
        bool in_key_table = false;

        k.n = 0;
        collect(&k, &service_schema, NULL);
        doc_load(&d, MANIFEST_MD);
        problems = 0;

        for (size_t i = 0; i < k.n; i++) {
                char *row = md_entry(&d, k.v[i].path);
                if (!row) {
                        problem("docs/manifest.md: %s has no table row (| `%s` | ...)", k.v[i].path, k.v[i].path);
                        continue;
                }
                check_entry("docs/manifest.md", &k.v[i], row, true);
                free(row);
        }

        /* no row for a key the schema does not have */
        for (size_t i = 0; i < d.n; i++) {
                const char *l = d.lines[i];
                if (strncmp(l, "| Key |", 7) == 0) {
                        in_key_table = true;
                        continue;
                }
                if (l[0] != '|') {
                        in_key_table = false;
                        continue;
                }
                if (!in_key_table)
                        continue;
                const char *end = strchr(l + 1, '|');
                for (const char *p = l + 1; end && (p = strchr(p, '`')) && p < end;) {
                        const char *q = strchr(p + 1, '`');
                        if (!q)
                                break;
                        char tok[256];
                        snprintf(tok, sizeof tok, "%.*s", (int) (q - p - 1), p + 1);
                        if (path_like(tok) && !known_path(&k, tok))
                                problem("docs/manifest.md:%zu: `%s` is not a key of the schema", i + 1, tok);
                        p = q + 1;
                }
        }

        doc_done(&d);
        if (problems)
                fail_msg("docs/manifest.md disagrees with lib/model.c in %u places (listed above)", problems);
}

static void test_docs_man_page(void **state) {
        static struct keys k;
        struct doc d;
        bool in_fields = false;

        k.n = 0;
        collect(&k, &service_schema, NULL);
        doc_load(&d, MANPAGE);
        problems = 0;

        for (size_t i = 0; i < k.n; i++) {
                char *entry = man_entry(&d, k.v[i].path);
                if (!entry) {
                        problem("man/berth-manifest.5: %s has no entry (.TP then .B %s)", k.v[i].path, k.v[i].path);
                        continue;
                }
                check_entry("man/berth-manifest.5", &k.v[i], entry, false);
                free(entry);
        }

        for (size_t i = 0; i < d.n; i++) {
                if (starts_with_macro(d.lines[i], ".SH"))
                        in_fields = strstr(d.lines[i], "FIELDS");
                if (in_fields && man_tag_line(&d, i) && path_like(d.lines[i] + 3) &&
                    !known_path(&k, d.lines[i] + 3))
                        problem("man/berth-manifest.5:%zu: %s is not a key of the schema", i + 1, d.lines[i] + 3);
        }

        doc_done(&d);
        if (problems)
                fail_msg("man/berth-manifest.5 disagrees with lib/model.c in %u places (listed above)", problems);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docs_schema_walk),
                cmocka_unit_test(test_docs_manifest_md),
                cmocka_unit_test(test_docs_man_page),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
