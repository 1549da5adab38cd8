/* test_strip.c - metadata removal from JPEG and PNG photos (tryon/strip.h):
 * GPS/EXIF/XMP/IPTC/comments/text chunks gone, pixels unchanged, orientation
 * kept (the stored photo still decodes upright), hostile structure refused. */
#include <stdbool.h>
#include <stdio.h>
/* libjpeg needs FILE and size_t first */
#include <jpeglib.h>

#include "core/alloc.h"
#include "harness.h"
#include "tryon/strip.h"
#include "vision/decode.h"
#include "vision/image_ops.h"

/* ---- building test images ------------------------------------------------------ */

struct bytes {
    uint8_t *p;
    size_t n;
};

static void append(struct bytes *b, const void *p, size_t n)
{
    b->p = ff_realloc(b->p, b->n + n);
    if (!b->p)
        TEST_FAIL("out of memory");
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* A 40x24 RGB picture that is not symmetric (orientation is visible). */
static void picture(struct vis_image *img)
{
    img->w = 40;
    img->h = 24;
    img->fmt = VIS_RGB8;
    img->stride = 40 * 3;
    img->data = ff_malloc(40 * 24 * 3);
    for (int y = 0; y < 24; y++)
        for (int x = 0; x < 40; x++) {
            uint8_t *px = img->data + y * img->stride + x * 3;
            px[0] = (uint8_t)(x * 6);
            px[1] = (uint8_t)(y * 10);
            px[2] = x < 8 && y < 8 ? 255 : 0;
        }
}

static struct bytes encode_jpeg(const struct vis_image *img)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *out = NULL;
    unsigned long outlen = 0;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &outlen);
    c.image_width = (JDIMENSION)img->w;
    c.image_height = (JDIMENSION)img->h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = img->data + c.next_scanline * img->stride;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    struct bytes b = {0};
    append(&b, out, outlen);
    free(out); /* checksrc: allow (libjpeg allocates with malloc) */
    return b;
}

static void segment(struct bytes *b, uint8_t marker, const void *payload, size_t n)
{
    uint8_t h[4] = {0xFF, marker, (uint8_t)((n + 2) >> 8), (uint8_t)(n + 2)};
    append(b, h, 4);
    append(b, payload, n);
}

/* EXIF (big-endian TIFF): IFD0 with Orientation and a GPS IFD pointer; the GPS
 * IFD holds a latitude ref "N" and a marker string we look for afterwards. */
static size_t exif_block(uint8_t *t, int orientation)
{
    static const uint8_t tiff[] = {
        'E', 'x', 'i', 'f', 0, 0,
        'M', 'M', 0, 42, 0, 0, 0, 8,
        0, 2,                                         /* two entries */
        0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0,     /* Orientation (value patched) */
        0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38,    /* GPS IFD at 38 */
        0, 0, 0, 0,                                   /* next IFD */
        0, 1,                                         /* GPS IFD: one entry */
        0x00, 0x01, 0, 2, 0, 0, 0, 2, 'N', 0, 0, 0,   /* GPSLatitudeRef "N" */
        0, 0, 0, 0,
        'G', 'P', 'S', '-', 'S', 'E', 'C', 'R', 'E', 'T'};
    memcpy(t, tiff, sizeof tiff);
    t[6 + 8 + 2 + 9] = (uint8_t)orientation;
    return sizeof tiff;
}

