/* test-ctl.c: berthctl's helpers (ctl/output.c, ctl/client.c).
 *
 * Pure ones, table-driven: kubectl-style ages, RFC 3339 parsing, table
 * alignment (colors and UTF-8 do not count), the ps columns (state, last
 * exit), event and deploy lines, error messages from API replies, the
 * "cannot connect" message and the exit status mapping. Then client_do()
 * itself against a missing socket, a socket nobody listens on, and a canned
 * HTTP server on a unix socket in a thread that sends its reply in small
 * pieces (line splitting, heartbeats, error bodies). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

#define SEC INT64_C(1000000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

/* 2026-11-26T19:00:00Z */
#define NOW_USEC (UINT64_C(1795719600) * 1000000)

static struct json_object *parse(const char *s) {
        struct json_object *o = NULL;
        assert_int_equal(client_parse_json(s, strlen(s), &o), 0);
        return o;
}

/* ---------------------------------------------------------------- ages */

static void test_ctl_age_format(void **state) {
        static const struct {
                int64_t usec;
                const char *text;
        } rows[] = {
                { 0, "0s" },
                { 999999, "0s" },
                { 5 * SEC, "5s" },
                { 59 * SEC, "59s" },
                { 119 * SEC, "119s" },          /* kubectl: seconds below 2 minutes */
                { 2 * MINUTE, "2m" },
                { 3 * MINUTE + 12 * SEC, "3m12s" },
                { 9 * MINUTE + 59 * SEC, "9m59s" },
                { 10 * MINUTE + 30 * SEC, "10m" }, /* no seconds from 10 minutes on */
                { 59 * MINUTE + 59 * SEC, "59m" },
                { 3 * HOUR, "3h" },
                { 60 * MINUTE, "1h" },           /* kubectl: "60m" (we show hours from 1 h on) */
                { 2 * HOUR + 5 * MINUTE, "2h5m" },
                { 7 * HOUR + 59 * MINUTE, "7h59m" },
                { 8 * HOUR + 30 * MINUTE, "8h" },
                { 47 * HOUR, "47h" },
                { 48 * HOUR, "2d" },
                { 3 * DAY + 4 * HOUR, "3d4h" },
                { 7 * DAY + 23 * HOUR, "7d23h" },
                { 8 * DAY + 5 * HOUR, "8d" },
                { 729 * DAY, "729d" },
                { 730 * DAY, "2y" },
                { 775 * DAY, "2y45d" },
                { 8 * 365 * DAY, "8y" },
                { -SEC / 2, "0s" },             /* small clock skew */
                { -2 * SEC, "<invalid>" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char buf[AGE_MAX];
                format_age(rows[i].usec, buf, sizeof buf);
                if (!streq(buf, rows[i].text))
                        fail_msg("format_age(%lld): \"%s\", expected \"%s\"", (long long) rows[i].usec, buf, rows[i].text);
        }
}

static void test_ctl_rfc3339(void **state) {
        static const struct {
                const char *in;
                int r;
                uint64_t usec;
        } rows[] = {
                { "2026-11-26T19:00:00Z", 0, NOW_USEC },
                { "2026-11-26T19:00:00.5Z", 0, NOW_USEC + 500000 },
                { "2026-11-26T19:00:00.123456Z", 0, NOW_USEC + 123456 },
                { "2026-11-26T19:00:00.1234567Z", 0, NOW_USEC + 123456 }, /* beyond µs: cut */
                { "2026-11-26T20:00:00+01:00", 0, NOW_USEC },
                { "2026-11-26T18:30:00-00:30", 0, NOW_USEC },
                { "1970-01-01T00:00:00Z", 0, 0 },
                { "2026-11-26T19:00:00", -EINVAL, 0 },  /* no zone */
                { "2026-11-26 19:00:00Z", 0, NOW_USEC },
                { "2026-11-26T19:00:00.Z", -EINVAL, 0 },
                { "2026-13-26T19:00:00Z", -EINVAL, 0 },
                { "2026-11-26T19:00:00Zjunk", -EINVAL, 0 },
                { "26-11-26T19:00:00Z", -EINVAL, 0 },
                { "", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint64_t v = 42;
                int r = parse_rfc3339(rows[i].in, &v);
                if (r != rows[i].r)
                        fail_msg("parse_rfc3339(\"%s\"): %d, expected %d", rows[i].in, r, rows[i].r);
                if (r == 0 && v != rows[i].usec)
                        fail_msg("parse_rfc3339(\"%s\"): %llu, expected %llu", rows[i].in, (unsigned long long) v,
                                 (unsigned long long) rows[i].usec);
                if (r < 0 && v != 42)
                        fail_msg("parse_rfc3339(\"%s\") failed but wrote the result", rows[i].in);
        }
        assert_int_equal(parse_rfc3339(NULL, &(uint64_t) { 0 }), -EINVAL);

        char buf[AGE_MAX];
        assert_string_equal(format_age_since("2026-11-26T18:56:48Z", NOW_USEC, buf, sizeof buf), "3m12s");
        assert_string_equal(format_age_since(NULL, NOW_USEC, buf, sizeof buf), "-");
        assert_string_equal(format_age_since("yesterday", NOW_USEC, buf, sizeof buf), "-");
}

/* ---------------------------------------------------------------- tables */

static char *print_table(struct table *t, bool color) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);
        assert_non_null(f);
        assert_int_equal(table_print(t, f, color), 0);
        fclose(f);
        return s;
}

