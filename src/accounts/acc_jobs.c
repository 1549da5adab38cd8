/* acc_jobs.c - the hourly "accounts.cleanup" job: forgets what no longer
 * matters. Sessions 30 days after they expired or were revoked (their refresh
 * tokens go with them), email tokens a day after they were used or expired,
 * lockout rows a day after their last failure once unlocked. The audit log is
 * never touched. Idempotent. */
#include <stdio.h>

#include "accounts/acc_int.h"
#include "jobs/jobs.h"

#define DAY_MS (24LL * 3600 * 1000)

static enum job_result cleanup(struct db_conn *c, const struct job *j, void *ud, char *err,
                               size_t len)
{
    (void)j;
    (void)ud;
    int64_t now = db_now_ms();
    enum ff_err e = db_exec(c,
                            "DELETE FROM sessions WHERE expires_at < $1"
                            " OR (revoked_at IS NOT NULL AND revoked_at < $1)",
                            (struct db_param[]){DB_I64(now - 30 * DAY_MS)}, 1, NULL);
    if (!e)
        e = db_exec(c,
                    "DELETE FROM account_tokens WHERE expires_at < $1"
                    " OR (used_at IS NOT NULL AND used_at < $1)",
                    (struct db_param[]){DB_I64(now - DAY_MS)}, 1, NULL);
    if (!e)
        e = db_exec(c, "DELETE FROM login_failures WHERE locked_until < $1 AND updated_at < $2",
                    (struct db_param[]){DB_I64(now), DB_I64(now - DAY_MS)}, 2, NULL);
    if (e) {
        snprintf(err, len, "cleanup: %s", db_errmsg());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

enum ff_err acc_jobs_register(struct jobs_registry *reg)
{
    enum ff_err e = jobs_register_tx(reg, "accounts.cleanup", cleanup, NULL);
    if (!e)
        e = jobs_every(reg, "accounts.cleanup", NULL, 3600, NULL);
    return e;
}
