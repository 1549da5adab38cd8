/* checkout.c - checkout (cart -> order with stock reservations), reading an
 * order, and the expiry of unpaid orders' reservations. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_cache.h"
#include "core/alloc.h"
#include "core/log.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/validate.h"
#include "idem/idem.h"
#include "jobs/jobs.h"
#include "orders/orders_int.h"

/* Frees what json_dumps returned, with jansson's current allocator. */
void ord__json_text_free(char *t)
{
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    f(t);
}

void ord__cache_changed(struct orders *o)
{
    if (o->cache)
        cat_cache_invalidate(o->cache);
}

/* ---- shared steps ---------------------------------------------------------------- */

enum ff_err ord__stock_lock(struct orders *o, struct db_conn *c)
{
    (void)o, (void)c;
    return FF_OK;
}

int ord__cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

enum ff_err ord__rollup(struct db_conn *c, const int64_t *ids, int n, int64_t now)
{
    enum ff_err e = FF_OK;
    for (int i = 0; i < n && !e; i++)
        e = db_exec(c,
                    "UPDATE products SET in_stock = CASE WHEN EXISTS (SELECT 1 FROM variants"
                    " WHERE product_id = $1 AND stock > 0) THEN 1 ELSE 0 END,"
                    " version = version + 1, updated_at = $2 WHERE id = $1",
                    (struct db_param[]){DB_I64(ids[i]), DB_I64(now)}, 2, NULL);
    return e;
}

enum ff_err ord__event(struct db_conn *c, int64_t order_id, const char *from, const char *to,
                       const char *actor, const char *reason, int64_t now)
{
    enum ff_err e = db_exec(c,
                            "INSERT INTO order_events (order_id, from_status, to_status, actor,"
                            " reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                            (struct db_param[]){DB_I64(order_id), DB_TEXT(from), DB_TEXT(to),
                                                DB_TEXT(actor), DB_TEXT(reason ? reason : ""),
                                                DB_I64(now)},
                            6, NULL);
    return e ? e : ord__event_job(c, order_id, from, to, actor);
}

enum ff_err ord__event_job(struct db_conn *c, int64_t order_id, const char *from,
                           const char *to, const char *actor)
{
    json_t *p = json_pack("{sI ss* ss ss}", "order_id", (json_int_t)order_id, "from", from,
                          "to", to, "actor", actor);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text)
        return FF_ENOMEM;
    struct job_spec js = {.type = "order.event", .payload = text};
    enum ff_err e = jobs_enqueue(c, &js, NULL);
    ord__json_text_free(text);
    return e;
}

static json_t *opt_text(struct db_rows *r, int col)
{
    const char *s = db_col_text(r, col, NULL);
    return s ? json_string(s) : json_null();
}

enum ff_err ord__order_json(struct db_conn *c, int64_t id, json_t **out)
{
    *out = NULL;
    struct db_rows *r;
    enum ff_err e = db_query(c,
                             "SELECT id, user_id, status, currency, total_cents, refunded_cents,"
                             " reserved_until, carrier, tracking, flags, version, created_at,"
                             " updated_at, email FROM orders WHERE id = $1",
                             (struct db_param[]){DB_I64(id)}, 1, &r);
    if (e)
        return e;
    bool has;
    e = db_next(r, &has);
    if (e || !has) {
        db_rows_free(r);
        return e ? e : FF_ENOTFOUND;
    }
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(db_col_i64(r, 0)));
    json_object_set_new(j, "user_id",
                        db_col_null(r, 1) ? json_null() : json_integer(db_col_i64(r, 1)));
    json_object_set_new(j, "status", opt_text(r, 2));
    json_object_set_new(j, "currency", opt_text(r, 3));
    json_object_set_new(j, "total_cents", json_integer(db_col_i64(r, 4)));
    json_object_set_new(j, "refunded_cents", json_integer(db_col_i64(r, 5)));
    json_object_set_new(j, "reserved_until",
                        db_col_null(r, 6) ? json_null() : ord__time_json(db_col_i64(r, 6)));
    json_object_set_new(j, "carrier", opt_text(r, 7));
    json_object_set_new(j, "tracking", opt_text(r, 8));
    const char *flags = db_col_text(r, 9, NULL);
    json_object_set_new(j, "email", opt_text(r, 13));
    json_object_set_new(j, "disputed", json_boolean(flags && strstr(flags, "disputed")));
    json_object_set_new(j, "version", json_integer(db_col_i64(r, 10)));
    json_object_set_new(j, "created_at", ord__time_json(db_col_i64(r, 11)));
    json_object_set_new(j, "updated_at", ord__time_json(db_col_i64(r, 12)));
    db_rows_free(r);
    json_t *lines = json_array();
    json_object_set_new(j, "lines", lines);
    e = db_query(c,
                 "SELECT id, variant_id, product_id, sku, name, quantity, unit_price_cents,"
                 " currency, prescription FROM order_lines WHERE order_id = $1 ORDER BY id",
                 (struct db_param[]){DB_I64(id)}, 1, &r);
    bool r_ok = !e;
    for (bool q = !e; q && !(e = db_next(r, &has)) && has;) {
        json_t *l = json_pack("{sI sI sI so so sI sI so sI}", "id", (json_int_t)db_col_i64(r, 0),
                              "variant_id", (json_int_t)db_col_i64(r, 1), "product_id",
                              (json_int_t)db_col_i64(r, 2), "sku", opt_text(r, 3), "name",
                              opt_text(r, 4), "quantity", (json_int_t)db_col_i64(r, 5),
                              "unit_price_cents", (json_int_t)db_col_i64(r, 6), "currency",
                              opt_text(r, 7), "line_total_cents",
                              (json_int_t)(db_col_i64(r, 5) * db_col_i64(r, 6)));
        const char *rx = db_col_text(r, 8, NULL);
        json_t *pj = rx ? json_loads(rx, 0, NULL) : NULL;
        if (l)
            json_object_set_new(l, "prescription", pj ? pj : json_null());
        json_array_append_new(lines, l);
    }
    if (r_ok)
        db_rows_free(r);
    if (e) {
        json_decref(j);
        return e;
    }
    *out = j;
    return FF_OK;
}

