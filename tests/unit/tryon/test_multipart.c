/* test_multipart.c - the multipart/form-data parser (http/multipart.h) with
 * well-formed, malformed, truncated, oversized and hostile bodies. */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "harness.h"
#include "http/multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

static struct ff_arena *a;
static char why[200];

static enum ff_err parse(const char *ct, const char *body, size_t len, size_t max,
                         struct http_part **parts, size_t *n)
{
    why[0] = '\0';
    return http_multipart_parse(ct, body, len, a, max, parts, n, why, sizeof why);
}

static enum ff_err parse_s(const char *body, struct http_part **parts, size_t *n)
{
    return parse(CT, body, strlen(body), 16, parts, n);
}

TEST(well_formed)
{
    static const char body[] =
        "preamble to ignore\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"note\"\r\n"
        "\r\n"
        "hello\r\n"
        "--XyZ  \r\n" /* transport padding */
        "content-disposition: FORM-DATA; filename=\"me \\\"x\\\".jpg\"; name=photo\r\n"
        "Content-Type: image/jpeg \r\n"
        "X-Other: ignored\r\n"
        "\r\n"
        "\xff\xd8\xff\r\n--XY\r\nnot a boundary\0binary\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"empty\"\r\n"
        "\r\n"
        "\r\n"
        "--XyZ--\r\n"
        "epilogue --XyZ ignored";
    struct http_part *p;
    size_t n;
    ASSERT_OK(parse(CT, body, sizeof body - 1, 16, &p, &n));
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(p[0].name, "note");
    ASSERT(p[0].filename == NULL && p[0].content_type == NULL);
    ASSERT_EQ(p[0].len, 5);
    ASSERT(!memcmp(p[0].data, "hello", 5));
    ASSERT_STREQ(p[1].name, "photo");
    ASSERT_STREQ(p[1].filename, "me \"x\".jpg");
    ASSERT_STREQ(p[1].content_type, "image/jpeg");
    static const char photo[] = "\xff\xd8\xff\r\n--XY\r\nnot a boundary\0binary";
    ASSERT_EQ(p[1].len, sizeof photo - 1);
    ASSERT(!memcmp(p[1].data, photo, sizeof photo - 1));
    ASSERT_STREQ(p[2].name, "empty");
    ASSERT_EQ(p[2].len, 0);
    ASSERT(http_multipart_find(p, n, "photo") == &p[1]);
    ASSERT(http_multipart_find(p, n, "nope") == NULL);
    /* the body may start with the delimiter (no preamble, no CRLF) */
    ASSERT_OK(parse_s("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--", &p,
                      &n));
    ASSERT_EQ(n, 1);
    ASSERT_EQ(p[0].len, 1);
}

