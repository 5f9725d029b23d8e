"""Documents generated from the catalogue: the rule catalogue (rules.md, rules.html), the field
dictionary (fields.md) and the analysts' data dictionary (dictionary.md); `edustat rules` writes
them into docs/, every run into its output folder."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines import catalog, validate
from pipelines.catalog import views as catalog_views
from pipelines.outputs.problems import BASIS, FILE_RULES, RELATION_KIND, relation_catalogue
from pipelines.outputs.styles import SEVERITY_VI
from pipelines.settings import PROJECT_ROOT

DOCS_DIR = PROJECT_ROOT / "docs"

# ------------------------------------------------------------------------------ rule catalogue


def catalogue() -> list[dict[str, Any]]:
    """validate.rule_catalogue() (each rule with its source), the file rejections of ingest, then
    every form relation of every form of the catalogue."""
    rows = [dict(r) for r in validate.rule_catalogue()]
    for rid, vi, en in FILE_RULES:
        rows.append({"id": rid, "entity": "file", "field": None, "kind": "file", "severity": "error",
                     "message_vi": vi, "message_en": en, "source": "pipelines/ingest/payload.py (check_payload)"})  # fmt: skip
    return rows + relation_catalogue()


_CATALOGUE_HEADS = ("Mã quy tắc / Rule", "Trường / Field", "Loại / Kind", "Mức độ / Severity",
                    "Nội dung / Meaning", "Meaning (English)", "Nguồn / Source")  # fmt: skip
_INTRO_VI = (
    "Mỗi quy tắc kiểm tra một bản ghi của tệp trường gửi lên. **Lỗi**: bản ghi bị loại khỏi báo cáo "
    "(lỗi ở Thông tin trường loại cả trường); **cảnh báo**: bản ghi vẫn được tính. **Quan hệ biểu "
    "mẫu** (loại form_relation, từ các tệp biểu mẫu) kiểm tra các ô của biểu đã tổng hợp của mỗi "
    "trường, Phòng và Sở (tổng bằng tổng các phần, …): luôn là cảnh báo, không loại bản ghi nào; vi "
    "phạm ở biểu của một trường có trong danh sách lỗi của trường đó, mỗi ô một dòng."
)
_INTRO_EN = (
    "Each rule checks a record of a school's file. **Error**: the record is excluded from the report "
    "(an error in the school record excludes the whole school); **warning**: the record still counts. "
    "**Form relations** (kind form_relation, from the form files) check the cells of each school's, "
    "Phòng's and the Sở's compiled form (a total equals the sum of its parts, …): always a warning, "
    "they exclude no record; a broken relation in a school's own form is in that school's error "
    "list, one row per cell."
)
_BASIS_LINE = (
    "Cơ sở / basis: " + "; ".join(f"{vi} / {en.split(': ', 1)[1]}" for vi, en in BASIS.values()) + "."
)


def rule_groups(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(heading, where the rules come from, rules) per entity in catalogue order, files last."""
    out = []
    for src in catalog.sources():
        its = [r for r in rows if r["entity"] == src.entity]
        if its:
            out.append(
                (
                    f"{src.label_vi} / {src.label_en}",
                    f"`{src.json_path}`, `schemas/sources/{src.entity}.yaml`",
                    its,
                )
            )
    files = [r for r in rows if r["entity"] == "file"]
    if files:
        out.append(
            ("Tệp dữ liệu / Files", "`pipelines/ingest/payload.py`: the whole file is rejected", files)
        )
    forms = {fr.form.form: fr for fr in catalog.form_relations()}
    by_form: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["entity"] == "form":
            by_form.setdefault(r["form"], []).append(r)
    for name, its in by_form.items():
        fr = forms[name]
        files_ = ", ".join(f"`{p}`" for p in fr.paths) + (
            f" (grid: `{fr.base_path}`)" if fr.base_path else ""
        )
        out.append(
            (
                f"Quan hệ biểu mẫu {fr.form.code_printed} / Form relations of {name}",
                f"{files_}: cảnh báo, không loại bản ghi nào / warnings, no record is excluded",
                its,
            )
        )
    return out


def _cells(r: dict[str, Any]) -> tuple[str, ...]:
    severity = f"{SEVERITY_VI.get(r['severity'], r['severity'])} / {r['severity']}"
    return (r["id"], r["field"] or "", r["kind"], severity, r["message_vi"], r["message_en"], r["source"])


def _counts_line(rows: Sequence[dict[str, Any]]) -> str:
    n_err = sum(r["severity"] == "error" for r in rows)
    n_rel = sum(r["kind"] == RELATION_KIND for r in rows)
    return (f"{len(rows)} quy tắc / rules: {n_err} lỗi / errors, {len(rows) - n_err} cảnh báo / warnings "
            f"(trong đó {n_rel} quan hệ biểu mẫu / of which {n_rel} form relations).")  # fmt: skip


