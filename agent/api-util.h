/* api-util.h: the control API's pure helpers: routing, request limits,
 * content types, query values, the peer check decision, JSON bodies with
 * line:col errors. No libmicrohttpd and no manager here, so tests/test-api.c
 * tests them directly; agent/api.c does the I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

/* Request bodies: manifests have the same cap (MANIFEST_MAX_SIZE). */
#define API_BODY_MAX (1024 * 1024)
/* A service name in a path: DNS-1123 label (lib/model.c). */
#define API_NAME_MAX 63
/* X-Berth-Filename: longer or odd names fall back to the default. */
#define API_FILENAME_MAX 1024
#define API_FILENAME_DEFAULT "<request>"

enum api_method {
        API_METHOD_GET,
        API_METHOD_HEAD,
        API_METHOD_POST,
        API_METHOD_DELETE,
        API_METHOD_OTHER,
};

enum api_route {
        API_ROUTE_INFO,            /* /v1/info */
        API_ROUTE_SERVICES,        /* /v1/services */
        API_ROUTE_SERVICE,         /* /v1/services/NAME */
        API_ROUTE_SERVICE_SCALE,   /* /v1/services/NAME/scale */
        API_ROUTE_SERVICE_STOP,    /* /v1/services/NAME/stop */
        API_ROUTE_SERVICE_START,   /* /v1/services/NAME/start */
        API_ROUTE_SERVICE_RESTART, /* /v1/services/NAME/restart */
        API_ROUTE_ROLLOUT,         /* /v1/services/NAME/rollout */
        API_ROUTE_REVISIONS,       /* /v1/services/NAME/revisions */
        API_ROUTE_ROLLOUT_UNDO,    /* /v1/services/NAME/rollout/undo */
        API_ROUTE_ROLLOUT_PAUSE,   /* /v1/services/NAME/rollout/pause */
        API_ROUTE_ROLLOUT_RESUME,  /* /v1/services/NAME/rollout/resume */
        API_ROUTE_ROLLOUT_RESTART, /* /v1/services/NAME/rollout/restart */
        API_ROUTE_SERVICE_LOGS,    /* /v1/services/NAME/logs */
        API_ROUTE_REPLICAS,        /* /v1/replicas */
        API_ROUTE_EVENTS,          /* /v1/events */
        API_ROUTE_SHUTDOWN,        /* /v1/shutdown */
        _API_ROUTE_MAX,
};

enum api_body_kind {
        API_BODY_YAML,
        API_BODY_JSON,
};

enum api_method api_method_from_string(const char *s);
/* GET and HEAD only read; everything else is audited as a mutation. */
static inline bool api_method_is_mutating(enum api_method m) {
        return m != API_METHOD_GET && m != API_METHOD_HEAD;
}

/* Matches a request path (already percent-decoded, without the query). The
 * NAME segment of /v1/services/NAME[/...] goes to name (name_size bytes,
 * NUL-terminated; any bytes but '/', at most API_NAME_MAX of them else the
 * path does not match). Returns the route, or -ENOENT. A trailing '/' is
 * not accepted. */
int api_route_find(const char *path, char *name, size_t name_size);
bool api_route_allows(enum api_route route, enum api_method method);
/* The value of the Allow header for a 405: "GET, HEAD" ... */
const char *api_route_allow_header(enum api_route route);
/* Whether a query parameter is known for the route and method. Unknown ones
 * are refused: a typo like ?dryrun=1 must not deploy for real. */
bool api_query_allowed(enum api_route route, enum api_method method, const char *key);
/* Whether the route needs the service name to be a valid DNS-1123 label. */
bool api_name_valid(const char *name);

/* Content-Length against the body limit: 0 when it fits, -EFBIG when it
 * does not, -EINVAL when it is not a decimal number. NULL: 0 (no header). */
int api_content_length_check(const char *value, size_t max);

/* Collects a request body up to max bytes. Beyond max the data collected so
 * far is dropped and too_large set: the caller answers 413. */
struct api_body {
        char *data; /* NUL-terminated once anything was appended */
        size_t len, allocated;
        uint64_t received; /* all bytes seen, also beyond max */
        bool too_large;
};
/* 0, -EFBIG (now or earlier beyond max), -ENOMEM. */
int api_body_append(struct api_body *b, const char *data, size_t n, size_t max);
void api_body_done(struct api_body *b);

/* Which parser a deploy body gets: YAML for application/yaml,
 * application/x-yaml, text/yaml, text/x-yaml; JSON for application/json (and
 * +json); without a content type (or curl's default
 * application/x-www-form-urlencoded, text/plain, application/octet-stream)
 * sniff: first non-space '{' or '[' is JSON, else YAML. Parameters
 * (";charset=utf-8") are ignored. Returns enum api_body_kind or
 * -EMEDIUMTYPE (415). */
int api_body_kind(const char *content_type, const char *body, size_t len);

/* Query values: "1", "true", "yes" / "0", "false", "no" (and "" = true for
 * a bare "?follow"). -EINVAL otherwise. */
int api_parse_bool(const char *s, bool *ret);
/* A decimal unsigned integer without sign or spaces. -EINVAL / -ERANGE. */
int api_parse_u64(const char *s, uint64_t *ret);

/* X-Berth-Filename: printable, no '/' tricks needed (it is only a label),
 * at most API_FILENAME_MAX bytes. NULL or unfit: API_FILENAME_DEFAULT. */
const char *api_filename_or_default(const char *s);

/* The access decision: root, or the socket group is the peer's gid or one
 * of its supplementary groups. */
bool api_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, gid_t socket_gid);
/* The "Groups:" line of a /proc/PID/status text. -ENOENT without one,
 * -EINVAL when it is garbled. *ret may be NULL when the list is empty. */
int api_parse_status_groups(const char *status, gid_t **ret, size_t *ret_n);

/* 1-based line and column (in bytes) of offset in buf. */
void api_offset_to_line_col(const char *buf, size_t len, size_t offset, unsigned *ret_line, unsigned *ret_col);
/* Parses one JSON value (strict json-c, depth 32) that must be the whole
 * body (trailing whitespace is fine). On error returns -EINVAL and writes
 * "FILE:LINE:COL: error: invalid JSON: what" to err. */
int api_json_parse(const char *buf, size_t len, const char *file, struct json_object **ret, char *err,
                   size_t err_size);
