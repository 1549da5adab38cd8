/* Fuzz target: dlib HOG detector model loader (vis_detector_load_mem). A model
 * that loads is also run once on a small synthetic image. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vision/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vis_detector *d = NULL;
    char err[200];
    if (vis_detector_load_mem(data, size, &d, err, sizeof err) != FF_OK) {
        if (d || !memchr(err, 0, sizeof err) || !err[0])
            __builtin_trap(); /* failure must leave no detector and say why */
        return 0;
    }
    static uint8_t px[96 * 90];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 37 + (i / 96) * 11);
    struct vis_image img = {96, 90, 96, VIS_GRAY8, px};
    struct vis_detection det[8];
    size_t n = 0;
    (void)vis_detect(d, &img, det, 8, &n);
    if (n > 8)
        __builtin_trap();
    vis_detector_free(d);
    return 0;
}
