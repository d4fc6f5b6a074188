/* shim.h: internal interfaces between the parts of berth-shim:
 *
 *   shim.c       the daemon: daemonize, control socket, epoll loop, logs, status
 *   run.c        one run: clone3 of the mini-init into namespaces and cgroup,
 *                the report channel, turning the end of a run into a status
 *   setup.c      in the new namespaces: list of setup operations, then execute
 *   mini-init.c  PID 1 of the replica: forwards signals, reaps, execs the service
 *
 * Not a library: everything here runs in the shim process or in its clone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "launch.h"
#include "macro.h"
#include "shim-proto.h"

/* ------------------------------------------------------------ logging (shim.c)
 * One line per call to fd 2 (the shim's own log, <log_dir>/shim.log): no stdio
 * buffers. %m works (glibc). Also used by the mini-init before it execs. */
void shim_log(const char *fmt, ...) _printf_(1, 2);
/* Rewrites what /proc/PID/cmdline (ps) shows, within the original argv's
 * space: a claimed standby shim and its mini-init say whose they are. */
void shim_set_cmdline(const char *fmt, ...) _printf_(1, 2);

/* ------------------------------------------------------------ report channel
 * mini-init and the service child talk to the shim over a SOCK_SEQPACKET
 * socketpair, one short datagram per report; the shim's end has SO_PASSCRED,
 * so the kernel tells it the sender's pid as seen from the host (the only way
 * for the shim to learn the service's host pid across the pid namespace):
 *   "P"             the service child exists (pid from SCM_CREDENTIALS)
 *   "E<text>"       setup or exec failure, one human-readable line
 *   "X<code>"       the service exited with <code>
 *   "K<signo>[c]"   the service was killed by <signo> ("c": core dumped)
 *   "I"             (mini-init, own pid namespace only) after X/K: the rest of
 *                   the namespace is killed and reaped, it waits for the next run
 * and the other way, shim -> an idle mini-init:
 *   "S"             start the service again (restart in place)
 *   "Q"             exit (so does the end of the channel) */
#define REPORT_MAX 600
void report_send(int fd, const char *msg);
void report_errorf(int fd, const char *fmt, ...) _printf_(2, 3);

/* Exit codes of a run that never got to execute the service. */
#define EXIT_NOT_FOUND 127   /* exec: no such file */
#define EXIT_CANNOT_RUN 126  /* every other setup or exec failure */

/* ------------------------------------------------------------ runs (run.c) */
struct run {
        struct shim_status status; /* what berthd sees; status.init_alive: an idle mini-init waits */
        int pidfd;                 /* mini-init; -1 when no run is active and none is idle */
        int service_pidfd;         /* the service, once known; -1 otherwise */
        int report_fd;             /* our end of the report channel; -1 when none */
        bool have_report;          /* the mini-init reported the service's end */
        bool idle_reported;        /* ... and then "I": it waits for the next run */
        bool quit_sent;            /* an idle mini-init was told to exit */
        bool forked;               /* the mini-init reported "F": the service is started */
};

/* epoll data tags */
enum { TAG_SIGNAL = 1, TAG_LISTEN, TAG_CLIENT, TAG_OUT, TAG_ERR, TAG_REPORT, TAG_TIMER, TAG_LIFELINE };

struct shim_ctx {
        const struct launch_spec *spec;
        int epoll_fd;
        int out_r, out_w, err_r, err_w; /* the service's stdout/stderr pipes, kept across runs */
        int cgroup_fd;                  /* the v2 cgroup directory, or -1 */
        unsigned n_listen_fds;          /* listening sockets, kept for life (the service gets them at 3..) */
        int listen_fds[SHIM_FDS_MAX];   /* cold start: 3.. as berthd passed them; claimed: as received */
        bool standby;                   /* --standby and not claimed yet: run.pidfd/report_fd/status.pid
                                         * are the waiting mini-init's, status.state NONE */
        struct run run;
};

/* Starts run number status.run + 1: in the idle mini-init when there is one
 * (restart in place), else in a fresh clone. Registers the report fd on epoll_fd. */
