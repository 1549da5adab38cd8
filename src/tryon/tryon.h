/* tryon.h - virtual try-on sessions: what other modules (the renderer) use.
 *
 * A session is one uploaded selfie: its photo (metadata stripped, in the object
 * store), the analysis made once at upload (faces, landmarks, pose, quality,
 * face shape, millimetre measurements) and the renders made from it. It belongs
 * to an owner (an anonymous shopper id today; a user once accounts land) and
 * expires after FRAMEFIT_TRYON_RETENTION_DAYS.
 *
 *   // composition root (cmd_serve.c), once:
 *   struct tryon *t;
 *   tryon_open(cfg, db, &t, why, sizeof why);
 *   ... tryon_http_register(router, t); render_http_register(router, t, ...);
 *   tryon_close(t);                                   // after the server stopped
 *
 *   // a render handler:
 *   struct tryon_owner who;
 *   if (tryon_req_owner(req, &who)) return 404;       // no anonymous id: nothing is theirs
 *   struct tryon_geom g;
 *   err = tryon_session_geom(tryon_db(t), id, &who, &g);   // FF_ENOTFOUND: 404
 *   store_get(tryon_store(t), g.photo_key, 0, &bytes, &n); // then vis_decode (applies the
 *                                                          // kept EXIF orientation)
 *   ... tryon_render_get / tryon_render_put for the cache ...
 *
 * Everything here is thread-safe. Unless said otherwise nothing returned
 * needs freeing (results are copied into caller-provided structs). */
#ifndef FF_TRYON_TRYON_H
#define FF_TRYON_TRYON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "db/db.h"
#include "http/req.h"
#include "store/store.h"

#define TRYON_ID_LEN 22          /* session ids: 128 random bits, base64url, no padding */
#define TRYON_ANON_MIN 22        /* anonymous ids: 22..64 chars of [A-Za-z0-9_-] */
#define TRYON_ANON_MAX 64
#define TRYON_RENDER_KEY_MAX 200 /* longest render cache key (bytes) */
#define TRYON_ANON_COOKIE "ff_anon"
#define TRYON_ANON_HEADER "X-Anonymous-Id"

struct tryon; /* the service: db pool, object store, vision engine, settings */
struct vis_engine;

/* Opens the service: the object store (cfg->object_store, default
 * DATA_DIR/objects) and the vision engine (cfg->landmark_model, cfg->cache_dir;
 * loaded once, shared by all threads). A missing landmark model is not fatal:
 * the service opens, logs a warning, and uploads answer 503. db is borrowed
 * (must outlive the service). *out is owned by the caller: tryon_close. */
enum ff_err tryon_open(const struct ff_config *cfg, struct db *db, struct tryon **out,
                       char *err, size_t errlen) FF_MUST_CHECK;
/* The same without the vision engine (the retention sweep, CLI tools):
 * uploads answer 503 on such a service. */
enum ff_err tryon_open_storage(const struct ff_config *cfg, struct db *db, struct tryon **out,
                               char *err, size_t errlen) FF_MUST_CHECK;
/* NULL-safe. */
void tryon_close(struct tryon *t);

/* Borrowed pointers, valid until tryon_close. tryon_engine is NULL when the
 * landmark model could not be loaded. */
struct db *tryon_db(const struct tryon *t);
struct store *tryon_store(const struct tryon *t);
const struct vis_engine *tryon_engine(const struct tryon *t);

/* ---- owners -------------------------------------------------------------------- */

/* Who is asking. A session matches when its user_id is the caller's (signed
 * in) or its anon_id is the caller's anonymous id: a user sees the sessions of
 * their account and those this browser made before signing in. */
struct tryon_owner {
    int64_t user_id;
    char anon_id[TRYON_ANON_MAX + 1]; /* "" = none */
};

/* True for 22..64 chars of [A-Za-z0-9_-]. */
bool tryon_anon_id_valid(const char *s);

/* The caller from accounts' http_principal (http/auth.h): the signed-in user
 * and the anonymous shopper id (cookie ff_anon or header X-Anonymous-Id; a
 * malformed value counts as absent). FF_ENOTFOUND when there is neither:
 * then nothing is theirs (answer 404). */
enum ff_err tryon_req_owner(struct http_req *req, struct tryon_owner *out) FF_MUST_CHECK;

/* ---- geometry for rendering ---------------------------------------------------- */

/* Everything the renderer needs to place frames on the photo. Coordinates are
 * pixels of the stored photo AFTER its EXIF orientation is applied (which is
 * what vis_decode returns for the stored bytes), x right, y down. */
