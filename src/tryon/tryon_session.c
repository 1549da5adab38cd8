/* tryon_session.c - creating a session: limits, metadata stripping, decoding,
 * the vision pipeline (once), face shape and scale, the analysis JSON, and
 * storing photo + row. Reading it back (tryon_session_json). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "tryon/face_shape.h"
#include "tryon/session.h"
#include "tryon/strip.h"
#include "tryon/tryon_int.h"
#include "vision/decode.h"
#include "vision/image_ops.h"

void tryon_iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[24];
    gmtime_r(&t, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000 + 1000) % 1000);
}

/* Rounds to 0.1 (px, mm) so the JSON stays short and honest about precision. */
static json_t *num1(double v)
{
    return json_real(round(v * 10.0) / 10.0);
}

static json_t *num3(double v)
{
    return json_real(round(v * 1000.0) / 1000.0);
}

static json_t *point(double x, double y)
{
    return json_pack("[oo]", num1(x), num1(y));
}

/* The issues (flag, advice) of a quality verdict. */
static json_t *issues_of(unsigned flags)
{
    json_t *a = json_array();
    for (unsigned b = 0; b < VIS_Q_NFLAGS; b++)
        if (flags & (1u << b))
            json_array_append_new(a, json_pack("{s:s,s:s}", "code",
                                               vis_quality_flag_name(1u << b), "advice",
                                               vis_quality_flag_advice(1u << b)));
    return a;
}

static json_t *face_json(const struct vis_face *f, bool primary)
{
    json_t *pts = json_array();
    for (unsigned i = 0; i < f->n_pts; i++)
        json_array_append_new(pts, point(f->pts[i].x, f->pts[i].y));
    json_t *j = json_pack("{s:{s:I,s:I,s:I,s:I},s:o,s:b,s:b,s:o}", "box", "left",
                          (json_int_t)f->box.left, "top", (json_int_t)f->box.top, "width",
                          (json_int_t)(f->box.right - f->box.left + 1), "height",
                          (json_int_t)(f->box.bottom - f->box.top + 1), "detector_score",
                          num3(f->det_score), "low_confidence",
                          (f->quality.flags & VIS_Q_LOW_CONFIDENCE) != 0, "primary", primary,
                          "landmarks", pts);
    if (f->has_geometry) {
        json_object_set_new(j, "eyes", json_pack("{s:o,s:o}", "right",
                                                 point(f->measure.eye_right.x,
                                                       f->measure.eye_right.y),
                                                 "left",
                                                 point(f->measure.eye_left.x,
                                                       f->measure.eye_left.y)));
        json_object_set_new(j, "pose", json_pack("{s:o,s:o,s:o}", "yaw_deg", num1(f->pose.yaw),
                                                 "pitch_deg", num1(f->pose.pitch), "roll_deg",
                                                 num1(f->pose.roll)));
        json_object_set_new(j, "quality",
                            json_pack("{s:o,s:o,s:o,s:o}", "score", num3(f->quality.score),
                                      "sharpness", num1(f->quality.sharpness), "brightness",
                                      num1(f->quality.brightness), "issues",
                                      issues_of(f->quality.flags)));
    }
    return j;
}

/* The shopper's face: the widest face with geometry (a selfie's subject is
 * normally the largest face; vision's recall fallback relies on the same). */
static int pick_primary(const struct vis_result *r)
{
    int best = -1;
    long bw = -1;
    for (size_t i = 0; i < r->n_faces; i++) {
        long w = r->faces[i].box.right - r->faces[i].box.left;
        if (r->faces[i].has_geometry && w > bw) {
            bw = w;
            best = (int)i;
        }
    }
    return best;
}

#define RETAKE_FLAGS (VIS_Q_BLURRY | VIS_Q_TOO_SMALL | VIS_Q_TOO_TURNED | VIS_Q_EYES_CLOSED | \
                      VIS_Q_EYES_NOT_FOUND | VIS_Q_CUT_OFF | VIS_Q_TOO_DARK)

static json_t *overall_quality(const struct vis_result *r, int primary)
{
    json_t *issues, *advice = json_array();
    double score = 0;
    bool retake;
    if (primary < 0) {
        issues = json_array();
        json_array_append_new(issues, json_pack("{s:s,s:s}", "code", "no_face", "advice",
                                                "No face was found: face the camera in good "
                                                "light, with your whole face in the picture."));
        retake = true;
    } else {
        const struct vis_face *f = &r->faces[primary];
        issues = issues_of(f->quality.flags);
        score = f->quality.score;
        retake = (f->quality.flags & RETAKE_FLAGS) != 0;
        if (r->n_faces > 1)
            json_array_append_new(issues,
                                  json_pack("{s:s,s:s}", "code", "several_faces", "advice",
                                            "Several faces were found; the largest was used. "
                                            "A photo of just you works best."));
    }
    size_t i;
    json_t *it;
    json_array_foreach(issues, i, it)
        json_array_append(advice, json_object_get(it, "advice"));
    return json_pack("{s:o,s:b,s:o,s:o}", "score", num3(score), "retake_recommended", retake,
                     "issues", issues, "advice", advice);
}

