"""The command line: a thin skin over the pipeline's functions (`edustat`, `python -m pipelines`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from pipelines import settings as settings_mod

# Before any Prefect import (Prefect reads its settings then): no analytics leave the machine, the
# stages' logs reach the runs' logs.
PREFECT_DEFAULTS = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_EXTRA_LOGGERS": "pipelines"}
DEMO = {"province": "66", "school_year": "2024-2025", "period": "DN", "schools": 60, "seed": 20241,
        "defect_rate": 0.08}  # fmt: skip


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.synthetic import province as generate

    out = Path(args.out)
    if args.previous_year and args.period == "DN":
        if not args.from_dn:
            _say("Lỗi / error: --previous-year cần --from-dn / --previous-year needs --from-dn")
            return 2
        return _generate_previous_start(Path(args.from_dn), out, args.seed)
    if args.period == "CN" and args.from_dn:
        return _generate_end_of_year(Path(args.from_dn), out, args.seed, args.previous_year)
    if args.from_dn:
        _say("Lỗi / error: --from-dn chỉ dùng với --period CN / --from-dn goes with --period CN only")
        return 2
    missing = [
        f"--{n.replace('_', '-')}" for n in ("province", "school_year", "schools") if getattr(args, n) is None
    ]
    if missing:
        _say(f"Lỗi / error: thiếu / missing {', '.join(missing)}")
        return 2
    # The end of year derives from a start-of-year province: generate it first (into OUT/DN).
    dn_out = out / "DN" if args.period == "CN" else out
    summary = generate.generate_province(args.province, args.school_year, "DN", args.schools, args.seed,
                                         dn_out, args.defect_rate)  # fmt: skip
    print(f"Đã tạo / generated: {summary.n_schools} trường / schools, {summary.n_learners} học sinh / learners, "
          f"{summary.n_defects} lỗi cài sẵn / injected defects → {dn_out.resolve()}")  # fmt: skip
    if args.period == "CN":
        return _generate_end_of_year(dn_out, out, args.seed, args.previous_year)
    return 0


def _generate_previous_start(dn_dir: Path, out: Path, seed: int) -> int:
    from pipelines.synthetic.previous_start import generate_previous_start

    try:
        p = generate_previous_start(dn_dir, out, seed)
    except (FileNotFoundError, ValueError) as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    print(f"Đã tạo đầu năm học trước / generated the previous year's start: {p.n_schools} trường / schools, "
          f"{p.n_learners} học sinh ngày 30/9 / learners on 30/9 ({p.n_arrivals_dropped} chuyển đến sau 30/9 / "
          f"arrived after 30/9, {p.n_leavers_restored} rời trường sau 30/9 / left after 30/9) "
          f"→ {out.resolve()}")  # fmt: skip
    return 0


def _generate_end_of_year(dn_dir: Path, out: Path, seed: int, previous_year: bool = False) -> int:
    from pipelines.synthetic.end_of_year import generate_end_of_year
    from pipelines.synthetic.previous_year import generate_previous_year

    try:
        if previous_year:
            p = generate_previous_year(dn_dir, out, seed)
        else:
            s = generate_end_of_year(dn_dir, out, seed)
    except (FileNotFoundError, ValueError) as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    if previous_year:
        print(f"Đã tạo cuối năm học trước / generated the previous year's end: {p.n_schools} trường / schools, "
              f"{p.n_learners} học sinh / learners ({p.n_carried} học sinh năm nay / this year's pupils, "
              f"{p.n_repeaters} lưu ban / repeaters, {p.n_leavers} hoàn thành lớp cuối cấp / top-grade leavers, "
              f"{p.n_dropouts} bỏ học / dropouts, {p.n_transfers_in} chuyển đến / in, {p.n_transfers_out} chuyển "
              f"đi / out), {p.n_results} kết quả / results, {p.n_empty} tệp không có học sinh / files without "
              f"learners, {p.n_skipped} tệp lỗi / unreadable files "
              f"→ {out.resolve()}")  # fmt: skip
        return 0
    print(f"Đã tạo cuối năm / generated end of year: {s.n_schools} trường / schools, {s.n_learners} học sinh / "
          f"learners ({s.n_transfers_in} chuyển đến / in, {s.n_transfers_out} chuyển đi / out, {s.n_dropouts} "
          f"bỏ học / dropouts), {s.n_results} kết quả / results, {s.n_skipped} tệp bỏ qua / files skipped "
          f"→ {out.resolve()}")  # fmt: skip
    return 0


def _run(school_year: str, period: str, registry: Path, inbox: Path, warehouse: Path | None,
         out: Path | None, use_prefect: bool, processes: int, regime: str | None = None,
         population: Path | None = None, boundaries: str | None = None,
         approved_only: bool = False, full: bool = False, fail_above: float | None = None) -> int:  # fmt: skip
    """One period; exit code 0 when the run's outcome is Completed, 1 when Failed (run.outcome: the
    ledger does not balance, nothing loaded, no report, too many schools missing or rejected)."""
    from pipelines import ingest
    from pipelines.warehouse import WarehouseLocked

    try:
        # Settings check the warehouse and output folders are writable before anything runs.
        s = settings_mod.resolve(school_year, period, registry, inbox, warehouse, out, processes=processes,
                                 regime=regime, population=population, boundaries=boundaries,
                                 approved_only=approved_only, full=full, fail_above=fail_above)  # fmt: skip
        if s.population is not None:
            ingest.read_population(s.population)  # a bad file stops the run before it starts
    except ValueError as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    if not s.inbox.is_dir():
        _say(f"Lỗi / error: không có thư mục hộp thư / inbox folder not found: {s.inbox}")
        return 2
    try:
        if use_prefect:
            from pipelines import flows
            from pipelines.ops import server

            with server.api_for_run():  # a temporary server dies with this process (Prefect's own did not)
                state = flows.report_period(school_year=school_year, period=period, registry=str(s.registry),
                                            inbox=str(s.inbox), warehouse=str(s.warehouse), out=str(s.out),
                                            processes=processes, regime=s.regime, boundaries=s.boundaries,
                                            population=str(s.population) if s.population else None,
                                            approved_only=approved_only, full=full, fail_above=s.fail_above,
                                            return_state=True)  # fmt: skip
                text = state.result(raise_on_failure=False)
            if isinstance(text, BaseException):  # a step raised: the same handling as without Prefect
                raise text
            failed, said = state.is_failed(), (state.message or "") if state.is_failed() else state.name
        else:
            from pipelines import run

            summary = run.run_period(s)
            result = run.outcome(summary)
            text, failed = summary.fact("summary_text"), result.failed
            said = result.message if failed else result.name
    except ingest.RegistryError as exc:
        _say(f"Không lập được báo cáo / no report produced: {exc}")
        return 1
    except WarehouseLocked as exc:  # another run is writing the warehouse
        _say(f"Lỗi / error: {exc}")
        return 1
    print(text)
    if failed:
        _say(f"Lượt chạy không đạt / the run failed: {said}")
        return 1
    _say(f"Hoàn thành / {said}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args.school_year, args.period, Path(args.registry), Path(args.inbox),
                Path(args.warehouse) if args.warehouse else None, Path(args.out) if args.out else None,
                args.prefect, args.processes, args.regime, Path(args.population) if args.population else None,
                args.boundaries, args.approved_only, args.full, args.fail_above)  # fmt: skip


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(settings_mod.paths().demo, args.prefect, args.processes)


def clear_demo(folder: Path) -> None:
    """Empty the demo folder for a fresh demo, keeping any `releases/` in it (a release is never
    deleted by edustat; the default releases folder is settings.paths().releases anyway)."""
    import shutil

    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name == settings_mod.paths().releases.name:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def run_demo(folder: Path, use_prefect: bool = False, processes: int = 1) -> int:
    """The demo province, two school years into one warehouse (folder/warehouse.duckdb): last
    year's start of year first (folder/2023-2024/, outputs in folder/output-2023-2024/), then this
    year's (folder/, outputs in folder/output/), so year-over-year indicators and cross-period rules
    have data. Deterministic: the same folder contents every time (bar run ids and time stamps)."""
    import datetime as dt

    from pipelines.synthetic import province as generate
    from pipelines.synthetic.arrivals import spread_arrivals
    from pipelines.synthetic.previous_start import generate_previous_start

    # The demo folder is disposable, bar releases: start from nothing so reruns give the same outputs.
    try:
        settings_mod.check_writable(folder, "thư mục mẫu", "the demo folder")
    except settings_mod.NotWritable as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    clear_demo(folder)
    _say(f"demo: tạo tỉnh mẫu / generating a demo province in {folder}")
    generate.generate_province(DEMO["province"], DEMO["school_year"], DEMO["period"], DEMO["schools"],
                               DEMO["seed"], folder, DEMO["defect_rate"])  # fmt: skip
    # Last year's start of year, not its end (generate_previous_year): the same forms on the same
    # reference date (30/9), so this year's indicators compare like for like; see
    # generate_previous_start for why it is built from cohorts and not regenerated.
    previous_year = _previous_school_year(DEMO["school_year"])
    previous = folder / previous_year
    _say(f"demo: năm học trước / the previous school year {previous_year} in {previous}")
    generate_previous_start(folder, previous, DEMO["seed"])
    # Files arrive through the first days of October (school deadline 10/10, a few late ones).
    for inputs, school_year in ((previous, previous_year), (folder, DEMO["school_year"])):
        start = int(school_year[:4])
        spread_arrivals(inputs / "inbox", dt.date(start, 10, 1), dt.date(start, 10, 14), DEMO["seed"])
    warehouse = folder / "warehouse.duckdb"
    code = _run(previous_year, DEMO["period"], previous / "registry.xlsx", previous / "inbox", warehouse,
                folder / f"output-{previous_year}", use_prefect, processes,
                population=previous / "population.csv")  # fmt: skip
    if code:
        return code
    return _run(DEMO["school_year"], DEMO["period"], folder / "registry.xlsx", folder / "inbox", warehouse,
                folder / "output", use_prefect, processes, population=folder / "population.csv")  # fmt: skip


def _previous_school_year(school_year: str) -> str:
    start = int(school_year[:4])
    return f"{start - 1}-{start}"


def cmd_rules(args: argparse.Namespace) -> int:
    from pipelines import catalog
    from pipelines.catalog import json_schemas
    from pipelines.outputs import docs

    folder = Path(args.out) if args.out else docs.DOCS_DIR
    written = [
        *docs.write_catalogue(folder),
        docs.write_dictionary(folder),
        catalog.write_indicators_doc(folder),
    ]
    for path in [*written, *json_schemas.write_json_schemas(folder / "schemas")]:
        print(path)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    """Read-only SQL, sandboxed (no file read or written but the database and --out), on the
    warehouse (default: settings.paths()) or a release; a table, or a file with --out."""
    from pipelines.analyst import query

    try:
        if args.out:  # before the query runs
            query.check_out(Path(args.out))
        path = query.database_path(args.warehouse, args.release, settings_mod.paths().warehouse)
        with query.connect_read_only(path, args.wait) as con:
            result = query.batches(con, args.sql)
            if result is None:
                print("OK")
                return 0
            columns, stream = result
            if args.out:
                n = query.write(columns, stream, Path(args.out))
                print(f"Đã ghi / wrote {n} dòng / rows → {Path(args.out).resolve()}")
            else:
                print(query.format_table(query.collect(columns, stream, args.limit)))
    except query.QueryError as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    except query.DatabaseBusy as exc:
        _say(f"Lỗi / error: {exc}")
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The province's reporting windows served here until SIGTERM or Ctrl-C, on one Prefect server
    (flows.serve_province: the configured one, else the one answering at --host:--port, else one
    started here and owned). With --pool, also report_period on that process work pool and the
    national run (workers: `prefect worker start --pool POOL`); with --notify, the deadline
    automation (ops/notify.py)."""
    from pipelines.ops import notify, server

    paths = settings_mod.paths()
    registry = Path(args.registry) if args.registry else paths.demo / "registry.xlsx"
    inbox = Path(args.inbox) if args.inbox else paths.demo / "inbox"
    if args.registry is None and args.warehouse is None:  # the demo province: its own warehouse
        args.warehouse = str(paths.demo / "warehouse.duckdb")
    out_root = Path(args.out).resolve() if args.out else None

    def on_pool(deployments: list) -> None:  # inside the chosen server's settings
        from pipelines import flows

        flows.deploy_province(args.pool)
        deployments.append(flows.national_deployment())

    try:
        settings_mod.check_writable(out_root or paths.outputs, "thư mục đầu ra", "the output folder")
        settings_mod.check_writable(Path(args.warehouse or paths.warehouse).resolve().parent, "thư mục kho dữ liệu",
                                    "the warehouse folder")  # fmt: skip
        from pipelines import flows

        flows.serve_province(args.province, registry.resolve(), inbox.resolve(),
                             Path(args.warehouse).resolve() if args.warehouse else None, out_root, args.processes,
                             args.host, args.port, args.notify, on_pool if args.pool else None, _say)  # fmt: skip
    except (settings_mod.NotWritable, notify.NotificationError) as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    except server.ServerUnavailable as exc:
        _say(f"Lỗi / error: {exc}")
        return 1
    return 0


