/* model-json.c: see model-json.h. */
#include "config.h"

#include <stdio.h>

#include "macro.h"
#include "model-json.h"

static struct json_object *string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL; /* NULL is JSON null for json-c */
}

static struct json_object *uint_json(uint64_t v) {
        return v <= INT64_MAX ? json_object_new_int64((int64_t) v) : json_object_new_uint64(v);
}

static struct json_object *strv_json(const struct strv *l) {
        struct json_object *a = json_object_new_array_ext((int) l->n);
        for (size_t i = 0; a && i < l->n; i++)
                json_object_array_add(a, json_object_new_string(l->v[i]));
        return a;
}

struct json_object *schema_to_json(const struct schema *s, const void *obj) {
        struct json_object *o = json_object_new_object();
        if (!o)
                return NULL;

        for (size_t fi = 0; fi < s->n_fields; fi++) {
                const struct field *f = &s->fields[fi];
                struct json_object *v = NULL;

                switch (f->type) {
                case FT_STRING:
                        v = string_or_null(*FIELD_AT(obj, f, char *));
                        break;
                case FT_INT:
                        v = json_object_new_int64(*FIELD_AT(obj, f, int64_t));
                        break;
                case FT_UINT:
                case FT_MEMORY:
                case FT_CPU:
                case FT_DURATION: {
                        uint64_t u = *FIELD_AT(obj, f, uint64_t);
                        /* 0 for an optional limit means "not set" */
                        v = (u == 0 && !f->def && f->type != FT_DURATION) ? NULL : uint_json(u);
                        break;
                }
                case FT_BOOL:
                        v = json_object_new_boolean(*FIELD_AT(obj, f, bool));
                        break;
                case FT_DOUBLE:
                        v = json_object_new_double(*FIELD_AT(obj, f, double));
                        break;
                case FT_ENUM:
                        v = json_object_new_string(f->enum_names[*FIELD_AT(obj, f, int)]);
                        break;
                case FT_INT_OR_PERCENT: {
                        const struct int_or_percent *ip = FIELD_AT(obj, f, struct int_or_percent);
                        if (ip->percent) {
                                char buf[32];
                                snprintf(buf, sizeof buf, "%lld%%", (long long) ip->value);
                                v = json_object_new_string(buf);
                        } else
                                v = json_object_new_int64(ip->value);
                        break;
                }
                case FT_STRV:
                        v = strv_json(FIELD_AT(obj, f, struct strv));
                        break;
                case FT_STRMAP: {
                        const struct strmap *m = FIELD_AT(obj, f, struct strmap);
                        v = json_object_new_object();
                        for (size_t i = 0; v && i < m->n; i++)
                                json_object_object_add(v, m->keys[i], json_object_new_string(m->values[i]));
                        break;
                }
                case FT_STRUCT:
                        if ((f->flags & F_NULL_JSON) && f->aux != NO_AUX && !*(const bool *) ((const char *) obj + f->aux))
                                v = NULL;
                        else
                                v = schema_to_json(f->sub, FIELD_AT(obj, f, char));
                        break;
                case FT_LIST: {
                        size_t n = *(const size_t *) ((const char *) obj + f->aux);
                        const char *arr = *FIELD_AT(obj, f, char *);
                        v = json_object_new_array_ext((int) n);
                        for (size_t i = 0; v && i < n; i++)
                                json_object_array_add(v, schema_to_json(f->sub, arr + i * f->sub->size));
                        break;
                }
                }
                json_object_object_add(o, f->name, v);
        }
        return o;
}

struct json_object *service_to_json(const struct service *s) {
        return schema_to_json(&service_schema, s);
}
