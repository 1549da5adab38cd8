/* fuzz_jobs_cron.c - the cron expression parser of recurring jobs, and the
 * next-run computation over whatever it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "jobs/jobs.h"
#include "jobs/jobs_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = ff_malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct jobs_cron c;
    char why[160];
    why[0] = '\0';
    enum ff_err e = jobs_cron_parse(s, &c, why, sizeof why);
    if (e == FF_OK) {
        if (!c.minute || !c.hour || !c.dom || !c.month || !c.dow || c.minute >> 60 ||
            c.hour >> 24 || (c.dom & 1) || (c.month & 1) || c.month >> 13 ||
            c.dow >> 7)
            __builtin_trap();
        int64_t after = 1795601250500LL;
        int64_t t = jobs_cron_next(&c, after);
        if (t != -1 && (t <= after || t % 60000))
            __builtin_trap();
    } else if (e != FF_EINVAL || strncmp(why, "cron:", 5)) {
        __builtin_trap();
    }
    ff_free(s);
    return 0;
}
