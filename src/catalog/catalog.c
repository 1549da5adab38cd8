/* catalog.c - the catalog's domain rules: names, validation, JSON in and out,
 * and the single-product service functions. SQL lives in catalog_repo.c. */
#include "catalog/catalog.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog_int.h"
#include "core/alloc.h"

static const char *const shape_names[CAT_SHAPE_COUNT] = {
    "rectangle", "square", "round", "oval", "cat-eye", "aviator", "browline", "geometric",
    "wayfarer"};
static const char *const face_names[CAT_FACE_COUNT] = {
    "oval", "round", "square", "oblong", "heart", "diamond", "triangle"};

const char *cat_shape_name(int s)
{
    return s >= 0 && s < CAT_SHAPE_COUNT ? shape_names[s] : NULL;
}

int cat_shape_parse(const char *s)
{
    for (int i = 0; i < CAT_SHAPE_COUNT; i++)
        if (!strcmp(s, shape_names[i]))
            return i;
    return -1;
}

const char *cat_face_name(int f)
{
    return f >= 0 && f < CAT_FACE_COUNT ? face_names[f] : NULL;
}

int cat_face_parse(const char *s)
{
    if (!strcmp(s, "rectangle"))
        return CAT_FACE_OBLONG;
    for (int i = 0; i < CAT_FACE_COUNT; i++)
        if (!strcmp(s, face_names[i]))
            return i;
    return -1;
}

void cat__add_error(json_t *errs, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(errs, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

void cat__iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

/* ---- field checks ------------------------------------------------------------ */

enum str_kind { S_TEXT, S_ALT, S_MULTILINE, S_SLUG, S_TOKEN, S_SKU, S_SIZE, S_CURRENCY, S_URL };

static bool kind_ok(enum str_kind k, const char *s)
{
    size_t n = strlen(s);
    switch (k) {
    case S_SLUG: /* a-z0-9 words joined by single hyphens */
        if (!n || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
                return false;
        return true;
    case S_TOKEN:
        if (!islower((unsigned char)s[0]))
            return false;
        for (size_t i = 1; i < n; i++)
            if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
                return false;
        return true;
    case S_SKU:
    case S_SIZE:
        if (!isalnum((unsigned char)s[0]))
            return false;
        for (size_t i = 1; i < n; i++)
            if (!isalnum((unsigned char)s[i]) && !strchr(k == S_SKU ? "._-" : "-", s[i]))
                return false;
        return true;
    case S_CURRENCY:
        return n == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
               isupper((unsigned char)s[2]);
    case S_URL:
        if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7) && s[0] != '/')
            return false;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '<' || s[i] == '>' ||
                s[i] == '\\' || s[i] == 0x7f)
                return false;
        return true;
    case S_TEXT:
    case S_ALT:
    case S_MULTILINE:
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)s[i];
            if ((ch < 0x20 && !(k == S_MULTILINE && (ch == '\n' || ch == '\t' || ch == '\r'))) ||
                ch == 0x7f)
                return false;
        }
        return true;
    }
    return false;
}

static const char *kind_rule(enum str_kind k)
{
    switch (k) {
    case S_SLUG: return "lower-case letters and digits in words joined by '-'";
    case S_TOKEN: return "lower-case letters, digits and '-', starting with a letter";
    case S_SKU: return "letters, digits, '.', '_' and '-', starting with a letter or digit";
    case S_SIZE: return "letters, digits and '-'";
    case S_CURRENCY: return "an ISO 4217 code such as EUR";
    case S_URL: return "an http(s) URL or a path starting with '/', without spaces";
    case S_MULTILINE: return "text without control characters other than newlines and tabs";
    default: return "text without control characters";
    }
}

/* Copies obj[key] into buf when present. Returns true when the field was
 * present (valid or not). */
