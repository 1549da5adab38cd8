/* jobs_worker.c - the worker pool: claim, run, finish; leases, heartbeats,
 * expired-lease recovery, recurring jobs and graceful stop (see jobs.h).
 *
 * Every claim sets a random lease_id; every later write about that claim
 * (finish, retry, heartbeat, release) is fenced by `lease_id = $x AND
 * state = 'running'`, so a worker that lost its lease (it stalled, or its
 * lease expired and another worker took the job) changes nothing. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "db/db.h"
#include "jobs/jobs_int.h"

#define P(...) ((struct db_param[]){__VA_ARGS__})
#define ERRLEN 1024

struct slot {
    pthread_t th;
    struct jobs_pool *p;
    char name[128];
    /* the current claim, guarded by p->mu */
    bool busy;
    int64_t job_id, lease_id, beat_at;
    bool exited;
};

struct jobs_pool {
    struct db *db;
    struct jobs_registry *reg;
    struct jobs_opts o;
    char *queues;          /* copy of o.queues, or NULL for all */
    const char *claim_sql;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;         /* guarded by mu */
    bool abandon;          /* guarded by mu: jobs_stop gave up on the busy threads */
    pthread_t maint;
    bool maint_started;
    int nslots;
    struct slot *slots;
    _Atomic uint64_t n_done, n_retried, n_dead, n_lost, n_released;
    _Atomic int busy;
    int64_t next_reap, next_tick;
};

/* A pool left allocated because a handler never returned (jobs_stop):
 * reachable, so leak checkers stay quiet. */
static struct jobs_pool *abandoned;

/* ---- SQL ------------------------------------------------------------------------ */

#define CLAIM_SET                                                                       \
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_id = $1,"        \
    " lease_until = $2, locked_by = $3, started_at = $4, updated_at = $4"                \
    " WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $4"
static const char claim_pg_all[] =
    CLAIM_SET " ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, type, queue, payload, attempts, max_attempts";
static const char claim_pg_q[] =
    CLAIM_SET " AND queue = ANY (string_to_array($5, ','))"
    " ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, type, queue, payload, attempts, max_attempts";
static const char claim_sq_all[] =
    CLAIM_SET " ORDER BY priority DESC, run_at, id LIMIT 1)"
    " RETURNING id, type, queue, payload, attempts, max_attempts";
static const char claim_sq_q[] =
    CLAIM_SET " AND instr(',' || $5 || ',', ',' || queue || ',') > 0"
    " ORDER BY priority DESC, run_at, id LIMIT 1)"
    " RETURNING id, type, queue, payload, attempts, max_attempts";

/* $1 id, $2 lease_id, $3 new state, $4 run_at, $5 error (NULL keeps), $6
 * finished_at, $7 now, $8 attempts delta (0, or -1 for a release) */
#define FINISH_UPDATE                                                                   \
    "UPDATE jobs SET state = $3, run_at = $4, last_error = COALESCE($5, last_error),"   \
    " finished_at = $6, attempts = attempts + $8, lease_id = NULL, lease_until = NULL,"   \
    " updated_at = $7 WHERE id = $1 AND lease_id = $2 AND state = 'running'"

static const char finish_sq[] = FINISH_UPDATE;
/* ... $9 attempt, $10 worker, $11 outcome, $12 error, $13 started_at */
static const char attempt_sq[] =
    "INSERT INTO job_attempts (job_id, attempt, worker, outcome, error, started_at,"
    " finished_at, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char finish_pg[] =
    "WITH u AS (" FINISH_UPDATE " RETURNING id)"
    " INSERT INTO job_attempts (job_id, attempt, worker, outcome, error, started_at,"
    " finished_at, duration_ms) SELECT id, $9::int, $10::text, $11::text, $12::text,"
    " $13::bigint, $7::bigint, $7::bigint - $13::bigint FROM u";

#define LOST_ERR "lease expired: the worker stopped or lost the database"
#define REAP_STATE                                                                      \
    "CASE WHEN attempts >= (CASE WHEN max_attempts > 0 THEN max_attempts ELSE $2 END)"  \
    " THEN 'dead' ELSE 'queued' END"
