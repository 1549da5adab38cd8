/* tryon_reco.c - frame recommendations for a session: face shape -> frame
 * shapes, face size -> frame size, ranked catalog products with reasons.
 *
 * FRAME SHAPES. The usual optician guidance is to contrast the face's lines
 * and balance its proportions. The table gives each frame shape a fit score
 * 0..1 per face shape (rows: face shapes, columns: catalog frame shapes in
 * enum cat_shape order rectangle, square, round, oval, cat-eye, aviator,
 * browline, geometric, wayfarer):
 *   oval      almost anything; keep the balance (avoid oversize only)
 *   round     angular frames add lines: rectangle, square, geometric, wayfarer;
 *             round/oval repeat the curves (low)
 *   square    curves soften the jaw: round, oval, aviator, cat-eye; square and
 *             rectangle repeat the angles (low)
 *   oblong    deep frames and strong top lines shorten the face: square,
 *             wayfarer, aviator, browline, round; narrow rectangles lengthen it
 *   heart     light or bottom-heavy frames balance a wide forehead: aviator,
 *             round, oval; top-heavy browline and cat-eye stress it (low)
 *   diamond   frames with a strong brow line or curves soften cheekbones:
 *             cat-eye, oval, browline, round
 *   triangle  top-heavy frames widen the upper face: browline, cat-eye,
 *             aviator, wayfarer; round and oval bottoms stress the jaw
 *
 * SIZE. Total frame width ~ 2 x lens + bridge + 2 x 5 mm end pieces; it should
 * be close to the face width (the widest of temples and cheekbones). Scored
 * with a Gaussian of the difference, sigma = max(6 mm, the measurement's own
 * error). Ranges: lens width for a frame as wide as the face with the
 * recommended bridge, +-3 mm; bridge from the inner eye corner distance minus
 * 14 mm (clamped 14..24), +-2 mm; temple 135-145 / 140-150 / 145-155 mm for
 * faces under 135 / 135-148 / wider.
 *
 * RANKING. score = 0.5 x shape fit + 0.4 x size fit + 0.1 when the catalog
 * lists the face shape in the frame's suits_face_shapes. In-stock products
 * come first, then by score. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/str.h"
#include "tryon/face_shape.h"
#include "tryon/session.h"
#include "tryon/tryon_int.h"

#define ENDPIECES_MM 10.0
#define MAX_PAGES 10

static const double fit[TRYON_SHAPE_COUNT][CAT_SHAPE_COUNT] = {
    /*              rect  square round oval  cat   avia  brow  geom  wayf */
    [TRYON_OVAL] = {1.0, 0.9, 0.8, 0.7, 0.9, 1.0, 0.9, 0.9, 1.0},
    [TRYON_ROUND] = {1.0, 1.0, 0.0, 0.2, 0.6, 0.5, 0.8, 0.9, 0.9},
    [TRYON_SQUARE] = {0.1, 0.0, 1.0, 1.0, 0.8, 0.9, 0.6, 0.3, 0.4},
    [TRYON_OBLONG] = {0.2, 1.0, 0.8, 0.6, 0.6, 0.9, 0.8, 0.7, 1.0},
    [TRYON_HEART] = {0.6, 0.5, 0.9, 0.9, 0.2, 1.0, 0.2, 0.5, 0.6},
    [TRYON_DIAMOND] = {0.5, 0.4, 0.8, 1.0, 1.0, 0.6, 1.0, 0.4, 0.6},
    [TRYON_TRIANGLE] = {0.5, 0.6, 0.3, 0.4, 1.0, 0.8, 1.0, 0.6, 0.8},
};

