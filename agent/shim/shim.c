/* shim.c: berth-shim, the per-replica keeper (containerd's shim, podman's
 * conmon): parent of the replica's mini-init, holder of its stdout/stderr,
 * recorder of its exit status. It outlives berthd restarts, so berthd can
 * reconnect and learn what happened meanwhile.
 *
 *   berth-shim [--standby] --spec PATH [--sync-fd N]
 *
 * Daemonizes (fork, setsid, fork), becomes a child subreaper, starts the first
 * run, writes "<shim_pid> <replica_pid>\n" (or "error <message>\n") on the
 * sync fd, then serves its control socket (lib/shim-proto.h).
 *
 * Listening sockets (network.ports, socket activation) arrive at fds 3, 4,
 * ... (one per listen_fd_name of the spec) and stay open for the shim's whole
 * life: the kernel keeps queueing connections while no run is active, and a
 * restarted berthd takes copies back with GET_FDS. Every run inherits them.
 *
 * Standby (--standby, PATH a template: launch_standby_template()): the shim
 * clones its mini-init ahead of any replica, which sets up its file system
 * and waits; the sync line comes once it is ready, and the sync fd stays
 * open as a lifeline: when berthd closes its end (exit, crash, or it retires
 * the standby) the standby goes, mini-init and all. CLAIM (with the
 * replica's launch spec and listening sockets) turns it into that replica's
 * shim: its log, control socket and status file, the mini-init moved into
 * the replica's cgroups, run 1 started; from then on it is like any other.
 *
 * Factory (--factory, PATH a standby template): a process that only forks
 * standbys, so that a new one costs a fork, not an exec of the shim, its
 * dynamic loading and daemonizing. berthd sends "S <n>" with a pipe's write
 * end (SCM_RIGHTS) over the sync fd (a SOCK_SEQPACKET socket); the child
 * becomes standby n (socket <log_dir>/standby-<n>.sock, that pipe its sync
 * fd and lifeline). EOF on the socket (berthd gone) ends the factory; its
 * standbys have lifelines of their own.
 *
 * --stage-dir DIR (standbys and factory): each standby makes DIR/<id>.<pid>/
 * with an empty shim.log while it waits; a claim renames that directory to
 * the replica's log directory when the replica has none yet, and renames
 * the standby's socket to the replica's: a rename instead of a mkdir and two
 * file creations on the start's path (each costs up to 0.4 ms on slow
 * disks). DIR must be on the log directories' file system.
 *
 * Small on purpose (<= 256 KiB Pss idle): raw epoll and libc, no timers (zero
 * wakeups while idle), no stdio. The service's output goes through
 * logfile.c (CRI records, one file per run, rotation) into the spec's
 * log_dir, or to the journal (journal.c). Its own diagnostics go to
 * <log_dir>/shim.log, never into the service's log. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "logfile.h"
#include "shim.h"

#define PIPE_SIZE (1024 * 1024)
#define READS_PER_WAKEUP 8                    /* then the other fds get their turn */
#define DROP_REPORT_INTERVAL_USEC 1000000     /* LOG_DROPPED at most once a second within an episode */

static struct shim_ctx ctx = { .cgroup_fd = -1, .run = { .pidfd = -1, .service_pidfd = -1, .report_fd = -1 } };
static struct launch_spec *spec;
static int sync_fd = -1, listen_fd = -1, client_fd = -1, signal_fd = -1;
static int drop_timer_fd = -1; /* armed only while a drop report waits for its turn */
static bool quit_requested;
static struct launch_spec *standby_template; /* --standby until claimed */
static bool factory;                         /* --factory */
static char *stage_root;                     /* --stage-dir (a copy) */
static char stage_path[PATH_MAX];            /* a standby's staged log directory ("": none) */
static int staged_log_fd = -1;               /* its shim.log */
static char *arg_area; /* argv's strings, for shim_set_cmdline() */
static size_t arg_area_size;

/* berthd's standing order (ARM): restart the run at once when it ends. */
static struct {
        uint64_t run; /* 0: none */
        uint64_t min_uptime_usec;
        bool on_failure;
} order;
static char io_buf[64 * 1024]; /* only touched when output arrives */
static struct logfile lf;
static struct {
        uint64_t dropped;
        bool dropping;
        uint64_t at;
} drops_reported;
static char msg_buf[SHIM_MSG_MAX + 1]; /* control messages in and out, one at a time */

/* ------------------------------------------------------------ logging */

void shim_log(const char *fmt, ...) {
        char buf[1024];
        struct timespec ts;
        struct tm tm;
        va_list ap;
        int n, saved = errno;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ berth-shim[%d] %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, (int) getpid(),
                     spec && spec->id ? spec->id : "-");
        errno = saved; /* for %m */
        va_start(ap, fmt);
        n += vsnprintf(buf + n, sizeof buf - (size_t) n - 1, fmt, ap);
        va_end(ap);
        n = MIN(n, (int) sizeof buf - 2);
        buf[n++] = '\n';
        (void) !write(STDERR_FILENO, buf, (size_t) n);
        errno = saved;
}

void shim_set_cmdline(const char *fmt, ...) {
        char text[PATH_MAX + 32];
        va_list ap;
        size_t n;

        if (!arg_area || arg_area_size < 2)
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        n = MIN(strlen(text), arg_area_size - 1);
        memcpy(arg_area, text, n);
        memset(arg_area + n, 0, arg_area_size - n);
}

