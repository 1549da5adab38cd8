/* test_shape_model.c - the shape-model loader and its cache on synthetic dlib
 * files: any point count, hostile bytes, truncation, stale and corrupt caches,
 * allocation failures. With the dlib oracle built (FF_DLIB_REF), a random
 * 5-point model must give dlib's exact points. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "unit/vision/synth_model.h"
#include "vision/decode.h"
#include "vision/image_ops.h"
#include "vision/shape.h"

static char tmpdir[256];

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f))
        TEST_FAIL("cannot write %s", path);
}

static void synth_image(struct vis_image *img, int w, int h)
{
    if (vis_image_alloc(img, w, h, VIS_RGB8))
        TEST_FAIL("alloc");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + 3 * (size_t)x;
            p[0] = (uint8_t)(x * 7 + y * 3);
            p[1] = (uint8_t)((x * y) % 251);
            p[2] = (uint8_t)(x ^ y);
        }
}

static enum ff_err parse(const struct sm_buf *b, struct vis_shape_model **m, char *err, size_t n)
{
    return vis_shape_model_from_dlib(b->p, b->len, m, err, n);
}

TEST(parses_any_point_count)
{
    const unsigned parts[] = {1, 5, 68, 194};
    for (size_t i = 0; i < 4; i++) {
        struct sm_buf b = sm_model(parts[i], 3, 7, 3, 40, 1234 + (uint32_t)i);
        struct vis_shape_model *m;
        char err[256];
        enum ff_err e = parse(&b, &m, err, sizeof err);
        if (e)
            TEST_FAIL("P=%u: %s", parts[i], err);
        struct vis_shape_info in;
        vis_shape_model_info(m, &in);
        ASSERT_EQ(in.parts, parts[i]);
        ASSERT_EQ(in.cascades, 3);
        ASSERT_EQ(in.trees, 21);
        ASSERT_EQ(in.splits_per_tree, 7);
        ASSERT_EQ(in.features, 40);
        struct vis_image img;
        synth_image(&img, 120, 100);
        struct vis_point *p = calloc(parts[i], sizeof *p), *q = calloc(parts[i], sizeof *q);
        struct vis_rect box = {20, 15, 99, 94};
        ASSERT_OK(vis_shape_predict(m, &img, box, p));
        /* grey input gives the same points as RGB input ((r+g+b)/3) */
        struct vis_image g;
        ASSERT_OK(vis_image_to_gray(&img, &g));
        ASSERT_OK(vis_shape_predict(m, &g, box, q));
        for (unsigned j = 0; j < parts[i]; j++) {
            ASSERT(p[j].x == q[j].x && p[j].y == q[j].y);
            ASSERT(p[j].x > -200 && p[j].x < 320);
        }
        free(p);
        free(q);
        vis_image_release(&img);
        vis_image_release(&g);
        vis_shape_model_free(m);
        free(b.p);
    }
}

TEST(every_truncation_is_an_error)
{
    struct sm_buf b = sm_model(5, 2, 3, 2, 10, 99);
    char err[256];
    for (size_t n = 0; n < b.len; n++) {
        struct vis_shape_model *m = (void *)1;
        enum ff_err e = vis_shape_model_from_dlib(b.p, n, &m, err, sizeof err);
        if (e == FF_OK)
            TEST_FAIL("prefix of %zu/%zu bytes accepted", n, b.len);
        ASSERT(m == NULL);
        ASSERT(err[0] != 0);
    }
    free(b.p);
}

static enum ff_err parse_bytes(const void *p, size_t n, char *err, size_t errlen)
{
    struct vis_shape_model *m = NULL;
    enum ff_err e = vis_shape_model_from_dlib(p, n, &m, err, errlen);
    vis_shape_model_free(m);
    return e;
}

