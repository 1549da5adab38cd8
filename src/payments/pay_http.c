/* pay_http.c - the order payment routes: the payment intent of an order,
 * the payment view, refunds (staff) and cancelling an unpaid order.
 *
 * Stripe is never called inside a database transaction: each handler reads
 * what it needs, calls Stripe (with an idempotency key derived from the
 * order, so retries and double clicks reach the same Stripe object), then
 * applies the answer in a short transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/validate.h"
#include "jobs/jobs.h"
#include "payments/payments_int.h"
#include "payments/stripe.h"

enum ff_err pay__load(struct db_conn *c, int64_t id, struct ord_pay *op)
{
    memset(op, 0, sizeof *op);
    struct db_rows *r;
    enum ff_err e = db_query(c,
                             "SELECT o.status, o.total_cents, o.refunded_cents, o.currency,"
                             " o.created_at, p.payment_intent, p.status, p.amount_received,"
                             " p.amount_refunded, p.order_id FROM orders o LEFT JOIN payments p"
                             " ON p.order_id = o.id WHERE o.id = $1",
                             (struct db_param[]){DB_I64(id)}, 1, &r);
    if (e)
        return e;
    bool has;
    e = db_next(r, &has);
    if (!e && has) {
        op->id = id;
        snprintf(op->status, sizeof op->status, "%s", db_col_text(r, 0, NULL));
        op->total = db_col_i64(r, 1);
        op->refunded = db_col_i64(r, 2);
        snprintf(op->currency, sizeof op->currency, "%s", db_col_text(r, 3, NULL));
        op->created = db_col_i64(r, 4);
        op->has_payment = !db_col_null(r, 9);
        const char *pi = db_col_text(r, 5, NULL), *ps = db_col_text(r, 6, NULL);
        snprintf(op->pi, sizeof op->pi, "%s", pi ? pi : "");
        snprintf(op->pay_status, sizeof op->pay_status, "%s", ps ? ps : "");
        op->received = db_col_i64(r, 7);
        op->pay_refunded = db_col_i64(r, 8);
    }
    db_rows_free(r);
    return e ? e : has ? FF_OK : FF_ENOTFOUND;
}

/* Reads order id (visible to the caller) and its payment; records the
 * problem on error. */
