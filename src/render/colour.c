/* colour.c - sRGB <-> linear light through lookup tables (built once, thread-safe). */
#include <math.h>
#include <pthread.h>

#include "render/render.h"
#include "render/render_int.h"

static float to_lin[256];
static uint8_t to_srgb[65536];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static double srgb_decode(double c)
{
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double srgb_encode(double l)
{
    return l <= 0.0031308 ? l * 12.92 : 1.055 * pow(l, 1.0 / 2.4) - 0.055;
}

static void build(void)
{
    for (int i = 0; i < 256; i++)
        to_lin[i] = (float)srgb_decode(i / 255.0);
    for (int i = 0; i < 65536; i++) {
        double s = srgb_encode(i / 65535.0) * 255.0 + 0.5;
        to_srgb[i] = (uint8_t)(s >= 255.0 ? 255 : s <= 0 ? 0 : (int)s);
    }
}

void rnd_colour_init(void)
{
    pthread_once(&once, build);
}

const float *rnd_lin_table(void)
{
    rnd_colour_init();
    return to_lin;
}

const uint8_t *rnd_srgb_table(void)
{
    rnd_colour_init();
    return to_srgb;
}

float rnd_srgb_to_linear(uint8_t v)
{
    rnd_colour_init();
    return to_lin[v];
}

uint8_t rnd_linear_to_srgb(float v)
{
    rnd_colour_init();
    return to_srgb[rnd_lin_index(v)];
}
