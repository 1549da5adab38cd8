/* make_vision_seeds.c - writes the synthetic seed corpora of fuzz_decode and
 * fuzz_shape_model (no third-party images). Not a fuzz target; build and run by
 * hand:  cc -I src -I tests tests/fuzz/make_vision_seeds.c build/.../libff_vision.a
 *        build/.../libff_core.a -ljpeg -lpng -lm && ./a.out tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "unit/vision/img_synth.h"
#include "unit/vision/synth_model.h"
#include "vision/decode.h"
#include "vision/image_ops.h"

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char d[400], s[400];
    snprintf(d, sizeof d, "%s/decode", argc > 1 ? argv[1] : ".");
    snprintf(s, sizeof s, "%s/shape_model", argc > 1 ? argv[1] : ".");
    size_t n;
    uint8_t *j = synth_jpeg(16, 12, 3, 6, 0, &n);
    put(d, "rgb_exif6_be.jpg", j, n);
    free(j);
    j = synth_jpeg(9, 7, 3, 8, 1, &n);
    put(d, "rgb_exif8_le.jpg", j, n);
    free(j);
    j = synth_jpeg(8, 8, 1, 0, 0, &n);
    put(d, "grey.jpg", j, n);
    free(j);
    j = synth_jpeg(4, 4, 4, 0, 0, &n);
    put(d, "cmyk.jpg", j, n);
    free(j);
    struct vis_image img;
    if (vis_image_alloc(&img, 5, 3, VIS_RGB8))
        return 1;
    for (size_t i = 0; i < 45; i++)
        img.data[i] = (uint8_t)(i * 17);
    uint8_t *p;
    if (vis_encode_png(&img, &p, &n))
        return 1;
    put(d, "rgb.png", p, n);
    ff_free(p);
    vis_image_release(&img);
    if (vis_image_alloc(&img, 3, 2, VIS_GRAY8) || vis_encode_png(&img, &p, &n))
        return 1;
    put(d, "grey.png", p, n);
    ff_free(p);
    vis_image_release(&img);
    uint8_t hdr[64];
    n = synth_png_header(hdr, 30000, 30000);
    put(d, "huge_header.png", hdr, n);

    struct sm_buf b = sm_model(5, 2, 3, 2, 8, 1);
    put(s, "five_point.dat", b.p, b.len);
    free(b.p);
    b = sm_model(2, 1, 2, 1, 3, 2);
    put(s, "tiny.dat", b.p, b.len);
    free(b.p);
    b = sm_model(3, 2, 2, 3, 6, 3);
    put(s, "depth3.dat", b.p, b.len);
    free(b.p);
    return 0;
}
