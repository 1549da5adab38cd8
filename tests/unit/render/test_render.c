/* test_render.c - colour tables, placement (centre, width, roll, yaw), linear-light
 * blending, untouched pixels, resizing, encoders (round trips), the whole render. */
#include <math.h>
#include <webp/decode.h>

#include "core/alloc.h"
#include "harness.h"
#include "render/render.h"
#include "vision/decode.h"
#include "vision/image_ops.h"

static double srgb_dec(double c)
{
    c /= 255;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double srgb_enc(double l)
{
    return 255 * (l <= 0.0031308 ? l * 12.92 : 1.055 * pow(l, 1 / 2.4) - 0.055);
}

static void fill(struct vis_image *im, uint8_t r, uint8_t g, uint8_t b)
{
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * 3;
            p[0] = r;
            p[1] = g;
            p[2] = b;
        }
}

/* Horizontal extent of the columns where some pixel changed by at least half the
 * largest change (the frame's edge at 50 % coverage). */
static double half_extent(const struct vis_image *a, const struct vis_image *b)
{
    int maxd = 0, x0 = -1, x1 = -1;
    for (int pass = 0; pass < 2; pass++)
        for (int x = 0; x < a->w; x++)
            for (int y = 0; y < a->h; y++) {
                const uint8_t *p = a->data + (size_t)y * a->stride + x * 3;
                const uint8_t *q = b->data + (size_t)y * b->stride + x * 3;
                int d = abs(p[0] - q[0]) + abs(p[1] - q[1]) + abs(p[2] - q[2]);
                if (pass == 0 && d > maxd)
                    maxd = d;
                if (pass == 1 && 2 * d >= maxd) {
                    if (x0 < 0)
                        x0 = x;
                    x1 = x;
                }
            }
    return x1 - x0 + 1;
}

/* Bounding box of pixels that differ between a and b; returns how many differ. */
static long diff_box(const struct vis_image *a, const struct vis_image *b, int box[4])
{
    long n = 0;
    box[0] = box[1] = 1 << 30;
    box[2] = box[3] = -1;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++)
            if (memcmp(a->data + (size_t)y * a->stride + x * 3,
                       b->data + (size_t)y * b->stride + x * 3, 3)) {
                n++;
                box[0] = x < box[0] ? x : box[0];
                box[1] = y < box[1] ? y : box[1];
                box[2] = x > box[2] ? x : box[2];
                box[3] = y > box[3] ? y : box[3];
            }
    return n;
}

static struct vis_image copy(const struct vis_image *s)
{
    struct vis_image d;
    if (vis_image_alloc(&d, s->w, s->h, s->fmt))
        exit(1);
    memcpy(d.data, s->data, s->stride * (size_t)s->h);
    return d;
}

TEST(colour_tables)
{
    for (int v = 0; v < 256; v++) {
        float l = rnd_srgb_to_linear((uint8_t)v);
        ASSERT_NEAR(l, srgb_dec(v), 1e-6);
        ASSERT_EQ(rnd_linear_to_srgb(l), v); /* the round trip is the identity */
    }
    ASSERT_EQ(rnd_linear_to_srgb(-1), 0);
    ASSERT_EQ(rnd_linear_to_srgb(2), 255);
    ASSERT_EQ(rnd_linear_to_srgb(NAN), 0);
    ASSERT_EQ(rnd_linear_to_srgb(0.5f), 188); /* half the light is sRGB 188, not 128 */
}

static const struct rnd_frame_spec rect = {RND_RECTANGLE, "black", 52, 40, 18, 140};

/* A frontal face at ppm px/mm with its eyes around (cx, cy). */
static struct rnd_face face_at(double cx, double cy, double ppm, double roll_deg)
{
    double half = 31.5 * ppm, r = roll_deg * M_PI / 180;
    /* roll > 0: the eye line rises to the image's right (y decreases) */
    struct rnd_face f = {{cx - half * cos(r), cy + half * sin(r)},
                         {cx + half * cos(r), cy - half * sin(r)}, 0, 0, roll_deg, 1 / ppm};
    return f;
}

