/* place.c - placing an order inside the caller's transaction: the requested
 * lines are resolved and locked, checked, the stock taken, the order, its lines,
 * reservations, product roll-ups and event written, and the reply built from
 * what the transaction already holds (nothing is read back).
 *
 * Lock order (PostgreSQL), the same for every stock writer (checkout, cancel,
 * expiry, staff product edits): products by id, then within each product its
 * variants by id. One `SELECT ... ORDER BY p.id, v.id FOR NO KEY UPDATE OF p, v`
 * takes them in that order, so two writers can never wait on each other in a
 * cycle. Round trips per checkout on PostgreSQL: lock+read, one write
 * statement (CTE), the outbox job, plus BEGIN / COMMIT (see docs/storage.md).
 * SQLite serializes writers (BEGIN IMMEDIATE) and runs plain statements. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/problem.h"
#include "idem/idem.h"
#include "jobs/jobs.h"
#include "orders/orders_int.h"

/* ---- resolving and locking the lines ------------------------------------------------ */

/* The wanted ids and skus as two parameters (arena): PostgreSQL array
 * literals ("{1,2}", "{\"A\"}") or, for SQLite, JSON arrays ("[1,2]", "[\"A\"]"). */
static enum ff_err want_params(struct ff_arena *a, bool pg, const struct ord_want *w, int nw,
                               char **ids, char **skus)
{
    size_t cap = 3;
    for (int i = 0; i < nw; i++)
        cap += w[i].sku ? 2 * strlen(w[i].sku) + 3 : 22;
    char *pi = ff_arena_alloc(a, cap), *ps = ff_arena_alloc(a, cap);
    if (!pi || !ps)
        return FF_ENOMEM;
    json_t *ja = pg ? NULL : json_array(), *js = pg ? NULL : json_array();
    size_t ni = 0, ns = 0;
    pi[ni++] = '{';
    ps[ns++] = '{';
    for (int i = 0; i < nw; i++) {
        if (w[i].sku && pg) {
            if (ns > 1)
                ps[ns++] = ',';
            ps[ns++] = '"';
            for (const char *c = w[i].sku; *c; c++) {
                if (*c == '"' || *c == '\\')
                    ps[ns++] = '\\';
                ps[ns++] = *c;
            }
            ps[ns++] = '"';
        } else if (pg) {
            ni += (size_t)snprintf(pi + ni, cap - ni, "%s%" PRId64, ni > 1 ? "," : "",
                                   w[i].variant_id);
        } else if (w[i].sku) {
            json_array_append_new(js, json_string(w[i].sku));
        } else {
            json_array_append_new(ja, json_integer(w[i].variant_id));
        }
    }
    pi[ni++] = '}';
    ps[ns++] = '}';
    pi[ni] = ps[ns] = '\0';
    *ids = pi;
    *skus = ps;
    if (pg)
        return FF_OK;
    char *ti = json_dumps(ja, JSON_COMPACT), *ts = json_dumps(js, JSON_COMPACT);
    json_decref(ja);
    json_decref(js);
    *ids = ti ? ff_arena_strdup(a, ti) : NULL;
    *skus = ts ? ff_arena_strdup(a, ts) : NULL;
    ord__json_text_free(ti);
    ord__json_text_free(ts);
    return *ids && *skus ? FF_OK : FF_ENOMEM;
}

static const char *col_dup(struct ff_arena *a, struct db_rows *r, int col)
{
    size_t n = 0;
    const char *s = db_col_text(r, col, &n);
    return ff_arena_strndup(a, s ? s : "", s ? n : 0);
}

static int cmp_line(const void *a, const void *b)
{
    int64_t x = ((const struct ord_line *)a)->variant_id;
    int64_t y = ((const struct ord_line *)b)->variant_id;
    return (x > y) - (x < y);
}

/* Reads (PostgreSQL: and locks, products then variants by id) the variants
 * (the ARRAY(SELECT unnest(..)) wrappers hide the arrays' lengths from the
 * planner, so the cached generic plan is as cheap as a custom one and is
 * used: no planning per checkout)
 * named by w into lines[] (variant-id order); line i's `want` is the index
 * of the request item it answers. Items naming no variant are left out. */
