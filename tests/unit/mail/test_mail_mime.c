/* test_mail_mime.c - addresses, encodings, the message builder, and that no
 * user-supplied value can inject a header. */
#include <sodium.h>
#include <string.h>

#include "core/buf.h"
#include "harness.h"
#include "mail/mail_mime.h"
#include "mail/mail_token.h"

static char err[256];

TEST(addresses)
{
    const char *good[] = {"a@b.c", "first.last+tag@example.co.uk", "x_y-z@localhost",
                          "o'brien@example.com", "a!#$%&'*+/=?^_`{|}~-@x.y"};
    const char *bad[] = {"", "a", "@b.c", "a@", "a@@b.c", "a@b@c", ".a@b.c", "a.@b.c",
                         "a..b@c.d", "a@-b.c", "a@b-.c", "a@b..c", "a@.b", "a@b.", "a b@c.d",
                         "a@b c.d", "\"a\"@b.c", "a@b.c\r\nBcc: x@y", "a@b.c\n", "a\x01@b.c",
                         "<a@b.c>", "a@b_c.d", "é@b.c", "a@b,c@d.e"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!mail_addr_valid(good[i]))
            TEST_FAIL("should accept %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (mail_addr_valid(bad[i]))
            TEST_FAIL("should refuse %s", bad[i]);
    char local[70];
    memset(local, 'a', 65);
    strcpy(local + 65, "@b.c");
    ASSERT(!mail_addr_valid(local));
    char out[MAIL_ADDR_MAX + 1];
    ASSERT_OK(mail_addr_normalize("Ada.L@Example.COM", out, sizeof out));
    ASSERT_STREQ(out, "ada.l@example.com");
    char name[64], addr[MAIL_ADDR_MAX + 1];
    ASSERT_OK(mail_mailbox_parse("framefit shop <no-reply@x.test>", name, sizeof name, addr,
                                 sizeof addr));
    ASSERT_STREQ(name, "framefit shop");
    ASSERT_STREQ(addr, "no-reply@x.test");
    ASSERT_OK(mail_mailbox_parse("a@b.c", name, sizeof name, addr, sizeof addr));
    ASSERT_STREQ(name, "");
    ASSERT_EQ(mail_mailbox_parse("x <a@b.c", name, sizeof name, addr, sizeof addr), FF_EINVAL);
    ASSERT_EQ(mail_mailbox_parse("x\r\n <a@b.c>", name, sizeof name, addr, sizeof addr), FF_EINVAL);
    ASSERT_EQ(mail_mailbox_parse("\"x\" <a@b.c>", name, sizeof name, addr, sizeof addr), FF_EINVAL);
    ASSERT_EQ(mail_mailbox_parse("x <a@b.c> <c@d.e>", name, sizeof name, addr, sizeof addr),
              FF_EINVAL);
}

/* Decodes quoted-printable (for checking round trips). */
static size_t qp_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n) {
            char h[3] = {s[i + 1], s[i + 2], 0};
            out[o++] = (char)strtol(h, NULL, 16);
            i += 2;
        } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            out[o++] = '\n';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return o;
}

static void check_lines(const char *s, size_t n, size_t max)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            ASSERT(i > 0 && s[i - 1] == '\r');
            col = 0;
        } else if (s[i] != '\r' && ++col > max) {
            TEST_FAIL("line longer than %zu at byte %zu", max, i);
        }
    }
}

