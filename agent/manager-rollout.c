/* manager-rollout.c: the reconciler's per-service pass and what rollouts
 * keep around it: the revision history, the rollout's status, automatic
 * rollback, undo/pause/resume for the control API.
 *
 * The decision itself is rollout_plan() (rollout.c, pure); this file feeds
 * it the replicas as they are, executes the plan (replica_new/start/stop),
 * arms one timer per service for the moment time alone changes the plan
 * (minReadySeconds, progressDeadline) and acts on the rollout's status:
 *  - complete: the revision is the last fully available one (the rollback
 *    target), the one before is superseded;
 *  - failed: with rollbackOnFailure (and unless this rollout is itself a
 *    rollback or an undo), the service goes back to the last complete
 *    revision: its spec (with the current replica count) becomes the desired
 *    state again under its own revision number, so its replicas still
 *    running are not touched. A service from the manifests directory
 *    remembers the failed spec's digest (held_digest): the file still says
 *    it, and it is not rolled again until the file's spec changes.
 * Everything is saved with the desired state (state.c) on every change of
 * status, so a berthd killed in the middle resumes the rollout on return. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "manager-internal.h"
#include "model-json.h"
#include "replica.h"
#include "rollout.h"
#include "state.h"
#include "util.h"

static const char *const revision_status_names[_REVISION_STATUS_MAX] = {
        [REVISION_PROGRESSING] = "progressing",
        [REVISION_COMPLETE] = "complete",
        [REVISION_FAILED] = "failed",
        [REVISION_ROLLED_BACK] = "rolled-back",
        [REVISION_SUPERSEDED] = "superseded",
};

const char *revision_status_to_string(enum revision_status s) {
        return (unsigned) s < _REVISION_STATUS_MAX ? revision_status_names[s] : "unknown";
}

int revision_status_from_string(const char *s) {
        for (int i = 0; i < _REVISION_STATUS_MAX; i++)
                if (s && streq(s, revision_status_names[i]))
                        return i;
        return -EINVAL;
}

void service_spec_digest(const struct service *svc, char ret[static 17]) {
        struct service_spec *spec = (struct service_spec *) &svc->spec;
        int64_t saved = spec->replicas;
        spec->replicas = 0; /* scaling is not a new spec */
        struct json_object *o = service_to_json(svc);
        spec->replicas = saved;
        const char *text = o ? json_object_to_json_string_ext(o, BERTH_JSON_PLAIN) : "";
        uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a: an identity, not a security boundary */
        for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
                h ^= *p;
                h *= UINT64_C(0x100000001b3);
        }
        json_object_put(o);
        snprintf(ret, 17, "%016llx", (unsigned long long) h);
}

/* ---- history ----------------------------------------------------------- */

struct revision *service_history_find(struct service_state *s, uint64_t revision) {
        for (size_t i = 0; i < s->n_history; i++)
                if (s->history[i].revision == revision)
                        return &s->history[i];
        return NULL;
}

static void revision_done(struct revision *r) {
        service_free(r->spec);
        free(r->cause);
}

void service_history_free(struct service_state *s) {
        for (size_t i = 0; i < s->n_history; i++)
                revision_done(&s->history[i]);
        free(s->history);
        s->history = NULL;
        s->n_history = 0;
}

/* Keeps revisionHistoryLimit entries besides the current one, never the
 * current target or the last complete revision (the rollback target). */
static void history_prune(struct service_state *s) {
        size_t limit = s->desired ? (size_t) s->desired->spec.revision_history_limit : 10;
        while (s->n_history > limit + 1) {
                size_t victim = SIZE_MAX;
                for (size_t i = 0; i < s->n_history && victim == SIZE_MAX; i++)
                        if (s->history[i].revision != s->ro.target && s->history[i].revision != s->last_complete)
                                victim = i;
                if (victim == SIZE_MAX)
                        return;
                revision_done(&s->history[victim]);
                memmove(s->history + victim, s->history + victim + 1,
                        (s->n_history - victim - 1) * sizeof *s->history);
                s->n_history--;
        }
}

