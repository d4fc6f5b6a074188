/* cgroup-internal.h: what the cgroup backends (cgroup-v1.c, cgroup-v2.c),
 * the common code (cgroup.c) and the unit tests share. berthd includes
 * cgroup.h only.
 *
 * The handle keeps one directory fd per hierarchy, opened on <parent> in
 * that hierarchy; every path the backends touch is relative to it
 * ("services/web/0/memory.max"), so pointing the handle at a tmpdir makes
 * the whole module testable without root. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"

/* Raw directory syscalls, replaceable by tests: a fake cgroupfs has to
 * populate a new directory with control files (the kernel does that on a
 * real one) and empty it before rmdir. Both return 0 or -errno. */
struct cg_fs_ops {
        int (*mkdirat)(int dirfd, const char *path, mode_t mode);
        int (*rmdirat)(int dirfd, const char *path);
};

#define CG_HIER_MAX 8

struct cg_hier {
        char *name;    /* "memory", "cpu,cpuacct", "unified": for debug logs */
        char *dir;     /* absolute path of <parent> in this hierarchy */
        int fd;        /* O_DIRECTORY fd of dir */
        unsigned mask; /* CG_MASK_* of the controllers living here */
        bool unified;  /* the cgroup2 tree (pure v2, or hybrid tracking) */
};

struct cg;

/* What differs between v1 and v2. path is always checked already. */
struct cg_backend {
        const char *name;
        /* After the hierarchies are open: delegation, services/. */
        int (*setup)(struct cg *cg, bool parent_is_own, pid_t self);
        /* After mkdir of an inner node (services/<svc>): enable controllers (v2). */
        int (*prepare_inner)(struct cg *cg, const char *path);
        int (*set_limits)(struct cg *cg, const char *path, const struct cg_limits *l, const char **ret_missing);
        int (*kill_all)(struct cg *cg, const char *path, int sig);
        int (*is_populated)(struct cg *cg, const char *path);
        int (*oom_kill_count)(struct cg *cg, const char *path, uint64_t *ret);
        int (*oom_watch)(struct cg *cg, const char *path, int *ret_fd);
};

struct cg {
        enum cg_mode mode;
        const struct cg_backend *backend;
        const struct cg_fs_ops *fs;
        struct cg_hier hier[CG_HIER_MAX];
        size_t n_hier;
        struct cg_hier *unified; /* the cgroup2 tree (pure v2 or hybrid), else NULL */
        unsigned mask;           /* CG_MASK_* usable */
};

extern const struct cg_backend cg_backend_v1;
extern const struct cg_backend cg_backend_v2;

/* cgroup-v1.c: libcgroup discovery, the one ECG* → -errno translation. */
int cg_errno_from_ecg(int ecg);
/* Fills cg->hier with the v1 hierarchies of memory, cpu, cpuacct, pids,
 * freezer that are mounted (explicit list, or libcgroup when v1 is NULL).
 * parent as in struct cg_options (already normalized, or NULL). */
int cg_v1_discover(struct cg *cg, const struct cg_v1_hierarchy *v1, size_t n_v1, const char *parent);

/* cgroup-v2.c: cgroup2 mechanics, used by the v1 backend for hybrid tracking too. */
int cg_v2_is_populated(const struct cg_hier *h, const char *path);
int cg_v2_kill(struct cg *cg, const struct cg_hier *h, const char *path, int sig);
int cg_v2_watch_file(const struct cg_hier *h, const char *path, const char *file, int *ret_fd);

/* cgroup.c: helpers over all hierarchies. */
/* Opens <mount><base> and adds it as a hierarchy; a second controller on
 * the same directory (co-mounted "cpu,cpuacct") joins the first. -ENOENT
 * when the directory does not exist. */
int cg_hier_add(struct cg *cg, const char *name, const char *mount, const char *base, unsigned mask, bool unified);
/* Collects pids of path in h (NULL = every hierarchy), union, sorted. */
int cg_collect_pids(struct cg *cg, const struct cg_hier *h, const char *path, bool recursive, pid_t **ret,
                    size_t *ret_n);
/* Sends sig to every pid found (h NULL = every hierarchy), again until no new pid shows up. */
int cg_signal_pids(struct cg *cg, const struct cg_hier *h, const char *path, int sig);

/* cgroup-util.c: file helpers relative to a directory fd (all -errno). */
int cg_fs_mkdirat(const struct cg_fs_ops *ops, int dirfd, const char *path, mode_t mode);
int cg_fs_rmdirat(const struct cg_fs_ops *ops, int dirfd, const char *path);
/* One write(2) of value (cgroupfs parses one write at a time); O_TRUNC, never O_CREAT. */
int cg_write_at(int dirfd, const char *path, const char *value);
int cg_writef_at(int dirfd, const char *path, const char *fmt, ...) _printf_(3, 4);
/* Whole file, NUL-terminated (cgroupfs reports size 0: reads until EOF). */
int cg_read_at(int dirfd, const char *path, char **ret);
/* "key value" lines (cgroup.events, memory.events, memory.oom_control). -ENODATA without key. */
int cg_read_key_at(int dirfd, const char *path, const char *key, uint64_t *ret);
/* Appends the pids of a cgroup.procs file to *pids. */
int cg_read_pids_at(int dirfd, const char *path, pid_t **pids, size_t *n);
void cg_pids_sort_unique(pid_t *pids, size_t *n);
int cg_pid_cmp(const void *a, const void *b);
/* "a" + "/" + "b" into buf; a may be "" ("b"); -ENAMETOOLONG. */
int cg_path_join(char *buf, size_t size, const char *a, const char *b);
/* 0 if path is "services/<name>[/<name>...]", each name cg_name_valid(); else -EINVAL. */
int cg_path_check(const char *path);
bool cg_name_valid(const char *name);
/* "/a//b/" → "/a/b"; "" and "/" → "/"; relative input keeps no leading '/'.
 * "." and ".." components → -EINVAL. */
int cg_path_normalize(const char *in, char **ret);
/* Our path for controller ("memory", "name=systemd"; NULL = the cgroup2 "0::" line)
 * in the text of /proc/<pid>/cgroup. -ENOENT when absent. */
int cg_parse_proc_cgroup(const char *content, const char *controller, char **ret);
int cg_read_proc_self_cgroup(const char *controller, char **ret);
/* Our subtree's path in one hierarchy: parent NULL → own; "/x" → "/x";
 * "x" → own + "/x"; normalized. */
int cg_base_path(const char *own, const char *parent, char **ret);
int cg_strv_push(char ***l, size_t *n, const char *s);
/* Writes <path>/<file> in h. A missing file is fine for a default value
 * (the kernel default is in place), -EOPNOTSUPP with *ret_missing = file
 * (a static string) otherwise. */
int cg_set_limit_file(const struct cg_hier *h, const char *path, const char *file, const char *value,
                      bool is_default, const char **ret_missing);
