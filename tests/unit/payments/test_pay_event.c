/* Reading Stripe events (pay__event_parse) and the order plan (pay__plan):
 * well-formed, malformed, truncated, hostile and out-of-order inputs. */
#include "harness.h"

#include <jansson.h>
#include <string.h>

#include "payments/payments_int.h"

static enum ff_err parse(const char *text, struct pay_ev *ev)
{
    json_t *j = json_loads(text, 0, NULL);
    if (!j)
        TEST_FAIL("not JSON: %s", text);
    char why[160] = "";
    enum ff_err e = pay__event_parse(j, ev, why, sizeof why);
    if (e && !why[0])
        TEST_FAIL("error without a reason: %s", text);
    json_decref(j);
    return e;
}

TEST(intent_events)
{
    struct pay_ev ev;
    ASSERT_OK(parse("{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\","
                    "\"amount\":1990,\"amount_received\":1990,\"currency\":\"EUR\",\"status\":"
                    "\"succeeded\",\"metadata\":{\"order_id\":\"42\"}}}}", &ev));
    ASSERT_EQ(ev.kind, PAY_EV_INTENT);
    ASSERT_STREQ(ev.pi, "pi_1");
    ASSERT_EQ(ev.order_id, 42);
    ASSERT_EQ(ev.amount_received, 1990);
    ASSERT_STREQ(ev.currency, "eur");
    ASSERT_STREQ(ev.status, "succeeded");
    ASSERT_OK(parse("{\"type\":\"payment_intent.payment_failed\",\"data\":{\"object\":{\"id\":"
                    "\"pi_2\",\"amount\":5,\"status\":\"requires_payment_method\","
                    "\"last_payment_error\":{\"code\":\"card_declined\",\"message\":\"no\"}}}}",
                    &ev));
    ASSERT_STREQ(ev.error, "card_declined: no");
    ASSERT_EQ(ev.order_id, 0);
    /* metadata order ids that are not positive decimal integers are ignored */
    const char *bad_ids[] = {"\"-1\"", "\"4x\"", "42", "\"\"", "\"1234567890123456789\"", "null"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char t[256];
        snprintf(t, sizeof t, "{\"type\":\"payment_intent.created\",\"data\":{\"object\":{\"id\":"
                 "\"pi_3\",\"status\":\"x\",\"metadata\":{\"order_id\":%s}}}}", bad_ids[i]);
        ASSERT_OK(parse(t, &ev));
        ASSERT_EQ(ev.order_id, 0);
    }
}

TEST(charge_and_dispute)
{
    struct pay_ev ev;
    ASSERT_OK(parse("{\"type\":\"charge.refunded\",\"data\":{\"object\":{\"payment_intent\":"
                    "\"pi_1\",\"amount\":1990,\"amount_refunded\":500,\"currency\":\"eur\"}}}",
                    &ev));
    ASSERT_EQ(ev.kind, PAY_EV_REFUND);
    ASSERT_EQ(ev.amount_received, 1990);
    ASSERT_EQ(ev.amount_refunded, 500);
    /* an expanded payment_intent object */
    ASSERT_OK(parse("{\"type\":\"charge.dispute.created\",\"data\":{\"object\":{\"payment_intent\":"
                    "{\"id\":\"pi_9\"},\"amount\":10,\"reason\":\"fraudulent\"}}}", &ev));
    ASSERT_EQ(ev.kind, PAY_EV_DISPUTE);
    ASSERT_STREQ(ev.pi, "pi_9");
    ASSERT_STREQ(ev.reason, "fraudulent");
    /* types this part does not apply */
    ASSERT_OK(parse("{\"type\":\"invoice.paid\",\"data\":{\"object\":{}}}", &ev));
    ASSERT_EQ(ev.kind, PAY_EV_IGNORE);
    ASSERT_OK(parse("{\"type\":\"charge.refund.updated\",\"data\":{\"object\":{}}}", &ev));
    ASSERT_EQ(ev.kind, PAY_EV_IGNORE);
}

