/* pay_apply.c - applying Stripe events to payments and orders, by the
 * objects' state (not by event order), inside the webhook's transaction.
 *
 * Every handler first locks the order row (PostgreSQL: FOR UPDATE), then
 * touches its payments row, then brings the order in line with the payment
 * (pay__reconcile). Facts only grow: a succeeded intent stays succeeded,
 * amount_received and amount_refunded only increase, disputed only sets.
 * So redeliveries and any order of arrival converge on the same state. */
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "core/log.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "payments/payments_int.h"

struct ord_snap {
    enum orders_status status;
    int64_t total, refunded, created;
    char currency[8];
};

struct pay_row {
    char status[40];
    int64_t received, refunded;
    char currency[8];
    char attention[200];
};

static enum ff_err lock_order(struct payments *p, struct db_conn *c, int64_t id,
                              struct ord_snap *o)
{
    struct db_rows *r;
    enum ff_err e = db_query(c,
                             db_dialect(p->db) == DB_PG
                                 ? "SELECT status, total_cents, refunded_cents, currency,"
                                   " created_at FROM orders WHERE id = $1 FOR UPDATE"
                                 : "SELECT status, total_cents, refunded_cents, currency,"
                                   " created_at FROM orders WHERE id = $1",
                             (struct db_param[]){DB_I64(id)}, 1, &r);
    if (e)
        return e;
    bool has;
    e = db_next(r, &has);
    if (!e && has) {
        int s = orders_status_parse(db_col_text(r, 0, NULL));
        o->status = s < 0 ? ORD_CANCELLED : (enum orders_status)s;
        o->total = db_col_i64(r, 1);
        o->refunded = db_col_i64(r, 2);
        snprintf(o->currency, sizeof o->currency, "%s", db_col_text(r, 3, NULL));
        o->created = db_col_i64(r, 4);
    }
    db_rows_free(r);
    return e ? e : has ? FF_OK : FF_ENOTFOUND;
}

static enum ff_err load_payment(struct db_conn *c, int64_t order_id, struct pay_row *pr)
{
    struct db_rows *r;
    enum ff_err e = db_query(c,
                             "SELECT status, amount_received, amount_refunded, currency,"
                             " attention FROM payments WHERE order_id = $1",
                             (struct db_param[]){DB_I64(order_id)}, 1, &r);
    if (e)
        return e;
    bool has;
    e = db_next(r, &has);
    if (!e && has) {
        snprintf(pr->status, sizeof pr->status, "%s", db_col_text(r, 0, NULL));
        pr->received = db_col_i64(r, 1);
        pr->refunded = db_col_i64(r, 2);
        snprintf(pr->currency, sizeof pr->currency, "%s", db_col_text(r, 3, NULL));
        const char *a = db_col_text(r, 4, NULL);
        snprintf(pr->attention, sizeof pr->attention, "%s", a ? a : "");
    }
    db_rows_free(r);
    return e ? e : has ? FF_OK : FF_ENOTFOUND;
}

enum ff_err pay__lock_order(struct payments *p, struct db_conn *c, int64_t id)
{
    struct ord_snap o;
    return lock_order(p, c, id, &o);
}

/* Sets the payment's attention note (once per distinct note) and records it
 * on the order's event log. */
static enum ff_err attention(struct payments *p, struct db_conn *c, int64_t order_id,
                             const struct pay_row *pr, const char *note)
{
    if (!strcmp(pr->attention, note))
        return FF_OK;
    ff_log(FF_LOG_WARN, "payments", "order %" PRId64 " needs staff attention: %s", order_id,
           note);
    enum ff_err e = db_exec(c, "UPDATE payments SET attention = $2, updated_at = $3"
                            " WHERE order_id = $1",
                            (struct db_param[]){DB_I64(order_id), DB_TEXT(note),
                                                DB_I64(db_now_ms())},
                            3, NULL);
    return e ? e : orders_note(p->orders, c, order_id, "stripe", note);
}

/* A payment that succeeded after its order was cancelled (reservation
 * expired, customer cancelled): flagged and refunded in full by the job
 * payments.refund_late, enqueued in this transaction. */
