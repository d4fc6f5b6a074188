/* rollout.h: the rollout planner. Which replicas of one service to start
 * and which to stop so that they move to the target revision within the
 * strategy's bounds, and how the rollout stands.
 *
 * What it promises:
 *  - Pure: no I/O, no clock reads (time comes in as `now`, monotonic µs),
 *    no global state. The reconciler (manager.c) calls it on every pass for
 *    every service and executes the plan; tests drive it with a fake clock.
 *  - Kubernetes semantics for RollingUpdate: maxSurge resolves rounding up,
 *    maxUnavailable rounding down (percentages of the desired count); both 0
 *    after rounding means maxUnavailable 1. At most replicas + maxSurge
 *    replicas that are not stopping; never fewer available than
 *    replicas - maxUnavailable because of a stop it plans (old replicas stop
 *    only as new ones become available; old replicas that are not available
 *    anyway go first). Replicas being stopped do not count (as terminating
 *    pods do not in Kubernetes).
 *  - Recreate: every replica of another revision is stopped and gone before
 *    the first replica of the target revision starts.
 *  - Available = ready for at least minReadySeconds. The plan says when time
 *    alone will change something (wake_at): arm a timer for it, no polling.
 *  - Indexes: a new replica gets the lowest index no replica (even a stopping
 *    one) holds, so during a rollout indexes may exceed replicas - 1 and end
 *    up non-contiguous. Scale-down stops the highest indexes first; of the
 *    old replicas, those not available go first, then the highest indexes.
 *  - Paused: no replica of the target revision is started for the rollout
 *    and no old replica is stopped for it; scale changes are still honoured
 *    (scale-up with the stable revision, the one the old replicas run).
 *  - Failure: the deadline (no progress for progressDeadline: progress = a
 *    new replica became available, or the rollout started/resumed), new
 *    replicas crash-looping (ROLLOUT_CRASHLOOP_STREAK consecutive quick
 *    failures, or failed for good), or new replicas failing readiness past
 *    their thresholds. A failed rollout keeps its status (unless it gets to
 *    complete after all); planning goes on; what happens next (rollback) is
 *    the caller's policy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define ROLLOUT_CRASHLOOP_STREAK 3

enum rollout_replica_state {
        ROLLOUT_REPLICA_STARTING, /* created, not running yet (also: backoff, exited) */
        ROLLOUT_REPLICA_RUNNING,
        ROLLOUT_REPLICA_STOPPING, /* stop requested: on its way out, holds its index */
};

struct rollout_replica {
        unsigned index;
        uint64_t revision;
        enum rollout_replica_state state;
        bool ready;
        uint64_t ready_since;   /* monotonic µs, 0 = not ready */
        uint32_t streak;        /* the supervisor's consecutive quick failures */
        bool failed;            /* failed for good (policy Never) */
        bool readiness_failed;  /* readiness failed past its threshold (probes) */
};

enum rollout_status {
        ROLLOUT_COMPLETE,
        ROLLOUT_PROGRESSING,
        ROLLOUT_PAUSED,
        ROLLOUT_FAILED,
        _ROLLOUT_STATUS_MAX,
};

enum rollout_failure {
        ROLLOUT_FAILURE_NONE,
        ROLLOUT_FAILURE_DEADLINE,
        ROLLOUT_FAILURE_CRASHLOOP,
        ROLLOUT_FAILURE_READINESS,
        _ROLLOUT_FAILURE_MAX,
};

/* The rollout's own state: the caller keeps (and persists) it between calls;
 * rollout_plan() updates it. */
struct rollout_state {
        uint64_t target;        /* the revision the service rolls to */
        uint64_t stable;        /* the revision old replicas run (scale-up while paused); 0 = unknown */
        bool paused;
        enum rollout_status status;
        enum rollout_failure failure;
        uint64_t progress_at;   /* monotonic µs of the last progress (start, resume, a new replica available) */
        uint32_t best_available; /* most new replicas seen available: progress = more */
};

struct rollout_input {
        unsigned replicas;      /* desired count (0: stopped, removed, shutting down) */
        int strategy;           /* enum strategy_type */
        struct int_or_percent max_surge, max_unavailable;
        uint64_t min_ready_us;
        uint64_t deadline_us;   /* progressDeadline */
        uint64_t now;           /* monotonic µs */
        const struct rollout_replica *v;
        size_t n;
};

struct rollout_start {
        unsigned index;
        uint64_t revision;
};

struct rollout_plan {
        struct rollout_start *start; /* allocated */
        size_t n_start;
        unsigned *stop;              /* indexes, allocated */
        size_t n_stop;
        unsigned updated, ready, available, total; /* of the target revision: updated/ready/available; total: not stopping */
        unsigned old;                /* replicas of other revisions, stopping ones included */
        uint64_t wake_at;            /* monotonic µs: plan again then (0 = no need) */
        char message[256];
};

/* Resolves maxSurge/maxUnavailable against replicas (Kubernetes rounding). */
void rollout_bounds(unsigned replicas, struct int_or_percent max_surge, struct int_or_percent max_unavailable,
                    unsigned *ret_surge, unsigned *ret_unavailable);
bool rollout_replica_available(const struct rollout_replica *r, uint64_t min_ready_us, uint64_t now);

/* Plans one pass. Updates *st (status, failure, progress). -ENOMEM, else 0. */
int rollout_plan(const struct rollout_input *in, struct rollout_state *st, struct rollout_plan *ret);
void rollout_plan_done(struct rollout_plan *p);

const char *rollout_status_to_string(enum rollout_status s);
const char *rollout_failure_to_string(enum rollout_failure f);
