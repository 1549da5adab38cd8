/* tryon_http.c - the try-on HTTP handlers:
 *   POST   /api/v1/tryon/sessions                       upload a selfie (201)
 *   GET    /api/v1/tryon/sessions/{id}                  the stored analysis
 *   DELETE /api/v1/tryon/sessions/{id}                  photo, analysis, renders (204)
 *   GET    /api/v1/tryon/sessions/{id}/recommendations  ranked frames with reasons
 * Sessions belong to the caller: the signed-in user (accounts) and/or the
 * anonymous id (cookie ff_anon or X-Anonymous-Id; POST makes one when there is
 * neither and returns it in both). Another caller's, an expired or a missing
 * session are all 404. Photos, landmarks
 * and measurements never go to the log. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/multipart.h"
#include "http/problem.h"
#include "http/router.h"
#include "tryon/session.h"
#include "tryon/tryon_int.h"

#define MAX_FORM_PARTS 8
#define FORM_OVERHEAD (64u << 10) /* multipart framing around the photo */

enum ff_err tryon_profile_register(struct http_router *r, struct tryon *t); /* tryon_profile.c */

static enum ff_err private_headers(struct http_resp *resp)
{
    return http_resp_header(resp, "Cache-Control", "private, no-store");
}

static enum ff_err fail(struct http_req *req, enum ff_err e, const char *what)
{
    switch (e) {
    case FF_ENOTFOUND: return http_errf(req, e, "no such try-on session");
    case FF_EDB:
    case FF_ETIMEOUT:
    case FF_EIO:
    case FF_EINTERNAL:
        ff_log(FF_LOG_ERROR, "tryon", "%s: %s: %s", what, ff_err_name(e),
               e == FF_EDB || e == FF_ETIMEOUT ? db_errmsg() : "");
        return http_problem_set(req, HTTP_PK_UNAVAILABLE, "try-on is unavailable right now");
    default: return http_errf(req, e, "%s failed", what);
    }
}

/* The caller; a new anonymous id (returned in a cookie and a header) when
 * create is set and there is none. FF_ENOTFOUND otherwise. */
static enum ff_err owner_of(struct http_req *req, struct http_resp *resp, bool create,
                            struct tryon_owner *who)
{
    enum ff_err e = tryon_req_owner(req, who);
    if (!e || !create)
        return e;
    tryon_random_id(who->anon_id);
    char cookie[160];
    snprintf(cookie, sizeof cookie,
             TRYON_ANON_COOKIE "=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax",
             who->anon_id);
    e = http_resp_header(resp, "Set-Cookie", cookie);
    if (!e)
        e = http_resp_header(resp, TRYON_ANON_HEADER, who->anon_id);
    return e;
}

static bool image_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return (n == 10 && !strncasecmp(ct, "image/jpeg", 10)) ||
           (n == 9 && !strncasecmp(ct, "image/png", 9)) ||
           (n == 9 && !strncasecmp(ct, "image/jpg", 9));
}

/* The photo bytes of the request: a multipart "photo" field or the raw body. */
static enum ff_err photo_of(struct http_req *req, const char **data, size_t *len)
{
    const char *ct = http_header(req, "Content-Type");
    if (http_multipart_is_form(ct)) {
        struct http_part *parts;
        size_t n;
        char why[200];
        enum ff_err e = http_multipart_parse(ct, req->body, req->body_len, req->arena,
                                             MAX_FORM_PARTS, &parts, &n, why, sizeof why);
        if (e == FF_ENOMEM)
            return e;
        if (e)
            return http_problem_set(req, HTTP_PK_BAD_REQUEST, "malformed multipart body: %s",
                                    why);
        const struct http_part *p = http_multipart_find(parts, n, "photo");
        if (!p)
            return http_field_error(req, "photo", "is required (a JPEG or PNG file)");
        if (p->content_type && !image_type(p->content_type) &&
            strcasecmp(p->content_type, "application/octet-stream"))
            return http_errf(req, FF_EUNSUPPORTED,
                             "the photo must be image/jpeg or image/png, not %.60s",
                             p->content_type);
        *data = p->data;
        *len = p->len;
        return FF_OK;
    }
    if (!image_type(ct))
        return http_errf(req, FF_EUNSUPPORTED,
                         "send the photo as multipart/form-data (field \"photo\") or as an "
                         "image/jpeg or image/png body");
    *data = req->body;
    *len = req->body_len;
    return FF_OK;
}

