/* decode.c - JPEG (libjpeg-turbo) and PNG (libpng) decoding, EXIF orientation. */
#include "vision/decode.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "core/alloc.h"
#include "core/str.h"
#include "vision/image_ops.h"

#define MAX_SIDE 65535
#define MAX_JPEG_SCANS 1000 /* progressive files with endless scans are a CPU bomb */

enum vis_codec vis_sniff(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return VIS_CODEC_JPEG;
    if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return VIS_CODEC_PNG;
    return VIS_CODEC_UNKNOWN;
}

/* ---- EXIF ---------------------------------------------------------------- */

static unsigned rd16(const uint8_t *p, int le) { return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
static uint32_t rd32(const uint8_t *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int vis_exif_orientation(const uint8_t *p, size_t n)
{
    if (n >= 6 && !memcmp(p, "Exif\0\0", 6)) {
        p += 6;
        n -= 6;
    }
    if (n < 8)
        return 1;
    int le;
    if (p[0] == 'I' && p[1] == 'I')
        le = 1;
    else if (p[0] == 'M' && p[1] == 'M')
        le = 0;
    else
        return 1;
    if (rd16(p + 2, le) != 42)
        return 1;
    uint32_t ifd = rd32(p + 4, le);
    if (ifd < 8 || ifd > n - 2)
        return 1;
    unsigned count = rd16(p + ifd, le);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > n)
            return 1;
        if (rd16(p + e, le) != 0x0112)
            continue;
        unsigned type = rd16(p + e + 2, le);
        if (type != 3 || rd32(p + e + 4, le) < 1) /* SHORT */
            return 1;
        unsigned v = rd16(p + e + 8, le);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

/* Applies orientation o to *img (replacing its pixels). */
static enum ff_err orient(struct vis_image *img, int o)
{
    if (o <= 1 || o > 8)
        return FF_OK;
    int sw = img->w, sh = img->h, swap = o >= 5;
    struct vis_image d;
    enum ff_err e = vis_image_alloc(&d, swap ? sh : sw, swap ? sw : sh, img->fmt);
    if (e)
        return e;
    const size_t bpp = (size_t)img->fmt;
    for (int y = 0; y < d.h; y++) {
        uint8_t *dp = d.data + (size_t)y * d.stride;
        for (int x = 0; x < d.w; x++, dp += bpp) {
            int sx, sy;
            switch (o) {
            case 2: sx = sw - 1 - x; sy = y; break;
            case 3: sx = sw - 1 - x; sy = sh - 1 - y; break;
            case 4: sx = x; sy = sh - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = sh - 1 - x; break;
            case 7: sx = sw - 1 - y; sy = sh - 1 - x; break;
            default: sx = sw - 1 - y; sy = x; break; /* 8 */
            }
            memcpy(dp, img->data + (size_t)sy * img->stride + (size_t)sx * bpp, bpp);
        }
    }
    vis_image_release(img);
    *img = d;
    return FF_OK;
}

/* ---- JPEG ---------------------------------------------------------------- */

struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char text[JMSG_LENGTH_MAX];
    enum ff_err code;
};

static void j_error_exit(j_common_ptr c)
{
    struct jerr *je = (struct jerr *)c->err;
    c->err->format_message(c, je->text);
    je->code = FF_ECORRUPT;
    longjmp(je->jb, 1);
}

static void j_emit(j_common_ptr c, int level)
{
    struct jerr *je = (struct jerr *)c->err;
    if (level >= 0)
        return; /* trace messages */
    /* A warning: truncation and broken entropy data would otherwise decode as a
     * half-grey picture. Only stray bytes between markers are tolerated. */
    if (c->err->msg_code == JWRN_EXTRANEOUS_DATA)
        return;
    c->err->format_message(c, je->text);
    je->code = FF_ECORRUPT;
    longjmp(je->jb, 1);
}

static void j_output(j_common_ptr c) { (void)c; }

static void j_progress(j_common_ptr c)
{
    struct jpeg_decompress_struct *d = (struct jpeg_decompress_struct *)c;
    struct jerr *je = (struct jerr *)c->err;
    if (d->progressive_mode && d->input_scan_number > MAX_JPEG_SCANS) {
        snprintf(je->text, sizeof je->text, "progressive JPEG with more than %d scans",
                 MAX_JPEG_SCANS);
        je->code = FF_ECORRUPT;
        longjmp(je->jb, 1);
    }
}

static enum ff_err decode_jpeg(const uint8_t *buf, size_t len, uint64_t max_px, int want_exif,
                               struct vis_image *out, struct vis_decode_info *info, char *err,
                               size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    struct jerr je;
    struct jpeg_progress_mgr prog;
    /* volatile: modified between setjmp and longjmp */
    struct vis_image *volatile img = out;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&je, 0, sizeof je);
    cinfo.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = j_error_exit;
    je.pub.emit_message = j_emit;
    je.pub.output_message = j_output;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&cinfo);
        vis_image_release(img);
        ff_errbuf(err, errlen, "%s JPEG: %s", je.code == FF_ENOMEM ? "cannot decode" : "corrupt",
            je.text);
        return je.code ? je.code : FF_ECORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    prog.progress_monitor = j_progress;
    cinfo.progress = &prog;
    cinfo.mem->max_memory_to_use = 512L << 20;
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    if (want_exif)
        jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    uint64_t w = cinfo.image_width, h = cinfo.image_height;
    info->stored_w = (int)(w > MAX_SIDE ? MAX_SIDE : w);
    info->stored_h = (int)(h > MAX_SIDE ? MAX_SIDE : h);
    if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || w * h > max_px) {
        jpeg_destroy_decompress(&cinfo);
        ff_errbuf(err, errlen, "JPEG is %llux%llu: over the limit of %llu pixels",
            (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_px);
        return FF_ETOOBIG;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        ff_errbuf(err, errlen, "CMYK JPEGs are not supported; save the photo as RGB");
        return FF_EUNSUPPORTED;
    }
    int o = 1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif\0\0", 6)) {
            o = vis_exif_orientation(m->data, m->data_length);
            break;
        }
    info->orientation = o;
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 3)
        ERREXIT(&cinfo, JERR_CONVERSION_NOTIMPL);
    if (vis_image_alloc(img, (int)cinfo.output_width, (int)cinfo.output_height, VIS_RGB8)) {
        snprintf(je.text, sizeof je.text, "out of memory");
        je.code = FF_ENOMEM;
        longjmp(je.jb, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img->data + (size_t)cinfo.output_scanline * img->stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return FF_OK;
}

/* ---- PNG ----------------------------------------------------------------- */

struct pngsrc {
    const uint8_t *p;
    size_t len, off;
    char text[200];
    enum ff_err code;
};

static void p_read(png_structp png, png_bytep out, png_size_t n)
{
    struct pngsrc *s = png_get_io_ptr(png);
    if (n > s->len - s->off)
        png_error(png, "file truncated");
    memcpy(out, s->p + s->off, n);
    s->off += n;
}

static void p_error(png_structp png, png_const_charp m)
{
    struct pngsrc *s = png_get_error_ptr(png);
    if (!s->code)
        s->code = FF_ECORRUPT;
    snprintf(s->text, sizeof s->text, "%s", m);
    png_longjmp(png, 1);
}

static void p_warn(png_structp png, png_const_charp m) { (void)png; (void)m; }

static png_voidp p_malloc(png_structp png, png_alloc_size_t n)
{
    void *p = ff_malloc(n);
    struct pngsrc *s = png_get_mem_ptr(png);
    if (!p && s) {
        s->code = FF_ENOMEM;
        snprintf(s->text, sizeof s->text, "out of memory");
    }
    return p;
}
static void p_free(png_structp png, png_voidp p) { (void)png; ff_free(p); }

static enum ff_err decode_png(const uint8_t *buf, size_t len, uint64_t max_px, int want_exif,
                              struct vis_image *out, struct vis_decode_info *info, char *err,
                              size_t errlen)
{
    struct pngsrc src = {buf, len, 0, "", FF_OK};
    /* The size check comes before libpng reads anything: IHDR is always first. */
    if (len >= 24 && !memcmp(buf + 12, "IHDR", 4)) {
        uint64_t w = (uint64_t)buf[16] << 24 | buf[17] << 16 | buf[18] << 8 | buf[19];
        uint64_t h = (uint64_t)buf[20] << 24 | buf[21] << 16 | buf[22] << 8 | buf[23];
        info->stored_w = (int)(w > MAX_SIDE ? MAX_SIDE : w);
        info->stored_h = (int)(h > MAX_SIDE ? MAX_SIDE : h);
        if (w * h > max_px || w > MAX_SIDE || h > MAX_SIDE) {
            ff_errbuf(err, errlen, "PNG is %llux%llu: over the limit of %llu pixels",
                (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_px);
            return FF_ETOOBIG;
        }
    }
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &src, p_error, p_warn, &src,
                                               p_malloc, p_free);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    struct vis_image *volatile img = out;
    png_bytep *volatile rows = NULL;
    if (!pi) {
        png_destroy_read_struct(&png, NULL, NULL);
        ff_errbuf(err, errlen, "out of memory");
        return FF_ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &pi, NULL);
        ff_free(rows);
        vis_image_release(img);
        if (src.code == FF_ETOOBIG || src.code == FF_ENOMEM)
            ff_errbuf(err, errlen, "%s", src.text);
        else
            ff_errbuf(err, errlen, "corrupt PNG: %s", src.text);
        return src.code ? src.code : FF_ECORRUPT;
    }
    png_set_read_fn(png, &src, p_read);
    png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
    png_set_chunk_cache_max(png, 1000);
    png_set_chunk_malloc_max(png, 8u << 20); /* zTXt/iCCP decompression bombs */
    png_read_info(png, pi);
    png_uint_32 w, h;
    int depth, ctype;
    png_get_IHDR(png, pi, &w, &h, &depth, &ctype, NULL, NULL, NULL);
    info->stored_w = (int)w;
    info->stored_h = (int)h;
    if ((uint64_t)w * h > max_px) {
        src.code = FF_ETOOBIG;
        snprintf(src.text, sizeof src.text, "PNG is %ux%u: over the limit of %llu pixels",
                 (unsigned)w, (unsigned)h, (unsigned long long)max_px);
        png_longjmp(png, 1);
    }
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 nexif = 0;
    if (want_exif && png_get_eXIf_1(png, pi, &nexif, &exif) && exif)
        info->orientation = vis_exif_orientation(exif, nexif);
#endif
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_packing(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, pi);
    if (png_get_rowbytes(png, pi) != (size_t)w * 3) {
        src.code = FF_EUNSUPPORTED;
        snprintf(src.text, sizeof src.text, "unsupported PNG pixel layout");
        png_longjmp(png, 1);
    }
    if (vis_image_alloc(img, (int)w, (int)h, VIS_RGB8) ||
        !(rows = ff_malloc(sizeof(png_bytep) * h))) {
        src.code = FF_ENOMEM;
        snprintf(src.text, sizeof src.text, "out of memory");
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = img->data + (size_t)y * img->stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &pi, NULL);
    ff_free(rows);
    return FF_OK;
}

