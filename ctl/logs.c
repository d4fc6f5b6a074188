/* logs.c: `berthctl logs SERVICE [--replica N]... [-f] [--tail N]
 * [--since T] [--until T] [--timestamps] [--previous] [--prefix]`: what the
 * service's replicas wrote, from GET /v1/services/NAME/logs (docs/api.md),
 * merged in time order by berthd.
 *
 * Output: the lines as the service wrote them (stdout and stderr both to
 * our stdout, like kubectl), each prefixed "web-1 | " when several replicas
 * are shown (or with --prefix), the capture time first with --timestamps.
 * stdout is fully buffered and flushed after each piece of data berthd
 * sends, so a fast writer costs one write per chunk, not per line. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berthctl.h"
#include "client.h"
#include "crilog.h"
#include "logwire.h"
#include "macro.h"
#include "util.h"

struct logs_ctx {
        const char *service;
        bool prefix, timestamps;
        bool open_line;          /* a partial line is being printed */
        unsigned open_replica;
        enum cri_stream open_stream;
        unsigned bad_lines;
};

static void logs_help(void) {
        printf("Usage: berthctl logs SERVICE [--replica N]... [-f] [--tail N] [--since TIME]\n"
               "                     [--until TIME] [-t] [-p] [--prefix]\n"
               "\n"
               "Print what the replicas of SERVICE wrote on stdout and stderr, oldest first,\n"
               "all replicas merged in time order.\n"
               "\n"
               "Options:\n"
               "  -r, --replica N   only replica N (0, 1, ...); repeat for several\n"
               "  -f, --follow      keep printing new lines (across rotations and restarts)\n"
               "                    until Ctrl-C\n"
               "      --tail N      only the last N lines of each replica\n"
               "      --since TIME  only lines written at or after TIME: RFC 3339\n"
               "                    (2026-11-27T03:52:23Z) or a duration before now (10m, 1h30m)\n"
               "      --until TIME  only lines written at or before TIME (same forms)\n"
               "  -t, --timestamps  print the capture time (RFC 3339, UTC, ns) before each line\n"
               "  -p, --previous    the run before the current one (after a crash or restart)\n"
               "      --prefix      prefix each line with its replica (\"web-1 | \"); the default\n"
               "                    when more than one replica is shown\n"
               "  -h, --help        show this help\n"
               "\n"
               "Exit status: 0 ok (also after Ctrl-C), 1 the request failed, 2 usage error,\n"
               "3 cannot reach berthd.\n");
}

static void end_open_line(struct logs_ctx *ctx) {
        if (ctx->open_line) {
                fputc('\n', stdout);
                ctx->open_line = false;
        }
}

static int on_line(const char *line, size_t len, void *userdata) {
        struct logs_ctx *ctx = userdata;
        struct logwire_msg m;

        /* client.c hands us its own buffer: decoding in place is fine */
        if (logwire_decode((char *) line, len, &m) < 0) {
                if (ctx->bad_lines++ == 0)
                        fprintf(stderr, "berthctl: warning: berthd sent a line that is not a log message, ignoring\n");
                return 0;
        }
        bool continues = ctx->open_line && ctx->open_replica == m.replica && ctx->open_stream == m.stream;
        if (!continues) {
                end_open_line(ctx);
                if (ctx->prefix)
                        fprintf(stdout, "%s-%u | ", ctx->service, m.replica);
                if (ctx->timestamps) {
                        fwrite(m.time_str, 1, CRI_TIME_LEN, stdout);
                        fputc(' ', stdout);
                }
        }
        fwrite(m.line, 1, m.len, stdout);
        if (m.partial) {
                ctx->open_line = true;
                ctx->open_replica = m.replica;
                ctx->open_stream = m.stream;
        } else {
                ctx->open_line = false;
                fputc('\n', stdout);
        }
        if (ferror(stdout))
                return -EPIPE; /* a reader that went away ends the stream (quietly, exit 0) */
        return 0;
}

static void on_chunk_end(void *userdata) {
        /* an error sticks to stdout: on_line sees it with ferror() */
        (void) fflush(stdout);
}

/* How many replicas the service has: the prefix default. */
static int count_replicas(const struct global_options *g, const char *service, int64_t *ret) {
        struct json_object *o = NULL, *reps, *total;
        int r = client_service_call(g, "GET", service, NULL, NULL, &o);
        if (r != EXIT_OK)
                return r;
        *ret = 0;
        if (json_object_object_get_ex(o, "replicas", &reps) && json_object_object_get_ex(reps, "total", &total))
                *ret = json_object_get_int64(total);
        json_object_put(o);
        return EXIT_OK;
}

