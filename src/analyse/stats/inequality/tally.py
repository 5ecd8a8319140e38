"""The engine of the survey-microdata inequality measures: weighted tallies per cell, their
design covariance, the logistic model on the ridit and the measures of every cell at once.

Public so that :mod:`.survey`, :mod:`.gap` and the cube layer can run thousands of cells in one
pass; each function works on integer codes and numpy arrays.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import t as t_dist

from analyse.errors import DataValidationError, ParameterError
from analyse.stats.disclosure import REASON_FEW_CASES, REASON_FEW_RESPONDENTS, Rules
from analyse.stats.inequality.common import (
    as_list,
    check_direction,
    check_frame,
    check_level,
    direction_sign,
    numeric,
)
from analyse.stats.survey import Design, DesignCodes, design_codes

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
NEWTON_TOLERANCE = 1e-10
NEWTON_MAX_ITER = 50


def group_word(dimension: str) -> str:
    return _GROUP_WORD.get(dimension, "gruppe")


def dimension_codes(
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


def binary_indicator(data: pd.DataFrame, column: str) -> np.ndarray:
    """The indicator as float 1/0/NaN, or raise naming the rows with other values."""
    values = numeric(data, column, allow_missing=True).to_numpy()
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    if bad.any():
        raise DataValidationError(
            "must be coded 1/0 (missing = NaN)", column=column, rows=np.flatnonzero(bad).tolist()
        )
    return values


def check_rules(rules: Any, function: str) -> Rules:
    if rules is None:
        return Rules()
    if not isinstance(rules, Rules):
        raise ParameterError(
            f"{function}: rules must be an analyse.stats.disclosure.Rules, got {type(rules).__name__}"
        )
    return rules


def optional_direction(direction: str | None, function: str) -> str | None:
    return None if direction is None else check_direction(direction, function)


def by_cells(
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
class Tally:
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


def tally_cells(
    rows: np.ndarray,
    cells: np.ndarray,
    keys: np.ndarray,
    n_cells: int,
    n_keys: int,
    weights: np.ndarray,
    codes: DesignCodes,
) -> Tally:
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
    return Tally(
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


def tally_covariance(tally: Tally, influence: np.ndarray, full: bool = False) -> np.ndarray:
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


def fit_logistic(
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
    for _ in range(NEWTON_MAX_ITER):
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
            np.abs(step) <= NEWTON_TOLERANCE * (1 + np.abs(beta)), axis=1
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


def t_quantiles(level: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, t_dist.ppf(0.5 + level / 2, np.where(df > 0, df, 1)), np.nan)


# ---- measures per cell ----------------------------------------------------------------------


def rule_reasons(
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


def interval_columns(
    out: dict[str, np.ndarray], name: str, estimate: np.ndarray, se: np.ndarray, q: np.ndarray
) -> None:
    out[name] = estimate
    out[f"{name}_se"] = se
    out[f"{name}_ci_low"] = estimate - q * se
    out[f"{name}_ci_high"] = estimate + q * se


def _group_arrays(tally: Tally, n_groups: int) -> dict[str, np.ndarray]:
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


def cell_measures(
    tally: Tally,
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
    sign = direction_sign(direction)
    g = _group_arrays(tally, n_groups)
    total_weight = g["weight"].sum(axis=1)
    n_total = g["n"].sum(axis=1)
    considered = np.ones_like(g["n"], dtype=bool) if ordered else g["n"] > 0
    present = g["n"] > 0
    extremes = considered.copy()
    if ordered and n_groups > 2:
        extremes[:, 1:-1] = False
    reasons = rule_reasons(g["n"], g["cases"], considered, rules, word, extremes)
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
    variance = tally_covariance(tally, np.stack([influences[k] for k in names], axis=2))
    se = dict(zip(names, np.sqrt(variance).T, strict=True))
    q = t_quantiles(level, tally.degf)

    out: dict[str, Any] = {
        "n": n_total,
        "n_groups": n_present,
        "prevalence": mean,
        "prevalence_se": se["prevalence"],
        "reference_group": np.array([labels[i] for i in reference], dtype=object),
        "comparison_group": np.array([labels[i] for i in comparison], dtype=object),
    }
    interval_columns(out, "d", estimates["d"], se["d"], q)
    out["r"] = np.exp(estimates["log_r"])
    out["r_ci_low"] = np.exp(estimates["log_r"] - q * se["log_r"])
    out["r_ci_high"] = np.exp(estimates["log_r"] + q * se["log_r"])

    if ordered:
        x = np.stack([np.ones((n_cells, n_keys)), rank[:, key_group]], axis=2)
        beta, f_beta, converged, _ = fit_logistic(tally.weight, x, key_y, ok)
        reasons[ok & ~converged] = REASON_NOT_CONVERGED
        ok = reasons == ""
        vcov = tally_covariance(tally, f_beta, full=True)
        p0, p1 = expit(beta[:, 0]), expit(beta[:, 0] + beta[:, 1])
        grad_sii = np.stack([p1 * (1 - p1) - p0 * (1 - p0), p1 * (1 - p1)], axis=1)
        grad_log_rii = np.stack([p0 - p1, 1 - p1], axis=1)
        sii_se = np.sqrt(np.einsum("cp,cpq,cq->c", grad_sii, vcov, grad_sii))
        log_rii_se = np.sqrt(np.einsum("cp,cpq,cq->c", grad_log_rii, vcov, grad_log_rii))
        q_model = t_quantiles(level, tally.degf + 1 - 2)
        interval_columns(out, "sii", p1 - p0, sii_se, q_model)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_rii = np.log(p1 / p0)
        out["rii"] = np.exp(log_rii)
        out["rii_log_se"] = log_rii_se
        out["rii_ci_low"] = np.exp(log_rii - q_model * log_rii_se)
        out["rii_ci_high"] = np.exp(log_rii + q_model * log_rii_se)
        out["p0"], out["p1"] = p0, p1
        out["model_df"] = tally.degf + 1 - 2
        interval_columns(out, "sii_linear", estimates["sii_linear"], se["sii_linear"], q)
        out["rii_linear"] = estimates["rii_linear"]
        interval_columns(out, "aci", estimates["aci"], se["aci"], q)
        interval_columns(out, "rci", estimates["rci"], se["rci"], q)
    else:
        interval_columns(out, "bgv", estimates["bgv"], se["bgv"], q)
    interval_columns(out, "paf", estimates["paf"], se["paf"], q)
    interval_columns(out, "par", estimates["par"], se["par"], q)
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


def prepare_survey(
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
    by_cols = as_list(by)
    check_frame(data, [indicator, dimension, weight, strata, psu, *by_cols], function)
    level = check_level(level, function)
    for name, column in (("indicator", indicator), ("dimension", dimension)):
        if column in by_cols:
            raise ParameterError(f"{function}: the {name} column {column!r} cannot also be in by")
    codes = design_codes(data, Design(weight=weight, strata=strata, psu=psu))
    y = binary_indicator(data, indicator)
    groups, labels = dimension_codes(data, dimension, order, function)
    if len(labels) < 2:
        raise ParameterError(f"{function}: the dimension needs at least two groups, got {labels}")
    return by_cols, y, groups, labels, codes, level