struct tryon_geom {
    char photo_key[STORE_KEY_LEN + 1]; /* the photo in the object store */
    char photo_type[16];               /* "image/jpeg" or "image/png" */
    int width, height;                 /* photo size, orientation applied */
    bool has_face;                     /* false: no usable face (the rest is zero) */
    double eye_left[2], eye_right[2];  /* eye centres; "right" = subject's right eye,
                                          on the image's LEFT (vision/face.h) */
    double roll_deg, yaw_deg, pitch_deg; /* vision/face.h conventions */
    double mm_per_px;                  /* scale at the eyes (see "scale" in the analysis) */
    double face_width_mm;              /* cheekbone width, for frame sizing */
    double landmarks[68][2];           /* iBUG 300-W order */
};

/* Loads session_id's geometry for who. FF_ENOTFOUND when the session does not
 * exist, has expired or is not theirs (never tell these apart: 404 for all).
 * FF_EDB/FF_ETIMEOUT on storage errors. */
enum ff_err tryon_session_geom(struct db *db, const char *session_id,
                               const struct tryon_owner *who, struct tryon_geom *out) FF_MUST_CHECK;

/* ---- the render cache ----------------------------------------------------------- */

/* One cached render of a session. */
struct tryon_render {
    char key[TRYON_RENDER_KEY_MAX + 1];    /* the renderer's cache key */
    char object_key[STORE_KEY_LEN + 1];    /* the bytes in the object store */
    char content_type[64];
    int64_t bytes;
    int64_t created_at_ms;
};

/* Looks up session_id's render under key (no owner check: call after
 * tryon_session_geom). FF_ENOTFOUND when there is none. The object itself may
 * have been lost (store_get FF_ENOTFOUND): render again and tryon_render_put. */
enum ff_err tryon_render_get(struct db *db, const char *session_id, const char *key,
                             struct tryon_render *out) FF_MUST_CHECK;

/* Stores data in the object store and records it as session_id's render under
 * key (replacing an earlier record of that key). The record and the object go
 * with the session (DELETE, expiry). Objects are shared by content, so another
 * session's identical render is never deleted under it. FF_ENOTFOUND when the
 * session is gone; FF_EINVAL for an empty key or one over TRYON_RENDER_KEY_MAX
 * or a content_type over 63 bytes. out may be NULL. */
enum ff_err tryon_render_put(struct tryon *t, const char *session_id, const char *key,
                             const void *data, size_t len, const char *content_type,
                             struct tryon_render *out) FF_MUST_CHECK;

/* All renders recorded for session_id: *out is an ff_malloc'd array of *n
 * entries (caller frees with ff_free; NULL when *n == 0). */
enum ff_err tryon_renders_list(struct db *db, const char *session_id, struct tryon_render **out,
                               size_t *n) FF_MUST_CHECK;

/* Drops session_id's render records and their objects (not the session). */
enum ff_err tryon_renders_delete(struct tryon *t, const char *session_id) FF_MUST_CHECK;

/* ---- sessions --------------------------------------------------------------------- */

/* Deletes session_id for who with its photo and renders (objects no other
 * session uses). FF_ENOTFOUND as tryon_session_geom. */
enum ff_err tryon_session_delete(struct tryon *t, const char *session_id,
                                 const struct tryon_owner *who) FF_MUST_CHECK;

/* THE RETENTION SWEEP ("tryon.expire"). Deletes up to `limit` sessions whose
 * expires_at <= now_ms, with their photos and renders; *deleted (may be NULL)
 * gets how many. Idempotent; safe to run from several processes. To be run
 * by the jobs module as "tryon.expire" (tryon_jobs_register), by
 * `framefit tryon-expire`, and directly by tests. */
enum ff_err tryon_expire_sweep(struct tryon *t, int64_t now_ms, int limit,
                               int *deleted) FF_MUST_CHECK;

/* ---- jobs (tryon_jobs.c) ------------------------------------------------------------ */

struct jobs_registry;
/* Registers the job "tryon.expire" (tryon_expire_sweep in batches) and runs it
 * hourly (jobs_every). cfg and db must outlive the workers; the handler keeps
 * them in module state (one app per process). */
enum ff_err tryon_jobs_register(struct jobs_registry *reg, const struct ff_config *cfg,
                                struct db *db) FF_MUST_CHECK;

/* ---- HTTP (tryon_http.c) ---------------------------------------------------------- */

struct http_router;
/* Registers POST/GET/DELETE /api/v1/tryon/sessions[/{id}] and
 * GET /api/v1/tryon/sessions/{id}/recommendations. t may be NULL only when the
 * routes are just listed (--print-routes). */
enum ff_err tryon_http_register(struct http_router *r, struct tryon *t) FF_MUST_CHECK;

#endif
