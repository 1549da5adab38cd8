#include "core/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A size header keeps the accounting exact without malloc_usable_size. */
#define FF_HDR 16

static atomic_size_t ff_used;
static atomic_long ff_fail_countdown;

static int should_fail(void)
{
    long c = atomic_load_explicit(&ff_fail_countdown, memory_order_relaxed);
    if (c <= 0)
        return 0;
    return atomic_fetch_sub(&ff_fail_countdown, 1) == 1;
}

void ff_alloc_fail_after(long n)
{
    atomic_store(&ff_fail_countdown, n > 0 ? n : 0);
}

void *ff_malloc(size_t n)
{
    if (should_fail() || n > SIZE_MAX - FF_HDR)
        return NULL;
    unsigned char *p = malloc(n + FF_HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    atomic_fetch_add_explicit(&ff_used, n, memory_order_relaxed);
    return p + FF_HDR;
}

void *ff_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = ff_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *ff_realloc(void *ptr, size_t n)
{
    if (!ptr)
        return ff_malloc(n);
    if (should_fail() || n > SIZE_MAX - FF_HDR)
        return NULL;
    unsigned char *base = (unsigned char *)ptr - FF_HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, n + FF_HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    atomic_fetch_add_explicit(&ff_used, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&ff_used, old, memory_order_relaxed);
    return p + FF_HDR;
}

void ff_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *base = (unsigned char *)ptr - FF_HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    atomic_fetch_sub_explicit(&ff_used, n, memory_order_relaxed);
    free(base);
}

char *ff_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ff_malloc(len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ff_strdup(const char *s)
{
    return ff_strndup(s, strlen(s));
}

size_t ff_alloc_used(void)
{
    return atomic_load_explicit(&ff_used, memory_order_relaxed);
}
