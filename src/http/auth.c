/* auth.c - the principal of a request and the access checks before handlers. */
#include "http/auth.h"

#include <string.h>
#include <strings.h>

#include "http/problem.h"
#include "http/router.h"

static const struct http_principal anonymous = {0};

static bool anon_id_ok(const char *s, size_t n)
{
    if (n < HTTP_ANON_ID_MIN || n > HTTP_ANON_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

bool http_anon_id_valid(const char *s)
{
    return s && anon_id_ok(s, strnlen(s, HTTP_ANON_ID_MAX + 1));
}

/* The anonymous shopper id of req (cookie first, then header), or NULL. */
static const char *anon_id_of(struct http_req *req)
{
    const char *a = http_cookie(req, "ff_anon");
    if (!http_anon_id_valid(a))
        a = http_header(req, "X-Anonymous-Id");
    return http_anon_id_valid(a) ? a : NULL;
}

const struct http_principal *http_principal(struct http_req *req)
{
    if (req->principal)
        return req->principal;
    /* anonymous: remember the shopper id once */
    struct http_principal *p = ff_arena_calloc(req->arena, 1, sizeof *p);
    if (!p)
        return &anonymous;
    p->anon_id = anon_id_of(req);
    req->principal = p;
    return p;
}

enum ff_err http_principal_set(struct http_req *req, const struct http_principal *p)
{
    struct http_principal *c = ff_arena_alloc(req->arena, sizeof *c);
    if (!c)
        return FF_ENOMEM;
    *c = *p;
    if (!c->anon_id) /* a signed-in shopper keeps this browser's anonymous id */
        c->anon_id = req->principal ? req->principal->anon_id : anon_id_of(req);
    req->principal = c;
    req->is_staff = c->role >= HTTP_ROLE_STAFF;
    return FF_OK;
}

const char *http_role_name(enum http_role r)
{
    switch (r) {
    case HTTP_ROLE_CUSTOMER: return "customer";
    case HTTP_ROLE_STAFF: return "staff";
    case HTTP_ROLE_ADMIN: return "admin";
    case HTTP_ROLE_NONE:
    default: return "none";
    }
}

enum http_role http_role_parse(const char *s)
{
    if (!s)
        return HTTP_ROLE_NONE;
    if (!strcmp(s, "customer"))
        return HTTP_ROLE_CUSTOMER;
    if (!strcmp(s, "staff"))
        return HTTP_ROLE_STAFF;
    if (!strcmp(s, "admin"))
        return HTTP_ROLE_ADMIN;
    return HTTP_ROLE_NONE;
}

const char *http_bearer(const struct http_req *req)
{
    const char *auth = http_header(req, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

/* Cookie: a=b; c=d (RFC 6265 5.4); several Cookie headers are joined. */
const char *http_cookie(struct http_req *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, "Cookie"))
            continue;
        const char *p = req->headers[i].value;
        while (*p) {
            while (*p == ' ' || *p == ';')
                p++;
            const char *eq = strchr(p, '=');
            const char *end = strchr(p, ';');
            if (!end)
                end = p + strlen(p);
            if (eq && eq < end && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
                const char *v = eq + 1;
                size_t vl = (size_t)(end - v);
                while (vl && v[vl - 1] == ' ')
                    vl--;
                if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
                    v++, vl -= 2;
                return ff_arena_strndup(req->arena, v, vl);
            }
            p = end;
        }
    }
    return NULL;
}

/* Constant time in the token's length and content. */
static bool token_eq(const char *given, const char *tok)
{
    size_t gl = strlen(given), tl = strlen(tok);
    unsigned char diff = (unsigned char)(gl != tl);
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned char)(tok[i] ^ (i < gl ? given[i] : 0));
    return !diff;
}

enum ff_err http_auth_run(struct http_req *req, struct http_resp *resp, unsigned route_flags,
                          const char *admin_token, http_auth_fn fn, void *ud)
{
    const char *bearer = http_bearer(req);
    enum ff_err e = FF_OK;
    if (admin_token && admin_token[0] && bearer && token_eq(bearer, admin_token)) {
        struct http_principal p = {.role = HTTP_ROLE_ADMIN, .break_glass = true};
        e = http_principal_set(req, &p);
    } else if (fn && !(route_flags & HTTP_ROUTE_INLINE)) {
        /* inline routes run on an I/O thread: the authenticator may block
         * (database, Redis), so they are served anonymously */
        e = fn(ud, req, resp, route_flags);
    }
    if (e)
        return e;
    const struct http_principal *p = http_principal(req);
    unsigned need = route_flags & (HTTP_ROUTE_AUTH | HTTP_ROUTE_STAFF | HTTP_ROUTE_ADMIN);
    if (!need)
        return FF_OK;
    if (p->role == HTTP_ROLE_NONE) {
        http_problem_set(req, HTTP_PK_UNAUTHORIZED, "%s",
                         bearer ? "the bearer token is not valid"
                                : "sign in first: send Authorization: Bearer <access token>");
        return FF_EAUTH;
    }
    if ((need & HTTP_ROUTE_ADMIN) && p->role < HTTP_ROLE_ADMIN) {
        http_problem_set(req, HTTP_PK_FORBIDDEN, "this endpoint is for administrators");
        return FF_EFORBIDDEN;
    }
    if ((need & HTTP_ROUTE_STAFF) && p->role < HTTP_ROLE_STAFF) {
        http_problem_set(req, HTTP_PK_FORBIDDEN, "this endpoint is for staff");
        return FF_EFORBIDDEN;
    }
    return FF_OK;
}
