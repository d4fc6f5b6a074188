/* prober.c: see prober.h. One sd-event timer per probe (at the state
 * machine's next wakeup), one socket or one child per check in flight. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "log.h"
#include "macro.h"
#include "prober.h"
#include "util.h"

#define USEC_PER_SEC UINT64_C(1000000)
#define MESSAGE_MAX 1024   /* a check's message (exec: its first 1 KiB of output) */
#define HTTP_DRAIN_MAX (1024 * 1024) /* read at most this much of a response */

enum check_type {
        CHECK_NONE,
        CHECK_HTTP,
        CHECK_TCP,
        CHECK_EXEC,
        CHECK_NOTIFY,
};

struct check {
        struct prober *p;
        enum probe_kind k;
        enum check_type type;
        const struct probe *spec;
        sd_event_source *timer;

        /* in flight */
        int fd;                 /* http/tcp socket */
        sd_event_source *io;
        bool connected;
        size_t sent;
        int status;             /* http: from the status line; 0 = not yet, -1 = malformed */
        size_t drained;         /* http: bytes of the response read */
        pid_t pid;              /* exec */
        int pidfd;
        sd_event_source *child_io;
        int out_fd;
        sd_event_source *out_io;
        char buf[MESSAGE_MAX + 1];
        size_t len;

        char message[MESSAGE_MAX + 1]; /* the last result's */
        uint64_t last_real;            /* realtime µs of the last result */
};

struct prober {
        sd_event *event;
        char *id;
        pid_t pid;
        int netns_fd;           /* the replica's netns, -1 = berthd's own */
        struct launch_spec *exec;
        struct probe_set set;
        struct check checks[_PROBE_KIND_MAX];
        prober_callback_t cb;
        void *userdata;
        bool notify_ready;      /* READY=1 came (and no STOPPING=1 after it) */
};

/* ---------------------------------------------------------------- spec helpers */

static const struct probe *spec_probe(const struct service_spec *spec, enum probe_kind k) {
        const struct probe *pr = k == PROBE_STARTUP    ? &spec->startup_probe
                                 : k == PROBE_LIVENESS ? &spec->liveness_probe
                                                       : &spec->readiness_probe;
        return pr->set ? pr : NULL;
}

bool prober_spec_gates_readiness(const struct service_spec *spec) {
        return spec->startup_probe.set || spec->readiness_probe.set;
}

bool prober_spec_wants_notify(const struct service_spec *spec) {
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                const struct probe *pr = spec_probe(spec, (enum probe_kind) k);
                if (pr && pr->notify)
                        return true;
        }
        return false;
}

uint64_t prober_spec_watchdog_usec(const struct service_spec *spec) {
        const struct probe *pr = spec_probe(spec, PROBE_LIVENESS);
        if (!pr || !pr->notify)
                return 0;
        if (pr->watchdog_timeout)
                return pr->watchdog_timeout * 1000;
        return (uint64_t) pr->period_seconds * (uint64_t) pr->failure_threshold * USEC_PER_SEC;
}

static struct probe_timing timing_of(const struct probe *pr, enum probe_kind k, const struct service_spec *spec) {
        struct probe_timing t;
        probe_timing_default(&t);
        t.initial_delay = (uint64_t) pr->initial_delay_seconds * USEC_PER_SEC;
        t.period = (uint64_t) pr->period_seconds * USEC_PER_SEC;
        t.timeout = (uint64_t) pr->timeout_seconds * USEC_PER_SEC;
        t.success_threshold = (unsigned) pr->success_threshold;
        t.failure_threshold = (unsigned) pr->failure_threshold;
        if (pr->notify) {
                /* the service's own word: one READY=1 is enough, one missed
                 * watchdog is a failure (systemd's semantics) */
                t.passive = true;
                t.success_threshold = t.failure_threshold = 1;
                if (k == PROBE_LIVENESS)
                        t.watchdog = prober_spec_watchdog_usec(spec);
        }
        return t;
}

void prober_sanitize_text(char *s) {
        unsigned char *p = (unsigned char *) s;
        while (*p) {
                unsigned n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : 4;
                bool ok = n < 4;
                for (unsigned i = 1; ok && i <= n; i++)
                        ok = (p[i] & 0xC0) == 0x80;
                if (!ok) {
                        *p++ = '?';
                        continue;
                }
                if (n == 0 && (*p < 0x20 || *p == 0x7f) && *p != '\n' && *p != '\t')
                        *p = ' ';
                p += n + 1;
        }
}

