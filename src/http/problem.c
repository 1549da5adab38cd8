/* problem.c - the one mapping from enum ff_err to HTTP status (RFC 9457). */
#include "http/problem.h"

#include <stdarg.h>
#include <string.h>

#define TYPE_BASE "https://framefit.dev/problems/"

struct kind_row {
    int status;
    const char *type;
    const char *title;
};

static const struct kind_row kinds[HTTP_PK_COUNT] = {
    [HTTP_PK_FROM_ERR] = {500, TYPE_BASE "internal", "Internal server error"},
    [HTTP_PK_BAD_REQUEST] = {400, TYPE_BASE "bad-request", "Malformed request"},
    [HTTP_PK_VALIDATION] = {422, TYPE_BASE "validation", "Request validation failed"},
    [HTTP_PK_UNAUTHORIZED] = {401, TYPE_BASE "unauthorized", "Authentication required"},
    [HTTP_PK_FORBIDDEN] = {403, TYPE_BASE "forbidden", "Not allowed"},
    [HTTP_PK_NOT_FOUND] = {404, TYPE_BASE "not-found", "Not found"},
    [HTTP_PK_METHOD_NOT_ALLOWED] = {405, TYPE_BASE "method-not-allowed", "Method not allowed"},
    [HTTP_PK_CONFLICT] = {409, TYPE_BASE "conflict", "Conflict"},
    [HTTP_PK_PRECONDITION_FAILED] = {412, TYPE_BASE "precondition-failed",
                                     "Precondition failed"},
    [HTTP_PK_TOO_LARGE] = {413, TYPE_BASE "payload-too-large", "Request body too large"},
    [HTTP_PK_UNSUPPORTED_MEDIA] = {415, TYPE_BASE "unsupported-media-type",
                                   "Unsupported media type"},
    [HTTP_PK_PRECONDITION_REQUIRED] = {428, TYPE_BASE "precondition-required",
                                       "Precondition required"},
    [HTTP_PK_INTERNAL] = {500, TYPE_BASE "internal", "Internal server error"},
    [HTTP_PK_NOT_IMPLEMENTED] = {501, TYPE_BASE "not-implemented", "Not implemented"},
    [HTTP_PK_BAD_GATEWAY] = {502, TYPE_BASE "upstream", "Upstream service failed"},
    [HTTP_PK_UNAVAILABLE] = {503, TYPE_BASE "unavailable", "Service unavailable"},
    [HTTP_PK_TIMEOUT] = {504, TYPE_BASE "timeout", "Timed out"},
    [HTTP_PK_TOO_MANY_REQUESTS] = {429, TYPE_BASE "too-many-requests", "Too many requests"},
    [HTTP_PK_IDEM_REUSE] = {422, TYPE_BASE "idempotency-key-reuse",
                            "Idempotency-Key reused for a different request"},
    [HTTP_PK_IDEM_IN_USE] = {409, TYPE_BASE "idempotency-key-in-use",
                             "A request with this Idempotency-Key is in progress"},
    [HTTP_PK_OUT_OF_STOCK] = {409, TYPE_BASE "out-of-stock", "Not enough stock"},
    [HTTP_PK_INVALID_TRANSITION] = {409, TYPE_BASE "invalid-transition",
                                    "Order state change not allowed"},
    [HTTP_PK_PAYMENTS_UNAVAILABLE] = {503, TYPE_BASE "payments-unavailable",
                                      "Payments unavailable"},
    [HTTP_PK_PAYMENT_PROVIDER] = {502, TYPE_BASE "payment-provider-error",
                                  "The payment provider refused the request"},
    [HTTP_PK_WEBHOOK_SIGNATURE] = {400, TYPE_BASE "webhook-signature",
                                   "Webhook signature invalid"},
};

