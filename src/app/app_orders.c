/* app_orders.c - creates the orders service for serve and worker (owned by orders). */
#include "app/app.h"
#include "orders/orders.h"

enum ff_err app_orders_open(struct app *a)
{
    if (a->orders || !a->db)
        return FF_OK;
    struct orders_opts o = {.db = a->db,
                            .catalog_cache = a->catalog_cache,
                            .reservation_minutes = a->cfg->reservation_minutes,
                            .public_url = a->public_url};
    return orders_new(&o, &a->orders);
}

void app_orders_close(struct app *a)
{
    orders_free(a->orders);
    a->orders = NULL;
}
