/* The order state machine table and prescription validation (no database). */
#include "harness.h"

#include <jansson.h>
#include <string.h>

#include "orders/orders.h"

TEST(status_names_round_trip)
{
    for (int s = 0; s < ORD_STATUS_COUNT; s++)
        ASSERT_EQ(orders_status_parse(orders_status_name((enum orders_status)s)), s);
    ASSERT_EQ(orders_status_parse("PAID"), -1);
    ASSERT_EQ(orders_status_parse(""), -1);
    ASSERT_EQ(orders_status_parse(NULL), -1);
    ASSERT_STREQ(orders_status_name(ORD_STATUS_COUNT), "unknown");
}

TEST(legal_transitions)
{
    ASSERT(orders_transition_ok(ORD_PENDING_PAYMENT, ORD_PAID));
    ASSERT(orders_transition_ok(ORD_PENDING_PAYMENT, ORD_CANCELLED));
    ASSERT(!orders_transition_ok(ORD_PENDING_PAYMENT, ORD_SHIPPED));
    ASSERT(!orders_transition_ok(ORD_PENDING_PAYMENT, ORD_REFUNDED));
    ASSERT(orders_transition_ok(ORD_PAID, ORD_FULFILLED));
    ASSERT(orders_transition_ok(ORD_FULFILLED, ORD_SHIPPED));
    ASSERT(orders_transition_ok(ORD_SHIPPED, ORD_DELIVERED));
    ASSERT(!orders_transition_ok(ORD_SHIPPED, ORD_CANCELLED));
    ASSERT(!orders_transition_ok(ORD_DELIVERED, ORD_SHIPPED));
    ASSERT(orders_transition_ok(ORD_DELIVERED, ORD_REFUNDED));
    ASSERT(orders_transition_ok(ORD_PARTIALLY_REFUNDED, ORD_PARTIALLY_REFUNDED));
    ASSERT(!orders_transition_ok(ORD_PAID, ORD_PAID));
    ASSERT(!orders_transition_ok(ORD_PAID, ORD_PENDING_PAYMENT));
    for (int to = 0; to < ORD_STATUS_COUNT; to++) { /* final states */
        ASSERT(!orders_transition_ok(ORD_CANCELLED, (enum orders_status)to));
        ASSERT(!orders_transition_ok(ORD_REFUNDED, (enum orders_status)to));
        ASSERT(!orders_transition_ok((enum orders_status)to, ORD_PENDING_PAYMENT));
    }
    ASSERT(!orders_transition_ok(ORD_STATUS_COUNT, ORD_PAID));
    ASSERT(!orders_transition_ok(ORD_PAID, (enum orders_status)-1));
}

/* The first error field of a prescription text ("" when valid). */
static const char *first_err(const char *text)
{
    static struct orders_rx_err errs[8];
    int n = -1;
    enum ff_err e = orders_rx_check_text(text, strlen(text), errs, 8, &n);
    if (e == FF_ECORRUPT)
        return "<not json>";
    if (e == FF_OK) {
        ASSERT_EQ(n, 0);
        return "";
    }
    ASSERT(n > 0);
    return errs[0].field;
}

TEST(prescription_valid)
{
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":-1.25,\"cylinder\":-0.5,\"axis\":90,"
                           "\"add\":1.5},\"left\":{\"sphere\":-1},\"pd\":63.5}"), "");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":20},\"pd_right\":31.5,\"pd_left\":32}"), "");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":-20,\"cylinder\":6,\"axis\":0,"
                           "\"add\":3.5}}"), "");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":0,\"cylinder\":0}}"), "");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":0.75,\"add\":0.75},\"pd\":80}"), "");
}

TEST(prescription_invalid)
{
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":20.25}}"), "right.sphere");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":0.1}}"), "right.sphere");
    ASSERT_STREQ(first_err("{\"right\":{}}"), "right.sphere");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":1,\"cylinder\":-1}}"), "right.axis");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":1,\"cylinder\":-1,\"axis\":-1}}"),
                 "right.axis");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":1,\"axis\":5}}"), "right.axis");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1,\"cylinder\":6.25,\"axis\":5}}"),
                 "left.cylinder");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1,\"add\":3.75}}"), "left.add");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1},\"pd\":45}"), "pd");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1},\"pd\":60.3}"), "pd");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1},\"pd_left\":30}"), "pd_right");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1},\"pd_left\":24,\"pd_right\":30}"),
                 "pd_left");
    ASSERT_STREQ(first_err("{\"left\":{\"sphere\":1},\"pd\":60,\"pd_left\":30}"), "pd");
    ASSERT_STREQ(first_err("{\"pd\":60}"), "right");
    ASSERT_STREQ(first_err("{\"right\":1}"), "right");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":\"1\"}}"), "right.sphere");
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":1},\"prism\":1}"), "prism");
    ASSERT_STREQ(first_err("[]"), "prescription");
    ASSERT_STREQ(first_err("{\"\":32}"), "\"\""); /* an empty name still names the field */
    ASSERT_STREQ(first_err("{\"right\":{\"sphere\":1e999}}"), "<not json>");
    ASSERT_STREQ(first_err("{\"right\":"), "<not json>");
    ASSERT_STREQ(first_err(""), "<not json>");
    /* many errors: counted beyond the buffer */
    struct orders_rx_err errs[2];
    int n = 0;
    const char *many = "{\"right\":{\"sphere\":99,\"add\":9,\"x\":1},\"left\":{\"sphere\":99},"
                       "\"pd\":1,\"y\":2}";
    ASSERT_EQ(orders_rx_check_text(many, strlen(many), errs, 2, &n), FF_EINVAL);
    ASSERT(n >= 6);
}

int main(void)
{
    RUN(status_names_round_trip);
    RUN(legal_transitions);
    RUN(prescription_valid);
    RUN(prescription_invalid);
    return TEST_REPORT();
}
