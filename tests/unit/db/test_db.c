/* test_db.c - the storage facade on the back end named by FF_TEST_DB. */
#include <pthread.h>
#include <unistd.h>

#include "dbtest.h"

static struct db *db;

#define P(...) ((struct db_param[]){__VA_ARGS__})

static void make_table(void)
{
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "DROP TABLE IF EXISTS kv", NULL, 0, NULL));
    ASSERT_OK(db_exec(c, "CREATE TABLE kv (id BIGINT PRIMARY KEY, name TEXT UNIQUE,"
                         " n BIGINT, f DOUBLE PRECISION)", NULL, 0, NULL));
    db_release(c);
}

TEST(bad_urls)
{
    struct db *x = NULL;
    struct db_opts o = {.url = "ftp://example.com/x"};
    ASSERT_EQ(db_open(&o, &x), FF_EINVAL);
    ASSERT(x == NULL);
    ASSERT(strstr(db_errmsg(), "sqlite://"));
    o.url = "sqlite://";
    ASSERT_EQ(db_open(&o, &x), FF_EINVAL);
    o.url = "sqlite:///nonexistent-dir/sub/x.db"; /* only one missing level is made */
    ASSERT_EQ(db_open(&o, &x), FF_EIO);
    o.url = "sqlite:///dev/null/x.db";
    ASSERT(db_open(&o, &x) != FF_OK);
    o.url = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2";
    ASSERT_EQ(db_open(&o, &x), FF_EDB);
    ASSERT(strstr(db_errmsg(), "PostgreSQL"));
}

TEST(migrate_fresh_then_noop)
{
    struct db_migrate_report r;
    int v = -1;
    ASSERT_OK(db_schema_version(db, &v));
    ASSERT_EQ(v, 0);
    ASSERT_OK(db_migrate(db, &r));
    ASSERT_EQ(r.from_version, 0);
    ASSERT(r.applied >= 1);
    ASSERT_EQ(r.to_version, db_schema_latest(db));
    ASSERT_OK(db_migrate(db, &r));
    ASSERT_EQ(r.applied, 0);
    ASSERT_EQ(r.from_version, r.to_version);
}

TEST(typed_params_roundtrip)
{
    make_table();
    struct db_conn *c;
    struct db_rows *r;
    bool has;
    int64_t n = 0;
    const char *hostile = "x'); DROP TABLE kv; -- \"$1 ?1 \xc3\xa9";
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "INSERT INTO kv (id, name, n, f) VALUES ($1, $2, $3, $4)",
                      P(DB_I64(1), DB_TEXT(hostile), DB_I64(INT64_MIN), DB_F64(2.5)), 4, &n));
    ASSERT_EQ(n, 1);
    ASSERT_OK(db_exec(c, "INSERT INTO kv (id, name, n, f) VALUES ($1, $2, $3, $4)",
                      P(DB_I64(2), DB_NULL, DB_NULL, DB_NULL), 4, NULL));
    ASSERT_OK(db_query(c, "SELECT id, name, n, f FROM kv WHERE id >= $1 ORDER BY id",
                       P(DB_I64(1)), 1, &r));
    ASSERT_EQ(db_ncols(r), 4);
    ASSERT_OK(db_next(r, &has));
    ASSERT(has);
    size_t len;
    ASSERT_EQ(db_col_i64(r, 0), 1);
    ASSERT_STREQ(db_col_text(r, 1, &len), hostile);
    ASSERT_EQ(len, strlen(hostile));
    ASSERT(db_col_i64(r, 2) == INT64_MIN);
    ASSERT_NEAR(db_col_f64(r, 3), 2.5, 1e-9);
    ASSERT(!db_col_null(r, 1));
    ASSERT_OK(db_next(r, &has));
    ASSERT(has);
    ASSERT(db_col_null(r, 1) && db_col_null(r, 2));
    ASSERT(db_col_text(r, 1, NULL) == NULL);
    ASSERT_EQ(db_col_i64(r, 2), 0);
    ASSERT(db_col_null(r, 9)); /* out of range reads as NULL */
    ASSERT_OK(db_next(r, &has));
    ASSERT(!has);
    /* a second query on the same connection while rows are open is refused */
    ASSERT_EQ(db_exec(c, "SELECT 1", NULL, 0, NULL), FF_EINTERNAL);
    db_rows_free(r);
    /* the table survived the hostile text */
    ASSERT_OK(db_query_i64(c, "SELECT count(*) FROM kv", NULL, 0, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(db_query_i64(c, "SELECT id FROM kv WHERE id = $1", P(DB_I64(99)), 1, &n),
              FF_ENOTFOUND);
    /* a NUL byte inside text: PostgreSQL cannot store it, SQLite can */
    enum ff_err e = db_exec(c, "INSERT INTO kv (id, name) VALUES ($1, $2)",
                            P(DB_I64(3), DB_TEXTN("a\0b", 3)), 2, NULL);
    ASSERT_EQ(e, db_dialect(db) == DB_PG ? FF_EINVAL : FF_OK);
    /* wrong parameter counts */
    ASSERT_EQ(db_exec(c, "SELECT $1, $2", P(DB_I64(1)), 1, NULL),
              db_dialect(db) == DB_PG ? FF_EDB : FF_EINVAL);
    ASSERT_EQ(db_exec(c, "SELECT 1", NULL, DB_MAX_PARAMS + 1, NULL), FF_EINVAL);
    ASSERT_EQ(db_exec(c, "SELEC nonsense", NULL, 0, NULL), FF_EDB);
    ASSERT(*db_errmsg());
    db_release(c);
}

TEST(unique_violation_is_conflict)
{
    make_table();
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "INSERT INTO kv (id, name) VALUES ($1, $2)",
                      P(DB_I64(1), DB_TEXT("a")), 2, NULL));
    ASSERT_EQ(db_exec(c, "INSERT INTO kv (id, name) VALUES ($1, $2)",
                      P(DB_I64(2), DB_TEXT("a")), 2, NULL),
              FF_ECONFLICT);
    db_release(c);
}

