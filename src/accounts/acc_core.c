/* acc_core.c - the accounts service: lifecycle, the authenticator, rate
 * limits at the HTTP edge, and the command-line helpers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "http/problem.h"
#include "http/router.h"

static enum ff_err policy(const char *s, double per_s, const char *name, struct rl_policy *p,
                          bool *off, char *why, size_t len)
{
    p->name = name;
    if (rl_policy_parse(s, per_s, p, off)) {
        snprintf(why, len, "rate limit %s: bad value \"%s\" (want RATE/BURST)", name, s);
        return FF_EINVAL;
    }
    return FF_OK;
}

enum ff_err acc_new(const struct acc_opts *o, struct acc **out, char *why, size_t len)
{
    if (sodium_init() < 0) {
        snprintf(why, len, "libsodium failed to initialise");
        return FF_EINTERNAL;
    }
    struct acc *a = ff_calloc(1, sizeof *a);
    if (!a)
        return FF_ENOMEM;
    const struct ff_config *cfg = o->cfg;
    a->db = o->db;
    a->secret = o->secret;
    a->cfg = cfg;
    a->public_url = o->public_url ? o->public_url : "";
    a->opslimit = (unsigned long long)cfg->password_opslimit;
    a->memlimit = cfg->password_memlimit;
    a->access_ttl_s = cfg->access_token_ttl_s;
    a->refresh_ttl_s = cfg->refresh_token_ttl_s;
    a->cookie_secure = cfg->cookie_secure;
    a->limit_loopback = cfg->ratelimit_loopback;
    pthread_mutex_init(&a->mail_mu, NULL);
    if (cfg->test_routes)
        a->test_mail = json_array();
    enum ff_err e = policy(cfg->ratelimit_api, 1, "api", &a->pol_api, &a->api_off, why, len);
    if (!e)
        e = policy(cfg->ratelimit_auth_ip, 60, "auth-ip", &a->pol_auth_ip, &a->auth_ip_off, why,
                   len);
    if (!e)
        e = policy(cfg->ratelimit_auth_account, 60, "auth-acct", &a->pol_auth_account,
                   &a->auth_account_off, why, len);
    if (!e)
        e = rl_new(cfg->redis_url, 0, &a->rl, why, len);
    if (!e)
        e = acc__scache_new(&a->scache);
    /* a real Argon2id hash to verify against when the email is unknown, so
     * both answers take the same time */
    if (!e) {
        char pw[ACC_TOKEN_B64];
        acc__token_new(pw);
        e = acc__pw_hash(a, pw, strlen(pw), a->dummy_hash);
        sodium_memzero(pw, sizeof pw);
        if (e)
            snprintf(why, len, "cannot hash with FRAMEFIT_PASSWORD_MEMLIMIT=%zu", a->memlimit);
    }
    if (!e)
        e = acc__ring_open(a, why, len);
    if (e) {
        acc_free(a);
        return e;
    }
    *out = a;
    return FF_OK;
}

void acc_free(struct acc *a)
{
    if (!a)
        return;
    acc__ring_free(a->ring);
    acc__scache_free(a->scache);
    rl_free(a->rl);
    json_decref(a->test_mail);
    pthread_mutex_destroy(&a->mail_mu);
    ff_free(a);
}

/* ---- rate limits at the edge --------------------------------------------- */

static enum ff_err set_rl_headers(struct http_resp *resp, const struct rl_result *r)
{
    char v[3][24];
    snprintf(v[0], sizeof v[0], "%d", r->limit);
    snprintf(v[1], sizeof v[1], "%d", r->remaining);
    snprintf(v[2], sizeof v[2], "%d", r->reset_s);
    enum ff_err e = http_resp_header(resp, "RateLimit-Limit", v[0]);
    if (!e)
        e = http_resp_header(resp, "RateLimit-Remaining", v[1]);
    if (!e)
        e = http_resp_header(resp, "RateLimit-Reset", v[2]);
    return e;
}

