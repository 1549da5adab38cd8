/* detect.c - the HOG detector's scan (dlib's object_detector::operator() with
 * scan_fhog_pyramid::detect): pyramid, FHOG per level, filter responses,
 * thresholding, box mapping and non-max suppression. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "vision/detect_int.h"
#include "vision/hog.h"
#include "vision/pyramid.h"

#define DET_MAX_THREADS 16

int det__cpu_level = 3;

struct cand {
    double score;
    struct vis_rect box;
    int filter, level;
    long r, c;
};

struct cands {
    struct cand *v;
    size_t n, cap;
};

static int cands_push(struct cands *cs, const struct cand *c)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 64;
        struct cand *nv = ff_realloc(cs->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        cs->v = nv;
        cs->cap = cap;
    }
    cs->v[cs->n++] = *c;
    return 0;
}

unsigned long hog__num_levels(const struct vis_detector *d, long w, long h)
{
    /* dlib: rect = get_rect(img); do rect = rect_down(rect) (rounded to integer
     * corners), ++levels; while it is at least min_w x min_h and levels < max. */
    long l = 0, t = 0, r = w - 1, b = h - 1;
    unsigned long levels = 0;
    for (;;) {
        double nl = (l - 0.3) * (5 / 6.0), nt = (t - 0.3) * (5 / 6.0);
        double nr = (r - 0.3) * (5 / 6.0), nb = (b - 0.3) * (5 / 6.0);
        l = (long)floor(nl + 0.5);
        t = (long)floor(nt + 0.5);
        r = (long)floor(nr + 0.5);
        b = (long)floor(nb + 0.5);
        levels++;
        long rw = r < l ? 0 : r - l + 1, rh = b < t ? 0 : b - t + 1;
        if (!(rw >= (long)d->min_level_w && rh >= (long)d->min_level_h && levels < d->max_levels))
            break;
    }
    return levels;
}

/* dlib's fhog_to_image for one coordinate (cell 8, filter padding 10). */
static long feat_to_img(long q)
{
    long p = (q + 1 - HOG_PAD_LO) * HOG_CELL + 1;
    return p + (p >= 0 ? HOG_CELL / 2 : -HOG_CELL / 2);
}

static long up_round(double v, int level)
{
    for (int i = 0; i < level; i++)
        v = v * (6 / 5.0) + 0.3;
    return (long)floor(v + 0.5);
}

static struct vis_rect cand_box(long r, long c, int level)
{
    /* centered_rect((c,r), 10, 10) in feature space */
    const long l = c - HOG_FILTER / 2, t = r - HOG_FILTER / 2;
    const long rr = l + HOG_FILTER - 1, bb = t + HOG_FILTER - 1;
    struct vis_rect box;
    box.left = up_round((double)feat_to_img(l), level);
    box.top = up_round((double)feat_to_img(t), level);
    box.right = up_round((double)feat_to_img(rr), level);
    box.bottom = up_round((double)feat_to_img(bb), level);
    return box;
}

/* One pyramid level's image: 1 (grey) or 3 (r, g, b) planes. */
struct level {
    const uint8_t *px[3];
    int w, h;
    size_t stride;
};

struct job {
    const struct vis_detector *d;
    const struct level *lv;
    int nlevels, channels;
    double adjust;
    struct cands *out; /* one list per level */
    atomic_int next;
    atomic_int err;
};

