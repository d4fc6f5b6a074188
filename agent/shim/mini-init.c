/* mini-init.c: the replica's PID 1 (tini/catatonit's job) and the exec of the
 * service.
 *
 * The clone of the shim lands in mini_init_main(): it runs the setup (setup.c),
 * starts the service (clone with CLONE_VM | CLONE_VFORK, as posix_spawn does:
 * the child sets the credentials and execs while we sleep, without a copy
 * of our page tables), then loops on sigwaitinfo(): every catchable signal is
 * forwarded to the service, SIGCHLD reaps every zombie (orphans are reparented
 * to us: PID 1 of the pid namespace, or a subreaper without one). When the
 * service ends, its exact status goes to the shim over the report channel
 * (PID 1 of a pid namespace cannot re-raise a fatal signal on itself).
 *
 * Then, without a pid namespace, we exit (the shim clones a fresh mini-init
 * for the next run). As PID 1 of our own pid namespace we restart in place
 * instead: kill(-1, SIGKILL) ends whatever else is left in the namespace (and
 * nothing outside it), we reap it all, report "I" (idle) and block on the
 * report channel until the shim says "S" (fork + exec the service again: no
 * clone, no setup, and above all no cgroup migration, which costs an RCU grace
 * period on cgroup v1) or "Q" / end of file (exit). The namespaces, mounts and
 * cgroup membership stay as they are.
 *
 * Kernel/glibc quirk: we are a raw clone3() child of the shim, so glibc's
 * cached thread id is the shim's: no raise(), abort() or pthread_* here. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "shim.h"

extern char **environ;

#define LISTEN_PID_VAR_MAX 32                /* "LISTEN_PID=" and a pid */
#define SERVICE_STACK_SIZE (128 * 1024)      /* the service child's, until its exec */

