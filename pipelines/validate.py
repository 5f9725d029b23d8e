"""Validate the staging tables with Great Expectations on the DuckDB warehouse.

Rules come from schemas/sources/*.yaml only: one generic compiler turns every declared field
property (required, code list, type, length, range) and every record rule into one expectation.
GX runs the suites; the pipeline then lists *every* failing row (GX returns only a sample on SQL
sources) into `validation_results` (history across runs) and `quarantine` (this run's excluded
rows). This is the only module that imports great_expectations (the import costs seconds).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipelines import catalog, settings
from pipelines import warehouse as wh

REJECTED_RULE = "school.rejected"
DOCS_SITE = "edustat"
REJECTED_VI = "Thông tin trường không hợp lệ; toàn bộ dữ liệu của trường bị loại"
REJECTED_EN = "The school record is invalid; all of the school's records are excluded"

# Patterns of the normalised staging text (ingest writes integers as digit strings, dates as
# YYYY-MM-DD, birth dates as YYYY-MM). No braces: GX formats queries with str.format.
_TYPE_PATTERNS = {
    "integer": "^-?[0-9]+$",
    "number": r"^-?[0-9]+(\.[0-9]+)?$",
    "date": "^[0-9][0-9][0-9][0-9]-[0-9][0-9](-[0-9][0-9])?$",
}
_ITEM = "[0-9A-Za-z]+"
PRE_HASH = wh.PRE_HASH_COLUMN

# Message templates of the generated field rules: (vi, en).
_MESSAGES = {
    "required": ("Thiếu trường bắt buộc {field}", "Required field {field} is missing"),
    "codelist": (
        "Giá trị của {field} không có trong danh mục {codelist}",
        "Value of {field} not in code list {codelist}",
    ),
    "type.integer": ("{field} phải là số nguyên", "{field} must be a whole number"),
    "type.number": ("{field} phải là số", "{field} must be a number"),
    "type.flag": ("{field} phải là 0 hoặc 1", "{field} must be 0 or 1"),
    "type.date": (
        "{field} không đúng định dạng ngày (YYYY-MM-DD)",
        "{field} is not a date (YYYY-MM-DD)",
    ),
    "type.code_list": (
        "{field} có mã không có trong danh mục {codelist}",
        "{field} holds a code not in code list {codelist}",
    ),
    "type.subject_list": (
        "{field} phải là danh sách mã cách nhau bởi dấu phẩy",
        "{field} must be a comma-separated list of codes",
    ),
    "date_range": (
        "{field} không phải ngày có thật hoặc năm không hợp lý (trước 1900 hoặc sau năm học)",
        "{field} is not a real date or its year is implausible (before 1900 or after the school year)",
    ),
    "length": (
        "{field} dài quá {max_length} ký tự",
        "{field} is longer than {max_length} characters",
    ),
    "range": ("{field} phải nằm trong khoảng {bounds}", "{field} must be within {bounds}"),
    "pattern": (
        "{field} không đúng định dạng mã ({pattern})",
        "{field} does not have the identifier format ({pattern})",
    ),
    "text": (
        "{field} chứa ký tự điều khiển hoặc ký tự lỗi mã hóa (�)",
        "{field} contains control characters or the encoding-error mark (�)",
    ),
}
# Control characters and U+FFFD (the mark a wrong text encoding leaves), as in ingest.BAD_TEXT.
_BAD_TEXT = r"[\x00-\x1f\x7f\x{fffd}]"


@dataclass(frozen=True)
class Rule:
    """One compiled rule = one expectation on one staging table."""

    id: str
    entity: str
    field: str | None
    kind: str  # required | codelist | type | date_range | length | range | where | duplicate | ...
    severity: str  # error | warning
    message_vi: str
    message_en: str
    check: str  # not_null | in_set | max_length | rows (UnexpectedRowsExpectation)
    value_set: tuple[str, ...] = ()
    max_length: int | None = None
    sql: str | None = None  # rows: SELECT row_id ... FROM {batch} ..., one row per failing row
    source: str = ""  # where the rule comes from: the YAML file and field, and the rule's basis
    scope: str = "school"  # province: another school's records can change a row's result
    batch: str | None = None  # the table GX checks, if not the whole staging table (a re-run's delta)

    @property
    def table(self) -> str:
        return self.batch or f"stg_{self.entity}"

    @property
    def suite(self) -> str:
        """The GX suite (and Data Docs page) the rule belongs to: its table without 'stg_'."""
        return self.table.replace("stg_", "", 1)


@dataclass(frozen=True)
class ValidationSummary:
    run_id: str
    n_rules: int
    n_problems: int  # rows written to validation_results for this run
    n_quarantined: int  # distinct (entity, row_id) quarantined
    schools_rejected: tuple[str, ...]
    seconds: float
    schools_checked: int | None = None  # a re-run: the schools whose rows were checked again; None: all


# --------------------------------------------------------------------------- rule compiler


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _braces(sql: str) -> str:
    """Escape braces of declared SQL: GX substitutes {batch} with str.format."""
    return sql.replace("{", "{{").replace("}", "}}")


def _rows_sql(where: str) -> str:
    return f"SELECT row_id FROM {{batch}} WHERE {where}"


def _field_rule(
    src: catalog.Source, f: catalog.Field, kind: str, template: str, check: str, **kw: Any
) -> Rule:
    vi, en = _MESSAGES[template]
    bounds = _bounds(f)
    names = {"field": f.name, "codelist": f.codelist, "max_length": f.max_length, "bounds": bounds,
             "pattern": f.pattern}  # fmt: skip
    return Rule(
        id=f"{src.entity}.{f.name}.{kind}",
        entity=src.entity,
        field=f.name,
        kind=kind,
        severity="error",
        message_vi=vi.format(**names),
        message_en=en.format(**names),
        check=check,
        source=_field_source(src, f, kind),
        **kw,
    )


def _field_source(src: catalog.Source, f: catalog.Field, kind: str) -> str:
    """Where a generated field rule comes from: the YAML file, the field and the property read
    (e.g. "schemas/sources/learner.yaml, field MaDanToc (codelist: ethnicity)"), then the field's note."""
    prop = {
        "required": "required: true",
        "codelist": f"codelist: {f.codelist}",
        "type": f"type: {f.type}" + (f", codelist: {f.codelist}" if f.codelist and f.type != "code" else ""),
        "date_range": "type: date",
        "length": f"max_length: {f.max_length}",
        "pattern": f"pattern: {f.pattern}",
        "text": "type: string",
        "range": f"min: {f.min}, max: {f.max}",
    }[kind]
    if f.pii == "hash" and kind in ("length", "pattern", "text"):
        prop += "; checked by pipelines/ingest.py before hashing"
    return f"schemas/sources/{src.entity}.yaml, field {f.name} ({prop})" + (f"; {f.note}" if f.note else "")


