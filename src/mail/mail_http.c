/* mail_http.c - the email routes (list in mail.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "http/problem.h"
#include "http/req.h"
#include "http/router.h"
#include "http/validate.h"
#include "mail/mail_int.h"
#include "mail/mail_token.h"

#define HTML_TYPE "text/html; charset=utf-8"

static enum ff_err storage_fail(struct http_req *req, const char *what)
{
    ff_log(FF_LOG_ERROR, "mail", "%s: %s", what, db_errmsg());
    return http_errf(req, FF_EDB, "email storage is unavailable right now");
}

/* ---- one-click unsubscribe (RFC 8058) ----------------------------------------- */

/* Checks ?t= and fills email; records the problem on failure. */
static enum ff_err token_arg(struct http_req *req, struct mail *m, char *email)
{
    char list[MAIL_LIST_MAX + 1];
    const char *t = http_query(req, "t");
    if (!t)
        return http_errf(req, FF_EINVAL, "the unsubscribe link lacks its token (t)");
    enum ff_err e = mail_token_check(m->secret, t, email, list);
    if (e == FF_EFORBIDDEN)
        return http_errf(req, FF_EFORBIDDEN, "this unsubscribe link is not valid");
    if (e)
        return http_problem_set(req, HTTP_PK_BAD_REQUEST, "malformed unsubscribe token");
    return FF_OK;
}

/* GET shows a confirmation page with a button: mail scanners follow links,
 * so a GET never unsubscribes. */
static enum ff_err unsub_page(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    char email[MAIL_ADDR_MAX + 1];
    if (token_arg(req, m, email))
        return req->err ? req->err : FF_EINVAL;
    /* The token is [A-Za-z0-9_.-] (checked), the address a validated addr-spec
     * whose only HTML-special characters are & and ' (escaped below). */
    char esc[6 * MAIL_ADDR_MAX + 1];
    size_t n = 0;
    for (const char *p = email; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '\'' ? "&#39;" : NULL;
        if (rep) {
            memcpy(esc + n, rep, strlen(rep));
            n += strlen(rep);
        } else {
            esc[n++] = *p;
        }
    }
    esc[n] = 0;
    char *page = ff_arena_sprintf(req->arena,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"robots\" content=\"noindex\"><title>Unsubscribe</title></head><body>"
        "<h1>Unsubscribe</h1><p>Stop sending newsletters and other non-essential email to "
        "<b>%s</b>?</p><form method=\"post\" action=\"/api/v1/email/unsubscribe?t=%s\">"
        "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
        "<button type=\"submit\">Unsubscribe</button></form></body></html>\n",
        esc, http_query(req, "t"));
    if (!page)
        return FF_ENOMEM;
    return http_reply(resp, 200, HTML_TYPE, page, strlen(page));
}

/* RFC 8058: the body is "List-Unsubscribe=One-Click", form-urlencoded or as a
 * multipart/form-data field. */
static bool one_click_body(const struct http_req *req)
{
    if (!req->body || req->body_len > 4096)
        return false;
    if (memmem(req->body, req->body_len, "List-Unsubscribe=One-Click", 26))
        return true;
    return memmem(req->body, req->body_len, "name=\"List-Unsubscribe\"", 23) &&
           memmem(req->body, req->body_len, "One-Click", 9);
}

static enum ff_err unsub_post(struct http_req *req, struct http_resp *resp)
{
    static const char done[] =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unsubscribed"
        "</title></head><body><h1>Unsubscribed</h1><p>You will get no more non-essential "
        "email from us.</p></body></html>\n";
    struct mail *m = req->ud;
    char email[MAIL_ADDR_MAX + 1];
    if (token_arg(req, m, email))
        return req->err ? req->err : FF_EINVAL;
    if (!one_click_body(req))
        return http_problem_set(req, HTTP_PK_BAD_REQUEST,
                                "the body must be List-Unsubscribe=One-Click");
    struct db_conn *c;
    if (db_acquire(m->db, &c))
        return storage_fail(req, "unsubscribe");
    enum ff_err e = mail__suppress(c, email, "unsubscribe", "one-click", "List-Unsubscribe");
    db_release(c);
    if (e)
        return storage_fail(req, "unsubscribe");
    http_reply_static(resp, 200, HTML_TYPE, done, sizeof done - 1);
    return FF_OK;
}

