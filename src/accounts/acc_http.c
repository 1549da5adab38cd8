/* acc_http.c - /api/v1/auth/...: register, verify, login, refresh, logout,
 * password change, forgotten password and reset. */
#include <stdio.h>
#include <string.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"
#include "http/problem.h"
#include "http/validate.h"

#define LOCK_AFTER 5          /* failures before the first lock */
#define LOCK_BASE_S 30        /* first lock; doubles with each further failure */
#define LOCK_MAX_S 3600

/* ---- shared helpers ------------------------------------------------------- */

static enum ff_err limit_ip(struct acc *a, struct http_req *req, struct http_resp *resp)
{
    if (a->auth_ip_off)
        return FF_OK;
    return acc__limit(a, req, resp, &a->pol_auth_ip, req->client_ip, true);
}

/* Per-account key: a MAC of the normalised email (no addresses in Redis). */
static void account_key(struct acc *a, const char *email, char out[ACC_HASH_HEX])
{
    unsigned char mac[FF_SECRET_MAC_BYTES];
    ff_secret_mac(a->secret, "acct-key", email, strlen(email), mac);
    sodium_bin2hex(out, ACC_HASH_HEX, mac, 16);
}

static enum ff_err limit_account(struct acc *a, struct http_req *req, struct http_resp *resp,
                                 const char *key)
{
    if (a->auth_account_off)
        return FF_OK;
    return acc__limit(a, req, resp, &a->pol_auth_account, key, false);
}

/* Reads a string field already validated by the schema; "" when absent. */
static const char *str_field(json_t *body, const char *name, size_t *len)
{
    json_t *v = json_object_get(body, name);
    if (len)
        *len = json_is_string(v) ? json_string_length(v) : 0;
    return json_is_string(v) ? json_string_value(v) : "";
}

static enum ff_err email_field(struct http_req *req, json_t *body, char out[ACC_EMAIL_MAX + 1])
{
    size_t n;
    const char *s = str_field(body, "email", &n);
    const char *bad = acc__email_norm(s, n, out);
    return bad ? http_field_error(req, "email", "%s", bad) : FF_OK;
}

static enum ff_err new_password_field(struct http_req *req, json_t *body, const char *field,
                                      const char *email)
{
    size_t n;
    const char *pw = str_field(body, field, &n);
    const char *bad = acc__pw_weak(pw, n, email);
    return bad ? http_field_error(req, field, "%s", bad) : FF_OK;
}

static char *link(struct acc *a, struct http_req *req, const char *path, const char *token)
{
    return ff_arena_sprintf(req->arena, "%s%s?token=%s", a->public_url, path, token);
}

/* An email token: stored hashed, single use, expiring. */
static enum ff_err email_token(struct db_conn *c, int64_t uid, const char *purpose, int ttl_s,
                               char tok[ACC_TOKEN_B64])
{
    char h[ACC_HASH_HEX];
    int64_t now = db_now_ms();
    acc__token_new(tok);
    acc__token_hash(tok, h);
    return db_exec(c,
                   "INSERT INTO account_tokens (hash, user_id, purpose, created_at, expires_at)"
                   " VALUES ($1, $2, $3, $4, $5)",
                   (struct db_param[]){DB_TEXT(h), DB_I64(uid), DB_TEXT(purpose), DB_I64(now),
                                       DB_I64(now + (int64_t)ttl_s * 1000)},
                   5, NULL);
}

/* Consumes an email token: *uid of its user, FF_EINVAL (422 "token") when
 * unknown, used or expired. */
