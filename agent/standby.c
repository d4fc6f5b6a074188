/* standby.c: berthd's pool of standby shims (see standby.h). */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "log.h"
#include "macro.h"
#include "shim-client.h"
#include "standby.h"
#include "util.h"

#define HELLO_TIMEOUT_MS 1000
#define FAILURES_MAX 3 /* consecutive failed starts: the pool gives up (replicas start cold) */

extern char **environ;

enum standby_state { STANDBY_STARTING, STANDBY_READY };

struct standby {
        struct standby_pool *pool;
        enum standby_state state;
        pid_t child;            /* what we spawned: exits once the shim is daemonized */
        int sync_fd;            /* read end of the sync pipe: the standby's lifeline */
        int ctl_fd;             /* READY: connected control socket */
        sd_event_source *io;    /* STARTING: sync_fd; READY: ctl_fd (anything there is trouble) */
        char line[256];
        size_t len;
        pid_t shim_pid, init_pid;
        char *spec_path, *socket_path;
};

struct standby_pool {
        sd_event *event;
        char *shim_path, *dir, *stage_dir;
        unsigned size, seq, failures;
        bool disabled;
        int factory_fd;                 /* berth-shim --factory: standbys by fork, -1: none */
        sd_event_source *factory_io;
        bool factory_tried;
        struct standby *s[STANDBY_MAX];
        size_t n;
        int mountinfo_fd;
        sd_event_source *mountinfo;
};

static void standby_free(struct standby *s) {
        if (!s)
                return;
        sd_event_source_disable_unref(s->io);
        safe_close(s->ctl_fd);
        safe_close(s->sync_fd); /* the lifeline: an unclaimed standby exits */
        if (s->child > 0)
                while (waitpid(s->child, NULL, 0) < 0 && errno == EINTR)
                        ;
        if (s->spec_path)
                (void) unlink(s->spec_path);
        free(s->spec_path);
        free(s->socket_path);
        free(s);
}

static void pool_remove(struct standby_pool *p, struct standby *s) {
        for (size_t i = 0; i < p->n; i++)
                if (p->s[i] == s) {
                        memmove(p->s + i, p->s + i + 1, (p->n - i - 1) * sizeof *p->s);
                        p->n--;
                        return;
                }
}

static void start_failed(struct standby *s, const char *why) {
        struct standby_pool *p = s->pool;

        pool_remove(p, s);
        standby_free(s);
        if (++p->failures >= FAILURES_MAX && !p->disabled) {
                p->disabled = true;
                log_warning("Standby shims: %s; giving up after %u attempts, replicas start cold.", why, p->failures);
        } else
                log_debug("Standby shim: %s.", why);
}

/* READY: the shim should stay silent until claimed; a hangup or a message
 * means it is gone or confused: replaced. */
static int on_ctl(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        struct standby *s = userdata;
        struct standby_pool *p = s->pool;

        /* counted like a failed start: a standby that keeps dying is not
         * replaced forever */
        start_failed(s, "a ready standby shim went away or spoke unasked");
        standby_pool_fill(p);
        return 0;
}

/* The sync line arrived (or EOF): connect, read HELLO, ready. */
static void sync_readable(struct standby *s) {
        struct standby_pool *p = s->pool;
        _cleanup_free_ char *error = NULL;
        struct shim_msg hello;
        int r;

        for (;;) {
                ssize_t n = read(s->sync_fd, s->line + s->len, sizeof s->line - 1 - s->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n > 0) {
                        s->len += (size_t) n;
                        if (!memchr(s->line, '\n', s->len) && s->len < sizeof s->line - 1)
                                continue;
                }
                break;
        }
        s->io = sd_event_source_disable_unref(s->io);
        if (s->child > 0)
                while (waitpid(s->child, NULL, 0) < 0 && errno == EINTR)
                        ;
        s->child = 0;
        r = shim_sync_parse(s->line, s->len, &s->shim_pid, &s->init_pid, &error);
        if (r < 0) {
                start_failed(s, error ? error : strerror(-r));
                return;
        }
        if (s->spec_path)
                (void) unlink(s->spec_path); /* read by the shim at its start */
        s->ctl_fd = shim_connect(s->socket_path);
        r = s->ctl_fd < 0 ? s->ctl_fd : shim_recv_timeout(s->ctl_fd, &hello, HELLO_TIMEOUT_MS);
        if (r >= 0 && hello.type != SHIM_MSG_HELLO)
                r = -EPROTO;
        if (r >= 0)
                r = sd_event_add_io(p->event, &s->io, s->ctl_fd, EPOLLIN, on_ctl, s);
        if (r < 0) {
                start_failed(s, strerror(-r));
                return;
        }
        s->state = STANDBY_READY;
        p->failures = 0;
        log_debug("Standby shim %d ready (mini-init %d).", (int) s->shim_pid, (int) s->init_pid);
}