int service_history_add(struct service_state *s, uint64_t revision, const struct service *spec, const char *cause) {
        struct service *copy = service_copy(spec);
        char *c = strdup(cause ?: "api");
        struct revision *v = realloc(s->history, (s->n_history + 1) * sizeof *v);
        if (v)
                s->history = v;
        if (!copy || !c || !v) {
                service_free(copy);
                free(c);
                return -ENOMEM;
        }
        struct revision *r = &v[s->n_history++];
        *r = (struct revision) { .revision = revision, .spec = copy, .created_at = now_realtime_usec(), .cause = c,
                                 .status = REVISION_PROGRESSING };
        service_spec_digest(spec, r->digest);
        history_prune(s);
        return 0;
}

/* ---- rollout status ---------------------------------------------------- */

static struct json_object *rollout_extra(struct service_state *s) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "revision", json_object_new_int64((int64_t) s->ro.target));
        json_object_object_add(o, "state", json_object_new_string(rollout_status_to_string(s->ro.status)));
        json_object_object_add(o, "updated", json_object_new_int64(s->ro_counts.updated));
        json_object_object_add(o, "available", json_object_new_int64(s->ro_counts.available));
        json_object_object_add(o, "desired",
                               json_object_new_int64(s->desired && !s->stopped ? s->desired->spec.replicas : 0));
        return o;
}

static void rollout_emit(struct manager *m, struct service_state *s, const char *type, const char *fmt, ...)
        _printf_(4, 5);
static void rollout_emit(struct manager *m, struct service_state *s, const char *type, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        events_emit(m->events, type, s->name, -1, rollout_extra(s), "%s", msg);
}

/* A rollout starts from here: progressing, no failure, its clocks now. */
static void rollout_start(struct service_state *s, bool is_rollback) {
        s->ro.status = ROLLOUT_PROGRESSING;
        s->ro.failure = ROLLOUT_FAILURE_NONE;
        s->ro.progress_at = now_monotonic_usec();
        s->ro.best_available = 0;
        s->ro_rollback = is_rollback;
        s->ro_rolled_back_from = 0;
        s->ro_rollback_cause[0] = 0;
        s->ro_started_at = now_realtime_usec();
        s->ro_last_available = 0;
}

void manager_rollout_begin(struct manager *m, struct service_state *s, const char *cause) {
        struct revision *prev = service_history_find(s, s->ro.target);
        if (prev && s->ro.target != s->last_complete && prev->status == REVISION_PROGRESSING)
                prev->status = REVISION_SUPERSEDED;
        s->ro.stable = s->last_complete ?: s->ro.target;
        s->ro.target = s->revision; /* before adding: pruning keeps the target */
        if (service_history_add(s, s->revision, s->desired, cause) < 0)
                log_error("Out of memory recording revision %llu of %s.", (unsigned long long) s->revision, s->name);
        rollout_start(s, false);
        rollout_emit(m, s, "RolloutStarted", "rollout to revision %llu started (%s)%s",
                     (unsigned long long) s->revision, cause, s->ro.paused ? ", paused" : "");
}

/* Back to an earlier revision under its own number: its replicas still
 * running are up to date at once. */
static int rollout_go_back(struct manager *m, struct service_state *s, uint64_t to, bool is_rollback) {
        struct revision *h = service_history_find(s, to);
        if (!h || !s->desired)
                return -ENOENT;
        struct service *copy = service_copy(h->spec);
        if (!copy)
                return -ENOMEM;
        copy->spec.replicas = s->desired->spec.replicas; /* scaling is not part of a revision */
        service_free(s->desired);
        s->desired = copy;
        s->ro.stable = s->ro.target;
        s->revision = to;
        s->ro.target = to;
        rollout_start(s, is_rollback);
        h->status = REVISION_PROGRESSING;
        return 0;
}

