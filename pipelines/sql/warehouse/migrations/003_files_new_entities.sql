-- Warehouses made before the end-of-year results (LstKetQuaHocTap) and the preschool budget
-- (NganSach): the files table lacks their record counts.
ALTER TABLE files ADD COLUMN IF NOT EXISTS n_result INTEGER;
ALTER TABLE files ADD COLUMN IF NOT EXISTS n_budget INTEGER;