static enum ff_err run_level(struct job *j, int l)
{
    const struct level *lv = &j->lv[l];
    struct hog_map m;
    enum ff_err e = hog__extract(lv->px, j->channels, lv->w, lv->h, lv->stride, &m);
    if (e || !m.data)
        return e;
    struct det_scores s;
    e = det__level_scores(j->d, &m, &s);
    ff_free(m.data);
    if (e || !s.data)
        return e;
    for (size_t f = 0; f < j->d->nfilters && !e; f++) {
        const double thresh = j->d->filters[f].bias + j->adjust;
        const float *acc = s.data + f * s.stride * (size_t)s.oh;
        for (int i = 0; i < s.oh && !e; i++)
            for (int c = 0; c < s.ow; c++) {
                const float v = acc[(size_t)i * s.stride + c];
                if ((double)v >= thresh) {
                    struct cand cd = {(double)v - j->d->filters[f].bias,
                                      cand_box(i + HOG_FILTER / 2, c + HOG_FILTER / 2, l),
                                      (int)f, l, i, c};
                    if (cands_push(&j->out[l], &cd)) {
                        e = FF_ENOMEM;
                        break;
                    }
                }
            }
    }
    ff_free(s.data);
    return e;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    for (;;) {
        int l = atomic_fetch_add(&j->next, 1);
        if (l >= j->nlevels || atomic_load(&j->err))
            break;
        enum ff_err e = run_level(j, l);
        if (e)
            atomic_store(&j->err, (int)e);
    }
    return NULL;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->filter != y->filter)
        return x->filter - y->filter;
    if (x->level != y->level)
        return x->level - y->level;
    if (x->r != y->r)
        return x->r < y->r ? -1 : 1;
    return x->c < y->c ? -1 : x->c > y->c;
}

static double rect_area(const struct vis_rect *r)
{
    if (r->right < r->left || r->bottom < r->top)
        return 0;
    return (double)(r->right - r->left + 1) * (double)(r->bottom - r->top + 1);
}

/* dlib's test_box_overlap: outer is the bounding box of both, not the union. */
static int overlaps(const struct vis_detector *d, const struct vis_rect *a,
                    const struct vis_rect *b)
{
    struct vis_rect in = {a->left > b->left ? a->left : b->left,
                          a->top > b->top ? a->top : b->top,
                          a->right < b->right ? a->right : b->right,
                          a->bottom < b->bottom ? a->bottom : b->bottom};
    const double inner = rect_area(&in);
    if (inner == 0)
        return 0;
    struct vis_rect ou = {a->left < b->left ? a->left : b->left,
                          a->top < b->top ? a->top : b->top,
                          a->right > b->right ? a->right : b->right,
                          a->bottom > b->bottom ? a->bottom : b->bottom};
    return inner / rect_area(&ou) > d->iou_thresh || inner / rect_area(a) > d->cover_thresh ||
           inner / rect_area(b) > d->cover_thresh;
}

/* Level 0 is the input (grey) or its three planes (RGB); each next level is
 * dlib's pyramid_down<6> of the one before. All levels share one buffer. */
static enum ff_err build_pyramid(const struct vis_image *img, struct level *lv, int nlevels,
                                 uint8_t **buf)
{
    const int ch = (int)img->fmt;
    size_t total = 0;
    int w = img->w, h = img->h;
    if (ch == 3)
        total += (size_t)w * (size_t)h * 3 + 64;
    for (int l = 1; l < nlevels; l++) {
        pyr__down_size(w, h, &w, &h);
        total += (size_t)w * ch * (size_t)h + 64;
    }
    *buf = NULL;
    if (total) {
        *buf = ff_malloc(total);
        if (!*buf)
            return FF_ENOMEM;
    }
    uint8_t *p = *buf;
    lv[0] = (struct level){{img->data}, img->w, img->h, img->stride};
    if (ch == 3) {
        const size_t n = (size_t)img->w * (size_t)img->h;
        lv[0] = (struct level){{p, p + n, p + 2 * n}, img->w, img->h, (size_t)img->w};
        for (int y = 0; y < img->h; y++) {
            const uint8_t *s = img->data + (size_t)y * img->stride;
            uint8_t *r = p + (size_t)y * img->w, *g = r + n, *b = g + n;
            for (int x = 0; x < img->w; x++) {
                r[x] = s[3 * x];
                g[x] = s[3 * x + 1];
                b[x] = s[3 * x + 2];
            }
        }
        p += 3 * n + 64;
    }
    for (int l = 1; l < nlevels; l++) {
        int nw, nh;
        pyr__down_size(lv[l - 1].w, lv[l - 1].h, &nw, &nh);
        const size_t n = (size_t)nw * (size_t)nh;
        lv[l] = (struct level){{p, p + n, p + 2 * n}, nw, nh, (size_t)nw};
        uint8_t *dst[3] = {p, p + n, p + 2 * n};
        enum ff_err e = pyr__down(lv[l - 1].px, ch, lv[l - 1].w, lv[l - 1].h, lv[l - 1].stride,
                                  ch == 3, dst, nw, nh, lv[l].stride);
        if (e)
            return e;
        p += (size_t)ch * n + 64;
    }
    return FF_OK;
}

