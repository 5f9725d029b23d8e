"""What ops/lifetime.py promises, on real processes (die_with_parent: pipelines/processes.py): a
child that asked for it ends when its parent dies, even by SIGKILL (and one that did not ask
outlives it: the test would catch a no-op); a flow-run subprocess (`python -m prefect.engine` with PREFECT__FLOW_RUN_ID) ends with its runner and prints
nothing to stderr once its atexit callbacks run, while its own lines before that still arrive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines import processes

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's"
)

WORKTREE = Path(__file__).resolve().parent.parent.parent


def alive(pid: int) -> bool:
    """The process runs (a zombie waiting for a reaping init has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_until_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "PREFECT__FLOW_RUN_ID"}
    return {**base, "PYTHONPATH": os.pathsep.join([str(WORKTREE), base.get("PYTHONPATH", "")]), **extra}


def start_parent(child_code: str, *, ask: bool, tmp_path: Path, child_env: dict[str, str] | None = None):
    """A parent process that starts a child running `child_code` (through `die_with_parent` as
    preexec_fn when `ask`, as ops/server.py starts the Prefect server), prints the child's pid and
    waits. Returns (parent, child pid)."""
    child_script = tmp_path / "child.py"
    child_script.write_text(child_code, encoding="utf-8")
    parent_code = textwrap.dedent(f"""
        import subprocess, sys, time
        from pipelines.processes import die_with_parent
        child = subprocess.Popen([sys.executable, {str(child_script)!r}],
                                 preexec_fn=die_with_parent if {ask!r} else None)
        print(child.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True,
                              env=child_env or env())  # fmt: skip
    child = int(parent.stdout.readline())
    return parent, child


def wait_for(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def kill(parent: subprocess.Popen) -> None:
    parent.kill()  # SIGKILL: no handler, no atexit, no finally in the parent
    parent.wait(10)
    parent.stdout.close()


SLEEPER = "import time\ntime.sleep(120)\n"


def test_a_child_that_asked_ends_when_its_parent_is_killed(tmp_path):
    parent, child = start_parent(SLEEPER, ask=True, tmp_path=tmp_path)
    try:
        time.sleep(0.3)
        assert alive(child)
        kill(parent)
        assert wait_until_gone(child), "the child outlived its SIGKILLed parent"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_child_that_did_not_ask_outlives_its_parent(tmp_path):
    """The control case: without die_with_parent the orphan keeps running (the test above is not
    passing because children die anyway)."""
    parent, child = start_parent(SLEEPER, ask=False, tmp_path=tmp_path)
    try:
        kill(parent)
        time.sleep(1.0)
        assert alive(child)
    finally:
        os.kill(child, signal.SIGKILL)


def test_the_signal_asked_for_is_the_one_delivered(tmp_path):
    """die_with_parent(sig=SIGUSR1) in the child itself: its handler sees SIGUSR1 when the parent dies."""
    seen = tmp_path / "seen.txt"
    code = textwrap.dedent(f"""
        import pathlib, signal, sys, time
        from pipelines.processes import die_with_parent

        def on_signal(number, frame):
            pathlib.Path({str(seen)!r}).write_text(signal.Signals(number).name)
            sys.exit(0)

        signal.signal(signal.SIGUSR1, on_signal)
        assert die_with_parent(sig=signal.SIGUSR1) == "pdeathsig"
        pathlib.Path({str(tmp_path / "ready")!r}).touch()
        time.sleep(120)
    """)
    parent, child = start_parent(code, ask=False, tmp_path=tmp_path)
    try:
        wait_for(tmp_path / "ready")  # the child has called prctl
        kill(parent)
        assert wait_until_gone(child)
        assert seen.read_text() == "SIGUSR1"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_elsewhere_than_linux_nothing_is_asked(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert processes.die_with_parent() == "none"


# --- a flow-run subprocess ----------------------------------------------------------------------


def fake_engine(tmp_path: Path, body: str) -> tuple[Path, str]:
    """A module run as `python -m prefect.engine` (as a runner or worker starts a flow run), from a
    folder that shadows Prefect's package for that process only; returns (its folder, its code)."""
    package = tmp_path / "engine_path" / "prefect"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "engine.py").write_text(body, encoding="utf-8")
    return package.parent, body


FLOW_RUN = textwrap.dedent("""
    import atexit, os, sys
    from pipelines.ops import lifetime

    class Leaky:  # a binding's teardown report, written at interpreter shutdown after atexit
        def __del__(self):
            os.write(2, b"LEAK REPORT from __del__\\n")

    leaky = Leaky()
    atexit.register(lambda: os.write(2, b"LEAK REPORT from an earlier atexit\\n"))
    print("flow run process:", lifetime.setup_flow_run_process(), flush=True)
    sys.stderr.write("run log line\\n")
""")


def run_engine(tmp_path: Path, body: str, **extra: str) -> subprocess.CompletedProcess:
    folder, _ = fake_engine(tmp_path, body)
    e = env(**extra)
    e["PYTHONPATH"] = os.pathsep.join([str(folder), e["PYTHONPATH"]])
    return subprocess.run([sys.executable, "-m", "prefect.engine"], env=e, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_a_flow_run_process_exits_without_the_teardown_report(tmp_path):
    done = run_engine(tmp_path, FLOW_RUN, PREFECT__FLOW_RUN_ID="8a1c0d6e-0000-4000-8000-000000000001")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "flow run process: True\n"
    assert "run log line" in done.stderr  # what the run writes itself still arrives
    assert "LEAK REPORT" not in done.stderr


def test_without_a_flow_run_id_the_process_is_left_alone(tmp_path):
    done = run_engine(tmp_path, FLOW_RUN)
    assert done.stdout == "flow run process: False\n"
    assert "LEAK REPORT from an earlier atexit" in done.stderr
    assert "LEAK REPORT from __del__" in done.stderr


def test_a_script_that_is_not_the_engine_is_not_a_flow_run(tmp_path):
    """A flow-run id inherited by another program (a notebook, a helper script) is not enough."""
    script = tmp_path / "helper.py"
    script.write_text(FLOW_RUN, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], env=env(PREFECT__FLOW_RUN_ID="x"), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.stdout == "flow run process: False\n"
    assert "LEAK REPORT from __del__" in done.stderr


def test_a_flow_run_process_ends_with_the_runner_that_started_it(tmp_path):
    ready = tmp_path / "ready"
    folder, _ = fake_engine(
        tmp_path, FLOW_RUN + f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(120)\n"
    )
    runner_code = textwrap.dedent("""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-m", "prefect.engine"], stdout=subprocess.DEVNULL)
        print(child.pid, flush=True)
        time.sleep(120)
    """)
    e = env(PREFECT__FLOW_RUN_ID="8a1c0d6e-0000-4000-8000-000000000002")
    e["PYTHONPATH"] = os.pathsep.join([str(folder), e["PYTHONPATH"]])
    runner = subprocess.Popen([sys.executable, "-c", runner_code], stdout=subprocess.PIPE, text=True, env=e)
    child = int(runner.stdout.readline())
    try:
        wait_for(ready)  # the flow run has called setup_flow_run_process
        assert alive(child)
        kill(runner)
        assert wait_until_gone(child), "the flow run outlived its SIGKILLed runner"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
