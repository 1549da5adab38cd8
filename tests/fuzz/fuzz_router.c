/* fuzz_router.c - route matching on arbitrary methods and raw paths. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/router.h"

static enum ff_err h(struct http_req *q, struct http_resp *r) { (void)q; (void)r; return FF_OK; }

static struct http_router *router(void)
{
    static struct http_router *r;
    if (r)
        return r;
    r = http_router_new();
    static const char *const pats[] = {
        "/", "/healthz", "/api/v1/products", "/api/v1/products/{id}",
        "/api/v1/products/search", "/api/v1/products/{id}/variants/{sku}",
        "/api/v1/products/{id}/images/{n}", "/a/{b}/c/{d}/e/{f}/g/{h}",
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        if (http_route_add(r, HTTP_GET | HTTP_PUT, pats[i], h, NULL, 0))
            __builtin_trap();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ff_arena *a = ff_arena_new(0);
    if (!a || !size)
        goto out;
    enum http_method m = (enum http_method)(1u << (data[0] % 8));
    struct http_match mt;
    enum ff_err e = http_router_match(router(), m, (const char *)data + 1, size - 1, a, &mt);
    if (e == FF_OK) {
        if (!mt.route || mt.nparams > HTTP_MAX_PARAMS)
            __builtin_trap();
        for (size_t i = 0; i < mt.nparams; i++)
            if (strlen(mt.params[i].value) > size)
                __builtin_trap();
    } else if (mt.route) {
        __builtin_trap();
    }
    /* patterns from fuzz data must be accepted or rejected cleanly */
    struct http_router *r2 = http_router_new();
    char *pat = ff_arena_strndup(a, (const char *)data + 1, size - 1);
    if (r2 && pat && http_route_add(r2, HTTP_GET, pat, h, NULL, 0) == FF_OK) {
        if (http_router_match(r2, HTTP_GET, pat, strlen(pat), a, &mt) == FF_EINTERNAL)
            __builtin_trap();
    }
    http_router_free(r2);
out:
    ff_arena_free(a);
    return 0;
}
