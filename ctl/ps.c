/* ps.c: `berthctl ps [SERVICE] [-o wide|json]`: the replicas, one line each.
 *
 * The table is computed from GET /v1/replicas with the client's clock: AGE
 * is the time since the current run started (or since the replica entered
 * its state when it is not running), LAST EXIT is the reason of the last
 * run's end and how long ago. -o json prints the array exactly as berthd
 * sent it (pretty-printed), for scripts. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"
#include "util.h"

enum ps_format {
        PS_TABLE,
        PS_WIDE,
        PS_JSON,
};

static void ps_help(void) {
        printf("Usage: berthctl ps [SERVICE] [-o wide|json]\n"
               "\n"
               "List the replicas of every service, or of SERVICE:\n"
               "  SERVICE REPLICA STATE READY PID RESTARTS AGE LAST EXIT\n"
               "STATE is starting, running, stopping, killing, backoff (next in 3s), exited,\n"
               "failed or stopped. READY: yes when the replica runs and its startup and\n"
               "readiness probes (if any) have passed, no when not (- when not running).\n"
               "PID is the replica's init (its pid namespace's PID 1).\n"
               "AGE is the time since the current run started (else since the state began).\n"
               "LAST EXIT says how the previous run ended: Error (1) 2m ago, Signaled\n"
               "(SIGKILL) 5s ago, OOMKilled 1m ago, ExecFailed 3s ago, Completed 1h ago.\n"
               "\n"
               "Options:\n"
               "  -o, --output wide  add STATUS (the service's sd_notify STATUS=), REVISION,\n"
               "                     CGROUP and SHIM (the berth-shim's pid)\n"
               "  -o, --output json  print the replicas as berthd returns them (JSON array)\n"
               "  -h, --help         show this help\n"
               "\n"
               "Colors (the STATE column) are used on a terminal unless NO_COLOR is set.\n"
               "\n"
               "Exit status: 0 ok, 1 the request failed (e.g. no such service), 2 usage error,\n"
               "3 cannot reach berthd.\n");
}

static int print_table(struct json_object *replicas, enum ps_format format) {
        static const char *const normal[] = { "SERVICE",  "REPLICA", "STATE",     "READY", "PID",
                                               "RESTARTS", "AGE",     "LAST EXIT", NULL };
        static const char *const wide[] = { "SERVICE", "REPLICA",   "STATE",  "READY",    "PID",    "RESTARTS",
                                            "AGE",     "LAST EXIT", "STATUS", "REVISION", "CGROUP", "SHIM", NULL };
        struct table *t = table_new(format == PS_WIDE ? wide : normal);
        uint64_t now = now_realtime_usec();
        int r = 0;

        if (!t)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < json_object_array_length(replicas); i++) {
                struct json_object *rep = json_object_array_get_idx(replicas, i);
                char state[96], age[AGE_MAX], last[128];
                int64_t index = -1, pid = 0, restarts = 0, revision = 0, shim = 0;
                const char *started = json_get_str(rep, "started_at");

                (void) json_get_int(rep, "replica", &index);
                r = table_add(t, json_get_str(rep, "service"), NULL);
                if (r >= 0)
                        r = index >= 0 ? table_addf(t, NULL, "%" PRId64, index) : table_add(t, NULL, NULL);
                if (r >= 0)
                        r = table_add(t, format_replica_state(rep, now, state, sizeof state),
                                      state_color(json_get_str(rep, "state")));
                if (r >= 0) {
                        struct json_object *ready = NULL;
                        bool running = streq_ptr(json_get_str(rep, "state"), "running");
                        bool yes = json_object_object_get_ex(rep, "ready", &ready) && json_object_get_boolean(ready);
                        r = table_add(t, !running ? "-" : yes ? "yes" : "no", NULL);
                }
                if (r >= 0)
                        r = json_get_int(rep, "pid", &pid) && pid > 0 ? table_addf(t, NULL, "%" PRId64, pid)
                                                                      : table_add(t, NULL, NULL);
                if (r >= 0)
                        r = json_get_int(rep, "restarts", &restarts) ? table_addf(t, NULL, "%" PRId64, restarts)
                                                                     : table_add(t, NULL, NULL);
                if (r >= 0)
                        r = table_add(t, format_age_since(started ? started : json_get_str(rep, "since"), now, age,
                                                          sizeof age),
                                      NULL);
                if (r >= 0)
                        r = table_add(t, format_last_exit(rep, now, last, sizeof last), NULL);
                if (r >= 0 && format == PS_WIDE) {
                        r = table_add(t, json_get_str(rep, "notifyStatus"), NULL);
                        if (r >= 0)
                                r = json_get_int(rep, "revision", &revision) ? table_addf(t, NULL, "%" PRId64, revision)
                                                                     : table_add(t, NULL, NULL);
                        if (r >= 0)
                                r = table_add(t, json_get_str(rep, "cgroup"), NULL);
                        if (r >= 0)
                                r = json_get_int(rep, "shim_pid", &shim) && shim > 0
                                            ? table_addf(t, NULL, "%" PRId64, shim)
                                            : table_add(t, NULL, NULL);
                }
        }
        if (r >= 0) {
                if (table_rows(t) == 0)
                        fprintf(stderr, "No replicas.\n");
                else
                        r = table_print(t, stdout, output_use_color(STDOUT_FILENO));
        }
        table_free(t);
        return r;
}

int cmd_ps(const struct global_options *g, int argc, char **argv) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        enum ps_format format = PS_TABLE;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        if (streq(optarg, "wide"))
                                format = PS_WIDE;
                        else if (streq(optarg, "json"))
                                format = PS_JSON;
                        else
                                return usage_error("ps", "unknown output format \"%s\" (use wide or json)", optarg);
                        break;
                case 'h':
                        ps_help();
                        return EXIT_OK;
                default:
                        return option_error("ps", c, argv);
                }
        int r = check_operands("ps", argc, argv, 0, 1, "service name");
        if (r != EXIT_OK)
                return r;

        _cleanup_free_ char *path = NULL;
        if (optind < argc) {
                _cleanup_free_ char *e = client_escape(argv[optind]);
                if (!*argv[optind])
                        return usage_error("ps", "the service name is empty");
                if (!e || asprintf(&path, "/v1/replicas?service=%s", e) < 0)
                        path = NULL;
        } else
                path = strdup("/v1/replicas");
        if (!path) {
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }

        struct json_object *replicas = NULL;
        r = client_call(g, "GET", path, NULL, &replicas);
        if (r != EXIT_OK)
                return r;
        if (!json_object_is_type(replicas, json_type_array)) {
                fprintf(stderr, "berthctl: error: berthd's reply to GET %s is not a JSON array\n", path);
                json_object_put(replicas);
                return EXIT_FAILED;
        }
        if (format == PS_JSON)
                json_print_pretty(stdout, replicas);
        else if (print_table(replicas, format) < 0) {
                fprintf(stderr, "berthctl: error: out of memory\n");
                json_object_put(replicas);
                return EXIT_FAILED;
        }
        json_object_put(replicas);
        return EXIT_OK;
}
