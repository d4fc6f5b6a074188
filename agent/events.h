/* events.h: berthd's event stream: what happened, in order, as JSON objects.
 *
 * Every event gets a sequence number and a time; the last EVENTS_KEEP are
 * kept in memory (a ring) so a client can read recent history and then
 * follow (the control API's GET /v1/events?follow=1). Subscribers are called
 * synchronously from the event loop for each new event; they must not block
 * (the API queues the bytes and resumes its connection).
 *
 * Event object (newline-delimited JSON on the wire):
 *   {"seq":12,"time":"2026-11-26T19:00:00.123456Z","type":"ReplicaExited",
 *    "service":"web","replica":1,"message":"exited with status 1", ...extra}
 * Types: ServiceCreated ServiceUpdated ServiceScaled ServiceDeleted
 *   ServiceStopped ServiceStarted ServiceRestarted RolloutStarted
 *   RolloutProgress RolloutComplete RolloutFailed RolloutRolledBack
 *   RolloutPaused RolloutResumed ReplicaStarted
 *   ReplicaExited ReplicaBackoff ReplicaStopping ReplicaRemoved ReplicaOOMKilled
 *   ReplicaExecFailed ReplicaReady ReplicaNotReady ProbeFailed ManifestInvalid Request (audit: uid, pid, method, path,
 *   status) AgentStarted AgentStopping. */
#pragma once

#include <stdint.h>

#include <json-c/json.h>

#define EVENTS_KEEP 1000

struct events;

typedef void (*events_subscriber_fn)(const struct json_object *event, void *userdata);

struct events *events_new(void);
struct events *events_free(struct events *e);

/* Records an event. extra (may be NULL) is merged into the event and
 * consumed. service may be NULL; replica < 0 means "not about a replica". */
void events_emit(struct events *e, const char *type, const char *service, int replica, struct json_object *extra,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The sequence number the next event will get. */
uint64_t events_next_seq(const struct events *e);
/* Calls fn for every kept event with seq >= since, oldest first. */
void events_replay(const struct events *e, uint64_t since, events_subscriber_fn fn, void *userdata);

/* Subscribers: returns an id for events_unsubscribe(). */
uint64_t events_subscribe(struct events *e, events_subscriber_fn fn, void *userdata);
void events_unsubscribe(struct events *e, uint64_t id);
