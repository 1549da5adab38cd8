/* vision.c - the facade: detector + landmark model, analysis of one image. */
#include "vision/vision.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

const char vis_landmark_licence_note[] =
    "dlib's shape_predictor_68_face_landmarks.dat (Debian libdlib-data) was trained on the "
    "iBUG 300-W data set, whose licence excludes commercial use. Before using it in a "
    "store, get legal advice or set FRAMEFIT_LANDMARK_MODEL to a dlib shape-predictor "
    "model you have the rights to (any point count loads; pose and measurements need 68).";

struct vis_engine {
    struct vis_detector *det;
    struct vis_shape_model *shape;
};

enum ff_err vis_engine_load(const struct vis_engine_opts *opts, struct vis_engine **out,
                            char *err, size_t errlen)
{
    *out = NULL;
    struct vis_engine *e = ff_calloc(1, sizeof *e);
    if (!e) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return FF_ENOMEM;
    }
    enum ff_err r;
    if (opts && opts->detector_path)
        r = vis_detector_load(opts->detector_path, &e->det, err, errlen);
    else
        r = vis_detector_load_default(&e->det, err, errlen);
    if (!r) {
        struct vis_shape_opts so = {opts ? opts->landmark_path : NULL,
                                    opts ? opts->cache_dir : NULL};
        r = vis_shape_model_load(&so, &e->shape, err, errlen);
    }
    if (r) {
        vis_engine_free(e);
        return r;
    }
    *out = e;
    return FF_OK;
}

void vis_engine_free(struct vis_engine *e)
{
    if (!e)
        return;
    vis_detector_free(e->det);
    vis_shape_model_free(e->shape);
    ff_free(e);
}

const struct vis_shape_model *vis_engine_shape(const struct vis_engine *e) { return e->shape; }
const struct vis_detector *vis_engine_detector(const struct vis_engine *e) { return e->det; }

void vis_result_release(struct vis_result *r)
{
    if (!r)
        return;
    ff_free(r->mem_);
    memset(r, 0, sizeof *r);
}

static int valid_image(const struct vis_image *img)
{
    return img && img->data && (img->fmt == VIS_GRAY8 || img->fmt == VIS_RGB8) && img->w > 0 &&
           img->h > 0 && img->stride >= (size_t)img->w * (size_t)img->fmt;
}

/* Allocates room for n faces and their points in one block. */
static enum ff_err result_init(struct vis_result *r, const struct vis_image *img, size_t n,
                               unsigned parts)
{
    memset(r, 0, sizeof *r);
    r->img_w = img->w;
    r->img_h = img->h;
    if (!n)
        return FF_OK;
    size_t bytes = n * (sizeof(struct vis_face) + parts * sizeof(struct vis_point));
    uint8_t *mem = ff_calloc(1, bytes);
    if (!mem)
        return FF_ENOMEM;
    r->mem_ = mem;
    r->faces = (struct vis_face *)mem;
    struct vis_point *pts = (struct vis_point *)(mem + n * sizeof(struct vis_face));
    for (size_t i = 0; i < n; i++) {
        r->faces[i].n_pts = parts;
        r->faces[i].pts = pts + i * parts;
    }
    r->n_faces = n;
    return FF_OK;
}

static enum ff_err analyse_face(const struct vis_engine *e, const struct vis_image *img,
                                struct vis_face *f)
{
    enum ff_err r = vis_shape_predict(e->shape, img, f->box, f->pts);
    if (r)
        return r;
    if (f->n_pts != VIS_68)
        return FF_OK;
    f->has_geometry = 1;
    vis_measure_from_68(f->pts, &f->measure);
    if (vis_pose_from_68(f->pts, &f->pose))
        memset(&f->pose, 0, sizeof f->pose);
    vis_quality_judge(img, f->box, f->pts, &f->pose, &f->measure, &f->quality);
    return FF_OK;
}

/* Picks the recall-fallback candidate (see VIS_RECALL_ADJUST in vision.h) among
 * det[nconf..n), sorted best first; returns its index or -1. */
static long recall_pick(const struct vis_detection *det, size_t nconf, size_t n)
{
    if (nconf >= VIS_MAX_FACES)
        return -1;
    long widest = 0;
    for (size_t i = 0; i < nconf; i++) {
        long w = det[i].box.right - det[i].box.left + 1;
        widest = w > widest ? w : widest;
    }
    for (size_t i = nconf; i < n; i++)
        if (!nconf || det[i].box.right - det[i].box.left + 1 > widest)
            return (long)i;
    return -1;
}

enum ff_err vis_analyse(const struct vis_engine *e, const struct vis_image *img,
                        struct vis_result *out)
{
    memset(out, 0, sizeof *out);
    if (!e || !valid_image(img))
        return FF_EINVAL;
    if (img->w < VIS_MIN_SIDE || img->h < VIS_MIN_SIDE)
        return FF_EINVAL;
    /* One pass at the lowered threshold: greedy NMS visits candidates best first, so
     * those scoring >= 0 are kept or dropped exactly as in a default pass. */
    struct vis_detection det[4 * VIS_MAX_FACES];
    const struct vis_detect_opts dopt = {.adjust_threshold = VIS_RECALL_ADJUST};
    size_t n = 0, nconf = 0;
    enum ff_err r = vis_detect_ex(e->det, img, &dopt, det, sizeof det / sizeof *det, &n);
    if (r)
        return r;
    while (nconf < n && det[nconf].score >= 0)
        nconf++;
    if (nconf > VIS_MAX_FACES)
        nconf = VIS_MAX_FACES;
    long low = recall_pick(det, nconf, n);
    if (low >= 0)
        det[nconf] = det[low];
    size_t nout = nconf + (low >= 0);
    r = result_init(out, img, nout, vis_shape_model_parts(e->shape));
    for (size_t i = 0; !r && i < nout; i++) {
        struct vis_face *f = &out->faces[i];
        f->box = det[i].box;
        f->det_score = det[i].score;
        f->det_filter = det[i].filter;
        r = analyse_face(e, img, f);
        if (i >= nconf) {
            f->quality.flags |= VIS_Q_LOW_CONFIDENCE;
            f->quality.score *= 0.5;
        }
    }
    if (r)
        vis_result_release(out);
    return r;
}

enum ff_err vis_analyse_box(const struct vis_engine *e, const struct vis_image *img,
                            struct vis_rect box, struct vis_result *out)
{
    memset(out, 0, sizeof *out);
    const long lim = 1L << 24; /* far outside any image, far from overflow */
    if (!e || !valid_image(img) || box.right < box.left || box.bottom < box.top ||
        box.left < -lim || box.top < -lim || box.right > lim || box.bottom > lim)
        return FF_EINVAL;
    if (img->w < VIS_MIN_SIDE || img->h < VIS_MIN_SIDE)
        return FF_EINVAL;
    enum ff_err r = result_init(out, img, 1, vis_shape_model_parts(e->shape));
    if (r)
        return r;
    out->faces[0].box = box;
    out->faces[0].det_filter = -1;
    r = analyse_face(e, img, &out->faces[0]);
    if (r)
        vis_result_release(out);
    return r;
}
