"""Ingest: the registry placed on the unit tree, every school's file normalised, pseudonymised and
staged with its lineage, every version of it kept as a submission.

Modules: `registry` (the school-import template), `units` (the run's dated unit tree), `places` (a
school's commune on the 2025 map, its registry levels), `normalise`
(values and keyed hashes), `limits` (what no input may exceed, with their settings), `walk` (every
entry under the inbox, archives opened safely), `parse` (one file's bytes checked and its records as
Arrow columns, in worker processes), `extract` (the records normalised in DuckDB, states staged),
`sync` (sync types, a school's state per period), `payload` (a file's outcome), `staging` (the
stg_* tables), `submissions` (versions) and `store` (their encrypted store), `ledger` (every input's
outcome and the balance), `inbox` (the ingest that ties them), `population`.
"""

from pipelines.ingest.inbox import IngestSummary, ingest_inbox
from pipelines.ingest.ledger import (
    LedgerSummary,
    LedgerUnbalanced,
    complete_records,
    ledger_summary,
    record_registry,
)
from pipelines.ingest.limits import Limits
from pipelines.ingest.normalise import normalise_code, normalise_date, pseudonymise
from pipelines.ingest.payload import PERIOD_SYNC_TYPE, FileOutcome, check_payload
from pipelines.ingest.places import crosswalk_beside
from pipelines.ingest.population import PopulationError, load_population, read_population
from pipelines.ingest.registry import REGISTRY_COLUMNS, Registry, RegistryError, read_registry
from pipelines.ingest.staging import staged_learners
from pipelines.ingest.units import load_units, registered_schools

__all__ = [
    "PERIOD_SYNC_TYPE",
    "REGISTRY_COLUMNS",
    "FileOutcome",
    "IngestSummary",
    "LedgerSummary",
    "LedgerUnbalanced",
    "Limits",
    "PopulationError",
    "Registry",
    "RegistryError",
    "check_payload",
    "complete_records",
    "crosswalk_beside",
    "ingest_inbox",
    "ledger_summary",
    "load_population",
    "load_units",
    "normalise_code",
    "normalise_date",
    "pseudonymise",
    "read_population",
    "read_registry",
    "record_registry",
    "registered_schools",
    "staged_learners",
]
