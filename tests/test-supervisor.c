/* test-supervisor.c: the replica supervisor (agent/supervisor.c).
 *
 * Driven by a fake clock and a fake random source, as berthd drives it with
 * the real ones. One table walks every (state, event) pair; scenarios follow
 * a replica through crash loops, stops, liveness failures and live restore.
 * Actions are compared as text ("record,arm-timer,signal") so a failure
 * shows the whole list. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "supervisor.h"

#define MS UINT64_C(1000) /* µs */
#define PID 4242
#define ALMOST_ONE 0x1.fffffffffffffp-1 /* the largest double below 1 */

struct fake {
        struct sup_config cfg;
        struct sup_record rec;
        struct sup_time now;
        struct sup_actions acts;
        double r;        /* what rand01 returns */
        unsigned n_rand; /* how often it was asked */
};

static double fake_rand(void *userdata) {
        struct fake *f = userdata;
        f->n_rand++;
        return f->r;
}

static void fake_init(struct fake *f, enum restart_policy policy) {
        memset(f, 0, sizeof(*f));
        sup_config_init(&f->cfg);
        f->cfg.policy = policy;
        f->cfg.rand01 = fake_rand;
        f->cfg.userdata = f;
        f->r = 0.5;
        f->now = (struct sup_time) { .mono = UINT64_C(1000000000), .real = UINT64_C(1700000000000000) };
        sup_record_init(&f->rec, f->now);
}

static void advance_ms(struct fake *f, uint64_t ms) {
        f->now.mono += ms * MS;
        f->now.real += ms * MS;
}

static const char *acts_str(const struct sup_actions *a) {
        static char buf[256];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < a->n; i++)
                len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
                                         sup_action_type_to_string(a->v[i].type));
        return buf;
}

static const struct sup_action *find_action(const struct sup_actions *a, enum sup_action_type t) {
        for (size_t i = 0; i < a->n; i++)
                if (a->v[i].type == t)
                        return &a->v[i];
        return NULL;
}

/* Feed an event at the fake's now; returns the actions as text. */
static const char *feed(struct fake *f, struct sup_event ev) {
        ev.now = f->now;
        int r = sup_step(&f->cfg, &f->rec, &ev, &f->acts);
        assert_int_equal(r, (int) f->acts.n);
        return acts_str(&f->acts);
}

#define EV(t, ...) ((struct sup_event) { .type = SUP_EVENT_##t, __VA_ARGS__ })
#define START EV(START)
#define STARTED EV(STARTED, .pid = PID)
#define EXIT(code) EV(EXITED, .exit_code = (code))
#define KILLED(sig) EV(EXITED, .exit_code = -1, .exit_signal = (sig))
#define STOP(ms) EV(STOP, .grace_ms = (ms))
#define TIMER EV(TIMER)
#define LIVENESS EV(LIVENESS_FAILED)

#define assert_state(f, s) assert_string_equal(replica_state_to_string((f)->rec.state), replica_state_to_string(s))
#define assert_reason(f, r) assert_string_equal(sup_reason_to_string((f)->rec.last_exit.reason), r)

static void run(struct fake *f) {
        assert_string_equal(feed(f, START), "record,spawn");
        assert_string_equal(feed(f, STARTED), "record");
        assert_state(f, REPLICA_RUNNING);
}

/* After an end: the delay the supervisor chose, in ms (0 = spawned at once).
 * Checks the BACKOFF bookkeeping on the way. */
static uint64_t chosen_delay_ms(struct fake *f) {
        if (f->rec.state == REPLICA_STARTING) {
                assert_non_null(find_action(&f->acts, SUP_ACTION_SPAWN));
                return 0;
        }
        assert_state(f, REPLICA_BACKOFF);
        assert_string_equal(acts_str(&f->acts), "record,arm-timer");
        uint64_t at = find_action(&f->acts, SUP_ACTION_ARM_TIMER)->at;
        assert_int_equal(at, f->rec.timer_at);
        assert_int_equal(at, f->rec.next_start_at.mono);
        assert_int_equal(f->rec.next_start_at.real - f->now.real, at - f->now.mono);
        assert_int_equal((at - f->now.mono) % MS, 0);
        return (at - f->now.mono) / MS;
}

/* From BACKOFF (or STARTING after an immediate restart) to RUNNING. */
static void restart(struct fake *f) {
        if (f->rec.state == REPLICA_BACKOFF) {
                f->now.mono = f->rec.timer_at;
                f->now.real = f->rec.next_start_at.real;
                assert_string_equal(feed(f, TIMER), "record,spawn");
        }
        assert_state(f, REPLICA_STARTING);
        assert_string_equal(feed(f, STARTED), "record");
}

/* ---------------------------------------------------------------- the table */

/* Reach a state through real events. EXITED and FAILED need policy Never on
 * the way; the pair itself is then fed under Always. */
static void reach(struct fake *f, enum replica_state s) {
        fake_init(f, s == REPLICA_EXITED || s == REPLICA_FAILED ? RESTART_NEVER : RESTART_ALWAYS);
        switch (s) {
        case REPLICA_STOPPED:
                break;
        case REPLICA_STARTING:
                feed(f, START);
                break;
        case REPLICA_RUNNING:
                run(f);
                break;
        case REPLICA_STOPPING:
                run(f);
                feed(f, STOP(5000));
                break;
        case REPLICA_KILLING:
                run(f);
                feed(f, STOP(5000));
                advance_ms(f, 5000);
                feed(f, TIMER);
                break;
        case REPLICA_BACKOFF:
                run(f);
                feed(f, EXIT(1));
                restart(f);
                feed(f, EXIT(1));
                break;
        case REPLICA_EXITED:
                run(f);
                feed(f, EXIT(0));
                break;
        case REPLICA_FAILED:
                run(f);
                feed(f, EXIT(1));
                break;
        default:
                fail();
        }
        assert_state(f, s);
        f->cfg.policy = RESTART_ALWAYS;
}

struct pair {
        enum replica_state from;
        enum sup_event_type event;
        enum replica_state to;
        const char *actions; /* "" = a no-op pair */
};

#define P(from, ev, to, acts) { REPLICA_##from, SUP_EVENT_##ev, REPLICA_##to, acts }

