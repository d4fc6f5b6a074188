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
#include "model.h"

struct replica;

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
        char *source;            /* the manifest file that defines it */
        struct replica **replicas;
        size_t n_replicas;
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

        sd_event_source *reconcile_event; /* defer, one-shot, re-armed on demand */
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

/* Restores a service from the saved desired state (no revision bump). */
int manager_restore_service(struct manager *m, const char *name, uint64_t revision, const char *source,
                            struct service *desired);

/* Two specs that differ only in `replicas` need no new revision. */
bool service_spec_same_revision(const struct service *a, const struct service *b);
