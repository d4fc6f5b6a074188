/* yaml-node.h: libyaml's event stream turned into a small, bounded node tree
 * that remembers where every node came from (1-based line:col).
 *
 * Hardening (manifests come from users and from the network): the input size,
 * nesting depth, node count, scalar length and document count are capped, and
 * anchors/aliases are rejected outright (no "billion laughs", no undefined
 * aliases). Duplicate keys are NOT checked here: the schema walker does it,
 * because it knows the field path for the message.
 *
 * YAML syntax errors become diagnostics in the FILE:LINE:COL form; the
 * document that was being parsed is returned as far as it got, flagged
 * `partial`, so the caller can still report the other errors it holds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define YNODE_MAX_INPUT (1024 * 1024)
#define YNODE_MAX_DEPTH 64
#define YNODE_MAX_NODES 100000
#define YNODE_MAX_SCALAR (64 * 1024)
#define YNODE_MAX_DOCS 1000

enum ynode_type {
        YNODE_SCALAR,
        YNODE_MAPPING,
        YNODE_SEQUENCE,
};

struct ynode;

struct ynode_pair {
        struct ynode *key;
        struct ynode *value;
};

struct ynode {
        enum ynode_type type;
        unsigned line, col;
        /* scalar */
        char *scalar;
        size_t len;
        bool plain; /* unquoted: may be a number, bool or null */
        /* sequence */
        struct ynode **items;
        /* mapping */
        struct ynode_pair *pairs;
        size_t n; /* items or pairs */
        size_t cap; /* allocated items or pairs */
};

struct ydoc {
        struct ynode *root; /* NULL for an empty document */
        unsigned line, col;
        bool partial;       /* a syntax error cut it short */
};

struct ydoc_list {
        struct ydoc *v;
        size_t n;
};

/* Parses buf into documents. Syntax and limit errors go to diags (with file);
 * returns 0 (also when diags were added), or -ENOMEM. */
int ynode_load(const char *buf, size_t len, const char *file, struct ydoc_list *ret, struct diag_list *diags);
void ydoc_list_done(struct ydoc_list *l);

/* A plain scalar that YAML reads as null ("", "~", "null", "Null", "NULL"). */
bool ynode_is_null(const struct ynode *n);
/* The value of key in a mapping node, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
const char *ynode_type_name(const struct ynode *n);
