/* app_storage.c - storage wiring for serve (owned by the storage part):
 * open the pool, migrate on start (or refuse a schema that does not match),
 * the readiness probe and the pool gauges for /metrics. */
#include "app/app.h"

#include <stdio.h>

#include "catalog/catalog_cache.h"
#include "core/log.h"
#include "db/db.h"

enum ff_err app_storage_open(struct app *a, char *why, size_t len)
{
    const struct ff_config *cfg = a->cfg;
    struct db_opts o = {.url = cfg->database_url, .data_dir = cfg->data_dir,
                        .pool_size = cfg->db_pool_size};
    struct db *db;
    a->db = NULL;
    enum ff_err err = db_open(&o, &db);
    if (err) {
        snprintf(why, len, "%s", db_errmsg());
        return err;
    }
    int version = 0;
    if (cfg->migrate_on_start) {
        struct db_migrate_report r;
        err = db_migrate(db, &r);
        if (!err && r.applied)
            ff_log(FF_LOG_INFO, "db", "migrated %s schema from version %d to %d",
                   db_dialect_name(db), r.from_version, r.to_version);
        if (err)
            snprintf(why, len, "%s", db_errmsg());
    } else {
        err = db_schema_version(db, &version);
        if (err)
            snprintf(why, len, "%s", db_errmsg());
        else if (version != db_schema_latest(db)) {
            snprintf(why, len,
                     "database schema version %d, this binary needs %d: %s", version,
                     db_schema_latest(db),
                     version > db_schema_latest(db) ? "upgrade framefit" : "run framefit migrate");
            err = FF_ECONFLICT;
        }
    }
    if (err) {
        db_close(db);
        return err;
    }
    struct cat_cache_opts co = {.max_entries = (size_t)cfg->catalog_cache,
                                .max_bytes = cfg->catalog_cache_bytes,
                                .poll_ms = cfg->catalog_cache_poll_ms};
    err = cat_cache_new(db, &co, &a->catalog_cache);
    if (err) {
        snprintf(why, len, "cannot start the catalog cache (%s)", ff_err_name(err));
        db_close(db);
        return err;
    }
    a->db = db;
    return FF_OK;
}

void app_storage_close(struct app *a)
{
    cat_cache_free(a->catalog_cache); /* joins its poller before the pool closes */
    a->catalog_cache = NULL;
    db_close(a->db);
    a->db = NULL;
}

enum ff_err app_storage_ready(void *ud, char *why, size_t len)
{
    struct app *a = ud;
    if (!a->db) {
        snprintf(why, len, "storage is not open");
        return FF_EDB;
    }
    enum ff_err err = db_ping(a->db);
    if (err)
        snprintf(why, len, "storage does not answer (%s)", ff_err_name(err));
    return err;
}

void app_storage_metrics(struct ff_buf *out, void *ud)
{
    struct app *a = ud;
    struct db_pool_stats st;
    if (!a->db)
        return;
    db_pool_stats(a->db, &st);
    const char *d = db_dialect_name(a->db);
    enum ff_err e = ff_buf_appendf(
        out,
        "# HELP framefit_db_pool_max_connections Most connections the storage pool opens.\n"
        "# TYPE framefit_db_pool_max_connections gauge\n"
        "framefit_db_pool_max_connections{dialect=\"%s\"} %d\n"
        "# HELP framefit_db_pool_open_connections Connections currently open.\n"
        "# TYPE framefit_db_pool_open_connections gauge\n"
        "framefit_db_pool_open_connections{dialect=\"%s\"} %d\n"
        "# HELP framefit_db_pool_in_use_connections Connections handed out now.\n"
        "# TYPE framefit_db_pool_in_use_connections gauge\n"
        "framefit_db_pool_in_use_connections{dialect=\"%s\"} %d\n"
        "# HELP framefit_db_pool_waits_total Acquisitions that had to wait for a connection.\n"
        "# TYPE framefit_db_pool_waits_total counter\n"
        "framefit_db_pool_waits_total{dialect=\"%s\"} %llu\n"
        "# HELP framefit_db_pool_timeouts_total Acquisitions that gave up waiting.\n"
        "# TYPE framefit_db_pool_timeouts_total counter\n"
        "framefit_db_pool_timeouts_total{dialect=\"%s\"} %llu\n"
        "# HELP framefit_db_pool_reconnects_total Broken connections replaced.\n"
        "# TYPE framefit_db_pool_reconnects_total counter\n"
        "framefit_db_pool_reconnects_total{dialect=\"%s\"} %llu\n",
        d, st.size, d, st.open, d, st.in_use, d, (unsigned long long)st.waits, d,
        (unsigned long long)st.timeouts, d, (unsigned long long)st.reconnects);
    (void)e; /* a full buffer only truncates the gauges */
    struct cat_cache_stats cs;
    cat_cache_stats(a->catalog_cache, &cs);
    e = ff_buf_appendf(
        out,
        "# HELP framefit_catalog_cache_hits_total Catalog replies served from the cache.\n"
        "# TYPE framefit_catalog_cache_hits_total counter\n"
        "framefit_catalog_cache_hits_total %llu\n"
        "# HELP framefit_catalog_cache_misses_total Catalog reads the cache did not hold.\n"
        "# TYPE framefit_catalog_cache_misses_total counter\n"
        "framefit_catalog_cache_misses_total %llu\n"
        "# HELP framefit_catalog_cache_invalidations_total Times the whole cache was dropped.\n"
        "# TYPE framefit_catalog_cache_invalidations_total counter\n"
        "framefit_catalog_cache_invalidations_total %llu\n"
        "# HELP framefit_catalog_cache_evictions_total Entries dropped to stay within bounds.\n"
        "# TYPE framefit_catalog_cache_evictions_total counter\n"
        "framefit_catalog_cache_evictions_total %llu\n"
        "# HELP framefit_catalog_cache_entries Catalog replies held now.\n"
        "# TYPE framefit_catalog_cache_entries gauge\n"
        "framefit_catalog_cache_entries %zu\n"
        "# HELP framefit_catalog_cache_bytes Bytes the held replies take.\n"
        "# TYPE framefit_catalog_cache_bytes gauge\n"
        "framefit_catalog_cache_bytes %zu\n",
        (unsigned long long)cs.hits, (unsigned long long)cs.misses,
        (unsigned long long)cs.invalidations, (unsigned long long)cs.evictions, cs.entries,
        cs.bytes);
    (void)e;
}
