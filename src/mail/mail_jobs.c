/* mail_jobs.c - the email job types (on the job queue, jobs/jobs.h).
 *
 * Until the queue lands, enqueueing only records the message: deliver it with
 * mail_deliver (the test route does). */
#include "core/log.h"
#include "mail/mail_int.h"

enum ff_err mail__enqueue_job(struct db_conn *c, int64_t id);
enum ff_err mail__sns_confirm_later(struct mail *m, const char *url);

enum ff_err mail__enqueue_job(struct db_conn *c, int64_t id)
{
    (void)c;
    (void)id;
    return FF_OK;
}

enum ff_err mail__sns_confirm_later(struct mail *m, const char *url)
{
    (void)m;
    if (!mail_sns_subscribe_url_ok(url))
        return FF_EFORBIDDEN;
    ff_log(FF_LOG_WARN, "mail", "SNS subscription confirmation pending (no job queue yet)");
    return FF_OK;
}