enum ff_err acc__limit(struct acc *a, struct http_req *req, struct http_resp *resp,
                       const struct rl_policy *p, const char *key, bool headers)
{
    struct rl_result r;
    rl_take(a->rl, p, key, &r);
    if (r.allowed)
        return headers ? set_rl_headers(resp, &r) : FF_OK;
    atomic_fetch_add(&a->n_limited, 1);
    char ra[24];
    snprintf(ra, sizeof ra, "%d", r.retry_after_s);
    enum ff_err e = set_rl_headers(resp, &r);
    if (!e)
        e = http_resp_header(resp, "Retry-After", ra);
    if (e)
        return e;
    http_problem_set(req, HTTP_PK_TOO_MANY_REQUESTS, "too many requests; retry in %d s",
                     r.retry_after_s);
    return FF_EFORBIDDEN;
}

static bool is_loopback(const char *ip)
{
    return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11);
}

/* ---- the authenticator ---------------------------------------------------- */

static bool safe_method(const struct http_req *req)
{
    return req->method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS);
}

/* Double-submit: the X-CSRF-Token header equals the ff_csrf cookie and is the
 * MAC of the session id. */
static bool csrf_ok(struct acc *a, struct http_req *req, const char *sid)
{
    const char *h = http_header(req, "X-CSRF-Token");
    const char *c = http_cookie(req, "ff_csrf");
    char want[ACC_TOKEN_B64];
    acc__csrf_for(a, sid, want);
    size_t wl = strlen(want);
    return h && c && strlen(h) == wl && strlen(c) == wl &&
           !sodium_memcmp(h, want, wl) && !sodium_memcmp(c, want, wl);
}

enum ff_err acc__csrf_check(struct acc *a, struct http_req *req, const char *sid)
{
    if (safe_method(req) || csrf_ok(a, req, sid))
        return FF_OK;
    http_problem_set(req, HTTP_PK_FORBIDDEN,
                     "cookie-authenticated requests that change state need the X-CSRF-Token "
                     "header (the value of the ff_csrf cookie)");
    return FF_EFORBIDDEN;
}

enum ff_err acc_authenticate(void *ud, struct http_req *req, struct http_resp *resp,
                             unsigned route_flags)
{
    struct acc *a = ud;
    const char *tok = http_bearer(req);
    bool cookie = false;
    if (!tok && (tok = http_cookie(req, "ff_access")))
        cookie = true;
    struct http_principal p = {0};
    enum ff_err e;
    if (tok) {
        struct acc_claims cl;
        enum http_role role = HTTP_ROLE_NONE;
        e = acc__jwt_verify(a, tok, &cl);
        if (!e)
            e = acc__session_live(a, cl.sid, cl.user_id, &role);
        if (e == FF_OK) {
            p.user_id = cl.user_id;
            p.role = role; /* the current role, not the one in the token */
            p.session_id = ff_arena_strdup(req->arena, cl.sid);
            p.via_cookie = cookie;
            if (!p.session_id)
                return FF_ENOMEM;
            if (cookie && (e = acc__csrf_check(a, req, cl.sid)))
                return e;
            if ((e = http_principal_set(req, &p)))
                return e;
        } else if (e != FF_EAUTH) {
            return e; /* storage trouble: 503 */
        } else if (route_flags & (HTTP_ROUTE_AUTH | HTTP_ROUTE_STAFF | HTTP_ROUTE_ADMIN)) {
            http_problem_set(req, HTTP_PK_UNAUTHORIZED,
                             "the access token is invalid, expired or revoked; refresh it");
            return FF_EAUTH;
        } /* a stale token on a public route: serve it anonymously */
    }
    /* the general per-client limit: by user when signed in, else by address */
    if (!a->api_off && (a->limit_loopback || !is_loopback(req->client_ip))) {
        char key[64];
        if (p.user_id)
            snprintf(key, sizeof key, "u%lld", (long long)p.user_id);
        else
            snprintf(key, sizeof key, "%s", req->client_ip);
        if ((e = acc__limit(a, req, resp, &a->pol_api, key, false)))
            return e;
    }
    return FF_OK;
}

/* ---- metrics -------------------------------------------------------------- */

