/* server.h - the HTTP server (libmicrohttpd inside server.c only).
 *
 * MHD runs an epoll thread pool (opts.threads I/O threads) that parses
 * requests and writes responses. Handlers of ordinary routes run on a pool of
 * worker threads (opts.workers): the connection is suspended while its
 * handler runs, so a slow database call never holds an I/O thread. Routes
 * flagged HTTP_ROUTE_INLINE run on the I/O thread.
 *
 * Around every handler the server: assigns the request id (a sane
 * X-Request-Id is kept, else one is generated) and echoes it; rejects
 * request-smuggling shapes (duplicate Content-Length, Content-Length with
 * Transfer-Encoding, unknown transfer codings) with 400 and closes; caps the
 * body (413); answers 404/405 (with Allow), CORS preflights and OPTIONS;
 * runs the authenticator and the route's access flags (http/auth.h: 401/403)
 * on the handler's thread, just before the handler; renders
 * problems; adds security headers, CORS headers and, on GET 200, an ETag
 * (304 on If-None-Match); records metrics; and writes one JSON access line
 * per request. */
#ifndef FF_HTTP_SERVER_H
#define FF_HTTP_SERVER_H

#include <stddef.h>

#include "core/err.h"
#include "http/auth.h"
#include "http/metrics.h"
#include "http/router.h"

struct http_server_opts {
    const char *bind;          /* IPv4 or IPv6 literal */
    int port;                  /* 0 = any free port (see http_server_port) */
    int threads;               /* I/O threads, >= 1 */
    int workers;               /* handler workers, >= 1 */
    size_t max_body_bytes;     /* 413 above this */
    int timeout_s;             /* idle connection timeout */
    const char *cors_origins;  /* "", "*" or comma-separated origins */
    const char *admin_token;   /* break-glass admin bearer token; "" = none (http/auth.h) */
    int heavy_workers;         /* threads for HTTP_ROUTE_HEAVY routes, >= 1 */
    http_auth_fn auth;         /* identifies callers (http/auth.h); NULL = anonymous only */
    void *auth_ud;
};

struct http_server;

/* Creates a server over `router` (borrowed: it must outlive the server and
 * not change after http_server_start). Strings in opts are copied. NULL on OOM. */
struct http_server *http_server_new(const struct http_server_opts *opts,
                                    const struct http_router *router);

/* Binds and starts the threads. FF_EIO with a logged reason if the address
 * cannot be bound. */
enum ff_err http_server_start(struct http_server *s) FF_MUST_CHECK;

/* The bound port (useful with port 0). */
int http_server_port(const struct http_server *s);

/* The metrics registry (owned by the server, valid from http_server_new);
 * add collectors (e.g. storage pool gauges) before start. */
struct http_metrics *http_server_metrics(struct http_server *s);

/* Graceful stop: stop accepting, let in-flight requests finish for up to
 * timeout_s seconds (responses get Connection: close), then stop the
 * threads. Returns the number of requests still in flight when it gave up. */
int http_server_shutdown(struct http_server *s, int timeout_s);

/* Frees a stopped (or never started) server. */
void http_server_free(struct http_server *s);

#endif
