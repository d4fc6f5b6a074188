/* lifecycle.c: `berthctl stop|start|restart SERVICE`.
 *
 * stop keeps the service but no replica runs until start; restart replaces
 * every replica (a rollout) with a new revision of the same spec. berthd
 * answers at once with the service (the replicas change afterwards: `berthctl
 * ps` and `berthctl events` show the progress). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

struct lifecycle {
        const char *name;    /* the command, and the path's last segment */
        const char *summary;
        const char *done;    /* "stopped" ... */
};

static const struct lifecycle stop_cmd = {
        "stop",
        "Stop every replica of SERVICE (stop signal, grace period, then kill). The\n"
        "service stays defined and keeps its revision; it runs no replica until\n"
        "'berthctl start SERVICE'.",
        "stopped",
};
static const struct lifecycle start_cmd = {
        "start",
        "Start a service that 'berthctl stop' stopped: its replicas are started again.",
        "started",
};
static const struct lifecycle restart_cmd = {
        "restart",
        "Replace every replica of SERVICE: a new revision with the same spec,\n"
        "rolled out within spec.strategy (see 'berthctl rollout status SERVICE').\n"
        "The pids change; old replicas stop only as new ones become available.",
        "restarting",
};

static const struct lifecycle *current;

static void lifecycle_help(void) {
        printf("Usage: berthctl %s SERVICE\n"
               "\n"
               "%s\n"
               "\n"
               "Options:\n"
               "  -h, --help  show this help\n"
               "\n"
               "Exit status: 0 ok, 1 the request failed (e.g. no such service), 2 usage error,\n"
               "3 cannot reach berthd.\n",
               current->name, current->summary);
}

static int lifecycle_run(const struct lifecycle *l, const struct global_options *g, int argc, char **argv) {
        const char *name;
        current = l;
        int r = parse_service_command(l->name, argc, argv, lifecycle_help, &name);
        if (r >= 0)
                return r;

        _cleanup_free_ char *suffix = NULL, *path = NULL;
        if (asprintf(&suffix, "/%s", l->name) < 0 || !(path = client_service_path(name, suffix))) {
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        struct json_object *service = NULL;
        r = client_call(g, "POST", path, NULL, &service);
        if (r != EXIT_OK)
                return r;

        int64_t revision = 0, desired = 0;
        struct json_object *replicas = NULL;
        bool have_rev = json_get_int(service, "revision", &revision);
        if (json_object_object_get_ex(service, "replicas", &replicas))
                (void) json_get_int(replicas, "desired", &desired);
        if (l == &restart_cmd && have_rev)
                printf("%s: %s (revision %" PRId64 ", %" PRId64 " replica%s rolled out)\n", name, l->done,
                       revision, desired, desired == 1 ? "" : "s");
        else if (l == &start_cmd)
                printf("%s: %s (%" PRId64 " replica%s)\n", name, l->done, desired, desired == 1 ? "" : "s");
        else
                printf("%s: %s\n", name, l->done);
        json_object_put(service);
        return EXIT_OK;
}

int cmd_stop(const struct global_options *g, int argc, char **argv) {
        return lifecycle_run(&stop_cmd, g, argc, argv);
}

int cmd_start(const struct global_options *g, int argc, char **argv) {
        return lifecycle_run(&start_cmd, g, argc, argv);
}

int cmd_restart(const struct global_options *g, int argc, char **argv) {
        return lifecycle_run(&restart_cmd, g, argc, argv);
}
