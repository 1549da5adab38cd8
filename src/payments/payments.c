/* payments.c - the payments service: setup, the event handler table, and the
 * problems payment endpoints share. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "db/db.h"
#include "http/problem.h"
#include "http/req.h"
#include "payments/payments_int.h"
#include "payments/stripe.h"

enum ff_err payments_new(const struct payments_opts *o, struct payments **out, char *why,
                         size_t whylen)
{
    *out = NULL;
    struct payments *p = ff_calloc(1, sizeof *p);
    if (!p)
        return FF_ENOMEM;
    p->db = o->db;
    p->orders = o->orders;
    p->webhook_secret = ff_strdup(o->webhook_secret ? o->webhook_secret : "");
    if (!p->webhook_secret) {
        payments_free(p);
        return FF_ENOMEM;
    }
    if (o->secret_key && *o->secret_key) {
        struct stripe_client_opts so = {
            .base_url = o->api_url && *o->api_url ? o->api_url : "https://api.stripe.com",
            .api_key = o->secret_key,
            .api_version = "2024-06-20",
            .timeout_ms = o->timeout_ms,
            .connect_timeout_ms = o->timeout_ms > 0 && o->timeout_ms < 3000 ? o->timeout_ms : 0,
            .max_retries = 2,
        };
        enum ff_err e = stripe_client_new(&p->stripe, &so);
        if (e) {
            snprintf(why, whylen, "payments: cannot create the Stripe client (%s)",
                     e == FF_EINVAL ? "FRAMEFIT_STRIPE_API_URL must be an http(s) URL"
                                    : ff_err_str(e));
            payments_free(p);
            return e;
        }
    }
    /* this part's own events (pay_apply.c) */
    static const char *const mine[] = {"payment_intent.", "charge.refunded",
                                       "charge.dispute.created"};
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
        enum ff_err e = payments_on_event(p, mine[i], pay__on_event, p);
        if (e) {
            payments_free(p);
            return e;
        }
    }
    *out = p;
    return FF_OK;
}

void payments_free(struct payments *p)
{
    if (!p)
        return;
    stripe_client_free(p->stripe);
    ff_free(p->webhook_secret);
    ff_free(p);
}

struct stripe_client *payments_stripe(struct payments *p)
{
    return p ? p->stripe : NULL;
}

struct db *payments_db(struct payments *p)
{
    return p ? p->db : NULL;
}

enum ff_err payments_on_event(struct payments *p, const char *type_prefix, payments_event_fn fn,
                              void *ud)
{
    if (!p || !type_prefix || !*type_prefix || !fn ||
        strlen(type_prefix) >= sizeof p->handlers[0].prefix)
        return FF_EINVAL;
    if (p->nhandlers >= PAYMENTS_MAX_HANDLERS)
        return FF_ENOMEM;
    struct pay_handler *h = &p->handlers[p->nhandlers++];
    snprintf(h->prefix, sizeof h->prefix, "%s", type_prefix);
    h->fn = fn;
    h->ud = ud;
    return FF_OK;
}

enum ff_err payments_event_note(struct db_conn *c, const json_t *event, const char *note)
{
    const char *id = json_string_value(json_object_get(event, "id"));
    if (!id || !note)
        return FF_EINVAL;
    ff_log(FF_LOG_WARN, "payments", "stripe event %.64s: %s", id, note);
    return db_exec(c, "UPDATE stripe_events SET note = $2 WHERE id = $1",
                   (struct db_param[]){DB_TEXT(id), DB_TEXT(note)}, 2, NULL);
}

enum ff_err payments_unavailable(struct http_req *req, struct http_resp *resp)
{
    if (http_resp_header(resp, "Retry-After", "30"))
        return FF_ENOMEM;
    http_problem_set(req, HTTP_PK_PAYMENTS_UNAVAILABLE,
                     "payments are not configured (FRAMEFIT_STRIPE_SECRET_KEY is unset)");
    req->err = FF_EUPSTREAM;
    return req->err;
}

enum ff_err payments_stripe_problem(struct http_req *req, struct http_resp *resp,
                                    const struct stripe_resp *sr, const char *what)
{
    req->err = FF_EUPSTREAM;
    if (sr->outcome == STRIPE_UNAVAILABLE) {
        if (http_resp_header(resp, "Retry-After", "5"))
            return FF_ENOMEM;
        ff_log(FF_LOG_WARN, "payments", "%s: Stripe unavailable after %d attempt(s): %s", what,
               sr->attempts, sr->why);
        http_problem_set(req, HTTP_PK_PAYMENTS_UNAVAILABLE,
                         "%s: Stripe did not answer (%s); nothing was charged twice, retry"
                         " later", what, sr->status ? "server error" : "timeout or network");
        return req->err;
    }
    ff_log(FF_LOG_WARN, "payments", "%s: Stripe refused (%ld %s): %s", what, sr->status,
           sr->err_code, sr->err_message);
    if (!strcmp(sr->err_type, "idempotency_error")) { /* a concurrent, different request */
        req->err = FF_ECONFLICT;
        http_problem_set(req, HTTP_PK_CONFLICT,
                         "%s: another request for this order is being handled at Stripe;"
                         " reload and retry", what);
        return req->err;
    }
    http_problem_set(req, HTTP_PK_PAYMENT_PROVIDER, "%s: Stripe refused: %s%s%s%s", what,
                     sr->err_message[0] ? sr->err_message : "an error without a message",
                     sr->err_code[0] ? " (" : "", sr->err_code, sr->err_code[0] ? ")" : "");
    return req->err;
}

void pay__key(char *out, size_t len, int64_t order_id, int64_t created_ms, const char *what)
{
    snprintf(out, len, "ff-order-%" PRId64 "-%" PRId64 "-%s", order_id, created_ms, what);
}

enum ff_err payments_http_register(struct http_router *r, struct payments *p)
{
    enum ff_err e = pay__webhook_routes(r, p);
    if (!e)
        e = pay__order_routes(r, p);
    if (!e)
        e = pay__admin_routes(r, p);
    return e;
}
