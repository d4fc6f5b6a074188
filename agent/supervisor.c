/* supervisor.c: the replica supervisor, a state × event table (see supervisor.h).
 *
 * One step: look up the handler for (record state, event type); the handler
 * edits the record and notes the operations it wants (SPAWN, SIGNAL, KILL,
 * REMOVE). The step then turns that into the ordered action list: RECORD when
 * the record changed, the timer action from the difference between the timer
 * the caller has armed and the record's timer_at, the operations, REMOVE.
 * Handlers therefore never emit ARM/DISARM themselves: they set timer_at.
 *
 * Pure: no syscalls, no clock, no allocation. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "macro.h"
#include "supervisor.h"

#define USEC_PER_MSEC UINT64_C(1000)
#define JITTER 0.1 /* ±10 % */

static const char *const replica_state_names[_REPLICA_STATE_MAX] = {
        [REPLICA_STARTING] = "starting", [REPLICA_RUNNING] = "running", [REPLICA_STOPPING] = "stopping",
        [REPLICA_KILLING] = "killing",   [REPLICA_BACKOFF] = "backoff", [REPLICA_EXITED] = "exited",
        [REPLICA_FAILED] = "failed",     [REPLICA_STOPPED] = "stopped",
};

static const char *const reason_names[_SUP_REASON_MAX] = {
        [SUP_REASON_NONE] = NULL,
        [SUP_REASON_COMPLETED] = "Completed",
        [SUP_REASON_ERROR] = "Error",
        [SUP_REASON_SIGNALED] = "Signaled",
        [SUP_REASON_OOM_KILLED] = "OOMKilled",
        [SUP_REASON_EXEC_FAILED] = "ExecFailed",
        [SUP_REASON_STOPPED] = "Stopped",
        [SUP_REASON_LIVENESS_FAILED] = "LivenessFailed",
};

static const char *const event_names[_SUP_EVENT_MAX] = {
        [SUP_EVENT_START] = "start",   [SUP_EVENT_STARTED] = "started", [SUP_EVENT_START_FAILED] = "start-failed",
        [SUP_EVENT_EXITED] = "exited", [SUP_EVENT_STOP] = "stop",       [SUP_EVENT_TIMER] = "timer",
        [SUP_EVENT_LIVENESS_FAILED] = "liveness-failed",
};

static const char *const action_names[_SUP_ACTION_MAX] = {
        [SUP_ACTION_RECORD] = "record", [SUP_ACTION_ARM_TIMER] = "arm-timer", [SUP_ACTION_DISARM_TIMER] = "disarm-timer",
        [SUP_ACTION_SPAWN] = "spawn",   [SUP_ACTION_SIGNAL] = "signal",       [SUP_ACTION_KILL] = "kill",
        [SUP_ACTION_REMOVE] = "remove",
};

static const char *name_lookup(const char *const *names, size_t n, unsigned i) {
        return i < n ? names[i] : NULL;
}

