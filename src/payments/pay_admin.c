/* pay_admin.c - GET /api/v1/payments (staff): payments to look at, e.g. the
 * ones flagged for attention (amount mismatch, paid after cancellation) or
 * disputed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "http/router.h"
#include "payments/payments_int.h"

/* "true" / "false" query flag; -1 absent; records a field error when bad. */
static int flag(struct http_req *req, const char *name, bool *bad)
{
    const char *v = http_query(req, name);
    if (!v)
        return -1;
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    http_field_error(req, name, "must be true or false");
    *bad = true;
    return -1;
}

static json_t *text_or_null(struct db_rows *r, int col)
{
    const char *s = db_col_text(r, col, NULL);
    return s ? json_string(s) : json_null();
}

static json_t *when(int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    return json_sprintf("%s.%03dZ", b, (int)(ms % 1000));
}

static enum ff_err h_list(struct http_req *req, struct http_resp *resp)
{
    struct payments *p = req->ud;
    bool bad = false, present = false;
    int att = flag(req, "attention", &bad), dis = flag(req, "disputed", &bad);
    int64_t limit = 50, cursor = 0;
    if (http_query_i64(req, "limit", 1, 200, &limit, &present) ||
        http_query_i64(req, "cursor", 1, INT64_MAX, &cursor, &present) || bad)
        return FF_EINVAL;
    const char *st = http_query(req, "status");
    if (st && (!*st || strlen(st) > 40 || strspn(st, "abcdefghijklmnopqrstuvwxyz_") != strlen(st)))
        return http_field_error(req, "status", "is not a payment intent status");
    static const char sql[] =
             "SELECT p.order_id, o.status, p.payment_intent, p.status, p.amount_cents,"
             " p.currency, p.amount_received, p.amount_refunded, p.disputed, p.last_error,"
             " p.attention, p.updated_at FROM payments p JOIN orders o ON o.id = p.order_id"
             " WHERE ($1 = 0 OR p.order_id < $1) AND ($2 < 0 OR (p.attention IS NOT NULL) ="
             " ($2 = 1)) AND ($3 < 0 OR p.disputed = $3) AND ($4 = '' OR p.status = $4)"
             " ORDER BY p.order_id DESC LIMIT $5";
    struct db_conn *c;
    enum ff_err e = db_acquire(p->db, &c);
    if (e)
        return http_errf(req, e, "the database is busy");
    struct db_rows *r;
    json_t *items = json_array();
    int64_t last = 0, k = 0;
    bool has = false;
    e = db_query(c, sql,
                 (struct db_param[]){DB_I64(cursor), DB_I64(att), DB_I64(dis),
                                     DB_TEXT(st ? st : ""), DB_I64(limit + 1)},
                 5, &r);
    if (!e) {
        while (!(e = db_next(r, &has)) && has && k < limit) {
            last = db_col_i64(r, 0);
            k++;
            json_array_append_new(
                items, json_pack("{sI so so so sI so sI sI sb so so so}", "order_id",
                                 (json_int_t)last, "order_status", text_or_null(r, 1),
                                 "payment_intent_id", text_or_null(r, 2), "status",
                                 text_or_null(r, 3), "amount_cents",
                                 (json_int_t)db_col_i64(r, 4), "currency", text_or_null(r, 5),
                                 "amount_received_cents", (json_int_t)db_col_i64(r, 6),
                                 "amount_refunded_cents", (json_int_t)db_col_i64(r, 7),
                                 "disputed", (int)db_col_i64(r, 8), "last_error",
                                 text_or_null(r, 9), "attention", text_or_null(r, 10),
                                 "updated_at", when(db_col_i64(r, 11))));
        }
        db_rows_free(r);
    }
    db_release(c);
    if (e) {
        json_decref(items);
        return http_errf(req, e, "listing payments failed");
    }
    return http_reply_json(resp, 200,
                           json_pack("{so so}", "items", items, "next_cursor",
                                     has ? json_sprintf("%" PRId64, last) : json_null()));
}

enum ff_err pay__admin_routes(struct http_router *r, struct payments *p)
{
    return http_route_add(r, HTTP_GET, "/api/v1/payments", h_list, p,
                          HTTP_ROUTE_STAFF | HTTP_ROUTE_NO_ETAG);
}
