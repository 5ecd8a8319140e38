"""Inequality measures for grouped (disaggregated) data: PHEindicatormethods and WHO/healthequal.

One row per population group (e.g. five education groups) goes in; one row per ``by`` grouping
(e.g. area x wave x indicator) comes out, with named result columns plus ``method`` and
``level``. Two families live here:

* the PHEindicatormethods (UKHSA) slope index of inequality for grouped data, ``sii_grouped``:
  weighted linear regression on the ridit, Monte Carlo confidence intervals (``phe_sii``);
* the WHO Health Equity Assessment Toolkit measures as implemented in the R package
  ``healthequal``: difference and ratio (``simple_gap``), between-group variance (``bgv``),
  population attributable fraction and risk (``paf``), absolute and relative concentration
  index (``concentration_index``) and the logistic SII/RII on grouped data
  (``sii_logistic_grouped``).

This module is one unit of about 1,000 lines because its seven public functions share one
argument contract (grouped frame, ``by``, ``order``, ``population``, ``direction``, ``level``)
and one set of checks; each function is short, most of the text is their docstrings.

References
----------
Mackenbach JP, Kunst AE. Measuring the magnitude of socio-economic inequalities in health: an
overview of available measures illustrated with two examples from Europe. Soc Sci Med.
1997;44(6):757-771.
Low A, Low A. Measuring the gap: quantifying and comparing local health inequalities. J Public
Health. 2004;26:388-395. (The method of PHEindicatormethods::phe_sii.)
Kakwani N, Wagstaff A, van Doorslaer E. Socioeconomic inequalities in health: measurement,
computation, and statistical inference. J Econometrics. 1997;77:87-103.
Schlotheuber A, Hosseinpoor AR. Summary measures of health inequality: a review of existing
measures and their application. Int J Environ Res Public Health. 2022;19(6):3697.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm

from analyse.errors import DataValidationError, ParameterError
from analyse.stats.inequality.common import (
    as_list,
    check_direction,
    check_frame,
    check_level,
    check_min_groups,
    check_nonnegative,
    check_population,
    check_unique_groups,
    direction_sign,
    group_order,
    iter_groups,
    numeric,
    prepare_grouped,
    result_frame,
    ridit,
    z_value,
)

VALUE_TYPES = ("normal", "rate", "proportion")
# phe_sii refuses fewer than 5 or more than 100 quantiles: the linear SII is unstable with few
# groups. Callers may lower the minimum explicitly (never below 2, where the line is exact).
PHE_MIN_QUANTILES = 5
PHE_MAX_QUANTILES = 100
# phe_sii derives the standard error from a 95 % interval whatever the requested level.
_Z_95 = norm.ppf(0.975)


# ---------------------------------------------------------------------------------------------
# PHEindicatormethods: linear SII / RII with Monte Carlo confidence intervals
# ---------------------------------------------------------------------------------------------


def _forward(value_type: str, values: np.ndarray) -> np.ndarray:
    if value_type == "rate":
        return np.log(values)
    if value_type == "proportion":
        return logit(values)
    return values


def _inverse(value_type: str, values: np.ndarray) -> np.ndarray:
    if value_type == "rate":
        return np.exp(values)
    if value_type == "proportion":
        return expit(values)
    return values


def _phe_fit(y: np.ndarray, sqrt_a: np.ndarray, b_sqrt_a: np.ndarray) -> np.ndarray:
    """Least-squares solve of y*sqrt(a) = i*sqrt(a) + s*b*sqrt(a) for many y (rows)."""
    design = np.vstack([sqrt_a, b_sqrt_a])  # 2 x k, as in PHE's SimulationFunc
    projector = np.linalg.solve(design @ design.T, design)
    return (np.atleast_2d(y) * sqrt_a) @ projector.T  # (n, 2): intercept, slope


def _phe_summaries(
    coef: np.ndarray, value_type: str, transform: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (sii, rii, intercept) on the indicator's scale from regression coefficients."""
    intercept, slope = coef[:, 0], coef[:, 1]
    if transform:
        y0 = _inverse(value_type, intercept)
        y1 = _inverse(value_type, intercept + slope)
        return y1 - y0, y1 / y0, y0
    return slope, (intercept + slope) / intercept, intercept


def _phe_bounds(
    sims: np.ndarray, repetitions: int, level: float
) -> tuple[float, float, float | None]:
    """Percentile bounds as phe_sii takes them, plus the mean absolute difference (MAD).

    ``sims`` has one column per simulation batch (1, or 10 for the reliability statistic).
    """
    upper_q = level + (1 - level) / 2
    # R: positions round(repeats * (1 - upper_q)) and round(repeats * upper_q), 1-based.
    lower_pos = max(int(round(repetitions * (1 - upper_q))), 1) - 1
    upper_pos = min(int(round(repetitions * upper_q)), repetitions) - 1
    ordered = np.sort(sims, axis=0)
    lows, highs = ordered[lower_pos, :], ordered[upper_pos, :]
    mad = None
    if sims.shape[1] > 1:
        diffs = np.concatenate([np.abs(lows[1:] - lows[0]), np.abs(highs[1:] - highs[0])])
        mad = float(f"{diffs.mean():.4g}")  # phe_sii reports signif(MAD, 4)
    return float(lows[0]), float(highs[0]), mad


