/* yaml-node.c: see yaml-node.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "yaml-node.h"

static void ynode_free(struct ynode *n) {
        if (!n)
                return;
        free(n->scalar);
        for (size_t i = 0; n->items && i < n->n; i++)
                ynode_free(n->items[i]);
        free(n->items);
        for (size_t i = 0; n->pairs && i < n->n; i++) {
                ynode_free(n->pairs[i].key);
                ynode_free(n->pairs[i].value);
        }
        free(n->pairs);
        free(n);
}

void ydoc_list_done(struct ydoc_list *l) {
        for (size_t i = 0; i < l->n; i++)
                ynode_free(l->v[i].root);
        free(l->v);
        *l = (struct ydoc_list) {};
}

DEFINE_TRIVIAL_CLEANUP_FUNC(yaml_parser_t *, yaml_parser_delete);

struct loader {
        const char *file;
        struct diag_list *diags;
        struct ynode *stack[YNODE_MAX_DEPTH + 1];
        bool have_key[YNODE_MAX_DEPTH + 1]; /* mapping: key read, value pending */
        size_t depth;
        size_t nodes;
        const char *buf;
        size_t len;
};

/* Appends child to the container on top of the stack (or makes it the root). */
static int attach(struct loader *ld, struct ydoc *doc, struct ynode *child) {
        if (ld->depth == 0) {
                doc->root = child;
                return 0;
        }
        struct ynode *top = ld->stack[ld->depth - 1];
        /* grow geometrically: a mapping of 50,000 keys must not cost 50,000 copies */
        if (top->n == top->cap && (top->type == YNODE_SEQUENCE || !ld->have_key[ld->depth - 1])) {
                size_t cap = top->cap ? top->cap * 2 : 4;
                if (top->type == YNODE_SEQUENCE) {
                        struct ynode **v = realloc(top->items, cap * sizeof *v);
                        if (!v)
                                return -ENOMEM;
                        top->items = v;
                } else {
                        struct ynode_pair *p = realloc(top->pairs, cap * sizeof *p);
                        if (!p)
                                return -ENOMEM;
                        top->pairs = p;
                }
                top->cap = cap;
        }
        if (top->type == YNODE_SEQUENCE) {
                top->items[top->n++] = child;
                return 0;
        }
        /* mapping: alternate key, value */
        if (!ld->have_key[ld->depth - 1]) {
                top->pairs[top->n++] = (struct ynode_pair) { .key = child };
                ld->have_key[ld->depth - 1] = true;
        } else {
                top->pairs[top->n - 1].value = child;
                ld->have_key[ld->depth - 1] = false;
        }
        return 0;
}

static struct ynode *node_new(enum ynode_type type, const yaml_mark_t *m) {
        struct ynode *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        n->type = type;
        n->line = (unsigned) m->line + 1; /* libyaml marks are 0-based */
        n->col = (unsigned) m->column + 1;
        return n;
}

static void syntax_error(struct loader *ld, const yaml_parser_t *p) {
        const yaml_mark_t *m = &p->problem_mark;
        const char *problem = p->problem ? p->problem : "invalid YAML";
        unsigned line = (unsigned) m->line + 1, col = (unsigned) m->column + 1;

        /* libyaml reports a tab used for indentation as a generic token
         * error: say what it is and what to do. */
        if (m->index < ld->len && ld->buf[m->index] == '\t') {
                diag_add(ld->diags, ld->file, line, col,
                         "YAML syntax: tab character in indentation (YAML allows only spaces: replace the tab)");
                return;
        }
        if (p->context && strstr(p->context, "quoted scalar")) {
                diag_add(ld->diags, ld->file, (unsigned) p->context_mark.line + 1, (unsigned) p->context_mark.column + 1,
                         "YAML syntax: quoted string is never closed (add the closing quote)");
                return;
        }
        if (p->context)
                diag_add(ld->diags, ld->file, line, col, "YAML syntax: %s %s (started at line %zu)", problem,
                         p->context, p->context_mark.line + 1);
        else
                diag_add(ld->diags, ld->file, line, col, "YAML syntax: %s", problem);
}