/* ---- checkout ----------------------------------------------------------------------- */

/* The cart path: the cart's lines become the wanted items; the cart is
 * emptied in the same transaction. */
static enum ff_err cart_checkout_tx(struct orders *o, struct http_req *req, struct db_conn *c,
                                    const char *owner, const char *email, int64_t *id,
                                    char **body)
{
    struct ord_want w[ORDERS_CART_LINES_MAX + 1];
    int n = 0;
    struct db_rows *r;
    enum ff_err e = db_query(c,
                             "SELECT variant_id, quantity FROM cart_items WHERE owner = $1"
                             " ORDER BY variant_id LIMIT 51",
                             (struct db_param[]){DB_TEXT(owner)}, 1, &r);
    if (e)
        return http_errf(req, e, "reading the cart failed");
    bool has;
    while (!(e = db_next(r, &has)) && has && n <= ORDERS_CART_LINES_MAX)
        w[n++] = (struct ord_want){db_col_i64(r, 0), NULL, (int)db_col_i64(r, 1)};
    db_rows_free(r);
    if (e)
        return http_errf(req, e, "reading the cart failed");
    if (n == 0)
        return http_errf(req, FF_EINVAL, "the cart is empty");
    if (n > ORDERS_CART_LINES_MAX)
        return http_errf(req, FF_EINVAL, "a cart holds at most %d lines", ORDERS_CART_LINES_MAX);
    if ((e = ord__place(o, req, c, w, n, false, email, id, body)))
        return e;
    e = db_exec(c, "DELETE FROM cart_items WHERE owner = $1", (struct db_param[]){DB_TEXT(owner)},
                1, NULL);
    return e ? http_errf(req, e, "emptying the cart failed") : FF_OK;
}

static const struct http_field item_fields[] = {
    {"variant_id", HTTP_T_INT, 0, .min = 1, .max = INT64_MAX},
    {"sku", HTTP_T_STRING, 0, .min_len = 1, .max_len = 64},
    {"quantity", HTTP_T_INT, HTTP_F_REQUIRED, .min = 1, .max = ORDERS_LINE_QTY_MAX},
};
static const struct http_schema item_schema = HTTP_SCHEMA(item_fields);

static const struct http_field checkout_fields[] = {
    {"email", HTTP_T_STRING, 0, .min_len = 3, .max_len = 254},
    {"items", HTTP_T_ARRAY, 0, .min_len = 1, .max_len = ORDERS_CART_LINES_MAX,
     .items = HTTP_T_OBJECT, .object = &item_schema},
};
static const struct http_schema checkout_schema = HTTP_SCHEMA(checkout_fields);

/* The direct form's items (already schema-checked) into w; each names a
 * variant by exactly one of variant_id / sku, and no two name the same one. */