/* ---------------------------------------------------------------- network namespaces */

static int self_netns_fd = -1;

/* A socket in the replica's network namespace, or in ours. berthd is
 * single-threaded and setns(CLONE_NEWNET) only changes this thread, so
 * nothing else can observe the detour. */
static int socket_in(int netns_fd, int family) {
        if (netns_fd < 0) {
                int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                return fd < 0 ? -errno : fd;
        }
        if (self_netns_fd < 0) {
                self_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (self_netns_fd < 0)
                        return -errno;
        }
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int err = errno;
        if (setns(self_netns_fd, CLONE_NEWNET) < 0) {
                /* cannot happen short of a kernel bug; never stay in the replica's netns */
                log_error_errno(errno, "Cannot return to berthd's network namespace: %m");
                abort();
        }
        return fd < 0 ? -err : fd;
}

/* ---------------------------------------------------------------- results */

static void arm(struct check *c);

static void check_cancel(struct check *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        c->out_io = sd_event_source_disable_unref(c->out_io);
        c->out_fd = safe_close(c->out_fd);
        c->child_io = sd_event_source_disable_unref(c->child_io);
        if (c->pid > 0) {
                if (c->pidfd >= 0)
                        (void) syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
                else
                        (void) kill(c->pid, SIGKILL);
                (void) waitpid(c->pid, NULL, 0); /* SIGKILLed: immediate */
                c->pid = 0;
        }
        c->pidfd = safe_close(c->pidfd);
        c->connected = false;
        c->sent = 0;
        c->len = 0;
        c->status = 0;
        c->drained = 0;
}

/* A check ended (or the service spoke): feed the state machine, report. */
static void finish(struct check *c, bool success, const char *fmt, ...) _printf_(3, 4);
static void finish(struct check *c, bool success, const char *fmt, ...) {
        struct prober *p = c->p;
        va_list ap;

        check_cancel(c);
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof c->message, fmt, ap);
        va_end(ap);
        c->last_real = now_realtime_usec();
        unsigned changes = probe_set_result(&p->set, c->k, now_monotonic_usec(), success);
        if (changes)
                /* startup's success starts the others, a restart verdict
                 * stops them: every probe's timer follows */
                for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                        if (k != c->k && p->set.has[k] && !p->set.sm[k].active)
                                check_cancel(&p->checks[k]);
                        if (p->set.has[k])
                                arm(&p->checks[k]);
                }
        else
                arm(c);
        /* READY=1 that came while the startup probe gated readiness counts
         * now (the service says it once) */
        struct check *rc = &p->checks[PROBE_READINESS];
        if (c->k == PROBE_STARTUP && p->notify_ready && rc->type == CHECK_NOTIFY && p->set.sm[PROBE_READINESS].active &&
            p->set.sm[PROBE_READINESS].status == PROBE_STATUS_PENDING) {
                snprintf(rc->message, sizeof rc->message, "READY=1");
                rc->last_real = c->last_real;
                changes |= probe_set_result(&p->set, PROBE_READINESS, now_monotonic_usec(), true) &
                           PROBE_RESULT_READY_CHANGED;
        }
        if (p->cb)
                p->cb(p, changes, c->k, success, c->message, p->userdata);
}

/* ---------------------------------------------------------------- tcp and http */

static int on_socket_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static bool socket_connected(struct check *c);

static const char *kind_name(const struct check *c) {
        return probe_kind_to_string(c->k);
}

