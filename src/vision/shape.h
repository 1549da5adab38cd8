/* shape.h - dlib-compatible ensemble-of-regression-trees landmark predictor.
 *
 * Loads any dlib shape_predictor file (68-point, 5-point, ...) and predicts the
 * same integer points as dlib 19.24 for the same image and box. The 95 MB
 * 68-point file is converted once into a compact cache file that later loads by
 * mmap (see shape_int.h for the layout). A loaded model is read-only and may be
 * shared by any number of threads; each prediction uses its own scratch memory. */
#ifndef FF_VISION_SHAPE_H
#define FF_VISION_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "vision/image.h"

#define VIS_SHAPE_DEFAULT_MODEL "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

struct vis_shape_model; /* opaque, read-only after load */

struct vis_shape_opts {
    /* dlib .dat file. NULL: $FRAMEFIT_LANDMARK_MODEL, else VIS_SHAPE_DEFAULT_MODEL. */
    const char *path;
    /* Folder for the converted cache. NULL: $FRAMEFIT_CACHE_DIR, else
     * $XDG_CACHE_HOME/framefit, else $HOME/.cache/framefit. "" disables the cache
     * (convert in memory every time). An unwritable folder is not an error. */
    const char *cache_dir;
};

struct vis_shape_info {
    unsigned parts;           /* landmarks P */
    unsigned cascades;        /* cascade levels */
    unsigned long trees;      /* trees in all cascades */
    unsigned splits_per_tree; /* internal nodes per tree (2^depth - 1) */
    unsigned features;        /* feature pixels per cascade (max over cascades) */
    uint64_t source_size;     /* bytes of the dlib file */
    char sha256[65];          /* of the dlib file, lowercase hex */
    int from_cache;           /* 1: mmapped a valid cache; 0: converted now */
    int cache_written;        /* 1: this load wrote a new cache file */
    char cache_path[512];     /* "" when no cache is used */
    size_t mapped_bytes;      /* size of the compact model in memory */
    const char *simd;         /* kernel in use: "avx512", "avx2", "sse2" */
};

/* Loads a model. On failure returns an error and writes a sentence into err
 * (may be NULL). *out is owned by the caller: free with vis_shape_model_free. */
enum ff_err vis_shape_model_load(const struct vis_shape_opts *opts, struct vis_shape_model **out,
                                 char *err, size_t errlen) FF_MUST_CHECK;

/* Parses a dlib shape_predictor file held in memory (no cache, no file). The
 * bytes are not kept. Used by tests and the fuzz target. */
enum ff_err vis_shape_model_from_dlib(const void *buf, size_t len, struct vis_shape_model **out,
                                      char *err, size_t errlen) FF_MUST_CHECK;

void vis_shape_model_free(struct vis_shape_model *m);

void vis_shape_model_info(const struct vis_shape_model *m, struct vis_shape_info *out);
unsigned vis_shape_model_parts(const struct vis_shape_model *m);

/* Predicts the landmarks for one face box (dlib's inclusive rectangle) on an
 * 8-bit grey or RGB image (RGB is read as (r+g+b)/3, as dlib does). Writes
 * vis_shape_model_parts(m) points to pts (caller-owned), rounded to whole
 * pixels as dlib's full_object_detection does. Thread-safe. */
enum ff_err vis_shape_predict(const struct vis_shape_model *m, const struct vis_image *img,
                              struct vis_rect box, struct vis_point *pts) FF_MUST_CHECK;

/* Forces the SIMD kernel ("avx512", "avx2", "sse2", "scalar") for tests and
 * benchmarks; unknown or unsupported names are ignored. Returns the one in use. */
const char *vis_shape_set_kernel(const char *name);

#endif
