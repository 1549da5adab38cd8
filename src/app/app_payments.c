/* app_payments.c - creates the payments service for serve and worker (owned
 * by pay) and plugs every part's Stripe event handlers into its webhook
 * dispatch (payments_on_event, see payments/payments.h). */
#include <stdio.h>

#include "app/app.h"
#include "core/log.h"
#include "payments/payments.h"

/* Other parts' Stripe event handlers: one line each, e.g.
 *     if (!e) e = subscriptions_register(a->payments, ...); */
static enum ff_err register_handlers(struct app *a)
{
    enum ff_err e = FF_OK;
    if (!e) /* merchant plan: invoice.*, customer.subscription.* */
        e = app_subs_open(a);
    return e;
}

enum ff_err app_payments_open(struct app *a, char *why, size_t len)
{
    char tmp[256] = "";
    if (!why) {
        why = tmp;
        len = sizeof tmp;
    }
    if (a->payments || !a->db)
        return FF_OK;
    enum ff_err e = app_orders_open(a);
    if (e)
        return e;
    const struct ff_config *cfg = a->cfg;
    struct payments_opts o = {.db = a->db,
                              .orders = a->orders,
                              .api_url = cfg->stripe_api_url,
                              .secret_key = cfg->stripe_secret_key,
                              .webhook_secret = cfg->stripe_webhook_secret,
                              .timeout_ms = cfg->stripe_timeout_ms};
    e = payments_new(&o, &a->payments, why, len);
    if (!e)
        e = register_handlers(a);
    if (e) {
        ff_log(FF_LOG_ERROR, "app", "payments: %s", why[0] ? why : ff_err_str(e));
        app_payments_close(a);
        return e;
    }
    if (!cfg->stripe_secret_key[0])
        ff_log(FF_LOG_INFO, "app", "payments: FRAMEFIT_STRIPE_SECRET_KEY is unset: payment"
               " endpoints answer 503");
    return FF_OK;
}

void app_payments_close(struct app *a)
{
    app_subs_close(a);
    payments_free(a->payments);
    a->payments = NULL;
}
