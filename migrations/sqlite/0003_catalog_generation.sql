-- A one-row counter bumped by every insert, update or delete of the catalog
-- tables, whoever the writer is (this binary, another instance, a future
-- order/stock writer, psql). Read caches poll it and drop what they hold
-- when it moves (src/catalog/catalog_cache.h).
CREATE TABLE catalog_generation (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  gen INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, gen) VALUES (1, 1);
CREATE TRIGGER products_gen_ai AFTER INSERT ON products BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER products_gen_au AFTER UPDATE ON products BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER products_gen_ad AFTER DELETE ON products BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER variants_gen_ai AFTER INSERT ON variants BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER variants_gen_au AFTER UPDATE ON variants BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER variants_gen_ad AFTER DELETE ON variants BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER product_images_gen_ai AFTER INSERT ON product_images BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER product_images_gen_au AFTER UPDATE ON product_images BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER product_images_gen_ad AFTER DELETE ON product_images BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
END;
