/* delete.c: `berthctl delete SERVICE`: berthd stops and removes every
 * replica (cgroups included) and forgets the service. A service defined by a
 * file in berthd's manifests directory is refused (remove the file instead). */
#include "config.h"

#include <stdio.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

static void delete_help(void) {
        printf("Usage: berthctl delete SERVICE\n"
               "\n"
               "Remove SERVICE: its replicas are stopped (stop signal, grace period, then\n"
               "kill) and removed. A service defined by a file in berthd's manifests\n"
               "directory cannot be deleted here: remove its file instead.\n"
               "\n"
               "Options:\n"
               "  -h, --help  show this help\n"
               "\n"
               "Exit status: 0 ok, 1 the request failed (e.g. no such service), 2 usage error,\n"
               "3 cannot reach berthd.\n");
}

int cmd_delete(const struct global_options *g, int argc, char **argv) {
        const char *name;
        int r = parse_service_command("delete", argc, argv, delete_help, &name);
        if (r >= 0)
                return r;

        struct json_object *reply = NULL;
        r = client_service_call(g, "DELETE", name, NULL, NULL, &reply);
        if (r != EXIT_OK)
                return r;
        const char *deleted = json_get_str(reply, "deleted");
        printf("%s: deleted\n", deleted ? deleted : name);
        json_object_put(reply);
        return EXIT_OK;
}
