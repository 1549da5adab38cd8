/* hog.c - dlib's FHOG features (image_transforms/fhog.h), bit for bit.
 *
 * dlib computes gradients and orientations 8 pixels at a time and the pixels
 * left over at the right edge in scalar code; the two paths differ in small
 * ways (the order of the vote products, the colour tie rule for RGB) and both
 * are reproduced. Histogram votes are added in dlib's order (row-major pixel
 * order), so the histograms, energies and features are the same floats.
 *
 * The per-pixel orientation step has an AVX2 version chosen at run time. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "vision/hog.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HOG_X86 1
#endif

static const float dir_x[9] = {1.0000f, 0.9397f, 0.7660f, 0.500f, 0.1736f,
                               -0.1736f, -0.5000f, -0.7660f, -0.9397f};
static const float dir_y[9] = {0.0000f, 0.3420f, 0.6428f, 0.8660f, 0.9848f,
                               0.9848f, 0.8660f, 0.6428f, 0.3420f};

/* Magnitude and one of 18 orientations for n pixels of integer gradients. */
static void orient_scalar(const int32_t *gx, const int32_t *gy, int n, float *mag,
                          uint8_t *bin)
{
    for (int i = 0; i < n; i++) {
        const float fx = (float)gx[i], fy = (float)gy[i];
        float best = 0;
        int o_best = 0;
        for (int o = 0; o < 9; o++) {
            const float dot = dir_x[o] * fx + dir_y[o] * fy;
            if (dot > best) {
                best = dot;
                o_best = o;
            } else if (-dot > best) {
                best = -dot;
                o_best = o + 9;
            }
        }
        mag[i] = sqrtf((float)(gx[i] * gx[i] + gy[i] * gy[i]));
        bin[i] = (uint8_t)o_best;
    }
}

#ifdef HOG_X86
__attribute__((target("avx2"))) static void orient_avx2(const int32_t *gx, const int32_t *gy,
                                                        int n, float *mag, uint8_t *bin)
{
    int i = 0;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (; i + 8 <= n; i += 8) {
        __m256i ix = _mm256_loadu_si256((const __m256i *)(gx + i));
        __m256i iy = _mm256_loadu_si256((const __m256i *)(gy + i));
        __m256 fx = _mm256_cvtepi32_ps(ix), fy = _mm256_cvtepi32_ps(iy);
        __m256i len = _mm256_add_epi32(_mm256_mullo_epi32(ix, ix), _mm256_mullo_epi32(iy, iy));
        __m256 best = _mm256_setzero_ps();
        __m256 ob = _mm256_setzero_ps();
        for (int o = 0; o < 9; o++) {
            __m256 dot = _mm256_add_ps(_mm256_mul_ps(fx, _mm256_set1_ps(dir_x[o])),
                                       _mm256_mul_ps(fy, _mm256_set1_ps(dir_y[o])));
            __m256 cmp = _mm256_cmp_ps(dot, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, dot, cmp);
            ob = _mm256_blendv_ps(ob, _mm256_set1_ps((float)o), cmp);
            __m256 neg = _mm256_xor_ps(dot, sign);
            cmp = _mm256_cmp_ps(neg, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, neg, cmp);
            ob = _mm256_blendv_ps(ob, _mm256_set1_ps((float)(o + 9)), cmp);
        }
        _mm256_storeu_ps(mag + i, _mm256_sqrt_ps(_mm256_cvtepi32_ps(len)));
        __m256i oi = _mm256_cvttps_epi32(ob);
        __m128i lo = _mm256_castsi256_si128(oi), hi = _mm256_extracti128_si256(oi, 1);
        __m128i p16 = _mm_packs_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(bin + i), _mm_packus_epi16(p16, p16));
    }
    orient_scalar(gx + i, gy + i, n - i, mag + i, bin + i);
}
#endif

typedef void (*orient_fn)(const int32_t *, const int32_t *, int, float *, uint8_t *);

static orient_fn pick_orient(void)
{
#ifdef HOG_X86
    if (__builtin_cpu_supports("avx2"))
        return orient_avx2;
#endif
    return orient_scalar;
}

/* Gradients of row y for x in [1, xe): grey. */
static void grad_gray(const uint8_t *row, size_t stride, int xe, int32_t *gx, int32_t *gy)
{
    const uint8_t *up = row - stride, *dn = row + stride;
    for (int x = 1; x < xe; x++) {
        gx[x] = (int32_t)row[x + 1] - (int32_t)row[x - 1];
        gy[x] = (int32_t)dn[x] - (int32_t)up[x];
    }
}

/* RGB: the channel with the largest squared gradient. In dlib's SIMD columns a
 * tie goes to the later channel (g over r, b over the winner); in its scalar
 * columns (x >= xs) a tie keeps the earlier channel. */
