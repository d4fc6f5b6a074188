/* api.h: berthd's control API: HTTP/1.1 + JSON on a unix socket
 * (docs/api.md). libmicrohttpd runs in external epoll mode inside the
 * manager's sd-event loop, so every request is handled on the loop's thread
 * and calls the manager directly (manager.h, "the control API's view").
 *
 * Access: the socket is 0660 root:GROUP, and every request is checked again
 * with SO_PEERCRED: root or a member of GROUP, else 403. Mutating requests
 * are recorded as "Request" events (uid, pid, method, path, status). */
#pragma once

struct manager;
struct api;

/* Serves the control API on socket_path (bound here: a stale socket is
 * replaced only when nothing listens on it) or on the socket systemd passed
 * (sd_listen_fds_with_names: the one named "berth.sock", or the only one).
 * socket_group: the group that may use the API; NULL: "berth" if that group
 * exists, else root's group. Logs why it failed and returns -errno. */
int api_new(struct manager *m, const char *socket_path, const char *socket_group, struct api **ret);
/* Closes every connection (streams included) and removes the socket file
 * it created. NULL-safe; returns NULL. */
struct api *api_free(struct api *a);