static const struct pair pairs[] = {
        P(STARTING, START, STARTING, ""),
        P(STARTING, STARTED, RUNNING, "record"),
        P(STARTING, START_FAILED, STARTING, "record,spawn"),
        P(STARTING, EXITED, STARTING, "record,spawn"),
        P(STARTING, STOP, STOPPING, "record,arm-timer,signal"),
        P(STARTING, TIMER, STARTING, ""),
        P(STARTING, LIVENESS_FAILED, STARTING, ""),

        P(RUNNING, START, RUNNING, ""),
        P(RUNNING, STARTED, RUNNING, ""),
        P(RUNNING, START_FAILED, RUNNING, ""),
        P(RUNNING, EXITED, STARTING, "record,spawn"),
        P(RUNNING, STOP, STOPPING, "record,arm-timer,signal"),
        P(RUNNING, TIMER, RUNNING, ""),
        P(RUNNING, LIVENESS_FAILED, STOPPING, "record,arm-timer,signal"),

        P(STOPPING, START, STOPPING, "record"),
        P(STOPPING, STARTED, STOPPING, ""),
        P(STOPPING, START_FAILED, STOPPING, ""),
        P(STOPPING, EXITED, STOPPED, "record,disarm-timer,remove"),
        P(STOPPING, STOP, STOPPING, ""),
        P(STOPPING, TIMER, KILLING, "record,kill"),
        P(STOPPING, LIVENESS_FAILED, STOPPING, ""),

        P(KILLING, START, KILLING, "record"),
        P(KILLING, STARTED, KILLING, ""),
        P(KILLING, START_FAILED, KILLING, ""),
        P(KILLING, EXITED, STOPPED, "record,remove"),
        P(KILLING, STOP, KILLING, ""),
        P(KILLING, TIMER, KILLING, "kill"),
        P(KILLING, LIVENESS_FAILED, KILLING, ""),

        P(BACKOFF, START, BACKOFF, ""),
        P(BACKOFF, STARTED, BACKOFF, ""),
        P(BACKOFF, START_FAILED, BACKOFF, ""),
        P(BACKOFF, EXITED, BACKOFF, ""),
        P(BACKOFF, STOP, STOPPED, "record,disarm-timer,remove"),
        P(BACKOFF, TIMER, STARTING, "record,spawn"),
        P(BACKOFF, LIVENESS_FAILED, BACKOFF, ""),

        P(EXITED, START, STARTING, "record,spawn"),
        P(EXITED, STARTED, EXITED, ""),
        P(EXITED, START_FAILED, EXITED, ""),
        P(EXITED, EXITED, EXITED, ""),
        P(EXITED, STOP, STOPPED, "record,remove"),
        P(EXITED, TIMER, EXITED, ""),
        P(EXITED, LIVENESS_FAILED, EXITED, ""),

        P(FAILED, START, STARTING, "record,spawn"),
        P(FAILED, STARTED, FAILED, ""),
        P(FAILED, START_FAILED, FAILED, ""),
        P(FAILED, EXITED, FAILED, ""),
        P(FAILED, STOP, STOPPED, "record,remove"),
        P(FAILED, TIMER, FAILED, ""),
        P(FAILED, LIVENESS_FAILED, FAILED, ""),

        P(STOPPED, START, STARTING, "record,spawn"),
        P(STOPPED, STARTED, STOPPED, ""),
        P(STOPPED, START_FAILED, STOPPED, ""),
        P(STOPPED, EXITED, STOPPED, ""),
        P(STOPPED, STOP, STOPPED, "remove"),
        P(STOPPED, TIMER, STOPPED, ""),
        P(STOPPED, LIVENESS_FAILED, STOPPED, ""),
};

static struct sup_event pair_event(enum sup_event_type t) {
        switch (t) {
        case SUP_EVENT_START: return START;
        case SUP_EVENT_STARTED: return EV(STARTED, .pid = PID + 1);
        case SUP_EVENT_START_FAILED: return EV(START_FAILED, .message = "boom");
        case SUP_EVENT_EXITED: return EXIT(1);
        case SUP_EVENT_STOP: return STOP(5000);
        case SUP_EVENT_TIMER: return TIMER;
        case SUP_EVENT_LIVENESS_FAILED: return LIVENESS;
        default: fail();
        }
        return START;
}

static void test_supervisor_every_state_event_pair(void **state) {
        bool seen[_REPLICA_STATE_MAX][_SUP_EVENT_MAX] = {};

        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                const struct pair *p = &pairs[i];
                struct fake f;

                reach(&f, p->from);
                /* An hour later: every timer is due, every run was long. */
                advance_ms(&f, 3600 * 1000);
                struct sup_record before;
                memcpy(&before, &f.rec, sizeof(before));
                const char *got = feed(&f, pair_event(p->event));

                if (!streq(got, p->actions) || f.rec.state != p->to)
                        fail_msg("%s × %s: %s [%s], expected %s [%s]", replica_state_to_string(p->from),
                                 sup_event_type_to_string(p->event), replica_state_to_string(f.rec.state), got,
                                 replica_state_to_string(p->to), p->actions);
                /* No-op pairs leave the record untouched, byte for byte;
                 * RECORD comes exactly when the record changed. */
                bool same = memcmp(&before, &f.rec, sizeof(before)) == 0;
                if (streq(p->actions, "") && !same)
                        fail_msg("%s × %s: no-op changed the record", replica_state_to_string(p->from),
                                 sup_event_type_to_string(p->event));
                assert_int_equal(!same, find_action(&f.acts, SUP_ACTION_RECORD) != NULL);
                seen[p->from][p->event] = true;
        }
        for (unsigned s = 0; s < _REPLICA_STATE_MAX; s++)
                for (unsigned e = 0; e < _SUP_EVENT_MAX; e++)
                        if (!seen[s][e])
                                fail_msg("pair %s × %s not in the table", replica_state_to_string(s),
                                         sup_event_type_to_string(e));
}

/* ---------------------------------------------------------------- backoff */

static void test_supervisor_crash_loop_default_delays(void **state) {
        static const uint64_t expected[] = { 0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000 };
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                advance_ms(&f, 1000);
                feed(&f, EXIT(1));
                assert_int_equal(chosen_delay_ms(&f), expected[i]);
                assert_int_equal(f.rec.streak, i + 1);
                restart(&f);
        }
        /* 0.5 = no jitter; the first restart did not even ask. */
        assert_int_equal(f.n_rand, ELEMENTSOF(expected) - 1);
}

