/* api-logs.c: GET /v1/services/NAME/logs: the replicas' logs (lib/crilog.h)
 * as NDJSON (lib/logwire.h), merged in time order, optionally followed.
 *
 * The shim writes the files; berthd only reads them, never on the
 * writers' path. One reader per selected replica; libmicrohttpd pulls
 * through the content reader whenever the socket can take more, and each
 * call reads and encodes at most one buffer's worth (64 KiB), so a 1 GiB
 * log never stalls the loop and a client that does not read costs nothing
 * but its fds. The merge is a k-way merge: the line with the smallest time
 * among the replicas' next lines goes first (a partial piece of a long line
 * keeps its replica until the line ends).
 *
 * Follow: with nothing to send the connection is suspended; an inotify
 * watch on each replica's directory (one inotify instance shared by all
 * streams, on the sd-event loop, no polling) resumes it when a file is written, created or renamed there; the reader
 * then notices rotations and new runs itself (crilog.h). Lines that
 * arrive while following are sent as they come, merged among what is there
 * at that moment. A selected replica without a run file yet (just
 * deployed) is retried whenever its service's or its own directory changes;
 * replicas added after the request (a scale-up) are not picked up. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-internal.h"
#include "crilog.h"
#include "log.h"
#include "logwire.h"
#include "manager.h"
#include "replica.h"
#include "util.h"

#define LOGS_BLOCK (64 * 1024)
/* More replicas than this in one request: refused (fds). */
#define LOGS_REPLICAS_MAX 1024u

struct log_source {
        unsigned replica;
        struct crilog_reader *reader; /* NULL: follow, waiting for the replica's first run file */
        char *dir;                    /* while waiting */
        struct crilog_line line; /* the next line, when have */
        bool have;
        bool done;
        bool idle; /* follow: had nothing in this call of stream_read(), do not ask again */
        int wd;    /* the replica's directory */
        int pwd;   /* while waiting: the service's directory (the replica's may not exist yet) */
};

struct api_log_stream {
        struct api_stream_base base;
        struct log_source *src;
        size_t n_src;
        bool gone;   /* every followed directory was removed: end */
        int sticky;  /* the source whose long line is half sent, or -1 */
        /* for readers opened later (follow) */
        bool have_tail, have_since;
        uint64_t tail, since, until;
        char *pending; /* an encoded message that did not fit */
        size_t pending_len, pending_off, pending_cap;
};

/* ---- the stream ---------------------------------------------------------- */

static void unwatch(struct api *a, struct api_log_stream *s);

static int source_start(struct api_log_stream *s, struct log_source *src, struct crilog_reader *rd);

/* A replica followed before it wrote anything: is its first run there now? */
static void source_retry(struct api_log_stream *s, struct log_source *src) {
        struct crilog_options o = { .follow = true };
        struct crilog_reader *rd = NULL;
        int q = crilog_reader_open(src->dir, &o, &rd);
        if (q == -ENOENT)
                return; /* not yet */
        if (q >= 0)
                q = source_start(s, src, rd);
        if (q < 0) {
                log_debug_errno(q, "Control API: cannot follow the logs in %s: %m; ending that part.", src->dir);
                src->done = true;
        }
        free(src->dir);
        src->dir = NULL;
}

/* The next line of every source that has none; sources that fail end. */
static void peek_all(struct api_log_stream *s) {
        for (size_t i = 0; i < s->n_src; i++) {
                struct log_source *src = &s->src[i];
                if (src->have || src->done || src->idle)
                        continue;
                if (!src->reader) {
                        source_retry(s, src);
                        if (!src->reader) {
                                src->idle = true;
                                continue;
                        }
                }
                int q = crilog_reader_next(src->reader, &src->line);
                if (q > 0)
                        src->have = true;
                else if (q == 0 && s->base.follow && !crilog_reader_done(src->reader))
                        src->idle = true; /* at its end for now: one look per call is enough */
                else if (q < 0) {
                        log_debug_errno(q, "Control API: reading the logs of replica %u failed: %m; ending its part.",
                                        src->replica);
                        src->done = true;
                } else if (crilog_reader_done(src->reader))
                        src->done = true;
        }
}

static struct log_source *pick(struct api_log_stream *s) {
        if (s->sticky >= 0 && s->src[s->sticky].have)
                return &s->src[s->sticky];
        struct log_source *best = NULL;
        for (size_t i = 0; i < s->n_src; i++)
                if (s->src[i].have && (!best || s->src[i].line.time < best->line.time))
                        best = &s->src[i];
        return best;
}

