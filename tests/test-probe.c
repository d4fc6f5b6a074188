/* test-probe.c: the probe state machine (agent/probe.c), driven by a fake
 * clock as prober.c drives it with the real one: thresholds, timing,
 * startup gating, restart verdicts, passive (notify) probes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probe.h"

#define S UINT64_C(1000000) /* µs */
#define T0 (100 * S)        /* the run starts here */

static struct probe_timing timing(uint64_t delay_s, uint64_t period_s, unsigned succ, unsigned fail) {
        struct probe_timing t;
        probe_timing_default(&t);
        t.initial_delay = delay_s * S;
        t.period = period_s * S;
        t.success_threshold = succ;
        t.failure_threshold = fail;
        return t;
}

static void setup_set(struct probe_set *s, const struct probe_timing *startup, const struct probe_timing *liveness,
                      const struct probe_timing *readiness) {
        bool has[_PROBE_KIND_MAX] = { !!startup, !!liveness, !!readiness };
        struct probe_timing t[_PROBE_KIND_MAX] = {};
        if (startup)
                t[PROBE_STARTUP] = *startup;
        if (liveness)
                t[PROBE_LIVENESS] = *liveness;
        if (readiness)
                t[PROBE_READINESS] = *readiness;
        probe_set_init(s, has, t, T0);
}

/* One full check of k at now: due, begin, result. Returns the result bits. */
static unsigned check(struct probe_set *s, enum probe_kind k, uint64_t now, bool ok) {
        assert_true(probe_set_due(s, k, now));
        probe_set_begin(s, k, now);
        assert_false(probe_set_due(s, k, now));
        return probe_set_result(s, k, now, ok);
}

static void test_probe_defaults(void **state) {
        struct probe_timing t;
        probe_timing_default(&t);
        assert_int_equal(t.initial_delay, 0);
        assert_int_equal(t.period, 10 * S);
        assert_int_equal(t.timeout, 1 * S);
        assert_int_equal(t.success_threshold, 1);
        assert_int_equal(t.failure_threshold, 3);
        assert_string_equal(probe_kind_to_string(PROBE_READINESS), "readiness");
        assert_string_equal(probe_status_to_string(PROBE_STATUS_FAILURE), "failure");
        assert_null(probe_kind_to_string(_PROBE_KIND_MAX));
}

static void test_probe_no_probes_ready_at_once(void **state) {
        struct probe_set s;
        setup_set(&s, NULL, NULL, NULL);
        assert_true(probe_set_ready(&s));
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                assert_false(probe_set_due(&s, (enum probe_kind) k, T0 + 100 * S));
                assert_int_equal(probe_set_wakeup(&s, (enum probe_kind) k), 0);
        }
}

static void test_probe_initial_delay_and_period(void **state) {
        struct probe_set s;
        struct probe_timing r = timing(5, 2, 1, 3);
        setup_set(&s, NULL, NULL, &r);

        assert_false(probe_set_ready(&s)); /* a readiness probe: not ready until it passes */
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), T0 + 5 * S);
        assert_false(probe_set_due(&s, PROBE_READINESS, T0 + 5 * S - 1));
        assert_int_equal(check(&s, PROBE_READINESS, T0 + 5 * S, true),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED);
        assert_true(probe_set_ready(&s));
        /* next: a period after the start of the previous check */
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), T0 + 7 * S);
        assert_false(probe_set_due(&s, PROBE_READINESS, T0 + 7 * S - 1));
        assert_true(probe_set_due(&s, PROBE_READINESS, T0 + 7 * S));
}

static void test_probe_period_from_check_start(void **state) {
        struct probe_set s;
        struct probe_timing r = timing(0, 10, 1, 3);
        r.timeout = 3 * S;
        setup_set(&s, NULL, NULL, &r);

        probe_set_begin(&s, PROBE_READINESS, T0);
        /* in flight: the wakeup is the check's deadline */
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), T0 + 3 * S);
        probe_set_result(&s, PROBE_READINESS, T0 + 2 * S, true);
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), T0 + 10 * S);

        /* a check that outlasts its period is followed at once */
        probe_set_begin(&s, PROBE_READINESS, T0 + 10 * S);
        probe_set_result(&s, PROBE_READINESS, T0 + 25 * S, true);
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), T0 + 25 * S);
}

