/* synth_model.h - writes small random dlib shape_predictor files for tests and
 * fuzz seeds (dlib's serialization, shared/docs/dlib-model-formats.md 1-2). */
#ifndef FF_TESTS_SYNTH_MODEL_H
#define FF_TESTS_SYNTH_MODEL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sm_buf {
    uint8_t *p;
    size_t len, cap;
};

static void sm_put(struct sm_buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void sm_int(struct sm_buf *b, int64_t v)
{
    uint8_t out[9];
    uint64_t m = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
    int n = 0;
    do {
        out[1 + n++] = (uint8_t)(m & 0xff);
        m >>= 8;
    } while (m);
    out[0] = (uint8_t)(n | (v < 0 ? 0x80 : 0));
    sm_put(b, out, (size_t)n + 1);
}

static void sm_float(struct sm_buf *b, float v)
{
    int e;
    double m = frexp((double)v, &e);
    sm_int(b, (int64_t)(m * (1 << 24)));
    sm_int(b, e - 24);
}

static uint32_t sm_rand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}
static float sm_uniform(uint32_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(sm_rand(s) & 0xffff) / 65536.0f;
}

/* A model with P parts, C cascades of T trees of depth D, F feature pixels. */
static struct sm_buf sm_model(unsigned P, unsigned C, unsigned T, unsigned D, unsigned F,
                              uint32_t seed)
{
    struct sm_buf b = {0};
    uint32_t s = seed;
    unsigned ns = (1u << D) - 1;
    sm_int(&b, 1); /* version */
    sm_int(&b, -(int64_t)(2 * P));
    sm_int(&b, -1);
    for (unsigned i = 0; i < 2 * P; i++)
        sm_float(&b, sm_uniform(&s, 0.15f, 0.85f));
    sm_int(&b, C);
    for (unsigned c = 0; c < C; c++) {
        sm_int(&b, T);
        for (unsigned t = 0; t < T; t++) {
            sm_int(&b, ns);
            for (unsigned k = 0; k < ns; k++) {
                sm_int(&b, sm_rand(&s) % F);
                sm_int(&b, sm_rand(&s) % F);
                sm_float(&b, sm_uniform(&s, -40, 40));
            }
            sm_int(&b, ns + 1);
            for (unsigned l = 0; l <= ns; l++) {
                sm_int(&b, -(int64_t)(2 * P));
                sm_int(&b, -1);
                for (unsigned i = 0; i < 2 * P; i++)
                    sm_float(&b, sm_uniform(&s, -0.02f, 0.02f));
            }
        }
    }
    sm_int(&b, C);
    for (unsigned c = 0; c < C; c++) {
        sm_int(&b, F);
        for (unsigned f = 0; f < F; f++)
            sm_int(&b, sm_rand(&s) % P);
    }
    sm_int(&b, C);
    for (unsigned c = 0; c < C; c++) {
        sm_int(&b, F);
        for (unsigned f = 0; f < F; f++) {
            sm_float(&b, sm_uniform(&s, -0.15f, 0.15f));
            sm_float(&b, sm_uniform(&s, -0.15f, 0.15f));
        }
    }
    return b;
}

#endif
