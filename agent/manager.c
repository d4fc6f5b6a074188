/* manager.c: see manager.h. The reconciler and the manifests directory
 * source; replicas themselves live in replica.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "macro.h"
#include "manager-internal.h"
#include "manifest-dir.h"
#include "model-json.h"
#include "service-ports.h"
#include "standby.h"
#include "replica.h"
#include "state.h"
#include "util.h"

/* ---- services --------------------------------------------------------- */

bool service_spec_same_revision(const struct service *a, const struct service *b) {
        if (!a || !b)
                return a == b;
        struct service_spec *sa = (struct service_spec *) &a->spec;
        int64_t saved = sa->replicas;
        sa->replicas = b->spec.replicas; /* compare everything but the count */
        bool same = service_equal(a, b);
        sa->replicas = saved;
        return same;
}

struct service_state *manager_find_service(struct manager *m, const char *name) {
        for (size_t i = 0; i < m->n_services; i++)
                if (streq(m->services[i]->name, name))
                        return m->services[i];
        return NULL;
}

static struct service_state *service_state_new(struct manager *m, const char *name) {
        struct service_state **v = realloc(m->services, (m->n_services + 1) * sizeof *v);
        if (!v)
                return NULL;
        m->services = v;
        struct service_state *s = calloc(1, sizeof *s);
        if (!s)
                return NULL;
        s->m = m;
        s->name = strdup(name);
        if (!s->name) {
                free(s);
                return NULL;
        }
        v[m->n_services++] = s;
        return s;
}

static void service_state_free(struct manager *m, struct service_state *s) {
        for (size_t i = 0; i < m->n_services; i++)
                if (m->services[i] == s) {
                        memmove(m->services + i, m->services + i + 1, (m->n_services - i - 1) * sizeof *m->services);
                        m->n_services--;
                        break;
                }
        for (size_t i = 0; i < s->n_replicas; i++)
                replica_free(s->replicas[i]);
        free(s->replicas);
        service_ports_free(s);
        service_history_free(s);
        free(s->held_digest);
        sd_event_source_disable_unref(s->ro_timer);
        service_free(s->desired);
        free(s->source);
        free(s->name);
        free(s);
}

