"""Great Expectations' Data Docs made to work with no network, and to say each rule in words.

GX writes pages that load Bootstrap, jQuery, bootstrap-table, Vega and Font Awesome from CDNs: with
no internet the index is blank (its tables are filled by bootstrap-table from data in a script) and
the pages unstyled. After a run, every page of OUT/data_docs/ is rewritten here:

- the CDN style sheets, scripts and images are removed and a small style sheet is put inline
  (links to GX's web site stay: they are links, not parts of the page);
- each table that bootstrap-table would fill is written out as plain HTML rows (links kept);
- a CSS background image from the web (GX's dark-mode logo) is dropped;
- the table's one expectation (validate.gx: every rule of a staging table in one query), which GX
  prints as its raw arguments (the rule ids and the whole counting SQL), is replaced by its rules in
  words, each with its id, Vietnamese and English, and the SQL folded away under them (<details>).

Idempotent: a page already rewritten is left as it is.
"""

from __future__ import annotations

import ast
import html
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DOCS = "data_docs"  # under the output folder (pipelines/run.py writes it there)
MARK = "<!-- edustat: offline -->"
_EXTERNAL = re.compile(
    r"""<link\b[^>]*href=["']https?://[^>]*>\s*|<script\b[^>]*src=["']https?://[^>]*>\s*</script>\s*"""
    r"""|<img\b[^>]*src=["']https?://[^>]*>""",
    re.I,
)
_TABLE_CALL = re.compile(r"\$\('#([\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{")
_CSS_URL = re.compile(r"""url\(\s*['"]?https?://[^)]*\)""", re.I)
# GX's rendering of an expectation it has no renderer for: its type, then "(**{kwargs})".
_RULES_CALL = re.compile(r'<span class="badge[^"]*" >expect_edustat_rules_to_find_no_rows</span>\(\*\*(?=\{)')
STYLE = (
    "<style>body{font-family:sans-serif;margin:1em 2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top;text-align:left}th{background:#eee}"
    ".collapse{display:block}.d-none{display:none}.text-success{color:#080}.text-danger{color:#c00}"
    ".badge{font-family:monospace}nav,.navbar,.ge-footer,.btn{display:none}details{margin:.2em 0}"
    "summary{cursor:pointer;color:#555}.rule-en{color:#555}ol.rules{margin:.2em 0}pre{white-space:pre-wrap}</style>"
)


def _balanced(text: str, start: int) -> str:
    """The bracketed literal that starts at text[start] ("[" or "{"), brackets in strings ignored."""
    pairs = {"[": "]", "{": "}"}
    depth, quote, i = 0, None, start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in pairs:
            depth += 1
        elif ch in pairs.values():
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    raise ValueError("unbalanced literal")


def _literal(text: str, key: str, start: int) -> list[dict] | None:
    """The Python-like list after `key:` from `start` (GX writes them with single quotes)."""
    m = re.compile(rf"\b{key}\s*:\s*\[").search(text, start)
    if m is None:
        return None
    try:
        return ast.literal_eval(_balanced(text, m.end() - 1))
    except (ValueError, SyntaxError):
        return None


def _static_tables(page: str) -> str:
    """Each table bootstrap-table would fill, filled here: a heading row and the data rows."""
    for m in list(_TABLE_CALL.finditer(page)):
        table_id = m.group(1)
        columns, data = _literal(page, "columns", m.end()), _literal(page, "data", m.end())
        if not columns or data is None:
            continue
        head = "".join(f"<th>{html.escape(str(c.get('title', c.get('field', ''))))}</th>" for c in columns)
        rows = []
        for row in data:
            link = row.get("_table_row_link_path")
            cells = []
            for c in columns:
                value = row.get(c.get("field"), "")
                text = str(value) if "<" in str(value) else html.escape(str(value))  # GX's own HTML
                cells.append(
                    f'<td><a href="{html.escape(link)}">{text}</a></td>' if link else f"<td>{text}</td>"
                )
            rows.append("<tr>" + "".join(cells) + "</tr>")
        body = f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        page = re.sub(rf'(<table\s[^>]*id="{re.escape(table_id)}"[^>]*>)\s*(</table>)',
                      lambda t, body=body: t.group(1) + body + t.group(2), page, count=1)  # fmt: skip
    return page


def _in_words(page: str, rules: Mapping[str, tuple[str, str]]) -> str:
    """The table expectation's raw arguments replaced by its rules in words (id, Vietnamese,
    English; a rule not in `rules` by its id alone), the counting SQL folded away under them."""
    out, pos = [], 0
    for m in _RULES_CALL.finditer(page):
        if m.start() < pos:
            continue
        try:
            literal = _balanced(page, m.end())
            kwargs = ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            continue
        end = m.end() + len(literal)
        if not (isinstance(kwargs, dict) and page.startswith(")", end)):
            continue
        ids = kwargs.get("rule_ids") or []
        items = []
        for rid in ids:
            vi, en = rules.get(rid, ("", ""))
            said = f' <b>{html.escape(vi)}</b> <span class="rule-en">/ {html.escape(en)}</span>' if vi else ""
            items.append(f"<li><code>{html.escape(rid)}</code>{said}</li>")
        sql = html.escape(str(kwargs.get("rules_query", "")))
        out += [page[pos : m.start()],
                f"<b>{len(ids)} quy tắc / rules</b> <code>expect_edustat_rules_to_find_no_rows</code>",
                f'<ol class="rules">{"".join(items)}</ol><details><summary>SQL</summary><pre>{sql}</pre></details>']  # fmt: skip
        pos = end + 1
    return "".join(out) + page[pos:]


def make_offline(
    folder: Path,
    rules: Mapping[str, tuple[str, str]] | Callable[[], Mapping[str, tuple[str, str]]] | None = None,
) -> int:
    """Rewrite every page of a Data Docs folder to work offline (see the module); `rules` maps a
    rule's id to its message (Vietnamese, English), or makes that map when a page needs it (a re-run
    whose pages are all offline already compiles no rule). Returns the pages rewritten."""
    n = 0
    for path in sorted(folder.rglob("*.html")):
        page = path.read_text(encoding="utf-8")
        if MARK in page:
            continue
        if callable(rules):
            rules = rules()
        page = _EXTERNAL.sub("", page)
        page = _CSS_URL.sub("none", page)
        page = _static_tables(page)
        page = _in_words(page, rules or {})
        page = page.replace("</head>", f"{MARK}\n{STYLE}\n</head>", 1)
        path.write_text(page, encoding="utf-8")
        n += 1
    log.info("data docs: %d trang chạy không cần mạng / pages made to work offline", n)
    return n