static void check_jitter(double r, double factor) {
        static const uint64_t base[] = { 0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000 };
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        f.r = r;
        run(&f);
        for (size_t i = 0; i < ELEMENTSOF(base); i++) {
                advance_ms(&f, 10);
                feed(&f, EXIT(1));
                uint64_t d = f.rec.state == REPLICA_BACKOFF ? f.rec.timer_at - f.now.mono : 0;
                uint64_t want = (uint64_t) ((double) base[i] * MS * factor + 0.5);
                assert_int_equal(d, want);
                assert_true(d <= 33000 * MS);
                restart(&f);
        }
}

static void test_supervisor_jitter_bounds(void **state) {
        check_jitter(0.0, 0.9);                 /* -10 %: 90, 180, ... 27000 */
        check_jitter(ALMOST_ONE, 1.1); /* +10 %: 110, 220, ... 33000 */
}

static void test_supervisor_backoff_delay_function(void **state) {
        struct restart_backoff b = { .initial = 100, .max = 30000, .multiplier = 2.0, .reset_after = 60000 };

        assert_int_equal(sup_backoff_delay_usec(&b, 0, 0.99), 0);
        assert_int_equal(sup_backoff_delay_usec(&b, 1, 0.5), 100 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 2, 0.5), 200 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 1, 0.0), 90 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 1, ALMOST_ONE), 110 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 9, 0.5), 25600 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 10, 0.5), 30000 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, UINT32_MAX, 0.5), 30000 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, UINT32_MAX, ALMOST_ONE), 33000 * MS);
        /* Out-of-range randomness is clamped, never trusted. */
        assert_int_equal(sup_backoff_delay_usec(&b, 1, -1.0), 90 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 1, 7.0), 110 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 1, NAN), 90 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 1, INFINITY), 110 * MS);
        assert_int_equal(sup_backoff_delay_usec(NULL, 1, 0.5), 0);

        /* Multiplier 1: constant; below 1 (or NaN) is taken as 1. */
        b.multiplier = 1.0;
        assert_int_equal(sup_backoff_delay_usec(&b, UINT32_MAX, 0.5), 100 * MS);
        b.multiplier = 0.5;
        assert_int_equal(sup_backoff_delay_usec(&b, 5, 0.5), 100 * MS);
        b.multiplier = NAN;
        assert_int_equal(sup_backoff_delay_usec(&b, 5, 0.5), 100 * MS);
        /* A multiplier barely above 1 must not spin (k up to 2^32). */
        b.multiplier = 1.0000001;
        assert_int_equal(sup_backoff_delay_usec(&b, UINT32_MAX, 0.5), 30000 * MS);
        b.multiplier = 100;
        assert_int_equal(sup_backoff_delay_usec(&b, 3, 0.5), 30000 * MS);
        assert_int_equal(sup_backoff_delay_usec(&b, 2, 0.5), 10000 * MS);

        /* initial above max: max. initial 0: no delay at all. */
        b = (struct restart_backoff) { .initial = 5000, .max = 1000, .multiplier = 2 };
        assert_int_equal(sup_backoff_delay_usec(&b, 1, 0.5), 1000 * MS);
        b.initial = 0;
        assert_int_equal(sup_backoff_delay_usec(&b, 7, 0.99), 0);
        /* Beyond µs in 64 bits: saturates. */
        b = (struct restart_backoff) { .initial = UINT64_MAX, .max = UINT64_MAX, .multiplier = 2 };
        assert_int_equal(sup_backoff_delay_usec(&b, 3, 0.5), UINT64_MAX);
}

static void test_supervisor_streak_resets_after_uptime(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        static const uint64_t quick[] = { 0, 100, 200 };
        for (size_t i = 0; i < ELEMENTSOF(quick); i++) {
                advance_ms(&f, 5);
                feed(&f, EXIT(1));
                assert_int_equal(chosen_delay_ms(&f), quick[i]);
                restart(&f);
        }
        /* Up a hair short of reset_after: still in the loop. */
        advance_ms(&f, 60000 - 1);
        feed(&f, EXIT(1));
        assert_int_equal(chosen_delay_ms(&f), 400);
        restart(&f);
        /* Up exactly reset_after: a fresh streak, restarted at once. */
        advance_ms(&f, 60000);
        feed(&f, EXIT(1));
        assert_int_equal(chosen_delay_ms(&f), 0);
        assert_int_equal(f.rec.streak, 1);
        restart(&f);
        advance_ms(&f, 5);
        feed(&f, EXIT(1));
        assert_int_equal(chosen_delay_ms(&f), 100);
        /* Restarts are counted whatever the streak. */
        assert_int_equal(f.rec.restart_count, 5);
}

/* The standing order: no order where the table would not restart at once. */
static void test_supervisor_standing_order_conditions(void **state) {
        struct fake f;
        struct sup_order o;

        fake_init(&f, RESTART_ALWAYS);
        assert_false(sup_standing_order(&f.cfg, &f.rec, &o)); /* not running */
        assert_string_equal(feed(&f, START), "record,spawn");
        assert_false(sup_standing_order(&f.cfg, &f.rec, &o)); /* not confirmed */
        assert_string_equal(feed(&f, STARTED), "record");
        assert_true(sup_standing_order(&f.cfg, &f.rec, &o)); /* streak 0: at once, whatever the uptime */
        assert_int_equal(o.min_uptime_usec, 0);
        assert_false(o.on_failure);
        advance_ms(&f, 5);
        feed(&f, EXIT(1));
        restart(&f);
        assert_true(sup_standing_order(&f.cfg, &f.rec, &o)); /* in a streak: only after resetAfter */
        assert_int_equal(o.min_uptime_usec, 60000 * MS + SUP_ORDER_MARGIN_USEC);
        assert_string_equal(feed(&f, STOP(1000)), "record,arm-timer,signal");
        assert_false(sup_standing_order(&f.cfg, &f.rec, &o)); /* stopping */

        fake_init(&f, RESTART_ON_FAILURE);
        run(&f);
        assert_true(sup_standing_order(&f.cfg, &f.rec, &o));
        assert_true(o.on_failure);

        fake_init(&f, RESTART_NEVER);
        run(&f);
        assert_false(sup_standing_order(&f.cfg, &f.rec, &o));

        fake_init(&f, RESTART_ALWAYS); /* no backoff at all: always at once */
        f.cfg.backoff.initial = 0;
        run(&f);
        advance_ms(&f, 5);
        feed(&f, EXIT(1));
        restart(&f);
        assert_true(sup_standing_order(&f.cfg, &f.rec, &o));
        assert_int_equal(o.min_uptime_usec, 0);
}

