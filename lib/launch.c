/* launch.c: the launch spec and its file format (see launch.h).
 *
 * Writer: one "key value..." line per field, list fields as repeated keys,
 * every value token %-escaped so it holds no space, control byte or newline;
 * the file ends with an "end" line so a truncated file is detected even when
 * it was cut at a line boundary. Reader: strict and bounded (file size, list
 * lengths); any deviation is -EBADMSG, never a crash or a partial spec.
 *
 * libc only: shared by berthd and berth-shim. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "replace.h"
#include "macro.h"

static_assert(LAUNCH_NS_ALL == (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                CLONE_NEWPID | CLONE_NEWNET),
              "LAUNCH_NS_ALL must match the clone flags");

static const struct {
        const char *name;
        uint64_t flag;
} ns_names[] = {
        { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },  { "uts", CLONE_NEWUTS },
        { "ipc", CLONE_NEWIPC }, { "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP },
};

static const char *const log_driver_names[] = {
        [LAUNCH_LOG_FILE] = "file",
        [LAUNCH_LOG_JOURNALD] = "journald",
};

/* ------------------------------------------------------------ small helpers */

static bool must_escape(unsigned char c) {
        return c <= ' ' || c == 0x7f || c == '%';
}

int launch_escape(const char *s, char *buf, size_t size) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                size_t need = must_escape(*p) ? 3 : 1;
                if (n + need >= size)
                        return -ENOBUFS;
                if (need == 3) {
                        buf[n++] = '%';
                        buf[n++] = hex[*p >> 4];
                        buf[n++] = hex[*p & 15];
                } else
                        buf[n++] = (char) *p;
        }
        if (size == 0)
                return -ENOBUFS;
        buf[n] = 0;
        return (int) n;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int launch_unescape(const char *s, size_t n, char *buf, size_t size) {
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '%') {
                        int hi, lo;
                        if (i + 2 >= n)
                                return -EBADMSG;
                        hi = unhex(s[i + 1]);
                        lo = unhex(s[i + 2]);
                        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                                return -EBADMSG; /* bad escape, or an escaped NUL */
                        c = (unsigned char) (hi << 4 | lo);
                        i += 2;
                } else if (must_escape(c))
                        return -EBADMSG; /* raw space/control byte: not our writer */
                if (o + 1 >= size)
                        return -ENOBUFS;
                buf[o++] = (char) c;
        }
        if (size == 0)
                return -ENOBUFS;
        buf[o] = 0;
        return (int) o;
}

int launch_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 20)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                if (v > (UINT64_MAX - (uint64_t) (s[i] - '0')) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int fsync_parent_dir(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -1;
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                strcpy(dir, ".");
        else if (slash == dir)
                dir[1] = 0;
        else
                *slash = 0;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int launch_write_atomic(const char *path, const void *data, size_t size, bool sync) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *p = data;
        int r;

        if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return -ENOMEM;
        /* mkostemp creates the file 0600: specs hold the environment (secrets). */
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += n;
                size -= (size_t) n;
        }
        if (sync && fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        r = sync ? (rename(tmp, path) < 0 ? -errno : 0) : rename_replace(tmp, path);
        if (r < 0)
                goto fail;
        return sync ? fsync_parent_dir(path) : 0;
fail:
        (void) unlink(tmp);
        return r;
}

/* ------------------------------------------------------------ spec lifecycle */

static void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

void launch_spec_init(struct launch_spec *s) {
        *s = (struct launch_spec) {
                .caps_keep = LAUNCH_CAPS_DEFAULT,
                .no_new_privs = true,
                .stop_signal = SIGTERM,
                .log_max_size = LAUNCH_LOG_MAX_SIZE_DEFAULT,
                .log_max_files = LAUNCH_LOG_MAX_FILES_DEFAULT,
        };
}

void launch_spec_done(struct launch_spec *s) {
        if (!s)
                return;
        free(s->id);
        free(s->hostname);
        free(s->rootfs);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].source);
                free(s->mounts[i].target);
        }
        free(s->mounts);
        strv_free(s->argv);
        strv_free(s->env);
        free(s->cwd);
        free(s->groups);
        strv_free(s->cgroup_procs);
        free(s->cgroup_v2_dir);
        free(s->log_dir);
        free(s->status_path);
        free(s->socket_path);
        strv_free(s->listen_fd_names);
        launch_spec_init(s);
}

