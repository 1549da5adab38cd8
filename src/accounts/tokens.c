/* tokens.c - random opaque tokens, their stored hashes, CSRF tokens. */
#include <string.h>

#include "accounts/acc_int.h"
#include "core/secret.h"

void acc__token_new(char out[ACC_TOKEN_B64])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, ACC_TOKEN_B64, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

void acc__sid_new(char out[ACC_SID_LEN])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, ACC_SID_LEN, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void acc__token_hash(const char *token, char out[ACC_HASH_HEX])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, ACC_HASH_HEX, h, sizeof h);
}

void acc__csrf_for(const struct acc *a, const char *sid, char out[ACC_TOKEN_B64])
{
    unsigned char mac[FF_SECRET_MAC_BYTES];
    ff_secret_mac(a->secret, "csrf-tok", sid, strlen(sid), mac);
    sodium_bin2base64(out, ACC_TOKEN_B64, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
