/* events.c: see events.h. A fixed ring of the last EVENTS_KEEP events and a
 * small list of subscribers; all on the event loop's thread. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "events.h"
#include "macro.h"
#include "util.h"

struct subscriber {
        uint64_t id;
        events_subscriber_fn fn;
        void *userdata;
};

struct events {
        struct json_object *ring[EVENTS_KEEP];
        uint64_t next_seq; /* seq of the next event; ring[seq % EVENTS_KEEP] */
        struct subscriber *subs;
        size_t n_subs;
        uint64_t next_sub_id;
        bool dispatching;
};

struct events *events_new(void) {
        struct events *e = calloc(1, sizeof *e);
        if (e) {
                e->next_seq = 1;
                e->next_sub_id = 1;
        }
        return e;
}

struct events *events_free(struct events *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < EVENTS_KEEP; i++)
                json_object_put(e->ring[i]);
        free(e->subs);
        free(e);
        return NULL;
}

uint64_t events_next_seq(const struct events *e) {
        return e->next_seq;
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char base[32];
        gmtime_r(&t, &tm);
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%06uZ", base, (unsigned) (usec % 1000000));
}

void events_emit(struct events *e, const char *type, const char *service, int replica, struct json_object *extra,
                 const char *fmt, ...) {
        if (!e) {
                json_object_put(extra);
                return;
        }
        char msg[1024], when[64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        format_time(now_realtime_usec(), when, sizeof when);

        struct json_object *o = json_object_new_object();
        if (!o) {
                json_object_put(extra);
                return;
        }
        json_object_object_add(o, "seq", json_object_new_int64((int64_t) e->next_seq));
        json_object_object_add(o, "time", json_object_new_string(when));
        json_object_object_add(o, "type", json_object_new_string(type));
        json_object_object_add(o, "service", service ? json_object_new_string(service) : NULL);
        json_object_object_add(o, "replica", replica >= 0 ? json_object_new_int(replica) : NULL);
        json_object_object_add(o, "message", json_object_new_string(msg));
        if (extra) {
                json_object_object_foreach(extra, k, v) json_object_object_add(o, k, json_object_get(v));
                json_object_put(extra);
        }

        size_t slot = (size_t) (e->next_seq % EVENTS_KEEP);
        json_object_put(e->ring[slot]);
        e->ring[slot] = o;
        e->next_seq++;

        /* a subscriber may unsubscribe (itself or others) while we call it */
        e->dispatching = true;
        for (size_t i = 0; i < e->n_subs; i++)
                if (e->subs[i].fn)
                        e->subs[i].fn(o, e->subs[i].userdata);
        e->dispatching = false;
        size_t k = 0;
        for (size_t i = 0; i < e->n_subs; i++)
                if (e->subs[i].fn)
                        e->subs[k++] = e->subs[i];
        e->n_subs = k;
}

void events_replay(const struct events *e, uint64_t since, events_subscriber_fn fn, void *userdata) {
        uint64_t first = e->next_seq > EVENTS_KEEP ? e->next_seq - EVENTS_KEEP : 1;
        if (since < first)
                since = first;
        for (uint64_t s = since; s < e->next_seq; s++)
                fn(e->ring[s % EVENTS_KEEP], userdata);
}

uint64_t events_subscribe(struct events *e, events_subscriber_fn fn, void *userdata) {
        struct subscriber *v = realloc(e->subs, (e->n_subs + 1) * sizeof *v);
        if (!v)
                return 0;
        e->subs = v;
        v[e->n_subs++] = (struct subscriber) { .id = e->next_sub_id, .fn = fn, .userdata = userdata };
        return e->next_sub_id++;
}

void events_unsubscribe(struct events *e, uint64_t id) {
        for (size_t i = 0; i < e->n_subs; i++)
                if (e->subs[i].id == id) {
                        if (e->dispatching)
                                e->subs[i].fn = NULL; /* compacted after the dispatch */
                        else {
                                memmove(e->subs + i, e->subs + i + 1, (e->n_subs - i - 1) * sizeof *e->subs);
                                e->n_subs--;
                        }
                        return;
                }
}
