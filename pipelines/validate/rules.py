"""The rule compiler: every declared field property (required, code list, type, length, range,
pattern) and every record rule of schemas/sources/*.yaml becomes one Rule on one staging table; GX
checks all the rules of a table with one expectation of one query (counts_sql). Declared SQL is checked for unknown $parameters here, not in a run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

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
    """One compiled rule on one staging table (a column of its table's counts_sql)."""

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
    # rows rules reading across rows: an aggregate over {batch} equal to the number of rows `sql`
    # lists, cheaper than listing them (duplicates: rows less distinct keys); None: count `sql`.
    count_sql: str | None = None

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


def quoted(name: str) -> str:
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
    bounds = bounds_text(f)
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
        prop += "; checked by pipelines/ingest/normalise.py before hashing"
    return f"schemas/sources/{src.entity}.yaml, field {f.name} ({prop})" + (f"; {f.note}" if f.note else "")


def bounds_text(f: catalog.Field) -> str:
    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    lo = num(f.min) if f.min is not None else "-∞"
    hi = num(f.max) if f.max is not None else "∞"
    return f"[{lo}, {hi}]"


def _field_rules(src: catalog.Source, start_year: int) -> list[Rule]:
    rules: list[Rule] = []
    for f in src.fields:
        col = quoted(f.name)
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


def substitute(sql: str, values: dict[str, Any], where: str) -> str:
    """Replace $name by its value (longest names first); refuse a $name left unknown."""
    for name in sorted(values, key=len, reverse=True):
        sql = sql.replace(f"${name}", str(values[name]))
    left = re.findall(r"\$[A-Za-z_]\w*", sql)
    if left:
        raise catalog.CatalogError(f"{where}: unknown parameters {sorted(set(left))}")
    return sql


def _record_rule(
    src: catalog.Source, r: catalog.RecordRule, run: dict[str, str]
) -> tuple[str, str, str | None]:
    """(kind, SQL listing the row_id of each failing row once, an aggregate counting them or None) of
    a declared record rule."""
    if r.query:
        query = substitute(r.query, {**run, **dict(r.params)}, f"{src.entity} rule {r.id}")
        # The batch as `b`, through a CTE (GX renders {batch} as an aliased subquery).
        return (
            r.kind or "query",
            (
                f"WITH b AS (SELECT * FROM {{batch}}) SELECT DISTINCT row_id FROM ({_braces(query)}) AS failing"
            ),
            None,
        )
    if r.where:
        return "where", _rows_sql(f"({_braces(r.where)})"), None
    if r.duplicate_of:
        keys = ", ".join(quoted(k) for k in r.duplicate_of)
        # A record missing a required key is not compared; an optional key (e.g. the preschool
        # block of a rooms entry) may be empty, and empty counts as one more value.
        required = [k for k in r.duplicate_of if src.field(k).required] or list(r.duplicate_of)
        present = " AND ".join(f"{quoted(k)} IS NOT NULL" for k in required)
        # Every row but the first of each group of equal keys: the rows less the distinct keys.
        count = f"count_if({present}) - count(DISTINCT (school_code, {keys})) FILTER (WHERE {present})"
        return (
            "duplicate",
            (
                "SELECT row_id FROM (SELECT row_id, row_number() OVER "
                f"(PARTITION BY school_code, {keys} ORDER BY record_index, row_id) AS occurrence "
                f"FROM {{batch}} WHERE {present}) AS d WHERE occurrence > 1"
            ),
            count,
        )
    # The cross-table rules read the batch through a CTE: GX renders {batch} as an aliased
    # subquery, so it cannot carry an alias of ours.
    if r.missing_in:
        m = r.missing_in
        other = catalog.source(m["entity"]).table
        return (
            "missing_in",
            (
                f"WITH b AS (SELECT * FROM {{batch}}) SELECT b.row_id FROM b "
                f"WHERE b.{quoted(m['via'])} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {other} AS o "
                f"WHERE o.school_code = b.school_code AND o.{quoted(m['field'])} = b.{quoted(m['via'])})"
            ),
            None,
        )
    if r.grade_matches:
        g = r.grade_matches
        other = catalog.source(g["entity"]).table
        return (
            "grade_matches",
            (
                f"WITH b AS (SELECT * FROM {{batch}}) SELECT b.row_id FROM b "
                f"WHERE EXISTS (SELECT 1 FROM {other} AS o WHERE o.school_code = b.school_code "
                f"AND o.{quoted(g['field'])} = b.{quoted(g['via'])} "
                f"AND o.{quoted(g['grade'])} <> b.{quoted(g['grade'])})"
            ),
            None,
        )
    raise catalog.CatalogError(f"{src.entity} rule {r.id}: no where/duplicate_of/missing_in/grade_matches")


# --------------------------------------------------------------------------- one query per table


def failing_predicate(rule: Rule) -> str | None:
    """What a failing row of a rule checked row by row meets (braces escaped as GX formats queries);
    None for a rule reading across rows (duplicates, other tables, declared queries). The field
    checks keep GX's column-map meaning: a NULL is judged by `required` alone."""
    col = quoted(rule.field) if rule.field else ""
    if rule.check == "not_null":
        return f"{col} IS NULL"
    if rule.check == "in_set":
        return f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(_braces(_lit(v)) for v in rule.value_set)})"
    if rule.check == "max_length":
        return f"length({col}) > {int(rule.max_length or 0)}"
    prefix = _rows_sql("")
    if rule.sql and rule.sql.startswith(prefix):
        return rule.sql[len(prefix) :]
    return None


