-- The catalog generation without a hot row (see docs/storage.md, "Catalog
-- generation"). Migration 0003's triggers updated the one catalog_generation
-- row, so every writer of variants / products / product_images (every checkout)
-- held that row's lock until commit and all of them ran one at a time. Now the
-- same statement triggers advance a sequence instead: nextval never blocks and
-- is not rolled back. A reader polls the sequence and, because a bump is seen
-- before its transaction commits, keeps dropping its cache until every
-- transaction that was running when it saw the bump has ended (snapshot xmin),
-- so it never keeps data read before a commit (src/catalog/catalog_cache.c).
-- The catalog_generation table stays (no longer written) for old readers.
CREATE SEQUENCE catalog_gen_seq;
SELECT setval('catalog_gen_seq', (SELECT gen FROM catalog_generation WHERE id = 1) + 1);
CREATE OR REPLACE FUNCTION catalog_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM nextval('catalog_gen_seq');
  RETURN NULL;
END;
$$;
