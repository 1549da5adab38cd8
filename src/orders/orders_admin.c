/* orders_admin.c - order transitions (the one applier), listing, staff
 * updates, the event log and prescriptions on order lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/validate.h"
#include "mail/mail.h"
#include "orders/orders_int.h"

/* ---- mail on paid / shipped ------------------------------------------------------ */

static void money(char *out, size_t len, int64_t cents, const char *cur)
{
    snprintf(out, len, "%s %" PRId64 ".%02d", cur, cents / 100, (int)(llabs(cents) % 100));
}

/* The template variables of order-confirmation / order-shipped (JSON text,
 * caller frees with free()). */
static char *mail_vars(struct orders *o, struct db_conn *c, int64_t id, const char *email,
                       enum orders_status to)
{
    json_t *order = NULL;
    if (ord__order_json(c, id, &order))
        return NULL;
    const char *cur = json_string_value(json_object_get(order, "currency"));
    char num[32], total[64], link[2300];
    snprintf(num, sizeof num, "%" PRId64, id);
    money(total, sizeof total, json_integer_value(json_object_get(order, "total_cents")), cur);
    snprintf(link, sizeof link, "%s/orders/%" PRId64, o->public_url ? o->public_url : "", id);
    const char *at = strchr(email, '@');
    json_t *v = json_pack("{ss# ss ss}", "name", email, (int)(at ? at - email : 0),
                          "order_number", num, "link", link);
    if (to == ORD_PAID) {
        json_t *items = json_array();
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(order, "lines"), i, l) {
            char price[64];
            money(price, sizeof price, json_integer_value(json_object_get(l, "line_total_cents")),
                  cur);
            json_array_append_new(items, json_pack("{sO sO ss}", "title",
                                                   json_object_get(l, "name"), "quantity",
                                                   json_object_get(l, "quantity"), "price",
                                                   price));
        }
        json_object_set_new(v, "items", items);
        json_object_set_new(v, "total", json_string(total));
    } else {
        json_object_set(v, "carrier", json_object_get(order, "carrier"));
        json_object_set(v, "tracking_number", json_object_get(order, "tracking"));
        json_object_set_new(v, "tracking_link", json_string(""));
    }
    json_decref(order);
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return text;
}

static enum ff_err send_mail(struct orders *o, struct db_conn *c, int64_t id, const char *email,
                             enum orders_status to)
{
    if (!email || !*email || (to != ORD_PAID && to != ORD_SHIPPED))
        return FF_OK;
    char *vars = mail_vars(o, c, id, email, to);
    if (!vars)
        return FF_ENOMEM;
    enum ff_err e = mail_enqueue(c, email, to == ORD_PAID ? "order-confirmation" : "order-shipped",
                                 "en", vars, 1);
    ord__json_text_free(vars);
    if (e == FF_EINVAL) { /* a bad address must not block the order */
        ff_log(FF_LOG_WARN, "orders", "order %" PRId64 ": mail not queued (bad address)", id);
        e = FF_OK;
    }
    return e;
}

/* ---- the transition applier --------------------------------------------------------- */