struct launch_spec *launch_spec_free(struct launch_spec *s) {
        launch_spec_done(s);
        free(s);
        return NULL;
}

static size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

size_t launch_spec_n_listen_fds(const struct launch_spec *s) {
        return strv_length(s->listen_fd_names);
}

static_assert(LAUNCH_STANDBY_NS == (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID), "standby namespaces");

void launch_standby_template(struct launch_spec *s) {
        launch_spec_init(s);
        s->clone_flags = LAUNCH_STANDBY_NS;
        s->read_only_root = true;
}

bool launch_spec_fits_standby(const struct launch_spec *s) {
        return (s->clone_flags & ~(uint64_t) CLONE_NEWCGROUP) == LAUNCH_STANDBY_NS && !s->net_none &&
               !s->rootfs && s->read_only_root && s->n_mounts == 0;
}

static bool path_ok(const char *p) {
        return p && p[0] == '/' && strlen(p) < PATH_MAX;
}

int launch_spec_validate(const struct launch_spec *s) {
        if (!s->id || !s->id[0] || !s->argv || !s->argv[0] || !s->argv[0][0])
                return -EINVAL;
        if (!path_ok(s->log_dir) || !path_ok(s->status_path) || !path_ok(s->socket_path))
                return -EINVAL;
        if ((s->log_driver != LAUNCH_LOG_FILE && s->log_driver != LAUNCH_LOG_JOURNALD) || s->log_max_size == 0 ||
            s->log_max_files == 0)
                return -EINVAL;
        if (s->clone_flags & ~LAUNCH_NS_ALL)
                return -EINVAL;
        if (s->net_none && !(s->clone_flags & CLONE_NEWNET))
                return -EINVAL;
        /* Mounts need a mount namespace, or they would land on the host. */
        if ((s->rootfs || s->n_mounts > 0 || s->read_only_root) && !(s->clone_flags & CLONE_NEWNS))
                return -EINVAL;
        if (s->rootfs && !path_ok(s->rootfs))
                return -EINVAL;
        if (s->cwd && !path_ok(s->cwd))
                return -EINVAL;
        if (s->cgroup_v2_dir && !path_ok(s->cgroup_v2_dir))
                return -EINVAL;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (!path_ok(s->mounts[i].source) || !path_ok(s->mounts[i].target))
                        return -EINVAL;
        for (char **p = s->cgroup_procs; p && *p; p++)
                if (!path_ok(*p))
                        return -EINVAL;
        /* LISTEN_FDNAMES joins the names with ':' (sd_listen_fds_with_names(3)) */
        for (char **p = s->listen_fd_names; p && *p; p++)
                if (!(*p)[0] || strlen(*p) > 255 || strchr(*p, ':'))
                        return -EINVAL;
        if (s->stop_signal <= 0 || s->stop_signal >= 65)
                return -EINVAL;
        if (s->uid == (uid_t) -1 || s->gid == (gid_t) -1)
                return -EINVAL;
        if (s->n_mounts > LAUNCH_LIST_MAX || s->n_groups > LAUNCH_LIST_MAX ||
            strv_length(s->argv) > LAUNCH_LIST_MAX || strv_length(s->env) > LAUNCH_LIST_MAX ||
            strv_length(s->cgroup_procs) > LAUNCH_LIST_MAX ||
            strv_length(s->listen_fd_names) > 64 /* SHIM_FDS_MAX */)
                return -EINVAL;
        return 0;
}

/* ------------------------------------------------------------ writer */

