/* model-json.h: the canonical JSON encoding of the model, driven by the same
 * schema tables as the parser. Keys are the manifest's keys; every default is
 * present; memory is in bytes, cpu in millicores, durations in milliseconds,
 * unset optional values are null. Parsing it back is manifest_parse_buffer()
 * with MANIFEST_CANONICAL (JSON is YAML), which gives the same line:col errors. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "model.h"
#include "schema.h"

struct json_object *schema_to_json(const struct schema *s, const void *obj);
struct json_object *service_to_json(const struct service *s);

/* The flags every berth JSON output uses (no "\/" escapes). */
#define BERTH_JSON_PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define BERTH_JSON_PRETTY (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
