/* mail_mime.c - addresses, encodings and the message builder (see mail_mime.h). */
#include "mail/mail_mime.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/str.h"

static bool atom_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

bool mail_addr_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    const char *at = strrchr(s, '@');
    if (n > MAIL_ADDR_MAX || !at || at == s || at != strchr(s, '@'))
        return false;
    size_t local = (size_t)(at - s);
    if (local > 64 || s[0] == '.' || s[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++)
        if (!(atom_char((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] != '.')))
            return false;
    const char *d = at + 1;
    size_t dn = strlen(d), label = 0;
    if (dn == 0 || dn > 253 || d[0] == '.' || d[dn - 1] == '.')
        return false;
    for (size_t i = 0; i < dn; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum(c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return d[dn - 1] != '-';
}

enum ff_err mail_addr_normalize(const char *s, char *out, size_t outlen)
{
    if (!mail_addr_valid(s) || strlen(s) >= outlen)
        return FF_EINVAL;
    size_t i = 0;
    for (; s[i]; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = 0;
    return FF_OK;
}

static bool name_ok(const char *s, size_t n)
{
    if (!ff_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>')
            return false;
    }
    return true;
}

enum ff_err mail_mailbox_parse(const char *s, char *name, size_t namelen, char *addr,
                               size_t addrlen)
{
    if (!s)
        return FF_EINVAL;
    size_t n = strlen(s);
    const char *lt = strchr(s, '<');
    struct ff_str nm = {"", 0}, ad = {s, n};
    if (lt) {
        if (n < 2 || s[n - 1] != '>' || strchr(lt + 1, '<'))
            return FF_EINVAL;
        nm = ff_str_trim((struct ff_str){s, (size_t)(lt - s)});
        ad = (struct ff_str){lt + 1, (size_t)(s + n - 1 - lt - 1)};
    }
    if (!name_ok(nm.ptr, nm.len) || nm.len >= namelen || ad.len >= addrlen)
        return FF_EINVAL;
    memcpy(name, nm.ptr, nm.len);
    name[nm.len] = 0;
    memcpy(addr, ad.ptr, ad.len);
    addr[ad.len] = 0;
    return mail_addr_valid(addr) ? FF_OK : FF_EINVAL;
}

/* ---- encodings ------------------------------------------------------------------ */

enum ff_err mail_qp_encode(const char *s, size_t n, struct ff_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    char line[80];
    size_t col = 0;
    enum ff_err e = FF_OK;
    for (size_t i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue;
        if (c == '\n') {
            e = ff_buf_append(out, line, col);
            if (!e)
                e = ff_buf_append(out, "\r\n", 2);
            col = 0;
            continue;
        }
        bool at_eol = i + 1 == n || s[i + 1] == '\n' || (s[i + 1] == '\r' && i + 2 < n &&
                                                          s[i + 2] == '\n');
        bool lit = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
                   ((c == ' ' || c == '\t') && !at_eol);
        size_t w = lit ? 1 : 3;
        if (col + w > 75) { /* soft break: "=" ends the line at column 76 */
            line[col++] = '=';
            e = ff_buf_append(out, line, col);
            if (!e)
                e = ff_buf_append(out, "\r\n", 2);
            col = 0;
            if (c == '.' && lit)
                lit = false, w = 3;
        }
        if (lit) {
            line[col++] = (char)c;
        } else {
            line[col++] = '=';
            line[col++] = hex[c >> 4];
            line[col++] = hex[c & 15];
        }
    }
    if (!e && col)
        e = ff_buf_append(out, line, col);
    return e;
}

/* Length of the UTF-8 sequence starting with byte c (1 for ASCII). */
static size_t u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
}

static bool has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

enum ff_err mail_header_encode(const char *s, size_t col, struct ff_buf *out)
{
    size_t n = strlen(s);
    if (has_ctl(s, n) || !ff_utf8_valid(s, n))
        return FF_EINVAL;
    bool plain = col + n <= 76 && !strstr(s, "=?");
    for (size_t i = 0; i < n && plain; i++)
        plain = (unsigned char)s[i] < 0x80;
    if (plain)
        return ff_buf_append(out, s, n);
    /* =?UTF-8?B?...?= words of at most 39 input bytes (52 base64 chars: a
     * 64-character word, so "Subject: " + word stays under 78 columns), split
     * on character boundaries. */
    enum ff_err e = FF_OK;
    size_t i = 0;
    bool first = true;
    while (i < n && !e) {
        size_t take = 0;
        while (i + take < n && take + u8len((unsigned char)s[i + take]) <= 39)
            take += u8len((unsigned char)s[i + take]);
        char b64[64];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, take,
                          sodium_base64_VARIANT_ORIGINAL);
        e = ff_buf_appendf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
        first = false;
        i += take;
    }
    return e;
}

/* ---- the message ------------------------------------------------------------------ */

static bool url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) && strncmp(u, "http://", 7))
        return false;
    size_t n = strlen(u);
    if (n > 900)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"')
            return false;
    }
    return true;
}