def _bounds(f: catalog.Field) -> str:
    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    lo = num(f.min) if f.min is not None else "-∞"
    hi = num(f.max) if f.max is not None else "∞"
    return f"[{lo}, {hi}]"


def _field_rules(src: catalog.Source, start_year: int) -> list[Rule]:
    rules: list[Rule] = []
    for f in src.fields:
        col = _q(f.name)
        if f.required:
            rules.append(_field_rule(src, f, "required", "required", "not_null"))
        if f.codelist and f.type == "code":
            codes = catalog.codelist(f.codelist).codes
            rules.append(_field_rule(src, f, "codelist", "codelist", "in_set", value_set=codes))
        # GX 1.24 has no regex support for the duckdb dialect ("Regex is not supported for
        # dialect duckdb"), so pattern checks are UnexpectedRowsExpectations with DuckDB's
        # regexp_full_match instead of ExpectColumnValuesToMatchRegex.
        if f.type == "flag":
            rules.append(_field_rule(src, f, "type", "type.flag", "in_set", value_set=("0", "1")))
        elif f.type in _TYPE_PATTERNS:
            pattern = _TYPE_PATTERNS[f.type]
            where = f"{col} IS NOT NULL AND NOT regexp_full_match({col}, {_lit(pattern)})"
            rules.append(_field_rule(src, f, "type", f"type.{f.type}", "rows", sql=_rows_sql(where)))
        elif f.type in ("code_list", "subject_list"):
            if f.codelist:
                codes = catalog.codelist(f.codelist).codes
                item = "(" + "|".join(c.replace(".", r"\.") for c in codes) + ")"
            else:
                item = _ITEM
            pattern = f"^{item}(,{item})*$"
            where = f"{col} IS NOT NULL AND NOT regexp_full_match({col}, {_lit(pattern)})"
            rules.append(_field_rule(src, f, "type", f"type.{f.type}", "rows", sql=_rows_sql(where)))
        if f.type == "date":
            # Only well-formed values (the type rule reports the others). Year-month values
            # (birth dates cut at ingest) are checked as the first day of the month. The upper
            # bound is the end of the school year: status dates of the end-of-year period fall
            # in start_year + 1.
            pattern = _lit(_TYPE_PATTERNS["date"])
            as_date = f"TRY_CAST(CASE WHEN length({col}) = 7 THEN {col} || '-01' ELSE {col} END AS DATE)"
            where = (
                f"{col} IS NOT NULL AND regexp_full_match({col}, {pattern}) AND "
                f"({as_date} IS NULL OR year({as_date}) NOT BETWEEN 1900 AND {start_year + 1})"
            )
            rules.append(_field_rule(src, f, "date_range", "date_range", "rows", sql=_rows_sql(where)))
        if f.pii == "hash":
            # A hash has neither the length nor the pattern of what it replaced: ingest judged
            # them before hashing and listed the problems in pre_hash_problems.
            for check in ("length", "pattern", "text"):
                if (check == "length" and f.max_length is None) or (check == "pattern" and f.pattern is None):
                    continue
                item = _lit(f"{f.name}:{check}")
                where = f"list_contains(string_split(coalesce({PRE_HASH}, ''), ','), {item})"
                rules.append(_field_rule(src, f, check, check, "rows", sql=_rows_sql(where)))
            continue
        if f.max_length is not None:
            rules.append(_field_rule(src, f, "length", "length", "max_length", max_length=f.max_length))
        if f.pattern is not None:
            where = f"{col} IS NOT NULL AND NOT regexp_full_match({col}, {_lit(f.pattern)})"
            rules.append(_field_rule(src, f, "pattern", "pattern", "rows", sql=_rows_sql(_braces(where))))
        if f.type == "string":
            where = f"regexp_matches({col}, {_lit(_BAD_TEXT)})"
            rules.append(_field_rule(src, f, "text", "text", "rows", sql=_rows_sql(_braces(where))))
        if f.type in ("integer", "number") and (f.min is not None or f.max is not None):
            value = f"TRY_CAST({col} AS DOUBLE)"
            outside = []
            if f.min is not None:
                outside.append(f"{value} < {f.min}")
            if f.max is not None:
                outside.append(f"{value} > {f.max}")
            where = f"{value} IS NOT NULL AND ({' OR '.join(outside)})"
            rules.append(_field_rule(src, f, "range", "range", "rows", sql=_rows_sql(where)))
    return rules


