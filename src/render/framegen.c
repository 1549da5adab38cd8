/* framegen.c - draws the front view of a frame from a product's dimensions.
 *
 * Geometry (mm, see render.h): each lens aperture is a closed outline fitted to
 * the lens box (lens_width x lens_height) and shaped per frame shape; the rim is
 * that outline stroked outwards (variable thickness: thicker at the top for
 * acetate, thin and even for metal), the bridge and endpieces are stroked
 * polylines ending inside the rims, a browline adds a thick brow bar over a thin
 * metal rim, an aviator a straight top bar. All solid parts of one colour are
 * filled in one nonzero-winding pass (no double alpha where they overlap), the
 * lens tint in another; layers are composited in premultiplied linear light and
 * stored as straight-alpha sRGB bytes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render.h"
#include "render/render_int.h"

#define NOUT 192     /* points per lens outline */
#define MARGIN_PX 2.0

struct style {
    uint8_t rim[3];     /* sRGB */
    float rim_a;        /* material opacity */
    int metal;          /* thin even rims */
    int tortoise;       /* mottled pattern between rim and rim2 */
    uint8_t rim2[3];
};

static const struct {
    const char *name;
    struct style s;
} styles[] = {
    {"black", {{22, 22, 24}, 1.0f, 0, 0, {0}}},
    {"tortoise", {{58, 30, 16}, 1.0f, 0, 1, {176, 104, 42}}},
    {"gold", {{196, 158, 74}, 1.0f, 1, 0, {0}}},
    {"silver", {{186, 188, 194}, 1.0f, 1, 0, {0}}},
    {"clear", {{200, 206, 212}, 0.6f, 0, 0, {0}}},
    {"navy", {{28, 38, 82}, 1.0f, 0, 0, {0}}},
    {"crystal-pink", {{232, 164, 180}, 0.7f, 0, 0, {0}}},
    {"gunmetal", {{82, 84, 90}, 1.0f, 1, 0, {0}}},
    {"green", {{36, 88, 60}, 1.0f, 0, 0, {0}}},
    {"brown", {{96, 60, 36}, 1.0f, 0, 0, {0}}},
    {"burgundy", {{108, 24, 38}, 1.0f, 0, 0, {0}}},
    {"honey", {{192, 124, 50}, 0.85f, 0, 0, {0}}},
};

const char *rnd_colour_name(int i)
{
    return i >= 0 && (size_t)i < sizeof styles / sizeof styles[0] ? styles[i].name : NULL;
}

const char *rnd_shape_name(int shape)
{
    static const char *const names[RND_SHAPE_COUNT] = {
        "rectangle", "square", "round", "oval", "cat-eye",
        "aviator", "browline", "geometric", "wayfarer"};
    return shape >= 0 && shape < RND_SHAPE_COUNT ? names[shape] : NULL;
}

static struct style style_for(const char *colour)
{
    if (!colour)
        colour = "black";
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
        if (!strcmp(styles[i].name, colour))
            return styles[i].s;
    return (struct style){{64, 64, 68}, 1.0f, 0, 0, {0}};
}

enum ff_err rnd_spec_check(const struct rnd_frame_spec *s, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!s)
        why = "no frame given";
    else if (s->shape < 0 || s->shape >= RND_SHAPE_COUNT)
        why = "unknown frame shape";
    else if (!(s->lens_width_mm >= 30 && s->lens_width_mm <= 80))
        why = "lens width must be 30..80 mm";
    else if (!(s->lens_height_mm >= 20 && s->lens_height_mm <= 70))
        why = "lens height must be 20..70 mm";
    else if (!(s->bridge_mm >= 8 && s->bridge_mm <= 30))
        why = "bridge must be 8..30 mm";
    if (!why)
        return FF_OK;
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return FF_EINVAL;
}

/* ---- lens outlines (right-hand lens, x > 0 towards the temple) ------------- */

static double spow(double v, double e)
{
    return v < 0 ? -pow(-v, e) : pow(v, e);
}

