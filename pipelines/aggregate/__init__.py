"""Aggregate: typed tables from the validated rows, each form compiled into SQL, cells per school,
every Phòng and Sở as sums of school cells, relations checked, indicators computed.

Modules: `context` (the run as aggregation sees it), `entities` (typed tables, history, re-run
plan), `compiler` (form → SQL), `cells` (cells and rollup), `relations`, `indicators`, `schools` (every
school counted once), `national` (the ministry's roll-up of the provinces).
"""

from pipelines.aggregate.cells import aggregate_form, aggregate_forms
from pipelines.aggregate.compiler import compile_form, compile_forms, entity_columns
from pipelines.aggregate.context import CELLS_COLUMNS, RunContext
from pipelines.aggregate.entities import (
    build_entity_tables,
    drop_delta,
    rebuild_plan,
    record_history,
    record_rebuild_state,
    touched_units,
)
from pipelines.aggregate.indicators import INDICATOR_COLUMNS, compute_indicators
from pipelines.aggregate.relations import check_forms_relations, check_relations, relation_instances
from pipelines.aggregate.schools import check_school_counts

__all__ = [
    "CELLS_COLUMNS",
    "INDICATOR_COLUMNS",
    "RunContext",
    "aggregate_form",
    "aggregate_forms",
    "build_entity_tables",
    "check_forms_relations",
    "check_relations",
    "check_school_counts",
    "compile_form",
    "compile_forms",
    "compute_indicators",
    "drop_delta",
    "entity_columns",
    "rebuild_plan",
    "record_history",
    "record_rebuild_state",
    "relation_instances",
    "touched_units",
]
