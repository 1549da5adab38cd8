/* mail_tmpl.c - the email template engine (see mail_tmpl.h).
 *
 * One recursive walker both validates and renders: in validate mode it visits
 * every branch once with no values (checking names and nesting); in render
 * mode it emits the taken branches and walks the others without output, so a
 * template that validates cannot fail on structure at render time. */
#include "mail/mail_tmpl.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"

#define MAX_FILE ((size_t)256 << 10)
#define MAX_VARS 64
#define MAX_NAME 48

enum part { P_SUBJECT, P_TEXT, P_HTML, P_COUNT };
static const char *const part_names[P_COUNT] = {"subject", "text", "html"};

struct tmpl {
    char name[64];
    char locale[16];
    char file[96];
    char *vars[MAX_VARS]; /* declared names, owned */
    size_t nvars;
    char *part[P_COUNT];  /* owned, NUL-terminated */
    int line[P_COUNT];    /* file line of the first content line */
};

struct mail_tmpl_set {
    struct tmpl *t;
    size_t n;
};

/* ---- the walker ------------------------------------------------------------ */

enum ended { END_EOF, END_ELSE, END_IF, END_EACH };

struct walk {
    const struct tmpl *t;
    enum part part;
    const char *s;
    size_t pos, len;
    bool validate;
    json_t *root, *item;
    const char *each;      /* list name while inside {{#each}} */
    struct ff_buf *out;
    char *err;
    size_t errlen;
};

static int line_at(const struct walk *w, size_t pos)
{
    int line = w->t->line[w->part];
    for (size_t i = 0; i < pos && i < w->len; i++)
        line += w->s[i] == '\n';
    return line;
}

