/* tryon_profile.c - the signed-in shopper's face profile, kept only with
 * their consent:
 *   PUT    /api/v1/me/face-profile      {"session_id": "...", "consent": true}
 *   GET    /api/v1/me/face-profile
 *   DELETE /api/v1/me/face-profile      withdraw consent: the profile is deleted
 *   GET    /api/v1/me/recommendations   frames for the saved profile
 *
 * CONSENT. Nothing from a try-on session reaches the account by itself. The
 * shopper saves a session's result by sending "consent": true (anything else
 * is a 422 naming the field), which records when they agreed; DELETE removes
 * the profile at once, and deleting the account removes it too (foreign key,
 * ON DELETE CASCADE). Only derived numbers are kept: face shape, confidence,
 * the shape ratios and millimetre measurements. No photo, no landmarks: the
 * session's photo still expires with the session.
 *
 * The session must be the caller's (same owner rule as the try-on routes:
 * their account or this browser's anonymous id), else 404; a session whose
 * photo has no usable face is a 422. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/validate.h"
#include "tryon/session.h"
#include "tryon/tryon_int.h"

static enum ff_err need_user(struct http_req *req, const struct http_principal *p)
{
    if (p->user_id > 0)
        return FF_OK;
    return http_problem_set(req, HTTP_PK_FORBIDDEN,
                            "a face profile belongs to a user account: sign in first");
}

static enum ff_err unavailable(struct http_req *req, enum ff_err e, const char *what)
{
    if (e == FF_ENOMEM)
        return e;
    ff_log(FF_LOG_ERROR, "tryon", "%s: %s: %s", what, ff_err_name(e),
           e == FF_EDB || e == FF_ETIMEOUT ? db_errmsg() : "");
    return http_problem_set(req, HTTP_PK_UNAVAILABLE, "face profiles are unavailable right now");
}

static double num_at(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* The profile document kept for the user from a session's analysis text and
 * geometry; NULL when the analysis has no face (or on ENOMEM: *nomem set). */
static json_t *profile_from(const char *analysis, size_t len, const struct tryon_geom *g,
                            bool *nomem)
{
    *nomem = false;
    json_t *doc = json_loadb(analysis, len, 0, NULL);
    json_t *shape = json_object_get(doc, "face_shape");
    json_t *meas = json_object_get(doc, "measurements");
    json_t *out = NULL;
    if (json_is_object(shape) && json_is_object(meas) && g->has_face &&
        g->face_width_mm > 0) {
        json_t *m = json_deep_copy(meas);
        json_t *fs = json_pack("{s:O*,s:O*,s:O*,s:O*,s:O*}", "shape",
                               json_object_get(shape, "shape"), "confidence",
                               json_object_get(shape, "confidence"), "runner_up",
                               json_object_get(shape, "runner_up"), "explanation",
                               json_object_get(shape, "explanation"), "measurements",
                               json_object_get(shape, "measurements"));
        double icd = tryon_inner_eye_mm(g);
        if (m)
            json_object_set_new(m, "inner_eye_distance_mm", json_real(round(icd * 10) / 10));
        out = m && fs ? json_pack("{s:o,s:o}", "face_shape", fs, "measurements", m) : NULL;
        if (!out) {
            json_decref(m);
            json_decref(fs);
            *nomem = true;
        }
    }
    json_decref(doc);
    return out;
}

static const struct http_field put_fields[] = {
    {"session_id", HTTP_T_STRING, HTTP_F_REQUIRED, .min_len = 1, .max_len = 64},
    {.name = "consent", .type = HTTP_T_BOOL, .flags = HTTP_F_REQUIRED},
};
static const struct http_schema put_schema = HTTP_SCHEMA(put_fields);

