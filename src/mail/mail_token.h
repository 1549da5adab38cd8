/* mail_token.h - signed one-click unsubscribe tokens.
 *
 * token = base64url(payload) "." base64url(MAC), payload = "1\n" list "\n" email,
 * MAC = ff_secret_mac(secret, "unsubscr", payload) (HMAC-SHA-256 under a
 * subkey of the master key). Unguessable and unforgeable without the key; no
 * expiry (RFC 8058 links must keep working in old mail). */
#ifndef FF_MAIL_MAIL_TOKEN_H
#define FF_MAIL_MAIL_TOKEN_H

#include <stddef.h>

#include "core/err.h"
#include "mail/mail_mime.h"

struct ff_secret;

#define MAIL_LIST_MAX 32          /* list names: [a-z0-9-], 1..32 */
#define MAIL_TOKEN_MAX 512        /* longest token we make or accept */

/* Writes the token for (email, list) into out (size >= MAIL_TOKEN_MAX).
 * FF_EINVAL for a bad address or list name. */
enum ff_err mail_token_make(const struct ff_secret *s, const char *email, const char *list,
                            char *out, size_t outlen) FF_MUST_CHECK;

/* Checks a token: FF_EINVAL when malformed (length, alphabet, structure, bad
 * address), FF_EFORBIDDEN when the MAC does not match. On FF_OK email (size
 * >= MAIL_ADDR_MAX + 1) and list (size >= MAIL_LIST_MAX + 1) are filled. */
enum ff_err mail_token_check(const struct ff_secret *s, const char *token, char *email,
                             char *list) FF_MUST_CHECK;

#endif
