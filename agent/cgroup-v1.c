/* cgroup-v1.c: the cgroup v1 backend (legacy and hybrid mode).
 *
 * One hierarchy per controller we use (memory, cpu, cpuacct, pids,
 * freezer; co-mounted ones share a directory). In hybrid mode the cgroup2
 * tree at <root>/unified is added as a tracking hierarchy, as systemd does:
 * the same relative path exists there, so cgroup.events (populated) and
 * cgroup.kill work although the controllers live on v1. Nothing is moved
 * on v1: there is no no-internal-process rule to satisfy.
 *
 * libcgroup is used for discovery only (mount points, our own path per
 * controller): its attach writes `tasks` (one thread), its delete reports
 * success on EBUSY, and it has no v1↔v2 file-name translation. All file
 * I/O goes through cgroup-util.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <libcgroup.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"

static const struct {
        const char *name;
        unsigned mask;
} v1_controllers[] = {
        { "memory", CG_MASK_MEMORY }, { "cpu", CG_MASK_CPU },         { "cpuacct", CG_MASK_CPUACCT },
        { "pids", CG_MASK_PIDS },     { "freezer", CG_MASK_FREEZER },
};

/* The one place where libcgroup's ECG* codes become -errno. */
int cg_errno_from_ecg(int ecg) {
        int e;

        switch (ecg) {
        case 0:
                return 0;
        case ECGOTHER:
                e = cgroup_get_last_errno();
                return e > 0 ? -e : -EIO;
        case ECGROUPNOTEXIST:
        case ECGROUPVALUENOTEXIST:
                return -ENOENT;
        case ECGROUPNOTMOUNTED:
        case ECGROUPSUBSYSNOTMOUNTED:
                return -ENOMEDIUM;
        case ECGROUPNOTOWNER:
        case ECGROUPNOTALLOWED:
                return -EPERM;
        case ECGINVAL:
                return -EINVAL;
        case ECGMAXVALUESEXCEEDED:
                return -E2BIG;
        case ECGCONTROLLEREXISTS:
        case ECGVALUEEXISTS:
                return -EEXIST;
        case ECGROUPNOTINITIALIZED:
                return -ENXIO;
        case ECGEOF:
                return -ENODATA;
        case ECGROUPPARSEFAIL:
        case ECGCONFIGPARSEFAIL:
                return -EBADMSG;
        case ECGROUPUNSUPP:
        case ECGROUPNOTCOMPILED:
                return -EOPNOTSUPP;
        case ECGNONEMPTY:
                return -EBUSY;
        default:
                return -EIO;
        }
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void libcgroup_log(void *userdata, int level, const char *fmt, va_list ap) {
        char buf[512];
        size_t n;

        vsnprintf(buf, sizeof(buf), fmt, ap);
        n = strlen(buf);
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = 0;
        log_debug("libcgroup: %s", buf);
}
#pragma GCC diagnostic pop

static pthread_once_t libcgroup_once = PTHREAD_ONCE_INIT;
static int libcgroup_init_result;

static void libcgroup_init_once(void) {
        /* Its default logger prints errors to stdout: route them to our debug log. */
        cgroup_set_logger(libcgroup_log, CGROUP_LOG_WARNING, NULL);
        libcgroup_init_result = cg_errno_from_ecg(cgroup_init());
}

static int libcgroup_init(void) {
        (void) pthread_once(&libcgroup_once, libcgroup_init_once);
        return libcgroup_init_result;
}

static int discover_one(const char *controller, unsigned mask, const char *parent, struct cg *cg) {
        _cleanup_free_ char *mount = NULL, *own = NULL, *base = NULL;
        int r;

        r = cg_errno_from_ecg(cgroup_get_subsys_mount_point(controller, &mount));
        if (r == -ENOENT || r == -ENOMEDIUM) {
                log_debug("cgroup: v1 controller %s is not mounted", controller);
                return 0;
        }
        if (r < 0)
                return log_debug_errno(r, "cgroup: mount point of %s: %m", controller);
        if (!parent || parent[0] != '/') {
                r = cg_errno_from_ecg(cgroup_get_current_controller_path(getpid(), controller, &own));
                if (r < 0)
                        return log_debug_errno(r, "cgroup: our own %s cgroup: %m", controller);
        }
        r = cg_base_path(own ?: "/", parent, &base);
        if (r < 0)
                return r;
        return cg_hier_add(cg, controller, mount, base, mask, false);
}

int cg_v1_discover(struct cg *cg, const struct cg_v1_hierarchy *v1, size_t n_v1, const char *parent) {
        int r;

        if (v1) {
                for (size_t i = 0; i < n_v1; i++) {
                        _cleanup_free_ char *base = NULL;
                        unsigned mask = 0;

                        for (size_t k = 0; k < ELEMENTSOF(v1_controllers); k++)
                                if (streq(v1[i].controller, v1_controllers[k].name))
                                        mask = v1_controllers[k].mask;
                        if (!mask || !v1[i].mount)
                                return -EINVAL;
                        r = cg_base_path(v1[i].own ?: "/", parent, &base);
                        if (r < 0)
                                return r;
                        r = cg_hier_add(cg, v1[i].controller, v1[i].mount, base, mask, false);
                        if (r < 0)
                                return r;
                }
        } else {
                r = libcgroup_init();
                if (r < 0)
                        return log_debug_errno(r, "cgroup: libcgroup initialization failed: %m");
                for (size_t k = 0; k < ELEMENTSOF(v1_controllers); k++) {
                        r = discover_one(v1_controllers[k].name, v1_controllers[k].mask, parent, cg);
                        if (r < 0)
                                return r;
                }
        }
        if (cg->n_hier == 0)
                return log_debug_errno(ENOMEDIUM, "cgroup: none of memory, cpu, cpuacct, pids, freezer is mounted");
        return 0;
}

static struct cg_hier *v1_hier(struct cg *cg, unsigned mask) {
        for (size_t i = 0; i < cg->n_hier; i++)
                if (!cg->hier[i].unified && (cg->hier[i].mask & mask))
                        return &cg->hier[i];
        return NULL;
}

static int v1_setup(struct cg *cg, bool parent_is_own, pid_t self) {
        cg->mask = 0;
        for (size_t i = 0; i < cg->n_hier; i++) {
                int r = cg_fs_mkdirat(cg->fs, cg->hier[i].fd, "services", 0755);

                if (r < 0 && r != -EEXIST)
                        return log_debug_errno(r, "cgroup: mkdir %s/services: %m", cg->hier[i].dir);
                cg->mask |= cg->hier[i].mask;
        }
        return 0;
}

static int v1_prepare_inner(struct cg *cg, const char *path) {
        return 0; /* v1 has no subtree_control */
}

static int v1_set_limits(struct cg *cg, const char *path, const struct cg_limits *l, const char **ret_missing) {
        struct cg_hier *h;
        char v[64];
        int r;

        h = v1_hier(cg, CG_MASK_MEMORY);
        if (h) {
                snprintf(v, sizeof(v), "%" PRIu64, l->memory_max);
                r = cg_set_limit_file(h, path, "memory.limit_in_bytes", l->memory_max ? v : "-1", !l->memory_max,
                                      ret_missing);
                if (r < 0)
                        return r;
                snprintf(v, sizeof(v), "%" PRIu64, l->memory_low);
                r = cg_set_limit_file(h, path, "memory.soft_limit_in_bytes", l->memory_low ? v : "-1",
                                      !l->memory_low, ret_missing);
                if (r < 0)
                        return r;
        }
        h = v1_hier(cg, CG_MASK_CPU);
        if (h) {
                /* the period first: the quota is checked against it */
                snprintf(v, sizeof(v), "%" PRIu64, CG_CPU_PERIOD_USEC);
                r = cg_set_limit_file(h, path, "cpu.cfs_period_us", v, !l->cpu_limit_millis, ret_missing);
                if (r < 0)
                        return r;
                snprintf(v, sizeof(v), "%" PRIu64, cg_cpu_quota_from_millis(l->cpu_limit_millis));
                r = cg_set_limit_file(h, path, "cpu.cfs_quota_us", l->cpu_limit_millis ? v : "-1",
                                      !l->cpu_limit_millis, ret_missing);
                if (r < 0)
                        return r;
                snprintf(v, sizeof(v), "%" PRIu64,
                         l->cpu_request_millis ? cg_cpu_shares_from_millis(l->cpu_request_millis) : UINT64_C(1024));
                r = cg_set_limit_file(h, path, "cpu.shares", v, !l->cpu_request_millis, ret_missing);
                if (r < 0)
                        return r;
        }
        h = v1_hier(cg, CG_MASK_PIDS);
        if (h) {
                snprintf(v, sizeof(v), "%" PRIu64, l->pids_max);
                r = cg_set_limit_file(h, path, "pids.max", l->pids_max ? v : "max", !l->pids_max, ret_missing);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Waits (bounded) until freezer.state reads FROZEN; FREEZING can last
 * while a task sleeps uninterruptibly. 0 when frozen, -ETIMEDOUT else. */
static int v1_wait_frozen(const struct cg_hier *h, const char *file) {
        for (unsigned i = 0; i < 1000; i++) {
                _cleanup_free_ char *s = NULL;
                int r = cg_read_at(h->fd, file, &s);

                if (r < 0)
                        return r;
                if (strncmp(s, "FROZEN", 6) == 0)
                        return 0;
                (void) nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
        }
        return -ETIMEDOUT;
}

static int v1_kill_all(struct cg *cg, const char *path, int sig) {
        const struct cg_hier *fh;
        char state[PATH_MAX];
        int r, q;

        /* Hybrid: the kernel kills the whole subtree through the tracking tree. */
        if (cg->unified && sig == SIGKILL)
                return cg_v2_kill(cg, cg->unified, path, sig);

        fh = v1_hier(cg, CG_MASK_FREEZER);
        if (!fh)
                return cg_signal_pids(cg, NULL, path, sig);

        /* Freeze so nobody forks between reading cgroup.procs and kill();
         * signals to frozen tasks are delivered when they thaw. */
        r = cg_path_join(state, sizeof(state), path, "freezer.state");
        if (r < 0)
                return r;
        r = cg_write_at(fh->fd, state, "FROZEN");
        if (r < 0) {
                log_debug_errno(r, "cgroup: cannot freeze %s/%s, signalling without: %m", fh->dir, path);
                return cg_signal_pids(cg, NULL, path, sig);
        }
        r = v1_wait_frozen(fh, state);
        if (r < 0)
                log_debug_errno(r, "cgroup: %s/%s did not freeze, signalling anyway: %m", fh->dir, path);
        r = cg_signal_pids(cg, NULL, path, sig);
        q = cg_write_at(fh->fd, state, "THAWED");
        if (q < 0)
                log_debug_errno(q, "cgroup: cannot thaw %s/%s: %m", fh->dir, path);
        return r < 0 ? r : q;
}

static int v1_is_populated(struct cg *cg, const char *path) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        if (cg->unified)
                return cg_v2_is_populated(cg->unified, path);
        r = cg_collect_pids(cg, NULL, path, true, &pids, &n);
        if (r < 0)
                return r;
        return n > 0;
}

static int v1_oom_kill_count(struct cg *cg, const char *path, uint64_t *ret) {
        const struct cg_hier *h = v1_hier(cg, CG_MASK_MEMORY);
        char p[PATH_MAX];
        int r;

        if (!h)
                return -EOPNOTSUPP;
        r = cg_path_join(p, sizeof(p), path, "memory.oom_control");
        if (r < 0)
                return r;
        /* oom_kill appeared in 4.13; memory.failcnt is no OOM signal. */
        return cg_read_key_at(h->fd, p, "oom_kill", ret);
}

static int v1_oom_watch(struct cg *cg, const char *path, int *ret_fd) {
        const struct cg_hier *h = v1_hier(cg, CG_MASK_MEMORY);
        _cleanup_close_ int efd = -1, ofd = -1;
        char p[PATH_MAX];
        int r;

        if (!h)
                return -EOPNOTSUPP;
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
                return negative_errno();
        r = cg_path_join(p, sizeof(p), path, "memory.oom_control");
        if (r < 0)
                return r;
        ofd = openat(h->fd, p, O_RDONLY | O_CLOEXEC);
        if (ofd < 0)
                return negative_errno();
        r = cg_path_join(p, sizeof(p), path, "cgroup.event_control");
        if (r < 0)
                return r;
        /* "<eventfd> <fd of memory.oom_control>"; the kernel keeps its own
         * references, so ofd can be closed. The eventfd also fires when
         * the cgroup is removed: callers re-read the counter. */
        r = cg_writef_at(h->fd, p, "%d %d", efd, ofd);
        if (r < 0)
                return log_debug_errno(r, "cgroup: register OOM eventfd in %s/%s: %m", h->dir, path);
        *ret_fd = TAKE_FD(efd);
        return 0;
}

const struct cg_backend cg_backend_v1 = {
        .name = "cgroup1",
        .setup = v1_setup,
        .prepare_inner = v1_prepare_inner,
        .set_limits = v1_set_limits,
        .kill_all = v1_kill_all,
        .is_populated = v1_is_populated,
        .oom_kill_count = v1_oom_kill_count,
        .oom_watch = v1_oom_watch,
};
