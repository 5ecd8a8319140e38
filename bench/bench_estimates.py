"""Benchmark: the estimates cube against cell-by-cell estimation with a general survey engine.

What is measured (DESIGN.md §6, issue 5 part 6), on the full synthetic default (all waves,
98 kommuner, ≈565,000 respondents):

1. ``analyse.cube.estimates.build(respondents, agreement)``: the whole cube (every survey indicator ×
   wave × area × breakdown, with SEs, comparisons and suppression). Printed: rows, seconds,
   seconds per cell.
2. The baseline, in the same run: the cells of ONE region (Region Syddanmark, 1083: its
   kommuner, its sundhedsklynger and the region itself; every survey indicator × wave ×
   breakdown × group) computed one cell at a time, the way a user of a general-purpose survey
   package does it: mark the cell's domain (area × wave × indicator population × group) in a
   boolean column and call ``analyse.stats.survey.proportion(data, variable, design, by=that column)``
   on the WHOLE design (domain estimation, never a subset design). ``samplics`` / ``svy`` are
   not dependencies of the project, so the project's own general linearisation engine (checked
   against R's ``survey``) stands in for them; it is itself vectorised, so the baseline is a
   lower bound of what a slower package costs. The baseline computes only estimate, SE and CI;
   the cube also computes the comparisons with the rest of the region and of Denmark.
   The whole region takes ≈ 1 hour cell by cell, so by default a seeded random sample of
   ``--cells`` cells is timed and the region's time extrapolated (printed as such); ``--cells 0``
   runs every cell of the region. The sampled cells are also checked against the cube.
3. The other heavy pipeline steps: ``analyse.cube.trends.trends_for_cube``,
   ``analyse.cube.inequality.inequality_for_cube`` and ``gap_change_for_cube``.
4. Peak memory: ``ru_maxrss`` of this process (the delivery is generated in a child process so
   that the generator's memory does not count) and the tracemalloc peak of one extra cube build.

Targets (DESIGN.md §6): cube ≤ 20 s on 2 cores, ≥ 20× faster per cell than the cell-by-cell
baseline, peak memory ≤ 3 GB. Figures are printed; nothing is asserted.

Run from the project folder::

    .venv/bin/python bench/bench_estimates.py                 # ≈ 2–3 minutes
    .venv/bin/python bench/bench_estimates.py --cells 200     # quicker baseline sample
    .venv/bin/python bench/bench_estimates.py --raw data/raw  # reuse an existing delivery
"""

from __future__ import annotations

import os

# Many small matrix products: one BLAS thread, as the CLI does. Must be set before numpy loads.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analyse.cube import (  # noqa: E402
    estimates,  # noqa: E402
    inequality,
    trends,
)
from analyse.data import clean  # noqa: E402
from analyse.reference import geography  # noqa: E402
from analyse.reference.catalogue import load_agreement  # noqa: E402
from analyse.stats import survey  # noqa: E402

REGION = "1083"  # Region Syddanmark
TARGET_CUBE_SECONDS = 20.0
TARGET_RATIO = 20.0
TARGET_MEMORY_GB = 3.0
DESIGN = survey.Design(weight="weight", strata="stratum")


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kb /= 1024
    return kb / 1024**2


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def write_delivery_in_child(raw: Path) -> float:
    """Generate the synthetic default in a child process (its memory is not ours)."""
    start = time.perf_counter()
    code = f"from analyse.data import synth; synth.write_delivery({str(raw)!r}, fmt='parquet')"
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def region_areas(region: str) -> list[tuple[str, str, np.ndarray]]:
    """(level, code, member kommune codes) for the region, its klynger and its kommuner."""
    out = [("region", region, np.array(geography.members("region", region)))]
    for level in ("sundhedsklynge", "kommune"):
        table = geography.areas(level)
        for code in table.loc[table["region_code"].astype(str) == region, "area_code"]:
            out.append((level, str(code), np.array(geography.members(level, code))))
    return out


def group_columns(respondents: pd.DataFrame) -> dict[str, np.ndarray]:
    """The label of every respondent per breakdown, as a user would have them as columns."""

    def text(column: str) -> pd.Series:
        series = respondents[column]
        return series.astype(str).where(series.notna(), None)

    sex, age = text("sex"), text("age_group")
    sex_age = (sex + estimates.CROSS_SEPARATOR + age).where(sex.notna() & age.notna(), None)
    return {
        "sex": sex.to_numpy(dtype=object),
        "age_group": age.to_numpy(dtype=object),
        "sex_age": sex_age.to_numpy(dtype=object),
        "education": text("education").to_numpy(dtype=object),
        "labour_market": text("labour_market").to_numpy(dtype=object),
    }


