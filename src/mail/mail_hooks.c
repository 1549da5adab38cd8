/* mail_hooks.c - webhook parsers and signature checks (see mail_hooks.h). */
#include "mail/mail_hooks.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"

const char *mail_reason_name(enum mail_reason r)
{
    switch (r) {
    case MAIL_R_UNSUBSCRIBE: return "unsubscribe";
    case MAIL_R_BOUNCE: return "bounce";
    case MAIL_R_COMPLAINT: return "complaint";
    }
    return NULL;
}

void mail_events_release(struct mail_events *ev)
{
    ff_free(ev->v);
    memset(ev, 0, sizeof *ev);
}

/* Adds one event (email normalised); an unusable address counts as ignored. */
static enum ff_err add_event(struct mail_events *ev, const char *email, enum mail_reason r,
                             const char *id, const char *detail)
{
    char norm[MAIL_ADDR_MAX + 1];
    if (!email || !id || !id[0] || strlen(id) >= sizeof ev->v->id ||
        mail_addr_normalize(email, norm, sizeof norm)) {
        ev->ignored++;
        return FF_OK;
    }
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? 2 * ev->cap : 16;
        struct mail_event *v = ff_realloc(ev->v, cap * sizeof *v);
        if (!v)
            return FF_ENOMEM;
        ev->v = v;
        ev->cap = cap;
    }
    struct mail_event *e = &ev->v[ev->n++];
    memset(e, 0, sizeof *e);
    memcpy(e->email, norm, sizeof norm);
    e->reason = r;
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
    return FF_OK;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

enum ff_err mail_sg_parse(const char *body, size_t len, struct mail_events *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *a = json_loadb(body, len, 0, &je);
    if (!json_is_array(a) || json_array_size(a) > MAIL_HOOK_MAX_EVENTS) {
        ff_errbuf(err, errlen, "%s", !a ? je.text : !json_is_array(a)
                                            ? "the body must be a JSON array of events"
                                            : "too many events in one request");
        json_decref(a);
        return FF_EINVAL;
    }
    size_t i;
    json_t *ev;
    enum ff_err e = FF_OK;
    json_array_foreach(a, i, ev) {
        const char *name = jstr(ev, "event"), *type = jstr(ev, "type");
        enum mail_reason r = 0;
        if (!name)
            r = 0;
        else if (!strcmp(name, "bounce"))
            r = type && !strcmp(type, "blocked") ? 0 : MAIL_R_BOUNCE;
        else if (!strcmp(name, "dropped"))
            r = MAIL_R_BOUNCE;
        else if (!strcmp(name, "spamreport"))
            r = MAIL_R_COMPLAINT;
        else if (!strcmp(name, "unsubscribe") || !strcmp(name, "group_unsubscribe"))
            r = MAIL_R_UNSUBSCRIBE;
        if (!r) {
            out->ignored++;
            continue;
        }
        if ((e = add_event(out, jstr(ev, "email"), r, jstr(ev, "sg_event_id"), name)))
            break;
    }
    json_decref(a);
    if (e)
        mail_events_release(out);
    return e;
}

/* ---- keys and signatures --------------------------------------------------------- */

struct mail_pubkey {
    EVP_PKEY *k;
};

static enum ff_err wrap(EVP_PKEY *k, struct mail_pubkey **out)
{
    if (!k)
        return FF_EINVAL;
    if (!(*out = ff_malloc(sizeof **out))) {
        EVP_PKEY_free(k);
        return FF_ENOMEM;
    }
    (*out)->k = k;
    return FF_OK;
}

/* Decodes standard base64 (whitespace ignored) into a fresh buffer. */
static unsigned char *b64dec(const char *s, size_t *n)
{
    size_t len = strlen(s);
    unsigned char *b = ff_malloc(len / 4 * 3 + 4);
    if (!b)
        return NULL;
    const char *end;
    if (sodium_base642bin(b, len / 4 * 3 + 4, s, len, " \t\r\n", n, &end,
                          sodium_base64_VARIANT_ORIGINAL) || end != s + len || *n == 0) {
        ff_free(b);
        return NULL;
    }
    return b;
}

