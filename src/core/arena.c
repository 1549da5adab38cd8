#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    ff_cleanup_fn fn;
    void *p;
};

struct ff_arena {
    struct chunk *head;
    struct cleanup *cleanups;
    size_t chunk_size;
    size_t used;
};

struct ff_arena *ff_arena_new(size_t chunk)
{
    struct ff_arena *a = ff_calloc(1, sizeof *a);
    if (a)
        a->chunk_size = chunk ? chunk : 4096;
    return a;
}

void ff_arena_free(struct ff_arena *a)
{
    if (!a)
        return;
    for (struct cleanup *c = a->cleanups; c; c = c->next)
        c->fn(c->p);
    struct chunk *ch = a->head;
    while (ch) {
        struct chunk *next = ch->next;
        ff_free(ch);
        ch = next;
    }
    ff_free(a);
}

void *ff_arena_alloc(struct ff_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (!need)
        need = ALIGN;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t size = need > a->chunk_size / 4 ? need : a->chunk_size;
        struct chunk *nc = ff_malloc(sizeof *nc + size);
        if (!nc)
            return NULL;
        nc->size = size;
        nc->used = 0;
        if (c && size == need && c->size - c->used >= ALIGN) {
            /* a big one-off: keep the current chunk in front for small ones */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->used += need;
    return p;
}

void *ff_arena_calloc(struct ff_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = ff_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *ff_arena_strndup(struct ff_arena *a, const char *s, size_t n)
{
    char *p = ff_arena_alloc(a, n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *ff_arena_strdup(struct ff_arena *a, const char *s)
{
    return ff_arena_strndup(a, s, strlen(s));
}

char *ff_arena_vsprintf(struct ff_arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    char *p = ff_arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *ff_arena_sprintf(struct ff_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = ff_arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

enum ff_err ff_arena_on_release(struct ff_arena *a, ff_cleanup_fn fn, void *p)
{
    struct cleanup *c = ff_arena_alloc(a, sizeof *c);
    if (!c)
        return FF_ENOMEM;
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
    return FF_OK;
}

size_t ff_arena_used(const struct ff_arena *a) { return a->used; }