static int on_sync(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        sync_readable(userdata);
        return 0;
}

/* ---- the factory: standbys by fork ---------------------------------------- */

static int on_factory(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        struct standby_pool *p = userdata;
        char buf[64];

        if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN)
                return 0;
        log_warning("The standby factory is gone; standby shims are started one by one.");
        p->factory_io = sd_event_source_disable_unref(p->factory_io);
        p->factory_fd = safe_close(p->factory_fd);
        return 0;
}

/* A standby template for the shims of this pool: id and socket (the
 * factory names each standby's socket after it). */
static int write_template(struct standby_pool *p, const char *name, const char *spec_path, const char *socket_path) {
        struct launch_spec t;
        char *targv[] = { (char *) "(standby)", NULL };
        char status[PATH_MAX];

        launch_standby_template(&t);
        snprintf(status, sizeof status, "%s/%s.status", p->dir, name);
        t.id = (char *) name;
        t.argv = targv; /* never executed: a claim brings the replica's */
        t.log_dir = p->dir;
        t.status_path = status;
        t.socket_path = (char *) socket_path;
        return launch_spec_write(&t, spec_path);
}

static pid_t spawn(struct standby_pool *p, const char *mode, const char *spec_path, int sync_fd) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none;
        char fdstr[16], *argv[] = { p->shim_path, (char *) mode, (char *) "--spec", (char *) spec_path,
                                    (char *) "--sync-fd", fdstr, NULL, NULL, NULL };
        pid_t pid;
        int r;

        snprintf(fdstr, sizeof fdstr, "%d", sync_fd);
        if (p->stage_dir) {
                argv[6] = (char *) "--stage-dir";
                argv[7] = p->stage_dir;
        }
        /* posix_spawn (vfork-like): no copy of berthd's page tables */
        sigemptyset(&none);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, sync_fd, sync_fd); /* same fd: clears CLOEXEC */
        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
        r = posix_spawn(&pid, p->shim_path, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r > 0 ? -r : pid;
}

#define FACTORY_READY_TIMEOUT_MS 5000

