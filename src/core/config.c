/* config.c - the table of FRAMEFIT_* variables (after redis static_configs[]). */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

extern char **environ;

enum cfg_type { CFG_INT, CFG_SIZE, CFG_STR, CFG_BOOL };

/* A validator gets the raw value and returns NULL when fine, else the reason. */
typedef const char *(*cfg_check_fn)(const char *v);

struct cfg_row {
    const char *name;
    enum cfg_type type;
    size_t offset;          /* into struct ff_config */
    const char *def;        /* default as text; NULL = computed (see finish) */
    int64_t min, max;       /* INT/SIZE bounds; STR max length */
    cfg_check_fn check;     /* optional extra validation */
    bool secret;
    const char *help;
};

static const char *check_bind(const char *v)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, v, buf) == 1 || inet_pton(AF_INET6, v, buf) == 1)
        return NULL;
    return "must be an IPv4 or IPv6 address such as 127.0.0.1 or ::1";
}

static const char *check_db_url(const char *v)
{
    if (!*v)
        return NULL; /* empty: the default */
    if (!strncmp(v, "sqlite://", 9))
        return v[9] ? NULL : "sqlite:// needs a path, e.g. sqlite://./var/framefit.db";
    if (!strncmp(v, "postgres://", 11) || !strncmp(v, "postgresql://", 13))
        return NULL;
    return "must start with sqlite:// or postgres://";
}

static const char *check_level(const char *v)
{
    return ff_log_level_parse(v) >= 0 ? NULL : "must be one of debug, info, warn, error";
}

static const char *check_format(const char *v)
{
    return (!strcmp(v, "json") || !strcmp(v, "text")) ? NULL : "must be json or text";
}

static const char *check_origins(const char *v)
{
    if (!strcmp(v, "*") || !*v)
        return NULL;
    for (const char *p = v; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        struct ff_str o = ff_str_trim((struct ff_str){p, n});
        if (!(ff_str_starts_with(o, "http://") || ff_str_starts_with(o, "https://")))
            return "must be *, or a comma-separated list of origins like https://shop.example";
        for (size_t i = 0; i < o.len; i++)
            if ((unsigned char)o.ptr[i] <= ' ' || (o.ptr[i] == '/' && i > 8))
                return "an origin is scheme://host[:port] with no path or spaces";
        p = e ? e + 1 : p + n;
    }
    return NULL;
}

static const char *check_token(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return NULL;
    if (n < 16)
        return "must be empty (staff endpoints off) or at least 16 characters";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            return "must be printable ASCII without spaces";
    return NULL;
}

static const char *check_secret_key(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return NULL;
    if (n != 64)
        return "must be empty or exactly 64 hex digits (32 bytes; e.g. from 'openssl rand -hex 32')";
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)v[i]))
            return "must be 64 hex digits (0-9, a-f)";
    return NULL;
}

/* Stripe settings: printable ASCII without spaces (they go into headers). */
static const char *check_printable(const char *v)
{
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return "must be printable ASCII without spaces";
    return NULL;
}

static const char *check_stripe_url(const char *v)
{
    size_t n = strlen(v);
    if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
        return "must start with https:// (http:// only for a local stand-in)";
    if (n && v[n - 1] == '/')
        return "must not end with '/'";
    return check_printable(v);
}

static const char *check_stripe_key(const char *v)
{
    if (*v && strncmp(v, "sk_", 3) && strncmp(v, "rk_", 3))
        return "must be empty or a Stripe secret key (sk_...) or restricted key (rk_...)";
    return check_printable(v);
}

static const char *check_stripe_whsec(const char *v)
{
    if (*v && strncmp(v, "whsec_", 6))
        return "must be empty or a webhook signing secret (whsec_...)";
    return check_printable(v);
}

static const char *check_stripe_price(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return "must be empty or a Stripe price id such as price_1Nabc (letters, digits, _ -)";
    return NULL;
}

static const char *check_public_url(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return NULL;
    if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
        return "must start with http:// or https://";
    if (v[n - 1] == '/')
        return "must not end with '/'";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            return "must be printable ASCII without spaces";
    return NULL;
}

static const char *check_smtp_url(const char *v)
{
    if (!*v)
        return NULL;
    if (strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8))
        return "must start with smtp:// or smtps://";
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return "must be printable ASCII without spaces";
    return NULL;
}

static const char *check_smtp_tls(const char *v)
{
    return (!strcmp(v, "try") || !strcmp(v, "require") || !strcmp(v, "off"))
               ? NULL : "must be try, require or off";
}

