/* replica.c: see replica.h. Mechanism driven by the supervisor's actions:
 *   SPAWN   first run: cgroup + limits, launch spec, berth-shim; later runs:
 *           START to the same shim (restart in place, no new shim)
 *   SIGNAL  the stop signal, through the shim to the mini-init
 *   KILL    everything in the replica's cgroup
 *   REMOVE  QUIT the shim, wait for the cgroup to empty, remove it and the
 *           replica's state, tell the manager
 * and the shim's messages (EXITED, HELLO) fed back as supervisor events. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "launch-build.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "model-json.h"
#include "service-ports.h"
#include "prober.h"
#include "replica-internal.h"
#include "shim-client.h"
#include "standby.h"
#include "state.h"
#include "util.h"

#define REMOVE_RETRY_USEC (20 * 1000)      /* legacy v1 only: no cgroup.events to wait on */
#define REMOVE_GIVE_UP_USEC (30 * 1000000) /* then log and leave the cgroup for the next start */


static double jitter_rand(void *userdata) {
        return (double) random() / ((double) RAND_MAX + 1.0);
}

struct sup_time sup_now(void) {
        return (struct sup_time) { .mono = now_monotonic_usec(), .real = now_realtime_usec() };
}

unsigned replica_index(const struct replica *r) {
        return r->index;
}
uint64_t replica_revision(const struct replica *r) {
        return r->revision;
}
const char *replica_id(const struct replica *r) {
        return r->id;
}
struct service_state *replica_service(const struct replica *r) {
        return r->svc;
}
bool replica_stop_requested(const struct replica *r) {
        return r->stop_requested;
}
const struct sup_record *replica_record(const struct replica *r) {
        return &r->rec;
}
const struct service *replica_spec(const struct replica *r) {
        return r->spec;
}

bool replica_ready(const struct replica *r) {
        return r->rec.state == REPLICA_RUNNING && !r->stop_requested && (!r->prober || prober_ready(r->prober));
}

bool replica_readiness_failed(const struct replica *r) {
        return r->rec.state == REPLICA_RUNNING && r->prober && prober_readiness_failed(r->prober);
}

uint64_t replica_ready_since(const struct replica *r) {
        if (!replica_ready(r))
                return 0;
        if (!prober_spec_gates_readiness(&r->spec->spec))
                return r->rec.run_started.mono; /* ready from the start */
        return r->ready_since ? r->ready_since : r->rec.run_started.mono;
}

/* ---- probes ----------------------------------------------------------- */

/* Readiness may have changed: tell the reconciler (it gates rollouts on it)
 * and, for a replica whose readiness depends on probes, the event stream. */
void replica_update_ready(struct replica *r) {
        bool ready = replica_ready(r);
        if (ready == r->ready)
                return;
        r->ready = ready;
        /* kept when set: a re-adopted replica has been ready since then */
        r->ready_since = !ready ? 0 : r->ready_since ? r->ready_since : now_monotonic_usec();
        if (prober_spec_gates_readiness(&r->spec->spec)) {
                if (ready || r->rec.state == REPLICA_RUNNING) {
                        log_info("Replica %s: %s.", r->id, ready ? "ready" : "not ready");
                        events_emit(r->m->events, ready ? "ReplicaReady" : "ReplicaNotReady", r->svc->name,
                                    (int) r->index, NULL, "%s", ready ? "ready" : "not ready");
                }
                replica_save(r); /* a new berthd re-adopts it as ready, or not */
        }
        manager_schedule_reconcile(r->m);
}

static void on_probe(struct prober *p, unsigned changes, enum probe_kind k, bool success, const char *message,
                     void *userdata) {
        struct replica *r = userdata;
        const char *kind = probe_kind_to_string(k);

        if ((changes & PROBE_RESULT_STATUS_CHANGED) && !success) {
                log_warning("Replica %s: %s probe failed: %s", r->id, kind, message);
                struct json_object *extra = json_object_new_object();
                json_object_object_add(extra, "probe", json_object_new_string(kind));
                events_emit(r->m->events, "ProbeFailed", r->svc->name, (int) r->index, extra, "%s probe failed: %s",
                            kind, message);
        } else if ((changes & PROBE_RESULT_STATUS_CHANGED) && success)
                log_debug("Replica %s: %s probe succeeded%s%s.", r->id, kind, *message ? ": " : "", message);
        if (changes & PROBE_RESULT_READY_CHANGED)
                replica_update_ready(r);
        else if (changes & PROBE_RESULT_READINESS_FAILED_CHANGED)
                /* never ready, now failed past its threshold: a rollout to
                 * this revision fails now (rollout_plan() reads
                 * replica_readiness_failed()), not at its next wake-up (the
                 * progress deadline) */
                manager_schedule_reconcile(r->m);
        if (changes & PROBE_RESULT_RESTART) {
                char why[SUP_MESSAGE_MAX];
                snprintf(why, sizeof why, "%s probe failed: %s", kind, message);
                log_warning("Replica %s: %s; restarting it.", r->id, why);
                struct sup_event ev = { .type = SUP_EVENT_LIVENESS_FAILED, .now = sup_now(), .message = why };
                replica_feed(r, &ev); /* stops the run: frees p */
        }
}

static void on_notify(const struct notify_message *msg, void *userdata) {
        struct replica *r = userdata;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        bool ours = false;

        /* Security: only the replica's own processes speak for it (the
         * socket is 0666 so that any user inside can reach it). */
        if (cg_get_pids(r->m->cg, r->cg_path, true, &pids, &n) >= 0)
                for (size_t i = 0; i < n && !ours; i++)
                        ours = pids[i] == msg->pid;
        if (!ours) {
                log_debug("Replica %s: notify message from pid %d, which is not in its cgroup, ignoring.", r->id,
                          (int) msg->pid);
                return;
        }
        if (msg->status) {
                char *s = strndup(msg->status, 256);
                if (s) {
                        prober_sanitize_text(s);
                        free(r->notify_status);
                        r->notify_status = s;
                }
        }
        if (msg->what & PROBER_NOTIFY_READY)
                r->notify_ready = true;
        if (msg->what & PROBER_NOTIFY_STOPPING)
                r->notify_ready = false;
        if (r->prober && msg->what)
                prober_notify(r->prober, msg->what);
}

static char *notify_dir(const struct replica *r) {
        char *p = NULL;
        return asprintf(&p, "%s/notify/%s.%u", r->m->cfg.run_dir, r->svc->name, r->index) < 0 ? NULL : p;
}

/* The replica's NOTIFY_SOCKET, bound once (before its first run, or when a
 * new berthd re-adopts it). Its directory is what the replica sees. */
static int replica_notify_open(struct replica *r) {
        if (r->notify || !prober_spec_wants_notify(&r->spec->spec))
                return 0;
        _cleanup_free_ char *dir = notify_dir(r), *path = NULL;
        if (!dir || asprintf(&path, "%s/%s", dir, LAUNCH_NOTIFY_NAME) < 0)
                return -ENOMEM;
        int k = mkdir_p(dir, 0755);
        if (k >= 0)
                k = notify_socket_open(r->m->event, path, on_notify, r, &r->notify);
        if (k < 0)
                log_warning_errno(k, "Replica %s: cannot create its NOTIFY_SOCKET %s: %m; its notify probes will fail.",
                                  r->id, path);
        return k;
}

