/* secret.c - the master key: load, create, derive, MAC (see secret.h). */
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/str.h"

struct ff_secret {
    unsigned char key[crypto_kdf_KEYBYTES];
};

_Static_assert(crypto_kdf_KEYBYTES == FF_SECRET_BYTES, "master key size");

static enum ff_err alloc_secret(struct ff_secret **out)
{
    if (sodium_init() < 0)
        return FF_EINTERNAL;
    struct ff_secret *s = ff_calloc(1, sizeof *s);
    if (!s)
        return FF_ENOMEM;
    sodium_mlock(s, sizeof *s); /* best effort: may fail under RLIMIT_MEMLOCK */
    *out = s;
    return FF_OK;
}

enum ff_err ff_secret_from_bytes(struct ff_secret **out, const unsigned char key[FF_SECRET_BYTES])
{
    enum ff_err e = alloc_secret(out);
    if (!e)
        memcpy((*out)->key, key, FF_SECRET_BYTES);
    return e;
}

static enum ff_err from_hex(struct ff_secret *s, const char *hex, char *why, size_t len)
{
    size_t n = 0;
    if (sodium_hex2bin(s->key, sizeof s->key, hex, strlen(hex), NULL, &n, NULL) ||
        n != sizeof s->key) {
        ff_errbuf(why, len, "FRAMEFIT_SECRET_KEY: must be 64 hex digits");
        return FF_EINVAL;
    }
    return FF_OK;
}

/* Reads DATA_DIR/secret.key, or creates it (O_EXCL, 0600) when absent. */
static enum ff_err from_file(struct ff_secret *s, const char *dir, char *why, size_t len)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/secret.key", dir) >= sizeof path) {
        ff_errbuf(why, len, "FRAMEFIT_DATA_DIR: path too long");
        return FF_EINVAL;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char hex[66];
            ssize_t got = read(fd, hex, sizeof hex);
            close(fd);
            while (got > 0 && (hex[got - 1] == '\n' || hex[got - 1] == '\r'))
                got--;
            if (got != 64) {
                ff_errbuf(why, len, "%s: expected 64 hex digits (delete it to make a new key;"
                          " signed links and tokens already issued stop working)", path);
                return FF_ECORRUPT;
            }
            hex[64] = '\0';
            size_t n = 0;
            if (sodium_hex2bin(s->key, sizeof s->key, hex, 64, NULL, &n, NULL) ||
                n != sizeof s->key) {
                ff_errbuf(why, len, "%s: not hex", path);
                return FF_ECORRUPT;
            }
            return FF_OK;
        }
        if (errno != ENOENT) {
            ff_errbuf(why, len, "%s: %s", path, strerror(errno));
            return FF_EIO;
        }
        (void)mkdir(dir, 0700);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST)
                continue; /* another process created it first: read theirs */
            ff_errbuf(why, len, "%s: cannot create: %s", path, strerror(errno));
            return FF_EIO;
        }
        char hex[65 + 1];
        crypto_kdf_keygen(s->key);
        sodium_bin2hex(hex, sizeof hex - 1, s->key, sizeof s->key);
        hex[64] = '\n';
        int ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
        sodium_memzero(hex, sizeof hex);
        close(fd);
        if (!ok) {
            unlink(path);
            ff_errbuf(why, len, "%s: write failed", path);
            return FF_EIO;
        }
        return FF_OK;
    }
    ff_errbuf(why, len, "%s: could not be read or created", path);
    return FF_EIO;
}

enum ff_err ff_secret_open(struct ff_secret **out, const struct ff_config *cfg, char *why,
                           size_t len)
{
    struct ff_secret *s = NULL;
    enum ff_err e = alloc_secret(&s);
    if (e) {
        ff_errbuf(why, len, "secret key: %s", ff_err_str(e));
        return e;
    }
    if (cfg->secret_key && cfg->secret_key[0])
        e = from_hex(s, cfg->secret_key, why, len);
    else
        e = from_file(s, cfg->data_dir, why, len);
    if (e) {
        ff_secret_free(s);
        return e;
    }
    *out = s;
    return FF_OK;
}

void ff_secret_free(struct ff_secret *s)
{
    if (!s)
        return;
    sodium_memzero(s, sizeof *s);
    sodium_munlock(s, sizeof *s);
    ff_free(s);
}

enum ff_err ff_secret_derive(const struct ff_secret *s, const char context[8], uint64_t id,
                             unsigned char *out, size_t len)
{
    if (len < crypto_kdf_BYTES_MIN || len > crypto_kdf_BYTES_MAX)
        return FF_EINVAL;
    char ctx[crypto_kdf_CONTEXTBYTES];
    memcpy(ctx, context, sizeof ctx);
    return crypto_kdf_derive_from_key(out, len, id, ctx, s->key) ? FF_EINTERNAL : FF_OK;
}

void ff_secret_mac(const struct ff_secret *s, const char context[8], const void *msg,
                   size_t len, unsigned char mac[FF_SECRET_MAC_BYTES])
{
    unsigned char k[crypto_auth_hmacsha256_KEYBYTES];
    if (ff_secret_derive(s, context, 1, k, sizeof k))
        memset(k, 0, sizeof k); /* unreachable: 32 is in range */
    crypto_auth_hmacsha256(mac, msg, len, k);
    sodium_memzero(k, sizeof k);
}

int ff_secret_mac_ok(const struct ff_secret *s, const char context[8], const void *msg,
                     size_t len, const unsigned char mac[FF_SECRET_MAC_BYTES])
{
    unsigned char want[FF_SECRET_MAC_BYTES];
    ff_secret_mac(s, context, msg, len, want);
    int ok = sodium_memcmp(want, mac, sizeof want) == 0;
    sodium_memzero(want, sizeof want);
    return ok;
}
