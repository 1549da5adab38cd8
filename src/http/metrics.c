/* metrics.c - fixed slots per (route, method, status); atomics only. */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"

/* Histogram bucket upper bounds in microseconds. */
static const uint64_t bucket_us[] = {100, 250, 500, 1000, 2500, 5000, 10000, 25000,
                                     50000, 100000, 250000, 500000, 1000000, 2500000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])
#define SLOTS 12 /* distinct (method, status) pairs per route; extra ones share the last */

struct slot {
    _Atomic uint32_t key; /* method index << 16 | status; 0 = free */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us;
    _Atomic uint64_t buckets[NBUCKETS]; /* non-cumulative */
};

struct route_series {
    const char *pattern;
    struct slot slots[SLOTS];
};

struct collector {
    http_metrics_collector_fn fn;
    void *ud;
};

struct http_metrics {
    size_t nroutes;               /* + 1 for unmatched at index nroutes */
    struct route_series *routes;
    struct collector collectors[8];
    _Atomic size_t ncollectors;
    _Atomic long inflight;
    time_t started;
};

static const char *const methods[] = {"OTHER", "GET", "HEAD", "POST", "PUT",
                                      "PATCH", "DELETE", "OPTIONS"};

static uint32_t method_index(const char *m)
{
    for (uint32_t i = 1; i < 8; i++)
        if (m && !strcmp(m, methods[i]))
            return i;
    return 0;
}

struct http_metrics *http_metrics_new(size_t nroutes)
{
    struct http_metrics *m = ff_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->routes = ff_calloc(nroutes + 1, sizeof *m->routes);
    if (!m->routes) {
        ff_free(m);
        return NULL;
    }
    m->nroutes = nroutes;
    m->routes[nroutes].pattern = "unmatched";
    m->started = time(NULL);
    return m;
}

void http_metrics_free(struct http_metrics *m)
{
    if (!m)
        return;
    ff_free(m->routes);
    ff_free(m);
}

void http_metrics_set_route(struct http_metrics *m, size_t i, const char *method_list,
                            const char *pattern)
{
    (void)method_list;
    if (i < m->nroutes)
        m->routes[i].pattern = pattern;
}

void http_metrics_observe(struct http_metrics *m, size_t route, const char *method, int status,
                          uint64_t duration_us)
{
    if (route >= m->nroutes)
        route = m->nroutes;
    if (status < 100 || status > 599)
        status = 599;
    uint32_t key = method_index(method) << 16 | (uint32_t)status;
    struct route_series *rs = &m->routes[route];
    struct slot *s = &rs->slots[SLOTS - 1];
    for (size_t i = 0; i < SLOTS - 1; i++) {
        uint32_t k = atomic_load_explicit(&rs->slots[i].key, memory_order_acquire);
        if (k == key) {
            s = &rs->slots[i];
            break;
        }
        if (k == 0) {
            uint32_t zero = 0;
            if (atomic_compare_exchange_strong(&rs->slots[i].key, &zero, key) || zero == key) {
                s = &rs->slots[i];
                break;
            }
        }
    }
    if (s == &rs->slots[SLOTS - 1]) {
        uint32_t zero = 0; /* the overflow slot keeps the first key it sees */
        atomic_compare_exchange_strong(&s->key, &zero, key);
    }
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, duration_us, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKETS && duration_us > bucket_us[b])
        b++;
    if (b < NBUCKETS)
        atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
}

enum ff_err http_metrics_add_collector(struct http_metrics *m, http_metrics_collector_fn fn,
                                       void *ud)
{
    size_t n = atomic_load(&m->ncollectors);
    if (n == 8)
        return FF_ETOOBIG;
    m->collectors[n] = (struct collector){fn, ud};
    atomic_store(&m->ncollectors, n + 1);
    return FF_OK;
}

