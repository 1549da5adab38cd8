/* test_routes.c - routes for tests and benchmarks only (FRAMEFIT_TEST_ROUTES=1):
 *   POST /__test/echo    validates a JSON body against a sample schema, echoes it
 *   POST /__test/json    parses any JSON body and re-serializes it (bench)
 *   GET  /__test/sleep?ms=N  sleeps on a worker (graceful-shutdown tests)
 *   GET  /__test/staff   HTTP_ROUTE_STAFF probe
 * They are not in the OpenAPI document and never registered by default. */
#include <time.h>

#include "app/app.h"
#include "http/validate.h"

static const char *const shapes[] = {"round", "oval", "square", "cat-eye", NULL};

static const struct http_field size_fields[] = {
    {"lens_width_mm", HTTP_T_INT, HTTP_F_REQUIRED, .min = 30, .max = 70},
    {"bridge_mm", HTTP_T_INT, 0, .min = 10, .max = 30},
};
static const struct http_schema size_schema = HTTP_SCHEMA(size_fields);

static const struct http_field echo_fields[] = {
    {"name", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 50},
    {"price_cents", HTTP_T_INT, HTTP_F_REQUIRED, .min = 0, .max = 10000000},
    {"shape", HTTP_T_STRING, 0, .enum_values = shapes},
    {"weight_g", HTTP_T_NUMBER, HTTP_F_NULLABLE, .fmin = 1, .fmax = 500},
    {.name = "active", .type = HTTP_T_BOOL},
    {"tags", HTTP_T_ARRAY, 0, .items = HTTP_T_STRING, .max_len = 5},
    {"size", HTTP_T_OBJECT, 0, .object = &size_schema},
    {"variants", HTTP_T_ARRAY, 0, .items = HTTP_T_OBJECT, .object = &size_schema},
};
static const struct http_schema echo_schema = HTTP_SCHEMA(echo_fields);

static enum ff_err echo(struct http_req *req, struct http_resp *resp)
{
    json_t *body;
    enum ff_err e = http_json_body(req, &echo_schema, &body);
    if (e)
        return e;
    return http_reply_json(resp, 200, json_incref(body));
}

static enum ff_err json_any(struct http_req *req, struct http_resp *resp)
{
    json_t *body;
    enum ff_err e = http_json_body(req, NULL, &body);
    if (e)
        return e;
    return http_reply_json(resp, 200, json_incref(body));
}

static enum ff_err sleep_ms(struct http_req *req, struct http_resp *resp)
{
    int64_t ms = 100;
    if (http_query_i64(req, "ms", 0, 60000, &ms, NULL))
        return FF_EINVAL;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    return http_reply_json(resp, 200, json_pack("{s:I}", "slept_ms", (json_int_t)ms));
}

static enum ff_err staff(struct http_req *req, struct http_resp *resp)
{
    return http_reply_json(resp, 200, json_pack("{s:b}", "staff", req->is_staff));
}

enum ff_err app_register_test_routes(struct http_router *r, struct app *a);

enum ff_err app_register_test_routes(struct http_router *r, struct app *a)
{
    enum ff_err e = FF_OK;
    if (!a->cfg->test_routes)
        return FF_OK;
    e = http_route_add(r, HTTP_POST, "/__test/echo", echo, a, 0);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/__test/json", json_any, a, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/__test/sleep", sleep_ms, a, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/__test/staff", staff, a, HTTP_ROUTE_STAFF);
    if (!e)
        e = app_jobs_test_routes(r, a); /* POST /__test/jobs (app_jobs.c) */
    return e;
}