static void grad_rgb(const uint8_t *row, size_t stride, int xs, int xe, int32_t *gx,
                     int32_t *gy)
{
    const uint8_t *up = row - stride, *dn = row + stride;
    for (int x = 1; x < xe; x++) {
        int bx = 0, by = 0, bl = -1;
        for (int k = 0; k < 3; k++) {
            int dx = (int)row[3 * x + 3 + k] - (int)row[3 * x - 3 + k];
            int dy = (int)dn[3 * x + k] - (int)up[3 * x + k];
            int l = dx * dx + dy * dy;
            if (x < xs ? l >= bl : l > bl) {
                bl = l;
                bx = dx;
                by = dy;
            }
        }
        gx[x] = bx;
        gy[x] = by;
    }
}

struct hog_tmp {
    int32_t *gx, *gy;
    float *mag;
    uint8_t *bin;
    int *ixp;          /* dlib's SIMD ixp (= floor(xp) + 1) per x */
    float *vx0, *vx1;
    float *hist;       /* (cnr+2) x (cnc+2) x 18 */
    float *norm;       /* cnr x cnc */
};

/* One image row of votes, in dlib's order. */
static void vote_row(struct hog_tmp *t, int y, int xs, int xe, int cnc)
{
    const float yp = ((float)y + 0.5f) / (float)HOG_CELL - 0.5f;
    const int iyp = (int)floorf(yp);
    const float vy0 = yp - (float)iyp;
    const float vy1 = (float)(1.0 - vy0);
    const size_t rs = (size_t)(cnc + 2) * 18;
    float *h = t->hist + (size_t)(iyp + 1) * rs;
    for (int x = 1; x < xe; x++) {
        const float v = t->mag[x];
        if (v == 0)
            continue; /* adds of +0.0f change nothing */
        float *b = h + (size_t)t->ixp[x] * 18 + t->bin[x];
        if (x < xs) {
            const float a1 = t->vx1[x] * v, a0 = t->vx0[x] * v;
            b[0] += vy1 * a1;
            b[rs] += vy0 * a1;
            b[18] += vy1 * a0;
            b[rs + 18] += vy0 * a0;
        } else {
            const float vx1 = t->vx1[x], vx0 = t->vx0[x];
            b[0] += vy1 * vx1 * v;
            b[rs] += vy0 * vx1 * v;
            b[18] += vy1 * vx0 * v;
            b[rs + 18] += vy0 * vx0 * v;
        }
    }
}

static void column_tables(struct hog_tmp *t, int xs, int xe)
{
    for (int x = 1; x < xe; x++) {
        if (x < xs) {
            const float xp = ((float)x + 0.5f) / (float)HOG_CELL + 0.5f;
            const int ixp = (int)xp;
            t->ixp[x] = ixp;
            t->vx0[x] = xp - (float)ixp;
            t->vx1[x] = 1.0f - t->vx0[x];
        } else {
            const float xp = (float)(((double)x + 0.5) / (double)HOG_CELL - 0.5);
            const int ixp = (int)floorf(xp);
            t->ixp[x] = ixp + 1;
            t->vx0[x] = xp - (float)ixp;
            t->vx1[x] = (float)(1.0 - t->vx0[x]);
        }
    }
}

static inline float sum4_sse2(const float l[4])
{
    return (l[0] + l[2]) + (l[1] + l[3]);
}

/* dlib's block normalisation and the 31 features of every output cell. */
static void features(const struct hog_tmp *t, int cnr, int cnc, struct hog_map *m)
{
    const int hnr = cnr - 2, hnc = cnc - 2;
    const float eps = 0.0001f;
    for (int y = 0; y < hnr; y++) {
        const float *n0 = t->norm + (size_t)y * cnc, *n1 = n0 + cnc, *n2 = n1 + cnc;
        float *out = m->data + (size_t)(y + HOG_PAD_LO) * m->stride + HOG_PAD_LO;
        for (int x = 0; x < hnc; x++) {
            const float z[4] = {
                ((n1[x + 1] + n1[x + 2]) + n2[x + 1]) + n2[x + 2],
                ((n0[x + 1] + n0[x + 2]) + n1[x + 1]) + n1[x + 2],
                ((n1[x] + n1[x + 1]) + n2[x]) + n2[x + 1],
                ((n0[x] + n0[x + 1]) + n1[x]) + n1[x + 1],
            };
            float nn[4], nv[4], tx[4] = {0, 0, 0, 0};
            for (int k = 0; k < 4; k++) {
                nn[k] = 0.2f * sqrtf(z[k] + eps);
                nv[k] = 0.1f / nn[k];
            }
            const float *h = t->hist + ((size_t)(y + 2) * (cnc + 2) + (x + 2)) * 18;
            float *o_ = out + x;
            for (int o = 0; o < 18; o += 3) {
                float h0[4], h1[4], h2[4];
                for (int k = 0; k < 4; k++) {
                    h0[k] = fminf(h[o], nn[k]) * nv[k];
                    h1[k] = fminf(h[o + 1], nn[k]) * nv[k];
                    h2[k] = fminf(h[o + 2], nn[k]) * nv[k];
                    tx[k] += (h0[k] + h1[k]) + h2[k];
                }
                o_[(size_t)o * m->plane_size] = sum4_sse2(h0);
                o_[(size_t)(o + 1) * m->plane_size] = sum4_sse2(h1);
                o_[(size_t)(o + 2) * m->plane_size] = sum4_sse2(h2);
            }
            for (int o = 0; o < 9; o++) {
                const float u = h[o] + h[o + 9];
                float hu[4];
                for (int k = 0; k < 4; k++)
                    hu[k] = fminf(u, nn[k]) * nv[k];
                o_[(size_t)(18 + o) * m->plane_size] = sum4_sse2(hu);
            }
            for (int k = 0; k < 4; k++)
                o_[(size_t)(27 + k) * m->plane_size] = tx[k] * (float)(2 * 0.2357);
        }
    }
}