TEST(quoted_printable)
{
    const char *in[] = {"", "plain", "tab\tand space at end \nnext", "=equals=", ".dot start\n.x",
                        "x\r\ny", "ümlaut and € and 🙂",
                        "a very long line that goes on and on and on and on and on and on and on "
                        "and on and on and on and on and on and on and ends here.",
                        "=================================================================="
                        "=================="};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        struct ff_buf b;
        ff_buf_init(&b, 1 << 16);
        ASSERT_OK(mail_qp_encode(in[i], strlen(in[i]), &b));
        check_lines(b.data ? b.data : "", b.len, 76);
        char dec[1024];
        qp_decode(b.data ? b.data : "", b.len, dec);
        char want[1024];
        size_t w = 0;
        for (const char *p = in[i]; *p; p++)
            if (!(*p == '\r' && p[1] == '\n'))
                want[w++] = *p;
        want[w] = 0;
        ASSERT_STREQ(dec, want);
        for (size_t k = 0; k < b.len; k++) /* no bare dot or space at a line start/end */
            if (b.data[k] == '\n' && k + 1 < b.len)
                ASSERT(b.data[k + 1] != '.');
        ff_buf_release(&b);
    }
}

static struct mail_mime base(void)
{
    return (struct mail_mime){.from = "Shop <shop@x.test>", .to = "ada@example.com",
                              .subject = "Hello", .text = "hi\n", .html = "<p>hi</p>\n",
                              .message_id = "<ff.1.abc@x.test>", .date_ms = 1700000000000,
                              .unsub_url = "https://x.test/api/v1/email/unsubscribe?t=abc.def",
                              .unsub_mailto = "unsub@x.test"};
}

