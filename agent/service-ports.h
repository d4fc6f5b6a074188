/* service-ports.h: glue between a service (its desired spec, its replicas)
 * and the port table of ports.h: binding on deploy and reconcile, sockets for
 * a new shim, taking them back from shims on restore, closing what nothing
 * lists any more. manager.c, replica.c and restore.c call it. */
#pragma once

#include <sys/types.h>

#include <json-c/json.h>

#include "model.h"
#include "ports.h"

struct manager;
struct service_state;
struct api_error;


/* The sockets for one replica of spec, bound where missing: fds[i] for
 * spec->spec.network.ports[i] (borrowed: the table owns them). On failure,
 * -errno and *ret_error, one line naming the port and what to do. */
int service_ports_acquire(struct service_state *s, const struct service *spec, int *fds, char **ret_error);
/* After any change (reconcile): binds the desired spec's ports (a failure is
 * logged, emitted as PortBindFailed once and kept for inspect) and closes the
 * sockets that neither the desired spec nor any replica lists any more. */
void service_ports_sync(struct service_state *s);
/* Restore, before the replica's own connection: when spec lists ports the
 * table does not have, asks the replica's live shim for its copies. */
void service_ports_restore(struct service_state *s, const struct service *spec, const char *shim_socket,
                           pid_t shim_pid);
/* Deploy: whether svc's ports that its service (if any) does not hold yet
 * can be bound now. 409 PortUnavailable otherwise. */
int service_ports_check(struct manager *m, const struct service *svc, struct api_error *err);
/* {"ports":[{"name","port","protocol","hostIP","bound"}], "portsError"} into o */
void service_ports_json(struct service_state *s, struct json_object *o);
void service_ports_free(struct service_state *s);
