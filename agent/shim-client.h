/* shim-client.h: berthd's side of berth-shim: start a shim, connect to its
 * control socket, exchange shim-proto messages. No event loop here: berthd
 * puts the connected fd on its sd-event loop and calls shim_recv() when it is
 * readable. The blocking helpers (shim_spawn, shim_recv_timeout) are for
 * start-up and tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "shim-proto.h"

/* Starts `shim_path --spec spec_path --sync-fd N` and waits for its sync line.
 * On success the shim runs daemonized (not our child) with the first run
 * started: returns its pid and the replica's mini-init pid (host view). On
 * failure returns -errno and, when the shim said why, *ret_error (malloc'd,
 * may be NULL otherwise). Leaves no zombie: the intermediate process is reaped. */
int shim_spawn(const char *shim_path, const char *spec_path, pid_t *ret_shim_pid, pid_t *ret_replica_pid,
               char **ret_error);
/* Same, handing the shim n_fds listening sockets at fds 3.. (in order, see
 * LAUNCH_LISTEN_FDS_START; the spec lists as many listen_fd_names). Our fds
 * stay ours. */
int shim_spawn_fds(const char *shim_path, const char *spec_path, const int *fds, size_t n_fds,
                   pid_t *ret_shim_pid, pid_t *ret_replica_pid, char **ret_error);

/* Parses what the shim wrote on the sync pipe (len 0: nothing, it died). */
int shim_sync_parse(const char *line, size_t len, pid_t *ret_shim_pid, pid_t *ret_replica_pid, char **ret_error);
/* Asks the shim at socket_path for copies of its listening sockets (GET_FDS)
 * over a connection of its own, closed again before returning: for a berthd
 * that just started and is not connected to that shim yet (a new connection
 * replaces the shim's current client). Fills fds (CLOEXEC, owned by the
 * caller) and *ret_n (<= max). -EPROTO when the shim does not know GET_FDS. */
int shim_get_fds(const char *socket_path, int *fds, size_t max, size_t *ret_n, int timeout_ms);

/* Connects to a shim's control socket: a non-blocking, CLOEXEC SOCK_SEQPACKET
 * fd. The shim sends HELLO first. -ENOENT/-ECONNREFUSED when no shim listens. */
int shim_connect(const char *socket_path);

/* Sends one message. -EAGAIN when the socket is full, -EPIPE when the shim is gone. */
int shim_send(int fd, const struct shim_msg *m);
/* Same, with fds attached (SCM_RIGHTS): CLAIM. */
int shim_send_fds(int fd, const struct shim_msg *m, const int *fds, size_t n_fds);
/* Receives one message without blocking: -EAGAIN when none is there,
 * -ECONNRESET when the shim closed the connection, -EBADMSG when malformed. */
int shim_recv(int fd, struct shim_msg *ret);
/* Same, waiting up to timeout_ms (-1: forever): -ETIMEDOUT. */
int shim_recv_timeout(int fd, struct shim_msg *ret, int timeout_ms);
/* Sends a request and waits for its reply (STATUS or ERROR). EXITED, HELLO
 * and LOG_DROPPED meanwhile are skipped (the reply carries the same
 * status), and so are the first *owed replies (when owed is not NULL, it is
 * counted down): those of requests sent earlier without waiting. An ERROR
 * reply returns -error. */
int shim_call(int fd, const struct shim_msg *req, struct shim_msg *ret_reply, unsigned *owed, int timeout_ms);
/* shim_call's second half, for a caller that works between sending its
 * request and reading the reply. */
int shim_await_reply(int fd, struct shim_msg *ret_reply, unsigned *owed, int timeout_ms);
