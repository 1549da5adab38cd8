/* jobs_http.c - the staff endpoints over jobs (see jobs_http.h). */
#include "jobs/jobs_http.h"

#include <stdint.h>

#include "core/log.h"
#include "db/db.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/req.h"
#include "jobs/jobs_admin.h"

static enum ff_err fail(struct http_req *req, enum ff_err err, int64_t id, const char *what)
{
    switch (err) {
    case FF_ENOTFOUND: return http_errf(req, err, "no job %lld", (long long)id);
    case FF_ECONFLICT:
        return http_errf(req, err, "job %lld cannot be %s in its current state", (long long)id,
                         what);
    case FF_ENOMEM: return http_errf(req, err, "out of memory");
    default:
        ff_log(FF_LOG_ERROR, "jobs", "%s: %s: %s", what, ff_err_name(err), db_errmsg());
        return http_errf(req, err, "the job store is unavailable right now");
    }
}

static enum ff_err h_list(struct http_req *req, struct http_resp *resp)
{
    struct jobs_kv kv[HTTP_MAX_QUERY_PARAMS];
    size_t n = req->nquery < HTTP_MAX_QUERY_PARAMS ? req->nquery : HTTP_MAX_QUERY_PARAMS;
    for (size_t i = 0; i < n; i++)
        kv[i] = (struct jobs_kv){req->query[i].name, req->query[i].value};
    struct jobs_filter f;
    char field[64], reason[128];
    if (jobs_filter_parse(kv, n, &f, field, sizeof field, reason, sizeof reason))
        return http_field_error(req, field, "%s", reason);
    json_t *out;
    enum ff_err err = jobs_admin_list(req->ud, &f, &out);
    if (err)
        return fail(req, err, 0, "listed");
    return http_reply_json(resp, 200, out);
}

static enum ff_err h_get(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    json_t *out;
    enum ff_err err = jobs_admin_get(req->ud, id, &out);
    if (err)
        return fail(req, err, id, "read");
    return http_reply_json(resp, 200, out);
}

static enum ff_err act(struct http_req *req, struct http_resp *resp,
                       enum ff_err (*fn)(struct db *, int64_t), const char *what)
{
    int64_t id;
    if (http_param_i64(req, "id", 1, INT64_MAX, &id))
        return FF_EINVAL;
    enum ff_err err = fn(req->ud, id);
    json_t *out = NULL;
    if (!err)
        err = jobs_admin_get(req->ud, id, &out);
    if (err)
        return fail(req, err, id, what);
    ff_log(FF_LOG_INFO, "jobs", "staff %s job %lld", what, (long long)id);
    return http_reply_json(resp, 200, out);
}

static enum ff_err h_retry(struct http_req *req, struct http_resp *resp)
{
    return act(req, resp, jobs_admin_retry, "retried");
}

static enum ff_err h_discard(struct http_req *req, struct http_resp *resp)
{
    return act(req, resp, jobs_admin_discard, "discarded");
}

enum ff_err jobs_http_register(struct http_router *r, struct db *db)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/api/v1/jobs", h_list, db,
                                   HTTP_ROUTE_STAFF | HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/jobs/{id}", h_get, db,
                           HTTP_ROUTE_STAFF | HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/jobs/{id}/retry", h_retry, db, HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_POST, "/api/v1/jobs/{id}/discard", h_discard, db,
                           HTTP_ROUTE_STAFF);
    return e;
}