/* ---- entry points -------------------------------------------------------- */

enum ff_err vis_decode(const void *buf, size_t len, const struct vis_decode_opts *opts,
                       struct vis_image *out, struct vis_decode_info *info, char *err,
                       size_t errlen)
{
    struct vis_decode_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    info->orientation = 1;
    memset(out, 0, sizeof *out);
    uint64_t max_px = opts && opts->max_pixels ? opts->max_pixels : VIS_DECODE_MAX_PIXELS_DEFAULT;
    int want_exif = !(opts && opts->ignore_exif);
    enum vis_format fmt = opts && opts->fmt ? opts->fmt : VIS_RGB8;
    if (!buf || len == 0) {
        ff_errbuf(err, errlen, "empty image");
        return FF_EINVAL;
    }
    if (fmt != VIS_RGB8 && fmt != VIS_GRAY8) {
        ff_errbuf(err, errlen, "unknown output format");
        return FF_EINVAL;
    }
    enum ff_err e;
    info->codec = vis_sniff(buf, len);
    switch (info->codec) {
    case VIS_CODEC_JPEG:
        e = decode_jpeg(buf, len, max_px, want_exif, out, info, err, errlen);
        break;
    case VIS_CODEC_PNG:
        e = decode_png(buf, len, max_px, want_exif, out, info, err, errlen);
        break;
    default:
        ff_errbuf(err, errlen, "not a JPEG or PNG image");
        return FF_EUNSUPPORTED;
    }
    if (!e && want_exif)
        e = orient(out, info->orientation);
    if (!e && fmt == VIS_GRAY8) {
        struct vis_image g;
        e = vis_image_to_gray(out, &g);
        if (!e) {
            vis_image_release(out);
            *out = g;
        }
    }
    if (e) {
        if (e == FF_ENOMEM)
            ff_errbuf(err, errlen, "out of memory");
        vis_image_release(out);
    }
    return e;
}

