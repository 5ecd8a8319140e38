"""Render one HTML brief per area: papermill parameters, warm kernels, nbconvert, an index.

Why warm kernels: starting a Python kernel and importing pandas, matplotlib and the library costs
seconds per notebook, which for ≈125 briefs on two cores is most of the run. Each worker process
keeps one kernel, warms it up once (imports only), and before every brief resets it: the user
namespace is wiped (``%reset -f``), figures are closed and matplotlib's settings restored. The
library keeps no per-area state (its caches hold only package data), so a brief rendered in a
reused kernel is byte-identical to the same brief rendered in a fresh one — a test checks it. A
kernel that fails or dies is replaced by a fresh one before the next brief.

Each brief's inputs (notebook, parameters, processed-data cache key, code version) are hashed; a
rerun skips a brief whose hash is unchanged and whose HTML is still there. HTML is leak-checked
by the worker and then written atomically (a brief with a finding is not written). A failing
area is recorded and the others continue; the run ends with a summary and ``failed`` set.

A run can be stopped and resumed: on SIGINT (Ctrl-C) or SIGTERM the workers and their kernels
are stopped within seconds, each agreement's manifest and index are written with the briefs
that finished, and :class:`~analyse.errors.Interrupted` is raised (the command exits with 130
or 143); the rerun renders only the rest. Workers and kernels ask Linux to be signalled when
their parent dies (``PR_SET_PDEATHSIG``), so none outlives a killed run, and a worker whose
parent is gone writes no brief. The folder's index lists every finished brief of its manifest,
not only this run's.

One unit of about 1,000 lines because the run's pieces share one state: the workers, the task
list of every agreement, the per-brief keys and the run folders are built, used and recorded
together (the pages themselves come from :mod:`analyse.publish`).
"""

from __future__ import annotations

import hashlib
import html
import json
import multiprocessing as mp
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# nbformat imports jsonschema, which, when JupyterLab's dependency ``rfc3987-syntax`` is
# installed, builds that package's IRI grammars at import: ≈ 1.5-3 s in every batch process
# (the main one and each worker), for a format check ("iri") no notebook here uses. Marking the
# module as absent makes jsonschema skip that one check. Only batch processes (``analyse
# briefs``/``check --html`` and their workers) import this module; a JupyterLab session and the
# kernels are untouched.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
import pandas as pd  # noqa: E402

import analyse  # noqa: E402
from analyse.cube import build as cube_build  # noqa: E402
from analyse.errors import Interrupted, ParameterError  # noqa: E402
from analyse.publish import overview, report  # noqa: E402
from analyse.publish.html import html_page  # noqa: E402
from analyse.publish.leaks import check_outputs  # noqa: E402
from analyse.reference import geography  # noqa: E402
from analyse.reference.catalogue import (  # noqa: E402
    DEFAULT_AGREEMENT,
    Agreement,
    is_path,
    list_agreements,
    load_agreements,
)
from analyse.run import pdf as pdf_print  # noqa: E402
from analyse.stats import disclosure  # noqa: E402

DEFAULT_NOTEBOOK = Path("notebooks/brief.ipynb")
KERNEL_NAME = "python3"
CELL_TIMEOUT = 600
WARM_UP = (
    "import analyse.publish.brief, analyse.publish.plots, analyse.publish.report\n"
    "import matplotlib\n"
    "matplotlib.use('Agg')\n"
)
# Run before every brief in a reused kernel: nothing of the previous area survives.
# ``%reset -f`` ends with full garbage collections; the last line moves what survives them (the
# imported modules and package caches, never user variables, which are gone by then) out of
# the collector's view, so the next reset's collections and those during the next brief are
# cheap (≈ 0.13 s less per brief). Frozen objects are still freed by reference counting.
RESET = (
    "%reset -f\n"
    "import matplotlib, matplotlib.pyplot\n"
    "matplotlib.pyplot.close('all')\n"
    "matplotlib.rcdefaults()\n"
    "matplotlib.use('Agg')\n"
    "import gc\n"
    "gc.freeze()\n"
)


@dataclass
class AreaResult:
    """Outcome of one area's brief."""

    area_level: str
    area_code: str
    area_name: str
    slug: str
    status: str  # "ok", "skipped", "failed"; "interrupted" (the run was stopped before it)
    seconds: float = 0.0
    error: str = ""
    key: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    #: Another notebook than the brief: its file name, its own parameters (a manifest entry's)
    #: and the index's link text for the page.
    notebook: str = ""
    parameters: dict = field(default_factory=dict)
    label: str = ""


