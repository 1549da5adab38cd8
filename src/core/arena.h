/* arena.h - a request-scoped memory arena with cleanup hooks (after nginx
 * ngx_pool_t and h2o h2o_mem_pool_t).
 *
 * Allocations are never freed one by one: ff_arena_free releases them all at
 * once, after running the cleanup hooks in reverse order of registration.
 * Memory comes from ff_malloc in chunks; big allocations get their own chunk.
 * An arena is not thread safe: one request is handled by one thread at a time. */
#ifndef FF_CORE_ARENA_H
#define FF_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

struct ff_arena;

typedef void (*ff_cleanup_fn)(void *p);

/* A new arena whose chunks are `chunk` bytes (0 = 4 KiB). NULL on OOM.
 * Free with ff_arena_free. */
struct ff_arena *ff_arena_new(size_t chunk);
/* Runs the cleanup hooks (last registered first), then frees all memory.
 * NULL is a no-op. */
void ff_arena_free(struct ff_arena *a);

/* n bytes aligned to 16, uninitialised; NULL on OOM (or n == 0 gives a valid
 * unique pointer). Arena memory. */
void *ff_arena_alloc(struct ff_arena *a, size_t n);
void *ff_arena_calloc(struct ff_arena *a, size_t count, size_t size);
char *ff_arena_strdup(struct ff_arena *a, const char *s);
/* Copies n bytes and adds a NUL. */
char *ff_arena_strndup(struct ff_arena *a, const char *s, size_t n);
char *ff_arena_sprintf(struct ff_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *ff_arena_vsprintf(struct ff_arena *a, const char *fmt, va_list ap);

/* Registers fn(p) to run when the arena is freed (statements, handles, temp
 * files). FF_ENOMEM if the hook could not be recorded: then fn was NOT
 * registered and the caller must clean up itself. */
enum ff_err ff_arena_on_release(struct ff_arena *a, ff_cleanup_fn fn, void *p) FF_MUST_CHECK;

/* Bytes handed out so far (for tests and limits). */
size_t ff_arena_used(const struct ff_arena *a);

#endif
