/* acc_users.c - users, sessions and refresh tokens in the database, and the
 * token reply shared by login and refresh. */
#include <stdio.h>
#include <string.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"

#define USER_COLS \
    "id, email, password_hash, role, display_name, email_verified_at, disabled_at, created_at"

static enum ff_err user_query(struct db_conn *c, const char *sql, struct db_param p,
                              struct acc_user *u)
{
    struct db_rows *rows = NULL;
    bool has = false;
    enum ff_err e = db_query(c, sql, &p, 1, &rows);
    if (!e)
        e = db_next(rows, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e) {
        memset(u, 0, sizeof *u);
        u->id = db_col_i64(rows, 0);
        snprintf(u->email, sizeof u->email, "%s", db_col_text(rows, 1, NULL));
        snprintf(u->hash, sizeof u->hash, "%s", db_col_text(rows, 2, NULL));
        u->role = http_role_parse(db_col_text(rows, 3, NULL));
        snprintf(u->display_name, sizeof u->display_name, "%s", db_col_text(rows, 4, NULL));
        u->verified_at = db_col_i64(rows, 5);
        u->disabled_at = db_col_i64(rows, 6);
        u->created_at = db_col_i64(rows, 7);
    }
    db_rows_free(rows);
    return e;
}

enum ff_err acc__user_by_id(struct db_conn *c, int64_t id, struct acc_user *u)
{
    return user_query(c, "SELECT " USER_COLS " FROM users WHERE id = $1", DB_I64(id), u);
}

enum ff_err acc__user_by_email(struct db_conn *c, const char *email, struct acc_user *u)
{
    return user_query(c, "SELECT " USER_COLS " FROM users WHERE email = $1", DB_TEXT(email), u);
}

json_t *acc__user_json(const struct acc_user *u)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:b,s:b,s:I}", "id", (json_int_t)u->id, "email",
                     u->email, "role", http_role_name(u->role), "display_name", u->display_name,
                     "email_verified", u->verified_at != 0, "disabled", u->disabled_at != 0,
                     "created_at", (json_int_t)u->created_at);
}

enum ff_err acc__revoke(struct db_conn *c, int64_t uid, const char *sid, const char *reason)
{
    int64_t now = db_now_ms();
    if (sid)
        return db_exec(c,
                       "UPDATE sessions SET revoked_at = $1, revoke_reason = $2"
                       " WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL",
                       (struct db_param[]){DB_I64(now), DB_TEXT(reason), DB_TEXT(sid),
                                           DB_I64(uid)},
                       4, NULL);
    return db_exec(c,
                   "UPDATE sessions SET revoked_at = $1, revoke_reason = $2"
                   " WHERE user_id = $3 AND revoked_at IS NULL",
                   (struct db_param[]){DB_I64(now), DB_TEXT(reason), DB_I64(uid)}, 3, NULL);
}

enum ff_err acc__session_create(struct acc *a, struct db_conn *c, struct http_req *req,
                                int64_t uid, const char *device, char sid[ACC_SID_LEN],
                                char refresh[ACC_TOKEN_B64], bool *new_device)
{
    const char *ua = http_header(req, "User-Agent");
    size_t ual = ua ? strnlen(ua, 256) : 0;
    int64_t now = db_now_ms(), seen = 0, any = 0;
    enum ff_err e = db_query_i64(c, "SELECT count(*) FROM sessions WHERE user_id = $1",
                                 (struct db_param[]){DB_I64(uid)}, 1, &any);
    if (!e)
        e = db_query_i64(c,
                         "SELECT count(*) FROM sessions WHERE user_id = $1 AND ip = $2"
                         " AND user_agent = $3",
                         (struct db_param[]){DB_I64(uid), DB_TEXT(req->client_ip),
                                             DB_TEXTN(ua ? ua : "", ual)},
                         3, &seen);
    *new_device = any > 0 && seen == 0;
    acc__sid_new(sid);
    acc__token_new(refresh);
    char h[ACC_HASH_HEX];
    acc__token_hash(refresh, h);
    if (!e)
        e = db_exec(c,
                    "INSERT INTO sessions (id, user_id, device, ip, user_agent, created_at,"
                    " last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
                    (struct db_param[]){DB_TEXT(sid), DB_I64(uid), DB_TEXT(device ? device : ""),
                                        DB_TEXT(req->client_ip), DB_TEXTN(ua ? ua : "", ual),
                                        DB_I64(now),
                                        DB_I64(now + (int64_t)a->refresh_ttl_s * 1000)},
                    7, NULL);
    if (!e)
        e = db_exec(c,
                    "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)",
                    (struct db_param[]){DB_TEXT(h), DB_TEXT(sid), DB_I64(now)}, 3, NULL);
    return e;
}

