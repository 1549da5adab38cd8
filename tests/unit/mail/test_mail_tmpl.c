/* test_mail_tmpl.c - the email template engine: the shipped set loads, values
 * are escaped per part, and malformed templates or variables are clear errors. */
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "mail/mail_tmpl.h"

static char err[512];

static struct mail_tmpl_set *load1(const char *name, const char *text)
{
    struct mail_tmpl_file f[2] = {{name, text, strlen(text)},
                                  {"other.en.tmpl", "vars:\n=== subject\nx\n=== text\n=== html\n", 40}};
    f[1].len = strlen(f[1].data);
    struct mail_tmpl_set *s = NULL;
    err[0] = 0;
    if (mail_tmpl_set_load(f, 2, &s, err, sizeof err))
        return NULL;
    return s;
}

/* Loads name with the given body and expects a load error mentioning `want`. */
#define LOAD_FAILS(name, text, want)                                              \
    do {                                                                          \
        struct mail_tmpl_set *s_ = load1(name, text);                             \
        if (s_) {                                                                 \
            mail_tmpl_set_free(s_);                                               \
            TEST_FAIL("template loaded but should not: %s", text);               \
        }                                                                         \
        if (!strstr(err, want))                                                   \
            TEST_FAIL("error \"%s\" lacks \"%s\"", err, want);                    \
    } while (0)

#define HEAD "vars: name link items items.title flag\n=== subject\nHi {{name}}\n=== text\n"

TEST(shipped_set_loads)
{
    struct mail_tmpl_set *s = NULL;
    if (mail_tmpl_set_load(mail_tmpl_embedded, mail_tmpl_embedded_count, &s, err, sizeof err))
        TEST_FAIL("shipped templates do not load: %s", err);
    const char *names[] = {"test", "account-verify", "password-reset", "security-notice",
                           "order-confirmation", "order-shipped"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ASSERT(mail_tmpl_exists(s, names[i]));
    ASSERT(!mail_tmpl_exists(s, "nope"));
    struct mail_rendered r;
    ASSERT_OK(mail_tmpl_render(s, "security-notice", "en",
                               "{\"name\":\"Ada\",\"new_sign_in\":true,\"password_changed\":false,"
                               "\"ip\":\"192.0.2.1\",\"time\":\"now\",\"device\":\"\","
                               "\"link\":\"https://x.test/s\"}", &r, err, sizeof err));
    ASSERT_STREQ(r.subject, "New sign-in to your framefit account");
    ASSERT(strstr(r.text, "from 192.0.2.1."));
    mail_rendered_release(&r);
    ASSERT_OK(mail_tmpl_render(s, "account-exists", "en",
                               "{\"name\":\"Ada\",\"link\":\"https://x.test/r\",\"ip\":\"::1\","
                               "\"time\":\"now\"}", &r, err, sizeof err));
    mail_rendered_release(&r);
    /* neither flag: the subject renders empty, a clear error */
    ASSERT_EQ(mail_tmpl_render(s, "security-notice", "en",
                               "{\"name\":\"Ada\",\"ip\":\"::1\",\"time\":\"now\",\"device\":\"\","
                               "\"link\":\"https://x.test/s\"}", &r, err, sizeof err), FF_EINVAL);
    ASSERT(strstr(err, "subject is empty"));
    ASSERT_OK(mail_tmpl_render(s, "order-confirmation", "fr",
                               "{\"name\":\"Ada\",\"order_number\":\"A-1\",\"total\":\"9 EUR\","
                               "\"link\":\"https://x.test/o\",\"items\":[{\"title\":\"<Round>\","
                               "\"quantity\":2,\"price\":\"4.50 EUR\"},{\"title\":\"B\","
                               "\"quantity\":1,\"price\":\"0 EUR\"}]}", &r, err, sizeof err));
    ASSERT_STREQ(r.locale, "en");
    ASSERT(strstr(r.text, "- 2 x <Round>: 4.50 EUR\n- 1 x B: 0 EUR\n"));
    ASSERT(strstr(r.html, "<td>&lt;Round&gt;</td>"));
    mail_rendered_release(&r);
    /* the German test template, chosen for de-AT */
    ASSERT_OK(mail_tmpl_render(s, "test", "de-AT", "{\"name\":\"Jürgen\",\"message\":\"m\"}", &r,
                               err, sizeof err));
    ASSERT_STREQ(r.locale, "de");
    ASSERT_STREQ(r.subject, "Testnachricht für Jürgen");
    mail_rendered_release(&r);
    ASSERT_EQ(mail_tmpl_render(s, "nope", "en", "{}", &r, err, sizeof err), FF_ENOTFOUND);
    mail_tmpl_set_free(s);
}

TEST(escaping_per_part)
{
    struct mail_tmpl_set *s = load1("t.en.tmpl", HEAD "T {{name}}|\n=== html\n<p>{{name}}</p>"
                                                        "<a href=\"{{link}}\">x</a>\n");
    ASSERT(s);
    struct mail_rendered r;
    ASSERT_OK(mail_tmpl_render(s, "t", "en",
                               "{\"name\":\"<b>&\\\"'\\r\\nBcc: evil@x\\u0007\",\"link\":"
                               "\"https://a.test/?q=1&r=\\\"2\"}", &r, err, sizeof err));
    /* subject: no CR/LF/control characters survive, no HTML escaping */
    ASSERT_STREQ(r.subject, "Hi <b>&\"'  Bcc: evil@x ");
    ASSERT(!strpbrk(r.subject, "\r\n\a"));
    /* text: no HTML escaping; CR and controls dropped, LF kept */
    ASSERT_STREQ(r.text, "T <b>&\"'\nBcc: evil@x|\n");
    /* html: every special character escaped, also inside the attribute */
    ASSERT(strstr(r.html, "<p>&lt;b&gt;&amp;&quot;&#39;\nBcc: evil@x</p>"));
    ASSERT(strstr(r.html, "href=\"https://a.test/?q=1&amp;r=&quot;2\""));
    mail_rendered_release(&r);
    /* a javascript: link is refused, whatever its case */
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":\"a\",\"link\":\"JavaScript:alert(1)\"}",
                               &r, err, sizeof err), FF_EINVAL);
    ASSERT(strstr(err, "link"));
    /* missing, null, object values: render errors */
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"link\":\"https://a\"}", &r, err, sizeof err),
              FF_EINVAL);
    ASSERT(strstr(err, "missing"));
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":null,\"link\":\"https://a\"}", &r, err,
                               sizeof err), FF_EINVAL);
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":{},\"link\":\"https://a\"}", &r, err,
                               sizeof err), FF_EINVAL);
    /* vars must be a JSON object */
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "[1]", &r, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":", &r, err, sizeof err), FF_EINVAL);
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":\"a\",\"name\":\"b\"}", &r, err,
                               sizeof err), FF_EINVAL);
    /* numbers and booleans print */
    ASSERT_OK(mail_tmpl_render(s, "t", "en", "{\"name\":42,\"link\":\"http://a\"}", &r, err,
                               sizeof err));
    ASSERT_STREQ(r.subject, "Hi 42");
    mail_rendered_release(&r);
    /* an empty subject after rendering is an error */
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":\"\\r\\n\",\"link\":\"http://a\"}", &r,
                               err, sizeof err), FF_OK);
    mail_rendered_release(&r);
    mail_tmpl_set_free(s);
}