enum ff_err hog__extract(const uint8_t *px, int w, int h, size_t stride, int channels,
                         struct hog_map *m)
{
    memset(m, 0, sizeof *m);
    const int cnr = (int)((double)((float)h / (float)HOG_CELL) + 0.5);
    const int cnc = (int)((double)((float)w / (float)HOG_CELL) + 0.5);
    if (cnr - 2 <= 0 || cnc - 2 <= 0)
        return FF_OK;
    m->rows = cnr - 2 + HOG_FILTER - 1;
    m->cols = cnc - 2 + HOG_FILTER - 1;
    m->stride = ((size_t)m->cols + 16 + 15) & ~(size_t)15;
    m->plane_size = m->stride * (size_t)(m->rows + 1);
    m->data = ff_calloc(m->plane_size * HOG_PLANES + 16, sizeof(float));

    struct hog_tmp t = {0};
    const size_t W = (size_t)w + 16;
    t.gx = ff_malloc(sizeof(int32_t) * W);
    t.gy = ff_malloc(sizeof(int32_t) * W);
    t.mag = ff_malloc(sizeof(float) * W);
    t.bin = ff_malloc(W);
    t.ixp = ff_malloc(sizeof(int) * W);
    t.vx0 = ff_malloc(sizeof(float) * W);
    t.vx1 = ff_malloc(sizeof(float) * W);
    t.hist = ff_calloc((size_t)(cnr + 2) * (cnc + 2) * 18, sizeof(float));
    t.norm = ff_calloc((size_t)cnr * cnc, sizeof(float));
    enum ff_err e = FF_OK;
    if (!m->data || !t.gx || !t.gy || !t.mag || !t.bin || !t.ixp || !t.vx0 || !t.vx1 ||
        !t.hist || !t.norm) {
        e = FF_ENOMEM;
        goto out;
    }
    const int vnr = (cnr * HOG_CELL < h ? cnr * HOG_CELL : h) - 1;
    const int vnc = (cnc * HOG_CELL < w ? cnc * HOG_CELL : w) - 1;
    int xs = 1; /* dlib's SIMD loop: x = 1, 9, ... while x < vnc - 7 */
    while (xs < vnc - 7)
        xs += 8;
    column_tables(&t, xs, vnc);
    orient_fn orient = pick_orient();
    for (int y = 1; y < vnr; y++) {
        const uint8_t *row = px + (size_t)y * stride;
        if (channels == 1)
            grad_gray(row, stride, vnc, t.gx, t.gy);
        else
            grad_rgb(row, stride, xs, vnc, t.gx, t.gy);
        if (vnc > 1)
            orient(t.gx + 1, t.gy + 1, vnc - 1, t.mag + 1, t.bin + 1);
        vote_row(&t, y, xs, vnc, cnc);
    }
    for (int r = 0; r < cnr; r++)
        for (int c = 0; c < cnc; c++) {
            const float *hh = t.hist + ((size_t)(r + 1) * (cnc + 2) + (c + 1)) * 18;
            float s = 0;
            for (int o = 0; o < 9; o++)
                s += (hh[o] + hh[o + 9]) * (hh[o] + hh[o + 9]);
            t.norm[(size_t)r * cnc + c] = s;
        }
    features(&t, cnr, cnc, m);
out:
    ff_free(t.gx);
    ff_free(t.gy);
    ff_free(t.mag);
    ff_free(t.bin);
    ff_free(t.ixp);
    ff_free(t.vx0);
    ff_free(t.vx1);
    ff_free(t.hist);
    ff_free(t.norm);
    if (e) {
        ff_free(m->data);
        memset(m, 0, sizeof *m);
    }
    return e;
}
