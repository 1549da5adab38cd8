/* catalog_repo.c - the catalog's SQL (one dialect-neutral text per statement). */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_int.h"

#define P(...) ((struct db_param[]){__VA_ARGS__})

static void copy_col(const struct db_rows *r, int col, char *buf, size_t cap)
{
    size_t n = 0;
    const char *s = db_col_text(r, col, &n);
    if (!s)
        n = 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s ? s : "", n);
    buf[n] = '\0';
}

#define PRODUCT_COLS                                                                      \
    "id, slug, name, brand, description, shape, material, colour, lens_width_mm,"        \
    " bridge_mm, temple_mm, lens_height_mm, suits, price_cents, currency, in_stock,"      \
    " version, created_at, updated_at"

static void read_product_at(const struct db_rows *r, int o, struct cat_product *p)
{
    p->id = db_col_i64(r, o + 0);
    copy_col(r, o + 1, p->slug, sizeof p->slug);
    copy_col(r, o + 2, p->name, sizeof p->name);
    copy_col(r, o + 3, p->brand, sizeof p->brand);
    copy_col(r, o + 4, p->description, sizeof p->description);
    copy_col(r, o + 5, p->shape, sizeof p->shape);
    copy_col(r, o + 6, p->material, sizeof p->material);
    copy_col(r, o + 7, p->colour, sizeof p->colour);
    p->lens_width = (int)db_col_i64(r, o + 8);
    p->bridge = (int)db_col_i64(r, o + 9);
    p->temple = (int)db_col_i64(r, o + 10);
    p->lens_height = (int)db_col_i64(r, o + 11);
    p->suits = (unsigned)db_col_i64(r, o + 12);
    p->price_cents = db_col_i64(r, o + 13);
    copy_col(r, o + 14, p->currency, sizeof p->currency);
    p->in_stock = db_col_i64(r, o + 15) != 0;
    p->version = db_col_i64(r, o + 16);
    p->created_at = db_col_i64(r, o + 17);
    p->updated_at = db_col_i64(r, o + 18);
}

/* One round trip for a product with its variants and images: a UNION of
 * the three tables, kind 0 (the product), 1 (variants), 2 (images), in
 * columns shaped like the product's (variant: slug=sku, name=colour,
 * brand=size, in_stock=stock; image: slug=url, name=alt). */
#define LOAD_SQL(product_where, child_where)                                               \
    "SELECT 0 AS k, " PRODUCT_COLS ", 0 AS pos FROM products"                              \
    " WHERE " product_where " AND deleted_at IS NULL"                                      \
    " UNION ALL SELECT 1, v.id, v.sku, v.colour, v.size, NULL, NULL, NULL, NULL, NULL,"    \
    " NULL, NULL, NULL, NULL, v.price_cents, v.currency, v.stock, NULL, NULL, NULL,"       \
    " v.position FROM variants v WHERE v.product_id = " child_where                        \
    " UNION ALL SELECT 2, i.id, i.url, i.alt, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"   \
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, i.position"                    \
    " FROM product_images i WHERE i.product_id = " child_where " ORDER BY 1, 21, 2"

static void read_child(const struct db_rows *r, struct cat_product *p)
{
    if (db_col_i64(r, 0) == 1 && p->nvariants < CAT_MAX_VARIANTS) {
        struct cat_variant *v = &p->variants[p->nvariants++];
        v->id = db_col_i64(r, 1);
        copy_col(r, 2, v->sku, sizeof v->sku);
        copy_col(r, 3, v->colour, sizeof v->colour);
        copy_col(r, 4, v->size, sizeof v->size);
        v->price_cents = db_col_i64(r, 14);
        copy_col(r, 15, v->currency, sizeof v->currency);
        v->stock = db_col_i64(r, 16);
    } else if (db_col_i64(r, 0) == 2 && p->nimages < CAT_MAX_IMAGES) {
        struct cat_image *im = &p->images[p->nimages++];
        copy_col(r, 2, im->url, sizeof im->url);
        copy_col(r, 3, im->alt, sizeof im->alt);
    }
}

enum ff_err cat__repo_load(struct db_conn *c, int64_t id, const char *slug,
                           struct cat_product *p)
{
    struct db_rows *r;
    bool has = false;
    enum ff_err err =
        slug ? db_query(c,
                        LOAD_SQL("slug = $1", "(SELECT id FROM products WHERE slug = $1"
                                              " AND deleted_at IS NULL)"),
                        P(DB_TEXT(slug)), 1, &r)
             : db_query(c, LOAD_SQL("id = $1", "$1"), P(DB_I64(id)), 1, &r);
    if (err)
        return err;
    err = db_next(r, &has);
    if (!err && (!has || db_col_i64(r, 0) != 0))
        err = FF_ENOTFOUND; /* no live product (children of a deleted one) */
    if (!err) {
        /* the product's columns are shifted by one (column 0 is the kind) */
        read_product_at(r, 1, p);
        p->nvariants = p->nimages = 0;
        while (!(err = db_next(r, &has)) && has)
            read_child(r, p);
    }
    db_rows_free(r);
    return err;
}

enum ff_err cat__repo_slug_exists(struct db_conn *c, const char *slug, bool *yes)
{
    int64_t n = 0;
    enum ff_err err = db_query_i64(c, "SELECT count(*) FROM products WHERE slug = $1",
                                   P(DB_TEXT(slug)), 1, &n);
    *yes = n > 0;
    return err;
}

