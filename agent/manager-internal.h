/* manager-internal.h: what manager.c and manager-rollout.c share. Nothing
 * else includes this: the rest of berthd sees manager.h only. */
#pragma once

#include "macro.h"
#include "manager.h"

/* The decision pass for one service (manager-rollout.c). */
void reconcile_service(struct manager *m, struct service_state *s);
struct replica *service_find_replica(struct service_state *s, unsigned index);

/* The control API's helpers (manager.c). */
int api_fail(struct api_error *err, int status, const char *code, int error, const char *fmt, ...) _printf_(5, 6);
int not_found(struct api_error *err, const char *name);
struct service_state *find_live(struct manager *m, const char *name);
bool from_manifests_dir(const struct manager *m, const struct service_state *s);
bool path_in_manifests_dir(const struct manager *m, const char *path);
void save_or_warn(struct manager *m, struct service_state *s);
struct json_object *service_state_json(struct manager *m, const struct service_state *s);
