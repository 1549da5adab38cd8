/* strip.c - lossless metadata removal for JPEG and PNG (see strip.h). */
#include "tryon/strip.h"

#include <string.h>

#include "core/alloc.h"
#include "vision/decode.h"

const char *tryon_meta_name(unsigned bit)
{
    switch (bit) {
    case TRYON_META_EXIF: return "exif";
    case TRYON_META_XMP: return "xmp";
    case TRYON_META_IPTC: return "iptc";
    case TRYON_META_COMMENT: return "comment";
    case TRYON_META_OTHER_APP: return "other_app_segment";
    case TRYON_META_TEXT: return "text";
    case TRYON_META_TIME: return "time";
    case TRYON_META_OTHER_CHUNK: return "other_chunk";
    case TRYON_META_TRAILER: return "trailing_data";
    default: return NULL;
    }
}

struct out {
    uint8_t *p;
    size_t n;
};

static void put(struct out *o, const void *p, size_t n)
{
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

#define TIFF_ORIENT_LEN 26

/* The minimal big-endian TIFF block with one IFD0 entry: Orientation = o. */
static size_t tiff_orientation(uint8_t *t, int o)
{
    static const uint8_t head[] = {'M', 'M', 0, 42, 0, 0, 0, 8, /* IFD0 at 8 */
                                   0, 1,                        /* one entry */
                                   0x01, 0x12, 0, 3, 0, 0, 0, 1}; /* 0x0112 SHORT x1 */
    memcpy(t, head, sizeof head); /* 18 bytes */
    t[18] = 0;
    t[19] = (uint8_t)o;
    memset(t + 20, 0, 2 + 4); /* value padding, next IFD = 0 */
    return TIFF_ORIENT_LEN;
}

/* ---- JPEG ------------------------------------------------------------------ */

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Keeps or drops one APPn / COM segment (payload p, n bytes). Returns 1 to
 * keep as is; 0 to drop. May record an orientation or a rewritten JFIF. */
static int keep_app(unsigned m, const uint8_t *p, size_t n, struct tryon_strip_info *info,
                    uint8_t jfif[14], int *has_jfif)
{
    if (m == 0xFE) {
        info->removed |= TRYON_META_COMMENT;
        return 0;
    }
    if (m == 0xE0 && n >= 14 && !memcmp(p, "JFIF\0", 5) && !*has_jfif) {
        memcpy(jfif, p, 14); /* version, units, density; thumbnail dropped below */
        jfif[12] = jfif[13] = 0;
        *has_jfif = 1;
        if (n > 14)
            info->removed |= TRYON_META_OTHER_APP;
        return 0; /* written by the caller, canonical */
    }
    if (m == 0xE1) {
        if (n >= 6 && !memcmp(p, "Exif\0\0", 6)) {
            info->removed |= TRYON_META_EXIF;
            if (info->orientation == 1)
                info->orientation = vis_exif_orientation(p, n);
        } else {
            info->removed |= TRYON_META_XMP;
        }
        return 0;
    }
    if (m == 0xE2 && n >= 12 && !memcmp(p, "ICC_PROFILE\0", 12))
        return 1;
    if (m == 0xEE && n >= 5 && !memcmp(p, "Adobe", 5))
        return 1;
    info->removed |= m == 0xED ? TRYON_META_IPTC : TRYON_META_OTHER_APP;
    return 0;
}

/* Length of entropy-coded data from p: up to the next marker that is not a
 * stuffed 0xFF00 or a restart marker. */
static size_t entropy_len(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *f = memchr(p + i, 0xFF, n - i);
        if (!f)
            return n;
        i = (size_t)(f - p);
        if (i + 1 >= n)
            return n;
        uint8_t m = p[i + 1];
        if (m == 0x00 || (m >= 0xD0 && m <= 0xD7) || m == 0xFF) {
            i += m == 0xFF ? 1 : 2;
            continue;
        }
        return i;
    }
    return n;
}

