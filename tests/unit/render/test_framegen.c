/* test_framegen.c - the frame generator: every shape and colour, anchors, alpha
 * outside, symmetry, determinism, bad input. */
#include <math.h>

#include "core/alloc.h"
#include "harness.h"
#include "render/render.h"

static const uint8_t *px(const struct rnd_frame *f, int x, int y)
{
    return f->img.data + (size_t)y * f->img.stride + (size_t)x * 4;
}

static struct rnd_frame_spec spec(int shape, const char *colour)
{
    return (struct rnd_frame_spec){shape, colour, 52, 40, 18, 140};
}

TEST(every_shape_and_colour)
{
    for (int s = 0; s < RND_SHAPE_COUNT; s++)
        for (int c = 0; rnd_colour_name(c); c++) {
            struct rnd_frame_spec sp = spec(s, rnd_colour_name(c));
            struct rnd_frame f;
            char err[128];
            ASSERT_OK(rnd_frame_generate(&sp, 4, &f, err, sizeof err));
            ASSERT(f.img.w > 100 && f.img.h > 40);
            /* the 2 px margin is fully transparent */
            for (int x = 0; x < f.img.w; x++) {
                ASSERT_EQ(px(&f, x, 0)[3], 0);
                ASSERT_EQ(px(&f, x, f.img.h - 1)[3], 0);
            }
            for (int y = 0; y < f.img.h; y++) {
                ASSERT_EQ(px(&f, 0, y)[3], 0);
                ASSERT_EQ(px(&f, f.img.w - 1, y)[3], 0);
            }
            /* lens centres (boxing system) and total width */
            ASSERT_NEAR(f.lens_right[0] - f.lens_left[0], (52 + 18) * 4, 1e-6);
            ASSERT_NEAR(f.lens_sep_mm, 70, 1e-9);
            ASSERT_NEAR(f.centre[0], f.img.w / 2.0, 0.51);
            ASSERT(f.width_mm > 2 * 52 + 18 && f.width_mm < 2 * 52 + 18 + 25);
            ASSERT(f.width_mm * 4 <= f.img.w);
            /* the lens centre shows a light tint: semi-transparent, not empty */
            const uint8_t *l = px(&f, (int)f.lens_left[0], (int)f.lens_left[1]);
            ASSERT(l[3] > 5 && l[3] < 60);
            rnd_frame_release(&f);
        }
}

TEST(rim_is_opaque_and_antialiased)
{
    struct rnd_frame_spec sp = spec(RND_RECTANGLE, "black");
    struct rnd_frame f;
    ASSERT_OK(rnd_frame_generate(&sp, 8, &f, NULL, 0));
    /* walk right from the right lens centre: tint, then a solid rim, then nothing;
     * the rim's edges have intermediate alpha (coverage) */
    int y = (int)f.lens_right[1], x0 = (int)f.lens_right[0];
    int solid = 0, partial = 0, last = -1;
    for (int x = x0; x < f.img.w; x++) {
        int a = px(&f, x, y)[3];
        solid += a == 255;
        partial += a > 60 && a < 255;
        if (a > 0)
            last = x;
    }
    ASSERT(solid >= 20); /* 3 mm acetate at 8 px/mm, plus the endpiece row? */
    ASSERT(partial >= 1);
    ASSERT(last < f.img.w - 2);
    /* black */
    const uint8_t *r = px(&f, (int)(f.lens_right[0] + 26 * 8 + 12), y);
    ASSERT_EQ(r[3], 255);
    ASSERT(r[0] < 40 && r[1] < 40 && r[2] < 40);
    rnd_frame_release(&f);
}

