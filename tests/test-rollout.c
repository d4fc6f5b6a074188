/* test-rollout.c: the rollout planner (agent/rollout.c).
 *
 * A small simulated cluster executes the plans as berthd would: a started
 * replica runs (and is ready) one step later, a stopped one is gone one step
 * later, the clock moves one second per step. Every step checks the bounds:
 * never more than replicas + maxSurge replicas that are not stopping, never
 * fewer available than replicas - maxUnavailable (once the service had
 * them). Scenarios: surge/unavailable combinations (ints and percentages),
 * rounding, scale during a rollout, Recreate, minReadySeconds, the
 * deadline, crash loops, readiness failures, a rollback target, pause. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "rollout.h"

#define SEC UINT64_C(1000000)
#define MAXR 64

struct sim {
        struct rollout_replica v[MAXR];
        size_t n;
        struct rollout_input in;
        struct rollout_state st;
        uint64_t now;
        bool crash_new;        /* replicas of bad_revision crash-loop */
        bool never_ready;      /* replicas of bad_revision never become ready */
        uint64_t bad_revision;
        unsigned max_total_seen, min_avail_seen;
        bool checked_avail;
        unsigned starts, stops;
};

static struct int_or_percent I(int64_t v) {
        return (struct int_or_percent) { .value = v };
}

static struct int_or_percent P(int64_t v) {
        return (struct int_or_percent) { .value = v, .percent = true };
}

/* n running, ready, available replicas of revision rev at indexes 0..n-1 */
static void sim_init(struct sim *s, unsigned n, uint64_t rev, struct int_or_percent surge,
                     struct int_or_percent unavail) {
        *s = (struct sim) { .now = 1000 * SEC };
        for (unsigned i = 0; i < n; i++)
                s->v[s->n++] = (struct rollout_replica) { .index = i, .revision = rev, .state = ROLLOUT_REPLICA_RUNNING,
                                                          .ready = true, .ready_since = 1 };
        s->in = (struct rollout_input) { .replicas = n, .strategy = STRATEGY_ROLLING_UPDATE, .max_surge = surge,
                                         .max_unavailable = unavail, .deadline_us = 600 * SEC };
        s->st = (struct rollout_state) { .target = rev, .status = ROLLOUT_COMPLETE };
        s->min_avail_seen = n;
}

static void sim_roll(struct sim *s, uint64_t target) {
        s->st.stable = s->st.target;
        s->st.target = target;
        s->st.status = ROLLOUT_PROGRESSING;
        s->st.failure = ROLLOUT_FAILURE_NONE;
        s->st.progress_at = s->now;
        s->st.best_available = 0;
}

static struct rollout_replica *sim_find(struct sim *s, unsigned idx) {
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].index == idx)
                        return &s->v[i];
        return NULL;
}

static unsigned sim_available(struct sim *s) {
        unsigned a = 0;
        for (size_t i = 0; i < s->n; i++)
                a += s->v[i].state != ROLLOUT_REPLICA_STOPPING &&
                     rollout_replica_available(&s->v[i], s->in.min_ready_us, s->now);
        return a;
}

/* One step: the world moves (time, starts, stops), then one plan is executed. */
static struct rollout_plan sim_step(struct sim *s) {
        s->now += SEC;
        for (size_t i = 0; i < s->n;) {
                struct rollout_replica *r = &s->v[i];
                if (r->state == ROLLOUT_REPLICA_STOPPING) {
                        s->v[i] = s->v[--s->n];
                        continue;
                }
                bool bad = s->bad_revision && r->revision == s->bad_revision;
                if (r->state == ROLLOUT_REPLICA_STARTING) {
                        if (bad && s->crash_new)
                                r->streak++;
                        else {
                                r->state = ROLLOUT_REPLICA_RUNNING;
                                if (!(bad && s->never_ready)) {
                                        r->ready = true;
                                        r->ready_since = s->now;
                                }
                        }
                }
                i++;
        }
        s->in.v = s->v;
        s->in.n = s->n;
        s->in.now = s->now;
        struct rollout_plan p;
        assert_int_equal(rollout_plan(&s->in, &s->st, &p), 0);
        for (size_t i = 0; i < p.n_stop; i++) {
                struct rollout_replica *r = sim_find(s, p.stop[i]);
                assert_non_null(r);
                assert_int_not_equal(r->state, ROLLOUT_REPLICA_STOPPING);
                r->state = ROLLOUT_REPLICA_STOPPING;
                r->ready = false;
                s->stops++;
        }
        for (size_t i = 0; i < p.n_start; i++) {
                assert_null(sim_find(s, p.start[i].index));
                assert_true(s->n < MAXR);
                s->v[s->n++] = (struct rollout_replica) { .index = p.start[i].index, .revision = p.start[i].revision,
                                                          .state = ROLLOUT_REPLICA_STARTING };
                s->starts++;
        }
        unsigned live = 0;
        for (size_t i = 0; i < s->n; i++)
                live += s->v[i].state != ROLLOUT_REPLICA_STOPPING;
        s->max_total_seen = MAX(s->max_total_seen, live);
        unsigned a = sim_available(s);
        s->min_avail_seen = MIN(s->min_avail_seen, a);
        return p;
}

