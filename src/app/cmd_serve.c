/* cmd_serve.c - `framefit serve`: configuration, storage, routes, server,
 * and a graceful stop on SIGTERM/SIGINT. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "accounts/accounts.h"
#include "app/commands.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "idem/idem.h"
#include "db/db.h"
#include "http/builtin.h"
#include "http/router.h"
#include "http/server.h"
#include "http/validate.h"
#include "jobs/jobs.h"
#include "tryon/tryon.h"

enum ff_err app_register_test_routes(struct http_router *r, struct app *a); /* test_routes.c */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: framefit serve [--print-routes]\n\n"
            "Runs the HTTP API server until SIGTERM or SIGINT, then finishes in-flight\n"
            "requests (up to FRAMEFIT_SHUTDOWN_TIMEOUT seconds) and exits 0.\n"
            "Configuration comes from the environment only.\n\n"
            "Options:\n"
            "  --print-routes  print \"METHOD PATTERN\" for every route and exit\n"
            "  --print-access  print \"METHOD PATTERN ACCESS\" (public, user, staff, admin)\n"
            "  -h, --help      this help\n\n");
    ff_config_print_help(out);
}

/* Builds the full router: the server's own routes, then every module's. */
static enum ff_err build_router(struct app *a, struct http_builtin *b,
                                struct http_router **out)
{
    struct http_router *r = http_router_new();
    if (!r)
        return FF_ENOMEM;
    enum ff_err e = http_builtin_register(r, b);
    if (!e)
        e = app_register_routes(r, a);
    if (!e)
        e = app_register_test_routes(r, a);
    if (e) {
        http_router_free(r);
        return e;
    }
    *out = r;
    return FF_OK;
}

static const char *access_of(unsigned flags)
{
    return flags & HTTP_ROUTE_ADMIN   ? "admin"
           : flags & HTTP_ROUTE_STAFF ? "staff"
           : flags & HTTP_ROUTE_AUTH  ? "user"
                                      : "public";
}

static int print_routes(struct app *a, struct http_builtin *b, int access)
{
    struct http_router *r;
    if (build_router(a, b, &r)) {
        fprintf(stderr, "framefit serve: cannot build the routes\n");
        return 1;
    }
    for (size_t i = 0; i < http_router_count(r); i++) {
        const struct http_route *rt = http_router_at(r, i);
        for (unsigned m = 1; m <= HTTP_OPTIONS; m <<= 1)
            if ((rt->methods & m) && m != HTTP_HEAD)
                printf("%s %s%s%s\n", http_method_name((enum http_method)m), rt->pattern,
                       access ? " " : "", access ? access_of(rt->flags) : "");
    }
    http_router_free(r);
    return 0;
}