/* Takes ownership of svc. */
static int service_set_desired(struct manager *m, struct service *svc, const char *source) {
        struct service_state *s = manager_find_service(m, svc->metadata.name);
        if (!s) {
                s = service_state_new(m, svc->metadata.name);
                if (!s) {
                        service_free(svc);
                        return log_error_errno(ENOMEM, "Out of memory.");
                }
        }
        if (s->desired && service_equal(s->desired, svc)) {
                service_free(svc);
                return 0;
        }
        /* A manifest file whose spec was rolled back (or undone) is not rolled
         * again until its spec changes: only its replica count is followed. */
        if (s->desired && s->held_digest && path_in_manifests_dir(m, source)) {
                char digest[17];
                service_spec_digest(svc, digest);
                if (streq(digest, s->held_digest)) {
                        if (svc->spec.replicas == s->desired->spec.replicas) {
                                log_debug("Service %s: %s still has spec %s, which was rolled back; not rolling it again until the file changes.",
                                          s->name, source, digest);
                                service_free(svc);
                                return 0;
                        }
                        int64_t n = svc->spec.replicas;
                        service_free(svc);
                        svc = service_copy(s->desired);
                        if (!svc)
                                return log_error_errno(ENOMEM, "Out of memory.");
                        svc->spec.replicas = n;
                } else {
                        free(s->held_digest);
                        s->held_digest = NULL;
                }
        }
        bool created = !s->desired;
        bool new_revision = !s->desired || !service_spec_same_revision(s->desired, svc);
        if (new_revision) {
                if (s->max_revision < s->revision)
                        s->max_revision = s->revision;
                s->revision = ++s->max_revision;
                log_info("Service %s: revision %llu from %s (%lld replicas).", s->name,
                         (unsigned long long) s->revision, source, (long long) svc->spec.replicas);
                events_emit(m->events, created ? "ServiceCreated" : "ServiceUpdated", s->name, -1, NULL,
                            "revision %llu from %s, %lld replicas", (unsigned long long) s->revision, source,
                            (long long) svc->spec.replicas);
        } else {
                log_info("Service %s: scaled to %lld replicas (%s).", s->name, (long long) svc->spec.replicas, source);
                events_emit(m->events, "ServiceScaled", s->name, -1, NULL, "scaled from %lld to %lld replicas",
                            (long long) s->desired->spec.replicas, (long long) svc->spec.replicas);
        }
        char *src = strdup(source); /* source may be s->source itself (scale) */
        if (!src) {
                service_free(svc);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        service_free(s->desired);
        s->desired = svc;
        free(s->source);
        s->source = src;
        if (new_revision)
                manager_rollout_begin(m, s, source); /* saves */
        int k = state_save_service(m, s);
        if (k < 0)
                log_warning_errno(k, "Cannot save service %s in %s: %m; continuing.", s->name, m->cfg.state_dir);
        manager_schedule_reconcile(m);
        return 0;
}

int manager_restore_service(struct manager *m, const char *name, uint64_t revision, const char *source,
                            struct service *desired) {
        struct service_state *s = manager_find_service(m, name);
        if (!s && !(s = service_state_new(m, name))) {
                service_free(desired);
                return -ENOMEM;
        }
        service_free(s->desired);
        s->desired = desired;
        if (revision > s->revision)
                s->revision = revision;
        if (revision > s->max_revision)
                s->max_revision = revision;
        if (source) {
                free(s->source);
                s->source = strdup(source);
        }
        return 0;
}

bool path_in_manifests_dir(const struct manager *m, const char *path) {
        size_t n = strlen(m->cfg.manifests_dir);
        return path && strncmp(path, m->cfg.manifests_dir, n) == 0 && path[n] == '/';
}

/* Whether a service came from the manifests directory (and so belongs to it). */
bool from_manifests_dir(const struct manager *m, const struct service_state *s) {
        return path_in_manifests_dir(m, s->source);
}

static void service_unset_desired(struct manager *m, struct service_state *s) {
        if (!s->desired)
                return;
        log_info("Service %s: removed (%s).", s->name,
                 s->source && streq(s->source, "api") ? "deleted through the API" : "its manifest is gone or no longer defines it");
        events_emit(m->events, "ServiceDeleted", s->name, -1, NULL, "deleted");
        s->desired = service_free(s->desired);
        int k = state_save_service(m, s);
        if (k < 0)
                log_warning_errno(k, "Cannot save service %s in %s: %m; continuing.", s->name, m->cfg.state_dir);
        manager_schedule_reconcile(m);
}

/* ---- the manifests directory ------------------------------------------ */

static void manager_rescan(struct manager *m) {
        struct dir_scan scan;
        if (manifest_dir_scan(m->cfg.manifests_dir, &scan) < 0) {
                log_error("Out of memory while reading %s, keeping the current state.", m->cfg.manifests_dir);
                return;
        }
        if (scan.error < 0) {
                log_warning_errno(scan.error, "Cannot read manifests directory %s: %m; keeping the current state.",
                                  m->cfg.manifests_dir);
                dir_scan_done(&scan);
                return;
        }
        for (size_t i = 0; i < scan.diags.n; i++) {
                char line[4096];
                diag_format(&scan.diags.v[i], line, sizeof line);
                log_error("%s", line);
        }

        /* services whose file is gone, or whose valid file no longer names them */
        for (size_t i = 0; i < m->n_services; i++) {
                struct service_state *s = m->services[i];
                if (!s->desired || !from_manifests_dir(m, s))
                        continue;
                bool keep = false;
                for (size_t f = 0; f < scan.n_files && !keep; f++) {
                        const struct dir_file *df = &scan.files[f];
                        if (!streq(df->path, s->source))
                                continue;
                        if (!df->valid) {
                                log_warning("%s is invalid: service %s keeps running as it was.", df->path, s->name);
                                keep = true;
                        }
                        for (size_t k = 0; df->valid && k < df->services.n; k++)
                                if (streq(df->services.v[k]->metadata.name, s->name))
                                        keep = true;
                }
                if (!keep)
                        service_unset_desired(m, s);
        }

        for (size_t f = 0; f < scan.n_files; f++) {
                struct dir_file *df = &scan.files[f];
                for (size_t k = 0; df->valid && k < df->services.n; k++) {
                        struct service *svc = TAKE_PTR(df->services.v[k]);
                        struct service_state *s = manager_find_service(m, svc->metadata.name);
                        if (s && s->desired && s->source && !streq(s->source, df->path)) {
                                /* still defined by an invalid earlier file that we keep */
                                log_error("%s: service %s is already defined in %s, ignoring this definition.",
                                          df->path, svc->metadata.name, s->source);
                                service_free(svc);
                                continue;
                        }
                        service_set_desired(m, svc, df->path);
                }
        }
        dir_scan_done(&scan);
}

static int on_rescan(sd_event_source *s, void *userdata) {
        struct manager *m = userdata;
        manager_rescan(m);
        return 0;
}

static int on_manifests_changed(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        struct manager *m = userdata;
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                log_warning("Manifests directory %s was removed or moved; services keep running. Restart berthd once it is back.",
                            m->cfg.manifests_dir);
        /* coalesce a burst of events into one rescan */
        (void) sd_event_source_set_enabled(m->rescan_event, SD_EVENT_ONESHOT);
        return 0;
}

/* ---- the reconciler --------------------------------------------------- */

void manager_schedule_reconcile(struct manager *m) {
        if (m->reconcile_event)
                (void) sd_event_source_set_enabled(m->reconcile_event, SD_EVENT_ONESHOT);
}

static int on_reconcile(sd_event_source *s, void *userdata) {
        manager_reconcile(userdata);
        return 0;
}

/* A removed service's logs go with it (as `docker rm` does). */
static void remove_service_logs(struct manager *m, const char *name) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/%s", m->logs_dir, name) < 0)
                return;
        DIR *d = opendir(dir);
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR) {
                        /* a replica's log directory (its run files, shim.log) */
                        _cleanup_free_ char *sub = NULL;
                        if (asprintf(&sub, "%s/%s", dir, de->d_name) >= 0)
                                (void) rm_dir_files(sub);
                }
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT)
                log_debug_errno(errno, "Cannot remove %s: %m", dir);
}

