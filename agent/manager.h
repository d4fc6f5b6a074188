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

struct replica;
struct port_table;

struct manager_config {
        const char *manifests_dir;
        const char *state_dir;
        const char *run_dir;
        const char *socket_path;
        const char *cgroup_parent; /* NULL: berthd's own cgroup */
        const char *shim_path;
        bool stop_services;        /* stop every replica on SIGTERM/SIGINT */
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
};

struct manager {
        struct manager_config cfg;
        sd_event *event;
        struct cg *cg;
        char *replicas_dir;      /* STATE/replicas */
        char *logs_dir;          /* STATE/logs */
        char *shims_dir;         /* RUN/shims */

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
 * a new revision (replicas replaced one at a time); only `replicas` changed:
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
 * undoes stop; restart: replaces every replica, one at a time (revision + 1,
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

/* Two specs that differ only in `replicas` need no new revision. */
bool service_spec_same_revision(const struct service *a, const struct service *b);
