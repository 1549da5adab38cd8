/* db.c - the storage facade: URL parsing, the connection pool, transactions,
 * and dispatch to the SQLite (sqlite.c) and PostgreSQL (pg.c) drivers. */
#include "db/db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "db/db_int.h"

static _Thread_local char db_err_text[512];

enum ff_err db__fail(enum ff_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db_err_text, sizeof db_err_text, fmt, ap);
    va_end(ap);
    return err;
}

void db__clear_err(void) { db_err_text[0] = '\0'; }

const char *db_errmsg(void) { return db_err_text; }

uint64_t db__hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

int64_t db_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct db__cached *db__cache_find(struct db_conn *c, const char *sql, uint64_t h)
{
    for (int i = 0; i < DB__CACHE; i++) {
        struct db__cached *e = &c->cache[i];
        if (e->sql && e->hash == h && !strcmp(e->sql, sql)) {
            e->used = ++c->clock;
            return e;
        }
    }
    return NULL;
}

struct db__cached *db__cache_victim(struct db_conn *c)
{
    struct db__cached *v = &c->cache[0];
    for (int i = 0; i < DB__CACHE; i++) {
        if (!c->cache[i].sql)
            return &c->cache[i];
        if (c->cache[i].used < v->used)
            v = &c->cache[i];
    }
    return v;
}

/* ---- open / close ---------------------------------------------------------- */

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static enum ff_err make_dir(const char *dir)
{
    if (mkdir(dir, 0750) == 0 || errno == EEXIST)
        return FF_OK;
    return db__fail(FF_EIO, "cannot create data directory %s: %s", dir, strerror(errno));
}

static enum ff_err parse_url(struct db *db, const struct db_opts *o)
{
    const char *url = o->url;
    if (!url || !*url) {
        const char *dir = o->data_dir && *o->data_dir ? o->data_dir : "./var";
        enum ff_err err = make_dir(dir);
        if (err)
            return err;
        size_t n = strlen(dir) + sizeof "/framefit.db";
        db->path = ff_malloc(n);
        if (!db->path)
            return FF_ENOMEM;
        snprintf(db->path, n, "%s/framefit.db", dir);
        db->dialect = DB_SQLITE;
        return FF_OK;
    }
    if (starts(url, "postgres://") || starts(url, "postgresql://")) {
        db->url = ff_strdup(url);
        db->dialect = DB_PG;
        return db->url ? FF_OK : FF_ENOMEM;
    }
    const char *p = NULL;
    if (starts(url, "sqlite://"))
        p = url + 9;
    else if (starts(url, "sqlite:"))
        p = url + 7;
    if (!p || !*p)
        return db__fail(FF_EINVAL,
                        "database URL must be sqlite://PATH or postgres://...; got a %s",
                        p ? "sqlite URL without a path" : "URL of another scheme");
    db->path = ff_strdup(p);
    db->dialect = DB_SQLITE;
    if (!db->path)
        return FF_ENOMEM;
    /* create the file's directory (the data dir) when it is missing */
    char *slash = strrchr(db->path, '/');
    if (slash && slash != db->path) {
        *slash = '\0';
        struct stat sb;
        enum ff_err err = stat(db->path, &sb) == 0 ? FF_OK : make_dir(db->path);
        *slash = '/';
        return err;
    }
    return FF_OK;
}

static enum ff_err conn_open(struct db *db, struct db_conn **out)
{
    struct db_conn *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ENOMEM;
    c->db = db;
    enum ff_err err = db->dialect == DB_SQLITE ? db__sqlite_connect(db, c)
                                               : db__pg_connect(db, c);
    if (err) {
        ff_free(c);
        return err;
    }
    *out = c;
    return FF_OK;
}

static void conn_close(struct db_conn *c)
{
    if (!c)
        return;
    if (c->db->dialect == DB_SQLITE)
        db__sqlite_disconnect(c);
    else
        db__pg_disconnect(c);
    ff_free(c);
}

enum ff_err db_open(const struct db_opts *o, struct db **out)
{
    *out = NULL;
    db__clear_err();
    struct db *db = ff_calloc(1, sizeof *db);
    if (!db)
        return FF_ENOMEM;
    db->st.size = o->pool_size > 0 ? o->pool_size : 8;
    db->acquire_ms = o->acquire_timeout_ms > 0 ? o->acquire_timeout_ms : 5000;
    db->busy_ms = o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000;
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->cv, NULL);
    enum ff_err err = parse_url(db, o);
    struct db_conn *c = NULL;
    if (!err)
        err = conn_open(db, &c);
    if (err) {
        db_close(db);
        return err;
    }
    db->st.open = 1;
    c->next_idle = NULL;
    db->idle = c;
    *out = db;
    return FF_OK;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    while (db->idle) {
        struct db_conn *c = db->idle;
        db->idle = c->next_idle;
        conn_close(c);
    }
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    ff_free(db->path);
    ff_free(db->url);
    ff_free(db);
}

