/* test_frame_png.c - custom frame images: RGBA PNG decoding (hostile input),
 * anchors, rescaling, and rendering with a given frame. */
#include <math.h>

#include "core/alloc.h"
#include "harness.h"
#include "render/render.h"
#include "vision/image_ops.h"

static struct rnd_frame_spec spec = {RND_OVAL, "navy", 50, 38, 20, 140};

static void generated_png(uint8_t **png, size_t *n, struct rnd_frame *f)
{
    if (rnd_frame_generate(&spec, 8, f, NULL, 0) || rnd_encode_rgba_png(&f->img, png, n))
        exit(1);
}

TEST(decode_round_trip)
{
    struct rnd_frame f;
    uint8_t *png;
    size_t n;
    generated_png(&png, &n, &f);
    struct rnd_rgba img;
    char err[160];
    ASSERT_OK(rnd_png_rgba_decode(png, n, &img, err, sizeof err));
    ASSERT(img.w == f.img.w && img.h == f.img.h);
    for (int y = 0; y < img.h; y++)
        ASSERT(!memcmp(img.data + (size_t)y * img.stride, f.img.data + (size_t)y * f.img.stride,
                       (size_t)img.w * 4));
    ff_free(img.data);
    ff_free(png);
    rnd_frame_release(&f);
}

TEST(hostile_pngs_are_refused)
{
    struct rnd_frame f;
    uint8_t *png;
    size_t n;
    generated_png(&png, &n, &f);
    struct rnd_rgba img;
    char err[160];
    /* truncated at every length up to the first rows, and damaged */
    for (size_t cut = 0; cut < n; cut += (cut < 200 ? 1 : 997)) {
        enum ff_err e = rnd_png_rgba_decode(png, cut, &img, err, sizeof err);
        ASSERT(e != FF_OK);
        ASSERT(img.data == NULL && err[0]);
    }
    uint8_t *bad = ff_malloc(n);
    memcpy(bad, png, n);
    for (size_t i = 40; i < n; i += 50)
        bad[i] ^= 0x5a;
    ASSERT(rnd_png_rgba_decode(bad, n, &img, err, sizeof err) != FF_OK);
    ASSERT(img.data == NULL);
    ASSERT_EQ(rnd_png_rgba_decode("GIF89a.............................", 35, &img, err,
                                  sizeof err), FF_EUNSUPPORTED);
    ASSERT_EQ(rnd_png_rgba_decode(NULL, 0, &img, NULL, 0), FF_EUNSUPPORTED);
    /* an RGB PNG (no alpha) is refused: it would cover the face */
    struct vis_image rgb;
    ASSERT_OK(vis_image_alloc(&rgb, 20, 10, VIS_RGB8));
    uint8_t *rp;
    size_t rn;
    ASSERT_OK(rnd_encode(&rgb, RND_PNG, 0, &rp, &rn));
    ASSERT_EQ(rnd_png_rgba_decode(rp, rn, &img, err, sizeof err), FF_EINVAL);
    ASSERT(strstr(err, "alpha"));
    /* over the size limit: IHDR says 5000 x 10 */
    memcpy(bad, png, n);
    bad[16] = 0, bad[17] = 0, bad[18] = 0x13, bad[19] = 0x88;
    ASSERT(rnd_png_rgba_decode(bad, n, &img, err, sizeof err) != FF_OK);
    ff_free(rp);
    vis_image_release(&rgb);
    ff_free(bad);
    ff_free(png);
    rnd_frame_release(&f);
}

