/* jobs_builtin.c - the jobs module's own job types: "jobs.prune" deletes done
 * and discarded jobs (and, by cascade, their attempts) older than the keep
 * period, in batches, every hour. */
#include <stdio.h>

#include "db/db.h"
#include "jobs/jobs_int.h"

#define PRUNE_BATCH 5000

static enum job_result prune(struct db_conn *c, const struct job *j, void *ud, char *err,
                             size_t errlen)
{
    const struct jobs_registry *reg = ud;
    int64_t before = db_now_ms() - reg->keep_done_ms;
    int64_t n = 0;
    enum ff_err e = db_exec(c,
                            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs"
                            " WHERE state IN ('done','discarded') AND finished_at < $1"
                            " ORDER BY finished_at LIMIT $2)",
                            (struct db_param[]){DB_I64(before), DB_I64(PRUNE_BATCH)}, 2, &n);
    if (e) {
        snprintf(err, errlen, "prune: %s", db_errmsg());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

enum ff_err jobs_register_builtin(struct jobs_registry *reg, int64_t keep_done_ms)
{
    if (!reg)
        return FF_EINVAL;
    reg->keep_done_ms = keep_done_ms > 0 ? keep_done_ms : 7LL * 24 * 3600 * 1000;
    enum ff_err e = jobs_register_tx(reg, "jobs.prune", prune, reg);
    if (!e)
        e = jobs_every(reg, "jobs.prune", NULL, 3600, NULL);
    return e;
}
