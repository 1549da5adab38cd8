-- The eyewear catalog: products (frames), their variants and images.
-- Timestamps are milliseconds since the epoch. suits is a bitmask of face
-- shapes (see src/catalog/catalog.h). price_cents / in_stock roll up the
-- variants (lowest price; any stock) and are kept current by the catalog.
CREATE TABLE products (
  id             INTEGER PRIMARY KEY,
  slug           TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  brand          TEXT NOT NULL,
  description    TEXT NOT NULL DEFAULT '',
  shape          TEXT NOT NULL CHECK (shape IN ('rectangle','square','round','oval','cat-eye','aviator','browline','geometric','wayfarer')),
  material       TEXT NOT NULL,
  colour         TEXT NOT NULL,
  lens_width_mm  INTEGER NOT NULL CHECK (lens_width_mm BETWEEN 30 AND 80),
  bridge_mm      INTEGER NOT NULL CHECK (bridge_mm BETWEEN 10 AND 30),
  temple_mm      INTEGER NOT NULL CHECK (temple_mm BETWEEN 110 AND 165),
  lens_height_mm INTEGER NOT NULL CHECK (lens_height_mm BETWEEN 20 AND 70),
  suits          INTEGER NOT NULL DEFAULT 0,
  price_cents    INTEGER NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
  currency       TEXT NOT NULL DEFAULT 'EUR',
  in_stock       INTEGER NOT NULL DEFAULT 0,
  version        INTEGER NOT NULL DEFAULT 1,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  deleted_at     INTEGER
);
CREATE INDEX products_live_id ON products (id) WHERE deleted_at IS NULL;
CREATE INDEX products_shape ON products (shape, id) WHERE deleted_at IS NULL;
CREATE INDEX products_price ON products (price_cents, id) WHERE deleted_at IS NULL;
CREATE INDEX products_name ON products (name, id) WHERE deleted_at IS NULL;
CREATE INDEX products_created ON products (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE variants (
  id          INTEGER PRIMARY KEY,
  product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  sku         TEXT NOT NULL UNIQUE,
  colour      TEXT NOT NULL,
  size        TEXT NOT NULL,
  stock       INTEGER NOT NULL CHECK (stock >= 0),
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  currency    TEXT NOT NULL,
  position    INTEGER NOT NULL,
  UNIQUE (product_id, colour, size)
);
CREATE INDEX variants_product ON variants (product_id, position);
CREATE INDEX variants_colour ON variants (colour, product_id);

CREATE TABLE product_images (
  id         INTEGER PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  url        TEXT NOT NULL,
  alt        TEXT NOT NULL DEFAULT '',
  position   INTEGER NOT NULL
);
CREATE INDEX product_images_product ON product_images (product_id, position);

-- Full-text search over name, brand, description (external content).
CREATE VIRTUAL TABLE products_fts USING fts5(
  name, brand, description, content='products', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER products_fts_ai AFTER INSERT ON products BEGIN
  INSERT INTO products_fts (rowid, name, brand, description)
  VALUES (new.id, new.name, new.brand, new.description);
END;
CREATE TRIGGER products_fts_ad AFTER DELETE ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name, brand, description)
  VALUES ('delete', old.id, old.name, old.brand, old.description);
END;
CREATE TRIGGER products_fts_au AFTER UPDATE OF name, brand, description ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name, brand, description)
  VALUES ('delete', old.id, old.name, old.brand, old.description);
  INSERT INTO products_fts (rowid, name, brand, description)
  VALUES (new.id, new.name, new.brand, new.description);
END;
