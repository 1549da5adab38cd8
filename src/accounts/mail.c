/* mail.c - the one place accounts sends email from.
 *
 * Until the mail module (mail/mail.h, mail_enqueue) is on main, this records
 * the message for the test routes only (FRAMEFIT_TEST_ROUTES=1) and logs the
 * template name (never the variables: they hold single-use tokens). */
#include "accounts/acc_int.h"
#include "core/log.h"

#define TEST_MAIL_KEEP 200

enum ff_err acc__mail(struct acc *a, struct db_conn *c, const char *to, const char *tmpl,
                      json_t *vars)
{
    (void)c;
    char masked[ACC_EMAIL_MAX + 8];
    acc__email_mask(to, masked, sizeof masked);
    ff_log(FF_LOG_INFO, "accounts", "email %s to %s queued", tmpl, masked);
    if (!a->test_mail)
        return FF_OK;
    json_t *m = json_pack("{s:s,s:s,s:O}", "to", to, "template", tmpl, "vars", vars);
    if (!m)
        return FF_ENOMEM;
    pthread_mutex_lock(&a->mail_mu);
    json_array_append_new(a->test_mail, m);
    while (json_array_size(a->test_mail) > TEST_MAIL_KEEP)
        json_array_remove(a->test_mail, 0);
    pthread_mutex_unlock(&a->mail_mu);
    return FF_OK;
}
