"""Benchmark: rendering the HTML briefs — every agreement's, one cold, one warm, and the CLI way.

What is measured (DESIGN.md §6, issue 9 part 6), on the full synthetic default written to a
temporary raw folder, with temporary processed and reports folders (all removed at the end):

a. ``analyse.cube.build.build_processed``: the processed data (cube, trends, inequality, register)
   built from scratch for every shipped agreement (the union of their indicators, once), with its
   own step timings, and the reuse check of an unchanged build; for comparison the same build for
   Region Syddanmark's agreement alone (what the build cost before the other agreements).
b. One brief cold and one warm: ``analyse.run.batch.run_briefs(level="kommune",
   areas=["461", "147"], workers=1)``. The first brief in the fresh worker pays for the kernel
   start and warm-up imports; the second reuses the warm kernel (namespace reset). Per-area
   timings (kernel, execute, export, export_files = the CSV/Excel numbers) come from
   ``<out>/<agreement>/manifest.json``.
c. Every shipped agreement's briefs (each agreement's scope: 27 + 5 + 7 + 1 + 23 = 63) with
   ``workers=2``, ``force=True`` in one run (``run_agreements``): wall time, seconds per brief
   and the median split kernel/execute/export; then Region Syddanmark's agreement alone (its
   27 briefs; before scopes it rendered 126 areas in ≈ 105 s).
d. A rerun with nothing changed: every brief skipped, the processed data reused.
e. For comparison, one brief the command-line way an epidemiologist may use: ``papermill
   notebooks/brief.ipynb out.ipynb -p area_level kommune -p area_code 461 -p processed_dir …``
   followed by ``jupyter nbconvert --to html --no-input out.ipynb`` (a fresh interpreter and a
   fresh kernel per brief), plus the bare start-up of each command (``--help``).

Targets (issue 17): all shipped agreements' briefs in ≤ 3 minutes wall time on 2 cores, and the
Syddanmark set alone no slower than before (≈ 105 s). Figures are printed; nothing is asserted.

Run from the project folder (takes several minutes; ``--quick`` renders only Herning's and
Horsensklyngen's briefs in step c and extrapolates to all agreements)::

    .venv/bin/python bench/bench_briefs.py
    .venv/bin/python bench/bench_briefs.py --quick
"""

from __future__ import annotations

import os