static int name_find(const char *const *names, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(names[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *replica_state_to_string(enum replica_state s) {
        return name_lookup(replica_state_names, ELEMENTSOF(replica_state_names), (unsigned) s);
}
int replica_state_from_string(const char *s) {
        return name_find(replica_state_names, ELEMENTSOF(replica_state_names), s);
}
const char *sup_reason_to_string(enum sup_reason r) {
        return name_lookup(reason_names, ELEMENTSOF(reason_names), (unsigned) r);
}
int sup_reason_from_string(const char *s) {
        return name_find(reason_names, ELEMENTSOF(reason_names), s);
}
const char *sup_event_type_to_string(enum sup_event_type t) {
        return name_lookup(event_names, ELEMENTSOF(event_names), (unsigned) t);
}
const char *sup_action_type_to_string(enum sup_action_type t) {
        return name_lookup(action_names, ELEMENTSOF(action_names), (unsigned) t);
}

/* ---------------------------------------------------------------- time and backoff */

static uint64_t add_usec(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t msec_to_usec(uint64_t ms) {
        return ms > UINT64_MAX / USEC_PER_MSEC ? UINT64_MAX : ms * USEC_PER_MSEC;
}

/* m^e by squaring: at most 32 rounds whatever e is (a loop multiplying
 * once per attempt would spin for a multiplier like 1.0000001). Overflow
 * gives +inf, which the caller caps. */
static double pow_u32(double m, uint32_t e) {
        double r = 1.0;
        for (; e > 0; e >>= 1, m *= m)
                if (e & 1)
                        r *= m;
        return r;
}

uint64_t sup_backoff_delay_usec(const struct restart_backoff *b, uint32_t k, double r01) {
        if (!b || k == 0 || b->initial == 0)
                return 0;

        double max = (double) b->max;
        double m = b->multiplier >= 1.0 ? b->multiplier : 1.0; /* also catches NaN */
        double d = (double) b->initial * pow_u32(m, k - 1);
        if (!(d <= max))
                d = max;

        if (!(r01 >= 0.0)) /* NaN too */
                r01 = 0.0;
        if (r01 > 1.0)
                r01 = 1.0;
        /* 0.5 gives exactly 1.0, so a fake source returning 0.5 gets exact delays. */
        double us = d * 1000.0 * (1.0 + 2.0 * JITTER * (r01 - 0.5));
        double cap = max * 1000.0 * (1.0 + JITTER);
        if (us > cap)
                us = cap;
        if (us < 0.0)
                us = 0.0;
        if (us + 0.5 >= 0x1p64)
                return UINT64_MAX;
        return (uint64_t) (us + 0.5);
}

/* ---------------------------------------------------------------- config and record */

void sup_config_init(struct sup_config *cfg) {
        assert(cfg);
        *cfg = (struct sup_config) {
                .policy = RESTART_ALWAYS,
                .backoff = { .initial = 100, .max = 30000, .multiplier = 2.0, .reset_after = 60000 },
                .stop_signal = SIGTERM,
                .grace_ms = 10000,
        };
}

void sup_record_init(struct sup_record *rec, struct sup_time now) {
        assert(rec);
        memset(rec, 0, sizeof(*rec));
        rec->state = REPLICA_STOPPED;
        rec->since = now;
        rec->after_stop = SUP_AFTER_STOP_REMOVE;
}

/* A record comes from disk: check what would index tables or be printed. */
static bool record_valid(const struct sup_record *rec) {
        return (unsigned) rec->state < _REPLICA_STATE_MAX && (unsigned) rec->after_stop < _SUP_AFTER_STOP_MAX &&
               (unsigned) rec->last_exit.reason < _SUP_REASON_MAX &&
               memchr(rec->last_exit.message, 0, sizeof(rec->last_exit.message));
}

static bool config_valid(const struct sup_config *cfg) {
        return (unsigned) cfg->policy <= RESTART_NEVER;
}

/* Copy a message, truncated to fit, never cutting a UTF-8 sequence. */
static void copy_message(char dst[static SUP_MESSAGE_MAX], const char *src) {
        size_t n = src ? strnlen(src, SUP_MESSAGE_MAX - 1) : 0;

        if (src && src[n] != '\0')
                while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
                        n--;
        if (n > 0)
                memcpy(dst, src, n);
        dst[n] = '\0';
}

/* ---------------------------------------------------------------- one step */

struct step {
        const struct sup_config *cfg;
        struct sup_record *rec;
        const struct sup_event *ev;
        uint64_t armed; /* the timer the caller has armed now, 0 = none */
        bool dirty;     /* the record changed: RECORD */
        bool remove;    /* REMOVE at the end */
        struct sup_action op; /* SPAWN, SIGNAL or KILL; at most one per step */
        bool has_op;
};

typedef void (*handler_t)(struct step *s);

static void set_op(struct step *s, enum sup_action_type type) {
        assert(!s->has_op);
        s->op = (struct sup_action) { .type = type };
        if (type == SUP_ACTION_SIGNAL)
                s->op.signo = s->cfg->stop_signal > 0 ? s->cfg->stop_signal : SIGTERM;
        s->has_op = true;
}

static void set_state(struct step *s, enum replica_state state) {
        s->rec->state = state;
        s->rec->since = s->ev->now;
        s->dirty = true;
}

static void set_timer(struct step *s, uint64_t at) {
        if (s->rec->timer_at != at)
                s->dirty = true;
        s->rec->timer_at = at;
}

/* A new run. restart: performed by the policy (counted), else asked for. */
static void spawn(struct step *s, bool restart) {
        struct sup_record *rec = s->rec;

        if (restart)
                rec->restart_count++;
        else
                rec->streak = 0;
        rec->pid = 0;
        rec->run_started = (struct sup_time) {};
        rec->next_start_at = (struct sup_time) {};
        rec->after_stop = SUP_AFTER_STOP_REMOVE;
        set_timer(s, 0);
        set_op(s, SUP_ACTION_SPAWN);
        set_state(s, REPLICA_STARTING);
}

/* Stop the run: the stop signal and a grace timer, or the kill at once. */
static void begin_stop(struct step *s, uint64_t grace_ms, enum sup_after_stop after) {
        s->rec->after_stop = after;
        if (grace_ms == 0) {
                set_timer(s, 0);
                set_op(s, SUP_ACTION_KILL);
                set_state(s, REPLICA_KILLING);
        } else {
                set_timer(s, add_usec(s->ev->now.mono, msec_to_usec(grace_ms)));
                set_op(s, SUP_ACTION_SIGNAL);
                set_state(s, REPLICA_STOPPING);
        }
}

/* Why the run ended, from the event. OOM wins over the status (a SIGKILL
 * from the OOM killer is not "Signaled", complaint 3) and over our liveness
 * stop (memory pressure is the likelier root cause of the failing probe). */
static enum sup_reason classify(const struct sup_event *ev, bool liveness) {
        if (ev->type == SUP_EVENT_START_FAILED || ev->exec_failed)
                return SUP_REASON_EXEC_FAILED;
        if (ev->oom_killed)
                return SUP_REASON_OOM_KILLED;
        if (liveness)
                return SUP_REASON_LIVENESS_FAILED;
        if (ev->exit_signal > 0)
                return SUP_REASON_SIGNALED;
        if (ev->exit_code != 0)
                return SUP_REASON_ERROR;
        return SUP_REASON_COMPLETED;
}

static void record_exit(struct step *s, enum sup_reason reason) {
        struct sup_exit *e = &s->rec->last_exit;
        bool status = s->ev->type == SUP_EVENT_EXITED;

        e->reason = reason;
        e->exit_code = status ? s->ev->exit_code : -1;
        e->exit_signal = status ? s->ev->exit_signal : 0;
        e->at = s->ev->now.real;
        copy_message(e->message, s->ev->message);
        s->dirty = true;
}

/* The run ended (or never started) with no stop of ours: apply the policy. */
static void apply_policy(struct step *s, bool liveness) {
        const struct sup_config *cfg = s->cfg;
        struct sup_record *rec = s->rec;
        enum sup_reason reason = classify(s->ev, liveness);
        bool failure = reason != SUP_REASON_COMPLETED;

        record_exit(s, reason);
        set_timer(s, 0);

        if (!(cfg->policy == RESTART_ALWAYS || (cfg->policy == RESTART_ON_FAILURE && failure))) {
                rec->pid = 0;
                set_state(s, failure ? REPLICA_FAILED : REPLICA_EXITED);
                return;
        }

        /* A run that stayed up long enough was not part of a crash loop. */
        if (rec->run_started.mono != 0 && s->ev->now.mono >= rec->run_started.mono &&
            s->ev->now.mono - rec->run_started.mono >= msec_to_usec(cfg->backoff.reset_after))
                rec->streak = 0;

        double r01 = 0.5;
        if (rec->streak > 0 && cfg->rand01)
                r01 = cfg->rand01(cfg->userdata);
        uint64_t delay = sup_backoff_delay_usec(&cfg->backoff, rec->streak, r01);
        if (rec->streak < UINT32_MAX)
                rec->streak++;

        if (delay == 0) {
                spawn(s, true);
                return;
        }
        rec->pid = 0;
        rec->run_started = (struct sup_time) {};
        rec->next_start_at = (struct sup_time) {
                .mono = add_usec(s->ev->now.mono, delay),
                .real = add_usec(s->ev->now.real, delay),
        };
        set_timer(s, rec->next_start_at.mono);
        set_state(s, REPLICA_BACKOFF);
}

bool sup_standing_order(const struct sup_config *cfg, const struct sup_record *rec, struct sup_order *ret) {
        if (!cfg || !rec || !ret || rec->state != REPLICA_RUNNING || rec->run_started.mono == 0)
                return false;
        if (cfg->policy != RESTART_ALWAYS && cfg->policy != RESTART_ON_FAILURE)
                return false;
        *ret = (struct sup_order) { .on_failure = cfg->policy == RESTART_ON_FAILURE };
        /* apply_policy(): immediate when the streak's delay is 0, which it is
         * for streak 0, and once the run has lived resetAfter (streak reset) */
        if (sup_backoff_delay_usec(&cfg->backoff, rec->streak, 0.0) == 0)
                return true;
        ret->min_uptime_usec = msec_to_usec(cfg->backoff.reset_after) + SUP_ORDER_MARGIN_USEC;
        return true;
}

/* A TIMER that came before the record's deadline (a stale or early wakeup):
 * the caller's timer is spent, so arm it again and do nothing else. */
static bool timer_early(struct step *s) {
        s->armed = 0;
        return s->ev->now.mono < s->rec->timer_at;
}

/* ---------------------------------------------------------------- handlers */

/* A defined no-op: the pair cannot happen, or asks for what is under way. */
static void ignore(struct step *s) {
}

/* START in EXITED, FAILED, STOPPED: a fresh run, not a restart. */
static void start_fresh(struct step *s) {
        spawn(s, false);
}

/* START in STOPPING, KILLING: run again once the old run has ended. A
 * liveness stop already ends in the policy's restart: nothing to add. */
static void start_after_stop(struct step *s) {
        if (s->rec->after_stop != SUP_AFTER_STOP_REMOVE)
                return;
        s->rec->after_stop = SUP_AFTER_STOP_START;
        s->dirty = true;
}

/* STARTED in STARTING. */
static void started(struct step *s) {
        s->rec->pid = s->ev->pid;
        s->rec->run_started = s->ev->now;
        set_state(s, REPLICA_RUNNING);
}

/* STARTED in STOPPING, KILLING: STOP came before the run was confirmed, so
 * the signal (or kill) may have raced the spawn: send it again. */
static void started_during_stop(struct step *s) {
        if (s->rec->pid != 0)
                return; /* duplicate confirmation */
        s->rec->pid = s->ev->pid;
        s->rec->run_started = s->ev->now;
        s->dirty = true;
        set_op(s, s->rec->state == REPLICA_STOPPING ? SUP_ACTION_SIGNAL : SUP_ACTION_KILL);
}

/* EXITED or START_FAILED in STARTING, RUNNING: the policy decides. */
static void run_ended(struct step *s) {
        apply_policy(s, false);
}

/* EXITED (or START_FAILED) in STOPPING, KILLING: the stop is done. */
static void stop_ended(struct step *s) {
        switch (s->rec->after_stop) {
        case SUP_AFTER_STOP_POLICY:
                apply_policy(s, true);
                return;
        case SUP_AFTER_STOP_START:
                record_exit(s, SUP_REASON_STOPPED);
                spawn(s, false);
                return;
        case SUP_AFTER_STOP_REMOVE:
        default:
                record_exit(s, SUP_REASON_STOPPED);
                s->rec->pid = 0;
                set_timer(s, 0);
                set_state(s, REPLICA_STOPPED);
                s->remove = true;
                return;
        }
}

/* START_FAILED in STOPPING, KILLING: only a run not yet confirmed can fail
 * to start; it then never ran, and the stop is done. */
static void start_failed_during_stop(struct step *s) {
        if (s->rec->pid == 0)
                stop_ended(s);
}

/* STOP in STARTING, RUNNING. */
static void stop_run(struct step *s) {
        begin_stop(s, s->ev->grace_ms, SUP_AFTER_STOP_REMOVE);
}

/* STOP in STOPPING: the stop now ends in STOPPED; a shorter grace wins. */
static void stop_while_stopping(struct step *s) {
        struct sup_record *rec = s->rec;

        if (rec->after_stop != SUP_AFTER_STOP_REMOVE) {
                rec->after_stop = SUP_AFTER_STOP_REMOVE;
                s->dirty = true;
        }
        if (s->ev->grace_ms == 0) {
                set_timer(s, 0);
                set_op(s, SUP_ACTION_KILL);
                set_state(s, REPLICA_KILLING);
                return;
        }
        uint64_t deadline = add_usec(s->ev->now.mono, msec_to_usec(s->ev->grace_ms));
        if (deadline < rec->timer_at)
                set_timer(s, deadline);
}

/* STOP in KILLING: the kill is out; only what follows changes. */
static void stop_while_killing(struct step *s) {
        if (s->rec->after_stop == SUP_AFTER_STOP_REMOVE)
                return;
        s->rec->after_stop = SUP_AFTER_STOP_REMOVE;
        s->dirty = true;
}

/* STOP in BACKOFF: cancel the restart. The last exit keeps its reason. */
static void stop_backoff(struct step *s) {
        s->rec->next_start_at = (struct sup_time) {};
        set_timer(s, 0);
        set_state(s, REPLICA_STOPPED);
        s->remove = true;
}

/* STOP in EXITED, FAILED, STOPPED: nothing runs; REMOVE (again: harmless,
 * and it lets a REMOVE that failed be retried). */
static void stop_idle(struct step *s) {
        if (s->rec->state != REPLICA_STOPPED)
                set_state(s, REPLICA_STOPPED);
        s->remove = true;
}

/* TIMER in STOPPING: the grace is over. */
static void grace_expired(struct step *s) {
        if (timer_early(s))
                return;
        set_timer(s, 0);
        set_op(s, SUP_ACTION_KILL);
        set_state(s, REPLICA_KILLING);
}

/* TIMER in KILLING: no timer is armed here, the caller asks to send the kill
 * again (live restore: it may never have gone out). */
static void kill_again(struct step *s) {
        set_op(s, SUP_ACTION_KILL);
}

/* TIMER in BACKOFF: restart. */
static void backoff_elapsed(struct step *s) {
        if (timer_early(s))
                return;
        spawn(s, true);
}

/* LIVENESS_FAILED in RUNNING: stop the run, then the policy decides. Probes
 * only judge a confirmed run, so STARTING ignores it. */
static void liveness_failed(struct step *s) {
        begin_stop(s, s->cfg->grace_ms, SUP_AFTER_STOP_POLICY);
}

/* Every pair, explicitly. Rows: state; columns: event. */
static const handler_t table[_REPLICA_STATE_MAX][_SUP_EVENT_MAX] = {
        [REPLICA_STARTING] = {
                [SUP_EVENT_START] = ignore,
                [SUP_EVENT_STARTED] = started,
                [SUP_EVENT_START_FAILED] = run_ended,
                [SUP_EVENT_EXITED] = run_ended,
                [SUP_EVENT_STOP] = stop_run,
                [SUP_EVENT_TIMER] = ignore,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
        [REPLICA_RUNNING] = {
                [SUP_EVENT_START] = ignore,
                [SUP_EVENT_STARTED] = ignore,
                [SUP_EVENT_START_FAILED] = ignore,
                [SUP_EVENT_EXITED] = run_ended,
                [SUP_EVENT_STOP] = stop_run,
                [SUP_EVENT_TIMER] = ignore,
                [SUP_EVENT_LIVENESS_FAILED] = liveness_failed,
        },
        [REPLICA_STOPPING] = {
                [SUP_EVENT_START] = start_after_stop,
                [SUP_EVENT_STARTED] = started_during_stop,
                [SUP_EVENT_START_FAILED] = start_failed_during_stop,
                [SUP_EVENT_EXITED] = stop_ended,
                [SUP_EVENT_STOP] = stop_while_stopping,
                [SUP_EVENT_TIMER] = grace_expired,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
        [REPLICA_KILLING] = {
                [SUP_EVENT_START] = start_after_stop,
                [SUP_EVENT_STARTED] = started_during_stop,
                [SUP_EVENT_START_FAILED] = start_failed_during_stop,
                [SUP_EVENT_EXITED] = stop_ended,
                [SUP_EVENT_STOP] = stop_while_killing,
                [SUP_EVENT_TIMER] = kill_again,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
        [REPLICA_BACKOFF] = {
                [SUP_EVENT_START] = ignore,
                [SUP_EVENT_STARTED] = ignore,
                [SUP_EVENT_START_FAILED] = ignore,
                [SUP_EVENT_EXITED] = ignore,
                [SUP_EVENT_STOP] = stop_backoff,
                [SUP_EVENT_TIMER] = backoff_elapsed,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
        [REPLICA_EXITED] = {
                [SUP_EVENT_START] = start_fresh,
                [SUP_EVENT_STARTED] = ignore,
                [SUP_EVENT_START_FAILED] = ignore,
                [SUP_EVENT_EXITED] = ignore,
                [SUP_EVENT_STOP] = stop_idle,
                [SUP_EVENT_TIMER] = ignore,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
        [REPLICA_FAILED] = {
                [SUP_EVENT_START] = start_fresh,
                [SUP_EVENT_STARTED] = ignore,
                [SUP_EVENT_START_FAILED] = ignore,
                [SUP_EVENT_EXITED] = ignore,
                [SUP_EVENT_STOP] = stop_idle,
                [SUP_EVENT_TIMER] = ignore,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
        [REPLICA_STOPPED] = {
                [SUP_EVENT_START] = start_fresh,
                [SUP_EVENT_STARTED] = ignore,
                [SUP_EVENT_START_FAILED] = ignore,
                [SUP_EVENT_EXITED] = ignore,
                [SUP_EVENT_STOP] = stop_idle,
                [SUP_EVENT_TIMER] = ignore,
                [SUP_EVENT_LIVENESS_FAILED] = ignore,
        },
};

static void push(struct sup_actions *a, struct sup_action action) {
        assert(a->n < SUP_ACTIONS_MAX);
        a->v[a->n++] = action;
}

/* Run one handler and append its actions. *armed: the caller's timer before,
 * updated to the record's timer after. */
static void step_one(const struct sup_config *cfg, struct sup_record *rec, const struct sup_event *ev,
                     uint64_t *armed, struct sup_actions *acts) {
        struct step s = { .cfg = cfg, .rec = rec, .ev = ev, .armed = *armed };

        table[rec->state][ev->type](&s);

        if (s.dirty)
                push(acts, (struct sup_action) { .type = SUP_ACTION_RECORD });
        if (rec->timer_at != s.armed)
                push(acts, rec->timer_at != 0 ? (struct sup_action) { .type = SUP_ACTION_ARM_TIMER, .at = rec->timer_at }
                                              : (struct sup_action) { .type = SUP_ACTION_DISARM_TIMER });
        if (s.has_op)
                push(acts, s.op);
        if (s.remove)
                push(acts, (struct sup_action) { .type = SUP_ACTION_REMOVE });
        *armed = rec->timer_at;
}

int sup_step(const struct sup_config *cfg, struct sup_record *rec, const struct sup_event *ev,
             struct sup_actions *ret_actions) {
        if (!ret_actions)
                return -EINVAL;
        ret_actions->n = 0;
        if (!cfg || !rec || !ev || !config_valid(cfg) || !record_valid(rec) || (unsigned) ev->type >= _SUP_EVENT_MAX)
                return -EINVAL;

        uint64_t armed = rec->timer_at;
        step_one(cfg, rec, ev, &armed, ret_actions);
        return (int) ret_actions->n;
}

/* ---------------------------------------------------------------- live restore */

#define LOST_MESSAGE "the shim was gone when berthd came back: exit status lost"

static bool state_has_run(enum replica_state s) {
        return s == REPLICA_STARTING || s == REPLICA_RUNNING || s == REPLICA_STOPPING || s == REPLICA_KILLING;
}

int sup_restore_events(const struct sup_record *rec, const struct sup_found *found, struct sup_time now,
                       struct sup_event ret_events[static SUP_RESTORE_EVENTS_MAX]) {
        size_t n = 0;

        if (!rec || !found || !ret_events || !record_valid(rec) || (unsigned) found->kind >= _SUP_FOUND_MAX)
                return -EINVAL;
        if (!state_has_run(rec->state))
                return 0;

        /* The run was confirmed while berthd was away: adopt it first. */
        if (found->kind != SUP_FOUND_GONE && rec->pid == 0)
                ret_events[n++] = (struct sup_event) { .type = SUP_EVENT_STARTED, .now = now, .pid = found->pid };

        switch (found->kind) {
        case SUP_FOUND_RUNNING:
                if (rec->state == REPLICA_KILLING)
                        ret_events[n++] = (struct sup_event) { .type = SUP_EVENT_TIMER, .now = now };
                break;
        case SUP_FOUND_EXITED:
                ret_events[n++] = (struct sup_event) {
                        .type = SUP_EVENT_EXITED,
                        .now = now,
                        .exit_code = found->exit_code,
                        .exit_signal = found->exit_signal,
                        .oom_killed = found->oom_killed,
                        .exec_failed = found->exec_failed,
                        .message = found->message,
                };
                break;
        case SUP_FOUND_GONE:
        default:
                ret_events[n++] = (struct sup_event) {
                        .type = SUP_EVENT_EXITED, .now = now, .exit_code = -1, .message = LOST_MESSAGE,
                };
                break;
        }
        assert(n <= SUP_RESTORE_EVENTS_MAX);
        return (int) n;
}

int sup_restore(const struct sup_config *cfg, struct sup_record *rec, const struct sup_found *found,
                struct sup_time now, struct sup_actions *ret_actions) {
        struct sup_event events[SUP_RESTORE_EVENTS_MAX];
        uint64_t armed = 0; /* berthd's timers did not survive it */
        int n;

        if (!ret_actions)
                return -EINVAL;
        ret_actions->n = 0;
        if (!cfg || !config_valid(cfg))
                return -EINVAL;
        n = sup_restore_events(rec, found, now, events);
        if (n < 0)
                return n;
        /* A run the record knows nothing about (its RECORD was never written,
         * say): nobody would supervise it, so kill it. */
        bool stray = !state_has_run(rec->state) && found->kind == SUP_FOUND_RUNNING;

        for (int i = 0; i < n; i++)
                step_one(cfg, rec, &events[i], &armed, ret_actions);
        if (rec->timer_at != armed)
                push(ret_actions, (struct sup_action) { .type = SUP_ACTION_ARM_TIMER, .at = rec->timer_at });
        if (stray)
                push(ret_actions, (struct sup_action) { .type = SUP_ACTION_KILL });
        return n;
}
