/* acc_admin.c - /api/v1/me, /api/v1/admin/users, /api/v1/admin/audit,
 * /api/v1/admin/keys/rotate, the JWKS document, and route registration. */
#include <stdio.h>
#include <string.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"
#include "http/problem.h"
#include "http/validate.h"

enum ff_err acc__http_register_auth(struct http_router *r, struct acc *a); /* acc_http.c */

static enum ff_err need_user(struct http_req *req, const struct http_principal *p)
{
    if (p->user_id > 0)
        return FF_OK;
    http_problem_set(req, HTTP_PK_FORBIDDEN, "this endpoint needs a user account");
    return FF_EFORBIDDEN;
}

static enum ff_err load_user(struct acc *a, int64_t id, struct acc_user *u)
{
    struct db_conn *c = NULL;
    enum ff_err e = db_acquire(a->db, &c);
    if (!e)
        e = acc__user_by_id(c, id, u);
    db_release(c);
    return e;
}

static enum ff_err reply_user(struct http_resp *resp, const struct acc_user *u)
{
    enum ff_err e = http_resp_header(resp, "Cache-Control", "no-store");
    return e ? e : http_reply_json(resp, 200, acc__user_json(u));
}

/* ---- /me ----------------------------------------------------------------- */

static enum ff_err get_me(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    struct acc_user u;
    enum ff_err e = need_user(req, p);
    if (!e)
        e = load_user(a, p->user_id, &u);
    return e ? e : reply_user(resp, &u);
}

static const struct http_field patch_me_fields[] = {
    {"display_name", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 100},
};
static const struct http_schema patch_me_schema = HTTP_SCHEMA(patch_me_fields);

static enum ff_err patch_me(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    json_t *body;
    struct acc_user u;
    enum ff_err e = need_user(req, p);
    if (e || (e = http_json_body(req, &patch_me_schema, &body)))
        return e;
    struct db_conn *c = NULL;
    e = db_acquire(a->db, &c);
    if (!e)
        e = db_exec(c, "UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3",
                    (struct db_param[]){DB_TEXT(json_string_value(json_object_get(body,
                                                                                  "display_name"))),
                                        DB_I64(db_now_ms()), DB_I64(p->user_id)},
                    3, NULL);
    if (!e)
        e = acc__user_by_id(c, p->user_id, &u);
    db_release(c);
    return e ? e : reply_user(resp, &u);
}

static const struct http_field delete_me_fields[] = {
    {"password", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 4096},
};
static const struct http_schema delete_me_schema = HTTP_SCHEMA(delete_me_fields);

static enum ff_err delete_me(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    json_t *body;
    struct acc_user u;
    enum ff_err e = need_user(req, p);
    if (e || (e = acc__secret_body(req, &delete_me_schema, &body)) ||
        (e = load_user(a, p->user_id, &u)))
        return e;
    json_t *pw = json_object_get(body, "password");
    if (!acc__pw_verify(a, u.hash, json_string_value(pw), json_string_length(pw), NULL))
        return http_field_error(req, "password", "is not your current password");
    char masked[ACC_EMAIL_MAX + 8];
    acc__email_mask(u.email, masked, sizeof masked);
    json_t *d = json_pack("{s:s,s:s}", "email", masked, "role", http_role_name(u.role));
    struct db_tx tx = DB_TX_INIT;
    e = db_begin(a->db, &tx);
    if (!e)
        e = acc__audit(tx.conn, req, "account_deleted", u.id, u.id, d);
    /* the account's try-on photos go with it: their sessions expire now (invisible at
     * once; the hourly "tryon.expire" sweep deletes the photos and renders). The face
     * profile goes by ON DELETE CASCADE. */
    if (!e)
        e = db_exec(tx.conn, "UPDATE tryon_sessions SET expires_at = 0 WHERE user_id = $1",
                    (struct db_param[]){DB_I64(u.id)}, 1, NULL);
    if (!e)
        e = db_exec(tx.conn, "DELETE FROM users WHERE id = $1",
                    (struct db_param[]){DB_I64(u.id)}, 1, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    json_decref(d);
    acc__scache_forget_all(a);
    if (!e && p->via_cookie)
        e = acc__set_cookies(a, resp, NULL, NULL, NULL);
    if (!e)
        http_reply_empty(resp, 204);
    return e;
}

/* ---- /me/sessions ---------------------------------------------------------- */

static enum ff_err get_sessions(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    enum ff_err e = need_user(req, p);
    if (e)
        return e;
    struct db_conn *c = NULL;
    struct db_rows *rows = NULL;
    json_t *items = json_array();
    e = items ? db_acquire(a->db, &c) : FF_ENOMEM;
    if (!e)
        e = db_query(c,
                     "SELECT id, device, ip, user_agent, created_at, last_used_at FROM sessions"
                     " WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2"
                     " ORDER BY last_used_at DESC LIMIT 100",
                     (struct db_param[]){DB_I64(p->user_id), DB_I64(db_now_ms())}, 2, &rows);
    bool has;
    while (!e && !(e = db_next(rows, &has)) && has) {
        const char *sid = db_col_text(rows, 0, NULL);
        json_array_append_new(
            items, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "id", sid, "device",
                             db_col_text(rows, 1, NULL), "ip", db_col_text(rows, 2, NULL),
                             "user_agent", db_col_text(rows, 3, NULL), "created_at",
                             (json_int_t)db_col_i64(rows, 4), "last_used_at",
                             (json_int_t)db_col_i64(rows, 5), "current",
                             p->session_id && !strcmp(p->session_id, sid)));
    }
    db_rows_free(rows);
    db_release(c);
    if (e) {
        json_decref(items);
        return e;
    }
    if ((e = http_resp_header(resp, "Cache-Control", "no-store"))) {
        json_decref(items);
        return e;
    }
    return http_reply_json(resp, 200, json_pack("{s:o}", "items", items));
}