static void rollout_failed(struct manager *m, struct service_state *s) {
        struct revision *h = service_history_find(s, s->ro.target);
        uint64_t failed = s->ro.target;
        bool back = s->desired->spec.rollback_on_failure && !s->ro_rollback && s->last_complete != 0 &&
                    s->last_complete != failed && service_history_find(s, s->last_complete);
        log_warning("Service %s: rollout to revision %llu failed: %s.", s->name, (unsigned long long) failed,
                    s->ro_message);
        struct json_object *extra = rollout_extra(s);
        if (back)
                json_object_object_add(extra, "rollbackTo", json_object_new_int64((int64_t) s->last_complete));
        events_emit(m->events, "RolloutFailed", s->name, -1, extra, "%s%s", s->ro_message,
                    back ? "; rolling back" : "");
        if (h)
                h->status = REVISION_FAILED;
        if (!back)
                return;
        if (from_manifests_dir(m, s) && h) {
                free(s->held_digest);
                s->held_digest = strdup(h->digest);
        }
        char cause[sizeof s->ro_message];
        snprintf(cause, sizeof cause, "%s", s->ro_message);
        if (rollout_go_back(m, s, s->last_complete, true) < 0) {
                log_error("Service %s: cannot roll back to revision %llu (out of memory).", s->name,
                          (unsigned long long) s->last_complete);
                return;
        }
        if (h)
                h->status = REVISION_ROLLED_BACK;
        /* what `rollout status` says of this rollback, even once it is complete */
        s->ro_rolled_back_from = failed;
        snprintf(s->ro_rollback_cause, sizeof s->ro_rollback_cause, "%s", cause);
        log_warning("Service %s: rolling back from revision %llu to %llu.", s->name, (unsigned long long) failed,
                    (unsigned long long) s->revision);
        rollout_emit(m, s, "RolloutRolledBack", "revision %llu failed: rolling back to revision %llu",
                     (unsigned long long) failed, (unsigned long long) s->revision);
        manager_schedule_reconcile(m);
}

static void rollout_complete(struct manager *m, struct service_state *s) {
        struct revision *h = service_history_find(s, s->ro.target);
        if (s->last_complete && s->last_complete != s->ro.target) {
                struct revision *old = service_history_find(s, s->last_complete);
                if (old)
                        old->status = REVISION_SUPERSEDED;
        }
        if (h)
                h->status = REVISION_COMPLETE;
        s->last_complete = s->ro.target;
        log_info("Service %s: rollout to revision %llu complete.", s->name, (unsigned long long) s->ro.target);
        rollout_emit(m, s, "RolloutComplete", "%s", s->ro_message);
}

static int on_rollout_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        struct service_state *s = userdata;
        manager_schedule_reconcile(s->m);
        return 0;
}

static void rollout_arm(struct manager *m, struct service_state *s, uint64_t at) {
        if (at == 0) {
                if (s->ro_timer)
                        (void) sd_event_source_set_enabled(s->ro_timer, SD_EVENT_OFF);
                return;
        }
        at += 1000; /* just past it: the plan compares with >= */
        if (!s->ro_timer) {
                if (sd_event_add_time(m->event, &s->ro_timer, CLOCK_MONOTONIC, at, 1000, on_rollout_timer, s) < 0)
                        log_warning("Service %s: cannot arm the rollout timer; the rollout waits for the next event.",
                                    s->name);
                return;
        }
        (void) sd_event_source_set_time(s->ro_timer, at);
        (void) sd_event_source_set_enabled(s->ro_timer, SD_EVENT_ONESHOT);
}

/* ---- the reconciler's per-service pass ---------------------------------- */

struct replica *service_find_replica(struct service_state *s, unsigned index) {
        for (size_t i = 0; i < s->n_replicas; i++)
                if (replica_index(s->replicas[i]) == index)
                        return s->replicas[i];
        return NULL;
}