def sii_grouped(
    data: pd.DataFrame,
    quantile: str,
    population: str,
    value: str,
    se: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    *,
    by: str | Sequence[str] | None = None,
    value_type: str = "normal",
    transform: bool = False,
    multiplier: float = 1.0,
    level: float = 0.95,
    rii: bool = True,
    reliability_stat: bool = False,
    repetitions: int = 100_000,
    seed: int | None = 1,
    min_groups: int = PHE_MIN_QUANTILES,
) -> pd.DataFrame:
    """Slope and relative index of inequality for grouped data, as PHEindicatormethods' ``phe_sii``.

    Method (Low & Low 2004; PHEindicatormethods ``phe_sii``, UKHSA): groups are ordered from the
    least to the most advantaged (ascending ``quantile``); each gets its ridit ``b`` (midpoint of
    the cumulative population share) and population share ``a``. The regression
    ``Y*sqrt(a) = i*sqrt(a) + s*b*sqrt(a)`` (no free intercept; the square-root weights counter
    heteroskedasticity, i.e. weighted least squares with weights ``a``) is fitted by least squares.
    SII = ``s`` (fitted value at rank 1 minus rank 0) and RII = ``(i + s) / i``. With
    ``transform=True`` (rates: log, proportions: logit) the line is fitted on the transformed
    values and both fitted ends are transformed back: SII = ``Y1 - Y0``, RII = ``Y1 / Y0``.

    Confidence intervals are simulated: each group's value is drawn ``repetitions`` times from a
    normal distribution around the value with its standard error (on the log scale for rates and
    the logit scale for proportions, then transformed back unless ``transform``), the regression
    is refitted to each draw, and the percentiles at ``(1 - level) / 2`` and ``1 - (1 - level) /
    2`` are taken. Results differ from R's only by Monte Carlo error (numpy's generator is not
    R's); ``seed`` makes them reproducible.

    Parameters
    ----------
    data
        One row per group and ``by`` grouping; not modified.
    quantile
        Column ordering the groups: numbers from 1 = least advantaged upwards (or an ordered
        Categorical, least advantaged first).
    population
        Column with the group populations (denominators); must be positive.
    value
        Column with the indicator value of each group (proportions on the 0-1 scale).
    se
        Column with standard errors. As in ``phe_sii`` they are taken to be on the transformed
        scale: log for ``value_type="rate"``, logit for ``"proportion"``. Not allowed with
        ``transform=True``.
    lower, upper
        Columns with the 95 % confidence limits of ``value`` (used when ``se`` is not given):
        se = (T(upper) - T(lower)) / (2 * 1.959964), T the log/logit/identity transformation.
    by
        Column(s) defining separate analyses (e.g. area, wave, indicator).
    value_type
        ``"normal"`` (default; e.g. life expectancy), ``"rate"`` or ``"proportion"``.
    transform
        Fit the regression on log rates / logit proportions (recommended by PHE for rates and
        proportions to improve linearity); requires ``lower`` and ``upper``.
    multiplier
        Factor for the SII and its limits (e.g. 100 for percentage points). A negative
        multiplier flips the polarity: the limits swap and the RII is inverted.
    level
        Confidence level of the simulated interval (0 < level < 1).
    rii
        Also return the RII and its simulated limits.
    reliability_stat
        Simulate 10 times ``repetitions`` and report the mean absolute difference (MAD) of the
        limits of the first batch and the nine others (``sii_mad``, ``rii_mad``).
    repetitions
        Number of Monte Carlo draws (at least 1000; PHE's default 100,000).
    seed
        Seed for ``numpy.random.default_rng``; ``None`` for a fresh, irreproducible stream.
    min_groups
        Smallest number of groups accepted; ``phe_sii`` requires 5 (and at most 100).

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` grouping: the ``by`` columns, ``sii``, ``sii_ci_low``, ``sii_ci_high``,
        ``rii``, ``rii_ci_low``, ``rii_ci_high`` (if ``rii``), ``intercept`` (fitted value at
        rank 0, not multiplied), ``n_groups``, ``sii_mad``/``rii_mad`` (if
        ``reliability_stat``), ``value_type``, ``transform``, ``multiplier``, ``repetitions``,
        ``method`` and ``level``. A grouping with a missing value, standard error or group gets
        missing results and a warning (``phe_sii`` drops it with a warning).

    Raises
    ------
    ParameterError
        Unknown column, invalid option, no standard error source, ``se`` with ``transform``,
        fewer than 1000 repetitions.
    DataValidationError
        Non-numeric columns, zero/negative/missing populations, negative standard errors,
        proportions or limits outside 0-1, non-positive rates with a log transformation,
        a group listed twice, or fewer than ``min_groups`` (or more than 100) groups.
    """
    function = "sii_grouped"
    by_cols = as_list(by)
    check_frame(data, [quantile, population, value, se, lower, upper, *by_cols], function)
    if value_type not in VALUE_TYPES:
        raise ParameterError(
            f"{function}: value_type must be one of {', '.join(VALUE_TYPES)}, got {value_type!r}"
        )
    if se is None and (lower is None or upper is None):
        raise ParameterError(
            f"{function}: give either se= or both lower= and upper= (the 95 % confidence "
            "limits), so the uncertainty of each group can be simulated"
        )
    if transform and value_type == "normal":
        raise ParameterError(
            f"{function}: transform=True applies to value_type='rate' (log) or 'proportion' "
            "(logit) only"
        )
    if transform and se is not None:
        raise ParameterError(
            f"{function}: with transform=True give the confidence limits (lower=, upper=) "
            "instead of se=, as phe_sii does"
        )
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float) or multiplier == 0:
        raise ParameterError(
            f"{function}: multiplier must be a non-zero number, got {multiplier!r}"
        )
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1000:
        raise ParameterError(
            f"{function}: repetitions must be a whole number of at least 1000, got {repetitions!r}"
        )
    if isinstance(min_groups, bool) or not isinstance(min_groups, int) or min_groups < 2:
        raise ParameterError(f"{function}: min_groups must be an integer of at least 2")
    level = check_level(level, function)

    frame = data.copy()
    pop = numeric(frame, population, allow_missing=True)
    check_population(pop, population)
    val = numeric(frame, value, allow_missing=True)
    se_values = numeric(frame, se, allow_missing=True) if se is not None else None
    low_values = numeric(frame, lower, allow_missing=True) if se is None else None
    up_values = numeric(frame, upper, allow_missing=True) if se is None else None
    if se_values is not None:
        check_nonnegative(se_values, se, "standard errors")
    if value_type == "proportion":
        for column, values in ((value, val), (lower, low_values), (upper, up_values)):
            if values is None:
                continue
            bad = (values < 0) | (values > 1)
            if bad.any():
                raise DataValidationError(
                    "proportions must lie between 0 and 1 (value_type='proportion')",
                    column=column,
                    rows=np.flatnonzero(bad.to_numpy()).tolist(),
                    hint="Give proportions on the 0-1 scale and use multiplier=100 for percent",
                )
    if value_type in ("rate", "proportion"):
        # The log/logit of the value and the limits must exist to transform (phe_sii computes
        # the standard error on that scale whatever ``transform`` says).
        for column, values in ((value, val), (lower, low_values), (upper, up_values)):
            if values is None:
                continue
            if value_type == "rate":
                bad = values <= 0
                rule = "rates must be positive to take their logarithm"
            else:
                bad = (values <= 0) | (values >= 1)
                rule = "proportions must lie strictly between 0 and 1 to take their logit"
            if bad.any():
                raise DataValidationError(
                    rule, column=column, rows=np.flatnonzero(bad.to_numpy()).tolist()
                )

    frame["_pop"] = pop
    frame["_value"] = val
    if se_values is not None:
        frame["_se"] = se_values
    else:
        frame["_se"] = (
            _forward(value_type, up_values.to_numpy()) - _forward(value_type, low_values.to_numpy())
        ) / (2 * _Z_95)

    quantiles_all = frame[quantile].dropna().unique()
    n_quantiles = len(quantiles_all)
    if n_quantiles > PHE_MAX_QUANTILES:
        raise DataValidationError(
            f"{function} accepts at most {PHE_MAX_QUANTILES} groups (as phe_sii); found "
            f"{n_quantiles}",
            column=quantile,
        )
    check_min_groups(n_quantiles, min_groups, {}, function)
    if n_quantiles > 10:
        warnings.warn(
            f"{function}: {n_quantiles} groups; small groups can make the SII unstable",
            stacklevel=2,
        )

    scale_note = (
        {"rate": ", log scale", "proportion": ", logit scale"}[value_type] if transform else ""
    )
    method = (
        f"PHEindicatormethods phe_sii: weighted linear regression on the ridit{scale_note}; "
        f"simulated CI ({repetitions} draws)"
    )
    rng = np.random.default_rng(seed)
    records = []
    batches = 10 if reliability_stat else 1
    for where, rows in iter_groups(frame, by_cols):
        check_unique_groups(rows, quantile, where)
        record: dict[str, Any] = dict(where)
        complete = (
            len(rows) == n_quantiles and rows[["_value", "_se", quantile]].notna().all().all()
        )
        if not complete:
            place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
            warnings.warn(
                f"{function}: {place} lacks a group or has a missing value or standard error; "
                "its SII is left missing",
                stacklevel=2,
            )
            record.update(
                sii=np.nan,
                sii_ci_low=np.nan,
                sii_ci_high=np.nan,
                rii=np.nan,
                rii_ci_low=np.nan,
                rii_ci_high=np.nan,
                intercept=np.nan,
                sii_mad=np.nan,
                rii_mad=np.nan,
                n_groups=len(rows),
            )
            records.append(record)
            continue
        rows = group_order(rows, quantile, None, function)
        pops = rows["_pop"].to_numpy()
        share = pops / pops.sum()
        b = ridit(np.arange(len(pops)), pops, order=list(range(len(pops))))
        sqrt_a = np.sqrt(share)
        b_sqrt_a = b * sqrt_a
        values = rows["_value"].to_numpy()
        y = _forward(value_type, values) if transform else values
        point = _phe_summaries(_phe_fit(y, sqrt_a, b_sqrt_a), value_type, transform)
        sii_hat, rii_hat, intercept = (float(x[0]) for x in point)

        centre = _forward(value_type, values)
        draws = rng.normal(centre, rows["_se"].to_numpy(), size=(repetitions * batches, len(pops)))
        if not transform:
            draws = _inverse(value_type, draws)
        sim_sii, sim_rii, _ = _phe_summaries(
            _phe_fit(draws, sqrt_a, b_sqrt_a), value_type, transform
        )
        # batch j holds draws j*repetitions ... (j+1)*repetitions - 1, like R's matrix(ncol=10)
        sii_low, sii_high, sii_mad = _phe_bounds(
            sim_sii.reshape(batches, repetitions).T, repetitions, level
        )
        rii_low, rii_high, rii_mad = _phe_bounds(
            sim_rii.reshape(batches, repetitions).T, repetitions, level
        )
        if multiplier < 0:
            sii_low, sii_high = multiplier * sii_high, multiplier * sii_low
            rii_hat, rii_low, rii_high = 1 / rii_hat, 1 / rii_high, 1 / rii_low
        else:
            sii_low, sii_high = multiplier * sii_low, multiplier * sii_high
        record.update(
            sii=multiplier * sii_hat,
            sii_ci_low=sii_low,
            sii_ci_high=sii_high,
            rii=rii_hat,
            rii_ci_low=rii_low,
            rii_ci_high=rii_high,
            intercept=intercept,
            sii_mad=abs(multiplier) * sii_mad if sii_mad is not None else np.nan,
            rii_mad=rii_mad if rii_mad is not None else np.nan,
            n_groups=len(rows),
        )
        records.append(record)

    columns = ["sii", "sii_ci_low", "sii_ci_high"]
    if rii:
        columns += ["rii", "rii_ci_low", "rii_ci_high"]
    columns += ["intercept", "n_groups"]
    if reliability_stat:
        columns += ["sii_mad", "rii_mad"] if rii else ["sii_mad"]
    result = result_frame(records, by_cols, columns)
    return result.assign(
        value_type=value_type,
        transform=transform,
        multiplier=multiplier,
        repetitions=repetitions,
        method=method,
        level=level,
    )