static void replica_notify_close(struct replica *r, bool remove_dir) {
        r->notify = notify_socket_free(r->notify);
        if (remove_dir) {
                _cleanup_free_ char *dir = notify_dir(r);
                if (dir)
                        (void) rmdir(dir);
        }
}

static bool spec_has_exec_probe(const struct service_spec *s) {
        return (s->startup_probe.set && s->startup_probe.has_exec) ||
               (s->liveness_probe.set && s->liveness_probe.has_exec) ||
               (s->readiness_probe.set && s->readiness_probe.has_exec);
}

/* What an exec probe needs: the service's credentials, environment and
 * working directory, and the cgroup files to join. */
static struct launch_spec *exec_context(struct replica *r) {
        char **procs = NULL;
        _cleanup_free_ char *error = NULL;
        struct launch_spec *l = calloc(1, sizeof *l);
        if (!l)
                return NULL;
        int k = cg_procs_paths(r->m->cg, r->cg_path, 0, &procs);
        if (k < 0) {
                log_warning_errno(k, "Replica %s: cannot find its cgroup files for exec probes: %m", r->id);
                free(l);
                return NULL;
        }
        struct launch_paths paths = { .cgroup_procs = procs };
        k = launch_build(r->spec, r->index, &paths, l, &error);
        cg_strv_free(procs);
        if (k < 0) {
                log_warning_errno(k, "Replica %s: cannot prepare its exec probes: %s", r->id,
                                  error ? error : strerror(-k));
                free(l);
                return NULL;
        }
        return l;
}

void replica_probes_start(struct replica *r, bool restored) {
        const struct service_spec *spec = &r->spec->spec;
        if (r->prober)
                return;
        if (spec->startup_probe.set || spec->liveness_probe.set || spec->readiness_probe.set) {
                if (restored)
                        (void) replica_notify_open(r);
                struct prober_target t = {
                        .id = r->id,
                        .pid = r->rec.pid,
                        .own_netns = spec->network.mode == NETWORK_NONE,
                        .exec = spec_has_exec_probe(spec) ? exec_context(r) : NULL,
                };
                int k = prober_new(r->m->event, spec, &t, r->rec.run_started.mono ? r->rec.run_started.mono
                                                                                  : now_monotonic_usec(),
                                   on_probe, r, &r->prober);
                launch_spec_free(t.exec); /* NULL unless prober_new failed early */
                if (k < 0)
                        log_error_errno(k, "Replica %s: cannot start its probes: %m", r->id);
                else {
                        if (restored && r->restored_ready)
                                prober_assume_ready(r->prober);
                        if (r->notify_ready)
                                prober_notify(r->prober, PROBER_NOTIFY_READY);
                }
        }
        r->restored_ready = false;
        replica_update_ready(r);
}

void replica_probes_stop(struct replica *r) {
        r->prober = prober_free(r->prober);
        replica_update_ready(r);
}

/* /proc/PID/stat field 22: when the process started, in clock ticks since
 * boot. With the pid it identifies a process (pids are reused). */
int proc_start_ticks(pid_t pid, uint64_t *ret) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        int r = read_full_file(path, 4096, &buf, NULL);
        if (r < 0)
                return r;
        char *p = strrchr(buf, ')'); /* comm may contain spaces and ')' */
        if (!p)
                return -EBADMSG;
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        *ret = strtoull(p + 1, NULL, 10);
        return 0;
}

static void sup_config_from_spec(struct sup_config *c, const struct service *s) {
        sup_config_init(c);
        c->policy = (enum restart_policy) s->spec.restart_policy;
        c->backoff = s->spec.restart_backoff;
        c->stop_signal = s->spec.stop_signal_number > 0 ? s->spec.stop_signal_number : SIGTERM;
        c->grace_ms = s->spec.termination_grace_period;
        c->rand01 = jitter_rand;
}

/* ---- the record ------------------------------------------------------- */

static char *record_path(const struct replica *r) {
        char *p = NULL;
        return asprintf(&p, "%s/record.json", r->dir) < 0 ? NULL : p;
}

static struct json_object *time_json(struct sup_time t) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "mono", json_object_new_int64((int64_t) t.mono));
        json_object_object_add(o, "real", json_object_new_int64((int64_t) t.real));
        return o;
}

void replica_save(struct replica *r) {
        _cleanup_free_ char *path = record_path(r);
        if (!path)
                return;
        struct json_object *o = json_object_new_object(), *e = json_object_new_object();
        json_object_object_add(o, "service", json_object_new_string(r->svc->name));
        json_object_object_add(o, "index", json_object_new_int64(r->index));
        json_object_object_add(o, "revision", json_object_new_int64((int64_t) r->revision));
        json_object_object_add(o, "stop_requested", json_object_new_boolean(r->stop_requested));
        json_object_object_add(o, "shim_pid", json_object_new_int64(r->shim_pid));
        json_object_object_add(o, "shim_start_ticks", json_object_new_int64((int64_t) r->shim_start_ticks));
        json_object_object_add(o, "run", json_object_new_int64((int64_t) r->run));
        json_object_object_add(o, "spawned_at", json_object_new_int64((int64_t) r->spawned_at));
        json_object_object_add(o, "oom_base", json_object_new_int64((int64_t) r->oom_base));
        json_object_object_add(o, "oom_kills", json_object_new_int64((int64_t) r->oom_seen));
        json_object_object_add(o, "log_dropped_bytes", json_object_new_int64((int64_t) r->log_dropped));
        json_object_object_add(o, "log_dropped_shim", json_object_new_int64((int64_t) r->log_dropped_shim));
        json_object_object_add(o, "log_dropping", json_object_new_boolean(r->log_dropping));
        json_object_object_add(o, "cgroup", json_object_new_string(r->cg_path));
        json_object_object_add(o, "state", json_object_new_string(replica_state_to_string(r->rec.state)));
        json_object_object_add(o, "since", time_json(r->rec.since));
        json_object_object_add(o, "restart_count", json_object_new_int64((int64_t) r->rec.restart_count));
        json_object_object_add(o, "streak", json_object_new_int64(r->rec.streak));
        json_object_object_add(o, "next_start_at", time_json(r->rec.next_start_at));
        json_object_object_add(o, "timer_at", json_object_new_int64((int64_t) r->rec.timer_at));
        json_object_object_add(o, "after_stop", json_object_new_int64(r->rec.after_stop));
        json_object_object_add(o, "pid", json_object_new_int64(r->rec.pid));
        json_object_object_add(o, "run_started", time_json(r->rec.run_started));
        const char *reason = sup_reason_to_string(r->rec.last_exit.reason);
        json_object_object_add(e, "reason", reason ? json_object_new_string(reason) : NULL);
        json_object_object_add(e, "code", json_object_new_int64(r->rec.last_exit.exit_code));
        json_object_object_add(e, "signal", json_object_new_int64(r->rec.last_exit.exit_signal));
        json_object_object_add(e, "at", json_object_new_int64((int64_t) r->rec.last_exit.at));
        json_object_object_add(e, "message", json_object_new_string(r->rec.last_exit.message));
        json_object_object_add(o, "last_exit", e);
        json_object_object_add(o, "stop_message", json_object_new_string(r->rec.stop_message));
        json_object_object_add(o, "ready", json_object_new_boolean(r->ready));
        json_object_object_add(o, "ready_since", json_object_new_int64((int64_t) r->ready_since));
        json_object_object_add(o, "notify_ready", json_object_new_boolean(r->notify_ready));
        json_object_object_add(o, "spec", service_to_json(r->spec));
        int k = state_write_json(path, o, false);
        json_object_put(o);
        state_sync_soon(r->m);
        if (k < 0)
                log_warning_errno(k, "Replica %s: cannot save its record %s: %m; continuing (a berthd restart may "
                                     "not know its latest state).",
                                  r->id, path);
}

