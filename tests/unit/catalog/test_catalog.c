/* test_catalog.c - the catalog service on the back end named by FF_TEST_DB. */
#include "../db/dbtest.h"
#include "catalog/catalog.h"
#include "core/alloc.h"

static struct db *db;

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

static json_t *list(struct cat_query *q)
{
    json_t *out = NULL;
    enum ff_err e = cat_list(db, q, &out);
    if (e)
        TEST_FAIL("cat_list: %s %s", ff_err_name(e), db_errmsg());
    return out;
}

/* Walks every page; calls check on each item; returns the item count. */
static int walk(struct cat_query q, void (*check)(json_t *item, json_t *prev))
{
    int n = 0, pages = 0;
    json_t *prev = NULL;
    for (;;) {
        json_t *page = list(&q);
        json_t *items = json_object_get(page, "items");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            if (check)
                check(it, prev);
            json_decref(prev);
            prev = json_incref(it);
            n++;
        }
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        ASSERT(json_array_size(items) <= (size_t)q.limit);
        if (!next) {
            json_decref(page);
            break;
        }
        ASSERT_EQ(json_array_size(items), q.limit);
        ASSERT_OK(cat_cursor_decode(next, strlen(next), &q));
        json_decref(page);
        ASSERT(++pages < 1000);
    }
    json_decref(prev);
    return n;
}

static json_int_t jint(json_t *o, const char *path)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", path);
    char *dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        o = json_object_get(o, buf);
        return json_integer_value(json_object_get(o, dot + 1));
    }
    return json_integer_value(json_object_get(o, buf));
}

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

TEST(seed_idempotent)
{
    int added = -1;
    ASSERT_OK(cat_seed_demo(db, 320, &added));
    ASSERT_EQ(added, 320);
    ASSERT_OK(cat_seed_demo(db, 320, &added));
    ASSERT_EQ(added, 0);
}

static int64_t seen_ids[4000];
static int nseen;
static void no_repeat(json_t *it, json_t *prev)
{
    int64_t id = jint(it, "id");
    for (int i = 0; i < nseen; i++)
        if (seen_ids[i] == id)
            TEST_FAIL("id %lld twice", (long long)id);
    seen_ids[nseen++] = id;
    if (prev && strcmp(jstr(prev, "created_at"), jstr(it, "created_at")) < 0)
        TEST_FAIL("not newest first");
}

TEST(paginate_everything_once)
{
    struct cat_query q;
    cat_query_init(&q);
    q.limit = 17;
    nseen = 0;
    ASSERT_EQ(walk(q, no_repeat), 320);
}

static void is_aviator(json_t *it, json_t *prev) { ASSERT_STREQ(jstr(it, "shape"), "aviator"); }
static void price_up(json_t *it, json_t *prev)
{
    if (prev)
        ASSERT(jint(prev, "price.amount_cents") <= jint(it, "price.amount_cents"));
}
static void price_down(json_t *it, json_t *prev)
{
    if (prev)
        ASSERT(jint(prev, "price.amount_cents") >= jint(it, "price.amount_cents"));
}
static void name_up(json_t *it, json_t *prev)
{
    if (prev)
        ASSERT(strcmp(jstr(prev, "name"), jstr(it, "name")) <= 0);
}
static void suits_heart(json_t *it, json_t *prev)
{
    json_t *faces = json_object_get(it, "suits_face_shapes");
    size_t i;
    json_t *f;
    bool found = false;
    json_array_foreach(faces, i, f) found |= !strcmp(json_string_value(f), "heart");
    ASSERT(found);
}
static void narrow(json_t *it, json_t *prev)
{
    int64_t p = jint(it, "price.amount_cents"), w = jint(it, "measurements.lens_width_mm");
    ASSERT(p >= 15000 && p <= 20000);
    ASSERT(w >= 50 && w <= 54);
    ASSERT(json_is_true(json_object_get(it, "in_stock")));
    ASSERT_STREQ(jstr(it, "material"), "acetate");
}
static void out_of_stock(json_t *it, json_t *prev)
{
    ASSERT(json_is_false(json_object_get(it, "in_stock")));
}