enum ff_err orders_transition(struct orders *o, struct db_conn *c, int64_t id,
                              enum orders_status to, const char *actor, const char *reason,
                              const char *carrier, const char *tracking,
                              enum orders_status *from_out)
{
    enum ff_err e = FF_OK;
    if (to == ORD_CANCELLED && (e = ord__stock_lock(o, c)))
        return e;
    struct db_rows *r;
    e = db_query(c,
                 db_dialect(o->db) == DB_PG
                     ? "SELECT status, email FROM orders WHERE id = $1 FOR UPDATE"
                     : "SELECT status, email FROM orders WHERE id = $1",
                 (struct db_param[]){DB_I64(id)}, 1, &r);
    if (e)
        return e;
    bool has;
    char status[32] = "", email[320] = "";
    e = db_next(r, &has);
    if (!e && has) {
        snprintf(status, sizeof status, "%s", db_col_text(r, 0, NULL));
        const char *m = db_col_text(r, 1, NULL);
        snprintf(email, sizeof email, "%s", m ? m : "");
    }
    db_rows_free(r);
    if (e || !has)
        return e ? e : FF_ENOTFOUND;
    int from = orders_status_parse(status);
    if (from_out)
        *from_out = (enum orders_status)(from < 0 ? 0 : from);
    if (from < 0 || !orders_transition_ok((enum orders_status)from, to))
        return FF_ECONFLICT;
    int64_t now = db_now_ms(), changed = 0;
    e = db_exec(c,
                "UPDATE orders SET status = $2, version = version + 1, updated_at = $3,"
                " reserved_until = NULL, carrier = COALESCE($4, carrier),"
                " tracking = COALESCE($5, tracking) WHERE id = $1 AND status = $6",
                (struct db_param[]){DB_I64(id), DB_TEXT(orders_status_name(to)), DB_I64(now),
                                    DB_TEXT(carrier), DB_TEXT(tracking), DB_TEXT(status)},
                6, &changed);
    if (!e && changed != 1)
        e = FF_ECONFLICT;
    if (!e && to == ORD_CANCELLED)
        e = ord__release(c, id, now);
    if (!e)
        e = ord__event(c, id, status, orders_status_name(to), actor, reason, now);
    if (!e)
        e = send_mail(o, c, id, email, to);
    return e;
}

enum ff_err orders_note(struct orders *o, struct db_conn *c, int64_t id, const char *actor,
                        const char *reason)
{
    char status[32] = "";
    struct db_rows *r;
    enum ff_err e = db_query(c, "SELECT status FROM orders WHERE id = $1",
                             (struct db_param[]){DB_I64(id)}, 1, &r);
    if (e)
        return e;
    bool has;
    e = db_next(r, &has);
    if (!e && has)
        snprintf(status, sizeof status, "%s", db_col_text(r, 0, NULL));
    db_rows_free(r);
    if (e || !has)
        return e ? e : FF_ENOTFOUND;
    (void)o;
    return ord__event(c, id, status, status, actor, reason, db_now_ms());
}

enum ff_err orders_set_flag(struct orders *o, struct db_conn *c, int64_t id, const char *flag,
                            bool *added)
{
    (void)o;
    if (added)
        *added = false;
    if (!flag || !*flag || strchr(flag, ','))
        return FF_EINVAL;
    int64_t n = 0, changed = 0;
    enum ff_err e = db_query_i64(c, "SELECT COUNT(*) FROM orders WHERE id = $1",
                                 (struct db_param[]){DB_I64(id)}, 1, &n);
    if (!e && !n)
        return FF_ENOTFOUND;
    /* flags is a comma list: ",a,b," style matching on ',' || flags || ',' */
    if (!e)
        e = db_exec(c,
                    "UPDATE orders SET flags = CASE WHEN flags = '' THEN $2 ELSE flags || ',' ||"
                    " $2 END, version = version + 1, updated_at = $3 WHERE id = $1 AND"
                    " (',' || flags || ',') NOT LIKE ('%,' || $2 || ',%')",
                    (struct db_param[]){DB_I64(id), DB_TEXT(flag), DB_I64(db_now_ms())}, 3,
                    &changed);
    if (!e && added)
        *added = changed > 0;
    return e;
}

enum ff_err orders_may_see(struct http_req *req, struct db_conn *c, int64_t id)
{
    return ord__may_see(req, c, id);
}

enum ff_err orders_order_json(struct db_conn *c, int64_t id, json_t **out)
{
    return ord__order_json(c, id, out);
}

const char *orders_actor(struct http_req *req)
{
    return ord__actor(req);
}

void orders_stock_changed(struct orders *o)
{
    ord__cache_changed(o);
}

/* ---- HTTP: staff update ---------------------------------------------------------------- */

