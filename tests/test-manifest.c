/* test-manifest.c: the manifest language: every error kind with its exact
 * FILE:LINE:COL, defaults, the canonical JSON (golden files), the JSON
 * round-trip, and the parser's hardening limits. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "manifest.h"
#include "model-json.h"
#include "util.h"

#define HEAD "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: t\nspec:\n"

/* Parses text and returns all diagnostics as "L:C: message\n" lines. */
static char *errors_of(const char *text, int *ret) {
        struct service_list l = {};
        struct diag_list d = {};
        int r = manifest_parse_buffer(text, strlen(text), "t.yaml", 0, &l, &d);
        if (ret)
                *ret = r;
        size_t size = 1;
        char *out = calloc(1, 1);
        for (size_t i = 0; i < d.n; i++) {
                char line[2048];
                int k = snprintf(line, sizeof line, "%u:%u: %s\n", d.v[i].line, d.v[i].col, d.v[i].message);
                out = realloc(out, size + (size_t) k);
                memcpy(out + size - 1, line, (size_t) k + 1);
                size += (size_t) k;
        }
        if (d.dropped) {
                char line[64];
                int k = snprintf(line, sizeof line, "+%zu more\n", d.dropped);
                out = realloc(out, size + (size_t) k);
                memcpy(out + size - 1, line, (size_t) k + 1);
        }
        assert_true(r == 0 ? d.n == 0 : l.n == 0 && d.n > 0);
        service_list_done(&l);
        diag_list_done(&d);
        return out;
}

static void expect_errors(const char *text, const char *expected) {
        int r;
        char *got = errors_of(text, &r);
        if (!streq(got, expected))
                fail_msg("input:\n%s\nexpected:\n%sgot:\n%s", text, expected, got);
        assert_int_equal(r, expected[0] ? -EINVAL : 0);
        free(got);
}

static struct service *parse_one(const char *text) {
        struct service_list l = {};
        struct diag_list d = {};
        int r = manifest_parse_buffer(text, strlen(text), "t.yaml", 0, &l, &d);
        if (r < 0) {
                diag_list_print(&d, stderr);
                fail_msg("parse failed: %d", r);
        }
        assert_int_equal(l.n, 1);
        struct service *s = l.v[0];
        free(l.v);
        diag_list_done(&d);
        return s;
}

static void test_manifest_acceptance_four_errors(void **state) {
        /* the acceptance case: tab, unknown field, duplicate key, bad quantity */
        expect_errors(HEAD "  replica: 2\n"
                           "  command: [\"/bin/true\"]\n"
                           "  resources:\n"
                           "    limits: {memory: 64MB}\n"
                           "  command: [\"/bin/false\"]\n"
                           "  env:\n"
                           "\t- {name: A, value: b}\n",
                      "6:3: spec.replica: unknown field \"replica\" (did you mean \"replicas\"?)\n"
                      "9:22: spec.resources.limits.memory: \"64MB\" is not a quantity (examples: 64Mi, 64M, 67108864)\n"
                      "10:3: spec.command: duplicate key \"command\" (first at line 7)\n"
                      "12:1: YAML syntax: tab character in indentation (YAML allows only spaces: replace the tab)\n");
}