TEST(filters_and_sorts)
{
    struct cat_query q;
    cat_query_init(&q);
    q.limit = 50;
    q.shapes = 1u << CAT_AVIATOR;
    int n = walk(q, is_aviator);
    ASSERT(n >= 30 && n <= 40);
    for (int s = 0; s < CAT_SHAPE_COUNT; s++) { /* every shape is seeded */
        cat_query_init(&q);
        q.shapes = 1u << s;
        ASSERT(walk(q, NULL) > 0);
    }
    cat_query_init(&q);
    q.sort = CAT_SORT_PRICE;
    q.limit = 33;
    ASSERT_EQ(walk(q, price_up), 320);
    q.sort = CAT_SORT_PRICE_DESC;
    ASSERT_EQ(walk(q, price_down), 320);
    q.sort = CAT_SORT_NAME;
    ASSERT_EQ(walk(q, name_up), 320);
    cat_query_init(&q);
    q.faces = 1u << CAT_FACE_HEART;
    n = walk(q, suits_heart);
    ASSERT(n > 0 && n < 320);
    cat_query_init(&q);
    q.price = (struct cat_range){15000, 20000};
    q.lens_width = (struct cat_range){50, 54};
    q.in_stock = 1;
    snprintf(q.material, sizeof q.material, "acetate");
    n = walk(q, narrow);
    ASSERT(n > 0);
    cat_query_init(&q);
    q.in_stock = 0;
    n = walk(q, out_of_stock);
    ASSERT(n > 0 && n < 320);
    /* colour matches the frame colour or any variant's */
    cat_query_init(&q);
    snprintf(q.colour, sizeof q.colour, "honey");
    n = walk(q, NULL);
    ASSERT(n > 0);
    cat_query_init(&q);
    snprintf(q.colour, sizeof q.colour, "no-such-colour");
    ASSERT_EQ(walk(q, NULL), 0);
}

static void named_harlow(json_t *it, json_t *prev)
{
    ASSERT(strstr(jstr(it, "name"), "Harlow"));
}

TEST(offset_matches_cursor)
{
    struct cat_query q;
    cat_query_init(&q);
    q.limit = 7;
    json_t *p1 = list(&q);
    const char *next = json_string_value(json_object_get(p1, "next_cursor"));
    ASSERT_OK(cat_cursor_decode(next, strlen(next), &q));
    json_t *p2 = list(&q);
    cat_query_init(&q);
    q.limit = 7;
    q.offset = 7;
    json_t *p2b = list(&q);
    ASSERT(json_equal(json_object_get(p2, "items"), json_object_get(p2b, "items")));
    json_decref(p1);
    json_decref(p2);
    json_decref(p2b);
}

TEST(full_text_search)
{
    struct cat_query q;
    cat_query_init(&q);
    snprintf(q.q, sizeof q.q, "harlow");
    int n = walk(q, named_harlow);
    ASSERT(n >= 10);
    snprintf(q.q, sizeof q.q, "Harl"); /* prefix */
    ASSERT_EQ(walk(q, named_harlow), n);
    snprintf(q.q, sizeof q.q, "harlow ray-ban"); /* name AND brand */
    int both = walk(q, named_harlow);
    ASSERT(both > 0 && both < n);
    snprintf(q.q, sizeof q.q, "teardrop"); /* description */
    ASSERT(walk(q, NULL) > 0);
    snprintf(q.q, sizeof q.q, "\"); DROP TABLE products; --");
    walk(q, NULL);
    snprintf(q.q, sizeof q.q, "!!! *** ^^^");
    ASSERT_EQ(walk(q, NULL), 0);
    snprintf(q.q, sizeof q.q, "zzzzqqq");
    ASSERT_EQ(walk(q, NULL), 0);
    if (db_dialect(db) == DB_PG) { /* trigram: typos still match */
        snprintf(q.q, sizeof q.q, "harlowe");
        ASSERT(walk(q, NULL) > 0);
    }
    cat_query_init(&q);
    ASSERT_EQ(walk(q, NULL), 320); /* the table is intact */
}