/* ---- webhooks -------------------------------------------------------------------- */

static enum ff_err apply(struct http_req *req, struct http_resp *resp, struct mail *m,
                         struct mail_events *ev, const char *source)
{
    int applied = 0;
    enum ff_err e = mail__apply_events(m, ev, source, &applied);
    size_t n = ev->n, ignored = ev->ignored;
    mail_events_release(ev);
    if (e)
        return storage_fail(req, source);
    if (applied)
        ff_log(FF_LOG_INFO, "mail", "%s webhook: %d suppression(s) added", source, applied);
    return http_reply_json(resp, 200, json_pack("{s:I,s:I,s:I}", "received", (json_int_t)n,
                                                "applied", (json_int_t)applied, "ignored",
                                                (json_int_t)ignored));
}

static enum ff_err sendgrid(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    if (!m->sg_key)
        return http_problem_set(req, HTTP_PK_UNAVAILABLE,
                                "the SendGrid webhook is not configured");
    const char *sig = http_header(req, "X-Twilio-Email-Event-Webhook-Signature");
    const char *ts = http_header(req, "X-Twilio-Email-Event-Webhook-Timestamp");
    int64_t t;
    if (!sig || !ts || ff_parse_i64(ff_str_c(ts), 0, INT64_MAX / 1000, &t))
        return http_errf(req, FF_EAUTH, "missing or bad webhook signature headers");
    int64_t now = (int64_t)time(NULL);
    if (t < now - 600 || t > now + 600) /* replayed or clock-skewed beyond 10 minutes */
        return http_errf(req, FF_EFORBIDDEN, "stale webhook timestamp");
    if (mail_sg_verify(m->sg_key, sig, ts, req->body ? req->body : "", req->body_len))
        return http_errf(req, FF_EFORBIDDEN, "the webhook signature does not verify");
    struct mail_events ev;
    char why[256];
    if (mail_sg_parse(req->body ? req->body : "", req->body_len, &ev, why, sizeof why))
        return http_problem_set(req, HTTP_PK_BAD_REQUEST, "%s", why);
    return apply(req, resp, m, &ev, "sendgrid");
}