static const char *const staff_targets[] = {"fulfilled", "shipped", "delivered", "cancelled",
                                            NULL};
static const struct http_field status_fields[] = {
    {"status", HTTP_T_STRING, HTTP_F_REQUIRED, .enum_values = staff_targets},
    {"carrier", HTTP_T_STRING, 0, .min_len = 1, .max_len = 64},
    {"tracking", HTTP_T_STRING, 0, .min_len = 1, .max_len = 128},
    {"reason", HTTP_T_STRING, 0, .max_len = 500},
};
static const struct http_schema status_schema = HTTP_SCHEMA(status_fields);

static enum ff_err reply_order(struct orders *o, struct http_req *req, struct http_resp *resp,
                               int64_t id)
{
    struct db_conn *c;
    enum ff_err e = db_acquire(o->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    json_t *j = NULL;
    e = ord__order_json(c, id, &j);
    db_release(c);
    if (e)
        return http_errf(req, e, "reading the order failed");
    return http_reply_json(resp, 200, j);
}

static enum ff_err h_status(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    json_t *b;
    enum ff_err e = http_json_body(req, &status_schema, &b);
    if (e)
        return e;
    int to = orders_status_parse(json_string_value(json_object_get(b, "status")));
    const char *carrier = json_string_value(json_object_get(b, "carrier"));
    const char *tracking = json_string_value(json_object_get(b, "tracking"));
    if (to == ORD_SHIPPED && (!carrier || !tracking)) {
        if (!carrier)
            http_field_error(req, "carrier", "is required to ship");
        if (!tracking)
            http_field_error(req, "tracking", "is required to ship");
        return FF_EINVAL;
    }
    const char *reason = json_string_value(json_object_get(b, "reason"));
    struct db_tx tx = DB_TX_INIT;
    enum orders_status from = 0;
    e = db_begin(o->db, &tx);
    if (!e)
        e = orders_transition(o, tx.conn, id, (enum orders_status)to, ord__actor(req),
                              reason ? reason : "staff", carrier, tracking, &from);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e == FF_ENOTFOUND)
        return http_errf(req, e, "no order %" PRId64, id);
    if (e == FF_ECONFLICT)
        return http_problem_set(req, HTTP_PK_INVALID_TRANSITION,
                                "order %" PRId64 " is %s: it cannot become %s", id,
                                orders_status_name(from), orders_status_name(to));
    if (e)
        return http_errf(req, e, "updating the order failed");
    if (to == ORD_CANCELLED)
        ord__cache_changed(o);
    return reply_order(o, req, resp, id);
}

/* ---- HTTP: listing ---------------------------------------------------------------------- */

/* "2026-11-25", "2026-11-25T10:00:00Z" or epoch ms -> epoch ms; -1 when bad. */
static int64_t parse_when(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end && (*end == 'Z' || !*end))
        return (int64_t)timegm(&tm) * 1000;
    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end && !*end)
        return (int64_t)timegm(&tm) * 1000;
    return -1;
}