static void test_manifest_error_kinds(void **state) {
        static const struct {
                const char *text, *errors;
        } cases[] = {
                { HEAD "  command: [/bin/true]\n  replicas: \"3\"\n",
                  "7:13: spec.replicas: \"3\" is not an integer (remove the quotes)\n" },
                { HEAD "  command: [/bin/true]\n  replicas: [1]\n",
                  "7:13: spec.replicas: expected an integer, got a list\n" },
                { HEAD "  command: [/bin/true]\n  replicas: -1\n",
                  "7:13: spec.replicas: -1 is out of range (0..10000)\n" },
                { HEAD "  command: []\n", "6:12: spec.command: must not be empty\n" },
                { HEAD "  replicas: 1\n", "6:3: spec: missing required field \"command\" (the program to run and its "
                                          "first arguments, e.g. [\"/usr/bin/python3\", \"-m\", \"http.server\"])\n" },
                { HEAD "  command: /bin/true\n",
                  "6:12: spec.command: expected a list of strings, got a plain scalar (write [\"a\", \"b\"] or one \"- "
                  "item\" per line)\n" },
                { "apiVersion: berth/v2\nkind: Service\nmetadata: {name: t}\nspec: {command: [a]}\n",
                  "1:13: apiVersion: \"berth/v2\" is not supported (use berth/v1)\n" },
                { "kind: Service\nmetadata: {name: t}\nspec: {command: [a]}\n",
                  "1:1: missing required field \"apiVersion\" (apiVersion: berth/v1)\n" },
                { "apiVersion: berth/v1\nkind: Service\nmetadata: {name: Web_1}\nspec: {command: [a]}\n",
                  "3:18: metadata.name: \"Web_1\" is not a valid name: use lowercase letters, digits and '-' (a "
                  "DNS-1123 label, like \"web-api\")\n" },
                { HEAD "  command: [a]\n  restartPolicy: always\n",
                  "7:18: spec.restartPolicy: \"always\" is not one of Always, OnFailure, Never; did you mean "
                  "\"Always\"?\n" },
                { HEAD "  command: [a]\n  terminationGracePeriod: 10\n",
                  "7:27: spec.terminationGracePeriod: \"10\" needs a unit (examples: 10s, 10ms, 1m30s)\n" },
                { HEAD "  command: [a]\n  terminationGracePeriod: 10 s\n",
                  "7:27: spec.terminationGracePeriod: \"10 s\" is not a duration (examples: 100ms, 1.5s, 2m, 1h30m)\n" },
                { HEAD "  command: [a]\n  resources: {limits: {memory: 64Mi}, requests: {memory: 65Mi}}\n",
                  "7:58: spec.resources.requests.memory: request (68157440 bytes) is larger than the limit (67108864 "
                  "bytes)\n" },
                { HEAD "  command: [a]\n  resources: {limits: {cpu: \"-1\"}}\n",
                  "7:29: spec.resources.limits.cpu: \"-1\" is out of range (must be positive and below 8Ei)\n" },
                { HEAD "  command: [\"a]\n", "6:13: YAML syntax: quoted string is never closed (add the closing quote)\n" },
                { HEAD "  command: &c [a]\n  args: *c\n",
                  "6:12: YAML anchors (&c) are not allowed in manifests: write the value out\n" },
                { "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: t\n  labels: {a: b, a: c}\nspec: {command: [a]}\n",
                  "5:18: metadata.labels.a: duplicate key \"a\" (first at line 5)\n" },
                { HEAD "  command: [a]\n  env: [{name: A}, {name: A, value: x}]\n",
                  "7:20: spec.env[1]: variable A is set twice (first in env[0])\n" },
                { HEAD "  command: [a]\n  isolation: {namespaces: [pid, net]}\n",
                  "7:33: spec.isolation.namespaces[1]: \"net\" is not listed here: the network namespace follows "
                  "network.mode (host or none)\n" },
                { HEAD "  command: [a]\n  livenessProbe: {periodSeconds: 2}\n",
                  "7:18: spec.livenessProbe: has no handler (use exactly one of exec, httpGet, tcpSocket, notify: "
                  "true)\n" },
                { HEAD "  command: [a]\n  readinessProbe: {notify: true, tcpSocket: {port: 80}}\n",
                  "7:19: spec.readinessProbe: has more than one handler (use exactly one of exec, httpGet, "
                  "tcpSocket, notify: true)\n" },
                { HEAD "  command: [a]\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n",
                  "7:29: spec.strategy.rollingUpdate: maxSurge and maxUnavailable cannot both be 0 (the rollout "
                  "could never progress)\n" },
                { HEAD "  command: [a]\n  strategy: {rollingUpdate: {maxSurge: 120%}}\n",
                  "7:40: spec.strategy.rollingUpdate.maxSurge: \"120%\" is not a non-negative integer or a "
                  "percentage from 0% to 100% (examples: 1, 25%)\n" },
                { HEAD "  command: [a]\n  working_dir: /srv\n",
                  "7:3: spec.working_dir: unknown field \"working_dir\" (did you mean \"workingDir\"?)\n" },
                { HEAD "  command: [a]\n  workingDir: srv\n",
                  "7:15: spec.workingDir: \"srv\" must be an absolute path (starting with /)\n" },
                { HEAD "  command: [a]\n  user: \"root user\"\n",
                  "7:9: spec.user: \"root user\" is not a user (use a name like nobody, or uid[:gid] like 1000:1000)\n" },
                { HEAD "  command: [a]\n  stopSignal: SIGFOO\n",
                  "7:15: spec.stopSignal: \"SIGFOO\" is not a stop signal (examples: SIGTERM, SIGINT, SIGQUIT, "
                  "SIGUSR1)\n" },
                { HEAD "  command: [a]\n  isolation: {capabilities: {add: [NET_FOO]}}\n",
                  "7:36: spec.isolation.capabilities.add[0]: \"NET_FOO\" is not a capability (examples: NET_ADMIN, "
                  "SYS_PTRACE, ALL)\n" },
                { HEAD "  command: [a]\n  network: {ports: [{name: http, port: 80}, {name: http, port: 81}]}\n",
                  "7:45: spec.network.ports[1]: port name \"http\" is used twice\n" },
                { HEAD "  command: [a]\n  rollbackOnFailure: yes\n",
                  "7:22: spec.rollbackOnFailure: \"yes\" is not a boolean (use true or false)\n" },
                { HEAD "  command: [a]\n  frobnicate: 1\n",
                  "7:3: spec.frobnicate: unknown field \"frobnicate\" (see berth-manifest(5) for the fields of "
                  "spec)\n" },
                { HEAD "  command: [a]\n  restartBackoff: {initial: 1m, max: 1s}\n",
                  "7:29: spec.restartBackoff.initial: initial delay (60000ms) is longer than max (1000ms)\n" },
                { HEAD "  command: [a]\n---\n" HEAD "  command: [b]\n",
                  "11:9: metadata.name: service \"t\" is defined twice in this input\n" },
                { "- a\n", "1:3: [0]: expected a Service (a mapping with apiVersion, kind, metadata and spec), got a plain scalar\n" },
                { "-\n", "1:2: [0]: expected a Service (a mapping with apiVersion, kind, metadata and spec), got null\n" },
                { "", "" }, /* empty input: nothing to do, valid */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                if (!cases[i].errors[0]) {
                        char *got = errors_of(cases[i].text, NULL);
                        assert_string_equal(got, "");
                        free(got);
                        continue;
                }
                expect_errors(cases[i].text, cases[i].errors);
        }
}

