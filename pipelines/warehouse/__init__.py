"""The DuckDB warehouse every stage shares: connections, the writer lock, the tables, run state.

Its modules: `connection` (one configuration shared with Great Expectations, transactions, bulk
inserts), `lock` (one writer at a time), `schema` (the tables), `changes` (what changed since the
last run of a period), `runs` (which runs committed).
"""

from pipelines.warehouse.changes import (
    code_digest,
    file_sha256,
    schools_whose_staged_file_changed,
    snapshot_staged_files,
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
from pipelines.warehouse.runs import record_aggregate_run
from pipelines.warehouse.schema import (
    LINEAGE_COLUMNS,
    PRE_HASH_COLUMN,
    create_history_tables,
    create_macros,
    create_staging_tables,
    create_workflow_tables,
    load_codelists,
    staging_columns,
)

__all__ = [
    "LINEAGE_COLUMNS",
    "LOCK_SUFFIX",
    "MEMORY_LIMIT_ENV",
    "PRE_HASH_COLUMN",
    "WarehouseLocked",
    "code_digest",
    "connect",
    "create_history_tables",
    "create_macros",
    "create_staging_tables",
    "create_workflow_tables",
    "engine_config",
    "exit_skipping_teardown",
    "file_sha256",
    "insert_rows",
    "load_codelists",
    "lock_path",
    "read_lock",
    "record_aggregate_run",
    "scalar",
    "schools_whose_staged_file_changed",
    "snapshot_staged_files",
    "staging_columns",
    "transaction",
    "tree_hash",
    "writer_lock",
]
