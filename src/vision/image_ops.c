#include "vision/image_ops.h"

#include <string.h>

#include "core/alloc.h"

enum ff_err vis_image_alloc(struct vis_image *img, int w, int h, enum vis_format fmt)
{
    memset(img, 0, sizeof *img);
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535 || (fmt != VIS_GRAY8 && fmt != VIS_RGB8))
        return FF_EINVAL;
    size_t stride = (size_t)w * (size_t)fmt;
    uint8_t *p = ff_calloc((size_t)h, stride);
    if (!p)
        return FF_ENOMEM;
    img->w = w;
    img->h = h;
    img->stride = stride;
    img->fmt = fmt;
    img->data = p;
    return FF_OK;
}

void vis_image_release(struct vis_image *img)
{
    if (!img)
        return;
    ff_free(img->data);
    memset(img, 0, sizeof *img);
}

enum ff_err vis_image_to_gray(const struct vis_image *src, struct vis_image *dst)
{
    enum ff_err e = vis_image_alloc(dst, src->w, src->h, VIS_GRAY8);
    if (e)
        return e;
    for (int y = 0; y < src->h; y++) {
        const uint8_t *s = src->data + (size_t)y * src->stride;
        uint8_t *d = dst->data + (size_t)y * dst->stride;
        if (src->fmt == VIS_GRAY8) {
            memcpy(d, s, (size_t)src->w);
            continue;
        }
        for (int x = 0; x < src->w; x++, s += 3)
            d[x] = (uint8_t)(((unsigned)s[0] + s[1] + s[2]) / 3);
    }
    return FF_OK;
}

static void put(struct vis_image *img, long x, long y, uint8_t r, uint8_t g, uint8_t b)
{
    if (x < 0 || y < 0 || x >= img->w || y >= img->h)
        return;
    uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->fmt;
    if (img->fmt == VIS_RGB8) {
        p[0] = r;
        p[1] = g;
        p[2] = b;
    } else {
        p[0] = (uint8_t)(((unsigned)r + g + b) / 3);
    }
}

void vis_draw_rect(struct vis_image *img, struct vis_rect rc, uint8_t r, uint8_t g, uint8_t b)
{
    long x0 = rc.left < -1 ? -1 : rc.left, x1 = rc.right > img->w ? img->w : rc.right;
    long y0 = rc.top < -1 ? -1 : rc.top, y1 = rc.bottom > img->h ? img->h : rc.bottom;
    for (long x = x0; x <= x1; x++) {
        put(img, x, rc.top, r, g, b);
        put(img, x, rc.bottom, r, g, b);
    }
    for (long y = y0; y <= y1; y++) {
        put(img, rc.left, y, r, g, b);
        put(img, rc.right, y, r, g, b);
    }
}

void vis_draw_dot(struct vis_image *img, long x, long y, int radius, uint8_t r, uint8_t g,
                  uint8_t b)
{
    if (radius < 0 || radius > 64)
        return;
    for (long dy = -radius; dy <= radius; dy++)
        for (long dx = -radius; dx <= radius; dx++)
            if (dx * dx + dy * dy <= (long)radius * radius)
                put(img, x + dx, y + dy, r, g, b);
}