def render_markdown(rows: Sequence[dict[str, Any]]) -> str:
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Danh mục quy tắc kiểm tra dữ liệu / Validation rule catalogue",
        "",
        "<!-- Generated by `edustat rules` from schemas/sources/*.yaml (pipelines/validate/rules.py),",
        "     pipelines/ingest/payload.py and schemas/forms/*/*.yaml. Do not edit by hand: run `edustat rules`",
        "     after changing a rule or a form relation. -->",
        "",
        _INTRO_VI,
        "",
        _INTRO_EN,
        "",
        _BASIS_LINE,
        "",
        _counts_line(rows),
    ]
    for heading, where, its in rule_groups(rows):
        lines += ["", f"## {heading}", "", f"{where} — {len(its)} quy tắc / rules", ""]
        lines.append("| " + " | ".join(_CATALOGUE_HEADS) + " |")
        lines.append("|" + "---|" * len(_CATALOGUE_HEADS))
        for r in its:
            c = _cells(r)
            lines.append("| " + " | ".join([f"`{esc(c[0])}`", *(esc(x) for x in c[1:])]) + " |")
    return "\n".join(lines) + "\n"


_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}"
    "th{background:#eee;position:sticky;top:0}td.error{color:#c00000}nav li{margin:2px 0}"
    "#q{font-size:1.1em;width:40em;max-width:100%;padding:4px}summary{cursor:pointer;font-weight:bold}"
    "details.source{font-size:0.9em;color:#444}"
)
# The search box: hides the rows (and the groups) that do not contain every word typed; no network,
# no library, so the page works opened from a disk.
_SCRIPT = (
    "function f(){var w=document.getElementById('q').value.toLowerCase().split(/\\s+/).filter(Boolean);"
    "document.querySelectorAll('section').forEach(function(s){var n=0;"
    "s.querySelectorAll('tr.r').forEach(function(r){var t=r.textContent.toLowerCase();"
    "var ok=w.every(function(x){return t.indexOf(x)>=0});r.style.display=ok?'':'none';if(ok)n++});"
    "s.style.display=n?'':'none';if(w.length&&n)s.querySelector('details').open=true})}"
)


def _anchor(i: int) -> str:
    return f"g{i + 1}"


