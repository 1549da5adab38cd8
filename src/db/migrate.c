/* migrate.c - versioned schema migrations, embedded at build time.
 *
 * Applied migrations are recorded in schema_migrations with a checksum of
 * their text. Each pending migration runs in its own transaction together
 * with its record. PostgreSQL runs under an advisory lock; SQLite's BEGIN
 * IMMEDIATE serializes concurrent migrators, which re-check inside. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "db/db.h"
#include "db/db_int.h"
#include "db/migrate_int.h"

#define MIGRATE_LOCK_KEY "7202611240"

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

static void checksum(const struct db__migration *m, char out[32])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < m->len; i++) {
        h ^= (unsigned char)m->sql[i];
        h *= 1099511628211ull;
    }
    snprintf(out, 32, "fnv1a64:%016" PRIx64, h);
}

static const struct db__migration *find(int dialect, int version)
{
    for (int i = 0; i < db__migrations_count; i++)
        if (db__migrations[i].dialect == dialect && db__migrations[i].version == version)
            return &db__migrations[i];
    return NULL;
}

int db_schema_latest(const struct db *db)
{
    int v = 0;
    for (int i = 0; i < db__migrations_count; i++)
        if (db__migrations[i].dialect == (int)db_dialect(db) && db__migrations[i].version > v)
            v = db__migrations[i].version;
    return v;
}

static enum ff_err table_exists(struct db_conn *c, bool *yes)
{
    int64_t n = 0;
    const char *sql =
        db_dialect(c->db) == DB_SQLITE
            ? "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
            : "SELECT count(*) FROM pg_tables WHERE tablename='schema_migrations'"
              " AND schemaname=current_schema()";
    enum ff_err err = db_query_i64(c, sql, NULL, 0, &n);
    *yes = n > 0;
    return err;
}

static enum ff_err version_on(struct db_conn *c, int *out)
{
    bool exists = false;
    int64_t v = 0;
    *out = 0;
    enum ff_err err = table_exists(c, &exists);
    if (err || !exists)
        return err;
    err = db_query_i64(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, 0,
                       &v);
    *out = (int)v;
    return err;
}

enum ff_err db_schema_version(struct db *db, int *out)
{
    struct db_conn *c;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    err = version_on(c, out);
    db_release(c);
    return err;
}

/* Every applied migration must be one this binary knows, unchanged. */
static enum ff_err verify_applied(struct db_conn *c, int latest)
{
    struct db_rows *r;
    bool has;
    enum ff_err err = db_query(c, "SELECT version, name, checksum FROM schema_migrations"
                                  " ORDER BY version", NULL, 0, &r);
    if (err)
        return err;
    while (!(err = db_next(r, &has)) && has) {
        int v = (int)db_col_i64(r, 0);
        const char *name = db_col_text(r, 1, NULL);
        const char *sum = db_col_text(r, 2, NULL);
        if (v > latest) {
            err = db__fail(FF_ECONFLICT,
                           "database schema version %d is newer than this binary's (%d);"
                           " upgrade framefit",
                           v, latest);
            break;
        }
        const struct db__migration *m = find(db_dialect(c->db), v);
        char want[32];
        if (!m) {
            err = db__fail(FF_ECORRUPT, "applied migration %d (%s) is unknown to this binary",
                           v, name ? name : "?");
            break;
        }
        checksum(m, want);
        if (!sum || strcmp(sum, want)) {
            err = db__fail(FF_ECORRUPT,
                           "migration %s was changed after it was applied (checksum %s,"
                           " database has %s); add a new migration instead",
                           m->name, want, sum ? sum : "none");
            break;
        }
    }
    db_rows_free(r);
    return err;
}

static enum ff_err apply_one(struct db_conn *c, const struct db__migration *m, bool *applied)
{
    struct db_tx tx = DB_TX_INIT;
    int64_t n = 0;
    char sum[32];
    *applied = false;
    checksum(m, sum);
    enum ff_err err = db_begin_on(c, &tx);
    if (!err)
        err = db_query_i64(c, "SELECT count(*) FROM schema_migrations WHERE version = $1",
                           (struct db_param[]){DB_I64(m->version)}, 1, &n);
    if (!err && n == 0) {
        err = db_exec_script(c, m->sql);
        if (err)
            err = db__fail(err, "migration %s failed: %s", m->name, db_errmsg());
        if (!err)
            err = db_exec(c,
                          "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                          " VALUES ($1, $2, $3, $4)",
                          (struct db_param[]){DB_I64(m->version), DB_TEXT(m->name),
                                              DB_TEXT(sum), DB_I64(db_now_ms())},
                          4, NULL);
        *applied = !err;
    }
    if (!err)
        err = db_commit(&tx);
    db_tx_release(&tx);
    return err;
}

static enum ff_err migrate_on(struct db_conn *c, struct db_migrate_report *rep)
{
    int latest = db_schema_latest(c->db);
    enum ff_err err = db_exec(c, create_table, NULL, 0, NULL);
    if (!err)
        err = version_on(c, &rep->from_version);
    if (!err)
        err = verify_applied(c, latest);
    for (int i = 0; !err && i < db__migrations_count; i++) {
        const struct db__migration *m = &db__migrations[i];
        bool applied = false;
        if (m->dialect != (int)db_dialect(c->db))
            continue;
        if (m->version <= rep->from_version) {
            int64_t n = 0; /* gaps: an older file added after a newer one ran */
            err = db_query_i64(c, "SELECT count(*) FROM schema_migrations WHERE version = $1",
                               (struct db_param[]){DB_I64(m->version)}, 1, &n);
            if (err || n)
                continue;
        }
        err = apply_one(c, m, &applied);
        rep->applied += applied;
    }
    if (!err)
        err = version_on(c, &rep->to_version);
    return err;
}

enum ff_err db_migrate(struct db *db, struct db_migrate_report *report)
{
    struct db_migrate_report local = {0};
    struct db_conn *c;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    bool pg = db_dialect(db) == DB_PG;
    if (pg)
        err = db_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", NULL, 0, NULL);
    if (!err)
        err = migrate_on(c, &local);
    if (pg && db_exec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, 0, NULL))
        c->broken = true;
    db_release(c);
    if (report)
        *report = local;
    return err;
}
