"""Register indicators for the cube: proportions per indicator × year × area × breakdown.

Sums the delivered counts over each area's kommuner (:mod:`analyse.reference.geography`; a
kommune in two sundhedsklynger counts in both), with Wilson intervals
(:func:`analyse.stats.rates.wilson_interval`) and the disclosure rules of
:func:`analyse.stats.disclosure.suppress`.

Register counts are whole populations, so the published columns must not let a reader recover
an exact count (issue #14):

* primary suppression where fewer than ``Rules.register_min_cases`` (10) persons have the
  outcome or lack it, besides ``Rules.min_n`` and the secondary suppression of
  :func:`~analyse.stats.disclosure.suppress`; a cell with 0 persons or 0 cases is kept as a
  row and looks like any other suppressed cell (a missing row would reveal the exact 0);
* the published estimate is cases / N rounded to 0.1 percentage point
  (:func:`~analyse.stats.disclosure.round_share`), and the Wilson interval and ``se`` are
  computed from that rounded rate and from N rounded to ``Rules.count_base`` (the published
  ``n``), the limits rounded to 0.1 point too. ``p(1 − p) / se²`` therefore gives the rounded
  ``n``, never the exact denominator, and the interval gives nothing the estimate and ``n`` do
  not (a rate rounded to 0 or 1 takes its ``se`` at the edge of the rounding, 0.0005 or
  0.9995, so that it is never 0).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analyse.reference import geography
from analyse.stats import disclosure
from analyse.stats.rates import wilson_interval

TOTAL_LABEL = "I alt"


def register_estimates(
    register: pd.DataFrame,
    *,
    rules: disclosure.Rules | None = None,
    level: float = 0.95,
    suppress: bool = True,
) -> pd.DataFrame:
    """Proportions per indicator × year × area × breakdown (total, sex, education), suppressed.

    Returns the cube layout of :func:`analyse.cube.estimates.build` (``estimate``, ``ci_low``,
    ``ci_high``, ``se``, ``n`` = denominator) with ``method = "wilson"``; ``se`` is the
    binomial √(p(1−p)/n) for use in trend tests. With ``suppress=True`` (the default) the table
    is the published one described in the module docstring: rounded rate, interval and ``se``
    from the rounded rate and rounded ``n``, suppressed cells (``cases`` < or
    ``n − cases`` < ``rules.register_min_cases``, ``n`` < ``rules.min_n``, secondary), no
    ``cases`` column. With ``suppress=False`` the exact, unrounded cells with ``cases`` (for
    checks only; never published).
    """
    rules = disclosure.Rules() if rules is None else rules
    pieces = []
    for level_name in geography.LEVELS:
        members = geography.membership(level_name)
        merged = register.merge(members[["area_code", "kommune_code"]], on="kommune_code")
        for breakdown, column in (("total", None), ("sex", "sex"), ("education", "education")):
            keys = ["indicator", "year", "area_code"] + ([column] if column else [])
            if column == "education" and (merged["education"] == TOTAL_LABEL).all():
                continue
            source = merged if column != "education" else merged[merged["education"] != TOTAL_LABEL]
            sums = (
                source.groupby(keys, observed=True)[["numerator", "denominator"]]
                .sum()
                .reset_index()
            )
            sums["area_level"] = level_name
            sums["breakdown"] = breakdown
            sums["group"] = sums[column] if column else TOTAL_LABEL
            pieces.append(sums.drop(columns=[column] if column else []))
    cells = pd.concat(pieces, ignore_index=True)
    # Cells with 0 persons stay: as suppressed rows, like any other small cell (a missing row
    # would tell the reader that the count is exactly 0).
    n = cells["denominator"].to_numpy(dtype=float)
    cases = cells["numerator"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "indicator": cells["indicator"],
            "year": cells["year"],
            "area_level": cells["area_level"],
            "area_code": cells["area_code"],
            "breakdown": cells["breakdown"],
            "group": cells["group"],
            "n": cells["denominator"].astype("int64"),
            "cases": cells["numerator"].astype("int64"),
            "method": "wilson",
            "level": level,
        }
    )
    if not suppress:
        with np.errstate(divide="ignore", invalid="ignore"):
            p = cases / n
            low, high = wilson_interval(cases, n, level)
            se = np.sqrt(p * (1 - p) / n)
        return _with_values(out, p, se, low, high)
    # Published values: from the rounded rate and the rounded denominator only.
    shown_n = disclosure.round_count(n, rules.count_base)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = disclosure.round_share(np.where(n > 0, cases / n, np.nan))
        low, high = wilson_interval(p * shown_n, shown_n, level)
        # A rate rounded to 0 or 1 (e.g. 10 of 30,000) would give se = 0 and an infinite
        # weight in the trend models: there the rate is taken at the edge of its rounding
        # interval (0.0005 or 0.9995), still from published values only.
        edge = 0.5 * 10.0**-disclosure.SHARE_DECIMALS
        p_se = np.clip(p, edge, 1 - edge)
        se = np.sqrt(p_se * (1 - p_se) / shown_n)
    low, high = disclosure.round_share(low), disclosure.round_share(high)
    out = _with_values(out, p, se, low, high)
    # The register's own count threshold, with the survey's reason text ("under 10 med/uden
    # udfaldet"); a cell with 0 persons falls under min_n ("færre end 20 svar").
    register_rules = dataclasses.replace(rules, min_cases=rules.register_min_cases)
    published = disclosure.suppress(
        out,
        register_rules,
        keys=("indicator", "year"),
        crossed=None,
        weighted_columns=(),
        hierarchy=geography.area_hierarchy(),
    )
    published.attrs["disclosure_rules"] = rules.as_dict()
    return published


def _with_values(
    out: pd.DataFrame, p: np.ndarray, se: np.ndarray, low: np.ndarray, high: np.ndarray
) -> pd.DataFrame:
    """``out`` with the value columns in the cube's order (before ``n``)."""
    values = pd.DataFrame(
        {"estimate": p, "se": se, "ci_low": low, "ci_high": high}, index=out.index
    )
    position = out.columns.get_loc("n")
    return pd.concat([out.iloc[:, :position], values, out.iloc[:, position:]], axis=1)
