/* mail_mime.h - RFC 5322 / MIME messages and email addresses.
 *
 * mail_mime_build writes a complete message: Date, From, To, Subject (RFC 2047
 * encoded words when not plain short ASCII), Message-ID, MIME-Version, the
 * RFC 8058 List-Unsubscribe pair when given, and a multipart/alternative body
 * with text/plain and text/html parts in UTF-8, quoted-printable, CRLF line
 * ends. Every value that ends up in a header is checked: a CR, LF or any other
 * control character makes the build fail with FF_EINVAL (header injection is
 * impossible by construction, not by filtering). */
#ifndef FF_MAIL_MAIL_MIME_H
#define FF_MAIL_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define MAIL_ADDR_MAX 254

/* True when s is a plain addr-spec "local@domain" we accept: printable ASCII
 * atoms (dot-atom local part of [A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]), a domain of
 * dot-separated [A-Za-z0-9-] labels, at most 254 bytes. No quoted local parts,
 * no comments, no spaces or control characters. */
bool mail_addr_valid(const char *s);

/* Copies a valid address into out (size >= MAIL_ADDR_MAX + 1) lower-cased
 * (the suppression-list key). FF_EINVAL when not valid. */
enum ff_err mail_addr_normalize(const char *s, char *out, size_t outlen) FF_MUST_CHECK;

/* Parses "addr" or "Display Name <addr>" (FRAMEFIT_MAIL_FROM). The name may be
 * UTF-8 without control characters, quotes, backslashes or angle brackets.
 * name and addr get NUL-terminated copies (name may be empty). */
enum ff_err mail_mailbox_parse(const char *s, char *name, size_t namelen, char *addr,
                               size_t addrlen) FF_MUST_CHECK;

struct mail_mime {
    const char *from;          /* "addr" or "Name <addr>" */
    const char *to;            /* bare address */
    const char *subject;       /* UTF-8, no control characters */
    const char *text;          /* UTF-8 body (LF or CRLF line ends) */
    const char *html;          /* UTF-8 body */
    const char *message_id;    /* "<...@...>"; required */
    int64_t date_ms;           /* epoch ms for the Date header */
    const char *unsub_url;     /* https?:// URL for List-Unsubscribe, or NULL */
    const char *unsub_mailto;  /* address for the mailto: entry, or NULL */
};

/* Appends the message to out. FF_EINVAL (reason in err) for a header value
 * with control characters, a bad address or URL; FF_ETOOBIG/FF_ENOMEM from
 * the buffer. */
enum ff_err mail_mime_build(const struct mail_mime *m, struct ff_buf *out, char *err,
                            size_t errlen) FF_MUST_CHECK;

/* Appends s[0..n) quoted-printable encoded (RFC 2045, CRLF line ends, soft
 * breaks at 76 columns). Bare LF in the input becomes CRLF. */
enum ff_err mail_qp_encode(const char *s, size_t n, struct ff_buf *out) FF_MUST_CHECK;

/* Appends an unstructured header value (RFC 2047 "B" encoded words folded onto
 * continuation lines when not short printable ASCII). col is the column the
 * value starts at. FF_EINVAL for control characters or invalid UTF-8. */
enum ff_err mail_header_encode(const char *s, size_t col, struct ff_buf *out) FF_MUST_CHECK;

#endif
