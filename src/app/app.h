/* app.h - the composition root's shared state and wiring points.
 *
 * `framefit serve` (cmd_serve.c) loads the configuration, opens storage,
 * builds the router, starts the HTTP server and waits for SIGTERM/SIGINT.
 * Two files are the places other parts plug in:
 *
 *   app/app_storage.c  (owned by the storage part) opens and closes the
 *                      database, answers the readiness probe and appends
 *                      the pool gauges to /metrics.
 *   app/routes.c       every module registers its routes here, e.g.
 *                      `e = cat_http_register(r, a->catalog_cache);` (see http/router.h
 *                      and http/req.h for the handler API).
 *
 * A module never sees struct app: it gets what it needs (the db pool, the
 * config) as arguments of its own register function. */
#ifndef FF_APP_APP_H
#define FF_APP_APP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "http/router.h"

struct db;
struct cat_cache;
struct ff_secret;
struct idem;
struct jobs_registry;
struct jobs_pool;
struct mail;
struct tryon;
struct acc;
struct orders;
struct payments;
struct subs;

struct app {
    const struct ff_config *cfg;
    struct db *db; /* set by app_storage_open; NULL for --print-routes */
    struct cat_cache *catalog_cache; /* idem (over db; disabled when configured so) */
    struct ff_secret *secret; /* the master key (core/secret.h); opened by serve */
    struct idem *idem; /* Idempotency-Key store (idem/idem.h); NULL without storage */
    struct tryon *tryon; /* try-on service (tryon/tryon.h): object store + vision engine;
                            opened by serve after storage, NULL for --print-routes */
    struct acc *accounts; /* accounts/accounts.h; opened by serve (NULL for --print-routes) */
    /* FRAMEFIT_PUBLIC_URL, or http://BIND:PORT once the server listens (no
     * trailing '/'). Modules may keep this pointer; read it when building links. */
    char public_url[2048];
    struct jobs_registry *jobs; /* job handlers (app_jobs.c); set by app_jobs_open */
    struct jobs_pool *jobs_pool; /* serve's job workers (NULL when FRAMEFIT_WORKERS=0) */
    struct orders *orders; /* orders/orders.h; app_orders_open (NULL for --print-routes) */
    struct mail *mail; /* the email service (app_mail.c); NULL for --print-routes */
    struct payments *payments; /* payments/payments.h: Stripe client, webhook dispatch;
                                  app_payments_open (NULL for --print-routes) */
    struct subs *subs; /* payments/subscriptions.h: the merchant plan; app_subs_open */
};

/* ---- app/app_storage.c ---------------------------------------------------- */

/* Opens storage from a->cfg (migrating on start when configured) and sets
 * a->db. On failure writes a one-line reason into why. */
enum ff_err app_storage_open(struct app *a, char *why, size_t len) FF_MUST_CHECK;
/* Closes storage (NULL-safe, after the server stopped). */
void app_storage_close(struct app *a);
/* /readyz probe: `ud` is the struct app. */
enum ff_err app_storage_ready(void *ud, char *why, size_t len);
/* /metrics collector: appends storage pool gauges; `ud` is the struct app. */
void app_storage_metrics(struct ff_buf *out, void *ud);

/* ---- app/app_orders.c (owned by orders) ------------------------------------ */

/* Creates a->orders over a->db if not yet there (serve and worker). */
enum ff_err app_orders_open(struct app *a) FF_MUST_CHECK;
/* Frees a->orders (NULL-safe, after the server and the workers stopped). */
void app_orders_close(struct app *a);

/* ---- app/app_payments.c (owned by pay) ------------------------------------ */

/* Creates a->payments over a->db and a->orders (opened first) if not yet
 * there, with the Stripe client when FRAMEFIT_STRIPE_SECRET_KEY is set, and
 * registers every part's Stripe event handlers (subscriptions too). why gets
 * a reason on failure. */
enum ff_err app_payments_open(struct app *a, char *why, size_t len) FF_MUST_CHECK;
/* Frees a->payments (NULL-safe, after the server and the workers stopped). */
void app_payments_close(struct app *a);

/* ---- app/app_subs.c (owned by subs) --------------------------------------- */

/* Creates a->subs (the merchant plan) over a->payments' Stripe client and
 * registers its invoice.* / customer.subscription.* webhook handlers. Called
 * by app_payments_open; a no-op without a->payments. */
enum ff_err app_subs_open(struct app *a) FF_MUST_CHECK;
/* Frees a->subs (NULL-safe; by app_payments_close). */
void app_subs_close(struct app *a);

/* ---- app/app_jobs.c ------------------------------------------------------- */

/* Creates a->jobs and registers every module's job handlers and recurring
 * jobs into it (the test types too when FRAMEFIT_TEST_ROUTES=1). Needs a->db
 * (and a->secret for modules that sign links). why gets a reason. */
enum ff_err app_jobs_open(struct app *a, char *why, size_t len) FF_MUST_CHECK;
/* Starts `workers` job worker threads on `queues` ("" = all) as a->jobs_pool. */
enum ff_err app_jobs_start(struct app *a, int workers, const char *queues, char *why,
                           size_t len) FF_MUST_CHECK;
/* Stops the workers (finish or release within timeout_ms) and frees the
 * registry. NULL-safe; call before app_storage_close. */
void app_jobs_close(struct app *a, int timeout_ms);
/* /metrics collector (ud: struct app): job counts and oldest ages per queue
 * and state, and this process's worker counters. */
void app_jobs_metrics(struct ff_buf *out, void *ud);
/* Routes for tests only (FRAMEFIT_TEST_ROUTES=1): POST /__test/jobs enqueues. */
enum ff_err app_jobs_test_routes(struct http_router *r, struct app *a) FF_MUST_CHECK;

/* ---- app/app_mail.c ------------------------------------------------------ */

/* Creates a->mail over a->db and a->secret (both open); idempotent. Writes a
 * one-line reason into why on failure (a bad template, sender, key). */
enum ff_err app_mail_open(struct app *a, char *why, size_t len) FF_MUST_CHECK;
/* Frees a->mail (NULL-safe). */
void app_mail_close(struct app *a);

/* ---- app/routes.c --------------------------------------------------------- */

/* Registers every module's routes (the builtin ones are added by serve). */
enum ff_err app_register_routes(struct http_router *r, struct app *a) FF_MUST_CHECK;

/* ---- app/openapi_data.c (generated from openapi/openapi.json) ------------- */

extern const char ff_openapi_json[];
extern const size_t ff_openapi_json_len;

#endif
