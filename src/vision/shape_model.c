/* shape_model.c - loading shape models: dlib file -> compact blob, cached on
 * disk and mmapped on later starts. See shape_int.h for the blob layout. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"
#include "vision/sha256.h"
#include "vision/shape_int.h"

const char *vis__shape_kernel_name(void); /* shape_predict.c */

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t vis__sp_hash(const void *p, size_t n)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    const uint8_t *b = p;
    uint64_t a[4] = {P1, P2, ~P1, ~P2};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, b + i + 8 * k, 8);
            a[k] = rotl(a[k] + w * P2, 31) * P1;
        }
    }
    uint64_t h = rotl(a[0], 1) + rotl(a[1], 7) + rotl(a[2], 12) + rotl(a[3], 18) + n;
    for (; i < n; i++)
        h = rotl(h ^ (b[i] * P1), 11) * P2;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}

int vis__sp_bind(struct vis_shape_model *m, const uint8_t *blob, size_t len, int check_payload,
                 char *err, size_t errlen)
{
    struct vis_sp_header h;
    if (len < sizeof h) {
        ff_errbuf(err, errlen, "cache too short for its header");
        return -1;
    }
    memcpy(&h, blob, sizeof h);
    if (memcmp(h.magic, VIS_SP_MAGIC, 8) || h.version != VIS_SP_VERSION ||
        h.endian != VIS_SP_ENDIAN || h.header_size != VIS_SP_HEADER) {
        ff_errbuf(err, errlen, "not a framefit shape cache of this version");
        return -1;
    }
    if (h.header_hash != vis__sp_hash(blob, offsetof(struct vis_sp_header, header_hash))) {
        ff_errbuf(err, errlen, "cache header checksum mismatch");
        return -1;
    }
    struct vis_sp_header x = h; /* recompute the layout from the counts */
    if (h.parts == 0 || h.cascades == 0 || h.splits == 0 || ((h.splits + 1) & h.splits) ||
        h.leaves != h.splits + 1 || h.leaf_stride != ((2 * h.parts + 15) & ~15u) ||
        h.max_features == 0 || h.max_features > 65535 || !vis__sp_layout(&x) ||
        x.file_size != h.file_size || x.off_leaves != h.off_leaves ||
        x.off_splits != h.off_splits || x.off_feats != h.off_feats ||
        x.off_init != h.off_init || x.off_cascades != h.off_cascades || h.file_size != len) {
        ff_errbuf(err, errlen, "cache layout is inconsistent");
        return -1;
    }
    if (check_payload &&
        h.payload_hash != vis__sp_hash(blob + h.header_size, len - h.header_size)) {
        ff_errbuf(err, errlen, "cache payload checksum mismatch");
        return -1;
    }
    const struct vis_sp_cascade *ct = (const void *)(blob + h.off_cascades);
    const struct vis_sp_feat *ft = (const void *)(blob + h.off_feats);
    const struct vis_sp_split *sp = (const void *)(blob + h.off_splits);
    uint64_t t0 = 0, f0 = 0;
    unsigned maxf = 0;
    for (uint32_t c = 0; c < h.cascades; c++) {
        if (ct[c].tree0 != t0 || ct[c].feat0 != f0 || ct[c].trees == 0 || ct[c].features == 0 ||
            ct[c].features > h.max_features || t0 + ct[c].trees > h.total_trees ||
            f0 + ct[c].features > h.total_features) {
            ff_errbuf(err, errlen, "cache cascade table is inconsistent");
            return -1;
        }
        for (uint64_t s = t0 * h.splits; s < (t0 + ct[c].trees) * h.splits; s++)
            if (sp[s].idx1 >= ct[c].features || sp[s].idx2 >= ct[c].features) {
                ff_errbuf(err, errlen, "cache split index out of range");
                return -1;
            }
        for (uint64_t f = f0; f < f0 + ct[c].features; f++)
            if (ft[f].anchor >= h.parts) {
                ff_errbuf(err, errlen, "cache anchor index out of range");
                return -1;
            }
        if (ct[c].features > maxf)
            maxf = ct[c].features;
        t0 += ct[c].trees;
        f0 += ct[c].features;
    }
    if (t0 != h.total_trees || f0 != h.total_features || maxf != h.max_features) {
        ff_errbuf(err, errlen, "cache totals are inconsistent");
        return -1;
    }
    m->blob = blob;
    m->blob_len = len;
    m->h = (const struct vis_sp_header *)blob;
    m->casc = ct;
    m->init = (const float *)(blob + h.off_init);
    m->feats = ft;
    m->splits = sp;
    m->leaves = (const float *)(blob + h.off_leaves);
    struct vis_shape_info *in = &m->info;
    in->parts = h.parts;
    in->cascades = h.cascades;
    in->trees = (unsigned long)h.total_trees;
    in->splits_per_tree = h.splits;
    in->features = h.max_features;
    in->source_size = h.src_size;
    vis_sha256_hex(h.src_sha256, in->sha256);
    in->mapped_bytes = len;
    return 0;
}

