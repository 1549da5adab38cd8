/* render_http.c - GET /api/v1/tryon/sessions/{id}/render (see render_http.h).
 *
 * Photos and renders never reach the log: only ids, SKUs, sizes and errors. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "db/db.h"
#include "http/req.h"
#include "http/router.h"
#include "render/render.h"
#include "render_http/render_http.h"
#include "render_http/render_http_int.h"
#include "store/store.h"
#include "tryon/tryon.h"
#include "vision/decode.h"
#include "vision/image_ops.h"
#include "vision/sha256.h"


struct params {
    const char *sku;
    enum rnd_format fmt;
    int64_t width; /* 0 = default */
};

/* Query parameters: variant (required), format, width; anything else is refused so
 * a typo does not silently give a different picture. */
static enum ff_err parse_params(struct http_req *req, struct params *p)
{
    int bad = 0;
    memset(p, 0, sizeof *p);
    p->fmt = RND_JPEG;
    for (size_t i = 0; i < req->nquery; i++) {
        const char *k = req->query[i].name;
        if (strcmp(k, "variant") && strcmp(k, "format") && strcmp(k, "width"))
            bad = http_field_error(req, k, "unknown parameter (variant, format, width)") != FF_OK;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(req->query[j].name, k)) {
                bad = http_field_error(req, k, "given more than once") != FF_OK;
                break;
            }
    }
    p->sku = http_query(req, "variant");
    if (!p->sku)
        bad = http_field_error(req, "variant", "required: the SKU of the frame variant") != FF_OK;
    else if (!rhttp_sku_ok(p->sku))
        bad = http_field_error(req, "variant", "must be 1..%d characters of A-Z a-z 0-9 . _ -",
                               RHTTP_SKU_MAX) != FF_OK;
    const char *f = http_query(req, "format");
    if (f && !(p->fmt = rnd_format_parse(f)))
        bad = http_field_error(req, "format", "must be jpeg, png or webp") != FF_OK;
    bool present = false;
    if (http_query_i64(req, "width", 16, RND_MAX_OUT_WIDTH, &p->width, &present))
        bad = 1;
    return bad ? FF_EINVAL : FF_OK;
}

static void cache_key(const struct tryon_geom *g, const struct params *p, const struct rhttp_variant *v,
                      int width, char hex[65])
{
    char in[512];
    int n = snprintf(in, sizeof in, "render|v%d|%s|%s|%lld.%lld|%s|%s|%d", RND_VERSION,
                     g->photo_key, p->sku, (long long)v->product_id, (long long)v->version,
                     v->custom ? v->object_key : "generated", rnd_format_name(p->fmt), width);
    struct vis_sha256 s;
    uint8_t d[32];
    vis_sha256_init(&s);
    vis_sha256_update(&s, in, n > 0 ? (size_t)n : 0);
    vis_sha256_final(&s, d);
    vis_sha256_hex(d, hex);
}

/* If-None-Match: a list of (possibly weak) tags or "*"; weak comparison (RFC 9110
 * 13.1.2), token by token exactly as the server's own check, which turns the
 * empty 200 of a match into the 304. */