static enum ff_err use_token(struct http_req *req, struct db_conn *c, const char *purpose,
                             const char *tok, int64_t *uid)
{
    char h[ACC_HASH_HEX];
    int64_t now = db_now_ms(), changed = 0;
    acc__token_hash(tok, h);
    enum ff_err e = db_query_i64(c,
                                 "SELECT user_id FROM account_tokens WHERE hash = $1 AND"
                                 " purpose = $2 AND used_at IS NULL AND expires_at > $3",
                                 (struct db_param[]){DB_TEXT(h), DB_TEXT(purpose), DB_I64(now)},
                                 3, uid);
    if (!e)
        e = db_exec(c, "UPDATE account_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL",
                    (struct db_param[]){DB_I64(now), DB_TEXT(h)}, 2, &changed);
    if (e == FF_ENOTFOUND || (!e && changed != 1))
        return http_field_error(req, "token", "is invalid, already used or expired");
    return e;
}

/* ---- register and verify --------------------------------------------------- */

static const struct http_field register_fields[] = {
    {"email", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 320},
    {"password", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 4096},
    {"display_name", HTTP_T_STRING, 0, .max_len = 100},
};
static const struct http_schema register_schema = HTTP_SCHEMA(register_fields);

/* The same answer whether the email is new or taken (no enumeration): the
 * owner of a taken address gets an email saying someone tried. */
static enum ff_err post_register(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    json_t *body;
    char email[ACC_EMAIL_MAX + 1], hash[crypto_pwhash_STRBYTES], tok[ACC_TOKEN_B64];
    enum ff_err e = limit_ip(a, req, resp);
    if (e || (e = acc__secret_body(req, &register_schema, &body)))
        return e;
    e = email_field(req, body, email);
    if (new_password_field(req, body, "password", e ? NULL : email) || e)
        return FF_EINVAL;
    size_t pwl;
    const char *pw = str_field(body, "password", &pwl);
    if ((e = acc__pw_hash(a, pw, pwl, hash)))
        return e;
    struct db_tx tx = DB_TX_INIT;
    int64_t now = db_now_ms(), uid = 0;
    struct acc_user u;
    e = db_begin(a->db, &tx);
    enum ff_err found = e ? e : acc__user_by_email(tx.conn, email, &u);
    if (!e && found == FF_OK) {
        e = acc__mail_notice(a, tx.conn, req, email, u.display_name, ACC_NOTICE_ACCOUNT_EXISTS);
    } else if (!e && found == FF_ENOTFOUND) {
        e = db_exec(tx.conn,
                    "INSERT INTO users (email, password_hash, display_name, created_at,"
                    " updated_at) VALUES ($1, $2, $3, $4, $4)",
                    (struct db_param[]){DB_TEXT(email), DB_TEXT(hash),
                                        DB_TEXT(str_field(body, "display_name", NULL)),
                                        DB_I64(now)},
                    4, NULL);
        if (!e)
            e = db_query_i64(tx.conn, "SELECT id FROM users WHERE email = $1",
                             (struct db_param[]){DB_TEXT(email)}, 1, &uid);
        if (!e)
            e = email_token(tx.conn, uid, "verify", ACC_VERIFY_TTL_S, tok);
        if (!e)
            e = acc__mail_verify(a, tx.conn, email, str_field(body, "display_name", NULL),
                                 link(a, req, "/verify-email", tok));
        json_t *d = json_pack("{s:s}", "via", "register");
        if (!e)
            e = acc__audit(tx.conn, req, "user_registered", uid, uid, d);
        json_decref(d);
    } else if (!e) {
        e = found;
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    sodium_memzero(hash, sizeof hash);
    sodium_memzero(tok, sizeof tok);
    if (e == FF_ECONFLICT) /* a concurrent registration of the same address */
        e = FF_OK;
    if (e)
        return e;
    return http_reply_json(resp, 202,
                           json_pack("{s:s,s:s}", "status", "pending",
                                     "detail", "check your inbox to verify the address"));
}

static const struct http_field token_fields[] = {
    {"token", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 128},
};
static const struct http_schema token_schema = HTTP_SCHEMA(token_fields);

static enum ff_err post_verify(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    json_t *body;
    enum ff_err e = limit_ip(a, req, resp);
    if (e || (e = acc__secret_body(req, &token_schema, &body)))
        return e;
    struct db_tx tx = DB_TX_INIT;
    int64_t uid = 0;
    e = db_begin(a->db, &tx);
    if (!e)
        e = use_token(req, tx.conn, "verify", str_field(body, "token", NULL), &uid);
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1),"
                    " updated_at = $1 WHERE id = $2",
                    (struct db_param[]){DB_I64(db_now_ms()), DB_I64(uid)}, 2, NULL);
    if (!e)
        e = acc__audit(tx.conn, req, "email_verified", uid, uid, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e)
        return e;
    return http_reply_json(resp, 200, json_pack("{s:b}", "email_verified", 1));
}

