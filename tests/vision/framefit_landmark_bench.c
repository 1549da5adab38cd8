/* landmark_bench.c - times framefit's landmark predictor (bench/vision/landmarks.sh).
 *
 * usage: landmark_bench [--model PATH] [--cache-dir DIR] [--time N] [--kernel K] IMAGE L,T,W,H...
 * Prints one JSON object: model load time and how (converted / mmapped), the
 * resident memory the loaded model added, and per box the nanoseconds per
 * prediction over N runs (after one untimed run) and the points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vision/decode.h"
#include "vision/image_ops.h"
#include "vision/shape.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    struct vis_shape_opts o = {0};
    long reps = 0;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            o.path = argv[++i];
        else if (!strcmp(argv[i], "--cache-dir") && i + 1 < argc)
            o.cache_dir = argv[++i];
        else if (!strcmp(argv[i], "--time") && i + 1 < argc)
            reps = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
            vis_shape_set_kernel(argv[++i]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: landmark_bench [--model PATH] [--cache-dir DIR] [--time N] "
                        "[--kernel K] IMAGE [L,T,W,H ...]\n");
        return 2;
    }
    char err[512];
    struct vis_image img;
    if (vis_decode_file(argv[i], NULL, &img, NULL, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", argv[i], err);
        return 1;
    }
    long rss0 = rss_kb();
    double t0 = now_ns();
    struct vis_shape_model *m;
    if (vis_shape_model_load(&o, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t1 = now_ns();
    long rss1 = rss_kb();
    struct vis_shape_info in;
    vis_shape_model_info(m, &in);
    printf("{\"image\":\"%s\",\"load_ms\":%.2f,\"load\":\"%s\",\"rss_model_kb\":%ld,"
           "\"model_bytes\":%zu,\"kernel\":\"%s\",\"faces\":[",
           argv[i], (t1 - t0) / 1e6,
           in.from_cache ? "mmap" : in.cache_written ? "convert+write" : "convert", rss1 - rss0,
           in.mapped_bytes, in.simd);
    unsigned n = vis_shape_model_parts(m);
    struct vis_point *pts = calloc(n, sizeof *pts); /* checksrc: allow (bench tool) */
    for (int k = i + 1; k < argc; k++) {
        long l, t, w, h;
        if (sscanf(argv[k], "%ld,%ld,%ld,%ld", &l, &t, &w, &h) != 4)
            return 2;
        struct vis_rect box = {l, t, l + w - 1, t + h - 1};
        if (vis_shape_predict(m, &img, box, pts))
            return 1;
        double ns = 0, cns = 0;
        if (reps > 0) {
            double a = now_ns(), c = cpu_ns();
            for (long r = 0; r < reps; r++)
                if (vis_shape_predict(m, &img, box, pts))
                    return 1;
            ns = (now_ns() - a) / (double)reps;
            cns = (cpu_ns() - c) / (double)reps;
        }
        printf("%s\n{\"box\":[%ld,%ld,%ld,%ld],\"ns_per_prediction\":%.0f,"
               "\"cpu_ns_per_prediction\":%.0f,\"points\":[",
               k > i + 1 ? "," : "", l, t, w, h, ns, cns);
        for (unsigned j = 0; j < n; j++)
            printf("%s[%.0f,%.0f]", j ? "," : "", pts[j].x, pts[j].y);
        printf("]}");
    }
    printf("],\"rss_after_kb\":%ld}\n", rss_kb() - rss0);
    free(pts); /* checksrc: allow (bench tool) */
    vis_shape_model_free(m);
    vis_image_release(&img);
    return 0;
}
