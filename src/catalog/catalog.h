/* catalog.h - the eyewear catalog: frames (products) with variants, images,
 * frame attributes, measurements and the face shapes they suit.
 *
 * The service speaks JSON (jansson) at its edges so the HTTP layer stays
 * thin: bodies go in as json_t, results come out as new json_t references
 * (the caller owns them: json_decref). Validation failures return FF_EINVAL
 * with *errors set to a JSON array of {"field": "...", "message": "..."}
 * (caller owns it) naming every bad field.
 *
 * Product JSON (output; input takes the same fields minus the read-only ones
 * id, version, created_at, updated_at, in_stock, price):
 *   {"id": 1, "slug": "ray-ban-aviator-classic", "name": "...", "brand": "...",
 *    "description": "...", "shape": "aviator", "material": "metal", "colour": "gold",
 *    "measurements": {"lens_width_mm": 58, "bridge_mm": 14, "temple_mm": 140,
 *                     "lens_height_mm": 47},
 *    "suits_face_shapes": ["oval", "square"],
 *    "price": {"amount_cents": 15900, "currency": "EUR"},   // lowest variant price
 *    "in_stock": true,
 *    "variants": [{"id": 3, "sku": "RB-3025-G-M", "colour": "gold", "size": "M",
 *                  "stock": 12, "price_cents": 15900, "currency": "EUR"}],
 *    "images": [{"url": "https://...", "alt": "..."}],
 *    "version": 1, "created_at": "2026-11-24T22:00:00.000Z", "updated_at": "..."} */
#ifndef FF_CATALOG_CATALOG_H
#define FF_CATALOG_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

/* Frame shapes, in this order ("rectangle" ... "wayfarer"). */
enum cat_shape {
    CAT_RECTANGLE, CAT_SQUARE, CAT_ROUND, CAT_OVAL, CAT_CAT_EYE, CAT_AVIATOR,
    CAT_BROWLINE, CAT_GEOMETRIC, CAT_WAYFARER, CAT_SHAPE_COUNT
};
/* Face shapes a frame suits: a bitmask (1 << index). "rectangle" is accepted
 * as another name of "oblong". */
enum cat_face {
    CAT_FACE_OVAL, CAT_FACE_ROUND, CAT_FACE_SQUARE, CAT_FACE_OBLONG, CAT_FACE_HEART,
    CAT_FACE_DIAMOND, CAT_FACE_TRIANGLE, CAT_FACE_COUNT
};

const char *cat_shape_name(int shape);      /* NULL when out of range */
int cat_shape_parse(const char *s);         /* -1 when unknown */
const char *cat_face_name(int face);        /* NULL when out of range */
int cat_face_parse(const char *s);          /* -1 when unknown */

/* Limits (validation). Lengths are in bytes of UTF-8. */
#define CAT_MAX_VARIANTS 50
#define CAT_MAX_IMAGES 20
#define CAT_MAX_PRICE_CENTS 100000000 /* 1,000,000.00 */
#define CAT_MAX_STOCK 1000000000
#define CAT_MAX_LIMIT 100
#define CAT_DEFAULT_LIMIT 20
#define CAT_MAX_OFFSET 10000

/* ---- listing and search ------------------------------------------------------ */

enum cat_sort { CAT_SORT_NEWEST, CAT_SORT_OLDEST, CAT_SORT_PRICE, CAT_SORT_PRICE_DESC,
                CAT_SORT_NAME, CAT_SORT_NAME_DESC, CAT_SORT_COUNT };

/* One inclusive integer range; a bound < 0 is absent. */
struct cat_range { int64_t min, max; };

/* A parsed list request. Build it with cat_query_parse (from query-string
 * pairs) or fill it by hand after cat_query_init. */
struct cat_query {
    char q[201];              /* full-text search; "" = none */
    unsigned shapes;          /* bitmask of enum cat_shape; 0 = any */
    unsigned faces;           /* bitmask of enum cat_face; 0 = any */
    char material[41];        /* "" = any */
    char colour[41];          /* frame or any variant colour; "" = any */
    struct cat_range price;   /* cents (lowest variant price) */
    struct cat_range lens_width, bridge, temple, lens_height; /* mm */
    int in_stock;             /* -1 any, 0 out of stock only, 1 in stock only */
    enum cat_sort sort;
    int limit;                /* 1..CAT_MAX_LIMIT */
    int offset;               /* rows to skip (0..CAT_MAX_OFFSET); not with a cursor */
    bool has_after;           /* from the cursor: continue after this key */
    int64_t after_id;
    int64_t after_num;        /* newest/price key */
    char after_text[201];     /* name key */
};