TEST(frontal_frame_is_centred_and_true_to_size)
{
    struct vis_image photo, orig;
    ASSERT_OK(vis_image_alloc(&photo, 800, 400, VIS_RGB8));
    fill(&photo, 200, 160, 140);
    orig = copy(&photo);
    const double ppm = 3.0;
    struct rnd_frame f;
    ASSERT_OK(rnd_frame_generate(&rect, ppm, &f, NULL, 0));
    struct rnd_face face = face_at(400, 200, ppm, 0);
    ASSERT_OK(rnd_compose(&photo, &f, &face));
    int box[4];
    long n = diff_box(&orig, &photo, box);
    ASSERT(n > 1000);
    /* width in px = frame mm / mm_per_px within 1 px; centred on the eyes */
    ASSERT_NEAR(half_extent(&orig, &photo), f.width_mm * ppm, 1.0);
    ASSERT(box[2] - box[0] + 1 <= f.width_mm * ppm + 3); /* the fringe is thin */
    ASSERT_NEAR((box[0] + box[2]) / 2.0, 400, 1.0);
    /* the lens centres are at the height of the eyes: the box spans the lens height
     * around y = 200 (more above: the thicker top rim and endpieces) */
    ASSERT(box[1] < 200 - 20 * ppm && box[3] > 200 + 20 * ppm);
    ASSERT(box[1] > 200 - 30 * ppm && box[3] < 200 + 30 * ppm);
    /* a rim pixel (black acetate at the lens' outer edge) is dark */
    int rx = (int)lround(400 + (35 + 26 + 1.5) * ppm);
    ASSERT(photo.data[(size_t)200 * photo.stride + rx * 3] < 40);
    rnd_frame_release(&f);
    vis_image_release(&photo);
    vis_image_release(&orig);
}

TEST(untouched_pixels_keep_their_bytes)
{
    /* a noisy photo: every byte value occurs; outside the frame nothing may change,
     * inside the lens (tint alpha ~0.1) the change is small */
    struct vis_image photo, orig;
    ASSERT_OK(vis_image_alloc(&photo, 640, 360, VIS_RGB8));
    uint32_t s = 1;
    for (size_t i = 0; i < photo.stride * (size_t)photo.h; i++) {
        s = s * 1103515245u + 12345u;
        photo.data[i] = (uint8_t)(s >> 16);
    }
    orig = copy(&photo);
    struct rnd_frame f;
    ASSERT_OK(rnd_frame_generate(&rect, 2.5, &f, NULL, 0));
    struct rnd_face face = face_at(320, 180, 2.5, 0);
    double H[9];
    ASSERT_OK(rnd_placement(&f, &face, H));
    ASSERT_OK(rnd_compose(&photo, &f, &face));
    long changed_outside = 0;
    for (int y = 0; y < photo.h; y++)
        for (int x = 0; x < photo.w; x++) {
            /* the frame pixel this photo pixel maps to (H is a pure scale+shift here) */
            double fx = (x * H[8] - H[2]) / H[0], fy = (y * H[8] - H[5]) / H[4];
            int inside = fx > -1.5 && fy > -1.5 && fx < f.img.w + 0.5 && fy < f.img.h + 0.5;
            size_t o = (size_t)y * photo.stride + (size_t)x * 3;
            if (!inside)
                changed_outside += memcmp(photo.data + o, orig.data + o, 3) != 0;
        }
    ASSERT_EQ(changed_outside, 0);
    /* in the middle of a lens: tinted a little, never far */
    size_t o = (size_t)180 * photo.stride + (size_t)lround(320 + 35 * 2.5) * 3;
    for (int c = 0; c < 3; c++)
        ASSERT(abs(photo.data[o + c] - orig.data[o + c]) < 60);
    rnd_frame_release(&f);
    vis_image_release(&photo);
    vis_image_release(&orig);
}

