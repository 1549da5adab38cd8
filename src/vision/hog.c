/* hog.c - dlib's FHOG features (image_transforms/fhog.h), bit for bit.
 *
 * dlib computes gradients and orientations 8 pixels at a time and the pixels
 * left over at the right edge in scalar code; the two paths differ in small
 * ways (the order of the vote products, the colour tie rule for RGB) and both
 * are reproduced. Histogram votes are added in dlib's order (row-major pixel
 * order), so histograms, energies and features are the same floats as dlib's.
 *
 * Per row, an AVX2 kernel (chosen at run time) computes gradients, the
 * orientation bin and the four bilinear vote weights of 8 pixels at a time;
 * the votes are then added in pixel order. Block normalisation uses SSE2 in
 * dlib's lane order. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "vision/hog.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HOG_X86 1
#endif

static const float dir_x[9] = {1.0000f, 0.9397f, 0.7660f, 0.500f, 0.1736f,
                               -0.1736f, -0.5000f, -0.7660f, -0.9397f};
static const float dir_y[9] = {0.0000f, 0.3420f, 0.6428f, 0.8660f, 0.9848f,
                               0.9848f, 0.8660f, 0.6428f, 0.3420f};

/* Per-level tables and per-row outputs. */
struct hog_tmp {
    int nch;
    const uint8_t *const *planes;
    size_t stride;
    int xs, xe;        /* dlib's SIMD columns are [1, xs), scalar ones [xs, xe) */
    int *hoff;         /* per x: histogram column (dlib's ixp + 1) */
    float *vx0, *vx1;  /* per x: horizontal vote fractions */
    float *w4;         /* per row: vote weights, pairs (w11,w10) at [2x], (w01,w00) at [2W+2x] */
    float *mag;        /* per row: gradient magnitude per x */
    int32_t *off;      /* per row: hoff[x] + bin * P (bin: orientation 0..17) */
    size_t W;
    float *hist;       /* 18 planes of (cnr+2) x (cnc+2), bin-major */
    size_t P;          /* floats per histogram plane */
    float *norm;       /* cnr x cnc */
};

/* dlib's 18-bin orientation of an integer gradient. */
static inline int orient1(float fx, float fy)
{
    float best = 0;
    int ob = 0;
    for (int o = 0; o < 9; o++) {
        const float dot = dir_x[o] * fx + dir_y[o] * fy;
        if (dot > best) {
            best = dot;
            ob = o;
        } else if (-dot > best) {
            best = -dot;
            ob = o + 9;
        }
    }
    return ob;
}

/* Pixels [x0, x1) of row y, scalar: gradient, bin, magnitude and the 4 vote
 * weights in dlib's SIMD (x < xs) or scalar (x >= xs) arithmetic. */
static void row_scalar(struct hog_tmp *t, int y, float vy0, float vy1, int x0, int x1)
{
    const size_t s = t->stride;
    float *wa = t->w4, *wb = t->w4 + 2 * t->W;
    for (int x = x0; x < x1; x++) {
        int bx = 0, by = 0, bl = -1;
        for (int k = 0; k < t->nch; k++) {
            const uint8_t *p = t->planes[k] + (size_t)y * s + x;
            const int dx = (int)p[1] - (int)p[-1], dy = (int)p[s] - (int)p[-(ptrdiff_t)s];
            const int l = dx * dx + dy * dy;
            /* RGB ties: dlib's SIMD code keeps the later channel, its scalar code
             * the earlier one */
            if (x < t->xs ? l >= bl : l > bl) {
                bl = l;
                bx = dx;
                by = dy;
            }
        }
        const float v = sqrtf((float)bl);
        t->off[x] = t->hoff[x] + orient1((float)bx, (float)by) * (int)t->P;
        t->mag[x] = v;
        if (x < t->xs) {
            const float a1 = t->vx1[x] * v, a0 = t->vx0[x] * v;
            wa[2 * x] = vy1 * a1;
            wb[2 * x] = vy0 * a1;
            wa[2 * x + 1] = vy1 * a0;
            wb[2 * x + 1] = vy0 * a0;
        } else {
            wa[2 * x] = vy1 * t->vx1[x] * v;
            wb[2 * x] = vy0 * t->vx1[x] * v;
            wa[2 * x + 1] = vy1 * t->vx0[x] * v;
            wb[2 * x + 1] = vy0 * t->vx0[x] * v;
        }
    }
}

