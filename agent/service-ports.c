/* service-ports.c: see service-ports.h. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "ports.h"
#include "replica.h"
#include "service-ports.h"
#include "shim-client.h"
#include "util.h"

#define GET_FDS_TIMEOUT_MS 1000

static char *mfree(char *p) {
        free(p);
        return NULL;
}


static struct port_table *table_of(struct service_state *s) {
        if (!s->ports)
                s->ports = calloc(1, sizeof *s->ports);
        return s->ports;
}

static char *bind_error(const struct port_spec *p, const struct port_addr *a, int error) {
        char where[80], *msg = NULL;
        const char *hint = error == EADDRINUSE      ? "another program or service listens there: stop it or choose another port"
                           : error == EACCES        ? "ports below 1024 need CAP_NET_BIND_SERVICE"
                           : error == EADDRNOTAVAIL ? "no interface of this host has that address: fix hostIP"
                                                    : "check the port and hostIP";
        if (asprintf(&msg, "port %s (%s): cannot bind: %s; %s", p->name, port_addr_format(a, where, sizeof where),
                     strerror(error), hint) < 0)
                return NULL;
        return msg;
}

/* Asks the shim at path for its sockets and adopts the ones the table lacks.
 * shim_pid > 0: compare the inodes with the shim's own fds (/proc), which
 * proves the socket is the one the shim holds, not a look-alike. */
static size_t adopt_from_shim(struct service_state *s, const char *path, pid_t shim_pid) {
        struct port_table *t = table_of(s);
        int fds[SHIM_FDS_MAX];
        size_t n = 0, adopted = 0;
        int k;

        if (!t)
                return 0;
        k = shim_get_fds(path, fds, ELEMENTSOF(fds), &n, GET_FDS_TIMEOUT_MS);
        if (k < 0) {
                log_debug_errno(k, "Service %s: cannot get the listening sockets from %s: %m", s->name, path);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                char proc[64], where[80];
                struct stat mine, theirs;
                struct port_addr a;
                bool same = false;

                snprintf(proc, sizeof proc, "/proc/%d/fd/%d", (int) shim_pid, LAUNCH_LISTEN_FDS_START + (int) i);
                if (shim_pid > 0 && fstat(fds[i], &mine) >= 0 && stat(proc, &theirs) >= 0)
                        same = mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev;
                if (port_identify(fds[i], &a) < 0) {
                        log_warning("Service %s: shim %s handed over fd %zu, not a listening socket, ignoring.", s->name,
                                    path, i);
                        safe_close(fds[i]);
                        continue;
                }
                k = port_table_adopt(t, fds[i]);
                if (k > 0) {
                        adopted++;
                        log_info("Service %s: took listening socket %s back from shim %d (inode %llu%s).", s->name,
                                 port_addr_format(&a, where, sizeof where), (int) shim_pid,
                                 (unsigned long long) port_table_find(t, &a)->inode,
                                 same ? ", the shim's own" : shim_pid > 0 ? ", NOT the shim's fd by /proc" : "");
                }
        }
        return adopted;
}

static bool covers(const struct port_table *t, const struct network *net) {
        for (size_t i = 0; i < net->n_ports; i++) {
                struct port_addr a;
                if (port_addr_from_spec(&net->ports[i], &a) >= 0 && !port_table_find(t, &a))
                        return false;
        }
        return true;
}

/* Restore may start a replica before the sibling whose shim holds the
 * sockets is restored (directory order): ask the shims of the service that
 * berthd does not know yet (it is not connected to them, so the temporary
 * connection takes nothing away). */
static size_t adopt_from_unknown_shims(struct service_state *s) {
        _cleanup_free_ char *prefix = NULL;
        size_t adopted = 0, plen;
        DIR *d;

        if (asprintf(&prefix, "%s.", s->name) < 0)
                return 0;
        plen = strlen(prefix);
        d = opendir(s->m->shims_dir);
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                char *end;
                if (strncmp(de->d_name, prefix, plen) != 0)
                        continue;
                unsigned long idx = strtoul(de->d_name + plen, &end, 10);
                if (end == de->d_name + plen || strcmp(end, ".sock") != 0)
                        continue;
                bool known = false;
                for (size_t i = 0; i < s->n_replicas && !known; i++)
                        known = replica_index(s->replicas[i]) == idx;
                if (known)
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", s->m->shims_dir, de->d_name) >= 0)
                        adopted += adopt_from_shim(s, path, 0);
        }
        closedir(d);
        return adopted;
}

static int acquire(struct service_state *s, const struct network *net, int *fds, char **ret_error) {
        struct port_table *t = table_of(s);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < net->n_ports; i++) {
                const struct port_spec *p = &net->ports[i];
                struct port_socket *ps;
                struct port_addr a;
                int fd;

                if (port_addr_from_spec(p, &a) < 0) {
                        if (ret_error)
                                (void) asprintf(ret_error, "port %s: invalid hostIP %s", p->name, p->host_ip);
                        return -EINVAL;
                }
                ps = port_table_find(t, &a);
                if (!ps) {
                        fd = port_bind(&a);
                        if (fd < 0) {
                                if (ret_error)
                                        *ret_error = bind_error(p, &a, -fd);
                                return fd;
                        }
                        if (port_table_add(t, &a, fd, false) < 0) {
                                safe_close(fd);
                                return -ENOMEM;
                        }
                        ps = &t->v[t->n - 1];
                }
                if (fds)
                        fds[i] = ps->fd;
        }
        return 0;
}

