/* loopback.h: bring the loopback interface up in the calling thread's network
 * namespace (a replica with `network: none` gets a netns with only "lo", which
 * the kernel creates down). Mechanism only: the caller has setns()'d or
 * clone()'d into the namespace already. */
#pragma once

/* Sets IFF_UP on "lo". Returns 0 (also when already up) or -errno. */
int net_loopback_up(void);

/* Translates a libnl error (negative or positive NLE_*) to -errno. The one
 * place where NLE_* codes become errnos in net/. */
int net_nl_errno(int nlerr);
