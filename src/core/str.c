#include "core/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct ff_str ff_str_c(const char *s)
{
    return (struct ff_str){s ? s : "", s ? strlen(s) : 0};
}

bool ff_str_eq(struct ff_str a, struct ff_str b)
{
    return a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
}

bool ff_str_eq_c(struct ff_str a, const char *c) { return ff_str_eq(a, ff_str_c(c)); }

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

bool ff_str_ieq_c(struct ff_str a, const char *c)
{
    size_t n = strlen(c);
    if (n != a.len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a.ptr[i]) != lower(c[i]))
            return false;
    return true;
}

bool ff_str_starts_with(struct ff_str a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.len >= n && !memcmp(a.ptr, prefix, n);
}

struct ff_str ff_str_trim(struct ff_str s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

enum ff_err ff_parse_i64(struct ff_str s, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (s.len && s.ptr[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= s.len || s.len - i > 19)
        return FF_EINVAL;
    uint64_t v = 0;
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return FF_EINVAL;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
        return FF_EINVAL;
    int64_t r = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (r < min || r > max)
        return FF_EINVAL;
    *out = r;
    return FF_OK;
}

size_t ff_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return len;
}

size_t ff_json_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!dstlen)
        return 0;
    for (size_t i = 0; i < srclen && src[i]; i++) {
        unsigned char c = (unsigned char)src[i];
        char tmp[7];
        size_t k = 0;
        if (c == '"' || c == '\\') {
            tmp[k++] = '\\';
            tmp[k++] = (char)c;
        } else if (c == '\n') {
            tmp[k++] = '\\';
            tmp[k++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            k = 6;
        } else {
            tmp[k++] = (char)c;
        }
        if (o + k >= dstlen)
            break;
        memcpy(dst + o, tmp, k);
        o += k;
    }
    /* never leave a cut UTF-8 sequence at the end */
    size_t back = o;
    while (back && ((unsigned char)dst[back - 1] & 0xC0) == 0x80)
        back--;
    if (back && (unsigned char)dst[back - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)dst[back - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (o - (back - 1) < need)
            o = back - 1;
    }
    dst[o] = '\0';
    return o;
}

bool ff_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum ff_err ff_url_decode(const char *s, size_t len, char *out, size_t *outlen,
                          bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)
                return FF_EINVAL;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return FF_EINVAL;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return FF_EINVAL;
        }
        out[o++] = c;
    }
    *outlen = o;
    return FF_OK;
}

void ff_errbuf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

uint64_t ff_hash_fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}
