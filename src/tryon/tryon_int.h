/* tryon_int.h - internals shared by the try-on module's files. */
#ifndef FF_TRYON_TRYON_INT_H
#define FF_TRYON_TRYON_INT_H

#include <jansson.h>

#include "tryon/tryon.h"
#include "vision/vision.h"

struct tryon {
    struct db *db;              /* borrowed */
    struct store *store;        /* owned */
    struct vis_engine *engine;  /* owned; NULL when the model could not be loaded */
    char engine_err[256];       /* why engine is NULL */
    size_t max_bytes;           /* FRAMEFIT_TRYON_MAX_BYTES */
    uint64_t max_pixels;        /* FRAMEFIT_TRYON_MAX_PIXELS */
    int64_t retention_ms;       /* FRAMEFIT_TRYON_RETENTION_DAYS in ms */
};

/* Object references: a photo or render object may be named by several rows
 * (content addressing). Every transaction that adds or drops a reference
 * first calls tryon_lock_objects (SQLite: BEGIN IMMEDIATE already serialises
 * writers; PostgreSQL: a transaction-scoped advisory lock), and drops an
 * object only when no row names it any more (tryon_release_object, inside
 * the same transaction). A writer that added a reference re-puts its object
 * after commit if a concurrent release removed it just before. */
enum ff_err tryon_lock_objects(struct db *db, struct db_conn *c);
enum ff_err tryon_release_object(struct tryon *t, struct db_conn *c, const char *key);
/* Puts data again when key is missing (after a commit that referenced it). */
void tryon_ensure_object(struct tryon *t, const void *data, size_t len, const char *type,
                         const char *key);

/* j as compact JSON text in a new ff_malloc'd string (independent of
 * jansson's allocator; caller ff_frees), *len its length; NULL on ENOMEM. */
char *tryon_json_dump(const json_t *j, size_t *len);

/* A new random session or anonymous id (TRYON_ID_LEN chars + NUL). */
void tryon_random_id(char out[TRYON_ID_LEN + 1]);

#endif