static enum ff_err fail(struct walk *w, size_t pos, const char *why, const char *arg)
{
    ff_errbuf(w->err, w->errlen, "%s:%d: %s%s%s%s", w->t->file, line_at(w, pos), why,
              arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return FF_EINVAL;
}

static bool declared(const struct tmpl *t, const char *name)
{
    for (size_t i = 0; i < t->nvars; i++)
        if (!strcmp(t->vars[i], name))
            return true;
    return false;
}

static bool valid_ident(const char *s, size_t n)
{
    if (n == 0 || n > MAX_NAME || !(islower((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* Resolves a name used in the template: in an each block, "list.name" if
 * declared (item scope), else the top-level name. *item_scope tells which.
 * FF_EINVAL when undeclared. */
static enum ff_err resolve(struct walk *w, size_t at, const char *name, bool *item_scope)
{
    *item_scope = false;
    if (w->each) {
        char full[2 * MAX_NAME + 2];
        snprintf(full, sizeof full, "%s.%s", w->each, name);
        if (declared(w->t, full)) {
            *item_scope = true;
            return FF_OK;
        }
    }
    if (!declared(w->t, name))
        return fail(w, at, "variable not declared on the vars: line:", name);
    return FF_OK;
}

static json_t *lookup(struct walk *w, const char *name, bool item_scope)
{
    json_t *scope = item_scope ? w->item : w->root;
    return json_is_object(scope) ? json_object_get(scope, name) : NULL;
}

static bool truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_TRUE: return true;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_OBJECT: return json_object_size(v) > 0;
    default: return false;
    }
}

/* True when the tag at `at` sits in an href="..." / src="..." attribute. */
static bool in_url_attr(const struct walk *w, size_t at)
{
    static const char *const attrs[] = {"href=\"", "href='", "src=\"", "src='"};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        size_t n = strlen(attrs[i]);
        if (at >= n && !strncasecmp(w->s + at - n, attrs[i], n))
            return true;
    }
    return false;
}

static bool safe_url(const char *v)
{
    return !strncasecmp(v, "https://", 8) || !strncasecmp(v, "http://", 7) ||
           !strncasecmp(v, "mailto:", 7);
}

static enum ff_err put(struct walk *w, const char *p, size_t n)
{
    enum ff_err e = ff_buf_append(w->out, p, n);
    if (e == FF_ETOOBIG)
        ff_errbuf(w->err, w->errlen, "%s: the rendered %s part is too large", w->t->file,
                  part_names[w->part]);
    return e;
}

/* Appends a value escaped for the current part. */
static enum ff_err put_value(struct walk *w, size_t at, const char *name, const char *v,
                             size_t n)
{
    if (!ff_utf8_valid(v, n))
        return fail(w, at, "value is not valid UTF-8:", name);
    if (w->part == P_HTML && in_url_attr(w, at) && !safe_url(v))
        return fail(w, at, "a link must be an http(s) or mailto URL:", name);
    enum ff_err e = FF_OK;
    for (size_t i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)v[i];
        if (w->part == P_HTML) {
            switch (c) {
            case '&': e = put(w, "&amp;", 5); continue;
            case '<': e = put(w, "&lt;", 4); continue;
            case '>': e = put(w, "&gt;", 4); continue;
            case '"': e = put(w, "&quot;", 6); continue;
            case '\'': e = put(w, "&#39;", 5); continue;
            default: break;
            }
            if (c < 0x20 && c != '\n' && c != '\t')
                continue;
        } else if (w->part == P_SUBJECT) {
            if (c < 0x20 || c == 0x7f)
                c = ' ';
        } else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            continue;
        }
        e = put(w, (const char *)&c, 1);
    }
    return e;
}

static enum ff_err emit_var(struct walk *w, size_t at, const char *name, bool item_scope)
{
    json_t *v = lookup(w, name, item_scope);
    char num[64];
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return put_value(w, at, name, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        return put_value(w, at, name, num, strlen(num));
    case JSON_REAL:
        snprintf(num, sizeof num, "%.15g", json_real_value(v));
        return put_value(w, at, name, num, strlen(num));
    case JSON_TRUE: return put_value(w, at, name, "true", 4);
    case JSON_FALSE: return put_value(w, at, name, "false", 5);
    case JSON_NULL:
        return fail(w, at, v ? "variable is null:" : "variable missing:", name);
    default: return fail(w, at, "variable is not a string or number:", name);
    }
}

static enum ff_err block(struct walk *w, bool emit, enum ended *how);

/* {{#if name}} or {{#if name == "literal"}} ... [{{else}} ...] {{/if}}; w->pos
 * is after the opening tag. eq (may be NULL) is the literal. */
static enum ff_err do_if(struct walk *w, size_t at, const char *name, const char *eq, bool emit)
{
    bool item_scope;
    enum ff_err e = resolve(w, at, name, &item_scope);
    if (e)
        return e;
    json_t *v = emit ? lookup(w, name, item_scope) : NULL;
    bool cond = emit && (eq ? json_is_string(v) && !strcmp(json_string_value(v), eq) : truthy(v));
    enum ended how;
    if ((e = block(w, emit && cond, &how)))
        return e;
    if (how == END_ELSE && (e = block(w, emit && !cond, &how)))
        return e;
    if (how != END_IF)
        return fail(w, at, how == END_EOF ? "unclosed {{#if}}:" : "mismatched close of {{#if}}:",
                    name);
    return FF_OK;
}

/* {{#each list}} ... {{/each}}; w->pos is after the opening tag. */
static enum ff_err do_each(struct walk *w, size_t at, const char *name, bool emit)
{
    if (w->each)
        return fail(w, at, "{{#each}} cannot be nested:", name);
    bool item_scope;
    enum ff_err e = resolve(w, at, name, &item_scope);
    if (e)
        return e;
    json_t *list = emit ? lookup(w, name, false) : NULL;
    if (emit && !json_is_array(list))
        return fail(w, at, "{{#each}} needs an array:", name);
    size_t start = w->pos, n = emit ? json_array_size(list) : 0;
    enum ended how = END_EOF;
    w->each = name;
    for (size_t i = 0; i < (n ? n : 1) && !e; i++) {
        w->pos = start;
        w->item = n ? json_array_get(list, i) : NULL;
        if (n && !json_is_object(w->item))
            e = fail(w, at, "{{#each}} items must be objects:", name);
        if (!e)
            e = block(w, n > 0, &how);
        if (!e && how != END_EACH)
            e = fail(w, at, how == END_EOF ? "unclosed {{#each}}:" : "mismatched close of {{#each}}:",
                     name);
    }
    w->each = NULL;
    w->item = NULL;
    return e;
}

/* One tag body (between the braces, trimmed). */
static enum ff_err tag(struct walk *w, size_t at, const char *b, size_t n, bool emit,
                       enum ended *how, bool *stop)
{
    char name[MAX_NAME + 1];
    *stop = false;
    if (n && b[0] == '!')
        return FF_OK;
    if (n && b[0] == '{')
        return fail(w, at, "unescaped output {{{...}}} is not supported", NULL);
    if (n == 4 && !memcmp(b, "else", 4)) {
        *how = END_ELSE;
        *stop = true;
        return FF_OK;
    }
    if ((n == 3 && !memcmp(b, "/if", 3)) || (n == 5 && !memcmp(b, "/each", 5))) {
        *how = n == 3 ? END_IF : END_EACH;
        *stop = true;
        return FF_OK;
    }
    const char *kw = NULL;
    if (n > 4 && !memcmp(b, "#if ", 4))
        kw = "if";
    else if (n > 6 && !memcmp(b, "#each ", 6))
        kw = "each";
    if (kw) {
        struct ff_str arg = ff_str_trim((struct ff_str){b + strlen(kw) + 2, n - strlen(kw) - 2});
        char lit[MAX_NAME + 1];
        const char *eq = NULL, *op = kw[0] == 'i' ? memmem(arg.ptr, arg.len, " == \"", 5) : NULL;
        if (op) { /* {{#if name == "literal"}}: literal of [A-Za-z0-9 _.-] */
            size_t ln = arg.len - (size_t)(op + 5 - arg.ptr);
            if (ln < 2 || ln > MAX_NAME || op[5 + ln - 1] != '"' ||
                strspn(op + 5, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.-")
                    != ln - 1)
                return fail(w, at, "bad literal in {{#if name == \"literal\"}}", NULL);
            memcpy(lit, op + 5, ln - 1);
            lit[ln - 1] = 0;
            eq = lit;
            arg.len = (size_t)(op - arg.ptr);
        }
        if (!valid_ident(arg.ptr, arg.len))
            return fail(w, at, "bad name in tag", NULL);
        memcpy(name, arg.ptr, arg.len);
        name[arg.len] = 0;
        return kw[0] == 'i' ? do_if(w, at, name, eq, emit) : do_each(w, at, name, emit);
    }
    if (!valid_ident(b, n))
        return fail(w, at, "bad tag (want {{name}}, {{#if name}}, {{#each name}}, {{else}}, "
                           "{{/if}}, {{/each}} or {{! comment}})", NULL);
    memcpy(name, b, n);
    name[n] = 0;
    bool item_scope;
    enum ff_err e = resolve(w, at, name, &item_scope);
    if (!e && emit)
        e = emit_var(w, at, name, item_scope);
    return e;
}

/* Walks text and tags from w->pos until the end or a closing tag ({{else}},
 * {{/if}}, {{/each}}), which *how reports. Emits only when emit is set. */
static enum ff_err block(struct walk *w, bool emit, enum ended *how)
{
    *how = END_EOF;
    while (w->pos < w->len) {
        const char *open = memmem(w->s + w->pos, w->len - w->pos, "{{", 2);
        size_t upto = open ? (size_t)(open - w->s) : w->len;
        enum ff_err e = emit ? put(w, w->s + w->pos, upto - w->pos) : FF_OK;
        if (e || !open) {
            w->pos = w->len;
            return e;
        }
        size_t at = upto;
        const char *close = memmem(open + 2, w->len - at - 2, "}}", 2);
        if (!close)
            return fail(w, at, "unclosed {{", NULL);
        size_t end = (size_t)(close - w->s);
        if (end + 2 < w->len && w->s[end + 2] == '}' && open[2] == '{')
            return fail(w, at, "unescaped output {{{...}}} is not supported", NULL);
        struct ff_str body = ff_str_trim((struct ff_str){open + 2, end - at - 2});
        w->pos = end + 2;
        bool stop;
        if ((e = tag(w, at, body.ptr, body.len, emit, how, &stop)))
            return e;
        if (stop)
            return FF_OK;
    }
    return FF_OK;
}

/* Walks a whole part; a stray closing tag at top level is an error. */
static enum ff_err walk_part(struct walk *w)
{
    enum ended how;
    w->pos = 0;
    enum ff_err e = block(w, !w->validate, &how);
    if (!e && how != END_EOF)
        e = fail(w, w->pos, "closing tag without an opening one", NULL);
    return e;
}

/* ---- loading ------------------------------------------------------------------ */

static void tmpl_release(struct tmpl *t)
{
    for (size_t i = 0; i < t->nvars; i++)
        ff_free(t->vars[i]);
    for (int p = 0; p < P_COUNT; p++)
        ff_free(t->part[p]);
    memset(t, 0, sizeof *t);
}

static bool valid_tname(const char *s, size_t n)
{
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

static bool valid_locale(const char *s, size_t n)
{
    if (n != 2 && n != 5)
        return false;
    if (!islower((unsigned char)s[0]) || !islower((unsigned char)s[1]))
        return false;
    return n == 2 || (s[2] == '-' && isupper((unsigned char)s[3]) && isupper((unsigned char)s[4]));
}

/* "<name>.<locale>.tmpl" -> t->name, t->locale. */
static enum ff_err parse_filename(const char *fn, struct tmpl *t, char *err, size_t errlen)
{
    size_t n = strlen(fn);
    const char *dot1 = memchr(fn, '.', n);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - fn)) : NULL;
    snprintf(t->file, sizeof t->file, "%s", fn);
    if (!dot1 || !dot2 || strcmp(dot2, ".tmpl") || !valid_tname(fn, (size_t)(dot1 - fn)) ||
        !valid_locale(dot1 + 1, (size_t)(dot2 - dot1 - 1))) {
        ff_errbuf(err, errlen, "%s: file name must be <name>.<locale>.tmpl "
                               "(name [a-z0-9-], locale xx or xx-YY)", fn);
        return FF_EINVAL;
    }
    memcpy(t->name, fn, (size_t)(dot1 - fn));
    memcpy(t->locale, dot1 + 1, (size_t)(dot2 - dot1 - 1));
    return FF_OK;
}

static enum ff_err parse_vars(struct tmpl *t, const char *p, size_t n, int line, char *err,
                              size_t errlen)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        size_t s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != ',')
            i++;
        if (i == s)
            break;
        const char *dot = memchr(p + s, '.', i - s);
        bool ok = dot ? valid_ident(p + s, (size_t)(dot - p - s)) &&
                            valid_ident(dot + 1, (size_t)(p + i - dot - 1))
                      : valid_ident(p + s, i - s);
        if (!ok || t->nvars == MAX_VARS) {
            ff_errbuf(err, errlen, "%s:%d: bad variable name '%.*s' on the vars: line", t->file,
                      line, (int)(i - s), p + s);
            return FF_EINVAL;
        }
        if (!(t->vars[t->nvars] = ff_strndup(p + s, i - s)))
            return FF_ENOMEM;
        t->nvars++;
    }
    return FF_OK;
}

