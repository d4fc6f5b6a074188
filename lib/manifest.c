/* manifest.c: see manifest.h. YAML nodes come from yaml-node.c, their meaning
 * from the schema tables in model.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "schema.h"
#include "util.h"
#include "yaml-node.h"

void service_list_done(struct service_list *l) {
        for (size_t i = 0; i < l->n; i++)
                service_free(l->v[i]);
        free(l->v);
        *l = (struct service_list) {};
}

int service_list_push(struct service_list *l, struct service *s) {
        struct service **v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (!v) {
                service_free(s);
                return -ENOMEM;
        }
        l->v = v;
        v[l->n++] = s;
        return 0;
}

static int parse_one(const struct ynode *root, const struct ydoc *d, const char *path, const char *file,
                     unsigned flags, struct service_list *out, struct diag_list *diags) {
        struct service *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        struct walk w = {
                .file = file,
                .diags = diags,
                .canonical = flags & MANIFEST_CANONICAL,
                .partial = d->partial,
                .line = d->line,
                .col = d->col,
        };
        if (!root || root->type != YNODE_MAPPING) {
                /* the engine treats a missing struct as "all defaults": a
                 * document is never optional */
                walk_error(&w, root, path, "expected a Service (a mapping with apiVersion, kind, metadata and spec), got %s",
                           ynode_is_null(root) ? "null" : ynode_type_name(root));
                service_free(s);
                return 0;
        }
        schema_parse(&w, &service_schema, root, s, path);

        /* a name defined twice in one input */
        for (size_t j = 0; s->metadata.name && j < out->n; j++)
                if (out->v[j]->metadata.name && streq(out->v[j]->metadata.name, s->metadata.name)) {
                        char p[64];
                        walk_error(&w, ynode_get(ynode_get(root, "metadata"), "name"),
                                   path_join(p, sizeof p, path, "metadata.name"),
                                   "service \"%s\" is defined twice in this input", s->metadata.name);
                        break;
                }
        return service_list_push(out, s);
}

int manifest_parse_buffer(const char *buf, size_t len, const char *file, unsigned flags, struct service_list *ret,
                          struct diag_list *diags) {
        struct ydoc_list docs = {};
        struct service_list out = {};
        size_t errors_before = diags->n + diags->dropped, first = diags->n;
        int r;

        *ret = (struct service_list) {};

        r = ynode_load(buf, len, file, &docs, diags);
        if (r < 0)
                return r;

        for (size_t i = 0; r == 0 && i < docs.n; i++) {
                const struct ydoc *d = &docs.v[i];
                if (!d->root || ynode_is_null(d->root))
                        continue; /* an empty document, e.g. a trailing "---" */

                /* a document may also be a list of services (the API's JSON arrays) */
                bool list = d->root->type == YNODE_SEQUENCE;
                size_t n = list ? d->root->n : 1;
                for (size_t k = 0; r == 0 && k < n; k++) {
                        const struct ynode *root = list ? d->root->items[k] : d->root;
                        char path[32] = "";
                        if (list)
                                snprintf(path, sizeof path, "[%zu]", k);
                        r = parse_one(root, d, path, file, flags, &out, diags);
                }
        }
        ydoc_list_done(&docs);
        diag_list_sort(diags, first);

        if (r == 0 && diags->oom)
                r = -ENOMEM;
        if (r == 0 && diags->n + diags->dropped > errors_before)
                r = -EINVAL;
        if (r < 0) {
                service_list_done(&out);
                return r;
        }
        *ret = out;
        return 0;
}

int manifest_parse_file(const char *path, unsigned flags, struct service_list *ret, struct diag_list *diags) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        *ret = (struct service_list) {};
        r = read_full_file(path, MANIFEST_MAX_SIZE, &buf, &len);
        if (r == -EFBIG) {
                diag_add(diags, path, 0, 0, "file is larger than %d bytes: split it into several manifests",
                         MANIFEST_MAX_SIZE);
                return r;
        }
        if (r < 0) {
                diag_add(diags, path, 0, 0, "cannot read: %s", strerror(-r));
                return r;
        }
        return manifest_parse_buffer(buf, len, path, flags, ret, diags);
}

bool manifest_filename_ok(const char *name) {
        size_t n = strlen(name);
        if (name[0] == '.' || n < 5)
                return false;
        return (n > 5 && streq(name + n - 5, ".yaml")) || streq(name + n - 4, ".yml");
}