static enum ff_err strip_jpeg(const uint8_t *in, size_t len, struct out *o,
                              struct tryon_strip_info *info)
{
    uint8_t jfif[14];
    int has_jfif = 0, headers_out = 0;
    size_t i = 2;
    put(o, in, 2); /* SOI */
    for (;;) {
        if (i >= len || in[i] != 0xFF)
            return FF_ECORRUPT;
        while (i < len && in[i] == 0xFF) /* fill bytes */
            i++;
        if (i >= len)
            return FF_ECORRUPT;
        unsigned m = in[i++];
        if (m == 0xD8 || m == 0x00)
            return FF_ECORRUPT;
        if (!headers_out && (m < 0xE0 || m > 0xEF) && m != 0xFE) {
            /* first non-metadata marker: JFIF, then the orientation, then the rest */
            headers_out = 1;
            if (has_jfif) {
                static const uint8_t h[] = {0xFF, 0xE0, 0, 16};
                put(o, h, 4);
                put(o, jfif, 14);
            }
            if (info->orientation != 1) {
                uint8_t seg[4 + 6 + TIFF_ORIENT_LEN] = {0xFF, 0xE1, 0, 2 + 6 + TIFF_ORIENT_LEN,
                                                       'E', 'x', 'i', 'f', 0, 0};
                tiff_orientation(seg + 10, info->orientation);
                put(o, seg, sizeof seg);
            }
        }
        if (m == 0xD9) { /* EOI */
            static const uint8_t eoi[] = {0xFF, 0xD9};
            put(o, eoi, 2);
            if (i < len)
                info->removed |= TRYON_META_TRAILER;
            return FF_OK;
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { /* standalone markers */
            uint8_t mk[2] = {0xFF, (uint8_t)m};
            put(o, mk, 2);
            continue;
        }
        if (i + 2 > len)
            return FF_ECORRUPT;
        size_t seg = be16(in + i);
        if (seg < 2 || i + seg > len)
            return FF_ECORRUPT;
        const uint8_t *payload = in + i + 2;
        size_t plen = seg - 2;
        int keep = 1;
        if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {
            if (headers_out && m != 0xE2 && m != 0xEE) {
                /* metadata after the frame header: dropped, never applied */
                info->removed |= m == 0xFE ? TRYON_META_COMMENT
                                           : m == 0xE1 ? TRYON_META_EXIF : TRYON_META_OTHER_APP;
                keep = 0;
            } else {
                keep = keep_app(m, payload, plen, info, jfif, &has_jfif);
            }
        }
        if (keep) {
            uint8_t mk[2] = {0xFF, (uint8_t)m};
            put(o, mk, 2);
            put(o, in + i, seg);
        }
        i += seg;
        if (m == 0xDA) { /* SOS: the scan's entropy-coded data follows */
            size_t el = entropy_len(in + i, len - i);
            put(o, in + i, el);
            i += el;
            if (i >= len)
                return FF_ECORRUPT; /* no EOI: truncated */
        }
    }
}

/* ---- PNG ------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int png_keep(const uint8_t *type)
{
    static const char *keep[] = {"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA",
                                 "cHRM", "sRGB", "iCCP", "sBIT", "pHYs", "bKGD"};
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
        if (!memcmp(type, keep[k], 4))
            return 1;
    return 0;
}

/* CRC-32 as PNG (ISO 3309), for the chunk written here. */
static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static enum ff_err strip_png(const uint8_t *in, size_t len, struct out *o,
                             struct tryon_strip_info *info)
{
    size_t i = 8;
    int n = 0;
    put(o, in, 8);
    /* pass 1: the orientation (eXIf may come after IDAT) */
    for (size_t j = 8; j + 12 <= len;) {
        uint32_t cl = be32(in + j);
        if (cl > 0x7FFFFFFFu || cl > len - j - 12)
            break;
        if (!memcmp(in + j + 4, "eXIf", 4) && info->orientation == 1)
            info->orientation = vis_exif_orientation(in + j + 8, cl);
        if (!memcmp(in + j + 4, "IEND", 4))
            break; /* what follows is dropped, never read */
        j += 12 + cl;
    }
    for (;; n++) {
        if (i + 12 > len)
            return FF_ECORRUPT;
        uint32_t cl = be32(in + i);
        const uint8_t *type = in + i + 4;
        if (cl > 0x7FFFFFFFu || cl > len - i - 12)
            return FF_ECORRUPT;
        for (int k = 0; k < 4; k++)
            if (!((type[k] >= 'a' && type[k] <= 'z') || (type[k] >= 'A' && type[k] <= 'Z')))
                return FF_ECORRUPT;
        if ((n == 0) != !memcmp(type, "IHDR", 4))
            return FF_ECORRUPT; /* IHDR first, once */
        size_t whole = 12 + (size_t)cl;
        if (png_keep(type)) {
            put(o, in + i, whole);
        } else if (!(type[0] & 0x20)) {
            return FF_EUNSUPPORTED; /* an unknown critical chunk: not a PNG we can read */
        } else if (!memcmp(type, "eXIf", 4)) {
            info->removed |= TRYON_META_EXIF;
        } else if (!memcmp(type, "tEXt", 4) || !memcmp(type, "zTXt", 4) ||
                   !memcmp(type, "iTXt", 4)) {
            info->removed |= TRYON_META_TEXT;
        } else if (!memcmp(type, "tIME", 4)) {
            info->removed |= TRYON_META_TIME;
        } else {
            info->removed |= TRYON_META_OTHER_CHUNK;
        }
        if (n == 0 && info->orientation != 1) { /* right after IHDR */
            uint8_t c[12 + TIFF_ORIENT_LEN];
            put_be32(c, TIFF_ORIENT_LEN);
            memcpy(c + 4, "eXIf", 4);
            tiff_orientation(c + 8, info->orientation);
            put_be32(c + 8 + TIFF_ORIENT_LEN, crc32_png(c + 4, 4 + TIFF_ORIENT_LEN));
            put(o, c, sizeof c);
        }
        i += whole;
        if (!memcmp(type, "IEND", 4)) {
            if (i < len)
                info->removed |= TRYON_META_TRAILER;
            return FF_OK;
        }
    }
}

enum ff_err tryon_strip_metadata(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
                                 struct tryon_strip_info *info)
{
    struct tryon_strip_info tmp;
    if (!info)
        info = &tmp;
    *info = (struct tryon_strip_info){0, 1, 0};
    *out = NULL;
    *outlen = 0;
    enum vis_codec codec = vis_sniff(in, len);
    if (codec == VIS_CODEC_UNKNOWN)
        return FF_EUNSUPPORTED;
    /* the output is never longer than the input plus the orientation segment */
    struct out o = {ff_malloc(len + 64), 0};
    if (!o.p)
        return FF_ENOMEM;
    info->png = codec == VIS_CODEC_PNG;
    enum ff_err e = info->png ? strip_png(in, len, &o, info) : strip_jpeg(in, len, &o, info);
    if (e) {
        ff_free(o.p);
        return e;
    }
    *out = o.p;
    *outlen = o.n;
    return FF_OK;
}