static void raw_outline(int shape, double a, double b, struct rnd_pt *p)
{
    for (int i = 0; i < NOUT; i++) {
        double th = 2 * M_PI * i / NOUT, c = cos(th), s = sin(th);
        double n = 2.0;
        switch (shape) {
        case RND_RECTANGLE: n = 7; break;
        case RND_SQUARE: n = 5; break;
        case RND_ROUND: n = 2; break;
        case RND_OVAL: n = 2.3; break;
        case RND_CAT_EYE: n = 2.6; break;
        case RND_AVIATOR: n = s < 0 ? 4 : 2; break;
        case RND_BROWLINE: n = 3.5; break;
        case RND_WAYFARER: n = 4; break;
        default: break;
        }
        double x = a * spow(c, 2 / n), y = b * spow(s, 2 / n);
        if (shape == RND_GEOMETRIC) { /* an octagon: flat sides, faceted corners */
            const double N = 8, half = M_PI / N;
            double d = fmod(th + half, 2 * half) - half;
            double r = cos(half) / cos(d);
            x = a * r * c;
            y = b * r * s;
        } else if (shape == RND_CAT_EYE && y < 0) {
            double u = x > 0 ? x / a : 0;
            y -= 0.9 * b * u * u * u;
        } else if (shape == RND_AVIATOR && y > 0) {
            double v = y / b;
            x -= 0.3 * a * v * v;
            y *= 1.1;
        } else if (shape == RND_WAYFARER) {
            x *= 1 - 0.16 * (y / b + 1) / 2;
            if (y < 0 && x > 0)
                y -= 0.14 * b * (x / a) * (x / a);
        }
        p[i] = (struct rnd_pt){x, y};
    }
}

static double signed_area(const struct rnd_pt *p, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rnd_pt *q = &p[(i + 1) % n];
        s += p[i].x * q->y - q->x * p[i].y;
    }
    return s / 2;
}

static void reverse(struct rnd_pt *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        struct rnd_pt t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static void orient_positive(struct rnd_pt *p, size_t n)
{
    if (signed_area(p, n) < 0)
        reverse(p, n);
}

/* The outline fitted exactly to the box [-a, a] x [-b, b], positive area. */
static void lens_outline(int shape, double a, double b, struct rnd_pt *p)
{
    raw_outline(shape, a, b, p);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < NOUT; i++) {
        x0 = fmin(x0, p[i].x);
        x1 = fmax(x1, p[i].x);
        y0 = fmin(y0, p[i].y);
        y1 = fmax(y1, p[i].y);
    }
    for (int i = 0; i < NOUT; i++) {
        p[i].x = -a + (p[i].x - x0) * 2 * a / (x1 - x0);
        p[i].y = -b + (p[i].y - y0) * 2 * b / (y1 - y0);
    }
    orient_positive(p, NOUT);
}

/* Outward unit normal at vertex i of a positive-area closed outline. */
static struct rnd_pt normal_at(const struct rnd_pt *p, size_t n, size_t i)
{
    struct rnd_pt a = p[(i + n - 1) % n], b = p[(i + 1) % n];
    double tx = b.x - a.x, ty = b.y - a.y, l = hypot(tx, ty);
    if (l == 0)
        return (struct rnd_pt){0, 0};
    return (struct rnd_pt){ty / l, -tx / l};
}

/* Smallest and largest x where the outline crosses height y (lens coordinates). */
static void span_at(const struct rnd_pt *p, size_t n, double y, double *xmin, double *xmax)
{
    *xmin = INFINITY;
    *xmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        struct rnd_pt a = p[i], b = p[(i + 1) % n];
        if ((a.y <= y && b.y > y) || (b.y <= y && a.y > y)) {
            double x = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y);
            *xmin = fmin(*xmin, x);
            *xmax = fmax(*xmax, x);
        }
    }
    if (!isfinite(*xmin))
        *xmin = *xmax = 0;
}

/* ---- the drawing ------------------------------------------------------------ */

#define MAXC 12                 /* contours per layer */
#define SEGS 24                 /* points per stroked polyline side */

struct layer {
    struct rnd_pt *c[MAXC];
    size_t n[MAXC];
    size_t nc;
};

struct draw {
    const struct rnd_frame_spec *spec;
    struct style st;
    double a, b, cx;            /* lens half sizes, lens centre x */
    double ppm, min_mm;         /* scale; thinnest stroke in mm */
    double t_side, t_top;       /* rim thickness */
    struct rnd_pt lens[NOUT];   /* right lens aperture, lens coordinates */
    struct rnd_pt pool[MAXC * 2 * NOUT + 8 * 2 * SEGS];
    size_t used;
    struct layer solid, tint, thin; /* thin: browline's lower metal rim */
};

