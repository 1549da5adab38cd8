/* encode.c - JPEG (libjpeg-turbo), PNG (libpng) and WebP (libwebp) encoders into
 * ff_malloc'd buffers. Library errors come back as enum ff_err, never exit(). */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "core/alloc.h"
#include "render/render.h"

enum rnd_format rnd_format_parse(const char *s)
{
    if (!s)
        return 0;
    if (!strcmp(s, "jpeg") || !strcmp(s, "jpg"))
        return RND_JPEG;
    if (!strcmp(s, "png"))
        return RND_PNG;
    if (!strcmp(s, "webp"))
        return RND_WEBP;
    return 0;
}

const char *rnd_format_name(enum rnd_format f)
{
    return f == RND_JPEG ? "jpeg" : f == RND_PNG ? "png" : f == RND_WEBP ? "webp" : "?";
}

const char *rnd_format_mime(enum rnd_format f)
{
    return f == RND_JPEG   ? "image/jpeg"
           : f == RND_PNG  ? "image/png"
           : f == RND_WEBP ? "image/webp"
                           : "application/octet-stream";
}

/* ---- growable output ----------------------------------------------------------- */

struct sink {
    uint8_t *p;
    size_t len, cap;
    int oom;
};

static int sink_reserve(struct sink *s, size_t more)
{
    if (s->oom)
        return -1;
    if (s->len + more <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap * 2 : 65536;
    while (cap < s->len + more)
        cap *= 2;
    uint8_t *q = ff_realloc(s->p, cap);
    if (!q) {
        s->oom = 1;
        return -1;
    }
    s->p = q;
    s->cap = cap;
    return 0;
}

/* ---- JPEG ---------------------------------------------------------------------- */

struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
};

static void j_error_exit(j_common_ptr cinfo)
{
    longjmp(((struct jerr *)cinfo->err)->jb, 1);
}

static void j_output(j_common_ptr cinfo) { (void)cinfo; }

/* libjpeg's error path for a failed allocation of ours (ERREXIT is in jerror.h,
 * which pulls in more than we need): report through error_exit. */
static void j_oom(j_common_ptr c)
{
    c->err->msg_code = 0;
    c->err->error_exit(c);
}

struct jdest {
    struct jpeg_destination_mgr pub;
    struct sink s;
};

#define JCHUNK 65536

static void j_init(j_compress_ptr c)
{
    struct jdest *d = (struct jdest *)c->dest;
    if (sink_reserve(&d->s, JCHUNK))
        j_oom((j_common_ptr)c);
    d->pub.next_output_byte = d->s.p + d->s.len;
    d->pub.free_in_buffer = d->s.cap - d->s.len;
}

static boolean j_empty(j_compress_ptr c)
{
    struct jdest *d = (struct jdest *)c->dest;
    d->s.len = d->s.cap; /* the whole buffer is full */
    if (sink_reserve(&d->s, JCHUNK))
        j_oom((j_common_ptr)c);
    d->pub.next_output_byte = d->s.p + d->s.len;
    d->pub.free_in_buffer = d->s.cap - d->s.len;
    return TRUE;
}

static void j_term(j_compress_ptr c)
{
    struct jdest *d = (struct jdest *)c->dest;
    d->s.len = d->s.cap - d->pub.free_in_buffer;
}

static enum ff_err enc_jpeg(const struct vis_image *img, int q, uint8_t **out, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jerr je;
    struct jdest dest;
    memset(&dest, 0, sizeof dest);
    c.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = j_error_exit;
    je.pub.output_message = j_output;
    if (setjmp(je.jb)) {
        jpeg_destroy_compress(&c);
        ff_free(dest.s.p);
        return dest.s.oom ? FF_ENOMEM : FF_EINTERNAL;
    }
    jpeg_create_compress(&c);
    dest.pub.init_destination = j_init;
    dest.pub.empty_output_buffer = j_empty;
    dest.pub.term_destination = j_term;
    c.dest = &dest.pub;
    c.image_width = (JDIMENSION)img->w;
    c.image_height = (JDIMENSION)img->h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    c.optimize_coding = TRUE;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = img->data + (size_t)c.next_scanline * img->stride;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *out = dest.s.p;
    *len = dest.s.len;
    return FF_OK;
}

/* ---- PNG ----------------------------------------------------------------------- */


