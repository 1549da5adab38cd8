-- Face profiles (src/tryon/tryon_profile.c): a signed-in shopper's face shape
-- and measurements, saved only when they agree (PUT /api/v1/me/face-profile
-- with "consent": true) and removed when they withdraw it (DELETE) or delete
-- their account (cascade). Only derived numbers are kept: no photo, no
-- landmarks. consent_at records when they agreed; source_session_id names the
-- try-on session the numbers came from (that session still expires on its own).
CREATE TABLE face_profiles (
  user_id               BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  face_shape            TEXT NOT NULL,
  confidence            REAL NOT NULL,
  face_width_mm         REAL NOT NULL,
  pupillary_distance_mm REAL,
  inner_eye_distance_mm REAL,
  profile               TEXT NOT NULL,    -- JSON: what GET /api/v1/me/face-profile shows
  source_session_id     TEXT NOT NULL,
  consent_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL
);