static enum ff_err delete_session(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    const char *sid = http_param(req, "id");
    enum ff_err e = need_user(req, p);
    if (e)
        return e;
    if (!sid || strlen(sid) >= ACC_SID_LEN)
        return http_errf(req, FF_ENOTFOUND, "no such session");
    struct db_tx tx = DB_TX_INIT;
    int64_t n = 0;
    e = db_begin(a->db, &tx);
    if (!e)
        e = db_query_i64(tx.conn,
                         "SELECT count(*) FROM sessions WHERE id = $1 AND user_id = $2"
                         " AND revoked_at IS NULL",
                         (struct db_param[]){DB_TEXT(sid), DB_I64(p->user_id)}, 2, &n);
    if (!e && !n)
        e = http_errf(req, FF_ENOTFOUND, "no such session");
    if (!e)
        e = acc__revoke(tx.conn, p->user_id, sid, "revoked-by-user");
    json_t *d = json_pack("{s:s}", "session", sid);
    if (!e)
        e = acc__audit(tx.conn, req, "session_revoked", p->user_id, p->user_id, d);
    json_decref(d);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    acc__scache_forget_all(a);
    if (!e)
        http_reply_empty(resp, 204);
    return e;
}

/* ---- admin: users --------------------------------------------------------- */

static enum ff_err get_users(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    int64_t limit = 50, after = 0;
    if (http_query_i64(req, "limit", 1, 200, &limit, NULL) ||
        http_query_i64(req, "after", 0, INT64_MAX, &after, NULL))
        return FF_EINVAL;
    const char *role = http_query(req, "role");
    const char *q = http_query(req, "email");
    if (role && http_role_parse(role) == HTTP_ROLE_NONE)
        return http_field_error(req, "role", "must be customer, staff or admin");
    if (q && strlen(q) > 254)
        return http_field_error(req, "email", "must be at most 254 characters");
    char *prefix = q ? ff_arena_sprintf(req->arena, "%s%%", q) : NULL;
    struct db_conn *c = NULL;
    struct db_rows *rows = NULL;
    json_t *items = json_array();
    int64_t last = 0;
    enum ff_err e = items ? db_acquire(a->db, &c) : FF_ENOMEM;
    if (!e)
        e = db_query(c,
                     "SELECT id, email, password_hash, role, display_name, email_verified_at,"
                     " disabled_at, created_at FROM users WHERE id > $1"
                     " AND (CAST($2 AS TEXT) IS NULL OR role = $2)"
                     " AND (CAST($3 AS TEXT) IS NULL OR email LIKE $3)"
                     " ORDER BY id LIMIT $4",
                     (struct db_param[]){DB_I64(after), DB_TEXT(role), DB_TEXT(prefix),
                                         DB_I64(limit)},
                     4, &rows);
    bool has;
    while (!e && !(e = db_next(rows, &has)) && has) {
        struct acc_user u = {.id = db_col_i64(rows, 0)};
        snprintf(u.email, sizeof u.email, "%s", db_col_text(rows, 1, NULL));
        u.role = http_role_parse(db_col_text(rows, 3, NULL));
        snprintf(u.display_name, sizeof u.display_name, "%s", db_col_text(rows, 4, NULL));
        u.verified_at = db_col_i64(rows, 5);
        u.disabled_at = db_col_i64(rows, 6);
        u.created_at = db_col_i64(rows, 7);
        json_array_append_new(items, acc__user_json(&u));
        last = u.id;
    }
    db_rows_free(rows);
    db_release(c);
    if (e) {
        json_decref(items);
        return e;
    }
    json_t *next = (int64_t)json_array_size(items) == limit ? json_integer(last) : json_null();
    return http_reply_json(resp, 200, json_pack("{s:o,s:o}", "items", items, "next_after", next));
}

