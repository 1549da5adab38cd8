/* test_jobs.c - the job queue on the back end named by FF_TEST_DB (SQLite or
 * PostgreSQL): enqueue (outbox, validation, unique keys), workers (claim
 * order, queues, retries, dead letters, attempts), leases, transactional
 * handlers, recurring jobs and graceful stop. Waits are polled with generous
 * deadlines; nothing asserts on timing. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "jobs/jobs.h"
#include "jobs/jobs_int.h"
#include "unit/db/dbtest.h"

static struct db *db;

#define P(...) ((struct db_param[]){__VA_ARGS__})

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t q1(const char *sql, const struct db_param *p, int np)
{
    struct db_conn *c;
    int64_t v = -1;
    if (db_acquire(db, &c))
        return -2;
    enum ff_err e = db_query_i64(c, sql, p, np, &v);
    db_release(c);
    return e ? -3 : v;
}

static void exec1(const char *sql)
{
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    enum ff_err e = db_exec(c, sql, NULL, 0, NULL);
    db_release(c);
    ASSERT_OK(e);
}

static void reset(void)
{
    exec1("DELETE FROM jobs");
    exec1("DELETE FROM job_schedules");
}

static int64_t enqueue(const struct job_spec *s)
{
    struct db_conn *c;
    int64_t id = 0;
    if (db_acquire(db, &c))
        return -1;
    enum ff_err e = jobs_enqueue(c, s, &id);
    db_release(c);
    return e ? -(int64_t)e : id;
}

/* Polls until `sql` (one integer) equals want, up to 60 s. */
static bool wait_eq(const char *sql, const struct db_param *p, int np, int64_t want)
{
    for (int i = 0; i < 6000; i++) {
        if (q1(sql, p, np) == want)
            return true;
        msleep(10);
    }
    fprintf(stderr, "timed out: %s = %lld, want %lld\n", sql, (long long)q1(sql, p, np),
            (long long)want);
    return false;
}

static const struct jobs_opts fast = {.workers = 2, .lease_ms = 2000, .poll_ms = 10,
                                      .backoff_ms = 1, .backoff_max_ms = 5};

/* ---- pure helpers ---------------------------------------------------------------- */

