/* server.c - the only user of <microhttpd.h> (besides ws.c).
 *
 * Per request (STYLE 2.8): the URI-log callback creates the arena and the
 * request context; the first access-handler call reads the head (headers,
 * request id, smuggling checks, route match); body calls append to a capped
 * buffer; the final call dispatches, inline or by suspending the connection
 * and handing it to a worker. A response is never queued on the first call
 * unless the connection must close anyway (libmicrohttpd 0.9.75 would drop
 * keep-alive). The completion callback logs, records metrics and frees the
 * arena. */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "http/auth.h"
#include "http/problem.h"
#include "http/query.h"

#define MAX_QUEUE 8192
#define HEAVY_QUEUE 1024 /* beyond this, heavy requests get 503 at once */
/* Per-connection buffer for the request head (and body reads). libmicrohttpd
 * 0.9.75 clears it between requests, so bigger costs throughput; heads larger
 * than this get 431. */
#ifndef FF_MHD_CONN_MEMORY
#define FF_MHD_CONN_MEMORY (32 * 1024)
#endif
#define DISCARD_MAX ((size_t)1 << 20) /* then the connection is cut without an answer */

enum ctx_state { ST_HEAD, ST_BODY, ST_WORK, ST_READY, ST_SENT };

struct ctx {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct ff_arena *arena;
    struct http_req req;
    struct http_resp resp;
    struct ff_buf body;
    struct http_match match;
    enum ctx_state state;
    const char *raw_uri;
    int early;            /* a problem decided before dispatch (kind), 0 = none */
    bool must_close;      /* the request framing is unusable: close after */
    struct MHD_Response *mresp;
    size_t discarded;     /* body bytes dropped after an early problem */
    uint64_t t0_us;
    uint64_t queued_us;   /* when handed to the workers */
    struct ctx *next;     /* worker queue */
};

/* A queue and its worker threads: the ordinary pool, and the small heavy
 * pool for HTTP_ROUTE_HEAVY routes (so CPU-bound work such as password
 * hashing never holds the workers everything else needs). */
struct pool {
    struct http_server *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ctx *qhead, *qtail;
    size_t qlen, max_queue;
    bool stopping;
    pthread_t *workers;
    int nworkers;
    size_t busy;          /* handlers running on workers */
};

struct http_server {
    struct http_server_opts opts;
    const struct http_router *router;
    struct http_metrics *metrics;
    struct MHD_Daemon *daemon;
    int port;
    char **origins;       /* parsed CORS list; NULL-terminated */
    bool cors_any;
    atomic_int draining;
    atomic_long inflight;
    struct pool pool, heavy;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- request id ---------------------------------------------------------- */

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (!rng_state) {
        if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state)
            rng_state = now_us() ^ (uint64_t)(uintptr_t)&rng_state;
        rng_state |= 1;
    }
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static bool request_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

/* ---- CORS ---------------------------------------------------------------- */

static bool origin_allowed(const struct http_server *s, const char *origin)
{
    if (!origin)
        return false;
    if (s->cors_any)
        return true;
    for (char **o = s->origins; o && *o; o++)
        if (!strcmp(*o, origin))
            return true;
    return false;
}

static enum ff_err parse_origins(struct http_server *s, const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    s->cors_any = !strcmp(list, "*");
    s->origins = ff_calloc(n + 1, sizeof *s->origins);
    if (!s->origins)
        return FF_ENOMEM;
    size_t k = 0;
    for (const char *p = list; *p && !s->cors_any;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        struct ff_str o = ff_str_trim((struct ff_str){p, len});
        if (o.len && !(s->origins[k++] = ff_strndup(o.ptr, o.len)))
            return FF_ENOMEM;
        p = e ? e + 1 : p + len;
    }
    return FF_OK;
}

/* ---- building the MHD response ------------------------------------------- */

