/* cart.c - the shopper's cart: owner, lazy merge on sign-in, lines, HTTP. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/validate.h"
#include "orders/orders_int.h"

/* ---- identity ------------------------------------------------------------------ */

bool ord__owner(struct http_req *req, char *buf, size_t len)
{
    const struct http_principal *p = http_principal(req);
    if (p->user_id > 0) {
        snprintf(buf, len, "u:%" PRId64, p->user_id);
        return true;
    }
    if (p->anon_id && strlen(p->anon_id) + 3 <= len) {
        snprintf(buf, len, "a:%s", p->anon_id);
        return true;
    }
    return false;
}

const char *ord__actor(struct http_req *req)
{
    const struct http_principal *p = http_principal(req);
    if (p->break_glass)
        return "admin:break-glass";
    if (p->user_id > 0)
        return ff_arena_sprintf(req->arena, "%s:%" PRId64,
                                p->role >= HTTP_ROLE_STAFF ? "staff" : "user", p->user_id);
    return "anon";
}

void ord__iso_time(int64_t ms, char *out, size_t len)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03dZ", base, (int)(ms % 1000));
}

json_t *ord__time_json(int64_t ms)
{
    char t[40];
    ord__iso_time(ms, t, sizeof t);
    return json_string(t);
}

/* ---- merge ----------------------------------------------------------------------- */

enum ff_err orders_cart_merge(struct db_conn *c, const char *anon_id, int64_t user_id)
{
    if (!anon_id || !*anon_id || user_id <= 0)
        return FF_OK;
    char from[ORD_OWNER_MAX], to[ORD_OWNER_MAX];
    snprintf(from, sizeof from, "a:%s", anon_id);
    snprintf(to, sizeof to, "u:%" PRId64, user_id);
    enum ff_err e = db_exec(
        c,
        "INSERT INTO cart_items (owner, variant_id, quantity, price_cents, currency, added_at,"
        " updated_at) SELECT $1, variant_id, quantity, price_cents, currency, added_at,"
        " updated_at FROM cart_items WHERE owner = $2"
        " ON CONFLICT (owner, variant_id) DO UPDATE SET quantity = CASE"
        " WHEN cart_items.quantity + excluded.quantity > 100 THEN 100"
        " ELSE cart_items.quantity + excluded.quantity END, updated_at = excluded.updated_at",
        (struct db_param[]){DB_TEXT(to), DB_TEXT(from)}, 2, NULL);
    if (!e)
        e = db_exec(c, "DELETE FROM cart_items WHERE owner = $1",
                    (struct db_param[]){DB_TEXT(from)}, 1, NULL);
    return e;
}

