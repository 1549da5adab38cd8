/* fuzz_json_body.c - JSON body parsing, schema validation and the problem
 * document built from the result. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/problem.h"
#include "http/validate.h"

static const char *const shapes[] = {"round", "oval", "cat-eye", NULL};
static const struct http_field inner_fields[] = {
    {"lens_width_mm", HTTP_T_INT, HTTP_F_REQUIRED, .min = 30, .max = 70},
    {"sku", HTTP_T_STRING, 0, .max_len = 20},
};
static const struct http_schema inner = HTTP_SCHEMA(inner_fields);
static const struct http_field fields[] = {
    {"name", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 50},
    {"price_cents", HTTP_T_INT, HTTP_F_REQUIRED, .min = 0, .max = 10000000},
    {"shape", HTTP_T_STRING, 0, .enum_values = shapes},
    {"weight_g", HTTP_T_NUMBER, HTTP_F_NULLABLE, .fmin = 1, .fmax = 500},
    {"active", HTTP_T_BOOL, 0, .min = 0},
    {"tags", HTTP_T_ARRAY, 0, .items = HTTP_T_STRING, .max_len = 5},
    {"size", HTTP_T_OBJECT, 0, .object = &inner},
    {"variants", HTTP_T_ARRAY, 0, .items = HTTP_T_OBJECT, .object = &inner},
};
static const struct http_schema schema = HTTP_SCHEMA(fields);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        http_json_use_ff_alloc();
        init = 1;
    }
    struct ff_arena *a = ff_arena_new(0);
    if (!a)
        return 0;
    struct http_kv hdr = {"Content-Type", "application/json"};
    struct http_req req = {.arena = a, .id = "fuzz", .headers = &hdr, .nheaders = 1};
    char *body = ff_arena_strndup(a, (const char *)data, size);
    if (body) {
        req.body = body;
        req.body_len = size;
        json_t *j;
        enum ff_err e = http_json_body(&req, &schema, &j);
        struct http_resp resp = {.arena = a};
        if (e) {
            http_problem_render(&req, &resp);
            if (resp.status < 400 || resp.status > 599 || !resp.body)
                __builtin_trap();
        } else if (!json_is_object(j)) {
            __builtin_trap();
        }
    }
    ff_arena_free(a);
    return 0;
}