/* Whenever the order says "at once" for an end, the table, fed that end,
 * spawns at once: over policies, streaks, uptimes around resetAfter and ends.
 * (The shim measures uptime from a little earlier than berthd: the margin.) */
static void test_supervisor_standing_order_agrees_with_table(void **state) {
        static const enum restart_policy policies[] = { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
        static const uint64_t uptimes_ms[] = { 0, 1, 99, 59999, 60000, 60099, 60100, 60101, 3600000 };
        static const int codes[] = { 0, 1, -9 };
        unsigned agreed = 0;

        for (size_t p = 0; p < ELEMENTSOF(policies); p++)
                for (unsigned streak = 0; streak < 4; streak++)
                        for (size_t u = 0; u < ELEMENTSOF(uptimes_ms); u++)
                                for (size_t c = 0; c < ELEMENTSOF(codes); c++) {
                                        struct fake f;
                                        struct sup_order o;

                                        fake_init(&f, policies[p]);
                                        run(&f);
                                        /* build the streak with quick failures */
                                        for (unsigned k = 0; k < streak && f.rec.state == REPLICA_RUNNING; k++) {
                                                advance_ms(&f, 1);
                                                feed(&f, EXIT(1));
                                                if (f.rec.state != REPLICA_STARTING && f.rec.state != REPLICA_BACKOFF)
                                                        break;
                                                restart(&f);
                                        }
                                        if (f.rec.state != REPLICA_RUNNING)
                                                continue;
                                        bool ordered = sup_standing_order(&f.cfg, &f.rec, &o);
                                        advance_ms(&f, uptimes_ms[u]);
                                        bool failure = codes[c] != 0;
                                        bool shim_restarts = ordered && uptimes_ms[u] * MS >= o.min_uptime_usec &&
                                                             (!o.on_failure || failure);
                                        feed(&f, codes[c] < 0 ? KILLED(-codes[c]) : EXIT(codes[c]));
                                        if (shim_restarts) {
                                                assert_int_equal(f.rec.state, REPLICA_STARTING);
                                                assert_non_null(find_action(&f.acts, SUP_ACTION_SPAWN));
                                                agreed++;
                                        }
                                }
        assert_true(agreed > 20); /* the property was exercised */
}

static void test_supervisor_never_gives_up(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        for (unsigned i = 0; i < 1000; i++) {
                feed(&f, EXIT(1));
                restart(&f);
        }
        feed(&f, EXIT(1));
        assert_state(&f, REPLICA_BACKOFF);
        assert_int_equal(chosen_delay_ms(&f), 30000);
        assert_int_equal(f.rec.restart_count, 1000);
        assert_int_equal(f.rec.streak, 1001);
}

static void test_supervisor_restart_count_exact_over_10_crashes(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        assert_int_equal(f.rec.restart_count, 0);
        for (unsigned i = 1; i <= 10; i++) {
                advance_ms(&f, 50);
                feed(&f, KILLED(SIGSEGV));
                assert_reason(&f, "Signaled");
                /* Counted when performed, not when decided. */
                if (f.rec.state == REPLICA_BACKOFF)
                        assert_int_equal(f.rec.restart_count, i - 1);
                restart(&f);
                assert_int_equal(f.rec.restart_count, i);
        }
        /* Asked-for starts are not restarts. */
        feed(&f, STOP(0));
        feed(&f, KILLED(SIGKILL));
        assert_string_equal(feed(&f, START), "record,spawn");
        assert_int_equal(f.rec.restart_count, 10);
        assert_int_equal(f.rec.streak, 0);
}

/* ---------------------------------------------------------------- policies and reasons */

static void test_supervisor_on_failure_completed_exits(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ON_FAILURE);
        run(&f);
        advance_ms(&f, 1234);
        assert_string_equal(feed(&f, EXIT(0)), "record");
        assert_state(&f, REPLICA_EXITED);
        assert_reason(&f, "Completed");
        assert_int_equal(f.rec.last_exit.exit_code, 0);
        assert_int_equal(f.rec.last_exit.at, f.now.real);
        assert_int_equal(f.rec.since.real, f.now.real);
        assert_int_equal(f.rec.since.mono, f.now.mono);
        assert_int_equal(f.rec.restart_count, 0);
        assert_int_equal(f.rec.pid, 0);
}

static void test_supervisor_on_failure_restarts_failures(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ON_FAILURE);
        run(&f);
        assert_string_equal(feed(&f, EXIT(3)), "record,spawn");
        assert_reason(&f, "Error");
        assert_int_equal(f.rec.last_exit.exit_code, 3);
        restart(&f);
        feed(&f, KILLED(SIGABRT));
        assert_reason(&f, "Signaled");
        assert_state(&f, REPLICA_BACKOFF);
        restart(&f);
        feed(&f, EV(EXITED, .exit_code = 0, .oom_killed = true));
        assert_reason(&f, "OOMKilled");
        assert_state(&f, REPLICA_BACKOFF);
}

static void test_supervisor_always_restarts_after_success(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        assert_string_equal(feed(&f, EXIT(0)), "record,spawn");
        assert_reason(&f, "Completed");
        assert_int_equal(f.rec.restart_count, 1);
}

/* Never: a failure ends in FAILED, a success in EXITED; neither restarts. */
static void test_supervisor_never_policy(void **state) {
        struct fake f;

        fake_init(&f, RESTART_NEVER);
        run(&f);
        assert_string_equal(feed(&f, EXIT(1)), "record");
        assert_state(&f, REPLICA_FAILED);
        assert_reason(&f, "Error");

        fake_init(&f, RESTART_NEVER);
        run(&f);
        assert_string_equal(feed(&f, EXIT(0)), "record");
        assert_state(&f, REPLICA_EXITED);
        assert_reason(&f, "Completed");

        fake_init(&f, RESTART_NEVER);
        run(&f);
        feed(&f, KILLED(SIGTERM));
        assert_state(&f, REPLICA_FAILED);
        assert_reason(&f, "Signaled");

        fake_init(&f, RESTART_NEVER);
        feed(&f, START);
        assert_string_equal(feed(&f, EV(START_FAILED, .message = "no such file")), "record");
        assert_state(&f, REPLICA_FAILED);
        assert_reason(&f, "ExecFailed");
        assert_int_equal(f.rec.restart_count, 0);
        /* Nothing is armed: a TIMER changes nothing. */
        advance_ms(&f, 3600 * 1000);
        assert_string_equal(feed(&f, TIMER), "");
        assert_state(&f, REPLICA_FAILED);
}

