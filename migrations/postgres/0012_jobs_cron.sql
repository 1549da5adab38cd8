-- Cron schedules for recurring jobs (jobs_cron): the expression, or NULL for
-- an every-N-seconds schedule. interval_ms is informational for cron rows.
ALTER TABLE job_schedules ADD COLUMN cron TEXT;
