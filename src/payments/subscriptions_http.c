/* subscriptions_http.c - the merchant plan's routes and their Stripe calls
 * (see subscriptions.h for the guarantees). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/validate.h"
#include "idem/idem.h"
#include "payments/payments.h"
#include "payments/stripe.h"
#include "payments/subscriptions_int.h"

#define ROUTE "/api/v1/merchant/subscription"

enum ff_err subs_new(const struct subs_opts *o, struct subs **out)
{
    struct subs *s = ff_calloc(1, sizeof *s);
    if (!s)
        return FF_ENOMEM;
    s->db = o->db;
    s->stripe = o->stripe;
    ff_strlcpy(s->price_id, o->price_id ? o->price_id : "", sizeof s->price_id);
    *out = s;
    return FF_OK;
}

void subs_free(struct subs *s)
{
    ff_free(s);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static json_t *time_s_json(int64_t s)
{
    if (s <= 0)
        return json_null();
    time_t t = (time_t)s;
    struct tm tm;
    char buf[40];
    if (!gmtime_r(&t, &tm))
        return json_null();
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *opt_str(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *subs__plan_json(const struct subs_row *row, int64_t now_ms)
{
    static const struct subs_row none = {.invoice_amount = -1};
    const struct subs_row *r = row ? row : &none;
    const char *warning = NULL;
    bool on = subs_service_enabled(r->st.status, r->st.past_due_since_s, now_ms / 1000, &warning);
    json_t *inv = json_null();
    if (r->invoice_id[0])
        inv = json_pack("{so so so so so}", "id", json_string(r->invoice_id), "status",
                        opt_str(r->invoice_status), "amount_cents",
                        r->invoice_amount >= 0 ? json_integer(r->invoice_amount) : json_null(),
                        "currency", opt_str(r->invoice_currency), "failure",
                        opt_str(r->failure));
    return json_pack("{ss sb so so so so so so sb so so so sb so so}", "status",
                     subs_status_name(r->st.status), "service_enabled", on, "warning",
                     opt_str(warning), "price_id", opt_str(r->price_id), "customer_id",
                     opt_str(r->customer_id), "subscription_id", opt_str(r->subscription_id),
                     "email", opt_str(r->email), "current_period_end",
                     time_s_json(r->st.period_end_s), "cancel_at_period_end",
                     r->st.cancel_at_period_end, "canceled_at", time_s_json(r->st.canceled_at_s),
                     "past_due_since", time_s_json(r->st.past_due_since_s), "last_invoice", inv,
                     "pending", row && row->open && !row->subscription_id[0], "last_error",
                     opt_str(row && !row->open ? row->last_error : NULL), "updated_at",
                     time_s_json(row ? row->updated_at / 1000 : 0));
}

static enum ff_err reply_plan(struct http_resp *resp, int status, const struct subs_row *row,
                              const char *client_secret)
{
    json_t *j = subs__plan_json(row, db_now_ms());
    if (!j)
        return FF_ENOMEM;
    if (client_secret)
        json_object_set_new(j, "client_secret", opt_str(client_secret));
    return http_reply_json(resp, status, j);
}

/* ---- Stripe ----------------------------------------------------------------------------- */

/* A failed Stripe call as the problem (payments.h): 503 payments-unavailable
 * + Retry-After when Stripe may come back (everything needed to finish later
 * is kept), 502 payment-provider-error when it refused. */
static enum ff_err stripe_problem(struct http_req *req, struct http_resp *resp,
                                  const struct stripe_resp *sr, const char *what)
{
    return payments_stripe_problem(req, resp, sr, what);
}