static enum ff_err check_image(const struct vis_image *img)
{
    if (!img || !img->data || img->w <= 0 || img->h <= 0)
        return FF_EINVAL;
    if (img->fmt != VIS_GRAY8 && img->fmt != VIS_RGB8)
        return FF_EINVAL;
    if (img->stride < (size_t)img->w * (size_t)img->fmt)
        return FF_EINVAL;
    if ((size_t)img->w > ((size_t)1 << 30) / (size_t)img->h)
        return FF_ETOOBIG;
    return FF_OK;
}

enum ff_err vis_detect_ex(const struct vis_detector *d, const struct vis_image *img,
                          const struct vis_detect_opts *opts, struct vis_detection *out,
                          size_t max, size_t *n_out)
{
    *n_out = 0;
    if (!d || (!out && max))
        return FF_EINVAL;
    enum ff_err e = check_image(img);
    if (e)
        return e;
    const int nlevels = (int)hog__num_levels(d, img->w, img->h);
    struct level *lv = ff_calloc((size_t)nlevels, sizeof *lv);
    struct cands *per = ff_calloc((size_t)nlevels, sizeof *per);
    uint8_t *buf = NULL;
    struct cands all = {0};
    if (!lv || !per) {
        e = FF_ENOMEM;
        goto out;
    }
    if ((e = build_pyramid(img, lv, nlevels, &buf)))
        goto out;
    struct job j = {.d = d, .lv = lv, .nlevels = nlevels, .channels = (int)img->fmt,
                    .adjust = opts ? opts->adjust_threshold : 0, .out = per};
    atomic_init(&j.next, 0);
    atomic_init(&j.err, 0);
    int nt = opts && opts->threads > 1 ? opts->threads : 1;
    if (nt > DET_MAX_THREADS)
        nt = DET_MAX_THREADS;
    if (nt > nlevels)
        nt = nlevels;
    pthread_t th[DET_MAX_THREADS];
    int started = 0;
    for (int i = 1; i < nt; i++)
        if (pthread_create(&th[started], NULL, worker, &j) == 0)
            started++;
    worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if ((e = (enum ff_err)atomic_load(&j.err)))
        goto out;
    for (int l = 0; l < nlevels; l++)
        for (size_t i = 0; i < per[l].n; i++)
            if (cands_push(&all, &per[l].v[i])) {
                e = FF_ENOMEM;
                goto out;
            }
    if (all.n > 1)
        qsort(all.v, all.n, sizeof *all.v, cand_cmp);
    /* greedy NMS; kept boxes are compacted to the front of all.v */
    size_t kept = 0;
    for (size_t i = 0; i < all.n; i++) {
        int hit = 0;
        for (size_t k = 0; k < kept && !hit; k++)
            hit = overlaps(d, &all.v[k].box, &all.v[i].box);
        if (!hit)
            all.v[kept++] = all.v[i];
    }
    for (size_t i = 0; i < kept && i < max; i++) {
        out[i].box = all.v[i].box;
        out[i].score = all.v[i].score;
        out[i].filter = all.v[i].filter;
        (*n_out)++;
    }
out:
    if (per)
        for (int l = 0; l < nlevels; l++)
            ff_free(per[l].v);
    ff_free(per);
    ff_free(lv);
    ff_free(buf);
    ff_free(all.v);
    return e;
}

enum ff_err vis_detect(const struct vis_detector *d, const struct vis_image *img,
                       struct vis_detection *out, size_t max, size_t *n_out)
{
    return vis_detect_ex(d, img, NULL, out, max, n_out);
}