static enum ff_err put_images(struct db_conn *c, const struct cat_product *p)
{
    enum ff_err err = db_exec(c, "DELETE FROM product_images WHERE product_id = $1",
                              P(DB_I64(p->id)), 1, NULL);
    if (!err) /* the first image, kept on the product for lists */
        err = db_exec(c, "UPDATE products SET image_url = $1 WHERE id = $2",
                      P(p->nimages ? DB_TEXT(p->images[0].url) : DB_NULL, DB_I64(p->id)), 2,
                      NULL);
    for (int i = 0; !err && i < p->nimages; i++)
        err = db_exec(c,
                      "INSERT INTO product_images (product_id, url, alt, position)"
                      " VALUES ($1, $2, $3, $4)",
                      P(DB_I64(p->id), DB_TEXT(p->images[i].url), DB_TEXT(p->images[i].alt),
                        DB_I64(i)),
                      4, NULL);
    return err;
}

/* Inserts or (same product, same SKU) updates variant i. */
static enum ff_err put_variant(struct db_conn *c, const struct cat_product *p, int i,
                               int64_t *id)
{
    const struct cat_variant *v = &p->variants[i];
    enum ff_err err = db_query_i64(
        c,
        "INSERT INTO variants (product_id, sku, colour, size, stock, price_cents, currency,"
        " position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (sku) DO UPDATE SET colour = excluded.colour, size = excluded.size,"
        " stock = excluded.stock, price_cents = excluded.price_cents,"
        " currency = excluded.currency, position = excluded.position"
        " WHERE variants.product_id = excluded.product_id RETURNING id",
        P(DB_I64(p->id), DB_TEXT(v->sku), DB_TEXT(v->colour), DB_TEXT(v->size),
          DB_I64(v->stock), DB_I64(v->price_cents), DB_TEXT(v->currency), DB_I64(i)),
        8, id);
    return err == FF_ENOTFOUND ? FF_ECONFLICT : err; /* the SKU is another product's */
}

static enum ff_err put_variants(struct db_conn *c, struct cat_product *p)
{
    for (int i = 0; i < p->nvariants; i++) {
        enum ff_err err = put_variant(c, p, i, &p->variants[i].id);
        if (err)
            return err;
    }
    return FF_OK;
}

enum ff_err cat__repo_insert(struct db_conn *c, struct cat_product *p)
{
    p->version = 1;
    enum ff_err err = db_query_i64(
        c,
        "INSERT INTO products (slug, name, brand, description, shape, material, colour,"
        " lens_width_mm, bridge_mm, temple_mm, lens_height_mm, suits, price_cents, currency,"
        " in_stock, version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16,"
        " $16) RETURNING id",
        P(DB_TEXT(p->slug), DB_TEXT(p->name), DB_TEXT(p->brand), DB_TEXT(p->description),
          DB_TEXT(p->shape), DB_TEXT(p->material), DB_TEXT(p->colour), DB_I64(p->lens_width),
          DB_I64(p->bridge), DB_I64(p->temple), DB_I64(p->lens_height), DB_I64(p->suits),
          DB_I64(p->price_cents), DB_TEXT(p->currency), DB_I64(p->in_stock),
          DB_I64(p->created_at)),
        16, &p->id);
    if (!err)
        err = put_variants(c, p);
    if (!err)
        err = put_images(c, p);
    return err;
}

/* Drops the product's variants whose SKU is not in p. */
static enum ff_err drop_stale_variants(struct db_conn *c, const struct cat_product *p)
{
    int64_t stale[CAT_MAX_VARIANTS * 2];
    int n = 0;
    struct db_rows *r;
    bool has;
    enum ff_err err = db_query(c, "SELECT id, sku FROM variants WHERE product_id = $1",
                               P(DB_I64(p->id)), 1, &r);
    if (err)
        return err;
    while (!(err = db_next(r, &has)) && has) {
        const char *sku = db_col_text(r, 1, NULL);
        bool keep = false;
        for (int i = 0; i < p->nvariants && !keep; i++)
            keep = sku && !strcmp(sku, p->variants[i].sku);
        if (!keep && n < (int)(sizeof stale / sizeof stale[0]))
            stale[n++] = db_col_i64(r, 0);
    }
    db_rows_free(r);
    for (int i = 0; !err && i < n; i++)
        err = db_exec(c, "DELETE FROM variants WHERE id = $1", P(DB_I64(stale[i])), 1, NULL);
    return err;
}

enum ff_err cat__repo_update(struct db_conn *c, struct cat_product *p, int64_t expected,
                             bool *stale)
{
    int64_t changed = 0;
    *stale = false;
    enum ff_err err = db_exec(
        c,
        "UPDATE products SET slug = $1, name = $2, brand = $3, description = $4, shape = $5,"
        " material = $6, colour = $7, lens_width_mm = $8, bridge_mm = $9, temple_mm = $10,"
        " lens_height_mm = $11, suits = $12, price_cents = $13, currency = $14,"
        " in_stock = $15, updated_at = $16, version = version + 1"
        " WHERE id = $17 AND version = $18 AND deleted_at IS NULL",
        P(DB_TEXT(p->slug), DB_TEXT(p->name), DB_TEXT(p->brand), DB_TEXT(p->description),
          DB_TEXT(p->shape), DB_TEXT(p->material), DB_TEXT(p->colour), DB_I64(p->lens_width),
          DB_I64(p->bridge), DB_I64(p->temple), DB_I64(p->lens_height), DB_I64(p->suits),
          DB_I64(p->price_cents), DB_TEXT(p->currency), DB_I64(p->in_stock),
          DB_I64(p->updated_at), DB_I64(p->id), DB_I64(expected)),
        18, &changed);
    if (!err && changed == 0) {
        *stale = true;
        return FF_ECONFLICT;
    }
    p->version = expected + 1;
    if (!err)
        err = drop_stale_variants(c, p);
    if (!err)
        err = put_variants(c, p);
    if (!err)
        err = put_images(c, p);
    return err;
}
