/* ratelimit.c - token buckets: a bounded sharded table, and Redis (Lua). */
#include "accounts/ratelimit.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

#define SHARDS 64
#define PROBES 8
#define REDIS_CONNS 8
#define REDIS_TIMEOUT_MS 250
#define REDIS_RETRY_MS 1000

struct slot {
    uint64_t key;   /* 0 = free */
    double tokens;
    int64_t last_ms;
};

struct shard {
    pthread_mutex_t mu;
    struct slot *slots;
    size_t mask;
};

struct rl {
    struct shard shards[SHARDS];
    /* Redis */
    char *host, *password;
    int port, dbno;
    pthread_mutex_t rmu;
    redisContext *free_conns[REDIS_CONNS];
    int nfree;
    atomic_llong down_until_ms;
    char sha[48];
    atomic_ullong n_redis, n_local, n_errors;
};

/* Token bucket: atomic in Redis. KEYS[1] bucket; ARGV rate (per s), burst.
 * Returns {allowed, tokens*1000 (integer)}. */
static const char lua_bucket[] =
    "local rate = tonumber(ARGV[1]) local burst = tonumber(ARGV[2])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local s = redis.call('HMGET', KEYS[1], 't', 'ts')\n"
    "local tokens = tonumber(s[1]) local ts = tonumber(s[2])\n"
    "if tokens == nil or ts == nil then tokens = burst ts = now end\n"
    "if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end\n"
    "local ok = 0\n"
    "if tokens >= 1 then tokens = tokens - 1 ok = 1 end\n"
    "redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)\n"
    "return {ok, math.floor(tokens * 1000)}\n";

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t key_hash(const char *policy, const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = policy; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

/* ---- parsing ------------------------------------------------------------- */

enum ff_err rl_policy_parse(const char *s, double per_s, struct rl_policy *p, bool *off)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    int64_t rate, burst;
    if (!slash || ff_parse_i64((struct ff_str){s, (size_t)(slash - s)}, 0, 100000000, &rate) ||
        ff_parse_i64(ff_str_c(slash + 1), 0, 100000000, &burst))
        return FF_EINVAL;
    *off = rate == 0;
    if (!*off && burst < 1)
        return FF_EINVAL;
    p->rate = (double)rate / per_s;
    p->burst = (double)burst;
    return FF_OK;
}

static enum ff_err parse_url(struct rl *rl, const char *url, char *why, size_t len)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8)) {
        snprintf(why, len, "FRAMEFIT_REDIS_URL: must start with redis://");
        return FF_EINVAL;
    }
    p += 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        rl->password = ff_strndup(pw, (size_t)(at - pw));
        if (!rl->password)
            return FF_ENOMEM;
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    int64_t port = 6379, db = 0;
    if (colon && ff_parse_i64((struct ff_str){colon + 1, (size_t)(end - colon - 1)}, 1, 65535,
                              &port)) {
        snprintf(why, len, "FRAMEFIT_REDIS_URL: bad port");
        return FF_EINVAL;
    }
    if (slash && slash[1] && ff_parse_i64(ff_str_c(slash + 1), 0, 1000, &db)) {
        snprintf(why, len, "FRAMEFIT_REDIS_URL: bad database number");
        return FF_EINVAL;
    }
    size_t hl = (size_t)((colon ? colon : end) - p);
    if (!hl) {
        snprintf(why, len, "FRAMEFIT_REDIS_URL: no host");
        return FF_EINVAL;
    }
    rl->host = ff_strndup(p, hl);
    rl->port = (int)port;
    rl->dbno = (int)db;
    return rl->host ? FF_OK : FF_ENOMEM;
}

/* ---- lifecycle ----------------------------------------------------------- */