/* A hand-made 8x8 frame of one colour and alpha, mapped 1:1 onto the photo. */
static void flat_frame(struct rnd_frame *f, uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
    memset(f, 0, sizeof *f);
    f->img.w = f->img.h = 8;
    f->img.stride = 32;
    f->img.data = ff_malloc(8 * 32);
    for (int i = 0; i < 64; i++) {
        uint8_t *p = f->img.data + i * 4;
        p[0] = r;
        p[1] = g;
        p[2] = b;
        p[3] = a;
    }
    f->px_per_mm = 1;
    f->centre[0] = f->centre[1] = 4.5; /* frame index i lands on photo x = mx + i - 4 */
}

TEST(blending_is_in_linear_light)
{
    struct vis_image photo;
    ASSERT_OK(vis_image_alloc(&photo, 100, 100, VIS_RGB8));
    fill(&photo, 0, 60, 255);
    struct rnd_frame f;
    flat_frame(&f, 255, 200, 0, 128);
    struct rnd_face face = {{46, 50}, {54, 50}, 0, 0, 0, 1.0};
    ASSERT_OK(rnd_compose(&photo, &f, &face));
    double a = 128 / 255.0;
    const uint8_t bg[3] = {0, 60, 255}, fg[3] = {255, 200, 0};
    for (int y = 47; y <= 52; y++)
        for (int x = 47; x <= 52; x++) { /* the inside of the 8x8 block at 46..53 */
            const uint8_t *p = photo.data + (size_t)y * photo.stride + (size_t)x * 3;
            for (int c = 0; c < 3; c++) {
                double want = srgb_enc(srgb_dec(fg[c]) * a + srgb_dec(bg[c]) * (1 - a));
                ASSERT_NEAR(p[c], want, 1.0);
            }
            ASSERT(p[0] > 180 && p[2] > 180); /* a naive sRGB blend gives ~128 for both */
        }
    /* outside the block (and its 1 px bilinear fringe) nothing changed */
    ASSERT_EQ(photo.data[(size_t)50 * photo.stride + 40 * 3 + 2], 255);
    ASSERT_EQ(photo.data[(size_t)40 * photo.stride + 50 * 3 + 1], 60);
    rnd_frame_release(&f);
    vis_image_release(&photo);
}

/* The angle of the line through the centroids of the changed pixels left and right
 * of x = mid. */
static double changed_axis_deg(const struct vis_image *a, const struct vis_image *b, int mid)
{
    double sx[2] = {0}, sy[2] = {0}, n[2] = {0};
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++)
            if (memcmp(a->data + (size_t)y * a->stride + x * 3,
                       b->data + (size_t)y * b->stride + x * 3, 3)) {
                int k = x >= mid;
                sx[k] += x;
                sy[k] += y;
                n[k]++;
            }
    double dx = sx[1] / n[1] - sx[0] / n[0], dy = sy[1] / n[1] - sy[0] / n[0];
    return atan2(-dy, dx) * 180 / M_PI;
}

TEST(roll_rotates_the_frame)
{
    const double rolls[] = {0, 12, -20};
    for (size_t i = 0; i < 3; i++) {
        struct vis_image photo, orig;
        ASSERT_OK(vis_image_alloc(&photo, 800, 500, VIS_RGB8));
        fill(&photo, 230, 230, 230);
        orig = copy(&photo);
        struct rnd_frame f;
        ASSERT_OK(rnd_frame_generate(&rect, 3, &f, NULL, 0));
        struct rnd_face face = face_at(400, 250, 3, rolls[i]);
        ASSERT_OK(rnd_compose(&photo, &f, &face));
        ASSERT_NEAR(changed_axis_deg(&orig, &photo, 400), rolls[i], 1.0);
        rnd_frame_release(&f);
        vis_image_release(&photo);
        vis_image_release(&orig);
    }
}

