/* jobs_int.h - internals shared by the files of ff_jobs. */
#ifndef FF_JOBS_JOBS_INT_H
#define FF_JOBS_JOBS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "jobs/jobs.h"

struct jobs__handler {
    char *type;
    job_handler_fn fn;       /* one of fn / tx_fn */
    job_tx_handler_fn tx_fn;
    void *ud;
};

/* A parsed cron expression (jobs_cron.c): bit sets per field, UTC. */
struct jobs_cron {
    uint64_t minute;   /* bits 0..59 */
    uint32_t hour;     /* bits 0..23 */
    uint32_t dom;      /* bits 1..31 */
    uint16_t month;    /* bits 1..12 */
    uint8_t dow;       /* bits 0..6, Sunday = 0 */
    bool star[5];      /* the field was "*" (or "*\/N") */
};

/* Parses a cron expression or @alias (see jobs_cron.c). FF_EINVAL with a
 * reason in why. */
enum ff_err jobs_cron_parse(const char *spec, struct jobs_cron *out, char *why, size_t len);
/* The first firing time (epoch ms, whole minute) strictly after after_ms,
 * or -1 when there is none within five years. */
int64_t jobs_cron_next(const struct jobs_cron *c, int64_t after_ms);

struct jobs__every {
    char *type, *queue, *payload;
    int64_t interval_ms;    /* 0 for a cron schedule */
    char *cron;             /* NULL for an interval */
    struct jobs_cron cr;
};

struct jobs_registry {
    struct jobs__handler *h;
    size_t nh, caph;
    struct jobs__every *ev;
    size_t nev, capev;
    int64_t keep_done_ms; /* jobs.prune (jobs_register_builtin) */
};

/* The handler for type, or NULL. */
const struct jobs__handler *jobs__find(const struct jobs_registry *reg, const char *type);

/* Sets this thread's jobs_errmsg (printf) and returns err. */
enum ff_err jobs__fail(enum ff_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* FF_OK when payload is a JSON object of at most JOBS_PAYLOAD_MAX bytes. */
enum ff_err jobs__check_payload(const char *payload);

/* A uniformly random 64-bit value (thread-safe, not for secrets). */
uint64_t jobs__rand64(void);

/* Retry delay for the attempt that just failed (1-based): base * 2^(n-1)
 * capped at cap, with "equal jitter" (half fixed, half random). */
int64_t jobs__backoff_ms(int attempt, int base_ms, int cap_ms, uint64_t rnd);

#endif
