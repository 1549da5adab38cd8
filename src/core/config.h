/* config.h - framefit configuration: one table of every FRAMEFIT_* variable.
 *
 * Sources apply in order: built-in defaults, then the environment. Every row of
 * the table in config.c has a name, type, default, bounds and validator; the
 * whole set is validated at start and then frozen (pass `const struct ff_config *`).
 *
 *   struct ff_config *cfg;
 *   char why[256];
 *   if (ff_config_load(&cfg, NULL, why, sizeof why)) { fprintf(stderr, "%s\n", why); ... }
 *   ... cfg->port, cfg->database_url ...
 *   ff_config_free(cfg);
 *
 * To add a variable: add a field here and one row to the table in config.c
 * (with its help text: `framefit serve --help` prints the table). */
#ifndef FF_CORE_CONFIG_H
#define FF_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct ff_config {
    int port;               /* FRAMEFIT_PORT, 0..65535 (0 = any free port) */
    char *bind;             /* FRAMEFIT_BIND, an IPv4/IPv6 literal */
    char *data_dir;         /* FRAMEFIT_DATA_DIR: SQLite file and stored files */
    char *database_url;     /* FRAMEFIT_DATABASE_URL, always filled in:
                               "sqlite://<data_dir>/framefit.db" by default,
                               else "sqlite://PATH" or "postgres://..." as given */
    int log_level;          /* FRAMEFIT_LOG_LEVEL as enum ff_log_level (core/log.h) */
    char *log_format;       /* FRAMEFIT_LOG_FORMAT: "json" or "text" */
    char *cors_origins;     /* FRAMEFIT_CORS_ORIGINS: "" (none), "*" or comma list */
    size_t max_body_bytes;  /* FRAMEFIT_MAX_BODY_BYTES (accepts K/M suffix) */
    int request_timeout_s;  /* FRAMEFIT_REQUEST_TIMEOUT: idle connection timeout */
    int idempotency_ttl_s;  /* FRAMEFIT_IDEMPOTENCY_TTL: Idempotency-Key retention */
    int reservation_minutes; /* FRAMEFIT_RESERVATION_MINUTES: unpaid orders' stock hold */
    char *stripe_api_url;   /* FRAMEFIT_STRIPE_API_URL: Stripe base URL, no trailing '/' */
    int stripe_timeout_ms;  /* FRAMEFIT_STRIPE_TIMEOUT_MS: one Stripe request */
    char *stripe_secret_key; /* FRAMEFIT_STRIPE_SECRET_KEY: "" = payments off; a secret */
    char *stripe_webhook_secret; /* FRAMEFIT_STRIPE_WEBHOOK_SECRET: whsec_...; a secret */
    char *stripe_price_id;  /* FRAMEFIT_STRIPE_PRICE_ID: the merchant plan's price ("" = none) */
    int shutdown_timeout_s; /* FRAMEFIT_SHUTDOWN_TIMEOUT: in-flight drain bound */
    int workers;            /* FRAMEFIT_WORKERS: job worker threads in serve (0 = none) */
    char *jobs_queues;      /* FRAMEFIT_JOBS_QUEUES: comma list ("" = all queues) */
    int jobs_lease_ms;      /* FRAMEFIT_JOBS_LEASE_MS: lease (visibility timeout) */
    int jobs_poll_ms;       /* FRAMEFIT_JOBS_POLL_MS: idle poll period */
    int jobs_max_attempts;  /* FRAMEFIT_JOBS_MAX_ATTEMPTS: default attempts before dead */
    int jobs_backoff_ms;    /* FRAMEFIT_JOBS_BACKOFF_MS: first retry delay */
    int jobs_backoff_max_ms; /* FRAMEFIT_JOBS_BACKOFF_MAX_MS: retry delay cap */
    int jobs_keep_done_h;   /* FRAMEFIT_JOBS_KEEP_DONE_HOURS: prune age of done jobs */
    char *admin_token;      /* FRAMEFIT_ADMIN_TOKEN: "" disables staff endpoints;
                               a secret: never log it */
    int password_opslimit;  /* FRAMEFIT_PASSWORD_OPSLIMIT: Argon2id passes (>= 2, interactive) */
    size_t password_memlimit; /* FRAMEFIT_PASSWORD_MEMLIMIT: Argon2id memory (>= 64M) */
    int hash_workers;       /* FRAMEFIT_HASH_WORKERS: threads for password hashing routes
                               (0 = half the cores, at least 1) */
    int access_token_ttl_s; /* FRAMEFIT_ACCESS_TOKEN_TTL: JWT lifetime (s) */
    int refresh_token_ttl_s; /* FRAMEFIT_REFRESH_TOKEN_TTL: session lifetime (s) */
    int cookie_secure;      /* FRAMEFIT_COOKIE_SECURE: Secure attribute on auth cookies */
    char *redis_url;        /* FRAMEFIT_REDIS_URL: "" = in-process rate limits; a secret */
    char *ratelimit_api;    /* FRAMEFIT_RATELIMIT_API: "RATE/BURST" per second per client */
    char *ratelimit_auth_ip; /* FRAMEFIT_RATELIMIT_AUTH_IP: "RATE/BURST" per minute per IP */
    char *ratelimit_auth_account; /* FRAMEFIT_RATELIMIT_AUTH_ACCOUNT: per minute per email */
    int ratelimit_loopback; /* FRAMEFIT_RATELIMIT_LOOPBACK: 1 = general limit applies to
                               loopback clients too */
    int threads;            /* FRAMEFIT_THREADS: I/O threads, 0 = one per core */
    int http_workers;       /* FRAMEFIT_HTTP_WORKERS: HTTP handler threads, 0 = 2 per core */
    char *secret_key;       /* FRAMEFIT_SECRET_KEY: "" or 64 hex digits; a secret (see
                               core/secret.h, which falls back to DATA_DIR/secret.key) */
    char *public_url;       /* FRAMEFIT_PUBLIC_URL: "" = http://BIND:PORT; no trailing '/' */
    char *smtp_url;         /* FRAMEFIT_SMTP_URL: "" = .eml files in DATA_DIR/mail; secret */
    char *smtp_user;        /* FRAMEFIT_SMTP_USER: "" = no AUTH */
    char *smtp_password;    /* FRAMEFIT_SMTP_PASSWORD: a secret */
    char *smtp_tls;         /* FRAMEFIT_SMTP_TLS: "try", "require" or "off" */
    int smtp_timeout_s;     /* FRAMEFIT_SMTP_TIMEOUT: one delivery */
    char *mail_from;        /* FRAMEFIT_MAIL_FROM: "addr" or "Name <addr>" */
    char *mail_unsubscribe_mailto; /* FRAMEFIT_MAIL_UNSUBSCRIBE_MAILTO: "" = none */
    char *sendgrid_webhook_key;    /* FRAMEFIT_SENDGRID_WEBHOOK_KEY: base64 DER EC key */
    char *ses_topic_arns;   /* FRAMEFIT_SES_TOPIC_ARNS: accepted SNS topics, comma list */
    int db_pool_size;       /* FRAMEFIT_DB_POOL_SIZE: PostgreSQL connections */
    int migrate_on_start;   /* FRAMEFIT_MIGRATE_ON_START: 0 or 1 */
    int test_routes;        /* FRAMEFIT_TEST_ROUTES: 1 adds the /__test/ routes (tests, bench) */
    char *landmark_model;   /* FRAMEFIT_LANDMARK_MODEL: dlib shape-predictor file ("" = the
                               vision engine's default, Debian's 68-point model) */
    int catalog_cache;      /* FRAMEFIT_CATALOG_CACHE: cached catalog replies (0 = off) */
    size_t catalog_cache_bytes; /* FRAMEFIT_CATALOG_CACHE_BYTES: its byte cap */
    int catalog_cache_poll_ms;  /* FRAMEFIT_CATALOG_CACHE_POLL_MS: generation poll period;
                                   other instances' writes show within about this */
    char *cache_dir;        /* FRAMEFIT_CACHE_DIR: converted-model cache ("" = the vision
                               engine's default, ~/.cache/framefit) */
    char *object_store;     /* FRAMEFIT_OBJECT_STORE: "" = file://DATA_DIR/objects */
    size_t tryon_max_bytes; /* FRAMEFIT_TRYON_MAX_BYTES: largest photo upload */
    int tryon_max_pixels;   /* FRAMEFIT_TRYON_MAX_PIXELS: largest photo, width x height */
    int tryon_retention_days; /* FRAMEFIT_TRYON_RETENTION_DAYS: session lifetime */
};

/* Reads the configuration. `envp` is a NULL-terminated "NAME=value" array
 * (NULL means the process environment). On success *out is a new config,
 * free it with ff_config_free. On a bad value returns FF_EINVAL and writes a
 * one-line message naming the variable into err (e.g. "FRAMEFIT_PORT: must be
 * an integer in 0..65535, got \"http\""). Unknown FRAMEFIT_* variables get a
 * warning log line (they are usually typos); FRAMEFIT_TEST_* and FRAMEFIT_BENCH_*
 * are left to test scripts. */
enum ff_err ff_config_load(struct ff_config **out, char *const *envp, char *err,
                           size_t errlen) FF_MUST_CHECK;

void ff_config_free(struct ff_config *c);

/* Prints one entry per variable: name, default, help (for `serve --help`). */
void ff_config_print_help(FILE *out);

/* Prints the effective configuration, secrets masked (for the start log). */
void ff_config_describe(const struct ff_config *c, char *buf, size_t len);

/* The number of online CPUs (>= 1). */
int ff_cpu_count(void);

/* If database_url is sqlite://PATH, returns PATH (pointer into the config
 * string), else NULL. */
const char *ff_config_sqlite_path(const struct ff_config *c);

#endif
