/* fuzz_query.c - the query-string parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/str.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ff_arena *a = ff_arena_new(0);
    if (!a)
        return 0;
    struct http_kv *kv;
    size_t n;
    if (http_query_parse(a, (const char *)data, size, &kv, &n) == FF_OK) {
        if (n > HTTP_MAX_QUERY_PARAMS)
            __builtin_trap();
        for (size_t i = 0; i < n; i++) {
            if (!kv[i].name[0] || !ff_utf8_valid(kv[i].name, strlen(kv[i].name)) ||
                !ff_utf8_valid(kv[i].value, strlen(kv[i].value)))
                __builtin_trap();
        }
    }
    ff_arena_free(a);
    return 0;
}