static enum ff_err load_visible(struct payments *p, struct http_req *req, int64_t id,
                                struct ord_pay *op)
{
    struct db_conn *c;
    enum ff_err e = db_acquire(p->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    e = orders_may_see(req, c, id);
    if (!e)
        e = pay__load(c, id, op);
    db_release(c);
    if (e == FF_ENOTFOUND)
        return http_errf(req, e, "no order %" PRId64, id);
    return e ? http_errf(req, e, "reading the order failed") : FF_OK;
}

/* "2026-11-25T02:11:00.000Z" */
static void iso(int64_t ms, char *out, size_t len)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03dZ", base, (int)(ms % 1000));
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void lower3(char *out, const char *in)
{
    for (int i = 0; i < 3 && in[i]; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[3] = 0;
}

/* ---- POST /api/v1/orders/{id}/payment-intent ------------------------------------------ */

static enum ff_err intent_reply(struct http_resp *resp, int status, int64_t id,
                                const json_t *pi)
{
    return http_reply_json(
        resp, status,
        json_pack("{sI sO sO sO sO sO}", "order_id", (json_int_t)id, "payment_intent_id",
                  json_object_get(pi, "id"), "client_secret", json_object_get(pi, "client_secret"),
                  "amount_cents", json_object_get(pi, "amount"), "currency",
                  json_object_get(pi, "currency"), "status", json_object_get(pi, "status")));
}

/* Records the intent Stripe created for the order (once). */
static enum ff_err save_intent(struct payments *p, const struct ord_pay *op, const json_t *pi)
{
    struct db_conn *c;
    enum ff_err e = db_acquire(p->db, &c);
    if (e)
        return e;
    int64_t now = db_now_ms();
    char cur[4];
    lower3(cur, op->currency);
    const char *pid = json_string_value(json_object_get(pi, "id"));
    const char *st = json_string_value(json_object_get(pi, "status"));
    if (op->pi[0]) /* replaces a canceled intent (only that one) */
        e = db_exec(c,
                    "UPDATE payments SET payment_intent = $2, status = $3, last_error = NULL,"
                    " updated_at = $4 WHERE order_id = $1 AND payment_intent = $5",
                    (struct db_param[]){DB_I64(op->id), DB_TEXT(pid), DB_TEXT(st), DB_I64(now),
                                        DB_TEXT(op->pi)},
                    5, NULL);
    else
        e = db_exec(c,
                    "INSERT INTO payments (order_id, payment_intent, amount_cents, currency,"
                    " status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)"
                    " ON CONFLICT (order_id) DO NOTHING",
                    (struct db_param[]){DB_I64(op->id), DB_TEXT(pid), DB_I64(op->total),
                                        DB_TEXT(cur), DB_TEXT(st), DB_I64(now)},
                    6, NULL);
    db_release(c);
    return e;
}

/* POSTs a new intent for the order under the key ff-order-<id>-<created>-<what>. */
static enum ff_err create_intent(struct payments *p, const struct ord_pay *op, const char *what,
                                 struct stripe_resp *sr)
{
    struct stripe_form f;
    char cur[4], oid[24], key[300];
    lower3(cur, op->currency);
    snprintf(oid, sizeof oid, "%" PRId64, op->id);
    pay__key(key, sizeof key, op->id, op->created, what);
    stripe_form_init(&f);
    enum ff_err e = stripe_form_addi(&f, "amount", op->total);
    if (!e)
        e = stripe_form_add(&f, "currency", cur);
    if (!e)
        e = stripe_form_add(&f, "metadata[order_id]", oid);
    if (!e)
        e = stripe_form_add(&f, "automatic_payment_methods[enabled]", "true");
    if (!e)
        e = stripe_request(p->stripe, "POST", "/v1/payment_intents", &f, key, sr);
    stripe_form_release(&f);
    return e;
}

static bool intent_ok(const json_t *pi)
{
    return json_is_string(json_object_get(pi, "id")) &&
           json_is_string(json_object_get(pi, "client_secret")) &&
           json_is_integer(json_object_get(pi, "amount"));
}

static enum ff_err h_intent(struct http_req *req, struct http_resp *resp)
{
    struct payments *p = req->ud;
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    struct ord_pay op;
    enum ff_err e = load_visible(p, req, id, &op);
    if (e)
        return e;
    if (strcmp(op.status, "pending_payment"))
        return http_problem_set(req, HTTP_PK_INVALID_TRANSITION,
                                "order %" PRId64 " is %s: only a pending_payment order takes a"
                                " payment", id, op.status);
    if (!p->stripe)
        return payments_unavailable(req, resp);
    struct stripe_resp sr;
    char path[200];
    bool created = !op.pi[0];
    if (op.pi[0]) { /* the intent exists: fetch it for its client secret (never stored) */
        snprintf(path, sizeof path, "/v1/payment_intents/%s", op.pi);
        if ((e = stripe_request(p->stripe, "GET", path, NULL, NULL, &sr)))
            return http_errf(req, e, "calling Stripe failed");
        const char *st = json_string_value(json_object_get(sr.body, "status"));
        if (sr.outcome == STRIPE_OK && st && !strcmp(st, "canceled")) {
            /* canceled at Stripe (dashboard, API) while the order is still
             * unpaid: a new intent replaces it, keyed by the old one */
            stripe_resp_release(&sr);
            char what[200];
            snprintf(what, sizeof what, "pi-after-%s", op.pi);
            if ((e = create_intent(p, &op, what, &sr)))
                return http_errf(req, e, "calling Stripe failed");
            created = true;
        }
    } else if ((e = create_intent(p, &op, "pi", &sr))) {
        return http_errf(req, e, "calling Stripe failed");
    }
    if (sr.outcome != STRIPE_OK || !intent_ok(sr.body)) {
        if (sr.outcome == STRIPE_OK)
            sr.outcome = STRIPE_UNAVAILABLE, snprintf(sr.why, sizeof sr.why, "odd answer");
        e = payments_stripe_problem(req, resp, &sr, created ? "creating the payment intent"
                                                            : "reading the payment intent");
        stripe_resp_release(&sr);
        return e;
    }
    if (created && (e = save_intent(p, &op, sr.body))) {
        stripe_resp_release(&sr);
        return http_errf(req, e, "recording the payment intent failed; retry (the same"
                                 " intent is returned)");
    }
    e = intent_reply(resp, created ? 201 : 200, id, sr.body);
    stripe_resp_release(&sr);
    return e;
}

/* ---- GET /api/v1/orders/{id}/payment ------------------------------------------------------- */

static json_t *refunds_json(struct db_conn *c, int64_t id, enum ff_err *e)
{
    json_t *a = json_array();
    struct db_rows *r;
    *e = db_query(c,
                  "SELECT id, stripe_refund, amount_cents, reason, actor, created_at FROM"
                  " payment_refunds WHERE order_id = $1 ORDER BY id",
                  (struct db_param[]){DB_I64(id)}, 1, &r);
    if (*e)
        return a;
    bool has;
    while (!(*e = db_next(r, &has)) && has) {
        char at[40];
        iso(db_col_i64(r, 5), at, sizeof at);
        json_array_append_new(a, json_pack("{sI so sI ss ss ss}", "id",
                                           (json_int_t)db_col_i64(r, 0), "stripe_refund_id",
                                           str_or_null(db_col_text(r, 1, NULL)), "amount_cents",
                                           (json_int_t)db_col_i64(r, 2), "reason",
                                           db_col_text(r, 3, NULL), "actor",
                                           db_col_text(r, 4, NULL), "created_at", at));
    }
    db_rows_free(r);
    return a;
}

/* The payment view of order id (staff see the attention note). */
static enum ff_err payment_json(struct db_conn *c, int64_t id, bool staff, json_t **out)
{
    json_t *order = NULL;
    enum ff_err e = orders_order_json(c, id, &order);
    if (e)
        return e;
    json_t *j = json_pack("{sI sO sO sO sO sO sn}", "order_id", (json_int_t)id, "order_status",
                          json_object_get(order, "status"), "total_cents",
                          json_object_get(order, "total_cents"), "currency",
                          json_object_get(order, "currency"), "refunded_cents",
                          json_object_get(order, "refunded_cents"), "disputed",
                          json_object_get(order, "disputed"), "payment");
    json_decref(order);
    struct db_rows *r;
    e = db_query(c,
                 "SELECT payment_intent, status, amount_cents, currency, amount_received,"
                 " amount_refunded, disputed, last_error, attention, created_at, updated_at"
                 " FROM payments WHERE order_id = $1",
                 (struct db_param[]){DB_I64(id)}, 1, &r);
    bool has = false;
    if (!e && !(e = db_next(r, &has)) && has) {
        char c1[40], c2[40];
        iso(db_col_i64(r, 9), c1, sizeof c1);
        iso(db_col_i64(r, 10), c2, sizeof c2);
        const char *att = db_col_text(r, 8, NULL);
        json_object_set_new(
            j, "payment",
            json_pack("{so ss sI ss sI sI sb so ss ss}", "payment_intent_id",
                      str_or_null(db_col_text(r, 0, NULL)), "status", db_col_text(r, 1, NULL),
                      "amount_cents", (json_int_t)db_col_i64(r, 2), "currency",
                      db_col_text(r, 3, NULL), "amount_received_cents",
                      (json_int_t)db_col_i64(r, 4), "amount_refunded_cents",
                      (json_int_t)db_col_i64(r, 5), "disputed", (int)db_col_i64(r, 6),
                      "last_error", str_or_null(db_col_text(r, 7, NULL)), "created_at", c1, "updated_at",
                      c2));
        if (staff)
            json_object_set_new(json_object_get(j, "payment"), "attention",
                                att ? json_string(att) : json_null());
    }
    if (!e || r)
        db_rows_free(r);
    if (!e)
        json_object_set_new(j, "refunds", refunds_json(c, id, &e));
    if (e) {
        json_decref(j);
        return e;
    }
    *out = j;
    return FF_OK;
}

static enum ff_err reply_payment(struct payments *p, struct http_req *req,
                                 struct http_resp *resp, int status, int64_t id)
{
    struct db_conn *c;
    enum ff_err e = db_acquire(p->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    json_t *j = NULL;
    e = orders_may_see(req, c, id);
    if (!e)
        e = payment_json(c, id, http_principal(req)->role >= HTTP_ROLE_STAFF, &j);
    db_release(c);
    if (e == FF_ENOTFOUND)
        return http_errf(req, e, "no order %" PRId64, id);
    if (e)
        return http_errf(req, e, "reading the payment failed");
    return http_reply_json(resp, status, j);
}

static enum ff_err h_payment(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    return reply_payment(req->ud, req, resp, 200, id);
}

/* ---- POST /api/v1/orders/{id}/refunds (staff) -------------------------------------------- */

static const struct http_field refund_fields[] = {
    {"amount_cents", HTTP_T_INT, 0, .min = 1, .max = 99999999999LL},
    {"reason", HTTP_T_STRING, 0, .max_len = 500},
};
static const struct http_schema refund_schema = HTTP_SCHEMA(refund_fields);

/* Records a refund Stripe made and brings the order in line (actor: staff). */
static enum ff_err save_refund(struct payments *p, struct http_req *req, const struct ord_pay *op,
                               const json_t *re, const char *reason)
{
    int64_t amount = json_integer_value(json_object_get(re, "amount"));
    const char *actor = orders_actor(req);
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(p->db, &tx);
    if (!e)
        e = pay__lock_order(p, tx.conn, op->id);
    if (!e)
        e = db_exec(tx.conn,
                    "INSERT INTO payment_refunds (order_id, stripe_refund, amount_cents, reason,"
                    " actor, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
                    " ON CONFLICT (stripe_refund) DO NOTHING",
                    (struct db_param[]){DB_I64(op->id),
                                        DB_TEXT(json_string_value(json_object_get(re, "id"))),
                                        DB_I64(amount), DB_TEXT(reason ? reason : ""),
                                        DB_TEXT(actor), DB_I64(db_now_ms())},
                    6, NULL);
    int64_t total = op->pay_refunded + amount;
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE payments SET amount_refunded = CASE WHEN amount_refunded < $2 THEN"
                    " $2 ELSE amount_refunded END, updated_at = $3 WHERE order_id = $1",
                    (struct db_param[]){DB_I64(op->id), DB_I64(total), DB_I64(db_now_ms())}, 3,
                    NULL);
    if (!e)
        e = pay__reconcile(p, tx.conn, op->id, actor, reason && *reason ? reason : "refund");
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

static enum ff_err h_refund(struct http_req *req, struct http_resp *resp)
{
    struct payments *p = req->ud;
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    json_t *b = NULL;
    enum ff_err e;
    if (req->body_len && (e = http_json_body(req, &refund_schema, &b)))
        return e;
    const char *reason = json_string_value(json_object_get(b, "reason"));
    struct ord_pay op;
    if ((e = load_visible(p, req, id, &op)))
        return e;
    if (!op.has_payment || strcmp(op.pay_status, "succeeded"))
        return http_problem_set(req, HTTP_PK_CONFLICT,
                                "order %" PRId64 " has no successful payment to refund", id);
    int64_t left = op.received - op.pay_refunded;
    if (left <= 0)
        return http_problem_set(req, HTTP_PK_CONFLICT,
                                "order %" PRId64 " is refunded in full already", id);
    json_t *a = json_object_get(b, "amount_cents");
    int64_t amount = a ? (int64_t)json_integer_value(a) : left;
    if (amount > left)
        return http_field_error(req, "amount_cents",
                                "is more than the %" PRId64 " cents left to refund", left);
    if (!p->stripe)
        return payments_unavailable(req, resp);
    /* one key per (order, refunded so far): a retry or a double click reaches
     * the same refund; the next refund starts from the new total */
    char what[48], key[128], oid[24];
    snprintf(what, sizeof what, "refund-at-%" PRId64, op.pay_refunded);
    pay__key(key, sizeof key, id, op.created, what);
    snprintf(oid, sizeof oid, "%" PRId64, id);
    struct stripe_form f;
    struct stripe_resp sr;
    stripe_form_init(&f);
    e = stripe_form_add(&f, "payment_intent", op.pi);
    if (!e)
        e = stripe_form_addi(&f, "amount", amount);
    if (!e)
        e = stripe_form_add(&f, "metadata[order_id]", oid);
    if (!e)
        e = stripe_request(p->stripe, "POST", "/v1/refunds", &f, key, &sr);
    stripe_form_release(&f);
    if (e)
        return http_errf(req, e, "calling Stripe failed");
    if (sr.outcome != STRIPE_OK || !json_is_string(json_object_get(sr.body, "id")) ||
        json_integer_value(json_object_get(sr.body, "amount")) <= 0) {
        if (sr.outcome == STRIPE_OK)
            sr.outcome = STRIPE_UNAVAILABLE, snprintf(sr.why, sizeof sr.why, "odd answer");
        e = payments_stripe_problem(req, resp, &sr, "refunding");
        stripe_resp_release(&sr);
        return e;
    }
    e = save_refund(p, req, &op, sr.body, reason);
    stripe_resp_release(&sr);
    if (e)
        return http_errf(req, e, "recording the refund failed (Stripe made it: retry, it is"
                                 " not made twice)");
    return reply_payment(p, req, resp, 201, id);
}

/* ---- POST /api/v1/orders/{id}/cancel (owner or staff) ------------------------------------ */

/* Cancels the order's intent at Stripe; FF_OK when it is canceled (also
 * when it was already). Records the problem otherwise. */
static enum ff_err cancel_intent(struct payments *p, struct http_req *req, struct http_resp *resp,
                                 const struct ord_pay *op)
{
    if (!p->stripe)
        return payments_unavailable(req, resp);
    char path[200], key[96];
    snprintf(path, sizeof path, "/v1/payment_intents/%s/cancel", op->pi);
    pay__key(key, sizeof key, op->id, op->created, "pi-cancel");
    struct stripe_resp sr;
    enum ff_err e = stripe_request(p->stripe, "POST", path, NULL, key, &sr);
    if (e)
        return http_errf(req, e, "calling Stripe failed");
    const char *st = json_string_value(json_object_get(sr.body, "status"));
    if (sr.outcome == STRIPE_DECLINED && !strcmp(sr.err_code, "payment_intent_unexpected_state")) {
        stripe_resp_release(&sr); /* already canceled, or paid: ask for its state */
        snprintf(path, sizeof path, "/v1/payment_intents/%s", op->pi);
        if ((e = stripe_request(p->stripe, "GET", path, NULL, NULL, &sr)))
            return http_errf(req, e, "calling Stripe failed");
        st = json_string_value(json_object_get(sr.body, "status"));
    }
    if (sr.outcome == STRIPE_OK && st && !strcmp(st, "canceled")) {
        stripe_resp_release(&sr);
        return FF_OK;
    }
    if (sr.outcome == STRIPE_OK) {
        e = http_problem_set(req, HTTP_PK_INVALID_TRANSITION,
                             "order %" PRId64 " cannot be cancelled: its payment is %s", op->id,
                             st && !strcmp(st, "succeeded") ? "done (the order becomes paid)"
                                                            : "in progress");
    } else {
        e = payments_stripe_problem(req, resp, &sr, "cancelling the payment intent");
    }
    stripe_resp_release(&sr);
    return e;
}

static const struct http_field cancel_fields[] = {
    {"reason", HTTP_T_STRING, 0, .max_len = 500},
};
static const struct http_schema cancel_schema = HTTP_SCHEMA(cancel_fields);

static enum ff_err h_cancel(struct http_req *req, struct http_resp *resp)
{
    struct payments *p = req->ud;
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    json_t *b = NULL;
    enum ff_err e;
    if (req->body_len && (e = http_json_body(req, &cancel_schema, &b)))
        return e;
    const char *reason = json_string_value(json_object_get(b, "reason"));
    struct ord_pay op;
    if ((e = load_visible(p, req, id, &op)))
        return e;
    if (strcmp(op.status, "pending_payment"))
        return http_problem_set(req, HTTP_PK_INVALID_TRANSITION,
                                "order %" PRId64 " is %s: only an unpaid order can be cancelled",
                                id, op.status);
    if (op.pi[0] && strcmp(op.pay_status, "canceled") && (e = cancel_intent(p, req, resp, &op)))
        return e;
    struct db_tx tx = DB_TX_INIT;
    enum orders_status from = 0;
    const struct http_principal *pr = http_principal(req);
    e = db_begin(p->db, &tx);
    if (!e)
        e = orders_transition(p->orders, tx.conn, id, ORD_CANCELLED, orders_actor(req),
                              reason ? reason
                              : pr->role >= HTTP_ROLE_STAFF ? "cancelled by staff"
                                                            : "cancelled by the customer",
                              NULL, NULL, &from);
    if (!e && op.pi[0])
        e = db_exec(tx.conn, "UPDATE payments SET status = 'canceled', updated_at = $2"
                    " WHERE order_id = $1 AND status <> 'succeeded'",
                    (struct db_param[]){DB_I64(id), DB_I64(db_now_ms())}, 2, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e == FF_ECONFLICT)
        return http_problem_set(req, HTTP_PK_INVALID_TRANSITION,
                                "order %" PRId64 " is %s: only an unpaid order can be cancelled",
                                id, orders_status_name(from));
    if (e)
        return http_errf(req, e, "cancelling the order failed");
    orders_stock_changed(p->orders);
    struct db_conn *c;
    json_t *j = NULL;
    if ((e = db_acquire(p->db, &c)))
        return http_errf(req, e, "the database is busy");
    e = orders_order_json(c, id, &j);
    db_release(c);
    return e ? http_errf(req, e, "reading the order failed") : http_reply_json(resp, 200, j);
}

enum ff_err pay__order_routes(struct http_router *r, struct payments *p)
{
    enum ff_err e = http_route_add(r, HTTP_POST, "/api/v1/orders/{id}/payment-intent", h_intent,
                                   p, HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/orders/{id}/payment", h_payment, p,
                           HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/orders/{id}/refunds", h_refund, p,
                           HTTP_ROUTE_STAFF | HTTP_ROUTE_IDEMPOTENT);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/orders/{id}/cancel", h_cancel, p,
                           HTTP_ROUTE_NO_ETAG);
    return e;
}
