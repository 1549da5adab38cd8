/* pyramid.c - dlib's pyramid_down<6> (image_pyramid.h + resize_image in
 * interpolation.h), reproduced to the bit.
 *
 * dlib resamples the columns of each row in groups of 4 with float SIMD
 * (x positions stepped in float), and does the last group(s) in scalar code
 * (x in double). The grey SIMD path rounds (v + 0.5), the grey scalar path and
 * the whole RGB path truncate. The column positions do not depend on the row,
 * so they are computed once per level into small tables. */
#include <math.h>

#include "core/alloc.h"
#include "vision/pyramid.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

void pyr__down_size(int w, int h, int *out_w, int *out_h)
{
    *out_w = (int)((5L * w) / 6);
    *out_h = (int)((5L * h) / 6);
}

struct cols {
    int *left, *right;
    float *lrf;   /* SIMD columns: lr fraction (float); scalar: (float)(x-left) */
    double *lrd;  /* scalar columns: lr fraction in double */
    int nsimd;    /* columns [0, nsimd) use the SIMD arithmetic */
};

static enum ff_err cols_init(struct cols *t, int w, int ow)
{
    t->left = ff_malloc(sizeof(int) * 2 * (size_t)ow);
    t->lrf = ff_malloc(sizeof(float) * (size_t)ow);
    t->lrd = ff_malloc(sizeof(double) * (size_t)ow);
    if (!t->left || !t->lrf || !t->lrd)
        return FF_ENOMEM;
    t->right = t->left + ow;
    const double xs = (w - 1) / (double)(ow - 1 > 1 ? ow - 1 : 1);
    const double x0 = -4 * xs;
    float lane[4] = {(float)x0, (float)(x0 + xs), (float)(x0 + 2 * xs), (float)(x0 + 3 * xs)};
    const float step = (float)(4 * xs);
    int c = 0;
    for (;; c += 4) {
        int l[4];
        float f[4];
        for (int k = 0; k < 4; k++) {
            lane[k] += step;
            l[k] = (int)lane[k];
            f[k] = lane[k] - (float)l[k];
        }
        if (l[3] + 1 >= w)
            break;
        /* dlib writes all 4 even past the last column (its image rows have
         * room); we keep only the columns that exist */
        for (int k = 0; k < 4 && c + k < ow; k++) {
            t->left[c + k] = l[k];
            t->right[c + k] = l[k] + 1;
            t->lrf[c + k] = f[k];
        }
    }
    t->nsimd = c < ow ? c : ow;
    double x = -xs + c * xs;
    for (; c < ow; c++) {
        x += xs;
        long left = (long)floor(x);
        long right = left + 1 < w - 1 ? left + 1 : w - 1;
        t->left[c] = (int)left;
        t->right[c] = (int)right;
        t->lrd[c] = x - left;
        t->lrf[c] = (float)(x - left);
    }
    return FF_OK;
}

static void cols_free(struct cols *t)
{
    ff_free(t->left);
    ff_free(t->lrf);
    ff_free(t->lrd);
}

static void row_gray(const struct cols *t, const uint8_t *top, const uint8_t *bot, double tb,
                     uint8_t *out, int ow)
{
    const float ftb = (float)tb, finv = (float)(1 - tb);
    int c = 0;
    for (; c < t->nsimd; c++) {
        const float lr = t->lrf[c], ilr = 1 - lr;
        const float tlf = finv * ilr, trf = finv * lr, blf = ftb * ilr, brf = ftb * lr;
        const int l = t->left[c], r = t->right[c];
        float v = tlf * top[l] + trf * top[r] + blf * bot[l] + brf * bot[r];
        out[c] = (uint8_t)((double)v + 0.5);
    }
    for (; c < ow; c++) {
        const float lr = t->lrf[c];
        const int l = t->left[c], r = t->right[c];
        float a = (1 - lr) * (float)top[l] + lr * (float)top[r];
        float b = (1 - lr) * (float)bot[l] + lr * (float)bot[r];
        float v = (float)((1 - tb) * a + tb * b);
        out[c] = v >= 255 ? 255 : v <= 0 ? 0 : (uint8_t)v;
    }
}

static void row_rgb(const struct cols *t, const uint8_t *top, const uint8_t *bot, double tb,
                    uint8_t *out, int ow)
{
    const float ftb = (float)tb, finv = (float)(1 - tb);
    int c = 0;
    for (; c < t->nsimd; c++) {
        const float lr = t->lrf[c], ilr = 1 - lr;
        const float tlf = finv * ilr, trf = finv * lr, blf = ftb * ilr, brf = ftb * lr;
        const int l = 3 * t->left[c], r = 3 * t->right[c];
        for (int k = 0; k < 3; k++) {
            float v = tlf * top[l + k] + trf * top[r + k] + blf * bot[l + k] + brf * bot[r + k];
            out[3 * c + k] = (uint8_t)(int)v;
        }
    }
    for (; c < ow; c++) {
        const double lr = t->lrd[c];
        const int l = 3 * t->left[c], r = 3 * t->right[c];
        for (int k = 0; k < 3; k++) {
            double v = (1 - tb) * ((1 - lr) * top[l + k] + lr * top[r + k]) +
                       tb * ((1 - lr) * bot[l + k] + lr * bot[r + k]);
            out[3 * c + k] = (uint8_t)v;
        }
    }
}

enum ff_err pyr__down(const uint8_t *src, int w, int h, size_t stride, int channels,
                      uint8_t *dst, int dst_w, int dst_h, size_t dst_stride)
{
    if (dst_w <= 0 || dst_h <= 0 || w <= 0 || h <= 0)
        return FF_OK;
    struct cols t = {0};
    if (cols_init(&t, w, dst_w)) {
        cols_free(&t);
        return FF_ENOMEM;
    }
    const double ys = (h - 1) / (double)(dst_h - 1 > 1 ? dst_h - 1 : 1);
    double y = -ys;
    for (int r = 0; r < dst_h; r++) {
        y += ys;
        const long top = (long)floor(y);
        const long bot = top + 1 < h - 1 ? top + 1 : h - 1;
        const double tb = y - top;
        const uint8_t *pt = src + (size_t)top * stride, *pb = src + (size_t)bot * stride;
        if (channels == 1)
            row_gray(&t, pt, pb, tb, dst + (size_t)r * dst_stride, dst_w);
        else
            row_rgb(&t, pt, pb, tb, dst + (size_t)r * dst_stride, dst_w);
    }
    cols_free(&t);
    return FF_OK;
}
