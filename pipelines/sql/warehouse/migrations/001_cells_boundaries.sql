-- Warehouses made before boundary versions (issue 5): cells without their boundaries.
ALTER TABLE cells ADD COLUMN IF NOT EXISTS boundaries VARCHAR;