/* Reads the caller's saved profile into a response document (NULL: none). */
static enum ff_err load_profile(struct db *db, int64_t user_id, json_t **out, char *shape,
                                size_t shape_len, double *face_w, double *icd)
{
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    *out = NULL;
    enum ff_err e = db_acquire(db, &c);
    if (!e)
        e = db_query(c,
                     "SELECT profile, source_session_id, consent_at, updated_at, face_shape,"
                     " face_width_mm, inner_eye_distance_mm FROM face_profiles"
                     " WHERE user_id = $1",
                     (struct db_param[]){DB_I64(user_id)}, 1, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && has) {
        size_t n = 0;
        const char *txt = db_col_text(r, 0, &n);
        json_t *p = txt ? json_loadb(txt, n, 0, NULL) : NULL;
        if (!json_is_object(p)) {
            json_decref(p);
            p = json_object(); /* never fails the read over a damaged row */
        }
        char consent[40], updated[40];
        tryon_iso_time(db_col_i64(r, 2), consent, sizeof consent);
        tryon_iso_time(db_col_i64(r, 3), updated, sizeof updated);
        const char *src = db_col_text(r, 1, NULL);
        const char *fs = db_col_text(r, 4, NULL);
        if (shape)
            ff_strlcpy(shape, fs ? fs : "", shape_len);
        if (face_w)
            *face_w = db_col_f64(r, 5);
        if (icd)
            *icd = db_col_f64(r, 6);
        if (!p || json_object_set_new(p, "source_session_id", json_string(src ? src : "")) ||
            json_object_set_new(p, "consent_at", json_string(consent)) ||
            json_object_set_new(p, "updated_at", json_string(updated)) ||
            json_object_set_new(p, "recommendations",
                                json_string("/api/v1/me/recommendations"))) {
            json_decref(p);
            e = FF_ENOMEM;
        } else {
            *out = p;
        }
    }
    db_rows_free(r);
    db_release(c);
    return e;
}

static enum ff_err reply_profile(struct http_req *req, struct http_resp *resp, json_t *p)
{
    (void)req;
    enum ff_err e = http_resp_header(resp, "Cache-Control", "private, no-store");
    if (e) {
        json_decref(p);
        return e;
    }
    return http_reply_json(resp, 200, p);
}

static enum ff_err save(struct tryon *t, int64_t user_id, const char *sid, const json_t *prof,
                        double conf, double face_w, double pd, double icd, const char *shape)
{
    size_t n;
    char *txt = tryon_json_dump(prof, &n);
    if (!txt)
        return FF_ENOMEM;
    int64_t now = db_now_ms();
    struct db_conn *c = NULL;
    enum ff_err e = db_acquire(t->db, &c);
    if (!e)
        e = db_exec(c,
                    "INSERT INTO face_profiles (user_id, face_shape, confidence, face_width_mm,"
                    " pupillary_distance_mm, inner_eye_distance_mm, profile, source_session_id,"
                    " consent_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
                    " ON CONFLICT (user_id) DO UPDATE SET face_shape = excluded.face_shape,"
                    " confidence = excluded.confidence, face_width_mm = excluded.face_width_mm,"
                    " pupillary_distance_mm = excluded.pupillary_distance_mm,"
                    " inner_eye_distance_mm = excluded.inner_eye_distance_mm,"
                    " profile = excluded.profile,"
                    " source_session_id = excluded.source_session_id,"
                    " consent_at = excluded.consent_at, updated_at = excluded.updated_at",
                    (struct db_param[]){DB_I64(user_id), DB_TEXT(shape), DB_F64(conf),
                                        DB_F64(face_w), pd > 0 ? DB_F64(pd) : DB_NULL,
                                        DB_F64(icd), DB_TEXT(txt), DB_TEXT(sid), DB_I64(now)},
                    9, NULL);
    db_release(c);
    ff_free(txt);
    return e;
}

