/* query.h - the query-string parser (application/x-www-form-urlencoded). */
#ifndef FF_HTTP_QUERY_H
#define FF_HTTP_QUERY_H

#include <stddef.h>

#include "core/arena.h"
#include "http/req.h"

#define HTTP_MAX_QUERY_PARAMS 64

/* Parses "a=1&b=x+y&c" (without the '?') into name/value pairs in order,
 * percent-decoded ('+' is a space). Empty pieces ("a=1&&b") are skipped; a
 * name without '=' gets "". The array and strings are arena memory.
 * FF_EINVAL for a bad %-escape, a decoded NUL, invalid UTF-8 or an empty
 * name; FF_ETOOBIG over HTTP_MAX_QUERY_PARAMS pairs; FF_ENOMEM. */
enum ff_err http_query_parse(struct ff_arena *a, const char *qs, size_t len,
                             struct http_kv **out, size_t *n) FF_MUST_CHECK;

#endif
