/* mail_hooks.h - bounce and complaint webhooks: parsers and signature checks.
 *
 * SendGrid Event Webhook: a JSON array of events, signed with ECDSA P-256
 * over timestamp + raw body (X-Twilio-Email-Event-Webhook-Signature /
 * -Timestamp headers; the account's public key is base64 DER
 * SubjectPublicKeyInfo). Amazon SES via SNS: a JSON envelope signed with RSA
 * (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA) by the certificate at
 * SigningCertURL, which must be https://sns.<region>.amazonaws.com/....pem.
 *
 * Verification uses OpenSSL's libcrypto (libsodium has no P-256 or RSA). The
 * parsers never touch the database: they turn input into a list of
 * suppression events the caller applies. */
#ifndef FF_MAIL_MAIL_HOOKS_H
#define FF_MAIL_MAIL_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "mail/mail_mime.h"

enum mail_reason { MAIL_R_UNSUBSCRIBE = 1, MAIL_R_BOUNCE, MAIL_R_COMPLAINT };
/* "unsubscribe", "bounce", "complaint"; NULL for others. */
const char *mail_reason_name(enum mail_reason r);

struct mail_event {
    char email[MAIL_ADDR_MAX + 1]; /* normalised (lower case) */
    enum mail_reason reason;
    char id[160];                  /* provider event id, for deduplication */
    char detail[160];              /* e.g. the event name or bounce subtype */
};

struct mail_events {
    struct mail_event *v;          /* ff_malloc'd; mail_events_release */
    size_t n, cap;
    size_t ignored;                /* events that feed no suppression or were unusable */
};
void mail_events_release(struct mail_events *ev);

#define MAIL_HOOK_MAX_EVENTS 10000

/* Parses a SendGrid Event Webhook body. bounce (type "bounce", not
 * "blocked"), dropped -> bounce; spamreport -> complaint; unsubscribe,
 * group_unsubscribe -> unsubscribe; other events are counted as ignored,
 * as are items without a valid email or sg_event_id. FF_EINVAL (reason in err)
 * when the body is not a JSON array of at most MAIL_HOOK_MAX_EVENTS items. */
enum ff_err mail_sg_parse(const char *body, size_t len, struct mail_events *out, char *err,
                          size_t errlen) FF_MUST_CHECK;

/* An opaque verification key. */
struct mail_pubkey;
/* Parses base64 DER SubjectPublicKeyInfo (an EC P-256 key). FF_EINVAL when bad. */
enum ff_err mail_pubkey_from_b64_der(const char *b64, struct mail_pubkey **out) FF_MUST_CHECK;
/* Parses a PEM X.509 certificate and takes its public key (RSA). */
enum ff_err mail_pubkey_from_cert_pem(const char *pem, size_t len,
                                      struct mail_pubkey **out) FF_MUST_CHECK;
void mail_pubkey_free(struct mail_pubkey *k);

/* Verifies SendGrid's signature: sig_b64 (base64 DER ECDSA) over
 * timestamp + body with SHA-256. FF_OK, or FF_EAUTH when it does not verify
 * or is malformed. */
enum ff_err mail_sg_verify(const struct mail_pubkey *k, const char *sig_b64,
                           const char *timestamp, const char *body, size_t len) FF_MUST_CHECK;

/* The parsed SNS envelope; the strings point into memory owned by it. */
struct mail_sns {
    const char *type, *message_id, *topic_arn, *subject, *message, *timestamp;
    const char *signature_version, *signature, *signing_cert_url, *subscribe_url, *token;
    void *json_;               /* the parsed document (private) */
};
/* Parses an SNS POST body: Type must be Notification, SubscriptionConfirmation
 * or UnsubscribeConfirmation, SignatureVersion "1" or "2", and every field the
 * string to sign needs must be a string. FF_EINVAL (reason in err) otherwise.
 * Release with mail_sns_release. */
enum ff_err mail_sns_parse(const char *body, size_t len, struct mail_sns *out, char *err,
                           size_t errlen) FF_MUST_CHECK;
void mail_sns_release(struct mail_sns *m);

/* 1 when url is https://sns.<region>.amazonaws.com/<path>.pem with no user
 * info, port, query or fragment, region [a-z0-9-], path [A-Za-z0-9._/-]. */
int mail_sns_url_ok(const char *url);

/* 1 when url is https://sns.<region>.amazonaws.com/<printable ASCII> with no
 * user info, port or fragment (for SubscribeURL, which carries a query). */
int mail_sns_subscribe_url_ok(const char *url);

/* Appends the SNS string to sign for m's Type. */
enum ff_err mail_sns_string_to_sign(const struct mail_sns *m,
                                    struct ff_buf *out) FF_MUST_CHECK;

/* Verifies m's Signature with the signing certificate's key. FF_EAUTH when
 * it does not verify. */
enum ff_err mail_sns_verify(const struct mail_sns *m, const struct mail_pubkey *k) FF_MUST_CHECK;

/* Parses the SES notification in an SNS Message: a Bounce with bounceType
 * Permanent -> bounce for each bouncedRecipients[].emailAddress; a Complaint
 * -> complaint for each complainedRecipients[]. Other types are ignored.
 * Event ids are "<sns_id>/<n>". FF_EINVAL when msg is not a JSON object. */
enum ff_err mail_ses_parse(const char *msg, size_t len, const char *sns_id,
                           struct mail_events *out, char *err, size_t errlen) FF_MUST_CHECK;

#endif
