/* ports.c: see ports.h (mechanism only: no manifest, no manager). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "ports.h"

/* ---- mechanism ----------------------------------------------------------- */

int port_addr_from_spec(const struct port_spec *p, struct port_addr *ret) {
        const char *ip = p->host_ip ? p->host_ip : "0.0.0.0";
        struct port_addr a = { .protocol = p->protocol, .port = (uint16_t) p->port };

        if (p->port < 1 || p->port > 65535 || (p->protocol != PROTOCOL_TCP && p->protocol != PROTOCOL_UDP))
                return -EINVAL;
        if (inet_pton(AF_INET, ip, a.addr) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, ip, a.addr) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

char *port_addr_format(const struct port_addr *a, char *buf, size_t size) {
        char ip[INET6_ADDRSTRLEN] = "?";
        (void) inet_ntop(a->family, a->addr, ip, sizeof ip);
        snprintf(buf, size, a->family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", ip, (unsigned) a->port,
                 a->protocol == PROTOCOL_UDP ? "UDP" : "TCP");
        return buf;
}

bool port_addr_equal(const struct port_addr *a, const struct port_addr *b) {
        return a->protocol == b->protocol && a->family == b->family && a->port == b->port &&
               memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static socklen_t to_sockaddr(const struct port_addr *a, struct sockaddr_storage *ss) {
        memset(ss, 0, sizeof *ss);
        if (a->family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) ss;
                in->sin_family = AF_INET;
                in->sin_port = htons(a->port);
                memcpy(&in->sin_addr, a->addr, 4);
                return sizeof *in;
        }
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        memcpy(&in6->sin6_addr, a->addr, 16);
        return sizeof *in6;
}

int port_bind(const struct port_addr *a) {
        struct sockaddr_storage ss;
        socklen_t len = to_sockaddr(a, &ss);
        bool tcp = a->protocol == PROTOCOL_TCP;
        _cleanup_close_ int fd = -1;
        int one = 1, zero = 0;

        fd = socket(a->family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* TCP: rebind at once after a restart with connections in TIME_WAIT;
         * a port another socket listens on still fails with EADDRINUSE. */
        if (tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                return -errno;
        /* "::" means IPv6 and IPv4 whatever net.ipv6.bindv6only says */
        if (a->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss, len) < 0)
                return -errno;
        if (tcp && listen(fd, SOMAXCONN) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int port_identify(int fd, struct port_addr *ret) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        struct port_addr a = {};
        int type = 0, listening = 0;
        socklen_t olen = sizeof type;

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                return -errno;
        if (type == SOCK_STREAM) {
                olen = sizeof listening;
                if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) < 0)
                        return -errno;
                if (!listening)
                        return -EINVAL;
                a.protocol = PROTOCOL_TCP;
        } else if (type == SOCK_DGRAM)
                a.protocol = PROTOCOL_UDP;
        else
                return -EINVAL;
        a.family = ss.ss_family;
        if (a.family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) &ss;
                memcpy(a.addr, &in->sin_addr, 4);
                a.port = ntohs(in->sin_port);
        } else if (a.family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &ss;
                memcpy(a.addr, &in6->sin6_addr, 16);
                a.port = ntohs(in6->sin6_port);
        } else
                return -EINVAL;
        if (a.port == 0)
                return -EINVAL;
        *ret = a;
        return 0;
}

struct port_table *port_table_free(struct port_table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                safe_close(t->v[i].fd);
        free(t->v);
        free(t->error);
        free(t);
        return NULL;
}

struct port_socket *port_table_find(const struct port_table *t, const struct port_addr *a) {
        for (size_t i = 0; t && i < t->n; i++)
                if (port_addr_equal(&t->v[i].addr, a))
                        return &t->v[i];
        return NULL;
}

int port_table_add(struct port_table *t, const struct port_addr *a, int fd, bool adopted) {
        struct port_socket *v = realloc(t->v, (t->n + 1) * sizeof *v);
        struct stat st;
        if (!v)
                return -ENOMEM;
        t->v = v;
        v[t->n++] = (struct port_socket) {
                .addr = *a,
                .fd = fd,
                .inode = fstat(fd, &st) >= 0 ? (uint64_t) st.st_ino : 0,
                .adopted = adopted,
        };
        return 0;
}

int port_table_adopt(struct port_table *t, int fd) {
        struct port_addr a;
        if (port_identify(fd, &a) < 0 || port_table_find(t, &a)) {
                safe_close(fd);
                return 0;
        }
        if (port_table_add(t, &a, fd, true) < 0) {
                safe_close(fd);
                return -ENOMEM;
        }
        return 1;
}
