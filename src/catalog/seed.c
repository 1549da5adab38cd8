/* seed.c - deterministic catalog data: the demo catalog (framefit seed) and
 * the peer benchmark's 10,000 products (framefit seed --bench N). */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/alloc.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const brands[] = {
    "Ray-Ban", "Oakley", "Persol", "Warby Parker", "Oliver Peoples", "Moscot", "Lindberg",
    "Silhouette", "Tom Ford", "Garrett Leight", "Cutler and Gross", "Ace & Tate", "Mykita",
    "Krewe", "Jacques Marie Mage", "Retrosuperfuture"};
static const int brand_tier[] = {2, 2, 3, 1, 4, 3, 4, 3, 4, 3, 4, 1, 3, 2, 4, 2};
static const char *const models[] = {
    "Aurora", "Baxter", "Carlisle", "Delmar", "Everett", "Fairfax", "Griffin", "Harlow",
    "Indigo", "Juniper", "Kensington", "Larkin", "Monroe", "Nolan", "Orson", "Palmer",
    "Quincy", "Rhodes", "Sterling", "Tatum", "Ulla", "Vance", "Wilder", "Xavier", "Yates",
    "Zephyr"};
static const char *const lines[] = {"Classic", "Slim", "Bold", "Vintage", "Air",
                                    "Pro", "Luxe", "Studio", "Heritage", "Edge"};
static const char *const materials[] = {"acetate", "metal", "titanium", "stainless-steel",
                                        "tr90", "bio-acetate", "wood", "mixed"};
static const char *const colours[] = {"black", "tortoise", "gold", "silver", "clear",
                                      "navy", "crystal-pink", "gunmetal", "green", "brown",
                                      "burgundy", "honey"};
static const char *const colour_codes[] = {"BLK", "TRT", "GLD", "SLV", "CLR", "NVY",
                                           "PNK", "GUN", "GRN", "BRN", "BUR", "HNY"};
/* per shape: typical lens width base, lens height base, suited faces */
static const struct {
    int lens, height;
    unsigned faces;
    const char *what;
} shape_info[CAT_SHAPE_COUNT] = {
    [CAT_RECTANGLE] = {52, 38, 1u << CAT_FACE_ROUND | 1u << CAT_FACE_OVAL | 1u << CAT_FACE_HEART,
                       "clean rectangular lines"},
    [CAT_SQUARE] = {50, 42, 1u << CAT_FACE_ROUND | 1u << CAT_FACE_OVAL | 1u << CAT_FACE_OBLONG,
                    "a confident square front"},
    [CAT_ROUND] = {47, 44, 1u << CAT_FACE_SQUARE | 1u << CAT_FACE_OBLONG | 1u << CAT_FACE_DIAMOND,
                   "soft round lenses"},
    [CAT_OVAL] = {50, 38, 1u << CAT_FACE_SQUARE | 1u << CAT_FACE_DIAMOND | 1u << CAT_FACE_OVAL,
                  "a gentle oval outline"},
    [CAT_CAT_EYE] = {52, 41, 1u << CAT_FACE_HEART | 1u << CAT_FACE_ROUND | 1u << CAT_FACE_DIAMOND,
                     "lifted cat-eye corners"},
    [CAT_AVIATOR] = {56, 48, 1u << CAT_FACE_SQUARE | 1u << CAT_FACE_HEART | 1u << CAT_FACE_OVAL,
                     "teardrop aviator lenses"},
    [CAT_BROWLINE] = {51, 40, 1u << CAT_FACE_TRIANGLE | 1u << CAT_FACE_OVAL | 1u << CAT_FACE_ROUND,
                      "a bold browline over a thin lower rim"},
    [CAT_GEOMETRIC] = {50, 43,
                       1u << CAT_FACE_OBLONG | 1u << CAT_FACE_OVAL | 1u << CAT_FACE_TRIANGLE,
                       "faceted geometric lenses"},
    [CAT_WAYFARER] = {52, 40, 1u << CAT_FACE_OVAL | 1u << CAT_FACE_ROUND | 1u << CAT_FACE_OBLONG,
                      "the tapered wayfarer silhouette"},
};

static const int64_t SEED_EPOCH_MS = 1767225600000LL; /* 2026-01-01T00:00:00Z */