/* Face shape + measurements of the primary face; *geom gets the renderer's
 * geometry JSON. */
static void shape_and_size(const struct vis_face *f, json_t *doc, json_t **geom)
{
    struct tryon_face_geom g;
    if (tryon_face_geom(f->pts, &g)) {
        json_object_set_new(doc, "face_shape", json_null());
        json_object_set_new(doc, "measurements", json_null());
        return;
    }
    struct tryon_shape_result sr;
    struct tryon_scale sc;
    tryon_face_shape_classify(&g, &sr);
    tryon_scale_estimate(&g, f->pose.yaw, &sc);
    double cy = cos(fmin(fabs(f->pose.yaw), 60.0) * M_PI / 180.0);
    double s = sc.mm_per_px / cy; /* horizontal distances in the photo are foreshortened */
    /* a turned head distorts widths: say so by lowering the confidence */
    double conf = sr.confidence * ((f->quality.flags & VIS_Q_TOO_TURNED) ? 0.5 : 1.0);
    char why[320];
    tryon_face_shape_explain(&g, &sr, why, sizeof why);
    json_t *probs = json_object();
    for (int k = 0; k < TRYON_SHAPE_COUNT; k++)
        json_object_set_new(probs, tryon_face_shape_name(k), num3(sr.prob[k]));
    json_t *ratios = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:o}", "length_to_width", num3(g.length_ratio),
        "forehead_to_width", num3(g.forehead_ratio), "jaw_to_width", num3(g.jaw_ratio),
        "chin_to_width", num3(g.chin_ratio), "jaw_angle_deg", num1(g.jaw_angle_deg),
        "chin_angle_deg", num1(g.chin_angle_deg));
    json_object_set_new(doc, "face_shape",
                        json_pack("{s:s,s:o,s:o,s:s,s:o,s:s,s:o,s:s}", "shape",
                                  tryon_face_shape_name(sr.shape), "confidence", num3(conf),
                                  "margin", num3(sr.margin), "runner_up",
                                  tryon_face_shape_name(sr.second), "probabilities", probs,
                                  "explanation", why, "measurements", ratios, "method",
                                  "distance to seven shape prototypes over length/width, "
                                  "forehead, jaw and chin widths and jaw angle; forehead from "
                                  "the brow span and length from 1.5 x brow-to-chin (no "
                                  "hairline in 68 landmarks)"));
    double face_w = g.face_width_px * s;
    json_t *scale = json_pack(
        "{s:s,s:s,s:o,s:o,s:o}", "method", "ipd_prior_and_eye_width",
        "assumption",
        "adult inter-pupillary distance 63 mm (SD 3.5 mm) combined with the eye width "
        "between the landmark eye corners, 24.3 mm (SD 10 %); yaw-corrected",
        "mm_per_px", num3(sc.mm_per_px), "relative_error", num3(sc.rel_error),
        "pupillary_distance_error_mm", num1(sc.ipd_mm * sc.rel_error));
    json_object_set_new(
        doc, "measurements",
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "face_width_mm", num1(face_w),
                  "pupillary_distance_mm", num1(sc.ipd_mm), "face_length_mm",
                  num1(g.face_length_px * sc.mm_per_px), "forehead_width_mm",
                  num1(g.forehead_width_px * s), "jaw_width_mm", num1(g.jaw_width_px * s),
                  "chin_width_mm", num1(g.chin_width_px * s), "eye_width_mm",
                  num1(g.eye_width_px * s), "scale", scale));
    json_t *pts = json_array();
    for (int i = 0; i < 68; i++)
        json_array_append_new(pts, json_pack("[ff]", f->pts[i].x, f->pts[i].y));
    *geom = json_pack("{s:[[ff],[ff]],s:f,s:f,s:f,s:f,s:f,s:f,s:s,s:o}", "eyes",
                      f->measure.eye_right.x, f->measure.eye_right.y, f->measure.eye_left.x,
                      f->measure.eye_left.y, "roll", f->pose.roll, "yaw", f->pose.yaw, "pitch",
                      f->pose.pitch, "mm_per_px", sc.mm_per_px, "face_width_mm", face_w,
                      "pd_mm", sc.ipd_mm, "shape", tryon_face_shape_name(sr.shape),
                      "landmarks", pts);
}

/* Serialises j into a new ff_malloc'd string (independent of jansson's
 * allocator). */
