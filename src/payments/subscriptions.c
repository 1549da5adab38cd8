/* subscriptions.c - the merchant plan's pure rules: statuses, what an event
 * says, the monotonic decision and whether the service is on (no db, no
 * clock; see subscriptions.h). */
#include "payments/subscriptions.h"

#include <string.h>

#include "core/str.h"

static const char *const names[SUBS_STATUS_COUNT] = {
    [SUBS_NONE] = "none",           [SUBS_INCOMPLETE] = "incomplete",
    [SUBS_INCOMPLETE_EXPIRED] = "incomplete_expired",
    [SUBS_TRIALING] = "trialing",   [SUBS_ACTIVE] = "active",
    [SUBS_PAST_DUE] = "past_due",   [SUBS_UNPAID] = "unpaid",
    [SUBS_CANCELED] = "canceled",   [SUBS_PAUSED] = "paused",
};

const char *subs_status_name(enum subs_status s)
{
    return (unsigned)s < SUBS_STATUS_COUNT ? names[s] : "unknown";
}

int subs_status_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < SUBS_STATUS_COUNT; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

bool subs_status_final(enum subs_status s)
{
    return s == SUBS_CANCELED || s == SUBS_INCOMPLETE_EXPIRED;
}

bool subs_service_enabled(enum subs_status s, int64_t past_due_since_s, int64_t now_s,
                          const char **warning)
{
    const char *w = NULL;
    bool on = false;
    switch (s) {
    case SUBS_ACTIVE:
    case SUBS_TRIALING:
        on = true;
        break;
    case SUBS_PAST_DUE:
        on = past_due_since_s <= 0 || now_s < past_due_since_s + SUBS_GRACE_S;
        w = on ? "The last payment failed: the try-on service stays on during the grace period; "
                 "update the payment method."
               : "The last payment failed and the grace period is over: the try-on service is "
                 "off until the invoice is paid.";
        break;
    case SUBS_INCOMPLETE:
        w = "The first invoice is not paid yet: the try-on service starts once it is.";
        break;
    case SUBS_UNPAID:
        w = "Payments failed repeatedly: the try-on service is off until the invoice is paid.";
        break;
    default:
        break;
    }
    if (warning)
        *warning = w;
    return on;
}

/* ---- facts ------------------------------------------------------------------------------ */

/* Copies a JSON string member into out; absent or null leaves "" (FF_OK);
 * a non-string or a string that does not fit is FF_EINVAL. */
static enum ff_err str_member(const json_t *o, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return FF_OK;
    if (!json_is_string(v) || json_string_length(v) >= len ||
        strlen(json_string_value(v)) != json_string_length(v))
        return FF_EINVAL;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return FF_OK;
}

/* An id member that may also be an expanded object {"id": ...}. */
static enum ff_err id_member(const json_t *o, const char *key, char *out, size_t len)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_object(v))
        return str_member(v, "id", out, len);
    return str_member(o, key, out, len);
}

/* An integer member >= 0 (absent or null: 0). */
static enum ff_err int_member(const json_t *o, const char *key, int64_t *out)
{
    *out = 0;
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return FF_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return FF_EINVAL;
    *out = (int64_t)json_integer_value(v);
    return FF_OK;
}

static const json_t *first_item(const json_t *o, const char *list)
{
    return json_array_get(json_object_get(json_object_get(o, list), "data"), 0);
}

static enum ff_err subscription_facts(const json_t *obj, struct subs_facts *f)
{
    char st[32];
    enum ff_err e = str_member(obj, "id", f->subscription_id, sizeof f->subscription_id);
    if (!e)
        e = str_member(obj, "status", st, sizeof st);
    if (e)
        return e;
    f->status = st[0] ? subs_status_parse(st) : -1;
    if (st[0] && f->status < 0)
        return FF_EINVAL;
    if ((e = int_member(obj, "current_period_end", &f->period_end_s)))
        return e;
    if (!f->period_end_s) /* newer API versions keep the period on the items */
        if ((e = int_member(first_item(obj, "items"), "current_period_end", &f->period_end_s)))
            return e;
    const json_t *cape = json_object_get(obj, "cancel_at_period_end");
    if (cape && !json_is_boolean(cape) && !json_is_null(cape))
        return FF_EINVAL;
    f->cancel_at_period_end = json_is_boolean(cape) ? json_is_true(cape) : -1;
    return int_member(obj, "canceled_at", &f->canceled_at_s);
}

static enum ff_err invoice_facts(const json_t *obj, struct subs_facts *f)
{
    enum ff_err e = str_member(obj, "id", f->invoice_id, sizeof f->invoice_id);
    if (!e)
        e = id_member(obj, "subscription", f->subscription_id, sizeof f->subscription_id);
    if (!e && !f->subscription_id[0]) { /* 2025 API versions: parent.subscription_details */
        const json_t *d = json_object_get(json_object_get(obj, "parent"), "subscription_details");
        e = id_member(d, "subscription", f->subscription_id, sizeof f->subscription_id);
    }
    if (!e)
        e = str_member(obj, "status", f->invoice_status, sizeof f->invoice_status);
    if (!e)
        e = str_member(obj, "currency", f->currency, sizeof f->currency);
    if (!e)
        e = str_member(obj, "billing_reason", f->billing_reason, sizeof f->billing_reason);
    if (!e)
        e = int_member(obj, f->kind == SUBS_EV_INVOICE_PAID ? "amount_paid" : "amount_due",
                       &f->amount_cents);
    if (!e) {
        const json_t *period = json_object_get(first_item(obj, "lines"), "period");
        e = int_member(period, "end", &f->period_end_s);
    }
    if (e)
        return e;
    /* why it failed: the expanded payment intent's last error, else the invoice's */
    const json_t *pi = json_object_get(obj, "payment_intent");
    const json_t *why = json_object_get(json_is_object(pi) ? pi : obj, "last_payment_error");
    if (!why)
        why = json_object_get(obj, "last_finalization_error");
    if (json_is_object(why)) {
        const char *m = json_string_value(json_object_get(why, "message"));
        if (m)
            ff_strlcpy(f->failure, m, sizeof f->failure); /* a message may be cut, ids never */
    }
    return FF_OK;
}