static enum ff_err h_create(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    struct tryon_owner who;
    const char *data = NULL;
    size_t len = 0;
    char detail[300] = "";
    if (!t->engine)
        return http_problem_set(req, HTTP_PK_UNAVAILABLE,
                                "face analysis is unavailable on this server");
    enum ff_err e = photo_of(req, &data, &len);
    if (e)
        return e;
    if (!len)
        return http_field_error(req, "photo", "is empty");
    e = owner_of(req, resp, true, &who);
    if (e)
        return e;
    char *out = NULL;
    size_t olen = 0;
    e = tryon_session_create(t, &who, (const uint8_t *)data, len, &out, &olen, detail,
                             sizeof detail);
    if (e == FF_ETOOBIG || e == FF_EUNSUPPORTED || e == FF_EINVAL)
        return http_errf(req, e, "%s", detail);
    if (e == FF_ETIMEOUT && detail[0])
        return http_problem_set(req, HTTP_PK_UNAVAILABLE, "%s", detail);
    if (e)
        return fail(req, e, "creating a try-on session");
    /* the id is the first 22 chars after "id":"; read it back from the JSON */
    const char *idp = strstr(out, "\"id\":\"");
    char loc[80];
    snprintf(loc, sizeof loc, "/api/v1/tryon/sessions/%.*s", TRYON_ID_LEN, idp ? idp + 6 : "");
    e = http_resp_header(resp, "Location", loc);
    if (!e)
        e = private_headers(resp);
    if (!e)
        e = http_reply(resp, 201, "application/json", out, olen);
    ff_free(out);
    return e;
}

static enum ff_err h_get(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    struct tryon_owner who;
    if (owner_of(req, resp, false, &who))
        return http_errf(req, FF_ENOTFOUND, "no such try-on session");
    char *out = NULL;
    size_t len = 0;
    enum ff_err e = tryon_session_json(t->db, http_param(req, "id"), &who, &out, &len, NULL, 0);
    if (e)
        return fail(req, e, "reading a try-on session");
    e = private_headers(resp);
    if (!e)
        e = http_reply(resp, 200, "application/json", out, len);
    ff_free(out);
    return e;
}

static enum ff_err h_delete(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    struct tryon_owner who;
    if (owner_of(req, resp, false, &who))
        return http_errf(req, FF_ENOTFOUND, "no such try-on session");
    enum ff_err e = tryon_session_delete(t, http_param(req, "id"), &who);
    if (e)
        return fail(req, e, "deleting a try-on session");
    http_reply_empty(resp, 204);
    return FF_OK;
}

static enum ff_err h_reco(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    struct tryon_owner who;
    int64_t limit = 12;
    bool present;
    char detail[200] = "";
    if (http_query_i64(req, "limit", 1, 50, &limit, &present))
        return FF_EINVAL;
    if (owner_of(req, resp, false, &who))
        return http_errf(req, FF_ENOTFOUND, "no such try-on session");
    json_t *out = NULL;
    enum ff_err e = tryon_recommend(t, http_param(req, "id"), &who, (int)limit, &out, detail,
                                    sizeof detail);
    if (e == FF_EINVAL)
        return http_errf(req, e, "%s", detail);
    if (e)
        return fail(req, e, "recommending frames");
    e = private_headers(resp);
    if (e) {
        json_decref(out);
        return e;
    }
    return http_reply_json(resp, 200, out);
}

enum ff_err tryon_http_register(struct http_router *r, struct tryon *t)
{
    static const char *base = "/api/v1/tryon/sessions", *one = "/api/v1/tryon/sessions/{id}";
    enum ff_err e = http_route_add(r, HTTP_POST, base, h_create, t, HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_add(r, HTTP_GET, one, h_get, t, 0);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, one, h_delete, t, 0);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/tryon/sessions/{id}/recommendations", h_reco, t,
                           0);
    if (!e)
        e = tryon_profile_register(r, t);
    if (!e && t) /* photos are larger than JSON bodies */
        e = http_route_set_max_body(r, HTTP_POST, base, t->max_bytes + FORM_OVERHEAD);
    return e;
}
