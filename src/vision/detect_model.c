/* detect_model.c - loads dlib's serialized HOG object detector.
 *
 * Byte layout: shared/docs/dlib-model-formats.md sections 1 and 4.1 (dlib's
 * serialize.h, object_detector.h, scan_fhog_pyramid.h). Every read is bounds
 * checked; anything unexpected is FF_ECORRUPT (malformed) or FF_EUNSUPPORTED
 * (a well-formed detector with a configuration we do not run). At load time each
 * 10x10 filter is factorised with a Jacobi SVD into rank-1 parts exactly as
 * dlib's build_fhog_filterbank does. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "vision/hog.h"

#define MODEL_MAX_FILTERS 64

struct rd {
    const uint8_t *p, *end;
    char *err;
    size_t errlen;
};

static enum ff_err fail(struct rd *r, enum ff_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ff_err fail(struct rd *r, enum ff_err e, const char *fmt, ...)
{
    if (r->err && r->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}

/* dlib's variable-length integer: magnitude in *mag, sign in *neg. */
static enum ff_err rd_int(struct rd *r, const char *what, uint64_t *mag, int *neg)
{
    if (r->p >= r->end)
        return fail(r, FF_ECORRUPT, "detector model truncated (reading %s)", what);
    uint8_t ctl = *r->p++;
    unsigned n = ctl & 0x0F;
    if ((ctl & 0x70) || n == 0 || n > 8)
        return fail(r, FF_ECORRUPT, "detector model: bad integer encoding for %s", what);
    if ((size_t)(r->end - r->p) < n)
        return fail(r, FF_ECORRUPT, "detector model truncated (reading %s)", what);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *mag = v;
    *neg = (ctl & 0x80) != 0;
    return FF_OK;
}

static enum ff_err rd_uint(struct rd *r, const char *what, uint64_t *v)
{
    int neg = 0;
    enum ff_err e = rd_int(r, what, v, &neg);
    if (e)
        return e;
    if (neg)
        return fail(r, FF_ECORRUPT, "detector model: negative value for %s", what);
    return FF_OK;
}

static enum ff_err rd_sint(struct rd *r, const char *what, int64_t *v)
{
    uint64_t mag = 0;
    int neg = 0;
    enum ff_err e = rd_int(r, what, &mag, &neg);
    if (e)
        return e;
    if (mag > (uint64_t)INT64_MAX)
        return fail(r, FF_ECORRUPT, "detector model: %s out of range", what);
    *v = neg ? -(int64_t)mag : (int64_t)mag;
    return FF_OK;
}

/* dlib float: int64 mantissa then int16 exponent; value = m * 2^e. */
static enum ff_err rd_double(struct rd *r, const char *what, double *v)
{
    if (r->p < r->end && (*r->p & 0x70))
        return fail(r, FF_ECORRUPT, "detector model: old text float format for %s", what);
    int64_t m = 0, e = 0;
    enum ff_err err = rd_sint(r, what, &m);
    if (!err)
        err = rd_sint(r, what, &e);
    if (err)
        return err;
    if (e >= 32000 || e < -32768 || e > 32767)
        return fail(r, FF_ECORRUPT, "detector model: non-finite value for %s", what);
    double x = ldexp((double)m, (int)e);
    if (!isfinite(x))
        return fail(r, FF_ECORRUPT, "detector model: non-finite value for %s", what);
    *v = x;
    return FF_OK;
}

static enum ff_err expect_uint(struct rd *r, const char *what, uint64_t want)
{
    uint64_t v = 0;
    enum ff_err e = rd_uint(r, what, &v);
    if (e)
        return e;
    if (v != want)
        return fail(r, FF_EUNSUPPORTED,
                    "detector model: %s is %llu, only %llu is supported", what,
                    (unsigned long long)v, (unsigned long long)want);
    return FF_OK;
}

/* ---- SVD of a 10x10 filter (one-sided Jacobi, double) ---- */

/* a (n x n, row-major) = U diag(s) V^T. On return a holds U*diag(s) by columns,
 * s the singular values and v the right vectors (columns). */