/* True if an If-None-Match list contains etag (weak comparison) or "*". */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm || !etag)
        return false;
    const char *e = etag;
    if (!strncmp(e, "W/", 2))
        e += 2;
    size_t en = strlen(e);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == en && !memcmp(p, e, n))
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static void add_header(struct MHD_Response *r, const char *n, const char *v)
{
    if (MHD_add_response_header(r, n, v) != MHD_YES)
        ff_log(FF_LOG_WARN, "http", "dropped a response header %s (bad characters)", n);
}

static void add_cors(struct ctx *c, struct MHD_Response *r)
{
    const char *origin = http_header(&c->req, "Origin");
    bool per_origin = !c->srv->cors_any && c->srv->origins && c->srv->origins[0];
    if (per_origin) /* caches must key on Origin, allowed or not */
        add_header(r, "Vary", "Origin");
    if (!origin_allowed(c->srv, origin))
        return;
    add_header(r, "Access-Control-Allow-Origin", c->srv->cors_any ? "*" : origin);
    add_header(r, "Access-Control-Expose-Headers",
               "ETag, Location, X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, "
               "RateLimit-Reset");
}

/* Turns c->resp into an MHD response (any thread). */
static void finish(struct ctx *c)
{
    struct http_resp *resp = &c->resp;
    struct http_req *req = &c->req;
    if (!resp->status) {
        if (!req->err) {
            ff_log(FF_LOG_ERROR, "http", "req_id=%s route=%s: handler returned no response",
                   req->id, req->route ? req->route : "-");
            req->err = FF_EINTERNAL;
        }
        if (http_problem_kind_of(req->err) == HTTP_PK_INTERNAL && !req->problem_status)
            ff_log(FF_LOG_ERROR, "http", "req_id=%s route=%s: %s: %s", req->id,
                   req->route ? req->route : "-", ff_err_name(req->err),
                   req->err_detail ? req->err_detail : "");
        http_problem_render(req, resp);
    }
    /* ETag / 304 for successful GETs */
    const char *etag = http_resp_get_header(resp, "ETag");
    bool cacheable = (req->method & (HTTP_GET | HTTP_HEAD)) && resp->status == 200 &&
                     !(c->match.route && (c->match.route->flags & HTTP_ROUTE_NO_ETAG));
    char etag_buf[24];
    if (cacheable && !etag && resp->body_len) {
        snprintf(etag_buf, sizeof etag_buf, "\"%016llx\"",
                 (unsigned long long)ff_hash_fnv1a(resp->body, resp->body_len));
        etag = etag_buf;
    }
    if (cacheable && etag_matches(http_header(req, "If-None-Match"), etag)) {
        resp->status = 304;
        resp->body = NULL;
        resp->body_len = 0;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body_len, (void *)(resp->body ? resp->body : ""), MHD_RESPMEM_PERSISTENT);
    if (!r)
        return; /* the I/O thread answers with a bare 500 */
    if (resp->content_type && resp->status != 304)
        add_header(r, "Content-Type", resp->content_type);
    /* A handler's own ETag (e.g. a product's "v<version>") goes out on any 2xx, so a
     * client can send it back in If-Match after a create or an update. */
    bool keep_etag = cacheable || (resp->status >= 200 && resp->status < 300);
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, "ETag") || keep_etag)
            add_header(r, resp->headers[i].name, resp->headers[i].value);
    if (cacheable && etag && etag == etag_buf)
        add_header(r, "ETag", etag);
    add_header(r, "X-Request-Id", req->id);
    add_header(r, "X-Content-Type-Options", "nosniff");
    add_header(r, "X-Frame-Options", "DENY");
    add_header(r, "Referrer-Policy", "no-referrer");
    if (!http_resp_get_header(resp, "Content-Security-Policy")) /* the page sets its own */
        add_header(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    if (resp->status == 405 || (req->method == HTTP_OPTIONS && resp->status == 204)) {
        char allow[96];
        http_methods_format(c->match.allowed | HTTP_OPTIONS, allow, sizeof allow);
        add_header(r, "Allow", allow);
    }
    if (resp->status == 401)
        add_header(r, "WWW-Authenticate", "Bearer realm=\"framefit\"");
    add_cors(c, r);
    if (c->must_close || atomic_load(&c->srv->draining))
        add_header(r, "Connection", "close");
    c->mresp = r;
}