static enum ff_err h_put(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const struct http_principal *p = http_principal(req);
    json_t *body;
    enum ff_err e = need_user(req, p);
    if (e || (e = http_json_body(req, &put_schema, &body)))
        return e;
    if (!json_is_true(json_object_get(body, "consent")))
        return http_field_error(req, "consent",
                                "must be true: your face shape is saved only when you agree");
    const char *sid = json_string_value(json_object_get(body, "session_id"));
    struct tryon_owner who;
    struct tryon_geom g;
    if (tryon_req_owner(req, &who))
        return http_errf(req, FF_ENOTFOUND, "no such try-on session");
    char shape[32] = "", *text = NULL;
    size_t tlen = 0;
    e = tryon_session_geom(t->db, sid, &who, &g);
    if (!e)
        e = tryon_session_json(t->db, sid, &who, &text, &tlen, shape, sizeof shape);
    if (e == FF_ENOTFOUND)
        return http_errf(req, e, "no such try-on session");
    if (e)
        return unavailable(req, e, "reading a try-on session");
    bool nomem;
    json_t *prof = profile_from(text, tlen, &g, &nomem);
    ff_free(text);
    if (nomem)
        return FF_ENOMEM;
    if (!prof || !shape[0])
        return http_field_error(req, "session_id",
                                "this session's photo has no usable face; upload a new one");
    json_t *fs = json_object_get(prof, "face_shape"), *m = json_object_get(prof, "measurements");
    e = save(t, p->user_id, sid, prof, num_at(fs, "confidence"), g.face_width_mm,
             num_at(m, "pupillary_distance_mm"), num_at(m, "inner_eye_distance_mm"), shape);
    json_decref(prof);
    if (e)
        return unavailable(req, e, "saving a face profile");
    ff_log(FF_LOG_INFO, "tryon", "face profile saved with consent for user %lld",
           (long long)p->user_id);
    json_t *out = NULL;
    e = load_profile(t->db, p->user_id, &out, NULL, 0, NULL, NULL);
    if (e)
        return unavailable(req, e, "reading a face profile");
    if (!out)
        return http_errf(req, FF_ENOTFOUND, "no face profile saved"); /* deleted meanwhile */
    return reply_profile(req, resp, out);
}

static enum ff_err h_get(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const struct http_principal *p = http_principal(req);
    enum ff_err e = need_user(req, p);
    if (e)
        return e;
    json_t *out = NULL;
    if ((e = load_profile(t->db, p->user_id, &out, NULL, 0, NULL, NULL)))
        return unavailable(req, e, "reading a face profile");
    if (!out)
        return http_errf(req, FF_ENOTFOUND,
                         "no face profile saved: save one from a try-on session with "
                         "PUT /api/v1/me/face-profile");
    return reply_profile(req, resp, out);
}

static enum ff_err h_delete(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const struct http_principal *p = http_principal(req);
    enum ff_err e = need_user(req, p);
    if (e)
        return e;
    struct db_conn *c = NULL;
    e = db_acquire(t->db, &c);
    if (!e)
        e = db_exec(c, "DELETE FROM face_profiles WHERE user_id = $1",
                    (struct db_param[]){DB_I64(p->user_id)}, 1, NULL);
    db_release(c);
    if (e)
        return unavailable(req, e, "deleting a face profile");
    http_reply_empty(resp, 204);
    return FF_OK;
}

static enum ff_err h_reco(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const struct http_principal *p = http_principal(req);
    int64_t limit = 12;
    bool present;
    enum ff_err e = need_user(req, p);
    if (e || http_query_i64(req, "limit", 1, 50, &limit, &present))
        return e ? e : FF_EINVAL;
    json_t *prof = NULL, *out = NULL;
    char shape[32] = "", detail[200] = "";
    double face_w = 0, icd = 0;
    if ((e = load_profile(t->db, p->user_id, &prof, shape, sizeof shape, &face_w, &icd)))
        return unavailable(req, e, "reading a face profile");
    json_decref(prof);
    if (!prof)
        return http_errf(req, FF_ENOTFOUND,
                         "no face profile saved: save one from a try-on session with "
                         "PUT /api/v1/me/face-profile");
    e = tryon_recommend_for(t, shape, face_w, icd, (int)limit, &out, detail, sizeof detail);
    if (e == FF_EINVAL)
        return http_errf(req, FF_ECONFLICT, "the saved face profile cannot be used: %s",
                         detail);
    if (e)
        return unavailable(req, e, "recommending frames");
    return reply_profile(req, resp, out);
}

enum ff_err tryon_profile_register(struct http_router *r, struct tryon *t)
{
    static const char *one = "/api/v1/me/face-profile";
    const unsigned f = HTTP_ROUTE_AUTH | HTTP_ROUTE_NO_ETAG;
    enum ff_err e = http_route_add(r, HTTP_PUT, one, h_put, t, f);
    if (!e)
        e = http_route_add(r, HTTP_GET, one, h_get, t, f);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, one, h_delete, t, f);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/me/recommendations", h_reco, t, f);
    return e;
}