static void test_manifest_all_errors_reported(void **state) {
        /* several documents, errors in each: all are reported, in order */
        expect_errors(HEAD "  command: [a]\n  replicas: x\n---\n" HEAD "  command: [b]\n  replicas: y\n",
                      "7:13: spec.replicas: \"x\" is not an integer\n"
                      "12:9: metadata.name: service \"t\" is defined twice in this input\n"
                      "15:13: spec.replicas: \"y\" is not an integer\n");

        /* more than DIAG_MAX errors: capped, with a count of the rest */
        size_t size = 64 * 1024;
        char *text = malloc(size);
        int k = snprintf(text, size, HEAD "  command: [a]\n  env:\n");
        for (int i = 0; i < 60; i++)
                k += snprintf(text + k, size - (size_t) k, "    - {name: \"%d\"}\n", i);
        char *got = errors_of(text, NULL);
        assert_non_null(strstr(got, "+10 more\n"));
        free(got);
        free(text);
}

static void test_manifest_hardening(void **state) {
        /* nesting bomb */
        char deep[400] = HEAD "  command: [a]\n  args: ";
        size_t n = strlen(deep);
        for (int i = 0; i < 70; i++)
                deep[n++] = '[';
        deep[n] = 0;
        char *got = errors_of(deep, NULL);
        assert_non_null(strstr(got, "nesting deeper than 64 levels"));
        free(got);

        /* billion laughs: refused at the first anchor */
        got = errors_of("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n", NULL);
        assert_string_equal(got, "1:1: a: unknown field \"a\" (see berth-manifest(5) for the fields of a Service)\n"
                                 "1:4: YAML anchors (&a) are not allowed in manifests: write the value out\n");
        free(got);

        /* an alias to nothing */
        got = errors_of(HEAD "  command: *nothing\n", NULL);
        assert_string_equal(got, "6:12: YAML aliases (*nothing) are not allowed in manifests: write the value out\n");
        free(got);

        /* a string longer than 64 KiB */
        size_t big = 70 * 1024;
        char *text = malloc(big + 128);
        n = (size_t) sprintf(text, HEAD "  command: [\"");
        memset(text + n, 'x', big);
        strcpy(text + n + big, "\"]\n");
        got = errors_of(text, NULL);
        assert_non_null(strstr(got, "longer than the limit of 65536 bytes"));
        free(got);
        free(text);

        /* more than 1 MiB */
        text = malloc(YNODE_MAX_INPUT + 2);
        memset(text, '#', YNODE_MAX_INPUT + 1);
        text[YNODE_MAX_INPUT + 1] = 0;
        got = errors_of(text, NULL);
        assert_non_null(strstr(got, "more than the limit of 1048576 bytes"));
        free(got);
        free(text);

        /* NUL byte */
        struct service_list l = {};
        struct diag_list d = {};
        assert_int_equal(manifest_parse_buffer("a: b\0c", 6, "t", 0, &l, &d), -EINVAL);
        assert_non_null(strstr(d.v[0].message, "NUL byte"));
        diag_list_done(&d);
}