static void start_connect(struct check *c) {
        struct prober *p = c->p;
        const char *host = "127.0.0.1";
        int port = 0;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } addr = {};
        socklen_t addr_len;

        if (c->type == CHECK_HTTP) {
                if (c->spec->http_get.host && *c->spec->http_get.host)
                        host = c->spec->http_get.host;
                port = (int) c->spec->http_get.port;
        } else
                port = (int) c->spec->tcp_socket.port;
        if (streq(host, "localhost"))
                host = "127.0.0.1";

        if (inet_pton(AF_INET, host, &addr.in.sin_addr) == 1) {
                addr.in.sin_family = AF_INET;
                addr.in.sin_port = htons((uint16_t) port);
                addr_len = sizeof addr.in;
        } else if (inet_pton(AF_INET6, host, &addr.in6.sin6_addr) == 1) {
                addr.in6.sin6_family = AF_INET6;
                addr.in6.sin6_port = htons((uint16_t) port);
                addr_len = sizeof addr.in6;
        } else {
                finish(c, false, "host %s: not an IP address (probes do not resolve names: use an address)", host);
                return;
        }

        int fd = socket_in(p->netns_fd, addr.sa.sa_family);
        if (fd < 0) {
                finish(c, false, "socket: %s", strerror(-fd));
                return;
        }
        c->fd = fd;
        /* tcp: closed with a reset, not a FIN handshake: no TIME_WAIT socket
         * per probe (1,000 probes a second would keep 60,000 of them) */
        if (c->type == CHECK_TCP) {
                struct linger lg = { .l_onoff = 1, .l_linger = 0 };
                (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        if (connect(fd, &addr.sa, addr_len) < 0 && errno != EINPROGRESS) {
                finish(c, false, "connect %s:%d: %s", host, port, strerror(errno));
                return;
        }
        /* On loopback the handshake is usually over when connect() returns:
         * look once without the event loop (an epoll registration, wakeup
         * and removal per probe cost more than the probe itself). */
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        if (poll(&pfd, 1, 0) == 1 && socket_connected(c))
                return; /* finished (tcp), or the request is out (http) */
        if (c->fd < 0)
                return; /* finished with an error */
        int k = sd_event_add_io(p->event, &c->io, fd, c->connected ? EPOLLIN : EPOLLOUT, on_socket_io, c);
        if (k < 0)
                finish(c, false, "cannot watch the probe's socket: %s", strerror(-k));
}

/* "HTTP/1.1 200 OK": the status code, or -1. */
static int http_status(const char *buf) {
        if (strncmp(buf, "HTTP/", 5) != 0)
                return -1;
        const char *sp = strchr(buf, ' ');
        if (!sp || sp[1] < '1' || sp[1] > '9' || sp[2] < '0' || sp[2] > '9' || sp[3] < '0' || sp[3] > '9')
                return -1;
        return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

static void http_request(const struct check *c, char *buf, size_t size) {
        const char *host = c->spec->http_get.host && *c->spec->http_get.host ? c->spec->http_get.host : "127.0.0.1";
        const char *path = c->spec->http_get.path && *c->spec->http_get.path ? c->spec->http_get.path : "/";
        bool v6 = strchr(host, ':') != NULL;
        snprintf(buf, size,
                 "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nConnection: close\r\nUser-Agent: berth-probe\r\n"
                 "Accept: */*\r\n\r\n",
                 path, v6 ? "[" : "", host, v6 ? "]" : "", (int) c->spec->http_get.port);
}

/* The socket became writable: connected or refused. tcp: finished; http:
 * the request is sent. Returns true when the check is finished or the
 * request is out, false when the caller must wait for the socket. */
static bool socket_connected(struct check *c) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err != 0) {
                finish(c, false, "connect to port %d: %s",
                       (int) (c->type == CHECK_HTTP ? c->spec->http_get.port : c->spec->tcp_socket.port),
                       strerror(err));
                return true;
        }
        c->connected = true;
        if (c->type == CHECK_TCP) {
                finish(c, true, "%s", "");
                return true;
        }
        char req[2048];
        http_request(c, req, sizeof req);
        ssize_t n = send(c->fd, req, strlen(req), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < (ssize_t) strlen(req)) {
                /* a fresh socket takes a 2 KiB request at once */
                finish(c, false, "HTTP request: %s", n < 0 ? strerror(errno) : "short write");
                return true;
        }
        c->sent = (size_t) n;
        if (c->io)
                (void) sd_event_source_set_io_events(c->io, EPOLLIN);
        return false;
}

