/* detect_int.h - detector internals shared by detect.c and detect_filter.c. */
#ifndef FF_VISION_DETECT_INT_H
#define FF_VISION_DETECT_INT_H

#include "vision/hog.h"

/* Filter responses of one level: nfilters maps of oh x ow floats (row stride
 * `stride`), map f at data + f*stride*oh. Output (i,j) is the filter placed
 * with its top-left cell at feature cell (i,j), i.e. dlib's saliency at
 * (r,c) = (i+5, j+5). */
struct det_scores {
    int oh, ow;
    size_t stride;
    float *data; /* ff_malloc'd, caller frees */
};

enum ff_err det__level_scores(const struct vis_detector *d, const struct hog_map *m,
                              struct det_scores *s);

#endif
