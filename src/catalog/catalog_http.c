/* catalog_http.c - the catalog's HTTP handlers (see catalog_http.h). */
#include "catalog/catalog_http.h"

#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/log.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/req.h"
#include "http/validate.h"

/* Any JSON object; the catalog validates the fields itself (with the same
 * {field, reason} errors). */
static const struct http_schema any_object = {NULL, 0, true};

/* Copies the service's {"field","message"} list into the problem; steals errs. */
static enum ff_err field_errors(struct http_req *req, json_t *errs, enum ff_err err)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        const char *f = json_string_value(json_object_get(e, "field"));
        const char *m = json_string_value(json_object_get(e, "message"));
        http_field_error(req, f && *f ? f : "body", "%s", m ? m : "is invalid");
    }
    json_decref(errs);
    req->err = err;
    if (err == FF_ECONFLICT) /* a taken slug or SKU: 409, still naming the field */
        http_problem_set(req, HTTP_PK_CONFLICT, "a unique value is already taken; see errors");
    return err;
}

/* Maps a service error with no field errors. */
static enum ff_err fail(struct http_req *req, enum ff_err err, const char *what)
{
    switch (err) {
    case FF_ENOTFOUND: return http_errf(req, err, "no such product");
    case FF_EDB:
    case FF_ETIMEOUT:
    case FF_EINTERNAL:
        ff_log(FF_LOG_ERROR, "catalog", "%s: %s: %s", what, ff_err_name(err), db_errmsg());
        return http_errf(req, err, "the catalog is unavailable right now");
    default: return http_errf(req, err, "%s failed", what);
    }
}

static enum ff_err set_etag(struct http_resp *resp, json_t *product)
{
    char tag[40];
    snprintf(tag, sizeof tag, "\"v%lld\"",
             (long long)json_integer_value(json_object_get(product, "version")));
    return http_resp_header(resp, "ETag", tag);
}

/* ---- reads ------------------------------------------------------------------ */

static enum ff_err h_list(struct http_req *req, struct http_resp *resp)
{
    struct db *db = req->ud;
    struct cat_kv kv[HTTP_MAX_QUERY_PARAMS];
    size_t n = req->nquery < HTTP_MAX_QUERY_PARAMS ? req->nquery : HTTP_MAX_QUERY_PARAMS;
    for (size_t i = 0; i < n; i++)
        kv[i] = (struct cat_kv){req->query[i].name, strlen(req->query[i].name),
                                req->query[i].value, strlen(req->query[i].value)};
    struct cat_query q;
    json_t *errs = NULL;
    char *text = NULL;
    size_t len = 0;
    enum ff_err err = cat_query_parse(kv, n, &q, &errs);
    if (err == FF_EINVAL)
        return field_errors(req, errs, err);
    if (!err)
        err = cat_list_text(db, &q, &text, &len);
    if (err)
        return fail(req, err, "listing products");
    err = http_reply(resp, 200, "application/json", text, len);
    ff_free(text);
    return err;
}

/* A {ref} is a product id (digits) or a slug. */
static bool ref_is_id(const char *ref, int64_t *id)
{
    size_t n = strlen(ref);
    if (!n || n > 18 || ref[0] == '0')
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (ref[i] < '0' || ref[i] > '9')
            return false;
        v = v * 10 + (ref[i] - '0');
    }
    *id = v;
    return true;
}

static enum ff_err load(struct http_req *req, json_t **out)
{
    const char *ref = http_param(req, "ref");
    int64_t id;
    *out = NULL;
    if (!ref)
        return http_errf(req, FF_ENOTFOUND, "no such product");
    enum ff_err err = ref_is_id(ref, &id) ? cat_get(req->ud, id, out)
                                          : cat_get_slug(req->ud, ref, out);
    return err ? fail(req, err, "reading a product") : FF_OK;
}

static enum ff_err h_get(struct http_req *req, struct http_resp *resp)
{
    const char *ref = http_param(req, "ref");
    int64_t id = 0, version = 0;
    char *text = NULL;
    size_t len = 0;
    if (!ref)
        return http_errf(req, FF_ENOTFOUND, "no such product");
    bool by_id = ref_is_id(ref, &id);
    enum ff_err err = cat_get_text(req->ud, id, by_id ? NULL : ref, &text, &len, &version);
    if (err)
        return fail(req, err, "reading a product");
    char tag[40];
    snprintf(tag, sizeof tag, "\"v%lld\"", (long long)version);
    err = http_resp_header(resp, "ETag", tag);
    if (!err)
        err = http_reply(resp, 200, "application/json", text, len);
    ff_free(text);
    return err;
}

