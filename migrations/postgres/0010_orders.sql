-- Carts, orders, stock reservations and order events (src/orders/orders.h).
-- Money is integer cents with an ISO currency; times are epoch milliseconds.
-- A cart line belongs to an owner: 'u:<user id>' or 'a:<anonymous id>'.
CREATE TABLE cart_items (
  owner       TEXT NOT NULL,
  variant_id  BIGINT NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
  quantity    INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 100),
  price_cents BIGINT NOT NULL,          -- the price when the line was added
  currency    TEXT NOT NULL,
  added_at    BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (owner, variant_id)
);

CREATE TABLE orders (
  id             BIGSERIAL PRIMARY KEY,
  user_id        BIGINT,
  anon_id        TEXT,
  email          TEXT,                 -- where order emails go (user's or guest's)
  status         TEXT NOT NULL CHECK (status IN ('pending_payment','paid','fulfilled','shipped',
                   'delivered','cancelled','refunded','partially_refunded')),
  currency       TEXT NOT NULL,
  total_cents    BIGINT NOT NULL CHECK (total_cents >= 0),
  refunded_cents BIGINT NOT NULL DEFAULT 0,
  reserved_until BIGINT,               -- unpaid orders are cancelled after this
  carrier        TEXT,
  tracking       TEXT,
  flags          TEXT NOT NULL DEFAULT '',
  version        BIGINT NOT NULL DEFAULT 1,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX orders_anon ON orders (anon_id, id) WHERE anon_id IS NOT NULL;
CREATE INDEX orders_status ON orders (status, created_at);
CREATE INDEX orders_expiry ON orders (reserved_until) WHERE status = 'pending_payment';

CREATE TABLE order_lines (
  id               BIGSERIAL PRIMARY KEY,
  order_id         BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  variant_id       BIGINT NOT NULL,
  product_id       BIGINT NOT NULL,
  sku              TEXT NOT NULL,
  name             TEXT NOT NULL,
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
  currency         TEXT NOT NULL,
  prescription     TEXT                 -- JSON object, validated (NULL = none)
);
CREATE INDEX order_lines_order ON order_lines (order_id, id);

-- Units taken from variants.stock by an order; released (stock returned)
-- exactly once when an unpaid order is cancelled.
CREATE TABLE stock_reservations (
  order_id    BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  variant_id  BIGINT NOT NULL,
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  expires_at  BIGINT NOT NULL,
  released_at BIGINT,
  PRIMARY KEY (order_id, variant_id)
);

CREATE TABLE order_events (
  id          BIGSERIAL PRIMARY KEY,
  order_id    BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status TEXT,
  to_status   TEXT NOT NULL,
  actor       TEXT NOT NULL,            -- 'user:<id>', 'anon', 'staff:<id>', 'system', 'stripe'
  reason      TEXT NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);