void manager_reconcile(struct manager *m) {
        for (size_t i = 0; i < m->n_services; i++) {
                service_ports_sync(m->services[i]); /* bind new ports, close unlisted ones */
                reconcile_service(m, m->services[i]);
        }

        /* services that are gone entirely */
        for (size_t i = 0; i < m->n_services;) {
                struct service_state *s = m->services[i];
                if (!s->desired && s->n_replicas == 0) {
                        log_info("Service %s: removed, nothing left.", s->name);
                        (void) state_remove_service(m, s->name);
                        remove_service_logs(m, s->name);
                        service_state_free(m, s);
                } else
                        i++;
        }

        size_t n = manager_count_replicas(m);
        (void) sd_notifyf(false, "STATUS=%zu service(s), %zu replica(s)", m->n_services, n);

        if (m->exiting && n == 0) {
                log_info("All replicas stopped, exiting.");
                int k = cg_remove_services(m->cg);
                if (k < 0)
                        log_warning_errno(k, "Cannot remove the services cgroup: %m");
                sd_event_exit(m->event, m->exit_code);
        }
}

void manager_replica_gone(struct manager *m, struct replica *r) {
        struct service_state *s = replica_service(r);
        for (size_t i = 0; i < s->n_replicas; i++)
                if (s->replicas[i] == r) {
                        memmove(s->replicas + i, s->replicas + i + 1, (s->n_replicas - i - 1) * sizeof *s->replicas);
                        s->n_replicas--;
                        break;
                }
        replica_free(r);
        manager_schedule_reconcile(m);
}

size_t manager_count_replicas(const struct manager *m) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_services; i++)
                n += m->services[i]->n_replicas;
        return n;
}

