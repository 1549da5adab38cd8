/* test_mail_db.c - the outbox on the back end named by FF_TEST_DB: enqueue,
 * delivery through the file transport, idempotence, suppressions (essential
 * vs not), webhook event deduplication, permanent render failures and a
 * refused SMTP connection. */
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../db/dbtest.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/secret.h"
#include "mail/mail_int.h"

static struct db *db;
static struct ff_secret *sec;
static char dir[] = "/tmp/ff-mail-XXXXXX";
static char err[512];

static struct mail *service(const char *smtp_url)
{
    char e1[600], e2[600];
    snprintf(e1, sizeof e1, "FRAMEFIT_DATA_DIR=%s", dir);
    snprintf(e2, sizeof e2, "FRAMEFIT_SMTP_URL=%s", smtp_url ? smtp_url : "");
    char *envp[] = {e1, e2, "FRAMEFIT_MAIL_FROM=Shop <shop@x.test>",
                    "FRAMEFIT_PUBLIC_URL=https://shop.test", NULL};
    struct ff_config *cfg;
    if (ff_config_load(&cfg, envp, err, sizeof err))
        TEST_FAIL("config: %s", err);
    struct mail *m = NULL;
    enum ff_err e = mail_new(cfg, db, sec, NULL, &m, err, sizeof err);
    ff_config_free(cfg);
    if (e)
        TEST_FAIL("mail_new: %s", err);
    return m;
}

static int64_t enqueue(const char *to, const char *tmpl, const char *vars, int essential)
{
    struct db_tx tx = DB_TX_INIT;
    int64_t id = 0;
    ASSERT_OK(db_begin(db, &tx));
    ASSERT_OK(mail_enqueue_id(tx.conn, to, tmpl, "en", vars, essential, &id));
    ASSERT_OK(db_commit(&tx));
    db_tx_release(&tx);
    return id;
}

static void status_of(int64_t id, char *status, int *attempts)
{
    struct db_conn *c;
    struct mail__row r;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(mail__load(c, id, &r));
    db_release(c);
    strcpy(status, r.status);
    if (attempts)
        *attempts = r.attempts;
    ff_free(r.vars);
}

static int eml_exists(int64_t id)
{
    char p[600];
    snprintf(p, sizeof p, "%s/mail/%lld.eml", dir, (long long)id);
    return access(p, F_OK) == 0;
}

#define VARS "{\"name\":\"Ada <3\",\"message\":\"hi\"}"

TEST(enqueue_validates)
{
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_EQ(mail_enqueue(c, "not an address", "test", "en", VARS, 0), FF_EINVAL);
    ASSERT_EQ(mail_enqueue(c, "a@b.test\r\nBcc: x@y", "test", "en", VARS, 0), FF_EINVAL);
    ASSERT_EQ(mail_enqueue(c, "a@b.test", "no-such-template", "en", VARS, 0), FF_EINVAL);
    ASSERT_EQ(mail_enqueue(c, "a@b.test", "test", "english", VARS, 0), FF_EINVAL);
    ASSERT_EQ(mail_enqueue(c, "a@b.test", "test", "en", "[1]", 0), FF_EINVAL);
    ASSERT_EQ(mail_enqueue(c, "a@b.test", "test", "en", "{", 0), FF_EINVAL);
    ASSERT_EQ(mail_enqueue(NULL, "a@b.test", "test", "en", VARS, 0), FF_EINVAL);
    int64_t n = -1;
    ASSERT_OK(db_query_i64(c, "SELECT COUNT(*) FROM mail_messages", NULL, 0, &n));
    ASSERT_EQ(n, 0);
    db_release(c);
}

