/* test_catalog_query.c - list parameter parsing and the cursor (no database). */
#include "catalog/catalog.h"
#include "core/alloc.h"
#include "harness.h"

#define KV(k, v) {k, sizeof(k) - 1, v, sizeof(v) - 1}

static bool has_field(json_t *errs, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (f && !strcmp(f, field))
            return true;
    }
    return false;
}

TEST(defaults)
{
    struct cat_query q;
    json_t *errs = NULL;
    ASSERT_OK(cat_query_parse(NULL, 0, &q, &errs));
    ASSERT(errs == NULL);
    ASSERT_EQ(q.limit, CAT_DEFAULT_LIMIT);
    ASSERT_EQ(q.sort, CAT_SORT_NEWEST);
    ASSERT_EQ(q.in_stock, -1);
    ASSERT_EQ(q.price.min, -1);
}

TEST(all_parameters)
{
    struct cat_kv kv[] = {
        KV("q", "ray ban"), KV("shape", "aviator,cat-eye"), KV("face_shape", "heart,rectangle"),
        KV("material", "titanium"), KV("colour", "gold"), KV("price_min", "1000"),
        KV("price_max", "20000"), KV("lens_width_min", "50"), KV("lens_width_max", "56"),
        KV("bridge_min", "14"), KV("temple_max", "150"), KV("lens_height_min", "30"),
        KV("in_stock", "true"), KV("sort", "-price"), KV("limit", "100")};
    struct cat_query q;
    json_t *errs = NULL;
    ASSERT_OK(cat_query_parse(kv, sizeof kv / sizeof kv[0], &q, &errs));
    ASSERT_STREQ(q.q, "ray ban");
    ASSERT_EQ(q.shapes, (1u << CAT_AVIATOR) | (1u << CAT_CAT_EYE));
    ASSERT_EQ(q.faces, (1u << CAT_FACE_HEART) | (1u << CAT_FACE_OBLONG));
    ASSERT_STREQ(q.material, "titanium");
    ASSERT_EQ(q.price.min, 1000);
    ASSERT_EQ(q.price.max, 20000);
    ASSERT_EQ(q.bridge.min, 14);
    ASSERT_EQ(q.bridge.max, -1);
    ASSERT_EQ(q.in_stock, 1);
    ASSERT_EQ(q.sort, CAT_SORT_PRICE_DESC);
    ASSERT_EQ(q.limit, 100);
}

TEST(bad_parameters_named)
{
    struct cat_kv kv[] = {
        KV("shape", "triangle"), KV("face_shape", "oval,,round"), KV("limit", "0"),
        KV("price_min", "-5"), KV("lens_width_min", "60"), KV("lens_width_max", "50"),
        KV("in_stock", "yes"), KV("sort", "price; DROP TABLE products"), KV("colour", "Gold"),
        KV("hack", "1"), KV("limit", "5"), KV("material", "x\x01"), KV("cursor", "!!!!")};
    struct cat_query q;
    json_t *errs = NULL;
    ASSERT_EQ(cat_query_parse(kv, sizeof kv / sizeof kv[0], &q, &errs), FF_EINVAL);
    ASSERT(errs);
    const char *want[] = {"shape", "face_shape", "limit", "price_min", "lens_width_max",
                          "in_stock", "sort", "colour", "hack", "material", "cursor"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!has_field(errs, want[i]))
            TEST_FAIL("no error for %s", want[i]);
    json_decref(errs);
}

TEST(hostile_values)
{
    char big[300];
    memset(big, 'a', sizeof big);
    struct cat_kv kv[] = {{"q", 1, big, sizeof big}};
    struct cat_query q;
    json_t *errs = NULL;
    ASSERT_EQ(cat_query_parse(kv, 1, &q, &errs), FF_EINVAL);
    json_decref(errs);
    struct cat_kv bad_utf8[] = {{"q", 1, "\xc3\x28", 2}};
    ASSERT_EQ(cat_query_parse(bad_utf8, 1, &q, &errs), FF_EINVAL);
    json_decref(errs);
    struct cat_kv nul[] = {{"q", 1, "a\0b", 3}};
    ASSERT_EQ(cat_query_parse(nul, 1, &q, &errs), FF_EINVAL);
    json_decref(errs);
    struct cat_kv huge_int[] = {KV("price_max", "99999999999999999999999")};
    ASSERT_EQ(cat_query_parse(huge_int, 1, &q, &errs), FF_EINVAL);
    json_decref(errs);
    struct cat_kv weird_key[] = {{"\x01\xff" "bad", 5, "1", 1}};
    ASSERT_EQ(cat_query_parse(weird_key, 1, &q, &errs), FF_EINVAL);
    ASSERT(has_field(errs, "??bad"));
    json_decref(errs);
    struct cat_kv many[70];
    for (int i = 0; i < 70; i++)
        many[i] = (struct cat_kv)KV("q", "x");
    ASSERT_EQ(cat_query_parse(many, 70, &q, &errs), FF_EINVAL);
    json_decref(errs);
}

