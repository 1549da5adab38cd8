/* test_catalog_cache.c - the catalog read cache: LRU bounds, refcounts,
 * epochs, and generation invalidation on the back end named by FF_TEST_DB. */
#include <pthread.h>

#include "../db/dbtest.h"
#include "catalog/catalog.h"
#include "catalog/catalog_cache.h"
#include "core/alloc.h"

static struct db *db;

static struct cat_cache *mk(size_t entries, size_t bytes)
{
    struct cat_cache *c;
    struct cat_cache_opts o = {.max_entries = entries, .max_bytes = bytes};
    if (cat_cache_new(NULL, &o, &c))
        TEST_FAIL("cat_cache_new");
    return c;
}

static void put(struct cat_cache *c, const char *k, const char *v)
{
    if (cat_cache_put(c, k, strlen(k), v, strlen(v), 7, cat_cache_epoch(c)))
        TEST_FAIL("cat_cache_put %s", k);
}

static bool has(struct cat_cache *c, const char *k)
{
    const struct cat_cache_val *v = cat_cache_get(c, k, strlen(k));
    cat_cache_release(c, v);
    return v != NULL;
}

TEST(get_put_replace)
{
    struct cat_cache *c = mk(8, 0);
    ASSERT(!has(c, "a"));
    put(c, "a", "{\"x\":1}");
    const struct cat_cache_val *v = cat_cache_get(c, "a", 1);
    ASSERT(v != NULL);
    ASSERT_EQ(v->len, 7);
    ASSERT(!memcmp(v->body, "{\"x\":1}", 7));
    ASSERT_EQ(v->version, 7);
    put(c, "a", "{\"x\":22}"); /* replaced while v is held: v stays readable */
    ASSERT(!memcmp(v->body, "{\"x\":1}", 7));
    cat_cache_release(c, v);
    v = cat_cache_get(c, "a", 1);
    ASSERT(v && v->len == 8);
    cat_cache_release(c, v);
    struct cat_cache_stats st;
    cat_cache_stats(c, &st);
    ASSERT_EQ(st.entries, 1);
    ASSERT_EQ(st.hits, 2);
    ASSERT_EQ(st.misses, 1);
    cat_cache_free(c);
}

TEST(lru_entry_bound)
{
    struct cat_cache *c = mk(4, 0);
    char k[16];
    for (int i = 0; i < 4; i++) {
        snprintf(k, sizeof k, "k%d", i);
        put(c, k, "v");
    }
    ASSERT(has(c, "k0")); /* k0 is now the most recent; k1 the oldest */
    put(c, "k4", "v");
    ASSERT(!has(c, "k1"));
    ASSERT(has(c, "k0") && has(c, "k2") && has(c, "k3") && has(c, "k4"));
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "n%d", i);
        put(c, k, "v");
    }
    struct cat_cache_stats st;
    cat_cache_stats(c, &st);
    ASSERT_EQ(st.entries, 4);
    ASSERT(has(c, "n99") && !has(c, "n95"));
    cat_cache_free(c);
}

TEST(lru_byte_bound)
{
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct cat_cache *c = mk(1000, 4000);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "b%d", i);
        put(c, k, big);
        struct cat_cache_stats st;
        cat_cache_stats(c, &st);
        ASSERT(st.bytes <= 4000);
    }
    ASSERT(has(c, "b19") && !has(c, "b0"));
    char huge[5000];
    memset(huge, 'y', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    put(c, "huge", huge); /* larger than the cap: not stored, nothing evicted */
    ASSERT(!has(c, "huge") && has(c, "b19"));
    cat_cache_free(c);
}

TEST(disabled_never_stores)
{
    struct cat_cache *c = mk(0, 0);
    ASSERT(!cat_cache_enabled(c));
    put(c, "a", "v");
    ASSERT(!has(c, "a"));
    cat_cache_free(c);
}

