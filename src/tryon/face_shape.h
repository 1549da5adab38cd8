/* face_shape.h - face shape and millimetre measurements from 68 landmarks.
 *
 * Pure functions (no allocation, no I/O). Points are iBUG 300-W order in image
 * pixels (vision/face.h). See face_shape.c for the rules, the prototypes and
 * the scale model, which are documented there next to the numbers. */
#ifndef FF_TRYON_FACE_SHAPE_H
#define FF_TRYON_FACE_SHAPE_H

#include "vision/image.h"

enum tryon_face_shape {
    TRYON_OVAL, TRYON_ROUND, TRYON_SQUARE, TRYON_OBLONG, TRYON_HEART, TRYON_DIAMOND,
    TRYON_TRIANGLE, TRYON_SHAPE_COUNT
};
/* Same order and names as the catalog's enum cat_face ("oblong" is the catalog's
 * name for rectangle/oblong). */
const char *tryon_face_shape_name(int s);

/* Geometry of one face, in pixels of the (de-rotated) face frame and as ratios. */
struct tryon_face_geom {
    double ipd_px;            /* between the eye centres */
    double eye_width_px;      /* mean of both eyes' corner-to-corner widths (36-39, 42-45) */
    double face_width_px;     /* widest of temples (0-16) and cheekbones (1-15) */
    double cheek_width_px;    /* 1-15 */
    double forehead_width_px; /* estimate: outer brow ends 17-26 (no hairline in 68 points) */
    double jaw_width_px;      /* 4-12, at the jaw angles */
    double chin_width_px;     /* 6-10 */
    double face_length_px;    /* estimate: 1.5 x brow line to chin 8 (facial thirds) */
    double length_ratio;      /* face_length / face_width */
    double forehead_ratio;    /* forehead_width / face_width */
    double jaw_ratio;         /* jaw_width / face_width */
    double chin_ratio;        /* chin_width / face_width */
    double jaw_angle_deg;     /* mean interior angle at 4 and 12 (1-4-8, 15-12-8) */
    double chin_angle_deg;    /* interior angle at the chin 6-8-10 */
};

struct tryon_shape_result {
    enum tryon_face_shape shape;  /* best */
    enum tryon_face_shape second; /* runner-up */
    double confidence;            /* probability of the best (softmax), 0..1 */
    double margin;                /* best minus runner-up probability */
    double prob[TRYON_SHAPE_COUNT];
    double z[5];                  /* the features in population standard deviations:
                                     length, forehead, jaw, jaw angle, chin */
};

/* Measures the face. Returns -1 for degenerate points (coincident eyes or
 * zero width), else 0. */
int tryon_face_geom(const struct vis_point pts[68], struct tryon_face_geom *out);

/* Classifies a measured face. */
void tryon_face_shape_classify(const struct tryon_face_geom *g, struct tryon_shape_result *out);

/* One human sentence on the features behind the result, into buf. */
void tryon_face_shape_explain(const struct tryon_face_geom *g, const struct tryon_shape_result *r,
                              char *buf, size_t len);

/* ---- scale ------------------------------------------------------------------ */

/* The 68 landmarks carry no absolute size. The scale (mm per pixel at the
 * eyes) combines two rulers in log space, weighted by their variances:
 *   1. a prior on the adult inter-pupillary distance: 63 mm, SD 3.5 mm (5.6 %);
 *   2. the eye (palpebral fissure) widths as the 68-point model marks the eye
 *      corners: TRYON_EYE_WIDTH_MM, SD 10 % (population spread ~6 % plus
 *      landmark error on a short distance).
 * The combined relative error (1 SD) is TRYON_SCALE_REL_ERR; the pupillary
 * distance inherits it (about +-3 mm) and mostly reflects the prior, shifted
 * by what the eyes say. An iris-based ruler would be better; see face_shape.c. */
#define TRYON_IPD_PRIOR_MM 63.0
#define TRYON_IPD_PRIOR_REL 0.056
#define TRYON_EYE_WIDTH_MM 24.3
#define TRYON_EYE_WIDTH_REL 0.10
#define TRYON_SCALE_REL_ERR 0.049

struct tryon_scale {
    double mm_per_px;
    double rel_error;  /* 1 SD, relative */
    double ipd_mm;     /* pupillary distance estimate */
    double eye_only_mm_per_px; /* ruler 2 alone (for the record) */
};

void tryon_scale_estimate(const struct tryon_face_geom *g, double yaw_deg, struct tryon_scale *out);

#endif
