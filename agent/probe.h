/* probe.h: the health probes of one run of a replica, as a pure state
 * machine (Kubernetes semantics). The mechanism (prober.c) runs the checks
 * and feeds their results in; this decides when checks are due, what the
 * results mean and when the run must be restarted.
 *
 * What it promises:
 *  - Pure: no syscalls, no clock reads, no allocation. Time (monotonic µs)
 *    comes in with every call; tests drive it with a fake clock.
 *  - Kubernetes semantics: the first check of a probe is due
 *    initialDelaySeconds after the run started, then every periodSeconds
 *    (measured from the start of the previous check; a check that outlasts
 *    its period is followed at once by the next). A probe turns successful
 *    after successThreshold consecutive successes and failed after
 *    failureThreshold consecutive failures. A probe with no verdict yet is
 *    "pending".
 *  - Startup gating: while a startup probe has not succeeded, liveness and
 *    readiness do not run (their initial delay still counts from the run's
 *    start). A startup probe that fails failureThreshold times ends the run
 *    like a liveness failure.
 *  - Ready = the startup probe (if any) succeeded and the readiness probe
 *    (if any) is successful. A run with a readiness probe starts not ready.
 *  - Liveness failure (or startup failure) is reported once per run
 *    (PROBE_RESULT_RESTART); after it nothing is due any more.
 *  - Passive probes (notify) have no schedule: their results come when the
 *    service speaks (READY=1, WATCHDOG=1). A passive probe with a watchdog
 *    is due when the watchdog expires: the caller then feeds a failure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum probe_kind {
        PROBE_STARTUP,
        PROBE_LIVENESS,
        PROBE_READINESS,
        _PROBE_KIND_MAX,
};

enum probe_status {
        PROBE_STATUS_WAITING, /* gated by the startup probe, or the run is over */
        PROBE_STATUS_PENDING, /* running, no verdict yet */
        PROBE_STATUS_SUCCESS,
        PROBE_STATUS_FAILURE,
        _PROBE_STATUS_MAX,
};

struct probe_timing {
        uint64_t initial_delay; /* µs */
        uint64_t period;        /* µs, > 0 */
        uint64_t timeout;       /* µs, > 0 */
        uint64_t watchdog;      /* µs, passive probes: expires this long after the last success; 0 = none */
        unsigned success_threshold; /* >= 1 */
        unsigned failure_threshold; /* >= 1 */
        bool passive;
};

struct probe_sm {
        struct probe_timing t;
        bool active;                 /* checks may run (not gated, run not over) */
        bool in_flight;              /* a check has begun and not ended */
        enum probe_status status;
        unsigned successes, failures; /* consecutive, as Kubernetes counts */
        uint64_t next_at;            /* monotonic µs the next check (or watchdog) is due; 0 = none */
        uint64_t check_started;      /* of the check in flight */
        uint64_t last_time;          /* monotonic µs of the last result, 0 = none */
};

struct probe_set {
        bool has[_PROBE_KIND_MAX];
        struct probe_sm sm[_PROBE_KIND_MAX];
        uint64_t run_started;
        bool over;                   /* RESTART was given: nothing runs until the next run */
};

/* What a result (or a start) changed; a bit mask. */
enum {
        PROBE_RESULT_STATUS_CHANGED = 1 << 0, /* the probe's status changed */
        PROBE_RESULT_READY_CHANGED = 1 << 1,  /* probe_set_ready() changed */
        PROBE_RESULT_RESTART = 1 << 2,        /* liveness (or startup) failed: restart the run */
        /* probe_set_readiness_failed() changed. Not implied by READY_CHANGED:
         * a readiness probe that never succeeded goes from pending to failed
         * without the run ever being ready, and that is what fails a
         * rollout (rollout.h), so the caller must look at it again. */
        PROBE_RESULT_READINESS_FAILED_CHANGED = 1 << 3,
};

/* Kubernetes defaults: 0s delay, 10s period, 1s timeout, thresholds 1 and 3. */
void probe_timing_default(struct probe_timing *t);

/* The probes of a run that started at run_started (monotonic µs > 0).
 * timing[k] is used where has[k]. Liveness/readiness wait for startup. */
void probe_set_init(struct probe_set *s, const bool has[static _PROBE_KIND_MAX],
                    const struct probe_timing timing[static _PROBE_KIND_MAX], uint64_t run_started);

/* Re-adoption (berthd restarted while the run went on): the run was ready
 * before, so the startup probe counts as passed and the readiness probe as
 * successful; every active probe is due at once. */
void probe_set_assume_ready(struct probe_set *s, uint64_t now);

/* Is a check of probe k due at now? (Not while one is in flight.) */
bool probe_set_due(const struct probe_set *s, enum probe_kind k, uint64_t now);
/* A check of k begins now; it must end (probe_set_result) by now + timeout. */
void probe_set_begin(struct probe_set *s, enum probe_kind k, uint64_t now);
/* A check of k ended (or, passive, the service spoke): feed its outcome.
 * Returns PROBE_RESULT_* bits. Ignored (0) when k is not active. */
unsigned probe_set_result(struct probe_set *s, enum probe_kind k, uint64_t now, bool success);
/* The run is over (or stopping): nothing is due any more. */
void probe_set_stop(struct probe_set *s);

/* When the caller should wake up for k next: the in-flight check's
 * deadline, the next check, the watchdog; 0 = nothing scheduled. */
uint64_t probe_set_wakeup(const struct probe_set *s, enum probe_kind k);

bool probe_set_ready(const struct probe_set *s);
/* The readiness probe has failed failureThreshold checks in a row (and not
 * succeeded since). */
bool probe_set_readiness_failed(const struct probe_set *s);

const char *probe_kind_to_string(enum probe_kind k);     /* "startup", "liveness", "readiness" */
const char *probe_status_to_string(enum probe_status s); /* "waiting", "pending", "success", "failure" */
