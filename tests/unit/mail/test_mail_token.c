/* test_mail_token.c - unsubscribe tokens: round trip, forgery, malformed,
 * truncated, oversized and hostile input. */
#include <sodium.h>
#include <string.h>

#include "core/secret.h"
#include "harness.h"
#include "mail/mail_token.h"

static struct ff_secret *k1, *k2;

TEST(round_trip)
{
    char t[MAIL_TOKEN_MAX], email[MAIL_ADDR_MAX + 1], list[MAIL_LIST_MAX + 1];
    ASSERT_OK(mail_token_make(k1, "ada+x@example.com", "all", t, sizeof t));
    ASSERT(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
           strlen(t));
    ASSERT_OK(mail_token_check(k1, t, email, list));
    ASSERT_STREQ(email, "ada+x@example.com");
    ASSERT_STREQ(list, "all");
    ASSERT_EQ(mail_token_make(k1, "not an address", "all", t, sizeof t), FF_EINVAL);
    ASSERT_EQ(mail_token_make(k1, "a@b.c", "Bad List", t, sizeof t), FF_EINVAL);
    ASSERT_EQ(mail_token_make(k1, "a@b.c", "all", t, 10), FF_EINVAL);
}

TEST(forged_and_malformed)
{
    char t[MAIL_TOKEN_MAX], email[MAIL_ADDR_MAX + 1], list[MAIL_LIST_MAX + 1];
    ASSERT_OK(mail_token_make(k1, "ada@example.com", "all", t, sizeof t));
    /* another key */
    ASSERT_EQ(mail_token_check(k2, t, email, list), FF_EFORBIDDEN);
    /* payload swapped for another address, MAC kept */
    char other[MAIL_TOKEN_MAX];
    ASSERT_OK(mail_token_make(k1, "eve@example.com", "all", other, sizeof other));
    char mixed[2 * MAIL_TOKEN_MAX];
    snprintf(mixed, sizeof mixed, "%.*s%s", (int)(strchr(other, '.') - other), other,
             strchr(t, '.'));
    ASSERT_EQ(mail_token_check(k1, mixed, email, list), FF_EFORBIDDEN);
    /* every single-character change is refused */
    for (size_t i = 0; i < strlen(t); i++) {
        char x[MAIL_TOKEN_MAX];
        strcpy(x, t);
        x[i] = x[i] == 'A' ? 'B' : 'A';
        enum ff_err e = mail_token_check(k1, x, email, list);
        if (e != FF_EFORBIDDEN && e != FF_EINVAL)
            TEST_FAIL("changed byte %zu accepted", i);
    }
    /* every truncation is refused */
    for (size_t n = 0; n < strlen(t); n++) {
        char x[MAIL_TOKEN_MAX];
        memcpy(x, t, n);
        x[n] = 0;
        ASSERT(mail_token_check(k1, x, email, list) != FF_OK);
    }
    const char *bad[] = {"", ".", "..", "abc", "abc.", ".abc", "a.b.c", "a b.c", "a+b.c",
                         "a/b.c", "====.====", "\xff\xfe.x", "%00.%00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ASSERT_EQ(mail_token_check(k1, bad[i], email, list), FF_EINVAL);
    ASSERT_EQ(mail_token_check(k1, NULL, email, list), FF_EINVAL);
    /* oversized */
    char big[4096];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[100] = '.';
    ASSERT_EQ(mail_token_check(k1, big, email, list), FF_EINVAL);
    /* a MAC of the wrong length */
    char shortmac[MAIL_TOKEN_MAX];
    snprintf(shortmac, sizeof shortmac, "%.*s.AAAA", (int)(strchr(t, '.') - t), t);
    ASSERT_EQ(mail_token_check(k1, shortmac, email, list), FF_EINVAL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    unsigned char a[FF_SECRET_BYTES], b[FF_SECRET_BYTES];
    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    if (ff_secret_from_bytes(&k1, a) || ff_secret_from_bytes(&k2, b))
        return 1;
    RUN(round_trip);
    RUN(forged_and_malformed);
    ff_secret_free(k1);
    ff_secret_free(k2);
    return TEST_REPORT();
}
