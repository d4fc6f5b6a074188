/* standby.h: berthd's pool of standby shims.
 *
 * A standby is a berth-shim started with --standby ahead of any replica: its
 * mini-init is cloned already, into the default namespaces (pid, mount, uts,
 * ipc), with the host root read-only and fresh /proc, /sys, /dev, /tmp and
 * /run mounted, and waits (prepared and waiting at SCHED_IDLE;
 * standby_take() puts shim and mini-init back to normal, or does not hand
 * the standby out). A replica whose launch spec fits
 * (launch_spec_fits_standby()) claims one (SHIM_MSG_CLAIM): the shim moves
 * the mini-init into the replica's cgroups, sets its hostname and starts the
 * service. The start then costs no exec of a shim, no clone, no mount work:
 * those happened before, off the start's path. Other specs start cold.
 *
 * Standbys are started in the background (sd-event watches their sync
 * pipe), and one more each time one is taken, so the pool refills between
 * starts. They come from a factory (berth-shim --factory, started once):
 * a standby then costs a fork of the factory, not an exec of the shim with
 * its dynamic loading and daemonizing; without the factory each standby is
 * spawned on its own. Each belongs to this berthd: the sync pipe stays open as its
 * lifeline, and when berthd closes it (exit, crash, retirement) the standby
 * exits with its mini-init, so none outlives berthd unclaimed. A standby's
 * root is a copy of the host's mount table when it was made: when that
 * table changes (/proc/self/mountinfo, POLLPRI) every standby is retired
 * and new ones are started. Idle, the pool costs no wakeups. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define STANDBY_MAX 16

struct standby_pool;

/* A taken standby: its connected control socket (HELLO already read), its
 * lifeline (close it once the claim was answered, whatever the answer:
 * a standby that was not claimed then exits), the shim's and the waiting
 * mini-init's pids. */
struct standby_claim {
        int ctl_fd;
        int lifeline_fd;
        pid_t shim_pid;
        pid_t init_pid;
};

/* size standbys (0: none, the pool does nothing) of shim_path, with their
 * templates, sockets and log in dir (created). stage_dir (created, NULL:
 * none): where each standby prepares the log directory of the replica that
 * will claim it (berth-shim --stage-dir), on the log directories' file
 * system; what killed standbys left there is removed here. */
int standby_pool_new(sd_event *event, const char *shim_path, const char *dir, const char *stage_dir, unsigned size,
                     struct standby_pool **ret);
/* Closes every lifeline: the standbys exit. NULL-safe; returns NULL. */
struct standby_pool *standby_pool_free(struct standby_pool *p);
/* Starts standbys until the pool has its size (non-blocking). */
void standby_pool_fill(struct standby_pool *p);
/* Takes a ready standby, or -EAGAIN when none is. When one is still
 * starting, waits for it up to wait_ms. The caller refills the pool
 * (standby_pool_fill) once the claim is done: off the start's path. */
int standby_take(struct standby_pool *p, int wait_ms, struct standby_claim *ret);
/* Counts, for logs and tests. */
unsigned standby_pool_ready(const struct standby_pool *p);
