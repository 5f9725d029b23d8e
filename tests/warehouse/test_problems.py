"""One reader of a run's problems: registry rows, rejected files, failing records, broken relations."""

from __future__ import annotations

from pipelines import warehouse
from pipelines.warehouse import problems


def test_a_runs_problems_come_back_in_order_with_where_to_find_them(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.create_staging_tables(con)
        con.execute("INSERT INTO registry_problems VALUES (7, 'S9', 'skipped', 'Trường thử nghiệm, bỏ qua', "
                    "'Test school, skipped')")  # fmt: skip
        con.execute("INSERT INTO files (run_id, file, file_hash, school_code, status, reason, message_vi, message_en) "
                    "VALUES ('r1', 'S2_2024_1.json', 'h', 'S2', 'rejected', 'file.unreadable', 'hỏng', 'broken')")  # fmt: skip
        con.execute("INSERT INTO stg_learner (row_id, school_code, file, file_hash, record_index, MaLopHocDn, KhoiHoc) "
                    "VALUES (41, 'S1', 'S1_2024_1.json', 'h1', 11, '3A', '3')")  # fmt: skip
        con.execute("INSERT INTO validation_results VALUES ('r1', '2024-2025', 'DN', 'learner.MaDanToc.codelist', "
                    "'error', 'learner', 'S1', 'S1_2024_1.json', 11, 41, 'MaDanToc', '99', 'sai mã', 'bad code', "
                    "now())")  # fmt: skip
        found = problems.read_problems(con, "r1")
    kinds = [p.kind for p in found]
    assert kinds == ["registry", "file", "record"]
    registry, file, record = found
    assert (registry.school_code, registry.file, registry.record) == ("S9", "registry.xlsx", "dòng/row 7")
    assert (file.rule_id, file.severity, file.school_code) == ("file.unreadable", "error", "S2")
    # The twelfth pupil of LstHocSinh (index 11), in class 3A, grade 3: what a clerk looks for.
    assert (record.list_name, record.position, record.record) == ("LstHocSinh", 12, "LstHocSinh[11]")
    assert (record.class_code, record.grade, record.field, record.value) == ("3A", "3", "MaDanToc", "99")


def test_another_runs_problems_are_not_read(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.create_staging_tables(con)
        con.execute("INSERT INTO files (run_id, file, school_code, status, reason, message_vi, message_en) "
                    "VALUES ('r0', 'a.json', 'S2', 'rejected', 'file.shape', 'x', 'x')")  # fmt: skip
        assert [p.kind for p in problems.read_problems(con, "r1")] == []


def test_a_failing_result_is_found_by_its_pupils_first_place_class_and_grade(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.create_staging_tables(con)
        # Pupil "c7" of S1 is listed twice (3rd and 5th); a pupil of S2 has the same hashed ClientId.
        con.execute("INSERT INTO stg_learner (row_id, school_code, record_index, ClientId, MaLopHocDn, KhoiHoc) "
                    "VALUES (1, 'S1', 4, 'c7', '5A', '5'), (2, 'S1', 2, 'c7', '4B', '4'), "
                    "(3, 'S2', 0, 'c7', '1A', '1'), (4, 'S1', 0, 'c8', '2A', '2')")  # fmt: skip
        con.execute("INSERT INTO stg_result (row_id, school_code, file, record_index, ClientId) "
                    "VALUES (90, 'S1', 'S1_2025_1.json', 0, 'c7'), (91, 'S1', 'S1_2025_1.json', 1, 'c9')")  # fmt: skip
        for row_id, index in ((90, 0), (91, 1)):
            con.execute("INSERT INTO validation_results VALUES ('r1', '2024-2025', 'CN', 'result.LenLop.codelist', "
                        "'error', 'result', 'S1', 'S1_2025_1.json', ?, ?, 'LenLop', '9', 'sai mã', 'bad code', "
                        "now())", [index, row_id])  # fmt: skip
        found = {p.row_id: p for p in problems.read_problems(con, "r1")}
    # The pupil's first place in S1's list (index 2: the 3rd pupil), in class 4B, grade 4.
    assert (found[90].class_code, found[90].grade, found[90].other_ids) == ("4B", "4", "LstHocSinh #3")
    # No pupil of S1 has ClientId c9: the result is listed without a class or grade.
    assert (found[91].class_code, found[91].grade, found[91].other_ids) == (None, None, None)
    assert (found[91].record, found[91].position) == ("LstKetQuaHocTap[1]", 2)
