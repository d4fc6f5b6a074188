/* schema.h: a declarative description of C structs, and the one generic
 * engine that parses YAML nodes into them, fills defaults, validates, frees,
 * copies and compares them (JSON encoding walks the same tables, see
 * model-json.c).
 *
 * A struct is described by a `struct schema`: its size, its fields and an
 * optional cross-field check. A field names its YAML/JSON key, its type, where
 * it lives (offsetof) and its constraints; a default is written as manifest
 * text ("100ms", "Always") and parsed by the same code as user input, so
 * defaults and input can never disagree. Adding a manifest field is one entry.
 *
 * Errors go to a diag_list as "FILE:LINE:COL: error: PATH: message". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "yaml-node.h"

enum field_type {
        FT_STRING,       /* char *; NULL = unset */
        FT_INT,          /* int64_t */
        FT_UINT,         /* uint64_t (a count) */
        FT_BOOL,         /* bool */
        FT_DOUBLE,       /* double */
        FT_MEMORY,       /* uint64_t bytes, from a Kubernetes quantity */
        FT_CPU,          /* uint64_t millicores, from a Kubernetes quantity */
        FT_DURATION,     /* uint64_t milliseconds, from a Go duration */
        FT_ENUM,         /* int, index into enum_names */
        FT_INT_OR_PERCENT, /* struct int_or_percent */
        FT_STRV,         /* struct strv */
        FT_STRMAP,       /* struct strmap */
        FT_STRUCT,       /* embedded struct described by sub */
        FT_LIST,         /* T *array + size_t count (at aux), T described by sub */
};

enum {
        F_REQUIRED = 1 << 0, /* must be given (no default) */
        F_NONEMPTY = 1 << 1, /* list/string must not be empty */
        F_NULL_JSON = 1 << 2, /* FT_STRUCT: encode as JSON null when not present */
};

#define NO_AUX ((size_t) -1)
#define SCHEMA_MAP_MAX 256 /* entries in a string map (labels) */
#define SCHEMA_LIST_MAX 1024 /* items in a list */

struct walk;
struct schema;

/* Checks one string (a FT_STRING value, a FT_STRV element, a FT_STRMAP key).
 * Returns NULL when fine, else a message like "must be an absolute path". */
typedef const char *(*string_check_fn)(const char *s);

struct field {
        const char *name;
        enum field_type type;
        size_t offset;
        size_t aux;                  /* FT_LIST: offset of the count; FT_STRUCT: offset of a bool
                                        set when the key is present; else NO_AUX */
        const struct schema *sub;    /* FT_STRUCT, FT_LIST */
        const char *const *enum_names; /* FT_ENUM, NULL-terminated */
        string_check_fn check;
        const char *def;             /* default, as manifest text; NULL = none */
        int64_t min, max;            /* FT_INT/FT_UINT/FT_DOUBLE range, FT_STRV/FT_LIST length (max) */
        unsigned flags;
        const char *doc;             /* one line for docs and errors */
};

struct schema {
        const char *name;
        size_t size;
        const struct field *fields;
        size_t n_fields;
        /* Cross-field validation and derived values, after all fields are
         * parsed. node is the mapping (may be NULL when absent). */
        void (*validate)(struct walk *w, void *obj, const struct ynode *node, const char *path);
};

struct walk {
        const char *file;
        struct diag_list *diags;
        bool canonical;  /* input is canonical JSON: bare integers mean ms / millicores */
        bool partial;    /* document was cut short by a syntax error: skip required/cross checks */
        unsigned line, col; /* position of the document, for errors without a node */
};

/* Parses node (NULL = absent: defaults only) into obj, which must be zeroed. */
void schema_parse(struct walk *w, const struct schema *s, const struct ynode *node, void *obj, const char *path);
void schema_free(const struct schema *s, void *obj);
int schema_copy(const struct schema *s, void *dst, const void *src);
bool schema_equal(const struct schema *s, const void *a, const void *b);

/* Reports an error at node (or at the document when node is NULL). */
void walk_error(struct walk *w, const struct ynode *node, const char *path, const char *fmt, ...) _printf_(4, 5);
/* path + "." + name, or path + "[i]": into buf. */
const char *path_join(char *buf, size_t size, const char *path, const char *name);
const char *path_index(char *buf, size_t size, const char *path, size_t i);

#define FIELD_AT(obj, f, type) ((type *) ((char *) (obj) + (f)->offset))
