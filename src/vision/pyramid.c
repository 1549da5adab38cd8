/* pyramid.c - dlib's pyramid_down<6> (image_pyramid.h + resize_image in
 * interpolation.h), reproduced to the bit.
 *
 * dlib resamples the columns of each row in groups of 4 with float SIMD
 * (x positions stepped in float), and the last group(s) in scalar code (x in
 * double). Grey: the SIMD columns round (v + 0.5), the scalar ones truncate a
 * float. RGB: the SIMD columns truncate a float, the scalar ones a double. The
 * column positions do not depend on the row, so they are computed once per
 * level. The AVX2 version gathers the two neighbours of 8 columns at once. */
#include <math.h>

#include "core/alloc.h"
#include "vision/hog.h"
#include "vision/pyramid.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PYR_X86 1
#endif

void pyr__down_size(int w, int h, int *out_w, int *out_h)
{
    *out_w = (int)((5L * w) / 6);
    *out_h = (int)((5L * h) / 6);
}

struct cols {
    int *left, *right;
    float *lr, *ilr; /* SIMD columns: lr fraction and 1 - lr (float) */
    double *lrd;     /* scalar columns: lr fraction (double) */
    int nsimd;       /* columns [0, nsimd) use dlib's SIMD arithmetic */
    int nvec;        /* blocks of 8 columns starting below nvec are safe for a 16-byte
                      * load at left[c] (left[c] + 15 < w) */
    uint8_t *shuf;   /* per 8-column block: pshufb masks picking left (16 bytes) */
};

static void cols_free(struct cols *t)
{
    ff_free(t->shuf);
    ff_free(t->left);
    ff_free(t->lr);
    ff_free(t->lrd);
}

static enum ff_err cols_init(struct cols *t, int w, int ow)
{
    t->left = ff_malloc(sizeof(int) * 2 * (size_t)ow);
    t->lr = ff_malloc(sizeof(float) * 2 * (size_t)ow);
    t->lrd = ff_malloc(sizeof(double) * (size_t)ow);
    t->shuf = ff_malloc(16 * ((size_t)ow / 8 + 1));
    if (!t->left || !t->lr || !t->lrd || !t->shuf) {
        cols_free(t);
        return FF_ENOMEM;
    }
    t->right = t->left + ow;
    t->ilr = t->lr + ow;
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
        for (int k = 0; k < 4 && c + k < ow; k++) {
            t->left[c + k] = l[k];
            t->right[c + k] = l[k] + 1;
            t->lr[c + k] = f[k];
            t->ilr[c + k] = 1 - f[k];
        }
    }
    t->nsimd = c < ow ? c : ow;
    /* 8-column blocks [c, c+8) inside the SIMD columns whose source bytes
     * left[c] .. left[c] + 15 exist; left[c+7] + 1 - left[c] <= 10 < 16 */
    t->nvec = 0;
    while (t->nvec + 8 <= t->nsimd && t->left[t->nvec] + 15 < w) {
        uint8_t *m = t->shuf + 2 * (size_t)t->nvec;
        for (int k = 0; k < 8; k++) {
            m[k] = (uint8_t)(t->left[t->nvec + k] - t->left[t->nvec]);
            m[8 + k] = 0x80;
        }
        t->nvec += 8;
    }
    double x = -xs + c * xs;
    for (; c < ow; c++) {
        x += xs;
        long left = (long)floor(x);
        long right = left + 1 < w - 1 ? left + 1 : w - 1;
        t->left[c] = (int)left;
        t->right[c] = (int)right;
        t->lrd[c] = x - left;
        t->lr[c] = (float)(x - left);
    }
    return FF_OK;
}

