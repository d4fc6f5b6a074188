/* validate.c: `berthctl validate [-o json] FILE|DIR...`, offline.
 *
 * Every error of every file is printed (FILE:LINE:COL: error: ...), then the
 * exit status says whether all were valid. With -o json, the canonical model
 * of every document is printed as one JSON array: the shape the control API
 * speaks (docs/api.md). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berthctl.h"
#include "diag.h"
#include "macro.h"
#include "manifest.h"
#include "manifests.h"
#include "util.h"
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

        struct strv files = {};
        for (int i = optind; i < argc; i++) {
                int r = manifest_args_expand(argv[i], &files, &diags);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0)
                        ok = false;
        }
        for (size_t i = 0; i < files.n; i++) {
                int r = manifest_load(files.v[i], &all, &diags, NULL);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0)
                        ok = false;
        }
        strv_done(&files);

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

oom:
        fprintf(stderr, "berthctl validate: error: out of memory\n");
        strv_done(&files);
        service_list_done(&all);
        diag_list_done(&diags);
        return EXIT_FAILED;
}
