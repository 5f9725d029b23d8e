"""rules.html: one page that works with no network, with a table of contents and a search box."""

from __future__ import annotations

import re

from pipelines.outputs import docs


def test_rules_page_is_offline_with_contents_and_search() -> None:
    rows = docs.catalogue()
    page = docs.render_html(rows)
    # Nothing is loaded from elsewhere: no external script, style sheet, font or image.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert '<input id="q" type="search"' in page and "function f()" in page
    # A contents entry per group, each pointing at its section, with the group's number of rules.
    groups = docs.rule_groups(rows)
    links = re.findall(r'<li><a href="#(g\d+)">[^<]*</a> \((\d+)\)</li>', page)
    assert [int(n) for _, n in links] == [len(its) for _, _, its in groups]
    for anchor, _ in links:
        assert f'<section id="{anchor}">' in page
    # The files' and form relations' groups are there, and every rule is a searchable row.
    assert any(h.startswith("Quan hệ biểu mẫu 02-TH-ĐN") for h, _, _ in groups)
    assert page.count('<tr class="r">') == len(rows)