static void test_supervisor_oom_wins_over_signal(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, EV(EXITED, .exit_code = -1, .exit_signal = SIGKILL, .oom_killed = true));
        assert_reason(&f, "OOMKilled");
        /* The status is kept as it was. */
        assert_int_equal(f.rec.last_exit.exit_code, -1);
        assert_int_equal(f.rec.last_exit.exit_signal, SIGKILL);
        restart(&f);
        /* A child was OOM-killed, the service exited 1 because of it. */
        feed(&f, EV(EXITED, .exit_code = 1, .oom_killed = true));
        assert_reason(&f, "OOMKilled");
        restart(&f);
        feed(&f, KILLED(SIGKILL));
        assert_reason(&f, "Signaled");
}

static void test_supervisor_exec_failure_retried_with_backoff(void **state) {
        static const char msg[] = "exec /srv/app: No such file or directory";
        struct fake f;

        fake_init(&f, RESTART_ON_FAILURE);
        feed(&f, START);
        assert_string_equal(feed(&f, EV(START_FAILED, .message = msg)), "record,spawn");
        assert_reason(&f, "ExecFailed");
        assert_string_equal(f.rec.last_exit.message, msg);
        assert_int_equal(f.rec.last_exit.exit_code, -1);
        assert_int_equal(f.rec.last_exit.exit_signal, 0);
        assert_int_equal(f.rec.restart_count, 1);

        /* The shim's run started but exec failed: EXITED with the flag. */
        feed(&f, EV(EXITED, .exit_code = 127, .exec_failed = true, .message = msg));
        assert_int_equal(chosen_delay_ms(&f), 100);
        assert_reason(&f, "ExecFailed");
        assert_int_equal(f.rec.last_exit.exit_code, 127);
        assert_string_equal(f.rec.last_exit.message, msg);

        advance_ms(&f, 100);
        assert_string_equal(feed(&f, TIMER), "record,spawn");
        feed(&f, EV(START_FAILED, .message = "fork: Resource temporarily unavailable"));
        assert_int_equal(chosen_delay_ms(&f), 200);
        assert_string_equal(f.rec.last_exit.message, "fork: Resource temporarily unavailable");
        assert_int_equal(f.rec.restart_count, 2);

        /* A later plain exit clears the message. */
        restart(&f);
        feed(&f, EXIT(2));
        assert_string_equal(f.rec.last_exit.message, "");
}

static void test_supervisor_message_truncated(void **state) {
        char long_msg[2000], utf8[SUP_MESSAGE_MAX + 8];
        struct fake f;

        memset(long_msg, 'x', sizeof(long_msg) - 1);
        long_msg[sizeof(long_msg) - 1] = '\0';
        fake_init(&f, RESTART_ALWAYS);
        feed(&f, START);
        feed(&f, EV(START_FAILED, .message = long_msg));
        assert_int_equal(strlen(f.rec.last_exit.message), SUP_MESSAGE_MAX - 1);

        /* "é" straddles the cut: dropped whole, not halved. */
        memset(utf8, 'a', SUP_MESSAGE_MAX - 2);
        strcpy(utf8 + SUP_MESSAGE_MAX - 2, "\xc3\xa9zz");
        feed(&f, EV(START_FAILED, .message = utf8));
        assert_int_equal(strlen(f.rec.last_exit.message), SUP_MESSAGE_MAX - 2);
}

/* ---------------------------------------------------------------- stop */

static void test_supervisor_stop_during_backoff(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, EXIT(1));
        restart(&f);
        feed(&f, EXIT(1));
        assert_state(&f, REPLICA_BACKOFF);
        advance_ms(&f, 30);
        assert_string_equal(feed(&f, STOP(10000)), "record,disarm-timer,remove");
        assert_state(&f, REPLICA_STOPPED);
        assert_reason(&f, "Error"); /* why it was down stays visible */
        assert_int_equal(f.rec.restart_count, 1);
        assert_int_equal(f.rec.timer_at, 0);
        assert_int_equal(f.rec.next_start_at.mono, 0);
        /* A TIMER already on its way is harmless. */
        advance_ms(&f, 100);
        assert_string_equal(feed(&f, TIMER), "");
        assert_state(&f, REPLICA_STOPPED);
}

static void test_supervisor_stop_grace_then_kill(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        f.cfg.stop_signal = SIGQUIT;
        run(&f);
        advance_ms(&f, 777);
        assert_string_equal(feed(&f, STOP(5000)), "record,arm-timer,signal");
        assert_int_equal(find_action(&f.acts, SUP_ACTION_SIGNAL)->signo, SIGQUIT);
        uint64_t deadline = f.now.mono + 5000 * MS;
        assert_int_equal(find_action(&f.acts, SUP_ACTION_ARM_TIMER)->at, deadline);
        assert_state(&f, REPLICA_STOPPING);

        /* Early: the timer is armed again, nothing else. */
        advance_ms(&f, 4999);
        assert_string_equal(feed(&f, TIMER), "arm-timer");
        assert_int_equal(f.acts.v[0].at, deadline);
        assert_state(&f, REPLICA_STOPPING);

        advance_ms(&f, 1);
        assert_string_equal(feed(&f, TIMER), "record,kill");
        assert_state(&f, REPLICA_KILLING);
        assert_int_equal(f.rec.timer_at, 0);

        assert_string_equal(feed(&f, KILLED(SIGKILL)), "record,remove");
        assert_state(&f, REPLICA_STOPPED);
        assert_reason(&f, "Stopped");
        assert_int_equal(f.rec.last_exit.exit_signal, SIGKILL);
        assert_int_equal(f.rec.restart_count, 0);
}

