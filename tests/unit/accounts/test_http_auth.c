/* test_http_auth.c - http/auth.c: cookies, bearer tokens, the anonymous
 * principal, and http_auth_run's access decisions (401 vs 403) for every
 * route flag and role, with the break-glass token and a failing authenticator. */
#include "harness.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/router.h"

static struct ff_arena *arena;

static struct http_req mkreq(struct http_kv *h, size_t n)
{
    struct http_req r = {.arena = arena, .headers = h, .nheaders = n, .method = HTTP_GET};
    return r;
}

TEST(cookies)
{
    struct http_kv h[] = {{"Cookie", "a=1; ff_access=tok.en.x; ff_access2=no"},
                          {"cookie", "ff_csrf=\"quoted\";ff_refresh=r;  empty="}};
    struct http_req r = mkreq(h, 2);
    ASSERT_STREQ(http_cookie(&r, "a"), "1");
    ASSERT_STREQ(http_cookie(&r, "ff_access"), "tok.en.x");
    ASSERT_STREQ(http_cookie(&r, "ff_access2"), "no");
    ASSERT_STREQ(http_cookie(&r, "ff_csrf"), "quoted");
    ASSERT_STREQ(http_cookie(&r, "ff_refresh"), "r");
    ASSERT_STREQ(http_cookie(&r, "empty"), "");
    ASSERT(http_cookie(&r, "ff") == NULL);
    ASSERT(http_cookie(&r, "missing") == NULL);
    struct http_kv bad[] = {{"Cookie", ";;=;a;b=;=c; ;"}};
    r = mkreq(bad, 1);
    ASSERT(http_cookie(&r, "a") == NULL);
    ASSERT_STREQ(http_cookie(&r, "b"), "");
}

TEST(bearer)
{
    struct http_kv h[] = {{"Authorization", "bearer   abc"}};
    struct http_req r = mkreq(h, 1);
    ASSERT_STREQ(http_bearer(&r), "abc");
    h[0].value = "Basic abc";
    ASSERT(http_bearer(&r) == NULL);
    h[0].value = "Bearer ";
    ASSERT(http_bearer(&r) == NULL);
    h[0].value = "Bearer";
    ASSERT(http_bearer(&r) == NULL);
}

TEST(anonymous_principal)
{
    struct http_kv h[] = {{"Cookie", "ff_anon=short"},
                          {"X-Anonymous-Id", "abcdefghijklmnopqrstuvwxyz_-01"}};
    struct http_req r = mkreq(h, 2);
    const struct http_principal *p = http_principal(&r);
    ASSERT(p->user_id == 0 && p->role == HTTP_ROLE_NONE);
    ASSERT_STREQ(p->anon_id, "abcdefghijklmnopqrstuvwxyz_-01"); /* the bad cookie is ignored */
    ASSERT(http_principal(&r) == p);
    struct http_kv h2[] = {{"X-Anonymous-Id", "has space in it 0123456789"}};
    r = mkreq(h2, 1);
    ASSERT(http_principal(&r)->anon_id == NULL);
    ASSERT_STREQ(http_role_name(HTTP_ROLE_STAFF), "staff");
    ASSERT_EQ(http_role_parse("admin"), HTTP_ROLE_ADMIN);
    ASSERT_EQ(http_role_parse("Admin"), HTTP_ROLE_NONE);
}

static enum http_role fake_role;
static enum ff_err fake_err;
static enum ff_err fake_auth(void *ud, struct http_req *req, struct http_resp *resp, unsigned f)
{
    if (fake_err)
        return http_problem_set(req, HTTP_PK_TOO_MANY_REQUESTS, "slow down"), fake_err;
    if (fake_role == HTTP_ROLE_NONE)
        return FF_OK;
    struct http_principal p = {.user_id = 7, .role = fake_role};
    return http_principal_set(req, &p);
}

static int run(unsigned flags, enum http_role role, const char *bearer)
{
    struct http_kv h[] = {{"Authorization", bearer ? bearer : ""}};
    struct http_req r = mkreq(h, bearer ? 1 : 0);
    struct http_resp resp = {.arena = arena};
    fake_role = role;
    enum ff_err e = http_auth_run(&r, &resp, flags, "break-glass-token-0123", fake_auth, NULL);
    if (!e)
        return 200;
    return http_problem_status((enum http_problem_kind)r.problem_status);
}

TEST(access_decisions)
{
    const unsigned flags[] = {0, HTTP_ROUTE_AUTH, HTTP_ROUTE_STAFF, HTTP_ROUTE_ADMIN};
    /* rows: flags; columns: none, customer, staff, admin */
    const int want[4][4] = {{200, 200, 200, 200},
                            {401, 200, 200, 200},
                            {401, 403, 200, 200},
                            {401, 403, 403, 200}};
    for (int f = 0; f < 4; f++)
        for (int role = 0; role < 4; role++) {
            int got = run(flags[f], (enum http_role)role, NULL);
            if (got != want[f][role])
                TEST_FAIL("flags %u role %d: got %d want %d", flags[f], role, got,
                          want[f][role]);
        }
    /* break-glass: admin everywhere, only with the exact token */
    ASSERT_EQ(run(HTTP_ROUTE_ADMIN, HTTP_ROLE_NONE, "Bearer break-glass-token-0123"), 200);
    ASSERT_EQ(run(HTTP_ROUTE_ADMIN, HTTP_ROLE_NONE, "Bearer break-glass-token-012"), 401);
    ASSERT_EQ(run(HTTP_ROUTE_ADMIN, HTTP_ROLE_NONE, "Bearer break-glass-token-01234"), 401);
    /* an authenticator's own refusal wins */
    fake_err = FF_EFORBIDDEN;
    ASSERT_EQ(run(0, HTTP_ROLE_ADMIN, NULL), 429);
    fake_err = FF_OK;
    /* inline routes never call the (possibly blocking) authenticator */
    ASSERT_EQ(run(HTTP_ROUTE_INLINE, HTTP_ROLE_ADMIN, NULL), 200);
    fake_err = FF_EFORBIDDEN;
    ASSERT_EQ(run(HTTP_ROUTE_INLINE, HTTP_ROLE_ADMIN, NULL), 200);
    fake_err = FF_OK;
    /* no authenticator at all: anonymous */
    struct http_req r = mkreq(NULL, 0);
    struct http_resp resp = {.arena = arena};
    ASSERT_EQ(http_auth_run(&r, &resp, HTTP_ROUTE_STAFF, "", NULL, NULL), FF_EAUTH);
    ASSERT(!r.is_staff);
}

int main(void)
{
    arena = ff_arena_new(0);
    RUN(cookies);
    RUN(bearer);
    RUN(anonymous_principal);
    RUN(access_decisions);
    ff_arena_free(arena);
    return TEST_REPORT();
}
