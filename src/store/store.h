/* store.h - the object store: immutable, content-addressed blobs (photos,
 * renders) behind a small vtable, so a later backend (s3://) slots in.
 *
 *   struct store *st;
 *   store_open("file:///srv/objects", NULL, &st, err, sizeof err);   // or NULL url:
 *                                                    // DATA_DIR/objects
 *   char key[STORE_KEY_LEN + 1];
 *   store_put(st, bytes, n, "image/jpeg", key);      // key = sha256 hex of bytes
 *   store_get(st, key, STORE_MAX_GET, &data, &len);  // data: ff_free
 *   store_delete(st, key);
 *   store_close(st);
 *
 * Keys are exactly 64 lowercase hex digits (the SHA-256 of the content), so a
 * key can never name a path outside the store: every function checks the key
 * first and answers FF_EINVAL otherwise. A store is thread-safe.
 *
 * The local backend ("file://PATH") keeps PATH/aa/bb/<key> (aa, bb: the first
 * two byte pairs of the key). A put writes a temporary file in PATH/tmp, fsyncs
 * it, renames it into place and fsyncs the folder; putting an object that
 * exists already is a no-op (same key, same bytes), also under concurrency.
 * It does not keep content types (the caller records them; an S3 backend
 * would set Content-Type). */
#ifndef FF_STORE_STORE_H
#define FF_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define STORE_KEY_LEN 64
#define STORE_MAX_GET ((size_t)256 << 20) /* the largest object store_get reads */

struct store;

/* The backend's functions; a backend embeds struct store as its first member. */
struct store_ops {
    const char *scheme; /* "file" */
    enum ff_err (*put)(struct store *st, const void *data, size_t len, const char *content_type,
                       const char *key);
    enum ff_err (*get)(struct store *st, const char *key, size_t max, void **data, size_t *len);
    enum ff_err (*del)(struct store *st, const char *key);
    enum ff_err (*exists)(struct store *st, const char *key, bool *out);
    void (*close)(struct store *st);
};

struct store {
    const struct store_ops *ops;
};

/* Opens the store named by url: "file://PATH" (PATH absolute or relative), or
 * NULL/"" for DATA_DIR/objects (data_dir NULL = "./var"). The folder is
 * created (0700) when missing. Other schemes: FF_EUNSUPPORTED. On failure err
 * (may be NULL) gets a sentence. *out is owned by the caller (store_close). */
enum ff_err store_open(const char *url, const char *data_dir, struct store **out, char *err,
                       size_t errlen) FF_MUST_CHECK;
void store_close(struct store *st);

/* True when key is 64 lowercase hex digits. */
bool store_key_valid(const char *key);

/* Writes the SHA-256 of data as 64 hex digits + NUL into key. */
void store_key_of(const void *data, size_t len, char key[STORE_KEY_LEN + 1]);

/* Stores data; key_out (STORE_KEY_LEN + 1 bytes) gets its key. Idempotent.
 * content_type may be NULL. Errors: FF_EIO, FF_ENOMEM. */
enum ff_err store_put(struct store *st, const void *data, size_t len, const char *content_type,
                      char key_out[STORE_KEY_LEN + 1]) FF_MUST_CHECK;

/* Reads an object into a new buffer (*data: ff_malloc'd, NUL-terminated for
 * convenience, caller frees with ff_free; *len without the NUL). FF_ENOTFOUND
 * when missing, FF_ETOOBIG over max bytes (0 = STORE_MAX_GET), FF_EINVAL for a
 * bad key, FF_EIO. */
enum ff_err store_get(struct store *st, const char *key, size_t max, void **data,
                      size_t *len) FF_MUST_CHECK;

/* Removes an object. A missing object is FF_OK (deletes are idempotent). */
enum ff_err store_delete(struct store *st, const char *key) FF_MUST_CHECK;

/* *out = whether the object exists. */
enum ff_err store_exists(struct store *st, const char *key, bool *out) FF_MUST_CHECK;

/* "file" etc. */
const char *store_scheme(const struct store *st);

/* The local backend's root folder (NULL for other backends). For tests. */
const char *store_file_root(const struct store *st);

#endif
