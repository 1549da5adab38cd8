/* img_synth.h - small synthetic JPEG/PNG files for decode tests and fuzz seeds. */
#ifndef FF_TESTS_IMG_SYNTH_H
#define FF_TESTS_IMG_SYNTH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

/* A JPEG of w x h with `comps` components (1 grey, 3 RGB, 4 CMYK) and, when
 * orientation > 0, an EXIF APP1 block with that orientation (byte order
 * little-endian if le). Pixels: p(x,y,c) = (x*5 + y*3 + c*60) & 255 or a
 * caller function. Returns malloc'd bytes. */
static uint8_t synth_px(int x, int y, int c) { return (uint8_t)((x * 5 + y * 3 + c * 60) & 255); }

static size_t synth_exif(uint8_t *out, int orientation, int le)
{
    uint8_t t[] = {'E', 'x', 'i', 'f', 0, 0,
                   le ? 'I' : 'M', le ? 'I' : 'M', le ? 42 : 0, le ? 0 : 42,
                   le ? 8 : 0, 0, 0, le ? 0 : 8,
                   le ? 1 : 0, le ? 0 : 1,                       /* one entry */
                   le ? 0x12 : 0x01, le ? 0x01 : 0x12,           /* tag 0x0112 */
                   le ? 3 : 0, le ? 0 : 3,                       /* SHORT */
                   le ? 1 : 0, 0, 0, le ? 0 : 1,                 /* count 1 */
                   le ? (uint8_t)orientation : 0, le ? 0 : (uint8_t)orientation, 0, 0,
                   0, 0, 0, 0};
    memcpy(out, t, sizeof t);
    return sizeof t;
}

static uint8_t *synth_jpeg(int w, int h, int comps, int orientation, int le, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *buf = NULL;
    unsigned long n = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (orientation > 0) {
        uint8_t ex[64];
        size_t exn = synth_exif(ex, orientation, le);
        jpeg_write_marker(&c, JPEG_APP0 + 1, ex, (unsigned)exn);
    }
    uint8_t *row = malloc((size_t)w * (size_t)comps);
    while (c.next_scanline < c.image_height) {
        for (int x = 0; x < w; x++)
            for (int k = 0; k < comps; k++)
                row[x * comps + k] = synth_px(x, (int)c.next_scanline, k);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *len = n;
    uint8_t *out = malloc(n);
    memcpy(out, buf, n);
    free(buf);
    return out;
}

/* Patches the first SOF marker's height and width (a "30000x30000" header). */
static int synth_jpeg_set_size(uint8_t *p, size_t n, unsigned w, unsigned h)
{
    for (size_t i = 2; i + 9 < n; i++)
        if (p[i] == 0xFF && (p[i + 1] == 0xC0 || p[i + 1] == 0xC2)) {
            p[i + 5] = (uint8_t)(h >> 8);
            p[i + 6] = (uint8_t)h;
            p[i + 7] = (uint8_t)(w >> 8);
            p[i + 8] = (uint8_t)w;
            return 0;
        }
    return -1;
}

static uint32_t synth_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* A PNG signature plus an IHDR claiming w x h RGB (valid CRC) and nothing else. */
static size_t synth_png_header(uint8_t *out, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    uint8_t *c = out + 8;
    c[0] = 0; c[1] = 0; c[2] = 0; c[3] = 13;
    memcpy(c + 4, "IHDR", 4);
    c[8] = (uint8_t)(w >> 24); c[9] = (uint8_t)(w >> 16); c[10] = (uint8_t)(w >> 8); c[11] = (uint8_t)w;
    c[12] = (uint8_t)(h >> 24); c[13] = (uint8_t)(h >> 16); c[14] = (uint8_t)(h >> 8); c[15] = (uint8_t)h;
    c[16] = 8; c[17] = 2; c[18] = 0; c[19] = 0; c[20] = 0;
    uint32_t crc = synth_crc(c + 4, 17);
    c[21] = (uint8_t)(crc >> 24); c[22] = (uint8_t)(crc >> 16); c[23] = (uint8_t)(crc >> 8); c[24] = (uint8_t)crc;
    return 8 + 25;
}

#endif
