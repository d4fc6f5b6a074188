/* test-api.c: the control API's pure decisions (agent/api-util.c): which
 * route and method a request hits, which query parameters it may carry, body
 * limits (declared and counted), content types, the peer check, and JSON
 * bodies with line:col errors. Table-driven; no sockets, no libmicrohttpd. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api-util.h"
#include "macro.h"

/* ---------------------------------------------------------------- routing */

static void test_api_route_find(void **state) {
        static const struct {
                const char *path;
                int route;
                const char *name;
        } rows[] = {
                { "/v1/info", API_ROUTE_INFO, "" },
                { "/v1/services", API_ROUTE_SERVICES, "" },
                { "/v1/services/web", API_ROUTE_SERVICE, "web" },
                { "/v1/services/web/scale", API_ROUTE_SERVICE_SCALE, "web" },
                { "/v1/services/web/stop", API_ROUTE_SERVICE_STOP, "web" },
                { "/v1/services/web/start", API_ROUTE_SERVICE_START, "web" },
                { "/v1/services/web-api-2/restart", API_ROUTE_SERVICE_RESTART, "web-api-2" },
                { "/v1/services/web/rollout", API_ROUTE_ROLLOUT, "web" },
                { "/v1/services/web/revisions", API_ROUTE_REVISIONS, "web" },
                { "/v1/services/web/rollout/undo", API_ROUTE_ROLLOUT_UNDO, "web" },
                { "/v1/services/web/rollout/pause", API_ROUTE_ROLLOUT_PAUSE, "web" },
                { "/v1/services/web/rollout/resume", API_ROUTE_ROLLOUT_RESUME, "web" },
                { "/v1/services/web/rollout/restart", API_ROUTE_ROLLOUT_RESTART, "web" },
                { "/v1/services/web/rollout/", -ENOENT, NULL },
                { "/v1/services/web/rollout/undo/x", -ENOENT, NULL },
                { "/v1/services/web/rollout/scale", -ENOENT, NULL },
                { "/v1/services/web/logs", API_ROUTE_SERVICE_LOGS, "web" },
                { "/v1/replicas", API_ROUTE_REPLICAS, "" },
                { "/v1/events", API_ROUTE_EVENTS, "" },
                { "/v1/shutdown", API_ROUTE_SHUTDOWN, "" },
                /* the name is matched as bytes; the handler checks it is a label */
                { "/v1/services/Bad_Name", API_ROUTE_SERVICE, "Bad_Name" },
                { "/v1/services/..", API_ROUTE_SERVICE, ".." },
                { "/", -ENOENT, NULL },
                { "", -ENOENT, NULL },
                { "/v1", -ENOENT, NULL },
                { "/v1/", -ENOENT, NULL },
                { "/v1/info/", -ENOENT, NULL },
                { "/v1/services/", -ENOENT, NULL },
                { "/v1/services//scale", -ENOENT, NULL },
                { "/v1/services/web/", -ENOENT, NULL },
                { "/v1/services/web/scale/", -ENOENT, NULL },
                { "/v1/services/web/scale/x", -ENOENT, NULL },
                { "/v1/services/web/delete", -ENOENT, NULL },
                { "/v1/services/web/../scale", -ENOENT, NULL },
                { "/V1/INFO", -ENOENT, NULL },
                { "/v2/info", -ENOENT, NULL },
                { "/v1/infox", -ENOENT, NULL },
                { "v1/info", -ENOENT, NULL },
                { "*", -ENOENT, NULL },
                { "http://localhost/v1/info", -ENOENT, NULL },
                /* 63 bytes is the longest name */
                { "/v1/services/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", API_ROUTE_SERVICE,
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
                { "/v1/services/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -ENOENT, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char name[API_NAME_MAX + 1] = "junk";
                int r = api_route_find(rows[i].path, name, sizeof name);
                if (r != rows[i].route)
                        fail_msg("\"%s\": route %d, expected %d", rows[i].path, r, rows[i].route);
                if (r >= 0 && !streq(name, rows[i].name))
                        fail_msg("\"%s\": name \"%s\", expected \"%s\"", rows[i].path, name, rows[i].name);
        }
        assert_int_equal(api_route_find(NULL, NULL, 0), -ENOENT);
        /* a name buffer too small never overflows */
        char small[4];
        assert_int_equal(api_route_find("/v1/services/webby", small, sizeof small), -ENOENT);
        assert_int_equal(api_route_find("/v1/services/web", small, sizeof small), API_ROUTE_SERVICE);
        assert_string_equal(small, "web");
}

static void test_api_route_methods(void **state) {
        static const struct {
                enum api_route route;
                const char *allowed; /* of GET HEAD POST DELETE */
                const char *allow;
        } rows[] = {
                { API_ROUTE_INFO, "GET HEAD", "GET, HEAD" },
                { API_ROUTE_SERVICES, "GET HEAD POST", "GET, HEAD, POST" },
                { API_ROUTE_SERVICE, "GET HEAD DELETE", "GET, HEAD, DELETE" },
                { API_ROUTE_SERVICE_SCALE, "POST", "POST" },
                { API_ROUTE_SERVICE_STOP, "POST", "POST" },
                { API_ROUTE_SERVICE_START, "POST", "POST" },
                { API_ROUTE_SERVICE_RESTART, "POST", "POST" },
                { API_ROUTE_ROLLOUT, "GET HEAD", "GET, HEAD" },
                { API_ROUTE_REVISIONS, "GET HEAD", "GET, HEAD" },
                { API_ROUTE_ROLLOUT_UNDO, "POST", "POST" },
                { API_ROUTE_ROLLOUT_PAUSE, "POST", "POST" },
                { API_ROUTE_ROLLOUT_RESUME, "POST", "POST" },
                { API_ROUTE_ROLLOUT_RESTART, "POST", "POST" },
                { API_ROUTE_SERVICE_LOGS, "GET", "GET" },
                { API_ROUTE_REPLICAS, "GET HEAD", "GET, HEAD" },
                { API_ROUTE_EVENTS, "GET", "GET" },
                { API_ROUTE_SHUTDOWN, "POST", "POST" },
        };
        static const char *const methods[] = { "GET", "HEAD", "POST", "DELETE" };

        assert_int_equal(ELEMENTSOF(rows), _API_ROUTE_MAX);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                for (size_t k = 0; k < ELEMENTSOF(methods); k++) {
                        enum api_method m = api_method_from_string(methods[k]);
                        bool want = strstr(rows[i].allowed, methods[k]) != NULL;
                        if (api_route_allows(rows[i].route, m) != want)
                                fail_msg("route %d, %s: allowed %d, expected %d", (int) rows[i].route, methods[k],
                                         !want, want);
                }
                assert_false(api_route_allows(rows[i].route, API_METHOD_OTHER));
                assert_string_equal(api_route_allow_header(rows[i].route), rows[i].allow);
        }
        assert_false(api_route_allows(_API_ROUTE_MAX, API_METHOD_GET));
        assert_false(api_route_allows((enum api_route) -1, API_METHOD_GET));
        assert_string_equal(api_route_allow_header(_API_ROUTE_MAX), "");
}

static void test_api_method_from_string(void **state) {
        assert_int_equal(api_method_from_string("GET"), API_METHOD_GET);
        assert_int_equal(api_method_from_string("HEAD"), API_METHOD_HEAD);
        assert_int_equal(api_method_from_string("POST"), API_METHOD_POST);
        assert_int_equal(api_method_from_string("DELETE"), API_METHOD_DELETE);
        /* methods are case-sensitive */
        assert_int_equal(api_method_from_string("get"), API_METHOD_OTHER);
        assert_int_equal(api_method_from_string("PUT"), API_METHOD_OTHER);
        assert_int_equal(api_method_from_string(""), API_METHOD_OTHER);
        assert_int_equal(api_method_from_string(NULL), API_METHOD_OTHER);
        assert_false(api_method_is_mutating(API_METHOD_GET));
        assert_false(api_method_is_mutating(API_METHOD_HEAD));
        assert_true(api_method_is_mutating(API_METHOD_POST));
        assert_true(api_method_is_mutating(API_METHOD_DELETE));
        assert_true(api_method_is_mutating(API_METHOD_OTHER));
}

static void test_api_query_allowed(void **state) {
        assert_true(api_query_allowed(API_ROUTE_SERVICES, API_METHOD_POST, "dryRun"));
        assert_false(api_query_allowed(API_ROUTE_SERVICES, API_METHOD_POST, "dryrun"));
        assert_false(api_query_allowed(API_ROUTE_SERVICES, API_METHOD_GET, "dryRun"));
        assert_true(api_query_allowed(API_ROUTE_REPLICAS, API_METHOD_GET, "service"));
        assert_true(api_query_allowed(API_ROUTE_EVENTS, API_METHOD_GET, "since"));
        assert_true(api_query_allowed(API_ROUTE_EVENTS, API_METHOD_GET, "follow"));
        static const char *const logs_keys[] = { "replica", "follow", "tail", "since", "until", "previous" };
        for (size_t i = 0; i < ELEMENTSOF(logs_keys); i++)
                assert_true(api_query_allowed(API_ROUTE_SERVICE_LOGS, API_METHOD_GET, logs_keys[i]));
        assert_false(api_query_allowed(API_ROUTE_SERVICE_LOGS, API_METHOD_GET, "timestamps"));
        assert_false(api_query_allowed(API_ROUTE_SERVICE_LOGS, API_METHOD_GET, "Follow"));
        assert_false(api_query_allowed(API_ROUTE_EVENTS, API_METHOD_GET, "Follow"));
        assert_false(api_query_allowed(API_ROUTE_INFO, API_METHOD_GET, "x"));
        assert_false(api_query_allowed(API_ROUTE_SERVICE_SCALE, API_METHOD_POST, "replicas"));
        assert_false(api_query_allowed(API_ROUTE_EVENTS, API_METHOD_GET, NULL));
        assert_false(api_query_allowed(API_ROUTE_EVENTS, API_METHOD_GET, ""));
}

static void test_api_name_valid(void **state) {
        assert_true(api_name_valid("web"));
        assert_true(api_name_valid("w"));
        assert_true(api_name_valid("web-api-2"));
        assert_true(api_name_valid("0web"));
        assert_true(api_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 63 */
        assert_false(api_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
        assert_false(api_name_valid(""));
        assert_false(api_name_valid(NULL));
        assert_false(api_name_valid("Web"));
        assert_false(api_name_valid("web_api"));
        assert_false(api_name_valid("-web"));
        assert_false(api_name_valid("web-"));
        assert_false(api_name_valid(".."));
        assert_false(api_name_valid("web\n"));
        assert_false(api_name_valid("w\xc3\xa9"));
}

/* ---------------------------------------------------------------- bodies */

static void test_api_content_length(void **state) {
        static const struct {
                const char *value;
                int r;
        } rows[] = {
                { NULL, 0 },
                { "0", 0 },
                { "1", 0 },
                { "1048576", 0 },
                { "001048576", 0 },
                { "1048577", -EFBIG },
                { "2097152", -EFBIG },
                { "18446744073709551615", -EFBIG },
                { "99999999999999999999999", -EFBIG },
                { "", -EINVAL },
                { "-1", -EINVAL },
                { "+1", -EINVAL },
                { " 1", -EINVAL },
                { "1 ", -EINVAL },
                { "0x10", -EINVAL },
                { "abc", -EINVAL },
                { "1e3", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = api_content_length_check(rows[i].value, API_BODY_MAX);
                if (r != rows[i].r)
                        fail_msg("Content-Length \"%s\": %d, expected %d", rows[i].value ?: "(null)", r, rows[i].r);
        }
}

static void test_api_body_append(void **state) {
        struct api_body b = {};
        char chunk[1000];
        memset(chunk, 'x', sizeof chunk);

        /* empty appends are fine */
        assert_int_equal(api_body_append(&b, chunk, 0, 4000), 0);
        assert_int_equal(b.len, 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(api_body_append(&b, chunk, sizeof chunk, 4000), 0);
        assert_int_equal(b.len, 4000);
        assert_int_equal(b.received, 4000);
        assert_non_null(b.data);
        assert_int_equal(b.data[4000], 0); /* NUL-terminated */
        assert_false(b.too_large);

        /* one byte more: everything is dropped, and stays dropped */
        assert_int_equal(api_body_append(&b, "y", 1, 4000), -EFBIG);
        assert_true(b.too_large);
        assert_null(b.data);
        assert_int_equal(b.len, 0);
        assert_int_equal(api_body_append(&b, chunk, sizeof chunk, 4000), -EFBIG);
        assert_int_equal(b.received, 5001);
        assert_null(b.data);
        api_body_done(&b);

        /* a single oversized piece */
        struct api_body c = {};
        assert_int_equal(api_body_append(&c, chunk, sizeof chunk, 999), -EFBIG);
        assert_null(c.data);
        api_body_done(&c);

        /* the real limit, in 64 KiB pieces */
        struct api_body d = {};
        static char piece[64 * 1024];
        for (size_t n = 0; n < API_BODY_MAX; n += sizeof piece)
                assert_int_equal(api_body_append(&d, piece, sizeof piece, API_BODY_MAX), 0);
        assert_int_equal(d.len, API_BODY_MAX);
        assert_int_equal(api_body_append(&d, piece, 1, API_BODY_MAX), -EFBIG);
        api_body_done(&d);
}

static void test_api_body_kind(void **state) {
        static const struct {
                const char *type;
                const char *body;
                int kind;
        } rows[] = {
                { "application/yaml", "{\"a\":1}", API_BODY_YAML },
                { "application/x-yaml", "a: 1", API_BODY_YAML },
                { "text/yaml", "a: 1", API_BODY_YAML },
                { "text/x-yaml", "a: 1", API_BODY_YAML },
                { "Application/YAML; charset=utf-8", "a: 1", API_BODY_YAML },
                { "application/json", "a: 1", API_BODY_JSON },
                { "application/json;charset=UTF-8", "{}", API_BODY_JSON },
                { " application/json ", "{}", API_BODY_JSON },
                { "application/vnd.berth+json", "{}", API_BODY_JSON },
                /* no type (or curl's default for -d): sniff */
                { NULL, "{\"a\":1}", API_BODY_JSON },
                { NULL, "  \n\t[1]", API_BODY_JSON },
                { NULL, "apiVersion: berth/v1", API_BODY_YAML },
                { NULL, "# {comment}\n{}", API_BODY_YAML },
                { NULL, "", API_BODY_YAML },
                { "", "{}", API_BODY_JSON },
                { "application/x-www-form-urlencoded", "{}", API_BODY_JSON },
                { "application/x-www-form-urlencoded", "a: 1", API_BODY_YAML },
                { "text/plain", "[]", API_BODY_JSON },
                { "application/octet-stream", "x: y", API_BODY_YAML },
                /* anything else is refused */
                { "image/png", "{}", -EMEDIUMTYPE },
                { "application/xml", "a: 1", -EMEDIUMTYPE },
                { "application/jsonx", "{}", -EMEDIUMTYPE },
                { "text/yamlx", "a: 1", -EMEDIUMTYPE },
                { "multipart/form-data; boundary=x", "a: 1", -EMEDIUMTYPE },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int k = api_body_kind(rows[i].type, rows[i].body, strlen(rows[i].body));
                if (k != rows[i].kind)
                        fail_msg("Content-Type \"%s\", body \"%s\": %d, expected %d", rows[i].type ?: "(none)",
                                 rows[i].body, k, rows[i].kind);
        }
}

static void test_api_parse_values(void **state) {
        bool b = false;
        uint64_t u = 7;

        assert_int_equal(api_parse_bool("1", &b), 0);
        assert_true(b);
        assert_int_equal(api_parse_bool("0", &b), 0);
        assert_false(b);
        assert_int_equal(api_parse_bool("true", &b), 0);
        assert_true(b);
        assert_int_equal(api_parse_bool("FALSE", &b), 0);
        assert_false(b);
        assert_int_equal(api_parse_bool("", &b), 0); /* "?follow" */
        assert_true(b);
        assert_int_equal(api_parse_bool("yes", &b), 0);
        assert_int_equal(api_parse_bool("maybe", &b), -EINVAL);
        assert_int_equal(api_parse_bool("2", &b), -EINVAL);
        assert_int_equal(api_parse_bool(NULL, &b), -EINVAL);

        assert_int_equal(api_parse_u64("0", &u), 0);
        assert_int_equal(u, 0);
        assert_int_equal(api_parse_u64("18446744073709551615", &u), 0);
        assert_true(u == UINT64_MAX);
        u = 7;
        assert_int_equal(api_parse_u64("18446744073709551616", &u), -ERANGE);
        assert_int_equal(api_parse_u64("-1", &u), -EINVAL);
        assert_int_equal(api_parse_u64("", &u), -EINVAL);
        assert_int_equal(api_parse_u64("12a", &u), -EINVAL);
        assert_int_equal(api_parse_u64(NULL, &u), -EINVAL);
        assert_int_equal(u, 7); /* untouched on failure */
}

static void test_api_filename(void **state) {
        char longname[API_FILENAME_MAX + 2];
        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;

        assert_string_equal(api_filename_or_default("web.yaml"), "web.yaml");
        assert_string_equal(api_filename_or_default("dir/web.yaml"), "dir/web.yaml");
        assert_string_equal(api_filename_or_default(NULL), API_FILENAME_DEFAULT);
        assert_string_equal(api_filename_or_default(""), API_FILENAME_DEFAULT);
        assert_string_equal(api_filename_or_default("a\nb"), API_FILENAME_DEFAULT);
        assert_string_equal(api_filename_or_default("a\x1b[31m"), API_FILENAME_DEFAULT);
        assert_string_equal(api_filename_or_default(longname), API_FILENAME_DEFAULT);
        longname[API_FILENAME_MAX] = 0;
        assert_string_equal(api_filename_or_default(longname), longname);
}

/* ---------------------------------------------------------------- access */

static void test_api_peer_allowed(void **state) {
        static const gid_t groups[] = { 24, 27, 998 };

        /* root always */
        assert_true(api_peer_allowed(0, 0, NULL, 0, 998));
        assert_true(api_peer_allowed(0, 1000, NULL, 0, 998));
        /* the socket group as primary gid or among the supplementary groups */
        assert_true(api_peer_allowed(1000, 998, NULL, 0, 998));
        assert_true(api_peer_allowed(1000, 1000, groups, ELEMENTSOF(groups), 998));
        /* else not */
        assert_false(api_peer_allowed(1000, 1000, NULL, 0, 998));
        assert_false(api_peer_allowed(1000, 1000, groups, 2, 998));
        assert_false(api_peer_allowed(65534, 65534, groups, ELEMENTSOF(groups), 0));
        /* socket group root (no "berth" group): only root and gid-0 members */
        assert_true(api_peer_allowed(1000, 1000, (const gid_t[]) { 0 }, 1, 0));
        assert_false(api_peer_allowed(1000, 1000, groups, ELEMENTSOF(groups), 0));
}

static void test_api_parse_status_groups(void **state) {
        gid_t *g = NULL;
        size_t n = 99;

        assert_int_equal(api_parse_status_groups("Name:\tcurl\nUid:\t1000\t1000\t1000\t1000\n"
                                                 "Gid:\t1000\t1000\t1000\t1000\nGroups:\t24 27 998 \nNSpid:\t1\n",
                                                 &g, &n),
                         0);
        assert_int_equal(n, 3);
        assert_int_equal(g[0], 24);
        assert_int_equal(g[1], 27);
        assert_int_equal(g[2], 998);
        free(g);

        g = NULL;
        assert_int_equal(api_parse_status_groups("Name:\tx\nGroups:\t\nNSpid:\t1\n", &g, &n), 0);
        assert_int_equal(n, 0);
        free(g);

        g = NULL;
        assert_int_equal(api_parse_status_groups("Groups:\t4294967294", &g, &n), 0); /* last line, no newline */
        assert_int_equal(n, 1);
        assert_int_equal(g[0], 4294967294u);
        free(g);

        assert_int_equal(api_parse_status_groups("Name:\tx\nGid:\t1\n", &g, &n), -ENOENT);
        assert_int_equal(api_parse_status_groups("", &g, &n), -ENOENT);
        assert_int_equal(api_parse_status_groups("XGroups:\t1\n", &g, &n), -ENOENT);
        assert_int_equal(api_parse_status_groups("Groups:\t1 x 2\n", &g, &n), -EINVAL);
        assert_int_equal(api_parse_status_groups("Groups:\t1-2\n", &g, &n), -EINVAL);
        assert_int_equal(api_parse_status_groups("Groups:\t99999999999\n", &g, &n), -EINVAL);
}

/* ---------------------------------------------------------------- JSON bodies */

static void test_api_line_col(void **state) {
        unsigned line, col;
        const char *s = "ab\ncd\n\nx";
        api_offset_to_line_col(s, strlen(s), 0, &line, &col);
        assert_int_equal(line, 1);
        assert_int_equal(col, 1);
        api_offset_to_line_col(s, strlen(s), 4, &line, &col);
        assert_int_equal(line, 2);
        assert_int_equal(col, 2);
        api_offset_to_line_col(s, strlen(s), 7, &line, &col);
        assert_int_equal(line, 4);
        assert_int_equal(col, 1);
        api_offset_to_line_col(s, strlen(s), 1000, &line, &col); /* clamped */
        assert_int_equal(line, 4);
        assert_int_equal(col, 2);
}

static void test_api_json_parse(void **state) {
        static const struct {
                const char *in;
                const char *err; /* NULL: valid */
        } rows[] = {
                { "{\"replicas\":3}", NULL },
                { "  {\"replicas\": 3}\n\n", NULL },
                { "[1,2]", NULL },
                { "true", NULL },
                { "{\"a\":x}", "body:1:6: error: invalid JSON: " },
                { "{\n  \"a\": 1,\n  \"b\": ]\n}", "body:3:8: error: invalid JSON: " },
                { "{\"a\":1", "body:1:7: error: invalid JSON: " },
                { "{\"a\":1} x", "body:1:" },
                { "{\"a\":1}{}", "body:1:8: error: invalid JSON: " },
                { "[1,2,]", "body:1:6: error: invalid JSON: " },
                { "", "body:1:1: error: invalid JSON: the body is empty" },
                { " \n ", "body:1:1: error: invalid JSON: the body is empty" },
                { "'a'", "body:1:1: error: invalid JSON: " },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct json_object *o = NULL;
                char err[256] = "";
                int r = api_json_parse(rows[i].in, strlen(rows[i].in), "body", &o, err, sizeof err);
                if (!rows[i].err) {
                        if (r < 0 || !o)
                                fail_msg("\"%s\": %d %s", rows[i].in, r, err);
                        json_object_put(o);
                        continue;
                }
                if (r != -EINVAL || o)
                        fail_msg("\"%s\": accepted", rows[i].in);
                if (strncmp(err, rows[i].err, strlen(rows[i].err)) != 0)
                        fail_msg("\"%s\": \"%s\", expected \"%s...\"", rows[i].in, err, rows[i].err);
        }

        /* deep nesting is refused, not a crash */
        char deep[4001];
        memset(deep, '[', sizeof deep - 1);
        deep[sizeof deep - 1] = 0;
        struct json_object *o = NULL;
        char err[256];
        assert_int_equal(api_json_parse(deep, strlen(deep), "body", &o, err, sizeof err), -EINVAL);
        assert_null(o);

        /* a NUL inside the body is not the end of it */
        static const char nul[] = "{\"a\":1}\0{";
        assert_int_equal(api_json_parse(nul, sizeof nul - 1, "body", &o, err, sizeof err), -EINVAL);
        assert_null(o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_api_route_find),
                cmocka_unit_test(test_api_route_methods),
                cmocka_unit_test(test_api_method_from_string),
                cmocka_unit_test(test_api_query_allowed),
                cmocka_unit_test(test_api_name_valid),
                cmocka_unit_test(test_api_content_length),
                cmocka_unit_test(test_api_body_append),
                cmocka_unit_test(test_api_body_kind),
                cmocka_unit_test(test_api_parse_values),
                cmocka_unit_test(test_api_filename),
                cmocka_unit_test(test_api_peer_allowed),
                cmocka_unit_test(test_api_parse_status_groups),
                cmocka_unit_test(test_api_line_col),
                cmocka_unit_test(test_api_json_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