# ---------------------------------------------------------------------------------------------
# WHO healthequal measures
# ---------------------------------------------------------------------------------------------


def simple_gap(
    data: pd.DataFrame,
    group: str,
    value: str,
    se: str | None = None,
    *,
    by: str | Sequence[str] | None = None,
    ordered: bool = True,
    order: str | None = None,
    direction: str = "increase",
    reference: Hashable | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Difference (D) and ratio (R) between two groups, as WHO healthequal ``d`` and ``r``.

    The pair compared (WHO Health Equity Assessment Toolkit; healthequal; Schlotheuber &
    Hosseinpoor 2022):

    * ordered dimension: the least advantaged (first in order) and the most advantaged group
      (last in order);
    * non-ordered dimension: the worst-off group (lowest value if ``direction="increase"``,
      highest if ``"decrease"``) and the ``reference`` group, by default the best-off group.

    The sign follows the indicator's desired direction so that D > 0 and R > 1 always mean the
    comparison group is worse off than the reference: for ``"increase"`` D = reference -
    comparison and R = reference / comparison; for ``"decrease"`` D = comparison - reference and
    R = comparison / reference.

    With standard errors, se(D) = sqrt(se1^2 + se2^2) and the interval is D +/- z*se; for R the
    interval is exp(log R +/- z*se(log R)) with se(log R) = sqrt(se_num^2 / num^2 + se_den^2 /
    den^2) (delta method; Ahn et al. 2018), both assuming independent groups.

    Parameters
    ----------
    data
        One row per group and ``by`` grouping; not modified.
    group
        Column with the group labels.
    value
        Column with the group estimates.
    se
        Optional column with their standard errors (gives the intervals).
    by
        Column(s) defining separate analyses.
    ordered
        Whether the dimension is ordered (education) or not (labour-market attachment).
    order
        Numeric column giving the order, low = least advantaged; default the group column's
        own order (ordered Categorical or numbers). Only for ordered dimensions.
    direction
        ``"increase"`` if higher values are better (the catalogue's desired direction), else
        ``"decrease"``.
    reference
        Label of the reference group for a non-ordered dimension (default: the best-off group).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``reference_group``, ``comparison_group``, ``d``, ``d_se``,
        ``d_ci_low``, ``d_ci_high``, ``r``, ``r_log_se``, ``r_ci_low``, ``r_ci_high``,
        ``n_groups``, ``direction``, ``method`` and ``level``.

    Raises
    ------
    ParameterError
        Unknown column or option; ``reference`` with an ordered dimension or not found.
    DataValidationError
        Non-numeric or missing values, negative standard errors, a group listed twice, fewer
        than 2 groups.
    """
    function = "simple_gap"
    check_direction(direction, function)
    level = check_level(level, function)
    if ordered and reference is not None:
        raise ParameterError(
            f"{function}: reference= is for non-ordered dimensions; an ordered dimension is "
            "compared between its least and most advantaged group"
        )
    if not ordered and order is not None:
        raise ParameterError(f"{function}: order= is only used when ordered=True")
    frame, by_cols = prepare_grouped(data, function, group, value, se=se, order=order, by=by)
    sign = direction_sign(direction)
    z = z_value(level)
    records = []
    for where, rows in iter_groups(frame, by_cols):
        check_unique_groups(rows, group, where)
        check_min_groups(len(rows), 2, where, function)
        if ordered:
            rows = group_order(rows, group, order, function)
            cmp_pos, ref_pos = 0, len(rows) - 1
            kind = "least vs most advantaged"
        else:
            cmp_pos = int(np.argmin(sign * rows["_value"].to_numpy()))
            if reference is None:
                ref_pos = int(np.argmax(sign * rows["_value"].to_numpy()))
                kind = "worst vs best group"
            else:
                matches = np.flatnonzero((rows[group] == reference).to_numpy())
                if len(matches) == 0:
                    raise ParameterError(
                        f"{function}: reference group {reference!r} not found in column "
                        f"{group!r}" + (f" for {where}" if where else "")
                    )
                ref_pos = int(matches[0])
                kind = f"worst vs reference group {reference!r}"
        # positions, not row Series: a row of mixed columns would upcast integer labels to float
        ref = {c: rows[c].iloc[ref_pos] for c in (group, "_value", "_se") if c in rows}
        comparison = {c: rows[c].iloc[cmp_pos] for c in (group, "_value", "_se") if c in rows}
        y_ref, y_cmp = float(ref["_value"]), float(comparison["_value"])
        d = sign * (y_ref - y_cmp)
        numerator, denominator = (y_ref, y_cmp) if sign > 0 else (y_cmp, y_ref)
        r = numerator / denominator if denominator != 0 else np.nan
        d_se = r_log_se = np.nan
        if se is not None:
            se_ref, se_cmp = float(ref["_se"]), float(comparison["_se"])
            d_se = math.hypot(se_ref, se_cmp)
            se_num, se_den = (se_ref, se_cmp) if sign > 0 else (se_cmp, se_ref)
            if numerator > 0 and denominator > 0:
                r_log_se = math.sqrt((se_num / numerator) ** 2 + (se_den / denominator) ** 2)
        records.append(
            {
                **where,
                "reference_group": ref[group],
                "comparison_group": comparison[group],
                "d": d,
                "d_se": d_se,
                "d_ci_low": d - z * d_se,
                "d_ci_high": d + z * d_se,
                "r": r,
                "r_log_se": r_log_se,
                "r_ci_low": r * math.exp(-z * r_log_se) if np.isfinite(r_log_se) else np.nan,
                "r_ci_high": r * math.exp(z * r_log_se) if np.isfinite(r_log_se) else np.nan,
                "n_groups": len(rows),
                "method": f"WHO healthequal d/r: {kind}",
            }
        )
    columns = [
        "reference_group",
        "comparison_group",
        "d",
        "d_se",
        "d_ci_low",
        "d_ci_high",
        "r",
        "r_log_se",
        "r_ci_low",
        "r_ci_high",
        "n_groups",
        "method",
    ]
    result = result_frame(records, by_cols, columns)
    result.insert(len(result.columns) - 1, "direction", direction)
    return result.assign(level=level)


def bgv(
    data: pd.DataFrame,
    group: str,
    value: str,
    population: str,
    se: str | None = None,
    *,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Between-group variance, as WHO healthequal ``bgv``.

    BGV = sum_j p_j (y_j - mu)^2 with p_j the population share of group j and mu = sum_j p_j y_j
    (WHO HEAT; Schlotheuber & Hosseinpoor 2022). It is in squared units of the indicator and
    suits non-ordered dimensions. With standard errors, its standard error is Ahn et al.'s
    (2018): sqrt(4 sum p^2 se^2 (y - mu)^2 + 2 ((sum p^2 se^2)^2 - sum p^4 se^4 +
    sum p^2 (1 - p)^2 se^4)), and the interval BGV +/- z*se.

    Parameters
    ----------
    data, group, value, population, se, by, level
        As in :func:`simple_gap`; ``population`` gives the group sizes.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``bgv``, ``bgv_se``, ``bgv_ci_low``, ``bgv_ci_high``, ``mean``
        (population-weighted), ``n_groups``, ``method`` and ``level``.

    Raises
    ------
    ParameterError
        Unknown column, invalid level.
    DataValidationError
        Non-numeric or missing values, zero/negative populations, negative standard errors,
        a group listed twice, fewer than 2 groups.
    """
    function = "bgv"
    level = check_level(level, function)
    frame, by_cols = prepare_grouped(
        data, function, group, value, population=population, se=se, by=by
    )
    z = z_value(level)
    records = []
    for where, rows in iter_groups(frame, by_cols):
        check_unique_groups(rows, group, where)
        check_min_groups(len(rows), 2, where, function)
        share = rows["_pop"].to_numpy() / rows["_pop"].sum()
        y = rows["_value"].to_numpy()
        mean = float(np.sum(share * y))
        estimate = float(np.sum(share * (y - mean) ** 2))
        se_bgv = np.nan
        if se is not None and rows["_se"].notna().all():
            s = rows["_se"].to_numpy()
            term_mean = np.sum(share**2 * s**2 * (y - mean) ** 2)
            s2 = np.sum(share**2 * s**2)
            s4 = np.sum(share**4 * s**4)
            se4 = np.sum(share**2 * (1 - share) ** 2 * s**4)
            se_bgv = float(np.sqrt(4 * term_mean + 2 * (s2**2 - s4 + se4)))
        records.append(
            {
                **where,
                "bgv": estimate,
                "bgv_se": se_bgv,
                "bgv_ci_low": estimate - z * se_bgv,
                "bgv_ci_high": estimate + z * se_bgv,
                "mean": mean,
                "n_groups": len(rows),
            }
        )
    columns = ["bgv", "bgv_se", "bgv_ci_low", "bgv_ci_high", "mean", "n_groups"]
    return result_frame(records, by_cols, columns).assign(
        method="WHO healthequal bgv: population-weighted between-group variance", level=level
    )


def _check_scale(scale, function: str) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
        raise ParameterError(f"{function}: scale must be a positive number, got {scale!r}")


def _check_within_scale(frame: pd.DataFrame, value: str, scale: float, why: str = "") -> None:
    """Every prepared value lies in 0..scale (proportions, or percentages with scale=100)."""
    outside = (frame["_value"] < 0) | (frame["_value"] > scale)
    if outside.any():
        raise DataValidationError(
            f"values must lie between 0 and scale={scale:g}{why}",
            column=value,
            rows=np.flatnonzero(outside.to_numpy()).tolist(),
            hint="Give scale=100 for percentages",
        )


def paf(
    data: pd.DataFrame,
    group: str,
    value: str,
    population: str,
    *,
    by: str | Sequence[str] | None = None,
    ordered: bool = True,
    order: str | None = None,
    direction: str = "increase",
    scale: float = 1.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Population attributable risk (PAR) and fraction (PAF), as WHO healthequal ``parisk``/``paf``.

    PAR = y_ref - mu and PAF = PAR / mu (WHO HEAT; Schlotheuber & Hosseinpoor 2022), with mu the
    population-weighted mean and y_ref the reference group: the most advantaged group (last in
    order) for an ordered dimension, the best-off group (highest value if
    ``direction="increase"``, lowest if ``"decrease"``) for a non-ordered one. Where the
    reference is not better than the mean, PAR and PAF are set to 0 (no improvement possible).

    Standard error of the PAF: Walter (1978), from the 2x2 table of the reference group and the
    rest built from the proportions (``value / scale``) and populations; se(PAR) = mu * se(PAF).
    Intervals are estimate +/- z*se. PAF is a fraction here (healthequal reports 100 x PAF in
    percent but adds the fraction-scale se to it; its PAF interval is therefore not reproduced).

    Parameters
    ----------
    data, group, value, population, by, ordered, order, direction, level
        As in :func:`simple_gap` and :func:`bgv`.
    scale
        What a value of "all" is: 1 for proportions on the 0-1 scale (default), 100 for
        percentages, 1000 for rates per 1000. Only the standard error uses it.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``reference_group``, ``mean``, ``par``, ``par_se``, ``par_ci_low``,
        ``par_ci_high``, ``paf``, ``paf_se``, ``paf_ci_low``, ``paf_ci_high``, ``n_groups``,
        ``direction``, ``method`` and ``level``.

    Raises
    ------
    ParameterError
        Unknown column or option, non-positive ``scale``.
    DataValidationError
        Non-numeric or missing values, values outside 0..scale, zero/negative populations, a
        group listed twice, fewer than 2 groups.
    """
    function = "paf"
    check_direction(direction, function)
    level = check_level(level, function)
    _check_scale(scale, function)
    if not ordered and order is not None:
        raise ParameterError(f"{function}: order= is only used when ordered=True")
    frame, by_cols = prepare_grouped(
        data, function, group, value, population=population, order=order, by=by
    )
    _check_within_scale(frame, value, scale)
    sign = direction_sign(direction)
    z = z_value(level)
    records = []
    for where, rows in iter_groups(frame, by_cols):
        check_unique_groups(rows, group, where)
        check_min_groups(len(rows), 2, where, function)
        if ordered:
            rows = group_order(rows, group, order, function)
            ref_pos = len(rows) - 1
        else:
            ref_pos = int(np.argmax(sign * rows["_value"].to_numpy()))
        pops = rows["_pop"].to_numpy()
        total = pops.sum()
        mean = float(np.sum(pops * rows["_value"].to_numpy()) / total)
        y_ref, n_ref = float(rows["_value"].iloc[ref_pos]), float(pops[ref_pos])
        gap = y_ref - mean
        par = 0.0 if sign * gap < 0 else gap
        fraction = par / mean if mean != 0 else np.nan
        # Walter (1978): c, d = reference group with / without; a, b = the rest.
        c = y_ref / scale * n_ref
        d = n_ref - c
        a = mean / scale * total - c
        b = total - a - n_ref
        n = a + b + c + d
        with np.errstate(divide="ignore", invalid="ignore"):
            paf_se = float(
                np.sqrt((c * n * (a * d * (n - c) + b * c**2)) / ((a + c) ** 3 * (c + d) ** 3))
            )
        par_se = abs(mean) * paf_se
        records.append(
            {
                **where,
                "reference_group": rows[group].iloc[ref_pos],
                "mean": mean,
                "par": par,
                "par_se": par_se,
                "par_ci_low": par - z * par_se,
                "par_ci_high": par + z * par_se,
                "paf": fraction,
                "paf_se": paf_se,
                "paf_ci_low": fraction - z * paf_se,
                "paf_ci_high": fraction + z * paf_se,
                "n_groups": len(rows),
            }
        )
    columns = [
        "reference_group",
        "mean",
        "par",
        "par_se",
        "par_ci_low",
        "par_ci_high",
        "paf",
        "paf_se",
        "paf_ci_low",
        "paf_ci_high",
        "n_groups",
    ]
    kind = "most advantaged group" if ordered else "best-off group"
    return result_frame(records, by_cols, columns).assign(
        direction=direction,
        method=f"WHO healthequal parisk/paf against the {kind}; Walter (1978) se",
        level=level,
    )


def concentration_index(
    data: pd.DataFrame,
    group: str,
    value: str,
    population: str,
    *,
    by: str | Sequence[str] | None = None,
    order: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Absolute and relative concentration index for grouped data, as WHO healthequal ``aci``/``rci``.

    Kakwani, Wagstaff & van Doorslaer (1997) convenient regression on grouped data: with ridit
    r_j, population share p_j, mean mu and sigma^2 = sum_j p_j (r_j - 0.5)^2, the ordinary least
    squares fit of ``2 sigma^2 y_j sqrt(n_j) = alpha sqrt(n_j) + beta r_j sqrt(n_j)`` (no free
    intercept) gives ACI = beta; the same with y_j / mu gives RCI = ACI / mu. Standard errors are
    the model-based OLS ones (``glm(..., family = gaussian)`` in healthequal), intervals
    estimate +/- z*se. Positive values: the indicator is concentrated among the advantaged.

    Parameters
    ----------
    data, group, value, population, by, order, level
        As in :func:`simple_gap` and :func:`bgv`; the dimension must be ordered.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``aci``, ``aci_se``, ``aci_ci_low``, ``aci_ci_high``, ``rci``,
        ``rci_se``, ``rci_ci_low``, ``rci_ci_high``, ``mean``, ``n_groups``, ``method`` and
        ``level``.

    Raises
    ------
    ParameterError
        Unknown column, invalid level, no way to order the groups.
    DataValidationError
        Non-numeric or missing values, zero/negative populations, a group listed twice, fewer
        than 3 groups (the regression needs a residual degree of freedom).
    """
    function = "concentration_index"
    level = check_level(level, function)
    frame, by_cols = prepare_grouped(
        data, function, group, value, population=population, order=order, by=by
    )
    z = z_value(level)
    records = []
    for where, rows in iter_groups(frame, by_cols):
        check_unique_groups(rows, group, where)
        check_min_groups(len(rows), 3, where, function)
        rows = group_order(rows, group, order, function)
        pops = rows["_pop"].to_numpy()
        y = rows["_value"].to_numpy()
        share = pops / pops.sum()
        rank = ridit(np.arange(len(pops)), pops, order=list(range(len(pops))))
        sigma2 = float(np.sum(share * (rank - 0.5) ** 2))
        mean = float(np.sum(share * y))
        root = np.sqrt(pops)
        design = np.column_stack([rank * root, root])
        out: dict[str, Any] = {}
        for name, response in (
            ("aci", 2 * sigma2 * y * root),
            ("rci", 2 * sigma2 * y / mean * root),
        ):
            coef, _, _, _ = np.linalg.lstsq(design, response, rcond=None)
            residual = response - design @ coef
            dispersion = float(residual @ residual) / (len(y) - 2)
            cov = dispersion * np.linalg.inv(design.T @ design)
            estimate, est_se = float(coef[0]), float(np.sqrt(cov[0, 0]))
            out.update(
                {
                    name: estimate,
                    f"{name}_se": est_se,
                    f"{name}_ci_low": estimate - z * est_se,
                    f"{name}_ci_high": estimate + z * est_se,
                }
            )
        records.append({**where, **out, "mean": mean, "n_groups": len(rows)})
    columns = [
        "aci",
        "aci_se",
        "aci_ci_low",
        "aci_ci_high",
        "rci",
        "rci_se",
        "rci_ci_low",
        "rci_ci_high",
        "mean",
        "n_groups",
    ]
    return result_frame(records, by_cols, columns).assign(
        method="WHO healthequal aci/rci: Kakwani convenient regression on grouped data",
        level=level,
    )


def _binomial_irls(
    x: np.ndarray, p: np.ndarray, prior: np.ndarray, tol: float = 1e-12, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a logistic regression to proportions ``p`` with prior weights; return (coef, mu)."""
    mu = (prior * p + 0.5) / (prior + 1)  # R's binomial()$initialize
    eta = logit(mu)
    coef = np.zeros(x.shape[1])
    for _ in range(max_iter):
        var = mu * (1 - mu)
        working = prior * var
        response = eta + (p - mu) / var
        xtw = x.T * working
        new = np.linalg.solve(xtw @ x, xtw @ response)
        converged = np.max(np.abs(new - coef)) < tol * (1 + np.max(np.abs(new)))
        coef = new
        eta = x @ coef
        mu = expit(eta)
        if converged:
            break
    else:  # pragma: no cover - two-parameter logistic fits converge in a handful of steps
        warnings.warn("logistic SII: the model did not converge", stacklevel=3)
    return coef, mu


def sii_logistic_grouped(
    data: pd.DataFrame,
    group: str,
    value: str,
    population: str,
    *,
    by: str | Sequence[str] | None = None,
    order: str | None = None,
    scale: float = 1.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """SII and RII from a logistic model on the ridit, as WHO healthequal ``sii``/``rii``.

    Method (WHO HEAT; healthequal, disaggregated-data branch): group counts are formed as
    healthequal does, n_j = ceiling(population_j) and y_j = round(value_j / scale * n_j);
    ``glm(cbind(y, n - y) ~ rank, weights = n, family = quasibinomial)`` is fitted on the ridit
    (R then uses prior weights n_j^2, because a two-column response multiplies the given weights
    by the totals; reproduced here). SII = P(rank 1) - P(rank 0) and RII = P(rank 1) / P(rank 0)
    from the fitted curve; standard errors by the delta method with the HC1 sandwich covariance
    (``marginaleffects::avg_comparisons(vcov = "HC1")``); the RII interval is built on the log
    scale. Predictions at rank 0 and 1 extrapolate half a group beyond the extreme ridits.

    Parameters
    ----------
    data, group, value, population, by, order, level
        As in :func:`simple_gap` and :func:`bgv`; the dimension must be ordered, least
        advantaged first.
    scale
        1 for proportions on the 0-1 scale (default), 100 for percentages. ``sii``, its standard
        error and limits are reported on the same scale as ``value`` (healthequal leaves the se on
        the 0-1 scale).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``sii``, ``sii_se``, ``sii_ci_low``, ``sii_ci_high``, ``rii``,
        ``rii_log_se``, ``rii_ci_low``, ``rii_ci_high``, ``n_groups``, ``method`` and ``level``.

    Raises
    ------
    ParameterError
        Unknown column, invalid level or scale, no way to order the groups.
    DataValidationError
        Non-numeric or missing values, values outside 0..scale, zero/negative populations, a
        group listed twice, fewer than 3 groups, or the same value in every group.
    """
    function = "sii_logistic_grouped"
    level = check_level(level, function)
    _check_scale(scale, function)
    frame, by_cols = prepare_grouped(
        data, function, group, value, population=population, order=order, by=by
    )
    _check_within_scale(frame, value, scale, " for a logistic model")
    z = z_value(level)
    records = []
    for where, rows in iter_groups(frame, by_cols):
        check_unique_groups(rows, group, where)
        check_min_groups(len(rows), 3, where, function)
        if rows["_value"].nunique() == 1:
            place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
            raise DataValidationError(
                f"all groups have the same value in {place}; the logistic SII is not defined "
                "(healthequal refuses it too)",
                column=value,
            )
        rows = group_order(rows, group, order, function)
        n = np.ceil(rows["_pop"].to_numpy())
        y = np.round(rows["_value"].to_numpy() / scale * n)
        rank = ridit(np.arange(len(n)), n, order=list(range(len(n))))
        x = np.column_stack([np.ones_like(rank), rank])
        prior = n * n
        coef, mu = _binomial_irls(x, y / n, prior)
        working = prior * mu * (1 - mu)
        bread = np.linalg.inv((x.T * working) @ x)
        score_resid = prior * (y / n - mu)
        meat = (x.T * score_resid**2) @ x
        k = len(n)
        cov = bread @ meat @ bread * k / (k - x.shape[1])  # HC1
        p0, p1 = expit(coef[0]), expit(coef[0] + coef[1])
        grad_sii = np.array([p1 * (1 - p1) - p0 * (1 - p0), p1 * (1 - p1)])
        grad_log_rii = np.array([p0 - p1, 1 - p1])
        sii_est = float(p1 - p0)
        sii_se = float(np.sqrt(grad_sii @ cov @ grad_sii))
        log_rii = float(np.log(p1 / p0))
        log_rii_se = float(np.sqrt(grad_log_rii @ cov @ grad_log_rii))
        records.append(
            {
                **where,
                "sii": scale * sii_est,
                "sii_se": scale * sii_se,
                "sii_ci_low": scale * (sii_est - z * sii_se),
                "sii_ci_high": scale * (sii_est + z * sii_se),
                "rii": math.exp(log_rii),
                "rii_log_se": log_rii_se,
                "rii_ci_low": math.exp(log_rii - z * log_rii_se),
                "rii_ci_high": math.exp(log_rii + z * log_rii_se),
                "n_groups": k,
            }
        )
    columns = [
        "sii",
        "sii_se",
        "sii_ci_low",
        "sii_ci_high",
        "rii",
        "rii_log_se",
        "rii_ci_low",
        "rii_ci_high",
        "n_groups",
    ]
    return result_frame(records, by_cols, columns).assign(
        method="WHO healthequal sii/rii: logistic regression on the ridit, HC1 delta-method se",
        level=level,
    )


# ---------------------------------------------------------------------------------------------
# Survey microdata: SII/RII from a survey-weighted logistic model on the weighted ridit, the
# cube of inequality measures per indicator x wave x area, and the change in the gap
# ---------------------------------------------------------------------------------------------
#
# Every measure below is a smooth function of weighted tallies per cell (e.g. area x wave) x key
# (group x outcome, and wave for the interaction models). Each measure's linearised (influence)
# value for respondent i in a cell is therefore w_i * F(cell, key_i), and its design variance
# needs only the sums of w and w^2 per cell x stratum x key (or of w per cell x PSU x key when
# PSUs are given). One pass of bincounts over the respondents serves thousands of cells; the
# logistic fits are Newton-Raphson on at most a few dozen weighted "key rows" per cell. The
# numbers are identical to fitting each cell with analyse.stats.survey.logistic (R svyglm), which the
# tests check.

#: The five education groups of Sundhedsprofilen, from least to most advantaged (DESIGN.md §4).
