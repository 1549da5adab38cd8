/* image.h - caller-owned image views for the vision engine.
 *
 * vision never allocates pixel memory behind the caller's back: functions take
 * views (w, h, stride, format, data) and, where they need scratch memory, a
 * caller-provided or explicitly created workspace. */
#ifndef FF_VISION_IMAGE_H
#define FF_VISION_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum vis_format {
    VIS_GRAY8 = 1, /* one byte per pixel */
    VIS_RGB8 = 3,  /* r, g, b bytes per pixel */
};

struct vis_image {
    int w, h;
    size_t stride;        /* bytes from one row to the next (>= w * format) */
    enum vis_format fmt;  /* bytes per pixel == (int)fmt */
    uint8_t *data;
};

/* A rectangle in dlib's inclusive convention: right = left + width - 1,
 * bottom = top + height - 1. Coordinates may lie outside the image. */
struct vis_rect {
    long left, top, right, bottom;
};

struct vis_point {
    double x, y;
};

#endif