def baseline(
    respondents: pd.DataFrame, cube: pd.DataFrame, agreement, n_cells: int, seed: int
) -> dict:
    """Time the region's cells one by one with ``survey.proportion`` (all or a seeded sample)."""
    areas = region_areas(REGION)
    keys = pd.DataFrame([(lv, code) for lv, code, _ in areas], columns=["area_level", "area_code"])
    cells = cube.merge(keys, on=["area_level", "area_code"])
    total_cells = len(cells)
    sampled = 0 < n_cells < total_cells
    if sampled:
        cells = cells.sample(n=n_cells, random_state=seed)
    members = {(lv, code): kommuner for lv, code, kommuner in areas}
    indicators = {ind.id: ind for ind in agreement.indicators_by_source("survey")}

    # What a user has at hand before the loop: the data, the label columns, arrays to compare.
    labels = group_columns(respondents)
    kommune = respondents["kommune_code"].to_numpy()
    year = respondents["year"].to_numpy()
    age = respondents["age"].to_numpy(float)
    sex = respondents["sex"].astype(object).to_numpy()
    variables = sorted({ind.variable for ind in indicators.values()})
    work = respondents[["weight", "stratum", *variables]].copy()

    estimate_diff, se_diff, compared = 0.0, 0.0, 0
    start = time.perf_counter()
    for cell in cells.itertuples(index=False):
        indicator = indicators[cell.indicator]
        mask = np.isin(kommune, members[(cell.area_level, cell.area_code)]) & (year == cell.year)
        mask &= estimates._population_mask(indicator, age, sex)
        if cell.breakdown != "total":
            mask &= labels[cell.breakdown] == cell.group
        work["cell"] = mask
        result = survey.proportion(work, indicator.variable, DESIGN, by="cell")
        row = result[result["cell"]]
        if not row.empty and pd.notna(cell.estimate):
            estimate_diff = max(estimate_diff, abs(float(row["estimate"].iloc[0]) - cell.estimate))
            se_diff = max(se_diff, abs(float(row["se"].iloc[0]) - cell.se))
            compared += 1
    seconds = time.perf_counter() - start
    return {
        "region_cells": total_cells,
        "timed_cells": len(cells),
        "sampled": sampled,
        "seconds": seconds,
        "per_cell": seconds / max(len(cells), 1),
        "compared": compared,
        "estimate_diff": estimate_diff,
        "se_diff": se_diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, help="use this raw delivery instead of generating one")
    parser.add_argument(
        "--cells",
        type=int,
        default=600,
        help="cells of the region to time one by one (seeded sample; 0 = all, ≈ 1 hour)",
    )
    parser.add_argument("--seed", type=int, default=20250601, help="seed of the cell sample")
    parser.add_argument("--no-steps", action="store_true", help="skip trends and inequality")
    args = parser.parse_args()

    print(
        f"bench_estimates: {os.cpu_count()} CPU(s), OPENBLAS_NUM_THREADS="
        f"{os.environ['OPENBLAS_NUM_THREADS']}"
    )
    tmp = None
    try:
        if args.raw is None:
            tmp = Path(tempfile.mkdtemp(prefix="bench-estimates-"))
            raw = tmp / "raw"
            seconds = write_delivery_in_child(raw)
            print(f"synthetic default written (child process): {seconds:.1f} s")
        else:
            raw = args.raw

        agreement = load_agreement()
        start = time.perf_counter()
        respondents, _ = clean.load_survey(raw)
        load_seconds = time.perf_counter() - start
        print(
            f"load_survey: {len(respondents):,} respondents, {load_seconds:.1f} s, "
            f"peak RSS so far {peak_rss_gb():.2f} GB"
        )

        # 1. The cube.
        start = time.perf_counter()
        cube = estimates.build(respondents, agreement)
        cube_seconds = time.perf_counter() - start
        cube_rss = peak_rss_gb()
        cube_per_cell = cube_seconds / len(cube)
        print(
            f"cube: {len(cube):,} cells in {cube_seconds:.2f} s "
            f"({cube_per_cell * 1e6:.1f} µs per cell), peak RSS {cube_rss:.2f} GB"
        )
        tracemalloc.start()
        estimates.build(respondents, agreement)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"cube: tracemalloc peak of one build {traced_peak / 1024**3:.2f} GB "
            "(allocations during the build only)"
        )

        # 2. The cell-by-cell baseline for one region.
        print(
            f"baseline: region {REGION} cell by cell with survey.proportion(by=<cell column>) "
            "on the whole design ..."
        )
        base = baseline(respondents, cube, agreement, args.cells, args.seed)
        region_seconds = base["per_cell"] * base["region_cells"]
        if base["sampled"]:
            print(
                f"baseline: timed a seeded random sample of {base['timed_cells']} of the "
                f"region's {base['region_cells']:,} cells (seed {args.seed}) in "
                f"{base['seconds']:.1f} s; the whole region EXTRAPOLATED: "
                f"{region_seconds:.0f} s ({region_seconds / 60:.1f} min)"
            )
        else:
            print(
                f"baseline: all {base['region_cells']:,} cells of the region in "
                f"{base['seconds']:.1f} s"
            )
        print(
            f"baseline: agrees with the cube on {base['compared']} unsuppressed cells: "
            f"max |Δ estimate| {base['estimate_diff']:.2e}, max |Δ se| {base['se_diff']:.2e}"
        )
        region_cube_seconds = cube_per_cell * base["region_cells"]

        # 3. The other pipeline steps.
        steps = {}
        if not args.no_steps:
            for name, function in (
                ("trends.trends_for_cube", lambda: trends.trends_for_cube(respondents, agreement)),
                (
                    "inequality.inequality_for_cube",
                    lambda: inequality.inequality_for_cube(respondents, agreement),
                ),
                (
                    "inequality.gap_change_for_cube",
                    lambda: inequality.gap_change_for_cube(respondents, agreement),
                ),
            ):
                start = time.perf_counter()
                table = function()
                steps[name] = (time.perf_counter() - start, len(table))
                print(f"{name}: {len(table):,} rows in {steps[name][0]:.1f} s")
        peak = peak_rss_gb()

        ratio = base["per_cell"] / cube_per_cell
        print()
        print("Summary")
        print(f"  respondents                         {len(respondents):>12,}")
        print(f"  cube cells (rows)                   {len(cube):>12,}")
        print(f"  cube seconds                        {cube_seconds:>12.2f}")
        print(f"  cube seconds per cell               {cube_per_cell:>12.2e}")
        print(f"  region {REGION} cells                   {base['region_cells']:>12,}")
        print(
            f"  baseline seconds per cell           {base['per_cell']:>12.3f}"
            + ("  (sample)" if base["sampled"] else "")
        )
        print(
            f"  region cell by cell, seconds        {region_seconds:>12.0f}"
            + ("  (extrapolated)" if base["sampled"] else "")
        )
        print(f"  region's share of the cube, seconds {region_cube_seconds:>12.2f}")
        print(f"  per-cell speed ratio                {ratio:>12,.0f}×")
        for name, (seconds, rows) in steps.items():
            print(f"  {name:<35} {seconds:>12.1f} s  ({rows:,} rows)")
        if steps:
            total = cube_seconds + sum(s for s, _ in steps.values())
            print(f"  cube + these steps                  {total:>12.1f} s")
        print(f"  peak RSS (load + cube)              {cube_rss:>12.2f} GB")
        print(f"  peak RSS (whole run)                {peak:>12.2f} GB")
        print(f"  tracemalloc peak of the cube build  {traced_peak / 1024**3:>12.2f} GB")
        print()
        print("Targets (DESIGN.md §6)")
        print(
            f"  cube ≤ {TARGET_CUBE_SECONDS:.0f} s: {cube_seconds:.1f} s — "
            f"{met(cube_seconds <= TARGET_CUBE_SECONDS)}"
        )
        print(
            f"  ≥ {TARGET_RATIO:.0f}× faster per cell: {ratio:,.0f}× — {met(ratio >= TARGET_RATIO)}"
        )
        print(
            f"  peak memory ≤ {TARGET_MEMORY_GB:.0f} GB: {peak:.2f} GB — "
            f"{met(peak <= TARGET_MEMORY_GB)}"
        )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
