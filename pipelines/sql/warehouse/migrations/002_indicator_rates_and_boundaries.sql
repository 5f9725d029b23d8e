-- Warehouses made before rates over population, parity indices and boundary versions.
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS numerator_rate DOUBLE;
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS denominator_rate DOUBLE;
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS boundaries VARCHAR;
