/* jobs_admin.h - what staff see and do with jobs (the HTTP layer is
 * jobs_http.c), and the queue gauges for /metrics. */
#ifndef FF_JOBS_JOBS_ADMIN_H
#define FF_JOBS_JOBS_ADMIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct db;
struct jobs_pool;

/* ---- the list filter (GET /api/v1/jobs?state=&queue=&type=&limit=&before_id=) ---- */

struct jobs_filter {
    char state[16];                   /* "" = any; else queued|running|done|dead|discarded */
    char queue[64 + 1];               /* "" = any */
    char type[64 + 1];                /* "" = any */
    int limit;                        /* 1..200, default 50 */
    int64_t before_id;                /* 0 = from the newest; else ids below this */
};

struct jobs_kv {
    const char *name, *value;         /* NUL-terminated, decoded */
};

/* Parses query parameters into f. Unknown names, repeats, bad values: FF_EINVAL
 * with the parameter's name in field and the reason in reason (both always
 * terminated). */
enum ff_err jobs_filter_parse(const struct jobs_kv *kv, size_t n, struct jobs_filter *f,
                              char *field, size_t flen, char *reason,
                              size_t rlen) FF_MUST_CHECK;

/* ---- reads and staff actions --------------------------------------------------- */

/* {"items": [job...], "next_before_id": id|null} newest first. *out is a new
 * reference. */
enum ff_err jobs_admin_list(struct db *db, const struct jobs_filter *f,
                            json_t **out) FF_MUST_CHECK;
/* One job with "attempts": [...] (oldest first). FF_ENOTFOUND. */
enum ff_err jobs_admin_get(struct db *db, int64_t id, json_t **out) FF_MUST_CHECK;
/* Queues a dead, discarded or queued job to run now with a fresh attempt
 * budget. FF_ENOTFOUND; FF_ECONFLICT when it is running or done, or its
 * unique key is live in another job. */
enum ff_err jobs_admin_retry(struct db *db, int64_t id) FF_MUST_CHECK;
/* Marks a queued or dead job discarded (pruned like done jobs).
 * FF_ENOTFOUND; FF_ECONFLICT when it is running, done or discarded. */
enum ff_err jobs_admin_discard(struct db *db, int64_t id) FF_MUST_CHECK;

/* ---- /metrics --------------------------------------------------------------------- */

/* Appends framefit_jobs{queue,state}, framefit_jobs_oldest_age_seconds and
 * (pool may be NULL) this process's worker counters. One grouped query,
 * cached for a second. */
void jobs_metrics(struct ff_buf *out, struct db *db, struct jobs_pool *pool);

#endif
