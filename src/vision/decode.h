/* decode.h - JPEG and PNG into 8-bit RGB or grey, with EXIF orientation.
 *
 * Hostile input is expected (shoppers' uploads): sizes are checked against a
 * pixel budget before any pixel memory is allocated, truncated or corrupt data
 * is an error (never a half-grey image), and libjpeg/libpng errors come back as
 * enum ff_err with a sentence, never as exit() or a crash. */
#ifndef FF_VISION_DECODE_H
#define FF_VISION_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "vision/image.h"

#define VIS_DECODE_MAX_PIXELS_DEFAULT (40u * 1000u * 1000u) /* 40 Mpx: any phone photo */
#define VIS_DECODE_MAX_FILE_DEFAULT (64u << 20)              /* 64 MiB */

enum vis_codec { VIS_CODEC_UNKNOWN = 0, VIS_CODEC_JPEG, VIS_CODEC_PNG };

struct vis_decode_opts {
    uint64_t max_pixels;   /* 0: VIS_DECODE_MAX_PIXELS_DEFAULT */
    enum vis_format fmt;   /* VIS_RGB8 (0 means RGB) or VIS_GRAY8 ((r+g+b)/3 as dlib) */
    int ignore_exif;       /* 1: keep the stored orientation */
};

struct vis_decode_info {
    enum vis_codec codec;
    int stored_w, stored_h;  /* before the EXIF rotation */
    int orientation;         /* EXIF orientation 1..8 (1 when absent) */
};

/* Recognises the codec from the first bytes (JPEG FF D8 FF, PNG signature). */
enum vis_codec vis_sniff(const void *buf, size_t len);

/* Decodes buf into out (pixels owned by the caller: vis_image_release from
 * image_ops.h). opts and info may be NULL. On error out is zeroed and err (may be
 * NULL) holds a sentence. Errors: FF_EINVAL empty input, FF_EUNSUPPORTED unknown
 * format or colour model, FF_ETOOBIG over max_pixels, FF_ECORRUPT truncated or
 * malformed data, FF_ENOMEM. */
enum ff_err vis_decode(const void *buf, size_t len, const struct vis_decode_opts *opts,
                       struct vis_image *out, struct vis_decode_info *info, char *err,
                       size_t errlen) FF_MUST_CHECK;

/* Reads a file (at most VIS_DECODE_MAX_FILE_DEFAULT bytes) and decodes it. */
enum ff_err vis_decode_file(const char *path, const struct vis_decode_opts *opts,
                            struct vis_image *out, struct vis_decode_info *info, char *err,
                            size_t errlen) FF_MUST_CHECK;

/* The EXIF orientation tag (1..8) in a TIFF/EXIF block that starts with
 * "Exif\0\0" or directly with the TIFF header; 1 when absent or malformed. */
int vis_exif_orientation(const uint8_t *p, size_t n);

/* Encodes an image as PNG into a new buffer (*out, caller frees with ff_free). */
enum ff_err vis_encode_png(const struct vis_image *img, uint8_t **out, size_t *outlen) FF_MUST_CHECK;

#endif
