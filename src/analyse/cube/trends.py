"""Trend models and projections for the cube, with the agreement's rules and the geography.

The agreement gives each indicator's variable, population (age band and sex), desired
direction, baseline and comparable waves, the projection year (the end of the agreement) and
the wave notes; the geography gives each area's kommuner. The trend models are those of
:mod:`analyse.stats.trend` (respondents) and :mod:`analyse.stats.series` (aggregated series).
The projection to the agreement's end year is the pooled forecast of
:mod:`analyse.stats.forecast`, fitted per indicator jointly across all areas of a level from
the published (suppressed) estimates (:func:`forecasts_for_cube`); the trends table of the cube
takes its projection columns from it (:func:`with_forecasts`).
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
from analyse.cube.estimates import build as build_estimates
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
#: The columns of the trends table that come from the pooled forecast (:func:`with_forecasts`).
FORECAST_COLUMNS = [
    "projection_year",
    "projected",
    "projected_se",
    "projected_pi_low",
    "projected_pi_high",
    "projected_pi80_low",
    "projected_pi80_high",
    "trend_se_logit",
    "between_wave_sd_logit",
    "baseline_estimate",
    "prob_desired_side",
    "projection_note",
    "probability_note",
    "forecast_method",
    "forecast_df",
    "forecast_note",
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
    respondents. For respondents the projection columns are the single-domain predictive
    margin of :func:`analyse.stats.trend.trend`; the cube's trends table replaces them by the
    pooled forecast (:func:`trends_for_cube`, :func:`forecasts_for_cube`). Aggregated input is
    forecast jointly with every other area of the level in ``data``.

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
    # Every area of the level enters: the projection borrows strength across them.
    frame = data.loc[(data["indicator"] == ind.id) & (data["area_level"] == level)].copy()
    if "breakdown" not in frame:
        frame["breakdown"], frame["group"] = TOTAL, TOTAL
    frame = frame[frame["breakdown"] == (TOTAL if by is None else by)]
    if not (frame["area_code"].astype(str) == str(code)).any():
        raise ParameterError(
            f"no rows for indicator {ind.id!r}, {level} {code!r}"
            + (f", breakdown {by!r}" if by else "")
        )
    result = trends_from_estimates(frame, agreement, confidence=confidence, target=target)
    return result[result["area_code"].astype(str) == str(code)].reset_index(drop=True)


def covid_waves(agreement: Agreement) -> list[int]:
    """Survey waves whose catalogue note says they were collected under COVID-19 restrictions."""
    return [w.year for w in agreement.survey_waves if w.note and "COVID" in w.note]


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
    (register counts). Baseline, direction, projection year and the COVID-19 waves (survey
    indicators only) are the agreement's. The projection is pooled per indicator × area level ×
    breakdown group across all areas present (:func:`analyse.stats.forecast.forecast`), so pass
    every area of a level to get the model the cube uses. Output columns as :func:`trend`.
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
    # pandas deep-copies ``attrs`` (the disclosure rules) on every operation; the many small
    # per-cell frames below do not need them.
    frame.attrs = {}
    frame["_baseline"] = frame["indicator"].map(lambda i: baseline_year(agreement, indicators[i]))
    frame["_direction"] = frame["indicator"].map(lambda i: indicators[i].direction)
    source = frame["indicator"].map(lambda i: indicators[i].source)
    pieces = []
    # One pooled fit per source (the COVID-19 wave is a survey wave only) and area level: the
    # levels' group levels are the same national series, which must not be counted twice.
    for (name, _), part in frame.groupby([source, frame["area_level"]], sort=True):
        pieces.append(
            series.trend_series(
                part,
                keys=keys,
                group=[k for k in keys if k != "area_code"],
                n="n",
                numerator="numerator" if counts else None,
                denominator="denominator" if counts else None,
                baseline_year="_baseline",
                target_year=target,
                direction="_direction",
                confidence=confidence,
                covid_years=covid_waves(agreement) if name == "survey" else (),
            )
        )
    if not pieces:
        raise ParameterError("no comparable waves in the estimates for the agreement's indicators")
    result = pd.concat(pieces, ignore_index=True).sort_values(keys, kind="stable")
    return _finish(result.reset_index(drop=True), agreement, confidence)


def forecasts_for_cube(
    estimates: pd.DataFrame,
    agreement: Agreement,
    levels: Sequence[str] = geography.LEVELS,
    *,
    indicators: Sequence[str] | None = None,
    confidence: float = 0.95,
    target: int | None = None,
) -> pd.DataFrame:
    """The pooled forecast of every survey indicator × area of ``levels`` (breakdown total).

    From the cube's published estimates (``estimates`` from :func:`analyse.cube.estimates.build`;
    suppressed cells are left out, so the forecast rests only on shown numbers): for each
    indicator and area level, :func:`analyse.stats.forecast.forecast` fitted jointly across all
    areas of the level on the comparable waves (the national-only wave only at ``land``), with
    the agreement's baseline (2021), end year (2027), direction and COVID-19 wave. Returns the
    keys and :data:`FORECAST_COLUMNS`, one row per indicator × area with a usable estimate.
    """
    check_agreement(agreement)
    for level in levels:
        check_level(level)
    require_columns(
        estimates,
        ["indicator", "area_level", "area_code", "breakdown", "year", "estimate", "se"],
        "estimates",
    )
    chosen = (
        [i.id for i in agreement.indicators_by_source("survey")]
        if indicators is None
        else list(indicators)
    )
    for indicator_id in chosen:
        indicator(agreement, indicator_id, ("survey",))
    rows = estimates[
        (estimates["breakdown"] == "total")
        & estimates["indicator"].isin(chosen)
        & estimates["area_level"].isin(list(levels))
    ]
    if "suppressed" in rows:
        rows = rows[~rows["suppressed"].fillna(False).astype(bool)]
    # The trends table labels the total's group "total" (the estimates cube: "I alt").
    rows = rows[rows["estimate"].notna() & rows["se"].notna()].assign(group=TOTAL)
    if rows.empty:
        return pd.DataFrame(columns=list(KEYS) + FORECAST_COLUMNS)
    result = trends_from_estimates(rows, agreement, confidence=confidence, target=target)
    return result[list(KEYS) + FORECAST_COLUMNS]


def with_forecasts(trends: pd.DataFrame, forecasts: pd.DataFrame) -> pd.DataFrame:
    """The trends table with its projection columns replaced by the pooled forecasts.

    Rows are matched on the keys; an area without a forecast gets NaN (and empty notes).
    """
    keys = list(KEYS)
    require_columns(trends, keys, "trends")
    require_columns(forecasts, keys + FORECAST_COLUMNS, "forecasts")
    kept = trends.drop(columns=[c for c in FORECAST_COLUMNS if c in trends.columns])
    merged = kept.merge(forecasts[keys + FORECAST_COLUMNS], on=keys, how="left")
    for column in ("projection_note", "probability_note", "forecast_note"):
        merged[column] = merged[column].fillna("")
    order = [c for c in trends.columns if c in merged.columns]
    return merged[order + [c for c in merged.columns if c not in order]]


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
    estimates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The trend model of every survey indicator × area of ``levels`` (breakdown ``total``).

    Areas come from :func:`analyse.reference.geography.membership` (a kommune in two klynger
    counts in both); each area is a domain of the whole design fitted by
    :func:`analyse.stats.trend.fit_domains`, which encodes the design and builds the model
    matrix once and warm-starts every fit from the first (the country). Output: the columns of
    :func:`trend`, one row per indicator × area; an area without enough data has NaN results
    and a Danish ``fit_note``. ``linearity=False`` skips the extra model of the linearity test.

    The projection columns (:data:`FORECAST_COLUMNS`) are not the single-domain model's: they
    come from the pooled forecast of :func:`forecasts_for_cube` on ``estimates`` (the cube's
    published estimates table; built here with the default disclosure rules when not given),
    so every area's projection borrows strength from all areas of its level. The odds ratio,
    the average annual change and the linearity test stay those of the survey-weighted model.

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
    models = _finish(pd.concat(frames, ignore_index=True), agreement, confidence)
    if estimates is None:
        estimates = build_estimates(
            respondents,
            agreement,
            levels=tuple(levels),
            breakdowns=("total",),
            level=confidence,
            indicators=chosen,
        )
    forecasts = forecasts_for_cube(
        estimates, agreement, levels, indicators=chosen, confidence=confidence, target=target
    )
    return with_forecasts(models, forecasts)


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
    # The forecast's own notes and method go with the blanked numbers.
    for column in ("forecast_method", "forecast_note", "probability_note"):
        if column in out.columns:
            out.loc[blank, column] = ""
    if "n" in out.columns:  # respondent counts are only ever shown rounded
        out["n"] = disclosure.round_count(out["n"])
    return out
