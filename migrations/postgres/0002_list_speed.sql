-- Faster catalog lists: the first image's URL kept on the product (no
-- correlated subquery per row), and per-shape indexes in list order.
ALTER TABLE products ADD COLUMN image_url TEXT;
UPDATE products SET image_url = (
  SELECT i.url FROM product_images i WHERE i.product_id = products.id
  ORDER BY i.position, i.id LIMIT 1);
CREATE INDEX products_shape_created ON products (shape, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_shape_price ON products (shape, price_cents, id) WHERE deleted_at IS NULL;
