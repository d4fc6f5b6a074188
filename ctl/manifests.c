/* manifests.c: see manifests.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "manifests.h"
#include "util.h"

static int compare_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int expand_dir(const char *dir, struct strv *files, struct diag_list *diags) {
        DIR *d = opendir(dir);
        if (!d) {
                int r = -errno;
                diag_add(diags, dir, 0, 0, "cannot open directory: %s", strerror(-r));
                return r;
        }
        struct strv names = {};
        int r = 0;
        for (struct dirent *de; r >= 0 && (de = readdir(d));)
                if (manifest_filename_ok(de->d_name))
                        r = strv_push(&names, de->d_name);
        closedir(d);
        if (r >= 0 && names.n == 0) {
                diag_add(diags, dir, 0, 0, "no manifests (*.yaml, *.yml) in this directory");
                r = -ENOENT;
        }
        if (names.n > 0)
                qsort(names.v, names.n, sizeof *names.v, compare_str);
        size_t len = strlen(dir);
        for (size_t i = 0; r >= 0 && i < names.n; i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s%s%s", dir, len > 0 && dir[len - 1] == '/' ? "" : "/", names.v[i]) < 0)
                        r = -ENOMEM;
                else
                        r = strv_push(files, p);
        }
        strv_done(&names);
        return r;
}

int manifest_args_expand(const char *arg, struct strv *files, struct diag_list *diags) {
        struct stat st;
        if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
                return expand_dir(arg, files, diags);
        return strv_push(files, arg);
}

int manifest_load(const char *path, struct service_list *all, struct diag_list *diags, size_t *ret_n) {
        struct service_list l = {};
        int r = manifest_parse_file(path, 0, &l, diags);
        if (ret_n)
                *ret_n = l.n;
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                for (size_t j = 0; j < all->n; j++)
                        if (streq(all->v[j]->metadata.name, l.v[i]->metadata.name)) {
                                diag_add(diags, path, 0, 0,
                                         "metadata.name: service \"%s\" is also defined in an earlier file",
                                         l.v[i]->metadata.name);
                                r = -EINVAL;
                        }
                if (service_list_push(all, TAKE_PTR(l.v[i])) < 0)
                        r = -ENOMEM;
        }
        free(l.v);
        return r;
}