/* Seals a freshly converted blob: source facts, payload and header hashes. */
static void seal(uint8_t *blob, size_t len, const struct stat *st, const uint8_t sha[32])
{
    struct vis_sp_header *h = (struct vis_sp_header *)blob;
    if (st) {
        h->src_mtime_sec = st->st_mtim.tv_sec;
        h->src_mtime_nsec = st->st_mtim.tv_nsec;
    }
    memcpy(h->src_sha256, sha, 32);
    h->payload_hash = vis__sp_hash(blob + h->header_size, len - h->header_size);
    h->header_hash = vis__sp_hash(blob, offsetof(struct vis_sp_header, header_hash));
}

static enum ff_err from_dlib(const uint8_t *src, size_t len, const struct stat *st,
                             struct vis_shape_model **out, char *err, size_t errlen)
{
    uint8_t *blob;
    size_t blen;
    enum ff_err e = vis__sp_convert(src, len, &blob, &blen, err, errlen);
    if (e)
        return e;
    struct vis_sha256 s;
    uint8_t sha[32];
    vis_sha256_init(&s);
    vis_sha256_update(&s, src, len);
    vis_sha256_final(&s, sha);
    seal(blob, blen, st, sha);
    struct vis_shape_model *m = ff_calloc(1, sizeof *m);
    if (!m) {
        ff_free(blob);
        ff_errbuf(err, errlen, "out of memory");
        return FF_ENOMEM;
    }
    if (vis__sp_bind(m, blob, blen, 0, err, errlen)) {
        ff_free(blob);
        ff_free(m);
        return FF_EINTERNAL;
    }
    m->info.simd = vis__shape_kernel_name();
    *out = m;
    return FF_OK;
}

enum ff_err vis_shape_model_from_dlib(const void *buf, size_t len, struct vis_shape_model **out,
                                      char *err, size_t errlen)
{
    *out = NULL;
    return from_dlib(buf, len, NULL, out, err, errlen);
}

void vis_shape_model_free(struct vis_shape_model *m)
{
    if (!m)
        return;
    if (m->mapped)
        munmap((void *)m->blob, m->blob_len);
    else
        ff_free((void *)m->blob);
    ff_free(m);
}

void vis_shape_model_info(const struct vis_shape_model *m, struct vis_shape_info *out)
{
    *out = m->info;
}

unsigned vis_shape_model_parts(const struct vis_shape_model *m) { return m->h->parts; }

/* ---- the cache -------------------------------------------------------------- */

static int cache_dir(const char *opt, char *dir, size_t n)
{
    const char *e;
    if (opt)
        return snprintf(dir, n, "%s", opt) > 0 && strlen(opt) < n;
    if ((e = getenv("FRAMEFIT_CACHE_DIR")) && *e)
        return (size_t)snprintf(dir, n, "%s", e) < n;
    if ((e = getenv("XDG_CACHE_HOME")) && *e)
        return (size_t)snprintf(dir, n, "%s/framefit", e) < n;
    if ((e = getenv("HOME")) && *e)
        return (size_t)snprintf(dir, n, "%s/.cache/framefit", e) < n;
    return 0;
}

static void mkdirs(const char *dir)
{
    char tmp[512];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        mkdir(tmp, 0755);
        *p = '/';
    }
    mkdir(tmp, 0755);
}