static void slugify(const char *brand, const char *name, char *out, size_t cap)
{
    size_t n = 0;
    bool dash = false;
    char src[320];
    snprintf(src, sizeof src, "%s %s", brand, name);
    for (const char *s = src; *s && n + 2 < cap; s++) {
        char ch = *s;
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9');
        if (!alnum) {
            dash = true;
            continue;
        }
        if (dash && n)
            out[n++] = '-';
        out[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        dash = false;
    }
    out[n] = '\0';
}

static void faces_text(unsigned mask, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < CAT_FACE_COUNT; i++)
        if (mask & (1u << i))
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
                                  cat_face_name(i));
}

/* Demo product i (0-based; names are unique for i < 4160). */
static void demo_product(int i, struct cat_product *p)
{
    memset(p, 0, sizeof *p);
    int shape = i % CAT_SHAPE_COUNT;
    int b = (i / 260 + i * 3) % ARRAY_LEN(brands);
    int mat = shape == CAT_AVIATOR ? (i % 3 == 0 ? 2 : 1) : (i * 5 + i / 9) % ARRAY_LEN(materials);
    int col = (i * 7 + i / 12) % ARRAY_LEN(colours);
    snprintf(p->name, sizeof p->name, "%s %s", models[i % 26], lines[(i / 26) % 10]);
    snprintf(p->brand, sizeof p->brand, "%s", brands[b]);
    slugify(p->brand, p->name, p->slug, sizeof p->slug);
    snprintf(p->shape, sizeof p->shape, "%s", cat_shape_name(shape));
    snprintf(p->material, sizeof p->material, "%s", materials[mat]);
    snprintf(p->colour, sizeof p->colour, "%s", colours[col]);
    p->lens_width = shape_info[shape].lens - 3 + (i * 7) % 8;
    p->bridge = 15 + (i * 3) % 8;
    p->temple = 135 + ((i / 3) % 4) * 5;
    p->lens_height = shape_info[shape].height - 3 + (i * 5) % 7;
    p->suits = shape_info[shape].faces | (i % 5 == 0 ? 1u << CAT_FACE_OVAL : 0);
    char faces[96];
    faces_text(p->suits, faces, sizeof faces);
    snprintf(p->description, sizeof p->description,
             "The %s from %s pairs %s with a %s frame in %s. Measures %d-%d-%d mm with a "
             "%d mm lens height. Flattering on %s faces.",
             p->name, p->brand, shape_info[shape].what, materials[mat], colours[col],
             p->lens_width, p->bridge, p->temple, p->lens_height, faces);
    int64_t price = 6900 + brand_tier[b] * 5000 + ((i * 37) % 9) * 1000 - 100;
    int ncol = 1 + i % 3;
    bool two_sizes = i % 4 == 0;
    for (int c = 0; c < ncol; c++) {
        for (int s = 0; s < (two_sizes ? 2 : 1); s++) {
            struct cat_variant *v = &p->variants[p->nvariants++];
            int vc = (col + c * 5) % ARRAY_LEN(colours);
            const char *size = s ? "L" : "M";
            snprintf(v->sku, sizeof v->sku, "DM-%05d-%s-%s", i + 1, colour_codes[vc], size);
            snprintf(v->colour, sizeof v->colour, "%s", colours[vc]);
            snprintf(v->size, sizeof v->size, "%s", size);
            v->stock = (i * 13 + c * 7 + s * 3) % 23 < 3 ? 0 : (i * 13 + c * 7 + s * 3) % 40;
            v->price_cents = price + (s ? 1000 : 0);
            memcpy(v->currency, "EUR", 4);
        }
    }
    p->nimages = 2;
    snprintf(p->images[0].url, sizeof p->images[0].url,
             "https://cdn.framefit.example/frames/%s/front.jpg", p->slug);
    snprintf(p->images[0].alt, sizeof p->images[0].alt, "%.90s %.100s, front", p->brand, p->name);
    snprintf(p->images[1].url, sizeof p->images[1].url,
             "https://cdn.framefit.example/frames/%s/side.jpg", p->slug);
    snprintf(p->images[1].alt, sizeof p->images[1].alt, "%.90s %.100s, side", p->brand, p->name);
    p->created_at = p->updated_at = SEED_EPOCH_MS + (int64_t)i * 60000;
    cat__rollup(p);
}

