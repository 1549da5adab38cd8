/* pay_jobs.c - the payments part's jobs: refunding a payment that arrived
 * after its order was cancelled, and cancelling the open intents of
 * cancelled orders (so an expired order cannot be paid any more). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "payments/payments_int.h"
#include "payments/stripe.h"

/* ---- job: payments.refund_late --------------------------------------------------------------- */

/* Refunds in full a payment that succeeded after its order was cancelled
 * (flagged by pay_apply.c). Idempotent: the Stripe key is fixed per order. */
static enum job_result j_refund_late(const struct job *j, void *ud, char *err, size_t len)
{
    struct payments *p = ud;
    json_t *pl = json_loads(j->payload, 0, NULL);
    int64_t id = (int64_t)json_integer_value(json_object_get(pl, "order_id"));
    json_decref(pl);
    if (id <= 0) {
        snprintf(err, len, "payload has no order_id");
        return JOB_FAIL;
    }
    struct ord_pay op;
    struct db_conn *c;
    if (db_acquire(p->db, &c)) {
        snprintf(err, len, "database busy");
        return JOB_RETRY;
    }
    enum ff_err e = pay__load(c, id, &op);
    db_release(c);
    if (e) {
        snprintf(err, len, "reading order %" PRId64 ": %s", id, ff_err_str(e));
        return e == FF_ENOTFOUND ? JOB_FAIL : JOB_RETRY;
    }
    if (op.pay_refunded >= op.received) /* refunded already (by staff or an earlier run) */
        return JOB_DONE;
    if (!p->stripe) {
        snprintf(err, len, "payments are not configured");
        return JOB_RETRY;
    }
    char key[96], oid[24];
    pay__key(key, sizeof key, id, op.created, "late-refund");
    snprintf(oid, sizeof oid, "%" PRId64, id);
    struct stripe_form f;
    struct stripe_resp sr;
    stripe_form_init(&f);
    e = stripe_form_add(&f, "payment_intent", op.pi);
    if (!e)
        e = stripe_form_add(&f, "metadata[order_id]", oid);
    if (!e)
        e = stripe_request(p->stripe, "POST", "/v1/refunds", &f, key, &sr);
    stripe_form_release(&f);
    if (e) {
        snprintf(err, len, "calling Stripe: %s", ff_err_str(e));
        return JOB_RETRY;
    }
    enum job_result res = JOB_DONE;
    if (sr.outcome != STRIPE_OK) {
        snprintf(err, len, "Stripe: %s", sr.why);
        res = sr.outcome == STRIPE_DECLINED ? JOB_FAIL : JOB_RETRY;
    } else {
        int64_t amount = json_integer_value(json_object_get(sr.body, "amount"));
        struct db_tx tx = DB_TX_INIT;
        e = db_begin(p->db, &tx);
        if (!e)
            e = pay__lock_order(p, tx.conn, id);
        if (!e)
            e = db_exec(tx.conn,
                        "INSERT INTO payment_refunds (order_id, stripe_refund, amount_cents,"
                        " reason, actor, created_at) VALUES ($1, $2, $3, $4, 'system', $5)"
                        " ON CONFLICT (stripe_refund) DO NOTHING",
                        (struct db_param[]){DB_I64(id), DB_TEXT(json_string_value(
                                                            json_object_get(sr.body, "id"))),
                                            DB_I64(amount),
                                            DB_TEXT("paid after the order was cancelled"),
                                            DB_I64(db_now_ms())},
                        5, NULL);
        if (!e)
            e = db_exec(tx.conn,
                        "UPDATE payments SET amount_refunded = CASE WHEN amount_refunded < $2"
                        " THEN $2 ELSE amount_refunded END, updated_at = $3 WHERE order_id = $1",
                        (struct db_param[]){DB_I64(id), DB_I64(op.pay_refunded + amount),
                                            DB_I64(db_now_ms())},
                        3, NULL);
        if (!e)
            e = db_commit(&tx);
        db_tx_release(&tx);
        if (e) {
            snprintf(err, len, "recording the refund: %s", db_errmsg());
            res = JOB_RETRY;
        }
    }
    stripe_resp_release(&sr);
    return res;
}

/* ---- job: payments.cancel_stale (every minute) ------------------------------------------ */

#define STALE_BATCH 50

/* Cancels the intent of one cancelled order at Stripe and records it; an
 * intent that succeeded meanwhile is left to the webhook (which refunds it). */