# As the CLI: one BLAS thread (many small model fits). Set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from analyse.cube import build as cube_build  # noqa: E402
from analyse.reference import catalogue, geography  # noqa: E402
from analyse.run import batch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = Path("notebooks/brief.ipynb")
AGREEMENT = "syddanmark-2024-2027"
TARGET_SECONDS = 180.0
#: Region Syddanmark's briefs before scopes: 126 areas in ≈ 105 s (README, issue 9).
SYDDANMARK_BEFORE_SECONDS = 105.0
WORKERS = 2
BIN = Path(sys.executable).parent


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def run_cli(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(
            f"  ! {' '.join(command[:2])} failed ({done.returncode}): "
            f"{done.stderr.strip().splitlines()[-1:]}"
        )
    return seconds


def area_timings(out: Path) -> dict[str, dict]:
    manifest = json.loads((out / AGREEMENT / "manifest.json").read_text(encoding="utf-8"))
    return manifest["areas"]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def children_peak_gb() -> float:
    kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return kb / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="step c renders only land and the 5 regions (extrapolated to all)",
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help="workers for step c")
    args = parser.parse_args()

    os.chdir(ROOT)  # the notebook path and the kernel's working folder
    all_areas = geography.all_areas()
    print(
        f"bench_briefs: {os.cpu_count()} CPU(s), {len(all_areas)} areas, "
        f"notebook {NOTEBOOK}, {'QUICK' if args.quick else 'all areas'}"
    )
    version = cube_build.code_version()
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-briefs-"))
    figures: list[tuple[str, str]] = []
    try:
        raw, processed = tmp / "raw", tmp / "processed"
        code = f"from analyse.data import synth; synth.write_delivery({str(raw)!r}, fmt='parquet')"
        _, seconds = timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))
        print(f"synthetic default written: {seconds:.1f} s")

        # a. The processed data.
        build, build_seconds = timed(lambda: cube_build.build_processed(raw, processed))
        steps = ", ".join(f"{k} {v:.1f}" for k, v in build.timings.items())
        print(f"a. build_processed: {build_seconds:.1f} s ({steps})")
        again, reuse_seconds = timed(lambda: cube_build.build_processed(raw, processed))
        print(f"   unchanged rebuild: reused={again.reused}, {reuse_seconds:.2f} s")
        n_indicators = len(build.manifest["indicators"])
        alone, alone_seconds = timed(
            lambda: cube_build.build_processed(raw, tmp / "processed-syd", agreements=[AGREEMENT])
        )
        print(
            f"   the same for {AGREEMENT} alone: {alone_seconds:.1f} s "
            f"({len(alone.manifest['indicators'])} indicators vs {n_indicators} for all)"
        )
        figures += [
            (
                f"build, all {len(build.manifest['agreements'])} agreements "
                f"({n_indicators} indicators, once)",
                f"{build_seconds:.1f} s",
            ),
            (f"build, {AGREEMENT} alone", f"{alone_seconds:.1f} s"),
            ("reuse check, unchanged inputs", f"{reuse_seconds:.2f} s"),
        ]

        # b. One brief cold, one warm (same worker).
        out_b = tmp / "reports-one"
        result_b, seconds_b = timed(
            lambda: batch.run_briefs(
                agreement_id=AGREEMENT,
                level="kommune",
                areas=["461", "147"],
                workers=1,
                out=out_b,
                processed=processed,
                raw=raw,
                notebook=NOTEBOOK,
                force=True,
                progress=None,
            )
        )
        per_area = area_timings(out_b)
        order = [r.slug for r in result_b.results]  # render order = selection order (1 worker)
        for r in result_b.failed:
            print(f"   ! failed {r.area_code}: {r.error}")
        for label, slug in zip(("cold", "warm"), order, strict=False):
            t = per_area[slug]["timings"]
            total = per_area[slug]["seconds"]
            print(
                f"b. one brief {label} ({slug}): {total:.2f} s = kernel {t.get('kernel', 0):.2f}"
                f" + execute {t.get('execute', 0):.2f} + export {t.get('export', 0):.2f}"
            )
            figures.append(
                (
                    f"one brief, {label} (kernel/execute/export)",
                    f"{total:.2f} s ({t.get('kernel', 0):.2f} / {t.get('execute', 0):.2f}"
                    f" / {t.get('export', 0):.2f})",
                )
            )
        print(
            f"   run_briefs wall time for the two (incl. worker spawn, reuse check, index, "
            f"leak check): {seconds_b:.1f} s"
        )
        figures.append(("two briefs, 1 worker, run_briefs wall", f"{seconds_b:.1f} s"))

        # c. Every agreement's briefs in one run, then Region Syddanmark's alone; 2 workers.
        out_c = tmp / "reports"
        chosen = ["herning-sundhedspolitik", "horsensklyngen-pejlemaerker"] if args.quick else None
        every = catalogue.list_agreements()
        n_all = sum(
            len(batch.select_areas("all", None, catalogue.load_agreement(a))) for a in every
        )
        print(
            f"c. rendering {'a sample of ' if args.quick else ''}{n_all} briefs, {args.workers} workers ..."
        )
        results_c, seconds_c = timed(
            lambda: batch.run_agreements(
                chosen,
                workers=args.workers,
                out=out_c,
                processed=processed,
                raw=raw,
                notebook=NOTEBOOK,
                force=True,
                progress=None,
            )
        )
        results = [r for run in results_c for r in run.results]
        n_c = len(results)
        ok = [r for r in results if r.status == "ok"]
        for run in results_c:
            for r in run.failed:
                print(f"   ! failed {run.out.name} {r.area_level} {r.area_code}: {r.error}")
        for run in results_c:
            print(f"   {run.out.name}: {len(run.results)} briefs")
        split = {
            k: median([r.timings.get(k, float("nan")) for r in ok])
            for k in ("kernel", "execute", "export", "export_files")
        }
        per_brief = median([r.seconds for r in ok])
        print(
            f"   {len(ok)}/{n_c} ok in {seconds_c:.1f} s wall; median brief {per_brief:.2f} s "
            f"= kernel {split['kernel']:.2f} + execute {split['execute']:.2f} + export "
            f"{split['export']:.2f} + CSV/Excel {split['export_files']:.2f}; slowest {max((r.seconds for r in ok), default=0):.2f} s"
        )
        shares = {k: sum(r.timings.get(k, 0) for r in ok) for k in split}
        busy = sum(shares.values()) or 1.0
        print(
            "   share of worker time: "
            + ", ".join(f"{k} {100 * v / busy:.0f} %" for k, v in shares.items())
        )
        figures.append(
            (
                f"{n_c} briefs of {len(results_c)} agreements, {args.workers} workers, wall",
                f"{seconds_c:.1f} s",
            )
        )
        figures.append(
            (
                "median brief (kernel/execute/export/CSV+Excel)",
                f"{per_brief:.2f} s ({split['kernel']:.2f} / {split['execute']:.2f} / "
                f"{split['export']:.2f} / {split['export_files']:.2f})",
            )
        )
        if args.quick:
            all_seconds = seconds_c / max(n_c, 1) * n_all
            print(f"   EXTRAPOLATED to all {n_all} briefs: ≈ {all_seconds:.0f} s")
            figures.append((f"all {n_all} briefs (extrapolated)", f"≈ {all_seconds:.0f} s"))
        else:
            all_seconds = seconds_c
        [syd], syd_seconds = timed(
            lambda: batch.run_agreements(
                [AGREEMENT],
                workers=args.workers,
                out=tmp / "reports-syd",
                processed=processed,
                raw=raw,
                notebook=NOTEBOOK,
                force=True,
                progress=None,
            )
        )
        print(
            f"   {AGREEMENT} alone: {len(syd.results)} briefs ({len(syd.failed)} failed) in "
            f"{syd_seconds:.1f} s wall (before scopes: 126 briefs in ≈ "
            f"{SYDDANMARK_BEFORE_SECONDS:.0f} s)"
        )
        figures.append(
            (f"{AGREEMENT} alone, {len(syd.results)} briefs, wall", f"{syd_seconds:.1f} s")
        )
        level, codes = "all", None

        # d. Rerun with nothing changed.
        results_d, seconds_d = timed(
            lambda: batch.run_agreements(
                chosen,
                level=level,
                areas=codes,
                workers=args.workers,
                out=out_c,
                processed=processed,
                raw=raw,
                notebook=NOTEBOOK,
                progress=None,
            )
        )
        rerun = [r for run in results_d for r in run.results]
        skipped = sum(r.status == "skipped" for r in rerun)
        print(f"d. rerun unchanged: {skipped}/{len(rerun)} skipped in {seconds_d:.1f} s")
        if cube_build.code_version() != version:
            print(
                "   ! the package code changed during this run (someone edited src/analyse): "
                "the cache key changed, so the rerun rebuilt and re-rendered; rerun the bench"
            )
        figures.append(("rerun, nothing changed", f"{seconds_d:.1f} s ({skipped} skipped)"))

        # e. The command-line way: papermill, then nbconvert, fresh interpreter and kernel each.
        cli = tmp / "cli"
        cli.mkdir()
        out_nb = cli / "out.ipynb"
        papermill = run_cli(
            [
                str(BIN / "papermill"),
                str(NOTEBOOK),
                str(out_nb),
                "-p",
                "area_level",
                "kommune",
                "-p",
                "area_code",
                "461",
                "-p",
                "processed_dir",
                str(processed),
            ],
            ROOT,
        )
        nbconvert = run_cli(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out_nb)], cli
        )
        papermill_start = run_cli([str(BIN / "papermill"), "--help"], ROOT)
        nbconvert_start = run_cli([str(BIN / "jupyter"), "nbconvert", "--help"], ROOT)
        cli_total = papermill + nbconvert
        print(
            f"e. papermill CLI {papermill:.1f} s + jupyter nbconvert CLI {nbconvert:.1f} s = "
            f"{cli_total:.1f} s per brief (start-up alone: papermill --help "
            f"{papermill_start:.1f} s, nbconvert --help {nbconvert_start:.1f} s)"
        )
        figures.append(
            (
                "one brief via papermill + nbconvert CLI",
                f"{cli_total:.1f} s ({papermill:.1f} + {nbconvert:.1f})",
            )
        )
        figures.append(
            (
                "CLI start-up alone (papermill / nbconvert --help)",
                f"{papermill_start:.1f} / {nbconvert_start:.1f} s",
            )
        )
        cli_all = cli_total * n_all / args.workers
        figures.append(
            (
                f"all {n_all} briefs the CLI way on {args.workers} cores (est.)",
                f"≈ {cli_all:.0f} s",
            )
        )

        print()
        print("Summary")
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"  {name:<{width}}  {value}")
        print(
            f"  {'peak RSS of any child (worker/kernel/CLI)':<{width}}  {children_peak_gb():.2f} GB"
        )
        if per_brief == per_brief and cli_total:  # not NaN
            print(
                f"  {'warm-kernel brief vs CLI brief':<{width}}  {cli_total / per_brief:.1f}× "
                "faster"
            )
        print(
            f"  {'load average (1 min) at start / end':<{width}}  {load_start:.1f} / "
            f"{os.getloadavg()[0]:.1f}  (this run keeps ≈ 2 busy; well above = other work competed)"
        )
        print()
        label = "extrapolated" if args.quick else "measured"
        print(
            f"Target: all shipped agreements' {n_all} briefs ≤ {TARGET_SECONDS:.0f} s on 2 cores: "
            f"{all_seconds:.0f} s ({label}, {args.workers} workers) — "
            f"{'met' if all_seconds <= TARGET_SECONDS else 'NOT MET'}"
        )
        print(
            f"Target: {AGREEMENT} alone no slower than before (≈ {SYDDANMARK_BEFORE_SECONDS:.0f} s):"
            f" {syd_seconds:.0f} s — "
            f"{'met' if syd_seconds <= SYDDANMARK_BEFORE_SECONDS else 'NOT MET'}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