void http_metrics_inflight_add(struct http_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

/* Label values are route patterns: escape \, " and newlines anyway. */
static void label(char *dst, size_t n, const char *s)
{
    size_t o = 0;
    for (; *s && o + 2 < n; s++) {
        if (*s == '\\' || *s == '"') {
            dst[o++] = '\\';
            dst[o++] = *s;
        } else if (*s == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else {
            dst[o++] = *s;
        }
    }
    dst[o] = '\0';
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

#define TRY(x)             \
    do {                   \
        enum ff_err e_ = (x); \
        if (e_)            \
            return e_;     \
    } while (0)

static enum ff_err render_requests(struct http_metrics *m, struct ff_buf *out, int hist)
{
    for (size_t r = 0; r <= m->nroutes; r++) {
        struct route_series *rs = &m->routes[r];
        char route[512];
        label(route, sizeof route, rs->pattern ? rs->pattern : "?");
        for (size_t i = 0; i < SLOTS; i++) {
            struct slot *s = &rs->slots[i];
            uint32_t key = atomic_load(&s->key);
            uint64_t count = atomic_load(&s->count);
            if (!key || !count)
                continue;
            const char *meth = methods[(key >> 16) & 7];
            unsigned status = key & 0xffff;
            if (!hist) {
                TRY(ff_buf_appendf(out,
                                   "framefit_http_requests_total{method=\"%s\",route=\"%s\","
                                   "status=\"%u\"} %llu\n",
                                   meth, route, status, (unsigned long long)count));
                continue;
            }
            uint64_t cum = 0;
            for (size_t b = 0; b < NBUCKETS; b++) {
                cum += atomic_load(&s->buckets[b]);
                TRY(ff_buf_appendf(out,
                                   "framefit_http_request_duration_seconds_bucket{method=\"%s\","
                                   "route=\"%s\",status=\"%u\",le=\"%g\"} %llu\n",
                                   meth, route, status, (double)bucket_us[b] / 1e6,
                                   (unsigned long long)cum));
            }
            TRY(ff_buf_appendf(out,
                               "framefit_http_request_duration_seconds_bucket{method=\"%s\","
                               "route=\"%s\",status=\"%u\",le=\"+Inf\"} %llu\n"
                               "framefit_http_request_duration_seconds_sum{method=\"%s\","
                               "route=\"%s\",status=\"%u\"} %.6f\n"
                               "framefit_http_request_duration_seconds_count{method=\"%s\","
                               "route=\"%s\",status=\"%u\"} %llu\n",
                               meth, route, status, (unsigned long long)count, meth, route,
                               status, (double)atomic_load(&s->sum_us) / 1e6, meth, route,
                               status, (unsigned long long)count));
        }
    }
    return FF_OK;
}

enum ff_err http_metrics_render(struct http_metrics *m, struct ff_buf *out)
{
    TRY(ff_buf_appends(out, "# HELP framefit_http_requests_total HTTP requests answered.\n"
                            "# TYPE framefit_http_requests_total counter\n"));
    TRY(render_requests(m, out, 0));
    TRY(ff_buf_appends(out, "# HELP framefit_http_request_duration_seconds Time from the "
                            "request head to the response, by route.\n"
                            "# TYPE framefit_http_request_duration_seconds histogram\n"));
    TRY(render_requests(m, out, 1));
    TRY(ff_buf_appendf(out,
                       "# HELP framefit_http_requests_in_flight Requests being handled now.\n"
                       "# TYPE framefit_http_requests_in_flight gauge\n"
                       "framefit_http_requests_in_flight %ld\n"
                       "# HELP framefit_heap_bytes Bytes allocated through ff_malloc.\n"
                       "# TYPE framefit_heap_bytes gauge\n"
                       "framefit_heap_bytes %zu\n"
                       "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                       "# TYPE process_resident_memory_bytes gauge\n"
                       "process_resident_memory_bytes %ld\n"
                       "# HELP process_start_time_seconds Start time of the process since "
                       "unix epoch in seconds.\n"
                       "# TYPE process_start_time_seconds gauge\n"
                       "process_start_time_seconds %lld\n",
                       atomic_load(&m->inflight), ff_alloc_used(), rss_bytes(),
                       (long long)m->started));
    size_t n = atomic_load(&m->ncollectors);
    for (size_t i = 0; i < n; i++)
        m->collectors[i].fn(out, m->collectors[i].ud);
    return FF_OK;
}
