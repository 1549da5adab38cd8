/* mail_token.c - unsubscribe tokens (see mail_token.h). */
#include "mail/mail_token.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/secret.h"

#define PAYLOAD_MAX (2 + MAIL_LIST_MAX + 1 + MAIL_ADDR_MAX)

static bool list_ok(const char *l, size_t n)
{
    if (n == 0 || n > MAIL_LIST_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') || l[i] == '-'))
            return false;
    return true;
}

enum ff_err mail_token_make(const struct ff_secret *s, const char *email, const char *list,
                            char *out, size_t outlen)
{
    char payload[PAYLOAD_MAX + 1];
    if (!mail_addr_valid(email) || !list || !list_ok(list, strlen(list)))
        return FF_EINVAL;
    int n = snprintf(payload, sizeof payload, "1\n%s\n%s", list, email);
    if (n < 0 || (size_t)n >= sizeof payload)
        return FF_EINVAL;
    unsigned char mac[FF_SECRET_MAC_BYTES];
    ff_secret_mac(s, "unsubscr", payload, (size_t)n, mac);
    size_t need = sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) +
                  sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (need > outlen || need > MAIL_TOKEN_MAX)
        return FF_EINVAL;
    sodium_bin2base64(out, outlen, (const unsigned char *)payload, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t l = strlen(out);
    out[l++] = '.';
    sodium_bin2base64(out + l, outlen - l, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return FF_OK;
}

enum ff_err mail_token_check(const struct ff_secret *s, const char *token, char *email,
                             char *list)
{
    size_t n = token ? strnlen(token, MAIL_TOKEN_MAX + 1) : 0;
    if (n == 0 || n > MAIL_TOKEN_MAX)
        return FF_EINVAL;
    const char *dot = memchr(token, '.', n);
    if (!dot || memchr(dot + 1, '.', n - (size_t)(dot + 1 - token)))
        return FF_EINVAL;
    unsigned char payload[PAYLOAD_MAX + 1], mac[FF_SECRET_MAC_BYTES + 1];
    size_t plen = 0, mlen = 0;
    const char *end;
    if (sodium_base642bin(payload, PAYLOAD_MAX, token, (size_t)(dot - token), NULL, &plen, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        end != dot ||
        sodium_base642bin(mac, sizeof mac, dot + 1, n - (size_t)(dot + 1 - token), NULL, &mlen,
                          &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        end != token + n || mlen != FF_SECRET_MAC_BYTES)
        return FF_EINVAL;
    if (!ff_secret_mac_ok(s, "unsubscr", payload, plen, mac))
        return FF_EFORBIDDEN;
    /* Only our own payloads get here; parse them strictly all the same. */
    payload[plen] = 0;
    if (plen < 2 || memcmp(payload, "1\n", 2))
        return FF_EINVAL;
    const char *l = (const char *)payload + 2;
    const char *nl = strchr(l, '\n');
    if (!nl || !list_ok(l, (size_t)(nl - l)) || !mail_addr_valid(nl + 1) ||
        strlen((const char *)payload) != plen)
        return FF_EINVAL;
    memcpy(list, l, (size_t)(nl - l));
    list[nl - l] = 0;
    snprintf(email, MAIL_ADDR_MAX + 1, "%s", nl + 1);
    return FF_OK;
}
