/* catalog_int.h - internals shared by the catalog's files. */
#ifndef FF_CATALOG_CATALOG_INT_H
#define FF_CATALOG_CATALOG_INT_H

#include "catalog/catalog.h"

struct cat_variant {
    int64_t id;
    char sku[65];
    char colour[41];
    char size[17];
    int64_t stock;
    int64_t price_cents;
    char currency[4];
};

struct cat_image {
    char url[501];
    char alt[201];
};

/* One product as stored (heap-allocated: it is ~30 KB). */
struct cat_product {
    int64_t id, version, created_at, updated_at;
    char slug[101];
    char name[201];
    char brand[101];
    char description[4001];
    char shape[16];
    char material[41];
    char colour[41];
    int lens_width, bridge, temple, lens_height;
    unsigned suits;
    int64_t price_cents; /* lowest variant price */
    char currency[4];
    bool in_stock;
    int nvariants;
    struct cat_variant variants[CAT_MAX_VARIANTS];
    int nimages;
    struct cat_image images[CAT_MAX_IMAGES];
};

/* ---- catalog.c ---- */
/* Validates body (create: all required fields; update: body merged over p)
 * into p. Appends {"field","message"} objects to errs. */
void cat__from_json(const json_t *body, bool create, struct cat_product *p, json_t *errs);
json_t *cat__to_json(const struct cat_product *p);
void cat__add_error(json_t *errs, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats ms since the epoch as RFC 3339 UTC (needs 25 bytes). */
void cat__iso_time(int64_t ms, char *buf, size_t len);
/* Sets the roll-ups (price, currency, in_stock) from the variants. */
void cat__rollup(struct cat_product *p);

/* ---- catalog_json.c ---- a JSON text writer; the first error sticks */
#include "core/buf.h"
struct cat_jw {
    struct ff_buf *b;
    enum ff_err err;
};
void cat__jw_raw(struct cat_jw *w, const char *s, size_t n);
void cat__jw_lit(struct cat_jw *w, const char *s);
void cat__jw_str(struct cat_jw *w, const char *s, size_t n); /* NULL -> null */
void cat__jw_cstr(struct cat_jw *w, const char *s);
void cat__jw_int(struct cat_jw *w, int64_t v);
void cat__product_text(struct cat_jw *w, const struct cat_product *p);
void cat__summary_text(struct cat_jw *w, const struct db_rows *r);

/* ---- catalog_repo.c ---- (all on a connection inside a transaction or not) */
enum ff_err cat__repo_load(struct db_conn *c, int64_t id, const char *slug,
                           struct cat_product *p);
enum ff_err cat__repo_insert(struct db_conn *c, struct cat_product *p);
/* Updates the row if its version matches (else FF_ECONFLICT with *stale set);
 * replaces images, upserts variants by SKU and drops the others. */
enum ff_err cat__repo_update(struct db_conn *c, struct cat_product *p, int64_t expected,
                             bool *stale);
enum ff_err cat__repo_slug_exists(struct db_conn *c, const char *slug, bool *yes);

#endif