#ifdef HOG_X86
__attribute__((target("avx2"))) static inline void grad8(const uint8_t *p, size_t s,
                                                         __m256i *dx, __m256i *dy, __m256i *len)
{
    const __m256i l = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p - 1)));
    const __m256i r = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 1)));
    const __m256i u = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p - s)));
    const __m256i d = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + s)));
    *dx = _mm256_sub_epi32(r, l);
    *dy = _mm256_sub_epi32(d, u);
    *len = _mm256_add_epi32(_mm256_mullo_epi32(*dx, *dx), _mm256_mullo_epi32(*dy, *dy));
}

/* dlib's SIMD columns [1, xs) of row y, 8 pixels at a time. */
__attribute__((target("avx2"))) static void row_avx2(struct hog_tmp *t, int y, float vy0,
                                                     float vy1)
{
    const size_t s = t->stride;
    float *wa = t->w4, *wb = t->w4 + 2 * t->W;
    const __m256 vvy0 = _mm256_set1_ps(vy0), vvy1 = _mm256_set1_ps(vy1);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 zero = _mm256_setzero_ps();
    const __m256i vP = _mm256_set1_epi32((int)t->P);
    for (int x = 1; x < t->xs; x += 8) {
        __m256i dx, dy, len;
        grad8(t->planes[0] + (size_t)y * s + x, s, &dx, &dy, &len);
        if (t->nch == 3) {
            __m256i dx2, dy2, len2;
            grad8(t->planes[1] + (size_t)y * s + x, s, &dx2, &dy2, &len2);
            __m256i c = _mm256_cmpgt_epi32(len, len2); /* r > g ? r : g */
            dx = _mm256_blendv_epi8(dx2, dx, c);
            dy = _mm256_blendv_epi8(dy2, dy, c);
            len = _mm256_blendv_epi8(len2, len, c);
            grad8(t->planes[2] + (size_t)y * s + x, s, &dx2, &dy2, &len2);
            c = _mm256_cmpgt_epi32(len, len2); /* best > b ? best : b */
            dx = _mm256_blendv_epi8(dx2, dx, c);
            dy = _mm256_blendv_epi8(dy2, dy, c);
            len = _mm256_blendv_epi8(len2, len, c);
        }
        const __m256 fx = _mm256_cvtepi32_ps(dx), fy = _mm256_cvtepi32_ps(dy);
        /* dlib's dots, in float: dot0 = fx*1 + fy*0 == fx; directions o and 9-o
         * share |products| (dot_{9-o} = fy*c_y - fx*c_x exactly). */
        __m256 dots[9];
        dots[0] = _mm256_add_ps(fx, _mm256_mul_ps(fy, _mm256_setzero_ps()));
#pragma GCC unroll 4
        for (int o = 1; o <= 4; o++) {
            const __m256 px = _mm256_mul_ps(fx, _mm256_set1_ps(dir_x[o]));
            const __m256 py = _mm256_mul_ps(fy, _mm256_set1_ps(dir_y[o]));
            dots[o] = _mm256_add_ps(px, py);
            dots[9 - o] = _mm256_sub_ps(py, px);
        }
        /* at most one of +dot, -dot can beat best (>= 0): track |dot| (first
         * strictly larger wins, as in dlib) and the sign of the winner */
        __m256 best = _mm256_and_ps(dots[0], absmask), sdot = dots[0];
        __m256i ob = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int o = 1; o < 9; o++) {
            const __m256 a = _mm256_and_ps(dots[o], absmask);
            const __m256 gt = _mm256_cmp_ps(a, best, _CMP_GT_OQ);
            best = _mm256_max_ps(a, best);
            sdot = _mm256_blendv_ps(sdot, dots[o], gt);
            ob = _mm256_blendv_epi8(ob, _mm256_set1_epi32(o), _mm256_castps_si256(gt));
        }
        /* winner negative: bin + 9; a zero best keeps bin 0 (dlib's start) */
        const __m256i neg = _mm256_castps_si256(_mm256_cmp_ps(sdot, zero, _CMP_LT_OQ));
        ob = _mm256_add_epi32(ob, _mm256_and_si256(neg, _mm256_set1_epi32(9)));
        _mm256_storeu_si256((__m256i *)(t->off + x),
                            _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(t->hoff + x)),
                                             _mm256_mullo_epi32(ob, vP)));
        const __m256 v = _mm256_sqrt_ps(_mm256_cvtepi32_ps(len));
        _mm256_storeu_ps(t->mag + x, v);
        const __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(t->vx1 + x), v);
        const __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(t->vx0 + x), v);
        /* interleave (w11,w10) and (w01,w00) per pixel for vote_row */
        const __m256 w11 = _mm256_mul_ps(vvy1, a1), w10 = _mm256_mul_ps(vvy1, a0);
        const __m256 w01 = _mm256_mul_ps(vvy0, a1), w00 = _mm256_mul_ps(vvy0, a0);
        const __m256 alo = _mm256_unpacklo_ps(w11, w10), ahi = _mm256_unpackhi_ps(w11, w10);
        const __m256 blo = _mm256_unpacklo_ps(w01, w00), bhi = _mm256_unpackhi_ps(w01, w00);
        _mm256_storeu_ps(wa + 2 * x, _mm256_permute2f128_ps(alo, ahi, 0x20));
        _mm256_storeu_ps(wa + 2 * x + 8, _mm256_permute2f128_ps(alo, ahi, 0x31));
        _mm256_storeu_ps(wb + 2 * x, _mm256_permute2f128_ps(blo, bhi, 0x20));
        _mm256_storeu_ps(wb + 2 * x + 8, _mm256_permute2f128_ps(blo, bhi, 0x31));
    }
}
#endif

