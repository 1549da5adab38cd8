/* stripe_sig.c - Stripe-Signature verification (see stripe.h). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/str.h"
#include "payments/stripe.h"

static void sign(const void *payload, size_t len, const char *secret, const char *ts,
                 unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, payload, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

void stripe_sig_header(const void *payload, size_t len, const char *secret, int64_t t,
                       char *out, size_t outlen)
{
    char ts[24], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    snprintf(ts, sizeof ts, "%lld", (long long)t);
    sign(payload, len, secret, ts, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, outlen, "t=%s,v1=%s", ts, hex);
}

/* Lowercase hex of exactly 64 digits into 32 bytes; 0 on anything else. */
static int unhex32(struct ff_str h, unsigned char out[32])
{
    if (h.len != 64)
        return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = h.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    size_t n = 0;
    return sodium_hex2bin(out, 32, h.ptr, 64, NULL, &n, NULL) == 0 && n == 32;
}

enum ff_err stripe_sig_verify(const char *header, const void *payload, size_t len,
                              const char *secret, int64_t now_s, int tolerance_s,
                              int64_t *t_out, char *why, size_t whylen)
{
    if (!header || !*header) {
        ff_errbuf(why, whylen, "no Stripe-Signature header");
        return FF_EINVAL;
    }
    if (!secret || !*secret) {
        ff_errbuf(why, whylen, "no webhook secret configured");
        return FF_EAUTH;
    }
    size_t hlen = strlen(header);
    if (hlen > STRIPE_SIG_HEADER_MAX) {
        ff_errbuf(why, whylen, "Stripe-Signature header too long");
        return FF_EINVAL;
    }
    /* first pass: the timestamp (exactly one t=) */
    int64_t t = -1;
    int nt = 0, nv1 = 0;
    char ts[24] = "";
    struct ff_str rest = {header, hlen};
    while (rest.len) {
        const char *comma = memchr(rest.ptr, ',', rest.len);
        struct ff_str item = {rest.ptr, comma ? (size_t)(comma - rest.ptr) : rest.len};
        rest = comma ? (struct ff_str){comma + 1, rest.len - item.len - 1} : (struct ff_str){"", 0};
        item = ff_str_trim(item);
        if (ff_str_starts_with(item, "t=")) {
            struct ff_str v = {item.ptr + 2, item.len - 2};
            if (++nt > 1 || v.len == 0 || v.len >= sizeof ts ||
                ff_parse_i64(v, 0, INT64_MAX / 2, &t)) {
                ff_errbuf(why, whylen, "Stripe-Signature: bad or repeated timestamp");
                return FF_EINVAL;
            }
            memcpy(ts, v.ptr, v.len);
            ts[v.len] = '\0';
        } else if (ff_str_starts_with(item, "v1=")) {
            nv1++;
        } else if (!memchr(item.ptr, '=', item.len)) {
            ff_errbuf(why, whylen, "Stripe-Signature: malformed element");
            return FF_EINVAL;
        } /* other schemes (v0, ...) are ignored, as Stripe's libraries do */
    }
    if (nt != 1) {
        ff_errbuf(why, whylen, "Stripe-Signature: no timestamp");
        return FF_EINVAL;
    }
    if (nv1 == 0) {
        ff_errbuf(why, whylen, "Stripe-Signature: no v1 signature");
        return FF_EAUTH;
    }
    unsigned char want[32], got[32];
    sign(payload, len, secret, ts, want);
    int match = 0;
    rest = (struct ff_str){header, hlen};
    while (rest.len) {
        const char *comma = memchr(rest.ptr, ',', rest.len);
        struct ff_str item = {rest.ptr, comma ? (size_t)(comma - rest.ptr) : rest.len};
        rest = comma ? (struct ff_str){comma + 1, rest.len - item.len - 1} : (struct ff_str){"", 0};
        item = ff_str_trim(item);
        if (!ff_str_starts_with(item, "v1="))
            continue;
        if (unhex32((struct ff_str){item.ptr + 3, item.len - 3}, got))
            match |= sodium_memcmp(got, want, sizeof want) == 0; /* check every one */
    }
    sodium_memzero(want, sizeof want);
    if (!match) {
        ff_errbuf(why, whylen, "Stripe-Signature: no v1 signature matches");
        return FF_EAUTH;
    }
    int64_t skew = now_s > t ? now_s - t : t - now_s;
    if (skew > tolerance_s) {
        ff_errbuf(why, whylen, "Stripe-Signature: timestamp outside the %d s tolerance",
                  tolerance_s);
        return FF_EAUTH;
    }
    if (t_out)
        *t_out = t;
    return FF_OK;
}