/* ---- creation --------------------------------------------------------- */

int replica_alloc(struct service_state *s, unsigned index, const struct service *spec, uint64_t revision,
                         struct replica **ret) {
        struct manager *m = s->m;
        struct replica *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->m = m;
        r->svc = s;
        r->index = index;
        r->revision = revision;
        r->shim_fd = -1;
        if (asprintf(&r->id, "%s-%u", s->name, index) < 0 ||
            asprintf(&r->dir, "%s/%s/%u", m->replicas_dir, s->name, index) < 0 ||
            asprintf(&r->socket_path, "%s/%s.%u.sock", m->shims_dir, s->name, index) < 0 ||
            cg_replica_path(s->name, index, &r->cg_path) < 0 || !(r->spec = service_copy(spec))) {
                replica_free(r);
                return -ENOMEM;
        }
        sup_config_from_spec(&r->sup_cfg, r->spec);
        sup_record_init(&r->rec, sup_now());
        *ret = r;
        return 0;
}

int replica_new(struct service_state *s, unsigned index, const struct service *spec, uint64_t revision,
                struct replica **ret) {
        struct replica *r = NULL;
        int k = replica_alloc(s, index, spec, revision, &r);
        if (k < 0)
                return log_error_errno(k, "Replica %s-%u: cannot create: %m", s->name, index);
        k = mkdir_p(r->dir, 0700);
        if (k < 0) {
                log_error_errno(k, "Replica %s: cannot create %s: %m", r->id, r->dir);
                replica_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

void replica_disconnect(struct replica *r) {
        r->shim_io = sd_event_source_disable_unref(r->shim_io);
        r->shim_fd = safe_close(r->shim_fd);
        r->unanswered = 0;
}

int replica_shim_request(struct replica *r, const struct shim_msg *req) {
        int k = shim_send(r->shim_fd, req);
        if (k >= 0)
                r->unanswered++;
        return k;
}

/* A reply (STATUS or ERROR) just read: the oldest unanswered request's, if any. */
static bool reply_was_unanswered(struct replica *r, const struct shim_msg *m) {
        if ((m->type != SHIM_MSG_STATUS && m->type != SHIM_MSG_ERROR) || r->unanswered == 0)
                return false;
        r->unanswered--;
        return true;
}

/* A request and its own reply: the replies still owed to earlier requests
 * (replica_shim_request) are read first. */
static int replica_call(struct replica *r, const struct shim_msg *req, struct shim_msg *ret_reply, int timeout_ms) {
        return shim_call(r->shim_fd, req, ret_reply, &r->unanswered, timeout_ms);
}

void replica_free(struct replica *r) {
        if (!r)
                return;
        replica_disconnect(r);
        sd_event_source_disable_unref(r->timer);
        sd_event_source_disable_unref(r->empty_watch);
        sd_event_source_disable_unref(r->oom_watch);
        prober_free(r->prober);
        notify_socket_free(r->notify);
        free(r->notify_status);
        service_free(r->spec);
        free(r->id);
        free(r->cg_path);
        free(r->dir);
        free(r->socket_path);
        free(r);
}

/* ---- driving the supervisor ------------------------------------------- */

bool replica_feed(struct replica *r, const struct sup_event *ev);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct replica *r = userdata;
        struct sup_event ev = { .type = SUP_EVENT_TIMER, .now = sup_now() };
        replica_feed(r, &ev);
        return 0;
}

static void replica_arm_timer(struct replica *r, uint64_t at) {
        int k;
        if (r->timer) {
                k = sd_event_source_set_time(r->timer, at);
                if (k >= 0)
                        k = sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
        } else
                k = sd_event_add_time(r->m->event, &r->timer, CLOCK_MONOTONIC, at, 1 /* µs: precise */, on_timer, r);
        if (k < 0)
                log_error_errno(k, "Replica %s: cannot arm its timer: %m", r->id);
}

static int on_shim_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

int replica_connect(struct replica *r) {
        replica_disconnect(r);
        int fd = shim_connect(r->socket_path);
        if (fd < 0)
                return fd;
        int k = sd_event_add_io(r->m->event, &r->shim_io, fd, EPOLLIN, on_shim_io, r);
        if (k < 0) {
                close(fd);
                return k;
        }
        r->shim_fd = fd;
        return 0;
}

/* Kills everything in the replica's cgroup. Not while the shim reports an
 * idle mini-init (init_alive): that one waits to restart in place and has
 * already killed the rest of its pid namespace. */
void kill_leftovers(struct replica *r) {
        int k = cg_is_populated(r->m->cg, r->cg_path);
        if (k > 0) {
                log_debug("Replica %s: killing what is left in its cgroup.", r->id);
                k = cg_kill_all(r->m->cg, r->cg_path, SIGKILL);
                if (k < 0 && k != -ENOENT)
                        log_warning_errno(k, "Replica %s: cannot kill leftovers in its cgroup: %m", r->id);
        }
}

static struct cg_limits limits_of(const struct service *s) {
        return (struct cg_limits) {
                .memory_max = s->spec.resources.limits.memory,
                .memory_low = s->spec.resources.requests.memory,
                .cpu_limit_millis = s->spec.resources.limits.cpu,
                .cpu_request_millis = s->spec.resources.requests.cpu,
                .pids_max = s->spec.resources.limits.pids,
        };
}

/* How long a start waits for a standby that is still being prepared
 * (normally a few ms away) before it goes cold. */
#define STANDBY_WAIT_MS 20

/* The replica takes over a standby shim (standby.h), in two steps so that
 * the shim's preparation (parsing the spec, its log, its scheduling) runs
 * while we create the cgroups: CLAIM with DEFERRED (the launch spec's text
 * in a memfd, the listening sockets), then, once the cgroups are there,
 * START, answered like any START; the spec file is written while the shim
 * starts the service (a file creation costs up to 0.4 ms on slow disks).
 * On success the standby's connection becomes the replica's. Whatever
 * happens, the lifeline is closed: a standby that was not claimed exits
 * (and one that got CLAIM but no START does too). */
static int claim_begin(struct standby_claim *sc, const char *spec_path, const char *text, size_t size,
                       const int *fds, size_t n_fds) {
        struct shim_msg req = shim_msg_request(SHIM_MSG_CLAIM);
        int all[SHIM_CMSG_FDS_MAX];

        if (strlen(spec_path) >= sizeof req.spec_path)
                return -ENAMETOOLONG;
        if (n_fds > SHIM_FDS_MAX)
                return -E2BIG;
        _cleanup_close_ int mfd = memfd_create("berth-launch", MFD_CLOEXEC);
        if (mfd < 0)
                return -errno;
        for (size_t done = 0; done < size;) {
                ssize_t n = write(mfd, text + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                done += (size_t) n;
        }
        if (lseek(mfd, 0, SEEK_SET) < 0) /* the shim reads it from where it stands */
                return -errno;
        strcpy(req.spec_path, spec_path);
        req.n_fds = (unsigned) n_fds;
        req.deferred = true;
        req.spec_fd = true;
        memcpy(all, fds, sizeof(int) * n_fds);
        all[n_fds] = mfd;
        return shim_send_fds(sc->ctl_fd, &req, all, n_fds + 1);
}

static void claim_abandon(struct standby_claim *sc) {
        sc->ctl_fd = safe_close(sc->ctl_fd);
        sc->lifeline_fd = safe_close(sc->lifeline_fd);
}

/* START, then the spec file (the record of what runs, and what a cold start
 * after a failed claim reads), then START's reply. */
static int claim_finish(struct replica *r, struct standby_claim *sc, const char *spec_path, const char *text,
                        size_t size, int *ret_written, pid_t *ret_shim_pid, pid_t *ret_pid) {
        struct shim_msg req = shim_msg_request(SHIM_MSG_START), reply = {};
        int k;

        k = shim_send(sc->ctl_fd, &req);
        *ret_written = launch_write_atomic(spec_path, text, size, false); /* durable with the record's sync */
        if (k >= 0)
                k = shim_await_reply(sc->ctl_fd, &reply, NULL, 5000);
        sc->lifeline_fd = safe_close(sc->lifeline_fd);
        if (k >= 0 && (reply.type != SHIM_MSG_STATUS || reply.status.state != SHIM_RUN_RUNNING || reply.status.pid <= 0))
                k = -EPROTO;
        if (k >= 0) {
                replica_disconnect(r);
                k = sd_event_add_io(r->m->event, &r->shim_io, sc->ctl_fd, EPOLLIN, on_shim_io, r);
        }
        if (k < 0) {
                log_debug_errno(k, "Replica %s: standby shim %d: claim failed: %m%s%s; starting it cold.", r->id,
                                (int) sc->shim_pid, reply.type == SHIM_MSG_ERROR ? ": " : "",
                                reply.type == SHIM_MSG_ERROR ? reply.message : "");
                sc->ctl_fd = safe_close(sc->ctl_fd);
                return k;
        }
        if (*ret_written < 0)
                log_warning_errno(*ret_written, "Replica %s: cannot write %s: %m; it runs regardless.", r->id, spec_path);
        r->shim_fd = TAKE_FD(sc->ctl_fd);
        *ret_shim_pid = reply.status.shim_pid;
        *ret_pid = reply.status.pid;
        return 0;
}

/* A new shim for this replica: cgroup, launch spec, berth-shim (a standby
 * one when the spec fits and one is ready). */
static int spawn_shim(struct replica *r, char **ret_error) {
        struct manager *m = r->m;
        struct cg_limits limits = limits_of(r->spec);
        const char *missing = NULL;
        _cleanup_free_ char *spec_path = NULL, *log_dir = NULL, *status_path = NULL, *v2dir = NULL;
        struct standby_claim sc = { .ctl_fd = -1, .lifeline_fd = -1 };
        char **procs = NULL;
        int k;

        kill_leftovers(r);
        k = cg_procs_paths(m->cg, r->cg_path, 0, &procs);
        if (k < 0) {
                (void) asprintf(ret_error, "cgroup %s: %s", r->cg_path, strerror(-k));
                return k;
        }
        if (cg_clone_into_is_complete(m->cg)) {
                /* pure v2: the shim can clone3(CLONE_INTO_CGROUP) right into it */
                _cleanup_free_ char *tmp = NULL;
                size_t n = 0;
                while (procs[n])
                        n++;
                if (n > 0 && (tmp = strdup(procs[n - 1]))) {
                        char *slash = strrchr(tmp, '/');
                        if (slash)
                                *slash = 0;
                        v2dir = TAKE_PTR(tmp);
                }
        }

        /* the replica's log directory: the shim writes one file per run there */
        if (asprintf(&spec_path, "%s/launch", r->dir) < 0 ||
            asprintf(&log_dir, "%s/%s/%s", m->logs_dir, r->svc->name, r->id) < 0 ||
            asprintf(&status_path, "%s/status", r->dir) < 0) {
                cg_strv_free(procs);
                return -ENOMEM;
        }
        _cleanup_free_ char *ndir = NULL;
        if (replica_notify_open(r) >= 0 && r->notify)
                ndir = notify_dir(r);

        struct launch_paths paths = {
                .cgroup_procs = procs,
                .cgroup_v2_dir = v2dir,
                .log_dir = log_dir,
                .status_path = status_path,
                .socket_path = r->socket_path,
                .notify_dir = ndir,
        };
        struct launch_spec spec;
        k = launch_build(r->spec, r->index, &paths, &spec, ret_error);
        cg_strv_free(procs);
        if (k < 0)
                return k;
        _cleanup_free_ char *spec_text = NULL;
        size_t spec_size = 0;
        k = launch_spec_format(&spec, &spec_text, &spec_size);
        bool fits_standby = launch_spec_fits_standby(&spec);
        launch_spec_done(&spec);
        if (k < 0) {
                (void) asprintf(ret_error, "cannot format the launch spec: %s", strerror(-k));
                return k;
        }

        /* the service's listening sockets (network.ports), bound on first use */
        int listen_fds[SHIM_FDS_MAX];
        size_t n_listen = MIN(r->spec->spec.network.n_ports, (size_t) SHIM_FDS_MAX);
        k = service_ports_acquire(r->svc, r->spec, listen_fds, ret_error);
        if (k < 0)
                return k;

        (void) unlink(r->socket_path); /* a stale socket of a dead shim */
        if (fits_standby && standby_take(m->standby, STANDBY_WAIT_MS, &sc) >= 0) {
                if (claim_begin(&sc, spec_path, spec_text, spec_size, listen_fds, n_listen) < 0)
                        claim_abandon(&sc);
                /* its replacement: the factory forks it now, prepared at
                 * idle priority meanwhile (the next start of a burst may
                 * need it) */
                standby_pool_fill(m->standby);
        }
        /* the standby prepares meanwhile; the limits hold before it runs anything of the service */
        k = cg_create(m->cg, r->cg_path, &limits, &missing);
        if (k < 0) {
                claim_abandon(&sc);
                if (k == -EOPNOTSUPP)
                        (void) asprintf(ret_error, "cgroup: the %s controller is not available on this host, so "
                                                   "the manifest's limits cannot be applied",
                                        missing ? missing : "needed");
                else
                        (void) asprintf(ret_error, "cgroup %s: %s", r->cg_path, strerror(-k));
                return k;
        }
        (void) cg_oom_kill_count(m->cg, r->cg_path, &r->oom_base);

        /* the spec file: a claim writes it while the shim starts the
         * service; a cold shim reads it (also after a failed claim that
         * could not write it) */
        pid_t shim_pid = 0, pid = 0;
        int written = -ENOENT; /* not yet */
        bool claimed = sc.ctl_fd >= 0 &&
                       claim_finish(r, &sc, spec_path, spec_text, spec_size, &written, &shim_pid, &pid) >= 0;
        if (!claimed) {
                if (sc.shim_pid > 0)
                        kill_leftovers(r); /* whatever a failed claim may have started */
                if (written < 0)
                        written = launch_write_atomic(spec_path, spec_text, spec_size, false);
                if (written < 0) {
                        (void) asprintf(ret_error, "cannot write %s: %s", spec_path, strerror(-written));
                        return written;
                }
                /* the replica's log directory (a claimed standby brings its own) */
                (void) mkdir_p(log_dir, 0750);
                k = shim_spawn_fds(m->cfg.shim_path, spec_path, listen_fds, n_listen, &shim_pid, &pid, ret_error);
                if (k < 0)
                        return k;
        }
        standby_pool_fill(m->standby); /* after a claim that failed, or none */
        r->shim_pid = shim_pid;
        (void) proc_start_ticks(shim_pid, &r->shim_start_ticks);
        r->run = 1;
        r->log_dropped_shim = 0; /* a new shim counts from 0 */
        r->log_dropping = false;
        replica_watch_oom(r);

        k = claimed ? 0 : replica_connect(r);
        if (k < 0)
                log_warning_errno(k, "Replica %s: cannot connect to its shim %s: %m; will learn its exit from %s.",
                                  r->id, r->socket_path, status_path);
        log_debug("Replica %s: %s shim %d started, mini-init pid %d.", r->id, claimed ? "standby" : "new",
                  (int) shim_pid, (int) pid);
        return (int) pid;
}

/* The shim says its mini-init is idle, waiting to restart in place: PID 1
 * of the replica's pid namespace, which it has emptied itself. It must not
 * be killed (the next START would find it dying), nor does anything else of
 * the ended run remain to be killed. */
static bool init_idle(const struct shim_status *st) {
        return st->state == SHIM_RUN_EXITED && st->init_alive;
}

/* Another run in the same shim (restart in place). */
static int restart_in_shim(struct replica *r, char **ret_error) {
        struct shim_msg req = shim_msg_request(SHIM_MSG_START), reply, stale;
        _cleanup_free_ char *status_path = NULL;
        struct shim_status st = {};
        if (r->next_run != 0 && r->next_run == r->run + 1) {
                /* the shim started it already, on our standing order, in the
                 * same mini-init; what it says next is about that run: no
                 * draining, no request */
                r->run = r->next_run;
                r->next_run = 0;
                (void) cg_oom_kill_count(r->m->cg, r->cg_path, &r->oom_base);
                return r->next_pid;
        }
        r->next_run = 0;
        /* replies to earlier fire-and-forget requests (ACK_EXIT, SIGNAL, ARM)
         * already queued: dropped; those still to come are skipped by
         * replica_call(), so START's reply is the one we read */
        while (shim_recv(r->shim_fd, &stale) >= 0)
                (void) reply_was_unanswered(r, &stale);
        /* the status file, which the shim writes before it reports a run's
         * end and again when an idle mini-init exits, says whether one waits */
        if (asprintf(&status_path, "%s/status", r->dir) < 0 || shim_status_read(status_path, &st) < 0 ||
            st.run != r->run || !init_idle(&st))
                kill_leftovers(r);
        (void) cg_oom_kill_count(r->m->cg, r->cg_path, &r->oom_base);
        int k = replica_call(r, &req, &reply, 5000);
        if (k < 0) {
                (void) asprintf(ret_error, "shim: START failed: %s%s%s", strerror(-k),
                                reply.type == SHIM_MSG_ERROR ? ": " : "", reply.type == SHIM_MSG_ERROR ? reply.message : "");
                return k;
        }
        if (reply.status.state != SHIM_RUN_RUNNING || reply.status.run <= r->run) {
                (void) asprintf(ret_error, "shim: START answered with run %llu (%s), expected a new run after %llu",
                                (unsigned long long) reply.status.run, shim_run_state_to_string(reply.status.state),
                                (unsigned long long) r->run);
                return -EPROTO;
        }
        r->run = reply.status.run;
        replica_note_log_drops(r, &reply.status);
        return reply.status.pid;
}

static void do_signal(struct replica *r, int signo);

void replica_stop_unwanted_run(struct replica *r) {
        if (r->next_run == 0)
                return;
        /* the shim restarted on our order, but the supervisor decided
         * otherwise (see sup_standing_order()): end that run. Its end is
         * about a run we never started: not fed to the supervisor. */
        log_warning("Replica %s: the shim restarted it at once, which the restart policy does not want now; "
                    "stopping run %llu.", r->id, (unsigned long long) r->next_run);
        r->run = r->next_run;
        r->next_run = 0;
        do_signal(r, SIGKILL);
}

void replica_send_order(struct replica *r) {
        struct shim_msg req = shim_msg_request(SHIM_MSG_ARM);
        struct sup_order o;

        if (r->shim_fd < 0)
                return;
        if (sup_standing_order(&r->sup_cfg, &r->rec, &o) && !r->stop_requested) {
                req.run = r->run;
                req.min_uptime_usec = o.min_uptime_usec;
                req.on_failure = o.on_failure;
        } else if (r->order_run == 0)
                return; /* nothing to give, nothing to take back */
        /* fire and forget, like SIGNAL: its reply is skipped by the next call */
        if (replica_shim_request(r, &req) < 0)
                return;
        r->order_run = req.run;
}

void replica_spawn(struct replica *r) {
        _cleanup_free_ char *error = NULL;
        int pid;

        r->spawned_at = now_realtime_usec();
        r->notify_ready = false; /* a new run must say READY=1 again */
        (void) replica_notify_open(r); /* re-adopted by a new berthd and restarted in its shim */
        free(r->notify_status);
        r->notify_status = NULL;
        if (r->shim_fd >= 0)
                pid = restart_in_shim(r, &error);
        else
                pid = spawn_shim(r, &error);

        struct sup_event ev = { .now = sup_now() };
        if (pid > 0) {
                ev.type = SUP_EVENT_STARTED;
                ev.pid = pid;
                log_info("Replica %s: started (pid %d, revision %llu).", r->id, pid, (unsigned long long) r->revision);
                events_emit(r->m->events, "ReplicaStarted", r->svc->name, (int) r->index, NULL,
                            "started (pid %d, revision %llu)", pid, (unsigned long long) r->revision);
        } else {
                ev.type = SUP_EVENT_START_FAILED;
                ev.message = error ? error : strerror(pid < 0 ? -pid : EIO);
                log_error("Replica %s: cannot start: %s", r->id, ev.message);
                events_emit(r->m->events, "ReplicaStartFailed", r->svc->name, (int) r->index, NULL, "cannot start: %s",
                            ev.message);
        }
        if (replica_feed(r, &ev))
                return;
        if (pid > 0 && r->rec.state == REPLICA_RUNNING)
                replica_send_order(r);
}

static void do_signal(struct replica *r, int signo) {
        if (r->shim_fd >= 0) {
                struct shim_msg req = shim_msg_request(SHIM_MSG_SIGNAL);
                req.signo = signo;
                int k = replica_shim_request(r, &req);
                if (k >= 0) {
                        r->order_run = 0; /* a SIGNAL cancels the standing order */
                        return;
                }
                log_debug_errno(k, "Replica %s: cannot reach the shim: %m; signalling the cgroup instead.", r->id);
        }
        int k = cg_kill_all(r->m->cg, r->cg_path, signo);
        if (k < 0 && k != -ENOENT)
                log_warning_errno(k, "Replica %s: cannot send %s: %m", r->id, strsignal(signo));
}

/* ---- removal ---------------------------------------------------------- */

static void remove_state_files(struct replica *r) {
        /* everything in it: the record, the launch spec, the shim's status
         * (which the shim may rewrite until it exits), temp files of a crash */
        (void) rm_dir_files(r->dir);
        char *slash = strrchr(r->dir, '/');
        if (slash) {
                *slash = 0;
                (void) rmdir(r->dir); /* the service's directory, once empty */
                *slash = '/';
        }
}

static void finish_remove(struct replica *r);

static int on_cgroup_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        finish_remove(userdata);
        return 0;
}

static int on_remove_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        finish_remove(userdata);
        return 0;
}

