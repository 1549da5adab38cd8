/* test_decode.c - JPEG/PNG decoding: pixels, EXIF orientation, and every kind of
 * bad input (empty, wrong magic, truncated, corrupt, 1x1, 30000x30000 headers,
 * CMYK, pixel budget, allocation failures). Run under ASan by make test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "unit/vision/img_synth.h"
#include "vision/decode.h"
#include "vision/image_ops.h"

static char err[256];

static uint8_t *png_of(int w, int h, enum vis_format fmt, size_t *n)
{
    struct vis_image img;
    if (vis_image_alloc(&img, w, h, fmt))
        TEST_FAIL("alloc");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < (int)fmt; c++)
                img.data[(size_t)y * img.stride + (size_t)x * fmt + c] = synth_px(x, y, c);
    uint8_t *out;
    if (vis_encode_png(&img, &out, n))
        TEST_FAIL("encode");
    vis_image_release(&img);
    return out;
}

TEST(png_roundtrip_exact)
{
    size_t n;
    uint8_t *p = png_of(37, 23, VIS_RGB8, &n);
    ASSERT_EQ(vis_sniff(p, n), VIS_CODEC_PNG);
    struct vis_image img;
    struct vis_decode_info in;
    ASSERT_OK(vis_decode(p, n, NULL, &img, &in, err, sizeof err));
    ASSERT_EQ(img.w, 37);
    ASSERT_EQ(img.h, 23);
    ASSERT_EQ(img.fmt, VIS_RGB8);
    ASSERT_EQ(in.orientation, 1);
    for (int y = 0; y < 23; y++)
        for (int x = 0; x < 37; x++)
            for (int c = 0; c < 3; c++)
                ASSERT_EQ(img.data[(size_t)y * img.stride + 3 * x + c], synth_px(x, y, c));
    vis_image_release(&img);
    /* grey output is (r+g+b)/3 */
    struct vis_decode_opts o = {.fmt = VIS_GRAY8};
    ASSERT_OK(vis_decode(p, n, &o, &img, NULL, err, sizeof err));
    ASSERT_EQ(img.fmt, VIS_GRAY8);
    ASSERT_EQ(img.data[5 * img.stride + 7],
              (synth_px(7, 5, 0) + synth_px(7, 5, 1) + synth_px(7, 5, 2)) / 3);
    vis_image_release(&img);
    ff_free(p);
    /* a grey PNG comes out as RGB with r = g = b */
    p = png_of(9, 4, VIS_GRAY8, &n);
    ASSERT_OK(vis_decode(p, n, NULL, &img, NULL, err, sizeof err));
    ASSERT_EQ(img.data[3 * img.stride + 3 * 2 + 1], synth_px(2, 3, 0));
    vis_image_release(&img);
    ff_free(p);
}

TEST(jpeg_decodes_rgb_and_grey)
{
    size_t n;
    uint8_t *j = synth_jpeg(40, 30, 3, 0, 0, &n);
    ASSERT_EQ(vis_sniff(j, n), VIS_CODEC_JPEG);
    struct vis_image img;
    ASSERT_OK(vis_decode(j, n, NULL, &img, NULL, err, sizeof err));
    ASSERT_EQ(img.w, 40);
    ASSERT_EQ(img.h, 30);
    int px = img.data[10 * img.stride + 3 * 20];
    ASSERT(abs(px - synth_px(20, 10, 0)) < 12); /* lossy */
    vis_image_release(&img);
    free(j);
    j = synth_jpeg(16, 8, 1, 0, 0, &n);
    ASSERT_OK(vis_decode(j, n, NULL, &img, NULL, err, sizeof err));
    ASSERT_EQ(img.fmt, VIS_RGB8);
    ASSERT_EQ(img.data[0], img.data[1]);
    vis_image_release(&img);
    free(j);
}

/* Where does source pixel (sx, sy) of a w x h stored image land for orientation o? */
static void oriented(int o, int w, int h, int sx, int sy, int *dx, int *dy)
{
    switch (o) {
    case 1: *dx = sx; *dy = sy; break;
    case 2: *dx = w - 1 - sx; *dy = sy; break;
    case 3: *dx = w - 1 - sx; *dy = h - 1 - sy; break;
    case 4: *dx = sx; *dy = h - 1 - sy; break;
    case 5: *dx = sy; *dy = sx; break;
    case 6: *dx = h - 1 - sy; *dy = sx; break; /* rotate 90 clockwise */
    case 7: *dx = h - 1 - sy; *dy = w - 1 - sx; break;
    default: *dx = sy; *dy = w - 1 - sx; break; /* 8: rotate 90 counter-clockwise */
    }
}

