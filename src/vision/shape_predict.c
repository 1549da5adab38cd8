/* shape_predict.c - dlib's shape_predictor::operator(), bit-exact.
 *
 * Per cascade: fit the similarity transform initial shape -> current shape (in
 * double, cast to float), sample the feature pixels (float arithmetic as dlib),
 * walk every tree to its leaf, then add the chosen leaf vectors to the current
 * shape in tree order. Because all trees of a cascade read the same features,
 * the walks come first and the adds second; each element still receives its
 * addends in dlib's order, so the float sums are identical. The adds run in a
 * SIMD kernel chosen at run time (AVX-512, AVX2 or SSE2). */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VIS_X86 1
#endif

#include "core/alloc.h"
#include "vision/shape_int.h"

typedef void (*acc_fn)(float *cur, const float *const *lp, size_t n, size_t stride);

/* Scalar reference: the order of adds is exactly dlib's. */
static void acc_scalar(float *cur, const float *const *lp, size_t n, size_t stride)
{
    for (size_t t = 0; t < n; t++)
        for (size_t j = 0; j < stride; j++)
            cur[j] += lp[t][j];
}

#define PF_AHEAD 6

#ifdef VIS_X86
/* Each kernel keeps G blocks of 16 floats in registers while it runs through
 * all the trees, prefetching the leaves PF_AHEAD trees ahead. G divides the 9
 * blocks of a 68-point leaf (144 floats): one pass for AVX-512, three for
 * AVX2 and SSE2, with no spills. */
#define VIS_UNROLL _Pragma("GCC unroll 32")
#define DEFINE_ACC(NAME, TARGET, VT, W, LOAD, ADD, STORE, G)                          \
    __attribute__((target(TARGET))) static void NAME(float *cur, const float *const *lp, \
                                                     size_t n, size_t stride)          \
    {                                                                                  \
        enum { R = 16 / (W) };                                                         \
        size_t nb = stride / 16, b = 0;                                                \
        for (; b + (G) <= nb; b += (G)) {                                              \
            VT a[(G) * R];                                                             \
            VIS_UNROLL for (int k = 0; k < (G) * R; k++)                               \
                a[k] = LOAD(cur + 16 * b + (W) * k);                                   \
            for (size_t t = 0; t < n; t++) {                                           \
                const float *l = lp[t] + 16 * b;                                       \
                const float *pf = lp[t + PF_AHEAD < n ? t + PF_AHEAD : t] + 16 * b;    \
                VIS_UNROLL for (int k = 0; k < (G); k++)                               \
                    _mm_prefetch((const char *)(pf + 16 * k), _MM_HINT_T0);            \
                VIS_UNROLL for (int k = 0; k < (G) * R; k++)                           \
                    a[k] = ADD(a[k], LOAD(l + (W) * k));                               \
            }                                                                          \
            VIS_UNROLL for (int k = 0; k < (G) * R; k++)                               \
                STORE(cur + 16 * b + (W) * k, a[k]);                                   \
        }                                                                              \
        for (; b < nb; b++) {                                                          \
            VT a[R];                                                                   \
            VIS_UNROLL for (int k = 0; k < R; k++)                                     \
                a[k] = LOAD(cur + 16 * b + (W) * k);                                   \
            for (size_t t = 0; t < n; t++)                                             \
                VIS_UNROLL for (int k = 0; k < R; k++)                                 \
                    a[k] = ADD(a[k], LOAD(lp[t] + 16 * b + (W) * k));                  \
            VIS_UNROLL for (int k = 0; k < R; k++)                                     \
                STORE(cur + 16 * b + (W) * k, a[k]);                                   \
        }                                                                              \
    }