TEST(anchors_are_checked)
{
    struct rnd_frame g;
    uint8_t *png;
    size_t n;
    generated_png(&png, &n, &g);
    struct rnd_rgba img;
    const double bad[][4] = {{-1, 10, 100, 10}, {10, 10, 1e6, 10}, {100, 10, 10, 10},
                             {10, 10, 15, 10},  {10, 10, 100, 40}, {NAN, 10, 100, 10}};
    char err[160];
    struct rnd_frame f;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_OK(rnd_png_rgba_decode(png, n, &img, NULL, 0));
        ASSERT_EQ(rnd_frame_from_rgba(&img, bad[i], bad[i] + 2, 70, &f, err, sizeof err),
                  FF_EINVAL);
        ASSERT(img.data != NULL); /* still the caller's */
        ff_free(img.data);
    }
    ASSERT_OK(rnd_png_rgba_decode(png, n, &img, NULL, 0));
    ASSERT_EQ(rnd_frame_from_rgba(&img, g.lens_left, g.lens_right, 10, &f, err, sizeof err),
              FF_EINVAL); /* lens separation out of range */
    ASSERT_OK(rnd_frame_from_rgba(&img, g.lens_left, g.lens_right, 70, &f, err, sizeof err));
    ASSERT(img.data == NULL);
    ASSERT_NEAR(f.px_per_mm, 8, 1e-9); /* (50 + 20) mm between centres at 8 px/mm */
    ASSERT_NEAR(f.centre[0], g.centre[0], 1e-9);
    rnd_frame_release(&f);
    ff_free(png);
    rnd_frame_release(&g);
}

static double alpha_sum(const struct rnd_rgba *im)
{
    double s = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            s += im->data[(size_t)y * im->stride + (size_t)x * 4 + 3] / 255.0;
    return s;
}

TEST(rescale_keeps_coverage_and_anchors)
{
    struct rnd_frame big, small;
    ASSERT_OK(rnd_frame_generate(&spec, 12, &big, NULL, 0));
    ASSERT_OK(rnd_frame_rescale(&big, 3, &small));
    ASSERT_NEAR(small.px_per_mm, 3, 0.02);
    ASSERT_NEAR(small.img.w, big.img.w / 4.0, 1);
    ASSERT_NEAR(small.lens_right[0] - small.lens_left[0], 70 * small.px_per_mm, 0.5);
    /* coverage is conserved (x 1/16), within a few % */
    ASSERT_NEAR(alpha_sum(&small.img) * 16 / alpha_sum(&big.img), 1.0, 0.03);
    /* compare with drawing directly at 3 px/mm: close */
    struct rnd_frame direct;
    ASSERT_OK(rnd_frame_generate(&spec, 3, &direct, NULL, 0));
    ASSERT_NEAR(alpha_sum(&small.img) / alpha_sum(&direct.img), 1.0, 0.08);
    rnd_frame_release(&direct);
    rnd_frame_release(&small);
    ASSERT_EQ(rnd_frame_rescale(&big, 0, &small), FF_EINVAL);
    rnd_frame_release(&big);
}

TEST(render_with_a_given_frame)
{
    struct vis_image photo, out, ref;
    ASSERT_OK(vis_image_alloc(&photo, 600, 400, VIS_RGB8));
    memset(photo.data, 200, photo.stride * (size_t)photo.h);
    struct rnd_frame big;
    ASSERT_OK(rnd_frame_generate(&spec, 10, &big, NULL, 0)); /* 10 px/mm: drawn at 2.5 */
    struct rnd_face face = {{300 - 31.5 * 2.5, 200}, {300 + 31.5 * 2.5, 200}, 0, 0, 0, 0.4};
    char err[128];
    ASSERT_OK(rnd_render_frame(&photo, &big, &face, 0, &out, err, sizeof err));
    ASSERT_OK(rnd_render(&photo, &spec, &face, 0, &ref, err, sizeof err));
    /* the same frame, once generated at the right scale, once resampled: nearly equal */
    double d = 0;
    for (size_t i = 0; i < out.stride * (size_t)out.h; i++)
        d += abs(out.data[i] - ref.data[i]);
    ASSERT(d / (out.stride * (double)out.h) < 1.0);
    vis_image_release(&out);
    ASSERT_EQ(rnd_render_frame(&photo, NULL, &face, 0, &out, err, sizeof err), FF_EINVAL);
    vis_image_release(&ref);
    rnd_frame_release(&big);
    vis_image_release(&photo);
}

int main(void)
{
    RUN(decode_round_trip);
    RUN(hostile_pngs_are_refused);
    RUN(anchors_are_checked);
    RUN(rescale_keeps_coverage_and_anchors);
    RUN(render_with_a_given_frame);
    return TEST_REPORT();
}