static void test_manifest_defaults(void **state) {
        struct service *s = parse_one(HEAD "  command: [/bin/sleep, infinity]\n");
        assert_int_equal(s->spec.replicas, 1);
        assert_string_equal(s->spec.working_dir, "/");
        assert_null(s->spec.user);
        assert_int_equal(s->spec.restart_policy, RESTART_ALWAYS);
        assert_int_equal(s->spec.restart_backoff.initial, 100);
        assert_int_equal(s->spec.restart_backoff.max, 30000);
        assert_true(s->spec.restart_backoff.multiplier == 2.0);
        assert_int_equal(s->spec.restart_backoff.reset_after, 60000);
        assert_int_equal(s->spec.stop_signal_number, 15);
        assert_int_equal(s->spec.termination_grace_period, 10000);
        assert_int_equal(s->spec.isolation.namespaces, NS_PID | NS_MOUNT | NS_UTS | NS_IPC);
        assert_true(s->spec.isolation.read_only_root);
        assert_int_equal(s->spec.network.mode, NETWORK_HOST);
        assert_false(s->spec.liveness_probe.set);
        assert_int_equal(s->spec.strategy.type, STRATEGY_ROLLING_UPDATE);
        assert_int_equal(s->spec.strategy.rolling_update.max_surge.value, 25);
        assert_true(s->spec.strategy.rolling_update.max_surge.percent);
        assert_int_equal(s->spec.progress_deadline, 600000);
        assert_int_equal(s->spec.revision_history_limit, 10);
        assert_true(s->spec.rollback_on_failure);
        assert_int_equal(s->spec.logging.max_size, 10 * 1024 * 1024);
        assert_int_equal(s->spec.logging.max_files, 5);
        assert_int_equal(s->spec.resources.limits.memory, 0);
        service_free(s);

        /* a probe's Kubernetes defaults */
        s = parse_one(HEAD "  command: [a]\n  readinessProbe: {tcpSocket: {port: 80}}\n");
        assert_true(s->spec.readiness_probe.set);
        assert_true(s->spec.readiness_probe.has_tcp_socket);
        assert_int_equal(s->spec.readiness_probe.period_seconds, 10);
        assert_int_equal(s->spec.readiness_probe.timeout_seconds, 1);
        assert_int_equal(s->spec.readiness_probe.success_threshold, 1);
        assert_int_equal(s->spec.readiness_probe.failure_threshold, 3);
        assert_int_equal(s->spec.readiness_probe.initial_delay_seconds, 0);
        service_free(s);
}

