"""Validation: the model-based (Fay–Herriot) companion estimates against the synthetic truth.

The synthetic default knows every kommune's true prevalence: the generator's population cell
counts N_kc (kommune × sex × age group × education × labour market × herkomst) and the
probability p_kc of every cell give the true prevalence of a kommune × group,
Σ_{c∈G} N_kc p_kc / Σ_{c∈G} N_kc — what the calibrated direct estimator targets.

What it does, on a synthetic delivery (default ``data/raw``; any scale and seed share the truth):

1. cleans the delivery and builds the cube twice: unsuppressed (the direct estimates and exact
   respondent counts of every cell, for the evaluation only) and published (suppressed, counts
   rounded) — the only input of :func:`analyse.cube.smallarea.model_estimates`, exactly as in
   ``analyse build``;
2. evaluates every kommune × group cell (breakdowns total, sex, age group, sex × age; every
   kommune wave) with 0 < n < 300 respondents that has a model estimate: RMSE of the direct and
   the model estimate against the truth, and the coverage of their 95 % intervals; the 16–24
   indicators separately, then per indicator, wave, breakdown and cell size, and the suppressed
   cells (whose model estimate is purely synthetic);
3. lists every model estimate more than one direct half-width from its published direct
   estimate (``flag``) and counts them.

Targets (issue 19): RMSE at least 30 % lower than direct, model coverage ≥ 0.90. The figures are
printed; nothing is asserted. Run from the project folder (about 1 minute)::

    .venv/bin/python bench/bench_smallarea.py [--raw data/raw] [--out cells.csv] [--no-list]

Without ``--raw`` it uses ``data/raw`` if that holds a synthetic delivery, else it generates the
full default into a temporary folder (≈ 20 s more) and removes it afterwards.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analyse.cube import coverage, estimates, smallarea
from analyse.data import clean, synth
from analyse.data.codebook import load_codebook
from analyse.data.synth.population import AGE_GROUPS
from analyse.reference.catalogue import load_agreement

MAX_N = 300
KEYS = ["indicator", "year", "area_code", "breakdown", "group"]


def truth_table(agreement, cells: pd.DataFrame) -> pd.DataFrame:
    """The true prevalence of every (indicator, year, breakdown, group) × kommune in ``cells``."""
    pop, truth = synth.calibrated_model()
    describe = pd.DataFrame(
        {
            "sex": np.array(load_codebook().recodes["sex"].labels, dtype=object)[pop.sex],
            "age_group": np.array(AGE_GROUPS, dtype=object)[pop.age],
        }
    )
    codes = pop.kommune_codes.astype(str)
    frames = []
    for (indicator_id, year, breakdown, group), _ in cells.groupby(
        ["indicator", "year", "breakdown", "group"]
    ):
        indicator = agreement.indicators[indicator_id]
        mask = smallarea.in_population(describe, indicator) & smallarea.in_group(
            describe, breakdown, group
        )
        counts = pop.counts[:, mask]
        prob = truth.probability(indicator.variable, int(year))[:, mask]
        frames.append(
            pd.DataFrame(
                {
                    "indicator": indicator_id,
                    "year": int(year),
                    "area_code": codes,
                    "breakdown": breakdown,
                    "group": group,
                    "true": (counts * prob).sum(axis=1) / counts.sum(axis=1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def metrics(cells: pd.DataFrame) -> pd.Series:
    t = cells["true"]
    rmse_d = float(np.sqrt(np.mean((cells["direct"] - t) ** 2)))
    rmse_m = float(np.sqrt(np.mean((cells["model"] - t) ** 2)))
    return pd.Series(
        {
            "cells": len(cells),
            "median_n": float(cells["n"].median()),
            "rmse_direct_pp": 100 * rmse_d,
            "rmse_model_pp": 100 * rmse_m,
            "reduction": 1 - rmse_m / rmse_d,
            "cover_direct": float(
                ((cells["direct_low"] <= t) & (t <= cells["direct_high"])).mean()
            ),
            "cover_model": float(((cells["model_low"] <= t) & (t <= cells["model_high"])).mean()),
            "width_direct_pp": 100 * float((cells["direct_high"] - cells["direct_low"]).mean()),
            "width_model_pp": 100 * float((cells["model_high"] - cells["model_low"]).mean()),
            "flagged": int(cells["flag"].sum()),
        }
    )


def table(cells: pd.DataFrame, by=None) -> pd.DataFrame:
    if by is None:
        return metrics(cells).to_frame("all").T
    return pd.DataFrame({key: metrics(group) for key, group in cells.groupby(by, observed=True)}).T


def fmt(frame: pd.DataFrame) -> str:
    formats = {
        "cells": "{:.0f}",
        "median_n": "{:.0f}",
        "flagged": "{:.0f}",
        "rmse_direct_pp": "{:.2f}",
        "rmse_model_pp": "{:.2f}",
        "reduction": "{:.0%}",
        "cover_direct": "{:.3f}",
        "cover_model": "{:.3f}",
        "width_direct_pp": "{:.1f}",
        "width_model_pp": "{:.1f}",
    }
    shown = frame.astype(object).copy()
    for column, pattern in formats.items():
        shown[column] = [pattern.format(v) for v in frame[column]]
    return shown.to_string()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--raw",
        type=Path,
        default=None,
        help="a synthetic delivery (default: data/raw if it holds one, else the full default "
        "generated into a temporary folder and removed afterwards)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the evaluated cells (CSV)")
    parser.add_argument("--no-list", action="store_true", help="count the flagged, do not list")
    args = parser.parse_args(argv)
    if args.raw is None and (Path("data/raw") / synth.MARKER_FILE).exists():
        args.raw = Path("data/raw")
    if args.raw is None:
        with tempfile.TemporaryDirectory(prefix="bench-smallarea-") as tmp:
            print(f"generating the full synthetic default into {tmp} ...")
            synth.write_delivery(tmp, fmt="parquet")
            return run(args, Path(tmp))
    if not (args.raw / synth.MARKER_FILE).exists():
        parser.error(f"{args.raw} is not a synthetic delivery (no {synth.MARKER_FILE})")
    return run(args, args.raw)


def run(args: argparse.Namespace, raw: Path) -> int:
    """Build, fit, evaluate and print (see the module docstring)."""
    args.raw = raw

    start = time.perf_counter()
    agreement = load_agreement("syddanmark-2024-2027")
    respondents, _ = clean.load_survey(args.raw)
    national = respondents["stratum"].str.endswith(f"-{clean.NATIONAL_STRATUM}")
    survey_coverage = coverage.coverage_table(
        respondents, national_years=set(respondents.loc[national, "year"].astype(int))
    )
    breakdowns = smallarea.BREAKDOWNS
    published = coverage.restrict(
        estimates.build(respondents, agreement, breakdowns=breakdowns), survey_coverage
    )
    raw_cube = estimates.build(
        respondents, agreement, breakdowns=breakdowns, levels=("kommune",), suppress=False
    )
    loaded = time.perf_counter()
    # Every kommune wave (the build models the waves from the baseline on).
    model = smallarea.model_estimates(published, agreement, synth.population_table(), years=None)
    fitted = time.perf_counter()

    direct = raw_cube[raw_cube["area_level"] == "kommune"][
        [*KEYS, "estimate", "ci_low", "ci_high", "n"]
    ].rename(columns={"estimate": "direct", "ci_low": "direct_low", "ci_high": "direct_high"})
    cells = model.rename(
        columns={"estimate": "model", "ci_low": "model_low", "ci_high": "model_high"}
    ).merge(direct, on=KEYS, how="left")
    cells = cells.merge(truth_table(agreement, cells), on=KEYS, how="left")
    if cells["true"].isna().any():
        raise SystemExit("truth missing for some cells: the delivery is not the synthetic default")
    youth = {i.id for i in agreement.indicators_by_source("survey") if i.population.age_max}
    small = cells[(cells["n"] > 0) & (cells["n"] < MAX_N) & cells["direct"].notna()]
    young = small[small["indicator"].isin(youth)]
    if args.out:
        cells.to_csv(args.out, index=False)

    too_few = sum("shown kommuner <" in r for r in model.attrs["skipped_reasons"])
    print(
        f"Fay–Herriot companion estimates against the synthetic truth ({args.raw}): "
        f"cleaning + two cubes {loaded - start:.1f} s; {model.attrs['fits']} fits "
        f"({model.attrs['skipped']} skipped: {too_few} with fewer than 20 shown kommuner, "
        f"{model.attrs['skipped'] - too_few} with a prediction outside [0, 1]) "
        f"{fitted - loaded:.1f} s"
    )
    print(
        f"Cells: kommune × group with 0 < n < {MAX_N} and a model estimate, breakdowns "
        f"{', '.join(breakdowns)}, kommune waves "
        f"{', '.join(str(y) for y in sorted(small['year'].unique()))}; the shipped "
        "(disclosure-safe) variant: published inputs only, suppressed cells out of the fit and "
        "synthetic, ratio-benchmarked to the region."
    )
    print("Targets: RMSE ≥ 30 % lower than direct; model 95 % coverage ≥ 0.90.")
    without = int(
        (
            (raw_cube["area_level"] == "kommune")
            & (raw_cube["n"] > 0)
            & (raw_cube["n"] < MAX_N)
            & raw_cube["estimate"].notna()
        ).sum()
        - len(small)
    )
    print(f"Small cells without a model estimate (fit skipped or kommune dropped): {without}")
    print()
    summary = pd.concat(
        [
            table(small).rename(index={"all": "all small cells"}),
            table(young).rename(index={"all": "16-24 indicators"}),
            table(small[small["direct_suppressed"]]).rename(index={"all": "suppressed cells"}),
        ]
    )
    print(fmt(summary))
    print("\n-- per indicator (waves pooled)")
    print(fmt(table(small, "indicator")))
    print("\n-- 16-24 indicators per wave")
    print(fmt(table(young, ["indicator", "year"])))
    print("\n-- per wave")
    print(fmt(table(small, "year")))
    print("\n-- per breakdown")
    print(fmt(table(small, "breakdown")))
    print("\n-- per cell size")
    bands = pd.cut(
        small["n"],
        [0, 30, 60, 100, 200, MAX_N],
        right=False,
        labels=["< 30", "30-59", "60-99", "100-199", "200-299"],
    )
    print(fmt(table(small.assign(size=bands), "size")))
    example = cells[
        (cells["indicator"].isin(youth))
        & (cells["area_code"].isin(["492", "563", "741", "825"]))
        & (cells["breakdown"] == "total")
        & (cells["year"] == cells["year"].max())
    ]
    print("\n-- Ærø, Fanø, Samsø, Læsø: 16-24 indicators, latest wave (pct.)")
    print(
        example[
            [
                "indicator",
                "area_code",
                "n",
                "direct",
                "direct_low",
                "direct_high",
                "true",
                "model",
                "model_low",
                "model_high",
                "direct_suppressed",
                "show",
            ]
        ]
        .assign(**{c: lambda d, c=c: (100 * d[c]).round(1) for c in ("direct", "true", "model")})
        .assign(
            direct_ci=lambda d: (
                (100 * d["direct_low"]).round(1).astype(str)
                + "–"
                + (100 * d["direct_high"]).round(1).astype(str)
            ),
            model_ci=lambda d: (
                (100 * d["model_low"]).round(1).astype(str)
                + "–"
                + (100 * d["model_high"]).round(1).astype(str)
            ),
        )
        .drop(columns=["direct_low", "direct_high", "model_low", "model_high"])
        .to_string(index=False)
    )
    flagged = cells[cells["flag"]].sort_values(KEYS)
    with_direct = int((~cells["direct_suppressed"]).sum())
    print(
        f"\n== flagged: {len(flagged)} of {with_direct} model estimates "
        f"with a published direct estimate lie more than one direct half-width from it "
        f"({len(flagged) / max(with_direct, 1):.1%}; "
        f"{int(small['flag'].sum())} of them in the small cells). They are never shown."
    )
    counts = flagged.groupby("indicator").size().rename("flagged").to_frame()
    print(counts.to_string())
    if not args.no_list:
        for r in flagged.itertuples(index=False):
            print(
                f"FLAG {r.indicator} {r.year} kommune {r.area_code} {r.breakdown} {r.group}: "
                f"direct {100 * r.direct:.1f} [{100 * r.direct_low:.1f}–{100 * r.direct_high:.1f}]"
                f", model {100 * r.model:.1f}, truth {100 * r.true:.1f}"
            )
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
