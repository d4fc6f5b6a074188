/* cgroup.h: berthd's one interface to control groups.
 *
 * What it promises:
 *  - One API for pure cgroup v2, v1 "hybrid" (v1 controllers + a cgroup2
 *    mount at <root>/unified) and v1 "legacy". Callers never see which one:
 *    a backend (struct of function pointers, as crun does) hides the file
 *    names (memory.max vs memory.limit_in_bytes, ...) and the mechanics
 *    (cgroup.kill vs freeze/kill/thaw, cgroup.events vs cgroup.procs).
 *  - Writes stay inside our subtree: on v2, when we run in our own
 *    (delegated) cgroup, cg_open() moves this process into <own>/supervisor
 *    (a leaf) and enables controllers in <own>/cgroup.subtree_control and
 *    in the inner nodes it creates (services, services/<svc>); nothing above
 *    <own> (or above the given parent) is ever written. On v1/hybrid nothing
 *    is moved.
 *  - Replica cgroups live at <parent>/services/<service>/<index>; every
 *    function below takes that path RELATIVE to the parent
 *    ("services/web/0", see cg_replica_path()). Paths outside "services/"
 *    or with "..", "." or kernel-file-like names ("cpu.max") are refused
 *    with -EINVAL, so a bug in the caller can not kill or remove berthd's
 *    own cgroup.
 *  - Limits are written before any process can join. A limit whose
 *    controller (or control file) is missing fails with -EOPNOTSUPP and
 *    names what is missing; nothing is silently ignored.
 *  - Errors are -errno; this module logs at debug level only and never
 *    exits. Not thread-safe: use a handle from one thread (libcgroup's
 *    mount table is global too).
 *
 * All file I/O goes through dirfd-relative helpers below one directory fd
 * per hierarchy, so the unit tests point the whole backend at a fake
 * cgroupfs (a tmpdir) with struct cg_options. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define CG_ROOT_DEFAULT "/sys/fs/cgroup"

enum cg_mode {
        CG_MODE_AUTO = 0, /* struct cg_options only: detect from the root */
        CG_MODE_UNIFIED,  /* pure cgroup v2 */
        CG_MODE_HYBRID,   /* v1 controllers, cgroup2 at <root>/unified for tracking */
        CG_MODE_LEGACY,   /* v1 only */
};

/* Controllers berth uses (bit mask). */
enum {
        CG_MASK_MEMORY = 1u << 0,
        CG_MASK_CPU = 1u << 1,
        CG_MASK_CPUACCT = 1u << 2, /* v1 only (v2 has cpu.stat always) */
        CG_MASK_PIDS = 1u << 3,
        CG_MASK_FREEZER = 1u << 4, /* v1 only (v2 has cgroup.freeze always) */
};

/* Resource limits of one replica. 0 means "none / kernel default". */
struct cg_limits {
        uint64_t memory_max;         /* bytes: v2 memory.max, v1 memory.limit_in_bytes */
        uint64_t memory_low;         /* bytes: v2 memory.low, v1 memory.soft_limit_in_bytes */
        uint64_t cpu_limit_millis;   /* v2 cpu.max, v1 cpu.cfs_quota_us (period 100 ms) */
        uint64_t cpu_request_millis; /* v2 cpu.weight, v1 cpu.shares */
        uint64_t pids_max;           /* pids.max; 0 = "max" */
};

/* One v1 hierarchy, for explicit discovery (tests, unusual setups). */
struct cg_v1_hierarchy {
        const char *controller; /* "memory", "cpu", "cpuacct", "pids" or "freezer" */
        const char *mount;      /* absolute mount point ("/sys/fs/cgroup/memory") */
        const char *own;        /* our cgroup in it, relative to its root ("/" ...) */
};

struct cg_fs_ops; /* raw mkdir/rmdir, replaceable by tests: cgroup-internal.h */