static enum ff_err late_payment(struct payments *p, struct db_conn *c, int64_t order_id,
                                const struct pay_row *pr)
{
    static const char note[] = "paid after the order was cancelled: refunded automatically";
    if (!strcmp(pr->attention, note) || pr->refunded >= pr->received)
        return FF_OK;
    char payload[64], unique[64];
    snprintf(payload, sizeof payload, "{\"order_id\":%" PRId64 "}", order_id);
    snprintf(unique, sizeof unique, "pay-late-refund-%" PRId64, order_id);
    struct job_spec js = {.type = "payments.refund_late", .payload = payload,
                          .unique_key = unique, .max_attempts = 20};
    enum ff_err e = jobs_enqueue(c, &js, NULL);
    return e ? e : attention(p, c, order_id, pr, note);
}

enum ff_err pay__reconcile(struct payments *p, struct db_conn *c, int64_t order_id,
                           const char *actor, const char *reason)
{
    struct ord_snap o;
    struct pay_row pr = {0};
    enum ff_err e = lock_order(p, c, order_id, &o);
    if (!e)
        e = load_payment(c, order_id, &pr);
    if (e)
        return e == FF_ENOTFOUND ? FF_OK : e;
    bool succeeded = !strcmp(pr.status, "succeeded");
    if (!succeeded)
        return FF_OK;
    if (pr.received != o.total || strcasecmp(pr.currency, o.currency)) {
        char note[200];
        snprintf(note, sizeof note,
                 "payment amount mismatch: %" PRId64 " %s received, the order is %" PRId64
                 " %s; not marked paid",
                 pr.received, pr.currency, o.total, o.currency);
        return attention(p, c, order_id, &pr, note);
    }
    if (o.status == ORD_CANCELLED)
        return late_payment(p, c, order_id, &pr);
    struct pay_plan plan;
    pay__plan(o.status, o.refunded, true, pr.received, pr.refunded, &plan);
    for (int i = 0; i < plan.nsteps && !e; i++) {
        enum orders_status to = plan.steps[i];
        char why[200];
        if (to == ORD_PAID) {
            snprintf(why, sizeof why, "%s", reason);
        } else {
            snprintf(why, sizeof why, "%s: %" PRId64 " of %" PRId64 " %s refunded", reason,
                     plan.new_refunded, pr.received, pr.currency);
            e = db_exec(c, "UPDATE orders SET refunded_cents = $2 WHERE id = $1",
                        (struct db_param[]){DB_I64(order_id), DB_I64(plan.new_refunded)}, 2,
                        NULL);
        }
        if (!e)
            e = orders_transition(p->orders, c, order_id, to, actor, why, NULL, NULL, NULL);
    }
    return e;
}

/* The order of an event's payment: by intent id, else metadata.order_id (the
 * event can arrive before the row was written); creates the payments row
 * from the event then. *order_id = 0 when the event is not ours. */
static enum ff_err find_order(struct payments *p, struct db_conn *c, const json_t *event,
                              const struct pay_ev *ev, int64_t *order_id)
{
    *order_id = 0;
    int64_t id = 0;
    enum ff_err e = db_query_i64(c, "SELECT order_id FROM payments WHERE payment_intent = $1",
                                 (struct db_param[]){DB_TEXT(ev->pi)}, 1, &id);
    if (!e) {
        *order_id = id;
        return FF_OK;
    }
    if (e != FF_ENOTFOUND)
        return e;
    char note[256];
    struct ord_snap o;
    if (!ev->order_id || (e = lock_order(p, c, ev->order_id, &o)) == FF_ENOTFOUND) {
        snprintf(note, sizeof note, "ignored: no order for payment intent %.128s", ev->pi);
        return payments_event_note(c, event, note);
    }
    if (e)
        return e;
    int64_t changed = 0, now = db_now_ms();
    e = db_exec(c,
                "INSERT INTO payments (order_id, payment_intent, amount_cents, currency, status,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)"
                " ON CONFLICT (order_id) DO NOTHING",
                (struct db_param[]){DB_I64(ev->order_id), DB_TEXT(ev->pi),
                                    DB_I64(ev->amount ? ev->amount : o.total),
                                    DB_TEXT(ev->currency[0] ? ev->currency : o.currency),
                                    DB_TEXT(ev->kind == PAY_EV_INTENT ? ev->status
                                                                      : "succeeded"),
                                    DB_I64(now)},
                6, &changed);
    if (e)
        return e;
    if (!changed) { /* the order has a payment row with another intent */
        snprintf(note, sizeof note,
                 "ignored: order %" PRId64 " is paid through another payment intent, not %.128s",
                 ev->order_id, ev->pi);
        return payments_event_note(c, event, note);
    }
    *order_id = ev->order_id;
    return FF_OK;
}