int run_start(struct shim_ctx *c);
/* The next run in the idle mini-init only (-ESRCH without one); no fresh
 * clone. On success the new run has the idle mini-init's pid. */
int run_restart_in_place(struct shim_ctx *c);
/* Standby: clones the mini-init with the template's namespaces and waits
 * (bounded) for its "R": its file system is ready. 0, or -errno with the
 * mini-init's own words in error. */
int run_standby_prepare(struct shim_ctx *c, char *error, size_t size);
/* Claim: the waiting mini-init becomes run 1 of c->spec (already the
 * replica's, and both back to normal scheduling): moved into the spec's cgroups (its
 * pid written to each cgroup.procs), then sent "C" spec_path "\n" spec_text, the
 * listening sockets and log_fd (its stderr from then on). run->status says
 * run 1 is running; the caller writes the status file. */
int run_standby_claim(struct shim_ctx *c, const char *spec_path, const char *spec_text, size_t len, int log_fd);
/* Waits (up to timeout_ms) until the mini-init reported the service's
 * start ("F": after its exec) or a failure, so that what we do next does
 * not take the CPU the service starts on. */
void run_wait_forked(struct shim_ctx *c, int timeout_ms);
/* Standby retired: the waiting mini-init is told to go and reaped. */
void run_standby_discard(struct shim_ctx *c);
/* Reads pending reports (non-blocking); returns -EAGAIN when drained. */
int run_read_reports(struct shim_ctx *c);
/* The mini-init was reaped with this wait status: finalizes run->status
 * (active run), or forgets the idle mini-init (run already over). */
void run_finish(struct shim_ctx *c, int wait_status);
/* The mini-init reported the service's end and went idle ("I"): finalizes
 * run->status with init_alive. Returns false when there was nothing to end. */
bool run_finish_idle(struct shim_ctx *c);
/* No run is active and a mini-init is idle (status.init_alive). */
bool run_init_idle(const struct shim_ctx *c);
/* Tells an idle mini-init to exit (once); its reaping ends it for good. */
void run_quit_init(struct shim_ctx *c);
/* Delivers a signal to the service (through the mini-init when it can catch it). */
int run_signal(struct shim_ctx *c, int signo);
bool run_active(const struct shim_ctx *c);

/* ------------------------------------------------------------ in the clone */
/* Builds and executes the setup operations (setup.c). joined_v2: the clone
 * was born in the v2 cgroup already (CLONE_INTO_CGROUP). Reports a failure
 * on report_fd itself; returns 0 or -errno. */
int setup_run(const struct launch_spec *spec, bool joined_v2, unsigned parts, int report_fd);
/* Writes s to the existing file path (a cgroup's control file): 0 or -errno. */
int write_string_file(const char *path, const char *s);
/* The parts of the setup, in the order of a cold start (SETUP_ALL). A
 * standby's mini-init does SETUP_FS ahead, from its template, and
 * SETUP_IDENTITY when claimed, after the shim moved it into the cgroups. */
enum {
        SETUP_CGROUPS = 1 << 0,  /* join the cgroups (before anything runs) */
        SETUP_IDENTITY = 1 << 1, /* cgroup namespace, hostname, loopback */
        SETUP_FS = 1 << 2,       /* the mount namespace: root, /proc, /sys, /dev, /tmp, /run, mounts */
        SETUP_ALL = SETUP_CGROUPS | SETUP_IDENTITY | SETUP_FS,
};

/* The child of clone3: setup, then mini-init. Never returns (mini-init.c). */
_noreturn_ void mini_init_main(const struct launch_spec *spec, bool joined_v2, int report_fd,
                               int out_fd, int err_fd);
/* The child of a standby shim's clone: SETUP_FS of the template, "R" on
 * report_fd, then it waits for its replica: "C" path "\n" the launch spec's text
 * (the listening sockets attached) -> SETUP_IDENTITY and the first run, as
 * mini_init_main(); "Q" or EOF -> it exits. Never returns. */
_noreturn_ void mini_init_standby_main(const struct launch_spec *tmpl, int report_fd, int out_fd, int err_fd);
