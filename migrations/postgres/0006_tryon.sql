-- Virtual try-on sessions (src/tryon/): one uploaded selfie, its analysis, and
-- the renders made from it. Photos and renders live in the object store
-- (store/store.h) under content-addressed keys; rows here name them. A session
-- belongs to an anonymous shopper id (cookie ff_anon / X-Anonymous-Id) and,
-- once accounts exist, to a user (user_id, NULL until then). Timestamps are
-- milliseconds since the epoch; a session past expires_at is invisible and
-- swept (photo and renders deleted) by tryon_expire_sweep.
CREATE TABLE tryon_sessions (
  id          TEXT PRIMARY KEY,            -- 128 random bits, base64url (22 chars)
  anon_id     TEXT,
  user_id     BIGINT,
  photo_key   TEXT NOT NULL,               -- sha256 hex in the object store
  photo_type  TEXT NOT NULL,               -- image/jpeg or image/png
  width       INTEGER NOT NULL,            -- orientation applied
  height      INTEGER NOT NULL,
  face_shape  TEXT,                        -- NULL when no face was found
  geom        TEXT,                        -- JSON geometry for rendering, NULL without a face
  analysis    TEXT NOT NULL,               -- the JSON returned by POST
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  CHECK (anon_id IS NOT NULL OR user_id IS NOT NULL)
);
CREATE INDEX tryon_sessions_expires ON tryon_sessions (expires_at);
CREATE INDEX tryon_sessions_photo ON tryon_sessions (photo_key);

-- The render cache: one row per (session, render key chosen by the renderer).
CREATE TABLE tryon_renders (
  session_id   TEXT NOT NULL REFERENCES tryon_sessions (id) ON DELETE CASCADE,
  key          TEXT NOT NULL,              -- e.g. variant + format + width
  object_key   TEXT NOT NULL,              -- sha256 hex in the object store
  content_type TEXT NOT NULL,
  bytes        BIGINT NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (session_id, key)
);
CREATE INDEX tryon_renders_object ON tryon_renders (object_key);
