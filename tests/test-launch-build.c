/* test-launch-build.c: agent/launch-build.c for what probes add to a
 * replica's launch spec: NOTIFY_SOCKET (bind-mounted directory or host
 * path) and WATCHDOG_USEC, and nothing of it without a notify probe. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "launch-build.h"
#include "manifest.h"

static struct service *parse(const char *yaml) {
        struct service_list l = {};
        struct diag_list d = {};
        assert_int_equal(manifest_parse_buffer(yaml, strlen(yaml), "test.yaml", 0, &l, &d), 0);
        assert_int_equal(l.n, 1);
        struct service *s = l.v[0];
        l.v[0] = NULL;
        l.n = 0;
        service_list_done(&l);
        diag_list_done(&d);
        return s;
}

static const char *env_get(const struct launch_spec *l, const char *name) {
        size_t n = strlen(name);
        for (char **e = l->env; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

static void build(const struct service *s, const char *notify_dir, struct launch_spec *l) {
        struct launch_paths paths = { .log_dir = "/l", .status_path = "/s", .socket_path = "/k",
                                      .notify_dir = notify_dir };
        char *error = NULL;
        assert_int_equal(launch_build(s, 0, &paths, l, &error), 0);
        assert_null(error);
}

#define HEAD "apiVersion: berth/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  command: [sleep, infinity]\n"

static void test_launch_build_notify_mounted(void **state) {
        struct service *s = parse(HEAD "  readinessProbe: {notify: true}\n"
                                       "  livenessProbe: {notify: true, watchdogTimeout: 5s}\n"
                                       "  env: [{name: NOTIFY_SOCKET, value: /elsewhere}]\n");
        struct launch_spec l;
        build(s, "/run/b/notify/web.0", &l);
        assert_string_equal(env_get(&l, "NOTIFY_SOCKET"), "/run/berth/notify"); /* berthd's wins */
        assert_string_equal(env_get(&l, "WATCHDOG_USEC"), "5000000");
        assert_int_equal(l.n_mounts, 1);
        assert_string_equal(l.mounts[0].source, "/run/b/notify/web.0");
        assert_string_equal(l.mounts[0].target, "/run/berth");
        assert_true(l.mounts[0].read_only);
        launch_spec_done(&l);
        service_free(s);
}

static void test_launch_build_notify_host_path(void **state) {
        /* no mount namespace: the host path itself; watchdog from period x threshold */
        struct service *s = parse(HEAD "  isolation: {namespaces: [pid]}\n"
                                       "  livenessProbe: {notify: true, periodSeconds: 2, failureThreshold: 4}\n");
        struct launch_spec l;
        build(s, "/run/b/notify/web.0", &l);
        assert_string_equal(env_get(&l, "NOTIFY_SOCKET"), "/run/b/notify/web.0/notify");
        assert_string_equal(env_get(&l, "WATCHDOG_USEC"), "8000000");
        assert_int_equal(l.n_mounts, 0);
        launch_spec_done(&l);
        service_free(s);
}

static void test_launch_build_no_notify(void **state) {
        struct service *s = parse(HEAD "  readinessProbe: {notify: true}\n");
        struct launch_spec l;
        build(s, NULL, &l);
        assert_null(env_get(&l, "NOTIFY_SOCKET"));
        assert_null(env_get(&l, "WATCHDOG_USEC"));
        assert_int_equal(l.n_mounts, 0);
        launch_spec_done(&l);
        /* readiness only: no watchdog */
        build(s, "/n", &l);
        assert_non_null(env_get(&l, "NOTIFY_SOCKET"));
        assert_null(env_get(&l, "WATCHDOG_USEC"));
        launch_spec_done(&l);
        service_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_launch_build_notify_mounted),
                cmocka_unit_test(test_launch_build_notify_host_path),
                cmocka_unit_test(test_launch_build_no_notify),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
