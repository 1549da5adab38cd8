/* password.c - Argon2id hashing (libsodium), the password policy, emails. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "accounts/acc_int.h"

/* The most common passwords of the public breach corpora (lowercase; a
 * password equal to one of these, ignoring case and trailing digits/!, is
 * refused). Long lists belong in a file; these catch the bulk of guesses. */
static const char *const common[] = {
    "password", "passw0rd", "p@ssw0rd", "p@ssword", "123456789", "12345678", "1234567890",
    "qwertyuiop", "qwerty123", "iloveyou", "sunshine", "princess", "football", "baseball",
    "welcome", "welcome1", "admin123", "administrator", "letmein", "monkey123", "dragon123",
    "trustno1", "superman", "batman", "starwars", "whatever", "freedom", "charlie", "shadow",
    "michael", "jennifer", "jordan23", "liverpool", "chelsea", "arsenal", "computer",
    "internet", "master", "hello123", "abc12345", "abcd1234", "1q2w3e4r", "1qaz2wsx",
    "zaq12wsx", "qazwsxedc", "asdfghjkl", "zxcvbnm", "passwort", "motdepasse", "contraseña",
    "changeme", "secret", "default", "framefit", "eyewear", "glasses", "sunglasses",
    "spectacles", "lunettes", "summer", "winter", "autumn", "spring", "pokemon", "minecraft",
    "loveme", "lovely", "flower", "cookie", "mustang", "ginger", "hunter", "killer", "soccer",
    "hockey", "ranger", "buster", "thomas", "robert", "daniel", "andrew", "joshua", "matthew",
    "access", "login", "user", "guest", "test", "testing", "qwerty", "azerty", "111111",
    "000000", "123123", "654321", "666666", "121212", "7777777", "987654321", "11111111",
    "00000000", "88888888", "12341234", "aaaaaa", "abc123", "password1", "password123",
    NULL,
};

static const char *const sequences[] = {
    "abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba", "01234567890", "09876543210",
    "qwertyuiopasdfghjklzxcvbnm", "azertyuiopqsdfghjklmwxcvbn", "qwertzuiopasdfghjklyxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn", NULL,
};

/* True when s (lowercase) is mostly one repeated unit, e.g. "aaaaaaaa",
 * "abababab", "123123123". */
static bool repetitive(const char *s, size_t n)
{
    for (size_t unit = 1; unit <= 4 && unit * 2 <= n; unit++) {
        size_t same = 0;
        for (size_t i = unit; i < n; i++)
            same += s[i] == s[i - unit];
        if (same + unit >= n - 1)
            return true;
    }
    return false;
}

/* True when the whole of s (lowercase) is a run of a keyboard/alphabet
 * sequence. */
static bool sequential(const char *s, size_t n)
{
    if (n > 26)
        return false;
    for (const char *const *q = sequences; *q; q++) {
        char tmp[32];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        if (strstr(*q, tmp))
            return true;
    }
    return false;
}

const char *acc__pw_weak(const char *pw, size_t len, const char *email)
{
    if (len < ACC_PW_MIN)
        return "must be at least 8 bytes long";
    if (len > ACC_PW_MAX)
        return "must be at most 1024 bytes long";
    if (memchr(pw, '\0', len))
        return "must not contain NUL characters";
    char low[ACC_PW_MAX + 1];
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)pw[i]);
    low[len] = '\0';
    /* strip trailing digits and '!' for the list check ("Password123!") */
    size_t core = len;
    while (core > 0 && (isdigit((unsigned char)low[core - 1]) || low[core - 1] == '!'))
        core--;
    for (const char *const *c = common; *c; c++) {
        size_t cl = strlen(*c);
        if ((cl == len && !memcmp(low, *c, len)) || (core >= 4 && cl == core &&
                                                       !memcmp(low, *c, core))) {
            sodium_memzero(low, sizeof low);
            return "is one of the most common passwords; choose another";
        }
    }
    bool rep = repetitive(low, len), seq = sequential(low, len);
    const char *why = NULL;
    if (rep)
        why = "is too repetitive (e.g. aaaaaaaa, abababab)";
    else if (seq)
        why = "is a keyboard or alphabet sequence";
    if (!why && email) {
        const char *at = strchr(email, '@');
        size_t ll = at ? (size_t)(at - email) : 0;
        if (ll >= 3) {
            char local[ACC_EMAIL_MAX + 1];
            memcpy(local, email, ll);
            local[ll] = '\0';
            if (strstr(low, local))
                why = "must not contain your email address";
        }
    }
    sodium_memzero(low, sizeof low);
    return why;
}

enum ff_err acc__pw_hash(const struct acc *a, const char *pw, size_t len,
                         char out[crypto_pwhash_STRBYTES])
{
    if (crypto_pwhash_str(out, pw, len, a->opslimit, a->memlimit))
        return FF_ENOMEM;
    return FF_OK;
}

bool acc__pw_verify(const struct acc *a, const char *hash, const char *pw, size_t len,
                    bool *rehash)
{
    bool ok = crypto_pwhash_str_verify(hash, pw, len) == 0;
    if (rehash)
        *rehash = ok && crypto_pwhash_str_needs_rehash(hash, a->opslimit, a->memlimit) != 0;
    return ok;
}

const char *acc__email_norm(const char *in, size_t len, char out[ACC_EMAIL_MAX + 1])
{
    while (len && isspace((unsigned char)*in))
        in++, len--;
    while (len && isspace((unsigned char)in[len - 1]))
        len--;
    if (!len)
        return "must not be empty";
    if (len > ACC_EMAIL_MAX)
        return "must be at most 254 characters";
    size_t at = len, nat = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c == 0x7f || c == '"' || c == '\\' || c == '(' || c == ')' ||
            c == ',' || c == ';' || c == ':' || c == '<' || c == '>' || c == '[' || c == ']')
            return "must be a plain address such as name@example.com";
        if (c == '@')
            at = i, nat++;
        out[i] = (char)(c < 0x80 ? tolower(c) : c);
    }
    out[len] = '\0';
    if (nat != 1 || at == 0 || at > 64 || at + 1 >= len)
        return "must be an address such as name@example.com";
    const char *dom = out + at + 1;
    const char *dot = strrchr(dom, '.');
    if (!dot || dot == dom || !dot[1] || strstr(dom, "..") || dom[0] == '-' || dom[0] == '.' ||
        out[len - 1] == '.' || out[0] == '.' || out[at - 1] == '.')
        return "must have a domain such as example.com";
    return NULL;
}

void acc__email_mask(const char *email, char *out, size_t len)
{
    const char *at = email ? strchr(email, '@') : NULL;
    if (!at || at == email) {
        snprintf(out, len, "***");
        return;
    }
    snprintf(out, len, "%c***%s", email[0], at);
}
