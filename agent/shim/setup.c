/* setup.c: what happens inside the replica's new namespaces before the
 * service runs, bubblewrap style: the spec is first turned into a list of
 * setup operations (setup_build: pure, no syscalls), which is then executed
 * in order (setup_execute); a failure names the operation that failed.
 *
 * The file system is assembled as bubblewrap does: a private tmpfs "base"
 * becomes the root, the host root stays reachable at /oldroot (so mount
 * sources are host paths), the replica root is assembled at /newroot, then
 * /newroot becomes "/" and the host is detached. Mounts use the new mount
 * API (open_tree/fsopen/fsmount/move_mount/mount_setattr, Linux >= 5.12) so
 * that every mount targets a file descriptor resolved inside the new root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loopback.h"
#include "shim.h"

#define BASE_DIR "/tmp" /* covered by our tmpfs only inside the new mount namespace */

enum op_kind {
        OP_JOIN_CGROUP,   /* a = cgroup.procs file, or a v2 directory with c = "cgroup.procs" */
        OP_UNSHARE_CGROUPNS,
        OP_HOSTNAME,      /* a = name */
        OP_LOOPBACK_UP,
        OP_MAKE_PRIVATE,  /* no mount event may propagate back to the host */
        OP_BASE,          /* tmpfs base becomes "/", host root at /oldroot */
        OP_BIND_ROOT,     /* a = host path: the replica's root at /newroot */
        OP_DETACH,        /* b = target: detach the root's own mounts there */
        OP_MOUNT_FS,      /* a = fs type, b = target, c = options "k=v,k=v" */
        OP_RO_REBIND,     /* b = target: bound over itself read-only */
        OP_DEV_NODE,      /* a = host device node, b = target */
        OP_MKDIR,         /* b = target */
        OP_SYMLINK,       /* a = link text, b = target */
        OP_BIND,          /* a = host source, b = target */
        OP_SWITCH_ROOT,   /* /newroot becomes "/", base and host root detached */
};

struct setup_op {
        enum op_kind kind;
        const char *a, *b, *c;
        uint64_t attr;  /* MOUNT_ATTR_* for the new mount */
        bool read_only;
        bool optional;  /* a missing target skips the op instead of failing */
};

struct op_list {
        struct setup_op *ops;
        size_t n, max;
};

static void add(struct op_list *l, struct setup_op op) {
        if (l->n < l->max)
                l->ops[l->n++] = op;
}

