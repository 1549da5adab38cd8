/* detect_testimg.h - test-only image reader for the detector tests and bench
 * (libjpeg/libpng, default settings as dlib's load_image uses). Not part of
 * framefit: the product's decoder is src/vision's. */
#ifndef FF_TESTS_DETECT_TESTIMG_H
#define FF_TESTS_DETECT_TESTIMG_H

#include <stdint.h>

#include "vision/image.h"

/* Reads a JPEG or PNG file into img as VIS_RGB8 (grey files are expanded to
 * r=g=b). img->data is ff_malloc'd: free with ff_free. Returns 0 or -1. */
int dti_load_rgb(const char *path, struct vis_image *img);

/* dlib's rgb -> grey: (r+g+b)/3, unsigned integer. New buffer (ff_free). */
int dti_to_gray(const struct vis_image *rgb, struct vis_image *gray);

/* FNV-1a 64 of the pixels (row-major, channel bytes), as dlib_ref_detect prints. */
uint64_t dti_hash(const struct vis_image *img);

#endif
