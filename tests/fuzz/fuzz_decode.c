/* Fuzz target: JPEG/PNG decoding (vis_decode) with EXIF orientation, RGB and
 * grey output, under a small pixel budget so huge headers are refused fast. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vision/decode.h"
#include "vision/image_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[200];
    struct vis_image img;
    struct vis_decode_opts o = {.max_pixels = 1u << 20,
                                .fmt = (size & 1) ? VIS_GRAY8 : VIS_RGB8};
    enum ff_err e = vis_decode(data, size, &o, &img, NULL, err, sizeof err);
    if (e != FF_OK) {
        if (img.data || !memchr(err, 0, sizeof err) || !err[0])
            __builtin_trap(); /* failure leaves no pixels and says why */
        return 0;
    }
    if (img.w <= 0 || img.h <= 0 || (uint64_t)img.w * (uint64_t)img.h > o.max_pixels)
        __builtin_trap();
    /* touch the first and last byte so ASan checks the whole allocation */
    volatile uint8_t sink = img.data[0];
    sink = img.data[(size_t)(img.h - 1) * img.stride + (size_t)img.w * img.fmt - 1];
    (void)sink;
    vis_image_release(&img);
    return 0;
}