static int on_socket_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct check *c = userdata;

        if (!c->connected) {
                (void) socket_connected(c);
                return 0;
        }
        /* The status line decides; the rest is read and dropped until the
         * server closes (Connection: close), so the server, not berthd,
         * keeps the TIME_WAIT and never sees a reset mid-response. */
        for (;;) {
                char discard[4096];
                size_t room = sizeof c->buf - 1 - c->len;
                ssize_t n = c->status == 0 && room > 0 ? recv(fd, c->buf + c->len, room, MSG_DONTWAIT)
                                                        : recv(fd, discard, sizeof discard, MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                if (n < 0 && c->status == 0) {
                        finish(c, false, "HTTP response: %s", strerror(errno));
                        return 0;
                }
                if (n > 0 && c->status == 0) {
                        c->len += (size_t) n;
                        c->buf[c->len] = 0;
                        char *eol = strstr(c->buf, "\r\n");
                        if (eol) {
                                *eol = 0;
                                c->status = http_status(c->buf);
                        } else if (c->len >= sizeof c->buf - 1)
                                c->status = -1;
                }
                if (n > 0) {
                        c->drained += (size_t) n;
                        if (c->drained < HTTP_DRAIN_MAX)
                                continue;
                }
                /* EOF, an error after the status line, or enough read */
                int status = c->status ? c->status : c->len > 0 ? http_status(c->buf) : 0;
                if (status <= 0)
                        finish(c, false, "%s", c->len == 0 ? "HTTP: connection closed without a response"
                                                           : "HTTP: malformed status line");
                else if (status >= 200 && status < 400)
                        finish(c, true, "HTTP status %d", status);
                else
                        finish(c, false, "HTTP status %d", status);
                return 0;
        }
}

/* ---------------------------------------------------------------- exec */

_noreturn_ static void child_fail(const char *what, int err) {
        dprintf(STDOUT_FILENO, "exec probe: %s: %s\n", what, strerror(err));
        _exit(126);
}

/* The forked child: into the replica, then the command. Only the calling
 * thread exists after fork(); berthd is single-threaded anyway. */
_noreturn_ static void exec_child(const struct prober *p, const struct probe *pr, int out_fd) {
        static const struct {
                const char *name;
                int flag;
        } nss[] = {
                /* the mount namespace last: after it, /proc is the replica's */
                { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
                { "net", CLONE_NEWNET },       { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
        };
        const struct launch_spec *l = p->exec;
        int fds[ELEMENTSOF(nss)];
        sigset_t none;
        struct sigaction dfl = { .sa_handler = SIG_DFL };

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0)
                _exit(126);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0)
                (void) dup2(null, STDIN_FILENO);

        /* the replica's cgroup first: the probe counts in its limits */
        for (char **c = l->cgroup_procs; c && *c; c++) {
                int fd = open(*c, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) < 0)
                        child_fail("join the replica's cgroup", errno);
                close(fd);
        }

        for (size_t i = 0; i < ELEMENTSOF(nss); i++) {
                char path[64], self[64];
                struct stat a, b;
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) p->pid, nss[i].name);
                snprintf(self, sizeof self, "/proc/self/ns/%s", nss[i].name);
                fds[i] = -1;
                if (stat(path, &a) < 0) {
                        if (errno == ENOENT && i == 0)
                                continue; /* no cgroup namespaces in this kernel */
                        child_fail("the replica's namespaces", errno);
                }
                if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                        continue; /* shared with berthd */
                fds[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0)
                        child_fail("the replica's namespaces", errno);
        }
        for (size_t i = 0; i < ELEMENTSOF(nss); i++)
                if (fds[i] >= 0 && setns(fds[i], nss[i].flag) < 0)
                        child_fail(nss[i].name, errno);

        /* a pid namespace applies to the children of who entered it */
        pid_t pid = fork();
        if (pid < 0)
                child_fail("fork", errno);
        if (pid > 0) {
                int status;
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR)
                                _exit(126);
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

        /* the service's user, groups and capabilities, as the mini-init
         * gives them to the service */
        int r = caps_drop_bounding_set(l->caps_keep);
        if (r < 0)
                child_fail("drop capabilities", -r);
        if (setgroups(l->n_groups, l->groups) < 0 || setgid(l->gid) < 0 || setuid(l->uid) < 0)
                child_fail("set user", errno);
        r = caps_drop(l->caps_keep);
        if (r < 0)
                child_fail("drop capabilities", -r);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail("no_new_privs", errno);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* the id change cleared it */
        if (chdir(l->cwd ? l->cwd : "/") < 0 && chdir("/") < 0)
                child_fail("chdir", errno);

        environ = l->env;
        execvp(pr->exec.command.v[0], pr->exec.command.v);
        dprintf(STDOUT_FILENO, "exec %s: %s\n", pr->exec.command.v[0], strerror(errno));
        _exit(127);
}

static void exec_maybe_done(struct check *c);

