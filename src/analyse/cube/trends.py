"""Trend models and projections for the cube, with the agreement's rules and the geography.

The agreement gives each indicator's variable, population (age band and sex), desired
direction, baseline and comparable waves, the projection year (the end of the agreement) and
the wave notes; the geography gives each area's kommuner. The models are those of
:mod:`analyse.stats.trend` (respondents) and :mod:`analyse.stats.series` (aggregated series).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analyse.cube.changes import (
    KEYS,
    baseline_year,
    check_agreement,
    check_level,
    comparable,
    indicator,
    wave_notes,
)
from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator
from analyse.stats import disclosure, series
from analyse.stats import trend as stats_trend
from analyse.stats.series import check_confidence, require_columns

# Map the catalogue's population sex to the respondent table's labels (Danish, as cleaned).
SEX_LABELS = {"female": "Kvinder", "male": "Mænd"}
TOTAL = stats_trend.TOTAL
#: The trend table's columns: the statistics' columns with the wave notes after ``direction``.
TREND_COLUMNS = [
    *series.TREND_COLUMNS[: series.TREND_COLUMNS.index("direction") + 1],
    "covid_flag",
    "note",
    *series.TREND_COLUMNS[series.TREND_COLUMNS.index("direction") + 1 :],
]
PROJECTION_COLUMNS = [
    *KEYS,
    *series.PROJECTION_COLUMNS[: series.PROJECTION_COLUMNS.index("direction") + 1],
    "covid_flag",
    *series.PROJECTION_COLUMNS[series.PROJECTION_COLUMNS.index("direction") + 1 :],
]
_MICRODATA_COLUMNS = ["year", "kommune_code", "age", "age_group", "sex"]
MODEL_SUPPRESSED_NOTE = "for få svar i en eller flere af målingerne til at vise modellen"


def _population(respondents: pd.DataFrame, ind: Indicator, sex_labels) -> np.ndarray:
    pop = ind.population
    mask = stats_trend.population_mask(
        respondents,
        age_min=pop.age_min,
        age_max=pop.age_max,
        sex=None if pop.sex == "all" else sex_labels[pop.sex],
    )
    if pop.labour_market:  # e.g. the employed only
        mask = mask & respondents["labour_market"].isin(pop.labour_market).to_numpy()
    return mask


def _finish(frame: pd.DataFrame, agreement: Agreement, confidence: float) -> pd.DataFrame:
    """The agreement's direction and wave notes, then the statistics' column order."""
    frame["direction"] = [agreement.indicator(i).direction for i in frame["indicator"]]
    if "waves" not in frame:
        frame["waves"] = np.nan
    notes = [
        wave_notes(agreement, [int(y) for y in str(w).split(",") if y])
        if agreement.indicator(i).source == "survey" and isinstance(w, str)
        else (False, "")
        for i, w in zip(frame["indicator"], frame["waves"], strict=True)
    ]
    frame["covid_flag"] = [c for c, _ in notes]
    frame["note"] = [n for _, n in notes]
    return series.finish(frame, confidence, TREND_COLUMNS)


def trend(
    data: pd.DataFrame,
    indicator_id: str,
    agreement: Agreement,
    *,
    level: str = "land",
    area_code: str | int | None = None,
    by: str | None = None,
    design=stats_trend.DEFAULT_DESIGN,
    confidence: float = 0.95,
    target: int | None = None,
    covariates: Sequence[str] | None = None,
    sex_labels: Mapping[str, str] = SEX_LABELS,
) -> pd.DataFrame:
    """The trend of one agreement indicator in one area (respondents or aggregated rows).

    Respondents: :func:`analyse.stats.trend.trend` on the indicator's population (catalogue
    age band and sex) in the area's kommuner over the comparable waves. Aggregated input
    (columns ``estimate`` + ``se`` or ``numerator`` + ``denominator``, with ``indicator``,
    ``area_level``, ``area_code``, ``year`` and optionally ``breakdown``, ``group``,
    ``suppressed``): :func:`trends_from_estimates` on the area's rows. The baseline, the
    projection year (default the agreement's ``period_end``) and the direction are the
    agreement's. Output columns: :data:`TREND_COLUMNS` after the keys, and ``formula`` for
    respondents.

    Raises
    ------
    ParameterError
        Unknown indicator, level or area; missing columns; a non-0/1 indicator column; a bad
        confidence level.
    """
    confidence = check_confidence(confidence)
    check_agreement(agreement)
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"data must be a pandas DataFrame (got {type(data).__name__})")
    check_level(level)
    ind = indicator(agreement, indicator_id)
    target = agreement.period_end if target is None else int(target)
    if _is_aggregated(data):
        return _trend_aggregated(data, ind, agreement, level, area_code, by, confidence, target)
    if ind.source != "survey":
        raise ParameterError(
            f"{indicator_id!r} is a register indicator: give numerator/denominator per year"
        )
    require_columns(data, _MICRODATA_COLUMNS + [ind.variable], "respondents")
    if level == "land":
        area, code = np.ones(len(data), dtype=bool), geography.COUNTRY_CODE
    else:
        if area_code is None:
            raise ParameterError(f"area_code is needed for level {level!r}")
        code = str(area_code).strip()
        area = data["kommune_code"].isin(geography.members(level, code)).to_numpy()
    result = stats_trend.trend(
        data,
        ind.variable,
        baseline_year=baseline_year(agreement, ind),
        target_year=target,
        direction=ind.direction,
        domain=area,
        population=_population(data, ind, sex_labels),
        waves=agreement.comparable_waves(ind.id, "land" if level == "land" else "kommune"),
        by=by,
        covariates=covariates,
        design=design,
        confidence=confidence,
    )
    result.insert(0, "indicator", ind.id)
    result.insert(1, "area_level", level)
    result.insert(2, "area_code", code)
    return _finish(result, agreement, confidence)


def projection(data: pd.DataFrame, indicator_id: str, agreement: Agreement, **kwargs):
    """The projection columns (:data:`PROJECTION_COLUMNS`) of :func:`trend`."""
    return trend(data, indicator_id, agreement, **kwargs)[PROJECTION_COLUMNS]


def _is_aggregated(data: pd.DataFrame) -> bool:
    return {"estimate", "se"} <= set(data.columns) or {"numerator", "denominator"} <= set(
        data.columns
    )


def _trend_aggregated(data, ind, agreement, level, area_code, by, confidence, target):
    require_columns(data, ["indicator", "area_level", "area_code", "year"], "aggregated data")
    code = geography.COUNTRY_CODE if level == "land" else area_code
    if code is None:
        raise ParameterError(f"area_code is needed for level {level!r}")
    mask = (
        (data["indicator"] == ind.id)
        & (data["area_level"] == level)
        & (data["area_code"].astype(str) == str(code))
    )
    frame = data.loc[mask].copy()
    if "breakdown" not in frame:
        frame["breakdown"], frame["group"] = TOTAL, TOTAL
    frame = frame[frame["breakdown"] == (TOTAL if by is None else by)]
    if frame.empty:
        raise ParameterError(
            f"no rows for indicator {ind.id!r}, {level} {code!r}"
            + (f", breakdown {by!r}" if by else "")
        )
    return trends_from_estimates(frame, agreement, confidence=confidence, target=target)


def trends_from_estimates(
    estimates: pd.DataFrame,
    agreement: Agreement,
    *,
    confidence: float = 0.95,
    target: int | None = None,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """:func:`analyse.stats.series.trend_series` per cell, on the comparable waves only.

    Input is either ``estimate`` + ``se`` per wave or ``numerator`` + ``denominator`` per year
    (register counts). Baseline, direction and projection year are the agreement's; output
    columns as :func:`trend`.
    """
    confidence = check_confidence(confidence)
    check_agreement(agreement)
    keys = list(keys)
    counts = "numerator" in estimates.columns and "denominator" in estimates.columns
    require_columns(
        estimates,
        keys + ["year"] + (["numerator", "denominator"] if counts else ["estimate", "se"]),
        "counts" if counts else "estimates",
    )
    target = agreement.period_end if target is None else int(target)
    indicators = {i: indicator(agreement, i) for i in estimates["indicator"].unique()}
    combos = estimates[["indicator", "area_level", "year"]].drop_duplicates()
    combos = combos[
        [
            comparable(agreement, indicators[i], lvl, int(y))
            for i, lvl, y in combos.itertuples(index=False)
        ]
    ]
    frame = estimates.merge(combos, on=["indicator", "area_level", "year"], how="inner")
    frame["_baseline"] = frame["indicator"].map(lambda i: baseline_year(agreement, indicators[i]))
    frame["_direction"] = frame["indicator"].map(lambda i: indicators[i].direction)
    result = series.trend_series(
        frame,
        keys=keys,
        n="n",
        numerator="numerator" if counts else None,
        denominator="denominator" if counts else None,
        baseline_year="_baseline",
        target_year=target,
        direction="_direction",
        confidence=confidence,
    )
    return _finish(result, agreement, confidence)


def trends_for_cube(
    respondents: pd.DataFrame,
    agreement: Agreement,
    levels: Sequence[str] = geography.LEVELS,
    *,
    indicators: Sequence[str] | None = None,
    design=stats_trend.DEFAULT_DESIGN,
    confidence: float = 0.95,
    target: int | None = None,
    linearity: bool = True,
    sex_labels: Mapping[str, str] = SEX_LABELS,
) -> pd.DataFrame:
    """The trend model of every survey indicator × area of ``levels`` (breakdown ``total``).

    Areas come from :func:`analyse.reference.geography.membership` (a kommune in two klynger
    counts in both); each area is a domain of the whole design fitted by
    :func:`analyse.stats.trend.fit_domains`, which encodes the design and builds the model
    matrix once and warm-starts every fit from the first (the country). Output: the columns of
    :func:`trend`, one row per indicator × area; an area without enough data has NaN results
    and a Danish ``fit_note``. ``linearity=False`` skips the extra model of the linearity test.

    Runtime (full synthetic default, 565,000 respondents, 8 indicators × 126 areas, 2 cores):
    about 12 s with single-threaded BLAS (``OPENBLAS_NUM_THREADS=1``) and about 22 s with
    OpenBLAS's default threads, which cost more than they give on these small p × p products.
    """
    confidence = check_confidence(confidence)
    check_agreement(agreement)
    for level in levels:
        check_level(level)
    target = agreement.period_end if target is None else int(target)
    chosen = (
        [i.id for i in agreement.indicators_by_source("survey")]
        if indicators is None
        else list(indicators)
    )
    require_columns(respondents, _MICRODATA_COLUMNS, "respondents")
    # Row positions per kommune, once: an area's rows are the union of its kommuner's.
    kommune = respondents["kommune_code"].to_numpy()
    order = np.argsort(kommune, kind="stable")
    codes_present, first = np.unique(kommune[order], return_index=True)
    by_kommune = dict(zip(codes_present.tolist(), np.split(order, first[1:]), strict=True))
    empty = np.zeros(0, dtype=np.int64)
    areas = {
        level: [
            (str(code), np.sort(np.concatenate([by_kommune.get(k, empty) for k in group])))
            for code, group in geography.membership(level).groupby("area_code", sort=False)[
                "kommune_code"
            ]
        ]
        for level in levels
    }
    cache: dict = {}
    frames = []
    for indicator_id in chosen:
        ind = indicator(agreement, indicator_id, ("survey",))
        require_columns(respondents, [ind.variable], "respondents")
        population = _population(respondents, ind, sex_labels)
        domains = [
            (
                {
                    "indicator": ind.id,
                    "area_level": level,
                    "area_code": code,
                    "breakdown": TOTAL,
                    "group": TOTAL,
                },
                rows,
                agreement.comparable_waves(ind.id, "land" if level == "land" else "kommune"),
            )
            for level in levels
            for code, rows in areas[level]
        ]
        frames.append(
            stats_trend.fit_domains(
                respondents,
                ind.variable,
                domains,
                population=population,
                covariates=stats_trend.default_covariates(respondents, population),
                design=design,
                baseline_year=baseline_year(agreement, ind),
                target_year=target,
                direction=ind.direction,
                confidence=confidence,
                linearity=linearity,
                cache=cache,
            )
        )
    return _finish(pd.concat(frames, ignore_index=True), agreement, confidence)


def suppress_models(trends: pd.DataFrame, cube: pd.DataFrame) -> pd.DataFrame:
    """Blank the trend model of an area where any wave it rests on is suppressed in the cube.

    The model is fitted on the respondents of every comparable wave; where a wave's cell is
    hidden (too few respondents or cases), a fitted slope and projection together with the shown
    waves could reveal it, so the model's results are not shown either (DESIGN.md §4, the rule of
    ``analyse.stats.disclosure`` applied to everything derived from the cells).
    """
    totals = cube[cube["breakdown"] == "total"]
    hidden = (
        totals[totals["suppressed"]]
        .groupby(["indicator", "area_level", "area_code"])["year"]
        .apply(lambda years: set(int(y) for y in years))
    )
    out = trends.copy()
    results = [
        c
        for c in out.columns
        if c
        not in (
            "indicator",
            "area_level",
            "area_code",
            "breakdown",
            "group",
            "input",
            "waves",
            "n_waves",
            "direction",
            "covid_flag",
            "note",
            "projection_note",
            "fit_note",
            "method",
            "level",
            "formula",
            "projection_year",
            "df",
            "nonlinearity_test",
        )
        and pd.api.types.is_numeric_dtype(out[c])
    ]
    blank = []
    for row in out[["indicator", "area_level", "area_code", "waves"]].itertuples():
        years = hidden.get((row.indicator, row.area_level, row.area_code), set())
        used = {int(y) for y in str(row.waves).split(",") if y.strip().isdigit()}
        blank.append(bool(years & used))
    blank = pd.Series(blank, index=out.index)
    out.loc[blank, results] = np.nan
    out.loc[blank, "fit_note"] = MODEL_SUPPRESSED_NOTE
    if "n" in out.columns:  # respondent counts are only ever shown rounded
        out["n"] = disclosure.round_count(out["n"])
    return out
