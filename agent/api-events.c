/* api-events.c: GET /v1/events: the event ring (events.h) as
 * newline-delimited JSON, optionally followed.
 *
 * A stream keeps no copy of the events: it holds a cursor (the seq of the
 * next event to send) and libmicrohttpd pulls from the ring through the
 * content reader whenever the socket can take more. So a client that does
 * not read costs one pending event at most; once it falls more than
 * EVENTS_KEEP events behind, the events it missed are gone and it is
 * dropped (the connection is closed; it may reconnect with ?since=).
 * With nothing to send a follow stream suspends its connection; a new event
 * or the 15 s heartbeat resumes it (through api.c's run defer source, since
 * a resume does not wake libmicrohttpd's epoll fd). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api-internal.h"
#include "events.h"
#include "log.h"
#include "manager.h"
#include "model-json.h"

struct api_stream {
        struct api_stream_base base;
        uint64_t cursor; /* seq of the next event to send */
        uint64_t end;    /* without follow: stop before this seq */
        char *pending;   /* the rest of an event that did not fit */
        size_t pending_len, pending_off;
};

static uint64_t first_kept(uint64_t next) {
        return next > EVENTS_KEEP ? next - EVENTS_KEEP : 1;
}

struct fill {
        struct api_stream *s;
        char *buf;
        size_t max, n;
        uint64_t limit;
        bool stop;
        bool oom;
};

static void fill_one(const struct json_object *event, void *userdata) {
        struct fill *f = userdata;
        struct json_object *seqo = NULL;
        size_t len = 0;

        if (f->stop)
                return;
        if (!json_object_object_get_ex(event, "seq", &seqo)) {
                f->stop = true;
                return;
        }
        uint64_t seq = (uint64_t) json_object_get_int64(seqo);
        if (seq < f->s->cursor)
                return;
        if (seq >= f->limit || f->n >= f->max) {
                f->stop = true;
                return;
        }
        /* json-c caches the text in the object; nothing else changes */
        const char *text = json_object_to_json_string_length((struct json_object *) event, BERTH_JSON_PLAIN, &len);
        if (!text) {
                f->oom = f->stop = true;
                return;
        }
        size_t room = f->max - f->n;
        if (len + 1 <= room) {
                memcpy(f->buf + f->n, text, len);
                f->buf[f->n + len] = '\n';
                f->n += len + 1;
        } else {
                /* what does not fit waits in pending for the next call */
                char *rest = malloc(len + 1 - room);
                if (!rest) {
                        f->oom = f->stop = true;
                        return;
                }
                memcpy(f->buf + f->n, text, room);
                size_t left = len - room;
                memcpy(rest, text + room, left);
                rest[left] = '\n';
                f->s->pending = rest;
                f->s->pending_len = left + 1;
                f->s->pending_off = 0;
                f->n += room;
                f->stop = true;
        }
        f->s->cursor = seq + 1;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        struct api_stream *s = cls;
        struct events *e = manager_events(s->base.api->m);
        size_t n = 0;

        if (s->base.closing || !e || max == 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;

        if (s->pending) {
                size_t k = MIN(max, s->pending_len - s->pending_off);
                memcpy(buf, s->pending + s->pending_off, k);
                s->pending_off += k;
                n = k;
                if (s->pending_off < s->pending_len)
                        return (ssize_t) n;
                free(s->pending);
                s->pending = NULL;
        }

        uint64_t next = events_next_seq(e);
        if (s->cursor < first_kept(next)) {
                /* the ring moved past what this client has read: it is too slow */
                log_debug("Control API: an event stream fell %" PRIu64 " events behind, dropping it.",
                          next - s->cursor);
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        uint64_t limit = s->base.follow ? next : MIN(s->end, next);
        if (s->cursor < limit && n < max) {
                struct fill f = { .s = s, .buf = buf, .max = max, .n = n, .limit = limit };
                events_replay(e, s->cursor, fill_one, &f);
                if (f.oom && f.n == 0)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                n = f.n;
        }
        if (n > 0) {
                s->base.heartbeat = false; /* data proves the connection as well */
                return (ssize_t) n;
        }
        if (!s->base.follow)
                return MHD_CONTENT_READER_END_OF_STREAM;
        /* nothing now: the heartbeat, or park until an event or the heartbeat */
        return api_stream_idle(&s->base, buf);
}

static void stream_free(void *cls) {
        struct api_stream *s = cls;

        api_stream_unlink(&s->base.api->streams, &s->base);
        free(s->pending);
        free(s);
}

enum MHD_Result api_events_reply(struct api_request *req, uint64_t since, bool follow) {
        struct api *a = req->api;
        struct events *e = manager_events(a->m);
        char next_seq[32];

        if (!e)
                return api_reply_error(req, 503, "Unavailable", NULL, "events are not available");

        struct api_stream *s = calloc(1, sizeof *s);
        if (!s)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        uint64_t next = events_next_seq(e);
        s->base.api = a;
        s->base.conn = req->conn;
        s->base.follow = follow;
        s->cursor = MAX(since, first_kept(next)); /* history before the ring is gone */
        s->end = next;

        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s,
                                                                      stream_free);
        if (!resp) {
                free(s);
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        }
        /* linked before anything can call stream_free */
        api_stream_link(&a->streams, &s->base);
        snprintf(next_seq, sizeof next_seq, "%" PRIu64, next);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        (void) MHD_add_response_header(resp, "X-Berth-Next-Seq", next_seq);
        return api_reply(req, 200, resp);
}

void api_events_on_event(const struct json_object *event, void *userdata) {
        struct api *a = userdata;
        bool any = false;

        /* called from inside events_emit(), maybe inside MHD_run(): only mark
         * here, resume from the defer source */
        for (struct api_stream_base *b = a->streams; b; b = b->next)
                if (b->suspended && !b->resume) {
                        b->resume = true;
                        any = true;
                }
        if (any)
                api_schedule_run(a);
}