static void test_manifest_quantities(void **state) {
        static const struct {
                const char *memory;
                uint64_t bytes;
                const char *cpu;
                uint64_t millis;
        } cases[] = {
                { "128974848", 128974848, "500m", 500 }, { "129e6", 129000000, "0.5", 500 },
                { "129M", 129000000, "1", 1000 },        { "123Mi", 128974848, ".1", 100 },
                { "0.5Gi", 536870912, "1.3E+0", 1300 },  { "1.3E+6", 1300000, "1.", 1000 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char text[512];
                snprintf(text, sizeof text, HEAD "  command: [a]\n  resources: {limits: {memory: %s, cpu: %s}}\n",
                         cases[i].memory, cases[i].cpu);
                struct service *s = parse_one(text);
                assert_int_equal(s->spec.resources.limits.memory, cases[i].bytes);
                assert_int_equal(s->spec.resources.limits.cpu, cases[i].millis);
                service_free(s);
        }
}

static char *read_file_or_fail(const char *path) {
        char *buf = NULL;
        size_t size;
        int r = read_full_file(path, 16 * 1024 * 1024, &buf, &size);
        if (r < 0)
                fail_msg("cannot read %s: %s", path, strerror(-r));
        return buf;
}

/* tests/data/NAME.yaml -> canonical JSON == tests/golden/NAME.json, and
 * the JSON parses back (canonical mode) into an equal model. */
static void check_golden(const char *name) {
        char path[1024];
        struct service_list l = {}, back = {};
        struct diag_list d = {};

        snprintf(path, sizeof path, "%s/tests/data/%s.yaml", TEST_SRCDIR, name);
        if (manifest_parse_file(path, 0, &l, &d) < 0) {
                diag_list_print(&d, stderr);
                fail_msg("%s does not parse", path);
        }
        struct json_object *arr = json_object_new_array();
        for (size_t i = 0; i < l.n; i++)
                json_object_array_add(arr, service_to_json(l.v[i]));
        const char *json = json_object_to_json_string_ext(arr, BERTH_JSON_PRETTY);

        snprintf(path, sizeof path, "%s/tests/golden/%s.json", TEST_SRCDIR, name);
        if (getenv("BERTH_UPDATE_GOLDEN")) {
                FILE *f = fopen(path, "we");
                assert_non_null(f);
                fprintf(f, "%s\n", json);
                fclose(f);
        }
        char *expected = read_file_or_fail(path);
        size_t len = strlen(expected);
        if (len > 0 && expected[len - 1] == '\n')
                expected[len - 1] = 0;
        if (!streq(expected, json))
                fail_msg("%s differs from the canonical JSON of tests/data/%s.yaml:\n%s\n"
                         "(run the test with BERTH_UPDATE_GOLDEN=1 after an intended change)",
                         path, name, json);

        /* round trip */
        if (manifest_parse_buffer(json, strlen(json), "golden.json", MANIFEST_CANONICAL, &back, &d) < 0) {
                diag_list_print(&d, stderr);
                fail_msg("canonical JSON of %s does not parse back", name);
        }
        assert_int_equal(back.n, l.n);
        for (size_t i = 0; i < l.n; i++) {
                assert_true(service_equal(l.v[i], back.v[i]));
                struct service *c = service_copy(l.v[i]);
                assert_non_null(c);
                assert_true(service_equal(c, l.v[i]));
                service_free(c);
        }
        free(expected);
        json_object_put(arr);
        service_list_done(&l);
        service_list_done(&back);
        diag_list_done(&d);
}

static void test_manifest_golden_full(void **state) {
        check_golden("full");
}

static void test_manifest_golden_minimal(void **state) {
        check_golden("minimal");
}

static void test_manifest_examples_valid(void **state) {
        static const char *const names[] = { "hello", "web", "worker", "crashy" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char path[1024];
                struct service_list l = {};
                struct diag_list d = {};
                snprintf(path, sizeof path, "%s/manifests/%s.yaml", TEST_SRCDIR, names[i]);
                if (manifest_parse_file(path, 0, &l, &d) < 0) {
                        diag_list_print(&d, stderr);
                        fail_msg("%s is not valid", path);
                }
                assert_string_equal(l.v[0]->metadata.name, names[i]);
                service_list_done(&l);
        }
}

static void test_manifest_equal_detects_change(void **state) {
        struct service *a = parse_one(HEAD "  command: [a]\n  env: [{name: X, value: '1'}]\n");
        struct service *b = parse_one(HEAD "  command: [a]\n  env: [{name: X, value: '2'}]\n");
        struct service *c = parse_one(HEAD "  command: [a]\n  env: [{name: X, value: '1'}]\n");
        assert_false(service_equal(a, b));
        assert_true(service_equal(a, c));
        service_free(a);
        service_free(b);
        service_free(c);
}

static void test_manifest_canonical_units(void **state) {
        /* in canonical JSON, bare integers are ms and millicores; in YAML a
         * duration without unit is an error and cpu: 2 is two cores */
        const char *json = "{\"apiVersion\":\"berth/v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"j\"},"
                           "\"spec\":{\"command\":[\"a\"],\"terminationGracePeriod\":1500,"
                           "\"resources\":{\"limits\":{\"cpu\":2}}}}";
        struct service_list l = {};
        struct diag_list d = {};
        assert_int_equal(manifest_parse_buffer(json, strlen(json), "j.json", MANIFEST_CANONICAL, &l, &d), 0);
        assert_int_equal(l.v[0]->spec.termination_grace_period, 1500);
        assert_int_equal(l.v[0]->spec.resources.limits.cpu, 2);
        service_list_done(&l);
        assert_int_equal(manifest_parse_buffer(json, strlen(json), "j.json", 0, &l, &d), -EINVAL);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.v[0].line, 1);
        diag_list_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manifest_acceptance_four_errors),
                cmocka_unit_test(test_manifest_error_kinds),
                cmocka_unit_test(test_manifest_all_errors_reported),
                cmocka_unit_test(test_manifest_hardening),
                cmocka_unit_test(test_manifest_defaults),
                cmocka_unit_test(test_manifest_quantities),
                cmocka_unit_test(test_manifest_golden_full),
                cmocka_unit_test(test_manifest_golden_minimal),
                cmocka_unit_test(test_manifest_examples_valid),
                cmocka_unit_test(test_manifest_equal_detects_change),
                cmocka_unit_test(test_manifest_canonical_units),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
