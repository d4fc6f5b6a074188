/* supervisor.h: when to (re)start one replica, and what to do on each event.
 *
 * The reconciler decides WHAT should run; the supervisor decides, per replica,
 * WHEN: it is a state × event table (as s6-supervise) that turns one event
 * into a short list of actions (as bubblewrap turns options into setup
 * operations); the shim client and the cgroup backend execute the actions.
 *
 * What it promises:
 *  - Pure: no syscalls, no clock reads, no allocation, no I/O. Time comes in
 *    with each event (monotonic for logic, realtime for display), randomness
 *    through sup_config.rand01. Tests drive it with a fake clock.
 *  - Every (state, event) pair is defined. Pairs that cannot happen, or ask for
 *    what is already under way, are no-ops: no actions, record untouched.
 *  - Actions come in a fixed order: RECORD (persist before acting, so a berthd
 *    crash never leaves a run the record does not know about), then the timer
 *    (ARM_TIMER or DISARM_TIMER; one timer per replica), then SPAWN, SIGNAL or
 *    KILL, then REMOVE.
 *  - Restarts never give up (unlike systemd's start limit): a crash loop stays
 *    in BACKOFF with next_start_at visible. The first restart after a run is
 *    immediate; then initial, initial×multiplier, ... capped at max, ±10 %
 *    jitter; the streak resets when the run that ended was up ≥ reset_after.
 *  - The last exit says why, and OOM is never hidden behind "Signaled" or
 *    "Error" (the caller reports what the cgroup's OOM counters saw).
 *
 * Policy:
 *  - Always restarts after every end not asked for by STOP. OnFailure restarts
 *    unless the run completed (exit 0). Never restarts nothing.
 *  - A run that will not be restarted ends in EXITED when it completed (exit
 *    0) and in FAILED otherwise (only Never can fail for good: under Always and
 *    OnFailure exec failures are retried, a missing binary may appear).
 *  - START is an explicit request: the reconciler sends it when it creates a
 *    replica, or wants a finished (EXITED, FAILED, STOPPED) one run again. Such
 *    a start is not a restart: restart_count counts only the restarts the
 *    policy performed, and the streak starts over.
 *  - START while a STOP is under way starts a new run once the old one ended.
 *  - A liveness failure stops the run (stop signal, grace, kill) and then
 *    applies the restart policy, with reason LivenessFailed.
 *  - STOP always wins: it cancels a pending restart or START.
 *
 * The caller delivers STARTED, START_FAILED and EXITED only for the current
 * run (the shim numbers runs), and feeds events for one replica in order.
 * Time 0 (monotonic) means "no timer": clocks must start above 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h" /* enum restart_policy, struct restart_backoff */

#define SUP_MESSAGE_MAX 512 /* last exit message, NUL included (= SHIM_TEXT_MAX) */

enum replica_state {
        REPLICA_STARTING, /* spawn requested, run not confirmed yet */
        REPLICA_RUNNING,  /* the shim confirmed the run */
        REPLICA_STOPPING, /* stop signal sent, grace timer armed */
        REPLICA_KILLING,  /* cgroup kill sent, waiting for the exit */
        REPLICA_BACKOFF,  /* waiting to restart at next_start_at */
        REPLICA_EXITED,   /* completed, will not be restarted */
        REPLICA_FAILED,   /* failed, will not be restarted (policy Never) */
        REPLICA_STOPPED,  /* not running on purpose (also: new, never started) */
        _REPLICA_STATE_MAX,
};

enum sup_event_type {
        SUP_EVENT_START,           /* the reconciler wants it running */
        SUP_EVENT_STARTED,         /* the shim confirmed the run: pid */
        SUP_EVENT_START_FAILED,    /* spawning the shim or the run failed: message */
        SUP_EVENT_EXITED,          /* the run ended: status, oom, exec failure */
        SUP_EVENT_STOP,            /* the reconciler wants it stopped: grace_ms */
        SUP_EVENT_TIMER,           /* the replica's timer fired */
        SUP_EVENT_LIVENESS_FAILED, /* the liveness probe gave up */
        _SUP_EVENT_MAX,
};