enum ff_err rl_new(const char *redis_url, size_t max_entries, struct rl **out, char *why,
                   size_t len)
{
    struct rl *rl = ff_calloc(1, sizeof *rl);
    if (!rl)
        return FF_ENOMEM;
    size_t per = (max_entries ? max_entries : 65536) / SHARDS, cap = 16;
    while (cap < per)
        cap <<= 1;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&rl->shards[i].mu, NULL);
        rl->shards[i].slots = ff_calloc(cap, sizeof(struct slot));
        rl->shards[i].mask = cap - 1;
        if (!rl->shards[i].slots) {
            rl_free(rl);
            return FF_ENOMEM;
        }
    }
    pthread_mutex_init(&rl->rmu, NULL);
    if (redis_url && redis_url[0]) {
        enum ff_err e = parse_url(rl, redis_url, why, len);
        if (e) {
            rl_free(rl);
            return e;
        }
    }
    *out = rl;
    return FF_OK;
}

void rl_free(struct rl *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < SHARDS; i++) {
        ff_free(rl->shards[i].slots);
        pthread_mutex_destroy(&rl->shards[i].mu);
    }
    for (int i = 0; i < rl->nfree; i++)
        redisFree(rl->free_conns[i]);
    pthread_mutex_destroy(&rl->rmu);
    if (rl->password)
        memset(rl->password, 0, strlen(rl->password));
    ff_free(rl->password);
    ff_free(rl->host);
    ff_free(rl);
}

void rl_stats(struct rl *rl, uint64_t *redis, uint64_t *local, uint64_t *redis_errors)
{
    *redis = atomic_load(&rl->n_redis);
    *local = atomic_load(&rl->n_local);
    *redis_errors = atomic_load(&rl->n_errors);
}

/* ---- in process ---------------------------------------------------------- */

static void fill_result(const struct rl_policy *p, double tokens, bool ok, struct rl_result *out)
{
    out->allowed = ok;
    out->limit = (int)p->burst;
    out->remaining = tokens < 0 ? 0 : (int)floor(tokens);
    out->reset_s = (int)ceil((p->burst - tokens) / p->rate);
    if (out->reset_s < 0)
        out->reset_s = 0;
    out->retry_after_s = ok ? 0 : (int)ceil((1.0 - tokens) / p->rate);
    if (!ok && out->retry_after_s < 1)
        out->retry_after_s = 1;
}

void rl_take_at(struct rl *rl, const struct rl_policy *p, const char *key, int64_t now_ms,
                struct rl_result *out)
{
    uint64_t h = key_hash(p->name, key);
    struct shard *s = &rl->shards[h % SHARDS];
    atomic_fetch_add(&rl->n_local, 1);
    pthread_mutex_lock(&s->mu);
    struct slot *hit = NULL, *victim = NULL;
    size_t i0 = (size_t)(h >> 6) & s->mask;
    for (size_t k = 0; k < PROBES; k++) {
        struct slot *sl = &s->slots[(i0 + k) & s->mask];
        if (sl->key == h) {
            hit = sl;
            break;
        }
        if (!sl->key) {
            if (!victim || victim->key)
                victim = sl;
        } else if (!victim || (victim->key && sl->last_ms < victim->last_ms)) {
            victim = sl;
        }
    }
    if (!hit) {
        hit = victim;
        hit->key = h;
        hit->tokens = p->burst;
        hit->last_ms = now_ms;
    }
    if (now_ms > hit->last_ms) {
        hit->tokens += (double)(now_ms - hit->last_ms) * p->rate / 1000.0;
        if (hit->tokens > p->burst)
            hit->tokens = p->burst;
        hit->last_ms = now_ms;
    }
    bool ok = hit->tokens >= 1.0;
    if (ok)
        hit->tokens -= 1.0;
    double t = hit->tokens;
    pthread_mutex_unlock(&s->mu);
    fill_result(p, t, ok, out);
}

/* ---- Redis --------------------------------------------------------------- */

