/* restore.c: live restore. When berthd starts it loads the saved desired
 * state and every replica record, asks each replica's shim what happened
 * (HELLO over its socket, or the status file the shim left), and re-adopts,
 * restarts or cleans up accordingly. cgroups no record owns are removed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "model-json.h"
#include "service-ports.h"
#include "replica-internal.h"
#include "shim-client.h"
#include "state.h"
#include "util.h"

static uint64_t json_u64(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) ? (uint64_t) json_object_get_int64(v) : 0;
}

static struct sup_time json_time(struct json_object *o, const char *key) {
        struct json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
                return (struct sup_time) {};
        return (struct sup_time) { .mono = json_u64(v, "mono"), .real = json_u64(v, "real") };
}

static const char *json_str(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

/* A replica whose record cannot be used: stop whatever runs for it. */
static void restore_discard(struct manager *m, const char *name, unsigned index) {
        _cleanup_free_ char *cg_path = NULL, *sock = NULL;
        if (cg_replica_path(name, index, &cg_path) >= 0 && cg_is_populated(m->cg, cg_path) > 0)
                (void) cg_kill_all(m->cg, cg_path, SIGKILL);
        if (asprintf(&sock, "%s/%s.%u.sock", m->shims_dir, name, index) >= 0) {
                int fd = shim_connect(sock);
                if (fd >= 0) {
                        struct shim_msg q = shim_msg_request(SHIM_MSG_QUIT);
                        (void) shim_send(fd, &q);
                        close(fd);
                }
        }
        if (cg_path)
                (void) cg_remove(m->cg, cg_path);
}

static struct service_state *restore_service_state(struct manager *m, const char *name) {
        struct service_state *s = manager_find_service(m, name);
        if (s)
                return s;
        if (manager_restore_service(m, name, 0, NULL, NULL) < 0)
                return NULL;
        return manager_find_service(m, name);
}

