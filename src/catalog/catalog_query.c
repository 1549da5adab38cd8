/* catalog_query.c - list parameters, the opaque cursor, and the list/search
 * query. The SQL is assembled only from constant fragments chosen by the
 * parsed filter; every value is a bound parameter. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/alloc.h"

static const char *const sort_names[CAT_SORT_COUNT] = {"newest", "oldest", "price", "-price",
                                                       "name", "-name"};

void cat_query_init(struct cat_query *q)
{
    memset(q, 0, sizeof *q);
    struct cat_range none = {-1, -1};
    q->price = q->lens_width = q->bridge = q->temple = q->lens_height = none;
    q->in_stock = -1;
    q->sort = CAT_SORT_NEWEST;
    q->limit = CAT_DEFAULT_LIMIT;
}

/* ---- small parsers ----------------------------------------------------------- */

static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        if (len == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0)))
            return false; /* overlong, surrogates */
        if (len == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90)))
            return false;
        i += len;
    }
    return true;
}

/* A decimal integer in [min, max], digits only (no sign, spaces or junk). */
static bool parse_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool token_ok(const char *s, size_t n)
{
    if (!n || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* Parses a comma list of names with `parse` into a bitmask. */
static bool parse_set(const char *s, size_t n, int (*parse)(const char *), unsigned *mask)
{
    *mask = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        char name[24];
        if (j == i || j - i >= sizeof name)
            return false;
        memcpy(name, s + i, j - i);
        name[j - i] = '\0';
        int v = parse(name);
        if (v < 0)
            return false;
        *mask |= 1u << v;
        i = j + 1;
    }
    return true;
}

/* ---- cursor ------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url(const unsigned char *in, size_t n)
{
    char *out = ff_malloc(n / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decodes unpadded base64url; false on any other character or length. */
static bool unb64url(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outn)
{
    if (n % 4 == 1 || n / 4 * 3 + 3 > cap)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        size_t k = n - i < 4 ? n - i : 4;
        for (size_t j = 0; j < 4; j++) {
            int d = j < k ? b64val(s[i + j]) : 0;
            if (d < 0)
                return false;
            v = v << 6 | (uint32_t)d;
        }
        out[o++] = (unsigned char)(v >> 16);
        if (k > 2)
            out[o++] = (unsigned char)(v >> 8);
        if (k > 3)
            out[o++] = (unsigned char)v;
    }
    *outn = o;
    return true;
}

/* A check on the payload, so truncated or edited cursors are refused. */
static uint32_t cursor_check(const unsigned char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

char *cat_cursor_encode(enum cat_sort sort, int64_t id, int64_t num, const char *text)
{
    char raw[300];
    int n = snprintf(raw, sizeof raw, "c1|%d|%" PRId64 "|%" PRId64 "|%.200s", (int)sort, id,
                     num, text ? text : "");
    if (n < 0 || (size_t)n + 4 >= sizeof raw)
        return NULL;
    uint32_t h = cursor_check((const unsigned char *)raw, (size_t)n);
    for (int i = 0; i < 4; i++)
        raw[n + i] = (char)(h >> (24 - 8 * i));
    return b64url((const unsigned char *)raw, (size_t)n + 4);
}

enum ff_err cat_cursor_decode(const char *s, size_t len, struct cat_query *q)
{
    unsigned char raw[320];
    size_t n;
    if (len > 400 || !unb64url(s, len, raw, sizeof raw - 1, &n))
        return FF_EINVAL;
    if (n < 7)
        return FF_EINVAL;
    n -= 4;
    uint32_t h = cursor_check(raw, n);
    for (int i = 0; i < 4; i++)
        if (raw[n + i] != (unsigned char)(h >> (24 - 8 * i)))
            return FF_EINVAL;
    raw[n] = '\0';
    if (memchr(raw, '\0', n) || n < 3 || memcmp(raw, "c1|", 3))
        return FF_EINVAL;
    /* c1|SORT|ID|NUM|TEXT */
    const char *f[4];
    size_t fl[4];
    const char *p = (const char *)raw + 3, *end = (const char *)raw + n;
    for (int i = 0; i < 3; i++) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        if (!bar)
            return FF_EINVAL;
        f[i] = p;
        fl[i] = (size_t)(bar - p);
        p = bar + 1;
    }
    f[3] = p;
    fl[3] = (size_t)(end - p);
    int64_t sort, id, num;
    bool neg = fl[2] > 0 && f[2][0] == '-';
    if (!parse_int(f[0], fl[0], 0, CAT_SORT_COUNT - 1, &sort) || sort != (int64_t)q->sort ||
        !parse_int(f[1], fl[1], 1, INT64_MAX / 10, &id) ||
        !parse_int(f[2] + neg, fl[2] - neg, 0, INT64_MAX / 10, &num) || fl[3] > 200 ||
        !utf8_ok((const unsigned char *)f[3], fl[3]))
        return FF_EINVAL;
    q->has_after = true;
    q->after_id = id;
    q->after_num = neg ? -num : num;
    memcpy(q->after_text, f[3], fl[3]);
    q->after_text[fl[3]] = '\0';
    return FF_OK;
}