TEST(message_shape)
{
    struct mail_mime m = base();
    struct ff_buf b;
    ff_buf_init(&b, 1 << 20);
    ASSERT_OK(mail_mime_build(&m, &b, err, sizeof err));
    const char *s = b.data;
    ASSERT(strstr(s, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
    ASSERT(strstr(s, "\r\nFrom: \"Shop\" <shop@x.test>\r\n"));
    ASSERT(strstr(s, "\r\nTo: <ada@example.com>\r\n"));
    ASSERT(strstr(s, "\r\nSubject: Hello\r\n"));
    ASSERT(strstr(s, "\r\nMessage-ID: <ff.1.abc@x.test>\r\n"));
    ASSERT(strstr(s, "\r\nMIME-Version: 1.0\r\n"));
    ASSERT(strstr(s, "\r\nList-Unsubscribe: <https://x.test/api/v1/email/unsubscribe?t=abc.def>,"
                     "\r\n <mailto:unsub@x.test?subject=unsubscribe>\r\n"));
    ASSERT(strstr(s, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    ASSERT(strstr(s, "multipart/alternative; boundary=\"=_ff_"));
    ASSERT(strstr(s, "Content-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\nhi\r\n"));
    ASSERT(strstr(s, "Content-Type: text/html; charset=UTF-8\r\n"));
    check_lines(s, b.len, 998);
    ff_buf_release(&b);
    /* essential mail: no unsubscribe headers */
    m.unsub_url = m.unsub_mailto = NULL;
    ASSERT_OK(mail_mime_build(&m, &b, err, sizeof err));
    ASSERT(!strstr(b.data, "List-Unsubscribe"));
    ff_buf_release(&b);
    /* non-ASCII subject and name: RFC 2047 encoded words, folded */
    m.subject = "Grüße aus Zürich — eine sehr lange Betreffzeile, die umbrochen werden muss, "
                "weil sie über 76 Zeichen lang ist 🙂";
    m.from = "Brillen Müller <shop@x.test>";
    ASSERT_OK(mail_mime_build(&m, &b, err, sizeof err));
    ASSERT(strstr(b.data, "Subject: =?UTF-8?B?"));
    ASSERT(strstr(b.data, "?=\r\n =?UTF-8?B?"));
    ASSERT(strstr(b.data, "From: =?UTF-8?B?"));
    check_lines(b.data, b.len, 78);
    /* the words decode back to the subject */
    const char *p = strstr(b.data, "Subject: ") + 9;
    char dec[512] = "";
    size_t dn = 0;
    while (!strncmp(p, "=?UTF-8?B?", 10)) {
        const char *q = strstr(p + 10, "?=");
        size_t got;
        ASSERT_OK(sodium_base642bin((unsigned char *)dec + dn, sizeof dec - dn - 1, p + 10,
                                    (size_t)(q - p - 10), NULL, &got, NULL,
                                    sodium_base64_VARIANT_ORIGINAL));
        dn += got;
        p = q + 2;
        if (!strncmp(p, "\r\n ", 3))
            p += 3;
    }
    dec[dn] = 0;
    ASSERT_STREQ(dec, m.subject);
    ff_buf_release(&b);
    /* "=?" in an ASCII subject is encoded too (no accidental encoded words) */
    m.subject = "=?UTF-8?B?Zm9v?=";
    ASSERT_OK(mail_mime_build(&m, &b, err, sizeof err));
    ASSERT(!strstr(b.data, "Subject: =?UTF-8?B?Zm9v?=\r\n"));
    ff_buf_release(&b);
}

/* Every header value, with CR, LF, CRLF, NUL-free controls: the build fails
 * and leaves the buffer as it was. */
TEST(header_injection_impossible)
{
    const char *evil[] = {"\r\nBcc: victim@x.test", "\nBcc: victim@x.test", "\rX: y", "\x01",
                          "\x7f", "a\r\n\r\n<html>"};
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
        for (int field = 0; field < 6; field++) {
            char v[256];
            struct mail_mime m = base();
            switch (field) {
            case 0: snprintf(v, sizeof v, "Shop%s <shop@x.test>", evil[i]); m.from = v; break;
            case 1: snprintf(v, sizeof v, "ada@example.com%s", evil[i]); m.to = v; break;
            case 2: snprintf(v, sizeof v, "Hello%s", evil[i]); m.subject = v; break;
            case 3: snprintf(v, sizeof v, "<ff.1%s@x.test>", evil[i]); m.message_id = v; break;
            case 4: snprintf(v, sizeof v, "https://x.test/u?t=a%s", evil[i]); m.unsub_url = v; break;
            case 5: snprintf(v, sizeof v, "unsub@x.test%s", evil[i]); m.unsub_mailto = v; break;
            }
            struct ff_buf b;
            ff_buf_init(&b, 1 << 20);
            ASSERT_OK(ff_buf_appends(&b, "KEEP"));
            if (mail_mime_build(&m, &b, err, sizeof err) != FF_EINVAL)
                TEST_FAIL("field %d accepted %s", field, evil[i]);
            ASSERT_EQ(b.len, 4);
            ASSERT_STREQ(b.data, "KEEP");
            ff_buf_release(&b);
        }
    }
    /* bodies may hold anything: they are encoded, never header text */
    struct mail_mime m = base();
    m.text = "line\r\n\r\n--=_ff_x\r\nBcc: a@b.c\r\n.\r\n";
    struct ff_buf b;
    ff_buf_init(&b, 1 << 20);
    ASSERT_OK(mail_mime_build(&m, &b, err, sizeof err));
    char *body = strstr(b.data, "\r\n\r\n");
    ASSERT(body && !strstr(body, "\r\n.\r\n"));
    *body = 0; /* the header section has no Bcc */
    ASSERT(!strstr(b.data, "Bcc"));
    *body = '\r';
    ASSERT(!strstr(b.data, "\r\n--=_ff_x"));
    ff_buf_release(&b);
    /* invalid UTF-8 in a body is refused */
    m.html = "\xc3(";
    ff_buf_init(&b, 1 << 20);
    ASSERT_EQ(mail_mime_build(&m, &b, err, sizeof err), FF_EINVAL);
    ff_buf_release(&b);
    /* a javascript: or non-http List-Unsubscribe is refused */
    m = base();
    m.unsub_url = "javascript:alert(1)";
    ASSERT_EQ(mail_mime_build(&m, &b, err, sizeof err), FF_EINVAL);
    ff_buf_release(&b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(addresses);
    RUN(quoted_printable);
    RUN(message_shape);
    RUN(header_injection_impossible);
    return TEST_REPORT();
}
