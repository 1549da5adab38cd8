// dlib_ref_landmarks - test ORACLE only: prints dlib's 68 (or P) landmark points for
// an image and one or more boxes, so framefit's predictor can be compared with dlib.
// Built against Debian's libdlib-dev by tests/vision/CMakeLists.txt; never linked
// into framefit.
//
// usage: dlib_ref_landmarks [--model PATH] [--time N] [--detect] IMAGE [L,T,W,H ...]
//   --detect   also run dlib's HOG frontal_face_detector and print its boxes
//   --time N   run each prediction N times and print nanoseconds per prediction
// Boxes use dlib's inclusive convention: right = L+W-1, bottom = T+H-1.
// Output: one JSON object on stdout.
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <chrono>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

// Kept out of line so callgrind can count one prediction (--toggle-collect=ref_predict*).
__attribute__((noinline)) dlib::full_object_detection ref_predict(const dlib::shape_predictor &sp,
                                                                  const dlib::array2d<unsigned char> &img,
                                                                  const dlib::rectangle &r)
{
    return sp(img, r);
}

static double cpu_ns()
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static long rss_kb()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.compare(0, 6, "VmRSS:") == 0)
            return std::atol(line.c_str() + 6);
    return -1;
}

int main(int argc, char **argv)
{
    std::string model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
    if (const char *e = std::getenv("FRAMEFIT_LANDMARK_MODEL"))
        model = e;
    long reps = 0;
    bool detect = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!std::strcmp(argv[i], "--time") && i + 1 < argc)
            reps = std::atol(argv[++i]);
        else if (!std::strcmp(argv[i], "--detect"))
            detect = true;
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        std::fprintf(stderr,
                     "usage: dlib_ref_landmarks [--model PATH] [--time N] [--detect] IMAGE "
                     "[L,T,W,H ...]\n");
        return 2;
    }
    try {
        dlib::array2d<unsigned char> img;
        dlib::load_image(img, argv[i]);
        dlib::shape_predictor sp;
        long rss0 = rss_kb();
        auto t0 = std::chrono::steady_clock::now();
        dlib::deserialize(model) >> sp;
        auto t1 = std::chrono::steady_clock::now();
        std::printf("{\"image\":\"%s\",\"width\":%ld,\"height\":%ld,\"parts\":%lu,"
                    "\"load_ms\":%.1f,\"rss_load_kb\":%ld",
                    argv[i], (long)img.nc(), (long)img.nr(), sp.num_parts(),
                    std::chrono::duration<double, std::milli>(t1 - t0).count(), rss_kb() - rss0);
        std::vector<dlib::rectangle> boxes;
        for (int k = i + 1; k < argc; k++) {
            long l, t, w, h;
            if (std::sscanf(argv[k], "%ld,%ld,%ld,%ld", &l, &t, &w, &h) != 4) {
                std::fprintf(stderr, "bad box %s\n", argv[k]);
                return 2;
            }
            boxes.emplace_back(l, t, l + w - 1, t + h - 1);
        }
        if (detect) {
            dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
            std::vector<dlib::rectangle> d = det(img);
            std::printf(",\"detections\":[");
            for (size_t k = 0; k < d.size(); k++)
                std::printf("%s[%ld,%ld,%ld,%ld]", k ? "," : "", d[k].left(), d[k].top(),
                            d[k].width(), d[k].height());
            std::printf("]");
            if (boxes.empty())
                boxes = d;
        }
        std::printf(",\"faces\":[");
        for (size_t k = 0; k < boxes.size(); k++) {
            const dlib::rectangle &r = boxes[k];
            dlib::full_object_detection s = ref_predict(sp, img, r);
            double ns = 0, cns = 0;
            if (reps > 0) {
                double c = cpu_ns();
                auto a = std::chrono::steady_clock::now();
                for (long n = 0; n < reps; n++)
                    s = ref_predict(sp, img, r);
                auto b = std::chrono::steady_clock::now();
                ns = std::chrono::duration<double, std::nano>(b - a).count() / (double)reps;
                cns = (cpu_ns() - c) / (double)reps;
            }
            std::printf("%s\n{\"box\":[%ld,%ld,%ld,%ld],", k ? "," : "", r.left(), r.top(),
                        r.width(), r.height());
            if (reps > 0)
                std::printf("\"ns_per_prediction\":%.0f,\"cpu_ns_per_prediction\":%.0f,", ns, cns);
            std::printf("\"points\":[");
            for (unsigned long p = 0; p < s.num_parts(); p++)
                std::printf("%s[%ld,%ld]", p ? "," : "", s.part(p).x(), s.part(p).y());
            std::printf("]}");
        }
        std::printf("]}\n");
    } catch (std::exception &e) {
        std::fprintf(stderr, "dlib_ref_landmarks: %s\n", e.what());
        return 1;
    }
    return 0;
}
