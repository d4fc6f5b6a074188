/* fuzz-manifest.c: libFuzzer target for the manifest parser (YAML and
 * canonical JSON). Built with --enable-fuzzing (clang); seeds are manifests/
 * and tests/data/. Whatever the input, parsing must not crash, leak or hang,
 * and anything it accepts must survive the JSON round trip unchanged. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "model-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct service_list l = {}, back = {};
        struct diag_list d = {};
        unsigned flags = size > 0 && data[0] == '{' ? MANIFEST_CANONICAL : 0;

        if (manifest_parse_buffer((const char *) data, size, "fuzz", flags, &l, &d) == 0) {
                struct json_object *arr = json_object_new_array();
                for (size_t i = 0; i < l.n; i++)
                        json_object_array_add(arr, service_to_json(l.v[i]));
                const char *json = json_object_to_json_string_ext(arr, BERTH_JSON_PLAIN);
                if (manifest_parse_buffer(json, strlen(json), "fuzz.json", MANIFEST_CANONICAL, &back, &d) != 0 ||
                    back.n != l.n) {
                        fprintf(stderr, "%s\n", json);
                        diag_list_print(&d, stderr);
                        abort();
                }
                for (size_t i = 0; i < l.n; i++)
                        if (!service_equal(l.v[i], back.v[i]))
                                abort();
                json_object_put(arr);
        }
        service_list_done(&l);
        service_list_done(&back);
        diag_list_done(&d);
        return 0;
}
