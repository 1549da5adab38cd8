/* jobs_cron.c - a five-field cron expression (minute hour day-of-month month
 * day-of-week), evaluated in UTC, for jobs_cron (see jobs.h).
 *
 * Fields: "*", "N", "N-M", with an optional "/STEP" ("*\/15", "8-18/2", "5/10"
 * = 5..max step 10), comma lists of those. Months 1-12 (or jan..dec), days of
 * week 0-7 (0 and 7 are Sunday, or sun..sat). Aliases: @hourly, @daily
 * (@midnight), @weekly, @monthly, @yearly (@annually). As in Vixie cron, when
 * both day-of-month and day-of-week are restricted a day matching either
 * fires. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/jobs_int.h"

struct field_def {
    const char *name;
    int min, max;
    const char *const *names; /* 3-letter names for min.., or NULL */
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_def defs[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},
    {"month", 1, 12, months},
    {"day of week", 0, 7, days},
};

static enum ff_err bad(char *why, size_t len, const char *fmt, const char *what)
    __attribute__((format(printf, 3, 0)));
static enum ff_err bad(char *why, size_t len, const char *fmt, const char *what)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(why, len, fmt, what); /* fmt: one of the literals below, one %s */
#pragma GCC diagnostic pop
    return FF_EINVAL;
}

/* A number or a name at *p; advances *p. */
static bool value(const char **p, const struct field_def *d, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        int v = 0, n = 0;
        while (isdigit((unsigned char)*s) && n < 3) {
            v = v * 10 + (*s++ - '0');
            n++;
        }
        if (isdigit((unsigned char)*s) || v < d->min || v > d->max)
            return false;
        *p = s;
        *out = v;
        return true;
    }
    for (int i = 0; d->names && d->names[i]; i++) {
        if (!strncasecmp(s, d->names[i], 3)) {
            *p = s + 3;
            *out = d->min + i;
            return true;
        }
    }
    return false;
}

/* One field (text in [s, e)) into a bit set. */
static bool field(const char *s, const char *e, const struct field_def *d, uint64_t *bits)
{
    *bits = 0;
    while (s < e) {
        int lo = d->min, hi = d->max, step = 1;
        bool star = false;
        if (*s == '*') {
            star = true;
            s++;
        } else {
            if (!value(&s, d, &lo))
                return false;
            hi = lo;
            if (s < e && *s == '-') {
                s++;
                if (!value(&s, d, &hi) || hi < lo)
                    return false;
            }
        }
        if (s < e && *s == '/') {
            s++;
            int n = 0;
            step = 0;
            while (s < e && isdigit((unsigned char)*s) && n < 3) {
                step = step * 10 + (*s++ - '0');
                n++;
            }
            if (!n || step < 1 || step > d->max)
                return false;
            if (!star && hi == lo)
                hi = d->max; /* "5/10": from 5 to the end */
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << v;
        if (s < e) {
            if (*s != ',' || s + 1 >= e)
                return false;
            s++;
        }
    }
    return *bits != 0;
}

static const struct {
    const char *alias, *spec;
} aliases[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

enum ff_err jobs_cron_parse(const char *spec, struct jobs_cron *out, char *why, size_t len)
{
    memset(out, 0, sizeof *out);
    if (!spec)
        return bad(why, len, "%s", "cron: no expression");
    if (strlen(spec) > JOBS_CRON_MAX)
        return bad(why, len, "cron: longer than %s characters", "128");
    for (size_t i = 0; spec[0] == '@' && i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(spec, aliases[i].alias))
            spec = aliases[i].spec;
    if (spec[0] == '@')
        return bad(why, len, "cron: unknown alias %s", spec);
    const char *p = spec;
    uint64_t bits[5];
    for (int f = 0; f < 5; f++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t')
            e++;
        if (e == p)
            return bad(why, len, "cron: needs 5 fields (minute hour day month weekday), %s",
                       "got fewer");
        if (!field(p, e, &defs[f], &bits[f]))
            return bad(why, len, "cron: bad %s field", defs[f].name);
        out->star[f] = *p == '*' && (e - p == 1 || p[1] == '/');
        p = e;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return bad(why, len, "cron: needs 5 fields (minute hour day month weekday), %s",
                   "got more");
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday */
    return FF_OK;
}

static bool day_ok(const struct jobs_cron *c, const struct tm *t)
{
    if (!(c->month & (1u << (t->tm_mon + 1))))
        return false;
    bool dom = (c->dom >> t->tm_mday) & 1, dow = (c->dow >> t->tm_wday) & 1;
    bool dom_any = c->star[2], dow_any = c->star[4];
    if (!dom_any && !dow_any)
        return dom || dow;
    return dom && dow;
}

int64_t jobs_cron_next(const struct jobs_cron *c, int64_t after_ms)
{
    if (after_ms < 0)
        after_ms = 0;
    /* the first whole minute strictly after after_ms */
    int64_t start = (after_ms / 60000 + 1) * 60000;
    time_t day0 = (time_t)(start / 1000);
    day0 -= day0 % 86400;
    int first_min = (int)((start / 1000 - day0) / 60); /* minute of day to start from */
    for (int d = 0; d < 366 * 5 + 2; d++) {
        time_t t0 = day0 + (time_t)d * 86400;
        struct tm tm;
        if (!gmtime_r(&t0, &tm))
            return -1;
        if (!day_ok(c, &tm))
            continue;
        for (int h = d ? 0 : first_min / 60; h < 24; h++) {
            if (!((c->hour >> h) & 1))
                continue;
            int m0 = (!d && h == first_min / 60) ? first_min % 60 : 0;
            for (int m = m0; m < 60; m++)
                if ((c->minute >> m) & 1)
                    return ((int64_t)t0 + h * 3600 + m * 60) * 1000;
        }
    }
    return -1; /* e.g. 31 February */
}
