/* frame_http.c - custom frame images per variant (staff), and each variant's frame
 * image as the try-on draws it:
 *
 *   PUT    /api/v1/frames/{sku}/image?lens_left=X,Y&lens_right=X,Y   (staff)
 *          body: an RGBA PNG (Content-Type image/png), transparent outside the frame,
 *          front view, lenses level; X,Y: the lens centres in its pixels. The scale
 *          comes from their distance and the product's lens width + bridge.
 *   DELETE /api/v1/frames/{sku}/image   (staff): back to the generated drawing
 *   GET    /api/v1/frames/{sku}/image   the frame image (custom, or generated at
 *          RHTTP_PREVIEW_PPM px/mm) as PNG with its anchors in X-Frame-Anchors
 *
 * Renders are keyed by the image's object key, so a new image gives new renders. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/problem.h"
#include "http/req.h"
#include "http/router.h"
#include "render_http/render_http.h"
#include "render_http/render_http_int.h"
#include "tryon/tryon.h"

#define RHTTP_PREVIEW_PPM 6.0

bool rhttp_sku_ok(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n >= 1 && n <= RHTTP_SKU_MAX;
}

enum ff_err rhttp_load_variant(struct db *db, const char *sku, struct rhttp_variant *v)
{
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    memset(v, 0, sizeof *v);
    enum ff_err e = db_acquire(db, &c);
    if (!e)
        e = db_query(c,
                     "SELECT p.id, p.version, p.shape, v.colour, p.lens_width_mm, "
                     "p.lens_height_mm, p.bridge_mm, p.temple_mm, f.object_key, "
                     "f.lens_left_x, f.lens_left_y, f.lens_right_x, f.lens_right_y "
                     "FROM variants v JOIN products p ON p.id = v.product_id "
                     "LEFT JOIN frame_images f ON f.sku = v.sku "
                     "WHERE v.sku = $1 AND p.deleted_at IS NULL",
                     (struct db_param[]){DB_TEXT(sku)}, 1, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e) {
        const char *shape = db_col_text(r, 2, NULL), *colour = db_col_text(r, 3, NULL);
        v->product_id = db_col_i64(r, 0);
        v->version = db_col_i64(r, 1);
        snprintf(v->shape, sizeof v->shape, "%s", shape ? shape : "");
        snprintf(v->colour, sizeof v->colour, "%s", colour ? colour : "");
        v->spec.shape = -1;
        for (int s = 0; s < RND_SHAPE_COUNT; s++)
            if (!strcmp(rnd_shape_name(s), v->shape))
                v->spec.shape = s;
        v->spec.colour = v->colour;
        v->spec.lens_width_mm = (double)db_col_i64(r, 4);
        v->spec.lens_height_mm = (double)db_col_i64(r, 5);
        v->spec.bridge_mm = (double)db_col_i64(r, 6);
        v->spec.temple_mm = (double)db_col_i64(r, 7);
        const char *ok = db_col_text(r, 8, NULL);
        if (ok && store_key_valid(ok)) {
            v->custom = true;
            snprintf(v->object_key, sizeof v->object_key, "%s", ok);
            v->lens_left[0] = db_col_f64(r, 9);
            v->lens_left[1] = db_col_f64(r, 10);
            v->lens_right[0] = db_col_f64(r, 11);
            v->lens_right[1] = db_col_f64(r, 12);
        }
    }
    db_rows_free(r);
    db_release(c);
    return e;
}

enum ff_err rhttp_custom_frame(struct store *st, const struct rhttp_variant *v,
                               struct rnd_frame *out)
{
    void *png = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    enum ff_err e = store_get(st, v->object_key, 16u << 20, &png, &n);
    if (e)
        return e;
    struct rnd_rgba img;
    e = rnd_png_rgba_decode(png, n, &img, NULL, 0);
    ff_free(png);
    if (!e) {
        e = rnd_frame_from_rgba(&img, v->lens_left, v->lens_right,
                                v->spec.lens_width_mm + v->spec.bridge_mm, out, NULL, 0);
        ff_free(img.data); /* NULL when the frame took it */
    }
    return e;
}

