/* routes.c - where every module registers its HTTP routes.
 *
 * Add one call per module, e.g.
 *     if (!e) e = cat_http_register(r, a->catalog_cache);
 * and document each route in openapi/openapi.json (a test checks that the
 * router and the document list the same routes). */
#include "app/app.h"
#include "accounts/accounts.h"
#include "catalog/catalog_http.h"
#include "jobs/jobs_http.h"
#include "mail/mail.h"
#include "idem/idem.h"
#include "orders/orders.h"
#include "payments/payments.h"
#include "payments/subscriptions.h"
#include "render_http/render_http.h"
#include "tryon/tryon.h"

enum ff_err app_register_routes(struct http_router *r, struct app *a)
{
    enum ff_err e = FF_OK;
    if (!e)
        e = cat_http_register(r, a->catalog_cache);
    if (!e)
        e = tryon_http_register(r, a->tryon);
    if (!e)
        e = render_http_register(r, a->tryon);
    if (!e)
        e = page_http_register(r);
    if (!e)
        e = acc_http_register(r, a->accounts);
    if (!e)
        e = jobs_http_register(r, a->db); /* staff: list, get, retry, discard */
    if (!e)
        e = orders_http_register(r, a->orders);
    if (!e) /* Stripe webhook, payment intents, refunds, customer cancel */
        e = payments_http_register(r, a->payments);
    if (!e) /* the merchant plan (Stripe subscription) */
        e = subs_http_register(r, a->subs);
    if (!e)
        e = mail_http_register(r, a->mail);
    if (!e && a->cfg->test_routes)
        e = mail_http_register_test(r, a->mail);
    /* last: every route flagged HTTP_ROUTE_IDEMPOTENT honours Idempotency-Key */
    if (!e && a->idem)
        e = idem_wrap_routes(a->idem, r);
    return e;
}