static void test_probe_readiness_thresholds(void **state) {
        struct probe_set s;
        struct probe_timing r = timing(0, 1, 2, 3);
        setup_set(&s, NULL, NULL, &r);
        uint64_t now = T0;

        /* successThreshold 2: one success is not enough */
        assert_int_equal(check(&s, PROBE_READINESS, now, true), 0);
        assert_false(probe_set_ready(&s));
        assert_int_equal(s.sm[PROBE_READINESS].status, PROBE_STATUS_PENDING);
        /* a failure in between resets the successes */
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, false), 0);
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, true), 0);
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, true),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED);
        assert_true(probe_set_ready(&s));

        /* failureThreshold 3: two failures keep it ready */
        for (int i = 0; i < 2; i++) {
                now += S;
                assert_int_equal(check(&s, PROBE_READINESS, now, false), 0);
                assert_true(probe_set_ready(&s));
        }
        /* a success resets the failures */
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, true), 0);
        for (int i = 0; i < 2; i++) {
                now += S;
                assert_int_equal(check(&s, PROBE_READINESS, now, false), 0);
        }
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, false),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED |
                                 PROBE_RESULT_READINESS_FAILED_CHANGED);
        assert_false(probe_set_ready(&s));
        assert_true(probe_set_readiness_failed(&s));
        assert_int_equal(s.sm[PROBE_READINESS].failures, 3);
        /* readiness never restarts, it keeps probing */
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, false), 0);
        assert_int_equal(s.sm[PROBE_READINESS].failures, 4);
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), now + S);
        /* and recovers */
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, true), 0);
        now += S;
        assert_int_equal(check(&s, PROBE_READINESS, now, true),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED |
                                 PROBE_RESULT_READINESS_FAILED_CHANGED);
        assert_true(probe_set_ready(&s));
        assert_false(probe_set_readiness_failed(&s));
}

/* A readiness probe that never succeeds: pending, then failed past its
 * threshold without the run ever having been ready. READY_CHANGED stays
 * off (never ready, still not ready), so READINESS_FAILED_CHANGED is what
 * tells the caller: a rollout to this revision fails now (it used to wait
 * for the progress deadline). */
static void test_probe_readiness_never_ready_fails(void **state) {
        struct probe_set s;
        struct probe_timing r = timing(0, 1, 1, 2);
        setup_set(&s, NULL, NULL, &r);
        assert_false(probe_set_readiness_failed(&s));
        assert_int_equal(check(&s, PROBE_READINESS, T0, false), 0);
        assert_false(probe_set_readiness_failed(&s));
        assert_int_equal(check(&s, PROBE_READINESS, T0 + S, false),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READINESS_FAILED_CHANGED);
        assert_true(probe_set_readiness_failed(&s));
        assert_false(probe_set_ready(&s));
        /* it keeps failing: nothing new to say */
        assert_int_equal(check(&s, PROBE_READINESS, T0 + 2 * S, false), 0);
        assert_true(probe_set_readiness_failed(&s));
        /* no readiness probe: never "failed" */
        struct probe_timing l = timing(0, 1, 1, 1);
        setup_set(&s, NULL, &l, NULL);
        assert_true(check(&s, PROBE_LIVENESS, T0, false) & PROBE_RESULT_RESTART);
        assert_false(probe_set_readiness_failed(&s));
}

static void test_probe_liveness_failure_restarts_once(void **state) {
        struct probe_set s;
        struct probe_timing l = timing(0, 1, 1, 3);
        setup_set(&s, NULL, &l, NULL);
        uint64_t now = T0;

        assert_true(probe_set_ready(&s)); /* liveness does not gate readiness */
        assert_int_equal(check(&s, PROBE_LIVENESS, now, true), PROBE_RESULT_STATUS_CHANGED);
        now += S;
        assert_int_equal(check(&s, PROBE_LIVENESS, now, false), 0);
        now += S;
        assert_int_equal(check(&s, PROBE_LIVENESS, now, false), 0);
        now += S;
        unsigned r = check(&s, PROBE_LIVENESS, now, false);
        assert_true(r & PROBE_RESULT_RESTART);
        assert_true(r & PROBE_RESULT_STATUS_CHANGED);
        assert_true(r & PROBE_RESULT_READY_CHANGED); /* a run about to be restarted is not ready */
        assert_false(probe_set_ready(&s));
        /* nothing more for this run */
        assert_false(probe_set_due(&s, PROBE_LIVENESS, now + 100 * S));
        assert_int_equal(probe_set_wakeup(&s, PROBE_LIVENESS), 0);
        assert_int_equal(probe_set_result(&s, PROBE_LIVENESS, now + S, false), 0);
}

