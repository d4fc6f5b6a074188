/* api-endpoints.c: one handler per endpoint of the control API (docs/api.md).
 * A handler runs once the whole request is in and allowed: it checks the
 * query and body, calls the manager (manager.h, never blocking) and replies.
 * Every client mistake is a 4xx with a message saying what to fix. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api-internal.h"
#include "diag.h"
#include "manager.h"
#include "manifest.h"

/* ---- query ------------------------------------------------------------- */

struct query_check {
        struct api_request *req;
        const char *bad;
};

static enum MHD_Result query_check_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        struct query_check *c = cls;
        if (!api_query_allowed((enum api_route) c->req->route, c->req->method, key)) {
                c->bad = key ?: "";
                return MHD_NO;
        }
        return MHD_YES;
}

static const char *query_known(enum api_route route, enum api_method method) {
        switch (route) {
        case API_ROUTE_SERVICES:
                return method == API_METHOD_POST ? "dryRun" : NULL;
        case API_ROUTE_REPLICAS:
                return "service";
        case API_ROUTE_EVENTS:
                return "since, follow";
        case API_ROUTE_SERVICE_LOGS:
                return "replica, follow, tail, since, until, previous";
        default:
                return NULL;
        }
}

/* A query value: *present tells "?follow" (NULL value) from no "follow". */
struct query_find {
        const char *key;
        const char *value;
        bool present;
};

static enum MHD_Result query_find_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        struct query_find *f = cls;
        if (key && streq(key, f->key)) {
                f->present = true;
                f->value = value;
        }
        return MHD_YES;
}

static bool query_get(struct api_request *req, const char *key, const char **ret) {
        struct query_find f = { .key = key };
        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_find_one, &f);
        *ret = f.value;
        return f.present;
}

/* 0 and *ret set (default when absent); else the reply was queued: returns -EINVAL. */
static int query_bool(struct api_request *req, const char *key, bool *ret, enum MHD_Result *reply) {
        const char *v;
        if (!query_get(req, key, &v))
                return 0;
        if (api_parse_bool(v ?: "", ret) < 0) {
                *reply = api_reply_error(req, 400, "BadRequest", NULL, "?%s=%s: use 1/true or 0/false", key, v ?: "");
                return -EINVAL;
        }
        return 0;
}

/* ---- bodies ------------------------------------------------------------ */

static const char *body_text(struct api_request *req) {
        return req->body.data ?: "";
}