/* Columns [c0, ow) of one output row, scalar, dlib's arithmetic. */
static void row_scalar(const struct cols *t, int c0, const uint8_t *top, const uint8_t *bot,
                       double tb, int rgb, uint8_t *out, int ow)
{
    const float ftb = (float)tb, finv = (float)(1 - tb);
    int c = c0;
    for (; c < t->nsimd; c++) {
        const float lr = t->lr[c], ilr = t->ilr[c];
        const float tlf = finv * ilr, trf = finv * lr, blf = ftb * ilr, brf = ftb * lr;
        const int l = t->left[c], r = t->right[c];
        float v = tlf * (float)top[l];
        v = v + trf * (float)top[r];
        v = v + blf * (float)bot[l];
        v = v + brf * (float)bot[r];
        out[c] = rgb ? (uint8_t)(int)v : (uint8_t)(int)(v + 0.5f);
    }
    for (; c < ow; c++) {
        const int l = t->left[c], r = t->right[c];
        if (rgb) {
            const double lr = t->lrd[c];
            double v = (1 - tb) * ((1 - lr) * top[l] + lr * top[r]) +
                       tb * ((1 - lr) * bot[l] + lr * bot[r]);
            out[c] = (uint8_t)v;
        } else {
            const float lr = t->lr[c];
            float a = (1 - lr) * (float)top[l] + lr * (float)top[r];
            float b = (1 - lr) * (float)bot[l] + lr * (float)bot[r];
            float v = (float)((1 - tb) * a + tb * b);
            out[c] = v >= 255 ? 255 : v <= 0 ? 0 : (uint8_t)v;
        }
    }
}

#ifdef PYR_X86
/* Columns [0, nvec) in blocks of 8: one 16-byte load per source row and block,
 * the left/right neighbours picked with pshufb (right = left + 1). */
__attribute__((target("avx2"))) static int row_avx2(const struct cols *t, const uint8_t *top,
                                                    const uint8_t *bot, double tb, int rgb,
                                                    uint8_t *out)
{
    const __m256 ftb = _mm256_set1_ps((float)tb), finv = _mm256_set1_ps((float)(1 - tb));
    const __m256 half = _mm256_set1_ps(rgb ? 0.0f : 0.5f);
    const __m128i one = _mm_set1_epi8(1);
    int c = 0;
    for (; c < t->nvec; c += 8) {
        const int base = t->left[c];
        const __m128i ml = _mm_loadu_si128((const __m128i *)(t->shuf + 2 * (size_t)c));
        const __m128i mr = _mm_add_epi8(ml, one); /* 0x80 + 1 stays "zero" */
        const __m128i rt = _mm_loadu_si128((const __m128i *)(top + base));
        const __m128i rb = _mm_loadu_si128((const __m128i *)(bot + base));
        const __m256 tl = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_shuffle_epi8(rt, ml)));
        const __m256 tr = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_shuffle_epi8(rt, mr)));
        const __m256 bl = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_shuffle_epi8(rb, ml)));
        const __m256 br = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_shuffle_epi8(rb, mr)));
        const __m256 lr = _mm256_loadu_ps(t->lr + c), ilr = _mm256_loadu_ps(t->ilr + c);
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(finv, ilr), tl);
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(finv, lr), tr));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(ftb, ilr), bl));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(ftb, lr), br));
        const __m256i q = _mm256_cvttps_epi32(_mm256_add_ps(v, half));
        const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(q),
                                            _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(out + c), _mm_packus_epi16(p16, p16));
    }
    return c;
}
#endif

enum ff_err pyr__down(const uint8_t *const *src, int nplanes, int w, int h, size_t stride,
                      int rgb, uint8_t *const *dst, int dst_w, int dst_h, size_t dst_stride)
{
    if (dst_w <= 0 || dst_h <= 0 || w <= 0 || h <= 0)
        return FF_OK;
    struct cols t = {0};
    if (cols_init(&t, w, dst_w))
        return FF_ENOMEM;
#ifdef PYR_X86
    const int avx2 = (det__cpu_level >= 2 && __builtin_cpu_supports("avx2"));
#endif
    const double ys = (h - 1) / (double)(dst_h - 1 > 1 ? dst_h - 1 : 1);
    double y = -ys;
    for (int r = 0; r < dst_h; r++) {
        y += ys;
        const long top = (long)floor(y);
        const long bot = top + 1 < h - 1 ? top + 1 : h - 1;
        const double tb = y - top;
        for (int k = 0; k < nplanes; k++) {
            const uint8_t *pt = src[k] + (size_t)top * stride, *pb = src[k] + (size_t)bot * stride;
            uint8_t *o = dst[k] + (size_t)r * dst_stride;
            int c0 = 0;
#ifdef PYR_X86
            if (avx2)
                c0 = row_avx2(&t, pt, pb, tb, rgb, o);
#endif
            row_scalar(&t, c0, pt, pb, tb, rgb, o, dst_w);
        }
    }
    cols_free(&t);
    return FF_OK;
}
