/* payments_int.h - shared internals of the payments part (not a public API). */
#ifndef FF_PAYMENTS_INT_H
#define FF_PAYMENTS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "orders/orders.h"
#include "payments/payments.h"

struct pay_handler {
    char prefix[64];
    payments_event_fn fn;
    void *ud;
};

struct payments {
    struct db *db;
    struct orders *orders;
    struct stripe_client *stripe; /* NULL: not configured */
    char *webhook_secret;         /* "" = webhook off */
    struct pay_handler handlers[PAYMENTS_MAX_HANDLERS];
    int nhandlers;
};

/* ---- reading events (pay_event.c; pure: no db, fuzzed) ----------------------------- */

enum pay_ev_kind {
    PAY_EV_IGNORE = 0, /* a type this part does not apply */
    PAY_EV_INTENT,     /* payment_intent.*: apply the intent's state */
    PAY_EV_REFUND,     /* charge.refunded: the charge's amount_refunded */
    PAY_EV_DISPUTE,    /* charge.dispute.created */
};

struct pay_ev {
    enum pay_ev_kind kind;
    char pi[128];            /* the PaymentIntent id ("pi_..."), "" when absent */
    int64_t order_id;        /* metadata.order_id, 0 when absent or not a positive integer */
    char status[40];         /* INTENT: the intent's status */
    int64_t amount;          /* INTENT: amount asked; REFUND: the charge's amount;
                                DISPUTE: disputed amount */
    int64_t amount_received; /* INTENT: amount_received; REFUND: = amount */
    int64_t amount_refunded; /* REFUND: cumulative amount refunded on the charge */
    char currency[8];        /* lower case, "" when absent */
    char error[300];         /* INTENT: last_payment_error "code: message" (may be "") */
    char reason[64];         /* DISPUTE: the dispute's reason */
};

/* Reads what applying event needs. FF_OK with out->kind set (PAY_EV_IGNORE
 * for other types); FF_EINVAL when the event or its object is malformed for
 * its type (why, may be NULL, names the field). Never allocates. */
enum ff_err pay__event_parse(const json_t *event, struct pay_ev *out, char *why,
                             size_t whylen) FF_MUST_CHECK;

/* What an order must go through to reflect its payment (pure). */
struct pay_plan {
    enum orders_status steps[2];
    int nsteps;
    int64_t new_refunded;  /* orders.refunded_cents after the steps */
};
/* Given the order's status and refunded_cents and the payment's state
 * (succeeded: the intent succeeded and its amount/currency match the order;
 * received and refunded: cents), fills plan with the transitions to apply in
 * order: pending_payment -> paid when succeeded; then refunded (refunded >=
 * received) or partially_refunded when refunded grew past order_refunded.
 * Cancelled / refunded orders get no steps. */
void pay__plan(enum orders_status cur, int64_t order_refunded, bool succeeded,
               int64_t received, int64_t refunded, struct pay_plan *plan);

/* ---- applying (pay_apply.c) -------------------------------------------------------- */

/* The handlers of payment_intent.*, charge.refunded, charge.dispute.created
 * (ud: struct payments). */
enum ff_err pay__on_event(struct db_conn *c, const json_t *event, void *ud) FF_MUST_CHECK;
/* Locks order id's row for the rest of the transaction (PostgreSQL: FOR
 * UPDATE; SQLite transactions are serialized already). Every payments writer
 * locks the order before its payments row, so they never deadlock.
 * FF_ENOTFOUND. */
enum ff_err pay__lock_order(struct payments *p, struct db_conn *c, int64_t id) FF_MUST_CHECK;
/* Brings order id in line with its payment row (pay__plan) on c, actor for
 * the events ("stripe", "staff:7"). FF_OK when there is nothing to do. */
enum ff_err pay__reconcile(struct payments *p, struct db_conn *c, int64_t order_id,
                           const char *actor, const char *reason) FF_MUST_CHECK;

/* An order with its payment row, as the handlers and jobs need them. */
struct ord_pay {
    int64_t id, total, refunded, created;
    char status[32], currency[8];
    bool has_payment;
    char pi[128], pay_status[40];
    int64_t received, pay_refunded;
};
/* Reads order id and its payments row (pay_http.c). FF_ENOTFOUND. */
enum ff_err pay__load(struct db_conn *c, int64_t id, struct ord_pay *op) FF_MUST_CHECK;

/* ---- routes (pay_webhook.c, pay_http.c) ---------------------------------------------- */

enum ff_err pay__webhook_routes(struct http_router *r, struct payments *p) FF_MUST_CHECK;
enum ff_err pay__order_routes(struct http_router *r, struct payments *p) FF_MUST_CHECK;
enum ff_err pay__admin_routes(struct http_router *r, struct payments *p) FF_MUST_CHECK;

/* The Idempotency-Key prefix for order id: "ff-order-<id>-<created_ms>" (the
 * creation time keeps keys unique across database resets). */
void pay__key(char *out, size_t len, int64_t order_id, int64_t created_ms, const char *what);

#endif