int service_ports_acquire(struct service_state *s, const struct service *spec, int *fds, char **ret_error) {
        const struct network *net = &spec->spec.network;
        int k;

        if (ret_error)
                *ret_error = NULL;
        if (net->n_ports == 0)
                return 0;
        k = acquire(s, net, fds, ret_error);
        if (k == -EADDRINUSE && adopt_from_unknown_shims(s) > 0) {
                if (ret_error)
                        *ret_error = mfree(*ret_error);
                k = acquire(s, net, fds, ret_error);
        }
        return k;
}

static bool listed(const struct network *net, const struct port_addr *a) {
        for (size_t i = 0; i < net->n_ports; i++) {
                struct port_addr b;
                if (port_addr_from_spec(&net->ports[i], &b) >= 0 && port_addr_equal(a, &b))
                        return true;
        }
        return false;
}

void service_ports_sync(struct service_state *s) {
        struct port_table *t = s->ports;
        char where[80];

        if (s->desired && s->desired->spec.network.n_ports > 0) {
                _cleanup_free_ char *error = NULL;
                t = table_of(s);
                if (!t)
                        return;
                if (acquire(s, &s->desired->spec.network, NULL, &error) >= 0) {
                        if (t->error)
                                log_info("Service %s: every port is bound now.", s->name);
                        t->error = mfree(t->error);
                } else if (error && (!t->error || !streq(t->error, error))) {
                        log_error("Service %s: %s", s->name, error);
                        events_emit(s->m->events, "PortBindFailed", s->name, -1, NULL, "%s", error);
                        free(t->error);
                        t->error = TAKE_PTR(error);
                }
        } else if (t)
                t->error = mfree(t->error);

        /* close what nothing lists any more */
        for (size_t i = 0; t && i < t->n;) {
                const struct port_addr *a = &t->v[i].addr;
                bool keep = s->desired && listed(&s->desired->spec.network, a);
                for (size_t r = 0; r < s->n_replicas && !keep; r++)
                        keep = listed(&replica_spec(s->replicas[r])->spec.network, a);
                if (keep) {
                        i++;
                        continue;
                }
                log_info("Service %s: closing listening socket %s (no replica or spec lists it).", s->name,
                         port_addr_format(a, where, sizeof where));
                safe_close(t->v[i].fd);
                memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof *t->v);
                t->n--;
        }
}

void service_ports_restore(struct service_state *s, const struct service *spec, const char *shim_socket,
                           pid_t shim_pid) {
        struct port_table *t;
        if (spec->spec.network.n_ports == 0)
                return;
        t = table_of(s);
        if (!t || covers(t, &spec->spec.network))
                return;
        (void) adopt_from_shim(s, shim_socket, shim_pid);
}

int service_ports_check(struct manager *m, const struct service *svc, struct api_error *err) {
        struct service_state *s = manager_find_service(m, svc->metadata.name);
        const struct network *net = &svc->spec.network;

        for (size_t i = 0; i < net->n_ports; i++) {
                struct port_addr a;
                if (port_addr_from_spec(&net->ports[i], &a) < 0 || (s && port_table_find(s->ports, &a)))
                        continue;
                /* bound and closed again: no connection can have arrived, so
                 * nothing lingers; the real bind follows in the reconcile */
                int fd = port_bind(&a);
                if (fd >= 0) {
                        safe_close(fd);
                        continue;
                }
                _cleanup_free_ char *msg = bind_error(&net->ports[i], &a, -fd);
                err->status = 409;
                err->code = "PortUnavailable";
                snprintf(err->message, sizeof err->message, "service \"%s\": %s", svc->metadata.name,
                         msg ? msg : strerror(-fd));
                return fd;
        }
        return 0;
}

void service_ports_json(struct service_state *s, struct json_object *o) {
        const struct network *net = s->desired ? &s->desired->spec.network : NULL;
        struct json_object *a = json_object_new_array();
        char ip[INET6_ADDRSTRLEN];

        for (size_t i = 0; net && i < net->n_ports; i++) {
                const struct port_spec *p = &net->ports[i];
                struct json_object *j = json_object_new_object();
                struct port_addr pa;
                struct port_socket *ps = port_addr_from_spec(p, &pa) >= 0 ? port_table_find(s->ports, &pa) : NULL;
                json_object_object_add(j, "name", json_object_new_string(p->name));
                json_object_object_add(j, "port", json_object_new_int((int) p->port));
                json_object_object_add(j, "protocol", json_object_new_string(p->protocol == PROTOCOL_UDP ? "UDP" : "TCP"));
                json_object_object_add(j, "hostIP",
                                       json_object_new_string(inet_ntop(pa.family, pa.addr, ip, sizeof ip) ? ip : "?"));
                json_object_object_add(j, "bound", json_object_new_boolean(ps != NULL));
                json_object_object_add(j, "inode", ps ? json_object_new_int64((int64_t) ps->inode) : NULL);
                json_object_array_add(a, j);
        }
        json_object_object_add(o, "ports", a);
        json_object_object_add(o, "portsError",
                               s->ports && s->ports->error ? json_object_new_string(s->ports->error) : NULL);
}

void service_ports_free(struct service_state *s) {
        s->ports = port_table_free(s->ports);
}
