/* shape_int.h - the compact in-memory (and cache-file) form of a shape model.
 *
 * One contiguous little-endian blob, identical in memory and on disk, so a
 * cache file is used in place through mmap:
 *
 *   [header 256 B][cascade table][initial shape][features][splits][leaves]
 *
 * Each section starts on a 64-byte boundary. Leaves are float32 vectors of
 * leaf_stride floats (2P rounded up to 16, zero padded) so SIMD kernels read
 * whole aligned vectors. Values are dlib's float32 values, bit for bit. */
#ifndef FF_VISION_SHAPE_INT_H
#define FF_VISION_SHAPE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vision/shape.h"

#define VIS_SP_MAGIC "FFSPRED1"
#define VIS_SP_VERSION 1u
#define VIS_SP_ENDIAN 0x01020304u
#define VIS_SP_HEADER 256u

struct vis_sp_header {
    char magic[8];
    uint32_t version, endian, header_size, parts;
    uint32_t cascades, splits, leaves, leaf_stride; /* splits/leaves per tree */
    uint32_t max_features, pad0;
    uint64_t total_trees, total_features;
    uint64_t file_size;                 /* bytes of the whole blob */
    uint64_t src_size;                  /* the dlib file this came from */
    int64_t src_mtime_sec, src_mtime_nsec;
    uint8_t src_sha256[32];
    uint64_t off_cascades, off_init, off_feats, off_splits, off_leaves;
    uint64_t payload_hash;              /* vis__sp_hash of bytes [header_size, file_size) */
    uint8_t reserved[72];
    uint64_t header_hash;               /* vis__sp_hash of the bytes before this field */
};
_Static_assert(sizeof(struct vis_sp_header) == 256, "header is 256 bytes");

struct vis_sp_cascade {
    uint32_t trees, features;
    uint64_t tree0;    /* index of this cascade's first tree in the global tree list */
    uint64_t feat0;    /* index of its first feature */
};

struct vis_sp_feat {
    float dx, dy;      /* offset from the anchor point, unit-box units */
    uint32_t anchor;   /* landmark index */
    uint32_t pad;
};

struct vis_sp_split {
    uint16_t idx1, idx2;
    float thresh;
};

struct vis_shape_model {
    const uint8_t *blob;          /* the compact model */
    size_t blob_len;
    int mapped;                   /* 1: blob is an mmap; 0: ff_malloc'd */
    const struct vis_sp_header *h;
    const struct vis_sp_cascade *casc;
    const float *init;
    const struct vis_sp_feat *feats;
    const struct vis_sp_split *splits;
    const float *leaves;
    struct vis_shape_info info;
};

/* A fast 64-bit hash of n bytes (n a multiple of 8 is fastest). */
uint64_t vis__sp_hash(const void *p, size_t n);

/* Checks a blob (header, hashes, every index) and points m's fields into it.
 * check_payload = 0 skips the payload hash (used right after conversion). */
int vis__sp_bind(struct vis_shape_model *m, const uint8_t *blob, size_t len, int check_payload,
                 char *err, size_t errlen);

/* Computes the section offsets and file_size of h from its counts; 0 on overflow. */
int vis__sp_layout(struct vis_sp_header *h);

/* Converts a dlib file in memory to a fresh ff_malloc'd blob. */
enum ff_err vis__sp_convert(const uint8_t *src, size_t len, uint8_t **blob, size_t *blob_len,
                            char *err, size_t errlen);

#endif
