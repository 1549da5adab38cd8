/* test_mail_hooks.c - webhook parsers and signature checks, with keys and a
 * self-signed certificate made at test time by libcrypto. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <string.h>

#include "core/buf.h"
#include "harness.h"
#include "mail/mail_hooks.h"

static char err[256];

static void b64(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    sodium_bin2base64(out, outlen, p, n, sodium_base64_VARIANT_ORIGINAL);
}

/* Signs a || b with key and digest md; base64 DER signature into out. */
static void sign(EVP_PKEY *key, const EVP_MD *md, const char *a, const char *b, char *out,
                 size_t outlen)
{
    unsigned char sig[1024];
    size_t n = sizeof sig;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestSignInit(c, NULL, md, NULL, key) != 1 ||
        EVP_DigestSignUpdate(c, a, strlen(a)) != 1 || EVP_DigestSignUpdate(c, b, strlen(b)) != 1 ||
        EVP_DigestSignFinal(c, sig, &n) != 1)
        TEST_FAIL("signing failed");
    EVP_MD_CTX_free(c);
    b64(sig, n, out, outlen);
}

TEST(sendgrid_parse)
{
    struct mail_events ev;
    const char *body =
        "[{\"email\":\"A@x.test\",\"event\":\"bounce\",\"type\":\"bounce\",\"sg_event_id\":\"e1\"},"
        "{\"email\":\"b@x.test\",\"event\":\"bounce\",\"type\":\"blocked\",\"sg_event_id\":\"e2\"},"
        "{\"email\":\"c@x.test\",\"event\":\"dropped\",\"sg_event_id\":\"e3\"},"
        "{\"email\":\"d@x.test\",\"event\":\"spamreport\",\"sg_event_id\":\"e4\"},"
        "{\"email\":\"e@x.test\",\"event\":\"unsubscribe\",\"sg_event_id\":\"e5\"},"
        "{\"email\":\"f@x.test\",\"event\":\"group_unsubscribe\",\"sg_event_id\":\"e6\"},"
        "{\"email\":\"g@x.test\",\"event\":\"delivered\",\"sg_event_id\":\"e7\"},"
        "{\"email\":\"not an address\",\"event\":\"bounce\",\"sg_event_id\":\"e8\"},"
        "{\"email\":\"h@x.test\",\"event\":\"bounce\"},"
        "{\"email\":5,\"event\":[],\"sg_event_id\":{}}, 7, null, \"x\"]";
    ASSERT_OK(mail_sg_parse(body, strlen(body), &ev, err, sizeof err));
    ASSERT_EQ(ev.n, 5);
    ASSERT_STREQ(ev.v[0].email, "a@x.test");
    ASSERT_EQ(ev.v[0].reason, MAIL_R_BOUNCE);
    ASSERT_STREQ(ev.v[0].id, "e1");
    ASSERT_EQ(ev.v[1].reason, MAIL_R_BOUNCE);
    ASSERT_EQ(ev.v[2].reason, MAIL_R_COMPLAINT);
    ASSERT_EQ(ev.v[3].reason, MAIL_R_UNSUBSCRIBE);
    ASSERT_EQ(ev.v[4].reason, MAIL_R_UNSUBSCRIBE);
    ASSERT_EQ(ev.ignored, 8);
    mail_events_release(&ev);
    const char *bad[] = {"", "{}", "[", "[{\"email\":", "null", "\"[]\"", "[]]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ASSERT_EQ(mail_sg_parse(bad[i], strlen(bad[i]), &ev, err, sizeof err), FF_EINVAL);
    /* too many events */
    struct ff_buf b;
    ff_buf_init(&b, 1 << 20);
    ASSERT_OK(ff_buf_appends(&b, "["));
    for (int i = 0; i <= MAIL_HOOK_MAX_EVENTS; i++)
        ASSERT_OK(ff_buf_appends(&b, i ? ",{}" : "{}"));
    ASSERT_OK(ff_buf_appends(&b, "]"));
    ASSERT_EQ(mail_sg_parse(b.data, b.len, &ev, err, sizeof err), FF_EINVAL);
    ff_buf_release(&b);
    /* every truncation fails or parses cleanly */
    for (size_t n = 0; n < strlen(body); n++)
        if (!mail_sg_parse(body, n, &ev, err, sizeof err))
            mail_events_release(&ev);
}

TEST(sendgrid_signature)
{
    EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
    ASSERT(key && other);
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    ASSERT(n > 0);
    char kb64[512];
    b64(der, (size_t)n, kb64, sizeof kb64);
    OPENSSL_free(der);
    struct mail_pubkey *pk;
    ASSERT_OK(mail_pubkey_from_b64_der(kb64, &pk));
    const char *body = "[{\"email\":\"a@x.test\",\"event\":\"bounce\",\"sg_event_id\":\"1\"}]\r\n";
    char sig[512], bad_sig[512];
    sign(key, EVP_sha256(), "1700000000", body, sig, sizeof sig);
    sign(other, EVP_sha256(), "1700000000", body, bad_sig, sizeof bad_sig);
    ASSERT_OK(mail_sg_verify(pk, sig, "1700000000", body, strlen(body)));
    ASSERT_EQ(mail_sg_verify(pk, sig, "1700000001", body, strlen(body)), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, sig, "1700000000", body, strlen(body) - 1), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, bad_sig, "1700000000", body, strlen(body)), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, "", "1700000000", body, strlen(body)), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, "!!!", "1700000000", body, strlen(body)), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, "AAAA", "1700000000", body, strlen(body)), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, NULL, "1700000000", body, strlen(body)), FF_EAUTH);
    ASSERT_EQ(mail_sg_verify(pk, sig, "", body, strlen(body)), FF_EAUTH);
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    ASSERT_EQ(mail_sg_verify(pk, sig, "1700000000", body, strlen(body)), FF_EAUTH);
    mail_pubkey_free(pk);
    /* bad keys */
    const char *bad[] = {"", "AAAA", "not base64!", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ASSERT_EQ(mail_pubkey_from_b64_der(bad[i], &pk), FF_EINVAL);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

TEST(sns_urls)
{
    const char *good[] = {"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
                          "https://sns.eu-west-1.amazonaws.com/a/b-c_d.pem"};
    const char *bad[] = {"http://sns.us-east-1.amazonaws.com/x.pem",
                         "https://sns.us-east-1.amazonaws.com.evil.test/x.pem",
                         "https://sns.us-east-1.amazonaws.com@evil.test/x.pem",
                         "https://evil.test/sns.us-east-1.amazonaws.com/x.pem",
                         "https://sns.us-east-1.amazonaws.com:8443/x.pem",
                         "https://sns.us-east-1.amazonaws.com/x.pem?a=b",
                         "https://sns.us-east-1.amazonaws.com/x.pem#f",
                         "https://sns.us-east-1.amazonaws.com/../x.pem",
                         "https://sns.US-EAST-1.amazonaws.com/x.pem",
                         "https://sns..amazonaws.com/x.pem",
                         "https://sqs.us-east-1.amazonaws.com/x.pem",
                         "https://sns.us-east-1.amazonaws.com/x.txt",
                         "https://sns.us-east-1.amazonaws.com/", "", "https://sns.x.amazonaws.com"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ASSERT(mail_sns_url_ok(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (mail_sns_url_ok(bad[i]))
            TEST_FAIL("accepted %s", bad[i]);
    ASSERT(!mail_sns_url_ok(NULL));
    ASSERT(mail_sns_subscribe_url_ok("https://sns.us-east-1.amazonaws.com/?Action="
                                     "ConfirmSubscription&TopicArn=arn:aws:sns:x&Token=abc"));
    ASSERT(!mail_sns_subscribe_url_ok("https://sns.us-east-1.amazonaws.com.evil.test/?a"));
    ASSERT(!mail_sns_subscribe_url_ok("https://sns.us-east-1.amazonaws.com/ a"));
    ASSERT(!mail_sns_subscribe_url_ok("http://sns.us-east-1.amazonaws.com/?a"));
}

/* A self-signed RSA certificate as PEM (into pem, NUL-terminated). */
static EVP_PKEY *make_cert(char *pem, size_t len)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    if (!k || !x)
        return NULL;
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"sns.test", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    X509_sign(x, k, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    int n = BIO_read(b, pem, (int)len - 1);
    pem[n > 0 ? n : 0] = 0;
    BIO_free(b);
    X509_free(x);
    return k;
}

static const char *sns_doc(char *out, size_t len, const char *type, const char *version,
                           const char *sig, const char *message)
{
    snprintf(out, len,
             "{\"Type\":\"%s\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
             "\"Subject\":\"s\",\"Message\":\"%s\",\"Timestamp\":\"2026-11-25T00:00:00.000Z\","
             "\"SignatureVersion\":\"%s\",\"Signature\":\"%s\",\"SigningCertURL\":"
             "\"https://sns.us-east-1.amazonaws.com/c.pem\",\"SubscribeURL\":"
             "\"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription\",\"Token\":\"tk\"}",
             type, message, version, sig);
    return out;
}

TEST(sns_signature)
{
    static char pem[8192];
    EVP_PKEY *k = make_cert(pem, sizeof pem);
    ASSERT(k);
    struct mail_pubkey *pk;
    ASSERT_OK(mail_pubkey_from_cert_pem(pem, strlen(pem), &pk));
    static const char *types[] = {"Notification", "SubscriptionConfirmation"};
    for (int t = 0; t < 2; t++)
        for (int v = 1; v <= 2; v++) {
            char doc[4096], sig[1024];
            struct mail_sns m;
            struct ff_buf sts;
            ff_buf_init(&sts, 1 << 16);
            /* string to sign from a parse of an unsigned copy */
            sns_doc(doc, sizeof doc, types[t], v == 1 ? "1" : "2", "x", "{\\\"a\\\":1}");
            ASSERT_OK(mail_sns_parse(doc, strlen(doc), &m, err, sizeof err));
            ASSERT_OK(mail_sns_string_to_sign(&m, &sts));
            if (t == 0)
                ASSERT_STREQ(sts.data, "Message\n{\"a\":1}\nMessageId\nm-1\nSubject\ns\n"
                                       "Timestamp\n2026-11-25T00:00:00.000Z\nTopicArn\n"
                                       "arn:aws:sns:us-east-1:1:t\nType\nNotification\n");
            else
                ASSERT(strstr(sts.data, "SubscribeURL\nhttps://") && strstr(sts.data, "Token\ntk\n"));
            mail_sns_release(&m);
            sign(k, v == 1 ? EVP_sha1() : EVP_sha256(), sts.data, "", sig, sizeof sig);
            ff_buf_release(&sts);
            sns_doc(doc, sizeof doc, types[t], v == 1 ? "1" : "2", sig, "{\\\"a\\\":1}");
            ASSERT_OK(mail_sns_parse(doc, strlen(doc), &m, err, sizeof err));
            ASSERT_OK(mail_sns_verify(&m, pk));
            mail_sns_release(&m);
            /* the same signature over another message, or the other version */
            sns_doc(doc, sizeof doc, types[t], v == 1 ? "1" : "2", sig, "{\\\"a\\\":2}");
            ASSERT_OK(mail_sns_parse(doc, strlen(doc), &m, err, sizeof err));
            ASSERT_EQ(mail_sns_verify(&m, pk), FF_EAUTH);
            mail_sns_release(&m);
            sns_doc(doc, sizeof doc, types[t], v == 1 ? "2" : "1", sig, "{\\\"a\\\":1}");
            ASSERT_OK(mail_sns_parse(doc, strlen(doc), &m, err, sizeof err));
            ASSERT_EQ(mail_sns_verify(&m, pk), FF_EAUTH);
            mail_sns_release(&m);
        }
    mail_pubkey_free(pk);
    EVP_PKEY_free(k);
    ASSERT_EQ(mail_pubkey_from_cert_pem("junk", 4, &pk), FF_EINVAL);
    ASSERT_EQ(mail_pubkey_from_cert_pem("", 0, &pk), FF_EINVAL);
}

TEST(sns_parse_hostile)
{
    struct mail_sns m;
    char doc[4096];
    const char *bad[] = {"", "[]", "{", "{}", "{\"Type\":\"Notification\"}",
                         "{\"Type\":\"Other\",\"SignatureVersion\":\"1\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ASSERT_EQ(mail_sns_parse(bad[i], strlen(bad[i]), &m, err, sizeof err), FF_EINVAL);
    sns_doc(doc, sizeof doc, "Notification", "3", "x", "m");
    ASSERT_EQ(mail_sns_parse(doc, strlen(doc), &m, err, sizeof err), FF_EINVAL);
    sns_doc(doc, sizeof doc, "Notification", "1", "x", "m");
    for (size_t n = 0; n < strlen(doc); n++)
        ASSERT_EQ(mail_sns_parse(doc, n, &m, err, sizeof err), FF_EINVAL);
    ASSERT_OK(mail_sns_parse(doc, strlen(doc), &m, err, sizeof err));
    mail_sns_release(&m);
    /* duplicate keys (a second Message the signature did not cover) */
    const char *dup = "{\"Type\":\"Notification\",\"Message\":\"a\",\"Message\":\"b\"}";
    ASSERT_EQ(mail_sns_parse(dup, strlen(dup), &m, err, sizeof err), FF_EINVAL);
    /* a non-string field */
    const char *num = "{\"Type\":\"Notification\",\"MessageId\":1,\"TopicArn\":\"t\",\"Message\":"
                      "\"m\",\"Timestamp\":\"t\",\"SignatureVersion\":\"1\",\"Signature\":\"s\","
                      "\"SigningCertURL\":\"u\"}";
    ASSERT_EQ(mail_sns_parse(num, strlen(num), &m, err, sizeof err), FF_EINVAL);
}

TEST(ses_messages)
{
    struct mail_events ev;
    const char *perm = "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
                       "\"bouncedRecipients\":[{\"emailAddress\":\"X@y.test\"},{\"emailAddress\":"
                       "\"bad\"},{}]}}";
    ASSERT_OK(mail_ses_parse(perm, strlen(perm), "m-1", &ev, err, sizeof err));
    ASSERT_EQ(ev.n, 1);
    ASSERT_STREQ(ev.v[0].email, "x@y.test");
    ASSERT_STREQ(ev.v[0].id, "m-1/0");
    ASSERT_EQ(ev.v[0].reason, MAIL_R_BOUNCE);
    ASSERT_EQ(ev.ignored, 2);
    mail_events_release(&ev);
    const char *trans = "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Transient\","
                        "\"bouncedRecipients\":[{\"emailAddress\":\"x@y.test\"}]}}";
    ASSERT_OK(mail_ses_parse(trans, strlen(trans), "m-2", &ev, err, sizeof err));
    ASSERT_EQ(ev.n, 0);
    mail_events_release(&ev);
    const char *compl = "{\"notificationType\":\"Complaint\",\"complaint\":{\"complainedRecipients\":"
                        "[{\"emailAddress\":\"c@y.test\"}]}}";
    ASSERT_OK(mail_ses_parse(compl, strlen(compl), "m-3", &ev, err, sizeof err));
    ASSERT_EQ(ev.n, 1);
    ASSERT_EQ(ev.v[0].reason, MAIL_R_COMPLAINT);
    mail_events_release(&ev);
    const char *bad[] = {"", "[]", "{", "\"x\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ASSERT_EQ(mail_ses_parse(bad[i], strlen(bad[i]), "m", &ev, err, sizeof err), FF_EINVAL);
    const char *odd = "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
                      "\"bouncedRecipients\":{\"emailAddress\":\"x@y.test\"}}}";
    ASSERT_OK(mail_ses_parse(odd, strlen(odd), "m", &ev, err, sizeof err));
    ASSERT_EQ(ev.n, 0);
    mail_events_release(&ev);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(sendgrid_parse);
    RUN(sendgrid_signature);
    RUN(sns_urls);
    RUN(sns_signature);
    RUN(sns_parse_hostile);
    RUN(ses_messages);
    return TEST_REPORT();
}