def run_parameters(start_year: int, period: str) -> dict[str, str]:
    """The $names every declared query may use: the run's school year, period and dates."""
    years, month, day = settings.PERIODS[period]
    dn_years, dn_month, dn_day = settings.PERIODS["DN"]
    return {
        "start_year": str(start_year),
        "school_year": f"'{start_year}-{start_year + 1}'",
        "previous_school_year": f"'{start_year - 1}-{start_year}'",
        "period": _lit(period),
        "as_of": f"DATE '{date(start_year + years, month, day).isoformat()}'",
        "year_start": f"DATE '{date(start_year + dn_years, dn_month, dn_day).isoformat()}'",
        "year_end": f"DATE '{date(start_year + 1, 5, 31).isoformat()}'",
    }


def _substitute(sql: str, values: dict[str, Any], where: str) -> str:
    """Replace $name by its value (longest names first); refuse a $name left unknown."""
    for name in sorted(values, key=len, reverse=True):
        sql = sql.replace(f"${name}", str(values[name]))
    left = re.findall(r"\$[A-Za-z_]\w*", sql)
    if left:
        raise catalog.CatalogError(f"{where}: unknown parameters {sorted(set(left))}")
    return sql


def _record_rule_sql(src: catalog.Source, r: catalog.RecordRule, run: dict[str, str]) -> tuple[str, str]:
    """(kind, SQL listing the row_id of each failing row once) of a declared record rule."""
    if r.query:
        query = _substitute(r.query, {**run, **dict(r.params)}, f"{src.entity} rule {r.id}")
        # The batch as `b`, through a CTE (GX renders {batch} as an aliased subquery).
        return r.kind or "query", (
            f"WITH b AS (SELECT * FROM {{batch}}) SELECT DISTINCT row_id FROM ({_braces(query)}) AS failing"
        )
    if r.where:
        return "where", _rows_sql(f"({_braces(r.where)})")
    if r.duplicate_of:
        keys = ", ".join(_q(k) for k in r.duplicate_of)
        # A record missing a required key is not compared; an optional key (e.g. the preschool
        # block of a rooms entry) may be empty, and empty counts as one more value.
        required = [k for k in r.duplicate_of if src.field(k).required] or list(r.duplicate_of)
        present = " AND ".join(f"{_q(k)} IS NOT NULL" for k in required)
        return "duplicate", (
            "SELECT row_id FROM (SELECT row_id, row_number() OVER "
            f"(PARTITION BY school_code, {keys} ORDER BY record_index, row_id) AS occurrence "
            f"FROM {{batch}} WHERE {present}) AS d WHERE occurrence > 1"
        )
    # The cross-table rules read the batch through a CTE: GX renders {batch} as an aliased
    # subquery, so it cannot carry an alias of ours.
    if r.missing_in:
        m = r.missing_in
        other = catalog.source(m["entity"]).table
        return "missing_in", (
            f"WITH b AS (SELECT * FROM {{batch}}) SELECT b.row_id FROM b "
            f"WHERE b.{_q(m['via'])} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {other} AS o "
            f"WHERE o.school_code = b.school_code AND o.{_q(m['field'])} = b.{_q(m['via'])})"
        )
    if r.grade_matches:
        g = r.grade_matches
        other = catalog.source(g["entity"]).table
        return "grade_matches", (
            f"WITH b AS (SELECT * FROM {{batch}}) SELECT b.row_id FROM b "
            f"WHERE EXISTS (SELECT 1 FROM {other} AS o WHERE o.school_code = b.school_code "
            f"AND o.{_q(g['field'])} = b.{_q(g['via'])} "
            f"AND o.{_q(g['grade'])} <> b.{_q(g['grade'])})"
        )
    raise catalog.CatalogError(f"{src.entity} rule {r.id}: no where/duplicate_of/missing_in/grade_matches")