void cat_query_init(struct cat_query *q);

/* One decoded query-string pair (the HTTP layer percent-decodes). */
struct cat_kv {
    const char *key;
    size_t key_len;
    const char *val;
    size_t val_len;
};

/* Parses list parameters: q, shape, face_shape, material, colour, price_min,
 * price_max, lens_width_min/max, bridge_min/max, temple_min/max,
 * lens_height_min/max, in_stock, sort (newest, oldest, price, -price, name,
 * -name), limit, cursor (or offset, for clients that page by count; the
 * cursor is cheaper). An empty value counts as absent (HTML forms send empty
 * fields). shape and face_shape take comma lists. Unknown or
 * repeated keys, bad values and foreign cursors are FF_EINVAL with *errors
 * (caller owns). Never touches the database. */
FF_MUST_CHECK enum ff_err cat_query_parse(const struct cat_kv *kv, size_t n,
                                          struct cat_query *q, json_t **errors);

/* Lists live products: {"items": [summary...], "next_cursor": "..." | null}.
 * A summary is the product JSON without description, variants and images,
 * plus "image" (the first image URL or null). *out is owned by the caller. */
FF_MUST_CHECK enum ff_err cat_list(struct db *db, const struct cat_query *q, json_t **out);

/* The same page as JSON text, written without building a tree (the HTTP
 * path): *out is ff_malloc'd (free with ff_free), *len its length. */
FF_MUST_CHECK enum ff_err cat_list_text(struct db *db, const struct cat_query *q, char **out,
                                        size_t *len);

/* The opaque cursor that continues after the given row (ff_malloc'd; free
 * with ff_free). Exposed for tests and the fuzz target. */
char *cat_cursor_encode(enum cat_sort sort, int64_t id, int64_t num, const char *text);
/* Decodes a cursor into q's after_* fields for q->sort: FF_EINVAL when it is
 * malformed or belongs to another sort order. */
FF_MUST_CHECK enum ff_err cat_cursor_decode(const char *s, size_t len, struct cat_query *q);

/* ---- one product --------------------------------------------------------------- */

/* One product's JSON text by id (slug NULL) or by slug: *out is ff_malloc'd
 * (free with ff_free), *len its length, *version (may be NULL) its version.
 * Soft-deleted products are FF_ENOTFOUND. */
FF_MUST_CHECK enum ff_err cat_get_text(struct db *db, int64_t id, const char *slug, char **out,
                                       size_t *len, int64_t *version);
/* The same as a tree (parsed from the text). */
FF_MUST_CHECK enum ff_err cat_get(struct db *db, int64_t id, json_t **out);
FF_MUST_CHECK enum ff_err cat_get_slug(struct db *db, const char *slug, json_t **out);

/* Creates a product from body (see above); *out is the stored product. A
 * missing slug is made from brand and name. Duplicate slug or SKU: FF_ECONFLICT
 * with *errors naming it. */
FF_MUST_CHECK enum ff_err cat_create(struct db *db, const json_t *body, json_t **out,
                                     json_t **errors);

/* Changes the fields present in body (variants / images, when present,
 * replace the lists; variants are matched by SKU). Succeeds only while the
 * stored version equals expected_version (else FF_ECONFLICT); < 0 accepts
 * the current version (If-Match: *). Bumps the version. */
FF_MUST_CHECK enum ff_err cat_update(struct db *db, int64_t id, int64_t expected_version,
                                     const json_t *body, json_t **out, json_t **errors);

/* Soft delete; expected_version < 0 skips the version check. */
FF_MUST_CHECK enum ff_err cat_delete(struct db *db, int64_t id, int64_t expected_version);

/* ---- demo data (catalog/seed.c) ------------------------------------------------- */

/* Loads the demo catalog: `count` (>= 300 recommended) realistic frames,
 * deterministic. Idempotent: products whose slug exists are skipped.
 * *added (may be NULL) gets the number inserted. */
FF_MUST_CHECK enum ff_err cat_seed_demo(struct db *db, int count, int *added);
/* Loads `count` products equivalent to the peer benchmark's seed.sql (ids
 * 1..count on an empty catalog, SKU FF-000001...). Idempotent like above. */
FF_MUST_CHECK enum ff_err cat_seed_bench(struct db *db, int count, int *added);

#endif
