/* face.h - what the try-on needs from 68 landmarks: head pose, measurements,
 * and a photo-quality verdict a shopper can act on.
 *
 * Conventions: image pixels, x to the right, y down. "Right eye" is the
 * subject's right eye, which is on the LEFT of the image (iBUG 300-W points
 * 36-41); "left eye" is points 42-47. All functions are pure (no allocation). */
#ifndef FF_VISION_FACE_H
#define FF_VISION_FACE_H

#include <stddef.h>

#include "vision/image.h"

#define VIS_68 68

/* Head pose in degrees, from a scaled-orthographic fit of a generic 3-D face
 * (8 landmarks: eye corners, nose tip, mouth corners, chin) with R = Rz(roll)
 * Ry(yaw) Rx(pitch):
 *   yaw   > 0: the nose points towards the image's right (subject turned to
 *              their left); 0 when facing the camera.
 *   pitch > 0: the nose points down (looking down).
 *   roll  > 0: the eye line rises towards the image's right (head tilted
 *              counter-clockwise as seen in the picture). */
struct vis_pose {
    double yaw, pitch, roll;
    double fit_rms; /* RMS residual of the fit in units of the inter-ocular distance */
};

struct vis_measure {
    struct vis_point eye_right, eye_left; /* eye centres (means of the 6 eye points) */
    double ipd_px;                        /* distance between the eye centres */
    double face_width_temple_px;          /* points 0-16 */
    double face_width_cheek_px;           /* points 1-15, at the cheekbones */
    double face_width_jaw_px;             /* points 4-12 */
    double face_height_px;                /* brow midpoint (19, 24) to chin (8) */
    struct vis_point nose_bridge;         /* point 27, where the frame bridge sits */
    double eye_open_right, eye_open_left; /* eye aspect ratios; ~0.3 open, < 0.15 closed */
    double mm_per_px;                     /* 63 mm (adult mean IPD) / ipd_px: an estimate */
};

enum vis_quality_flags {
    VIS_Q_BLURRY = 1 << 0,       /* variance of the Laplacian in the face too low */
    VIS_Q_TOO_SMALL = 1 << 1,    /* face under VIS_Q_MIN_IPD px between the eyes */
    VIS_Q_TOO_TURNED = 1 << 2,   /* |yaw|, |pitch| or |roll| over the limits */
    VIS_Q_EYES_CLOSED = 1 << 3,  /* both eye aspect ratios under 0.15 */
    VIS_Q_EYES_NOT_FOUND = 1 << 4, /* eye points outside the image or degenerate */
    VIS_Q_CUT_OFF = 1 << 5,      /* the face box reaches far outside the image */
    VIS_Q_TOO_DARK = 1 << 6,     /* mean face brightness under 40 of 255 */
    VIS_Q_LOW_CONFIDENCE = 1 << 7, /* found only by vis_analyse's recall fallback (below
                                      the detector's threshold): check before trusting */
};
#define VIS_Q_NFLAGS 8
#define VIS_Q_MIN_IPD 40.0
#define VIS_Q_MAX_YAW 25.0
#define VIS_Q_MAX_PITCH 25.0
#define VIS_Q_MAX_ROLL 20.0
#define VIS_Q_MIN_SHARPNESS 80.0

struct vis_quality {
    double score;      /* 0 (unusable) .. 1 (good) */
    unsigned flags;    /* enum vis_quality_flags */
    double sharpness;  /* variance of the Laplacian on the face, resampled to ~128 px wide */
    double brightness; /* mean grey level in the face box */
};

/* Pose from 68 points; returns 0, or -1 if the points are degenerate. */
int vis_pose_from_68(const struct vis_point *pts, struct vis_pose *out);

void vis_measure_from_68(const struct vis_point *pts, struct vis_measure *out);

/* Judges one face. img is the analysed image, box the face box. */
void vis_quality_judge(const struct vis_image *img, struct vis_rect box,
                       const struct vis_point *pts, const struct vis_pose *pose,
                       const struct vis_measure *m, struct vis_quality *out);

/* Short stable name of one flag ("blurry") and advice for the shopper. */
const char *vis_quality_flag_name(unsigned flag);
const char *vis_quality_flag_advice(unsigned flag);

#endif