TEST(names_and_queue_lists)
{
    ASSERT(jobs_name_ok("email.send"));
    ASSERT(jobs_name_ok("a"));
    ASSERT(jobs_name_ok("tryon:expire-v2_x"));
    ASSERT(!jobs_name_ok(""));
    ASSERT(!jobs_name_ok(NULL));
    ASSERT(!jobs_name_ok(".x"));
    ASSERT(!jobs_name_ok("Email"));
    ASSERT(!jobs_name_ok("a b"));
    ASSERT(!jobs_name_ok("a,b"));
    ASSERT(!jobs_name_ok("x'; DROP TABLE jobs; --"));
    ASSERT(!jobs_name_ok("\xc3\xa9"));
    char big[JOBS_NAME_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ASSERT(!jobs_name_ok(big));
    big[JOBS_NAME_MAX] = '\0';
    ASSERT(jobs_name_ok(big));

    ASSERT(jobs_queue_list_ok(""));
    ASSERT(jobs_queue_list_ok(NULL));
    ASSERT(jobs_queue_list_ok("default"));
    ASSERT(jobs_queue_list_ok("mail,default,sync.x"));
    ASSERT(!jobs_queue_list_ok(","));
    ASSERT(!jobs_queue_list_ok("a,"));
    ASSERT(!jobs_queue_list_ok(",a"));
    ASSERT(!jobs_queue_list_ok("a,,b"));
    ASSERT(!jobs_queue_list_ok("a, b"));
    ASSERT(!jobs_queue_list_ok("A"));
    char many[33 * 2 + 1] = "";
    for (int i = 0; i < 33; i++)
        memcpy(many + 2 * i, i ? ",a" : "a,", 2);
    many[65] = '\0';
    ASSERT(!jobs_queue_list_ok(many)); /* 33 names */
    char longq[200];
    memset(longq, 'q', sizeof longq - 1);
    longq[sizeof longq - 1] = '\0';
    ASSERT(!jobs_queue_list_ok(longq));
}

TEST(backoff_grows_with_jitter_and_cap)
{
    for (int a = 1; a <= 40; a++) {
        int64_t full = 1000;
        for (int i = 1; i < a && full < 60000; i++)
            full *= 2;
        if (full > 60000)
            full = 60000;
        int64_t lo = jobs__backoff_ms(a, 1000, 60000, 0);
        int64_t hi = jobs__backoff_ms(a, 1000, 60000, UINT64_MAX - 1);
        ASSERT(lo >= full / 2 && lo <= full);
        ASSERT(hi >= full / 2 && hi <= full);
        for (int k = 0; k < 50; k++) {
            int64_t d = jobs__backoff_ms(a, 1000, 60000, jobs__rand64());
            ASSERT(d >= full - full / 2 && d <= full);
        }
    }
    ASSERT_EQ(jobs__backoff_ms(0, 0, 0, 0), 1);
    ASSERT(jobs__backoff_ms(1000000, 1000, 3600000, 0) <= 3600000);
}

TEST(registry_rules)
{
    struct jobs_registry *reg;
    ASSERT_OK(jobs_registry_new(&reg));
    ASSERT_EQ(jobs_register(reg, "Bad Name", (job_handler_fn)1, NULL), FF_EINVAL);
    ASSERT_EQ(jobs_register(reg, "ok", NULL, NULL), FF_EINVAL);
    ASSERT_OK(jobs_register(reg, "ok", (job_handler_fn)1, NULL));
    ASSERT_EQ(jobs_register(reg, "ok", (job_handler_fn)1, NULL), FF_ECONFLICT);
    ASSERT_EQ(jobs_every(reg, "ok", NULL, 0, NULL), FF_EINVAL);
    ASSERT_EQ(jobs_every(reg, "ok", NULL, 31622401, NULL), FF_EINVAL);
    ASSERT_EQ(jobs_every(reg, "ok", "Bad", 10, NULL), FF_EINVAL);
    ASSERT_EQ(jobs_every(reg, "ok", NULL, 10, "[1]"), FF_EINVAL);
    ASSERT_EQ(jobs_every(reg, "ok", NULL, 10, "{"), FF_EINVAL);
    ASSERT_OK(jobs_every(reg, "ok", NULL, 10, "{\"a\":1}"));
    ASSERT_EQ(jobs_every(reg, "ok", NULL, 20, NULL), FF_ECONFLICT);
    ASSERT_OK(jobs_register_builtin(reg, 0));
    jobs_registry_free(reg);
}

/* ---- enqueue ---------------------------------------------------------------------- */

TEST(enqueue_validates)
{
    reset();
    ASSERT_EQ(enqueue(&(struct job_spec){.type = NULL}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "Bad"}), -FF_EINVAL);
    ASSERT(strstr(jobs_errmsg(), "type"));
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .queue = ""}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .queue = "x y"}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .payload = "[1,2]"}), -FF_EINVAL);
    ASSERT(strstr(jobs_errmsg(), "object"));
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .payload = "{\"a\":"}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .payload = "{\"a\":1,\"a\":2}"}),
              -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .payload = ""}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .priority = JOBS_PRIORITY_LIMIT + 1}),
              -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .max_attempts = -1}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .max_attempts = 1001}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .run_at_ms = -5}), -FF_EINVAL);
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .unique_key = ""}), -FF_EINVAL);
    char *big = ff_malloc(JOBS_PAYLOAD_MAX + 16);
    ASSERT(big);
    memset(big, ' ', JOBS_PAYLOAD_MAX + 8);
    big[0] = '{';
    big[JOBS_PAYLOAD_MAX + 8] = '}';
    big[JOBS_PAYLOAD_MAX + 9] = '\0';
    int64_t r = enqueue(&(struct job_spec){.type = "a", .payload = big});
    ff_free(big);
    ASSERT_EQ(r, -FF_EINVAL);
    char key[JOBS_UNIQUE_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    ASSERT_EQ(enqueue(&(struct job_spec){.type = "a", .unique_key = key}), -FF_EINVAL);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs", NULL, 0), 0); /* nothing was added */

    const char *hostile = "{\"k\":\"x'); DROP TABLE jobs; -- \\u00e9 $1 ?1\"}";
    int64_t id = enqueue(&(struct job_spec){.type = "a", .payload = hostile, .priority = -7,
                                            .queue = "q.1"});
    ASSERT(id > 0);
    struct db_conn *c;
    struct db_rows *rows;
    bool has;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_query(c, "SELECT type, queue, payload, state, priority, attempts, max_attempts"
                          " FROM jobs WHERE id = $1", P(DB_I64(id)), 1, &rows));
    ASSERT_OK(db_next(rows, &has));
    ASSERT(has);
    ASSERT_STREQ(db_col_text(rows, 0, NULL), "a");
    ASSERT_STREQ(db_col_text(rows, 1, NULL), "q.1");
    ASSERT_STREQ(db_col_text(rows, 2, NULL), hostile);
    ASSERT_STREQ(db_col_text(rows, 3, NULL), "queued");
    ASSERT_EQ(db_col_i64(rows, 4), -7);
    ASSERT_EQ(db_col_i64(rows, 5), 0);
    ASSERT_EQ(db_col_i64(rows, 6), 0);
    db_rows_free(rows);
    db_release(c);
}