_printf_(2, 3) static void write_line(int fd, const char *fmt, ...) {
        char buf[SHIM_TEXT_MAX + 16];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        (void) !write(fd, buf, (size_t) MIN(MAX(n, 0), (int) sizeof buf - 1));
}

/* Fails the start: one line on the sync fd for berthd, and our exit. */
static void stage_discard(void);

_noreturn_ _printf_(1, 2) static void sync_fail(const char *fmt, ...) {
        char buf[SHIM_TEXT_MAX];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        n = MIN(MAX(n, 0), (int) sizeof buf - 1);
        for (int i = 0; i < n; i++)
                if (buf[i] == '\n')
                        buf[i] = ' ';
        shim_log("%s", buf);
        if (sync_fd >= 0)
                write_line(sync_fd, "error %s\n", buf);
        if (spec && spec->socket_path && listen_fd >= 0)
                (void) unlink(spec->socket_path);
        stage_discard(); /* a standby's, not taken */
        _exit(EXIT_FAILURE);
}

static void drop_client(const char *why);

/* ------------------------------------------------------------ process setup */

static void daemonize(void) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                sync_fail("fork: %m");
        if (pid > 0) {
                /* The process berthd started waits for the middle one, so no
                 * zombie is left behind whoever our parent is. */
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        if (setsid() < 0)
                sync_fail("setsid: %m");
        pid = fork();
        if (pid < 0)
                sync_fail("fork: %m");
        if (pid > 0)
                _exit(0); /* the final shim is no session leader: it can never get a tty */
}

/* <log_dir>/shim.log, for our diagnostics (stderr). */
static int shim_log_fd(void) {
        char path[PATH_MAX];
        int fd;

        if ((size_t) snprintf(path, sizeof path, "%s/shim.log", spec->log_dir) >= sizeof path)
                sync_fail("log directory path too long: %s", spec->log_dir);
        if (mkdir(spec->log_dir, 0750) < 0 && errno != EEXIST)
                sync_fail("create the log directory %s: %m", spec->log_dir);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                sync_fail("open %s: %m", path);
        return fd;
}

static void open_shim_log(void) {
        int fd = shim_log_fd();

        if (dup2(fd, STDERR_FILENO) < 0)
                sync_fail("dup2: %m");
        safe_close(fd);
}

static void setup_process(void) {
        int fd, first;

        umask(0077);
        if (chdir("/") < 0)
                sync_fail("chdir /: %m");
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
                sync_fail("open /dev/null: %m");
        if (fd > STDERR_FILENO)
                safe_close(fd);
        open_shim_log();
        /* Nothing of berthd's (sockets, journal streams) stays open here,
         * except the listening sockets it handed us at 3.. */
        first = LAUNCH_LISTEN_FDS_START + (int) ctx.n_listen_fds;
        if (sync_fd > first)
                (void) close_range((unsigned) first, (unsigned) sync_fd - 1, 0);
        (void) close_range((unsigned) MAX(sync_fd + 1, first), ~0U, 0);
        if (sync_fd >= 0)
                (void) fcntl(sync_fd, F_SETFD, FD_CLOEXEC);

        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                sync_fail("PR_SET_CHILD_SUBREAPER: %m");
}

static void epoll_add(int fd, uint32_t tag) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
        if (epoll_ctl(ctx.epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                sync_fail("epoll_ctl: %m");
}

static void setup_signals(void) {
        struct sigaction ign = { .sa_handler = SIG_IGN };
        sigset_t all, mine;

        /* Block everything the mini-init forwards: it is born with this mask,
         * so no signal can reach it before it waits for them. */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        (void) sigaction(SIGPIPE, &ign, NULL);
        (void) sigaction(SIGHUP, &ign, NULL); /* survive berthd's session ending */

        sigemptyset(&mine);
        sigaddset(&mine, SIGCHLD);
        sigaddset(&mine, SIGTERM);
        sigaddset(&mine, SIGINT);
        signal_fd = signalfd(-1, &mine, SFD_NONBLOCK | SFD_CLOEXEC);
        if (signal_fd < 0)
                sync_fail("signalfd: %m");
        epoll_add(signal_fd, TAG_SIGNAL);
}

static void setup_control_socket(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(spec->socket_path) >= sizeof sa.sun_path)
                sync_fail("control socket %s: path longer than %zu bytes", spec->socket_path, sizeof sa.sun_path - 1);
        strcpy(sa.sun_path, spec->socket_path);
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listen_fd < 0)
                sync_fail("control socket: %m");
        (void) unlink(spec->socket_path); /* a stale socket of a previous shim */
        /* umask 0077: only root (berthd) can connect. */
        if (bind(listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int e = errno;
                listen_fd = safe_close(listen_fd);
                errno = e;
                sync_fail("control socket %s: %m", spec->socket_path);
        }
        if (listen(listen_fd, 4) < 0)
                sync_fail("listen %s: %m", spec->socket_path);
        epoll_add(listen_fd, TAG_LISTEN);
}

static void logfile_shim_log(void *userdata, const char *line) {
        shim_log("%s", line);
}

/* The listening sockets berthd passed: they must be there, and sockets. They
 * get CLOEXEC here; the service child clears it on its copies. */