static struct rnd_pt *take(struct draw *d, size_t n)
{
    if (d->used + n > sizeof d->pool / sizeof d->pool[0])
        return NULL;
    struct rnd_pt *p = d->pool + d->used;
    d->used += n;
    return p;
}

static void add(struct layer *l, struct rnd_pt *p, size_t n)
{
    if (p && l->nc < MAXC) {
        l->c[l->nc] = p;
        l->n[l->nc++] = n;
    }
}

/* Copies the right lens outline to frame coordinates, on side +1 or -1. */
static struct rnd_pt *place(struct draw *d, const struct rnd_pt *src, size_t n, int side)
{
    struct rnd_pt *p = take(d, n);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = (struct rnd_pt){side * (d->cx + src[i].x), src[i].y};
    orient_positive(p, n);
    return p;
}

static double rim_t(const struct draw *d, double y)
{
    double up = y < 0 ? -y / d->b : 0;
    return d->t_side + (d->t_top - d->t_side) * up * up;
}

/* A ring: the outline pushed out by rim_t plus the outline reversed (a hole). */
static void add_ring(struct draw *d, struct layer *l, int side)
{
    struct rnd_pt out[NOUT], in[NOUT];
    for (size_t i = 0; i < NOUT; i++) {
        struct rnd_pt nm = normal_at(d->lens, NOUT, i);
        double t = rim_t(d, d->lens[i].y);
        out[i] = (struct rnd_pt){d->lens[i].x + nm.x * t, d->lens[i].y + nm.y * t};
        in[i] = d->lens[i];
    }
    add(l, place(d, out, NOUT, side), NOUT);
    struct rnd_pt *h = place(d, in, NOUT, side);
    if (h)
        reverse(h, NOUT);
    add(l, h, NOUT);
}

/* A stroked open polyline from (x0, y0) to (x1, y1) bending by `sag` (mm, + down)
 * at its middle, half width hw. */
static void add_stroke(struct draw *d, struct layer *l, double x0, double y0, double x1,
                       double y1, double sag, double hw)
{
    struct rnd_pt *p = take(d, 2 * SEGS);
    if (!p)
        return;
    for (int i = 0; i < SEGS; i++) {
        double t = (double)i / (SEGS - 1);
        double x = x0 + (x1 - x0) * t, y = y0 + (y1 - y0) * t + sag * 4 * t * (1 - t);
        double dx = x1 - x0, dy = y1 - y0 + sag * 4 * (1 - 2 * t), len = hypot(dx, dy);
        double nx = -dy / len, ny = dx / len;
        p[i] = (struct rnd_pt){x + nx * hw, y + ny * hw};
        p[2 * SEGS - 1 - i] = (struct rnd_pt){x - nx * hw, y - ny * hw};
    }
    orient_positive(p, 2 * SEGS);
    add(l, p, 2 * SEGS);
}

/* Browline: a thick bar over the upper part of the outline. */
static void add_brow(struct draw *d, int side)
{
    struct rnd_pt band[2 * NOUT];
    size_t start = 0, n = 0;
    for (size_t i = 0; i < NOUT; i++)
        if (d->lens[i].y <= 0 && d->lens[(i + NOUT - 1) % NOUT].y > 0)
            start = i;
    struct rnd_pt outer[NOUT], inner[NOUT];
    for (size_t k = 0; k < NOUT; k++) {
        size_t i = (start + k) % NOUT;
        if (d->lens[i].y > 0)
            break;
        double up = -d->lens[i].y / d->b;
        double t = fmax(1.0, d->min_mm) + 4.5 * pow(up, 0.6);
        struct rnd_pt nm = normal_at(d->lens, NOUT, i);
        outer[n] = (struct rnd_pt){d->lens[i].x + nm.x * t, d->lens[i].y + nm.y * t};
        inner[n++] = (struct rnd_pt){d->lens[i].x - nm.x * 0.3, d->lens[i].y - nm.y * 0.3};
    }
    if (n < 3)
        return;
    for (size_t k = 0; k < n; k++) {
        band[k] = outer[k];
        band[2 * n - 1 - k] = inner[k];
    }
    add(&d->solid, place(d, band, 2 * n, side), 2 * n);
}

