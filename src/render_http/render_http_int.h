/* render_http_int.h - shared by render_http.c and frame_http.c (not public). */
#ifndef FF_RENDER_HTTP_INT_H
#define FF_RENDER_HTTP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"
#include "render/render.h"
#include "store/store.h"

#define RHTTP_SKU_MAX 64

/* A variant's frame: the product's drawing spec and, when staff uploaded one, the
 * custom image (frame_images). */
struct rhttp_variant {
    int64_t product_id, version;
    char shape[32], colour[48];
    struct rnd_frame_spec spec; /* spec.shape < 0 when the product's shape is unknown */
    bool custom;
    char object_key[STORE_KEY_LEN + 1];
    double lens_left[2], lens_right[2];
};

/* 1..RHTTP_SKU_MAX chars of [A-Za-z0-9._-]. */
bool rhttp_sku_ok(const char *s);

/* Loads sku's variant (live products only): FF_ENOTFOUND when there is none. */
enum ff_err rhttp_load_variant(struct db *db, const char *sku,
                               struct rhttp_variant *v) FF_MUST_CHECK;

/* The variant's custom frame, decoded (*out caller-owned: rnd_frame_release). */
enum ff_err rhttp_custom_frame(struct store *st, const struct rhttp_variant *v,
                               struct rnd_frame *out) FF_MUST_CHECK;

struct http_router;
struct tryon;
/* PUT/DELETE/GET /api/v1/frames/{sku}/image (frame_http.c). */
enum ff_err frame_http_register(struct http_router *r, struct tryon *t) FF_MUST_CHECK;

#endif