static bool all_done(const struct api_log_stream *s) {
        for (size_t i = 0; i < s->n_src; i++)
                if (!s->src[i].done || s->src[i].have)
                        return false;
        return true;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        struct api_log_stream *s = cls;
        size_t n = 0;

        if (s->base.closing || max == 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        for (size_t i = 0; i < s->n_src; i++)
                s->src[i].idle = false;

        if (s->pending_off < s->pending_len) {
                size_t k = MIN(max, s->pending_len - s->pending_off);
                memcpy(buf, s->pending + s->pending_off, k);
                s->pending_off += k;
                n = k;
                if (s->pending_off < s->pending_len)
                        return (ssize_t) n;
        }

        while (n < max) {
                peek_all(s);
                struct log_source *src = pick(s);
                if (!src)
                        break;
                size_t room = max - n, need = LOGWIRE_MAX(src->line.len);
                if (need <= room)
                        n += logwire_encode(buf + n, src->replica, &src->line);
                else {
                        /* encode aside, send what fits, keep the rest */
                        if (need > s->pending_cap) {
                                char *p = realloc(s->pending, need);
                                if (!p)
                                        return n > 0 ? (ssize_t) n : MHD_CONTENT_READER_END_WITH_ERROR;
                                s->pending = p;
                                s->pending_cap = need;
                        }
                        s->pending_len = logwire_encode(s->pending, src->replica, &src->line);
                        size_t k = MIN(room, s->pending_len);
                        memcpy(buf + n, s->pending, k);
                        s->pending_off = k;
                        n += k;
                }
                src->have = false;
                s->sticky = src->line.partial ? (int) (src - s->src) : -1;
                if (s->pending_off < s->pending_len)
                        break;
        }
        if (n > 0) {
                s->base.heartbeat = false;
                return (ssize_t) n;
        }
        if (!s->base.follow || s->gone || all_done(s))
                return MHD_CONTENT_READER_END_OF_STREAM;
        return api_stream_idle(&s->base, buf);
}

static void stream_free(void *cls) {
        struct api_log_stream *s = cls;
        struct api *a = s->base.api;

        api_stream_unlink(&a->log_streams, &s->base);
        unwatch(a, s);
        for (size_t i = 0; i < s->n_src; i++) {
                crilog_reader_free(s->src[i].reader);
                free(s->src[i].dir);
        }
        free(s->src);
        free(s->pending);
        free(s);
}

/* Before the stream was handed to libmicrohttpd (not linked yet). */
static void stream_discard(struct api_log_stream *s) {
        unwatch(s->base.api, s);
        for (size_t i = 0; i < s->n_src; i++) {
                crilog_reader_free(s->src[i].reader);
                free(s->src[i].dir);
        }
        free(s->src);
        free(s);
}


/* One inotify instance for every follow stream (instances are a scarce
 * per-user resource: 128 by default); watching the same directory twice
 * gives the same watch descriptor, so a watch is removed when no stream
 * uses it any more. */
static int on_inotify(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        struct api *a = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k <= 0)
                        break;
                for (char *p = buf; p < buf + k;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        p += sizeof *ev + ev->len;
                        for (struct api_stream_base *b = a->log_streams; b; b = b->next) {
                                struct api_log_stream *s = container_of(b, struct api_log_stream, base);
                                bool mine = false, any = false;
                                for (size_t i = 0; i < s->n_src; i++) {
                                        struct log_source *src = &s->src[i];
                                        if (src->wd >= 0 && (src->wd == ev->wd || (ev->mask & IN_Q_OVERFLOW))) {
                                                mine = true;
                                                if (ev->mask & IN_IGNORED)
                                                        src->wd = -1; /* the directory is gone */
                                                /* a rotation: hold the new files now, before
                                                 * the writer deletes the oldest pieces */
                                                else if (src->reader &&
                                                         (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_Q_OVERFLOW)))
                                                        (void) crilog_reader_refresh(src->reader);
                                        }
                                        if (src->pwd >= 0 && (src->pwd == ev->wd || (ev->mask & IN_Q_OVERFLOW))) {
                                                mine = true;
                                                if (ev->mask & IN_IGNORED)
                                                        src->pwd = -1;
                                        }
                                        any = any || src->wd >= 0 || src->pwd >= 0;
                                }
                                if (!mine)
                                        continue;
                                if (!any)
                                        s->gone = true; /* every directory is gone: end */
                                (void) api_stream_wake(&s->base);
                        }
                }
        }
        return 0;
}

