/* test_subscriptions.c - the merchant plan's pure rules (payments/subscriptions.h):
 * reading events, the monotonic decision, the service switch. No db, no clock. */
#include <jansson.h>

#include "harness.h"
#include "payments/subscriptions.h"

static json_t *ev(const char *type, long long created, const char *obj_json)
{
    json_t *o = json_loads(obj_json, 0, NULL);
    if (!o)
        return NULL;
    return json_pack("{ss ss sI s{so}}", "id", "evt_1", "type", type, "created",
                     (json_int_t)created, "data", "object", o);
}

static struct subs_facts facts(const char *type, long long created, const char *obj_json)
{
    struct subs_facts f;
    json_t *e = ev(type, created, obj_json);
    if (!e || subs_facts_from_event(e, &f))
        TEST_FAIL("facts of %s: bad event", type);
    json_decref(e);
    return f;
}

#define SUB(status, extra) \
    "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"" status "\"" extra "}"
#define INV(extra) "{\"id\":\"in_1\",\"object\":\"invoice\",\"subscription\":\"sub_1\"" extra "}"

TEST(status_names)
{
    for (int i = 0; i < SUBS_STATUS_COUNT; i++)
        ASSERT_EQ(subs_status_parse(subs_status_name((enum subs_status)i)), i);
    ASSERT_EQ(subs_status_parse("Active"), -1);
    ASSERT_EQ(subs_status_parse(""), -1);
    ASSERT_EQ(subs_status_parse(NULL), -1);
    ASSERT_STREQ(subs_status_name((enum subs_status)99), "unknown");
    ASSERT(subs_status_final(SUBS_CANCELED));
    ASSERT(subs_status_final(SUBS_INCOMPLETE_EXPIRED));
    ASSERT(!subs_status_final(SUBS_PAST_DUE));
}

TEST(service_switch)
{
    const char *w = "x";
    ASSERT(subs_service_enabled(SUBS_ACTIVE, 0, 1000, &w));
    ASSERT(w == NULL);
    ASSERT(subs_service_enabled(SUBS_TRIALING, 0, 1000, &w));
    ASSERT(subs_service_enabled(SUBS_PAST_DUE, 1000, 1000 + SUBS_GRACE_S - 1, &w));
    ASSERT(w != NULL);
    ASSERT(!subs_service_enabled(SUBS_PAST_DUE, 1000, 1000 + SUBS_GRACE_S, &w));
    ASSERT(w != NULL);
    ASSERT(!subs_service_enabled(SUBS_CANCELED, 0, 1000, &w));
    ASSERT(!subs_service_enabled(SUBS_UNPAID, 0, 1000, &w));
    ASSERT(!subs_service_enabled(SUBS_INCOMPLETE, 0, 1000, NULL));
    ASSERT(!subs_service_enabled(SUBS_NONE, 0, 1000, NULL));
    ASSERT(!subs_service_enabled((enum subs_status)77, 0, 1000, NULL));
}