TEST(enqueue_is_transactional)
{
    reset();
    struct db_tx tx = DB_TX_INIT;
    int64_t id = 0;
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(jobs_enqueue(tx.conn, &(struct job_spec){.type = "outbox"}, &id));
    ASSERT(id > 0);
    db_tx_release(&tx); /* rolled back */
    ASSERT_EQ(q1("SELECT count(*) FROM jobs", NULL, 0), 0);
    tx = (struct db_tx)DB_TX_INIT;
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(jobs_enqueue(tx.conn, &(struct job_spec){.type = "outbox"}, &id));
    ASSERT_OK(db_commit(&tx));
    db_tx_release(&tx);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE type = 'outbox'", NULL, 0), 1);
}

TEST(unique_key_collapses_live_jobs)
{
    reset();
    int64_t a = enqueue(&(struct job_spec){.type = "u", .unique_key = "order:1"});
    int64_t b = enqueue(&(struct job_spec){.type = "u", .unique_key = "order:1"});
    int64_t c = enqueue(&(struct job_spec){.type = "u", .unique_key = "order:2"});
    ASSERT(a > 0 && c > 0);
    ASSERT_EQ(a, b);
    ASSERT(c != a);
    /* in one transaction too */
    struct db_tx tx = DB_TX_INIT;
    int64_t d = 0, e = 0;
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(jobs_enqueue(tx.conn, &(struct job_spec){.type = "u", .unique_key = "k3"}, &d));
    ASSERT_OK(jobs_enqueue(tx.conn, &(struct job_spec){.type = "u", .unique_key = "k3"}, &e));
    ASSERT_OK(db_commit(&tx));
    db_tx_release(&tx);
    ASSERT_EQ(d, e);
    /* once the job is finished the key is free again */
    struct db_conn *cn;
    ASSERT_OK(db_acquire(db, &cn));
    ASSERT_OK(db_exec(cn, "UPDATE jobs SET state = 'done' WHERE id = $1", P(DB_I64(a)), 1, NULL));
    db_release(cn);
    int64_t f = enqueue(&(struct job_spec){.type = "u", .unique_key = "order:1"});
    ASSERT(f > 0 && f != a);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE unique_key = 'order:1'", NULL, 0), 2);
}

/* ---- workers ---------------------------------------------------------------------- */

static _Atomic int ran;
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t order[64];
static int norder;

static enum job_result h_count(const struct job *j, void *ud, char *err, size_t len)
{
    atomic_fetch_add(&ran, 1);
    pthread_mutex_lock(&order_mu);
    if (norder < 64)
        order[norder++] = j->id;
    pthread_mutex_unlock(&order_mu);
    return JOB_DONE;
}

static enum job_result h_retry(const struct job *j, void *ud, char *err, size_t len)
{
    snprintf(err, len, "boom %d", j->attempt);
    return JOB_RETRY;
}

static enum job_result h_fail(const struct job *j, void *ud, char *err, size_t len)
{
    snprintf(err, len, "permanently broken");
    return JOB_FAIL;
}

static enum job_result h_flaky(const struct job *j, void *ud, char *err, size_t len)
{
    if (j->attempt < 3) {
        snprintf(err, len, "flaky %d", j->attempt);
        return JOB_RETRY;
    }
    return JOB_DONE;
}

