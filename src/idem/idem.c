/* idem.c - Idempotency-Key storage and replay (see idem.h). */
#include "idem/idem.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/problem.h"
#include "jobs/jobs.h"

struct idem_route {
    struct idem_route *next;
    struct idem *idem;
    http_handler_fn fn;
    void *ud;
};

struct idem {
    struct db *db;
    int64_t ttl_ms, lock_ms;
    idem_scope_fn scope;
    pthread_mutex_t mu; /* guards routes */
    struct idem_route *routes;
};

/* The keyed request being handled on this thread (for idem_record_in_tx). */
struct idem_call {
    const char *scope, *key, *fp;
    int64_t claimed_at;
    bool recorded;
};
static _Thread_local struct idem_call *tl_call;

/* The caller: the signed-in user, the break-glass token, the anonymous shopper
 * (http/auth.h), else the client address. */
static const char *anon_of(struct http_req *req, const struct http_principal *p)
{
    if (p->anon_id)
        return p->anon_id;
    const char *a = http_header(req, "X-Anonymous-Id");
    if (!a)
        a = http_cookie(req, "ff_anon");
    if (!a || strlen(a) > 64)
        return NULL;
    for (const char *c = a; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return NULL;
    return a;
}

static void default_scope(struct http_req *req, char *buf, size_t len)
{
    const struct http_principal *p = http_principal(req);
    const char *anon = anon_of(req, p);
    if (p->user_id) {
        snprintf(buf, len, "user:%lld", (long long)p->user_id);
    } else if (p->break_glass) { /* tools sharing the token may separate by anon id */
        snprintf(buf, len, "break-glass:%.64s", anon ? anon : "");
    } else if (anon) {
        snprintf(buf, len, "anon:%.64s", anon);
    } else {
        const char *ip = http_header(req, "X-Forwarded-For"); /* see README: behind a proxy */
        snprintf(buf, len, "ip:%.64s", ip ? ip : "direct");
    }
}

enum ff_err idem_new(struct idem **out, struct db *db, int ttl_s, int lock_s)
{
    if (!db || ttl_s <= 0 || lock_s <= 0 || sodium_init() < 0)
        return FF_EINVAL;
    struct idem *m = ff_calloc(1, sizeof *m);
    if (!m)
        return FF_ENOMEM;
    m->db = db;
    m->ttl_ms = (int64_t)ttl_s * 1000;
    m->lock_ms = (int64_t)lock_s * 1000;
    m->scope = default_scope;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return FF_OK;
}

void idem_free(struct idem *m)
{
    if (!m)
        return;
    for (struct idem_route *r = m->routes, *n; r; r = n) {
        n = r->next;
        ff_free(r);
    }
    pthread_mutex_destroy(&m->mu);
    ff_free(m);
}

void idem_set_scope_fn(struct idem *m, idem_scope_fn fn)
{
    m->scope = fn ? fn : default_scope;
}

enum ff_err idem_wrap(struct idem *m, http_handler_fn fn, void *ud, struct idem_route **out)
{
    struct idem_route *r = ff_calloc(1, sizeof *r);
    if (!r)
        return FF_ENOMEM;
    r->idem = m;
    r->fn = fn;
    r->ud = ud;
    pthread_mutex_lock(&m->mu);
    r->next = m->routes;
    m->routes = r;
    pthread_mutex_unlock(&m->mu);
    *out = r;
    return FF_OK;
}

static enum ff_err wrap_one(void *arg, http_handler_fn *fn, void **ud)
{
    struct idem_route *ir = NULL;
    enum ff_err e = idem_wrap(arg, *fn, *ud, &ir);
    if (!e) {
        *fn = idem_handler;
        *ud = ir;
    }
    return e;
}

enum ff_err idem_wrap_routes(struct idem *m, struct http_router *r)
{
    return http_router_wrap(r, HTTP_ROUTE_IDEMPOTENT, wrap_one, m);
}

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return false;
    return true;
}

/* sha256(method \n path \n body) in hex: what "the same request" means. */
static void fingerprint(const struct http_req *req, char out[65])
{
    crypto_hash_sha256_state st;
    unsigned char h[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->method_name,
                              strlen(req->method_name));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->path, strlen(req->path));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->body, req->body_len);
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

enum claim { CLAIM_RUN, CLAIM_REPLAYED, CLAIM_REFUSED };

static void retry_after(struct http_resp *resp)
{
    if (http_resp_header(resp, "Retry-After", "1"))
        return; /* out of memory: the 409 still tells the client to retry */
}