/* Adds row y's votes into the histograms, in pixel order like dlib. The
 * histograms are bin-major: bin o of cell (r,c) is hist[o*P + r*(cnc+2) + c]. */
static void vote_row(struct hog_tmp *t, int iyp, int cnc)
{
    const size_t rs = (size_t)(cnc + 2);
    float *h = t->hist + (size_t)(iyp + 1) * rs;
    const float *wa = t->w4, *wb = t->w4 + 2 * t->W;
    /* cells c and c+1 of a bin are adjacent floats: add the pair (w11,w10) to
     * the upper cell row and (w01,w00) to the lower one, lane by lane (the same
     * float adds as dlib's, in the same order). +0 weights change nothing. */
    for (int x = 1; x < t->xe; x++) {
        float *b = h + t->off[x];
#ifdef __SSE2__
        /* 64-bit unaligned loads/stores (the pairs sit at any float index) */
        const __m128 pa = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(wa + 2 * x)));
        const __m128 pb = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(wb + 2 * x)));
        const __m128 ha = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)b));
        const __m128 hb = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(b + rs)));
        _mm_storel_epi64((__m128i *)b, _mm_castps_si128(_mm_add_ps(ha, pa)));
        _mm_storel_epi64((__m128i *)(b + rs), _mm_castps_si128(_mm_add_ps(hb, pb)));
#else
        b[0] += wa[2 * x];
        b[1] += wa[2 * x + 1];
        b[rs] += wb[2 * x];
        b[rs + 1] += wb[2 * x + 1];
#endif
    }
}

static void column_tables(struct hog_tmp *t)
{
    for (int x = 1; x < t->xe; x++) {
        if (x < t->xs) {
            const float xp = ((float)x + 0.5f) / (float)HOG_CELL + 0.5f;
            const int ixp = (int)xp;
            t->hoff[x] = ixp;
            t->vx0[x] = xp - (float)ixp;
            t->vx1[x] = 1.0f - t->vx0[x];
        } else {
            const float xp = (float)(((double)x + 0.5) / (double)HOG_CELL - 0.5);
            const int ixp = (int)floorf(xp);
            t->hoff[x] = ixp + 1;
            t->vx0[x] = xp - (float)ixp;
            t->vx1[x] = (float)(1.0 - t->vx0[x]);
        }
    }
}