enum ff_err ord__lazy_merge(struct orders *o, struct http_req *req)
{
    const struct http_principal *p = http_principal(req);
    if (p->user_id <= 0 || !p->anon_id)
        return FF_OK;
    char from[ORD_OWNER_MAX];
    snprintf(from, sizeof from, "a:%s", p->anon_id);
    struct db_conn *c;
    enum ff_err e = db_acquire(o->db, &c);
    if (e)
        return e;
    int64_t n = 0;
    e = db_query_i64(c, "SELECT COUNT(*) FROM cart_items WHERE owner = $1",
                     (struct db_param[]){DB_TEXT(from)}, 1, &n);
    db_release(c);
    if (e || n == 0)
        return e;
    struct db_tx tx = DB_TX_INIT;
    e = db_begin(o->db, &tx);
    if (!e)
        e = orders_cart_merge(tx.conn, p->anon_id, p->user_id);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

/* ---- reading ------------------------------------------------------------------------ */

static const char *col_dup(struct ff_arena *a, struct db_rows *r, int col)
{
    size_t n = 0;
    const char *s = db_col_text(r, col, &n);
    return ff_arena_strndup(a, s ? s : "", s ? n : 0);
}

enum ff_err ord__cart_lines(struct db_conn *c, struct ff_arena *a, const char *owner,
                            struct ord_line **out, int *n)
{
    *out = NULL;
    *n = 0;
    struct ord_line *lines = ff_arena_calloc(a, ORDERS_CART_LINES_MAX + 1, sizeof *lines);
    if (!lines)
        return FF_ENOMEM;
    struct db_rows *r;
    enum ff_err e = db_query(
        c,
        "SELECT ci.variant_id, v.product_id, ci.quantity, v.stock, v.price_cents,"
        " ci.price_cents, v.currency, p.name, p.slug, v.sku, v.colour, v.size,"
        " CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END"
        " FROM cart_items ci JOIN variants v ON v.id = ci.variant_id"
        " JOIN products p ON p.id = v.product_id WHERE ci.owner = $1"
        " ORDER BY ci.variant_id LIMIT 51",
        (struct db_param[]){DB_TEXT(owner)}, 1, &r);
    if (e)
        return e;
    int k = 0;
    bool has;
    while (!(e = db_next(r, &has)) && has && k <= ORDERS_CART_LINES_MAX) {
        struct ord_line *l = &lines[k++];
        l->variant_id = db_col_i64(r, 0);
        l->product_id = db_col_i64(r, 1);
        l->quantity = (int)db_col_i64(r, 2);
        l->stock = (int)db_col_i64(r, 3);
        l->price_cents = db_col_i64(r, 4);
        l->added_price_cents = db_col_i64(r, 5);
        const char *cur = db_col_text(r, 6, NULL);
        snprintf(l->currency, sizeof l->currency, "%s", cur ? cur : "");
        l->name = col_dup(a, r, 7);
        l->slug = col_dup(a, r, 8);
        l->sku = col_dup(a, r, 9);
        l->colour = col_dup(a, r, 10);
        l->size = col_dup(a, r, 11);
        l->deleted = db_col_i64(r, 12) != 0;
        if (!l->name || !l->slug || !l->sku || !l->colour || !l->size)
            e = FF_ENOMEM;
    }
    db_rows_free(r);
    if (e)
        return e;
    *out = lines;
    *n = k;
    return FF_OK;
}

static json_t *cart_json(const struct ord_line *lines, int n)
{
    json_t *items = json_array();
    int64_t subtotal = 0;
    int count = 0;
    bool mixed = false;
    for (int i = 0; i < n; i++) {
        const struct ord_line *l = &lines[i];
        if (strcmp(l->currency, lines[0].currency))
            mixed = true;
        subtotal += l->price_cents * l->quantity;
        count += l->quantity;
        json_array_append_new(
            items,
            json_pack("{sI sI ss ss ss ss ss si sI sI ss sb si sb sb sI}", "variant_id",
                      (json_int_t)l->variant_id, "product_id", (json_int_t)l->product_id,
                      "name", l->name, "slug", l->slug, "sku", l->sku, "colour", l->colour,
                      "size", l->size, "quantity", l->quantity, "unit_price_cents",
                      (json_int_t)l->price_cents, "price_when_added_cents",
                      (json_int_t)l->added_price_cents, "currency", l->currency,
                      "price_changed", l->price_cents != l->added_price_cents, "stock",
                      l->stock, "stock_short", l->deleted || l->stock < l->quantity,
                      "available", !l->deleted, "line_total_cents",
                      (json_int_t)(l->price_cents * l->quantity)));
    }
    json_t *j = json_pack("{so si sb}", "items", items, "count", count, "mixed_currencies",
                          mixed);
    if (!j)
        return NULL;
    json_object_set_new(j, "currency", n && !mixed ? json_string(lines[0].currency) : json_null());
    json_object_set_new(j, "subtotal_cents",
                        !mixed ? json_integer((json_int_t)subtotal) : json_null());
    return j;
}

/* Replies with the cart of owner (status 200). */
static enum ff_err reply_cart(struct orders *o, struct http_req *req, struct http_resp *resp,
                              const char *owner)
{
    struct ord_line *lines = NULL;
    int n = 0;
    if (owner) {
        struct db_conn *c;
        enum ff_err e = db_acquire(o->db, &c);
        if (e)
            return http_errf(req, e, "the database is busy");
        e = ord__cart_lines(c, req->arena, owner, &lines, &n);
        db_release(c);
        if (e)
            return http_errf(req, e, "reading the cart failed");
    }
    json_t *j = cart_json(lines, n);
    return j ? http_reply_json(resp, 200, j) : FF_ENOMEM;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

/* A new anonymous shopper id (22 chars of base64url), sent back as cookie
 * ff_anon and header X-Anonymous-Id. */
const char *ord__new_anon_id(struct http_req *req, struct http_resp *resp)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char rnd[22];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return NULL;
    char *id = ff_arena_alloc(req->arena, sizeof rnd + 1);
    if (!id)
        return NULL;
    for (size_t i = 0; i < sizeof rnd; i++)
        id[i] = abc[rnd[i] & 63];
    id[sizeof rnd] = '\0';
    const char *cookie = ff_arena_sprintf(
        req->arena, "ff_anon=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax", id);
    if (!cookie || http_resp_header(resp, "Set-Cookie", cookie) ||
        http_resp_header(resp, "X-Anonymous-Id", id))
        return NULL;
    struct http_principal p = *http_principal(req);
    p.anon_id = id;
    if (http_principal_set(req, &p))
        return NULL;
    return id;
}

static enum ff_err h_cart_get(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    if (ord__lazy_merge(o, req))
        return http_errf(req, FF_EDB, "merging the cart failed");
    char owner[ORD_OWNER_MAX];
    return reply_cart(o, req, resp, ord__owner(req, owner, sizeof owner) ? owner : NULL);
}

static const struct http_field add_fields[] = {
    {"variant_id", HTTP_T_INT, HTTP_F_REQUIRED, .min = 1, .max = INT64_MAX},
    {"quantity", HTTP_T_INT, 0, .min = 1, .max = ORDERS_LINE_QTY_MAX},
};
static const struct http_schema add_schema = HTTP_SCHEMA(add_fields);

static const struct http_field set_fields[] = {
    {"quantity", HTTP_T_INT, HTTP_F_REQUIRED, .min = 0, .max = ORDERS_LINE_QTY_MAX},
};
static const struct http_schema set_schema = HTTP_SCHEMA(set_fields);

/* Sets (add=false) or adds to (add=true) the quantity of one line, checking the
 * variant is on sale and in stock. Inside tx. */
static enum ff_err put_line(struct http_req *req, struct db_conn *c, const char *owner,
                            int64_t vid, int64_t qty, bool add)
{
    struct db_rows *r;
    enum ff_err e = db_query(
        c,
        "SELECT v.stock, v.price_cents, v.currency, CASE WHEN p.deleted_at IS NULL THEN 0"
        " ELSE 1 END, (SELECT quantity FROM cart_items WHERE owner = $2 AND variant_id = v.id),"
        " (SELECT COUNT(*) FROM cart_items WHERE owner = $2)"
        " FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1",
        (struct db_param[]){DB_I64(vid), DB_TEXT(owner)}, 2, &r);
    if (e)
        return http_errf(req, e, "reading the variant failed");
    bool has;
    e = db_next(r, &has);
    if (e || !has || db_col_i64(r, 3)) {
        db_rows_free(r);
        if (e)
            return http_errf(req, e, "reading the variant failed");
        return http_errf(req, FF_ENOTFOUND, "no variant %" PRId64 " on sale", vid);
    }
    int64_t stock = db_col_i64(r, 0), price = db_col_i64(r, 1);
    char cur[4];
    snprintf(cur, sizeof cur, "%s", db_col_text(r, 2, NULL) ? db_col_text(r, 2, NULL) : "");
    bool present = !db_col_null(r, 4);
    int64_t have = db_col_i64(r, 4), nlines = db_col_i64(r, 5);
    db_rows_free(r);
    if (!add && !present)
        return http_errf(req, FF_ENOTFOUND, "variant %" PRId64 " is not in the cart", vid);
    int64_t want = add ? have + qty : qty;
    if (want > ORDERS_LINE_QTY_MAX) {
        http_field_error(req, "quantity", "at most %d units of one variant per cart",
                         ORDERS_LINE_QTY_MAX);
        return FF_EINVAL;
    }
    if (!present && nlines >= ORDERS_CART_LINES_MAX) {
        http_field_error(req, "variant_id", "a cart holds at most %d lines",
                         ORDERS_CART_LINES_MAX);
        return FF_EINVAL;
    }
    if (want > stock) {
        http_field_error(req, ff_arena_sprintf(req->arena, "variants/%" PRId64, vid),
                         "%" PRId64 " requested, %" PRId64 " in stock", want, stock);
        return http_problem_set(req, HTTP_PK_OUT_OF_STOCK, "variant %" PRId64
                                " has only %" PRId64 " in stock", vid, stock);
    }
    int64_t now = db_now_ms();
    e = db_exec(c,
                "INSERT INTO cart_items (owner, variant_id, quantity, price_cents, currency,"
                " added_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)"
                " ON CONFLICT (owner, variant_id) DO UPDATE SET quantity = excluded.quantity,"
                " updated_at = excluded.updated_at",
                (struct db_param[]){DB_TEXT(owner), DB_I64(vid), DB_I64(want), DB_I64(price),
                                    DB_TEXT(cur), DB_I64(now)},
                6, NULL);
    return e ? http_errf(req, e, "updating the cart failed") : FF_OK;
}

static enum ff_err change_line(struct http_req *req, struct http_resp *resp, int64_t vid,
                               int64_t qty, bool add)
{
    struct orders *o = req->ud;
    if (ord__lazy_merge(o, req))
        return http_errf(req, FF_EDB, "merging the cart failed");
    char owner[ORD_OWNER_MAX];
    if (!ord__owner(req, owner, sizeof owner)) {
        if (!add)
            return http_errf(req, FF_ENOTFOUND, "variant %" PRId64 " is not in the cart", vid);
        if (!ord__new_anon_id(req, resp) || !ord__owner(req, owner, sizeof owner))
            return FF_ENOMEM;
    }
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(o->db, &tx);
    if (e) {
        db_tx_release(&tx);
        return http_errf(req, e, "the database is busy");
    }
    if (!add && qty == 0) {
        int64_t changed = 0;
        e = db_exec(tx.conn, "DELETE FROM cart_items WHERE owner = $1 AND variant_id = $2",
                    (struct db_param[]){DB_TEXT(owner), DB_I64(vid)}, 2, &changed);
        if (!e && !changed)
            e = http_errf(req, FF_ENOTFOUND, "variant %" PRId64 " is not in the cart", vid);
    } else {
        e = put_line(req, tx.conn, owner, vid, qty, add);
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e)
        return req->err ? req->err : http_errf(req, e, "updating the cart failed");
    return reply_cart(o, req, resp, owner);
}

static enum ff_err h_cart_add(struct http_req *req, struct http_resp *resp)
{
    json_t *body;
    enum ff_err e = http_json_body(req, &add_schema, &body);
    if (e)
        return e;
    json_t *q = json_object_get(body, "quantity");
    return change_line(req, resp, json_integer_value(json_object_get(body, "variant_id")),
                       q ? json_integer_value(q) : 1, true);
}

static enum ff_err h_cart_set(struct http_req *req, struct http_resp *resp)
{
    int64_t vid;
    if (http_param_i64(req, "variant_id", 1, INT64_MAX, &vid))
        return FF_EINVAL;
    json_t *body;
    enum ff_err e = http_json_body(req, &set_schema, &body);
    if (e)
        return e;
    return change_line(req, resp, vid, json_integer_value(json_object_get(body, "quantity")),
                       false);
}

static enum ff_err h_cart_delete(struct http_req *req, struct http_resp *resp)
{
    int64_t vid;
    if (http_param_i64(req, "variant_id", 1, INT64_MAX, &vid))
        return FF_EINVAL;
    return change_line(req, resp, vid, 0, false);
}

enum ff_err ord__cart_routes(struct http_router *r, struct orders *o)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/api/v1/cart", h_cart_get, o, HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/cart/items", h_cart_add, o,
                           HTTP_ROUTE_IDEMPOTENT);
    if (!e)
        e = http_route_add(r, HTTP_PUT, "/api/v1/cart/items/{variant_id}", h_cart_set, o, 0);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/cart/items/{variant_id}", h_cart_delete,
                           o, 0);
    return e;
}