void report_send(int fd, const char *msg) {
        /* Best effort: a full or closed channel must not block PID 1. */
        (void) send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void report_errorf(int fd, const char *fmt, ...) {
        char buf[REPORT_MAX];
        va_list ap;

        buf[0] = 'E';
        va_start(ap, fmt);
        vsnprintf(buf + 1, sizeof buf - 1, fmt, ap);
        va_end(ap);
        /* Not logged here: in the service child, fd 2 is the service's log. The
         * shim logs the failure with the run's end. */
        report_send(fd, buf);
}

/* Signals mini-init must not block: faults are its own bugs, and SIGKILL/SIGSTOP
 * cannot be blocked anyway. */
static bool signal_is_sync(int sig) {
        return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP ||
               sig == SIGSYS || sig == SIGKILL || sig == SIGSTOP;
}

static void forwardable_set(sigset_t *set) {
        sigfillset(set);
        for (int sig = 1; sig < NSIG; sig++)
                if (signal_is_sync(sig))
                        sigdelset(set, sig);
}

/* ------------------------------------------------------------ the service child */

static int exit_code_for(int error) {
        return error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}

static const char *env_path(char **env) {
        for (char **e = env; e && *e; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        return *e + 5;
        return NULL;
}

static bool env_is_listen(const char *e) {
        return strncmp(e, "LISTEN_FDS=", 11) == 0 || strncmp(e, "LISTEN_PID=", 11) == 0 ||
               strncmp(e, "LISTEN_FDNAMES=", 15) == 0;
}

/* Socket activation, as systemd does it (sd_listen_fds(3)): the listening
 * sockets already sit at fds 3.. (berthd put them there for the shim, the
 * mini-init kept them; the child clears their CLOEXEC), and the environment
 * gets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, replacing the spec's own.
 * Built once by the mini-init (the child must not allocate: it shares our
 * memory); LISTEN_PID is the service's own pid as it sees it (it checks it
 * against getpid()), so the child writes it into *ret_pid_var. Returns the
 * environment (kept for every run) or NULL on ENOMEM. */
static char **listen_fds_env(const struct launch_spec *s, char **env, char **ret_pid_var) {
        size_t n = launch_spec_n_listen_fds(s), n_env = 0, names_len = 0, k = 0;
        char **v, *fds, *pid, *names;

        for (size_t i = 0; i < n; i++)
                names_len += strlen(s->listen_fd_names[i]) + 1;
        while (env && env[n_env])
                n_env++;
        v = calloc(n_env + 4, sizeof(char *));
        fds = malloc(32);
        pid = malloc(LISTEN_PID_VAR_MAX);
        names = malloc(names_len + sizeof "LISTEN_FDNAMES=");
        if (!v || !fds || !pid || !names) {
                free(v), free(fds), free(pid), free(names);
                return NULL;
        }
        snprintf(fds, 32, "LISTEN_FDS=%zu", n);
        snprintf(pid, LISTEN_PID_VAR_MAX, "LISTEN_PID=");
        *ret_pid_var = pid;
        strcpy(names, "LISTEN_FDNAMES=");
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(names, ":");
                strcat(names, s->listen_fd_names[i]);
        }
        for (size_t i = 0; i < n_env; i++)
                if (!env_is_listen(env[i]))
                        v[k++] = env[i];
        v[k++] = fds;
        v[k++] = pid;
        v[k++] = names;
        v[k] = NULL;
        return v;
}

/* What the service child needs; prepared by the mini-init, because the
 * child runs in its memory (clone with CLONE_VM | CLONE_VFORK, as
 * posix_spawn does: no page tables copied, no copy-on-write faults, the
 * mini-init sleeps until the exec). So the child only makes system calls
 * and formats into its own stack: no malloc, no stdio, no return. */
struct service_args {
        const struct launch_spec *spec;
        int report_fd, out_fd, err_fd;
        pid_t init_pid;
        char **env;        /* the service's environment, built once */
        char *listen_pid;  /* "LISTEN_PID=" in env, completed by the child; NULL without sockets */
};

_noreturn_ static void service_exec(const struct service_args *a) {
        const struct launch_spec *s = a->spec;
        int report_fd = a->report_fd, out_fd = a->out_fd, err_fd = a->err_fd;
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        const char *what;
        int r;

        report_send(report_fd, "P"); /* the shim learns our host pid from the credentials */

        if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) {
                r = -errno, what = "redirect output";
                goto fail;
        }
        safe_close(out_fd);
        safe_close(err_fd);
        (void) setsid();

        /* The service starts with default dispositions and nothing blocked:
         * the shim ignores SIGPIPE, mini-init blocks everything. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        /* Order matters: dropping the bounding set needs CAP_SETPCAP, changing
         * ids needs CAP_SETUID/SETGID, so both come before the final capset. */
        r = caps_drop_bounding_set(s->caps_keep);
        if (r < 0) {
                what = "drop capabilities";
                goto fail;
        }
        /* Supplementary groups are always replaced: nothing of berthd's leaks. */
        if (setgroups(s->n_groups, s->groups) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0) {
                r = -errno;
                report_errorf(report_fd, "set user %u:%u: %s", (unsigned) s->uid, (unsigned) s->gid, strerror(-r));
                _exit(EXIT_CANNOT_RUN);
        }
        r = caps_drop(s->caps_keep);
        if (r < 0) {
                what = "drop capabilities";
                goto fail;
        }
        /* no_new_privs always: setuid binaries and file caps cannot regain
         * what was dropped above. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = -errno, what = "set no_new_privs";
                goto fail;
        }
        /* Set after the id change (which clears it): the service must not
         * outlive its mini-init (matters without a pid namespace). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != a->init_pid)
                _exit(EXIT_CANNOT_RUN);

        if (chdir(s->cwd ? s->cwd : "/") < 0) {
                r = -errno;
                report_errorf(report_fd, "chdir %s: %s", s->cwd ? s->cwd : "/", strerror(-r));
                _exit(exit_code_for(-r));
        }

        if (a->listen_pid) {
                for (size_t i = 0; i < launch_spec_n_listen_fds(s); i++)
                        (void) fcntl(LAUNCH_LISTEN_FDS_START + (int) i, F_SETFD, 0);
                snprintf(a->listen_pid, LISTEN_PID_VAR_MAX, "LISTEN_PID=%d", (int) getpid());
        }
        /* the spec's environment only (environ is a->env: the mini-init set
         * it); execvp() searches its PATH */
        execvp(s->argv[0], s->argv);
        r = -errno;
        if (!strchr(s->argv[0], '/') && r == -ENOENT)
                report_errorf(report_fd, "exec %s: %s (not found in PATH=%s)", s->argv[0], strerror(-r),
                              env_path(s->env) ? env_path(s->env) : "(unset)");
        else
                report_errorf(report_fd, "exec %s: %s", s->argv[0], strerror(-r));
        _exit(exit_code_for(-r));

fail:
        report_errorf(report_fd, "%s: %s", what, strerror(-r));
        _exit(EXIT_CANNOT_RUN);
}