struct cg_options {
        /* NULL = CG_ROOT_DEFAULT: the cgroup2 mount (unified), or the tmpfs
         * holding <root>/unified (hybrid). v1 mount points come from
         * libcgroup, or from .v1. */
        const char *root;
        /* Where berth's subtree lives, in every hierarchy:
         *   NULL      our own cgroup (v2: systemd delegation, see above);
         *   "/a/b"    relative to each hierarchy's root (--cgroup-parent);
         *   "a/b"     below our own cgroup in each hierarchy.
         * An explicit parent must exist already (it is not ours to create). */
        const char *parent;
        /* CG_MODE_AUTO: cg_detect_mode(root). */
        enum cg_mode mode;
        /* v1/hybrid: NULL = discover mounts and our own paths with libcgroup. */
        const struct cg_v1_hierarchy *v1;
        size_t n_v1;
        /* Our cgroup on the cgroup2 tree; NULL = the "0::" line of /proc/self/cgroup. */
        const char *own_unified;
        /* NULL = the real syscalls. */
        const struct cg_fs_ops *fs_ops;
};

struct cg;

/* statfs(root): CGROUP2_SUPER_MAGIC → unified; tmpfs with a cgroup2
 * <root>/unified → hybrid; other tmpfs → legacy; else -ENOMEDIUM. */
int cg_detect_mode(const char *root, enum cg_mode *ret);
const char *cg_mode_to_string(enum cg_mode mode);

/* Opens the backend and prepares <parent>/services in every hierarchy
 * (on v2 with parent == own cgroup: move into <own>/supervisor, enable
 * controllers). root NULL = CG_ROOT_DEFAULT, parent as in struct cg_options. */
int cg_open(const char *root, const char *parent, struct cg **ret);
int cg_open_with(const struct cg_options *opts, struct cg **ret);
struct cg *cg_free(struct cg *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cg *, cg_free);

enum cg_mode cg_get_mode(const struct cg *cg);
/* CG_MASK_* usable below the parent. */
unsigned cg_get_controllers(const struct cg *cg);

/* "services/<service>/<index>" and "services/<service>" (newly allocated).
 * service: 1-64 of [A-Za-z0-9_-] (no '.', so it never clashes with kernel files). */
int cg_replica_path(const char *service, unsigned index, char **ret);
int cg_service_path(const char *service, char **ret);

/* 0 if every non-zero limit has its controller; else -EOPNOTSUPP and
 * *ret_missing (optional) = static name of the missing controller. */
int cg_check_limits(const struct cg *cg, const struct cg_limits *limits, const char **ret_missing);

/* Creates the cgroup in every hierarchy (inner nodes as needed) and writes
 * the limits before returning. An existing empty leaf is reused (limits
 * rewritten); a populated one gives -EEXIST. On failure nothing created here
 * is left behind. -EOPNOTSUPP: *ret_missing (optional) names the missing
 * controller ("pids") or control file ("cpu.cfs_quota_us"). */
int cg_create(struct cg *cg, const char *path, const struct cg_limits *limits, const char **ret_missing);
/* Rewrites all limits of an existing cgroup (0 values reset to the default). */
int cg_set_limits(struct cg *cg, const char *path, const struct cg_limits *limits, const char **ret_missing);

/* Moves a whole process (cgroup.procs, all threads) into the cgroup in every hierarchy. */
int cg_attach_pid(struct cg *cg, const char *path, pid_t pid);
/* Absolute cgroup.procs paths a spawner writes a pid into, one per
 * hierarchy, the cgroup2 one last. With CG_PROCS_SKIP_UNIFIED the cgroup2
 * file is left out (the child was placed there with CLONE_INTO_CGROUP). */