static void test_ctl_table_alignment(void **state) {
        struct table *t = table_new((const char *const[]) { "SERVICE", "REPLICA", "STATE", "LAST EXIT", NULL });
        assert_non_null(t);
        assert_int_equal(table_rows(t), 0);
        assert_int_equal(table_add(t, "web", NULL), 0);
        assert_int_equal(table_addf(t, NULL, "%d", 0), 0);
        assert_int_equal(table_add(t, "running", ANSI_GREEN), 0);
        assert_int_equal(table_add(t, NULL, NULL), 0); /* "-" */
        assert_int_equal(table_add(t, "a-longer-name", NULL), 0);
        assert_int_equal(table_addf(t, NULL, "%d", 12), 0);
        assert_int_equal(table_add(t, "backoff (next in 3s)", ANSI_RED), 0);
        assert_int_equal(table_add(t, "Error (1) 2m ago", NULL), 0);
        assert_int_equal(table_rows(t), 2);

        _cleanup_free_ char *plain = print_table(t, false);
        assert_string_equal(plain,
                            "SERVICE         REPLICA   STATE                  LAST EXIT\n"
                            "web             0         running                -\n"
                            "a-longer-name   12        backoff (next in 3s)   Error (1) 2m ago\n");

        /* colors wrap the text; the padding is the same */
        _cleanup_free_ char *colored = print_table(t, true);
        assert_string_equal(colored,
                            "SERVICE         REPLICA   STATE                  LAST EXIT\n"
                            "web             0         \033[32mrunning\033[0m                -\n"
                            "a-longer-name   12        \033[31mbackoff (next in 3s)\033[0m   Error (1) 2m ago\n");
        table_free(t);

        /* width in characters, not bytes */
        t = table_new((const char *const[]) { "A", "B", NULL });
        assert_int_equal(table_add(t, "héllo", NULL), 0);
        assert_int_equal(table_add(t, "x", NULL), 0);
        assert_int_equal(table_add(t, "hello!", NULL), 0);
        assert_int_equal(table_add(t, "y", NULL), 0);
        _cleanup_free_ char *utf8 = print_table(t, false);
        assert_string_equal(utf8, "A        B\n"
                                  "héllo    x\n"
                                  "hello!   y\n");
        table_free(t);

        /* headers only: no trailing spaces on the last column */
        t = table_new((const char *const[]) { "ONE", NULL });
        _cleanup_free_ char *one = print_table(t, false);
        assert_string_equal(one, "ONE\n");
        assert_null(table_free(t));
        assert_null(table_new((const char *const[]) { NULL }));
}

