/* raster.c - anti-aliased polygon coverage: nonzero winding, exact horizontal
 * coverage per sub-scanline, RND_SUBSAMPLES sub-scanlines per pixel row. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render_int.h"

struct edge {
    double x0, y0, x1, y1; /* y0 < y1 */
    double dxdy;
    int dir;               /* +1 downwards in the contour's order, -1 upwards */
};

struct xing {
    double x;
    int dir;
};

static void add_span(float *acc, float *diff, int w, double x0, double x1, float wgt)
{
    if (x0 < 0)
        x0 = 0;
    if (x1 > w)
        x1 = w;
    if (!(x1 > x0))
        return;
    int i0 = (int)x0, i1 = (int)x1;
    if (i0 == i1) {
        acc[i0] += (float)(x1 - x0) * wgt;
        return;
    }
    acc[i0] += (float)(i0 + 1 - x0) * wgt;
    diff[i0 + 1] += wgt;
    diff[i1] -= wgt;
    if (i1 < w)
        acc[i1] += (float)(x1 - i1) * wgt;
}

static size_t collect_edges(const struct rnd_pt *const *cont, const size_t *npts, size_t ncont,
                            struct edge *e, double *ymin, double *ymax)
{
    size_t ne = 0;
    *ymin = INFINITY;
    *ymax = -INFINITY;
    for (size_t c = 0; c < ncont; c++) {
        size_t n = npts[c];
        for (size_t i = 0; i < n; i++) {
            struct rnd_pt a = cont[c][i], b = cont[c][(i + 1) % n];
            if (a.y == b.y || !isfinite(a.x) || !isfinite(a.y) || !isfinite(b.x) ||
                !isfinite(b.y))
                continue;
            int dir = 1;
            if (a.y > b.y) {
                struct rnd_pt t = a;
                a = b;
                b = t;
                dir = -1;
            }
            e[ne++] = (struct edge){a.x, a.y, b.x, b.y, (b.x - a.x) / (b.y - a.y), dir};
            if (a.y < *ymin)
                *ymin = a.y;
            if (b.y > *ymax)
                *ymax = b.y;
        }
    }
    return ne;
}

static void sort_xings(struct xing *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct xing v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1].x > v.x) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

static void fill_row(struct rnd_cov *cov, int y, const struct edge *e, const size_t *rowe,
                     size_t nrow, struct xing *xs, float *acc, float *diff)
{
    int w = cov->w;
    const float wgt = 1.0f / RND_SUBSAMPLES;
    memset(acc, 0, sizeof *acc * (size_t)(w + 1));
    memset(diff, 0, sizeof *diff * (size_t)(w + 1));
    for (int s = 0; s < RND_SUBSAMPLES; s++) {
        double ys = y + (s + 0.5) / RND_SUBSAMPLES;
        size_t nx = 0;
        for (size_t k = 0; k < nrow; k++) {
            const struct edge *g = &e[rowe[k]];
            if (ys >= g->y0 && ys < g->y1)
                xs[nx++] = (struct xing){g->x0 + (ys - g->y0) * g->dxdy, g->dir};
        }
        sort_xings(xs, nx);
        int wind = 0;
        double start = 0;
        for (size_t k = 0; k < nx; k++) {
            int prev = wind;
            wind += xs[k].dir;
            if (prev == 0 && wind != 0)
                start = xs[k].x;
            else if (prev != 0 && wind == 0)
                add_span(acc, diff, w, start, xs[k].x, wgt);
        }
    }
    float run = 0, *out = cov->c + (size_t)y * (size_t)w;
    for (int x = 0; x < w; x++) {
        run += diff[x];
        float v = out[x] + acc[x] + run;
        out[x] = v > 1.0f ? 1.0f : v < 0.0f ? 0.0f : v;
    }
}

enum ff_err rnd_fill(struct rnd_cov *cov, const struct rnd_pt *const *cont, const size_t *npts,
                     size_t ncont)
{
    size_t total = 0;
    for (size_t c = 0; c < ncont; c++)
        total += npts[c];
    if (!total || cov->w <= 0 || cov->h <= 0)
        return FF_OK;
    struct edge *e = ff_malloc(sizeof *e * total);
    size_t *rowe = ff_malloc(sizeof *rowe * total);
    struct xing *xs = ff_malloc(sizeof *xs * total);
    float *acc = ff_malloc(sizeof *acc * (size_t)(cov->w + 1) * 2);
    if (!e || !rowe || !xs || !acc) {
        ff_free(e);
        ff_free(rowe);
        ff_free(xs);
        ff_free(acc);
        return FF_ENOMEM;
    }
    double ymin, ymax;
    size_t ne = collect_edges(cont, npts, ncont, e, &ymin, &ymax);
    if (ne) {
        int y0 = ymin < 0 ? 0 : (int)floor(ymin);
        int y1 = ymax >= cov->h ? cov->h - 1 : (int)floor(ymax);
        for (int y = y0; y <= y1; y++) {
            size_t nrow = 0;
            for (size_t k = 0; k < ne; k++)
                if (e[k].y1 > y && e[k].y0 < y + 1)
                    rowe[nrow++] = k;
            if (nrow)
                fill_row(cov, y, e, rowe, nrow, xs, acc, acc + cov->w + 1);
        }
    }
    ff_free(e);
    ff_free(rowe);
    ff_free(xs);
    ff_free(acc);
    return FF_OK;
}