TEST(boundaries)
{
    char b[HTTP_MP_MAX_BOUNDARY + 1];
    ASSERT_OK(http_multipart_boundary("multipart/form-data; boundary=abc", b));
    ASSERT_STREQ(b, "abc");
    ASSERT_OK(http_multipart_boundary("Multipart/Form-Data ;charset=x; BOUNDARY=\"a b:c\"", b));
    ASSERT_STREQ(b, "a b:c");
    char big[200];
    snprintf(big, sizeof big, "multipart/form-data; boundary=%070d", 7);
    ASSERT_OK(http_multipart_boundary(big, b)); /* 70: the RFC's maximum */
    snprintf(big, sizeof big, "multipart/form-data; boundary=%071d", 7);
    ASSERT_EQ(http_multipart_boundary(big, b), FF_EINVAL);
    const char *bad[] = {
        NULL, "", "multipart/form-data", "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=\"abc ",
        "multipart/form-data; boundary=\"ends with space \"",
        "multipart/form-data; boundary=a; boundary=b", /* repeated */
        "multipart/form-data; boundary=\"a\r\nX-Injected: 1\"",
        "multipart/form-data; boundary=\"semi;colon\"", "text/plain; boundary=abc",
        "multipart/form-data boundary=abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!http_multipart_boundary(bad[i], b))
            TEST_FAIL("accepted %s", bad[i] ? bad[i] : "(null)");
    ASSERT(http_multipart_is_form("multipart/form-data; boundary=x"));
    ASSERT(http_multipart_is_form(" MULTIPART/FORM-DATA"));
    ASSERT(!http_multipart_is_form("multipart/form-datax"));
    ASSERT(!http_multipart_is_form("multipart/mixed; boundary=x"));
    ASSERT(!http_multipart_is_form(NULL));
    struct http_part *p;
    size_t n;
    /* a huge boundary parameter in a request */
    char *huge = ff_malloc(100000);
    memcpy(huge, "multipart/form-data; boundary=", 30);
    memset(huge + 30, 'a', 100000 - 31);
    huge[99999] = '\0';
    ASSERT_EQ(parse(huge, "--aaa", 5, 16, &p, &n), FF_EINVAL);
    ASSERT(strstr(why, "boundary"));
    ff_free(huge);
    /* missing boundary, or a body that never contains it */
    ASSERT_EQ(parse("multipart/form-data", "--x\r\n", 5, 16, &p, &n), FF_EINVAL);
    ASSERT_EQ(parse_s("no delimiter in here", &p, &n), FF_EINVAL);
    ASSERT_EQ(parse(CT, "", 0, 16, &p, &n), FF_EINVAL);
    ASSERT_EQ(parse("application/json", "{}", 2, 16, &p, &n), FF_EINVAL);
}

TEST(malformed)
{
    struct http_part *p = (struct http_part *)1;
    size_t n = 1;
    const char *bad[] = {
        /* no final boundary (truncated) */
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nAAA",
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nAAA\r\n--XyZ",
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n",
        "--XyZ\r\nContent-Disposition: form-da",
        "--XyZ",
        /* fields without names */
        "--XyZ\r\nContent-Disposition: form-data\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Type: text/plain\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\n\r\nA\r\n--XyZ--",
        /* not form-data, repeated parameters and headers */
        "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; "
        "name=b\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Type: a/b\r\nContent-Type: "
        "c/d\r\n\r\nA\r\n--XyZ--",
        /* header injection: bare LF / CR, folded lines, NUL, junk lines */
        "--XyZ\r\nContent-Disposition: form-data; name=a\nX-Evil: 1\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a\rX-Evil: 1\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n X-Folded: 1\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\nX: y\"\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nno colon here\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\n: empty name\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"unterminated\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; =a\r\n\r\nA\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"\xff\xfe\"\r\n\r\nA\r\n--XyZ--",
        /* a longer boundary-like line (a delimiter must be followed by CRLF or --) */
        "--XyZabc\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--",
        /* the close delimiter only: no parts */
        "--XyZ--\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum ff_err e = parse_s(bad[i], &p, &n);
        if (e != FF_EINVAL)
            TEST_FAIL("case %zu: %s (want EINVAL)", i, ff_err_name(e));
        ASSERT(p == NULL && n == 0);
        ASSERT(why[0]);
    }
    /* a NUL inside a header line */
    static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=a\0b\r\n\r\nA\r\n--XyZ--";
    ASSERT_EQ(parse(CT, nul, sizeof nul - 1, 16, &p, &n), FF_EINVAL);
}

TEST(limits)
{
    struct http_part *p;
    size_t n;
    /* thousands of parts: refused past max_parts without quadratic work */
    struct ff_buf b;
    ff_buf_init(&b, 1 << 24);
    for (int i = 0; i < 5000; i++)
        ASSERT_OK(ff_buf_appendf(&b, "--XyZ\r\nContent-Disposition: form-data; name=f%d\r\n\r\n"
                                     "v\r\n", i));
    ASSERT_OK(ff_buf_appends(&b, "--XyZ--\r\n"));
    ASSERT_EQ(parse(CT, b.data, b.len, 16, &p, &n), FF_ETOOBIG);
    ASSERT(strstr(why, "more than 16 parts"));
    ASSERT_OK(parse(CT, b.data, b.len, 5000, &p, &n));
    ASSERT_EQ(n, 5000);
    ASSERT_STREQ(p[4999].name, "f4999");
    ff_buf_release(&b);
    /* too many header lines in one part */
    ff_buf_init(&b, 1 << 20);
    ASSERT_OK(ff_buf_appends(&b, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n"));
    for (int i = 0; i < HTTP_MP_MAX_HEADERS; i++)
        ASSERT_OK(ff_buf_appendf(&b, "X-H%d: v\r\n", i));
    ASSERT_OK(ff_buf_appends(&b, "\r\nA\r\n--XyZ--"));
    ASSERT_EQ(parse(CT, b.data, b.len, 16, &p, &n), FF_EINVAL);
    ff_buf_release(&b);
    /* an oversized header line */
    ff_buf_init(&b, 1 << 20);
    ASSERT_OK(ff_buf_appends(&b, "--XyZ\r\nContent-Disposition: form-data; name=\""));
    for (int i = 0; i < HTTP_MP_MAX_HEADER_LINE; i++)
        ASSERT_OK(ff_buf_append(&b, "n", 1));
    ASSERT_OK(ff_buf_appends(&b, "\"\r\n\r\nA\r\n--XyZ--"));
    ASSERT_EQ(parse(CT, b.data, b.len, 16, &p, &n), FF_EINVAL);
    ASSERT(strstr(why, "longer than"));
    ff_buf_release(&b);
    /* a big part (2 MB) is fine and not copied */
    ff_buf_init(&b, 1 << 24);
    ASSERT_OK(ff_buf_appends(&b, "--XyZ\r\nContent-Disposition: form-data; name=big\r\n\r\n"));
    size_t start = b.len;
    for (int i = 0; i < (2 << 20) / 64; i++)
        ASSERT_OK(ff_buf_appends(&b, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789-XyZ\r\n"));
    size_t end = b.len;
    ASSERT_OK(ff_buf_appends(&b, "\r\n--XyZ--"));
    ASSERT_OK(parse(CT, b.data, b.len, 16, &p, &n));
    ASSERT_EQ(n, 1);
    ASSERT(p[0].data == b.data + start);
    ASSERT_EQ(p[0].len, end - start);
    ff_buf_release(&b);
}

TEST(nested_parts_are_opaque)
{
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"files\"\r\n"
        "Content-Type: multipart/mixed; boundary=inner\r\n"
        "\r\n"
        "--inner\r\nContent-Disposition: file; filename=\"a.txt\"\r\n\r\nAAA\r\n--inner--\r\n"
        "--XyZ--";
    struct http_part *p;
    size_t n;
    ASSERT_OK(parse_s(body, &p, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(p[0].content_type, "multipart/mixed; boundary=inner");
    ASSERT(p[0].len > 20 && !memcmp(p[0].data, "--inner", 7));
    /* a nested part using the OUTER boundary ends the outer part there */
    static const char evil[] =
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\nB\r\n--XyZ--";
    ASSERT_OK(parse_s(evil, &p, &n));
    ASSERT_EQ(n, 2);
}

/* Every prefix of a valid body is handled (an error, never a crash or a read
 * past the end: ASan checks the latter). */
TEST(every_truncation)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\nDATA\r\n--XyZ--";
    struct http_part *p;
    size_t n;
    for (size_t len = 0; len < sizeof body - 1; len++) {
        char *copy = ff_malloc(len ? len : 1); /* exact size: ASan sees overreads */
        memcpy(copy, body, len);
        enum ff_err e = parse(CT, copy, len, 16, &p, &n);
        ff_free(copy);
        if (e != FF_EINVAL)
            TEST_FAIL("prefix %zu: %s", len, ff_err_name(e));
    }
    ASSERT_OK(parse_s(body, &p, &n));
}

int main(void)
{
    a = ff_arena_new(0);
    RUN(well_formed);
    RUN(boundaries);
    RUN(malformed);
    RUN(limits);
    RUN(nested_parts_are_opaque);
    RUN(every_truncation);
    ff_arena_free(a);
    return TEST_REPORT();
}
