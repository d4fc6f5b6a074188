/* manifest-dir.c: see manifest-dir.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest-dir.h"

static int compare_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void dir_scan_done(struct dir_scan *s) {
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].path);
                service_list_done(&s->files[i].services);
        }
        free(s->files);
        diag_list_done(&s->diags);
        *s = (struct dir_scan) {};
}

int manifest_dir_scan(const char *dir, struct dir_scan *ret) {
        struct dir_scan s = {};
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        *ret = s;
        DIR *d = opendir(dir);
        if (!d) {
                ret->error = -errno;
                return 0;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (!manifest_filename_ok(de->d_name))
                        continue;
                char **v = realloc(names, (n + 1) * sizeof *v);
                if (!v) {
                        r = -ENOMEM;
                        break;
                }
                names = v;
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r == 0 && n > 0)
                qsort(names, n, sizeof *names, compare_str);
        if (r == 0 && n > 0 && !(s.files = calloc(n, sizeof *s.files)))
                r = -ENOMEM;

        for (size_t i = 0; r == 0 && i < n; i++) {
                struct dir_file *f = &s.files[s.n_files++];
                if (asprintf(&f->path, "%s/%s", dir, names[i]) < 0) {
                        f->path = NULL;
                        r = -ENOMEM;
                        break;
                }
                int k = manifest_parse_file(f->path, 0, &f->services, &s.diags);
                if (k == -ENOMEM) {
                        r = k;
                        break;
                }
                f->valid = k == 0;
                /* a name that an earlier file already defines */
                for (size_t j = 0; f->valid && j < f->services.n; j++)
                        for (size_t a = 0; a + 1 < s.n_files; a++) {
                                const struct dir_file *o = &s.files[a];
                                for (size_t b = 0; o->valid && b < o->services.n; b++)
                                        if (streq(o->services.v[b]->metadata.name, f->services.v[j]->metadata.name)) {
                                                diag_add(&s.diags, f->path, 0, 0,
                                                         "metadata.name: service \"%s\" is already defined in %s",
                                                         f->services.v[j]->metadata.name, o->path);
                                                f->valid = false;
                                        }
                        }
                if (!f->valid)
                        service_list_done(&f->services);
        }

        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0) {
                dir_scan_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}
