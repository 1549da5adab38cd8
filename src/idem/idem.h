/* idem.h - Idempotency-Key for POSTs that create something.
 *
 * A client that may retry a POST (timeouts, dropped connections) sends
 * `Idempotency-Key: <1..255 printable ASCII>`. The first request with a key
 * runs; a retry with the same key and the same request (method, path, body)
 * gets the first answer again (header `Idempotent-Replayed: true`), a reuse of
 * the key for a different request is a 422 (problem type idempotency-key-reuse),
 * and a retry that arrives while the first is still running is a 409 with
 * Retry-After: 1. Keys are scoped to the caller (see idem_set_scope_fn) and
 * kept for FRAMEFIT_IDEMPOTENCY_TTL (24 h by default) — the window in which
 * clients may retry.
 *
 * What is stored: answers the handler gave itself (resp->status set) with a
 * status below 500 and a text body. Errors returned as problems and 5xx
 * release the key, so the retry runs again (nothing was created).
 *
 * A module marks its creating POSTs with HTTP_ROUTE_IDEMPOTENT; the app then
 * wraps every such route once (app/routes.c):
 *
 *     e = http_route_add(r, HTTP_POST, "/api/v1/orders", create_order, ud,
 *                        HTTP_ROUTE_IDEMPOTENT);
 *     ...
 *     e = idem_wrap_routes(idem, router);
 *
 * Exactly once across crashes: the wrapper records the answer after the
 * handler returns, so a crash between the handler's commit and that record
 * lets a retry run the handler again. Handlers whose effect must never
 * repeat (checkout) also record the answer inside their own transaction with
 * idem_record_in_tx; then commit and record are one. */
#ifndef FF_IDEM_IDEM_H
#define FF_IDEM_IDEM_H

#include <stddef.h>

#include "core/err.h"
#include "http/req.h"
#include "http/router.h"

struct db;
struct db_conn;
struct idem;
struct idem_route;

#define IDEM_KEY_MAX 255
#define IDEM_BODY_MAX (1 << 20) /* larger answers are not stored (the key is released) */

/* ttl_s: how long a finished key is remembered; lock_s: after how long a key
 * whose request never finished (the process died) may be taken over. */
enum ff_err idem_new(struct idem **out, struct db *db, int ttl_s, int lock_s) FF_MUST_CHECK;
/* Frees idem and every route wrapper made from it (after the server stopped). */
void idem_free(struct idem *idem);

/* Writes the caller's scope into buf (NUL-terminated, <= len-1 bytes): keys
 * of different scopes never meet. The default (http/auth.h's principal) is the
 * signed-in user, else the break-glass token, else the anonymous shopper id
 * (cookie ff_anon or header X-Anonymous-Id), else the client address. */
typedef void (*idem_scope_fn)(struct http_req *req, char *buf, size_t len);
void idem_set_scope_fn(struct idem *idem, idem_scope_fn fn);

/* A wrapper of fn/ud for http_route_add(..., idem_handler, *out, ...). The
 * wrapper belongs to idem. */
enum ff_err idem_wrap(struct idem *idem, http_handler_fn fn, void *ud,
                      struct idem_route **out) FF_MUST_CHECK;
/* The handler to register with the idem_route as its ud. */
enum ff_err idem_handler(struct http_req *req, struct http_resp *resp);
/* Wraps every route flagged HTTP_ROUTE_IDEMPOTENT (http_router_wrap). */
enum ff_err idem_wrap_routes(struct idem *idem, struct http_router *r) FF_MUST_CHECK;

/* Inside a wrapped handler: records the answer (status, content type, body)
 * for the current request's key on conn, i.e. in the handler's own open
 * transaction, so the effect and the record commit together. A no-op (FF_OK)
 * when the request has no key. Reply with the same answer afterwards. */
enum ff_err idem_record_in_tx(struct http_req *req, struct db_conn *conn, int status,
                              const char *content_type, const char *body,
                              size_t len) FF_MUST_CHECK;

/* Deletes keys older than the TTL; *deleted (may be NULL) gets the count.
 * Run it periodically (a recurring job). */
enum ff_err idem_purge(struct idem *idem, long long *deleted) FF_MUST_CHECK;

struct jobs_registry;
/* Registers the recurring job "idem.purge" (hourly; idem_purge). */
enum ff_err idem_jobs_register(struct idem *idem, struct jobs_registry *reg) FF_MUST_CHECK;

#endif