/* The run is over; the cgroup must be empty before it can go. Waits on
 * cgroup.events (v2, hybrid) or, on legacy v1 only, retries shortly. */
static void finish_remove(struct replica *r) {
        struct manager *m = r->m;
        int k = cg_remove(m->cg, r->cg_path);
        if (k == -EBUSY && now_monotonic_usec() < r->remove_deadline) {
                (void) cg_kill_all(m->cg, r->cg_path, SIGKILL);
                if (r->empty_watch && r->empty_watch_inotify)
                        return; /* the next cgroup.events change calls us again */
                if (!r->empty_watch) {
                        _cleanup_free_ char *events = NULL;
                        if (cg_events_path(m->cg, r->cg_path, &events) >= 0 &&
                            sd_event_add_inotify(m->event, &r->empty_watch, events, IN_MODIFY, on_cgroup_event, r) >= 0) {
                                r->empty_watch_inotify = true;
                                /* it may have emptied before the watch existed */
                                if (cg_is_populated(m->cg, r->cg_path) == 0)
                                        finish_remove(r);
                                return;
                        }
                        k = sd_event_add_time_relative(m->event, &r->empty_watch, CLOCK_MONOTONIC, REMOVE_RETRY_USEC,
                                                       1000, on_remove_retry, r);
                } else {
                        k = sd_event_source_set_time_relative(r->empty_watch, REMOVE_RETRY_USEC);
                        if (k >= 0)
                                k = sd_event_source_set_enabled(r->empty_watch, SD_EVENT_ONESHOT);
                }
                if (k >= 0)
                        return;
                log_warning_errno(k, "Replica %s: cannot wait for its cgroup to empty: %m", r->id);
        }
        if (k < 0)
                log_warning_errno(k, "Replica %s: cannot remove its cgroup %s: %m; it stays until the next start.",
                                  r->id, r->cg_path);
        remove_state_files(r);
        log_info("Replica %s: removed.", r->id);
        events_emit(m->events, "ReplicaRemoved", r->svc->name, (int) r->index, NULL, "removed");
        manager_replica_gone(m, r); /* frees r */
}

