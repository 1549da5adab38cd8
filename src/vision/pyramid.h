/* pyramid.h - dlib's pyramid_down<6> image resampling (module-private).
 *
 * One level down is floor(5*h/6) x floor(5*w/6), bilinear, with dlib's exact
 * arithmetic: the grey path rounds (value + 0.5) in its SIMD columns and
 * truncates in the last columns, the RGB path truncates; both are reproduced. */
#ifndef FF_VISION_PYRAMID_H
#define FF_VISION_PYRAMID_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Size of the next level: out_w = 5*w/6, out_h = 5*h/6 (integer division). */
void pyr__down_size(int w, int h, int *out_w, int *out_h);

/* Resamples src (w x h, channels 1 or 3, stride bytes per row) into dst
 * (dst_w x dst_h as given by pyr__down_size, dst_stride bytes per row).
 * Returns FF_ENOMEM if its small column tables cannot be allocated. */
enum ff_err pyr__down(const uint8_t *src, int w, int h, size_t stride, int channels,
                      uint8_t *dst, int dst_w, int dst_h, size_t dst_stride);

#endif