/* ---- parameters --------------------------------------------------------------- */

struct range_param {
    const char *key;
    size_t off; /* of the struct cat_range in struct cat_query */
    bool is_max;
    int64_t max;
};

static const struct range_param ranges[] = {
    {"price_min", offsetof(struct cat_query, price), false, CAT_MAX_PRICE_CENTS},
    {"price_max", offsetof(struct cat_query, price), true, CAT_MAX_PRICE_CENTS},
    {"lens_width_min", offsetof(struct cat_query, lens_width), false, 200},
    {"lens_width_max", offsetof(struct cat_query, lens_width), true, 200},
    {"bridge_min", offsetof(struct cat_query, bridge), false, 200},
    {"bridge_max", offsetof(struct cat_query, bridge), true, 200},
    {"temple_min", offsetof(struct cat_query, temple), false, 300},
    {"temple_max", offsetof(struct cat_query, temple), true, 300},
    {"lens_height_min", offsetof(struct cat_query, lens_height), false, 200},
    {"lens_height_max", offsetof(struct cat_query, lens_height), true, 200},
};

static const char *const simple_keys[] = {"q", "shape", "face_shape", "material", "colour",
                                          "in_stock", "sort", "limit", "cursor", "offset"};
#define NKEYS (sizeof simple_keys / sizeof simple_keys[0] + sizeof ranges / sizeof ranges[0])

static int key_index(const char *k, size_t n)
{
    for (size_t i = 0; i < sizeof simple_keys / sizeof simple_keys[0]; i++)
        if (strlen(simple_keys[i]) == n && !memcmp(k, simple_keys[i], n))
            return (int)i;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (strlen(ranges[i].key) == n && !memcmp(k, ranges[i].key, n))
            return (int)(sizeof simple_keys / sizeof simple_keys[0] + i);
    return -1;
}

static int parse_sort(const char *s, size_t n)
{
    for (int i = 0; i < CAT_SORT_COUNT; i++)
        if (strlen(sort_names[i]) == n && !memcmp(s, sort_names[i], n))
            return i;
    return -1;
}

/* One simple (non-range) parameter; the cursor is decoded after sort. */
static void parse_simple(const char *key, const struct cat_kv *e, struct cat_query *q,
                         json_t *errs)
{
    const char *v = e->val;
    size_t n = e->val_len;
    int64_t num;
    if (!strcmp(key, "q")) {
        if (n >= sizeof q->q)
            cat__add_error(errs, key, "must be at most %zu bytes long", sizeof q->q - 1);
        else if (!utf8_ok((const unsigned char *)v, n) || memchr(v, '\0', n))
            cat__add_error(errs, key, "must be valid UTF-8 text");
        else
            memcpy(q->q, v, n), q->q[n] = '\0';
    } else if (!strcmp(key, "shape")) {
        if (!parse_set(v, n, cat_shape_parse, &q->shapes))
            cat__add_error(errs, key, "must be a comma list of rectangle, square, round, oval,"
                                      " cat-eye, aviator, browline, geometric, wayfarer");
    } else if (!strcmp(key, "face_shape")) {
        if (!parse_set(v, n, cat_face_parse, &q->faces))
            cat__add_error(errs, key, "must be a comma list of oval, round, square, oblong,"
                                      " heart, diamond, triangle");
    } else if (!strcmp(key, "material") || !strcmp(key, "colour")) {
        char *dst = key[0] == 'm' ? q->material : q->colour;
        if (n >= sizeof q->material || !token_ok(v, n))
            cat__add_error(errs, key, "must be 1 to 40 lower-case letters, digits and '-'");
        else
            memcpy(dst, v, n), dst[n] = '\0';
    } else if (!strcmp(key, "in_stock")) {
        if (n == 4 && !memcmp(v, "true", 4))
            q->in_stock = 1;
        else if (n == 5 && !memcmp(v, "false", 5))
            q->in_stock = 0;
        else
            cat__add_error(errs, key, "must be true or false");
    } else if (!strcmp(key, "sort")) {
        int s = parse_sort(v, n);
        if (s < 0)
            cat__add_error(errs, key, "must be one of newest, oldest, price, -price, name, -name");
        else
            q->sort = (enum cat_sort)s;
    } else if (!strcmp(key, "offset")) {
        if (!parse_int(v, n, 0, CAT_MAX_OFFSET, &num))
            cat__add_error(errs, key, "must be an integer from 0 to %d", CAT_MAX_OFFSET);
        else
            q->offset = (int)num;
    } else if (!strcmp(key, "limit")) {
        if (!parse_int(v, n, 1, CAT_MAX_LIMIT, &num))
            cat__add_error(errs, key, "must be an integer from 1 to %d", CAT_MAX_LIMIT);
        else
            q->limit = (int)num;
    }
}

