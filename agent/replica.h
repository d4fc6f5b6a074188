/* replica.h: one replica of a service, at run time: its supervisor record,
 * its shim, its cgroup, its timer. The reconciler (manager.c) creates
 * replicas and tells them to start or stop; a replica executes what its
 * supervisor (supervisor.c, pure) decides, feeds it what the shim and the
 * cgroup report, and persists its record in STATE/replicas/<svc>/<idx>/.
 *
 * A replica outlives berthd: freeing one (berthd exiting) closes berthd's
 * handles only; the shim keeps the service running, and the next berthd
 * re-adopts it with replica_restore_all(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"
#include "supervisor.h"

int replica_new(struct service_state *s, unsigned index, const struct service *spec, uint64_t revision,
                struct replica **ret);
/* Releases berthd's handles and memory; never touches the service. */
void replica_free(struct replica *r);

void replica_start(struct replica *r);
/* Stop for good (scale-down, removal, replacement, shutdown): stop signal,
 * grace period, kill, then the replica removes itself (manager_replica_gone). */
void replica_stop(struct replica *r);

bool replica_stop_requested(const struct replica *r);
unsigned replica_index(const struct replica *r);
uint64_t replica_revision(const struct replica *r);
const char *replica_id(const struct replica *r);
struct service_state *replica_service(const struct replica *r);
const struct sup_record *replica_record(const struct replica *r);
/* The spec of the revision this replica runs. */
const struct service *replica_spec(const struct replica *r);

/* Readiness, as rollouts and `ps` see it: running, and every probe that
 * gates readiness (startupProbe, readinessProbe) has passed. Without probes
 * a running replica is ready from the moment it started. Whenever the value
 * may have changed the replica calls manager_schedule_reconcile().
 * replica_ready_since(): monotonic µs it became ready, 0 when it is not. */
bool replica_ready(const struct replica *r);
uint64_t replica_ready_since(const struct replica *r);
/* Its readiness probe failed past its failureThreshold in the current run. */
bool replica_readiness_failed(const struct replica *r);

/* The replica as the API shows it (see manager_replicas_json()). */
struct json_object *replica_to_json(struct replica *r);
/* Reports OOM kills in the replica's cgroup that were not reported yet. */
void replica_oom_check(struct replica *r);

/* At start: load the saved desired state and every replica record, find
 * each replica's shim, and re-adopt or clean up. Also removes replica
 * cgroups nobody owns. */
int replica_restore_all(struct manager *m);