static struct jobs_registry *new_reg(void)
{
    struct jobs_registry *reg;
    if (jobs_registry_new(&reg))
        return NULL;
    if (jobs_register(reg, "count", h_count, NULL) || jobs_register(reg, "retry", h_retry, NULL) ||
        jobs_register(reg, "fail", h_fail, NULL) || jobs_register(reg, "flaky", h_flaky, NULL))
        return NULL;
    return reg;
}

TEST(workers_run_everything_once)
{
    reset();
    atomic_store(&ran, 0);
    norder = 0;
    struct jobs_registry *reg = new_reg();
    ASSERT(reg);
    for (int i = 0; i < 200; i++)
        ASSERT(enqueue(&(struct job_spec){.type = "count"}) > 0);
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.workers = 4;
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state = 'done'", NULL, 0, 200));
    struct jobs_pool_stats st;
    for (int i = 0; i < 5000; i++) { /* the counter moves just after the row */
        jobs_pool_stats(p, &st);
        if (st.done == 200)
            break;
        msleep(10);
    }
    ASSERT_EQ(jobs_stop(p, 5000), 0);
    ASSERT_EQ(atomic_load(&ran), 200);
    ASSERT_EQ(st.done, 200);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts a JOIN jobs j ON j.id = a.job_id"
                 " WHERE a.outcome = 'done' AND j.type = 'count'", NULL, 0), 200);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE attempts <> 1 OR lease_id IS NOT NULL"
                 " OR finished_at IS NULL", NULL, 0), 0);
    jobs_registry_free(reg);
}

TEST(priority_then_run_at_order)
{
    reset();
    norder = 0;
    struct jobs_registry *reg = new_reg();
    int64_t now = db_now_ms();
    int64_t low = enqueue(&(struct job_spec){.type = "count", .priority = -1});
    int64_t mid_late = enqueue(&(struct job_spec){.type = "count", .run_at_ms = now - 10});
    int64_t mid_early = enqueue(&(struct job_spec){.type = "count", .run_at_ms = now - 1000});
    int64_t high = enqueue(&(struct job_spec){.type = "count", .priority = 5});
    int64_t future = enqueue(&(struct job_spec){.type = "count", .priority = 9,
                                                .run_at_ms = now + 3600000});
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.workers = 1;
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state = 'done'", NULL, 0, 4));
    jobs_stop(p, 5000);
    ASSERT_EQ(norder, 4);
    ASSERT_EQ(order[0], high);
    ASSERT_EQ(order[1], mid_early);
    ASSERT_EQ(order[2], mid_late);
    ASSERT_EQ(order[3], low);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'queued'",
                 P(DB_I64(future)), 1), 1);
    jobs_registry_free(reg);
}

TEST(workers_take_only_their_queues)
{
    reset();
    struct jobs_registry *reg = new_reg();
    for (int i = 0; i < 5; i++) {
        ASSERT(enqueue(&(struct job_spec){.type = "count", .queue = "mail"}) > 0);
        ASSERT(enqueue(&(struct job_spec){.type = "count", .queue = "sync"}) > 0);
        ASSERT(enqueue(&(struct job_spec){.type = "count"}) > 0);
    }
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.queues = "mail,default";
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state = 'done'", NULL, 0, 10));
    msleep(100);
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE state = 'queued' AND queue = 'sync'", NULL, 0),
              5);
    struct jobs_opts bad = fast;
    bad.queues = "mail,,x";
    ASSERT_EQ(jobs_start(db, reg, &bad, &p), FF_EINVAL);
    jobs_registry_free(reg);
}