TEST(empty_values_and_offset)
{
    struct cat_kv kv[] = {KV("q", ""), KV("shape", ""), KV("limit", ""), KV("offset", "40")};
    struct cat_query q;
    json_t *errs = NULL;
    ASSERT_OK(cat_query_parse(kv, 4, &q, &errs));
    ASSERT_EQ(q.shapes, 0);
    ASSERT_EQ(q.limit, CAT_DEFAULT_LIMIT);
    ASSERT_EQ(q.offset, 40);
    char *c = cat_cursor_encode(CAT_SORT_NEWEST, 5, 1, NULL);
    struct cat_kv both[] = {KV("offset", "20"), {"cursor", 6, c, strlen(c)}};
    ASSERT_EQ(cat_query_parse(both, 2, &q, &errs), FF_EINVAL);
    ASSERT(has_field(errs, "offset"));
    json_decref(errs);
    ff_free(c);
    struct cat_kv big[] = {KV("offset", "10001")};
    ASSERT_EQ(cat_query_parse(big, 1, &q, &errs), FF_EINVAL);
    json_decref(errs);
}

TEST(cursor_roundtrip_and_rejects)
{
    struct cat_query q;
    cat_query_init(&q);
    q.sort = CAT_SORT_NAME;
    char *c = cat_cursor_encode(CAT_SORT_NAME, 42, 0, "Harlow | Classic \xc3\xa9");
    ASSERT(c);
    ASSERT_OK(cat_cursor_decode(c, strlen(c), &q));
    ASSERT(q.has_after);
    ASSERT_EQ(q.after_id, 42);
    ASSERT_STREQ(q.after_text, "Harlow | Classic \xc3\xa9");
    /* the same cursor under another sort is refused */
    struct cat_query other;
    cat_query_init(&other);
    other.sort = CAT_SORT_PRICE;
    ASSERT_EQ(cat_cursor_decode(c, strlen(c), &other), FF_EINVAL);
    /* truncated */
    ASSERT_EQ(cat_cursor_decode(c, strlen(c) / 2, &q), FF_EINVAL);
    ff_free(c);
    c = cat_cursor_encode(CAT_SORT_PRICE, 7, 12345, NULL);
    ASSERT_OK(cat_cursor_decode(c, strlen(c), &other));
    ASSERT_EQ(other.after_num, 12345);
    ff_free(c);
    const char *bad[] = {"", "a", "====", "YzE", "YzF8MHwxfDE", /* c1|0|1|1 without text sep */
                         "YzF8OXwxfDF8", /* sort 9 */ "YzF8MHwwfDF8" /* id 0 */,
                         "eDF8MHwxfDF8" /* x1| */};
    cat_query_init(&q);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cat_cursor_decode(bad[i], strlen(bad[i]), &q) != FF_EINVAL)
            TEST_FAIL("accepted cursor %s", bad[i]);
    char big[1000];
    memset(big, 'A', sizeof big);
    ASSERT_EQ(cat_cursor_decode(big, sizeof big, &q), FF_EINVAL);
}

/* Every allocation failing in turn (jansson too): a clean error, no crash or
 * leak (ASan checks leaks). */
TEST(allocation_failures)
{
    json_set_alloc_funcs(ff_malloc, ff_free);
    struct cat_kv kv[] = {KV("q", "ray"), KV("shape", "round,blob"), KV("limit", "0"),
                          KV("sort", "name"), KV("hack", "1")};
    int failed = 0;
    for (long n = 1; n < 400; n++) {
        struct cat_query q;
        json_t *errs = NULL;
        ff_alloc_fail_after(n);
        enum ff_err e = cat_query_parse(kv, 5, &q, &errs);
        ff_alloc_fail_after(0);
        ASSERT(e == FF_EINVAL || e == FF_ENOMEM);
        failed += e == FF_ENOMEM;
        json_decref(errs);
        ff_alloc_fail_after(n);
        char *c = cat_cursor_encode(CAT_SORT_NAME, 3, 0, "x");
        ff_alloc_fail_after(0);
        ff_free(c);
    }
    ASSERT(failed > 0);
    json_set_alloc_funcs(malloc, free);
}

TEST(names)
{
    for (int i = 0; i < CAT_SHAPE_COUNT; i++)
        ASSERT_EQ(cat_shape_parse(cat_shape_name(i)), i);
    for (int i = 0; i < CAT_FACE_COUNT; i++)
        ASSERT_EQ(cat_face_parse(cat_face_name(i)), i);
    ASSERT_EQ(cat_shape_parse("Aviator"), -1);
    ASSERT(cat_shape_name(CAT_SHAPE_COUNT) == NULL);
    ASSERT_EQ(cat_face_parse("rectangle"), CAT_FACE_OBLONG);
}

int main(void)
{
    RUN(defaults);
    RUN(all_parameters);
    RUN(bad_parameters_named);
    RUN(hostile_values);
    RUN(empty_values_and_offset);
    RUN(cursor_roundtrip_and_rejects);
    RUN(allocation_failures);
    RUN(names);
    return TEST_REPORT();
}
