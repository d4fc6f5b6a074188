/* state.c: see state.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "model-json.h"
#include "rollout.h"
#include "state.h"
#include "util.h"

#define STATE_FILE_MAX (4 * 1024 * 1024)

static char *services_dir(struct manager *m) {
        char *p = NULL;
        if (asprintf(&p, "%s/services", m->cfg.state_dir) < 0)
                return NULL;
        return p;
}

int state_read_json(const char *path, struct json_object **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_full_file(path, STATE_FILE_MAX, &buf, &len);
        if (r < 0)
                return r;
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        struct json_object *o = json_tokener_parse_ex(tok, buf, (int) len);
        enum json_tokener_error err = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!o || err != json_tokener_success || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int state_write_json(const char *path, struct json_object *o, bool durable) {
        const char *s = json_object_to_json_string_ext(o, BERTH_JSON_PLAIN);
        if (!s)
                return -ENOMEM;
        return durable ? write_file_atomic(path, s, strlen(s), 0600) : write_file_replace(path, s, strlen(s), 0600);
}

static int on_sync(sd_event_source *s, void *userdata) {
        struct manager *m = userdata;
        _cleanup_close_ int fd = open(m->cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) < 0)
                log_warning_errno(errno, "Cannot sync %s: %m", m->cfg.state_dir);
        return 0;
}

void state_sync_soon(struct manager *m) {
        if (!m->sync_event) {
                if (sd_event_add_defer(m->event, &m->sync_event, on_sync, m) < 0)
                        return;
                (void) sd_event_source_set_priority(m->sync_event, SD_EVENT_PRIORITY_IDLE + 1);
        }
        (void) sd_event_source_set_enabled(m->sync_event, SD_EVENT_ONESHOT);
}

void state_quarantine(const char *path, const char *why) {
        _cleanup_free_ char *aside = NULL;
        if (asprintf(&aside, "%s.corrupt", path) >= 0 && rename(path, aside) == 0)
                log_error("%s: %s; moved it to %s and carried on without it.", path, why, aside);
        else
                log_error("%s: %s; ignoring it.", path, why);
}

int state_save_service(struct manager *m, const struct service_state *s) {
        _cleanup_free_ char *dir = services_dir(m), *path = NULL;
        if (!dir || asprintf(&path, "%s/%s.json", dir, s->name) < 0)
                return -ENOMEM;
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(s->name));
        json_object_object_add(o, "revision", json_object_new_int64((int64_t) s->revision));
        json_object_object_add(o, "source", s->source ? json_object_new_string(s->source) : NULL);
        json_object_object_add(o, "stopped", json_object_new_boolean(s->stopped));
        json_object_object_add(o, "service", s->desired ? service_to_json(s->desired) : NULL);
        json_object_object_add(o, "maxRevision", json_object_new_int64((int64_t) s->max_revision));
        json_object_object_add(o, "lastComplete", json_object_new_int64((int64_t) s->last_complete));
        json_object_object_add(o, "heldDigest", s->held_digest ? json_object_new_string(s->held_digest) : NULL);
        struct json_object *ro = json_object_new_object();
        json_object_object_add(ro, "target", json_object_new_int64((int64_t) s->ro.target));
        json_object_object_add(ro, "stable", json_object_new_int64((int64_t) s->ro.stable));
        json_object_object_add(ro, "paused", json_object_new_boolean(s->ro.paused));
        json_object_object_add(ro, "status", json_object_new_string(rollout_status_to_string(s->ro.status)));
        json_object_object_add(ro, "failure", json_object_new_string(rollout_failure_to_string(s->ro.failure)));
        json_object_object_add(ro, "rollback", json_object_new_boolean(s->ro_rollback));
        json_object_object_add(ro, "rolledBackFrom", json_object_new_int64((int64_t) s->ro_rolled_back_from));
        json_object_object_add(ro, "rollbackCause", json_object_new_string(s->ro_rollback_cause));
        json_object_object_add(ro, "startedAt", json_object_new_int64((int64_t) s->ro_started_at));
        json_object_object_add(o, "rollout", ro);
        struct json_object *revs = json_object_new_array();
        for (size_t i = 0; i < s->n_history; i++) {
                const struct revision *h = &s->history[i];
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "revision", json_object_new_int64((int64_t) h->revision));
                json_object_object_add(e, "createdAt", json_object_new_int64((int64_t) h->created_at));
                json_object_object_add(e, "cause", json_object_new_string(h->cause));
                json_object_object_add(e, "digest", json_object_new_string(h->digest));
                json_object_object_add(e, "status", json_object_new_string(revision_status_to_string(h->status)));
                json_object_object_add(e, "service", service_to_json(h->spec));
                json_object_array_add(revs, e);
        }
        json_object_object_add(o, "revisions", revs);
        r = state_write_json(path, o, true);
        json_object_put(o);
        return r;
}

int state_remove_service(struct manager *m, const char *name) {
        _cleanup_free_ char *dir = services_dir(m), *path = NULL;
        if (!dir || asprintf(&path, "%s/%s.json", dir, name) < 0)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* A saved service (canonical JSON) through the same parser as the API. */