def cmd_national(args: argparse.Namespace) -> int:
    """Every province under --inputs into its own warehouse and, at its end, its tables to the bucket;
    then the national rollup from the bucket (the package's flows: an installed edustat needs no
    checkout). --rollup-only: the rollup alone, on what the bucket holds (a late province taken in).
    Exit 0 when every province is in, 3 when the rollup is incomplete (which and why printed)."""
    from pipelines import flows

    try:
        facts = flows.national_report(school_year=args.school_year, period=args.period, inputs=args.inputs,
                                      root=args.root, provinces=args.provinces or None,
                                      deployment=args.deployment, processes=args.processes,
                                      bucket=args.bucket, rollup_only=args.rollup_only)  # fmt: skip
    except ValueError as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    for name, value in facts.items():
        if name != "missing":
            print(f"{name}: {value}")
    for province, why in sorted(facts["missing"].items()):
        print(f"missing_{province}: {why}")
    print(f"→ {Path(args.root).resolve() / 'national.duckdb'}")
    return 0 if facts["complete"] else 3


def _add_prefect_commands(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("serve", help="Prefect server + the reporting windows' deployments (UI :4200)")
    v.add_argument("--province", default=DEMO["province"], help="province code, in the deployment names")
    v.add_argument("--registry", help="registry.xlsx (default: the demo province's, data/demo)")
    v.add_argument("--inbox", help="folder of school JSON files (default data/demo/inbox)")
    v.add_argument(
        "--warehouse", help="DuckDB file (default: the demo's without --registry, else data/warehouse.duckdb)"
    )
    v.add_argument(
        "--out",
        help="the windows' output folder: each writes OUT/<school-year>/<period> (default data/output)",
    )
    v.add_argument("--processes", type=int, default=2)
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=4200)
    v.add_argument(
        "--pool", help="process work pool: deploy national_province/province to it, serve the national run"
    )
    v.add_argument("--notify", metavar="BLOCK", help="notification block TYPE/NAME (e.g. custom-webhook/so-66): "
                   "told when a deadline passes with schools missing")  # fmt: skip
    v.set_defaults(func=cmd_serve)

    n = sub.add_parser("national", help="every province to the bucket, then the national rollup")
    n.add_argument("--school-year", required=True)
    n.add_argument("--period", default="DN", choices=["DN", "CN"])
    n.add_argument(
        "--inputs", required=True, help="folder of provinces: INPUTS/<province>/registry.xlsx, inbox/"
    )
    n.add_argument(
        "--root", required=True, help="ROOT/partitions/<province>.duckdb, ROOT/national.duckdb, ROOT/output/"
    )
    n.add_argument("--provinces", nargs="*", help="run only these now (default all; the rollup expects all)")
    n.add_argument("--deployment", help="run provinces on a work pool, e.g. national_province/province")
    n.add_argument("--processes", type=int, default=1)
    n.add_argument("--bucket", help="where provinces hand their tables to the rollup: s3://BUCKET/PREFIX (AWS_* "
                   "environment: credentials, AWS_ENDPOINT_URL) or a folder / file:// URL (default ROOT/bucket)")  # fmt: skip
    n.add_argument("--rollup-only", action="store_true",
                   help="run no province: roll up what the bucket holds (a late province taken in)")  # fmt: skip
    n.set_defaults(func=cmd_national)