static bool take_str(const json_t *obj, const char *key, const char *path, bool required,
                     enum str_kind kind, char *buf, size_t cap, json_t *errs)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            cat__add_error(errs, path, "is required");
        return false;
    }
    if (!json_is_string(v)) {
        cat__add_error(errs, path, "must be a string");
        return true;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n != strlen(s)) {
        cat__add_error(errs, path, "must not contain NUL characters");
    } else if (n == 0 && kind != S_MULTILINE && kind != S_ALT) {
        cat__add_error(errs, path, "must not be empty");
    } else if (n >= cap) {
        cat__add_error(errs, path, "must be at most %zu bytes long", cap - 1);
    } else if (!kind_ok(kind, s)) {
        cat__add_error(errs, path, "must be %s", kind_rule(kind));
    } else {
        memcpy(buf, s, n + 1);
    }
    return true;
}

static bool take_int(const json_t *obj, const char *key, const char *path, bool required,
                     int64_t min, int64_t max, int64_t *out, json_t *errs)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            cat__add_error(errs, path, "is required");
        return false;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        cat__add_error(errs, path, "must be an integer from %lld to %lld", (long long)min,
                       (long long)max);
        return true;
    }
    *out = json_integer_value(v);
    return true;
}

/* Complains about keys of obj not in the NULL-terminated list. */
static void only_keys(const json_t *obj, const char *prefix, const char *const *known,
                      json_t *errs)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++)
            ok = !strcmp(k, known[i]);
        if (!ok) {
            char path[160];
            snprintf(path, sizeof path, "%s%.100s", prefix, k);
            cat__add_error(errs, path, "is not a known field");
        }
    }
}

static const char *const product_keys[] = {
    "slug", "name", "brand", "description", "shape", "material", "colour", "measurements",
    "suits_face_shapes", "variants", "images", NULL};
static const char *const measure_keys[] = {"lens_width_mm", "bridge_mm", "temple_mm",
                                           "lens_height_mm", NULL};
static const char *const variant_keys[] = {"sku", "colour", "size", "stock", "price_cents",
                                           "currency", NULL};
static const char *const image_keys[] = {"url", "alt", NULL};

static void take_measurements(const json_t *body, bool create, struct cat_product *p,
                              json_t *errs)
{
    json_t *m = json_object_get(body, "measurements");
    if (!m) {
        if (create)
            cat__add_error(errs, "measurements", "is required");
        return;
    }
    if (!json_is_object(m)) {
        cat__add_error(errs, "measurements", "must be an object");
        return;
    }
    only_keys(m, "measurements.", measure_keys, errs);
    static const struct {
        const char *key, *path;
        int min, max;
        size_t off;
    } f[] = {
        {"lens_width_mm", "measurements.lens_width_mm", 30, 80,
         offsetof(struct cat_product, lens_width)},
        {"bridge_mm", "measurements.bridge_mm", 10, 30, offsetof(struct cat_product, bridge)},
        {"temple_mm", "measurements.temple_mm", 110, 165, offsetof(struct cat_product, temple)},
        {"lens_height_mm", "measurements.lens_height_mm", 20, 70,
         offsetof(struct cat_product, lens_height)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        int64_t v = -1;
        if (take_int(m, f[i].key, f[i].path, create, f[i].min, f[i].max, &v, errs) &&
            v >= f[i].min && v <= f[i].max)
            *(int *)((char *)p + f[i].off) = (int)v;
    }
}

static void take_faces(const json_t *body, struct cat_product *p, json_t *errs)
{
    json_t *a = json_object_get(body, "suits_face_shapes");
    if (!a)
        return;
    if (!json_is_array(a) || json_array_size(a) > 2 * CAT_FACE_COUNT) {
        cat__add_error(errs, "suits_face_shapes", "must be an array of face shapes");
        return;
    }
    unsigned mask = 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        int f = json_is_string(v) ? cat_face_parse(json_string_value(v)) : -1;
        if (f < 0) {
            char path[48];
            snprintf(path, sizeof path, "suits_face_shapes[%zu]", i);
            cat__add_error(errs, path,
                           "must be one of oval, round, square, oblong, heart, diamond,"
                           " triangle");
            continue;
        }
        mask |= 1u << f;
    }
    p->suits = mask;
}