/* ---- login --------------------------------------------------------------- */

static const struct http_field login_fields[] = {
    {"email", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 320},
    {"password", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 4096},
    {"device", HTTP_T_STRING, 0, .max_len = 100},
    {.name = "cookie", .type = HTTP_T_BOOL},
};
static const struct http_schema login_schema = HTTP_SCHEMA(login_fields);

/* Locked? *retry_s > 0 says for how long. Same for known and unknown emails. */
static enum ff_err lock_state(struct db_conn *c, const char *key, int64_t *retry_s)
{
    struct db_rows *rows = NULL;
    bool has = false;
    *retry_s = 0;
    enum ff_err e = db_query(c, "SELECT locked_until FROM login_failures WHERE key = $1",
                             (struct db_param[]){DB_TEXT(key)}, 1, &rows);
    if (!e)
        e = db_next(rows, &has);
    int64_t now = db_now_ms();
    if (!e && has && db_col_i64(rows, 0) > now)
        *retry_s = (db_col_i64(rows, 0) - now + 999) / 1000;
    db_rows_free(rows);
    return e;
}

static enum ff_err record_failure(struct db_conn *c, const char *key)
{
    int64_t now = db_now_ms(), n = 0;
    enum ff_err e = db_exec(c,
                            "INSERT INTO login_failures (key, failures, locked_until, updated_at)"
                            " VALUES ($1, 1, 0, $2) ON CONFLICT (key) DO UPDATE SET"
                            " failures = login_failures.failures + 1, updated_at = $2",
                            (struct db_param[]){DB_TEXT(key), DB_I64(now)}, 2, NULL);
    if (!e)
        e = db_query_i64(c, "SELECT failures FROM login_failures WHERE key = $1",
                         (struct db_param[]){DB_TEXT(key)}, 1, &n);
    if (!e && n >= LOCK_AFTER) {
        int64_t s = LOCK_BASE_S;
        for (int64_t i = LOCK_AFTER; i < n && s < LOCK_MAX_S; i++)
            s *= 2;
        if (s > LOCK_MAX_S)
            s = LOCK_MAX_S;
        e = db_exec(c, "UPDATE login_failures SET locked_until = $1 WHERE key = $2",
                    (struct db_param[]){DB_I64(now + s * 1000), DB_TEXT(key)}, 2, NULL);
    }
    return e;
}

static enum ff_err locked_reply(struct http_req *req, struct http_resp *resp, int64_t retry_s)
{
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", (long long)retry_s);
    enum ff_err e = http_resp_header(resp, "Retry-After", ra);
    if (e)
        return e;
    http_problem_set(req, HTTP_PK_TOO_MANY_REQUESTS,
                     "too many failed sign-ins for this account; retry in %lld s",
                     (long long)retry_s);
    return FF_EFORBIDDEN;
}

static enum ff_err bad_credentials(struct http_req *req)
{
    http_problem_set(req, HTTP_PK_UNAUTHORIZED, "invalid email or password");
    return FF_EAUTH;
}