enum sup_action_type {
        SUP_ACTION_RECORD,       /* the record changed: persist it */
        SUP_ACTION_ARM_TIMER,    /* (re)arm the replica's one timer at .at */
        SUP_ACTION_DISARM_TIMER, /* cancel it */
        SUP_ACTION_SPAWN,        /* start a new run */
        SUP_ACTION_SIGNAL,       /* send .signo to the service */
        SUP_ACTION_KILL,         /* kill everything in the replica's cgroup */
        SUP_ACTION_REMOVE,       /* stopped: nothing left to do, may be deleted */
        _SUP_ACTION_MAX,
};

/* Why the last run ended, as berthctl shows it. */
enum sup_reason {
        SUP_REASON_NONE,           /* no run has ended yet */
        SUP_REASON_COMPLETED,      /* exit code 0 */
        SUP_REASON_ERROR,          /* exit code != 0, or status lost */
        SUP_REASON_SIGNALED,       /* killed by a signal we did not send */
        SUP_REASON_OOM_KILLED,     /* the OOM killer acted in the cgroup during the run */
        SUP_REASON_EXEC_FAILED,    /* the service could not be started (message) */
        SUP_REASON_STOPPED,        /* we stopped it (STOP) */
        SUP_REASON_LIVENESS_FAILED,/* we stopped it because the liveness probe failed */
        _SUP_REASON_MAX,
};

/* Where berthd stands after STOP: what happens once the run has ended. */
enum sup_after_stop {
        SUP_AFTER_STOP_REMOVE, /* STOPPED + REMOVE */
        SUP_AFTER_STOP_START,  /* START came during the stop: a fresh run */
        SUP_AFTER_STOP_POLICY, /* liveness failure: the restart policy decides */
        _SUP_AFTER_STOP_MAX,
};

/* A point in time, in µs: monotonic for the logic, realtime for display. */
struct sup_time {
        uint64_t mono;
        uint64_t real;
};

struct sup_config {
        enum restart_policy policy;
        struct restart_backoff backoff; /* ms, as in the manifest */
        int stop_signal;                /* SIGNAL actions carry it; 0 = SIGTERM */
        uint64_t grace_ms;              /* stop grace after a liveness failure */
        double (*rand01)(void *userdata); /* [0,1) for jitter; NULL = no jitter */
        void *userdata;
};

struct sup_event {
        enum sup_event_type type;
        struct sup_time now;
        pid_t pid;           /* STARTED */
        int exit_code;       /* EXITED: -1 when killed by a signal */
        int exit_signal;     /* EXITED: 0 unless killed by a signal */
        bool oom_killed;     /* EXITED: the cgroup's oom_kill count grew during the run */
        bool exec_failed;    /* EXITED: the service could not be exec'd */
        const char *message; /* START_FAILED, EXITED: NULL or why (kept, truncated) */
        uint64_t grace_ms;   /* STOP: 0 = kill at once */
};

struct sup_exit {
        enum sup_reason reason;
        int exit_code;   /* -1: killed by a signal, or no status (START_FAILED, lost) */
        int exit_signal;
        uint64_t at;     /* realtime µs */
        char message[SUP_MESSAGE_MAX];
};

/* The per-replica record: plain data, the caller persists it on RECORD. */
struct sup_record {
        enum replica_state state;
        struct sup_time since;         /* entered the current state */
        uint64_t restart_count;        /* restarts performed by the policy */
        uint32_t streak;               /* consecutive quick failures (backoff attempt) */
        struct sup_time next_start_at; /* BACKOFF only, else zero */
        uint64_t timer_at;             /* monotonic µs of the armed timer, 0 = none */
        enum sup_after_stop after_stop;/* STOPPING, KILLING */
        pid_t pid;                     /* the current run, 0 = not confirmed */
        struct sup_time run_started;   /* when STARTED came, zero if not */
        struct sup_exit last_exit;
};

struct sup_action {
        enum sup_action_type type;
        uint64_t at; /* ARM_TIMER: monotonic µs */
        int signo;   /* SIGNAL */
};

#define SUP_ACTIONS_MAX 8
struct sup_actions {
        struct sup_action v[SUP_ACTIONS_MAX];
        size_t n;
};

/* What berthd found for a replica when it came back (live restore). */
enum sup_found_kind {
        SUP_FOUND_RUNNING, /* shim alive, the run is still running */
        SUP_FOUND_EXITED,  /* the shim recorded the run's end while berthd was away */
        SUP_FOUND_GONE,    /* no shim and no status: the run is lost */
        _SUP_FOUND_MAX,
};