static const struct service *spec_of(struct service_state *s, uint64_t revision) {
        if (revision == s->revision && s->desired)
                return s->desired;
        struct revision *h = service_history_find(s, revision);
        return h ? h->spec : NULL;
}

/* Without a readiness or startup probe, "ready" only means "running": a
 * command that exits at once is running for a moment. Such a replica must
 * have run this long to count as available (at least minReadySeconds). */
#define SETTLE_WITHOUT_PROBES_US (UINT64_C(1000000))

static uint64_t min_ready_us(const struct service_spec *spec) {
        uint64_t us = (uint64_t) spec->min_ready_seconds * 1000000;
        if (!spec->readiness_probe.set && !spec->startup_probe.set)
                us = MAX(us, SETTLE_WITHOUT_PROBES_US);
        return us;
}

void reconcile_service(struct manager *m, struct service_state *s) {
        bool active = s->desired && !m->exiting && !s->stopped;
        unsigned want = active ? (unsigned) s->desired->spec.replicas : 0;
        const struct service_spec *spec = s->desired ? &s->desired->spec : NULL;

        _cleanup_free_ struct rollout_replica *v = calloc(s->n_replicas + 1, sizeof *v);
        if (!v) {
                log_error("Out of memory reconciling %s.", s->name);
                return;
        }
        for (size_t i = 0; i < s->n_replicas; i++) {
                struct replica *r = s->replicas[i];
                const struct sup_record *rec = replica_record(r);
                v[i] = (struct rollout_replica) {
                        .index = replica_index(r),
                        .revision = replica_revision(r),
                        .state = replica_stop_requested(r)          ? ROLLOUT_REPLICA_STOPPING
                                 : rec->state == REPLICA_RUNNING ? ROLLOUT_REPLICA_RUNNING
                                                                 : ROLLOUT_REPLICA_STARTING,
                        .ready = replica_ready(r),
                        .ready_since = replica_ready_since(r),
                        .streak = rec->streak,
                        .failed = rec->state == REPLICA_FAILED,
                        .readiness_failed = replica_readiness_failed(r),
                };
        }
        struct rollout_input in = {
                .replicas = want,
                .strategy = spec ? spec->strategy.type : STRATEGY_ROLLING_UPDATE,
                .max_surge = spec ? spec->strategy.rolling_update.max_surge : (struct int_or_percent) { .value = 1 },
                .max_unavailable = spec ? spec->strategy.rolling_update.max_unavailable
                                        : (struct int_or_percent) { .value = 1 },
                .min_ready_us = spec ? min_ready_us(spec) : 0,
                .deadline_us = spec ? spec->progress_deadline * 1000 : 0,
                .now = now_monotonic_usec(),
                .v = v,
                .n = s->n_replicas,
        };
        /* a stopped, removed or exiting service has no rollout to judge */
        struct rollout_state scratch = s->ro, *st = active ? &s->ro : &scratch;
        enum rollout_status before = st->status;
        struct rollout_plan p;
        if (rollout_plan(&in, st, &p) < 0) {
                log_error("Out of memory planning %s.", s->name);
                return;
        }

        for (size_t i = 0; i < p.n_stop; i++) {
                struct replica *r = service_find_replica(s, p.stop[i]);
                if (!r || replica_stop_requested(r))
                        continue;
                if (active && replica_revision(r) != s->revision)
                        log_info("Replica %s: stopping revision %llu (rolling to %llu).", replica_id(r),
                                 (unsigned long long) replica_revision(r), (unsigned long long) s->revision);
                replica_stop(r); /* may free r at once */
        }
        for (size_t i = 0; i < p.n_start; i++) {
                const struct service *svc = spec_of(s, p.start[i].revision);
                uint64_t rev = p.start[i].revision;
                if (!svc) {
                        svc = s->desired;
                        rev = s->revision;
                }
                if (!svc)
                        break;
                struct replica **nv = realloc(s->replicas, (s->n_replicas + 1) * sizeof *nv);
                if (!nv) {
                        log_error("Out of memory creating replica %s-%u.", s->name, p.start[i].index);
                        break;
                }
                s->replicas = nv;
                struct replica *r = NULL;
                if (replica_new(s, p.start[i].index, svc, rev, &r) < 0)
                        break; /* logged */
                nv[s->n_replicas++] = r;
                replica_start(r);
        }

        if (active) {
                s->ro_counts = (struct rollout_plan_counts) { .updated = p.updated, .ready = p.ready,
                                                              .available = p.available, .total = p.total,
                                                              .old = p.old };
                snprintf(s->ro_message, sizeof s->ro_message, "%s", p.message);
                rollout_arm(m, s, p.wake_at);
                if (st->status != before) {
                        if (st->status == ROLLOUT_COMPLETE)
                                rollout_complete(m, s);
                        else if (st->status == ROLLOUT_FAILED)
                                rollout_failed(m, s);
                        save_or_warn(m, s);
                } else if ((st->status == ROLLOUT_PROGRESSING || st->status == ROLLOUT_PAUSED) &&
                           p.available != s->ro_last_available)
                        rollout_emit(m, s, "RolloutProgress", "%s", p.message);
                s->ro_last_available = p.available;
        } else
                rollout_arm(m, s, 0);
        rollout_plan_done(&p);
}

