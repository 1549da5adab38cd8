/* req.h - the request/response API for handlers (no libmicrohttpd here).
 *
 * A handler runs once per request, on a worker thread by default (it may block
 * on the database) or on an I/O thread for routes flagged HTTP_ROUTE_INLINE
 * (then it must not block). Everything it allocates comes from req->arena and
 * is released after the response is sent.
 *
 *   static enum ff_err get_product(struct http_req *req, struct http_resp *resp)
 *   {
 *       struct app *app = req->ud;                      // from http_route_add
 *       int64_t id;
 *       if (http_param_i64(req, "id", 1, INT64_MAX, &id))
 *           return FF_EINVAL;                           // problem already noted
 *       json_t *j = ...;
 *       if (!j)
 *           return http_errf(req, FF_ENOTFOUND, "no product %lld", (long long)id);
 *       return http_reply_json(resp, 200, j);           // steals j
 *   }
 *
 * Returning an error (without having replied) makes the server answer with
 * an RFC 9457 problem built by http/problem.c from the error, the detail text
 * given to http_errf, and any field errors added with http_field_error. */
#ifndef FF_HTTP_REQ_H
#define FF_HTTP_REQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

struct http_principal; /* http/auth.h */

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
};

/* "GET" etc; NULL for unknown. */
const char *http_method_name(enum http_method m);
/* 0 for an unknown method name. */
enum http_method http_method_parse(const char *s);

struct http_kv {
    const char *name;  /* NUL-terminated, arena memory */
    const char *value; /* NUL-terminated (decoded for params and query) */
};

/* A validation error for one field (RFC 9457 "errors" member). */
struct http_field_err {
    struct http_field_err *next;
    const char *field;  /* JSON pointer-ish name: "price_cents", "variants[2].sku" */
    const char *reason; /* "must be an integer >= 0" */
};

struct http_req {
    enum http_method method;
    const char *method_name;
    const char *path;          /* raw path, without the query string */
    const char *route;         /* the matched pattern, e.g. "/api/v1/products/{id}" */
    const char *id;            /* request id (X-Request-Id), echoed in the response */
    struct http_kv *params;    /* path parameters, decoded */
    size_t nparams;
    struct http_kv *query;     /* query parameters in order, decoded; repeats kept */
    size_t nquery;
    struct http_kv *headers;   /* as received; names compare case-insensitively */
    size_t nheaders;
    const char *body;          /* NUL-terminated (the NUL is not counted) */
    size_t body_len;
    struct ff_arena *arena;    /* request memory, freed after the response */
    void *ud;                  /* the pointer given to http_route_add */
    bool is_staff;             /* the caller has role staff or admin (http/auth.h) */
    const char *client_ip;     /* the peer address ("127.0.0.1", "::1"), never NULL */
    struct http_principal *principal; /* the caller; read it with http_principal() */

    /* problem details, filled by http_errf / http_field_error */
    enum ff_err err;
    const char *err_detail;
    struct http_field_err *field_errs;
    int problem_status;        /* 0 = derive from err (problem.c) */
};

struct http_resp {
    int status;                /* 0 = no reply yet */
    const char *content_type;  /* NULL = none */
    const char *body;          /* arena or static memory */
    size_t body_len;
    struct http_kv *headers;   /* extra headers, arena memory */
    size_t nheaders, cap_headers;
    struct ff_arena *arena;
};

/* ---- reading the request ------------------------------------------------ */

/* Path parameter by name ("id" for "{id}"); NULL if absent. */
const char *http_param(const struct http_req *req, const char *name);
/* First query parameter with this name; NULL if absent. */
const char *http_query(const struct http_req *req, const char *name);
/* Header value by name (case-insensitive); NULL if absent. */
const char *http_header(const struct http_req *req, const char *name);

/* Parses a path parameter / query parameter as a strict decimal integer in
 * [min, max]. On error records a field error (name: reason) and returns
 * FF_EINVAL, so the handler can just `return FF_EINVAL`. A missing query
 * parameter leaves *out unchanged and returns FF_OK (*present = false) */
enum ff_err http_param_i64(struct http_req *req, const char *name, int64_t min, int64_t max,
                           int64_t *out) FF_MUST_CHECK;
enum ff_err http_query_i64(struct http_req *req, const char *name, int64_t min, int64_t max,
                           int64_t *out, bool *present) FF_MUST_CHECK;

/* ---- errors -------------------------------------------------------------- */

/* Records err and a detail (printf into the arena) for the problem response
 * and returns err:  `return http_errf(req, FF_ENOTFOUND, "no frame %s", id);` */
enum ff_err http_errf(struct http_req *req, enum ff_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds one {field, reason} to the problem's "errors" array (reason is printf).
 * Returns FF_EINVAL. Collect several, then return FF_EINVAL. */
enum ff_err http_field_error(struct http_req *req, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- replying ------------------------------------------------------------ */

/* The largest JSON response body http_reply_json produces. */
#define HTTP_MAX_JSON_OUT ((size_t)64 << 20)

/* Serializes j (compact) as application/json with `status`; decrefs j
 * (steals the reference, also on error). FF_ENOMEM on failure (or a body
 * over HTTP_MAX_JSON_OUT). */
enum ff_err http_reply_json(struct http_resp *resp, int status, json_t *j) FF_MUST_CHECK;
/* Replies with bytes (copied into the arena) and a content type. */
enum ff_err http_reply(struct http_resp *resp, int status, const char *content_type,
                       const char *body, size_t len) FF_MUST_CHECK;
/* Replies with static bytes (not copied; must outlive the request). */
void http_reply_static(struct http_resp *resp, int status, const char *content_type,
                       const char *body, size_t len);
/* Replies with no body (204, 304, ...). */
void http_reply_empty(struct http_resp *resp, int status);
/* Adds a response header (both strings copied into the arena). Setting
 * "ETag" yourself disables the automatic body hash ETag. */
enum ff_err http_resp_header(struct http_resp *resp, const char *name,
                             const char *value) FF_MUST_CHECK;
/* The value of a response header already set, or NULL. */
const char *http_resp_get_header(const struct http_resp *resp, const char *name);

typedef enum ff_err (*http_handler_fn)(struct http_req *req, struct http_resp *resp);

#endif
