/* cgroup.c: the cgroup module's public functions. Detection of the
 * cgroup mode, opening the backend (one directory fd per hierarchy on
 * <parent>), and everything that is the same for v1 and v2: creating and
 * removing a cgroup in every hierarchy, attaching, listing, collecting
 * pids. What differs (file names, delegation, kill, populated, OOM) is in
 * the backends, cgroup-v1.c and cgroup-v2.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"

#define CG_RECURSION_MAX 16

int cg_detect_mode(const char *root, enum cg_mode *ret) {
        char unified[PATH_MAX];
        struct statfs fs;
        int r;

        if (!root)
                root = CG_ROOT_DEFAULT;
        if (statfs(root, &fs) < 0)
                return negative_errno();
        if ((unsigned long) fs.f_type == (unsigned long) CGROUP2_SUPER_MAGIC) {
                *ret = CG_MODE_UNIFIED;
                return 0;
        }
        if ((unsigned long) fs.f_type != (unsigned long) TMPFS_MAGIC)
                return log_debug_errno(ENOMEDIUM, "%s is neither cgroup2 nor tmpfs (0x%lx)", root,
                                       (unsigned long) fs.f_type);

        /* tmpfs: v1, and hybrid when systemd mounted cgroup2 at unified/ (as crun checks). */
        r = cg_path_join(unified, sizeof(unified), root, "unified");
        if (r < 0)
                return r;
        if (statfs(unified, &fs) < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                *ret = CG_MODE_LEGACY;
                return 0;
        }
        *ret = (unsigned long) fs.f_type == (unsigned long) CGROUP2_SUPER_MAGIC ? CG_MODE_HYBRID : CG_MODE_LEGACY;
        return 0;
}

const char *cg_mode_to_string(enum cg_mode mode) {
        switch (mode) {
        case CG_MODE_AUTO:
                return "auto";
        case CG_MODE_UNIFIED:
                return "unified";
        case CG_MODE_HYBRID:
                return "hybrid";
        case CG_MODE_LEGACY:
                return "legacy";
        }
        return "unknown";
}

int cg_hier_add(struct cg *cg, const char *name, const char *mount, const char *base, unsigned mask, bool unified) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -1;
        struct cg_hier *h;

        if (streq(base, "/")) {
                dir = strdup(mount);
                if (!dir)
                        return -ENOMEM;
        } else if (asprintf(&dir, "%s%s", mount, base) < 0)
                return -ENOMEM;

        for (size_t i = 0; i < cg->n_hier; i++) {
                char *n;

                h = &cg->hier[i];
                if (h->unified || unified || !streq(h->dir, dir))
                        continue;
                /* co-mounted controllers ("cpu,cpuacct") share one directory */
                if (asprintf(&n, "%s,%s", h->name, name) < 0)
                        return -ENOMEM;
                free(h->name);
                h->name = n;
                h->mask |= mask;
                return 0;
        }
        if (cg->n_hier >= CG_HIER_MAX)
                return -E2BIG;

        fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_debug_errno(errno, "Cannot open cgroup directory %s: %m", dir);

        h = &cg->hier[cg->n_hier];
        *h = (struct cg_hier){ .fd = -1, .mask = mask, .unified = unified };
        h->name = strdup(name);
        if (!h->name)
                return -ENOMEM;
        h->dir = TAKE_PTR(dir);
        h->fd = TAKE_FD(fd);
        cg->n_hier++;
        return 0;
}

struct cg *cg_free(struct cg *cg) {
        if (!cg)
                return NULL;
        for (size_t i = 0; i < cg->n_hier; i++) {
                free(cg->hier[i].name);
                free(cg->hier[i].dir);
                safe_close(cg->hier[i].fd);
        }
        free(cg);
        return NULL;
}

/* Our cgroup on the cgroup2 tree, minus a "/supervisor" we moved into
 * earlier (a second open, or berthd re-executed itself). */
