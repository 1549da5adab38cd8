/* str.h - small string helpers: (ptr, len) views, strict number parsing,
 * escaping. None of these allocate unless said. */
#ifndef FF_CORE_STR_H
#define FF_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* A borrowed view; not NUL-terminated in general. */
struct ff_str {
    const char *ptr;
    size_t len;
};

#define FF_STR_LIT(s) ((struct ff_str){(s), sizeof(s) - 1})

struct ff_str ff_str_c(const char *s); /* view of a C string (NULL -> empty) */
bool ff_str_eq(struct ff_str a, struct ff_str b);
bool ff_str_eq_c(struct ff_str a, const char *c);
bool ff_str_ieq_c(struct ff_str a, const char *c); /* ASCII case-insensitive */
bool ff_str_starts_with(struct ff_str a, const char *prefix);
struct ff_str ff_str_trim(struct ff_str s); /* trims spaces and tabs */

/* Strict decimal parsing of the whole of s: optional '-', digits only, no
 * spaces, no overflow, value within [min, max]. FF_EINVAL otherwise. */
enum ff_err ff_parse_i64(struct ff_str s, int64_t min, int64_t max, int64_t *out) FF_MUST_CHECK;

/* Copies src into dst (size n > 0), always NUL-terminates; returns strlen(src). */
size_t ff_strlcpy(char *dst, const char *src, size_t n);

/* 64-bit FNV-1a of n bytes (hash tables, weak ETags); not for security. */
uint64_t ff_hash_fnv1a(const void *p, size_t n);

/* Formats a message into a caller's error buffer (err may be NULL or errlen 0:
 * then nothing is written). For the "char *err, size_t errlen" out-parameters. */
void ff_errbuf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* JSON-escapes up to srclen bytes of src (stops at NUL) into dst, always
 * NUL-terminated, truncating at a character boundary. Control characters
 * become \u00XX. Returns the length written. */
size_t ff_json_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

/* True when s[0..len) is valid UTF-8 without NUL bytes or overlongs/surrogates. */
bool ff_utf8_valid(const char *s, size_t len);

/* Decodes %XX and '+' (as space when plus_is_space) in place-style: writes at
 * most len bytes into out (which may equal s). Returns FF_EINVAL on a bad
 * escape or a decoded NUL byte. *outlen gets the decoded length. */
enum ff_err ff_url_decode(const char *s, size_t len, char *out, size_t *outlen,
                          bool plus_is_space) FF_MUST_CHECK;

#endif
