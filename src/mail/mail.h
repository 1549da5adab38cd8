/* mail.h - transactional email: the outbox, sending, suppressions.
 *
 * Other modules send mail by enqueueing it in their own transaction:
 *
 *     err = mail_enqueue(tx.conn, "a@example.com", "account-verify", "en",
 *                        "{\"name\":\"Ada\",\"link\":\"https://...\"}", 1);
 *
 * which inserts a row in mail_messages (status queued) and an "email.send"
 * job; both exist exactly when the transaction commits. The job renders the
 * template (templates/email/, see mail_tmpl.h and templates/email/README.md
 * for each template's variables), checks the suppression list, and delivers
 * over SMTP (FRAMEFIT_SMTP_URL) or, with none configured, writes
 * DATA_DIR/mail/<id>.eml.
 *
 * Non-essential mail carries List-Unsubscribe / List-Unsubscribe-Post
 * (RFC 8058) with a signed link to POST /api/v1/email/unsubscribe. Every
 * suppression (unsubscribe, bounce, complaint) stops non-essential mail;
 * essential mail (account verification, password reset, ...) is stopped only
 * by a hard bounce. */
#ifndef FF_MAIL_MAIL_H
#define FF_MAIL_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

struct db;
struct db_conn;
struct ff_secret;
struct http_router;

/* Enqueues an "email.send" job on c (inside the caller's transaction).
 * template is a name such as "account-verify"; vars a JSON object of template
 * variables (values are escaped by the template engine); locale e.g. "en"
 * (falls back to "en"; NULL = "en"). essential=1 for transactional mail (no
 * unsubscribe header, ignores marketing suppression; a hard bounce still
 * suppresses). FF_EINVAL for a bad address, an unknown template or vars that
 * are not a JSON object; FF_EDB/FF_ECONFLICT from storage. */
enum ff_err mail_enqueue(struct db_conn *c, const char *to, const char *template,
                         const char *locale, const char *vars_json, int essential) FF_MUST_CHECK;

/* As mail_enqueue, also returning the mail_messages id. */
enum ff_err mail_enqueue_id(struct db_conn *c, const char *to, const char *template,
                            const char *locale, const char *vars_json, int essential,
                            int64_t *id_out) FF_MUST_CHECK;

/* The service: templates, transport settings and keys. */
struct mail;

/* Builds the service from the configuration (validates every template, the
 * sender, the SendGrid key). public_url is read when links are made (it may
 * be filled in later, e.g. once the server listens); NULL or "" falls back to
 * cfg->public_url, then http://BIND:PORT. The secret is borrowed. On failure
 * writes a one-line reason into why. Free with mail_free. */
enum ff_err mail_new(const struct ff_config *cfg, struct db *db, const struct ff_secret *secret,
                     const char *public_url, struct mail **out, char *why,
                     size_t len) FF_MUST_CHECK;
void mail_free(struct mail *m);

enum mail_outcome {
    MAIL_DONE,   /* sent, suppressed, or already handled: nothing more to do */
    MAIL_RETRY,  /* a temporary failure (4xx, connection, storage): try again */
    MAIL_FAILED, /* permanent (5xx, bad template vars): recorded on the message */
};

/* Delivers message `id` (the email.send job's work; idempotent: a message that
 * is no longer queued is left alone). last_attempt turns a temporary failure
 * into a recorded permanent one. Writes the reason of a RETRY/FAILED into err. */
enum mail_outcome mail_deliver(struct mail *m, int64_t id, int last_attempt, char *err,
                               size_t errlen);

struct jobs_registry;
/* Registers the job types "email.send", "email.sns_confirm" and the daily
 * "email.prune" (queue "email") with m as their service. */
enum ff_err mail_jobs_register(struct jobs_registry *reg, struct mail *m) FF_MUST_CHECK;

/* Registers the email routes (see mail_http.c); m may be NULL when routes are
 * only listed:
 *   GET/POST /api/v1/email/unsubscribe        one-click unsubscribe (RFC 8058)
 *   POST     /api/v1/email/webhooks/sendgrid  SendGrid Event Webhook
 *   POST     /api/v1/email/webhooks/ses       SES notifications via SNS
 *   GET      /api/v1/email/messages           staff: the outbox
 *   GET      /api/v1/email/suppressions       staff: the suppression list
 *   DELETE   /api/v1/email/suppressions/{email}  staff: lift one */
enum ff_err mail_http_register(struct http_router *r, struct mail *m) FF_MUST_CHECK;

/* Test-only routes (FRAMEFIT_TEST_ROUTES=1):
 *   POST /__test/mail {"to","template","locale","vars","essential","deliver","count"}
 *        enqueues a message (count: that many, in one transaction; the last
 *        id is returned); with "deliver": true also delivers it now.
 *   POST /__test/mail/deliver {"id", "last_attempt"} delivers one now. */
enum ff_err mail_http_register_test(struct http_router *r, struct mail *m) FF_MUST_CHECK;

#endif