TEST(stale_epoch_put_is_ignored)
{
    struct cat_cache *c = mk(8, 0);
    uint64_t e = cat_cache_epoch(c);
    cat_cache_invalidate(c); /* a write landed while the reader was in the db */
    ASSERT_OK(cat_cache_put(c, "a", 1, "old", 3, 1, e));
    ASSERT(!has(c, "a"));
    put(c, "b", "v");
    const struct cat_cache_val *held = cat_cache_get(c, "b", 1);
    cat_cache_invalidate(c);
    ASSERT(!has(c, "b"));
    ASSERT(held && !memcmp(held->body, "v", 1)); /* still readable (ASan checks) */
    cat_cache_release(c, held);
    cat_cache_free(c);
}

TEST(held_entry_outlives_cache)
{
    struct cat_cache *c = mk(8, 0);
    put(c, "a", "value");
    const struct cat_cache_val *v = cat_cache_get(c, "a", 1);
    cat_cache_free(c);
    ASSERT(!memcmp(v->body, "value", 5));
    cat_cache_release(NULL, v);
}

/* ---- threads: readers, writers and invalidations at once (ASan/TSan food) ---- */

static struct cat_cache *shared;

static void *churn(void *arg)
{
    int id = (int)(intptr_t)arg;
    char k[32], body[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "k%d", (i * 7 + id) % 50);
        const struct cat_cache_val *v = cat_cache_get(shared, k, strlen(k));
        if (v) {
            if (v->len < 2 || v->body[0] != '<' || v->body[v->len - 1] != '>')
                abort();
            cat_cache_release(shared, v);
        } else {
            int n = snprintf(body, sizeof body, "<%s:%d>", k, i);
            if (cat_cache_put(shared, k, strlen(k), body, (size_t)n, i,
                              cat_cache_epoch(shared)))
                abort();
        }
        if (id == 0 && i % 500 == 0)
            cat_cache_invalidate(shared);
    }
    return NULL;
}

