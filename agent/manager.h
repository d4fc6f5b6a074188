/* manager.h: berthd's state and its reconciler.
 *
 * The manager holds the desired state (services from the manifests
 * directory, later also from the API: the same struct service_state) and
 * the actual state (replicas). manager_reconcile() is the only place that
 * decides what should exist: it compares the two and tells replicas to
 * start or stop. It runs as one deferred event after anything changed
 * (coalesced), never on a timer. Replicas (replica.c) execute: spawn
 * through the shim, signal, kill, remove, and report back. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cgroup.h"
#include "events.h"
#include "manifest.h"
#include "model.h"
#include "rollout.h"

struct replica;
struct port_table;

/* One entry of a service's revision history (manager-rollout.c). */
enum revision_status {
        REVISION_PROGRESSING, /* the rollout to it is under way (or paused) */
        REVISION_COMPLETE,    /* every replica ran it and was available */
        REVISION_FAILED,      /* its rollout failed (and was not rolled back) */
        REVISION_ROLLED_BACK, /* its rollout failed and was rolled back */
        REVISION_SUPERSEDED,  /* a later revision replaced it */
        _REVISION_STATUS_MAX,
};

struct revision {
        uint64_t revision;
        struct service *spec; /* the spec as deployed (replicas do not matter) */
        uint64_t created_at;  /* realtime µs */
        char *cause;          /* "FILE" or "api", "restart", "undo", "rollback" */
        char digest[17];      /* 64-bit FNV-1a of the canonical spec without replicas, hex */
        enum revision_status status;
};

struct manager_config {
        const char *manifests_dir;
        const char *state_dir;
        const char *run_dir;
        const char *socket_path;
        const char *cgroup_parent; /* NULL: berthd's own cgroup */
        const char *shim_path;
        bool stop_services;        /* stop every replica on SIGTERM/SIGINT */
        unsigned standby;          /* standby shims to keep (standby.h), 0: none */
};

struct service_state {
        struct manager *m;
        char *name;
        struct service *desired; /* NULL: the service is to be removed */
        uint64_t revision;       /* bumped when the spec (other than replicas) changes */
        char *source;            /* the manifest file that defines it, or "api" */
        bool stopped;            /* berthctl stop: no replicas until start */
        struct replica **replicas;
        size_t n_replicas;
        struct port_table *ports; /* listening sockets of network.ports (ports.h), NULL: none yet */

        /* rollouts (manager-rollout.c); persisted with the desired state */
        uint64_t max_revision;        /* the highest revision ever given out */
        uint64_t last_complete;       /* the last revision that was fully available, 0 = none */
        struct revision *history;     /* oldest first, bounded by revisionHistoryLimit */
        size_t n_history;
        struct rollout_state ro;      /* the current rollout, ro.target == revision */
        bool ro_rollback;             /* this rollout is a rollback (no rollback of a rollback) */
        uint64_t ro_rolled_back_from; /* an automatic rollback: the revision that failed, else 0 */
        char ro_rollback_cause[256];  /* and why it failed */
        uint64_t ro_started_at;       /* realtime µs */
        char *held_digest;            /* manifests directory: the file's spec we do not run
                                       * (rolled back or undone) until the file changes */
        unsigned ro_last_available;   /* for RolloutProgress events */
        char ro_message[256];
        struct rollout_plan_counts { unsigned updated, ready, available, total, old; } ro_counts;
        sd_event_source *ro_timer;    /* wakes the reconciler when time alone changes the plan */
};

struct manager {
        struct manager_config cfg;
        sd_event *event;
        struct cg *cg;
        char *replicas_dir;      /* STATE/replicas */
        char *logs_dir;          /* STATE/logs */
        char *shims_dir;         /* RUN/shims */
        struct standby_pool *standby; /* RUN/standby */

        struct service_state **services;
        size_t n_services;
        struct events *events;
        uint64_t started_at;     /* realtime µs */

        sd_event_source *reconcile_event; /* defer, one-shot, re-armed on demand */
        sd_event_source *sync_event;      /* defer: syncfs() of the state directory */
        sd_event_source *rescan_event;    /* defer: re-read the manifests directory */
        sd_event_source *inotify_event;
        sd_event_source *sigterm_event, *sigint_event, *sighup_event;
        bool exiting;
        int exit_code;
};

int manager_new(const struct manager_config *cfg, struct manager **ret);
struct manager *manager_free(struct manager *m);
/* Runs the event loop until berthd is told to exit. */
int manager_run(struct manager *m);

/* Ask for a reconcile pass soon (coalesced). */
void manager_schedule_reconcile(struct manager *m);
/* The decision pass: desired vs actual. */
void manager_reconcile(struct manager *m);

