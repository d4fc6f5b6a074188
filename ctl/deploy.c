/* deploy.c: `berthctl deploy -f FILE|DIR [-f ...] [--dry-run]`.
 *
 * First every file is validated here, exactly as `berthctl validate` does
 * (same FILE:LINE:COL messages, a service defined in two files refused):
 * nothing is sent unless all of them are valid. Then each file is sent as
 * it is (Content-Type: application/yaml, X-Berth-Filename: the path as
 * given, so berthd's own errors point at the same lines) and berthd answers
 * with what changed, one line per service. A file berthd refuses (e.g. a
 * service owned by its manifests directory) does not stop the others; the
 * exit status is then 1. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berthctl.h"
#include "client.h"
#include "diag.h"
#include "macro.h"
#include "manifest.h"
#include "manifests.h"
#include "output.h"
#include "util.h"

static void deploy_help(void) {
        printf("Usage: berthctl deploy -f FILE|DIR [-f FILE|DIR...] [--dry-run] [--wait]\n"
               "\n"
               "Create or update the services of the manifests. A directory stands for its\n"
               "*.yaml and *.yml files. Every file is checked first, as 'berthctl validate'\n"
               "does (errors: FILE:LINE:COL: error: ...); nothing is sent unless all are\n"
               "valid. Then berthd applies each file and says what changed, per service:\n"
               "  web: created (revision 1, 3 replicas)\n"
               "  web: updated (revision 2, 3 replicas)   the spec changed: a rollout to\n"
               "                                          the new revision\n"
               "  web: scaled (revision 1, 5 replicas)    only the replica count changed\n"
               "  web: unchanged\n"
               "Deploying the same file twice changes nothing. With --wait, berthctl then\n"
               "follows the rollout of every service that changed, as 'berthctl rollout\n"
               "status' does, and exits 1 when one failed (or was rolled back).\n"
               "\n"
               "Options:\n"
               "  -f, --filename FILE|DIR  a manifest file or directory (repeatable)\n"
               "      --dry-run            print what would change; change nothing\n"
               "      --wait               wait until the rollouts are complete (or failed)\n"
               "  -h, --help               show this help\n"
               "\n"
               "Exit status: 0 ok, 1 invalid manifests, berthd refused a file or (--wait) a\n"
               "rollout failed, 2 usage\n"
               "error, 3 cannot reach berthd.\n");
}

/* The X-Berth-Filename header: the path as given, control characters
 * replaced (a header is one line). */
static char *filename_header(const char *path) {
        char *h;
        if (asprintf(&h, "X-Berth-Filename: %s", path) < 0)
                return NULL;
        for (char *p = h; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return h;
}

/* Sends one file; prints the changes. Returns the exit status. */
static int deploy_file(const struct global_options *g, const char *path, bool dry_run, struct strv *changed) {
        _cleanup_free_ char *data = NULL, *header = NULL;
        size_t size;
        int r = read_full_file(path, MANIFEST_MAX_SIZE, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(-r));
                return EXIT_FAILED;
        }
        if (!(header = filename_header(path))) {
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        const char *headers[] = { header, NULL };
        struct client_request req = {
                .method = "POST",
                .path = dry_run ? "/v1/services?dryRun=1" : "/v1/services",
                .body = data,
                .body_size = size,
                .content_type = "application/yaml",
                .headers = headers,
        };
        struct json_object *reply = NULL, *changes;
        r = client_call_raw(g, &req, &reply);
        if (r != EXIT_OK)
                return r;
        if (!json_object_object_get_ex(reply, "changes", &changes) || !json_object_is_type(changes, json_type_array)) {
                fprintf(stderr, "berthctl: error: berthd's reply for %s has no \"changes\" list\n", path);
                json_object_put(reply);
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                struct json_object *change = json_object_array_get_idx(changes, i);
                const char *action = json_get_str(change, "action"), *service = json_get_str(change, "service");
                if (changed && action && service && !streq(action, "unchanged") && strv_push(changed, service) < 0) {
                        json_object_put(reply);
                        fprintf(stderr, "berthctl: error: out of memory\n");
                        return EXIT_FAILED;
                }
                _cleanup_free_ char *line = format_change(change, dry_run);
                printf("%s\n", line ? line : "?");
        }
        json_object_put(reply);
        return EXIT_OK;
}

int cmd_deploy(const struct global_options *g, int argc, char **argv) {
        enum { ARG_DRY_RUN = 0x100, ARG_WAIT };
        static const struct option options[] = {
                { "filename", required_argument, NULL, 'f' },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "wait", no_argument, NULL, ARG_WAIT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct strv args = {}, files = {}, changed = {};
        struct service_list all = {};
        struct diag_list diags = {};
        _cleanup_free_ size_t *n_services = NULL; /* per file: its services */
        bool dry_run = false, ok = true, wait = false;
        int c, r, status = EXIT_OK;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":f:h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (!*optarg) {
                                strv_done(&args);
                                return usage_error("deploy", "-f needs a file or directory, not an empty string");
                        }
                        if (strv_push(&args, optarg) < 0) {
                                strv_done(&args);
                                fprintf(stderr, "berthctl: error: out of memory\n");
                                return EXIT_FAILED;
                        }
                        break;
                case ARG_DRY_RUN:
                        dry_run = true;
                        break;
                case ARG_WAIT:
                        wait = true;
                        break;
                case 'h':
                        strv_done(&args);
                        deploy_help();
                        return EXIT_OK;
                default:
                        strv_done(&args);
                        return option_error("deploy", c, argv);
                }
        if (optind < argc) {
                strv_done(&args);
                return usage_error("deploy", "unexpected argument \"%s\" (manifests are given with -f)", argv[optind]);
        }
        if (args.n == 0)
                return usage_error("deploy", "no manifest given (use -f FILE or -f DIR)");

        /* 1. the files, 2. all of them valid, 3. send each */
        for (size_t i = 0; i < args.n; i++) {
                r = manifest_args_expand(args.v[i], &files, &diags);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0)
                        ok = false;
        }
        n_services = calloc(files.n + 1, sizeof *n_services);
        if (!n_services)
                goto oom;
        for (size_t i = 0; i < files.n; i++) {
                r = manifest_load(files.v[i], &all, &diags, &n_services[i]);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0)
                        ok = false;
        }
        if (!ok || diag_has_errors(&diags)) {
                diag_list_print(&diags, stderr);
                status = EXIT_FAILED;
                goto done;
        }

        for (size_t i = 0; i < files.n; i++) {
                if (n_services[i] == 0)
                        continue; /* only empty documents */
                r = deploy_file(g, files.v[i], dry_run, wait && !dry_run ? &changed : NULL);
                if (r == EXIT_UNREACHABLE) {
                        status = r;
                        break;
                }
                if (r != EXIT_OK)
                        status = r;
        }
        /* --wait: every service that changed, like `rollout status` */
        if (wait && !dry_run && status != EXIT_UNREACHABLE && changed.n > 0) {
                r = rollout_wait(g, (const char *const *) changed.v, changed.n);
                if (r != EXIT_OK)
                        status = r;
        }
        goto done;

oom:
        fprintf(stderr, "berthctl: error: out of memory\n");
        status = EXIT_FAILED;
done:
        strv_done(&args);
        strv_done(&files);
        strv_done(&changed);
        service_list_done(&all);
        diag_list_done(&diags);
        return status;
}