void replica_remove(struct replica *r) {
        r->oom_watch = sd_event_source_disable_unref(r->oom_watch);
        r->prober = prober_free(r->prober);
        replica_notify_close(r, true);
        if (r->shim_fd >= 0) {
                /* wait for the reply: closing with unread replies queued would
                 * reset the connection and could lose the QUIT */
                struct shim_msg req = shim_msg_request(SHIM_MSG_QUIT), reply;
                int k = replica_call(r, &req, &reply, 1000);
                if (k < 0)
                        log_warning_errno(k, "Replica %s: the shim did not confirm QUIT: %m", r->id);
        }
        replica_disconnect(r);
        r->timer = sd_event_source_disable_unref(r->timer);
        kill_leftovers(r);
        r->remove_deadline = now_monotonic_usec() + REMOVE_GIVE_UP_USEC;
        finish_remove(r);
}

/* Executes the supervisor's actions. Returns true when r is gone (freed). */
bool replica_apply(struct replica *r, const struct sup_actions *a) {
        for (size_t i = 0; i < a->n; i++) {
                const struct sup_action *act = &a->v[i];
                switch (act->type) {
                case SUP_ACTION_RECORD:
                        replica_save(r);
                        break;
                case SUP_ACTION_ARM_TIMER:
                        replica_arm_timer(r, act->at);
                        break;
                case SUP_ACTION_DISARM_TIMER:
                        if (r->timer)
                                (void) sd_event_source_set_enabled(r->timer, SD_EVENT_OFF);
                        break;
                case SUP_ACTION_SPAWN:
                        replica_spawn(r);
                        break;
                case SUP_ACTION_SIGNAL:
                        do_signal(r, act->signo);
                        break;
                case SUP_ACTION_KILL: {
                        /* sent before the kill, so the shim reads it before it
                         * can see the end: no restart of its own */
                        if (r->order_run != 0 && r->shim_fd >= 0) {
                                struct shim_msg cancel = shim_msg_request(SHIM_MSG_ARM);
                                (void) replica_shim_request(r, &cancel);
                                r->order_run = 0;
                        }
                        int k = cg_kill_all(r->m->cg, r->cg_path, SIGKILL);
                        if (k < 0 && k != -ENOENT)
                                log_warning_errno(k, "Replica %s: cannot kill its cgroup: %m", r->id);
                        break;
                }
                case SUP_ACTION_REMOVE:
                        replica_remove(r);
                        return true;
                default:
                        break;
                }
        }
        return false;
}