static bool topic_allowed(const struct mail *m, const char *arn)
{
    size_t n = strlen(arn);
    for (const char *p = m->ses_topics; *p;) {
        const char *comma = strchr(p, ',');
        struct ff_str item = ff_str_trim((struct ff_str){p, comma ? (size_t)(comma - p) : strlen(p)});
        if (item.len == n && n && !memcmp(item.ptr, arn, n))
            return true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

/* Confirms an SNS subscription later, off the request (mail_jobs.c). */
enum ff_err mail__sns_confirm_later(struct mail *m, const char *url);

static enum ff_err ses(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    if (!m->ses_topics[0])
        return http_problem_set(req, HTTP_PK_UNAVAILABLE, "the SES webhook is not configured");
    struct mail_sns sns;
    char why[256];
    if (mail_sns_parse(req->body ? req->body : "", req->body_len, &sns, why, sizeof why))
        return http_problem_set(req, HTTP_PK_BAD_REQUEST, "%s", why);
    enum ff_err e = FF_OK;
    const struct mail_pubkey *key = NULL;
    if (!topic_allowed(m, sns.topic_arn))
        e = http_errf(req, FF_EFORBIDDEN, "topic not accepted (FRAMEFIT_SES_TOPIC_ARNS)");
    else if ((e = mail__sns_key(m, sns.signing_cert_url, &key, why, sizeof why)))
        e = http_errf(req, e == FF_EFORBIDDEN ? e : FF_EUPSTREAM, "%s", why);
    else if (mail_sns_verify(&sns, key))
        e = http_errf(req, FF_EFORBIDDEN, "the SNS signature does not verify");
    if (e) {
        mail_sns_release(&sns);
        return e;
    }
    if (!strcmp(sns.type, "SubscriptionConfirmation")) {
        e = mail__sns_confirm_later(m, sns.subscribe_url);
        mail_sns_release(&sns);
        if (e)
            return e == FF_EFORBIDDEN ? http_errf(req, e, "SubscribeURL is not an SNS URL")
                                      : storage_fail(req, "sns confirm");
        return http_reply_json(resp, 202, json_pack("{s:s}", "status", "confirming"));
    }
    if (strcmp(sns.type, "Notification")) { /* UnsubscribeConfirmation */
        mail_sns_release(&sns);
        return http_reply_json(resp, 200, json_pack("{s:s}", "status", "ignored"));
    }
    struct mail_events ev;
    e = mail_ses_parse(sns.message, strlen(sns.message), sns.message_id, &ev, why, sizeof why);
    mail_sns_release(&sns);
    if (e)
        return http_problem_set(req, HTTP_PK_BAD_REQUEST, "%s", why);
    return apply(req, resp, m, &ev, "ses");
}

/* ---- staff ------------------------------------------------------------------------- */

static enum ff_err paging(struct http_req *req, int64_t *limit, int64_t *offset)
{
    *limit = 50;
    *offset = 0;
    if (http_query_i64(req, "limit", 1, 500, limit, NULL) ||
        http_query_i64(req, "offset", 0, INT32_MAX, offset, NULL))
        return FF_EINVAL;
    return FF_OK;
}

static enum ff_err list_messages(struct http_req *req, struct http_resp *resp)
{
    static const char *const statuses[] = {"queued", "sent", "failed", "suppressed", NULL};
    struct mail *m = req->ud;
    int64_t limit, offset;
    if (paging(req, &limit, &offset))
        return FF_EINVAL;
    const char *status = http_query(req, "status"), *to = http_query(req, "to");
    char addr[MAIL_ADDR_MAX + 1];
    if (status) {
        int ok = 0;
        for (int i = 0; statuses[i]; i++)
            ok |= !strcmp(status, statuses[i]);
        if (!ok)
            return http_field_error(req, "status", "must be queued, sent, failed or suppressed");
    }
    if (to && mail_addr_normalize(to, addr, sizeof addr))
        return http_field_error(req, "to", "must be an email address");
    struct db_conn *c;
    json_t *out;
    if (db_acquire(m->db, &c))
        return storage_fail(req, "list messages");
    enum ff_err e = mail__list_messages(c, status, to ? addr : NULL, limit, offset, &out);
    db_release(c);
    return e ? storage_fail(req, "list messages") : http_reply_json(resp, 200, out);
}

static enum ff_err list_suppressions(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    int64_t limit, offset;
    if (paging(req, &limit, &offset))
        return FF_EINVAL;
    const char *email = http_query(req, "email");
    char addr[MAIL_ADDR_MAX + 1];
    if (email && mail_addr_normalize(email, addr, sizeof addr))
        return http_field_error(req, "email", "must be an email address");
    struct db_conn *c;
    json_t *out;
    if (db_acquire(m->db, &c))
        return storage_fail(req, "list suppressions");
    enum ff_err e = mail__list_suppressions(c, email ? addr : NULL, limit, offset, &out);
    db_release(c);
    return e ? storage_fail(req, "list suppressions") : http_reply_json(resp, 200, out);
}

static enum ff_err delete_suppression(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    char addr[MAIL_ADDR_MAX + 1];
    if (mail_addr_normalize(http_param(req, "email"), addr, sizeof addr))
        return http_field_error(req, "email", "must be an email address");
    struct db_conn *c;
    int64_t changed = 0;
    if (db_acquire(m->db, &c))
        return storage_fail(req, "delete suppression");
    enum ff_err e = mail__unsuppress(c, addr, &changed);
    db_release(c);
    if (e)
        return storage_fail(req, "delete suppression");
    if (!changed)
        return http_errf(req, FF_ENOTFOUND, "no suppression for this address");
    ff_log(FF_LOG_INFO, "mail", "suppression lifted by staff");
    http_reply_empty(resp, 204);
    return FF_OK;
}

enum ff_err mail_http_register(struct http_router *r, struct mail *m)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/api/v1/email/unsubscribe", unsub_page, m,
                                   HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/email/unsubscribe", unsub_post, m, 0);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/email/webhooks/sendgrid", sendgrid, m, 0);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/email/webhooks/ses", ses, m, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/email/messages", list_messages, m,
                           HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/email/suppressions", list_suppressions, m,
                           HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/email/suppressions/{email}",
                           delete_suppression, m, HTTP_ROUTE_STAFF);
    return e;
}

