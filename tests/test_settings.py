"""Settings resolved once at the edge: the period's as-of date decides the regime and the boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import settings


@pytest.mark.parametrize(("school_year", "period", "as_of", "regime", "boundaries"), [
    ("2024-2025", "DN", date(2024, 9, 30), "tt24", "2024"),
    ("2024-2025", "CN", date(2025, 5, 31), "tt25", "2024"),  # TT 25/2024 in force from 9/2/2025
    ("2025-2026", "DN", date(2025, 9, 30), "tt25", "2025"),  # no district level from 1/7/2025
])  # fmt: skip
def test_regime_and_boundaries_follow_the_as_of_date(
    tmp_path, school_year, period, as_of, regime, boundaries
):
    s = settings.resolve(school_year, period, tmp_path / "r.xlsx", tmp_path / "inbox", tmp_path / "w.duckdb")
    assert (s.as_of, s.regime, s.boundaries) == (as_of, regime, boundaries)


@pytest.mark.parametrize("text", ["2024", "2024-2026", "24-25", "2024/2025"])
def test_a_school_year_must_be_two_consecutive_years(text):
    with pytest.raises(ValueError, match="2024-2025"):
        settings.parse_school_year(text)


def test_unknown_period_regime_or_boundaries_are_refused(tmp_path):
    args = ("2024-2025", "DN", tmp_path / "r.xlsx", tmp_path / "inbox", tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="DN, CN"):
        settings.resolve("2024-2025", "GK", *args[2:])
    with pytest.raises(ValueError, match="tt24, tt25"):
        settings.resolve(*args, regime="tt99")
    with pytest.raises(ValueError, match="2024, 2025"):
        settings.resolve(*args, boundaries="2030")


def test_the_pseudonym_key_comes_from_the_environment_else_a_private_file_beside_the_warehouse(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(settings.KEY_ENV, raising=False)
    first = settings.pseudonym_key(tmp_path / "w.duckdb")
    key_file = tmp_path / ".pseudonym_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert settings.pseudonym_key(tmp_path / "w.duckdb") == first  # stable across runs
    monkeypatch.setenv(settings.KEY_ENV, "from-the-environment")
    assert settings.pseudonym_key(tmp_path / "w.duckdb") == b"from-the-environment"


# --- the default paths every command shares ---------------------------------------------------


def test_every_default_path_is_under_one_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.DATA_ENV, str(tmp_path / "so66"))
    p = settings.paths()
    assert (p.data, p.why) == (tmp_path / "so66", settings.DATA_ENV)
    assert p.warehouse == tmp_path / "so66" / "warehouse.duckdb"
    assert p.releases == tmp_path / "so66" / "releases"
    assert p.output("2024-2025", "CN") == tmp_path / "so66" / "output" / "2024-2025" / "CN"
    # A run's defaults are those paths.
    s = settings.resolve("2024-2025", "CN", tmp_path / "r.xlsx", tmp_path / "inbox")
    assert (s.warehouse, s.out) == (p.warehouse, p.output("2024-2025", "CN"))
    # A reporting window's folder: OUT_ROOT/<school-year>/<period>, so the two windows never share one.
    dn = settings.resolve("2024-2025", "DN", tmp_path / "r.xlsx", tmp_path / "inbox", out_root=tmp_path / "w")
    assert dn.out == tmp_path / "w" / "2024-2025" / "DN"


def test_without_the_variable_the_checkout_data_else_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(settings.DATA_ENV, raising=False)
    assert (settings.paths().data, settings.paths().why) == (settings.PROJECT_ROOT / "data", "checkout")
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "site-packages")  # an installed package
    monkeypatch.chdir(tmp_path)
    assert (settings.paths().data, settings.paths().why) == (tmp_path / "data", "working directory")


def test_the_failure_threshold_is_a_share(monkeypatch):
    monkeypatch.delenv(settings.FAIL_ABOVE_ENV, raising=False)
    assert settings.fail_above_share() == settings.DEFAULT_FAIL_ABOVE
    monkeypatch.setenv(settings.FAIL_ABOVE_ENV, "0.1")
    assert settings.fail_above_share() == 0.1
    assert settings.fail_above_share(0.25) == 0.25  # the option wins over the variable
    for bad in ("1.5", "-0.1", "a tenth"):
        with pytest.raises(ValueError, match="share from 0 to 1"):
            settings.fail_above_share(bad)


def test_a_folder_that_cannot_be_written_is_refused_before_the_run(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(settings.NotWritable, match="is not a folder"):
        settings.check_writable(blocker / "output" / "2024-2025", "thư mục đầu ra", "the output folder")
    with pytest.raises(settings.NotWritable, match="is a folder"):
        settings.check_writable(tmp_path, "tệp", "the file", is_file=True)
    assert settings.check_writable(tmp_path / "new" / "deep", "x", "x") == tmp_path / "new" / "deep"
    assert not (tmp_path / "new").exists()  # nothing created


@pytest.mark.parametrize(("text", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),  # starts like a number but is a sum: a formula
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),  # OWASP: a tab or carriage return before the formula
    ("\r=1+1", "'\r=1+1"),
    ("-5", "-5"),  # a negative number is a number
    ("+1.5e3", "+1.5e3"),
    ("Trường A = B", "Trường A = B"),  # a formula character later in the text is harmless
    ("", ""),
])  # fmt: skip
def test_text_a_spreadsheet_would_run_is_quoted_and_numbers_are_not(text, written):
    assert settings.neutralise(text) == written


def test_duckdbs_pattern_of_a_formula_is_the_same_set_of_first_characters():
    import duckdb

    con = duckdb.connect()
    firsts = [chr(c) for c in range(1, 128)]
    matched = {c for c in firsts if con.execute("SELECT regexp_matches(?, ?)", [c + "x", settings.FORMULA_PATTERN])
               .fetchone()[0]}  # fmt: skip
    assert matched == set(settings.FORMULA_START)
