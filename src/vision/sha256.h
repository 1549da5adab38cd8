/* sha256.h - SHA-256 (FIPS 180-4), used to fingerprint model files. */
#ifndef FF_VISION_SHA256_H
#define FF_VISION_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct vis_sha256 {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
};

void vis_sha256_init(struct vis_sha256 *s);
void vis_sha256_update(struct vis_sha256 *s, const void *data, size_t n);
void vis_sha256_final(struct vis_sha256 *s, uint8_t out[32]);
/* Writes 64 lowercase hex digits and a NUL into hex[65]. */
void vis_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
