/* jobs_registry.c - handlers by type and recurring jobs. */
#include <string.h>

#include "core/alloc.h"
#include "jobs/jobs_int.h"

enum ff_err jobs_registry_new(struct jobs_registry **out)
{
    *out = ff_calloc(1, sizeof **out);
    return *out ? FF_OK : FF_ENOMEM;
}

void jobs_registry_free(struct jobs_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->nh; i++)
        ff_free(reg->h[i].type);
    for (size_t i = 0; i < reg->nev; i++) {
        ff_free(reg->ev[i].type);
        ff_free(reg->ev[i].queue);
        ff_free(reg->ev[i].payload);
    }
    ff_free(reg->h);
    ff_free(reg->ev);
    ff_free(reg);
}

const struct jobs__handler *jobs__find(const struct jobs_registry *reg, const char *type)
{
    for (size_t i = 0; reg && i < reg->nh; i++)
        if (!strcmp(reg->h[i].type, type))
            return &reg->h[i];
    return NULL;
}

static enum ff_err add(struct jobs_registry *reg, const char *type, job_handler_fn fn,
                       job_tx_handler_fn tx_fn, void *ud)
{
    if (!reg || !jobs_name_ok(type) || (!fn && !tx_fn))
        return jobs__fail(FF_EINVAL, "bad job type name or no handler");
    if (jobs__find(reg, type))
        return jobs__fail(FF_ECONFLICT, "job type %s has a handler already", type);
    if (reg->nh == reg->caph) {
        size_t cap = reg->caph ? reg->caph * 2 : 16;
        struct jobs__handler *h = ff_realloc(reg->h, cap * sizeof *h);
        if (!h)
            return FF_ENOMEM;
        reg->h = h;
        reg->caph = cap;
    }
    char *t = ff_strdup(type);
    if (!t)
        return FF_ENOMEM;
    reg->h[reg->nh++] = (struct jobs__handler){t, fn, tx_fn, ud};
    return FF_OK;
}

enum ff_err jobs_register(struct jobs_registry *reg, const char *type, job_handler_fn fn,
                          void *ud)
{
    return add(reg, type, fn, NULL, ud);
}

enum ff_err jobs_register_tx(struct jobs_registry *reg, const char *type,
                             job_tx_handler_fn fn, void *ud)
{
    return add(reg, type, NULL, fn, ud);
}

enum ff_err jobs_every(struct jobs_registry *reg, const char *type, const char *queue,
                       int interval_s, const char *payload)
{
    if (!reg || !jobs_name_ok(type) || (queue && !jobs_name_ok(queue)))
        return jobs__fail(FF_EINVAL, "bad job type or queue name");
    if (interval_s < 1 || interval_s > 31622400)
        return jobs__fail(FF_EINVAL, "interval: must be 1..31622400 seconds");
    if (payload && jobs__check_payload(payload))
        return FF_EINVAL;
    for (size_t i = 0; i < reg->nev; i++)
        if (!strcmp(reg->ev[i].type, type))
            return jobs__fail(FF_ECONFLICT, "job type %s is recurring already", type);
    if (reg->nev == reg->capev) {
        size_t cap = reg->capev ? reg->capev * 2 : 8;
        struct jobs__every *e = ff_realloc(reg->ev, cap * sizeof *e);
        if (!e)
            return FF_ENOMEM;
        reg->ev = e;
        reg->capev = cap;
    }
    struct jobs__every e = {ff_strdup(type), ff_strdup(queue ? queue : "default"),
                            ff_strdup(payload ? payload : "{}"), (int64_t)interval_s * 1000};
    if (!e.type || !e.queue || !e.payload) {
        ff_free(e.type);
        ff_free(e.queue);
        ff_free(e.payload);
        return FF_ENOMEM;
    }
    reg->ev[reg->nev++] = e;
    return FF_OK;
}
