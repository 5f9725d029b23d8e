"""The loader: YAML, CatalogError with file, key path and line, the argument-normalising cache, and
every real file under schemas/ loading."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest
import yaml

from pipelines import catalog
from pipelines.catalog import CatalogError, analysis, codelist, deadlines, loader, sdmx, views

YAML = """\
rows:
- code: 1
  relations:
  - {check: r1 = r2, basis: I}
- code: 2
  label_vi: Hai
column_terms:
  ownership = 'CL': {OWNERSHIP: PUB}
"""


def test_key_paths():
    assert loader.key_path(("rows", 12, "relations", 0, "check")) == "rows[12].relations[0].check"
    assert (
        loader.key_path(("column_terms", "ownership = 'CL'", "OWNERSHIP"))
        == "column_terms[\"ownership = 'CL'\"].OWNERSHIP"
    )
    assert loader.key_path(("scope", "budget_amount")) == "scope.budget_amount"


def test_a_loc_is_located_at_the_line_of_its_key_or_item():
    node = yaml.compose(YAML, Loader=yaml.SafeLoader)
    assert loader.locate(node, ("rows", 0, "relations", 0, "check")) == (4, "rows[0].relations[0].check")
    assert loader.locate(node, ("rows", 1, "label_vi")) == (6, "rows[1].label_vi")
    # A missing key: the line of the item it is missing from.
    assert loader.locate(node, ("rows", 1, "label_en")) == (5, "rows[1].label_en")
    # A dict key that fails: the line of that key, without pydantic's [key].
    assert loader.locate(node, ("column_terms", "ownership = 'CL'", "[key]")) == (
        8,
        "column_terms[\"ownership = 'CL'\"]",
    )
    assert loader.locate(node, ()) == (1, "")
    assert loader.locate(None, ("rows", 3)) == (None, "rows[3]")


def test_a_catalog_error_is_still_a_value_error_with_a_message():
    plain = CatalogError("duplicate rule ids: ['x']")
    assert isinstance(plain, ValueError) and str(plain) == "duplicate rule ids: ['x']" and plain.line is None
    problem = loader.Problem("schemas/views.yaml", 12, "views[0].name", "bad")
    err = CatalogError(problems=[problem])
    assert str(err) == "schemas/views.yaml, line 12, views[0].name: bad"
    assert (err.file, err.line, err.path) == ("schemas/views.yaml", 12, "views[0].name")
    again = pickle.loads(pickle.dumps(err))  # errors cross to the parent from worker processes
    assert str(again) == str(err) and again.problems == (problem,)


def test_invalid_yaml_and_a_file_that_is_no_mapping(schemas):
    schemas.write("deadlines.yaml", "periods:\n  DN: {month: 10\nlevels: {}\n")
    with pytest.raises(CatalogError) as err:
        deadlines.deadline_config(schemas.root)
    assert (
        err.value.file == "schemas/deadlines.yaml"
        and err.value.line == 3
        and "not valid YAML" in str(err.value)
    )
    other = schemas.root.parent / "other" / "schemas"
    (other).mkdir(parents=True)
    (other / "deadlines.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(
        CatalogError, match=r"schemas/deadlines.yaml, line 1: Input should be a valid dictionary"
    ):
        deadlines.deadline_config(other)


def test_a_key_given_twice_is_refused(schemas):
    # YAML keeps the last of two keys silently: a row with two filters would count by the second.
    schemas.write("deadlines.yaml", "periods: {}\nlevels:\n  school: {day: 10}\n  school: {day: 12}\n")
    with pytest.raises(CatalogError) as err:
        deadlines.deadline_config(schemas.root)
    assert (
        str(err.value)
        == "schemas/deadlines.yaml, line 4: not valid YAML: duplicate key 'school' (first on line 3)"
    )


def test_the_cache_fills_in_defaults():
    calls = []

    @loader.cached
    def load(name: str, root: Path = loader.SCHEMAS) -> object:
        calls.append(name)
        return object()

    assert load("a") is load("a", loader.SCHEMAS) is load("a", root=loader.SCHEMAS) is load(name="a")
    assert calls == ["a"]
    load.cache_clear()
    load("a")
    assert calls == ["a", "a"]
    with pytest.raises(TypeError):
        load()  # a missing argument is not filled in


def test_every_real_file_under_schemas_loads():
    """Every YAML and CSV file of schemas/ through its loader (the production root)."""
    root = catalog.SCHEMAS
    loaded: set[Path] = set()
    for path in sorted((root / "sources").glob("*.yaml")):
        assert catalog.source(path.stem).entity == path.stem
        loaded.add(path)
    for path in sorted((root / "forms").glob("*/*.yaml")):
        assert catalog.form(path.parent.name, path.stem).form == path.stem
        loaded.add(path)
    assert catalog.indicators()
    loaded |= set((root / "indicators").glob("*.yaml"))
    assert views.views() and views.column_terms() and views.support_tables()
    assert deadlines.deadline_config().levels and sdmx.spec().structures
    assert analysis.enrolment_cells().grade_rows and analysis.commune_cells().levels
    loaded |= {root / "views.yaml", root / "deadlines.yaml", root / "sdmx.yaml", root / "analysis.yaml"}
    assert loaded == set(root.rglob("*.yaml")), "a YAML file no loader reads"
    for path in sorted(root.rglob("*.csv")):
        assert codelist(path.stem).codes, path


# --- the parsed-YAML cache between processes (issue 17) ---------------------------------------------


def test_a_cached_file_gives_its_data_and_an_edited_file_is_parsed_again(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(loader.YAML_CACHE_ENV, str(cache))
    form = tmp_path / "form.yaml"
    form.write_text("form: 02-TH-DN\nrows:\n- code: 1\n  filter: grade = 1\n", encoding="utf-8")
    first = loader.load_yaml(form)
    assert first == {"form": "02-TH-DN", "rows": [{"code": 1, "filter": "grade = 1"}]}
    assert len(list(cache.glob("*.pickle"))) == 1
    assert loader.load_yaml(form) == first  # served from the cache
    first["rows"].clear()  # each call's data is its own: a caller changing it changes no other's
    assert loader.load_yaml(form)["rows"] == [{"code": 1, "filter": "grade = 1"}]
    # One character edited (grade 1 → 2): the file's data, never the cached one.
    form.write_text("form: 02-TH-DN\nrows:\n- code: 1\n  filter: grade = 2\n", encoding="utf-8")
    assert loader.load_yaml(form)["rows"] == [{"code": 1, "filter": "grade = 2"}]


def test_a_damaged_cache_entry_is_parsed_again(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(loader.YAML_CACHE_ENV, str(cache))
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    loader.load_yaml(path)
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(b"\x80\x05truncated")
    assert loader.load_yaml(path) == {"a": 1}
    assert pickle.loads(entry.read_bytes()) == {"a": 1}  # and written again whole


def test_a_cache_folder_others_can_write_is_never_read(tmp_path, monkeypatch):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    monkeypatch.setenv(loader.YAML_CACHE_ENV, str(cache))
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    # A planted entry for this very text: a pickle runs code when read, so it must be ignored.
    (cache / f"{loader.cache_key('a: 1' + chr(10))}.pickle").write_bytes(pickle.dumps({"a": "planted"}))
    assert loader.load_yaml(path) == {"a": 1}


def test_a_key_given_twice_is_refused_with_the_cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv(loader.YAML_CACHE_ENV, str(tmp_path / "cache"))
    path = tmp_path / "a.yaml"
    path.write_text("filter: a\nfilter: b\n", encoding="utf-8")
    for _ in range(2):  # nothing was cached by the first refusal
        with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key"):
            loader.load_yaml(path)
    assert not list((tmp_path / "cache").glob("*.pickle"))


def test_entries_unread_for_a_month_are_pruned_when_a_new_one_is_written(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(loader.YAML_CACHE_ENV, str(cache))
    kept, used, new = (tmp_path / f"{n}.yaml" for n in ("kept", "used", "new"))
    kept.write_text("a: 1\n", encoding="utf-8")
    used.write_text("b: 2\n", encoding="utf-8")
    new.write_text("c: 3\n", encoding="utf-8")
    loader.load_yaml(kept)
    loader.load_yaml(used)
    entry = {p: cache / f"{loader.cache_key(p.read_text(encoding='utf-8'))}.pickle" for p in (kept, used)}
    day = 86400
    old = time.time() - 40 * day  # both written 40 days ago, and a torn temporary file as old
    for path in entry.values():
        os.utime(path, (old, old))
    torn = cache / "x.tmp"
    torn.write_bytes(b"")
    os.utime(torn, (old, old))
    assert loader.load_yaml(used) == {"b": 2}  # read today: re-dated, so it stays
    assert loader.load_yaml(new) == {"c": 3}  # a new entry written: the month-old unread one goes
    assert not entry[kept].exists() and not torn.exists()
    assert entry[used].exists()
    assert len(list(cache.glob("*.pickle"))) == 2  # used's and new's
    assert loader.load_yaml(kept) == {"a": 1}  # a pruned entry is only parsed again
