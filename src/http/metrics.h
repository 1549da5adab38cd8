/* metrics.h - request counters and latency histograms in Prometheus text
 * format, by method, route and status, plus collector hooks for other
 * modules' gauges (the storage pool).
 *
 * Recording is lock-free (atomics); rendering takes a snapshot. */
#ifndef FF_HTTP_METRICS_H
#define FF_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct http_metrics;

/* A collector appends complete metric families (# HELP, # TYPE, samples) to
 * out. It runs on the thread serving /metrics; it must be quick. */
typedef void (*http_metrics_collector_fn)(struct ff_buf *out, void *ud);

/* nroutes: the router's route count; one more series "unmatched" is kept
 * for 404/405/early errors. NULL on OOM. */
struct http_metrics *http_metrics_new(size_t nroutes);
void http_metrics_free(struct http_metrics *m);

/* Labels for route index i (pointers must outlive m). */
void http_metrics_set_route(struct http_metrics *m, size_t i, const char *method_list,
                            const char *pattern);

/* Records one finished request. route = SIZE_MAX for unmatched. */
void http_metrics_observe(struct http_metrics *m, size_t route, const char *method,
                          int status, uint64_t duration_us);

/* Adds a collector (at most 8). */
enum ff_err http_metrics_add_collector(struct http_metrics *m, http_metrics_collector_fn fn,
                                       void *ud) FF_MUST_CHECK;

/* Renders everything (text format 0.0.4) into out. */
enum ff_err http_metrics_render(struct http_metrics *m, struct ff_buf *out) FF_MUST_CHECK;

/* Gauges the server keeps itself. */
void http_metrics_inflight_add(struct http_metrics *m, int delta);

#endif
