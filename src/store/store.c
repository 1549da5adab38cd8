/* store.c - the object-store front (key checks, hashing) and the local
 * directory backend (see store.h). */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"

bool store_key_valid(const char *key)
{
    if (!key)
        return false;
    for (size_t i = 0; i < STORE_KEY_LEN; i++)
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
            return false;
    return key[STORE_KEY_LEN] == '\0';
}

void store_key_of(const void *data, size_t len, char key[STORE_KEY_LEN + 1])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, data, len);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof d; i++) {
        key[2 * i] = hex[d[i] >> 4];
        key[2 * i + 1] = hex[d[i] & 15];
    }
    key[STORE_KEY_LEN] = '\0';
}

enum ff_err store_put(struct store *st, const void *data, size_t len, const char *content_type,
                      char key_out[STORE_KEY_LEN + 1])
{
    char key[STORE_KEY_LEN + 1];
    if (!st || (!data && len))
        return FF_EINVAL;
    store_key_of(data ? data : "", len, key);
    enum ff_err e = st->ops->put(st, data ? data : "", len, content_type, key);
    if (!e)
        memcpy(key_out, key, sizeof key);
    return e;
}

enum ff_err store_get(struct store *st, const char *key, size_t max, void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!st || !store_key_valid(key))
        return FF_EINVAL;
    return st->ops->get(st, key, max ? max : STORE_MAX_GET, data, len);
}

enum ff_err store_delete(struct store *st, const char *key)
{
    if (!st || !store_key_valid(key))
        return FF_EINVAL;
    return st->ops->del(st, key);
}

enum ff_err store_exists(struct store *st, const char *key, bool *out)
{
    *out = false;
    if (!st || !store_key_valid(key))
        return FF_EINVAL;
    return st->ops->exists(st, key, out);
}

const char *store_scheme(const struct store *st)
{
    return st ? st->ops->scheme : NULL;
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

/* ---- the local directory backend ------------------------------------------ */

struct file_store {
    struct store base;
    char root[PATH_MAX];
    atomic_ulong seq; /* temp file names */
};

static const struct store_ops file_ops;

const char *store_file_root(const struct store *st)
{
    return st && st->ops == &file_ops ? ((const struct file_store *)st)->root : NULL;
}

/* root/aa/bb/key (dirs_only: root/aa/bb). */
static bool obj_path(const struct file_store *fs, const char *key, char *out, size_t n,
                     bool dirs_only)
{
    int w = dirs_only ? snprintf(out, n, "%s/%.2s/%.2s", fs->root, key, key + 2)
                      : snprintf(out, n, "%s/%.2s/%.2s/%s", fs->root, key, key + 2, key);
    return w > 0 && (size_t)w < n;
}

static int mkdir_ok(const char *p)
{
    return mkdir(p, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* mkdir -p for an absolute or relative path. */
static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    if (ff_strlcpy(tmp, path, sizeof tmp) >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir_ok(tmp))
            return -1;
        *p = '/';
    }
    return mkdir_ok(tmp);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static enum ff_err write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FF_EIO;
        p += w;
        len -= (size_t)w;
    }
    return FF_OK;
}

static enum ff_err file_put(struct store *st, const void *data, size_t len,
                            const char *content_type, const char *key)
{
    struct file_store *fs = (struct file_store *)st;
    char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
    (void)content_type;
    if (!obj_path(fs, key, dir, sizeof dir, true) || !obj_path(fs, key, path, sizeof path, false))
        return FF_EIO;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == len)
        return FF_OK; /* content-addressed: same key, same bytes */
    if (mkdirs(dir))
        return FF_EIO;
    unsigned long n = atomic_fetch_add(&fs->seq, 1);
    int w = snprintf(tmp, sizeof tmp, "%s/tmp/%s.%ld.%lu", fs->root, key, (long)getpid(), n);
    if (w < 0 || (size_t)w >= sizeof tmp)
        return FF_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return FF_EIO;
    enum ff_err e = write_all(fd, data, len);
    if (!e && fsync(fd))
        e = FF_EIO;
    if (close(fd))
        e = FF_EIO;
    /* rename is atomic: a concurrent put of the same key just replaces the
     * same bytes; a reader sees the old or the new file, never a partial one */
    if (!e && rename(tmp, path))
        e = FF_EIO;
    if (e)
        unlink(tmp);
    else
        fsync_dir(dir);
    return e;
}

