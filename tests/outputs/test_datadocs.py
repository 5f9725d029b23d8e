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
PAGE = """<html><head><script src="https://cdn.jsdelivr.net/npm/vega@5"></script></head><body>
<span >
    Unexpected rows query: <span class="badge badge-secondary" >SELECT row_id FROM {batch} WHERE "KhoiHoc"
      NOT IN ('01', '02')</span>
</span></body></html>"""
RULES = {"SELECT row_id FROM {batch} WHERE \"KhoiHoc\" NOT IN ('01', '02')": (
    "learner.KhoiHoc.codelist", "Khối học không có trong danh mục", "Grade not in the code list")}  # fmt: skip


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
    # The rule in words, Vietnamese then English, its id; the SQL folded under it.
    assert "<b>Khối học không có trong danh mục</b>" in page and "Grade not in the code list" in page
    assert "<code>learner.KhoiHoc.codelist</code>" in page
    assert re.search(r"<details><summary>SQL</summary><code>SELECT row_id FROM \{batch\}", page)
    assert "Unexpected rows query" not in page
    # A second pass changes nothing.
    assert make_offline(tmp_path, RULES) == 0
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == index
