/* detect_filter.c - the detector's filter responses on one FHOG level.
 *
 * For each filter, score(r,c) = sum over its rank-1 parts (dlib's separable
 * filter bank) of col ⊛ (row ⊛ plane). A row pass writes a scratch plane, a
 * column pass adds into the score map. AVX2+FMA kernels are chosen at run time;
 * the portable version is plain C. The sums are in a different order from
 * dlib's (and use FMA), so scores agree with dlib to about 1e-6, not to the bit. */
#include <string.h>

#include "core/alloc.h"
#include "vision/hog.h"
#include "vision/detect_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DF_X86 1
#endif

/* tmp[r][j] = sum_n row[n] * f[r][j+n] for r < rows, j < ow (padded to 8). */
static void row_pass_c(const float *f, size_t fs, int rows, int ow, const float *row,
                       float *tmp, size_t ts)
{
    for (int r = 0; r < rows; r++) {
        const float *in = f + (size_t)r * fs;
        float *o = tmp + (size_t)r * ts;
        for (int j = 0; j < ow; j++) {
            float s = 0;
            for (int n = 0; n < HOG_FILTER; n++)
                s += row[n] * in[j + n];
            o[j] = s;
        }
    }
}

/* acc[i][j] += sum_m col[m] * tmp[i+m][j] for i < oh, j < ow. */
static void col_pass_c(const float *tmp, size_t ts, int oh, int ow, const float *col,
                       float *acc, size_t as)
{
    for (int i = 0; i < oh; i++) {
        float *a = acc + (size_t)i * as;
        for (int j = 0; j < ow; j++) {
            float s = 0;
            for (int m = 0; m < HOG_FILTER; m++)
                s += col[m] * tmp[(size_t)(i + m) * ts + j];
            a[j] += s;
        }
    }
}

#ifdef DF_X86
__attribute__((target("avx2,fma"))) static void row_pass_avx2(const float *f, size_t fs,
                                                              int rows, int ow,
                                                              const float *row, float *tmp,
                                                              size_t ts)
{
    __m256 w[HOG_FILTER];
    for (int n = 0; n < HOG_FILTER; n++)
        w[n] = _mm256_set1_ps(row[n]);
    for (int r = 0; r < rows; r++) {
        const float *in = f + (size_t)r * fs;
        float *o = tmp + (size_t)r * ts;
        for (int j = 0; j < ow; j += 8) {
            const float *p = in + j;
            __m256 s0 = _mm256_mul_ps(w[0], _mm256_loadu_ps(p));
            __m256 s1 = _mm256_mul_ps(w[1], _mm256_loadu_ps(p + 1));
            s0 = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(p + 2), s0);
            s1 = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(p + 3), s1);
            s0 = _mm256_fmadd_ps(w[4], _mm256_loadu_ps(p + 4), s0);
            s1 = _mm256_fmadd_ps(w[5], _mm256_loadu_ps(p + 5), s1);
            s0 = _mm256_fmadd_ps(w[6], _mm256_loadu_ps(p + 6), s0);
            s1 = _mm256_fmadd_ps(w[7], _mm256_loadu_ps(p + 7), s1);
            s0 = _mm256_fmadd_ps(w[8], _mm256_loadu_ps(p + 8), s0);
            s1 = _mm256_fmadd_ps(w[9], _mm256_loadu_ps(p + 9), s1);
            _mm256_storeu_ps(o + j, _mm256_add_ps(s0, s1));
        }
    }
}

__attribute__((target("avx2,fma"))) static void col_pass_avx2(const float *tmp, size_t ts,
                                                              int oh, int ow,
                                                              const float *col, float *acc,
                                                              size_t as)
{
    __m256 w[HOG_FILTER];
    for (int m = 0; m < HOG_FILTER; m++)
        w[m] = _mm256_set1_ps(col[m]);
    for (int i = 0; i < oh; i++) {
        float *a = acc + (size_t)i * as;
        const float *t = tmp + (size_t)i * ts;
        for (int j = 0; j < ow; j += 8) {
            const float *p = t + j;
            __m256 s0 = _mm256_loadu_ps(a + j);
            __m256 s1 = _mm256_mul_ps(w[1], _mm256_loadu_ps(p + ts));
            s0 = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(p), s0);
            s0 = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(p + 2 * ts), s0);
            s1 = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(p + 3 * ts), s1);
            s0 = _mm256_fmadd_ps(w[4], _mm256_loadu_ps(p + 4 * ts), s0);
            s1 = _mm256_fmadd_ps(w[5], _mm256_loadu_ps(p + 5 * ts), s1);
            s0 = _mm256_fmadd_ps(w[6], _mm256_loadu_ps(p + 6 * ts), s0);
            s1 = _mm256_fmadd_ps(w[7], _mm256_loadu_ps(p + 7 * ts), s1);
            s0 = _mm256_fmadd_ps(w[8], _mm256_loadu_ps(p + 8 * ts), s0);
            s1 = _mm256_fmadd_ps(w[9], _mm256_loadu_ps(p + 9 * ts), s1);
            _mm256_storeu_ps(a + j, _mm256_add_ps(s0, s1));
        }
    }
}

