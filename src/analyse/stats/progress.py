"""Standard progress assessments: the Healthy People 2030 category and the SDG growth ratio.

Beside our own direction status (``bedre``/``uændret``/``dårligere``), these are the two
assessments international readers know, computed from the same baseline and latest values and
the same design-based standard errors:

- :func:`hp2030_status` -- the Healthy People 2030 category (target met or exceeded / improving /
  little or no detectable change / getting worse) and the percent of targeted change achieved;
- :func:`sdg_progress` -- the Eurostat / UN SDG category from the ratio of the observed to the
  required compound annual growth rate, where a numeric target exists.

Pure functions on arrays (numpy, pandas and scipy only). Which target applies, to which year and
in which direction is the caller's (the cube takes them from the agreement).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analyse.errors import ParameterError

__all__ = ["HP2030_CATEGORIES", "SDG_CATEGORIES", "hp2030_status", "sdg_progress"]

#: The Healthy People 2030 categories (NCHS), plus the one we need when a value is missing.
HP2030_CATEGORIES = (
    "target met or exceeded",
    "improving",
    "little or no detectable change",
    "getting worse",
    "cannot be assessed",
)
#: The Eurostat SDG categories for indicators with a quantitative target.
SDG_CATEGORIES = (
    "target met",
    "significant progress",
    "moderate progress",
    "insufficient progress",
    "movement away from target",
)
_DIRECTIONS = ("increase", "decrease")
# HP2020 final progress table (NCHS, data.cdc.gov): without standard errors an objective
# "improved" when it "had achieved 10% or more of the targeted change" and "got worse" when it
# "had moved 10% or more relative to the baseline".
_TEN_PERCENT = 10.0
# Eurostat SDG monitoring report / Open SDG "Progress measurement methodology": R >= 95 % on
# track (significant progress), 60 % <= R < 95 % moderate, 0 % <= R < 60 % insufficient.
_SDG_SIGNIFICANT = 0.95
_SDG_MODERATE = 0.60


def _directions(direction, shape) -> np.ndarray:
    d = np.broadcast_to(np.asarray(direction, dtype=object), shape)
    bad = sorted({str(v) for v in np.unique(d.astype(str)) if v not in _DIRECTIONS})
    if bad:
        raise ParameterError(
            f"direction must be 'increase' or 'decrease' (the desired direction); got "
            f"{', '.join(bad)}"
        )
    return np.where(d == "increase", 1.0, -1.0)


def _values(value, shape, name: str) -> np.ndarray:
    if value is None:
        return np.full(shape, np.nan)
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numbers (got {value!r})") from exc
    return np.broadcast_to(out, shape).astype(float)


def hp2030_status(
    baseline,
    recent,
    target=None,
    *,
    direction="decrease",
    baseline_se=None,
    recent_se=None,
    p_value=None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Healthy People 2030 progress category and the percent of targeted change achieved.

    Measures (NCHS, "Healthy People 2030 methods", cdc.gov/nchs/healthy-people/hp2030/methods):

    - percent of targeted change achieved = 100 (recent - baseline) / (target - baseline),
      computed when the value moves towards its target;
    - percent change from baseline = 100 (recent - baseline) / baseline.

    Categories, in this order (the HP2030 page and the Healthy People 2020 Final Progress Table
    notes, data.cdc.gov, which spell out the rules without standard errors):

    1. **target met or exceeded** -- the recent value is at or beyond the target in the desired
       direction (also when the baseline already met it);
    2. **improving** -- movement towards the target that is statistically significant
       (``p_value < alpha``; ``p_value`` given, or a two-sided z-test of recent - baseline with
       independent samples from ``baseline_se`` and ``recent_se``), or, without standard errors,
       at least 10 % of the targeted change achieved;
    3. **getting worse** -- movement away from baseline and target that is statistically
       significant, or, without standard errors, a change of at least 10 % relative to the
       baseline;
    4. **little or no detectable change** -- otherwise;

    and **cannot be assessed** where the baseline or the recent value is missing. The sources do
    not say whether the test is one- or two-sided; we use the two-sided test of our own direction
    status, so "improving" and "getting worse" agree with ``bedre`` and ``dårligere`` whenever the
    target is not met. Without a target (HP2030 calls such objectives informational) the category
    is judged on the desired direction alone and ``pct_targeted_change`` is NaN.

    Parameters
    ----------
    baseline, recent : array_like
        Values on one scale (e.g. 0-1).
    target : array_like or None
        Target values on the same scale; None or NaN = no target.
    direction : {"increase", "decrease"} or array_like of them
        The desired direction.
    baseline_se, recent_se : array_like or None
        Standard errors on the same scale; None or NaN = not available.
    p_value : array_like or None
        The p-value of the change, if already computed (takes precedence over the SEs).
    alpha : float
        Significance level.

    Returns
    -------
    pandas.DataFrame
        ``change``, ``pct_targeted_change``, ``pct_change_from_baseline``, ``p_value``,
        ``hp2030_status`` (one of :data:`HP2030_CATEGORIES`).

    Raises
    ------
    ParameterError
        An unknown direction, non-numeric values, alpha outside (0, 1).
    """
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1 (got {alpha!r}), e.g. 0.05")
    b, r = np.broadcast_arrays(
        _values(baseline, np.shape(baseline), "baseline"),
        _values(recent, np.shape(recent), "recent"),
    )
    shape = b.shape
    tg = _values(target, shape, "target")
    sign = _directions(direction, shape)
    change = r - b
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.hypot(
            _values(baseline_se, shape, "baseline_se"), _values(recent_se, shape, "recent_se")
        )
        from_se = 2 * stats.norm.sf(np.abs(change / se))
        given = _values(p_value, shape, "p_value")
        p = np.where(np.isfinite(given), given, np.where(se > 0, from_se, np.nan))
        toward = sign * change > 0
        has_target = np.isfinite(tg)
        # Not assessed when the baseline already met the target (HP2020 final progress table).
        open_target = has_target & (sign * (tg - b) > 0)
        pct_target = np.where(open_target & toward, 100 * change / (tg - b), np.nan)
        pct_base = 100 * change / b
    has_test = np.isfinite(p)
    met = has_target & (sign * (r - tg) >= 0)
    significant = has_test & (p < alpha)
    big_toward = np.where(has_target, pct_target >= _TEN_PERCENT, np.abs(pct_base) >= _TEN_PERCENT)
    improving = toward & np.where(has_test, significant, big_toward)
    worse = (sign * change < 0) & np.where(has_test, significant, np.abs(pct_base) >= _TEN_PERCENT)
    status = np.select(
        [~(np.isfinite(b) & np.isfinite(r)), met, improving, worse],
        [HP2030_CATEGORIES[4], HP2030_CATEGORIES[0], HP2030_CATEGORIES[1], HP2030_CATEGORIES[3]],
        HP2030_CATEGORIES[2],
    )
    return pd.DataFrame(
        {
            "change": change.ravel(),
            "pct_targeted_change": pct_target.ravel(),
            "pct_change_from_baseline": pct_base.ravel(),
            "p_value": np.where(has_test, p, np.nan).ravel(),
            "hp2030_status": status.ravel(),
        }
    )


