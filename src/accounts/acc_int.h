/* acc_int.h - inside the accounts module (not for other modules). */
#ifndef FF_ACCOUNTS_ACC_INT_H
#define FF_ACCOUNTS_ACC_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "accounts/accounts.h"
#include "accounts/ratelimit.h"
#include "db/db.h"
#include "http/req.h"
#include "http/validate.h"

#define ACC_ISSUER "framefit"
#define ACC_AUDIENCE "framefit-api"
#define ACC_TOKEN_B64 44     /* 32 random bytes, base64url without padding (43) + NUL */
#define ACC_HASH_HEX 65      /* BLAKE2b-256 as hex + NUL */
#define ACC_SID_LEN 23       /* 16 random bytes, base64url (22) + NUL */
#define ACC_KID_LEN 24
#define ACC_EMAIL_MAX 254
#define ACC_PW_MIN 8
#define ACC_PW_MAX 1024
#define ACC_VERIFY_TTL_S (48 * 3600)
#define ACC_RESET_TTL_S 3600

struct acc_ring;    /* jwt.c */
struct acc_scache;  /* session.c */

struct acc {
    struct db *db;
    const struct ff_secret *secret;
    const struct ff_config *cfg;
    const char *public_url;
    struct acc_ring *ring;
    struct acc_scache *scache;
    struct rl *rl;
    unsigned long long opslimit;
    size_t memlimit;
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown emails */
    int access_ttl_s;
    int refresh_ttl_s;
    bool cookie_secure;
    /* rate limit policies (off = not applied) */
    struct rl_policy pol_api, pol_auth_ip, pol_auth_account;
    bool api_off, auth_ip_off, auth_account_off, limit_loopback;
    /* test routes: the last emails "sent", when FRAMEFIT_TEST_ROUTES=1 */
    pthread_mutex_t mail_mu;
    json_t *test_mail;   /* array of {to, template, vars} (newest last), or NULL */
    /* counters for /metrics (acc_metrics) */
    atomic_ullong n_login_ok, n_login_fail, n_login_locked, n_refresh, n_reuse, n_limited;
};

/* ---- password.c --------------------------------------------------------- */

/* Checks a new password (bytes, NUL refused): NULL when acceptable, else a
 * reason for the 422 field error (static string). email may be NULL. */
const char *acc__pw_weak(const char *pw, size_t len, const char *email);
/* Argon2id string of pw into out. FF_ENOMEM when the memory limit cannot be
 * allocated. */
enum ff_err acc__pw_hash(const struct acc *a, const char *pw, size_t len,
                         char out[crypto_pwhash_STRBYTES]) FF_MUST_CHECK;
/* True when pw matches hash; *rehash set when hash uses other parameters. */
bool acc__pw_verify(const struct acc *a, const char *hash, const char *pw, size_t len,
                    bool *rehash);

/* Normalises an email: trims spaces, lowercases it all (see docs/accounts.md),
 * checks the shape (one '@', a dotted domain, no spaces or controls, <= 254).
 * Writes into out (ACC_EMAIL_MAX + 1). NULL when acceptable, else a reason. */
const char *acc__email_norm(const char *in, size_t len, char out[ACC_EMAIL_MAX + 1]);
/* "j***@example.com": for logs and audit details (never the full address). */
void acc__email_mask(const char *email, char *out, size_t len);

/* ---- tokens.c ------------------------------------------------------------ */

/* 32 random bytes as base64url (no padding). */
void acc__token_new(char out[ACC_TOKEN_B64]);
/* 16 random bytes as base64url: a session id. */
void acc__sid_new(char out[ACC_SID_LEN]);
/* BLAKE2b-256 of a token, hex: what the database stores. */
void acc__token_hash(const char *token, char out[ACC_HASH_HEX]);
/* CSRF token bound to a session: base64url(HMAC(master-derived key, sid)). */
void acc__csrf_for(const struct acc *a, const char *sid, char out[ACC_TOKEN_B64]);

/* ---- jwt.c (key ring, rhonabwy) ------------------------------------------- */

struct acc_claims {
    int64_t user_id;
    enum http_role role;
    char sid[ACC_SID_LEN];
    int64_t iat, exp;
};

enum ff_err acc__ring_open(struct acc *a, char *why, size_t len) FF_MUST_CHECK;
void acc__ring_free(struct acc_ring *r);
/* A signed access token (ff_malloc'd; caller frees). */
enum ff_err acc__jwt_sign(struct acc *a, int64_t uid, enum http_role role, const char *sid,
                          char **out) FF_MUST_CHECK;
/* Verifies signature (EdDSA only, kid from the ring), iss, aud, exp, iat.
 * FF_EAUTH when the token is not valid. */
enum ff_err acc__jwt_verify(struct acc *a, const char *tok, struct acc_claims *out) FF_MUST_CHECK;
/* {"keys": [...public JWKs...]} (new reference). */
json_t *acc__jwks(struct acc *a);
enum ff_err acc__ring_rotate(struct acc *a, char *kid, size_t len) FF_MUST_CHECK;

/* ---- session.c (session state cache) ------------------------------------- */