static json_t *valid_body(const char *slug, const char *sku)
{
    json_t *b = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i}, s:[s, s],"
        " s:[{s:s, s:s, s:s, s:i, s:i, s:s}], s:[{s:s, s:s}]}",
        "name", "Test O'Frame \"); DROP TABLE products; --", "brand", "Testbrand",
        "description", "line one\nline two", "shape", "round", "material", "titanium", "colour",
        "black", "measurements", "lens_width_mm", 49, "bridge_mm", 20, "temple_mm", 145,
        "lens_height_mm", 44, "suits_face_shapes", "square", "rectangle", "variants", "sku", sku,
        "colour", "black", "size", "M", "stock", 3, "price_cents", 12900, "currency", "EUR",
        "images", "url", "https://cdn.example/a.jpg", "alt", "front");
    if (slug)
        json_object_set_new(b, "slug", json_string(slug));
    return b;
}

TEST(create_get_update_delete)
{
    json_t *body = valid_body(NULL, "T-1"), *p = NULL, *errs = NULL;
    enum ff_err e = cat_create(db, body, &p, &errs);
    if (e)
        TEST_FAIL("create: %s %s %s", ff_err_name(e), db_errmsg(),
                  errs ? json_dumps(errs, 0) : "");
    ASSERT_EQ(jint(p, "version"), 1);
    ASSERT_STREQ(jstr(p, "slug"), "testbrand-test-o-frame-drop-table-products");
    ASSERT_STREQ(jstr(p, "name"), "Test O'Frame \"); DROP TABLE products; --");
    int64_t id = jint(p, "id");
    json_t *faces = json_object_get(p, "suits_face_shapes");
    ASSERT_EQ(json_array_size(faces), 2);
    ASSERT_STREQ(json_string_value(json_array_get(faces, 1)), "oblong");
    json_decref(p);

    json_t *g = NULL;
    ASSERT_OK(cat_get(db, id, &g));
    ASSERT_EQ(jint(g, "price.amount_cents"), 12900);
    ASSERT_STREQ(jstr(g, "description"), "line one\nline two");
    ASSERT_EQ(json_array_size(json_object_get(g, "images")), 1);
    json_decref(g);
    ASSERT_OK(cat_get_slug(db, "testbrand-test-o-frame-drop-table-products", &g));
    ASSERT_EQ(jint(g, "id"), id);
    json_decref(g);
    ASSERT_EQ(cat_get_slug(db, "nope", &g), FF_ENOTFOUND);
    ASSERT_EQ(cat_get_slug(db, "Bad Slug'", &g), FF_ENOTFOUND);
    ASSERT_EQ(cat_get(db, 999999, &g), FF_ENOTFOUND);

    /* same slug again: conflict naming slug; same sku: naming variants */
    ASSERT_EQ(cat_create(db, body, &p, &errs), FF_ECONFLICT);
    ASSERT(has_field(errs, "slug"));
    json_decref(errs);
    json_decref(body);
    body = valid_body("another-slug", "T-1");
    ASSERT_EQ(cat_create(db, body, &p, &errs), FF_ECONFLICT);
    ASSERT(has_field(errs, "variants"));
    json_decref(errs);
    json_decref(body);

    /* partial update: name only; variants replaced by SKU */
    json_t *patch = json_pack("{s:s}", "name", "Renamed");
    ASSERT_OK(cat_update(db, id, 1, patch, &p, &errs));
    ASSERT_EQ(jint(p, "version"), 2);
    ASSERT_STREQ(jstr(p, "name"), "Renamed");
    ASSERT_STREQ(jstr(p, "brand"), "Testbrand");
    ASSERT_EQ(jint(p, "measurements.temple_mm"), 145);
    json_decref(p);
    /* stale version */
    ASSERT_EQ(cat_update(db, id, 1, patch, &p, &errs), FF_ECONFLICT);
    ASSERT(p == NULL);
    json_decref(patch);
    patch = json_pack("{s:[{s:s, s:s, s:s, s:i, s:i}, {s:s, s:s, s:s, s:i, s:i}]}", "variants",
                      "sku", "T-2", "colour", "gold", "size", "L", "stock", 0, "price_cents",
                      9900, "sku", "T-1", "colour", "black", "size", "M", "stock", 0,
                      "price_cents", 14900);
    ASSERT_OK(cat_update(db, id, 2, patch, &p, &errs));
    json_t *vs = json_object_get(p, "variants");
    ASSERT_EQ(json_array_size(vs), 2);
    ASSERT_EQ(jint(p, "price.amount_cents"), 9900);
    ASSERT(json_is_false(json_object_get(p, "in_stock")));
    json_decref(p);
    json_decref(patch);
    /* invalid update changes nothing */
    patch = json_pack("{s:s, s:i}", "shape", "triangle", "version", 9);
    ASSERT_EQ(cat_update(db, id, 3, patch, &p, &errs), FF_EINVAL);
    ASSERT(has_field(errs, "shape") && has_field(errs, "version"));
    json_decref(errs);
    json_decref(patch);
    ASSERT_OK(cat_get(db, id, &g));
    ASSERT_EQ(jint(g, "version"), 3);
    ASSERT_STREQ(jstr(g, "shape"), "round");
    json_decref(g);

    ASSERT_EQ(cat_delete(db, id, 2), FF_ECONFLICT);
    ASSERT_OK(cat_delete(db, id, 3));
    ASSERT_EQ(cat_get(db, id, &g), FF_ENOTFOUND);
    ASSERT_EQ(cat_delete(db, id, -1), FF_ENOTFOUND);
    ASSERT_EQ(cat_update(db, id, 4, patch, &p, &errs), FF_ENOTFOUND);
}