enum ff_err subs_facts_from_event(const json_t *event, struct subs_facts *f)
{
    memset(f, 0, sizeof *f);
    f->status = -1;
    f->cancel_at_period_end = -1;
    const char *type = json_string_value(json_object_get(event, "type"));
    const json_t *created = json_object_get(event, "created");
    const json_t *obj = json_object_get(json_object_get(event, "data"), "object");
    if (!json_is_object(event) || !type || !json_is_integer(created) ||
        json_integer_value(created) < 0 || !json_is_object(obj))
        return FF_EINVAL;
    enum ff_err e = str_member(event, "id", f->event_id, sizeof f->event_id);
    if (e || !f->event_id[0])
        return FF_EINVAL;
    f->created_s = (int64_t)json_integer_value(created);
    if (!strcmp(type, "invoice.paid"))
        f->kind = SUBS_EV_INVOICE_PAID;
    else if (!strcmp(type, "invoice.payment_failed"))
        f->kind = SUBS_EV_INVOICE_FAILED;
    else if (!strcmp(type, "customer.subscription.created"))
        f->kind = SUBS_EV_SUB_CREATED;
    else if (!strcmp(type, "customer.subscription.updated"))
        f->kind = SUBS_EV_SUB_UPDATED;
    else if (!strcmp(type, "customer.subscription.deleted"))
        f->kind = SUBS_EV_SUB_DELETED;
    else
        return FF_OK;
    if (f->kind == SUBS_EV_INVOICE_PAID || f->kind == SUBS_EV_INVOICE_FAILED)
        return invoice_facts(obj, f);
    return subscription_facts(obj, f);
}

enum ff_err subs_facts_from_subscription(const json_t *sub, struct subs_facts *f)
{
    memset(f, 0, sizeof *f);
    f->status = -1;
    f->cancel_at_period_end = -1;
    if (!json_is_object(sub))
        return FF_EINVAL;
    enum ff_err e = subscription_facts(sub, f);
    return e ? e : f->subscription_id[0] ? FF_OK : FF_EINVAL;
}

/* ---- the decision ----------------------------------------------------------------------- */

static bool is_subscription_event(enum subs_event_kind k)
{
    return k == SUBS_EV_SUB_CREATED || k == SUBS_EV_SUB_UPDATED || k == SUBS_EV_SUB_DELETED;
}

enum subs_decision subs_decide(const struct subs_state *cur, const struct subs_facts *f,
                               struct subs_state *next)
{
    *next = *cur;
    bool from_object = is_subscription_event(f->kind);
    if (f->kind == SUBS_EV_OTHER || subs_status_final(cur->status))
        return SUBS_STALE;
    if (f->created_s < cur->state_at_s)
        return SUBS_STALE;
    if (f->created_s == cur->state_at_s && cur->state_at_s && cur->state_from_object &&
        !from_object)
        return SUBS_STALE;

    enum subs_status to = cur->status;
    switch (f->kind) {
    case SUBS_EV_INVOICE_PAID:
        to = cur->status == SUBS_TRIALING && f->amount_cents == 0 ? SUBS_TRIALING : SUBS_ACTIVE;
        break;
    case SUBS_EV_INVOICE_FAILED:
        if (cur->status == SUBS_INCOMPLETE || cur->status == SUBS_NONE ||
            !strcmp(f->billing_reason, "subscription_create"))
            to = cur->status == SUBS_NONE ? SUBS_INCOMPLETE : cur->status;
        else
            to = SUBS_PAST_DUE;
        break;
    case SUBS_EV_SUB_DELETED:
        to = SUBS_CANCELED;
        break;
    default:
        if (f->status >= 0)
            to = (enum subs_status)f->status;
        break;
    }
    next->status = to;
    if (f->period_end_s > 0)
        next->period_end_s = f->period_end_s;
    if (from_object && f->cancel_at_period_end >= 0)
        next->cancel_at_period_end = f->cancel_at_period_end == 1;
    if (to == SUBS_CANCELED)
        next->canceled_at_s = f->canceled_at_s ? f->canceled_at_s
                              : cur->canceled_at_s ? cur->canceled_at_s
                                                   : f->created_s;
    if (to != SUBS_PAST_DUE)
        next->past_due_since_s = 0;
    else if (cur->status != SUBS_PAST_DUE || !cur->past_due_since_s)
        next->past_due_since_s = f->created_s;
    next->state_at_s = f->created_s;
    next->state_from_object = from_object;
    return SUBS_APPLY;
}