static void wipe_json(void *p)
{
    static const char *const secret[] = {"password", "current_password", "new_password",
                                         "refresh_token", "token"};
    json_t *j = p;
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        json_t *v = json_object_get(j, secret[i]);
        if (json_is_string(v) && json_string_length(v))
            sodium_memzero((char *)json_string_value(v), json_string_length(v));
    }
}

enum ff_err acc__secret_body(struct http_req *req, const struct http_schema *s, json_t **out)
{
    enum ff_err e = http_json_body(req, s, out);
    if (req->body_len) /* the server's own buffer: not needed once parsed */
        sodium_memzero((char *)req->body, req->body_len);
    /* hooks run last-in first-out: this one before the body's json_decref */
    if (!e && ff_arena_on_release(req->arena, wipe_json, *out))
        e = FF_ENOMEM;
    return e;
}

static enum ff_err cookie(struct acc *a, struct http_resp *resp, const char *name,
                          const char *value, const char *path, int max_age, bool http_only,
                          const char *same_site)
{
    char buf[4608];
    int n = snprintf(buf, sizeof buf, "%s=%s; Path=%s; Max-Age=%d; SameSite=%s%s%s", name, value,
                     path, max_age, same_site, http_only ? "; HttpOnly" : "",
                     a->cookie_secure ? "; Secure" : "");
    if (n < 0 || (size_t)n >= sizeof buf)
        return FF_ETOOBIG;
    return http_resp_header(resp, "Set-Cookie", buf);
}

enum ff_err acc__set_cookies(struct acc *a, struct http_resp *resp, const char *access,
                             const char *refresh, const char *sid)
{
    char csrf[ACC_TOKEN_B64] = "";
    if (sid)
        acc__csrf_for(a, sid, csrf);
    bool clear = !access;
    enum ff_err e = cookie(a, resp, "ff_access", clear ? "" : access, "/",
                           clear ? 0 : a->access_ttl_s, true, "Lax");
    if (!e)
        e = cookie(a, resp, "ff_refresh", clear ? "" : refresh, "/api/v1/auth",
                   clear ? 0 : a->refresh_ttl_s, true, "Strict");
    if (!e)
        e = cookie(a, resp, "ff_csrf", clear ? "" : csrf, "/", clear ? 0 : a->refresh_ttl_s,
                   false, "Strict");
    return e;
}

enum ff_err acc__reply_tokens(struct acc *a, struct http_resp *resp, const struct acc_user *u,
                              const char *sid, const char *refresh, bool as_cookie)
{
    char *jwt = NULL;
    enum ff_err e = acc__jwt_sign(a, u->id, u->role, sid, &jwt);
    if (e)
        return e;
    json_t *j = json_pack("{s:s,s:s,s:i,s:s,s:o}", "access_token", jwt, "token_type", "Bearer",
                          "expires_in", a->access_ttl_s, "session_id", sid, "user",
                          acc__user_json(u));
    if (j && as_cookie) {
        char csrf[ACC_TOKEN_B64];
        acc__csrf_for(a, sid, csrf);
        json_object_set_new(j, "csrf_token", json_string(csrf));
        e = acc__set_cookies(a, resp, jwt, refresh, sid);
    } else if (j) {
        json_object_set_new(j, "refresh_token", json_string(refresh));
    }
    ff_free(jwt);
    if (!j)
        return FF_ENOMEM;
    if (e) {
        json_decref(j);
        return e;
    }
    if ((e = http_resp_header(resp, "Cache-Control", "no-store"))) {
        json_decref(j);
        return e;
    }
    return http_reply_json(resp, 200, j);
}