def sdg_progress(
    baseline,
    recent,
    target,
    *,
    baseline_year,
    recent_year,
    target_year,
    direction="decrease",
) -> pd.DataFrame:
    """Eurostat / UN SDG progress category from the observed and the required growth rate.

    For an indicator with a quantitative target (Eurostat, *Sustainable development in the
    European Union -- monitoring report*, methodological introduction; the same rule and
    thresholds in Statistics Canada's "Progress measurement methodology" shipped with Open SDG,
    open-sdg/open-sdg ``docs/progress-methodology.md``):

    - observed CAGR = (recent / baseline)^(1 / (recent_year - baseline_year)) - 1;
    - required CAGR = (target / baseline)^(1 / (target_year - baseline_year)) - 1;
    - R = d * observed / |required|, d = +1 for ``increase`` and -1 for ``decrease`` (equal to
      observed / required when the target lies in the desired direction; the sign correction
      handles a baseline that already meets the target).

    Categories: **target met** (recent at or beyond the target in the desired direction);
    R >= 95 % **significant progress** ("on track"); 60 % <= R < 95 % **moderate progress**
    ("acceleration needed"); 0 % <= R < 60 % **insufficient progress**; R < 0 **movement away
    from target**. Rows without a target, a value or a later recent year get an empty category
    and NaN ratios. Eurostat's separate rule for indicators without a numeric target (fixed
    growth thresholds) is not implemented.

    Parameters
    ----------
    baseline, recent, target : array_like
        Positive values on one scale (NaN target = no target).
    baseline_year, recent_year, target_year : array_like
        Years; ``target_year`` must be after ``baseline_year`` where a target is given.
    direction : {"increase", "decrease"} or array_like of them

    Returns
    -------
    pandas.DataFrame
        ``cagr_observed``, ``cagr_required``, ``sdg_ratio``, ``sdg_category`` (one of
        :data:`SDG_CATEGORIES`, or ``""``).

    Raises
    ------
    ParameterError
        Non-positive values (growth rates are ratios), a target year not after the baseline
        year, an unknown direction.
    """
    b, r, tg = np.broadcast_arrays(
        _values(baseline, np.shape(baseline), "baseline"),
        _values(recent, np.shape(recent), "recent"),
        _values(target, np.shape(target), "target"),
    )
    shape = b.shape
    t0, ti, tt = (_values(x, shape, "year") for x in (baseline_year, recent_year, target_year))
    sign = _directions(direction, shape)
    usable = np.isfinite(b) & np.isfinite(r) & np.isfinite(tg) & (ti > t0)
    if np.any(usable & ((b <= 0) | (r <= 0) | (tg <= 0))):
        raise ParameterError(
            "baseline, recent and target must be positive (growth rates are ratios)"
        )
    if np.any(usable & ~(tt > t0)):
        raise ParameterError("target_year must be after baseline_year where a target is given")
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(usable, (r / b) ** (1 / (ti - t0)) - 1, np.nan)
        required = np.where(usable, (tg / b) ** (1 / (tt - t0)) - 1, np.nan)
        ratio = np.where(usable & (required != 0), sign * observed / np.abs(required), np.nan)
    met = usable & (sign * (r - tg) >= 0)
    category = np.select(
        [
            ~usable,
            met,
            ratio >= _SDG_SIGNIFICANT,
            ratio >= _SDG_MODERATE,
            ratio >= 0,
        ],
        ["", *SDG_CATEGORIES[:4]],
        SDG_CATEGORIES[4],
    )
    return pd.DataFrame(
        {
            "cagr_observed": observed.ravel(),
            "cagr_required": required.ravel(),
            "sdg_ratio": ratio.ravel(),
            "sdg_category": category.ravel(),
        }
    )
