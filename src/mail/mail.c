/* mail.c - the mail service: setup, enqueueing and delivery (see mail.h). */
#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "mail/mail_int.h"
#include "mail/mail_token.h"

/* ---- enqueueing -------------------------------------------------------------- */

/* True when an embedded template file "<name>.<locale>.tmpl" exists for name
 * (the set itself is validated when the service starts and in the tests). */
static bool template_known(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < mail_tmpl_embedded_count; i++)
        if (!strncmp(mail_tmpl_embedded[i].name, name, n) && mail_tmpl_embedded[i].name[n] == '.')
            return true;
    return false;
}

static bool locale_ok(const char *l)
{
    size_t n = strlen(l);
    if (n != 2 && n != 5)
        return false;
    if (!islower((unsigned char)l[0]) || !islower((unsigned char)l[1]))
        return false;
    return n == 2 || (l[2] == '-' && isupper((unsigned char)l[3]) && isupper((unsigned char)l[4]));
}

/* The email.send job for message id (mail_jobs.c once the queue exists). */
enum ff_err mail__enqueue_job(struct db_conn *c, int64_t id);

enum ff_err mail_enqueue_id(struct db_conn *c, const char *to, const char *template,
                            const char *locale, const char *vars_json, int essential,
                            int64_t *id_out)
{
    char addr[MAIL_ADDR_MAX + 1];
    if (!locale)
        locale = "en";
    if (!c || !to || mail_addr_normalize(to, addr, sizeof addr) || !template ||
        !template_known(template) || !locale_ok(locale))
        return FF_EINVAL;
    json_t *v = json_loads(vars_json ? vars_json : "{}", JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object(v);
    /* stored compact; json_dumpb into our own buffer (jansson's allocator may
     * be malloc or ff_malloc depending on the program) */
    size_t need = ok ? json_dumpb(v, NULL, 0, JSON_COMPACT) : 0;
    char *canon = need && need < ((size_t)1 << 20) ? ff_malloc(need + 1) : NULL;
    if (canon)
        canon[json_dumpb(v, canon, need, JSON_COMPACT)] = 0;
    json_decref(v);
    if (!ok || (need && !canon && need >= ((size_t)1 << 20)))
        return FF_EINVAL;
    if (!canon)
        return FF_ENOMEM;
    int64_t id = 0;
    enum ff_err e = mail__insert(c, addr, template, locale, canon, essential, &id);
    ff_free(canon);
    if (!e)
        e = mail__enqueue_job(c, id);
    if (!e && id_out)
        *id_out = id;
    return e;
}

enum ff_err mail_enqueue(struct db_conn *c, const char *to, const char *template,
                         const char *locale, const char *vars_json, int essential)
{
    return mail_enqueue_id(c, to, template, locale, vars_json, essential, NULL);
}

/* ---- the service ------------------------------------------------------------- */

static enum ff_err setup_transport(struct mail *m, const struct ff_config *cfg, char *why,
                                   size_t len)
{
    char name[256];
    if (mail_mailbox_parse(cfg->mail_from, name, sizeof name, m->from_addr, sizeof m->from_addr)) {
        ff_errbuf(why, len, "FRAMEFIT_MAIL_FROM: want addr or \"Name <addr>\", got \"%s\"",
                  cfg->mail_from);
        return FF_EINVAL;
    }
    snprintf(m->from, sizeof m->from, "%s", cfg->mail_from);
    snprintf(m->from_domain, sizeof m->from_domain, "%s", strchr(m->from_addr, '@') + 1);
    if (cfg->mail_unsubscribe_mailto[0] &&
        mail_addr_normalize(cfg->mail_unsubscribe_mailto, m->unsub_mailto, sizeof m->unsub_mailto)) {
        ff_errbuf(why, len, "FRAMEFIT_MAIL_UNSUBSCRIBE_MAILTO: not an email address");
        return FF_EINVAL;
    }
    if (cfg->smtp_url[0]) {
        if (!mail_smtp_url_ok(cfg->smtp_url)) {
            ff_errbuf(why, len, "FRAMEFIT_SMTP_URL: want smtp://HOST[:PORT] or smtps://HOST[:PORT]");
            return FF_EINVAL;
        }
        /* own copies: the service may outlive the configuration */
        m->smtp.url = m->smtp_url = ff_strdup(cfg->smtp_url);
        m->smtp.user = m->smtp_user = ff_strdup(cfg->smtp_user);
        m->smtp.password = m->smtp_password = ff_strdup(cfg->smtp_password);
        if (!m->smtp_url || !m->smtp_user || !m->smtp_password)
            return FF_ENOMEM;
        m->smtp.tls = !strcmp(cfg->smtp_tls, "require") ? MAIL_TLS_REQUIRE
                      : !strcmp(cfg->smtp_tls, "off")   ? MAIL_TLS_OFF : MAIL_TLS_TRY;
        m->smtp.connect_timeout_s = cfg->smtp_timeout_s < 10 ? cfg->smtp_timeout_s : 10;
        m->smtp.timeout_s = cfg->smtp_timeout_s;
    }
    if (cfg->sendgrid_webhook_key[0] &&
        mail_pubkey_from_b64_der(cfg->sendgrid_webhook_key, &m->sg_key)) {
        ff_errbuf(why, len, "FRAMEFIT_SENDGRID_WEBHOOK_KEY: not a base64 DER EC public key");
        return FF_EINVAL;
    }
    return (m->ses_topics = ff_strdup(cfg->ses_topic_arns)) ? FF_OK : FF_ENOMEM;
}

enum ff_err mail_new(const struct ff_config *cfg, struct db *db, const struct ff_secret *secret,
                     const char *public_url, struct mail **out, char *why, size_t len)
{
    if (sodium_init() < 0) {
        ff_errbuf(why, len, "libsodium failed to initialise");
        return FF_EINTERNAL;
    }
    struct mail *m = ff_calloc(1, sizeof *m);
    if (!m)
        return FF_ENOMEM;
    mail_curl_init();
    pthread_mutex_init(&m->lock, NULL);
    m->db = db;
    m->secret = secret;
    m->public_url = public_url;
    snprintf(m->data_dir, sizeof m->data_dir, "%s", cfg->data_dir);
    if (cfg->public_url[0])
        snprintf(m->fallback_url, sizeof m->fallback_url, "%s", cfg->public_url);
    else
        snprintf(m->fallback_url, sizeof m->fallback_url, "http://%s%s%s:%d",
                 strchr(cfg->bind, ':') ? "[" : "", cfg->bind, strchr(cfg->bind, ':') ? "]" : "",
                 cfg->port);
    char terr[512] = "";
    enum ff_err e = mail_tmpl_set_load(mail_tmpl_embedded, mail_tmpl_embedded_count, &m->tmpl,
                                       terr, sizeof terr);
    if (e)
        ff_errbuf(why, len, "email templates: %s", terr);
    if (!e)
        e = setup_transport(m, cfg, why, len);
    if (e) {
        mail_free(m);
        return e;
    }
    *out = m;
    return FF_OK;
}

void mail_free(struct mail *m)
{
    if (!m)
        return;
    mail_tmpl_set_free(m->tmpl);
    mail_pubkey_free(m->sg_key);
    for (int i = 0; i < MAIL_SNS_CACHE; i++)
        mail_pubkey_free(m->sns[i].key);
    ff_free(m->ses_topics);
    ff_free(m->smtp_url);
    ff_free(m->smtp_user);
    if (m->smtp_password) {
        sodium_memzero(m->smtp_password, strlen(m->smtp_password));
        ff_free(m->smtp_password);
    }
    pthread_mutex_destroy(&m->lock);
    ff_free(m);
}

const char *mail__base_url(const struct mail *m)
{
    return m->public_url && m->public_url[0] ? m->public_url : m->fallback_url;
}

/* ---- delivery ------------------------------------------------------------------ */

/* Renders and builds the message for row r into out. */
static enum ff_err compose(struct mail *m, const struct mail__row *r, char *msgid,
                           struct ff_buf *out, char *err, size_t errlen)
{
    struct mail_rendered rd;
    enum ff_err e = mail_tmpl_render(m->tmpl, r->template_, r->locale, r->vars, &rd, err, errlen);
    if (e)
        return e;
    char token[MAIL_TOKEN_MAX], url[2200 + MAIL_TOKEN_MAX];
    if (!r->essential) {
        if ((e = mail_token_make(m->secret, r->to, MAIL_LIST_ALL, token, sizeof token))) {
            ff_errbuf(err, errlen, "cannot make an unsubscribe token for this address");
            mail_rendered_release(&rd);
            return e;
        }
        snprintf(url, sizeof url, "%s/api/v1/email/unsubscribe?t=%s", mail__base_url(m), token);
    }
    unsigned char rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(msgid, 320, "<ff.%lld.%s@%s>", (long long)r->id, hex, m->from_domain);
    struct mail_mime mm = {.from = m->from, .to = r->to, .subject = rd.subject, .text = rd.text,
                           .html = rd.html, .message_id = msgid, .date_ms = db_now_ms(),
                           .unsub_url = r->essential ? NULL : url,
                           .unsub_mailto = !r->essential && m->unsub_mailto[0] ? m->unsub_mailto
                                                                                : NULL};
    e = mail_mime_build(&mm, out, err, errlen);
    mail_rendered_release(&rd);
    return e;
}

static enum ff_err transmit(struct mail *m, int64_t id, const char *to, const struct ff_buf *msg,
                            struct mail_send_result *res)
{
    if (m->smtp.url)
        return mail_smtp_send(&m->smtp, m->from_addr, to, msg->data, msg->len, res);
    char dir[4200], name[32];
    snprintf(dir, sizeof dir, "%s/mail", m->data_dir);
    snprintf(name, sizeof name, "%lld", (long long)id);
    return mail_file_send(dir, name, msg->data, msg->len, res);
}

/* Records the outcome of a delivery attempt on the message. */
static enum mail_outcome record(struct mail *m, int64_t id, const struct mail_send_result *res,
                                const char *msgid, int last_attempt, char *err, size_t errlen)
{
    struct db_conn *c;
    const char *status = res->outcome == MAIL_SENT        ? "sent"
                         : res->outcome == MAIL_PERMFAIL || last_attempt ? "failed" : NULL;
    enum ff_err e = db_acquire(m->db, &c);
    if (!e) {
        e = mail__mark(c, id, status, res->code, res->reply, msgid, false);
        db_release(c);
    }
    if (e && res->outcome == MAIL_SENT) {
        /* The server has the message but we could not record it: the retry
         * will send it again. This window between the SMTP server's 250 and
         * our UPDATE is inherent to SMTP (there is no idempotency key). */
        ff_errbuf(err, errlen, "sent, but recording it failed: %s", db_errmsg());
        return MAIL_RETRY;
    }
    if (res->outcome == MAIL_SENT)
        return MAIL_DONE;
    ff_errbuf(err, errlen, "SMTP %d: %s", res->code, res->reply);
    return status ? MAIL_FAILED : MAIL_RETRY;
}

enum mail_outcome mail_deliver(struct mail *m, int64_t id, int last_attempt, char *err,
                               size_t errlen)
{
    struct db_conn *c;
    struct mail__row r;
    char reason[32], msgid[320], why[512] = "";
    if (db_acquire(m->db, &c)) {
        ff_errbuf(err, errlen, "database unavailable: %s", db_errmsg());
        return MAIL_RETRY;
    }
    enum ff_err e = mail__load(c, id, &r);
    if (e) {
        db_release(c);
        ff_errbuf(err, errlen, e == FF_ENOTFOUND ? "no email message %lld" : "loading message %lld: %s",
                  (long long)id, db_errmsg());
        return e == FF_ENOTFOUND ? MAIL_FAILED : MAIL_RETRY;
    }
    enum mail_outcome out = MAIL_DONE;
    struct ff_buf msg;
    ff_buf_init(&msg, (size_t)8 << 20);
    if (strcmp(r.status, "queued")) /* already sent, failed or suppressed */
        goto done;
    if ((e = mail__suppression(c, r.to, reason, sizeof reason))) {
        out = MAIL_RETRY;
        ff_errbuf(err, errlen, "suppression lookup: %s", db_errmsg());
        goto done;
    }
    if (reason[0] && (!r.essential || !strcmp(reason, "bounce"))) {
        snprintf(why, sizeof why, "suppressed (%s)", reason);
        if (mail__mark(c, id, "suppressed", 0, why, NULL, false))
            out = MAIL_RETRY;
        goto done;
    }
    if ((e = compose(m, &r, msgid, &msg, why, sizeof why))) {
        out = e == FF_ENOMEM ? MAIL_RETRY : MAIL_FAILED;
        if (out == MAIL_FAILED && mail__mark(c, id, "failed", 0, why, NULL, false))
            out = MAIL_RETRY;
        ff_errbuf(err, errlen, "%s", why);
        goto done;
    }
    if (mail__mark(c, id, NULL, 0, NULL, NULL, true)) { /* count the attempt */
        out = MAIL_RETRY;
        ff_errbuf(err, errlen, "recording the attempt: %s", db_errmsg());
        goto done;
    }
    db_release(c); /* no connection is held across the network */
    c = NULL;
    struct mail_send_result res;
    transmit(m, id, r.to, &msg, &res);
    out = record(m, id, &res, res.outcome == MAIL_SENT ? msgid : NULL, last_attempt, err, errlen);
    ff_log(out == MAIL_DONE ? FF_LOG_INFO : FF_LOG_WARN, "mail",
           "message %lld (%s): %s %d %s", (long long)id, r.template_,
           out == MAIL_DONE ? "sent" : out == MAIL_RETRY ? "will retry" : "failed", res.code,
           res.reply);
done:
    db_release(c);
    ff_buf_release(&msg);
    ff_free(r.vars);
    return out;
}

/* ---- webhook events ------------------------------------------------------------- */

enum ff_err mail__apply_events(struct mail *m, const struct mail_events *ev, const char *source,
                               int *applied)
{
    struct db_tx tx = DB_TX_INIT;
    *applied = 0;
    if (ev->n == 0)
        return FF_OK;
    enum ff_err e = db_begin(m->db, &tx);
    for (size_t i = 0; i < ev->n && !e; i++) {
        char key[200];
        bool fresh = false;
        snprintf(key, sizeof key, "%s:%s", source, ev->v[i].id);
        e = mail__event_once(tx.conn, key, &fresh);
        if (!e && fresh) {
            e = mail__suppress(tx.conn, ev->v[i].email, mail_reason_name(ev->v[i].reason), source,
                               ev->v[i].detail);
            *applied += !e;
        }
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}