/* ---- test-only -------------------------------------------------------------------- */

static const struct http_field test_fields[] = {
    {"to", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 3, .max_len = 300},
    {"template", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 63},
    {"locale", HTTP_T_STRING, 0, .min_len = 2, .max_len = 5},
    {"vars", HTTP_T_OBJECT, 0, .object = NULL},
    {.name = "essential", .type = HTTP_T_BOOL},
    {.name = "deliver", .type = HTTP_T_BOOL},
    {"count", HTTP_T_INT, 0, .min = 1, .max = 100000},
};
static const struct http_schema test_schema = {test_fields,
                                               sizeof test_fields / sizeof test_fields[0], false};

static enum ff_err test_mail(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    json_t *b;
    enum ff_err e = http_json_body(req, &test_schema, &b);
    if (e)
        return e;
    json_t *vars = json_object_get(b, "vars");
    size_t need = vars ? json_dumpb(vars, NULL, 0, JSON_COMPACT) : 0;
    char *vj = need ? ff_arena_alloc(req->arena, need + 1) : NULL;
    if (need && !vj)
        return FF_ENOMEM;
    if (vj)
        vj[json_dumpb(vars, vj, need, JSON_COMPACT)] = 0;
    struct db_tx tx = DB_TX_INIT;
    int64_t id = 0;
    if ((e = db_begin(m->db, &tx)))
        return storage_fail(req, "test mail");
    int64_t count = json_object_get(b, "count") ? json_integer_value(json_object_get(b, "count"))
                                                : 1;
    for (int64_t i = 0; i < count && !e; i++) /* count > 1: one transaction (benchmarks) */
        e = mail_enqueue_id(tx.conn, json_string_value(json_object_get(b, "to")),
                            json_string_value(json_object_get(b, "template")),
                            json_string_value(json_object_get(b, "locale")), vj,
                            json_is_true(json_object_get(b, "essential")), &id);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e)
        return http_errf(req, e, "cannot enqueue: %s", e == FF_EINVAL ? "bad input" : db_errmsg());
    const char *outcome = "queued";
    char err[512] = "";
    if (json_is_true(json_object_get(b, "deliver"))) {
        enum mail_outcome o = mail_deliver(m, id, 0, err, sizeof err);
        outcome = o == MAIL_DONE ? "done" : o == MAIL_RETRY ? "retry" : "failed";
    }
    return http_reply_json(resp, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id,
                                                "outcome", outcome, "error", err));
}

static const struct http_field deliver_fields[] = {
    {"id", HTTP_T_INT, HTTP_F_REQUIRED, .min = 1, .max = INT64_MAX},
    {.name = "last_attempt", .type = HTTP_T_BOOL},
};
static const struct http_schema deliver_schema = HTTP_SCHEMA(deliver_fields);

static enum ff_err test_deliver(struct http_req *req, struct http_resp *resp)
{
    struct mail *m = req->ud;
    json_t *b;
    enum ff_err e = http_json_body(req, &deliver_schema, &b);
    if (e)
        return e;
    char err[512] = "";
    enum mail_outcome o = mail_deliver(m, json_integer_value(json_object_get(b, "id")),
                                       json_is_true(json_object_get(b, "last_attempt")), err,
                                       sizeof err);
    return http_reply_json(resp, 200, json_pack("{s:s,s:s}", "outcome",
                                                o == MAIL_DONE    ? "done"
                                                : o == MAIL_RETRY ? "retry" : "failed",
                                                "error", err));
}

enum ff_err mail_http_register_test(struct http_router *r, struct mail *m)
{
    enum ff_err e = http_route_add(r, HTTP_POST, "/__test/mail", test_mail, m, 0);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/__test/mail/deliver", test_deliver, m, 0);
    return e;
}
