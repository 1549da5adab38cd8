/* pay_event.c - reading Stripe events into what applying them needs, and the
 * plan that brings an order in line with its payment. Pure (no db, no I/O):
 * fuzzed by tests/fuzz/fuzz_stripe_event.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "payments/payments_int.h"

#define AMOUNT_MAX 99999999999LL /* Stripe's amounts are at most 8 digits; leave room */

static void copy(char *out, size_t len, const char *s)
{
    snprintf(out, len, "%s", s ? s : "");
}

/* Optional non-negative integer member; false when present but not one. */
static bool amount(const json_t *o, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > AMOUNT_MAX)
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* The id of an expandable reference: "pi_x" or {"id": "pi_x", ...}. */
static const char *ref_id(const json_t *v)
{
    if (json_is_object(v))
        v = json_object_get(v, "id");
    return json_string_value(v);
}

/* metadata.order_id as a positive integer (decimal string), 0 otherwise. */
static int64_t order_id(const json_t *obj)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                      "order_id"));
    if (!s || !*s || strlen(s) > 18)
        return 0;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static bool currency(const json_t *obj, char out[8])
{
    const json_t *v = json_object_get(obj, "currency");
    out[0] = 0;
    if (!v || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (!s || strlen(s) != 3)
        return false;
    for (int i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)s[i]))
            return false;
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[3] = 0;
    return true;
}

static enum ff_err fail(char *why, size_t len, const char *field)
{
    ff_errbuf(why, len, "%s is missing or malformed", field);
    return FF_EINVAL;
}

/* A string member that, when present, must be a string of sane length. */
static bool str_ok(const json_t *o, const char *key, size_t max)
{
    const json_t *v = json_object_get(o, key);
    return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) <= max);
}

static enum ff_err parse_intent(const json_t *o, struct pay_ev *ev, char *why, size_t len)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *st = json_string_value(json_object_get(o, "status"));
    if (!id || !*id || strlen(id) >= sizeof ev->pi)
        return fail(why, len, "data.object.id");
    if (!st || !*st || strlen(st) >= sizeof ev->status)
        return fail(why, len, "data.object.status");
    if (!amount(o, "amount", &ev->amount) || !amount(o, "amount_received", &ev->amount_received))
        return fail(why, len, "data.object.amount");
    if (!currency(o, ev->currency))
        return fail(why, len, "data.object.currency");
    copy(ev->pi, sizeof ev->pi, id);
    copy(ev->status, sizeof ev->status, st);
    const json_t *le = json_object_get(o, "last_payment_error");
    if (json_is_object(le)) {
        const char *code = json_string_value(json_object_get(le, "code"));
        const char *msg = json_string_value(json_object_get(le, "message"));
        snprintf(ev->error, sizeof ev->error, "%s%s%.200s", code ? code : "",
                 code && msg ? ": " : "", msg ? msg : "");
    }
    /* a succeeded intent without amount_received (older API versions): the amount */
    if (!strcmp(ev->status, "succeeded") && !json_object_get(o, "amount_received"))
        ev->amount_received = ev->amount;
    return FF_OK;
}

static enum ff_err parse_charge(const json_t *o, struct pay_ev *ev, char *why, size_t len)
{
    const char *pi = ref_id(json_object_get(o, "payment_intent"));
    if (!pi || !*pi || strlen(pi) >= sizeof ev->pi)
        return fail(why, len, "data.object.payment_intent");
    if (!amount(o, "amount", &ev->amount) ||
        !amount(o, "amount_refunded", &ev->amount_refunded))
        return fail(why, len, "data.object.amount");
    if (!currency(o, ev->currency))
        return fail(why, len, "data.object.currency");
    copy(ev->pi, sizeof ev->pi, pi);
    /* amount_captured when present (a partial capture), else amount */
    int64_t cap = 0;
    if (json_object_get(o, "amount_captured") && amount(o, "amount_captured", &cap) && cap > 0)
        ev->amount = cap;
    ev->amount_received = ev->amount;
    if (ev->amount_refunded > ev->amount)
        return fail(why, len, "data.object.amount_refunded");
    return FF_OK;
}

static enum ff_err parse_dispute(const json_t *o, struct pay_ev *ev, char *why, size_t len)
{
    const char *pi = ref_id(json_object_get(o, "payment_intent"));
    if (!pi || !*pi || strlen(pi) >= sizeof ev->pi)
        return fail(why, len, "data.object.payment_intent");
    if (!amount(o, "amount", &ev->amount))
        return fail(why, len, "data.object.amount");
    if (!currency(o, ev->currency))
        return fail(why, len, "data.object.currency");
    if (!str_ok(o, "reason", 200))
        return fail(why, len, "data.object.reason");
    copy(ev->pi, sizeof ev->pi, pi);
    snprintf(ev->reason, sizeof ev->reason, "%s",
             json_string_value(json_object_get(o, "reason")) ? json_string_value(
                 json_object_get(o, "reason")) : "");
    return FF_OK;
}

enum ff_err pay__event_parse(const json_t *event, struct pay_ev *ev, char *why, size_t len)
{
    memset(ev, 0, sizeof *ev);
    ff_errbuf(why, len, "%s", "");
    const char *type = json_string_value(json_object_get(event, "type"));
    const json_t *o = json_object_get(json_object_get(event, "data"), "object");
    if (!type)
        return fail(why, len, "type");
    if (!strncmp(type, "payment_intent.", 15))
        ev->kind = PAY_EV_INTENT;
    else if (!strcmp(type, "charge.refunded"))
        ev->kind = PAY_EV_REFUND;
    else if (!strcmp(type, "charge.dispute.created"))
        ev->kind = PAY_EV_DISPUTE;
    else
        return FF_OK;
    if (!json_is_object(o)) {
        ev->kind = PAY_EV_IGNORE;
        return fail(why, len, "data.object");
    }
    ev->order_id = order_id(o);
    enum ff_err e = ev->kind == PAY_EV_INTENT   ? parse_intent(o, ev, why, len)
                    : ev->kind == PAY_EV_REFUND ? parse_charge(o, ev, why, len)
                                                : parse_dispute(o, ev, why, len);
    if (e)
        ev->kind = PAY_EV_IGNORE;
    return e;
}

static bool paid_state(enum orders_status s)
{
    return s == ORD_PAID || s == ORD_FULFILLED || s == ORD_SHIPPED || s == ORD_DELIVERED ||
           s == ORD_PARTIALLY_REFUNDED;
}

void pay__plan(enum orders_status cur, int64_t order_refunded, bool succeeded, int64_t received,
               int64_t refunded, struct pay_plan *plan)
{
    plan->nsteps = 0;
    plan->new_refunded = order_refunded;
    if (!succeeded)
        return;
    if (cur == ORD_PENDING_PAYMENT) {
        plan->steps[plan->nsteps++] = ORD_PAID;
        cur = ORD_PAID;
    }
    if (!paid_state(cur) || refunded <= order_refunded || received <= 0)
        return;
    plan->steps[plan->nsteps++] = refunded >= received ? ORD_REFUNDED : ORD_PARTIALLY_REFUNDED;
    plan->new_refunded = refunded;
}
