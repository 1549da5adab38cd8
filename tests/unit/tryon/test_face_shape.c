/* test_face_shape.c - face measurements, shape classification and scale:
 * synthetic 68-point faces built for each shape, and the dev photos from
 * FF_SHARED_DIR/data/faces (skipped when absent; never copied into the repo). */
#include <dirent.h>
#include <math.h>

#include "harness.h"
#include "tryon/face_shape.h"
#include "vision/decode.h"
#include "vision/image_ops.h"
#include "vision/vision.h"

/* ---- a parametric synthetic face ------------------------------------------------ */

struct synth {
    double len_ratio;  /* face length / width (length = 1.5 x brow-to-chin) */
    double fore;       /* brow span / width */
    double jaw;        /* jaw width / width */
    double jaw_angle;  /* target interior angle at the jaw corners (degrees) */
    double chin;       /* chin width (6-10) / width */
};

#define W 140.0 /* cheekbone width in pixels */

/* Builds 68 points (eyes at y = 0, centred at x = 0) with the jaw corner at
 * fraction jf of the eye-to-chin height. */
static void build(const struct synth *s, double jf, struct vis_point p[68])
{
    double btc = s->len_ratio * W / 1.5, brow_y = -26, H = btc + brow_y;
    /* contour half-widths and heights, points 0..8 (8 = chin) */
    double jw = s->jaw * W / 2, cw = s->chin * W / 2;
    double hy[9] = {0, 0.17, 0.34, 0, 0, 0, 0, 0, 1};
    double hx[9] = {0.98 * W / 2, W / 2, 0, 0, jw, 0, cw, 0, 0};
    hy[4] = jf;
    hy[3] = (hy[2] + hy[4]) / 2;
    hy[6] = jf + (1 - jf) * 0.6;
    hy[5] = (hy[4] + hy[6]) / 2;
    hy[7] = jf + (1 - jf) * 0.85;
    hx[2] = W / 2 - (W / 2 - jw) * 0.25;
    hx[3] = W / 2 - (W / 2 - jw) * 0.6;
    hx[5] = (jw + cw) / 2;
    hx[7] = cw * 0.5;
    for (int i = 0; i <= 8; i++) {
        p[i] = (struct vis_point){-hx[i], hy[i] * H};
        p[16 - i] = (struct vis_point){hx[i], hy[i] * H};
    }
    /* brows 17-21 (image left) and 22-26 mirrored */
    double bw = s->fore * W / 2, by[5] = {-18, -24, -26, -24, -20};
    for (int i = 0; i < 5; i++) {
        double x = -bw + (bw - 8) * i / 4.0;
        p[17 + i] = (struct vis_point){x, by[i]};
        p[26 - i] = (struct vis_point){-x, by[i]};
    }
    /* nose */
    for (int i = 0; i < 4; i++)
        p[27 + i] = (struct vis_point){0, 6 + i * 10};
    for (int i = 0; i < 5; i++)
        p[31 + i] = (struct vis_point){-10 + 5 * i, 44 + (i == 2 ? 2 : 0)};
    /* eyes: centres at -32 and +32, 26 px wide */
    static const double ex[6] = {-13, -6, 6, 13, 6, -6}, ey[6] = {0, -5, -5, 0, 4, 4};
    for (int i = 0; i < 6; i++) {
        p[36 + i] = (struct vis_point){-32 + ex[i], ey[i]};
        p[42 + i] = (struct vis_point){32 + ex[i], ey[i]};
    }
    /* mouth: an ellipse for the outer (48-59) and inner (60-67) lips */
    for (int i = 0; i < 12; i++)
        p[48 + i] = (struct vis_point){-22 * cos(i * M_PI / 6), 64 + 8 * sin(i * M_PI / 6)};
    for (int i = 0; i < 8; i++)
        p[60 + i] = (struct vis_point){-14 * cos(i * M_PI / 4), 64 + 3 * sin(i * M_PI / 4)};
}

/* Finds the jaw-corner height that gives the target jaw angle (the angle
 * falls as the corner moves down towards the chin). */
static void synth_face(const struct synth *s, struct vis_point p[68])
{
    double lo = 0.40, hi = 0.90;
    for (int it = 0; it < 60; it++) {
        double mid = (lo + hi) / 2;
        struct tryon_face_geom g;
        build(s, mid, p);
        if (tryon_face_geom(p, &g))
            TEST_FAIL("degenerate synthetic face");
        if (g.jaw_angle_deg > s->jaw_angle)
            lo = mid;
        else
            hi = mid;
    }
    build(s, (lo + hi) / 2, p);
}

