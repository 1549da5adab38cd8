/* stripe_form.c - application/x-www-form-urlencoded bodies for Stripe. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "payments/stripe.h"

void stripe_form_init(struct stripe_form *f)
{
    ff_buf_init(&f->buf, STRIPE_FORM_MAX);
}

void stripe_form_release(struct stripe_form *f)
{
    ff_buf_release(&f->buf);
}

/* Percent-encodes s onto b (RFC 3986 unreserved kept; space as %20). */
static enum ff_err encode(struct ff_buf *b, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char t[3];
        size_t n = 1;
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            t[0] = (char)*p;
        } else {
            t[0] = '%';
            t[1] = hexd[*p >> 4];
            t[2] = hexd[*p & 15];
            n = 3;
        }
        enum ff_err e = ff_buf_append(b, t, n);
        if (e)
            return e;
    }
    return FF_OK;
}

enum ff_err stripe_form_add(struct stripe_form *f, const char *key, const char *value)
{
    if (!key || !*key || !value)
        return FF_EINVAL;
    size_t mark = f->buf.len;
    enum ff_err e = FF_OK;
    if (f->buf.len)
        e = ff_buf_append(&f->buf, "&", 1);
    if (!e)
        e = encode(&f->buf, key);
    if (!e)
        e = ff_buf_append(&f->buf, "=", 1);
    if (!e)
        e = encode(&f->buf, value);
    if (e && f->buf.data) { /* all or nothing */
        f->buf.len = mark;
        f->buf.data[mark] = '\0';
    }
    return e;
}

enum ff_err stripe_form_addi(struct stripe_form *f, const char *key, int64_t value)
{
    char v[24];
    snprintf(v, sizeof v, "%" PRId64, value);
    return stripe_form_add(f, key, v);
}
