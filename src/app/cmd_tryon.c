/* cmd_tryon.c - `framefit tryon-expire`: the try-on retention sweep from the
 * command line (cron, tests) until the jobs module runs it as "tryon.expire". */
#include <stdio.h>
#include <string.h>

#include "app/commands.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "tryon/tryon.h"

int cmd_tryon_expire(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        printf("usage: framefit tryon-expire\n\n"
               "Deletes every try-on session past its retention (FRAMEFIT_TRYON_RETENTION_DAYS)\n"
               "with its photo and renders, prints how many, and exits. Safe to run while\n"
               "servers run and from several hosts at once.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "framefit tryon-expire: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    struct ff_config *cfg;
    char why[512];
    if (ff_config_load(&cfg, NULL, why, sizeof why)) {
        fprintf(stderr, "framefit tryon-expire: %s\n", why);
        return 2;
    }
    ff_log_set_level((enum ff_log_level)cfg->log_level);
    ff_log_set_json(!strcmp(cfg->log_format, "json"));
    struct db *db = NULL;
    struct tryon *t = NULL;
    struct db_opts o = {.url = cfg->database_url, .data_dir = cfg->data_dir, .pool_size = 2};
    int rc = 1, total = 0, n = 0;
    if (db_open(&o, &db))
        fprintf(stderr, "framefit tryon-expire: %s\n", db_errmsg());
    else if (tryon_open_storage(cfg, db, &t, why, sizeof why))
        fprintf(stderr, "framefit tryon-expire: %s\n", why);
    else {
        enum ff_err e;
        int64_t now = db_now_ms();
        while (!(e = tryon_expire_sweep(t, now, 500, &n)) && n)
            total += n;
        if (e)
            fprintf(stderr, "framefit tryon-expire: %s %s\n", ff_err_name(e), db_errmsg());
        else
            printf("framefit tryon-expire: deleted %d expired session(s)\n", total);
        rc = e ? 1 : 0;
    }
    tryon_close(t);
    if (db)
        db_close(db);
    ff_config_free(cfg);
    return rc;
}