#define NOSUID_NODEV (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* Turns the spec into operations. The order is the order of execution. */
static void setup_build(const struct launch_spec *s, bool joined_v2, unsigned parts, struct op_list *l) {
        static const char *const dev_nodes[] = { "/dev/null", "/dev/zero", "/dev/full",
                                                 "/dev/random", "/dev/urandom", "/dev/tty" };
        static const char *const replaced[] = { "/proc", "/sys", "/dev", "/tmp", "/run" };
        static const char *const proc_ro[] = { "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus" };
        static const char *const dev_links[][2] = {
                { "pts/ptmx", "/dev/ptmx" },       { "/proc/self/fd", "/dev/fd" },
                { "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
                { "/proc/self/fd/2", "/dev/stderr" },
        };

        /* cgroups first: limits must apply before anything else runs (v1/hybrid paths;
         * the v2 directory too when CLONE_INTO_CGROUP was not possible). */
        if (parts & SETUP_CGROUPS) {
                for (char **p = s->cgroup_procs; p && *p; p++)
                        add(l, (struct setup_op) { .kind = OP_JOIN_CGROUP, .a = *p });
                if (s->cgroup_v2_dir && !joined_v2)
                        add(l, (struct setup_op) { .kind = OP_JOIN_CGROUP, .a = s->cgroup_v2_dir, .c = "cgroup.procs" });
        }
        if (parts & SETUP_IDENTITY) {
                /* A cgroup namespace is rooted where its creator is at creation
                 * time: so it is created here, after joining, not by clone(). */
                if (s->clone_flags & CLONE_NEWCGROUP)
                        add(l, (struct setup_op) { .kind = OP_UNSHARE_CGROUPNS });
                if ((s->clone_flags & CLONE_NEWUTS) && s->hostname)
                        add(l, (struct setup_op) { .kind = OP_HOSTNAME, .a = s->hostname });
                if (s->net_none && (s->clone_flags & CLONE_NEWNET))
                        add(l, (struct setup_op) { .kind = OP_LOOPBACK_UP });
        }
        if (!(parts & SETUP_FS) || !(s->clone_flags & CLONE_NEWNS))
                return;

        add(l, (struct setup_op) { .kind = OP_MAKE_PRIVATE });
        add(l, (struct setup_op) { .kind = OP_BASE });
        add(l, (struct setup_op) { .kind = OP_BIND_ROOT, .a = s->rootfs ? s->rootfs : "/",
                                   .read_only = s->read_only_root });
        /* Security: the root's own /proc, /sys, /dev, /tmp, /run mounts (the
         * host's, with the host root) are detached, not merely covered: a
         * replica given CAP_SYS_ADMIN could otherwise unmount ours and reach
         * the host's block devices, cgroupfs or /run sockets. */
        for (size_t i = 0; i < ELEMENTSOF(replaced); i++)
                add(l, (struct setup_op) { .kind = OP_DETACH, .b = replaced[i] });

        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "proc", .b = "/proc",
                                   .attr = NOSUID_NODEV | MOUNT_ATTR_NOEXEC });
        /* Security: like Docker, the kernel knobs under /proc that are not
         * namespaced stay read-only even for a root service. */
        for (size_t i = 0; i < ELEMENTSOF(proc_ro); i++)
                add(l, (struct setup_op) { .kind = OP_RO_REBIND, .b = proc_ro[i], .optional = true });
        /* A fresh sysfs (showing this netns), read-only: the host's /sys would
         * expose a writable cgroupfs through which a root service could leave
         * its cgroup. */
        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "sysfs", .b = "/sys", .optional = true,
                                   .attr = NOSUID_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY });

        /* Minimal /dev: only harmless character devices from the host, never
         * its block devices. The tmpfs itself is nodev: a node the service
         * creates there (CAP_MKNOD is in Docker's default set, and there is no
         * devices cgroup) cannot be opened; the host nodes bound below are
         * mounts of their own and keep working. */
        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "tmpfs", .b = "/dev", .c = "mode=0755,size=64k",
                                   .attr = NOSUID_NODEV | MOUNT_ATTR_NOEXEC });
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) /* host node a bound at the same path */
                add(l, (struct setup_op) { .kind = OP_DEV_NODE, .a = dev_nodes[i], .b = dev_nodes[i] });
        add(l, (struct setup_op) { .kind = OP_MKDIR, .b = "/dev/pts" });
        /* Each devpts mount is a new instance since Linux 4.7 ("newinstance"). */
        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "devpts", .b = "/dev/pts",
                                   .c = "ptmxmode=0666,mode=0620", .attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC });
        add(l, (struct setup_op) { .kind = OP_MKDIR, .b = "/dev/shm" });
        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "tmpfs", .b = "/dev/shm", .c = "mode=1777",
                                   .attr = NOSUID_NODEV });
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                add(l, (struct setup_op) { .kind = OP_SYMLINK, .a = dev_links[i][0], .b = dev_links[i][1] });

        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "tmpfs", .b = "/tmp", .c = "mode=1777",
                                   .attr = NOSUID_NODEV });
        add(l, (struct setup_op) { .kind = OP_MOUNT_FS, .a = "tmpfs", .b = "/run", .c = "mode=0755",
                                   .attr = NOSUID_NODEV });
        for (size_t i = 0; i < s->n_mounts; i++)
                add(l, (struct setup_op) { .kind = OP_BIND, .a = s->mounts[i].source, .b = s->mounts[i].target,
                                           .read_only = s->mounts[i].read_only });
        add(l, (struct setup_op) { .kind = OP_SWITCH_ROOT });
}