static int restore_one(struct manager *m, const char *name, unsigned index, const char *dir) {
        _cleanup_free_ char *path = NULL, *status_path = NULL;
        struct json_object *o = NULL, *spec_json, *e;
        struct service_list specs = {};
        struct diag_list d = {};
        int k;

        if (asprintf(&path, "%s/record.json", dir) < 0 || asprintf(&status_path, "%s/status", dir) < 0)
                return -ENOMEM;
        k = state_read_json(path, &o);
        if (k == -ENOENT) {
                /* created but never recorded: nothing can run for it */
                restore_discard(m, name, index);
                (void) rm_dir_files(dir);
                return 0;
        }
        if (k < 0 || !json_object_object_get_ex(o, "spec", &spec_json)) {
                json_object_put(o);
                state_quarantine(path, "unreadable replica record");
                restore_discard(m, name, index);
                return 0;
        }
        const char *text = json_object_to_json_string_ext(spec_json, BERTH_JSON_PLAIN);
        if (manifest_parse_buffer(text, strlen(text), path, MANIFEST_CANONICAL, &specs, &d) < 0 || specs.n != 1) {
                diag_list_done(&d);
                service_list_done(&specs);
                json_object_put(o);
                state_quarantine(path, "the replica's spec does not parse");
                restore_discard(m, name, index);
                return 0;
        }

        struct service_state *s = restore_service_state(m, name);
        struct replica *r = NULL;
        if (!s || replica_alloc(s, index, specs.v[0], json_u64(o, "revision"), &r) < 0) {
                service_list_done(&specs);
                json_object_put(o);
                return -ENOMEM;
        }
        service_list_done(&specs);

        /* the record as saved */
        const char *state = json_str(o, "state");
        int st = state ? replica_state_from_string(state) : -EINVAL;
        r->rec.state = st >= 0 ? (enum replica_state) st : REPLICA_STOPPED;
        r->rec.since = json_time(o, "since");
        r->rec.restart_count = json_u64(o, "restart_count");
        r->rec.streak = (uint32_t) json_u64(o, "streak");
        r->rec.next_start_at = json_time(o, "next_start_at");
        r->rec.timer_at = json_u64(o, "timer_at");
        r->rec.after_stop = (enum sup_after_stop) json_u64(o, "after_stop");
        r->rec.pid = (pid_t) json_u64(o, "pid");
        r->rec.run_started = json_time(o, "run_started");
        if (json_object_object_get_ex(o, "last_exit", &e)) {
                const char *reason = json_str(e, "reason");
                int rs = reason ? sup_reason_from_string(reason) : -EINVAL;
                r->rec.last_exit.reason = rs >= 0 ? (enum sup_reason) rs : SUP_REASON_NONE;
                r->rec.last_exit.exit_code = (int) json_u64(e, "code");
                r->rec.last_exit.exit_signal = (int) json_u64(e, "signal");
                r->rec.last_exit.at = json_u64(e, "at");
                const char *msg = json_str(e, "message");
                snprintf(r->rec.last_exit.message, sizeof r->rec.last_exit.message, "%s", msg ? msg : "");
        }
        const char *sm = json_str(o, "stop_message");
        snprintf(r->rec.stop_message, sizeof r->rec.stop_message, "%s", sm ? sm : "");
        struct json_object *sr, *rd;
        r->restored_ready = json_object_object_get_ex(o, "ready", &rd) && json_object_get_boolean(rd);
        r->ready_since = r->restored_ready ? json_u64(o, "ready_since") : 0;
        r->notify_ready = json_object_object_get_ex(o, "notify_ready", &rd) && json_object_get_boolean(rd);
        r->stop_requested = json_object_object_get_ex(o, "stop_requested", &sr) && json_object_get_boolean(sr);
        r->shim_pid = (pid_t) json_u64(o, "shim_pid");
        r->shim_start_ticks = json_u64(o, "shim_start_ticks");
        r->run = json_u64(o, "run");
        r->oom_base = json_u64(o, "oom_base");
        r->oom_seen = json_u64(o, "oom_kills");
        r->log_dropped = json_u64(o, "log_dropped_bytes");
        r->log_dropped_shim = json_u64(o, "log_dropped_shim");
        r->log_dropping = json_object_object_get_ex(o, "log_dropping", &sr) && json_object_get_boolean(sr);
        json_object_put(o);

        /* attach before acting: actions may reconcile */
        struct replica **v = realloc(s->replicas, (s->n_replicas + 1) * sizeof *v);
        if (!v) {
                replica_free(r);
                return -ENOMEM;
        }
        s->replicas = v;
        v[s->n_replicas++] = r;
        /* a replica of any revision is re-adopted as it is (a rollout in the
         * middle has old and new ones); the reconciler decides what goes */
        if (s->max_revision < r->revision)
                s->max_revision = r->revision;

        /* what is out there: the shim (it answers on its socket with its
         * status), or the status file it wrote before going away */
        struct sup_found found = { .kind = SUP_FOUND_GONE };
        struct shim_status status = {};
        uint64_t recorded_run = r->run; /* the run the record knows of */
        bool ordered_away = false;
        /* the listening sockets first, over a connection of their own, so
         * nothing the shim says on ours can be missed */
        service_ports_restore(s, r->spec, r->socket_path, r->shim_pid);
        if (replica_connect(r) >= 0) {
                struct shim_msg hello;
                if (shim_recv_timeout(r->shim_fd, &hello, 1000) >= 0 && hello.type == SHIM_MSG_HELLO) {
                        status = hello.status;
                        if (status.shim_pid == r->shim_pid && status.state == SHIM_RUN_RUNNING &&
                            r->rec.state == REPLICA_RUNNING && r->run != 0 && status.prev_run == r->run &&
                            status.run == r->run + 1) {
                                /* the run we know ended while berthd was away and
                                 * the shim started the next at once on our standing
                                 * order; HELLO kept that end: it is fed as an exit
                                 * (the record gets its status), and the new run is
                                 * adopted as the restart (replica_spawn) */
                                ordered_away = true;
                        }
                        if (!ordered_away)
                                r->run = status.run;
                        if (status.shim_pid != r->shim_pid) {
                                r->shim_pid = status.shim_pid;
                                (void) proc_start_ticks(r->shim_pid, &r->shim_start_ticks);
                                r->log_dropped_shim = 0;
                        }
                        replica_note_log_drops(r, &status);
                } else
                        replica_disconnect(r);
        }
        if (r->shim_fd < 0) {
                r->shim_pid = 0;
                if (shim_status_read(status_path, &status) < 0 || status.run != r->run)
                        status = (struct shim_status) {};
        }
        /* a live shim whose mini-init waits to restart in place: it emptied
         * the pid namespace itself and must not be killed (the next START
         * runs in it); without a shim it exits by itself, killing is fine */
        bool init_idle = r->shim_fd >= 0 && status.state == SHIM_RUN_EXITED && status.init_alive;
        if (ordered_away) {
                found = (struct sup_found) {
                        .kind = SUP_FOUND_EXITED,
                        .pid = status.pid,
                        .exit_code = status.prev_exit_signal ? -1 : status.prev_exit_code,
                        .exit_signal = status.prev_exit_signal,
                        .oom_killed = oom_since_start(r),
                };
                r->next_run = status.run;
                r->next_pid = status.pid;
        } else if (status.state == SHIM_RUN_RUNNING && r->shim_fd >= 0)
                found = (struct sup_found) { .kind = SUP_FOUND_RUNNING, .pid = status.pid };
        else if (status.state == SHIM_RUN_EXITED && !status.acked) {
                found = (struct sup_found) {
                        .kind = SUP_FOUND_EXITED,
                        .pid = status.pid,
                        .exit_code = status.exit_signal ? -1 : status.exit_code,
                        .exit_signal = status.exit_signal,
                        .oom_killed = oom_since_start(r),
                        .exec_failed = status.exec_error[0] != 0,
                        .message = status.exec_error[0] ? status.exec_error : NULL,
                };
                if (!init_idle)
                        kill_leftovers(r);
        } else if (status.state == SHIM_RUN_EXITED) {
                /* acked before berthd died: the record already knows */
                found.kind = SUP_FOUND_GONE;
        }
        if (found.kind == SUP_FOUND_GONE && !init_idle)
                kill_leftovers(r); /* a cgroup with no shim: nobody watches it */

        log_info("Replica %s: %s (record: %s).", r->id,
                 found.kind == SUP_FOUND_RUNNING  ? "re-adopted, still running"
                 : ordered_away                   ? "exited while berthd was away, restarted at once by its shim"
                 : found.kind == SUP_FOUND_EXITED ? "exited while berthd was away"
                                                  : "no shim found",
                 replica_state_to_string(r->rec.state));

        if (r->rec.state == REPLICA_STARTING && found.kind == SUP_FOUND_GONE) {
                /* the spawn was decided and recorded (and counted), but no run
                 * came of it: berthd died before or while asking. Execute
                 * the recorded decision again rather than count a failure. */
                replica_spawn(r);
                return 0;
        }
        if (r->rec.state == REPLICA_STARTING && found.kind == SUP_FOUND_EXITED && status.run == recorded_run &&
            recorded_run != 0) {
                /* the end of the run the record knows: the supervisor took it
                 * already (the record says STARTING: the next run is decided
                 * and counted), berthd died before its acknowledgement and the
                 * START. Feeding it again would count it twice. */
                if (r->shim_fd >= 0) {
                        struct shim_msg ack = shim_msg_request(SHIM_MSG_ACK_EXIT);
                        ack.run = status.run;
                        (void) replica_shim_request(r, &ack);
                }
                replica_spawn(r);
                return 0;
        }

        struct sup_actions a;
        k = sup_restore(&r->sup_cfg, &r->rec, &found, sup_now(), &a);
        if (k < 0) {
                log_error_errno(k, "Replica %s: cannot restore its record: %m; replacing it.", r->id);
                kill_leftovers(r);
                r->rec.state = REPLICA_STOPPED;
                struct sup_event ev = { .type = SUP_EVENT_STOP, .now = sup_now() };
                replica_feed(r, &ev);
                return 0;
        }
        replica_watch_oom(r);
        replica_save(r);
        if (found.kind == SUP_FOUND_EXITED && r->shim_fd >= 0) {
                /* recorded: the shim may forget the exit now */
                struct shim_msg ack = shim_msg_request(SHIM_MSG_ACK_EXIT);
                ack.run = ordered_away ? status.prev_run : status.run;
                (void) replica_shim_request(r, &ack);
        }
        if (replica_apply(r, &a))
                return 0; /* removed */
        replica_stop_unwanted_run(r); /* the policy did not take the shim's new run */
        if (r->rec.state == REPLICA_RUNNING) {
                replica_send_order(r); /* the shim may hold an older one: this one replaces it */
                /* a re-adopted run: its probes go on (timers did not survive berthd) */
                replica_probes_start(r, true);
        }
        /* berthd died between recording a stopped replica and removing it */
        if (r->rec.state == REPLICA_STOPPED && r->stop_requested)
                replica_remove(r);
        return 0;
}