enum ff_err acc__scache_new(struct acc_scache **out) FF_MUST_CHECK;
void acc__scache_free(struct acc_scache *c);
/* Is sid live (not revoked, not expired, user not disabled)? Also gives the
 * user's current role. Cached for ~2 s per session. FF_EAUTH when not live. */
enum ff_err acc__session_live(struct acc *a, const char *sid, int64_t uid,
                              enum http_role *role) FF_MUST_CHECK;
/* Drops cached state (after a revocation or role change on this instance). */
void acc__scache_forget_all(struct acc *a);

/* Compact JSON text of j in ff_malloc'd memory (whatever allocator jansson
 * uses); caller ff_frees. NULL on OOM. */
char *acc__json_text(const json_t *j);

/* ---- audit.c ------------------------------------------------------------- */

/* Appends one event (on c, inside the caller's transaction when there is
 * one). actor/subject 0 = none. detail: a JSON object (borrowed) or NULL.
 * Never pass secrets in detail. */
enum ff_err acc__audit(struct db_conn *c, struct http_req *req, const char *event,
                       int64_t actor, int64_t subject, json_t *detail) FF_MUST_CHECK;

/* ---- mail.c -------------------------------------------------------------- */

/* Sends a templated email in the caller's transaction (mail_enqueue when
 * the mail module is there). vars: borrowed JSON object. */
enum ff_err acc__mail(struct acc *a, struct db_conn *c, const char *to, const char *tmpl,
                      json_t *vars) FF_MUST_CHECK;
/* The messages, with their templates' variables (see mail.c). name: the
 * display name ("" = a generic greeting). */
enum ff_err acc__mail_verify(struct acc *a, struct db_conn *c, const char *to, const char *name,
                             const char *link) FF_MUST_CHECK;
enum ff_err acc__mail_reset(struct acc *a, struct db_conn *c, struct http_req *req,
                            const char *to, const char *name, const char *link) FF_MUST_CHECK;
enum acc_notice { ACC_NOTICE_NEW_SIGN_IN, ACC_NOTICE_PASSWORD_CHANGED, ACC_NOTICE_ACCOUNT_EXISTS };
enum ff_err acc__mail_notice(struct acc *a, struct db_conn *c, struct http_req *req,
                             const char *to, const char *name, enum acc_notice kind) FF_MUST_CHECK;

/* ---- repo / flows (acc_users.c) ------------------------------------------- */

struct acc_user {
    int64_t id;
    char email[ACC_EMAIL_MAX + 1];
    char hash[crypto_pwhash_STRBYTES];
    enum http_role role;
    char display_name[256];
    int64_t verified_at, disabled_at, created_at;
};

/* Loads a user by id or by (normalised) email. FF_ENOTFOUND. */
enum ff_err acc__user_by_id(struct db_conn *c, int64_t id, struct acc_user *u) FF_MUST_CHECK;
enum ff_err acc__user_by_email(struct db_conn *c, const char *email,
                               struct acc_user *u) FF_MUST_CHECK;
/* The public JSON of a user (new reference). */
json_t *acc__user_json(const struct acc_user *u);

/* Revokes one session or all of a user's (sid NULL). */
enum ff_err acc__revoke(struct db_conn *c, int64_t uid, const char *sid,
                        const char *reason) FF_MUST_CHECK;

/* Inserts a session and its first refresh token; *new_device when the user
 * has signed in before but never from this IP and user agent. */
enum ff_err acc__session_create(struct acc *a, struct db_conn *c, struct http_req *req,
                                int64_t uid, const char *device, char sid[ACC_SID_LEN],
                                char refresh[ACC_TOKEN_B64], bool *new_device) FF_MUST_CHECK;
/* Sets (access != NULL) or clears the ff_access, ff_refresh, ff_csrf cookies. */
enum ff_err acc__set_cookies(struct acc *a, struct http_resp *resp, const char *access,
                             const char *refresh, const char *sid) FF_MUST_CHECK;
/* 200 {access_token, token_type, expires_in, session_id, user, refresh_token |
 * csrf_token (+ cookies)}. */
enum ff_err acc__reply_tokens(struct acc *a, struct http_resp *resp, const struct acc_user *u,
                              const char *sid, const char *refresh, bool as_cookie) FF_MUST_CHECK;

/* http_json_body for bodies that carry secrets (passwords, tokens): the raw
 * body is wiped at once, and the secret string values of the parsed object
 * when the request ends. Same errors as http_json_body. */
enum ff_err acc__secret_body(struct http_req *req, const struct http_schema *s,
                             json_t **out) FF_MUST_CHECK;

/* ---- http helpers (acc_core.c) -------------------------------------------- */

/* FF_OK for safe methods or a valid double-submit CSRF token bound to sid;
 * else records 403. */
enum ff_err acc__csrf_check(struct acc *a, struct http_req *req, const char *sid) FF_MUST_CHECK;

/* Applies policy p to key; on refusal records a 429 problem with Retry-After
 * and RateLimit-* headers and returns FF_EFORBIDDEN (headers: also add the
 * RateLimit-* headers when allowed). */
enum ff_err acc__limit(struct acc *a, struct http_req *req, struct http_resp *resp,
                       const struct rl_policy *p, const char *key, bool headers) FF_MUST_CHECK;

#endif
