"""Validate: the rules of schemas/sources compiled into Great Expectations suites, run on the DuckDB
warehouse; every failing record identified, results kept with history, excluded rows quarantined.

Modules: `rules` (the compiler), `gx` (the runner, the only importer of great_expectations),
`results` (results, rejected schools, quarantine), `check` (one validation, incremental on re-runs).
"""

from pipelines.validate.check import validate_warehouse
from pipelines.validate.results import top_problems
from pipelines.validate.rules import (
    REJECTED_RULE,
    Rule,
    ValidationSummary,
    bounds_text,
    compile_rules,
    rule_catalogue,
    run_parameters,
)

__all__ = [
    "REJECTED_RULE",
    "Rule",
    "ValidationSummary",
    "bounds_text",
    "compile_rules",
    "rule_catalogue",
    "run_parameters",
    "top_problems",
    "validate_warehouse",
]