/* "X,Y" with finite decimals. */
static bool parse_xy(const char *s, double out[2])
{
    if (!s)
        return false;
    char *end;
    errno = 0;
    out[0] = strtod(s, &end);
    if (end == s || *end != ',' || errno)
        return false;
    const char *p = end + 1;
    out[1] = strtod(p, &end);
    return end != p && !*end && !errno && isfinite(out[0]) && isfinite(out[1]);
}

/* Deletes an object no frame image names any more. */
static void drop_if_unused(struct db *db, struct store *st, const char *key)
{
    struct db_conn *c = NULL;
    int64_t n = 1;
    if (!key[0] || db_acquire(db, &c))
        return;
    if (!db_query_i64(c, "SELECT COUNT(*) FROM frame_images WHERE object_key = $1",
                      (struct db_param[]){DB_TEXT(key)}, 1, &n) &&
        n == 0 && store_delete(st, key))
        ff_log(FF_LOG_WARN, "render", "frame image object %.12s... not deleted", key);
    db_release(c);
}

static enum ff_err old_key(struct db *db, const char *sku, char out[STORE_KEY_LEN + 1])
{
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    out[0] = '\0';
    enum ff_err e = db_acquire(db, &c);
    if (!e)
        e = db_query(c, "SELECT object_key FROM frame_images WHERE sku = $1",
                     (struct db_param[]){DB_TEXT(sku)}, 1, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && has) {
        const char *k = db_col_text(r, 0, NULL);
        snprintf(out, STORE_KEY_LEN + 1, "%s", k ? k : "");
    }
    db_rows_free(r);
    db_release(c);
    return e;
}

static enum ff_err put_image(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const char *sku = http_param(req, "sku");
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncmp(ct, "image/png", 9) || (ct[9] && ct[9] != ';' && ct[9] != ' '))
        return http_problem_set(req, HTTP_PK_UNSUPPORTED_MEDIA, "send the frame as image/png");
    double ll[2], lr[2];
    int bad = 0;
    if (!parse_xy(http_query(req, "lens_left"), ll))
        bad = http_field_error(req, "lens_left", "required: X,Y of the left lens centre in px") != 0;
    if (!parse_xy(http_query(req, "lens_right"), lr))
        bad = http_field_error(req, "lens_right", "required: X,Y of the right lens centre in px") != 0;
    if (!rhttp_sku_ok(sku))
        bad = http_field_error(req, "sku", "must be 1..%d characters of A-Z a-z 0-9 . _ -",
                               RHTTP_SKU_MAX) != 0;
    if (bad)
        return FF_EINVAL;
    struct rhttp_variant v;
    enum ff_err e = rhttp_load_variant(tryon_db(t), sku, &v);
    if (e == FF_ENOTFOUND)
        return http_errf(req, FF_ENOTFOUND, "no frame variant with SKU %s", sku);
    if (e)
        return e;
    char why[200] = "";
    struct rnd_rgba img;
    e = rnd_png_rgba_decode(req->body, req->body_len, &img, why, sizeof why);
    if (e == FF_ENOMEM)
        return e;
    if (e)
        return http_errf(req, FF_EINVAL, "frame image: %s", why);
    int w = img.w, h = img.h;
    struct rnd_frame f;
    e = rnd_frame_from_rgba(&img, ll, lr, v.spec.lens_width_mm + v.spec.bridge_mm, &f, why,
                            sizeof why);
    ff_free(img.data);
    if (e)
        return http_errf(req, FF_EINVAL, "frame image: %s", why);
    double ppm = f.px_per_mm;
    rnd_frame_release(&f);
    char prev[STORE_KEY_LEN + 1], key[STORE_KEY_LEN + 1];
    e = old_key(tryon_db(t), sku, prev);
    if (!e)
        e = store_put(tryon_store(t), req->body, req->body_len, "image/png", key);
    struct db_conn *c = NULL;
    if (!e)
        e = db_acquire(tryon_db(t), &c);
    if (!e)
        e = db_exec(c,
                    "INSERT INTO frame_images (sku, object_key, lens_left_x, lens_left_y, "
                    "lens_right_x, lens_right_y, width, height, bytes, updated_at) VALUES "
                    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (sku) DO UPDATE SET "
                    "object_key = excluded.object_key, lens_left_x = excluded.lens_left_x, "
                    "lens_left_y = excluded.lens_left_y, lens_right_x = excluded.lens_right_x, "
                    "lens_right_y = excluded.lens_right_y, width = excluded.width, "
                    "height = excluded.height, bytes = excluded.bytes, "
                    "updated_at = excluded.updated_at",
                    (struct db_param[]){DB_TEXT(sku), DB_TEXT(key), DB_F64(ll[0]), DB_F64(ll[1]),
                                        DB_F64(lr[0]), DB_F64(lr[1]), DB_I64(w), DB_I64(h),
                                        DB_I64(req->body_len), DB_I64(db_now_ms())},
                    10, NULL);
    db_release(c);
    if (e)
        return e;
    if (strcmp(prev, key))
        drop_if_unused(tryon_db(t), tryon_store(t), prev);
    return http_reply_json(
        resp, 200,
        json_pack("{s:s,s:s,s:i,s:i,s:[f,f],s:[f,f],s:f}", "sku", sku, "object_key", key,
                  "width", w, "height", h, "lens_left", ll[0], ll[1], "lens_right", lr[0],
                  lr[1], "px_per_mm", round(ppm * 1000) / 1000));
}

