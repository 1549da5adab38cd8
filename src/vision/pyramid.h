/* pyramid.h - dlib's pyramid_down<6> image resampling (module-private).
 *
 * One level down is floor(5*h/6) x floor(5*w/6), bilinear, with dlib's exact
 * arithmetic: for grey images its SIMD columns round (v + 0.5) and its last
 * columns truncate; for RGB images every column truncates. Channels are
 * resampled independently, so RGB is handled as three planes. */
#ifndef FF_VISION_PYRAMID_H
#define FF_VISION_PYRAMID_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Size of the next level: out_w = 5*w/6, out_h = 5*h/6 (integer division). */
void pyr__down_size(int w, int h, int *out_w, int *out_h);

/* Resamples nplanes planes of w x h bytes (src[k], stride bytes per row) into
 * dst[k] (dst_w x dst_h from pyr__down_size, dst_stride bytes per row).
 * rgb selects dlib's RGB rounding (truncate) instead of the grey one.
 * Returns FF_ENOMEM if its small column tables cannot be allocated. */
enum ff_err pyr__down(const uint8_t *const *src, int nplanes, int w, int h, size_t stride,
                      int rgb, uint8_t *const *dst, int dst_w, int dst_h, size_t dst_stride);

#endif