/* Block normalisation and features, vectorised across cells. dlib computes
 * per cell 4 lanes, one per 2x2 block containing it, in the order
 * (y+1,x+1), (y,x+1), (y+1,x), (y,x) (top-left corner of the block in energy
 * coordinates), and sums lanes as (l0+l2) + (l1+l3) (its SSE2 sum). A block's
 * energy is ((tl + tr) + bl) + br, the same in every lane; so the per-block
 * values nn = 0.2*sqrt(e + 1e-4) and n = 0.1/nn are computed once per block. */
struct blocks {
    float *nn, *n; /* (cnr-1) x (cnc-1) */
    int bc;        /* columns: cnc - 1 */
};

static void block_norms(const float *norm, int cnr, int cnc, struct blocks *b)
{
    b->bc = cnc - 1;
    for (int r = 0; r < cnr - 1; r++) {
        const float *a = norm + (size_t)r * cnc, *c = a + cnc;
        float *nn = b->nn + (size_t)r * b->bc, *n = b->n + (size_t)r * b->bc;
        for (int x = 0; x < cnc - 1; x++) {
            const float e = ((a[x] + a[x + 1]) + c[x]) + c[x + 1];
            nn[x] = 0.2f * sqrtf(e + 0.0001f);
            n[x] = 0.1f / nn[x];
        }
    }
}

static inline float minps1(float a, float b) { return a < b ? a : b; } /* _mm_min_ps */

/* Output cells [x0, x1) of feature row y, scalar. lanes: block pointers. */
static void feat_cells_scalar(const float *const nnl[4], const float *const nl[4],
                              const float *h, size_t P, float *out, size_t ps, int x0, int x1)
{
    for (int x = x0; x < x1; x++) {
        float tx[4] = {0, 0, 0, 0};
        for (int o = 0; o < 18; o += 3) {
            float h0[4], h1[4], h2[4];
            const float a0 = h[(size_t)o * P + x], a1 = h[(size_t)(o + 1) * P + x],
                        a2 = h[(size_t)(o + 2) * P + x];
            for (int k = 0; k < 4; k++) {
                h0[k] = minps1(a0, nnl[k][x]) * nl[k][x];
                h1[k] = minps1(a1, nnl[k][x]) * nl[k][x];
                h2[k] = minps1(a2, nnl[k][x]) * nl[k][x];
                tx[k] += (h0[k] + h1[k]) + h2[k];
            }
            out[(size_t)o * ps + x] = (h0[0] + h0[2]) + (h0[1] + h0[3]);
            out[(size_t)(o + 1) * ps + x] = (h1[0] + h1[2]) + (h1[1] + h1[3]);
            out[(size_t)(o + 2) * ps + x] = (h2[0] + h2[2]) + (h2[1] + h2[3]);
        }
        for (int o = 0; o < 9; o++) {
            const float u = h[(size_t)o * P + x] + h[(size_t)(o + 9) * P + x];
            float l[4];
            for (int k = 0; k < 4; k++)
                l[k] = minps1(u, nnl[k][x]) * nl[k][x];
            out[(size_t)(18 + o) * ps + x] = (l[0] + l[2]) + (l[1] + l[3]);
        }
        for (int k = 0; k < 4; k++)
            out[(size_t)(27 + k) * ps + x] = tx[k] * (float)(2 * 0.2357);
    }
}