/* ------------------------------------------------------------ execution */

struct exec_ctx {
        int report_fd;
        int root_fd; /* /newroot, once bound */
};

static int openat2_raw(int dfd, const char *path, uint64_t flags, uint64_t resolve) {
        struct open_how how = { .flags = flags, .resolve = resolve };
        int fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* Opens (O_PATH) an absolute path of the new root, resolving symlinks as if
 * /newroot were "/": a symlink in an image ("data -> /oldroot/etc", "../..")
 * cannot lead a mount out of the replica's root. With create, missing
 * components are created (directories; the last one an empty file when
 * as_file), which fails with EROFS in a read-only root: intended, we never
 * write into a root that is meant to be read-only. */
static int open_in_root(int root_fd, const char *path, bool create, bool as_file) {
        const uint64_t res = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        char prefix[PATH_MAX];
        size_t len = strlen(path);
        int fd;

        fd = openat2_raw(root_fd, path, O_PATH | O_CLOEXEC, res);
        if (fd != -ENOENT || !create)
                return fd;
        if (len >= sizeof prefix)
                return -ENAMETOOLONG;

        /* Mostly only the last component is missing (a node or directory in
         * the fresh /dev): its parent first, the walk below otherwise. */
        const char *slash = strrchr(path, '/');
        if (slash && slash[1] && strlen(slash + 1) <= NAME_MAX) {
                _cleanup_close_ int parent = -1;

                memcpy(prefix, path, (size_t) (slash - path));
                prefix[slash - path] = 0;
                parent = openat2_raw(root_fd, prefix[0] ? prefix : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, res);
                if (parent >= 0) {
                        if (as_file) {
                                int f = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (f < 0)
                                        return -errno;
                                safe_close(f);
                        } else if (mkdirat(parent, slash + 1, 0755) < 0)
                                return -errno;
                        return openat2_raw(root_fd, path, O_PATH | O_CLOEXEC, res);
                }
                if (parent != -ENOENT)
                        return parent;
        }

        /* Walk the components left to right; create the first missing ones. */
        for (size_t start = 0; start < len;) {
                size_t end;
                bool last;

                while (path[start] == '/')
                        start++;
                if (start >= len)
                        break;
                end = start + strcspn(path + start, "/");
                last = path[end + strspn(path + end, "/")] == 0;
                memcpy(prefix, path, end);
                prefix[end] = 0;
                fd = openat2_raw(root_fd, prefix, O_PATH | O_CLOEXEC, res);
                if (fd >= 0)
                        safe_close(fd);
                else if (fd != -ENOENT)
                        return fd;
                else {
                        _cleanup_close_ int parent = -1;
                        char name[NAME_MAX + 1];

                        if (end - start > NAME_MAX)
                                return -ENAMETOOLONG;
                        prefix[start] = 0;
                        parent = openat2_raw(root_fd, start > 0 ? prefix : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, res);
                        if (parent < 0)
                                return parent;
                        memcpy(name, path + start, end - start);
                        name[end - start] = 0;
                        if (last && as_file) {
                                int f = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (f < 0)
                                        return -errno;
                                safe_close(f);
                        } else if (mkdirat(parent, name, 0755) < 0)
                                return -errno;
                }
                start = end;
        }
        return openat2_raw(root_fd, path, O_PATH | O_CLOEXEC, res);
}

static int attach(int mnt_fd, int target_fd) {
        if (move_mount(mnt_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

static int set_ro(int mnt_fd, bool recursive) {
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
                return -errno;
        return 0;
}

/* A detached copy of a host tree (recursive), read-only before anyone can
 * see it when asked: the replica never sees a writable moment. */
static int clone_tree(int dfd, const char *path, bool recursive, bool read_only) {
        int fd = open_tree(dfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
        int r;

        if (fd < 0)
                return -errno;
        if (read_only) {
                r = set_ro(fd, recursive);
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
        }
        return fd;
}

static int new_fs(const char *type, const char *options, uint64_t attr) {
        _cleanup_close_ int fs = -1;
        char opts[128];
        char *save = NULL;
        int m;

        fs = fsopen(type, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        snprintf(opts, sizeof opts, "%s", options ? options : "");
        for (char *kv = strtok_r(opts, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                if (!eq)
                        return -EINVAL;
                *eq = 0;
                if (fsconfig(fs, FSCONFIG_SET_STRING, kv, eq + 1, 0) < 0)
                        return -errno;
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        m = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned) attr);
        return m < 0 ? -errno : m;
}

static char *host_path(const char *path, char *buf, size_t size) {
        snprintf(buf, size, "/oldroot%s", strcmp(path, "/") == 0 ? "" : path);
        return buf;
}

static int exec_base(void) {
        /* Our tmpfs over BASE_DIR, in this mount namespace only. After the
         * pivot, the host root (with BASE_DIR uncovered) is at /oldroot. */
        if (mount("berth-base", BASE_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
                return -errno;
        if (chdir(BASE_DIR) < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
                return -errno;
        if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
                return -errno;
        return chdir("/") < 0 ? -errno : 0;
}

static int exec_switch_root(void) {
        if (umount2("/oldroot", MNT_DETACH) < 0)
                return -errno;
        if (chdir("/newroot") < 0)
                return -errno;
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching "." then leaves only the new root (as runc does). */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return -errno;
        if (umount2(".", MNT_DETACH) < 0)
                return -errno;
        return chdir("/") < 0 ? -errno : 0;
}

int write_string_file(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, s, strlen(s));
        if (n < 0)
                return -errno;
        return (size_t) n == strlen(s) ? 0 : -EIO;
}

static int exec_op(struct exec_ctx *x, const struct setup_op *op) {
        char hp[PATH_MAX + 16];
        _cleanup_close_ int target = -1, mnt = -1;
        struct stat st;
        int r;

        switch (op->kind) {
        case OP_JOIN_CGROUP: {
                /* "0" means the writing process (its pid would be 1 in the new pidns). */
                if (op->c) {
                        snprintf(hp, sizeof hp, "%s/%s", op->a, op->c);
                        return write_string_file(hp, "0");
                }
                return write_string_file(op->a, "0");
        }
        case OP_UNSHARE_CGROUPNS:
                return unshare(CLONE_NEWCGROUP) < 0 ? -errno : 0;
        case OP_HOSTNAME:
                return sethostname(op->a, strlen(op->a)) < 0 ? -errno : 0;
        case OP_LOOPBACK_UP:
                return net_loopback_up();
        case OP_MAKE_PRIVATE:
                return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ? -errno : 0;
        case OP_BASE:
                return exec_base();
        case OP_BIND_ROOT:
                mnt = clone_tree(AT_FDCWD, host_path(op->a, hp, sizeof hp), true, op->read_only);
                if (mnt < 0)
                        return mnt;
                target = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (target < 0)
                        return -errno;
                r = attach(mnt, target);
                if (r < 0)
                        return r;
                x->root_fd = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
                return x->root_fd < 0 ? -errno : 0;
        case OP_DETACH:
                /* Only a real directory: a symlink is left to the in-root resolution later. */
                if (fstatat(x->root_fd, op->b + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        return 0;
                snprintf(hp, sizeof hp, "/newroot%s", op->b);
                /* Mounts may be stacked; EINVAL: no (more) mount point there. */
                for (int i = 0; i < 64; i++)
                        if (umount2(hp, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                                return errno == EINVAL ? 0 : -errno;
                return -ELOOP;
        case OP_MOUNT_FS:
                target = open_in_root(x->root_fd, op->b, false, false);
                if (target < 0)
                        return op->optional && target == -ENOENT ? 0 : target;
                mnt = new_fs(op->a, op->c, op->attr);
                return mnt < 0 ? mnt : attach(mnt, target);
        case OP_RO_REBIND:
                target = open_in_root(x->root_fd, op->b, false, false);
                if (target < 0)
                        return op->optional && target == -ENOENT ? 0 : target;
                mnt = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
                if (mnt < 0)
                        return -errno;
                r = set_ro(mnt, true);
                return r < 0 ? r : attach(mnt, target);
        case OP_DEV_NODE:
                target = open_in_root(x->root_fd, op->b, true, true);
                if (target < 0)
                        return target;
                mnt = clone_tree(AT_FDCWD, host_path(op->a, hp, sizeof hp), false, false);
                return mnt < 0 ? mnt : attach(mnt, target);
        case OP_MKDIR:
                target = open_in_root(x->root_fd, op->b, true, false);
                return target < 0 ? target : 0;
        case OP_SYMLINK: {
                _cleanup_close_ int dev = open_in_root(x->root_fd, "/dev", false, false);
                if (dev < 0)
                        return dev;
                /* All our links live directly in the fresh /dev tmpfs. */
                return symlinkat(op->a, dev, strrchr(op->b, '/') + 1) < 0 ? -errno : 0;
        }
        case OP_BIND:
                host_path(op->a, hp, sizeof hp);
                if (stat(hp, &st) < 0)
                        return -errno;
                target = open_in_root(x->root_fd, op->b, true, !S_ISDIR(st.st_mode));
                if (target < 0)
                        return target;
                mnt = clone_tree(AT_FDCWD, hp, true, op->read_only);
                return mnt < 0 ? mnt : attach(mnt, target);
        case OP_SWITCH_ROOT:
                return exec_switch_root();
        }
        return -EINVAL;
}

/* One clear line saying what failed, for berthd's status and the user. */
static void report_op_failure(const struct setup_op *op, int r, int fd) {
        const char *err = strerror(-r);

        switch (op->kind) {
        case OP_JOIN_CGROUP:
                report_errorf(fd, "join cgroup %s: %s", op->a, err);
                break;
        case OP_UNSHARE_CGROUPNS:
                report_errorf(fd, "create cgroup namespace: %s", err);
                break;
        case OP_HOSTNAME:
                report_errorf(fd, "set hostname %s: %s", op->a, err);
                break;
        case OP_LOOPBACK_UP:
                report_errorf(fd, "bring up loopback: %s", err);
                break;
        case OP_MAKE_PRIVATE:
        case OP_BASE:
        case OP_SWITCH_ROOT:
                report_errorf(fd, "set up mount namespace: %s", err);
                break;
        case OP_BIND_ROOT:
                report_errorf(fd, "mount root %s: %s", op->a, err);
                break;
        case OP_MOUNT_FS:
                report_errorf(fd, "mount %s on %s: %s%s", op->a, op->b, err,
                              r == -ENOENT ? " (missing in the root)" : "");
                break;
        case OP_BIND:
                report_errorf(fd, "mount %s: %s (source %s%s)", op->b, err, op->a,
                              r == -EROFS ? "; the target does not exist in the read-only root" : "");
                break;
        default:
                report_errorf(fd, "set up %s: %s", op->b, err);
                break;
        }
}

int setup_run(const struct launch_spec *spec, bool joined_v2, unsigned parts, int report_fd) {
        size_t max = 64 + spec->n_mounts + (spec->cgroup_procs ? LAUNCH_LIST_MAX : 0);
        struct op_list l = { .max = max };
        struct exec_ctx x = { .report_fd = report_fd, .root_fd = -1 };
        int r = 0;

        /* This is the clone of the shim: nothing here is freed, it execs or dies soon. */
        l.ops = calloc(max, sizeof *l.ops);
        if (!l.ops) {
                report_errorf(report_fd, "set up replica: %s", strerror(ENOMEM));
                return -ENOMEM;
        }
        setup_build(spec, joined_v2, parts, &l);
        for (size_t i = 0; i < l.n; i++) {
                r = exec_op(&x, &l.ops[i]);
                if (r < 0) {
                        report_op_failure(&l.ops[i], r, report_fd);
                        break;
                }
        }
        safe_close(x.root_fd);
        return r;
}