TEST(retries_then_dead_letter_with_attempts)
{
    reset();
    struct jobs_registry *reg = new_reg();
    int64_t r = enqueue(&(struct job_spec){.type = "retry", .max_attempts = 3});
    int64_t f = enqueue(&(struct job_spec){.type = "fail", .max_attempts = 5});
    int64_t fl = enqueue(&(struct job_spec){.type = "flaky"});
    int64_t nohandler = enqueue(&(struct job_spec){.type = "nobody.home", .max_attempts = 2});
    struct jobs_pool *p;
    ASSERT_OK(jobs_start(db, reg, &fast, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state IN ('dead','done')", NULL, 0, 4));
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'dead' AND attempts = 3"
                 " AND last_error = 'boom 3' AND finished_at IS NOT NULL", P(DB_I64(r)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1", P(DB_I64(r)), 1), 3);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1 AND outcome = 'retry'"
                 " AND error LIKE 'boom %' AND duration_ms >= 0", P(DB_I64(r)), 1), 2);
    ASSERT_EQ(q1("SELECT attempt FROM job_attempts WHERE job_id = $1 AND outcome = 'failed'",
                 P(DB_I64(r)), 1), 3);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'dead' AND attempts = 1"
                 " AND last_error = 'permanently broken'", P(DB_I64(f)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'done' AND attempts = 3",
                 P(DB_I64(fl)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1", P(DB_I64(fl)), 1), 3);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'dead'"
                 " AND last_error LIKE 'no handler%'", P(DB_I64(nohandler)), 1), 1);
    jobs_registry_free(reg);
}

TEST(backoff_delays_the_retry)
{
    reset();
    struct jobs_registry *reg = new_reg();
    int64_t id = enqueue(&(struct job_spec){.type = "retry", .max_attempts = 5});
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.backoff_ms = 3600000; /* an hour: the retry must wait */
    o.backoff_max_ms = 7200000;
    int64_t t0 = db_now_ms();
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT(wait_eq("SELECT count(*) FROM job_attempts", NULL, 0, 1));
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'queued' AND attempts = 1"
                 " AND run_at >= $2", P(DB_I64(id), DB_I64(t0 + 1800000)), 2), 1);
    jobs_registry_free(reg);
}

/* ---- leases ------------------------------------------------------------------------ */

TEST(expired_lease_runs_again)
{
    reset();
    struct jobs_registry *reg = new_reg();
    int64_t id = enqueue(&(struct job_spec){.type = "count"});
    int64_t gone = enqueue(&(struct job_spec){.type = "count", .max_attempts = 1});
    int64_t live = enqueue(&(struct job_spec){.type = "count"});
    int64_t now = db_now_ms();
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    /* as if a worker claimed them and died; live's lease is still valid */
    ASSERT_OK(db_exec(c, "UPDATE jobs SET state = 'running', attempts = 1, lease_id = 42,"
                         " lease_until = $1, locked_by = 'dead-worker/0', started_at = $2"
                         " WHERE id IN ($3, $4)",
                      P(DB_I64(now - 1), DB_I64(now - 5000), DB_I64(id), DB_I64(gone)), 4,
                      NULL));
    ASSERT_OK(db_exec(c, "UPDATE jobs SET state = 'running', attempts = 1, lease_id = 43,"
                         " lease_until = $1, locked_by = 'live/0', started_at = $2 WHERE id = $3",
                      P(DB_I64(now + 3600000), DB_I64(now), DB_I64(live)), 3, NULL));
    db_release(c);
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.workers = 1;
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT_OK(jobs_maintain(p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state = 'done'", NULL, 0, 1));
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT attempts FROM jobs WHERE id = $1 AND state = 'done'", P(DB_I64(id)), 1),
              2);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1 AND outcome = 'lost'"
                 " AND worker = 'dead-worker/0' AND attempt = 1 AND duration_ms >= 5000",
                 P(DB_I64(id)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'dead'"
                 " AND last_error LIKE 'lease expired%'", P(DB_I64(gone)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'running'",
                 P(DB_I64(live)), 1), 1);
    jobs_registry_free(reg);
}

static _Atomic int long_started;

static enum job_result h_long(const struct job *j, void *ud, char *err, size_t len)
{
    atomic_store(&long_started, 1);
    int ms = *(int *)ud;
    msleep(ms);
    return JOB_DONE;
}

TEST(heartbeat_keeps_a_long_job)
{
    reset();
    struct jobs_registry *reg;
    ASSERT_OK(jobs_registry_new(&reg));
    int ms = 1500;
    ASSERT_OK(jobs_register(reg, "long", h_long, &ms));
    int64_t id = enqueue(&(struct job_spec){.type = "long"});
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.workers = 1;
    o.lease_ms = 300; /* the job runs five leases long */
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state = 'done'", NULL, 0, 1));
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT attempts FROM jobs WHERE id = $1", P(DB_I64(id)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1", P(DB_I64(id)), 1), 1);
    jobs_registry_free(reg);
}

