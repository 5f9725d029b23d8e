"""Great Expectations on the DuckDB warehouse: the only module that imports great_expectations.

The import costs seconds (about 5 s of a province's validation), so it happens inside run_gx, without
the parts edustat never runs (scipy.stats: `defer_unused`). Importing it in a background thread during
ingest was tried and measured: no gain on 2 cores (24.3 s vs 24.1 s for a 1,000-school province; ingest
already keeps both busy), and a fork during that import would hang: not kept.

GX 1.24's SQL engine returns empty results on DuckDB unless it keeps one persistent connection
(patch_gx_for_duckdb); tests/validate/test_gx.py fails loudly if an upgrade breaks that.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pipelines.validate.rules import Rule, counts_sql

log = logging.getLogger(__name__)
DOCS_SITE = "edustat"
# GX counts; the failing rows themselves are listed by the rules' own SQL (results.py).
RESULT_FORMAT = {"result_format": "SUMMARY"}


# Imported by GX at its import (distribution expectations, statistics metrics: expect_column_kl_divergence
# and the bootstrapped KS test) but never run by edustat's rules: their module body runs on first use.
# scipy.stats is a quarter of GX's import time.
UNUSED_BY_RULES = ("scipy.stats",)


def defer_unused(names: tuple[str, ...] = UNUSED_BY_RULES) -> None:
    """Put each module not yet imported in sys.modules as a lazy module (importlib.util.LazyLoader):
    `from scipy import stats` binds it at once, its body runs at the first attribute read. The
    parent package itself is imported (scipy's own __init__ is light)."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def import_gx() -> Any:
    """great_expectations, made ready for edustat's rules (DuckDB shim, the rules expectation), without
    its unused parts."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    defer_unused()
    import great_expectations as gx

    patch_gx_for_duckdb()
    share_compiled_templates()
    rules_expectation()
    return gx


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


@functools.cache
def share_compiled_templates() -> None:
    """Compile each Data Docs template once per process (idempotent).

    GX gives every page, section and component view a jinja2 Environment of its own, so each page
    compiled the same templates again (about 0.2 s of a province's 0.36 s of Data Docs). The views'
    environments now share one in-memory bytecode cache: jinja2 checks each template's source
    against its checksum, then runs the code compiled the first time; the pages are the same."""
    from great_expectations.render.view.view import DefaultJinjaView
    from jinja2 import BytecodeCache

    class _Compiled(BytecodeCache):
        def __init__(self) -> None:
            self.code: dict[str, Any] = {}  # template key and source checksum → code

        def load_bytecode(self, bucket: Any) -> None:
            bucket.code = self.code.get(f"{bucket.key}:{bucket.checksum}")

        def dump_bytecode(self, bucket: Any) -> None:
            self.code[f"{bucket.key}:{bucket.checksum}"] = bucket.code

    compiled, init = _Compiled(), DefaultJinjaView.__init__

    def shared_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.env.bytecode_cache = compiled

    DefaultJinjaView.__init__ = shared_init


@functools.cache
def rules_expectation() -> type:
    """The GX expectation of every rule of one table at once (made once per process): its metric
    `edustat_rules.counts` runs one query over the batch (rules.counts_sql) through GX's execution
    engine and returns the row count and each rule's failing-row count, so GX's fixed cost is paid
    per table, not per rule (about 15 ms a rule and run with one expectation per rule, most of it
    GX rebuilding each expectation's configuration while it plans and resolves metrics)."""
    from great_expectations.compatibility import pydantic
    from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
    from great_expectations.core.metric_domain_types import MetricDomainTypes
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.expectation import BatchExpectation
    from great_expectations.expectations.metrics.metric_provider import metric_value
    from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider

    class EdustatRuleCounts(QueryMetricProvider):
        metric_name = "edustat_rules.counts"
        value_keys = ("rules_query",)
        query_param_name = "rules_query"

        @metric_value(engine=SqlAlchemyExecutionEngine)
        def _sqlalchemy(cls, execution_engine: Any, metric_domain_kwargs: dict, metric_value_kwargs: dict,
                        metrics: dict, runtime_configuration: dict) -> list[int]:  # fmt: skip
            selectable, _, _ = execution_engine.get_compute_domain(
                metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
            )
            query = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
                query=cls._get_query_from_metric_value_kwargs(metric_value_kwargs),
                batch_selectable=selectable,
                execution_engine=execution_engine,
            )
            row = execution_engine.execute_query(sa.text(query)).fetchone()
            return [int(v) for v in row]

    class ExpectEdustatRulesToFindNoRows(BatchExpectation):
        """Every rule of one staging table (rule_ids, in the order of rules_query's columns) finds no
        failing row; the observed value (as Data Docs show it) is the failing rows of all and of each
        rule that has any, the details each rule's count."""

        rules_query: str
        rule_ids: list[str]
        metric_dependencies: ClassVar[tuple[str, ...]] = ("edustat_rules.counts",)
        success_keys: ClassVar[tuple[str, ...]] = ("rules_query",)
        domain_keys: ClassVar[tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")
        _built: Any = pydantic.PrivateAttr(default=None)  # (id, configuration) made for that id

        @property
        def configuration(self) -> Any:
            """GX's configuration of the expectation, made once per object (and id). GX reads it
            about 30 times a validation (once per domain, success and runtime key), and each time
            rebuilt it from the fields, copying the rule ids and the query: most of GX's own time
            in a re-run's validations of a few hundred rows. Nothing GX runs changes it."""
            if self._built is None or self._built[0] != self.id:
                self._built = (self.id, super().configuration)
            return self._built[1]

        def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                      execution_engine: Any = None) -> dict:  # fmt: skip
            element_count, *counts = metrics["edustat_rules.counts"]
            failing = dict(zip(self.rule_ids, counts, strict=True))
            # What the Data Docs page shows: the failing rows of each rule that has any.
            shown = "; ".join(f"{rule_id}: {n}" for rule_id, n in failing.items() if n)
            return {
                "success": not any(counts),
                "result": {"observed_value": f"{sum(counts)} ({shown or 'every rule: 0'})",
                           "element_count": element_count, "details": {"failing_rows": failing}},
            }  # fmt: skip

    return ExpectEdustatRulesToFindNoRows


def raised(exception_info: Any) -> str | None:
    """The exception message if GX says a metric raised (flat or keyed by metric id)."""
    if not exception_info:
        return None
    infos = exception_info.values() if "raised_exception" not in exception_info else [exception_info]
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            return str(info.get("exception_message"))
    return None


@dataclass
class _Session:
    """GX's context, datasource, table assets, expectations and validation definitions of one
    warehouse, made once per process and reused by every later validation of it (a long-lived
    `edustat serve`, a re-run after a full run, with or without Data Docs)."""

    gx: Any
    context: Any
    datasource: Any
    batches: dict[str, Any] = field(default_factory=dict)  # table → its whole-table batch definition
    expectations: dict[str, tuple[str, Any]] = field(default_factory=dict)  # suite → (query, expectation)
    definitions: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # suite → (expectation, definition)
    docs_dir: Path | None = None  # where its Data Docs site writes, once a validation asked for pages


_SESSIONS: dict[str, _Session] = {}


def _session(path: Path, docs_dir: Path | None) -> _Session:
    """The session of one warehouse (one per process); with docs_dir, its Data Docs site there."""
    key = str(path.resolve())
    if key not in _SESSIONS:
        gx = import_gx()
        context = gx.get_context(mode="ephemeral")
        # Each asset, batch definition, suite and validation definition added saves the project's
        # configuration: a YAML dump of all of it into the ephemeral context's in-memory store, which
        # nothing reads back (the context keeps its configuration as objects). Measured: 0.24 s of CPU
        # of the 0.29 s that adding a province's eight tables costs. This context's saves are skipped.
        context._save_project_config = lambda: None
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}
        datasource = context.data_sources.add_sql("warehouse", connection_string=f"duckdb:///{key}")
        _SESSIONS[key] = _Session(gx, context, datasource)
    session = _SESSIONS[key]
    if docs_dir is not None and session.docs_dir != docs_dir:
        if session.docs_dir is not None:
            session.context.delete_data_docs_site(DOCS_SITE)
        session.context.add_data_docs_site(
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
        session.docs_dir = docs_dir
    return session


def _batch(session: _Session, table: str) -> Any:
    """The whole-table batch definition of one table, made once per session."""
    if table not in session.batches:
        asset = session.datasource.add_table_asset(table, table_name=table)
        session.batches[table] = asset.add_batch_definition_whole_table("all")
    return session.batches[table]


def _expectation(session: _Session, name: str, rules: list[Rule]) -> Any:
    """The one expectation of one suite (one table's rules), reused while its query is the same."""
    query, ids = counts_sql(rules), [r.id for r in rules]
    known = session.expectations.get(name)
    if known and known[0] == query:
        return known[1]
    bundle = rules_expectation()(rules_query=query, rule_ids=ids, meta={"rules": ids})
    session.expectations[name] = (query, bundle)
    return bundle


def _definition(session: _Session, name: str, rules: list[Rule]) -> Any:
    """The validation definition of one suite (one table's rules), reused while its query is the same."""
    bundle = _expectation(session, name, rules)
    known = session.definitions.get(name)
    if known and known[0] is bundle:
        return known[1]
    if known:  # the same table with other rules (another period): replaced
        session.context.validation_definitions.delete(name)
        session.context.suites.delete(name)
    gx = session.gx
    suite = session.context.suites.add(gx.ExpectationSuite(name=name, expectations=[bundle]))
    definition = session.context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=_batch(session, rules[0].table), suite=suite)
    )
    session.definitions[name] = (bundle, definition)
    return definition