#ifdef HOG_X86
__attribute__((target("avx2"))) static int feat_cells_avx2(const float *const nnl[4],
                                                           const float *const nl[4],
                                                           const float *h, size_t P,
                                                           float *out, size_t ps, int x1)
{
    int x = 0;
    for (; x + 8 <= x1; x += 8) {
        __m256 nn[4], n[4], tx[4];
        for (int k = 0; k < 4; k++) {
            nn[k] = _mm256_loadu_ps(nnl[k] + x);
            n[k] = _mm256_loadu_ps(nl[k] + x);
            tx[k] = _mm256_setzero_ps();
        }
        for (int o = 0; o < 18; o += 3) {
            __m256 hh[3][4];
            for (int q = 0; q < 3; q++) {
                const __m256 a = _mm256_loadu_ps(h + (size_t)(o + q) * P + x);
                for (int k = 0; k < 4; k++)
                    hh[q][k] = _mm256_mul_ps(_mm256_min_ps(a, nn[k]), n[k]);
                _mm256_storeu_ps(out + (size_t)(o + q) * ps + x,
                                 _mm256_add_ps(_mm256_add_ps(hh[q][0], hh[q][2]),
                                               _mm256_add_ps(hh[q][1], hh[q][3])));
            }
            for (int k = 0; k < 4; k++)
                tx[k] = _mm256_add_ps(tx[k],
                                      _mm256_add_ps(_mm256_add_ps(hh[0][k], hh[1][k]), hh[2][k]));
        }
        for (int o = 0; o < 9; o++) {
            const __m256 u = _mm256_add_ps(_mm256_loadu_ps(h + (size_t)o * P + x),
                                           _mm256_loadu_ps(h + (size_t)(o + 9) * P + x));
            __m256 l[4];
            for (int k = 0; k < 4; k++)
                l[k] = _mm256_mul_ps(_mm256_min_ps(u, nn[k]), n[k]);
            _mm256_storeu_ps(out + (size_t)(18 + o) * ps + x,
                             _mm256_add_ps(_mm256_add_ps(l[0], l[2]), _mm256_add_ps(l[1], l[3])));
        }
        const __m256 c = _mm256_set1_ps((float)(2 * 0.2357));
        for (int k = 0; k < 4; k++)
            _mm256_storeu_ps(out + (size_t)(27 + k) * ps + x, _mm256_mul_ps(tx[k], c));
    }
    return x;
}
#endif

static void features(const struct hog_tmp *t, const struct blocks *b, int cnr, int cnc,
                     struct hog_map *m)
{
    const int hnr = cnr - 2, hnc = cnc - 2;
#ifdef HOG_X86
    const int avx2 = (det__cpu_level >= 2 && __builtin_cpu_supports("avx2"));
#endif
    for (int y = 0; y < hnr; y++) {
        /* lanes: blocks at (y+1,x+1), (y,x+1), (y+1,x), (y,x) */
        const size_t r0 = (size_t)y * b->bc, r1 = r0 + b->bc;
        const float *nnl[4] = {b->nn + r1 + 1, b->nn + r0 + 1, b->nn + r1, b->nn + r0};
        const float *nl[4] = {b->n + r1 + 1, b->n + r0 + 1, b->n + r1, b->n + r0};
        const float *h = t->hist + (size_t)(y + 2) * (cnc + 2) + 2;
        float *out = m->data + (size_t)(y + HOG_PAD_LO) * m->stride + HOG_PAD_LO;
        int x = 0;
#ifdef HOG_X86
        if (avx2)
            x = feat_cells_avx2(nnl, nl, h, t->P, out, m->plane_size, hnc);
#endif
        feat_cells_scalar(nnl, nl, h, t->P, out, m->plane_size, x, hnc);
    }
}

static void energies(struct hog_tmp *t, int cnr, int cnc)
{
    for (int r = 0; r < cnr; r++) {
        float *nr = t->norm + (size_t)r * cnc;
        const float *h = t->hist + (size_t)(r + 1) * (cnc + 2) + 1;
        for (int c = 0; c < cnc; c++)
            nr[c] = 0;
        for (int o = 0; o < 9; o++) {
            const float *a = h + (size_t)o * t->P, *b = h + (size_t)(o + 9) * t->P;
            for (int c = 0; c < cnc; c++)
                nr[c] += (a[c] + b[c]) * (a[c] + b[c]);
        }
    }
}

/* Zeroes everything of the feature planes but the valid cells, which
 * features() writes. */