/* An optional JSON object body: empty -> *ret NULL. */
static int body_json_object(struct api_request *req, struct json_object **ret, enum MHD_Result *reply) {
        char err[512];
        struct json_object *o = NULL;

        *ret = NULL;
        if (strspn(body_text(req), " \t\r\n") == req->body.len)
                return 0;
        if (api_json_parse(body_text(req), req->body.len, "request body", &o, err, sizeof err) < 0) {
                *reply = api_reply_error(req, 400, "BadRequest", NULL, "%s", err);
                return -EINVAL;
        }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                *reply = api_reply_error(req, 400, "BadRequest", NULL, "the request body must be a JSON object");
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

/* Only the listed keys: a typo must not be ignored silently. */
static int body_only_keys(struct api_request *req, struct json_object *o, const char *key, enum MHD_Result *reply) {
        json_object_object_foreach(o, k, v) {
                (void) v;
                if (!streq(k, key)) {
                        *reply = api_reply_error(req, 400, "BadRequest", NULL, "unknown key \"%s\" in the request body (expected \"%s\")",
                                                 k, key);
                        return -EINVAL;
                }
        }
        return 0;
}

/* ---- endpoints --------------------------------------------------------- */

static enum MHD_Result get_info(struct api_request *req) {
        struct json_object *o = manager_info_json(req->api->m);
        if (!o)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        return api_reply_json(req, 200, o);
}

static enum MHD_Result get_services(struct api_request *req) {
        struct json_object *o = manager_services_json(req->api->m);
        if (!o)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        return api_reply_json(req, 200, o);
}

/* Every diagnostic line, in order, plus the "more errors" line. */
static struct json_object *diag_lines(const struct diag_list *diags, char *first, size_t first_size) {
        struct json_object *a = json_object_new_array();
        char line[2048];

        first[0] = 0;
        for (size_t i = 0; a && i < diags->n; i++) {
                diag_format(&diags->v[i], line, sizeof line);
                if (i == 0)
                        snprintf(first, first_size, "%s", line);
                json_object_array_add(a, json_object_new_string(line));
        }
        if (a && diags->dropped > 0) {
                snprintf(line, sizeof line, "... and %zu more error(s)", diags->dropped);
                json_object_array_add(a, json_object_new_string(line));
        }
        if (!first[0])
                snprintf(first, first_size, "the manifest is invalid");
        return a;
}

static enum MHD_Result post_services(struct api_request *req) {
        enum MHD_Result reply;
        bool dry_run = false;
        if (query_bool(req, "dryRun", &dry_run, &reply) < 0)
                return reply;

        const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        int kind = api_body_kind(ct, body_text(req), req->body.len);
        if (kind < 0)
                return api_reply_error(req, 415, "UnsupportedMediaType", NULL,
                                       "Content-Type %s is not a manifest: send application/yaml or application/json",
                                       ct);
        const char *file = api_filename_or_default(
                MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Berth-Filename"));

        _cleanup_(service_list_done) struct service_list list = {};
        _cleanup_(diag_list_done) struct diag_list diags = {};
        int r = manifest_parse_buffer(body_text(req), req->body.len, file,
                                      kind == API_BODY_JSON ? MANIFEST_CANONICAL : 0, &list, &diags);
        if (r == -EINVAL || diag_has_errors(&diags)) {
                char first[2048];
                struct json_object *details = diag_lines(&diags, first, sizeof first);
                return api_reply_error(req, 400, "Invalid", details, "%s", first);
        }
        if (r < 0)
                return api_reply_error(req, 500, "Internal", NULL, "cannot parse the manifest: %s", strerror(-r));
        if (list.n == 0) {
                char line[512];
                snprintf(line, sizeof line, "%s: error: no services in the request body (send one or more kind: Service documents)",
                         file);
                struct json_object *details = json_object_new_array();
                if (details)
                        json_object_array_add(details, json_object_new_string(line));
                return api_reply_error(req, 400, "Invalid", details, "%s", line);
        }

        struct json_object *o = NULL;
        struct api_error err = {};
        r = manager_deploy(req->api->m, &list, dry_run, &o, &err);
        if (r < 0)
                return api_reply_manager_error(req, r, &err);
        return api_reply_json(req, 200, o);
}

typedef int (*service_fn)(struct manager *m, const char *name, struct json_object **ret, struct api_error *err);

static enum MHD_Result service_call(struct api_request *req, service_fn fn) {
        struct json_object *o = NULL;
        struct api_error err = {};

        if (!api_name_valid(req->name))
                return api_reply_error(req, 404, "NotFound", NULL, "service \"%s\" not found", req->name);
        int r = fn(req->api->m, req->name, &o, &err);
        if (r < 0)
                return api_reply_manager_error(req, r, &err);
        return api_reply_json(req, 200, o);
}

static enum MHD_Result post_scale(struct api_request *req) {
        enum MHD_Result reply;
        struct json_object *o = NULL, *v = NULL, *res = NULL;
        struct api_error err = {};

        if (!api_name_valid(req->name))
                return api_reply_error(req, 404, "NotFound", NULL, "service \"%s\" not found", req->name);
        if (body_json_object(req, &o, &reply) < 0)
                return reply;
        if (!o)
                return api_reply_error(req, 400, "BadRequest", NULL, "send {\"replicas\": N} in the request body");
        if (body_only_keys(req, o, "replicas", &reply) < 0) {
                json_object_put(o);
                return reply;
        }
        if (!json_object_object_get_ex(o, "replicas", &v) || !json_object_is_type(v, json_type_int)) {
                json_object_put(o);
                return api_reply_error(req, 400, "BadRequest", NULL,
                                       "\"replicas\" must be an integer (send {\"replicas\": N})");
        }
        int64_t n = json_object_get_int64(v);
        json_object_put(o);
        int r = manager_scale(req->api->m, req->name, n, &res, &err);
        if (r < 0)
                return api_reply_manager_error(req, r, &err);
        return api_reply_json(req, 200, res);
}

static enum MHD_Result post_undo(struct api_request *req) {
        enum MHD_Result reply;
        struct json_object *o = NULL, *v = NULL, *res = NULL;
        struct api_error err = {};
        uint64_t to = 0;

        if (!api_name_valid(req->name))
                return api_reply_error(req, 404, "NotFound", NULL, "service \"%s\" not found", req->name);
        if (body_json_object(req, &o, &reply) < 0)
                return reply;
        if (o) {
                if (body_only_keys(req, o, "toRevision", &reply) < 0) {
                        json_object_put(o);
                        return reply;
                }
                if (json_object_object_get_ex(o, "toRevision", &v)) {
                        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
                                json_object_put(o);
                                return api_reply_error(req, 400, "BadRequest", NULL,
                                                       "\"toRevision\" must be a revision number (see GET /v1/services/%s/revisions)",
                                                       req->name);
                        }
                        to = (uint64_t) json_object_get_int64(v);
                }
                json_object_put(o);
        }
        int r = manager_rollout_undo(req->api->m, req->name, to, &res, &err);
        if (r < 0)
                return api_reply_manager_error(req, r, &err);
        return api_reply_json(req, 200, res);
}

static enum MHD_Result get_replicas(struct api_request *req) {
        struct json_object *o = NULL;
        struct api_error err = {};
        const char *service = NULL;

        if (query_get(req, "service", &service)) {
                if (!service || !*service)
                        return api_reply_error(req, 400, "BadRequest", NULL, "?service= needs a service name");
                if (!api_name_valid(service))
                        return api_reply_error(req, 404, "NotFound", NULL, "service \"%s\" not found", service);
        }
        int r = manager_replicas_json(req->api->m, service, &o, &err);
        if (r < 0)
                return api_reply_manager_error(req, r, &err);
        return api_reply_json(req, 200, o);
}

static enum MHD_Result get_events(struct api_request *req) {
        enum MHD_Result reply;
        bool follow = false;
        uint64_t since = 0;
        const char *v;

        if (query_bool(req, "follow", &follow, &reply) < 0)
                return reply;
        if (query_get(req, "since", &v) && api_parse_u64(v ?: "", &since) < 0)
                return api_reply_error(req, 400, "BadRequest", NULL, "?since=%s: use an event sequence number",
                                       v ?: "");
        return api_events_reply(req, since, follow);
}

static enum MHD_Result post_shutdown(struct api_request *req) {
        enum MHD_Result reply;
        struct json_object *o = NULL, *v = NULL;
        bool stop = false;

        if (body_json_object(req, &o, &reply) < 0)
                return reply;
        if (o) {
                if (body_only_keys(req, o, "stopServices", &reply) < 0) {
                        json_object_put(o);
                        return reply;
                }
                if (json_object_object_get_ex(o, "stopServices", &v)) {
                        if (!json_object_is_type(v, json_type_boolean)) {
                                json_object_put(o);
                                return api_reply_error(req, 400, "BadRequest", NULL,
                                                       "\"stopServices\" must be true or false");
                        }
                        stop = json_object_get_boolean(v);
                }
                json_object_put(o);
        }

        struct json_object *res = json_object_new_object();
        if (!res)
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        json_object_object_add(res, "shutdown", json_object_new_boolean(true));
        json_object_object_add(res, "stopServices", json_object_new_boolean(stop));
        /* act once this reply is out (api.c's completion callback) */
        req->shutdown_after = true;
        req->stop_services = stop;
        return api_reply_json(req, 202, res);
}

enum MHD_Result api_dispatch(struct api_request *req) {
        struct query_check qc = { .req = req };
        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_check_one, &qc);
        if (qc.bad) {
                const char *known = query_known((enum api_route) req->route, req->method);
                if (known)
                        return api_reply_error(req, 400, "BadRequest", NULL,
                                               "unknown query parameter \"%s\" for %s %s (known: %s)", qc.bad,
                                               req->method_str, req->path, known);
                return api_reply_error(req, 400, "BadRequest", NULL,
                                       "unknown query parameter \"%s\": %s %s takes none", qc.bad, req->method_str,
                                       req->path);
        }

        switch ((enum api_route) req->route) {
        case API_ROUTE_INFO:
                return get_info(req);
        case API_ROUTE_SERVICES:
                return req->method == API_METHOD_POST ? post_services(req) : get_services(req);
        case API_ROUTE_SERVICE:
                return service_call(req, req->method == API_METHOD_DELETE ? manager_delete : manager_service_json);
        case API_ROUTE_SERVICE_SCALE:
                return post_scale(req);
        case API_ROUTE_SERVICE_STOP:
                return service_call(req, manager_service_stop);
        case API_ROUTE_SERVICE_START:
                return service_call(req, manager_service_start);
        case API_ROUTE_SERVICE_RESTART:
                return service_call(req, manager_service_restart);
        case API_ROUTE_ROLLOUT:
                return service_call(req, manager_rollout_status);
        case API_ROUTE_REVISIONS:
                return service_call(req, manager_rollout_history);
        case API_ROUTE_ROLLOUT_UNDO:
                return post_undo(req);
        case API_ROUTE_ROLLOUT_PAUSE:
                return service_call(req, manager_rollout_pause);
        case API_ROUTE_ROLLOUT_RESUME:
                return service_call(req, manager_rollout_resume);
        case API_ROUTE_ROLLOUT_RESTART:
                return service_call(req, manager_service_restart);
        case API_ROUTE_REPLICAS:
                return get_replicas(req);
        case API_ROUTE_EVENTS:
                return get_events(req);
        case API_ROUTE_SERVICE_LOGS:
                if (!api_name_valid(req->name))
                        return api_reply_error(req, 404, "NotFound", NULL, "service \"%s\" not found", req->name);
                return api_logs_reply(req);
        case API_ROUTE_SHUTDOWN:
                return post_shutdown(req);
        case _API_ROUTE_MAX:
                break;
        }
        return api_reply_error(req, 404, "NotFound", NULL, "no such endpoint: %s", req->path);
}
