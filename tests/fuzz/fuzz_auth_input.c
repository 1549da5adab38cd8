/* fuzz_auth_input.c - the accounts parsers of untrusted text: Cookie headers
 * (http_cookie), Authorization (http_bearer), email normalisation, the
 * password policy and RATE/BURST policies. The first byte picks the parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "accounts/acc_int.h"
#include "accounts/ratelimit.h"
#include "core/alloc.h"
#include "http/auth.h"

static void cookies(const char *s, size_t n)
{
    struct ff_arena *a = ff_arena_new(0);
    char *v = a ? ff_arena_strndup(a, s, n) : NULL;
    if (!v) {
        ff_arena_free(a);
        return;
    }
    struct http_kv h[2] = {{"Cookie", v}, {"Authorization", v}};
    struct http_req req = {.arena = a, .headers = h, .nheaders = 2};
    static const char *names[] = {"ff_access", "ff_refresh", "ff_csrf", "ff_anon", "a", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *c = http_cookie(&req, names[i]);
        if (c && (strlen(c) > n || strchr(c, ';')))
            __builtin_trap();
    }
    const char *b = http_bearer(&req);
    if (b && (b < v || b > v + n || !*b))
        __builtin_trap();
    const struct http_principal *p = http_principal(&req);
    if (p->anon_id && (strlen(p->anon_id) < 22 || strlen(p->anon_id) > 64))
        __builtin_trap();
    ff_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *z = ff_malloc(n + 1);
    if (!z)
        return 0;
    memcpy(z, s, n);
    z[n] = '\0';
    switch (data[0] % 4) {
    case 0:
        cookies(z, strlen(z));
        break;
    case 1: {
        char out[ACC_EMAIL_MAX + 1];
        if (!acc__email_norm(s, n, out)) {
            size_t l = strlen(out);
            if (l > ACC_EMAIL_MAX || !strchr(out, '@') || strchr(out, ' '))
                __builtin_trap();
            char again[ACC_EMAIL_MAX + 1]; /* idempotent */
            if (acc__email_norm(out, l, again) || strcmp(out, again))
                __builtin_trap();
            char m[ACC_EMAIL_MAX + 8];
            acc__email_mask(out, m, sizeof m);
        }
        break;
    }
    case 2:
        if (!acc__pw_weak(s, n, n > 3 ? "abc@example.com" : NULL) &&
            (n < ACC_PW_MIN || n > ACC_PW_MAX || memchr(s, 0, n)))
            __builtin_trap();
        break;
    default: {
        struct rl_policy p = {"f", 0, 0};
        bool off;
        if (!rl_policy_parse(z, 1, &p, &off) && !off && (p.rate <= 0 || p.burst < 1))
            __builtin_trap();
        break;
    }
    }
    ff_free(z);
    return 0;
}