static bool stripe_id_ok(const char *id)
{
    if (!*id || strlen(id) >= SUBS_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* The client secret of the first invoice's payment (expanded objects only). */
static const char *client_secret_of(const json_t *sub)
{
    const json_t *inv = json_object_get(sub, "latest_invoice");
    const json_t *pi = json_object_get(inv, "payment_intent");
    const char *cs = json_string_value(json_object_get(pi, "client_secret"));
    if (!cs) /* 2025 API versions */
        cs = json_string_value(
            json_object_get(json_object_get(inv, "confirmation_secret"), "client_secret"));
    return cs;
}

/* Copies what a subscription object from the API says into row. The state
 * guard (state_at) is left alone: API answers carry no event time, so events
 * still apply after them; only a final status (canceled) always sticks. */
static void take_object(struct subs_row *row, const struct subs_facts *f, const json_t *sub)
{
    if (!row->subscription_id[0])
        ff_strlcpy(row->subscription_id, f->subscription_id, sizeof row->subscription_id);
    if (f->status >= 0 &&
        (row->st.state_at_s == 0 || subs_status_final((enum subs_status)f->status)))
        row->st.status = (enum subs_status)f->status;
    if (f->period_end_s > 0 && row->st.state_at_s == 0)
        row->st.period_end_s = f->period_end_s;
    if (f->cancel_at_period_end >= 0)
        row->st.cancel_at_period_end = f->cancel_at_period_end == 1;
    if (row->st.status == SUBS_CANCELED && !row->st.canceled_at_s)
        row->st.canceled_at_s = f->canceled_at_s ? f->canceled_at_s : db_now_ms() / 1000;
    const json_t *inv = json_object_get(sub, "latest_invoice");
    const char *iid = json_is_object(inv) ? json_string_value(json_object_get(inv, "id"))
                                          : json_string_value(inv);
    if (iid && !row->invoice_id[0] && strlen(iid) < sizeof row->invoice_id) {
        ff_strlcpy(row->invoice_id, iid, sizeof row->invoice_id);
        const char *st = json_string_value(json_object_get(inv, "status"));
        const char *cur = json_string_value(json_object_get(inv, "currency"));
        const json_t *due = json_object_get(inv, "amount_due");
        ff_strlcpy(row->invoice_status, st ? st : "", sizeof row->invoice_status);
        ff_strlcpy(row->invoice_currency, cur ? cur : "", sizeof row->invoice_currency);
        row->invoice_amount = json_is_integer(due) ? (int64_t)json_integer_value(due) : -1;
    }
}

/* Events that arrived before the subscription id was stored (recorded as
 * unknown) are applied now, oldest first, in the caller's transaction. */
static enum ff_err apply_early_events(struct db_conn *c, struct subs_row *row)
{
    struct db_rows *r = NULL;
    enum ff_err e = db_query(c,
                             "SELECT id, payload FROM merchant_subscription_events WHERE"
                             " subscription_id = $1 AND outcome = 'unknown' AND payload IS NOT NULL"
                             " ORDER BY event_created, id",
                             (struct db_param[]){DB_TEXT(row->subscription_id)}, 1, &r);
    int64_t ids[16];
    const char *outcome[16];
    int n = 0;
    bool has = false;
    while (!e && n < 16 && !(e = db_next(r, &has)) && has) {
        size_t len = 0;
        const char *text = db_col_text(r, 1, &len);
        json_t *ev = json_loadb(text, len, 0, NULL);
        struct subs_facts f;
        ids[n] = db_col_i64(r, 0);
        outcome[n] = "stale";
        if (ev && !subs_facts_from_event(ev, &f) && subs__apply_facts(row, &f) == SUBS_APPLY)
            outcome[n] = "applied";
        json_decref(ev);
        n++;
    }
    db_rows_free(r);
    for (int i = 0; !e && i < n; i++)
        e = db_exec(c,
                    "UPDATE merchant_subscription_events SET outcome = $2, status_after = $3"
                    " WHERE id = $1",
                    (struct db_param[]){DB_I64(ids[i]), DB_TEXT(outcome[i]),
                                        DB_TEXT(subs_status_name(row->st.status))},
                    3, NULL);
    return e;
}

/* ---- POST -------------------------------------------------------------------------------- */

static const struct http_field create_fields[] = {
    {.name = "email", .type = HTTP_T_STRING, .flags = HTTP_F_REQUIRED, .min_len = 3,
     .max_len = 254},
    {.name = "name", .type = HTTP_T_STRING, .min_len = 1, .max_len = 200},
    {.name = "price_id", .type = HTTP_T_STRING, .min_len = 1, .max_len = 100},
};
static const struct http_schema create_schema = HTTP_SCHEMA(create_fields);

static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || !at[1] || strchr(at + 1, '@'))
        return false;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* Step 1: the open row to finish (*exists: it has its subscription already)
 * or a new pending one; a problem when an attempt on another price is open. */
static enum ff_err open_row(struct http_req *req, struct subs *s, const char *email,
                            const char *name, const char *price, struct subs_row *row,
                            bool *exists)
{
    struct db_tx tx = DB_TX_INIT;
    bool found = false;
    *exists = false;
    enum ff_err e = db_begin(s->db, &tx);
    if (!e)
        e = subs__load(tx.conn, db_dialect(s->db) == DB_PG, SUBS_ROW_OPEN, NULL, 0, row, &found);
    if (!e && found) {
        *exists = row->subscription_id[0] != '\0';
        if (!*exists && strcmp(row->price_id, price))
            e = http_problem_set(req, HTTP_PK_CONFLICT,
                                 "a subscription on price %s is being created: retry with that "
                                 "price_id to finish it",
                                 row->price_id);
    } else if (!e) {
        memset(row, 0, sizeof *row);
        row->invoice_amount = -1;
        ff_strlcpy(row->email, email, sizeof row->email);
        ff_strlcpy(row->name, name ? name : "", sizeof row->name);
        ff_strlcpy(row->price_id, price, sizeof row->price_id);
        e = subs__last_customer(tx.conn, row->customer_id, sizeof row->customer_id);
        if (!e)
            e = subs__insert(tx.conn, row);
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e == FF_ECONFLICT && !req->problem_status) { /* another request opened it first */
        struct db_conn *c = NULL;
        if (!(e = db_acquire(s->db, &c)))
            e = subs__load(c, false, SUBS_ROW_OPEN, NULL, 0, row, &found);
        db_release(c);
        if (!e && !found)
            e = FF_ECONFLICT;
        if (!e)
            *exists = row->subscription_id[0] != '\0';
    }
    return e;
}

/* Closes a pending row Stripe refused (a retry starts afresh). */
static enum ff_err close_refused(struct subs *s, struct subs_row *row, const struct stripe_resp *sr)
{
    struct db_tx tx = DB_TX_INIT;
    row->open = false;
    snprintf(row->last_error, sizeof row->last_error, "%.60s%s%.180s", sr->err_code,
             sr->err_code[0] ? ": " : "", sr->err_message);
    enum ff_err e = db_begin(s->db, &tx);
    if (!e)
        e = subs__save(tx.conn, row);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

static enum ff_err create_customer(struct http_req *req, struct http_resp *resp, struct subs *s,
                                   struct subs_row *row)
{
    struct stripe_form f;
    struct stripe_resp sr;
    char key[96];
    stripe_form_init(&f);
    enum ff_err e = stripe_form_add(&f, "email", row->email);
    if (!e && row->name[0])
        e = stripe_form_add(&f, "name", row->name);
    if (!e)
        e = stripe_form_add(&f, "metadata[framefit_plan]", row->token);
    snprintf(key, sizeof key, "framefit-cus-%s", row->token);
    if (!e)
        e = stripe_request(s->stripe, "POST", "/v1/customers", &f, key, &sr);
    stripe_form_release(&f);
    if (e)
        return e;
    const char *id = json_string_value(json_object_get(sr.body, "id"));
    if (sr.outcome == STRIPE_OK && (!id || !stripe_id_ok(id)))
        sr.outcome = STRIPE_UNAVAILABLE; /* a garbled answer: try again later, same key */
    if (sr.outcome != STRIPE_OK) {
        if (sr.outcome == STRIPE_DECLINED && (e = close_refused(s, row, &sr)))
            goto out;
        e = stripe_problem(req, resp, &sr, "creating the customer");
        goto out;
    }
    ff_strlcpy(row->customer_id, id, sizeof row->customer_id);
    struct db_tx tx = DB_TX_INIT;
    e = db_begin(s->db, &tx);
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE merchant_subscriptions SET customer_id = $2, updated_at = $3"
                    " WHERE id = $1 AND customer_id IS NULL",
                    (struct db_param[]){DB_I64(row->id), DB_TEXT(id), DB_I64(db_now_ms())}, 3,
                    NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
out:
    stripe_resp_release(&sr);
    return e;
}

/* Frees json_dumps text with jansson's current allocator. */
static void json_text_free(char *t)
{
    json_malloc_t m;
    json_free_t fr;
    json_get_alloc_funcs(&m, &fr);
    if (t)
        fr(t);
}

/* Stores the created (or re-read) subscription object on row. When answer is
 * not NULL (creation), the answer (plan + client_secret) is built from the
 * stored row and recorded for the request's Idempotency-Key in the same
 * transaction (idem_record_in_tx): *answer gets the JSON text (free with
 * json_text_free). */
static enum ff_err store_subscription(struct subs *s, struct subs_row *row, const json_t *sub,
                                      struct http_req *req, int status, char **answer)
{
    struct subs_facts f;
    if (subs_facts_from_subscription(sub, &f) || !stripe_id_ok(f.subscription_id))
        return FF_EUPSTREAM;
    struct db_tx tx = DB_TX_INIT;
    bool found = false;
    struct subs_row cur;
    enum ff_err e = db_begin(s->db, &tx);
    if (!e) /* the row as it is now (a webhook or a concurrent request may have moved it) */
        e = subs__load(tx.conn, db_dialect(s->db) == DB_PG, SUBS_ROW_BY_ID, NULL, row->id, &cur,
                       &found);
    if (!e && found)
        *row = cur;
    bool first = !row->subscription_id[0];
    take_object(row, &f, sub);
    if (!e && first)
        e = apply_early_events(tx.conn, row);
    if (!e)
        e = subs__save(tx.conn, row);
    if (!e && answer) {
        json_t *j = subs__plan_json(row, db_now_ms());
        const char *cs = client_secret_of(sub);
        if (j && cs)
            json_object_set_new(j, "client_secret", json_string(cs));
        *answer = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        e = *answer ? idem_record_in_tx(req, tx.conn, status, "application/json", *answer,
                                        strlen(*answer))
                    : FF_ENOMEM;
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

static enum ff_err create_subscription(struct http_req *req, struct http_resp *resp,
                                       struct subs *s, struct subs_row *row)
{
    struct stripe_form f;
    struct stripe_resp sr;
    char key[96];
    char *answer = NULL;
    stripe_form_init(&f);
    enum ff_err e = stripe_form_add(&f, "customer", row->customer_id);
    if (!e)
        e = stripe_form_add(&f, "items[0][price]", row->price_id);
    if (!e)
        e = stripe_form_add(&f, "payment_behavior", "default_incomplete");
    if (!e)
        e = stripe_form_add(&f, "expand[0]", "latest_invoice.payment_intent");
    if (!e)
        e = stripe_form_add(&f, "metadata[framefit_plan]", row->token);
    snprintf(key, sizeof key, "framefit-sub-%s", row->token);
    if (!e)
        e = stripe_request(s->stripe, "POST", "/v1/subscriptions", &f, key, &sr);
    stripe_form_release(&f);
    if (e)
        return e;
    if (sr.outcome == STRIPE_DECLINED) {
        if (!strcmp(sr.err_param, "customer"))
            row->customer_id[0] = '\0'; /* gone at Stripe: the next attempt makes a new one */
        if ((e = close_refused(s, row, &sr)))
            goto out;
        if (!strncmp(sr.err_param, "items", 5) || !strcmp(sr.err_param, "price")) {
            e = http_field_error(req, "price_id", "Stripe: %s", sr.err_message);
            goto out;
        }
    }
    if (sr.outcome == STRIPE_OK) {
        e = store_subscription(s, row, sr.body, req, 201, &answer);
        if (e == FF_EUPSTREAM)
            sr.outcome = STRIPE_UNAVAILABLE; /* garbled: the same key gets it again */
        else if (e)
            goto out;
    }
    if (sr.outcome != STRIPE_OK) {
        e = stripe_problem(req, resp, &sr, "creating the subscription");
        goto out;
    }
    e = http_reply(resp, 201, "application/json", answer, strlen(answer));
out:
    json_text_free(answer);
    stripe_resp_release(&sr);
    return e;
}

/* An incomplete subscription asked for again: its state and client secret. */
static enum ff_err reread_subscription(struct http_req *req, struct http_resp *resp,
                                       struct subs *s, struct subs_row *row)
{
    char path[256];
    struct stripe_resp sr;
    if (!stripe_id_ok(row->subscription_id))
        return http_errf(req, FF_EINTERNAL, "bad stored subscription id");
    snprintf(path, sizeof path,
             "/v1/subscriptions/%s?expand%%5B0%%5D=latest_invoice.payment_intent",
             row->subscription_id);
    enum ff_err e = stripe_request(s->stripe, "GET", path, NULL, NULL, &sr);
    if (e)
        return e;
    if (sr.outcome == STRIPE_OK &&
        (e = store_subscription(s, row, sr.body, req, 200, NULL)) == FF_EUPSTREAM)
        sr.outcome = STRIPE_UNAVAILABLE;
    if (!e && sr.outcome != STRIPE_OK)
        e = stripe_problem(req, resp, &sr, "reading the subscription");
    else if (!e)
        e = reply_plan(resp, 200, row, client_secret_of(sr.body));
    stripe_resp_release(&sr);
    return e;
}

static enum ff_err no_stripe(struct http_req *req, struct http_resp *resp)
{
    return payments_unavailable(req, resp);
}

static enum ff_err create_plan(struct http_req *req, struct http_resp *resp)
{
    struct subs *s = req->ud;
    json_t *body;
    enum ff_err e = http_json_body(req, &create_schema, &body);
    if (e)
        return e;
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *price = json_string_value(json_object_get(body, "price_id"));
    if (!email_ok(email))
        return http_field_error(req, "email", "must be an email address");
    if (!price)
        price = s->price_id;
    if (!*price)
        return http_field_error(req, "price_id",
                                "required: no FRAMEFIT_STRIPE_PRICE_ID is configured");
    if (!stripe_id_ok(price))
        return http_field_error(req, "price_id", "must be a Stripe price id such as price_123");
    if (!s->stripe)
        return no_stripe(req, resp);

    struct subs_row row;
    bool exists = false;
    if ((e = open_row(req, s, email, name, price, &row, &exists)))
        return e;
    if (exists && row.st.status == SUBS_INCOMPLETE && !strcmp(row.price_id, price))
        return reread_subscription(req, resp, s, &row); /* its first invoice, again */
    if (exists)
        return http_problem_set(req, HTTP_PK_CONFLICT,
                                "the merchant already has a subscription (%s on %s, status %s); "
                                "cancel it first",
                                row.subscription_id, row.price_id,
                                subs_status_name(row.st.status));
    if (!row.customer_id[0] && (e = create_customer(req, resp, s, &row)))
        return e;
    return create_subscription(req, resp, s, &row);
}

/* ---- GET / DELETE ------------------------------------------------------------------------ */

static enum ff_err get_plan(struct http_req *req, struct http_resp *resp)
{
    struct subs *s = req->ud;
    struct db_conn *c = NULL;
    struct subs_row row;
    bool found = false;
    enum ff_err e = db_acquire(s->db, &c);
    if (!e)
        e = subs__load(c, false, SUBS_ROW_OPEN, NULL, 0, &row, &found);
    if (!e && !found)
        e = subs__load(c, false, SUBS_ROW_LATEST, NULL, 0, &row, &found);
    db_release(c);
    if (e)
        return e;
    return reply_plan(resp, 200, found ? &row : NULL, NULL);
}

static enum ff_err cancel_plan(struct http_req *req, struct http_resp *resp)
{
    struct subs *s = req->ud;
    const char *q = http_query(req, "at_once");
    if (q && strcmp(q, "true") && strcmp(q, "false"))
        return http_field_error(req, "at_once", "must be true or false");
    bool at_once = q && !strcmp(q, "true");
    if (!s->stripe)
        return no_stripe(req, resp);
    struct db_conn *c = NULL;
    struct subs_row row;
    bool found = false;
    enum ff_err e = db_acquire(s->db, &c);
    if (!e)
        e = subs__load(c, false, SUBS_ROW_OPEN, NULL, 0, &row, &found);
    db_release(c);
    if (e)
        return e;
    if (!found)
        return http_errf(req, FF_ENOTFOUND, "the merchant has no open subscription");
    if (!row.subscription_id[0])
        return http_problem_set(req, HTTP_PK_CONFLICT,
                                "the subscription is still being created: repeat the POST to "
                                "finish it, then cancel");
    if (!at_once && row.st.cancel_at_period_end)
        return reply_plan(resp, 200, &row, NULL);
    if (!stripe_id_ok(row.subscription_id))
        return http_errf(req, FF_EINTERNAL, "bad stored subscription id");

    char path[192], key[96];
    struct stripe_form f;
    struct stripe_resp sr;
    snprintf(path, sizeof path, "/v1/subscriptions/%s", row.subscription_id);
    stripe_form_init(&f);
    if (at_once) {
        snprintf(key, sizeof key, "framefit-del-%s", row.token); /* lets the client retry */
        e = stripe_request(s->stripe, "DELETE", path, NULL, key, &sr);
    } else {
        snprintf(key, sizeof key, "framefit-cape-%s", row.token);
        e = stripe_form_add(&f, "cancel_at_period_end", "true");
        if (!e)
            e = stripe_request(s->stripe, "POST", path, &f, key, &sr);
    }
    stripe_form_release(&f);
    if (e)
        return e;
    if (sr.outcome == STRIPE_OK &&
        (e = store_subscription(s, &row, sr.body, req, 200, NULL)) == FF_EUPSTREAM)
        sr.outcome = STRIPE_UNAVAILABLE;
    if (!e && sr.outcome != STRIPE_OK)
        e = stripe_problem(req, resp, &sr, "canceling the subscription");
    else if (!e)
        e = reply_plan(resp, 200, &row, NULL);
    stripe_resp_release(&sr);
    return e;
}

enum ff_err subs_http_register(struct http_router *r, struct subs *s)
{
    enum ff_err e = http_route_add(r, HTTP_POST, ROUTE, create_plan, s,
                                   HTTP_ROUTE_ADMIN | HTTP_ROUTE_IDEMPOTENT);
    if (!e)
        e = http_route_add(r, HTTP_GET, ROUTE, get_plan, s, HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, ROUTE, cancel_plan, s, HTTP_ROUTE_ADMIN);
    return e;
}
