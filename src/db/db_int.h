/* db_int.h - internals shared by db.c, sqlite.c, pg.c, migrate.c, backup.c. */
#ifndef FF_DB_DB_INT_H
#define FF_DB_DB_INT_H

#include <pthread.h>

#include "db/db.h"

#define DB__CACHE 48 /* prepared statements kept per connection */

struct db__cached {
    char *sql;      /* key (owned) */
    uint64_t hash;
    void *stmt;     /* sqlite3_stmt*, or (pg) NULL with name below */
    char name[16];  /* pg: prepared statement name */
    uint64_t used;  /* LRU clock */
};

struct db_conn {
    struct db *db;
    void *h;          /* sqlite3* or PGconn* */
    bool broken;      /* close instead of reusing */
    bool in_tx;
    bool rows_open;
    uint64_t clock;
    unsigned next_name;
    struct db__cached cache[DB__CACHE];
    struct db_conn *next_idle;
};

struct db_rows {
    struct db_conn *conn;
    void *res;        /* sqlite3_stmt* (cached, reset on free) or PGresult* */
    int row;          /* pg: current row index; -1 before the first */
    int nrows;        /* pg */
    int ncols;
};

struct db {
    enum db_dialect dialect;
    char *path;       /* sqlite file */
    char *url;        /* pg url */
    int busy_ms;
    int acquire_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct db_conn *idle;
    struct db_pool_stats st;
};

/* Sets the thread's error text (printf-style) and returns err. */
enum ff_err db__fail(enum ff_err err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void db__clear_err(void);
uint64_t db__hash(const char *s);

/* Statement cache: finds sql's slot or NULL. */
struct db__cached *db__cache_find(struct db_conn *c, const char *sql, uint64_t h);
/* Picks a slot to (re)use: a free one or the least recently used. */
struct db__cached *db__cache_victim(struct db_conn *c);

/* ---- drivers -------------------------------------------------------------- */
enum ff_err db__sqlite_connect(struct db *db, struct db_conn *c);
void db__sqlite_disconnect(struct db_conn *c);
enum ff_err db__sqlite_query(struct db_conn *c, const char *sql, const struct db_param *p,
                             int np, struct db_rows *r, int64_t *changed);
enum ff_err db__sqlite_next(struct db_rows *r, bool *has_row);
void db__sqlite_rows_done(struct db_rows *r);
bool db__sqlite_null(const struct db_rows *r, int col);
int64_t db__sqlite_i64(const struct db_rows *r, int col);
double db__sqlite_f64(const struct db_rows *r, int col);
const char *db__sqlite_text(const struct db_rows *r, int col, size_t *len);
enum ff_err db__sqlite_script(struct db_conn *c, const char *sql);
enum ff_err db__sqlite_backup(struct db *db, struct db_conn *c, const char *dest, bool restore);

enum ff_err db__pg_connect(struct db *db, struct db_conn *c);
void db__pg_disconnect(struct db_conn *c);
bool db__pg_check(struct db_conn *c); /* false when the connection is unusable */
enum ff_err db__pg_query(struct db_conn *c, const char *sql, const struct db_param *p, int np,
                         struct db_rows *r, int64_t *changed);
enum ff_err db__pg_next(struct db_rows *r, bool *has_row);
void db__pg_rows_done(struct db_rows *r);
bool db__pg_null(const struct db_rows *r, int col);
const char *db__pg_text(const struct db_rows *r, int col, size_t *len);
enum ff_err db__pg_script(struct db_conn *c, const char *sql);

#endif
