/* launch.h: the launch spec, i.e. everything berth-shim needs to start (and
 * restart) one replica, at the level of mechanism: namespaces, mounts, argv,
 * credentials, cgroup paths. No manifest types here: berthd (policy) turns a
 * service into a launch_spec, writes it to a file, and the shim reads it back.
 *
 * The file format is text, one "key value" per line, values %-escaped (every
 * byte < 0x21, 0x7f and '%' as %XX), lists as repeated keys, first line
 * "berth-launch 1". Readers are strict: anything unexpected is -EBADMSG.
 *
 * libc only: this links into both berthd and the (small) shim. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LAUNCH_FORMAT_HEADER "berth-launch 1"
#define LAUNCH_FILE_MAX (1024 * 1024)   /* refuse spec files larger than this */
#define LAUNCH_LIST_MAX 4096            /* per list (args, env, mounts, ...) */

/* The namespace flags a spec may ask for: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|
 * NEWPID|NEWNET (no user namespaces: berth runs replicas as real host uids). */
#define LAUNCH_NS_ALL UINT64_C(0x6E020000)

/* Capability bit helper, and Docker's default bounding set (14 caps):
 * CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
 * NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. Numbers from linux/capability.h. */
#define LAUNCH_CAP(n) (UINT64_C(1) << (n))
#define LAUNCH_CAPS_DEFAULT                                                              \
        (LAUNCH_CAP(0) /* CHOWN */ | LAUNCH_CAP(1) /* DAC_OVERRIDE */ |                  \
         LAUNCH_CAP(4) /* FSETID */ | LAUNCH_CAP(3) /* FOWNER */ |                       \
         LAUNCH_CAP(27) /* MKNOD */ | LAUNCH_CAP(13) /* NET_RAW */ |                     \
         LAUNCH_CAP(6) /* SETGID */ | LAUNCH_CAP(7) /* SETUID */ |                       \
         LAUNCH_CAP(31) /* SETFCAP */ | LAUNCH_CAP(8) /* SETPCAP */ |                    \
         LAUNCH_CAP(10) /* NET_BIND_SERVICE */ | LAUNCH_CAP(18) /* SYS_CHROOT */ |        \
         LAUNCH_CAP(5) /* KILL */ | LAUNCH_CAP(29) /* AUDIT_WRITE */)

enum launch_log_driver {
        LAUNCH_LOG_FILE,
        LAUNCH_LOG_JOURNALD, /* sd_journal_sendv through dlopen'ed libsystemd; files as fallback */
};
#define LAUNCH_LOG_MAX_SIZE_DEFAULT (UINT64_C(10) << 20)
#define LAUNCH_LOG_MAX_FILES_DEFAULT 5

struct launch_mount {
        char *source;   /* absolute host path */
        char *target;   /* absolute path inside the replica */
        bool read_only;
};

struct launch_spec {
        char *id;               /* "web-0": names the replica in logs */
        char *hostname;         /* NULL: keep; applied only with CLONE_NEWUTS */
        uint64_t clone_flags;   /* subset of LAUNCH_NS_ALL */
        bool net_none;          /* with CLONE_NEWNET: bring "lo" up, nothing else */

        char *rootfs;           /* NULL: the host root */
        bool read_only_root;
        struct launch_mount *mounts;
        size_t n_mounts;

        char **argv;            /* NULL-terminated, at least one element */
        char **env;             /* NULL-terminated, the complete environment */
        char *cwd;              /* NULL: "/" */

        uid_t uid;
        gid_t gid;
        gid_t *groups;          /* supplementary groups */
        size_t n_groups;
        uint64_t caps_keep;     /* capability bounding set to keep */
        bool no_new_privs;      /* berthd always sets it; kept explicit in the file */
        int stop_signal;

        char **cgroup_procs;    /* NULL-terminated: absolute cgroup.procs files to join (v1/hybrid) */
        char *cgroup_v2_dir;    /* NULL or a v2 cgroup directory (CLONE_INTO_CGROUP) */