__attribute__((target("avx512f"))) static void row_pass_avx512(const float *f, size_t fs,
                                                                 int rows, int ow,
                                                                 const float *row, float *tmp,
                                                                 size_t ts)
{
    __m512 w[HOG_FILTER];
    for (int n = 0; n < HOG_FILTER; n++)
        w[n] = _mm512_set1_ps(row[n]);
    for (int r = 0; r < rows; r++) {
        const float *in = f + (size_t)r * fs;
        float *o = tmp + (size_t)r * ts;
        for (int j = 0; j < ow; j += 16) {
            const float *p = in + j;
            __m512 s0 = _mm512_mul_ps(w[0], _mm512_loadu_ps(p));
            __m512 s1 = _mm512_mul_ps(w[1], _mm512_loadu_ps(p + 1));
            s0 = _mm512_fmadd_ps(w[2], _mm512_loadu_ps(p + 2), s0);
            s1 = _mm512_fmadd_ps(w[3], _mm512_loadu_ps(p + 3), s1);
            s0 = _mm512_fmadd_ps(w[4], _mm512_loadu_ps(p + 4), s0);
            s1 = _mm512_fmadd_ps(w[5], _mm512_loadu_ps(p + 5), s1);
            s0 = _mm512_fmadd_ps(w[6], _mm512_loadu_ps(p + 6), s0);
            s1 = _mm512_fmadd_ps(w[7], _mm512_loadu_ps(p + 7), s1);
            s0 = _mm512_fmadd_ps(w[8], _mm512_loadu_ps(p + 8), s0);
            s1 = _mm512_fmadd_ps(w[9], _mm512_loadu_ps(p + 9), s1);
            _mm512_storeu_ps(o + j, _mm512_add_ps(s0, s1));
        }
    }
}

__attribute__((target("avx512f"))) static void col_pass_avx512(const float *tmp, size_t ts,
                                                                 int oh, int ow,
                                                                 const float *col, float *acc,
                                                                 size_t as)
{
    __m512 w[HOG_FILTER];
    for (int m = 0; m < HOG_FILTER; m++)
        w[m] = _mm512_set1_ps(col[m]);
    for (int i = 0; i < oh; i++) {
        float *a = acc + (size_t)i * as;
        const float *t = tmp + (size_t)i * ts;
        for (int j = 0; j < ow; j += 16) {
            const float *p = t + j;
            __m512 s0 = _mm512_loadu_ps(a + j);
            __m512 s1 = _mm512_mul_ps(w[1], _mm512_loadu_ps(p + ts));
            s0 = _mm512_fmadd_ps(w[0], _mm512_loadu_ps(p), s0);
            s0 = _mm512_fmadd_ps(w[2], _mm512_loadu_ps(p + 2 * ts), s0);
            s1 = _mm512_fmadd_ps(w[3], _mm512_loadu_ps(p + 3 * ts), s1);
            s0 = _mm512_fmadd_ps(w[4], _mm512_loadu_ps(p + 4 * ts), s0);
            s1 = _mm512_fmadd_ps(w[5], _mm512_loadu_ps(p + 5 * ts), s1);
            s0 = _mm512_fmadd_ps(w[6], _mm512_loadu_ps(p + 6 * ts), s0);
            s1 = _mm512_fmadd_ps(w[7], _mm512_loadu_ps(p + 7 * ts), s1);
            s0 = _mm512_fmadd_ps(w[8], _mm512_loadu_ps(p + 8 * ts), s0);
            s1 = _mm512_fmadd_ps(w[9], _mm512_loadu_ps(p + 9 * ts), s1);
            _mm512_storeu_ps(a + j, _mm512_add_ps(s0, s1));
        }
    }
}
#endif

struct kernels {
    void (*row)(const float *, size_t, int, int, const float *, float *, size_t);
    void (*col)(const float *, size_t, int, int, const float *, float *, size_t);
};

static struct kernels pick(void)
{
    struct kernels k = {row_pass_c, col_pass_c};
#ifdef DF_X86
    if (det__cpu_level >= 2 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma")) {
        k.row = row_pass_avx2;
        k.col = col_pass_avx2;
    }
    if (det__cpu_level >= 3 && __builtin_cpu_supports("avx512f")) {
        k.row = row_pass_avx512;
        k.col = col_pass_avx512;
    }
#endif
    return k;
}

enum ff_err det__level_scores(const struct vis_detector *d, const struct hog_map *m,
                              struct det_scores *s)
{
    memset(s, 0, sizeof *s);
    if (m->rows < HOG_FILTER || m->cols < HOG_FILTER)
        return FF_OK;
    s->oh = m->rows - (HOG_FILTER - 1);
    s->ow = m->cols - (HOG_FILTER - 1);
    s->stride = ((size_t)s->ow + 15) & ~(size_t)15;
    const size_t ts = s->stride;
    s->data = ff_calloc(s->stride * (size_t)s->oh * d->nfilters, sizeof(float));
    float *tmp = ff_malloc(sizeof(float) * ts * (size_t)m->rows);
    if (!s->data || !tmp) {
        ff_free(tmp);
        ff_free(s->data);
        memset(s, 0, sizeof *s);
        return FF_ENOMEM;
    }
    const struct kernels k = pick();
    for (size_t f = 0; f < d->nfilters; f++) {
        const struct hog_filter *hf = &d->filters[f];
        float *acc = s->data + f * s->stride * (size_t)s->oh;
        for (int p = 0; p < hf->nparts; p++) {
            const struct hog_part *part = &hf->parts[p];
            const float *plane = m->data + (size_t)part->plane * m->plane_size;
            k.row(plane, m->stride, m->rows, s->ow, part->row, tmp, ts);
            k.col(tmp, ts, s->oh, s->ow, part->col, acc, s->stride);
        }
    }
    ff_free(tmp);
    return FF_OK;
}
