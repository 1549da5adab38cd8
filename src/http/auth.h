/* auth.h - who is calling: the principal, roles, and the authenticator hook.
 *
 * The server asks one pluggable authenticator (installed by the accounts
 * module through http_server_opts.auth) to identify the caller of every routed
 * request, on the thread that runs the handler, before the handler. Then it
 * enforces the route's access flags (http/router.h):
 *
 *   flags                      who may call                 otherwise
 *   0                          everyone (principal may be anonymous)
 *   HTTP_ROUTE_AUTH            any signed-in user           401
 *   HTTP_ROUTE_STAFF           role staff or admin          401 anonymous, 403 customer
 *   HTTP_ROUTE_ADMIN           role admin                   401 anonymous, 403 customer/staff
 *
 * A 401 carries `WWW-Authenticate: Bearer realm="framefit"`. HTTP_ROUTE_INLINE
 * routes (run on an I/O thread) never call the authenticator, which may block:
 * they see an anonymous principal (or break-glass) and must not need a role. A handler reads
 * the caller with http_principal(req), which never returns NULL:
 *
 *   const struct http_principal *p = http_principal(req);
 *   if (p->user_id == 0) ...               // anonymous; p->anon_id may name the shopper
 *   if (p->role >= HTTP_ROLE_STAFF) ...    // staff or admin
 *
 * Break-glass: when FRAMEFIT_ADMIN_TOKEN is set, `Authorization: Bearer <it>`
 * is an admin principal with user_id 0 and break_glass set (for bootstrap and
 * emergencies; every use is visible in the access log as principal "break-glass").
 * It is checked before the authenticator, in constant time. */
#ifndef FF_HTTP_AUTH_H
#define FF_HTTP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "http/req.h"

enum http_role { HTTP_ROLE_NONE = 0, HTTP_ROLE_CUSTOMER, HTTP_ROLE_STAFF, HTTP_ROLE_ADMIN };

struct http_principal {
    int64_t user_id;     /* 0 = anonymous (or the break-glass token) */
    enum http_role role;
    const char *anon_id; /* anonymous shopper id (cookie ff_anon or header
                            X-Anonymous-Id, 22..64 of [A-Za-z0-9_-]), or NULL */
    const char *session_id; /* the session behind an access token, or NULL */
    bool via_cookie;     /* authenticated by a cookie: state-changing requests
                            must carry a CSRF token (the authenticator checks) */
    bool break_glass;    /* authenticated by FRAMEFIT_ADMIN_TOKEN */
};

#define HTTP_ANON_ID_MIN 22
#define HTTP_ANON_ID_MAX 64
/* True when s is a well-formed anonymous shopper id: 22..64 chars of
 * [A-Za-z0-9_-] (NULL: false). The one check every module uses. */
bool http_anon_id_valid(const char *s);

/* The caller of req (request memory); never NULL: anonymous when no one
 * authenticated. */
const struct http_principal *http_principal(struct http_req *req);

/* Sets req's principal (copied into the request arena). A principal without
 * anon_id keeps the request's anonymous shopper id (cookie or header), so a
 * signed-in shopper still owns what this browser made before signing in.
 * FF_ENOMEM. */
enum ff_err http_principal_set(struct http_req *req,
                               const struct http_principal *p) FF_MUST_CHECK;

/* "customer", "staff", "admin" ("none" for HTTP_ROLE_NONE). */
const char *http_role_name(enum http_role r);
/* The role named s; HTTP_ROLE_NONE when unknown. */
enum http_role http_role_parse(const char *s);

/* The authenticator: identifies the caller (http_principal_set) from headers
 * or cookies. It may also refuse the request before the handler (rate limit,
 * CSRF, a malformed or expired token): then it records the problem in req
 * (http_errf / http_problem_set, response headers on resp) and returns an
 * error. An absent credential is not an error: leave the principal anonymous
 * and return FF_OK; the server then applies the route's flags. */
typedef enum ff_err (*http_auth_fn)(void *ud, struct http_req *req, struct http_resp *resp,
                                    unsigned route_flags);

/* For the server: runs the break-glass check, the authenticator and the
 * route's access flags. FF_OK means run the handler; otherwise the problem
 * is recorded in req. admin_token "" disables break-glass. */
enum ff_err http_auth_run(struct http_req *req, struct http_resp *resp, unsigned route_flags,
                          const char *admin_token, http_auth_fn fn, void *ud) FF_MUST_CHECK;

/* The value of cookie `name` in req's Cookie header(s), in request memory;
 * NULL when absent. */
const char *http_cookie(struct http_req *req, const char *name);

/* The bearer token of the Authorization header (pointer into the header),
 * or NULL when there is none. */
const char *http_bearer(const struct http_req *req);

#endif
