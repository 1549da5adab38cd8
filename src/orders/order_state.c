/* order_state.c - the order state machine: names and the one table of legal
 * transitions. */
#include <string.h>

#include "orders/orders.h"

static const char *const names[ORD_STATUS_COUNT] = {
    [ORD_PENDING_PAYMENT] = "pending_payment",
    [ORD_PAID] = "paid",
    [ORD_FULFILLED] = "fulfilled",
    [ORD_SHIPPED] = "shipped",
    [ORD_DELIVERED] = "delivered",
    [ORD_CANCELLED] = "cancelled",
    [ORD_REFUNDED] = "refunded",
    [ORD_PARTIALLY_REFUNDED] = "partially_refunded",
};

#define B(s) (1u << (s))
#define REFUNDS (B(ORD_REFUNDED) | B(ORD_PARTIALLY_REFUNDED))

/* legal[from] = the set of states `from` may move to. Cancelling is for
 * orders whose goods have not left (stock is returned); refunds (from Stripe)
 * apply to anything paid; a partially refunded order can still be fulfilled,
 * shipped and delivered. cancelled and refunded are final. */
static const unsigned legal[ORD_STATUS_COUNT] = {
    [ORD_PENDING_PAYMENT] = B(ORD_PAID) | B(ORD_CANCELLED),
    [ORD_PAID] = B(ORD_FULFILLED) | B(ORD_CANCELLED) | REFUNDS,
    [ORD_FULFILLED] = B(ORD_SHIPPED) | REFUNDS,
    [ORD_SHIPPED] = B(ORD_DELIVERED) | REFUNDS,
    [ORD_DELIVERED] = REFUNDS,
    [ORD_CANCELLED] = 0,
    [ORD_REFUNDED] = 0,
    [ORD_PARTIALLY_REFUNDED] = B(ORD_FULFILLED) | B(ORD_SHIPPED) | B(ORD_DELIVERED) | REFUNDS,
};

const char *orders_status_name(enum orders_status s)
{
    return (unsigned)s < ORD_STATUS_COUNT ? names[s] : "unknown";
}

int orders_status_parse(const char *s)
{
    for (int i = 0; s && i < ORD_STATUS_COUNT; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

bool orders_transition_ok(enum orders_status from, enum orders_status to)
{
    if ((unsigned)from >= ORD_STATUS_COUNT || (unsigned)to >= ORD_STATUS_COUNT)
        return false;
    return (legal[from] & B(to)) != 0;
}
