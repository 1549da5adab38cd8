-- Custom frame images for the try-on (src/render_http/frame_http.c): a staff-uploaded
-- RGBA PNG (in the object store, content-addressed) with its lens centres, per
-- variant SKU. Without a row the renderer draws the frame from the product's shape,
-- colour and measurements. Keyed by SKU, not variant id: product updates replace
-- variant rows but keep their SKUs. Timestamps are epoch milliseconds.
CREATE TABLE frame_images (
  sku          TEXT PRIMARY KEY,
  object_key   TEXT NOT NULL,            -- sha256 hex of the PNG
  lens_left_x  DOUBLE PRECISION NOT NULL,              -- lens centres, raster pixels of the PNG
  lens_left_y  DOUBLE PRECISION NOT NULL,
  lens_right_x DOUBLE PRECISION NOT NULL,
  lens_right_y DOUBLE PRECISION NOT NULL,
  width        BIGINT NOT NULL,
  height       BIGINT NOT NULL,
  bytes        BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);
CREATE INDEX frame_images_object ON frame_images (object_key);
