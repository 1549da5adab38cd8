/* tryon_jobs.c - the retention sweep as the recurring job "tryon.expire". */
#include <stdio.h>

#include "core/log.h"
#include "jobs/jobs.h"
#include "tryon/tryon_int.h"

#define EXPIRE_INTERVAL_S 3600 /* expired sessions are invisible at once; this frees space */
#define EXPIRE_BATCH 500
#define EXPIRE_MAX_BATCHES 40 /* then the next run goes on */

/* What the handler needs; set once by tryon_jobs_register (one app per
 * process: serve or worker). */
static struct {
    const struct ff_config *cfg;
    struct db *db;
} ctx;

static enum job_result expire(const struct job *j, void *ud, char *err, size_t errlen)
{
    struct tryon *t = NULL;
    char why[256];
    (void)j;
    (void)ud;
    /* a storage-only service per run: the store is a folder handle, cheap to open */
    if (tryon_open_storage(ctx.cfg, ctx.db, &t, why, sizeof why)) {
        snprintf(err, errlen, "tryon.expire: %s", why);
        return JOB_RETRY;
    }
    int64_t now = db_now_ms();
    int n = 0, total = 0;
    enum ff_err e = FF_OK;
    for (int b = 0; b < EXPIRE_MAX_BATCHES; b++) {
        e = tryon_expire_sweep(t, now, EXPIRE_BATCH, &n);
        total += n;
        if (e || n < EXPIRE_BATCH)
            break;
    }
    tryon_close(t);
    if (e) {
        snprintf(err, errlen, "tryon.expire: %s after %d session(s): %s", ff_err_name(e), total,
                 db_errmsg());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

enum ff_err tryon_jobs_register(struct jobs_registry *reg, const struct ff_config *cfg,
                                struct db *db)
{
    ctx.cfg = cfg;
    ctx.db = db;
    enum ff_err e = jobs_register(reg, "tryon.expire", expire, NULL);
    if (!e)
        e = jobs_every(reg, "tryon.expire", NULL, EXPIRE_INTERVAL_S, NULL);
    return e;
}