TEST(stop_finishes_or_releases)
{
    reset();
    struct jobs_registry *reg;
    ASSERT_OK(jobs_registry_new(&reg));
    int ms = 300;
    ASSERT_OK(jobs_register(reg, "long", h_long, &ms));
    int64_t id = enqueue(&(struct job_spec){.type = "long"});
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.workers = 1;
    atomic_store(&long_started, 0);
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    while (!atomic_load(&long_started))
        msleep(5);
    ASSERT_EQ(jobs_stop(p, 10000), 0); /* finishes within the timeout */
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'done'", P(DB_I64(id)), 1),
              1);

    /* a job longer than the timeout is released (and its thread left behind) */
    static int forever = 3000;
    struct jobs_registry *reg2;
    ASSERT_OK(jobs_registry_new(&reg2));
    ASSERT_OK(jobs_register(reg2, "stuck", h_long, &forever));
    int64_t sid = enqueue(&(struct job_spec){.type = "stuck"});
    atomic_store(&long_started, 0);
    ASSERT_OK(jobs_start(db, reg2, &o, &p));
    while (!atomic_load(&long_started))
        msleep(5);
    ASSERT_EQ(jobs_stop(p, 100), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'queued' AND attempts = 0"
                 " AND lease_id IS NULL", P(DB_I64(sid)), 1), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1 AND outcome = 'released'"
                 " AND attempt = 1", P(DB_I64(sid)), 1), 1);
    jobs_registry_free(reg);
    /* reg2 stays: the abandoned thread still points at it */
}

/* ---- transactional handlers --------------------------------------------------------- */

static enum job_result h_tx(struct db_conn *c, const struct job *j, void *ud, char *err,
                            size_t len)
{
    if (db_exec(c, "INSERT INTO fx (job_id, attempt) VALUES ($1, $2)",
                P(DB_I64(j->id), DB_I64(j->attempt)), 2, NULL))
        return JOB_RETRY;
    if (j->attempt < 2) {
        snprintf(err, len, "first try fails after writing");
        return JOB_RETRY;
    }
    return JOB_DONE;
}

TEST(tx_handler_effects_commit_with_done_only)
{
    reset();
    exec1("DROP TABLE IF EXISTS fx");
    exec1("CREATE TABLE fx (job_id BIGINT NOT NULL, attempt INTEGER NOT NULL)");
    struct jobs_registry *reg;
    ASSERT_OK(jobs_registry_new(&reg));
    ASSERT_OK(jobs_register_tx(reg, "fx", h_tx, NULL));
    for (int i = 0; i < 20; i++)
        ASSERT(enqueue(&(struct job_spec){.type = "fx"}) > 0);
    struct jobs_pool *p;
    ASSERT_OK(jobs_start(db, reg, &fast, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE state = 'done'", NULL, 0, 20));
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM fx", NULL, 0), 20); /* the failed tries rolled back */
    ASSERT_EQ(q1("SELECT count(DISTINCT job_id) FROM fx WHERE attempt = 2", NULL, 0), 20);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE outcome = 'retry'", NULL, 0), 20);
    jobs_registry_free(reg);
}

/* ---- recurring jobs ------------------------------------------------------------------ */

TEST(recurring_job_is_not_doubled_by_two_instances)
{
    reset();
    struct jobs_registry *ra = new_reg(), *rb = new_reg();
    ASSERT(ra && rb);
    ASSERT_OK(jobs_every(ra, "count", "cron", 3600, "{\"every\":true}"));
    ASSERT_OK(jobs_every(rb, "count", "cron", 3600, "{\"every\":true}"));
    struct jobs_pool *pa, *pb;
    struct jobs_opts o = fast;
    o.run_schedules = 1;
    ASSERT_OK(jobs_start(db, ra, &o, &pa));
    ASSERT_OK(jobs_start(db, rb, &o, &pb));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE type = 'count' AND state = 'done'", NULL, 0,
                   1));
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(jobs_maintain(pa));
        ASSERT_OK(jobs_maintain(pb));
    }
    jobs_stop(pa, 5000);
    jobs_stop(pb, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE type = 'count'", NULL, 0), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE queue = 'cron' AND payload = '{\"every\":true}'"
                 " AND unique_key = 'every:count'", NULL, 0), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM job_schedules WHERE name = 'count' AND next_run_at > $1",
                 P(DB_I64(db_now_ms() + 3000000)), 1), 1);
    /* due again: exactly one more */
    exec1("UPDATE job_schedules SET next_run_at = 0");
    ASSERT_OK(jobs_start(db, ra, &o, &pa));
    ASSERT_OK(jobs_start(db, rb, &o, &pb));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE type = 'count' AND state = 'done'", NULL, 0,
                   2));
    jobs_stop(pa, 5000);
    jobs_stop(pb, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE type = 'count'", NULL, 0), 2);
    jobs_registry_free(ra);
    jobs_registry_free(rb);
}

