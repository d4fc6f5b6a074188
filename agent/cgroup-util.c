/* cgroup-util.c: the mechanism below both cgroup backends: dirfd-relative
 * reads and writes of control files, path checks, /proc/self/cgroup
 * parsing. Every byte the backends read or write passes through here, which
 * is what lets the unit tests run them against a fake cgroupfs. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"

/* cgroup.procs of a large cgroup is the biggest file we read. */
#define CG_READ_MAX (16u * 1024u * 1024u)

int cg_fs_mkdirat(const struct cg_fs_ops *ops, int dirfd, const char *path, mode_t mode) {
        if (ops && ops->mkdirat)
                return ops->mkdirat(dirfd, path, mode);
        if (mkdirat(dirfd, path, mode) < 0)
                return negative_errno();
        return 0;
}

int cg_fs_rmdirat(const struct cg_fs_ops *ops, int dirfd, const char *path) {
        if (ops && ops->rmdirat)
                return ops->rmdirat(dirfd, path);
        if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0)
                return negative_errno();
        return 0;
}

int cg_write_at(int dirfd, const char *path, const char *value) {
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t n;

        /* No O_CREAT: a missing control file means a missing controller or
         * kernel feature, and must not turn into a regular file. */
        fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* cgroupfs parses each write(2) separately: exactly one call. */
        n = write(fd, value, len);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int cg_writef_at(int dirfd, const char *path, const char *fmt, ...) {
        char buf[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(buf))
                return -EINVAL;
        return cg_write_at(dirfd, path, buf);
}

int cg_read_at(int dirfd, const char *path, char **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                ssize_t n;

                if (alloc - size < 4097 && alloc < CG_READ_MAX + 1) {
                        size_t na = MIN(MAX(alloc * 2, (size_t) 4097), (size_t) CG_READ_MAX + 1);
                        char *nb = realloc(buf, na);

                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                if (alloc - size <= 1)
                        return -EFBIG;
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        } else
                buf[size] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int cg_read_key_at(int dirfd, const char *path, const char *key, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        size_t kl = strlen(key);
        int r;

        r = cg_read_at(dirfd, path, &s);
        if (r < 0)
                return r;
        for (char *line = s; line && *line;) {
                char *next = strchr(line, '\n');

                if (next)
                        *next++ = 0;
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
                        char *end;
                        unsigned long long v;

                        errno = 0;
                        v = strtoull(line + kl + 1, &end, 10);
                        if (errno != 0 || end == line + kl + 1 || (*end && !isspace((unsigned char) *end)))
                                return -EBADMSG;
                        *ret = v;
                        return 0;
                }
                line = next;
        }
        return -ENODATA;
}

int cg_read_pids_at(int dirfd, const char *path, pid_t **pids, size_t *n) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = cg_read_at(dirfd, path, &s);
        if (r < 0)
                return r;
        for (char *p = s; *p;) {
                char *end;
                long v;
                pid_t *np;

                while (*p == '\n' || *p == ' ')
                        p++;
                if (!*p)
                        break;
                errno = 0;
                v = strtol(p, &end, 10);
                if (errno != 0 || end == p || v <= 0 || v > INT_MAX || (*end && *end != '\n'))
                        return -EBADMSG;
                np = reallocarray(*pids, *n + 1, sizeof(pid_t));
                if (!np)
                        return -ENOMEM;
                *pids = np;
                (*pids)[(*n)++] = (pid_t) v;
                p = end;
        }
        return 0;
}

int cg_pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

void cg_pids_sort_unique(pid_t *pids, size_t *n) {
        size_t j = 0;

        if (*n == 0)
                return;
        qsort(pids, *n, sizeof(pid_t), cg_pid_cmp);
        for (size_t i = 1; i < *n; i++)
                if (pids[i] != pids[j])
                        pids[++j] = pids[i];
        *n = j + 1;
}

int cg_path_join(char *buf, size_t size, const char *a, const char *b) {
        int n;

        if (!a || !*a)
                n = snprintf(buf, size, "%s", b);
        else if (!b || !*b)
                n = snprintf(buf, size, "%s", a);
        else
                n = snprintf(buf, size, "%s/%s", a, b);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}

bool cg_name_valid(const char *name) {
        size_t n = 0;

        /* No '.': kernel files are "<controller>.<name>" or "cgroup.<name>",
         * so a name without a dot never clashes with one (systemd escapes
         * instead; our names are DNS labels and replica indexes). */
        for (const char *p = name; *p; p++, n++)
                if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_')
                        return false;
        return n >= 1 && n <= 64;
}