static void build(struct draw *d)
{
    const struct rnd_frame_spec *s = d->spec;
    int shape = s->shape;
    d->a = s->lens_width_mm / 2;
    d->b = s->lens_height_mm / 2;
    d->cx = (s->lens_width_mm + s->bridge_mm) / 2;
    int metal = d->st.metal || shape == RND_AVIATOR;
    d->t_side = metal ? 1.3 : 3.0;
    d->t_top = metal ? 1.3 : 4.2;
    if (shape == RND_BROWLINE)
        d->t_side = d->t_top = 1.0;
    /* at small scales keep every stroke at least ~0.9 px wide so it stays visible */
    d->min_mm = 0.9 / d->ppm;
    d->t_side = fmax(d->t_side, d->min_mm);
    d->t_top = fmax(d->t_top, d->min_mm);
    lens_outline(shape, d->a, d->b, d->lens);

    for (int side = -1; side <= 1; side += 2) {
        add(&d->tint, place(d, d->lens, NOUT, side), NOUT);
        add_ring(d, shape == RND_BROWLINE ? &d->thin : &d->solid, side);
        if (shape == RND_BROWLINE)
            add_brow(d, side);
    }
    /* bridge: ends inside the rims at its height */
    double yb = shape == RND_AVIATOR ? -0.55 * d->b : -0.42 * d->b, xl, xr;
    span_at(d->lens, NOUT, yb, &xl, &xr);
    double xe = d->cx + xl - 0.45 * rim_t(d, yb);
    double hw = fmax(metal ? 0.8 : 2.1, d->min_mm / 2);
    add_stroke(d, &d->solid, -xe, yb, xe, yb, metal ? -2.5 : -1.2, hw);
    if (shape == RND_AVIATOR) { /* double bridge: a straight top bar */
        double yt = -0.86 * d->b;
        span_at(d->lens, NOUT, yt, &xl, &xr);
        double xt = d->cx + xl - 0.45 * rim_t(d, yt);
        add_stroke(d, &d->solid, -xt, yt, xt, yt, 0, fmax(0.75, d->min_mm / 2));
    }
    /* endpieces (the hinge blocks the temples start from) */
    double ye = shape == RND_CAT_EYE ? -0.72 * d->b : -0.55 * d->b;
    span_at(d->lens, NOUT, ye, &xl, &xr);
    double x0 = d->cx + xr + 0.5 * rim_t(d, ye), x1 = d->cx + xr + rim_t(d, ye) + 4.5;
    double ehw = fmax(metal ? 0.9 : 1.7, d->min_mm / 2);
    add_stroke(d, &d->solid, x0, ye, x1, ye - 0.4, 0, ehw);
    add_stroke(d, &d->solid, -x0, ye, -x1, ye - 0.4, 0, ehw);
}

/* ---- pixels ------------------------------------------------------------------ */

static double hash2(int x, int y)
{
    uint32_t h = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u;
    h = (h ^ (h >> 13)) * 1274126177u;
    return ((h ^ (h >> 16)) & 0xffffff) / (double)0xffffff;
}

static double vnoise(double x, double y)
{
    int ix = (int)floor(x), iy = (int)floor(y);
    double fx = x - ix, fy = y - iy;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    double a = hash2(ix, iy), b = hash2(ix + 1, iy), c = hash2(ix, iy + 1),
           e = hash2(ix + 1, iy + 1);
    return a + (b - a) * fx + (c - a) * fy + (a - b - c + e) * fx * fy;
}

static void solid_colour(const struct style *st, double X, double Y, float out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = rnd_srgb_to_linear(st->rim[k]);
    if (!st->tortoise)
        return;
    double n = 0.65 * vnoise(X / 4.0 + 17, Y / 3.0 + 5) + 0.35 * vnoise(X / 1.4, Y / 1.4);
    double m = (n - 0.45) / 0.3;
    m = m < 0 ? 0 : m > 1 ? 1 : m * m * (3 - 2 * m);
    for (int k = 0; k < 3; k++)
        out[k] = (float)(out[k] + (rnd_srgb_to_linear(st->rim2[k]) - out[k]) * m);
}

struct canvas {
    int w, h;
    double ppm, minx, miny;     /* raster = (mm - min) * ppm + MARGIN_PX */
    float *px;                  /* premultiplied linear RGBA */
    float *cov;
};

enum layer_kind { L_SOLID, L_TINT, L_THIN };

