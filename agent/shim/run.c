/* run.c: one run of the replica, from the shim's side.
 *
 * run_start() clones the mini-init straight into its namespaces (and, with
 * CLONE_INTO_CGROUP, into its v2 cgroup: no moment outside the limits), with
 * a pidfd so signals can never hit a recycled pid. The clone's reports (the
 * service's host pid, exec failures, the service's exact end) arrive on a
 * socketpair; run_finish() turns them plus the mini-init's wait status into
 * the run's status.
 *
 * Restart in place: a mini-init that is PID 1 of its own pid namespace does
 * not exit when the service ends; it kills and reaps the rest of its
 * namespace and reports "I". The run ends there (status.init_alive), and the
 * next run_start() only sends it "S": one fork + exec in the replica, no
 * clone, no setup, no cgroup migration (on cgroup v1 the first migration
 * after a quiet moment waits for an RCU grace period, 8-21 ms measured). An
 * idle mini-init that dies (OOM killer, berthd's cgroup kill) is reaped and
 * forgotten; the next run_start() clones a fresh one, as without a pid
 * namespace, where every run has its own mini-init.
 *
 * Fallbacks: CLONE_INTO_CGROUP refused (EINVAL/EOPNOTSUPP/EBUSY/E2BIG) ->
 * clone3 without it, the child then writes itself into the v2 cgroup.procs
 * like the v1 ones; clone3 missing (ENOSYS, Linux < 5.3) -> clone(2) with
 * CLONE_PIDFD. Either way the child joins its cgroups as its very first act,
 * before any setup, and the service is only forked after that. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#define BERTH_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args of linux/sched.h (Linux 5.7 layout), kept here to avoid
 * the clash between <linux/sched.h> and glibc's <sched.h>. */
struct berth_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        uint64_t set_tid, set_tid_size, cgroup;
};

