/* fuzz_multipart.c - the multipart/form-data parser (http/multipart.h).
 * Input: an optional first line (up to '\n', at most 200 bytes) used as the
 * Content-Type when it starts with "multipart/"; the rest is the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ct[201] = "multipart/form-data; boundary=XyZ";
    const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
    if (nl && size >= 10 && !memcmp(data, "multipart/", 10)) {
        size_t n = (size_t)(nl - data);
        memcpy(ct, data, n);
        ct[n] = '\0';
        size -= n + 1;
        data = nl + 1;
    }
    /* an exact-size copy, so ASan sees any read past the end */
    char *body = ff_malloc(size ? size : 1);
    struct ff_arena *a = ff_arena_new(0);
    if (!body || !a) {
        ff_free(body);
        ff_arena_free(a);
        return 0;
    }
    memcpy(body, data, size);
    struct http_part *parts;
    size_t n;
    char why[160];
    if (http_multipart_parse(ct, body, size, a, 32, &parts, &n, why, sizeof why) == FF_OK) {
        if (!n || n > 32)
            __builtin_trap();
        for (size_t i = 0; i < n; i++) {
            const struct http_part *p = &parts[i];
            if (!p->name || !p->name[0] || p->data < body || p->len > size ||
                p->data + p->len > body + size)
                __builtin_trap();
            if (http_multipart_find(parts, n, p->name) > p)
                __builtin_trap();
        }
    } else if (!why[0]) {
        __builtin_trap(); /* every refusal says why */
    }
    ff_arena_free(a);
    ff_free(body);
    return 0;
}
