/* probe.c: the probes of one run, a pure state machine (see probe.h). */
#include "config.h"

#include <string.h>

#include "macro.h"
#include "probe.h"

#define USEC_PER_SEC UINT64_C(1000000)

static const char *const kind_names[_PROBE_KIND_MAX] = {
        [PROBE_STARTUP] = "startup",
        [PROBE_LIVENESS] = "liveness",
        [PROBE_READINESS] = "readiness",
};

static const char *const status_names[_PROBE_STATUS_MAX] = {
        [PROBE_STATUS_WAITING] = "waiting",
        [PROBE_STATUS_PENDING] = "pending",
        [PROBE_STATUS_SUCCESS] = "success",
        [PROBE_STATUS_FAILURE] = "failure",
};

const char *probe_kind_to_string(enum probe_kind k) {
        return (unsigned) k < _PROBE_KIND_MAX ? kind_names[k] : NULL;
}

const char *probe_status_to_string(enum probe_status s) {
        return (unsigned) s < _PROBE_STATUS_MAX ? status_names[s] : NULL;
}

static uint64_t add_usec(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b) {
        return a > b ? a : b;
}

void probe_timing_default(struct probe_timing *t) {
        *t = (struct probe_timing) {
                .period = 10 * USEC_PER_SEC,
                .timeout = 1 * USEC_PER_SEC,
                .success_threshold = 1,
                .failure_threshold = 3,
        };
}

/* Probe k starts running at now: its first check is due after the initial
 * delay (counted from the run's start), a passive watchdog after that plus
 * the watchdog time. */
static void activate(struct probe_set *s, enum probe_kind k, uint64_t now) {
        struct probe_sm *p = &s->sm[k];
        uint64_t first = max_u64(now, add_usec(s->run_started, p->t.initial_delay));

        p->active = true;
        p->in_flight = false;
        p->status = PROBE_STATUS_PENDING;
        p->successes = p->failures = 0;
        if (!p->t.passive)
                p->next_at = first;
        else
                p->next_at = p->t.watchdog ? add_usec(first, p->t.watchdog) : 0;
}

static void deactivate(struct probe_sm *p) {
        p->active = false;
        p->in_flight = false;
        p->next_at = 0;
}

void probe_set_init(struct probe_set *s, const bool has[static _PROBE_KIND_MAX],
                    const struct probe_timing timing[static _PROBE_KIND_MAX], uint64_t run_started) {
        memset(s, 0, sizeof *s);
        s->run_started = run_started;
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                s->has[k] = has[k];
                if (!has[k])
                        continue;
                s->sm[k].t = timing[k];
                if (s->sm[k].t.period == 0)
                        s->sm[k].t.period = USEC_PER_SEC;
                if (s->sm[k].t.timeout == 0)
                        s->sm[k].t.timeout = USEC_PER_SEC;
                if (s->sm[k].t.success_threshold == 0)
                        s->sm[k].t.success_threshold = 1;
                if (s->sm[k].t.failure_threshold == 0)
                        s->sm[k].t.failure_threshold = 1;
                s->sm[k].status = PROBE_STATUS_WAITING;
        }
        if (has[PROBE_STARTUP])
                activate(s, PROBE_STARTUP, run_started);
        else
                for (unsigned k = PROBE_LIVENESS; k < _PROBE_KIND_MAX; k++)
                        if (has[k])
                                activate(s, (enum probe_kind) k, run_started);
}

void probe_set_assume_ready(struct probe_set *s, uint64_t now) {
        if (s->over)
                return;
        if (s->has[PROBE_STARTUP]) {
                struct probe_sm *p = &s->sm[PROBE_STARTUP];
                deactivate(p);
                p->status = PROBE_STATUS_SUCCESS;
                p->successes = p->t.success_threshold;
                p->failures = 0;
        }
        for (unsigned k = PROBE_LIVENESS; k < _PROBE_KIND_MAX; k++) {
                if (!s->has[k])
                        continue;
                struct probe_sm *p = &s->sm[k];
                activate(s, (enum probe_kind) k, now);
                if (!p->t.passive)
                        p->next_at = now; /* check again at once */
                else if (p->t.watchdog)
                        p->next_at = add_usec(now, p->t.watchdog);
                if (k == PROBE_READINESS) {
                        p->status = PROBE_STATUS_SUCCESS;
                        p->successes = p->t.success_threshold;
                }
        }
}