static enum ff_err read_lines(struct orders *o, struct http_req *req, struct db_conn *c,
                              const struct ord_want *w, int nw, struct ord_line *lines, int *n)
{
    bool pg = db_dialect(o->db) == DB_PG;
    char *ids = NULL, *skus = NULL;
    enum ff_err e = want_params(req->arena, pg, w, nw, &ids, &skus);
    struct db_rows *r = NULL;
    if (!e)
        e = db_query(
            c,
            pg ? "SELECT v.id, v.product_id, v.stock, v.price_cents, v.currency, p.name, p.slug,"
                 " v.sku, v.colour, v.size, CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END"
                 " FROM variants v JOIN products p ON p.id = v.product_id"
                 " WHERE v.id = ANY(ARRAY(SELECT unnest($1::bigint[])))"
                 " OR v.sku = ANY(ARRAY(SELECT unnest($2::text[])))"
                 " ORDER BY p.id, v.id FOR NO KEY UPDATE OF p, v"
               : "SELECT v.id, v.product_id, v.stock, v.price_cents, v.currency, p.name, p.slug,"
                 " v.sku, v.colour, v.size, CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END"
                 " FROM variants v JOIN products p ON p.id = v.product_id"
                 " WHERE v.id IN (SELECT value FROM json_each($1))"
                 " OR v.sku IN (SELECT value FROM json_each($2)) ORDER BY p.id, v.id",
            (struct db_param[]){DB_TEXT(ids), DB_TEXT(skus)}, 2, &r);
    if (e)
        return e;
    int k = 0;
    bool has;
    while (!(e = db_next(r, &has)) && has && k < nw) {
        struct ord_line *l = &lines[k++];
        memset(l, 0, sizeof *l);
        l->variant_id = db_col_i64(r, 0);
        l->product_id = db_col_i64(r, 1);
        l->stock = (int)db_col_i64(r, 2);
        l->price_cents = l->added_price_cents = db_col_i64(r, 3);
        const char *cur = db_col_text(r, 4, NULL);
        snprintf(l->currency, sizeof l->currency, "%s", cur ? cur : "");
        l->name = col_dup(req->arena, r, 5);
        l->slug = col_dup(req->arena, r, 6);
        l->sku = col_dup(req->arena, r, 7);
        l->colour = col_dup(req->arena, r, 8);
        l->size = col_dup(req->arena, r, 9);
        l->deleted = db_col_i64(r, 10) != 0;
        l->want = -1;
        if (!l->name || !l->slug || !l->sku || !l->colour || !l->size)
            e = FF_ENOMEM;
    }
    db_rows_free(r);
    if (e)
        return e;
    qsort(lines, (size_t)k, sizeof *lines, cmp_line);
    *n = k;
    return FF_OK;
}

/* Matches each request item to its line: unknown items and two items naming
 * one variant are 422 field errors (direct) or short lines (cart). */
static enum ff_err match_items(struct http_req *req, const struct ord_want *w, int nw,
                               struct ord_line *lines, int n, bool direct)
{
    bool bad = false;
    for (int i = 0; i < nw; i++) {
        struct ord_line *l = NULL;
        for (int j = 0; j < n && !l; j++)
            if (w[i].sku ? !strcmp(lines[j].sku, w[i].sku)
                         : lines[j].variant_id == w[i].variant_id)
                l = &lines[j];
        if (!l) {
            bad = true;
            if (direct)
                http_field_error(req, ff_arena_sprintf(req->arena, "items[%d].%s", i,
                                                       w[i].sku ? "sku" : "variant_id"),
                                 "no such variant");
            else
                http_field_error(req, ff_arena_sprintf(req->arena, "variants/%" PRId64,
                                                       w[i].variant_id),
                                 "%d requested, no longer sold", w[i].quantity);
            continue;
        }
        if (l->want >= 0) {
            bad = true;
            http_field_error(req, ff_arena_sprintf(req->arena, "items[%d]", i),
                             "names variant %" PRId64 " again (items[%d]): one item per variant",
                             l->variant_id, l->want);
            continue;
        }
        l->want = i;
        l->quantity = w[i].quantity;
    }
    if (!bad)
        return FF_OK;
    if (!direct)
        return http_problem_set(req, HTTP_PK_OUT_OF_STOCK, "not enough stock; see errors");
    return http_errf(req, FF_EINVAL, "some items are invalid; see errors");
}

/* One currency; every line on sale with enough stock (the rows are locked or,
 * on SQLite, the write lock is held, so this answer stands until commit). */
