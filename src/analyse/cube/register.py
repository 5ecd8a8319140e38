"""Register indicators for the cube: proportions per indicator × year × area × breakdown.

Sums the delivered counts over each area's kommuner (:mod:`analyse.reference.geography`; a
kommune in two sundhedsklynger counts in both), with Wilson intervals
(:func:`analyse.stats.rates.wilson_interval`) and the disclosure rules of
:func:`analyse.stats.disclosure.suppress`.
"""

from __future__ import annotations

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
    ``ci_high``, ``n`` = denominator, ``cases`` = numerator before suppression) with
    ``method = "wilson"``; ``se`` is the binomial √(p(1−p)/n) for use in trend tests.
    """
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
    cells = cells[cells["denominator"] > 0].reset_index(drop=True)
    p = cells["numerator"] / cells["denominator"]
    low, high = wilson_interval(cells["numerator"], cells["denominator"], level)
    out = pd.DataFrame(
        {
            "indicator": cells["indicator"],
            "year": cells["year"],
            "area_level": cells["area_level"],
            "area_code": cells["area_code"],
            "breakdown": cells["breakdown"],
            "group": cells["group"],
            "estimate": p,
            "se": np.sqrt(p * (1 - p) / cells["denominator"]),
            "ci_low": low,
            "ci_high": high,
            "n": cells["denominator"].astype("int64"),
            "cases": cells["numerator"].astype("int64"),
            "method": "wilson",
            "level": level,
        }
    )
    if not suppress:
        return out
    return disclosure.suppress(
        out,
        rules,
        keys=("indicator", "year"),
        crossed=None,
        weighted_columns=(),
        hierarchy=geography.area_hierarchy(),
    )