void acc_metrics(struct ff_buf *out, void *ud)
{
    struct acc *a = ud;
    if (!a)
        return;
    uint64_t nr, nl, ne;
    rl_stats(a->rl, &nr, &nl, &ne);
    enum ff_err e = ff_buf_appendf(
        out,
        "# HELP framefit_logins_total Sign-in attempts by outcome.\n"
        "# TYPE framefit_logins_total counter\n"
        "framefit_logins_total{result=\"success\"} %llu\n"
        "framefit_logins_total{result=\"failure\"} %llu\n"
        "framefit_logins_total{result=\"locked\"} %llu\n"
        "# HELP framefit_token_refreshes_total Refresh tokens exchanged (rotations).\n"
        "# TYPE framefit_token_refreshes_total counter\n"
        "framefit_token_refreshes_total %llu\n"
        "# HELP framefit_token_reuse_total Rotated refresh tokens presented again (session revoked).\n"
        "# TYPE framefit_token_reuse_total counter\n"
        "framefit_token_reuse_total %llu\n"
        "# HELP framefit_rate_limited_total Requests refused with 429 by a rate limit.\n"
        "# TYPE framefit_rate_limited_total counter\n"
        "framefit_rate_limited_total %llu\n"
        "# HELP framefit_ratelimit_decisions_total Bucket decisions by where they were made.\n"
        "# TYPE framefit_ratelimit_decisions_total counter\n"
        "framefit_ratelimit_decisions_total{backend=\"redis\"} %llu\n"
        "framefit_ratelimit_decisions_total{backend=\"local\"} %llu\n"
        "# HELP framefit_ratelimit_redis_errors_total Redis failures (then decided locally).\n"
        "# TYPE framefit_ratelimit_redis_errors_total counter\n"
        "framefit_ratelimit_redis_errors_total %llu\n",
        (unsigned long long)atomic_load(&a->n_login_ok),
        (unsigned long long)atomic_load(&a->n_login_fail),
        (unsigned long long)atomic_load(&a->n_login_locked),
        (unsigned long long)atomic_load(&a->n_refresh), (unsigned long long)atomic_load(&a->n_reuse),
        (unsigned long long)atomic_load(&a->n_limited), (unsigned long long)nr,
        (unsigned long long)nl, (unsigned long long)ne);
    (void)e; /* a full buffer truncates the page; the next scrape retries */
}

/* ---- command line ---------------------------------------------------------- */

enum ff_err acc_create_admin(struct acc *a, const char *email, const char *password, char *why,
                             size_t len)
{
    char norm[ACC_EMAIL_MAX + 1], hash[crypto_pwhash_STRBYTES];
    const char *bad = acc__email_norm(email, strlen(email), norm);
    if (bad) {
        snprintf(why, len, "email %s", bad);
        return FF_EINVAL;
    }
    if ((bad = acc__pw_weak(password, strlen(password), norm))) {
        snprintf(why, len, "password %s", bad);
        return FF_EINVAL;
    }
    enum ff_err e = acc__pw_hash(a, password, strlen(password), hash);
    if (e)
        return e;
    struct db_tx tx = DB_TX_INIT;
    int64_t now = db_now_ms(), changed = 0, uid = 0;
    e = db_begin(a->db, &tx);
    if (!e)
        e = db_exec(tx.conn,
                    "UPDATE users SET role = 'admin', password_hash = $2, disabled_at = NULL,"
                    " email_verified_at = COALESCE(email_verified_at, $3), updated_at = $3"
                    " WHERE email = $1",
                    (struct db_param[]){DB_TEXT(norm), DB_TEXT(hash), DB_I64(now)}, 3, &changed);
    if (!e && !changed)
        e = db_exec(tx.conn,
                    "INSERT INTO users (email, password_hash, role, email_verified_at,"
                    " created_at, updated_at) VALUES ($1, $2, 'admin', $3, $3, $3)",
                    (struct db_param[]){DB_TEXT(norm), DB_TEXT(hash), DB_I64(now)}, 3, NULL);
    if (!e)
        e = db_query_i64(tx.conn, "SELECT id FROM users WHERE email = $1",
                         (struct db_param[]){DB_TEXT(norm)}, 1, &uid);
    json_t *d = json_pack("{s:s}", "via", "cli");
    if (!e)
        e = acc__audit(tx.conn, NULL, changed ? "admin_promoted" : "admin_created", 0, uid, d);
    json_decref(d);
    if (!e)
        e = acc__revoke(tx.conn, uid, NULL, "password-set-by-cli");
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    sodium_memzero(hash, sizeof hash);
    if (e)
        snprintf(why, len, "storage: %s", db_errmsg());
    return e;
}

enum ff_err acc_keys_rotate(struct acc *a, char *kid, size_t len)
{
    return acc__ring_rotate(a, kid, len);
}