TEST(reading_events)
{
    struct subs_facts f = facts("invoice.paid", 100,
                                INV(",\"status\":\"paid\",\"amount_paid\":4900,\"currency\":\"eur\","
                                    "\"billing_reason\":\"subscription_cycle\",\"lines\":{\"data\":"
                                    "[{\"period\":{\"start\":10,\"end\":2000}}]}"));
    ASSERT_EQ(f.kind, SUBS_EV_INVOICE_PAID);
    ASSERT_STREQ(f.subscription_id, "sub_1");
    ASSERT_STREQ(f.invoice_id, "in_1");
    ASSERT_EQ(f.amount_cents, 4900);
    ASSERT_EQ(f.period_end_s, 2000);
    ASSERT_EQ(f.created_s, 100);
    /* the subscription named through parent.subscription_details (2025 API) */
    f = facts("invoice.payment_failed", 5,
              "{\"id\":\"in_2\",\"parent\":{\"subscription_details\":{\"subscription\":\"sub_9\"}},"
              "\"amount_due\":10,\"last_payment_error\":{\"message\":\"declined\"}}");
    ASSERT_EQ(f.kind, SUBS_EV_INVOICE_FAILED);
    ASSERT_STREQ(f.subscription_id, "sub_9");
    ASSERT_EQ(f.amount_cents, 10);
    ASSERT_STREQ(f.failure, "declined");
    f = facts("customer.subscription.updated", 7,
              SUB("past_due", ",\"cancel_at_period_end\":true,\"items\":{\"data\":[{"
                              "\"current_period_end\":999}]}"));
    ASSERT_EQ(f.kind, SUBS_EV_SUB_UPDATED);
    ASSERT_EQ(f.status, SUBS_PAST_DUE);
    ASSERT_EQ(f.cancel_at_period_end, 1);
    ASSERT_EQ(f.period_end_s, 999);
    f = facts("charge.refunded", 7, "{\"id\":\"ch_1\"}");
    ASSERT_EQ(f.kind, SUBS_EV_OTHER);

    /* malformed: refused, never half-read */
    struct subs_facts g;
    json_t *bad[] = {
        json_loads("{\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{}}}", 0, NULL),
        json_loads("{\"id\":\"e\",\"type\":\"invoice.paid\",\"created\":-1,\"data\":{\"object\":{}}}",
                   0, NULL),
        json_loads("{\"id\":\"e\",\"type\":\"invoice.paid\",\"created\":\"1\",\"data\":{\"object\":{}}}",
                   0, NULL),
        json_loads("{\"id\":\"e\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":[]}}",
                   0, NULL),
        ev("customer.subscription.updated", 1, SUB("galactic", "")),
        ev("customer.subscription.updated", 1, "{\"id\":5}"),
        ev("customer.subscription.updated", 1, SUB("active", ",\"cancel_at_period_end\":\"yes\"")),
        ev("invoice.paid", 1, INV(",\"amount_paid\":-4")),
        ev("invoice.paid", 1, INV(",\"amount_paid\":1.5")),
        ev("invoice.paid", 1, "{\"subscription\":\"sub_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT(bad[i] != NULL);
        if (subs_facts_from_event(bad[i], &g) != FF_EINVAL)
            TEST_FAIL("bad event %zu accepted", i);
        json_decref(bad[i]);
    }
    ASSERT_EQ(subs_facts_from_event(NULL, &g), FF_EINVAL);
}

static struct subs_state apply(struct subs_state cur, struct subs_facts f, int want)
{
    struct subs_state next;
    int d = subs_decide(&cur, &f, &next);
    if (d != want)
        TEST_FAIL("decision %d, want %d (status %s, event at %lld, state at %lld)", d, want,
                  subs_status_name(cur.status), (long long)f.created_s,
                  (long long)cur.state_at_s);
    return next;
}

TEST(lifecycle)
{
    struct subs_state s = {.status = SUBS_INCOMPLETE};
    /* the first invoice fails: still incomplete, not past_due */
    s = apply(s, facts("invoice.payment_failed", 10, INV(",\"billing_reason\":\"subscription_create\"")),
              SUBS_APPLY);
    ASSERT_EQ(s.status, SUBS_INCOMPLETE);
    s = apply(s, facts("invoice.paid", 20, INV(",\"lines\":{\"data\":[{\"period\":{\"end\":500}}]}")),
              SUBS_APPLY);
    ASSERT_EQ(s.status, SUBS_ACTIVE);
    ASSERT_EQ(s.period_end_s, 500);
    ASSERT_EQ(s.state_at_s, 20);
    /* a renewal fails: past_due since the event */
    s = apply(s, facts("invoice.payment_failed", 30, INV(",\"billing_reason\":\"subscription_cycle\"")),
              SUBS_APPLY);
    ASSERT_EQ(s.status, SUBS_PAST_DUE);
    ASSERT_EQ(s.past_due_since_s, 30);
    s = apply(s, facts("invoice.payment_failed", 40, INV(",\"billing_reason\":\"subscription_cycle\"")),
              SUBS_APPLY);
    ASSERT_EQ(s.past_due_since_s, 30); /* the first failure counts */
    s = apply(s, facts("invoice.paid", 50, INV("")), SUBS_APPLY);
    ASSERT_EQ(s.status, SUBS_ACTIVE);
    ASSERT_EQ(s.past_due_since_s, 0);
    s = apply(s, facts("customer.subscription.updated", 60, SUB("active", ",\"cancel_at_period_end\":true")),
              SUBS_APPLY);
    ASSERT(s.cancel_at_period_end);
    ASSERT(s.state_from_object);
    s = apply(s, facts("customer.subscription.deleted", 70, SUB("canceled", ",\"canceled_at\":65")),
              SUBS_APPLY);
    ASSERT_EQ(s.status, SUBS_CANCELED);
    ASSERT_EQ(s.canceled_at_s, 65);
    /* canceled is final, even for a newer event */
    s = apply(s, facts("invoice.paid", 80, INV("")), SUBS_STALE);
    s = apply(s, facts("customer.subscription.updated", 90, SUB("active", "")), SUBS_STALE);
    ASSERT_EQ(s.status, SUBS_CANCELED);
}