/* ---- staff writes ---------------------------------------------------------- */

static enum ff_err reply_product(struct http_resp *resp, int status, json_t *p)
{
    enum ff_err err = set_etag(resp, p);
    if (!err && status == 201) {
        char loc[64];
        snprintf(loc, sizeof loc, "/api/v1/products/%lld",
                 (long long)json_integer_value(json_object_get(p, "id")));
        err = http_resp_header(resp, "Location", loc);
    }
    if (err) {
        json_decref(p);
        return err;
    }
    return http_reply_json(resp, status, p);
}

static enum ff_err h_create(struct http_req *req, struct http_resp *resp)
{
    json_t *body, *out = NULL, *errs = NULL;
    enum ff_err err = http_json_body(req, &any_object, &body);
    if (err)
        return err;
    err = cat_create(req->ud, body, &out, &errs);
    if (errs)
        return field_errors(req, errs, err);
    if (err)
        return fail(req, err, "creating a product");
    return reply_product(resp, 201, out);
}

/* Parses If-Match: "vN" -> N, "*" -> -1. false when it names no version. */
static bool if_match_version(const char *h, int64_t *v)
{
    while (*h == ' ' || *h == '\t')
        h++;
    if (h[0] == '*' && !h[1 + strspn(h + 1, " \t")]) {
        *v = -1;
        return true;
    }
    if (h[0] != '"' || h[1] != 'v')
        return false;
    int64_t n = 0;
    const char *p = h + 2;
    for (; *p >= '0' && *p <= '9' && n < (int64_t)1e15; p++)
        n = n * 10 + (*p - '0');
    if (p == h + 2 || *p != '"' || p[1 + strspn(p + 1, " \t")])
        return false;
    *v = n;
    return true;
}

/* Resolves {ref} to an id (a slug costs one read). */
static enum ff_err ref_id(struct http_req *req, int64_t *id)
{
    const char *ref = http_param(req, "ref");
    if (ref && ref_is_id(ref, id))
        return FF_OK;
    json_t *p;
    enum ff_err err = load(req, &p);
    if (err)
        return err;
    *id = json_integer_value(json_object_get(p, "id"));
    json_decref(p);
    return FF_OK;
}

static enum ff_err h_update(struct http_req *req, struct http_resp *resp)
{
    const char *im = http_header(req, "If-Match");
    int64_t id, version;
    if (!im)
        return http_problem_set(req, HTTP_PK_PRECONDITION_REQUIRED,
                                "send If-Match with the product's ETag (\"v<version>\")");
    json_t *body, *out = NULL, *errs = NULL;
    enum ff_err err = http_json_body(req, &any_object, &body);
    if (!err)
        err = ref_id(req, &id);
    if (err)
        return err;
    if (!if_match_version(im, &version))
        return http_problem_set(req, HTTP_PK_PRECONDITION_FAILED,
                                "If-Match does not name a version of this product");
    err = cat_update(req->ud, id, version, body, &out, &errs);
    if (errs)
        return field_errors(req, errs, err);
    if (err == FF_ECONFLICT)
        return http_problem_set(req, HTTP_PK_PRECONDITION_FAILED,
                                "the product changed since that ETag; fetch it again");
    if (err)
        return fail(req, err, "updating a product");
    return reply_product(resp, 200, out);
}

static enum ff_err h_delete(struct http_req *req, struct http_resp *resp)
{
    const char *im = http_header(req, "If-Match");
    int64_t id, version = -1;
    if (im && !if_match_version(im, &version))
        return http_problem_set(req, HTTP_PK_PRECONDITION_FAILED,
                                "If-Match does not name a version of this product");
    enum ff_err err = ref_id(req, &id);
    if (err)
        return err;
    err = cat_delete(req->ud, id, version);
    if (err == FF_ECONFLICT)
        return http_problem_set(req, HTTP_PK_PRECONDITION_FAILED,
                                "the product changed since that ETag; fetch it again");
    if (err)
        return fail(req, err, "deleting a product");
    http_reply_empty(resp, 204);
    return FF_OK;
}

enum ff_err cat_http_register(struct http_router *r, struct db *db)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/api/v1/products", h_list, db, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/products/{ref}", h_get, db, 0);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/products", h_create, db, HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_PATCH, "/api/v1/products/{ref}", h_update, db,
                           HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/products/{ref}", h_delete, db,
                           HTTP_ROUTE_STAFF);
    return e;
}
