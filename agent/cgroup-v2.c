/* cgroup-v2.c: the pure cgroup v2 backend, and the cgroup2 mechanics the
 * v1 backend borrows for its tracking tree in hybrid mode (cgroup.events,
 * cgroup.kill).
 *
 * Delegation follows systemd's rules (docs/CGROUP_DELEGATION.md): inner
 * nodes hold no processes, so before enabling controllers in our own
 * cgroup.subtree_control we move ourselves into the leaf <own>/supervisor;
 * controllers are then enabled top-down in the nodes we own (<own>,
 * services, services/<svc>), never above. libcgroup is not used here: its
 * create writes "+ctrl" into every ancestor from the root down. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"

/* The controllers we enable, in the order written to cgroup.subtree_control. */
static const struct {
        const char *name;
        unsigned mask;
} v2_controllers[] = {
        { "memory", CG_MASK_MEMORY },
        { "cpu", CG_MASK_CPU },
        { "pids", CG_MASK_PIDS },
};

/* Parses "cpuset cpu io memory pids" (cgroup.controllers) or the same
 * with '+' prefixes into CG_MASK_* bits of the controllers we use. */
static unsigned parse_controllers(const char *s) {
        unsigned mask = 0;

        for (const char *p = s; *p;) {
                size_t n;

                p += strspn(p, " \t\n+");
                n = strcspn(p, " \t\n");
                for (size_t i = 0; i < ELEMENTSOF(v2_controllers); i++)
                        if (strlen(v2_controllers[i].name) == n && strncmp(p, v2_controllers[i].name, n) == 0)
                                mask |= v2_controllers[i].mask;
                p += n;
        }
        return mask;
}

/* Enables mask in <path>/cgroup.subtree_control ("" = the parent itself),
 * writing only what is missing, in one write. */
static int v2_enable(const struct cg_hier *h, const char *path, unsigned mask) {
        _cleanup_free_ char *cur = NULL;
        char file[PATH_MAX], buf[64] = "";
        unsigned missing;
        int r;

        if (mask == 0)
                return 0;
        r = cg_path_join(file, sizeof(file), path, "cgroup.subtree_control");
        if (r < 0)
                return r;
        r = cg_read_at(h->fd, file, &cur);
        if (r < 0)
                return log_debug_errno(r, "cgroup: read %s/%s: %m", h->dir, file);
        missing = mask & ~parse_controllers(cur);
        if (missing == 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(v2_controllers); i++)
                if (missing & v2_controllers[i].mask) {
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, "+");
                        strcat(buf, v2_controllers[i].name);
                }
        r = cg_write_at(h->fd, file, buf);
        if (r < 0)
                /* EBUSY: processes in this inner node (the no-internal-process rule) */
                return log_debug_errno(r, "cgroup: write '%s' to %s/%s: %m", buf, h->dir, file);
        return 0;
}

static int v2_setup(struct cg *cg, bool parent_is_own, pid_t self) {
        struct cg_hier *h = cg->unified;
        _cleanup_free_ char *avail = NULL;
        unsigned mask;
        int r;

        if (parent_is_own) {
                /* Leave the inner node before enabling controllers in it. */
                r = cg_fs_mkdirat(cg->fs, h->fd, "supervisor", 0755);
                if (r < 0 && r != -EEXIST)
                        return log_debug_errno(r, "cgroup: mkdir %s/supervisor: %m", h->dir);
                r = cg_writef_at(h->fd, "supervisor/cgroup.procs", "%d", (int) self);
                if (r < 0)
                        return log_debug_errno(r, "cgroup: move %d to %s/supervisor: %m", (int) self, h->dir);
        }

        r = cg_read_at(h->fd, "cgroup.controllers", &avail);
        if (r < 0)
                return log_debug_errno(r, "cgroup: read %s/cgroup.controllers: %m", h->dir);
        mask = parse_controllers(avail);

        r = v2_enable(h, "", mask);
        if (r < 0)
                return r;
        r = cg_fs_mkdirat(cg->fs, h->fd, "services", 0755);
        if (r < 0 && r != -EEXIST)
                return log_debug_errno(r, "cgroup: mkdir %s/services: %m", h->dir);
        r = v2_enable(h, "services", mask);
        if (r < 0)
                return r;
        h->mask = cg->mask = mask;
        return 0;
}

static int v2_prepare_inner(struct cg *cg, const char *path) {
        return v2_enable(cg->unified, path, cg->mask);
}