bool replica_feed(struct replica *r, const struct sup_event *ev) {
        struct sup_actions a;
        enum replica_state before = r->rec.state;
        int k = sup_step(&r->sup_cfg, &r->rec, ev, &a);
        if (k < 0) {
                log_error_errno(k, "Replica %s: supervisor refused event %s: %m", r->id,
                                sup_event_type_to_string(ev->type));
                return false;
        }
        if (r->rec.state != before) {
                log_debug("Replica %s: %s -> %s on %s.", r->id, replica_state_to_string(before),
                          replica_state_to_string(r->rec.state), sup_event_type_to_string(ev->type));
                /* readiness and crash loops move rollouts: the reconciler looks again */
                manager_schedule_reconcile(r->m);
        }
        /* probes run while the run does (before the actions: REMOVE frees r) */
        if (r->rec.state == REPLICA_RUNNING && before != REPLICA_RUNNING)
                replica_probes_start(r, false);
        else if (r->rec.state != REPLICA_RUNNING && before == REPLICA_RUNNING)
                replica_probes_stop(r);
        else if (r->rec.state != before)
                replica_update_ready(r);
        if (r->rec.state == REPLICA_BACKOFF && before != REPLICA_BACKOFF) {
                double in = r->rec.next_start_at.mono > ev->now.mono
                                    ? (double) (r->rec.next_start_at.mono - ev->now.mono) / 1e6
                                    : 0.0;
                log_info("Replica %s: restarting in %.1fs (restart %llu).", r->id, in,
                         (unsigned long long) r->rec.restart_count + 1);
                struct json_object *extra = json_object_new_object();
                if (extra) {
                        json_object_object_add(extra, "delayMs", json_object_new_int64((int64_t) (in * 1000.0 + 0.5)));
                        json_object_object_add(extra, "restart",
                                               json_object_new_int64((int64_t) r->rec.restart_count + 1));
                }
                events_emit(r->m->events, "ReplicaBackoff", r->svc->name, (int) r->index, extra, "restarting in %.1fs",
                            in);
        }
        return replica_apply(r, &a);
}