static void jacobi_svd(double a[HOG_FILTER][HOG_FILTER], double v[HOG_FILTER][HOG_FILTER],
                       double s[HOG_FILTER])
{
    enum { N = HOG_FILTER };
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            v[i][j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < N - 1; p++) {
            for (int q = p + 1; q < N; q++) {
                double alpha = 0, beta = 0, gamma = 0;
                for (int i = 0; i < N; i++) {
                    alpha += a[i][p] * a[i][p];
                    beta += a[i][q] * a[i][q];
                    gamma += a[i][p] * a[i][q];
                }
                if (gamma == 0 || fabs(gamma) <= 1e-300)
                    continue;
                double rel = fabs(gamma) / sqrt(alpha * beta);
                if (rel > off)
                    off = rel;
                if (rel < 1e-17)
                    continue;
                double zeta = (beta - alpha) / (2 * gamma);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                double c = 1 / sqrt(1 + t * t), sn = c * t;
                for (int i = 0; i < N; i++) {
                    double x = a[i][p], y = a[i][q];
                    a[i][p] = c * x - sn * y;
                    a[i][q] = sn * x + c * y;
                    x = v[i][p];
                    y = v[i][q];
                    v[i][p] = c * x - sn * y;
                    v[i][q] = sn * x + c * y;
                }
            }
        }
        if (off < 1e-15)
            break;
    }
    for (int j = 0; j < N; j++) {
        double n = 0;
        for (int i = 0; i < N; i++)
            n += a[i][j] * a[i][j];
        s[j] = sqrt(n);
    }
}

/* dlib's build_fhog_filterbank for one plane: parts with sigma >= max(1e-4,
 * 0.001*sigma_max), largest first; col = u*sqrt(s), row = v*sqrt(s). */