int cg_path_check(const char *path) {
        const char *p = path;
        unsigned depth = 0;

        if (!path || strncmp(path, "services/", 9) != 0)
                return -EINVAL;
        p += 9;
        for (;;) {
                char name[66];
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t) (slash - p) : strlen(p);

                if (len == 0 || len >= sizeof(name))
                        return -EINVAL;
                memcpy(name, p, len);
                name[len] = 0;
                if (!cg_name_valid(name))
                        return -EINVAL;
                if (++depth > 8)
                        return -EINVAL;
                if (!slash)
                        return 0;
                p = slash + 1;
        }
}

int cg_path_normalize(const char *in, char **ret) {
        _cleanup_free_ char *out = NULL;
        bool absolute = in[0] == '/';
        size_t o = 0, len = strlen(in);
        const char *p = in;

        out = malloc(len + 2);
        if (!out)
                return -ENOMEM;
        if (absolute)
                out[o++] = '/';
        while (*p) {
                size_t l;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                l = strcspn(p, "/");
                if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                if (o > 0 && out[o - 1] != '/')
                        out[o++] = '/';
                memcpy(out + o, p, l);
                o += l;
                p += l;
        }
        if (o == 0)
                out[o++] = '/'; /* "" means the root as well */
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int cg_parse_proc_cgroup(const char *content, const char *controller, char **ret) {
        size_t cl = controller ? strlen(controller) : 0;

        for (const char *line = content; line && *line;) {
                const char *eol = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t) (eol - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (eol - c1 - 1)) : NULL;

                if (c2) {
                        const char *ctrls = c1 + 1;
                        size_t n = (size_t) (c2 - ctrls);
                        bool match = false;

                        if (!controller)
                                match = n == 0;
                        else
                                /* "2:cpu,cpuacct:/x": compare each comma-separated name. */
                                for (const char *q = ctrls; q < c2;) {
                                        const char *comma = memchr(q, ',', (size_t) (c2 - q));
                                        const char *e = comma ? comma : c2;

                                        if ((size_t) (e - q) == cl && strncmp(q, controller, cl) == 0) {
                                                match = true;
                                                break;
                                        }
                                        q = e + 1;
                                }
                        if (match) {
                                char *s = strndup(c2 + 1, (size_t) (eol - c2 - 1));

                                if (!s)
                                        return -ENOMEM;
                                *ret = s;
                                return 0;
                        }
                }
                line = *eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

int cg_read_proc_self_cgroup(const char *controller, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = cg_read_at(AT_FDCWD, "/proc/self/cgroup", &s);
        if (r < 0)
                return r;
        return cg_parse_proc_cgroup(s, controller, ret);
}

int cg_strv_push(char ***l, size_t *n, const char *s) {
        char **nl;
        char *c;

        c = strdup(s);
        if (!c)
                return -ENOMEM;
        nl = reallocarray(*l, *n + 2, sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        nl[(*n)++] = c;
        nl[*n] = NULL;
        *l = nl;
        return 0;
}

char **cg_strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
        return NULL;
}

int cg_base_path(const char *own, const char *parent, char **ret) {
        _cleanup_free_ char *joined = NULL;

        if (!parent)
                return cg_path_normalize(own, ret);
        if (parent[0] == '/')
                return cg_path_normalize(parent, ret);
        if (asprintf(&joined, "%s/%s", own, parent) < 0)
                return -ENOMEM;
        return cg_path_normalize(joined, ret);
}

/* Writes one limit file. A missing file is fine for a default value (the
 * kernel default is in place), an error naming the file otherwise. */
int cg_set_limit_file(const struct cg_hier *h, const char *path, const char *file, const char *value, bool is_default,
                      const char **ret_missing) {
        char p[PATH_MAX];
        int r;

        r = cg_path_join(p, sizeof(p), path, file);
        if (r < 0)
                return r;
        r = cg_write_at(h->fd, p, value);
        if (r == -ENOENT && faccessat(h->fd, path, F_OK, 0) < 0)
                return -ENOENT; /* the cgroup itself is missing, not the file */
        if (r == -ENOENT && is_default)
                return 0;
        if (r == -ENOENT) {
                if (ret_missing)
                        *ret_missing = file;
                return log_debug_errno(EOPNOTSUPP, "cgroup: %s/%s is missing", h->dir, p);
        }
        if (r < 0)
                return log_debug_errno(r, "cgroup: write '%s' to %s/%s: %m", value, h->dir, p);
        return 0;
}
