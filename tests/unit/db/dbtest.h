/* dbtest.h - opens a fresh, empty database for a test on the back end named
 * by FF_TEST_DB ("sqlite", the default, or "pg").
 *
 * SQLite: a new file in a temp directory. PostgreSQL: a new database named
 * after the test, created in the cluster of the CTest fixture "pg" (URL in
 * the file FF_TEST_PG_URL_FILE); skips (77) when there is none. */
#ifndef FF_TESTS_DBTEST_H
#define FF_TESTS_DBTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "harness.h"

static char dbt_url[512];
static char dbt_dir[256];

static int dbt_is_pg(void)
{
    const char *b = getenv("FF_TEST_DB");
    return b && !strcmp(b, "pg");
}

/* The fixture's URL with the database name replaced by name. */
static const char *dbt_pg_url(const char *name)
{
    const char *file = getenv("FF_TEST_PG_URL_FILE");
    char base[400] = "";
    FILE *f = file ? fopen(file, "r") : NULL;
    if (!f || !fgets(base, sizeof base, f)) {
        if (f)
            fclose(f);
        TEST_SKIP("no PostgreSQL test cluster (the pg fixture did not start one)");
    }
    fclose(f);
    base[strcspn(base, "\r\n")] = '\0';
    char *slash = strrchr(base, '/');
    if (!slash || slash < base + 12)
        TEST_SKIP("odd PostgreSQL fixture URL");
    *slash = '\0';
    snprintf(dbt_url, sizeof dbt_url, "%s/%s", base, name);
    /* (re)create the database through the fixture's own database */
    char admin[512];
    snprintf(admin, sizeof admin, "%s/framefit", base);
    struct db *a;
    struct db_opts o = {.url = admin, .pool_size = 1};
    if (db_open(&o, &a))
        TEST_SKIP(db_errmsg());
    struct db_conn *c;
    char sql[300];
    if (db_acquire(a, &c)) {
        fprintf(stderr, "%s\n", db_errmsg());
        exit(1);
    }
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    int bad = db_exec_script(c, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    bad = bad || db_exec_script(c, sql);
    if (bad) {
        fprintf(stderr, "cannot create test database: %s\n", db_errmsg());
        exit(1);
    }
    db_release(c);
    db_close(a);
    return dbt_url;
}

/* The URL of a fresh, empty database for test `name` (lower-case identifier). */
static const char *dbt_fresh_url(const char *name)
{
    if (dbt_is_pg())
        return dbt_pg_url(name);
    if (!dbt_dir[0]) {
        snprintf(dbt_dir, sizeof dbt_dir, "/tmp/ff-%s-XXXXXX", name);
        if (!mkdtemp(dbt_dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(dbt_url, sizeof dbt_url, "sqlite://%s/%s.db", dbt_dir, name);
    char path[600];
    snprintf(path, sizeof path, "%s/%s.db", dbt_dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.db-wal", dbt_dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.db-shm", dbt_dir, name);
    unlink(path);
    return dbt_url;
}

static struct db *dbt_open(const char *name, int pool)
{
    struct db *db;
    struct db_opts o = {.url = dbt_fresh_url(name), .pool_size = pool,
                        .acquire_timeout_ms = 2000};
    if (db_open(&o, &db)) {
        fprintf(stderr, "db_open %s: %s\n", o.url, db_errmsg());
        exit(1);
    }
    return db;
}

/* Removes the SQLite temp directory (call at the end of main). */
static void dbt_cleanup(void)
{
    if (dbt_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dbt_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dbt_dir);
    }
}

#endif