enum db_dialect db_conn_dialect(const struct db_conn *c)
{
    return c->db->dialect;
}

enum db_dialect db_dialect(const struct db *db) { return db->dialect; }
const char *db_dialect_name(const struct db *db)
{
    return db->dialect == DB_SQLITE ? "sqlite" : "postgres";
}
const char *db_sqlite_path(const struct db *db) { return db->path; }
const char *db_pg_url(const struct db *db) { return db->url; }

/* ---- pool ------------------------------------------------------------------ */

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Under db->mu: takes an idle connection, or reserves a slot to open one
 * (*c stays NULL, *reserve set), or waits. */
static enum ff_err pool_take(struct db *db, struct db_conn **c, bool *reserve)
{
    struct timespec dl;
    bool waited = false;
    for (;;) {
        if (db->idle) {
            *c = db->idle;
            db->idle = (*c)->next_idle;
            db->st.in_use++;
            return FF_OK;
        }
        if (db->st.open < db->st.size) {
            db->st.open++;
            db->st.in_use++;
            *reserve = true;
            return FF_OK;
        }
        if (!waited) {
            waited = true;
            db->st.waits++;
            deadline_after(&dl, db->acquire_ms);
        }
        if (pthread_cond_timedwait(&db->cv, &db->mu, &dl) == ETIMEDOUT && !db->idle &&
            db->st.open >= db->st.size) {
            db->st.timeouts++;
            return db__fail(FF_ETIMEOUT, "no database connection free after %d ms",
                            db->acquire_ms);
        }
    }
}