static enum MHD_Result queue(struct ctx *c)
{
    if (!c->mresp) {
        static const char oom[] = "{\"title\":\"Internal server error\",\"status\":500}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                                                 MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        c->resp.status = 500;
        enum MHD_Result ok = MHD_queue_response(c->conn, 500, r);
        MHD_destroy_response(r);
        c->state = ST_SENT;
        return ok;
    }
    enum MHD_Result ok = MHD_queue_response(c->conn, (unsigned)c->resp.status, c->mresp);
    MHD_destroy_response(c->mresp);
    c->mresp = NULL;
    c->state = ST_SENT;
    return ok;
}

/* ---- the request head ---------------------------------------------------- */

struct hdr_scan {
    struct ctx *c;
    size_t n, cap;
    int content_length, transfer_encoding;
    bool fail, bad_name;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct hdr_scan *h = cls;
    (void)kind;
    /* a header name must be an RFC 9110 token: "Content-Length :" or a name
     * with spaces is read differently by different parsers */
    for (const char *k = key; *k; k++) {
        unsigned char ch = (unsigned char)*k;
        if (ch <= ' ' || ch >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", ch))
            h->bad_name = true;
    }
    if (!*key)
        h->bad_name = true;
    if (!strcasecmp(key, "Content-Length"))
        h->content_length++;
    if (!strcasecmp(key, "Transfer-Encoding")) {
        h->transfer_encoding++;
        if (strcasecmp(value ? value : "", "chunked"))
            h->transfer_encoding += 100; /* only plain "chunked" is understood */
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct http_kv *kv = ff_arena_alloc(h->c->arena, cap * sizeof *kv);
        if (!kv) {
            h->fail = true;
            return MHD_NO;
        }
        if (h->n)
            memcpy(kv, h->c->req.headers, h->n * sizeof *kv);
        h->c->req.headers = kv;
        h->cap = cap;
    }
    h->c->req.headers[h->n++] = (struct http_kv){key, value ? value : ""};
    h->c->req.nheaders = h->n;
    return MHD_YES;
}

static void set_early(struct ctx *c, enum http_problem_kind k, const char *detail, bool close)
{
    if (c->early)
        return;
    c->early = (int)k;
    c->req.problem_status = (int)k;
    c->req.err_detail = detail;
    if (close)
        c->must_close = true;
}

static const char *client_ip(struct ctx *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char buf[INET6_ADDRSTRLEN] = "";
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, sizeof buf);
    const char *ip = buf[0] ? ff_arena_strdup(c->arena, buf) : NULL;
    return ip ? ip : "unknown";
}