static enum ff_err file_get(struct store *st, const char *key, size_t max, void **data,
                            size_t *len)
{
    struct file_store *fs = (struct file_store *)st;
    char path[PATH_MAX];
    if (!obj_path(fs, key, path, sizeof path, false))
        return FF_EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? FF_ENOTFOUND : FF_EIO;
    struct stat sb;
    enum ff_err e = FF_OK;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
        e = FF_EIO;
    else if ((uint64_t)sb.st_size > max)
        e = FF_ETOOBIG;
    else if (!(buf = ff_malloc((size_t)sb.st_size + 1)))
        e = FF_ENOMEM;
    while (!e && n < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            e = FF_EIO; /* shrank under us: objects never change, so this is damage */
        else
            n += (size_t)r;
    }
    close(fd);
    if (e) {
        ff_free(buf);
        return e;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return FF_OK;
}

static enum ff_err file_del(struct store *st, const char *key)
{
    struct file_store *fs = (struct file_store *)st;
    char path[PATH_MAX];
    if (!obj_path(fs, key, path, sizeof path, false))
        return FF_EIO;
    if (unlink(path) && errno != ENOENT && errno != ENOTDIR)
        return FF_EIO;
    return FF_OK;
}

static enum ff_err file_exists(struct store *st, const char *key, bool *out)
{
    struct file_store *fs = (struct file_store *)st;
    char path[PATH_MAX];
    struct stat sb;
    if (!obj_path(fs, key, path, sizeof path, false))
        return FF_EIO;
    if (stat(path, &sb) == 0) {
        *out = S_ISREG(sb.st_mode);
        return FF_OK;
    }
    return errno == ENOENT || errno == ENOTDIR ? FF_OK : FF_EIO;
}

static void file_close(struct store *st)
{
    ff_free(st);
}

static const struct store_ops file_ops = {"file", file_put, file_get, file_del, file_exists,
                                          file_close};

static enum ff_err file_open(const char *root, struct store **out, char *err, size_t errlen)
{
    struct file_store *fs = ff_calloc(1, sizeof *fs);
    char tmp[PATH_MAX];
    if (!fs)
        return FF_ENOMEM;
    fs->base.ops = &file_ops;
    size_t n = ff_strlcpy(fs->root, root, sizeof fs->root);
    while (n > 1 && fs->root[n - 1] == '/')
        fs->root[--n] = '\0';
    int w = snprintf(tmp, sizeof tmp, "%s/tmp", fs->root);
    if (!n || n >= sizeof fs->root - 80 || w < 0 || (size_t)w >= sizeof tmp) {
        ff_errbuf(err, errlen, "object store: path too long or empty");
        ff_free(fs);
        return FF_EINVAL;
    }
    if (mkdirs(fs->root) || mkdirs(tmp)) {
        ff_errbuf(err, errlen, "object store: cannot create %s: %s", tmp, strerror(errno));
        ff_free(fs);
        return FF_EIO;
    }
    *out = &fs->base;
    return FF_OK;
}

enum ff_err store_open(const char *url, const char *data_dir, struct store **out, char *err,
                       size_t errlen)
{
    char root[PATH_MAX];
    *out = NULL;
    if (sodium_init() < 0) {
        ff_errbuf(err, errlen, "object store: libsodium failed to initialise");
        return FF_EINTERNAL;
    }
    if (!url || !*url) {
        int w = snprintf(root, sizeof root, "%s/objects", data_dir && *data_dir ? data_dir : "./var");
        if (w < 0 || (size_t)w >= sizeof root) {
            ff_errbuf(err, errlen, "object store: data dir path too long");
            return FF_EINVAL;
        }
        return file_open(root, out, err, errlen);
    }
    if (!strncmp(url, "file://", 7))
        return file_open(url + 7, out, err, errlen);
    ff_errbuf(err, errlen, "object store: unsupported URL scheme in \"%.40s\" (file://PATH)", url);
    return FF_EUNSUPPORTED;
}
