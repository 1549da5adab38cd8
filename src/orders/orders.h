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
 * Checkout (POST /api/v1/orders) is one transaction: the cart's lines are
 * read, every variant's stock is taken with a conditional decrement
 * (`stock = stock - q WHERE stock >= q`, in variant-id order; on PostgreSQL
 * after locking the catalog_generation row, so concurrent checkouts can never
 * deadlock), prices are copied onto the order lines, the reservations are
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

#endif