static enum ff_err login_commit(struct acc *a, struct http_req *req, struct acc_user *u,
                                const char *key, const char *device, bool rehash,
                                const char *pw, size_t pwl, char sid[ACC_SID_LEN],
                                char refresh[ACC_TOKEN_B64])
{
    char nh[crypto_pwhash_STRBYTES];
    enum ff_err e = rehash ? acc__pw_hash(a, pw, pwl, nh) : FF_OK;
    struct db_tx tx = DB_TX_INIT;
    bool new_device = false;
    if (!e)
        e = db_begin(a->db, &tx);
    if (!e)
        e = db_exec(tx.conn, "DELETE FROM login_failures WHERE key = $1",
                    (struct db_param[]){DB_TEXT(key)}, 1, NULL);
    if (!e && rehash)
        e = db_exec(tx.conn, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
                    (struct db_param[]){DB_TEXT(nh), DB_I64(db_now_ms()), DB_I64(u->id)}, 3,
                    NULL);
    if (!e)
        e = acc__session_create(a, tx.conn, req, u->id, device, sid, refresh, &new_device);
    json_t *d = json_pack("{s:s,s:b}", "session", sid, "rehashed", rehash);
    if (!e)
        e = acc__audit(tx.conn, req, "login_success", u->id, u->id, d);
    json_decref(d);
    if (!e && new_device)
        e = acc__mail_notice(a, tx.conn, req, u->email, u->display_name, ACC_NOTICE_NEW_SIGN_IN);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    sodium_memzero(nh, sizeof nh);
    return e;
}

static enum ff_err post_login(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    json_t *body;
    char email[ACC_EMAIL_MAX + 1], key[ACC_HASH_HEX], sid[ACC_SID_LEN], refresh[ACC_TOKEN_B64];
    enum ff_err e = limit_ip(a, req, resp);
    if (e || (e = acc__secret_body(req, &login_schema, &body)))
        return e;
    if ((e = email_field(req, body, email)))
        return e;
    account_key(a, email, key);
    if ((e = limit_account(a, req, resp, key)))
        return e;
    size_t pwl;
    const char *pw = str_field(body, "password", &pwl);
    struct db_conn *c = NULL;
    struct acc_user u;
    int64_t retry_s = 0;
    e = db_acquire(a->db, &c);
    if (!e)
        e = lock_state(c, key, &retry_s);
    enum ff_err found = e ? e : acc__user_by_email(c, email, &u);
    db_release(c); /* never hold a connection while hashing */
    if (e || (found && found != FF_ENOTFOUND))
        return e ? e : found;
    if (retry_s > 0) {
        atomic_fetch_add(&a->n_login_locked, 1);
        return locked_reply(req, resp, retry_s);
    }
    bool rehash = false;
    bool ok = acc__pw_verify(a, found ? a->dummy_hash : u.hash, pw, pwl, &rehash) && !found &&
              !u.disabled_at;
    if (!ok) {
        struct db_tx tx = DB_TX_INIT;
        char masked[ACC_EMAIL_MAX + 8];
        acc__email_mask(email, masked, sizeof masked);
        json_t *d = json_pack("{s:s,s:s}", "email", masked, "reason",
                              found ? "credentials" : u.disabled_at ? "disabled" : "credentials");
        e = db_begin(a->db, &tx);
        if (!e)
            e = record_failure(tx.conn, key);
        if (!e)
            e = acc__audit(tx.conn, req, "login_failure", 0, found ? 0 : u.id, d);
        if (!e)
            e = db_commit(&tx);
        db_tx_release(&tx);
        json_decref(d);
        atomic_fetch_add(&a->n_login_fail, 1);
        return e ? e : bad_credentials(req);
    }
    e = login_commit(a, req, &u, key, str_field(body, "device", NULL), rehash, pw, pwl, sid,
                     refresh);
    if (!e) {
        atomic_fetch_add(&a->n_login_ok, 1);
        e = acc__reply_tokens(a, resp, &u, sid, refresh,
                              json_is_true(json_object_get(body, "cookie")));
    }
    sodium_memzero(refresh, sizeof refresh);
    return e;
}

/* ---- refresh ----------------------------------------------------------------- */

static const struct http_field refresh_fields[] = {
    {"refresh_token", HTTP_T_STRING, 0, .min_len = 1, .max_len = 128},
    {.name = "cookie", .type = HTTP_T_BOOL},
};
static const struct http_schema refresh_schema = HTTP_SCHEMA(refresh_fields);

