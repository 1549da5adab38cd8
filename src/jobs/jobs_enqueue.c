/* jobs_enqueue.c - validating a job spec and inserting it (the outbox side). */
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "jobs/jobs_int.h"

static _Thread_local char errbuf[256];

const char *jobs_errmsg(void)
{
    return errbuf;
}

enum ff_err jobs__fail(enum ff_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return err;
}

uint64_t jobs__rand64(void)
{
    static _Atomic uint64_t state;
    uint64_t s = atomic_load(&state);
    if (!s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
                        ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
        uint64_t zero = 0;
        atomic_compare_exchange_strong(&state, &zero, seed | 1);
    }
    /* splitmix64 over an atomic counter */
    uint64_t z = atomic_fetch_add(&state, 0x9e3779b97f4a7c15ULL) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int64_t jobs__backoff_ms(int attempt, int base_ms, int cap_ms, uint64_t rnd)
{
    if (attempt < 1)
        attempt = 1;
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    int64_t half = d / 2;
    return d - half + (half ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
}

int jobs_name_ok(const char *name)
{
    if (!name)
        return 0;
    size_t n = strlen(name);
    if (!n || n > JOBS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("_.:-", c)))
            return 0;
    }
    return 1;
}

int jobs_queue_list_ok(const char *list)
{
    if (!list || !*list)
        return 1;
    char name[JOBS_NAME_MAX + 1];
    int count = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!n || n > JOBS_NAME_MAX || ++count > 32)
            return 0;
        memcpy(name, p, n);
        name[n] = '\0';
        if (!jobs_name_ok(name))
            return 0;
        if (!comma)
            return 1;
        p = comma + 1;
    }
}

enum ff_err jobs__check_payload(const char *payload)
{
    size_t n = strlen(payload);
    if (n > JOBS_PAYLOAD_MAX)
        return jobs__fail(FF_EINVAL, "payload: over %zu bytes", JOBS_PAYLOAD_MAX);
    json_error_t je;
    json_t *j = json_loadb(payload, n, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return jobs__fail(FF_EINVAL, "payload: not JSON (%s)", je.text);
    int obj = json_is_object(j);
    json_decref(j);
    if (!obj)
        return jobs__fail(FF_EINVAL, "payload: must be a JSON object");
    return FF_OK;
}

static enum ff_err check_spec(const struct job_spec *s)
{
    if (!s || !jobs_name_ok(s->type))
        return jobs__fail(FF_EINVAL, "type: must be 1..%d of [a-z0-9_.:-]", JOBS_NAME_MAX);
    if (s->queue && !jobs_name_ok(s->queue))
        return jobs__fail(FF_EINVAL, "queue: must be 1..%d of [a-z0-9_.:-]", JOBS_NAME_MAX);
    if (s->priority < -JOBS_PRIORITY_LIMIT || s->priority > JOBS_PRIORITY_LIMIT)
        return jobs__fail(FF_EINVAL, "priority: must be within +-%d", JOBS_PRIORITY_LIMIT);
    if (s->max_attempts < 0 || s->max_attempts > JOBS_MAX_ATTEMPTS_LIMIT)
        return jobs__fail(FF_EINVAL, "max_attempts: must be 0..%d", JOBS_MAX_ATTEMPTS_LIMIT);
    if (s->run_at_ms < 0)
        return jobs__fail(FF_EINVAL, "run_at_ms: must be >= 0");
    if (s->unique_key) {
        size_t n = strlen(s->unique_key);
        if (!n || n > JOBS_UNIQUE_KEY_MAX)
            return jobs__fail(FF_EINVAL, "unique_key: must be 1..%d bytes", JOBS_UNIQUE_KEY_MAX);
    }
    return s->payload ? jobs__check_payload(s->payload) : FF_OK;
}

#define P(...) ((struct db_param[]){__VA_ARGS__})

static const char ins_sql[] =
    "INSERT INTO jobs (type, queue, payload, state, priority, run_at, unique_key,"
    " max_attempts, attempts, created_at, updated_at)"
    " VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, 0, $8, $8)"
    " ON CONFLICT DO NOTHING RETURNING id";

enum ff_err jobs_enqueue(struct db_conn *c, const struct job_spec *s, int64_t *id_out)
{
    enum ff_err err = check_spec(s);
    if (err)
        return err;
    int64_t now = db_now_ms();
    int64_t run_at = s->run_at_ms ? s->run_at_ms : now;
    for (int tries = 0; tries < 5; tries++) {
        int64_t id = 0;
        err = db_query_i64(c, ins_sql,
                           P(DB_TEXT(s->type), DB_TEXT(s->queue ? s->queue : "default"),
                             DB_TEXT(s->payload ? s->payload : "{}"), DB_I64(s->priority),
                             DB_I64(run_at), DB_TEXT(s->unique_key), DB_I64(s->max_attempts),
                             DB_I64(now)),
                           8, &id);
        if (err != FF_ENOTFOUND) {
            if (!err && id_out)
                *id_out = id;
            return err;
        }
        if (!s->unique_key) /* no row and no key: nothing to collapse into */
            return FF_EDB;
        err = db_query_i64(c,
                           "SELECT id FROM jobs WHERE unique_key = $1"
                           " AND state IN ('queued','running')",
                           P(DB_TEXT(s->unique_key)), 1, &id);
        if (err != FF_ENOTFOUND) {
            if (!err && id_out)
                *id_out = id;
            return err;
        }
        /* the live job finished in between: insert again */
    }
    return jobs__fail(FF_ECONFLICT, "unique_key %s: kept changing state", s->unique_key);
}
