/* jobs_admin.c - staff reads and actions over the jobs tables, the list
 * filter parser and the /metrics gauges (see jobs_admin.h). */
#include "jobs/jobs_admin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "db/db.h"
#include "jobs/jobs_int.h"

#define P(...) ((struct db_param[]){__VA_ARGS__})

static const char *const states[] = {"queued", "running", "done", "dead", "discarded", NULL};

/* ---- filter ------------------------------------------------------------------------ */

static enum ff_err bad(char *field, size_t flen, const char *name, char *reason, size_t rlen,
                       const char *why)
{
    snprintf(field, flen, "%s", name);
    snprintf(reason, rlen, "%s", why);
    return FF_EINVAL;
}

static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!*s || strlen(s) > 19)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max || (s[0] == '0' && s[1]))
        return false;
    *out = v;
    return true;
}

enum ff_err jobs_filter_parse(const struct jobs_kv *kv, size_t n, struct jobs_filter *f,
                              char *field, size_t flen, char *reason, size_t rlen)
{
    memset(f, 0, sizeof *f);
    f->limit = 50;
    unsigned seen = 0;
    field[0] = reason[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].name, *v = kv[i].value;
        unsigned bit;
        int64_t num;
        if (!strcmp(k, "state")) {
            bit = 1;
            size_t s = 0;
            while (states[s] && strcmp(states[s], v))
                s++;
            if (!states[s])
                return bad(field, flen, k, reason, rlen,
                           "must be one of queued, running, done, dead, discarded");
            snprintf(f->state, sizeof f->state, "%s", v);
        } else if (!strcmp(k, "queue") || !strcmp(k, "type")) {
            bit = k[0] == 'q' ? 2 : 4;
            if (!jobs_name_ok(v))
                return bad(field, flen, k, reason, rlen, "must be 1..64 of [a-z0-9_.:-]");
            snprintf(k[0] == 'q' ? f->queue : f->type, sizeof f->queue, "%s", v);
        } else if (!strcmp(k, "limit")) {
            bit = 8;
            if (!parse_int(v, 1, 200, &num))
                return bad(field, flen, k, reason, rlen, "must be an integer in 1..200");
            f->limit = (int)num;
        } else if (!strcmp(k, "before_id")) {
            bit = 16;
            if (!parse_int(v, 1, INT64_MAX / 2, &num))
                return bad(field, flen, k, reason, rlen, "must be a positive integer");
            f->before_id = num;
        } else {
            return bad(field, flen, k, reason, rlen,
                       "unknown parameter (state, queue, type, limit, before_id)");
        }
        if (seen & bit)
            return bad(field, flen, k, reason, rlen, "given more than once");
        seen |= bit;
    }
    return FF_OK;
}

/* ---- JSON ---------------------------------------------------------------------------- */

static json_t *iso_time(int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char t[96];
    if (!gmtime_r(&s, &tm))
        return json_null();
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000 + 1000) % 1000);
    return json_string(t);
}

static json_t *col_time(const struct db_rows *r, int col)
{
    return db_col_null(r, col) ? json_null() : iso_time(db_col_i64(r, col));
}

static json_t *col_str(const struct db_rows *r, int col)
{
    size_t n;
    const char *s = db_col_text(r, col, &n);
    return s ? json_stringn(s, n) : json_null();
}

#define JOB_COLS                                                                          \
    "id, type, queue, state, priority, payload, attempts, max_attempts, unique_key,"       \
    " run_at, lease_until, locked_by, last_error, created_at, updated_at, finished_at,"    \
    " started_at"

static json_t *job_json(const struct db_rows *r)
{
    size_t n;
    const char *pl = db_col_text(r, 5, &n);
    json_t *payload = pl ? json_loadb(pl, n, 0, NULL) : NULL;
    json_t *j = json_object();
    if (!j) {
        json_decref(payload);
        return NULL;
    }
    json_object_set_new(j, "id", json_integer(db_col_i64(r, 0)));
    json_object_set_new(j, "type", col_str(r, 1));
    json_object_set_new(j, "queue", col_str(r, 2));
    json_object_set_new(j, "state", col_str(r, 3));
    json_object_set_new(j, "priority", json_integer(db_col_i64(r, 4)));
    json_object_set_new(j, "payload", payload ? payload : json_object());
    json_object_set_new(j, "attempts", json_integer(db_col_i64(r, 6)));
    json_object_set_new(j, "max_attempts", json_integer(db_col_i64(r, 7)));
    json_object_set_new(j, "unique_key", col_str(r, 8));
    json_object_set_new(j, "run_at", col_time(r, 9));
    json_object_set_new(j, "lease_until", col_time(r, 10));
    json_object_set_new(j, "locked_by", col_str(r, 11));
    json_object_set_new(j, "last_error", col_str(r, 12));
    json_object_set_new(j, "created_at", col_time(r, 13));
    json_object_set_new(j, "updated_at", col_time(r, 14));
    json_object_set_new(j, "finished_at", col_time(r, 15));
    json_object_set_new(j, "started_at", col_time(r, 16));
    return j;
}

/* ---- reads ----------------------------------------------------------------------------- */