TEST(malformed)
{
    struct pay_ev ev;
    const char *bad[] = {
        "{\"data\":{\"object\":{}}}",                                   /* no type */
        "{\"type\":\"payment_intent.succeeded\"}",                      /* no object */
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":[]}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"status\":\"x\"}}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi\"}}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi\",\"status\":"
        "\"succeeded\",\"amount\":-5}}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi\",\"status\":"
        "\"succeeded\",\"amount\":\"5\"}}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi\",\"status\":"
        "\"succeeded\",\"amount\":1e3}}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi\",\"status\":"
        "\"succeeded\",\"currency\":\"euro\"}}}",
        "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi\",\"status\":"
        "\"succeeded\",\"amount\":99999999999999}}}",
        "{\"type\":\"charge.refunded\",\"data\":{\"object\":{\"amount\":5}}}",
        "{\"type\":\"charge.refunded\",\"data\":{\"object\":{\"payment_intent\":7}}}",
        "{\"type\":\"charge.refunded\",\"data\":{\"object\":{\"payment_intent\":\"pi\","
        "\"amount\":5,\"amount_refunded\":6}}}",
        "{\"type\":\"charge.dispute.created\",\"data\":{\"object\":{\"payment_intent\":\"pi\","
        "\"reason\":5}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i], &ev) != FF_EINVAL)
            TEST_FAIL("accepted %s", bad[i]);
        ASSERT_EQ(ev.kind, PAY_EV_IGNORE);
    }
    /* an oversized id */
    char big[1024];
    snprintf(big, sizeof big, "{\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
             "{\"status\":\"x\",\"id\":\"%0300d\"}}}", 7);
    ASSERT_EQ(parse(big, &ev), FF_EINVAL);
}

static void plan(enum orders_status cur, int64_t ord_ref, bool ok, int64_t rec, int64_t ref,
                 int n, enum orders_status s0, enum orders_status s1, int64_t new_ref)
{
    struct pay_plan p;
    pay__plan(cur, ord_ref, ok, rec, ref, &p);
    ASSERT_EQ(p.nsteps, n);
    if (n > 0)
        ASSERT_EQ(p.steps[0], s0);
    if (n > 1)
        ASSERT_EQ(p.steps[1], s1);
    ASSERT_EQ(p.new_refunded, new_ref);
}

TEST(plans)
{
    const enum orders_status X = ORD_PENDING_PAYMENT;
    plan(ORD_PENDING_PAYMENT, 0, true, 1000, 0, 1, ORD_PAID, X, 0);
    plan(ORD_PENDING_PAYMENT, 0, false, 1000, 0, 0, X, X, 0);
    plan(ORD_PAID, 0, true, 1000, 0, 0, X, X, 0);               /* replay: nothing */
    /* a refund that arrived before the success: paid, then refunded */
    plan(ORD_PENDING_PAYMENT, 0, true, 1000, 1000, 2, ORD_PAID, ORD_REFUNDED, 1000);
    plan(ORD_PENDING_PAYMENT, 0, true, 1000, 300, 2, ORD_PAID, ORD_PARTIALLY_REFUNDED, 300);
    plan(ORD_SHIPPED, 0, true, 1000, 300, 1, ORD_PARTIALLY_REFUNDED, X, 300);
    plan(ORD_PARTIALLY_REFUNDED, 300, true, 1000, 300, 0, X, X, 300); /* replay */
    plan(ORD_PARTIALLY_REFUNDED, 300, true, 1000, 200, 0, X, X, 300); /* older event */
    plan(ORD_PARTIALLY_REFUNDED, 300, true, 1000, 1000, 1, ORD_REFUNDED, X, 1000);
    plan(ORD_REFUNDED, 1000, true, 1000, 1000, 0, X, X, 1000);
    plan(ORD_CANCELLED, 0, true, 1000, 0, 0, X, X, 0);
    plan(ORD_CANCELLED, 0, true, 1000, 1000, 0, X, X, 0);
}

int main(void)
{
    RUN(intent_events);
    RUN(charge_and_dispute);
    RUN(malformed);
    RUN(plans);
    return TEST_REPORT();
}