bool run_active(const struct shim_ctx *c) {
        return c->run.status.state == SHIM_RUN_RUNNING;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Field 22 of /proc/PID/stat: with the pid, identifies a process for good. */
static uint64_t proc_start_ticks(pid_t pid) {
        char path[32], buf[1024];
        const char *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        safe_close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        p = strrchr(buf, ')'); /* comm may contain anything, even ") " */
        if (!p)
                return 0;
        /* after ")": field 3 (state) ... field 22 */
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        return p ? strtoull(p + 1, NULL, 10) : 0;
}

static pid_t clone_raw(uint64_t flags, int cgroup_fd, int *ret_pidfd, bool *ret_joined) {
        struct berth_clone_args a = {
                .flags = flags | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        pid_t pid;

        *ret_joined = false;
        if (cgroup_fd >= 0) {
                a.flags |= BERTH_CLONE_INTO_CGROUP;
                a.cgroup = (uint64_t) cgroup_fd;
                pid = (pid_t) syscall(SYS_clone3, &a, sizeof a);
                if (pid >= 0) {
                        *ret_joined = true;
                        return pid;
                }
                if (errno != EINVAL && errno != EOPNOTSUPP && errno != EBUSY && errno != E2BIG && errno != ENOSYS)
                        return -errno;
                if (errno != ENOSYS)
                        shim_log("CLONE_INTO_CGROUP: %m, the replica joins its v2 cgroup itself");
                a.flags &= ~BERTH_CLONE_INTO_CGROUP;
                a.cgroup = 0;
        }
        pid = (pid_t) syscall(SYS_clone3, &a, sizeof a);
        if (pid >= 0)
                return pid;
        if (errno != ENOSYS)
                return -errno;
        shim_log("clone3: %m, falling back to clone(2)");
        /* clone(2): x86-64 argument order (flags, stack, parent_tid, child_tid,
         * tls); CLONE_PIDFD returns the pidfd through parent_tid. */
        pid = (pid_t) syscall(SYS_clone, (unsigned long) (flags | CLONE_PIDFD | SIGCHLD), NULL, ret_pidfd, NULL, 0);
        if (pid < 0 && errno == EINVAL) { /* Linux < 5.2: no pidfd, signals go by pid */
                *ret_pidfd = -1;
                pid = (pid_t) syscall(SYS_clone, (unsigned long) (flags | SIGCHLD), NULL, NULL, NULL, 0);
        }
        return pid < 0 ? -errno : pid;
}

bool run_init_idle(const struct shim_ctx *c) {
        return !run_active(c) && c->run.status.init_alive;
}

static int send_signal(int pidfd, pid_t pid, int signo);

static void report_done(struct shim_ctx *c) {
        (void) epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, c->run.report_fd, NULL);
        c->run.report_fd = safe_close(c->run.report_fd);
}

/* The idle mini-init is gone (reaped): nothing of it stays open. */
static void forget_init(struct shim_ctx *c) {
        struct run *run = &c->run;

        if (run->report_fd >= 0)
                report_done(c);
        run->pidfd = safe_close(run->pidfd);
        run->service_pidfd = safe_close(run->service_pidfd);
        run->status.init_alive = false;
        run->idle_reported = run->quit_sent = false;
}

/* The next run in the idle mini-init: "S", and the new run's status. The pid
 * stays the mini-init's; the service's arrives with its "P". */
static int start_in_place(struct shim_ctx *c) {
        struct run *run = &c->run;
        struct shim_status *st = &run->status;
        int r;

        if (run->report_fd < 0)
                return -EPIPE; /* its end is closed: it is exiting */
        if (send(run->report_fd, "S", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                return -errno;
        *st = (struct shim_status) {
                .shim_pid = getpid(),
                .run = st->run + 1,
                .state = SHIM_RUN_RUNNING,
                .pid = st->pid,
                .start_usec = now_usec(),
                .start_ticks = st->start_ticks, /* the mini-init's, as for its first run */
                .exit_code = -1,
        };
        run->service_pidfd = safe_close(run->service_pidfd);
        run->have_report = run->idle_reported = run->quit_sent = run->forked = false;
        r = shim_status_write(c->spec->status_path, st, false);
        if (r < 0)
                shim_log("write %s: %s, ignoring", c->spec->status_path, strerror(-r));
        shim_log("run %llu started in place, pid %d", (unsigned long long) st->run, (int) st->pid);
        return 0;
}

/* The idle mini-init cannot take the run (its channel is gone or refuses):
 * it is dying or must; make sure, reap it (our child: its pid cannot be
 * reused before that) and forget it. */
static void discard_init(struct shim_ctx *c) {
        pid_t pid = c->run.status.pid;

        (void) send_signal(c->run.pidfd, pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        forget_init(c);
}

/* ------------------------------------------------------------ standby */

#define STANDBY_READY_TIMEOUT_MS 10000

int run_standby_prepare(struct shim_ctx *c, char *error, size_t size) {
        const struct launch_spec *s = c->spec;
        int sp[2], pidfd = -1, one = 1, r;
        bool joined;
        pid_t pid;

        error[0] = 0;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        if (setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                r = -errno;
                safe_close(sp[0]);
                safe_close(sp[1]);
                return r;
        }
        pid = clone_raw(s->clone_flags & ~(uint64_t) CLONE_NEWCGROUP, -1, &pidfd, &joined);
        if (pid < 0) {
                safe_close(sp[0]);
                safe_close(sp[1]);
                return pid;
        }
        if (pid == 0) {
                safe_close(sp[0]);
                mini_init_standby_main(s, sp[1], c->out_w, c->err_w);
        }
        safe_close(sp[1]);
        c->run.pidfd = pidfd;
        c->run.report_fd = sp[0];
        c->run.status.pid = pid;
        c->run.status.start_ticks = proc_start_ticks(pid);

        /* "R" once its file system is ready; "E<text>" and the end otherwise */
        for (;;) {
                struct pollfd pfd = { .fd = sp[0], .events = POLLIN };
                char buf[REPORT_MAX + 1];
                ssize_t n;

                r = poll(&pfd, 1, STANDBY_READY_TIMEOUT_MS);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        r = r == 0 ? -ETIMEDOUT : -errno;
                        break;
                }
                n = recv(sp[0], buf, sizeof buf - 1, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = -ECHILD;
                        break;
                }
                if (buf[0] == 'R') {
                        if (fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0)
                                shim_log("fcntl(report): %m");
                        return 0;
                }
                if (buf[0] == 'E' && !error[0])
                        snprintf(error, size, "%.*s", (int) n - 1, buf + 1);
        }
        run_standby_discard(c);
        return r;
}

int run_standby_claim(struct shim_ctx *c, const char *spec_path, const char *spec_text, size_t len, int log_fd) {
        const struct launch_spec *s = c->spec;
        struct run *run = &c->run;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_REPORT };
        union shim_cmsg_buf ctl;
        struct iovec iov[4] = { { .iov_base = (void *) "C", .iov_len = 1 },
                                { .iov_base = (void *) spec_path, .iov_len = strlen(spec_path) },
                                { .iov_base = (void *) "\n", .iov_len = 1 },
                                { .iov_base = (void *) spec_text, .iov_len = len } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 4 };
        pid_t pid = run->status.pid;
        int r, size = (int) MIN(len + 4096, (size_t) INT_MAX), fds[SHIM_FDS_MAX + 1];
        size_t n_fds = 0;
        char num[16];

        if (!c->standby || run->report_fd < 0)
                return -ESRCH;
        /* limits first: the mini-init is moved into the replica's cgroups
         * before it learns what to run */
        snprintf(num, sizeof num, "%d", (int) pid);
        for (char **p = s->cgroup_procs; p && *p; p++) {
                r = write_string_file(*p, num);
                if (r < 0) {
                        shim_log("join cgroup %s: %s", *p, strerror(-r));
                        return r;
                }
        }
        if (s->cgroup_v2_dir) {
                char path[PATH_MAX];
                snprintf(path, sizeof path, "%s/cgroup.procs", s->cgroup_v2_dir);
                r = write_string_file(path, num);
                if (r < 0) {
                        shim_log("join cgroup %s: %s", path, strerror(-r));
                        return r;
                }
        }
        /* the listening sockets, then the replica's shim.log: its stderr */
        memcpy(fds, c->listen_fds, sizeof(int) * c->n_listen_fds);
        n_fds = c->n_listen_fds;
        fds[n_fds++] = log_fd;
        shim_cmsg_put_fds(&mh, &ctl, fds, n_fds);
        /* one message: a large spec needs a larger send buffer */
        if (len + 1 > 64 * 1024 && setsockopt(run->report_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
                (void) setsockopt(run->report_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        if (sendmsg(run->report_fd, &mh, MSG_NOSIGNAL) < 0) {
                r = -errno;
                shim_log("hand the spec to the mini-init: %m");
                return r;
        }
        if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, run->report_fd, &ev) < 0)
                shim_log("epoll_ctl(report): %m, reports are read when the run ends");
        c->standby = false;
        run->status = (struct shim_status) {
                .shim_pid = getpid(),
                .run = 1,
                .state = SHIM_RUN_RUNNING,
                .pid = pid,
                .start_usec = now_usec(),
                .start_ticks = run->status.start_ticks,
                .exit_code = -1,
        };
        run->service_pidfd = -1;
        run->have_report = run->idle_reported = run->quit_sent = run->forked = false;
        return 0;
}

void run_wait_forked(struct shim_ctx *c, int timeout_ms) {
        struct run *run = &c->run;
        uint64_t deadline = now_usec() + (uint64_t) timeout_ms * 1000;

        while (!run->forked && !run->status.exec_error[0] && run->report_fd >= 0) {
                struct pollfd pfd = { .fd = run->report_fd, .events = POLLIN };
                uint64_t now = now_usec();
                int r;

                if (now >= deadline)
                        break;
                r = poll(&pfd, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        break;
                if (r == 0)
                        break;
                (void) run_read_reports(c);
        }
}

void run_standby_discard(struct shim_ctx *c) {
        pid_t pid = c->run.status.pid;

        if (pid <= 0)
                return;
        c->run.report_fd = safe_close(c->run.report_fd);
        /* nothing of it is worth a goodbye: its mounts go with its namespace */
        (void) send_signal(c->run.pidfd, pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        c->run.pidfd = safe_close(c->run.pidfd);
        c->run.status.pid = 0;
}

int run_restart_in_place(struct shim_ctx *c) {
        return run_init_idle(c) ? start_in_place(c) : -ESRCH;
}

int run_start(struct shim_ctx *c) {
        const struct launch_spec *s = c->spec;
        struct run *run = &c->run;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_REPORT };
        int sp[2], pidfd = -1, one = 1, r;
        bool joined;
        pid_t pid;

        if (run_active(c))
                return -EBUSY;
        if (run_init_idle(c)) {
                r = start_in_place(c);
                if (r >= 0)
                        return 0;
                shim_log("idle mini-init %d: %s, starting a fresh one", (int) run->status.pid, strerror(-r));
                discard_init(c);
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        /* Set before the clone: every report then carries its sender's pid. */
        if (setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
            fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }

        /* CLONE_NEWCGROUP is left to the child: it must join its cgroups first. */
        pid = clone_raw(s->clone_flags & ~(uint64_t) CLONE_NEWCGROUP, c->cgroup_fd, &pidfd, &joined);
        if (pid < 0) {
                r = pid;
                goto fail;
        }
        if (pid == 0) {
                safe_close(sp[0]);
                mini_init_main(s, joined, sp[1], c->out_w, c->err_w);
        }
        safe_close(sp[1]);

        *run = (struct run) {
                .status = {
                        .shim_pid = getpid(),
                        .run = run->status.run + 1,
                        .state = SHIM_RUN_RUNNING,
                        .pid = pid,
                        .start_usec = now_usec(),
                        .start_ticks = proc_start_ticks(pid),
                        .exit_code = -1,
                },
                .pidfd = pidfd,
                .service_pidfd = -1,
                .report_fd = sp[0],
        };
        if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, sp[0], &ev) < 0)
                shim_log("epoll_ctl(report): %m, reports are read when the run ends");
        /* Not fsync'ed: a "running" record is worthless after a crash of the machine. */
        r = shim_status_write(s->status_path, &run->status, false);
        if (r < 0)
                shim_log("write %s: %s, ignoring", s->status_path, strerror(-r));
        shim_log("run %llu started, pid %d", (unsigned long long) run->status.run, (int) pid);
        return 0;
fail:
        safe_close(sp[0]);
        safe_close(sp[1]);
        return r;
}

static void handle_report(struct shim_ctx *c, const char *m, size_t n, pid_t sender) {
        struct shim_status *st = &c->run.status;
        char num[16];

        switch (m[0]) {
        case 'P':
                if (sender <= 0 || st->service_pid > 0)
                        break;
                st->service_pid = sender;
                c->run.service_pidfd = (int) syscall(SYS_pidfd_open, sender, 0);
                break;
        case 'E':
                if (!st->exec_error[0]) /* the first failure is the cause */
                        snprintf(st->exec_error, sizeof st->exec_error, "%.*s", (int) (n - 1), m + 1);
                break;
        case 'X':
        case 'K':
                snprintf(num, sizeof num, "%.*s", (int) MIN(n - 1, sizeof num - 1), m + 1);
                c->run.have_report = true;
                if (m[0] == 'X') {
                        st->exit_code = atoi(num);
                        st->exit_signal = 0;
                } else {
                        st->exit_code = -1;
                        st->exit_signal = atoi(num);
                        st->core_dumped = strchr(num, 'c') != NULL;
                }
                break;
        case 'R': /* a standby's "ready": read by run_standby_prepare() */
                break;
        case 'F': /* the mini-init started the service (it exec'd, or failed and said why) */
                c->run.forked = true;
                break;
        case 'I':
                if (c->run.have_report && run_active(c))
                        c->run.idle_reported = true;
                else
                        shim_log("idle report without the service's end, ignoring");
                break;
        default:
                shim_log("unknown report '%c', ignoring", m[0]);
        }
}

int run_read_reports(struct shim_ctx *c) {
        for (;;) {
                char buf[REPORT_MAX + 1];
                union {
                        struct cmsghdr h;
                        char b[CMSG_SPACE(sizeof(struct ucred))];
                } ctl;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
                pid_t sender = 0;
                ssize_t n;

                if (c->run.report_fd < 0)
                        return -EAGAIN;
                n = recvmsg(c->run.report_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return -EAGAIN;
                        shim_log("read reports: %m");
                        report_done(c);
                        return -EAGAIN;
                }
                if (n == 0) { /* every writer is gone */
                        report_done(c);
                        return -EAGAIN;
                }
                buf[n] = 0;
                for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
                        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred u;
                                memcpy(&u, CMSG_DATA(h), sizeof u);
                                sender = u.pid; /* translated into our pid namespace by the kernel */
                        }
                handle_report(c, buf, (size_t) n, sender);
        }
}

/* The run is over (st->state EXITED): the status file and the log. */
static void run_ended(struct shim_ctx *c) {
        struct shim_status *st = &c->run.status;
        int r;

        /* atomic (rename) but not fsync'd: berthd hears of the exit at once
         * and syncs the state directory itself; the file describes a run of a
         * live system and has nothing to say after a power loss */
        r = shim_status_write(c->spec->status_path, st, false);
        if (r < 0)
                shim_log("write %s: %s", c->spec->status_path, strerror(-r));
        if (st->exit_signal)
                shim_log("run %llu ended: killed by signal %d%s%s%s", (unsigned long long) st->run, st->exit_signal,
                         st->exec_error[0] ? ": " : "", st->exec_error, st->init_alive ? " (mini-init idle)" : "");
        else
                shim_log("run %llu ended: exit code %d%s%s%s", (unsigned long long) st->run, st->exit_code,
                         st->exec_error[0] ? ": " : "", st->exec_error, st->init_alive ? " (mini-init idle)" : "");
}

bool run_finish_idle(struct shim_ctx *c) {
        struct run *run = &c->run;
        struct shim_status *st = &run->status;

        if (!run_active(c) || !run->idle_reported)
                return false;
        /* exit_code/exit_signal came with the "X"/"K" report */
        st->state = SHIM_RUN_EXITED;
        st->exit_usec = now_usec();
        st->acked = false;
        st->init_alive = true;
        run->service_pidfd = safe_close(run->service_pidfd);
        run_ended(c);
        return true;
}

void run_quit_init(struct shim_ctx *c) {
        struct run *run = &c->run;

        if (!run_init_idle(c) || run->quit_sent)
                return;
        run->quit_sent = true;
        shim_log("telling the idle mini-init %d to exit", (int) run->status.pid);
        if (run->report_fd < 0 || send(run->report_fd, "Q", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                (void) send_signal(run->pidfd, run->status.pid, SIGKILL);
}

void run_finish(struct shim_ctx *c, int wait_status) {
        struct run *run = &c->run;
        struct shim_status *st = &run->status;

        (void) run_read_reports(c); /* the mini-init's last words precede its exit */
        if (run->report_fd >= 0)
                report_done(c);

        if (!run_active(c)) {
                /* an idle mini-init exited (QUIT, the OOM killer, a cgroup
                 * kill): the run was over already, only the file changes */
                bool quitting = run->quit_sent;
                if (!st->init_alive)
                        return;
                forget_init(c);
                shim_log("idle mini-init %d exited (wait status 0x%x)", (int) st->pid, (unsigned) wait_status);
                /* Not when we quit: berthd may be removing the replica's
                 * directory right now (the file would come back). The file
                 * of a shim that is gone is never taken for a live mini-init. */
                if (!quitting) {
                        int r = shim_status_write(c->spec->status_path, st, false);
                        if (r < 0)
                                shim_log("write %s: %s", c->spec->status_path, strerror(-r));
                }
                return;
        }

        if (!run->have_report) {
                /* Setup failed, or the mini-init itself was killed (SIGKILL): its
                 * own status is the run's. */
                if (WIFSIGNALED(wait_status)) {
                        st->exit_code = -1;
                        st->exit_signal = WTERMSIG(wait_status);
                        st->core_dumped = WCOREDUMP(wait_status);
                } else {
                        st->exit_code = WEXITSTATUS(wait_status);
                        st->exit_signal = 0;
                }
        }
        st->state = SHIM_RUN_EXITED;
        st->exit_usec = now_usec();
        st->acked = false;
        st->init_alive = false;
        run->pidfd = safe_close(run->pidfd);
        run->service_pidfd = safe_close(run->service_pidfd);
        run->idle_reported = run->quit_sent = false;
        run_ended(c);
}

static int send_signal(int pidfd, pid_t pid, int signo) {
        if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0) >= 0)
                return 0;
        if (pidfd >= 0 && errno != ENOSYS)
                return -errno;
        return kill(pid, signo) < 0 ? -errno : 0;
}

int run_signal(struct shim_ctx *c, int signo) {
        struct run *run = &c->run;

        if (!run_active(c))
                return -ESRCH;
        if (signo <= 0 || signo >= NSIG)
                return -EINVAL;
        /* SIGKILL and SIGSTOP cannot be caught by the mini-init, so they go to
         * the service directly when we know it; before that, SIGKILL to the
         * mini-init ends the run (the pid namespace, or via PDEATHSIG). */
        if ((signo == SIGKILL || signo == SIGSTOP) && run->status.service_pid > 0)
                return send_signal(run->service_pidfd, run->status.service_pid, signo);
        return send_signal(run->pidfd, run->status.pid, signo);
}
