/* prober.h: runs the probes of one run of a replica on berthd's sd-event
 * loop: timers and non-blocking sockets, no thread per probe. The decisions
 * (when a check is due, what results mean) are probe.c's; this executes
 * the checks and reports what changed through one callback.
 *
 *  httpGet    non-blocking connect to host:port, "GET path HTTP/1.1", the
 *             status line decides: 200-399 succeed. Hosts are IP literals
 *             (or "localhost"): no name resolution on the event loop.
 *  tcpSocket  the connect succeeds.
 *     Both reach the replica's own network namespace when it has one
 *     (network.mode none): the socket is created inside it (setns on
 *     berthd's thread around socket(), then back; a socket stays in the
 *     namespace it was created in).
 *  exec       a child of berthd joins the replica's cgroup (so it counts in
 *             its limits), enters its namespaces (cgroup, ipc, uts, net,
 *             pid, mount: /proc/PID/ns/... of the replica's init), forks once
 *             more (the pid namespace applies to children), drops to the
 *             service's user, groups and capabilities, and execs the command
 *             with the service's environment. Exit 0 succeeds; killed at
 *             timeoutSeconds; the first 1 KiB of its output is the message.
 *  notify     passive: the replica's NOTIFY_SOCKET (notify_socket below)
 *             feeds READY=1 / STOPPING=1 / WATCHDOG=1 through prober_notify().
 *
 * A check running when the prober is freed is cancelled (its socket closed,
 * its process killed and reaped). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "launch.h"
#include "model.h"
#include "probe.h"

struct prober;

/* What one check or message changed: PROBE_RESULT_* bits, the probe, and
 * the check's message ("HTTP status 500", "connect 127.0.0.1:80: Connection
 * refused", the exec probe's output...; "" on success). */
typedef void (*prober_callback_t)(struct prober *p, unsigned changes, enum probe_kind k, bool success,
                                  const char *message, void *userdata);

struct prober_target {
        const char *id;             /* "web-0", for logs */
        pid_t pid;                  /* the replica's init, in berthd's pid namespace */
        bool own_netns;             /* network.mode none: connect inside the replica's netns */
        /* exec probes only (NULL otherwise): the service's credentials,
         * capabilities, environment and working directory, and the
         * cgroup.procs files to join (launch_build() output). Owned by
         * the prober from prober_new() on. */
        struct launch_spec *exec;
};

/* The probes of spec for the run that started at run_started (monotonic
 * µs). Nothing to probe is fine: *ret is still a prober, always ready. */
int prober_new(sd_event *e, const struct service_spec *spec, struct prober_target *target, uint64_t run_started,
               prober_callback_t cb, void *userdata, struct prober **ret);
struct prober *prober_free(struct prober *p);

/* Re-adoption: the run was ready before berthd restarted (probe.h). */
void prober_assume_ready(struct prober *p);

bool prober_ready(const struct prober *p);
/* The readiness probe has failed failureThreshold checks in a row (and not
 * succeeded since): what fails a rollout to this replica's revision. */
bool prober_readiness_failed(const struct prober *p);
/* Does the spec gate readiness on a probe (startup or readiness)? */
bool prober_spec_gates_readiness(const struct service_spec *spec);
/* Has the spec a notify probe (the replica then gets a NOTIFY_SOCKET)? */
bool prober_spec_wants_notify(const struct service_spec *spec);
/* The watchdog a notify liveness probe asks for, µs (WATCHDOG_USEC): its
 * watchdogTimeout, else periodSeconds × failureThreshold; 0 without one. */
uint64_t prober_spec_watchdog_usec(const struct service_spec *spec);

/* sd_notify messages of the replica, already checked to come from it. */
enum {
        PROBER_NOTIFY_READY = 1 << 0,
        PROBER_NOTIFY_STOPPING = 1 << 1,
        PROBER_NOTIFY_WATCHDOG = 1 << 2,
        PROBER_NOTIFY_WATCHDOG_TRIGGER = 1 << 3,
};
void prober_notify(struct prober *p, unsigned what);

/* {"startup":{"state","successes","failures","lastMessage","lastTime"},...}
 * for the probes the spec has. */
struct json_object *prober_to_json(const struct prober *p);

/* Makes text from a process fit for JSON and logs, in place: invalid or
 * cut UTF-8 becomes '?', control characters other than \n and \t a space. */
void prober_sanitize_text(char *s);

/* ---- the replica's NOTIFY_SOCKET ---------------------------------------
 * An AF_UNIX datagram socket berthd binds at a path (a path, not the
 * abstract namespace: abstract sockets belong to a network namespace, a
 * path is reachable from any netns that sees the file; berthd bind-mounts
 * its directory into the replica). SO_PASSCRED: every message carries the
 * sender's pid, which the callback checks. Passed fds are closed. */
struct notify_socket;

struct notify_message {
        pid_t pid;         /* the sender, in berthd's pid namespace */
        unsigned what;     /* PROBER_NOTIFY_* */
        const char *status; /* STATUS=..., NULL if none */
};
typedef void (*notify_callback_t)(const struct notify_message *msg, void *userdata);

/* Binds path (an old socket there is replaced), mode 0666. */
int notify_socket_open(sd_event *e, const char *path, notify_callback_t cb, void *userdata,
                       struct notify_socket **ret);
/* Closes it and removes the socket file. */
struct notify_socket *notify_socket_free(struct notify_socket *n);
