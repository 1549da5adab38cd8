/* router.c - a flat table scanned segment by segment (tens of routes). */
#include "http/router.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"

struct seg {
    const char *s; /* literal text or the parameter name */
    size_t n;
    int is_param;
};

struct route_int {
    struct http_route pub;
    struct seg segs[HTTP_MAX_SEGMENTS];
    size_t nsegs;
};

struct http_router {
    struct route_int **routes;
    size_t n, cap;
};

struct http_router *http_router_new(void) { return ff_calloc(1, sizeof(struct http_router)); }

void http_router_free(struct http_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        ff_free((char *)r->routes[i]->pub.pattern);
        ff_free(r->routes[i]);
    }
    ff_free(r->routes);
    ff_free(r);
}

static int name_ok(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int literal_ok(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '{' || c == '}' || c == '%' || c == '?' || c == '#')
            return 0;
    }
    return 1;
}

/* Splits a pattern in place (segments point into `pat`). */
static enum ff_err split_pattern(const char *pat, struct route_int *ri)
{
    if (pat[0] != '/')
        return FF_EINVAL;
    ri->nsegs = 0;
    if (!strcmp(pat, "/"))
        return FF_OK;
    const char *p = pat + 1;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (ri->nsegs == HTTP_MAX_SEGMENTS)
            return FF_EINVAL;
        struct seg *s = &ri->segs[ri->nsegs++];
        if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
            if (!name_ok(p + 1, n - 2))
                return FF_EINVAL;
            *s = (struct seg){p + 1, n - 2, 1};
        } else {
            if (!literal_ok(p, n))
                return FF_EINVAL;
            *s = (struct seg){p, n, 0};
        }
        if (!e)
            break;
        p = e + 1;
    }
    size_t np = 0;
    for (size_t i = 0; i < ri->nsegs; i++)
        np += (size_t)ri->segs[i].is_param;
    return np > HTTP_MAX_PARAMS ? FF_EINVAL : FF_OK;
}

static int same_shape(const struct route_int *a, const struct route_int *b)
{
    if (a->nsegs != b->nsegs)
        return 0;
    for (size_t i = 0; i < a->nsegs; i++) {
        if (a->segs[i].is_param != b->segs[i].is_param)
            return 0;
        if (!a->segs[i].is_param &&
            (a->segs[i].n != b->segs[i].n || memcmp(a->segs[i].s, b->segs[i].s, a->segs[i].n)))
            return 0;
    }
    return 1;
}

enum ff_err http_route_add(struct http_router *r, unsigned methods, const char *pattern,
                           http_handler_fn fn, void *ud, unsigned flags)
{
    if (!methods || !fn || !pattern || (methods & ~0x7fu))
        return FF_EINVAL;
    if (methods & HTTP_GET)
        methods |= HTTP_HEAD;
    struct route_int *ri = ff_calloc(1, sizeof *ri);
    char *pat = ff_strdup(pattern);
    if (!ri || !pat) {
        ff_free(ri);
        ff_free(pat);
        return FF_ENOMEM;
    }
    enum ff_err e = split_pattern(pat, ri);
    for (size_t i = 0; !e && i < r->n; i++)
        if (same_shape(ri, r->routes[i]) && (r->routes[i]->pub.methods & methods))
            e = FF_ECONFLICT;
    if (!e && r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct route_int **nr = ff_realloc(r->routes, cap * sizeof *nr);
        if (!nr)
            e = FF_ENOMEM;
        else {
            r->routes = nr;
            r->cap = cap;
        }
    }
    if (e) {
        ff_free(ri);
        ff_free(pat);
        return e;
    }
    ri->pub = (struct http_route){methods, pat, fn, ud, flags, r->n, 0};
    r->routes[r->n++] = ri;
    return FF_OK;
}

enum ff_err http_route_set_max_body(struct http_router *r, unsigned methods, const char *pattern,
                                    size_t max_body)
{
    enum ff_err e = FF_ENOTFOUND;
    for (size_t i = 0; i < r->n; i++)
        if ((r->routes[i]->pub.methods & methods) && !strcmp(r->routes[i]->pub.pattern, pattern)) {
            r->routes[i]->pub.max_body = max_body;
            e = FF_OK;
        }
    return e;
}

