"""The one store of what changed since the last run: per stage its fingerprint and the staged files
it worked from; per output folder the digest of each file written there."""

from __future__ import annotations

from pipelines import warehouse


def _stage_files(con, rows):
    con.execute("CREATE OR REPLACE TABLE stg_school (school_code VARCHAR, file_hash VARCHAR)")
    warehouse.insert_rows(con, "stg_school", rows)


def test_changed_schools_are_the_changed_the_new_and_the_gone(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        _stage_files(con, [("A", "a1"), ("B", "b1"), ("D", "d1")])
        warehouse.save_staged_files(con, "validate")
        _stage_files(con, [("A", "a1"), ("B", "b2"), ("C", "c1")])  # B resent, C new, D gone
        assert warehouse.changed_schools(con, "validate") == {"B", "C", "D"}
        assert warehouse.changed_schools(con, "aggregate") == {"A", "B", "C"}  # a stage that never ran


def test_each_stage_keeps_its_own_last_state(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert warehouse.last_state(con, "ingest") is None
        warehouse.save_state(con, "ingest", "run-1", "fp-1")
        warehouse.save_state(con, "validate", "run-1", "fp-v")
        warehouse.save_state(con, "ingest", "run-2", "fp-2")
        assert warehouse.last_state(con, "ingest") == ("run-2", "fp-2")
        assert warehouse.last_state(con, "validate") == ("run-1", "fp-v")


def test_output_digests_are_forgotten_before_a_rewrite_and_kept_per_folder(tmp_path):
    dn, cn = tmp_path / "DN" / "forms", tmp_path / "CN" / "forms"
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.save_output_digests(con, dn, {"school/A/02.xlsx": "x", "so/66/02.xlsx": "y"})
        warehouse.save_output_digests(con, cn, {"school/A/02.xlsx": "z"})
        warehouse.forget_outputs(con, dn, ["so/66/02.xlsx"])
        assert warehouse.output_digests(con, dn) == {"school/A/02.xlsx": "x"}
        warehouse.save_output_digests(con, dn, {"school/A/02.xlsx": "x2"})
        assert warehouse.output_digests(con, dn) == {"school/A/02.xlsx": "x2"}
        warehouse.forget_outputs(con, dn)
        assert warehouse.output_digests(con, dn) == {}
        assert warehouse.output_digests(con, cn) == {"school/A/02.xlsx": "z"}


def test_the_tree_hash_follows_names_and_contents_but_not_bytecode(tmp_path):
    tree = tmp_path / "pipelines"
    (tree / "__pycache__").mkdir(parents=True)
    (tree / "a.py").write_text("x = 1\n")
    first = warehouse.tree_hash(tree)
    (tree / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert warehouse.tree_hash(tree) == first and first["files"] == 1
    (tree / "a.py").write_text("x = 2\n")
    changed = warehouse.tree_hash(tree)
    (tree / "a.py").rename(tree / "b.py")
    assert len({first["sha256"], changed["sha256"], warehouse.tree_hash(tree)["sha256"]}) == 3
