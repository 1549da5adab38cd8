/* validate.h - JSON request bodies: parse and check against a small
 * declarative schema, collecting every bad field for the problem response.
 *
 *   static const char *const shapes[] = {"round", "oval", "square", NULL};
 *   static const struct http_field product_fields[] = {
 *       {"name", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 200},
 *       {"price_cents", HTTP_T_INT, HTTP_F_REQUIRED, .min = 0, .max = 10000000},
 *       {"shape", HTTP_T_STRING, 0, .enum_values = shapes},
 *       {"lens_width_mm", HTTP_T_NUMBER, HTTP_F_NULLABLE, .fmin = 30, .fmax = 70},
 *       {"tags", HTTP_T_ARRAY, 0, .items = HTTP_T_STRING, .max_len = 20},
 *       {"variants", HTTP_T_ARRAY, 0, .items = HTTP_T_OBJECT, .object = &variant_schema},
 *   };
 *   static const struct http_schema product_schema = HTTP_SCHEMA(product_fields);
 *
 * (Give each row at least one designated initializer, or write it fully
 * designated like {.name = "active", .type = HTTP_T_BOOL}: -Wextra warns
 * about a short positional row.)
 *
 *   json_t *body;
 *   if (http_json_body(req, &product_schema, &body))
 *       return FF_EINVAL;   // or whatever it returned: the problem is recorded
 *
 * Checks, in order: Content-Type is application/json (charset utf-8 if any)
 * -> 415; body present, no NUL bytes, valid UTF-8, well-formed JSON with no
 * duplicate keys -> 400 with the position; then the schema -> 422 with one
 * {field, reason} per problem: unknown fields, missing required fields,
 * wrong types, numbers out of range, strings too short/long or not in the
 * enum, arrays too long. Bounds are checked only when set (non-zero min or
 * max; min_len/max_len 0 = none). Nested objects name fields "a.b",
 * array items "a[2]". */
#ifndef FF_HTTP_VALIDATE_H
#define FF_HTTP_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/req.h"

enum http_ftype {
    HTTP_T_ANY = 0,
    HTTP_T_STRING,
    HTTP_T_INT,
    HTTP_T_NUMBER, /* integer or real */
    HTTP_T_BOOL,
    HTTP_T_OBJECT,
    HTTP_T_ARRAY,
};

enum http_field_flags {
    HTTP_F_REQUIRED = 1 << 0,
    HTTP_F_NULLABLE = 1 << 1, /* null is accepted (and means "unset") */
};

struct http_schema;

struct http_field {
    const char *name;
    enum http_ftype type;
    unsigned flags;
    int64_t min, max;                /* HTTP_T_INT bounds (both 0 = none) */
    double fmin, fmax;               /* HTTP_T_NUMBER bounds (both 0 = none) */
    size_t min_len, max_len;         /* string characters / array items (0 = none) */
    const char *const *enum_values;  /* HTTP_T_STRING: NULL-terminated allowed values */
    enum http_ftype items;           /* HTTP_T_ARRAY: element type */
    const struct http_schema *object; /* HTTP_T_OBJECT, or array items of HTTP_T_OBJECT */
};

struct http_schema {
    const struct http_field *fields;
    size_t nfields;
    bool allow_unknown; /* false: unknown fields are errors */
};

#define HTTP_SCHEMA(arr) {(arr), sizeof(arr) / sizeof((arr)[0]), false}

/* Parses and validates req's body. On FF_OK *out is the parsed object,
 * owned by the request (released with the arena: do not decref). On error
 * the problem (kind, detail, field errors) is recorded in req and the error
 * is returned: FF_EUNSUPPORTED (415), FF_ECORRUPT (400) or FF_EINVAL (422). */
enum ff_err http_json_body(struct http_req *req, const struct http_schema *s,
                           json_t **out) FF_MUST_CHECK;

/* Validates an already parsed object against s, adding field errors to req
 * with names prefixed by `prefix` ("" at the top). FF_OK or FF_EINVAL. */
enum ff_err http_json_validate(struct http_req *req, const json_t *obj,
                               const struct http_schema *s, const char *prefix) FF_MUST_CHECK;

/* Installs ff_malloc/ff_free as jansson's allocator (once, at start). */
void http_json_use_ff_alloc(void);

#endif