static int inotify_get(struct api *a) {
        if (a->logs_inotify_fd >= 0)
                return a->logs_inotify_fd;
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = sd_event_add_io(a->event, &a->logs_inotify_source, fd, EPOLLIN, on_inotify, a);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        (void) sd_event_source_set_description(a->logs_inotify_source, "api-logs-inotify");
        /* before the streams' own work: a rotation must be seen (and its
         * files held, crilog_reader_refresh) before the writer deletes them */
        (void) sd_event_source_set_priority(a->logs_inotify_source, SD_EVENT_PRIORITY_IMPORTANT);
        a->logs_inotify_fd = fd;
        return fd;
}

static bool wd_used_elsewhere(struct api *a, const struct api_log_stream *self, int wd) {
        for (struct api_stream_base *b = a->log_streams; b; b = b->next) {
                const struct api_log_stream *s = container_of(b, struct api_log_stream, base);
                if (s == self)
                        continue;
                for (size_t i = 0; i < s->n_src; i++)
                        if (s->src[i].wd == wd || s->src[i].pwd == wd)
                                return true;
        }
        return false;
}

static bool wd_used(const struct api_log_stream *s, int wd, size_t from) {
        for (size_t i = from; i < s->n_src; i++)
                if (s->src[i].wd == wd || s->src[i].pwd == wd)
                        return true;
        return false;
}

static void unwatch_one(struct api *a, struct api_log_stream *s, int *wdp, size_t i) {
        int wd = *wdp;
        if (wd < 0)
                return;
        *wdp = -1;
        if (!wd_used(s, wd, i) && !wd_used_elsewhere(a, s, wd) && a->logs_inotify_fd >= 0)
                (void) inotify_rm_watch(a->logs_inotify_fd, wd);
}

static void unwatch(struct api *a, struct api_log_stream *s) {
        for (size_t i = 0; i < s->n_src; i++) {
                unwatch_one(a, s, &s->src[i].wd, i);
                unwatch_one(a, s, &s->src[i].pwd, i);
        }
}

void api_logs_done(struct api *a) {
        a->logs_inotify_source = sd_event_source_disable_unref(a->logs_inotify_source);
        a->logs_inotify_fd = safe_close(a->logs_inotify_fd);
}

/* ---- the request --------------------------------------------------------- */

#define WATCH_MASK (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)

static int add_watch(struct api *a, const char *dir, int *ret_wd) {
        int fd = inotify_get(a);
        if (fd < 0)
                return fd;
        int wd = inotify_add_watch(fd, dir, WATCH_MASK);
        if (wd < 0)
                return -errno;
        *ret_wd = wd;
        return 0;
}

/* Positions a new reader of src as the request asked, and watches its
 * directory when following. */
static int source_start(struct api_log_stream *s, struct log_source *src, struct crilog_reader *rd) {
        int q;
        src->reader = rd;
        if (s->have_tail && (q = crilog_reader_seek_tail(rd, s->tail)) < 0)
                return q;
        if (s->have_since && (q = crilog_reader_seek_since(rd, s->since)) < 0)
                return q;
        crilog_reader_set_bounds(rd, s->have_since ? s->since : 0, s->until);
        if (s->base.follow && src->wd < 0) {
                if (!src->dir)
                        return 0; /* the caller watches it */
                q = add_watch(s->base.api, src->dir, &src->wd);
                if (q < 0)
                        return q;
        }
        return 0;
}

struct logs_query {
        unsigned replicas[64];
        size_t n_replicas;
        bool follow, previous, have_tail, have_since, have_until;
        uint64_t tail, since, until;
        char bad[256];
};

struct query_ctx {
        struct logs_query *q;
        uint64_t now;
};

