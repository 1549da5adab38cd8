/* fuzz_mail_hooks.c - the webhook parsers: the input is tried as a SendGrid
 * event array, an SNS envelope (with its string to sign and URL checks) and an
 * SES notification. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "mail/mail_hooks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char err[256];
    struct mail_events ev;
    if (mail_sg_parse(s, size, &ev, err, sizeof err) == FF_OK) {
        for (size_t i = 0; i < ev.n; i++)
            if (!mail_addr_valid(ev.v[i].email) || !ev.v[i].id[0] || !mail_reason_name(ev.v[i].reason))
                __builtin_trap();
        mail_events_release(&ev);
    }
    struct mail_sns m;
    if (mail_sns_parse(s, size, &m, err, sizeof err) == FF_OK) {
        struct ff_buf b;
        ff_buf_init(&b, 1 << 22);
        if (mail_sns_string_to_sign(&m, &b) == FF_OK && b.len && b.data[b.len - 1] != '\n')
            __builtin_trap();
        ff_buf_release(&b);
        (void)mail_sns_url_ok(m.signing_cert_url);
        if (m.subscribe_url)
            (void)mail_sns_subscribe_url_ok(m.subscribe_url);
        mail_sns_release(&m);
    }
    if (mail_ses_parse(s, size, "fz", &ev, err, sizeof err) == FF_OK) {
        for (size_t i = 0; i < ev.n; i++)
            if (!mail_addr_valid(ev.v[i].email))
                __builtin_trap();
        mail_events_release(&ev);
    }
    /* and as a URL */
    char url[2100];
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, s, n);
    url[n] = 0;
    if (mail_sns_url_ok(url) && (strncmp(url, "https://sns.", 12) || strchr(url, '@') ||
                                 strchr(url, '?') || strchr(url, '#')))
        __builtin_trap();
    return 0;
}