static enum ff_err set_part(struct tmpl *t, int part, const char *p, size_t n, int line,
                            char *err, size_t errlen)
{
    if (part < 0)
        return FF_OK;
    if (part == P_SUBJECT) {
        struct ff_str s = ff_str_trim((struct ff_str){p, n});
        while (s.len && s.ptr[s.len - 1] == '\n')
            s.len--;
        if (s.len == 0 || memchr(s.ptr, '\n', s.len)) {
            ff_errbuf(err, errlen, "%s:%d: the subject must be one non-empty line", t->file, line);
            return FF_EINVAL;
        }
        p = s.ptr;
        n = s.len;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && (part == P_SUBJECT || (c != '\n' && c != '\t'))) || c == 0x7f) {
            ff_errbuf(err, errlen, "%s:%d: control character 0x%02x in the %s", t->file, line, c,
                      part_names[part]);
            return FF_EINVAL;
        }
    }
    t->line[part] = line;
    return (t->part[part] = ff_strndup(p, n)) ? FF_OK : FF_ENOMEM;
}

/* Splits the file into the header (vars:) and the three sections. */
static enum ff_err parse_file(const struct mail_tmpl_file *f, struct tmpl *t, char *err,
                              size_t errlen)
{
    enum ff_err e = parse_filename(f->name, t, err, errlen);
    if (e)
        return e;
    if (f->len > MAX_FILE || !ff_utf8_valid(f->data, f->len) || memchr(f->data, '\r', f->len)) {
        ff_errbuf(err, errlen, "%s: must be UTF-8 with LF line ends, at most %zu bytes", t->file,
                  MAX_FILE);
        return FF_EINVAL;
    }
    int cur = -1, line = 0, cur_line = 0;
    bool have_vars = false;
    size_t pos = 0, sec_start = 0;
    while (pos < f->len) {
        const char *nl = memchr(f->data + pos, '\n', f->len - pos);
        size_t end = nl ? (size_t)(nl - f->data) : f->len;
        const char *l = f->data + pos;
        size_t ln = end - pos;
        line++;
        if (ln >= 4 && !memcmp(l, "=== ", 4)) {
            if ((e = set_part(t, cur, f->data + sec_start, pos - sec_start, cur_line, err, errlen)))
                return e;
            cur = -1;
            for (int p = 0; p < P_COUNT; p++)
                if (ln - 4 == strlen(part_names[p]) && !memcmp(l + 4, part_names[p], ln - 4))
                    cur = p;
            if (cur < 0 || t->part[cur]) {
                ff_errbuf(err, errlen, "%s:%d: unknown or repeated section '%.*s'", t->file, line,
                          (int)ln, l);
                return FF_EINVAL;
            }
            sec_start = end + (nl != NULL);
            cur_line = line + 1;
        } else if (cur < 0) {
            if (ln >= 5 && !memcmp(l, "vars:", 5) && !have_vars) {
                have_vars = true;
                if ((e = parse_vars(t, l + 5, ln - 5, line, err, errlen)))
                    return e;
            } else if (ln && l[0] != '#' && ff_str_trim((struct ff_str){l, ln}).len) {
                ff_errbuf(err, errlen, "%s:%d: expected '# comment', 'vars: ...' or '=== section'",
                          t->file, line);
                return FF_EINVAL;
            }
        }
        pos = end + (nl != NULL);
    }
    if ((e = set_part(t, cur, f->data + sec_start, f->len - sec_start, cur_line, err, errlen)))
        return e;
    for (int p = 0; p < P_COUNT; p++)
        if (!t->part[p]) {
            ff_errbuf(err, errlen, "%s: missing section '=== %s'%s", t->file, part_names[p],
                      have_vars ? "" : " (and the vars: line)");
            return FF_EINVAL;
        }
    if (!have_vars) {
        ff_errbuf(err, errlen, "%s: missing 'vars:' line (may be empty)", t->file);
        return FF_EINVAL;
    }
    for (int p = 0; p < P_COUNT && !e; p++) {
        struct walk w = {.t = t, .part = (enum part)p, .s = t->part[p],
                         .len = strlen(t->part[p]), .validate = true, .err = err,
                         .errlen = errlen};
        e = walk_part(&w);
    }
    return e;
}

