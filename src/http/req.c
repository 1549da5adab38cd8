/* req.c - the handler-facing request/response helpers. */
#include "http/req.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"

static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT",
                                           "PATCH", "DELETE", "OPTIONS"};

const char *http_method_name(enum http_method m)
{
    for (int i = 0; i < 7; i++)
        if (m == (enum http_method)(1 << i))
            return method_names[i];
    return NULL;
}

enum http_method http_method_parse(const char *s)
{
    for (int i = 0; i < 7; i++)
        if (s && !strcmp(s, method_names[i]))
            return (enum http_method)(1 << i);
    return 0;
}

static const char *kv_find(const struct http_kv *kv, size_t n, const char *name, bool icase)
{
    for (size_t i = 0; i < n; i++)
        if (icase ? !strcasecmp(kv[i].name, name) : !strcmp(kv[i].name, name))
            return kv[i].value;
    return NULL;
}

const char *http_param(const struct http_req *req, const char *name)
{
    return kv_find(req->params, req->nparams, name, false);
}

const char *http_query(const struct http_req *req, const char *name)
{
    return kv_find(req->query, req->nquery, name, false);
}

const char *http_header(const struct http_req *req, const char *name)
{
    return kv_find(req->headers, req->nheaders, name, true);
}

static enum ff_err parse_field(struct http_req *req, const char *name, const char *v,
                               int64_t min, int64_t max, int64_t *out)
{
    if (ff_parse_i64(ff_str_c(v), min, max, out))
        return http_field_error(req, name, "must be an integer in %lld..%lld", (long long)min,
                                (long long)max);
    return FF_OK;
}

enum ff_err http_param_i64(struct http_req *req, const char *name, int64_t min, int64_t max,
                           int64_t *out)
{
    const char *v = http_param(req, name);
    if (!v)
        return http_errf(req, FF_EINTERNAL, "route has no parameter %s", name);
    return parse_field(req, name, v, min, max, out);
}

enum ff_err http_query_i64(struct http_req *req, const char *name, int64_t min, int64_t max,
                           int64_t *out, bool *present)
{
    const char *v = http_query(req, name);
    if (present)
        *present = v != NULL;
    if (!v)
        return FF_OK;
    return parse_field(req, name, v, min, max, out);
}

enum ff_err http_errf(struct http_req *req, enum ff_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    req->err_detail = ff_arena_vsprintf(req->arena, fmt, ap);
    va_end(ap);
    req->err = err;
    return err;
}

enum ff_err http_field_error(struct http_req *req, const char *field, const char *fmt, ...)
{
    struct http_field_err *fe = ff_arena_alloc(req->arena, sizeof *fe);
    if (fe) {
        va_list ap;
        va_start(ap, fmt);
        fe->reason = ff_arena_vsprintf(req->arena, fmt, ap);
        va_end(ap);
        fe->field = ff_arena_strdup(req->arena, field);
        fe->next = NULL;
        if (fe->reason && fe->field) {
            /* keep the order the errors were found in */
            struct http_field_err **pp = &req->field_errs;
            while (*pp)
                pp = &(*pp)->next;
            *pp = fe;
        }
    }
    if (!req->err)
        req->err = FF_EINVAL;
    return FF_EINVAL;
}

/* Serialization appends into a chunked arena buffer: one pass, no copy for
 * small documents. */
struct dump_ctx {
    struct ff_arena *arena;
    char *buf;
    size_t len, cap;
};

static int dump_cb(const char *p, size_t n, void *ud)
{
    struct dump_ctx *d = ud;
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        while (cap < d->len + n)
            cap *= 2;
        if (cap > HTTP_MAX_JSON_OUT)
            return -1;
        char *nb = ff_arena_alloc(d->arena, cap);
        if (!nb)
            return -1;
        if (d->len)
            memcpy(nb, d->buf, d->len);
        d->buf = nb; /* the old block stays in the arena until the request ends */
        d->cap = cap;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return 0;
}

enum ff_err http_reply_json(struct http_resp *resp, int status, json_t *j)
{
    if (!j)
        return FF_ENOMEM;
    struct dump_ctx d = {resp->arena, NULL, 0, 0};
    int rc = json_dump_callback(j, dump_cb, &d, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (rc || !d.len)
        return FF_ENOMEM;
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = d.buf;
    resp->body_len = d.len;
    return FF_OK;
}

enum ff_err http_reply(struct http_resp *resp, int status, const char *content_type,
                       const char *body, size_t len)
{
    char *copy = ff_arena_strndup(resp->arena, body, len);
    if (!copy)
        return FF_ENOMEM;
    http_reply_static(resp, status, content_type, copy, len);
    return FF_OK;
}

void http_reply_static(struct http_resp *resp, int status, const char *content_type,
                       const char *body, size_t len)
{
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = len;
}

void http_reply_empty(struct http_resp *resp, int status)
{
    http_reply_static(resp, status, NULL, NULL, 0);
}

enum ff_err http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders == resp->cap_headers) {
        size_t cap = resp->cap_headers ? resp->cap_headers * 2 : 8;
        struct http_kv *h = ff_arena_alloc(resp->arena, cap * sizeof *h);
        if (!h)
            return FF_ENOMEM;
        if (resp->nheaders)
            memcpy(h, resp->headers, resp->nheaders * sizeof *h);
        resp->headers = h;
        resp->cap_headers = cap;
    }
    char *n = ff_arena_strdup(resp->arena, name);
    char *v = ff_arena_strdup(resp->arena, value);
    if (!n || !v)
        return FF_ENOMEM;
    resp->headers[resp->nheaders++] = (struct http_kv){n, v};
    return FF_OK;
}

const char *http_resp_get_header(const struct http_resp *resp, const char *name)
{
    return kv_find(resp->headers, resp->nheaders, name, true);
}