def compile_rules(start_year: int, period: str = "DN") -> list[Rule]:
    """Every rule of every source: generated field rules, then declared record rules."""
    rules: list[Rule] = []
    run = run_parameters(start_year, period)
    for src in catalog.sources():
        rules.extend(_field_rules(src, start_year))
        for r in src.rules:
            kind, sql = _record_rule_sql(src, r, run)
            rules.append(
                Rule(
                    id=r.id,
                    entity=src.entity,
                    field=r.field,
                    kind=kind,
                    severity=r.severity,
                    message_vi=r.message_vi,
                    message_en=r.message_en,
                    check="rows",
                    sql=sql,
                    source=f"schemas/sources/{src.entity}.yaml, rule {r.id}"
                    + (f": {r.source}" if r.source else ""),
                    scope=r.scope,
                )
            )
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise catalog.CatalogError(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return rules


def rule_catalogue() -> list[dict]:
    """Every rule (with the derived school.rejected) for documentation and reports."""
    keys = ("id", "entity", "field", "kind", "severity", "message_vi", "message_en", "source")
    out = [{k: getattr(r, k) for k in keys} for r in compile_rules(start_year=2000)]
    out.append(
        {
            "id": REJECTED_RULE,
            "entity": "school",
            "field": None,
            "kind": "school_rejected",
            "severity": "error",
            "message_vi": REJECTED_VI,
            "message_en": REJECTED_EN,
            "source": "pipelines/validate.py: any error on the school record (schemas/sources/school.yaml)",
        }
    )
    return out


# --------------------------------------------------------------------------- Great Expectations


def _patch_gx_for_duckdb() -> None:
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


def _expectation(gx: Any, rule: Rule) -> Any:
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


def _raised(exception_info: Any) -> str | None:
    """The exception message if GX says a metric raised (flat or keyed by metric id)."""
    if not exception_info:
        return None
    infos = exception_info.values() if "raised_exception" not in exception_info else [exception_info]
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            return str(info.get("exception_message"))
    return None


def _run_gx(path: Path, rules: list[Rule], docs_dir: Path | None = None) -> dict[str, dict]:
    """Run one suite per staging table; return each rule's GX result dict (checked). With
    docs_dir, GX also builds its Data Docs (static HTML of the suites and their results) there."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    _patch_gx_for_duckdb()
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
                gx.ExpectationSuite(name=name, expectations=[_expectation(gx, r) for r in suite_rules])
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            run = definition.run(result_format=result_format)
            for res in run.results:
                rule_id = (res.expectation_config.meta or {}).get("rule_id")
                error = _raised(res.exception_info)
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


# --------------------------------------------------------------------------- results


def _create_result_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE TABLE IF NOT EXISTS validation_results (
            run_id VARCHAR, school_year VARCHAR, period VARCHAR, rule_id VARCHAR,
            severity VARCHAR, entity VARCHAR, school_code VARCHAR, file VARCHAR,
            record_index INTEGER, row_id BIGINT, field VARCHAR, value VARCHAR,
            message_vi VARCHAR, message_en VARCHAR, checked_at TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS quarantine (
            run_id VARCHAR, entity VARCHAR, row_id BIGINT, school_code VARCHAR, file VARCHAR,
            record_index INTEGER, rule_ids VARCHAR)"""
    )


