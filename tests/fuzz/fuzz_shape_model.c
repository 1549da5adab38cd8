/* Fuzz target: dlib shape_predictor parser (vis_shape_model_from_dlib). A model
 * that loads also predicts once on a small synthetic image from a box that
 * reaches outside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vision/shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vis_shape_model *m = NULL;
    char err[200];
    if (vis_shape_model_from_dlib(data, size, &m, err, sizeof err) != FF_OK) {
        if (m || !memchr(err, 0, sizeof err) || !err[0])
            __builtin_trap();
        return 0;
    }
    static uint8_t px[64 * 48 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 29 + (i / 192) * 7);
    struct vis_image img = {64, 48, 64 * 3, VIS_RGB8, px};
    unsigned n = vis_shape_model_parts(m);
    struct vis_point *pts = malloc(n * sizeof *pts);
    struct vis_rect box = {-5, 3, 60, 50};
    if (pts && vis_shape_predict(m, &img, box, pts) != FF_OK)
        __builtin_trap();
    free(pts);
    vis_shape_model_free(m);
    return 0;
}