TEST(hostile_headers)
{
    char err[256];
    /* wrong version */
    ASSERT_EQ(parse_bytes("\x01\x02", 2, err, sizeof err), FF_EUNSUPPORTED);
    ASSERT(strstr(err, "version"));
    /* old text-format control byte */
    ASSERT_EQ(parse_bytes("\x31\x02", 2, err, sizeof err), FF_ECORRUPT);
    /* 2^40 cascades must not allocate */
    struct sm_buf b = {0};
    sm_int(&b, 1);
    sm_int(&b, -2);
    sm_int(&b, -1);
    sm_float(&b, 0.5f);
    sm_float(&b, 0.5f);
    sm_int(&b, (int64_t)1 << 40);
    ASSERT_EQ(parse_bytes(b.p, b.len, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "cascades"));
    /* odd number of initial-shape values */
    b.len = 0;
    sm_int(&b, 1);
    sm_int(&b, -3);
    sm_int(&b, -1);
    ASSERT_EQ(parse_bytes(b.p, b.len, err, sizeof err), FF_ECORRUPT);
    /* a float too large for float32 (2^1000) and an infinity */
    b.len = 0;
    sm_int(&b, 1);
    sm_int(&b, -2);
    sm_int(&b, -1);
    sm_int(&b, 1);
    sm_int(&b, 1000);
    ASSERT_EQ(parse_bytes(b.p, b.len, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "out of range"));
    b.len = 0;
    sm_int(&b, 1);
    sm_int(&b, -2);
    sm_int(&b, -1);
    sm_int(&b, 1);
    sm_int(&b, 32000);
    ASSERT_EQ(parse_bytes(b.p, b.len, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "non-finite"));
    /* a row vector where a column vector belongs */
    b.len = 0;
    sm_int(&b, 1);
    sm_int(&b, -2);
    sm_int(&b, -2);
    ASSERT_EQ(parse_bytes(b.p, b.len, err, sizeof err), FF_ECORRUPT);
    free(b.p);
    /* the HOG detector is a dlib file of another kind */
    size_t dn;
    extern const void *vis_detector_default_model(size_t *len);
    const void *det = vis_detector_default_model(&dn);
    enum ff_err e = parse_bytes(det, dn, err, sizeof err);
    ASSERT(e == FF_ECORRUPT || e == FF_EUNSUPPORTED);
    fprintf(stderr, "  detector file as landmark model: %s\n", err);
}

TEST(corrupt_bodies)
{
    char err[256];
    struct sm_buf b = sm_model(5, 2, 3, 2, 10, 7);
    /* trailing garbage */
    sm_put(&b, "x", 1);
    ASSERT_EQ(parse_bytes(b.p, b.len, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "after the model"));
    b.len--;
    ASSERT_OK(parse_bytes(b.p, b.len, err, sizeof err));
    /* flip every byte in turn: never a crash, and any accepted model predicts */
    struct vis_image img;
    synth_image(&img, 64, 64);
    int accepted = 0;
    for (size_t i = 0; i < b.len; i++) {
        uint8_t old = b.p[i];
        b.p[i] ^= (uint8_t)(0x41 + (i & 0x3e));
        struct vis_shape_model *m = NULL;
        if (vis_shape_model_from_dlib(b.p, b.len, &m, err, sizeof err) == FF_OK) {
            struct vis_point pts[5];
            struct vis_rect box = {4, 4, 59, 59};
            ASSERT_OK(vis_shape_predict(m, &img, box, pts));
            accepted++;
        }
        vis_shape_model_free(m);
        b.p[i] = old;
    }
    fprintf(stderr, "  %d of %zu single-byte corruptions still parse (values changed)\n",
            accepted, b.len);
    vis_image_release(&img);
    free(b.p);
}

TEST(allocation_failures_are_clean)
{
    struct sm_buf b = sm_model(5, 2, 3, 2, 10, 3);
    char err[256];
    int failed = 0;
    for (long n = 1; n < 50; n++) {
        ff_alloc_fail_after(n);
        struct vis_shape_model *m = NULL;
        enum ff_err e = vis_shape_model_from_dlib(b.p, b.len, &m, err, sizeof err);
        ff_alloc_fail_after(0);
        if (e) {
            ASSERT_EQ(e, FF_ENOMEM);
            ASSERT(m == NULL);
            failed++;
        }
        vis_shape_model_free(m);
    }
    ASSERT(failed >= 3);
    free(b.p);
}

static int load(const char *model, const char *cache, struct vis_shape_model **m,
                struct vis_shape_info *in)
{
    char err[512];
    struct vis_shape_opts o = {.path = model, .cache_dir = cache};
    enum ff_err e = vis_shape_model_load(&o, m, err, sizeof err);
    if (e) {
        fprintf(stderr, "  load: %s\n", err);
        return e;
    }
    vis_shape_model_info(*m, in);
    return 0;
}

