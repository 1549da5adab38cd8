/* catalog_http.c - the catalog's HTTP handlers (see catalog_http.h). */
#include "catalog/catalog_http.h"

#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/catalog_cache.h"
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

/* The handlers' ud is the cache (it holds the database; a disabled cache
 * never stores). */
static struct db *req_db(struct http_req *req)
{
    return cat_cache_db(req->ud);
}

/* ---- reads ------------------------------------------------------------------ */

/* Appends one field to a cache key: numbers as text, strings length-prefixed
 * (so no value can forge a separator). false when key is full. */
static bool key_num(char *k, size_t cap, size_t *n, int64_t v)
{
    int w = snprintf(k + *n, cap - *n, "%lld,", (long long)v);
    if (w < 0 || (size_t)w >= cap - *n)
        return false;
    *n += (size_t)w;
    return true;
}

static bool key_str(char *k, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (!key_num(k, cap, n, (int64_t)len) || len >= cap - *n)
        return false;
    memcpy(k + *n, s, len);
    *n += len;
    return true;
}

/* The normalised list request as a cache key ("l:" + every field). */
static size_t list_key(const struct cat_query *q, char *k, size_t cap)
{
    size_t n = 2;
    memcpy(k, "l:", 2);
    const struct cat_range *r[] = {&q->price, &q->lens_width, &q->bridge, &q->temple,
                                   &q->lens_height};
    bool ok = key_str(k, cap, &n, q->q) && key_num(k, cap, &n, q->shapes) &&
              key_num(k, cap, &n, q->faces) && key_str(k, cap, &n, q->material) &&
              key_str(k, cap, &n, q->colour) && key_num(k, cap, &n, q->in_stock) &&
              key_num(k, cap, &n, q->sort) && key_num(k, cap, &n, q->limit) &&
              key_num(k, cap, &n, q->offset) && key_num(k, cap, &n, q->has_after) &&
              key_num(k, cap, &n, q->after_id) && key_num(k, cap, &n, q->after_num) &&
              key_str(k, cap, &n, q->after_text);
    for (size_t i = 0; ok && i < sizeof r / sizeof r[0]; i++)
        ok = key_num(k, cap, &n, r[i]->min) && key_num(k, cap, &n, r[i]->max);
    return ok ? n : 0;
}

static enum ff_err h_list(struct http_req *req, struct http_resp *resp)
{
    struct cat_cache *cache = req->ud;
    struct db *db = req_db(req);
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
    char key[1024];
    size_t klen = err ? 0 : list_key(&q, key, sizeof key);
    if (klen) {
        const struct cat_cache_val *v = cat_cache_get(cache, key, klen);
        if (v) {
            err = http_reply(resp, 200, "application/json", v->body, v->len);
            cat_cache_release(cache, v);
            return err;
        }
    }
    uint64_t epoch = cat_cache_epoch(cache);
    if (!err)
        err = cat_list_text(db, &q, &text, &len);
    if (err)
        return fail(req, err, "listing products");
    if (klen && cat_cache_put(cache, key, klen, text, len, 0, epoch))
        ff_log(FF_LOG_WARN, "catalog", "cache: out of memory storing a list page");
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
    enum ff_err err = ref_is_id(ref, &id) ? cat_get(req_db(req), id, out)
                                          : cat_get_slug(req_db(req), ref, out);
    return err ? fail(req, err, "reading a product") : FF_OK;
}

static enum ff_err reply_get(struct http_resp *resp, const char *text, size_t len,
                             int64_t version)
{
    char tag[40];
    snprintf(tag, sizeof tag, "\"v%lld\"", (long long)version);
    enum ff_err err = http_resp_header(resp, "ETag", tag);
    if (!err)
        err = http_reply(resp, 200, "application/json", text, len);
    return err;
}

static enum ff_err h_get(struct http_req *req, struct http_resp *resp)
{
    struct cat_cache *cache = req->ud;
    const char *ref = http_param(req, "ref");
    int64_t id = 0, version = 0;
    char *text = NULL;
    size_t len = 0;
    if (!ref)
        return http_errf(req, FF_ENOTFOUND, "no such product");
    bool by_id = ref_is_id(ref, &id);
    char key[256];
    int klen = by_id ? snprintf(key, sizeof key, "i:%lld", (long long)id)
                     : snprintf(key, sizeof key, "s:%s", ref);
    if (klen < 0 || (size_t)klen >= sizeof key)
        klen = 0; /* too long to be a slug: not cached */
    if (klen) {
        const struct cat_cache_val *v = cat_cache_get(cache, key, (size_t)klen);
        if (v) {
            enum ff_err err = reply_get(resp, v->body, v->len, v->version);
            cat_cache_release(cache, v);
            return err;
        }
    }
    uint64_t epoch = cat_cache_epoch(cache);
    enum ff_err err = cat_get_text(req_db(req), id, by_id ? NULL : ref, &text, &len, &version);
    if (err)
        return fail(req, err, "reading a product");
    if (klen && cat_cache_put(cache, key, (size_t)klen, text, len, version, epoch))
        ff_log(FF_LOG_WARN, "catalog", "cache: out of memory storing a product");
    err = reply_get(resp, text, len, version);
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
    err = cat_create(req_db(req), body, &out, &errs);
    if (!err)
        cat_cache_invalidate(req->ud);
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
    err = cat_update(req_db(req), id, version, body, &out, &errs);
    if (!err)
        cat_cache_invalidate(req->ud);
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
    err = cat_delete(req_db(req), id, version);
    if (!err)
        cat_cache_invalidate(req->ud);
    if (err == FF_ECONFLICT)
        return http_problem_set(req, HTTP_PK_PRECONDITION_FAILED,
                                "the product changed since that ETag; fetch it again");
    if (err)
        return fail(req, err, "deleting a product");
    http_reply_empty(resp, 204);
    return FF_OK;
}

enum ff_err cat_http_register(struct http_router *r, struct cat_cache *cache)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/api/v1/products", h_list, cache, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/products/{ref}", h_get, cache, 0);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/products", h_create, cache,
                           HTTP_ROUTE_STAFF | HTTP_ROUTE_IDEMPOTENT);
    if (!e)
        e = http_route_add(r, HTTP_PATCH, "/api/v1/products/{ref}", h_update, cache,
                           HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/products/{ref}", h_delete, cache,
                           HTTP_ROUTE_STAFF);
    return e;
}
