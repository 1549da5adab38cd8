/* stripe.h - Stripe's wire protocol: webhook signatures, form-encoded
 * requests and an API client with safe retries.
 *
 * Nothing here knows about orders: the orders part decides what to create and
 * how to apply events. Facts from /work/shared/docs/integrations.md and
 * Stripe's API reference:
 *
 *   - requests are application/x-www-form-urlencoded, nested keys in brackets
 *     (metadata[order_id]=42, items[0][price]=price_1), Authorization: Bearer
 *     sk_..., Stripe-Version, and an Idempotency-Key on every POST that creates;
 *   - errors are JSON {"error": {"type", "code", "message", "param"}}; 429, 409
 *     (lock/idempotency) and 5xx may be retried with the same idempotency key,
 *     and the Stripe-Should-Retry header, when present, overrides the status;
 *   - webhooks carry Stripe-Signature: t=TS,v1=HEX[,v1=HEX...] where HEX is
 *     HMAC-SHA256(endpoint secret, "TS.payload"), lowercase hex.
 */
#ifndef FF_PAYMENTS_STRIPE_H
#define FF_PAYMENTS_STRIPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* ---- webhook signatures ---------------------------------------------------- */

#define STRIPE_SIG_TOLERANCE_S 300
#define STRIPE_SIG_HEADER_MAX 4096 /* longer Stripe-Signature headers are refused */

/* Verifies a Stripe-Signature header over the raw payload with the endpoint
 * secret (whsec_...). Accepts when any v1 signature matches (constant-time
 * compare) and |now_s - t| <= tolerance_s. Returns FF_OK, FF_EINVAL for a
 * malformed header (no t, bad number, too long), FF_EAUTH for no matching v1
 * or a timestamp outside the window; why gets a short reason without secrets.
 * On success *t_out (if not NULL) is the signed timestamp. */
enum ff_err stripe_sig_verify(const char *header, const void *payload, size_t len,
                              const char *secret, int64_t now_s, int tolerance_s,
                              int64_t *t_out, char *why, size_t whylen) FF_MUST_CHECK;

/* Builds a valid header "t=T,v1=HEX" for payload (tests and the Stripe
 * stand-in). out must hold at least 96 bytes. */
void stripe_sig_header(const void *payload, size_t len, const char *secret, int64_t t,
                       char *out, size_t outlen);

/* ---- form bodies ------------------------------------------------------------ */

struct stripe_form {
    struct ff_buf buf; /* "k=v&k=v", percent-encoded */
};

#define STRIPE_FORM_MAX (64 * 1024)

void stripe_form_init(struct stripe_form *f);
void stripe_form_release(struct stripe_form *f);
/* Appends key=value, both percent-encoded (key keeps its brackets readable
 * as %5B/%5D, which Stripe accepts; value is UTF-8). */
enum ff_err stripe_form_add(struct stripe_form *f, const char *key, const char *value) FF_MUST_CHECK;
enum ff_err stripe_form_addi(struct stripe_form *f, const char *key, int64_t value) FF_MUST_CHECK;

/* ---- API client ------------------------------------------------------------- */

struct stripe_client_opts {
    const char *base_url;    /* "https://api.stripe.com" or a stand-in; no trailing '/' */
    const char *api_key;     /* sk_...; a secret, never logged */
    const char *api_version; /* Stripe-Version, e.g. "2024-06-20"; NULL = account default */
    int connect_timeout_ms;  /* 0 = 3000 */
    int timeout_ms;          /* whole request; 0 = 10000 */
    int max_retries;         /* retries of safe requests; 0 = none, default 2 */
    int retry_base_ms;       /* first backoff; 0 = 250 (doubles, with jitter, max 4 s) */
};

enum stripe_outcome {
    STRIPE_OK = 0,       /* 2xx: body holds the object */
    STRIPE_DECLINED,     /* Stripe answered with an error the caller must show or
                            handle (4xx other than 409/429): not retried */
    STRIPE_UNAVAILABLE,  /* network failure, timeout, 429 or 5xx after the retries:
                            the request may or may not have happened; retry later
                            with the SAME idempotency key */
};

struct stripe_resp {
    enum stripe_outcome outcome;
    long status;           /* HTTP status of the last attempt, 0 when none */
    int attempts;          /* requests sent (1 + retries) */
    json_t *body;          /* parsed JSON (object) or NULL; owned: stripe_resp_release */
    char request_id[64];   /* Request-Id header of the last answer, "" if none */
    /* for STRIPE_DECLINED (and 4xx/5xx bodies): Stripe's error fields, "" if absent */
    char err_type[48], err_code[64], err_param[64], err_message[256];
    char why[256];         /* one line for logs and problems (no secrets) */
};

struct stripe_client;

enum ff_err stripe_client_new(struct stripe_client **out, const struct stripe_client_opts *o) FF_MUST_CHECK;
void stripe_client_free(struct stripe_client *c);

/* Sends method ("GET", "POST", "DELETE") to path ("/v1/payment_intents"). form
 * may be NULL. idempotency_key: required for POSTs that create (they are then
 * retried on network errors, 409 lock conflicts, 429 and 5xx, honouring
 * Stripe-Should-Retry); a POST without a key is never retried. GETs are
 * retried. Returns FF_OK with resp filled in for every outcome; an error only
 * for local failures (FF_ENOMEM, FF_EINVAL bad arguments). Thread-safe: one
 * client may serve many threads. Release resp with stripe_resp_release. */
enum ff_err stripe_request(struct stripe_client *c, const char *method, const char *path,
                           const struct stripe_form *form, const char *idempotency_key,
                           struct stripe_resp *resp) FF_MUST_CHECK;
void stripe_resp_release(struct stripe_resp *r);

#endif
