/* launch-build.c: see launch-build.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch-build.h"
#include "macro.h"
#include "util.h"

#define CAP_LAST_KNOWN 40

uint64_t capabilities_mask(const struct capabilities *c) {
        uint64_t all = (UINT64_C(1) << (CAP_LAST_KNOWN + 1)) - 1;
        uint64_t mask = LAUNCH_CAPS_DEFAULT;
        for (size_t i = 0; i < c->drop.n; i++) {
                if (streq(c->drop.v[i], "ALL"))
                        mask = 0;
                else {
                        int cap = capability_from_name(c->drop.v[i]);
                        if (cap >= 0)
                                mask &= ~(UINT64_C(1) << cap);
                }
        }
        for (size_t i = 0; i < c->add.n; i++) {
                if (streq(c->add.v[i], "ALL"))
                        mask = all;
                else {
                        int cap = capability_from_name(c->add.v[i]);
                        if (cap >= 0)
                                mask |= UINT64_C(1) << cap;
                }
        }
        return mask;
}

int resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid, gid_t **ret_groups, size_t *ret_n_groups,
                 char **ret_error) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        uid_t uid;
        gid_t gid;
        bool have_gid = false;

        *ret_groups = NULL;
        *ret_n_groups = 0;

        if (!user) {
                *ret_uid = 0;
                *ret_gid = 0;
                return 0;
        }
        if (user[0] >= '0' && user[0] <= '9') {
                char *end;
                unsigned long u = strtoul(user, &end, 10);
                uid = (uid_t) u;
                if (*end == ':') {
                        gid = (gid_t) strtoul(end + 1, NULL, 10);
                        have_gid = true;
                }
                getpwuid_r(uid, &pw, buf, sizeof buf, &res);
        } else {
                int r = getpwnam_r(user, &pw, buf, sizeof buf, &res);
                if (!res) {
                        if (asprintf(ret_error, "user %s: %s", user,
                                     r ? strerror(r) : "no such user on this host (see /etc/passwd)") < 0)
                                *ret_error = NULL;
                        return -ESRCH;
                }
                uid = pw.pw_uid;
        }
        if (!have_gid)
                gid = res ? pw.pw_gid : (gid_t) uid;

        /* supplementary groups of a named user, as login(1) would set them */
        if (res && uid != 0) {
                int n = 32;
                gid_t *groups = NULL;
                for (int tries = 0; tries < 4; tries++) {
                        gid_t *g = realloc(groups, (size_t) n * sizeof(gid_t));
                        if (!g) {
                                free(groups);
                                return -ENOMEM;
                        }
                        groups = g;
                        int k = n;
                        if (getgrouplist(pw.pw_name, gid, groups, &k) >= 0) {
                                n = k;
                                break;
                        }
                        n = k > n ? k : n * 2;
                }
                *ret_groups = groups;
                *ret_n_groups = (size_t) n;
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

/* Adds NAME=VALUE, replacing an earlier NAME. */
static int env_set(char ***env, size_t *n, const char *name, const char *value) {
        char *kv;
        if (asprintf(&kv, "%s=%s", name, value) < 0)
                return -ENOMEM;
        size_t len = strlen(name);
        for (size_t i = 0; i < *n; i++)
                if (strncmp((*env)[i], name, len) == 0 && (*env)[i][len] == '=') {
                        free((*env)[i]);
                        (*env)[i] = kv;
                        return 0;
                }
        char **v = realloc(*env, (*n + 2) * sizeof(char *));
        if (!v) {
                free(kv);
                return -ENOMEM;
        }
        *env = v;
        v[(*n)++] = kv;
        v[*n] = NULL;
        return 0;
}

static char **strv_dup_concat(const struct strv *a, const struct strv *b) {
        char **v = calloc(a->n + b->n + 1, sizeof(char *));
        if (!v)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < a->n; i++)
                if (!(v[k++] = strdup(a->v[i])))
                        goto fail;
        for (size_t i = 0; i < b->n; i++)
                if (!(v[k++] = strdup(b->v[i])))
                        goto fail;
        return v;
fail:
        for (size_t i = 0; i < k; i++)
                free(v[i]);
        free(v);
        return NULL;
}

