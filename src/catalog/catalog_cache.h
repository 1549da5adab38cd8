/* catalog_cache.h - an in-process read cache of catalog replies with bounded
 * staleness across instances.
 *
 * Values are serialized replies (the JSON text of GET by id / slug with its
 * version, and of list pages keyed by the normalised query). Every change of
 * the catalog tables bumps the generation (triggers; SQLite: the one-row
 * `catalog_generation`, migration 0003; PostgreSQL: the sequence
 * `catalog_gen_seq`, migration 0024, which never blocks writers), so any
 * writer invalidates: a background thread reads it every poll_ms and drops
 * everything when it moved (or when it cannot read it; on PostgreSQL also
 * until the transactions running at the move have ended). This instance's own writes call cat_cache_invalidate at once, so they
 * read their writes.
 *
 * Race-free fill: take `epoch = cat_cache_epoch(c)` BEFORE reading the
 * database, then cat_cache_put(..., epoch): the put is ignored when an
 * invalidation happened in between, so a reply read before a change is never
 * stored after it.
 *
 * Bounded LRU (entries and bytes). Thread-safe (one mutex; held only for the
 * hash lookup and list moves). Entries are refcounted: a value returned by
 * cat_cache_get stays valid until cat_cache_release, even if it is evicted or
 * invalidated meanwhile. Memory through ff_malloc. */
#ifndef FF_CATALOG_CATALOG_CACHE_H
#define FF_CATALOG_CATALOG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;
struct db_conn;
struct cat_cache;

struct cat_cache_opts {
    size_t max_entries; /* 0 disables caching (get always misses) */
    size_t max_bytes;   /* keys + values; 0 = no byte cap */
    int poll_ms;        /* generation poll period; <= 0 or db NULL: no poller */
};

/* One cached reply (read-only for users). */
struct cat_cache_val {
    const char *body;
    size_t len;
    int64_t version; /* the product's version (GET); 0 for lists */
};

struct cat_cache_stats {
    uint64_t hits, misses, invalidations, evictions;
    size_t entries, bytes;
    int64_t generation; /* last catalog_generation read (0 before the first) */
};

/* Creates a cache over db (may be NULL: no poller, e.g. unit tests) and
 * starts the poller. *out is owned by the caller: cat_cache_free. */
FF_MUST_CHECK enum ff_err cat_cache_new(struct db *db, const struct cat_cache_opts *o,
                                        struct cat_cache **out);
/* Stops the poller (joins it) and frees every entry no reader holds; entries
 * still held are freed by their last cat_cache_release. NULL-safe. */
void cat_cache_free(struct cat_cache *c);

/* The database the cache was created over. */
struct db *cat_cache_db(const struct cat_cache *c);
/* true when max_entries > 0. */
bool cat_cache_enabled(const struct cat_cache *c);

/* The current invalidation epoch (take it before reading the database). */
uint64_t cat_cache_epoch(struct cat_cache *c);

/* Looks key up: a held value (release it with cat_cache_release) or NULL. */
const struct cat_cache_val *cat_cache_get(struct cat_cache *c, const char *key, size_t klen);
void cat_cache_release(struct cat_cache *c, const struct cat_cache_val *v);

/* Stores a copy of body under key (replacing an older value) unless epoch is
 * no longer current or the value alone exceeds the byte cap. Evicts least
 * recently used entries to stay within the bounds. FF_ENOMEM on OOM (the
 * cache is unchanged). */
FF_MUST_CHECK enum ff_err cat_cache_put(struct cat_cache *c, const char *key, size_t klen,
                                        const char *body, size_t len, int64_t version,
                                        uint64_t epoch);

/* Drops every entry and advances the epoch (this instance wrote). */
void cat_cache_invalidate(struct cat_cache *c);

/* Reads the generation once and invalidates when it moved or cannot be read
 * (what the poller does every poll_ms; exposed for tests). On PostgreSQL it
 * also keeps invalidating after a move until every transaction running at
 * that time has ended (see catalog_cache.c). */
enum ff_err cat_cache_poll(struct cat_cache *c);

/* The current catalog generation on conn: SQLite the catalog_generation row
 * (migration 0003), PostgreSQL the sequence catalog_gen_seq (migration 0024). */
enum ff_err cat_cache_read_generation(struct db_conn *conn, int64_t *gen) FF_MUST_CHECK;

void cat_cache_stats(struct cat_cache *c, struct cat_cache_stats *out);

#endif