static void begin(struct ctx *c, const char *method)
{
    struct http_req *req = &c->req;
    struct hdr_scan h = {.c = c};
    MHD_get_connection_values(c->conn, MHD_HEADER_KIND, collect_header, &h);
    req->method_name = ff_arena_strdup(c->arena, method);
    req->client_ip = client_ip(c);
    req->method = http_method_parse(method);
    const char *rid = http_header(req, "X-Request-Id");
    if (request_id_ok(rid)) {
        req->id = rid;
    } else {
        char *id = ff_arena_alloc(c->arena, 17);
        if (id)
            snprintf(id, 17, "%016llx", (unsigned long long)rng_next());
        req->id = id ? id : "unknown";
    }
    if (h.fail || !req->method_name) {
        set_early(c, HTTP_PK_INTERNAL, NULL, true);
        return;
    }
    /* framing: refuse anything a proxy in front could read differently */
    if (h.bad_name) {
        set_early(c, HTTP_PK_BAD_REQUEST, "malformed header name", true);
        return;
    }
    if (h.content_length > 1 || (h.content_length && h.transfer_encoding) ||
        h.transfer_encoding > 1) {
        set_early(c, HTTP_PK_BAD_REQUEST,
                  "ambiguous message framing (Content-Length / Transfer-Encoding)", true);
        return;
    }
    const char *cl = http_header(req, "Content-Length");
    int64_t len = 0;
    if (cl && ff_parse_i64(ff_str_c(cl), 0, INT64_MAX, &len)) {
        set_early(c, HTTP_PK_BAD_REQUEST, "invalid Content-Length", true);
        return;
    }
    /* the largest any route takes here; the matched route's own limit below */
    size_t cap = http_router_max_body(c->srv->router);
    if (cap < c->srv->opts.max_body_bytes)
        cap = c->srv->opts.max_body_bytes;
    if ((uint64_t)len > cap) {
        set_early(c, HTTP_PK_TOO_LARGE,
                  ff_arena_sprintf(c->arena, "the body is larger than %zu bytes", cap), true);
        return;
    }
    /* path and query from the raw URI */
    const char *uri = c->raw_uri ? c->raw_uri : "/";
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    req->path = ff_arena_strndup(c->arena, uri, plen);
    if (!req->path) {
        set_early(c, HTTP_PK_INTERNAL, NULL, true);
        return;
    }
    if (q) {
        const char *frag = strchr(q + 1, '#');
        size_t qlen = frag ? (size_t)(frag - q - 1) : strlen(q + 1);
        enum ff_err e = http_query_parse(c->arena, q + 1, qlen, &req->query, &req->nquery);
        if (e == FF_ENOMEM)
            set_early(c, HTTP_PK_INTERNAL, NULL, false);
        else if (e)
            set_early(c, HTTP_PK_BAD_REQUEST,
                      e == FF_ETOOBIG ? "too many query parameters"
                                      : "malformed query string (bad %-escape or UTF-8)",
                      false);
    }
    enum http_method m = req->method == HTTP_OPTIONS ? HTTP_GET : req->method;
    enum ff_err e = http_router_match(c->srv->router, m ? m : (enum http_method)0x80, req->path,
                                      plen, c->arena, &c->match);
    size_t lim = !e && c->match.route->max_body ? c->match.route->max_body
                                                : c->srv->opts.max_body_bytes;
    c->body.max = lim;
    if ((uint64_t)len > lim) {
        set_early(c, HTTP_PK_TOO_LARGE,
                  ff_arena_sprintf(c->arena, "the body is larger than %zu bytes", lim), true);
        return;
    }
    if (req->method == HTTP_OPTIONS && (e == FF_OK || c->match.allowed)) {
        c->match.route = NULL; /* answered by the server itself */
        return;
    }
    if (e == FF_ENOTFOUND && c->match.allowed) {
        set_early(c, HTTP_PK_METHOD_NOT_ALLOWED,
                  ff_arena_sprintf(c->arena, "%s is not allowed here", req->method_name), false);
    } else if (e == FF_ENOTFOUND) {
        set_early(c, HTTP_PK_NOT_FOUND, "no such resource", false);
    } else if (e == FF_EINVAL) {
        set_early(c, HTTP_PK_BAD_REQUEST, "malformed path (bad %-escape)", false);
    } else if (e) {
        set_early(c, HTTP_PK_INTERNAL, NULL, false);
    } else {
        req->route = c->match.route->pattern;
        req->params = c->match.params;
        req->nparams = c->match.nparams;
        req->ud = c->match.route->ud;
    }
}

/* OPTIONS: CORS preflight or a plain Allow answer. */
static void answer_options(struct ctx *c)
{
    http_reply_empty(&c->resp, 204);
    const char *origin = http_header(&c->req, "Origin");
    if (http_header(&c->req, "Access-Control-Request-Method") && origin_allowed(c->srv, origin)) {
        char allow[96];
        http_methods_format(c->match.allowed | HTTP_OPTIONS, allow, sizeof allow);
        if (http_resp_header(&c->resp, "Access-Control-Allow-Methods", allow) ||
            http_resp_header(&c->resp, "Access-Control-Allow-Headers",
                             "Authorization, Content-Type, If-Match, If-None-Match, "
                             "X-Request-Id, X-CSRF-Token, X-Anonymous-Id") ||
            http_resp_header(&c->resp, "Access-Control-Max-Age", "600"))
            c->req.err = FF_ENOMEM, c->resp.status = 0;
    }
}

