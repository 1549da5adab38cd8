/* builtin.h - the server's own routes: /healthz, /readyz, /metrics and
 * /api/v1/openapi.json. */
#ifndef FF_HTTP_BUILTIN_H
#define FF_HTTP_BUILTIN_H

#include <stddef.h>

#include "core/err.h"
#include "http/router.h"
#include "http/server.h"

/* Readiness probe: FF_OK when storage (and anything else needed) answers;
 * otherwise write a short reason (no secrets) into why. Runs on a worker. */
typedef enum ff_err (*http_ready_fn)(void *ud, char *why, size_t len);

struct http_builtin {
    http_ready_fn ready;       /* NULL = always ready */
    void *ready_ud;
    const char *openapi;       /* the OpenAPI document (static memory) */
    size_t openapi_len;
    struct http_server *server; /* set after http_server_new, for /metrics */
};

/* Registers the four routes with b as their user data (b must outlive the
 * router). */
enum ff_err http_builtin_register(struct http_router *r, struct http_builtin *b) FF_MUST_CHECK;

#endif