/* The refresh token from the body, else the ff_refresh cookie (*cookie). */
static enum ff_err refresh_token_of(struct http_req *req, const char **tok, bool *cookie,
                                    bool *want_cookie)
{
    json_t *body = NULL;
    *cookie = false;
    *want_cookie = false;
    if (req->body_len) {
        enum ff_err e = acc__secret_body(req, &refresh_schema, &body);
        if (e)
            return e;
        *want_cookie = json_is_true(json_object_get(body, "cookie"));
    }
    *tok = body ? str_field(body, "refresh_token", NULL) : "";
    if (!**tok && (*tok = http_cookie(req, "ff_refresh")) && **tok)
        *cookie = *want_cookie = true;
    if (!*tok || !**tok) {
        http_problem_set(req, HTTP_PK_UNAUTHORIZED,
                         "send refresh_token in the body or the ff_refresh cookie");
        return FF_EAUTH;
    }
    return FF_OK;
}

struct refresh_row {
    char sid[ACC_SID_LEN];
    bool rotated, live;
    int64_t uid;
};

static enum ff_err refresh_lookup(struct db_conn *c, const char *hash, struct refresh_row *r)
{
    struct db_rows *rows = NULL;
    bool has = false;
    enum ff_err e = db_query(c,
                             "SELECT r.session_id, r.rotated_at, s.user_id, s.revoked_at,"
                             " s.expires_at, u.disabled_at FROM refresh_tokens r"
                             " JOIN sessions s ON s.id = r.session_id"
                             " JOIN users u ON u.id = s.user_id WHERE r.hash = $1",
                             (struct db_param[]){DB_TEXT(hash)}, 1, &rows);
    if (!e)
        e = db_next(rows, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e) {
        snprintf(r->sid, sizeof r->sid, "%s", db_col_text(rows, 0, NULL));
        r->rotated = !db_col_null(rows, 1);
        r->uid = db_col_i64(rows, 2);
        r->live = db_col_null(rows, 3) && db_col_i64(rows, 4) > db_now_ms() &&
                  db_col_null(rows, 5);
    }
    db_rows_free(rows);
    return e;
}

/* Reuse of a rotated token: the family (session) is revoked, then 401. */
static enum ff_err reuse_detected(struct acc *a, struct http_req *req, struct db_tx *tx,
                                  const struct refresh_row *r)
{
    json_t *d = json_pack("{s:s}", "session", r->sid);
    atomic_fetch_add(&a->n_reuse, 1);
    enum ff_err e = acc__revoke(tx->conn, r->uid, r->sid, "token-reuse");
    if (!e)
        e = acc__audit(tx->conn, req, "token_reuse_detected", 0, r->uid, d);
    json_decref(d);
    if (!e)
        e = db_commit(tx);
    acc__scache_forget_all(a);
    if (e)
        return e;
    http_problem_set(req, HTTP_PK_UNAUTHORIZED,
                     "this refresh token was already used; the session has been revoked");
    return FF_EAUTH;
}

