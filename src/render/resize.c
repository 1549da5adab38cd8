/* resize.c - separable Catmull-Rom resampling in linear light. When shrinking, the
 * kernel is widened by the scale factor so every source pixel contributes
 * (antialiasing); when enlarging it interpolates. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render.h"
#include "render/render_int.h"
#include "vision/image_ops.h"

struct contrib {
    int start, n;   /* source range [start, start + n) */
    size_t off;     /* into the weight array */
};

static double cubic(double x)
{
    const double a = -0.5; /* Catmull-Rom */
    x = fabs(x);
    if (x < 1)
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2)
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
}

/* Weights for dst positions 0..dn-1 over src 0..sn-1 (caller frees *c and *wt). */
static enum ff_err weights(int sn, int dn, struct contrib **c, float **wt)
{
    double scale = (double)dn / sn, fs = scale < 1 ? 1 / scale : 1, support = 2 * fs;
    int maxn = (int)ceil(2 * support) + 2;
    *c = ff_malloc(sizeof **c * (size_t)dn);
    *wt = ff_malloc(sizeof **wt * (size_t)dn * (size_t)maxn);
    if (!*c || !*wt) {
        ff_free(*c);
        ff_free(*wt);
        *c = NULL;
        *wt = NULL;
        return FF_ENOMEM;
    }
    for (int i = 0; i < dn; i++) {
        double centre = (i + 0.5) / scale - 0.5;
        int lo = (int)floor(centre - support) + 1, hi = (int)floor(centre + support);
        if (lo < 0)
            lo = 0;
        if (hi > sn - 1)
            hi = sn - 1;
        if (hi - lo + 1 > maxn)
            hi = lo + maxn - 1;
        float *w = *wt + (size_t)i * maxn;
        double sum = 0;
        for (int s = lo; s <= hi; s++)
            sum += (w[s - lo] = (float)cubic((s - centre) / fs));
        if (sum == 0) { /* cannot happen with this support; be safe */
            lo = hi = (int)fmin(fmax(floor(centre + 0.5), 0), sn - 1);
            w[0] = 1;
            sum = 1;
        }
        for (int s = lo; s <= hi; s++)
            w[s - lo] = (float)(w[s - lo] / sum);
        (*c)[i] = (struct contrib){lo, hi - lo + 1, (size_t)i * maxn};
    }
    return FF_OK;
}

enum ff_err rnd_resize(const struct vis_image *src, int dw, int dh, struct vis_image *dst)
{
    memset(dst, 0, sizeof *dst);
    if (!src || !src->data || src->fmt != VIS_RGB8 || src->w < 1 || src->h < 1 || dw < 1 ||
        dh < 1 || dw > 65535 || dh > 65535)
        return FF_EINVAL;
    const float *lin = rnd_lin_table();
    const uint8_t *enc = rnd_srgb_table();
    struct contrib *cx = NULL, *cy = NULL;
    float *wx = NULL, *wy = NULL;
    float *tmp = ff_malloc(sizeof *tmp * 3 * (size_t)dw * (size_t)src->h);
    float *acc = ff_malloc(sizeof *acc * 3 * (size_t)(dw > src->w ? dw : src->w));
    enum ff_err e = tmp && acc ? FF_OK : FF_ENOMEM;
    if (!e)
        e = weights(src->w, dw, &cx, &wx);
    if (!e)
        e = weights(src->h, dh, &cy, &wy);
    if (!e)
        e = vis_image_alloc(dst, dw, dh, VIS_RGB8);
    if (e)
        goto out;
    for (int y = 0; y < src->h; y++) { /* horizontal pass into linear floats */
        const uint8_t *s = src->data + (size_t)y * src->stride;
        float *t = tmp + (size_t)y * dw * 3;
        for (int i = 0; i < src->w * 3; i++) /* the row in linear light, once */
            acc[i] = lin[s[i]];
        for (int i = 0; i < dw; i++) {
            const float *w = wx + cx[i].off;
            const float *p = acc + (size_t)cx[i].start * 3;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < cx[i].n; k++, p += 3) {
                r += p[0] * w[k];
                g += p[1] * w[k];
                b += p[2] * w[k];
            }
            t[i * 3] = r;
            t[i * 3 + 1] = g;
            t[i * 3 + 2] = b;
        }
    }
    for (int j = 0; j < dh; j++) { /* vertical pass back to sRGB bytes */
        memset(acc, 0, sizeof *acc * 3 * (size_t)dw);
        const float *w = wy + cy[j].off;
        for (int k = 0; k < cy[j].n; k++) {
            const float *t = tmp + (size_t)(cy[j].start + k) * dw * 3;
            for (int i = 0; i < dw * 3; i++)
                acc[i] += t[i] * w[k];
        }
        uint8_t *d = dst->data + (size_t)j * dst->stride;
        for (int i = 0; i < dw * 3; i++)
            d[i] = enc[rnd_lin_index(acc[i])];
    }
