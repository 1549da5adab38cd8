/* ratelimit.h - token buckets, in process or shared through Redis.
 *
 * A policy is a bucket shape: `burst` tokens, refilled at `rate` per second.
 * Each (policy, key) pair has its own bucket; a request takes one token.
 *
 *   static const struct rl_policy login_ip = {"login-ip", 1.0, 10};
 *   struct rl_result r;
 *   rl_take(rl, &login_ip, req->client_ip, &r);
 *   if (!r.allowed) ... 429 with Retry-After: r.retry_after_s
 *
 * In process (the default) the buckets live in a sharded hash table of bounded
 * size: when a shard is full the least recently touched nearby bucket is
 * recycled (a forgotten bucket is a full one, so eviction only ever errs
 * towards allowing). With a Redis URL the buckets live in Redis (one hash per
 * bucket, updated atomically by a Lua script run with EVALSHA, clocked by
 * Redis' TIME so instances need no clock agreement), and every instance using
 * the same Redis shares them. When Redis fails (down, timeout), rl_take uses
 * the in-process buckets instead and retries Redis after a second: limits
 * stay enforced per instance, never fully open or fully closed. */
#ifndef FF_ACCOUNTS_RATELIMIT_H
#define FF_ACCOUNTS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct rl;

struct rl_policy {
    const char *name; /* short, [a-z0-9-]; part of the bucket key */
    double rate;      /* tokens added per second (> 0) */
    double burst;     /* bucket size (>= 1) */
};

struct rl_result {
    bool allowed;
    int limit;         /* the burst */
    int remaining;     /* whole tokens left after this request */
    int reset_s;       /* seconds until the bucket is full again */
    int retry_after_s; /* when refused: seconds until one token is there (>= 1) */
    bool shared;       /* decided by Redis (false: in process) */
};

/* A limiter. redis_url "" or NULL = in process only; else
 * redis://[:password@]host[:port][/db]. max_entries bounds the in-process
 * table (0 = 65536). A Redis that cannot be reached at start is not an error
 * (it is retried). FF_EINVAL with a reason for a malformed URL. */
enum ff_err rl_new(const char *redis_url, size_t max_entries, struct rl **out, char *why,
                   size_t len) FF_MUST_CHECK;
void rl_free(struct rl *rl);

/* Takes one token from the bucket (p, key). Never fails: out of memory or a
 * Redis error fall back as described above. Thread safe. */
void rl_take(struct rl *rl, const struct rl_policy *p, const char *key, struct rl_result *out);

/* Same, with an explicit clock in milliseconds (in-process buckets only; for
 * tests). */
void rl_take_at(struct rl *rl, const struct rl_policy *p, const char *key, int64_t now_ms,
                struct rl_result *out);

/* Parses "RATE/BURST" (e.g. "10/20", rate per `per_s` seconds) into p.
 * FF_EINVAL when malformed. A rate of 0 means "no limit" (*off = true). */
enum ff_err rl_policy_parse(const char *s, double per_s, struct rl_policy *p,
                            bool *off) FF_MUST_CHECK;

/* Counters since start: decisions made by Redis, by the local table, and
 * Redis failures. */
void rl_stats(struct rl *rl, uint64_t *redis, uint64_t *local, uint64_t *redis_errors);

#endif