def _failing_rows_sql(rule: Rule, result: dict, n_rows: int) -> tuple[str, int]:
    """(SQL listing every failing row_id, the count GX reported) of one rule.

    Raises if GX's result is empty or saw another number of rows than the table holds: that is
    how the DuckDB connection problem (see _patch_gx_for_duckdb) shows.
    """
    if rule.check == "rows":
        if result.get("observed_value") is None:
            raise RuntimeError(f"GX returned an empty result for {rule.id}: {result}")
        return rule.sql.format(batch=rule.table), int(result["observed_value"])
    if result.get("element_count") != n_rows:
        raise RuntimeError(
            f"GX saw {result.get('element_count')} rows for {rule.id}, {rule.table} holds {n_rows}"
        )
    # GX reports no count (None) on an empty table.
    count = int(result.get("unexpected_count") or 0)
    if n_rows and result.get("unexpected_count") is None:
        raise RuntimeError(f"GX returned an empty result for {rule.id}: {result}")
    query = result.get("unexpected_index_query")
    if count and not query:
        raise RuntimeError(f"GX returned no unexpected_index_query for {rule.id}")
    # GX returns only a sample of failing rows on SQL sources; its index query lists them all.
    return (f"SELECT row_id FROM ({query.strip().rstrip(';')}) AS u" if query else ""), count


def _write_problems(
    con: duckdb.DuckDBPyConnection, rule: Rule, rows_sql: str, expected: int, head: list[Any]
) -> int:
    value = f"CAST(s.{_q(rule.field)} AS VARCHAR)" if rule.field else "NULL"
    inserted = con.execute(
        f"""INSERT INTO validation_results
            SELECT ?, ?, ?, ?, ?, ?, s.school_code, s.file, s.record_index, s.row_id, ?,
                   {value}, ?, ?, ?
            FROM {rule.table} AS s WHERE s.row_id IN ({rows_sql})""",
        [
            *head[:3],
            rule.id,
            rule.severity,
            rule.entity,
            rule.field,
            rule.message_vi,
            rule.message_en,
            head[3],
        ],
    ).fetchall()[0][0]
    if inserted != expected:
        raise RuntimeError(f"{rule.id}: GX counted {expected} failing rows but {inserted} were identified")
    return inserted


def _reject_schools(con: duckdb.DuckDBPyConnection, head: list[Any]) -> tuple[str, ...]:
    """Schools whose school record has an error; one validation_results row each."""
    rejected = con.execute(
        """SELECT DISTINCT school_code FROM validation_results
           WHERE run_id = ? AND entity = 'school' AND severity = 'error' ORDER BY 1""",
        [head[0]],
    ).fetchall()
    con.execute(
        """INSERT INTO validation_results
           SELECT ?, ?, ?, ?, 'error', 'school', s.school_code, s.file, s.record_index, s.row_id,
                  NULL, NULL, ?, ?, ?
           FROM stg_school AS s WHERE s.school_code IN (
               SELECT school_code FROM validation_results
               WHERE run_id = ? AND entity = 'school' AND severity = 'error')""",
        [*head[:3], REJECTED_RULE, REJECTED_VI, REJECTED_EN, head[3], head[0]],
    )
    return tuple(r[0] for r in rejected)