static void setup_listen_fds(void) {
        ctx.n_listen_fds = (unsigned) launch_spec_n_listen_fds(spec);
        for (unsigned i = 0; i < ctx.n_listen_fds; i++) {
                int fd = ctx.listen_fds[i] = LAUNCH_LISTEN_FDS_START + (int) i;
                struct stat st;
                if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                        sync_fail("listening socket %s: fd %d is not an open socket (berthd passes %u at fd %d..)",
                                  spec->listen_fd_names[i], fd, ctx.n_listen_fds, LAUNCH_LISTEN_FDS_START);
                if (fd == sync_fd)
                        sync_fail("--sync-fd %d overlaps the listening sockets", sync_fd);
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
}

/* GET_FDS: copies of the listening sockets, with their names, over SCM_RIGHTS. */
static void send_fds(void) {
        struct shim_msg m = { .type = SHIM_MSG_FDS, .n_fds = ctx.n_listen_fds };
        union shim_cmsg_buf ctl;
        struct iovec iov;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        size_t len = 0;
        int n;

        if (client_fd < 0)
                return;
        for (unsigned i = 0; i < ctx.n_listen_fds; i++) {
                /* names are informational (berthd identifies a socket by its
                 * address): drop what does not fit */
                size_t l = strlen(spec->listen_fd_names[i]);
                if (len + l + 2 > sizeof m.fd_names)
                        break;
                if (i > 0)
                        m.fd_names[len++] = ':';
                memcpy(m.fd_names + len, spec->listen_fd_names[i], l);
                len += l;
                m.fd_names[len] = 0;
        }
        n = shim_msg_encode(&m, msg_buf, sizeof msg_buf);
        if (n < 0) {
                shim_log("encode FDS: %s", strerror(-n));
                return;
        }
        iov = (struct iovec) { .iov_base = msg_buf, .iov_len = (size_t) n };
        shim_cmsg_put_fds(&mh, &ctl, ctx.listen_fds, ctx.n_listen_fds);
        if (sendmsg(client_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                drop_client(strerror(errno));
}

/* The service's stdout and stderr pipes (kept across runs). */
static void create_pipes(void) {
        int out[2], err[2];

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                sync_fail("pipe: %m");
        /* 1 MiB per pipe: a service does not stall while we are busy (issue 11
         * of ANCHORS.md: a stalled stdout stalls the workload). */
        if (fcntl(out[0], F_SETPIPE_SZ, PIPE_SIZE) < 0 || fcntl(err[0], F_SETPIPE_SZ, PIPE_SIZE) < 0)
                shim_log("F_SETPIPE_SZ %d: %m, keeping the default pipe size", PIPE_SIZE);
        if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) < 0)
                sync_fail("fcntl: %m");
        ctx.out_r = out[0], ctx.out_w = out[1];
        ctx.err_r = err[0], ctx.err_w = err[1];
}

/* What the pipes carry goes to the replica's log. */
static void setup_output(void) {
        struct logfile_ops ops = { .log = logfile_shim_log };
        int dir_fd;

        dir_fd = open(spec->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                sync_fail("open the log directory %s: %m", spec->log_dir);
        if (spec->log_driver == LAUNCH_LOG_JOURNALD) {
                int r = journal_open(spec->id);
                if (r < 0)
                        shim_log("logging.driver journald: %s; writing log files instead", journal_error());
                else
                        ops.record = journal_record;
        }
        logfile_init(&lf, dir_fd, spec->log_max_size, spec->log_max_files, &ops);
        epoll_add(ctx.out_r, TAG_OUT);
        epoll_add(ctx.err_r, TAG_ERR);
}

/* ------------------------------------------------------------ output */

/* Reads what one pipe holds (a bounded number of reads) into the log: one
 * clock reading per read (logfile_input), records written in big chunks.
 * Returns false once the pipe is empty. */
static bool copy_output(int fd, enum log_stream s) {
        for (int i = 0; i < READS_PER_WAKEUP; i++) {
                ssize_t n = read(fd, io_buf, sizeof io_buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0)
                        logfile_eof(&lf, s); /* cannot happen while we hold the write ends */
                if (n <= 0)
                        return false;
                logfile_input(&lf, s, io_buf, (size_t) n);
                if ((size_t) n < sizeof io_buf)
                        return false;
        }
        return true;
}

/* Everything the pipes hold (1 MiB each at most), bounded: a leftover child
 * writing without pause cannot keep us here. */
static void drain_output(void) {
        for (int i = 0; i < 16 && copy_output(ctx.out_r, LOG_STDOUT); i++)
                ;
        for (int i = 0; i < 16 && copy_output(ctx.err_r, LOG_STDERR); i++)
                ;
        (void) logfile_flush(&lf);
}

/* ------------------------------------------------------------ control socket *//* ------------------------------------------------------------ control socket */

static void drop_client(const char *why) {
        if (client_fd < 0)
                return;
        if (why)
                shim_log("dropping client: %s", why);
        (void) epoll_ctl(ctx.epoll_fd, EPOLL_CTL_DEL, client_fd, NULL);
        client_fd = safe_close(client_fd);
}

static void send_msg(const struct shim_msg *m) {
        char *buf = msg_buf;
        int n;

        if (client_fd < 0)
                return;
        n = shim_msg_encode(m, buf, sizeof msg_buf);
        if (n < 0) {
                shim_log("encode %s: %s", shim_msg_type_to_string(m->type), strerror(-n));
                return;
        }
        /* A client that does not read gets dropped rather than blocking us: it
         * gets everything again in HELLO when it reconnects. */
        if (send(client_fd, buf, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                drop_client(strerror(errno));
}

static void send_status(enum shim_msg_type type) {
        struct shim_msg m = { .type = type, .status = ctx.run.status };
        m.status.shim_pid = getpid();
        m.status.log_dropped_bytes = logfile_dropped(&lf);
        m.status.log_dropping = logfile_dropping(&lf);
        send_msg(&m);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Tells berthd about dropped output: when an episode starts and ends, and
 * at most once a second in between. */
static void report_log_drops(void) {
        uint64_t dropped = logfile_dropped(&lf), now;
        bool dropping = logfile_dropping(&lf);

        if (dropped == drops_reported.dropped && dropping == drops_reported.dropping)
                return;
        now = now_usec();
        if (dropping == drops_reported.dropping && now < drops_reported.at + DROP_REPORT_INTERVAL_USEC) {
                /* report the rest later, even if no output comes any more */
                struct itimerspec its = { .it_value = { .tv_sec = 0, .tv_nsec = 1000 *
                        (long) (drops_reported.at + DROP_REPORT_INTERVAL_USEC - now) } };
                if (drop_timer_fd < 0) {
                        drop_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
                        if (drop_timer_fd >= 0) {
                                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_TIMER };
                                if (epoll_ctl(ctx.epoll_fd, EPOLL_CTL_ADD, drop_timer_fd, &ev) < 0)
                                        drop_timer_fd = safe_close(drop_timer_fd);
                        }
                }
                if (drop_timer_fd >= 0)
                        (void) timerfd_settime(drop_timer_fd, 0, &its, NULL);
                return;
        }
        ctx.run.status.log_dropped_bytes = dropped;
        ctx.run.status.log_dropping = dropping;
        drops_reported.dropped = dropped;
        drops_reported.dropping = dropping;
        drops_reported.at = now;
        send_status(SHIM_MSG_LOG_DROPPED);
}

/* A run has just started: its own log file (the previous run's is complete:
 * drained before the start, its held lines written when it ended). */
static void log_new_run(void) {
        int log_run;

        ctx.run.status.log_dropped_bytes = logfile_dropped(&lf);
        ctx.run.status.log_dropping = logfile_dropping(&lf);
        log_run = logfile_start_run(&lf);
        if (log_run > 0)
                shim_log("run %llu writes its output to %s/%08d.log", (unsigned long long) ctx.run.status.run,
                         spec->log_dir, log_run);
}

/* A new run on request: the previous run's last output into its file, the
 * start (clone or in place), then the new run's log file. */
static int start_run(void) {
        int r;

        drain_output();
        r = run_start(&ctx);
        if (r < 0)
                return r;
        log_new_run();
        return 0;
}

_printf_(2, 3) static void send_error(int error, const char *fmt, ...) {
        struct shim_msg m = { .type = SHIM_MSG_ERROR, .error = error };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(m.message, sizeof m.message, fmt, ap);
        va_end(ap);
        send_msg(&m);
}

static void on_accept(void) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0)
                return;
        drop_client(NULL); /* one client at a time: the newest is berthd */
        client_fd = fd;
        epoll_add(client_fd, TAG_CLIENT);
        send_status(SHIM_MSG_HELLO);
}

/* ------------------------------------------------------------ standby */

/* The staged log directory, when no claim took it. */
static void stage_discard(void) {
        staged_log_fd = safe_close(staged_log_fd);
        if (!stage_path[0])
                return;
        int dfd = open(stage_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void) unlinkat(dfd, "shim.log", 0);
                safe_close(dfd);
        }
        (void) rmdir(stage_path);
        stage_path[0] = 0;
}

/* A standby's log directory for the replica that will claim it (best
 * effort: without one, the claim creates the replica's). */
static void stage_prepare(void) {
        if (!stage_root ||
            (size_t) snprintf(stage_path, sizeof stage_path, "%s/%s.%d", stage_root, spec->id, (int) getpid()) >=
                    sizeof stage_path) {
                stage_path[0] = 0;
                return;
        }
        if (mkdir(stage_path, 0750) < 0 || chmod(stage_path, 0750) < 0) { /* our umask is 0077 */
                shim_log("standby: create %s: %m, claims create the log directory", stage_path);
                (void) rmdir(stage_path);
                stage_path[0] = 0;
                return;
        }
        int dfd = open(stage_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        staged_log_fd = dfd < 0 ? -1 : openat(dfd, "shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        safe_close(dfd);
        if (staged_log_fd < 0)
                stage_discard();
}

/* The claiming replica's shim.log. Its log directory is the staged one,
 * renamed, when it has none yet (a new replica); the service's directory is
 * made for its first replica. Otherwise (a replica that ran before) its own
 * directory, and the staged one is discarded once the claim is answered. */
static int claim_log_fd(void) {
        if (staged_log_fd >= 0) {
                int r = rename(stage_path, spec->log_dir) < 0 ? -errno : 0;
                if (r == -ENOENT) {
                        char parent[PATH_MAX];
                        snprintf(parent, sizeof parent, "%s", spec->log_dir);
                        char *slash = strrchr(parent, '/');
                        if (slash && slash != parent) {
                                *slash = 0;
                                if (mkdir(parent, 0750) == 0)
                                        (void) chmod(parent, 0750);
                                r = rename(stage_path, spec->log_dir) < 0 ? -errno : 0;
                        }
                }
                if (r == 0) {
                        stage_path[0] = 0;
                        return TAKE_FD(staged_log_fd);
                }
        }
        return shim_log_fd();
}

/* The standby is retired (berthd let go, QUIT, SIGTERM) or broken. */
static _noreturn_ void standby_exit(const char *why) {
        shim_log("standby: %s, exiting", why);
        stage_discard();
        run_standby_discard(&ctx);
        (void) unlink((standby_template ? standby_template : spec)->socket_path);
        _exit(0);
}

/* A deferred CLAIM: the next request must be START (the replica's cgroups
 * exist now). */
static int wait_for_start_request(int timeout_ms) {
        for (;;) {
                struct pollfd pfd = { .fd = client_fd, .events = POLLIN };
                struct shim_msg m;
                ssize_t n;
                int r = poll(&pfd, 1, timeout_ms);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return r == 0 ? -ETIMEDOUT : -errno;
                n = recv(client_fd, msg_buf, sizeof msg_buf, MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : -errno;
                if (shim_msg_decode(msg_buf, (size_t) n, &m) < 0 || m.type != SHIM_MSG_START)
                        return -EPROTO;
                return 0;
        }
}

/* CLAIM: become the shim of the replica whose launch spec is at
 * m->spec_path, and start its first run in the waiting mini-init. What
 * cannot be taken (unreadable, does not fit) is refused and we stay a
 * standby; a failure half-way ends us (berthd starts that replica cold). */
static void on_claim(const struct shim_msg *m, const int *fds, size_t n_fds) {
        _cleanup_free_ char *text = NULL;
        struct launch_spec *s = NULL;
        size_t len = 0;
        int r, log_fd;

        if (m->spec_fd) { /* the text comes with the claim, the file may come later */
                if (n_fds == 0) {
                        send_error(EINVAL, "claim: SPEC_FD=1 without an fd");
                        goto refuse;
                }
                n_fds--;
                struct stat st;
                r = fstat(fds[n_fds], &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EBADF : 0;
                if (r >= 0)
                        r = launch_read_text_fd(fds[n_fds], &text, &len);
                safe_close(fds[n_fds]);
        } else {
                _cleanup_close_ int fd = open(m->spec_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                r = fd < 0 ? -errno : launch_read_text_fd(fd, &text, &len);
        }
        if (r >= 0)
                r = launch_spec_parse(text, len, &s);
        if (r < 0) {
                send_error(-r, "claim: read %s: %s", m->spec_path, strerror(-r));
                goto refuse;
        }
        if (!launch_spec_fits_standby(s) || launch_spec_n_listen_fds(s) != n_fds) {
                send_error(EINVAL, "claim: %s does not fit this standby", s->id);
                goto refuse;
        }

        spec = s; /* sync_fail() from here: berthd starts the replica cold */
        ctx.spec = s;
        ctx.n_listen_fds = (unsigned) n_fds;
        memcpy(ctx.listen_fds, fds, sizeof(int) * n_fds);
        log_fd = claim_log_fd(); /* berthd put us and the mini-init back to normal priority (standby_take) */
        if (m->deferred) {
                r = wait_for_start_request(5000);
                if (r < 0) {
                        char why[64];
                        snprintf(why, sizeof why, "claim abandoned before START (%s)", strerror(-r));
                        standby_exit(why);
                }
        }
        /* the replica first: what the shim itself becomes (log, socket,
         * status) is done while the service starts; its output waits in
         * the pipe meanwhile */
        r = run_standby_claim(&ctx, m->spec_path, text, len, log_fd);
        if (r < 0)
                sync_fail("claim: start replica: %s", strerror(-r));
        run_wait_forked(&ctx, 100);
        if (dup2(log_fd, STDERR_FILENO) < 0)
                shim_log("dup2: %m");
        safe_close(log_fd);
        /* the standby's listening socket, renamed, is the replica's */
        if (rename(standby_template->socket_path, spec->socket_path) < 0) {
                (void) epoll_ctl(ctx.epoll_fd, EPOLL_CTL_DEL, listen_fd, NULL);
                listen_fd = safe_close(listen_fd);
                (void) unlink(standby_template->socket_path);
                setup_control_socket();
        }
        setup_output();
        r = shim_status_write(spec->status_path, &ctx.run.status, false);
        if (r < 0)
                shim_log("write %s: %s, ignoring", spec->status_path, strerror(-r));
        shim_log("run 1 started in a standby mini-init, pid %d", (int) ctx.run.status.pid);
        /* a replica's shim from now on: it outlives berthd, and says so in ps */
        sync_fd = safe_close(sync_fd);
        shim_set_cmdline("berth-shim --spec %s", m->spec_path);
        standby_template = launch_spec_free(standby_template);
        log_new_run();
        send_status(SHIM_MSG_STATUS);
        stage_discard(); /* not taken: the replica had its directory */
        return;
refuse:
        launch_spec_free(s);
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
}

static void on_request(const struct shim_msg *m) {
        struct shim_status *st = &ctx.run.status;
        int r;

        if (ctx.standby) {
                if (m->type == SHIM_MSG_QUIT)
                        standby_exit("quit requested");
                if (m->type != SHIM_MSG_GET_STATUS) {
                        send_error(EINVAL, "%s: this is a standby shim, not claimed yet",
                                   shim_msg_type_to_string(m->type) ?: "request");
                        return;
                }
        }
        switch (m->type) {
        case SHIM_MSG_CLAIM:
                send_error(EALREADY, "claim: this shim keeps %s already", spec->id);
                return;
        case SHIM_MSG_START:
                if (run_active(&ctx)) {
                        send_error(EBUSY, "run %llu is still active (pid %d)", (unsigned long long) st->run,
                                   (int) st->pid);
                        return;
                }
                r = start_run();
                if (r < 0) {
                        shim_log("start run: %s", strerror(-r));
                        send_error(-r, "start replica: %s", strerror(-r));
                        return;
                }
                break;
        case SHIM_MSG_SIGNAL:
                order.run = 0; /* berthd stops the run: no restart of ours */
                r = run_signal(&ctx, m->signo);
                if (r < 0) {
                        send_error(-r, "signal %d: %s", m->signo, r == -ESRCH ? "no active run" : strerror(-r));
                        return;
                }
                break;
        case SHIM_MSG_ACK_EXIT:
                if (m->run != 0 && m->run == st->prev_run) {
                        st->prev_run = 0; /* ended by the order: its end is recorded */
                        break;
                }
                if (st->state != SHIM_RUN_EXITED || st->run != m->run) {
                        send_error(ESRCH, "run %llu has not exited (current run %llu, %s)",
                                   (unsigned long long) m->run, (unsigned long long) st->run,
                                   shim_run_state_to_string(st->state));
                        return;
                }
                if (!st->acked) {
                        st->acked = true;
                        r = shim_status_write(spec->status_path, st, false);
                        if (r < 0)
                                shim_log("write %s: %s, ignoring", spec->status_path, strerror(-r));
                }
                break;
        case SHIM_MSG_GET_STATUS:
                break;
        case SHIM_MSG_ARM:
                /* for a run that is over already: no order (the STATUS says why) */
                order.run = m->run != 0 && run_active(&ctx) && m->run == st->run ? m->run : 0;
                order.min_uptime_usec = m->min_uptime_usec;
                order.on_failure = m->on_failure;
                break;
        case SHIM_MSG_GET_FDS:
                send_fds();
                return;
        case SHIM_MSG_QUIT:
                order.run = 0;
                quit_requested = true;
                shim_log("quit requested%s", run_active(&ctx)      ? ", exiting when the run ends"
                                             : run_init_idle(&ctx) ? ", exiting when the idle mini-init has"
                                                                   : "");
                break;
        default:
                send_error(EINVAL, "%s is not a request", shim_msg_type_to_string(m->type));
                return;
        }
        send_status(SHIM_MSG_STATUS);
}

static void on_client(uint32_t events) {
        char *buf = msg_buf; /* decoded into m before any reply reuses it */
        union shim_cmsg_buf ctl;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof msg_buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
        int fds[SHIM_CMSG_FDS_MAX];
        size_t n_fds = 0;
        struct shim_msg m;
        ssize_t n;

        n = recvmsg(client_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        drop_client(strerror(errno));
                return;
        }
        n_fds = shim_cmsg_take_fds(&mh, fds, SHIM_CMSG_FDS_MAX);
        if (n == 0) { /* berthd went away (or restarts): we carry on */
                drop_client(NULL);
                goto close_fds;
        }
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t) n > SHIM_MSG_MAX) {
                send_error(EMSGSIZE, "request larger than %d bytes", SHIM_MSG_MAX);
                goto close_fds;
        }
        if (shim_msg_decode(buf, (size_t) n, &m) < 0) {
                send_error(EBADMSG, "malformed request");
                goto close_fds;
        }
        if (m.type == SHIM_MSG_CLAIM && ctx.standby) {
                on_claim(&m, fds, n_fds); /* takes the fds */
                return;
        }
        on_request(&m);
close_fds: /* fds come only with CLAIM */
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
}

/* ------------------------------------------------------------ children */

static void on_signal(void) {
        struct signalfd_siginfo si;

        while (read(signal_fd, &si, sizeof si) == (ssize_t) sizeof si) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                        shim_log("received %s, exiting once no run is active", strsignal((int) si.ssi_signo));
                        quit_requested = true;
                }
        }
        /* SIGCHLD coalesces: reap everything. As a subreaper we also adopt the
         * leftovers of a replica without pid namespace: reaped and forgotten. */
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        break;
                if (pid != ctx.run.status.pid)
                        continue;
                if (ctx.standby) {
                        ctx.run.status.pid = 0; /* reaped */
                        ctx.run.pidfd = safe_close(ctx.run.pidfd);
                        standby_exit("the waiting mini-init died");
                }
                if (run_active(&ctx)) {
                        drain_output(); /* the service's last words go first */
                        logfile_end_run(&lf); /* its unterminated lines as F records */
                        run_finish(&ctx, status);
                        send_status(SHIM_MSG_EXITED);
                        (void) malloc_trim(0);
                } else if (run_init_idle(&ctx))
                        run_finish(&ctx, status); /* the idle mini-init exited: no message, the run was over */
        }
}

/* The standing order applies to the run that just ended in place. Requests
 * berthd sent before the end come first (a SIGNAL or an ARM with RUN=0 in
 * the queue cancels the order: berthd stopped the run). */
static bool order_applies(void) {
        const struct shim_status *st = &ctx.run.status;
        char c;

        if (order.run != st->run) /* 0 (none) never is: runs count from 1 */
                return false;
        while (client_fd >= 0 && recv(client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
                on_client(EPOLLIN);
        if (order.run != st->run || quit_requested || st->exec_error[0])
                return false;
        if (order.on_failure && st->exit_code == 0 && st->exit_signal == 0)
                return false;
        return st->exit_usec >= st->start_usec && st->exit_usec - st->start_usec >= order.min_uptime_usec;
}

/* The service ended and its mini-init waits in place: report the end, or,
 * on berthd's standing order, start the next run first (the restart does
 * not wait for berthd: one hop, like a classic supervisor) and report both
 * in one EXITED message. berthd records it after the fact. */
static void on_run_idle(void) {
        drain_output();
        if (!run_finish_idle(&ctx))
                return;
        logfile_end_run(&lf); /* its unterminated lines as F records */
        if (order_applies()) {
                struct shim_msg m = { .type = SHIM_MSG_EXITED, .status = ctx.run.status };
                int r;

                order.run = 0;
                r = run_restart_in_place(&ctx);
                if (r >= 0) {
                        log_new_run();
                        /* kept until berthd acknowledges it: a berthd that was
                         * away learns this end from HELLO */
                        ctx.run.status.prev_run = m.status.run;
                        ctx.run.status.prev_exit_code = m.status.exit_code;
                        ctx.run.status.prev_exit_signal = m.status.exit_signal;
                        ctx.run.status.prev_exit_usec = m.status.exit_usec;
                        m.status.shim_pid = getpid();
                        m.status.next_started = true;
                        send_msg(&m);
                        return;
                }
                shim_log("restart at once: %s; reporting the end instead", strerror(-r));
        }
        order.run = 0;
        send_status(SHIM_MSG_EXITED);
        (void) malloc_trim(0);
}

static _noreturn_ void shutdown_shim(void) {
        drain_output();
        logfile_done(&lf);
        (void) unlink(spec->socket_path);
        shim_log("exiting");
        _exit(0);
}

static _noreturn_ void event_loop(void) {
        for (;;) {
                struct epoll_event ev[8];
                int n = epoll_wait(ctx.epoll_fd, ev, ELEMENTSOF(ev), -1);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        shim_log("epoll_wait: %m");
                        _exit(EXIT_FAILURE);
                }
                for (int i = 0; i < n; i++) {
                        switch (ev[i].data.u32) {
                        case TAG_SIGNAL:
                                on_signal();
                                break;
                        case TAG_LISTEN:
                                on_accept();
                                break;
                        case TAG_CLIENT:
                                if (client_fd >= 0)
                                        on_client(ev[i].events);
                                break;
                        case TAG_OUT:
                                (void) copy_output(ctx.out_r, LOG_STDOUT);
                                break;
                        case TAG_ERR:
                                (void) copy_output(ctx.err_r, LOG_STDERR);
                                break;
                        case TAG_REPORT:
                                (void) run_read_reports(&ctx);
                                if (run_active(&ctx) && ctx.run.idle_reported)
                                        on_run_idle();
                                break;
                        case TAG_LIFELINE:
                                standby_exit("berthd let go of this standby");
                        case TAG_TIMER: {
                                uint64_t expirations;
                                (void) !read(drop_timer_fd, &expirations, sizeof expirations);
                                break; /* report_log_drops() below */
                        }
                        }
                }
                /* the service's end may have been read outside TAG_REPORT
                 * (a claim waits for "F" and reads what comes with it: a
                 * service that exits at once reports "X" and "I" too) */
                if (run_active(&ctx) && ctx.run.idle_reported)
                        on_run_idle();
                /* records reach the file at the end of every wakeup */
                (void) logfile_flush(&lf);
                report_log_drops();
                if (quit_requested && ctx.standby)
                        standby_exit("asked to quit");
                if (quit_requested && !run_active(&ctx)) {
                        if (!run_init_idle(&ctx))
                                shutdown_shim();
                        run_quit_init(&ctx); /* we exit once it is reaped */
                }
        }
}

/* ------------------------------------------------------------ standby, factory */

/* Standbys are prepared and wait at idle priority: one in the making never
 * slows down a start. berthd puts shim and mini-init back to normal before
 * it wakes them with CLAIM (standby_take()). */
static void go_idle(void) {
        struct sched_param sp = {};
        if (sched_setscheduler(0, SCHED_IDLE, &sp) < 0)
                shim_log("standby: sched_setscheduler(SCHED_IDLE): %m, preparing at normal priority");
}

/* What a shim serves from (standby or not): the event loop, signals, its
 * control socket, the service's output pipes. */
static void setup_loop(void) {
        ctx.spec = spec;
        ctx.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (ctx.epoll_fd < 0)
                sync_fail("epoll_create1: %m");
        setup_signals();
        setup_control_socket();
        create_pipes();
}

/* A standby from here on (setup_process() done): its mini-init prepared,
 * the sync line, then requests until CLAIM or the lifeline breaks. */
static _noreturn_ void standby_main(void) {
        char error[SHIM_TEXT_MAX];
        struct epoll_event ev = { .events = 0, .data.u32 = TAG_LIFELINE }; /* EPOLLERR: berthd closed its end */
        int r;

        setup_loop();
        standby_template = spec;
        r = run_standby_prepare(&ctx, error, sizeof error);
        if (r < 0)
                sync_fail("standby: prepare the mini-init: %s", error[0] ? error : strerror(-r));
        stage_prepare();
        if (sync_fd < 0 || epoll_ctl(ctx.epoll_fd, EPOLL_CTL_ADD, sync_fd, &ev) < 0)
                sync_fail("standby: needs --sync-fd as its lifeline");
        write_line(sync_fd, "%d %d\n", (int) getpid(), (int) ctx.run.status.pid);
        (void) malloc_trim(0);
        event_loop();
}

/* In the factory's child: standby n, with lifeline as its sync fd. */
static _noreturn_ void factory_child(unsigned n, int lifeline) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        char *sock = NULL, *id = NULL;

        (void) sigaction(SIGCHLD, &dfl, NULL); /* the factory reaps automatically; we must not */
        safe_close(sync_fd);
        sync_fd = lifeline;
        if (asprintf(&sock, "%s/standby-%u.sock", spec->log_dir, n) < 0 || asprintf(&id, "standby-%u", n) < 0)
                sync_fail("out of memory");
        spec->socket_path = sock; /* the template's own strings stay: a fork's copy, never freed */
        spec->id = id;
        shim_set_cmdline("berth-shim --standby %s", sock);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) /* not inherited across fork */
                sync_fail("PR_SET_CHILD_SUBREAPER: %m");
        standby_main();
}

