#include "harness.h"

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"

static struct ff_config *load_ok(char *const *env)
{
    struct ff_config *c = NULL;
    char why[256] = "";
    if (ff_config_load(&c, env, why, sizeof why) != FF_OK)
        TEST_FAIL("unexpected config error: %s", why);
    return c;
}

static void expect_bad(char *const *env, const char *needle)
{
    struct ff_config *c = NULL;
    char why[256] = "";
    enum ff_err e = ff_config_load(&c, env, why, sizeof why);
    if (e != FF_EINVAL || c)
        TEST_FAIL("expected FF_EINVAL for %s", env[0]);
    if (!strstr(why, needle))
        TEST_FAIL("message \"%s\" lacks \"%s\"", why, needle);
    if (strchr(why, '\n'))
        TEST_FAIL("message is not one line: %s", why);
}

TEST(defaults)
{
    char *env[] = {NULL};
    struct ff_config *c = load_ok(env);
    ASSERT_EQ(c->port, 8080);
    ASSERT_STREQ(c->bind, "127.0.0.1");
    ASSERT_STREQ(c->data_dir, "./var");
    ASSERT_STREQ(c->database_url, "sqlite://./var/framefit.db");
    ASSERT_STREQ(ff_config_sqlite_path(c), "./var/framefit.db");
    ASSERT_EQ(c->log_level, FF_LOG_INFO);
    ASSERT_EQ(c->max_body_bytes, 1024 * 1024);
    ASSERT_STREQ(c->admin_token, "");
    ASSERT_STREQ(c->cors_origins, "");
    ff_config_free(c);
}

TEST(overrides)
{
    char *env[] = {"FRAMEFIT_PORT=9000", "FRAMEFIT_BIND=::1", "FRAMEFIT_DATA_DIR=/tmp/x",
                   "FRAMEFIT_LOG_LEVEL=debug", "FRAMEFIT_MAX_BODY_BYTES=64K",
                   "FRAMEFIT_ADMIN_TOKEN=0123456789abcdef", "PATH=/bin",
                   "FRAMEFIT_CORS_ORIGINS=https://a.example, http://localhost:3000", NULL};
    struct ff_config *c = load_ok(env);
    ASSERT_EQ(c->port, 9000);
    ASSERT_STREQ(c->bind, "::1");
    ASSERT_STREQ(c->database_url, "sqlite:///tmp/x/framefit.db");
    ASSERT_EQ(c->log_level, FF_LOG_DEBUG);
    ASSERT_EQ(c->max_body_bytes, 65536);
    ASSERT_STREQ(c->admin_token, "0123456789abcdef");
    char d[512];
    ff_config_describe(c, d, sizeof d);
    ASSERT(strstr(d, "0123456789abcdef") == NULL); /* secrets never described */
    ff_config_free(c);

    char *env2[] = {"FRAMEFIT_DATABASE_URL=postgres://u:p@127.0.0.1:5432/ff", NULL};
    c = load_ok(env2);
    ASSERT_STREQ(c->database_url, "postgres://u:p@127.0.0.1:5432/ff");
    ASSERT(ff_config_sqlite_path(c) == NULL);
    ff_config_describe(c, d, sizeof d);
    ASSERT(strstr(d, "u:p") == NULL);
    ff_config_free(c);
}

TEST(bad_values_name_the_variable)
{
    expect_bad((char *[]){"FRAMEFIT_PORT=http", NULL}, "FRAMEFIT_PORT");
    expect_bad((char *[]){"FRAMEFIT_PORT=65536", NULL}, "0..65535");
    expect_bad((char *[]){"FRAMEFIT_PORT=-1", NULL}, "FRAMEFIT_PORT");
    expect_bad((char *[]){"FRAMEFIT_PORT= 80", NULL}, "FRAMEFIT_PORT");
    expect_bad((char *[]){"FRAMEFIT_PORT=", NULL}, "FRAMEFIT_PORT");
    expect_bad((char *[]){"FRAMEFIT_PORT=99999999999999999999999", NULL}, "FRAMEFIT_PORT");
    expect_bad((char *[]){"FRAMEFIT_BIND=localhost", NULL}, "FRAMEFIT_BIND");
    expect_bad((char *[]){"FRAMEFIT_DATABASE_URL=mysql://x", NULL}, "FRAMEFIT_DATABASE_URL");
    expect_bad((char *[]){"FRAMEFIT_DATABASE_URL=sqlite://", NULL}, "FRAMEFIT_DATABASE_URL");
    expect_bad((char *[]){"FRAMEFIT_LOG_LEVEL=loud", NULL}, "FRAMEFIT_LOG_LEVEL");
    expect_bad((char *[]){"FRAMEFIT_MAX_BODY_BYTES=1G", NULL}, "FRAMEFIT_MAX_BODY_BYTES");
    expect_bad((char *[]){"FRAMEFIT_MAX_BODY_BYTES=0", NULL}, "FRAMEFIT_MAX_BODY_BYTES");
    expect_bad((char *[]){"FRAMEFIT_CORS_ORIGINS=shop.example", NULL}, "FRAMEFIT_CORS_ORIGINS");
    expect_bad((char *[]){"FRAMEFIT_MIGRATE_ON_START=yes", NULL}, "0 or 1");
    expect_bad((char *[]){"FRAMEFIT_DATA_DIR=", NULL}, "FRAMEFIT_DATA_DIR");
    /* a short secret is rejected without echoing it */
    struct ff_config *c = NULL;
    char why[256];
    ASSERT_EQ(ff_config_load(&c, (char *[]){"FRAMEFIT_ADMIN_TOKEN=hunter2", NULL}, why,
                             sizeof why), FF_EINVAL);
    ASSERT(strstr(why, "FRAMEFIT_ADMIN_TOKEN"));
    ASSERT(!strstr(why, "hunter2"));
}

TEST(oom_is_clean)
{
    char *env[] = {"FRAMEFIT_BIND=::1", NULL};
    for (long n = 1; n < 40; n++) {
        struct ff_config *c = NULL;
        char why[256];
        size_t before = ff_alloc_used();
        ff_alloc_fail_after(n);
        enum ff_err e = ff_config_load(&c, env, why, sizeof why);
        ff_alloc_fail_after(0);
        if (e == FF_OK) {
            ff_config_free(c);
        } else {
            ASSERT_EQ(e, FF_ENOMEM);
            ASSERT(c == NULL);
        }
        ASSERT_EQ(ff_alloc_used(), before);
    }
}

TEST(help_lists_every_variable)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ff_config_print_help(f);
    fclose(f);
    const char *names[] = {"FRAMEFIT_PORT", "FRAMEFIT_BIND", "FRAMEFIT_DATA_DIR",
                           "FRAMEFIT_DATABASE_URL", "FRAMEFIT_LOG_LEVEL", "FRAMEFIT_CORS_ORIGINS",
                           "FRAMEFIT_MAX_BODY_BYTES", "FRAMEFIT_REQUEST_TIMEOUT",
                           "FRAMEFIT_ADMIN_TOKEN", "FRAMEFIT_THREADS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ASSERT(strstr(buf, names[i]));
    free(buf);
}

int main(void)
{
    ff_log_set_stream(fopen("/dev/null", "w"));
    RUN(defaults);
    RUN(overrides);
    RUN(bad_values_name_the_variable);
    RUN(oom_is_clean);
    RUN(help_lists_every_variable);
    return TEST_REPORT();
}