int cmd_logs(const struct global_options *g, int argc, char **argv) {
        enum { ARG_TAIL = 0x100, ARG_SINCE, ARG_UNTIL, ARG_PREFIX };
        static const struct option options[] = {
                { "replica", required_argument, NULL, 'r' },
                { "follow", no_argument, NULL, 'f' },
                { "tail", required_argument, NULL, ARG_TAIL },
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                { "timestamps", no_argument, NULL, 't' },
                { "previous", no_argument, NULL, 'p' },
                { "prefix", no_argument, NULL, ARG_PREFIX },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct logs_ctx ctx = {};
        bool follow = false, previous = false, prefix = false;
        const char *tail = NULL, *since = NULL, *until = NULL;
        unsigned replicas[64];
        size_t n_replicas = 0;
        uint64_t now = now_realtime_usec() * 1000, v;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:ftph", options, NULL)) >= 0)
                switch (c) {
                case 'r': {
                        char *end = NULL;
                        errno = 0;
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || errno || n >= 100000 || optarg[0] == '-' || optarg[0] == '+')
                                return usage_error("logs", "--replica: \"%s\" is not a replica index (0, 1, ...)",
                                                   optarg);
                        if (n_replicas == ELEMENTSOF(replicas))
                                return usage_error("logs", "--replica: at most %zu replicas", ELEMENTSOF(replicas));
                        replicas[n_replicas++] = (unsigned) n;
                        break;
                }
                case 'f':
                        follow = true;
                        break;
                case ARG_TAIL:
                        if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg) || strlen(optarg) > 18)
                                return usage_error("logs", "--tail: \"%s\" is not a number of lines", optarg);
                        tail = optarg;
                        break;
                case ARG_SINCE:
                case ARG_UNTIL:
                        if (cri_parse_user_time(optarg, now, &v) < 0)
                                return usage_error("logs",
                                                   "%s: \"%s\" is neither an RFC 3339 time (2026-11-27T03:52:23Z) nor a duration (10m, 1h30m)",
                                                   c == ARG_SINCE ? "--since" : "--until", optarg);
                        if (c == ARG_SINCE)
                                since = optarg;
                        else
                                until = optarg;
                        break;
                case 't':
                        ctx.timestamps = true;
                        break;
                case 'p':
                        previous = true;
                        break;
                case ARG_PREFIX:
                        prefix = true;
                        break;
                case 'h':
                        logs_help();
                        return EXIT_OK;
                default:
                        return option_error("logs", c, argv);
                }
        int r = check_operands("logs", argc, argv, 1, 1, "service name");
        if (r != EXIT_OK)
                return r;
        if (!*argv[optind])
                return usage_error("logs", "the service name is empty");
        if (follow && previous)
                return usage_error("logs", "--follow and --previous cannot be combined: the previous run has ended");
        ctx.service = argv[optind];

        /* several replicas shown: say which line is whose */
        ctx.prefix = prefix || n_replicas > 1;
        if (!ctx.prefix && n_replicas == 0) {
                int64_t total = 0;
                r = count_replicas(g, ctx.service, &total);
                if (r != EXIT_OK)
                        return r;
                ctx.prefix = total != 1;
        }

        /* the path: /v1/services/NAME/logs?... (values escaped) */
        _cleanup_free_ char *base = client_service_path(ctx.service, "/logs");
        char *path = NULL;
        size_t plen = 0;
        FILE *f = open_memstream(&path, &plen);
        if (!base || !f) {
                if (f)
                        fclose(f);
                free(path);
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        char sep = '?';
        fputs(base, f);
        for (size_t i = 0; i < n_replicas; i++, sep = '&')
                fprintf(f, "%creplica=%u", sep, replicas[i]);
        if (follow)
                fprintf(f, "%cfollow=1", sep), sep = '&';
        if (previous)
                fprintf(f, "%cprevious=1", sep), sep = '&';
        if (tail)
                fprintf(f, "%ctail=%s", sep, tail), sep = '&';
        const char *names[] = { "since", "until" }, *values[] = { since, until };
        for (size_t i = 0; i < 2; i++)
                if (values[i]) {
                        _cleanup_free_ char *e = client_escape(values[i]);
                        if (e)
                                fprintf(f, "%c%s=%s", sep, names[i], e), sep = '&';
                }
        if (fclose(f) != 0) {
                free(path);
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }

        static char outbuf[256 * 1024];
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
        signal(SIGPIPE, SIG_IGN);
        if (client_catch_sigint() < 0) {
                free(path);
                fprintf(stderr, "berthctl: error: cannot set up Ctrl-C handling: %s\n", strerror(errno));
                return EXIT_FAILED;
        }
        struct client_request req = {
                .method = "GET",
                .path = path,
                .timeout_ms = -1, /* a whole log may take a while to read */
                .on_line = on_line,
                .on_chunk_end = on_chunk_end,
                .userdata = &ctx,
                .interruptible = true,
        };
        r = client_stream_request(g, &req);
        free(path);
        end_open_line(&ctx);
        (void) fflush(stdout);
        return r;
}
