/* events.c: `berthctl events [-f] [--since SEQ] [-o json]`: what berthd did,
 * from its event ring (the last 1000 events), one line each; with --follow
 * the stream stays open and new events appear as they happen, until Ctrl-C
 * (exit 0) or berthd goes away.
 *
 * Every line is flushed as it is printed, so `berthctl events -f | grep`
 * works; a closed pipe ends the stream quietly. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

struct events_ctx {
        bool json;
        unsigned bad_lines;
};

static void events_help(void) {
        printf("Usage: berthctl events [-f] [--since SEQ] [-o json]\n"
               "\n"
               "Show berthd's events, oldest first, one per line:\n"
               "  TIME TYPE SERVICE[-REPLICA] MESSAGE\n"
               "TIME is UTC. berthd keeps the last 1000 events. Types: ServiceCreated,\n"
               "ServiceUpdated, ServiceScaled, ServiceDeleted, ServiceStopped, ServiceStarted,\n"
               "ServiceRestarted, RolloutStarted, RolloutProgress, RolloutComplete, RolloutFailed,\n"
               "RolloutRolledBack, RolloutPaused, RolloutResumed, ReplicaStarted, ReplicaExited,\n"
               "ReplicaBackoff, ReplicaStopping,\n"
               "ReplicaRemoved, ReplicaOOMKilled, ReplicaExecFailed, ManifestInvalid, Request,\n"
               "AgentStarted, AgentStopping.\n"
               "\n"
               "Options:\n"
               "  -f, --follow       keep printing new events until Ctrl-C\n"
               "      --since SEQ    start at sequence number SEQ (see -o json's \"seq\")\n"
               "  -o, --output json  print every event as berthd sends it: one JSON object\n"
               "                     per line\n"
               "  -h, --help         show this help\n"
               "\n"
               "Exit status: 0 ok (also after Ctrl-C), 1 the request failed, 2 usage error,\n"
               "3 cannot reach berthd.\n");
}

static int on_event(const char *line, size_t len, void *userdata) {
        struct events_ctx *ctx = userdata;

        if (ctx->json)
                printf("%s\n", line);
        else {
                struct json_object *e = NULL;
                if (client_parse_json(line, len, &e) < 0 || !json_object_is_type(e, json_type_object)) {
                        json_object_put(e);
                        if (ctx->bad_lines++ == 0)
                                fprintf(stderr, "berthctl: warning: berthd sent a line that is not a JSON event, ignoring\n");
                        return 0;
                }
                _cleanup_free_ char *s = format_event(e);
                json_object_put(e);
                if (!s)
                        return -ENOMEM;
                printf("%s\n", s);
        }
        /* a reader that went away (EPIPE) ends the stream */
        if (fflush(stdout) != 0 || ferror(stdout))
                return -EPIPE;
        return 0;
}

static int parse_seq(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return 0;
}

int cmd_events(const struct global_options *g, int argc, char **argv) {
        enum { ARG_SINCE = 0x100 };
        static const struct option options[] = {
                { "follow", no_argument, NULL, 'f' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct events_ctx ctx = {};
        bool follow = false, have_since = false;
        uint64_t since = 0;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":fo:h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        follow = true;
                        break;
                case ARG_SINCE:
                        if (parse_seq(optarg, &since) < 0)
                                return usage_error("events", "--since: \"%s\" is not a sequence number", optarg);
                        have_since = true;
                        break;
                case 'o':
                        if (!streq(optarg, "json"))
                                return usage_error("events", "unknown output format \"%s\" (use json)", optarg);
                        ctx.json = true;
                        break;
                case 'h':
                        events_help();
                        return EXIT_OK;
                default:
                        return option_error("events", c, argv);
                }
        int r = check_operands("events", argc, argv, 0, 0, "");
        if (r != EXIT_OK)
                return r;

        char path[96];
        snprintf(path, sizeof path, "/v1/events%s", have_since || follow ? "?" : "");
        if (have_since)
                snprintf(path + strlen(path), sizeof path - strlen(path), "since=%" PRIu64 "%s", since,
                         follow ? "&" : "");
        if (follow)
                snprintf(path + strlen(path), sizeof path - strlen(path), "follow=1");

        /* Ctrl-C ends the stream, not the process: exit 0 after a clean close.
         * A closed stdout shows as EPIPE from fflush instead of killing us. */
        signal(SIGPIPE, SIG_IGN);
        if (client_catch_sigint() < 0) {
                fprintf(stderr, "berthctl: error: cannot set up Ctrl-C handling: %s\n", strerror(errno));
                return EXIT_FAILED;
        }
        return client_stream(g, path, on_event, &ctx, follow);
}
