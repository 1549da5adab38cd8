#include "http/builtin.h"

#include "core/buf.h"
#include "http/problem.h"

static enum ff_err healthz(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    static const char ok[] = "{\"status\":\"ok\"}";
    http_reply_static(resp, 200, "application/json", ok, sizeof ok - 1);
    return FF_OK;
}

static enum ff_err readyz(struct http_req *req, struct http_resp *resp)
{
    struct http_builtin *b = req->ud;
    char why[256] = "";
    if (b->ready && b->ready(b->ready_ud, why, sizeof why))
        return http_problem_set(req, HTTP_PK_UNAVAILABLE, "not ready: %s",
                                why[0] ? why : "storage unreachable");
    static const char ok[] = "{\"status\":\"ready\"}";
    http_reply_static(resp, 200, "application/json", ok, sizeof ok - 1);
    return FF_OK;
}

static void buf_release_hook(void *p) { ff_buf_release(p); }

static enum ff_err metrics(struct http_req *req, struct http_resp *resp)
{
    struct http_builtin *b = req->ud;
    struct ff_buf *out = ff_arena_alloc(req->arena, sizeof *out);
    if (!out)
        return FF_ENOMEM;
    ff_buf_init(out, 16u << 20);
    if (ff_arena_on_release(req->arena, buf_release_hook, out))
        return FF_ENOMEM;
    enum ff_err e = http_metrics_render(http_server_metrics(b->server), out);
    if (e)
        return http_errf(req, e, "rendering metrics failed");
    http_reply_static(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
                      out->data ? out->data : "", out->len);
    return FF_OK;
}

static enum ff_err openapi(struct http_req *req, struct http_resp *resp)
{
    struct http_builtin *b = req->ud;
    http_reply_static(resp, 200, "application/json", b->openapi, b->openapi_len);
    return http_resp_header(resp, "Cache-Control", "public, max-age=300");
}

enum ff_err http_builtin_register(struct http_router *r, struct http_builtin *b)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/healthz", healthz, b, HTTP_ROUTE_INLINE);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/readyz", readyz, b, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/metrics", metrics, b,
                           HTTP_ROUTE_INLINE | HTTP_ROUTE_NO_ETAG);
    if (!e && b->openapi)
        e = http_route_add(r, HTTP_GET, "/api/v1/openapi.json", openapi, b, HTTP_ROUTE_INLINE);
    return e;
}
