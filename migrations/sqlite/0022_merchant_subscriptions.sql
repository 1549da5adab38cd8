-- The merchant plan (src/payments/subscriptions.h): the try-on service is sold
-- to the merchant (the store operator, one per deployment) monthly through a
-- Stripe subscription. One row per subscription attempt; at most one is open
-- (slot = 1: being created, incomplete, active, past_due, unpaid...); a
-- canceled one or an attempt Stripe refused is closed (slot NULL) and kept.
-- Stripe times are epoch seconds (as Stripe sends them); our own times are
-- epoch milliseconds (created_at, updated_at, received_at).
CREATE TABLE merchant_subscriptions (
  id                        INTEGER PRIMARY KEY AUTOINCREMENT,
  slot                      INTEGER UNIQUE CHECK (slot = 1),
  token                     TEXT NOT NULL UNIQUE,  -- random; Stripe idempotency keys derive from it
  email                     TEXT NOT NULL,
  name                      TEXT,
  price_id                  TEXT NOT NULL,
  customer_id               TEXT,                  -- stored before the subscription is created
  subscription_id           TEXT UNIQUE,
  status                    TEXT NOT NULL DEFAULT 'none' CHECK (status IN ('none','incomplete',
                              'incomplete_expired','trialing','active','past_due','unpaid',
                              'canceled','paused')),
  current_period_end        BIGINT,
  cancel_at_period_end      INTEGER NOT NULL DEFAULT 0,
  canceled_at               BIGINT,
  past_due_since            BIGINT,
  last_invoice_id           TEXT,
  last_invoice_status       TEXT,
  last_invoice_amount_cents BIGINT,
  last_invoice_currency     TEXT,
  last_failure              TEXT,                  -- why the last payment failed
  last_error                TEXT,                  -- why Stripe refused the creation
  state_at                  BIGINT NOT NULL DEFAULT 0, -- event.created of the applied state
  state_from_object         INTEGER NOT NULL DEFAULT 0, -- that state came from the subscription
  created_at                BIGINT NOT NULL,
  updated_at                BIGINT NOT NULL
);

-- Every subscription/invoice event received, with what it did.
CREATE TABLE merchant_subscription_events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT NOT NULL,
  type            TEXT NOT NULL,
  subscription_id TEXT,
  event_created   BIGINT NOT NULL,
  outcome         TEXT NOT NULL CHECK (outcome IN ('applied','stale','unknown','ignored')),
  status_before   TEXT,
  status_after    TEXT,
  payload         TEXT,                            -- the event (kept for unknown subscriptions)
  received_at     BIGINT NOT NULL
);
CREATE INDEX merchant_subscription_events_sub ON merchant_subscription_events (subscription_id, id);