static const struct tmpl *find(const struct mail_tmpl_set *s, const char *name, const char *loc,
                               size_t loclen)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->t[i].name, name) && strlen(s->t[i].locale) == loclen &&
            !memcmp(s->t[i].locale, loc, loclen))
            return &s->t[i];
    return NULL;
}

enum ff_err mail_tmpl_set_load(const struct mail_tmpl_file *files, size_t n,
                               struct mail_tmpl_set **out, char *err, size_t errlen)
{
    struct mail_tmpl_set *s = ff_calloc(1, sizeof *s);
    if (!s || !(s->t = ff_calloc(n ? n : 1, sizeof *s->t))) {
        ff_free(s);
        return FF_ENOMEM;
    }
    enum ff_err e = FF_OK;
    for (size_t i = 0; i < n && !e; i++) {
        e = parse_file(&files[i], &s->t[i], err, errlen);
        s->n = i + 1;
        if (!e && find(s, s->t[i].name, s->t[i].locale, strlen(s->t[i].locale)) != &s->t[i]) {
            ff_errbuf(err, errlen, "%s: duplicate template", files[i].name);
            e = FF_EINVAL;
        }
    }
    for (size_t i = 0; i < s->n && !e; i++)
        if (!find(s, s->t[i].name, "en", 2)) {
            ff_errbuf(err, errlen, "%s: template '%s' has no 'en' version (the fallback)",
                      s->t[i].file, s->t[i].name);
            e = FF_EINVAL;
        }
    if (e) {
        mail_tmpl_set_free(s);
        return e;
    }
    *out = s;
    return FF_OK;
}

