"""The command line: commands run end to end, exit codes, and every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import cli, settings

# The command-line reference lives in the operators' guide; the README links to it.
REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "operator.md"


@pytest.mark.slow
def test_generate_then_run_exits_zero_and_prints_where_outputs_are(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(settings.KEY_ENV, "cli-test-key")
    gen = tmp_path / "gen"
    assert cli.main(["generate", "--province", "66", "--school-year", "2024-2025", "--period", "DN",
                     "--schools", "3", "--seed", "4", "--out", str(gen)]) == 0  # fmt: skip
    out = tmp_path / "out"
    code = cli.main(["run", "--school-year", "2024-2025", "--period", "DN", "--registry", str(gen / "registry.xlsx"),
                     "--inbox", str(gen / "inbox"), "--warehouse", str(tmp_path / "w.duckdb"), "--out", str(out),
                     "--processes", "1"])  # fmt: skip
    assert code == 0
    assert str(out) in capsys.readouterr().out
    assert (out / "forms" / "so" / "66" / "02-TH-DN.xlsx").exists()


@pytest.mark.slow
def test_a_run_with_no_loadable_school_is_no_report(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.KEY_ENV, "cli-test-key")
    gen = tmp_path / "gen"
    cli.main(
        ["generate", "--province", "66", "--school-year", "2024-2025", "--schools", "2", "--out", str(gen)]
    )
    for path in (gen / "inbox").glob("*.json"):
        path.write_text("{broken", encoding="utf-8")
    code = cli.main(["run", "--school-year", "2024-2025", "--registry", str(gen / "registry.xlsx"),
                     "--inbox", str(gen / "inbox"), "--warehouse", str(tmp_path / "w.duckdb"),
                     "--out", str(tmp_path / "out"), "--processes", "1"])  # fmt: skip
    assert code == 1


def test_unreadable_registry_and_bad_arguments_exit_non_zero(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "registry.xlsx").write_text("not a workbook", encoding="utf-8")
    base = ["run", "--registry", str(tmp_path / "registry.xlsx"), "--inbox", str(tmp_path / "inbox"),
            "--warehouse", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")]  # fmt: skip
    assert cli.main([*base, "--school-year", "2024-2025"]) == 1
    assert cli.main([*base, "--school-year", "2024"]) == 2


def test_every_command_and_option_is_in_the_reference():
    reference = REFERENCE.read_text(encoding="utf-8")
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        assert f"edustat {name}" in reference, name
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in reference, f"{name} {option}"


@pytest.mark.slow
def test_regime_follows_the_as_of_date_unless_given(tmp_path, monkeypatch):
    """2025-2026 start of year (30/9/2025) is reported under TT 25/2024: its forms carry the TT 25
    codes and the TT 24 grids, marked provisional; --regime tt24 gives the TT 24 forms back."""
    import openpyxl

    monkeypatch.setenv(settings.KEY_ENV, "cli-test-key")
    gen = tmp_path / "gen"
    cli.main(
        ["generate", "--province", "66", "--school-year", "2025-2026", "--schools", "3", "--out", str(gen)]
    )
    base = ["run", "--school-year", "2025-2026", "--registry", str(gen / "registry.xlsx"), "--inbox",
            str(gen / "inbox"), "--warehouse", str(tmp_path / "w.duckdb"), "--processes", "1"]  # fmt: skip
    assert cli.main([*base, "--out", str(tmp_path / "tt25")]) == 0
    book = tmp_path / "tt25" / "forms" / "so" / "66" / "02.DN-TH.xlsx"
    sheet = openpyxl.load_workbook(book)["I"]
    texts = [c for row in sheet.iter_rows(max_row=5, values_only=True) for c in row if c]
    assert any("02.ĐN-TH" in str(t) for t in texts)
    assert any("Provisional" in str(t) for t in texts)
    assert cli.main([*base, "--out", str(tmp_path / "tt24"), "--regime", "tt24"]) == 0
    assert (tmp_path / "tt24" / "forms" / "so" / "66" / "02-TH-DN.xlsx").exists()
