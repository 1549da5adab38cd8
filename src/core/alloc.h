/* alloc.h - every heap allocation goes through here (redis zmalloc, curl's
 * ban on raw malloc): one place for accounting and for failure injection.
 *
 * In builds with FF_ALLOC_FAILPOINTS (tests), ff_alloc_fail_after(n) makes the
 * n-th following allocation fail, so error paths run. */
#ifndef FF_CORE_ALLOC_H
#define FF_CORE_ALLOC_H

#include <stddef.h>

void *ff_malloc(size_t n);
void *ff_calloc(size_t count, size_t size);
void *ff_realloc(void *p, size_t n);
void ff_free(void *p);
char *ff_strdup(const char *s);
char *ff_strndup(const char *s, size_t n);

/* Bytes currently allocated through ff_* (approximate; for /metrics). */
size_t ff_alloc_used(void);

/* Test hook: fail the n-th allocation from now on (n >= 1); 0 disables. */
void ff_alloc_fail_after(long n);

#endif
