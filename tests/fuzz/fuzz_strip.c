/* fuzz_strip.c - the photo metadata stripper (tryon/strip.h): never crashes or
 * reads out of bounds, output bounded, stripping is idempotent, and no
 * metadata chunk survives in a PNG. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "tryon/strip.h"

static void check_png(const uint8_t *p, size_t n)
{
    for (size_t i = 8; i + 12 <= n;) {
        uint32_t cl = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 |
                      p[i + 3];
        const uint8_t *t = p + i + 4;
        if (!memcmp(t, "tEXt", 4) || !memcmp(t, "zTXt", 4) || !memcmp(t, "iTXt", 4) ||
            !memcmp(t, "tIME", 4))
            __builtin_trap();
        if (!memcmp(t, "IEND", 4)) {
            if (i + 12 + cl != n)
                __builtin_trap(); /* nothing after IEND */
            return;
        }
        i += 12 + (size_t)cl;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = ff_malloc(size ? size : 1); /* exact size for ASan */
    if (!in)
        return 0;
    memcpy(in, data, size);
    uint8_t *out = NULL, *out2 = NULL;
    size_t n = 0, n2 = 0;
    struct tryon_strip_info si, si2;
    if (tryon_strip_metadata(in, size, &out, &n, &si) == FF_OK) {
        if (n > size + 64 || si.orientation < 1 || si.orientation > 8)
            __builtin_trap();
        if (si.png)
            check_png(out, n);
        if (tryon_strip_metadata(out, n, &out2, &n2, &si2) != FF_OK || n2 != n ||
            memcmp(out, out2, n) || si2.orientation != si.orientation)
            __builtin_trap();
    } else if (out) {
        __builtin_trap();
    }
    ff_free(out2);
    ff_free(out);
    ff_free(in);
    return 0;
}