enum ff_err vis_decode_file(const char *path, const struct vis_decode_opts *opts,
                            struct vis_image *out, struct vis_decode_info *info, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ff_errbuf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? FF_ENOTFOUND : FF_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        ff_errbuf(err, errlen, "%s is not a regular file", path);
        return FF_EINVAL;
    }
    if ((uint64_t)st.st_size > VIS_DECODE_MAX_FILE_DEFAULT) {
        close(fd);
        ff_errbuf(err, errlen, "%s is larger than %u MiB", path, VIS_DECODE_MAX_FILE_DEFAULT >> 20);
        return FF_ETOOBIG;
    }
    size_t n = (size_t)st.st_size, off = 0;
    uint8_t *buf = ff_malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        ff_errbuf(err, errlen, "out of memory");
        return FF_ENOMEM;
    }
    while (off < n) {
        ssize_t r = read(fd, buf + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    enum ff_err e = vis_decode(buf, off, opts, out, info, err, errlen);
    ff_free(buf);
    return e;
}

/* ---- PNG encoding -------------------------------------------------------- */

struct pngdst {
    uint8_t *p;
    size_t len, cap;
    int oom;
};

static void p_write(png_structp png, png_bytep data, png_size_t n)
{
    struct pngdst *d = png_get_io_ptr(png);
    if (d->oom)
        return;
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 65536;
        while (cap < d->len + n)
            cap *= 2;
        uint8_t *q = ff_realloc(d->p, cap);
        if (!q) {
            d->oom = 1;
            return;
        }
        d->p = q;
        d->cap = cap;
    }
    memcpy(d->p + d->len, data, n);
    d->len += n;
}

static void p_flush(png_structp png) { (void)png; }

enum ff_err vis_encode_png(const struct vis_image *img, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!img || !img->data || img->w <= 0 || img->h <= 0)
        return FF_EINVAL;
    struct pngsrc es = {0};
    struct pngdst d = {0};
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &es, p_error, p_warn,
                                                &es, p_malloc, p_free);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    if (!pi) {
        png_destroy_write_struct(&png, NULL);
        return FF_ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &pi);
        ff_free(d.p);
        return FF_EINTERNAL;
    }
    png_set_write_fn(png, &d, p_write, p_flush);
    png_set_IHDR(png, pi, (png_uint_32)img->w, (png_uint_32)img->h, 8,
                 img->fmt == VIS_RGB8 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, pi);
    for (int y = 0; y < img->h; y++)
        png_write_row(png, img->data + (size_t)y * img->stride);
    png_write_end(png, pi);
    png_destroy_write_struct(&png, &pi);
    if (d.oom) {
        ff_free(d.p);
        return FF_ENOMEM;
    }
    *out = d.p;
    *outlen = d.len;
    return FF_OK;
}