static enum ff_err check_lines(struct http_req *req, const struct ord_line *lines, int n)
{
    for (int i = 1; i < n; i++)
        if (strcmp(lines[i].currency, lines[0].currency)) {
            http_field_error(req, ff_arena_sprintf(req->arena, "variants/%" PRId64,
                                                   lines[i].variant_id),
                             "priced in %s, the order's first line in %s", lines[i].currency,
                             lines[0].currency);
            return http_errf(req, FF_EINVAL, "an order has one currency: it mixes %s and %s",
                             lines[0].currency, lines[i].currency);
        }
    bool short_any = false;
    for (int i = 0; i < n; i++) {
        const struct ord_line *l = &lines[i];
        if (!l->deleted && l->stock >= l->quantity)
            continue;
        http_field_error(req, ff_arena_sprintf(req->arena, "variants/%" PRId64, l->variant_id),
                         l->deleted ? "%d requested, no longer sold"
                                    : "%d requested, %d in stock",
                         l->quantity, l->stock);
        short_any = true;
    }
    if (short_any)
        return http_problem_set(req, HTTP_PK_OUT_OF_STOCK, "not enough stock for %s; see errors",
                                n > 1 ? "some lines" : "the line");
    return FF_OK;
}

/* ---- writing ------------------------------------------------------------------------- */

struct placed {
    int64_t id, user_id, total, until, now;
    const char *email;   /* arena or NULL */
    int64_t *line_ids;   /* per line */
};

/* The lines as the JSON the PostgreSQL write statement reads. */
static char *lines_json(const struct ord_line *lines, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n && a; i++) {
        const struct ord_line *l = &lines[i];
        json_array_append_new(a, json_pack("{sI sI si sI ss ss}", "v", (json_int_t)l->variant_id,
                                           "p", (json_int_t)l->product_id, "q", l->quantity,
                                           "c", (json_int_t)l->price_cents, "s", l->sku, "n",
                                           l->name));
    }
    char *t = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return t;
}

/* PostgreSQL: one statement takes the stock (rows already locked), inserts
 * the order, lines, reservations and event, and refreshes the products'
 * roll-ups; it yields one row per line (order id, email, line id). The
 * in_stock roll-up sees the statement's snapshot, so the updated variants'
 * new stock comes from the decrement's RETURNING. */
static const char *const PG_WRITE =
    "WITH w AS (SELECT * FROM json_to_recordset($1::json)"
    "   AS w(v bigint, p bigint, q int, c bigint, s text, n text)),"
    " d AS (UPDATE variants v SET stock = v.stock - w.q FROM w"
    "   WHERE v.id = ANY($11::bigint[]) AND v.id = w.v AND v.stock >= w.q"
    "   RETURNING v.id, v.product_id, v.stock),"
    " o AS (INSERT INTO orders (user_id, anon_id, status, currency, total_cents,"
    "   reserved_until, created_at, updated_at, email)"
    "   SELECT $2, $3, 'pending_payment', $4, $5, $6, $7, $7,"
    "   COALESCE($8, (SELECT email FROM users WHERE id = $2))"
    "   WHERE (SELECT COUNT(*) FROM d) = $9 RETURNING id, email),"
    " l AS (INSERT INTO order_lines (order_id, variant_id, product_id, sku, name, quantity,"
    "   unit_price_cents, currency) SELECT o.id, w.v, w.p, w.s, w.n, w.q, w.c, $4"
    "   FROM o, w ORDER BY w.v RETURNING id, variant_id),"
    " r AS (INSERT INTO stock_reservations (order_id, variant_id, quantity, expires_at)"
    "   SELECT o.id, w.v, w.q, $6 FROM o, w),"
    " pr AS (UPDATE products p SET in_stock = CASE WHEN EXISTS (SELECT 1 FROM d"
    "   WHERE d.product_id = p.id AND d.stock > 0) OR EXISTS (SELECT 1 FROM variants x"
    "   WHERE x.product_id = p.id AND x.stock > 0 AND x.id NOT IN (SELECT id FROM d))"
    "   THEN 1 ELSE 0 END, version = version + 1, updated_at = $7"
    "   WHERE p.id IN (SELECT product_id FROM d) AND EXISTS (SELECT 1 FROM o)),"
    " e AS (INSERT INTO order_events (order_id, from_status, to_status, actor, reason,"
    "   created_at) SELECT o.id, NULL, 'pending_payment', $10, 'checkout', $7 FROM o)"
    " SELECT o.id, o.email, l.id, l.variant_id FROM o, l ORDER BY l.variant_id";