static enum ff_err paint(struct canvas *cv, const struct draw *d, const struct layer *l,
                         enum layer_kind kind)
{
    if (!l->nc)
        return FF_OK;
    size_t n = (size_t)cv->w * (size_t)cv->h;
    memset(cv->cov, 0, n * sizeof *cv->cov);
    struct rnd_pt *pts[MAXC];
    size_t tot = 0;
    for (size_t i = 0; i < l->nc; i++)
        tot += l->n[i];
    struct rnd_pt *buf = ff_malloc(sizeof *buf * tot);
    if (!buf)
        return FF_ENOMEM;
    for (size_t i = 0, o = 0; i < l->nc; o += l->n[i], i++) {
        pts[i] = buf + o;
        for (size_t k = 0; k < l->n[i]; k++)
            pts[i][k] = (struct rnd_pt){(l->c[i][k].x - cv->minx) * cv->ppm + MARGIN_PX,
                                        (l->c[i][k].y - cv->miny) * cv->ppm + MARGIN_PX};
    }
    struct rnd_cov cov = {cv->w, cv->h, cv->cov};
    enum ff_err e = rnd_fill(&cov, (const struct rnd_pt *const *)pts, l->n, l->nc);
    ff_free(buf);
    if (e)
        return e;
    static const uint8_t lens_rgb[3] = {196, 206, 214}, thin_rgb[3] = {176, 178, 184};
    float lens_lin[3], thin_lin[3];
    for (int k = 0; k < 3; k++) {
        lens_lin[k] = rnd_srgb_to_linear(lens_rgb[k]);
        thin_lin[k] = rnd_srgb_to_linear(thin_rgb[k]);
    }
    for (int y = 0; y < cv->h; y++) {
        double Y = (y + 0.5 - MARGIN_PX) / cv->ppm + cv->miny;
        for (int x = 0; x < cv->w; x++) {
            float c = cv->cov[(size_t)y * cv->w + x];
            if (c <= 0)
                continue;
            double X = (x + 0.5 - MARGIN_PX) / cv->ppm + cv->minx;
            float col[3], a;
            if (kind == L_TINT) {
                double v = Y / d->b; /* -1 top .. 1 bottom: a faint gradient tint */
                a = c * (float)(0.09 - 0.04 * (v < -1 ? -1 : v > 1 ? 1 : v));
                memcpy(col, lens_lin, sizeof col);
            } else if (kind == L_THIN) {
                a = c;
                memcpy(col, thin_lin, sizeof col);
            } else {
                a = c * d->st.rim_a;
                solid_colour(&d->st, X, Y, col);
            }
            float *p = cv->px + ((size_t)y * cv->w + x) * 4;
            for (int k = 0; k < 3; k++)
                p[k] = col[k] * a + p[k] * (1 - a);
            p[3] = a + p[3] * (1 - a);
        }
    }
    return FF_OK;
}

static void bounds(const struct draw *d, double *x0, double *y0, double *x1, double *y1)
{
    const struct layer *ls[] = {&d->solid, &d->tint, &d->thin};
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < ls[k]->nc; i++)
            for (size_t j = 0; j < ls[k]->n[i]; j++) {
                *x0 = fmin(*x0, ls[k]->c[i][j].x);
                *x1 = fmax(*x1, ls[k]->c[i][j].x);
                *y0 = fmin(*y0, ls[k]->c[i][j].y);
                *y1 = fmax(*y1, ls[k]->c[i][j].y);
            }
}

static void to_bytes(const struct canvas *cv, struct rnd_rgba *img)
{
    const uint8_t *enc = rnd_srgb_table();
    for (int y = 0; y < cv->h; y++)
        for (int x = 0; x < cv->w; x++) {
            const float *p = cv->px + ((size_t)y * cv->w + x) * 4;
            uint8_t *o = img->data + (size_t)y * img->stride + (size_t)x * 4;
            float a = p[3];
            if (a <= 0) {
                memset(o, 0, 4);
                continue;
            }
            for (int k = 0; k < 3; k++)
                o[k] = enc[rnd_lin_index(p[k] / a)];
            o[3] = (uint8_t)(a >= 1 ? 255 : (int)(a * 255.0f + 0.5f));
        }
}

static void set_anchors(struct rnd_frame *f, const struct canvas *cv, const struct draw *d,
                        double x0, double y0, double x1, double y1)
{
    f->px_per_mm = cv->ppm;
    f->centre[0] = (0 - cv->minx) * cv->ppm + MARGIN_PX;
    f->centre[1] = (0 - cv->miny) * cv->ppm + MARGIN_PX;
    f->lens_left[0] = (-d->cx - cv->minx) * cv->ppm + MARGIN_PX;
    f->lens_right[0] = (d->cx - cv->minx) * cv->ppm + MARGIN_PX;
    f->lens_left[1] = f->lens_right[1] = f->centre[1];
    f->bridge_top[0] = f->centre[0];
    f->bridge_top[1] = (-0.42 * d->b - 1.2 - 2.1 - cv->miny) * cv->ppm + MARGIN_PX;
    f->width_mm = x1 - x0;
    f->height_mm = y1 - y0;
    f->lens_sep_mm = 2 * d->cx;
}