TEST(yaw_foreshortens_and_shifts)
{
    int widths[3], centres[3];
    const double yaws[] = {0, 30, -30};
    for (int i = 0; i < 3; i++) {
        struct vis_image photo, orig;
        ASSERT_OK(vis_image_alloc(&photo, 800, 400, VIS_RGB8));
        fill(&photo, 230, 230, 230);
        orig = copy(&photo);
        struct rnd_frame f;
        ASSERT_OK(rnd_frame_generate(&rect, 3, &f, NULL, 0));
        struct rnd_face face = face_at(400, 200, 3, 0);
        face.yaw_deg = yaws[i];
        ASSERT_OK(rnd_compose(&photo, &f, &face));
        int box[4];
        ASSERT(diff_box(&orig, &photo, box) > 500);
        widths[i] = box[2] - box[0] + 1;
        centres[i] = (box[0] + box[2]) / 2;
        rnd_frame_release(&f);
        vis_image_release(&photo);
        vis_image_release(&orig);
    }
    /* the model, computed independently: the frame's ends (+-W/2, 0, AXIS) turned
     * about the vertical axis and seen by a pinhole CAMERA_MM from the axis; the
     * frontal frame is width_mm * ppm wide */
    double W = 0, t = M_PI / 6;
    {
        struct rnd_frame f;
        ASSERT_OK(rnd_frame_generate(&rect, 3, &f, NULL, 0));
        W = f.width_mm;
        rnd_frame_release(&f);
    }
    double xa = W / 2 * cos(t) + RND_AXIS_MM * sin(t), za = -W / 2 * sin(t) + RND_AXIS_MM * cos(t);
    double xb = -W / 2 * cos(t) + RND_AXIS_MM * sin(t), zb = W / 2 * sin(t) + RND_AXIS_MM * cos(t);
    double ratio = (xa / (RND_CAMERA_MM - za) - xb / (RND_CAMERA_MM - zb)) *
                   (RND_CAMERA_MM - RND_AXIS_MM) / W;
    ASSERT(ratio < cos(t) && ratio > 0.7); /* cos(yaw), and a little perspective */
    ASSERT_NEAR((double)widths[1] / widths[0], ratio, 0.02);
    ASSERT_NEAR((double)widths[2] / widths[0], ratio, 0.02);
    /* the frame plane is in front of the eyes: it moves with the nose */
    ASSERT(centres[1] > centres[0] + 3);
    ASSERT(centres[2] < centres[0] - 3);
}

TEST(bad_faces_are_refused)
{
    struct rnd_face bad[] = {
        {{10, 10}, {11, 10}, 0, 0, 0, 0.3},   {{NAN, 10}, {100, 10}, 0, 0, 0, 0.3},
        {{10, 10}, {100, 10}, 90, 0, 0, 0.3}, {{10, 10}, {100, 10}, 0, -61, 0, 0.3},
        {{10, 10}, {100, 10}, 0, 0, 0, 0},    {{10, 10}, {100, 10}, 0, 0, 0, INFINITY},
    };
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(rnd_face_check(&bad[i], err, sizeof err), FF_EINVAL);
    struct vis_image photo, out;
    ASSERT_OK(vis_image_alloc(&photo, 64, 64, VIS_RGB8));
    ASSERT_EQ(rnd_render(&photo, &rect, &bad[0], 0, &out, err, sizeof err), FF_EINVAL);
    ASSERT(out.data == NULL && err[0]);
    struct rnd_face ok = face_at(32, 32, 0.5, 0);
    ASSERT_EQ(rnd_render(&photo, &rect, &ok, -1, &out, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(rnd_render(&photo, &rect, &ok, RND_MAX_OUT_WIDTH + 1, &out, err, sizeof err),
              FF_EINVAL);
    vis_image_release(&photo);
}

TEST(resize_is_linear_light_and_uniform)
{
    struct vis_image src, dst;
    ASSERT_OK(vis_image_alloc(&src, 64, 48, VIS_RGB8));
    fill(&src, 37, 140, 251);
    ASSERT_OK(rnd_resize(&src, 23, 17, &dst));
    for (int i = 0; i < 23 * 17; i++) {
        const uint8_t *p = dst.data + (size_t)(i / 23) * dst.stride + (i % 23) * 3;
        ASSERT(p[0] == 37 && p[1] == 140 && p[2] == 251);
    }
    vis_image_release(&dst);
    /* a fine checkerboard of black and white halves to sRGB ~188 (half the light) */
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++)
            memset(src.data + (size_t)y * src.stride + x * 3, (x + y) % 2 ? 255 : 0, 3);
    ASSERT_OK(rnd_resize(&src, 16, 12, &dst));
    const uint8_t *m = dst.data + (size_t)6 * dst.stride + 8 * 3;
    ASSERT_NEAR(m[0], 188, 3);
    vis_image_release(&dst);
    ASSERT_OK(rnd_resize(&src, 128, 96, &dst)); /* enlarging works too */
    vis_image_release(&dst);
    ASSERT_EQ(rnd_resize(&src, 0, 10, &dst), FF_EINVAL);
    vis_image_release(&src);
}

static struct vis_image gradient(int w, int h)
{
    struct vis_image im;
    if (vis_image_alloc(&im, w, h, VIS_RGB8))
        exit(1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = im.data + (size_t)y * im.stride + x * 3;
            p[0] = (uint8_t)(x * 255 / w);
            p[1] = (uint8_t)(y * 255 / h);
            p[2] = 128;
        }
    return im;
}

static double mean_abs_diff(const struct vis_image *a, const uint8_t *b, size_t bstride)
{
    double s = 0;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w * 3; x++)
            s += abs(a->data[(size_t)y * a->stride + x] - b[(size_t)y * bstride + x]);
    return s / (a->w * 3.0 * a->h);
}

