"""Direct age(-sex) standardisation of survey prevalences and means, with design-based SEs.

A directly standardised estimate for a group (an area, a wave ...) is the prevalence the group
would have if its population had the composition of a fixed *standard population*::

    estimate_g = sum_s P_s * p_gs

where ``s`` runs over the standard's strata (sex x age group), ``P_s`` is the standard's share of
stratum ``s`` and ``p_gs`` the survey estimate (a Hájek ratio) in the domain group ``g`` x stratum
``s``. It is the estimator of R's ``svystandardize`` (Lumley 2010, sec. 3.4; R package
``survey``), which post-stratifies the weights within each group to the standard's shares.

Its variance is design-based: the ``p_gs`` are domain estimates of one design, so the
standardised estimate is linearised as the combination ``z_i = sum_s P_s z_i,gs`` of the
domains' linearised variables, which is summed per PSU and stratum like any other estimate
(:mod:`analyse.stats.linearise`). This equals ``svyby(~y, ~area, svystandardize(design, by =
~sex + age_group, over = ~area, population = pop), svymean)``.

The package ships one standard, the Danish population aged 16 and over by sex and age group
(DST StatBank FOLK1A, 1 October 2025); see :func:`analyse.reference.population.load_standard`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analyse.errors import ParameterError
from analyse.stats.linearise import linearised_ratio, variance_sparse
from analyse.stats.survey import (
    Design,
    binary_column,
    check_level,
    design_codes,
    domain_matrix,
    logit_interval,
    numeric_column,
    require_columns,
    row_note,
    t_quantile,
)

__all__ = ["METHOD", "direct"]

METHOD = "direct-standardised"

_POPULATION = "population"
_SHARE = "share"
# How many respondent-free cells an error message lists before it says "...".
_EXAMPLES = 5


def _standard_table(standard: pd.DataFrame, strata: list[str]) -> tuple[pd.DataFrame, str]:
    """Validate a standard and collapse it to one row per stratum with its share ``P_s``."""
    if not isinstance(standard, pd.DataFrame):
        raise ParameterError(
            "standard must be a DataFrame with one column per stratum variable and "
            "'population' (or 'share'), e.g. analyse.reference.population.load_standard() "
            f"(got {type(standard).__name__})"
        )
    table = standard
    name = str(table.attrs.get("name", "user-supplied"))
    size = _POPULATION if _POPULATION in table.columns else _SHARE
    missing = [c for c in strata if c not in table.columns]
    if missing or size not in table.columns:
        absent = missing + ([] if size in table.columns else ["population (or share)"])
        raise ParameterError(
            f"the standard population lacks column(s) {', '.join(map(repr, absent))}; it needs "
            f"one column per stratum variable ({', '.join(strata)}) and 'population'"
        )
    for column in strata:
        blank = table[column].isna().to_numpy()
        if blank.any():
            raise ParameterError(
                f"standard population column {column!r} has missing values ({row_note(blank)})"
            )
    values = pd.to_numeric(table[size], errors="coerce").to_numpy(dtype=float)
    bad = ~(values > 0) | ~np.isfinite(values)
    if bad.any():
        raise ParameterError(
            f"standard population column {size!r} must be positive and finite in every stratum "
            f"({row_note(bad)}); drop strata that should not count, or merge them"
        )
    # Strata are the stratum columns as strings, so 16-24 in the data matches "16-24" here
    # whether either side is categorical, object or (for a numeric code) int.
    keys = table[strata].astype(str)
    described = table.drop(columns=[c for c in (_POPULATION, _SHARE) if c in table.columns])
    duplicated = described.astype(str).duplicated(keep=False).to_numpy()
    if duplicated.any():
        raise ParameterError(
            f"the standard population has more than one row per stratum ({row_note(duplicated)})"
        )
    # Columns the standard has but the call does not standardise on (e.g. sex, when
    # strata=("age_group",)) are summed over: age-only standardisation to the same population.
    collapsed = keys.assign(_size=values).groupby(strata, sort=False)[["_size"]].sum()
    collapsed["share"] = collapsed["_size"] / collapsed["_size"].sum()
    return collapsed.reset_index()[[*strata, "share"]], name


def _stratum_index(
    data: pd.DataFrame, strata: list[str], table: pd.DataFrame, observed: np.ndarray
) -> np.ndarray:
    """Position in ``table`` of each row's stratum; checks both sides hold the same strata."""
    for column in strata:
        blank = data[column].isna().to_numpy() & observed
        if blank.any():
            raise ParameterError(
                f"stratum column {column!r} has missing values among respondents with an answer "
                f"({row_note(blank)}); they cannot be standardised"
            )
    row_keys = pd.MultiIndex.from_frame(data[strata].astype(str))
    table_keys = pd.MultiIndex.from_frame(table[strata])
    index = table_keys.get_indexer(row_keys)
    unknown = (index < 0) & observed
    if unknown.any():
        labels = sorted({" x ".join(k) for k in row_keys[unknown].to_flat_index()})
        raise ParameterError(
            f"the data have stratum/strata {', '.join(map(repr, labels[:_EXAMPLES]))} "
            f"({' x '.join(strata)}) that the standard population lacks ({row_note(unknown)}); "
            f"the standard has {', '.join(repr(' x '.join(k)) for k in table_keys[:_EXAMPLES])}"
            + (" ..." if len(table_keys) > _EXAMPLES else "")
        )
    present = np.zeros(len(table), dtype=bool)
    present[index[observed]] = True
    if not present.all():
        absent = [" x ".join(k) for k in table_keys[~present]]
        raise ParameterError(
            f"the standard population has stratum/strata {', '.join(map(repr, absent))} "
            f"({' x '.join(strata)}) with no respondents in the data; restrict the standard to "
            "the strata the survey covers (e.g. drop them from the standard DataFrame)"
        )
    return index


