-- Transactional email (src/mail/): the outbox of messages, the suppression
-- list and the webhook event ids already applied (deduplication).
-- Timestamps are milliseconds since the epoch.
CREATE TABLE mail_messages (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  to_addr     TEXT NOT NULL,
  template    TEXT NOT NULL,
  locale      TEXT NOT NULL,
  vars        TEXT NOT NULL,
  essential   INTEGER NOT NULL CHECK (essential IN (0, 1)),
  status      TEXT NOT NULL DEFAULT 'queued'
              CHECK (status IN ('queued','sent','failed','suppressed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_code   INTEGER,
  last_reply  TEXT,
  message_id  TEXT,
  provider_id TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  sent_at     INTEGER
);
CREATE INDEX mail_messages_status ON mail_messages (status, id);
CREATE INDEX mail_messages_to ON mail_messages (to_addr, id);

CREATE TABLE mail_suppressions (
  email       TEXT PRIMARY KEY,
  reason      TEXT NOT NULL CHECK (reason IN ('unsubscribe','bounce','complaint')),
  source      TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);

CREATE TABLE mail_webhook_events (
  event_id    TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL
);