enum { CG_PROCS_SKIP_UNIFIED = 1u << 0 };
int cg_procs_paths(struct cg *cg, const char *path, unsigned flags, char ***ret);
/* Directory fd (O_DIRECTORY|O_CLOEXEC) of the cgroup on the cgroup2 tree,
 * for clone3(CLONE_INTO_CGROUP). On pure v2 that alone places the child in
 * every controller; in hybrid mode only on the tracking tree (write the
 * v1 cgroup.procs too). -EOPNOTSUPP on legacy v1. Caller owns the fd. */
int cg_open_dirfd(struct cg *cg, const char *path, int *ret_fd);
/* true when clone3(CLONE_INTO_CGROUP) with cg_open_dirfd() is all it takes (pure v2). */
bool cg_clone_into_is_complete(const struct cg *cg);

/* Sends sig to every process in the cgroup and its descendants. SIGKILL
 * on v2/hybrid: cgroup.kill. Otherwise v1: freeze, signal every pid, thaw;
 * v2: signal every pid in cgroup.procs until no new one shows up. */
int cg_kill_all(struct cg *cg, const char *path, int sig);
/* >0 populated (recursively), 0 empty, -errno. */
int cg_is_populated(struct cg *cg, const char *path);
/* Waiting for emptiness without polling (v2/hybrid): an inotify fd
 * (IN_NONBLOCK|IN_CLOEXEC, caller owns) watching cgroup.events with
 * IN_MODIFY; after each event (and once after arming) call
 * cg_is_populated(). -EOPNOTSUPP on legacy v1 (poll cg_is_populated()). */
int cg_watch_empty(struct cg *cg, const char *path, int *ret_fd);
/* The cgroup.events path, to add to one shared inotify instance instead
 * (fs.inotify.max_user_instances is 128 by default). -EOPNOTSUPP on legacy. */
int cg_events_path(struct cg *cg, const char *path, char **ret);

/* Removes the cgroup in every hierarchy, then its services/<svc> parent
 * when no sibling remains. -EBUSY if still populated (nothing removed),
 * -ENOTEMPTY if it has child cgroups. Already gone is fine. */
int cg_remove(struct cg *cg, const char *path);

/* Removes <parent>/services itself in every hierarchy (berthd stopping with
 * no replica left). -ENOTEMPTY / -EBUSY when something is still there. */
int cg_remove_services(struct cg *cg);

/* OOM kills so far (v2 memory.events oom_kill, v1 memory.oom_control oom_kill). */
int cg_oom_kill_count(struct cg *cg, const char *path, uint64_t *ret);
/* An fd that becomes readable when an OOM kill may have happened; caller
 * owns it and re-reads cg_oom_kill_count(). v1: an eventfd registered via
 * cgroup.event_control (fires on cgroup removal too); v2: an inotify fd on
 * memory.events (IN_MODIFY). */
int cg_oom_watch(struct cg *cg, const char *path, int *ret_fd);

/* Every "services/<svc>" and "services/<svc>/<idx>" present in any
 * hierarchy, sorted (live restore: adopt or clean up leftovers). NULL-terminated. */
int cg_list(struct cg *cg, char ***ret);
/* Pids in the cgroup (and its descendants when recursive), sorted, unique. */
int cg_get_pids(struct cg *cg, const char *path, bool recursive, pid_t **ret, size_t *ret_n);

char **cg_strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, cg_strv_free);

/* Kubernetes' CPU conversions (pure). */
/* millicores → v1 cpu.shares: millis*1024/1000, clamped to [2, 262144]. */
uint64_t cg_cpu_shares_from_millis(uint64_t millis);
/* v1 shares → v2 cpu.weight: 1 + (shares-2)*9999/262142, shares clamped to [2, 262144]. */
uint64_t cg_cpu_weight_from_shares(uint64_t shares);
/* millicores → CFS quota in µs per 100 ms period: millis*100, at least 1000 (kernel minimum). */
uint64_t cg_cpu_quota_from_millis(uint64_t millis);
#define CG_CPU_PERIOD_USEC UINT64_C(100000)