static const char *const roles[] = {"customer", "staff", "admin", NULL};
static const struct http_field patch_user_fields[] = {
    {"role", HTTP_T_STRING, 0, .enum_values = roles},
    {.name = "disabled", .type = HTTP_T_BOOL},
};
static const struct http_schema patch_user_schema = HTTP_SCHEMA(patch_user_fields);

static enum ff_err patch_user(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    int64_t id;
    json_t *body;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    enum ff_err e = http_json_body(req, &patch_user_schema, &body);
    if (e)
        return e;
    const char *role = json_string_value(json_object_get(body, "role"));
    json_t *dis = json_object_get(body, "disabled");
    if (id == p->user_id && ((role && strcmp(role, "admin")) || json_is_true(dis)))
        return http_problem_set(req, HTTP_PK_CONFLICT,
                                "admins cannot demote or disable themselves");
    struct db_tx tx = DB_TX_INIT;
    struct acc_user u;
    int64_t now = db_now_ms();
    e = db_begin(a->db, &tx);
    if (!e)
        e = acc__user_by_id(tx.conn, id, &u);
    if (!e && role && http_role_parse(role) != u.role) {
        json_t *d = json_pack("{s:s,s:s}", "from", http_role_name(u.role), "to", role);
        e = db_exec(tx.conn, "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3",
                    (struct db_param[]){DB_TEXT(role), DB_I64(now), DB_I64(id)}, 3, NULL);
        if (!e)
            e = acc__audit(tx.conn, req, "role_changed", p->user_id, id, d);
        json_decref(d);
    }
    if (!e && json_is_boolean(dis) && json_is_true(dis) != (u.disabled_at != 0)) {
        bool off = json_is_true(dis);
        e = db_exec(tx.conn, "UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3",
                    (struct db_param[]){off ? DB_I64(now) : DB_NULL, DB_I64(now), DB_I64(id)}, 3,
                    NULL);
        if (!e && off)
            e = acc__revoke(tx.conn, id, NULL, "disabled");
        if (!e)
            e = acc__audit(tx.conn, req, off ? "user_disabled" : "user_enabled", p->user_id, id,
                           NULL);
    }
    if (!e)
        e = acc__user_by_id(tx.conn, id, &u);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    acc__scache_forget_all(a);
    return e ? e : reply_user(resp, &u);
}

static enum ff_err post_rotate(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    char kid[ACC_KID_LEN];
    enum ff_err e = acc__ring_rotate(a, kid, sizeof kid);
    struct db_conn *c = NULL;
    json_t *d = json_pack("{s:s}", "kid", kid);
    if (!e)
        e = db_acquire(a->db, &c);
    if (!e)
        e = acc__audit(c, req, "keys_rotated", http_principal(req)->user_id, 0, d);
    db_release(c);
    json_decref(d);
    return e ? e : http_reply_json(resp, 201, json_pack("{s:s}", "kid", kid));
}

/* ---- audit --------------------------------------------------------------- */