def _validate(session: _Session, name: str, rules: list[Rule], docs: bool) -> Any:
    """GX's result of one suite's expectation. For Data Docs, through the suite's validation
    definition, whose run keeps the result for the pages; otherwise GX's validator checks the
    expectation on the table's batch straight away: the same check and result, without the
    suite and definition added to the context (about 35 ms each the first time) and the result
    serialised into its store (about 40 ms a run), which only the pages read."""
    if docs:
        (result,) = _definition(session, name, rules).run(result_format=RESULT_FORMAT).results
        return result
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=_batch(session, rules[0].table), result_format=RESULT_FORMAT)
    return validator.validate_expectation(_expectation(session, name, rules))


def _release_connections(datasource: Any) -> None:
    """Close every DuckDB connection GX opened, so the warehouse file is not held open between runs."""
    engine = datasource.get_execution_engine()
    # GX's close() disposes the engine but leaves the persisted connection (our shim) open.
    if getattr(engine, "_connection", None) is not None:
        engine._connection.close()
        engine._connection = None
    engine.close()
    # The datasource's own engine (used to inspect tables) and the execution engine's StaticPool
    # still hold DuckDB connections; without disposing them they live until interpreter exit, where
    # nanobind reports them as leaked. The next run makes a new execution engine.
    engine.engine.dispose()
    datasource.get_engine().dispose()
    datasource._execution_engine = None


