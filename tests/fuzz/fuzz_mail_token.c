/* fuzz_mail_token.c - unsubscribe token checking (a fixed key: nothing the
 * fuzzer makes may verify unless it is a real token), and address parsing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/secret.h"
#include "mail/mail_mime.h"
#include "mail/mail_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ff_secret *k;
    if (!k) {
        unsigned char key[FF_SECRET_BYTES] = {42};
        if (ff_secret_from_bytes(&k, key))
            return 0;
    }
    char s[1024];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = 0;
    char email[MAIL_ADDR_MAX + 1], list[MAIL_LIST_MAX + 1];
    enum ff_err e = mail_token_check(k, s, email, list);
    if (e == FF_OK) {
        char again[MAIL_TOKEN_MAX];
        if (!mail_addr_valid(email) || mail_token_make(k, email, list, again, sizeof again) ||
            strcmp(again, s))
            __builtin_trap();
    }
    char name[256], addr[MAIL_ADDR_MAX + 1];
    if (mail_mailbox_parse(s, name, sizeof name, addr, sizeof addr) == FF_OK &&
        (!mail_addr_valid(addr) || strpbrk(name, "\r\n<>\"")))
        __builtin_trap();
    return 0;
}
