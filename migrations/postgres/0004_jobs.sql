-- Durable background jobs (src/jobs/jobs.h). Times are epoch milliseconds.
-- A worker claims the best runnable job (priority DESC, run_at, id) from the
-- partial index jobs_runnable with FOR UPDATE SKIP LOCKED, sets a lease
-- (lease_id fences the completion: only the current claim may finish it) and
-- records each attempt in job_attempts when it ends.
CREATE TABLE jobs (
  id           BIGSERIAL PRIMARY KEY,
  type         TEXT NOT NULL,
  queue        TEXT NOT NULL DEFAULT 'default',
  payload      TEXT NOT NULL DEFAULT '{}',
  state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued','running','done','dead','discarded')),
  priority     INTEGER NOT NULL DEFAULT 0,
  run_at       BIGINT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 0,   -- 0 = the workers' configured default
  unique_key   TEXT,
  lease_id     BIGINT,
  lease_until  BIGINT,
  locked_by    TEXT,
  started_at   BIGINT,
  last_error   TEXT,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  finished_at  BIGINT
);
CREATE INDEX jobs_runnable ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE UNIQUE INDEX jobs_unique_live ON jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('queued','running');
CREATE INDEX jobs_state_queue ON jobs (state, queue, id);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done','discarded');

CREATE TABLE job_attempts (
  id          BIGSERIAL PRIMARY KEY,
  job_id      BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  worker      TEXT NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('done','retry','failed','lost','released')),
  error       TEXT,
  started_at  BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL
);
CREATE INDEX job_attempts_job ON job_attempts (job_id, id);

-- Recurring jobs (jobs_every): one row per type; an instance enqueues a run
-- only when its compare-and-set on next_run_at wins.
CREATE TABLE job_schedules (
  name        TEXT PRIMARY KEY,
  queue       TEXT NOT NULL,
  payload     TEXT NOT NULL,
  interval_ms BIGINT NOT NULL CHECK (interval_ms > 0),
  next_run_at BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
