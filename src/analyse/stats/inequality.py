"""Social inequality measures for grouped (disaggregated) data and for survey microdata.

Grouped data: one row per population group (e.g. five education groups) goes in; one row per
``by`` grouping (e.g. area x wave x indicator) comes out, with named result columns plus
``method`` and ``level``. Two families live here:

* the PHEindicatormethods (UKHSA) slope index of inequality for grouped data, ``sii_grouped``:
  weighted linear regression on the ridit, Monte Carlo confidence intervals (``phe_sii``);
* the WHO Health Equity Assessment Toolkit measures as implemented in the R package
  ``healthequal``: difference and ratio (``simple_gap``), between-group variance (``bgv``),
  population attributable fraction and risk (``paf``), absolute and relative concentration
  index (``concentration_index``) and the logistic SII/RII on grouped data
  (``sii_logistic_grouped``).

``ridit`` (the relative rank: midpoint of each group's cumulative population share) is shared by
all of them and by the survey-microdata SII.

Survey microdata (one row per respondent, design-based standard errors as ``analyse.stats.survey``):
``sii_survey`` (survey-weighted logistic model on the weighted ridit, WHO/healthequal convention;
Moreno-Betancur et al. 2015), ``gap_change`` (does the gap narrow between waves) and
``inequality_for_cube`` (every measure per indicator x wave x area, for ``analyse.cube.estimates``).

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
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm
from scipy.stats import t as t_dist

from analyse.errors import DataValidationError, ParameterError
from analyse.reference import catalogue, geography
from analyse.stats.disclosure import REASON_FEW_CASES, REASON_FEW_RESPONDENTS, Rules
from analyse.stats.survey import Design, DesignCodes, design_codes

__all__ = [
    "EDUCATION_LEVELS",
    "LABOUR_MARKET_LEVELS",
    "bgv",
    "concentration_index",
    "gap_change",
    "gap_change_for_cube",
    "inequality_for_cube",
    "paf",
    "ridit",
    "sii_grouped",
    "sii_logistic_grouped",
    "sii_survey",
    "simple_gap",
]

DIRECTIONS = ("increase", "decrease")
VALUE_TYPES = ("normal", "rate", "proportion")
# phe_sii refuses fewer than 5 or more than 100 quantiles: the linear SII is unstable with few
# groups. Callers may lower the minimum explicitly (never below 2, where the line is exact).
PHE_MIN_QUANTILES = 5
PHE_MAX_QUANTILES = 100
# phe_sii derives the standard error from a 95 % interval whatever the requested level.
_Z_95 = norm.ppf(0.975)


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def ridit(
    groups: Sequence[Hashable] | pd.Series | np.ndarray,
    population: Sequence[float] | pd.Series | np.ndarray,
    order: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """Return the ridit (relative rank) of each row's group.

    The ridit of a group is the midpoint of its range in the cumulative population distribution,
    with groups ranked from the least to the most advantaged: if group 1 holds 12 % of the
    population its ridit is 0.06, and if group 2 holds 10 % its ridit is 0.12 + 0.10 / 2 = 0.17
    (PHEindicatormethods ``FindXValues``; healthequal's ``rank``; Mackenbach & Kunst 1997).

    Works for grouped data (one row per group, ``population`` = group size) and for
    individual-level data (one row per respondent, ``population`` = survey weight): rows of the
    same group get the same ridit, computed from the summed population of each group.

    Parameters
    ----------
    groups
        Group label of each row.
    population
        Population count (grouped data) or weight (microdata) of each row; must be finite and
        non-negative, with a positive total.
    order
        The group labels from least to most advantaged. Default: the category order of a pandas
        Categorical, otherwise the sorted unique labels.

    Returns
    -------
    numpy.ndarray
        The ridit of each row, in the input row order, between 0 and 1.

    Raises
    ------
    ParameterError
        If the lengths differ, ``order`` misses a group present in ``groups``, or the population
        is negative, missing or sums to zero.
    """
    labels = pd.Series(groups).reset_index(drop=True)
    weights = pd.Series(population, dtype="float64").reset_index(drop=True)
    if len(labels) != len(weights):
        raise ParameterError(
            f"ridit: groups ({len(labels)}) and population ({len(weights)}) differ in length"
        )
    if weights.isna().any() or (weights < 0).any() or not np.isfinite(weights).all():
        raise ParameterError("ridit: population must be finite and not negative in every row")
    if order is None:
        if isinstance(labels.dtype, pd.CategoricalDtype):
            order = [c for c in labels.cat.categories if c in set(labels)]
        else:
            order = sorted(labels.unique())
    order = list(order)
    unknown = sorted({str(g) for g in labels.unique()} - {str(g) for g in order})
    if unknown:
        raise ParameterError(f"ridit: groups not in the given order: {', '.join(unknown)}")
    totals = weights.groupby(labels.astype(object), sort=False).sum()
    totals = totals.reindex(order, fill_value=0.0)
    grand_total = totals.sum()
    if grand_total <= 0:
        raise ParameterError("ridit: the total population is zero")
    share = totals.to_numpy() / grand_total
    midpoint = np.cumsum(share) - share / 2
    lookup = dict(zip(order, midpoint, strict=True))
    return labels.astype(object).map(lookup).to_numpy(dtype="float64")


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _check_frame(data: Any, columns: Iterable[str | None], function: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"{function}: data must be a pandas DataFrame, got {type(data)}")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise ParameterError(
            f"{function}: column(s) {', '.join(repr(c) for c in missing)} not in the data "
            f"(available: {', '.join(map(str, data.columns))})"
        )


def _check_level(level: float, function: str) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ParameterError(
            f"{function}: level must be a confidence level between 0 and 1 (e.g. 0.95), "
            f"got {level!r}"
        )
    return float(level)


def _check_direction(direction: str, function: str) -> str:
    if direction not in DIRECTIONS:
        raise ParameterError(
            f"{function}: direction must be 'increase' (higher values are better) or "
            f"'decrease' (lower values are better), got {direction!r}"
        )
    return direction


def _numeric(data: pd.DataFrame, column: str, *, allow_missing: bool = False) -> pd.Series:
    """Return ``column`` as float, or raise naming the rows that are not numbers."""
    raw = data[column]
    if pd.api.types.is_bool_dtype(raw):
        raise DataValidationError("must be numeric, found true/false values", column=column)
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = values.isna() & raw.notna()
    if bad.any():
        raise DataValidationError(
            "must be numeric; some values are text",
            column=column,
            rows=np.flatnonzero(bad.to_numpy()).tolist(),
            hint=f"First value that is not a number: {raw[bad].iloc[0]!r}",
        )
    if not allow_missing and values.isna().any():
        raise DataValidationError(
            "has missing values",
            column=column,
            rows=np.flatnonzero(values.isna().to_numpy()).tolist(),
        )
    return values


def _check_population(population: pd.Series, column: str) -> None:
    bad = ~(population > 0) | ~np.isfinite(population)
    if bad.any():
        raise DataValidationError(
            "population must be a positive number in every group (zero, negative or missing found)",
            column=column,
            rows=np.flatnonzero(bad.to_numpy()).tolist(),
        )


def _check_nonnegative(values: pd.Series, column: str, what: str) -> None:
    bad = values < 0
    if bad.any():
        raise DataValidationError(
            f"{what} must not be negative",
            column=column,
            rows=np.flatnonzero(bad.to_numpy()).tolist(),
        )


def _groups(frame: pd.DataFrame, by: list[str]) -> Iterable[tuple[dict[str, Any], pd.DataFrame]]:
    """Yield (grouping values, rows) per ``by`` grouping in order of first appearance."""
    if not by:
        yield {}, frame
        return
    for key, rows in frame.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), rows


def _group_order(rows: pd.DataFrame, group: str, order: str | None, function: str) -> pd.DataFrame:
    """Return ``rows`` sorted from least to most advantaged group.

    The order comes from the ``order`` column when given, otherwise from the group column
    itself: the category order of a pandas Categorical, or ascending numbers.
    """
    if order is not None:
        key = _numeric(rows, order)
        return rows.assign(_rank_key=key.to_numpy()).sort_values("_rank_key", kind="stable")
    labels = rows[group]
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return rows.assign(_rank_key=labels.cat.codes.to_numpy()).sort_values(
            "_rank_key", kind="stable"
        )
    if pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels):
        return rows.assign(_rank_key=labels.to_numpy()).sort_values("_rank_key", kind="stable")
    raise ParameterError(
        f"{function}: cannot tell the order of the groups in column {group!r}: give order= "
        "(a numeric column, low = least advantaged) or make the column an ordered pandas "
        "Categorical"
    )


def _check_unique_groups(rows: pd.DataFrame, group: str, where: dict[str, Any]) -> None:
    duplicated = rows[group].duplicated(keep=False)
    if duplicated.any():
        place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
        raise DataValidationError(
            f"each group may appear only once per grouping, but some appear twice in {place}",
            column=group,
            rows=[int(i) for i in rows.index[duplicated.to_numpy()]],
        )


def _check_min_groups(n: int, minimum: int, where: dict[str, Any], function: str) -> None:
    if n < minimum:
        place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
        raise DataValidationError(
            f"{function} needs at least {minimum} groups, found {n} in {place}"
        )


def _z(level: float) -> float:
    return float(norm.ppf(1 - (1 - level) / 2))


def _result_frame(records: list[dict[str, Any]], by: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=[*by, *columns])
    return frame.reset_index(drop=True)


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
    by_cols = _as_list(by)
    _check_frame(data, [quantile, population, value, se, lower, upper, *by_cols], function)
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
    level = _check_level(level, function)

    frame = data.copy()
    pop = _numeric(frame, population, allow_missing=True)
    _check_population(pop, population)
    val = _numeric(frame, value, allow_missing=True)
    se_values = _numeric(frame, se, allow_missing=True) if se is not None else None
    low_values = _numeric(frame, lower, allow_missing=True) if se is None else None
    up_values = _numeric(frame, upper, allow_missing=True) if se is None else None
    if se_values is not None:
        _check_nonnegative(se_values, se, "standard errors")
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
    _check_min_groups(n_quantiles, min_groups, {}, function)
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
    for where, rows in _groups(frame, by_cols):
        _check_unique_groups(rows, quantile, where)
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
        rows = _group_order(rows, quantile, None, function)
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
    result = _result_frame(records, by_cols, columns)
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


def _prepare(
    data: pd.DataFrame,
    function: str,
    group: str,
    value: str,
    *,
    population: str | None = None,
    se: str | None = None,
    order: str | None = None,
    by: str | Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Validate the common inputs and return a working copy with _value/_pop/_se columns."""
    by_cols = _as_list(by)
    _check_frame(data, [group, value, population, se, order, *by_cols], function)
    frame = data.copy()
    frame["_value"] = _numeric(frame, value)
    if population is not None:
        pop = _numeric(frame, population, allow_missing=True)
        _check_population(pop, population)
        frame["_pop"] = pop
    if se is not None:
        se_values = _numeric(frame, se, allow_missing=True)
        _check_nonnegative(se_values, se, "standard errors")
        frame["_se"] = se_values
    return frame, by_cols


def _direction_sign(direction: str) -> float:
    # +1: higher values are better (favourable indicator); -1: lower values are better.
    return 1.0 if direction == "increase" else -1.0


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
    _check_direction(direction, function)
    level = _check_level(level, function)
    if ordered and reference is not None:
        raise ParameterError(
            f"{function}: reference= is for non-ordered dimensions; an ordered dimension is "
            "compared between its least and most advantaged group"
        )
    if not ordered and order is not None:
        raise ParameterError(f"{function}: order= is only used when ordered=True")
    frame, by_cols = _prepare(data, function, group, value, se=se, order=order, by=by)
    sign = _direction_sign(direction)
    z = _z(level)
    records = []
    for where, rows in _groups(frame, by_cols):
        _check_unique_groups(rows, group, where)
        _check_min_groups(len(rows), 2, where, function)
        if ordered:
            rows = _group_order(rows, group, order, function)
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
    result = _result_frame(records, by_cols, columns)
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
    level = _check_level(level, function)
    frame, by_cols = _prepare(data, function, group, value, population=population, se=se, by=by)
    z = _z(level)
    records = []
    for where, rows in _groups(frame, by_cols):
        _check_unique_groups(rows, group, where)
        _check_min_groups(len(rows), 2, where, function)
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
    return _result_frame(records, by_cols, columns).assign(
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
    _check_direction(direction, function)
    level = _check_level(level, function)
    _check_scale(scale, function)
    if not ordered and order is not None:
        raise ParameterError(f"{function}: order= is only used when ordered=True")
    frame, by_cols = _prepare(
        data, function, group, value, population=population, order=order, by=by
    )
    _check_within_scale(frame, value, scale)
    sign = _direction_sign(direction)
    z = _z(level)
    records = []
    for where, rows in _groups(frame, by_cols):
        _check_unique_groups(rows, group, where)
        _check_min_groups(len(rows), 2, where, function)
        if ordered:
            rows = _group_order(rows, group, order, function)
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
    return _result_frame(records, by_cols, columns).assign(
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
    level = _check_level(level, function)
    frame, by_cols = _prepare(
        data, function, group, value, population=population, order=order, by=by
    )
    z = _z(level)
    records = []
    for where, rows in _groups(frame, by_cols):
        _check_unique_groups(rows, group, where)
        _check_min_groups(len(rows), 3, where, function)
        rows = _group_order(rows, group, order, function)
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
    return _result_frame(records, by_cols, columns).assign(
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
    level = _check_level(level, function)
    _check_scale(scale, function)
    frame, by_cols = _prepare(
        data, function, group, value, population=population, order=order, by=by
    )
    _check_within_scale(frame, value, scale, " for a logistic model")
    z = _z(level)
    records = []
    for where, rows in _groups(frame, by_cols):
        _check_unique_groups(rows, group, where)
        _check_min_groups(len(rows), 3, where, function)
        if rows["_value"].nunique() == 1:
            place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
            raise DataValidationError(
                f"all groups have the same value in {place}; the logistic SII is not defined "
                "(healthequal refuses it too)",
                column=value,
            )
        rows = _group_order(rows, group, order, function)
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
    return _result_frame(records, by_cols, columns).assign(
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
EDUCATION_LEVELS = (
    "Grundskole",
    "Gymnasial eller erhvervsfaglig",
    "Kort videregående",
    "Mellemlang videregående",
    "Lang videregående",
)
#: Labour-market attachment (a non-ordered dimension).
LABOUR_MARKET_LEVELS = (
    "Beskæftiget",
    "Arbejdsløs",
    "Under uddannelse",
    "Førtidspensionist",
    "Alderspensionist",
    "Anden uden for arbejdsmarkedet",
)
#: Education is only meaningful once most people have finished it (DESIGN.md §4).
EDUCATION_MIN_AGE = 25
#: Area levels of the cube, as in :mod:`analyse.reference.geography`.
CUBE_LEVELS = ("land", "region", "sundhedsklynge", "kommune")

GAP_NARROWER = "mindre"
GAP_UNCHANGED = "uændret"
GAP_WIDER = "større"
GAP_UNKNOWN = "kan ikke vurderes"

# Danish reasons shown instead of a measure that is not computed.
REASON_EDUCATION_AGE = "uddannelse opgøres kun for personer på 25 år og derover"
REASON_TOO_FEW_GROUPS = "færre end to grupper med svar"
REASON_NO_VARIATION = "modellen kan ikke tilpasses: ingen variation i udfaldet"
REASON_NOT_CONVERGED = "modellen konvergerede ikke"
REASON_FEW_WAVES = "færre end to sammenlignelige bølger"
REASON_NOT_COMPUTED = "uligheden kunne ikke beregnes i begge bølger"
_GROUP_WORD = {
    "education": "uddannelsesgruppe",
    "labour_market": "gruppe for arbejdsmarkedstilknytning",
}
_NEWTON_TOLERANCE = 1e-10
_NEWTON_MAX_ITER = 50


def _group_word(dimension: str) -> str:
    return _GROUP_WORD.get(dimension, "gruppe")


def _dimension_codes(
    data: pd.DataFrame, dimension: str, order: Sequence[Hashable] | None, function: str
) -> tuple[np.ndarray, list[Hashable]]:
    """Integer code of each row's group (0 = least advantaged; -1 = missing) and the labels."""
    labels = data[dimension]
    present = set(labels.dropna().unique())
    if order is not None:
        order = list(order)
        if len(set(order)) != len(order):
            raise ParameterError(f"{function}: order= lists a group twice: {order}")
    elif isinstance(labels.dtype, pd.CategoricalDtype):
        order = list(labels.cat.categories)
    elif present <= set(EDUCATION_LEVELS):
        order = list(EDUCATION_LEVELS)
    elif present <= set(LABOUR_MARKET_LEVELS):
        order = list(LABOUR_MARKET_LEVELS)
    elif pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels):
        order = sorted(present)
    else:
        raise ParameterError(
            f"{function}: cannot tell the order of the groups in column {dimension!r}: give "
            "order= (labels from least to most advantaged) or make the column an ordered pandas "
            "Categorical"
        )
    lookup = {label: position for position, label in enumerate(order)}
    if isinstance(labels.dtype, pd.CategoricalDtype):
        # map the few categories, not the many rows
        positions = np.array([lookup.get(c, -1) for c in labels.cat.categories] + [-1])
        codes = positions[labels.cat.codes.to_numpy()]  # code -1 (missing) picks the last -1
        unknown = labels.notna().to_numpy() & (codes < 0)
    else:
        mapped = labels.astype(object).map(lookup)
        unknown = labels.notna().to_numpy() & mapped.isna().to_numpy()
        codes = mapped.fillna(-1).to_numpy(dtype=np.int64)
    if unknown.any():
        raise DataValidationError(
            f"has groups that are not in the order {order}",
            column=dimension,
            rows=np.flatnonzero(unknown).tolist(),
            hint=f"First unknown group: {labels[unknown].iloc[0]!r}",
        )
    return codes.astype(np.int64), order


def _binary_indicator(data: pd.DataFrame, column: str) -> np.ndarray:
    """The indicator as float 1/0/NaN, or raise naming the rows with other values."""
    values = _numeric(data, column, allow_missing=True).to_numpy()
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    if bad.any():
        raise DataValidationError(
            "must be coded 1/0 (missing = NaN)", column=column, rows=np.flatnonzero(bad).tolist()
        )
    return values


def _check_rules(rules: Any, function: str) -> Rules:
    if rules is None:
        return Rules()
    if not isinstance(rules, Rules):
        raise ParameterError(
            f"{function}: rules must be an analyse.stats.disclosure.Rules, got {type(rules).__name__}"
        )
    return rules


def _optional_direction(direction: str | None, function: str) -> str | None:
    return None if direction is None else _check_direction(direction, function)


def _by_cells(
    data: pd.DataFrame, by_cols: list[str], function: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Cell code of every row for the ``by`` grouping (sorted like svyby) and the cell keys."""
    if not by_cols:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=range(1))
    for column in by_cols:
        missing = data[column].isna().to_numpy()
        if missing.any():
            raise DataValidationError(
                "has missing values; give them a category or drop the rows first",
                column=column,
                rows=np.flatnonzero(missing).tolist(),
            )
    grouped = data[by_cols].groupby(by_cols, sort=True, observed=True)
    keys = grouped.size().index.to_frame(index=False)
    keys.columns = by_cols
    return grouped.ngroup().to_numpy(dtype=np.int64), keys


# ---- tallies and their design covariance ----------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    """Weighted tallies of respondents per cell x key, with what the design variance needs.

    ``block_*`` arrays describe blocks = cell x stratum (each row its own PSU: sums of w and w^2
    per key suffice) or cell x PSU (sums of w per key); ``degf`` is PSUs - strata per cell.
    """

    n_cells: int
    n_keys: int
    weight: np.ndarray
    count: np.ndarray
    block_cell: np.ndarray
    block_stratum: np.ndarray
    block_weight: np.ndarray
    block_weight2: np.ndarray | None
    degf: np.ndarray
    codes: DesignCodes


def _unique_pairs(first: np.ndarray, second: np.ndarray, n_second: int) -> np.ndarray:
    return np.unique(first.astype(np.int64) * n_second + second)


def _tally(
    rows: np.ndarray,
    cells: np.ndarray,
    keys: np.ndarray,
    n_cells: int,
    n_keys: int,
    weights: np.ndarray,
    codes: DesignCodes,
) -> _Tally:
    """Tally the respondents ``rows`` (positions in the design) into their cells and keys.

    A respondent may appear in several cells (overlapping areas), never twice in one cell.
    """
    w = weights[rows]
    flat = cells * n_keys + keys
    size = n_cells * n_keys
    weight = np.bincount(flat, w, minlength=size).reshape(n_cells, n_keys)
    count = np.bincount(flat, minlength=size).reshape(n_cells, n_keys)
    stratum = codes.stratum[rows]
    n_strata = codes.n_strata
    positive = w > 0
    if codes.rows_are_units:
        # blocks = cell x stratum; a dense lookup is linear time (no sort of all rows)
        space = n_cells * n_strata
        combined = cells * n_strata + stratum
        occupied = np.bincount(combined, minlength=space)
        blocks = np.flatnonzero(occupied)
        lookup = np.zeros(space, dtype=np.int64)
        lookup[blocks] = np.arange(len(blocks))
        block_of = lookup[combined]
        block_stratum = blocks % n_strata
        units_per_cell = np.bincount(cells[positive], minlength=n_cells)
        block_positive = np.bincount(block_of[positive], minlength=len(blocks)) > 0
        strata_per_cell = np.bincount(blocks[block_positive] // n_strata, minlength=n_cells)
    else:
        used_strata = _unique_pairs(cells[positive], stratum[positive], n_strata) // n_strata
        strata_per_cell = np.bincount(used_strata, minlength=n_cells)
        unit = codes.unit[rows]
        blocks, block_of = np.unique(cells * codes.n_units + unit, return_inverse=True)
        block_stratum = codes.unit_stratum[blocks % codes.n_units]
        used_units = _unique_pairs(cells[positive], unit[positive], codes.n_units)
        units_per_cell = np.bincount(used_units // codes.n_units, minlength=n_cells)
    block_cell = blocks // (n_strata if codes.rows_are_units else codes.n_units)
    block_flat = block_of * n_keys + keys
    block_size = len(blocks) * n_keys
    block_weight = np.bincount(block_flat, w, minlength=block_size).reshape(len(blocks), n_keys)
    block_weight2 = None
    if codes.rows_are_units:
        block_weight2 = np.bincount(block_flat, w * w, minlength=block_size).reshape(
            len(blocks), n_keys
        )
    return _Tally(
        n_cells=n_cells,
        n_keys=n_keys,
        weight=weight,
        count=count,
        block_cell=block_cell,
        block_stratum=block_stratum,
        block_weight=block_weight,
        block_weight2=block_weight2,
        degf=units_per_cell - strata_per_cell,
        codes=codes,
    )


def _sum_by(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, *values.shape[1:]))
    np.add.at(out, index, values)
    return out


def _covariance(tally: _Tally, influence: np.ndarray, full: bool = False) -> np.ndarray:
    """Design covariance per cell of measures whose influence value is w_i * F[cell, key_i, m].

    ``influence`` is F with shape (cells, keys, measures). Returns the variances (cells x
    measures) or, with ``full``, the covariance matrices (cells x measures x measures). The
    formula is that of :mod:`analyse.stats.linearise` (stratified between-PSU variance, lonely PSUs
    as R's ``"adjust"``, PSU counts n_h of the whole design), so rows outside a cell count as
    zeros, exactly like a domain in R ``survey``.
    """
    codes = tally.codes
    influence = np.where(np.isfinite(influence), influence, 0.0)
    n_blocks, n_measures = len(tally.block_cell), influence.shape[2]
    scale = codes.scale[tally.block_stratum]
    centre = codes.centre[tally.block_stratum]
    totals = np.zeros((n_blocks, n_measures))
    shape = (n_blocks, n_measures, n_measures) if full else (n_blocks, n_measures)
    second = np.zeros(shape)
    for key in range(tally.n_keys):
        f_key = influence[tally.block_cell, key, :]
        totals += tally.block_weight[:, key, None] * f_key
        if tally.block_weight2 is not None:
            factor = scale * tally.block_weight2[:, key]
            if full:
                second += factor[:, None, None] * f_key[:, :, None] * f_key[:, None, :]
            else:
                second += factor[:, None] * f_key**2
    if tally.block_weight2 is None:
        # blocks are PSUs: the second moment is that of the PSU totals
        second = (
            scale[:, None, None] * totals[:, :, None] * totals[:, None, :]
            if full
            else scale[:, None] * totals**2
        )
        strata, stratum_of = np.unique(
            tally.block_cell * codes.n_strata + tally.block_stratum, return_inverse=True
        )
        totals = _sum_by(totals, stratum_of, len(strata))
        total_cell = strata // codes.n_strata
        centre = codes.centre[strata % codes.n_strata]
    else:
        total_cell = tally.block_cell
    centred = (
        centre[:, None, None] * totals[:, :, None] * totals[:, None, :]
        if full
        else centre[:, None] * totals**2
    )
    covariance = _sum_by(second, tally.block_cell, tally.n_cells) - _sum_by(
        centred, total_cell, tally.n_cells
    )
    if not full:
        covariance = np.maximum(covariance, 0.0)  # rounding can leave -1e-30 for a zero variance
    return covariance


def _fit_logistic(
    weight: np.ndarray, x: np.ndarray, y: np.ndarray, fit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted logistic regression per cell on its key rows, by Newton-Raphson.

    ``weight`` (cells x keys) is the summed weight of the respondents of each key, ``x`` (cells x
    keys x p) the model row of a key, ``y`` (keys) its 0/1 outcome; ``fit`` marks the cells to
    fit. Returns the coefficients, the influence array F (cells x keys x p; the estimating
    function of respondent i is w_i F[cell, key_i], i.e. A^-1 x (y - p)), whether each cell
    converged, and the fitted probabilities. This is the pseudo-likelihood fit of R ``svyglm``
    (family quasibinomial) on the respondents, since they share x and y within a key.
    """
    n_cells, _, p = x.shape
    total = weight.sum(axis=1, keepdims=True)
    # Weights scaled to sum 1 per cell for stable numbers; the solution does not change.
    scaled = np.where(fit[:, None] & (total > 0), weight / np.where(total > 0, total, 1), 0.0)
    beta = np.zeros((n_cells, p))
    converged = ~fit
    identity = np.broadcast_to(np.eye(p), (n_cells, p, p))
    for _ in range(_NEWTON_MAX_ITER):
        mu = expit(np.einsum("ckp,cp->ck", x, beta))
        information = np.einsum("ck,ckp,ckq->cpq", scaled * mu * (1 - mu), x, x)
        score = np.einsum("ck,ckp->cp", scaled * (y - mu), x)
        active = ~converged
        information = np.where(active[:, None, None], information, identity)
        score = np.where(active[:, None], score, 0.0)
        try:
            step = np.linalg.solve(information, score[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack(
                [
                    np.linalg.lstsq(a, b, rcond=None)[0]
                    for a, b in zip(information, score, strict=True)
                ]
            )
        beta = beta + step
        converged = converged | np.all(
            np.abs(step) <= _NEWTON_TOLERANCE * (1 + np.abs(beta)), axis=1
        )
        if converged.all():
            break
    converged = converged & fit & np.isfinite(beta).all(axis=1)
    mu = expit(np.einsum("ckp,cp->ck", x, beta))
    information = np.einsum("ck,ckp,ckq->cpq", weight * mu * (1 - mu), x, x)
    information = np.where(converged[:, None, None], information, identity)
    inverse = np.linalg.inv(information)
    influence = np.einsum("cpq,ckq->ckp", inverse, x) * (y - mu)[:, :, None]
    influence[~converged] = np.nan
    beta[~converged] = np.nan
    return beta, influence, converged, mu


def _t_quantiles(level: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, t_dist.ppf(0.5 + level / 2, np.where(df > 0, df, 1)), np.nan)


# ---- measures per cell ----------------------------------------------------------------------


def _rule_reasons(
    n: np.ndarray,
    cases: np.ndarray,
    considered: np.ndarray,
    rules: Rules,
    word: str,
    cases_considered: np.ndarray | None = None,
) -> np.ndarray:
    """Danish reason per cell where a considered group breaks the disclosure rules, else ''.

    Every considered group needs ``min_n`` respondents. ``min_cases`` (respondents with and
    without the outcome) applies to the groups in ``cases_considered`` (default: all considered):
    the groups whose prevalence the shown measures reveal. D and R together give both compared
    groups' prevalences (p0 = D / (R − 1)), and PAF with the overall prevalence gives the
    reference group's, so for an ordered dimension the two extreme groups must meet it; a middle
    group enters the SII/ACI only through a fitted slope, which does not reveal its prevalence.
    """
    if cases_considered is None:
        cases_considered = considered
    few = (n < rules.min_n) & considered
    few_cases = (
        ((cases < rules.min_cases) | (n - cases < rules.min_cases)) & cases_considered
        if rules.min_cases > 0
        else np.zeros_like(few)
    )
    few_text = f"for få svar i en {word} ({REASON_FEW_RESPONDENTS.format(min_n=rules.min_n)})"
    cases_text = f"for få svar i en {word} ({REASON_FEW_CASES.format(min_cases=rules.min_cases)})"
    reasons = np.full(n.shape[0], "", dtype=object)
    reasons[few_cases.any(axis=1)] = cases_text
    reasons[few.any(axis=1)] = few_text
    return reasons


def _interval_columns(
    out: dict[str, np.ndarray], name: str, estimate: np.ndarray, se: np.ndarray, q: np.ndarray
) -> None:
    out[name] = estimate
    out[f"{name}_se"] = se
    out[f"{name}_ci_low"] = estimate - q * se
    out[f"{name}_ci_high"] = estimate + q * se


def _group_arrays(tally: _Tally, n_groups: int) -> dict[str, np.ndarray]:
    """Per cell x group: weight, cases' weight, respondents, cases (keys are group*2 + y)."""
    weight = tally.weight.reshape(tally.n_cells, n_groups, 2)
    count = tally.count.reshape(tally.n_cells, n_groups, 2)
    return {
        "weight": weight.sum(axis=2),
        "case_weight": weight[:, :, 1],
        "n": count.sum(axis=2),
        "cases": count[:, :, 1],
    }


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[c, index[c]] for (cells x groups) or (cells x keys x groups) arrays."""
    if values.ndim == 2:
        return np.take_along_axis(values, index[:, None], axis=1)[:, 0]
    return np.take_along_axis(values, index[:, None, None], axis=2)[:, :, 0]


def _cell_measures(
    tally: _Tally,
    labels: list[Hashable],
    *,
    ordered: bool,
    direction: str,
    rules: Rules,
    word: str,
    level: float,
    population: np.ndarray | None = None,
) -> pd.DataFrame:
    """All inequality measures per cell from a tally with keys group*2 + outcome.

    See :func:`inequality_for_cube` for the measures and the returned columns.
    """
    n_groups = len(labels)
    n_cells, n_keys = tally.n_cells, tally.n_keys
    sign = _direction_sign(direction)
    g = _group_arrays(tally, n_groups)
    total_weight = g["weight"].sum(axis=1)
    n_total = g["n"].sum(axis=1)
    considered = np.ones_like(g["n"], dtype=bool) if ordered else g["n"] > 0
    present = g["n"] > 0
    extremes = considered.copy()
    if ordered and n_groups > 2:
        extremes[:, 1:-1] = False
    reasons = _rule_reasons(g["n"], g["cases"], considered, rules, word, extremes)
    n_present = present.sum(axis=1)
    reasons[(reasons == "") & (n_present < 2)] = REASON_TOO_FEW_GROUPS
    if ordered:
        reasons[(reasons == "") & (n_present < n_groups)] = (
            f"for få svar i en {word} ({REASON_FEW_RESPONDENTS.format(min_n=rules.min_n)})"
        )
    cases_weight = g["case_weight"].sum(axis=1)
    no_variation = (cases_weight <= 0) | (cases_weight >= total_weight)
    reasons[(reasons == "") & no_variation & (n_total > 0)] = REASON_NO_VARIATION
    reasons[(reasons == "") & (n_total == 0)] = "ingen svar"
    ok = reasons == ""

    with np.errstate(divide="ignore", invalid="ignore"):
        prevalence = g["case_weight"] / g["weight"]  # cells x groups
        mean = cases_weight / total_weight
        share = g["weight"] / total_weight[:, None]
        rank = np.cumsum(share, axis=1) - share / 2
        key_group = np.arange(n_keys) // 2
        key_y = (np.arange(n_keys) % 2).astype(float)
        onehot = (key_group[:, None] == np.arange(n_groups)[None, :]).astype(float)
        # influence of each group's prevalence and of the overall mean
        f_group = (
            onehot[None] * (key_y[None, :, None] - prevalence[:, None, :]) / g["weight"][:, None, :]
        )
        f_mean = (key_y[None, :] - mean[:, None]) / total_weight[:, None]
    f_group = np.where(np.isfinite(f_group), f_group, 0.0)
    f_mean = np.where(np.isfinite(f_mean), f_mean, 0.0)

    if ordered:
        reference = np.full(n_cells, n_groups - 1)
        comparison = np.zeros(n_cells, dtype=np.int64)
    else:
        score = np.where(present, sign * np.nan_to_num(prevalence), -np.inf)
        reference = np.argmax(score, axis=1)
        comparison = np.argmin(np.where(present, score, np.inf), axis=1)
    y_ref, y_cmp = _take(prevalence, reference), _take(prevalence, comparison)
    f_ref, f_cmp = _take(f_group, reference), _take(f_group, comparison)

    influences: dict[str, np.ndarray] = {}
    estimates: dict[str, np.ndarray] = {}
    estimates["prevalence"], influences["prevalence"] = mean, f_mean
    estimates["d"] = sign * (y_ref - y_cmp)
    influences["d"] = sign * (f_ref - f_cmp)
    if sign > 0:
        numerator, denominator, f_num, f_den = y_ref, y_cmp, f_ref, f_cmp
    else:
        numerator, denominator, f_num, f_den = y_cmp, y_ref, f_cmp, f_ref
    with np.errstate(divide="ignore", invalid="ignore"):
        estimates["log_r"] = np.log(numerator / denominator)
        influences["log_r"] = f_num / numerator[:, None] - f_den / denominator[:, None]
        par = y_ref - mean
        no_gain = sign * par < 0  # reference not better than average: nothing to gain (WHO)
        estimates["par"] = np.where(no_gain, 0.0, par)
        influences["par"] = f_ref - f_mean
        estimates["paf"] = estimates["par"] / mean
        influences["paf"] = f_ref / mean[:, None] - (y_ref / mean**2)[:, None] * f_mean
    if ordered:
        centre = np.sum(share * rank, axis=1)  # 0.5 for a ridit
        spread = np.sum(share * (rank - centre[:, None]) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope_coef = share * (rank - centre[:, None]) / spread[:, None]
            slope = np.sum(slope_coef * prevalence, axis=1)
            intercept = mean - slope * centre
            estimates["sii_linear"] = slope
            influences["sii_linear"] = np.einsum("ckg,cg->ck", f_group, slope_coef)
            estimates["rii_linear"] = (intercept + slope) / intercept
            # concentration index: ratio estimator of u_i = 2 (r_i - 1/2) y_i, ranks held fixed
            u = 2 * (rank[:, key_group] - 0.5) * key_y[None, :]
            aci = np.sum(tally.weight * u, axis=1) / total_weight
            estimates["aci"] = aci
            influences["aci"] = (u - aci[:, None]) / total_weight[:, None]
            estimates["rci"] = aci / mean
            influences["rci"] = (
                influences["aci"] / mean[:, None] - (aci / mean**2)[:, None] * f_mean
            )
    else:
        with np.errstate(invalid="ignore"):
            deviation = np.where(present, np.nan_to_num(prevalence) - mean[:, None], 0.0)
            estimates["bgv"] = np.sum(share * deviation**2, axis=1)
            influences["bgv"] = np.einsum("ckg,cg->ck", f_group, 2 * share * deviation)

    names = list(influences)
    variance = _covariance(tally, np.stack([influences[k] for k in names], axis=2))
    se = dict(zip(names, np.sqrt(variance).T, strict=True))
    q = _t_quantiles(level, tally.degf)

    out: dict[str, Any] = {
        "n": n_total,
        "n_groups": n_present,
        "prevalence": mean,
        "prevalence_se": se["prevalence"],
        "reference_group": np.array([labels[i] for i in reference], dtype=object),
        "comparison_group": np.array([labels[i] for i in comparison], dtype=object),
    }
    _interval_columns(out, "d", estimates["d"], se["d"], q)
    out["r"] = np.exp(estimates["log_r"])
    out["r_ci_low"] = np.exp(estimates["log_r"] - q * se["log_r"])
    out["r_ci_high"] = np.exp(estimates["log_r"] + q * se["log_r"])

    if ordered:
        x = np.stack([np.ones((n_cells, n_keys)), rank[:, key_group]], axis=2)
        beta, f_beta, converged, _ = _fit_logistic(tally.weight, x, key_y, ok)
        reasons[ok & ~converged] = REASON_NOT_CONVERGED
        ok = reasons == ""
        vcov = _covariance(tally, f_beta, full=True)
        p0, p1 = expit(beta[:, 0]), expit(beta[:, 0] + beta[:, 1])
        grad_sii = np.stack([p1 * (1 - p1) - p0 * (1 - p0), p1 * (1 - p1)], axis=1)
        grad_log_rii = np.stack([p0 - p1, 1 - p1], axis=1)
        sii_se = np.sqrt(np.einsum("cp,cpq,cq->c", grad_sii, vcov, grad_sii))
        log_rii_se = np.sqrt(np.einsum("cp,cpq,cq->c", grad_log_rii, vcov, grad_log_rii))
        q_model = _t_quantiles(level, tally.degf + 1 - 2)
        _interval_columns(out, "sii", p1 - p0, sii_se, q_model)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_rii = np.log(p1 / p0)
        out["rii"] = np.exp(log_rii)
        out["rii_log_se"] = log_rii_se
        out["rii_ci_low"] = np.exp(log_rii - q_model * log_rii_se)
        out["rii_ci_high"] = np.exp(log_rii + q_model * log_rii_se)
        out["p0"], out["p1"] = p0, p1
        out["model_df"] = tally.degf + 1 - 2
        _interval_columns(out, "sii_linear", estimates["sii_linear"], se["sii_linear"], q)
        out["rii_linear"] = estimates["rii_linear"]
        _interval_columns(out, "aci", estimates["aci"], se["aci"], q)
        _interval_columns(out, "rci", estimates["rci"], se["rci"], q)
    else:
        _interval_columns(out, "bgv", estimates["bgv"], se["bgv"], q)
    _interval_columns(out, "paf", estimates["paf"], se["paf"], q)
    _interval_columns(out, "par", estimates["par"], se["par"], q)
    if population is not None:
        out["population"] = population
        # the calibrated population is taken as known, so the interval scales with it
        out["par_persons"] = estimates["par"] * population
        out["par_persons_ci_low"] = out["par_ci_low"] * population
        out["par_persons_ci_high"] = out["par_ci_high"] * population
    out["df"] = tally.degf
    frame = pd.DataFrame(out)
    measure_columns = [
        c
        for c in frame.columns
        if c not in ("n", "n_groups", "prevalence", "prevalence_se", "population", "df")
    ]
    frame.loc[~ok, measure_columns] = np.nan
    frame["reason"] = reasons
    return frame


# ---- public functions -----------------------------------------------------------------------


def _prepare_survey(
    data: Any,
    indicator: str,
    dimension: str,
    weight: str,
    strata: str | None,
    psu: str | None,
    by: str | Sequence[str] | None,
    order: Sequence[Hashable] | None,
    level: float,
    function: str,
) -> tuple[list[str], np.ndarray, np.ndarray, list[Hashable], DesignCodes, float]:
    by_cols = _as_list(by)
    _check_frame(data, [indicator, dimension, weight, strata, psu, *by_cols], function)
    level = _check_level(level, function)
    for name, column in (("indicator", indicator), ("dimension", dimension)):
        if column in by_cols:
            raise ParameterError(f"{function}: the {name} column {column!r} cannot also be in by")
    codes = design_codes(data, Design(weight=weight, strata=strata, psu=psu))
    y = _binary_indicator(data, indicator)
    groups, labels = _dimension_codes(data, dimension, order, function)
    if len(labels) < 2:
        raise ParameterError(f"{function}: the dimension needs at least two groups, got {labels}")
    return by_cols, y, groups, labels, codes, level


def sii_survey(
    data: pd.DataFrame,
    indicator: str,
    dimension: str = "education",
    *,
    weight: str = "weight",
    strata: str | None = "stratum",
    psu: str | None = None,
    by: str | Sequence[str] | None = None,
    order: Sequence[Hashable] | None = None,
    direction: str | None = None,
    rules: Rules | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Slope and relative index of inequality from survey microdata (logistic model on the ridit).

    Method (WHO *Handbook on health inequality monitoring*, 2024, and its R package
    healthequal; Moreno-Betancur et al. 2015; Mackenbach & Kunst 1997): within each ``by`` group
    the respondents with a known indicator and group get the weighted ridit of their group: the
    midpoint of the group's range in the cumulative distribution of survey weights, groups
    ranked from the least advantaged (rank 0, first in ``order``) to the most advantaged
    (rank 1), as healthequal ranks. The survey-weighted logistic model ``indicator ~ ridit`` is
    fitted in the group as a domain of the whole design (R ``svyglm(y ~ ridit, design =
    subset(design, group), family = quasibinomial())``); SII = P(1) - P(0) and RII = P(1) / P(0)
    from the predicted prevalences at rank 0 and 1 (healthequal's sign: a positive SII means a
    higher prevalence among the advantaged, whatever the indicator's desired direction). The
    standard errors are delta-method ones from the design-based (sandwich) covariance of the
    coefficients, the SII's as R ``svycontrast`` of the two predictions, the RII's on the log
    scale; intervals use the t distribution with the model's design degrees of freedom.

    The linear variant ``sii_linear``/``rii_linear`` is the PHEindicatormethods one on grouped
    data: weighted least squares of the groups' weighted prevalences on their ridits with the
    population shares as weights; it equals :func:`sii_grouped`'s point estimate on the same
    grouped table.

    Parameters
    ----------
    data
        One row per respondent; not modified.
    indicator
        0/1 indicator column (NaN = missing: dropped as a domain, the design is kept).
    dimension
        Ordered grouping column (default ``"education"``; NaN = unknown, e.g. under 25).
    weight, strata, psu
        Design columns, as :class:`analyse.stats.survey.Design` (``psu=None``: each respondent is a
        PSU).
    by
        Column(s) defining separate analyses (e.g. ``["year", "kommune_code"]``); the ridit is
        computed within each group.
    order
        Group labels from least to most advantaged. Default: the categories of a pandas
        Categorical, the five education groups of :data:`EDUCATION_LEVELS`, or ascending numbers.
    direction
        The indicator's desired direction (``"increase"``/``"decrease"``), if known; it does not
        change the SII, but fills ``least_advantaged_worse_off``.
    rules
        Disclosure rules (default ``analyse.stats.disclosure.Rules()``): where any group has fewer
        than ``min_n`` respondents, or fewer than ``min_cases`` with or without the outcome, no
        measure is computed and ``reason`` says why.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group: the ``by`` columns, ``sii``, ``se``, ``ci_low``, ``ci_high``,
        ``rii``, ``rii_log_se``, ``rii_ci_low``, ``rii_ci_high``, ``p0``, ``p1`` (predicted
        prevalence at rank 0 and 1), ``sii_linear``, ``rii_linear``, ``prevalence``, ``n``
        (respondents with a known indicator and group), ``n_groups``, ``df`` (the model's
        residual design df), ``least_advantaged_worse_off``, ``reason`` ('' when computed),
        ``direction``, ``method`` and ``level``.

    Raises
    ------
    ParameterError
        Unknown column, invalid level/direction/rules, the order of the groups unknown, bad
        design columns.
    DataValidationError
        An indicator not coded 1/0, a group not in ``order``, missing values in ``by``.

    References
    ----------
    World Health Organization. Handbook on health inequality monitoring: with a special focus on
    low- and middle-income countries, 2nd ed. Geneva: WHO; 2024. R package healthequal.
    Moreno-Betancur M, Latouche A, Menvielle G, Kunst AE, Rey G. Relative index of inequality
    and slope index of inequality: a structured regression framework for estimation.
    Epidemiology. 2015;26(4):518-527.
    Mackenbach JP, Kunst AE. Soc Sci Med. 1997;44(6):757-771.
    """
    function = "sii_survey"
    direction = _optional_direction(direction, function)
    rules = _check_rules(rules, function)
    by_cols, y, groups, labels, codes, level = _prepare_survey(
        data, indicator, dimension, weight, strata, psu, by, order, level, function
    )
    cells, keys = _by_cells(data, by_cols, function)
    usable = ~np.isnan(y) & (groups >= 0)
    rows = np.flatnonzero(usable)
    tally = _tally(
        rows,
        cells[rows],
        groups[rows] * 2 + y[rows].astype(np.int64),
        len(keys),
        2 * len(labels),
        data[weight].to_numpy(dtype=float),
        codes,
    )
    measures = _cell_measures(
        tally,
        labels,
        ordered=True,
        direction=direction or "increase",
        rules=rules,
        word=_group_word(dimension),
        level=level,
    )
    out = keys.reset_index(drop=True).copy()
    out["sii"] = measures["sii"]
    out["se"] = measures["sii_se"]
    out["ci_low"] = measures["sii_ci_low"]
    out["ci_high"] = measures["sii_ci_high"]
    for column in ("rii", "rii_log_se", "rii_ci_low", "rii_ci_high", "p0", "p1"):
        out[column] = measures[column]
    out["sii_linear"] = measures["sii_linear"]
    out["rii_linear"] = measures["rii_linear"]
    out["prevalence"] = measures["prevalence"]
    out["n"] = measures["n"]
    out["n_groups"] = measures["n_groups"]
    out["df"] = measures["model_df"]
    if direction is None:
        out["least_advantaged_worse_off"] = pd.NA
    else:
        worse = measures["sii"] * _direction_sign(direction) > 0
        out["least_advantaged_worse_off"] = worse.where(measures["sii"].notna(), pd.NA)
    out["reason"] = measures["reason"]
    out["direction"] = direction
    out["method"] = (
        "svyglm quasibinomial on the weighted ridit (WHO healthequal convention); delta-method se"
    )
    out["level"] = level
    return out


def _interaction_model(
    tally: _Tally, n_groups: int, times: np.ndarray, rules: Rules, word: str
) -> dict[str, np.ndarray]:
    """Fit ``y ~ ridit * t`` per cell; keys are (wave * n_groups + group) * 2 + y.

    The ridit is computed within each cell x wave. Waves without respondents in a cell are left
    out; the cell is fitted when at least two waves remain and every group of every remaining
    wave meets the disclosure rules. Returns the coefficients' estimates and covariances, the
    residual df, the mean of the remaining waves' t and a reason per cell.
    """
    n_cells, n_waves = tally.n_cells, len(times)
    weight = tally.weight.reshape(n_cells, n_waves, n_groups, 2)
    count = tally.count.reshape(n_cells, n_waves, n_groups, 2)
    n = count.sum(axis=3)  # cells x waves x groups
    has_wave = n.sum(axis=2) > 0
    reasons = np.full(n_cells, "", dtype=object)
    for wave in range(n_waves):
        wave_reasons = _rule_reasons(
            n[:, wave], count[:, wave, :, 1], np.ones_like(n[:, wave], dtype=bool), rules, word
        )
        take = (reasons == "") & has_wave[:, wave] & (wave_reasons != "")
        reasons[take] = wave_reasons[take]
    reasons[(reasons == "") & (has_wave.sum(axis=1) < 2)] = REASON_FEW_WAVES
    group_weight = weight.sum(axis=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = group_weight / group_weight.sum(axis=2, keepdims=True)
    share = np.nan_to_num(share)
    rank = np.cumsum(share, axis=2) - share / 2  # cells x waves x groups
    key = np.arange(tally.n_keys)
    key_y = (key % 2).astype(float)
    key_group = (key // 2) % n_groups
    key_wave = key // (2 * n_groups)
    r = rank[:, key_wave, key_group]
    t = np.broadcast_to(times[key_wave], r.shape)
    x = np.stack([np.ones_like(r), r, t, r * t], axis=2)
    beta, influence, converged, _ = _fit_logistic(tally.weight, x, key_y, reasons == "")
    reasons[(reasons == "") & ~converged] = REASON_NOT_CONVERGED
    vcov = _covariance(tally, influence, full=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = (has_wave * times[None, :]).sum(axis=1) / has_wave.sum(axis=1)
    return {
        "beta": beta,
        "vcov": vcov,
        "df": tally.degf + 1 - 4,
        "mean_t": mean_t,
        "waves": has_wave,
        "reason": reasons,
    }


def _gap_core(
    y: np.ndarray,
    groups: np.ndarray,
    labels: list[Hashable],
    weights: np.ndarray,
    codes: DesignCodes,
    rows: np.ndarray,
    cells: np.ndarray,
    n_cells: int,
    years: np.ndarray,
    waves: list[int],
    baseline: int,
    latest: int,
    *,
    direction: str | None,
    rules: Rules,
    word: str,
    level: float,
) -> pd.DataFrame:
    """gap_change for respondent/cell pairs (``rows``, ``cells``); one output row per cell."""
    n_groups = len(labels)
    keep = ~np.isnan(y[rows]) & (groups[rows] >= 0)
    rows, cells, row_years = rows[keep], cells[keep], years[rows[keep]]
    outcome = y[rows].astype(np.int64)
    group = groups[rows]

    # SII per cell in the baseline and the latest wave (independent samples)
    ends = {}
    for name, wave in (("baseline", baseline), ("latest", latest)):
        in_wave = row_years == wave
        tally = _tally(
            rows[in_wave],
            cells[in_wave],
            group[in_wave] * 2 + outcome[in_wave],
            n_cells,
            2 * n_groups,
            weights,
            codes,
        )
        ends[name] = _cell_measures(
            tally,
            labels,
            ordered=True,
            direction=direction or "increase",
            rules=rules,
            word=word,
            level=level,
        )
    base, last = ends["baseline"], ends["latest"]
    z = _z(level)
    alpha = 1 - level
    change = (last["sii"] - base["sii"]).to_numpy()
    change_se = np.hypot(base["sii_se"], last["sii_se"]).to_numpy()
    abs_change = (last["sii"].abs() - base["sii"].abs()).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_p = 2 * norm.sf(np.abs(abs_change / change_se))
    computed = np.isfinite(abs_change) & np.isfinite(change_se)
    significant = computed & (abs_p < alpha)
    gap = np.where(
        ~computed,
        GAP_UNKNOWN,
        np.where(
            significant & (abs_change < 0),
            GAP_NARROWER,
            np.where(significant & (abs_change > 0), GAP_WIDER, GAP_UNCHANGED),
        ),
    )

    # rank x wave interaction models: baseline vs latest (t = 0/1) and all waves (t = years)
    models = {}
    for name, model_waves, times in (
        ("two", [baseline, latest], np.array([0.0, 1.0])),
        ("trend", waves, np.asarray(waves, dtype=float) - baseline),
    ):
        wave_index = pd.Index(model_waves).get_indexer(row_years)
        inside = wave_index >= 0
        tally = _tally(
            rows[inside],
            cells[inside],
            (wave_index[inside] * n_groups + group[inside]) * 2 + outcome[inside],
            n_cells,
            2 * n_groups * len(model_waves),
            weights,
            codes,
        )
        models[name] = _interaction_model(tally, n_groups, times, rules, word)

    out: dict[str, Any] = {
        "baseline": baseline,
        "latest": latest,
        "sii_baseline": base["sii"].to_numpy(),
        "se_baseline": base["sii_se"].to_numpy(),
        "sii_latest": last["sii"].to_numpy(),
        "se_latest": last["sii_se"].to_numpy(),
        "sii_change": change,
        "sii_change_se": change_se,
        "sii_change_ci_low": change - z * change_se,
        "sii_change_ci_high": change + z * change_se,
        "abs_sii_change": abs_change,
        "abs_sii_change_ci_low": abs_change - z * change_se,
        "abs_sii_change_ci_high": abs_change + z * change_se,
        "abs_sii_change_p": abs_p,
        "gap": gap,
    }
    for name, prefix in (("two", "interaction"), ("trend", "trend_interaction")):
        model = models[name]
        coef = model["beta"][:, 3]
        se = np.sqrt(model["vcov"][:, 3, 3])
        with np.errstate(divide="ignore", invalid="ignore"):
            p_value = np.where(
                model["df"] > 0,
                2 * t_dist.sf(np.abs(coef / se), np.where(model["df"] > 0, model["df"], 1)),
                np.nan,
            )
        out[prefix] = coef
        out[f"{prefix}_se"] = se
        out[f"{prefix}_p"] = p_value
        if name == "trend":
            slope_mid = model["beta"][:, 1] + coef * model["mean_t"]
            oriented = np.sign(slope_mid) * coef
            fitted = np.isfinite(p_value)
            sig = fitted & (p_value < alpha)
            out["trend_waves"] = [
                ", ".join(str(w) for w, has in zip(waves, row, strict=True) if has)
                for row in model["waves"]
            ]
            out["gap_trend"] = np.where(
                ~fitted,
                GAP_UNKNOWN,
                np.where(
                    sig & (oriented < 0),
                    GAP_NARROWER,
                    np.where(sig & (oriented > 0), GAP_WIDER, GAP_UNCHANGED),
                ),
            )
            out["trend_reason"] = model["reason"]
    if direction is None:
        out["least_advantaged_worse_off"] = pd.array([pd.NA] * n_cells, dtype="boolean")
    else:
        worse = last["sii"] * _direction_sign(direction) > 0
        out["least_advantaged_worse_off"] = worse.astype("boolean").where(last["sii"].notna())
    reason = np.where(base["reason"] != "", "bølge " + str(baseline) + ": " + base["reason"], "")
    reason = np.where(
        (reason == "") & (last["reason"] != ""),
        "bølge " + str(latest) + ": " + last["reason"],
        reason,
    )
    out["reason"] = reason
    out["n_baseline"] = base["n"].to_numpy()
    out["n_latest"] = last["n"].to_numpy()
    frame = pd.DataFrame(out)
    frame["direction"] = direction
    frame["method"] = (
        "change in |SII| (svyglm on the ridit per wave, independent waves); "
        "ridit x wave interaction in svyglm quasibinomial, design-based Wald t-test"
    )
    frame["level"] = level
    return frame


def gap_change(
    data: pd.DataFrame,
    indicator: str,
    dimension: str = "education",
    *,
    baseline: int = 2021,
    latest: int | None = None,
    waves: Sequence[int] | None = None,
    year: str = "year",
    weight: str = "weight",
    strata: str | None = "stratum",
    psu: str | None = None,
    by: str | Sequence[str] | None = None,
    order: Sequence[Hashable] | None = None,
    direction: str | None = None,
    rules: Rules | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Whether the social gap (SII on the ridit) narrows between waves, per ``by`` group.

    Two questions, each answered with ``mindre`` (narrower), ``uændret`` or ``større`` (wider),
    or ``kan ikke vurderes`` (see ``docs/methods.md`` §5 for the rule):

    * ``gap`` -- baseline wave against the latest: the change in the absolute SII,
      ``|SII_latest| - |SII_baseline|``, with se = sqrt(se_b^2 + se_l^2) (independent waves,
      DESIGN.md §4; delta method) and a two-sided z-test at ``1 - level``: significant and
      negative = ``mindre``, significant and positive = ``større``, otherwise ``uændret``.
      The SIIs are those of :func:`sii_survey`. Also reported: the signed change in SII with
      its interval, and the design-based Wald test of the ridit x wave interaction in the
      survey-weighted logistic model ``indicator ~ ridit * latest_wave`` on the two waves
      (``interaction``: the change in the log-odds slope; ``interaction_p``).
    * ``gap_trend`` -- over all comparable ``waves``: the ridit x year interaction in
      ``indicator ~ ridit * (year - baseline)`` (survey-weighted, ridit within each wave), its
      design-based Wald t-test, oriented by the sign of the ridit slope at the mean year: a
      significant interaction of the same sign as that slope means the gap (on the log-odds
      scale) grows (``større``), of the opposite sign that it shrinks (``mindre``).

    The indicator's desired direction does not enter the rule: a gap that favours the more
    educated and one that favours the less educated are both gaps, and ``mindre`` always means
    closer to equality. ``least_advantaged_worse_off`` (latest wave, needs ``direction``) says
    which side the gap is on.

    Parameters
    ----------
    data
        Respondents of several waves; not modified.
    indicator, dimension, weight, strata, psu, order, rules, level
        As :func:`sii_survey`. Strata must be wave-specific (e.g. ``"2021-461"``): the waves
        are independent samples.
    baseline, latest
        The agreement's baseline wave (default 2021) and the wave it is compared with (default:
        the latest wave in ``waves``).
    waves
        The comparable waves of the indicator (the catalogue's ``comparable_waves``); default
        all waves with data. ``baseline`` and ``latest`` must be among them.
    year
        Column with the wave (year).
    by
        Column(s) of separate analyses (e.g. the area); ``year`` must not be among them.
    direction
        ``"increase"``/``"decrease"``, fills ``least_advantaged_worse_off``.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group: the ``by`` columns, ``baseline``, ``latest``,
        ``sii_baseline``, ``se_baseline``, ``sii_latest``, ``se_latest``, ``sii_change``,
        ``sii_change_se``, ``sii_change_ci_low``, ``sii_change_ci_high``, ``abs_sii_change``,
        ``abs_sii_change_ci_low``, ``abs_sii_change_ci_high``, ``abs_sii_change_p``, ``gap``,
        ``interaction``, ``interaction_se``, ``interaction_p``, ``trend_interaction``,
        ``trend_interaction_se``, ``trend_interaction_p``, ``trend_waves``, ``gap_trend``,
        ``trend_reason``, ``least_advantaged_worse_off``, ``reason``, ``n_baseline``,
        ``n_latest``, ``direction``, ``method``, ``level``.

    Raises
    ------
    ParameterError
        As :func:`sii_survey`; also ``year`` in ``by``, baseline/latest not among the waves or
        baseline not before latest.
    DataValidationError
        As :func:`sii_survey`; a ``year`` that is not a whole number.

    References
    ----------
    WHO. Handbook on health inequality monitoring, 2024 (monitoring change in inequality).
    Moreno-Betancur M et al. Epidemiology. 2015;26(4):518-527 (the SII/RII regression
    framework, including interactions with time). Lumley T. Complex surveys, Wiley 2010, ch. 5.
    """
    function = "gap_change"
    direction = _optional_direction(direction, function)
    rules = _check_rules(rules, function)
    by_cols, y, groups, labels, codes, level = _prepare_survey(
        data, indicator, dimension, weight, strata, psu, by, order, level, function
    )
    _check_frame(data, [year], function)
    if year in by_cols:
        raise ParameterError(f"{function}: the wave column {year!r} cannot also be in by")
    years = _numeric(data, year, allow_missing=True).to_numpy()
    waves, baseline, latest = _check_waves(years, y, waves, baseline, latest, function)
    cells, keys = _by_cells(data, by_cols, function)
    rows = np.flatnonzero(np.isin(years, waves))
    result = _gap_core(
        y,
        groups,
        labels,
        data[weight].to_numpy(dtype=float),
        codes,
        rows,
        cells[rows],
        len(keys),
        years,
        waves,
        baseline,
        latest,
        direction=direction,
        rules=rules,
        word=_group_word(dimension),
        level=level,
    )
    return pd.concat([keys.reset_index(drop=True), result], axis=1)


def _check_waves(
    years: np.ndarray,
    y: np.ndarray,
    waves: Sequence[int] | None,
    baseline: int,
    latest: int | None,
    function: str,
) -> tuple[list[int], int, int]:
    observed = sorted({int(v) for v in years[~np.isnan(years) & ~np.isnan(y)]})
    waves = observed if waves is None else sorted({int(w) for w in waves})
    if latest is None:
        if not waves:
            raise ParameterError(f"{function}: no waves with data")
        latest = waves[-1]
    for name, wave in (("baseline", baseline), ("latest", latest)):
        if isinstance(wave, bool) or not isinstance(wave, int | np.integer):
            raise ParameterError(f"{function}: {name} must be a year (whole number), got {wave!r}")
        if wave not in waves:
            raise ParameterError(
                f"{function}: {name} wave {wave} is not among the comparable waves {waves}"
            )
    if baseline >= latest:
        raise ParameterError(
            f"{function}: the baseline wave ({baseline}) must come before the latest ({latest})"
        )
    return [int(w) for w in waves], int(baseline), int(latest)


# ---- the cube --------------------------------------------------------------------------------


def _area_table(levels: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Areas of the levels (area_level, area_code) and their kommune memberships."""
    unknown = [lvl for lvl in levels if lvl not in geography.LEVELS]
    if unknown:
        raise ParameterError(
            f"unknown area level(s) {unknown}; use some of {', '.join(geography.LEVELS)}"
        )
    membership = pd.concat([geography.membership(lvl) for lvl in levels], ignore_index=True)
    areas = membership[["area_level", "area_code"]].drop_duplicates().reset_index(drop=True)
    area_index = pd.MultiIndex.from_frame(areas).get_indexer(
        pd.MultiIndex.from_frame(membership[["area_level", "area_code"]])
    )
    return areas, membership["kommune_code"].to_numpy(dtype=np.int64), area_index


def _expand_to_areas(
    rows: np.ndarray,
    kommune: np.ndarray,
    member_kommune: np.ndarray,
    member_area: np.ndarray,
    allowed_area: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (respondent, area) for every area (allowed ones only) a respondent's kommune is in."""
    keep = allowed_area[member_area]
    member_kommune, member_area = member_kommune[keep], member_area[keep]
    order = np.argsort(kommune[rows], kind="stable")
    sorted_rows = rows[order]
    sorted_kommune = kommune[sorted_rows]
    start = np.searchsorted(sorted_kommune, member_kommune, side="left")
    stop = np.searchsorted(sorted_kommune, member_kommune, side="right")
    lengths = stop - start
    total = int(lengths.sum())
    offsets = np.repeat(start - np.cumsum(lengths) + lengths, lengths)
    positions = offsets + np.arange(total)
    return sorted_rows[positions], np.repeat(member_area, lengths)


def _population_mask(respondents: pd.DataFrame, population: Any, age: str, sex: str) -> np.ndarray:
    ages = respondents[age].to_numpy(dtype=float)
    mask = ages >= population.age_min
    if population.age_max is not None:
        mask &= ages <= population.age_max
    if population.sex != "all":
        mask &= (
            respondents[sex] == {"female": "Kvinder", "male": "Mænd"}[population.sex]
        ).to_numpy()
    return mask


def _cube_arrays(respondents, levels, *, weight, strata, psu, year, kommune, age):
    """Design codes, weights, years, kommune codes, ages and the area membership of a cube run.

    Shared by :func:`inequality_for_cube` and :func:`gap_change_for_cube`; raises
    :class:`DataValidationError` for kommune codes that are not in the geography.
    """
    codes = design_codes(respondents, Design(weight=weight, strata=strata, psu=psu))
    weights = respondents[weight].to_numpy(dtype=float)
    years = _numeric(respondents, year, allow_missing=True).to_numpy()
    kommune_codes = _numeric(respondents, kommune, allow_missing=True).to_numpy()
    areas, member_kommune, member_area = _area_table(levels)
    known = np.isin(kommune_codes, member_kommune)
    if not known.all():
        raise DataValidationError(
            "has kommune codes that are not in the geography",
            column=kommune,
            rows=np.flatnonzero(~known).tolist(),
        )
    ages = _numeric(respondents, age, allow_missing=True).to_numpy()
    return (
        codes,
        weights,
        years,
        kommune_codes.astype(np.int64),
        ages,
        areas,
        member_kommune,
        member_area,
    )


def inequality_for_cube(
    respondents: pd.DataFrame,
    agreement: Any = "syddanmark-2024-2027",
    waves: Sequence[int] | None = None,
    levels: Sequence[str] = CUBE_LEVELS,
    *,
    dimensions: Sequence[str] = ("education", "labour_market"),
    weight: str = "weight",
    strata: str | None = "stratum",
    psu: str | None = None,
    year: str = "year",
    kommune: str = "kommune_code",
    age: str = "age",
    sex: str = "sex",
    rules: Rules | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Inequality measures for every survey indicator x wave x area x dimension (the cube).

    For each survey indicator of the agreement, each of its comparable waves (the national-only
    wave for ``land`` only) and each area of ``levels`` (a respondent counts in every area its
    kommune belongs to; areas are domains of the whole design):

    * ``education`` (ordered; respondents aged 25+ in the indicator's population, five groups
      of :data:`EDUCATION_LEVELS`): D and R between the least and the most advantaged group,
      direction aware as :func:`simple_gap`; SII and RII from the survey-weighted logistic
      model on the weighted ridit (:func:`sii_survey`) and the linear PHEindicatormethods
      variant (:func:`sii_grouped`'s point estimate); absolute and relative concentration index
      on the ridit (ACI = 2 sum_j p_j (r_j - 1/2) y_j, RCI = ACI / mean: healthequal's
      ``aci``/``rci`` on the weighted group table); PAR = y_ref - mean and PAF = PAR / mean
      against the most advantaged group (0 when it is not better off, as :func:`paf`);
    * ``labour_market`` (non-ordered, the indicator's population): D and R of the worst-off
      against the best-off group, between-group variance, PAR and PAF against the best-off
      group.

    Standard errors are design-based (Taylor linearisation of each measure as a function of
    the weighted tallies, group shares and ridits held fixed except in the mean; Lumley 2010)
    with t intervals on the cell's design df (the logistic SII/RII: the model's residual df);
    R and RII intervals on the log scale. ``par_persons`` = PAR x ``population``, the
    "potential for improvement" as a number of persons (negative: fewer persons with an
    indicator that should decrease), where ``population`` is the calibrated population the
    measure refers to: the sum of the weights of all the area's respondents in the wave in the
    measure's population (25+ for education), answers missing or not. Its interval scales the
    PAR interval (the calibrated population is taken as known).

    Disclosure (:class:`analyse.stats.disclosure.Rules`): where a group (for labour-market attachment:
    a group with any respondents) has fewer than ``min_n`` respondents or fewer than
    ``min_cases`` with or without the outcome, the cell's measures are NaN and ``reason`` says
    why in Danish.

    Parameters
    ----------
    respondents
        Canonical respondents (``analyse.data.clean``): ``year``, ``kommune_code``, ``stratum``,
        ``weight``, ``sex``, ``age``, ``education``, ``labour_market`` and the indicator
        variables. Not modified.
    agreement
        An :class:`analyse.reference.catalogue.Agreement` or its id.
    waves
        Restrict to these waves (default: every comparable wave with data).
    levels
        Area levels (default all four).
    dimensions
        ``"education"`` and/or ``"labour_market"``.
    weight, strata, psu, year, kommune, age, sex
        Column names.
    rules, level
        Disclosure rules and confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per indicator x wave x area x dimension: ``indicator``, ``year``,
        ``area_level``, ``area_code``, ``dimension``, ``direction``, ``n``, ``n_groups``,
        ``population``, ``prevalence``, ``prevalence_se``, ``reference_group``,
        ``comparison_group``, ``d``, ``d_se``, ``d_ci_low``, ``d_ci_high``, ``r``, ``r_ci_low``,
        ``r_ci_high``, ``sii``, ``sii_se``, ``sii_ci_low``, ``sii_ci_high``, ``rii``,
        ``rii_log_se``, ``rii_ci_low``, ``rii_ci_high``, ``p0``, ``p1``, ``sii_linear`` (+
        ``_se``, ``_ci_low``, ``_ci_high``), ``rii_linear``, ``aci``/``rci`` (+ se and limits),
        ``bgv`` (+ se and limits; labour market), ``paf``, ``par`` (+ se and limits),
        ``par_persons``, ``par_persons_ci_low``, ``par_persons_ci_high``, ``df``, ``reason``
        ('' when computed), ``method``, ``level``. Columns that do not apply to a dimension are
        NaN.

    Raises
    ------
    ParameterError
        Unknown agreement, level, dimension or column; invalid rules or level.
    DataValidationError
        Indicators not coded 1/0, unknown groups, kommune codes not in the geography.
    """
    function = "inequality_for_cube"
    rules = _check_rules(rules, function)
    level = _check_level(level, function)
    if isinstance(agreement, str):
        agreement = catalogue.load_agreement(agreement)
    unknown_dimensions = [d for d in dimensions if d not in ("education", "labour_market")]
    if unknown_dimensions:
        raise ParameterError(
            f"{function}: unknown dimension(s) {unknown_dimensions}; use 'education' and/or "
            "'labour_market'"
        )
    indicators = agreement.indicators_by_source("survey")
    _check_frame(
        respondents,
        [weight, strata, psu, year, kommune, age, sex, *dimensions]
        + sorted({ind.variable for ind in indicators}),
        function,
    )
    (codes, weights, years, kommune_int, ages, areas, member_kommune, member_area) = _cube_arrays(
        respondents,
        levels,
        weight=weight,
        strata=strata,
        psu=psu,
        year=year,
        kommune=kommune,
        age=age,
    )
    group_codes = {d: _dimension_codes(respondents, d, None, function) for d in dimensions}
    area_levels = areas["area_level"].to_numpy()
    n_areas = len(areas)
    frames = []
    for indicator in indicators:
        y = _binary_indicator(respondents, indicator.variable)
        in_population = _population_mask(respondents, indicator.population, age, sex)
        wave_list = [
            w
            for w in agreement.comparable_waves(indicator.id, "land")
            if waves is None or w in waves
        ]
        wave_list = [w for w in wave_list if (years == w).any()]
        level_waves = {lvl: set(agreement.comparable_waves(indicator.id, lvl)) for lvl in levels}
        for dimension in dimensions:
            groups, labels = group_codes[dimension]
            base = in_population & (ages >= EDUCATION_MIN_AGE if dimension == "education" else True)
            pair_rows, pair_cells = [], []
            for position, wave in enumerate(wave_list):
                allowed = np.array([wave in level_waves[lvl] for lvl in area_levels])
                rows = np.flatnonzero(base & (years == wave))
                r, a = _expand_to_areas(rows, kommune_int, member_kommune, member_area, allowed)
                pair_rows.append(r)
                pair_cells.append(position * n_areas + a)
            rows = np.concatenate(pair_rows) if pair_rows else np.zeros(0, np.int64)
            cells = np.concatenate(pair_cells) if pair_cells else np.zeros(0, np.int64)
            n_cells = len(wave_list) * n_areas
            population = np.bincount(cells, weights[rows], minlength=n_cells)
            usable = ~np.isnan(y[rows]) & (groups[rows] >= 0)
            u_rows, u_cells = rows[usable], cells[usable]
            tally = _tally(
                u_rows,
                u_cells,
                groups[u_rows] * 2 + y[u_rows].astype(np.int64),
                n_cells,
                2 * len(labels),
                weights,
                codes,
            )
            measures = _cell_measures(
                tally,
                labels,
                ordered=dimension == "education",
                direction=indicator.direction,
                rules=rules,
                word=_group_word(dimension),
                level=level,
                population=population,
            )
            cell_wave = np.repeat(np.asarray(wave_list, dtype=np.int64), n_areas)
            cell_area = np.tile(np.arange(n_areas), len(wave_list))
            allowed_cell = np.array(
                [
                    w in level_waves[lvl]
                    for w, lvl in zip(cell_wave, area_levels[cell_area], strict=True)
                ],
                dtype=bool,
            )
            if dimension == "education" and (
                indicator.population.age_max is not None
                and indicator.population.age_max < EDUCATION_MIN_AGE
            ):
                measures["reason"] = REASON_EDUCATION_AGE
            head = pd.DataFrame(
                {
                    "indicator": indicator.id,
                    "year": cell_wave,
                    "area_level": area_levels[cell_area],
                    "area_code": areas["area_code"].to_numpy()[cell_area],
                    "dimension": dimension,
                    "direction": indicator.direction,
                }
            )
            frames.append(pd.concat([head, measures], axis=1)[allowed_cell])
    cube = pd.concat(frames, ignore_index=True)
    columns = [c for c in _CUBE_COLUMNS if c in cube.columns]
    cube = cube.reindex(columns=columns)
    cube["method"] = np.where(
        cube["dimension"] == "education",
        "education 25+: D/R least vs most advantaged; SII/RII svyglm on the weighted ridit "
        "(healthequal) and linear (PHEindicatormethods); ACI/RCI; PAF/PAR vs most advantaged",
        "labour market: D/R worst vs best group; BGV; PAF/PAR vs best group",
    )
    cube["level"] = level
    return cube


_CUBE_COLUMNS = [
    "indicator", "year", "area_level", "area_code", "dimension", "direction", "n", "n_groups",
    "population", "prevalence", "prevalence_se", "reference_group", "comparison_group",
    "d", "d_se", "d_ci_low", "d_ci_high", "r", "r_ci_low", "r_ci_high",
    "sii", "sii_se", "sii_ci_low", "sii_ci_high", "rii", "rii_log_se", "rii_ci_low",
    "rii_ci_high", "p0", "p1", "sii_linear", "sii_linear_se", "sii_linear_ci_low",
    "sii_linear_ci_high", "rii_linear", "aci", "aci_se", "aci_ci_low", "aci_ci_high",
    "rci", "rci_se", "rci_ci_low", "rci_ci_high", "bgv", "bgv_se", "bgv_ci_low", "bgv_ci_high",
    "paf", "paf_se", "paf_ci_low", "paf_ci_high", "par", "par_se", "par_ci_low", "par_ci_high",
    "par_persons", "par_persons_ci_low", "par_persons_ci_high", "df", "reason",
]  # fmt: skip


def gap_change_for_cube(
    respondents: pd.DataFrame,
    agreement: Any = "syddanmark-2024-2027",
    levels: Sequence[str] = CUBE_LEVELS,
    *,
    baseline: int | None = None,
    weight: str = "weight",
    strata: str | None = "stratum",
    psu: str | None = None,
    year: str = "year",
    kommune: str = "kommune_code",
    age: str = "age",
    sex: str = "sex",
    rules: Rules | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`gap_change` of the education gap for every survey indicator x area.

    Per indicator and area level, the comparable waves are the catalogue's
    (``comparable_waves(indicator, level)``: the national-only wave counts for ``land`` only)
    that have data; the baseline is the agreement's baseline wave unless given, the latest the
    last comparable wave. Respondents aged 25+ in the indicator's population, areas as domains
    of the whole design (a kommune in two sundhedsklynger counts in both).

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``area_level``, ``area_code``, then the columns of :func:`gap_change`.
        Indicators whose population is younger than 25, or with fewer than two comparable
        waves, get ``gap = "kan ikke vurderes"`` and a ``reason``.

    Raises
    ------
    ParameterError, DataValidationError
        As :func:`inequality_for_cube`.
    """
    function = "gap_change_for_cube"
    rules = _check_rules(rules, function)
    level = _check_level(level, function)
    if isinstance(agreement, str):
        agreement = catalogue.load_agreement(agreement)
    baseline = agreement.baseline_wave if baseline is None else baseline
    indicators = agreement.indicators_by_source("survey")
    _check_frame(
        respondents,
        [weight, strata, psu, year, kommune, age, sex, "education"]
        + sorted({ind.variable for ind in indicators}),
        function,
    )
    (codes, weights, years, kommune_int, ages, areas, member_kommune, member_area) = _cube_arrays(
        respondents,
        levels,
        weight=weight,
        strata=strata,
        psu=psu,
        year=year,
        kommune=kommune,
        age=age,
    )
    groups, labels = _dimension_codes(respondents, "education", None, function)
    area_levels = areas["area_level"].to_numpy()
    frames = []
    for indicator in indicators:
        y = _binary_indicator(respondents, indicator.variable)
        base = _population_mask(respondents, indicator.population, age, sex)
        base &= ages >= EDUCATION_MIN_AGE
        for lvl in levels:
            allowed = area_levels == lvl
            head = pd.DataFrame(
                {
                    "indicator": indicator.id,
                    "area_level": lvl,
                    "area_code": areas.loc[allowed, "area_code"].to_numpy(),
                }
            )
            waves = [w for w in agreement.comparable_waves(indicator.id, lvl) if (years == w).any()]
            youth = (
                indicator.population.age_max is not None
                and indicator.population.age_max < EDUCATION_MIN_AGE
            )
            if youth or baseline not in waves or waves[-1] <= baseline:
                frames.append(
                    head.assign(
                        gap=GAP_UNKNOWN,
                        gap_trend=GAP_UNKNOWN,
                        reason=REASON_EDUCATION_AGE if youth else REASON_FEW_WAVES,
                        direction=indicator.direction,
                    )
                )
                continue
            rows = np.flatnonzero(base & np.isin(years, waves))
            pair_rows, area_of = _expand_to_areas(
                rows, kommune_int, member_kommune, member_area, allowed
            )
            result = _gap_core(
                y,
                groups,
                labels,
                weights,
                codes,
                pair_rows,
                area_of,
                len(areas),
                years,
                waves,
                baseline,
                waves[-1],
                direction=indicator.direction,
                rules=rules,
                word=_group_word("education"),
                level=level,
            )
            frames.append(pd.concat([head, result[allowed].reset_index(drop=True)], axis=1))
    cube = pd.concat(frames, ignore_index=True)
    cube["level"] = level
    return cube
