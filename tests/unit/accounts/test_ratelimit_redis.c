/* test_ratelimit_redis.c - token buckets in a real redis-server (fixture
 * "redis"): two limiters (two instances) share one bucket, the Lua script is
 * reloaded after SCRIPT FLUSH (NOSCRIPT), refill uses Redis' clock, and a
 * wrong password or a dead server falls back to in-process buckets. */
#include <hiredis/hiredis.h>
#include <sodium.h>
#include <unistd.h>

#include "accounts/ratelimit.h"
#include "harness.h"

static char url[256];
static char key[40];

static struct rl *mk(const char *u)
{
    struct rl *rl;
    char why[128];
    if (rl_new(u, 0, &rl, why, sizeof why))
        TEST_FAIL("rl_new: %s", why);
    return rl;
}

TEST(two_instances_share_a_bucket)
{
    struct rl *a = mk(url), *b = mk(url);
    struct rl_policy p = {"share", 0.001, 4};
    struct rl_result r;
    for (int i = 0; i < 4; i++) {
        rl_take(i % 2 ? b : a, &p, key, &r);
        ASSERT(r.allowed && r.shared);
        ASSERT_EQ(r.remaining, 3 - i);
        ASSERT_EQ(r.limit, 4);
    }
    rl_take(a, &p, key, &r);
    ASSERT(!r.allowed && r.shared);
    ASSERT(r.retry_after_s >= 900); /* 1 token at 0.001/s */
    rl_take(b, &p, key, &r);
    ASSERT(!r.allowed);
    uint64_t nr, nl, ne;
    rl_stats(a, &nr, &nl, &ne);
    ASSERT_EQ(nr, 3);
    ASSERT_EQ(nl, 0);
    ASSERT_EQ(ne, 0);
    rl_free(a);
    rl_free(b);
}

TEST(refill_on_redis_time)
{
    struct rl *a = mk(url);
    struct rl_policy p = {"refill", 20, 1}; /* one token, back after 50 ms */
    struct rl_result r;
    rl_take(a, &p, key, &r);
    ASSERT(r.allowed);
    rl_take(a, &p, key, &r);
    ASSERT(!r.allowed);
    usleep(120 * 1000);
    rl_take(a, &p, key, &r);
    ASSERT(r.allowed && r.shared);
    rl_free(a);
}

TEST(script_flush_is_survived)
{
    struct rl *a = mk(url);
    struct rl_policy p = {"flush", 1, 10};
    struct rl_result r;
    rl_take(a, &p, key, &r);
    ASSERT(r.allowed && r.shared);
    /* flush the script cache behind the limiter's back */
    char host[64], pass[64];
    int port = 0;
    ASSERT(sscanf(url, "redis://:%63[^@]@%63[^:]:%d", pass, host, &port) == 3);
    redisContext *c = redisConnect(host, port);
    ASSERT(c && !c->err);
    redisReply *rep = redisCommand(c, "AUTH %s", pass);
    freeReplyObject(rep);
    rep = redisCommand(c, "SCRIPT FLUSH");
    ASSERT(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    redisFree(c);
    rl_take(a, &p, key, &r);
    ASSERT(r.allowed && r.shared);
    ASSERT_EQ(r.remaining, 8);
    rl_free(a);
}

TEST(bad_password_falls_back)
{
    char bad[300];
    const char *at = strchr(url, '@');
    snprintf(bad, sizeof bad, "redis://:wrong%s", at);
    struct rl *a = mk(bad);
    struct rl_policy p = {"badpw", 1, 1};
    struct rl_result r;
    rl_take(a, &p, key, &r);
    ASSERT(r.allowed && !r.shared);
    rl_take(a, &p, key, &r);
    ASSERT(!r.allowed && !r.shared);
    uint64_t nr, nl, ne;
    rl_stats(a, &nr, &nl, &ne);
    ASSERT(ne >= 1 && nr == 0);
    rl_free(a);
}

int main(void)
{
    const char *f = getenv("FF_TEST_REDIS_URL_FILE");
    FILE *fp = f ? fopen(f, "r") : NULL;
    if (!fp || !fgets(url, sizeof url, fp))
        TEST_SKIP("no redis-server (the redis fixture did not start one)");
    fclose(fp);
    url[strcspn(url, "\r\n")] = '\0';
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(key, sizeof key, rnd, sizeof rnd);
    RUN(two_instances_share_a_bucket);
    RUN(refill_on_redis_time);
    RUN(script_flush_is_survived);
    RUN(bad_password_falls_back);
    return TEST_REPORT();
}