enum ff_err mail_pubkey_from_b64_der(const char *b64, struct mail_pubkey **out)
{
    size_t n;
    unsigned char *der = b64 && strlen(b64) < 8192 ? b64dec(b64, &n) : NULL;
    if (!der)
        return FF_EINVAL;
    const unsigned char *p = der;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)n);
    ff_free(der);
    if (k && (!EVP_PKEY_is_a(k, "EC") || p != der + n)) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return wrap(k, out);
}

enum ff_err mail_pubkey_from_cert_pem(const char *pem, size_t len, struct mail_pubkey **out)
{
    if (len > 65536)
        return FF_EINVAL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = x ? X509_get_pubkey(x) : NULL;
    X509_free(x);
    BIO_free(b);
    if (k && !EVP_PKEY_is_a(k, "RSA")) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return wrap(k, out);
}

void mail_pubkey_free(struct mail_pubkey *k)
{
    if (k) {
        EVP_PKEY_free(k->k);
        ff_free(k);
    }
}

static enum ff_err verify(const struct mail_pubkey *k, const EVP_MD *md, const char *sig_b64,
                          const void *a, size_t alen, const void *b, size_t blen)
{
    size_t slen;
    unsigned char *sig = sig_b64 && strlen(sig_b64) < 4096 ? b64dec(sig_b64, &slen) : NULL;
    if (!sig || !k)
        return ff_free(sig), FF_EAUTH;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, md, NULL, k->k) == 1 &&
             EVP_DigestVerifyUpdate(c, a, alen) == 1 && (!blen ||
             EVP_DigestVerifyUpdate(c, b, blen) == 1) &&
             EVP_DigestVerifyFinal(c, sig, slen) == 1;
    EVP_MD_CTX_free(c);
    ff_free(sig);
    return ok ? FF_OK : FF_EAUTH;
}

enum ff_err mail_sg_verify(const struct mail_pubkey *k, const char *sig_b64,
                           const char *timestamp, const char *body, size_t len)
{
    if (!timestamp || !*timestamp)
        return FF_EAUTH;
    return verify(k, EVP_sha256(), sig_b64, timestamp, strlen(timestamp), body, len);
}

/* ---- SNS --------------------------------------------------------------------------- */

void mail_sns_release(struct mail_sns *m)
{
    json_decref(m->json_);
    memset(m, 0, sizeof *m);
}

enum ff_err mail_sns_parse(const char *body, size_t len, struct mail_sns *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        ff_errbuf(err, errlen, "%s", o ? "the body must be a JSON object" : je.text);
        json_decref(o);
        return FF_EINVAL;
    }
    out->json_ = o;
    out->type = jstr(o, "Type");
    out->message_id = jstr(o, "MessageId");
    out->topic_arn = jstr(o, "TopicArn");
    out->subject = jstr(o, "Subject");
    out->message = jstr(o, "Message");
    out->timestamp = jstr(o, "Timestamp");
    out->signature_version = jstr(o, "SignatureVersion");
    out->signature = jstr(o, "Signature");
    out->signing_cert_url = jstr(o, "SigningCertURL");
    out->subscribe_url = jstr(o, "SubscribeURL");
    out->token = jstr(o, "Token");
    const char *why = NULL;
    if (!out->type || (strcmp(out->type, "Notification") &&
                       strcmp(out->type, "SubscriptionConfirmation") &&
                       strcmp(out->type, "UnsubscribeConfirmation")))
        why = "Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation";
    else if (!out->signature_version || (strcmp(out->signature_version, "1") &&
                                         strcmp(out->signature_version, "2")))
        why = "SignatureVersion must be \"1\" or \"2\"";
    else if (!out->message_id || !out->topic_arn || !out->message || !out->timestamp ||
             !out->signature || !out->signing_cert_url)
        why = "missing MessageId, TopicArn, Message, Timestamp, Signature or SigningCertURL";
    else if (strcmp(out->type, "Notification") && (!out->subscribe_url || !out->token))
        why = "a confirmation needs SubscribeURL and Token";
    else if (json_object_get(o, "Subject") && !out->subject)
        why = "Subject must be a string";
    if (why) {
        ff_errbuf(err, errlen, "%s", why);
        mail_sns_release(out);
        return FF_EINVAL;
    }
    return FF_OK;
}

