"""The reporting window: deadlines, submissions' states (approvals with their audit trail) and
completeness. A layer above the stages (it reads what they wrote) and below the outputs (which
render it).

Modules: `audit` (the append-only, hash-chained trail), `approvals` (the state machine, run and
user actions), `completeness` (expected, received, on time, late, missing).
"""

from pipelines.window.approvals import (
    ACTIONS,
    STATE_EN,
    STATE_VI,
    USER_ACTIONS,
    TransitionError,
    act,
    parse_unit,
    record_run_states,
    record_submissions,
    transition,
)
from pipelines.window.audit import period_states, state_of, verify_audit
from pipelines.window.completeness import completeness, completeness_rows, summary_lines

__all__ = [
    "ACTIONS",
    "STATE_EN",
    "STATE_VI",
    "USER_ACTIONS",
    "TransitionError",
    "act",
    "completeness",
    "completeness_rows",
    "parse_unit",
    "period_states",
    "record_run_states",
    "record_submissions",
    "state_of",
    "summary_lines",
    "transition",
    "verify_audit",
]
