/* multipart.h - a strict multipart/form-data parser (RFC 7578 over RFC 2046)
 * for bodies already in memory.
 *
 *   struct http_part *parts;
 *   size_t n;
 *   char why[160];
 *   if (http_multipart_parse(http_header(req, "Content-Type"), req->body, req->body_len,
 *                            req->arena, 16, &parts, &n, why, sizeof why))
 *       return http_errf(req, FF_EINVAL, "%s", why);
 *   const struct http_part *photo = http_multipart_find(parts, n, "photo");
 *
 * Parts are views into the body (no copy): data/len stay valid as long as the
 * body. Names and header values are copied into the arena.
 *
 * Strict on purpose (uploads are hostile): the boundary must be 1..70 chars
 * (RFC 2046) and come from the Content-Type; header lines end in CRLF and
 * must not contain bare CR, LF or NUL (no header injection); each part needs
 * Content-Disposition: form-data with a non-empty name; at most max_parts
 * parts and HTTP_MP_MAX_HEADERS header lines of HTTP_MP_MAX_HEADER_LINE bytes
 * per part; the closing delimiter must be present. A part whose own type is
 * multipart/ is kept as opaque bytes (nothing is parsed recursively).
 * Anything else is FF_EINVAL (FF_ETOOBIG for too many parts) with a sentence in
 * err; FF_ENOMEM when the arena runs out. */
#ifndef FF_HTTP_MULTIPART_H
#define FF_HTTP_MULTIPART_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

#define HTTP_MP_MAX_BOUNDARY 70
#define HTTP_MP_MAX_HEADERS 8        /* header lines per part */
#define HTTP_MP_MAX_HEADER_LINE 1024 /* bytes per header line */

struct http_part {
    const char *name;          /* form field name (arena; never empty) */
    const char *filename;      /* NULL when absent (arena) */
    const char *content_type;  /* NULL when absent (arena), e.g. "image/jpeg" */
    const char *data;          /* into the body */
    size_t len;
};

/* True when content_type's media type is multipart/form-data. */
int http_multipart_is_form(const char *content_type);

/* Extracts the boundary parameter of a multipart Content-Type (quoted or
 * token) into out (HTTP_MP_MAX_BOUNDARY + 1 bytes). FF_EINVAL when missing,
 * empty, too long or with characters RFC 2046 does not allow. */
enum ff_err http_multipart_boundary(const char *content_type,
                                    char out[HTTP_MP_MAX_BOUNDARY + 1]) FF_MUST_CHECK;

/* Parses body (see above). *parts is an arena array of *nparts entries. */
enum ff_err http_multipart_parse(const char *content_type, const char *body, size_t len,
                                 struct ff_arena *arena, size_t max_parts,
                                 struct http_part **parts, size_t *nparts, char *err,
                                 size_t errlen) FF_MUST_CHECK;

/* The first part named name, or NULL. */
const struct http_part *http_multipart_find(const struct http_part *parts, size_t n,
                                            const char *name);

#endif