enum ff_err jobs_admin_list(struct db *db, const struct jobs_filter *f, json_t **out)
{
    char sql[700];
    struct db_param prm[5];
    int np = 0;
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT " JOB_COLS " FROM jobs WHERE 1 = 1");
    if (f->state[0]) {
        prm[np++] = DB_TEXT(f->state);
        len += (size_t)snprintf(sql + len, sizeof sql - len, " AND state = $%d", np);
    }
    if (f->queue[0]) {
        prm[np++] = DB_TEXT(f->queue);
        len += (size_t)snprintf(sql + len, sizeof sql - len, " AND queue = $%d", np);
    }
    if (f->type[0]) {
        prm[np++] = DB_TEXT(f->type);
        len += (size_t)snprintf(sql + len, sizeof sql - len, " AND type = $%d", np);
    }
    if (f->before_id) {
        prm[np++] = DB_I64(f->before_id);
        len += (size_t)snprintf(sql + len, sizeof sql - len, " AND id < $%d", np);
    }
    prm[np++] = DB_I64(f->limit + 1);
    snprintf(sql + len, sizeof sql - len, " ORDER BY id DESC LIMIT $%d", np);

    struct db_conn *c;
    struct db_rows *r = NULL;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    json_t *items = json_array();
    int64_t last_id = 0;
    bool more = false, has = false;
    err = items ? db_query(c, sql, prm, np, &r) : FF_ENOMEM;
    while (!err && !(err = db_next(r, &has)) && has) {
        if ((int)json_array_size(items) == f->limit) {
            more = true;
            break;
        }
        json_t *j = job_json(r);
        if (!j || json_array_append_new(items, j))
            err = FF_ENOMEM;
        last_id = db_col_i64(r, 0);
    }
    db_rows_free(r);
    db_release(c);
    json_t *res = err ? NULL : json_object();
    if (!err && res) {
        json_object_set_new(res, "items", items);
        json_object_set_new(res, "next_before_id", more ? json_integer(last_id) : json_null());
        *out = res;
        return FF_OK;
    }
    json_decref(items);
    return err ? err : FF_ENOMEM;
}

static enum ff_err attempts_json(struct db_conn *c, int64_t id, json_t *arr)
{
    struct db_rows *r = NULL;
    bool has = false;
    enum ff_err err = db_query(c,
                               "SELECT attempt, worker, outcome, error, started_at, finished_at,"
                               " duration_ms FROM job_attempts WHERE job_id = $1 ORDER BY id"
                               " LIMIT 1000",
                               P(DB_I64(id)), 1, &r);
    while (!err && !(err = db_next(r, &has)) && has) {
        json_t *a = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:I}", "attempt",
                              (json_int_t)db_col_i64(r, 0), "worker", col_str(r, 1), "outcome",
                              col_str(r, 2), "error", col_str(r, 3), "started_at", col_time(r, 4),
                              "finished_at", col_time(r, 5), "duration_ms",
                              (json_int_t)db_col_i64(r, 6));
        if (!a || json_array_append_new(arr, a))
            err = FF_ENOMEM;
    }
    if (r)
        db_rows_free(r);
    return err;
}

enum ff_err jobs_admin_get(struct db *db, int64_t id, json_t **out)
{
    struct db_conn *c;
    struct db_rows *r = NULL;
    bool has = false;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    json_t *j = NULL;
    err = db_query(c, "SELECT " JOB_COLS " FROM jobs WHERE id = $1", P(DB_I64(id)), 1, &r);
    if (!err)
        err = db_next(r, &has);
    if (!err && !has)
        err = FF_ENOTFOUND;
    if (!err && !(j = job_json(r)))
        err = FF_ENOMEM;
    if (r)
        db_rows_free(r);
    json_t *arr = err ? NULL : json_array();
    if (!err && !arr)
        err = FF_ENOMEM;
    if (!err)
        err = attempts_json(c, id, arr);
    db_release(c);
    if (err) {
        json_decref(j);
        json_decref(arr);
        return err;
    }
    json_object_set_new(j, "attempt_history", arr);
    *out = j;
    return FF_OK;
}

/* Runs a guarded state change: FF_ENOTFOUND if no such job, FF_ECONFLICT if
 * the guard did not match. */
static enum ff_err change(struct db *db, int64_t id, const char *sql)
{
    struct db_tx tx = DB_TX_INIT;
    int64_t n = 0, exists = 0;
    enum ff_err err = db_begin(db, &tx);
    if (!err)
        err = db_exec(tx.conn, sql, P(DB_I64(id), DB_I64(db_now_ms())), 2, &n);
    if (!err && n == 0) {
        err = db_query_i64(tx.conn, "SELECT count(*) FROM jobs WHERE id = $1", P(DB_I64(id)), 1,
                           &exists);
        if (!err)
            err = exists ? FF_ECONFLICT : FF_ENOTFOUND;
    }
    if (!err)
        err = db_commit(&tx);
    db_tx_release(&tx);
    return err;
}

