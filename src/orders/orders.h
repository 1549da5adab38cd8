/* orders.h - carts, checkout, stock reservations and orders (module ff_orders).
 *
 * Cart: one per caller. The owner is the signed-in user ("u:<id>") or else the
 * anonymous shopper id (cookie ff_anon / header X-Anonymous-Id, see
 * http/auth.h: "a:<id>"). Anonymous lines are merged into the user's cart
 * lazily: the first cart or checkout request of a signed-in caller that also
 * carries an anonymous id moves that id's lines into the user's cart (the
 * quantities add up, capped at ORDERS_LINE_QTY_MAX). Accounts may also call
 * orders_cart_merge at sign-in.
 *
 * Checkout (POST /api/v1/orders) is one transaction: the cart's lines (or,
 * in the direct form, the body's "items") are read, the variants are locked
 * (PostgreSQL: products then variants in id order, the one lock order of
 * every stock writer, so concurrent checkouts never deadlock), every
 * variant's stock is taken with a conditional decrement, prices are copied
 * onto the order lines, the reservations are
 * recorded with an expiry (FRAMEFIT_RESERVATION_MINUTES), the products'
 * in_stock roll-up and version are refreshed, the cart is emptied, the event
 * is recorded (order_events) and an "order.event" job is enqueued (outbox),
 * and the Idempotency-Key answer is recorded (idem_record_in_tx). Short stock
 * is a 409 problem of type out-of-stock with one errors[] entry per short
 * variant ("variants/<id>"), and nothing changes.
 *
 * The recurring job "orders.expire" (every minute) cancels unpaid orders
 * whose reservation expired and returns their stock, exactly once per order. */
#ifndef FF_ORDERS_ORDERS_H
#define FF_ORDERS_ORDERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct db;
struct db_conn;
struct cat_cache;
struct http_router;
struct jobs_registry;
struct orders;

#define ORDERS_LINE_QTY_MAX 100 /* units of one variant in a cart line / order line */
#define ORDERS_CART_LINES_MAX 50

struct orders_opts {
    struct db *db;
    struct cat_cache *catalog_cache; /* dropped after stock changes; may be NULL */
    int reservation_minutes;         /* unpaid orders are cancelled after this; 0 = 30 */
    const char *public_url;          /* base of links in order emails (borrowed; read late) */
};

/* A new orders service (free with orders_free). FF_ENOMEM. */
enum ff_err orders_new(const struct orders_opts *o, struct orders **out) FF_MUST_CHECK;
void orders_free(struct orders *o);

/* Registers the cart and order routes. o may be NULL (--print-routes). */
enum ff_err orders_http_register(struct http_router *r, struct orders *o) FF_MUST_CHECK;
/* Registers "order.event" (no-op consumer for now) and the recurring "orders.expire". */
enum ff_err orders_jobs_register(struct orders *o, struct jobs_registry *reg) FF_MUST_CHECK;

/* Moves anonymous shopper anon_id's cart lines into user user_id's cart on c
 * (quantities add up, capped). Run it inside the caller's transaction or on
 * its own (then it is one statement pair; call inside db_begin for atomicity).
 * FF_OK when there was nothing to merge. */
enum ff_err orders_cart_merge(struct db_conn *c, const char *anon_id,
                              int64_t user_id) FF_MUST_CHECK;

/* Cancels unpaid orders whose reservation ended before now_ms and returns
 * their stock (each order exactly once, at most `limit` per call).
 * *cancelled (may be NULL) gets the number cancelled. */
enum ff_err orders_expire(struct orders *o, int64_t now_ms, int limit,
                          int *cancelled) FF_MUST_CHECK;

/* ---- the order state machine (order_state.c) ------------------------------------- */