TEST(prune_deletes_old_done_jobs)
{
    reset();
    struct jobs_registry *reg;
    ASSERT_OK(jobs_registry_new(&reg));
    ASSERT_OK(jobs_register_builtin(reg, 1000));
    int64_t old = enqueue(&(struct job_spec){.type = "x"});
    int64_t recent = enqueue(&(struct job_spec){.type = "x"});
    int64_t deadj = enqueue(&(struct job_spec){.type = "x"});
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "UPDATE jobs SET state = 'done', finished_at = 1 WHERE id = $1",
                      P(DB_I64(old)), 1, NULL));
    ASSERT_OK(db_exec(c, "INSERT INTO job_attempts (job_id, attempt, worker, outcome,"
                         " started_at, finished_at, duration_ms) VALUES ($1, 1, 'w', 'done', 0, 1, 1)",
                      P(DB_I64(old)), 1, NULL));
    ASSERT_OK(db_exec(c, "UPDATE jobs SET state = 'done', finished_at = $2 WHERE id = $1",
                      P(DB_I64(recent), DB_I64(db_now_ms() + 60000)), 2, NULL));
    ASSERT_OK(db_exec(c, "UPDATE jobs SET state = 'dead', finished_at = 1 WHERE id = $1",
                      P(DB_I64(deadj)), 1, NULL));
    db_release(c);
    struct jobs_pool *p;
    struct jobs_opts o = fast;
    o.run_schedules = 1;
    ASSERT_OK(jobs_start(db, reg, &o, &p));
    ASSERT(wait_eq("SELECT count(*) FROM jobs WHERE type = 'jobs.prune' AND state = 'done'", NULL,
                   0, 1));
    jobs_stop(p, 5000);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id = $1", P(DB_I64(old)), 1), 0);
    ASSERT_EQ(q1("SELECT count(*) FROM job_attempts WHERE job_id = $1", P(DB_I64(old)), 1), 0);
    ASSERT_EQ(q1("SELECT count(*) FROM jobs WHERE id IN ($1, $2)",
                 P(DB_I64(recent), DB_I64(deadj)), 2), 2);
    jobs_registry_free(reg);
}

int main(void)
{
    db = dbt_open("jobs_unit", 16);
    if (db_migrate(db, NULL)) {
        fprintf(stderr, "migrate: %s\n", db_errmsg());
        return 1;
    }
    RUN(names_and_queue_lists);
    RUN(backoff_grows_with_jitter_and_cap);
    RUN(registry_rules);
    RUN(enqueue_validates);
    RUN(enqueue_is_transactional);
    RUN(unique_key_collapses_live_jobs);
    RUN(workers_run_everything_once);
    RUN(priority_then_run_at_order);
    RUN(workers_take_only_their_queues);
    RUN(retries_then_dead_letter_with_attempts);
    RUN(backoff_delays_the_retry);
    RUN(expired_lease_runs_again);
    RUN(heartbeat_keeps_a_long_job);
    RUN(tx_handler_effects_commit_with_done_only);
    RUN(recurring_job_is_not_doubled_by_two_instances);
    RUN(prune_deletes_old_done_jobs);
    RUN(stop_finishes_or_releases); /* last: leaves a thread behind */
    int rc = TEST_REPORT();
    if (!rc) /* the abandoned thread of the last test may still use the pool */
        dbt_cleanup();
    return rc;
}
