/* jobs.h - durable background jobs in the database (module ff_jobs).
 *
 * A job is a row in the table `jobs` (migration 0004). Anything that must
 * happen after a request (send an email, expire photos, sync a store) is
 * enqueued in the same transaction as the change that causes it (the
 * transactional outbox) and run later by a worker, at least once:
 *
 *     struct db_tx tx = DB_TX_INIT;
 *     err = db_begin(db, &tx);
 *     ... the change ...
 *     struct job_spec js = {.type = "email.send", .payload = "{\"to\":\"a@b.c\"}"};
 *     if (!err) err = jobs_enqueue(tx.conn, &js, NULL);
 *     if (!err) err = db_commit(&tx);
 *     db_tx_release(&tx);
 *
 * Handlers are registered by type into a registry the app creates
 * (src/app/app_jobs.c calls each module's xxx_jobs_register(reg, ...)):
 *
 *     static enum job_result send(const struct job *j, void *ud, char *err, size_t len)
 *     {   ... return JOB_DONE;  or: snprintf(err, len, "smtp 451"); return JOB_RETRY; }
 *     e = jobs_register(reg, "email.send", send, mailer);
 *     e = jobs_every(reg, "tryon.expire", NULL, 600, NULL);   // a recurring job
 *
 * Workers (a jobs_pool: FRAMEFIT_WORKERS threads inside `framefit serve`, or
 * `framefit worker` processes) claim one runnable job at a time (PostgreSQL:
 * FOR UPDATE SKIP LOCKED; SQLite: a short BEGIN IMMEDIATE), hold it under a
 * lease that a heartbeat extends while the handler runs, and run the handler
 * outside any transaction. A worker that dies loses its lease: the job runs
 * again once the lease expires. Failures retry with exponential backoff and
 * jitter; after max_attempts the job is "dead" (dead letter) with its last
 * error kept. Every attempt is recorded in `job_attempts`.
 *
 * States: queued -> running -> done | queued (retry) | dead; staff may
 * discard (-> discarded) or retry (-> queued). done and discarded jobs are
 * pruned after FRAMEFIT_JOBS_KEEP_DONE by the recurring job "jobs.prune".
 *
 * Handlers must be idempotent. A handler whose effect is only database
 * writes can be registered with jobs_register_tx: its writes commit in the
 * same transaction that marks the job done, and are rolled back when the
 * worker has lost the job meanwhile, so the effect happens exactly once. */
#ifndef FF_JOBS_JOBS_H
#define FF_JOBS_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;
struct db_conn;

/* ---- enqueueing ------------------------------------------------------------ */

struct job_spec {
    const char *type;       /* handler name, e.g. "email.send", "tryon.expire" (required) */
    const char *queue;      /* named queue; NULL = "default" */
    const char *payload;    /* JSON object text; NULL = "{}" */
    int priority;           /* higher runs first; default 0 */
    int64_t run_at_ms;      /* not before this epoch-ms time; 0 = now */
    const char *unique_key; /* NULL = none; while a queued/running job has this key,
                               enqueue returns that job's id instead of adding one */
    int max_attempts;       /* 0 = the configured default (FRAMEFIT_JOBS_MAX_ATTEMPTS) */
};

/* Limits of the textual fields (type and queue: [a-z0-9_.:-], starting
 * with a letter or digit). */
#define JOBS_NAME_MAX 64
#define JOBS_UNIQUE_KEY_MAX 200
#define JOBS_PAYLOAD_MAX ((size_t)1 << 20)
#define JOBS_MAX_ATTEMPTS_LIMIT 1000
#define JOBS_PRIORITY_LIMIT 1000000

/* Enqueue on c. When c is inside the caller's transaction (db_begin), the job
 * exists exactly when that transaction commits (transactional outbox).
 * id_out (may be NULL) gets the new job's id, or with a unique_key that is
 * already live, the live job's id. FF_EINVAL for a bad spec (type or queue
 * name, payload that is not a JSON object, out-of-range numbers), with the
 * reason in jobs_errmsg(); FF_EDB etc. from storage (db_errmsg()). */
enum ff_err jobs_enqueue(struct db_conn *c, const struct job_spec *s,
                         int64_t *id_out) FF_MUST_CHECK;

/* The reason of the last FF_EINVAL from this module on this thread ("" if none). */
const char *jobs_errmsg(void);

/* True when name is a valid job type or queue name. */
int jobs_name_ok(const char *name);

/* ---- handlers ---------------------------------------------------------------- */

struct job {                 /* what a handler sees; valid during the call */
    int64_t id;
    const char *type, *queue;
    const char *payload;     /* JSON text */
    int attempt;             /* 1 on the first run */
    int max_attempts;        /* effective (the configured default filled in) */
};

enum job_result { JOB_DONE, JOB_RETRY, JOB_FAIL };   /* FAIL = permanent: dead at once */

