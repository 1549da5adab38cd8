/* Loader tests for the HOG detector model: the real model (embedded and from
 * models/), its structure, and malformed input (empty, truncated, wrong kind). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "vision/detect.h"
#include "vision/hog.h"

static const uint8_t *model(size_t *len) { return vis_detector_default_model(len); }

TEST(embedded_model_loads)
{
    struct vis_detector *d = NULL;
    char err[256];
    ASSERT_OK(vis_detector_load_default(&d, err, sizeof err));
    ASSERT(d != NULL);
    ASSERT_EQ(vis_detector_num_filters(d), 5);
    static const int parts[5] = {61, 58, 54, 66, 66}; /* dlib's separable counts */
    static const double bias[5] = {3.2745, 3.9868, 3.8959, 3.5149, 3.5580};
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(d->filters[i].nparts, parts[i]);
        ASSERT_NEAR(d->filters[i].bias, bias[i], 1e-4);
    }
    ASSERT_NEAR(d->iou_thresh, 0.33008212188056446, 1e-15);
    ASSERT_NEAR(d->cover_thresh, 0.7885714285714286, 1e-15);
    ASSERT_EQ(d->min_level_w, 64);
    ASSERT_EQ(d->max_levels, 1000);
    vis_detector_free(d);
}

TEST(separable_parts_reconstruct_filter)
{
    struct vis_detector *d = NULL;
    ASSERT_OK(vis_detector_load_default(&d, NULL, 0));
    /* sum of rank-1 parts == the full filter up to the dropped singular values */
    for (size_t f = 0; f < d->nfilters; f++) {
        const struct hog_filter *hf = &d->filters[f];
        for (int p = 0; p < HOG_PLANES; p++) {
            double maxerr = 0, maxw = 0;
            for (int y = 0; y < HOG_FILTER; y++)
                for (int x = 0; x < HOG_FILTER; x++) {
                    double s = 0;
                    for (int k = 0; k < hf->nparts; k++)
                        if (hf->parts[k].plane == p)
                            s += (double)hf->parts[k].col[y] * hf->parts[k].row[x];
                    double e = s - hf->w[p][y][x];
                    if (e < 0) e = -e;
                    if (e > maxerr) maxerr = e;
                    double a = hf->w[p][y][x] < 0 ? -hf->w[p][y][x] : hf->w[p][y][x];
                    if (a > maxw) maxw = a;
                }
            ASSERT(maxerr <= 2e-3 * (maxw > 0.05 ? maxw : 0.05) + 1e-4);
        }
    }
    vis_detector_free(d);
}

TEST(model_file_loads)
{
    struct vis_detector *d = NULL;
    char err[256];
    ASSERT_OK(vis_detector_load(FF_SOURCE_DIR "/models/dlib_frontal_face_detector.dat", &d, err,
                                sizeof err));
    ASSERT_EQ(vis_detector_num_filters(d), 5);
    vis_detector_free(d);
}

TEST(missing_file_is_eio)
{
    struct vis_detector *d = (struct vis_detector *)1;
    char err[256];
    ASSERT_EQ(vis_detector_load("/nonexistent/model.dat", &d, err, sizeof err), FF_EIO);
    ASSERT(d == NULL);
    ASSERT(strstr(err, "cannot open") != NULL);
}

TEST(empty_model)
{
    struct vis_detector *d = NULL;
    char err[256];
    ASSERT_EQ(vis_detector_load_mem("", 0, &d, err, sizeof err), FF_ECORRUPT);
    ASSERT(d == NULL);
    ASSERT(strstr(err, "empty") != NULL);
}

TEST(every_truncation_fails_cleanly)
{
    size_t len;
    const uint8_t *m = model(&len);
    char err[256];
    /* every prefix through the header and the first weights, then a stride
     * through the rest (odd, so it lands on every kind of field), then the
     * last bytes */
    for (size_t n = 0; n < len; n += (n < 600 || n > len - 64) ? 1 : 397) {
        uint8_t *copy = ff_malloc(n ? n : 1); /* exact size: ASan sees overreads */
        memcpy(copy, m, n);
        struct vis_detector *d = NULL;
        enum ff_err e = vis_detector_load_mem(copy, n, &d, err, sizeof err);
        ff_free(copy);
        if (e != FF_ECORRUPT)
            TEST_FAIL("prefix %zu: %d (%s)", n, (int)e, err);
        ASSERT(d == NULL);
    }
}