int mail_sns_url_ok(const char *url)
{
    static const char pre[] = "https://sns.", dom[] = ".amazonaws.com/";
    if (!url || strncmp(url, pre, sizeof pre - 1) || strlen(url) > 1024)
        return 0;
    const char *region = url + sizeof pre - 1;
    size_t rn = strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (rn == 0 || rn > 32 || strncmp(region + rn, dom, sizeof dom - 1))
        return 0;
    const char *path = region + rn + sizeof dom - 1;
    size_t pn = strlen(path);
    if (pn < 5 || strcmp(path + pn - 4, ".pem") || strstr(path, "..") ||
        strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") != pn)
        return 0;
    return 1;
}

int mail_sns_subscribe_url_ok(const char *url)
{
    static const char pre[] = "https://sns.", dom[] = ".amazonaws.com/";
    if (!url || strncmp(url, pre, sizeof pre - 1) || strlen(url) > 2048)
        return 0;
    const char *region = url + sizeof pre - 1;
    size_t rn = strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (rn == 0 || rn > 32 || strncmp(region + rn, dom, sizeof dom - 1))
        return 0;
    for (const char *p = region + rn; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#' || *p == '\\')
            return 0;
    return 1;
}

enum ff_err mail_sns_string_to_sign(const struct mail_sns *m, struct ff_buf *out)
{
    const char *n[7], *v[7];
    int k = 0;
#define F(name, val) (n[k] = (name), v[k++] = (val))
    F("Message", m->message);
    F("MessageId", m->message_id);
    if (!strcmp(m->type, "Notification")) {
        if (m->subject)
            F("Subject", m->subject);
    } else {
        F("SubscribeURL", m->subscribe_url);
    }
    F("Timestamp", m->timestamp);
    if (strcmp(m->type, "Notification"))
        F("Token", m->token);
    F("TopicArn", m->topic_arn);
    F("Type", m->type);
#undef F
    enum ff_err e = FF_OK;
    for (int i = 0; i < k && !e; i++)
        e = ff_buf_appendf(out, "%s\n%s\n", n[i], v[i]);
    return e;
}

enum ff_err mail_sns_verify(const struct mail_sns *m, const struct mail_pubkey *k)
{
    struct ff_buf b;
    ff_buf_init(&b, (size_t)4 << 20);
    enum ff_err e = mail_sns_string_to_sign(m, &b);
    if (!e)
        e = verify(k, !strcmp(m->signature_version, "1") ? EVP_sha1() : EVP_sha256(),
                   m->signature, b.data, b.len, NULL, 0);
    ff_buf_release(&b);
    return e == FF_ETOOBIG ? FF_EAUTH : e;
}

enum ff_err mail_ses_parse(const char *msg, size_t len, const char *sns_id,
                           struct mail_events *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = json_loadb(msg, len, 0, &je);
    if (!json_is_object(o)) {
        ff_errbuf(err, errlen, "SNS Message: %s", o ? "not a JSON object" : je.text);
        json_decref(o);
        return FF_EINVAL;
    }
    const char *type = jstr(o, "notificationType");
    if (!type)
        type = jstr(o, "eventType"); /* SES event publishing uses this name */
    json_t *list = NULL;
    enum mail_reason r = 0;
    const char *detail = NULL;
    if (type && !strcmp(type, "Bounce")) {
        json_t *b = json_object_get(o, "bounce");
        detail = jstr(b, "bounceType");
        if (detail && !strcmp(detail, "Permanent")) {
            r = MAIL_R_BOUNCE;
            list = json_object_get(b, "bouncedRecipients");
        }
    } else if (type && !strcmp(type, "Complaint")) {
        r = MAIL_R_COMPLAINT;
        detail = "complaint";
        list = json_object_get(json_object_get(o, "complaint"), "complainedRecipients");
    }
    enum ff_err e = FF_OK;
    if (!json_is_array(list) || json_array_size(list) > MAIL_HOOK_MAX_EVENTS) {
        out->ignored++;
    } else {
        size_t i;
        json_t *rc;
        json_array_foreach(list, i, rc) {
            char id[160];
            snprintf(id, sizeof id, "%.120s/%zu", sns_id ? sns_id : "", i);
            if ((e = add_event(out, jstr(rc, "emailAddress"), r, id, detail)))
                break;
        }
    }
    json_decref(o);
    if (e)
        mail_events_release(out);
    return e;
}
