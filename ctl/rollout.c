/* rollout.c: `berthctl rollout status|history|undo|pause|resume|restart
 * SERVICE`, and the waiting `deploy --wait` shares with `rollout status`.
 *
 * Waiting is event-driven, never a polling loop: one GET of each service's
 * rollout (which says where berthd's event stream stands, "eventSeq"), then
 * the event stream from that point on (GET /v1/events?since=SEQ&follow=1),
 * so nothing that happens in between is missed. Rollout* events carry the
 * counts; the wait ends when every rollout is complete (exit 0) or one has
 * failed (exit 1, also when berthd rolls it back). On a terminal the
 * progress is one line redrawn in place with a bar; otherwise one plain line
 * per change. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

/* ---- waiting ------------------------------------------------------------ */

struct waited {
        const char *name;
        int64_t target, updated, available, desired;
        bool paused, done, failed;
};

struct wait_ctx {
        struct waited *v;
        size_t n, left;
        bool tty;
        bool line_open; /* a progress line is on the screen without its newline */
};

static void end_line(struct wait_ctx *ctx) {
        if (ctx->line_open) {
                fputc('\n', stdout);
                ctx->line_open = false;
        }
}

static void show_progress(struct wait_ctx *ctx, struct waited *w) {
        if (ctx->tty) {
                char bar[21];
                int64_t d = w->desired > 0 ? w->desired : 1, filled = w->available * 20 / d;
                if (filled > 20)
                        filled = 20;
                for (int i = 0; i < 20; i++)
                        bar[i] = i < filled ? '#' : '-';
                bar[20] = 0;
                printf("\r\033[K%s: revision %" PRId64 " [%s] %" PRId64 "/%" PRId64 " available, %" PRId64
                       " updated%s",
                       w->name, w->target, bar, w->available, w->desired, w->updated, w->paused ? " (paused)" : "");
                ctx->line_open = true;
        } else
                printf("%s: revision %" PRId64 ": %" PRId64 " of %" PRId64 " updated, %" PRId64 " available%s\n",
                       w->name, w->target, w->updated, w->desired, w->available, w->paused ? " (paused)" : "");
        fflush(stdout);
}