TEST(exif_orientation_all_eight)
{
    const int w = 48, h = 32;
    size_t n0;
    uint8_t *plain = synth_jpeg(w, h, 3, 0, 0, &n0);
    struct vis_image ref;
    ASSERT_OK(vis_decode(plain, n0, NULL, &ref, NULL, err, sizeof err));
    for (int o = 1; o <= 8; o++)
        for (int le = 0; le <= 1; le++) {
            size_t n;
            uint8_t *j = synth_jpeg(w, h, 3, o, le, &n);
            struct vis_image img;
            struct vis_decode_info in;
            ASSERT_OK(vis_decode(j, n, NULL, &img, &in, err, sizeof err));
            ASSERT_EQ(in.orientation, o);
            ASSERT_EQ(in.stored_w, w);
            ASSERT_EQ(img.w, o >= 5 ? h : w);
            ASSERT_EQ(img.h, o >= 5 ? w : h);
            const int probes[][2] = {{0, 0}, {w - 1, 0}, {0, h - 1}, {13, 7}, {w - 1, h - 1}};
            for (int k = 0; k < 5; k++) {
                int dx, dy;
                oriented(o, w, h, probes[k][0], probes[k][1], &dx, &dy);
                ASSERT(!memcmp(img.data + (size_t)dy * img.stride + 3 * (size_t)dx,
                               ref.data + (size_t)probes[k][1] * ref.stride + 3 * (size_t)probes[k][0],
                               3));
            }
            vis_image_release(&img);
            /* ignore_exif keeps the stored layout */
            struct vis_decode_opts op = {.ignore_exif = 1};
            ASSERT_OK(vis_decode(j, n, &op, &img, NULL, err, sizeof err));
            ASSERT_EQ(img.w, w);
            vis_image_release(&img);
            free(j);
        }
    vis_image_release(&ref);
    free(plain);
}

TEST(exif_parser_is_robust)
{
    uint8_t ex[64];
    size_t n = synth_exif(ex, 6, 1);
    ASSERT_EQ(vis_exif_orientation(ex, n), 6);
    for (size_t k = 0; k < n; k++) /* every truncation: a default, no overread */
        ASSERT(vis_exif_orientation(ex, k) >= 1);
    ex[24] = 9; /* out of range value */
    ASSERT_EQ(vis_exif_orientation(ex, n), 1);
    ex[24] = 6;
    ex[10] = 0xF0; /* IFD offset past the end */
    ASSERT_EQ(vis_exif_orientation(ex, n), 1);
    ASSERT_EQ(vis_exif_orientation((const uint8_t *)"Exif\0\0XX", 8), 1);
}

