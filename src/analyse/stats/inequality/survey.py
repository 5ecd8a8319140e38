"""Slope and relative index of inequality from survey microdata (``sii_survey``).

Survey-weighted logistic model on the weighted ridit (WHO/healthequal convention;
Moreno-Betancur et al. 2015) with design-based standard errors as :mod:`analyse.stats.survey`,
plus the simple measures per ``by`` cell. The arithmetic is in :mod:`.tally`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from analyse.stats.disclosure import Rules
from analyse.stats.inequality.common import direction_sign
from analyse.stats.inequality.tally import (
    by_cells,
    cell_measures,
    check_rules,
    group_word,
    optional_direction,
    prepare_survey,
    tally_cells,
)


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
    direction = optional_direction(direction, function)
    rules = check_rules(rules, function)
    by_cols, y, groups, labels, codes, level = prepare_survey(
        data, indicator, dimension, weight, strata, psu, by, order, level, function
    )
    cells, keys = by_cells(data, by_cols, function)
    usable = ~np.isnan(y) & (groups >= 0)
    rows = np.flatnonzero(usable)
    tally = tally_cells(
        rows,
        cells[rows],
        groups[rows] * 2 + y[rows].astype(np.int64),
        len(keys),
        2 * len(labels),
        data[weight].to_numpy(dtype=float),
        codes,
    )
    measures = cell_measures(
        tally,
        labels,
        ordered=True,
        direction=direction or "increase",
        rules=rules,
        word=group_word(dimension),
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
        worse = measures["sii"] * direction_sign(direction) > 0
        out["least_advantaged_worse_off"] = worse.where(measures["sii"].notna(), pd.NA)
    out["reason"] = measures["reason"]
    out["direction"] = direction
    out["method"] = (
        "svyglm quasibinomial on the weighted ridit (WHO healthequal convention); delta-method se"
    )
    out["level"] = level
    return out