void replica_start(struct replica *r) {
        struct sup_event ev = { .type = SUP_EVENT_START, .now = sup_now() };
        replica_feed(r, &ev);
}

void replica_stop(struct replica *r) {
        r->stop_requested = true;
        struct sup_event ev = { .type = SUP_EVENT_STOP, .now = sup_now(), .grace_ms = r->sup_cfg.grace_ms };
        log_info("Replica %s: stopping.", r->id);
        events_emit(r->m->events, "ReplicaStopping", r->svc->name, (int) r->index, NULL, "stopping");
        replica_feed(r, &ev);
}

/* ---- the shim's messages ---------------------------------------------- */

/* The shim's log counters (every status carries them): the total shown by
 * inspect, and one LogDropped event per drop episode (the shim reports an
 * episode's start, its progress at most once a second, and its end). */
void replica_note_log_drops(struct replica *r, const struct shim_status *st) {
        uint64_t delta = st->log_dropped_bytes > r->log_dropped_shim ? st->log_dropped_bytes - r->log_dropped_shim : 0;
        bool was = r->log_dropping;

        if (delta == 0 && st->log_dropping == was)
                return;
        r->log_dropped += delta;
        r->log_dropped_shim = st->log_dropped_bytes;
        r->log_dropping = st->log_dropping;
        if (delta > 0 && !was) { /* a new episode (or one that began and ended while we were away) */
                log_warning("Replica %s: its shim cannot write the log (disk full?) and drops output: %llu bytes "
                            "so far; the service keeps running.",
                            r->id, (unsigned long long) r->log_dropped);
                events_emit(r->m->events, "LogDropped", r->svc->name, (int) r->index, NULL,
                            "the replica's log cannot be written (disk full?): output dropped, %llu bytes in all",
                            (unsigned long long) r->log_dropped);
        } else if (was && !st->log_dropping)
                log_info("Replica %s: its log can be written again (%llu bytes dropped in all).", r->id,
                         (unsigned long long) r->log_dropped);
        replica_save(r); /* at most once a second during an episode */
}

/* The OOM killer acted in the replica's cgroup: a child (or the service
 * itself, whose exit follows) was killed. Reported at once, in the log, the
 * event stream and the record, so a killed child is never invisible. */
/* Reads the counter and reports what is new. Called when the kernel signals
 * (v2 memory.events; v1's eventfd, which recent kernels only fire in some
 * cases), when a run ends, and whenever the replica is looked at (the API):
 * never on a timer. */
void replica_oom_check(struct replica *r) {
        uint64_t n = 0;
        if (cg_oom_kill_count(r->m->cg, r->cg_path, &n) < 0 || n <= r->oom_seen)
                return;
        log_warning("Replica %s: the OOM killer killed %llu process(es) in its cgroup (memory limit %llu bytes).",
                    r->id, (unsigned long long) (n - r->oom_seen),
                    (unsigned long long) r->spec->spec.resources.limits.memory);
        events_emit(r->m->events, "ReplicaOOMKilled", r->svc->name, (int) r->index, NULL,
                    "the OOM killer killed %llu process(es) in the replica's cgroup (oom_kill %llu -> %llu)",
                    (unsigned long long) (n - r->oom_seen), (unsigned long long) r->oom_seen,
                    (unsigned long long) n);
        r->oom_seen = n;
        replica_save(r);
}

static int on_oom_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        uint64_t v;
        (void) read(fd, &v, sizeof v); /* v1: reset the eventfd */
        replica_oom_check(userdata);
        return 0;
}

static int on_oom_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        replica_oom_check(userdata);
        return 0;
}

void replica_watch_oom(struct replica *r) {
        int fd = -1;
        if (r->oom_watch || !r->spec->spec.resources.limits.memory)
                return;
        (void) cg_oom_kill_count(r->m->cg, r->cg_path, &r->oom_seen);
        int k;
        if (cg_get_mode(r->m->cg) == CG_MODE_UNIFIED) {
                /* v2: memory.events next to cgroup.events; sd-event shares one
                 * inotify instance among all watches (the per-user instance
                 * limit is 128) */
                _cleanup_free_ char *events = NULL;
                k = cg_events_path(r->m->cg, r->cg_path, &events);
                if (k >= 0) {
                        char *slash = strrchr(events, '/');
                        _cleanup_free_ char *mem = NULL;
                        if (slash && asprintf(&mem, "%.*s/memory.events", (int) (slash - events), events) >= 0)
                                k = sd_event_add_inotify(r->m->event, &r->oom_watch, mem, IN_MODIFY, on_oom_inotify, r);
                        else
                                k = -ENOMEM;
                }
        } else {
                /* v1: an eventfd registered on memory.oom_control */
                k = cg_oom_watch(r->m->cg, r->cg_path, &fd);
                if (k >= 0) {
                        (void) fd_nonblock(fd);
                        k = sd_event_add_io(r->m->event, &r->oom_watch, fd, EPOLLIN, on_oom_eventfd, r);
                        if (k >= 0)
                                (void) sd_event_source_set_io_fd_own(r->oom_watch, true);
                        else
                                close(fd);
                }
        }
        if (k < 0)
                log_debug_errno(k, "Replica %s: cannot watch for OOM kills: %m; they show when the run ends.", r->id);
}

bool oom_since_start(struct replica *r) {
        uint64_t n = 0;
        return cg_oom_kill_count(r->m->cg, r->cg_path, &n) >= 0 && n > r->oom_base;
}

