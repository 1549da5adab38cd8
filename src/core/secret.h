/* secret.h - the instance's master key and the keys derived from it.
 *
 * One 32-byte master key signs everything framefit hands out that must not be
 * forged (unsubscribe links, CSRF tokens, HS256 tokens, ...). It comes from
 * FRAMEFIT_SECRET_KEY (64 hex digits) or, when that is empty, from
 * DATA_DIR/secret.key, which is created with fresh random bytes (mode 0600) on
 * first use. Several instances behind one load balancer must share the key:
 * set FRAMEFIT_SECRET_KEY on all of them.
 *
 * Each use derives its own subkey (libsodium crypto_kdf, BLAKE2b) from an
 * 8-character context naming the purpose, so one leaked subkey never reveals
 * another:
 *
 *     unsigned char k[32];
 *     ff_secret_derive(sec, "unsubscr", 1, k, sizeof k);
 *
 * The master key never leaves this file; memory holding it is locked and
 * wiped on free. */
#ifndef FF_CORE_SECRET_H
#define FF_CORE_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

#define FF_SECRET_BYTES 32
#define FF_SECRET_MAC_BYTES 32

struct ff_secret;

/* Loads (or on first use creates) the master key for cfg. On failure writes a
 * one-line reason (naming the file or variable) into why. Free with
 * ff_secret_free. */
enum ff_err ff_secret_open(struct ff_secret **out, const struct ff_config *cfg, char *why,
                           size_t len) FF_MUST_CHECK;
/* A key from 32 given bytes (tests, tools). */
enum ff_err ff_secret_from_bytes(struct ff_secret **out,
                                 const unsigned char key[FF_SECRET_BYTES]) FF_MUST_CHECK;
void ff_secret_free(struct ff_secret *s);

/* Derives len (16..64) bytes for `context` (exactly 8 characters, e.g.
 * "unsubscr") and `id` (a key version, so a purpose can rotate). */
enum ff_err ff_secret_derive(const struct ff_secret *s, const char context[8], uint64_t id,
                             unsigned char *out, size_t len) FF_MUST_CHECK;

/* HMAC-SHA-256 of msg under the subkey (context, id 1). */
void ff_secret_mac(const struct ff_secret *s, const char context[8], const void *msg,
                   size_t len, unsigned char mac[FF_SECRET_MAC_BYTES]);
/* 1 when mac is ff_secret_mac(s, context, msg, len); constant time. */
int ff_secret_mac_ok(const struct ff_secret *s, const char context[8], const void *msg,
                     size_t len, const unsigned char mac[FF_SECRET_MAC_BYTES]);

#endif
