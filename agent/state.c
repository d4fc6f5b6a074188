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