/* ---- the control API --------------------------------------------------- */

struct json_object *manager_rollout_json(struct manager *m, struct service_state *s) {
        struct json_object *o = json_object_new_object();
        char when[64];
        json_object_object_add(o, "revision", json_object_new_int64((int64_t) s->revision));
        json_object_object_add(o, "target", json_object_new_int64((int64_t) s->ro.target));
        json_object_object_add(o, "lastComplete", json_object_new_int64((int64_t) s->last_complete));
        json_object_object_add(o, "state", json_object_new_string(rollout_status_to_string(s->ro.status)));
        json_object_object_add(o, "reason", s->ro.failure ? json_object_new_string(rollout_failure_to_string(s->ro.failure))
                                                          : NULL);
        json_object_object_add(o, "paused", json_object_new_boolean(s->ro.paused));
        json_object_object_add(o, "stopped", json_object_new_boolean(s->stopped));
        json_object_object_add(o, "rollback", json_object_new_boolean(s->ro_rollback));
        json_object_object_add(o, "rolledBackFrom", s->ro_rolled_back_from
                                                            ? json_object_new_int64((int64_t) s->ro_rolled_back_from)
                                                            : NULL);
        json_object_object_add(o, "rollbackCause", s->ro_rolled_back_from
                                                           ? json_object_new_string(s->ro_rollback_cause)
                                                           : NULL);
        json_object_object_add(o, "startedAt", s->ro_started_at ? json_object_new_string(format_rfc3339(
                                                                          s->ro_started_at, when, sizeof when))
                                                                : NULL);
        json_object_object_add(o, "replicas",
                               json_object_new_int64(s->desired && !s->stopped ? s->desired->spec.replicas : 0));
        json_object_object_add(o, "updated", json_object_new_int64(s->ro_counts.updated));
        json_object_object_add(o, "ready", json_object_new_int64(s->ro_counts.ready));
        json_object_object_add(o, "available", json_object_new_int64(s->ro_counts.available));
        json_object_object_add(o, "old", json_object_new_int64(s->ro_counts.old));
        json_object_object_add(o, "message", json_object_new_string(s->ro_message));
        json_object_object_add(o, "eventSeq", json_object_new_int64((int64_t) events_next_seq(m->events)));
        json_object_object_add(o, "heldDigest", s->held_digest ? json_object_new_string(s->held_digest) : NULL);
        return o;
}

int manager_rollout_status(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        *ret = manager_rollout_json(m, s);
        return 0;
}