/* ------------------------------------------------------------ mini-init */

/* Keeps 0-2, the listening sockets (3..3+n_listen-1) and the given fds,
 * closes everything else we inherited from the shim. */
static void close_other_fds(unsigned n_listen, int a, int b, int c) {
        int keep[3] = { a, b, c };
        int from = LAUNCH_LISTEN_FDS_START + (int) n_listen;

        /* sort the three */
        for (int i = 0; i < 3; i++)
                for (int j = i + 1; j < 3; j++)
                        if (keep[j] < keep[i]) {
                                int t = keep[i];
                                keep[i] = keep[j];
                                keep[j] = t;
                        }
        for (int i = 0; i < 3; i++) {
                if (keep[i] > from)
                        (void) close_range((unsigned) from, (unsigned) keep[i] - 1, 0);
                from = MAX(from, keep[i] + 1);
        }
        (void) close_range((unsigned) from, ~0U, 0);
}

static void report_status(int fd, int status) {
        char buf[32];

        if (WIFSIGNALED(status))
                snprintf(buf, sizeof buf, "K%d%s", WTERMSIG(status), WCOREDUMP(status) ? "c" : "");
        else
                snprintf(buf, sizeof buf, "X%d", WEXITSTATUS(status));
        report_send(fd, buf);
}

/* PID 1 of a pid namespace of its own: kill(-1) then reaches exactly the rest
 * of that namespace. Both conditions, always: kill(-1, SIGKILL) anywhere else
 * would kill every process we may signal on the host. */
static bool in_own_pid_namespace(const struct launch_spec *spec) {
        return (spec->clone_flags & CLONE_NEWPID) && getpid() == 1;
}

/* Kills and reaps everything else in our pid namespace (daemons, orphans of
 * the run that ended). Every process of the namespace descends from us, so
 * once waitpid() says ECHILD the namespace holds us alone. kill(-1) runs
 * under the tasklist lock: no process forked after it escapes it. */
static void kill_namespace_rest(const struct launch_spec *spec) {
        if (!in_own_pid_namespace(spec))
                _exit(EXIT_CANNOT_RUN); /* never: callers check; kill(-1) must not run here */
        if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
                shim_log("mini-init: kill(-1): %m, ignoring");
        for (;;) {
                pid_t p = waitpid(-1, NULL, 0);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        break; /* ECHILD: nobody left */
        }
}

/* Idle between runs, blocked on the report channel (no timer, no wakeup).
 * Returns when the shim asks for a new run; exits on "Q" or when the shim's
 * end is gone (a shim that died leaves no idle mini-init behind). */
static void wait_for_start(int report_fd) {
        char c;

        for (;;) {
                ssize_t n = recv(report_fd, &c, 1, MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || c == 'Q')
                        _exit(0);
                if (c == 'S')
                        return;
        }
}

/* What every mini-init does first: only its own fds stay open, its name,
 * umask and signal state. */
static void prologue(unsigned n_listen, int report_fd, int out_fd, int err_fd) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t set;

        close_other_fds(n_listen, report_fd, out_fd, err_fd);
        (void) prctl(PR_SET_NAME, "berth-init", 0, 0, 0);
        /* The shim's umask (0077) is for its own files; mount points we create
         * and the service get the conventional 0022 (as Docker). */
        umask(0022);

        /* Everything forwardable stays blocked (as inherited from the shim),
         * and gets the default disposition: a signal that is blocked is queued
         * for sigwaitinfo() even for a pid-namespace init, which the kernel
         * would otherwise shield from signals without a handler. */
        forwardable_set(&set);
        sigprocmask(SIG_SETMASK, &set, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&set, sig))
                        (void) sigaction(sig, &dfl, NULL);
}

