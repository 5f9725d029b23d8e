"""National runs through an S3 bucket served by a local S3 server (moto's ThreadedMotoServer): three
hand-made provinces, one late then arriving, one whose run failed, one whose file was damaged in the
bucket. The totals are worked by hand: a national cell is the sum of the three Sở cells."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import warehouse
from pipelines.aggregate import national
from pipelines.warehouse import objects

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

YEAR, PERIOD = "2024-2025", "DN"
BUCKET = "s3://edustat-exchange/national"
FORM = ("DN", "tt24", "02-TH-DN")
# Per province: its one school's learners in row 1 (total) and row 2 (girls); the Sở cells equal them.
PROVINCES = {"66": ("66643001", 40, 19), "68": ("68601001", 25, 12), "01": ("01001001", 35, 18)}


@pytest.fixture(scope="module")
def s3():
    """A local S3 server with the bucket, and the AWS_* environment pointing at it."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
                            "AWS_ENDPOINT_URL": endpoint}.items():  # fmt: skip
            mp.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket="edustat-exchange"
        )
        yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """Each province's warehouse: its school's and Sở's cells of the period, two learners, and the
    ministry's reference unit (the same row in every province)."""
    folder = tmp_path_factory.mktemp("provinces")
    paths = {}
    for province, (school, total, girls) in PROVINCES.items():
        path = paths[province] = folder / f"{province}.duckdb"
        with warehouse.connect(path) as con:
            warehouse.insert_rows(con, "cells", [
                (YEAR, *FORM, level, code, row, "T", value, "2024")
                for level, code in (("school", school), ("so", province))
                for row, value in ((1, total), (2, girls))])  # fmt: skip
            warehouse.insert_rows(
                con, "hierarchy_units", [("2024", "bo", "BO", "Bộ GDĐT", None, None, None, None)]
            )
            con.execute("CREATE TABLE learner (school_code VARCHAR, learner_key VARCHAR)")
            warehouse.insert_rows(con, "learner", [(school, f"{province}-a"), (school, f"{province}-b")])
    return paths


def _publish(warehouses, province: str) -> None:
    national.publish_province(warehouses[province], BUCKET, YEAR, PERIOD, province, run_id=f"run-{province}")


def _ministry(target) -> dict[int, int]:
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute(
            "SELECT row_code, value FROM cells WHERE level = 'bo' AND unit_code = 'BO'"
        ).fetchall()
    return dict(rows)


def test_a_late_province_leaves_the_rollup_incomplete_until_it_arrives(s3, warehouses, tmp_path):
    for province in ("66", "68"):
        _publish(warehouses, province)
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(BUCKET, ["01", "66", "68"], target, YEAR, PERIOD)

    # 01 has no manifest yet: the other two are rolled up, the roll-up is marked incomplete.
    assert facts["complete"] is False and facts["missing"] == {"01": "missing"}
    assert (facts["expected"], facts["rolled_up"]) == (3, 2)
    assert _ministry(target) == {1: 40 + 25, 2: 19 + 12}
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT expected, rolled_up, missing, complete FROM national_rollup").fetchall() == [
            (3, 2, 1, False)]  # fmt: skip
        books = con.execute(
            "SELECT province, status, reason_en, learners FROM national_provinces ORDER BY 1"
        ).fetchall()
        note = con.execute("SELECT note_vi, note_en FROM national_rollup").fetchone()
    assert [(p, s, n) for p, s, _, n in books] == [
        ("01", "missing", 0),
        ("66", "rolled_up", 2),
        ("68", "rolled_up", 2),
    ]
    assert "late" in books[0][2]
    # Learners are read from the provinces' kept Parquet files through a view, not copied in.
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'learner'").fetchone() == (
            "VIEW",)  # fmt: skip
        assert con.execute("SELECT count(*) FROM learner").fetchone() == (4,)
    assert sorted(p.name for p in national.kept_folder(target).iterdir()) == ["66", "68"]
    assert note[0].startswith("CHƯA ĐỦ: 2/3") and note[1].startswith("INCOMPLETE: 2/3") and "01" in note[1]

    # 01 arrives: the same roll-up again takes it in and clears the mark.
    _publish(warehouses, "01")
    facts = national.national_rollup(BUCKET, ["01", "66", "68"], target, YEAR, PERIOD)

    assert facts["complete"] is True and facts["missing"] == {}
    assert _ministry(target) == {1: 40 + 25 + 35, 2: 19 + 12 + 18}
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT expected, rolled_up, missing, complete FROM national_rollup").fetchall() == [
            (3, 3, 0, True)]  # fmt: skip
        # Every province's learners, and the reference unit every province holds, once.
        assert con.execute("SELECT count(*) FROM learner").fetchone() == (6,)
        assert con.execute("SELECT count(*) FROM hierarchy_units WHERE level = 'bo'").fetchone() == (1,)


