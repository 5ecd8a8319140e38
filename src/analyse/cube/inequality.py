"""Inequality for the cube: every survey indicator x wave x area x dimension, and the gap change
of every indicator x area, from the respondents, the agreement and the geography.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analyse.errors import DataValidationError, ParameterError
from analyse.reference import catalogue, geography
from analyse.stats.disclosure import Rules
from analyse.stats.inequality.common import check_frame, check_level, numeric
from analyse.stats.inequality.gap import gap_cells
from analyse.stats.inequality.tally import (
    EDUCATION_MIN_AGE,
    GAP_UNKNOWN,
    REASON_EDUCATION_AGE,
    REASON_FEW_WAVES,
    binary_indicator,
    cell_measures,
    check_rules,
    dimension_codes,
    group_word,
    tally_cells,
)
from analyse.stats.survey import Design, design_codes


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
    if getattr(population, "labour_market", ()):
        mask &= respondents["labour_market"].isin(population.labour_market).to_numpy()
    return mask


def _cube_arrays(respondents, levels, *, weight, strata, psu, year, kommune, age):
    """Design codes, weights, years, kommune codes, ages and the area membership of a cube run.

    Shared by :func:`inequality_for_cube` and :func:`gap_change_for_cube`; raises
    :class:`DataValidationError` for kommune codes that are not in the geography.
    """
    codes = design_codes(respondents, Design(weight=weight, strata=strata, psu=psu))
    weights = respondents[weight].to_numpy(dtype=float)
    years = numeric(respondents, year, allow_missing=True).to_numpy()
    kommune_codes = numeric(respondents, kommune, allow_missing=True).to_numpy()
    areas, member_kommune, member_area = _area_table(levels)
    known = np.isin(kommune_codes, member_kommune)
    if not known.all():
        raise DataValidationError(
            "has kommune codes that are not in the geography",
            column=kommune,
            rows=np.flatnonzero(~known).tolist(),
        )
    ages = numeric(respondents, age, allow_missing=True).to_numpy()
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
    levels: Sequence[str] = geography.LEVELS,
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
    rules = check_rules(rules, function)
    level = check_level(level, function)
    if isinstance(agreement, str):
        agreement = catalogue.load_agreement(agreement)
    unknown_dimensions = [d for d in dimensions if d not in ("education", "labour_market")]
    if unknown_dimensions:
        raise ParameterError(
            f"{function}: unknown dimension(s) {unknown_dimensions}; use 'education' and/or "
            "'labour_market'"
        )
    indicators = agreement.indicators_by_source("survey")
    check_frame(
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
    group_codes = {d: dimension_codes(respondents, d, None, function) for d in dimensions}
    area_levels = areas["area_level"].to_numpy()
    n_areas = len(areas)
    frames = []
    for indicator in indicators:
        y = binary_indicator(respondents, indicator.variable)
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
            tally = tally_cells(
                u_rows,
                u_cells,
                groups[u_rows] * 2 + y[u_rows].astype(np.int64),
                n_cells,
                2 * len(labels),
                weights,
                codes,
            )
            measures = cell_measures(
                tally,
                labels,
                ordered=dimension == "education",
                direction=indicator.direction,
                rules=rules,
                word=group_word(dimension),
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
    levels: Sequence[str] = geography.LEVELS,
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
    rules = check_rules(rules, function)
    level = check_level(level, function)
    if isinstance(agreement, str):
        agreement = catalogue.load_agreement(agreement)
    baseline = agreement.baseline_wave if baseline is None else baseline
    indicators = agreement.indicators_by_source("survey")
    check_frame(
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
    groups, labels = dimension_codes(respondents, "education", None, function)
    area_levels = areas["area_level"].to_numpy()
    frames = []
    for indicator in indicators:
        y = binary_indicator(respondents, indicator.variable)
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
            result = gap_cells(
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
                word=group_word("education"),
                level=level,
            )
            frames.append(pd.concat([head, result[allowed].reset_index(drop=True)], axis=1))
    cube = pd.concat(frames, ignore_index=True)
    cube["level"] = level
    return cube
