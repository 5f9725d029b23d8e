"""The rule catalogue of one entity as (a) one hand-written SQL pass and (b) a GX suite for pandas.

Both are generated from the `validate.Rule` objects (check, value_set, max_length and the SQL of
the `rows` rules), so they follow the catalogue as rules are added. A `rows` rule is recognised
by the shape of the SQL that validate.py compiles for its kind; a shape not recognised here is
reported (the SQL pass then counts it with its own query, the pandas suite leaves it out).

Used by bench_validate.py; not part of the product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipelines import validate

BATCH = "__batch__"
_ID = r'"?(\w+)"?'
_LIT = r"'((?:[^']|'')*)'"

# The shapes of validate.py's `rows` rules (after {batch} is substituted with BATCH).
_WHERE = re.compile(rf"^SELECT row_id FROM {BATCH} WHERE (?P<pred>.*)$", re.S)
_TYPE = re.compile(rf'^"(?P<col>[^"]+)" IS NOT NULL AND NOT regexp_full_match\("(?P=col)", {_LIT}\)$')
_LIST_ITEM = re.compile(rf"^list_contains\(string_split\(coalesce\({_ID}, ''\), ','\), {_LIT}\)$")
_MATCHES = re.compile(rf'^regexp_matches\("(?P<col>[^"]+)", {_LIT}\)$')
_DATE_RANGE = re.compile(
    rf'^"(?P<col>[^"]+)" IS NOT NULL AND regexp_full_match\("(?P=col)", {_LIT}\) AND '
    r"\(.* NOT BETWEEN (?P<lo>-?\d+) AND (?P<hi>-?\d+)\)$",
    re.S,
)
_RANGE = re.compile(r'^TRY_CAST\("(?P<col>[^"]+)" AS DOUBLE\) IS NOT NULL AND \((?P<bounds>.*)\)$')
_BOUND = re.compile(r'TRY_CAST\("[^"]+" AS DOUBLE\) (?P<op>[<>]) (?P<v>-?[0-9.eE+-]+)')
_DUPLICATE = re.compile(
    r"^SELECT row_id FROM \(SELECT row_id, row_number\(\) OVER "
    r"\(PARTITION BY school_code, (?P<keys>.*?) ORDER BY (?P<order>.*?)\) AS occurrence "
    rf"FROM {BATCH} WHERE (?P<present>.*)\) AS d WHERE occurrence > 1$",
    re.S,
)
_MISSING_IN = re.compile(
    rf"^WITH b AS \(SELECT \* FROM {BATCH}\) SELECT b\.row_id FROM b "
    r'WHERE b\."(?P<via>[^"]+)" IS NOT NULL AND NOT EXISTS \(SELECT 1 FROM (?P<other>\w+) AS o '
    r'WHERE o\.school_code = b\.school_code AND o\."(?P<field>[^"]+)" = b\."(?P=via)"\)$'
)
_GRADE_MATCHES = re.compile(
    rf"^WITH b AS \(SELECT \* FROM {BATCH}\) SELECT b\.row_id FROM b "
    r"WHERE EXISTS \(SELECT 1 FROM (?P<other>\w+) AS o WHERE o\.school_code = b\.school_code "
    r'AND o\."(?P<field>[^"]+)" = b\."(?P<via>[^"]+)" '
    r'AND o\."(?P<grade>[^"]+)" <> b\."(?P=grade)"\)$'
)
# Atoms of a declared `where` predicate that the pandas translation understands (AND only).
_ATOMS = (
    ("is_null", re.compile(rf"^{_ID} IS NULL$")),
    ("not_null", re.compile(rf"^{_ID} IS NOT NULL$")),
    ("eq", re.compile(rf"^{_ID} = {_LIT}$")),
    ("ne", re.compile(rf"^{_ID} <> {_LIT}$")),
    ("in", re.compile(rf"^{_ID} IN \((?P<vals>{_LIT}(?:\s*,\s*{_LIT})*)\)$")),
)


def _unq(name: str) -> str:
    return name.strip().strip('"').replace('""', '"')


def _unlit(text: str) -> str:
    return text.replace("''", "'")


def _sql(rule: validate.Rule) -> str:
    # The rules escape their braces for GX's str.format; substituting {batch} undoes that.
    return " ".join(rule.sql.format(batch=BATCH).split())


def _keys(text: str) -> list[str]:
    return [_unq(k) for k in text.split(",")]


# --------------------------------------------------------------------------- one SQL pass


@dataclass
class SqlPass:
    sql: str
    how: dict[str, str]  # rule id → how the pass computes it
    separate: list[str] = field(default_factory=list)  # rule ids needing their own query


def sql_pass(rules: list[validate.Rule]) -> SqlPass:
    """One SELECT over stg_<entity>: one failing-row count per rule (column `r<i>`).

    Field and `where` rules are count_if(...) over the scan; duplicates rows minus distinct keys; cross-table rules a LEFT JOIN to the other table aggregated per
    (school, key) (an anti-join for missing_in, min/max of the grade for grade_matches).
    """
    (table,) = {r.table for r in rules}
    inner = [f"{table}.*"]
    joins: dict[tuple[str, str, str], str] = {}  # (other, field, via) → alias
    join_cols: dict[str, list[str]] = {}
    outer: list[str] = []
    how: dict[str, str] = {}
    separate: list[str] = []

    def join(other: str, fld: str, via: str) -> str:
        key = (other, fld, via)
        if key not in joins:
            joins[key] = f"j{len(joins)}"
            join_cols[joins[key]] = ["count(*) AS n"]
        return joins[key]

    for i, r in enumerate(rules):
        col = f'b."{r.field}"' if r.field else None
        if r.check == "not_null":
            outer.append(f"count_if({col} IS NULL)")
            how[r.id] = "count_if IS NULL"
        elif r.check == "in_set":
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in r.value_set)
            outer.append(f"count_if({col} IS NOT NULL AND {col} NOT IN ({values}))")
            how[r.id] = "count_if NOT IN"
        elif r.check == "max_length":
            outer.append(f"count_if(length({col}) > {r.max_length})")
            how[r.id] = "count_if length >"
        elif m := _DUPLICATE.match(_sql(r)):
            # Later occurrences = rows with the key - distinct keys (NULLs compare equal in
            # DISTINCT as in PARTITION BY). Measured 2x faster than a row_number() window over
            # the wide scan, which makes DuckDB materialise every column.
            keys = ", ".join(f'"{k}"' for k in _keys(m["keys"]))
            present = m["present"].replace(BATCH, "b")
            outer.append(
                f"count_if({present}) - count(DISTINCT CASE WHEN {present} THEN (b.school_code, {keys}) END)"
            )
            how[r.id] = "count_if(key present) - count(DISTINCT (school, key))"
        elif m := _MISSING_IN.match(_sql(r)):
            alias = join(m["other"], m["field"], m["via"])
            outer.append(f'count_if(b."{m["via"]}" IS NOT NULL AND {alias}.n IS NULL)')
            how[r.id] = f"anti-join (LEFT JOIN {m['other']} per school and key)"
        elif m := _GRADE_MATCHES.match(_sql(r)):
            alias = join(m["other"], m["field"], m["via"])
            g = m["grade"]
            join_cols[alias] += [f'min("{g}") AS min{i}', f'max("{g}") AS max{i}']
            outer.append(f'count_if({alias}.min{i} <> b."{g}" OR {alias}.max{i} <> b."{g}")')
            how[r.id] = f"LEFT JOIN {m['other']} per school and key, min/max of {g}"
        elif m := _WHERE.match(_sql(r)):
            outer.append(f"count_if({m['pred'].replace(BATCH, 'b')})")
            how[r.id] = "count_if(predicate)"
        else:
            outer.append(f"(SELECT count(*) FROM ({r.sql.format(batch=table)}) AS x{i})")
            how[r.id] = "its own subquery in the same statement (declared query, not folded into the scan)"
            separate.append(r.id)
    sql = (
        "SELECT "
        + ",\n  ".join(f"{e} AS r{i}" for i, e in enumerate(outer))
        + f"\nFROM (SELECT {', '.join(inner)} FROM {table}) AS b"
    )
    for (other, fld, via), alias in joins.items():
        sql += (
            f'\nLEFT JOIN (SELECT school_code, "{fld}" AS k, {", ".join(join_cols[alias])} FROM {other} '
            f'WHERE "{fld}" IS NOT NULL GROUP BY ALL) AS {alias} '
            f'ON {alias}.school_code = b.school_code AND {alias}.k = b."{via}"'
        )
    return SqlPass(sql, how, separate)


# --------------------------------------------------------------------------- GX on pandas


@dataclass
class PandasSuite:
    expectations: list[Any]
    how: dict[str, str]  # rule id → translation
    untranslated: dict[str, str]  # rule id → why not
    derived: list[tuple[str, Any]]  # (column, function(df, frames) → Series) computed before GX
    counts_differ: set[str] = field(default_factory=set)  # rules whose GX count has another meaning


def _condition(atoms: list[tuple[str, re.Match]]) -> Any:
    from great_expectations.expectations.row_conditions import AndCondition, Column

    parts = []
    for kind, m in atoms:
        c = Column(_unq(m[1]))
        if kind == "is_null":
            parts.append(c.is_null())
        elif kind == "not_null":
            parts.append(c.is_not_null())
        elif kind == "eq":
            parts.append(c == _unlit(m[2]))
        elif kind == "ne":  # SQL: NULL <> x is not true; pandas: NaN != x is True
            parts += [c.is_not_null(), c != _unlit(m[2])]
        else:
            parts.append(c.is_in([_unlit(v) for v in re.findall(_LIT, m["vals"])]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AndCondition(conditions=parts)


def _where_expectation(gx: Any, pred: str, meta: dict) -> tuple[Any, str] | None:
    """A conjunction `A AND … AND X` (failing rows satisfy it) as `X must not hold where A …`."""
    pred = pred.strip()
    while pred.startswith("(") and pred.endswith(")"):
        pred = pred[1:-1].strip()
    atoms = []
    for part in re.split(r"\s+AND\s+", pred):
        for kind, pattern in _ATOMS:
            if m := pattern.match(part.strip()):
                atoms.append((kind, m))
                break
        else:
            return None
    nulls = [i for i, (kind, _) in enumerate(atoms) if kind == "is_null"]
    target = nulls[-1] if nulls else len(atoms) - 1
    kind, m = atoms[target]
    condition = _condition(atoms[:target] + atoms[target + 1 :])
    kw: dict[str, Any] = {"column": _unq(m[1]), "meta": meta}
    if condition is not None:
        kw["row_condition"] = condition
    e = gx.expectations
    if kind == "is_null":
        return e.ExpectColumnValuesToNotBeNull(**kw), "ExpectColumnValuesToNotBeNull + row_condition"
    if kind == "not_null":
        return e.ExpectColumnValuesToBeNull(**kw), "ExpectColumnValuesToBeNull + row_condition"
    if kind == "eq":
        return e.ExpectColumnValuesToNotBeInSet(value_set=[_unlit(m[2])], **kw), "NotBeInSet + row_condition"
    if kind == "ne":
        return e.ExpectColumnValuesToBeInSet(value_set=[_unlit(m[2])], **kw), "BeInSet + row_condition"
    values = [_unlit(v) for v in re.findall(_LIT, m["vals"])]
    return e.ExpectColumnValuesToNotBeInSet(value_set=values, **kw), "NotBeInSet + row_condition"


def pandas_suite(gx: Any, rules: list[validate.Rule]) -> PandasSuite:
    """The same rules as GX expectations that run on a pandas DataFrame of stg_<entity>.

    Field rules keep their expectation. SQL (`rows`) rules have no pandas form, so: pattern rules
    become ExpectColumnValuesToMatchRegex; `where` predicates ExpectColumnValuesToNotBeNull (or
    (Not)BeInSet) with a GX row_condition; duplicates ExpectCompoundColumnsToBeUnique (which flags
    every row of a duplicated group, not only the later ones); range and date rules a column
    derived in pandas (the number; the year of the date) + ExpectColumnValuesToBeBetween;
    cross-table rules a column derived by a pandas lookup in the other table's frame +
    ExpectColumnValuesToBeInSet / ExpectColumnPairValuesToBeEqual.
    """
    import pandas as pd

    e = gx.expectations
    out = PandasSuite([], {}, {}, [])
    for r in rules:
        meta = {"rule_id": r.id}
        if r.check != "rows":
            out.expectations.append(gx.expectation(gx, r))
            out.how[r.id] = "same expectation"
            continue
        sql = _sql(r)
        where = _WHERE.match(sql)
        pred = where["pred"] if where else ""
        if where and (m := _TYPE.match(pred)):
            regex = _unlit(m[2])
            out.expectations.append(e.ExpectColumnValuesToMatchRegex(column=m["col"], regex=regex, meta=meta))
            out.how[r.id] = "ExpectColumnValuesToMatchRegex"
        elif where and (m := _LIST_ITEM.match(pred)):
            regex = f"(^|,){re.escape(_unlit(m[2]))}(,|$)"
            out.expectations.append(e.ExpectColumnValuesToNotMatchRegex(column=m[1], regex=regex, meta=meta))
            out.how[r.id] = f"ExpectColumnValuesToNotMatchRegex on {m[1]}"
        elif where and (m := _MATCHES.match(pred)):
            # RE2's \x{HHHH} is Python's \uHHHH.
            regex = re.sub(r"\\x\{([0-9a-fA-F]{4})\}", r"\\u\1", _unlit(m[2]))
            out.expectations.append(
                e.ExpectColumnValuesToNotMatchRegex(column=m["col"], regex=regex, meta=meta)
            )
            out.how[r.id] = "ExpectColumnValuesToNotMatchRegex"
        elif where and (m := _DATE_RANGE.match(pred)):
            col, pattern, name = m["col"], _unlit(m[2]), f"__year__{m['col']}"

            def year(df: pd.DataFrame, frames: dict, col: str = col, pattern: str = pattern) -> pd.Series:
                s = df[col]
                well_formed = s.str.fullmatch(pattern).fillna(False).astype(bool)
                full = s.where(s.str.len() != 7, s + "-01")
                parsed = pd.to_datetime(full.where(well_formed), format="%Y-%m-%d", errors="coerce")
                # A well-formed value that is not a real date fails whatever the bounds: year -1.
                return parsed.dt.year.astype("Float64").fillna(-1).where(well_formed)

            out.derived.append((name, year))
            out.expectations.append(
                e.ExpectColumnValuesToBeBetween(
                    column=name, min_value=int(m["lo"]), max_value=int(m["hi"]), meta=meta
                )
            )
            out.how[r.id] = "pandas-derived year (NaN-safe parse) + ExpectColumnValuesToBeBetween"
        elif where and (m := _RANGE.match(pred)):
            col, name = m["col"], f"__number__{m['col']}"
            bounds = {b["op"]: float(b["v"]) for b in _BOUND.finditer(m["bounds"])}

            def number(df: pd.DataFrame, frames: dict, col: str = col) -> pd.Series:
                return pd.to_numeric(df[col], errors="coerce")

            out.derived.append((name, number))
            out.expectations.append(
                e.ExpectColumnValuesToBeBetween(
                    column=name, min_value=bounds.get("<"), max_value=bounds.get(">"), meta=meta
                )
            )
            out.how[r.id] = "pandas-derived number (to_numeric) + ExpectColumnValuesToBeBetween"
        elif m := _DUPLICATE.match(sql):
            keys = _keys(m["keys"])
            present = {
                _unq(a.split(" IS NOT NULL")[0]) for a in re.split(r"\s+AND\s+", m["present"]) if a.strip()
            }
            kw: dict[str, Any] = {"column_list": ["school_code", *keys], "meta": meta}
            if present == set(keys):
                kw["ignore_row_if"] = "any_value_is_missing"
            else:
                kw["ignore_row_if"] = "never"
                kw["row_condition"] = _condition(
                    [("not_null", _ATOMS[1][1].match(f'"{p}" IS NOT NULL')) for p in sorted(present)]
                )
            out.expectations.append(e.ExpectCompoundColumnsToBeUnique(**kw))
            out.how[r.id] = "ExpectCompoundColumnsToBeUnique (counts every row of a duplicated group)"
            out.counts_differ.add(r.id)
        elif m := _MISSING_IN.match(sql):
            other, fld, via, name = m["other"], m["field"], m["via"], f"__key__{m['via']}"

            def key(df: pd.DataFrame, frames: dict, via: str = via) -> pd.Series:
                return df["school_code"] + "\x1f" + df[via]

            def keys_of(frames: dict, other: str = other, fld: str = fld) -> list[str]:
                o = frames[other]
                return sorted((o["school_code"] + "\x1f" + o[fld]).dropna().unique().tolist())

            out.derived.append((name, key))
            # The value set (every class key) is only known with the data: filled in later.
            out.expectations.append(("in_other", name, keys_of, meta))
            out.how[r.id] = f"pandas-derived school+{via} key + ExpectColumnValuesToBeInSet({other} keys)"
        elif m := _GRADE_MATCHES.match(sql):
            other, fld, via, grade = m["other"], m["field"], m["via"], m["grade"]
            name = f"__{other}_{grade}__{via}"

            def other_grade(
                df: pd.DataFrame,
                frames: dict,
                other: str = other,
                fld: str = fld,
                via: str = via,
                grade: str = grade,
                name: str = name,
            ) -> pd.Series:
                o = frames[other].dropna(subset=[fld, grade])
                o = o.groupby(["school_code", fld], as_index=False)[grade].agg(["first", "nunique"])
                # Several grades for one class: any of them differs from a pupil's grade.
                o[name] = o["first"].where(o["nunique"] == 1, "<several>")
                o = o.rename(columns={fld: via})[["school_code", via, name]]
                return (
                    df[["school_code", via]]
                    .merge(o, how="left", on=["school_code", via])[name]
                    .set_axis(df.index)
                )

            out.derived.append((name, other_grade))
            out.expectations.append(
                e.ExpectColumnPairValuesToBeEqual(
                    column_A=grade, column_B=name, ignore_row_if="either_value_is_missing", meta=meta
                )
            )
            out.how[r.id] = f"pandas-derived {other} {grade} (merge) + ExpectColumnPairValuesToBeEqual"
        elif where and (t := _where_expectation(gx, pred, meta)):
            out.expectations.append(t[0])
            out.how[r.id] = t[1]
        else:
            declared = sql.startswith(f"WITH b AS (SELECT * FROM {BATCH}) SELECT DISTINCT row_id")
            out.untranslated[r.id] = (
                f"declared SQL query, kind {r.kind}: no pandas expectation"
                if declared
                else "SQL shape not recognised: " + sql[:100]
            )
    return out


def finish_pandas_suite(gx: Any, suite: PandasSuite, frames: dict) -> list[Any]:
    """The expectations with the value sets that depend on the data (other tables' keys)."""
    done = []
    for x in suite.expectations:
        if isinstance(x, tuple):
            _, name, keys_of, meta = x
            x = gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=keys_of(frames), meta=meta)
        done.append(x)
    return done
