/* sqlite.c - the SQLite driver (the only file that includes sqlite3.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "db/db_int.h"

static enum ff_err sq_fail(sqlite3 *h, int rc, const char *what)
{
    int base = rc & 0xff;
    enum ff_err err = FF_EDB;
    if (base == SQLITE_CONSTRAINT)
        err = FF_ECONFLICT;
    else if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
        err = FF_ETIMEOUT;
    else if (base == SQLITE_NOMEM)
        err = FF_ENOMEM;
    return db__fail(err, "sqlite %s: %s", what, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
}

enum ff_err db__sqlite_connect(struct db *db, struct db_conn *c)
{
    sqlite3 *h = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(db->path, &h, flags, NULL);
    if (rc != SQLITE_OK) {
        enum ff_err err = db__fail(FF_EDB, "cannot open SQLite database %s: %s", db->path,
                                   h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return err;
    }
    sqlite3_busy_timeout(h, db->busy_ms);
    sqlite3_extended_result_codes(h, 1);
    char *msg = NULL;
    rc = sqlite3_exec(h,
                      "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
                      " PRAGMA synchronous=NORMAL;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        enum ff_err err = db__fail(FF_EDB, "cannot set up SQLite database %s: %s", db->path,
                                   msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(h);
        return err;
    }
    c->h = h;
    return FF_OK;
}

void db__sqlite_disconnect(struct db_conn *c)
{
    for (int i = 0; i < DB__CACHE; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        ff_free(c->cache[i].sql);
        c->cache[i].sql = NULL;
        c->cache[i].stmt = NULL;
    }
    sqlite3_close(c->h);
    c->h = NULL;
}

/* Rewrites $N placeholders to ?N outside quotes and comments. */
static char *rewrite(const char *sql)
{
    size_t n = strlen(sql);
    char *out = ff_malloc(n + 1);
    if (!out)
        return NULL;
    char q = 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = sql[i];
        if (q) {
            if (ch == q)
                q = 0;
        } else if (ch == '\'' || ch == '"') {
            q = ch;
        } else if (ch == '$' && sql[i + 1] >= '1' && sql[i + 1] <= '9') {
            ch = '?';
        }
        out[i] = ch;
    }
    return out;
}

static enum ff_err prepare(struct db_conn *c, const char *sql, sqlite3_stmt **out)
{
    uint64_t h = db__hash(sql);
    struct db__cached *e = db__cache_find(c, sql, h);
    if (e) {
        *out = e->stmt;
        return FF_OK;
    }
    char *text = rewrite(sql);
    char *key = ff_strdup(sql);
    sqlite3_stmt *st = NULL;
    if (!text || !key) {
        ff_free(text);
        ff_free(key);
        return FF_ENOMEM;
    }
    int rc = sqlite3_prepare_v3(c->h, text, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    ff_free(text);
    if (rc != SQLITE_OK) {
        ff_free(key);
        return sq_fail(c->h, rc, "prepare");
    }
    e = db__cache_victim(c);
    sqlite3_finalize(e->stmt);
    ff_free(e->sql);
    e->sql = key;
    e->hash = h;
    e->stmt = st;
    e->used = ++c->clock;
    *out = st;
    return FF_OK;
}

static enum ff_err bind(struct db_conn *c, sqlite3_stmt *st, const struct db_param *p, int np)
{
    int want = sqlite3_bind_parameter_count(st);
    if (want > np)
        return db__fail(FF_EINVAL, "statement wants %d parameters, got %d", want, np);
    for (int i = 0; i < want; i++) {
        int rc;
        switch (p[i].type) {
        case DB_T_I64: rc = sqlite3_bind_int64(st, i + 1, p[i].i); break;
        case DB_T_F64: rc = sqlite3_bind_double(st, i + 1, p[i].f); break;
        case DB_T_TEXT:
            rc = sqlite3_bind_text64(st, i + 1, p[i].s ? p[i].s : "", p[i].n, SQLITE_STATIC,
                                     SQLITE_UTF8);
            break;
        default: rc = sqlite3_bind_null(st, i + 1); break;
        }
        if (rc != SQLITE_OK)
            return sq_fail(c->h, rc, "bind");
    }
    return FF_OK;
}

enum ff_err db__sqlite_query(struct db_conn *c, const char *sql, const struct db_param *p,
                             int np, struct db_rows *r, int64_t *changed)
{
    sqlite3_stmt *st = NULL;
    enum ff_err err = prepare(c, sql, &st);
    if (err)
        return err;
    r->res = st;
    err = bind(c, st, p, np);
    if (err)
        return err;
    r->ncols = sqlite3_column_count(st);
    if (!changed)
        return FF_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        return sq_fail(c->h, rc, "step");
    *changed = sqlite3_changes64(c->h);
    return FF_OK;
}

enum ff_err db__sqlite_next(struct db_rows *r, bool *has_row)
{
    int rc = sqlite3_step(r->res);
    *has_row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return FF_OK;
    return sq_fail(r->conn->h, rc, "step");
}

void db__sqlite_rows_done(struct db_rows *r)
{
    sqlite3_reset(r->res);
    sqlite3_clear_bindings(r->res);
}

bool db__sqlite_null(const struct db_rows *r, int col)
{
    return sqlite3_column_type(r->res, col) == SQLITE_NULL;
}

int64_t db__sqlite_i64(const struct db_rows *r, int col)
{
    return sqlite3_column_int64(r->res, col);
}

double db__sqlite_f64(const struct db_rows *r, int col)
{
    return sqlite3_column_double(r->res, col);
}

const char *db__sqlite_text(const struct db_rows *r, int col, size_t *len)
{
    const char *s = (const char *)sqlite3_column_text(r->res, col);
    if (len)
        *len = s ? (size_t)sqlite3_column_bytes(r->res, col) : 0;
    return s;
}

enum ff_err db__sqlite_script(struct db_conn *c, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return FF_OK;
    enum ff_err err = db__fail(FF_EDB, "sqlite script: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return err;
}

/* Copies src's main database into dst's (the online backup API). */
static enum ff_err copy_db(sqlite3 *dst, sqlite3 *src, sqlite3 *report)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return sq_fail(dst, sqlite3_errcode(dst), "backup");
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return db__fail(FF_EDB, "sqlite backup: %s", sqlite3_errstr(rc));
    return FF_OK;
}

enum ff_err db__sqlite_backup(struct db *db, struct db_conn *c, const char *file, bool restore)
{
    sqlite3 *f = NULL;
    int flags = restore ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(file, &f, flags, NULL);
    if (rc != SQLITE_OK) {
        enum ff_err err = db__fail(FF_EIO, "cannot open %s: %s", file,
                                   f ? sqlite3_errmsg(f) : sqlite3_errstr(rc));
        sqlite3_close(f);
        return err;
    }
    enum ff_err err = FF_OK;
    if (restore) {
        /* refuse anything that is not a framefit database before touching ours */
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(f, "SELECT count(*) FROM schema_migrations", -1, &st, NULL);
        if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
            err = db__fail(FF_ECORRUPT, "%s is not a framefit SQLite backup: %s", file,
                           sqlite3_errmsg(f));
        sqlite3_finalize(st);
    }
    (void)db;
    if (!err)
        err = restore ? copy_db(c->h, f, c->h) : copy_db(f, c->h, f);
    sqlite3_close(f);
    return err;
}