static int parse_bool(const char *v, bool *ret) {
        return api_parse_bool(v ? v : "", ret);
}

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        struct query_ctx *c = cls;
        struct logs_query *q = c->q;
        const char *v = value ? value : "";

        if (!key || q->bad[0])
                return MHD_NO;
        if (streq(key, "replica")) {
                /* "replica=0&replica=2" or "replica=0,2" */
                _cleanup_free_ char *copy = strdup(v);
                if (!copy) {
                        snprintf(q->bad, sizeof q->bad, "out of memory");
                        return MHD_NO;
                }
                char *save = NULL;
                bool any = false;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        uint64_t n;
                        any = true;
                        if (api_parse_u64(t, &n) < 0 || n >= 100000) {
                                snprintf(q->bad, sizeof q->bad, "?replica=%.64s: use a replica index (0, 1, ...)", v);
                                return MHD_NO;
                        }
                        bool dup = false;
                        for (size_t i = 0; i < q->n_replicas; i++)
                                dup = dup || q->replicas[i] == n;
                        if (dup)
                                continue;
                        if (q->n_replicas == ELEMENTSOF(q->replicas)) {
                                snprintf(q->bad, sizeof q->bad, "?replica: at most %zu replicas; leave it out for all",
                                         ELEMENTSOF(q->replicas));
                                return MHD_NO;
                        }
                        q->replicas[q->n_replicas++] = (unsigned) n;
                }
                if (!any)
                        snprintf(q->bad, sizeof q->bad, "?replica= needs a replica index (0, 1, ...)");
        } else if (streq(key, "follow") || streq(key, "previous")) {
                if (parse_bool(value, streq(key, "follow") ? &q->follow : &q->previous) < 0)
                        snprintf(q->bad, sizeof q->bad, "?%s=%.64s: use 1/true or 0/false", key, v);
        } else if (streq(key, "tail")) {
                if (api_parse_u64(v, &q->tail) < 0)
                        snprintf(q->bad, sizeof q->bad, "?tail=%.64s: use a number of lines (0 or more)", v);
                q->have_tail = true;
        } else if (streq(key, "since") || streq(key, "until")) {
                bool since = streq(key, "since");
                if (cri_parse_user_time(v, c->now, since ? &q->since : &q->until) < 0)
                        snprintf(q->bad, sizeof q->bad,
                                 "?%s=%.64s: use an RFC 3339 time (2026-11-27T03:52:23Z) or a duration before now (10m, 1h30m)",
                                 key, v);
                if (since)
                        q->have_since = true;
                else
                        q->have_until = true;
        }
        return q->bad[0] ? MHD_NO : MHD_YES;
}