enum ff_err cat_query_parse(const struct cat_kv *kv, size_t n, struct cat_query *q,
                            json_t **errors)
{
    cat_query_init(q);
    *errors = NULL;
    json_t *errs = json_array();
    if (!errs)
        return FF_ENOMEM;
    bool seen[NKEYS] = {0};
    const struct cat_kv *cursor = NULL;
    if (n > 64) {
        cat__add_error(errs, "", "too many query parameters");
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cat_kv *e = &kv[i];
        int k = key_index(e->key, e->key_len);
        char name[40];
        snprintf(name, sizeof name, "%.*s", (int)(e->key_len < 32 ? e->key_len : 32), e->key);
        for (char *c = name; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        if (k < 0) {
            cat__add_error(errs, name, "is not a known parameter");
            continue;
        }
        if (seen[k]) {
            cat__add_error(errs, name, "must not be repeated");
            continue;
        }
        if (e->val_len == 0) { /* an empty form field: as if absent */
            seen[k] = true;
            continue;
        }
        seen[k] = true;
        int nsimple = (int)(sizeof simple_keys / sizeof simple_keys[0]);
        if (k >= nsimple) {
            const struct range_param *r = &ranges[k - nsimple];
            struct cat_range *dst = (struct cat_range *)((char *)q + r->off);
            int64_t v;
            if (!parse_int(e->val, e->val_len, 0, r->max, &v))
                cat__add_error(errs, name, "must be an integer from 0 to %" PRId64, r->max);
            else if (r->is_max)
                dst->max = v;
            else
                dst->min = v;
        } else if (!strcmp(simple_keys[k], "cursor")) {
            cursor = e;
        } else {
            parse_simple(simple_keys[k], e, q, errs);
        }
    }
    if (cursor && cat_cursor_decode(cursor->val, cursor->val_len, q) != FF_OK)
        cat__add_error(errs, "cursor", "is not a cursor this list gave out (for this sort)");
    if (q->has_after && q->offset)
        cat__add_error(errs, "offset", "cannot be combined with cursor");
    const struct range_param *rp = ranges;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i += 2, rp += 2) {
        const struct cat_range *r = (const struct cat_range *)((const char *)q + rp->off);
        if (r->min >= 0 && r->max >= 0 && r->min > r->max)
            cat__add_error(errs, rp[1].key, "must not be below %s", rp->key);
    }
    if (json_array_size(errs)) {
        *errors = errs;
        return FF_EINVAL;
    }
    json_decref(errs);
    return FF_OK;
}

/* ---- SQL assembly ---------------------------------------------------------------- */

struct sqlb {
    char sql[3072];
    size_t n;
    struct db_param p[DB_MAX_PARAMS];
    int np;
    bool overflow;
};

static void add(struct sqlb *b, const char *frag)
{
    size_t k = strlen(frag);
    if (b->n + k + 1 > sizeof b->sql) {
        b->overflow = true;
        return;
    }
    memcpy(b->sql + b->n, frag, k + 1);
    b->n += k;
}

/* Appends "$N" for a new parameter; returns N. */
static int param(struct sqlb *b, struct db_param v)
{
    if (b->np >= DB_MAX_PARAMS) {
        b->overflow = true;
        return 1;
    }
    b->p[b->np++] = v;
    char ph[16];
    snprintf(ph, sizeof ph, "$%d", b->np);
    add(b, ph);
    return b->np;
}

