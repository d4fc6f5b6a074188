/* inspect.c: `berthctl inspect SERVICE`: the service as berthd sees it and
 * its replicas, as one pretty JSON object:
 *   {"service": <GET /v1/services/NAME>, "replicas": <GET /v1/replicas?service=NAME>}
 * (the service object has a "replicas" member of its own, the counts: the
 * replica list is beside it, not inside). */
#include "config.h"

#include <stdio.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

static void inspect_help(void) {
        printf("Usage: berthctl inspect SERVICE\n"
               "\n"
               "Print SERVICE and its replicas as one JSON object:\n"
               "  {\"service\": {name, revision, source, owner, stopped, spec, replicas: {desired,\n"
               "                running, total}, ports: [{name, port, protocol, hostIP, bound, inode}],\n"
               "                portsError},\n"
               "   \"replicas\": [{service, replica, id, pid, state, since, restarts, revision,\n"
               "                 cgroup, started_at, last_exit, next_restart_at, shim_pid}, ...]}\n"
               "spec is the canonical JSON of the manifest (see 'berthctl validate -o json').\n"
               "\n"
               "Options:\n"
               "  -h, --help  show this help\n"
               "\n"
               "Exit status: 0 ok, 1 the request failed (e.g. no such service), 2 usage error,\n"
               "3 cannot reach berthd.\n");
}

int cmd_inspect(const struct global_options *g, int argc, char **argv) {
        const char *name;
        int r = parse_service_command("inspect", argc, argv, inspect_help, &name);
        if (r >= 0)
                return r;

        _cleanup_free_ char *path = client_service_path(name, NULL), *escaped = client_escape(name),
                            *rpath = NULL;
        if (!path || !escaped || asprintf(&rpath, "/v1/replicas?service=%s", escaped) < 0) {
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        struct json_object *service = NULL, *replicas = NULL;
        r = client_call(g, "GET", path, NULL, &service);
        if (r != EXIT_OK)
                return r;
        r = client_call(g, "GET", rpath, NULL, &replicas);
        if (r != EXIT_OK) {
                json_object_put(service);
                return r;
        }
        struct json_object *o = json_object_new_object();
        if (!o) {
                json_object_put(service);
                json_object_put(replicas);
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        json_object_object_add(o, "service", service);
        json_object_object_add(o, "replicas", replicas ? replicas : json_object_new_array());
        json_print_pretty(stdout, o);
        json_object_put(o);
        return EXIT_OK;
}