static enum ff_err write_pg(struct http_req *req, struct db_conn *c, const struct ord_line *lines,
                            int n, struct placed *pl)
{
    const struct http_principal *p = http_principal(req);
    char *lj = lines_json(lines, n);
    /* the variant ids again as an array: it lets the planner find the rows by
     * index (json_to_recordset is assumed to yield 100 rows: a full scan) */
    size_t cap = (size_t)n * 21 + 3;
    char *ids = ff_arena_alloc(req->arena, cap);
    if (!lj || !ids) {
        ord__json_text_free(lj);
        return FF_ENOMEM;
    }
    size_t k0 = 0;
    ids[k0++] = '{';
    for (int i = 0; i < n; i++)
        k0 += (size_t)snprintf(ids + k0, cap - k0, "%s%" PRId64, i ? "," : "",
                               lines[i].variant_id);
    ids[k0++] = '}';
    ids[k0] = '\0';
    struct db_rows *r;
    enum ff_err e = db_query(
        c, PG_WRITE,
        (struct db_param[]){DB_TEXT(lj), p->user_id > 0 ? DB_I64(p->user_id) : DB_NULL,
                            p->user_id > 0 ? DB_NULL : DB_TEXT(p->anon_id),
                            DB_TEXT(lines[0].currency), DB_I64(pl->total), DB_I64(pl->until),
                            DB_I64(pl->now), DB_TEXT(pl->email), DB_I64(n),
                            DB_TEXT(ord__actor(req)), DB_TEXT(ids)},
        11, &r);
    ord__json_text_free(lj);
    if (e)
        return e;
    bool has;
    int k = 0;
    while (!(e = db_next(r, &has)) && has && k < n) {
        if (k == 0) {
            pl->id = db_col_i64(r, 0);
            const char *m = db_col_text(r, 1, NULL);
            pl->email = m ? ff_arena_strdup(req->arena, m) : NULL;
        }
        if (db_col_i64(r, 3) != lines[k].variant_id)
            e = FF_EINTERNAL;
        pl->line_ids[k++] = db_col_i64(r, 2);
    }
    db_rows_free(r);
    if (!e && k != n)
        e = FF_ECONFLICT; /* stock moved under a lock we hold: cannot happen; roll back */
    if (!e) {
        e = ord__event_job(c, pl->id, NULL, "pending_payment", ord__actor(req));
    }
    return e;
}

/* SQLite (the write lock is held): one statement per step. */
static enum ff_err write_sqlite(struct http_req *req, struct db_conn *c,
                                const struct ord_line *lines, int n, struct placed *pl)
{
    const struct http_principal *p = http_principal(req);
    struct db_rows *r;
    enum ff_err e = db_query(
        c,
        "INSERT INTO orders (user_id, anon_id, status, currency, total_cents, reserved_until,"
        " created_at, updated_at, email) VALUES ($1, $2, 'pending_payment', $3, $4, $5, $6, $6,"
        " COALESCE($7, (SELECT email FROM users WHERE id = $1))) RETURNING id, email",
        (struct db_param[]){p->user_id > 0 ? DB_I64(p->user_id) : DB_NULL,
                            p->user_id > 0 ? DB_NULL : DB_TEXT(p->anon_id),
                            DB_TEXT(lines[0].currency), DB_I64(pl->total), DB_I64(pl->until),
                            DB_I64(pl->now), DB_TEXT(pl->email)},
        7, &r);
    if (e)
        return e;
    bool has;
    e = db_next(r, &has);
    if (!e && has) {
        pl->id = db_col_i64(r, 0);
        const char *m = db_col_text(r, 1, NULL);
        pl->email = m ? ff_arena_strdup(req->arena, m) : NULL;
    }
    db_rows_free(r);
    if (!e && !has)
        e = FF_EINTERNAL;
    int64_t *pids = ff_arena_alloc(req->arena, sizeof *pids * (size_t)(n ? n : 1));
    if (!pids)
        return FF_ENOMEM;
    int np = 0;
    for (int i = 0; i < n && !e; i++) {
        const struct ord_line *l = &lines[i];
        int64_t changed = 0;
        e = db_exec(c, "UPDATE variants SET stock = stock - $2 WHERE id = $1 AND stock >= $2",
                    (struct db_param[]){DB_I64(l->variant_id), DB_I64(l->quantity)}, 2,
                    &changed);
        if (!e && changed != 1)
            e = FF_ECONFLICT; /* checked under the write lock: cannot happen */
        if (!e)
            e = db_query_i64(c,
                             "INSERT INTO order_lines (order_id, variant_id, product_id, sku,"
                             " name, quantity, unit_price_cents, currency) VALUES ($1, $2, $3,"
                             " $4, $5, $6, $7, $8) RETURNING id",
                             (struct db_param[]){DB_I64(pl->id), DB_I64(l->variant_id),
                                                 DB_I64(l->product_id), DB_TEXT(l->sku),
                                                 DB_TEXT(l->name), DB_I64(l->quantity),
                                                 DB_I64(l->price_cents), DB_TEXT(l->currency)},
                             8, &pl->line_ids[i]);
        if (!e)
            e = db_exec(c,
                        "INSERT INTO stock_reservations (order_id, variant_id, quantity,"
                        " expires_at) VALUES ($1, $2, $3, $4)",
                        (struct db_param[]){DB_I64(pl->id), DB_I64(l->variant_id),
                                            DB_I64(l->quantity), DB_I64(pl->until)},
                        4, NULL);
        bool seen = false;
        for (int j = 0; j < np; j++)
            seen |= pids[j] == l->product_id;
        if (!seen)
            pids[np++] = l->product_id;
    }
    qsort(pids, (size_t)np, sizeof *pids, ord__cmp_i64);
    if (!e)
        e = ord__rollup(c, pids, np, pl->now);
    if (!e)
        e = ord__event(c, pl->id, NULL, "pending_payment", ord__actor(req), "checkout", pl->now);
    return e;
}