def direct(
    data: pd.DataFrame,
    variable: str,
    design: Design,
    *,
    by: str | Sequence[str] | None = None,
    standard: pd.DataFrame,
    strata: str | Sequence[str] = ("sex", "age_group"),
    kind: str = "proportion",
    level: float = 0.95,
) -> pd.DataFrame:
    """Directly standardised prevalence (or mean) per group, with a design-based SE.

    Direct standardisation: ``estimate_g = sum_s P_s p_gs``, the group's stratum-specific
    survey estimates ``p_gs`` (Hájek ratios in the domain group ``g`` x stratum ``s``, missing
    outcomes dropped as a domain) weighted by the standard population's shares ``P_s``. This is
    R's ``svystandardize`` (Lumley 2010, *Complex Surveys*, sec. 3.4) followed by ``svymean``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    variable : str
        Outcome column: 0/1 (or True/False) for ``kind="proportion"``, numeric for ``"mean"``;
        NaN = missing.
    design : Design
        Column names of weight, strata, PSU and fpc of the whole survey.
    by : str or list of str, optional
        Groups to standardise (e.g. ``["year", "kommune_code"]``); each group is a domain of the
        whole design. None = one group, the whole sample.
    standard : DataFrame
        One column per ``strata`` variable and ``population`` (or ``share``) > 0, e.g. the
        shipped Danish population 16+ (:func:`analyse.reference.population.load_standard`). Columns of the standard that are not in ``strata`` are summed over
        (``strata="age_group"`` standardises for age only, to the same population). Stratum
        labels are matched as text. ``standard.attrs["name"]`` names it in the output.
    strata : str or sequence of str
        Columns of ``data`` that define the standardisation strata (default sex x age group).
    kind : {"proportion", "mean"}
        ``"proportion"`` checks the outcome is 0/1 and gives a logit interval.
    level : float
        Confidence level, default 0.95.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns (groups sorted), ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n``
        (unweighted respondents with an answer in the group), ``df`` (PSUs - strata of the whole
        design), ``method`` (``"direct-standardised"``), ``level`` and ``standard`` (its name).

    Raises
    ------
    ParameterError
        Unknown column; non-numeric or (for a proportion) non-0/1 outcome; bad weights or design
        columns; missing values in ``by`` or in a stratum column; a stratum in the data that the
        standard lacks, or a standard stratum without respondents; a standard without the
        stratum columns or with a population that is not positive; a group with no respondents
        in some stratum (its standardised estimate does not exist: merge age groups, use a
        coarser ``by`` or a standard without that stratum); level outside (0, 1).

    Notes
    -----
    **Variance.** Each respondent in group ``g`` and stratum ``s`` gets the linearised value
    ``z_i = P_s w_i (y_i - p_gs) / W_gs`` (``W_gs`` the domain's weight sum), zero elsewhere;
    its design variance (PSU totals within strata, ``n_h/(n_h - 1)``, fpc, lonely PSUs as
    ``survey.lonely.psu = "adjust"``) is the variance of ``sum_s P_s p_gs`` including the
    covariances of the stratum estimates. The standard's shares are fixed constants. This is
    the variance R computes for a design post-stratified by ``svystandardize(design, by =
    ~sex + age_group, over = ~group, population = pop)``, checked in ``tests/test_standardise.py``.

    **Intervals.** Proportions: the logit interval of the crude estimates (``svyciprop(method =
    "logit")`` applied to the standardised estimate and SE), ``expit(logit(p) ± t se / (p (1 -
    p)))``, which stays inside [0, 1]; means: ``estimate ± t se``. ``t`` has the df of the whole
    design, as for crude estimates (R's ``degf`` of a design after ``excluding.missing`` counts
    only answering PSUs, so R's own interval may use slightly fewer df).

    **Empty cells.** R would give NA (or fail) when a group has no respondent in a stratum; here
    it is an error naming the group(s) and stratum/strata, so a missing cell is never silently
    treated as a zero prevalence or left out of the average.
    """
    level = check_level(level)
    if kind not in ("proportion", "mean"):
        raise ParameterError(f"kind must be 'proportion' or 'mean' (got {kind!r})")
    strata = [strata] if isinstance(strata, str) else list(strata)
    if not strata:
        raise ParameterError("strata must name at least one column (e.g. 'age_group')")
    codes = design_codes(data, design)
    require_columns(data, [variable], "outcome")
    require_columns(data, strata, "stratum")
    y = (
        binary_column(data, variable)
        if kind == "proportion"
        else numeric_column(data, variable, "outcome")
    )
    table, name = _standard_table(standard, strata)
    observed = ~np.isnan(y)
    stratum = _stratum_index(data, strata, table, observed)
    groups, keys = domain_matrix(data, by)

    n_rows, n_groups, n_strata = len(data), groups.shape[1], len(table)
    # Each row is in exactly one group; read its column off the one-hot matrix (sparse argmax
    # loops over rows in Python).
    membership = groups.tocoo()
    group = np.zeros(n_rows, dtype=np.int64)
    group[membership.row] = membership.col
    # Rows with no answer may lie outside the standard's strata (index -1); they add nothing.
    rows = np.flatnonzero(stratum >= 0)
    cells = sp.csr_matrix(
        (np.ones(rows.size), (rows, group[rows] * n_strata + stratum[rows])),
        shape=(n_rows, n_groups * n_strata),
    )
    weights = data[design.weight].to_numpy(dtype=float)
    cell_estimate, z, cell_n, cell_weight = linearised_ratio(y, weights, cells)
    _check_cells(keys, table, strata, cell_weight.reshape(n_groups, n_strata))

    share = table["share"].to_numpy()
    estimate = cell_estimate.reshape(n_groups, n_strata) @ share
    combine = sp.csr_matrix(
        (
            np.tile(share, n_groups),
            (np.arange(n_groups * n_strata), np.repeat(np.arange(n_groups), n_strata)),
        ),
        shape=(n_groups * n_strata, n_groups),
    )
    se = np.sqrt(variance_sparse(z @ combine, codes))

    quantile = t_quantile(level, codes.df)
    if kind == "proportion":
        ci_low, ci_high = logit_interval(estimate, se, quantile)
    else:
        ci_low, ci_high = estimate - quantile * se, estimate + quantile * se
    out = keys.copy()
    out["estimate"] = estimate
    out["se"] = se
    out["ci_low"] = ci_low
    out["ci_high"] = ci_high
    out["n"] = cell_n.reshape(n_groups, n_strata).sum(axis=1)
    out["df"] = codes.df
    out["method"] = METHOD
    out["level"] = level
    out["standard"] = name
    return out


def _check_cells(
    keys: pd.DataFrame, table: pd.DataFrame, strata: list[str], weight: np.ndarray
) -> None:
    """Raise if some group has no (positively weighted) respondent in some stratum."""
    empty = ~(weight > 0)
    if not empty.any():
        return
    group_index, stratum_index = np.nonzero(empty)
    examples = []
    for g, s in zip(group_index[:_EXAMPLES], stratum_index[:_EXAMPLES], strict=True):
        group = ", ".join(f"{c}={keys.iloc[g][c]!r}" for c in keys.columns) or "the whole sample"
        cell = " x ".join(table.iloc[s][strata])
        examples.append(f"{group} in {cell!r}")
    raise ParameterError(
        f"{empty.sum()} group x stratum cell(s) have no respondents with an answer (or only zero "
        f"weights), e.g. {'; '.join(examples)}; a directly standardised estimate needs every "
        "stratum of the standard in every group. Merge age groups, use coarser groups, or pass "
        "a standard without those strata"
    )
