/* detect_testimg.c - see detect_testimg.h. */
#include "detect_testimg.h"

#include <stdio.h>

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include "core/alloc.h"

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
};

static void jerr_exit(j_common_ptr c)
{
    longjmp(((struct jerr *)c->err)->jb, 1);
}

static int load_jpeg(FILE *f, struct vis_image *img)
{
    struct jpeg_decompress_struct ci;
    struct jerr je;
    uint8_t *volatile data = NULL;
    ci.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jerr_exit;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&ci);
        ff_free(data);
        return -1;
    }
    jpeg_create_decompress(&ci);
    jpeg_stdio_src(&ci, f);
    jpeg_read_header(&ci, TRUE);
    jpeg_start_decompress(&ci);
    const int w = (int)ci.output_width, h = (int)ci.output_height, nc = ci.output_components;
    if (nc != 1 && nc != 3)
        longjmp(je.jb, 1);
    data = ff_malloc((size_t)w * h * 3);
    uint8_t *row = ff_malloc((size_t)w * nc);
    if (!data || !row) {
        ff_free(row);
        longjmp(je.jb, 1);
    }
    while (ci.output_scanline < ci.output_height) {
        const int y = (int)ci.output_scanline;
        JSAMPROW rp = row;
        jpeg_read_scanlines(&ci, &rp, 1);
        uint8_t *o = data + (size_t)y * w * 3;
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++)
                o[3 * x + k] = nc == 3 ? row[3 * x + k] : row[x];
    }
    ff_free(row);
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    *img = (struct vis_image){w, h, (size_t)w * 3, VIS_RGB8, data};
    return 0;
}

static int load_png(FILE *f, struct vis_image *img)
{
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    uint8_t *volatile data = NULL;
    if (!info) {
        png_destroy_read_struct(&p, NULL, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_read_struct(&p, &info, NULL);
        ff_free(data);
        return -1;
    }
    png_init_io(p, f);
    png_read_info(p, info);
    png_set_strip_16(p);
    png_set_strip_alpha(p);
    png_set_palette_to_rgb(p);
    png_set_gray_to_rgb(p);
    png_read_update_info(p, info);
    const int w = (int)png_get_image_width(p, info), h = (int)png_get_image_height(p, info);
    if (png_get_rowbytes(p, info) != (size_t)w * 3)
        png_error(p, "unexpected layout");
    data = ff_malloc((size_t)w * h * 3);
    if (!data)
        png_error(p, "oom");
    for (int y = 0; y < h; y++)
        png_read_row(p, data + (size_t)y * w * 3, NULL);
    png_destroy_read_struct(&p, &info, NULL);
    *img = (struct vis_image){w, h, (size_t)w * 3, VIS_RGB8, data};
    return 0;
}

int dti_load_rgb(const char *path, struct vis_image *img)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t sig[8] = {0};
    size_t n = fread(sig, 1, 8, f);
    rewind(f);
    int rc = -1;
    if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8)
        rc = load_jpeg(f, img);
    else if (n == 8 && !png_sig_cmp(sig, 0, 8))
        rc = load_png(f, img);
    fclose(f);
    return rc;
}

int dti_to_gray(const struct vis_image *rgb, struct vis_image *gray)
{
    uint8_t *d = ff_malloc((size_t)rgb->w * rgb->h);
    if (!d)
        return -1;
    for (int y = 0; y < rgb->h; y++)
        for (int x = 0; x < rgb->w; x++) {
            const uint8_t *p = rgb->data + (size_t)y * rgb->stride + 3 * (size_t)x;
            d[(size_t)y * rgb->w + x] = (uint8_t)(((unsigned)p[0] + p[1] + p[2]) / 3);
        }
    *gray = (struct vis_image){rgb->w, rgb->h, (size_t)rgb->w, VIS_GRAY8, d};
    return 0;
}

uint64_t dti_hash(const struct vis_image *img)
{
    uint64_t h = 1469598103934665603ull;
    const size_t rowbytes = (size_t)img->w * (size_t)img->fmt;
    for (int y = 0; y < img->h; y++)
        for (size_t i = 0; i < rowbytes; i++) {
            h ^= img->data[(size_t)y * img->stride + i];
            h *= 1099511628211ull;
        }
    return h;
}