def cmd_paths(args: argparse.Namespace) -> int:
    """The default paths, as every command resolves them (settings.paths())."""
    p = settings_mod.paths()
    why = {settings_mod.DATA_ENV: f"từ / from {settings_mod.DATA_ENV}", "checkout": "data/ của bản mã nguồn / the checkout's data/",
           "working directory": "data/ của thư mục hiện hành / data/ of the working directory"}[p.why]  # fmt: skip
    rows = [("data", p.data, why), ("warehouse", p.warehouse, "--warehouse"), ("releases", p.releases, "--releases"),
            ("outputs", p.outputs, "--out: <outputs>/<school-year>/<period>"), ("demo", p.demo, "edustat demo"),
            ("schemas", settings_mod.schemas_dir(), "catalogue")]  # fmt: skip
    for name, path, note in rows:
        print(f"{name:<10} {path}  ({note})")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    """Publish one period of the warehouse as an immutable release."""
    from pipelines import warehouse
    from pipelines.analyst import releases as release

    try:
        path = release.create_release(args.school_year, args.period, args.warehouse, args.name, args.releases)
    except (release.ReleaseError, warehouse.WarehouseLocked) as exc:  # exists, no cells, a run is writing
        _say(f"Lỗi / error: {exc}")
        return 1
    except ValueError as exc:  # a bad school year or name
        _say(f"Lỗi / error: {exc}")
        return 2
    manifest = release.read_manifest(path)
    counts = ", ".join(f"{t} {n}" for t, n in manifest["row_counts"].items())
    print(f"Đã phát hành / released {manifest['school_year']} {manifest['period']}: {counts} → {path}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """The changed cells by unit and the schools whose submissions changed between two releases."""
    from pipelines.analyst import diff, releases

    try:
        a = releases.resolve(args.release_a, args.releases)
        b = releases.resolve(args.release_b, args.releases)
    except releases.ReleaseError as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    d = diff.diff(a, b)
    print(diff.format_diff(d, args.limit))
    if args.out:
        for path in diff.write_diff_csv(d, Path(args.out)):
            print(f"→ {path.resolve()}")
    return 0


def _add_release_commands(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("release", help="freeze a period: an immutable release (DuckDB, Parquet, manifest)")
    e.add_argument("--school-year", required=True)
    e.add_argument("--period", default="DN", choices=["DN", "CN"])
    e.add_argument("--warehouse", help="DuckDB file (default data/warehouse.duckdb: `edustat paths`)")
    e.add_argument("--name", help="release name (default <school-year>_<period>_<YYYYmmddTHHMMSS>)")
    e.add_argument("--releases", help="releases folder (default data/releases: `edustat paths`)")
    e.set_defaults(func=cmd_release)

    f = sub.add_parser("diff", help="changed cells and submissions between two releases")
    f.add_argument("release_a", metavar="RELEASE_A", help="release folder, or a name in the releases folder")
    f.add_argument("release_b", metavar="RELEASE_B")
    f.add_argument("--releases", help="releases folder for names (default data/releases: `edustat paths`)")
    f.add_argument("--out", help="CSV of the changed cells (and OUT_schools.csv beside it)")
    f.add_argument("--limit", type=int, default=100, help="cells printed (0: all)")
    f.set_defaults(func=cmd_diff)


def cmd_workflow(args: argparse.Namespace) -> int:
    """approve | reject | lock | unlock one unit's report for a period, as --user (audit trail)."""
    from pipelines import warehouse, window

    try:
        message = window.act(Path(args.warehouse) if args.warehouse else settings_mod.paths().warehouse,
                               args.command, args.school_year, args.period, args.unit, args.user,
                               args.reason)  # fmt: skip
    except (window.TransitionError, ValueError) as exc:
        _say(f"Lỗi / error: {exc}")
        return 2
    except warehouse.WarehouseLocked as exc:  # a run is writing the warehouse
        _say(f"Lỗi / error: {exc}")
        return 1
    print(message)
    return 0


def _add_workflow_commands(sub: argparse._SubParsersAction) -> None:
    helps = {"approve": "duyệt / approve a validated report", "reject": "trả lại / reject a report (--reason)",
             "lock": "khóa / lock an approved report", "unlock": "mở khóa / unlock a locked report (--reason)"}  # fmt: skip
    for action, text in helps.items():
        w = sub.add_parser(action, help=text)
        w.add_argument("--school-year", required=True)
        w.add_argument("--period", default="DN", choices=["DN", "CN"])
        w.add_argument(
            "--unit", required=True, help="LEVEL:CODE, LEVEL school, phong or so (e.g. school:66643001)"
        )
        w.add_argument("--user", help="acting user, recorded in the audit table (default: the login name)")
        w.add_argument(
            "--reason", required=action in ("reject", "unlock"), help="why (required to reject, unlock)"
        )
        w.add_argument("--warehouse", help="DuckDB file (default data/warehouse.duckdb: `edustat paths`)")
        w.set_defaults(func=cmd_workflow)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edustat", description="Thống kê giáo dục (TT 24/2018) / education statistics"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="tạo tỉnh mẫu / generate a synthetic province")
    # --province, --school-year and --schools are needed unless the end of year (--period CN)
    # derives from an existing start-of-year province (--from-dn).
    g.add_argument("--province", help="mã tỉnh 2 chữ số / 2-digit province code, e.g. 66")
    g.add_argument("--school-year", help="e.g. 2024-2025")
    g.add_argument("--period", default="DN", choices=["DN", "CN"],
                   help="CN: the end of year of a DN province (--from-dn DIR, or generated into OUT/DN)")  # fmt: skip
    g.add_argument(
        "--from-dn", help="CN: folder of a generated start-of-year province (registry.xlsx, inbox/)"
    )
    g.add_argument("--previous-year", action="store_true",
                   help="with --from-dn: the school year before the DN province's, cohort-consistent with it "
                        "(--period CN: its end; DN: its start)")  # fmt: skip
    g.add_argument("--schools", type=int)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--defect-rate", type=float, default=0.0, help="share of schools given one defect")
    g.add_argument("--out", required=True)
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser("run", help="ingest, validate, aggregate, export one period")
    r.add_argument("--school-year", required=True)
    r.add_argument("--period", default="DN", choices=["DN", "CN"], help="DN start of year, CN end of year")
    r.add_argument("--registry", required=True, help="registry.xlsx (school-import template)")
    r.add_argument("--inbox", required=True, help="folder of school JSON files")
    r.add_argument("--warehouse", help="DuckDB file (default data/warehouse.duckdb: `edustat paths`)")
    r.add_argument("--out", help="output folder (default data/output/<school-year>/<period>)")
    r.add_argument("--prefect", action="store_true", help="run through the Prefect flow report_period")
    r.add_argument("--processes", type=int, default=2, help="processes for the workbook export")
    r.add_argument("--regime", choices=sorted(settings_mod.REGIMES),
                   help="reporting regime (default: the one in force on the period's as-of date)")  # fmt: skip
    r.add_argument("--boundaries", choices=sorted(settings_mod.BOUNDARIES),
                   help="boundary version to aggregate on: 2024 (Phòng, 63 provinces) or 2025 (34 provinces, no "
                        "Phòng); default: the one in force on the as-of date")  # fmt: skip
    r.add_argument("--population", help="population.csv by Phòng/Sở, single age and sex: enrolment rates "
                   "(docs/input-contract.md, Population)")  # fmt: skip
    r.add_argument("--approved-only", action="store_true",
                   help="Phòng and Sở reports from approved (or locked) schools only; school cells for all")  # fmt: skip
    r.add_argument("--fail-above", type=float, metavar="SHARE",
                   help=f"share of expected schools missing or rejected above which the run fails (default "
                        f"{settings_mod.DEFAULT_FAIL_ABOVE}, or {settings_mod.FAIL_ABOVE_ENV})")  # fmt: skip
    r.add_argument("--full", action="store_true",
                   help="re-read every file, check every school and rewrite every workbook (by default a re-run "
                   "redoes only what changed since the last run of the period)")  # fmt: skip
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="generate a demo province into data/demo and run two school years of it")
    d.add_argument("--prefect", action="store_true")
    d.add_argument("--processes", type=int, default=2)
    d.set_defaults(func=cmd_demo)

    u = sub.add_parser(
        "rules",
        help="write rules.md, rules.html, fields.md, dictionary.md, indicators.md and the JSON Schemas (schemas/)",
    )
    u.add_argument("--out", help="folder (default docs/)")
    u.set_defaults(func=cmd_rules)
    q = sub.add_parser(
        "query", help="read-only SQL on the warehouse or a release (views: docs/dictionary.md)"
    )
    q.add_argument("sql", metavar="SQL", help='e.g. "SELECT * FROM form_cells LIMIT 5"')
    where = q.add_mutually_exclusive_group()
    where.add_argument("--warehouse", help="DuckDB file (default data/warehouse.duckdb: `edustat paths`)")
    where.add_argument("--release", help="release folder, its release.duckdb, or a name in data/releases")
    q.add_argument("--out", help="write every row to FILE.csv (UTF-8 with BOM), FILE.parquet or FILE.xlsx")
    q.add_argument("--limit", type=int, default=50, help="rows printed (0: all); the total is always given")
    q.add_argument("--wait", type=float, default=10.0,
                   help="seconds to wait while a run's step has the warehouse file open")  # fmt: skip
    q.set_defaults(func=cmd_query)
    p = sub.add_parser(
        "paths", help="the default paths every command uses (warehouse, releases, outputs, demo)"
    )
    p.set_defaults(func=cmd_paths)
    _add_release_commands(sub)
    _add_workflow_commands(sub)
    _add_prefect_commands(sub)
    return parser


def configure_logging() -> None:
    """The stages' messages (stdlib logging under `pipelines`) as plain lines on stderr; other
    libraries' loggers stay at their warnings."""
    log = logging.getLogger("pipelines")
    if not any(getattr(h, "edustat", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.edustat = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    args = build_parser().parse_args(argv)
    configure_logging()
    return args.func(args)


def run() -> None:
    """Console entry point (`edustat`, `python -m pipelines`)."""
    from pipelines.warehouse import exit_skipping_teardown

    exit_skipping_teardown(main())


if __name__ == "__main__":
    run()