static int dup_str(char **dst, const char *src) {
        if (!src) {
                *dst = NULL;
                return 0;
        }
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int launch_build(const struct service *s, unsigned index, const struct launch_paths *paths, struct launch_spec *ret,
                 char **ret_error) {
        const struct service_spec *spec = &s->spec;
        struct launch_spec l;
        char idx[16];
        size_t n_env = 0;
        int r;

        *ret_error = NULL;
        launch_spec_init(&l);
        snprintf(idx, sizeof idx, "%u", index);

        if (asprintf(&l.id, "%s-%u", s->metadata.name, index) < 0) {
                l.id = NULL;
                r = -ENOMEM;
                goto fail;
        }
        if ((r = dup_str(&l.hostname, l.id)) < 0)
                goto fail;

        unsigned ns = spec->isolation.namespaces;
        l.clone_flags = (ns & NS_PID ? CLONE_NEWPID : 0) | (ns & NS_MOUNT ? CLONE_NEWNS : 0) |
                        (ns & NS_UTS ? CLONE_NEWUTS : 0) | (ns & NS_IPC ? CLONE_NEWIPC : 0) |
                        (ns & NS_CGROUP ? CLONE_NEWCGROUP : 0);
        if (spec->network.mode == NETWORK_NONE) {
                l.clone_flags |= CLONE_NEWNET;
                l.net_none = true;
        }

        if ((r = dup_str(&l.rootfs, spec->isolation.rootfs)) < 0)
                goto fail;
        l.read_only_root = spec->isolation.read_only_root;
        if (spec->isolation.n_mounts > 0) {
                l.mounts = calloc(spec->isolation.n_mounts, sizeof *l.mounts);
                if (!l.mounts) {
                        r = -ENOMEM;
                        goto fail;
                }
                l.n_mounts = spec->isolation.n_mounts;
                for (size_t i = 0; i < l.n_mounts; i++) {
                        const struct mount_spec *m = &spec->isolation.mounts[i];
                        if ((r = dup_str(&l.mounts[i].source, m->source)) < 0 ||
                            (r = dup_str(&l.mounts[i].target, m->target)) < 0)
                                goto fail;
                        l.mounts[i].read_only = m->read_only;
                }
        }

        l.argv = strv_dup_concat(&spec->command, &spec->args);
        if (!l.argv) {
                r = -ENOMEM;
                goto fail;
        }

        /* environment: cleared, then the fixed variables, then the manifest's */
        if ((r = env_set(&l.env, &n_env, "PATH", BERTH_DEFAULT_PATH)) < 0 ||
            (r = env_set(&l.env, &n_env, "HOSTNAME", l.id)) < 0 ||
            (r = env_set(&l.env, &n_env, "BERTH_SERVICE", s->metadata.name)) < 0 ||
            (r = env_set(&l.env, &n_env, "BERTH_REPLICA", idx)) < 0)
                goto fail;
        for (size_t i = 0; i < spec->n_env; i++)
                if ((r = env_set(&l.env, &n_env, spec->env[i].name, spec->env[i].value ? spec->env[i].value : "")) < 0)
                        goto fail;
        if (paths->notify_dir) {
                /* after the manifest's variables: berthd's socket is the one */
                bool own_mounts = (ns & NS_MOUNT) != 0;
                _cleanup_free_ char *sock = NULL;
                if (asprintf(&sock, "%s/%s", own_mounts ? LAUNCH_NOTIFY_DIR : paths->notify_dir,
                             LAUNCH_NOTIFY_NAME) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                if ((r = env_set(&l.env, &n_env, "NOTIFY_SOCKET", sock)) < 0)
                        goto fail;
                /* WATCHDOG_USEC as prober_spec_watchdog_usec() computes it */
                const struct probe *lp = &spec->liveness_probe;
                if (lp->set && lp->notify) {
                        uint64_t usec = lp->watchdog_timeout ? lp->watchdog_timeout * 1000
                                                             : (uint64_t) lp->period_seconds *
                                                                       (uint64_t) lp->failure_threshold * 1000000;
                        char buf[32];
                        snprintf(buf, sizeof buf, "%" PRIu64, usec);
                        if ((r = env_set(&l.env, &n_env, "WATCHDOG_USEC", buf)) < 0)
                                goto fail;
                }
                if (own_mounts) {
                        /* the directory, not the socket: a berthd that comes
                         * back binds a new socket there, which the replica sees */
                        struct launch_mount *mv = realloc(l.mounts, (l.n_mounts + 1) * sizeof *mv);
                        if (!mv) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        l.mounts = mv;
                        l.mounts[l.n_mounts] = (struct launch_mount) { .read_only = true };
                        l.n_mounts++;
                        if ((r = dup_str(&l.mounts[l.n_mounts - 1].source, paths->notify_dir)) < 0 ||
                            (r = dup_str(&l.mounts[l.n_mounts - 1].target, LAUNCH_NOTIFY_DIR)) < 0)
                                goto fail;
                }
        }
        if (!l.env && !(l.env = calloc(1, sizeof(char *)))) {
                r = -ENOMEM;
                goto fail;
        }

        if ((r = dup_str(&l.cwd, spec->working_dir)) < 0)
                goto fail;

        /* socket activation: the shim gets the sockets of network.ports in this order */
        if (spec->network.n_ports > 0) {
                l.listen_fd_names = calloc(spec->network.n_ports + 1, sizeof(char *));
                if (!l.listen_fd_names) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t i = 0; i < spec->network.n_ports; i++)
                        if ((r = dup_str(&l.listen_fd_names[i], spec->network.ports[i].name)) < 0)
                                goto fail;
        }

        r = resolve_user(spec->user, &l.uid, &l.gid, &l.groups, &l.n_groups, ret_error);
        if (r < 0)
                goto fail;

        l.log_driver = spec->logging.driver == LOG_DRIVER_JOURNALD ? LAUNCH_LOG_JOURNALD : LAUNCH_LOG_FILE;
        if (spec->logging.max_size > 0)
                l.log_max_size = spec->logging.max_size;
        if (spec->logging.max_files > 0)
                l.log_max_files = (uint32_t) spec->logging.max_files;

        l.caps_keep = capabilities_mask(&spec->isolation.capabilities);
        l.no_new_privs = true;
        l.stop_signal = spec->stop_signal_number > 0 ? spec->stop_signal_number : 15;

        if (paths->cgroup_procs) {
                size_t n = 0;
                while (paths->cgroup_procs[n])
                        n++;
                l.cgroup_procs = calloc(n + 1, sizeof(char *));
                if (!l.cgroup_procs) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t i = 0; i < n; i++)
                        if ((r = dup_str(&l.cgroup_procs[i], paths->cgroup_procs[i])) < 0)
                                goto fail;
        }
        if ((r = dup_str(&l.cgroup_v2_dir, paths->cgroup_v2_dir)) < 0 ||
            (r = dup_str(&l.log_dir, paths->log_dir)) < 0 ||
            (r = dup_str(&l.status_path, paths->status_path)) < 0 ||
            (r = dup_str(&l.socket_path, paths->socket_path)) < 0)
                goto fail;

        *ret = l;
        return 0;
fail:
        launch_spec_done(&l);
        return r;
}
