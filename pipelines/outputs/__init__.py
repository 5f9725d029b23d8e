"""Outputs: what people read and send. The official workbooks of every unit (one generic writer
over the form layouts), the tidy tables (cells, indicators, problems; CSV, Parquet, SDMX), each
school's error list and each Phòng's and Sở's summary, the completeness workbook, and the
documents generated from the catalogue.

Modules: `styles`, `layout`, `workbook` (the form workbooks), `problems` and `errors` (what a school
must fix), `completeness`, `sdmx`, `docs` (rules, fields, data dictionary), `export` (one period's
outputs, in order).
"""

from pipelines.outputs.export import ExportResult, export_period
from pipelines.outputs.workbook import UnitHeader, dump_workbook, write_form_workbook

__all__ = ["ExportResult", "UnitHeader", "dump_workbook", "export_period", "write_form_workbook"]
