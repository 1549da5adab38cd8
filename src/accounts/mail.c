/* mail.c - every email accounts sends, built here with the variables of the
 * mail module's templates (templates/email/<name>.en.tmpl):
 *
 *   account-verify   name, link, expires_hours
 *   password-reset   name, link, expires_minutes, ip, time
 *   security-notice  name, new_sign_in, password_changed, ip, time, device, link
 *   account-exists   name, link, ip, time   (someone registered with a taken address)
 *
 * acc__mail is the one place that hands a message over: mail_enqueue
 * (mail/mail.h) on the caller's connection, inside its transaction, so the
 * email (an "email.send" job) exists exactly when the change commits. Every
 * message is essential (no unsubscribe; only a hard bounce stops it). The log
 * gets the template name and a masked address, never the variables (they hold
 * single-use links). With FRAMEFIT_TEST_ROUTES=1 messages are also kept for
 * GET /__test/accounts/mail (tests). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"
#include "core/log.h"
#include "mail/mail.h"

#define TEST_MAIL_KEEP 200

enum ff_err acc__mail(struct acc *a, struct db_conn *c, const char *to, const char *tmpl,
                      json_t *vars)
{
    char masked[ACC_EMAIL_MAX + 8];
    acc__email_mask(to, masked, sizeof masked);
    char *v = acc__json_text(vars);
    if (!v)
        return FF_ENOMEM;
    enum ff_err e = mail_enqueue(c, to, tmpl, "en", v, 1);
    sodium_memzero(v, strlen(v));
    ff_free(v);
    if (e) {
        ff_log(FF_LOG_ERROR, "accounts", "email %s to %s not queued: %s", tmpl, masked,
               ff_err_str(e));
        return e;
    }
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

static const char *greet(const char *display_name)
{
    return display_name && display_name[0] ? display_name : "there";
}

static void now_text(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

static enum ff_err send(struct acc *a, struct db_conn *c, const char *to, const char *tmpl,
                        json_t *vars)
{
    if (!vars)
        return FF_ENOMEM;
    enum ff_err e = acc__mail(a, c, to, tmpl, vars);
    json_decref(vars);
    return e;
}

enum ff_err acc__mail_verify(struct acc *a, struct db_conn *c, const char *to, const char *name,
                             const char *link)
{
    return send(a, c, to, "account-verify",
                json_pack("{s:s,s:s,s:i}", "name", greet(name), "link", link, "expires_hours",
                          ACC_VERIFY_TTL_S / 3600));
}

enum ff_err acc__mail_reset(struct acc *a, struct db_conn *c, struct http_req *req,
                            const char *to, const char *name, const char *link)
{
    char when[40];
    now_text(when, sizeof when);
    return send(a, c, to, "password-reset",
                json_pack("{s:s,s:s,s:i,s:s,s:s}", "name", greet(name), "link", link,
                          "expires_minutes", ACC_RESET_TTL_S / 60, "ip", req->client_ip, "time",
                          when));
}

enum ff_err acc__mail_notice(struct acc *a, struct db_conn *c, struct http_req *req,
                             const char *to, const char *name, enum acc_notice kind)
{
    char when[40], link[2200];
    now_text(when, sizeof when);
    const char *ua = http_header(req, "User-Agent");
    char device[101];
    snprintf(device, sizeof device, "%s", ua ? ua : "");
    if (kind == ACC_NOTICE_ACCOUNT_EXISTS) {
        snprintf(link, sizeof link, "%s/forgot-password", a->public_url);
        return send(a, c, to, "account-exists",
                    json_pack("{s:s,s:s,s:s,s:s}", "name", greet(name), "link", link, "ip",
                              req->client_ip, "time", when));
    }
    snprintf(link, sizeof link, "%s/account/security", a->public_url);
    return send(a, c, to, "security-notice",
                json_pack("{s:s,s:b,s:b,s:s,s:s,s:s,s:s}", "name", greet(name), "new_sign_in",
                          kind == ACC_NOTICE_NEW_SIGN_IN, "password_changed",
                          kind == ACC_NOTICE_PASSWORD_CHANGED, "ip", req->client_ip, "time",
                          when, "device", device, "link", link));
}