TEST(validation_names_every_field)
{
    json_t *body = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:{s:i, s:i, s:s, s:i}, s:[s], s:[{s:s, s:s, s:s, s:i,"
        " s:i, s:s}, {s:s}], s:[{s:s}], s:s, s:b}",
        "name", "", "brand", 7, "shape", "triangle", "material", "Ti!", "colour", "black",
        "measurements", "lens_width_mm", 99, "bridge_mm", 5, "temple_mm", "long", "nose", 1,
        "suits_face_shapes", "pear", "variants", "sku", " bad sku", "colour", "black", "size",
        "M", "stock", -1, "price_cents", -5, "currency", "euro", "sku", "X", "images", "url",
        "javascript:alert(1)", "slug", "Bad Slug", "hack", 1);
    json_t *p = NULL, *errs = NULL;
    ASSERT_EQ(cat_create(db, body, &p, &errs), FF_EINVAL);
    ASSERT(p == NULL);
    const char *want[] = {"name", "brand", "shape", "material", "measurements.lens_width_mm",
                          "measurements.bridge_mm", "measurements.temple_mm",
                          "measurements.lens_height_mm", "measurements.nose",
                          "suits_face_shapes[0]", "variants[0].sku", "variants[0].stock",
                          "variants[0].price_cents", "variants[0].currency",
                          "variants[1].colour", "images[0].url", "slug", "hack"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!has_field(errs, want[i]))
            TEST_FAIL("no error for %s in %s", want[i], json_dumps(errs, 0));
    json_decref(errs);
    json_decref(body);
    /* not an object; control characters; too long */
    body = json_array();
    ASSERT_EQ(cat_create(db, body, &p, &errs), FF_EINVAL);
    json_decref(errs);
    json_decref(body);
    body = valid_body("ok-slug", "T-9");
    json_object_set_new(body, "name", json_string("bell\a"));
    char longtext[5000];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    json_object_set_new(body, "description", json_string(longtext));
    ASSERT_EQ(cat_create(db, body, &p, &errs), FF_EINVAL);
    ASSERT(has_field(errs, "name") && has_field(errs, "description"));
    json_decref(errs);
    json_decref(body);
    /* no variants */
    body = valid_body("ok-slug", "T-9");
    json_object_set_new(body, "variants", json_array());
    ASSERT_EQ(cat_create(db, body, &p, &errs), FF_EINVAL);
    ASSERT(has_field(errs, "variants"));
    json_decref(errs);
    json_decref(body);
}

TEST(empty_alt_roundtrips)
{
    /* found by fuzz_catalog_body: an image without alt text came back as
     * "alt": "" and that output did not validate as input */
    json_t *body = valid_body("alt-less", "T-ALT"), *p = NULL, *errs = NULL;
    json_object_set_new(json_array_get(json_object_get(body, "images"), 0), "alt",
                        json_string(""));
    ASSERT_OK(cat_create(db, body, &p, &errs));
    json_t *patch = json_pack("{s:O}", "images", json_object_get(p, "images"));
    json_t *q = NULL;
    ASSERT_OK(cat_update(db, json_integer_value(json_object_get(p, "id")), 1, patch, &q, &errs));
    json_decref(q);
    json_decref(patch);
    json_decref(p);
    json_decref(body);
}

/* Every allocation failing in turn: clean errors, nothing half-written, no
 * leak (ASan), and the pool intact afterwards. */
TEST(allocation_failures)
{
    json_set_alloc_funcs(ff_malloc, ff_free);
    struct cat_query q;
    cat_query_init(&q);
    snprintf(q.q, sizeof q.q, "harlow");
    q.limit = 5;
    int created = 0;
    for (long n = 1; n < 300; n++) {
        char *text = NULL;
        size_t len;
        ff_alloc_fail_after(n);
        enum ff_err e = cat_get_text(db, 1, NULL, &text, &len, NULL);
        ff_alloc_fail_after(0);
        ASSERT(e == FF_OK || e == FF_ENOMEM);
        ff_free(text);
        text = NULL;
        ff_alloc_fail_after(n);
        e = cat_list_text(db, &q, &text, &len);
        ff_alloc_fail_after(0);
        ASSERT(e == FF_OK || e == FF_ENOMEM);
        ff_free(text);
        char slug[32], sku[32];
        snprintf(slug, sizeof slug, "oom-%ld", n);
        snprintf(sku, sizeof sku, "OOM-%ld", n);
        json_t *body = valid_body(slug, sku), *p = NULL, *errs = NULL;
        ff_alloc_fail_after(n);
        e = cat_create(db, body, &p, &errs);
        ff_alloc_fail_after(0);
        ASSERT(e == FF_OK || e == FF_ENOMEM || e == FF_EINVAL);
        created += e == FF_OK;
        json_t *g = NULL;
        if (e == FF_OK) { /* a success is whole */
            ASSERT_OK(cat_get_slug(db, slug, &g));
            ASSERT_EQ(json_array_size(json_object_get(g, "variants")), 1);
        } else { /* a failure left nothing behind */
            ASSERT_EQ(cat_get_slug(db, slug, &g), FF_ENOTFOUND);
        }
        json_decref(g);
        json_decref(p);
        json_decref(errs);
        json_decref(body);
    }
    ASSERT(created > 0);
    struct db_pool_stats st;
    db_pool_stats(db, &st);
    ASSERT_EQ(st.in_use, 0);
    json_set_alloc_funcs(malloc, free);
}

TEST(bench_seed_matches_peer)
{
    int added = 0;
    ASSERT_OK(cat_seed_bench(db, 50, &added));
    ASSERT_EQ(added, 50);
    ASSERT_OK(cat_seed_bench(db, 50, &added));
    ASSERT_EQ(added, 0);
    struct cat_query q;
    cat_query_init(&q);
    snprintf(q.q, sizeof q.q, "Clubmaster");
    ASSERT_EQ(walk(q, NULL), 5); /* i % 10 == 2 among 1..50 */
}

int main(void)
{
    db = dbt_open("t_catalog", 4);
    if (db_migrate(db, NULL)) {
        fprintf(stderr, "migrate: %s\n", db_errmsg());
        return 1;
    }
    RUN(seed_idempotent);
    RUN(paginate_everything_once);
    RUN(filters_and_sorts);
    RUN(offset_matches_cursor);
    RUN(full_text_search);
    RUN(create_get_update_delete);
    RUN(validation_names_every_field);
    RUN(empty_alt_roundtrips);
    RUN(allocation_failures);
    RUN(bench_seed_matches_peer);
    db_close(db);
    dbt_cleanup();
    return TEST_REPORT();
}
