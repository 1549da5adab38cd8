/* render_http.h - the try-on render endpoint and the try-on page.
 *
 *   GET /api/v1/tryon/sessions/{id}/render?variant=SKU[&format=jpeg|png|webp][&width=N]
 *       the session's photo with the variant's frame drawn on the face (ff_render),
 *       cached in the object store and recorded in tryon's render table (so DELETE and
 *       expiry remove it); strong ETag = the cache key, Cache-Control private.
 *   GET /                    the try-on page (web/index.html, embedded at build time)
 *   GET /static/{name}       its script and style sheet (web/app.js, web/style.css)
 *
 * The cache key is sha256("render" | RND_VERSION | photo key | SKU | product id and
 * version (the frame asset version: a product edit changes the frame) | format | width).
 * After a cache loss (object deleted) the render is made again. */
#ifndef FF_RENDER_HTTP_H
#define FF_RENDER_HTTP_H

#include "core/err.h"

struct http_router;
struct tryon;

/* Default output width when the request gives none: the photo's own width, capped. */
#define RENDER_HTTP_DEFAULT_WIDTH 1280
/* Cache-Control max-age of renders (seconds). */
#define RENDER_HTTP_MAX_AGE 86400

/* Registers the render route and the frame image routes (frame_http.c: PUT/DELETE
 * staff, GET public /api/v1/frames/{sku}/image) over t (NULL only to list routes). */
enum ff_err render_http_register(struct http_router *r, struct tryon *t) FF_MUST_CHECK;

/* Registers GET / and GET /static/{name}. */
enum ff_err page_http_register(struct http_router *r) FF_MUST_CHECK;

#endif