static void take_variant(const json_t *v, size_t i, struct cat_variant *out, json_t *errs)
{
    char path[64], base[32];
    snprintf(base, sizeof base, "variants[%zu].", i);
    if (!json_is_object(v)) {
        snprintf(path, sizeof path, "variants[%zu]", i);
        cat__add_error(errs, path, "must be an object");
        return;
    }
    only_keys(v, base, variant_keys, errs);
#define VPATH(f) (snprintf(path, sizeof path, "%s" f, base), path)
    take_str(v, "sku", VPATH("sku"), true, S_SKU, out->sku, sizeof out->sku, errs);
    take_str(v, "colour", VPATH("colour"), true, S_TOKEN, out->colour, sizeof out->colour, errs);
    take_str(v, "size", VPATH("size"), true, S_SIZE, out->size, sizeof out->size, errs);
    take_int(v, "stock", VPATH("stock"), true, 0, CAT_MAX_STOCK, &out->stock, errs);
    take_int(v, "price_cents", VPATH("price_cents"), true, 0, CAT_MAX_PRICE_CENTS,
             &out->price_cents, errs);
    if (!take_str(v, "currency", VPATH("currency"), false, S_CURRENCY, out->currency,
                  sizeof out->currency, errs))
        memcpy(out->currency, "EUR", 4);
#undef VPATH
}

static void take_variants(const json_t *body, bool create, struct cat_product *p, json_t *errs)
{
    json_t *a = json_object_get(body, "variants");
    if (!a) {
        if (create)
            cat__add_error(errs, "variants", "is required (at least one variant)");
        return;
    }
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > CAT_MAX_VARIANTS) {
        cat__add_error(errs, "variants", "must be an array of 1 to %d variants",
                       CAT_MAX_VARIANTS);
        return;
    }
    size_t i;
    json_t *v;
    p->nvariants = (int)json_array_size(a);
    json_array_foreach(a, i, v) {
        struct cat_variant *cv = &p->variants[i];
        memset(cv, 0, sizeof *cv);
        take_variant(v, i, cv, errs);
        for (size_t j = 0; j < i; j++) {
            char path[48];
            snprintf(path, sizeof path, "variants[%zu]", i);
            if (cv->sku[0] && !strcmp(cv->sku, p->variants[j].sku))
                cat__add_error(errs, path, "repeats the sku of variants[%zu]", j);
            else if (cv->colour[0] && !strcmp(cv->colour, p->variants[j].colour) &&
                     !strcmp(cv->size, p->variants[j].size))
                cat__add_error(errs, path, "repeats the colour and size of variants[%zu]", j);
            else if (strcmp(cv->currency, p->variants[j].currency))
                cat__add_error(errs, path, "must use the same currency as variants[0]");
        }
    }
}

static void take_images(const json_t *body, struct cat_product *p, json_t *errs)
{
    json_t *a = json_object_get(body, "images");
    if (!a)
        return;
    if (!json_is_array(a) || json_array_size(a) > CAT_MAX_IMAGES) {
        cat__add_error(errs, "images", "must be an array of at most %d images", CAT_MAX_IMAGES);
        return;
    }
    size_t i;
    json_t *v;
    p->nimages = (int)json_array_size(a);
    json_array_foreach(a, i, v) {
        char path[48], base[32];
        struct cat_image *im = &p->images[i];
        memset(im, 0, sizeof *im);
        snprintf(base, sizeof base, "images[%zu].", i);
        if (!json_is_object(v)) {
            snprintf(path, sizeof path, "images[%zu]", i);
            cat__add_error(errs, path, "must be an object");
            continue;
        }
        only_keys(v, base, image_keys, errs);
        snprintf(path, sizeof path, "%surl", base);
        take_str(v, "url", path, true, S_URL, im->url, sizeof im->url, errs);
        snprintf(path, sizeof path, "%salt", base);
        take_str(v, "alt", path, false, S_ALT, im->alt, sizeof im->alt, errs);
    }
}