/* Why a well-fitting frame shape suits this face (after the frame shape's label). */
static const char *const why_good[TRYON_SHAPE_COUNT] = {
    [TRYON_OVAL] = "frames keep the natural balance of an oval face",
    [TRYON_ROUND] = "frames add angles that balance a round face",
    [TRYON_SQUARE] = "frames soften the strong lines of a square face",
    [TRYON_OBLONG] = "frames add depth that shortens a long face",
    [TRYON_HEART] = "frames balance a wider forehead and narrow chin",
    [TRYON_DIAMOND] = "frames soften prominent cheekbones",
    [TRYON_TRIANGLE] = "frames widen the upper face to balance the jaw",
};

static const char *const shape_label[CAT_SHAPE_COUNT] = {
    "Rectangular", "Square", "Round", "Oval", "Cat-eye", "Aviator", "Browline", "Geometric",
    "Wayfarer"};

struct face_size {
    double face_w, pd, sigma;
    double lens_ideal, bridge_ideal;
    int temple_min, temple_max;
};

/* icd_mm: the inner eye-corner distance (39-42) in mm, from which the bridge
 * follows. */
static void size_targets(double face_w, double icd_mm, double rel_err, struct face_size *s)
{
    s->face_w = face_w;
    s->sigma = fmax(6.0, s->face_w * rel_err);
    s->bridge_ideal = fmin(24.0, fmax(14.0, round(icd_mm - 14.0)));
    s->lens_ideal = round((s->face_w - ENDPIECES_MM - s->bridge_ideal) / 2.0);
    s->temple_min = s->face_w < 135 ? 135 : s->face_w < 148 ? 140 : 145;
    s->temple_max = s->temple_min + 10;
}

double tryon_inner_eye_mm(const struct tryon_geom *g)
{
    return hypot(g->landmarks[42][0] - g->landmarks[39][0],
                 g->landmarks[42][1] - g->landmarks[39][1]) *
           g->mm_per_px / cos(fmin(fabs(g->yaw_deg), 60.0) * M_PI / 180.0);
}

static json_t *range(double lo, double hi)
{
    return json_pack("{s:i,s:i}", "min", (int)lround(lo), "max", (int)lround(hi));
}

/* Scores one list item; returns its reasons array through *reasons. */
static double score_item(json_t *it, enum tryon_face_shape face, const struct face_size *s,
                         json_t **reasons, double *frame_w)
{
    const char *shape = json_string_value(json_object_get(it, "shape"));
    int fs = shape ? cat_shape_parse(shape) : -1;
    json_t *m = json_object_get(it, "measurements");
    double lens = (double)json_integer_value(json_object_get(m, "lens_width_mm"));
    double bridge = (double)json_integer_value(json_object_get(m, "bridge_mm"));
    double shape_fit = fs >= 0 ? fit[face][fs] : 0;
    *frame_w = 2 * lens + bridge + ENDPIECES_MM;
    double diff = *frame_w - s->face_w;
    double size_fit = exp(-0.5 * (diff / s->sigma) * (diff / s->sigma));
    bool listed = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(it, "suits_face_shapes"), i, v)
        if (cat_face_parse(json_string_value(v)) == (int)face)
            listed = true;
    char buf[200];
    *reasons = json_array();
    if (fs >= 0 && shape_fit >= 0.6)
        snprintf(buf, sizeof buf, "%s %s", shape_label[fs], why_good[face]);
    else
        snprintf(buf, sizeof buf, "%s frames are a weaker match for a %s face",
                 fs >= 0 ? shape_label[fs] : "These", tryon_face_shape_name(face));
    json_array_append_new(*reasons, json_string(buf));
    snprintf(buf, sizeof buf, "%.0f mm frame for your ~%.0f mm face (%s)", *frame_w, s->face_w,
             fabs(diff) <= s->sigma * 0.5 ? "a close fit"
             : fabs(diff) <= s->sigma  ? (diff > 0 ? "a little wide" : "a little narrow")
             : diff > 0                ? "wide for your face"
                                       : "narrow for your face");
    json_array_append_new(*reasons, json_string(buf));
    if (listed) {
        snprintf(buf, sizeof buf, "recommended by the maker for %s faces",
                 tryon_face_shape_name(face));
        json_array_append_new(*reasons, json_string(buf));
    }
    return 0.5 * shape_fit + 0.4 * size_fit + (listed ? 0.1 : 0.0);
}

