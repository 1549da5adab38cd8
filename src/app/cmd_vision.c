/* cmd_vision.c - framefit vision detect / info: the vision engine from the shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/commands.h"
#include "core/alloc.h"
#include "vision/decode.h"
#include "vision/image_ops.h"
#include "vision/vision.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c < 0x20)
            fprintf(o, "\\u%04x", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
}

static const char detect_help[] =
    "usage: framefit vision detect IMAGE [--draw OUT.png] [--model PATH] [--detector PATH]\n"
    "                              [--box L,T,W,H] [--cache-dir DIR] [--max-pixels N]\n"
    "\n"
    "Finds the faces in a JPEG or PNG photo (EXIF orientation applied) and prints JSON:\n"
    "for each face its box, the landmarks (68 points with the default model), the head\n"
    "pose (yaw, pitch, roll in degrees), the try-on measurements in pixels and a\n"
    "quality verdict with advice for the shopper.\n"
    "\n"
    "  --draw OUT.png   also write the photo with boxes and points drawn on it\n"
    "  --model PATH     dlib shape-predictor file (default $FRAMEFIT_LANDMARK_MODEL,\n"
    "                   else " VIS_SHAPE_DEFAULT_MODEL ")\n"
    "  --detector PATH  dlib HOG detector file (default: the one built into framefit)\n"
    "  --box L,T,W,H    skip detection: landmarks for this box (dlib's convention)\n"
    "  --cache-dir DIR  where the converted landmark model is cached (default\n"
    "                   $FRAMEFIT_CACHE_DIR, else ~/.cache/framefit; \"\" disables)\n"
    "  --max-pixels N   refuse larger images (default 40000000)\n"
    "\n"
    "Exit status: 0 done (also with no face), 1 error, 2 usage.\n";

static const char info_help[] =
    "usage: framefit vision info [--model PATH] [--cache-dir DIR]\n"
    "\n"
    "Loads the landmark model (converting and caching it on first use) and prints its\n"
    "points, cascades, trees, checksum, cache, load time and licence note, and the\n"
    "face detector that is built in.\n";

static const char vision_help[] =
    "usage: framefit vision COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  detect IMAGE   faces, landmarks, pose, measurements and quality as JSON\n"
    "  info           the landmark and detector models in use\n"
    "\n"
    "Run 'framefit vision COMMAND --help' for a command's options.\n";

struct opts {
    const char *image, *draw, *model, *detector, *cache_dir;
    int has_box;
    struct vis_rect box;
    unsigned long long max_pixels;
};

static int parse(int argc, char **argv, struct opts *o, int want_image)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--draw") && v && want_image)
            o->draw = argv[++i];
        else if (!strcmp(a, "--model") && v)
            o->model = argv[++i];
        else if (!strcmp(a, "--detector") && v && want_image)
            o->detector = argv[++i];
        else if (!strcmp(a, "--cache-dir") && v)
            o->cache_dir = argv[++i];
        else if (!strcmp(a, "--max-pixels") && v && want_image) {
            char *end;
            o->max_pixels = strtoull(argv[++i], &end, 10);
            if (*end || !o->max_pixels) {
                fprintf(stderr, "framefit vision: --max-pixels needs a positive number\n");
                return 2;
            }
        } else if (!strcmp(a, "--box") && v && want_image) {
            long l, t, w, h;
            char extra;
            if (sscanf(argv[++i], "%ld,%ld,%ld,%ld%c", &l, &t, &w, &h, &extra) != 4 || w <= 0 ||
                h <= 0 || labs(l) > 10000000 || labs(t) > 10000000 || w > 10000000 ||
                h > 10000000) {
                fprintf(stderr, "framefit vision: --box needs L,T,W,H with W, H > 0 "
                                "(each within 10 million)\n");
                return 2;
            }
            o->has_box = 1;
            o->box = (struct vis_rect){l, t, l + w - 1, t + h - 1};
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "framefit vision: unknown or incomplete option '%s'\n", a);
            return 2;
        } else if (want_image && !o->image) {
            o->image = a;
        } else {
            fprintf(stderr, "framefit vision: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (want_image && !o->image) {
        fprintf(stderr, "framefit vision detect: IMAGE is required\n\n%s", detect_help);
        return 2;
    }
    return 0;
}

static void print_pt(FILE *out, struct vis_point p) { fprintf(out, "[%.1f,%.1f]", p.x, p.y); }

static void print_face(FILE *out, const struct vis_face *f)
{
    fprintf(out, "{\"box\":{\"left\":%ld,\"top\":%ld,\"width\":%ld,\"height\":%ld},",
            f->box.left, f->box.top, f->box.right - f->box.left + 1,
            f->box.bottom - f->box.top + 1);
    if (f->det_filter >= 0)
        fprintf(out, "\"score\":%.4f,\"filter\":%d,\"low_confidence\":%s,", f->det_score,
                f->det_filter, (f->quality.flags & VIS_Q_LOW_CONFIDENCE) ? "true" : "false");
    fprintf(out, "\"landmarks\":[");
    for (unsigned j = 0; j < f->n_pts; j++)
        fprintf(out, "%s[%.0f,%.0f]", j ? "," : "", f->pts[j].x, f->pts[j].y);
    fprintf(out, "]");
    if (!f->has_geometry) {
        fprintf(out, "}");
        return;
    }
    const struct vis_measure *m = &f->measure;
    fprintf(out, ",\"pose\":{\"yaw\":%.1f,\"pitch\":%.1f,\"roll\":%.1f},", f->pose.yaw,
            f->pose.pitch, f->pose.roll);
    fprintf(out, "\"measurements\":{\"eye_right\":");
    print_pt(out, m->eye_right);
    fprintf(out, ",\"eye_left\":");
    print_pt(out, m->eye_left);
    fprintf(out, ",\"ipd_px\":%.1f,\"face_width_temple_px\":%.1f,\"face_width_cheek_px\":%.1f,"
                 "\"face_width_jaw_px\":%.1f,\"face_height_px\":%.1f,\"nose_bridge\":",
            m->ipd_px, m->face_width_temple_px, m->face_width_cheek_px, m->face_width_jaw_px,
            m->face_height_px);
    print_pt(out, m->nose_bridge);
    fprintf(out, ",\"eye_open_right\":%.3f,\"eye_open_left\":%.3f,\"mm_per_px_estimate\":%.4f},",
            m->eye_open_right, m->eye_open_left, m->mm_per_px);
    const struct vis_quality *q = &f->quality;
    fprintf(out, "\"quality\":{\"score\":%.2f,\"sharpness\":%.1f,\"brightness\":%.1f,\"issues\":[",
            q->score, q->sharpness, q->brightness);
    int first = 1;
    for (unsigned b = 0; b < VIS_Q_NFLAGS; b++)
        if (q->flags & (1u << b)) {
            fprintf(out, "%s{\"code\":\"%s\",\"advice\":", first ? "" : ",",
                    vis_quality_flag_name(1u << b));
            json_str(out, vis_quality_flag_advice(1u << b));
            fprintf(out, "}");
            first = 0;
        }
    fprintf(out, "]}}");
}

static int draw(const char *path, const struct vis_image *src, const struct vis_result *r)
{
    struct vis_image img;
    if (vis_image_alloc(&img, src->w, src->h, VIS_RGB8))
        return 1;
    for (int y = 0; y < src->h; y++)
        for (int x = 0; x < src->w; x++) {
            const uint8_t *s = src->data + (size_t)y * src->stride + (size_t)x * src->fmt;
            uint8_t *d = img.data + (size_t)y * img.stride + 3 * (size_t)x;
            d[0] = s[0];
            d[1] = src->fmt == VIS_RGB8 ? s[1] : s[0];
            d[2] = src->fmt == VIS_RGB8 ? s[2] : s[0];
        }
    int rad = (src->w > src->h ? src->w : src->h) / 400;
    for (size_t i = 0; i < r->n_faces; i++) {
        const struct vis_face *f = &r->faces[i];
        for (int k = 0; k <= rad; k++) {
            struct vis_rect b = {f->box.left - k, f->box.top - k, f->box.right + k,
                                 f->box.bottom + k};
            vis_draw_rect(&img, b, 0, 255, 0);
        }
        for (unsigned j = 0; j < f->n_pts; j++)
            vis_draw_dot(&img, (long)f->pts[j].x, (long)f->pts[j].y, rad + 1, 255, 0, 0);
        if (f->has_geometry) {
            vis_draw_dot(&img, (long)f->measure.eye_right.x, (long)f->measure.eye_right.y,
                         rad + 2, 0, 128, 255);
            vis_draw_dot(&img, (long)f->measure.eye_left.x, (long)f->measure.eye_left.y,
                         rad + 2, 0, 128, 255);
        }
    }
    uint8_t *png;
    size_t n;
    enum ff_err e = vis_encode_png(&img, &png, &n);
    vis_image_release(&img);
    if (e)
        return 1;
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(png, 1, n, f) != n;
    if (f && fclose(f))
        bad = 1;
    ff_free(png);
    return bad;
}

static int vision_detect(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        fputs(detect_help, stdout);
        return 0;
    }
    struct opts o;
    int rc = parse(argc, argv, &o, 1);
    if (rc)
        return rc;
    char err[600];
    struct vis_image img;
    struct vis_decode_info di;
    struct vis_decode_opts dopt = {.max_pixels = o.max_pixels};
    double t0 = now_ms();
    enum ff_err e = vis_decode_file(o.image, &dopt, &img, &di, err, sizeof err);
    if (e) {
        fprintf(stderr, "framefit vision detect: %s: %s\n", o.image, err);
        return 1;
    }
    double t1 = now_ms();
    struct vis_engine *eng;
    struct vis_engine_opts eo = {o.detector, o.model, o.cache_dir};
    if (vis_engine_load(&eo, &eng, err, sizeof err)) {
        fprintf(stderr, "framefit vision detect: %s\n", err);
        vis_image_release(&img);
        return 1;
    }
    double t2 = now_ms();
    struct vis_result r;
    e = o.has_box ? vis_analyse_box(eng, &img, o.box, &r) : vis_analyse(eng, &img, &r);
    double t3 = now_ms();
    if (e) {
        if (e == FF_EUNSUPPORTED && !o.has_box)
            fprintf(stderr, "framefit vision detect: face detection is not available in this "
                            "build; give a face box with --box L,T,W,H\n");
        else if (e == FF_EINVAL)
            fprintf(stderr, "framefit vision detect: %s: image %dx%d is too small (need at "
                            "least %dx%d) or the box is empty\n",
                    o.image, img.w, img.h, VIS_MIN_SIDE, VIS_MIN_SIDE);
        else
            fprintf(stderr, "framefit vision detect: %s\n", ff_err_str(e));
        vis_engine_free(eng);
        vis_image_release(&img);
        return 1;
    }
    FILE *out = stdout;
    fprintf(out, "{\"image\":{\"path\":");
    json_str(out, o.image);
    fprintf(out, ",\"width\":%d,\"height\":%d,\"exif_orientation\":%d},", img.w, img.h,
            di.orientation);
    fprintf(out, "\"timing_ms\":{\"decode\":%.2f,\"load_models\":%.2f,\"analyse\":%.2f},",
            t1 - t0, t2 - t1, t3 - t2);
    fprintf(out, "\"faces\":[");
    for (size_t i = 0; i < r.n_faces; i++) {
        fprintf(out, "%s\n", i ? "," : "");
        print_face(out, &r.faces[i]);
    }
    fprintf(out, "]}\n");
    rc = 0;
    if (o.draw && draw(o.draw, &img, &r)) {
        fprintf(stderr, "framefit vision detect: cannot write %s\n", o.draw);
        rc = 1;
    }
    vis_result_release(&r);
    vis_engine_free(eng);
    vis_image_release(&img);
    return rc;
}

static int vision_info(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        fputs(info_help, stdout);
        return 0;
    }
    struct opts o;
    int rc = parse(argc, argv, &o, 0);
    if (rc)
        return rc;
    char err[600];
    struct vis_shape_model *m;
    struct vis_shape_opts so = {o.model, o.cache_dir};
    double t0 = now_ms();
    if (vis_shape_model_load(&so, &m, err, sizeof err)) {
        fprintf(stderr, "framefit vision info: %s\n", err);
        return 1;
    }
    double t1 = now_ms();
    struct vis_shape_info in;
    vis_shape_model_info(m, &in);
    const char *path = o.model ? o.model : getenv("FRAMEFIT_LANDMARK_MODEL");
    printf("landmark model:   %s\n", path && *path ? path : VIS_SHAPE_DEFAULT_MODEL);
    printf("  points:         %u\n", in.parts);
    printf("  cascades:       %u\n", in.cascades);
    printf("  trees:          %lu (%lu per cascade, %u splits each)\n", in.trees,
           in.cascades ? in.trees / in.cascades : 0, in.splits_per_tree);
    printf("  feature pixels: %u per cascade\n", in.features);
    printf("  source:         %llu bytes, sha256 %s\n", (unsigned long long)in.source_size,
           in.sha256);
    printf("  cache:          %s%s\n", in.cache_path[0] ? in.cache_path : "(none)",
           in.from_cache ? " (mmapped)" : in.cache_written ? " (converted and written now)" : "");
    printf("  in memory:      %.1f MB, loaded in %.1f ms, SIMD kernel %s\n",
           (double)in.mapped_bytes / 1e6, t1 - t0, in.simd);
    printf("  licence note:   %s\n", vis_landmark_licence_note);
    vis_shape_model_free(m);
    struct vis_detector *d;
    if (vis_detector_load_default(&d, err, sizeof err) == FF_OK) {
        printf("face detector:    built-in dlib frontal_face_detector (HOG, %zu filters), "
               "Boost Software License 1.0\n",
               vis_detector_num_filters(d));
        vis_detector_free(d);
    } else {
        printf("face detector:    unavailable: %s\n", err);
    }
    return 0;
}

int cmd_vision(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        fputs(vision_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "detect"))
        return vision_detect(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info"))
        return vision_info(argc - 1, argv + 1);
    fprintf(stderr, "framefit vision: unknown command '%s'\n\n%s", argv[1], vision_help);
    return 2;
}