static void pool_drop_slot(struct db *db)
{
    pthread_mutex_lock(&db->mu);
    db->st.open--;
    db->st.in_use--;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

enum ff_err db_acquire(struct db *db, struct db_conn **out)
{
    struct db_conn *c = NULL;
    bool reserve = false;
    *out = NULL;
    pthread_mutex_lock(&db->mu);
    enum ff_err err = pool_take(db, &c, &reserve);
    pthread_mutex_unlock(&db->mu);
    if (err)
        return err;
    if (c && db->dialect == DB_PG && !db__pg_check(c)) {
        conn_close(c); /* the server went away: open a fresh one in its slot */
        c = NULL;
        reserve = true;
        pthread_mutex_lock(&db->mu);
        db->st.reconnects++;
        pthread_mutex_unlock(&db->mu);
    }
    if (reserve) {
        err = conn_open(db, &c);
        if (err) {
            pool_drop_slot(db);
            return err;
        }
    }
    *out = c;
    return FF_OK;
}

void db_release(struct db_conn *c)
{
    if (!c)
        return;
    struct db *db = c->db;
    if (c->in_tx && !c->broken) {
        /* a transaction left open by mistake: never hand it to someone else */
        if (db_exec(c, "ROLLBACK", NULL, 0, NULL) != FF_OK)
            c->broken = true;
        c->in_tx = false;
    }
    if (c->broken) {
        conn_close(c);
        pthread_mutex_lock(&db->mu);
        db->st.reconnects++;
        pthread_mutex_unlock(&db->mu);
        pool_drop_slot(db);
        return;
    }
    pthread_mutex_lock(&db->mu);
    c->next_idle = db->idle;
    db->idle = c;
    db->st.in_use--;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

void db_pool_stats(struct db *db, struct db_pool_stats *out)
{
    pthread_mutex_lock(&db->mu);
    *out = db->st;
    pthread_mutex_unlock(&db->mu);
}

enum ff_err db_ping(struct db *db)
{
    struct db_conn *c;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    int64_t one = 0;
    err = db_query_i64(c, "SELECT 1", NULL, 0, &one);
    db_release(c);
    return err;
}

/* ---- statements ------------------------------------------------------------ */

static enum ff_err check_params(const struct db_param *p, int np)
{
    if (np < 0 || np > DB_MAX_PARAMS || (np && !p))
        return db__fail(FF_EINVAL, "bad parameter count %d", np);
    return FF_OK;
}

enum ff_err db_exec(struct db_conn *c, const char *sql, const struct db_param *p, int np,
                    int64_t *changed)
{
    struct db_rows r = {.conn = c};
    int64_t n = 0;
    enum ff_err err = check_params(p, np);
    if (err)
        return err;
    if (c->rows_open)
        return db__fail(FF_EINTERNAL, "statement run while a result set is open");
    if (c->db->dialect == DB_SQLITE) {
        err = db__sqlite_query(c, sql, p, np, &r, &n);
        if (r.res)
            db__sqlite_rows_done(&r);
    } else {
        err = db__pg_query(c, sql, p, np, &r, &n);
        if (r.res)
            db__pg_rows_done(&r);
    }
    if (!err && changed)
        *changed = n;
    return err;
}

enum ff_err db_query(struct db_conn *c, const char *sql, const struct db_param *p, int np,
                     struct db_rows **out)
{
    *out = NULL;
    enum ff_err err = check_params(p, np);
    if (err)
        return err;
    if (c->rows_open)
        return db__fail(FF_EINTERNAL, "query run while a result set is open");
    struct db_rows *r = ff_calloc(1, sizeof *r);
    if (!r)
        return FF_ENOMEM;
    r->conn = c;
    r->row = -1;
    err = c->db->dialect == DB_SQLITE ? db__sqlite_query(c, sql, p, np, r, NULL)
                                      : db__pg_query(c, sql, p, np, r, NULL);
    if (err) {
        ff_free(r);
        return err;
    }
    c->rows_open = true;
    *out = r;
    return FF_OK;
}

enum ff_err db_next(struct db_rows *r, bool *has_row)
{
    return r->conn->db->dialect == DB_SQLITE ? db__sqlite_next(r, has_row)
                                             : db__pg_next(r, has_row);
}

void db_rows_free(struct db_rows *r)
{
    if (!r)
        return;
    if (r->conn->db->dialect == DB_SQLITE)
        db__sqlite_rows_done(r);
    else
        db__pg_rows_done(r);
    r->conn->rows_open = false;
    ff_free(r);
}

int db_ncols(const struct db_rows *r) { return r->ncols; }

static bool col_ok(const struct db_rows *r, int col)
{
    return col >= 0 && col < r->ncols;
}

bool db_col_null(const struct db_rows *r, int col)
{
    if (!col_ok(r, col))
        return true;
    return r->conn->db->dialect == DB_SQLITE ? db__sqlite_null(r, col) : db__pg_null(r, col);
}

int64_t db_col_i64(const struct db_rows *r, int col)
{
    if (!col_ok(r, col))
        return 0;
    if (r->conn->db->dialect == DB_SQLITE)
        return db__sqlite_i64(r, col);
    const char *s = db__pg_text(r, col, NULL);
    if (!s)
        return 0;
    if (s[0] == 't' && !s[1])
        return 1; /* boolean */
    return strtoll(s, NULL, 10);
}

double db_col_f64(const struct db_rows *r, int col)
{
    if (!col_ok(r, col))
        return 0;
    if (r->conn->db->dialect == DB_SQLITE)
        return db__sqlite_f64(r, col);
    const char *s = db__pg_text(r, col, NULL);
    return s ? strtod(s, NULL) : 0;
}

const char *db_col_text(const struct db_rows *r, int col, size_t *len)
{
    if (len)
        *len = 0;
    if (!col_ok(r, col))
        return NULL;
    return r->conn->db->dialect == DB_SQLITE ? db__sqlite_text(r, col, len)
                                             : db__pg_text(r, col, len);
}

enum ff_err db_query_i64(struct db_conn *c, const char *sql, const struct db_param *p, int np,
                         int64_t *out)
{
    struct db_rows *r;
    bool has = false;
    enum ff_err err = db_query(c, sql, p, np, &r);
    if (err)
        return err;
    err = db_next(r, &has);
    if (!err && !has)
        err = FF_ENOTFOUND;
    if (!err)
        *out = db_col_i64(r, 0);
    db_rows_free(r);
    return err;
}

enum ff_err db_exec_script(struct db_conn *c, const char *sql)
{
    if (c->rows_open)
        return db__fail(FF_EINTERNAL, "script run while a result set is open");
    return c->db->dialect == DB_SQLITE ? db__sqlite_script(c, sql) : db__pg_script(c, sql);
}

/* ---- transactions ---------------------------------------------------------- */

enum ff_err db_begin_on(struct db_conn *c, struct db_tx *tx)
{
    if (c->in_tx)
        return db__fail(FF_EINTERNAL, "transaction already open on this connection");
    const char *sql = c->db->dialect == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
    tx->db = c->db;
    tx->conn = c;
    enum ff_err err = db_exec(c, sql, NULL, 0, NULL);
    if (err)
        return err;
    c->in_tx = true;
    tx->open = true;
    return FF_OK;
}

enum ff_err db_begin(struct db *db, struct db_tx *tx)
{
    struct db_conn *c;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    tx->own_conn = true;
    tx->conn = c;
    tx->db = db;
    return db_begin_on(c, tx);
}

enum ff_err db_commit(struct db_tx *tx)
{
    if (!tx->open)
        return db__fail(FF_EINTERNAL, "commit without an open transaction");
    enum ff_err err = db_exec(tx->conn, "COMMIT", NULL, 0, NULL);
    if (err)
        return err; /* still open: db_tx_release rolls back */
    tx->open = false;
    tx->conn->in_tx = false;
    return FF_OK;
}

void db_tx_release(struct db_tx *tx)
{
    if (!tx->conn)
        return;
    if (tx->open) {
        if (db_exec(tx->conn, "ROLLBACK", NULL, 0, NULL) != FF_OK)
            tx->conn->broken = true;
        tx->conn->in_tx = false;
        tx->open = false;
    }
    if (tx->own_conn)
        db_release(tx->conn);
    tx->conn = NULL;
    tx->own_conn = false;
}