static redisContext *redis_connect(struct rl *rl)
{
    struct timeval tv = {0, REDIS_TIMEOUT_MS * 1000};
    redisContext *c = redisConnectWithTimeout(rl->host, rl->port, tv);
    if (!c || c->err)
        goto fail;
    redisSetTimeout(c, tv);
    redisReply *r;
    if (rl->password) {
        r = redisCommand(c, "AUTH %s", rl->password);
        bool bad = !r || r->type == REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
        if (bad)
            goto fail;
    }
    if (rl->dbno) {
        r = redisCommand(c, "SELECT %d", rl->dbno);
        bool bad = !r || r->type == REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
        if (bad)
            goto fail;
    }
    r = redisCommand(c, "SCRIPT LOAD %s", lua_bucket);
    bool bad = !r || r->type != REDIS_REPLY_STRING || r->len >= sizeof rl->sha;
    if (!bad) {
        pthread_mutex_lock(&rl->rmu);
        memcpy(rl->sha, r->str, r->len);
        rl->sha[r->len] = '\0';
        pthread_mutex_unlock(&rl->rmu);
    }
    if (r)
        freeReplyObject(r);
    if (bad)
        goto fail;
    return c;
fail:
    if (c)
        redisFree(c);
    return NULL;
}

static bool redis_take(struct rl *rl, const struct rl_policy *p, const char *key,
                       struct rl_result *out)
{
    int64_t now = mono_ms();
    if (now < atomic_load(&rl->down_until_ms))
        return false;
    redisContext *c = NULL;
    char sha[48];
    pthread_mutex_lock(&rl->rmu);
    if (rl->nfree)
        c = rl->free_conns[--rl->nfree];
    memcpy(sha, rl->sha, sizeof sha);
    pthread_mutex_unlock(&rl->rmu);
    if (!c) {
        c = redis_connect(rl);
        if (!c)
            goto down;
        pthread_mutex_lock(&rl->rmu);
        memcpy(sha, rl->sha, sizeof sha);
        pthread_mutex_unlock(&rl->rmu);
    }
    char bkey[320], rate[32], burst[32];
    snprintf(bkey, sizeof bkey, "ff:rl:%s:%.256s", p->name, key);
    snprintf(rate, sizeof rate, "%.6f", p->rate);
    snprintf(burst, sizeof burst, "%.0f", p->burst);
    const char *argv[] = {"EVALSHA", sha, "1", bkey, rate, burst};
    redisReply *r = redisCommandArgv(c, 6, argv, NULL);
    if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = lua_bucket;
        r = redisCommandArgv(c, 6, argv, NULL);
    }
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[0]->type == REDIS_REPLY_INTEGER &&
              r->element[1]->type == REDIS_REPLY_INTEGER;
    if (ok) {
        fill_result(p, (double)r->element[1]->integer / 1000.0, r->element[0]->integer == 1,
                    out);
        out->shared = true;
    }
    if (r)
        freeReplyObject(r);
    if (!ok || c->err) {
        redisFree(c);
        goto down;
    }
    pthread_mutex_lock(&rl->rmu);
    if (rl->nfree < REDIS_CONNS)
        rl->free_conns[rl->nfree++] = c, c = NULL;
    pthread_mutex_unlock(&rl->rmu);
    if (c)
        redisFree(c);
    atomic_fetch_add(&rl->n_redis, 1);
    return true;
down:
    atomic_fetch_add(&rl->n_errors, 1);
    if (atomic_exchange(&rl->down_until_ms, mono_ms() + REDIS_RETRY_MS) < now)
        ff_log(FF_LOG_WARN, "ratelimit",
               "redis %s:%d unavailable: using in-process limits, retrying in %d ms", rl->host,
               rl->port, REDIS_RETRY_MS);
    return false;
}

void rl_take(struct rl *rl, const struct rl_policy *p, const char *key, struct rl_result *out)
{
    memset(out, 0, sizeof *out);
    if (rl->host && redis_take(rl, p, key, out))
        return;
    rl_take_at(rl, p, key, mono_ms(), out);
}
