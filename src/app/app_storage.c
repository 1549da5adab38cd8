/* app_storage.c - storage wiring for serve. OWNED BY THE STORAGE PART: this
 * placeholder only makes sure the data directory exists; replace the bodies
 * with db_open / db_migrate / db_ping / db_pool_stats. */
#include "app/app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum ff_err app_storage_open(struct app *a, char *why, size_t len)
{
    if (mkdir(a->cfg->data_dir, 0750) && errno != EEXIST) {
        snprintf(why, len, "FRAMEFIT_DATA_DIR %s: %s", a->cfg->data_dir, strerror(errno));
        return FF_EIO;
    }
    a->db = NULL;
    return FF_OK;
}

void app_storage_close(struct app *a) { a->db = NULL; }

enum ff_err app_storage_ready(void *ud, char *why, size_t len)
{
    (void)ud;
    (void)why;
    (void)len;
    return FF_OK;
}

void app_storage_metrics(struct ff_buf *out, void *ud)
{
    (void)out;
    (void)ud;
}
