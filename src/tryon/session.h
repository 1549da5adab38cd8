/* session.h - the try-on module's internal session API (used by its HTTP
 * handlers and tests; other modules use tryon.h). */
#ifndef FF_TRYON_SESSION_H
#define FF_TRYON_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tryon/tryon.h"

/* Creates a session for who from an uploaded photo (JPEG or PNG bytes): checks
 * the limits, strips metadata, decodes, analyses once, stores photo and row.
 * *out is the analysis JSON returned to the shopper (ff_malloc'd, caller frees
 * with ff_free; *outlen its length). On error detail gets a sentence for the
 * shopper: FF_ETOOBIG (413: bytes or pixels), FF_EUNSUPPORTED (415: not JPEG or
 * PNG), FF_EINVAL (422: damaged, truncated, too small), FF_ETIMEOUT (503: no
 * vision engine), FF_EDB/FF_EIO/FF_ENOMEM. */
enum ff_err tryon_session_create(struct tryon *t, const struct tryon_owner *who,
                                 const uint8_t *data, size_t len, char **out, size_t *outlen,
                                 char *detail, size_t dlen) FF_MUST_CHECK;

/* The stored analysis JSON of session id for who (ff_malloc'd *out), and its
 * face shape name into shape ("" when no face; shape may be NULL).
 * FF_ENOTFOUND as tryon_session_geom. */
enum ff_err tryon_session_json(struct db *db, const char *id, const struct tryon_owner *who,
                               char **out, size_t *len, char *shape,
                               size_t shape_len) FF_MUST_CHECK;

/* Recommendations for session id (see tryon_reco.c): *out is a new JSON
 * object (caller decrefs). limit 1..50. FF_ENOTFOUND as above; FF_EINVAL (with
 * detail) when the photo has no usable face. */
enum ff_err tryon_recommend(struct tryon *t, const char *id, const struct tryon_owner *who,
                            int limit, json_t **out, char *detail, size_t dlen) FF_MUST_CHECK;

/* Recommendations from a face shape name and sizes alone (a saved face
 * profile): face_w_mm the face width, icd_mm the inner eye-corner distance.
 * Same document as tryon_recommend without "session_id". FF_EINVAL (with
 * detail) for an unknown shape or non-positive sizes. */
enum ff_err tryon_recommend_for(struct tryon *t, const char *shape, double face_w_mm,
                                double icd_mm, int limit, json_t **out, char *detail,
                                size_t dlen) FF_MUST_CHECK;

/* The inner eye-corner distance (landmarks 39-42) of g in mm, yaw-corrected. */
double tryon_inner_eye_mm(const struct tryon_geom *g);

/* "2026-11-25T00:00:00.000Z" (32 bytes are plenty). */
void tryon_iso_time(int64_t ms, char *buf, size_t len);

#endif
