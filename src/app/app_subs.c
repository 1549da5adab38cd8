/* app_subs.c - the merchant plan (payments/subscriptions.h) in the
 * composition root (owned by subs): created with the payments service (it
 * shares its Stripe client) and plugged into its webhook dispatch. */
#include "app/app.h"
#include "payments/payments.h"
#include "payments/subscriptions.h"

enum ff_err app_subs_open(struct app *a)
{
    if (a->subs || !a->payments)
        return FF_OK;
    struct subs_opts o = {.db = a->db,
                          .stripe = payments_stripe(a->payments),
                          .price_id = a->cfg->stripe_price_id};
    enum ff_err e = subs_new(&o, &a->subs);
    if (!e)
        e = payments_on_event(a->payments, "invoice.", subs_apply_event, a->subs);
    if (!e)
        e = payments_on_event(a->payments, "customer.subscription.", subs_apply_event, a->subs);
    return e;
}

void app_subs_close(struct app *a)
{
    subs_free(a->subs);
    a->subs = NULL;
}
