/* problem.h - RFC 9457 application/problem+json responses.
 *
 * problem.c is the ONLY place that maps enum ff_err to an HTTP status. Each
 * problem kind has a stable type URI (https://framefit.dev/problems/<slug>),
 * a title and a status. Handlers never call these directly: they return an
 * error (see http_errf / http_field_error in http/req.h) and the server
 * renders it; http/server.c and the router use http_problem_kind_reply for
 * protocol-level problems such as 405 or 413. */
#ifndef FF_HTTP_PROBLEM_H
#define FF_HTTP_PROBLEM_H

#include "http/req.h"

enum http_problem_kind {
    HTTP_PK_FROM_ERR = 0,        /* derive from req->err */
    HTTP_PK_BAD_REQUEST,         /* 400 malformed syntax (JSON, encoding, framing) */
    HTTP_PK_VALIDATION,          /* 422 well-formed but invalid fields */
    HTTP_PK_UNAUTHORIZED,        /* 401 */
    HTTP_PK_FORBIDDEN,           /* 403 */
    HTTP_PK_NOT_FOUND,           /* 404 */
    HTTP_PK_METHOD_NOT_ALLOWED,  /* 405 */
    HTTP_PK_CONFLICT,            /* 409 */
    HTTP_PK_PRECONDITION_FAILED, /* 412 (If-Match mismatch) */
    HTTP_PK_TOO_LARGE,           /* 413 */
    HTTP_PK_UNSUPPORTED_MEDIA,   /* 415 */
    HTTP_PK_PRECONDITION_REQUIRED, /* 428 (If-Match missing) */
    HTTP_PK_INTERNAL,            /* 500 */
    HTTP_PK_NOT_IMPLEMENTED,     /* 501 */
    HTTP_PK_BAD_GATEWAY,         /* 502 */
    HTTP_PK_UNAVAILABLE,         /* 503 */
    HTTP_PK_TIMEOUT,             /* 504 */
    HTTP_PK_TOO_MANY_REQUESTS,   /* 429 (rate limits, lockout) */
    HTTP_PK_IDEM_REUSE,          /* 422 Idempotency-Key reused for another request */
    HTTP_PK_IDEM_IN_USE,         /* 409 Idempotency-Key's first request still running */
    HTTP_PK_OUT_OF_STOCK,        /* 409 not enough stock (orders: errors[] names the variants) */
    HTTP_PK_INVALID_TRANSITION,  /* 409 order state change not allowed from the current state */
    HTTP_PK_PAYMENTS_UNAVAILABLE, /* 503 payments not configured or Stripe unreachable (payments) */
    HTTP_PK_PAYMENT_PROVIDER,    /* 502 Stripe refused the request; detail has Stripe's message */
    HTTP_PK_WEBHOOK_SIGNATURE,   /* 400 webhook signature missing, malformed or not matching */
    HTTP_PK_COUNT
};

/* The kind an error maps to (the one table). */
enum http_problem_kind http_problem_kind_of(enum ff_err err);
int http_problem_status(enum http_problem_kind k);
/* "https://framefit.dev/problems/validation" etc; never NULL. */
const char *http_problem_type(enum http_problem_kind k);
const char *http_problem_title(enum http_problem_kind k);

/* Overrides the kind for this request's problem (e.g. a handler whose
 * If-Match does not match: http_problem_set(req, HTTP_PK_PRECONDITION_FAILED,
 * "etag is \"...\"") returns FF_ECONFLICT for convenience). */
enum ff_err http_problem_set(struct http_req *req, enum http_problem_kind k,
                             const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Renders the problem recorded in req (kind from req->problem_status, else
 * from req->err; detail; field errors; instance = request id) into resp.
 * Falls back to a static body if memory runs out. Never fails. */
void http_problem_render(struct http_req *req, struct http_resp *resp);

/* Shortcut for the server: record kind + detail and render. */
void http_problem_reply(struct http_req *req, struct http_resp *resp,
                        enum http_problem_kind k, const char *detail);

#endif