static int own_unified_path(const struct cg_options *o, bool strip_supervisor, char **ret) {
        _cleanup_free_ char *raw = NULL, *own = NULL;
        size_t n;
        int r;

        if (o->own_unified) {
                raw = strdup(o->own_unified);
                if (!raw)
                        return -ENOMEM;
        } else {
                r = cg_read_proc_self_cgroup(NULL, &raw);
                if (r < 0)
                        return log_debug_errno(r, "No cgroup2 entry in /proc/self/cgroup: %m");
        }
        r = cg_path_normalize(raw, &own);
        if (r < 0)
                return r;
        if (own[0] != '/')
                return -EINVAL;
        n = strlen(own);
        if (strip_supervisor && n >= 11 && streq(own + n - 11, "/supervisor"))
                own[n - 11 == 0 ? 1 : n - 11] = 0;
        *ret = TAKE_PTR(own);
        return 0;
}

int cg_open_with(const struct cg_options *o, struct cg **ret) {
        _cleanup_(cg_freep) struct cg *cg = NULL;
        _cleanup_free_ char *parent = NULL;
        const char *root = o->root ?: CG_ROOT_DEFAULT;
        bool parent_is_own = !o->parent;
        enum cg_mode mode = o->mode;
        int r;

        if (mode == CG_MODE_AUTO) {
                r = cg_detect_mode(root, &mode);
                if (r < 0)
                        return r;
        }
        if (o->parent) {
                r = cg_path_normalize(o->parent, &parent);
                if (r < 0)
                        return r;
        }

        cg = calloc(1, sizeof(*cg));
        if (!cg)
                return -ENOMEM;
        cg->mode = mode;
        cg->fs = o->fs_ops;

        if (mode == CG_MODE_HYBRID || mode == CG_MODE_LEGACY) {
                cg->backend = &cg_backend_v1;
                r = cg_v1_discover(cg, o->v1, o->n_v1, parent);
                if (r < 0)
                        return r;
        } else if (mode == CG_MODE_UNIFIED)
                cg->backend = &cg_backend_v2;
        else
                return -EINVAL;

        if (mode == CG_MODE_HYBRID || mode == CG_MODE_UNIFIED) {
                _cleanup_free_ char *own = NULL, *base = NULL, *mount = NULL;

                r = own_unified_path(o, mode == CG_MODE_UNIFIED, &own);
                if (r < 0)
                        return r;
                r = cg_base_path(own, parent, &base);
                if (r < 0)
                        return r;
                parent_is_own = streq(base, own);
                if (mode == CG_MODE_UNIFIED)
                        mount = strdup(root);
                else if (asprintf(&mount, "%s/unified", root) < 0)
                        mount = NULL;
                if (!mount)
                        return -ENOMEM;
                r = cg_hier_add(cg, "unified", mount, base, 0, true);
                if (r < 0)
                        return r;
                cg->unified = &cg->hier[cg->n_hier - 1];
        }

        r = cg->backend->setup(cg, parent_is_own, getpid());
        if (r < 0)
                return r;
        log_debug("cgroup: %s mode, %zu hierarchies, controllers 0x%x", cg_mode_to_string(mode), cg->n_hier,
                  cg->mask);
        *ret = TAKE_PTR(cg);
        return 0;
}

int cg_open(const char *root, const char *parent, struct cg **ret) {
        return cg_open_with(&(struct cg_options){ .root = root, .parent = parent }, ret);
}

enum cg_mode cg_get_mode(const struct cg *cg) {
        return cg->mode;
}

unsigned cg_get_controllers(const struct cg *cg) {
        return cg->mask;
}

