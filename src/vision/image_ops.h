/* image_ops.h - owning images and small pixel operations for the vision engine.
 * (image.h holds the view types; this adds helpers that allocate.) */
#ifndef FF_VISION_IMAGE_OPS_H
#define FF_VISION_IMAGE_OPS_H

#include "core/err.h"
#include "vision/image.h"

/* Allocates w*h pixels of fmt (zeroed, stride = w*fmt) into img; the caller
 * frees img->data with vis_image_release. Refuses sides <= 0 or > 65535. */
enum ff_err vis_image_alloc(struct vis_image *img, int w, int h, enum vis_format fmt) FF_MUST_CHECK;

/* Frees pixels allocated by vis_image_alloc or vis_decode*, and zeroes img. */
void vis_image_release(struct vis_image *img);

/* A new grey image from src: RGB becomes (r+g+b)/3, truncated (dlib's rule),
 * grey is copied. dst is caller-owned (vis_image_release). */
enum ff_err vis_image_to_gray(const struct vis_image *src, struct vis_image *dst) FF_MUST_CHECK;

/* Drawing for debug output: a 1-px rectangle outline and a filled dot. Both clip. */
void vis_draw_rect(struct vis_image *img, struct vis_rect r, uint8_t red, uint8_t green,
                   uint8_t blue);
void vis_draw_dot(struct vis_image *img, long x, long y, int radius, uint8_t red, uint8_t green,
                  uint8_t blue);

#endif