static int on_exec_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct check *c = userdata;
        char discard[4096];
        for (;;) {
                size_t room = MESSAGE_MAX - c->len;
                ssize_t n = room > 0 ? read(fd, c->buf + c->len, room) : read(fd, discard, sizeof discard);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0) { /* EOF: every writer is gone */
                        c->out_io = sd_event_source_disable_unref(c->out_io);
                        c->out_fd = safe_close(c->out_fd);
                        exec_maybe_done(c);
                        return 0;
                }
                if (room > 0)
                        c->len += (size_t) n;
        }
}

static int on_exec_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct check *c = userdata;
        c->child_io = sd_event_source_disable_unref(c->child_io);
        exec_maybe_done(c);
        return 0;
}

/* Done when the process has exited; its output is read to EOF, or as far
 * as it goes when a grandchild keeps the pipe open. */
static void exec_maybe_done(struct check *c) {
        if (c->child_io || c->pid <= 0)
                return;
        int status = 0;
        pid_t k = waitpid(c->pid, &status, WNOHANG);
        if (k == 0)
                return;
        c->pid = 0;
        if (c->out_fd >= 0)
                (void) on_exec_output(NULL, c->out_fd, EPOLLIN, c); /* what is there */
        if (c->out_io)
                c->out_io = sd_event_source_disable_unref(c->out_io);
        c->out_fd = safe_close(c->out_fd);
        /* message: the output, trailing whitespace trimmed */
        while (c->len > 0 && (c->buf[c->len - 1] == '\n' || c->buf[c->len - 1] == ' ' || c->buf[c->len - 1] == '\r'))
                c->len--;
        c->buf[c->len] = 0;
        prober_sanitize_text(c->buf); /* it goes into JSON */
        int code = k < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        char out[MESSAGE_MAX + 1];
        memcpy(out, c->buf, c->len + 1);
        if (code == 0)
                finish(c, true, "%s", out);
        else if (*out)
                finish(c, false, "exit status %d: %s", code, out);
        else
                finish(c, false, "exit status %d", code);
}

static void start_exec(struct check *c) {
        struct prober *p = c->p;
        int pipefd[2];

        if (!p->exec) {
                finish(c, false, "%s", "exec probe: no execution context");
                return;
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                finish(c, false, "exec probe: pipe: %s", strerror(errno));
                return;
        }
        pid_t pid = fork();
        if (pid < 0) {
                int err = errno;
                close(pipefd[0]);
                close(pipefd[1]);
                finish(c, false, "exec probe: fork: %s", strerror(err));
                return;
        }
        if (pid == 0) {
                close(pipefd[0]);
                exec_child(p, c->spec, pipefd[1]);
        }
        close(pipefd[1]);
        c->pid = pid;
        c->out_fd = pipefd[0];
        (void) fd_nonblock(c->out_fd);
        c->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int k = c->pidfd < 0 ? -errno : sd_event_add_io(p->event, &c->child_io, c->pidfd, EPOLLIN, on_exec_exit, c);
        if (k >= 0)
                k = sd_event_add_io(p->event, &c->out_io, c->out_fd, EPOLLIN, on_exec_output, c);
        if (k < 0)
                finish(c, false, "exec probe: cannot watch the process: %s", strerror(-k));
}

/* ---------------------------------------------------------------- scheduling */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct check *c = userdata;
        struct prober *p = c->p;
        uint64_t now = now_monotonic_usec();

        if (p->set.sm[c->k].in_flight) {
                if (now >= probe_set_wakeup(&p->set, c->k))
                        finish(c, false, "timed out after %llus",
                               (unsigned long long) (p->set.sm[c->k].t.timeout / USEC_PER_SEC));
                else
                        arm(c);
                return 0;
        }
        if (!probe_set_due(&p->set, c->k, now)) {
                arm(c);
                return 0;
        }
        if (c->type == CHECK_NOTIFY) { /* passive: due means the watchdog expired */
                finish(c, false, "no WATCHDOG=1 within %.1fs", (double) p->set.sm[c->k].t.watchdog / 1e6);
                return 0;
        }
        probe_set_begin(&p->set, c->k, now);
        arm(c); /* the deadline */
        switch (c->type) {
        case CHECK_HTTP:
        case CHECK_TCP:
                start_connect(c);
                break;
        case CHECK_EXEC:
                start_exec(c);
                break;
        default:
                break;
        }
        return 0;
}

