"""`make reliability`: the figures of issue 13 (every input accounted for), printed as one JSON line.

- corpus: the bad-input cases and property tests (tests/ingest/test_corpus.py, test_parse.py,
  test_registry.py, test_ledger.py): cases tried and held;
- hostile: peak memory (max RSS) of one process reading the hostile files (JSON nested 100,000
  levels, a 20 MB zip bomb, a 40,000-character name, 1e308, an .xlsx registry zip bomb, XML entity
  expansion), each refused with its reason;
- pii: the scan of every file a run writes for names and identity numbers (tests/e2e/test_pii.py);
- kills: N trials of `edustat run` on a small generated province (every other one through the Prefect
  flow, `run --prefect`, with its temporary API server) killed with SIGKILL at a random moment
  (each step in turn: ingest, validation, aggregation, export, prepare; the moment drawn from that
  step's window in an uninterrupted run, timed from its log; the step it was really in is read back), each followed by a check for processes of the run still alive after a grace
  period (orphans: found by a marker in their environment, whatever their session or parent), and a
  re-run whose cells must equal the uninterrupted run's.

    .venv/bin/python benchmarks/reliability.py [--kill-trials 20] [--schools 12] [--dir /tmp/edustat-reliability]

The figures depend on the machine's load: the load (`os.getloadavg`) is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from _figures import emit

ROOT = Path(__file__).resolve().parent.parent
RERUN_TIMEOUT = 600  # seconds
# Each step's closing line in a run's log (pipelines/run.py), in the order the steps run.
KILL_ORDER = ("ingest", "validate", "aggregate", "export", "prepare")
STEPS = {"prepare": r"prepare: \d+ trường", "ingest": r"ingest: \d+ tệp / files", "validate": r"validate: \d+ quy tắc",
         "aggregate": r"aggregate: \d+ ô", "export": r"export: \d+ sổ tính / workbooks \("}  # fmt: skip
MARKER = "EDUSTAT_RELIABILITY_TRIAL"  # set in a trial's environment; its every process inherits it
CORPUS = ["tests/ingest/test_corpus.py", "tests/ingest/test_parse.py", "tests/ingest/test_registry.py",
          "tests/ingest/test_ledger.py"]  # fmt: skip


def _pytest(paths: list[str], junit: Path, marks: str = "slow or not slow") -> dict[str, int]:
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider", "-m", marks,
                    f"--junitxml={junit}", *paths], cwd=ROOT, capture_output=True, check=False)  # fmt: skip
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    tests, failed = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    return {
        "tried": tests - int(suite.get("skipped", 0)),
        "held": tests - failed - int(suite.get("skipped", 0)),
    }


def _make_hostile(folder: Path) -> None:
    """The hostile inputs (written here, so their making does not count in the reader's memory)."""
    import zipfile

    from tests.conftest import klass, payload, pupil, school_info, write_registry

    code = "66643001"
    rows = [{"MA_TRUONG": code, "TEN_TRUONG_HOC": "A", "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66",
             "ID_PHONG": "643"}]  # fmt: skip
    reg_path = write_registry(folder / "registry.xlsx", rows)
    inbox = folder / "inbox"
    inbox.mkdir()
    text = json.dumps(
        payload(code, school_info(code), [klass("1A", 1)], [pupil("p", "1A", 1, 2, "01", "2018-01-01")])
    )
    (inbox / "nested.json").write_text('{"TruongHocInfo": {}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with zipfile.ZipFile(inbox / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{code}.json", '{"a": "' + "0" * 20_000_000 + '"}')
    (inbox / "long.json").write_text(text.replace('"TenTruongHoc": "', '"TenTruongHoc": "' + "A" * 40_000))
    (inbox / "huge.json").write_text(
        text.replace('"NamHoc": 2024, "MaNhom', '"NamHoc": 2024, "TongSoHocSinh": 1e308, "MaNhom')
    )
    with zipfile.ZipFile(reg_path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    laughs = b'<!DOCTYPE worksheet [<!ENTITY a "' + b"ha" * 50 + b'">'
    laughs += b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(8)) + b"]>"
    changes = {
        "registry-bomb.xlsx": lambda x: x.replace(
            b"<sheetData>", b"<!--" + b"0" * 100_000_000 + b"--><sheetData>"
        ),
        "registry-entities.xlsx": lambda x: laughs + x.replace(b"<t>A</t>", b"<t>&i;</t>"),
    }
    for name, change in changes.items():
        with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as zf:
            for part, data in parts.items():
                zf.writestr(part, change(data) if part == "xl/worksheets/sheet1.xml" else data)


def hostile_child(folder: Path) -> None:
    """In a child process: read the hostile inputs, print their outcomes and the peak memory."""
    from cryptography.fernet import Fernet

    from pipelines import warehouse
    from pipelines.ingest import ledger, registry, units
    from pipelines.ingest.inbox import ingest_inbox

    os.environ.setdefault("EDUSTAT_STORE_KEY", Fernet.generate_key().decode())
    reg = registry.read_registry(folder / "registry.xlsx")
    outcomes = {}
    with warehouse.connect(folder / "w.duckdb") as con:
        units.load_units(con, reg, "2024", None, "hostile")
        ledger.record_registry(con, reg, "hostile", "2024-2025", "DN")
        ingest_inbox(con, folder / "inbox", 2024, "DN", units.registered_schools(con), b"k", "hostile")
        outcomes.update(dict(con.execute("SELECT position, coalesce(reason, outcome) FROM input_ledger "
                                         "WHERE input = 'inbox_entry'").fetchall()))  # fmt: skip
    for name in ("registry-bomb.xlsx", "registry-entities.xlsx"):
        try:
            registry.read_registry(folder / name)
            outcomes[name] = "read"
        except registry.RegistryError as exc:
            outcomes[name] = "refused: " + str(exc).split(" / ")[-1][:80]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"outcomes": outcomes, "peak_mb": round(peak)}))


