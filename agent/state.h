/* state.h: berthd's state directory (--state-dir), the part of it that is
 * not per replica: the desired state berthd has accepted, per service
 *     STATE/services/<name>.json  {"name", "revision", "source", "service": <canonical JSON>}
 * Written atomically (temp, fsync, rename, fsync dir) on every change; read
 * back at start so a restarted berthd knows revisions and does not restart
 * replicas whose spec did not change. A corrupt file is reported, moved
 * aside (<name>.json.corrupt) and skipped: never a crash. */
#pragma once

#include <json-c/json.h>

#include "manager.h"

int state_save_service(struct manager *m, const struct service_state *s);
int state_remove_service(struct manager *m, const char *name);
/* Loads every saved service into m (desired state, revision, source). */
int state_load_services(struct manager *m);

/* Reads a JSON object from a file (size-capped, strict). -EBADMSG when corrupt. */
int state_read_json(const char *path, struct json_object **ret);
/* Writes atomically (temp file, rename). durable: also fsync the file and
 * the directory before returning (the desired state). Otherwise the write is
 * made durable by state_sync_soon(): one syncfs() of the state directory at
 * the end of the current event-loop turn, off the replicas' start and
 * restart paths. */
int state_write_json(const char *path, struct json_object *o, bool durable);
void state_sync_soon(struct manager *m);
/* Renames a corrupt file to PATH.corrupt and logs it. */
void state_quarantine(const char *path, const char *why);