def render_html(rows: Sequence[dict[str, Any]]) -> str:
    """The catalogue as one page that works offline (no asset from the network): a table of contents
    by form and entity, a search box, each group folded in a <details> with its rules in words
    (Vietnamese and English), the source of each rule under it."""

    def para(text: str) -> str:
        parts = html.escape(text).split("**")
        return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))

    def code(text: str) -> str:
        parts = html.escape(text).split("`")
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

    groups = rule_groups(rows)
    out = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>Danh mục quy tắc kiểm tra dữ liệu / Validation rule catalogue</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{_SCRIPT}</script>",
        "</head>",
        "<body>",
        "<!-- Generated by `edustat rules`; do not edit by hand. -->",
        "<h1>Danh mục quy tắc kiểm tra dữ liệu / Validation rule catalogue</h1>",
        f"<p>{para(_INTRO_VI)}</p>",
        f"<p>{para(_INTRO_EN)}</p>",
        f"<p>{html.escape(_BASIS_LINE)}</p>",
        f"<p>{html.escape(_counts_line(rows))}</p>",
        '<p><input id="q" type="search" oninput="f()" '
        'placeholder="Tìm quy tắc (mã, trường, nội dung) / search rules (id, field, meaning)"></p>',
        "<nav><h2>Mục lục / Contents</h2><ul>",
    ]
    out += [
        f'<li><a href="#{_anchor(i)}">{html.escape(heading)}</a> ({len(its)})</li>'
        for i, (heading, _, its) in enumerate(groups)
    ]
    out.append("</ul></nav>")
    heads = (*_CATALOGUE_HEADS[:-1],)
    for i, (heading, where, its) in enumerate(groups):
        out.append(f'<section id="{_anchor(i)}"><h2>{html.escape(heading)}</h2>')
        out.append(f"<p>{code(where)} — {len(its)} quy tắc / rules</p>")
        out.append("<details><summary>Các quy tắc / the rules</summary><table>")
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in heads) + "</tr>")
        for r in its:
            c = _cells(r)
            tds = [f'<td id="{html.escape(c[0])}"><code>{html.escape(c[0])}</code></td>']
            tds += [f"<td>{html.escape(x)}</td>" for x in c[1:3]]
            tds.append(f'<td class="{html.escape(r["severity"])}">{html.escape(c[3])}</td>')
            tds.append(f"<td>{html.escape(c[4])}</td>")
            # A form relation's file is the group's (named above it): only where in the file.
            source = c[6].split(", ", 1)[1] if r["entity"] == "form" and ", " in c[6] else c[6]
            tds.append(
                f'<td>{html.escape(c[5])}<details class="source"><summary>Nguồn / source</summary>'
                f"<code>{html.escape(source)}</code></details></td>"
            )
            out.append('<tr class="r">' + "".join(tds) + "</tr>")
        out.append("</table></details></section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ field dictionary

PII_VI = {
    "hash": "mã hóa (băm có khóa) khi nhập, không bao giờ in / keyed hash at ingest, never printed",
    "year_month": "chỉ giữ năm-tháng khi nhập, không in / cut to year-month at ingest, never printed",
}
_FIELD_HEADS = ("Trường / Field", "Kiểu / Type", "Bắt buộc / Required", "Dài tối đa / Max length",
                "Danh mục / Code list", "Mẫu / Pattern", "Khoảng / Range", "Dữ liệu cá nhân / PII",
                "Ghi chú / Note")  # fmt: skip


def _codelist_file(name: str) -> str:
    """Where a code list's CSV is, relative to schemas/ (codelists/<name>.csv, or another folder of
    schemas/ such as the lists of administrative units)."""
    found = sorted(catalog.SCHEMAS.glob(f"*/{name}.csv"), key=lambda p: (p.parent.name != "codelists", p))
    return found[0].relative_to(catalog.SCHEMAS).as_posix() if found else f"codelists/{name}.csv"


def codelist_link(name: str | None, schemas: str) -> str:
    """A doc table's code-list cell: the list linked to its CSV under `schemas`, with its size."""
    if not name:
        return ""
    return f"[{name}]({schemas}/{_codelist_file(name)}) ({len(catalog.codelist(name).codes)} mã / codes)"


def render_fields(schemas: str = "../schemas") -> str:
    """docs/fields.md: every field of every source (schemas/sources/*.yaml), the same properties
    ingest types and validate compiles into the GX suites. Code lists link to their CSV under
    `schemas` (the schemas/ folder, relative to the page)."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    def code(text: str) -> str:
        return f"`{esc(text)}`"

    n_fields = sum(len(s.fields) for s in catalog.sources())
    lines = [
        "# Từ điển trường dữ liệu / Field dictionary",
        "",
        "<!-- Generated by `edustat rules` from schemas/sources/*.yaml. Do not edit by hand: run",
        "     `edustat rules` after changing a source. -->",
        "",
        "Mọi trường của các danh sách trong tệp trường gửi lên, đúng như `schemas/sources/*.yaml` khai "
        "báo: cùng các khai báo này sinh ra kiểu dữ liệu khi nhập (`pipelines/ingest/normalise.py`), các bộ "
        "kiểm tra Great Expectations (`pipelines/validate/rules.py`, xem [rules.md](rules.md)) và tài liệu này.",
        "",
        "Every field of the lists of a school's file, as `schemas/sources/*.yaml` declares it: the same "
        "declarations give the types of ingest (`pipelines/ingest/normalise.py`), the Great Expectations suites "
        "(`pipelines/validate/rules.py`, see [rules.md](rules.md)) and this page.",
        "",
        f"{len(catalog.ENTITIES)} nguồn / sources, {n_fields} trường / fields. Khoảng / range: [min, max], "
        "∞ = không giới hạn / unbounded. Mẫu / pattern: biểu thức chính quy cả giá trị phải khớp / a "
        "regular expression the whole value must match.",
    ]
    for src in catalog.sources():
        lines += [
            "",
            f"## {src.label_vi} / {src.label_en} (`{src.entity}`)",
            "",
            f"JSON: `{src.json_path}`; `schemas/sources/{src.entity}.yaml`; bảng / table `stg_{src.entity}`; "
            f"{len(src.fields)} trường / fields, {len(src.rules)} quy tắc khai báo / declared rules.",
            "",
            "| " + " | ".join(_FIELD_HEADS) + " |",
            "|" + "---|" * len(_FIELD_HEADS),
        ]
        for f in src.fields:
            cl = codelist_link(f.codelist, schemas)
            bounds = validate.bounds_text(f) if f.min is not None or f.max is not None else ""
            cells = [
                code(f.name),
                f.type,
                "Có / yes" if f.required else "",
                str(f.max_length) if f.max_length is not None else "",
                cl,
                code(f.pattern) if f.pattern else "",
                bounds,
                PII_VI.get(f.pii, f.pii) if f.pii else "",
                esc(f.note or ""),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def relative_link(target: Path, folder: Path) -> str:
    """target relative to folder, with forward slashes (absolute if on another drive)."""
    try:
        return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:
        return target.resolve().as_posix()


def write_catalogue(folder: Path = DOCS_DIR) -> list[Path]:
    """Write folder/rules.md and folder/rules.html from the current rules and form relations, and
    folder/fields.md from the sources (code lists linked relative to folder)."""
    rows = catalogue()
    folder.mkdir(parents=True, exist_ok=True)
    md, page, fields = folder / "rules.md", folder / "rules.html", folder / "fields.md"
    md.write_text(render_markdown(rows), encoding="utf-8")
    page.write_text(render_html(rows), encoding="utf-8")
    fields.write_text(render_fields(relative_link(catalog.SCHEMAS, folder)), encoding="utf-8")
    return [md, page, fields]


# --- docs/dictionary.md ---------------------------------------------------------------------------

DICTIONARY_DOC = "dictionary.md"
_DOC_HEADS = ("Cột / Column", "Kiểu / Type", "Danh mục / Code list", "Nguồn / Source", "Ý nghĩa", "Meaning")


def render_dictionary(schemas: str = "../schemas") -> str:
    """docs/dictionary.md: every contract view and column with its type, code list, source field
    and meaning in Vietnamese and English, from schemas/views.yaml (code lists link to their CSV
    under `schemas`, relative to the page)."""

    def esc(text: str) -> str:
        return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())

    all_views = catalog_views.views()
    lines = [
        "# Từ điển dữ liệu / Data dictionary",
        "",
        "<!-- Generated by `edustat rules` from schemas/views.yaml, schemas/sources/*.yaml and",
        "     schemas/codelists/. Do not edit by hand: run `edustat rules` after changing them. -->",
        "",
        "Các view dưới đây là giao diện ổn định cho người phân tích: có trong kho dữ liệu sau mỗi lượt "
        "chạy (cuối bước tổng hợp) và trong mọi bản phát hành (`release.duckdb`). Bảng nội bộ có thể "
        "thay đổi; tên, cột và kiểu của các view này thì không (`tests/test_views.py` kiểm tra). Cùng "
        "nội dung có trong bảng `data_dictionary` (mỗi view một dòng với `column_name` trống, mỗi cột "
        'một dòng). Truy vấn không cần Python: `edustat query "SELECT …"`.',
        "",
        "The views below are the stable interface for analysts: in the warehouse after every run (at "
        "the end of the aggregate step) and in every release (`release.duckdb`). Internal tables may "
        "change; these views' names, columns and types do not (`tests/test_views.py` checks them). The "
        "same content is the table `data_dictionary` (one row per view with `column_name` NULL, one row "
        'per column). Query them without Python: `edustat query "SELECT …"`.',
        "",
        "Học sinh và cán bộ đã bút danh hóa: không có họ tên, mã định danh cá nhân hay ngày sinh; "
        "`learner_key` và `staff_key` là mã băm có khóa. / Learners and staff are pseudonymised: no "
        "names, personal identifiers or birth dates; `learner_key` and `staff_key` are keyed hashes.",
        "",
        "Các view đọc thêm các bảng danh mục biểu, nạp từ `schemas/` cùng lúc: `catalog_forms` (biểu), "
        "`catalog_rows` (dòng), `catalog_columns` (cột), `catalog_fields` (trường dữ liệu nguồn). / The "
        "views also read the catalogue tables, loaded from `schemas/` at the same time: `catalog_forms`, "
        "`catalog_rows`, `catalog_columns`, `catalog_fields` (the source fields, with their `pii` marks).",
        "",
        f"{len(all_views)} view, {sum(len(v.columns) for v in all_views)} cột / columns: "
        + ", ".join(f"[`{v.name}`](#{v.name})" for v in all_views)
        + ".",
    ]
    for v in all_views:
        lines += ["", f'<a id="{v.name}"></a>', "", f"## `{v.name}`", "", esc(v.meaning_vi), "",
                  esc(v.meaning_en), "", "| " + " | ".join(_DOC_HEADS) + " |", "|" + "---|" * len(_DOC_HEADS)]  # fmt: skip
        for c in v.columns:
            cl = codelist_link(c.code_list, schemas)
            source = ""
            if c.source:
                entity, name = c.source.split(".", 1)
                how = "suy ra từ / derived from " if c.derived else ""
                source = f"{how}`{catalog.source(entity).json_path}.{name}`"
            cells = [f"`{c.name}`", c.type, cl, source, esc(c.meaning_vi), esc(c.meaning_en)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_dictionary(folder: Path) -> Path:
    """folder/dictionary.md (code lists linked relative to folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DICTIONARY_DOC
    path.write_text(render_dictionary(relative_link(catalog.SCHEMAS, folder)), encoding="utf-8")
    return path
