#include "harness.h"

#include "core/alloc.h"
#include "core/err.h"

TEST(err_names)
{
    ASSERT_STREQ(ff_err_name(FF_OK), "OK");
    ASSERT_STREQ(ff_err_name(FF_EINVAL), "EINVAL");
    ASSERT_STREQ(ff_err_name((enum ff_err)9999), "EUNKNOWN");
    for (int e = 0; e < FF_ERR_COUNT; e++) {
        ASSERT(ff_err_name((enum ff_err)e) != NULL);
        ASSERT(ff_err_str((enum ff_err)e) != NULL);
    }
}

TEST(alloc_accounting)
{
    size_t before = ff_alloc_used();
    char *p = ff_strdup("framefit");
    ASSERT(p);
    ASSERT_EQ(ff_alloc_used(), before + 9);
    p = ff_realloc(p, 100);
    ASSERT(p);
    ASSERT_STREQ(p, "framefit");
    ASSERT_EQ(ff_alloc_used(), before + 100);
    ff_free(p);
    ASSERT_EQ(ff_alloc_used(), before);
}

TEST(alloc_failpoint)
{
    ff_alloc_fail_after(2);
    void *a = ff_malloc(8);
    void *b = ff_malloc(8);
    void *c = ff_malloc(8);
    ASSERT(a != NULL);
    ASSERT(b == NULL);
    ASSERT(c != NULL);
    ff_free(a);
    ff_free(c);
    ASSERT(ff_calloc((size_t)-1, 2) == NULL);
}

int main(void)
{
    RUN(err_names);
    RUN(alloc_accounting);
    RUN(alloc_failpoint);
    return TEST_REPORT();
}