struct sup_found {
        enum sup_found_kind kind;
        pid_t pid;           /* RUNNING, EXITED */
        int exit_code;       /* EXITED, as in struct sup_event */
        int exit_signal;
        bool oom_killed;
        bool exec_failed;
        const char *message;
};

#define SUP_RESTORE_EVENTS_MAX 2

/* Defaults as the manifest's: Always, 100ms, 30s, ×2, 60s, SIGTERM, 10s grace. */
void sup_config_init(struct sup_config *cfg);

/* A new replica: STOPPED since now, nothing ended yet. Feed START to run it. */
void sup_record_init(struct sup_record *rec, struct sup_time now);

/* Feed one event. Returns the number of actions (0: a no-op pair, record
 * untouched), or -EINVAL for a bad config, event or record (both untouched,
 * ret_actions emptied). */
int sup_step(const struct sup_config *cfg, struct sup_record *rec, const struct sup_event *ev,
             struct sup_actions *ret_actions);

/* The standing order berthd may give the shim for the run under way (see
 * ARM in lib/shim-proto.h): the conditions under which this table, fed the
 * run's end, would restart it at once. The shim then restarts first and
 * berthd records after the fact, one process hop instead of three.
 * min_uptime_usec: the run must have lived this long (0, or the backoff's
 * resetAfter plus SUP_ORDER_MARGIN_USEC so that the shim's clock, which
 * starts a little earlier than ours, never restarts a run we would back off);
 * on_failure: only an end that is a failure (OnFailure). Returns false when
 * no order may be given (not running, restartPolicy Never, or a backoff
 * whatever the uptime). Should the two still disagree (an OOM kill with
 * exit code 0 under OnFailure, clock skew), berthd stops the extra run. */
#define SUP_ORDER_MARGIN_USEC 100000
struct sup_order {
        uint64_t min_uptime_usec;
        bool on_failure;
};
bool sup_standing_order(const struct sup_config *cfg, const struct sup_record *rec, struct sup_order *ret);

/* Backoff delay in µs before restart attempt k (k = the streak: 0 for the
 * first restart after a run, which is immediate). r01 in [0,1) picks the
 * jitter: 0.5 = none, 0 = -10 %, →1 = +10 %. Never above max × 1.1. */
uint64_t sup_backoff_delay_usec(const struct restart_backoff *b, uint32_t k, double r01);

/* Live restore, step 1: the events to feed (in order, with sup_step) to a
 * record loaded from disk, given what berthd found. Returns how many (up to
 * SUP_RESTORE_EVENTS_MAX), or -EINVAL.
 *   record with a run (STARTING, RUNNING, STOPPING, KILLING):
 *     found RUNNING: STARTED if the pid was not confirmed yet; KILLING also
 *       gets TIMER (send the kill again: it may not have gone out)
 *     found EXITED:  STARTED if not confirmed, then EXITED with the status
 *     found GONE:    EXITED with no status (code -1, reason Error, a message
 *       saying so); the policy then decides as for any end
 *   record without a run (BACKOFF, EXITED, FAILED, STOPPED): nothing */
int sup_restore_events(const struct sup_record *rec, const struct sup_found *found, struct sup_time now,
                       struct sup_event ret_events[static SUP_RESTORE_EVENTS_MAX]);

/* Live restore, all of it: feeds those events, then adds ARM_TIMER when the
 * record still waits on a timer (timers did not survive berthd), and KILL for
 * a run found in a record without one (a stray). Returns the number of
 * events fed, or -EINVAL. */
int sup_restore(const struct sup_config *cfg, struct sup_record *rec, const struct sup_found *found,
                struct sup_time now, struct sup_actions *ret_actions);

/* Names. to_string returns NULL for out-of-range values (and for
 * SUP_REASON_NONE); from_string returns the value or -EINVAL. */
const char *replica_state_to_string(enum replica_state s); /* "starting", ... */
int replica_state_from_string(const char *s);
const char *sup_reason_to_string(enum sup_reason r);       /* "Completed", ... */
int sup_reason_from_string(const char *s);
const char *sup_event_type_to_string(enum sup_event_type t);   /* "start", ... */
const char *sup_action_type_to_string(enum sup_action_type t); /* "record", ... */