/* Each shape from its optician description, in ratios of the face width. */
static const struct {
    const char *name;
    struct synth s;
} shapes[] = {
    {"oval", {1.60, 0.80, 0.80, 140, 0.45}},     /* longer than wide, soft narrowing jaw */
    {"round", {1.36, 0.79, 0.84, 146, 0.50}},    /* about as long as wide, soft full jaw */
    {"square", {1.40, 0.82, 0.90, 128, 0.52}},   /* short, wide angular jaw, broad chin */
    {"oblong", {1.75, 0.81, 0.86, 133, 0.49}},   /* long, straight sides, angular jaw */
    {"heart", {1.56, 0.88, 0.75, 141, 0.40}},    /* wide forehead, narrow jaw, pointed chin */
    {"diamond", {1.61, 0.70, 0.76, 140, 0.41}},  /* widest at cheekbones, narrow ends */
    {"triangle", {1.53, 0.70, 0.90, 135, 0.51}}, /* jaw wider than forehead */
};

TEST(synthetic_shapes)
{
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        struct vis_point p[68];
        struct tryon_face_geom g;
        struct tryon_shape_result r;
        synth_face(&shapes[k].s, p);
        ASSERT_OK(tryon_face_geom(p, &g));
        /* the measurements are the ones built in */
        ASSERT(fabs(g.length_ratio - shapes[k].s.len_ratio) < 0.01);
        ASSERT(fabs(g.forehead_ratio - shapes[k].s.fore) < 0.01);
        ASSERT(fabs(g.jaw_ratio - shapes[k].s.jaw) < 0.01);
        ASSERT(fabs(g.jaw_angle_deg - shapes[k].s.jaw_angle) < 0.5);
        tryon_face_shape_classify(&g, &r);
        if (strcmp(tryon_face_shape_name(r.shape), shapes[k].name))
            TEST_FAIL("%s face classified as %s (%.2f)", shapes[k].name,
                      tryon_face_shape_name(r.shape), r.confidence);
        double sum = 0;
        for (int s = 0; s < TRYON_SHAPE_COUNT; s++)
            sum += r.prob[s];
        ASSERT(fabs(sum - 1) < 1e-9);
        ASSERT(r.confidence > 0.3 && r.confidence <= 1.0);
        ASSERT(r.margin > 0 && r.second != r.shape);
        char why[300];
        tryon_face_shape_explain(&g, &r, why, sizeof why);
        ASSERT(strstr(why, "times as long as wide"));
    }
}

/* Rotation (roll), translation and uniform scale do not change the shape. */
TEST(invariance)
{
    struct vis_point p[68], q[68];
    synth_face(&shapes[4].s, p); /* heart */
    struct tryon_face_geom g0, g1;
    struct tryon_shape_result r0, r1;
    ASSERT_OK(tryon_face_geom(p, &g0));
    double a = 17 * M_PI / 180, c = cos(a), s = sin(a);
    for (int i = 0; i < 68; i++)
        q[i] = (struct vis_point){2.5 * (p[i].x * c - p[i].y * s) + 900,
                                  2.5 * (p[i].x * s + p[i].y * c) + 400};
    ASSERT_OK(tryon_face_geom(q, &g1));
    ASSERT(fabs(g0.length_ratio - g1.length_ratio) < 1e-9);
    ASSERT(fabs(g0.jaw_angle_deg - g1.jaw_angle_deg) < 1e-6);
    ASSERT(fabs(g1.face_width_px - 2.5 * g0.face_width_px) < 1e-6);
    tryon_face_shape_classify(&g0, &r0);
    tryon_face_shape_classify(&g1, &r1);
    ASSERT_EQ(r0.shape, r1.shape);
    ASSERT(fabs(r0.confidence - r1.confidence) < 1e-9);
}

TEST(degenerate_points)
{
    struct vis_point p[68] = {{0, 0}};
    struct tryon_face_geom g;
    ASSERT_EQ(tryon_face_geom(p, &g), -1);
    synth_face(&shapes[0].s, p);
    for (int i = 0; i <= 16; i++) /* a collapsed contour */
        p[i] = (struct vis_point){0, 0};
    ASSERT_EQ(tryon_face_geom(p, &g), -1);
    p[0].x = NAN;
    ASSERT_EQ(tryon_face_geom(p, &g), -1);
}