def test_a_failed_run_is_left_out_even_with_an_older_manifest_in_the_bucket(s3, warehouses, tmp_path):
    for province in PROVINCES:
        _publish(warehouses, province)
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(BUCKET, sorted(PROVINCES), target, YEAR, PERIOD,
                                     failed={"68": "no school was loaded"})  # fmt: skip

    assert facts["missing"] == {"68": "failed: no school was loaded"}
    assert _ministry(target) == {1: 40 + 35, 2: 19 + 18}
    with duckdb.connect(str(target), read_only=True) as con:
        reason = con.execute(
            "SELECT reason_vi, reason_en FROM national_provinces WHERE province = '68'"
        ).fetchone()
    assert reason == ("lượt chạy của tỉnh không thành công: no school was loaded",
                      "the province's run failed: no school was loaded")  # fmt: skip


def test_a_file_damaged_in_the_bucket_keeps_its_whole_province_out(s3, warehouses, tmp_path):
    for province in PROVINCES:
        _publish(warehouses, province)
    store = objects.open_bucket(BUCKET)
    key = f"{national.province_prefix(YEAR, PERIOD, '66')}/learner.parquet"
    objects.put_bytes(store, key, objects.get_bytes(store, key)[:-8] + b"damaged!")
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(BUCKET, sorted(PROVINCES), target, YEAR, PERIOD)

    assert facts["missing"] == {"66": "damaged: learner.parquet: sha256"}
    # Nothing of 66 is loaded, though its cells' file was sound.
    assert _ministry(target) == {1: 25 + 35, 2: 12 + 18}
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cells WHERE unit_code IN ('66', '66643001')").fetchone() == (
            0,
        )
        assert con.execute("SELECT count(*) FROM learner").fetchone() == (4,)
    assert sorted(p.name for p in national.kept_folder(target).iterdir()) == ["01", "68"]  # 66's files gone


def test_a_missing_object_reads_as_none_in_a_folder_bucket(tmp_path):
    store = objects.open_bucket(tmp_path / "bucket")
    assert objects.get_bytes(store, "2024-2025/DN/66/manifest.json") is None
    objects.put_json(store, "a/manifest.json", {"tỉnh": "66"})
    assert objects.get_json(store, "a/manifest.json") == {"tỉnh": "66"}
    assert objects.list_keys(store, "a") == ["a/manifest.json"]
    assert objects.bucket_url("s3://b/p/") == "s3://b/p"


def test_a_manifest_of_an_unknown_format_is_refused_and_its_province_reported(s3, warehouses, tmp_path):
    """A province published by a later edustat (manifest format 2): its files are not read as if they
    were format 1; the province is reported, in both languages, and the others are rolled up."""
    for province in PROVINCES:
        _publish(warehouses, province)
    store = objects.open_bucket(BUCKET)
    key = f"{national.province_prefix(YEAR, PERIOD, '68')}/{national.MANIFEST}"
    objects.put_json(store, key, {**objects.get_json(store, key), "format": 2})
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(BUCKET, sorted(PROVINCES), target, YEAR, PERIOD)

    assert facts["complete"] is False and list(facts["missing"]) == ["68"]
    assert facts["missing"]["68"].startswith("refused: ")
    assert _ministry(target) == {1: 40 + 35, 2: 19 + 18}  # 66 and 01 only
    with duckdb.connect(str(target), read_only=True) as con:
        status, vi, en = con.execute(
            "SELECT status, reason_vi, reason_en FROM national_provinces WHERE province = '68'"
        ).fetchone()
        left = con.execute("SELECT count(*) FROM cells WHERE unit_code IN ('68', '68601001')").fetchone()
    assert left == (0,)
    assert status == "refused"
    assert "định dạng" in vi and "không đọc được" in vi and "2" in vi
    assert "format" in en and "does not read" in en and "2" in en