static void test_probe_startup_gates_the_others(void **state) {
        struct probe_set s;
        struct probe_timing st = timing(0, 1, 1, 5), l = timing(3, 1, 1, 3), r = timing(0, 2, 1, 3);
        setup_set(&s, &st, &l, &r);
        uint64_t now = T0;

        assert_false(probe_set_ready(&s));
        assert_int_equal(s.sm[PROBE_LIVENESS].status, PROBE_STATUS_WAITING);
        assert_int_equal(s.sm[PROBE_READINESS].status, PROBE_STATUS_WAITING);
        assert_false(probe_set_due(&s, PROBE_LIVENESS, now + 50 * S));
        assert_false(probe_set_due(&s, PROBE_READINESS, now + 50 * S));
        assert_int_equal(probe_set_wakeup(&s, PROBE_LIVENESS), 0);

        assert_int_equal(check(&s, PROBE_STARTUP, now, false), 0);
        now += S;
        assert_int_equal(check(&s, PROBE_STARTUP, now, false), 0);
        now += S; /* T0 + 2 s */
        assert_int_equal(check(&s, PROBE_STARTUP, now, true), PROBE_RESULT_STATUS_CHANGED);
        assert_false(probe_set_ready(&s)); /* the readiness probe still has to pass */
        /* startup never runs again in this run */
        assert_int_equal(probe_set_wakeup(&s, PROBE_STARTUP), 0);
        assert_false(probe_set_due(&s, PROBE_STARTUP, now + 100 * S));
        /* readiness: due at once; liveness: its initial delay counts from the run's start */
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), now);
        assert_int_equal(probe_set_wakeup(&s, PROBE_LIVENESS), T0 + 3 * S);
        assert_int_equal(s.sm[PROBE_LIVENESS].status, PROBE_STATUS_PENDING);
        assert_int_equal(check(&s, PROBE_READINESS, now, true),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED);
        assert_true(probe_set_ready(&s));
}

static void test_probe_startup_without_readiness_ready_on_success(void **state) {
        struct probe_set s;
        struct probe_timing st = timing(0, 1, 1, 3);
        setup_set(&s, &st, NULL, NULL);
        assert_false(probe_set_ready(&s));
        assert_int_equal(check(&s, PROBE_STARTUP, T0, true),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED);
        assert_true(probe_set_ready(&s));
}

static void test_probe_startup_failure_restarts(void **state) {
        struct probe_set s;
        struct probe_timing st = timing(0, 1, 1, 3), r = timing(0, 1, 1, 1);
        setup_set(&s, &st, NULL, &r);
        uint64_t now = T0;
        assert_int_equal(check(&s, PROBE_STARTUP, now, false), 0);
        now += S;
        assert_int_equal(check(&s, PROBE_STARTUP, now, false), 0);
        now += S;
        unsigned res = check(&s, PROBE_STARTUP, now, false);
        assert_int_equal(res, PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_RESTART);
        assert_false(probe_set_due(&s, PROBE_READINESS, now + 100 * S));
        assert_false(probe_set_ready(&s));
}

static void test_probe_timeout_is_a_failure(void **state) {
        struct probe_set s;
        struct probe_timing l = timing(0, 10, 1, 1);
        l.timeout = 2 * S;
        setup_set(&s, NULL, &l, NULL);
        probe_set_begin(&s, PROBE_LIVENESS, T0);
        /* the caller wakes up at the deadline and feeds the failure */
        uint64_t deadline = probe_set_wakeup(&s, PROBE_LIVENESS);
        assert_int_equal(deadline, T0 + 2 * S);
        assert_true(probe_set_result(&s, PROBE_LIVENESS, deadline, false) & PROBE_RESULT_RESTART);
}

static void test_probe_stop(void **state) {
        struct probe_set s;
        struct probe_timing r = timing(0, 1, 1, 3);
        setup_set(&s, NULL, NULL, &r);
        check(&s, PROBE_READINESS, T0, true);
        probe_set_stop(&s);
        assert_false(probe_set_due(&s, PROBE_READINESS, T0 + 10 * S));
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), 0);
        assert_int_equal(probe_set_result(&s, PROBE_READINESS, T0 + S, false), 0);
        /* the last verdict stays visible */
        assert_int_equal(s.sm[PROBE_READINESS].status, PROBE_STATUS_SUCCESS);
}

