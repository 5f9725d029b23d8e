"""Great Expectations on the DuckDB warehouse: the only module that imports great_expectations (the
import costs seconds, so it happens inside run_gx).

GX 1.24's SQL engine returns empty results on DuckDB unless it keeps one persistent connection
(patch_gx_for_duckdb); tests/validate/test_gx.py fails loudly if an upgrade breaks that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pipelines.validate.rules import Rule

DOCS_SITE = "edustat"


def patch_gx_for_duckdb() -> None:
    """Make GX keep one persistent connection for duckdb (idempotent).

    GX 1.24's SQL engine opens a connection per query and reads rows after closing it; on
    DuckDB that returns empty results (upstream issues great_expectations #10738 and #11579).
    GX keeps a persistent connection only for the dialects of the private tuple
    `_PERSISTED_CONNECTION_DIALECTS`, compared both as strings (dialect_name in tuple) and by
    `.value` (str.startswith(d.value)), hence a str subclass carrying `.value`. GX is pinned in
    pyproject.toml; tests/test_validate.py fails loudly if an upgrade breaks this.
    """
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    class _DuckDBDialect(str):
        value = "duckdb"

    current = see._PERSISTED_CONNECTION_DIALECTS
    if any(str(d) == "duckdb" or getattr(d, "value", None) == "duckdb" for d in current):
        return
    see._PERSISTED_CONNECTION_DIALECTS = (*current, _DuckDBDialect("duckdb"))


def expectation(gx: Any, rule: Rule) -> Any:
    meta = {"rule_id": rule.id}
    e = gx.expectations
    if rule.check == "not_null":
        return e.ExpectColumnValuesToNotBeNull(column=rule.field, meta=meta)
    if rule.check == "in_set":
        return e.ExpectColumnValuesToBeInSet(column=rule.field, value_set=list(rule.value_set), meta=meta)
    if rule.check == "max_length":
        return e.ExpectColumnValueLengthsToBeBetween(
            column=rule.field, min_value=None, max_value=rule.max_length, meta=meta
        )
    return e.UnexpectedRowsExpectation(unexpected_rows_query=rule.sql, meta=meta)


def raised(exception_info: Any) -> str | None:
    """The exception message if GX says a metric raised (flat or keyed by metric id)."""
    if not exception_info:
        return None
    infos = exception_info.values() if "raised_exception" not in exception_info else [exception_info]
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            return str(info.get("exception_message"))
    return None


def run_gx(path: Path, rules: list[Rule], docs_dir: Path | None = None) -> dict[str, dict]:
    """Run one suite per staging table; return each rule's GX result dict (checked). With
    docs_dir, GX also builds its Data Docs (static HTML of the suites and their results) there."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    patch_gx_for_duckdb()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    datasource = context.data_sources.add_sql("warehouse", connection_string=f"duckdb:///{path.resolve()}")
    # SUMMARY with the index query: GX counts the failing rows and returns the SQL that lists them
    # all (used below); COMPLETE would also fetch every failing value into Python (slow, and
    # memory in proportion to the failures).
    result_format = {"result_format": "SUMMARY", "unexpected_index_column_names": ["row_id"],
                     "return_unexpected_index_query": True, "partial_unexpected_count": 0}  # fmt: skip
    results: dict[str, dict] = {}
    if docs_dir is not None:
        context.add_data_docs_site(
            DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
    try:
        for name in dict.fromkeys(r.suite for r in rules):  # one suite per table, in rule order
            suite_rules = [r for r in rules if r.suite == name]
            table = suite_rules[0].table
            batch = datasource.add_table_asset(table, table_name=table).add_batch_definition_whole_table(
                "all"
            )
            # Expectations passed at construction: suite.add_expectation re-serialises the
            # whole suite on every call (quadratic, seconds for ~140 rules).
            suite = context.suites.add(
                gx.ExpectationSuite(name=name, expectations=[expectation(gx, r) for r in suite_rules])
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            run = definition.run(result_format=result_format)
            for res in run.results:
                rule_id = (res.expectation_config.meta or {}).get("rule_id")
                error = raised(res.exception_info)
                if error:
                    raise RuntimeError(f"GX could not evaluate {rule_id} on {table}: {error}")
                results[rule_id] = dict(res.result or {})
        if docs_dir is not None:
            context.build_data_docs(site_names=[DOCS_SITE])
    finally:
        # GX's close() disposes the engine but leaves the persisted connection (our shim) open,
        # which would keep the DuckDB file open in this process.
        engine = datasource.get_execution_engine()
        if getattr(engine, "_connection", None) is not None:
            engine._connection.close()
            engine._connection = None
        engine.close()
        # The datasource's own engine (used to inspect tables) and the execution engine's
        # StaticPool still hold DuckDB connections; without disposing them they live until
        # interpreter exit, where nanobind reports them as leaked.
        engine.engine.dispose()
        datasource.get_engine().dispose()
    missing = {r.id for r in rules} - set(results)
    if missing:
        raise RuntimeError(f"GX returned no result for {sorted(missing)}")
    return results
