"""Screenshots of the Prefect UI for docs/your-province.md: docs/img/prefect-*.png.

A real `prefect server start` (its own PREFECT_HOME in a temporary folder, a free port), the demo
run through it (`edustat demo --prefect` with PREFECT_API_URL set, into a temporary data folder),
then headless Chromium on three pages of the UI: the flow runs (names and states), the demo run's
page (its state name, "Completed: …", its tags and its task runs) and its Markdown summary artifact. PNGs over 200 KB are
reduced to a palette of 256 colours.

A docs tool only (`make screenshots`): needs Debian's `chromium` (`apt-get install -y chromium`);
nothing in the tests or .ci/run uses it. The printed workbook pages of the guide are `make render`'s
(docs/img/preview-*.png, LibreOffice).

    PYTHONPATH=. .venv/bin/python docs/screenshots.py [docs/img]
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

MAX_BYTES = 200_000
SIZE = "1400,900"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("chromium not found: apt-get install -y chromium (a docs tool only)")


def shoot(url: str, png: Path, work: Path) -> None:
    """One page as headless Chromium draws it after 15 s of virtual time (the UI's scripts load)."""
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))  # a new empty profile per shot
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size={SIZE}",
               "--virtual-time-budget=15000", url]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    shrink(png)
    print(f"{png} ({png.stat().st_size // 1000} KB) ← {url}")


def shrink(png: Path) -> None:
    from PIL import Image

    if png.stat().st_size <= MAX_BYTES:
        return
    with Image.open(png) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(png, optimize=True)


def demo_run(api_url: str) -> tuple[str, str | None]:
    """The latest report_period run of this year's demo (the demo runs last year's start first) and
    its Markdown summary artifact (None if it has none)."""
    os.environ["PREFECT_API_URL"] = api_url
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterType,
        FlowFilter,
        FlowFilterName,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["report_period"])),
                                     sort=FlowRunSort.START_TIME_DESC, limit=1)  # fmt: skip
        if not runs:
            sys.exit("no report_period run on the server")
        summaries = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[runs[0].id]), type=ArtifactFilterType(any_=["markdown"])))  # fmt: skip
    return str(runs[0].id), str(summaries[0].id) if summaries else None


def main(out: Path) -> None:
    from pipelines.ops import server

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="edustat-screenshots-"))
    home = {"PREFECT_HOME": str(work / "prefect")}  # start_server points the UI at the port it serves
    proc, api_url = server.start_server(port=free_port(), env=home, log=work / "server.log")
    try:
        env = {
            **os.environ,
            "PREFECT_HOME": home["PREFECT_HOME"],
            "PREFECT_API_URL": api_url,
            "EDUSTAT_DATA_DIR": str(work / "data"),
        }
        env.setdefault("EDUSTAT_PSEUDONYM_KEY", "screenshots")
        subprocess.run([sys.executable, "-m", "pipelines", "demo", "--prefect", "--processes", "1"], env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        run_id, summary_id = demo_run(api_url)
        ui = api_url.removesuffix("/api")
        shoot(f"{ui}/runs", out / "prefect-runs.png", work)
        shoot(f"{ui}/runs/flow-run/{run_id}", out / "prefect-flow-run.png", work)
        if summary_id:
            shoot(f"{ui}/artifacts/artifact/{summary_id}", out / "prefect-run-summary.png", work)
    finally:
        server.stop_process(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img")