#define REAP_UPDATE                                                                     \
    "UPDATE jobs SET state = " REAP_STATE ", finished_at = CASE WHEN " REAP_STATE       \
    " = 'dead' THEN $1 ELSE NULL END, last_error = '" LOST_ERR "', lease_id = NULL,"     \
    " lease_until = NULL, run_at = $1, updated_at = $1"                                 \
    " WHERE state = 'running' AND lease_until < $1"

static const char reap_pg[] =
    "WITH u AS (" REAP_UPDATE " RETURNING id, attempts, locked_by, started_at)"
    " INSERT INTO job_attempts (job_id, attempt, worker, outcome, error, started_at,"
    " finished_at, duration_ms) SELECT id, attempts, COALESCE(locked_by, ''), 'lost', '"
    LOST_ERR "', COALESCE(started_at, $1::bigint), $1::bigint,"
    " $1::bigint - COALESCE(started_at, $1::bigint) FROM u";
static const char reap_sq_attempts[] =
    "INSERT INTO job_attempts (job_id, attempt, worker, outcome, error, started_at,"
    " finished_at, duration_ms) SELECT id, attempts, COALESCE(locked_by, ''), 'lost', '"
    LOST_ERR "', COALESCE(started_at, $1), $1, $1 - COALESCE(started_at, $1)"
    " FROM jobs WHERE state = 'running' AND lease_until < $1";
static const char reap_sq[] = REAP_UPDATE;

/* ---- helpers ---------------------------------------------------------------------- */

static void pool_sleep(struct jobs_pool *p, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    if (!p->stopping)
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    pthread_mutex_unlock(&p->mu);
}

