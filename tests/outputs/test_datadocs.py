"""Data Docs made to work offline, on two pages written like GX's (its index, filled by bootstrap-table
from a script, and a validation page showing a rule's SQL)."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.outputs.datadocs import MARK, make_offline

INDEX = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<link rel="shortcut icon" href="static/images/favicon.ico" type="image/x-icon"/>
</head><body><img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1">
<table
  id="section-1-content-block-2-2-body-table"
  class="table-sm"
  data-toggle="table"
>
</table>
<script>
  $('#section-1-content-block-2-2-body-table').bootstrapTable(
    Object.assign(
      {
        columns: [{'field': 'expectation_suite_name', 'title': 'Expectation Suites', 'sortable': 'true'}],
        data: [{'expectation_suite_name': 'learner', '_table_row_link_path': 'expectations/learner.html'},
               {'expectation_suite_name': 'class [1]', '_table_row_link_path': 'expectations/class.html'}],
      }, {}))
</script></body></html>"""
# A validation page as GX 1.24 writes it for a staging table's one expectation (validate.gx): its raw
# arguments, the rule ids and the counting SQL (a "<" in it unescaped, as GX leaves it).
PAGE = """<html><head><script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<style>.navbar-brand a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') 0 0 no-repeat; }</style>
</head><body><li class="alert alert-warning" ><span >
    <span class="badge badge-warning" >expect_edustat_rules_to_find_no_rows</span>(**{'batch_id': 'warehouse-stg_learner', \
'rule_ids': ['learner.KhoiHoc.codelist', 'learner.HtHoTro.range'], 'rules_query': 'SELECT count(*),\\n       \\
coalesce(count_if("KhoiHoc" NOT IN (\\'01\\', \\'02\\')), 0),\\n       coalesce(count_if("HtHoTro" < 0), 0) FROM {batch}'})
</span></li><td>2 (learner.KhoiHoc.codelist: 2)</td></body></html>"""
RULES = {"learner.KhoiHoc.codelist": ("Khối học không có trong danh mục", "Grade not in the code list")}


def test_pages_lose_the_cdn_and_the_index_table_is_written_out(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(INDEX, encoding="utf-8")
    (tmp_path / "validations").mkdir()
    (tmp_path / "validations" / "learner.html").write_text(PAGE, encoding="utf-8")
    assert make_offline(tmp_path, RULES) == 2
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    page = (tmp_path / "validations" / "learner.html").read_text(encoding="utf-8")
    for text in (index, page):
        assert not re.search(r"""(src|href)=["']https?://""", text) and MARK in text and "<style>" in text
    assert 'href="static/images/favicon.ico"' in index  # local files stay
    # The suites are rows of the table itself, each a link to its page.
    table = index[index.index('id="section-1-content-block-2-2-body-table"') : index.index("</table>")]
    assert "<th>Expectation Suites</th>" in table
    assert re.findall(r'<td><a href="([^"]+)">([^<]+)</a></td>', table) == [
        ("expectations/learner.html", "learner"), ("expectations/class.html", "class [1]")]  # fmt: skip
    # The table's rules in words, each with its id (Vietnamese then English where the catalogue has
    # it); the counting SQL only folded away under them, escaped.
    assert "<b>2 quy tắc / rules</b>" in page
    assert "<li><code>learner.KhoiHoc.codelist</code> <b>Khối học không có trong danh mục</b>" in page
    assert "Grade not in the code list" in page and "<li><code>learner.HtHoTro.range</code></li>" in page
    folded = re.search(r"<details><summary>SQL</summary><pre>(.*?)</pre></details>", page, re.S)
    assert folded and "count_if(&quot;HtHoTro&quot; &lt; 0)" in folded.group(1)
    outside = page.replace(folded.group(0), "")
    assert "count_if" not in outside and "rule_ids" not in outside and "(**{" not in outside
    assert "2 (learner.KhoiHoc.codelist: 2)" in page  # GX's observed value stays
    assert "url(" not in page  # no background image from the web either
    # A second pass changes nothing.
    assert make_offline(tmp_path, RULES) == 0
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == index


def test_the_rules_are_compiled_only_when_a_page_needs_them(tmp_path: Path) -> None:
    (tmp_path / "validations").mkdir()
    (tmp_path / "validations" / "learner.html").write_text(PAGE, encoding="utf-8")
    asked: list[int] = []

    def rules() -> dict[str, tuple[str, str]]:
        asked.append(1)
        return RULES

    assert make_offline(tmp_path, rules) == 1
    assert asked == [1]
    assert "Grade not in the code list" in (tmp_path / "validations" / "learner.html").read_text(
        encoding="utf-8"
    )
    assert make_offline(tmp_path, rules) == 0  # a re-run: every page already offline
    assert asked == [1]
