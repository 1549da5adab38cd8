/* cmd_accounts.c - `framefit users create-admin EMAIL` and `framefit keys rotate`. */
#include <stdio.h>
#include <string.h>

#include "accounts/accounts.h"
#include "app/app.h"
#include "app/commands.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/validate.h"

/* Opens config, storage, the master key and accounts; prints why not. */
static int open_all(const char *cmd, struct app *a)
{
    struct ff_config *cfg;
    char why[512];
    if (ff_config_load(&cfg, NULL, why, sizeof why)) {
        fprintf(stderr, "framefit %s: %s\n", cmd, why);
        return 1;
    }
    ff_log_set_level(FF_LOG_WARN);
    http_json_use_ff_alloc();
    a->cfg = cfg;
    if (app_storage_open(a, why, sizeof why) || ff_secret_open(&a->secret, cfg, why, sizeof why) ||
        acc_new(&(struct acc_opts){.db = a->db, .secret = a->secret, .cfg = cfg,
                                   .public_url = cfg->public_url},
                &a->accounts, why, sizeof why)) {
        fprintf(stderr, "framefit %s: %s\n", cmd, why);
        return 1;
    }
    return 0;
}

static void close_all(struct app *a)
{
    acc_free(a->accounts);
    ff_secret_free(a->secret);
    app_storage_close(a);
    ff_config_free((struct ff_config *)a->cfg);
}

/* One line from stdin without its newline; wiped by the caller. */
static int read_password(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 0;
}

int cmd_users(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv) || argc != 3 || strcmp(argv[1], "create-admin")) {
        FILE *out = cmd_wants_help(argc, argv) ? stdout : stderr;
        fprintf(out, "usage: framefit users create-admin EMAIL < password-file\n\n"
                     "Creates an administrator (or makes the existing user EMAIL one and sets\n"
                     "its password), verified and enabled. The password is read from the first\n"
                     "line of standard input (8..1024 bytes, not a common one). Existing\n"
                     "sessions of that user are revoked.\n");
        return out == stdout ? 0 : 2;
    }
    char pw[1100];
    if (read_password(pw, sizeof pw)) {
        fprintf(stderr, "framefit users: no password on standard input\n");
        return 2;
    }
    struct app a = {0};
    int rc = open_all("users", &a);
    char why[256];
    if (!rc && acc_create_admin(a.accounts, argv[2], pw, why, sizeof why)) {
        fprintf(stderr, "framefit users create-admin: %s\n", why);
        rc = 1;
    }
    if (!rc)
        printf("admin %s ready\n", argv[2]);
    memset(pw, 0, sizeof pw);
    close_all(&a);
    return rc;
}

int cmd_keys(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv) || argc != 2 || strcmp(argv[1], "rotate")) {
        FILE *out = cmd_wants_help(argc, argv) ? stdout : stderr;
        fprintf(out, "usage: framefit keys rotate\n\n"
                     "Adds a new access-token signing key (Ed25519). Every instance signs with\n"
                     "it within 30 s; the previous keys keep verifying until the tokens they\n"
                     "signed have expired (FRAMEFIT_ACCESS_TOKEN_TTL), then retire.\n");
        return out == stdout ? 0 : 2;
    }
    struct app a = {0};
    int rc = open_all("keys", &a);
    char kid[64];
    if (!rc && acc_keys_rotate(a.accounts, kid, sizeof kid)) {
        fprintf(stderr, "framefit keys rotate: failed\n");
        rc = 1;
    }
    if (!rc)
        printf("new signing key %s\n", kid);
    close_all(&a);
    return rc;
}