/* Starts the factory once; without it, standbys are spawned one by one. */
static void factory_start(struct standby_pool *p) {
        _cleanup_free_ char *spec_path = NULL, *sock = NULL, *error = NULL;
        struct pollfd pfd;
        char line[128];
        pid_t pid, shim, init;
        ssize_t n = 0;
        int sp[2], r;

        p->factory_tried = true;
        if (asprintf(&spec_path, "%s/factory.launch", p->dir) < 0 || asprintf(&sock, "%s/factory.sock", p->dir) < 0)
                return;
        r = write_template(p, "factory", spec_path, sock);
        if (r < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                log_debug("Standby factory: cannot prepare it; standbys are started one by one.");
                return;
        }
        pid = spawn(p, "--factory", spec_path, sp[1]);
        safe_close(sp[1]);
        if (pid > 0) {
                pfd = (struct pollfd) { .fd = sp[0], .events = POLLIN };
                if (poll(&pfd, 1, FACTORY_READY_TIMEOUT_MS) > 0)
                        n = recv(sp[0], line, sizeof line - 1, 0);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        (void) unlink(spec_path);
        r = pid < 0 ? (int) pid : shim_sync_parse(line, n > 0 ? (size_t) n : 0, &shim, &init, &error);
        if (r >= 0)
                r = sd_event_add_io(p->event, &p->factory_io, sp[0], EPOLLIN, on_factory, p);
        if (r < 0) {
                log_warning("Cannot start the standby factory: %s; standbys are started one by one.",
                            error ? error : strerror(-r));
                safe_close(sp[0]);
                return;
        }
        p->factory_fd = sp[0];
        log_debug("Standby factory %d ready.", (int) shim);
}

static int standby_start(struct standby_pool *p) {
        struct standby *s;
        int pfd[2], r;

        if (!p->factory_tried)
                factory_start(p);
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (struct standby) { .pool = p, .sync_fd = -1, .ctl_fd = -1 };
        p->seq++;
        if (asprintf(&s->socket_path, "%s/standby-%u.sock", p->dir, p->seq) < 0) {
                standby_free(s);
                return -ENOMEM;
        }
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                r = -errno;
                standby_free(s);
                return r;
        }
        if (p->factory_fd >= 0) {
                /* "S <n>" and the pipe's write end: the factory forks standby n */
                union shim_cmsg_buf ctl;
                char msg[32];
                struct iovec iov = { .iov_base = msg, .iov_len = (size_t) snprintf(msg, sizeof msg, "S %u\n", p->seq) };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                shim_cmsg_put_fds(&mh, &ctl, &pfd[1], 1);
                r = sendmsg(p->factory_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
        } else {
                char name[32];
                snprintf(name, sizeof name, "standby-%u", p->seq);
                r = asprintf(&s->spec_path, "%s/%s.launch", p->dir, name) < 0 ? -ENOMEM : 0;
                if (r >= 0)
                        r = write_template(p, name, s->spec_path, s->socket_path);
                if (r >= 0) {
                        pid_t pid = spawn(p, "--standby", s->spec_path, pfd[1]);
                        if (pid < 0)
                                r = (int) pid;
                        else
                                s->child = pid;
                }
        }
        safe_close(pfd[1]);
        s->sync_fd = pfd[0];
        if (r < 0) {
                standby_free(s);
                return r;
        }
        (void) fcntl(s->sync_fd, F_SETFL, O_NONBLOCK);
        r = sd_event_add_io(p->event, &s->io, s->sync_fd, EPOLLIN, on_sync, s);
        if (r < 0) {
                standby_free(s);
                return r;
        }
        p->s[p->n++] = s;
        return 0;
}

void standby_pool_fill(struct standby_pool *p) {
        if (!p)
                return;
        while (!p->disabled && p->n < p->size) {
                int r = standby_start(p);
                if (r < 0) {
                        p->failures = FAILURES_MAX;
                        p->disabled = true;
                        log_warning_errno(r, "Cannot start a standby shim: %m; replicas start cold.");
                        return;
                }
        }
}

/* The host's mount table changed: what the standbys copied is stale. */
static int on_mountinfo(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        struct standby_pool *p = userdata;

        if (p->n > 0)
                log_debug("Mount table changed: retiring %zu standby shim(s).", p->n);
        while (p->n > 0)
                standby_free(p->s[--p->n]);
        standby_pool_fill(p);
        return 0;
}

/* What standbys that did not exit on their own (killed) left staged: a
 * directory each, with its shim.log. */
static void stage_clean(const char *dir) {
        DIR *d = opendir(dir);
        struct stat st;

        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;
                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode) || asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        continue;
                (void) rm_dir_files(sub);
        }
        closedir(d);
}