/* ---- lifecycle -------------------------------------------------------- */

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        if (!m->cfg.stop_services) {
                log_info("Received %s: exiting, services keep running.", strsignal((int) si->ssi_signo));
                sd_event_exit(m->event, 0);
                return 0;
        }
        if (m->exiting) {
                log_warning("Received %s again: exiting now, leaving the remaining replicas running.",
                            strsignal((int) si->ssi_signo));
                sd_event_exit(m->event, 1);
                return 0;
        }
        log_info("Received %s: stopping all replicas, then exiting.", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        m->exiting = true;
        manager_reconcile(m);
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        log_info("Received SIGHUP: re-reading %s.", m->cfg.manifests_dir);
        manager_rescan(m);
        return 0;
}

int manager_new(const struct manager_config *cfg, struct manager **ret) {
        struct manager *m = calloc(1, sizeof *m);
        int r;

        if (!m)
                return log_error_errno(ENOMEM, "Out of memory.");
        m->cfg = *cfg;
        m->started_at = now_realtime_usec();
        m->events = events_new();
        if (!m->events) {
                free(m);
                return log_error_errno(ENOMEM, "Out of memory.");
        }

        if (asprintf(&m->replicas_dir, "%s/replicas", cfg->state_dir) < 0 ||
            asprintf(&m->logs_dir, "%s/logs", cfg->state_dir) < 0 || asprintf(&m->shims_dir, "%s/shims", cfg->run_dir) < 0) {
                manager_free(m);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        if ((r = mkdir_p(m->replicas_dir, 0700)) < 0 || (r = mkdir_p(m->logs_dir, 0750)) < 0 ||
            (r = mkdir_p(m->shims_dir, 0700)) < 0) {
                manager_free(m);
                return log_error_errno(r, "Cannot create berthd's directories below %s and %s: %m", cfg->state_dir,
                                       cfg->run_dir);
        }

        r = cg_open(NULL, cfg->cgroup_parent, &m->cg);
        if (r < 0) {
                manager_free(m);
                return log_error_errno(r, "Cannot set up cgroups below %s: %m%s",
                                       cfg->cgroup_parent ? cfg->cgroup_parent : "berthd's own cgroup",
                                       r == -ENOENT && cfg->cgroup_parent ? " (create the --cgroup-parent first)" : "");
        }
        log_info("cgroups: %s mode, replicas below %s/services.", cg_mode_to_string(cg_get_mode(m->cg)),
                 cfg->cgroup_parent ? cfg->cgroup_parent : "berthd's own cgroup");

        r = sd_event_default(&m->event);
        if (r < 0) {
                manager_free(m);
                return log_error_errno(r, "Cannot create the event loop: %m");
        }
        (void) sd_event_set_watchdog(m->event, true);

        _cleanup_free_ char *standby_dir = NULL, *stage_dir = NULL;
        if (asprintf(&standby_dir, "%s/standby", cfg->run_dir) < 0 || asprintf(&stage_dir, "%s/.standby", m->logs_dir) < 0 ||
            (r = standby_pool_new(m->event, cfg->shim_path, standby_dir, stage_dir, cfg->standby, &m->standby)) < 0) {
                manager_free(m);
                return log_error_errno(standby_dir ? r : ENOMEM, "Cannot set up the standby shims: %m");
        }

        if ((r = sd_event_add_signal(m->event, &m->sigterm_event, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, on_exit_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sigint_event, SIGINT | SD_EVENT_SIGNAL_PROCMASK, on_exit_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sighup_event, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, on_sighup, m)) < 0 ||
            (r = sd_event_add_defer(m->event, &m->reconcile_event, on_reconcile, m)) < 0 ||
            (r = sd_event_add_defer(m->event, &m->rescan_event, on_rescan, m)) < 0) {
                manager_free(m);
                return log_error_errno(r, "Cannot set up event sources: %m");
        }
        /* reconcile after everything else that is pending (inotify bursts, shim messages) */
        (void) sd_event_source_set_priority(m->reconcile_event, SD_EVENT_PRIORITY_IDLE);
        (void) sd_event_source_set_enabled(m->reconcile_event, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(m->rescan_event, SD_EVENT_OFF);
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_add_inotify(m->event, &m->inotify_event, cfg->manifests_dir,
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
                                         IN_ONLYDIR,
                                 on_manifests_changed, m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch %s: %m; changes need SIGHUP (berthctl or kill -HUP).",
                                  cfg->manifests_dir);

        *ret = m;
        return 0;
}

int manager_run(struct manager *m) {
        int r;

        /* re-adopt the replicas a previous berthd left running */
        r = replica_restore_all(m);
        if (r < 0)
                return r;

        standby_pool_fill(m->standby);
        manager_rescan(m);
        manager_reconcile(m);

        (void) sd_notifyf(false, "READY=1\nSTATUS=%zu service(s), %zu replica(s)", m->n_services,
                          manager_count_replicas(m));
        log_info("berthd %s ready: manifests %s, state %s.", BERTH_VERSION, m->cfg.manifests_dir, m->cfg.state_dir);
        events_emit(m->events, "AgentStarted", NULL, -1, NULL, "berthd %s started with %zu service(s), %zu replica(s)",
                    BERTH_VERSION, m->n_services, manager_count_replicas(m));

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

struct manager *manager_free(struct manager *m) {
        if (!m)
                return NULL;
        while (m->n_services > 0)
                service_state_free(m, m->services[m->n_services - 1]);
        free(m->services);
        m->standby = standby_pool_free(m->standby); /* closes their lifelines: they exit */
        sd_event_source_unref(m->reconcile_event);
        sd_event_source_unref(m->sync_event);
        sd_event_source_unref(m->rescan_event);
        sd_event_source_unref(m->inotify_event);
        sd_event_source_unref(m->sigterm_event);
        sd_event_source_unref(m->sigint_event);
        sd_event_source_unref(m->sighup_event);
        sd_event_unref(m->event);
        cg_free(m->cg);
        events_free(m->events);
        free(m->replicas_dir);
        free(m->logs_dir);
        free(m->shims_dir);
        free(m);
        return NULL;
}

/* ---- the control API's view ------------------------------------------- */

struct events *manager_events(struct manager *m) {
        return m->events;
}

int api_fail(struct api_error *err, int status, const char *code, int error, const char *fmt, ...) {
        va_list ap;
        err->status = status;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        return -error;
}

int not_found(struct api_error *err, const char *name) {
        return api_fail(err, 404, "NotFound", ENOENT, "service \"%s\" not found", name);
}

static int owned_by_dir(struct manager *m, const struct service_state *s, const char *what, struct api_error *err) {
        return api_fail(err, 409, "Conflict", EBUSY,
                        "service \"%s\" is defined by %s in the manifests directory: %s that file instead", s->name,
                        s->source, what);
}

struct service_state *find_live(struct manager *m, const char *name) {
        struct service_state *s = manager_find_service(m, name);
        return s && s->desired ? s : NULL;
}

struct json_object *service_state_json(struct manager *m, const struct service_state *s) {
        struct json_object *o = json_object_new_object(), *rep = json_object_new_object();
        size_t running = 0;
        for (size_t i = 0; i < s->n_replicas; i++)
                running += replica_record(s->replicas[i])->state == REPLICA_RUNNING;
        json_object_object_add(o, "name", json_object_new_string(s->name));
        json_object_object_add(o, "revision", json_object_new_int64((int64_t) s->revision));
        json_object_object_add(o, "source", s->source ? json_object_new_string(s->source) : NULL);
        json_object_object_add(o, "owner", json_object_new_string(from_manifests_dir(m, s) ? "manifests" : "api"));
        json_object_object_add(o, "stopped", json_object_new_boolean(s->stopped));
        json_object_object_add(o, "spec", s->desired ? service_to_json(s->desired) : NULL);
        json_object_object_add(rep, "desired",
                               json_object_new_int64(s->desired && !s->stopped ? s->desired->spec.replicas : 0));
        json_object_object_add(rep, "running", json_object_new_int64((int64_t) running));
        json_object_object_add(rep, "total", json_object_new_int64((int64_t) s->n_replicas));
        json_object_object_add(o, "replicas", rep);
        service_ports_json((struct service_state *) s, o);
        json_object_object_add(o, "rollout", manager_rollout_json(m, (struct service_state *) s));
        return o;
}

int manager_deploy(struct manager *m, struct service_list *services, bool dry_run, struct json_object **ret,
                   struct api_error *err) {
        /* all or nothing: check every service before changing any */
        for (size_t i = 0; i < services->n; i++) {
                struct service_state *s = find_live(m, services->v[i]->metadata.name);
                if (s && from_manifests_dir(m, s))
                        return owned_by_dir(m, s, "edit", err);
                int k = service_ports_check(m, services->v[i], err);
                if (k < 0)
                        return k;
        }

        struct json_object *o = json_object_new_object(), *changes = json_object_new_array();
        json_object_object_add(o, "dryRun", json_object_new_boolean(dry_run));
        for (size_t i = 0; i < services->n; i++) {
                struct service *svc = services->v[i];
                struct service_state *s = find_live(m, svc->metadata.name);
                const char *action;
                uint64_t revision = s ? s->revision : 0;
                if (!s) {
                        action = "created";
                        struct service_state *old = manager_find_service(m, svc->metadata.name);
                        revision = (old ? MAX(old->revision, old->max_revision) : 0) + 1;
                } else if (service_equal(s->desired, svc))
                        action = "unchanged";
                else if (service_spec_same_revision(s->desired, svc))
                        action = "scaled";
                else {
                        action = "updated";
                        revision = MAX(s->revision, s->max_revision) + 1; /* numbers are not reused after a rollback */
                }
                struct json_object *c = json_object_new_object();
                json_object_object_add(c, "service", json_object_new_string(svc->metadata.name));
                json_object_object_add(c, "action", json_object_new_string(action));
                json_object_object_add(c, "revision", json_object_new_int64((int64_t) revision));
                json_object_object_add(c, "replicas", json_object_new_int64(svc->spec.replicas));
                json_object_array_add(changes, c);
        }
        json_object_object_add(o, "changes", changes);

        if (!dry_run)
                for (size_t i = 0; i < services->n; i++)
                        (void) service_set_desired(m, TAKE_PTR(services->v[i]), "api");
        service_list_done(services);
        *ret = o;
        return 0;
}

int manager_scale(struct manager *m, const char *name, int64_t replicas, struct json_object **ret,
                  struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        if (replicas < 0 || replicas > 10000)
                return api_fail(err, 400, "BadRequest", EINVAL, "replicas must be between 0 and 10000, not %lld",
                                (long long) replicas);
        if (from_manifests_dir(m, s))
                return owned_by_dir(m, s, "change replicas: in", err);
        struct service *copy = service_copy(s->desired);
        if (!copy)
                return api_fail(err, 500, "Internal", ENOMEM, "out of memory");
        copy->spec.replicas = replicas;
        (void) service_set_desired(m, copy, s->source ? s->source : "api");
        *ret = service_state_json(m, s);
        return 0;
}

void save_or_warn(struct manager *m, struct service_state *s) {
        int k = state_save_service(m, s);
        if (k < 0)
                log_warning_errno(k, "Cannot save service %s in %s: %m; continuing.", s->name, m->cfg.state_dir);
}

int manager_service_stop(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        if (!s->stopped) {
                s->stopped = true;
                save_or_warn(m, s);
                log_info("Service %s: stopped on request.", s->name);
                events_emit(m->events, "ServiceStopped", s->name, -1, NULL, "stopped on request");
                manager_schedule_reconcile(m);
        }
        *ret = service_state_json(m, s);
        return 0;
}

int manager_service_start(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        if (s->stopped) {
                s->stopped = false;
                save_or_warn(m, s);
                log_info("Service %s: started on request.", s->name);
                events_emit(m->events, "ServiceStarted", s->name, -1, NULL, "started on request");
                manager_schedule_reconcile(m);
        }
        *ret = service_state_json(m, s);
        return 0;
}

int manager_service_restart(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        /* a new revision of the same spec, rolled out like any other */
        if (s->max_revision < s->revision)
                s->max_revision = s->revision;
        s->revision = ++s->max_revision;
        manager_rollout_begin(m, s, "restart");
        save_or_warn(m, s);
        log_info("Service %s: restart requested (revision %llu).", s->name, (unsigned long long) s->revision);
        events_emit(m->events, "ServiceRestarted", s->name, -1, NULL, "restart requested: revision %llu",
                    (unsigned long long) s->revision);
        manager_schedule_reconcile(m);
        *ret = service_state_json(m, s);
        return 0;
}

int manager_delete(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        if (from_manifests_dir(m, s))
                return owned_by_dir(m, s, "remove", err);
        service_unset_desired(m, s);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "deleted", json_object_new_string(name));
        *ret = o;
        return 0;
}

struct json_object *manager_info_json(struct manager *m) {
        struct json_object *o = json_object_new_object();
        char when[64];
        json_object_object_add(o, "version", json_object_new_string(BERTH_VERSION));
        json_object_object_add(o, "pid", json_object_new_int((int) getpid()));
        json_object_object_add(o, "startedAt", json_object_new_string(format_rfc3339(m->started_at, when, sizeof when)));
        json_object_object_add(o, "cgroupMode", json_object_new_string(cg_mode_to_string(cg_get_mode(m->cg))));
        json_object_object_add(o, "manifestsDir", json_object_new_string(m->cfg.manifests_dir));
        json_object_object_add(o, "stateDir", json_object_new_string(m->cfg.state_dir));
        size_t live = 0;
        for (size_t i = 0; i < m->n_services; i++)
                live += m->services[i]->desired != NULL;
        json_object_object_add(o, "services", json_object_new_int64((int64_t) live));
        json_object_object_add(o, "replicas", json_object_new_int64((int64_t) manager_count_replicas(m)));
        return o;
}

static int compare_services(const void *a, const void *b) {
        return strcmp((*(struct service_state *const *) a)->name, (*(struct service_state *const *) b)->name);
}

static int compare_replicas(const void *a, const void *b) {
        unsigned x = replica_index(*(struct replica *const *) a), y = replica_index(*(struct replica *const *) b);
        return x < y ? -1 : x > y;
}

/* Services sorted by name (a copy of the pointers: the API's order is stable). */
static struct service_state **sorted_services(struct manager *m) {
        struct service_state **v = calloc(m->n_services + 1, sizeof *v);
        if (!v)
                return NULL;
        if (m->n_services > 0) {
                memcpy(v, m->services, m->n_services * sizeof *v);
                qsort(v, m->n_services, sizeof *v, compare_services);
        }
        return v;
}

struct json_object *manager_services_json(struct manager *m) {
        struct json_object *a = json_object_new_array();
        _cleanup_free_ struct service_state **v = sorted_services(m);
        for (size_t i = 0; v && i < m->n_services; i++)
                if (v[i]->desired)
                        json_object_array_add(a, service_state_json(m, v[i]));
        return a;
}

int manager_service_json(struct manager *m, const char *name, struct json_object **ret, struct api_error *err) {
        struct service_state *s = find_live(m, name);
        if (!s)
                return not_found(err, name);
        *ret = service_state_json(m, s);
        return 0;
}

int manager_replicas_json(struct manager *m, const char *service, struct json_object **ret, struct api_error *err) {
        if (service && !manager_find_service(m, service))
                return not_found(err, service);
        struct json_object *a = json_object_new_array();
        _cleanup_free_ struct service_state **v = sorted_services(m);
        for (size_t i = 0; v && i < m->n_services; i++) {
                struct service_state *s = v[i];
                if (service && !streq(s->name, service))
                        continue;
                _cleanup_free_ struct replica **rs = calloc(s->n_replicas + 1, sizeof *rs);
                if (!rs)
                        break;
                if (s->n_replicas > 0) {
                        memcpy(rs, s->replicas, s->n_replicas * sizeof *rs);
                        qsort(rs, s->n_replicas, sizeof *rs, compare_replicas);
                }
                for (size_t k = 0; k < s->n_replicas; k++)
                        json_object_array_add(a, replica_to_json(rs[k]));
        }
        *ret = a;
        return 0;
}

void manager_shutdown(struct manager *m, bool stop_services) {
        events_emit(m->events, "AgentStopping", NULL, -1, NULL, "shutdown requested%s",
                    stop_services ? ": stopping every replica first" : "; services keep running");
        if (!stop_services) {
                sd_event_exit(m->event, 0);
                return;
        }
        (void) sd_notify(false, "STOPPING=1");
        m->exiting = true;
        manager_schedule_reconcile(m);
}