int cg_service_path(const char *service, char **ret) {
        char *p;

        if (!service || !cg_name_valid(service))
                return -EINVAL;
        if (asprintf(&p, "services/%s", service) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int cg_replica_path(const char *service, unsigned index, char **ret) {
        char *p;

        if (!service || !cg_name_valid(service))
                return -EINVAL;
        if (asprintf(&p, "services/%s/%u", service, index) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int cg_check_limits(const struct cg *cg, const struct cg_limits *l, const char **ret_missing) {
        const char *missing = NULL;

        if ((l->memory_max || l->memory_low) && !(cg->mask & CG_MASK_MEMORY))
                missing = "memory";
        else if ((l->cpu_limit_millis || l->cpu_request_millis) && !(cg->mask & CG_MASK_CPU))
                missing = "cpu";
        else if (l->pids_max && !(cg->mask & CG_MASK_PIDS))
                missing = "pids";
        if (!missing)
                return 0;
        if (ret_missing)
                *ret_missing = missing;
        return log_debug_errno(EOPNOTSUPP, "cgroup: a limit needs the %s controller, which is not available",
                               missing);
}

/* Best effort: remove what cg_create() made before it failed: the leaf
 * where we made it, then the inner nodes we made (prefixes of path of the
 * given lengths), deepest first. */
static void create_rollback(struct cg *cg, const char *path, const bool *leaf_created, const size_t *inner_len,
                            size_t n_inner) {
        char p[PATH_MAX];

        for (size_t i = 0; i < cg->n_hier; i++)
                if (leaf_created[i])
                        (void) cg_fs_rmdirat(cg->fs, cg->hier[i].fd, path);
        for (size_t k = n_inner; k > 0; k--) {
                memcpy(p, path, inner_len[k - 1]);
                p[inner_len[k - 1]] = 0;
                for (size_t i = 0; i < cg->n_hier; i++)
                        (void) cg_fs_rmdirat(cg->fs, cg->hier[i].fd, p);
        }
}

int cg_create(struct cg *cg, const char *path, const struct cg_limits *limits, const char **ret_missing) {
        bool leaf_created[CG_HIER_MAX] = {}, existed = false;
        size_t inner_len[8], n_inner = 0;
        char node[PATH_MAX];
        int r;

        r = cg_path_check(path); /* also bounds depth (8) and length */
        if (r < 0)
                return r;
        r = cg_check_limits(cg, limits, ret_missing);
        if (r < 0)
                return r;

        /* Inner nodes below services/ ("services/web" of "services/web/0"). */
        for (const char *slash = strchr(path + 9, '/'); slash; slash = strchr(slash + 1, '/')) {
                size_t len = (size_t) (slash - path);
                bool made = false;

                if (len >= sizeof(node) || n_inner >= ELEMENTSOF(inner_len))
                        return -ENAMETOOLONG;
                memcpy(node, path, len);
                node[len] = 0;
                for (size_t i = 0; i < cg->n_hier; i++) {
                        r = cg_fs_mkdirat(cg->fs, cg->hier[i].fd, node, 0755);
                        if (r == 0)
                                made = true;
                        else if (r != -EEXIST) {
                                log_debug_errno(r, "cgroup: mkdir %s/%s: %m", cg->hier[i].dir, node);
                                goto fail;
                        }
                }
                if (made)
                        inner_len[n_inner++] = len;
                r = cg->backend->prepare_inner(cg, node);
                if (r < 0)
                        goto fail;
        }

        for (size_t i = 0; i < cg->n_hier; i++) {
                r = cg_fs_mkdirat(cg->fs, cg->hier[i].fd, path, 0755);
                if (r == 0)
                        leaf_created[i] = true;
                else if (r == -EEXIST)
                        existed = true;
                else {
                        log_debug_errno(r, "cgroup: mkdir %s/%s: %m", cg->hier[i].dir, path);
                        goto fail;
                }
        }
        if (existed) {
                r = cg->backend->is_populated(cg, path);
                if (r > 0)
                        r = log_debug_errno(EEXIST, "cgroup: %s exists and has processes", path);
                if (r < 0)
                        goto fail;
        }

        /* Limits before anyone can join: nobody knows the directory yet. */
        r = cg->backend->set_limits(cg, path, limits, ret_missing);
        if (r < 0)
                goto fail;
        return 0;

fail:
        create_rollback(cg, path, leaf_created, inner_len, n_inner);
        return r;
}

int cg_set_limits(struct cg *cg, const char *path, const struct cg_limits *limits, const char **ret_missing) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        r = cg_check_limits(cg, limits, ret_missing);
        if (r < 0)
                return r;
        return cg->backend->set_limits(cg, path, limits, ret_missing);
}

int cg_attach_pid(struct cg *cg, const char *path, pid_t pid) {
        char p[PATH_MAX];
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (pid <= 0)
                return -EINVAL;
        r = cg_path_join(p, sizeof(p), path, "cgroup.procs");
        if (r < 0)
                return r;
        /* cgroup.procs, never tasks: tasks moves a single thread (libcgroup's trap). */
        for (size_t i = 0; i < cg->n_hier; i++) {
                r = cg_writef_at(cg->hier[i].fd, p, "%d", (int) pid);
                if (r < 0)
                        return log_debug_errno(r, "cgroup: attach %d to %s/%s: %m", (int) pid, cg->hier[i].dir,
                                               path);
        }
        return 0;
}

int cg_procs_paths(struct cg *cg, const char *path, unsigned flags, char ***ret) {
        _cleanup_(cg_strv_freep) char **l = NULL;
        size_t n = 0;
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        /* v1 hierarchies first, the cgroup2 one last (added last by cg_open_with()). */
        for (size_t i = 0; i < cg->n_hier; i++) {
                char p[PATH_MAX];

                if (cg->hier[i].unified && (flags & CG_PROCS_SKIP_UNIFIED))
                        continue;
                if (snprintf(p, sizeof(p), "%s/%s/cgroup.procs", cg->hier[i].dir, path) >= (int) sizeof(p))
                        return -ENAMETOOLONG;
                r = cg_strv_push(&l, &n, p);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int cg_open_dirfd(struct cg *cg, const char *path, int *ret_fd) {
        int r, fd;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (!cg->unified)
                return -EOPNOTSUPP;
        fd = openat(cg->unified->fd, path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

bool cg_clone_into_is_complete(const struct cg *cg) {
        return cg->mode == CG_MODE_UNIFIED;
}

static int collect_hier(int hfd, const char *path, bool recursive, unsigned depth, pid_t **pids, size_t *n) {
        _cleanup_close_ int dfd = -1;
        char p[PATH_MAX];
        DIR *d;
        int r;

        r = cg_path_join(p, sizeof(p), path, "cgroup.procs");
        if (r < 0)
                return r;
        r = cg_read_pids_at(hfd, p, pids, n);
        if (r < 0 || !recursive)
                return r;
        if (depth >= CG_RECURSION_MAX)
                return -ELOOP;

        dfd = openat(hfd, path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        d = fdopendir(dfd);
        if (!d)
                return negative_errno();
        TAKE_FD(dfd);
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || !cg_name_valid(de->d_name))
                        continue;
                r = cg_path_join(p, sizeof(p), path, de->d_name);
                if (r >= 0)
                        r = collect_hier(hfd, p, true, depth + 1, pids, n);
                /* a child cgroup removed meanwhile is fine */
                if (r < 0 && r != -ENOENT) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

int cg_collect_pids(struct cg *cg, const struct cg_hier *h, const char *path, bool recursive, pid_t **ret,
                    size_t *ret_n) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, found = 0;
        int r;

        for (size_t i = 0; i < cg->n_hier; i++) {
                if (h && h != &cg->hier[i])
                        continue;
                r = collect_hier(cg->hier[i].fd, path, recursive, 0, &pids, &n);
                if (r == -ENOENT)
                        continue; /* not (or no longer) in this hierarchy */
                if (r < 0)
                        return r;
                found++;
        }
        if (found == 0)
                return -ENOENT;
        cg_pids_sort_unique(pids, &n);
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

int cg_signal_pids(struct cg *cg, const struct cg_hier *h, const char *path, int sig) {
        _cleanup_free_ pid_t *done = NULL;
        size_t n_done = 0;
        pid_t self = getpid();
        int ret = 0;

        /* Without a freezer, a process can fork between our read and our
         * kill: read again until a pass finds nobody new (bounded). */
        for (unsigned round = 0; round < 16; round++) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                bool fresh = false;
                int r;

                r = cg_collect_pids(cg, h, path, true, &pids, &n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        pid_t *nd;

                        if (pids[i] == self)
                                continue; /* never ourselves, whatever the files say */
                        if (n_done > 0 && bsearch(&pids[i], done, n_done, sizeof(pid_t), cg_pid_cmp))
                                continue;
                        if (kill(pids[i], sig) < 0 && errno != ESRCH && ret == 0)
                                ret = log_debug_errno(errno, "cgroup: kill(%d, %d): %m", (int) pids[i], sig);
                        nd = reallocarray(done, n_done + 1, sizeof(pid_t));
                        if (!nd)
                                return -ENOMEM;
                        done = nd;
                        done[n_done++] = pids[i];
                        cg_pids_sort_unique(done, &n_done);
                        fresh = true;
                }
                if (!fresh)
                        break;
        }
        return ret;
}

int cg_kill_all(struct cg *cg, const char *path, int sig) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (sig <= 0 || sig >= _NSIG)
                return -EINVAL;
        return cg->backend->kill_all(cg, path, sig);
}

int cg_is_populated(struct cg *cg, const char *path) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        return cg->backend->is_populated(cg, path);
}

int cg_watch_empty(struct cg *cg, const char *path, int *ret_fd) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (!cg->unified)
                return -EOPNOTSUPP;
        return cg_v2_watch_file(cg->unified, path, "cgroup.events", ret_fd);
}

int cg_events_path(struct cg *cg, const char *path, char **ret) {
        char *p;
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (!cg->unified)
                return -EOPNOTSUPP;
        if (asprintf(&p, "%s/%s/cgroup.events", cg->unified->dir, path) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int cg_remove(struct cg *cg, const char *path) {
        char parent[PATH_MAX];
        const char *slash;
        int r, ret = 0;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        r = cg->backend->is_populated(cg, path);
        if (r == -ENOENT)
                r = 0; /* gone in the tracking hierarchy; still sweep the others */
        if (r < 0)
                return r;
        if (r > 0)
                return log_debug_errno(EBUSY, "cgroup: %s still has processes", path);

        for (size_t i = 0; i < cg->n_hier; i++) {
                r = cg_fs_rmdirat(cg->fs, cg->hier[i].fd, path);
                if (r == -ENOENT)
                        r = 0;
                if (r < 0 && ret == 0)
                        ret = log_debug_errno(r, "cgroup: rmdir %s/%s: %m", cg->hier[i].dir, path);
                /* rmdir said yes; make sure (libcgroup's delete said yes on EBUSY too) */
                if (r == 0 && faccessat(cg->hier[i].fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 && ret == 0)
                        ret = log_debug_errno(EBUSY, "cgroup: %s/%s still there after rmdir", cg->hier[i].dir,
                                              path);
        }
        if (ret < 0)
                return ret;

        /* Then its services/<svc> node, unless a sibling replica is left. */
        slash = strrchr(path, '/');
        if ((size_t) (slash - path) >= sizeof(parent))
                return -ENAMETOOLONG;
        memcpy(parent, path, (size_t) (slash - path));
        parent[slash - path] = 0;
        if (streq(parent, "services") || strchr(parent + 9, '/'))
                return 0; /* a service node itself, or deeper than a replica: only path */
        for (size_t i = 0; i < cg->n_hier; i++) {
                r = cg_fs_rmdirat(cg->fs, cg->hier[i].fd, parent);
                if (r < 0 && r != -ENOTEMPTY && r != -EBUSY && r != -ENOENT)
                        return log_debug_errno(r, "cgroup: rmdir %s/%s: %m", cg->hier[i].dir, parent);
        }
        return 0;
}

int cg_remove_services(struct cg *cg) {
        int ret = 0;
        for (size_t i = 0; i < cg->n_hier; i++) {
                int r = cg_fs_rmdirat(cg->fs, cg->hier[i].fd, "services");
                if (r < 0 && r != -ENOENT && ret == 0)
                        ret = log_debug_errno(r, "cgroup: rmdir %s/services: %m", cg->hier[i].dir);
        }
        return ret;
}

int cg_oom_kill_count(struct cg *cg, const char *path, uint64_t *ret) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (!(cg->mask & CG_MASK_MEMORY))
                return -EOPNOTSUPP;
        return cg->backend->oom_kill_count(cg, path, ret);
}

int cg_oom_watch(struct cg *cg, const char *path, int *ret_fd) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        if (!(cg->mask & CG_MASK_MEMORY))
                return -EOPNOTSUPP;
        return cg->backend->oom_watch(cg, path, ret_fd);
}

static int list_dir(int hfd, const char *path, char ***l, size_t *n, bool recurse) {
        _cleanup_close_ int dfd = -1;
        DIR *d;
        int r = 0;

        dfd = openat(hfd, path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        d = fdopendir(dfd);
        if (!d)
                return negative_errno();
        TAKE_FD(dfd);
        for (struct dirent *de; (de = readdir(d));) {
                char p[PATH_MAX];

                if (de->d_type != DT_DIR || !cg_name_valid(de->d_name))
                        continue;
                r = cg_path_join(p, sizeof(p), path, de->d_name);
                if (r >= 0)
                        r = cg_strv_push(l, n, p);
                if (r >= 0 && recurse)
                        r = list_dir(hfd, p, l, n, false);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r < 0 ? r : 0;
}

static int str_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int cg_list(struct cg *cg, char ***ret) {
        _cleanup_(cg_strv_freep) char **l = NULL;
        size_t n = 0, j = 0;
        int r;

        /* Union over hierarchies: a leak may be left in some only. */
        for (size_t i = 0; i < cg->n_hier; i++) {
                r = list_dir(cg->hier[i].fd, "services", &l, &n, true);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        qsort(l, n, sizeof(char *), str_cmp);
        for (size_t i = 0; i < n; i++) {
                if (j > 0 && streq(l[i], l[j - 1]))
                        free(l[i]);
                else
                        l[j++] = l[i];
        }
        l[j] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}

int cg_get_pids(struct cg *cg, const char *path, bool recursive, pid_t **ret, size_t *ret_n) {
        int r;

        r = cg_path_check(path);
        if (r < 0)
                return r;
        /* the tracking tree when there is one, else the union of the v1 ones */
        return cg_collect_pids(cg, cg->unified, path, recursive, ret, ret_n);
}

uint64_t cg_cpu_shares_from_millis(uint64_t millis) {
        uint64_t shares;

        /* Kubernetes' MilliCPUToShares: shares = millis * 1024 / 1000, min 2, max 262144. */
        if (millis > UINT64_MAX / 1024)
                return 262144;
        shares = millis * 1024 / 1000;
        return shares < 2 ? 2 : shares > 262144 ? 262144 : shares;
}

uint64_t cg_cpu_weight_from_shares(uint64_t shares) {
        /* Kubernetes' CpuSharesToCpuWeight (the v1→v2 mapping runc and crun use). */
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + (shares - 2) * 9999 / 262142;
}

uint64_t cg_cpu_quota_from_millis(uint64_t millis) {
        /* MilliCPUToQuota: millis * period / 1000, with the kernel's 1 ms minimum. */
        if (millis > UINT64_MAX / 100)
                return UINT64_MAX / 100 * 100;
        return millis * 100 < 1000 ? 1000 : millis * 100;
}