out:
    ff_free(tmp);
    ff_free(acc);
    ff_free(cx);
    ff_free(wx);
    ff_free(cy);
    ff_free(wy);
    if (e)
        vis_image_release(dst);
    return e;
}

enum ff_err rnd_frame_rescale(const struct rnd_frame *f, double px_per_mm, struct rnd_frame *out)
{
    memset(out, 0, sizeof *out);
    if (!f || !f->img.data || !(f->px_per_mm > 0) || !(px_per_mm > 0))
        return FF_EINVAL;
    double k = px_per_mm / f->px_per_mm;
    int sw = f->img.w, sh = f->img.h;
    int dw = (int)lround(sw * k), dh = (int)lround(sh * k);
    if (dw < 1)
        dw = 1;
    if (dh < 1)
        dh = 1;
    if (dw > 8192 || dh > 8192)
        return FF_ETOOBIG;
    const float *lin = rnd_lin_table();
    const uint8_t *enc = rnd_srgb_table();
    struct contrib *cx = NULL, *cy = NULL;
    float *wx = NULL, *wy = NULL;
    float *tmp = ff_malloc(sizeof *tmp * 4 * (size_t)dw * (size_t)sh);
    float *row = ff_malloc(sizeof *row * 4 * (size_t)(dw > sw ? dw : sw));
    out->img.data = ff_malloc((size_t)dw * 4 * (size_t)dh);
    enum ff_err e = tmp && row && out->img.data ? FF_OK : FF_ENOMEM;
    if (!e)
        e = weights(sw, dw, &cx, &wx);
    if (!e)
        e = weights(sh, dh, &cy, &wy);
    for (int y = 0; !e && y < sh; y++) { /* horizontal: premultiplied linear */
        const uint8_t *s = f->img.data + (size_t)y * f->img.stride;
        for (int x = 0; x < sw; x++) {
            float a = s[x * 4 + 3] / 255.0f;
            for (int c = 0; c < 3; c++)
                row[x * 4 + c] = lin[s[x * 4 + c]] * a;
            row[x * 4 + 3] = a;
        }
        float *t = tmp + (size_t)y * dw * 4;
        for (int i = 0; i < dw; i++) {
            const float *w = wx + cx[i].off, *p = row + (size_t)cx[i].start * 4;
            float acc[4] = {0, 0, 0, 0};
            for (int k2 = 0; k2 < cx[i].n; k2++, p += 4)
                for (int c = 0; c < 4; c++)
                    acc[c] += p[c] * w[k2];
            memcpy(t + i * 4, acc, sizeof acc);
        }
    }
    for (int j = 0; !e && j < dh; j++) { /* vertical, then back to straight sRGB bytes */
        memset(row, 0, sizeof *row * 4 * (size_t)dw);
        const float *w = wy + cy[j].off;
        for (int k2 = 0; k2 < cy[j].n; k2++) {
            const float *t = tmp + (size_t)(cy[j].start + k2) * dw * 4;
            for (int i = 0; i < dw * 4; i++)
                row[i] += t[i] * w[k2];
        }
        uint8_t *d = out->img.data + (size_t)j * dw * 4;
        for (int i = 0; i < dw; i++) {
            float a = row[i * 4 + 3];
            a = a < 0 ? 0 : a > 1 ? 1 : a; /* the cubic's lobes overshoot */
            if (a < 0.5f / 255) {
                memset(d + i * 4, 0, 4);
                continue;
            }
            for (int c = 0; c < 3; c++) {
                float v = row[i * 4 + c] / a;
                d[i * 4 + c] = enc[rnd_lin_index(v)];
            }
            d[i * 4 + 3] = (uint8_t)(a * 255.0f + 0.5f);
        }
    }
    ff_free(tmp);
    ff_free(row);
    ff_free(cx);
    ff_free(wx);
    ff_free(cy);
    ff_free(wy);
    if (e) {
        rnd_frame_release(out);
        return e;
    }
    double kx = (double)dw / sw, ky = (double)dh / sh;
    out->img.w = dw;
    out->img.h = dh;
    out->img.stride = (size_t)dw * 4;
    out->px_per_mm = f->px_per_mm * kx;
    out->centre[0] = f->centre[0] * kx;
    out->centre[1] = f->centre[1] * ky;
    out->lens_left[0] = f->lens_left[0] * kx;
    out->lens_left[1] = f->lens_left[1] * ky;
    out->lens_right[0] = f->lens_right[0] * kx;
    out->lens_right[1] = f->lens_right[1] * ky;
    out->bridge_top[0] = f->bridge_top[0] * kx;
    out->bridge_top[1] = f->bridge_top[1] * ky;
    out->width_mm = f->width_mm;
    out->height_mm = f->height_mm;
    out->lens_sep_mm = f->lens_sep_mm;
    return FF_OK;
}