static int64_t count_kv(void)
{
    struct db_conn *c;
    int64_t n = -1;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_query_i64(c, "SELECT count(*) FROM kv", NULL, 0, &n));
    db_release(c);
    return n;
}

TEST(tx_rollback_unless_committed)
{
    make_table();
    struct db_tx tx = DB_TX_INIT;
    db_tx_release(&tx); /* safe on an unused tx */
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(db_exec(tx.conn, "INSERT INTO kv (id) VALUES ($1)", P(DB_I64(1)), 1, NULL));
    db_tx_release(&tx);
    db_tx_release(&tx); /* idempotent */
    ASSERT_EQ(count_kv(), 0);

    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(db_exec(tx.conn, "INSERT INTO kv (id) VALUES ($1)", P(DB_I64(1)), 1, NULL));
    ASSERT_OK(db_commit(&tx));
    db_tx_release(&tx);
    ASSERT_EQ(count_kv(), 1);
    ASSERT_EQ(db_commit(&tx), FF_EINTERNAL);

    /* a failed statement inside: the whole transaction goes */
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(db_exec(tx.conn, "INSERT INTO kv (id) VALUES ($1)", P(DB_I64(2)), 1, NULL));
    ASSERT_EQ(db_exec(tx.conn, "INSERT INTO kv (id) VALUES ($1)", P(DB_I64(1)), 1, NULL),
              FF_ECONFLICT);
    db_tx_release(&tx);
    ASSERT_EQ(count_kv(), 1);

    struct db_pool_stats st;
    db_pool_stats(db, &st);
    ASSERT_EQ(st.in_use, 0);
}

struct worker { int rounds; int failed; };

static void *bump(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->rounds; i++) {
        struct db_tx tx = DB_TX_INIT;
        enum ff_err e = db_begin(db, &tx);
        if (!e)
            e = db_exec(tx.conn, "UPDATE kv SET n = n + 1 WHERE id = 1", NULL, 0, NULL);
        if (!e)
            e = db_commit(&tx);
        db_tx_release(&tx);
        if (e) {
            fprintf(stderr, "bump: %s\n", db_errmsg());
            w->failed++;
        }
    }
    return NULL;
}

TEST(pool_threads_serialize_writes)
{
    make_table();
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "INSERT INTO kv (id, n) VALUES (1, 0)", NULL, 0, NULL));
    db_release(c);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.rounds = 40};
        ASSERT_OK(pthread_create(&t[i], NULL, bump, &w[i]));
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(w[i].failed, 0);
    }
    int64_t n = 0;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_query_i64(c, "SELECT n FROM kv WHERE id = 1", NULL, 0, &n));
    db_release(c);
    ASSERT_EQ(n, 160);
    struct db_pool_stats st;
    db_pool_stats(db, &st);
    ASSERT(st.open <= st.size);
    ASSERT_EQ(st.size, 2);
    ASSERT_EQ(st.in_use, 0);
}

TEST(pool_bound_and_timeout)
{
    struct db *small;
    struct db_opts o = {.url = dbt_url, .pool_size = 2, .acquire_timeout_ms = 50};
    ASSERT_OK(db_open(&o, &small));
    struct db_conn *a, *b, *x = NULL;
    ASSERT_OK(db_acquire(small, &a));
    ASSERT_OK(db_acquire(small, &b));
    struct db_pool_stats st;
    db_pool_stats(small, &st);
    ASSERT_EQ(st.in_use, 2);
    ASSERT_EQ(st.open, 2);
    ASSERT_EQ(db_acquire(small, &x), FF_ETIMEOUT);
    ASSERT(x == NULL);
    db_pool_stats(small, &st);
    ASSERT_EQ(st.waits, 1);
    ASSERT_EQ(st.timeouts, 1);
    db_release(b);
    ASSERT_OK(db_acquire(small, &x));
    ASSERT(x == b); /* reused, not reopened */
    db_release(x);
    db_release(a);
    db_release(NULL);
    db_pool_stats(small, &st);
    ASSERT_EQ(st.in_use, 0);
    ASSERT_OK(db_ping(small));
    db_close(small);
}

