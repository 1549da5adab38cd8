/* shape_convert.c - parse dlib's shape_predictor serialization (see
 * shared/docs/dlib-model-formats.md sections 1-2) into the compact blob of
 * shape_int.h. Every read is bounds-checked; any surprise is FF_ECORRUPT or
 * FF_EUNSUPPORTED with a sentence saying where. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "vision/shape_int.h"

/* Sanity limits, far above any real model; they bound memory before allocation. */
#define MAX_PARTS 4096u
#define MAX_CASCADES 1000u
#define MAX_TREES 1000000u
#define MAX_SPLITS 4095u      /* depth 12 */
#define MAX_FEATURES 65535u   /* split indexes are stored as uint16 */

struct rd {
    const uint8_t *p, *end, *start;
    enum ff_err err;
    char *msg;
    size_t msglen;
};

static void fail(struct rd *r, enum ff_err e, const char *fmt, ...)
{
    if (r->err)
        return;
    r->err = e;
    if (r->msg && r->msglen) {
        int n = snprintf(r->msg, r->msglen, "byte %zu: ", (size_t)(r->p - r->start));
        if (n >= 0 && (size_t)n < r->msglen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->msg + n, r->msglen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    r->p = r->end; /* every later read fails fast */
}

/* dlib's variable-length integer: returns magnitude and sign. */
static uint64_t rd_raw(struct rd *r, unsigned maxbytes, int *neg)
{
    *neg = 0;
    if (r->err)
        return 0;
    if (r->p >= r->end) {
        fail(r, FF_ECORRUPT, "file truncated (expected an integer)");
        return 0;
    }
    unsigned c = *r->p;
    unsigned n = c & 0x0f;
    if (c & 0x70) {
        fail(r, FF_ECORRUPT, "bad integer control byte 0x%02x", c);
        return 0;
    }
    if (n == 0 || n > maxbytes) {
        fail(r, FF_ECORRUPT, "integer of %u bytes where at most %u fit", n, maxbytes);
        return 0;
    }
    if ((size_t)(r->end - r->p) < 1 + (size_t)n) {
        fail(r, FF_ECORRUPT, "file truncated inside an integer");
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[1 + i] << (8 * i);
    r->p += 1 + n;
    *neg = (c & 0x80) != 0;
    return v;
}

static uint64_t rd_uint(struct rd *r)
{
    int neg;
    uint64_t v = rd_raw(r, 8, &neg);
    if (neg)
        fail(r, FF_ECORRUPT, "negative value where a size or index was expected");
    return v;
}

static int64_t rd_int(struct rd *r, unsigned maxbytes)
{
    int neg;
    uint64_t v = rd_raw(r, maxbytes, &neg);
    if (v > (uint64_t)INT64_MAX) {
        fail(r, FF_ECORRUPT, "integer out of range");
        return 0;
    }
    return neg ? -(int64_t)v : (int64_t)v;
}

/* A float: mantissa (int64) then exponent (int16); finite values only. */
static float rd_float(struct rd *r)
{
    int64_t man = rd_int(r, 8);
    int64_t ex = rd_int(r, 2);
    if (r->err)
        return 0;
    if (ex >= 32000 || ex < -32768 || ex > 32767) {
        fail(r, FF_ECORRUPT, "non-finite float (inf or NaN) in the model");
        return 0;
    }
    double d = ldexp((double)man, (int)ex);
    if (!(fabs(d) <= FLT_MAX)) { /* converting it to float would overflow */
        fail(r, FF_ECORRUPT, "float out of range in the model");
        return 0;
    }
    return (float)d;
}

/* A column vector matrix<float,0,1>: returns its row count. */
static uint64_t rd_colvec_dims(struct rd *r)
{
    int64_t rows = rd_int(r, 8), cols = rd_int(r, 8);
    if (rows < 0)
        rows = -rows;
    if (cols < 0)
        cols = -cols;
    if (!r->err && cols != 1)
        fail(r, FF_ECORRUPT, "expected a column vector, found %lld columns", (long long)cols);
    return (uint64_t)rows;
}

struct plan {
    uint32_t parts, cascades, splits, leaves, stride, max_feat;
    uint64_t total_trees, total_feats;
    uint32_t *trees;    /* per cascade */
    uint32_t *feats;    /* per cascade */
    uint32_t *maxidx;   /* per cascade: largest split index seen */
};

static uint64_t align64(uint64_t v) { return (v + 63) & ~(uint64_t)63; }

/* Fills the layout fields of h from its counts; 0 on overflow. */
int vis__sp_layout(struct vis_sp_header *h)
{
    uint64_t a, b, c, d;
    h->off_cascades = VIS_SP_HEADER;
    h->off_init = align64(h->off_cascades + (uint64_t)h->cascades * sizeof(struct vis_sp_cascade));
    h->off_feats = align64(h->off_init + (uint64_t)h->leaf_stride * 4);
    if (__builtin_mul_overflow(h->total_features, sizeof(struct vis_sp_feat), &a))
        return 0;
    h->off_splits = align64(h->off_feats + a);
    if (__builtin_mul_overflow(h->total_trees, (uint64_t)h->splits * sizeof(struct vis_sp_split), &b))
        return 0;
    h->off_leaves = align64(h->off_splits + b);
    if (__builtin_mul_overflow(h->total_trees, (uint64_t)h->leaves * h->leaf_stride * 4, &c))
        return 0;
    if (__builtin_add_overflow(h->off_leaves, c, &d))
        return 0;
    h->file_size = d;
    return d < ((uint64_t)1 << 40);
}

/* One walk over the file. fill == NULL: validate and count into pl.
 * fill != NULL: write values into the blob laid out by h. */
static void walk(struct rd *r, struct plan *pl, uint8_t *fill, const struct vis_sp_header *h)
{
    int64_t version = rd_int(r, 8);
    if (!r->err && version != 1) {
        fail(r, FF_EUNSUPPORTED, "not a dlib shape_predictor (version %lld, expected 1)",
             (long long)version);
        return;
    }
    uint64_t rows = rd_colvec_dims(r);
    if (r->err)
        return;
    if (rows == 0 || rows % 2 || rows / 2 > MAX_PARTS) {
        fail(r, FF_ECORRUPT, "initial shape has %llu values (need 2..%u, even)",
             (unsigned long long)rows, 2 * MAX_PARTS);
        return;
    }
    if (!fill)
        pl->parts = (uint32_t)(rows / 2);
    float *init = fill ? (float *)(fill + h->off_init) : NULL;
    for (uint64_t i = 0; i < rows && !r->err; i++) {
        float v = rd_float(r);
        if (init)
            init[i] = v;
    }
    uint64_t nc = rd_uint(r);
    if (r->err)
        return;
    if (nc == 0 || nc > MAX_CASCADES) {
        fail(r, FF_ECORRUPT, "%llu cascades (need 1..%u)", (unsigned long long)nc, MAX_CASCADES);
        return;
    }
    if (!fill) {
        pl->cascades = (uint32_t)nc;
        pl->trees = ff_calloc(nc, sizeof *pl->trees);
        pl->feats = ff_calloc(nc, sizeof *pl->feats);
        pl->maxidx = ff_calloc(nc, sizeof *pl->maxidx);
        if (!pl->trees || !pl->feats || !pl->maxidx) {
            fail(r, FF_ENOMEM, "out of memory");
            return;
        }
    }
    const uint32_t P2 = pl->parts * 2;
    uint64_t tree = 0;
    for (uint64_t c = 0; c < nc && !r->err; c++) {
        uint64_t nt = rd_uint(r);
        if (r->err)
            return;
        if (nt == 0 || nt > MAX_TREES || pl->total_trees + nt > MAX_TREES) {
            fail(r, FF_ECORRUPT, "cascade %llu has %llu trees", (unsigned long long)c,
                 (unsigned long long)nt);
            return;
        }
        if (!fill) {
            pl->trees[c] = (uint32_t)nt;
            pl->total_trees += nt;
        }
        for (uint64_t t = 0; t < nt && !r->err; t++, tree++) {
            uint64_t ns = rd_uint(r);
            if (r->err)
                return;
            if (ns == 0 || ns > MAX_SPLITS || ((ns + 1) & ns)) {
                fail(r, FF_EUNSUPPORTED, "tree with %llu splits (need 2^d-1, d 1..12)",
                     (unsigned long long)ns);
                return;
            }
            if (!fill && tree == 0)
                pl->splits = (uint32_t)ns;
            if (ns != pl->splits) {
                fail(r, FF_EUNSUPPORTED, "trees of different depths (%llu vs %u splits)",
                     (unsigned long long)ns, pl->splits);
                return;
            }
            struct vis_sp_split *sp =
                fill ? (struct vis_sp_split *)(fill + h->off_splits) + tree * ns : NULL;
            for (uint64_t s = 0; s < ns && !r->err; s++) {
                uint64_t i1 = rd_uint(r), i2 = rd_uint(r);
                float th = rd_float(r);
                if (r->err)
                    return;
                if (i1 >= MAX_FEATURES || i2 >= MAX_FEATURES) {
                    fail(r, FF_ECORRUPT, "split feature index %llu out of range",
                         (unsigned long long)(i1 > i2 ? i1 : i2));
                    return;
                }
                if (!fill) {
                    uint32_t m = (uint32_t)(i1 > i2 ? i1 : i2);
                    if (m > pl->maxidx[c])
                        pl->maxidx[c] = m;
                } else {
                    sp[s].idx1 = (uint16_t)i1;
                    sp[s].idx2 = (uint16_t)i2;
                    sp[s].thresh = th;
                }
            }
            uint64_t nl = rd_uint(r);
            if (!r->err && nl != ns + 1) {
                fail(r, FF_ECORRUPT, "tree has %llu leaves for %llu splits",
                     (unsigned long long)nl, (unsigned long long)ns);
                return;
            }
            float *lv = fill ? (float *)(fill + h->off_leaves) + tree * nl * h->leaf_stride : NULL;
            for (uint64_t l = 0; l < nl && !r->err; l++) {
                uint64_t n = rd_colvec_dims(r);
                if (!r->err && n != P2) {
                    fail(r, FF_ECORRUPT, "leaf vector of %llu values, expected %u",
                         (unsigned long long)n, P2);
                    return;
                }
                for (uint32_t j = 0; j < P2 && !r->err; j++) {
                    float v = rd_float(r);
                    if (lv)
                        lv[l * h->leaf_stride + j] = v;
                }
            }
        }
    }
    /* anchor_idx[cascade][feature] */
    uint64_t na = rd_uint(r);
    if (!r->err && na != nc) {
        fail(r, FF_ECORRUPT, "%llu anchor lists for %llu cascades", (unsigned long long)na,
             (unsigned long long)nc);
        return;
    }
    struct vis_sp_feat *ft = fill ? (struct vis_sp_feat *)(fill + h->off_feats) : NULL;
    uint64_t f0 = 0;
    for (uint64_t c = 0; c < nc && !r->err; c++) {
        uint64_t nf = rd_uint(r);
        if (r->err)
            return;
        if (nf == 0 || nf > MAX_FEATURES || nf <= pl->maxidx[c]) {
            fail(r, FF_ECORRUPT, "cascade %llu has %llu feature pixels but splits use index %u",
                 (unsigned long long)c, (unsigned long long)nf, pl->maxidx[c]);
            return;
        }
        if (!fill) {
            pl->feats[c] = (uint32_t)nf;
            pl->total_feats += nf;
            if (nf > pl->max_feat)
                pl->max_feat = (uint32_t)nf;
        }
        for (uint64_t f = 0; f < nf && !r->err; f++) {
            uint64_t a = rd_uint(r);
            if (!r->err && a >= pl->parts) {
                fail(r, FF_ECORRUPT, "anchor landmark %llu >= %u", (unsigned long long)a,
                     pl->parts);
                return;
            }
            if (ft) {
                ft[f0 + f].anchor = (uint32_t)a;
                ft[f0 + f].pad = 0;
            }
        }
        f0 += nf;
    }
    /* deltas[cascade][feature] = (dx, dy) */
    uint64_t nd = rd_uint(r);
    if (!r->err && nd != nc) {
        fail(r, FF_ECORRUPT, "%llu delta lists for %llu cascades", (unsigned long long)nd,
             (unsigned long long)nc);
        return;
    }
    f0 = 0;
    for (uint64_t c = 0; c < nc && !r->err; c++) {
        uint64_t nf = rd_uint(r);
        if (!r->err && nf != pl->feats[c]) {
            fail(r, FF_ECORRUPT, "cascade %llu: %llu deltas for %u anchors",
                 (unsigned long long)c, (unsigned long long)nf, pl->feats[c]);
            return;
        }
        for (uint64_t f = 0; f < nf && !r->err; f++) {
            float dx = rd_float(r), dy = rd_float(r);
            if (ft) {
                ft[f0 + f].dx = dx;
                ft[f0 + f].dy = dy;
            }
        }
        f0 += nf;
    }
    if (!r->err && r->p != r->end)
        fail(r, FF_ECORRUPT, "%zu unexpected bytes after the model", (size_t)(r->end - r->p));
}

enum ff_err vis__sp_convert(const uint8_t *src, size_t len, uint8_t **blob, size_t *blob_len,
                            char *err, size_t errlen)
{
    struct plan pl = {0};
    struct rd r = {src, src + len, src, FF_OK, err, errlen};
    uint8_t *b = NULL;
    *blob = NULL;
    *blob_len = 0;
    if (len == 0)
        fail(&r, FF_ECORRUPT, "empty model file");
    walk(&r, &pl, NULL, NULL);
    if (r.err)
        goto out;

    struct vis_sp_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, VIS_SP_MAGIC, 8);
    h.version = VIS_SP_VERSION;
    h.endian = VIS_SP_ENDIAN;
    h.header_size = VIS_SP_HEADER;
    h.parts = pl.parts;
    h.cascades = pl.cascades;
    h.splits = pl.splits;
    h.leaves = pl.splits + 1;
    h.leaf_stride = (2 * pl.parts + 15) & ~15u;
    h.max_features = pl.max_feat;
    h.total_trees = pl.total_trees;
    h.total_features = pl.total_feats;
    h.src_size = len;
    if (!vis__sp_layout(&h) || h.file_size > (uint64_t)len * 64 + (1u << 20)) {
        fail(&r, FF_ETOOBIG, "model too large once unpacked");
        goto out;
    }
    b = ff_calloc(1, (size_t)h.file_size);
    if (!b) {
        fail(&r, FF_ENOMEM, "out of memory (%llu bytes)", (unsigned long long)h.file_size);
        goto out;
    }
    struct vis_sp_cascade *ct = (struct vis_sp_cascade *)(b + h.off_cascades);
    uint64_t t0 = 0, f0 = 0;
    for (uint32_t c = 0; c < pl.cascades; c++) {
        ct[c].trees = pl.trees[c];
        ct[c].features = pl.feats[c];
        ct[c].tree0 = t0;
        ct[c].feat0 = f0;
        t0 += pl.trees[c];
        f0 += pl.feats[c];
    }
    struct rd r2 = {src, src + len, src, FF_OK, err, errlen};
    walk(&r2, &pl, b, &h);
    if (r2.err) { /* cannot happen after a clean first pass */
        r.err = r2.err;
        goto out;
    }
    memcpy(b, &h, sizeof h);
    *blob = b;
    *blob_len = (size_t)h.file_size;
    b = NULL;
out:
    ff_free(b);
    ff_free(pl.trees);
    ff_free(pl.feats);
    ff_free(pl.maxidx);
    return r.err;
}
