/* db.h - the one storage interface of framefit, over SQLite and PostgreSQL.
 *
 * A `struct db` is a bounded, thread-safe pool of connections to one database,
 * chosen by URL:
 *
 *   sqlite://PATH  or  sqlite:PATH     an SQLite file (WAL, foreign keys, busy timeout)
 *   postgres://... or  postgresql://...  PostgreSQL through libpq
 *   NULL or ""                         SQLite at DATA_DIR/framefit.db
 *
 * SQL is written once, in PostgreSQL's placeholder style ($1, $2, ...); the
 * SQLite driver rewrites the placeholders. Values are always bound, never
 * pasted into SQL text. Statements are prepared once per connection and
 * cached, so pass the same SQL text again for the fast path.
 *
 *     struct db_tx tx = DB_TX_INIT;
 *     err = db_begin(db, &tx);
 *     if (!err)
 *         err = db_exec(tx.conn, "UPDATE t SET n = n + 1 WHERE id = $1",
 *                       (struct db_param[]){DB_I64(id)}, 1, &changed);
 *     if (!err)
 *         err = db_commit(&tx);
 *     db_tx_release(&tx);   // rolls back unless committed; idempotent
 *
 * Errors: FF_ECONFLICT for unique/foreign-key/check violations, FF_ETIMEOUT
 * when no connection frees up in time, FF_EDB for anything else. The text of
 * the last error on the calling thread is in db_errmsg(). */
#ifndef FF_DB_DB_H
#define FF_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

enum db_dialect { DB_SQLITE = 1, DB_PG = 2 };

struct db;
struct db_conn;
struct db_rows;

struct db_opts {
    const char *url;          /* see above; NULL means SQLite in data_dir */
    const char *data_dir;     /* for the default SQLite file; NULL means "./var" */
    int pool_size;            /* max connections; 0 means 8 */
    int acquire_timeout_ms;   /* wait for a free connection; 0 means 5000 */
    int busy_timeout_ms;      /* SQLite lock wait; 0 means 5000 */
};

/* Opens the pool (and one connection, to fail early on a bad URL or an
 * unreachable server). Free with db_close. */
FF_MUST_CHECK enum ff_err db_open(const struct db_opts *opts, struct db **out);
/* Closes every connection. All connections must have been released. */
void db_close(struct db *db);
enum db_dialect db_dialect(const struct db *db);
/* The dialect of the database c belongs to. */
enum db_dialect db_conn_dialect(const struct db_conn *c);
/* "sqlite" or "postgres". */
const char *db_dialect_name(const struct db *db);
/* The SQLite file path (NULL for PostgreSQL). Owned by db. */
const char *db_sqlite_path(const struct db *db);
/* The PostgreSQL URL (NULL for SQLite). Owned by db. */
const char *db_pg_url(const struct db *db);

/* ---- connections --------------------------------------------------------- */

/* Takes a connection from the pool, opening one if under the bound, else
 * waiting up to acquire_timeout_ms (FF_ETIMEOUT). A connection found broken
 * (the server restarted) is reopened. Give it back with db_release. */
FF_MUST_CHECK enum ff_err db_acquire(struct db *db, struct db_conn **out);
/* Returns a connection to the pool (closes it if broken). NULL is a no-op. */
void db_release(struct db_conn *c);
/* Cheap round trip ("SELECT 1"); for readiness checks. */
FF_MUST_CHECK enum ff_err db_ping(struct db *db);

struct db_pool_stats {
    int size;            /* configured maximum */
    int open;            /* connections currently open */
    int in_use;          /* connections handed out */
    uint64_t waits;      /* acquisitions that had to wait, since start */
    uint64_t timeouts;   /* acquisitions that gave up */
    uint64_t reconnects; /* broken connections replaced */
};
/* A consistent snapshot of the pool gauges (for /metrics). */
void db_pool_stats(struct db *db, struct db_pool_stats *out);

/* ---- parameters ---------------------------------------------------------- */

enum db_type { DB_T_NULL, DB_T_I64, DB_T_F64, DB_T_TEXT };

struct db_param {
    enum db_type type;
    int64_t i;
    double f;
    const char *s;  /* DB_T_TEXT: not necessarily NUL-terminated */
    size_t n;
};

#define DB_NULL ((struct db_param){.type = DB_T_NULL})
#define DB_I64(v) ((struct db_param){.type = DB_T_I64, .i = (int64_t)(v)})
#define DB_F64(v) ((struct db_param){.type = DB_T_F64, .f = (double)(v)})
/* A NUL-terminated string; NULL binds SQL NULL. */
static inline struct db_param db_text_param(const char *s)
{
    return s ? (struct db_param){.type = DB_T_TEXT, .s = s, .n = strlen(s)} : DB_NULL;
}
#define DB_TEXT(str) db_text_param(str)
#define DB_TEXTN(str, len) ((struct db_param){.type = DB_T_TEXT, .s = (str), .n = (len)})