TEST(refuses_newer_schema_and_edited_migration)
{
    struct db_conn *c;
    ASSERT_OK(db_migrate(db, NULL));
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                         " VALUES (9999, '9999_future', 'x', 0)", NULL, 0, NULL));
    db_release(c);
    ASSERT_EQ(db_migrate(db, NULL), FF_ECONFLICT);
    ASSERT(strstr(db_errmsg(), "newer"));
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "DELETE FROM schema_migrations WHERE version = 9999", NULL, 0, NULL));
    ASSERT_OK(db_exec(c, "UPDATE schema_migrations SET checksum = 'fnv1a64:0' WHERE version = 1",
                      NULL, 0, NULL));
    db_release(c);
    ASSERT_EQ(db_migrate(db, NULL), FF_ECORRUPT);
    ASSERT(strstr(db_errmsg(), "changed"));
}

TEST(backup_restore)
{
    char dir[] = "/tmp/ff-backup-XXXXXX", file[300];
    ASSERT(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/backup.db", dir);
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    db_release(c);
    make_table();
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "INSERT INTO kv (id, name) VALUES (1, 'before')", NULL, 0, NULL));
    db_release(c);
    ASSERT_OK(db_backup(db, file));
    ASSERT_EQ(db_backup(db, file), FF_ECONFLICT); /* never overwrites */
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "UPDATE kv SET name = 'after' WHERE id = 1", NULL, 0, NULL));
    ASSERT_OK(db_exec(c, "INSERT INTO kv (id, name) VALUES (2, 'new')", NULL, 0, NULL));
    /* restore refuses while a connection is in use */
    ASSERT_EQ(db_restore(db, file), FF_ECONFLICT);
    db_release(c);
    ASSERT_OK(db_restore(db, file));
    ASSERT_EQ(count_kv(), 1);
    struct db_rows *r;
    bool has;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_query(c, "SELECT name FROM kv WHERE id = 1", NULL, 0, &r));
    ASSERT_OK(db_next(r, &has));
    ASSERT(has);
    ASSERT_STREQ(db_col_text(r, 0, NULL), "before");
    db_rows_free(r);
    db_release(c);
    /* a file that is not a backup changes nothing */
    char junk[300];
    snprintf(junk, sizeof junk, "%s/junk", dir);
    FILE *f = fopen(junk, "w");
    ASSERT(f);
    fputs("this is not a database, not at all, really not\n", f);
    fclose(f);
    ASSERT(db_restore(db, junk) != FF_OK);
    ASSERT_EQ(db_restore(db, "/nonexistent/backup"), FF_EIO);
    ASSERT_EQ(count_kv(), 1);
    ASSERT_OK(db_migrate(db, NULL));
    snprintf(file, sizeof file, "rm -rf '%s'", dir);
    ASSERT_OK(system(file));
}

TEST(pg_survives_restart)
{
    const char *dir = getenv("FF_TEST_PG_DIR");
    const char *script = getenv("FF_TEST_PG_RESTART");
    if (db_dialect(db) != DB_PG || !dir || !script)
        return;
    make_table();
    struct db_conn *c;
    int64_t n = 0;
    ASSERT_OK(db_acquire(db, &c)); /* warm: prepares a statement */
    ASSERT_OK(db_query_i64(c, "SELECT count(*) FROM kv", NULL, 0, &n));
    db_release(c);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", script, dir);
    ASSERT_OK(system(cmd));
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_query_i64(c, "SELECT count(*) FROM kv", NULL, 0, &n));
    db_release(c);
    ASSERT_OK(db_ping(db));
    struct db_pool_stats st;
    db_pool_stats(db, &st);
    ASSERT_EQ(st.in_use, 0);
    ASSERT(st.reconnects >= 1);
}

int main(void)
{
    RUN(bad_urls);
    db = dbt_open("t_db", 2);
    RUN(migrate_fresh_then_noop);
    RUN(typed_params_roundtrip);
    RUN(unique_violation_is_conflict);
    RUN(tx_rollback_unless_committed);
    RUN(pool_threads_serialize_writes);
    RUN(pool_bound_and_timeout);
    RUN(refuses_newer_schema_and_edited_migration);
    RUN(pg_survives_restart);
    db_close(db);
    db = dbt_open("t_db_backup", 2);
    ASSERT_OK(db_migrate(db, NULL));
    RUN(backup_restore);
    db_close(db);
    dbt_cleanup();
    return TEST_REPORT();
}
