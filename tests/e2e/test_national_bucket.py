"""`edustat national` through an S3 bucket (moto's local server), with Prefect in this process: a
three-province generated country where one province's run fails (its inbox is empty), the roll-up of
the other two made and marked incomplete; then the province's files arrive, its run publishes to
the bucket and the roll-up alone (rollup_only) takes it in and clears the mark."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines import settings
from pipelines.synthetic import province as generate

pytestmark = pytest.mark.slow

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

YEAR = "2024-2025"


def _so_sums(paths) -> dict[tuple, int]:
    """Sum over the provinces' own warehouses of their Sở cells, per cell of the period."""
    out: dict[tuple, int] = {}
    for path in paths:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute("SELECT form, row_code, col_key, value FROM cells WHERE level = 'so' AND "
                               "school_year = ? AND period = 'DN'", [YEAR]).fetchall()  # fmt: skip
        for form, row, col, value in rows:
            out[(form, row, col)] = out.get((form, row, col), 0) + value
    return out


def _ministry(target) -> dict[tuple, int]:
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute("SELECT form, row_code, col_key, value FROM cells WHERE level = 'bo'").fetchall()
    return {(f, r, c): v for f, r, c, v in rows}


def test_a_failed_province_then_arriving_through_the_bucket(tmp_path, monkeypatch):
    from pipelines import flows

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
                            "AWS_ENDPOINT_URL": endpoint, settings.KEY_ENV: "national-test-key"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="edustat")
        bucket = "s3://edustat/exchange"
        inputs, root = tmp_path / "inputs", tmp_path / "national"
        for seed, province in enumerate(("01", "66", "68"), start=1):
            generate.generate_province(province, YEAR, "DN", 3, seed, inputs / province)
        shutil.move(inputs / "01" / "inbox", tmp_path / "late-inbox")  # 01's files have not come
        (inputs / "01" / "inbox").mkdir()

        state = flows.national_report(school_year=YEAR, period="DN", inputs=str(inputs), root=str(root),
                                      bucket=bucket, return_state=True)  # fmt: skip

        # Not failed: the two others are rolled up, and the state, facts and books say what is missing.
        assert state.is_completed() and state.name == "Incomplete"
        assert "INCOMPLETE: 2/3" in state.message and "CHƯA ĐỦ: 2/3" in state.message
        facts = state.result()
        assert sorted(facts["missing"]) == ["01"] and facts["missing"]["01"].startswith("failed: ")
        partitions = {p: root / "partitions" / f"{p}.duckdb" for p in ("01", "66", "68")}
        two = _so_sums([partitions["66"], partitions["68"]])
        assert two and _ministry(root / "national.duckdb") == two
        with duckdb.connect(str(root / "national.duckdb"), read_only=True) as con:
            assert con.execute("SELECT expected, rolled_up, missing, complete FROM national_rollup").fetchall() == [
                (3, 2, 1, False)]  # fmt: skip

        # 01's files arrive: its run publishes to the bucket; the roll-up alone takes it in.
        shutil.rmtree(inputs / "01" / "inbox")
        shutil.move(tmp_path / "late-inbox", inputs / "01" / "inbox")
        params = flows.province_parameters(YEAR, "DN", (inputs / "01").resolve(), root.resolve(), "01", 1)
        assert flows.national_province(params, bucket, return_state=True).is_completed()
        state = flows.national_report(school_year=YEAR, period="DN", inputs=str(inputs), root=str(root),
                                      bucket=bucket, rollup_only=True, return_state=True)  # fmt: skip

        assert state.is_completed() and state.name == "Completed"
        assert state.result()["missing"] == {}
        three = _so_sums(partitions.values())
        national = _ministry(root / "national.duckdb")
        assert national == three
        # A few cells by hand: the ministry's is the sum of the three Sở's, each read from its own warehouse.
        for key in sorted(three)[:5]:
            by_province = [_so_sums([partitions[p]]).get(key, 0) for p in ("01", "66", "68")]
            assert national[key] == sum(by_province)
        with duckdb.connect(str(root / "national.duckdb"), read_only=True) as con:
            assert con.execute("SELECT complete FROM national_rollup").fetchall() == [(True,)]
            # The analysts' views over the national data: the ministry's rows, the three Sở's schools.
            assert con.execute("SELECT count(*) FROM form_cells WHERE level = 'bo'").fetchone()[0] == len(
                national
            )
            assert con.execute("SELECT count(DISTINCT so_code) FROM schools").fetchone()[0] == 3
            # The ministry's indicators by the same definitions: each numerator and denominator is the
            # sum of the three Sở's (a province's own warehouse); the learners read from the kept files.
            ministry = {i: (n, d) for i, n, d in con.execute(
                "SELECT indicator_id, numerator, denominator FROM indicator_values WHERE level = 'bo' "
                "AND boundaries = '2024' AND numerator IS NOT NULL").fetchall()}  # fmt: skip
            learners = con.execute("SELECT count(*) FROM learners").fetchone()[0]
        sos: dict[str, list[tuple]] = {}
        for path in partitions.values():
            with duckdb.connect(str(path), read_only=True) as con:
                for i, n, d in con.execute("SELECT indicator_id, numerator, denominator FROM indicators WHERE "
                                           "level = 'so' AND boundaries = '2024'").fetchall():  # fmt: skip
                    sos.setdefault(i, []).append((n, d))
                learners -= con.execute("SELECT count(*) FROM learner").fetchone()[0]
        summed = {i: (sum(n for n, _ in sides), None if sides[0][1] is None else sum(d for _, d in sides))
                  for i, sides in sos.items() if i in ministry}  # fmt: skip
        assert ministry and summed == ministry
        assert learners == 0
    finally:
        server.stop()
