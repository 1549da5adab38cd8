/* vision.h - the vision engine's facade: what the try-on service calls.
 *
 *   struct vis_engine *e;
 *   vis_engine_load(NULL, &e, err, sizeof err);       // once, at start-up
 *   struct vis_result r;
 *   vis_analyse(e, &img, &r);                          // any thread, any time
 *   ... r.faces[i].box, .pts, .pose, .measure, .quality ...
 *   vis_result_release(&r);
 *
 * The engine is read-only after load and shared by all threads; each call
 * allocates its own scratch and result memory. */
#ifndef FF_VISION_VISION_H
#define FF_VISION_VISION_H

#include <stddef.h>

#include "core/err.h"
#include "vision/detect.h"
#include "vision/face.h"
#include "vision/image.h"
#include "vision/shape.h"

#define VIS_MAX_FACES 16
#define VIS_MIN_SIDE 32 /* smaller images cannot hold a detectable face */

struct vis_engine; /* opaque */

struct vis_engine_opts {
    const char *detector_path; /* NULL: the detector built into the binary */
    const char *landmark_path; /* NULL: $FRAMEFIT_LANDMARK_MODEL, else Debian's path */
    const char *cache_dir;     /* see struct vis_shape_opts */
};

/* Loads both models. *out is caller-owned (vis_engine_free). */
enum ff_err vis_engine_load(const struct vis_engine_opts *opts, struct vis_engine **out,
                            char *err, size_t errlen) FF_MUST_CHECK;
void vis_engine_free(struct vis_engine *e);
const struct vis_shape_model *vis_engine_shape(const struct vis_engine *e);
const struct vis_detector *vis_engine_detector(const struct vis_engine *e);

struct vis_face {
    struct vis_rect box;       /* detector box (dlib convention) */
    double det_score;          /* detector confidence; 0 for a caller-given box */
    int det_filter;            /* detector sub-filter, -1 for a caller-given box */
    unsigned n_pts;            /* the model's landmark count (68 for the default) */
    struct vis_point *pts;     /* n_pts points, whole pixels as dlib */
    int has_geometry;          /* 1 when n_pts == 68: pose/measure/quality are set */
    struct vis_pose pose;
    struct vis_measure measure;
    struct vis_quality quality;
};

struct vis_result {
    int img_w, img_h;
    size_t n_faces;
    struct vis_face *faces; /* owned by the result */
    void *mem_;             /* internal */
};

/* Recall fallback (product policy; vis_detect itself stays dlib-exact).
 * vis_analyse runs the detector once with adjust_threshold VIS_RECALL_ADJUST.
 * Detections scoring >= 0 are exactly dlib's faces (same boxes, scores, order).
 * Of the candidates scoring in [VIS_RECALL_ADJUST, 0), at most one is added,
 * after the confident faces, with VIS_Q_LOW_CONFIDENCE set in its quality:
 *   - the best one when no detection scores >= 0 (a selfie holds a face), or
 *   - the best one wider than every confident face (the shopper is normally the
 *     largest face in the frame; a larger, turned face is likely theirs and the
 *     confident one a bystander).
 * -0.2 was chosen by measurement on the dev and speed photos (docs/vision.md). */
#define VIS_RECALL_ADJUST (-0.2)

/* Detects faces (at most VIS_MAX_FACES, best first, then the fallback face if
 * any) and analyses each. Images under VIS_MIN_SIDE on a side give FF_EINVAL.
 * No face is FF_OK with n_faces == 0. Release the result with vis_result_release. */
enum ff_err vis_analyse(const struct vis_engine *e, const struct vis_image *img,
                        struct vis_result *out) FF_MUST_CHECK;

/* The same for one caller-given face box (no detection). */
enum ff_err vis_analyse_box(const struct vis_engine *e, const struct vis_image *img,
                            struct vis_rect box, struct vis_result *out) FF_MUST_CHECK;

void vis_result_release(struct vis_result *r);

/* The licence note of dlib's 68-point model (printed by `framefit vision info`). */
extern const char vis_landmark_licence_note[];

#endif