TEST(mirror_symmetric_and_deterministic)
{
    struct rnd_frame_spec sp = spec(RND_CAT_EYE, "navy");
    struct rnd_frame a, b;
    ASSERT_OK(rnd_frame_generate(&sp, 5, &a, NULL, 0));
    ASSERT_OK(rnd_frame_generate(&sp, 5, &b, NULL, 0));
    ASSERT_EQ(a.img.w, b.img.w);
    ASSERT(!memcmp(a.img.data, b.img.data, a.img.stride * (size_t)a.img.h));
    /* the canvas is centred on the frame origin: alpha mirrors within rounding */
    long diff = 0, n = 0;
    for (int y = 0; y < a.img.h; y++)
        for (int x = 0; x < a.img.w / 2; x++) {
            int l = px(&a, x, y)[3], r = px(&a, a.img.w - 1 - x, y)[3];
            diff += abs(l - r);
            n += l > 0;
        }
    ASSERT(n > 1000);
    ASSERT((double)diff / n < 3.0);
    rnd_frame_release(&a);
    rnd_frame_release(&b);
}

TEST(anchors_json)
{
    struct rnd_frame_spec sp = spec(RND_AVIATOR, "gold");
    struct rnd_frame f;
    ASSERT_OK(rnd_frame_generate(&sp, 3, &f, NULL, 0));
    char *j = rnd_frame_anchors_json(&f);
    ASSERT(j);
    ASSERT(strstr(j, "\"lens_left\":[") && strstr(j, "\"width_mm\":"));
    ASSERT(strstr(j, "\"alpha\":\"straight\""));
    ff_free(j);
    uint8_t *png;
    size_t n;
    ASSERT_OK(rnd_encode_rgba_png(&f.img, &png, &n));
    ASSERT(n > 100 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');
    ff_free(png);
    rnd_frame_release(&f);
}

TEST(bad_specs_are_refused)
{
    struct rnd_frame f;
    char err[128];
    struct rnd_frame_spec bad[] = {
        {-1, "black", 52, 40, 18, 0},         {RND_SHAPE_COUNT, "black", 52, 40, 18, 0},
        {RND_ROUND, "black", 0, 40, 18, 0},   {RND_ROUND, "black", 52, NAN, 18, 0},
        {RND_ROUND, "black", 52, 40, 1e9, 0}, {RND_ROUND, "black", INFINITY, 40, 18, 0},
        {RND_ROUND, "black", 52, 40, -18, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_EQ(rnd_frame_generate(&bad[i], 4, &f, err, sizeof err), FF_EINVAL);
        ASSERT(err[0]);
        ASSERT(f.img.data == NULL);
    }
    struct rnd_frame_spec ok = spec(RND_ROUND, NULL); /* NULL colour: black */
    ASSERT_EQ(rnd_frame_generate(&ok, 0, &f, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(rnd_frame_generate(&ok, NAN, &f, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(rnd_frame_generate(&ok, 1000, &f, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(rnd_frame_generate(NULL, 4, &f, err, sizeof err), FF_EINVAL);
    ok.colour = "no-such-colour"; /* unknown colours draw in neutral grey */
    ASSERT_OK(rnd_frame_generate(&ok, 4, &f, err, sizeof err));
    rnd_frame_release(&f);
}

TEST(allocation_failures_are_clean)
{
    struct rnd_frame_spec sp = spec(RND_BROWLINE, "tortoise");
    int failed = 0;
    for (long n = 1; n < 40; n++) {
        struct rnd_frame f;
        ff_alloc_fail_after(n);
        enum ff_err e = rnd_frame_generate(&sp, 3, &f, NULL, 0);
        ff_alloc_fail_after(0);
        if (e) {
            ASSERT_EQ(e, FF_ENOMEM);
            ASSERT(f.img.data == NULL);
            failed++;
        } else {
            rnd_frame_release(&f);
        }
    }
    ASSERT(failed >= 3);
}

int main(void)
{
    RUN(every_shape_and_colour);
    RUN(rim_is_opaque_and_antialiased);
    RUN(mirror_symmetric_and_deterministic);
    RUN(anchors_json);
    RUN(bad_specs_are_refused);
    RUN(allocation_failures_are_clean);
    return TEST_REPORT();
}