static enum ff_err delete_image(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const char *sku = http_param(req, "sku");
    char prev[STORE_KEY_LEN + 1];
    enum ff_err e = rhttp_sku_ok(sku) ? old_key(tryon_db(t), sku, prev) : FF_ENOTFOUND;
    if (!e && !prev[0])
        e = FF_ENOTFOUND;
    if (e == FF_ENOTFOUND)
        return http_errf(req, FF_ENOTFOUND, "no custom frame image for SKU %s", sku);
    struct db_conn *c = NULL;
    if (!e)
        e = db_acquire(tryon_db(t), &c);
    if (!e)
        e = db_exec(c, "DELETE FROM frame_images WHERE sku = $1",
                    (struct db_param[]){DB_TEXT(sku)}, 1, NULL);
    db_release(c);
    if (e)
        return e;
    drop_if_unused(tryon_db(t), tryon_store(t), prev);
    http_reply_empty(resp, 204);
    return FF_OK;
}

static enum ff_err get_image(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const char *sku = http_param(req, "sku");
    struct rhttp_variant v;
    enum ff_err e = rhttp_sku_ok(sku) ? rhttp_load_variant(tryon_db(t), sku, &v) : FF_ENOTFOUND;
    if (e == FF_ENOTFOUND)
        return http_errf(req, FF_ENOTFOUND, "no frame variant with SKU %s", sku);
    if (e)
        return e;
    struct rnd_frame f;
    if (v.custom)
        e = rhttp_custom_frame(tryon_store(t), &v, &f);
    else if (v.spec.shape < 0 || rnd_spec_check(&v.spec, NULL, 0))
        return http_errf(req, FF_EINVAL, "variant %s has no drawable frame", sku);
    else
        e = rnd_frame_generate(&v.spec, RHTTP_PREVIEW_PPM, &f, NULL, 0);
    if (e)
        return e;
    uint8_t *png = NULL;
    size_t n = 0;
    char *anchors = rnd_frame_anchors_json(&f);
    e = anchors ? rnd_encode_rgba_png(&f.img, &png, &n) : FF_ENOMEM;
    rnd_frame_release(&f);
    if (!e)
        e = http_reply(resp, 200, "image/png", (const char *)png, n);
    if (!e)
        e = http_resp_header(resp, "X-Frame-Anchors", anchors);
    if (!e)
        e = http_resp_header(resp, "Cache-Control", "public, max-age=300");
    ff_free(png);
    ff_free(anchors);
    return e;
}

enum ff_err frame_http_register(struct http_router *r, struct tryon *t)
{
    enum ff_err e = http_route_add(r, HTTP_PUT, "/api/v1/frames/{sku}/image", put_image, t,
                                   HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_DELETE, "/api/v1/frames/{sku}/image", delete_image, t,
                           HTTP_ROUTE_STAFF);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/api/v1/frames/{sku}/image", get_image, t, 0);
    return e;
}