/* Handlers must be idempotent (at-least-once). On RETRY/FAIL write the reason
 * into err (it is kept as the job's last error and in the attempt). */
typedef enum job_result (*job_handler_fn)(const struct job *j, void *ud, char *err,
                                          size_t errlen);

/* A handler that runs inside the transaction completing the job: c is in an
 * open transaction; on JOB_DONE the handler's writes commit together with
 * "done" (exactly once); on RETRY/FAIL, or when the worker lost the job's
 * lease meanwhile, they are rolled back. Keep it short (on SQLite it holds
 * the write lock while it runs). */
typedef enum job_result (*job_tx_handler_fn)(struct db_conn *c, const struct job *j,
                                             void *ud, char *err, size_t errlen);

struct jobs_registry;        /* created by the app; modules register into it */

/* A new empty registry (free with jobs_registry_free after every pool using
 * it stopped). FF_ENOMEM. */
enum ff_err jobs_registry_new(struct jobs_registry **out) FF_MUST_CHECK;
void jobs_registry_free(struct jobs_registry *reg);

/* Registers the handler for a job type. FF_EINVAL for a bad name,
 * FF_ECONFLICT when the type has a handler already. ud is passed back. */
enum ff_err jobs_register(struct jobs_registry *reg, const char *type, job_handler_fn fn,
                          void *ud) FF_MUST_CHECK;
/* The same for a handler that runs in the completing transaction (above). */
enum ff_err jobs_register_tx(struct jobs_registry *reg, const char *type,
                             job_tx_handler_fn fn, void *ud) FF_MUST_CHECK;

/* A recurring job: enqueued every interval_s (unique per type, so many
 * instances never double it: the table job_schedules holds the next due
 * time and one instance wins each tick). queue NULL = "default", payload
 * NULL = "{}". The first run is due as soon as a pool starts. interval_s in
 * 1..31622400. FF_EINVAL, FF_ECONFLICT (type already recurring), FF_ENOMEM. */
enum ff_err jobs_every(struct jobs_registry *reg, const char *type, const char *queue,
                       int interval_s, const char *payload) FF_MUST_CHECK;

/* ---- workers ------------------------------------------------------------------- */

struct jobs_opts {
    int workers;            /* worker threads (>= 1) */
    const char *queues;     /* comma-separated queue names to work on; NULL/"" = all */
    int lease_ms;           /* lease per claim, extended by heartbeats; 0 = 60000 */
    int poll_ms;            /* idle wait between claims; 0 = 250 */
    int max_attempts;       /* default for jobs enqueued with 0; 0 = 8 */
    int backoff_ms;         /* first retry delay; doubled per attempt; 0 = 1000 */
    int backoff_max_ms;     /* cap of the retry delay; 0 = 3600000 */
    int64_t keep_done_ms;   /* prune done/discarded jobs older than this; 0 = 7 days */
    int run_schedules;      /* 1: this pool ticks the registry's recurring jobs */
    const char *name;       /* worker name prefix for locked_by (NULL = host:pid) */
};

struct jobs_pool;

/* Starts o->workers worker threads and one maintenance thread (lease
 * heartbeats, expired-lease recovery, recurring jobs) on db. reg must
 * outlive the pool. FF_EINVAL for bad options (queue names), FF_ENOMEM. */
enum ff_err jobs_start(struct db *db, struct jobs_registry *reg, const struct jobs_opts *o,
                       struct jobs_pool **out) FF_MUST_CHECK;

/* Asks the workers to stop claiming (returns at once). */
void jobs_stop_begin(struct jobs_pool *p);

/* Stops the pool: no new claims; waits up to timeout_ms for running handlers
 * to finish; jobs still running then are released (queued again, the attempt
 * recorded as "released" and not counted). Frees the pool unless a handler is
 * still stuck in its thread (then the pool is left allocated and detached).
 * Returns the number of jobs released. NULL-safe. */
int jobs_stop(struct jobs_pool *p, int timeout_ms);

struct jobs_pool_stats {
    uint64_t done, retried, dead, lost, released; /* since start */
    int busy;                                       /* handlers running now */
};
void jobs_pool_stats(struct jobs_pool *p, struct jobs_pool_stats *out);

/* Runs one maintenance pass now (recover expired leases, tick recurring
 * jobs); for tests. */
enum ff_err jobs_maintain(struct jobs_pool *p) FF_MUST_CHECK;

/* Registers the jobs module's own types ("jobs.prune", recurring hourly).
 * app_jobs.c calls it; keep_done_ms 0 = 7 days. */
enum ff_err jobs_register_builtin(struct jobs_registry *reg, int64_t keep_done_ms) FF_MUST_CHECK;

/* Parses a comma-separated queue list (names as jobs_name_ok; at most 32,
 * no empty items); "" is valid (all queues). 1 when valid. */
int jobs_queue_list_ok(const char *list);

#endif