/* brand + name, lower-cased, non-alphanumerics folded into single '-'. */
static void make_slug(const struct cat_product *p, char *out, size_t cap)
{
    char src[320];
    snprintf(src, sizeof src, "%s %s", p->brand, p->name);
    size_t n = 0;
    bool dash = false;
    for (const char *s = src; *s && n + 2 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch)) {
            if (dash && n)
                out[n++] = '-';
            out[n++] = (char)tolower(ch);
            dash = false;
        } else {
            dash = true;
        }
    }
    out[n] = '\0';
    if (!n)
        snprintf(out, cap, "frame");
}

void cat__rollup(struct cat_product *p)
{
    p->in_stock = false;
    p->price_cents = 0;
    memcpy(p->currency, "EUR", 4);
    for (int i = 0; i < p->nvariants; i++) {
        const struct cat_variant *v = &p->variants[i];
        if (i == 0 || v->price_cents < p->price_cents) {
            p->price_cents = v->price_cents;
            memcpy(p->currency, v->currency, 4);
        }
        if (v->stock > 0)
            p->in_stock = true;
    }
}

void cat__from_json(const json_t *body, bool create, struct cat_product *p, json_t *errs)
{
    if (!json_is_object(body)) {
        cat__add_error(errs, "", "the body must be a JSON object");
        return;
    }
    only_keys(body, "", product_keys, errs);
    take_str(body, "name", "name", create, S_TEXT, p->name, sizeof p->name, errs);
    take_str(body, "brand", "brand", create, S_TEXT, p->brand, sizeof p->brand, errs);
    take_str(body, "description", "description", false, S_MULTILINE, p->description,
             sizeof p->description, errs);
    char shape[16] = "";
    if (take_str(body, "shape", "shape", create, S_TOKEN, shape, sizeof shape, errs) &&
        shape[0]) {
        if (cat_shape_parse(shape) < 0)
            cat__add_error(errs, "shape",
                           "must be one of rectangle, square, round, oval, cat-eye, aviator,"
                           " browline, geometric, wayfarer");
        else
            memcpy(p->shape, shape, sizeof shape);
    }
    take_str(body, "material", "material", create, S_TOKEN, p->material, sizeof p->material,
             errs);
    take_str(body, "colour", "colour", create, S_TOKEN, p->colour, sizeof p->colour, errs);
    take_measurements(body, create, p, errs);
    take_faces(body, p, errs);
    take_variants(body, create, p, errs);
    take_images(body, p, errs);
    if (!take_str(body, "slug", "slug", false, S_SLUG, p->slug, sizeof p->slug, errs) &&
        create && p->name[0] && p->brand[0])
        make_slug(p, p->slug, sizeof p->slug);
    cat__rollup(p);
}

/* ---- JSON out ------------------------------------------------------------------ */

static json_t *faces_json(unsigned mask)
{
    json_t *a = json_array();
    for (int i = 0; i < CAT_FACE_COUNT; i++)
        if (mask & (1u << i))
            json_array_append_new(a, json_string(face_names[i]));
    return a;
}

json_t *cat__to_json(const struct cat_product *p)
{
    char created[32], updated[32];
    cat__iso_time(p->created_at, created, sizeof created);
    cat__iso_time(p->updated_at, updated, sizeof updated);
    json_t *vs = json_array(), *is = json_array();
    for (int i = 0; i < p->nvariants; i++) {
        const struct cat_variant *v = &p->variants[i];
        json_array_append_new(vs, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:s}", "id",
                                            (json_int_t)v->id, "sku", v->sku, "colour",
                                            v->colour, "size", v->size, "stock",
                                            (json_int_t)v->stock, "price_cents",
                                            (json_int_t)v->price_cents, "currency",
                                            v->currency));
    }
    for (int i = 0; i < p->nimages; i++)
        json_array_append_new(is, json_pack("{s:s, s:s}", "url", p->images[i].url, "alt",
                                            p->images[i].alt));
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                     " s:{s:i, s:i, s:i, s:i}, s:o, s:{s:I, s:s}, s:b, s:o, s:o,"
                     " s:I, s:s, s:s}",
                     "id", (json_int_t)p->id, "slug", p->slug, "name", p->name, "brand",
                     p->brand, "description", p->description, "shape", p->shape, "material",
                     p->material, "colour", p->colour, "measurements", "lens_width_mm",
                     p->lens_width, "bridge_mm", p->bridge, "temple_mm", p->temple,
                     "lens_height_mm", p->lens_height, "suits_face_shapes",
                     faces_json(p->suits), "price", "amount_cents",
                     (json_int_t)p->price_cents, "currency", p->currency, "in_stock",
                     p->in_stock, "variants", vs, "images", is, "version",
                     (json_int_t)p->version, "created_at", created, "updated_at", updated);
}