static void test_supervisor_stop_exit_within_grace(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(5000));
        advance_ms(&f, 20);
        assert_string_equal(feed(&f, EXIT(0)), "record,disarm-timer,remove");
        assert_state(&f, REPLICA_STOPPED);
        assert_reason(&f, "Stopped");
        /* Even an OOM during the stop: we stopped it. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(5000));
        feed(&f, EV(EXITED, .exit_code = -1, .exit_signal = SIGKILL, .oom_killed = true));
        assert_reason(&f, "Stopped");
}

static void test_supervisor_stop_grace_zero_kills(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        assert_string_equal(feed(&f, STOP(0)), "record,kill");
        assert_state(&f, REPLICA_KILLING);
        assert_string_equal(feed(&f, KILLED(SIGKILL)), "record,remove");
        assert_state(&f, REPLICA_STOPPED);
}

static void test_supervisor_stop_shorter_grace_wins(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(30000));
        advance_ms(&f, 1000);
        assert_string_equal(feed(&f, STOP(60000)), "");
        assert_string_equal(feed(&f, STOP(2000)), "record,arm-timer");
        assert_int_equal(f.acts.v[1].at, f.now.mono + 2000 * MS);
        assert_string_equal(feed(&f, STOP(0)), "record,disarm-timer,kill");
        assert_state(&f, REPLICA_KILLING);
}

/* STOP before the run was confirmed: the signal may have raced the spawn,
 * so it goes out again once the run is confirmed. */
static void test_supervisor_stop_before_confirmed(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        feed(&f, START);
        assert_string_equal(feed(&f, STOP(5000)), "record,arm-timer,signal");
        assert_string_equal(feed(&f, STARTED), "record,signal");
        assert_int_equal(f.rec.pid, PID);
        assert_string_equal(feed(&f, STARTED), "");
        assert_string_equal(feed(&f, EV(START_FAILED)), ""); /* confirmed runs cannot fail to start */
        assert_string_equal(feed(&f, KILLED(SIGTERM)), "record,disarm-timer,remove");

        fake_init(&f, RESTART_ALWAYS);
        feed(&f, START);
        assert_string_equal(feed(&f, STOP(0)), "record,kill");
        assert_string_equal(feed(&f, STARTED), "record,kill");

        fake_init(&f, RESTART_ALWAYS);
        feed(&f, START);
        feed(&f, STOP(0));
        assert_string_equal(feed(&f, EV(START_FAILED, .message = "x")), "record,remove");
        assert_state(&f, REPLICA_STOPPED);
        assert_reason(&f, "Stopped");
}

static void test_supervisor_start_during_stop_starts_again(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, EXIT(1));
        restart(&f);
        assert_int_equal(f.rec.restart_count, 1);
        feed(&f, STOP(5000));
        assert_string_equal(feed(&f, START), "record");
        assert_string_equal(feed(&f, START), "");
        assert_int_equal(f.rec.after_stop, SUP_AFTER_STOP_START);
        assert_string_equal(feed(&f, EXIT(0)), "record,disarm-timer,spawn");
        assert_state(&f, REPLICA_STARTING);
        assert_reason(&f, "Stopped");
        assert_int_equal(f.rec.restart_count, 1);
        assert_int_equal(f.rec.streak, 0);

        /* STOP after that START wins again. */
        feed(&f, STARTED);
        feed(&f, STOP(5000));
        feed(&f, START);
        assert_string_equal(feed(&f, STOP(5000)), "record");
        assert_string_equal(feed(&f, EXIT(0)), "record,disarm-timer,remove");
        assert_state(&f, REPLICA_STOPPED);

        /* Same while killing. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(0));
        assert_string_equal(feed(&f, START), "record");
        assert_string_equal(feed(&f, KILLED(SIGKILL)), "record,spawn");
        assert_state(&f, REPLICA_STARTING);
}

/* ---------------------------------------------------------------- liveness */

static void test_supervisor_liveness_failed_restarts(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        f.cfg.grace_ms = 2000;
        run(&f);
        advance_ms(&f, 90000);
        assert_string_equal(feed(&f, LIVENESS), "record,arm-timer,signal");
        assert_int_equal(find_action(&f.acts, SUP_ACTION_SIGNAL)->signo, SIGTERM);
        assert_int_equal(f.rec.timer_at, f.now.mono + 2000 * MS);
        assert_state(&f, REPLICA_STOPPING);
        assert_string_equal(feed(&f, LIVENESS), "");
        assert_string_equal(feed(&f, START), ""); /* a restart is coming anyway */

        advance_ms(&f, 2000);
        assert_string_equal(feed(&f, TIMER), "record,kill");
        assert_string_equal(feed(&f, KILLED(SIGKILL)), "record,spawn");
        assert_reason(&f, "LivenessFailed");
        assert_int_equal(f.rec.last_exit.exit_signal, SIGKILL);
        assert_int_equal(f.rec.restart_count, 1);
        restart(&f);

        /* Again soon, exiting cleanly on SIGTERM: still a failure, and part
         * of the streak. */
        advance_ms(&f, 1000);
        feed(&f, LIVENESS);
        assert_string_equal(feed(&f, EXIT(0)), "record,arm-timer");
        assert_reason(&f, "LivenessFailed");
        assert_state(&f, REPLICA_BACKOFF);
        assert_int_equal(f.rec.timer_at - f.now.mono, 100 * MS);
}