TEST(scale)
{
    struct vis_point p[68];
    struct tryon_face_geom g;
    struct tryon_scale sc, sy;
    synth_face(&shapes[0].s, p);
    ASSERT_OK(tryon_face_geom(p, &g));
    ASSERT(fabs(g.ipd_px - 64) < 1e-9 && fabs(g.eye_width_px - 26) < 1e-9);
    tryon_scale_estimate(&g, 0, &sc);
    /* the two rulers: 63/64 and 24.3/26, weighted 1/0.056^2 and 1/0.10^2 in log space */
    double w1 = 1 / (0.056 * 0.056), w2 = 1 / (0.10 * 0.10);
    double want = exp((w1 * log(63.0 / 64) + w2 * log(24.3 / 26)) / (w1 + w2));
    ASSERT(fabs(sc.mm_per_px - want) < 1e-12);
    ASSERT(fabs(sc.rel_error - TRYON_SCALE_REL_ERR) < 0.001);
    ASSERT(fabs(sc.ipd_mm - 64 * want) < 1e-9);
    ASSERT(sc.ipd_mm > 60 && sc.ipd_mm < 63); /* eyes "say" the PD is smaller than 63 */
    ASSERT(fabs(sc.eye_only_mm_per_px - 24.3 / 26) < 1e-12);
    /* eyes exactly as wide as the ruler expects for a 63 mm PD: PD 63 */
    g.eye_width_px = g.ipd_px * 24.3 / 63;
    tryon_scale_estimate(&g, 0, &sc);
    ASSERT(fabs(sc.ipd_mm - 63) < 1e-9);
    /* a head turned 30 degrees: horizontal distances shrink by cos(30); the
     * frontal scale and the PD stay the same */
    struct tryon_face_geom gy = g;
    gy.ipd_px *= cos(30 * M_PI / 180);
    gy.eye_width_px *= cos(30 * M_PI / 180);
    tryon_scale_estimate(&gy, 30, &sy);
    ASSERT(fabs(sy.mm_per_px - sc.mm_per_px) < 1e-9);
    ASSERT(fabs(sy.ipd_mm - 63) < 1e-9);
    /* twice the pixels: half the mm per pixel */
    struct tryon_face_geom g2 = g;
    g2.ipd_px *= 2;
    g2.eye_width_px *= 2;
    tryon_scale_estimate(&g2, 0, &sy);
    ASSERT(fabs(sy.mm_per_px - sc.mm_per_px / 2) < 1e-12);
    /* no eye width: the prior alone */
    g2.eye_width_px = 0;
    tryon_scale_estimate(&g2, 0, &sy);
    ASSERT(fabs(sy.ipd_mm - 63) < 1e-9 && fabs(sy.rel_error - 0.056) < 1e-12);
}

/* The dev photos through the whole pipeline: every face found gets a shape
 * with a sane confidence and plausible millimetres. */
TEST(dev_photos)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data/faces", FF_SHARED_DIR);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "skip dev_photos: %s is absent\n", dir);
        return;
    }
    struct vis_engine *e = NULL;
    char err[256];
    if (vis_engine_load(NULL, &e, err, sizeof err)) {
        closedir(d);
        fprintf(stderr, "skip dev_photos: no landmark model (%s)\n", err);
        return;
    }
    struct dirent *de;
    int photos = 0, faces = 0;
    int seen[TRYON_SHAPE_COUNT] = {0};
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || (strcmp(de->d_name + n - 4, ".jpg") && strcmp(de->d_name + n - 4, ".png")))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct vis_image img;
        struct vis_result r;
        ASSERT_OK(vis_decode_file(path, NULL, &img, NULL, err, sizeof err));
        ASSERT_OK(vis_analyse(e, &img, &r));
        photos++;
        for (size_t i = 0; i < r.n_faces; i++) {
            if (!r.faces[i].has_geometry)
                continue;
            struct tryon_face_geom g;
            struct tryon_shape_result sr;
            struct tryon_scale sc;
            ASSERT_OK(tryon_face_geom(r.faces[i].pts, &g));
            tryon_face_shape_classify(&g, &sr);
            tryon_scale_estimate(&g, r.faces[i].pose.yaw, &sc);
            ASSERT(sr.confidence > 1.0 / TRYON_SHAPE_COUNT && sr.confidence <= 1);
            ASSERT(g.length_ratio > 1.0 && g.length_ratio < 2.2);
            ASSERT(g.jaw_angle_deg > 100 && g.jaw_angle_deg < 175);
            ASSERT(sc.ipd_mm > 50 && sc.ipd_mm < 76);
            double fw = g.face_width_px * sc.mm_per_px / cos(fmin(fabs(r.faces[i].pose.yaw), 60) *
                                                             M_PI / 180);
            ASSERT(fw > 100 && fw < 200);
            seen[sr.shape]++;
            faces++;
            fprintf(stderr, "  %-30s face %zu: %-8s %.2f  PD %.1f mm  width %.0f mm\n",
                    de->d_name, i, tryon_face_shape_name(sr.shape), sr.confidence, sc.ipd_mm, fw);
        }
        vis_result_release(&r);
        vis_image_release(&img);
    }
    closedir(d);
    vis_engine_free(e);
    ASSERT(photos >= 5);
    ASSERT(faces >= 5);
    (void)seen;
}

int main(void)
{
    RUN(synthetic_shapes);
    RUN(invariance);
    RUN(degenerate_points);
    RUN(scale);
    RUN(dev_photos);
    return TEST_REPORT();
}
