-- A one-row counter bumped by every insert, update, delete or truncate of the
-- catalog tables, whoever the writer is (this binary, another instance, a
-- future order/stock writer, psql). Read caches poll it and drop what they
-- hold when it moves (src/catalog/catalog_cache.h). Statement-level triggers:
-- one bump per statement, not per row.
CREATE TABLE catalog_generation (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  gen BIGINT NOT NULL
);
INSERT INTO catalog_generation (id, gen) VALUES (1, 1);
CREATE FUNCTION catalog_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalog_generation SET gen = gen + 1 WHERE id = 1;
  RETURN NULL;
END;
$$;
CREATE TRIGGER products_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_generation_bump();
CREATE TRIGGER variants_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON variants
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_generation_bump();
CREATE TRIGGER product_images_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_images
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_generation_bump();