static enum ff_err replay(struct http_req *req, struct http_resp *resp, struct db_rows *rows)
{
    int status = (int)db_col_i64(rows, 2);
    size_t blen = 0;
    /* copied: the row's memory is gone before the response is sent */
    const char *ctype = db_col_text(rows, 3, NULL);
    ctype = ff_arena_strdup(resp->arena, ctype ? ctype : "application/json");
    if (!ctype)
        return FF_ENOMEM;
    const char *loc = db_col_text(rows, 4, NULL);
    const char *body = db_col_text(rows, 5, &blen);
    enum ff_err e = FF_OK;
    if (body && blen)
        e = http_reply(resp, status, ctype, body, blen);
    else
        http_reply_empty(resp, status);
    if (!e && loc)
        e = http_resp_header(resp, "Location", loc);
    if (!e)
        e = http_resp_header(resp, "Idempotent-Replayed", "true");
    return e;
}

/* Claims (scope, key) for this request or answers from what is stored. */
static enum ff_err claim(struct idem *m, struct http_req *req, struct http_resp *resp,
                         struct idem_call *call, enum claim *out)
{
    struct db_conn *c = NULL;
    enum ff_err e = db_acquire(m->db, &c);
    if (e)
        return e;
    int64_t now = db_now_ms(), changed = 0;
    e = db_exec(c, "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, state,"
                   " created_at, updated_at) VALUES ($1, $2, $3, 'running', $4, $4)"
                   " ON CONFLICT (scope, idem_key) DO NOTHING",
                (struct db_param[]){DB_TEXT(call->scope), DB_TEXT(call->key), DB_TEXT(call->fp),
                                    DB_I64(now)}, 4, &changed);
    call->claimed_at = now;
    if (e || changed == 1) {
        *out = CLAIM_RUN;
        db_release(c);
        return e;
    }
    struct db_rows *rows = NULL;
    bool has = false;
    e = db_query(c, "SELECT fingerprint, state, status, content_type, location, body, updated_at"
                    " FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
                 (struct db_param[]){DB_TEXT(call->scope), DB_TEXT(call->key)}, 2, &rows);
    if (!e)
        e = db_next(rows, &has);
    if (!e && !has) { /* purged between the two statements: the client may retry */
        *out = CLAIM_REFUSED;
        retry_after(resp);
        e = http_problem_set(req, HTTP_PK_IDEM_IN_USE, "retry this request");
    } else if (!e) {
        const char *fp = db_col_text(rows, 0, NULL);
        const char *state = db_col_text(rows, 1, NULL);
        int64_t updated = db_col_i64(rows, 6);
        if (!fp || strcmp(fp, call->fp)) {
            *out = CLAIM_REFUSED;
            e = http_problem_set(req, HTTP_PK_IDEM_REUSE,
                                 "this Idempotency-Key was used for a different request;"
                                 " use a new key for a new request");
        } else if (state && !strcmp(state, "done")) {
            *out = CLAIM_REPLAYED;
            e = replay(req, resp, rows);
        } else if (now - updated < m->lock_ms) {
            *out = CLAIM_REFUSED;
            retry_after(resp);
            e = http_problem_set(req, HTTP_PK_IDEM_IN_USE,
                                 "a request with this Idempotency-Key is still being processed");
        } else { /* its process died: take it over, once */
            db_rows_free(rows);
            rows = NULL;
            e = db_exec(c, "UPDATE idempotency_keys SET updated_at = $3"
                           " WHERE scope = $1 AND idem_key = $2 AND state = 'running'"
                           " AND updated_at = $4",
                        (struct db_param[]){DB_TEXT(call->scope), DB_TEXT(call->key),
                                            DB_I64(now), DB_I64(updated)}, 4, &changed);
            if (!e && changed == 1) {
                *out = CLAIM_RUN;
            } else if (!e) {
                *out = CLAIM_REFUSED;
                retry_after(resp);
                e = http_problem_set(req, HTTP_PK_IDEM_IN_USE,
                                     "a request with this Idempotency-Key is still being processed");
            }
        }
    }
    db_rows_free(rows);
    db_release(c);
    return e;
}

static enum ff_err store(struct db_conn *c, const struct idem_call *call,
                         int status, const char *ctype, const char *location, const char *body,
                         size_t len, int64_t *changed)
{
    return db_exec(c, "UPDATE idempotency_keys SET state = 'done', status = $3,"
                      " content_type = $4, location = $5, body = $6, updated_at = $7"
                      " WHERE scope = $1 AND idem_key = $2 AND fingerprint = $8",
                   (struct db_param[]){DB_TEXT(call->scope), DB_TEXT(call->key), DB_I64(status),
                                       DB_TEXT(ctype), DB_TEXT(location),
                                       body ? DB_TEXTN(body, len) : DB_NULL, DB_I64(db_now_ms()),
                                       DB_TEXT(call->fp)}, 8, changed);
}