static enum ff_err list_filters(struct http_req *req, struct db_param *p, int *np, char *where,
                                size_t wlen)
{
    const struct http_principal *pr = http_principal(req);
    int n = 0;
    size_t w = 0;
    w += (size_t)snprintf(where + w, wlen - w, "WHERE 1 = 1");
    if (pr->role < HTTP_ROLE_STAFF) {
        if (pr->user_id > 0) {
            p[n++] = DB_I64(pr->user_id);
            w += (size_t)snprintf(where + w, wlen - w, " AND user_id = $%d", n);
        } else if (pr->anon_id) {
            p[n++] = DB_TEXT(pr->anon_id);
            w += (size_t)snprintf(where + w, wlen - w, " AND user_id IS NULL AND anon_id = $%d",
                                  n);
        } else {
            w += (size_t)snprintf(where + w, wlen - w, " AND 1 = 0");
        }
    }
    const char *st = http_query(req, "status");
    if (st) {
        if (orders_status_parse(st) < 0)
            return http_field_error(req, "status", "is not an order status");
        p[n++] = DB_TEXT(st);
        w += (size_t)snprintf(where + w, wlen - w, " AND status = $%d", n);
    }
    int64_t v;
    bool present = false;
    if (http_query_i64(req, "customer", 1, INT64_MAX, &v, &present))
        return FF_EINVAL;
    if (present) {
        if (pr->role < HTTP_ROLE_STAFF)
            return http_field_error(req, "customer", "is for staff only");
        p[n++] = DB_I64(v);
        w += (size_t)snprintf(where + w, wlen - w, " AND user_id = $%d", n);
    }
    static const char *const times[2] = {"from", "to"};
    for (int i = 0; i < 2; i++) {
        const char *t = http_query(req, times[i]);
        if (!t)
            continue;
        int64_t ms = parse_when(t);
        if (ms < 0)
            return http_field_error(req, times[i], "must be a date (YYYY-MM-DD) or date-time");
        p[n++] = DB_I64(ms);
        w += (size_t)snprintf(where + w, wlen - w, " AND created_at %s $%d", i ? "<" : ">=", n);
    }
    if (http_query_i64(req, "cursor", 1, INT64_MAX, &v, &present))
        return FF_EINVAL;
    if (present) {
        p[n++] = DB_I64(v);
        w += (size_t)snprintf(where + w, wlen - w, " AND id < $%d", n);
    }
    *np = n;
    return FF_OK;
}

