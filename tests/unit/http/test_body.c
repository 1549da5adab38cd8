#include "harness.h"

#include "core/alloc.h"
#include "http/problem.h"
#include "http/validate.h"

static const char *const shapes[] = {"round", "oval", NULL};
static const struct http_field inner_fields[] = {
    {"w", HTTP_T_INT, HTTP_F_REQUIRED, .min = 1, .max = 9},
};
static const struct http_schema inner = HTTP_SCHEMA(inner_fields);
static const struct http_field fields[] = {
    {"name", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 5},
    {"n", HTTP_T_INT, 0, .min = -5, .max = 5},
    {"x", HTTP_T_NUMBER, HTTP_F_NULLABLE, .fmin = 0.5, .fmax = 1.5},
    {"shape", HTTP_T_STRING, 0, .enum_values = shapes},
    {"ok", HTTP_T_BOOL, 0, .min = 0},
    {"list", HTTP_T_ARRAY, 0, .items = HTTP_T_OBJECT, .object = &inner, .max_len = 2},
    {"obj", HTTP_T_OBJECT, 0, .object = &inner},
};
static const struct http_schema schema = HTTP_SCHEMA(fields);

struct fixture {
    struct ff_arena *a;
    struct http_req req;
    struct http_kv hdr[1];
};

static void setup(struct fixture *f, const char *ct, const char *body, size_t len)
{
    memset(f, 0, sizeof *f);
    f->a = ff_arena_new(0);
    f->req.arena = f->a;
    f->req.id = "rid-1";
    f->hdr[0] = (struct http_kv){"content-type", ct};
    f->req.headers = f->hdr;
    f->req.nheaders = ct ? 1 : 0;
    f->req.body = body;
    f->req.body_len = len;
}

static json_t *render(struct fixture *f, int *status)
{
    struct http_resp resp = {.arena = f->a};
    http_problem_render(&f->req, &resp);
    *status = resp.status;
    ASSERT_STREQ(resp.content_type, "application/problem+json");
    json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
    ASSERT(j);
    ASSERT_EQ(json_integer_value(json_object_get(j, "status")), *status);
    ASSERT_STREQ(json_string_value(json_object_get(j, "instance")), "rid-1");
    return j;
}

static int has_field(json_t *p, const char *field)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(p, "errors"), i, e)
        if (!strcmp(json_string_value(json_object_get(e, "field")), field))
            return 1;
    return 0;
}

TEST(valid)
{
    struct fixture f;
    const char *b = "{\"name\":\"ab\",\"n\":-5,\"x\":null,\"shape\":\"oval\",\"ok\":true,"
                    "\"list\":[{\"w\":1}],\"obj\":{\"w\":9}}";
    setup(&f, "application/json; charset=utf-8", b, strlen(b));
    json_t *j;
    ASSERT_OK(http_json_body(&f.req, &schema, &j));
    ASSERT_STREQ(json_string_value(json_object_get(j, "name")), "ab");
    ff_arena_free(f.a); /* releases j */
}

TEST(syntax_errors_are_400)
{
    const char *bodies[] = {"", "{", "{\"name\":\"a\",\"name\":\"b\"}", "{\"name\":\"\\u0000\"}",
                            "[", "{\"n\":1e999999}", "{\"n\":123456789012345678901234567890}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct fixture f;
        setup(&f, "application/json", bodies[i], strlen(bodies[i]));
        json_t *j;
        ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_ECORRUPT);
        int st;
        json_t *p = render(&f, &st);
        ASSERT_EQ(st, 400);
        ASSERT(json_string_value(json_object_get(p, "detail")));
        json_decref(p);
        ff_arena_free(f.a);
    }
    struct fixture f;
    setup(&f, "application/json", "{\"name\":\"a\0\"}", 13);
    json_t *j;
    ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_ECORRUPT);
    ff_arena_free(f.a);
    setup(&f, "application/json", "{\"name\":\"\xff\"}", 12);
    ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_ECORRUPT);
    ff_arena_free(f.a);
    setup(&f, "text/json", "{}", 2);
    ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_EUNSUPPORTED);
    int st;
    json_decref(render(&f, &st));
    ASSERT_EQ(st, 415);
    ff_arena_free(f.a);
    setup(&f, NULL, "{}", 2);
    ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_EUNSUPPORTED);
    ff_arena_free(f.a);
}