enum ff_err jobs_admin_retry(struct db *db, int64_t id)
{
    return change(db, id,
                  "UPDATE jobs SET state = 'queued', run_at = $2, attempts = 0, finished_at = NULL,"
                  " updated_at = $2 WHERE id = $1 AND state IN ('queued','dead','discarded')");
}

enum ff_err jobs_admin_discard(struct db *db, int64_t id)
{
    return change(db, id,
                  "UPDATE jobs SET state = 'discarded', finished_at = $2, updated_at = $2,"
                  " last_error = COALESCE(last_error, 'discarded by staff')"
                  " WHERE id = $1 AND state IN ('queued','dead')");
}

/* ---- /metrics ------------------------------------------------------------------------- */

static pthread_mutex_t m_mu = PTHREAD_MUTEX_INITIALIZER;
static char *m_text;      /* the last rendered gauges */
static size_t m_len;
static int64_t m_at;      /* when (ms) */

static void render_gauges(struct ff_buf *b, struct db *db)
{
    int64_t now = db_now_ms();
    struct db_conn *c;
    struct db_rows *r = NULL;
    bool has = false;
    if (db_acquire(db, &c))
        return;
    enum ff_err err = db_query(
        c,
        "SELECT queue, state, count(*), min(CASE WHEN state = 'queued' THEN"
        " (CASE WHEN run_at <= $1 THEN run_at END) WHEN state = 'running' THEN started_at"
        " ELSE finished_at END) FROM jobs WHERE state IN ('queued','running','dead')"
        " GROUP BY queue, state ORDER BY queue, state",
        P(DB_I64(now)), 1, &r);
    struct ff_buf ages;
    ff_buf_init(&ages, 1 << 20);
    err = err ? err
              : ff_buf_appends(b, "# HELP framefit_jobs Jobs by queue and state (done jobs"
                                  " are not counted).\n# TYPE framefit_jobs gauge\n");
    while (!err && !(err = db_next(r, &has)) && has) {
        const char *q = db_col_text(r, 0, NULL), *s = db_col_text(r, 1, NULL);
        int64_t since = db_col_null(r, 3) ? now : db_col_i64(r, 3);
        err = ff_buf_appendf(b, "framefit_jobs{queue=\"%s\",state=\"%s\"} %lld\n", q ? q : "",
                             s ? s : "", (long long)db_col_i64(r, 2));
        if (!err)
            err = ff_buf_appendf(&ages,
                                 "framefit_jobs_oldest_age_seconds{queue=\"%s\",state=\"%s\"}"
                                 " %.3f\n", q ? q : "", s ? s : "",
                                 (double)(now > since ? now - since : 0) / 1000.0);
    }
    if (r)
        db_rows_free(r);
    db_release(c);
    if (!err)
        err = ff_buf_appends(b, "# HELP framefit_jobs_oldest_age_seconds Age of the oldest job"
                                " per queue and state (queued: due and waiting since run_at;"
                                " running: since started; dead: since it died).\n"
                                "# TYPE framefit_jobs_oldest_age_seconds gauge\n");
    if (!err && ages.len)
        err = ff_buf_append(b, ages.data, ages.len);
    (void)err; /* a failed query or a full buffer leaves the gauges out or short */
    ff_buf_release(&ages);
}

void jobs_metrics(struct ff_buf *out, struct db *db, struct jobs_pool *pool)
{
    if (!db)
        return;
    pthread_mutex_lock(&m_mu);
    int64_t now = db_now_ms();
    if (!m_text || now - m_at >= 1000 || now < m_at) {
        struct ff_buf b;
        ff_buf_init(&b, 1 << 20);
        render_gauges(&b, db);
        size_t n = 0;
        char *t = b.len ? ff_buf_steal(&b, &n) : NULL;
        ff_buf_release(&b);
        ff_free(m_text);
        m_text = t;
        m_len = t ? n : 0;
        m_at = now;
    }
    enum ff_err err = m_text ? ff_buf_append(out, m_text, m_len) : FF_OK;
    pthread_mutex_unlock(&m_mu);
    if (!pool || err)
        return;
    struct jobs_pool_stats st;
    jobs_pool_stats(pool, &st);
    err = ff_buf_appendf(
        out,
        "# HELP framefit_jobs_attempts_total Job attempts this process's workers ended, by"
        " outcome.\n# TYPE framefit_jobs_attempts_total counter\n"
        "framefit_jobs_attempts_total{outcome=\"done\"} %llu\n"
        "framefit_jobs_attempts_total{outcome=\"retry\"} %llu\n"
        "framefit_jobs_attempts_total{outcome=\"dead\"} %llu\n"
        "framefit_jobs_attempts_total{outcome=\"lost\"} %llu\n"
        "framefit_jobs_attempts_total{outcome=\"released\"} %llu\n"
        "# HELP framefit_jobs_busy_workers Job workers of this process running a handler.\n"
        "# TYPE framefit_jobs_busy_workers gauge\nframefit_jobs_busy_workers %d\n",
        (unsigned long long)st.done, (unsigned long long)st.retried, (unsigned long long)st.dead,
        (unsigned long long)st.lost, (unsigned long long)st.released, st.busy);
    (void)err;
}
