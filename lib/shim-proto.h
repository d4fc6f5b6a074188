/* shim-proto.h: the protocol between berthd and berth-shim, shared by both.
 *
 * Transport: a unix SOCK_SEQPACKET socket the shim listens on (the spec's
 * socket_path). One message per packet; one client at a time (a new
 * connection replaces the old one). A message is text, one "KEY=VALUE" per
 * line, first line "MSG=<type>"; values are %-escaped like launch specs.
 * Decoders ignore unknown keys (a shim outlives berthd upgrades) but reject
 * duplicates, bad numbers and missing required keys with -EBADMSG.
 *
 * Conversation:
 *   on connect        shim -> HELLO (the current status)
 *   START             -> STATUS (new run running) | ERROR (EBUSY: a run is active)
 *                        with an idle mini-init (EXITED with INIT_ALIVE=1) the run
 *                        starts in place: same PID, new SERVICE_PID
 *   SIGNAL signo      -> STATUS | ERROR (ESRCH: no active run)
 *   ACK_EXIT run      -> STATUS (acked=1) | ERROR (ESRCH: no such exited run)
 *   GET_STATUS        -> STATUS
 *   QUIT              -> STATUS; the shim exits (removing its socket) once no run is active
 *                        (and an idle mini-init has exited)
 *   ARM run min_uptime_usec on_failure
 *                     -> STATUS (an order for a run that is not the active one is dropped)
 *                        berthd's standing order for the active run: should it end
 *                        in place (idle mini-init) after at least min_uptime_usec,
 *                        with a failure when on_failure, not by an exec error, and
 *                        with no request pending that came before its end, the shim
 *                        starts run + 1 at once and reports the end as EXITED with
 *                        NEXT_STARTED=1; that end stays in the status (PREV_RUN,
 *                        PREV_EXIT_*) until ACK_EXIT of it. One run only; any
 *                        SIGNAL, QUIT or ARM with RUN=0 cancels it.
 *   GET_FDS           -> FDS: n_fds and fd_names ("http:metrics"), with the
 *                        shim's listening sockets (network.ports) attached as
 *                        SCM_RIGHTS, in the launch spec's order (a restarted
 *                        berthd takes them back; the shim keeps its copies)
 *   CLAIM spec fds [deferred] [spec_fd]   (a standby shim only: berth-shim --standby)
 *                     -> STATUS (run 1 running in the prepared mini-init) | ERROR;
 *                        with DEFERRED=1 nothing, until the START that must
 *                        follow, which is answered instead. SPEC_FD=1: the
 *                        spec's text is read from one more attached fd (a
 *                        memfd, after the n_fds sockets) instead of the SPEC
 *                        file, which berthd may write later (it names the
 *                        replica's spec in the shim's command line)
 *   asynchronously    shim -> EXITED when a run ends (repeated in HELLO until ACK_EXIT)
 *   asynchronously    shim -> LOG_DROPPED (the status) when the log cannot be
 *                     written (a drop episode starts), at most once a second
 *                     while it goes on, and when writes work again
 *
 * Every request gets exactly one reply (STATUS, ERROR, or FDS for GET_FDS),
 * in order: berthd may send requests without waiting (SIGNAL, ARM,
 * ACK_EXIT) and count the replies it still owes itself before it reads the
 * reply of a request it waits for.
 *
 * Every status carries LOG_DROPPED_BYTES (bytes of log records the shim could
 * not write since it started; the key is left out while 0) and LOG_DROPPING=1
 * during a drop episode. Both are optional on the wire: a status without them
 * (an older shim) decodes as 0 / false.
 *
 * The shim also writes the status (as a STATUS message) to the spec's
 * status_path atomically, so berthd can learn a run's end without the socket.
 *
 * Pure functions, libc only, no allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SHIM_PROTO_VERSION 1
#define SHIM_MSG_MAX 4096   /* largest encoded message (one packet) */
#define SHIM_TEXT_MAX 512   /* exec-failure and error texts, NUL included */
#define SHIM_FDS_MAX 64     /* listening sockets per replica (network.ports max) */
#define SHIM_FD_NAMES_MAX (SHIM_FDS_MAX * 16 + 1) /* 64 names of <= 15 bytes, ':'-joined */

enum shim_msg_type {
        SHIM_MSG_INVALID = 0,
        /* shim -> berthd */
        SHIM_MSG_HELLO,
        SHIM_MSG_STATUS,
        SHIM_MSG_EXITED,
        SHIM_MSG_ERROR,
        SHIM_MSG_LOG_DROPPED,
        /* berthd -> shim */
        SHIM_MSG_START,
        SHIM_MSG_SIGNAL,
        SHIM_MSG_ACK_EXIT,
        SHIM_MSG_GET_STATUS,
        SHIM_MSG_QUIT,
        SHIM_MSG_ARM,
        SHIM_MSG_GET_FDS,
        /* shim -> berthd */
        SHIM_MSG_FDS,
        /* berthd -> a standby shim (berth-shim --standby): become the
         * replica of the launch spec at SPEC and start its first run in the
         * waiting mini-init; the listening sockets ride along (SCM_RIGHTS,
         * FDS says how many). Answered like START: STATUS or ERROR. With
         * DEFERRED=1 the replica's cgroups do not exist yet: the shim
         * prepares, says nothing, and starts the run on the START that
         * follows (answered like any START); anything else, or the
         * connection closing, and it exits. */
        SHIM_MSG_CLAIM,
        _SHIM_MSG_MAX,
};

