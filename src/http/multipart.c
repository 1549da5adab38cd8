/* multipart.c - strict multipart/form-data parsing (see multipart.h). */
#include "http/multipart.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 2046 bcharsnospace (and space inside). */
static bool is_bchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("'()+_,-./:=? ", c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads a token or quoted-string value at *pp into out (cap bytes with NUL).
 * Returns the length or -1 (malformed or too long). */
static long param_value(const char **pp, char *out, size_t cap)
{
    const char *p = *pp;
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            if (!*p || *p == '\r' || *p == '\n')
                return -1;
            if (*p == '\\' && p[1] && p[1] != '\r' && p[1] != '\n')
                p++;
            if (n + 1 >= cap)
                return -1;
            out[n++] = *p;
        }
        p++;
    } else {
        for (; is_tchar(*p); p++) {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    *pp = p;
    return (long)n;
}

/* Iterates "; name=value" parameters after a media type or disposition type.
 * Calls fn for each; returns false when malformed or fn refuses. */
typedef bool (*param_fn)(void *ud, const char *name, size_t nlen, const char *val, size_t vlen);

static bool each_param(const char *p, param_fn fn, void *ud, size_t cap)
{
    char val[HTTP_MP_MAX_HEADER_LINE + 1];
    if (cap > sizeof val)
        cap = sizeof val;
    for (;;) {
        p = skip_ws(p);
        if (!*p)
            return true;
        if (*p != ';')
            return false;
        p = skip_ws(p + 1);
        if (!*p)
            return true; /* a trailing ';' is tolerated */
        const char *name = p;
        while (is_tchar(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        p = skip_ws(p);
        if (!nlen || *p != '=')
            return false;
        p = skip_ws(p + 1);
        long vlen = param_value(&p, val, cap);
        if (vlen < 0 || !fn(ud, name, nlen, val, (size_t)vlen))
            return false;
    }
}

/* Matches the media type at the start of ct (case-insensitive); returns the
 * rest (parameters) or NULL. */
static const char *media_type(const char *ct, const char *want)
{
    if (!ct)
        return NULL;
    ct = skip_ws(ct);
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n))
        return NULL;
    const char *p = skip_ws(ct + n);
    return *p == ';' || !*p ? p : NULL;
}

int http_multipart_is_form(const char *content_type)
{
    return media_type(content_type, "multipart/form-data") != NULL;
}

struct bparam {
    char *out;
    int found;
    bool bad;
};

static bool on_ct_param(void *ud, const char *name, size_t nlen, const char *val, size_t vlen)
{
    struct bparam *b = ud;
    if (nlen != 8 || strncasecmp(name, "boundary", 8))
        return true;
    if (b->found++ || !vlen || vlen > HTTP_MP_MAX_BOUNDARY || val[vlen - 1] == ' ') {
        b->bad = true;
        return false;
    }
    for (size_t i = 0; i < vlen; i++)
        if (!is_bchar(val[i])) {
            b->bad = true;
            return false;
        }
    memcpy(b->out, val, vlen + 1);
    return true;
}

enum ff_err http_multipart_boundary(const char *content_type, char out[HTTP_MP_MAX_BOUNDARY + 1])
{
    const char *params = content_type ? skip_ws(content_type) : NULL;
    if (params && !strncasecmp(params, "multipart/", 10)) {
        params += 10;
        while (is_tchar(*params))
            params++;
    } else {
        return FF_EINVAL;
    }
    struct bparam b = {out, 0, false};
    out[0] = '\0';
    if (!each_param(params, on_ct_param, &b, HTTP_MP_MAX_BOUNDARY + 2) || b.bad || !b.found)
        return FF_EINVAL;
    return FF_OK;
}

/* ---- parts ------------------------------------------------------------------ */

struct dparam {
    struct ff_arena *a;
    const char *name, *filename;
    bool dup;
};

static bool on_disp_param(void *ud, const char *name, size_t nlen, const char *val, size_t vlen)
{
    struct dparam *d = ud;
    const char **slot = NULL;
    if (nlen == 4 && !strncasecmp(name, "name", 4))
        slot = &d->name;
    else if (nlen == 8 && !strncasecmp(name, "filename", 8))
        slot = &d->filename;
    else
        return true; /* filename* and others: ignored */
    if (*slot) {
        d->dup = true;
        return false;
    }
    if (!ff_utf8_valid(val, vlen))
        return false;
    *slot = ff_arena_strndup(d->a, val, vlen);
    return *slot != NULL;
}

/* Parses one header line (no CRLF, NUL-terminated) into the part. */
static enum ff_err part_header(const char *line, struct http_part *pt, struct ff_arena *a,
                               bool *has_disp, char *err, size_t errlen)
{
    const char *colon = line;
    while (is_tchar(*colon))
        colon++;
    if (colon == line || *colon != ':') {
        ff_errbuf(err, errlen, "malformed header line in a part");
        return FF_EINVAL;
    }
    size_t nlen = (size_t)(colon - line);
    const char *v = skip_ws(colon + 1);
    if (nlen == 19 && !strncasecmp(line, "Content-Disposition", 19)) {
        if (*has_disp) {
            ff_errbuf(err, errlen, "a part has two Content-Disposition headers");
            return FF_EINVAL;
        }
        *has_disp = true;
        if (strncasecmp(v, "form-data", 9) || (v[9] && v[9] != ';' && v[9] != ' ' &&
                                              v[9] != '\t')) {
            ff_errbuf(err, errlen, "a part's Content-Disposition is not form-data");
            return FF_EINVAL;
        }
        struct dparam d = {a, NULL, NULL, false};
        if (!each_param(v + 9, on_disp_param, &d, HTTP_MP_MAX_HEADER_LINE)) {
            ff_errbuf(err, errlen, d.dup ? "a part's Content-Disposition repeats a parameter"
                                         : "malformed Content-Disposition in a part");
            return FF_EINVAL;
        }
        pt->name = d.name;
        pt->filename = d.filename;
        return FF_OK;
    }
    if (nlen == 12 && !strncasecmp(line, "Content-Type", 12)) {
        if (pt->content_type) {
            ff_errbuf(err, errlen, "a part has two Content-Type headers");
            return FF_EINVAL;
        }
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        pt->content_type = ff_arena_strndup(a, v, vl);
        return pt->content_type ? FF_OK : FF_ENOMEM;
    }
    return FF_OK; /* other headers (Content-Transfer-Encoding...) are ignored */
}

/* Reads the header block at body[*pos..len) up to and including the empty
 * line. */
static enum ff_err part_headers(const char *body, size_t len, size_t *pos, struct http_part *pt,
                                struct ff_arena *a, char *err, size_t errlen)
{
    bool has_disp = false;
    for (int lines = 0;; lines++) {
        size_t start = *pos, i = start;
        while (i < len && body[i] != '\r' && body[i] != '\n' && body[i] != '\0' &&
               i - start <= HTTP_MP_MAX_HEADER_LINE)
            i++;
        if (i >= len) {
            ff_errbuf(err, errlen, "the body ends inside a part's headers");
            return FF_EINVAL;
        }
        if (i - start > HTTP_MP_MAX_HEADER_LINE) {
            ff_errbuf(err, errlen, "a part's header line is longer than %d bytes",
                      HTTP_MP_MAX_HEADER_LINE);
            return FF_EINVAL;
        }
        if (body[i] != '\r' || i + 1 >= len || body[i + 1] != '\n') {
            ff_errbuf(err, errlen, "a part's header line has a bare CR, LF or NUL");
            return FF_EINVAL;
        }
        *pos = i + 2;
        if (i == start)
            break; /* the empty line */
        if (lines >= HTTP_MP_MAX_HEADERS) {
            ff_errbuf(err, errlen, "a part has more than %d header lines", HTTP_MP_MAX_HEADERS);
            return FF_EINVAL;
        }
        if (body[start] == ' ' || body[start] == '\t') {
            ff_errbuf(err, errlen, "folded header lines are not allowed in parts");
            return FF_EINVAL;
        }
        char line[HTTP_MP_MAX_HEADER_LINE + 1];
        memcpy(line, body + start, i - start);
        line[i - start] = '\0';
        enum ff_err e = part_header(line, pt, a, &has_disp, err, errlen);
        if (e)
            return e;
    }
    if (!has_disp || !pt->name || !pt->name[0]) {
        ff_errbuf(err, errlen, "a part has no form field name (Content-Disposition: form-data; "
                               "name=\"...\")");
        return FF_EINVAL;
    }
    return FF_OK;
}

/* After a delimiter at *pos: "--" (close: returns 1), or transport padding and
 * CRLF (another part: returns 0); -1 when malformed. */
static int after_delimiter(const char *body, size_t len, size_t *pos)
{
    size_t p = *pos;
    if (p + 2 <= len && body[p] == '-' && body[p + 1] == '-') {
        *pos = p + 2;
        return 1;
    }
    while (p < len && (body[p] == ' ' || body[p] == '\t'))
        p++;
    if (p + 2 > len || body[p] != '\r' || body[p + 1] != '\n')
        return -1;
    *pos = p + 2;
    return 0;
}

enum ff_err http_multipart_parse(const char *content_type, const char *body, size_t len,
                                 struct ff_arena *arena, size_t max_parts,
                                 struct http_part **parts, size_t *nparts, char *err,
                                 size_t errlen)
{
    char bnd[HTTP_MP_MAX_BOUNDARY + 1];
    char delim[HTTP_MP_MAX_BOUNDARY + 5]; /* CRLF "--" boundary */
    *parts = NULL;
    *nparts = 0;
    if (!http_multipart_is_form(content_type)) {
        ff_errbuf(err, errlen, "the body is not multipart/form-data");
        return FF_EINVAL;
    }
    if (http_multipart_boundary(content_type, bnd)) {
        ff_errbuf(err, errlen, "the Content-Type has no valid boundary (1 to %d characters)",
                  HTTP_MP_MAX_BOUNDARY);
        return FF_EINVAL;
    }
    size_t blen = strlen(bnd), dlen = blen + 4, pos;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, bnd, blen);
    /* the first delimiter may start the body (no CRLF before it) */
    if (len >= dlen - 2 && !memcmp(body, delim + 2, dlen - 2)) {
        pos = dlen - 2;
    } else {
        const char *f = len ? memmem(body, len, delim, dlen) : NULL;
        if (!f) {
            ff_errbuf(err, errlen, "the body does not contain the boundary");
            return FF_EINVAL;
        }
        pos = (size_t)(f - body) + dlen;
    }
    size_t cap = 0, n = 0;
    struct http_part *v = NULL;
    for (;;) {
        int r = after_delimiter(body, len, &pos);
        if (r < 0) {
            ff_errbuf(err, errlen, "malformed boundary line");
            return FF_EINVAL;
        }
        if (r == 1)
            break; /* the epilogue after the close delimiter is ignored */
        if (n == max_parts) {
            ff_errbuf(err, errlen, "more than %zu parts", max_parts);
            return FF_ETOOBIG;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            if (nc > max_parts)
                nc = max_parts;
            struct http_part *nv = ff_arena_alloc(arena, nc * sizeof *nv);
            if (!nv)
                return FF_ENOMEM;
            if (n)
                memcpy(nv, v, n * sizeof *nv);
            v = nv;
            cap = nc;
        }
        struct http_part *pt = &v[n];
        memset(pt, 0, sizeof *pt);
        enum ff_err e = part_headers(body, len, &pos, pt, arena, err, errlen);
        if (e)
            return e;
        const char *f = pos < len ? memmem(body + pos, len - pos, delim, dlen) : NULL;
        if (!f) {
            ff_errbuf(err, errlen, "the body ends before the closing boundary (truncated?)");
            return FF_EINVAL;
        }
        pt->data = body + pos;
        pt->len = (size_t)(f - (body + pos));
        pos = (size_t)(f - body) + dlen;
        n++;
    }
    if (!n) {
        ff_errbuf(err, errlen, "the form has no parts");
        return FF_EINVAL;
    }
    *parts = v;
    *nparts = n;
    return FF_OK;
}

const struct http_part *http_multipart_find(const struct http_part *parts, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(parts[i].name, name))
            return &parts[i];
    return NULL;
}