static enum ff_err parse_items(struct http_req *req, const json_t *items, struct ord_want *w,
                               int *n)
{
    size_t i;
    const json_t *it;
    bool bad = false;
    *n = 0;
    json_array_foreach(items, i, it) {
        const json_t *v = json_object_get(it, "variant_id"), *s = json_object_get(it, "sku");
        if (!v == !s) {
            bad = true;
            http_field_error(req, ff_arena_sprintf(req->arena, "items[%zu]", i),
                             "give exactly one of variant_id and sku");
            continue;
        }
        w[*n] = (struct ord_want){v ? json_integer_value(v) : 0, s ? json_string_value(s) : NULL,
                                  (int)json_integer_value(json_object_get(it, "quantity"))};
        for (int j = 0; j < *n; j++)
            if (w[j].sku ? w[*n].sku && !strcmp(w[j].sku, w[*n].sku)
                         : !w[*n].sku && w[j].variant_id == w[*n].variant_id) {
                bad = true;
                http_field_error(req, ff_arena_sprintf(req->arena, "items[%zu]", i),
                                 "repeats items[%d]: one item per variant", j);
            }
        (*n)++;
    }
    return bad ? http_errf(req, FF_EINVAL, "some items are invalid; see errors") : FF_OK;
}

enum ff_err ord__checkout_body(struct http_req *req, const char **email, struct ord_want *w,
                               int *nw)
{
    json_t *body = NULL;
    *email = NULL;
    *nw = -1;
    if (req->body_len && http_json_body(req, &checkout_schema, &body))
        return req->err ? req->err : FF_EINVAL;
    *email = json_string_value(json_object_get(body, "email"));
    if (*email && (!strchr(*email, '@') || strpbrk(*email, " \t\r\n<>,;")))
        return http_field_error(req, "email", "is not an email address");
    const json_t *items = json_object_get(body, "items");
    return items ? parse_items(req, items, w, nw) : FF_OK;
}

static enum ff_err h_checkout(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    const char *email;
    struct ord_want w[ORDERS_CART_LINES_MAX];
    int nw;
    if (ord__checkout_body(req, &email, w, &nw))
        return req->err ? req->err : FF_EINVAL;
    bool items = nw >= 0;
    char owner[ORD_OWNER_MAX];
    if (items) { /* direct ("buy now"): exactly these items; the cart is untouched */
        if (!ord__owner(req, owner, sizeof owner) && !ord__new_anon_id(req, resp))
            return FF_ENOMEM;
    } else {
        if (ord__lazy_merge(o, req))
            return http_errf(req, FF_EDB, "merging the cart failed");
        if (!ord__owner(req, owner, sizeof owner))
            return http_errf(req, FF_EINVAL, "the cart is empty");
    }
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(o->db, &tx);
    if (e) {
        db_tx_release(&tx);
        return http_errf(req, e, "the database is busy");
    }
    int64_t id = 0;
    char *text = NULL;
    e = items ? ord__place(o, req, tx.conn, w, nw, true, email, &id, &text)
              : cart_checkout_tx(o, req, tx.conn, owner, email, &id, &text);
    if (!e && (e = idem_record_in_tx(req, tx.conn, 201, "application/json", text, strlen(text))))
        http_errf(req, e, "recording the answer failed");
    if (!e && (e = db_commit(&tx)))
        http_errf(req, e, "committing the order failed");
    db_tx_release(&tx);
    if (e)
        return req->err ? req->err : e;
    cat_cache_invalidate(o->cache);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/orders/%" PRId64, id);
    if (http_resp_header(resp, "Location", loc))
        return FF_ENOMEM;
    return http_reply(resp, 201, "application/json", text, strlen(text));
}

/* ---- reading an order ------------------------------------------------------------------ */

enum ff_err ord__may_see(struct http_req *req, struct db_conn *c, int64_t id)
{
    const struct http_principal *p = http_principal(req);
    if (p->role >= HTTP_ROLE_STAFF)
        return FF_OK;
    int64_t n = 0;
    enum ff_err e = db_query_i64(c,
                                 "SELECT COUNT(*) FROM orders WHERE id = $1 AND ((user_id IS NOT"
                                 " NULL AND user_id = $2) OR (user_id IS NULL AND anon_id = $3))",
                                 (struct db_param[]){DB_I64(id), DB_I64(p->user_id),
                                                     DB_TEXT(p->anon_id ? p->anon_id : "")},
                                 3, &n);
    return e ? e : n ? FF_OK : FF_ENOTFOUND;
}

static enum ff_err h_order_get(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    struct db_conn *c;
    enum ff_err e = db_acquire(o->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    json_t *j = NULL;
    e = ord__may_see(req, c, id);
    if (!e)
        e = ord__order_json(c, id, &j);
    db_release(c);
    if (e == FF_ENOTFOUND)
        return http_errf(req, e, "no order %" PRId64, id);
    if (e)
        return http_errf(req, e, "reading the order failed");
    return http_reply_json(resp, 200, j);
}

enum ff_err ord__order_routes(struct http_router *r, struct orders *o)
{
    enum ff_err e = http_route_add(r, HTTP_POST, "/api/v1/orders", h_checkout, o,
                                   HTTP_ROUTE_IDEMPOTENT);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/orders/{id}", h_order_get, o,
                           HTTP_ROUTE_NO_ETAG);
    return e;
}

