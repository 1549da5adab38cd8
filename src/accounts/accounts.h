/* accounts.h - users, sessions, tokens, roles, rate limits and the audit log.
 *
 * The composition root creates one `struct acc` per process after storage and
 * the master key are open, installs acc_authenticate as the HTTP server's
 * authenticator (http/auth.h) and registers the routes:
 *
 *   struct acc *acc;
 *   acc_new(&(struct acc_opts){.db = db, .secret = sec, .cfg = cfg,
 *                              .public_url = app->public_url}, &acc, why, sizeof why);
 *   acc_http_register(router, acc);
 *   opts.auth = acc_authenticate; opts.auth_ud = acc;
 *
 * Tokens: access tokens are 15-minute EdDSA (Ed25519) JWTs signed by the
 * newest key of a key ring kept in the database (private keys sealed with a
 * key derived from the master key), so every instance signs and verifies with
 * the same ring; older keys verify until retired. Refresh tokens are opaque
 * random strings stored only as hashes, bound to a session and rotated on
 * every use; reusing a rotated one revokes the session (the whole family).
 * Details, choices and the configuration are in docs/accounts.md. */
#ifndef FF_ACCOUNTS_ACCOUNTS_H
#define FF_ACCOUNTS_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"
#include "http/auth.h"
#include "http/router.h"

struct db;
struct acc;

struct acc_opts {
    struct db *db;                 /* borrowed; outlives the acc */
    const struct ff_secret *secret; /* borrowed; the master key */
    const struct ff_config *cfg;   /* borrowed; FRAMEFIT_* settings */
    const char *public_url;        /* borrowed, read when building links in emails */
};

/* Opens the accounts service: loads (or creates) the signing key ring,
 * connects the Redis rate limiter when FRAMEFIT_REDIS_URL is set (it falls
 * back to the in-process limiter while Redis is unreachable). On failure
 * writes a one-line reason into why. Free with acc_free. */
enum ff_err acc_new(const struct acc_opts *o, struct acc **out, char *why,
                    size_t len) FF_MUST_CHECK;
void acc_free(struct acc *a);

/* Registers the /api/v1/auth/..., /api/v1/me..., /api/v1/admin/... and the
 * JWKS routes. */
enum ff_err acc_http_register(struct http_router *r, struct acc *a) FF_MUST_CHECK;

/* The http_auth_fn the server runs before every handler: rate limits,
 * bearer or cookie access token, CSRF for cookie-authenticated writes. */
enum ff_err acc_authenticate(void *ud, struct http_req *req, struct http_resp *resp,
                             unsigned route_flags);

/* `framefit users create-admin`: creates (or promotes, resetting the password
 * of) the user with this email as a verified admin. FF_EINVAL with a reason in
 * why for a bad email or a weak password. */
enum ff_err acc_create_admin(struct acc *a, const char *email, const char *password,
                             char *why, size_t len) FF_MUST_CHECK;

/* `framefit keys rotate` and POST /api/v1/admin/keys/rotate: adds a new
 * signing key; the previous ones verify until the access tokens they signed
 * have expired, then retire. Writes the new kid into kid (>= 32 bytes). */
enum ff_err acc_keys_rotate(struct acc *a, char *kid, size_t len) FF_MUST_CHECK;

/* /metrics collector (http/metrics.h): sign-ins by outcome, refreshes, token
 * reuse, rate-limit refusals and the limiter's Redis/local decisions. ud is
 * the struct acc. */
struct ff_buf;
void acc_metrics(struct ff_buf *out, void *ud);

/* Registers the hourly job "accounts.cleanup" (expired sessions and email
 * tokens, stale lockout rows; never the audit log). Called from app_jobs.c. */
struct jobs_registry;
enum ff_err acc_jobs_register(struct jobs_registry *reg) FF_MUST_CHECK;

#endif