/* Steps until the rollout is no longer progressing (or max steps). */
static unsigned sim_run(struct sim *s, unsigned max) {
        unsigned steps = 0;
        for (; steps < max; steps++) {
                struct rollout_plan p = sim_step(s);
                bool quiet = p.n_start == 0 && p.n_stop == 0;
                rollout_plan_done(&p);
                if (s->st.status != ROLLOUT_PROGRESSING && quiet)
                        break;
        }
        return steps;
}

static unsigned count_rev(struct sim *s, uint64_t rev) {
        unsigned c = 0;
        for (size_t i = 0; i < s->n; i++)
                c += s->v[i].revision == rev && s->v[i].state != ROLLOUT_REPLICA_STOPPING;
        return c;
}

static void rolling(unsigned n, struct int_or_percent surge, struct int_or_percent unavail, unsigned want_surge,
                    unsigned want_unavail) {
        struct sim s;
        unsigned rs, ru;
        rollout_bounds(n, surge, unavail, &rs, &ru);
        assert_int_equal(rs, want_surge);
        assert_int_equal(ru, want_unavail);
        sim_init(&s, n, 1, surge, unavail);
        sim_roll(&s, 2);
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 2), n);
        assert_int_equal(count_rev(&s, 1), 0);
        assert_true(s.max_total_seen <= n + want_surge);
        assert_true(s.min_avail_seen + want_unavail >= n);
        assert_int_equal(s.starts, n);
}

static void test_rollout_bounds_rounding(void **state) {
        unsigned s, u;
        rollout_bounds(3, P(25), P(25), &s, &u); /* 0.75: surge up, unavailable down */
        assert_int_equal(s, 1);
        assert_int_equal(u, 0);
        rollout_bounds(10, P(25), P(25), &s, &u);
        assert_int_equal(s, 3);
        assert_int_equal(u, 2);
        rollout_bounds(4, P(50), P(50), &s, &u);
        assert_int_equal(s, 2);
        assert_int_equal(u, 2);
        rollout_bounds(3, I(0), P(10), &s, &u); /* both 0 after rounding: unavailable 1 */
        assert_int_equal(s, 0);
        assert_int_equal(u, 1);
        rollout_bounds(5, I(2), I(7), &s, &u);
        assert_int_equal(s, 2);
        assert_int_equal(u, 7);
        rollout_bounds(0, P(25), P(25), &s, &u);
        assert_int_equal(s, 0);
        assert_int_equal(u, 1);
}

static void test_rollout_surge_unavailable_combos(void **state) {
        rolling(3, I(1), I(0), 1, 0);
        rolling(3, I(0), I(1), 0, 1);
        rolling(3, I(2), I(0), 2, 0);
        rolling(3, I(1), I(1), 1, 1);
        rolling(5, I(5), I(0), 5, 0);
        rolling(4, P(25), P(25), 1, 1);
        rolling(10, P(25), P(25), 3, 2);
        rolling(10, P(100), P(0), 10, 0);
        rolling(10, P(0), P(30), 0, 3);
        rolling(1, P(25), P(25), 1, 0);
        rolling(1, I(0), I(1), 0, 1);
        rolling(3, I(0), I(5), 0, 5); /* more unavailable than replicas: all at once */
}

