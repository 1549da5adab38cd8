/* fuzz_subs_event.c - reading Stripe subscription/invoice events and the
 * monotonic decision (payments/subscriptions.h). Input: JSON text of an event.
 * Properties: no crash or leak; a refused event leaves nothing half-read (the
 * decision is never reached); a stale decision leaves the state as it was; an
 * applied one moves state_at to the event's time and never revives a final
 * status. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "payments/subscriptions.h"

static int same(const struct subs_state *a, const struct subs_state *b)
{
    return a->status == b->status && a->period_end_s == b->period_end_s &&
           a->cancel_at_period_end == b->cancel_at_period_end &&
           a->canceled_at_s == b->canceled_at_s && a->past_due_since_s == b->past_due_since_s &&
           a->state_at_s == b->state_at_s && a->state_from_object == b->state_from_object;
}

static void decide_from(const struct subs_state *cur, const struct subs_facts *f)
{
    struct subs_state next;
    enum subs_decision d = subs_decide(cur, f, &next);
    if (d == SUBS_STALE && !same(&next, cur))
        __builtin_trap();
    if (d == SUBS_APPLY) {
        if (next.state_at_s != f->created_s || f->created_s < cur->state_at_s)
            __builtin_trap();
        if (subs_status_final(cur->status))
            __builtin_trap();
        if ((unsigned)next.status >= SUBS_STATUS_COUNT)
            __builtin_trap();
    }
    (void)subs_service_enabled(next.status, next.past_due_since_s, f->created_s, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *ev = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!ev)
        return 0;
    struct subs_facts f;
    if (subs_facts_from_event(ev, &f) == FF_OK) {
        if (f.status >= SUBS_STATUS_COUNT || strlen(f.subscription_id) >= sizeof f.subscription_id)
            __builtin_trap();
        for (int s = 0; s < SUBS_STATUS_COUNT; s++) {
            struct subs_state cur = {.status = (enum subs_status)s, .state_at_s = f.created_s,
                                     .state_from_object = s & 1, .past_due_since_s = 5};
            decide_from(&cur, &f);
            cur.state_at_s = 0;
            decide_from(&cur, &f);
        }
    }
    struct subs_facts g;
    const json_t *obj = json_object_get(json_object_get(ev, "data"), "object");
    if (subs_facts_from_subscription(obj, &g) == FF_OK && !g.subscription_id[0])
        __builtin_trap();
    json_decref(ev);
    return 0;
}