static int parse_saved(struct json_object *svc, const char *path, const char *name, struct service **ret) {
        struct service_list l = {};
        struct diag_list d = {};
        const char *text = json_object_to_json_string_ext(svc, BERTH_JSON_PLAIN);
        int r = manifest_parse_buffer(text, strlen(text), path, MANIFEST_CANONICAL, &l, &d);
        if (r < 0 || l.n != 1 || !streq(l.v[0]->metadata.name, name)) {
                diag_list_print(&d, stderr);
                diag_list_done(&d);
                service_list_done(&l);
                return -EBADMSG;
        }
        diag_list_done(&d);
        *ret = TAKE_PTR(l.v[0]);
        service_list_done(&l);
        return 0;
}

static uint64_t get_u64(struct json_object *o, const char *key) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return 0;
        int64_t i = json_object_get_int64(v);
        return i < 0 ? 0 : (uint64_t) i;
}

static const char *get_str(struct json_object *o, const char *key) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The rollout part of a saved service: history, the rollout's status. Files
 * from before rollouts have none: the current revision starts a rollout
 * (which completes at once when its replicas run). */
static void load_rollout(struct manager *m, struct service_state *s, struct json_object *o, const char *path) {
        struct json_object *revs, *ro = NULL, *v;
        s->max_revision = MAX(s->max_revision, MAX(get_u64(o, "maxRevision"), s->revision));
        s->last_complete = get_u64(o, "lastComplete");
        const char *held = get_str(o, "heldDigest");
        if (held)
                s->held_digest = strdup(held);
        if (json_object_object_get_ex(o, "revisions", &revs) && json_object_is_type(revs, json_type_array))
                for (size_t i = 0; i < json_object_array_length(revs); i++) {
                        struct json_object *e = json_object_array_get_idx(revs, i), *svc;
                        struct service *spec = NULL;
                        if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "service", &svc) ||
                            parse_saved(svc, path, s->name, &spec) < 0) {
                                log_warning("%s: revision entry %zu is damaged, ignoring it.", path, i);
                                continue;
                        }
                        struct revision *nv = realloc(s->history, (s->n_history + 1) * sizeof *nv);
                        char *cause = strdup(get_str(e, "cause") ?: "unknown");
                        if (!nv || !cause) {
                                if (nv)
                                        s->history = nv;
                                free(cause);
                                service_free(spec);
                                break;
                        }
                        s->history = nv;
                        int st = revision_status_from_string(get_str(e, "status"));
                        struct revision *h = &nv[s->n_history++];
                        *h = (struct revision) { .revision = get_u64(e, "revision"), .spec = spec,
                                                 .created_at = get_u64(e, "createdAt"), .cause = cause,
                                                 .status = st < 0 ? REVISION_SUPERSEDED : (enum revision_status) st };
                        snprintf(h->digest, sizeof h->digest, "%s", get_str(e, "digest") ?: "");
                }
        if (json_object_object_get_ex(o, "rollout", &v) && json_object_is_type(v, json_type_object))
                ro = v;
        s->ro.target = ro ? get_u64(ro, "target") : 0;
        if (s->ro.target != s->revision || !s->desired) {
                /* no (usable) rollout saved: start one to the current revision */
                s->ro = (struct rollout_state) { .target = s->revision, .status = ROLLOUT_PROGRESSING };
                if (s->desired && !service_history_find(s, s->revision))
                        (void) service_history_add(s, s->revision, s->desired, "restored");
        } else {
                s->ro.stable = get_u64(ro, "stable");
                s->ro.paused = json_object_object_get_ex(ro, "paused", &v) && json_object_get_boolean(v);
                const char *st = get_str(ro, "status");
                s->ro.status = st && streq(st, "complete") ? ROLLOUT_COMPLETE
                               : st && streq(st, "failed") ? ROLLOUT_FAILED
                               : s->ro.paused              ? ROLLOUT_PAUSED
                                                           : ROLLOUT_PROGRESSING;
                const char *f = get_str(ro, "failure");
                for (int i = 0; f && i < _ROLLOUT_FAILURE_MAX; i++)
                        if (streq(f, rollout_failure_to_string(i)))
                                s->ro.failure = i;
                s->ro_rollback = json_object_object_get_ex(ro, "rollback", &v) && json_object_get_boolean(v);
                s->ro_rolled_back_from = s->ro_rollback ? get_u64(ro, "rolledBackFrom") : 0; /* older files: 0 */
                snprintf(s->ro_rollback_cause, sizeof s->ro_rollback_cause, "%s", get_str(ro, "rollbackCause") ?: "");
                s->ro_started_at = get_u64(ro, "startedAt");
        }
        /* the deadline counts from now: the time berthd was away is not the rollout's */
        s->ro.progress_at = now_monotonic_usec();
        s->ro.best_available = 0;
}