static void same_points(struct vis_shape_model *a, struct vis_shape_model *b)
{
    struct vis_image img;
    synth_image(&img, 90, 80);
    struct vis_point p[5], q[5];
    struct vis_rect box = {10, 8, 79, 77};
    ASSERT_OK(vis_shape_predict(a, &img, box, p));
    ASSERT_OK(vis_shape_predict(b, &img, box, q));
    ASSERT(!memcmp(p, q, sizeof p));
    vis_image_release(&img);
}

TEST(cache_roundtrip_stale_and_corrupt)
{
    char model[512], cache[512];
    snprintf(model, sizeof model, "%s/five.dat", tmpdir);
    snprintf(cache, sizeof cache, "%s/cache/sub", tmpdir);
    struct sm_buf b = sm_model(5, 4, 10, 3, 30, 42);
    write_file(model, b.p, b.len);
    struct vis_shape_model *m0, *m1, *m2;
    struct vis_shape_info i0, i1, i2;
    ASSERT_OK(load(model, cache, &m0, &i0));
    ASSERT_EQ(i0.from_cache, 0);
    ASSERT_EQ(i0.cache_written, 1);
    ASSERT(i0.cache_path[0]);
    ASSERT_OK(load(model, cache, &m1, &i1));
    ASSERT_EQ(i1.from_cache, 1);
    ASSERT_STREQ(i1.sha256, i0.sha256);
    same_points(m0, m1);
    vis_shape_model_free(m1);

    /* corrupt one payload byte: detected, rebuilt */
    int fd = open(i0.cache_path, O_RDWR);
    ASSERT(fd >= 0);
    struct stat st;
    ASSERT_OK(fstat(fd, &st));
    uint8_t byte;
    ASSERT_EQ(pread(fd, &byte, 1, st.st_size - 3), 1);
    byte ^= 0x10;
    ASSERT_EQ(pwrite(fd, &byte, 1, st.st_size - 3), 1);
    close(fd);
    ASSERT_OK(load(model, cache, &m2, &i2));
    ASSERT_EQ(i2.from_cache, 0);
    ASSERT_EQ(i2.cache_written, 1);
    same_points(m0, m2);
    vis_shape_model_free(m2);

    /* truncated cache: rebuilt */
    ASSERT_OK(truncate(i0.cache_path, 1000));
    ASSERT_OK(load(model, cache, &m2, &i2));
    ASSERT_EQ(i2.from_cache, 0);
    vis_shape_model_free(m2);

    /* the source changes (new mtime, other content): the cache is stale */
    struct sm_buf b2 = sm_model(5, 4, 10, 3, 30, 43);
    write_file(model, b2.p, b2.len);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1234567890, 5}};
    ASSERT_OK(utimensat(AT_FDCWD, model, ts, 0));
    ASSERT_OK(load(model, cache, &m2, &i2));
    ASSERT_EQ(i2.from_cache, 0);
    ASSERT(strcmp(i2.sha256, i0.sha256) != 0);
    vis_shape_model_free(m2);
    ASSERT_OK(load(model, cache, &m2, &i2));
    ASSERT_EQ(i2.from_cache, 1);
    vis_shape_model_free(m2);

    /* an unusable cache folder is not an error */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/dir-under-file", model);
    ASSERT_OK(load(model, bad, &m2, &i2));
    ASSERT_EQ(i2.cache_path[0], 0);
    vis_shape_model_free(m2);
    /* "" disables the cache */
    ASSERT_OK(load(model, "", &m2, &i2));
    ASSERT_EQ(i2.cache_path[0], 0);
    ASSERT_EQ(i2.from_cache, 0);
    vis_shape_model_free(m2);

    vis_shape_model_free(m0);
    free(b.p);
    free(b2.p);
}

