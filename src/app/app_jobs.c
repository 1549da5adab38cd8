/* app_jobs.c - job wiring (owned by the jobs part): the registry every module
 * registers its job handlers into, serve's worker threads, and the job types
 * used only by tests and benchmarks.
 *
 * To add a module's handlers, add one line to register_modules(), e.g.
 *     if (!e) e = mail_jobs_register(reg, a->db, a->secret, a->public_url);
 * where the module calls jobs_register / jobs_register_tx / jobs_every. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts/accounts.h"
#include "app/app.h"
#include "core/log.h"
#include "db/db.h"
#include "http/validate.h"
#include "idem/idem.h"
#include "jobs/jobs.h"
#include "jobs/jobs_admin.h"
#include "orders/orders.h"
#include "payments/payments.h"
#include "tryon/tryon.h"
#include "mail/mail.h"

/* ---- every module's handlers ----------------------------------------------------- */

static enum ff_err register_modules(struct jobs_registry *reg, struct app *a)
{
    enum ff_err e = jobs_register_builtin(reg, (int64_t)a->cfg->jobs_keep_done_h * 3600000);
    /* modules: one line each, e.g. if (!e) e = mail_jobs_register(reg, ...); */
    if (!e)
        e = acc_jobs_register(reg);
    if (!e)
        e = mail_jobs_register(reg, a->mail); /* a->mail: app_mail_open first */
    if (!e && a->idem)
        e = idem_jobs_register(a->idem, reg);
    if (!e && !(e = app_orders_open(a)))
        e = orders_jobs_register(a->orders, reg);
    if (!e && !(e = app_payments_open(a, NULL, 0)))
        e = payments_jobs_register(a->payments, reg);
    if (!e)
        e = tryon_jobs_register(reg, a->cfg, a->db);
    return e;
}

/* ---- test-only job types (FRAMEFIT_TEST_ROUTES=1) --------------------------------- */