static void finish(struct wait_ctx *ctx, struct waited *w, bool failed, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void finish(struct wait_ctx *ctx, struct waited *w, bool failed, const char *fmt, ...) {
        va_list ap;
        if (w->done)
                return;
        end_line(ctx);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
        w->done = true;
        w->failed = failed;
        ctx->left--;
}

static void counts_from(struct waited *w, struct json_object *o) {
        (void) json_get_int(o, "updated", &w->updated);
        (void) json_get_int(o, "available", &w->available);
        if (!json_get_int(o, "desired", &w->desired))
                (void) json_get_int(o, "replicas", &w->desired);
}

static int on_wait_event(const char *line, size_t len, void *userdata) {
        struct wait_ctx *ctx = userdata;
        struct json_object *e = NULL;
        if (client_parse_json(line, len, &e) < 0 || !json_object_is_type(e, json_type_object)) {
                json_object_put(e);
                return 0;
        }
        const char *type = json_get_str(e, "type"), *service = json_get_str(e, "service"),
                   *msg = json_get_str(e, "message") ?: "";
        struct waited *w = NULL;
        for (size_t i = 0; service && type && i < ctx->n; i++)
                if (!ctx->v[i].done && streq(ctx->v[i].name, service))
                        w = &ctx->v[i];
        if (w) {
                int64_t rev = 0, to = 0;
                bool has_rev = json_get_int(e, "revision", &rev);
                if (streq(type, "ServiceDeleted"))
                        finish(ctx, w, true, "%s: deleted", w->name);
                else if (streq(type, "ServiceStopped"))
                        finish(ctx, w, true, "%s: stopped, the rollout to revision %" PRId64 " waits", w->name,
                               w->target);
                else if (strncmp(type, "Rollout", 7) == 0) {
                        counts_from(w, e);
                        if (streq(type, "RolloutStarted") && has_rev)
                                w->target = rev; /* a newer rollout (or an undo) replaced the one we waited for */
                        if (streq(type, "RolloutPaused"))
                                w->paused = true;
                        else if (streq(type, "RolloutResumed"))
                                w->paused = false;
                        if (streq(type, "RolloutComplete"))
                                finish(ctx, w, false, "%s: rollout to revision %" PRId64 " complete (%" PRId64 " of %" PRId64
                                       " available)", w->name, has_rev ? rev : w->target, w->available, w->desired);
                        else if (streq(type, "RolloutFailed")) {
                                if (json_get_int(e, "rollbackTo", &to))
                                        finish(ctx, w, true, "%s: rollout to revision %" PRId64 " failed: %s; rolled back to revision %" PRId64,
                                               w->name, has_rev ? rev : w->target, msg, to);
                                else
                                        finish(ctx, w, true, "%s: rollout to revision %" PRId64 " failed: %s", w->name,
                                               has_rev ? rev : w->target, msg);
                        } else if (!streq(type, "RolloutRolledBack"))
                                show_progress(ctx, w);
                }
        }
        json_object_put(e);
        if (ferror(stdout))
                return -EPIPE;
        return ctx->left == 0 ? -1 : 0;
}

int rollout_wait(const struct global_options *g, const char *const *names, size_t n) {
        _cleanup_free_ struct waited *v = calloc(n + 1, sizeof *v);
        if (!v) {
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        struct wait_ctx ctx = { .v = v, .n = n, .left = n, .tty = isatty(STDOUT_FILENO) };
        int64_t since = -1;
        for (size_t i = 0; i < n; i++) {
                struct waited *w = &v[i];
                w->name = names[i];
                struct json_object *o = NULL;
                int r = client_service_call(g, "GET", names[i], "/rollout", NULL, &o);
                if (r != EXIT_OK)
                        return r;
                int64_t seq = 0;
                const char *state = json_get_str(o, "state") ?: "";
                (void) json_get_int(o, "target", &w->target);
                counts_from(w, o);
                w->paused = json_object_get_boolean(json_object_object_get(o, "paused"));
                if (json_get_int(o, "eventSeq", &seq) && (since < 0 || seq < since))
                        since = seq;
                int64_t from = 0;
                if (json_get_int(o, "rolledBackFrom", &from) && from > 0)
                        /* berthd rolled the last rollout back (maybe done already): that one failed */
                        finish(&ctx, w, true, "%s: rollout to revision %" PRId64 " failed: %s; rolled back to revision %" PRId64,
                               w->name, from, json_get_str(o, "rollbackCause") ?: "", w->target);
                else if (json_object_get_boolean(json_object_object_get(o, "stopped")) && !streq(state, "complete"))
                        finish(&ctx, w, true, "%s: stopped (berthctl start %s), the rollout to revision %" PRId64 " waits",
                               w->name, w->name, w->target);
                else if (streq(state, "complete"))
                        finish(&ctx, w, false, "%s: rollout to revision %" PRId64 " complete (%" PRId64 " of %" PRId64
                               " available)", w->name, w->target, w->available, w->desired);
                else if (streq(state, "failed"))
                        finish(&ctx, w, true, "%s: rollout to revision %" PRId64 " failed: %s", w->name, w->target,
                               json_get_str(o, "message") ?: "");
                else
                        show_progress(&ctx, w);
                json_object_put(o);
        }
        if (ctx.left > 0) {
                char path[96];
                snprintf(path, sizeof path, "/v1/events?since=%" PRId64 "&follow=1", since < 0 ? 0 : since);
                signal(SIGPIPE, SIG_IGN);
                if (client_catch_sigint() < 0) {
                        fprintf(stderr, "berthctl: error: cannot set up Ctrl-C handling: %s\n", strerror(errno));
                        return EXIT_FAILED;
                }
                int r = client_stream(g, path, on_wait_event, &ctx, true);
                end_line(&ctx);
                if (r != EXIT_OK)
                        return r;
                if (ctx.left > 0) {
                        fprintf(stderr, "berthctl: error: stopped waiting before the rollout%s ended\n",
                                ctx.left > 1 ? "s" : "");
                        return EXIT_FAILED;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (v[i].failed)
                        return EXIT_FAILED;
        return EXIT_OK;
}

/* ---- the subcommands ---------------------------------------------------- */

static void rollout_help(void) {
        printf("Usage: berthctl rollout status SERVICE\n"
               "       berthctl rollout history SERVICE [-o json]\n"
               "       berthctl rollout undo SERVICE [--to-revision N]\n"
               "       berthctl rollout pause|resume|restart SERVICE\n"
               "\n"
               "Follow and steer the rollout of a service to a new revision.\n"
               "  status    show the rollout's progress until it ends (a progress bar on a\n"
               "            terminal, one line per change otherwise); exit 0 when complete,\n"
               "            1 when it failed (also when berthd rolled it back)\n"
               "  history   the revisions berthd keeps: REVISION, TIME, CHANGE-CAUSE (the\n"
               "            manifest file or \"api\", and the spec's digest), STATUS\n"
               "  undo      go back to the last complete revision, or to revision N\n"
               "  pause     stop rolling: no new replica of the target revision starts and\n"
               "            no old one stops for it (scaling still works)\n"
               "  resume    go on rolling\n"
               "  restart   roll every replica again: a new revision of the same spec\n"
               "\n"
               "Options:\n"
               "      --to-revision N  undo: the revision to go back to\n"
               "  -o, --output json    history: print berthd's JSON\n"
               "  -h, --help           show this help\n"
               "\n"
               "Exit status: 0 ok, 1 the request failed or the rollout failed, 2 usage error,\n"
               "3 cannot reach berthd.\n");
}

static int print_history(struct json_object *a, const char *name) {
        static const char *const headers[] = { "REVISION", "TIME", "CHANGE-CAUSE", "STATUS", NULL };
        struct table *t = table_new(headers);
        if (!t)
                return EXIT_FAILED;
        for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
                struct json_object *h = json_object_array_get_idx(a, i);
                int64_t rev = 0;
                (void) json_get_int(h, "revision", &rev);
                bool current = json_object_get_boolean(json_object_object_get(h, "current"));
                (void) table_addf(t, NULL, "%" PRId64, rev);
                (void) table_add(t, json_get_str(h, "createdAt"), NULL);
                (void) table_addf(t, NULL, "%s %s", json_get_str(h, "changeCause") ?: "-", json_get_str(h, "digest") ?: "");
                const char *st = json_get_str(h, "status") ?: "-";
                (void) table_addf(t, streq(st, "complete") ? ANSI_GREEN : streq(st, "failed") || streq(st, "rolled-back") ? ANSI_RED : NULL,
                                  "%s%s", st, current ? " (current)" : "");
        }
        if (table_rows(t) == 0)
                printf("%s: no revisions\n", name);
        else
                table_print(t, stdout, output_use_color(STDOUT_FILENO));
        table_free(t);
        return EXIT_OK;
}

int cmd_rollout(const struct global_options *g, int argc, char **argv) {
        enum { ARG_TO = 0x100 };
        static const struct option options[] = {
                { "to-revision", required_argument, NULL, ARG_TO },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool json = false, have_to = false;
        int64_t to = 0;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) >= 0)
                switch (c) {
                case ARG_TO: {
                        char *end = NULL;
                        errno = 0;
                        long long v = strtoll(optarg, &end, 10);
                        if (errno || !end || *end || end == optarg || v < 1)
                                return usage_error("rollout", "--to-revision: \"%s\" is not a revision number", optarg);
                        to = v;
                        have_to = true;
                        break;
                }
                case 'o':
                        if (!streq(optarg, "json"))
                                return usage_error("rollout", "unknown output format \"%s\" (use json)", optarg);
                        json = true;
                        break;
                case 'h':
                        rollout_help();
                        return EXIT_OK;
                default:
                        return option_error("rollout", c, argv);
                }
        int r = check_operands("rollout", argc, argv, 2, 2, argc - optind < 1 ? "subcommand (status, history, undo, pause, resume, restart)" : "service name");
        if (r != EXIT_OK)
                return r;
        const char *sub = argv[optind], *name = argv[optind + 1];
        if (!*name)
                return usage_error("rollout", "the service name is empty");
        static const char *const subs[] = { "status", "history", "undo", "pause", "resume", "restart" };
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                known |= streq(sub, subs[i]);
        if (!known)
                return usage_error("rollout", "unknown subcommand \"%s\" (use status, history, undo, pause, resume or restart)", sub);
        if (have_to && !streq(sub, "undo"))
                return usage_error("rollout", "--to-revision goes with undo only");
        if (json && !streq(sub, "history"))
                return usage_error("rollout", "-o json goes with history only");

        if (streq(sub, "status"))
                return rollout_wait(g, (const char *const[]) { name }, 1);

        struct json_object *reply = NULL, *body = NULL;
        if (streq(sub, "history")) {
                r = client_service_call(g, "GET", name, "/revisions", NULL, &reply);
                if (r != EXIT_OK)
                        return r;
                if (json)
                        json_print_pretty(stdout, reply);
                else
                        r = print_history(reply, name);
                json_object_put(reply);
                return r;
        }

        char suffix[32];
        snprintf(suffix, sizeof suffix, "/rollout/%s", sub);
        if (have_to) {
                body = json_object_new_object();
                json_object_object_add(body, "toRevision", json_object_new_int64(to));
        }
        r = client_service_call(g, "POST", name, suffix, body, &reply);
        json_object_put(body);
        if (r != EXIT_OK)
                return r;
        int64_t rev = 0;
        if (streq(sub, "undo")) {
                (void) json_get_int(reply, "target", &rev);
                printf("%s: rolling back to revision %" PRId64 "\n", name, rev);
        } else if (streq(sub, "restart")) {
                (void) json_get_int(reply, "revision", &rev);
                printf("%s: restarting (revision %" PRId64 ")\n", name, rev);
        } else
                printf("%s: rollout %s\n", name, streq(sub, "pause") ? "paused" : "resumed");
        json_object_put(reply);
        return EXIT_OK;
}