/* Runs the handler (or the early answer) and prepares the MHD response. */
static void run(struct ctx *c)
{
    struct http_req *req = &c->req;
    if (c->early) {
        http_problem_render(req, &c->resp);
    } else if (req->method == HTTP_OPTIONS) {
        answer_options(c);
    } else {
        req->body = c->body.data ? c->body.data : "";
        req->body_len = c->body.len;
        const struct http_route *rt = c->match.route;
        enum ff_err e = http_auth_run(req, &c->resp, rt->flags, c->srv->opts.admin_token,
                                      c->srv->opts.auth, c->srv->opts.auth_ud);
        if (!e)
            e = rt->fn(req, &c->resp);
        if (e && !req->err)
            req->err = e;
        if (e && c->resp.status && c->resp.status < 400) /* an error wins over a reply */
            c->resp.status = 0;
    }
    finish(c);
}

/* ---- workers ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct pool *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->qhead && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->qhead && s->stopping)
            break;
        struct ctx *c = s->qhead;
        s->qhead = c->next;
        if (!s->qhead)
            s->qtail = NULL;
        s->qlen--;
        s->busy++;
        pthread_mutex_unlock(&s->mu);
        /* under overload, a request that waited longer than the timeout is
         * answered 503 at once instead of adding more work */
        if (now_us() - c->queued_us > (uint64_t)s->srv->opts.timeout_s * 1000000u)
            set_early(c, HTTP_PK_UNAVAILABLE, "the server is overloaded; retry later", false);
        run(c);
        c->state = ST_READY;
        MHD_resume_connection(c->conn);
        pthread_mutex_lock(&s->mu);
        s->busy--;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static bool enqueue(struct pool *s, struct ctx *c)
{
    pthread_mutex_lock(&s->mu);
    if (s->qlen >= s->max_queue || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    c->next = NULL;
    c->queued_us = now_us();
    if (s->qtail)
        s->qtail->next = c;
    else
        s->qhead = c;
    s->qtail = c;
    s->qlen++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return true;
}

/* ---- MHD callbacks ------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *s = cls;
    struct ff_arena *a = ff_arena_new(4096);
    struct ctx *c = a ? ff_arena_calloc(a, 1, sizeof *c) : NULL;
    if (!c) {
        ff_arena_free(a);
        return NULL;
    }
    c->srv = s;
    c->conn = conn;
    c->arena = a;
    c->req.arena = a;
    c->resp.arena = a;
    c->raw_uri = ff_arena_strdup(a, uri ? uri : "/");
    c->t0_us = now_us();
    ff_buf_init(&c->body, s->opts.max_body_bytes);
    atomic_fetch_add(&s->inflight, 1);
    http_metrics_inflight_add(s->metrics, 1);
    return c;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *s = cls;
    struct ctx *c = *con_cls;
    (void)url;
    (void)version;
    if (!c) { /* out of memory in on_uri */
        static const char busy[] = "{\"title\":\"Service unavailable\",\"status\":503}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof busy - 1, (void *)busy,
                                                                 MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        enum MHD_Result ok = MHD_queue_response(conn, 503, r);
        MHD_destroy_response(r);
        return ok;
    }
    switch (c->state) {
    case ST_HEAD:
        c->state = ST_BODY;
        begin(c, method);
        if (atomic_load(&s->draining)) /* see http_server_shutdown */
            set_early(c, HTTP_PK_UNAVAILABLE,
                      "the server is shutting down; retry (another instance will answer)", true);
        if (c->must_close) { /* answer now: the body must not be read */
            run(c);
            return queue(c);
        }
        return MHD_YES;
    case ST_BODY:
        if (*upload_data_size) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            if (c->early) {
                /* libmicrohttpd 0.9.75 cannot queue a response mid-body: read
                 * and drop the rest (bounded), answer at the end, then close */
                c->discarded += n;
                return c->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
            }
            enum ff_err e = ff_buf_append(&c->body, upload_data, n);
            if (e == FF_ETOOBIG) {
                set_early(c, HTTP_PK_TOO_LARGE,
                          ff_arena_sprintf(c->arena, "the body is larger than %zu bytes",
                                           c->body.max), true);
                ff_buf_release(&c->body);
                c->discarded = n;
                return MHD_YES;
            }
            if (e)
                set_early(c, HTTP_PK_INTERNAL, NULL, true);
            return MHD_YES;
        }
        if (c->early || !c->match.route || (c->match.route->flags & HTTP_ROUTE_INLINE)) {
            run(c);
            return queue(c);
        }
        c->state = ST_WORK;
        MHD_suspend_connection(conn);
        bool heavy = c->match.route->flags & HTTP_ROUTE_HEAVY;
        if (!enqueue(heavy ? &s->heavy : &s->pool, c)) {
            MHD_resume_connection(conn);
            set_early(c, HTTP_PK_UNAVAILABLE, "the server is overloaded; retry later", false);
            c->state = ST_READY;
            run(c);
        }
        return MHD_YES;
    case ST_WORK:
        return MHD_YES; /* spurious call while the worker runs */
    case ST_READY:
        return queue(c);
    case ST_SENT:
    default:
        return MHD_YES;
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct ctx *c = *con_cls;
    (void)conn;
    if (!c)
        return;
    *con_cls = NULL;
    uint64_t dur = now_us() - c->t0_us;
    int status = c->state == ST_SENT ? c->resp.status : 0;
    size_t route = c->match.route && !c->early ? c->match.route->index : SIZE_MAX;
    const char *meth = c->req.method_name ? c->req.method_name : "-";
    http_metrics_observe(s->metrics, route, meth, status ? status : 499, dur);
    if (ff_log_enabled(FF_LOG_INFO)) {
        char t[96], line[768], eroute[256], emeth[32];
        ff_log_time(t, sizeof t);
        ff_json_escape(eroute, sizeof eroute,
                       route == SIZE_MAX ? "unmatched" : c->match.route->pattern, (size_t)-1);
        ff_json_escape(emeth, sizeof emeth, meth, (size_t)-1);
        char who[48] = ""; /* the caller: a user id (never an email or a token) */
        const struct http_principal *p = c->req.principal;
        if (p && p->break_glass)
            snprintf(who, sizeof who, ",\"auth\":\"break-glass\"");
        else if (p && p->user_id)
            snprintf(who, sizeof who, ",\"user_id\":%lld", (long long)p->user_id);
        int n = snprintf(line, sizeof line,
                         "{\"time\":\"%s\",\"level\":\"info\",\"module\":\"http\","
                         "\"msg\":\"request\",\"req_id\":\"%s\",\"method\":\"%s\","
                         "\"route\":\"%s\",\"status\":%d,\"bytes\":%zu,"
                         "\"duration_ms\":%.3f%s%s}",
                         t, c->req.id ? c->req.id : "-", emeth, eroute, status,
                         status ? c->resp.body_len : 0, (double)dur / 1000.0, who,
                         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                                                                     : ",\"aborted\":true");
        if (n > 0)
            ff_log_raw(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    if (c->mresp)
        MHD_destroy_response(c->mresp);
    ff_buf_release(&c->body);
    ff_arena_free(c->arena);
    atomic_fetch_sub(&s->inflight, 1);
    http_metrics_inflight_add(s->metrics, -1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ff_log(FF_LOG_DEBUG, "mhd", "%s", msg);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void pool_init(struct pool *p, struct http_server *s, size_t max_queue)
{
    p->srv = s;
    p->max_queue = max_queue;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
}

static enum ff_err pool_start(struct pool *p, int n)
{
    p->workers = ff_calloc((size_t)n, sizeof *p->workers);
    if (!p->workers)
        return FF_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p))
            return FF_EINTERNAL;
        p->nworkers = i + 1;
    }
    return FF_OK;
}

