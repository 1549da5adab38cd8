/* catalog_cache.c - the catalog read cache (see catalog_cache.h). */
#include "catalog/catalog_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/log.h"
#include "db/db.h"

struct ent {
    struct cat_cache_val v; /* first: a value pointer is an entry pointer */
    atomic_int refs;        /* the table's link counts as one */
    uint64_t hash;
    size_t klen, bytes;
    struct ent *hnext;      /* bucket chain */
    struct ent *prev, *next; /* LRU list: head = most recent */
    char data[];            /* key, then body + NUL */
};

struct cat_cache {
    struct db *db;
    size_t max_entries, max_bytes;
    int poll_ms;
    pthread_mutex_t mu;
    struct ent **buckets;
    size_t nbuckets; /* power of two */
    struct ent *head, *tail;
    size_t entries, bytes;
    uint64_t epoch;
    int64_t generation;
    bool gen_known;
    int64_t pending_xmax; /* PostgreSQL: drop again until snapshot xmin reaches this */
    uint64_t hits, misses, invalidations, evictions;
    /* poller */
    pthread_t thread;
    bool running, stop;
    pthread_cond_t cv;
};

static void ent_unref(struct ent *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        ff_free(e);
}

/* ---- table internals (mu held) ---------------------------------------------- */

static void lru_unlink(struct cat_cache *c, struct ent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct cat_cache *c, struct ent *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static struct ent **find_slot(struct cat_cache *c, const char *key, size_t klen, uint64_t h)
{
    struct ent **pp = &c->buckets[h & (c->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext)
        if ((*pp)->hash == h && (*pp)->klen == klen && !memcmp((*pp)->data, key, klen))
            return pp;
    return pp;
}

/* Unlinks e from the table and the list; returns it for unref outside mu. */
static struct ent *remove_ent(struct cat_cache *c, struct ent *e)
{
    struct ent **pp = find_slot(c, e->data, e->klen, e->hash);
    if (*pp == e)
        *pp = e->hnext;
    e->hnext = NULL;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->bytes;
    return e;
}

/* Detaches every entry into a list (linked by next) to free outside mu. */
static struct ent *detach_all(struct cat_cache *c)
{
    struct ent *all = c->head;
    if (c->buckets)
        memset(c->buckets, 0, c->nbuckets * sizeof *c->buckets);
    for (struct ent *e = all; e; e = e->next)
        e->hnext = NULL;
    c->head = c->tail = NULL;
    c->entries = c->bytes = 0;
    return all;
}

static void unref_list(struct ent *e)
{
    while (e) {
        struct ent *n = e->next;
        ent_unref(e);
        e = n;
    }
}

/* ---- public ------------------------------------------------------------------ */

struct db *cat_cache_db(const struct cat_cache *c)
{
    return c ? c->db : NULL;
}

bool cat_cache_enabled(const struct cat_cache *c)
{
    return c && c->max_entries > 0;
}

uint64_t cat_cache_epoch(struct cat_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t e = c->epoch;
    pthread_mutex_unlock(&c->mu);
    return e;
}

const struct cat_cache_val *cat_cache_get(struct cat_cache *c, const char *key, size_t klen)
{
    if (!cat_cache_enabled(c))
        return NULL;
    uint64_t h = ff_hash_fnv1a(key, klen);
    pthread_mutex_lock(&c->mu);
    struct ent *e = *find_slot(c, key, klen, h);
    if (e) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        if (c->head != e) {
            lru_unlink(c, e);
            lru_push_front(c, e);
        }
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return e ? &e->v : NULL;
}

void cat_cache_release(struct cat_cache *c, const struct cat_cache_val *v)
{
    (void)c;
    if (v)
        ent_unref((struct ent *)(void *)v);
}

enum ff_err cat_cache_put(struct cat_cache *c, const char *key, size_t klen, const char *body,
                          size_t len, int64_t version, uint64_t epoch)
{
    if (!cat_cache_enabled(c))
        return FF_OK;
    size_t bytes = sizeof(struct ent) + klen + len + 1;
    if (c->max_bytes && bytes > c->max_bytes)
        return FF_OK;
    struct ent *e = ff_malloc(bytes);
    if (!e)
        return FF_ENOMEM;
    memset(e, 0, sizeof *e);
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, body, len);
    e->data[klen + len] = '\0';
    e->v = (struct cat_cache_val){e->data + klen, len, version};
    atomic_init(&e->refs, 1);
    e->hash = ff_hash_fnv1a(key, klen);
    e->klen = klen;
    e->bytes = bytes;

    struct ent *drop = NULL; /* linked by next, unref'd outside mu */
    pthread_mutex_lock(&c->mu);
    if (epoch != c->epoch) {
        pthread_mutex_unlock(&c->mu);
        ff_free(e);
        return FF_OK;
    }
    struct ent **pp = find_slot(c, key, klen, e->hash);
    if (*pp) {
        struct ent *old = remove_ent(c, *pp);
        old->next = drop;
        drop = old;
    }
    while (c->tail && (c->entries + 1 > c->max_entries ||
                       (c->max_bytes && c->bytes + bytes > c->max_bytes))) {
        struct ent *old = remove_ent(c, c->tail);
        old->next = drop;
        drop = old;
        c->evictions++;
    }
    pp = find_slot(c, key, klen, e->hash);
    *pp = e;
    lru_push_front(c, e);
    c->entries++;
    c->bytes += bytes;
    pthread_mutex_unlock(&c->mu);
    unref_list(drop);
    return FF_OK;
}

void cat_cache_invalidate(struct cat_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->epoch++;
    c->invalidations++;
    struct ent *all = detach_all(c);
    pthread_mutex_unlock(&c->mu);
    unref_list(all);
}

enum ff_err cat_cache_read_generation(struct db_conn *conn, int64_t *gen)
{
    if (db_conn_dialect(conn) == DB_PG)
        return db_query_i64(conn, "SELECT last_value FROM catalog_gen_seq", NULL, 0, gen);
    return db_query_i64(conn, "SELECT gen FROM catalog_generation WHERE id = 1", NULL, 0, gen);
}

/* PostgreSQL: one integer (an xid8 as text -> bigint). */
static enum ff_err xid_query(struct db_conn *conn, const char *sql, int64_t *out)
{
    return db_query_i64(conn, sql, NULL, 0, out);
}

/* On PostgreSQL the generation is a sequence (migration 0024): its bump is
 * seen BEFORE the writer commits, so a fill made right after the drop may
 * hold the data of before the commit. Hence, after seeing a move, the poller
 * takes a transaction id of its own (pg_current_xact_id, in a statement after
 * the generation read: every writer whose bump it saw had an xid before it),
 * keeps dropping at every poll until no transaction older than that one runs
 * (snapshot xmin >= it), and drops once more then: what is cached afterwards
 * was read after those writers ended. (A snapshot's xmax cannot serve: it is
 * the latest completed xid + 1, and running writers above it do not show.)
 * See docs/storage.md. */
enum ff_err cat_cache_poll(struct cat_cache *c)
{
    if (!c || !c->db)
        return FF_OK;
    struct db_conn *conn;
    int64_t gen = 0, xid = 0, xmin = 0;
    bool pg = db_dialect(c->db) == DB_PG;
    pthread_mutex_lock(&c->mu);
    int64_t was = c->generation, pending = c->pending_xmax;
    bool known = c->gen_known;
    pthread_mutex_unlock(&c->mu);
    enum ff_err err = db_acquire(c->db, &conn);
    if (!err) {
        err = cat_cache_read_generation(conn, &gen);
        bool changed = !known || gen != was;
        if (!err && pg && changed) /* after the generation read */
            err = xid_query(conn, "SELECT pg_current_xact_id()::text::bigint", &xid);
        else if (!err && pg && pending)
            err = xid_query(conn,
                            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                            &xmin);
        db_release(conn);
    }
    pthread_mutex_lock(&c->mu);
    bool changed = !c->gen_known || gen != c->generation;
    bool moved = err || changed || c->pending_xmax;
    if (err) {
        c->gen_known = false;
        c->pending_xmax = 0;
    } else {
        if (pg && changed)
            c->pending_xmax = xid;
        else if (c->pending_xmax && xmin >= c->pending_xmax)
            c->pending_xmax = 0; /* this drop is the last one for that move */
        c->generation = gen;
        c->gen_known = true;
    }
    pthread_mutex_unlock(&c->mu);
    /* the first read also advances the epoch: fills that started before it
     * may hold data older than the generation it saw */
    if (moved)
        cat_cache_invalidate(c);
    return err;
}

void cat_cache_stats(struct cat_cache *c, struct cat_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    *out = (struct cat_cache_stats){c->hits, c->misses, c->invalidations, c->evictions,
                                    c->entries, c->bytes, c->generation};
    pthread_mutex_unlock(&c->mu);
}

/* ---- the poller ------------------------------------------------------------------ */

static void *poller(void *arg)
{
    struct cat_cache *c = arg;
    bool warned = false;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        pthread_mutex_unlock(&c->mu);
        enum ff_err err = cat_cache_poll(c);
        if (err && !warned)
            ff_log(FF_LOG_WARN, "catalog", "cache: cannot read catalog_generation (%s): %s",
                   ff_err_name(err), db_errmsg());
        warned = err != FF_OK;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += c->poll_ms / 1000;
        ts.tv_nsec += (long)(c->poll_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->mu);
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0) {
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

enum ff_err cat_cache_new(struct db *db, const struct cat_cache_opts *o, struct cat_cache **out)
{
    *out = NULL;
    struct cat_cache *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ENOMEM;
    c->db = db;
    c->max_entries = o->max_entries;
    c->max_bytes = o->max_bytes;
    c->poll_ms = o->poll_ms;
    c->epoch = 1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (c->max_entries) {
        c->nbuckets = 16;
        while (c->nbuckets < c->max_entries * 2 && c->nbuckets < ((size_t)1 << 24))
            c->nbuckets <<= 1;
        c->buckets = ff_calloc(c->nbuckets, sizeof *c->buckets);
        if (!c->buckets) {
            cat_cache_free(c);
            return FF_ENOMEM;
        }
        if (db && c->poll_ms > 0) {
            if (pthread_create(&c->thread, NULL, poller, c)) {
                cat_cache_free(c);
                return FF_EINTERNAL;
            }
            c->running = true;
        }
    }
    *out = c;
    return FF_OK;
}

void cat_cache_free(struct cat_cache *c)
{
    if (!c)
        return;
    if (c->running) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    pthread_mutex_lock(&c->mu);
    struct ent *all = detach_all(c);
    pthread_mutex_unlock(&c->mu);
    unref_list(all);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    ff_free(c->buckets);
    ff_free(c);
}
