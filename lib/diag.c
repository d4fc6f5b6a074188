/* diag.c: see diag.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"

void diag_add(struct diag_list *l, const char *file, unsigned line, unsigned col, const char *fmt, ...) {
        if (l->n >= DIAG_MAX) {
                l->dropped++;
                return;
        }
        struct diag *v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (!v) {
                l->oom = true;
                return;
        }
        l->v = v;

        va_list ap;
        char *msg = NULL;
        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        char *f = file ? strdup(file) : NULL;
        if (r < 0 || (file && !f)) {
                free(f);
                if (r >= 0)
                        free(msg);
                l->oom = true;
                return;
        }
        v[l->n++] = (struct diag) { .file = f, .line = line, .col = col, .message = msg };
}

void diag_list_done(struct diag_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].file);
                free(l->v[i].message);
        }
        free(l->v);
        *l = (struct diag_list) {};
}

void diag_list_sort(struct diag_list *l, size_t from) {
        /* insertion sort: stable, and error lists are short (DIAG_MAX) */
        for (size_t i = from + 1; i < l->n; i++) {
                struct diag d = l->v[i];
                size_t j = i;
                while (j > from && (l->v[j - 1].line > d.line || (l->v[j - 1].line == d.line && l->v[j - 1].col > d.col))) {
                        l->v[j] = l->v[j - 1];
                        j--;
                }
                l->v[j] = d;
        }
}

int diag_format(const struct diag *d, char *buf, size_t size) {
        const char *file = d->file ? d->file : "<input>";
        if (d->line > 0)
                return snprintf(buf, size, "%s:%u:%u: error: %s", file, d->line, d->col, d->message);
        return snprintf(buf, size, "%s: error: %s", file, d->message);
}

void diag_list_print(const struct diag_list *l, FILE *f) {
        char buf[4096];
        for (size_t i = 0; i < l->n; i++) {
                diag_format(&l->v[i], buf, sizeof buf);
                fprintf(f, "%s\n", buf);
        }
        if (l->dropped > 0)
                fprintf(f, "%s: error: %zu more errors not shown (fix the ones above first)\n",
                        l->n > 0 && l->v[0].file ? l->v[0].file : "<input>", l->dropped);
        if (l->oom)
                fprintf(f, "error: out of memory while recording errors\n");
}
