/* fuzz_jobs_filter.c - the staff job-list filter (GET /api/v1/jobs query):
 * a query string through http_query_parse, then jobs_filter_parse. Checks
 * that an accepted filter is within its documented bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/query.h"
#include "jobs/jobs.h"
#include "jobs/jobs_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ff_arena *a = ff_arena_new(0);
    if (!a)
        return 0;
    struct http_kv *kv;
    size_t n;
    if (http_query_parse(a, (const char *)data, size, &kv, &n) == FF_OK) {
        struct jobs_kv jkv[HTTP_MAX_QUERY_PARAMS];
        for (size_t i = 0; i < n && i < HTTP_MAX_QUERY_PARAMS; i++)
            jkv[i] = (struct jobs_kv){kv[i].name, kv[i].value};
        struct jobs_filter f;
        char field[64], reason[128];
        enum ff_err e = jobs_filter_parse(jkv, n, &f, field, sizeof field, reason, sizeof reason);
        if (e == FF_OK) {
            if (f.limit < 1 || f.limit > 200 || f.before_id < 0)
                __builtin_trap();
            if ((f.queue[0] && !jobs_name_ok(f.queue)) || (f.type[0] && !jobs_name_ok(f.type)))
                __builtin_trap();
        } else if (e != FF_EINVAL || !field[0] || !reason[0]) {
            __builtin_trap();
        }
    }
    ff_arena_free(a);
    return 0;
}