/* The clean JPEG with metadata of every kind inserted after SOI, and data after EOI. */
static struct bytes dirty_jpeg(const struct bytes *clean, int orientation)
{
    struct bytes b = {0};
    uint8_t ex[128];
    append(&b, clean->p, 2); /* SOI */
    /* JFIF with a 1x1 thumbnail */
    static const uint8_t jfif[] = {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 72, 0, 72, 1, 1, 9, 9, 9};
    segment(&b, 0xE0, jfif, sizeof jfif);
    segment(&b, 0xE1, ex, exif_block(ex, orientation));
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>XMP-SECRET</x:xmpmeta>";
    segment(&b, 0xE1, xmp, sizeof xmp);
    static const char iptc[] = "Photoshop 3.0\0IPTC-SECRET";
    segment(&b, 0xED, iptc, sizeof iptc);
    static const char com[] = "COMMENT-SECRET";
    segment(&b, 0xFE, com, sizeof com);
    static const char app5[] = "VENDOR-SECRET";
    segment(&b, 0xE5, app5, sizeof app5);
    /* the original's own segments (its JFIF APP0 included) */
    append(&b, clean->p + 2, clean->n - 2);
    static const char trailer[] = "TRAILER-SECRET";
    append(&b, trailer, sizeof trailer);
    return b;
}

static bool contains(const struct bytes *b, const char *s)
{
    return memmem(b->p, b->n, s, strlen(s)) != NULL;
}

static void same_pixels(const struct vis_image *a, const struct vis_image *b)
{
    ASSERT_EQ(a->w, b->w);
    ASSERT_EQ(a->h, b->h);
    for (int y = 0; y < a->h; y++)
        ASSERT(!memcmp(a->data + y * a->stride, b->data + y * b->stride, (size_t)a->w * 3));
}