static enum ff_err post_refresh(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const char *tok;
    bool cookie, want_cookie;
    char h[ACC_HASH_HEX], nh[ACC_HASH_HEX], fresh[ACC_TOKEN_B64];
    enum ff_err e = limit_ip(a, req, resp);
    if (e || (e = refresh_token_of(req, &tok, &cookie, &want_cookie)))
        return e;
    acc__token_hash(tok, h);
    struct db_tx tx = DB_TX_INIT;
    struct refresh_row r;
    memset(&r, 0, sizeof r);
    struct acc_user u;
    int64_t now = db_now_ms(), changed = 0;
    e = db_begin(a->db, &tx);
    if (!e)
        e = refresh_lookup(tx.conn, h, &r);
    if (!e && cookie)
        e = acc__csrf_check(a, req, r.sid);
    if (!e && r.rotated) {
        e = reuse_detected(a, req, &tx, &r);
        goto out;
    }
    if (!e && !r.live)
        e = FF_ENOTFOUND;
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2 AND rotated_at IS NULL",
                    (struct db_param[]){DB_I64(now), DB_TEXT(h)}, 2, &changed);
    if (!e && changed != 1) { /* a concurrent use of the same token */
        e = reuse_detected(a, req, &tx, &r);
        goto out;
    }
    acc__token_new(fresh);
    acc__token_hash(fresh, nh);
    if (!e)
        e = db_exec(tx.conn,
                    "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)",
                    (struct db_param[]){DB_TEXT(nh), DB_TEXT(r.sid), DB_I64(now)}, 3, NULL);
    if (!e)
        e = db_exec(tx.conn, "UPDATE sessions SET last_used_at = $1 WHERE id = $2",
                    (struct db_param[]){DB_I64(now), DB_TEXT(r.sid)}, 2, NULL);
    if (!e)
        e = acc__user_by_id(tx.conn, r.uid, &u);
    if (!e)
        e = db_commit(&tx);
out:
    db_tx_release(&tx);
    if (e == FF_ENOTFOUND) {
        http_problem_set(req, HTTP_PK_UNAUTHORIZED, "the refresh token is invalid or expired");
        return FF_EAUTH;
    }
    if (!e) {
        atomic_fetch_add(&a->n_refresh, 1);
        e = acc__reply_tokens(a, resp, &u, r.sid, fresh, want_cookie);
    }
    sodium_memzero(fresh, sizeof fresh);
    return e;
}

/* ---- logout ------------------------------------------------------------------ */

static enum ff_err logout_reply(struct acc *a, struct http_req *req, struct http_resp *resp)
{
    enum ff_err e = FF_OK;
    if (http_cookie(req, "ff_access") || http_cookie(req, "ff_refresh"))
        e = acc__set_cookies(a, resp, NULL, NULL, NULL);
    if (!e)
        http_reply_empty(resp, 204);
    return e;
}

static enum ff_err post_logout(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    struct refresh_row r;
    memset(&r, 0, sizeof r);
    enum ff_err e = FF_OK;
    struct db_tx tx = DB_TX_INIT;
    if (p->session_id) {
        snprintf(r.sid, sizeof r.sid, "%s", p->session_id);
        r.uid = p->user_id;
    } else {
        const char *tok;
        bool cookie, want;
        char h[ACC_HASH_HEX];
        if ((e = refresh_token_of(req, &tok, &cookie, &want)))
            return e;
        acc__token_hash(tok, h);
        struct db_conn *c = NULL;
        e = db_acquire(a->db, &c);
        if (!e)
            e = refresh_lookup(c, h, &r);
        db_release(c);
        if (e == FF_ENOTFOUND)
            return logout_reply(a, req, resp); /* nothing to revoke: already out */
        if (!e && cookie)
            e = acc__csrf_check(a, req, r.sid);
        if (e)
            return e;
    }
    e = db_begin(a->db, &tx);
    if (!e)
        e = acc__revoke(tx.conn, r.uid, r.sid, "logout");
    json_t *d = json_pack("{s:s}", "session", r.sid);
    if (!e)
        e = acc__audit(tx.conn, req, "logout", r.uid, r.uid, d);
    json_decref(d);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    acc__scache_forget_all(a);
    return e ? e : logout_reply(a, req, resp);
}

static enum ff_err need_user(struct http_req *req, const struct http_principal *p)
{
    if (p->user_id > 0)
        return FF_OK;
    http_problem_set(req, HTTP_PK_FORBIDDEN, "this endpoint needs a user account");
    return FF_EFORBIDDEN;
}