struct cand {
    json_t *item; /* borrowed from its page */
    double score, frame_w;
    bool in_stock;
    json_t *reasons;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->in_stock != y->in_stock)
        return x->in_stock ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    json_int_t ix = json_integer_value(json_object_get(x->item, "id"));
    json_int_t iy = json_integer_value(json_object_get(y->item, "id"));
    return ix < iy ? -1 : ix > iy;
}

/* The product's variants, in stock first: [{sku, colour, size, in_stock}]. */
static json_t *variants_of(struct db *db, json_int_t id)
{
    json_t *p = NULL, *out = json_array();
    if (cat_get(db, id, &p))
        return out;
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(p, "variants"), i, v) {
            bool in = json_integer_value(json_object_get(v, "stock")) > 0;
            if (in != (pass == 0))
                continue;
            json_array_append_new(out, json_pack("{s:O,s:O,s:O,s:b}", "sku",
                                                 json_object_get(v, "sku"), "colour",
                                                 json_object_get(v, "colour"), "size",
                                                 json_object_get(v, "size"), "in_stock", in));
        }
    }
    json_decref(p);
    return out;
}

static json_t *product_summary(json_t *it)
{
    static const char *keep[] = {"id", "slug", "name", "brand", "shape", "material", "colour",
                                 "measurements", "price", "in_stock", "image"};
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(it, keep[i]);
        if (v)
            json_object_set(o, keep[i], v);
    }
    return o;
}

/* Lists candidate products page by page into pages[] (kept alive) and cands. */
static enum ff_err gather(struct db *db, enum tryon_face_shape face, const struct face_size *s,
                          json_t *pages, struct cand **cands, size_t *n)
{
    struct cat_query q;
    cat_query_init(&q);
    for (int k = 0; k < CAT_SHAPE_COUNT; k++)
        if (fit[face][k] >= 0.5)
            q.shapes |= 1u << k;
    q.lens_width = (struct cat_range){(int64_t)(s->lens_ideal - 8), (int64_t)(s->lens_ideal + 8)};
    q.limit = CAT_MAX_LIMIT;
    size_t cap = 0;
    for (int page = 0; page < MAX_PAGES; page++) {
        json_t *res = NULL;
        enum ff_err e = cat_list(db, &q, &res);
        if (e)
            return e;
        json_array_append_new(pages, res);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(res, "items"), i, it) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 128;
                struct cand *nc = ff_realloc(*cands, cap * sizeof *nc);
                if (!nc)
                    return FF_ENOMEM;
                *cands = nc;
            }
            struct cand *c = &(*cands)[(*n)++];
            c->item = it;
            c->in_stock = json_is_true(json_object_get(it, "in_stock"));
            c->score = score_item(it, face, s, &c->reasons, &c->frame_w);
        }
        const char *cur = json_string_value(json_object_get(res, "next_cursor"));
        if (!cur || cat_cursor_decode(cur, strlen(cur), &q))
            break;
    }
    return FF_OK;
}

static json_t *shapes_json(enum tryon_face_shape face)
{
    json_t *a = json_array();
    for (long lvl = 10; lvl >= 0; lvl--) /* best first */
        for (int k = 0; k < CAT_SHAPE_COUNT; k++) {
            if (lround(fit[face][k] * 10) != lvl)
                continue;
            char buf[200];
            if (fit[face][k] >= 0.6)
                snprintf(buf, sizeof buf, "%s %s", shape_label[k], why_good[face]);
            else
                snprintf(buf, sizeof buf, "%s frames are a weaker match for a %s face",
                         shape_label[k], tryon_face_shape_name(face));
            json_array_append_new(a, json_pack("{s:s,s:f,s:s}", "shape", cat_shape_name(k),
                                               "fit", fit[face][k], "reason", buf));
        }
    return a;
}