enum shim_run_state {
        SHIM_RUN_NONE = 0,  /* no run started yet */
        SHIM_RUN_RUNNING,
        SHIM_RUN_EXITED,
};

struct shim_status {
        int version;                 /* SHIM_PROTO_VERSION of the sender */
        pid_t shim_pid;
        uint64_t run;                /* run number, 1 for the first run */
        enum shim_run_state state;
        pid_t pid;                   /* the replica's mini-init, host pid */
        pid_t service_pid;           /* the service, host pid; 0 = not known */
        uint64_t start_usec;         /* CLOCK_REALTIME */
        uint64_t start_ticks;        /* /proc/<pid>/stat field 22: detects pid reuse */
        /* state == SHIM_RUN_EXITED: */
        int exit_code;               /* -1 when killed by a signal */
        int exit_signal;             /* 0 unless killed by a signal */
        bool core_dumped;
        uint64_t exit_usec;          /* CLOCK_REALTIME */
        bool acked;                  /* berthd sent ACK_EXIT for this run */
        bool init_alive;             /* the run's mini-init is idle (PID 1 of its pid namespace,
                                      * leftovers killed) and the next START restarts in place;
                                      * false: it is gone, the next START clones a fresh one.
                                      * Only a live shim's word: the status file of a shim
                                      * that exited may still say true */
        bool next_started;           /* EXITED only: the shim started run + 1 at once, in place,
                                      * on berthd's standing order (ARM); it runs in the same
                                      * mini-init (pid) */
        char exec_error[SHIM_TEXT_MAX]; /* "" or why the service could not be started */
        /* the replica's log (any state): */
        uint64_t log_dropped_bytes;  /* bytes of log records dropped (write errors) since the shim started */
        bool log_dropping;           /* the shim is dropping output right now (an episode) */
        /* the run before, when the shim ended it and started this one on the
         * standing order and berthd has not acknowledged that end yet
         * (ACK_EXIT prev_run): its exit, so that a berthd that was away when
         * it happened still records it. prev_run 0: none. */
        uint64_t prev_run;
        int prev_exit_code;          /* -1 when killed by a signal */
        int prev_exit_signal;
        uint64_t prev_exit_usec;     /* CLOCK_REALTIME */
};

struct shim_msg {
        enum shim_msg_type type;
        struct shim_status status;   /* HELLO, STATUS, EXITED, LOG_DROPPED */
        int signo;                   /* SIGNAL */
        uint64_t run;                /* ACK_EXIT, ARM (0: cancel the order) */
        uint64_t min_uptime_usec;    /* ARM */
        bool on_failure;             /* ARM */
        int error;                   /* ERROR: positive errno */
        char message[SHIM_TEXT_MAX]; /* ERROR: human-readable */
        unsigned n_fds;              /* FDS: number of fds attached (<= SHIM_FDS_MAX) */
        char fd_names[SHIM_FD_NAMES_MAX]; /* FDS: their names joined with ':' */
        char spec_path[SHIM_TEXT_MAX];    /* CLAIM: the replica's launch spec file */
        bool deferred;                    /* CLAIM: the run starts on the next START */
        bool spec_fd;                     /* CLAIM: the spec's text comes as one more fd, after the n_fds */
};

const char *shim_msg_type_to_string(enum shim_msg_type t);
enum shim_msg_type shim_msg_type_from_string(const char *s, size_t n);
const char *shim_run_state_to_string(enum shim_run_state s);

/* Encodes m into buf (NUL-terminated). Returns the length (without NUL),
 * -ENOBUFS when buf is too small, -EINVAL on an invalid message. */
int shim_msg_encode(const struct shim_msg *m, char *buf, size_t size);
/* Decodes exactly len bytes. -EBADMSG on malformed input; *ret is untouched then. */
int shim_msg_decode(const char *buf, size_t len, struct shim_msg *ret);

/* SCM_RIGHTS, for every message that carries fds (CLAIM, FDS, the shim's
 * hand-over to its mini-init, the standby factory's requests).
 * shim_cmsg_put_fds attaches n fds (n <= SHIM_CMSG_FDS_MAX) to mh, in
 * ctl (nothing attached when n is 0).
 * shim_cmsg_take_fds collects those of a received message into fds, up to
 * max; the rest are closed. Returns how many it took. */
#define SHIM_CMSG_FDS_MAX (SHIM_FDS_MAX + 1)
#define SHIM_CMSG_SPACE CMSG_SPACE(sizeof(int) * SHIM_CMSG_FDS_MAX)
union shim_cmsg_buf { /* aligned for the header */
        struct cmsghdr h;
        char b[SHIM_CMSG_SPACE];
};
void shim_cmsg_put_fds(struct msghdr *mh, union shim_cmsg_buf *ctl, const int *fds, size_t n);
size_t shim_cmsg_take_fds(struct msghdr *mh, int *fds, size_t max);

/* Convenience constructors for requests. */
struct shim_msg shim_msg_request(enum shim_msg_type type);

/* The status file: written atomically (fsync when sync), read back strictly. */
int shim_status_write(const char *path, const struct shim_status *s, bool sync);
int shim_status_read(const char *path, struct shim_status *ret);