static void test_ctl_state_color(void **state) {
        assert_string_equal(state_color("running"), ANSI_GREEN);
        assert_string_equal(state_color("backoff"), ANSI_RED);
        assert_string_equal(state_color("failed"), ANSI_RED);
        assert_string_equal(state_color("stopping"), ANSI_YELLOW);
        assert_string_equal(state_color("killing"), ANSI_YELLOW);
        assert_null(state_color("stopped"));
        assert_null(state_color("starting"));
        assert_null(state_color(NULL));

        /* never on a pipe, never with NO_COLOR */
        int p[2];
        assert_int_equal(pipe(p), 0);
        assert_false(output_use_color(p[1]));
        close(p[0]);
        close(p[1]);
        setenv("NO_COLOR", "1", 1);
        assert_false(output_use_color(STDOUT_FILENO));
        unsetenv("NO_COLOR");
}

/* ---------------------------------------------------------------- ps columns */

static void test_ctl_replica_columns(void **state) {
        static const struct {
                const char *json;
                const char *state, *last_exit;
        } rows[] = {
                { "{\"state\":\"running\",\"last_exit\":null,\"next_restart_at\":null}", "running", "-" },
                { "{\"state\":\"backoff\",\"next_restart_at\":\"2026-11-26T19:00:03Z\","
                  "\"last_exit\":{\"code\":1,\"signal\":null,\"reason\":\"Error\",\"at\":\"2026-11-26T18:58:00Z\",\"message\":\"\"}}",
                  "backoff (next in 3s)", "Error (1) 2m ago" },
                /* 0.2 s left is "next in 1s", never a misleading 0s while waiting */
                { "{\"state\":\"backoff\",\"next_restart_at\":\"2026-11-26T19:00:00.2Z\",\"last_exit\":null}",
                  "backoff (next in 1s)", "-" },
                { "{\"state\":\"backoff\",\"next_restart_at\":\"2026-11-26T18:59:59Z\",\"last_exit\":null}",
                  "backoff (next in 0s)", "-" },
                { "{\"state\":\"backoff\",\"next_restart_at\":null,\"last_exit\":null}", "backoff", "-" },
                { "{\"state\":\"running\",\"last_exit\":{\"code\":null,\"signal\":9,\"reason\":\"OOMKilled\","
                  "\"at\":\"2026-11-26T18:56:48Z\",\"message\":\"\"}}",
                  "running", "OOMKilled 3m12s ago" },
                { "{\"state\":\"running\",\"last_exit\":{\"code\":null,\"signal\":9,\"reason\":\"Signaled\","
                  "\"at\":\"2026-11-26T18:59:55Z\",\"message\":\"\"}}",
                  "running", "Signaled (SIGKILL) 5s ago" },
                { "{\"state\":\"backoff\",\"next_restart_at\":\"2026-11-26T19:00:10Z\",\"last_exit\":{\"code\":127,"
                  "\"signal\":null,\"reason\":\"ExecFailed\",\"at\":\"2026-11-26T19:00:00Z\",\"message\":\"no such file\"}}",
                  "backoff (next in 10s)", "ExecFailed 0s ago" },
                { "{\"state\":\"exited\",\"last_exit\":{\"code\":0,\"signal\":null,\"reason\":\"Completed\","
                  "\"at\":\"2026-11-26T17:00:00Z\",\"message\":\"\"}}",
                  "exited", "Completed 2h ago" },
                { "{\"state\":\"failed\",\"last_exit\":{\"code\":3,\"signal\":null,\"reason\":\"Error\",\"at\":null}}",
                  "failed", "Error (3)" },
                { "{\"state\":\"stopped\",\"last_exit\":{\"code\":null,\"signal\":15,\"reason\":\"Stopped\","
                  "\"at\":\"2026-11-26T18:00:00Z\"}}",
                  "stopped", "Stopped 1h ago" },
                { "{}", "-", "-" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct json_object *o = parse(rows[i].json);
                char s[96], l[128];
                format_replica_state(o, NOW_USEC, s, sizeof s);
                format_last_exit(o, NOW_USEC, l, sizeof l);
                if (!streq(s, rows[i].state))
                        fail_msg("row %zu: state \"%s\", expected \"%s\"", i, s, rows[i].state);
                if (!streq(l, rows[i].last_exit))
                        fail_msg("row %zu: last exit \"%s\", expected \"%s\"", i, l, rows[i].last_exit);
                json_object_put(o);
        }
}

/* ---------------------------------------------------------------- events, deploy */

static void test_ctl_event_line(void **state) {
        static const struct {
                const char *json, *line;
        } rows[] = {
                { "{\"seq\":12,\"time\":\"2026-11-26T19:00:00.123456Z\",\"type\":\"ReplicaExited\","
                  "\"service\":\"web\",\"replica\":1,\"message\":\"exited with status 1\"}",
                  "2026-11-26T19:00:00.123Z  ReplicaExited      web-1         exited with status 1" },
                { "{\"seq\":1,\"time\":\"2026-11-26T19:00:00.000001Z\",\"type\":\"AgentStarted\","
                  "\"service\":null,\"replica\":null,\"message\":\"berthd 0.1.0\"}",
                  "2026-11-26T19:00:00.000Z  AgentStarted       -             berthd 0.1.0" },
                { "{\"seq\":2,\"time\":\"2026-11-26T19:00:00Z\",\"type\":\"ServiceCreated\",\"service\":\"web\","
                  "\"replica\":null,\"message\":\"revision 1\",\"extra\":true}",
                  "2026-11-26T19:00:00Z  ServiceCreated     web           revision 1" },
                { "{\"type\":\"ServiceDeleted\",\"service\":\"a-very-long-service-name\",\"message\":\"\"}",
                  "-  ServiceDeleted     a-very-long-service-name" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct json_object *o = parse(rows[i].json);
                _cleanup_free_ char *s = format_event(o);
                assert_non_null(s);
                if (!streq(s, rows[i].line))
                        fail_msg("row %zu: \"%s\", expected \"%s\"", i, s, rows[i].line);
                json_object_put(o);
        }
}

static void test_ctl_change_line(void **state) {
        static const struct {
                const char *json;
                bool dry_run;
                const char *line;
        } rows[] = {
                { "{\"service\":\"web\",\"action\":\"created\",\"revision\":1,\"replicas\":3}", false,
                  "web: created (revision 1, 3 replicas)" },
                { "{\"service\":\"web\",\"action\":\"updated\",\"revision\":2,\"replicas\":1}", false,
                  "web: updated (revision 2, 1 replica)" },
                { "{\"service\":\"web\",\"action\":\"scaled\",\"revision\":2,\"replicas\":5}", true,
                  "web: scaled (revision 2, 5 replicas) (dry run)" },
                { "{\"service\":\"web\",\"action\":\"unchanged\",\"revision\":2,\"replicas\":5}", false,
                  "web: unchanged" },
                { "{\"service\":\"web\",\"action\":\"unchanged\",\"revision\":2,\"replicas\":5}", true,
                  "web: unchanged (dry run)" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct json_object *o = parse(rows[i].json);
                _cleanup_free_ char *s = format_change(o, rows[i].dry_run);
                assert_non_null(s);
                if (!streq(s, rows[i].line))
                        fail_msg("row %zu: \"%s\", expected \"%s\"", i, s, rows[i].line);
                json_object_put(o);
        }
}

/* ---------------------------------------------------------------- errors and exit statuses */

static void test_ctl_error_message(void **state) {
        static const struct {
                long status;
                const char *body, *message;
        } rows[] = {
                { 404, "{\"error\":{\"code\":\"NotFound\",\"message\":\"service \\\"web\\\" not found\"}}\n",
                  "service \"web\" not found" },
                { 422,
                  "{\"error\":{\"code\":\"Invalid\",\"message\":\"the manifest is invalid\",\"details\":["
                  "\"web.yaml:3:5: error: spec.replicas: not an integer\",\"web.yaml:9:1: error: tab\"]}}",
                  "the manifest is invalid\n  web.yaml:3:5: error: spec.replicas: not an integer\n  web.yaml:9:1: error: tab" },
                { 409, "{\"error\":{\"code\":\"Conflict\",\"message\":\"owned\",\"details\":[]}}", "owned" },
                /* berthd's Invalid: the message is the first detail */
                { 400,
                  "{\"error\":{\"code\":\"Invalid\",\"message\":\"w.yaml:1:1: error: a\",\"details\":["
                  "\"w.yaml:1:1: error: a\",\"w.yaml:2:1: error: b\"]}}",
                  "w.yaml:1:1: error: a\n  w.yaml:2:1: error: b" },
                { 400, "{\"error\":{\"code\":\"BadRequest\",\"message\":\"m\",\"details\":[{\"line\":3}]}}",
                  "m\n  {\"line\":3}" },
                /* not our shape */
                { 502, "<html>Bad gateway</html>\nmore", "HTTP 502: <html>Bad gateway</html>" },
                { 500, "", "HTTP 500 Internal Server Error" },
                { 404, "\n  Not here  \r\n", "HTTP 404 Not Found: Not here  " },
                { 403, "{\"error\":\"forbidden\"}", "HTTP 403 Forbidden: {\"error\":\"forbidden\"}" },
                { 418, NULL, "HTTP 418" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *m =
                        client_error_message(rows[i].status, rows[i].body, rows[i].body ? strlen(rows[i].body) : 0);
                assert_non_null(m);
                if (!streq(m, rows[i].message))
                        fail_msg("row %zu: \"%s\", expected \"%s\"", i, m, rows[i].message);
        }
}

static void test_ctl_connect_message(void **state) {
        char buf[512];
        client_connect_message("/run/berth/berth.sock", ENOENT, buf, sizeof buf);
        assert_string_equal(buf, "cannot connect to berthd at /run/berth/berth.sock: No such file or directory; "
                                 "is berthd running? (systemctl status berthd)");
        client_connect_message("/run/berth/berth.sock", ECONNREFUSED, buf, sizeof buf);
        assert_string_equal(buf, "cannot connect to berthd at /run/berth/berth.sock: Connection refused; "
                                 "is berthd running? (systemctl status berthd)");
        client_connect_message("/run/berth/berth.sock", EACCES, buf, sizeof buf);
        assert_string_equal(buf, "cannot connect to berthd at /run/berth/berth.sock: Permission denied "
                                 "(are you in group berth?)");
        client_connect_message("/x", EIO, buf, sizeof buf);
        assert_string_equal(buf, "cannot connect to berthd at /x: Input/output error");
}

static void test_ctl_exit_status(void **state) {
        struct client_error connect = { .failure = CLIENT_FAILURE_CONNECT, .error = ENOENT },
                            timeout = { .failure = CLIENT_FAILURE_TIMEOUT, .error = ETIMEDOUT },
                            protocol = { .failure = CLIENT_FAILURE_PROTOCOL, .error = EBADMSG };
        assert_int_equal(client_exit_status(-ENOENT, &connect, 0), EXIT_UNREACHABLE);
        assert_int_equal(client_exit_status(-ETIMEDOUT, &timeout, 0), EXIT_UNREACHABLE);
        assert_int_equal(client_exit_status(-EBADMSG, &protocol, 0), EXIT_FAILED);
        assert_int_equal(client_exit_status(-EIO, NULL, 0), EXIT_FAILED);
        assert_int_equal(client_exit_status(0, NULL, 200), EXIT_OK);
        assert_int_equal(client_exit_status(0, NULL, 201), EXIT_OK);
        assert_int_equal(client_exit_status(0, NULL, 204), EXIT_OK);
        assert_int_equal(client_exit_status(0, NULL, 400), EXIT_FAILED);
        assert_int_equal(client_exit_status(0, NULL, 404), EXIT_FAILED);
        assert_int_equal(client_exit_status(0, NULL, 500), EXIT_FAILED);
        assert_int_equal(client_exit_status(0, NULL, 301), EXIT_FAILED);
        assert_int_equal(client_exit_status(0, NULL, 0), EXIT_FAILED);
}

static void test_ctl_parse_json_and_escape(void **state) {
        struct json_object *o = NULL;
        assert_int_equal(client_parse_json("[1,2]\n", 6, &o), 0);
        assert_true(json_object_is_type(o, json_type_array));
        json_object_put(o);
        assert_int_equal(client_parse_json("42", 2, &o), 0);
        assert_int_equal(json_object_get_int(o), 42);
        json_object_put(o);
        assert_int_equal(client_parse_json("[1,2,]", 6, &o), -EBADMSG);  /* strict */
        assert_int_equal(client_parse_json("{} {}", 5, &o), -EBADMSG);   /* one value */
        assert_int_equal(client_parse_json("{\"a\":", 5, &o), -EBADMSG); /* truncated */
        assert_int_equal(client_parse_json("", 0, &o), -EBADMSG);

        _cleanup_free_ char *a = client_escape("web"), *b = client_escape("a b/../c?d=1&é"),
                            *p = client_service_path("we b", "/scale");
        assert_string_equal(a, "web");
        assert_string_equal(b, "a%20b%2F..%2Fc%3Fd%3D1%26%C3%A9");
        assert_string_equal(p, "/v1/services/we%20b/scale");
}

/* ---------------------------------------------------------------- client_do */

static char tmpdir[64];

static int setup_tmpdir(void **state) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-ctl.XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmpdir(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_ctl_client_unreachable(void **state) {
        char path[128];
        struct client_request req = { .method = "GET", .path = "/v1/info" };
        struct client_response resp = {};
        struct client_error err;

        snprintf(path, sizeof path, "%s/missing.sock", tmpdir);
        assert_int_equal(client_do(path, &req, &resp, &err), -ENOENT);
        assert_int_equal(err.failure, CLIENT_FAILURE_CONNECT);
        assert_non_null(strstr(err.message, "No such file or directory; is berthd running?"));
        assert_null(strstr(err.message, "port 80")); /* libcurl's message stays out */

        /* bound but not listening */
        snprintf(path, sizeof path, "%s/deaf.sock", tmpdir);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(client_do(path, &req, &resp, &err), -ECONNREFUSED);
        assert_int_equal(err.failure, CLIENT_FAILURE_CONNECT);
        assert_int_equal(client_exit_status(-ECONNREFUSED, &err, 0), EXIT_UNREACHABLE);
        close(fd);

        char long_path[200];
        memset(long_path, 'x', sizeof long_path - 1);
        long_path[0] = '/';
        long_path[sizeof long_path - 1] = '\0';
        assert_int_equal(client_do(long_path, &req, &resp, &err), -ENAMETOOLONG);
        assert_int_equal(err.failure, CLIENT_FAILURE_CONNECT);
}

/* A one-shot HTTP server: reads the request head (and a Content-Length
 * body), then writes reply in pieces of `piece` bytes. */
struct canned {
        int listen_fd;
        const char *reply;
        size_t piece;
        char request[8192];
};

static void *serve(void *userdata) {
        struct canned *c = userdata;
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t n = 0;
        for (;;) {
                ssize_t k = read(fd, c->request + n, sizeof c->request - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                c->request[n] = '\0';
                char *end = strstr(c->request, "\r\n\r\n");
                if (!end)
                        continue;
                const char *cl = strcasestr(c->request, "Content-Length: ");
                size_t want = cl ? strtoul(cl + 16, NULL, 10) : 0;
                if (n - (size_t) (end + 4 - c->request) >= want)
                        break;
        }
        for (size_t off = 0, len = strlen(c->reply); off < len; off += c->piece) {
                size_t k = MIN(c->piece, len - off);
                if (write(fd, c->reply + off, k) != (ssize_t) k)
                        break;
                usleep(1000);
        }
        close(fd);
        return NULL;
}

static void canned_start(struct canned *c, pthread_t *t, char *path, size_t size) {
        snprintf(path, size, "%s/canned.sock", tmpdir);
        unlink(path);
        c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(c->listen_fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(c->listen_fd, 4), 0);
        assert_int_equal(pthread_create(t, NULL, serve, c), 0);
}

static void canned_stop(struct canned *c, pthread_t t) {
        pthread_join(t, NULL);
        close(c->listen_fd);
}

struct lines {
        char text[1024];
        unsigned n;
        unsigned stop_after; /* 0: never */
};

static int collect(const char *line, size_t len, void *userdata) {
        struct lines *l = userdata;
        assert_int_equal(strlen(line), len);
        strncat(l->text, line, sizeof l->text - strlen(l->text) - 2);
        strcat(l->text, "|");
        l->n++;
        return l->stop_after && l->n >= l->stop_after ? -1 : 0;
}

static void test_ctl_client_reply(void **state) {
        struct canned c = {
                .reply = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 68\r\n\r\n"
                         "{\"error\":{\"code\":\"NotFound\",\"message\":\"service \\\"web\\\" not found\"}}\n",
                .piece = 7,
        };
        char path[128];
        pthread_t t;
        canned_start(&c, &t, path, sizeof path);

        const char *headers[] = { "X-Berth-Filename: web.yaml", NULL };
        struct client_request req = {
                .method = "POST",
                .path = "/v1/services?dryRun=1",
                .body = "kind: Service\n",
                .body_size = 14,
                .content_type = "application/yaml",
                .headers = headers,
        };
        struct client_response resp = {};
        struct client_error err;
        assert_int_equal(client_do(path, &req, &resp, &err), 0);
        canned_stop(&c, t);

        assert_int_equal(resp.status, 404);
        assert_int_equal(client_exit_status(0, NULL, resp.status), EXIT_FAILED);
        _cleanup_free_ char *m = client_error_message(resp.status, resp.body, resp.body_size);
        assert_string_equal(m, "service \"web\" not found");
        client_response_done(&resp);

        /* what went out */
        assert_non_null(strstr(c.request, "POST /v1/services?dryRun=1 HTTP/1.1\r\n"));
        assert_non_null(strstr(c.request, "Content-Type: application/yaml\r\n"));
        assert_non_null(strstr(c.request, "X-Berth-Filename: web.yaml\r\n"));
        assert_non_null(strstr(c.request, "Content-Length: 14\r\n"));
        assert_null(strstr(c.request, "Expect:"));
        assert_non_null(strstr(c.request, "\r\n\r\nkind: Service\n"));

        /* a POST without a body (stop, start, restart): no form content type */
        c = (struct canned) {
                .reply = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"name\":\"web\"}",
                .piece = 100,
        };
        canned_start(&c, &t, path, sizeof path);
        req = (struct client_request) { .method = "POST", .path = "/v1/services/web/stop" };
        assert_int_equal(client_do(path, &req, &resp, &err), 0);
        canned_stop(&c, t);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "{\"name\":\"web\"}");
        assert_int_equal(resp.body_size, 14);
        client_response_done(&resp);
        assert_non_null(strstr(c.request, "POST /v1/services/web/stop HTTP/1.1\r\n"));
        assert_non_null(strstr(c.request, "Content-Length: 0\r\n"));
        assert_null(strcasestr(c.request, "Content-Type"));
}

static void test_ctl_client_stream(void **state) {
        /* chunked, heartbeats (empty lines), a line split across chunks and
         * pieces, a last line without its newline */
        struct canned c = {
                .reply = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "d\r\n{\"seq\":1}\n\n{\"\r\n"
                         "1\r\ns\r\n"
                         "11\r\neq\":2}\r\n\n{\"seq\":3\r\n"
                         "1\r\n}\r\n"
                         "0\r\n\r\n",
                .piece = 5,
        };
        char path[128];
        pthread_t t;
        canned_start(&c, &t, path, sizeof path);

        struct lines l = {};
        struct client_request req = { .method = "GET", .path = "/v1/events", .on_line = collect, .userdata = &l };
        struct client_response resp = {};
        struct client_error err;
        assert_int_equal(client_do(path, &req, &resp, &err), 0);
        canned_stop(&c, t);
        assert_int_equal(resp.status, 200);
        assert_string_equal(l.text, "{\"seq\":1}|{\"seq\":2}|{\"seq\":3}|");
        assert_int_equal(l.n, 3);
        client_response_done(&resp);

        /* on_line < 0 ends the stream: success, no more lines */
        c = (struct canned) {
                .reply = "HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n"
                         "one\ntwo\nthree\nfour\n",
                .piece = 100,
        };
        canned_start(&c, &t, path, sizeof path);
        l = (struct lines) { .stop_after = 2 };
        assert_int_equal(client_do(path, &req, &resp, &err), 0);
        canned_stop(&c, t);
        assert_string_equal(l.text, "one|two|");
        client_response_done(&resp);

        /* an error reply is not streamed: its body is kept for the message */
        c = (struct canned) {
                .reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 70\r\n\r\n"
                         "{\"error\":{\"code\":\"BadRequest\",\"message\":\"?since=x: use a number\"}}\n\n\n\n",
                .piece = 100,
        };
        canned_start(&c, &t, path, sizeof path);
        l = (struct lines) {};
        assert_int_equal(client_do(path, &req, &resp, &err), 0);
        canned_stop(&c, t);
        assert_int_equal(l.n, 0);
        assert_int_equal(resp.status, 400);
        _cleanup_free_ char *m = client_error_message(resp.status, resp.body, resp.body_size);
        assert_string_equal(m, "?since=x: use a number");
        client_response_done(&resp);

        /* the server goes away in the middle of a reply */
        c = (struct canned) {
                .reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[1,2",
                .piece = 100,
        };
        canned_start(&c, &t, path, sizeof path);
        req = (struct client_request) { .method = "GET", .path = "/v1/replicas" };
        assert_true(client_do(path, &req, &resp, &err) < 0);
        canned_stop(&c, t);
        assert_int_equal(err.failure, CLIENT_FAILURE_PROTOCOL);
        assert_int_equal(client_exit_status(-1, &err, 0), EXIT_FAILED);
        assert_non_null(strstr(err.message, "closed before the reply was complete"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ctl_age_format),
                cmocka_unit_test(test_ctl_rfc3339),
                cmocka_unit_test(test_ctl_table_alignment),
                cmocka_unit_test(test_ctl_state_color),
                cmocka_unit_test(test_ctl_replica_columns),
                cmocka_unit_test(test_ctl_event_line),
                cmocka_unit_test(test_ctl_change_line),
                cmocka_unit_test(test_ctl_error_message),
                cmocka_unit_test(test_ctl_connect_message),
                cmocka_unit_test(test_ctl_exit_status),
                cmocka_unit_test(test_ctl_parse_json_and_escape),
                cmocka_unit_test(test_ctl_client_unreachable),
                cmocka_unit_test(test_ctl_client_reply),
                cmocka_unit_test(test_ctl_client_stream),
        };
        return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