DEFINE_ACC(acc_sse2, "sse2", __m128, 4, _mm_loadu_ps, _mm_add_ps, _mm_storeu_ps, 3)
DEFINE_ACC(acc_avx2, "avx2", __m256, 8, _mm256_loadu_ps, _mm256_add_ps, _mm256_storeu_ps, 3)
DEFINE_ACC(acc_avx512, "avx512f", __m512, 16, _mm512_loadu_ps, _mm512_add_ps, _mm512_storeu_ps,
           9)
#endif

struct kernel {
    const char *name;
    acc_fn fn;
};

static const struct kernel kernels[] = {
#ifdef VIS_X86
    {"avx512", acc_avx512},
    {"avx2", acc_avx2},
    {"sse2", acc_sse2},
#endif
    {"scalar", acc_scalar},
};
#define NKERNELS (sizeof kernels / sizeof kernels[0])

static _Atomic int kernel_sel = -1;

static int supported(const char *name)
{
#ifdef VIS_X86
    __builtin_cpu_init();
    if (!strcmp(name, "avx512"))
        return __builtin_cpu_supports("avx512f");
    if (!strcmp(name, "avx2"))
        return __builtin_cpu_supports("avx2");
    if (!strcmp(name, "sse2"))
        return __builtin_cpu_supports("sse2");
#endif
    return !strcmp(name, "scalar");
}

static int pick(void)
{
    int k = atomic_load(&kernel_sel);
    if (k >= 0)
        return k;
    for (k = 0; k < (int)NKERNELS - 1 && !supported(kernels[k].name); k++)
        ;
    atomic_store(&kernel_sel, k);
    return k;
}

const char *vis__shape_kernel_name(void) { return kernels[pick()].name; }

const char *vis_shape_set_kernel(const char *name)
{
    for (int k = 0; name && k < (int)NKERNELS; k++)
        if (!strcmp(kernels[k].name, name) && supported(name))
            atomic_store(&kernel_sel, k);
    return vis__shape_kernel_name();
}

/* The 2x2 part of the least-squares similarity transform from `from` to `to`
 * (Umeyama, closed form), in double as dlib, then cast to float. */
static void similarity(const float *from, const float *to, unsigned n, float s[4])
{
    double mfx = 0, mfy = 0, mtx = 0, mty = 0;
    for (unsigned i = 0; i < n; i++) {
        mfx += from[2 * i];
        mfy += from[2 * i + 1];
        mtx += to[2 * i];
        mty += to[2 * i + 1];
    }
    mfx /= n;
    mfy /= n;
    mtx /= n;
    mty /= n;
    double ss = 0, dot = 0, crs = 0;
    for (unsigned i = 0; i < n; i++) {
        double ax = from[2 * i] - mfx, ay = from[2 * i + 1] - mfy;
        double bx = to[2 * i] - mtx, by = to[2 * i + 1] - mty;
        ss += ax * ax + ay * ay;
        dot += ax * bx + ay * by;
        crs += ax * by - ay * bx;
    }
    double p = 1, q = 0;
    if (n > 1 && ss > 0) {
        p = dot / ss;
        q = crs / ss;
    }
    s[0] = (float)p;
    s[1] = (float)-q;
    s[2] = (float)q;
    s[3] = (float)p;
}

static inline int grey_at(const struct vis_image *img, long x, long y)
{
    const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->fmt;
    if (img->fmt == VIS_RGB8)
        return ((unsigned)p[0] + p[1] + p[2]) / 3;
    return p[0];
}

/* floor(v + 0.5) as dlib's point conversion, clamped so huge or NaN values
 * land outside any image. */
static inline long round_px(double v)
{
    double t = v + 0.5;
    if (!(t > -1e9 && t < 1e9))
        return -1000000000L;
    long i = (long)t; /* truncates towards zero; floor differs below zero */
    return i - (i > t);
}