static void test_rollout_surge_one_sequence(void **state) {
        struct sim s;
        sim_init(&s, 3, 1, I(1), I(0));
        sim_roll(&s, 2);
        struct rollout_plan p = sim_step(&s);
        /* one surge replica at the lowest free index, nothing stopped yet */
        assert_int_equal(p.n_start, 1);
        assert_int_equal(p.start[0].index, 3);
        assert_int_equal(p.start[0].revision, 2);
        assert_int_equal(p.n_stop, 0);
        assert_int_equal(s.st.status, ROLLOUT_PROGRESSING);
        rollout_plan_done(&p);
        /* it runs and is available: an old one (the highest index) stops */
        p = sim_step(&s);
        assert_int_equal(p.n_start, 0);
        assert_int_equal(p.n_stop, 1);
        assert_int_equal(p.stop[0], 2);
        rollout_plan_done(&p);
        /* no start while the stopped one still holds its index? it is not live: surge room again */
        p = sim_step(&s);
        assert_int_equal(p.n_start, 1);
        assert_int_equal(p.start[0].index, 2); /* index 2 is free again */
        rollout_plan_done(&p);
        sim_run(&s, 50);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 2), 3);
}

static void test_rollout_indexes_non_contiguous(void **state) {
        /* a stopping replica keeps its index: the new one takes the next free */
        struct rollout_replica v[] = {
                { .index = 0, .revision = 1, .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 },
                { .index = 1, .revision = 1, .state = ROLLOUT_REPLICA_STOPPING },
                { .index = 2, .revision = 2, .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 },
        };
        struct rollout_input in = { .replicas = 3, .strategy = STRATEGY_ROLLING_UPDATE, .max_surge = I(1),
                                    .max_unavailable = I(0), .now = 10 * SEC, .v = v, .n = 3 };
        struct rollout_state st = { .target = 2, .status = ROLLOUT_PROGRESSING, .progress_at = SEC };
        struct rollout_plan p;
        assert_int_equal(rollout_plan(&in, &st, &p), 0);
        assert_int_equal(p.n_start, 2);
        assert_int_equal(p.start[0].index, 3);
        assert_int_equal(p.start[1].index, 4);
        assert_int_equal(p.n_stop, 0);
        rollout_plan_done(&p);

        /* steady state scale-down: the highest indexes go */
        struct rollout_replica w[] = {
                { .index = 0, .revision = 2, .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 },
                { .index = 3, .revision = 2, .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 },
                { .index = 4, .revision = 2, .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 },
        };
        in.v = w;
        in.replicas = 1;
        st.status = ROLLOUT_COMPLETE;
        assert_int_equal(rollout_plan(&in, &st, &p), 0);
        assert_int_equal(p.n_stop, 2);
        assert_int_equal(p.stop[0], 4);
        assert_int_equal(p.stop[1], 3);
        assert_int_equal(p.n_start, 0);
        assert_int_equal(st.status, ROLLOUT_COMPLETE);
        rollout_plan_done(&p);
}

static void test_rollout_scale_during_rollout(void **state) {
        struct sim s;
        sim_init(&s, 3, 1, I(1), I(0));
        sim_roll(&s, 2);
        for (int i = 0; i < 2; i++) {
                struct rollout_plan p = sim_step(&s);
                rollout_plan_done(&p);
        }
        s.in.replicas = 6; /* scale up mid-rollout: the new revision grows */
        s.min_avail_seen = 99;
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 2), 6);
        assert_int_equal(count_rev(&s, 1), 0);
        assert_true(s.max_total_seen <= 7);
        assert_true(s.min_avail_seen >= 2); /* never below the old count before the scale */

        /* scale down mid-rollout */
        sim_roll(&s, 3);
        for (int i = 0; i < 2; i++) {
                struct rollout_plan p = sim_step(&s);
                rollout_plan_done(&p);
        }
        s.in.replicas = 2;
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 3), 2);
        assert_int_equal(s.n, 2);
}

static void test_rollout_recreate(void **state) {
        struct sim s;
        sim_init(&s, 3, 1, I(1), I(0));
        s.in.strategy = STRATEGY_RECREATE;
        sim_roll(&s, 2);
        struct rollout_plan p = sim_step(&s);
        assert_int_equal(p.n_stop, 3);
        assert_int_equal(p.n_start, 0);
        rollout_plan_done(&p);
        /* the old ones are still stopping: nothing starts */
        s.v[0].state = ROLLOUT_REPLICA_STOPPING;
        s.in.now = s.now;
        assert_int_equal(rollout_plan(&s.in, &s.st, &p), 0);
        assert_int_equal(p.n_start, 0);
        rollout_plan_done(&p);
        p = sim_step(&s); /* gone now */
        assert_int_equal(p.n_start, 3);
        assert_int_equal(p.start[0].index, 0);
        assert_int_equal(p.start[2].index, 2);
        rollout_plan_done(&p);
        sim_run(&s, 20);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 2), 3);
        assert_true(s.max_total_seen <= 3);
}

