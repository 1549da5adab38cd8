/* mail_int.h - the mail module's private parts (service struct, SQL). */
#ifndef FF_MAIL_MAIL_INT_H
#define FF_MAIL_MAIL_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "db/db.h"
#include "mail/mail.h"
#include "mail/mail_hooks.h"
#include "mail/mail_mime.h"
#include "mail/mail_smtp.h"
#include "mail/mail_tmpl.h"

#define MAIL_SNS_CACHE 8

struct mail {
    struct db *db;
    const struct ff_secret *secret;
    const char *public_url;      /* borrowed; may fill in later */
    char fallback_url[2100];     /* cfg->public_url or http://BIND:PORT */
    char data_dir[4096];
    struct mail_tmpl_set *tmpl;
    struct mail_smtp_opts smtp;  /* url NULL = file transport */
    char *smtp_url, *smtp_user, *smtp_password; /* owned copies behind smtp */
    char from[512];              /* header form */
    char from_addr[MAIL_ADDR_MAX + 1];
    char from_domain[256];
    char unsub_mailto[MAIL_ADDR_MAX + 1];
    struct mail_pubkey *sg_key;  /* NULL = SendGrid endpoint refuses */
    char *ses_topics;            /* comma list, owned; "" = SES endpoint refuses */
    pthread_mutex_t lock;        /* guards the SNS certificate cache */
    struct {
        char url[1025];
        struct mail_pubkey *key;
    } sns[MAIL_SNS_CACHE];
    unsigned sns_next;
};

/* The list name in unsubscribe tokens (one list: all non-essential mail). */
#define MAIL_LIST_ALL "all"

/* ---- mail_repo.c (SQL only) ---------------------------------------------- */

struct mail__row {
    int64_t id;
    char to[MAIL_ADDR_MAX + 1];
    char template_[64];
    char locale[16];
    char *vars;          /* ff_malloc'd */
    int essential;
    char status[16];
    int attempts;
};

enum ff_err mail__insert(struct db_conn *c, const char *to, const char *tmpl, const char *locale,
                         const char *vars, int essential, int64_t *id) FF_MUST_CHECK;
/* FF_ENOTFOUND when there is no such message. Free r->vars with ff_free. */
enum ff_err mail__load(struct db_conn *c, int64_t id, struct mail__row *r) FF_MUST_CHECK;
/* Marks a queued message (no-op otherwise) with a final or interim state:
 * status NULL keeps 'queued'. bump adds one attempt. */
enum ff_err mail__mark(struct db_conn *c, int64_t id, const char *status, int code,
                       const char *reply, const char *message_id, bool bump) FF_MUST_CHECK;
/* The suppression reason for a normalised email, "" when none. */
enum ff_err mail__suppression(struct db_conn *c, const char *email, char *reason,
                              size_t len) FF_MUST_CHECK;
/* Adds or strengthens a suppression (a bounce replaces a weaker reason). */
enum ff_err mail__suppress(struct db_conn *c, const char *email, const char *reason,
                           const char *source, const char *detail) FF_MUST_CHECK;
/* *fresh = true when event_id had not been seen (and records it). */
enum ff_err mail__event_once(struct db_conn *c, const char *event_id, bool *fresh) FF_MUST_CHECK;
/* Deletes webhook event ids recorded before before_ms (deduplication only
 * needs the recent ones: providers retry for hours, not weeks). */
enum ff_err mail__prune_events(struct db_conn *c, int64_t before_ms,
                               int64_t *deleted) FF_MUST_CHECK;
/* Staff lists as JSON ({"items":[...],"total":N}); filters may be NULL. */
enum ff_err mail__list_messages(struct db_conn *c, const char *status, const char *to,
                                int64_t limit, int64_t offset, json_t **out) FF_MUST_CHECK;
enum ff_err mail__list_suppressions(struct db_conn *c, const char *email, int64_t limit,
                                    int64_t offset, json_t **out) FF_MUST_CHECK;
/* *changed = 1 when a row was deleted. */
enum ff_err mail__unsuppress(struct db_conn *c, const char *email, int64_t *changed) FF_MUST_CHECK;

/* ---- mail.c ----------------------------------------------------------------- */

/* The base URL for links (no trailing '/'). */
const char *mail__base_url(const struct mail *m);
/* Applies parsed webhook events (deduplicated by id) in one transaction;
 * *applied gets how many changed the list. */
enum ff_err mail__apply_events(struct mail *m, const struct mail_events *ev, const char *source,
                               int *applied) FF_MUST_CHECK;

/* ---- mail_sns.c ------------------------------------------------------------- */

/* The verification key of an SNS signing certificate: memory cache, then
 * DATA_DIR/sns-certs/<sha256(url)>.pem, then an https GET of url (which must
 * pass mail_sns_url_ok). Borrowed from the cache (valid until mail_free). */
enum ff_err mail__sns_key(struct mail *m, const char *url, const struct mail_pubkey **out,
                          char *err, size_t errlen) FF_MUST_CHECK;
/* GETs an SNS SubscribeURL (same host rule) to confirm a subscription. */
enum ff_err mail__sns_confirm(const char *url, char *err, size_t errlen) FF_MUST_CHECK;

#endif