enum ff_err vis_shape_predict(const struct vis_shape_model *m, const struct vis_image *img,
                              struct vis_rect box, struct vis_point *pts)
{
    if (!m || !img || !img->data || img->w <= 0 || img->h <= 0 || !pts ||
        (img->fmt != VIS_GRAY8 && img->fmt != VIS_RGB8) ||
        img->stride < (size_t)img->w * (size_t)img->fmt)
        return FF_EINVAL;
    const struct vis_sp_header *h = m->h;
    const unsigned P = h->parts, stride = h->leaf_stride, ns = h->splits;
    acc_fn acc = kernels[pick()].fn;

    /* scratch: current shape (aligned), features, chosen leaves */
    size_t n_cur = stride, n_feat = h->max_features, n_lp = 0;
    for (uint32_t c = 0; c < h->cascades; c++)
        if (m->casc[c].trees > n_lp)
            n_lp = m->casc[c].trees;
    size_t bytes = 64 + n_cur * 4 + n_feat * 4 + n_lp * sizeof(float *);
    uint8_t *scratch = ff_malloc(bytes);
    if (!scratch)
        return FF_ENOMEM;
    float *cur = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *feat = cur + n_cur;
    const float **lp = (const float **)(feat + n_feat);
    memcpy(cur, m->init, n_cur * 4);

    /* to_img(u, v) = (left + u*(right-left), top + v*(bottom-top)) in double */
    const double L = (double)box.left, T = (double)box.top;
    const double W = (double)box.right - (double)box.left;
    const double H = (double)box.bottom - (double)box.top;

    for (uint32_t c = 0; c < h->cascades; c++) {
        const struct vis_sp_cascade *cs = &m->casc[c];
        float s[4];
        similarity(m->init, cur, P, s);
        const struct vis_sp_feat *ft = m->feats + cs->feat0;
        for (uint32_t f = 0; f < cs->features; f++) {
            const uint32_t k = ft[f].anchor;
            float ux = s[0] * ft[f].dx + s[1] * ft[f].dy;
            float uy = s[2] * ft[f].dx + s[3] * ft[f].dy;
            ux = ux + cur[2 * k];
            uy = uy + cur[2 * k + 1];
            long x = round_px(W * (double)ux + L), y = round_px(H * (double)uy + T);
            feat[f] = (x >= 0 && y >= 0 && x < img->w && y < img->h) ? (float)grey_at(img, x, y)
                                                                      : 0.0f;
        }
        const struct vis_sp_split *sp = m->splits + cs->tree0 * ns;
        const float *lv = m->leaves + cs->tree0 * (size_t)(ns + 1) * stride;
        const size_t leafstep = (size_t)(ns + 1) * stride;
        if (ns == 15) { /* depth 4, dlib's default: unrolled */
            for (uint32_t t = 0; t < cs->trees; t++, sp += 15, lv += leafstep) {
                unsigned i = 1 + !(feat[sp[0].idx1] - feat[sp[0].idx2] > sp[0].thresh);
                i = 2 * i + 1 + !(feat[sp[i].idx1] - feat[sp[i].idx2] > sp[i].thresh);
                i = 2 * i + 1 + !(feat[sp[i].idx1] - feat[sp[i].idx2] > sp[i].thresh);
                i = 2 * i + 1 + !(feat[sp[i].idx1] - feat[sp[i].idx2] > sp[i].thresh);
                lp[t] = lv + (size_t)(i - 15) * stride;
            }
        } else {
            for (uint32_t t = 0; t < cs->trees; t++, sp += ns, lv += leafstep) {
                unsigned i = 0;
                while (i < ns)
                    i = 2 * i + 1 + !(feat[sp[i].idx1] - feat[sp[i].idx2] > sp[i].thresh);
                lp[t] = lv + (size_t)(i - ns) * stride;
            }
        }
        acc(cur, lp, cs->trees, stride);
    }
    for (unsigned j = 0; j < P; j++) {
        pts[j].x = (double)round_px(W * (double)cur[2 * j] + L);
        pts[j].y = (double)round_px(H * (double)cur[2 * j + 1] + T);
    }
    ff_free(scratch);
    return FF_OK;
}