static void p_error(png_structp png, png_const_charp m)
{
    (void)m;
    png_longjmp(png, 1);
}

static void p_warn(png_structp png, png_const_charp m)
{
    (void)png;
    (void)m;
}

static png_voidp p_malloc(png_structp png, png_alloc_size_t n)
{
    return ff_malloc(n);
}

static void p_free(png_structp png, png_voidp p)
{
    (void)png;
    ff_free(p);
}

static void p_write(png_structp png, png_bytep data, png_size_t n)
{
    struct sink *s = png_get_io_ptr(png);
    if (sink_reserve(s, n))
        png_error(png, "out of memory");
    memcpy(s->p + s->len, data, n);
    s->len += n;
}

static void p_flush(png_structp png) { (void)png; }

static enum ff_err enc_png(const uint8_t *data, size_t stride, int w, int h, int channels,
                           uint8_t **out, size_t *len)
{
    struct sink s = {0};
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, NULL, p_error, p_warn,
                                                NULL, p_malloc, p_free);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    if (!pi) {
        png_destroy_write_struct(&png, NULL);
        return FF_ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &pi);
        ff_free(s.p);
        return s.oom ? FF_ENOMEM : FF_EINTERNAL;
    }
    png_set_write_fn(png, &s, p_write, p_flush);
    /* photos barely compress: a fast level costs ~3 % in size and saves most of
     * the time */
    png_set_compression_level(png, 2);
    png_set_IHDR(png, pi, (png_uint_32)w, (png_uint_32)h, 8,
                 channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_sRGB(png, pi, PNG_sRGB_INTENT_PERCEPTUAL);
    png_write_info(png, pi);
    for (int y = 0; y < h; y++)
        png_write_row(png, data + (size_t)y * stride);
    png_write_end(png, pi);
    png_destroy_write_struct(&png, &pi);
    *out = s.p;
    *len = s.len;
    return FF_OK;
}

/* ---- WebP ---------------------------------------------------------------------- */

static enum ff_err enc_webp(const struct vis_image *img, int q, uint8_t **out, size_t *len)
{
    if (img->w > WEBP_MAX_DIMENSION || img->h > WEBP_MAX_DIMENSION)
        return FF_ETOOBIG;
    WebPConfig cfg;
    WebPPicture pic;
    WebPMemoryWriter wr;
    if (!WebPConfigPreset(&cfg, WEBP_PRESET_PHOTO, (float)q) || !WebPPictureInit(&pic))
        return FF_EINTERNAL;
    cfg.method = 2; /* 0 fastest .. 6 smallest: 2 is ~3x faster than the default 4 */
    pic.width = img->w;
    pic.height = img->h;
    pic.use_argb = 0;
    if (!WebPPictureImportRGB(&pic, img->data, (int)img->stride))
        return FF_ENOMEM;
    WebPMemoryWriterInit(&wr);
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = &wr;
    int ok = WebPEncode(&cfg, &pic);
    WebPPictureFree(&pic);
    enum ff_err e = ok ? FF_OK : pic.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ? FF_ENOMEM
                                                                              : FF_EINTERNAL;
    if (!e) {
        *out = ff_malloc(wr.size); /* ff_malloc'd like the other encoders */
        if (*out)
            memcpy(*out, wr.mem, wr.size);
        else
            e = FF_ENOMEM;
        *len = wr.size;
    }
    WebPMemoryWriterClear(&wr);
    if (e)
        *len = 0;
    return e;
}

enum ff_err rnd_encode(const struct vis_image *img, enum rnd_format fmt, int quality,
                       uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!img || !img->data || img->fmt != VIS_RGB8 || img->w < 1 || img->h < 1 ||
        quality < 0 || quality > 100)
        return FF_EINVAL;
    switch (fmt) {
    case RND_JPEG:
        return enc_jpeg(img, quality ? quality : 88, out, len);
    case RND_PNG:
        return enc_png(img->data, img->stride, img->w, img->h, 3, out, len);
    case RND_WEBP:
        return enc_webp(img, quality ? quality : 85, out, len);
    }
    return FF_EINVAL;
}

enum ff_err rnd_encode_rgba_png(const struct rnd_rgba *img, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!img || !img->data || img->w < 1 || img->h < 1)
        return FF_EINVAL;
    return enc_png(img->data, img->stride, img->w, img->h, 4, out, len);
}
