/* fuzz_frame_png.c - custom frame uploads (staff, but still hostile input): the RGBA
 * PNG decoder, then anchors taken from the input's first 8 bytes, a rescale and a
 * composite when the upload is accepted. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render.h"
#include "vision/image_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    double ll[2] = {data[0] % 64, data[1] % 64}, lr[2] = {data[2] % 255, data[3] % 64};
    double sep = 30 + data[4] % 90;
    double ppm = 0.2 + (data[5] % 40) / 10.0;
    data += 8;
    size -= 8;
    struct rnd_rgba img;
    char err[160];
    if (rnd_png_rgba_decode(data, size, &img, err, sizeof err))
        return 0;
    if (img.w < 1 || img.h < 1 || !img.data || img.w > RND_FRAME_PNG_MAX_W)
        __builtin_trap();
    struct rnd_frame f, small;
    enum ff_err e = rnd_frame_from_rgba(&img, ll, lr, sep, &f, err, sizeof err);
    ff_free(img.data);
    if (e)
        return 0;
    if (rnd_frame_rescale(&f, ppm, &small) == FF_OK) {
        struct vis_image photo;
        if (vis_image_alloc(&photo, 96, 64, VIS_RGB8) == FF_OK) {
            struct rnd_face face = {{30, 30}, {66, 31}, 10, -5, 0, 63.0 / 36};
            if (rnd_compose(&photo, &small, &face)) {
                /* refusing is fine */
            }
            vis_image_release(&photo);
        }
        rnd_frame_release(&small);
    }
    rnd_frame_release(&f);
    return 0;
}