/* A run ended: feed the supervisor, then acknowledge so the shim forgets it. */
static bool handle_exit(struct replica *r, const struct shim_status *st) {
        replica_oom_check(r);
        struct sup_event ev = {
                .type = SUP_EVENT_EXITED,
                .now = sup_now(),
                .exit_code = st->exit_signal ? -1 : st->exit_code,
                .exit_signal = st->exit_signal,
                .oom_killed = oom_since_start(r),
                .exec_failed = st->exec_error[0] != 0,
                .message = st->exec_error[0] ? st->exec_error : NULL,
        };
        const char *type = ev.exec_failed ? "ReplicaExecFailed" : ev.oom_killed ? "ReplicaOOMKilled" : "ReplicaExited";
        if (ev.exec_failed)
                events_emit(r->m->events, type, r->svc->name, (int) r->index, NULL, "%s", st->exec_error);
        else if (st->exit_signal)
                events_emit(r->m->events, type, r->svc->name, (int) r->index, NULL, "killed by signal %d (%s)%s",
                            st->exit_signal, strsignal(st->exit_signal), ev.oom_killed ? ", OOM killer" : "");
        else
                events_emit(r->m->events, type, r->svc->name, (int) r->index, NULL, "exited with status %d%s",
                            st->exit_code, ev.oom_killed ? " (the OOM killer acted in its cgroup)" : "");
        if (ev.exec_failed)
                log_error("Replica %s: %s", r->id, st->exec_error);
        else if (st->exit_signal)
                log_info("Replica %s: killed by %s%s.", r->id, strsignal(st->exit_signal),
                         ev.oom_killed ? " (OOM killer)" : "");
        else
                log_info("Replica %s: exited with status %d%s.", r->id, st->exit_code,
                         ev.oom_killed ? " (the OOM killer acted in its cgroup)" : "");
        if (!init_idle(st))
                kill_leftovers(r); /* daemonized children of a run that is over */
        /* the record first (RECORD is the supervisor's first action), then
         * the acknowledgement: a berthd killed in between learns the exit
         * again from the shim */
        r->order_run = 0; /* spent: it was for this run */
        if (st->next_started) {
                r->next_run = st->run + 1;
                r->next_pid = st->pid;
        }
        if (replica_feed(r, &ev))
                return true;
        if (st->next_started && r->shim_fd >= 0) {
                /* recorded: the shim may forget that end (it keeps it for HELLO) */
                struct shim_msg ack = shim_msg_request(SHIM_MSG_ACK_EXIT);
                ack.run = st->run;
                (void) replica_shim_request(r, &ack);
        }
        replica_stop_unwanted_run(r);
        if (st->next_started)
                return false;
        if (r->shim_fd >= 0 && r->run == st->run) { /* not restarted in place yet */
                struct shim_msg ack = shim_msg_request(SHIM_MSG_ACK_EXIT);
                ack.run = st->run;
                (void) replica_shim_request(r, &ack);
        }
        return false;
}

/* The shim is gone (it crashed or was killed): learn the run's end from
 * the status file it wrote, or call the run lost. */
static bool handle_shim_lost(struct replica *r) {
        _cleanup_free_ char *status_path = NULL;
        struct shim_status st = {};
        replica_disconnect(r);
        r->shim_pid = 0;
        if (r->rec.state != REPLICA_STARTING && r->rec.state != REPLICA_RUNNING && r->rec.state != REPLICA_STOPPING &&
            r->rec.state != REPLICA_KILLING)
                return false;
        log_warning("Replica %s: its shim is gone.", r->id);
        kill_leftovers(r);
        if (asprintf(&status_path, "%s/status", r->dir) >= 0 && shim_status_read(status_path, &st) >= 0 &&
            st.state == SHIM_RUN_EXITED && st.run == r->run)
                return handle_exit(r, &st);
        struct sup_event ev = { .type = SUP_EVENT_EXITED, .now = sup_now(), .exit_code = -1,
                                .message = "the shim died; the run's status is lost" };
        return replica_feed(r, &ev);
}

static int on_shim_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct replica *r = userdata;
        for (;;) {
                struct shim_msg msg;
                int k = shim_recv(fd, &msg);
                if (k == -EAGAIN)
                        return 0;
                if (k == -EBADMSG) {
                        log_warning("Replica %s: malformed message from the shim, ignoring.", r->id);
                        continue;
                }
                if (k < 0) {
                        handle_shim_lost(r);
                        return 0;
                }
                (void) reply_was_unanswered(r, &msg);
                switch (msg.type) {
                case SHIM_MSG_LOG_DROPPED:
                        replica_note_log_drops(r, &msg.status);
                        break;
                case SHIM_MSG_HELLO:
                case SHIM_MSG_STATUS:
                case SHIM_MSG_EXITED:
                        replica_note_log_drops(r, &msg.status);
                        if (msg.status.state == SHIM_RUN_EXITED && !msg.status.acked && msg.status.run == r->run &&
                            r->rec.pid != 0) {
                                if (handle_exit(r, &msg.status))
                                        return 0; /* r is gone */
                        }
                        break;
                case SHIM_MSG_ERROR:
                        log_warning("Replica %s: shim: %s", r->id, msg.message);
                        break;
                default:
                        break;
                }
        }
}

/* ---- the API's view --------------------------------------------------- */

static struct json_object *time_or_null(uint64_t realtime_usec) {
        char buf[64];
        return realtime_usec ? json_object_new_string(format_rfc3339(realtime_usec, buf, sizeof buf)) : NULL;
}

struct json_object *replica_to_json(struct replica *r) {
        replica_oom_check(r);
        struct json_object *o = json_object_new_object();
        const struct sup_record *rec = &r->rec;
        bool has_run = rec->state == REPLICA_RUNNING || rec->state == REPLICA_STOPPING || rec->state == REPLICA_KILLING;
        json_object_object_add(o, "service", json_object_new_string(r->svc->name));
        json_object_object_add(o, "replica", json_object_new_int((int) r->index));
        json_object_object_add(o, "id", json_object_new_string(r->id));
        json_object_object_add(o, "pid", has_run && rec->pid > 0 ? json_object_new_int(rec->pid) : NULL);
        json_object_object_add(o, "state", json_object_new_string(replica_state_to_string(rec->state)));
        json_object_object_add(o, "since", time_or_null(rec->since.real));
        json_object_object_add(o, "restarts", json_object_new_int64((int64_t) rec->restart_count));
        json_object_object_add(o, "revision", json_object_new_int64((int64_t) r->revision));
        json_object_object_add(o, "cgroup", json_object_new_string(r->cg_path));
        json_object_object_add(o, "started_at", has_run ? time_or_null(rec->run_started.real) : NULL);
        if (rec->last_exit.reason != SUP_REASON_NONE) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "code", rec->last_exit.exit_code >= 0 ? json_object_new_int(rec->last_exit.exit_code)
                                                                                 : NULL);
                json_object_object_add(e, "signal",
                                       rec->last_exit.exit_signal ? json_object_new_int(rec->last_exit.exit_signal) : NULL);
                json_object_object_add(e, "reason", json_object_new_string(sup_reason_to_string(rec->last_exit.reason)));
                json_object_object_add(e, "at", time_or_null(rec->last_exit.at));
                json_object_object_add(e, "message", json_object_new_string(rec->last_exit.message));
                json_object_object_add(o, "last_exit", e);
        } else
                json_object_object_add(o, "last_exit", NULL);
        json_object_object_add(o, "next_restart_at",
                               rec->state == REPLICA_BACKOFF ? time_or_null(rec->next_start_at.real) : NULL);
        json_object_object_add(o, "shim_pid", r->shim_pid > 0 ? json_object_new_int(r->shim_pid) : NULL);
        json_object_object_add(o, "oom_kills", json_object_new_int64((int64_t) r->oom_seen));
        json_object_object_add(o, "logDroppedBytes", json_object_new_int64((int64_t) r->log_dropped));
        json_object_object_add(o, "ready", json_object_new_boolean(replica_ready(r)));
        json_object_object_add(o, "probes", r->prober ? prober_to_json(r->prober) : NULL);
        json_object_object_add(o, "notifyStatus", r->notify_status ? json_object_new_string(r->notify_status) : NULL);
        return o;
}
