/* diag.h: collected user-facing errors ("diagnostics") with their location.
 *
 * Every error a user can cause in a manifest becomes one line:
 *     FILE:LINE:COL: error: PATH: what is wrong (what to do)
 * The parser collects all errors of a file (up to DIAG_MAX, then one
 * "too many errors" line) instead of stopping at the first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

#define DIAG_MAX 50

struct diag {
        char *file;     /* may be NULL (e.g. request body without a name) */
        unsigned line;  /* 1-based; 0 = unknown */
        unsigned col;   /* 1-based; 0 = unknown */
        char *message;  /* "spec.replicas: ..." */
};

struct diag_list {
        struct diag *v;
        size_t n;
        size_t dropped; /* errors beyond DIAG_MAX */
        bool oom;       /* an allocation failed while recording */
};

void diag_add(struct diag_list *l, const char *file, unsigned line, unsigned col, const char *fmt, ...)
        _printf_(5, 6);
void diag_list_done(struct diag_list *l);
static inline bool diag_has_errors(const struct diag_list *l) {
        return l->n > 0 || l->dropped > 0 || l->oom;
}
/* Sorts the diagnostics from index `from` on by line and column (stable). */
void diag_list_sort(struct diag_list *l, size_t from);
/* "FILE:LINE:COL: error: MESSAGE" into buf (no newline). */
int diag_format(const struct diag *d, char *buf, size_t size);
/* Prints every diagnostic, one per line, plus the "N more errors" line. */
void diag_list_print(const struct diag_list *l, FILE *f);
