-- Idempotency-Key records (src/idem): one row per (caller scope, key) for the
-- POSTs that create; 'running' while the first request runs, then 'done' with
-- its answer for replay. Purged after FRAMEFIT_IDEMPOTENCY_TTL.
CREATE TABLE idempotency_keys (
  scope        TEXT NOT NULL,
  idem_key     TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('running', 'done')),
  status       INTEGER,
  content_type TEXT,
  location     TEXT,
  body         TEXT,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