/* Product i (1-based) of the peer benchmark's seed.sql, field for field. */
static void bench_product(int i, struct cat_product *p)
{
    static const char *const bmodels[] = {"Aviator", "Wayfarer", "Clubmaster", "Round",
                                          "Cat Eye", "Browline", "Rimless", "Oversized",
                                          "Hexagonal", "Sport"};
    static const char *const blines[] = {"Classic", "Slim", "Bold", "Vintage",
                                         "Urban", "Air", "Pro", "Luxe"};
    static const char *const bbrands[] = {"Ray-Ban", "Oakley", "Persol", "Warby Parker",
                                          "Gucci", "Prada", "Tom Ford", "Oliver Peoples",
                                          "Maui Jim", "Silhouette", "Lindberg", "Moscot"};
    static const char *const bshapes[] = {"round", "square", "rectangle", "aviator",
                                          "cat-eye", "oval", "geometric", "browline"};
    static const char *const bmats[] = {"acetate", "titanium", "stainless-steel",
                                        "tr90", "wood", "carbon-fiber"};
    static const char *const bcols[] = {"black", "tortoise", "gold", "silver", "clear",
                                        "navy", "crystal-pink", "gunmetal", "green", "brown"};
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s %s %d", bmodels[i % 10], blines[(i / 10) % 8], i);
    snprintf(p->brand, sizeof p->brand, "%s", bbrands[(i * 7) % 12]);
    slugify(p->brand, p->name, p->slug, sizeof p->slug);
    snprintf(p->shape, sizeof p->shape, "%s", bshapes[(i * 3) % 8]);
    snprintf(p->material, sizeof p->material, "%s", bmats[(i * 5) % 6]);
    snprintf(p->colour, sizeof p->colour, "%s", bcols[(i * 11) % 10]);
    p->lens_width = 46 + i % 14;
    p->bridge = 15 + i % 8;
    p->temple = 135 + (i % 4) * 5;
    p->lens_height = 36 + i % 12;
    p->suits = (unsigned)((i * 13) % 127 + 1);
    struct cat_variant *v = &p->variants[p->nvariants++];
    snprintf(v->sku, sizeof v->sku, "FF-%06d", i);
    snprintf(v->colour, sizeof v->colour, "%s", p->colour);
    snprintf(v->size, sizeof v->size, "M");
    v->stock = 1000000;
    v->price_cents = 4900 + ((int64_t)i * 137) % 40000;
    memcpy(v->currency, "EUR", 4);
    p->created_at = p->updated_at = SEED_EPOCH_MS + (int64_t)i * 1000;
    cat__rollup(p);
}

/* Inserts products 0..count-1 made by make(), skipping existing slugs, in
 * transactions of 500. */
static enum ff_err seed(struct db *db, int first, int count,
                        void (*make)(int, struct cat_product *), int *added)
{
    struct cat_product *p = ff_calloc(1, sizeof *p);
    if (!p)
        return FF_ENOMEM;
    int n = 0;
    enum ff_err err = FF_OK;
    for (int start = 0; !err && start < count; start += 500) {
        struct db_tx tx = DB_TX_INIT;
        err = db_begin(db, &tx);
        for (int i = start; !err && i < count && i < start + 500; i++) {
            bool exists = false;
            make(first + i, p);
            err = cat__repo_slug_exists(tx.conn, p->slug, &exists);
            if (!err && !exists) {
                err = cat__repo_insert(tx.conn, p);
                n += !err;
            }
        }
        if (!err)
            err = db_commit(&tx);
        db_tx_release(&tx);
    }
    ff_free(p);
    if (!err && n) { /* fresh statistics for the planners */
        struct db_conn *c;
        err = db_acquire(db, &c);
        if (!err) {
            err = db_exec(c, "ANALYZE", NULL, 0, NULL);
            db_release(c);
        }
    }
    if (added)
        *added = err ? 0 : n;
    return err;
}

enum ff_err cat_seed_demo(struct db *db, int count, int *added)
{
    if (count < 0 || count > 4160)
        return FF_EINVAL;
    return seed(db, 0, count, demo_product, added);
}

enum ff_err cat_seed_bench(struct db *db, int count, int *added)
{
    if (count < 0 || count > 1000000)
        return FF_EINVAL;
    return seed(db, 1, count, bench_product, added);
}