int standby_pool_new(sd_event *event, const char *shim_path, const char *dir, const char *stage_dir, unsigned size,
                     struct standby_pool **ret) {
        struct standby_pool *p = calloc(1, sizeof *p);
        int r;

        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        p->size = MIN(size, (unsigned) STANDBY_MAX);
        p->mountinfo_fd = -1;
        p->factory_fd = -1;
        p->shim_path = shim_path ? strdup(shim_path) : NULL;
        p->dir = strdup(dir);
        p->stage_dir = stage_dir ? strdup(stage_dir) : NULL;
        if (!p->dir || (p->size > 0 && !p->shim_path) || (stage_dir && !p->stage_dir)) {
                standby_pool_free(p);
                return -ENOMEM;
        }
        if (p->stage_dir) {
                stage_clean(p->stage_dir);
                if (p->size == 0)
                        (void) rmdir(p->stage_dir);
        }
        if (p->size > 0) {
                r = mkdir_p(dir, 0700);
                if (r < 0) {
                        standby_pool_free(p);
                        return r;
                }
                if (p->stage_dir && mkdir_p(p->stage_dir, 0700) < 0) { /* the claims then create log directories */
                        free(p->stage_dir);
                        p->stage_dir = NULL;
                }
                p->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
                if (p->mountinfo_fd < 0 ||
                    sd_event_add_io(event, &p->mountinfo, p->mountinfo_fd, EPOLLPRI, on_mountinfo, p) < 0) {
                        /* without the watch a standby could miss a new host mount */
                        log_warning("Cannot watch /proc/self/mountinfo; standby shims disabled, replicas start cold.");
                        p->disabled = true;
                }
        }
        *ret = p;
        return 0;
}

struct standby_pool *standby_pool_free(struct standby_pool *p) {
        if (!p)
                return NULL;
        while (p->n > 0)
                standby_free(p->s[--p->n]);
        sd_event_source_disable_unref(p->mountinfo);
        safe_close(p->mountinfo_fd);
        sd_event_source_disable_unref(p->factory_io);
        safe_close(p->factory_fd); /* the factory exits */
        sd_event_unref(p->event);
        free(p->shim_path);
        free(p->dir);
        free(p->stage_dir);
        free(p);
        return NULL;
}

int standby_take(struct standby_pool *p, int wait_ms, struct standby_claim *ret) {
        struct standby *s = NULL;

        if (!p || p->disabled)
                return -EAGAIN;
        for (size_t i = 0; i < p->n && !s; i++)
                if (p->s[i]->state == STANDBY_READY)
                        s = p->s[i];
        if (!s && wait_ms > 0 && p->n > 0) {
                /* the oldest one still starting: wait for its sync line */
                struct standby *w = p->s[0];
                struct pollfd pfd = { .fd = w->sync_fd, .events = POLLIN };
                if (w->state == STANDBY_STARTING && poll(&pfd, 1, wait_ms) > 0) {
                        sync_readable(w); /* ready, or failed and freed */
                        for (size_t i = 0; i < p->n && !s; i++)
                                if (p->s[i] == w && w->state == STANDBY_READY)
                                        s = w;
                }
        }
        if (!s)
                return -EAGAIN;
        pool_remove(p, s);
        s->io = sd_event_source_disable_unref(s->io);
        /* shim and mini-init waited at idle priority: normal again before
         * the claim wakes them (a woken SCHED_IDLE task runs only when
         * nothing else wants its CPU); one that cannot be is not used: the
         * replica must not run at idle priority */
        pid_t pids[] = { s->shim_pid, s->init_pid };
        for (size_t i = 0; i < ELEMENTSOF(pids); i++)
                if (pids[i] <= 0 || sched_setscheduler(pids[i], SCHED_OTHER, &(struct sched_param) {}) < 0 ||
                    setpriority(PRIO_PROCESS, (id_t) pids[i], 0) < 0) {
                        log_debug_errno(errno, "Standby %d: cannot put %d back to normal priority: %m; not used.",
                                        (int) s->shim_pid, (int) pids[i]);
                        standby_free(s);
                        return -EAGAIN;
                }
        *ret = (struct standby_claim) {
                .ctl_fd = TAKE_FD(s->ctl_fd),
                .lifeline_fd = TAKE_FD(s->sync_fd),
                .shim_pid = s->shim_pid,
                .init_pid = s->init_pid,
        };
        standby_free(s);
        return 0;
}

unsigned standby_pool_ready(const struct standby_pool *p) {
        unsigned n = 0;

        for (size_t i = 0; p && i < p->n; i++)
                n += p->s[i]->state == STANDBY_READY;
        return n;
}