static const char *check_rate(const char *v)
{
    const char *slash = strchr(v, '/');
    if (!slash || slash == v || !slash[1])
        return "must be RATE/BURST, two integers such as 10/20";
    for (const char *p = v; *p; p++)
        if (p != slash && !isdigit((unsigned char)*p))
            return "must be RATE/BURST, two integers such as 10/20";
    if (v[0] != '0' && slash[1] == '0' && !slash[2])
        return "BURST must be at least 1 when RATE is not 0";
    return NULL;
}

static const char *check_redis_url(const char *v)
{
    if (v[0] && strncmp(v, "redis://", 8))
        return "must start with redis://";
    return NULL;
}

static const char *check_queues(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_.:-,", *p)))
            return "must be a comma-separated list of queue names ([a-z0-9_.:-]), or empty for all";
    return NULL;
}

#define OFF(f) offsetof(struct ff_config, f)

/* THE table: every FRAMEFIT_* variable. Keep help texts short (one line). */
static const struct cfg_row rows[] = {
    {"FRAMEFIT_PORT", CFG_INT, OFF(port), "8080", 0, 65535, NULL, false,
     "TCP port to listen on (0 = any free port, printed at start)"},
    {"FRAMEFIT_BIND", CFG_STR, OFF(bind), "127.0.0.1", 0, 64, check_bind, false,
     "address to listen on; keep loopback behind a reverse proxy"},
    {"FRAMEFIT_DATA_DIR", CFG_STR, OFF(data_dir), "./var", 1, 4096, NULL, false,
     "directory for the SQLite database and stored files"},
    {"FRAMEFIT_DATABASE_URL", CFG_STR, OFF(database_url), "", 0, 4096, check_db_url, true,
     "sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB (default sqlite://DATA_DIR/framefit.db)"},
    {"FRAMEFIT_DB_POOL_SIZE", CFG_INT, OFF(db_pool_size), "8", 1, 256, NULL, false,
     "PostgreSQL connections in the pool"},
    {"FRAMEFIT_MIGRATE_ON_START", CFG_BOOL, OFF(migrate_on_start), "1", 0, 1, NULL, false,
     "apply pending migrations when serve starts (0 or 1)"},
    {"FRAMEFIT_LOG_LEVEL", CFG_STR, OFF(log_level), "info", 0, 8, check_level, false,
     "debug, info, warn or error"},
    {"FRAMEFIT_LOG_FORMAT", CFG_STR, OFF(log_format), "json", 0, 8, check_format, false,
     "json (one object per line) or text"},
    {"FRAMEFIT_CORS_ORIGINS", CFG_STR, OFF(cors_origins), "", 0, 4096, check_origins, false,
     "allowed browser origins: empty (no CORS), * or a comma-separated list"},
    {"FRAMEFIT_MAX_BODY_BYTES", CFG_SIZE, OFF(max_body_bytes), "1M", 1, 64 << 20, NULL, false,
     "largest accepted request body (bytes; K and M suffixes), larger gets 413"},
    {"FRAMEFIT_REQUEST_TIMEOUT", CFG_INT, OFF(request_timeout_s), "30", 1, 3600, NULL, false,
     "seconds a connection may stay idle or slow before it is closed"},
    {"FRAMEFIT_IDEMPOTENCY_TTL", CFG_INT, OFF(idempotency_ttl_s), "86400", 60, 30 * 86400, NULL,
     false, "seconds an Idempotency-Key's answer is kept for retries (default 24 h)"},
    {"FRAMEFIT_RESERVATION_MINUTES", CFG_INT, OFF(reservation_minutes), "30", 1, 7 * 24 * 60,
     NULL, false, "minutes checkout holds stock for an unpaid order before cancelling it"},
    {"FRAMEFIT_STRIPE_API_URL", CFG_STR, OFF(stripe_api_url), "https://api.stripe.com", 8, 2048,
     check_stripe_url, false, "Stripe API base URL (a stand-in in tests); no trailing '/'"},
    {"FRAMEFIT_STRIPE_TIMEOUT_MS", CFG_INT, OFF(stripe_timeout_ms), "10000", 100, 120000, NULL,
     false, "timeout of one Stripe API request (ms); safe requests are retried twice"},
    {"FRAMEFIT_STRIPE_SECRET_KEY", CFG_STR, OFF(stripe_secret_key), "", 0, 512, check_stripe_key,
     true, "Stripe secret API key sk_... (empty = payment endpoints answer 503); secret"},
    {"FRAMEFIT_STRIPE_WEBHOOK_SECRET", CFG_STR, OFF(stripe_webhook_secret), "", 0, 512,
     check_stripe_whsec, true, "Stripe webhook endpoint secret whsec_... (empty = the webhook"
     " answers 503); secret"},
    {"FRAMEFIT_STRIPE_PRICE_ID", CFG_STR, OFF(stripe_price_id), "", 0, 100, check_stripe_price,
     false, "Stripe price id of the merchant plan (price_...); the default of"
     " POST /api/v1/merchant/subscription"},
    {"FRAMEFIT_SHUTDOWN_TIMEOUT", CFG_INT, OFF(shutdown_timeout_s), "10", 0, 600, NULL, false,
     "seconds to let in-flight requests finish on SIGTERM/SIGINT"},
    {"FRAMEFIT_WORKERS", CFG_INT, OFF(workers), "2", 0, 256, NULL, false,
     "background job worker threads inside serve (0 = none; run `framefit worker` instead)"},
    {"FRAMEFIT_JOBS_QUEUES", CFG_STR, OFF(jobs_queues), "", 0, 2048, check_queues, false,
     "comma-separated job queues serve's workers take (empty = all)"},
    {"FRAMEFIT_JOBS_LEASE_MS", CFG_INT, OFF(jobs_lease_ms), "60000", 200, 86400000, NULL, false,
     "job lease: a job whose worker died runs again this long after its last heartbeat"},
    {"FRAMEFIT_JOBS_POLL_MS", CFG_INT, OFF(jobs_poll_ms), "250", 10, 60000, NULL, false,
     "how often an idle job worker looks for work"},
    {"FRAMEFIT_JOBS_MAX_ATTEMPTS", CFG_INT, OFF(jobs_max_attempts), "8", 1, 1000, NULL, false,
     "attempts before a job is dead (default for jobs that do not say)"},
    {"FRAMEFIT_JOBS_BACKOFF_MS", CFG_INT, OFF(jobs_backoff_ms), "1000", 1, 86400000, NULL, false,
     "first retry delay; doubles per attempt, with jitter"},
    {"FRAMEFIT_JOBS_BACKOFF_MAX_MS", CFG_INT, OFF(jobs_backoff_max_ms), "3600000", 1, 604800000,
     NULL, false, "longest retry delay"},
    {"FRAMEFIT_JOBS_KEEP_DONE_HOURS", CFG_INT, OFF(jobs_keep_done_h), "168", 1, 87600, NULL, false,
     "hours to keep done and discarded jobs before the hourly prune deletes them"},
    {"FRAMEFIT_THREADS", CFG_INT, OFF(threads), "0", 0, 256, NULL, false,
     "I/O threads (0 = one per CPU core)"},
    {"FRAMEFIT_HTTP_WORKERS", CFG_INT, OFF(http_workers), "0", 0, 1024, NULL, false,
     "HTTP handler threads for blocking work (0 = two per CPU core)"},
    {"FRAMEFIT_TEST_ROUTES", CFG_BOOL, OFF(test_routes), "0", 0, 1, NULL, false,
     "1 adds /__test/echo and /__test/sleep for tests and benchmarks; never in production"},
    {"FRAMEFIT_LANDMARK_MODEL", CFG_STR, OFF(landmark_model), "", 0, 4096, NULL, false,
     "dlib shape-predictor file (default /usr/share/dlib/shape_predictor_68_face_landmarks.dat)"},
    {"FRAMEFIT_CACHE_DIR", CFG_STR, OFF(cache_dir), "", 0, 4096, NULL, false,
     "folder for the converted landmark model (default ~/.cache/framefit)"},
    {"FRAMEFIT_OBJECT_STORE", CFG_STR, OFF(object_store), "", 0, 4096, NULL, false,
     "object store for photos and renders: file://PATH (default DATA_DIR/objects)"},
    {"FRAMEFIT_TRYON_MAX_BYTES", CFG_SIZE, OFF(tryon_max_bytes), "10M", 1024, 64 << 20, NULL,
     false, "largest try-on photo upload (bytes; K and M suffixes), larger gets 413"},
    {"FRAMEFIT_TRYON_MAX_PIXELS", CFG_INT, OFF(tryon_max_pixels), "40000000", 1024, 100000000,
     NULL, false, "largest try-on photo in pixels (width x height), larger gets 413"},
    {"FRAMEFIT_TRYON_RETENTION_DAYS", CFG_INT, OFF(tryon_retention_days), "30", 1, 3650, NULL,
     false, "days a try-on session (photo, analysis, renders) is kept"},
    {"FRAMEFIT_CATALOG_CACHE", CFG_INT, OFF(catalog_cache), "16384", 0, 1000000, NULL, false,
     "catalog replies kept in memory per instance (0 disables the cache)"},
    {"FRAMEFIT_CATALOG_CACHE_BYTES", CFG_SIZE, OFF(catalog_cache_bytes), "64M", 1024,
     (int64_t)1 << 34, NULL, false, "byte cap of the catalog cache (K and M suffixes)"},
    {"FRAMEFIT_CATALOG_CACHE_POLL_MS", CFG_INT, OFF(catalog_cache_poll_ms), "100", 10, 60000,
     NULL, false, "how often (ms) the cache checks for catalog changes by other writers"},
    {"FRAMEFIT_SECRET_KEY", CFG_STR, OFF(secret_key), "", 0, 64, check_secret_key, true,
     "64 hex digits: master key for signed links and tokens (empty = DATA_DIR/secret.key)"},
    {"FRAMEFIT_PUBLIC_URL", CFG_STR, OFF(public_url), "", 0, 2048, check_public_url, false,
     "base URL shoppers reach, for links in emails (default http://BIND:PORT)"},
    {"FRAMEFIT_SMTP_URL", CFG_STR, OFF(smtp_url), "", 0, 2048, check_smtp_url, true,
     "smtp://HOST:587 (STARTTLS) or smtps://HOST:465; empty = write mail to DATA_DIR/mail/*.eml"},
    {"FRAMEFIT_SMTP_USER", CFG_STR, OFF(smtp_user), "", 0, 512, NULL, false,
     "SMTP AUTH user (empty = no AUTH; SendGrid: apikey)"},
    {"FRAMEFIT_SMTP_PASSWORD", CFG_STR, OFF(smtp_password), "", 0, 1024, NULL, true,
     "SMTP AUTH password or API key; secret"},
    {"FRAMEFIT_SMTP_TLS", CFG_STR, OFF(smtp_tls), "try", 0, 8, check_smtp_tls, false,
     "STARTTLS on smtp://: try (use when offered), require, or off"},
    {"FRAMEFIT_SMTP_TIMEOUT", CFG_INT, OFF(smtp_timeout_s), "60", 1, 600, NULL, false,
     "seconds one SMTP delivery may take (connecting: at most 10)"},
    {"FRAMEFIT_MAIL_FROM", CFG_STR, OFF(mail_from), "framefit <no-reply@localhost>", 3, 512,
     NULL, false, "sender of outgoing email: addr or \"Name <addr>\""},
    {"FRAMEFIT_MAIL_UNSUBSCRIBE_MAILTO", CFG_STR, OFF(mail_unsubscribe_mailto), "", 0, 254,
     NULL, false, "address for the mailto: entry of List-Unsubscribe (empty = https link only)"},
    {"FRAMEFIT_SENDGRID_WEBHOOK_KEY", CFG_STR, OFF(sendgrid_webhook_key), "", 0, 4096, NULL,
     false, "SendGrid Event Webhook verification key (base64 DER); empty = endpoint refuses"},
    {"FRAMEFIT_SES_TOPIC_ARNS", CFG_STR, OFF(ses_topic_arns), "", 0, 4096, NULL, false,
     "comma-separated SNS topic ARNs accepted for SES notifications (empty = endpoint refuses)"},
    {"FRAMEFIT_ADMIN_TOKEN", CFG_STR, OFF(admin_token), "", 0, 512, check_token, true,
     "static bearer token for staff endpoints (empty = staff endpoints refuse); secret"},
    {"FRAMEFIT_PASSWORD_OPSLIMIT", CFG_INT, OFF(password_opslimit), "2", 2, 20, NULL, false,
     "Argon2id passes for password hashes (2 = libsodium interactive)"},
    {"FRAMEFIT_PASSWORD_MEMLIMIT", CFG_SIZE, OFF(password_memlimit), "64M", 64 << 20,
     (int64_t)4 << 30, NULL, false, "Argon2id memory per password hash (>= 64M; K/M suffixes)"},
    {"FRAMEFIT_HASH_WORKERS", CFG_INT, OFF(hash_workers), "0", 0, 64, NULL, false,
     "threads for password-hashing requests (0 = half the CPU cores, at least 1)"},
    {"FRAMEFIT_ACCESS_TOKEN_TTL", CFG_INT, OFF(access_token_ttl_s), "900", 60, 86400, NULL,
     false, "lifetime of access tokens (JWT) in seconds"},
    {"FRAMEFIT_REFRESH_TOKEN_TTL", CFG_INT, OFF(refresh_token_ttl_s), "2592000", 3600,
     31536000, NULL, false, "lifetime of a session (its refresh tokens) in seconds"},
    {"FRAMEFIT_COOKIE_SECURE", CFG_BOOL, OFF(cookie_secure), "1", 0, 1, NULL, false,
     "mark auth cookies Secure (0 only for plain-http development)"},
    {"FRAMEFIT_REDIS_URL", CFG_STR, OFF(redis_url), "", 0, 1024, check_redis_url, true,
     "redis://[:PASS@]HOST[:PORT][/DB]: share rate limits between instances (empty = per process)"},
    {"FRAMEFIT_RATELIMIT_API", CFG_STR, OFF(ratelimit_api), "1000/2000", 3, 32, check_rate,
     false, "general limit per client: RATE/BURST requests per second (0/0 = off)"},
    {"FRAMEFIT_RATELIMIT_AUTH_IP", CFG_STR, OFF(ratelimit_auth_ip), "30/20", 3, 32, check_rate,
     false, "auth endpoints per IP: RATE/BURST per minute (0/0 = off)"},
    {"FRAMEFIT_RATELIMIT_AUTH_ACCOUNT", CFG_STR, OFF(ratelimit_auth_account), "10/10", 3, 32,
     check_rate, false, "login and reset per account: RATE/BURST per minute (0/0 = off)"},
    {"FRAMEFIT_RATELIMIT_LOOPBACK", CFG_BOOL, OFF(ratelimit_loopback), "0", 0, 1, NULL, false,
     "1 = the general limit also applies to loopback clients (exempt by default)"},
};