char *tryon_json_dump(const json_t *j, size_t *len)
{
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
    char *s = n ? ff_malloc(n + 1) : NULL;
    if (!s)
        return NULL;
    json_dumpb(j, s, n, JSON_COMPACT);
    s[n] = '\0';
    *len = n;
    return s;
}

static json_t *removed_list(unsigned bits)
{
    json_t *a = json_array();
    for (unsigned b = 0; b < TRYON_META_NKINDS; b++)
        if (bits & (1u << b))
            json_array_append_new(a, json_string(tryon_meta_name(1u << b)));
    return a;
}

/* Decodes the stripped photo, mapping errors to what the shopper can fix. */
static enum ff_err decode_photo(struct tryon *t, const uint8_t *p, size_t n, struct vis_image *img,
                                struct vis_decode_info *info, char *detail, size_t dlen)
{
    char why[200] = "";
    struct vis_decode_opts o = {.max_pixels = t->max_pixels, .fmt = VIS_RGB8};
    enum ff_err e = vis_decode(p, n, &o, img, info, why, sizeof why);
    if (e == FF_ETOOBIG) {
        ff_errbuf(detail, dlen, "the photo has more than %llu pixels (width x height); "
                                "send a smaller one", (unsigned long long)t->max_pixels);
        return FF_ETOOBIG;
    }
    if (e == FF_EUNSUPPORTED) {
        ff_errbuf(detail, dlen, "unsupported image: %s", why);
        return FF_EUNSUPPORTED;
    }
    if (e == FF_ENOMEM)
        return e;
    if (e) {
        ff_errbuf(detail, dlen, "the photo cannot be decoded (damaged or truncated): %s", why);
        return FF_EINVAL;
    }
    if (img->w < VIS_MIN_SIDE || img->h < VIS_MIN_SIDE) {
        vis_image_release(img);
        ff_errbuf(detail, dlen, "the photo is %dx%d pixels; at least %dx%d is needed", img->w,
                  img->h, VIS_MIN_SIDE, VIS_MIN_SIDE);
        return FF_EINVAL;
    }
    return FF_OK;
}

