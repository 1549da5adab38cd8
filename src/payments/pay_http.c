/* pay_http.c - the order payment routes: payment intent, payment view,
 * refunds (staff) and customer cancel. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "http/router.h"
#include "payments/payments_int.h"

enum ff_err pay__order_routes(struct http_router *r, struct payments *p)
{
    (void)r, (void)p;
    return FF_OK;
}

enum ff_err payments_jobs_register(struct payments *p, struct jobs_registry *reg)
{
    (void)p, (void)reg;
    return FF_OK;
}