def _write_quarantine(con: duckdb.DuckDBPyConnection, run_id: str, rejected: tuple[str, ...]) -> int:
    con.execute("DELETE FROM quarantine WHERE run_id = ?", [run_id])
    # Every row of a rejected school, in every staging table, is excluded as well.
    whole = " UNION ALL ".join(
        f"SELECT '{e}' AS entity, row_id, school_code, file, record_index, "
        f"'{REJECTED_RULE}' AS rule_id FROM stg_{e} "
        f"WHERE school_code IN (SELECT unnest(?::VARCHAR[]))"
        for e in catalog.ENTITIES
    )
    con.execute(
        f"""INSERT INTO quarantine
            WITH hits AS (
                SELECT entity, row_id, school_code, file, record_index, rule_id
                FROM validation_results
                WHERE run_id = ? AND severity = 'error' AND rule_id <> '{REJECTED_RULE}'
                UNION ALL {whole})
            SELECT ?, entity, row_id, any_value(school_code), any_value(file),
                   any_value(record_index), string_agg(DISTINCT rule_id, ',' ORDER BY rule_id)
            FROM hits GROUP BY entity, row_id""",
        [run_id, *([list(rejected)] * len(catalog.ENTITIES)), run_id],
    )
    return con.execute("SELECT count(*) FROM quarantine WHERE run_id = ?", [run_id]).fetchall()[0][0]


# --------------------------------------------------------------------------- re-runs

VALIDATED_FILES = "validated_files"  # the staged files the last validation checked
DELTA = "validation_delta"  # the schools a re-run checks again (a table: GX reads through its own connection)


def _fingerprint(con: duckdb.DuckDBPyConnection, school_year: str, period: str, start_year: int) -> str:
    """What a school's results depend on besides its staged rows: the period, the code and schemas
    (rules, code lists) and the history of other periods that cross-period rules read."""
    from pipelines.release import code_digest

    history = con.execute(
        """SELECT (SELECT (count(*), bit_xor(hash(h))) FROM school_history h
                   WHERE NOT (school_year = $1 AND period = $2)),
                  (SELECT (count(*), bit_xor(hash(g))) FROM school_grade_history g
                   WHERE NOT (school_year = $1 AND period = $2))""",
        [school_year, period],
    ).fetchall()
    return hashlib.sha256(
        f"{school_year}\0{period}\0{start_year}\0{code_digest()}\0{history}".encode()
    ).hexdigest()


def _changed_since_last(con: duckdb.DuckDBPyConnection, fingerprint: str) -> tuple[str | None, list[str]]:
    """(run whose results a re-run may reuse, schools whose staged file differs from what it checked);
    (None, []) when there is no such run (first run, other period, code or history changed)."""
    con.execute("CREATE TABLE IF NOT EXISTS validation_state (run_id VARCHAR, fingerprint VARCHAR)")
    last = con.execute("SELECT run_id FROM validation_state WHERE fingerprint = ?", [fingerprint]).fetchall()
    if not last:
        return None, []
    return last[0][0], sorted(wh.schools_whose_staged_file_changed(con, VALIDATED_FILES))


def _delta_rules(con: duckdb.DuckDBPyConnection, rules: list[Rule], changed: list[str]) -> list[Rule]:
    """The rules of a re-run: school-scoped rules on the changed schools' rows only (views
    delta_stg_<entity>), province-scoped rules on every row."""
    con.execute(f"CREATE OR REPLACE TABLE {DELTA} (school_code VARCHAR)")
    wh.insert_rows(con, DELTA, [(c,) for c in changed])
    for e in catalog.ENTITIES:
        con.execute(
            f"CREATE OR REPLACE VIEW delta_stg_{e} AS SELECT * FROM stg_{e} "
            f"WHERE school_code IN (SELECT school_code FROM {DELTA})"
        )
    return [r if r.scope == "province" else replace(r, batch=f"delta_stg_{r.entity}") for r in rules]


