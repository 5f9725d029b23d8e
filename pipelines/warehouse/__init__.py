"""The DuckDB warehouse every stage shares: connections, the writer lock, the tables, run state.

Its modules: `connection` (one configuration shared with Great Expectations, transactions, bulk
inserts), `lock` (one writer at a time), `schema` (the tables), `changes` (what changed since the
last run of a period), `runs` (which runs committed), `problems` (a run's problems, one model).
"""

from pipelines.warehouse.changes import (
    changed_schools,
    code_digest,
    file_sha256,
    forget_outputs,
    last_state,
    output_digests,
    save_output_digests,
    save_staged_files,
    save_state,
    tree_hash,
)
from pipelines.warehouse.connection import (
    MEMORY_LIMIT_ENV,
    connect,
    engine_config,
    exit_skipping_teardown,
    insert_rows,
    scalar,
    transaction,
)
from pipelines.warehouse.lock import LOCK_SUFFIX, WarehouseLocked, lock_path, read_lock, writer_lock
from pipelines.warehouse.problems import Problem, Violation, read_problems
from pipelines.warehouse.runs import record_aggregate_run
from pipelines.warehouse.schema import (
    LINEAGE_COLUMNS,
    PRE_HASH_COLUMN,
    create_staging_tables,
    ensure_schema,
    load_codelists,
    staging_columns,
)
from pipelines.warehouse.sql import ident, run_script, sql

__all__ = [
    "LINEAGE_COLUMNS",
    "LOCK_SUFFIX",
    "MEMORY_LIMIT_ENV",
    "PRE_HASH_COLUMN",
    "Problem",
    "Violation",
    "WarehouseLocked",
    "changed_schools",
    "code_digest",
    "connect",
    "create_staging_tables",
    "engine_config",
    "ensure_schema",
    "exit_skipping_teardown",
    "file_sha256",
    "forget_outputs",
    "ident",
    "insert_rows",
    "last_state",
    "load_codelists",
    "lock_path",
    "output_digests",
    "read_lock",
    "read_problems",
    "record_aggregate_run",
    "run_script",
    "save_output_digests",
    "save_staged_files",
    "save_state",
    "scalar",
    "sql",
    "staging_columns",
    "transaction",
    "tree_hash",
    "writer_lock",
]