static bool msgid_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 5 || n > 250 || id[0] != '<' || id[n - 1] != '>' || !memchr(id, '@', n))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!(atom_char((unsigned char)id[i]) || id[i] == '.' || id[i] == '@'))
            return false;
    return true;
}

static void rfc5322_date(int64_t ms, char *buf, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static enum ff_err bad(char *err, size_t errlen, const char *what)
{
    ff_errbuf(err, errlen, "%s", what);
    return FF_EINVAL;
}

static enum ff_err headers(const struct mail_mime *m, const char *boundary, struct ff_buf *o,
                           char *err, size_t errlen)
{
    char name[256], addr[MAIL_ADDR_MAX + 1], date[64];
    if (mail_mailbox_parse(m->from, name, sizeof name, addr, sizeof addr))
        return bad(err, errlen, "bad From mailbox");
    if (!mail_addr_valid(m->to))
        return bad(err, errlen, "bad recipient address");
    if (!m->subject || has_ctl(m->subject, strlen(m->subject)))
        return bad(err, errlen, "bad Subject (control characters)");
    if (!msgid_ok(m->message_id))
        return bad(err, errlen, "bad Message-ID");
    if (m->unsub_url && !url_ok(m->unsub_url))
        return bad(err, errlen, "bad List-Unsubscribe URL");
    if (m->unsub_mailto && !mail_addr_valid(m->unsub_mailto))
        return bad(err, errlen, "bad List-Unsubscribe mailto address");
    rfc5322_date(m->date_ms, date, sizeof date);
    enum ff_err e = ff_buf_appendf(o, "Date: %s\r\nFrom: ", date);
    if (!e && name[0]) {
        bool ascii = true;
        for (const char *p = name; *p; p++)
            ascii &= (unsigned char)*p < 0x80;
        e = ascii && strlen(name) < 60 ? ff_buf_appendf(o, "\"%s\"", name)
                                       : mail_header_encode(name, 76, o);
        if (!e) /* an encoded name may fill its line: the address goes on the next */
            e = ff_buf_appendf(o, ascii && strlen(name) < 60 ? " <%s>" : "\r\n <%s>", addr);
    } else if (!e) {
        e = ff_buf_appends(o, addr);
    }
    if (!e)
        e = ff_buf_appendf(o, "\r\nTo: <%s>\r\nSubject: ", m->to);
    if (!e)
        e = mail_header_encode(m->subject, 9, o);
    if (e == FF_EINVAL)
        return bad(err, errlen, "bad Subject or From name (control characters or invalid UTF-8)");
    if (!e)
        e = ff_buf_appendf(o, "\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n", m->message_id);
    if (!e && m->unsub_url) {
        e = ff_buf_appendf(o, "List-Unsubscribe: <%s>", m->unsub_url);
        if (!e && m->unsub_mailto)
            e = ff_buf_appendf(o, ",\r\n <mailto:%s?subject=unsubscribe>", m->unsub_mailto);
        if (!e)
            e = ff_buf_appends(o, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    if (!e)
        e = ff_buf_appendf(o, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                           boundary);
    return e;
}

static enum ff_err part(struct ff_buf *o, const char *boundary, const char *type,
                        const char *body)
{
    enum ff_err e = ff_buf_appendf(o, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
                                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                                   boundary, type);
    if (!e)
        e = mail_qp_encode(body, strlen(body), o);
    if (!e)
        e = ff_buf_appends(o, "\r\n");
    return e;
}

enum ff_err mail_mime_build(const struct mail_mime *m, struct ff_buf *out, char *err,
                            size_t errlen)
{
    unsigned char rnd[12];
    char boundary[40], hex[25];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(boundary, sizeof boundary, "=_ff_%s", hex);
    const char *text = m->text ? m->text : "", *html = m->html ? m->html : "";
    if (!ff_utf8_valid(text, strlen(text)) || !ff_utf8_valid(html, strlen(html)))
        return bad(err, errlen, "body is not valid UTF-8");
    size_t mark = out->len;
    enum ff_err e = headers(m, boundary, out, err, errlen);
    if (!e)
        e = part(out, boundary, "text/plain", text);
    if (!e)
        e = part(out, boundary, "text/html", html);
    if (!e)
        e = ff_buf_appendf(out, "--%s--\r\n", boundary);
    if (e) {
        out->len = mark; /* nothing half-built stays */
        if (out->data)
            out->data[mark] = 0;
    }
    return e;
}