TEST(encoders_round_trip)
{
    struct vis_image im = gradient(97, 61);
    uint8_t *buf;
    size_t n;
    struct vis_image back;
    /* PNG: lossless */
    ASSERT_OK(rnd_encode(&im, RND_PNG, 0, &buf, &n));
    ASSERT_OK(vis_decode(buf, n, NULL, &back, NULL, NULL, 0));
    ASSERT(back.w == 97 && back.h == 61);
    ASSERT_NEAR(mean_abs_diff(&im, back.data, back.stride), 0, 1e-9);
    vis_image_release(&back);
    ff_free(buf);
    /* JPEG: close */
    ASSERT_OK(rnd_encode(&im, RND_JPEG, 90, &buf, &n));
    ASSERT(buf[0] == 0xff && buf[1] == 0xd8);
    ASSERT_OK(vis_decode(buf, n, NULL, &back, NULL, NULL, 0));
    ASSERT(back.w == 97 && back.h == 61);
    ASSERT(mean_abs_diff(&im, back.data, back.stride) < 3);
    vis_image_release(&back);
    ff_free(buf);
    /* WebP: close */
    ASSERT_OK(rnd_encode(&im, RND_WEBP, 90, &buf, &n));
    ASSERT(!memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4));
    int w = 0, h = 0;
    uint8_t *rgb = WebPDecodeRGB(buf, n, &w, &h);
    ASSERT(rgb && w == 97 && h == 61);
    ASSERT(mean_abs_diff(&im, rgb, (size_t)w * 3) < 4);
    WebPFree(rgb);
    ff_free(buf);
    /* bad parameters */
    ASSERT_EQ(rnd_encode(&im, RND_JPEG, 101, &buf, &n), FF_EINVAL);
    ASSERT_EQ(rnd_encode(&im, (enum rnd_format)9, 0, &buf, &n), FF_EINVAL);
    ASSERT(buf == NULL && n == 0);
    ASSERT_EQ(rnd_format_parse("webp"), RND_WEBP);
    ASSERT_EQ(rnd_format_parse("jpg"), RND_JPEG);
    ASSERT_EQ(rnd_format_parse("gif"), 0);
    ASSERT_EQ(rnd_format_parse(NULL), 0);
    ASSERT_STREQ(rnd_format_mime(RND_PNG), "image/png");
    vis_image_release(&im);
}