static void test_rollout_min_ready_seconds(void **state) {
        struct sim s;
        sim_init(&s, 2, 1, I(1), I(0));
        s.in.min_ready_us = 5 * SEC;
        sim_roll(&s, 2);
        struct rollout_plan p = sim_step(&s); /* start new */
        rollout_plan_done(&p);
        p = sim_step(&s); /* ready now, not available for 5 s: nothing stops, wake then */
        assert_int_equal(p.n_stop, 0);
        assert_int_equal(p.n_start, 0);
        assert_int_equal(p.wake_at, s.now + 5 * SEC);
        assert_int_equal(p.ready, 1);
        assert_int_equal(p.available, 0);
        rollout_plan_done(&p);
        for (int i = 0; i < 4; i++) {
                p = sim_step(&s);
                assert_int_equal(p.n_stop, 0);
                rollout_plan_done(&p);
        }
        p = sim_step(&s); /* 5 s ready: available, an old one stops */
        assert_int_equal(p.n_stop, 1);
        assert_int_equal(p.available, 1);
        rollout_plan_done(&p);
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_true(s.min_avail_seen >= 2);
}

static void test_rollout_deadline(void **state) {
        struct sim s;
        sim_init(&s, 3, 1, I(1), I(0));
        s.in.deadline_us = 5 * SEC;
        s.bad_revision = 2;
        s.never_ready = true;
        sim_roll(&s, 2);
        struct rollout_plan p = sim_step(&s);
        assert_int_equal(p.wake_at, s.st.progress_at + 5 * SEC);
        rollout_plan_done(&p);
        unsigned steps = sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_FAILED);
        assert_int_equal(s.st.failure, ROLLOUT_FAILURE_DEADLINE);
        assert_true(steps <= 6);
        /* the old ones were never touched */
        assert_int_equal(count_rev(&s, 1), 3);
        assert_int_equal(s.min_avail_seen, 3);
        assert_int_equal(s.stops, 0);
}

static void test_rollout_deadline_counts_from_progress(void **state) {
        struct sim s;
        sim_init(&s, 4, 1, I(1), I(0));
        s.in.deadline_us = 3 * SEC; /* each new replica takes 2 steps: progress resets the deadline */
        sim_roll(&s, 2);
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 2), 4);
}

static void test_rollout_crashloop(void **state) {
        struct sim s;
        sim_init(&s, 3, 1, I(0), I(1));
        s.bad_revision = 2;
        s.crash_new = true;
        sim_roll(&s, 2);
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_FAILED);
        assert_int_equal(s.st.failure, ROLLOUT_FAILURE_CRASHLOOP);
        /* one old replica made room (maxUnavailable 1), two are still there */
        assert_int_equal(count_rev(&s, 1), 2);
        assert_true(s.min_avail_seen >= 2);
}

static void test_rollout_readiness_failed(void **state) {
        struct rollout_replica v[] = {
                { .index = 0, .revision = 1, .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 },
                { .index = 1, .revision = 2, .state = ROLLOUT_REPLICA_RUNNING, .readiness_failed = true },
        };
        struct rollout_input in = { .replicas = 1, .strategy = STRATEGY_ROLLING_UPDATE, .max_surge = I(1),
                                    .max_unavailable = I(0), .deadline_us = 600 * SEC, .now = 10 * SEC, .v = v, .n = 2 };
        struct rollout_state st = { .target = 2, .status = ROLLOUT_PROGRESSING, .progress_at = 9 * SEC };
        struct rollout_plan p;
        assert_int_equal(rollout_plan(&in, &st, &p), 0);
        assert_int_equal(st.status, ROLLOUT_FAILED);
        assert_int_equal(st.failure, ROLLOUT_FAILURE_READINESS);
        assert_int_equal(p.n_stop, 0); /* the old one stays */
        assert_non_null(strstr(p.message, "ReadinessFailed"));
        rollout_plan_done(&p);
}

static void test_rollout_rollback_target(void **state) {
        /* the caller rolls back: target = the last complete revision; the bad
         * replicas go first (not available), the good ones stay */
        struct sim s;
        sim_init(&s, 3, 1, I(1), I(0));
        s.in.deadline_us = 4 * SEC;
        s.bad_revision = 2;
        s.crash_new = true;
        sim_roll(&s, 2);
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_FAILED);
        unsigned stops = s.stops;
        assert_int_equal(stops, 0);
        sim_roll(&s, 1);
        s.st.stable = 2;
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 1), 3);
        assert_int_equal(count_rev(&s, 2), 0);
        assert_int_equal(s.stops, 1); /* only the bad surge replica */
        assert_int_equal(s.min_avail_seen, 3);
}

