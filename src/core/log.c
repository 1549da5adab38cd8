#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "core/str.h"

static enum ff_log_level log_level = FF_LOG_INFO;
static int log_json = 1;
static FILE *log_stream;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int ff_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, level_names[i]))
            return i;
    return -1;
}

const char *ff_log_level_name(enum ff_log_level l)
{
    return (unsigned)l < 4 ? level_names[l] : "unknown";
}

void ff_log_set_level(enum ff_log_level l) { log_level = l; }
void ff_log_set_json(int json) { log_json = json; }
void ff_log_set_stream(FILE *f) { log_stream = f; }
int ff_log_enabled(enum ff_log_level l) { return l >= log_level; }

void ff_log_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000);
}

void ff_log_raw(const char *line, size_t len)
{
    FILE *f = log_stream ? log_stream : stderr;
    pthread_mutex_lock(&log_mu);
    fwrite(line, 1, len, f);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&log_mu);
}

void ff_log(enum ff_log_level l, const char *module, const char *fmt, ...)
{
    if (!ff_log_enabled(l))
        return;
    char msg[1024], t[96], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ff_log_time(t, sizeof t);
    size_t n;
    if (log_json) {
        char emod[64], emsg[1536];
        ff_json_escape(emod, sizeof emod, module ? module : "", (size_t)-1);
        ff_json_escape(emsg, sizeof emsg, msg, (size_t)-1);
        n = (size_t)snprintf(line, sizeof line,
                             "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"%s\"}",
                             t, ff_log_level_name(l), emod, emsg);
    } else {
        n = (size_t)snprintf(line, sizeof line, "%s %s %s: %s", t, ff_log_level_name(l),
                             module ? module : "-", msg);
    }
    if (n >= sizeof line)
        n = sizeof line - 1;
    ff_log_raw(line, n);
}