TEST(render_end_to_end_with_resize)
{
    struct vis_image photo = gradient(1000, 600), out, full;
    struct rnd_face face = face_at(500, 280, 4, 5);
    char err[128];
    ASSERT_OK(rnd_render(&photo, &rect, &face, 400, &out, err, sizeof err));
    ASSERT(out.w == 400 && out.h == 240);
    /* the same at full size, then compare the frame's centre position */
    ASSERT_OK(rnd_render(&photo, &rect, &face, 0, &full, err, sizeof err));
    ASSERT(full.w == 1000 && full.h == 600);
    struct vis_image small_plain;
    ASSERT_OK(rnd_resize(&photo, 400, 240, &small_plain));
    int box[4];
    ASSERT(diff_box(&small_plain, &out, box) > 200);
    ASSERT_NEAR((box[0] + box[2]) / 2.0, 200, 2.0);
    ASSERT_NEAR(box[2] - box[0] + 1, 1.6 * 137, 8); /* ~137 mm at 1.6 px/mm, rolled 5 deg */
    /* wider than the photo: no upscaling */
    struct vis_image same;
    ASSERT_OK(rnd_render(&photo, &rect, &face, 3000, &same, err, sizeof err));
    ASSERT(same.w == 1000 && !memcmp(same.data, full.data, full.stride * (size_t)full.h));
    /* deterministic */
    struct vis_image again;
    ASSERT_OK(rnd_render(&photo, &rect, &face, 400, &again, err, sizeof err));
    ASSERT(!memcmp(again.data, out.data, out.stride * (size_t)out.h));
    vis_image_release(&again);
    vis_image_release(&same);
    vis_image_release(&small_plain);
    vis_image_release(&out);
    vis_image_release(&full);
    vis_image_release(&photo);
}

TEST(render_from_a_resized_photo_is_the_same)
{
    /* what the endpoint does with its decoded-photo cache */
    struct vis_image photo = gradient(900, 500), direct, small, via;
    struct rnd_face face = face_at(450, 240, 3.5, -4), scaled;
    face.yaw_deg = 12;
    ASSERT_OK(rnd_render(&photo, &rect, &face, 420, &direct, NULL, 0));
    int w, h;
    rnd_out_size(photo.w, photo.h, 420, &w, &h);
    ASSERT(w == 420 && h == 233);
    ASSERT_OK(rnd_resize(&photo, w, h, &small));
    rnd_face_scale(&face, (double)w / photo.w, &scaled);
    ASSERT_OK(rnd_render(&small, &rect, &scaled, 0, &via, NULL, 0));
    ASSERT(via.w == direct.w && via.h == direct.h);
    ASSERT(!memcmp(via.data, direct.data, direct.stride * (size_t)direct.h));
    rnd_out_size(100, 50, 0, &w, &h);
    ASSERT(w == 100 && h == 50);
    rnd_out_size(100, 50, 1000, &w, &h);
    ASSERT(w == 100 && h == 50);
    vis_image_release(&via);
    vis_image_release(&small);
    vis_image_release(&direct);
    vis_image_release(&photo);
}

TEST(render_allocation_failures_are_clean)
{
    struct vis_image photo = gradient(300, 200), out;
    struct rnd_face face = face_at(150, 100, 1.5, 0);
    int failed = 0;
    for (long n = 1; n < 60; n++) {
        ff_alloc_fail_after(n);
        enum ff_err e = rnd_render(&photo, &rect, &face, 200, &out, NULL, 0);
        ff_alloc_fail_after(0);
        if (e) {
            ASSERT_EQ(e, FF_ENOMEM);
            ASSERT(out.data == NULL);
            failed++;
        } else {
            vis_image_release(&out);
        }
    }
    ASSERT(failed >= 5);
    vis_image_release(&photo);
}

int main(void)
{
    RUN(colour_tables);
    RUN(frontal_frame_is_centred_and_true_to_size);
    RUN(untouched_pixels_keep_their_bytes);
    RUN(blending_is_in_linear_light);
    RUN(roll_rotates_the_frame);
    RUN(yaw_foreshortens_and_shifts);
    RUN(bad_faces_are_refused);
    RUN(resize_is_linear_light_and_uniform);
    RUN(encoders_round_trip);
    RUN(render_end_to_end_with_resize);
    RUN(render_from_a_resized_photo_is_the_same);
    RUN(render_allocation_failures_are_clean);
    return TEST_REPORT();
}
