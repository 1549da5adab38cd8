/* mail_smtp.h - message transports: SMTP over libcurl, or .eml files.
 *
 * SMTP: url "smtp://host:port" (STARTTLS as configured) or "smtps://host:port"
 * (implicit TLS), optional AUTH user/password, connect and total timeouts. The
 * reply code of the server's last answer is reported so the caller can tell a
 * temporary (4xx) from a permanent (5xx) refusal.
 *
 * File (no SMTP URL configured): each message is written to DIR/<name>.eml
 * (atomically, via a temporary file) so `make run` works without a mail server
 * and a developer can open what would have been sent. */
#ifndef FF_MAIL_MAIL_SMTP_H
#define FF_MAIL_MAIL_SMTP_H

#include <stddef.h>

#include "core/err.h"

enum mail_tls { MAIL_TLS_TRY = 0, MAIL_TLS_REQUIRE, MAIL_TLS_OFF };

struct mail_smtp_opts {
    const char *url;            /* smtp:// or smtps:// */
    const char *user, *password;/* NULL/"" = no AUTH */
    enum mail_tls tls;          /* STARTTLS policy for smtp:// */
    int connect_timeout_s;      /* 0 = 10 */
    int timeout_s;              /* whole transaction; 0 = 60 */
};

enum mail_send_outcome {
    MAIL_SENT = 0,   /* 250 after DATA */
    MAIL_TEMPFAIL,   /* 4xx, a connection or timeout problem: try again later */
    MAIL_PERMFAIL,   /* 5xx: do not retry */
};

struct mail_send_result {
    enum mail_send_outcome outcome;
    int code;          /* last SMTP reply code (0 when there was none) */
    char reply[256];   /* curl's description of what failed, or "250 ..." */
};

/* Sends msg[0..len) from envelope sender `from` to `rcpt` (bare addresses).
 * Always fills *res. Returns FF_OK when sent, FF_EUPSTREAM otherwise. */
enum ff_err mail_smtp_send(const struct mail_smtp_opts *o, const char *from, const char *rcpt,
                           const char *msg, size_t len, struct mail_send_result *res);

/* Writes msg to dir/<name>.eml (creating dir, mode 0700). name must be
 * [A-Za-z0-9._-]. */
enum ff_err mail_file_send(const char *dir, const char *name, const char *msg, size_t len,
                           struct mail_send_result *res);

/* curl_global_init, once per process (thread safe). */
void mail_curl_init(void);

/* "smtp://" / "smtps://" followed by a host (and optional :port), printable
 * ASCII: 1 when usable as FRAMEFIT_SMTP_URL. */
int mail_smtp_url_ok(const char *url);

#endif
