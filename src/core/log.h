/* log.h - structured logging (after redis serverLog, with JSON lines).
 *
 *   ff_log(FF_LOG_WARN, "db", "pool exhausted size=%d", n);
 *
 * writes one line to stderr: in JSON format
 *   {"time":"2026-11-24T22:00:00.123Z","level":"warn","module":"db","msg":"..."}
 * or in text format "2026-11-24T22:00:00.123Z WARN db: ...". Lines below the
 * configured level are dropped cheaply. The message is JSON-escaped.
 * Never log tokens, passwords, card data, face images or landmarks.
 *
 * The per-request access line is written by http/server.c with ff_log_access. */
#ifndef FF_CORE_LOG_H
#define FF_CORE_LOG_H

#include <stddef.h>
#include <stdio.h>

enum ff_log_level {
    FF_LOG_DEBUG = 0,
    FF_LOG_INFO,
    FF_LOG_WARN,
    FF_LOG_ERROR,
};

/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int ff_log_level_parse(const char *s);
const char *ff_log_level_name(enum ff_log_level l);

/* Process-wide settings; call once at start (not thread safe against ff_log). */
void ff_log_set_level(enum ff_log_level l);
void ff_log_set_json(int json);
/* Redirects output (tests); NULL restores stderr. */
void ff_log_set_stream(FILE *f);
int ff_log_enabled(enum ff_log_level l);

void ff_log(enum ff_log_level l, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes a complete, already-built JSON object line (no newline in `line`). */
void ff_log_raw(const char *line, size_t len);

/* Writes the current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (needs 25 bytes). */
void ff_log_time(char *buf, size_t len);

#endif