enum ff_err tryon_recommend(struct tryon *t, const char *id, const struct tryon_owner *who,
                            int limit, json_t **out, char *detail, size_t dlen)
{
    struct tryon_geom g;
    char shape[32] = "", *text = NULL;
    size_t tlen;
    *out = NULL;
    enum ff_err e = tryon_session_geom(t->db, id, who, &g);
    if (!e)
        e = tryon_session_json(t->db, id, who, &text, &tlen, shape, sizeof shape);
    ff_free(text);
    if (e)
        return e;
    if (!g.has_face || !(g.face_width_mm > 0)) {
        ff_errbuf(detail, dlen, "no usable face was found in this session's photo; "
                                "upload a new one to get recommendations");
        return FF_EINVAL;
    }
    e = tryon_recommend_for(t, shape, g.face_width_mm, tryon_inner_eye_mm(&g), limit, out,
                            detail, dlen);
    if (!e && json_object_set_new(*out, "session_id", json_string(id))) {
        json_decref(*out);
        *out = NULL;
        e = FF_ENOMEM;
    }
    return e;
}

enum ff_err tryon_recommend_for(struct tryon *t, const char *shape, double face_w_mm,
                                double icd_mm, int limit, json_t **out, char *detail,
                                size_t dlen)
{
    *out = NULL;
    int face = cat_face_parse(shape);
    if (face < 0 || face >= TRYON_SHAPE_COUNT || !(face_w_mm > 0) || !(icd_mm > 0)) {
        ff_errbuf(detail, dlen, "no usable face was found in this session's photo; "
                                "upload a new one to get recommendations");
        return FF_EINVAL;
    }
    struct face_size s;
    size_targets(face_w_mm, icd_mm, TRYON_SCALE_REL_ERR, &s);
    json_t *pages = json_array();
    struct cand *cands = NULL;
    size_t n = 0;
    enum ff_err e = gather(t->db, (enum tryon_face_shape)face, &s, pages, &cands, &n);
    if (!e) {
        if (n)
            qsort(cands, n, sizeof *cands, cmp_cand);
        json_t *items = json_array();
        for (size_t i = 0; i < n && i < (size_t)limit; i++) {
            json_t *p = product_summary(cands[i].item);
            json_int_t pid = json_integer_value(json_object_get(cands[i].item, "id"));
            json_array_append_new(
                items, json_pack("{s:o,s:f,s:i,s:O,s:o}", "product", p, "score",
                                 round(cands[i].score * 1000) / 1000, "frame_width_mm",
                                 (int)lround(cands[i].frame_w), "reasons", cands[i].reasons,
                                 "variants", variants_of(t->db, pid)));
        }
        json_t *size = json_pack(
            "{s:f,s:o,s:o,s:o,s:o}", "face_width_mm", round(s.face_w * 10) / 10,
            "frame_width_mm", range(s.face_w - s.sigma, s.face_w + s.sigma), "lens_width_mm",
            range(s.lens_ideal - 3, s.lens_ideal + 3), "bridge_mm",
            range(s.bridge_ideal - 2, s.bridge_ideal + 2), "temple_mm",
            range(s.temple_min, s.temple_max));
        *out = json_pack("{s:s,s:o,s:o,s:o,s:I,s:s}", "face_shape", shape, "frame_shapes", shapes_json((enum tryon_face_shape)face),
                         "size", size, "items", items, "candidates", (json_int_t)n,
                         "method",
                         "score = 0.5 frame-shape fit for the face shape + 0.4 size fit "
                         "(frame width = 2 x lens + bridge + 10 mm vs face width) + 0.1 when "
                         "the maker lists the face shape; in-stock first");
        if (!*out)
            e = FF_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        json_decref(cands[i].reasons); /* the used ones were borrowed with O */
    ff_free(cands);
    json_decref(pages);
    return e;
}