static int v2_set_limits(struct cg *cg, const char *path, const struct cg_limits *l, const char **ret_missing) {
        const struct cg_hier *h = cg->unified;
        char v[64];
        int r;

        if (cg->mask & CG_MASK_MEMORY) {
                if (l->memory_max)
                        snprintf(v, sizeof(v), "%" PRIu64, l->memory_max);
                r = cg_set_limit_file(h, path, "memory.max", l->memory_max ? v : "max", !l->memory_max, ret_missing);
                if (r < 0)
                        return r;
                snprintf(v, sizeof(v), "%" PRIu64, l->memory_low);
                r = cg_set_limit_file(h, path, "memory.low", v, !l->memory_low, ret_missing);
                if (r < 0)
                        return r;
        }
        if (cg->mask & CG_MASK_CPU) {
                if (l->cpu_limit_millis)
                        snprintf(v, sizeof(v), "%" PRIu64 " %" PRIu64, cg_cpu_quota_from_millis(l->cpu_limit_millis),
                                 CG_CPU_PERIOD_USEC);
                else
                        snprintf(v, sizeof(v), "max %" PRIu64, CG_CPU_PERIOD_USEC);
                r = cg_set_limit_file(h, path, "cpu.max", v, !l->cpu_limit_millis, ret_missing);
                if (r < 0)
                        return r;
                /* 0: the kernel default weight 100 (1024 shares would map to 39, not the default) */
                snprintf(v, sizeof(v), "%" PRIu64,
                         l->cpu_request_millis ? cg_cpu_weight_from_shares(
                                                         cg_cpu_shares_from_millis(l->cpu_request_millis))
                                               : UINT64_C(100));
                r = cg_set_limit_file(h, path, "cpu.weight", v, !l->cpu_request_millis, ret_missing);
                if (r < 0)
                        return r;
        }
        if (cg->mask & CG_MASK_PIDS) {
                if (l->pids_max)
                        snprintf(v, sizeof(v), "%" PRIu64, l->pids_max);
                r = cg_set_limit_file(h, path, "pids.max", l->pids_max ? v : "max", !l->pids_max, ret_missing);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cg_v2_is_populated(const struct cg_hier *h, const char *path) {
        char p[PATH_MAX];
        uint64_t v;
        int r;

        r = cg_path_join(p, sizeof(p), path, "cgroup.events");
        if (r < 0)
                return r;
        r = cg_read_key_at(h->fd, p, "populated", &v);
        if (r < 0)
                return r;
        return v > 0;
}

int cg_v2_kill(struct cg *cg, const struct cg_hier *h, const char *path, int sig) {
        char p[PATH_MAX];
        int r;

        if (sig == SIGKILL) {
                /* Linux ≥ 5.14: the kernel kills the whole subtree, races with fork included. */
                r = cg_path_join(p, sizeof(p), path, "cgroup.kill");
                if (r < 0)
                        return r;
                r = cg_write_at(h->fd, p, "1");
                if (r != -ENOENT)
                        return r < 0 ? log_debug_errno(r, "cgroup: write 1 to %s/%s: %m", h->dir, p) : 0;
                if (faccessat(h->fd, path, F_OK, 0) < 0)
                        return negative_errno();
                log_debug("cgroup: no cgroup.kill in %s/%s, signalling every pid", h->dir, path);
        }
        return cg_signal_pids(cg, h, path, sig);
}

static int v2_kill_all(struct cg *cg, const char *path, int sig) {
        return cg_v2_kill(cg, cg->unified, path, sig);
}

static int v2_is_populated(struct cg *cg, const char *path) {
        return cg_v2_is_populated(cg->unified, path);
}

static int v2_oom_kill_count(struct cg *cg, const char *path, uint64_t *ret) {
        char p[PATH_MAX];
        int r;

        r = cg_path_join(p, sizeof(p), path, "memory.events");
        if (r < 0)
                return r;
        return cg_read_key_at(cg->unified->fd, p, "oom_kill", ret);
}

int cg_v2_watch_file(const struct cg_hier *h, const char *path, const char *file, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        char p[PATH_MAX];

        if (snprintf(p, sizeof(p), "%s/%s/%s", h->dir, path, file) >= (int) sizeof(p))
                return -ENAMETOOLONG;
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* cgroupfs sends IN_MODIFY when the file's content changes (kernfs_notify) */
        if (inotify_add_watch(fd, p, IN_MODIFY) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int v2_oom_watch(struct cg *cg, const char *path, int *ret_fd) {
        return cg_v2_watch_file(cg->unified, path, "memory.events", ret_fd);
}

const struct cg_backend cg_backend_v2 = {
        .name = "cgroup2",
        .setup = v2_setup,
        .prepare_inner = v2_prepare_inner,
        .set_limits = v2_set_limits,
        .kill_all = v2_kill_all,
        .is_populated = v2_is_populated,
        .oom_kill_count = v2_oom_kill_count,
        .oom_watch = v2_oom_watch,
};
