/* replica-internal.h: what replica.c and restore.c (live restore) share.
 * Nothing else includes this: the rest of berthd sees replica.h only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "replica.h"
#include "shim-proto.h"

struct replica {
        struct manager *m;
        struct service_state *svc;
        unsigned index;
        char *id;          /* web-0 */
        char *cg_path;     /* services/web/0 */
        char *dir;         /* STATE/replicas/web/0 */
        char *socket_path; /* RUN/shims/web.0.sock ('.' cannot occur in a service name) */
        struct service *spec; /* the revision this replica runs */
        uint64_t revision;

        struct sup_config sup_cfg;
        struct sup_record rec;
        bool stop_requested;

        pid_t shim_pid;
        uint64_t shim_start_ticks;
        int shim_fd;
        sd_event_source *shim_io;
        unsigned unanswered; /* requests sent on shim_fd without waiting whose reply
                              * (STATUS or ERROR: one each) is not read yet */
        uint64_t run;       /* the shim's run number of the current run */
        uint64_t oom_base;  /* the cgroup's oom_kill count when the run started */
        uint64_t spawned_at; /* realtime µs of the last SPAWN: start latency = service exec - this */
        uint64_t order_run;  /* the run our standing order (ARM) is for; 0 = none given */
        uint64_t next_run;   /* EXITED said NEXT_STARTED: the run the shim started on its own */
        pid_t next_pid;      /* ... in this mini-init */

        sd_event_source *timer;
        sd_event_source *empty_watch; /* removal: waiting for the cgroup to empty */
        bool empty_watch_inotify;
        sd_event_source *oom_watch;   /* fires when the OOM killer may have acted in the cgroup */
        uint64_t oom_seen;            /* the cgroup's oom_kill count last reported */
        uint64_t remove_deadline;

        uint64_t log_dropped;       /* bytes of log output dropped by this replica's shims, in all */
        uint64_t log_dropped_shim;  /* the current shim's own count, as last reported */
        bool log_dropping;          /* the shim is in a drop episode */

        /* probes (prober.c): the current run's, NULL while not running */
        struct prober *prober;
        struct notify_socket *notify; /* NOTIFY_SOCKET, for a spec with a notify probe */
        bool notify_ready;            /* READY=1 came during this run (and no STOPPING=1 after) */
        char *notify_status;          /* the last STATUS=, NULL if none */
        bool ready;                   /* replica_ready() as last reported */
        uint64_t ready_since;         /* monotonic µs, 0 = not ready */
        bool restored_ready;          /* live restore: the record said ready */
};

int replica_alloc(struct service_state *s, unsigned index, const struct service *spec, uint64_t revision,
                  struct replica **ret);
int proc_start_ticks(pid_t pid, uint64_t *ret);
int replica_connect(struct replica *r);
void replica_disconnect(struct replica *r);
/* A request whose reply is not waited for (SIGNAL, ARM, ACK_EXIT): sent,
 * and counted, so that the reply of the next request waited for is not
 * taken for another's. */
int replica_shim_request(struct replica *r, const struct shim_msg *req);
void kill_leftovers(struct replica *r);
bool oom_since_start(struct replica *r);
/* Feed one event / apply actions; true when r is gone (freed). */
bool replica_feed(struct replica *r, const struct sup_event *ev);
bool replica_apply(struct replica *r, const struct sup_actions *a);
void replica_save(struct replica *r);
/* Watches the cgroup's OOM counter (a child killed by the OOM killer is reported at once). */
void replica_watch_oom(struct replica *r);
/* Executes SPAWN: a new shim, or START in the current one; feeds STARTED or START_FAILED. */
void replica_spawn(struct replica *r);
/* Gives the shim the supervisor's standing order for the current run (or
 * none): a restart at once happens in the shim, recorded after the fact. */
void replica_send_order(struct replica *r);
/* After feeding an end the shim followed with a run of its own (next_run):
 * if the supervisor did not take that run (no SPAWN), kill it. */
void replica_stop_unwanted_run(struct replica *r);
/* QUIT the shim, wait for the cgroup to empty, remove it and the state: frees r (maybe later). */
void replica_remove(struct replica *r);
struct sup_time sup_now(void);
/* A status from the shim: account dropped log output, LogDropped once per episode. */
void replica_note_log_drops(struct replica *r, const struct shim_status *st);
/* Probes of the current run: start (restored: re-adopted by a new berthd),
 * stop; readiness re-evaluated, manager told when it changed. */
void replica_probes_start(struct replica *r, bool restored);
void replica_probes_stop(struct replica *r);
void replica_update_ready(struct replica *r);