def _drop_delta(con: duckdb.DuckDBPyConnection) -> None:
    for e in catalog.ENTITIES:
        con.execute(f"DROP VIEW IF EXISTS delta_stg_{e}")
    con.execute(f"DROP TABLE IF EXISTS {DELTA}")


def validate_warehouse(
    warehouse: Path,
    run_id: str,
    school_year: str,
    period: str,
    start_year: int,
    docs_dir: Path | None = None,
    incremental: bool = True,
) -> ValidationSummary:
    """Validate the stg_* tables; append validation_results, replace this run's quarantine. With
    docs_dir, (re)build GX's Data Docs of this run there.

    A re-run (incremental, the default) checks again only what can have changed since the last
    validation of the same period under the same code and history: the rows of the schools whose
    staged file changed, for the school-scoped rules, and every row for the province-scoped ones
    (a rule's `scope`); the other schools' results of the last run are carried over."""
    started = time.perf_counter()
    path = Path(warehouse)
    rules = compile_rules(start_year, period)
    con = wh.connect(path)
    try:
        _create_result_tables(con)
        # What the declared queries read besides the staging tables.
        wh.create_macros(con)
        wh.create_history_tables(con)
        wh.load_codelists(con, {name for r in rules for name in re.findall(r"\bcl_(\w+)", r.sql or "")})
        fingerprint = _fingerprint(con, school_year, period, start_year)
        last_run, changed = _changed_since_last(con, fingerprint) if incremental else (None, [])
        if last_run == run_id:  # the same run validating again (a retried task): all of it
            last_run, changed = None, []
        planned = _delta_rules(con, rules, changed) if last_run else rules
        n_rows = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in {r.table for r in planned}
        }
        # A table without rows has nothing to fail (the end-of-year results in a start-of-year run, a
        # re-run's delta of an entity the changed schools do not send): GX is not asked about it.
        checked = [r for r in planned if n_rows[r.table]]
        if docs_dir is not None:
            shutil.rmtree(docs_dir, ignore_errors=True)  # one run's pages, not every run's
        results = _run_gx(path, checked, docs_dir) if checked else {}
        checked_at = con.execute("SELECT CAST(now() AS TIMESTAMP)").fetchall()[0][0]
        head = [run_id, school_year, period, checked_at]
        con.execute("BEGIN")
        try:
            # A re-run under the same run_id replaces its results rather than doubling them.
            con.execute("DELETE FROM validation_results WHERE run_id = ?", [run_id])
            if last_run:
                # The unchanged schools' results of the school-scoped rules, as the last run found them.
                con.execute(
                    f"""INSERT INTO validation_results
                    SELECT ?, school_year, period, rule_id, severity, entity, school_code, file, record_index,
                           row_id, field, value, message_vi, message_en, ?
                    FROM validation_results WHERE run_id = ?
                      AND rule_id IN (SELECT unnest(?::VARCHAR[]))
                      AND school_code NOT IN (SELECT school_code FROM {DELTA})""",
                    [run_id, checked_at, last_run, [r.id for r in planned if r.batch]],
                )
            for rule in checked:
                rows_sql, expected = _failing_rows_sql(rule, results[rule.id], n_rows[rule.table])
                if expected or rule.check == "rows":
                    _write_problems(con, rule, rows_sql, expected, head)
            rejected = _reject_schools(con, head)
            n_quarantined = _write_quarantine(con, run_id, rejected)
            n_problems = con.execute(
                "SELECT count(*) FROM validation_results WHERE run_id = ?", [run_id]
            ).fetchall()[0][0]
            con.execute("DELETE FROM validation_state")
            con.execute("INSERT INTO validation_state VALUES (?, ?)", [run_id, fingerprint])
            wh.snapshot_staged_files(con, VALIDATED_FILES)
            _drop_delta(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            _drop_delta(con)
            raise
    finally:
        con.close()
    return ValidationSummary(
        run_id=run_id,
        n_rules=len(rules),
        n_problems=n_problems,
        n_quarantined=n_quarantined,
        schools_rejected=rejected,
        seconds=time.perf_counter() - started,
        schools_checked=len(changed) if last_run else None,
    )
