/* loopback.c: `ip link set lo up` with libnl-route-3, for replicas that get
 * a network namespace of their own and no other interface.
 *
 * Runs inside the replica's mini-init (after clone into the new netns), so it
 * allocates nothing that outlives the call. A netlink socket belongs to the
 * netns it is created in: create it here, not earlier in the shim. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "loopback.h"

int net_nl_errno(int nlerr) {
        switch (abs(nlerr)) {
        case NLE_SUCCESS:
                return 0;
        case NLE_INTR:
                return -EINTR;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_INVAL:
        case NLE_MISSING_ATTR:
        case NLE_PARSE_ERR:
                return -EINVAL;
        case NLE_RANGE:
        case NLE_ATTRSIZE:
                return -ERANGE;
        case NLE_MSGSIZE:
        case NLE_MSG_OVERFLOW:
        case NLE_MSG_TRUNC:
        case NLE_MSG_TOOSHORT:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
        case NLE_MSGTYPE_NOSUPPORT:
        case NLE_SRCRT_NOSUPPORT:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
        case NLE_AF_MISMATCH:
                return -EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_PERM:
        case NLE_IMMUTABLE:
                return -EPERM;
        case NLE_PROTO_MISMATCH:
                return -EPROTO;
        case NLE_DUMP_INTR:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

int net_loopback_up(void) {
        struct nl_sock *sk = NULL;
        struct rtnl_link *lo = NULL, *change = NULL;
        int r;

        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                goto finish;
        r = rtnl_link_get_kernel(sk, 0, "lo", &lo);
        if (r < 0)
                goto finish;
        if (rtnl_link_get_flags(lo) & IFF_UP)
                goto finish; /* nothing to do */
        change = rtnl_link_alloc();
        if (!change) {
                r = -NLE_NOMEM;
                goto finish;
        }
        rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(sk, lo, change, 0);
finish:
        rtnl_link_put(change);
        rtnl_link_put(lo);
        nl_socket_free(sk);
        return net_nl_errno(r);
}