size_t http_router_max_body(const struct http_router *r)
{
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->routes[i]->pub.max_body > m)
            m = r->routes[i]->pub.max_body;
    return m;
}

/* Bit i (from the top) set when segment i is literal: more literal-first wins. */
static uint64_t specificity(const struct route_int *ri)
{
    uint64_t s = 0;
    for (size_t i = 0; i < ri->nsegs; i++)
        if (!ri->segs[i].is_param)
            s |= (uint64_t)1 << (63 - i);
    return s;
}

enum ff_err http_router_match(const struct http_router *r, enum http_method method,
                              const char *path, size_t len, struct ff_arena *arena,
                              struct http_match *m)
{
    struct ff_str segs[HTTP_MAX_SEGMENTS];
    size_t nsegs = 0;
    m->route = NULL;
    m->allowed = 0;
    m->nparams = 0;
    if (!len || path[0] != '/')
        return FF_ENOTFOUND;
    if (len > 1) {
        size_t start = 1;
        for (size_t i = 1; i <= len; i++) {
            if (i == len || path[i] == '/') {
                if (nsegs == HTTP_MAX_SEGMENTS || i == start)
                    return FF_ENOTFOUND; /* too deep, or an empty segment */
                segs[nsegs++] = (struct ff_str){path + start, i - start};
                start = i + 1;
            }
        }
    }
    const struct route_int *best = NULL;
    uint64_t best_spec = 0;
    for (size_t k = 0; k < r->n; k++) {
        const struct route_int *ri = r->routes[k];
        if (ri->nsegs != nsegs)
            continue;
        size_t i = 0;
        for (; i < nsegs; i++)
            if (!ri->segs[i].is_param &&
                (ri->segs[i].n != segs[i].len || memcmp(ri->segs[i].s, segs[i].ptr, segs[i].len)))
                break;
        if (i < nsegs)
            continue;
        m->allowed |= ri->pub.methods;
        if (!(ri->pub.methods & method))
            continue;
        uint64_t sp = specificity(ri);
        if (!best || sp > best_spec) {
            best = ri;
            best_spec = sp;
        }
    }
    if (!best)
        return FF_ENOTFOUND;
    for (size_t i = 0; i < nsegs; i++) {
        if (!best->segs[i].is_param)
            continue;
        char *v = ff_arena_alloc(arena, segs[i].len + 1);
        char *name = ff_arena_strndup(arena, best->segs[i].s, best->segs[i].n);
        if (!v || !name)
            return FF_ENOMEM;
        size_t vn;
        if (ff_url_decode(segs[i].ptr, segs[i].len, v, &vn, false))
            return FF_EINVAL;
        v[vn] = '\0';
        m->params[m->nparams++] = (struct http_kv){name, v};
    }
    m->route = &best->pub;
    return FF_OK;
}

size_t http_router_count(const struct http_router *r) { return r->n; }

enum ff_err http_router_wrap(struct http_router *r, unsigned flags,
                             enum ff_err (*wrap)(void *arg, http_handler_fn *fn, void **ud),
                             void *arg)
{
    for (size_t i = 0; i < r->n; i++) {
        struct http_route *rt = &r->routes[i]->pub;
        if ((rt->flags & flags) != flags)
            continue;
        enum ff_err e = wrap(arg, &rt->fn, &rt->ud);
        if (e)
            return e;
    }
    return FF_OK;
}

const struct http_route *http_router_at(const struct http_router *r, size_t i)
{
    return i < r->n ? &r->routes[i]->pub : NULL;
}

void http_methods_format(unsigned methods, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < 7; i++) {
        if (!(methods & (1u << i)))
            continue;
        const char *n = http_method_name((enum http_method)(1u << i));
        int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", n);
        if (w < 0 || (size_t)w >= len - o)
            break;
        o += (size_t)w;
    }
}