/* ---- service ------------------------------------------------------------------- */

enum ff_err cat_get_text(struct db *db, int64_t id, const char *slug, char **out,
                         size_t *len, int64_t *version)
{
    *out = NULL;
    *len = 0;
    if (slug && (strlen(slug) > 100 || !kind_ok(S_SLUG, slug)))
        return FF_ENOTFOUND;
    struct cat_product *p = ff_malloc(sizeof *p);
    if (!p)
        return FF_ENOMEM;
    struct db_conn *c;
    enum ff_err err = db_acquire(db, &c);
    if (!err) {
        err = cat__repo_load(c, id, slug, p);
        db_release(c);
    }
    if (!err) {
        struct ff_buf b;
        ff_buf_init(&b, 1u << 20);
        struct cat_jw w = {&b, FF_OK};
        cat__product_text(&w, p);
        err = w.err;
        if (!err) {
            *out = ff_buf_steal(&b, len);
            if (version)
                *version = p->version;
        }
        ff_buf_release(&b);
    }
    ff_free(p);
    return err;
}

/* Parses text made by this module back into a tree (tests, non-HTTP users). */
static enum ff_err text_to_json(enum ff_err err, char *text, size_t len, json_t **out)
{
    if (!err) {
        *out = json_loadb(text, len, 0, NULL);
        if (!*out)
            err = FF_EINTERNAL;
    }
    ff_free(text);
    return err;
}

enum ff_err cat_get(struct db *db, int64_t id, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    enum ff_err err = cat_get_text(db, id, NULL, &text, &len, NULL);
    return text_to_json(err, text, len, out);
}

enum ff_err cat_get_slug(struct db *db, const char *slug, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    if (!slug)
        return FF_ENOTFOUND;
    enum ff_err err = cat_get_text(db, 0, slug, &text, &len, NULL);
    return text_to_json(err, text, len, out);
}

enum ff_err cat_list(struct db *db, const struct cat_query *q, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    enum ff_err err = cat_list_text(db, q, &text, &len);
    return text_to_json(err, text, len, out);
}

/* Turns a unique violation into a field error. */
static void conflict_errors(struct db_conn *c, const struct cat_product *p, json_t *errs)
{
    bool taken = false;
    if (cat__repo_slug_exists(c, p->slug, &taken) == FF_OK && taken) {
        cat__add_error(errs, "slug", "is already used by another product");
        return;
    }
    cat__add_error(errs, "variants", "a sku is already used by another product");
}

static enum ff_err finish_errors(json_t *errs, json_t **errors, enum ff_err err)
{
    if (errors && json_array_size(errs)) {
        *errors = errs;
        return err ? err : FF_EINVAL;
    }
    json_decref(errs);
    return err;
}

/* After a unique violation: roll the transaction back, then name the fields
 * that collide (slug, SKUs) in errs. */
static void explain_conflict(struct db *db, struct db_tx *tx, const struct cat_product *p,
                             json_t *errs)
{
    db_tx_release(tx);
    struct db_conn *c;
    if (db_acquire(db, &c) == FF_OK) {
        conflict_errors(c, p, errs);
        db_release(c);
    }
}

/* The common end of create and update. The reply is built before the commit, so
 * an allocation failure rolls back instead of reporting an error for a change
 * that happened. Frees p and releases tx. */
