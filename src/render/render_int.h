/* render_int.h - internals shared by the ff_render sources (not a public API). */
#ifndef FF_RENDER_INT_H
#define FF_RENDER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Builds the colour tables (idempotent, thread-safe). */
void rnd_colour_init(void);
/* 256 floats: sRGB byte -> linear. */
const float *rnd_lin_table(void);
/* 65536 bytes: round(linear * 65535) -> sRGB byte. */
const uint8_t *rnd_srgb_table(void);

/* Index into rnd_srgb_table for a linear value (clamped). */
static inline unsigned rnd_lin_index(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 65535;
    return (unsigned)(v * 65535.0f + 0.5f);
}

/* ---- coverage rasterizer (raster.c) ----------------------------------------- */

struct rnd_pt {
    double x, y;
};

/* A coverage buffer: w x h floats in [0, 1] (owned by the caller). */
struct rnd_cov {
    int w, h;
    float *c;
};

#define RND_SUBSAMPLES 16

/* Adds the nonzero-winding fill of ncont closed contours (points in raster
 * coordinates) to cov, which the caller zeroed: exact horizontal coverage,
 * RND_SUBSAMPLES sub-scanlines per row. Scratch memory from ff_malloc. */
enum ff_err rnd_fill(struct rnd_cov *cov, const struct rnd_pt *const *cont,
                     const size_t *npts, size_t ncont) FF_MUST_CHECK;

#endif
