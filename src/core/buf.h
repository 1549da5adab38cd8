/* buf.h - a growable byte buffer with a mandatory maximum (after curl's
 * dynbuf): appending past `max` fails with FF_ETOOBIG and leaves the
 * contents unchanged. The data is always NUL-terminated (not counted in len).
 *
 *   struct ff_buf b;
 *   ff_buf_init(&b, 1 << 20);
 *   err = ff_buf_append(&b, p, n);
 *   ...
 *   ff_buf_release(&b);
 */
#ifndef FF_CORE_BUF_H
#define FF_CORE_BUF_H

#include <stddef.h>

#include "core/err.h"

struct ff_buf {
    char *data;  /* NULL until the first append; owned, ff_free'd by release */
    size_t len;
    size_t cap;
    size_t max;  /* most bytes len may reach */
};

void ff_buf_init(struct ff_buf *b, size_t max);
/* FF_ETOOBIG past max, FF_ENOMEM on allocation failure; b unchanged then. */
enum ff_err ff_buf_append(struct ff_buf *b, const void *p, size_t n) FF_MUST_CHECK;
enum ff_err ff_buf_appends(struct ff_buf *b, const char *s) FF_MUST_CHECK;
enum ff_err ff_buf_appendf(struct ff_buf *b, const char *fmt, ...) FF_MUST_CHECK
    __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void ff_buf_reset(struct ff_buf *b);
/* Frees the memory; b can be appended to again. */
void ff_buf_release(struct ff_buf *b);
/* Hands the data to the caller (free with ff_free) and empties b. May be NULL
 * when nothing was appended. */
char *ff_buf_steal(struct ff_buf *b, size_t *len);

#endif