TEST(trailing_garbage_fails)
{
    size_t len;
    const uint8_t *m = model(&len);
    uint8_t *copy = ff_malloc(len + 1);
    memcpy(copy, m, len);
    copy[len] = 0x01;
    struct vis_detector *d = NULL;
    char err[256];
    ASSERT_EQ(vis_detector_load_mem(copy, len + 1, &d, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "after the end") != NULL);
    ff_free(copy);
}

TEST(wrong_kind)
{
    struct vis_detector *d = NULL;
    char err[256];
    /* a shape_predictor starts with version 1 then a negated matrix size */
    static const uint8_t sp[] = {0x01, 0x01, 0x81, 0x88, 0x81, 0x01, 0x01, 0x00};
    enum ff_err e = vis_detector_load_mem(sp, sizeof sp, &d, err, sizeof err);
    ASSERT(e == FF_EUNSUPPORTED || e == FF_ECORRUPT);
    ASSERT(d == NULL);
    /* object_detector v2 whose scanner is not scan_fhog_pyramid v1 */
    static const uint8_t other[] = {0x01, 0x02, 0x01, 0x04};
    ASSERT_EQ(vis_detector_load_mem(other, sizeof other, &d, err, sizeof err), FF_EUNSUPPORTED);
    ASSERT(strstr(err, "scan_fhog_pyramid") != NULL);
    /* PNG magic */
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    ASSERT_EQ(vis_detector_load_mem(png, sizeof png, &d, err, sizeof err), FF_ECORRUPT);
}

TEST(hostile_values)
{
    size_t len;
    const uint8_t *m = model(&len);
    uint8_t *copy = ff_malloc(len);
    struct vis_detector *d = NULL;
    char err[256];
    /* cell_size (bytes 8..9 = 01 08) changed to 16: unsupported configuration */
    memcpy(copy, m, len);
    ASSERT_EQ(copy[8], 0x01);
    ASSERT_EQ(copy[9], 0x08);
    copy[9] = 16;
    ASSERT_EQ(vis_detector_load_mem(copy, len, &d, err, sizeof err), FF_EUNSUPPORTED);
    /* an integer with reserved bits set */
    memcpy(copy, m, len);
    copy[0] = 0x71;
    ASSERT_EQ(vis_detector_load_mem(copy, len, &d, err, sizeof err), FF_ECORRUPT);
    /* an integer claiming 9 bytes */
    memcpy(copy, m, len);
    copy[8] = 0x09;
    ASSERT_EQ(vis_detector_load_mem(copy, len, &d, err, sizeof err), FF_ECORRUPT);
    /* the first filter weight (offset 57) with its exponent's sign flipped:
     * finite but huge, which would overflow the float filters */
    memcpy(copy, m, len);
    ASSERT_EQ(copy[50], 0x01);
    ASSERT_EQ(copy[51], 0x05);
    ASSERT_EQ(copy[52], 0x82);
    size_t ep = 57 + 1 + (copy[57] & 0x0F); /* exponent control byte */
    ASSERT(copy[ep] & 0x80);
    copy[ep] &= 0x7F;
    ASSERT_EQ(vis_detector_load_mem(copy, len, &d, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "out of range") != NULL);
    ff_free(copy);
}

TEST(alloc_failures_are_clean)
{
    size_t len;
    const uint8_t *m = model(&len);
    for (long k = 1; k < 12; k++) {
        struct vis_detector *d = NULL;
        ff_alloc_fail_after(k);
        enum ff_err e = vis_detector_load_mem(m, len, &d, NULL, 0);
        ff_alloc_fail_after(0);
        if (e == FF_OK) {
            vis_detector_free(d);
            break;
        }
        ASSERT_EQ(e, FF_ENOMEM);
        ASSERT(d == NULL);
    }
}

int main(void)
{
    RUN(embedded_model_loads);
    RUN(separable_parts_reconstruct_filter);
    RUN(model_file_loads);
    RUN(missing_file_is_eio);
    RUN(empty_model);
    RUN(every_truncation_fails_cleanly);
    RUN(trailing_garbage_fails);
    RUN(wrong_kind);
    RUN(hostile_values);
    RUN(alloc_failures_are_clean);
    return TEST_REPORT();
}