TEST(jpeg_metadata_removed_orientation_kept)
{
    struct vis_image pic, d_in, d_out;
    picture(&pic);
    struct bytes clean = encode_jpeg(&pic);
    struct bytes dirty = dirty_jpeg(&clean, 6);
    ASSERT(contains(&dirty, "GPS-SECRET"));
    struct bytes out = {0};
    struct tryon_strip_info si;
    ASSERT_OK(tryon_strip_metadata(dirty.p, dirty.n, &out.p, &out.n, &si));
    ASSERT_EQ(si.png, 0);
    ASSERT_EQ(si.orientation, 6);
    ASSERT(si.removed & TRYON_META_EXIF);
    ASSERT(si.removed & TRYON_META_XMP);
    ASSERT(si.removed & TRYON_META_IPTC);
    ASSERT(si.removed & TRYON_META_COMMENT);
    ASSERT(si.removed & TRYON_META_OTHER_APP);
    ASSERT(si.removed & TRYON_META_TRAILER);
    const char *secrets[] = {"GPS-SECRET", "XMP-SECRET", "IPTC-SECRET", "COMMENT-SECRET",
                             "VENDOR-SECRET", "TRAILER-SECRET", "Photoshop", "http://ns.adobe"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (contains(&out, secrets[i]))
            TEST_FAIL("%s survived", secrets[i]);
    /* exactly one APP1, the minimal orientation-only EXIF: 2 + 6 + 26 bytes */
    const uint8_t *e = memmem(out.p, out.n, "Exif\0\0", 6);
    ASSERT(e && e[-4] == 0xFF && e[-3] == 0xE1 && e[-2] == 0 && e[-1] == 34);
    ASSERT(!memmem(e + 6, out.n - (size_t)(e + 6 - out.p), "Exif\0\0", 6));
    ASSERT_EQ(vis_exif_orientation(e, 32), 6);
    ASSERT(e[6 + 8 + 1] == 1); /* one IFD entry */
    /* the stored photo decodes upright: same pixels as the original with its EXIF */
    struct vis_decode_info ii, io;
    char err[200];
    ASSERT_OK(vis_decode(dirty.p, dirty.n, NULL, &d_in, &ii, err, sizeof err));
    ASSERT_OK(vis_decode(out.p, out.n, NULL, &d_out, &io, err, sizeof err));
    ASSERT_EQ(ii.orientation, 6);
    ASSERT_EQ(io.orientation, 6);
    ASSERT_EQ(d_out.w, 24); /* rotated: 40x24 stored, 24x40 shown */
    ASSERT_EQ(d_out.h, 40);
    same_pixels(&d_in, &d_out);
    /* stripping again changes nothing */
    struct bytes again = {0};
    ASSERT_OK(tryon_strip_metadata(out.p, out.n, &again.p, &again.n, &si));
    ASSERT_EQ(again.n, out.n);
    ASSERT(!memcmp(again.p, out.p, out.n));
    ASSERT_EQ(si.removed & ~TRYON_META_EXIF, 0);
    vis_image_release(&d_in);
    vis_image_release(&d_out);
    vis_image_release(&pic);
    ff_free(again.p);
    ff_free(out.p);
    ff_free(dirty.p);
    ff_free(clean.p);
}

TEST(jpeg_orientation_1_has_no_exif)
{
    struct vis_image pic;
    picture(&pic);
    struct bytes clean = encode_jpeg(&pic);
    struct bytes dirty = dirty_jpeg(&clean, 1);
    struct bytes out = {0};
    struct tryon_strip_info si;
    ASSERT_OK(tryon_strip_metadata(dirty.p, dirty.n, &out.p, &out.n, &si));
    ASSERT_EQ(si.orientation, 1);
    ASSERT(!contains(&out, "Exif"));
    /* an untouched clean JPEG comes out the same size or smaller, and decodes the same */
    struct bytes o2 = {0};
    ASSERT_OK(tryon_strip_metadata(clean.p, clean.n, &o2.p, &o2.n, &si));
    ASSERT(o2.n <= clean.n);
    struct vis_image a, b;
    ASSERT_OK(vis_decode(clean.p, clean.n, NULL, &a, NULL, NULL, 0));
    ASSERT_OK(vis_decode(o2.p, o2.n, NULL, &b, NULL, NULL, 0));
    same_pixels(&a, &b);
    vis_image_release(&a);
    vis_image_release(&b);
    vis_image_release(&pic);
    ff_free(o2.p);
    ff_free(out.p);
    ff_free(dirty.p);
    ff_free(clean.p);
}

TEST(jpeg_hostile)
{
    struct vis_image pic;
    picture(&pic);
    struct bytes clean = encode_jpeg(&pic);
    struct bytes dirty = dirty_jpeg(&clean, 6);
    uint8_t *o;
    size_t n;
    /* every truncation before EOI is refused (never a half image) */
    size_t eoi = dirty.n - 15; /* the trailer is 15 bytes */
    ASSERT(dirty.p[eoi - 2] == 0xFF && dirty.p[eoi - 1] == 0xD9);
    for (size_t len = 0; len < eoi - 1; len++) {
        enum ff_err e = tryon_strip_metadata(dirty.p, len, &o, &n, NULL);
        if (!e)
            TEST_FAIL("truncated at %zu accepted", len);
        ASSERT(o == NULL);
    }
    /* a segment length running past the end */
    struct bytes bad = {0};
    append(&bad, dirty.p, dirty.n);
    bad.p[4] = 0xFF;
    bad.p[5] = 0xFF;
    ASSERT_EQ(tryon_strip_metadata(bad.p, bad.n, &o, &n, NULL), FF_ECORRUPT);
    /* a length under 2 */
    bad.p[4] = 0;
    bad.p[5] = 1;
    ASSERT_EQ(tryon_strip_metadata(bad.p, bad.n, &o, &n, NULL), FF_ECORRUPT);
    /* a second SOI, and garbage where a marker should be */
    static const uint8_t soi2[] = {0xFF, 0xD8, 0xFF, 0xD8, 0xFF, 0xD9};
    ASSERT_EQ(tryon_strip_metadata(soi2, sizeof soi2, &o, &n, NULL), FF_ECORRUPT);
    static const uint8_t junk[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0x12, 0x34};
    ASSERT_EQ(tryon_strip_metadata(junk, sizeof junk, &o, &n, NULL), FF_ECORRUPT);
    /* fill bytes only */
    static const uint8_t fill[] = {0xFF, 0xD8, 0xFF, 0xFF, 0xFF};
    ASSERT_EQ(tryon_strip_metadata(fill, sizeof fill, &o, &n, NULL), FF_ECORRUPT);
    /* not an image at all */
    ASSERT_EQ(tryon_strip_metadata((const uint8_t *)"GIF89a....", 10, &o, &n, NULL),
              FF_EUNSUPPORTED);
    ASSERT_EQ(tryon_strip_metadata((const uint8_t *)"", 0, &o, &n, NULL), FF_EUNSUPPORTED);
    /* EXIF claiming a huge IFD count: orientation falls back to 1, no overread */
    struct bytes ex = {0};
    append(&ex, clean.p, 2);
    static const uint8_t lying[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                                    0xFF, 0xFF};
    segment(&ex, 0xE1, lying, sizeof lying);
    append(&ex, clean.p + 2, clean.n - 2);
    struct tryon_strip_info si;
    ASSERT_OK(tryon_strip_metadata(ex.p, ex.n, &o, &n, &si));
    ASSERT_EQ(si.orientation, 1);
    ff_free(o);
    ff_free(ex.p);
    ff_free(bad.p);
    ff_free(dirty.p);
    ff_free(clean.p);
    vis_image_release(&pic);
}

/* ---- PNG ------------------------------------------------------------------------ */

static uint32_t crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void chunk(struct bytes *b, const char *type, const void *data, size_t n)
{
    uint8_t h[8] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(h + 4, type, 4);
    append(b, h, 8);
    append(b, data, n);
    uint8_t *tmp = ff_malloc(n + 4);
    memcpy(tmp, type, 4);
    memcpy(tmp + 4, data, n);
    uint32_t c = crc(tmp, n + 4);
    ff_free(tmp);
    uint8_t t[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
    append(b, t, 4);
}

/* The clean PNG with metadata chunks after IHDR and before IEND. */
static struct bytes dirty_png(const uint8_t *png, size_t n, int orientation)
{
    struct bytes b = {0};
    append(&b, png, 8 + 25); /* signature + IHDR */
    chunk(&b, "tEXt", "Comment\0TEXT-SECRET", 19);
    chunk(&b, "zTXt", "Author\0\0ZTXT-SECRET", 19);
    chunk(&b, "iTXt", "Title\0\0\0\0\0ITXT-SECRET", 21);
    chunk(&b, "tIME", "\x07\xea\x0b\x19\x01\x02\x03", 7);
    uint8_t ex[128];
    size_t en = exif_block(ex, orientation);
    chunk(&b, "eXIf", ex + 6, en - 6); /* PNG eXIf holds the TIFF block without "Exif\0\0" */
    chunk(&b, "prVt", "PRIVATE-SECRET", 14);
    append(&b, png + 33, n - 33);
    append(&b, "TRAILER-SECRET", 14);
    return b;
}

TEST(png_metadata_removed)
{
    struct vis_image pic, a, c;
    picture(&pic);
    struct bytes png = {0};
    ASSERT_OK(vis_encode_png(&pic, &png.p, &png.n));
    ASSERT(!memcmp(png.p + 12, "IHDR", 4));
    for (int orientation = 1; orientation <= 3; orientation += 2) {
        struct bytes dirty = dirty_png(png.p, png.n, orientation), out = {0};
        struct tryon_strip_info si;
        ASSERT_OK(tryon_strip_metadata(dirty.p, dirty.n, &out.p, &out.n, &si));
        ASSERT_EQ(si.png, 1);
        ASSERT_EQ(si.orientation, orientation);
        unsigned want = TRYON_META_TEXT | TRYON_META_TIME | TRYON_META_EXIF |
                        TRYON_META_OTHER_CHUNK | TRYON_META_TRAILER;
        ASSERT_EQ(si.removed, want);
        const char *secrets[] = {"TEXT-SECRET", "ZTXT-SECRET", "ITXT-SECRET", "GPS-SECRET",
                                 "PRIVATE-SECRET", "TRAILER-SECRET", "tIME", "tEXt"};
        for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
            if (contains(&out, secrets[i]))
                TEST_FAIL("%s survived", secrets[i]);
        if (orientation == 1) {
            ASSERT_EQ(out.n, png.n); /* exactly the clean file */
            ASSERT(!memcmp(out.p, png.p, png.n));
        } else {
            ASSERT(contains(&out, "eXIf"));
        }
        char err[200];
        struct vis_decode_info io;
        ASSERT_OK(vis_decode(dirty.p, dirty.n, NULL, &a, NULL, err, sizeof err));
        ASSERT_OK(vis_decode(out.p, out.n, NULL, &c, &io, err, sizeof err));
        same_pixels(&a, &c);
        vis_image_release(&a);
        vis_image_release(&c);
        ff_free(out.p);
        ff_free(dirty.p);
    }
    ff_free(png.p);
    vis_image_release(&pic);
}

TEST(png_hostile)
{
    struct vis_image pic;
    picture(&pic);
    struct bytes png = {0};
    ASSERT_OK(vis_encode_png(&pic, &png.p, &png.n));
    uint8_t *o;
    size_t n;
    for (size_t len = 8; len < png.n; len++) /* no IEND: truncated */
        if (!tryon_strip_metadata(png.p, len, &o, &n, NULL))
            TEST_FAIL("truncated PNG at %zu accepted", len);
    struct bytes bad = {0};
    append(&bad, png.p, png.n);
    bad.p[8] = 0x7F; /* IHDR length 2 GB */
    ASSERT_EQ(tryon_strip_metadata(bad.p, bad.n, &o, &n, NULL), FF_ECORRUPT);
    bad.p[8] = 0xFF; /* over 2^31 */
    ASSERT_EQ(tryon_strip_metadata(bad.p, bad.n, &o, &n, NULL), FF_ECORRUPT);
    memcpy(bad.p + 8, png.p + 8, 4);
    bad.p[12] = 'X'; /* the first chunk is not IHDR */
    ASSERT_EQ(tryon_strip_metadata(bad.p, bad.n, &o, &n, NULL), FF_ECORRUPT);
    bad.p[12] = '1'; /* not a letter */
    ASSERT_EQ(tryon_strip_metadata(bad.p, bad.n, &o, &n, NULL), FF_ECORRUPT);
    /* an unknown critical chunk */
    struct bytes crit = {0};
    append(&crit, png.p, 33);
    chunk(&crit, "ABCD", "x", 1);
    append(&crit, png.p + 33, png.n - 33);
    ASSERT_EQ(tryon_strip_metadata(crit.p, crit.n, &o, &n, NULL), FF_EUNSUPPORTED);
    /* two IHDRs */
    struct bytes two = {0};
    append(&two, png.p, 33);
    append(&two, png.p + 8, 25);
    append(&two, png.p + 33, png.n - 33);
    ASSERT_EQ(tryon_strip_metadata(two.p, two.n, &o, &n, NULL), FF_ECORRUPT);
    ff_free(two.p);
    ff_free(crit.p);
    ff_free(bad.p);
    ff_free(png.p);
    vis_image_release(&pic);
}

TEST(names)
{
    for (unsigned b = 0; b < TRYON_META_NKINDS; b++)
        ASSERT(tryon_meta_name(1u << b));
    ASSERT(tryon_meta_name(1u << TRYON_META_NKINDS) == NULL);
}

int main(void)
{
    RUN(jpeg_metadata_removed_orientation_kept);
    RUN(jpeg_orientation_1_has_no_exif);
    RUN(jpeg_hostile);
    RUN(png_metadata_removed);
    RUN(png_hostile);
    RUN(names);
    return TEST_REPORT();
}