static int etag_match(const char *inm, const char *etag)
{
    size_t en = strlen(etag);
    for (const char *p = inm; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (!strncmp(p, "W/", 2))
            p += 2;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == en && !memcmp(p, etag, n))
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static enum ff_err reply_headers(struct http_resp *resp, const char *etag, const char *state)
{
    char cc[64];
    snprintf(cc, sizeof cc, "private, max-age=%d", RENDER_HTTP_MAX_AGE);
    enum ff_err e = http_resp_header(resp, "ETag", etag);
    if (!e)
        e = http_resp_header(resp, "Cache-Control", cc);
    if (!e)
        e = http_resp_header(resp, "Vary", "Cookie, X-Anonymous-Id");
    if (!e && state)
        e = http_resp_header(resp, "X-Render-Cache", state);
    return e;
}

/* ---- decoded photos ----------------------------------------------------------------
 * A shopper flips through frames on one photo: decoding and resizing it is most of a
 * first render's work, so the last PHOTO_CACHE_N (photo, width) pairs are kept
 * decoded and resized (about 2.7 MB each at 1280 x 720). Entries are copied out
 * (compositing draws in place). Rendering from a cached photo gives the same bytes. */
#define PHOTO_CACHE_N 16

static struct {
    pthread_mutex_t mu;
    uint64_t tick;
    struct photo_entry {
        char key[STORE_KEY_LEN + 1];
        int width;
        uint64_t used;
        struct vis_image img;
    } e[PHOTO_CACHE_N];
} photos = {.mu = PTHREAD_MUTEX_INITIALIZER};

static enum ff_err copy_image(const struct vis_image *src, struct vis_image *dst)
{
    enum ff_err e = vis_image_alloc(dst, src->w, src->h, src->fmt);
    for (int y = 0; !e && y < src->h; y++)
        memcpy(dst->data + (size_t)y * dst->stride, src->data + (size_t)y * src->stride,
               (size_t)src->w * (size_t)src->fmt);
    return e;
}

/* A copy of the cached (key, width) photo into *out: FF_ENOTFOUND when absent. */
static enum ff_err photo_cached(const char *key, int width, struct vis_image *out)
{
    enum ff_err e = FF_ENOTFOUND;
    pthread_mutex_lock(&photos.mu);
    for (int i = 0; i < PHOTO_CACHE_N; i++)
        if (photos.e[i].img.data && photos.e[i].width == width &&
            !strcmp(photos.e[i].key, key)) {
            photos.e[i].used = ++photos.tick;
            e = copy_image(&photos.e[i].img, out);
            break;
        }
    pthread_mutex_unlock(&photos.mu);
    return e;
}

/* Keeps a copy of img as (key, width), replacing the least recently used entry. */
static void photo_keep(const char *key, int width, const struct vis_image *img)
{
    struct vis_image c;
    if (copy_image(img, &c))
        return;
    pthread_mutex_lock(&photos.mu);
    int victim = 0;
    for (int i = 0; i < PHOTO_CACHE_N; i++) {
        if (photos.e[i].img.data && photos.e[i].width == width && !strcmp(photos.e[i].key, key)) {
            victim = -1; /* another request kept it meanwhile */
            break;
        }
        if (photos.e[i].used < photos.e[victim].used)
            victim = i;
    }
    if (victim >= 0) {
        struct photo_entry *pe = &photos.e[victim];
        vis_image_release(&pe->img);
        snprintf(pe->key, sizeof pe->key, "%s", key);
        pe->width = width;
        pe->used = ++photos.tick;
        pe->img = c;
        c.data = NULL;
    }
    pthread_mutex_unlock(&photos.mu);
    vis_image_release(&c);
}

/* The session's photo decoded and resized to the output width (as rnd_render
 * would), *k the scale factor. Caller releases *out. */
static enum ff_err load_photo(struct http_req *req, struct tryon *t, const struct tryon_geom *g,
                              int width, struct vis_image *out, double *k)
{
    int ow, oh;
    rnd_out_size(g->width, g->height, width, &ow, &oh);
    if (!photo_cached(g->photo_key, ow, out)) {
        *k = (double)ow / g->width;
        return FF_OK;
    }
    void *photo = NULL;
    size_t plen = 0;
    enum ff_err e = store_get(tryon_store(t), g->photo_key, 0, &photo, &plen);
    if (e == FF_ENOTFOUND)
        return http_errf(req, FF_ENOTFOUND, "the session's photo is gone");
    if (e)
        return e;
    struct vis_image img = {0};
    char why[200] = "";
    struct vis_decode_opts o = {.fmt = VIS_RGB8};
    e = vis_decode(photo, plen, &o, &img, NULL, why, sizeof why);
    ff_free(photo);
    if (e)
        return e == FF_ENOMEM ? e : http_errf(req, FF_EINTERNAL, "stored photo: %s", why);
    if (img.w != g->width || img.h != g->height) { /* never expected: tryon measured it */
        vis_image_release(&img);
        return http_errf(req, FF_EINTERNAL, "stored photo is %dx%d, its session says %dx%d",
                         img.w, img.h, g->width, g->height);
    }
    if (ow == img.w) {
        *out = img;
    } else {
        e = rnd_resize(&img, ow, oh, out);
        vis_image_release(&img);
        if (e)
            return e;
    }
    *k = (double)ow / g->width;
    photo_keep(g->photo_key, ow, out);
    return FF_OK;
}

/* Decodes the stored photo and draws the frame; *out (len bytes) is ff_malloc'd. */
static enum ff_err make_render(struct http_req *req, struct tryon *t, const struct tryon_geom *g,
                               const struct rhttp_variant *v, const struct params *p, int width,
                               uint8_t **out, size_t *len)
{
    struct vis_image img = {0}, drawn = {0};
    double k = 1;
    enum ff_err e = load_photo(req, t, g, width, &img, &k);
    if (e)
        return e;
    /* tryon's geometry is in the stored photo's oriented pixels */
    struct rnd_face face = {{g->eye_right[0], g->eye_right[1]},
                            {g->eye_left[0], g->eye_left[1]},
                            g->yaw_deg, g->pitch_deg, g->roll_deg, g->mm_per_px}, scaled;
    rnd_face_scale(&face, k, &scaled);
    char why[200] = "";
    if (v->custom) {
        struct rnd_frame f;
        e = rhttp_custom_frame(tryon_store(t), v, &f);
        if (!e) {
            e = rnd_render_frame(&img, &f, &scaled, 0, &drawn, why, sizeof why);
            rnd_frame_release(&f);
        } else if (e != FF_ENOMEM) {
            e = http_errf(req, FF_EINTERNAL, "variant %s: its frame image is unusable", p->sku);
        }
    } else {
        e = rnd_render(&img, &v->spec, &scaled, 0, &drawn, why, sizeof why);
    }
    vis_image_release(&img);
    if (e == FF_EINVAL)
        return http_errf(req, FF_EINVAL, "cannot draw this frame on this photo: %s", why);
    if (e)
        return e;
    e = rnd_encode(&drawn, p->fmt, 0, out, len);
    vis_image_release(&drawn);
    return e;
}

static enum ff_err get_render(struct http_req *req, struct http_resp *resp)
{
    struct tryon *t = req->ud;
    const char *id = http_param(req, "id");
    struct params p;
    if (parse_params(req, &p))
        return FF_EINVAL;
    struct tryon_owner who;
    struct tryon_geom *g = ff_arena_alloc(req->arena, sizeof *g);
    if (!g)
        return FF_ENOMEM;
    if (tryon_req_owner(req, &who))
        return http_errf(req, FF_ENOTFOUND, "no such try-on session");
    enum ff_err e = tryon_session_geom(tryon_db(t), id, &who, g);
    if (e == FF_ENOTFOUND)
        return http_errf(req, FF_ENOTFOUND, "no such try-on session");
    if (e)
        return e;
    if (!g->has_face)
        return http_errf(req, FF_EINVAL, "no face was found in this photo to place frames on");
    struct rhttp_variant v;
    e = rhttp_load_variant(tryon_db(t), p.sku, &v);
    if (e == FF_ENOTFOUND)
        return http_errf(req, FF_ENOTFOUND, "no frame variant with SKU %s", p.sku);
    if (e)
        return e;
    if (!v.custom && (v.spec.shape < 0 || rnd_spec_check(&v.spec, NULL, 0)))
        return http_errf(req, FF_EINVAL, "variant %s has no drawable frame", p.sku);
    int width = p.width ? (int)p.width : RENDER_HTTP_DEFAULT_WIDTH;
    if (width > g->width)
        width = g->width; /* never enlarged: one key for every width >= the photo's */
    char key[65], etag[40];
    cache_key(g, &p, &v, width, key);
    snprintf(etag, sizeof etag, "\"%.32s\"", key);
    if (etag_match(http_header(req, "If-None-Match"), etag)) {
        /* the server answers 304 (with this ETag) for a 200 whose ETag matches */
        http_reply_static(resp, 200, rnd_format_mime(p.fmt), "", 0);
        return reply_headers(resp, etag, "revalidated");
    }
    struct tryon_render rec;
    void *data = NULL;
    size_t len = 0;
    const char *state = "hit";
    e = tryon_render_get(tryon_db(t), id, key, &rec);
    if (!e)
        e = store_get(tryon_store(t), rec.object_key, 0, &data, &len);
    if (e == FF_ENOTFOUND) { /* never made, or the object was lost: make it */
        state = "miss";
        uint8_t *bytes = NULL;
        e = make_render(req, t, g, &v, &p, width, &bytes, &len);
        if (e)
            return e;
        data = bytes;
        enum ff_err pe =
            tryon_render_put(t, id, key, bytes, len, rnd_format_mime(p.fmt), NULL);
        if (pe == FF_ENOTFOUND) {
            ff_free(data);
            return http_errf(req, FF_ENOTFOUND, "no such try-on session");
        }
        if (pe)
            ff_log(FF_LOG_WARN, "render", "session %s: render not cached: %s", id,
                   ff_err_name(pe));
    }
    if (e)
        return e;
    e = http_reply(resp, 200, rnd_format_mime(p.fmt), data, len);
    ff_free(data);
    if (!e)
        e = reply_headers(resp, etag, state);
    return e;
}

enum ff_err render_http_register(struct http_router *r, struct tryon *t)
{
    enum ff_err e =
        http_route_add(r, HTTP_GET, "/api/v1/tryon/sessions/{id}/render", get_render, t, 0);
    if (!e)
        e = frame_http_register(r, t);
    return e;
}