TEST(empty_and_wrong_magic)
{
    struct vis_image img;
    ASSERT_EQ(vis_decode("", 0, NULL, &img, NULL, err, sizeof err), FF_EINVAL);
    ASSERT(strstr(err, "empty"));
    ASSERT_EQ(vis_decode(NULL, 10, NULL, &img, NULL, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(vis_decode("GIF89a....", 10, NULL, &img, NULL, err, sizeof err), FF_EUNSUPPORTED);
    ASSERT(strstr(err, "not a JPEG or PNG"));
    ASSERT_EQ(vis_decode("\xFF\xD8", 2, NULL, &img, NULL, err, sizeof err), FF_EUNSUPPORTED);
    ASSERT(img.data == NULL);
    ASSERT_EQ(vis_decode_file("/nonexistent.jpg", NULL, &img, NULL, err, sizeof err),
              FF_ENOTFOUND);
}

TEST(truncated_files_are_corrupt)
{
    size_t n;
    uint8_t *j = synth_jpeg(64, 64, 3, 0, 0, &n);
    struct vis_image img;
    int corrupt = 0;
    for (size_t k = 3; k < n; k += (k < 700 ? 1 : 7)) {
        enum ff_err e = vis_decode(j, k, NULL, &img, NULL, err, sizeof err);
        if (e == FF_OK)
            TEST_FAIL("JPEG cut at %zu/%zu bytes decoded", k, n);
        ASSERT_EQ(e, FF_ECORRUPT);
        ASSERT(img.data == NULL);
        corrupt++;
    }
    ASSERT(corrupt > 100);
    ASSERT_EQ(vis_decode(j, n / 2, NULL, &img, NULL, err, sizeof err), FF_ECORRUPT);
    fprintf(stderr, "  truncated JPEG: %s\n", err);
    free(j);
    uint8_t *p = png_of(50, 40, VIS_RGB8, &n);
    for (size_t k = 8; k < n; k++) {
        enum ff_err e = vis_decode(p, k, NULL, &img, NULL, err, sizeof err);
        if (e == FF_OK)
            TEST_FAIL("PNG cut at %zu/%zu bytes decoded", k, n);
        ASSERT(img.data == NULL);
    }
    ff_free(p);
}

TEST(corrupt_bytes_never_crash)
{
    size_t n;
    uint8_t *j = synth_jpeg(32, 32, 3, 6, 0, &n);
    struct vis_image img;
    for (size_t k = 2; k < n; k++) {
        uint8_t old = j[k];
        j[k] ^= 0x5a;
        if (vis_decode(j, n, NULL, &img, NULL, err, sizeof err) == FF_OK)
            vis_image_release(&img);
        j[k] = old;
    }
    free(j);
    uint8_t *p = png_of(20, 20, VIS_RGB8, &n);
    for (size_t k = 8; k < n; k++) {
        uint8_t old = p[k];
        p[k] ^= 0xa5;
        enum ff_err e = vis_decode(p, n, NULL, &img, NULL, err, sizeof err);
        if (e == FF_OK)
            vis_image_release(&img);
        p[k] = old;
    }
    ff_free(p);
}

TEST(one_by_one_decodes)
{
    size_t n;
    uint8_t *p = png_of(1, 1, VIS_RGB8, &n);
    struct vis_image img;
    ASSERT_OK(vis_decode(p, n, NULL, &img, NULL, err, sizeof err));
    ASSERT_EQ(img.w, 1);
    ASSERT_EQ(img.h, 1);
    vis_image_release(&img);
    ff_free(p);
    uint8_t *j = synth_jpeg(1, 1, 3, 0, 0, &n);
    ASSERT_OK(vis_decode(j, n, NULL, &img, NULL, err, sizeof err));
    ASSERT_EQ(img.w, 1);
    vis_image_release(&img);
    free(j);
}

TEST(huge_headers_refused_before_allocation)
{
    struct vis_image img;
    size_t used = ff_alloc_used();
    /* JPEG claiming 30000 x 30000 */
    size_t n;
    uint8_t *j = synth_jpeg(16, 16, 3, 0, 0, &n);
    ASSERT_OK(synth_jpeg_set_size(j, n, 30000, 30000));
    ASSERT_EQ(vis_decode(j, n, NULL, &img, NULL, err, sizeof err), FF_ETOOBIG);
    ASSERT(strstr(err, "30000x30000"));
    free(j);
    /* PNG claiming 30000 x 30000 */
    uint8_t hdr[64];
    size_t hn = synth_png_header(hdr, 30000, 30000);
    ASSERT_EQ(vis_decode(hdr, hn, NULL, &img, NULL, err, sizeof err), FF_ETOOBIG);
    ASSERT(strstr(err, "30000x30000"));
    /* over libpng's side limit, and zero */
    hn = synth_png_header(hdr, 100000, 2);
    ASSERT(vis_decode(hdr, hn, NULL, &img, NULL, err, sizeof err) != FF_OK);
    hn = synth_png_header(hdr, 0, 0);
    ASSERT_EQ(vis_decode(hdr, hn, NULL, &img, NULL, err, sizeof err), FF_ECORRUPT);
    ASSERT_EQ(ff_alloc_used(), used);
    /* a configurable budget */
    uint8_t *p = png_of(100, 100, VIS_RGB8, &n);
    struct vis_decode_opts o = {.max_pixels = 9999};
    ASSERT_EQ(vis_decode(p, n, &o, &img, NULL, err, sizeof err), FF_ETOOBIG);
    o.max_pixels = 10000;
    ASSERT_OK(vis_decode(p, n, &o, &img, NULL, err, sizeof err));
    vis_image_release(&img);
    ff_free(p);
}

TEST(cmyk_is_unsupported)
{
    size_t n;
    uint8_t *j = synth_jpeg(8, 8, 4, 0, 0, &n);
    struct vis_image img;
    ASSERT_EQ(vis_decode(j, n, NULL, &img, NULL, err, sizeof err), FF_EUNSUPPORTED);
    ASSERT(strstr(err, "CMYK"));
    free(j);
}

TEST(allocation_failures)
{
    size_t n, pn;
    uint8_t *j = synth_jpeg(24, 24, 3, 6, 0, &n);
    uint8_t *p = png_of(24, 24, VIS_RGB8, &pn);
    struct vis_image img;
    for (long k = 1; k < 12; k++) {
        ff_alloc_fail_after(k);
        enum ff_err e = vis_decode(j, n, NULL, &img, NULL, err, sizeof err);
        ff_alloc_fail_after(0);
        if (e == FF_OK)
            vis_image_release(&img);
        else
            ASSERT_EQ(e, FF_ENOMEM);
        ff_alloc_fail_after(k);
        e = vis_decode(p, pn, NULL, &img, NULL, err, sizeof err);
        ff_alloc_fail_after(0);
        if (e == FF_OK)
            vis_image_release(&img);
        else
            ASSERT_EQ(e, FF_ENOMEM);
    }
    free(j);
    ff_free(p);
}

int main(void)
{
    RUN(png_roundtrip_exact);
    RUN(jpeg_decodes_rgb_and_grey);
    RUN(exif_orientation_all_eight);
    RUN(exif_parser_is_robust);
    RUN(empty_and_wrong_magic);
    RUN(truncated_files_are_corrupt);
    RUN(corrupt_bytes_never_crash);
    RUN(one_by_one_decodes);
    RUN(huge_headers_refused_before_allocation);
    RUN(cmyk_is_unsupported);
    RUN(allocation_failures);
    return TEST_REPORT();
}
