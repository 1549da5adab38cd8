#include "harness.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "http/metrics.h"

static struct http_metrics *m;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++)
        http_metrics_observe(m, (size_t)(i % 3), i % 2 ? "GET" : "POST", 200 + (i % 5) * 100,
                             (uint64_t)(i % 3000) * 100);
    return NULL;
}

static void pool_gauges(struct ff_buf *out, void *ud)
{
    (void)ud;
    if (ff_buf_appends(out, "# HELP framefit_db_pool_open Open connections.\n"
                              "# TYPE framefit_db_pool_open gauge\n"
                              "framefit_db_pool_open 3\n"))
        abort();
}

TEST(counts_and_histograms)
{
    m = http_metrics_new(2);
    ASSERT(m);
    http_metrics_set_route(m, 0, NULL, "/healthz");
    http_metrics_set_route(m, 1, NULL, "/api/v1/products/{id}");
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_OK(pthread_create(&t[i], NULL, hammer, NULL));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    http_metrics_observe(m, SIZE_MAX, "BREW", 405, 10);
    http_metrics_observe(m, 0, "GET", 42, 10); /* clamped to 599 */
    ASSERT_OK(http_metrics_add_collector(m, pool_gauges, NULL));
    struct ff_buf out;
    ff_buf_init(&out, 1 << 20);
    ASSERT_OK(http_metrics_render(m, &out));
    ASSERT(strstr(out.data, "# TYPE framefit_http_requests_total counter"));
    ASSERT(strstr(out.data, "framefit_http_requests_total{method=\"OTHER\",route=\"unmatched\","
                            "status=\"405\"} 1"));
    ASSERT(strstr(out.data, "route=\"/api/v1/products/{id}\""));
    ASSERT(strstr(out.data, "status=\"599\""));
    ASSERT(strstr(out.data, "le=\"+Inf\""));
    ASSERT(strstr(out.data, "framefit_db_pool_open 3"));
    /* every observation is counted exactly once across the series */
    unsigned long long total = 0;
    for (char *p = out.data; (p = strstr(p, "framefit_http_requests_total{")); p++) {
        char *nl = strchr(p, '\n');
        char *sp = nl;
        while (sp > p && sp[-1] != ' ')
            sp--;
        total += strtoull(sp, NULL, 10);
    }
    ASSERT_EQ(total, 4 * 20000 + 2);
    /* the text format passes promtool when it is installed */
    if (access("/usr/bin/promtool", X_OK) == 0) {
        FILE *f = popen("/usr/bin/promtool check metrics >/dev/null 2>&1", "w");
        ASSERT(f);
        fwrite(out.data, 1, out.len, f);
        ASSERT_EQ(pclose(f), 0);
    }
    ff_buf_release(&out);
    http_metrics_free(m);
}

int main(void)
{
    RUN(counts_and_histograms);
    return TEST_REPORT();
}
