/* fuzz_stripe_event.c - reading a Stripe event into what applying it needs
 * (pay__event_parse) and the order plan that follows (pay__plan), without a
 * database. Input: JSON text of an event. Properties: no crash or leak; an
 * accepted event of a handled kind has a payment intent id and sane amounts
 * (refunded never above the charge); every planned step is a legal
 * transition from the state before it, and a plan never refunds more than
 * was received. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "payments/payments_int.h"

static void check_plan(const struct pay_ev *ev)
{
    for (int cur = 0; cur < ORD_STATUS_COUNT; cur++) {
        for (int succ = 0; succ < 2; succ++) {
            struct pay_plan plan;
            int64_t order_refunded = ev->amount_refunded / 2;
            pay__plan((enum orders_status)cur, order_refunded, succ, ev->amount_received,
                      ev->amount_refunded, &plan);
            if (plan.nsteps < 0 || plan.nsteps > 2 || (!succ && plan.nsteps))
                __builtin_trap();
            enum orders_status from = (enum orders_status)cur;
            for (int i = 0; i < plan.nsteps; i++) {
                if (!orders_transition_ok(from, plan.steps[i]))
                    __builtin_trap();
                from = plan.steps[i];
            }
            if (plan.new_refunded < order_refunded)
                __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *ev = json_loadb((const char *)data, size, 0, NULL);
    if (!ev)
        return 0;
    struct pay_ev pe;
    char why[160];
    enum ff_err e = pay__event_parse(ev, &pe, why, sizeof why);
    if (e == FF_OK && pe.kind != PAY_EV_IGNORE) {
        if (!pe.pi[0] || pe.amount < 0 || pe.amount_received < 0 || pe.amount_refunded < 0 ||
            pe.order_id < 0)
            __builtin_trap();
        if (pe.kind == PAY_EV_REFUND && pe.amount_refunded > pe.amount_received)
            __builtin_trap();
        if (strlen(pe.currency) != 0 && strlen(pe.currency) != 3)
            __builtin_trap();
        check_plan(&pe);
    }
    if (e != FF_OK && (pe.kind != PAY_EV_IGNORE || !why[0]))
        __builtin_trap();
    json_decref(ev);
    return 0;
}