struct http_server *http_server_new(const struct http_server_opts *opts,
                                    const struct http_router *router)
{
    struct http_server *s = ff_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opts = *opts;
    s->router = router;
    s->opts.bind = ff_strdup(opts->bind ? opts->bind : "127.0.0.1");
    s->opts.admin_token = ff_strdup(opts->admin_token ? opts->admin_token : "");
    s->opts.cors_origins = ff_strdup(opts->cors_origins ? opts->cors_origins : "");
    s->metrics = http_metrics_new(http_router_count(router));
    pool_init(&s->pool, s, MAX_QUEUE);
    pool_init(&s->heavy, s, HEAVY_QUEUE);
    if (!s->opts.bind || !s->opts.admin_token || !s->opts.cors_origins || !s->metrics ||
        parse_origins(s, s->opts.cors_origins)) {
        http_server_free(s);
        return NULL;
    }
    for (size_t i = 0; i < http_router_count(router); i++) {
        const struct http_route *r = http_router_at(router, i);
        http_metrics_set_route(s->metrics, i, NULL, r->pattern);
    }
    if (s->opts.threads < 1)
        s->opts.threads = 1;
    if (s->opts.workers < 1)
        s->opts.workers = 1;
    if (s->opts.heavy_workers < 1)
        s->opts.heavy_workers = 1;
    return s;
}