int manager_rollout_history(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        struct json_object *a = json_object_new_array();
        char when[64];
        for (size_t i = 0; i < s->n_history; i++) {
                const struct revision *h = &s->history[i];
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "revision", json_object_new_int64((int64_t) h->revision));
                json_object_object_add(o, "createdAt",
                                       json_object_new_string(format_rfc3339(h->created_at, when, sizeof when)));
                json_object_object_add(o, "changeCause", json_object_new_string(h->cause));
                json_object_object_add(o, "digest", json_object_new_string(h->digest));
                json_object_object_add(o, "status", json_object_new_string(revision_status_to_string(h->status)));
                json_object_object_add(o, "current", json_object_new_boolean(h->revision == s->revision));
                json_object_array_add(a, o);
        }
        *ret = a;
        return 0;
}

int manager_rollout_undo(struct manager *m, const char *name, uint64_t to, struct json_object **ret,
                         struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        if (to == 0) {
                /* the last complete revision, or else the newest other one that did not fail */
                if (s->last_complete && s->last_complete != s->revision)
                        to = s->last_complete;
                for (size_t i = s->n_history; to == 0 && i > 0; i--) {
                        const struct revision *h = &s->history[i - 1];
                        if (h->revision != s->revision && h->status != REVISION_FAILED &&
                            h->status != REVISION_ROLLED_BACK)
                                to = h->revision;
                }
                if (to == 0)
                        return api_fail(err, 409, "Conflict", EBUSY,
                                        "service \"%s\" has no earlier revision to go back to (see rollout history)",
                                        name);
        }
        if (!service_history_find(s, to))
                return api_fail(err, 404, "NotFound", ENOENT,
                                "service \"%s\" has no revision %llu in its history (see rollout history)", name,
                                (unsigned long long) to);
        if (to == s->revision)
                return api_fail(err, 409, "Conflict", EBUSY, "service \"%s\" is already at revision %llu", name,
                                (unsigned long long) to);
        uint64_t from = s->revision;
        struct revision *cur = service_history_find(s, from);
        if (from_manifests_dir(m, s) && !s->held_digest && cur)
                s->held_digest = strdup(cur->digest); /* the file's spec: not run again until the file changes */
        if (cur && cur->status == REVISION_PROGRESSING)
                cur->status = REVISION_SUPERSEDED;
        if (rollout_go_back(m, s, to, true) < 0)
                return api_fail(err, 500, "Internal", ENOMEM, "out of memory");
        save_or_warn(m, s);
        log_info("Service %s: undo: rolling from revision %llu back to %llu.", s->name, (unsigned long long) from,
                 (unsigned long long) to);
        rollout_emit(m, s, "RolloutStarted", "undo: rollout from revision %llu back to revision %llu",
                     (unsigned long long) from, (unsigned long long) to);
        manager_schedule_reconcile(m);
        *ret = manager_rollout_json(m, s);
        return 0;
}

static int set_paused(struct manager *m, const char *name, bool paused, struct json_object **ret,
                      struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        if (s->ro.paused != paused) {
                s->ro.paused = paused;
                if (!paused) {
                        s->ro.progress_at = now_monotonic_usec(); /* the pause does not count against the deadline */
                        if (s->ro.status == ROLLOUT_PAUSED)
                                s->ro.status = ROLLOUT_PROGRESSING;
                } else if (s->ro.status == ROLLOUT_PROGRESSING)
                        s->ro.status = ROLLOUT_PAUSED;
                save_or_warn(m, s);
                log_info("Service %s: rollout %s.", s->name, paused ? "paused" : "resumed");
                rollout_emit(m, s, paused ? "RolloutPaused" : "RolloutResumed", "rollout to revision %llu %s",
                             (unsigned long long) s->ro.target, paused ? "paused" : "resumed");
                manager_schedule_reconcile(m);
        }
        *ret = manager_rollout_json(m, s);
        return 0;
}

int manager_rollout_pause(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        return set_paused(m, name, true, ret, err);
}

int manager_rollout_resume(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        return set_paused(m, name, false, ret, err);
}