TEST(conditionals_and_each)
{
    struct mail_tmpl_set *s = load1(
        "t.en.tmpl", HEAD "{{#if flag}}yes{{else}}no{{/if}};{{#each items}}[{{title}}/{{name}}]"
                          "{{/each}};{{! a comment }}\n=== html\n{{#if flag}}{{name}}{{/if}}\n");
    ASSERT(s);
    struct mail_rendered r;
    ASSERT_OK(mail_tmpl_render(s, "t", "en",
                               "{\"name\":\"N\",\"flag\":1,\"items\":[{\"title\":\"a\"},"
                               "{\"title\":\"<b>\"}]}", &r, err, sizeof err));
    ASSERT_STREQ(r.text, "yes;[a/N][<b>/N];\n");
    ASSERT_STREQ(r.html, "N\n");
    mail_rendered_release(&r);
    ASSERT_OK(mail_tmpl_render(s, "t", "en", "{\"name\":\"N\",\"flag\":\"\",\"items\":[]}", &r,
                               err, sizeof err));
    ASSERT_STREQ(r.text, "no;;\n");
    mail_rendered_release(&r);
    {
        struct mail_tmpl_set *q = load1("q.en.tmpl", "vars: kind\n=== subject\n{{#if kind == \"a-b\"}}A"
                                                     "{{else}}B{{/if}}\n=== text\n=== html\n");
        ASSERT(q);
        ASSERT_OK(mail_tmpl_render(q, "q", "en", "{\"kind\":\"a-b\"}", &r, err, sizeof err));
        ASSERT_STREQ(r.subject, "A");
        mail_rendered_release(&r);
        ASSERT_OK(mail_tmpl_render(q, "q", "en", "{\"kind\":\"a-bc\"}", &r, err, sizeof err));
        ASSERT_STREQ(r.subject, "B");
        mail_rendered_release(&r);
        ASSERT_OK(mail_tmpl_render(q, "q", "en", "{\"kind\":1}", &r, err, sizeof err));
        ASSERT_STREQ(r.subject, "B");
        mail_rendered_release(&r);
        mail_tmpl_set_free(q);
    }
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":\"N\",\"items\":{}}", &r, err, sizeof err),
              FF_EINVAL);
    ASSERT_EQ(mail_tmpl_render(s, "t", "en", "{\"name\":\"N\",\"items\":[1]}", &r, err, sizeof err),
              FF_EINVAL);
    mail_tmpl_set_free(s);
}

