/* ports.h: the listening sockets of network.ports (socket activation).
 *
 * berthd binds each port of a service once, in the host's network namespace,
 * and hands the same listening socket to every replica's shim, which keeps a
 * copy for its whole life and passes it to each run as systemd does (fds 3..,
 * LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES: agent/shim/mini-init.c). A socket
 * is identified by protocol, address and port, not by its name, so a new
 * revision that keeps a port keeps its socket.
 *
 * Lifetime: a socket stays open while the service's desired spec or any of
 * its replicas (of any revision, running or stopping) lists its port; then
 * berthd closes its copy, and the last shim that has one closes it when it
 * exits. After a berthd restart the table is empty: restore takes the
 * sockets back from a live shim (GET_FDS) and binds anew only what no shim
 * holds.
 *
 * This file is the mechanism (bind, identify a socket, a table of open
 * sockets) over explicit values; service-ports.h is the glue that reads a
 * service's specs and replicas. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"

struct port_addr {
        int protocol;     /* PROTOCOL_TCP, PROTOCOL_UDP */
        int family;       /* AF_INET, AF_INET6 */
        uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
        uint16_t port;
};

/* host_ip: numeric (NULL: 0.0.0.0). -EINVAL when it is not an address. */
int port_addr_from_spec(const struct port_spec *p, struct port_addr *ret);
bool port_addr_equal(const struct port_addr *a, const struct port_addr *b);
/* "127.0.0.1:8080/TCP", "[::]:53/UDP" */
char *port_addr_format(const struct port_addr *a, char *buf, size_t size);

/* A CLOEXEC socket bound to a: TCP listening (SO_REUSEADDR, backlog
 * SOMAXCONN), UDP bound (no SO_REUSEADDR: two UDP sockets could share the
 * port then). Returns the fd or -errno. */
int port_bind(const struct port_addr *a);
/* What a socket is bound to; -ENOTSOCK/-EINVAL when it is no listening
 * TCP (SO_ACCEPTCONN) or bound UDP socket of AF_INET/AF_INET6. */
int port_identify(int fd, struct port_addr *ret);

struct port_socket {
        struct port_addr addr;
        int fd;
        uint64_t inode;
        bool adopted; /* taken back from a shim, not bound by this berthd */
};

struct port_table {
        struct port_socket *v;
        size_t n;
        char *error; /* the last bind failure (one line), NULL when every port is bound */
};

struct port_table *port_table_free(struct port_table *t);
/* Adds an open socket (owned by the table from now on). -ENOMEM. */
int port_table_add(struct port_table *t, const struct port_addr *a, int fd, bool adopted);
struct port_socket *port_table_find(const struct port_table *t, const struct port_addr *a);
/* Takes ownership of fd (closed when it is not kept): adds it unless the table
 * has that address already or it is not a listening socket. Returns 1 when
 * added, 0 when not, -ENOMEM. */
int port_table_adopt(struct port_table *t, int fd);