/* Maps a cache file and checks it belongs to the source described by st. */
static int map_cache(const char *path, const struct stat *st, struct vis_shape_model *m)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat cs;
    void *p = MAP_FAILED;
    if (fstat(fd, &cs) == 0 && S_ISREG(cs.st_mode) && cs.st_size >= VIS_SP_HEADER)
        p = mmap(NULL, (size_t)cs.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    char why[128];
    const struct vis_sp_header *h = p;
    if (vis__sp_bind(m, p, (size_t)cs.st_size, 1, why, sizeof why) ||
        h->src_size != (uint64_t)st->st_size || h->src_mtime_sec != st->st_mtim.tv_sec ||
        h->src_mtime_nsec != st->st_mtim.tv_nsec) {
        munmap(p, (size_t)cs.st_size);
        memset(m, 0, sizeof *m);
        return -1;
    }
    m->mapped = 1;
    return 0;
}

static int write_cache(const char *path, const uint8_t *blob, size_t len)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, blob + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (close(fd) || off != len || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static enum ff_err read_source(const char *path, int *fd_out, struct stat *st, const uint8_t **map,
                               char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ff_errbuf(err, errlen, "cannot open landmark model %s: %s", path, strerror(errno));
        return errno == ENOENT ? FF_ENOTFOUND : FF_EIO;
    }
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        ff_errbuf(err, errlen, "landmark model %s is not a regular file", path);
        return FF_EINVAL;
    }
    *fd_out = fd;
    *map = NULL;
    return FF_OK;
}

enum ff_err vis_shape_model_load(const struct vis_shape_opts *opts, struct vis_shape_model **out,
                                 char *err, size_t errlen)
{
    const char *path = opts ? opts->path : NULL;
    *out = NULL;
    if (!path || !*path)
        path = getenv("FRAMEFIT_LANDMARK_MODEL");
    if (!path || !*path)
        path = VIS_SHAPE_DEFAULT_MODEL;
    int fd;
    struct stat st;
    const uint8_t *src;
    enum ff_err e = read_source(path, &fd, &st, &src, err, errlen);
    if (e)
        return e;

    char dir[512], cpath[512] = "";
    if (cache_dir(opts ? opts->cache_dir : NULL, dir, sizeof dir) && dir[0]) {
        char real[4096];
        const char *key = realpath(path, real) ? real : path;
        const char *base = strrchr(key, '/');
        base = base ? base + 1 : key;
        int n = snprintf(cpath, sizeof cpath, "%s/%.64s-%016llx.ffsp", dir, base,
                         (unsigned long long)vis__sp_hash(key, strlen(key)));
        if (n < 0 || (size_t)n >= sizeof cpath)
            cpath[0] = 0;
    }
    struct vis_shape_model *m = ff_calloc(1, sizeof *m);
    if (!m) {
        close(fd);
        ff_errbuf(err, errlen, "out of memory");
        return FF_ENOMEM;
    }
    if (cpath[0] && map_cache(cpath, &st, m) == 0) {
        close(fd);
        m->info.from_cache = 1;
        goto done;
    }
    ff_free(m);
    m = NULL;
    if (st.st_size == 0) {
        close(fd);
        ff_errbuf(err, errlen, "landmark model %s is empty", path);
        return FF_ECORRUPT;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        ff_errbuf(err, errlen, "cannot map %s: %s", path, strerror(errno));
        return FF_EIO;
    }
    char why[400];
    e = from_dlib(p, (size_t)st.st_size, &st, &m, why, sizeof why);
    munmap(p, (size_t)st.st_size);
    if (e) {
        ff_errbuf(err, errlen, "landmark model %s: %s", path, why);
        return e;
    }
    if (cpath[0]) {
        mkdirs(dir);
        if (write_cache(cpath, m->blob, m->blob_len) == 0) {
            /* Prefer the shared, file-backed mapping over a private heap copy. */
            struct vis_shape_model *mm = ff_calloc(1, sizeof *mm);
            if (mm && map_cache(cpath, &st, mm) == 0) {
                vis_shape_model_free(m);
                m = mm;
            } else {
                ff_free(mm);
            }
            m->info.cache_written = 1;
        } else {
            cpath[0] = 0;
        }
    }
done:
    snprintf(m->info.cache_path, sizeof m->info.cache_path, "%s", cpath);
    m->info.simd = vis__shape_kernel_name();
    *out = m;
    return FF_OK;
}