struct service_state *manager_find_service(struct manager *m, const char *name);
/* Called by replica.c when a replica is gone (stopped, removed): frees it. */
void manager_replica_gone(struct manager *m, struct replica *r);
size_t manager_count_replicas(const struct manager *m);

/* ---- the control API's view of the manager -----------------------------
 * agent/api.c calls these from the event loop; none of them blocks. JSON
 * shapes are documented in docs/api.md. Errors fill struct api_error with
 * the HTTP status, a code ("NotFound", "Conflict", "BadRequest",
 * "Invalid") and a one-line message, and return -errno. */

struct api_error {
        int status;          /* HTTP status */
        const char *code;    /* "NotFound", ... (static) */
        char message[1024];
};

/* Deploys services (takes ownership of the list's services, the list is
 * emptied). Idempotent: an unchanged service is a no-op; a changed spec gets
 * a new revision (a rollout, manager-rollout.c); only `replicas` changed:
 * scaled. A service defined by a file in the manifests directory is refused
 * (Conflict). dry_run: report what would change, change nothing.
 * *ret = {"dryRun":false,"changes":[{"service":"web","action":"created"|
 *         "updated"|"scaled"|"unchanged","revision":2,"replicas":3}]} */
int manager_deploy(struct manager *m, struct service_list *services, bool dry_run, struct json_object **ret,
                   struct api_error *err);
/* Sets spec.replicas (0..10000). *ret = the service's JSON. */
int manager_scale(struct manager *m, const char *name, int64_t replicas, struct json_object **ret,
                  struct api_error *err);
/* stop: every replica stopped, the service kept (stopped: true); start:
 * undoes stop; restart: rolls every replica to a new revision (revision + 1,
 * same spec). *ret = the service's JSON. */
int manager_service_stop(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
int manager_service_start(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
int manager_service_restart(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
/* Removes the service: its replicas are stopped and removed. */
int manager_delete(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);

/* {"version","pid","startedAt","cgroupMode","manifestsDir","stateDir",
 *  "services":N,"replicas":N} */
struct json_object *manager_info_json(struct manager *m);
/* [ service, ... ] with service = {"name","revision","source","owner":
 * "manifests"|"api","stopped":bool,"spec":<canonical JSON or null when being
 * deleted>,"replicas":{"desired":N,"running":N,"total":N}} */
struct json_object *manager_services_json(struct manager *m);
int manager_service_json(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
/* [ replica, ... ] (service NULL: all), sorted by service then index; replica =
 * {"service","replica","id","pid","state","since","restarts","revision",
 *  "cgroup","started_at","last_exit":{"code","signal","reason","at",
 *  "message"}|null,"next_restart_at"|null,"shim_pid"} (times RFC 3339). */
int manager_replicas_json(struct manager *m, const char *service, struct json_object **ret, struct api_error *err);
/* Stops berthd (stop_services: every replica first). */
void manager_shutdown(struct manager *m, bool stop_services);

struct events *manager_events(struct manager *m);

/* Restores a service from the saved desired state (no revision bump). */
int manager_restore_service(struct manager *m, const char *name, uint64_t revision, const char *source,
                            struct service *desired);

/* ---- rollouts (manager-rollout.c; docs/api.md) ------------------------- */
/* {"revision","target","stable","state":"complete"|"progressing"|"paused"|
 *  "failed","reason","paused","rollback","startedAt","replicas","updated",
 *  "ready","available","old","message"} */
struct json_object *manager_rollout_json(struct manager *m, struct service_state *s);
int manager_rollout_status(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
/* [ {"revision","createdAt","changeCause","digest","status","current"} ] oldest first */
int manager_rollout_history(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
/* to_revision 0: the last complete revision before the current one. */
int manager_rollout_undo(struct manager *m, const char *name, uint64_t to_revision, struct json_object **ret,
                         struct api_error *err);
int manager_rollout_pause(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);
int manager_rollout_resume(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);

/* Starts a rollout to s->revision (just set from s->max_revision): history entry, event. */
void manager_rollout_begin(struct manager *m, struct service_state *s, const char *cause);
/* The spec digest (hex, 16 digits + NUL) of a service, replicas left out. */
void service_spec_digest(const struct service *svc, char ret[static 17]);
const char *revision_status_to_string(enum revision_status s);
int revision_status_from_string(const char *s);
void service_history_free(struct service_state *s);
struct revision *service_history_find(struct service_state *s, uint64_t revision);
int service_history_add(struct service_state *s, uint64_t revision, const struct service *spec, const char *cause);

/* Two specs that differ only in `replicas` need no new revision. */
bool service_spec_same_revision(const struct service *a, const struct service *b);