static void zero_padding(struct hog_map *m, int hnr, int hnc)
{
    const size_t lo = (size_t)HOG_PAD_LO * m->stride;
    const size_t hi = (size_t)(HOG_PAD_LO + hnr) * m->stride;
    for (int p = 0; p < HOG_PLANES; p++) {
        float *d = m->data + (size_t)p * m->plane_size;
        memset(d, 0, lo * sizeof(float));
        for (int y = HOG_PAD_LO; y < HOG_PAD_LO + hnr; y++) {
            float *r = d + (size_t)y * m->stride;
            memset(r, 0, HOG_PAD_LO * sizeof(float));
            memset(r + HOG_PAD_LO + hnc, 0, (m->stride - HOG_PAD_LO - hnc) * sizeof(float));
        }
        memset(d + hi, 0, (m->plane_size - hi) * sizeof(float));
    }
    memset(m->data + m->plane_size * HOG_PLANES, 0, 16 * sizeof(float));
}

enum ff_err hog__extract(const uint8_t *const *planes, int nch, int w, int h, size_t stride,
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
    m->data = ff_malloc(sizeof(float) * (m->plane_size * HOG_PLANES + 16));

    struct hog_tmp t = {.nch = nch, .planes = planes, .stride = stride};
    t.W = (size_t)w + 16;
    const size_t W = t.W;
    t.hoff = ff_malloc(sizeof(int) * W);
    t.vx0 = ff_malloc(sizeof(float) * W * 7 + sizeof(int32_t) * W + 64);
    t.P = (size_t)(cnr + 2) * (cnc + 2);
    t.hist = ff_calloc(t.P * 18 + 8, sizeof(float));
    t.norm = ff_malloc(sizeof(float) * ((size_t)cnr * cnc + 2 * (size_t)(cnr - 1) * (cnc - 1) + 16));
    enum ff_err e = FF_OK;
    if (!m->data || !t.hoff || !t.vx0 || !t.hist || !t.norm) {
        e = FF_ENOMEM;
        goto out;
    }
    zero_padding(m, cnr - 2, cnc - 2);
    t.vx1 = t.vx0 + W;
    t.mag = t.vx1 + W;
    t.w4 = t.mag + W;
    t.off = (int32_t *)(t.w4 + 4 * W);
    const int vnr = (cnr * HOG_CELL < h ? cnr * HOG_CELL : h) - 1;
    const int vnc = (cnc * HOG_CELL < w ? cnc * HOG_CELL : w) - 1;
    t.xs = 1; /* dlib's SIMD loop: x = 1, 9, ... while x < vnc - 7 */
    while (t.xs < vnc - 7)
        t.xs += 8;
    t.xe = vnc;
    column_tables(&t);
#ifdef HOG_X86
    const int avx2 = (det__cpu_level >= 2 && __builtin_cpu_supports("avx2"));
#endif
    for (int y = 1; y < vnr; y++) {
        const float yp = ((float)y + 0.5f) / (float)HOG_CELL - 0.5f;
        const int iyp = (int)floorf(yp);
        const float vy0 = yp - (float)iyp;
        const float vy1 = (float)(1.0 - vy0);
        int x0 = 1;
#ifdef HOG_X86
        if (avx2) {
            row_avx2(&t, y, vy0, vy1);
            x0 = t.xs;
        }
#endif
        row_scalar(&t, y, vy0, vy1, x0, vnc);
        vote_row(&t, iyp, cnc);
    }
    energies(&t, cnr, cnc);
    struct blocks bl = {t.norm + (size_t)cnr * cnc,
                        t.norm + (size_t)cnr * cnc + (size_t)(cnr - 1) * (cnc - 1), 0};
    block_norms(t.norm, cnr, cnc, &bl);
    features(&t, &bl, cnr, cnc, m);
out:
    ff_free(t.hoff);
    ff_free(t.vx0);
    ff_free(t.hist);
    ff_free(t.norm);
    if (e) {
        ff_free(m->data);
        memset(m, 0, sizeof *m);
    }
    return e;
}
