/* pg.c - the PostgreSQL driver (the only file that includes libpq-fe.h).
 *
 * Statements are prepared per connection (named ff<N>) and executed with
 * text-format parameters. A connection that breaks outside a transaction
 * (the server restarted) is reset and the statement retried once; inside a
 * transaction the error goes to the caller and the pool drops the
 * connection on release. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "db/db_int.h"

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

enum ff_err db__pg_connect(struct db *db, struct db_conn *c)
{
    PGconn *h = PQconnectdb(db->url);
    if (!h)
        return FF_ENOMEM;
    if (PQstatus(h) != CONNECTION_OK) {
        /* PQerrorMessage never repeats the password */
        enum ff_err err = db__fail(FF_EDB, "cannot connect to PostgreSQL: %s",
                                   PQerrorMessage(h));
        PQfinish(h);
        return err;
    }
    PQsetNoticeProcessor(h, quiet_notices, NULL);
    /* SSD-era costs (the default 4.0 assumes spinning disks): keeps the
     * planner on ordered index scans for keyset pages instead of bitmap
     * scans plus a sort of every match */
    PGresult *res = PQexec(h, "SET random_page_cost = 1.1");
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        enum ff_err err = db__fail(FF_EDB, "cannot set up the PostgreSQL session: %s",
                                   PQerrorMessage(h));
        PQfinish(h);
        return err;
    }
    c->h = h;
    return FF_OK;
}

static void forget_statements(struct db_conn *c)
{
    for (int i = 0; i < DB__CACHE; i++) {
        ff_free(c->cache[i].sql);
        c->cache[i].sql = NULL;
    }
}

void db__pg_disconnect(struct db_conn *c)
{
    forget_statements(c);
    PQfinish(c->h);
    c->h = NULL;
}

bool db__pg_check(struct db_conn *c)
{
    return PQstatus(c->h) == CONNECTION_OK;
}

static enum ff_err result_err(struct db_conn *c, PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    enum ff_err err = FF_EDB;
    if (state && !strncmp(state, "23", 2))
        err = FF_ECONFLICT; /* integrity constraint violation */
    else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
        err = FF_ECONFLICT; /* serialization failure, deadlock */
    else if (state && !strcmp(state, "57014"))
        err = FF_ETIMEOUT;
    else if (state && (!strncmp(state, "22", 2)))
        err = FF_EINVAL; /* data exception: a value the column cannot take */
    if (PQstatus(c->h) != CONNECTION_OK)
        c->broken = true;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg)
        msg = PQerrorMessage(c->h);
    return db__fail(err, "postgres %s: %s", what, msg);
}

static enum ff_err prepare(struct db_conn *c, const char *sql, int np, const char **name)
{
    uint64_t h = db__hash(sql);
    struct db__cached *e = db__cache_find(c, sql, h);
    if (e) {
        *name = e->name;
        return FF_OK;
    }
    e = db__cache_victim(c);
    if (e->sql) {
        char dealloc[40];
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", e->name);
        PQclear(PQexec(c->h, dealloc));
        ff_free(e->sql);
        e->sql = NULL;
    }
    char *key = ff_strdup(sql);
    if (!key)
        return FF_ENOMEM;
    snprintf(e->name, sizeof e->name, "ff%u", c->next_name++);
    PGresult *res = PQprepare(c->h, e->name, sql, np, NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        enum ff_err err = result_err(c, res, "prepare");
        PQclear(res);
        ff_free(key);
        return err;
    }
    PQclear(res);
    e->sql = key;
    e->hash = h;
    e->used = ++c->clock;
    *name = e->name;
    return FF_OK;
}

/* Text values for the parameters; strings are copied to add the NUL. */
struct pg_args {
    const char *v[DB_MAX_PARAMS];
    char num[DB_MAX_PARAMS][32];
    char *owned[DB_MAX_PARAMS];
};

static void args_free(struct pg_args *a, int np)
{
    for (int i = 0; i < np; i++)
        ff_free(a->owned[i]);
}

static enum ff_err args_make(struct pg_args *a, const struct db_param *p, int np)
{
    memset(a->owned, 0, sizeof a->owned);
    for (int i = 0; i < np; i++) {
        a->v[i] = NULL;
        switch (p[i].type) {
        case DB_T_I64:
            snprintf(a->num[i], sizeof a->num[i], "%" PRId64, p[i].i);
            a->v[i] = a->num[i];
            break;
        case DB_T_F64:
            snprintf(a->num[i], sizeof a->num[i], "%.17g", p[i].f);
            a->v[i] = a->num[i];
            break;
        case DB_T_TEXT:
            if (p[i].n && memchr(p[i].s, '\0', p[i].n))
                return db__fail(FF_EINVAL, "parameter %d contains a NUL byte", i + 1);
            a->owned[i] = ff_strndup(p[i].s ? p[i].s : "", p[i].n);
            if (!a->owned[i])
                return FF_ENOMEM;
            a->v[i] = a->owned[i];
            break;
        default: break;
        }
    }
    return FF_OK;
}

static enum ff_err run_once(struct db_conn *c, const char *sql, const struct pg_args *a, int np,
                            PGresult **out)
{
    const char *name = NULL;
    *out = NULL;
    enum ff_err err = prepare(c, sql, np, &name);
    if (err)
        return err;
    PGresult *res = PQexecPrepared(c->h, name, np, a->v, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err = result_err(c, res, "query");
        PQclear(res);
        return err;
    }
    *out = res;
    return FF_OK;
}

enum ff_err db__pg_query(struct db_conn *c, const char *sql, const struct db_param *p, int np,
                         struct db_rows *r, int64_t *changed)
{
    struct pg_args a;
    PGresult *res = NULL;
    enum ff_err err = args_make(&a, p, np);
    if (!err) {
        err = run_once(c, sql, &a, np, &res);
        if (err && c->broken && !c->in_tx) {
            /* the server restarted under an idle connection: reconnect, retry once */
            forget_statements(c);
            PQreset(c->h);
            if (PQstatus(c->h) == CONNECTION_OK) {
                c->broken = false;
                pthread_mutex_lock(&c->db->mu);
                c->db->st.reconnects++;
                pthread_mutex_unlock(&c->db->mu);
                err = run_once(c, sql, &a, np, &res);
            }
        }
    }
    args_free(&a, np);
    if (err)
        return err;
    r->res = res;
    r->nrows = PQntuples(res);
    r->ncols = PQnfields(res);
    r->row = -1;
    if (changed) {
        const char *t = PQcmdTuples(res);
        *changed = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    return FF_OK;
}

enum ff_err db__pg_next(struct db_rows *r, bool *has_row)
{
    if (r->row < r->nrows)
        r->row++;
    *has_row = r->row < r->nrows;
    return FF_OK;
}

void db__pg_rows_done(struct db_rows *r)
{
    PQclear(r->res);
    r->res = NULL;
}

bool db__pg_null(const struct db_rows *r, int col)
{
    if (r->row < 0 || r->row >= r->nrows)
        return true;
    return PQgetisnull(r->res, r->row, col);
}

const char *db__pg_text(const struct db_rows *r, int col, size_t *len)
{
    if (db__pg_null(r, col))
        return NULL;
    if (len)
        *len = (size_t)PQgetlength(r->res, r->row, col);
    return PQgetvalue(r->res, r->row, col);
}

enum ff_err db__pg_script(struct db_conn *c, const char *sql)
{
    PGresult *res = PQexec(c->h, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    enum ff_err err = FF_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        err = result_err(c, res, "script");
    PQclear(res);
    return err;
}