static void test_rollout_pause(void **state) {
        struct sim s;
        sim_init(&s, 3, 1, I(1), I(0));
        s.st.paused = true;
        sim_roll(&s, 2);
        struct rollout_plan p = sim_step(&s);
        assert_int_equal(p.n_start, 0);
        assert_int_equal(p.n_stop, 0);
        assert_int_equal(s.st.status, ROLLOUT_PAUSED);
        assert_int_equal(p.wake_at, 0); /* no deadline while paused */
        rollout_plan_done(&p);
        /* scaling is honoured while paused, with the stable revision */
        s.in.replicas = 4;
        p = sim_step(&s);
        assert_int_equal(p.n_start, 1);
        assert_int_equal(p.start[0].revision, 1);
        assert_int_equal(p.start[0].index, 3);
        rollout_plan_done(&p);
        s.now += 3600 * SEC; /* a long pause does not count against the deadline */
        s.st.paused = false;
        s.st.progress_at = s.now; /* resume */
        sim_run(&s, 100);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(count_rev(&s, 2), 4);
}

static void test_rollout_complete_stays(void **state) {
        /* a replica of a complete rollout crashes: no failure, it is replaced */
        struct sim s;
        sim_init(&s, 2, 1, I(1), I(0));
        s.v[0].state = ROLLOUT_REPLICA_STARTING;
        s.v[0].ready = false;
        s.v[0].streak = 10;
        s.in.v = s.v;
        s.in.n = s.n;
        s.in.now = s.now;
        struct rollout_plan p;
        assert_int_equal(rollout_plan(&s.in, &s.st, &p), 0);
        assert_int_equal(s.st.status, ROLLOUT_COMPLETE);
        assert_int_equal(p.n_start, 0);
        assert_int_equal(p.n_stop, 0);
        rollout_plan_done(&p);
        /* removal: everything stops */
        s.in.replicas = 0;
        assert_int_equal(rollout_plan(&s.in, &s.st, &p), 0);
        assert_int_equal(p.n_stop, 2);
        rollout_plan_done(&p);
}

static void test_rollout_large(void **state) {
        /* 10000 replicas: every index once, linear enough to plan at once */
        enum { N = 10000 };
        struct rollout_replica *v = calloc(N, sizeof *v);
        assert_non_null(v);
        struct rollout_input in = { .replicas = N, .strategy = STRATEGY_ROLLING_UPDATE, .max_surge = P(25),
                                    .max_unavailable = P(25), .now = 10 * SEC, .v = v, .n = 0 };
        struct rollout_state st = { .target = 1, .status = ROLLOUT_PROGRESSING, .progress_at = SEC };
        struct rollout_plan p;
        assert_int_equal(rollout_plan(&in, &st, &p), 0);
        assert_int_equal(p.n_start, N);
        for (size_t i = 0; i < p.n_start; i++) {
                assert_int_equal(p.start[i].index, i);
                v[i] = (struct rollout_replica) { .index = p.start[i].index, .revision = 1,
                                                  .state = ROLLOUT_REPLICA_RUNNING, .ready = true, .ready_since = 1 };
        }
        rollout_plan_done(&p);
        in.n = N;
        in.replicas = 0;
        assert_int_equal(rollout_plan(&in, &st, &p), 0);
        assert_int_equal(p.n_stop, N);
        assert_int_equal(p.stop[0], N - 1);
        assert_int_equal(p.stop[N - 1], 0);
        rollout_plan_done(&p);
        free(v);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rollout_bounds_rounding),
                cmocka_unit_test(test_rollout_surge_unavailable_combos),
                cmocka_unit_test(test_rollout_surge_one_sequence),
                cmocka_unit_test(test_rollout_indexes_non_contiguous),
                cmocka_unit_test(test_rollout_scale_during_rollout),
                cmocka_unit_test(test_rollout_recreate),
                cmocka_unit_test(test_rollout_min_ready_seconds),
                cmocka_unit_test(test_rollout_deadline),
                cmocka_unit_test(test_rollout_deadline_counts_from_progress),
                cmocka_unit_test(test_rollout_crashloop),
                cmocka_unit_test(test_rollout_readiness_failed),
                cmocka_unit_test(test_rollout_rollback_target),
                cmocka_unit_test(test_rollout_pause),
                cmocka_unit_test(test_rollout_complete_stays),
                cmocka_unit_test(test_rollout_large),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