enum ff_err http_server_start(struct http_server *s)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, s->opts.bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)s->opts.port);
    } else if (inet_pton(AF_INET6, s->opts.bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)s->opts.port);
        flags |= MHD_USE_IPv6;
    } else {
        ff_log(FF_LOG_ERROR, "http", "bad bind address %s", s->opts.bind);
        return FF_EINVAL;
    }
    enum ff_err pe = pool_start(&s->pool, s->opts.workers);
    if (!pe)
        pe = pool_start(&s->heavy, s->opts.heavy_workers);
    if (pe)
        return pe;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->opts.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->opts.timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)FF_MHD_CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, s, MHD_OPTION_END);
    if (!s->daemon) {
        ff_log(FF_LOG_ERROR, "http", "cannot listen on %s port %d (in use, or not permitted)",
               s->opts.bind, s->opts.port);
        return FF_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->opts.port;
    return FF_OK;
}

int http_server_port(const struct http_server *s) { return s->port; }

struct http_metrics *http_server_metrics(struct http_server *s) { return s->metrics; }

static void stop_pool(struct pool *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    s->nworkers = 0;
}

static void stop_workers(struct http_server *s)
{
    stop_pool(&s->pool);
    stop_pool(&s->heavy);
}

int http_server_shutdown(struct http_server *s, int timeout_s)
{
    if (!s->daemon) {
        stop_workers(s);
        return 0;
    }
    /* No MHD_quiesce_daemon: with MHD_USE_EPOLL and a thread pool it races the
     * workers removing the listen socket from their epoll sets, and the loser
     * aborts the process ("Failed to remove listen FD from epoll set",
     * libmicrohttpd 0.9.75) in the middle of the drain. Instead new requests
     * are answered at once with 503 + Connection: close while the running
     * ones finish. */
    atomic_store(&s->draining, 1);
    uint64_t deadline = now_us() + (uint64_t)timeout_s * 1000000u;
    while (atomic_load(&s->inflight) > 0 && now_us() < deadline)
        usleep(10000);
    long left = atomic_load(&s->inflight);
    /* handlers still running must finish before MHD goes away (they resume
     * their connection); queued ones run too, quickly answered as draining */
    stop_workers(s);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    return (int)left;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->daemon || s->pool.nworkers || s->heavy.nworkers)
        http_server_shutdown(s, 0);
    for (char **o = s->origins; o && *o; o++)
        ff_free(*o);
    ff_free(s->origins);
    ff_free(s->pool.workers);
    ff_free(s->heavy.workers);
    ff_free((char *)s->opts.bind);
    ff_free((char *)s->opts.admin_token);
    ff_free((char *)s->opts.cors_origins);
    http_metrics_free(s->metrics);
    pthread_mutex_destroy(&s->pool.mu);
    pthread_cond_destroy(&s->pool.cv);
    pthread_mutex_destroy(&s->heavy.mu);
    pthread_cond_destroy(&s->heavy.cv);
    ff_free(s);
}