#define NROWS (sizeof rows / sizeof rows[0])

static const char *lookup(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            found = *e + n + 1; /* last one wins, as with setenv */
    return found;
}

static enum ff_err parse_size(const char *v, int64_t *out)
{
    size_t n = strlen(v);
    int64_t mul = 1;
    if (n && (v[n - 1] == 'K' || v[n - 1] == 'k'))
        mul = 1024;
    else if (n && (v[n - 1] == 'M' || v[n - 1] == 'm'))
        mul = 1024 * 1024;
    if (mul > 1)
        n--;
    int64_t x;
    if (ff_parse_i64((struct ff_str){v, n}, 0, INT64_MAX / mul, &x))
        return FF_EINVAL;
    *out = x * mul;
    return FF_OK;
}

static enum ff_err apply(struct ff_config *c, const struct cfg_row *r, const char *v,
                         char *err, size_t errlen)
{
    char *base = (char *)c + r->offset;
    const char *why = NULL;
    int64_t x = 0;
    switch (r->type) {
    case CFG_INT:
    case CFG_BOOL:
        if (ff_parse_i64(ff_str_c(v), r->min, r->max, &x))
            goto bad_range;
        *(int *)base = (int)x;
        return FF_OK;
    case CFG_SIZE:
        if (parse_size(v, &x) || x < r->min || x > r->max)
            goto bad_range;
        *(size_t *)base = (size_t)x;
        return FF_OK;
    case CFG_STR:
        if ((int64_t)strlen(v) < r->min || (int64_t)strlen(v) > r->max) {
            ff_errbuf(err, errlen, "%s: must be %lld to %lld characters long", r->name,
                 (long long)r->min, (long long)r->max);
            return FF_EINVAL;
        }
        if (r->check && (why = r->check(v))) {
            if (r->secret)
                ff_errbuf(err, errlen, "%s: %s", r->name, why);
            else
                ff_errbuf(err, errlen, "%s: %s, got \"%.80s\"", r->name, why, v);
            return FF_EINVAL;
        }
        if (r->offset == OFF(log_level)) { /* stored as the enum */
            c->log_level = ff_log_level_parse(v);
            return FF_OK;
        }
        char *s = ff_strdup(v);
        if (!s)
            return FF_ENOMEM;
        ff_free(*(char **)base);
        *(char **)base = s;
        return FF_OK;
    }
bad_range:
    if (r->type == CFG_BOOL)
        ff_errbuf(err, errlen, "%s: must be 0 or 1, got \"%.80s\"", r->name, v);
    else
        ff_errbuf(err, errlen, "%s: must be an integer in %lld..%lld%s, got \"%.80s\"", r->name,
             (long long)r->min, (long long)r->max, r->type == CFG_SIZE ? " (K/M allowed)" : "",
             v);
    return FF_EINVAL;
}

