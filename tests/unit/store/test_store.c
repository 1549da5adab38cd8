/* test_store.c - the object store's local directory backend. */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "store/store.h"

static char root[256];

static struct store *open_store(void)
{
    char url[300], err[256] = "";
    struct store *st = NULL;
    snprintf(url, sizeof url, "file://%s/objects", root);
    enum ff_err e = store_open(url, NULL, &st, err, sizeof err);
    if (e)
        TEST_FAIL("store_open: %s %s", ff_err_name(e), err);
    return st;
}

/* Files under dir (recursively), not counting the tmp folder. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char p[1024];
        struct stat sb;
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &sb))
            continue;
        if (S_ISDIR(sb.st_mode))
            n += strcmp(de->d_name, "tmp") ? count_files(p) : 0;
        else
            n++;
    }
    closedir(d);
    return n;
}

TEST(put_get_delete)
{
    struct store *st = open_store();
    char key[STORE_KEY_LEN + 1];
    const char data[] = "hello, objects";
    ASSERT_OK(store_put(st, data, sizeof data - 1, "text/plain", key));
    /* sha256("hello, objects") computed independently */
    char want[STORE_KEY_LEN + 1];
    store_key_of(data, sizeof data - 1, want);
    ASSERT_STREQ(key, want);
    ASSERT(store_key_valid(key));
    char path[1024];
    snprintf(path, sizeof path, "%s/objects/%.2s/%.2s/%s", root, key, key + 2, key);
    ASSERT_EQ(access(path, R_OK), 0);
    void *got;
    size_t n;
    ASSERT_OK(store_get(st, key, 0, &got, &n));
    ASSERT_EQ(n, sizeof data - 1);
    ASSERT(!memcmp(got, data, n));
    ff_free(got);
    bool there;
    ASSERT_OK(store_exists(st, key, &there));
    ASSERT(there);
    /* idempotent put: same key, still one file */
    char key2[STORE_KEY_LEN + 1];
    ASSERT_OK(store_put(st, data, sizeof data - 1, NULL, key2));
    ASSERT_STREQ(key, key2);
    ASSERT_EQ(count_files(store_file_root(st)), 1);
    ASSERT_EQ(store_get(st, key, 4, &got, &n), FF_ETOOBIG);
    ASSERT_OK(store_delete(st, key));
    ASSERT_OK(store_exists(st, key, &there));
    ASSERT(!there);
    ASSERT_OK(store_delete(st, key)); /* deletes are idempotent */
    ASSERT_EQ(store_get(st, key, 0, &got, &n), FF_ENOTFOUND);
    ASSERT(got == NULL);
    /* the empty object */
    ASSERT_OK(store_put(st, "", 0, NULL, key));
    ASSERT_OK(store_get(st, key, 0, &got, &n));
    ASSERT_EQ(n, 0);
    ff_free(got);
    ASSERT_OK(store_delete(st, key));
    store_close(st);
}

TEST(missing_keys)
{
    struct store *st = open_store();
    void *got;
    size_t n;
    bool there = true;
    const char *k = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    ASSERT_EQ(store_get(st, k, 0, &got, &n), FF_ENOTFOUND);
    ASSERT_OK(store_exists(st, k, &there));
    ASSERT(!there);
    ASSERT_OK(store_delete(st, k));
    store_close(st);
}

TEST(hostile_keys)
{
    struct store *st = open_store();
    /* a file outside the store that a traversal would reach */
    char outside[512];
    snprintf(outside, sizeof outside, "%s/secret", root);
    FILE *f = fopen(outside, "w");
    ASSERT(f);
    fputs("x", f);
    fclose(f);
    const char *bad[] = {
        NULL, "", "../secret", "../../../../../../etc/passwd",
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", /* upper case */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",  /* 63 */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", /* 65 */
        "../../secret0123456789abcdef0123456789abcdef0123456789abcdef012",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd/.",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *got = (void *)1;
        size_t n = 1;
        bool there = true;
        ASSERT(!store_key_valid(bad[i]));
        ASSERT_EQ(store_get(st, bad[i], 0, &got, &n), FF_EINVAL);
        ASSERT(got == NULL && n == 0);
        ASSERT_EQ(store_delete(st, bad[i]), FF_EINVAL);
        ASSERT_EQ(store_exists(st, bad[i], &there), FF_EINVAL);
        ASSERT(!there);
    }
    ASSERT_EQ(access(outside, F_OK), 0); /* untouched */
    /* NUL in the middle of an otherwise valid key */
    char k[STORE_KEY_LEN + 1];
    memset(k, 'a', STORE_KEY_LEN);
    k[STORE_KEY_LEN] = '\0';
    ASSERT(store_key_valid(k));
    k[10] = '\0';
    ASSERT(!store_key_valid(k));
    store_close(st);
}

struct put_arg {
    struct store *st;
    const char *data;
    size_t len;
    int fails;
    char key[STORE_KEY_LEN + 1];
};

static void *put_loop(void *p)
{
    struct put_arg *a = p;
    for (int i = 0; i < 50; i++)
        if (store_put(a->st, a->data, a->len, NULL, a->key))
            a->fails++;
    return NULL;
}

TEST(concurrent_puts_same_object)
{
    struct store *st = open_store();
    size_t len = 200000;
    char *data = ff_malloc(len);
    ASSERT(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 7 + 3);
    pthread_t th[8];
    struct put_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct put_arg){.st = st, .data = data, .len = len};
        ASSERT_EQ(pthread_create(&th[i], NULL, put_loop, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++) {
        ASSERT_EQ(args[i].fails, 0);
        ASSERT_STREQ(args[i].key, args[0].key);
    }
    void *got;
    size_t n;
    ASSERT_OK(store_get(st, args[0].key, 0, &got, &n));
    ASSERT_EQ(n, len);
    ASSERT(!memcmp(got, data, len));
    ff_free(got);
    /* no temp files left behind */
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/tmp", store_file_root(st));
    ASSERT_EQ(count_files(tmp), 0);
    ASSERT_OK(store_delete(st, args[0].key));
    ff_free(data);
    store_close(st);
}

TEST(open_errors)
{
    struct store *st = (struct store *)1;
    char err[256] = "";
    ASSERT_EQ(store_open("s3://bucket/x", NULL, &st, err, sizeof err), FF_EUNSUPPORTED);
    ASSERT(st == NULL);
    ASSERT(strstr(err, "unsupported"));
    /* a file where the folder should be */
    char url[600], file[512];
    snprintf(file, sizeof file, "%s/afile", root);
    FILE *f = fopen(file, "w");
    ASSERT(f);
    fclose(f);
    snprintf(url, sizeof url, "file://%s/sub", file);
    ASSERT_EQ(store_open(url, NULL, &st, err, sizeof err), FF_EIO);
    /* the default: DATA_DIR/objects */
    ASSERT_OK(store_open(NULL, root, &st, err, sizeof err));
    ASSERT_STREQ(store_scheme(st), "file");
    char want[600];
    snprintf(want, sizeof want, "%s/objects", root);
    ASSERT_STREQ(store_file_root(st), want);
    store_close(st);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/ff-store-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(put_get_delete);
    RUN(missing_keys);
    RUN(hostile_keys);
    RUN(concurrent_puts_same_object);
    RUN(open_errors);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return TEST_REPORT();
}