static enum ff_err insert_row(struct tryon *t, const char *id, const struct tryon_owner *who,
                              const char *key, const char *type, int w, int h,
                              const char *shape, const char *geom, const char *analysis,
                              int64_t now, int64_t expires)
{
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(t->db, &tx);
    if (!e)
        e = tryon_lock_objects(t->db, tx.conn);
    if (!e)
        e = db_exec(tx.conn,
                    "INSERT INTO tryon_sessions (id, anon_id, user_id, photo_key, photo_type,"
                    " width, height, face_shape, geom, analysis, created_at, expires_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    (struct db_param[]){DB_TEXT(id), who->anon_id[0] ? DB_TEXT(who->anon_id)
                                                                     : DB_NULL,
                                        who->user_id ? DB_I64(who->user_id) : DB_NULL,
                                        DB_TEXT(key), DB_TEXT(type), DB_I64(w), DB_I64(h),
                                        DB_TEXT(shape), DB_TEXT(geom), DB_TEXT(analysis),
                                        DB_I64(now), DB_I64(expires)},
                    12, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

/* After a failed insert: deletes the photo unless another row names it. */
static void drop_unused(struct tryon *t, const char *key)
{
    struct db_tx tx = DB_TX_INIT;
    if (!db_begin(t->db, &tx) && !tryon_lock_objects(t->db, tx.conn) &&
        !tryon_release_object(t, tx.conn, key) && db_commit(&tx))
        ff_log(FF_LOG_WARN, "tryon", "could not commit the release of an unused photo");
    db_tx_release(&tx);
}

/* Runs the pipeline on a decoded image and builds the analysis document. */
static json_t *analyse(const struct vis_result *vr, json_t **geom, const char **shape)
{
    int primary = pick_primary(vr);
    json_t *faces = json_array();
    for (size_t i = 0; i < vr->n_faces; i++)
        json_array_append_new(faces, face_json(&vr->faces[i], (int)i == primary));
    json_t *doc = json_pack("{s:I,s:o,s:o,s:o}", "faces_found", (json_int_t)vr->n_faces,
                            "faces", faces, "primary_face",
                            primary >= 0 ? json_integer(primary) : json_null(), "quality",
                            overall_quality(vr, primary));
    *geom = NULL;
    *shape = NULL;
    if (primary >= 0) {
        shape_and_size(&vr->faces[primary], doc, geom);
        *shape = json_string_value(json_object_get(json_object_get(doc, "face_shape"), "shape"));
    } else {
        json_object_set_new(doc, "face_shape", json_null());
        json_object_set_new(doc, "measurements", json_null());
    }
    return doc;
}

enum ff_err tryon_session_create(struct tryon *t, const struct tryon_owner *who,
                                 const uint8_t *data, size_t len, char **out, size_t *outlen,
                                 char *detail, size_t dlen)
{
    *out = NULL;
    if (!t->engine) {
        ff_errbuf(detail, dlen, "face analysis is unavailable on this server");
        return FF_ETIMEOUT; /* 503 */
    }
    if (len > t->max_bytes) {
        ff_errbuf(detail, dlen, "the photo is %zu bytes; the limit is %zu", len, t->max_bytes);
        return FF_ETOOBIG;
    }
    if (vis_sniff(data, len) == VIS_CODEC_UNKNOWN) {
        ff_errbuf(detail, dlen, "the photo must be a JPEG or PNG image");
        return FF_EUNSUPPORTED;
    }
    uint8_t *clean = NULL;
    size_t clen = 0;
    struct tryon_strip_info si;
    enum ff_err e = tryon_strip_metadata(data, len, &clean, &clen, &si);
    if (e == FF_ECORRUPT || e == FF_EUNSUPPORTED) {
        ff_errbuf(detail, dlen, e == FF_ECORRUPT
                                    ? "the photo cannot be decoded (damaged or truncated)"
                                    : "the photo uses a PNG feature this server cannot read");
        return e == FF_ECORRUPT ? FF_EINVAL : FF_EUNSUPPORTED;
    }
    if (e)
        return e;
    struct vis_image img = {0};
    struct vis_decode_info info;
    struct vis_result vr = {0};
    json_t *doc = NULL, *geom = NULL;
    char *text = NULL, *gtext = NULL;
    size_t tlen = 0, glen = 0;
    const char *shape = NULL;
    e = decode_photo(t, clean, clen, &img, &info, detail, dlen);
    if (!e) {
        e = vis_analyse(t->engine, &img, &vr);
        if (e)
            ff_errbuf(detail, dlen, "the photo could not be analysed");
    }
    if (!e && !(doc = analyse(&vr, &geom, &shape)))
        e = FF_ENOMEM;
    char id[TRYON_ID_LEN + 1], key[STORE_KEY_LEN + 1], created[32], expires[32];
    const char *type = si.png ? "image/png" : "image/jpeg";
    int64_t now = db_now_ms(), exp_ms = now + t->retention_ms;
    if (!e) {
        tryon_random_id(id);
        tryon_iso_time(now, created, sizeof created);
        tryon_iso_time(exp_ms, expires, sizeof expires);
        json_object_set_new(doc, "id", json_string(id));
        json_object_set_new(doc, "created_at", json_string(created));
        json_object_set_new(doc, "expires_at", json_string(expires));
        json_object_set_new(doc, "photo",
                            json_pack("{s:s,s:i,s:i,s:I,s:i,s:o}", "content_type", type, "width",
                                      img.w, "height", img.h, "bytes", (json_int_t)clen,
                                      "orientation", si.orientation, "metadata_removed",
                                      removed_list(si.removed)));
        if (!(text = tryon_json_dump(doc, &tlen)) ||
            (geom && !(gtext = tryon_json_dump(geom, &glen))))
            e = FF_ENOMEM;
    }
    if (!e)
        e = store_put(t->store, clean, clen, type, key);
    if (!e) {
        e = insert_row(t, id, who, key, type, img.w, img.h, shape, gtext, text, now, exp_ms);
        if (e)
            drop_unused(t, key);
    }
    if (!e) {
        tryon_ensure_object(t, clean, clen, type, key);
        ff_log(FF_LOG_INFO, "tryon", "session created: faces=%zu shape=%s bytes=%zu",
               vr.n_faces, shape ? shape : "none", clen);
        *out = text;
        *outlen = tlen;
        text = NULL;
    }
    ff_free(text);
    ff_free(gtext);
    json_decref(doc);
    json_decref(geom);
    vis_result_release(&vr);
    vis_image_release(&img);
    ff_free(clean);
    return e;
}

enum ff_err tryon_session_json(struct db *db, const char *id, const struct tryon_owner *who,
                               char **out, size_t *len, char *shape, size_t shape_len)
{
    *out = NULL;
    struct tryon_geom g;
    /* the owner and expiry check lives in one place */
    enum ff_err e = tryon_session_geom(db, id, who, &g);
    if (e)
        return e;
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    e = db_acquire(db, &c);
    if (!e)
        e = db_query(c, "SELECT analysis, face_shape FROM tryon_sessions WHERE id = $1",
                     (struct db_param[]){DB_TEXT(id)}, 1, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e) {
        size_t n = 0;
        const char *s = db_col_text(r, 0, &n);
        const char *fs = db_col_text(r, 1, NULL);
        if (shape)
            ff_strlcpy(shape, fs ? fs : "", shape_len);
        if (!(*out = ff_strndup(s ? s : "{}", s ? n : 2)))
            e = FF_ENOMEM;
        *len = s ? n : 2;
    }
    db_rows_free(r);
    db_release(c);
    return e;
}