/* ---- expiry of unpaid orders --------------------------------------------------------- */

enum ff_err ord__release(struct db_conn *c, int64_t id, int64_t now)
{
    enum ff_err e = FF_OK;
    int64_t vids[ORDERS_CART_LINES_MAX + 1], qty[ORDERS_CART_LINES_MAX + 1],
        pids[ORDERS_CART_LINES_MAX + 1];
    int n = 0;
    struct db_rows *r;
    /* PostgreSQL: the common lock order (products, then their variants, by id) */
    if (db_conn_dialect(c) == DB_PG)
        e = db_exec(c,
                    "SELECT 1 FROM products p JOIN variants v ON v.product_id = p.id"
                    " WHERE v.id IN (SELECT variant_id FROM stock_reservations WHERE order_id = $1"
                    " AND released_at IS NULL) ORDER BY p.id, v.id FOR NO KEY UPDATE OF p, v",
                    (struct db_param[]){DB_I64(id)}, 1, NULL);
    if (e)
        return e;
    e = db_query(c,
                 "SELECT sr.variant_id, sr.quantity, v.product_id FROM stock_reservations sr"
                 " JOIN variants v ON v.id = sr.variant_id WHERE sr.order_id = $1"
                 " AND sr.released_at IS NULL ORDER BY sr.variant_id",
                 (struct db_param[]){DB_I64(id)}, 1, &r);
    if (!e) {
        bool has;
        while (!(e = db_next(r, &has)) && has && n <= ORDERS_CART_LINES_MAX) {
            vids[n] = db_col_i64(r, 0);
            qty[n] = db_col_i64(r, 1);
            pids[n++] = db_col_i64(r, 2);
        }
        db_rows_free(r);
    }
    for (int i = 0; i < n && !e; i++)
        e = db_exec(c, "UPDATE variants SET stock = stock + $2 WHERE id = $1",
                    (struct db_param[]){DB_I64(vids[i]), DB_I64(qty[i])}, 2, NULL);
    if (!e)
        e = db_exec(c,
                    "UPDATE stock_reservations SET released_at = $2 WHERE order_id = $1"
                    " AND released_at IS NULL",
                    (struct db_param[]){DB_I64(id), DB_I64(now)}, 2, NULL);
    qsort(pids, (size_t)n, sizeof *pids, ord__cmp_i64);
    int np = 0;
    for (int i = 0; i < n; i++)
        if (np == 0 || pids[np - 1] != pids[i])
            pids[np++] = pids[i];
    if (!e)
        e = ord__rollup(c, pids, np, now);
    return e;
}

/* Cancels one unpaid, expired order and returns its stock; *done = 1 when this
 * call did it (the conditional status change makes it exactly once). */
static enum ff_err cancel_expired(struct orders *o, int64_t id, int64_t now, int *done)
{
    *done = 0;
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(o->db, &tx);
    if (!e)
        e = ord__stock_lock(o, tx.conn);
    int64_t changed = 0;
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE orders SET status = 'cancelled', reserved_until = NULL,"
                    " version = version + 1, updated_at = $2 WHERE id = $1"
                    " AND status = 'pending_payment' AND reserved_until < $2",
                    (struct db_param[]){DB_I64(id), DB_I64(now)}, 2, &changed);
    if (e || !changed) {
        db_tx_release(&tx);
        return e;
    }
    if (!e)
        e = ord__release(tx.conn, id, now);
    if (!e)
        e = ord__event(tx.conn, id, "pending_payment", "cancelled", "system",
                       "reservation expired", now);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (!e)
        *done = 1;
    return e;
}

enum ff_err orders_expire(struct orders *o, int64_t now, int limit, int *cancelled)
{
    if (cancelled)
        *cancelled = 0;
    int64_t ids[256];
    int n = 0;
    if (limit <= 0 || limit > 256)
        limit = 256;
    struct db_conn *c;
    enum ff_err e = db_acquire(o->db, &c);
    if (e)
        return e;
    struct db_rows *r;
    e = db_query(c,
                 "SELECT id FROM orders WHERE status = 'pending_payment' AND reserved_until < $1"
                 " ORDER BY reserved_until, id LIMIT $2",
                 (struct db_param[]){DB_I64(now), DB_I64(limit)}, 2, &r);
    if (!e) {
        bool has;
        while (!(e = db_next(r, &has)) && has && n < limit)
            ids[n++] = db_col_i64(r, 0);
        db_rows_free(r);
    }
    db_release(c);
    for (int i = 0; i < n && !e; i++) {
        int done = 0;
        e = cancel_expired(o, ids[i], now, &done);
        if (!e && done && cancelled)
            (*cancelled)++;
    }
    if (cancelled && *cancelled)
        cat_cache_invalidate(o->cache);
    return e;
}