        /* The replica's log directory: the shim writes the service's
         * stdout+stderr there as CRI records, one file per run
         * (agent/shim/logfile.h), and its own diagnostics to shim.log. */
        char *log_dir;
        int log_driver;         /* enum launch_log_driver */
        uint64_t log_max_size;  /* rotate a file before it would exceed this (bytes, >= 1) */
        uint32_t log_max_files; /* files kept per run, the active one included (>= 1) */
        char *status_path;      /* run status, rewritten atomically by the shim */
        char *socket_path;      /* the shim's control socket */
        char **listen_fd_names; /* socket activation: one name per listening socket the
                                 * shim gets at fds LAUNCH_LISTEN_FDS_START.. (NULL: none) */
};

/* berthd starts the shim with the replica's listening sockets (network.ports)
 * at fds 3, 4, ... (one per listen_fd_names entry, in order); the shim keeps
 * them for its whole life and the service gets them at the same numbers. */
#define LAUNCH_LISTEN_FDS_START 3
size_t launch_spec_n_listen_fds(const struct launch_spec *s);

/* Standby shims (berth-shim --standby) prepare a mini-init ahead of any
 * replica: cloned into these namespaces (CLONE_NEWNS|NEWUTS|NEWIPC|NEWPID),
 * with the host root read-only and fresh /proc, /sys, /dev, /tmp and /run,
 * as launch_standby_template() describes. What depends on the replica
 * (cgroups, a cgroup namespace, hostname, everything of the service's
 * process) happens when a spec claims it. */
#define LAUNCH_STANDBY_NS UINT64_C(0x2C020000)
/* Fills a standby's template: launch_spec_init() plus the namespaces and
 * root above; the caller adds id, log_dir, status_path and socket_path. */
void launch_standby_template(struct launch_spec *s);
/* True when what a standby prepared is exactly what s asks for: the same
 * namespaces (a cgroup namespace is created late, so it may be added), the
 * host root read-only, no network namespace, no mounts of its own. */
bool launch_spec_fits_standby(const struct launch_spec *s);

/* Fills a spec with defaults (no strings): caps = default, no_new_privs,
 * SIGTERM, uid/gid 0, file logs of 10 MiB x 5. */
void launch_spec_init(struct launch_spec *s);
/* Frees everything the spec owns (not the struct itself); NULL-safe. */
void launch_spec_done(struct launch_spec *s);
/* Frees a heap-allocated spec from launch_spec_read; returns NULL. */
struct launch_spec *launch_spec_free(struct launch_spec *s);

/* -EINVAL when the spec misses required fields or has bad values. */
int launch_spec_validate(const struct launch_spec *s);

/* Serializes the spec to path atomically (temp + rename; the caller makes it
 * durable, berthd with one syncfs() per event-loop turn). */
int launch_spec_write(const struct launch_spec *s, const char *path);
/* Same, into a malloc'd NUL-terminated buffer. */
int launch_spec_format(const struct launch_spec *s, char **ret, size_t *ret_size);
/* Reads a spec: -ENOENT etc. from the file system, -EBADMSG when corrupt. */
int launch_spec_read(const char *path, struct launch_spec **ret);
/* The text of a spec: all of fd from where it stands, NUL-terminated
 * (malloc'd); -EBADMSG when larger than LAUNCH_FILE_MAX. */
int launch_read_text_fd(int fd, char **ret, size_t *ret_size);
int launch_spec_parse(const char *data, size_t size, struct launch_spec **ret);

/* Shared small helpers (also used by shim-proto). */

/* %-escapes s into buf (NUL-terminated). Returns the length or -ENOBUFS. */
int launch_escape(const char *s, char *buf, size_t size);
/* Unescapes n bytes of s into buf. -EBADMSG on a bad escape or an embedded NUL. */
int launch_unescape(const char *s, size_t n, char *buf, size_t size);
/* Writes data to path atomically: temp file in the same directory, optionally
 * fsync, rename over path, optionally fsync the directory. */
int launch_write_atomic(const char *path, const void *data, size_t size, bool sync);
/* Strict unsigned decimal parse of n bytes; -EBADMSG unless all digits and <= max. */
int launch_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *ret);
