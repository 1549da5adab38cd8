/* cmd_worker.c - `framefit worker`: job workers as their own process on the
 * same database as `framefit serve` (owned by the jobs part). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/commands.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/validate.h"
#include "jobs/jobs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: framefit worker [--queues Q1,Q2] [--concurrency N]\n\n"
            "Runs background job workers (no HTTP) on the configured database until\n"
            "SIGTERM or SIGINT, then lets running jobs finish for up to\n"
            "FRAMEFIT_SHUTDOWN_TIMEOUT seconds and releases the rest to the queue.\n"
            "Any number of workers and servers may share one database.\n\n"
            "Options:\n"
            "  --queues LIST      comma-separated queue names to take (default: all,\n"
            "                     or FRAMEFIT_JOBS_QUEUES)\n"
            "  --concurrency N    worker threads, 1..256 (default: FRAMEFIT_WORKERS, or 2\n"
            "                     when that is 0)\n"
            "  -h, --help         this help\n\n"
            "Configuration comes from the environment (see 'framefit serve --help').\n");
}

static int parse_args(int argc, char **argv, const char **queues, int *concurrency)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        if (!strcmp(arg, "--queues") || !strcmp(arg, "--concurrency")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "framefit worker: %s needs a value\n", arg);
                return 2;
            }
            val = argv[++i];
        } else if (!strncmp(arg, "--queues=", 9) || !strncmp(arg, "--concurrency=", 14)) {
            val = strchr(arg, '=') + 1;
        } else {
            fprintf(stderr, "framefit worker: unknown option '%s' (see --help)\n", arg);
            return 2;
        }
        if (!strncmp(arg, "--queues", 8)) {
            if (!*val || !jobs_queue_list_ok(val)) {
                fprintf(stderr, "framefit worker: --queues: a comma-separated list of queue"
                                " names ([a-z0-9_.:-], at most 32), got \"%.80s\"\n", val);
                return 2;
            }
            *queues = val;
        } else {
            char *end;
            long n = strtol(val, &end, 10);
            if (!*val || *end || n < 1 || n > 256) {
                fprintf(stderr, "framefit worker: --concurrency: an integer in 1..256,"
                                " got \"%.40s\"\n", val);
                return 2;
            }
            *concurrency = (int)n;
        }
    }
    return 0;
}

static int run(struct app *a, const char *queues, int concurrency)
{
    const struct ff_config *cfg = a->cfg;
    char why[512] = "";
    int status = 1;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (app_storage_open(a, why, sizeof why)) {
        fprintf(stderr, "framefit worker: storage: %s\n", why);
        return 1;
    }
    if (ff_secret_open(&a->secret, cfg, why, sizeof why)) {
        fprintf(stderr, "framefit worker: %s\n", why);
        goto out;
    }
    if (cfg->public_url[0])
        snprintf(a->public_url, sizeof a->public_url, "%s", cfg->public_url);
    if (app_mail_open(a, why, sizeof why)) { /* the email.send handler's service */
        fprintf(stderr, "framefit worker: %s\n", why);
        goto out;
    }
    if (app_jobs_open(a, why, sizeof why) || app_jobs_start(a, concurrency, queues, why, sizeof why)) {
        fprintf(stderr, "framefit worker: %s\n", why);
        goto out;
    }
    ff_log(FF_LOG_INFO, "app", "worker ready: %d thread(s), queues %s", concurrency,
           queues && *queues ? queues : "all");
    int sig = 0;
    sigwait(&sigs, &sig);
    ff_log(FF_LOG_INFO, "app", "%s: finishing running jobs (up to %ds)",
           sig == SIGINT ? "SIGINT" : "SIGTERM", cfg->shutdown_timeout_s);
    app_jobs_close(a, cfg->shutdown_timeout_s * 1000);
    ff_log(FF_LOG_INFO, "app", "stopped");
    status = 0;
out:
    app_jobs_close(a, 0);
    app_payments_close(a);
    app_orders_close(a);
    app_mail_close(a);
    app_storage_close(a);
    ff_secret_free(a->secret);
    a->secret = NULL;
    return status;
}

int cmd_worker(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *queues = NULL;
    int concurrency = 0;
    int rc = parse_args(argc, argv, &queues, &concurrency);
    if (rc)
        return rc;
    struct ff_config *cfg;
    char why[512];
    if (ff_config_load(&cfg, NULL, why, sizeof why)) {
        fprintf(stderr, "framefit: %s\n", why);
        return 2;
    }
    ff_log_set_level((enum ff_log_level)cfg->log_level);
    ff_log_set_json(!strcmp(cfg->log_format, "json"));
    http_json_use_ff_alloc();
    if (!queues)
        queues = cfg->jobs_queues;
    if (!concurrency)
        concurrency = cfg->workers > 0 ? cfg->workers : 2;
    struct app a = {.cfg = cfg};
    rc = run(&a, queues, concurrency);
    ff_config_free(cfg);
    return rc;
}