enum ff_err rnd_frame_generate(const struct rnd_frame_spec *spec, double px_per_mm,
                               struct rnd_frame *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    enum ff_err e = rnd_spec_check(spec, err, errlen);
    if (e)
        return e;
    if (!(px_per_mm >= RND_MIN_PX_PER_MM && px_per_mm <= RND_MAX_PX_PER_MM)) {
        if (err && errlen)
            snprintf(err, errlen, "scale must be %g..%g px per mm", RND_MIN_PX_PER_MM,
                     RND_MAX_PX_PER_MM);
        return FF_EINVAL;
    }
    rnd_colour_init();
    struct draw *d = ff_calloc(1, sizeof *d);
    if (!d)
        return FF_ENOMEM;
    d->spec = spec;
    d->ppm = px_per_mm;
    d->st = style_for(spec->colour);
    build(d);
    double x0, y0, x1, y1;
    bounds(d, &x0, &y0, &x1, &y1);
    /* symmetric canvas so the origin sits on a pixel boundary of the middle */
    double half = fmax(-x0, x1);
    struct canvas cv = {0};
    cv.ppm = px_per_mm;
    cv.minx = -half;
    cv.miny = y0;
    cv.w = (int)ceil(2 * half * px_per_mm + 2 * MARGIN_PX);
    cv.h = (int)ceil((y1 - y0) * px_per_mm + 2 * MARGIN_PX);
    if (cv.w > 8192 || cv.h > 8192) {
        ff_free(d);
        if (err && errlen)
            snprintf(err, errlen, "frame image too large");
        return FF_ETOOBIG;
    }
    size_t n = (size_t)cv.w * (size_t)cv.h;
    cv.px = ff_calloc(n * 4, sizeof *cv.px);
    cv.cov = ff_malloc(n * sizeof *cv.cov);
    out->img.data = ff_malloc(n * 4);
    e = cv.px && cv.cov && out->img.data ? FF_OK : FF_ENOMEM;
    if (!e)
        e = paint(&cv, d, &d->tint, L_TINT);
    if (!e)
        e = paint(&cv, d, &d->thin, L_THIN);
    if (!e)
        e = paint(&cv, d, &d->solid, L_SOLID);
    if (!e) {
        out->img.w = cv.w;
        out->img.h = cv.h;
        out->img.stride = (size_t)cv.w * 4;
        to_bytes(&cv, &out->img);
        set_anchors(out, &cv, d, -half, y0, half, y1);
        out->width_mm = x1 - x0;
    }
    ff_free(cv.px);
    ff_free(cv.cov);
    ff_free(d);
    if (e) {
        rnd_frame_release(out);
        if (err && errlen)
            snprintf(err, errlen, "out of memory drawing the frame");
    }
    return e;
}

void rnd_frame_release(struct rnd_frame *f)
{
    if (!f)
        return;
    ff_free(f->img.data);
    memset(f, 0, sizeof *f);
}

char *rnd_frame_anchors_json(const struct rnd_frame *f)
{
    char buf[768];
    int n = snprintf(buf, sizeof buf,
                     "{\"px_per_mm\":%.4f,\"width_px\":%d,\"height_px\":%d,"
                     "\"centre\":[%.3f,%.3f],\"lens_left\":[%.3f,%.3f],"
                     "\"lens_right\":[%.3f,%.3f],\"bridge_top\":[%.3f,%.3f],"
                     "\"width_mm\":%.3f,\"height_mm\":%.3f,\"lens_sep_mm\":%.3f,"
                     "\"alpha\":\"straight\",\"colour_space\":\"sRGB\"}",
                     f->px_per_mm, f->img.w, f->img.h, f->centre[0], f->centre[1],
                     f->lens_left[0], f->lens_left[1], f->lens_right[0], f->lens_right[1],
                     f->bridge_top[0], f->bridge_top[1], f->width_mm, f->height_mm,
                     f->lens_sep_mm);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    return ff_strdup(buf);
}