/* Parses one saved service; the model through the same canonical parser as the API. */
static int load_one(struct manager *m, const char *path) {
        struct json_object *o = NULL, *name, *rev, *src, *svc;
        int r = state_read_json(path, &o);
        if (r == -EBADMSG) {
                state_quarantine(path, "not valid JSON (torn write?)");
                return 0;
        }
        if (r < 0)
                return log_warning_errno(r, "Cannot read %s: %m, ignoring.", path), 0;

        if (!json_object_object_get_ex(o, "name", &name) || !json_object_is_type(name, json_type_string) ||
            !json_object_object_get_ex(o, "revision", &rev) || !json_object_is_type(rev, json_type_int) ||
            !json_object_object_get_ex(o, "service", &svc)) {
                json_object_put(o);
                state_quarantine(path, "missing name, revision or service");
                return 0;
        }
        struct service_list l = {};
        struct diag_list d = {};
        if (json_object_is_type(svc, json_type_object)) {
                const char *text = json_object_to_json_string_ext(svc, BERTH_JSON_PLAIN);
                r = manifest_parse_buffer(text, strlen(text), path, MANIFEST_CANONICAL, &l, &d);
                if (r < 0 || l.n != 1 || !streq(l.v[0]->metadata.name, json_object_get_string(name))) {
                        diag_list_print(&d, stderr);
                        diag_list_done(&d);
                        service_list_done(&l);
                        json_object_put(o);
                        state_quarantine(path, "the saved service does not parse");
                        return 0;
                }
        }
        diag_list_done(&d);

        r = manager_restore_service(m, json_object_get_string(name), (uint64_t) json_object_get_int64(rev),
                                    json_object_object_get_ex(o, "source", &src) && json_object_is_type(src, json_type_string)
                                            ? json_object_get_string(src)
                                            : NULL,
                                    l.n == 1 ? TAKE_PTR(l.v[0]) : NULL);
        struct json_object *stopped;
        struct service_state *s = manager_find_service(m, json_object_get_string(name));
        if (r >= 0 && s && json_object_object_get_ex(o, "stopped", &stopped))
                s->stopped = json_object_get_boolean(stopped);
        if (r >= 0 && s)
                load_rollout(m, s, o, path);
        service_list_done(&l);
        json_object_put(o);
        return r;
}

int state_load_services(struct manager *m) {
        _cleanup_free_ char *dir = services_dir(m);
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                size_t n = strlen(de->d_name);
                if (de->d_name[0] == '.' || n < 6 || !streq(de->d_name + n - 5, ".json"))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = load_one(m, path);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}