static int serve(struct app *a, struct http_builtin *b)
{
    const struct ff_config *cfg = a->cfg;
    int status = 1;
    struct http_router *r = NULL;
    struct http_server *s = NULL;
    char why[512] = "";
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    /* every thread started from here on inherits the mask; main waits */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (app_storage_open(a, why, sizeof why)) {
        ff_log(FF_LOG_ERROR, "app", "storage: %s", why);
        fprintf(stderr, "framefit serve: storage: %s\n", why);
        return 1;
    }
    if (ff_secret_open(&a->secret, cfg, why, sizeof why)) {
        ff_log(FF_LOG_ERROR, "app", "secret key: %s", why);
        fprintf(stderr, "framefit serve: %s\n", why);
        goto out;
    }
    if (tryon_open(cfg, a->db, &a->tryon, why, sizeof why)) { /* photos + vision engine */
        ff_log(FF_LOG_ERROR, "app", "try-on: %s", why);
        fprintf(stderr, "framefit serve: try-on: %s\n", why);
        goto out;
    }
    if (app_mail_open(a, why, sizeof why)) {
        ff_log(FF_LOG_ERROR, "app", "%s", why);
        fprintf(stderr, "framefit serve: %s\n", why);
        goto out;
    }
    if (cfg->public_url[0])
        snprintf(a->public_url, sizeof a->public_url, "%s", cfg->public_url);
    if (idem_new(&a->idem, a->db, cfg->idempotency_ttl_s, 60)) {
        ff_log(FF_LOG_ERROR, "app", "cannot set up Idempotency-Key storage");
        goto out;
    }
    struct acc_opts ao = {.db = a->db, .secret = a->secret, .cfg = cfg,
                          .public_url = a->public_url};
    if (acc_new(&ao, &a->accounts, why, sizeof why)) {
        ff_log(FF_LOG_ERROR, "app", "accounts: %s", why);
        fprintf(stderr, "framefit serve: accounts: %s\n", why);
        goto out;
    }
    if (app_jobs_open(a, why, sizeof why)) { /* job handlers (app_jobs.c) */
        ff_log(FF_LOG_ERROR, "app", "%s", why);
        goto out;
    }
    if (build_router(a, b, &r)) {
        ff_log(FF_LOG_ERROR, "app", "cannot register the routes");
        goto out;
    }
    int cores = ff_cpu_count();
    struct http_server_opts o = {
        .bind = cfg->bind,
        .port = cfg->port,
        .threads = cfg->threads ? cfg->threads : cores,
        .workers = cfg->http_workers ? cfg->http_workers : 2 * cores,
        .max_body_bytes = cfg->max_body_bytes,
        .timeout_s = cfg->request_timeout_s,
        .cors_origins = cfg->cors_origins,
        .admin_token = cfg->admin_token,
        .heavy_workers = cfg->hash_workers ? cfg->hash_workers : (cores > 1 ? cores / 2 : 1),
        .auth = acc_authenticate,
        .auth_ud = a->accounts,
    };
    s = http_server_new(&o, r);
    if (!s)
        goto out;
    b->server = s;
    if (http_metrics_add_collector(http_server_metrics(s), app_storage_metrics, a) ||
        http_metrics_add_collector(http_server_metrics(s), acc_metrics, a->accounts))
        goto out;
    if (http_metrics_add_collector(http_server_metrics(s), app_jobs_metrics, a))
        goto out;
    if (http_server_start(s)) {
        fprintf(stderr, "framefit serve: cannot listen on %s port %d\n", cfg->bind, cfg->port);
        goto out;
    }
    if (!cfg->public_url[0])
        snprintf(a->public_url, sizeof a->public_url, "http://%s%s%s:%d",
                 strchr(cfg->bind, ':') ? "[" : "", cfg->bind,
                 strchr(cfg->bind, ':') ? "]" : "", http_server_port(s));
    if (cfg->workers > 0 && app_jobs_start(a, cfg->workers, cfg->jobs_queues, why, sizeof why)) {
        ff_log(FF_LOG_ERROR, "app", "%s", why);
        goto out;
    }
    ff_config_describe(cfg, why, sizeof why);
    ff_log(FF_LOG_INFO, "app", "config %s", why);
    ff_log(FF_LOG_INFO, "app", "listening on http://%s%s%s:%d/ threads=%d workers=%d hash_workers=%d",
           strchr(cfg->bind, ':') ? "[" : "", cfg->bind, strchr(cfg->bind, ':') ? "]" : "",
           http_server_port(s), o.threads, o.workers, o.heavy_workers);

    int sig = 0;
    sigwait(&sigs, &sig);
    ff_log(FF_LOG_INFO, "app", "%s: draining (up to %ds)", sig == SIGINT ? "SIGINT" : "SIGTERM",
           cfg->shutdown_timeout_s);
    jobs_stop_begin(a->jobs_pool); /* no new job claims while requests drain */
    int64_t t0 = db_now_ms();
    int left = http_server_shutdown(s, cfg->shutdown_timeout_s);
    int64_t jobs_left_ms = (int64_t)cfg->shutdown_timeout_s * 1000 - (db_now_ms() - t0);
    app_jobs_close(a, jobs_left_ms > 0 ? (int)jobs_left_ms : 0);
    if (left)
        ff_log(FF_LOG_WARN, "app", "%d request(s) were still in flight at the deadline", left);
    ff_log(FF_LOG_INFO, "app", "stopped");
    status = 0;
out:
    app_jobs_close(a, 0);
    http_server_free(s);
    http_router_free(r);
    app_mail_close(a);
    tryon_close(a->tryon);
    a->tryon = NULL;
    acc_free(a->accounts);
    a->accounts = NULL;
    app_payments_close(a);
    app_orders_close(a);
    app_storage_close(a);
    ff_secret_free(a->secret);
    a->secret = NULL;
    idem_free(a->idem);
    a->idem = NULL;
    return status;
}

int cmd_serve(int argc, char **argv)
{
    int want_routes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--print-routes") || !strcmp(argv[i], "--print-access")) {
            want_routes = argv[i][8] == 'a' ? 2 : 1;
            continue;
        }
        fprintf(stderr, "framefit serve: unknown option '%s' (see --help)\n", argv[i]);
        return 2;
    }
    struct ff_config *cfg;
    char why[512];
    if (ff_config_load(&cfg, NULL, why, sizeof why)) {
        fprintf(stderr, "framefit: %s\n", why);
        return 2;
    }
    ff_log_set_level((enum ff_log_level)cfg->log_level);
    ff_log_set_json(!strcmp(cfg->log_format, "json"));
    http_json_use_ff_alloc();
    struct app a = {.cfg = cfg};
    struct http_builtin b = {.ready = app_storage_ready, .ready_ud = &a,
                             .openapi = ff_openapi_json, .openapi_len = ff_openapi_json_len};
    int rc = want_routes ? print_routes(&a, &b, want_routes == 2) : serve(&a, &b);
    ff_config_free(cfg);
    return rc;
}