enum ff_err ff_config_load(struct ff_config **out, char *const *envp, char *err, size_t errlen)
{
    enum ff_err e = FF_OK;
    *out = NULL;
    if (!envp)
        envp = environ;
    struct ff_config *c = ff_calloc(1, sizeof *c);
    if (!c) {
        ff_errbuf(err, errlen, "out of memory reading the configuration");
        return FF_ENOMEM;
    }
    for (size_t i = 0; i < NROWS && !e; i++)
        e = apply(c, &rows[i], rows[i].def, err, errlen);
    /* warn about unknown FRAMEFIT_* names: they are almost always typos */
    for (char *const *p = envp; *p && !e; p++) {
        if (strncmp(*p, "FRAMEFIT_", 9))
            continue;
        const char *eq = strchr(*p, '=');
        size_t n = eq ? (size_t)(eq - *p) : strlen(*p);
        bool known = false;
        for (size_t i = 0; i < NROWS; i++)
            if (strlen(rows[i].name) == n && !strncmp(rows[i].name, *p, n))
                known = true;
        /* FRAMEFIT_TEST_* and FRAMEFIT_BENCH_* belong to the test scripts */
        if (!known && strncmp(*p, "FRAMEFIT_TEST_", 14) && strncmp(*p, "FRAMEFIT_BENCH_", 15))
            ff_log(FF_LOG_WARN, "config", "%.*s: unknown variable ignored (see framefit serve --help)",
                   (int)(n > 64 ? 64 : n), *p);
    }
    for (size_t i = 0; i < NROWS && !e; i++) {
        const char *v = lookup(envp, rows[i].name);
        if (v)
            e = apply(c, &rows[i], v, err, errlen);
    }
    if (!e && !c->database_url[0]) {
        size_t n = strlen(c->data_dir) + 32;
        char *u = ff_malloc(n);
        if (!u) {
            e = FF_ENOMEM;
        } else {
            snprintf(u, n, "sqlite://%s/framefit.db", c->data_dir);
            ff_free(c->database_url);
            c->database_url = u;
        }
    }
    if (e == FF_ENOMEM)
        ff_errbuf(err, errlen, "out of memory reading the configuration");
    if (e) {
        ff_config_free(c);
        return e;
    }
    *out = c;
    return FF_OK;
}

