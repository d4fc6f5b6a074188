/* validate.c: `berthctl validate [-o json] FILE|DIR...`, offline.
 *
 * Every error of every file is printed (FILE:LINE:COL: error: ...), then the
 * exit status says whether all were valid. With -o json, the canonical model
 * of every document is printed as one JSON array: the shape the control API
 * speaks (docs/api.md). */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berthctl.h"
#include "diag.h"
#include "macro.h"
#include "manifest.h"
#include "model-json.h"

static void validate_help(void) {
        printf("Usage: berthctl validate [-o json] FILE|DIR...\n"
               "\n"
               "Check manifests without contacting berthd. A directory stands for its\n"
               "*.yaml and *.yml files. Errors are printed as FILE:LINE:COL: error: ...\n"
               "\n"
               "Options:\n"
               "  -o, --output json  print the canonical model of every document as a JSON\n"
               "                     array (memory in bytes, cpu in millicores, durations in ms)\n"
               "  -q, --quiet        print nothing when valid\n"
               "  -h, --help         show this help\n"
               "\n"
               "Exit status: 0 all valid, 1 errors found, 2 usage error.\n");
}

static int compare_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Parses one file, appending its services to all. Returns 0 if it was valid. */
static int validate_file(const char *path, struct service_list *all, struct diag_list *diags) {
        struct service_list l = {};
        int r = manifest_parse_file(path, 0, &l, diags);
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

static int validate_dir(const char *dir, struct service_list *all, struct diag_list *diags) {
        DIR *d = opendir(dir);
        if (!d) {
                diag_add(diags, dir, 0, 0, "cannot open directory: %s", strerror(errno));
                return -errno;
        }
        char **names = NULL;
        size_t n = 0;
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (!manifest_filename_ok(de->d_name))
                        continue;
                char **v = realloc(names, (n + 1) * sizeof *v);
                if (!v || !(v[n] = strdup(de->d_name))) {
                        names = v ? v : names;
                        r = -ENOMEM;
                        break;
                }
                names = v;
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof *names, compare_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, names[i]) < 0)
                        r = -ENOMEM;
                else {
                        int k = validate_file(p, all, diags);
                        if (k < 0 && r == 0)
                                r = k;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int cmd_validate(const struct global_options *g, int argc, char **argv) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool json = false, quiet = false;
        int c;

        while ((c = getopt_long(argc, argv, "o:qh", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        if (!streq(optarg, "json"))
                                return usage_error("validate", "unknown output format \"%s\" (use json)", optarg);
                        json = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        validate_help();
                        return EXIT_OK;
                default:
                        return usage_error("validate", "unknown option");
                }
        if (optind >= argc)
                return usage_error("validate", "no manifest given");

        struct service_list all = {};
        struct diag_list diags = {};
        bool ok = true;

        for (int i = optind; i < argc; i++) {
                struct stat st;
                int r;
                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                        r = validate_dir(argv[i], &all, &diags);
                else
                        r = validate_file(argv[i], &all, &diags);
                if (r == -ENOMEM) {
                        fprintf(stderr, "berthctl validate: error: out of memory\n");
                        service_list_done(&all);
                        diag_list_done(&diags);
                        return EXIT_FAILED;
                }
                if (r < 0)
                        ok = false;
        }

        if (!ok || diag_has_errors(&diags)) {
                diag_list_print(&diags, stderr);
                service_list_done(&all);
                diag_list_done(&diags);
                return EXIT_FAILED;
        }

        if (json) {
                struct json_object *arr = json_object_new_array();
                for (size_t i = 0; i < all.n; i++)
                        json_object_array_add(arr, service_to_json(all.v[i]));
                printf("%s\n", json_object_to_json_string_ext(arr, BERTH_JSON_PRETTY));
                json_object_put(arr);
        } else if (!quiet)
                for (size_t i = 0; i < all.n; i++)
                        printf("%s: ok\n", all.v[i]->metadata.name);

        service_list_done(&all);
        diag_list_done(&diags);
        return EXIT_OK;
}
