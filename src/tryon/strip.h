/* strip.h - removes personal metadata from uploaded photos, losslessly.
 *
 * JPEG: the compressed image data is copied byte for byte; what goes:
 *   APP1 (EXIF incl. GPS and the embedded thumbnail, XMP), APP13 (IPTC /
 *   Photoshop), COM comments, every other APPn except APP2 ICC_PROFILE and
 *   APP14 Adobe (colour data the decoder needs), APP0 other than JFIF (JFXX
 *   thumbnails), the JFIF thumbnail, and anything after EOI (MPF extra images,
 *   appended data). ORIENTATION IS PRESERVED: when the EXIF orientation is not
 *   1, a new minimal APP1 holding only the orientation tag (one IFD0 entry,
 *   nothing else) is written after SOI/APP0, so every viewer (and vis_decode)
 *   still shows the photo upright without re-encoding it.
 * PNG: only IHDR, PLTE, IDAT, IEND and the colour chunks tRNS, gAMA, cHRM,
 *   sRGB, iCCP, sBIT, pHYs, bKGD are kept; eXIf, tEXt, zTXt, iTXt, tIME and
 *   every other ancillary chunk go; anything after IEND goes. (A PNG eXIf
 *   orientation other than 1 is kept the same way, as a minimal eXIf chunk.)
 *
 * The structure is checked as it is copied: malformed or truncated input is
 * FF_ECORRUPT, neither JPEG nor PNG FF_EUNSUPPORTED. */
#ifndef FF_TRYON_STRIP_H
#define FF_TRYON_STRIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum tryon_meta {
    TRYON_META_EXIF = 1 << 0,      /* JPEG APP1 Exif / PNG eXIf */
    TRYON_META_XMP = 1 << 1,       /* JPEG APP1 XMP (or any other APP1) */
    TRYON_META_IPTC = 1 << 2,      /* JPEG APP13 */
    TRYON_META_COMMENT = 1 << 3,   /* JPEG COM */
    TRYON_META_OTHER_APP = 1 << 4, /* other JPEG APPn, JFXX / JFIF thumbnails */
    TRYON_META_TEXT = 1 << 5,      /* PNG tEXt / zTXt / iTXt */
    TRYON_META_TIME = 1 << 6,      /* PNG tIME */
    TRYON_META_OTHER_CHUNK = 1 << 7, /* other PNG ancillary chunks */
    TRYON_META_TRAILER = 1 << 8,   /* bytes after EOI / IEND */
};
#define TRYON_META_NKINDS 9

struct tryon_strip_info {
    int png;          /* 0 JPEG, 1 PNG */
    int orientation;  /* EXIF orientation found (1..8; 1 when none), kept in the output */
    unsigned removed; /* enum tryon_meta bits */
};

/* Writes the stripped image into *out (ff_malloc'd, caller frees with ff_free),
 * its length in *outlen. info may be NULL. */
enum ff_err tryon_strip_metadata(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
                                 struct tryon_strip_info *info) FF_MUST_CHECK;

/* The short name of one enum tryon_meta bit ("exif"); NULL when unknown. */
const char *tryon_meta_name(unsigned bit);

#endif
