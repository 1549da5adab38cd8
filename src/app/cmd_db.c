/* cmd_db.c - framefit migrate / seed / backup / restore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "catalog/catalog.h"
#include "core/config.h"
#include "db/db.h"

/* Loads the configuration and opens the database; prints why not. */
static int open_db(const char *cmd, struct ff_config **cfg, struct db **db)
{
    char why[256];
    if (ff_config_load(cfg, NULL, why, sizeof why)) {
        fprintf(stderr, "framefit %s: %s\n", cmd, why);
        return 1;
    }
    struct db_opts o = {.url = (*cfg)->database_url, .data_dir = (*cfg)->data_dir,
                        .pool_size = 2};
    if (db_open(&o, db)) {
        fprintf(stderr, "framefit %s: %s\n", cmd, db_errmsg());
        ff_config_free(*cfg);
        return 1;
    }
    return 0;
}

static void close_db(struct ff_config *cfg, struct db *db)
{
    db_close(db);
    ff_config_free(cfg);
}

static const char db_env_help[] =
    "\nEnvironment:\n"
    "  FRAMEFIT_DATABASE_URL  sqlite://PATH or postgres://... (default: SQLite in the data dir)\n"
    "  FRAMEFIT_DATA_DIR      data directory (default ./var)\n";

int cmd_migrate(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        printf("usage: framefit migrate\n\n"
               "Applies the database migrations built into this binary and exits.\n"
               "Refuses a database whose schema is newer than the binary, or where an\n"
               "applied migration was changed afterwards.\n%s", db_env_help);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "framefit migrate: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    struct ff_config *cfg;
    struct db *db;
    if (open_db("migrate", &cfg, &db))
        return 1;
    struct db_migrate_report r;
    int rc = 0;
    if (db_migrate(db, &r)) {
        fprintf(stderr, "framefit migrate: %s\n", db_errmsg());
        rc = 1;
    } else {
        printf("framefit migrate: %s schema at version %d (was %d, applied %d)\n",
               db_dialect_name(db), r.to_version, r.from_version, r.applied);
    }
    close_db(cfg, db);
    return rc;
}

static int backup_or_restore(int argc, char **argv, bool restore)
{
    const char *cmd = restore ? "restore" : "backup";
    if (cmd_wants_help(argc, argv)) {
        if (restore)
            printf("usage: framefit restore SRC\n\n"
                   "Replaces the database's contents with the backup in SRC (made by\n"
                   "'framefit backup'). Stop the server first. A file that is not a backup\n"
                   "is refused and changes nothing.\n%s", db_env_help);
        else
            printf("usage: framefit backup DEST\n\n"
                   "Writes a consistent backup of the database to the new file DEST while\n"
                   "the server may keep running (SQLite online backup; pg_dump custom\n"
                   "format for PostgreSQL). DEST must not exist.\n%s", db_env_help);
        return 0;
    }
    if (argc != 2 || !argv[1][0]) {
        fprintf(stderr, "usage: framefit %s %s\n", cmd, restore ? "SRC" : "DEST");
        return 2;
    }
    struct ff_config *cfg;
    struct db *db;
    if (open_db(cmd, &cfg, &db))
        return 1;
    enum ff_err err = restore ? db_restore(db, argv[1]) : db_backup(db, argv[1]);
    if (err)
        fprintf(stderr, "framefit %s: %s\n", cmd, db_errmsg());
    else
        printf("framefit %s: %s %s %s\n", cmd, db_dialect_name(db),
               restore ? "restored from" : "backed up to", argv[1]);
    close_db(cfg, db);
    return err ? 1 : 0;
}

int cmd_backup(int argc, char **argv) { return backup_or_restore(argc, argv, false); }
int cmd_restore(int argc, char **argv) { return backup_or_restore(argc, argv, true); }

static int parse_count(const char *s, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int cmd_seed(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        printf("usage: framefit seed [--count N | --bench N]\n\n"
               "Loads the demo catalog: N (default 320, at most 4160) realistic frames\n"
               "across brands, all nine shapes, materials, colours, sizes, prices, stock\n"
               "per variant and suited face shapes. Deterministic and idempotent: frames\n"
               "already present (by slug) are skipped. Migrates first.\n\n"
               "  --count N   number of demo frames\n"
               "  --bench N   instead load N products equivalent to the peer benchmark's\n"
               "              seed.sql (SKU FF-000001..., ids 1..N on an empty catalog)\n%s",
               db_env_help);
        return 0;
    }
    int count = 320;
    bool bench = false;
    for (int i = 1; i < argc; i++) {
        bool is_bench = !strcmp(argv[i], "--bench");
        if ((is_bench || !strcmp(argv[i], "--count")) && i + 1 < argc &&
            !parse_count(argv[i + 1], is_bench ? 1000000 : 4160, &count)) {
            bench = is_bench;
            i++;
            continue;
        }
        fprintf(stderr, "framefit seed: bad argument '%s' (see framefit seed --help)\n",
                argv[i]);
        return 2;
    }
    struct ff_config *cfg;
    struct db *db;
    if (open_db("seed", &cfg, &db))
        return 1;
    int added = 0;
    enum ff_err err = db_migrate(db, NULL);
    if (!err)
        err = bench ? cat_seed_bench(db, count, &added) : cat_seed_demo(db, count, &added);
    if (err)
        fprintf(stderr, "framefit seed: %s\n", *db_errmsg() ? db_errmsg() : ff_err_str(err));
    else
        printf("framefit seed: %d %s products added (%d already present)\n", added,
               bench ? "benchmark" : "demo", count - added);
    close_db(cfg, db);
    return err ? 1 : 0;
}
