#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/secret.h"

static char dir[] = "/tmp/ff_secret_XXXXXX";

static struct ff_config *cfg_with(const char *key)
{
    static char d[64], k[100];
    snprintf(d, sizeof d, "FRAMEFIT_DATA_DIR=%s/data", dir);
    snprintf(k, sizeof k, "FRAMEFIT_SECRET_KEY=%s", key);
    char *env[] = {d, k, NULL};
    struct ff_config *c = NULL;
    char why[256];
    if (ff_config_load(&c, env, why, sizeof why))
        TEST_FAIL("config: %s", why);
    return c;
}

static const char HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST(from_env_is_deterministic_and_contexts_differ)
{
    struct ff_config *c = cfg_with(HEX);
    struct ff_secret *a = NULL, *b = NULL;
    char why[256];
    ASSERT_EQ(ff_secret_open(&a, c, why, sizeof why), FF_OK);
    ASSERT_EQ(ff_secret_open(&b, c, why, sizeof why), FF_OK);
    unsigned char k1[32], k2[32], k3[32], k4[32];
    ASSERT_EQ(ff_secret_derive(a, "unsubscr", 1, k1, 32), FF_OK);
    ASSERT_EQ(ff_secret_derive(b, "unsubscr", 1, k2, 32), FF_OK);
    ASSERT_EQ(ff_secret_derive(a, "csrf-tok", 1, k3, 32), FF_OK);
    ASSERT_EQ(ff_secret_derive(a, "unsubscr", 2, k4, 32), FF_OK);
    ASSERT(memcmp(k1, k2, 32) == 0);
    ASSERT(memcmp(k1, k3, 32) != 0);
    ASSERT(memcmp(k1, k4, 32) != 0);
    ASSERT_EQ(ff_secret_derive(a, "unsubscr", 1, k1, 8), FF_EINVAL);
    unsigned char mac[32];
    ff_secret_mac(a, "unsubscr", "hello", 5, mac);
    ASSERT(ff_secret_mac_ok(b, "unsubscr", "hello", 5, mac));
    ASSERT(!ff_secret_mac_ok(b, "unsubscr", "hellp", 5, mac));
    ASSERT(!ff_secret_mac_ok(b, "csrf-tok", "hello", 5, mac));
    mac[31] ^= 1;
    ASSERT(!ff_secret_mac_ok(b, "unsubscr", "hello", 5, mac));
    ff_secret_free(a);
    ff_secret_free(b);
    ff_config_free(c);
}

TEST(file_is_created_once_with_mode_0600_and_reused)
{
    struct ff_config *c = cfg_with("");
    struct ff_secret *a = NULL, *b = NULL;
    char why[256], path[128];
    ASSERT_EQ(ff_secret_open(&a, c, why, sizeof why), FF_OK);
    snprintf(path, sizeof path, "%s/data/secret.key", dir);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(ff_secret_open(&b, c, why, sizeof why), FF_OK);
    unsigned char m1[32], m2[32];
    ff_secret_mac(a, "unsubscr", "x", 1, m1);
    ff_secret_mac(b, "unsubscr", "x", 1, m2);
    ASSERT(memcmp(m1, m2, 32) == 0);
    ff_secret_free(a);
    ff_secret_free(b);
    /* a damaged file is a clear error, not a silent new key */
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    ASSERT_EQ(ff_secret_open(&a, c, why, sizeof why), FF_ECORRUPT);
    ASSERT(strstr(why, "secret.key"));
    unlink(path);
    ff_config_free(c);
}

TEST(bad_env_key_is_refused_by_config)
{
    char *env[] = {"FRAMEFIT_SECRET_KEY=abc", NULL};
    struct ff_config *c = NULL;
    char why[256] = "";
    ASSERT_EQ(ff_config_load(&c, env, why, sizeof why), FF_EINVAL);
    ASSERT(strstr(why, "FRAMEFIT_SECRET_KEY"));
    ASSERT(!strstr(why, "abc")); /* a secret is never echoed */
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(from_env_is_deterministic_and_contexts_differ);
    RUN(file_is_created_once_with_mode_0600_and_reused);
    RUN(bad_env_key_is_refused_by_config);
    rmdir(dir);
    return TEST_REPORT();
}