/* The new order as GET /api/v1/orders/{id} shows it (same members, same order). */
static json_t *placed_json(const struct placed *pl, const struct ord_line *lines, int n)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_integer(pl->id));
    json_object_set_new(j, "user_id", pl->user_id > 0 ? json_integer(pl->user_id) : json_null());
    json_object_set_new(j, "status", json_string("pending_payment"));
    json_object_set_new(j, "currency", json_string(lines[0].currency));
    json_object_set_new(j, "total_cents", json_integer(pl->total));
    json_object_set_new(j, "refunded_cents", json_integer(0));
    json_object_set_new(j, "reserved_until", ord__time_json(pl->until));
    json_object_set_new(j, "carrier", json_null());
    json_object_set_new(j, "tracking", json_null());
    json_object_set_new(j, "email", pl->email ? json_string(pl->email) : json_null());
    json_object_set_new(j, "disputed", json_false());
    json_object_set_new(j, "version", json_integer(1));
    json_object_set_new(j, "created_at", ord__time_json(pl->now));
    json_object_set_new(j, "updated_at", ord__time_json(pl->now));
    json_t *a = json_array();
    json_object_set_new(j, "lines", a);
    for (int i = 0; i < n; i++) {
        const struct ord_line *l = &lines[i];
        json_array_append_new(
            a, json_pack("{sI sI sI ss ss si sI ss sI sn}", "id", (json_int_t)pl->line_ids[i],
                         "variant_id", (json_int_t)l->variant_id, "product_id",
                         (json_int_t)l->product_id, "sku", l->sku, "name", l->name, "quantity",
                         l->quantity, "unit_price_cents", (json_int_t)l->price_cents,
                         "currency", l->currency, "line_total_cents",
                         (json_int_t)(l->price_cents * l->quantity), "prescription"));
    }
    return j;
}

enum ff_err ord__place(struct orders *o, struct http_req *req, struct db_conn *c,
                       const struct ord_want *w, int nw, bool direct, const char *email,
                       int64_t *id, char **body)
{
    struct ord_line *lines = ff_arena_calloc(req->arena, (size_t)nw + 1, sizeof *lines);
    struct placed pl = {.email = email, .user_id = http_principal(req)->user_id};
    pl.line_ids = ff_arena_calloc(req->arena, (size_t)nw + 1, sizeof *pl.line_ids);
    if (!lines || !pl.line_ids)
        return FF_ENOMEM;
    int n = 0;
    enum ff_err e = read_lines(o, req, c, w, nw, lines, &n);
    if (e)
        return http_errf(req, e, "reading the variants failed");
    if ((e = match_items(req, w, nw, lines, n, direct)) || (e = check_lines(req, lines, n)))
        return e;
    for (int i = 0; i < n; i++)
        pl.total += lines[i].price_cents * lines[i].quantity;
    pl.now = db_now_ms();
    pl.until = pl.now + o->reservation_ms;
    e = db_dialect(o->db) == DB_PG ? write_pg(req, c, lines, n, &pl)
                                   : write_sqlite(req, c, lines, n, &pl);
    if (e)
        return http_errf(req, e, "writing the order failed");
    json_t *j = placed_json(&pl, lines, n);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    *body = text ? ff_arena_strdup(req->arena, text) : NULL;
    ord__json_text_free(text);
    if (!*body)
        return FF_ENOMEM;
    *id = pl.id;
    return FF_OK;
}