static void arm(struct check *c) {
        struct prober *p = c->p;
        uint64_t at = probe_set_wakeup(&p->set, c->k);
        int k;

        if (at == 0) {
                if (c->timer)
                        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        /* a little slack lets sd-event coalesce the wakeups of many
         * replicas: 1/20 of the period, at most 100 ms, none for deadlines */
        uint64_t accuracy = p->set.sm[c->k].in_flight ? 1000 : p->set.sm[c->k].t.period / 20;
        if (accuracy > 100000)
                accuracy = 100000;
        if (accuracy == 0)
                accuracy = 1;
        if (c->timer) {
                k = sd_event_source_set_time(c->timer, at);
                if (k >= 0)
                        k = sd_event_source_set_time_accuracy(c->timer, accuracy);
                if (k >= 0)
                        k = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        } else
                k = sd_event_add_time(p->event, &c->timer, CLOCK_MONOTONIC, at, accuracy, on_timer, c);
        if (k < 0)
                log_error_errno(k, "Replica %s: cannot arm the %s probe's timer: %m", p->id, kind_name(c));
}

/* ---------------------------------------------------------------- the prober */

int prober_new(sd_event *e, const struct service_spec *spec, struct prober_target *target, uint64_t run_started,
               prober_callback_t cb, void *userdata, struct prober **ret) {
        struct prober *p = calloc(1, sizeof *p);
        bool has[_PROBE_KIND_MAX] = {};
        struct probe_timing t[_PROBE_KIND_MAX] = {};

        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->pid = target->pid;
        p->netns_fd = -1;
        p->cb = cb;
        p->userdata = userdata;
        p->exec = TAKE_PTR(target->exec);
        if (!(p->id = strdup(target->id ? target->id : "?"))) {
                prober_free(p);
                return -ENOMEM;
        }
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                struct check *c = &p->checks[k];
                c->p = p;
                c->k = (enum probe_kind) k;
                c->fd = c->out_fd = c->pidfd = -1;
                c->spec = spec_probe(spec, c->k);
                if (!c->spec)
                        continue;
                has[k] = true;
                t[k] = timing_of(c->spec, c->k, spec);
                c->type = c->spec->has_http_get     ? CHECK_HTTP
                          : c->spec->has_tcp_socket ? CHECK_TCP
                          : c->spec->has_exec       ? CHECK_EXEC
                                                    : CHECK_NOTIFY;
                if ((c->type == CHECK_HTTP || c->type == CHECK_TCP) && target->own_netns && p->netns_fd < 0) {
                        char path[64];
                        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) target->pid);
                        p->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (p->netns_fd < 0) {
                                int k2 = -errno;
                                log_warning_errno(k2, "Replica %s: cannot open %s: %m; its probes will fail.", p->id,
                                                  path);
                        }
                }
        }
        probe_set_init(&p->set, has, t, run_started);
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++)
                if (has[k])
                        arm(&p->checks[k]);
        *ret = p;
        return 0;
}

struct prober *prober_free(struct prober *p) {
        if (!p)
                return NULL;
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                check_cancel(&p->checks[k]);
                p->checks[k].timer = sd_event_source_disable_unref(p->checks[k].timer);
        }
        safe_close(p->netns_fd);
        launch_spec_free(p->exec);
        sd_event_unref(p->event);
        free(p->id);
        free(p);
        return NULL;
}

void prober_assume_ready(struct prober *p) {
        probe_set_assume_ready(&p->set, now_monotonic_usec());
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++)
                if (p->set.has[k])
                        arm(&p->checks[k]);
}

bool prober_ready(const struct prober *p) {
        return probe_set_ready(&p->set);
}

bool prober_readiness_failed(const struct prober *p) {
        return probe_set_readiness_failed(&p->set);
}

void prober_notify(struct prober *p, unsigned what) {
        if (what & PROBER_NOTIFY_READY)
                p->notify_ready = true;
        if (what & PROBER_NOTIFY_STOPPING)
                p->notify_ready = false;
        /* readiness first: a liveness failure may free p (the callback stops the run) */
        struct check *r = &p->checks[PROBE_READINESS], *l = &p->checks[PROBE_LIVENESS];
        if (r->type == CHECK_NOTIFY && p->set.sm[PROBE_READINESS].active) {
                if (what & PROBER_NOTIFY_STOPPING)
                        finish(r, false, "%s", "STOPPING=1");
                else if (what & PROBER_NOTIFY_READY)
                        finish(r, true, "%s", "READY=1");
        }
        if (l->type == CHECK_NOTIFY && p->set.sm[PROBE_LIVENESS].active) {
                if (what & PROBER_NOTIFY_WATCHDOG_TRIGGER)
                        finish(l, false, "%s", "WATCHDOG=trigger");
                else if (what & PROBER_NOTIFY_WATCHDOG)
                        finish(l, true, "%s", "WATCHDOG=1");
        }
}

