/* orders.c - the orders service: setup, routes and job handlers. */
#include <stdio.h>

#include "core/alloc.h"
#include "core/log.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "orders/orders_int.h"

enum ff_err orders_new(const struct orders_opts *opts, struct orders **out)
{
    struct orders *o = ff_calloc(1, sizeof *o);
    if (!o)
        return FF_ENOMEM;
    o->db = opts->db;
    o->cache = opts->catalog_cache;
    int min = opts->reservation_minutes > 0 ? opts->reservation_minutes : 30;
    o->reservation_ms = (int64_t)min * 60000;
    o->public_url = opts->public_url;
    *out = o;
    return FF_OK;
}

void orders_free(struct orders *o)
{
    ff_free(o);
}

enum ff_err orders_http_register(struct http_router *r, struct orders *o)
{
    enum ff_err e = ord__cart_routes(r, o);
    if (!e)
        e = ord__order_routes(r, o);
    if (!e)
        e = ord__admin_routes(r, o);
    return e;
}

/* order.event: the outbox of order transitions; consumers (real-time
 * updates) come later, so it is done at once. */
static enum job_result j_event(const struct job *j, void *ud, char *err, size_t len)
{
    (void)j, (void)ud, (void)err, (void)len;
    return JOB_DONE;
}

static enum job_result j_expire(const struct job *j, void *ud, char *err, size_t len)
{
    (void)j;
    int n = 0;
    enum ff_err e = orders_expire(ud, db_now_ms(), 200, &n);
    if (n)
        ff_log(FF_LOG_INFO, "orders", "cancelled %d unpaid order(s) whose reservation expired",
               n);
    if (e) {
        snprintf(err, len, "expiring reservations: %s", db_errmsg());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

enum ff_err orders_jobs_register(struct orders *o, struct jobs_registry *reg)
{
    enum ff_err e = jobs_register(reg, "order.event", j_event, o);
    if (!e)
        e = jobs_register(reg, "orders.expire", j_expire, o);
    if (!e)
        e = jobs_every(reg, "orders.expire", NULL, 60, NULL);
    return e;
}