def test_the_ministry_indicators_are_worked_out_from_the_national_cells(s3, tmp_path):
    """Two tiny provinces' Sở cells of 02-TH-DN: 66 has 350 pupils (row 37) in 10 classes (row 27),
    68 has 245 pupils in 8 classes. The ministry's pupils per class (2106.2) is 595 / 18 = 33.06, not
    the mean of the Sở's 35.0 and 30.63 (32.81); its pupils (2105) 595."""
    bucket = "s3://edustat-exchange/ministry"
    for province, pupils, classes in (("66", 350, 10), ("68", 245, 8)):
        path = tmp_path / f"{province}.duckdb"
        with warehouse.connect(path) as con:
            warehouse.insert_rows(con, "cells", [
                (YEAR, *FORM, level, code, row, col, value, "2024")
                for level, code in (("school", f"{province}000001"), ("so", province))
                for row, col, value in ((37, "T.all", pupils), (27, "T", classes))])  # fmt: skip
        national.publish_province(path, bucket, YEAR, PERIOD, province)
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(bucket, ["66", "68"], target, YEAR, PERIOD)

    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute("""SELECT indicator_id, boundaries, numerator, denominator, value FROM indicators
                              WHERE level = 'bo' AND unit_code = 'BO' AND indicator_id IN ('2105', '2106.2')
                              ORDER BY ALL""").fetchall()  # fmt: skip
        per_sos = con.execute(
            "SELECT count(*) FROM indicators WHERE level = 'bo' AND unit_code <> 'BO'"
        ).fetchone()
    # On each boundary version alike: the ministry is one unit on both.
    assert rows == [("2105", "2024", 595, None, 595.0), ("2105", "2025", 595, None, 595.0),
                    ("2106.2", "2024", 595, 18, 33.06), ("2106.2", "2025", 595, 18, 33.06)]  # fmt: skip
    assert per_sos == (0,) and facts["indicators_bo"] > 0


def _problems_view(con: duckdb.DuckDBPyConnection) -> None:
    """The contract view validation_problems alone (schemas/views.yaml), as the roll-up's finish."""
    from pipelines.analyst import views
    from pipelines.catalog import views as declared

    views.load_catalogue(con)
    view = next(v for v in declared.views() if v.name == "validation_problems")
    con.execute(f"CREATE VIEW validation_problems AS {views.view_sql(view)}")


def test_the_national_validation_problems_hold_every_rolled_up_provinces_runs(s3, tmp_path):
    """66 ran twice this period (2 problems, then 1) and once in another period; 68 ran once (1
    problem); 01's run failed. The national view: 66's two runs and 68's run, 4 rows, none of 01 nor
    of the other period."""
    bucket = "s3://edustat-exchange/problems"
    runs = {"66": [("r66-1", "DN", 2), ("r66-2", "DN", 1), ("r66-cn", "CN", 5)], "68": [("r68-1", "DN", 1)],
            "01": [("r01-1", "DN", 3)]}  # fmt: skip
    for province, its_runs in runs.items():
        path = tmp_path / f"{province}.duckdb"
        school = f"{province}000001"
        with warehouse.connect(path) as con:
            warehouse.insert_rows(con, "cells", [(YEAR, *FORM, "so", province, 1, "T", 1, "2024")])
            warehouse.insert_rows(con, "validation_results", [
                (run, YEAR, period, "learner.birth_date", "error", "learner", school, f"{school}.json", n, n,
                 "NgaySinh", "2030-01-01", "ngày sinh sai", "wrong birth date", None)
                for run, period, problems in its_runs for n in range(problems)])  # fmt: skip
        national.publish_province(path, bucket, YEAR, PERIOD, province)
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(bucket, ["01", "66", "68"], target, YEAR, PERIOD,
                                     failed={"01": "no school was loaded"}, finish=_problems_view)  # fmt: skip

    assert facts["missing"] == {"01": "failed: no school was loaded"}
    with duckdb.connect(str(target), read_only=True) as con:
        found = con.execute("SELECT run_id, school_code, count(*), count(value) FROM validation_problems "
                            "GROUP BY ALL ORDER BY ALL").fetchall()  # fmt: skip
    # Per run its problems; the birth date a personal-data field, its value hidden.
    assert found == [("r66-1", "66000001", 2, 0), ("r66-2", "66000001", 1, 0), ("r68-1", "68000001", 1, 0)]
