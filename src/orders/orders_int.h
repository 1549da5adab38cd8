/* orders_int.h - shared internals of ff_orders (not a public API). */
#ifndef FF_ORDERS_INT_H
#define FF_ORDERS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "orders/orders.h"

struct orders {
    struct db *db;
    struct cat_cache *cache;
    int64_t reservation_ms;
    const char *public_url;
};

#define ORD_OWNER_MAX 80

/* One cart line joined with its variant and product (strings in the arena). */
struct ord_line {
    int64_t variant_id, product_id;
    int quantity, stock;
    int64_t price_cents;       /* current variant price */
    int64_t added_price_cents; /* price when added to the cart */
    char currency[4];
    const char *name, *slug, *sku, *colour, *size;
    bool deleted; /* product withdrawn from sale */
    int want;     /* place.c: index of the request item this line answers */
};

/* One requested line: a variant by id, or by sku when sku is not NULL. */
struct ord_want {
    int64_t variant_id;
    const char *sku;
    int quantity;
};

/* Places an order for w[0..nw) on c inside the caller's transaction (see
 * place.c): resolves and locks the variants, checks them (direct: unknown or
 * repeated items are 422 field errors "items[i]..."; short stock or a
 * withdrawn product is a 409 out-of-stock naming "variants/<id>"), takes the
 * stock, writes the order, lines, reservations, roll-ups, event and outbox
 * job. *body gets the order JSON (arena). Problems are recorded in req. */
enum ff_err ord__place(struct orders *o, struct http_req *req, struct db_conn *c,
                       const struct ord_want *w, int nw, bool direct, const char *email,
                       int64_t *id, char **body) FF_MUST_CHECK;
/* Parses and checks POST /api/v1/orders' body (no database): *email (or
 * NULL) and, for the direct form, its items into w (ORDERS_CART_LINES_MAX
 * slots) with *nw their count (-1: no "items", the cart form). Each item
 * names a variant by exactly one of variant_id / sku; no two items repeat an
 * id or a sku. Problems are recorded in req (415/400/422). */
enum ff_err ord__checkout_body(struct http_req *req, const char **email, struct ord_want *w,
                               int *nw) FF_MUST_CHECK;
/* Enqueues the "order.event" outbox job of a transition on c. */
enum ff_err ord__event_job(struct db_conn *c, int64_t order_id, const char *from,
                           const char *to, const char *actor) FF_MUST_CHECK;
/* qsort comparator of int64_t. */
int ord__cmp_i64(const void *a, const void *b);
/* A new anonymous shopper id for a caller without one (cookie ff_anon and
 * header X-Anonymous-Id on resp, principal updated); NULL on OOM. */
const char *ord__new_anon_id(struct http_req *req, struct http_resp *resp);

/* The caller's cart owner key ("u:<id>" / "a:<anon id>") into buf; false
 * when the caller has neither. */
bool ord__owner(struct http_req *req, char *buf, size_t len);
/* "user:<id>", "staff:<id>", "admin", "anon" for the event log (arena). */
const char *ord__actor(struct http_req *req);
/* Merges the caller's anonymous cart into the user's when both ids are present. */
enum ff_err ord__lazy_merge(struct orders *o, struct http_req *req) FF_MUST_CHECK;
/* Loads the owner's cart lines in variant-id order into the arena (at most
 * ORDERS_CART_LINES_MAX + 1). */
enum ff_err ord__cart_lines(struct db_conn *c, struct ff_arena *a, const char *owner,
                            struct ord_line **out, int *n) FF_MUST_CHECK;
/* "2026-11-25T02:11:00.000Z" */
void ord__iso_time(int64_t ms, char *out, size_t len);
json_t *ord__time_json(int64_t ms);
/* Kept for callers: a no-op. Stock writers no longer share one lock; they
 * lock products, then their variants, in id order (place.c, ord__release). */
enum ff_err ord__stock_lock(struct orders *o, struct db_conn *c) FF_MUST_CHECK;
/* Refreshes in_stock (and bumps version) of the products, ids ascending. */
enum ff_err ord__rollup(struct db_conn *c, const int64_t *product_ids, int n,
                        int64_t now) FF_MUST_CHECK;
/* Records a transition and enqueues the "order.event" outbox job on c. */
enum ff_err ord__event(struct db_conn *c, int64_t order_id, const char *from, const char *to,
                       const char *actor, const char *reason, int64_t now) FF_MUST_CHECK;
/* The order (with lines) as JSON; FF_ENOTFOUND. */
enum ff_err ord__order_json(struct db_conn *c, int64_t id, json_t **out) FF_MUST_CHECK;
/* Route registration per file (cart.c, checkout.c). */
enum ff_err ord__cart_routes(struct http_router *r, struct orders *o) FF_MUST_CHECK;
enum ff_err ord__order_routes(struct http_router *r, struct orders *o) FF_MUST_CHECK;
enum ff_err ord__admin_routes(struct http_router *r, struct orders *o) FF_MUST_CHECK;
/* Returns the stock of order id's unreleased reservations (then released)
 * and refreshes the products' roll-ups. Inside tx; on PostgreSQL it locks
 * the products and variants in the common order (place.c) first. */
enum ff_err ord__release(struct db_conn *c, int64_t id, int64_t now) FF_MUST_CHECK;
/* FF_OK when the caller may see order id (staff, its user, its anonymous
 * shopper), FF_ENOTFOUND otherwise. */
enum ff_err ord__may_see(struct http_req *req, struct db_conn *c, int64_t id) FF_MUST_CHECK;
/* Frees text from json_dumps with jansson's allocator. */
void ord__json_text_free(char *text);
/* Drops the catalog cache after a stock change (NULL-safe). */
void ord__cache_changed(struct orders *o);

#endif
