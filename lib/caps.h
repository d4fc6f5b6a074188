/* caps.h: shrink a process's capabilities before it execs a replica's
 * program (the service in the mini-init, an exec probe in berthd's child).
 * libc only, async-signal-safe enough for a child between fork and exec. */
#pragma once

#include <stdint.h>

/* Drops from the bounding set every capability not in keep (LAUNCH_CAP bits):
 * what any later execve can gain, root or not. Needs CAP_SETPCAP in the
 * effective set: call before changing uid. Returns 0 or -errno. */
int caps_drop_bounding_set(uint64_t keep);

/* Shrinks the effective, permitted and inheritable sets to keep and clears
 * the ambient set. Root keeps permitted = inheritable | bounding across
 * execve, so the current sets must shrink too. Returns 0 or -errno. */
int caps_drop(uint64_t keep);
