/* subscriptions.h - the merchant plan: framefit's try-on service is sold to the
 * merchant (the store operator; one per deployment) monthly through a Stripe
 * subscription.
 *
 *   POST   /api/v1/merchant/subscription   admin, Idempotency-Key: customer +
 *                                           subscription on a price
 *   GET    /api/v1/merchant/subscription   staff or admin: plan status
 *   DELETE /api/v1/merchant/subscription   admin: cancel at period end, or at
 *                                           once with ?at_once=true
 *
 * Creation never makes two customers or two subscriptions, whatever fails:
 * a row (merchant_subscriptions, migration 0022) is recorded first with a
 * random token, and the Stripe idempotency keys derive from that token
 * ("framefit-cus-<token>", "framefit-sub-<token>"). The customer id is stored
 * before the subscription is created. When Stripe is down the answer is 503
 * with Retry-After and the row stays pending: any later POST (same price)
 * finishes it with the same keys, so Stripe replays what it already did.
 *
 * Webhooks (through payments_on_event, owner: pay): invoice.paid,
 * invoice.payment_failed, customer.subscription.{created,updated,deleted}.
 * Events are applied by object state behind a monotonic guard
 * (subs_decide): an event older (event.created) than the state last applied
 * to that subscription is ignored; at equal times the subscription object's
 * own state wins over a state derived from an invoice; canceled is final.
 * Every event is recorded in merchant_subscription_events (applied, stale,
 * or unknown subscription). */
#ifndef FF_PAYMENTS_SUBSCRIPTIONS_H
#define FF_PAYMENTS_SUBSCRIPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;
struct db_conn;
struct http_router;
struct stripe_client;
struct subs;

/* ---- statuses and the plan (pure) -------------------------------------------------- */

enum subs_status {
    SUBS_NONE = 0,          /* nothing (or creation not finished) */
    SUBS_INCOMPLETE,        /* created; the first invoice is not paid yet */
    SUBS_INCOMPLETE_EXPIRED,/* the first invoice was never paid (final) */
    SUBS_TRIALING,
    SUBS_ACTIVE,
    SUBS_PAST_DUE,          /* a renewal failed; Stripe retries */
    SUBS_UNPAID,            /* Stripe gave up retrying, subscription kept */
    SUBS_CANCELED,          /* final */
    SUBS_PAUSED,
    SUBS_STATUS_COUNT
};

/* "none", "incomplete", ... ("unknown" out of range). */
const char *subs_status_name(enum subs_status s);
/* The status named s (Stripe's spelling), or -1. */
int subs_status_parse(const char *s);
/* Final: the subscription can never become active again. */
bool subs_status_final(enum subs_status s);

#define SUBS_GRACE_S (14 * 86400) /* past_due keeps the service on this long */

/* Whether the try-on service is on for status s at now_s:
 *   active, trialing -> on;
 *   past_due -> on during the grace (SUBS_GRACE_S after past_due_since_s,
 *               0 = unknown: on) with *warning set;
 *   anything else -> off.
 * *warning (may be NULL) gets a static sentence or NULL. */
bool subs_service_enabled(enum subs_status s, int64_t past_due_since_s, int64_t now_s,
                          const char **warning);

/* ---- what one Stripe event says (pure) ------------------------------------------------ */

enum subs_event_kind {
    SUBS_EV_OTHER = 0,      /* an event type we do not apply */
    SUBS_EV_INVOICE_PAID,   /* invoice.paid */
    SUBS_EV_INVOICE_FAILED, /* invoice.payment_failed */
    SUBS_EV_SUB_CREATED,    /* customer.subscription.created */
    SUBS_EV_SUB_UPDATED,    /* customer.subscription.updated */
    SUBS_EV_SUB_DELETED,    /* customer.subscription.deleted */
};