@dataclass
class BatchResult:
    out: Path
    results: list[AreaResult]
    seconds: float
    #: Leak-check findings in the run's own files (index.html, overview.html, manifest.json);
    #: the briefs' findings make those briefs fail instead.
    leaks: list = field(default_factory=list)
    #: PDFs written beside the pages (``pdf=True``), and why printing failed, if it did.
    pdfs: list[Path] = field(default_factory=list)
    pdf_error: str = ""

    @property
    def failed(self) -> list[AreaResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        """Every brief rendered or unchanged, nothing leaked, and the PDFs (if asked) printed."""
        return not self.failed and not self.leaks and not self.pdf_error

    @property
    def index(self) -> Path:
        return self.out / overview.INDEX_FILE

    @property
    def overview(self) -> Path:
        return self.out / overview.OVERVIEW_FILE

    def summary(self) -> str:
        statuses = ("ok", "skipped", "failed", "interrupted")
        counts = {s: sum(r.status == s for r in self.results) for s in statuses}
        text = (
            f"{len(self.results)} briefs: {counts['ok']} rendered, {counts['skipped']} unchanged "
            f"(skipped), {counts['failed']} failed, in {self.seconds:.1f} s."
        )
        if counts["interrupted"]:
            text += f" {counts['interrupted']} not rendered (the run was interrupted)."
        for r in self.failed:
            text += f"\n  FAILED {r.area_level} {r.area_code} ({r.area_name}): {r.error}"
        for finding in self.leaks:
            text += f"\n  LEAK CHECK {finding}"
        if self.pdfs:
            text += f"\n{len(self.pdfs)} PDF(s) beside the pages (A4)."
        if self.pdf_error:
            text += f"\n  PDF FAILED {self.pdf_error}"
        return text


def select_areas(
    level: str = "all", codes: Sequence[str] | None = None, agreement: Agreement | None = None
) -> pd.DataFrame:
    """The areas to render: one level or all, optionally only some codes (of that level).

    With an ``agreement`` and no codes, only the areas of its scope (:meth:`Scope.brief_areas`:
    the region, its klynger and kommuner; the klynge and its kommuner; the kommune; Denmark and
    the klynger). Codes given explicitly are rendered even outside the scope (the brief then
    says that the agreement covers another area).
    """
    if level == "all":
        table = geography.all_areas()
    else:
        table = geography.areas(level)
    if agreement is not None and not codes:
        scope = agreement.scope.brief_areas()
        table = table[table["slug"].isin(scope["slug"])]
    if codes:
        wanted = [str(c).strip() for c in codes]
        unknown = sorted(set(wanted) - set(table["area_code"]))
        if unknown:
            raise ParameterError(
                f"unknown area code(s) {', '.join(unknown)} for level {level!r} "
                "(see `analyse areas`)"
            )
        table = table[table["area_code"].isin(wanted)]
    return table.reset_index(drop=True)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _area_key(notebook_bytes: bytes, parameters: dict, cache_key: str, version: str) -> str:
    payload = json.dumps(
        {
            "nb": hashlib.sha256(notebook_bytes).hexdigest(),
            "p": parameters,
            "data": cache_key,
            "code": version,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class LeakError(disclosure.DisclosureError):
    """A rendered file held what looks like microdata; it was not written."""


def _write_checked(
    path: Path, text: str, *, raw_names: bool = True, names: list[str] | None = None
) -> None:
    """Write ``text`` atomically to ``path`` only if the leak check finds nothing in it.

    The check runs on the temporary file (same suffix, so HTML tables are parsed as HTML);
    on a finding the temporary file is removed, any earlier file at ``path`` is left as it
    was, and :class:`LeakError` names the findings. ``raw_names=False`` leaves out the check
    for raw variable names with values (see :func:`_leak_check`).
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    tmp.write_text(text, encoding="utf-8")
    try:
        findings = _leak_check(tmp, raw_names=raw_names, names=names)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if findings:
        tmp.unlink(missing_ok=True)
        details = "; ".join(f"{f.kind} {f.detail} ({f.location})" for f in findings[:3])
        raise LeakError(f"leak check: {path.name} was not written: {details}", findings=findings)
    tmp.replace(path)


# ----------------------------------------------------------------------------------------------
# Worker process: one warm kernel, many briefs
# ----------------------------------------------------------------------------------------------


class _Renderer:
    """Executes parameterised notebooks in one reused kernel and exports them to HTML."""

    def __init__(self, cwd: str) -> None:
        from jupyter_client.manager import KernelManager

        self._kernel_manager_class = KernelManager
        self.cwd = cwd
        self.km = None
        self.kc = None
        self._exporter = None

    def _start(self) -> None:
        # IPC sockets in a folder of this worker's own: two workers choosing socket names in
        # one folder can collide (seen as "Invalid Signature" and unresponsive kernels).
        import tempfile

        self._socket_dir = tempfile.mkdtemp(prefix="analyse-kernel-")
        self.km = self._kernel_manager_class(
            kernel_name=KERNEL_NAME, transport="ipc", ip=os.path.join(self._socket_dir, "kernel")
        )
        self.km.start_kernel(
            cwd=self.cwd, env={**os.environ, "MPLBACKEND": "Agg"}, preexec_fn=_kernel_preexec
        )
        # One client for the kernel's lifetime, used by the warm-up and then by every brief in
        # turn (never two at once). Connecting a client costs ≈ 0.2 s (it waits for the output
        # channel to fall quiet); nbclient ignores replies to other requests, so nothing of a
        # previous brief's messages reaches the next. After a failure the kernel and its client
        # are replaced together (``restart``).
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        reply = self.kc.execute_interactive(WARM_UP, silent=True, timeout=120, store_history=False)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel setup failed: {reply['content'].get('evalue')}")

    def restart(self) -> None:
        self.shutdown()
        self._start()

    def kill(self) -> None:
        """Stop the kernel at once (SIGKILL to its process group; jupyter_client starts each
        kernel in a session of its own), for a worker that is being stopped."""
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        if pid:
            try:
                os.killpg(getattr(provisioner, "pgid", None) or pid, signal.SIGKILL)
            except OSError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self.km is not None:
            try:
                self.km.cleanup_connection_file()
            except Exception:  # noqa: BLE001 - best effort while stopping
                pass
        import shutil

        shutil.rmtree(getattr(self, "_socket_dir", ""), ignore_errors=True)

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - a dead kernel is already gone
                pass
            self.km = None
            import shutil

            shutil.rmtree(getattr(self, "_socket_dir", ""), ignore_errors=True)

    def render(
        self, notebook: Path, parameters: dict, export_dir: Path | None = None
    ) -> tuple[str, dict[str, float]]:
        """Execute the notebook with the parameters; return the HTML body and timings.

        With ``export_dir``, the brief's numbers are then written there as CSV and Excel by
        the same kernel, from the notebook's own ``brief`` (:func:`_write_exports`)."""
        from nbconvert import HTMLExporter
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        timings = {}
        start = time.perf_counter()
        if self.km is None or not self.km.is_alive():
            self.shutdown()
            self._start()
        timings["kernel"] = time.perf_counter() - start

        start = time.perf_counter()
        nb = parameterize_notebook(load_notebook_node(str(notebook)), parameters)
        for cell in nb.cells:  # papermill gives the injected cell a random id: keep output stable
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.id = "injected-parameters"
        # The reset runs as the first cell of the notebook itself (through the notebook's own
        # kernel client, saving a second client's handshake) and is removed before export.
        reset_cell = nbformat.v4.new_code_cell(RESET, metadata={"tags": ["analyse-reset"]})
        reset_cell.id = "analyse-reset"
        nb.cells.insert(0, reset_cell)
        client = _notebook_client_class()(
            nb,
            km=self.km,
            timeout=CELL_TIMEOUT,
            kernel_name=KERNEL_NAME,
            resources={"metadata": {"path": self.cwd}},
        )
        client.kc = self.kc  # the kernel's one client (see _start); not closed by nbclient
        client.execute()
        if export_dir is not None:
            start_export = time.perf_counter()
            _write_exports(self.kc, export_dir, parameters)
            timings["export_files"] = time.perf_counter() - start_export
        reset_time = _cell_seconds(nb.cells[0])
        nb.cells = [c for c in nb.cells if "analyse-reset" not in c.metadata.get("tags", [])]
        timings["kernel"] += reset_time
        timings["execute"] = (
            time.perf_counter() - start - reset_time - timings.get("export_files", 0.0)
        )

        start = time.perf_counter()
        if self._exporter is None:  # reused: its template environment is built on first use
            self._exporter = HTMLExporter(
                template_name="basic",
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                anchor_link_text="",
            )
        body, _ = self._exporter.from_notebook_node(nb)
        timings["export"] = time.perf_counter() - start
        return body, timings


_CLIENT_CLASS = None


def _notebook_client_class():
    """nbclient's NotebookClient for a kernel and client started by :class:`_Renderer`, minus
    its SIGINT/SIGTERM handlers: ``async_setup_kernel`` would replace the worker's own for the
    length of each notebook (so a stopped worker went on rendering) and reset them to the
    defaults after it. With the renderer's kernel and client it otherwise does nothing (it
    neither starts nor cleans up a kernel it does not own)."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is None:
        from contextlib import asynccontextmanager

        from nbclient import NotebookClient

        class _Client(NotebookClient):
            @asynccontextmanager
            async def async_setup_kernel(self, **kwargs):
                if self.km is None or self.kc is None:  # not the renderer's: nbclient's own
                    async with super().async_setup_kernel(**kwargs):
                        yield
                    return
                yield

        _CLIENT_CLASS = _Client
    return _CLIENT_CLASS


def _cell_seconds(cell) -> float:
    """Execution time of a cell from nbclient's timing metadata (0 if not recorded)."""
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return max((end - start).total_seconds(), 0.0)


def render_notebook(notebook: Path, parameters: dict, html_path: Path, *, title: str) -> Path:
    """Render one notebook to a self-contained HTML file (fresh kernel), with the leak check.

    Used for the data-quality report (``analyse check PATH --html FILE``).

    Raises
    ------
    ParameterError
        If the notebook does not exist.
    LeakError
        If the rendered file holds respondent ids or rows (it is then not written).
    """
    notebook = Path(notebook).resolve()
    if not notebook.exists():
        raise ParameterError(f"notebook {notebook} not found; run from the project folder")
    renderer = _Renderer(str(Path.cwd()))
    try:
        body, _ = renderer.render(notebook, parameters)
    finally:
        renderer.shutdown()
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    # Respondent ids and respondent-level tables only: a data-quality report names the raw
    # variables (with aggregate counts) by design.
    _write_checked(html_path, html_page(title, body), raw_names=False)
    return html_path


# ----------------------------------------------------------------------------------------------
# Stopping: no worker or kernel outlives the run
# ----------------------------------------------------------------------------------------------

#: Linux ``prctl`` option: the signal a process gets when the thread that started it ends.
PR_SET_PDEATHSIG = 1
#: Seconds the workers get to stop (their SIGTERM handler kills the kernel) before SIGKILL.
STOP_GRACE = 3.0


def _prctl():
    """libc's ``prctl`` on Linux (None elsewhere), loaded before any fork that needs it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _die_with_parent(signum: int) -> None:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux; elsewhere
    nothing: the worker's ``os.getppid()`` check before writing still applies)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)


def _kernel_preexec() -> None:
    """Run in a kernel's process between fork and exec: it is killed when the process that
    started it (a worker, or the process of ``analyse check --html``) dies, and it does not
    inherit the worker's ignored SIGINT."""
    _die_with_parent(signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class _Signals:
    """SIGINT and SIGTERM during a run: while the processed data are built and the briefs are
    rendered, the first one raises :class:`~analyse.errors.Interrupted`; once ``defer`` is set
    (the run's own files are being written) it is remembered and raised afterwards by the
    caller. Later signals are ignored: the run is already stopping, in a few seconds."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.defer = False
        self._old: dict = {}

    def _handle(self, signum, _frame) -> None:
        if self.received is not None:
            return
        self.received = signum
        if not self.defer:
            raise Interrupted(signum)

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)


def _worker(tasks, results, notebook: str, cwd: str, parent_pid: int | None = None) -> None:
    """Render the tasks of the queue one by one in one warm kernel, until ``None``.

    The worker and its kernel never outlive the run: the worker asks for SIGTERM when its
    parent dies (and its kernel for SIGKILL when the worker dies); on SIGTERM (from the parent
    stopping the run, or the parent's death) it kills its kernel, removes the numbers of the
    brief it was rendering and exits at once. SIGINT is ignored: Ctrl-C reaches the whole
    process group and the parent decides. A brief is never written once the parent is gone.
    """
    parent_pid = parent_pid or os.getppid()
    _die_with_parent(signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    renderer = _Renderer(cwd)
    current: dict[str, Path | None] = {"html": None}

    def stop(signum, _frame) -> None:
        renderer.kill()
        html_path = current["html"]
        if html_path is not None:  # its numbers without the brief are not published
            for path in [
                *_export_paths(html_path),
                *html_path.parent.glob(f".{html_path.stem}.*tmp*"),  # half-written files
            ]:
                path.unlink(missing_ok=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    if os.getppid() != parent_pid:  # the parent died before the request above
        return
    try:
        while True:
            task = tasks.get()
            if task is None:
                break
            start = time.perf_counter()
            try:
                html_path = Path(task["html"])
                current["html"] = html_path
                body, timings = renderer.render(
                    Path(task.get("notebook") or notebook),
                    task["parameters"],
                    export_dir=html_path.parent if task.get("exports", True) else None,
                )
                _check_exports(html_path, task.get("raw_names"))
                title = f"{task['title']} — {task['area_name']}"
                if os.getppid() != parent_pid:  # orphaned: the run is over, publish nothing
                    for path in _export_paths(html_path):
                        path.unlink(missing_ok=True)
                    return
                _write_checked(html_path, html_page(title, body), names=task.get("raw_names"))
                current["html"] = None  # written: the brief and its numbers stay together
                results.put(
                    {
                        "slug": task["slug"],
                        "status": "ok",
                        "timings": timings,
                        "seconds": time.perf_counter() - start,
                    }
                )
            except Exception as exc:  # noqa: BLE001 - any failure of one area is recorded
                # Numbers without their brief are not published either.
                for path in _export_paths(Path(task["html"])):
                    path.unlink(missing_ok=True)
                current["html"] = None
                message = _error_text(exc)
                results.put(
                    {
                        "slug": task["slug"],
                        "status": "failed",
                        "error": message,
                        "seconds": time.perf_counter() - start,
                    }
                )
                renderer.restart()
    finally:
        renderer.shutdown()


def _write_exports(kc, export_dir: Path, parameters: dict) -> None:
    """Write the brief's numbers as CSV and Excel beside its HTML, in the kernel that rendered
    it: :func:`analyse.publish.export.write_brief` with the notebook's ``brief`` (the values the
    brief showed; a notebook without one gets a brief opened from its parameters)."""
    arguments = {
        "processed": parameters.get("processed_dir"),
        "agreement_id": parameters.get("agreement_id"),
        "level": parameters.get("area_level"),
        "code": parameters.get("area_code"),
        "confidence_level": float(parameters.get("confidence_level", 0.95)),
        "waves": parameters.get("waves", ""),
    }
    code = (
        "import analyse.publish.export\n"
        "analyse.publish.export.write_brief(globals().get('brief'), "
        f"{str(export_dir)!r}, **{arguments!r})\n"
    )
    reply = kc.execute_interactive(code, silent=True, store_history=False, timeout=CELL_TIMEOUT)
    if reply["content"]["status"] != "ok":
        content = reply["content"]
        raise RuntimeError(
            f"export of the brief's numbers failed: {content.get('ename')}: {content.get('evalue')}"
        )


def _check_exports(html_path: Path, names: list[str] | None) -> None:
    """Leak-check the CSV written beside a brief; on a finding both files are removed."""
    written = [p for p in _export_paths(html_path) if p.exists()]
    findings = _leak_check([p for p in written if p.suffix == ".csv"], names=names)
    if findings:
        for path in written:
            path.unlink(missing_ok=True)
        details = "; ".join(f"{f.kind} {f.detail} ({f.location})" for f in findings[:3])
        raise LeakError(f"leak check: the export of {html_path.stem} was removed: {details}")


def _export_paths(html_path: Path) -> list[Path]:
    return [html_path.with_suffix(".csv"), html_path.with_suffix(".xlsx")]


def _error_text(exc: Exception) -> str:
    """One line: the error a cell raised (not the whole traceback)."""
    text = getattr(exc, "evalue", None) or str(exc)
    ename = getattr(exc, "ename", None) or type(exc).__name__
    first = str(text).strip().splitlines()
    return f"{ename}: {first[-1] if first else ''}"[:500]


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------


def run_briefs(
    *,
    agreement_id: str | Path = DEFAULT_AGREEMENT,
    level: str = "all",
    areas: Sequence[str] | None = None,
    workers: int = 2,
    out: str | Path = "reports",
    processed: str | Path = "data/processed",
    raw: str | Path = "data/raw",
    notebook: str | Path = DEFAULT_NOTEBOOK,
    force: bool = False,
    extra_parameters: dict | None = None,
    rules: disclosure.Rules | None = None,
    codebook: str | Path | None = None,
    progress: Callable[[str], None] | None = print,
    pdf: bool = False,
    notebook_suffix: str | None = None,
    notebooks: str | Path | Sequence[NotebookEntry] | None = None,
) -> BatchResult:
    """Build (or reuse) the processed data and render one agreement's briefs in parallel.

    The agreement is a shipped id or the path of the user's own YAML file. Without ``areas``,
    the briefs of its scope (see :func:`select_areas`). Writes ``<out>/<agreement>/<slug>.html``
    per area with its numbers beside it as ``<slug>.csv`` and ``<slug>.xlsx``
    (:mod:`analyse.publish.export`), ``overview.html`` (the agreement's scope: every area ×
    indicator, :mod:`analyse.publish.overview`), ``index.html`` (grouped by region, linking the
    overview and all agreements) and ``manifest.json`` (package version, git commit, input
    checksums, codebook, parameters, timings, status per area), and the top-level
    ``<out>/index.html`` of every agreement rendered there. Every file is leak-checked
    (:mod:`analyse.publish.leaks`) before it is kept. With ``pdf`` an A4 PDF is printed beside
    every page with the machine's Chromium (:mod:`analyse.run.pdf`).

    Only areas the delivery covers are rendered (:mod:`analyse.cube.coverage`): with
    ``level="all"`` the others are skipped and counted; asking for an uncovered area by level or
    code (e.g. ``level="land"`` from a regional delivery) is refused.

    ``codebook`` is the user's codebook YAML for the build (None: the shipped one).

    ``notebook_suffix`` (e.g. ``"--maal_alkohol"``, :func:`page_suffix`) renders another
    notebook than the brief as ``<slug><suffix>.html`` without CSV/Excel, linked from the index
    beside the area's brief. A notebook whose parameters set ``internal = True`` is refused.

    ``notebooks`` (a manifest file, :mod:`analyse.run.notebook_manifest`, or its loaded entries)
    renders each entry's notebook with its parameters as ``<slug>--<name>.html`` instead of
    ``notebook``; every entry is checked before anything is built or rendered.

    Raises
    ------
    ParameterError
        Unknown agreement, level or area codes, areas the delivery does not cover, a missing
        notebook, ``workers < 1``; with ``pdf``, no Chromium (checked before anything is
        rendered).
    DataValidationError
        When the raw delivery or the agreement file is invalid (from
        :func:`analyse.cube.build.build_processed` and :mod:`analyse.reference.catalogue`).
    """
    return run_agreements(
        [agreement_id],
        level=level,
        areas=areas,
        workers=workers,
        out=out,
        processed=processed,
        raw=raw,
        notebook=notebook,
        force=force,
        extra_parameters=extra_parameters,
        rules=rules,
        codebook=codebook,
        progress=progress,
        pdf=pdf,
        notebook_suffix=notebook_suffix,
        notebooks=notebooks,
    )[0]


def run_agreements(
    agreements: Sequence[str | Path] | None = None,
    *,
    level: str = "all",
    areas: Sequence[str] | None = None,
    workers: int = 2,
    out: str | Path = "reports",
    processed: str | Path = "data/processed",
    raw: str | Path = "data/raw",
    notebook: str | Path = DEFAULT_NOTEBOOK,
    force: bool = False,
    extra_parameters: dict | None = None,
    rules: disclosure.Rules | None = None,
    codebook: str | Path | None = None,
    progress: Callable[[str], None] | None = print,
    pdf: bool = False,
    notebook_suffix: str | None = None,
    notebooks: str | Path | Sequence[NotebookEntry] | None = None,
) -> list[BatchResult]:
    """Render the briefs of several agreements (default: every shipped one) in one run.

    The processed data are built once for all of them (:func:`build_processed`), the briefs of
    all agreements share one pool of warm workers, and each agreement gets its folder with
    briefs, exports, overview, index and manifest as in :func:`run_briefs`;
    ``<out>/index.html`` lists every agreement.

    Raises
    ------
    ParameterError, DataValidationError
        As :func:`run_briefs`.
    """
    from analyse.run.paths import project_path

    started = time.perf_counter()
    say = progress or (lambda _m: None)
    notebook = Path(notebook)
    if not notebook.is_absolute() and not notebook.exists():
        notebook = project_path(notebook)  # run from another folder than the project's
    notebook = notebook.resolve()
    entries = _notebook_entries(
        notebook, notebook_suffix, notebooks
    )  # all checked: before any work
    for entry in entries:
        check_publishable(
            entry.notebook, {**(extra_parameters or {}), **entry.parameters}, entry.level or level
        )
    if workers < 1:
        raise ParameterError(f"workers must be at least 1, got {workers}")
    if pdf:
        pdf_print.find_chromium()  # no Chromium: say so now, not after the whole run
    wanted = list(agreements) if agreements else list_agreements()
    loaded = load_agreements(wanted)
    selections = [select_areas(level, areas, agreement) for agreement in loaded]
    entry_levels = {entry.level for entry in entries if entry.level not in (None, level)}
    if areas and entry_levels:
        say(
            f"--area selects {level} areas: the manifest's entries of level "
            f"{', '.join(sorted(entry_levels))} are not rendered."
        )
    level_selections = {
        entry.level: [select_areas(entry.level, None, agreement) for agreement in loaded]
        for entry in entries
        if entry.level not in (None, level) and not areas
    }
    chosen = list_agreements() + [Path(a) for a in wanted if is_path(a)]
    with _Signals() as signals:
        build = cube_build.build_processed(
            raw, processed, agreements=chosen, rules=rules, codebook=codebook, progress=say,
            workers=workers,
        )  # fmt: skip
        processed = Path(processed).resolve()
        raw_names = _raw_names(codebook)
        version = cube_build.code_version()
        notebook_bytes = {e.notebook: e.notebook.read_bytes() for e in entries}
        # An analysis notebook reads its microdata from the run's raw delivery (not its default).
        takes_raw = {e.notebook: "raw_dir" in notebook_parameters(e.notebook) for e in entries}
        raw_dir = str(Path(raw).resolve())

        runs, tasks = [], []
        for number, (requested, agreement, selection) in enumerate(
            zip(wanted, loaded, selections, strict=True)
        ):
            covered = {}
            for wanted_level in {entry.level or level for entry in entries}:
                if areas and wanted_level != level:
                    continue
                chosen_areas = (
                    selection if wanted_level == level else level_selections[wanted_level][number]
                )
                covered[wanted_level] = _covered_selection(
                    chosen_areas,
                    processed,
                    wanted_level,
                    areas,
                    say,
                    agreement_id=agreement.id if len(loaded) > 1 else "",
                )
            run_dir = Path(out) / agreement.id
            run_dir.mkdir(parents=True, exist_ok=True)
            previous = _read_run_manifest(run_dir)
            results = {}
            # A user's file is passed by its absolute path, a shipped agreement by its id.
            reference = str(Path(requested).resolve()) if is_path(requested) else agreement.id
            for entry in entries:
                # "" (the brief): <slug>.html with its CSV/Excel numbers; else <slug>--<name>.html
                suffix = PAGE_SEPARATOR + entry.name if entry.name else ""
                for row in covered.get(entry.level or level, selection.iloc[:0]).itertuples(
                    index=False
                ):
                    parameters = {
                        "agreement_id": reference,
                        "area_level": row.area_level,
                        "area_code": str(row.area_code),
                        "processed_dir": str(processed),
                        **({"raw_dir": raw_dir} if takes_raw[entry.notebook] else {}),
                        **(extra_parameters or {}),
                        **entry.parameters,
                    }
                    key = _area_key(
                        notebook_bytes[entry.notebook],
                        parameters,
                        build.manifest["cache_key"],
                        version,
                    )
                    page = f"{row.slug}{suffix}"
                    html_path = run_dir / f"{page}.html"
                    result = AreaResult(
                        row.area_level,
                        str(row.area_code),
                        row.area_name,
                        page,
                        "pending",
                        key=key,
                        notebook=entry.notebook.name if suffix else "",
                        parameters=dict(entry.parameters) if suffix else {},
                        label=entry.label if suffix else "",
                    )
                    results[page] = result
                    old = previous.get("areas", {}).get(page, {})
                    if (
                        not force
                        and old.get("key") == key
                        and old.get("status") in ("ok", "skipped")
                        and html_path.exists()
                        and (suffix or all(p.exists() for p in _export_paths(html_path)))
                    ):
                        result.status = "skipped"
                        continue
                    tasks.append(
                        {
                            "slug": f"{agreement.id}/{page}",
                            "notebook": str(entry.notebook),
                            "exports": not suffix,
                            "parameters": parameters,
                            "html": str(html_path),
                            "title": agreement.title,
                            "area_name": row.area_name,
                            "raw_names": raw_names,
                        }
                    )
            runs.append((agreement, run_dir, previous, results))

        total = sum(len(r[3]) for r in runs)
        say(
            f"Briefs: {len(tasks)} to render, {total - len(tasks)} unchanged, {workers} worker(s), "
            f"{len(runs)} aftale(r)."
        )
        if tasks:
            by_slug = {
                f"{agreement.id}/{slug}": result
                for agreement, _, _, results in runs
                for slug, result in results.items()
            }
            try:
                _run_tasks(tasks, by_slug, notebook, workers, say)
            except Interrupted as exc:
                stopped = sum(r.status == "interrupted" for r in by_slug.values())
                say(
                    f"Afbrudt ({exc.signal_name}): arbejderne er stoppet; {stopped} brief(s) blev "
                    "ikke færdige. Det færdige gemmes i manifestet — kør igen for resten. "
                    f"(Interrupted: workers stopped, {stopped} brief(s) not rendered; finished "
                    "ones are recorded, a rerun renders only the rest.)"
                )
        # From here on the run's own files are written; a signal now is raised afterwards.
        signals.defer = True

        elapsed = time.perf_counter() - started
        batches = []
        for agreement, run_dir, previous, results in runs:
            available = {
                path.stem for path in run_dir.glob("*.html") if path.name not in _RUN_PAGES
            } - {r.slug for r in results.values() if r.status == "failed"}
            leaks = []
            # Interrupted: the overview (seconds of work per agreement) is left as it was (the
            # index links it only if there is one); the rerun writes it. The index and the
            # manifest below are always written.
            if signals.received is None:
                leaks = _write_overview(run_dir, processed, agreement, available, build.manifest)
            records = _area_records(results.values(), previous)
            listed = _listed_results(run_dir, records)
            index_text = _index_html(
                agreement,
                listed,
                synthetic=build.manifest.get("synthetic", False),
                pages=_notebook_pages(run_dir, listed, records),
                summary=(run_dir / overview.OVERVIEW_FILE).exists(),
            )
            _write_atomic(
                run_dir / overview.INDEX_FILE,
                html_page(INDEX_TITLE.format(title=agreement.title), index_text),
            )
            manifest = {
                "run": datetime.now(UTC).isoformat(timespec="seconds"),
                "package_version": analyse.__version__,
                "code_version": version,
                "git_commit": _git_commit(),
                "agreement": agreement.id,
                "agreement_title": agreement.title,
                "scope": agreement.scope.name,
                "notebook": notebook.name if notebooks is None else "",
                "notebooks": _manifest_notebooks(notebooks, entries),
                "inputs": build.manifest.get("inputs", {}),
                "data_cache_key": build.manifest["cache_key"],
                "synthetic": build.manifest.get("synthetic", False),
                "rules": build.manifest.get("rules", {}),
                "codebook": build.manifest.get("codebook", {}),
                "weights": [w for w in build.manifest.get("weights", []) if w.get("problems")],
                "parameters": {
                    "level": level,
                    "areas": list(areas or []),
                    "workers": workers,
                    **(extra_parameters or {}),
                },
                "seconds": round(elapsed, 1),
                "areas": records,
            }
            _write_atomic(
                run_dir / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            )
            # Each brief was leak-checked by its worker before it was written (a skipped brief when
            # it was rendered: its key includes the code version, hence the codebook and the
            # check's rules); the run's own files are checked here.
            leaks += _leak_check(
                [run_dir / overview.INDEX_FILE, run_dir / "manifest.json"], names=raw_names
            )
            batches.append(BatchResult(run_dir, list(results.values()), elapsed, leaks=leaks))
        top = Path(out) / overview.INDEX_FILE
        _write_atomic(
            top,
            html_page("Opfølgning på aftalerne — briefs", _overview_html(Path(out))),
        )
        top_leaks = _leak_check([top], names=raw_names)
        if signals.received is None and batches:
            top_leaks += _disclosure_audit(Path(out), processed, say)
        for batch in batches:
            batch.leaks += top_leaks
        if pdf and signals.received is None:
            for batch in batches:
                pages = [
                    batch.out / f"{r.slug}.html" for r in batch.results if r.status != "failed"
                ]
                pages += [p for p in (batch.index, batch.overview) if p.exists()]
                say(f"PDFs: printing {len(pages)} page(s) of {batch.out.name} with Chromium ...")
                try:
                    batch.pdfs = pdf_print.write_pdfs(pages, workers=workers)
                except RuntimeError as exc:
                    batch.pdf_error = str(exc)
        for batch in batches:
            say(f"{batch.out.name}: {batch.summary()}")
    if signals.received is not None:
        raise Interrupted(signals.received)
    return batches


def _area_records(results, previous: dict) -> dict[str, dict]:
    """The manifest's ``areas``: this run's outcomes merged with the previous manifest's.

    Areas not part of this run keep their earlier record; so does an area this run was
    interrupted before (its earlier brief, if any, is still the published one, and a rerun
    renders it when its key differs). An interrupted area without an earlier record is
    recorded as ``"interrupted"``, which a rerun renders.
    """
    earlier = previous.get("areas", {})
    records = {}
    for r in results:
        if r.status == "interrupted" and r.slug in earlier:
            continue
        records[r.slug] = {
            "level": r.area_level,
            "code": r.area_code,
            "name": r.area_name,
            "status": r.status,
            "key": r.key,
            "seconds": round(r.seconds, 2),
            "error": r.error,
            "timings": {k: round(v, 3) for k, v in r.timings.items()},
        }
        if r.notebook:  # another notebook than the brief: what the page was rendered from
            records[r.slug].update(notebook=r.notebook, parameters=r.parameters, label=r.label)
    for slug, record in earlier.items():
        records.setdefault(slug, record)
    return records


def _listed_results(run_dir: Path, records: dict[str, dict]) -> list[AreaResult]:
    """What the folder's index lists: every area of the manifest (this run's and earlier runs')
    whose brief is finished and whose HTML is in the folder, and the areas whose brief failed."""
    listed = []
    for slug, record in records.items():
        status = record.get("status")
        finished = status in ("ok", "skipped") and (run_dir / f"{slug}.html").exists()
        if finished or status == "failed":
            listed.append(
                AreaResult(
                    record.get("level", ""),
                    str(record.get("code", "")),
                    record.get("name", ""),
                    slug,
                    status,
                    key=record.get("key", ""),
                )
            )
    return listed


#: The run's own pages (not briefs) and the index's <title> (its h1 says the same in other
#: words; every page's title and h1 are distinct).
_RUN_PAGES = (overview.INDEX_FILE, overview.OVERVIEW_FILE)
INDEX_TITLE = "{title} — oversigt over områderne"


def _disclosure_audit(out: Path, processed: Path, say) -> list[str]:
    """The disclosure audit (:mod:`analyse.publish.audit`) of what this run published: the
    processed tables and the exports. A failed check or an exposed cell is a finding that
    fails the run like a leak."""
    from analyse.publish import audit

    say("Diskretioneringsrevision ...")
    # The attacker's LP on all relations at once, once per state of the processed tables (its
    # verdict is kept under their checksums: a rerun for some areas reuses it).
    report = audit.audit(out, processed=processed, families=False, attack="auto")
    say(report.text())
    findings = [
        f"disclosure audit: {row.check}: {row.problems} problem(s), e.g. {row.example}"
        for row in report.checks.itertuples()
        if row.problems
    ]
    if report.exposed:
        findings.append(
            f"disclosure audit: {report.exposed} suppressed cell(s) can be narrowed below the "
            "protection width (analyse audit for details)"
        )
    return findings


def _write_overview(run_dir: Path, processed: Path, agreement, available, manifest) -> list:
    """Render the agreement's overview into the run folder (leak-checked); returns the leak
    check's findings (the page is then not written)."""
    body = overview.overview_html(
        processed,
        agreement.path or agreement.id,  # a user's agreement by its file
        available=available,
        synthetic=bool(manifest.get("synthetic", False)),
    )
    page = html_page(overview.overview_title(agreement), body, kind="overview")
    try:
        _write_checked(run_dir / overview.OVERVIEW_FILE, page)
    except LeakError as exc:
        return list(exc.findings)
    return []


def _run_tasks(tasks, results, notebook: Path, workers: int, say) -> None:
    """Render the tasks in ``workers`` worker processes, recording each outcome in ``results``
    (slug -> :class:`AreaResult`) as it arrives.

    On :class:`~analyse.errors.Interrupted` (or any other exception here) the workers are
    stopped within :data:`STOP_GRACE` seconds (SIGTERM, then SIGKILL), the outcomes they sent
    are still recorded, the briefs not finished are marked ``"interrupted"`` and the exception
    is raised again.
    """
    context = mp.get_context("spawn")
    task_queue, result_queue = context.Queue(), context.Queue()
    for task in tasks:
        task_queue.put(task)
    n_workers = min(workers, len(tasks))
    for _ in range(n_workers):
        task_queue.put(None)
    cwd = str(Path.cwd())
    processes = [
        context.Process(
            target=_worker,
            args=(task_queue, result_queue, str(notebook), cwd, os.getpid()),
            daemon=False,
        )
        for _ in range(n_workers)
    ]
    done = 0

    def record(message: dict) -> None:
        nonlocal done
        done += 1
        result = results[message["slug"]]
        result.status = message["status"]
        result.seconds = message["seconds"]
        result.error = message.get("error", "")
        result.timings = message.get("timings", {})
        mark = "ok" if result.status == "ok" else "FEJL"
        name = result.area_name + (f" — {result.label}" if result.label else "")
        say(
            f"[{done:>3}/{len(tasks)}] {result.area_level:<14} {name:<40} {mark} "
            f"{result.seconds:4.1f} s" + (f"  {result.error}" if result.error else "")
        )

    try:
        for process in processes:
            process.start()
        while done < len(tasks):
            try:
                message = result_queue.get(timeout=5)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    break
                continue
            record(message)
    except BaseException:
        # Tasks left in the queue are dropped (its feeder thread must not hold the exit up).
        task_queue.cancel_join_thread()
        _stop_workers(processes, result_queue, record)
        for result in results.values():
            if result.status == "pending":
                result.status = "interrupted"
                result.error = "the run was interrupted before this brief was rendered"
        raise
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
    for result in results.values():
        if result.status == "pending":
            result.status = "failed"
            result.error = "the worker process stopped before rendering this brief"


def _stop_workers(processes, result_queue, record, grace: float = STOP_GRACE) -> None:
    """SIGTERM to every worker (each kills its kernel and exits), SIGKILL to any still alive
    after ``grace`` seconds; outcomes sent meanwhile are recorded."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
        _drain(result_queue, record, timeout=0.05)
    for process in processes:
        if process.is_alive():
            process.kill()
        if process.pid is not None:  # started (the signal may come while they are started)
            process.join(timeout=1)
    _drain(result_queue, record, timeout=0.05)


def _drain(result_queue, record, timeout: float) -> None:
    """Record every outcome waiting in the queue (``timeout``: how long to wait for the first)."""
    while True:
        try:
            record(result_queue.get(timeout=timeout))
        except queue.Empty:
            return
        except (OSError, EOFError, ValueError):  # a worker killed while it was sending
            return
        timeout = 0.0


def _read_run_manifest(run_dir: Path) -> dict:
    path = run_dir / "manifest.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def _raw_names(codebook: str | Path | None = None) -> list[str]:
    """The raw variable names of the codebook (and the names its ``rename:`` maps from) that
    the leak check looks for; names shorter than 4 letters are too common in text."""
    from analyse.data.codebook import load_codebook

    book = load_codebook(codebook)
    return sorted({n for n in [*book.variables, *book.rename] if len(n) >= 4})


def _leak_check(paths, *, raw_names: bool = True, names: list[str] | None = None) -> list:
    """Leak-check findings in files or folders: respondent ids and respondent-level tables,
    and (``raw_names``) the codebook's raw variable names followed by a value (``names``,
    default the shipped codebook's: :func:`_raw_names`)."""
    if not raw_names:
        names = []
    elif names is None:
        names = _raw_names()
    return check_outputs(paths, raw_variable_names=names)


def _overview_html(out: Path) -> str:
    """The top-level index: one entry per agreement rendered under ``out`` (from the run
    manifests of its folders), with the scope, the number of briefs and a link."""
    entries = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        manifest = _read_run_manifest(folder)
        if not manifest or not (folder / "index.html").exists():
            continue
        records = manifest.get("areas", {})
        # Pages of other notebooks (<slug>--<name>) are counted apart from the briefs.
        areas = [a for slug, a in records.items() if PAGE_SEPARATOR not in slug]
        analyses = sum(
            a.get("status") in ("ok", "skipped") for s, a in records.items() if PAGE_SEPARATOR in s
        )
        ok = sum(a.get("status") in ("ok", "skipped") for a in areas)
        failed = sum(a.get("status") == "failed" for a in records.values())
        title = html.escape(manifest.get("agreement_title", folder.name))
        scope = html.escape(manifest.get("scope", ""))
        count = f"{ok} brief{'' if ok == 1 else 's'}"
        count += f", {analyses} analyse{'' if analyses == 1 else 'r'}" if analyses else ""
        count += f", {failed} fejlede" if failed else ""
        summary = (
            f' (<a href="{html.escape(folder.name)}/{overview.OVERVIEW_FILE}">overblik</a>)'
            if (folder / overview.OVERVIEW_FILE).exists()
            else ""
        )
        entries.append(
            f'<li><a href="{html.escape(folder.name)}/index.html">{title}</a>'
            f"{' — ' + scope if scope else ''} ({count}){summary}</li>"
        )
    synthetic = any(_read_run_manifest(p).get("synthetic") for p in out.iterdir() if p.is_dir())
    parts = ["<h1>Opfølgning på aftalerne</h1>"]
    if synthetic:
        parts.append('<p class="synthetic">Syntetiske data — tallene er ikke rigtige.</p>')
    parts.append("<ul>" + "".join(entries) + "</ul>" if entries else "<p>Ingen briefs endnu.</p>")
    return "\n".join(parts)


def _covered_selection(
    selection: pd.DataFrame, processed: Path, level, areas, say, *, agreement_id: str = ""
) -> pd.DataFrame:
    """The selected areas the delivery covers; refuses areas asked for by name or level that it
    does not cover (a land brief from a regional delivery). With ``agreement_id`` (a run of
    several agreements), an agreement whose scope the delivery does not cover gets no briefs
    instead of stopping the others."""
    from analyse.cube import coverage

    path = cube_build.table_path(processed, "coverage")
    if not path.exists():
        return selection
    table = pd.read_parquet(path)
    covered = [
        coverage.is_covered(table, row.area_level, row.area_code)
        for row in selection.itertuples(index=False)
    ]
    missing = selection[[not c for c in covered]]
    if missing.empty:
        return selection
    if areas or level == "land":
        first = missing.iloc[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ParameterError(
            "no brief: "
            + coverage.uncovered_message(table, first["area_level"], first["area_code"])
            + more
        )
    counts = missing.groupby("area_level", sort=False).size()
    say(
        "Not covered by the delivery, so no brief: "
        + ", ".join(f"{n} {lv}" for lv, n in counts.items())
        + " (see `analyse check`)."
    )
    kept = selection[covered].reset_index(drop=True)
    if kept.empty and agreement_id:
        say(f"{agreement_id}: the delivery covers none of its areas, so no briefs.")
        return kept
    if kept.empty:
        raise ParameterError(
            f"the delivery covers no {level} area: "
            + coverage.uncovered_message(
                table, missing.iloc[0]["area_level"], missing.iloc[0]["area_code"]
            )
        )
    return kept


def _index_html(
    agreement, results, *, synthetic: bool, pages: dict | None = None, summary: bool = True
) -> str:
    """Links to all briefs, grouped: Denmark, then per region its region, klynger and kommuner
    (each in Danish alphabetical order: æ, ø, å and aa last)."""
    by_slug = {r.slug: r for r in results}
    areas = geography.all_areas()
    regions = geography.areas("region")
    status_text = {"ok": "", "skipped": "", "failed": " (fejlede)"}

    def link(row) -> str:
        r = by_slug.get(row.slug)
        extra = _page_links(row.slug, pages or {})
        name = html.escape(row.area_name)
        if r is None:
            return f"<li>{name}{extra}</li>" if extra else ""
        if r.status == "failed":
            return f'<li class="failed">{name}{status_text["failed"]}</li>'
        return f'<li><a href="{row.slug}.html">{name}</a>{extra}</li>'

    scope = html.escape(agreement.scope.name)
    parts = ['<a class="skip-link" href="#omraader">Gå til listen over områder</a>']
    if synthetic:
        parts.append('<p class="synthetic">Syntetiske data — tallene er ikke rigtige.</p>')
    parts += [
        f"<h1>{html.escape(agreement.title)}: briefs for alle områder</h1>",
        f"<p>{html.escape(agreement.parties)}. Aftalen gælder {scope}, "
        f"{agreement.period_start}–{agreement.period_end}. Vælg et område.</p>",
    ]
    if summary:  # the overview page (not yet written when the first run was interrupted)
        parts.append(
            f'<p class="summary"><a href="{overview.OVERVIEW_FILE}">Overblik over alle områder i '
            f"{scope}</a>: status og seneste tal for hver indikator på én side.</p>"
        )
    parts += [
        f'<nav class="links" aria-label="Links"><ul><li><a href="../{overview.INDEX_FILE}">'
        "Alle aftaler</a></li></ul></nav>",
    ]
    sections, nav = [], []
    land = [link(r) for r in areas[areas["area_level"] == "land"].itertuples()]
    if any(land):
        nav.append('<li><a href="#hele-landet">Hele landet</a></li>')
        sections.append('<h2 id="hele-landet">Hele landet</h2><ul>' + "".join(land) + "</ul>")
    for region in regions.itertuples():
        rows = areas[
            (areas["region_code"] == int(region.area_code)) & (areas["area_level"] != "land")
        ]
        items = {
            lv: [
                link(r)
                for r in sorted(
                    rows[rows["area_level"] == lv].itertuples(),
                    key=lambda r: report.danish_sort_key(r.area_name),
                )
            ]
            for lv in ("region", "sundhedsklynge", "kommune")
        }
        if not any(any(v) for v in items.values()):
            continue
        anchor = f"region-{region.area_code}"
        nav.append(f'<li><a href="#{anchor}">{html.escape(region.area_name)}</a></li>')
        sections.append(f'<h2 id="{anchor}">{html.escape(region.area_name)}</h2>')
        for lv, heading in (
            ("region", "Regionen"),
            ("sundhedsklynge", "Sundhedsklynger"),
            ("kommune", "Kommuner"),
        ):
            if any(items[lv]):
                sections.append(f"<h3>{heading}</h3><ul>" + "".join(items[lv]) + "</ul>")
    parts.append(
        '<nav class="toc" id="omraader" aria-label="Områder"><ul class="inline">'
        + "".join(nav)
        + "</ul></nav>"
    )
    return "\n".join(parts + sections)


# ----------------------------------------------------------------------------------------------
# Other notebooks than the brief (`analyse briefs --notebook notebooks/maal_alkohol.ipynb`)
# ----------------------------------------------------------------------------------------------

#: Separates an area's slug from the notebook's name in the page of another notebook than the
#: brief: ``odense-kommune--maal_alkohol.html``.
PAGE_SEPARATOR = "--"
INTERNAL_PARAMETER = "internal"


@dataclass(frozen=True)
class NotebookEntry:
    """One notebook the batch renders per area, with its own parameters (a line of a notebook
    manifest, :mod:`analyse.run.notebook_manifest`; or ``--notebook`` alone)."""

    notebook: Path
    parameters: dict = field(default_factory=dict)
    #: Only this level's areas (None: the run's ``level``).
    level: str | None = None
    #: The page is ``<slug>--<name>.html``; ``""``: the brief (``<slug>.html`` with its numbers).
    name: str = ""
    #: The index's link text (Danish).
    label: str = ""
    #: Where it came from, for messages: ``"manifest.yml, entry 2"``.
    source: str = ""


def page_suffix(notebook: Path) -> str:
    """``""`` for the brief notebook (``<slug>.html``), else ``"--<notebook stem>"``."""
    return "" if notebook.name == DEFAULT_NOTEBOOK.name else PAGE_SEPARATOR + notebook.stem


def notebook_parameters(notebook: Path) -> dict:
    """Name -> default of every parameter in a notebook's parameters cell (a default that is
    not a literal, e.g. a call, is given as None)."""
    import ast

    nb = nbformat.read(notebook, as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            for node in ast.parse(cell.source).body:
                targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
                for target in targets:
                    if getattr(target, "id", None) is None:
                        continue
                    try:
                        found[target.id] = ast.literal_eval(node.value) if node.value else None
                    except ValueError:
                        found[target.id] = None
    return found


def notebook_parameter(notebook: Path, name: str):
    """The default of one parameter in a notebook's parameters cell (None if absent)."""
    return notebook_parameters(notebook).get(name)


def notebook_title(notebook: Path) -> str:
    """The first markdown heading of a notebook (its file stem if it has none)."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.stem


def _notebook_entries(
    notebook: Path, suffix: str | None, notebooks: str | Path | Sequence[NotebookEntry] | None
) -> list[NotebookEntry]:
    """The notebooks of a run: the manifest's entries (loaded and checked if a path), else the
    one ``notebook`` (the brief, or another one as ``<slug><suffix>.html``)."""
    if notebooks is not None:
        if isinstance(notebooks, str | Path):
            from analyse.run.notebook_manifest import load_manifest

            return load_manifest(notebooks)
        entries = list(notebooks)
        if not entries:
            raise ParameterError("the notebook manifest has no entries")
        return entries
    if not notebook.exists():
        raise ParameterError(f"notebook {notebook} not found; run from the project folder")
    name = (suffix or "").removeprefix(PAGE_SEPARATOR)
    label = notebook_title(notebook) if name else ""
    return [NotebookEntry(notebook, {}, None, name, label)]


def _manifest_notebooks(notebooks, entries: list[NotebookEntry]) -> list[dict]:
    """The run manifest's record of a notebook manifest's entries ([] for one notebook)."""
    if notebooks is None:
        return []
    return [
        {
            "notebook": str(e.notebook),
            "parameters": e.parameters,
            "level": e.level,
            "name": e.name,
            "label": e.label,
            "source": e.source,
        }
        for e in entries
    ]


#: Breakdowns the published tables hold, and so the linked protection covers (sex × age for
#: regions and Denmark only: ``analyse.cube.estimates.PUBLISHED_LEVELS``).
PUBLISHED_BREAKDOWNS = ("total", "sex", "age_group", "education", "labour_market")
SEX_AGE_LEVELS = ("land", "region")


def check_publishable(
    notebook: Path, extra_parameters: dict | None = None, level: str | None = None
) -> None:
    """Refuse a notebook page the batch may not publish: parameters that turn suppression off
    (``internal = True``, by default or in ``extra_parameters``: for work inside the unit only),
    or a breakdown the published tables do not hold (a crossed one such as ``"sex,education"``,
    or sex × age below the regions, for ``level``): it is estimated from the microdata, and the
    linked protection over all published relations (docs/methods.md §6) does not cover it.

    Raises
    ------
    ParameterError
        Naming the notebook and the parameter.
    """
    parameters = {**notebook_parameters(notebook), **(extra_parameters or {})}
    if bool(parameters.get(INTERNAL_PARAMETER, False)):
        raise ParameterError(
            f"{notebook.name}: {INTERNAL_PARAMETER} = True turns the suppression of small cells "
            "off (Kun til intern brug — må ikke offentliggøres); the batch does not render it. "
            f"Set {INTERNAL_PARAMETER} = False in its parameters cell."
        )
    breakdown = parameters.get("breakdown")
    if not isinstance(breakdown, str):
        return
    crossed = "," in breakdown
    low_sex_age = breakdown == "sex_age" and level is not None and level not in SEX_AGE_LEVELS
    if crossed or low_sex_age:
        where = (
            "" if crossed else f" for the {level} level" if level != "all" else " for all levels"
        )
        raise ParameterError(
            f"{notebook.name}: breakdown = {breakdown!r}{where} is estimated from the microdata; "
            "the linked protection of the published tables (docs/methods.md §6) does not cover "
            "it, so the batch does not publish it. Use it in JupyterLab inside the unit, or "
            f"render a breakdown of the published tables: {', '.join(PUBLISHED_BREAKDOWNS)} "
            f"(sex_age for {' and '.join(SEX_AGE_LEVELS)})."
        )


def _notebook_pages(
    run_dir: Path, results, records: dict | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Area slug -> (name, link text) of the other notebooks rendered for it (pages in the run
    folder); the link text is the page's label in the run manifest's ``records``, else the
    name."""
    failed = {r.slug for r in results if r.status == "failed"}
    pages: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(run_dir.glob(f"*{PAGE_SEPARATOR}*.html")):
        if path.stem in failed:
            continue
        slug, _, name = path.stem.partition(PAGE_SEPARATOR)
        label = (records or {}).get(path.stem, {}).get("label") or name
        pages.setdefault(slug, []).append((name, label))
    return pages


def _page_links(slug: str, pages: dict[str, list[tuple[str, str]]]) -> str:
    names = pages.get(slug, [])
    if not names:
        return ""
    links = ", ".join(
        f'<a href="{html.escape(slug + PAGE_SEPARATOR + n)}.html">{html.escape(label)}</a>'
        for n, label in names
    )
    return f" (analyser: {links})"