static enum ff_err finish_write(struct db_tx *tx, struct cat_product *p, enum ff_err err,
                                json_t *errs, json_t **out, json_t **errors)
{
    if (!err && tx->open && !(*out = cat__to_json(p)))
        err = FF_ENOMEM;
    if (!err)
        err = db_commit(tx);
    if (err) {
        json_decref(*out);
        *out = NULL;
    }
    db_tx_release(tx);
    ff_free(p);
    return finish_errors(errs, errors, err);
}

enum ff_err cat_create(struct db *db, const json_t *body, json_t **out, json_t **errors)
{
    *out = NULL;
    if (errors)
        *errors = NULL;
    json_t *errs = json_array();
    struct cat_product *p = ff_calloc(1, sizeof *p);
    if (!p || !errs) {
        ff_free(p);
        json_decref(errs);
        return FF_ENOMEM;
    }
    cat__from_json(body, true, p, errs);
    enum ff_err err = json_array_size(errs) ? FF_EINVAL : FF_OK;
    struct db_tx tx = DB_TX_INIT;
    if (!err)
        err = db_begin(db, &tx);
    if (!err) {
        p->created_at = p->updated_at = db_now_ms();
        err = cat__repo_insert(tx.conn, p);
        if (err == FF_ECONFLICT)
            explain_conflict(db, &tx, p, errs);
    }
    return finish_write(&tx, p, err, errs, out, errors);
}

enum ff_err cat_update(struct db *db, int64_t id, int64_t expected, const json_t *body,
                       json_t **out, json_t **errors)
{
    *out = NULL;
    if (errors)
        *errors = NULL;
    json_t *errs = json_array();
    struct cat_product *p = ff_calloc(1, sizeof *p);
    struct db_tx tx = DB_TX_INIT;
    enum ff_err err = p && errs ? FF_OK : FF_ENOMEM;
    if (!err)
        err = db_begin(db, &tx);
    if (!err && db_dialect(db) == DB_PG) {
        /* lock the row first so a concurrent writer queues behind us instead of
         * making us fail at the UPDATE (SQLite's BEGIN IMMEDIATE already
         * serializes writers) */
        int64_t v = 0;
        err = db_query_i64(tx.conn, "SELECT version FROM products WHERE id = $1 FOR UPDATE",
                           (struct db_param[]){DB_I64(id)}, 1, &v);
    }
    if (!err)
        err = cat__repo_load(tx.conn, id, NULL, p);
    if (!err && expected >= 0 && p->version != expected)
        err = FF_ECONFLICT;
    if (expected < 0)
        expected = p->version; /* If-Match: * -- any current version */
    if (!err) {
        cat__from_json(body, false, p, errs);
        if (json_array_size(errs))
            err = FF_EINVAL;
    }
    if (!err) {
        p->updated_at = db_now_ms();
        bool stale = false;
        err = cat__repo_update(tx.conn, p, expected, &stale);
        if (err == FF_ECONFLICT && !stale) /* a unique violation, not a stale version */
            explain_conflict(db, &tx, p, errs);
    }
    return finish_write(&tx, p, err, errs, out, errors);
}

enum ff_err cat_delete(struct db *db, int64_t id, int64_t expected)
{
    struct db_conn *c;
    int64_t changed = 0;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    err = db_exec(c,
                  "UPDATE products SET deleted_at = $1, version = version + 1, updated_at = $1"
                  " WHERE id = $2 AND deleted_at IS NULL AND ($3 < 0 OR version = $3)",
                  (struct db_param[]){DB_I64(db_now_ms()), DB_I64(id), DB_I64(expected)}, 3,
                  &changed);
    if (!err && changed == 0) {
        int64_t live = 0;
        err = db_query_i64(c, "SELECT count(*) FROM products WHERE id = $1 AND deleted_at IS NULL",
                           (struct db_param[]){DB_I64(id)}, 1, &live);
        if (!err)
            err = live ? FF_ECONFLICT : FF_ENOTFOUND;
    }
    db_release(c);
    return err;
}