struct subs_facts {
    enum subs_event_kind kind;
    int64_t created_s;          /* event.created */
    char event_id[128];
    char subscription_id[128];  /* "" when the object names none */
    /* from a subscription object (customer.subscription.*) */
    int status;                 /* enum subs_status, -1 when the object has none */
    int64_t period_end_s;       /* 0 = not stated */
    int cancel_at_period_end;   /* -1 not stated, 0, 1 */
    int64_t canceled_at_s;      /* 0 = not stated */
    /* from an invoice object (invoice.*) */
    char invoice_id[128];
    char invoice_status[32];    /* "paid", "open", ... */
    char currency[8];
    int64_t amount_cents;       /* amount_paid (paid) or amount_due (failed) */
    char billing_reason[48];    /* "subscription_create", "subscription_cycle", ... */
    char failure[256];          /* why the payment failed, "" when unknown */
};

/* Reads the facts of a parsed Stripe event (any type). FF_EINVAL when the
 * event has no type, id, created time or data.object; strings that do not fit
 * are refused the same way (never truncated). Unknown types give
 * SUBS_EV_OTHER. */
enum ff_err subs_facts_from_event(const json_t *event, struct subs_facts *f) FF_MUST_CHECK;

/* Reads a subscription object (an API answer, not an event) into f: id,
 * status, period end, cancel_at_period_end, canceled_at; kind stays
 * SUBS_EV_OTHER. FF_EINVAL as above. */
enum ff_err subs_facts_from_subscription(const json_t *sub, struct subs_facts *f) FF_MUST_CHECK;

/* The state kept per subscription (one row). */
struct subs_state {
    enum subs_status status;
    int64_t period_end_s;       /* 0 unknown */
    bool cancel_at_period_end;
    int64_t canceled_at_s;      /* 0 = not canceled */
    int64_t past_due_since_s;   /* 0 = not past_due */
    int64_t state_at_s;         /* event.created of the last applied state, 0 = none */
    bool state_from_object;     /* that state came from the subscription object itself */
};

enum subs_decision {
    SUBS_APPLY = 0, /* *next is the new state */
    SUBS_STALE,     /* older than what we have (or would revive a final status): ignore */
};

/* THE decision: what event f does to state cur. Pure (no db, no clock).
 * Rules: f.created < cur.state_at -> stale; equal times -> stale when cur came
 * from the subscription object and f is an invoice; a final status
 * (canceled, incomplete_expired) never changes back; invoice.paid -> active
 * (trialing stays trialing on a zero invoice); invoice.payment_failed ->
 * past_due (the first invoice failing leaves incomplete); subscription
 * events -> the object's status, period end, cancel_at_period_end; deleted
 * -> canceled. *next is always written (cur when stale). */
enum subs_decision subs_decide(const struct subs_state *cur, const struct subs_facts *f,
                               struct subs_state *next);

/* ---- the service ---------------------------------------------------------------------- */

struct subs_opts {
    struct db *db;
    struct stripe_client *stripe; /* NULL: Stripe not configured (POST/DELETE answer 503) */
    const char *price_id;         /* FRAMEFIT_STRIPE_PRICE_ID ("" or NULL = none); copied */
};

/* A new service (free with subs_free). FF_ENOMEM. */
enum ff_err subs_new(const struct subs_opts *o, struct subs **out) FF_MUST_CHECK;
void subs_free(struct subs *s);

/* Registers the three routes. s may be NULL (--print-routes). */
enum ff_err subs_http_register(struct http_router *r, struct subs *s) FF_MUST_CHECK;

/* The webhook applier (payments_event_fn of payments.h; ud is the struct
 * subs, unused today): applies one verified Stripe event on c inside the
 * caller's transaction and records it in the event history. FF_OK when
 * applied, stale, of another type or for an unknown subscription; an
 * error only when the database fails (then the caller rolls back). */
enum ff_err subs_apply_event(struct db_conn *c, const json_t *event, void *ud) FF_MUST_CHECK;

#endif