def _hostile(root: Path) -> dict:
    folder = root / "hostile"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _make_hostile(folder)
    out = subprocess.run([sys.executable, __file__, "--hostile-child", str(folder)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)  # fmt: skip
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": out.stderr[-500:]}


def _marked_processes(marker: str) -> list[tuple[int, str]]:
    """The live processes whose environment carries `marker` (a trial's run and everything it started,
    whatever session or parent they have now): (pid, what it runs)."""
    import psutil

    found = []
    for p in psutil.process_iter(["pid", "status", "cmdline"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and p.environ().get(MARKER) == marker:
                found.append((p.info["pid"], " ".join(p.info["cmdline"] or [])[-80:]))
        except psutil.Error:
            continue
    return found


def _left_after(marker: str, grace: float) -> list[tuple[int, str]]:
    """The trial's processes still alive `grace` seconds after the kill (those that did not die with it)."""
    deadline = time.monotonic() + grace
    while (left := _marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def _cells(wh: Path) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute("SELECT * FROM cells ORDER BY ALL").fetchall()


def _step_windows(cmd: list[str], env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Run `cmd` to the end, timing each step's closing line as it is printed: {step: (start, end)}
    in seconds from the start (a step starts when the one before it closes)."""
    t0 = time.perf_counter()
    closed: dict[str, float] = {}
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as proc:  # fmt: skip
        for line in proc.stdout or ():
            for step, pattern in STEPS.items():
                if step not in closed and re.search(pattern, line):
                    closed[step] = time.perf_counter() - t0
    if proc.returncode != 0 or set(closed) != set(STEPS):
        raise RuntimeError(f"the uninterrupted run failed or did not log every step: {sorted(closed)}")
    ends = [closed[s] for s in STEPS]
    return {s: (start, end) for s, start, end in zip(STEPS, [0.5, *ends[:-1]], ends, strict=True)}


def _kill_in_step(cmd: list[str], env: dict[str, str], target: str, delay: float, log: Path) -> float:
    """Run `cmd` (its output into `log`) and SIGKILL it `delay` seconds after `target` began: the
    closing line of the step before it appears in the log (the start, for the first step). Returns
    when, in seconds from the start. The log is a file, not a pipe: a child that survives its parent
    (what the trial looks for) cannot keep the reader waiting."""
    steps = list(STEPS)
    before = steps[steps.index(target) - 1] if steps.index(target) > 0 else None
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    began = t0 if before is None else None
    while proc.poll() is None:
        if began is None and re.search(STEPS[before], log.read_text(encoding="utf-8", errors="replace")):
            began = time.perf_counter()
        if began is not None and time.perf_counter() - began >= delay:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    return time.perf_counter() - t0


def _step_at_kill(log: Path) -> str:
    """The step a killed run was in: the first whose closing line (pipelines.run's log) is missing
    from the run's output; "finished" if every step closed."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return next((step for step, closed in STEPS.items() if not re.search(closed, text)), "finished")


def _run_cmd(gen: Path, wh: Path, out: Path, prefect: bool) -> list[str]:
    return [sys.executable, "-m", "pipelines", "run", "--school-year", "2024-2025", "--period", "DN", "--registry",
            str(gen / "registry.xlsx"), "--inbox", str(gen / "inbox"), "--warehouse", str(wh), "--out", str(out),
            "--processes", "2", *(["--prefect"] if prefect else [])]  # fmt: skip


def _kills(root: Path, trials: int, schools: int, seed: int, grace: float) -> dict:
    """Odd trials run through the Prefect flow (`run --prefect`, with its temporary API server), even
    ones without; each is killed in a step (KILL_ORDER, in turn) at a moment drawn from that step's
    window in an uninterrupted run of its kind."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.setdefault("EDUSTAT_PSEUDONYM_KEY", "reliability-key")
    env.setdefault("EDUSTAT_STORE_KEY_FILE", str(root / "store.key"))
    env.setdefault("PREFECT_HOME", str(root / "prefect-home"))
    gen = root / "gen"
    if not (gen / "registry.xlsx").exists():
        subprocess.run([sys.executable, "-m", "pipelines", "generate", "--province", "66", "--school-year", "2024-2025",
                        "--schools", str(schools), "--out", str(gen)], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
    windows: dict[bool, dict[str, tuple[float, float]]] = {}
    want = None
    for prefect in (False, True):
        ref = root / f"ref-{'prefect' if prefect else 'plain'}"
        shutil.rmtree(ref, ignore_errors=True)
        windows[prefect] = _step_windows(_run_cmd(gen, ref / "w.duckdb", ref / "out", prefect), env)
        cells = _cells(ref / "w.duckdb")
        assert want is None or cells == want, "the Prefect flow and the plain run gave different cells"
        want = cells
    rng = random.Random(seed)
    orphans = identical = 0
    points = []
    for trial in range(trials):
        prefect = trial % 2 == 1
        folder = root / f"kill{trial}"
        shutil.rmtree(folder, ignore_errors=True)
        # Each step in turn (ingest, validate, aggregate, export, prepare, …): killed when the step before
        # it has closed (its line in the trial's own log) plus a random part of the step's length in an
        # uninterrupted run; the step it was really in is read back from the log.
        target = KILL_ORDER[(trial // 2) % len(KILL_ORDER)]
        start, end = windows[prefect][target]
        delay = rng.uniform(0, end - start)
        marker = f"{os.getpid()}-{trial}"
        folder.mkdir(parents=True)
        at = _kill_in_step(_run_cmd(gen, folder / "w.duckdb", folder / "out", prefect), {**env, MARKER: marker},
                           target, delay, folder / "killed-run.log")  # fmt: skip
        left = _left_after(marker, grace)
        orphans += len(left)
        for pid, _ in left:  # ours: they carry this trial's marker
            os.kill(pid, signal.SIGKILL)
        try:  # a re-run that waits for ever (a slot or lock the killed run left taken) is a failure
            rerun = subprocess.run(_run_cmd(gen, folder / "w.duckdb", folder / "out", prefect), cwd=ROOT, env=env,
                                   capture_output=True, check=False, timeout=RERUN_TIMEOUT)  # fmt: skip
            same = rerun.returncode == 0 and _cells(folder / "w.duckdb") == want
        except subprocess.TimeoutExpired:
            same = False
        identical += same
        points.append({"prefect": prefect, "target": target, "at_s": round(at, 1), "in_step": _step_at_kill(folder / "killed-run.log"),
                       "orphans": [what for _, what in left], "rerun_identical": same})  # fmt: skip
    steps_hit = sorted({p["in_step"] for p in points})
    return {"trials": trials, "step_windows_s": {("prefect" if k else "plain"): {s: [round(a, 1), round(b, 1)]
            for s, (a, b) in v.items()} for k, v in windows.items()}, "steps_hit": steps_hit, "grace_s": grace,
            "orphans": orphans, "reruns_identical": identical, "points": points}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-trials", type=int, default=20)
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--grace", type=float, default=10.0, help="seconds a process has to die with the run")
    parser.add_argument("--dir", default="/tmp/edustat-reliability")
    parser.add_argument(
        "--skip-tests", action="store_true", help="only the hostile files and the kill trials"
    )
    parser.add_argument("--hostile-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hostile_child:
        hostile_child(Path(args.hostile_child))
        return
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    result: dict = {"load_1min_start": round(os.getloadavg()[0], 2)}
    if not args.skip_tests:
        result["corpus"] = _pytest(CORPUS, root / "corpus.xml")
        result["pii_scan"] = _pytest(["tests/e2e/test_pii.py"], root / "pii.xml")
    result["hostile"] = _hostile(root)
    if args.kill_trials:
        result["kills"] = _kills(root, args.kill_trials, args.schools, args.seed, args.grace)
    result["load_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, ensure_ascii=False))
    emit(result)


if __name__ == "__main__":
    main()
