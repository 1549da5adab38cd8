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

struct jobs__every {
    char *type, *queue, *payload;
    int64_t interval_ms;
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