static bool is_current(const struct service_state *svc, unsigned idx) {
        for (size_t i = 0; i < svc->n_replicas; i++)
                if (replica_index(svc->replicas[i]) == idx)
                        return true;
        return false;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

/* Without ?replica: the replicas the service has now; when it has none
 * (stopped), every replica that left logs. */
static int default_replicas(struct service_state *svc, const char *svc_dir, unsigned **ret, size_t *ret_n) {
        _cleanup_free_ unsigned *v = NULL;
        size_t n = 0, cap = 0;

        for (size_t i = 0; i < svc->n_replicas; i++) {
                if (n == cap) {
                        cap = MAX(cap * 2, (size_t) 8);
                        unsigned *q = realloc(v, cap * sizeof *q);
                        if (!q)
                                return -ENOMEM;
                        v = q;
                }
                v[n++] = replica_index(svc->replicas[i]);
        }
        if (n == 0) {
                DIR *d = opendir(svc_dir);
                size_t plen = strlen(svc->name);
                for (struct dirent *de; d && (de = readdir(d));) {
                        uint64_t idx;
                        if (strncmp(de->d_name, svc->name, plen) != 0 || de->d_name[plen] != '-' ||
                            api_parse_u64(de->d_name + plen + 1, &idx) < 0 || idx >= 100000)
                                continue;
                        if (n == LOGS_REPLICAS_MAX)
                                break;
                        if (n == cap) {
                                cap = MAX(cap * 2, (size_t) 8);
                                unsigned *q = realloc(v, cap * sizeof *q);
                                if (!q) {
                                        closedir(d);
                                        return -ENOMEM;
                                }
                                v = q;
                        }
                        v[n++] = (unsigned) idx;
                }
                if (d)
                        closedir(d);
        }
        if (n > 1)
                qsort(v, n, sizeof *v, cmp_unsigned);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

enum MHD_Result api_logs_reply(struct api_request *req) {
        struct api *a = req->api;
        struct manager *m = a->m;
        struct logs_query q = {};
        struct query_ctx qc = { .q = &q, .now = now_realtime_usec() * 1000 };
        _cleanup_free_ unsigned *idx = NULL;
        _cleanup_free_ char *svc_dir = NULL;
        size_t n_idx = 0;
        int r;

        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_one, &qc);
        if (q.bad[0])
                return api_reply_error(req, 400, "BadRequest", NULL, "%s", q.bad);
        if (q.follow && q.previous)
                return api_reply_error(req, 400, "BadRequest", NULL,
                                       "?follow and ?previous cannot be combined: the previous run has ended");

        struct service_state *svc = manager_find_service(m, req->name);
        if (!svc)
                return api_reply_error(req, 404, "NotFound", NULL, "service \"%s\" not found", req->name);
        if (asprintf(&svc_dir, "%s/%s", m->logs_dir, svc->name) < 0)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");

        if (q.n_replicas > 0) {
                idx = malloc(q.n_replicas * sizeof *idx);
                if (!idx)
                        return api_reply_error(req, 500, "Internal", NULL, "out of memory");
                memcpy(idx, q.replicas, q.n_replicas * sizeof *idx);
                n_idx = q.n_replicas;
        } else if (default_replicas(svc, svc_dir, &idx, &n_idx) < 0)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        if (n_idx > LOGS_REPLICAS_MAX)
                return api_reply_error(req, 400, "BadRequest", NULL,
                                       "service %s has %zu replicas, more than %u can be read at once: choose some with ?replica=",
                                       svc->name, n_idx, LOGS_REPLICAS_MAX);

        struct api_log_stream *s = calloc(1, sizeof *s);
        if (!s)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        s->base.api = a;
        s->base.conn = req->conn;
        s->base.follow = q.follow;
        s->sticky = -1;
        s->src = calloc(MAX(n_idx, (size_t) 1), sizeof *s->src);
        if (!s->src) {
                free(s);
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        }
        s->have_tail = q.have_tail;
        s->tail = q.tail;
        s->have_since = q.have_since;
        s->since = q.since;
        s->until = q.have_until ? q.until : UINT64_MAX;

        for (size_t i = 0; i < n_idx; i++) {
                _cleanup_free_ char *dir = NULL;
                struct crilog_options o = { .previous = q.previous, .follow = q.follow };
                struct crilog_reader *rd = NULL;
                if (asprintf(&dir, "%s/%s-%u", svc_dir, svc->name, idx[i]) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = crilog_reader_open(dir, &o, &rd);
                struct stat st;
                bool have_dir = r != -ENOENT || stat(dir, &st) == 0;
                if (r == -ENOENT && q.follow && (is_current(svc, idx[i]) || have_dir)) {
                        /* a replica that has written nothing yet: wait for its first run */
                        struct log_source *src = &s->src[s->n_src++];
                        src->replica = idx[i];
                        src->wd = src->pwd = -1;
                        src->dir = TAKE_PTR(dir);
                        (void) mkdir_p(svc_dir, 0750); /* as replica.c makes it: so it can be watched */
                        if ((r = add_watch(a, svc_dir, &src->pwd)) < 0)
                                goto fail;
                        if (have_dir && (r = add_watch(a, src->dir, &src->wd)) < 0)
                                goto fail;
                        continue;
                }
                if (r == -ENOENT) {
                        /* no logs (yet), or no previous run */
                        if (q.n_replicas == 0)
                                continue;
                        stream_discard(s);
                        if (q.previous && have_dir)
                                return api_reply_error(req, 404, "NotFound", NULL,
                                                       "replica %s-%u has no previous run (it has not restarted)",
                                                       svc->name, idx[i]);
                        return api_reply_error(req, 404, "NotFound", NULL, "replica %s-%u has no logs (see berthctl ps %s)",
                                               svc->name, idx[i], svc->name);
                }
                if (r < 0)
                        goto fail;
                struct log_source *src = &s->src[s->n_src++];
                src->replica = idx[i];
                src->wd = src->pwd = -1;
                if ((r = source_start(s, src, rd)) < 0)
                        goto fail;
                if (q.follow && (r = add_watch(a, dir, &src->wd)) < 0)
                        goto fail;
        }
        if (q.follow && s->n_src == 0) {
                /* nothing to follow: say so rather than wait forever */
                s->base.follow = false;
        }

        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LOGS_BLOCK, stream_read, s,
                                                                      stream_free);
        if (!resp) {
                r = -ENOMEM;
                goto fail;
        }
        api_stream_link(&a->log_streams, &s->base);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        return api_reply(req, 200, resp);
fail:
        stream_discard(s);
        if (r == -EMFILE || r == -ENFILE)
                return api_reply_error(req, 503, "Unavailable", NULL, "cannot read the logs of %s: %s; try again later",
                                       req->name, strerror(-r));
        return api_reply_error(req, 500, "Internal", NULL, "cannot read the logs of %s: %s", req->name, strerror(-r));
}
