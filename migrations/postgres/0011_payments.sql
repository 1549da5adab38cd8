-- Payments (src/payments/payments.h): one Stripe PaymentIntent per order, the
-- refunds staff made, and the Stripe events already applied (dedupe by id).
-- Money is integer cents; times are epoch milliseconds.
CREATE TABLE payments (
  order_id        BIGINT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
  payment_intent  TEXT UNIQUE,             -- pi_...; NULL until Stripe answered
  amount_cents    BIGINT NOT NULL,         -- what was asked for (the order total)
  currency        TEXT NOT NULL,           -- lower case, as Stripe writes it
  status          TEXT NOT NULL,           -- the intent's status (requires_payment_method,
                                           -- processing, succeeded, canceled, ...)
  amount_received BIGINT NOT NULL DEFAULT 0,
  amount_refunded BIGINT NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0), -- only grows
  disputed        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,                    -- last payment_failed reason
  attention       TEXT,                    -- for staff: amount mismatch, paid after cancel
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX payments_attention ON payments (updated_at) WHERE attention IS NOT NULL;

CREATE TABLE payment_refunds (
  id            BIGSERIAL PRIMARY KEY,
  order_id      BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  stripe_refund TEXT UNIQUE,               -- re_...
  amount_cents  BIGINT NOT NULL CHECK (amount_cents > 0),
  reason        TEXT NOT NULL DEFAULT '',
  actor         TEXT NOT NULL,             -- 'staff:<id>', 'system'
  created_at    BIGINT NOT NULL
);
CREATE INDEX payment_refunds_order ON payment_refunds (order_id, id);

-- Every verified Stripe event applied (or deliberately ignored), recorded in
-- the transaction that applied it: a redelivery finds its id and changes nothing.
CREATE TABLE stripe_events (
  id          TEXT PRIMARY KEY,            -- evt_...
  type        TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  result      TEXT NOT NULL DEFAULT 'applied', -- applied | ignored
  note        TEXT                         -- e.g. amount mismatch, unknown order
);
CREATE INDEX stripe_events_received ON stripe_events (received_at);
