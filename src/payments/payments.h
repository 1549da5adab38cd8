/* payments.h - Stripe payments for orders (module ff_payments): the webhook
 * endpoint and its event dispatch, PaymentIntents, refunds, customer cancel.
 *
 * The composition root creates one `struct payments` (app/app_payments.c)
 * holding the shared Stripe client; without FRAMEFIT_STRIPE_SECRET_KEY there
 * is no client and every payment endpoint answers 503 `payments-unavailable`
 * (never a crash). See docs/payments.md for configuration and behaviour.
 *
 * Webhook: POST /api/v1/payments/stripe/webhook gets the raw body bytes (the
 * http layer hands them over unparsed), checks Stripe-Signature with
 * stripe_sig_verify (400 `webhook-signature` saying what was wrong), parses
 * the event, and in ONE transaction records the event id in stripe_events
 * (INSERT .. ON CONFLICT DO NOTHING: a redelivered id changes nothing and is
 * answered 200 at once) and runs every handler registered for the event's
 * type. A handler error rolls the whole transaction back (the id is not
 * recorded) and the webhook answers 5xx, so Stripe redelivers later.
 * Unknown types are recorded as "ignored" and answered 200. */
#ifndef FF_PAYMENTS_PAYMENTS_H
#define FF_PAYMENTS_PAYMENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;
struct db_conn;
struct orders;
struct http_router;
struct http_req;
struct http_resp;
struct jobs_registry;
struct stripe_client;
struct stripe_resp;
struct payments;

#define PAYMENTS_WEBHOOK_PATH "/api/v1/payments/stripe/webhook"
#define PAYMENTS_WEBHOOK_MAX_BODY (256 * 1024) /* Stripe events are < 64 KB */
#define PAYMENTS_MAX_HANDLERS 32

struct payments_opts {
    struct db *db;
    struct orders *orders;      /* order transitions (orders/orders.h) */
    const char *api_url;        /* FRAMEFIT_STRIPE_API_URL */
    const char *secret_key;     /* FRAMEFIT_STRIPE_SECRET_KEY; "" or NULL = no client */
    const char *webhook_secret; /* FRAMEFIT_STRIPE_WEBHOOK_SECRET; "" = webhook answers 503 */
    int timeout_ms;             /* one Stripe request; 0 = 10000 */
};

/* A new payments service (free with payments_free). Copies the strings.
 * FF_ENOMEM, FF_EINVAL (bad URL; why says which). */
enum ff_err payments_new(const struct payments_opts *o, struct payments **out, char *why,
                         size_t whylen) FF_MUST_CHECK;
void payments_free(struct payments *p);

/* The shared Stripe client, or NULL when FRAMEFIT_STRIPE_SECRET_KEY is unset
 * (then answer with payments_unavailable). Thread-safe; owned by p. */
struct stripe_client *payments_stripe(struct payments *p);
/* The database (borrowed). */
struct db *payments_db(struct payments *p);

/* ---- webhook event dispatch ------------------------------------------------- */

/* Applies one verified, not yet processed Stripe event on c, INSIDE the
 * transaction that records the event id as processed (so effects happen
 * exactly once). event is the whole parsed event; event["data"]["object"]
 * the object. Return FF_OK when applied or deliberately ignored; an error
 * rolls everything back and the webhook answers 5xx so Stripe redelivers. */
typedef enum ff_err (*payments_event_fn)(struct db_conn *c, const json_t *event, void *ud);

/* Routes events whose type starts with type_prefix ("invoice.",
 * "customer.subscription.", "payment_intent.") to fn; when several prefixes
 * match, every matching handler runs, in registration order. Call before the
 * server starts (not thread-safe against running webhooks). FF_EINVAL for an
 * empty prefix, FF_ENOMEM when PAYMENTS_MAX_HANDLERS are taken. */
enum ff_err payments_on_event(struct payments *p, const char *type_prefix,
                              payments_event_fn fn, void *ud) FF_MUST_CHECK;

/* Inside a handler: attaches a note for staff to the event's stripe_events
 * row (e.g. "amount mismatch: 990 eur paid, order is 1990 eur"); the last
 * note wins. Also logs it at WARN. */
enum ff_err payments_event_note(struct db_conn *c, const json_t *event,
                                const char *note) FF_MUST_CHECK;

/* ---- HTTP ----------------------------------------------------------------------- */

/* Registers the webhook, payment-intent, payment, refund and cancel routes.
 * p may be NULL (--print-routes). */
enum ff_err payments_http_register(struct http_router *r, struct payments *p) FF_MUST_CHECK;

/* Records the 503 payments-unavailable problem (with Retry-After: 30) for a
 * payment endpoint called without a configured Stripe client. Returns the
 * error to return from the handler. */
enum ff_err payments_unavailable(struct http_req *req, struct http_resp *resp);

/* Turns a Stripe answer that was not STRIPE_OK into the handler's problem:
 * UNAVAILABLE -> 503 payments-unavailable + Retry-After: 5 ("Stripe did not
 * answer; nothing was charged twice, retry"), DECLINED -> 502
 * payment-provider-error with Stripe's message and code (an idempotency_error:
 * a concurrent request with the same key but other parameters -> 409
 * conflict). `what` names the
 * request ("creating the payment intent"). Returns the error to return. */
enum ff_err payments_stripe_problem(struct http_req *req, struct http_resp *resp,
                                    const struct stripe_resp *sr, const char *what);

/* Registers "payments.refund_late" (refunds a payment that succeeded after
 * its order was cancelled) and the recurring "payments.cancel_stale" (every
 * minute: cancels at Stripe the open intents of cancelled orders, e.g. after
 * the reservation expired, so they cannot be paid any more). */
enum ff_err payments_jobs_register(struct payments *p, struct jobs_registry *reg) FF_MUST_CHECK;

#endif
