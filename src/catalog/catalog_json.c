/* catalog_json.c - JSON text of products and list pages, written directly
 * into a capped buffer (the read paths skip building jansson trees: they
 * dominated the cost of a list request). The output matches cat__to_json. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/alloc.h"

/* JSON string body escaping: quotes, backslash, control characters. Input is
 * UTF-8 (validated when stored) and passes through. */
void cat__jw_str(struct cat_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (w->err)
        return;
    if (!s) {
        cat__jw_raw(w, "null", 4);
        return;
    }
    cat__jw_raw(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        cat__jw_raw(w, s + run, i - run);
        char esc[6] = {'\\', 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            k = 6;
        }
        cat__jw_raw(w, esc, k);
        run = i + 1;
    }
    cat__jw_raw(w, s + run, n - run);
    cat__jw_raw(w, "\"", 1);
}

void cat__jw_raw(struct cat_jw *w, const char *s, size_t n)
{
    if (!w->err && n)
        w->err = ff_buf_append(w->b, s, n);
}

void cat__jw_lit(struct cat_jw *w, const char *s) { cat__jw_raw(w, s, strlen(s)); }

void cat__jw_cstr(struct cat_jw *w, const char *s) { cat__jw_str(w, s, s ? strlen(s) : 0); }

void cat__jw_int(struct cat_jw *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    cat__jw_raw(w, num, (size_t)n);
}

/* "key": */
static void key(struct cat_jw *w, const char *k)
{
    cat__jw_lit(w, k);
}

static void faces(struct cat_jw *w, unsigned mask)
{
    cat__jw_raw(w, "[", 1);
    bool first = true;
    for (int i = 0; i < CAT_FACE_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        if (!first)
            cat__jw_raw(w, ",", 1);
        cat__jw_cstr(w, cat_face_name(i));
        first = false;
    }
    cat__jw_raw(w, "]", 1);
}

static void measurements(struct cat_jw *w, int64_t lw, int64_t br, int64_t te, int64_t lh)
{
    key(w, ",\"measurements\":{\"lens_width_mm\":");
    cat__jw_int(w, lw);
    key(w, ",\"bridge_mm\":");
    cat__jw_int(w, br);
    key(w, ",\"temple_mm\":");
    cat__jw_int(w, te);
    key(w, ",\"lens_height_mm\":");
    cat__jw_int(w, lh);
    cat__jw_raw(w, "}", 1);
}

static void time_field(struct cat_jw *w, const char *k, int64_t ms)
{
    char t[32];
    cat__iso_time(ms, t, sizeof t);
    key(w, k);
    cat__jw_cstr(w, t);
}

void cat__product_text(struct cat_jw *w, const struct cat_product *p)
{
    key(w, "{\"id\":");
    cat__jw_int(w, p->id);
    key(w, ",\"slug\":");
    cat__jw_cstr(w, p->slug);
    key(w, ",\"name\":");
    cat__jw_cstr(w, p->name);
    key(w, ",\"brand\":");
    cat__jw_cstr(w, p->brand);
    key(w, ",\"description\":");
    cat__jw_cstr(w, p->description);
    key(w, ",\"shape\":");
    cat__jw_cstr(w, p->shape);
    key(w, ",\"material\":");
    cat__jw_cstr(w, p->material);
    key(w, ",\"colour\":");
    cat__jw_cstr(w, p->colour);
    measurements(w, p->lens_width, p->bridge, p->temple, p->lens_height);
    key(w, ",\"suits_face_shapes\":");
    faces(w, p->suits);
    key(w, ",\"price\":{\"amount_cents\":");
    cat__jw_int(w, p->price_cents);
    key(w, ",\"currency\":");
    cat__jw_cstr(w, p->currency);
    key(w, "},\"in_stock\":");
    cat__jw_lit(w, p->in_stock ? "true" : "false");
    key(w, ",\"variants\":[");
    for (int i = 0; i < p->nvariants; i++) {
        const struct cat_variant *v = &p->variants[i];
        key(w, i ? ",{\"id\":" : "{\"id\":");
        cat__jw_int(w, v->id);
        key(w, ",\"sku\":");
        cat__jw_cstr(w, v->sku);
        key(w, ",\"colour\":");
        cat__jw_cstr(w, v->colour);
        key(w, ",\"size\":");
        cat__jw_cstr(w, v->size);
        key(w, ",\"stock\":");
        cat__jw_int(w, v->stock);
        key(w, ",\"price_cents\":");
        cat__jw_int(w, v->price_cents);
        key(w, ",\"currency\":");
        cat__jw_cstr(w, v->currency);
        cat__jw_raw(w, "}", 1);
    }
    key(w, "],\"images\":[");
    for (int i = 0; i < p->nimages; i++) {
        key(w, i ? ",{\"url\":" : "{\"url\":");
        cat__jw_cstr(w, p->images[i].url);
        key(w, ",\"alt\":");
        cat__jw_cstr(w, p->images[i].alt);
        cat__jw_raw(w, "}", 1);
    }
    key(w, "],\"version\":");
    cat__jw_int(w, p->version);
    time_field(w, ",\"created_at\":", p->created_at);
    time_field(w, ",\"updated_at\":", p->updated_at);
    cat__jw_raw(w, "}", 1);
}

static void col_str(struct cat_jw *w, const struct db_rows *r, int col)
{
    size_t n = 0;
    const char *s = db_col_text(r, col, &n);
    cat__jw_str(w, s, n);
}

/* One list row (the columns of the list query) as a summary object. */
void cat__summary_text(struct cat_jw *w, const struct db_rows *r)
{
    key(w, "{\"id\":");
    cat__jw_int(w, db_col_i64(r, 0));
    static const char *const keys[] = {",\"slug\":", ",\"name\":", ",\"brand\":",
                                       ",\"shape\":", ",\"material\":", ",\"colour\":"};
    for (int i = 0; i < 6; i++) {
        key(w, keys[i]);
        col_str(w, r, 1 + i);
    }
    measurements(w, db_col_i64(r, 7), db_col_i64(r, 8), db_col_i64(r, 9), db_col_i64(r, 10));
    key(w, ",\"suits_face_shapes\":");
    faces(w, (unsigned)db_col_i64(r, 11));
    key(w, ",\"price\":{\"amount_cents\":");
    cat__jw_int(w, db_col_i64(r, 12));
    key(w, ",\"currency\":");
    col_str(w, r, 13);
    key(w, "},\"in_stock\":");
    cat__jw_lit(w, db_col_i64(r, 14) ? "true" : "false");
    time_field(w, ",\"created_at\":", db_col_i64(r, 15));
    key(w, ",\"image\":");
    col_str(w, r, 16);
    cat__jw_raw(w, "}", 1);
}