TEST(deliver_to_file_once)
{
    struct mail *m = service(NULL);
    int64_t id = enqueue("Ada@Example.test", "test", VARS, 0);
    char st[16];
    status_of(id, st, NULL);
    ASSERT_STREQ(st, "queued");
    ASSERT_EQ(mail_deliver(m, id, 0, err, sizeof err), MAIL_DONE);
    int attempts;
    status_of(id, st, &attempts);
    ASSERT_STREQ(st, "sent");
    ASSERT_EQ(attempts, 1);
    ASSERT(eml_exists(id));
    char p[600], buf[8192];
    snprintf(p, sizeof p, "%s/mail/%lld.eml", dir, (long long)id);
    FILE *f = fopen(p, "r");
    ASSERT(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    ASSERT(strstr(buf, "To: <ada@example.test>\r\n"));
    ASSERT(strstr(buf, "List-Unsubscribe: <https://shop.test/api/v1/email/unsubscribe?t="));
    ASSERT(strstr(buf, "Ada &lt;3"));
    /* a second delivery (a retried job) sends nothing */
    unlink(p);
    ASSERT_EQ(mail_deliver(m, id, 0, err, sizeof err), MAIL_DONE);
    ASSERT(!eml_exists(id));
    status_of(id, st, &attempts);
    ASSERT_EQ(attempts, 1);
    /* no such message: permanent */
    ASSERT_EQ(mail_deliver(m, 999999, 0, err, sizeof err), MAIL_FAILED);
    /* essential mail has no unsubscribe header */
    int64_t e = enqueue("b@example.test", "test", VARS, 1);
    ASSERT_EQ(mail_deliver(m, e, 0, err, sizeof err), MAIL_DONE);
    snprintf(p, sizeof p, "%s/mail/%lld.eml", dir, (long long)e);
    f = fopen(p, "r");
    ASSERT(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    ASSERT(!strstr(buf, "List-Unsubscribe"));
    mail_free(m);
}

TEST(suppressions)
{
    struct mail *m = service(NULL);
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(mail__suppress(c, "unsub@example.test", "unsubscribe", "test", ""));
    db_release(c);
    char st[16];
    int64_t a = enqueue("unsub@example.test", "test", VARS, 0);
    int64_t b = enqueue("UNSUB@example.test", "test", VARS, 1);
    ASSERT_EQ(mail_deliver(m, a, 0, err, sizeof err), MAIL_DONE);
    ASSERT_EQ(mail_deliver(m, b, 0, err, sizeof err), MAIL_DONE);
    status_of(a, st, NULL);
    ASSERT_STREQ(st, "suppressed");
    ASSERT(!eml_exists(a));
    status_of(b, st, NULL); /* essential mail ignores an unsubscribe */
    ASSERT_STREQ(st, "sent");
    /* a hard bounce (via a webhook event) stops essential mail too, once */
    struct mail_event evs[2] = {{.email = "unsub@example.test", .reason = MAIL_R_BOUNCE,
                                 .id = "ev-1"},
                                {.email = "unsub@example.test", .reason = MAIL_R_BOUNCE,
                                 .id = "ev-1"}};
    struct mail_events ev = {.v = evs, .n = 2};
    int applied = -1;
    ASSERT_OK(mail__apply_events(m, &ev, "sendgrid", &applied));
    ASSERT_EQ(applied, 1);
    ASSERT_OK(mail__apply_events(m, &ev, "sendgrid", &applied));
    ASSERT_EQ(applied, 0);
    int64_t d = enqueue("unsub@example.test", "test", VARS, 1);
    ASSERT_EQ(mail_deliver(m, d, 0, err, sizeof err), MAIL_DONE);
    status_of(d, st, NULL);
    ASSERT_STREQ(st, "suppressed");
    char reason[32];
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(mail__suppression(c, "unsub@example.test", reason, sizeof reason));
    ASSERT_STREQ(reason, "bounce");
    /* an unsubscribe never weakens a bounce */
    ASSERT_OK(mail__suppress(c, "unsub@example.test", "unsubscribe", "test", ""));
    ASSERT_OK(mail__suppression(c, "unsub@example.test", reason, sizeof reason));
    ASSERT_STREQ(reason, "bounce");
    json_t *list;
    ASSERT_OK(mail__list_suppressions(c, NULL, 10, 0, &list));
    ASSERT_EQ(json_integer_value(json_object_get(list, "total")), 1);
    json_decref(list);
    ASSERT_OK(mail__list_messages(c, "suppressed", NULL, 10, 0, &list));
    ASSERT_EQ(json_integer_value(json_object_get(list, "total")), 2);
    json_decref(list);
    ASSERT_OK(mail__list_messages(c, NULL, "unsub@example.test", 1, 1, &list));
    ASSERT_EQ(json_integer_value(json_object_get(list, "total")), 3);
    ASSERT_EQ(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    int64_t changed;
    /* pruning forgets only old event ids */
    ASSERT_OK(mail__prune_events(c, db_now_ms() - 60000, &changed));
    ASSERT_EQ(changed, 0);
    ASSERT_OK(mail__prune_events(c, db_now_ms() + 1, &changed));
    ASSERT_EQ(changed, 1);
    ASSERT_OK(mail__unsuppress(c, "unsub@example.test", &changed));
    ASSERT_EQ(changed, 1);
    ASSERT_OK(mail__unsuppress(c, "unsub@example.test", &changed));
    ASSERT_EQ(changed, 0);
    db_release(c);
    mail_free(m);
}

TEST(permanent_and_temporary_failures)
{
    struct mail *m = service(NULL);
    char st[16];
    /* vars lacking a variable the template prints: failed, reason recorded */
    int64_t a = enqueue("x@example.test", "test", "{\"message\":\"m\"}", 0);
    ASSERT_EQ(mail_deliver(m, a, 0, err, sizeof err), MAIL_FAILED);
    ASSERT(strstr(err, "name"));
    status_of(a, st, NULL);
    ASSERT_STREQ(st, "failed");
    mail_free(m);
    /* a refused SMTP connection: retry, and on the last attempt: failed */
    m = service("smtp://127.0.0.1:1");
    int64_t b = enqueue("y@example.test", "test", VARS, 0);
    ASSERT_EQ(mail_deliver(m, b, 0, err, sizeof err), MAIL_RETRY);
    int attempts;
    status_of(b, st, &attempts);
    ASSERT_STREQ(st, "queued");
    ASSERT_EQ(attempts, 1);
    ASSERT_EQ(mail_deliver(m, b, 1, err, sizeof err), MAIL_FAILED);
    status_of(b, st, &attempts);
    ASSERT_STREQ(st, "failed");
    ASSERT_EQ(attempts, 2);
    mail_free(m);
}

int main(void)
{
    if (sodium_init() < 0 || !mkdtemp(dir))
        return 1;
    unsigned char key[FF_SECRET_BYTES] = {7};
    if (ff_secret_from_bytes(&sec, key))
        return 1;
    db = dbt_open("mail_db", 4);
    if (db_migrate(db, NULL)) {
        fprintf(stderr, "migrate: %s\n", db_errmsg());
        return 1;
    }
    RUN(enqueue_validates);
    RUN(deliver_to_file_once);
    RUN(suppressions);
    RUN(permanent_and_temporary_failures);
    db_close(db);
    ff_secret_free(sec);
    dbt_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_REPORT();
}
