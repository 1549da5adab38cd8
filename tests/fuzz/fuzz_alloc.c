/* Smoke target: exercises ff_strndup with arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = ff_strndup((const char *)data, size);
    if (s) {
        if (strlen(s) > size)
            __builtin_trap();
        ff_free(s);
    }
    return 0;
}