static int plane_parts(const double f[HOG_FILTER][HOG_FILTER], int plane,
                       struct hog_part *out)
{
    double a[HOG_FILTER][HOG_FILTER], v[HOG_FILTER][HOG_FILTER], s[HOG_FILTER];
    memcpy(a, f, sizeof a);
    jacobi_svd(a, v, s);
    int order[HOG_FILTER];
    for (int i = 0; i < HOG_FILTER; i++)
        order[i] = i;
    for (int i = 1; i < HOG_FILTER; i++) /* insertion sort, sigma descending */
        for (int j = i; j > 0 && s[order[j]] > s[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double smax = s[order[0]];
    double thresh = smax * 0.001 > 1e-4 ? smax * 0.001 : 1e-4;
    int n = 0;
    for (int k = 0; k < HOG_FILTER; k++) {
        int j = order[k];
        if (!(s[j] >= thresh))
            continue;
        double rs = sqrt(s[j]);
        out[n].plane = plane;
        for (int i = 0; i < HOG_FILTER; i++) {
            out[n].col[i] = (float)(a[i][j] / s[j] * rs);
            out[n].row[i] = (float)(v[i][j] * rs);
        }
        n++;
    }
    return n;
}

static enum ff_err build_filter(struct rd *r, const double *w, struct hog_filter *f)
{
    struct hog_part tmp[HOG_PLANES * HOG_FILTER];
    int n = 0;
    for (int p = 0; p < HOG_PLANES; p++) {
        double m[HOG_FILTER][HOG_FILTER];
        for (int y = 0; y < HOG_FILTER; y++)
            for (int x = 0; x < HOG_FILTER; x++) {
                m[y][x] = w[p * 100 + y * 10 + x];
                f->w[p][y][x] = (float)m[y][x];
            }
        n += plane_parts(m, p, tmp + n);
    }
    f->bias = w[HOG_PLANES * 100];
    f->nparts = n;
    f->parts = ff_malloc(sizeof *f->parts * (size_t)(n ? n : 1));
    if (!f->parts)
        return fail(r, FF_ENOMEM, "out of memory loading detector model");
    memcpy(f->parts, tmp, sizeof *f->parts * (size_t)n);
    return FF_OK;
}

static enum ff_err parse_header(struct rd *r, struct vis_detector *d)
{
    enum ff_err e;
    uint64_t u;
    int64_t s;
    double x;
    if ((e = rd_sint(r, "object_detector version", &s)))
        return e;
    if (s != 2)
        return fail(r, s == 1 ? FF_EUNSUPPORTED : FF_ECORRUPT,
                    "not a dlib object_detector version 2 (version %lld)", (long long)s);
    if ((e = rd_sint(r, "scanner version", &s)))
        return e;
    if (s != 1)
        return fail(r, FF_EUNSUPPORTED,
                    "not a dlib scan_fhog_pyramid detector (scanner version %lld)", (long long)s);
    /* cached feature pyramid: a dlib::array, must be empty */
    if ((e = expect_uint(r, "cached pyramid max_size", 0)) ||
        (e = expect_uint(r, "cached pyramid size", 0)) ||
        (e = expect_uint(r, "cell_size", HOG_CELL)) || (e = expect_uint(r, "padding", 0)) ||
        (e = expect_uint(r, "window_width", HOG_CELL * HOG_FILTER)) ||
        (e = expect_uint(r, "window_height", HOG_CELL * HOG_FILTER)))
        return e;
    if ((e = rd_uint(r, "max_pyramid_levels", &u)))
        return e;
    if (u == 0)
        return fail(r, FF_ECORRUPT, "detector model: max_pyramid_levels is 0");
    d->max_levels = u > 1000 ? 1000 : (unsigned long)u;
    if ((e = rd_uint(r, "min_pyramid_layer_width", &u)))
        return e;
    if (u == 0 || u > 1u << 20)
        return fail(r, FF_ECORRUPT, "detector model: bad min_pyramid_layer_width");
    d->min_level_w = (unsigned long)u;
    if ((e = rd_uint(r, "min_pyramid_layer_height", &u)))
        return e;
    if (u == 0 || u > 1u << 20)
        return fail(r, FF_ECORRUPT, "detector model: bad min_pyramid_layer_height");
    d->min_level_h = (unsigned long)u;
    if ((e = rd_double(r, "nuclear_norm_regularization", &x)))
        return e;
    if ((e = rd_sint(r, "num_dimensions", &s)))
        return e;
    if (s != HOG_PLANES * HOG_FILTER * HOG_FILTER)
        return fail(r, FF_EUNSUPPORTED, "detector model: %lld dimensions, expected 3100",
                    (long long)s);
    if ((e = rd_double(r, "iou_thresh", &d->iou_thresh)) ||
        (e = rd_double(r, "percent_covered_thresh", &d->cover_thresh)))
        return e;
    if (!(d->iou_thresh >= 0 && d->iou_thresh <= 1 && d->cover_thresh >= 0 &&
          d->cover_thresh <= 1))
        return fail(r, FF_ECORRUPT, "detector model: overlap thresholds outside [0,1]");
    return FF_OK;
}

static enum ff_err parse_weights(struct rd *r, struct vis_detector *d)
{
    enum { NW = HOG_PLANES * HOG_FILTER * HOG_FILTER + 1 };
    uint64_t nf;
    enum ff_err e = rd_uint(r, "number of filters", &nf);
    if (e)
        return e;
    if (nf == 0 || nf > MODEL_MAX_FILTERS)
        return fail(r, FF_ECORRUPT, "detector model: %llu filters (1..%d allowed)",
                    (unsigned long long)nf, MODEL_MAX_FILTERS);
    /* each weight needs at least 4 bytes: cheap sanity check before allocating */
    if ((uint64_t)(r->end - r->p) < nf * NW * 4)
        return fail(r, FF_ECORRUPT, "detector model truncated (%llu filters declared)",
                    (unsigned long long)nf);
    d->filters = ff_calloc((size_t)nf, sizeof *d->filters);
    double *w = ff_malloc(sizeof(double) * NW);
    if (!d->filters || !w) {
        ff_free(w);
        return fail(r, FF_ENOMEM, "out of memory loading detector model");
    }
    d->nfilters = (size_t)nf;
    for (size_t i = 0; i < d->nfilters && !e; i++) {
        int64_t rows, cols;
        if ((e = rd_sint(r, "weight rows", &rows)) || (e = rd_sint(r, "weight cols", &cols)))
            break;
        if (rows < 0)
            rows = -rows;
        if (cols < 0)
            cols = -cols;
        if (rows != NW || cols != 1) {
            e = fail(r, FF_ECORRUPT, "detector model: filter %zu is %lldx%lld, expected %dx1",
                     i, (long long)rows, (long long)cols, NW);
            break;
        }
        for (int k = 0; k < NW && !e; k++) {
            e = rd_double(r, "filter weight", &w[k]);
            /* real weights are below 10 in magnitude; huge ones would only
             * overflow the float filters */
            if (!e && !(fabs(w[k]) <= 1e6))
                e = fail(r, FF_ECORRUPT, "detector model: filter %zu weight %d out of range", i, k);
        }
        if (!e)
            e = build_filter(r, w, &d->filters[i]);
    }
    ff_free(w);
    return e;
}

enum ff_err vis_detector_load_mem(const void *bytes, size_t len, struct vis_detector **out,
                                  char *err, size_t errlen)
{
    struct rd r = {bytes, (const uint8_t *)bytes + len, err, errlen};
    if (err && errlen)
        err[0] = 0;
    *out = NULL;
    if (!bytes || len == 0)
        return fail(&r, FF_ECORRUPT, "detector model is empty");
    struct vis_detector *d = ff_calloc(1, sizeof *d);
    if (!d)
        return fail(&r, FF_ENOMEM, "out of memory loading detector model");
    enum ff_err e = parse_header(&r, d);
    if (!e)
        e = parse_weights(&r, d);
    if (!e && r.p != r.end)
        e = fail(&r, FF_ECORRUPT, "detector model: %zu unexpected bytes after the end",
                 (size_t)(r.end - r.p));
    if (e) {
        vis_detector_free(d);
        return e;
    }
    *out = d;
    return FF_OK;
}

enum ff_err vis_detector_load(const char *path, struct vis_detector **out, char *err,
                              size_t errlen)
{
    struct rd r = {NULL, NULL, err, errlen};
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(&r, FF_EIO, "cannot open detector model %s", path);
    enum ff_err e = FF_OK;
    size_t cap = 1 << 18, len = 0;
    uint8_t *buf = ff_malloc(cap);
    while (buf) {
        if (len == cap) {
            if (cap >= (size_t)64 << 20) { /* the real model is 155 kB */
                e = fail(&r, FF_ETOOBIG, "detector model %s is larger than 64 MB", path);
                break;
            }
            uint8_t *nb = ff_realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                e = fail(&r, FF_EIO, "cannot read detector model %s", path);
            break;
        }
    }
    if (!buf && !e)
        e = fail(&r, FF_ENOMEM, "out of memory reading detector model");
    fclose(f);
    if (!e && !buf)
        e = FF_ENOMEM;
    if (!e)
        e = vis_detector_load_mem(buf, len, out, err, errlen);
    ff_free(buf);
    return e;
}

void vis_detector_free(struct vis_detector *d)
{
    if (!d)
        return;
    for (size_t i = 0; d->filters && i < d->nfilters; i++)
        ff_free(d->filters[i].parts);
    ff_free(d->filters);
    ff_free(d);
}

size_t vis_detector_num_filters(const struct vis_detector *d)
{
    return d ? d->nfilters : 0;
}

/* ---- the model built into the binary ---- */

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl ff_vis_face_model_start\n"
        "ff_vis_face_model_start:\n"
        ".incbin \"" FF_SOURCE_DIR "/models/dlib_frontal_face_detector.dat\"\n"
        ".globl ff_vis_face_model_end\n"
        "ff_vis_face_model_end:\n"
        ".previous\n");
extern const uint8_t ff_vis_face_model_start[], ff_vis_face_model_end[];

const void *vis_detector_default_model(size_t *len)
{
    *len = (size_t)(ff_vis_face_model_end - ff_vis_face_model_start);
    return ff_vis_face_model_start;
}

enum ff_err vis_detector_load_default(struct vis_detector **out, char *err, size_t errlen)
{
    size_t len;
    const void *p = vis_detector_default_model(&len);
    return vis_detector_load_mem(p, len, out, err, errlen);
}