/* The most parameters one statement may take. */
#define DB_MAX_PARAMS 64

/* ---- statements ---------------------------------------------------------- */

/* Runs a statement that returns no rows; *changed (may be NULL) gets the
 * number of rows it inserted, updated or deleted. */
FF_MUST_CHECK enum ff_err db_exec(struct db_conn *c, const char *sql,
                                  const struct db_param *params, int nparams,
                                  int64_t *changed);
/* Runs a query; iterate with db_next, then db_rows_free. Only one result set
 * per connection may be open at a time. */
FF_MUST_CHECK enum ff_err db_query(struct db_conn *c, const char *sql,
                                   const struct db_param *params, int nparams,
                                   struct db_rows **out);
/* Moves to the next row: FF_OK with *has_row set, or an error. */
FF_MUST_CHECK enum ff_err db_next(struct db_rows *r, bool *has_row);
void db_rows_free(struct db_rows *r);

/* Column access on the current row (0-based). NULL reads as 0 / NULL. */
int db_ncols(const struct db_rows *r);
bool db_col_null(const struct db_rows *r, int col);
int64_t db_col_i64(const struct db_rows *r, int col);
double db_col_f64(const struct db_rows *r, int col);
/* Valid until the next db_next or db_rows_free; *len (may be NULL) gets the
 * length. Returns NULL for SQL NULL. */
const char *db_col_text(const struct db_rows *r, int col, size_t *len);

/* Runs a query expected to yield one integer (first column of the first
 * row). FF_ENOTFOUND when there is no row. */
FF_MUST_CHECK enum ff_err db_query_i64(struct db_conn *c, const char *sql,
                                       const struct db_param *params, int nparams,
                                       int64_t *out);

/* Runs several ;-separated statements with no parameters (migrations only;
 * never request data). */
FF_MUST_CHECK enum ff_err db_exec_script(struct db_conn *c, const char *sql);

/* ---- transactions -------------------------------------------------------- */

struct db_tx {
    struct db *db;
    struct db_conn *conn; /* run statements on this */
    bool open;            /* BEGIN done, neither committed nor rolled back */
    bool own_conn;        /* acquired by db_begin: released by db_tx_release */
};
#define DB_TX_INIT {0}

/* Acquires a connection and begins a write transaction (SQLite: BEGIN
 * IMMEDIATE, so writers queue on the busy timeout instead of deadlocking). */
FF_MUST_CHECK enum ff_err db_begin(struct db *db, struct db_tx *tx);
/* Begins a transaction on a connection the caller already holds. */
FF_MUST_CHECK enum ff_err db_begin_on(struct db_conn *c, struct db_tx *tx);
FF_MUST_CHECK enum ff_err db_commit(struct db_tx *tx);
/* Rolls back unless committed, and releases the connection if db_begin took
 * it. Idempotent; safe on DB_TX_INIT. */
void db_tx_release(struct db_tx *tx);

/* ---- errors -------------------------------------------------------------- */

/* Text of the last storage error on this thread ("" if none). */
const char *db_errmsg(void);

/* ---- migrations (db/migrate.c) ------------------------------------------- */

struct db_migrate_report {
    int from_version; /* schema version before */
    int to_version;   /* after */
    int applied;      /* migrations applied now */
};

/* Brings the schema up to date with the migrations embedded in the binary.
 * Refuses (FF_ECONFLICT) a database whose version is newer than the binary's,
 * and (FF_ECORRUPT) one where an applied migration's checksum differs from
 * the embedded file's (the file was edited after it ran). Safe to run from
 * several processes at once. report may be NULL. */
FF_MUST_CHECK enum ff_err db_migrate(struct db *db, struct db_migrate_report *report);
/* The highest migration version embedded for this database's dialect. */
int db_schema_latest(const struct db *db);
/* The version recorded in the database (0 when never migrated). */
FF_MUST_CHECK enum ff_err db_schema_version(struct db *db, int *out);

/* ---- backup (db/backup.c) ------------------------------------------------ */

/* Writes a consistent copy of the database to the file DEST (SQLite online
 * backup API; pg_dump custom format for PostgreSQL). */
FF_MUST_CHECK enum ff_err db_backup(struct db *db, const char *dest);
/* Replaces the database's contents with the backup in SRC. No connection may
 * be in use. */
FF_MUST_CHECK enum ff_err db_restore(struct db *db, const char *src);

/* ---- time ---------------------------------------------------------------- */

/* Wall clock in milliseconds since the epoch (timestamps are stored so). */
int64_t db_now_ms(void);

#endif