void ff_config_free(struct ff_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].type == CFG_STR && rows[i].offset != OFF(log_level))
            ff_free(*(char **)((char *)c + rows[i].offset));
    ff_free(c);
}

void ff_config_print_help(FILE *out)
{
    fprintf(out, "Environment variables (defaults in brackets):\n");
    for (size_t i = 0; i < NROWS; i++) {
        const char *d = rows[i].def;
        if (rows[i].offset == OFF(database_url))
            d = "sqlite://$FRAMEFIT_DATA_DIR/framefit.db";
        fprintf(out, "  %-26s [%s]\n      %s\n", rows[i].name, *d ? d : "", rows[i].help);
    }
}

void ff_config_describe(const struct ff_config *c, char *buf, size_t len)
{
    const char *db = c->database_url;
    const char *kind = !strncmp(db, "sqlite://", 9) ? "sqlite" : "postgres";
    snprintf(buf, len,
             "bind=%s port=%d data_dir=%s database=%s%s%s threads=%d http_workers=%d "
             "max_body=%zu timeout=%ds log=%s admin_token=%s cors=%s",
             c->bind, c->port, c->data_dir, kind, kind[0] == 's' ? ":" : "",
             kind[0] == 's' ? db + 9 : "", c->threads, c->http_workers, c->max_body_bytes,
             c->request_timeout_s, ff_log_level_name((enum ff_log_level)c->log_level),
             c->admin_token[0] ? "set" : "unset", c->cors_origins[0] ? c->cors_origins : "-");
}

int ff_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

const char *ff_config_sqlite_path(const struct ff_config *c)
{
    if (c && c->database_url && !strncmp(c->database_url, "sqlite://", 9))
        return c->database_url + 9;
    return NULL;
}