static void test_probe_notify_readiness(void **state) {
        struct probe_set s;
        struct probe_timing r = timing(0, 10, 1, 3);
        r.passive = true;
        r.success_threshold = r.failure_threshold = 1;
        setup_set(&s, NULL, NULL, &r);
        /* no schedule: nothing is ever due */
        assert_int_equal(probe_set_wakeup(&s, PROBE_READINESS), 0);
        assert_false(probe_set_due(&s, PROBE_READINESS, T0 + 1000 * S));
        assert_false(probe_set_ready(&s));
        /* READY=1 */
        assert_int_equal(probe_set_result(&s, PROBE_READINESS, T0 + S, true),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED);
        assert_true(probe_set_ready(&s));
        /* STOPPING=1 */
        assert_int_equal(probe_set_result(&s, PROBE_READINESS, T0 + 2 * S, false),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED |
                                 PROBE_RESULT_READINESS_FAILED_CHANGED);
        assert_false(probe_set_ready(&s));
}

static void test_probe_notify_watchdog(void **state) {
        struct probe_set s;
        struct probe_timing l = timing(2, 10, 1, 1);
        l.passive = true;
        l.watchdog = 5 * S;
        setup_set(&s, NULL, &l, NULL);
        /* the first WATCHDOG=1 is due initialDelay + watchdog after the start */
        assert_int_equal(probe_set_wakeup(&s, PROBE_LIVENESS), T0 + 7 * S);
        assert_false(probe_set_due(&s, PROBE_LIVENESS, T0 + 7 * S - 1));
        /* each WATCHDOG=1 pushes it out */
        assert_int_equal(probe_set_result(&s, PROBE_LIVENESS, T0 + 6 * S, true), PROBE_RESULT_STATUS_CHANGED);
        assert_int_equal(probe_set_wakeup(&s, PROBE_LIVENESS), T0 + 11 * S);
        assert_int_equal(probe_set_result(&s, PROBE_LIVENESS, T0 + 10 * S, true), 0);
        assert_int_equal(probe_set_wakeup(&s, PROBE_LIVENESS), T0 + 15 * S);
        /* missed: due; the caller feeds the failure */
        assert_true(probe_set_due(&s, PROBE_LIVENESS, T0 + 15 * S));
        assert_true(probe_set_result(&s, PROBE_LIVENESS, T0 + 15 * S, false) & PROBE_RESULT_RESTART);
}

static void test_probe_assume_ready(void **state) {
        struct probe_set s;
        struct probe_timing st = timing(0, 1, 1, 3), l = timing(30, 5, 1, 3), r = timing(30, 5, 2, 3);
        setup_set(&s, &st, &l, &r);
        uint64_t now = T0 + 100 * S; /* berthd came back long after the start */
        probe_set_assume_ready(&s, now);
        assert_true(probe_set_ready(&s));
        assert_int_equal(s.sm[PROBE_STARTUP].status, PROBE_STATUS_SUCCESS);
        assert_false(probe_set_due(&s, PROBE_STARTUP, now));
        assert_true(probe_set_due(&s, PROBE_LIVENESS, now));
        assert_true(probe_set_due(&s, PROBE_READINESS, now));
        /* and the probes go on judging it */
        for (int i = 0; i < 2; i++)
                assert_int_equal(check(&s, PROBE_READINESS, now + (uint64_t) i * 5 * S, false), 0);
        assert_int_equal(check(&s, PROBE_READINESS, now + 10 * S, false),
                         PROBE_RESULT_STATUS_CHANGED | PROBE_RESULT_READY_CHANGED |
                                 PROBE_RESULT_READINESS_FAILED_CHANGED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_probe_defaults),
                cmocka_unit_test(test_probe_no_probes_ready_at_once),
                cmocka_unit_test(test_probe_initial_delay_and_period),
                cmocka_unit_test(test_probe_period_from_check_start),
                cmocka_unit_test(test_probe_readiness_thresholds),
                cmocka_unit_test(test_probe_readiness_never_ready_fails),
                cmocka_unit_test(test_probe_liveness_failure_restarts_once),
                cmocka_unit_test(test_probe_startup_gates_the_others),
                cmocka_unit_test(test_probe_startup_without_readiness_ready_on_success),
                cmocka_unit_test(test_probe_startup_failure_restarts),
                cmocka_unit_test(test_probe_timeout_is_a_failure),
                cmocka_unit_test(test_probe_stop),
                cmocka_unit_test(test_probe_notify_readiness),
                cmocka_unit_test(test_probe_notify_watchdog),
                cmocka_unit_test(test_probe_assume_ready),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