TEST(field_errors_are_422)
{
    struct fixture f;
    const char *b = "{\"name\":\"toolong\",\"n\":6,\"x\":2,\"shape\":\"hex\",\"ok\":1,"
                    "\"list\":[{\"w\":0},{},{\"w\":1}],\"obj\":{\"w\":\"1\",\"z\":0},\"extra\":1}";
    setup(&f, "application/json", b, strlen(b));
    json_t *j;
    ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_EINVAL);
    f.req.err = FF_EINVAL;
    int st;
    json_t *p = render(&f, &st);
    ASSERT_EQ(st, 422);
    ASSERT_STREQ(json_string_value(json_object_get(p, "type")),
                 "https://framefit.dev/problems/validation");
    const char *want[] = {"name", "n", "x", "shape", "ok", "list", "obj.w", "obj.z", "extra"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!has_field(p, want[i]))
            TEST_FAIL("no error for %s", want[i]);
    json_decref(p);
    ff_arena_free(f.a);

    const char *b2 = "{\"list\":[{\"w\":0},{}]}";
    setup(&f, "application/json", b2, strlen(b2));
    ASSERT_EQ(http_json_body(&f.req, &schema, &j), FF_EINVAL);
    p = render(&f, &st);
    ASSERT(has_field(p, "name"));
    ASSERT(has_field(p, "list[0].w"));
    ASSERT(has_field(p, "list[1].w"));
    json_decref(p);
    ff_arena_free(f.a);
}

TEST(problem_table)
{
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_ENOTFOUND)), 404);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_EINVAL)), 422);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_ECONFLICT)), 409);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_EAUTH)), 401);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_EFORBIDDEN)), 403);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_ETOOBIG)), 413);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_EDB)), 503);
    ASSERT_EQ(http_problem_status(http_problem_kind_of(FF_ENOMEM)), 500);
    for (int e = 0; e <= FF_ERR_COUNT; e++) {
        enum http_problem_kind k = http_problem_kind_of((enum ff_err)e);
        ASSERT(!strncmp(http_problem_type(k), "https://framefit.dev/problems/", 30));
        ASSERT(http_problem_title(k)[0]);
    }
    /* 500s never leak their detail */
    struct fixture f;
    setup(&f, NULL, "", 0);
    (void)http_errf(&f.req, FF_EINTERNAL, "secret path /etc/x");
    int st;
    json_t *p = render(&f, &st);
    ASSERT_EQ(st, 500);
    ASSERT(!strstr(json_string_value(json_object_get(p, "detail")), "/etc/x"));
    json_decref(p);
    ff_arena_free(f.a);
    /* an explicit kind wins */
    setup(&f, NULL, "", 0);
    (void)http_problem_set(&f.req, HTTP_PK_PRECONDITION_FAILED, "etag is %s", "\"1\"");
    p = render(&f, &st);
    ASSERT_EQ(st, 412);
    json_decref(p);
    ff_arena_free(f.a);
}

TEST(oom_sweep)
{
    const char *b = "{\"name\":\"toolong\",\"n\":6,\"list\":[{\"w\":0},{}],\"extra\":1}";
    for (long n = 1; n < 200; n++) {
        size_t before = ff_alloc_used();
        struct fixture f;
        setup(&f, "application/json", b, strlen(b));
        if (!f.a)
            continue;
        ff_alloc_fail_after(n);
        json_t *j;
        enum ff_err e = http_json_body(&f.req, &schema, &j);
        struct http_resp resp = {.arena = f.a};
        http_problem_render(&f.req, &resp);
        ff_alloc_fail_after(0);
        ASSERT(e != FF_OK);
        ASSERT(resp.status >= 400);
        ff_arena_free(f.a);
        ASSERT_EQ(ff_alloc_used(), before);
    }
}

int main(void)
{
    http_json_use_ff_alloc();
    RUN(valid);
    RUN(syntax_errors_are_400);
    RUN(field_errors_are_422);
    RUN(problem_table);
    RUN(oom_sweep);
    return TEST_REPORT();
}