def rows_sql(rule: Rule) -> str:
    """SQL over {batch} listing the row_id of every failing row of the rule, once."""
    predicate = failing_predicate(rule)
    return _rows_sql(predicate) if predicate is not None else str(rule.sql)


def counts_sql(rules: list[Rule]) -> str:
    """One query over {batch} (one staging table or a re-run's view of it): its row count, then
    the failing-row count of each rule in order. Rules checked row by row are count_if columns of
    the one scan; the others count their listing (or their cheaper count_sql) in a subquery."""
    cols = ["count(*)"]
    for i, rule in enumerate(rules):
        predicate = failing_predicate(rule)
        if predicate is not None:
            cols.append(f"coalesce(count_if({predicate}), 0)")  # count_if of NULLs only is NULL
        elif rule.count_sql:
            cols.append(f"(SELECT coalesce({rule.count_sql}, 0) FROM {{batch}})")  # an empty table: 0
        else:
            cols.append(f"(SELECT count(*) FROM ({rule.sql}) AS q{i})")
    return "SELECT " + ",\n       ".join(cols) + " FROM {batch}"


def failing_rows(rule: Rule) -> str:
    """A subquery of the failing rows of the rule's table, whole: a rule checked row by row filters
    the table in one scan; a rule reading across rows picks the rows its listing (rows_sql) gives."""
    table = quoted(rule.table)
    predicate = failing_predicate(rule)
    if predicate is not None:
        return f"(SELECT * FROM {table} WHERE {predicate.format(batch=table)})"
    return f"(SELECT * FROM {table} WHERE row_id IN ({rows_sql(rule).format(batch=table)}))"


def insert_problems_sql(rule: Rule, failing: str) -> str:
    """The INSERT of one rule's failing rows (the subquery `failing`) into validation_results; the
    values are bound: run id, school year, period, rule, severity, entity, field, messages, time."""
    value = f"CAST(s.{quoted(rule.field)} AS VARCHAR)" if rule.field else "NULL"
    return f"""INSERT INTO validation_results
            SELECT ?, ?, ?, ?, ?, ?, s.school_code, s.file, s.record_index, s.row_id, ?,
                   {value}, ?, ?, ?
            FROM {failing} AS s"""


def compile_rules(start_year: int, period: str = "DN") -> list[Rule]:
    """Every rule of every source: generated field rules, then declared record rules."""
    rules: list[Rule] = []
    run = run_parameters(start_year, period)
    for src in catalog.sources():
        rules.extend(_field_rules(src, start_year))
        for r in src.rules:
            kind, sql, count = _record_rule(src, r, run)
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
                    count_sql=count,
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
            "source": "pipelines/validate/results.py: any error on the school record (schemas/sources/school.yaml)",
        }
    )
    return out