void mail_tmpl_set_free(struct mail_tmpl_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        tmpl_release(&s->t[i]);
    ff_free(s->t);
    ff_free(s);
}

int mail_tmpl_exists(const struct mail_tmpl_set *s, const char *name)
{
    return name && find(s, name, "en", 2) != NULL;
}

/* ---- rendering -------------------------------------------------------------- */

void mail_rendered_release(struct mail_rendered *r)
{
    ff_free(r->subject);
    ff_free(r->text);
    ff_free(r->html);
    memset(r, 0, sizeof *r);
}

static const struct tmpl *pick(const struct mail_tmpl_set *s, const char *name,
                               const char *locale)
{
    const struct tmpl *t = NULL;
    size_t n = locale ? strlen(locale) : 0;
    if (n && n < 16)
        t = find(s, name, locale, n);
    if (!t && n > 2 && locale[2] == '-')
        t = find(s, name, locale, 2);
    return t ? t : find(s, name, "en", 2);
}

enum ff_err mail_tmpl_render(const struct mail_tmpl_set *s, const char *name,
                             const char *locale, const char *vars_json,
                             struct mail_rendered *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const struct tmpl *t = name ? pick(s, name, locale) : NULL;
    if (!t) {
        ff_errbuf(err, errlen, "no email template '%s'", name ? name : "(null)");
        return FF_ENOTFOUND;
    }
    json_error_t jerr;
    json_t *root = json_loads(vars_json ? vars_json : "{}", JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        ff_errbuf(err, errlen, "template variables must be a JSON object%s%s",
                  root ? "" : ": ", root ? "" : jerr.text);
        json_decref(root);
        return FF_EINVAL;
    }
    enum ff_err e = FF_OK;
    char **dst[P_COUNT] = {&out->subject, &out->text, &out->html};
    for (int p = 0; p < P_COUNT && !e; p++) {
        struct ff_buf b;
        ff_buf_init(&b, MAIL_TMPL_MAX_OUT);
        struct walk w = {.t = t, .part = (enum part)p, .s = t->part[p],
                         .len = strlen(t->part[p]), .root = root, .out = &b, .err = err,
                         .errlen = errlen};
        e = walk_part(&w);
        if (!e) {
            *dst[p] = b.data ? ff_buf_steal(&b, NULL) : ff_strdup("");
            if (!*dst[p])
                e = FF_ENOMEM;
        }
        ff_buf_release(&b);
    }
    json_decref(root);
    if (!e && !out->subject[strspn(out->subject, " ")]) {
        ff_errbuf(err, errlen, "%s: the rendered subject is empty", t->file);
        e = FF_EINVAL;
    }
    if (e) {
        mail_rendered_release(out);
        return e;
    }
    snprintf(out->locale, sizeof out->locale, "%s", t->locale);
    return FF_OK;
}