static _noreturn_ void factory_main(void) {
        struct sigaction nowait = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };

        /* standbys (and the replicas' shims they become) are reaped by the
         * kernel: the factory never waits for them */
        (void) sigaction(SIGCHLD, &nowait, NULL);
        (void) sigaction(SIGPIPE, &(struct sigaction) { .sa_handler = SIG_IGN }, NULL);
        write_line(sync_fd, "%d %d\n", (int) getpid(), (int) getpid());
        go_idle(); /* inherited by every standby it forks */
        (void) malloc_trim(0);
        for (;;) {
                union shim_cmsg_buf ctl;
                char buf[64];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
                int fds[1];
                unsigned n;
                ssize_t len = recvmsg(sync_fd, &mh, MSG_CMSG_CLOEXEC);

                if (len < 0 && errno == EINTR)
                        continue;
                if (len <= 0) {
                        shim_log("factory: berthd is gone, exiting");
                        _exit(0);
                }
                buf[len] = 0;
                int fd = shim_cmsg_take_fds(&mh, fds, 1) == 1 ? fds[0] : -1;
                if (fd < 0 || sscanf(buf, "S %u", &n) != 1) {
                        shim_log("factory: malformed request, ignoring");
                        safe_close(fd);
                        continue;
                }
                pid_t pid = fork();
                if (pid == 0)
                        factory_child(n, fd);
                if (pid < 0)
                        shim_log("factory: fork: %m"); /* berthd sees the pipe close without a line */
                safe_close(fd);
        }
}