TEST(malformed_templates_fail_at_load)
{
    LOAD_FAILS("t.en.tmpl", HEAD "{{nope}}\n=== html\n", "not declared");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#if flag}}x\n=== html\n", "unclosed {{#if}}");
    LOAD_FAILS("t.en.tmpl", HEAD "x{{/if}}\n=== html\n", "closing tag without");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#each items}}x{{/if}}\n=== html\n", "mismatched");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#each items}}{{#each items}}{{/each}}{{/each}}\n=== html\n",
               "nested");
    LOAD_FAILS("t.en.tmpl", HEAD "x\n=== html\n{{{name}}}\n", "unescaped");
    LOAD_FAILS("t.en.tmpl", HEAD "x {{name\n=== html\n", "unclosed {{");
    LOAD_FAILS("t.en.tmpl", HEAD "{{Name}}\n=== html\n", "bad tag");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#if}}{{/if}}\n=== html\n", "bad tag");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#if name == \"a<b\"}}{{/if}}\n=== html\n", "bad literal");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#if name == \"\"}}{{/if}}\n=== html\n", "bad literal");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#if nope == \"x\"}}{{/if}}\n=== html\n", "not declared");
    LOAD_FAILS("t.en.tmpl", HEAD "{{#each items == \"x\"}}{{/each}}\n=== html\n", "bad name");
    LOAD_FAILS("t.en.tmpl", HEAD "x\n", "missing section '=== html'");
    LOAD_FAILS("t.en.tmpl", "=== subject\nx\n=== text\n=== html\n", "vars:");
    LOAD_FAILS("t.en.tmpl", HEAD "x\n=== html\n=== html\n", "repeated");
    LOAD_FAILS("t.en.tmpl", HEAD "x\n=== footer\n", "unknown");
    LOAD_FAILS("t.en.tmpl", "vars: a\nhello\n=== subject\nx\n=== text\n=== html\n", "expected");
    LOAD_FAILS("t.en.tmpl", "vars: a-b\n=== subject\nx\n=== text\n=== html\n", "bad variable");
    LOAD_FAILS("t.en.tmpl", "vars:\n=== subject\n\n=== text\n=== html\n", "subject");
    LOAD_FAILS("t.en.tmpl", "vars:\n=== subject\na\nb\n=== text\n=== html\n", "one non-empty");
    LOAD_FAILS("t.en.tmpl", "vars:\r\n=== subject\nx\n=== text\n=== html\n", "LF line ends");
    LOAD_FAILS("t.en.tmpl", "vars:\n=== subject\nx\xff\n=== text\n=== html\n", "UTF-8");
    LOAD_FAILS("t.en.tmpl", "vars:\n=== subject\nx\ty\n=== text\n=== html\n", "control");
    LOAD_FAILS("t.en.tmpl", "vars:\n=== subject\nx\n=== text\na\x01\n=== html\n", "control");
    LOAD_FAILS("T.en.tmpl", HEAD "x\n=== html\n", "file name");
    LOAD_FAILS("t.english.tmpl", HEAD "x\n=== html\n", "file name");
    LOAD_FAILS("t.en.txt", HEAD "x\n=== html\n", "file name");
    LOAD_FAILS("t.de.tmpl", HEAD "x\n=== html\n", "no 'en' version");
    LOAD_FAILS("other.en.tmpl", HEAD "x\n=== html\n", "duplicate");
    /* the error names the file and line */
    LOAD_FAILS("t.en.tmpl", HEAD "ok\nok\n{{nope}}\n=== html\n", "t.en.tmpl:7:");
    /* oversized */
    size_t big = (300u << 10);
    char *huge = ff_malloc(big + 1);
    ASSERT(huge);
    memset(huge, 'a', big);
    huge[big] = 0;
    memcpy(huge, HEAD, strlen(HEAD));
    LOAD_FAILS("t.en.tmpl", huge, "at most");
    ff_free(huge);
    /* every truncation of a valid template either loads or fails cleanly */
    const char *good = HEAD "{{#if flag}}{{name}}{{else}}{{#each items}}{{title}}{{/each}}{{/if}}"
                            "\n=== html\n<a href=\"{{link}}\">{{name}}</a>\n";
    for (size_t n = 0; n <= strlen(good); n++) {
        char buf[512];
        memcpy(buf, good, n);
        buf[n] = 0;
        struct mail_tmpl_set *s = load1("t.en.tmpl", buf);
        if (s)
            mail_tmpl_set_free(s);
        else
            ASSERT(err[0]);
    }
}

TEST(allocation_failures_are_clean)
{
    const char *good = HEAD "{{#each items}}{{title}}{{/each}}\n=== html\n{{name}}\n";
    for (long n = 1; n < 40; n++) {
        ff_alloc_fail_after(n);
        struct mail_tmpl_set *s = load1("t.en.tmpl", good);
        ff_alloc_fail_after(0);
        if (!s)
            continue;
        ff_alloc_fail_after(n);
        struct mail_rendered r;
        if (!mail_tmpl_render(s, "t", "en", "{\"name\":\"x\",\"items\":[{\"title\":\"y\"}]}", &r,
                              err, sizeof err))
            mail_rendered_release(&r);
        ff_alloc_fail_after(0);
        mail_tmpl_set_free(s);
    }
}

int main(void)
{
    RUN(shipped_set_loads);
    RUN(escaping_per_part);
    RUN(conditionals_and_each);
    RUN(malformed_templates_fail_at_load);
    RUN(allocation_failures_are_clean);
    return TEST_REPORT();
}