static enum ff_err get_audit(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    int64_t limit = 50, before = INT64_MAX, subject = 0, actor = 0;
    bool has_s = false, has_a = false;
    if (http_query_i64(req, "limit", 1, 500, &limit, NULL) ||
        http_query_i64(req, "before", 1, INT64_MAX, &before, NULL) ||
        http_query_i64(req, "subject_id", 1, INT64_MAX, &subject, &has_s) ||
        http_query_i64(req, "actor_id", 1, INT64_MAX, &actor, &has_a))
        return FF_EINVAL;
    const char *event = http_query(req, "event");
    if (event && strlen(event) > 64)
        return http_field_error(req, "event", "must be at most 64 characters");
    struct db_conn *c = NULL;
    struct db_rows *rows = NULL;
    json_t *items = json_array();
    int64_t last = 0;
    enum ff_err e = items ? db_acquire(a->db, &c) : FF_ENOMEM;
    if (!e)
        e = db_query(c,
                     "SELECT id, at, event, actor_id, subject_id, ip, user_agent, detail"
                     " FROM audit_log WHERE id < $1 AND (CAST($2 AS TEXT) IS NULL OR event = $2)"
                     " AND (CAST($3 AS BIGINT) IS NULL OR subject_id = $3)"
                     " AND (CAST($4 AS BIGINT) IS NULL OR actor_id = $4)"
                     " ORDER BY id DESC LIMIT $5",
                     (struct db_param[]){DB_I64(before), DB_TEXT(event),
                                         has_s ? DB_I64(subject) : DB_NULL,
                                         has_a ? DB_I64(actor) : DB_NULL, DB_I64(limit)},
                     5, &rows);
    bool has;
    while (!e && !(e = db_next(rows, &has)) && has) {
        last = db_col_i64(rows, 0);
        json_t *detail = json_loads(db_col_text(rows, 7, NULL), 0, NULL);
        json_array_append_new(
            items,
            json_pack("{s:I,s:I,s:s,s:o,s:o,s:s,s:s,s:o}", "id", (json_int_t)last, "at",
                      (json_int_t)db_col_i64(rows, 1), "event", db_col_text(rows, 2, NULL),
                      "actor_id",
                      db_col_null(rows, 3) ? json_null() : json_integer(db_col_i64(rows, 3)),
                      "subject_id",
                      db_col_null(rows, 4) ? json_null() : json_integer(db_col_i64(rows, 4)),
                      "ip", db_col_text(rows, 5, NULL), "user_agent", db_col_text(rows, 6, NULL),
                      "detail", detail ? detail : json_object()));
    }
    db_rows_free(rows);
    db_release(c);
    if (e) {
        json_decref(items);
        return e;
    }
    json_t *next = (int64_t)json_array_size(items) == limit ? json_integer(last) : json_null();
    return http_reply_json(resp, 200, json_pack("{s:o,s:o}", "items", items, "next_before", next));
}

/* ---- JWKS and the test mailbox ---------------------------------------------- */

static enum ff_err get_jwks(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    json_t *j = acc__jwks(a);
    if (!j)
        return FF_ENOMEM;
    enum ff_err e = http_resp_header(resp, "Cache-Control", "public, max-age=300");
    if (e) {
        json_decref(j);
        return e;
    }
    return http_reply_json(resp, 200, j);
}

/* GET /__test/accounts/mail?to=ADDR (FRAMEFIT_TEST_ROUTES=1 only). */
static enum ff_err get_test_mail(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const char *to = http_query(req, "to");
    json_t *out = json_array();
    pthread_mutex_lock(&a->mail_mu);
    size_t i;
    json_t *m;
    json_array_foreach(a->test_mail, i, m)
    {
        if (!to || !strcmp(json_string_value(json_object_get(m, "to")), to))
            json_array_append(out, m);
    }
    pthread_mutex_unlock(&a->mail_mu);
    return http_reply_json(resp, 200, out);
}

enum ff_err acc_http_register(struct http_router *r, struct acc *a)
{
    enum ff_err e = acc__http_register_auth(r, a);
    unsigned ne = HTTP_ROUTE_NO_ETAG;
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/me", get_me, a, HTTP_ROUTE_AUTH | ne);
    if (!e)
        e = http_route_add(r, HTTP_PATCH, "/api/v1/me", patch_me, a, HTTP_ROUTE_AUTH | ne);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/me", delete_me, a,
                           HTTP_ROUTE_AUTH | HTTP_ROUTE_HEAVY | ne);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/me/sessions", get_sessions, a,
                           HTTP_ROUTE_AUTH | ne);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/me/sessions/{id}", delete_session, a,
                           HTTP_ROUTE_AUTH | ne);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/admin/users", get_users, a,
                           HTTP_ROUTE_ADMIN | ne);
    if (!e)
        e = http_route_add(r, HTTP_PATCH, "/api/v1/admin/users/{id}", patch_user, a,
                           HTTP_ROUTE_ADMIN | ne);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/admin/keys/rotate", post_rotate, a,
                           HTTP_ROUTE_ADMIN | ne);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/admin/audit", get_audit, a,
                           HTTP_ROUTE_STAFF | ne);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/.well-known/jwks.json", get_jwks, a, 0);
    if (!e && a && a->test_mail)
        e = http_route_add(r, HTTP_GET, "/__test/accounts/mail", get_test_mail, a, ne);
    return e;
}