static void test_supervisor_liveness_failed_policies(void **state) {
        struct fake f;

        /* OnFailure restarts even after exit 0. */
        fake_init(&f, RESTART_ON_FAILURE);
        run(&f);
        feed(&f, LIVENESS);
        assert_string_equal(feed(&f, EXIT(0)), "record,disarm-timer,spawn");
        assert_reason(&f, "LivenessFailed");

        /* Never: killed, not restarted. */
        fake_init(&f, RESTART_NEVER);
        run(&f);
        feed(&f, LIVENESS);
        assert_string_equal(feed(&f, KILLED(SIGTERM)), "record,disarm-timer");
        assert_state(&f, REPLICA_FAILED);
        assert_reason(&f, "LivenessFailed");

        /* Grace 0: killed at once. OOM still wins as the reason. */
        fake_init(&f, RESTART_ALWAYS);
        f.cfg.grace_ms = 0;
        run(&f);
        assert_string_equal(feed(&f, LIVENESS), "record,kill");
        feed(&f, EV(EXITED, .exit_code = -1, .exit_signal = SIGKILL, .oom_killed = true));
        assert_reason(&f, "OOMKilled");

        /* STOP during the liveness stop: STOPPED, not restarted. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, LIVENESS);
        assert_string_equal(feed(&f, STOP(60000)), "record");
        assert_string_equal(feed(&f, EXIT(0)), "record,disarm-timer,remove");
        assert_reason(&f, "Stopped");
}

/* ---------------------------------------------------------------- live restore */

static const char *restore(struct fake *f, struct sup_found found, int expect_events) {
        assert_int_equal(sup_restore(&f->cfg, &f->rec, &found, f->now, &f->acts), expect_events);
        return acts_str(&f->acts);
}

static void test_supervisor_restore_running(void **state) {
        struct sup_event ev[SUP_RESTORE_EVENTS_MAX];
        struct fake f;

        /* Still running: adopted as it is. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        struct sup_record before;
        memcpy(&before, &f.rec, sizeof(before));
        advance_ms(&f, 5000);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = PID }, 0), "");
        assert_memory_equal(&before, &f.rec, sizeof(before));

        /* Confirmed while berthd was away. */
        fake_init(&f, RESTART_ALWAYS);
        feed(&f, START);
        assert_int_equal(sup_restore_events(&f.rec, &(struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = 9 },
                                            f.now, ev),
                         1);
        assert_int_equal(ev[0].type, SUP_EVENT_STARTED);
        assert_int_equal(ev[0].pid, 9);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = 9 }, 1), "record");
        assert_state(&f, REPLICA_RUNNING);
        assert_int_equal(f.rec.pid, 9);
}

static void test_supervisor_restore_exited_while_away(void **state) {
        struct sup_event ev[SUP_RESTORE_EVENTS_MAX];
        struct fake f;
        struct sup_found found = { .kind = SUP_FOUND_EXITED, .pid = PID, .exit_code = 2 };

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        advance_ms(&f, 1000);
        assert_string_equal(restore(&f, found, 1), "record,spawn");
        assert_reason(&f, "Error");
        assert_int_equal(f.rec.last_exit.exit_code, 2);

        /* Started and ended while away: both events, in order. */
        fake_init(&f, RESTART_NEVER);
        feed(&f, START);
        found.oom_killed = true;
        assert_int_equal(sup_restore_events(&f.rec, &found, f.now, ev), 2);
        assert_int_equal(ev[0].type, SUP_EVENT_STARTED);
        assert_int_equal(ev[1].type, SUP_EVENT_EXITED);
        assert_true(ev[1].oom_killed);
        assert_string_equal(restore(&f, found, 2), "record,record");
        assert_state(&f, REPLICA_FAILED);
        assert_reason(&f, "OOMKilled");

        /* Ended during our stop: the stop is done. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(5000));
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_EXITED, .exit_code = 0 }, 1),
                            "record,remove");
        assert_state(&f, REPLICA_STOPPED);
}

static void test_supervisor_restore_shim_gone(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_GONE }, 1), "record,spawn");
        assert_reason(&f, "Error");
        assert_int_equal(f.rec.last_exit.exit_code, -1);
        assert_true(strstr(f.rec.last_exit.message, "exit status lost") != NULL);

        fake_init(&f, RESTART_NEVER);
        feed(&f, START);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_GONE }, 1), "record");
        assert_state(&f, REPLICA_FAILED);
}

static void test_supervisor_restore_rearms_timers(void **state) {
        struct fake f;

        /* BACKOFF: nothing runs, the restart timer is armed again. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, EXIT(1));
        restart(&f);
        feed(&f, EXIT(1));
        uint64_t at = f.rec.timer_at;
        advance_ms(&f, 10);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_GONE }, 0), "arm-timer");
        assert_int_equal(f.acts.v[0].at, at);

        /* STOPPING: the grace timer too. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(5000));
        at = f.rec.timer_at;
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = PID }, 0),
                            "arm-timer");
        assert_int_equal(f.acts.v[0].at, at);

        /* KILLING: the kill goes out again. */
        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, STOP(0));
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = PID }, 1), "kill");
        assert_state(&f, REPLICA_KILLING);
}

static void test_supervisor_restore_kills_stray_runs(void **state) {
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = 1 }, 0), "kill");
        assert_state(&f, REPLICA_STOPPED);
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_EXITED }, 0), "");

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        feed(&f, EXIT(1));
        restart(&f);
        feed(&f, EXIT(1));
        assert_string_equal(restore(&f, (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = 1 }, 0),
                            "arm-timer,kill");
        assert_state(&f, REPLICA_BACKOFF);
}

/* ---------------------------------------------------------------- API edges */

static void test_supervisor_invalid_input(void **state) {
        struct sup_event ev[SUP_RESTORE_EVENTS_MAX];
        struct fake f;

        fake_init(&f, RESTART_ALWAYS);
        run(&f);
        struct sup_record before;
        memcpy(&before, &f.rec, sizeof(before));
        struct sup_event start = START;

        f.acts.n = 3;
        assert_int_equal(sup_step(NULL, &f.rec, &start, &f.acts), -EINVAL);
        assert_int_equal(f.acts.n, 0);
        assert_int_equal(sup_step(&f.cfg, NULL, &start, &f.acts), -EINVAL);
        assert_int_equal(sup_step(&f.cfg, &f.rec, NULL, &f.acts), -EINVAL);
        assert_int_equal(sup_step(&f.cfg, &f.rec, &start, NULL), -EINVAL);

        struct sup_event bad = { .type = _SUP_EVENT_MAX };
        assert_int_equal(sup_step(&f.cfg, &f.rec, &bad, &f.acts), -EINVAL);
        bad.type = (enum sup_event_type) -1;
        assert_int_equal(sup_step(&f.cfg, &f.rec, &bad, &f.acts), -EINVAL);

        f.cfg.policy = (enum restart_policy) 7;
        assert_int_equal(sup_step(&f.cfg, &f.rec, &start, &f.acts), -EINVAL);
        f.cfg.policy = RESTART_ALWAYS;

        /* A corrupt record from disk. */
        struct sup_record r = f.rec;
        r.state = _REPLICA_STATE_MAX;
        assert_int_equal(sup_step(&f.cfg, &r, &start, &f.acts), -EINVAL);
        r = f.rec;
        r.after_stop = (enum sup_after_stop) 99;
        assert_int_equal(sup_step(&f.cfg, &r, &start, &f.acts), -EINVAL);
        r = f.rec;
        r.last_exit.reason = (enum sup_reason) 99;
        assert_int_equal(sup_step(&f.cfg, &r, &start, &f.acts), -EINVAL);
        r = f.rec;
        memset(r.last_exit.message, 'x', sizeof(r.last_exit.message));
        assert_int_equal(sup_step(&f.cfg, &r, &start, &f.acts), -EINVAL);
        assert_memory_equal(&before, &f.rec, sizeof(before));

        struct sup_found found = { .kind = _SUP_FOUND_MAX };
        assert_int_equal(sup_restore_events(&f.rec, &found, f.now, ev), -EINVAL);
        assert_int_equal(sup_restore(&f.cfg, &f.rec, &found, f.now, &f.acts), -EINVAL);
        assert_int_equal(sup_restore(&f.cfg, &f.rec, NULL, f.now, &f.acts), -EINVAL);
        assert_int_equal(sup_restore(NULL, &f.rec, &found, f.now, &f.acts), -EINVAL);
        assert_memory_equal(&before, &f.rec, sizeof(before));
}