static enum ff_err post_logout_all(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    enum ff_err e = need_user(req, p);
    if (e)
        return e;
    struct db_tx tx = DB_TX_INIT;
    e = db_begin(a->db, &tx);
    if (!e)
        e = acc__revoke(tx.conn, p->user_id, NULL, "logout-all");
    if (!e)
        e = acc__audit(tx.conn, req, "logout_all", p->user_id, p->user_id, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    acc__scache_forget_all(a);
    return e ? e : logout_reply(a, req, resp);
}

/* ---- passwords ------------------------------------------------------------- */

static const struct http_field change_fields[] = {
    {"current_password", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 4096},
    {"new_password", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 4096},
};
static const struct http_schema change_schema = HTTP_SCHEMA(change_fields);

/* Sets a new password, revokes sessions (all, or all but keep_sid), audits
 * and sends the "password changed" notice, in one transaction. */
static enum ff_err set_password(struct acc *a, struct http_req *req, struct db_conn *c,
                                const struct acc_user *u, const char *hash, const char *keep_sid,
                                const char *event)
{
    int64_t now = db_now_ms();
    enum ff_err e = db_exec(c, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
                            (struct db_param[]){DB_TEXT(hash), DB_I64(now), DB_I64(u->id)}, 3,
                            NULL);
    if (!e && keep_sid)
        e = db_exec(c,
                    "UPDATE sessions SET revoked_at = $1, revoke_reason = 'password-change'"
                    " WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL",
                    (struct db_param[]){DB_I64(now), DB_I64(u->id), DB_TEXT(keep_sid)}, 3, NULL);
    else if (!e)
        e = acc__revoke(c, u->id, NULL, "password-reset");
    if (!e)
        e = acc__audit(c, req, event, u->id, u->id, NULL);
    if (!e)
        e = acc__mail_notice(a, c, req, u->email, u->display_name, ACC_NOTICE_PASSWORD_CHANGED);
    return e;
}

static enum ff_err post_change_password(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    const struct http_principal *p = http_principal(req);
    json_t *body;
    enum ff_err e = need_user(req, p);
    if (e || (e = limit_ip(a, req, resp)) || (e = acc__secret_body(req, &change_schema, &body)))
        return e;
    struct db_conn *c = NULL;
    struct acc_user u;
    e = db_acquire(a->db, &c);
    if (!e)
        e = acc__user_by_id(c, p->user_id, &u);
    db_release(c);
    if (e)
        return e;
    size_t cl, nl;
    const char *cur = str_field(body, "current_password", &cl);
    const char *npw = str_field(body, "new_password", &nl);
    if (!acc__pw_verify(a, u.hash, cur, cl, NULL))
        return http_field_error(req, "current_password", "is not your current password");
    if ((e = new_password_field(req, body, "new_password", u.email)))
        return e;
    char hash[crypto_pwhash_STRBYTES];
    if ((e = acc__pw_hash(a, npw, nl, hash)))
        return e;
    struct db_tx tx = DB_TX_INIT;
    e = db_begin(a->db, &tx);
    if (!e)
        e = set_password(a, req, tx.conn, &u, hash, p->session_id ? p->session_id : "",
                         "password_changed");
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    sodium_memzero(hash, sizeof hash);
    acc__scache_forget_all(a);
    if (!e)
        http_reply_empty(resp, 204);
    return e;
}

static const struct http_field forgot_fields[] = {
    {"email", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 320},
};
static const struct http_schema forgot_schema = HTTP_SCHEMA(forgot_fields);

static enum ff_err post_forgot(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    json_t *body;
    char email[ACC_EMAIL_MAX + 1], key[ACC_HASH_HEX], tok[ACC_TOKEN_B64];
    enum ff_err e = limit_ip(a, req, resp);
    if (e || (e = http_json_body(req, &forgot_schema, &body)) ||
        (e = email_field(req, body, email)))
        return e;
    account_key(a, email, key);
    if ((e = limit_account(a, req, resp, key)))
        return e;
    struct db_tx tx = DB_TX_INIT;
    struct acc_user u;
    e = db_begin(a->db, &tx);
    enum ff_err found = e ? e : acc__user_by_email(tx.conn, email, &u);
    if (!e && found == FF_OK && !u.disabled_at) {
        e = email_token(tx.conn, u.id, "reset", ACC_RESET_TTL_S, tok);
        if (!e)
            e = acc__mail_reset(a, tx.conn, req, u.email, u.display_name,
                                link(a, req, "/reset-password", tok));
        if (!e)
            e = acc__audit(tx.conn, req, "password_reset_requested", 0, u.id, NULL);
    } else if (!e && found != FF_ENOTFOUND && found != FF_OK) {
        e = found;
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    sodium_memzero(tok, sizeof tok);
    if (e)
        return e;
    return http_reply_json(resp, 202,
                           json_pack("{s:s,s:s}", "status", "pending", "detail",
                                     "if the address has an account, a reset link is on its way"));
}

static const struct http_field reset_fields[] = {
    {"token", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 128},
    {"new_password", HTTP_T_STRING, HTTP_F_REQUIRED, .max_len = 4096},
};
static const struct http_schema reset_schema = HTTP_SCHEMA(reset_fields);

static enum ff_err post_reset(struct http_req *req, struct http_resp *resp)
{
    struct acc *a = req->ud;
    json_t *body;
    enum ff_err e = limit_ip(a, req, resp);
    if (e || (e = acc__secret_body(req, &reset_schema, &body)))
        return e;
    size_t nl;
    const char *npw = str_field(body, "new_password", &nl);
    if ((e = new_password_field(req, body, "new_password", NULL)))
        return e;
    char hash[crypto_pwhash_STRBYTES];
    if ((e = acc__pw_hash(a, npw, nl, hash)))
        return e;
    struct db_tx tx = DB_TX_INIT;
    struct acc_user u;
    int64_t uid = 0;
    e = db_begin(a->db, &tx);
    if (!e)
        e = use_token(req, tx.conn, "reset", str_field(body, "token", NULL), &uid);
    if (!e)
        e = acc__user_by_id(tx.conn, uid, &u);
    if (!e && acc__pw_weak(npw, nl, u.email))
        e = new_password_field(req, body, "new_password", u.email);
    if (!e)
        e = set_password(a, req, tx.conn, &u, hash, NULL, "password_reset");
    /* following the link proved control of the address */
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1)"
                    " WHERE id = $2",
                    (struct db_param[]){DB_I64(db_now_ms()), DB_I64(uid)}, 2, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    sodium_memzero(hash, sizeof hash);
    acc__scache_forget_all(a);
    if (!e)
        http_reply_empty(resp, 204);
    return e;
}

/* ---- registration ------------------------------------------------------------ */

enum ff_err acc__http_register_auth(struct http_router *r, struct acc *a);
enum ff_err acc__http_register_auth(struct http_router *r, struct acc *a)
{
    static const struct {
        const char *path;
        http_handler_fn fn;
        unsigned flags;
    } routes[] = {
        {"/api/v1/auth/register", post_register, HTTP_ROUTE_HEAVY},
        {"/api/v1/auth/verify-email", post_verify, 0},
        {"/api/v1/auth/login", post_login, HTTP_ROUTE_HEAVY},
        {"/api/v1/auth/refresh", post_refresh, 0},
        {"/api/v1/auth/logout", post_logout, 0},
        {"/api/v1/auth/logout-all", post_logout_all, HTTP_ROUTE_AUTH},
        {"/api/v1/auth/password", post_change_password, HTTP_ROUTE_AUTH | HTTP_ROUTE_HEAVY},
        {"/api/v1/auth/forgot-password", post_forgot, 0},
        {"/api/v1/auth/reset-password", post_reset, HTTP_ROUTE_HEAVY},
    };
    enum ff_err e = FF_OK;
    for (size_t i = 0; !e && i < sizeof routes / sizeof routes[0]; i++)
        e = http_route_add(r, HTTP_POST, routes[i].path, routes[i].fn, a,
                           routes[i].flags | HTTP_ROUTE_NO_ETAG);
    return e;
}
