#include "harness.h"

#include "core/alloc.h"
#include "http/query.h"
#include "http/router.h"

static enum ff_err h1(struct http_req *q, struct http_resp *r) { (void)q; (void)r; return FF_OK; }
static enum ff_err h2(struct http_req *q, struct http_resp *r) { (void)q; (void)r; return FF_OK; }

static struct http_router *mk(void)
{
    struct http_router *r = http_router_new();
    ASSERT(r);
    ASSERT_OK(http_route_add(r, HTTP_GET, "/", h1, NULL, 0));
    ASSERT_OK(http_route_add(r, HTTP_GET, "/api/v1/products", h1, NULL, 0));
    ASSERT_OK(http_route_add(r, HTTP_POST, "/api/v1/products", h2, NULL, HTTP_ROUTE_STAFF));
    ASSERT_OK(http_route_add(r, HTTP_GET | HTTP_PUT | HTTP_DELETE, "/api/v1/products/{id}", h1,
                             NULL, 0));
    ASSERT_OK(http_route_add(r, HTTP_GET, "/api/v1/products/search", h2, NULL, 0));
    ASSERT_OK(http_route_add(r, HTTP_GET, "/api/v1/products/{id}/variants/{sku}", h2, NULL, 0));
    return r;
}

TEST(add_rejects_bad_patterns)
{
    struct http_router *r = mk();
    ASSERT_EQ(http_route_add(r, HTTP_GET, "nope", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/a//b", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/a/", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/a/{ID}", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/a/{}", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/a/x{id}", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, 0, "/a", h1, NULL, 0), FF_EINVAL);
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/a", NULL, NULL, 0), FF_EINVAL);
    /* same shape and method: conflict, whatever the parameter is called */
    ASSERT_EQ(http_route_add(r, HTTP_GET, "/api/v1/products/{slug}", h1, NULL, 0), FF_ECONFLICT);
    ASSERT_OK(http_route_add(r, HTTP_PATCH, "/api/v1/products/{slug}", h1, NULL, 0));
    http_router_free(r);
}

static enum ff_err match(struct http_router *r, struct ff_arena *a, enum http_method m,
                         const char *path, struct http_match *out)
{
    return http_router_match(r, m, path, strlen(path), a, out);
}

TEST(matching)
{
    struct http_router *r = mk();
    struct ff_arena *a = ff_arena_new(0);
    struct http_match m;
    ASSERT_OK(match(r, a, HTTP_GET, "/", &m));
    ASSERT_STREQ(m.route->pattern, "/");
    ASSERT_OK(match(r, a, HTTP_POST, "/api/v1/products", &m));
    ASSERT(m.route->fn == h2);
    ASSERT(m.route->flags & HTTP_ROUTE_STAFF);
    ASSERT_OK(match(r, a, HTTP_GET, "/api/v1/products/42", &m));
    ASSERT_STREQ(m.route->pattern, "/api/v1/products/{id}");
    ASSERT_EQ(m.nparams, 1);
    ASSERT_STREQ(m.params[0].name, "id");
    ASSERT_STREQ(m.params[0].value, "42");
    /* literal beats parameter */
    ASSERT_OK(match(r, a, HTTP_GET, "/api/v1/products/search", &m));
    ASSERT_STREQ(m.route->pattern, "/api/v1/products/search");
    /* but other methods on that path fall back to the parameter route */
    ASSERT_OK(match(r, a, HTTP_DELETE, "/api/v1/products/search", &m));
    ASSERT_STREQ(m.route->pattern, "/api/v1/products/{id}");
    ASSERT_OK(match(r, a, HTTP_HEAD, "/api/v1/products/7", &m)); /* GET implies HEAD */
    ASSERT_OK(match(r, a, HTTP_GET, "/api/v1/products/a%2Fb/variants/S%20M", &m));
    ASSERT_EQ(m.nparams, 2);
    ASSERT_STREQ(m.params[0].value, "a/b");
    ASSERT_STREQ(m.params[1].name, "sku");
    ASSERT_STREQ(m.params[1].value, "S M");
    /* 405 vs 404 */
    ASSERT_EQ(match(r, a, HTTP_PATCH, "/api/v1/products/1", &m), FF_ENOTFOUND);
    ASSERT_EQ(m.allowed, HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_DELETE);
    char allow[64];
    http_methods_format(m.allowed, allow, sizeof allow);
    ASSERT_STREQ(allow, "GET, HEAD, PUT, DELETE");
    const char *nf[] = {"", "x", "/api", "/api/v1/products/", "//", "/api//v1/products",
                        "/api/v1/products/1/variants", "/API/v1/products"};
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        ASSERT_EQ(match(r, a, HTTP_GET, nf[i], &m), FF_ENOTFOUND);
        ASSERT_EQ(m.allowed, 0);
    }
    ASSERT_EQ(match(r, a, HTTP_GET, "/api/v1/products/%zz", &m), FF_EINVAL);
    ASSERT_EQ(match(r, a, HTTP_GET, "/api/v1/products/%00", &m), FF_EINVAL);
    char deep[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "/a");
    ASSERT_EQ(match(r, a, HTTP_GET, deep, &m), FF_ENOTFOUND);
    ASSERT_EQ(http_router_count(r), 6);
    ASSERT(http_router_at(r, 6) == NULL);
    ff_arena_free(a);
    http_router_free(r);
}

TEST(query_parser)
{
    struct ff_arena *a = ff_arena_new(0);
    struct http_kv *kv;
    size_t n;
    const char *q = "shape=round&price_max=100&q=blue+cat%20eye&&flag&shape=oval";
    ASSERT_OK(http_query_parse(a, q, strlen(q), &kv, &n));
    ASSERT_EQ(n, 5);
    ASSERT_STREQ(kv[0].name, "shape");
    ASSERT_STREQ(kv[0].value, "round");
    ASSERT_STREQ(kv[2].value, "blue cat eye");
    ASSERT_STREQ(kv[3].name, "flag");
    ASSERT_STREQ(kv[3].value, "");
    ASSERT_STREQ(kv[4].value, "oval");
    ASSERT_OK(http_query_parse(a, "", 0, &kv, &n));
    ASSERT_EQ(n, 0);
    ASSERT_OK(http_query_parse(a, "&&&", 3, &kv, &n));
    ASSERT_EQ(n, 0);
    const char *bad[] = {"a=%zz", "a=%2", "=x", "a=%00", "a=%ff", "%e9=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (http_query_parse(a, bad[i], strlen(bad[i]), &kv, &n) != FF_EINVAL)
            TEST_FAIL("accepted %s", bad[i]);
    char many[1024] = "";
    for (int i = 0; i < 65; i++)
        strcat(many, "a=1&");
    ASSERT_EQ(http_query_parse(a, many, strlen(many), &kv, &n), FF_ETOOBIG);
    ff_arena_free(a);
}

int main(void)
{
    RUN(add_rejects_bad_patterns);
    RUN(matching);
    RUN(query_parser);
    return TEST_REPORT();
}
