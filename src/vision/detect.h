/* detect.h - HOG face detector compatible with dlib's frontal_face_detector.
 *
 * Loads dlib's serialized object_detector<scan_fhog_pyramid<pyramid_down<6>>>
 * (see shared/docs/dlib-model-formats.md, section 4.1) and finds faces with the
 * same boxes and scores as dlib 19.24: same FHOG features, same 5/6 image
 * pyramid, same filters and the same non-max suppression. The boxes are in
 * dlib's convention, which is what the 68-point landmark model was trained on.
 *
 * Thread safety: a loaded detector is read-only; any number of threads may call
 * vis_detect() on it at once. Each call allocates its own scratch memory. */
#ifndef FF_VISION_DETECT_H
#define FF_VISION_DETECT_H

#include <stddef.h>

#include "core/err.h"
#include "vision/image.h"

struct vis_detector; /* opaque, read-only after load, thread-safe */

/* Load a serialized dlib HOG detector from a file. On success *out is a new
 * detector owned by the caller (free with vis_detector_free). On failure *out is
 * NULL, the return value says why (FF_EIO, FF_ECORRUPT for truncated or malformed
 * bytes, FF_EUNSUPPORTED for a valid dlib file of another kind, FF_ENOMEM) and,
 * if err is not NULL, a one-line message is written to err (errlen bytes). */
enum ff_err vis_detector_load(const char *path, struct vis_detector **out, char *err,
                              size_t errlen);

/* The same from bytes in memory (the bytes are not kept after the call). */
enum ff_err vis_detector_load_mem(const void *bytes, size_t len, struct vis_detector **out,
                                  char *err, size_t errlen);

/* Load dlib's frontal face detector that is built into the binary (the bytes of
 * models/dlib_frontal_face_detector.dat, Boost Software License 1.0). */
enum ff_err vis_detector_load_default(struct vis_detector **out, char *err, size_t errlen);

/* The embedded model bytes (static storage, never freed) and their length. */
const void *vis_detector_default_model(size_t *len);

/* Frees a detector; NULL is a no-op. */
void vis_detector_free(struct vis_detector *d);

/* Number of filters (sub-detectors) in the model: 5 for dlib's face model
 * (front, left, right, front rotated left, front rotated right). */
size_t vis_detector_num_filters(const struct vis_detector *d);

struct vis_detection {
    struct vis_rect box; /* dlib's inclusive convention, may reach outside the image */
    double score;        /* response minus the filter's threshold (>= adjust) */
    int filter;          /* which filter fired, 0 .. num_filters-1 */
};

/* Detect faces in a VIS_GRAY8 or VIS_RGB8 image (dlib semantics: RGB uses the
 * colour channel with the strongest gradient, as dlib does for rgb_pixel
 * images). Writes up to max detections to out, best score first, and sets
 * *n_out to the number written (never more than max). Images smaller than the
 * detection window give zero detections and FF_OK. Returns FF_EINVAL for a bad
 * image view, FF_ENOMEM if scratch memory cannot be had. */
enum ff_err vis_detect(const struct vis_detector *d, const struct vis_image *img,
                       struct vis_detection *out, size_t max, size_t *n_out);

struct vis_detect_opts {
    double adjust_threshold; /* added to each filter's threshold (dlib's adjust_threshold); 0 */
    int threads;             /* worker threads across pyramid levels; 0 or 1 = calling thread */
};

/* vis_detect with options; opts may be NULL (the defaults above). */
enum ff_err vis_detect_ex(const struct vis_detector *d, const struct vis_image *img,
                          const struct vis_detect_opts *opts, struct vis_detection *out,
                          size_t max, size_t *n_out);

#endif
