/* mail_jobs.c - the email job types on the job queue (jobs/jobs.h):
 *   email.send         {"message_id": N}  renders and delivers one message
 *   email.sns_confirm  {"url": "..."}     confirms an SNS subscription by a GET
 *   email.prune        (daily, recurring) forgets webhook event ids > 30 days old
 * all on the queue "email". */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "jobs/jobs.h"
#include "mail/mail_int.h"

#define MAIL_QUEUE "email"

enum ff_err mail__enqueue_job(struct db_conn *c, int64_t id);
enum ff_err mail__sns_confirm_later(struct mail *m, const char *url);

enum ff_err mail__enqueue_job(struct db_conn *c, int64_t id)
{
    char payload[64], key[64];
    snprintf(payload, sizeof payload, "{\"message_id\":%lld}", (long long)id);
    snprintf(key, sizeof key, "email.send:%lld", (long long)id);
    struct job_spec js = {.type = "email.send", .queue = MAIL_QUEUE, .payload = payload,
                          .unique_key = key};
    return jobs_enqueue(c, &js, NULL);
}

enum ff_err mail__sns_confirm_later(struct mail *m, const char *url)
{
    if (!mail_sns_subscribe_url_ok(url))
        return FF_EFORBIDDEN;
    char esc[4200], payload[4300];
    ff_json_escape(esc, sizeof esc, url, strlen(url));
    snprintf(payload, sizeof payload, "{\"url\":\"%s\"}", esc);
    struct job_spec js = {.type = "email.sns_confirm", .queue = MAIL_QUEUE, .payload = payload};
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(m->db, &tx);
    if (!e)
        e = jobs_enqueue(tx.conn, &js, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

/* The integer or string member of a job payload; 0 / NULL-copy when absent. */
static int64_t payload_id(const char *payload)
{
    json_t *j = json_loads(payload ? payload : "", 0, NULL);
    json_t *v = json_object_get(j, "message_id");
    int64_t id = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    json_decref(j);
    return id;
}

static enum job_result send_job(const struct job *j, void *ud, char *err, size_t len)
{
    int64_t id = payload_id(j->payload);
    if (id <= 0) {
        ff_errbuf(err, len, "payload lacks message_id");
        return JOB_FAIL;
    }
    switch (mail_deliver(ud, id, j->attempt >= j->max_attempts, err, len)) {
    case MAIL_DONE: return JOB_DONE;
    case MAIL_RETRY: return JOB_RETRY;
    default: return JOB_FAIL;
    }
}

static enum job_result sns_confirm_job(const struct job *j, void *ud, char *err, size_t len)
{
    json_t *p = json_loads(j->payload ? j->payload : "", 0, NULL);
    const char *url = json_string_value(json_object_get(p, "url"));
    enum ff_err e = url ? mail__sns_confirm(url, err, len) : FF_EINVAL;
    if (!url)
        ff_errbuf(err, len, "payload lacks url");
    json_decref(p);
    if (!e)
        ff_log(FF_LOG_INFO, "mail", "SNS subscription confirmed");
    return !e ? JOB_DONE : e == FF_EUPSTREAM || e == FF_ENOMEM ? JOB_RETRY : JOB_FAIL;
}

/* email.prune (daily): forgets webhook event ids older than 30 days. */
static enum job_result prune_job(const struct job *j, void *ud, char *err, size_t len)
{
    struct mail *m = ud;
    struct db_conn *c;
    int64_t n = 0;
    enum ff_err e = db_acquire(m->db, &c);
    if (!e) {
        e = mail__prune_events(c, db_now_ms() - (int64_t)30 * 86400000, &n);
        db_release(c);
    }
    if (e) {
        ff_errbuf(err, len, "prune: %s", db_errmsg());
        return JOB_RETRY;
    }
    if (n)
        ff_log(FF_LOG_INFO, "mail", "forgot %lld old webhook event id(s)", (long long)n);
    return JOB_DONE;
}

enum ff_err mail_jobs_register(struct jobs_registry *reg, struct mail *m)
{
    if (!m)
        return FF_EINVAL;
    enum ff_err e = jobs_register(reg, "email.send", send_job, m);
    if (!e)
        e = jobs_register(reg, "email.sns_confirm", sns_confirm_job, m);
    if (!e)
        e = jobs_register(reg, "email.prune", prune_job, m);
    if (!e)
        e = jobs_every(reg, "email.prune", MAIL_QUEUE, 86400, NULL);
    return e;
}
