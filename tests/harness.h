/* harness.h - a tiny unit-test harness (after libuv's test/task.h).
 *
 *   TEST(name) { ASSERT_EQ(1 + 1, 2); }
 *   int main(void) { RUN(name); return TEST_REPORT(); }
 *
 * A failed assertion prints file:line and ends the current test; the run goes
 * on with the next test. TEST_REPORT prints "N passed, N failed" and returns
 * the exit code. TEST_SKIP(msg) ends the whole program with 77 (CTest skip). */
#ifndef FF_TESTS_HARNESS_H
#define FF_TESTS_HARNESS_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_passed, th_failed;
static jmp_buf th_jmp;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                        \
    do {                                                 \
        if (setjmp(th_jmp) == 0) {                       \
            test_##name();                               \
            th_passed++;                                 \
            fprintf(stderr, "ok   %s\n", #name);         \
        } else {                                         \
            th_failed++;                                 \
            fprintf(stderr, "FAIL %s\n", #name);         \
        }                                                \
    } while (0)

#define TEST_FAIL(...)                                              \
    do {                                                            \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);             \
        fprintf(stderr, __VA_ARGS__);                               \
        fputc('\n', stderr);                                        \
        longjmp(th_jmp, 1);                                         \
    } while (0)

#define ASSERT(c)                                   \
    do {                                            \
        if (!(c))                                   \
            TEST_FAIL("assertion failed: %s", #c);  \
    } while (0)

#define ASSERT_EQ(a, b)                                                          \
    do {                                                                         \
        long long th_a = (long long)(a), th_b = (long long)(b);                  \
        if (th_a != th_b)                                                        \
            TEST_FAIL("%s == %s: %lld != %lld", #a, #b, th_a, th_b);             \
    } while (0)

#define ASSERT_OK(e) ASSERT_EQ((e), 0)

#define ASSERT_STREQ(a, b)                                                       \
    do {                                                                         \
        const char *th_a = (a), *th_b = (b);                                     \
        if (!th_a || !th_b || strcmp(th_a, th_b))                                \
            TEST_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, th_a ? th_a : "(null)", \
                      th_b ? th_b : "(null)");                                   \
    } while (0)

#define ASSERT_NEAR(a, b, eps)                                                   \
    do {                                                                         \
        double th_a = (a), th_b = (b);                                           \
        if (!(th_a - th_b <= (eps) && th_b - th_a <= (eps)))                     \
            TEST_FAIL("%s ~ %s: %g vs %g (eps %g)", #a, #b, th_a, th_b, (double)(eps)); \
    } while (0)

#define TEST_SKIP(msg)                              \
    do {                                            \
        fprintf(stderr, "SKIP: %s\n", msg);         \
        exit(77);                                   \
    } while (0)

#define TEST_REPORT()                                                        \
    (fprintf(stderr, "%d passed, %d failed\n", th_passed, th_failed),        \
     th_failed ? 1 : 0)

#endif
