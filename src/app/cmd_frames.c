/* cmd_frames.c - framefit frames generate / try: the frame generator and the
 * try-on compositor from the shell (for looking at them). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/commands.h"
#include "core/alloc.h"
#include "render/render.h"
#include "vision/decode.h"
#include "vision/image_ops.h"
#include "vision/vision.h"

/* Typical lens box per shape (the demo catalog's bases, src/catalog/seed.c). */
static const double shape_dims[RND_SHAPE_COUNT][2] = {
    {52, 38}, {50, 42}, {47, 44}, {50, 38}, {52, 41}, {56, 48}, {51, 40}, {50, 43}, {52, 40},
};

static const char gen_help[] =
    "usage: framefit frames generate OUTDIR [--px-per-mm N]\n"
    "\n"
    "Draws every frame shape in every colour of the demo catalog (typical lens sizes,\n"
    "bridge 18 mm) and writes OUTDIR/<shape>-<colour>.png (RGBA, straight alpha, sRGB)\n"
    "with OUTDIR/<shape>-<colour>.json (anchor points: lens centres, bridge, total\n"
    "width in mm), and OUTDIR/sheet.png with all of them composited on a light\n"
    "background. --px-per-mm defaults to 6.\n";

static const char try_help[] =
    "usage: framefit frames try PHOTO OUT [--shape S] [--colour C] [--lens MM] [--height MM]\n"
    "                          [--bridge MM] [--width N] [--format jpeg|png|webp]\n"
    "\n"
    "Finds the face in PHOTO (vision engine), draws the frame on it as the try-on does\n"
    "and writes OUT. Defaults: rectangle, black, the shape's typical lens, bridge 18.\n";

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "frames: cannot write %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return 0;
}

/* OUTDIR/sheet.png: every frame at 2.5 px/mm composited (rnd_compose, frontal face)
 * over a light background, 6 per row. */
static int write_sheet(const char *dir)
{
    const int cols = 6, cw = 380, ch = 150;
    int n = 0;
    while (rnd_colour_name(n))
        n++;
    int rows = (RND_SHAPE_COUNT * n + cols - 1) / cols;
    struct vis_image sheet;
    if (vis_image_alloc(&sheet, cols * cw, rows * ch, VIS_RGB8))
        return -1;
    memset(sheet.data, 226, sheet.stride * (size_t)sheet.h);
    int k = 0, bad = 0;
    for (int s = 0; s < RND_SHAPE_COUNT && !bad; s++)
        for (int c = 0; c < n && !bad; c++, k++) {
            struct rnd_frame_spec spec = {s, rnd_colour_name(c), shape_dims[s][0],
                                          shape_dims[s][1], 18, 140};
            struct rnd_frame f;
            if (rnd_frame_generate(&spec, 2.5, &f, NULL, 0)) {
                bad = 1;
                break;
            }
            double x = (k % cols) * cw + cw / 2.0, y = (k / cols) * ch + ch / 2.0;
            double half = f.lens_sep_mm / 2 * 2.5;
            struct rnd_face face = {{x - half, y}, {x + half, y}, 0, 0, 0, 1 / 2.5};
            bad = rnd_compose(&sheet, &f, &face) != FF_OK;
            rnd_frame_release(&f);
        }
    uint8_t *png = NULL;
    size_t len = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/sheet.png", dir);
    bad = bad || rnd_encode(&sheet, RND_PNG, 0, &png, &len) || write_file(path, png, len);
    ff_free(png);
    vis_image_release(&sheet);
    return bad ? -1 : 0;
}

static int generate(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv) || argc < 2) {
        fputs(gen_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *dir = argv[1];
    double ppm = 6;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--px-per-mm") && i + 1 < argc)
            ppm = strtod(argv[++i], NULL);
        else {
            fputs(gen_help, stderr);
            return 2;
        }
    }
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "frames: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int count = 0;
    for (int s = 0; s < RND_SHAPE_COUNT; s++)
        for (int c = 0; rnd_colour_name(c); c++) {
            struct rnd_frame_spec spec = {s, rnd_colour_name(c), shape_dims[s][0],
                                          shape_dims[s][1], 18, 140};
            struct rnd_frame f;
            char err[160], path[4096];
            if (rnd_frame_generate(&spec, ppm, &f, err, sizeof err)) {
                fprintf(stderr, "frames: %s\n", err);
                return 1;
            }
            uint8_t *png = NULL;
            size_t n = 0;
            char *anchors = rnd_frame_anchors_json(&f);
            int bad = rnd_encode_rgba_png(&f.img, &png, &n) != FF_OK || !anchors;
            snprintf(path, sizeof path, "%s/%s-%s.png", dir, rnd_shape_name(s),
                     rnd_colour_name(c));
            bad = bad || write_file(path, png, n);
            snprintf(path, sizeof path, "%s/%s-%s.json", dir, rnd_shape_name(s),
                     rnd_colour_name(c));
            bad = bad || write_file(path, anchors, strlen(anchors));
            ff_free(png);
            ff_free(anchors);
            rnd_frame_release(&f);
            if (bad)
                return 1;
            count++;
        }
    if (write_sheet(dir)) {
        fprintf(stderr, "frames: cannot write the contact sheet\n");
        return 1;
    }
    printf("wrote %d frames and sheet.png to %s\n", count, dir);
    return 0;
}