static bool pool_stopping(struct jobs_pool *p)
{
    pthread_mutex_lock(&p->mu);
    bool s = p->stopping;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* Sleep the idle poll period, +-25% so that idle workers spread out. */
static void idle_wait(struct jobs_pool *p)
{
    int ms = p->o.poll_ms;
    int span = ms / 2;
    if (span > 0)
        ms = ms - span / 2 + (int)(jobs__rand64() % (uint64_t)(span + 1));
    pool_sleep(p, ms);
}

static int64_t new_lease_id(void)
{
    int64_t v = (int64_t)(jobs__rand64() >> 1);
    return v ? v : 1;
}

struct claimed {
    struct job j;
    int64_t lease_id, started_at;
    char *type, *queue, *payload;
};

static void claimed_free(struct claimed *c)
{
    ff_free(c->type);
    ff_free(c->queue);
    ff_free(c->payload);
    memset(c, 0, sizeof *c);
}

/* Claims one runnable job. FF_OK with *got set, or an error. */
static enum ff_err claim(struct slot *s, struct claimed *out, bool *got)
{
    struct jobs_pool *p = s->p;
    struct db_tx tx = DB_TX_INIT;
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool sqlite = db_dialect(p->db) == DB_SQLITE;
    enum ff_err err;
    *got = false;
    memset(out, 0, sizeof *out);
    if (sqlite) { /* BEGIN IMMEDIATE: no stale-snapshot upgrade failure */
        err = db_begin(p->db, &tx);
        c = tx.conn;
    } else {
        err = db_acquire(p->db, &c);
    }
    if (err)
        goto out;
    int64_t now = db_now_ms();
    out->lease_id = new_lease_id();
    out->started_at = now;
    err = db_query(c, p->claim_sql,
                   P(DB_I64(out->lease_id), DB_I64(now + p->o.lease_ms), DB_TEXT(s->name),
                     DB_I64(now), DB_TEXT(p->queues)),
                   p->queues ? 5 : 4, &r);
    bool has = false;
    if (!err)
        err = db_next(r, &has);
    if (!err && has) {
        out->j.id = db_col_i64(r, 0);
        out->type = ff_strdup(db_col_text(r, 1, NULL) ? db_col_text(r, 1, NULL) : "");
        out->queue = ff_strdup(db_col_text(r, 2, NULL) ? db_col_text(r, 2, NULL) : "");
        out->payload = ff_strdup(db_col_text(r, 3, NULL) ? db_col_text(r, 3, NULL) : "{}");
        out->j.attempt = (int)db_col_i64(r, 4);
        int max = (int)db_col_i64(r, 5);
        out->j.max_attempts = max > 0 ? max : p->o.max_attempts;
        if (!out->type || !out->queue || !out->payload)
            err = FF_ENOMEM; /* the claim rolls back (SQLite) or its lease expires */
    }
    db_rows_free(r);
    if (!err && sqlite)
        err = db_commit(&tx);
    if (!err && has) {
        out->j.type = out->type;
        out->j.queue = out->queue;
        out->j.payload = out->payload;
        *got = true;
    }
out:
    if (sqlite)
        db_tx_release(&tx);
    else
        db_release(c);
    if (err || !*got)
        claimed_free(out);
    return err;
}

struct finish {
    const char *state;   /* "done", "queued", "dead" */
    const char *outcome; /* attempt outcome */
    const char *error;   /* NULL = none */
    int64_t run_at;
    bool release;
};

/* Writes the end of a claim (fenced) and its attempt row on c (which may be
 * in a transaction). *won = false when the claim was no longer ours. */
static enum ff_err finish_on(struct jobs_pool *p, struct db_conn *c, const struct slot *s,
                             const struct claimed *cl, const struct finish *f, bool *won)
{
    int64_t now = db_now_ms();
    bool final = !strcmp(f->state, "done") || !strcmp(f->state, "dead");
    struct db_param prm[13] = {
        DB_I64(cl->j.id), DB_I64(cl->lease_id), DB_TEXT(f->state),
        DB_I64(f->run_at ? f->run_at : now), DB_TEXT(f->error),
        final ? DB_I64(now) : DB_NULL, DB_I64(now), DB_I64(f->release ? -1 : 0),
        DB_I64(cl->j.attempt), DB_TEXT(s->name), DB_TEXT(f->outcome), DB_TEXT(f->error),
        DB_I64(cl->started_at)};
    int64_t n = 0;
    enum ff_err err;
    *won = false;
    if (db_dialect(p->db) == DB_PG) {
        err = db_exec(c, finish_pg, prm, 13, &n);
        *won = !err && n == 1;
        return err;
    }
    err = db_exec(c, finish_sq, prm, 8, &n);
    if (err || n != 1)
        return err;
    *won = true;
    return db_exec(c, attempt_sq,
                   P(DB_I64(cl->j.id), DB_I64(cl->j.attempt), DB_TEXT(s->name),
                     DB_TEXT(f->outcome), DB_TEXT(f->error), DB_I64(cl->started_at),
                     DB_I64(now), DB_I64(now - cl->started_at)),
                   8, NULL);
}

/* finish_on in its own short transaction, retried a few times on a storage
 * error (a lost write here only means the lease expires and the job reruns). */
static void finish(struct jobs_pool *p, const struct slot *s, const struct claimed *cl,
                   const struct finish *f, bool *won)
{
    enum ff_err err = FF_OK;
    *won = false;
    for (int tries = 0; tries < 5; tries++) {
        struct db_tx tx = DB_TX_INIT;
        err = db_begin(p->db, &tx);
        if (!err)
            err = finish_on(p, tx.conn, s, cl, f, won);
        if (!err)
            err = db_commit(&tx);
        db_tx_release(&tx);
        if (!err)
            return;
        *won = false;
        struct timespec ts = {0, 50000000L * (tries + 1)};
        nanosleep(&ts, NULL);
    }
    ff_log(FF_LOG_WARN, "jobs", "job %lld: cannot record the end of attempt %d (%s: %s);"
           " it will run again after its lease", (long long)cl->j.id, cl->j.attempt,
           ff_err_name(err), db_errmsg());
}

/* What a failed attempt leads to. */
static void failed(struct jobs_pool *p, const struct claimed *cl, enum job_result res,
                   const char *err, struct finish *f)
{
    bool dead = res == JOB_FAIL || cl->j.attempt >= cl->j.max_attempts;
    f->state = dead ? "dead" : "queued";
    f->outcome = dead ? "failed" : "retry";
    f->error = err[0] ? err : (res == JOB_FAIL ? "failed" : "retry requested");
    f->run_at = dead ? 0
                     : db_now_ms() + jobs__backoff_ms(cl->j.attempt, p->o.backoff_ms,
                                                      p->o.backoff_max_ms, jobs__rand64());
}

/* Runs a transactional handler: its writes and "done" commit together. */
static enum job_result run_tx(struct jobs_pool *p, const struct slot *s,
                              const struct jobs__handler *h, const struct claimed *cl,
                              char *err, bool *won)
{
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(p->db, &tx);
    enum job_result res = JOB_RETRY;
    *won = false;
    if (e) {
        snprintf(err, ERRLEN, "cannot begin the job's transaction: %s", db_errmsg());
        return JOB_RETRY;
    }
    res = h->tx_fn(tx.conn, &cl->j, h->ud, err, ERRLEN);
    if (res == JOB_DONE) {
        struct finish f = {"done", "done", NULL, 0, false};
        e = finish_on(p, tx.conn, s, cl, &f, won);
        if (!e && *won)
            e = db_commit(&tx);
        if (e) {
            *won = false;
            snprintf(err, ERRLEN, "cannot commit the job's transaction: %s", db_errmsg());
            res = JOB_RETRY;
        }
    }
    db_tx_release(&tx); /* rolls back unless committed */
    return res;
}

static void run_one(struct slot *s, struct claimed *cl)
{
    struct jobs_pool *p = s->p;
    const struct jobs__handler *h = jobs__find(p->reg, cl->j.type);
    char err[ERRLEN] = "";
    enum job_result res;
    bool won = false, finished = false;
    atomic_fetch_add(&p->busy, 1);
    if (!h) {
        snprintf(err, sizeof err, "no handler for job type %s in this worker", cl->j.type);
        res = JOB_RETRY;
    } else if (h->tx_fn) {
        res = run_tx(p, s, h, cl, err, &won);
        finished = res == JOB_DONE;
    } else {
        res = h->fn(&cl->j, h->ud, err, sizeof err);
        if (res != JOB_DONE && res != JOB_RETRY && res != JOB_FAIL) {
            snprintf(err, sizeof err, "handler returned %d", (int)res);
            res = JOB_RETRY;
        }
    }
    err[sizeof err - 1] = '\0';
    pthread_mutex_lock(&p->mu);
    while (p->abandon) /* released at the deadline; the process is exiting */
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    if (!finished) {
        struct finish f = {"done", "done", NULL, 0, false};
        if (res != JOB_DONE)
            failed(p, cl, res, err, &f);
        finish(p, s, cl, &f, &won);
        if (won && !strcmp(f.state, "dead"))
            ff_log(FF_LOG_WARN, "jobs", "job %lld (%s) is dead after %d attempt(s): %s",
                   (long long)cl->j.id, cl->j.type, cl->j.attempt, f.error);
    }
    if (!won) {
        atomic_fetch_add(&p->n_lost, 1);
        ff_log(FF_LOG_WARN, "jobs", "job %lld (%s): lease lost before the attempt ended;"
               " its result is dropped", (long long)cl->j.id, cl->j.type);
    } else if (res == JOB_DONE) {
        atomic_fetch_add(&p->n_done, 1);
    } else if (res == JOB_FAIL || cl->j.attempt >= cl->j.max_attempts) {
        atomic_fetch_add(&p->n_dead, 1);
    } else {
        atomic_fetch_add(&p->n_retried, 1);
    }
    atomic_fetch_sub(&p->busy, 1);
}

static void *worker_main(void *arg)
{
    struct slot *s = arg;
    struct jobs_pool *p = s->p;
    int64_t last_warn = 0;
    while (!pool_stopping(p)) {
        struct claimed cl;
        bool got = false;
        enum ff_err err = claim(s, &cl, &got);
        if (err) {
            int64_t now = db_now_ms();
            if (now - last_warn > 10000) {
                ff_log(FF_LOG_WARN, "jobs", "%s: cannot claim a job (%s: %s)", s->name,
                       ff_err_name(err), db_errmsg());
                last_warn = now;
            }
            idle_wait(p);
            continue;
        }
        if (!got) {
            idle_wait(p);
            continue;
        }
        pthread_mutex_lock(&p->mu);
        s->busy = true;
        s->job_id = cl.j.id;
        s->lease_id = cl.lease_id;
        s->beat_at = cl.started_at;
        pthread_mutex_unlock(&p->mu);
        run_one(s, &cl);
        pthread_mutex_lock(&p->mu);
        s->busy = false;
        pthread_mutex_unlock(&p->mu);
        claimed_free(&cl);
    }
    pthread_mutex_lock(&p->mu);
    s->exited = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- maintenance ------------------------------------------------------------------ */

/* Extends the leases of the jobs this pool runs, every lease/3. */
static void heartbeat(struct jobs_pool *p)
{
    int64_t now = db_now_ms();
    for (int i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        pthread_mutex_lock(&p->mu);
        bool due = s->busy && now - s->beat_at >= p->o.lease_ms / 3;
        int64_t id = s->job_id, lease = s->lease_id;
        pthread_mutex_unlock(&p->mu);
        if (!due)
            continue;
        struct db_conn *c;
        if (db_acquire(p->db, &c))
            continue;
        enum ff_err err = db_exec(c,
                                  "UPDATE jobs SET lease_until = $1 WHERE id = $2"
                                  " AND lease_id = $3 AND state = 'running'",
                                  P(DB_I64(now + p->o.lease_ms), DB_I64(id), DB_I64(lease)), 3,
                                  NULL);
        db_release(c);
        if (!err) {
            pthread_mutex_lock(&p->mu);
            if (s->busy && s->lease_id == lease)
                s->beat_at = now;
            pthread_mutex_unlock(&p->mu);
        }
    }
}

/* Requeues (or kills, past max attempts) jobs whose lease expired. */
static enum ff_err reap(struct jobs_pool *p)
{
    int64_t now = db_now_ms();
    struct db_conn *c;
    /* a cheap read first: most of the time there is nothing to do */
    enum ff_err err = db_acquire(p->db, &c);
    if (err)
        return err;
    int64_t n = 0;
    err = db_query_i64(c, "SELECT count(*) FROM jobs WHERE state = 'running' AND lease_until < $1",
                       P(DB_I64(now)), 1, &n);
    db_release(c);
    if (err || !n)
        return err;
    struct db_tx tx = DB_TX_INIT;
    int64_t got = 0;
    err = db_begin(p->db, &tx);
    if (!err && db_dialect(p->db) == DB_PG) {
        err = db_exec(tx.conn, reap_pg, P(DB_I64(now), DB_I64(p->o.max_attempts)), 2, &got);
    } else if (!err) {
        err = db_exec(tx.conn, reap_sq_attempts, P(DB_I64(now)), 1, NULL);
        if (!err)
            err = db_exec(tx.conn, reap_sq, P(DB_I64(now), DB_I64(p->o.max_attempts)), 2, &got);
    }
    if (!err)
        err = db_commit(&tx);
    db_tx_release(&tx);
    if (!err && got) {
        ff_log(FF_LOG_WARN, "jobs", "%lld job(s) lost their worker (lease expired); queued again",
               (long long)got);
    }
    return err;
}

static enum ff_err schedules_upsert(struct jobs_pool *p)
{
    struct db_conn *c;
    enum ff_err err = db_acquire(p->db, &c);
    int64_t now = db_now_ms();
    for (size_t i = 0; !err && i < p->reg->nev; i++) {
        const struct jobs__every *e = &p->reg->ev[i];
        err = db_exec(c,
                      "INSERT INTO job_schedules (name, queue, payload, interval_ms,"
                      " next_run_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)"
                      " ON CONFLICT (name) DO UPDATE SET queue = excluded.queue,"
                      " payload = excluded.payload, interval_ms = excluded.interval_ms,"
                      " next_run_at = CASE WHEN job_schedules.interval_ms <> excluded.interval_ms"
                      " AND job_schedules.next_run_at >"
                      " excluded.next_run_at + excluded.interval_ms THEN excluded.next_run_at"
                      " ELSE job_schedules.next_run_at END, updated_at = excluded.updated_at",
                      P(DB_TEXT(e->type), DB_TEXT(e->queue), DB_TEXT(e->payload),
                        DB_I64(e->interval_ms), DB_I64(now)),
                      5, NULL);
    }
    if (c)
        db_release(c);
    return err;
}

/* Enqueues the recurring jobs that are due; one instance wins each tick. */
static enum ff_err schedules_tick(struct jobs_pool *p)
{
    if (!p->reg->nev)
        return FF_OK;
    int64_t now = db_now_ms();
    struct db_conn *c;
    struct db_rows *r;
    enum ff_err err = db_acquire(p->db, &c);
    if (err)
        return err;
    bool due[64] = {false}, any = false, has = false;
    err = db_query(c, "SELECT name FROM job_schedules WHERE next_run_at <= $1",
                   P(DB_I64(now)), 1, &r);
    while (!err && !(err = db_next(r, &has)) && has) {
        const char *name = db_col_text(r, 0, NULL);
        for (size_t i = 0; name && i < p->reg->nev && i < 64; i++)
            if (!strcmp(p->reg->ev[i].type, name))
                due[i] = any = true;
    }
    if (r && !err)
        db_rows_free(r);
    else if (r)
        db_rows_free(r);
    db_release(c);
    for (size_t i = 0; !err && any && i < p->reg->nev && i < 64; i++) {
        if (!due[i])
            continue;
        const struct jobs__every *e = &p->reg->ev[i];
        struct db_tx tx = DB_TX_INIT;
        int64_t won = 0;
        char key[JOBS_NAME_MAX + 16];
        snprintf(key, sizeof key, "every:%s", e->type);
        err = db_begin(p->db, &tx);
        if (!err)
            err = db_exec(tx.conn,
                          "UPDATE job_schedules SET next_run_at = $2 + interval_ms,"
                          " updated_at = $2 WHERE name = $1 AND next_run_at <= $2",
                          P(DB_TEXT(e->type), DB_I64(now)), 2, &won);
        if (!err && won) {
            struct job_spec js = {.type = e->type, .queue = e->queue, .payload = e->payload,
                                  .unique_key = key};
            err = jobs_enqueue(tx.conn, &js, NULL);
        }
        if (!err)
            err = db_commit(&tx);
        db_tx_release(&tx);
    }
    return err;
}

enum ff_err jobs_maintain(struct jobs_pool *p)
{
    enum ff_err err = reap(p);
    if (!err && p->o.run_schedules)
        err = schedules_tick(p);
    return err;
}

static void *maint_main(void *arg)
{
    struct jobs_pool *p = arg;
    int64_t last_warn = 0;
    int step = p->o.lease_ms / 6;
    if (step > 1000)
        step = 1000;
    if (step < 50)
        step = 50;
    if (p->o.run_schedules && schedules_upsert(p))
        ff_log(FF_LOG_WARN, "jobs", "cannot record the recurring jobs: %s", db_errmsg());
    while (!pool_stopping(p)) {
        heartbeat(p);
        int64_t now = db_now_ms();
        if (now >= p->next_reap) {
            p->next_reap = now + 500 + (int64_t)(jobs__rand64() % 1000);
            enum ff_err err = jobs_maintain(p);
            if (err && now - last_warn > 10000) {
                ff_log(FF_LOG_WARN, "jobs", "maintenance failed (%s: %s)", ff_err_name(err),
                       db_errmsg());
                last_warn = now;
            }
        }
        pool_sleep(p, step);
    }
    return NULL;
}

/* ---- start / stop ----------------------------------------------------------------- */

static void fill_defaults(struct jobs_opts *o)
{
    if (o->workers < 1)
        o->workers = 1;
    if (o->lease_ms <= 0)
        o->lease_ms = 60000;
    if (o->lease_ms < 100)
        o->lease_ms = 100;
    if (o->poll_ms <= 0)
        o->poll_ms = 250;
    if (o->max_attempts <= 0)
        o->max_attempts = 8;
    if (o->backoff_ms <= 0)
        o->backoff_ms = 1000;
    if (o->backoff_max_ms <= 0)
        o->backoff_max_ms = 3600000;
    if (o->keep_done_ms <= 0)
        o->keep_done_ms = 7LL * 24 * 3600 * 1000;
}

static void pool_free(struct jobs_pool *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    ff_free(p->queues);
    ff_free(p->slots);
    ff_free(p);
}

enum ff_err jobs_start(struct db *db, struct jobs_registry *reg, const struct jobs_opts *o,
                       struct jobs_pool **out)
{
    *out = NULL;
    if (!db || !reg || !o || !jobs_queue_list_ok(o->queues))
        return jobs__fail(FF_EINVAL, "queues: a comma-separated list of queue names");
    struct jobs_pool *p = ff_calloc(1, sizeof *p);
    if (!p)
        return FF_ENOMEM;
    p->db = db;
    p->reg = reg;
    p->o = *o;
    fill_defaults(&p->o);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->nslots = p->o.workers;
    p->slots = ff_calloc((size_t)p->nslots, sizeof *p->slots);
    if (o->queues && *o->queues)
        p->queues = ff_strdup(o->queues);
    if (!p->slots || (o->queues && *o->queues && !p->queues)) {
        pool_free(p);
        return FF_ENOMEM;
    }
    bool pg = db_dialect(db) == DB_PG;
    p->claim_sql = pg ? (p->queues ? claim_pg_q : claim_pg_all)
                      : (p->queues ? claim_sq_q : claim_sq_all);
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    for (int i = 0; i < p->nslots; i++) {
        p->slots[i].p = p;
        if (o->name && *o->name)
            snprintf(p->slots[i].name, sizeof p->slots[i].name, "%s/%d", o->name, i);
        else
            snprintf(p->slots[i].name, sizeof p->slots[i].name, "%s:%d/%d", host, (int)getpid(),
                     i);
    }
    int started = 0;
    bool fail = pthread_create(&p->maint, NULL, maint_main, p) != 0;
    p->maint_started = !fail;
    for (; !fail && started < p->nslots; started++)
        fail = pthread_create(&p->slots[started].th, NULL, worker_main, &p->slots[started]) != 0;
    if (fail) {
        jobs_stop_begin(p);
        if (p->maint_started)
            pthread_join(p->maint, NULL);
        for (int i = 0; i < started - 1; i++)
            pthread_join(p->slots[i].th, NULL);
        pool_free(p);
        return FF_ENOMEM;
    }
    *out = p;
    return FF_OK;
}

void jobs_stop_begin(struct jobs_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Gives a job still running at the deadline back to the queue. */
static bool release_job(struct jobs_pool *p, struct slot *s, int64_t id, int64_t lease)
{
    int64_t now = db_now_ms();
    struct db_conn *c;
    int64_t n = 0;
    if (db_acquire(p->db, &c))
        return false;
    enum ff_err err = db_exec(c,
                              "UPDATE jobs SET state = 'queued', attempts = attempts - 1,"
                              " run_at = $3, lease_id = NULL, lease_until = NULL,"
                              " updated_at = $3 WHERE id = $1 AND lease_id = $2"
                              " AND state = 'running'",
                              P(DB_I64(id), DB_I64(lease), DB_I64(now)), 3, &n);
    if (!err && n == 1)
        err = db_exec(c,
                      "INSERT INTO job_attempts (job_id, attempt, worker, outcome, error,"
                      " started_at, finished_at, duration_ms) SELECT id, attempts + 1, $2,"
                      " 'released', 'released at shutdown', COALESCE(started_at, $3), $3,"
                      " $3 - COALESCE(started_at, $3) FROM jobs WHERE id = $1",
                      P(DB_I64(id), DB_TEXT(s->name), DB_I64(now)), 3, NULL);
    db_release(c);
    return !err && n == 1;
}

int jobs_stop(struct jobs_pool *p, int timeout_ms)
{
    if (!p)
        return 0;
    jobs_stop_begin(p);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        int left = 0;
        for (int i = 0; i < p->nslots; i++)
            left += !p->slots[i].exited;
        if (!left || pthread_cond_timedwait(&p->cv, &p->mu, &dl))
            break;
    }
    pthread_mutex_unlock(&p->mu);
    if (p->maint_started)
        pthread_join(p->maint, NULL);
    int released = 0, stuck = 0;
    pthread_mutex_lock(&p->mu);
    p->abandon = true; /* a handler returning from now on stays put */
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        pthread_mutex_lock(&p->mu);
        bool exited = s->exited, busy = s->busy;
        int64_t id = s->job_id, lease = s->lease_id;
        pthread_mutex_unlock(&p->mu);
        if (exited) {
            pthread_join(s->th, NULL);
            continue;
        }
        stuck++;
        pthread_detach(s->th);
        if (busy && release_job(p, s, id, lease)) {
            released++;
            atomic_fetch_add(&p->n_released, 1);
            ff_log(FF_LOG_WARN, "jobs", "job %lld still running at the shutdown deadline:"
                   " released to the queue", (long long)id);
        }
    }
    if (stuck)
        abandoned = p; /* its threads may still touch it */
    else
        pool_free(p);
    return released;
}

void jobs_pool_stats(struct jobs_pool *p, struct jobs_pool_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!p)
        return;
    out->done = atomic_load(&p->n_done);
    out->retried = atomic_load(&p->n_retried);
    out->dead = atomic_load(&p->n_dead);
    out->lost = atomic_load(&p->n_lost);
    out->released = atomic_load(&p->n_released);
    out->busy = atomic_load(&p->busy);
}