static bool is_number(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

int replica_restore_all(struct manager *m) {
        int k = state_load_services(m);
        if (k < 0)
                return log_error_errno(k, "Cannot load the saved services from %s/services: %m", m->cfg.state_dir);

        DIR *d = opendir(m->replicas_dir);
        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Cannot read %s: %m", m->replicas_dir);
        for (struct dirent *sd; (sd = readdir(d));) {
                if (sd->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sdir = NULL;
                if (asprintf(&sdir, "%s/%s", m->replicas_dir, sd->d_name) < 0)
                        break;
                DIR *dd = opendir(sdir);
                if (!dd)
                        continue;
                for (struct dirent *id; (id = readdir(dd));) {
                        if (!is_number(id->d_name))
                                continue;
                        _cleanup_free_ char *rdir = NULL;
                        if (asprintf(&rdir, "%s/%s", sdir, id->d_name) < 0)
                                break;
                        k = restore_one(m, sd->d_name, (unsigned) strtoul(id->d_name, NULL, 10), rdir);
                        if (k < 0)
                                log_error_errno(k, "Cannot restore replica %s/%s: %m", sd->d_name, id->d_name);
                }
                closedir(dd);
                (void) rmdir(sdir); /* empty */
        }
        closedir(d);

        /* cgroups that no replica owns: a crash between creating and recording */
        char **list = NULL;
        if (cg_list(m->cg, &list) >= 0) {
                for (char **p = list; *p; p++) {
                        const char *slash = strrchr(*p, '/');
                        if (!slash || !is_number(slash + 1) || strncmp(*p, "services/", 9) != 0)
                                continue;
                        _cleanup_free_ char *svc = strndup(*p + 9, (size_t) (slash - (*p + 9)));
                        if (!svc)
                                break;
                        struct service_state *s = manager_find_service(m, svc);
                        unsigned idx = (unsigned) strtoul(slash + 1, NULL, 10);
                        bool owned = false;
                        for (size_t i = 0; s && i < s->n_replicas; i++)
                                owned |= replica_index(s->replicas[i]) == idx;
                        if (!owned) {
                                log_info("cgroup %s belongs to no replica: cleaning it up.", *p);
                                restore_discard(m, svc, idx);
                        }
                }
                cg_strv_free(list);
        }
        return 0;
}

