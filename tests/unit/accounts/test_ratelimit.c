/* test_ratelimit.c - token buckets in process: parsing, refill arithmetic,
 * headers' numbers, independence of keys and policies, the memory bound, and
 * the fallback when the configured Redis is unreachable. */
#include <pthread.h>

#include "accounts/ratelimit.h"
#include "core/alloc.h"
#include "harness.h"

static struct rl *mk(const char *url, size_t max)
{
    struct rl *rl;
    char why[128];
    if (rl_new(url, max, &rl, why, sizeof why))
        TEST_FAIL("rl_new: %s", why);
    return rl;
}

TEST(parse)
{
    struct rl_policy p = {"x", 0, 0};
    bool off;
    ASSERT_EQ(rl_policy_parse("10/20", 1, &p, &off), FF_OK);
    ASSERT(!off && p.rate == 10 && p.burst == 20);
    ASSERT_EQ(rl_policy_parse("30/5", 60, &p, &off), FF_OK);
    ASSERT(p.rate == 0.5 && p.burst == 5);
    ASSERT_EQ(rl_policy_parse("0/0", 1, &p, &off), FF_OK);
    ASSERT(off);
    const char *bad[] = {"", "10", "/10", "10/", "a/b", "10/0", "-1/5", "1/2/3", "10 /20",
                         "99999999999/1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(rl_policy_parse(bad[i], 1, &p, &off), FF_EINVAL);
}

TEST(bucket_arithmetic)
{
    struct rl *rl = mk(NULL, 0);
    struct rl_policy p = {"t", 2.0, 3}; /* 3 at once, then 2 per second */
    struct rl_result r;
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++) {
        rl_take_at(rl, &p, "k", t, &r);
        ASSERT(r.allowed);
        ASSERT_EQ(r.limit, 3);
        ASSERT_EQ(r.remaining, 2 - i);
    }
    rl_take_at(rl, &p, "k", t, &r);
    ASSERT(!r.allowed);
    ASSERT_EQ(r.remaining, 0);
    ASSERT_EQ(r.retry_after_s, 1);
    ASSERT_EQ(r.reset_s, 2); /* 3 tokens at 2/s */
    rl_take_at(rl, &p, "k", t + 499, &r); /* 0.998 tokens: still no */
    ASSERT(!r.allowed);
    rl_take_at(rl, &p, "k", t + 500, &r);
    ASSERT(r.allowed);
    rl_take_at(rl, &p, "k", t + 100000, &r); /* long idle: full again, never above burst */
    ASSERT(r.allowed);
    ASSERT_EQ(r.remaining, 2);
    /* a clock going backwards never adds tokens */
    rl_take_at(rl, &p, "k", t, &r);
    rl_take_at(rl, &p, "k", t, &r);
    rl_take_at(rl, &p, "k", t, &r);
    ASSERT(!r.allowed);
    rl_free(rl);
}

TEST(keys_and_policies_are_independent)
{
    struct rl *rl = mk("", 0);
    struct rl_policy a = {"a", 1, 1}, b = {"b", 1, 1};
    struct rl_result r;
    rl_take_at(rl, &a, "k1", 5000, &r);
    ASSERT(r.allowed);
    rl_take_at(rl, &a, "k1", 5000, &r);
    ASSERT(!r.allowed);
    rl_take_at(rl, &a, "k2", 5000, &r);
    ASSERT(r.allowed);
    rl_take_at(rl, &b, "k1", 5000, &r);
    ASSERT(r.allowed);
    rl_free(rl);
}

TEST(memory_is_bounded)
{
    struct rl *rl = mk(NULL, 1024);
    size_t before = ff_alloc_used();
    struct rl_policy p = {"m", 1, 1};
    struct rl_result r;
    char key[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        rl_take_at(rl, &p, key, 1000, &r);
        ASSERT(r.allowed); /* a new or recycled bucket is full */
    }
    ASSERT_EQ(ff_alloc_used(), before);
    /* the most recent keys are still remembered */
    rl_take_at(rl, &p, key, 1000, &r);
    ASSERT(!r.allowed);
    rl_free(rl);
}

static struct rl *shared;
static void *hammer(void *arg)
{
    struct rl_policy p = {"c", 0.001, 1000};
    struct rl_result r;
    int *ok = arg;
    for (int i = 0; i < 500; i++) {
        rl_take_at(shared, &p, "same", 1000, &r);
        *ok += r.allowed;
    }
    return NULL;
}

TEST(concurrent_takes_are_exact)
{
    shared = mk(NULL, 0);
    pthread_t t[4];
    int ok[4] = {0};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, &ok[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(ok[0] + ok[1] + ok[2] + ok[3], 1000);
    rl_free(shared);
}

TEST(bad_redis_urls)
{
    struct rl *rl;
    char why[128];
    const char *bad[] = {"http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
                         "redis://:pw@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_EQ(rl_new(bad[i], 0, &rl, why, sizeof why), FF_EINVAL);
        ASSERT(strstr(why, "FRAMEFIT_REDIS_URL"));
    }
}

TEST(unreachable_redis_falls_back_to_local)
{
    /* port 1 on loopback: refused at once */
    struct rl *rl = mk("redis://:secret@127.0.0.1:1/2", 0);
    struct rl_policy p = {"f", 1, 2};
    struct rl_result r;
    rl_take(rl, &p, "k", &r);
    ASSERT(r.allowed && !r.shared);
    rl_take(rl, &p, "k", &r);
    ASSERT(r.allowed);
    rl_take(rl, &p, "k", &r);
    ASSERT(!r.allowed); /* still limited, per process */
    uint64_t nr, nl, ne;
    rl_stats(rl, &nr, &nl, &ne);
    ASSERT_EQ(nr, 0);
    ASSERT_EQ(nl, 3);
    ASSERT(ne >= 1);
    rl_free(rl);
}

int main(void)
{
    RUN(parse);
    RUN(bucket_arithmetic);
    RUN(keys_and_policies_are_independent);
    RUN(memory_is_bounded);
    RUN(concurrent_takes_are_exact);
    RUN(bad_redis_urls);
    RUN(unreachable_redis_falls_back_to_local);
    return TEST_REPORT();
}