struct json_object *prober_to_json(const struct prober *p) {
        struct json_object *o = json_object_new_object();
        for (unsigned k = 0; k < _PROBE_KIND_MAX; k++) {
                if (!p->set.has[k])
                        continue;
                const struct probe_sm *sm = &p->set.sm[k];
                const struct check *c = &p->checks[k];
                struct json_object *j = json_object_new_object();
                char buf[64];
                json_object_object_add(j, "state", json_object_new_string(probe_status_to_string(sm->status)));
                json_object_object_add(j, "successes", json_object_new_int64(sm->successes));
                json_object_object_add(j, "failures", json_object_new_int64(sm->failures));
                json_object_object_add(j, "lastMessage", c->last_real ? json_object_new_string(c->message) : NULL);
                json_object_object_add(j, "lastTime", c->last_real ? json_object_new_string(format_rfc3339(
                                                                             c->last_real, buf, sizeof buf))
                                                                   : NULL);
                json_object_object_add(o, probe_kind_to_string((enum probe_kind) k), j);
        }
        return o;
}

/* ---------------------------------------------------------------- NOTIFY_SOCKET */

struct notify_socket {
        char *path;
        int fd;
        sd_event_source *io;
        notify_callback_t cb;
        void *userdata;
};

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct notify_socket *n = userdata;

        for (int budget = 0; budget < 64; budget++) {
                char buf[4097];
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                ssize_t len = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
                if (len < 0)
                        return 0; /* EAGAIN, or nothing we can do */
                const struct ucred *cred = NULL;
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                        if (cm->cmsg_level != SOL_SOCKET)
                                continue;
                        if (cm->cmsg_type == SCM_CREDENTIALS && cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                                cred = (const struct ucred *) (void *) CMSG_DATA(cm);
                        else if (cm->cmsg_type == SCM_RIGHTS) {
                                /* FDSTORE=1 and the like: we keep no fds */
                                int *fds = (int *) (void *) CMSG_DATA(cm);
                                size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                for (size_t i = 0; i < nfds; i++)
                                        close(fds[i]);
                        }
                }
                if (!cred || cred->pid <= 0 || (size_t) len >= sizeof buf - 1)
                        continue; /* no sender, or too long: dropped */
                buf[len] = 0;

                struct notify_message msg = { .pid = cred->pid };
                for (char *line = buf, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (streq(line, "READY=1"))
                                msg.what |= PROBER_NOTIFY_READY;
                        else if (streq(line, "STOPPING=1"))
                                msg.what |= PROBER_NOTIFY_STOPPING;
                        else if (streq(line, "WATCHDOG=1"))
                                msg.what |= PROBER_NOTIFY_WATCHDOG;
                        else if (streq(line, "WATCHDOG=trigger"))
                                msg.what |= PROBER_NOTIFY_WATCHDOG_TRIGGER;
                        else if (strncmp(line, "STATUS=", 7) == 0)
                                msg.status = line + 7;
                }
                if (n->cb)
                        n->cb(&msg, n->userdata);
        }
        return 0;
}

int notify_socket_open(sd_event *e, const char *path, notify_callback_t cb, void *userdata,
                       struct notify_socket **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        struct notify_socket *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->fd = -1;
        n->cb = cb;
        n->userdata = userdata;
        if (!(n->path = strdup(path))) {
                free(n);
                return -ENOMEM;
        }
        int k;
        n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (n->fd < 0) {
                k = -errno;
                goto fail;
        }
        int one = 1;
        (void) unlink(path);
        if (bind(n->fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 || chmod(path, 0666) < 0) {
                k = -errno;
                goto fail;
        }
        k = sd_event_add_io(e, &n->io, n->fd, EPOLLIN, on_notify, n);
        if (k < 0)
                goto fail;
        *ret = n;
        return 0;
fail:
        notify_socket_free(n);
        return k;
}

struct notify_socket *notify_socket_free(struct notify_socket *n) {
        if (!n)
                return NULL;
        n->io = sd_event_source_disable_unref(n->io);
        if (n->fd >= 0)
                (void) unlink(n->path);
        safe_close(n->fd);
        free(n->path);
        free(n);
        return NULL;
}