static void test_supervisor_names(void **state) {
        static const char *const states[] = { "starting", "running", "stopping", "killing",
                                              "backoff",  "exited",  "failed",   "stopped" };
        static const char *const reasons[] = { "Completed", "Error",   "Signaled",      "OOMKilled",
                                               "ExecFailed", "Stopped", "LivenessFailed" };

        assert_int_equal(ELEMENTSOF(states), _REPLICA_STATE_MAX);
        for (unsigned i = 0; i < ELEMENTSOF(states); i++) {
                assert_string_equal(replica_state_to_string(i), states[i]);
                assert_int_equal(replica_state_from_string(states[i]), i);
        }
        assert_null(replica_state_to_string(_REPLICA_STATE_MAX));
        assert_int_equal(replica_state_from_string("Running"), -EINVAL);
        assert_int_equal(replica_state_from_string(NULL), -EINVAL);

        assert_int_equal(ELEMENTSOF(reasons), _SUP_REASON_MAX - 1);
        assert_null(sup_reason_to_string(SUP_REASON_NONE));
        for (unsigned i = 0; i < ELEMENTSOF(reasons); i++) {
                assert_string_equal(sup_reason_to_string(i + 1), reasons[i]);
                assert_int_equal(sup_reason_from_string(reasons[i]), i + 1);
        }
        assert_null(sup_reason_to_string(_SUP_REASON_MAX));
        assert_int_equal(sup_reason_from_string(""), -EINVAL);

        for (unsigned i = 0; i < _SUP_EVENT_MAX; i++)
                assert_non_null(sup_event_type_to_string(i));
        assert_null(sup_event_type_to_string(_SUP_EVENT_MAX));
        for (unsigned i = 0; i < _SUP_ACTION_MAX; i++)
                assert_non_null(sup_action_type_to_string(i));
        assert_null(sup_action_type_to_string(_SUP_ACTION_MAX));
}

static void test_supervisor_config_defaults(void **state) {
        struct sup_config cfg;
        struct sup_record rec;
        struct sup_time t = { .mono = 5, .real = 6 };

        sup_config_init(&cfg);
        assert_int_equal(cfg.policy, RESTART_ALWAYS);
        assert_int_equal(cfg.backoff.initial, 100);
        assert_int_equal(cfg.backoff.max, 30000);
        assert_true(cfg.backoff.multiplier == 2.0);
        assert_int_equal(cfg.backoff.reset_after, 60000);
        assert_int_equal(cfg.stop_signal, SIGTERM);
        assert_int_equal(cfg.grace_ms, 10000);
        assert_null(cfg.rand01);

        sup_record_init(&rec, t);
        assert_int_equal(rec.state, REPLICA_STOPPED);
        assert_int_equal(rec.since.mono, 5);
        assert_int_equal(rec.since.real, 6);
        assert_int_equal(rec.last_exit.reason, SUP_REASON_NONE);
        assert_int_equal(rec.timer_at, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_supervisor_every_state_event_pair),
                cmocka_unit_test(test_supervisor_crash_loop_default_delays),
                cmocka_unit_test(test_supervisor_jitter_bounds),
                cmocka_unit_test(test_supervisor_backoff_delay_function),
                cmocka_unit_test(test_supervisor_streak_resets_after_uptime),
                cmocka_unit_test(test_supervisor_standing_order_conditions),
                cmocka_unit_test(test_supervisor_standing_order_agrees_with_table),
                cmocka_unit_test(test_supervisor_never_gives_up),
                cmocka_unit_test(test_supervisor_restart_count_exact_over_10_crashes),
                cmocka_unit_test(test_supervisor_on_failure_completed_exits),
                cmocka_unit_test(test_supervisor_on_failure_restarts_failures),
                cmocka_unit_test(test_supervisor_always_restarts_after_success),
                cmocka_unit_test(test_supervisor_never_policy),
                cmocka_unit_test(test_supervisor_oom_wins_over_signal),
                cmocka_unit_test(test_supervisor_exec_failure_retried_with_backoff),
                cmocka_unit_test(test_supervisor_message_truncated),
                cmocka_unit_test(test_supervisor_stop_during_backoff),
                cmocka_unit_test(test_supervisor_stop_grace_then_kill),
                cmocka_unit_test(test_supervisor_stop_exit_within_grace),
                cmocka_unit_test(test_supervisor_stop_grace_zero_kills),
                cmocka_unit_test(test_supervisor_stop_shorter_grace_wins),
                cmocka_unit_test(test_supervisor_stop_before_confirmed),
                cmocka_unit_test(test_supervisor_start_during_stop_starts_again),
                cmocka_unit_test(test_supervisor_liveness_failed_restarts),
                cmocka_unit_test(test_supervisor_liveness_failed_policies),
                cmocka_unit_test(test_supervisor_restore_running),
                cmocka_unit_test(test_supervisor_restore_exited_while_away),
                cmocka_unit_test(test_supervisor_restore_shim_gone),
                cmocka_unit_test(test_supervisor_restore_rearms_timers),
                cmocka_unit_test(test_supervisor_restore_kills_stray_runs),
                cmocka_unit_test(test_supervisor_invalid_input),
                cmocka_unit_test(test_supervisor_names),
                cmocka_unit_test(test_supervisor_config_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