enum http_problem_kind http_problem_kind_of(enum ff_err err)
{
    switch (err) {
    case FF_EINVAL: return HTTP_PK_VALIDATION;
    case FF_ENOTFOUND: return HTTP_PK_NOT_FOUND;
    case FF_ECONFLICT: return HTTP_PK_CONFLICT;
    case FF_EAUTH: return HTTP_PK_UNAUTHORIZED;
    case FF_EFORBIDDEN: return HTTP_PK_FORBIDDEN;
    case FF_ETOOBIG: return HTTP_PK_TOO_LARGE;
    case FF_EUNSUPPORTED: return HTTP_PK_UNSUPPORTED_MEDIA;
    case FF_ECORRUPT: return HTTP_PK_BAD_REQUEST;
    case FF_EUPSTREAM: return HTTP_PK_BAD_GATEWAY;
    case FF_ETIMEOUT: return HTTP_PK_UNAVAILABLE;
    case FF_EDB: return HTTP_PK_UNAVAILABLE;
    case FF_OK:
    case FF_ENOMEM:
    case FF_EIO:
    case FF_EINTERNAL:
    case FF_ERR_COUNT:
    default: return HTTP_PK_INTERNAL;
    }
}

static enum http_problem_kind clamp(enum http_problem_kind k)
{
    return (unsigned)k < HTTP_PK_COUNT ? k : HTTP_PK_INTERNAL;
}

int http_problem_status(enum http_problem_kind k) { return kinds[clamp(k)].status; }
const char *http_problem_type(enum http_problem_kind k) { return kinds[clamp(k)].type; }
const char *http_problem_title(enum http_problem_kind k) { return kinds[clamp(k)].title; }

enum ff_err http_problem_set(struct http_req *req, enum http_problem_kind k, const char *fmt,
                             ...)
{
    va_list ap;
    va_start(ap, fmt);
    req->err_detail = ff_arena_vsprintf(req->arena, fmt, ap);
    va_end(ap);
    req->problem_status = (int)k;
    if (!req->err)
        req->err = FF_ECONFLICT;
    return req->err;
}

static const char fallback[] =
    "{\"type\":\"" TYPE_BASE "internal\",\"title\":\"Internal server error\",\"status\":500}";

void http_problem_render(struct http_req *req, struct http_resp *resp)
{
    enum http_problem_kind k = req->problem_status ? clamp((enum http_problem_kind)req->problem_status)
                                                   : http_problem_kind_of(req->err);
    /* field errors always mean validation, whatever error came back */
    if (req->field_errs && !req->problem_status)
        k = HTTP_PK_VALIDATION;
    int status = kinds[k].status;
    const char *detail = req->err_detail;
    /* never leak internal error text: 5xx details are generic */
    if (status >= 500 && k != HTTP_PK_UNAVAILABLE && k != HTTP_PK_NOT_IMPLEMENTED &&
        k != HTTP_PK_PAYMENTS_UNAVAILABLE && k != HTTP_PK_PAYMENT_PROVIDER)
        detail = "The server failed to handle the request; see the logs for this request id.";
    if (!detail && req->field_errs)
        detail = "One or more fields are invalid; see errors.";

    json_t *j = json_object();
    if (!j)
        goto oom;
    json_object_set_new(j, "type", json_string(kinds[k].type));
    json_object_set_new(j, "title", json_string(kinds[k].title));
    json_object_set_new(j, "status", json_integer(status));
    if (detail)
        json_object_set_new(j, "detail", json_string(detail));
    if (req->id)
        json_object_set_new(j, "instance", json_string(req->id));
    if (req->field_errs) {
        json_t *a = json_array();
        for (struct http_field_err *f = req->field_errs; f && a; f = f->next)
            json_array_append_new(a, json_pack("{s:s,s:s}", "field", f->field, "reason",
                                               f->reason));
        json_object_set_new(j, "errors", a);
    }
    if (http_reply_json(resp, status, j))
        goto oom;
    resp->content_type = "application/problem+json";
    return;
oom:
    http_reply_static(resp, 500, "application/problem+json", fallback, sizeof fallback - 1);
}

void http_problem_reply(struct http_req *req, struct http_resp *resp, enum http_problem_kind k,
                        const char *detail)
{
    req->problem_status = (int)k;
    if (detail)
        req->err_detail = detail;
    http_problem_render(req, resp);
}