TEST(missing_and_env_paths)
{
    struct vis_shape_model *m = NULL;
    char err[512];
    struct vis_shape_opts o = {.path = "/nonexistent/model.dat", .cache_dir = ""};
    ASSERT_EQ(vis_shape_model_load(&o, &m, err, sizeof err), FF_ENOTFOUND);
    ASSERT(strstr(err, "/nonexistent/model.dat"));
    ASSERT(m == NULL);
    o.path = tmpdir; /* a directory */
    ASSERT_EQ(vis_shape_model_load(&o, &m, err, sizeof err), FF_EINVAL);
    char empty[512];
    snprintf(empty, sizeof empty, "%s/empty.dat", tmpdir);
    write_file(empty, "", 0);
    o.path = empty;
    ASSERT_EQ(vis_shape_model_load(&o, &m, err, sizeof err), FF_ECORRUPT);
    ASSERT(strstr(err, "empty"));
    /* FRAMEFIT_LANDMARK_MODEL is used when no path is given */
    char model[512];
    snprintf(model, sizeof model, "%s/env.dat", tmpdir);
    struct sm_buf b = sm_model(3, 1, 2, 1, 4, 5);
    write_file(model, b.p, b.len);
    setenv("FRAMEFIT_LANDMARK_MODEL", model, 1);
    o.path = NULL;
    ASSERT_OK(vis_shape_model_load(&o, &m, err, sizeof err));
    ASSERT_EQ(vis_shape_model_parts(m), 3);
    vis_shape_model_free(m);
    unsetenv("FRAMEFIT_LANDMARK_MODEL");
    free(b.p);
}

#ifdef FF_DLIB_REF
/* dlib itself, on a random 5-point model and a synthetic picture. */
TEST(five_point_model_matches_dlib)
{
    char model[512], png[512], cmd[2048];
    snprintf(model, sizeof model, "%s/oracle5.dat", tmpdir);
    snprintf(png, sizeof png, "%s/oracle.png", tmpdir);
    struct sm_buf b = sm_model(5, 6, 50, 4, 120, 2024);
    write_file(model, b.p, b.len);
    struct vis_image img;
    synth_image(&img, 160, 140);
    uint8_t *enc;
    size_t enclen;
    ASSERT_OK(vis_encode_png(&img, &enc, &enclen));
    write_file(png, enc, enclen);
    ff_free(enc);
    struct vis_shape_model *m;
    char err[256];
    ASSERT_OK(vis_shape_model_from_dlib(b.p, b.len, &m, err, sizeof err));
    const long boxes[][4] = {{20, 15, 120, 110}, {-30, -20, 150, 150}, {60, 50, 40, 40}};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "'%s' --model '%s' '%s' %ld,%ld,%ld,%ld", FF_DLIB_REF, model,
                 png, boxes[k][0], boxes[k][1], boxes[k][2], boxes[k][3]);
        FILE *f = popen(cmd, "r");
        ASSERT(f);
        char out[8192];
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = 0;
        ASSERT_OK(pclose(f));
        const char *pts = strstr(out, "\"points\":[");
        ASSERT(pts);
        pts += 10;
        struct vis_point p[5];
        struct vis_rect box = {boxes[k][0], boxes[k][1], boxes[k][0] + boxes[k][2] - 1,
                               boxes[k][1] + boxes[k][3] - 1};
        ASSERT_OK(vis_shape_predict(m, &img, box, p));
        for (int j = 0; j < 5; j++) {
            long x, y;
            int used;
            ASSERT_EQ(sscanf(pts, "[%ld,%ld]%n", &x, &y, &used), 2);
            pts += used + 1;
            if (x != (long)p[j].x || y != (long)p[j].y)
                TEST_FAIL("box %d point %d: dlib (%ld,%ld) vs ours (%g,%g)", k, j, x, y, p[j].x,
                          p[j].y);
        }
    }
    vis_shape_model_free(m);
    vis_image_release(&img);
    free(b.p);
}
#endif

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/ff-shape-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(parses_any_point_count);
    RUN(every_truncation_is_an_error);
    RUN(hostile_headers);
    RUN(corrupt_bodies);
    RUN(allocation_failures_are_clean);
    RUN(cache_roundtrip_stale_and_corrupt);
    RUN(missing_and_env_paths);
#ifdef FF_DLIB_REF
    RUN(five_point_model_matches_dlib);
#else
    fprintf(stderr, "note: dlib oracle not built (libdlib-dev absent); 5-point dlib check skipped\n");
#endif
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {
    }
    return TEST_REPORT();
}