static void ref(struct sqlb *b, int n)
{
    char ph[16];
    snprintf(ph, sizeof ph, "$%d", n);
    add(b, ph);
}

static void add_range(struct sqlb *b, const char *col, struct cat_range r)
{
    if (r.min >= 0) {
        add(b, " AND p.");
        add(b, col);
        add(b, " >= ");
        param(b, DB_I64(r.min));
    }
    if (r.max >= 0) {
        add(b, " AND p.");
        add(b, col);
        add(b, " <= ");
        param(b, DB_I64(r.max));
    }
}

/* Words of q (letters, digits, any non-ASCII byte) as an FTS5 or tsquery
 * prefix query: "w1"* "w2"*  /  w1:* & w2:*. Returns false when no word. */
static bool search_terms(const char *q, bool pg, char *out, size_t cap)
{
    size_t o = 0, words = 0;
    out[0] = '\0';
    for (const char *s = q; *s && words < 8;) {
        while (*s && !(((unsigned char)*s >= 0x80) || (*s >= '0' && *s <= '9') ||
                       ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')))
            s++;
        const char *w = s;
        while (*s && (((unsigned char)*s >= 0x80) || (*s >= '0' && *s <= '9') ||
                      ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')))
            s++;
        size_t len = (size_t)(s - w);
        if (!len)
            continue;
        if (len > 40)
            len = 40;
        int k = snprintf(out + o, cap - o, pg ? "%s%.*s:*" : "%s\"%.*s\"*",
                         words ? (pg ? " & " : " ") : "", (int)len, w);
        if (k < 0 || (size_t)k >= cap - o)
            break;
        o += (size_t)k;
        words++;
    }
    return words > 0;
}

static const char *const sort_cols[CAT_SORT_COUNT] = {
    "p.created_at", "p.created_at", "p.price_cents", "p.price_cents", "p.name", "p.name"};
static const bool sort_desc[CAT_SORT_COUNT] = {true, false, false, true, false, true};

/* fuzzy (PostgreSQL only): match q by trigram word similarity instead of
 * the tsquery -- the retry when the words match nothing (typos). */
static void build_list(struct sqlb *b, const struct cat_query *q, bool pg, bool fuzzy,
                       char *terms, size_t tcap)
{
    add(b, "SELECT p.id, p.slug, p.name, p.brand, p.shape, p.material, p.colour,"
           " p.lens_width_mm, p.bridge_mm, p.temple_mm, p.lens_height_mm, p.suits,"
           " p.price_cents, p.currency, p.in_stock, p.created_at, p.image_url"
           " FROM products p WHERE p.deleted_at IS NULL");
    if (q->q[0] && search_terms(q->q, pg, terms, tcap)) {
        if (pg && fuzzy) {
            add(b, " AND ");
            param(b, DB_TEXT(q->q));
            add(b, " <% (p.name || ' ' || p.brand)");
        } else if (pg) {
            /* coalesce() keeps the planner on the list-order index, testing
             * the tsvector per row: a GIN prefix scan plus sort costs far
             * more for the broad words shoppers type */
            add(b, " AND coalesce(p.search, ''::tsvector) @@ to_tsquery('simple', ");
            param(b, DB_TEXT(terms));
            add(b, ")");
        } else {
            /* "+p.id": walk the list order and probe the matches, stopping
             * after a page, instead of sorting every match */
            add(b, " AND +p.id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ");
            param(b, DB_TEXT(terms));
            add(b, ")");
        }
    } else if (q->q[0]) {
        add(b, " AND 1 = 0"); /* nothing searchable in q: no match */
    }
    if (q->shapes) {
        add(b, " AND p.shape IN (");
        bool first = true;
        for (int i = 0; i < CAT_SHAPE_COUNT; i++) {
            if (!(q->shapes & (1u << i)))
                continue;
            add(b, first ? "" : ", ");
            param(b, DB_TEXT(cat_shape_name(i)));
            first = false;
        }
        add(b, ")");
    }
    if (q->faces) {
        add(b, " AND (p.suits & ");
        param(b, DB_I64(q->faces));
        add(b, ") <> 0");
    }
    if (q->material[0]) {
        add(b, " AND p.material = ");
        param(b, DB_TEXT(q->material));
    }
    if (q->colour[0]) {
        add(b, " AND (p.colour = ");
        int c = param(b, DB_TEXT(q->colour));
        add(b, " OR EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id"
               " AND v.colour = ");
        ref(b, c);
        add(b, "))");
    }
    if (q->in_stock >= 0)
        add(b, q->in_stock ? " AND p.in_stock <> 0" : " AND p.in_stock = 0");
    add_range(b, "price_cents", q->price);
    add_range(b, "lens_width_mm", q->lens_width);
    add_range(b, "bridge_mm", q->bridge);
    add_range(b, "temple_mm", q->temple);
    add_range(b, "lens_height_mm", q->lens_height);
    const char *col = sort_cols[q->sort];
    bool desc = sort_desc[q->sort];
    if (q->has_after) {
        add(b, " AND (");
        add(b, col);
        add(b, ", p.id) ");
        add(b, desc ? "< (" : "> (");
        if (q->sort == CAT_SORT_NAME || q->sort == CAT_SORT_NAME_DESC)
            param(b, DB_TEXT(q->after_text));
        else
            param(b, DB_I64(q->after_num));
        add(b, ", ");
        param(b, DB_I64(q->after_id));
        add(b, ")");
    }
    add(b, " ORDER BY ");
    add(b, col);
    add(b, desc ? " DESC, p.id DESC LIMIT " : ", p.id LIMIT ");
    param(b, DB_I64(q->limit + 1));
    if (q->offset) {
        add(b, " OFFSET ");
        param(b, DB_I64(q->offset));
    }
}

/* The cursor continuing after the current row. */
static char *row_cursor(const struct db_rows *r, enum cat_sort sort)
{
    int64_t num = 0;
    const char *text = "";
    if (sort == CAT_SORT_NAME || sort == CAT_SORT_NAME_DESC)
        text = db_col_text(r, 2, NULL);
    else if (sort == CAT_SORT_PRICE || sort == CAT_SORT_PRICE_DESC)
        num = db_col_i64(r, 12);
    else
        num = db_col_i64(r, 15);
    return cat_cursor_encode(sort, db_col_i64(r, 0), num, text);
}

enum ff_err cat_list_text(struct db *db, const struct cat_query *q, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    struct sqlb *b = ff_calloc(1, sizeof *b);
    char terms[512];
    if (!b)
        return FF_ENOMEM;
    bool pg = db_dialect(db) == DB_PG;
    build_list(b, q, pg, false, terms, sizeof terms);
    if (b->overflow) {
        ff_free(b);
        return FF_EINTERNAL;
    }
    struct ff_buf buf;
    ff_buf_init(&buf, 8u << 20);
    struct cat_jw w = {&buf, FF_OK};
    char *next = NULL;
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    int count = 0;
    cat__jw_lit(&w, "{\"items\":[");
    enum ff_err err = db_acquire(db, &c);
    if (!err)
        err = db_query(c, b->sql, b->p, b->np, &r);
    bool current = false; /* a row was fetched and not yet written */
    /* typo tolerance for plain searches: with attribute filters an empty
     * result means "no such combination" more often than a typo, and the
     * trigram pass costs milliseconds */
    bool plain = !q->shapes && !q->faces && !q->material[0] && !q->colour[0];
    if (!err && pg && q->q[0] && plain) {
        err = db_next(r, &has);
        if (!err && !has) { /* words that match nothing: again, tolerating typos */
            db_rows_free(r);
            r = NULL;
            memset(b, 0, sizeof *b);
            build_list(b, q, pg, true, terms, sizeof terms);
            err = b->overflow ? FF_EINTERNAL : db_query(c, b->sql, b->p, b->np, &r);
        } else {
            current = !err;
        }
    }
    while (!err) {
        if (!current && ((err = db_next(r, &has)) || !has))
            break;
        current = false;
        if (count == q->limit) /* one more than asked: there is a next page */
            break;
        if (count)
            cat__jw_raw(&w, ",", 1);
        cat__summary_text(&w, r);
        if (++count == q->limit) {
            ff_free(next);
            next = row_cursor(r, q->sort);
        }
    }
    if (!err && !has) { /* no row beyond the page */
        ff_free(next);
        next = NULL;
    }
    db_rows_free(r);
    db_release(c);
    cat__jw_lit(&w, "],\"next_cursor\":");
    cat__jw_cstr(&w, next);
    cat__jw_raw(&w, "}", 1);
    if (!err)
        err = w.err;
    if (!err)
        *out = ff_buf_steal(&buf, len);
    ff_buf_release(&buf);
    ff_free(next);
    ff_free(b);
    return err;
}