/* ------------------------------------------------------------ main */

static void usage(void) {
        static const char text[] = "Usage: berth-shim [--standby|--factory [--stage-dir DIR]] --spec PATH [--sync-fd N]\n"
                                   "Keeps one berth replica: started by berthd, not by hand.\n";
        (void) !write(STDOUT_FILENO, text, sizeof text - 1);
}

int main(int argc, char *argv[]) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        const char *spec_path = NULL;
        sigset_t none;
        int r;

        if (argc > 0) {
                arg_area = argv[0];
                arg_area_size = (size_t) (argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
        }

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--spec") && i + 1 < argc)
                        spec_path = argv[++i];
                else if (streq(argv[i], "--standby"))
                        ctx.standby = true;
                else if (streq(argv[i], "--factory"))
                        factory = ctx.standby = true;
                else if (streq(argv[i], "--stage-dir") && i + 1 < argc) {
                        /* a copy: the factory and its standbys rewrite their argv (shim_set_cmdline) */
                        if (argv[++i][0] != '/' || !(stage_root = strdup(argv[i]))) {
                                shim_log("--stage-dir %s: not an absolute path, or out of memory", argv[i]);
                                return EXIT_FAILURE;
                        }
                }
                else if (streq(argv[i], "--sync-fd") && i + 1 < argc) {
                        char *end;
                        long v = strtol(argv[++i], &end, 10);
                        if (*end || v < 3 || v > 65535 || fcntl((int) v, F_GETFD) < 0) {
                                shim_log("--sync-fd %s: not an open file descriptor", argv[i]);
                                return EXIT_FAILURE;
                        }
                        sync_fd = (int) v;
                } else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        usage();
                        return 0;
                } else if (streq(argv[i], "--version")) {
                        (void) !write(STDOUT_FILENO, BERTH_VERSION "\n", strlen(BERTH_VERSION) + 1);
                        return 0;
                } else {
                        usage();
                        return EXIT_FAILURE;
                }
        }
        if (!spec_path) {
                usage();
                return EXIT_FAILURE;
        }

        /* Start from a clean signal state: berthd's mask and ignored signals
         * are inherited across execve. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &dfl, NULL);

        if (ctx.standby && !factory)
                go_idle(); /* the factory only once it is ready: berthd waits for that */
        r = launch_spec_read(spec_path, &spec);
        if (r < 0)
                sync_fail("read spec %s: %s", spec_path,
                          r == -EBADMSG ? "corrupt or not a berth launch spec" : strerror(-r));

        if (ctx.standby && (launch_spec_n_listen_fds(spec) > 0 || !launch_spec_fits_standby(spec)))
                sync_fail("%s: not a standby template", spec_path);
        setup_listen_fds();
        daemonize();
        setup_process();
        if (factory)
                factory_main();
        if (ctx.standby)
                standby_main();
        setup_loop();
        setup_output();
        if (spec->cgroup_v2_dir) {
                ctx.cgroup_fd = open(spec->cgroup_v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (ctx.cgroup_fd < 0)
                        sync_fail("open cgroup %s: %m", spec->cgroup_v2_dir);
        }

        r = start_run();
        if (r < 0)
                sync_fail("start replica: %s", strerror(-r));
        if (sync_fd >= 0) {
                write_line(sync_fd, "%d %d\n", (int) getpid(), (int) ctx.run.status.pid);
                sync_fd = safe_close(sync_fd);
        }
        /* Give back what start-up allocated and freed (spec text, temp names). */
        (void) malloc_trim(0);
        event_loop();
}
