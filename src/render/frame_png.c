/* frame_png.c - custom frame images: an RGBA PNG (hostile input: staff uploads)
 * decoded into a struct rnd_frame with its anchors, and frames resampled to another
 * scale in premultiplied linear light (drawing a large asset small without aliasing). */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render.h"
#include "render/render_int.h"

struct src {
    const uint8_t *p;
    size_t len, off;
    char text[160];
    enum ff_err code;
};

static void s_read(png_structp png, png_bytep out, png_size_t n)
{
    struct src *s = png_get_io_ptr(png);
    if (n > s->len - s->off)
        png_error(png, "file truncated");
    memcpy(out, s->p + s->off, n);
    s->off += n;
}

static void s_error(png_structp png, png_const_charp m)
{
    struct src *s = png_get_error_ptr(png);
    if (!s->code)
        s->code = FF_ECORRUPT;
    snprintf(s->text, sizeof s->text, "%s", m);
    png_longjmp(png, 1);
}

static void s_warn(png_structp png, png_const_charp m)
{
    (void)png;
    (void)m;
}

static png_voidp s_malloc(png_structp png, png_alloc_size_t n)
{
    void *p = ff_malloc(n);
    struct src *s = png_get_mem_ptr(png);
    if (!p && s)
        s->code = FF_ENOMEM;
    return p;
}

static void s_free(png_structp png, png_voidp p)
{
    (void)png;
    ff_free(p);
}

static void fail(struct src *s, png_structp png, enum ff_err code, const char *text)
{
    s->code = code;
    snprintf(s->text, sizeof s->text, "%s", text);
    png_longjmp(png, 1);
}

enum ff_err rnd_png_rgba_decode(const void *buf, size_t len, struct rnd_rgba *out, char *err,
                                size_t errlen)
{
    memset(out, 0, sizeof *out);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!buf || len < 33 || memcmp(buf, sig, 8)) {
        if (err && errlen)
            snprintf(err, errlen, "not a PNG file");
        return FF_EUNSUPPORTED;
    }
    struct src s = {buf, len, 0, "", FF_OK};
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &s, s_error, s_warn, &s,
                                               s_malloc, s_free);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    struct rnd_rgba *volatile img = out;
    png_bytep *volatile rows = NULL;
    if (!pi) {
        png_destroy_read_struct(&png, NULL, NULL);
        return FF_ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &pi, NULL);
        ff_free(rows);
        ff_free(img->data);
        memset(img, 0, sizeof *img);
        if (err && errlen)
            snprintf(err, errlen, "%s%s", s.code == FF_ECORRUPT ? "corrupt PNG: " : "", s.text);
        return s.code ? s.code : FF_ECORRUPT;
    }
    png_set_read_fn(png, &s, s_read);
    png_set_user_limits(png, RND_FRAME_PNG_MAX_W, RND_FRAME_PNG_MAX_H);
    png_set_chunk_cache_max(png, 100);
    png_set_chunk_malloc_max(png, 4u << 20);
    png_read_info(png, pi);
    png_uint_32 w, h;
    int depth, ctype;
    png_get_IHDR(png, pi, &w, &h, &depth, &ctype, NULL, NULL, NULL);
    int has_alpha = (ctype & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, pi, PNG_INFO_tRNS);
    if (!has_alpha)
        fail(&s, png, FF_EINVAL, "a frame image needs an alpha channel (transparent outside)");
    png_set_strip_16(png);
    png_set_packing(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (png_get_valid(png, pi, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, pi);
    if (png_get_rowbytes(png, pi) != (size_t)w * 4)
        fail(&s, png, FF_EUNSUPPORTED, "unsupported PNG pixel layout");
    img->w = (int)w;
    img->h = (int)h;
    img->stride = (size_t)w * 4;
    img->data = ff_malloc(img->stride * h);
    rows = img->data ? ff_malloc(sizeof(png_bytep) * h) : NULL;
    if (!rows)
        fail(&s, png, FF_ENOMEM, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = img->data + (size_t)y * img->stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &pi, NULL);
    ff_free(rows);
    return FF_OK;
}

enum ff_err rnd_frame_from_rgba(struct rnd_rgba *img, const double lens_left[2],
                                const double lens_right[2], double lens_sep_mm,
                                struct rnd_frame *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *why = NULL;
    double dx = lens_right[0] - lens_left[0], dy = lens_right[1] - lens_left[1];
    if (!img || !img->data || img->w < 8 || img->h < 8)
        why = "the frame image is too small";
    else if (!(isfinite(lens_left[0]) && isfinite(lens_left[1]) && isfinite(lens_right[0]) &&
               isfinite(lens_right[1])))
        why = "lens centres must be numbers";
    else if (lens_left[0] < 0 || lens_right[0] > img->w || lens_left[1] < 0 ||
             lens_left[1] > img->h || lens_right[1] < 0 || lens_right[1] > img->h)
        why = "lens centres must lie inside the image";
    else if (dx < 8 || fabs(dy) > 0.1 * dx)
        why = "the right lens centre must be at least 8 px right of the left one, level with it";
    else if (!(lens_sep_mm >= 38 && lens_sep_mm <= 110))
        why = "lens separation must be 38..110 mm";
    if (why) {
        if (err && errlen)
            snprintf(err, errlen, "%s", why);
        return FF_EINVAL;
    }
    out->img = *img;
    memset(img, 0, sizeof *img); /* the frame owns the pixels now */
    out->px_per_mm = hypot(dx, dy) / lens_sep_mm;
    out->centre[0] = (lens_left[0] + lens_right[0]) / 2;
    out->centre[1] = (lens_left[1] + lens_right[1]) / 2;
    memcpy(out->lens_left, lens_left, sizeof out->lens_left);
    memcpy(out->lens_right, lens_right, sizeof out->lens_right);
    out->bridge_top[0] = out->centre[0];
    out->bridge_top[1] = out->centre[1];
    out->width_mm = out->img.w / out->px_per_mm;
    out->height_mm = out->img.h / out->px_per_mm;
    out->lens_sep_mm = lens_sep_mm;
    return FF_OK;
}
