#include "harness.h"

#include <stdint.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

static int cleanup_order[4], ncleanup;
static void note(void *p) { cleanup_order[ncleanup++] = (int)(intptr_t)p; }

TEST(arena_basics)
{
    size_t before = ff_alloc_used();
    struct ff_arena *a = ff_arena_new(256);
    ASSERT(a);
    char *s = ff_arena_strdup(a, "frame");
    ASSERT_STREQ(s, "frame");
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = ff_arena_alloc(a, (size_t)i % 37 + 1);
        ASSERT(p);
        ASSERT_EQ((uintptr_t)p % 16, 0);
        p[(size_t)i % 37] = 0xAB;
    }
    void *big = ff_arena_alloc(a, 100000); /* its own chunk */
    ASSERT(big);
    memset(big, 1, 100000);
    ASSERT_STREQ(ff_arena_sprintf(a, "%d-%s", 42, "x"), "42-x");
    ASSERT(ff_arena_alloc(a, SIZE_MAX) == NULL);
    ASSERT(ff_arena_calloc(a, SIZE_MAX / 2, 4) == NULL);
    ncleanup = 0;
    ASSERT_OK(ff_arena_on_release(a, note, (void *)1));
    ASSERT_OK(ff_arena_on_release(a, note, (void *)2));
    ff_arena_free(a);
    ASSERT_EQ(ncleanup, 2);
    ASSERT_EQ(cleanup_order[0], 2); /* reverse order */
    ASSERT_EQ(cleanup_order[1], 1);
    ASSERT_EQ(ff_alloc_used(), before);
    ff_arena_free(NULL);
}

TEST(arena_oom)
{
    for (long n = 1; n < 6; n++) {
        size_t before = ff_alloc_used();
        struct ff_arena *a = ff_arena_new(64);
        if (!a)
            continue;
        ff_alloc_fail_after(n);
        for (int i = 0; i < 20; i++)
            (void)ff_arena_alloc(a, 48);
        ff_alloc_fail_after(0);
        ff_arena_free(a);
        ASSERT_EQ(ff_alloc_used(), before);
    }
}

TEST(buf_capped)
{
    struct ff_buf b;
    ff_buf_init(&b, 10);
    ASSERT_OK(ff_buf_append(&b, "hello", 5));
    ASSERT_OK(ff_buf_appendf(&b, "%d", 12345));
    ASSERT_EQ(b.len, 10);
    ASSERT_STREQ(b.data, "hello12345");
    ASSERT_EQ(ff_buf_append(&b, "x", 1), FF_ETOOBIG);
    ASSERT_EQ(ff_buf_append(&b, "x", SIZE_MAX), FF_ETOOBIG);
    ASSERT_STREQ(b.data, "hello12345"); /* unchanged */
    ff_buf_reset(&b);
    ASSERT_EQ(b.len, 0);
    ASSERT_OK(ff_buf_appends(&b, "ok"));
    size_t n;
    char *d = ff_buf_steal(&b, &n);
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(d, "ok");
    ff_free(d);
    ff_buf_init(&b, 1 << 20);
    ASSERT_EQ(ff_buf_appendf(&b, "%0500d", 7), FF_OK); /* longer than the stack buffer */
    ASSERT_EQ(b.len, 500);
    ff_alloc_fail_after(1);
    ASSERT_EQ(ff_buf_appendf(&b, "%01000d", 7), FF_ENOMEM);
    ff_alloc_fail_after(0);
    ASSERT_EQ(b.len, 500);
    ff_buf_release(&b);
}

TEST(parse_i64_strict)
{
    int64_t v;
    ASSERT_OK(ff_parse_i64(ff_str_c("42"), 0, 100, &v));
    ASSERT_EQ(v, 42);
    ASSERT_OK(ff_parse_i64(ff_str_c("-9223372036854775808"), INT64_MIN, INT64_MAX, &v));
    ASSERT(v == INT64_MIN);
    ASSERT_OK(ff_parse_i64(ff_str_c("9223372036854775807"), INT64_MIN, INT64_MAX, &v));
    const char *bad[] = {"", "-", "+1", " 1", "1 ", "0x10", "1e3", "9223372036854775808",
                         "-9223372036854775809", "99999999999999999999", "1.0", "101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ff_parse_i64(ff_str_c(bad[i]), INT64_MIN, 100, &v) == FF_OK)
            TEST_FAIL("accepted \"%s\"", bad[i]);
}

TEST(utf8)
{
    ASSERT(ff_utf8_valid("plain", 5));
    ASSERT(ff_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    ASSERT(!ff_utf8_valid("a\0b", 3));
    ASSERT(!ff_utf8_valid("\xc0\xaf", 2));         /* overlong */
    ASSERT(!ff_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    ASSERT(!ff_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ASSERT(!ff_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    ASSERT(!ff_utf8_valid("\xc3", 1));             /* truncated */
    ASSERT(!ff_utf8_valid("\xff", 1));
}

TEST(json_escape_and_url_decode)
{
    char out[32];
    ff_json_escape(out, sizeof out, "a\"b\\c\n\x01", (size_t)-1);
    ASSERT_STREQ(out, "a\\\"b\\\\c\\n\\u0001");
    /* truncation never cuts a UTF-8 sequence or an escape */
    ff_json_escape(out, 4, "ab\xc3\xa9", (size_t)-1);
    ASSERT_STREQ(out, "ab");
    ff_json_escape(out, 4, "a\"bc", (size_t)-1);
    ASSERT_STREQ(out, "a\\\"");
    char d[32];
    size_t n;
    ASSERT_OK(ff_url_decode("a%20b+c%2F", 10, d, &n, true));
    ASSERT_EQ(n, 6);
    ASSERT(!memcmp(d, "a b c/", 6));
    ASSERT_EQ(ff_url_decode("%zz", 3, d, &n, true), FF_EINVAL);
    ASSERT_EQ(ff_url_decode("%2", 2, d, &n, true), FF_EINVAL);
    ASSERT_EQ(ff_url_decode("%00", 3, d, &n, true), FF_EINVAL);
    ASSERT_OK(ff_url_decode("a+b", 3, d, &n, false));
    ASSERT(!memcmp(d, "a+b", 3));
}

int main(void)
{
    RUN(arena_basics);
    RUN(arena_oom);
    RUN(buf_capped);
    RUN(parse_i64_strict);
    RUN(utf8);
    RUN(json_escape_and_url_decode);
    return TEST_REPORT();
}
