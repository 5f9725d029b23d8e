-- The tables the contract views read besides the warehouse's own (pipelines/analyst/views.py):
-- the form catalogue and the data dictionary, rebuilt whole from schemas/ on a run's warehouse and
-- on every release. The views and the support tables themselves are declared in schemas/views.yaml.

-- name: catalog_forms
CREATE OR REPLACE TABLE catalog_forms (regime VARCHAR, form VARCHAR, code_printed VARCHAR, period VARCHAR,
    education_level VARCHAR, status VARCHAR, title_vi VARCHAR, title_en VARCHAR, base_form VARCHAR)

-- name: catalog_rows
CREATE OR REPLACE TABLE catalog_rows (regime VARCHAR, form VARCHAR, row_code INTEGER, sheet VARCHAR,
    column_set VARCHAR, tt VARCHAR, label_vi VARCHAR, label_en VARCHAR, unit VARCHAR, entity VARCHAR)

-- name: catalog_columns
CREATE OR REPLACE TABLE catalog_columns (regime VARCHAR, form VARCHAR, column_set VARCHAR, col_key VARCHAR,
    excel_col VARCHAR, number INTEGER, label_vi VARCHAR, label_en VARCHAR)

-- name: catalog_fields
CREATE OR REPLACE TABLE catalog_fields (entity VARCHAR, json_path VARCHAR, field VARCHAR, type VARCHAR,
    codelist VARCHAR, required BOOLEAN, pii VARCHAR)

-- name: data_dictionary
CREATE OR REPLACE TABLE data_dictionary (view_name VARCHAR, column_name VARCHAR, data_type VARCHAR,
    codelist VARCHAR, meaning_vi VARCHAR, meaning_en VARCHAR)