static enum ff_err h_list(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    struct db_param p[8];
    int n = 0;
    char where[512], sql[1024];
    int64_t limit = 20;
    bool present;
    if (http_query_i64(req, "limit", 1, 100, &limit, &present) ||
        list_filters(req, p, &n, where, sizeof where))
        return FF_EINVAL;
    p[n++] = DB_I64(limit + 1);
    snprintf(sql, sizeof sql,
             "SELECT id, user_id, status, currency, total_cents, refunded_cents, created_at,"
             " updated_at FROM orders %s ORDER BY id DESC LIMIT $%d",
             where, n);
    struct db_conn *c;
    enum ff_err e = db_acquire(o->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    struct db_rows *r;
    json_t *items = json_array();
    int64_t last = 0, k = 0;
    e = db_query(c, sql, p, n, &r);
    if (!e) {
        bool has;
        while (!(e = db_next(r, &has)) && has && k < limit) {
            last = db_col_i64(r, 0);
            k++;
            json_array_append_new(
                items,
                json_pack("{sI so ss ss sI sI so so}", "id", (json_int_t)last, "user_id",
                          db_col_null(r, 1) ? json_null() : json_integer(db_col_i64(r, 1)),
                          "status", db_col_text(r, 2, NULL), "currency",
                          db_col_text(r, 3, NULL), "total_cents", (json_int_t)db_col_i64(r, 4),
                          "refunded_cents", (json_int_t)db_col_i64(r, 5), "created_at",
                          ord__time_json(db_col_i64(r, 6)), "updated_at",
                          ord__time_json(db_col_i64(r, 7))));
        }
        bool more = !e && has;
        db_rows_free(r);
        if (!e) {
            json_t *j = json_pack("{so so}", "items", items, "next_cursor",
                                  more ? json_sprintf("%" PRId64, last) : json_null());
            db_release(c);
            return http_reply_json(resp, 200, j);
        }
    }
    db_release(c);
    json_decref(items);
    return http_errf(req, e, "listing orders failed");
}

/* ---- HTTP: events and prescriptions ------------------------------------------------------ */

static enum ff_err h_events(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    struct db_conn *c;
    enum ff_err e = db_acquire(o->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    e = ord__may_see(req, c, id);
    struct db_rows *r = NULL;
    json_t *items = json_array();
    if (!e)
        e = db_query(c,
                     "SELECT from_status, to_status, actor, reason, created_at FROM order_events"
                     " WHERE order_id = $1 ORDER BY id",
                     (struct db_param[]){DB_I64(id)}, 1, &r);
    if (r) {
        bool has;
        while (!(e = db_next(r, &has)) && has) {
            const char *from = db_col_text(r, 0, NULL);
            json_array_append_new(items,
                                  json_pack("{so ss ss ss so}", "from",
                                            from ? json_string(from) : json_null(), "to",
                                            db_col_text(r, 1, NULL), "actor",
                                            db_col_text(r, 2, NULL), "reason",
                                            db_col_text(r, 3, NULL), "at",
                                            ord__time_json(db_col_i64(r, 4))));
        }
        db_rows_free(r);
    }
    db_release(c);
    if (e) {
        json_decref(items);
        return e == FF_ENOTFOUND ? http_errf(req, e, "no order %" PRId64, id)
                                 : http_errf(req, e, "reading the events failed");
    }
    return http_reply_json(resp, 200, json_pack("{so}", "items", items));
}

static const struct http_schema any_object = {NULL, 0, true};

static enum ff_err h_rx(struct http_req *req, struct http_resp *resp)
{
    struct orders *o = req->ud;
    int64_t id, line;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id) ||
        http_param_i64(req, "line_id", 1, INT64_MAX, &line))
        return FF_EINVAL;
    json_t *b;
    enum ff_err e = http_json_body(req, &any_object, &b);
    if (e)
        return e;
    struct orders_rx_err errs[16];
    int nerr = 0;
    if (orders_rx_check(b, errs, 16, &nerr)) {
        for (int i = 0; i < nerr && i < 16; i++)
            http_field_error(req, errs[i].field, "%s", errs[i].reason);
        return FF_EINVAL;
    }
    char *text = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return FF_ENOMEM;
    struct db_tx tx = DB_TX_INIT;
    int64_t changed = 0;
    e = db_begin(o->db, &tx);
    if (!e)
        e = ord__may_see(req, tx.conn, id);
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE order_lines SET prescription = $3 WHERE id = $2 AND order_id = $1"
                    " AND EXISTS (SELECT 1 FROM orders WHERE id = $1"
                    " AND status IN ('pending_payment', 'paid'))",
                    (struct db_param[]){DB_I64(id), DB_I64(line), DB_TEXT(text)}, 3, &changed);
    ord__json_text_free(text);
    if (!e && !changed) {
        int64_t n = 0;
        e = db_query_i64(tx.conn, "SELECT COUNT(*) FROM order_lines WHERE id = $2"
                         " AND order_id = $1", (struct db_param[]){DB_I64(id), DB_I64(line)},
                         2, &n);
        if (!e)
            e = n ? FF_ECONFLICT : FF_ENOTFOUND;
    }
    if (!e)
        e = db_exec(tx.conn, "UPDATE orders SET version = version + 1, updated_at = $2"
                    " WHERE id = $1", (struct db_param[]){DB_I64(id), DB_I64(db_now_ms())}, 2,
                    NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e == FF_ENOTFOUND)
        return http_errf(req, e, "no line %" PRId64 " in order %" PRId64, line, id);
    if (e == FF_ECONFLICT)
        return http_problem_set(req, HTTP_PK_INVALID_TRANSITION,
                                "order %" PRId64 " is past payment: its prescriptions are"
                                " fixed", id);
    if (e)
        return http_errf(req, e, "saving the prescription failed");
    return reply_order(o, req, resp, id);
}

enum ff_err ord__admin_routes(struct http_router *r, struct orders *o)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/api/v1/orders", h_list, o, HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/orders/{id}/status", h_status, o,
                           HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/orders/{id}/events", h_events, o,
                           HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_PUT, "/api/v1/orders/{id}/lines/{line_id}/prescription",
                           h_rx, o, 0);
    return e;
}
