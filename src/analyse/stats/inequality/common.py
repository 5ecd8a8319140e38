"""Shared argument checks, the ridit and helpers of the inequality measures.

Used by the grouped measures (:mod:`.grouped`), the survey measures (:mod:`.survey`,
:mod:`.tally`) and the gap change (:mod:`.gap`); public so that no module imports another's
private names, but not part of the package's documented API.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analyse.errors import DataValidationError, ParameterError

DIRECTIONS = ("increase", "decrease")


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


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def check_frame(data: Any, columns: Iterable[str | None], function: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"{function}: data must be a pandas DataFrame, got {type(data)}")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise ParameterError(
            f"{function}: column(s) {', '.join(repr(c) for c in missing)} not in the data "
            f"(available: {', '.join(map(str, data.columns))})"
        )


def check_level(level: float, function: str) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ParameterError(
            f"{function}: level must be a confidence level between 0 and 1 (e.g. 0.95), "
            f"got {level!r}"
        )
    return float(level)


def check_direction(direction: str, function: str) -> str:
    if direction not in DIRECTIONS:
        raise ParameterError(
            f"{function}: direction must be 'increase' (higher values are better) or "
            f"'decrease' (lower values are better), got {direction!r}"
        )
    return direction


def numeric(data: pd.DataFrame, column: str, *, allow_missing: bool = False) -> pd.Series:
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


def check_population(population: pd.Series, column: str) -> None:
    bad = ~(population > 0) | ~np.isfinite(population)
    if bad.any():
        raise DataValidationError(
            "population must be a positive number in every group (zero, negative or missing found)",
            column=column,
            rows=np.flatnonzero(bad.to_numpy()).tolist(),
        )


def check_nonnegative(values: pd.Series, column: str, what: str) -> None:
    bad = values < 0
    if bad.any():
        raise DataValidationError(
            f"{what} must not be negative",
            column=column,
            rows=np.flatnonzero(bad.to_numpy()).tolist(),
        )


def iter_groups(
    frame: pd.DataFrame, by: list[str]
) -> Iterable[tuple[dict[str, Any], pd.DataFrame]]:
    """Yield (grouping values, rows) per ``by`` grouping in order of first appearance."""
    if not by:
        yield {}, frame
        return
    for key, rows in frame.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), rows


def group_order(rows: pd.DataFrame, group: str, order: str | None, function: str) -> pd.DataFrame:
    """Return ``rows`` sorted from least to most advantaged group.

    The order comes from the ``order`` column when given, otherwise from the group column
    itself: the category order of a pandas Categorical, or ascending numbers.
    """
    if order is not None:
        key = numeric(rows, order)
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


def check_unique_groups(rows: pd.DataFrame, group: str, where: dict[str, Any]) -> None:
    duplicated = rows[group].duplicated(keep=False)
    if duplicated.any():
        place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
        raise DataValidationError(
            f"each group may appear only once per grouping, but some appear twice in {place}",
            column=group,
            rows=[int(i) for i in rows.index[duplicated.to_numpy()]],
        )


def check_min_groups(n: int, minimum: int, where: dict[str, Any], function: str) -> None:
    if n < minimum:
        place = ", ".join(f"{k}={v!r}" for k, v in where.items()) or "the data"
        raise DataValidationError(
            f"{function} needs at least {minimum} groups, found {n} in {place}"
        )


def z_value(level: float) -> float:
    return float(norm.ppf(1 - (1 - level) / 2))


def result_frame(records: list[dict[str, Any]], by: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=[*by, *columns])
    return frame.reset_index(drop=True)


def prepare_grouped(
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
    by_cols = as_list(by)
    check_frame(data, [group, value, population, se, order, *by_cols], function)
    frame = data.copy()
    frame["_value"] = numeric(frame, value)
    if population is not None:
        pop = numeric(frame, population, allow_missing=True)
        check_population(pop, population)
        frame["_pop"] = pop
    if se is not None:
        se_values = numeric(frame, se, allow_missing=True)
        check_nonnegative(se_values, se, "standard errors")
        frame["_se"] = se_values
    return frame, by_cols


def direction_sign(direction: str) -> float:
    # +1: higher values are better (favourable indicator); -1: lower values are better.
    return 1.0 if direction == "increase" else -1.0
