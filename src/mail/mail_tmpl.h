/* mail_tmpl.h - email templates: a small engine with mandatory escaping.
 *
 * One file per template and locale, templates/email/<name>.<locale>.tmpl,
 * compiled into the binary (src/mail/CMakeLists.txt embeds them):
 *
 *     # comment lines before the first section
 *     vars: name link items items.title
 *     === subject
 *     Welcome, {{name}}
 *     === text
 *     Hi {{name}}, open {{link}}
 *     === html
 *     <p>Hi {{name}}, <a href="{{link}}">open</a></p>
 *
 * Tags: {{name}} prints a variable escaped for the part it is in: HTML-escaped
 * in the html part (and inside href="/src=" it must be an http(s) or mailto
 * URL), control characters dropped in the text part (newlines and tabs kept),
 * and every control character (CR, LF, ...) turned into a space in the
 * subject. There is no unescaped output ({{{x}}} is an error).
 * {{#if name}}...{{else}}...{{/if}} tests a variable (missing, null, false,
 * 0 and "" are false); {{#if name == "text"}} compares a string variable with
 * a literal of [A-Za-z0-9 _.-]. {{#each list}}...{{/each}} repeats over a JSON array of
 * objects; inside, {{title}} is the item's field when "list.title" is declared,
 * else the top-level variable. {{! ...}} is a comment. Every name used must be
 * listed on the vars: line, and every section must be present and well nested:
 * anything else is an error when the set is loaded (at start, and in the unit
 * tests, which load the shipped set).
 *
 * Values come from a JSON object: strings, integers, reals and booleans print;
 * a missing variable, null, an object or an array printed with {{x}} is a
 * render error. */
#ifndef FF_MAIL_MAIL_TMPL_H
#define FF_MAIL_MAIL_TMPL_H

#include <stddef.h>

#include "core/err.h"

/* One embedded file (generated table, see mail_templates_gen.c). */
struct mail_tmpl_file {
    const char *name; /* "account-verify.en.tmpl" */
    const char *data;
    size_t len;
};
extern const struct mail_tmpl_file mail_tmpl_embedded[];
extern const size_t mail_tmpl_embedded_count;

struct mail_tmpl_set;

/* Parses and validates files (name "<name>.<locale>.tmpl"; name [a-z0-9-],
 * locale "xx" or "xx-YY"). Every template needs an "en" version. On error
 * writes "FILE:LINE: reason" into err and returns FF_EINVAL (FF_ENOMEM).
 * The set copies what it keeps; free with mail_tmpl_set_free. */
enum ff_err mail_tmpl_set_load(const struct mail_tmpl_file *files, size_t n,
                               struct mail_tmpl_set **out, char *err,
                               size_t errlen) FF_MUST_CHECK;
void mail_tmpl_set_free(struct mail_tmpl_set *s);

/* True when a template of this name exists (any locale). */
int mail_tmpl_exists(const struct mail_tmpl_set *s, const char *name);

struct mail_rendered {
    char *subject; /* one line, no control characters; ff_free */
    char *text;    /* UTF-8, LF line ends; ff_free */
    char *html;    /* ff_free */
    char locale[16]; /* the locale actually used */
};

/* Renders template `name` for `locale` (exact, else its language "de" for
 * "de-AT", else "en") with vars_json (a JSON object text; NULL = {}).
 * FF_ENOTFOUND for an unknown template, FF_EINVAL for bad vars (reason in
 * err). The caller frees *out with mail_rendered_release. */
enum ff_err mail_tmpl_render(const struct mail_tmpl_set *s, const char *name,
                             const char *locale, const char *vars_json,
                             struct mail_rendered *out, char *err,
                             size_t errlen) FF_MUST_CHECK;
void mail_rendered_release(struct mail_rendered *r);

/* Most bytes one rendered part may have. */
#define MAIL_TMPL_MAX_OUT ((size_t)1 << 20)

#endif