static enum ff_err on_intent(struct payments *p, struct db_conn *c, const struct pay_ev *ev,
                             int64_t order_id, const char *type)
{
    struct ord_snap o;
    enum ff_err e = lock_order(p, c, order_id, &o);
    if (e)
        return e;
    /* succeeded and canceled are final at Stripe: a late "processing" or
     * "payment_failed" delivered afterwards changes nothing */
    e = db_exec(c,
                "UPDATE payments SET status = CASE WHEN status IN ('succeeded', 'canceled')"
                " THEN status ELSE $2 END,"
                " amount_received = CASE WHEN amount_received < $3 THEN $3 ELSE amount_received"
                " END, last_error = CASE WHEN $4 = '' THEN last_error ELSE $4 END,"
                " currency = CASE WHEN $6 = '' THEN currency ELSE $6 END,"
                " updated_at = $5 WHERE order_id = $1",
                (struct db_param[]){DB_I64(order_id), DB_TEXT(ev->status),
                                    DB_I64(ev->amount_received), DB_TEXT(ev->error),
                                    DB_I64(db_now_ms()), DB_TEXT(ev->currency)},
                6, NULL);
    char reason[200];
    snprintf(reason, sizeof reason, "%s %.128s", type, ev->pi);
    return e ? e : pay__reconcile(p, c, order_id, "stripe", reason);
}

static enum ff_err on_refund(struct payments *p, struct db_conn *c, const struct pay_ev *ev,
                             int64_t order_id)
{
    struct ord_snap o;
    enum ff_err e = lock_order(p, c, order_id, &o);
    if (e)
        return e;
    /* a charge exists and was captured: the intent succeeded */
    e = db_exec(c,
                "UPDATE payments SET status = 'succeeded',"
                " amount_received = CASE WHEN amount_received < $2 THEN $2 ELSE amount_received"
                " END, amount_refunded = CASE WHEN amount_refunded < $3 THEN $3 ELSE"
                " amount_refunded END, currency = CASE WHEN $5 = '' THEN currency ELSE $5 END,"
                " updated_at = $4 WHERE order_id = $1",
                (struct db_param[]){DB_I64(order_id), DB_I64(ev->amount_received),
                                    DB_I64(ev->amount_refunded), DB_I64(db_now_ms()),
                                    DB_TEXT(ev->currency)},
                5, NULL);
    return e ? e : pay__reconcile(p, c, order_id, "stripe", "charge.refunded");
}

static enum ff_err on_dispute(struct payments *p, struct db_conn *c, const struct pay_ev *ev,
                              int64_t order_id)
{
    struct ord_snap o;
    enum ff_err e = lock_order(p, c, order_id, &o);
    int64_t changed = 0;
    if (!e)
        e = db_exec(c, "UPDATE payments SET disputed = 1, updated_at = $2"
                    " WHERE order_id = $1 AND disputed = 0",
                    (struct db_param[]){DB_I64(order_id), DB_I64(db_now_ms())}, 2, &changed);
    if (e || !changed)
        return e;
    e = orders_set_flag(p->orders, c, order_id, "disputed", NULL);
    char note[200];
    snprintf(note, sizeof note, "dispute opened at Stripe: %" PRId64 " %s, reason %s",
             ev->amount, ev->currency, ev->reason[0] ? ev->reason : "unknown");
    return e ? e : orders_note(p->orders, c, order_id, "stripe", note);
}

enum ff_err pay__on_event(struct db_conn *c, const json_t *event, void *ud)
{
    struct payments *p = ud;
    struct pay_ev ev;
    char why[160], note[256];
    enum ff_err e = pay__event_parse(event, &ev, why, sizeof why);
    if (e) { /* signed by Stripe but not what we understand: keep it, say why */
        snprintf(note, sizeof note, "ignored: %s", why);
        return payments_event_note(c, event, note);
    }
    if (ev.kind == PAY_EV_IGNORE)
        return FF_OK;
    int64_t order_id = 0;
    if ((e = find_order(p, c, event, &ev, &order_id)) || !order_id)
        return e;
    const char *type = json_string_value(json_object_get(event, "type"));
    switch (ev.kind) {
    case PAY_EV_INTENT: return on_intent(p, c, &ev, order_id, type);
    case PAY_EV_REFUND: return on_refund(p, c, &ev, order_id);
    case PAY_EV_DISPUTE: return on_dispute(p, c, &ev, order_id);
    case PAY_EV_IGNORE: break;
    }
    return FF_OK;
}