def run_gx(path: Path, rules: list[Rule], docs_dir: Path | None = None) -> dict[str, dict]:
    """Run one suite per staging table, of one expectation checking all its rules in one query;
    return each rule's result {unexpected_count, element_count}. With docs_dir, GX also builds its
    Data Docs (static HTML of the suites and this run's results) there."""
    session = _session(Path(path), docs_dir)
    results: dict[str, dict] = {}
    try:
        for name in dict.fromkeys(r.suite for r in rules):  # one suite per table, in rule order
            suite_rules = [r for r in rules if r.suite == name]
            res = _validate(session, name, suite_rules, docs=docs_dir is not None)
            error = raised(res.exception_info)
            if error:
                raise RuntimeError(f"GX could not evaluate the rules of {suite_rules[0].table}: {error}")
            result = dict(res.result or {})
            failing = (result.get("details") or {}).get("failing_rows") or {}
            for rule_id, count in failing.items():
                results[rule_id] = {"unexpected_count": count, "element_count": result.get("element_count")}
        if docs_dir is not None:
            session.context.build_data_docs(site_names=[DOCS_SITE])
    finally:
        _release_connections(session.datasource)
        if docs_dir is not None:  # the next run's pages show its own results only
            store = session.context.validation_results_store
            for key in store.list_keys():
                store.remove_key(key)
    missing = {r.id for r in rules} - set(results)
    if missing:
        raise RuntimeError(f"GX returned no result for {sorted(missing)}")
    return results
