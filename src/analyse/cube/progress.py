"""The standard progress assessments for the cube, with the agreement's targets and directions.

Beside our own direction status (``status`` and ``register_status`` tables), every indicator ×
area × breakdown gets the Healthy People 2030 category and, where the catalogue gives the
indicator a numeric ``target:``, the percent of targeted change achieved and the Eurostat/UN SDG
growth-ratio category (:mod:`analyse.stats.progress`). The baseline, the latest value and the
p-value of their difference are the status table's, so the assessments rest on the same
design-based standard errors as our own status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse.cube.changes import check_agreement, indicator
from analyse.errors import ParameterError
from analyse.reference.catalogue import Agreement
from analyse.stats import progress
from analyse.stats.series import require_columns

#: Columns added to a status table by :func:`assess`.
PROGRESS_COLUMNS = [
    "target",
    "target_year",
    "hp2030_status",
    "pct_targeted_change",
    "pct_change_from_baseline",
    "sdg_ratio",
    "sdg_category",
]
# The status that means "no valid comparison" (our own rule): the standard categories are then
# "cannot be assessed" too, instead of a verdict on a suppressed or untestable change.
_NOT_ASSESSED = "kan ikke vurderes"


def assess(status: pd.DataFrame, agreement: Agreement, *, alpha: float = 0.05) -> pd.DataFrame:
    """The status table with the Healthy People 2030 and SDG assessments added.

    Per row (``status`` from :func:`analyse.cube.changes.status`): the HP2030 category from the
    baseline (``estimate_from``), the latest value (``estimate_to``), the p-value of the change
    and the indicator's desired direction (:func:`analyse.stats.progress.hp2030_status`); where
    the indicator has a catalogue target (breakdown ``total`` only: a target is set for the whole
    population), the target, its year, the percent of targeted change achieved and the SDG
    category from the observed and required compound annual growth rates
    (:func:`analyse.stats.progress.sdg_progress`). Rows whose own status is "kan ikke vurderes"
    (no baseline, one wave, suppressed, no standard error) are "cannot be assessed".

    Returns
    -------
    pandas.DataFrame
        ``status`` with :data:`PROGRESS_COLUMNS` appended (``target`` on the 0-1 scale, NaN
        without a target; ``sdg_category`` empty without one).

    Raises
    ------
    ParameterError
        Missing columns, an indicator the agreement does not have, alpha outside (0, 1).
    """
    check_agreement(agreement)
    needed = [
        "indicator",
        "breakdown",
        "year_from",
        "year_to",
        "estimate_from",
        "estimate_to",
        "p_value",
        "status",
    ]
    require_columns(status, needed, "status (from analyse.cube.changes.status)")
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1 (got {alpha!r}), e.g. 0.05")
    out = status.copy()
    if out.empty:
        for column in PROGRESS_COLUMNS:
            out[column] = pd.Series(
                dtype=object if column.endswith(("status", "category")) else float
            )
        return out
    indicators = {i: indicator(agreement, i) for i in out["indicator"].unique()}
    total = (out["breakdown"] == "total").to_numpy()
    targets = out["indicator"].map(lambda i: indicators[i].target)
    out["target"] = np.where(
        total, [np.nan if t is None else t.value for t in targets], np.nan
    ).astype(float)
    out["target_year"] = np.where(
        total, [np.nan if t is None else t.year for t in targets], np.nan
    ).astype(float)
    direction = out["indicator"].map(lambda i: indicators[i].direction).to_numpy()
    assessable = (out["status"] != _NOT_ASSESSED).to_numpy()
    baseline = np.where(assessable, out["estimate_from"].to_numpy(float), np.nan)
    latest = np.where(assessable, out["estimate_to"].to_numpy(float), np.nan)
    hp = progress.hp2030_status(
        baseline,
        latest,
        out["target"].to_numpy(float),
        direction=direction,
        p_value=out["p_value"].to_numpy(float),
        alpha=alpha,
    )
    out["hp2030_status"] = hp["hp2030_status"].to_numpy()
    out["pct_targeted_change"] = hp["pct_targeted_change"].to_numpy()
    out["pct_change_from_baseline"] = hp["pct_change_from_baseline"].to_numpy()
    sdg = progress.sdg_progress(
        baseline,
        latest,
        out["target"].to_numpy(float),
        baseline_year=out["year_from"].to_numpy(float),
        recent_year=out["year_to"].to_numpy(float),
        target_year=out["target_year"].to_numpy(float),
        direction=direction,
    )
    out["sdg_ratio"] = sdg["sdg_ratio"].to_numpy()
    out["sdg_category"] = sdg["sdg_category"].to_numpy()
    return out
