/* fuzz_catalog_query.c - the catalog's list-parameter parser and its cursor
 * decoder. Input: a query string "k=v&k=v..." (raw bytes, no percent-decoding:
 * that is the HTTP layer's). Checks: no crash, no leak, a decoded cursor
 * re-encodes to one that decodes to the same position. */
#include <stdint.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/alloc.h"

#define MAX_PAIRS 80

static void roundtrip(const struct cat_query *q)
{
    if (!q->has_after)
        return;
    char *c = cat_cursor_encode(q->sort, q->after_id, q->after_num, q->after_text);
    if (!c)
        return;
    struct cat_query again;
    cat_query_init(&again);
    again.sort = q->sort;
    if (cat_cursor_decode(c, strlen(c), &again) != FF_OK || again.after_id != q->after_id ||
        again.after_num != q->after_num || strcmp(again.after_text, q->after_text))
        __builtin_trap();
    ff_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct cat_kv kv[MAX_PAIRS];
    size_t n = 0, i = 0;
    while (i <= size && n < MAX_PAIRS) {
        size_t j = i;
        while (j < size && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        kv[n].key = s + i;
        kv[n].key_len = eq ? (size_t)(eq - (s + i)) : j - i;
        kv[n].val = eq ? eq + 1 : s + j;
        kv[n].val_len = eq ? (size_t)(s + j - (eq + 1)) : 0;
        n++;
        i = j + 1;
    }
    struct cat_query q;
    json_t *errs = NULL;
    if (cat_query_parse(kv, n, &q, &errs) == FF_OK)
        roundtrip(&q);
    json_decref(errs);
    /* the whole input as a cursor, under each sort */
    for (int sort = 0; sort < CAT_SORT_COUNT; sort++) {
        cat_query_init(&q);
        q.sort = (enum cat_sort)sort;
        if (cat_cursor_decode(s, size, &q) == FF_OK)
            roundtrip(&q);
    }
    return 0;
}
