/* detect_run - runs framefit's detector on image files and prints one JSON line
 * per image in dlib_ref_detect's format (tests and bench/vision/detect.sh).
 *
 *   ff_detect_run [--gray] [--time N] [--threads N] [--adjust T] IMAGE...
 *
 * --time N: N detections, "ms" is the median wall time and "cpu_ms" the median
 * CPU time of the calling thread (steadier on a shared machine; with --threads
 * it misses the workers). The detection itself is the
 * function vis_detect_ex (for callgrind --toggle-collect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "detect_testimg.h"
#include "vision/detect.h"

static double now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int gray = 0, reps = 1, i = 1;
    struct vis_detect_opts opts = {0, 1};
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--gray"))
            gray = 1;
        else if (!strcmp(argv[i], "--time") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--adjust") && i + 1 < argc)
            opts.adjust_threshold = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            opts.threads = atoi(argv[++i]);
        else
            break;
    }
    if (i >= argc || reps < 1 || reps > 10000) {
        fprintf(stderr, "usage: ff_detect_run [--gray] [--time N] [--threads N] [--adjust T] IMAGE...\n");
        return 2;
    }
    struct vis_detector *d = NULL;
    char err[256];
    if (vis_detector_load_default(&d, err, sizeof err)) {
        fprintf(stderr, "ff_detect_run: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (; i < argc; i++) {
        struct vis_image rgb, g, *img = &rgb;
        if (dti_load_rgb(argv[i], &rgb)) {
            fprintf(stderr, "ff_detect_run: cannot read %s\n", argv[i]);
            rc = 1;
            continue;
        }
        if (gray) {
            if (dti_to_gray(&rgb, &g))
                return 1;
            img = &g;
        }
        struct vis_detection det[64];
        size_t n = 0;
        double *ms = ff_malloc(sizeof(double) * 2 * (size_t)reps), *cpu = ms + reps;
        if (!ms)
            return 1;
        for (int k = 0; k < reps; k++) {
            double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
            enum ff_err e = vis_detect_ex(d, img, &opts, det, 64, &n);
            cpu[k] = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
            ms[k] = now_ms(CLOCK_MONOTONIC) - t0;
            if (e) {
                fprintf(stderr, "ff_detect_run: %s: %s\n", argv[i], ff_err_str(e));
                return 1;
            }
        }
        qsort(ms, (size_t)reps, sizeof *ms, cmpd);
        qsort(cpu, (size_t)reps, sizeof *cpu, cmpd);
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        printf("{\"image\":\"%s\",\"w\":%d,\"h\":%d,\"fmt\":\"%s\",\"hash\":\"%016llx\","
               "\"detections\":[",
               base, img->w, img->h, gray ? "gray" : "rgb", (unsigned long long)dti_hash(img));
        for (size_t k = 0; k < n; k++)
            printf("%s{\"box\":[%ld,%ld,%ld,%ld],\"score\":%.9f,\"filter\":%d}", k ? "," : "",
                   det[k].box.left, det[k].box.top, det[k].box.right, det[k].box.bottom,
                   det[k].score, det[k].filter);
        printf("],\"ms\":%.3f,\"cpu_ms\":%.3f}\n", ms[reps / 2], cpu[reps / 2]);
        ff_free(ms);
        if (gray)
            ff_free(g.data);
        ff_free(rgb.data);
    }
    vis_detector_free(d);
    return rc;
}