static bool storable(const struct http_resp *resp)
{
    if (!resp->status || resp->status >= 500 || resp->body_len > IDEM_BODY_MAX)
        return false;
    if (resp->body_len && (memchr(resp->body, 0, resp->body_len) ||
                           !ff_utf8_valid(resp->body, resp->body_len)))
        return false; /* stored as text */
    return true;
}

/* After the handler: remember its answer, or let the key go. */
static void finish_call(struct idem *m, struct http_resp *resp, struct idem_call *call)
{
    if (call->recorded)
        return;
    struct db_conn *c = NULL;
    if (db_acquire(m->db, &c)) {
        ff_log(FF_LOG_WARN, "idem", "cannot record an idempotent answer: %s", db_errmsg());
        return; /* the key stays 'running' and can be taken over after lock_s */
    }
    enum ff_err e;
    if (storable(resp))
        e = store(c, call, resp->status, resp->content_type,
                  http_resp_get_header(resp, "Location"), resp->body_len ? resp->body : NULL,
                  resp->body_len, NULL);
    else
        e = db_exec(c, "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2"
                       " AND state = 'running'",
                    (struct db_param[]){DB_TEXT(call->scope), DB_TEXT(call->key)}, 2, NULL);
    if (e)
        ff_log(FF_LOG_WARN, "idem", "cannot record an idempotent answer: %s", db_errmsg());
    db_release(c);
}

enum ff_err idem_handler(struct http_req *req, struct http_resp *resp)
{
    struct idem_route *r = req->ud;
    struct idem *m = r->idem;
    req->ud = r->ud;
    const char *key = http_header(req, "Idempotency-Key");
    if (!key)
        return r->fn(req, resp);
    if (!key_ok(key))
        return http_field_error(req, "Idempotency-Key",
                                "must be 1 to %d printable ASCII characters without spaces",
                                IDEM_KEY_MAX);
    char scope[160], fp[65];
    m->scope(req, scope, sizeof scope);
    fingerprint(req, fp);
    struct idem_call call = {.scope = scope, .key = key, .fp = fp};
    enum claim how = CLAIM_REFUSED;
    enum ff_err e = claim(m, req, resp, &call, &how);
    if (e || how != CLAIM_RUN)
        return e;
    tl_call = &call;
    e = r->fn(req, resp);
    tl_call = NULL;
    if (e && resp->status && resp->status < 400)
        resp->status = 0; /* the server answers with the problem, as it would */
    finish_call(m, resp, &call);
    return e;
}

enum ff_err idem_record_in_tx(struct http_req *req, struct db_conn *conn, int status,
                              const char *content_type, const char *body, size_t len)
{
    struct idem_call *call = tl_call;
    if (!call)
        return FF_OK;
    if (len > IDEM_BODY_MAX || (len && !ff_utf8_valid(body, len)))
        return FF_EINVAL;
    int64_t changed = 0;
    enum ff_err e = store(conn, call, status, content_type, NULL, body, len, &changed);
    if (!e && changed != 1)
        e = FF_ECONFLICT; /* the key was taken over meanwhile: roll back */
    if (!e)
        call->recorded = true;
    return e;
}

enum ff_err idem_purge(struct idem *m, long long *deleted)
{
    struct db_conn *c = NULL;
    enum ff_err e = db_acquire(m->db, &c);
    if (e)
        return e;
    int64_t n = 0;
    e = db_exec(c, "DELETE FROM idempotency_keys WHERE created_at < $1",
                (struct db_param[]){DB_I64(db_now_ms() - m->ttl_ms)}, 1, &n);
    db_release(c);
    if (!e && deleted)
        *deleted = n;
    return e;
}

static enum job_result purge_job(const struct job *j, void *ud, char *err, size_t len)
{
    long long n = 0;
    if (idem_purge(ud, &n)) {
        snprintf(err, len, "purge: %s", db_errmsg());
        return JOB_RETRY;
    }
    if (n)
        ff_log(FF_LOG_INFO, "idem", "purged %lld expired Idempotency-Key records", n);
    return JOB_DONE;
}

enum ff_err idem_jobs_register(struct idem *m, struct jobs_registry *reg)
{
    enum ff_err e = jobs_register(reg, "idem.purge", purge_job, m);
    if (!e)
        e = jobs_every(reg, "idem.purge", NULL, 3600, NULL);
    return e;
}