TEST(concurrent_readers_writers)
{
    shared = mk(32, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct cat_cache_stats st;
    cat_cache_stats(shared, &st);
    ASSERT(st.entries <= 32);
    ASSERT(st.hits > 0 && st.invalidations > 0);
    cat_cache_free(shared);
}

/* ---- the generation (migration 0003; PostgreSQL: sequence, migration 0024) ------ */

static int64_t generation(void)
{
    struct db_conn *conn;
    int64_t g = -1;
    if (db_acquire(db, &conn))
        TEST_FAIL("acquire: %s", db_errmsg());
    enum ff_err e = cat_cache_read_generation(conn, &g);
    db_release(conn);
    if (e)
        TEST_FAIL("generation: %s", db_errmsg());
    return g;
}

static void sql(const char *s)
{
    struct db_conn *conn;
    if (db_acquire(db, &conn))
        TEST_FAIL("acquire: %s", db_errmsg());
    enum ff_err e = db_exec(conn, s, NULL, 0, NULL);
    db_release(conn);
    if (e)
        TEST_FAIL("%s: %s", s, db_errmsg());
}

TEST(every_catalog_write_bumps_generation)
{
    int added = 0;
    int64_t g0 = generation();
    ASSERT_OK(cat_seed_bench(db, 3, &added));
    int64_t g1 = generation();
    ASSERT(g1 > g0);
    sql("UPDATE variants SET stock = stock + 1 WHERE id = (SELECT MIN(id) FROM variants)");
    int64_t g2 = generation();
    ASSERT(g2 > g1);
    sql("INSERT INTO product_images (product_id, url, alt, position) "
        "SELECT MIN(id), 'https://img.example/x.jpg', '', 9 FROM products");
    int64_t g3 = generation();
    ASSERT(g3 > g2);
    sql("DELETE FROM variants WHERE id = (SELECT MAX(id) FROM variants)");
    int64_t g4 = generation();
    ASSERT(g4 > g3);
    sql("UPDATE products SET name = name || '!' WHERE id = (SELECT MIN(id) FROM products)");
    ASSERT(generation() > g4);
}

/* Polls until an entry put survives a poll (other tests' transactions on the
 * same cluster may hold the horizon back for a while); bounded, no timing claim. */
static bool settles(struct cat_cache *c)
{
    for (int i = 0; i < 1000; i++) {
        put(c, "settled", "v");
        if (cat_cache_poll(c))
            return false;
        if (has(c, "settled"))
            return true;
        usleep(10000);
    }
    return false;
}

TEST(poll_drops_entries_after_foreign_write)
{
    struct cat_cache *c;
    struct cat_cache_opts o = {.max_entries = 16, .max_bytes = 0, .poll_ms = 0};
    ASSERT_OK(cat_cache_new(db, &o, &c)); /* no thread: poll by hand */
    ASSERT(settles(c));
    put(c, "a", "v");
    ASSERT_OK(cat_cache_poll(c)); /* nothing changed */
    ASSERT(has(c, "a"));
    sql("UPDATE products SET description = 'changed elsewhere' "
        "WHERE id = (SELECT MIN(id) FROM products)");
    ASSERT_OK(cat_cache_poll(c));
    ASSERT(!has(c, "a"));
    struct cat_cache_stats st;
    cat_cache_stats(c, &st);
    ASSERT_EQ(st.generation, generation());
    cat_cache_free(c);
}

/* PostgreSQL: the sequence moves before the writer commits. A fill made while
 * the writer is still open may hold pre-commit data: the poller must keep
 * dropping until the writer has ended, then drop once more, then keep. */
TEST(in_flight_writer_keeps_dropping_until_it_ends)
{
    if (db_dialect(db) != DB_PG)
        return; /* SQLite: the row moves at commit; writers are serialized */
    struct cat_cache *c;
    struct cat_cache_opts o = {.max_entries = 16, .max_bytes = 0, .poll_ms = 0};
    ASSERT_OK(cat_cache_new(db, &o, &c));
    ASSERT(settles(c));
    struct db_tx tx = DB_TX_INIT;
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(db_exec(tx.conn,
                      "UPDATE products SET description = 'in flight' "
                      "WHERE id = (SELECT MIN(id) FROM products)",
                      NULL, 0, NULL));
    ASSERT_OK(cat_cache_poll(c)); /* the bump is visible: dropped */
    ASSERT(!has(c, "settled"));
    for (int i = 0; i < 3; i++) { /* writer still open: every poll drops */
        put(c, "stale", "pre-commit");
        ASSERT_OK(cat_cache_poll(c));
        ASSERT(!has(c, "stale"));
    }
    put(c, "stale", "pre-commit");
    ASSERT_OK(db_commit(&tx));
    db_tx_release(&tx);
    ASSERT_OK(cat_cache_poll(c)); /* the writer ended: one more drop */
    ASSERT(!has(c, "stale"));
    ASSERT(settles(c));
    cat_cache_free(c);
}

TEST(poller_thread_invalidates_and_stops)
{
    struct cat_cache *c;
    struct cat_cache_opts o = {.max_entries = 16, .max_bytes = 0, .poll_ms = 10};
    ASSERT_OK(cat_cache_new(db, &o, &c));
    /* wait until the poller has read the generation once */
    struct cat_cache_stats st;
    for (int i = 0; i < 500; i++) {
        cat_cache_stats(c, &st);
        if (st.generation)
            break;
        usleep(10000);
    }
    ASSERT(st.generation > 0);
    put(c, "a", "v");
    sql("UPDATE products SET description = 'changed again' "
        "WHERE id = (SELECT MIN(id) FROM products)");
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; i++) { /* bounded wait, no timing claim */
        gone = !has(c, "a");
        if (!gone)
            usleep(10000);
    }
    ASSERT(gone);
    cat_cache_free(c); /* joins the thread */
}

int main(void)
{
    RUN(get_put_replace);
    RUN(lru_entry_bound);
    RUN(lru_byte_bound);
    RUN(disabled_never_stores);
    RUN(stale_epoch_put_is_ignored);
    RUN(held_entry_outlives_cache);
    RUN(concurrent_readers_writers);
    db = dbt_open("t_catalog_cache", 4);
    if (db_migrate(db, NULL)) {
        fprintf(stderr, "migrate: %s\n", db_errmsg());
        return 1;
    }
    RUN(every_catalog_write_bumps_generation);
    RUN(poll_drops_entries_after_foreign_write);
    RUN(in_flight_writer_keeps_dropping_until_it_ends);
    RUN(poller_thread_invalidates_and_stops);
    db_close(db);
    dbt_cleanup();
    return TEST_REPORT();
}
