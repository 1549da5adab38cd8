// dlib_ref_detect - test and bench ORACLE: prints dlib 19.24's HOG face detections.
// Built against Debian's libdlib-dev; never linked into framefit.
//
//   dlib_ref_detect [--gray] [--time N] IMAGE...
//
// Loads each image with dlib's load_image into array2d<rgb_pixel> (or
// array2d<unsigned char> with --gray), runs get_frontal_face_detector() with
// adjust_threshold 0 and prints one JSON object per line:
//   {"image":"x.jpg","w":640,"h":480,"fmt":"rgb","hash":"..","detections":
//    [{"box":[l,t,r,b],"score":1.234567,"filter":0},...],"ms":12.3}
// "hash" is FNV-1a 64 of the decoded pixels (row-major, r,g,b), so a test that
// decodes the file itself can check it sees the same pixels. With --time N the
// detection runs N times; "ms" is the median wall time of one detection and
// "cpu_ms" the median CPU time of the thread (steadier on a shared machine).
#include <dlib/image_io.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <time.h>
#include <vector>

using namespace dlib;

template <typename img_t>
__attribute__((noinline)) void ff_oracle_detect(frontal_face_detector &det, const img_t &img,
                                                std::vector<rect_detection> &out)
{
    det(img, out, 0.0);
}

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t hash_img(const array2d<rgb_pixel> &img)
{
    uint64_t h = 1469598103934665603ull;
    for (long r = 0; r < img.nr(); r++)
        for (long c = 0; c < img.nc(); c++) {
            uint8_t px[3] = {img[r][c].red, img[r][c].green, img[r][c].blue};
            h = fnv(px, 3, h);
        }
    return h;
}

static uint64_t hash_img(const array2d<unsigned char> &img)
{
    uint64_t h = 1469598103934665603ull;
    for (long r = 0; r < img.nr(); r++)
        h = fnv(&img[r][0], (size_t)img.nc(), h);
    return h;
}

template <typename img_t>
static void run(frontal_face_detector &det, const char *path, bool gray, int reps)
{
    img_t img;
    load_image(img, path);
    std::vector<rect_detection> dets;
    std::vector<double> ms, cpu;
    for (int i = 0; i < std::max(reps, 1); i++) {
        timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        auto t0 = std::chrono::steady_clock::now();
        ff_oracle_detect(det, img, dets);
        auto t1 = std::chrono::steady_clock::now();
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        cpu.push_back((c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    const char *base = std::strrchr(path, '/');
    base = base ? base + 1 : path;
    std::printf("{\"image\":\"%s\",\"w\":%ld,\"h\":%ld,\"fmt\":\"%s\",\"hash\":\"%016llx\","
                "\"detections\":[",
                base, img.nc(), img.nr(), gray ? "gray" : "rgb",
                (unsigned long long)hash_img(img));
    for (size_t i = 0; i < dets.size(); i++)
        std::printf("%s{\"box\":[%ld,%ld,%ld,%ld],\"score\":%.9f,\"filter\":%lu}", i ? "," : "",
                    dets[i].rect.left(), dets[i].rect.top(), dets[i].rect.right(),
                    dets[i].rect.bottom(), dets[i].detection_confidence, dets[i].weight_index);
    std::printf("],\"ms\":%.3f,\"cpu_ms\":%.3f}\n", ms[ms.size() / 2], cpu[cpu.size() / 2]);
}

int main(int argc, char **argv)
{
    bool gray = false;
    int reps = 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!std::strcmp(argv[i], "--gray"))
            gray = true;
        else if (!std::strcmp(argv[i], "--time") && i + 1 < argc)
            reps = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "usage: dlib_ref_detect [--gray] [--time N] IMAGE...\n");
            return 2;
        }
    }
    if (i >= argc) {
        std::fprintf(stderr, "usage: dlib_ref_detect [--gray] [--time N] IMAGE...\n");
        return 2;
    }
    frontal_face_detector det = get_frontal_face_detector();
    try {
        for (; i < argc; i++) {
            if (gray)
                run<array2d<unsigned char>>(det, argv[i], gray, reps);
            else
                run<array2d<rgb_pixel>>(det, argv[i], gray, reps);
        }
    } catch (std::exception &e) {
        std::fprintf(stderr, "dlib_ref_detect: %s\n", e.what());
        return 1;
    }
    return 0;
}
