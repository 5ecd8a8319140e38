"""Stopping and resuming a batch run, and rendering some areas into a published folder.

Issue #14 (item 5): Ctrl-C or SIGTERM must stop the workers and their kernels within seconds
and record what finished; the death of the parent (SIGKILL) must leave no worker or kernel
behind; ``--area`` into a full folder must keep its index complete. The signal tests run a
real ``analyse briefs`` of two kommuner with one worker in a subprocess, on the session's small
data; processes are counted from /proc (psutil is not a declared dependency).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import analyse
from analyse.run import batch

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "brief.ipynb"
AGREEMENT = "syddanmark-2024-2027"
#: Middelfart and Odense: two kommune briefs, rendered one after the other by one worker.
AREAS = ("410", "461")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process from /proc, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(fields[1]), fields[0]


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[0]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pids: set[int]) -> set[int]:
    """The processes still running (a zombie has stopped; it only waits to be reaped)."""
    return {pid for pid in pids if (stat := _stat(pid)) is not None and stat[1] != "Z"}


def _start_briefs(out: Path, small_raw, small_processed) -> subprocess.Popen:
    """``analyse briefs`` of the two kommuner, one worker, in a session of its own (so a signal
    to its process group is what Ctrl-C in a terminal sends)."""
    env = {**os.environ, "PYTHONPATH": str(Path(analyse.__file__).parents[1])}
    command = [
        sys.executable,
        "-m",
        "analyse.run.cli",
        "briefs",
        "--raw",
        str(small_raw),
        "--processed",
        str(small_processed.processed),
        "--out",
        str(out),
        "--notebook",
        str(NOTEBOOK),
        "--level",
        "kommune",
        "--area",
        *AREAS,
        "--workers",
        "1",
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _briefs(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("kommune-*.html")}  # not the hidden temporary files


def _wait_for(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the run ended early:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the run did not get that far in time")
        time.sleep(0.05)


def test_ctrl_c_stops_workers_and_kernels_records_finished_briefs_and_a_rerun_renders_the_rest(
    small_raw, small_processed, tmp_path
):
    out = tmp_path / "reports"
    folder = out / AGREEMENT
    process = _start_briefs(out, small_raw, small_processed)
    try:
        _wait_for(lambda: _briefs(folder), process)  # the first brief is written
        children = _descendants(process.pid)
        # The worker, its kernel and multiprocessing's resource tracker.
        assert len(children) >= 3, children
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        returncode = process.wait(timeout=30)
        stopped = time.monotonic() - sent
        output = process.stdout.read()
    finally:
        _kill_group(process)
    assert returncode == 130, output
    assert stopped < 8, f"{stopped:.1f} s to stop"
    time.sleep(0.5)  # reparented zombies are reaped by init
    assert _running(children) == set(), "a worker or kernel outlived the run"
    assert "Afbrudt (SIGINT)" in output and "interrupted" in output

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    statuses = {slug: record["status"] for slug, record in manifest["areas"].items()}
    finished = {slug for slug, status in statuses.items() if status == "ok"}
    # One brief was written before the signal; the other was being rendered (one worker).
    assert len(finished) == 1 and len(statuses) == 2, statuses
    assert set(statuses.values()) == {"ok", "interrupted"}, statuses
    assert _briefs(folder) == {f"{slug}.html" for slug in finished}
    unfinished = (set(statuses) - finished).pop()
    # Neither its numbers nor a half-written file are left behind.
    assert not list(folder.glob(f"{unfinished}.*")) and not list(folder.glob(".*tmp*"))
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert f'href="{finished.copy().pop()}.html"' in index
    assert f'href="{unfinished}.html"' not in index

    rerun = batch.run_briefs(
        level="kommune",
        areas=list(AREAS),
        workers=1,
        out=out,
        raw=small_raw,
        processed=small_processed.processed,
        notebook=NOTEBOOK,
        progress=None,
    )
    assert {r.slug: r.status for r in rerun.results} == {
        **{slug: "skipped" for slug in finished},
        unfinished: "ok",
    }
    assert rerun.ok


def test_killing_the_parent_leaves_no_worker_or_kernel_and_no_brief_is_written_after(
    small_raw, small_processed, tmp_path
):
    out = tmp_path / "reports"
    folder = out / AGREEMENT
    process = _start_briefs(out, small_raw, small_processed)
    try:
        # The worker has started its kernel: kill the parent while the worker has work left.
        _wait_for(
            lambda: any("ipykernel" in _cmdline(p) for p in _descendants(process.pid)), process
        )
        children = _descendants(process.pid)
        process.kill()
        process.wait(timeout=10)
        killed = time.monotonic()
        while _running(children) and time.monotonic() - killed < 10:
            time.sleep(0.05)
        gone_after = time.monotonic() - killed
        written = _briefs(folder)
    finally:
        _kill_group(process)
    assert _running(children) == set(), "a worker or kernel outlived its parent"
    assert gone_after < 5
    time.sleep(2)
    assert _briefs(folder) == written  # nothing new once the parent is gone
    assert not list(folder.glob(".*tmp*"))


def _kill_group(process: subprocess.Popen) -> None:
    """Clean up after a failed test: whatever is left of this run's process group."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if process.poll() is None:
        process.wait(timeout=10)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_some_areas_into_a_published_folder_keep_the_index_complete(
    small_raw, small_processed, small_run, tmp_path
):
    """``analyse briefs --area 461`` into the folder of the session's run of four areas."""
    out = tmp_path / "reports"
    shutil.copytree(small_run.out.parent, out)
    published = {r.slug for r in small_run.results if r.status == "ok"}
    assert len(published) == 4

    result = batch.run_briefs(
        level="kommune",
        areas=["461"],
        workers=1,
        out=out,
        raw=small_raw,
        processed=small_processed.processed,
        notebook=NOTEBOOK,
        progress=None,
    )
    assert [r.status for r in result.results] == ["skipped"]  # unchanged: no worker started
    index = (out / small_run.out.name / "index.html").read_text(encoding="utf-8")
    for slug in published:
        assert f'href="{slug}.html"' in index, slug
    top = (out / "index.html").read_text(encoding="utf-8")
    assert "(4 briefs)" in top
