/* hog.h - internals of the HOG face detector (module-private to ff_vision).
 *
 * The model (struct vis_detector), dlib's FHOG feature extraction and the
 * filter kernels. Planes are float, row-major, with a row stride in floats. */
#ifndef FF_VISION_HOG_H
#define FF_VISION_HOG_H

#include <stddef.h>
#include <stdint.h>

#include "vision/detect.h"

#define HOG_PLANES 31
#define HOG_CELL 8
#define HOG_FILTER 10 /* filter rows and columns (80 px window / 8 px cells) */
#define HOG_PAD_LO 4  /* (HOG_FILTER-1)/2: valid cells start here in a padded plane */

/* One rank-1 part of a separable filter: plane, then row (x) and column (y) taps. */
struct hog_part {
    int plane;
    float row[HOG_FILTER];
    float col[HOG_FILTER];
};

struct hog_filter {
    double bias;                                     /* dlib's threshold, w[3100] */
    float w[HOG_PLANES][HOG_FILTER][HOG_FILTER];     /* full filter, [plane][y][x] */
    int nparts;                                      /* rank-1 parts, <= 31*10 */
    struct hog_part *parts;                          /* dlib's order: by plane, then sigma desc */
};

struct vis_detector {
    unsigned long max_levels;           /* max_pyramid_levels */
    unsigned long min_level_w, min_level_h;
    double iou_thresh, cover_thresh;    /* non-max suppression (test_box_overlap) */
    size_t nfilters;
    struct hog_filter *filters;
};

/* A padded FHOG feature map: HOG_PLANES planes of rows x cols floats, each
 * plane starting at data + p * plane_size, rows stride floats apart. The valid
 * cells are rows [HOG_PAD_LO, rows-HOG_PAD_LO-1), the rest is zero. */
struct hog_map {
    int rows, cols;
    size_t stride;      /* floats per row (>= cols, multiple of 16) */
    size_t plane_size;  /* floats per plane */
    float *data;        /* owned by whoever filled it (ff_malloc) */
};

/* Computes dlib's FHOG of an 8-bit image into m with filter padding 10 (dlib:
 * extract_fhog_features(img, hog, 8, 10, 10)). The image is given as planes:
 * nch == 1 (grey) or nch == 3 (r, g, b planes; dlib's rgb_pixel behaviour, the
 * channel with the strongest gradient wins), each w x h with the same stride.
 * m->data is allocated (ff_malloc); the caller frees it. An image too small
 * gives rows = cols = 0 and data = NULL. */
enum ff_err hog__extract(const uint8_t *const *planes, int nch, int w, int h, size_t stride,
                         struct hog_map *m);

/* Highest instruction set the detector may use: 0 portable C, 2 AVX2(+FMA),
 * 3 AVX-512F; each is still only used if the CPU has it. Default 3. Tests lower
 * it to check that every path gives the same results; not for concurrent use. */
extern int det__cpu_level;

/* Number of pyramid levels dlib uses for a w x h image (pyramid_down<6>). */
unsigned long hog__num_levels(const struct vis_detector *d, long w, long h);

#endif
