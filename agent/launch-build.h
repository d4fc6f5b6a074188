/* launch-build.h: policy to mechanism. Turns one replica of a service (the
 * canonical model) into the launch spec the shim executes: namespaces,
 * mounts, argv, environment, credentials, capabilities, cgroup files.
 * Pure except for user lookup (NSS), so it is unit-tested without root. */
#pragma once

#include "launch.h"
#include "model.h"

struct launch_paths {
        char **cgroup_procs;   /* from the cgroup backend, copied */
        const char *cgroup_v2_dir; /* or NULL */
        const char *log_dir;       /* STATE/logs/<svc>/<svc>-<idx> */
        const char *status_path;
        const char *socket_path;
        /* NULL, or the host directory holding the replica's NOTIFY_SOCKET
         * ("notify" in it): bind-mounted at LAUNCH_NOTIFY_DIR when the
         * replica has its own mount namespace, else used as is. Sets
         * NOTIFY_SOCKET, and WATCHDOG_USEC for a notify liveness probe. */
        const char *notify_dir;
};

#define LAUNCH_NOTIFY_DIR "/run/berth"
#define LAUNCH_NOTIFY_NAME "notify"

#define BERTH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Fills ret (initialized here). On a user error (unknown user) returns
 * -ESRCH / -EINVAL with *ret_error a one-line message for the replica. */
int launch_build(const struct service *s, unsigned index, const struct launch_paths *paths, struct launch_spec *ret,
                 char **ret_error);

/* Resolves "name" or "uid[:gid]" on this host. */
int resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid, gid_t **ret_groups, size_t *ret_n_groups,
                 char **ret_error);

/* The bounding set for a capabilities section (Docker's default 14, then
 * drop, then add; "ALL" in either list means every capability). */
uint64_t capabilities_mask(const struct capabilities *c);
