/* test-ports.c: agent/ports.c, the mechanism of network.ports: addresses from
 * the spec, binding (TCP listening with SOMAXCONN, UDP bound, CLOEXEC, a
 * port in use refused), identifying a socket handed over by a shim, and the
 * table that adopts only new listening sockets. Loopback only, ports chosen
 * free by the kernel. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "ports.h"

/* A port that was free a moment ago: bound to 0 by the kernel, released. */
static uint16_t free_port(int type) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof in;
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &in, sizeof in), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &in, &len), 0);
        close(fd);
        return ntohs(in.sin_port);
}

static struct port_addr loopback(int protocol, uint16_t port) {
        struct port_spec p = { .name = (char *) "http", .port = port, .protocol = protocol, .host_ip = (char *) "127.0.0.1" };
        struct port_addr a;
        assert_int_equal(port_addr_from_spec(&p, &a), 0);
        return a;
}

static void test_ports_addr_from_spec(void **state) {
        struct port_spec p = { .name = (char *) "dns", .port = 53, .protocol = PROTOCOL_UDP, .host_ip = (char *) "::" };
        struct port_addr a, b;
        char buf[80];

        assert_int_equal(port_addr_from_spec(&p, &a), 0);
        assert_int_equal(a.family, AF_INET6);
        assert_string_equal(port_addr_format(&a, buf, sizeof buf), "[::]:53/UDP");
        p.host_ip = NULL; /* the default */
        p.protocol = PROTOCOL_TCP;
        assert_int_equal(port_addr_from_spec(&p, &b), 0);
        assert_int_equal(b.family, AF_INET);
        assert_string_equal(port_addr_format(&b, buf, sizeof buf), "0.0.0.0:53/TCP");
        assert_false(port_addr_equal(&a, &b));
        p.host_ip = (char *) "localhost"; /* numeric only */
        assert_int_equal(port_addr_from_spec(&p, &a), -EINVAL);
        p.host_ip = NULL;
        p.port = 0;
        assert_int_equal(port_addr_from_spec(&p, &a), -EINVAL);
}

static void test_ports_bind_tcp(void **state) {
        struct port_addr a = loopback(PROTOCOL_TCP, free_port(SOCK_STREAM)), got;
        int fd = port_bind(&a), listening = 0;
        socklen_t len = sizeof listening;

        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len), 0);
        assert_int_equal(listening, 1);
        assert_int_equal(port_identify(fd, &got), 0);
        assert_true(port_addr_equal(&a, &got));
        /* a port in use, even with SO_REUSEADDR on both */
        assert_int_equal(port_bind(&a), -EADDRINUSE);
        close(fd);
        /* free again: binds at once */
        fd = port_bind(&a);
        assert_true(fd >= 0);
        close(fd);
}

static void test_ports_bind_udp(void **state) {
        struct port_addr a = loopback(PROTOCOL_UDP, free_port(SOCK_DGRAM)), got;
        int fd = port_bind(&a);

        assert_true(fd >= 0);
        assert_int_equal(port_identify(fd, &got), 0);
        assert_int_equal(got.protocol, PROTOCOL_UDP);
        assert_true(port_addr_equal(&a, &got));
        /* no SO_REUSEADDR on UDP: a second socket must not share the port */
        assert_int_equal(port_bind(&a), -EADDRINUSE);
        close(fd);
}

static void test_ports_bind_ipv6(void **state) {
        struct port_spec p = { .name = (char *) "http", .port = free_port(SOCK_STREAM), .protocol = PROTOCOL_TCP,
                               .host_ip = (char *) "::1" };
        struct port_addr a, got;
        char buf[80];
        int fd;

        assert_int_equal(port_addr_from_spec(&p, &a), 0);
        fd = port_bind(&a);
        if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) {
                print_message("no IPv6 loopback here (%s), skipping\n", strerror(-fd));
                skip();
        }
        assert_true(fd >= 0);
        assert_int_equal(port_identify(fd, &got), 0);
        assert_true(port_addr_equal(&a, &got));
        snprintf(buf, sizeof buf, "[::1]:%u/TCP", (unsigned) a.port);
        assert_string_equal(port_addr_format(&got, buf + 40, 40), buf);
        close(fd);
}

static void test_ports_identify_refuses(void **state) {
        struct port_addr a;
        int sp[2], fd;

        /* a TCP socket that does not listen */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(port_identify(fd, &a), -EINVAL);
        close(fd);
        /* not an inet socket */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(port_identify(sp[0], &a), -EINVAL);
        close(sp[0]);
        close(sp[1]);
        /* not a socket */
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(port_identify(fd, &a) < 0);
        close(fd);
}

static void test_ports_table_adopt(void **state) {
        struct port_table *t = calloc(1, sizeof *t);
        struct port_addr a = loopback(PROTOCOL_TCP, free_port(SOCK_STREAM));
        int fd = port_bind(&a), copy, plain;

        assert_non_null(t);
        assert_true(fd >= 0);
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        assert_true(copy >= 0);
        assert_int_equal(port_table_adopt(t, fd), 1);
        assert_int_equal(t->n, 1);
        assert_true(t->v[0].adopted);
        assert_true(t->v[0].inode > 0);
        assert_ptr_equal(port_table_find(t, &a), &t->v[0]);
        /* the same address again (another shim's copy): closed, not added */
        assert_int_equal(port_table_adopt(t, copy), 0);
        assert_int_equal(fcntl(copy, F_GETFD), -1);
        assert_int_equal(t->n, 1);
        /* anything that is no listening socket: closed, not added */
        plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(port_table_adopt(t, plain), 0);
        assert_int_equal(fcntl(plain, F_GETFD), -1);
        assert_int_equal(t->n, 1);
        /* freeing the table closes its sockets: the port is free again */
        port_table_free(t);
        fd = port_bind(&a);
        assert_true(fd >= 0);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ports_addr_from_spec),
                cmocka_unit_test(test_ports_bind_tcp),
                cmocka_unit_test(test_ports_bind_udp),
                cmocka_unit_test(test_ports_bind_ipv6),
                cmocka_unit_test(test_ports_identify_refuses),
                cmocka_unit_test(test_ports_table_adopt),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