enum orders_status {
    ORD_PENDING_PAYMENT, ORD_PAID, ORD_FULFILLED, ORD_SHIPPED, ORD_DELIVERED,
    ORD_CANCELLED, ORD_REFUNDED, ORD_PARTIALLY_REFUNDED, ORD_STATUS_COUNT
};
/* "pending_payment" ...; "unknown" out of range. */
const char *orders_status_name(enum orders_status s);
/* The status named s, or -1. */
int orders_status_parse(const char *s);
/* True when the one table of legal transitions allows from -> to:
 *   pending_payment -> paid | cancelled
 *   paid -> fulfilled | cancelled | refunded | partially_refunded
 *   fulfilled -> shipped | refunded | partially_refunded
 *   shipped -> delivered | refunded | partially_refunded
 *   delivered -> refunded | partially_refunded
 *   partially_refunded -> fulfilled | shipped | delivered | refunded | partially_refunded
 *   cancelled, refunded: final */
bool orders_transition_ok(enum orders_status from, enum orders_status to);

/* Moves order id to `to` on c (inside the caller's transaction): checks the
 * table above against the current state (PostgreSQL: row locked), records
 * the event (order_events + "order.event" outbox job), returns the stock of
 * a cancelled order, sets carrier/tracking when given (NULL keeps them) and
 * enqueues the order-confirmation (-> paid) or order-shipped (-> shipped)
 * email. FF_ENOTFOUND; FF_ECONFLICT when illegal (*from_out, may be NULL,
 * gets the current state). */
enum ff_err orders_transition(struct orders *o, struct db_conn *c, int64_t id,
                              enum orders_status to, const char *actor, const char *reason,
                              const char *carrier, const char *tracking,
                              enum orders_status *from_out) FF_MUST_CHECK;

/* Records an event on order id without a state change (from = to = the
 * current status) with actor and reason, plus the "order.event" outbox job,
 * on c (inside the caller's transaction): notes for staff such as a payment
 * amount mismatch. FF_ENOTFOUND. */
enum ff_err orders_note(struct orders *o, struct db_conn *c, int64_t id, const char *actor,
                        const char *reason) FF_MUST_CHECK;
/* Adds flag (e.g. "disputed": shown as the order's "disputed": true) to
 * order id's flags once, bumping its version. *added (may be NULL) tells
 * whether it was new. FF_ENOTFOUND. */
enum ff_err orders_set_flag(struct orders *o, struct db_conn *c, int64_t id, const char *flag,
                            bool *added) FF_MUST_CHECK;

struct http_req;
/* FF_OK when the caller of req may see order id (staff, its user, its
 * anonymous shopper), FF_ENOTFOUND otherwise (also when there is no order). */
enum ff_err orders_may_see(struct http_req *req, struct db_conn *c, int64_t id) FF_MUST_CHECK;
/* The order as the API shows it (with lines); caller decrefs. FF_ENOTFOUND. */
enum ff_err orders_order_json(struct db_conn *c, int64_t id, json_t **out) FF_MUST_CHECK;
/* "user:<id>", "staff:<id>", "admin:break-glass" or "anon" for event logs
 * (request arena memory). */
const char *orders_actor(struct http_req *req);
/* Call after a committed transition to cancelled (stock went back): drops
 * the catalog cache. */
void orders_stock_changed(struct orders *o);

/* ---- prescriptions (prescription.c) -------------------------------------------------- */

struct orders_rx_err {
    char field[48];  /* "right.sphere", "pd", ... */
    char reason[96];
};
/* Validates a prescription object (see prescription.c for the shape and
 * ranges). FF_OK, or FF_EINVAL with up to max errors in errs and the total
 * count in *nerrs (may be NULL). */
enum ff_err orders_rx_check(const json_t *rx, struct orders_rx_err *errs, int max,
                            int *nerrs) FF_MUST_CHECK;
/* The same from JSON text; FF_ECORRUPT when it is not JSON. */
enum ff_err orders_rx_check_text(const char *text, size_t len, struct orders_rx_err *errs,
                                 int max, int *nerrs) FF_MUST_CHECK;

#endif
