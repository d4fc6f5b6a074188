/* version.c: `berthctl version` (and `berthctl --version`): berthctl's own
 * version, then berthd's from GET /v1/info when it answers. An unreachable
 * berthd is reported on stderr but is not a failure: the command is also
 * how one checks which berthctl is installed. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

/* berthd answers /v1/info from its event loop: a second is plenty */
#define VERSION_TIMEOUT_MS 2000L

static void version_help(void) {
        printf("Usage: berthctl version\n"
               "\n"
               "Print the version of berthctl, and of berthd when it can be reached on the\n"
               "control socket (otherwise a note on stderr; the exit status stays 0).\n"
               "\n"
               "Options:\n"
               "  -h, --help  show this help\n");
}

int cmd_version(const struct global_options *g, int argc, char **argv) {
        int r = parse_help_only("version", argc, argv, version_help, NULL);
        if (r >= 0)
                return r;
        r = check_operands("version", argc, argv, 0, 0, "");
        if (r != EXIT_OK)
                return r;

        printf("berthctl %s\n", BERTH_VERSION);
        fflush(stdout);

        struct client_request req = { .method = "GET", .path = "/v1/info", .timeout_ms = VERSION_TIMEOUT_MS };
        struct client_response resp = {};
        struct client_error err;
        r = client_do(g->socket, &req, &resp, &err);
        if (r < 0) {
                fprintf(stderr, "berthd: not reachable: %s\n", err.message);
                return EXIT_OK;
        }
        struct json_object *info = NULL;
        if (resp.status != 200 || client_parse_json(resp.body, resp.body_size, &info) < 0 ||
            !json_object_is_type(info, json_type_object)) {
                _cleanup_free_ char *m = client_error_message(resp.status, resp.body, resp.body_size);
                fprintf(stderr, "berthd: no version from %s: %s\n", g->socket, m ? m : "invalid reply");
                json_object_put(info);
                client_response_done(&resp);
                return EXIT_OK;
        }
        const char *version = json_get_str(info, "version"), *mode = json_get_str(info, "cgroupMode");
        int64_t pid = 0;
        (void) json_get_int(info, "pid", &pid);
        printf("berthd %s (pid %" PRId64 ", cgroup mode %s, socket %s)\n", version ? version : "unknown", pid,
               mode ? mode : "unknown", g->socket);
        json_object_put(info);
        client_response_done(&resp);
        return EXIT_OK;
}