int ynode_load(const char *buf, size_t len, const char *file, struct ydoc_list *ret, struct diag_list *diags) {
        _cleanup_(yaml_parser_deletep) yaml_parser_t *pp = NULL;
        yaml_parser_t parser;
        struct loader ld = { .file = file, .diags = diags, .buf = buf, .len = len };
        struct ydoc_list docs = {};
        struct ydoc *doc = NULL;
        int r = 0;

        *ret = (struct ydoc_list) {};

        if (len > YNODE_MAX_INPUT) {
                diag_add(diags, file, 0, 0, "input is %zu bytes, more than the limit of %d bytes", len,
                         YNODE_MAX_INPUT);
                return 0;
        }
        if (memchr(buf, 0, len)) {
                diag_add(diags, file, 0, 0, "input contains a NUL byte: not a text file");
                return 0;
        }

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        pp = &parser;
        yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);

        for (bool done = false; !done;) {
                yaml_event_t ev;
                struct ynode *n = NULL;

                if (!yaml_parser_parse(&parser, &ev)) {
                        if (parser.error == YAML_MEMORY_ERROR) {
                                r = -ENOMEM;
                                break;
                        }
                        syntax_error(&ld, &parser);
                        if (doc)
                                doc->partial = true;
                        break;
                }

                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;

                case YAML_DOCUMENT_START_EVENT: {
                        if (docs.n >= YNODE_MAX_DOCS) {
                                diag_add(diags, file, (unsigned) ev.start_mark.line + 1,
                                         (unsigned) ev.start_mark.column + 1,
                                         "more than %d documents in one file", YNODE_MAX_DOCS);
                                done = true;
                                break;
                        }
                        struct ydoc *v = realloc(docs.v, (docs.n + 1) * sizeof *v);
                        if (!v) {
                                r = -ENOMEM;
                                done = true;
                                break;
                        }
                        docs.v = v;
                        doc = &v[docs.n++];
                        *doc = (struct ydoc) {
                                .line = (unsigned) ev.start_mark.line + 1,
                                .col = (unsigned) ev.start_mark.column + 1,
                        };
                        ld.depth = 0;
                        break;
                }

                case YAML_DOCUMENT_END_EVENT:
                        doc = NULL;
                        break;

                case YAML_ALIAS_EVENT:
                        diag_add(diags, file, (unsigned) ev.start_mark.line + 1, (unsigned) ev.start_mark.column + 1,
                                 "YAML aliases (*%s) are not allowed in manifests: write the value out",
                                 (const char *) ev.data.alias.anchor);
                        if (doc)
                                doc->partial = true;
                        done = true;
                        break;

                case YAML_SCALAR_EVENT:
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT: {
                        const yaml_char_t *anchor = ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
                                                    : ev.type == YAML_SEQUENCE_START_EVENT
                                                            ? ev.data.sequence_start.anchor
                                                            : ev.data.mapping_start.anchor;
                        if (anchor) {
                                diag_add(diags, file, (unsigned) ev.start_mark.line + 1,
                                         (unsigned) ev.start_mark.column + 1,
                                         "YAML anchors (&%s) are not allowed in manifests: write the value out",
                                         (const char *) anchor);
                                if (doc)
                                        doc->partial = true;
                                done = true;
                                break;
                        }
                        if (++ld.nodes > YNODE_MAX_NODES) {
                                diag_add(diags, file, (unsigned) ev.start_mark.line + 1,
                                         (unsigned) ev.start_mark.column + 1,
                                         "more than %d YAML nodes in one file", YNODE_MAX_NODES);
                                if (doc)
                                        doc->partial = true;
                                done = true;
                                break;
                        }
                        if (!doc) { /* cannot happen with libyaml, but stay safe */
                                done = true;
                                break;
                        }
                        enum ynode_type t = ev.type == YAML_SCALAR_EVENT           ? YNODE_SCALAR
                                            : ev.type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQUENCE
                                                                                   : YNODE_MAPPING;
                        n = node_new(t, &ev.start_mark);
                        if (!n) {
                                r = -ENOMEM;
                                done = true;
                                break;
                        }
                        if (t == YNODE_SCALAR) {
                                if (ev.data.scalar.length > YNODE_MAX_SCALAR) {
                                        diag_add(diags, file, n->line, n->col,
                                                 "string of %zu bytes is longer than the limit of %d bytes",
                                                 ev.data.scalar.length, YNODE_MAX_SCALAR);
                                        free(n);
                                        doc->partial = true;
                                        done = true;
                                        break;
                                }
                                n->scalar = strndup((const char *) ev.data.scalar.value, ev.data.scalar.length);
                                n->len = ev.data.scalar.length;
                                n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                                if (!n->scalar) {
                                        free(n);
                                        r = -ENOMEM;
                                        done = true;
                                        break;
                                }
                        }
                        if (attach(&ld, doc, n) < 0) {
                                ynode_free(n);
                                r = -ENOMEM;
                                done = true;
                                break;
                        }
                        if (t != YNODE_SCALAR) {
                                if (ld.depth >= YNODE_MAX_DEPTH) {
                                        diag_add(diags, file, n->line, n->col,
                                                 "nesting deeper than %d levels", YNODE_MAX_DEPTH);
                                        doc->partial = true;
                                        done = true;
                                        break;
                                }
                                ld.have_key[ld.depth] = false;
                                ld.stack[ld.depth++] = n;
                        }
                        break;
                }

                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (ld.depth > 0)
                                ld.depth--;
                        break;

                default:
                        break;
                }
                yaml_event_delete(&ev);
        }

        if (r < 0) {
                ydoc_list_done(&docs);
                return r;
        }
        *ret = docs;
        return 0;
}

bool ynode_is_null(const struct ynode *n) {
        if (!n)
                return true;
        if (n->type != YNODE_SCALAR || !n->plain)
                return false;
        return n->len == 0 || streq(n->scalar, "~") || streq(n->scalar, "null") || streq(n->scalar, "Null") ||
               streq(n->scalar, "NULL");
}

const struct ynode *ynode_get(const struct ynode *map, const char *key) {
        if (!map || map->type != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (map->pairs[i].key->type == YNODE_SCALAR && streq(map->pairs[i].key->scalar, key))
                        return map->pairs[i].value;
        return NULL;
}

const char *ynode_type_name(const struct ynode *n) {
        if (!n)
                return "nothing";
        switch (n->type) {
        case YNODE_MAPPING:
                return "a mapping";
        case YNODE_SEQUENCE:
                return "a list";
        default:
                return n->plain ? "a plain scalar" : "a string";
        }
}