bool probe_set_due(const struct probe_set *s, enum probe_kind k, uint64_t now) {
        if ((unsigned) k >= _PROBE_KIND_MAX || !s->has[k])
                return false;
        const struct probe_sm *p = &s->sm[k];
        return p->active && !p->in_flight && p->next_at != 0 && now >= p->next_at;
}

void probe_set_begin(struct probe_set *s, enum probe_kind k, uint64_t now) {
        if ((unsigned) k >= _PROBE_KIND_MAX || !s->has[k] || !s->sm[k].active)
                return;
        s->sm[k].in_flight = true;
        s->sm[k].check_started = now;
}

bool probe_set_ready(const struct probe_set *s) {
        if (s->over)
                return false;
        if (s->has[PROBE_STARTUP] && s->sm[PROBE_STARTUP].status != PROBE_STATUS_SUCCESS)
                return false;
        if (s->has[PROBE_READINESS] && s->sm[PROBE_READINESS].status != PROBE_STATUS_SUCCESS)
                return false;
        return true;
}

bool probe_set_readiness_failed(const struct probe_set *s) {
        return s->has[PROBE_READINESS] && s->sm[PROBE_READINESS].status == PROBE_STATUS_FAILURE;
}

void probe_set_stop(struct probe_set *s) {
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++)
                if (s->has[k])
                        deactivate(&s->sm[k]);
}

unsigned probe_set_result(struct probe_set *s, enum probe_kind k, uint64_t now, bool success) {
        if ((unsigned) k >= _PROBE_KIND_MAX || !s->has[k] || !s->sm[k].active || s->over)
                return 0;
        struct probe_sm *p = &s->sm[k];
        bool was_ready = probe_set_ready(s), was_failed = probe_set_readiness_failed(s);
        enum probe_status before = p->status;
        unsigned ret = 0;

        if (success) {
                if (p->successes < UINT32_MAX)
                        p->successes++;
                p->failures = 0;
                if (p->successes >= p->t.success_threshold)
                        p->status = PROBE_STATUS_SUCCESS;
        } else {
                if (p->failures < UINT32_MAX)
                        p->failures++;
                p->successes = 0;
                if (p->failures >= p->t.failure_threshold)
                        p->status = PROBE_STATUS_FAILURE;
        }
        p->last_time = now;

        /* the next check: a period after the start of this one, at once if
         * it took longer; passive: the watchdog runs from now */
        if (!p->t.passive) {
                uint64_t base = p->in_flight ? p->check_started : now;
                p->next_at = max_u64(add_usec(base, p->t.period), now);
        } else
                p->next_at = p->t.watchdog ? add_usec(now, p->t.watchdog) : 0;
        p->in_flight = false;

        if (p->status != before)
                ret |= PROBE_RESULT_STATUS_CHANGED;

        if (k == PROBE_STARTUP && p->status == PROBE_STATUS_SUCCESS) {
                /* startup is done for this run: it never runs again, the
                 * others start */
                deactivate(p);
                for (unsigned j = PROBE_LIVENESS; j < _PROBE_KIND_MAX; j++)
                        if (s->has[j])
                                activate(s, (enum probe_kind) j, now);
        } else if ((k == PROBE_STARTUP || k == PROBE_LIVENESS) && p->status == PROBE_STATUS_FAILURE) {
                ret |= PROBE_RESULT_RESTART;
                probe_set_stop(s);
                s->over = true;
        }

        if (probe_set_ready(s) != was_ready)
                ret |= PROBE_RESULT_READY_CHANGED;
        if (probe_set_readiness_failed(s) != was_failed)
                ret |= PROBE_RESULT_READINESS_FAILED_CHANGED;
        return ret;
}

uint64_t probe_set_wakeup(const struct probe_set *s, enum probe_kind k) {
        if ((unsigned) k >= _PROBE_KIND_MAX || !s->has[k])
                return 0;
        const struct probe_sm *p = &s->sm[k];
        if (!p->active)
                return 0;
        if (p->in_flight)
                return add_usec(p->check_started, p->t.timeout);
        return p->next_at;
}