static int64_t payload_int(const char *payload, const char *key, int64_t def)
{
    json_t *j = json_loads(payload, 0, NULL);
    json_t *v = j ? json_object_get(j, key) : NULL;
    int64_t out = json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
    json_decref(j);
    return out;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* test.noop: nothing (benchmarks). */
static enum job_result t_noop(const struct job *j, void *ud, char *err, size_t len)
{
    return JOB_DONE;
}

/* test.sleep {"ms": N}: sleeps (graceful-shutdown tests). */
static enum job_result t_sleep(const struct job *j, void *ud, char *err, size_t len)
{
    sleep_ms(payload_int(j->payload, "ms", 100));
    return JOB_DONE;
}

/* test.fail {"fail": 1, "until": N}: JOB_FAIL when fail=1, else JOB_RETRY
 * while attempt < until (default: always). */
static enum job_result t_fail(const struct job *j, void *ud, char *err, size_t len)
{
    if (payload_int(j->payload, "fail", 0)) {
        snprintf(err, len, "permanent test failure");
        return JOB_FAIL;
    }
    if (j->attempt >= payload_int(j->payload, "until", INT32_MAX))
        return JOB_DONE;
    snprintf(err, len, "test failure on attempt %d", j->attempt);
    return JOB_RETRY;
}

/* test.effect {"sleep_ms": N}: records its effect as a row of the table
 * test_effects (job_id, worker) that the test created, in the transaction
 * that completes the job (exactly once); sleeps up to sleep_ms first. */
static enum job_result t_effect(struct db_conn *c, const struct job *j, void *ud, char *err,
                                size_t len)
{
    int64_t ms = payload_int(j->payload, "sleep_ms", 0);
    if (ms > 0)
        sleep_ms((int64_t)(((uint64_t)j->id * 2654435761u + (uint64_t)j->attempt) % (uint64_t)(ms + 1)));
    char who[32];
    snprintf(who, sizeof who, "%d", (int)getpid());
    if (db_exec(c, "INSERT INTO test_effects (job_id, worker) VALUES ($1, $2)",
                (struct db_param[]){DB_I64(j->id), DB_TEXT(who)}, 2, NULL)) {
        snprintf(err, len, "effect: %s", db_errmsg());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

static enum ff_err register_test_types(struct jobs_registry *reg)
{
    enum ff_err e = jobs_register(reg, "test.noop", t_noop, NULL);
    if (!e)
        e = jobs_register(reg, "test.sleep", t_sleep, NULL);
    if (!e)
        e = jobs_register(reg, "test.fail", t_fail, NULL);
    if (!e)
        e = jobs_register_tx(reg, "test.effect", t_effect, NULL);
    return e;
}

/* ---- lifecycle ------------------------------------------------------------------ */

enum ff_err app_jobs_open(struct app *a, char *why, size_t len)
{
    enum ff_err e = jobs_registry_new(&a->jobs);
    if (!e)
        e = register_modules(a->jobs, a);
    if (!e && a->cfg->test_routes)
        e = register_test_types(a->jobs);
    if (e) {
        snprintf(why, len, "job handlers: %s (%s)", ff_err_name(e), jobs_errmsg());
        jobs_registry_free(a->jobs);
        a->jobs = NULL;
    }
    return e;
}

enum ff_err app_jobs_start(struct app *a, int workers, const char *queues, char *why,
                           size_t len)
{
    const struct ff_config *cfg = a->cfg;
    struct jobs_opts o = {
        .workers = workers,
        .queues = queues,
        .lease_ms = cfg->jobs_lease_ms,
        .poll_ms = cfg->jobs_poll_ms,
        .max_attempts = cfg->jobs_max_attempts,
        .backoff_ms = cfg->jobs_backoff_ms,
        .backoff_max_ms = cfg->jobs_backoff_max_ms,
        .keep_done_ms = (int64_t)cfg->jobs_keep_done_h * 3600000,
        .run_schedules = 1,
    };
    enum ff_err e = jobs_start(a->db, a->jobs, &o, &a->jobs_pool);
    if (e)
        snprintf(why, len, "cannot start the job workers: %s (%s)", ff_err_name(e),
                 jobs_errmsg());
    else
        ff_log(FF_LOG_INFO, "jobs", "%d job worker(s) on %s", workers,
               queues && *queues ? queues : "all queues");
    return e;
}

void app_jobs_close(struct app *a, int timeout_ms)
{
    if (a->jobs_pool) {
        int released = jobs_stop(a->jobs_pool, timeout_ms);
        if (released)
            ff_log(FF_LOG_WARN, "jobs", "%d job(s) released to the queue at shutdown", released);
        a->jobs_pool = NULL;
    }
    jobs_registry_free(a->jobs);
    a->jobs = NULL;
}

void app_jobs_metrics(struct ff_buf *out, void *ud)
{
    struct app *a = ud;
    jobs_metrics(out, a->db, a->jobs_pool);
}

/* ---- POST /__test/jobs (tests only) ------------------------------------------------ */

static const struct http_field enq_fields[] = {
    {"type", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = JOBS_NAME_MAX},
    {"queue", HTTP_T_STRING, 0, .min_len = 1, .max_len = JOBS_NAME_MAX},
    {"payload", HTTP_T_OBJECT, 0, .object = NULL},
    {"priority", HTTP_T_INT, 0, .min = -JOBS_PRIORITY_LIMIT, .max = JOBS_PRIORITY_LIMIT},
    {"delay_ms", HTTP_T_INT, 0, .min = 0, .max = 86400000},
    {"unique_key", HTTP_T_STRING, 0, .min_len = 1, .max_len = JOBS_UNIQUE_KEY_MAX},
    {"max_attempts", HTTP_T_INT, 0, .min = 0, .max = JOBS_MAX_ATTEMPTS_LIMIT},
    {"count", HTTP_T_INT, 0, .min = 1, .max = 100000},
};
static const struct http_schema enq_schema = {enq_fields, sizeof enq_fields / sizeof enq_fields[0],
                                              true};

/* {"type", "queue", "payload", "priority", "delay_ms", "unique_key",
 * "max_attempts", "count"} -> {"ids": [first, last], "count": n}: enqueues
 * count jobs in one transaction. */
static enum ff_err h_enqueue(struct http_req *req, struct http_resp *resp)
{
    struct app *a = req->ud;
    json_t *body;
    enum ff_err e = http_json_body(req, &enq_schema, &body);
    if (e)
        return e;
    json_t *pl = json_object_get(body, "payload");
    char *payload = pl ? json_dumps(pl, JSON_COMPACT) : NULL;
    int64_t delay = json_integer_value(json_object_get(body, "delay_ms"));
    struct job_spec js = {
        .type = json_string_value(json_object_get(body, "type")),
        .queue = json_string_value(json_object_get(body, "queue")),
        .payload = payload,
        .priority = (int)json_integer_value(json_object_get(body, "priority")),
        .run_at_ms = delay ? db_now_ms() + delay : 0,
        .unique_key = json_string_value(json_object_get(body, "unique_key")),
        .max_attempts = (int)json_integer_value(json_object_get(body, "max_attempts")),
    };
    int64_t count = json_object_get(body, "count") ?
                    json_integer_value(json_object_get(body, "count")) : 1;
    int64_t first = 0, last = 0;
    struct db_tx tx = DB_TX_INIT;
    e = db_begin(a->db, &tx);
    for (int64_t i = 0; !e && i < count; i++) {
        e = jobs_enqueue(tx.conn, &js, &last);
        if (!i)
            first = last;
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf);
    if (payload)
        jf(payload);
    if (e == FF_EINVAL)
        return http_errf(req, e, "%s", jobs_errmsg());
    if (e)
        return http_errf(req, e, "enqueue failed: %s", db_errmsg());
    return http_reply_json(resp, 200, json_pack("{s:[I,I],s:I}", "ids", (json_int_t)first,
                                                 (json_int_t)last, "count", (json_int_t)count));
}

enum ff_err app_jobs_test_routes(struct http_router *r, struct app *a)
{
    return http_route_add(r, HTTP_POST, "/__test/jobs", h_enqueue, a, 0);
}
