#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

void ff_buf_init(struct ff_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

enum ff_err ff_buf_append(struct ff_buf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return FF_ETOOBIG;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap = cap > ((size_t)-1) / 2 ? b->len + n + 1 : cap * 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        char *d = ff_realloc(b->data, cap);
        if (!d)
            return FF_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FF_OK;
}

enum ff_err ff_buf_appends(struct ff_buf *b, const char *s)
{
    return ff_buf_append(b, s, strlen(s));
}

enum ff_err ff_buf_appendf(struct ff_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FF_EINVAL;
    if ((size_t)n < sizeof small)
        return ff_buf_append(b, small, (size_t)n);
    char *big = ff_malloc((size_t)n + 1);
    if (!big)
        return FF_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    enum ff_err e = ff_buf_append(b, big, (size_t)n);
    ff_free(big);
    return e;
}

void ff_buf_reset(struct ff_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ff_buf_release(struct ff_buf *b)
{
    ff_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *ff_buf_steal(struct ff_buf *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