struct out {
        char *buf;
        size_t len, cap;
        int error;
};

static void out_raw(struct out *o, const char *s, size_t n) {
        if (o->error)
                return;
        if (o->len + n + 1 > o->cap) {
                size_t cap = MAX(o->cap * 2, o->len + n + 1 + 1024);
                char *b;
                if (cap > LAUNCH_FILE_MAX) {
                        o->error = -E2BIG;
                        return;
                }
                b = realloc(o->buf, cap);
                if (!b) {
                        o->error = -ENOMEM;
                        return;
                }
                o->buf = b;
                o->cap = cap;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        o->buf[o->len] = 0;
}

static void out_str(struct out *o, const char *s) {
        out_raw(o, s, strlen(s));
}

static void out_token(struct out *o, const char *s) {
        size_t size = strlen(s) * 3 + 1;
        _cleanup_free_ char *e = malloc(size);
        if (!e) {
                o->error = -ENOMEM;
                return;
        }
        (void) launch_escape(s, e, size);
        out_str(o, " ");
        out_str(o, e);
}

static void out_kv(struct out *o, const char *key, const char *value) {
        if (!value)
                return;
        out_str(o, key);
        out_token(o, value);
        out_str(o, "\n");
}

static void out_num(struct out *o, const char *key, uint64_t v, bool hex) {
        char b[64];
        snprintf(b, sizeof b, hex ? "%s 0x%" PRIx64 "\n" : "%s %" PRIu64 "\n", key, v);
        out_str(o, b);
}

static void out_list(struct out *o, const char *key, char *const *l) {
        for (size_t i = 0; l && l[i]; i++)
                out_kv(o, key, l[i]);
}

int launch_spec_format(const struct launch_spec *s, char **ret, size_t *ret_size) {
        struct out o = {};
        int r;

        r = launch_spec_validate(s);
        if (r < 0)
                return r;

        out_str(&o, LAUNCH_FORMAT_HEADER "\n");
        out_kv(&o, "id", s->id);
        out_kv(&o, "hostname", s->hostname);
        out_str(&o, "namespaces");
        for (size_t i = 0; i < ELEMENTSOF(ns_names); i++)
                if (s->clone_flags & ns_names[i].flag)
                        out_token(&o, ns_names[i].name);
        out_str(&o, "\n");
        out_num(&o, "net_none", s->net_none, false);
        out_kv(&o, "rootfs", s->rootfs);
        out_num(&o, "read_only_root", s->read_only_root, false);
        for (size_t i = 0; i < s->n_mounts; i++) {
                out_str(&o, "mount");
                out_token(&o, s->mounts[i].read_only ? "ro" : "rw");
                out_token(&o, s->mounts[i].source);
                out_token(&o, s->mounts[i].target);
                out_str(&o, "\n");
        }
        out_list(&o, "arg", s->argv);
        out_list(&o, "env", s->env);
        out_kv(&o, "cwd", s->cwd);
        out_num(&o, "uid", s->uid, false);
        out_num(&o, "gid", s->gid, false);
        for (size_t i = 0; i < s->n_groups; i++)
                out_num(&o, "group", s->groups[i], false);
        out_num(&o, "caps", s->caps_keep, true);
        out_num(&o, "no_new_privs", s->no_new_privs, false);
        out_num(&o, "stop_signal", (uint64_t) s->stop_signal, false);
        out_list(&o, "cgroup_procs", s->cgroup_procs);
        out_kv(&o, "cgroup_v2_dir", s->cgroup_v2_dir);
        out_kv(&o, "log_dir", s->log_dir);
        out_kv(&o, "log_driver", log_driver_names[s->log_driver]);
        out_num(&o, "log_max_size", s->log_max_size, false);
        out_num(&o, "log_max_files", s->log_max_files, false);
        out_kv(&o, "status_path", s->status_path);
        out_kv(&o, "socket_path", s->socket_path);
        out_list(&o, "listen_fd_name", s->listen_fd_names);
        out_str(&o, "end\n");

        if (o.error) {
                free(o.buf);
                return o.error;
        }
        *ret = o.buf;
        if (ret_size)
                *ret_size = o.len;
        return 0;
}

int launch_spec_write(const struct launch_spec *s, const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = launch_spec_format(s, &data, &size);
        if (r < 0)
                return r;
        /* atomic, not fsync'd here: berthd syncs its state directory once
         * per event-loop turn, off the start path (see state.h) */
        return launch_write_atomic(path, data, size, false);
}

/* ------------------------------------------------------------ reader */

enum field_type { F_STR, F_BOOL, F_UINT, F_U64, F_HEX, F_STRV, F_GROUP, F_MOUNT, F_NS, F_SIGNAL, F_LOG_DRIVER };

/* required: the writer always emits the field, so a file without it is corrupt
 * (a silently missing "caps" line must not mean "no capabilities decided"). */
static const struct field {
        const char *key;
        enum field_type type;
        size_t offset;
        bool required;
} fields[] = {
#define FIELD(k, t, m, req) { k, t, offsetof(struct launch_spec, m), req }
        FIELD("id", F_STR, id, true),
        FIELD("hostname", F_STR, hostname, false),
        FIELD("namespaces", F_NS, clone_flags, true),
        FIELD("net_none", F_BOOL, net_none, true),
        FIELD("rootfs", F_STR, rootfs, false),
        FIELD("read_only_root", F_BOOL, read_only_root, true),
        FIELD("mount", F_MOUNT, mounts, false),
        FIELD("arg", F_STRV, argv, true),
        FIELD("env", F_STRV, env, false),
        FIELD("cwd", F_STR, cwd, false),
        FIELD("uid", F_UINT, uid, true),
        FIELD("gid", F_UINT, gid, true),
        FIELD("group", F_GROUP, groups, false),
        FIELD("caps", F_HEX, caps_keep, true),
        FIELD("no_new_privs", F_BOOL, no_new_privs, true),
        FIELD("stop_signal", F_SIGNAL, stop_signal, true),
        FIELD("cgroup_procs", F_STRV, cgroup_procs, false),
        FIELD("cgroup_v2_dir", F_STR, cgroup_v2_dir, false),
        FIELD("log_dir", F_STR, log_dir, true),
        FIELD("log_driver", F_LOG_DRIVER, log_driver, true),
        FIELD("log_max_size", F_U64, log_max_size, true),
        FIELD("log_max_files", F_UINT, log_max_files, true),
        FIELD("status_path", F_STR, status_path, true),
        FIELD("socket_path", F_STR, socket_path, true),
        FIELD("listen_fd_name", F_STRV, listen_fd_names, false),
#undef FIELD
};

/* Unescapes one token into a fresh string. */
static int token_dup(const char *s, size_t n, char **ret) {
        char *b = malloc(n + 1);
        int r;

        if (!b)
                return -ENOMEM;
        r = launch_unescape(s, n, b, n + 1);
        if (r < 0) {
                free(b);
                return r == -ENOBUFS ? -EBADMSG : r;
        }
        *ret = b;
        return 0;
}

static int strv_append(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **nl;

        if (n >= LAUNCH_LIST_MAX)
                return -EBADMSG;
        nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl)
                return -ENOMEM;
        nl[n] = s;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

/* Splits a value into exactly n space-separated tokens. */
static int split_tokens(const char *v, size_t len, const char **tok, size_t *tok_len, size_t n) {
        size_t i = 0, start = 0;

        for (size_t p = 0; p <= len; p++) {
                if (p < len && v[p] != ' ')
                        continue;
                if (i >= n)
                        return -EBADMSG;
                tok[i] = v + start;
                tok_len[i] = p - start;
                i++;
                start = p + 1;
        }
        return i == n ? 0 : -EBADMSG;
}

static int parse_field(struct launch_spec *s, const struct field *f, const char *v, size_t len,
                       unsigned *seen) {
        void *at = (char *) s + f->offset;
        uint64_t u;
        int r;

        switch (f->type) {
        case F_STR: {
                char **p = at;
                if (*p)
                        return -EBADMSG; /* duplicate */
                return token_dup(v, len, p);
        }
        case F_BOOL:
                if (len != 1 || (v[0] != '0' && v[0] != '1'))
                        return -EBADMSG;
                *(bool *) at = v[0] == '1';
                return 0;
        case F_UINT:
                /* uid/gid: (uid_t) -1 means "unchanged" to the kernel; refuse it. */
                r = launch_parse_u64(v, len, UINT32_MAX - 1, &u);
                if (r < 0)
                        return r;
                *(uint32_t *) at = (uint32_t) u;
                return 0;
        case F_U64:
                r = launch_parse_u64(v, len, UINT64_MAX, &u);
                if (r < 0)
                        return r;
                *(uint64_t *) at = u;
                return 0;
        case F_LOG_DRIVER:
                for (size_t i = 0; i < ELEMENTSOF(log_driver_names); i++)
                        if (strlen(log_driver_names[i]) == len && memcmp(log_driver_names[i], v, len) == 0) {
                                *(int *) at = (int) i;
                                return 0;
                        }
                return -EBADMSG;
        case F_SIGNAL:
                r = launch_parse_u64(v, len, 64, &u);
                if (r < 0 || u == 0)
                        return -EBADMSG;
                *(int *) at = (int) u;
                return 0;
        case F_HEX: {
                char b[24];
                char *end;
                if (len < 3 || len > 18 || v[0] != '0' || v[1] != 'x')
                        return -EBADMSG;
                memcpy(b, v, len);
                b[len] = 0;
                for (size_t i = 2; i < len; i++)
                        if (unhex(b[i]) < 0)
                                return -EBADMSG;
                errno = 0;
                u = strtoull(b + 2, &end, 16);
                if (errno || *end)
                        return -EBADMSG;
                *(uint64_t *) at = u;
                return 0;
        }
        case F_STRV: {
                char *t;
                r = token_dup(v, len, &t);
                if (r < 0)
                        return r;
                r = strv_append(at, t);
                if (r < 0)
                        free(t);
                return r;
        }
        case F_GROUP: {
                gid_t *g;
                r = launch_parse_u64(v, len, UINT32_MAX - 1, &u);
                if (r < 0)
                        return r;
                if (s->n_groups >= LAUNCH_LIST_MAX)
                        return -EBADMSG;
                g = realloc(s->groups, (s->n_groups + 1) * sizeof(gid_t));
                if (!g)
                        return -ENOMEM;
                g[s->n_groups++] = (gid_t) u;
                s->groups = g;
                return 0;
        }
        case F_MOUNT: {
                const char *tok[3];
                size_t tl[3];
                struct launch_mount *m;
                bool ro;

                r = split_tokens(v, len, tok, tl, 3);
                if (r < 0)
                        return r;
                if (tl[0] == 2 && memcmp(tok[0], "ro", 2) == 0)
                        ro = true;
                else if (tl[0] == 2 && memcmp(tok[0], "rw", 2) == 0)
                        ro = false;
                else
                        return -EBADMSG;
                if (s->n_mounts >= LAUNCH_LIST_MAX)
                        return -EBADMSG;
                m = realloc(s->mounts, (s->n_mounts + 1) * sizeof(*m));
                if (!m)
                        return -ENOMEM;
                s->mounts = m;
                m = &s->mounts[s->n_mounts];
                *m = (struct launch_mount) { .read_only = ro };
                r = token_dup(tok[1], tl[1], &m->source);
                if (r >= 0)
                        r = token_dup(tok[2], tl[2], &m->target);
                if (r < 0) {
                        free(m->source);
                        return r;
                }
                s->n_mounts++;
                return 0;
        }
        case F_NS: {
                size_t start = 0;
                if (*seen)
                        return -EBADMSG;
                *seen = 1;
                for (size_t p = 0; len > 0 && p <= len; p++) {
                        size_t i, n;
                        if (p < len && v[p] != ' ')
                                continue;
                        n = p - start;
                        for (i = 0; i < ELEMENTSOF(ns_names); i++)
                                if (strlen(ns_names[i].name) == n && memcmp(ns_names[i].name, v + start, n) == 0)
                                        break;
                        if (i == ELEMENTSOF(ns_names) || (s->clone_flags & ns_names[i].flag))
                                return -EBADMSG;
                        s->clone_flags |= ns_names[i].flag;
                        start = p + 1;
                }
                return 0;
        }
        }
        return -EBADMSG;
}

static int parse_into(struct launch_spec *s, const char *data, size_t size) {
        unsigned seen[ELEMENTSOF(fields)] = {};
        const char *p = data, *end = data + size;
        size_t hl = strlen(LAUNCH_FORMAT_HEADER);
        bool ended = false;

        if (size < hl + 1 || memcmp(data, LAUNCH_FORMAT_HEADER "\n", hl + 1) != 0)
                return -EBADMSG;
        p += hl + 1;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *sp, *v;
                size_t line_len, key_len, i;
                int r;

                if (!nl || ended)
                        return -EBADMSG; /* truncated line, or data after "end" */
                line_len = (size_t) (nl - p);
                if (memchr(p, 0, line_len))
                        return -EBADMSG;
                if (line_len == 3 && memcmp(p, "end", 3) == 0) {
                        ended = true;
                        p = nl + 1;
                        continue;
                }
                sp = memchr(p, ' ', line_len);
                key_len = sp ? (size_t) (sp - p) : line_len;
                v = sp ? sp + 1 : nl;
                for (i = 0; i < ELEMENTSOF(fields); i++)
                        if (strlen(fields[i].key) == key_len && memcmp(fields[i].key, p, key_len) == 0)
                                break;
                if (i == ELEMENTSOF(fields))
                        return -EBADMSG; /* unknown key */
                if (!sp && fields[i].type != F_NS)
                        return -EBADMSG;
                if (fields[i].type != F_STRV && fields[i].type != F_GROUP && fields[i].type != F_MOUNT &&
                    fields[i].type != F_NS && seen[i])
                        return -EBADMSG; /* duplicate scalar */
                if (fields[i].type != F_NS)
                        seen[i]++;
                r = parse_field(s, &fields[i], v, (size_t) (nl - v), &seen[i]);
                if (r < 0)
                        return r;
                p = nl + 1;
        }
        if (!ended)
                return -EBADMSG;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i].required && !seen[i])
                        return -EBADMSG;
        /* A file that parses but describes nothing runnable is corrupt too. */
        return launch_spec_validate(s) < 0 ? -EBADMSG : 0;
}

int launch_spec_parse(const char *data, size_t size, struct launch_spec **ret) {
        struct launch_spec *s;
        int r;

        if (size > LAUNCH_FILE_MAX)
                return -EBADMSG;
        s = malloc(sizeof *s);
        if (!s)
                return -ENOMEM;
        launch_spec_init(s);
        /* Defaults the file must state explicitly: the writer always does. */
        s->caps_keep = 0;
        s->no_new_privs = false;
        r = parse_into(s, data, size);
        if (r < 0) {
                launch_spec_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int launch_read_text_fd(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                ssize_t n;
                if (len == cap) {
                        char *b;
                        cap = cap ? cap * 2 : 4096;
                        b = realloc(buf, cap + 1);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > LAUNCH_FILE_MAX)
                        return -EBADMSG;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = len;
        return 0;
}

int launch_spec_read(const char *path, struct launch_spec **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        if (fd < 0)
                return -errno;
        r = launch_read_text_fd(fd, &buf, &len);
        return r < 0 ? r : launch_spec_parse(buf, len, ret);
}