static int shape_parse(const char *s)
{
    for (int i = 0; i < RND_SHAPE_COUNT; i++)
        if (!strcmp(rnd_shape_name(i), s))
            return i;
    return -1;
}

static int try_on(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv) || argc < 3) {
        fputs(try_help, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    struct rnd_frame_spec spec = {RND_RECTANGLE, "black", 0, 0, 18, 140};
    int width = 0;
    enum rnd_format fmt = RND_JPEG;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fputs(try_help, stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--shape") && shape_parse(v) >= 0)
            spec.shape = shape_parse(v);
        else if (!strcmp(a, "--colour"))
            spec.colour = v;
        else if (!strcmp(a, "--lens"))
            spec.lens_width_mm = strtod(v, NULL);
        else if (!strcmp(a, "--height"))
            spec.lens_height_mm = strtod(v, NULL);
        else if (!strcmp(a, "--bridge"))
            spec.bridge_mm = strtod(v, NULL);
        else if (!strcmp(a, "--width"))
            width = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--format") && rnd_format_parse(v))
            fmt = rnd_format_parse(v);
        else {
            fprintf(stderr, "frames try: bad option %s %s\n", a, v);
            return 2;
        }
    }
    if (spec.lens_width_mm == 0)
        spec.lens_width_mm = shape_dims[spec.shape][0];
    if (spec.lens_height_mm == 0)
        spec.lens_height_mm = shape_dims[spec.shape][1];
    char err[256];
    struct vis_image img;
    if (vis_decode_file(argv[1], NULL, &img, NULL, err, sizeof err)) {
        fprintf(stderr, "frames try: %s: %s\n", argv[1], err);
        return 1;
    }
    struct vis_engine *eng = NULL;
    struct vis_result r = {0};
    int rc = 1;
    if (vis_engine_load(NULL, &eng, err, sizeof err)) {
        fprintf(stderr, "frames try: %s\n", err);
        goto out;
    }
    if (vis_analyse(eng, &img, &r) || !r.n_faces || !r.faces[0].has_geometry) {
        fprintf(stderr, "frames try: no face found in %s\n", argv[1]);
        goto out;
    }
    const struct vis_face *fc = &r.faces[0];
    struct rnd_face face = {{fc->measure.eye_right.x, fc->measure.eye_right.y},
                            {fc->measure.eye_left.x, fc->measure.eye_left.y},
                            fc->pose.yaw, fc->pose.pitch, fc->pose.roll, fc->measure.mm_per_px};
    struct vis_image out;
    if (rnd_render(&img, &spec, &face, width, &out, err, sizeof err)) {
        fprintf(stderr, "frames try: %s\n", err);
        goto out;
    }
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (rnd_encode(&out, fmt, 0, &bytes, &n) == FF_OK && !write_file(argv[2], bytes, n))
        rc = 0;
    printf("yaw %.1f pitch %.1f roll %.1f mm/px %.4f -> %s (%zu bytes)\n", face.yaw_deg,
           face.pitch_deg, face.roll_deg, face.mm_per_px, argv[2], n);
    ff_free(bytes);
    vis_image_release(&out);
out:
    vis_result_release(&r);
    vis_engine_free(eng);
    vis_image_release(&img);
    return rc;
}

int cmd_frames(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "generate"))
        return generate(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "try"))
        return try_on(argc - 1, argv + 1);
    fputs("usage: framefit frames generate OUTDIR | framefit frames try PHOTO OUT\n"
          "(--help after a subcommand for its options)\n",
          cmd_wants_help(argc, argv) ? stdout : stderr);
    return cmd_wants_help(argc, argv) ? 0 : 2;
}
