#include "http/query.h"

#include <string.h>

#include "core/str.h"

static enum ff_err decode(struct ff_arena *a, const char *s, size_t n, const char **out)
{
    char *d = ff_arena_alloc(a, n + 1);
    size_t dn;
    if (!d)
        return FF_ENOMEM;
    if (ff_url_decode(s, n, d, &dn, true) || !ff_utf8_valid(d, dn))
        return FF_EINVAL;
    d[dn] = '\0';
    *out = d;
    return FF_OK;
}

enum ff_err http_query_parse(struct ff_arena *a, const char *qs, size_t len,
                             struct http_kv **out, size_t *n)
{
    size_t pieces = 1;
    for (size_t i = 0; i < len; i++)
        pieces += qs[i] == '&';
    *out = NULL;
    *n = 0;
    if (!len)
        return FF_OK;
    struct http_kv *kv = ff_arena_alloc(a, (pieces < HTTP_MAX_QUERY_PARAMS ? pieces
                                                                          : HTTP_MAX_QUERY_PARAMS) *
                                               sizeof *kv);
    if (!kv)
        return FF_ENOMEM;
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && qs[i] != '&')
            continue;
        const char *p = qs + start;
        size_t plen = i - start;
        start = i + 1;
        if (!plen)
            continue;
        if (count == HTTP_MAX_QUERY_PARAMS)
            return FF_ETOOBIG;
        const char *eq = memchr(p, '=', plen);
        size_t kl = eq ? (size_t)(eq - p) : plen;
        if (!kl)
            return FF_EINVAL;
        enum ff_err e = decode(a, p, kl, &kv[count].name);
        if (!e)
            e = eq ? decode(a, eq + 1, plen - kl - 1, &kv[count].value) : FF_OK;
        if (e)
            return e;
        if (!eq)
            kv[count].value = "";
        count++;
    }
    *out = kv;
    *n = count;
    return FF_OK;
}
