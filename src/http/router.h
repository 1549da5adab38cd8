/* router.h - method + path routing with {param} segments.
 *
 *   http_route_add(r, HTTP_GET, "/api/v1/products/{id}", get_product, app, 0);
 *
 * Patterns are absolute paths of literal segments and whole-segment
 * parameters `{name}` (name: [a-z0-9_]+). A literal segment beats a parameter
 * at the same position ("/products/search" wins over "/products/{id}").
 * A GET route also answers HEAD. Matching works on the raw path; parameter
 * values are percent-decoded (a decoded NUL or bad escape fails the match
 * with FF_EINVAL).
 *
 * Routes run on a worker thread (they may block on the database) unless
 * flagged HTTP_ROUTE_INLINE, or on the separate small "heavy" pool when
 * flagged HTTP_ROUTE_HEAVY (CPU-bound work such as password hashing, so it can
 * never occupy the workers that serve everything else). Access flags
 * (HTTP_ROUTE_AUTH, HTTP_ROUTE_STAFF, HTTP_ROUTE_ADMIN) are enforced before
 * the handler; see http/auth.h. */
#ifndef FF_HTTP_ROUTER_H
#define FF_HTTP_ROUTER_H

#include <stddef.h>

#include "core/arena.h"
#include "http/req.h"

enum http_route_flags {
    HTTP_ROUTE_INLINE = 1 << 0,  /* cheap, never blocks: run on the I/O thread */
    HTTP_ROUTE_STAFF = 1 << 1,   /* role staff or admin required (http/auth.h) */
    HTTP_ROUTE_NO_ETAG = 1 << 2, /* skip the automatic ETag / 304 */
    HTTP_ROUTE_HIDDEN = 1 << 3,  /* not in the OpenAPI document (e.g. /metrics is, so rare) */
    HTTP_ROUTE_AUTH = 1 << 4,    /* any signed-in user required (http/auth.h) */
    HTTP_ROUTE_ADMIN = 1 << 5,   /* role admin required (http/auth.h) */
    HTTP_ROUTE_HEAVY = 1 << 6,   /* CPU-heavy: runs on the heavy pool (server.h) */
    HTTP_ROUTE_IDEMPOTENT = 1 << 7, /* a POST that creates: honours Idempotency-Key
                                      (the app wraps these routes, see idem/idem.h) */
};

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_SEGMENTS 32

struct http_route {
    unsigned methods;        /* enum http_method bits */
    const char *pattern;     /* owned by the router */
    http_handler_fn fn;
    void *ud;
    unsigned flags;          /* enum http_route_flags */
    size_t index;            /* 0..count-1, registration order (metrics) */
    size_t max_body;         /* body limit for this route; 0 = the server's */
};

struct http_router;

/* A new empty router; free with http_router_free. NULL on OOM. */
struct http_router *http_router_new(void);
void http_router_free(struct http_router *r);

/* Adds a route. FF_EINVAL for a bad pattern or no methods, FF_ECONFLICT when
 * the same method and pattern shape exist already, FF_ENOMEM. */
enum ff_err http_route_add(struct http_router *r, unsigned methods, const char *pattern,
                           http_handler_fn fn, void *ud, unsigned flags) FF_MUST_CHECK;

struct http_match {
    const struct http_route *route; /* NULL when nothing matched */
    unsigned allowed;               /* methods the path supports (for 405 / Allow) */
    struct http_kv params[HTTP_MAX_PARAMS];
    size_t nparams;                 /* decoded values in the arena */
};

/* Matches method + raw path (no query). FF_OK with m->route set; FF_ENOTFOUND
 * when no pattern fits (m->allowed = 0) or the method is not allowed
 * (m->allowed != 0: answer 405 with Allow); FF_EINVAL for a bad escape in a
 * parameter; FF_ENOMEM. */
enum ff_err http_router_match(const struct http_router *r, enum http_method method,
                              const char *path, size_t len, struct ff_arena *arena,
                              struct http_match *m) FF_MUST_CHECK;

/* Gives the routes with exactly this pattern (and any of these methods) their
 * own body limit (e.g. photo uploads above FRAMEFIT_MAX_BODY_BYTES); the
 * server answers 413 above it. FF_ENOTFOUND when no such route exists. */
enum ff_err http_route_set_max_body(struct http_router *r, unsigned methods, const char *pattern,
                                    size_t max_body) FF_MUST_CHECK;
/* The largest per-route body limit (0 when none is set). */
size_t http_router_max_body(const struct http_router *r);

size_t http_router_count(const struct http_router *r);
/* Middleware: for every route with all `flags`, lets wrap() replace its
 * handler and ud (wrap gets the current ones and may keep them). Stops at the
 * first error. Call before the server starts. */
enum ff_err http_router_wrap(struct http_router *r, unsigned flags,
                             enum ff_err (*wrap)(void *arg, http_handler_fn *fn, void **ud),
                             void *arg) FF_MUST_CHECK;
const struct http_route *http_router_at(const struct http_router *r, size_t i);

/* Writes "GET, HEAD, POST" for a method set into buf (always terminated). */
void http_methods_format(unsigned methods, char *buf, size_t len);

#endif