_noreturn_ static void run_loop(const struct launch_spec *spec, int report_fd, int out_fd, int err_fd);

_noreturn_ void mini_init_main(const struct launch_spec *spec, bool joined_v2, int report_fd, int out_fd,
                               int err_fd) {
        int r;

        prologue((unsigned) launch_spec_n_listen_fds(spec), report_fd, out_fd, err_fd);
        r = setup_run(spec, joined_v2, SETUP_ALL, report_fd);
        if (r < 0)
                _exit(exit_code_for(-r));
        run_loop(spec, report_fd, out_fd, err_fd);
}

/* fd moved to the lowest free number >= min (CLOEXEC), the old one closed. */
static int move_fd_up(int fd, int min) {
        int n;

        if (fd >= min)
                return fd;
        n = fcntl(fd, F_DUPFD_CLOEXEC, min);
        if (n < 0)
                return -errno;
        safe_close(fd);
        return n;
}

/* Waits for the claim: "C" + the replica's launch spec (its listening
 * sockets attached), or "Q"/EOF (the standby is retired). Returns the spec,
 * with the sockets placed at 3.. and the other fds moved above them. */
static struct launch_spec *wait_for_claim(int *report_fd, int *out_fd, int *err_fd) {
        for (;;) {
                union shim_cmsg_buf ctl;
                struct iovec iov;
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
                struct launch_spec *spec = NULL;
                int fds[SHIM_CMSG_FDS_MAX];
                size_t n_fds;
                char *buf, c;
                ssize_t n;

                /* the size first (a spec can be large), then the message */
                n = recv(*report_fd, &c, 1, MSG_PEEK | MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(0);
                buf = malloc((size_t) n + 1);
                if (!buf)
                        _exit(EXIT_CANNOT_RUN);
                iov = (struct iovec) { .iov_base = buf, .iov_len = (size_t) n };
                n = recvmsg(*report_fd, &mh, MSG_CMSG_CLOEXEC);
                if (n <= 0)
                        _exit(0);
                n_fds = shim_cmsg_take_fds(&mh, fds, SHIM_CMSG_FDS_MAX);
                if (buf[0] == 'Q')
                        _exit(0);
                buf[n] = 0;
                char *nl = memchr(buf, '\n', (size_t) n);
                if (buf[0] != 'C' || !nl ||
                    launch_spec_parse(nl + 1, (size_t) (buf + n - nl - 1), &spec) < 0 ||
                    launch_spec_n_listen_fds(spec) + 1 != n_fds) {
                        report_errorf(*report_fd, "standby: malformed claim");
                        _exit(EXIT_CANNOT_RUN);
                }
                *nl = 0;
                shim_set_cmdline("berth-shim --spec %s", buf + 1);
                free(buf);
                /* the last fd: the replica's shim.log, our stderr from now on */
                if (dup2(fds[--n_fds], STDERR_FILENO) < 0)
                        _exit(EXIT_CANNOT_RUN);
                safe_close(fds[n_fds]);
                /* the sockets go to 3..: whatever sits there moves up first */
                int top = LAUNCH_LISTEN_FDS_START + (int) n_fds;
                for (size_t i = 0; i < n_fds; i++)
                        top = MAX(top, fds[i] + 1);
                if ((*report_fd = move_fd_up(*report_fd, top)) < 0 || (*out_fd = move_fd_up(*out_fd, top)) < 0 ||
                    (*err_fd = move_fd_up(*err_fd, top)) < 0)
                        _exit(EXIT_CANNOT_RUN);
                for (size_t i = 0; i < n_fds; i++)
                        if ((fds[i] = move_fd_up(fds[i], top)) < 0)
                                _exit(EXIT_CANNOT_RUN);
                for (size_t i = 0; i < n_fds; i++) {
                        if (dup3(fds[i], LAUNCH_LISTEN_FDS_START + (int) i, O_CLOEXEC) < 0)
                                _exit(EXIT_CANNOT_RUN);
                        safe_close(fds[i]);
                }
                return spec;
        }
}

_noreturn_ void mini_init_standby_main(const struct launch_spec *tmpl, int report_fd, int out_fd, int err_fd) {
        struct launch_spec *spec;
        int r;

        prologue(0, report_fd, out_fd, err_fd);
        r = setup_run(tmpl, false, SETUP_FS, report_fd);
        if (r < 0)
                _exit(exit_code_for(-r));
        report_send(report_fd, "R");
        spec = wait_for_claim(&report_fd, &out_fd, &err_fd);
        /* the shim moved us into the replica's cgroups before it sent the claim */
        r = setup_run(spec, false, SETUP_IDENTITY, report_fd);
        if (r < 0)
                _exit(exit_code_for(-r));
        run_loop(spec, report_fd, out_fd, err_fd);
}

static int service_child(void *userdata) {
        service_exec(userdata);
}

_noreturn_ static void run_loop(const struct launch_spec *spec, int report_fd, int out_fd, int err_fd) {
        static char *empty_env[] = { NULL };
        struct service_args args = { .spec = spec, .report_fd = report_fd };
        sigset_t set;
        pid_t service;
        bool in_place;
        char *stack;

        forwardable_set(&set);
        args.init_pid = getpid();
        in_place = in_own_pid_namespace(spec);
        if (args.init_pid != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                shim_log("mini-init: PR_SET_CHILD_SUBREAPER: %m, ignoring");

        /* clearenv + the spec's environment (+ socket activation's) */
        args.env = spec->env ? spec->env : empty_env;
        if (launch_spec_n_listen_fds(spec) > 0) {
                args.env = listen_fds_env(spec, args.env, &args.listen_pid);
                if (!args.env) {
                        report_errorf(report_fd, "socket activation: %s", strerror(ENOMEM));
                        _exit(EXIT_CANNOT_RUN);
                }
        }
        environ = args.env;
        stack = mmap(NULL, SERVICE_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) {
                report_errorf(report_fd, "service stack: %m");
                _exit(EXIT_CANNOT_RUN);
        }

        for (;;) { /* one turn per run: more than one only in place */
                args.out_fd = out_fd;
                args.err_fd = err_fd;
                /* back when the service has exec'd (or failed to) */
                service = clone(service_child, stack + SERVICE_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
                if (service < 0) {
                        report_errorf(report_fd, "fork service: %m");
                        _exit(EXIT_CANNOT_RUN);
                }
                /* "F": the service is started (exec'd, or failed and said
                 * why); a shim that waits for it (a claim) goes on with its
                 * own work now */
                report_send(report_fd, "F");

                if (!in_place) { /* the output pipes are kept for the next run only */
                        out_fd = safe_close(out_fd);
                        err_fd = safe_close(err_fd);
                }

                for (;;) {
                        siginfo_t si;
                        int status, sig = sigwaitinfo(&set, &si);
                        pid_t p;

                        if (sig < 0)
                                continue; /* EINTR: nothing is unblocked, but be safe */
                        if (sig != SIGCHLD) {
                                /* Forward; the service may already be gone (ESRCH): fine. */
                                (void) kill(service, sig);
                                continue;
                        }
                        while ((p = waitpid(-1, &status, WNOHANG)) > 0 && p != service)
                                ; /* an orphan: reaped, that is all */
                        if (p != service)
                                continue;
                        report_status(report_fd, status);
                        if (!in_place)
                                /* Mirror the status in our own exit code too, for the record. */
                                _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
                        break;
                }

                kill_namespace_rest(spec);
                /* What is queued now (SIGCHLD of the leftovers, signals meant
                 * for the service that ended) belongs to no run. Dropped
                 * before "I": once the shim may start the next run, a signal
                 * for it can arrive before its fork and is forwarded then. */
                while (sigtimedwait(&set, NULL, &(const struct timespec) { 0, 0 }) > 0)
                        ;
                report_send(report_fd, "I");
                wait_for_start(report_fd);
        }
}