TEST(monotonic_guard)
{
    struct subs_state s = {.status = SUBS_ACTIVE, .state_at_s = 100};
    /* older: ignored */
    struct subs_state n = apply(s, facts("invoice.payment_failed", 99, INV("")), SUBS_STALE);
    ASSERT_EQ(n.status, SUBS_ACTIVE);
    ASSERT_EQ(n.state_at_s, 100);
    /* equal time, state derived from an invoice: a later invoice event applies */
    n = apply(s, facts("invoice.payment_failed", 100, INV("")), SUBS_APPLY);
    ASSERT_EQ(n.status, SUBS_PAST_DUE);
    /* equal time, the subscription object's own state beats an invoice */
    s = apply(s, facts("customer.subscription.updated", 100, SUB("past_due", "")), SUBS_APPLY);
    ASSERT_EQ(s.status, SUBS_PAST_DUE);
    n = apply(s, facts("invoice.paid", 100, INV("")), SUBS_STALE);
    ASSERT_EQ(n.status, SUBS_PAST_DUE);
    /* ... but another object at the same time still applies */
    n = apply(s, facts("customer.subscription.updated", 100, SUB("unpaid", "")), SUBS_APPLY);
    ASSERT_EQ(n.status, SUBS_UNPAID);
    /* duplicates converge: applying the same event twice gives the same state */
    struct subs_facts paid = facts("invoice.paid", 200, INV(""));
    struct subs_state a = apply(s, paid, SUBS_APPLY);
    struct subs_state b = apply(a, paid, SUBS_APPLY);
    ASSERT_EQ(a.status, b.status);
    ASSERT_EQ(a.state_at_s, b.state_at_s);
    /* out of order: paid(300) then failed(250) arriving late -> active stays */
    struct subs_state o = apply(s, facts("invoice.paid", 300, INV("")), SUBS_APPLY);
    o = apply(o, facts("invoice.payment_failed", 250, INV("")), SUBS_STALE);
    ASSERT_EQ(o.status, SUBS_ACTIVE);
    /* other types never change anything */
    struct subs_facts other = facts("payment_intent.succeeded", 999, "{\"id\":\"pi_1\"}");
    n = apply(s, other, SUBS_STALE);
    ASSERT_EQ(n.status, s.status);
    /* a zero invoice during a trial keeps trialing */
    struct subs_state t = {.status = SUBS_TRIALING};
    t = apply(t, facts("invoice.paid", 5, INV(",\"amount_paid\":0")), SUBS_APPLY);
    ASSERT_EQ(t.status, SUBS_TRIALING);
}

TEST(subscription_object)
{
    struct subs_facts f;
    json_t *o = json_loads(SUB("incomplete", ",\"current_period_end\":77"), 0, NULL);
    ASSERT_EQ(subs_facts_from_subscription(o, &f), FF_OK);
    ASSERT_STREQ(f.subscription_id, "sub_1");
    ASSERT_EQ(f.status, SUBS_INCOMPLETE);
    ASSERT_EQ(f.period_end_s, 77);
    json_decref(o);
    o = json_loads("{\"status\":\"active\"}", 0, NULL);
    ASSERT_EQ(subs_facts_from_subscription(o, &f), FF_EINVAL);
    json_decref(o);
    ASSERT_EQ(subs_facts_from_subscription(NULL, &f), FF_EINVAL);
}

int main(void)
{
    RUN(status_names);
    RUN(service_switch);
    RUN(reading_events);
    RUN(lifecycle);
    RUN(monotonic_guard);
    RUN(subscription_object);
    return TEST_REPORT();
}
