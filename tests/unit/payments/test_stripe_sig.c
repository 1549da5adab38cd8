/* Stripe-Signature verification: own vectors, hostile headers, and (when
 * the vectors file exists) headers produced by Stripe's official Node SDK. */
#include "harness.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "payments/stripe.h"

static const char *SECRET = "whsec_test_secret";
static const char *BODY = "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}";

static enum ff_err verify(const char *hdr, const char *body, int64_t now)
{
    char why[256] = "";
    enum ff_err e = stripe_sig_verify(hdr, body, strlen(body), SECRET, now,
                                      STRIPE_SIG_TOLERANCE_S, NULL, why, sizeof why);
    if (e && !why[0])
        TEST_FAIL("error without a reason for %s", hdr ? hdr : "(null)");
    if (strstr(why, SECRET))
        TEST_FAIL("reason leaks the secret: %s", why);
    return e;
}

TEST(round_trip_and_window)
{
    char h[256];
    int64_t t = 1700000000;
    stripe_sig_header(BODY, strlen(BODY), SECRET, t, h, sizeof h);
    ASSERT_EQ(verify(h, BODY, t), FF_OK);
    ASSERT_EQ(verify(h, BODY, t + 300), FF_OK);
    ASSERT_EQ(verify(h, BODY, t - 300), FF_OK);
    ASSERT_EQ(verify(h, BODY, t + 301), FF_EAUTH); /* replayed too late */
    ASSERT_EQ(verify(h, BODY, t - 301), FF_EAUTH); /* from the future */
    /* one byte of the payload changed */
    ASSERT_EQ(verify(h, "{\"id\":\"evt_2\",\"type\":\"payment_intent.succeeded\"}", t), FF_EAUTH);
}

TEST(several_v1_and_other_schemes)
{
    char good[256], hdr[1024];
    int64_t t = 1700000000;
    stripe_sig_header(BODY, strlen(BODY), SECRET, t, good, sizeof good);
    const char *v1 = strstr(good, "v1=");
    /* a rolled secret: the old signature first, the right one second */
    snprintf(hdr, sizeof hdr,
             "t=%lld,v1=%064d,v0=deadbeef,%s", (long long)t, 0, v1);
    ASSERT_EQ(verify(hdr, BODY, t), FF_OK);
    /* spaces after commas are tolerated */
    snprintf(hdr, sizeof hdr, "t=%lld, %s", (long long)t, v1);
    ASSERT_EQ(verify(hdr, BODY, t), FF_OK);
    /* only a v0 (Stripe's test scheme) is not enough */
    snprintf(hdr, sizeof hdr, "t=%lld,v0=%s", (long long)t, v1 + 3);
    ASSERT_EQ(verify(hdr, BODY, t), FF_EAUTH);
    /* uppercase hex is not what Stripe sends */
    char up[256];
    snprintf(up, sizeof up, "%s", good);
    for (char *p = strstr(up, "v1=") + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    ASSERT_EQ(verify(up, BODY, t), FF_EAUTH);
}

TEST(hostile_headers)
{
    int64_t t = 1700000000;
    const char *bad_format[] = {"", "v1=00", "t=,v1=00", "t=abc,v1=00", "t=-5,v1=00",
                                "t=1,t=1,v1=00", "t=99999999999999999999999,v1=00", "garbage",
                                "t=1700000000,,,", "t=1700000000,x"};
    for (size_t i = 0; i < sizeof bad_format / sizeof *bad_format; i++) {
        enum ff_err e = verify(bad_format[i], BODY, t);
        if (e != FF_EINVAL && e != FF_EAUTH)
            TEST_FAIL("header '%s' gave %d", bad_format[i], (int)e);
        ASSERT(e != FF_OK);
    }
    ASSERT_EQ(verify(NULL, BODY, t), FF_EINVAL);
    ASSERT_EQ(verify("t=1700000000", BODY, t), FF_EAUTH);      /* no v1 */
    ASSERT_EQ(verify("t=1700000000,v1=", BODY, t), FF_EAUTH);  /* empty v1 */
    ASSERT_EQ(verify("t=1700000000,v1=zz", BODY, t), FF_EAUTH);
    /* oversized header */
    size_t n = STRIPE_SIG_HEADER_MAX + 10;
    char *big = calloc(1, n + 1); /* checksrc: allow (test) */
    memset(big, 'a', n);
    memcpy(big, "t=1700000000,v1=", 16);
    ASSERT_EQ(verify(big, BODY, t), FF_EINVAL);
    free(big); /* checksrc: allow (test) */
    /* no secret configured: nothing verifies */
    char h[256], why[128];
    stripe_sig_header(BODY, strlen(BODY), SECRET, t, h, sizeof h);
    ASSERT_EQ(stripe_sig_verify(h, BODY, strlen(BODY), "", t, 300, NULL, why, sizeof why), FF_EAUTH);
}

TEST(official_sdk_vectors)
{
    const char *path = getenv("FF_STRIPE_VECTORS");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        TEST_SKIP("no vectors from Stripe's SDK (node/npm missing or stripe_sdk_vectors skipped)");
    char line[8192];
    int n = 0, ok = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *v = json_loads(line, 0, &je);
        ASSERT(v);
        const char *payload = json_string_value(json_object_get(v, "payload"));
        const char *secret = json_string_value(json_object_get(v, "secret"));
        const char *header = json_string_value(json_object_get(v, "header"));
        int64_t now = json_integer_value(json_object_get(v, "now"));
        int valid = json_is_true(json_object_get(v, "valid"));
        char why[256];
        enum ff_err e = stripe_sig_verify(header, payload, strlen(payload), secret, now, 300, NULL,
                                          why, sizeof why);
        if ((e == FF_OK) != valid)
            TEST_FAIL("SDK vector %d: expected %s, got %s (%s)", n, valid ? "valid" : "invalid",
                      ff_err_name(e), why);
        ok += valid;
        n++;
        json_decref(v);
    }
    fclose(f);
    ASSERT(n >= 40);
    ASSERT(ok >= 10);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "sdk")) { /* test_stripe_sdk: needs the vectors */
        RUN(official_sdk_vectors);
        return TEST_REPORT();
    }
    RUN(round_trip_and_window);
    RUN(several_v1_and_other_schemes);
    RUN(hostile_headers);
    return TEST_REPORT();
}