static enum stripe_outcome cancel_one(struct payments *p, int64_t id, const char *pi,
                                      int64_t created, char *err, size_t len)
{
    char path[200], key[96];
    snprintf(path, sizeof path, "/v1/payment_intents/%s/cancel", pi);
    pay__key(key, sizeof key, id, created, "pi-cancel");
    struct stripe_resp sr;
    if (stripe_request(p->stripe, "POST", path, NULL, key, &sr)) {
        snprintf(err, len, "calling Stripe failed");
        return STRIPE_UNAVAILABLE;
    }
    if (sr.outcome == STRIPE_DECLINED) { /* already canceled or paid: read its state */
        stripe_resp_release(&sr);
        snprintf(path, sizeof path, "/v1/payment_intents/%s", pi);
        if (stripe_request(p->stripe, "GET", path, NULL, NULL, &sr)) {
            snprintf(err, len, "calling Stripe failed");
            return STRIPE_UNAVAILABLE;
        }
    }
    enum stripe_outcome out = sr.outcome;
    const char *st = json_string_value(json_object_get(sr.body, "status"));
    if (out == STRIPE_OK && st && !strcmp(st, "canceled")) {
        struct db_tx tx = DB_TX_INIT;
        enum ff_err e = db_begin(p->db, &tx);
        if (!e)
            e = pay__lock_order(p, tx.conn, id);
        if (!e)
            e = db_exec(tx.conn, "UPDATE payments SET status = 'canceled', updated_at = $2"
                        " WHERE order_id = $1 AND status NOT IN ('succeeded', 'canceled')",
                        (struct db_param[]){DB_I64(id), DB_I64(db_now_ms())}, 2, NULL);
        if (!e)
            e = db_commit(&tx);
        db_tx_release(&tx);
        if (e) {
            snprintf(err, len, "recording the cancel of order %" PRId64 ": %s", id,
                     db_errmsg());
            out = STRIPE_UNAVAILABLE;
        }
    } else if (out != STRIPE_OK) {
        snprintf(err, len, "order %" PRId64 ": %s", id, sr.why);
    }
    stripe_resp_release(&sr);
    return out;
}

static enum job_result j_cancel_stale(const struct job *j, void *ud, char *err, size_t len)
{
    (void)j;
    struct payments *p = ud;
    if (!p->stripe)
        return JOB_DONE;
    int64_t ids[STALE_BATCH], created[STALE_BATCH];
    char pis[STALE_BATCH][128];
    int n = 0;
    struct db_conn *c;
    if (db_acquire(p->db, &c)) {
        snprintf(err, len, "database busy");
        return JOB_RETRY;
    }
    struct db_rows *r;
    enum ff_err e = db_query(c,
                             "SELECT p.order_id, p.payment_intent, o.created_at FROM payments p"
                             " JOIN orders o ON o.id = p.order_id WHERE o.status = 'cancelled'"
                             " AND p.payment_intent IS NOT NULL AND p.status NOT IN"
                             " ('succeeded', 'canceled', 'processing') ORDER BY p.order_id"
                             " LIMIT $1",
                             (struct db_param[]){DB_I64(STALE_BATCH)}, 1, &r);
    if (!e) {
        bool has;
        while (!(e = db_next(r, &has)) && has && n < STALE_BATCH) {
            ids[n] = db_col_i64(r, 0);
            snprintf(pis[n], sizeof pis[n], "%s", db_col_text(r, 1, NULL));
            created[n++] = db_col_i64(r, 2);
        }
        db_rows_free(r);
    }
    db_release(c);
    if (e) {
        snprintf(err, len, "listing open intents: %s", db_errmsg());
        return JOB_RETRY;
    }
    int done = 0;
    for (int i = 0; i < n; i++) {
        enum stripe_outcome o = cancel_one(p, ids[i], pis[i], created[i], err, len);
        if (o == STRIPE_UNAVAILABLE) /* the next tick tries again */
            break;
        done += o == STRIPE_OK;
        if (o == STRIPE_DECLINED)
            ff_log(FF_LOG_WARN, "payments", "cannot cancel the intent of cancelled %s", err);
    }
    if (done)
        ff_log(FF_LOG_INFO, "payments", "cancelled %d open payment intent(s) of cancelled orders",
               done);
    return JOB_DONE;
}

enum ff_err payments_jobs_register(struct payments *p, struct jobs_registry *reg)
{
    enum ff_err e = jobs_register(reg, "payments.refund_late", j_refund_late, p);
    if (!e)
        e = jobs_register(reg, "payments.cancel_stale", j_cancel_stale, p);
    if (!e)
        e = jobs_every(reg, "payments.cancel_stale", NULL, 60, NULL);
    return e;
}
