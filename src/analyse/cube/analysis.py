"""The analysis notebooks' steps: data, estimates, trend model, forecast and inequality for one
indicator of an agreement in one area, from the cube or from the cleaned microdata.

Each function takes its choices as arguments (area, waves, breakdown, model formula, inequality
dimension, confidence level, disclosure rules) and returns a tidy frame the notebook shows
(:mod:`analyse.publish.tables`) and draws (:mod:`analyse.publish.figures`), so an
epidemiologist sees every step's inputs and outputs and can change them.

Where the numbers come from:

- a breakdown the cube holds (``total``, ``sex``, ``age_group``, ``sex_age``, ``education``,
  ``labour_market``) is read from ``estimates.parquet`` (already suppressed);
- any other breakdown (e.g. ``"sex,education"``: crossed), or ``microdata=True``, or
  ``internal=True``, is estimated from the cleaned respondents with
  :func:`analyse.stats.survey.proportion` (Hájek ratio, Taylor linearisation, logit interval
  with t on the design df; equal to R ``svyby(~y, ~year+sex+education, svyciprop)``). The area
  and the indicator's population are *domains* of the whole design: the respondents of every
  stratum that holds a respondent of the area are kept, those outside the domain get a missing
  outcome (dropped as a domain, the design kept), so the numbers equal the cube's for the
  breakdowns both hold (a test checks);
- the trend model is always fitted on the respondents (:func:`analyse.stats.survey.logistic`,
  R ``svyglm(..., family = quasibinomial())``) with the formula as a parameter; the forecast is
  the cube's pooled forecast; inequality and the gap test are the cube's
  (:mod:`analyse.cube.inequality`), the labour-market gap change is the change in D between
  the baseline and the latest wave (independent samples).

Unless ``internal=True``, every table from microdata goes through
:func:`analyse.stats.disclosure.suppress` (primary and secondary suppression, counts rounded),
and a trend model is not shown when a wave of the area has too few respondents. With
``internal=True`` nothing is suppressed: the tables and figures then say "Kun til intern brug"
and the batch refuses the notebook (:func:`analyse.run.batch.run_briefs`).

Register indicators (aggregated counts) have only the cube's rows: breakdowns of the register
table, the cube's trend (weighted logit line over the years) and no microdata.

One unit of about 1,000 lines because the five steps share the area's domain on the whole
design (:func:`_area_frame`), the indicator's population, the wave checks and the register
fallbacks; split apart, each step would repeat them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analyse.cube.build import table_path
from analyse.cube.changes import baseline_year
from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator, load_agreement
from analyse.stats import disclosure
from analyse.stats import trend as stats_trend
from analyse.stats.inequality import EDUCATION_LEVELS
from analyse.stats.survey import Design, logistic, logit_interval, proportion

#: Breakdowns the cube (estimates.parquet) holds for survey indicators.
CUBE_BREAKDOWNS = ("total", "sex", "age_group", "sex_age", "education", "labour_market")
#: Cube breakdowns that cross two respondent columns.
CROSSED = {"sex_age": ["sex", "age_group"]}
#: Inequality dimensions of the cube.
DIMENSIONS = ("education", "labour_market")
TOTAL_LABEL = "I alt"
CROSS_SEPARATOR = ", "
SEX_LABELS = {"female": "Kvinder", "male": "Mænd"}
DESIGN = Design(weight="weight", strata="stratum")
#: Columns of the respondent table that are not a breakdown.
_NOT_GROUPS = {"respondent_id", "weight", "stratum", "age", "year"}
ESTIMATE_COLUMNS = [
    "indicator",
    "year",
    "area_level",
    "area_code",
    "breakdown",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "df",
    "method",
    "level",
    "suppressed",
    "suppression_reason",
    "source",
]


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------


def agreement_and_indicator(agreement_id: str, indicator_id: str) -> tuple[Agreement, Indicator]:
    """The agreement and one of its indicators (ParameterError naming the valid ids)."""
    agreement = load_agreement(agreement_id)
    return agreement, agreement.indicator(indicator_id)


def objective_indicators(agreement_id: str, objective_id: str) -> list[str]:
    """The survey and register indicators of a målsætning (its primary ones, then context).

    Raises
    ------
    ParameterError
        Unknown målsætning (the message lists them).
    """
    agreement = load_agreement(agreement_id)
    for objective in agreement.objectives:
        if objective.id == objective_id:
            return [*objective.indicators, *objective.context_indicators]
    raise ParameterError(
        f"agreement {agreement_id!r} has no målsætning {objective_id!r}; it has: "
        + ", ".join(o.id for o in agreement.objectives)
    )


def check_objective(agreement_id: str, objective_id: str, indicator_id: str) -> Indicator:
    """The indicator, checked to belong to the målsætning (empty ``objective_id``: any indicator
    of the agreement).

    Raises
    ------
    ParameterError
        Unknown agreement, målsætning or indicator, or an indicator of another målsætning.
    """
    _, indicator = agreement_and_indicator(agreement_id, indicator_id)
    if objective_id:
        ids = objective_indicators(agreement_id, objective_id)
        if indicator_id not in ids:
            raise ParameterError(
                f"indicator {indicator_id!r} does not follow up målsætning {objective_id!r}; "
                f"its indicators are: {', '.join(ids) or 'none (activity status only)'}"
            )
    return indicator


def survey_respondents(
    raw_dir: str | Path, agreement_id: str, indicator_id: str, codebook: str | Path | None = None
) -> pd.DataFrame | None:
    """The cleaned respondents (:func:`load_respondents`) for a survey indicator; None for a
    register indicator (aggregated counts: there are no respondents)."""
    _, indicator = agreement_and_indicator(agreement_id, indicator_id)
    if indicator.source != "survey":
        return None
    return load_respondents(raw_dir, codebook)


def parse_waves(waves: str | Sequence[int] | None) -> list[int] | None:
    """``"2017,2021,2025"`` → ``[2017, 2021, 2025]``; empty → None (all waves)."""
    if waves is None or (isinstance(waves, str) and not waves.strip()):
        return None
    if isinstance(waves, str):
        try:
            return sorted(int(w) for w in waves.replace(";", ",").split(",") if w.strip())
        except ValueError:
            raise ParameterError(
                f"waves must be years separated by commas, e.g. '2017,2021,2025'; got {waves!r}"
            ) from None
    return sorted(int(w) for w in waves)


def parse_breakdown(breakdown: str) -> list[str]:
    """``"sex,education"`` → ``["sex", "education"]``; ``"total"`` → ``[]``."""
    parts = [p.strip() for p in str(breakdown).split(",") if p.strip()]
    if not parts:
        raise ParameterError("breakdown is empty; use e.g. 'total', 'sex' or 'sex,education'")
    return [] if parts == ["total"] else parts


@lru_cache(maxsize=2)
def _load(path: str, stamp: tuple, codebook: str | None) -> pd.DataFrame:
    from analyse.data import clean

    return clean.read_respondents(path, codebook)


def load_respondents(raw_dir: str | Path, codebook: str | Path | None = None) -> pd.DataFrame:
    """The cleaned respondents of a raw delivery (:func:`analyse.data.clean.read_respondents`).

    Kept in memory while the files are unchanged (a rerun of a notebook cell does not read the
    delivery again). The caller must not modify the returned frame.

    Raises
    ------
    ParameterError
        If the folder does not exist.
    DataValidationError
        From the cleaning.
    """
    path = Path(raw_dir)
    if not path.exists():
        raise ParameterError(f"raw delivery {path} not found; set raw_dir to the delivery folder")
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.is_file())
    return _load(str(path.resolve()), stamp, None if codebook is None else str(codebook))


def _read(processed: str | Path, table: str, agreement_id: str | None = None) -> pd.DataFrame:
    """A processed table: shared ones at the top of ``processed``, an agreement's (trends,
    gap change, register trends) in its folder (:func:`analyse.cube.build.table_path`)."""
    path = table_path(processed, table, agreement_id)
    if not path.exists():
        raise ParameterError(
            f"{path} not found; build the processed data first (`analyse build`"
            + (f" --agreement {agreement_id}" if agreement_id else "")
            + ") or set processed_dir"
        )
    return _read_cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read_cached(path: str, _mtime: int) -> pd.DataFrame:
    return pd.read_parquet(path)


def _area_rows(table: pd.DataFrame, indicator_id: str, level: str, code: str) -> pd.DataFrame:
    geography.area(level, code)  # validates the level and the code
    mask = (
        (table["indicator"] == indicator_id)
        & (table["area_level"] == level)
        & (table["area_code"].astype(str) == str(code))
    )
    return table[mask]


def _check_waves(frame: pd.DataFrame, waves: list[int] | None, what: str) -> pd.DataFrame:
    if waves is None:
        return frame
    present = sorted(int(y) for y in frame["year"].unique())
    unknown = [w for w in waves if w not in present]
    if unknown:
        raise ParameterError(
            f"wave(s) {', '.join(map(str, unknown))} have no {what}; the waves are "
            + ", ".join(map(str, present))
        )
    return frame[frame["year"].isin(waves)]


# ----------------------------------------------------------------------------------------------
# Step 1: the data
# ----------------------------------------------------------------------------------------------


def area_data(
    processed: str | Path,
    agreement_id: str,
    indicator_id: str,
    area_level: str,
    area_code: str,
    *,
    waves: str | Sequence[int] | None = "",
    respondents: pd.DataFrame | None = None,
    rules: disclosure.Rules | None = None,
    internal: bool = False,
) -> pd.DataFrame:
    """The data behind the analysis: per wave, what the area holds for the indicator.

    Without ``respondents``: the cube's rows of the total (``estimates.parquet`` or
    ``register.parquet``: ``year``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n``,
    ``suppressed``, ...). With ``respondents`` (the cleaned delivery): per wave the respondents
    of the area (``respondents``), those in the indicator's population (``in_population``),
    those of them with a known answer (``answered``), and the weighted population
    (``weighted_population``, the sum of the calibration weights of ``in_population``). Counts
    are rounded to the rules' base unless ``internal`` (no respondent-level row is ever shown).

    Raises
    ------
    ParameterError
        Unknown agreement, indicator, area or wave.
    """
    agreement, indicator = agreement_and_indicator(agreement_id, indicator_id)
    wave_list = parse_waves(waves)
    if respondents is None or indicator.source != "survey":
        table = _read(processed, "estimates" if indicator.source == "survey" else "register")
        rows = _area_rows(table, indicator_id, area_level, area_code)
        rows = rows[rows["breakdown"] == "total"]
        return _check_waves(rows, wave_list, "estimates").reset_index(drop=True)
    frame, in_area = _area_frame(respondents, area_level, area_code)
    in_population = in_area & _population(frame, indicator)
    answered = in_population & frame[indicator.variable].notna().to_numpy()
    weights = frame["weight"].to_numpy(float)
    summary = pd.DataFrame(
        {
            "year": frame["year"].to_numpy(int),
            "respondents": in_area.astype(int),
            "in_population": in_population.astype(int),
            "answered": answered.astype(int),
            "weighted_population": np.where(in_population, weights, 0.0),
        }
    )
    summary = summary[in_area].groupby("year", as_index=False).sum()
    summary.insert(0, "indicator", indicator_id)
    summary.insert(2, "area_level", area_level)
    summary.insert(3, "area_code", str(area_code))
    summary = _check_waves(summary, wave_list, "respondents in the area")
    if not internal:
        base = (rules or disclosure.Rules()).count_base
        for column in ("respondents", "in_population", "answered"):
            summary[column] = disclosure.round_count(summary[column].to_numpy(), base)
        summary["weighted_population"] = disclosure.round_count(
            summary["weighted_population"].to_numpy(), base
        )
    return summary.reset_index(drop=True)


def _population(frame: pd.DataFrame, indicator: Indicator) -> np.ndarray:
    pop = indicator.population
    return stats_trend.population_mask(
        frame,
        age_min=pop.age_min,
        age_max=pop.age_max,
        sex=None if pop.sex == "all" else SEX_LABELS[pop.sex],
    )


def _area_frame(
    respondents: pd.DataFrame, level: str, code: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """The respondents of every stratum that holds a respondent of the area, and the area mask.

    Strata outside the area add nothing to a domain's estimate or its linearised variance, and
    the design df of the cube counts the strata of the domain's rows, so the area's domain
    estimates on these rows equal those on the whole delivery.
    """
    members = geography.members(level, code)
    in_area_all = respondents["kommune_code"].isin(members).to_numpy()
    strata = respondents.loc[in_area_all, "stratum"].unique()
    keep = respondents["stratum"].isin(strata).to_numpy()
    frame = respondents[keep]
    return frame, in_area_all[keep]


# ----------------------------------------------------------------------------------------------
# Step 2: estimates by a breakdown
# ----------------------------------------------------------------------------------------------


def estimates(
    processed: str | Path,
    agreement_id: str,
    indicator_id: str,
    area_level: str,
    area_code: str,
    *,
    breakdown: str = "total",
    waves: str | Sequence[int] | None = "",
    confidence_level: float = 0.95,
    respondents: pd.DataFrame | None = None,
    microdata: bool = False,
    internal: bool = False,
    rules: disclosure.Rules | None = None,
) -> pd.DataFrame:
    """Estimates of one indicator in one area by a breakdown, per wave (tidy, 0-1 scale).

    From the cube when it holds the breakdown (and neither ``microdata`` nor ``internal``),
    else from ``respondents`` (see the module docstring for the method). A crossed breakdown
    ``"sex,education"`` has group labels joined by ", " (``"Kvinder, Grundskole"``). Education
    groups exist for respondents aged 25 and over (the cube's convention: younger respondents
    have no education group).

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS`: ``indicator``, ``year``, ``area_level``, ``area_code``,
        ``breakdown``, ``group``, ``estimate``, ``se``, ``ci_low``, ``ci_high`` (logit interval,
        t on ``df``, at ``confidence_level``), ``n`` (respondents, rounded unless internal),
        ``df``, ``method``, ``level``, ``suppressed``, ``suppression_reason``, ``source``
        (``"kuben"`` or ``"mikrodata"``).

    Raises
    ------
    ParameterError
        Unknown indicator, area, wave or breakdown; a breakdown the cube lacks without
        ``respondents``; a register indicator with ``microdata``.
    """
    agreement, indicator = agreement_and_indicator(agreement_id, indicator_id)
    if not 0 < confidence_level < 1:
        raise ParameterError(f"confidence_level must be between 0 and 1, got {confidence_level}")
    wave_list = parse_waves(waves)
    columns = parse_breakdown(breakdown)
    name = "total" if not columns else ",".join(columns)
    columns = CROSSED.get(name, columns)
    if indicator.source != "survey":
        return _register_estimates(processed, indicator_id, area_level, area_code, name, wave_list)
    from analyse.cube.estimates import PUBLISHED_LEVELS

    published = area_level in PUBLISHED_LEVELS.get(name, (area_level,))
    from_cube = name in CUBE_BREAKDOWNS and published and not microdata and not internal
    if from_cube:
        table = _read(processed, "estimates")
        rows = _area_rows(table, indicator_id, area_level, area_code)
        rows = _check_waves(rows[rows["breakdown"] == name], wave_list, "estimates")
        rows = rows.copy()
        if len(rows) and confidence_level != float(rows["level"].iloc[0]):
            quantile = stats.t.ppf(0.5 + confidence_level / 2, rows["df"].to_numpy(float))
            rows["ci_low"], rows["ci_high"] = logit_interval(
                rows["estimate"].to_numpy(float), rows["se"].to_numpy(float), quantile
            )
            rows["level"] = confidence_level
        rows["source"] = "kuben"
        return rows[ESTIMATE_COLUMNS].reset_index(drop=True)
    if respondents is None:
        raise ParameterError(
            f"the cube has no breakdown {name!r} for a {area_level} (it has "
            f"{', '.join(CUBE_BREAKDOWNS)}; sex × age for regions and Denmark only); pass the "
            "respondents (microdata) to estimate it"
        )
    return _microdata_estimates(
        processed,
        respondents,
        agreement,
        indicator,
        area_level,
        area_code,
        columns,
        wave_list,
        confidence_level,
        internal,
        rules,
    )


def _register_estimates(processed, indicator_id, level, code, name, wave_list) -> pd.DataFrame:
    table = _read(processed, "register")
    rows = _area_rows(table, indicator_id, level, code)
    held = sorted(rows["breakdown"].unique())
    if name not in held:
        raise ParameterError(
            f"{indicator_id!r} is a register indicator: its breakdowns are {', '.join(held)} "
            f"(no {name!r}, and there are no microdata)"
        )
    rows = _check_waves(rows[rows["breakdown"] == name], wave_list, "register rows").copy()
    rows["df"] = np.inf
    rows["source"] = "kuben"
    return rows[ESTIMATE_COLUMNS].reset_index(drop=True)


def _group_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns or column in _NOT_GROUPS:
        allowed = sorted(c for c in frame.columns if c not in _NOT_GROUPS and c != "kommune_code")
        raise ParameterError(
            f"unknown breakdown column {column!r}; the respondents have: {', '.join(allowed)}"
        )
    return frame[column]


def _microdata_estimates(
    processed,
    respondents,
    agreement,
    indicator,
    level,
    code,
    columns,
    wave_list,
    confidence,
    internal,
    rules,
) -> pd.DataFrame:
    frame, in_area = _area_frame(respondents, level, code)
    years = frame["year"].to_numpy(int)
    comparable = set(agreement.comparable_waves(indicator.id, level))
    in_waves = np.isin(years, sorted(comparable if wave_list is None else set(wave_list)))
    if wave_list is not None:
        missing = sorted(set(wave_list) - set(years[in_area]))
        if missing:
            raise ParameterError(
                f"wave(s) {', '.join(map(str, missing))} have no respondents in the area; the "
                "waves are " + ", ".join(map(str, sorted(set(years[in_area]))))
            )
    domain = in_area & _population(frame, indicator) & in_waves
    y = frame[indicator.variable].to_numpy(float)
    codes, labels = _labels(frame, columns)
    known = codes >= 0
    data = pd.DataFrame(
        {
            "year": years,
            "weight": frame["weight"].to_numpy(float),
            "stratum": frame["stratum"].to_numpy(),
            "_y": np.where(domain & known, y, np.nan),
        }
    )
    group = pd.Series(
        np.where(known, labels[np.maximum(codes, 0)], "__ukendt__"), index=frame.index
    )
    data["group"] = group.to_numpy()
    result = proportion(data, "_y", DESIGN, by=["year", "group"], level=confidence)
    cases = (
        data.assign(_c=data["_y"] == 1, _a=data["_y"].notna())
        .groupby(["year", "group"], as_index=False)[["_c", "_a"]]
        .sum()
    )
    result = result.merge(cases, on=["year", "group"], how="left")
    result = result[(result["group"] != "__ukendt__") & (result["_a"] > 0)].copy()
    # The t quantile uses the df of the whole design (respondents - strata), as the cube does.
    result["df"] = len(respondents) - respondents["stratum"].nunique()
    quantile = stats.t.ppf(0.5 + confidence / 2, result["df"].to_numpy(float))
    result["ci_low"], result["ci_high"] = logit_interval(
        result["estimate"].to_numpy(float), result["se"].to_numpy(float), quantile
    )
    result["cases"] = result["_c"].astype(int)
    result["indicator"] = indicator.id
    result["area_level"] = level
    result["area_code"] = str(code)
    name = "total" if not columns else ",".join(columns)
    name = next((k for k, v in CROSSED.items() if v == columns), name)
    result["breakdown"] = name
    result["suppressed"] = False
    result["suppression_reason"] = pd.NA
    result["source"] = "mikrodata"
    result = result.sort_values(["year", "group"], key=_order_key(frame, columns))
    if not internal:
        years = sorted(set(result["year"].astype(int)))
        flags = suppression_flags(
            processed, respondents, indicator, columns, years, level, code, rules
        )
        result = result.merge(flags, on=["year", "group"], how="left", suffixes=("_x", ""))
        hidden = result["suppressed"].fillna(True).astype(bool).to_numpy()
        for column in ("estimate", "se", "ci_low", "ci_high"):
            result[column] = result[column].where(~hidden)
        base = (rules or disclosure.Rules()).count_base
        shown_n = disclosure.round_count(np.where(hidden, np.nan, result["n"]), base)
        result["n"] = pd.array(shown_n, dtype="Float64").astype("Int64")
        result["suppressed"] = hidden
    return result[ESTIMATE_COLUMNS].reset_index(drop=True)


def _labels(respondents: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Group of each respondent as an integer code (-1 where any part is missing) and the
    labels of the codes (crossed labels joined by ", "), without building a string per row."""
    if not columns:
        return np.zeros(len(respondents), dtype=np.int64), np.array([TOTAL_LABEL], dtype=object)
    code = np.zeros(len(respondents), dtype=np.int64)
    missing = np.zeros(len(respondents), dtype=bool)
    labels = np.array([""], dtype=object)
    for i, column in enumerate(columns):
        values = _group_column(respondents, column)
        if isinstance(values.dtype, pd.CategoricalDtype):
            part, levels = values.cat.codes.to_numpy(np.int64), values.cat.categories
        else:
            part, levels = pd.factorize(values, sort=True)
        missing |= part < 0
        code = code * len(levels) + np.maximum(part, 0)
        names = np.array([str(v) for v in levels], dtype=object)
        glue = "" if i == 0 else CROSS_SEPARATOR
        labels = (labels[:, None] + glue + names[None, :]).ravel()
    return np.where(missing, -1, code), labels


def suppression_flags(
    processed: str | Path,
    respondents: pd.DataFrame,
    indicator: Indicator,
    columns: list[str],
    years: list[int],
    level: str,
    code: str,
    rules: disclosure.Rules | None = None,
) -> pd.DataFrame:
    """Which cells of a breakdown estimated from microdata are hidden in one area, with the
    same protection as the cube: :func:`analyse.stats.disclosure.suppress` on the respondent
    counts of the breakdown *and its margins* (each column alone and the total) in *every*
    area of every level, with the area hierarchy (kommune → klynge, region → land), and with
    every cell the cube hides kept hidden. So a crossed table cannot recover a cell the cube
    hides (its margins), nor a small cell of one area from the published tables of its
    neighbours and parent.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``group``, ``suppressed``, ``suppression_reason`` for the area's rows of the
        breakdown.
    """
    name = "total" if not columns else ",".join(columns)
    name = next((k for k, v in CROSSED.items() if v == columns), name)
    margins = {name: columns, "total": []}
    if len(columns) > 1:
        margins.update({c: [c] for c in columns})
    population = _population(respondents, indicator)
    y = respondents[indicator.variable].to_numpy(float)
    base = population & ~np.isnan(y) & respondents["year"].isin(years).to_numpy()
    counts = []
    subset = respondents[base]
    y = y[base]
    for breakdown, cols in margins.items():
        codes, labels = _labels(subset, cols)
        rows = codes >= 0
        part = pd.DataFrame(
            {
                "kommune_code": subset["kommune_code"].to_numpy()[rows],
                "year": subset["year"].to_numpy(int)[rows],
                "code": codes[rows],
                "n": 1,
                "cases": (y[rows] == 1).astype(int),
            }
        )
        part = part.groupby(["kommune_code", "year", "code"], as_index=False).sum()
        part["group"] = labels[part["code"].to_numpy()]
        counts.append(part.drop(columns="code").assign(breakdown=breakdown))
    by_kommune = pd.concat(counts, ignore_index=True)
    areas = pd.concat([geography.membership(lv) for lv in geography.LEVELS], ignore_index=True)
    table = (
        by_kommune.merge(areas, on="kommune_code")
        .groupby(["area_level", "area_code", "year", "breakdown", "group"], as_index=False)[
            ["n", "cases"]
        ]
        .sum()
    )
    table["n"] = table["n"].astype(float)
    table["indicator"] = indicator.id
    # Cells the cube hides stay hidden (an unknown count is suppressed and protected).
    cube = _read(processed, "estimates")
    cube = cube[(cube["indicator"] == indicator.id) & cube["breakdown"].isin(list(margins))]
    hidden = cube.loc[cube["suppressed"].astype(bool), ["area_level", "area_code", "year"]]
    hidden = hidden.assign(
        breakdown=cube["breakdown"], group=cube["group"], _cube=True
    ).drop_duplicates()
    table = table.merge(
        hidden.astype({"area_code": str}),
        on=["area_level", "area_code", "year", "breakdown", "group"],
        how="left",
    )
    forced = table["_cube"].fillna(False).astype(bool).to_numpy()
    table.loc[forced, "n"] = np.nan
    table.loc[forced, "cases"] = np.nan
    crossed = {name: tuple(columns)} if len(columns) == 2 else {}
    result = disclosure.suppress(
        table.drop(columns="_cube"),
        rules,
        keys=("indicator", "year"),
        crossed=crossed,
        cross_separator=CROSS_SEPARATOR,
        hierarchy=geography.area_hierarchy(),
        value_columns=(),
        weighted_columns=(),
    )
    reason = result["suppression_reason"].astype(object)
    result["suppression_reason"] = np.where(forced, "skjult i kuben", reason)
    mask = (
        (result["area_level"] == level)
        & (result["area_code"] == str(code))
        & (result["breakdown"] == name)
    )
    return result.loc[mask, ["year", "group", "suppressed", "suppression_reason"]]


def _order_key(frame: pd.DataFrame, columns: list[str]):
    """Sort key: years ascending, groups in the categories' order (education low to high)."""
    orders = []
    for column in columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            orders.append([str(c) for c in series.cat.categories])
        else:
            orders.append(sorted(str(v) for v in series.dropna().unique()))

    def key(values: pd.Series) -> pd.Series:
        if values.name != "group" or not columns:
            return values

        def rank(label: str) -> tuple:
            parts = str(label).split(CROSS_SEPARATOR)
            return tuple(
                order.index(p) if p in order else len(order)
                for order, p in zip(orders, parts, strict=False)
            )

        return values.map(rank)

    return key


# ----------------------------------------------------------------------------------------------
# Step 3: the trend model
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendModel:
    """A fitted trend model: its coefficients and its summary (one row)."""

    coefficients: pd.DataFrame
    summary: pd.DataFrame


def default_formula(respondents: pd.DataFrame, agreement_id: str, indicator_id: str) -> str:
    """The cube's trend model as a formula: ``year + C(sex) + C(age_group)`` (or exact ``age``
    for a population of one age group; no sex for a one-sex population), as
    :func:`analyse.stats.trend.default_covariates`."""
    _, indicator = agreement_and_indicator(agreement_id, indicator_id)
    covariates = stats_trend.default_covariates(respondents, _population(respondents, indicator))
    terms = ["year"] + [c if c == "age" else f"C({c})" for c in covariates]
    return " + ".join(terms)


def trend_model(
    respondents: pd.DataFrame | None,
    agreement_id: str,
    indicator_id: str,
    area_level: str,
    area_code: str,
    *,
    formula: str = "",
    waves: str | Sequence[int] | None = "",
    confidence_level: float = 0.95,
    internal: bool = False,
    rules: disclosure.Rules | None = None,
    processed: str | Path | None = None,
) -> TrendModel:
    """Survey-weighted logistic trend model of one indicator in one area.

    ``indicator ~ formula`` on the indicator's population in the area over the comparable waves
    (or ``waves``), with ``year`` centred at the agreement's baseline wave (so the intercept is
    the baseline's log-odds). The area and population are domains of the whole design, as R
    ``svyglm(y ~ ..., subset(design, area & population), family = quasibinomial())``
    (:func:`analyse.stats.survey.logistic`). ``formula`` is the right-hand side in patsy
    syntax, e.g. ``"year + C(sex) + C(education)"``; empty: the cube's model
    (:func:`default_formula`). It must contain ``year``.

    Returns
    -------
    TrendModel
        ``coefficients``: ``term``, ``estimate`` (log-odds), ``se``, ``ci_low``, ``ci_high``,
        ``p_value``, ``odds_ratio``, ``or_ci_low``, ``or_ci_high``, ``df``; ``summary``: one
        row with ``indicator``, ``area_level``, ``area_code``, ``formula``, ``waves``, ``n``,
        ``odds_ratio`` (per year) with ``or_ci_low``/``or_ci_high``,
        ``annual_change_pp`` (average marginal effect of year, percentage points per year)
        with ``annual_change_ci_low_pp``/``annual_change_ci_high_pp`` and
        ``annual_change_p_value``, ``df``, ``level``, ``suppressed``, ``suppression_reason``.
        Unless ``internal``, a model with a wave of fewer than ``rules.min_n`` respondents (or
        fewer than ``min_cases`` with or without the outcome) in the domain is suppressed: its
        numbers are missing and the reason says why.

    A register indicator (counts, no respondents) has the cube's trend from ``processed``
    (``register_trends.parquet``: weighted least squares of the yearly logits on the year,
    :mod:`analyse.stats.series`), with ``year`` as its only term; its formula cannot be changed.

    Raises
    ------
    ParameterError
        A formula without ``year`` or that cannot be fitted; no respondents for a survey
        indicator; a register indicator with a formula or without ``processed``.
    """
    agreement, indicator = agreement_and_indicator(agreement_id, indicator_id)
    if indicator.source != "survey":
        return _register_trend(processed, agreement, indicator_id, area_level, area_code, formula)
    if respondents is None:
        raise ParameterError("trend_model needs the respondents (load_respondents(raw_dir))")
    rules = rules or disclosure.Rules()
    formula = formula.strip() or default_formula(respondents, agreement_id, indicator_id)
    if "year" not in formula.replace(" ", "").split("+") and "year" not in formula:
        raise ParameterError(f"the trend formula must contain year; got {formula!r}")
    frame, in_area = _area_frame(respondents, area_level, area_code)
    wave_list = parse_waves(waves) or agreement.comparable_waves(indicator_id, area_level)
    years = frame["year"].to_numpy(int)
    domain = in_area & _population(frame, indicator) & np.isin(years, wave_list)
    base = baseline_year(agreement, indicator)
    data = frame.assign(year=years - base, _domain=domain)
    variable = indicator.variable
    data = _used_categories(data, formula, domain & data[variable].notna().to_numpy())
    fit = logistic(
        data,
        f"{variable} ~ {_fast_formula(data, formula)}",
        DESIGN,
        level=confidence_level,
        domain="_domain",
    )
    coefficients = fit.coefficients[
        ["term", "estimate", "se", "ci_low", "ci_high", "p_value", "odds_ratio"]
        + ["or_ci_low", "or_ci_high", "df"]
    ].copy()
    ame = fit.average_marginal_effect("year").iloc[0]
    year_row = coefficients[coefficients["term"] == "year"].iloc[0]
    fitted = domain & data[variable].notna().to_numpy()
    for column in data.columns:  # the rows the model used: every formula column known
        if column != variable and re.search(rf"\b{re.escape(column)}\b", formula):
            fitted &= data[column].notna().to_numpy()
    used = data[fitted]
    per_wave = used.groupby("year")[variable].agg(["size", "sum"])
    small = (per_wave["size"] < rules.min_n) | (
        np.minimum(per_wave["sum"], per_wave["size"] - per_wave["sum"]) < rules.min_cases
    )
    summary = pd.DataFrame(
        [
            {
                "indicator": indicator_id,
                "area_level": area_level,
                "area_code": str(area_code),
                "formula": f"{variable} ~ {formula}",
                "waves": ",".join(str(int(y) + base) for y in per_wave.index),
                "n": int(fit.n),
                "odds_ratio": float(year_row["odds_ratio"]),
                "or_ci_low": float(year_row["or_ci_low"]),
                "or_ci_high": float(year_row["or_ci_high"]),
                "annual_change_pp": 100 * float(ame["estimate"]),
                "annual_change_ci_low_pp": 100 * float(ame["ci_low"]),
                "annual_change_ci_high_pp": 100 * float(ame["ci_high"]),
                "annual_change_p_value": float(ame["p_value"]),
                "df": int(fit.df),
                "level": confidence_level,
                "suppressed": False,
                "suppression_reason": "",
            }
        ]
    )
    if not internal:
        summary["n"] = disclosure.round_count(summary["n"].to_numpy(), rules.count_base)
        if bool(small.any()):
            reason = "for få svar i en eller flere af målingerne til at vise modellen"
            numbers = [c for c in summary.columns if c.startswith(("odds", "or_", "annual"))]
            summary[numbers] = np.nan
            summary["suppressed"] = True
            summary["suppression_reason"] = reason
            coefficients[[c for c in coefficients.columns if c != "term"]] = np.nan
    return TrendModel(coefficients.reset_index(drop=True), summary)


def _fast_formula(data: pd.DataFrame, formula: str) -> str:
    """``C(sex)`` → ``sex`` for a pandas Categorical column: patsy gives the same treatment
    coding (first category as reference) but converts a wrapped column value by value in
    Python (≈ 1 s per term on the full default) and an unwrapped Categorical by its codes. The
    term names lose the ``C(...)``; the formula shown is the user's."""

    def plain(match: re.Match) -> str:
        column = match.group(1)
        categorical = column in data.columns and isinstance(data[column].dtype, pd.CategoricalDtype)
        return column if categorical else match.group(0)

    return re.sub(r"\bC\(\s*(\w+)\s*\)", plain, formula)


def _used_categories(data: pd.DataFrame, formula: str, rows: np.ndarray) -> pd.DataFrame:
    """Categorical columns of the formula keep only the categories of the fitted rows.

    With a term such as ``C(education)`` the fitted rows are those aged 25+ (younger respondents
    have no education group), so the ``16-24 år`` category of ``C(age_group)`` has no rows and
    its dummy would be all zero (collinear). Rows outside the fit are unaffected: they add
    nothing to the model (a missing value drops a row as a domain, the design is kept).
    """
    columns = [
        c
        for c in data.columns
        if isinstance(data[c].dtype, pd.CategoricalDtype) and re.search(rf"\b{c}\b", formula)
    ]
    if not columns:
        return data
    complete = rows.copy()
    for column in columns:
        complete &= data[column].notna().to_numpy()
    changed = {}
    for column in columns:
        present = set(data.loc[complete, column].dropna().unique())
        kept = [c for c in data[column].cat.categories if c in present]
        changed[column] = data[column].cat.set_categories(kept)
    return data.assign(**changed)


def _register_trend(processed, agreement, indicator_id, level, code, formula) -> TrendModel:
    if formula.strip() not in ("", "year"):
        raise ParameterError(
            f"{indicator_id!r} is a register indicator (yearly counts, no respondents): its "
            f"trend model is 'year' only; got formula {formula!r}"
        )
    if processed is None:
        raise ParameterError("a register indicator's trend is read from processed (the cube)")
    agreement_id = agreement.id
    rows = _area_rows(_read(processed, "register_trends", agreement_id), indicator_id, level, code)
    row = rows[rows["breakdown"] == "total"].iloc[0]
    slope, se, df = row["log_odds_slope"], row["log_odds_se"], row["df"]
    t = stats.t.ppf(0.975, df) if np.isfinite(df) else stats.norm.ppf(0.975)
    coefficients = pd.DataFrame(
        [
            {
                "term": "year",
                "estimate": slope,
                "se": se,
                "ci_low": slope - t * se,
                "ci_high": slope + t * se,
                "p_value": row["slope_p_value"],
                "odds_ratio": row["odds_ratio"],
                "or_ci_low": row["or_ci_low"],
                "or_ci_high": row["or_ci_high"],
                "df": df,
            }
        ]
    )
    summary = pd.DataFrame(
        [
            {
                "indicator": indicator_id,
                "area_level": level,
                "area_code": str(code),
                "formula": f"logit(andel) ~ year ({row['method']})",
                "waves": str(row["waves"]),
                "n": row["n"],
                "odds_ratio": row["odds_ratio"],
                "or_ci_low": row["or_ci_low"],
                "or_ci_high": row["or_ci_high"],
                "annual_change_pp": row["annual_change_pp"],
                "annual_change_ci_low_pp": row["annual_change_ci_low_pp"],
                "annual_change_ci_high_pp": row["annual_change_ci_high_pp"],
                "annual_change_p_value": row["annual_change_p_value"],
                "df": df if np.isfinite(df) else 0,
                "level": row["level"],
                "suppressed": bool(pd.isna(row["odds_ratio"])),
                "suppression_reason": str(row.get("fit_note") or ""),
            }
        ]
    )
    return TrendModel(coefficients, summary)


# ----------------------------------------------------------------------------------------------
# Step 4: the forecast
# ----------------------------------------------------------------------------------------------

FORECAST_COLUMNS = [
    "indicator",
    "area_level",
    "area_code",
    "waves",
    "baseline_estimate",
    "projection_year",
    "projected",
    "projected_pi_low",
    "projected_pi_high",
    "prob_desired_side",
    "direction",
    "forecast_method",
    "projection_note",
]


def forecast(
    processed: str | Path, agreement_id: str, indicator_id: str, area_level: str, area_code: str
) -> pd.DataFrame:
    """The cube's forecast to the agreement's end year for the area (total).

    The pooled forecast of :mod:`analyse.stats.forecast` (fitted jointly across the areas of a
    level, from the suppressed estimates), as in the brief: one row with
    :data:`FORECAST_COLUMNS` (``projected`` with its prediction interval, the probability of
    being on the desired side of the baseline).
    """
    agreement, indicator = agreement_and_indicator(agreement_id, indicator_id)
    table = _read(
        processed,
        "trends" if indicator.source == "survey" else "register_trends",
        agreement.id,
    )
    rows = _area_rows(table, indicator_id, area_level, area_code)
    rows = rows[rows["breakdown"] == "total"]
    return rows[[c for c in FORECAST_COLUMNS if c in rows.columns]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Step 5: inequality and the gap change
# ----------------------------------------------------------------------------------------------

INEQUALITY_COLUMNS = [
    "indicator",
    "year",
    "area_level",
    "area_code",
    "dimension",
    "reference_group",
    "comparison_group",
    "d",
    "d_ci_low",
    "d_ci_high",
    "r",
    "r_ci_low",
    "r_ci_high",
    "sii",
    "sii_ci_low",
    "sii_ci_high",
    "rii",
    "rii_ci_low",
    "rii_ci_high",
    "n",
    "reason",
    "level",
]


def _check_dimension(dimension: str) -> None:
    if dimension not in DIMENSIONS:
        raise ParameterError(
            f"unknown inequality dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}"
        )


def inequality(
    processed: str | Path,
    agreement_id: str,
    indicator_id: str,
    area_level: str,
    area_code: str,
    *,
    dimension: str = "education",
    waves: str | Sequence[int] | None = "",
) -> pd.DataFrame:
    """Social inequality of one indicator in one area per wave, by a dimension (the cube's).

    ``education`` (ordered, 25+): D and R between the least and the most educated, SII and RII
    from the survey-weighted logistic model on the ridit; ``labour_market`` (not ordered): D
    and R of the worst-off against the best-off group (SII/RII missing). See
    :func:`analyse.cube.inequality.inequality_for_cube` for the methods.

    Returns
    -------
    pandas.DataFrame
        :data:`INEQUALITY_COLUMNS`, one row per wave. ``reason`` says why a measure is missing.

    A register indicator has D and R between the shortest and the longest education from the
    register table's education rows (D's se = √(se₁² + se₂²), independent groups; R's interval
    on the log scale, se(log R) by the delta method); no SII (no individual ranks).

    Raises
    ------
    ParameterError
        Unknown dimension, unknown area or wave; a register indicator by labour-market
        attachment (the register table has no such breakdown).
    """
    _check_dimension(dimension)
    _, indicator = agreement_and_indicator(agreement_id, indicator_id)
    if indicator.source != "survey":
        return _register_inequality(
            processed, indicator, area_level, area_code, dimension, parse_waves(waves)
        )
    table = _read(processed, "inequality")
    rows = _area_rows(table, indicator_id, area_level, area_code)
    rows = _check_waves(rows[rows["dimension"] == dimension], parse_waves(waves), "inequality")
    return rows[INEQUALITY_COLUMNS].reset_index(drop=True)


def _register_inequality(processed, indicator, level, code, dimension, wave_list):
    if dimension != "education":
        raise ParameterError(
            f"{indicator.id!r} is a register indicator: its table has education, not "
            f"{dimension!r}; use dimension 'education'"
        )
    rows = _area_rows(_read(processed, "register"), indicator.id, level, code)
    rows = _check_waves(rows[rows["breakdown"] == "education"], wave_list, "register rows")
    records = []
    z = stats.norm.ppf(0.975)
    for year, cell in rows.groupby("year", sort=True):
        cell = cell.set_index("group")
        ordered = [g for g in EDUCATION_LEVELS if g in cell.index]
        if len(ordered) < 2:
            continue
        low, high = ordered[0], ordered[-1]  # shortest and longest education in the table
        record = dict.fromkeys(INEQUALITY_COLUMNS, np.nan)
        record.update(
            indicator=indicator.id,
            year=int(year),
            area_level=level,
            area_code=str(code),
            dimension=dimension,
            reference_group=high,
            comparison_group=low,
            n=cell["n"].sum(min_count=1),
            reason="",
            level=0.95,
        )
        a, b = cell.loc[low], cell.loc[high]
        if bool(a["suppressed"]) or bool(b["suppressed"]) or pd.isna(a["estimate"]):
            record["reason"] = "en uddannelsesgruppe er skjult (for få personer)"
        else:
            d, se = a["estimate"] - b["estimate"], float(np.hypot(a["se"], b["se"]))
            r = a["estimate"] / b["estimate"]
            log_se = float(np.hypot(a["se"] / a["estimate"], b["se"] / b["estimate"]))
            record.update(
                d=d,
                d_se=se,
                d_ci_low=d - z * se,
                d_ci_high=d + z * se,
                r=r,
                r_ci_low=r * np.exp(-z * log_se),
                r_ci_high=r * np.exp(z * log_se),
                reason="SII/RII kræver data på personniveau",
            )
        records.append(record)
    frame = pd.DataFrame(records, columns=[*INEQUALITY_COLUMNS, "d_se"])
    return frame


GAP_COLUMNS = [
    "indicator",
    "area_level",
    "area_code",
    "dimension",
    "measure",
    "baseline",
    "latest",
    "value_baseline",
    "value_latest",
    "change",
    "change_ci_low",
    "change_ci_high",
    "p_value",
    "gap",
    "reason",
]


def gap_change(
    processed: str | Path,
    agreement_id: str,
    indicator_id: str,
    area_level: str,
    area_code: str,
    *,
    dimension: str = "education",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Is the gap narrowing? The baseline wave against the latest, one row.

    ``education``: the cube's test of the change in the absolute SII (|SII_latest| −
    |SII_baseline|, independent waves; :func:`analyse.stats.inequality.gap_change`).
    ``labour_market`` (no ridit, so no SII): the change in the absolute D, se =
    √(se_b² + se_l²) (independent samples, DESIGN.md §4), two-sided z-test at ``alpha``:
    ``mindre``/``større`` when significant, else ``uændret``.

    Returns
    -------
    pandas.DataFrame
        :data:`GAP_COLUMNS` (``measure`` is ``"SII"`` or ``"D"``; values on the 0-1 scale).
    """
    _check_dimension(dimension)
    agreement, indicator = agreement_and_indicator(agreement_id, indicator_id)
    if dimension == "education" and indicator.source == "survey":
        rows = _area_rows(
            _read(processed, "gap_change", agreement.id), indicator_id, area_level, area_code
        )
        out = pd.DataFrame(
            {
                "indicator": rows["indicator"],
                "area_level": rows["area_level"],
                "area_code": rows["area_code"].astype(str),
                "dimension": dimension,
                "measure": "SII",
                "baseline": rows["baseline"],
                "latest": rows["latest"],
                "value_baseline": rows["sii_baseline"],
                "value_latest": rows["sii_latest"],
                "change": rows["abs_sii_change"],
                "change_ci_low": rows["abs_sii_change_ci_low"],
                "change_ci_high": rows["abs_sii_change_ci_high"],
                "p_value": rows["abs_sii_change_p"],
                "gap": rows["gap"],
                "reason": rows["reason"].fillna(""),
            }
        )
        return out[GAP_COLUMNS].reset_index(drop=True)
    if indicator.source == "survey":
        table = _area_rows(_read(processed, "inequality"), indicator_id, area_level, area_code)
        table = table[table["dimension"] == dimension]
    else:
        table = inequality(processed, agreement_id, indicator_id, area_level, area_code)
    table = table[table["d"].notna()]
    base = baseline_year(agreement, indicator)
    record = {
        "indicator": indicator_id,
        "area_level": area_level,
        "area_code": str(area_code),
        "dimension": dimension,
        "measure": "D",
        "baseline": base,
        "latest": np.nan,
        "value_baseline": np.nan,
        "value_latest": np.nan,
        "change": np.nan,
        "change_ci_low": np.nan,
        "change_ci_high": np.nan,
        "p_value": np.nan,
        "gap": "kan ikke vurderes",
        "reason": "",
    }
    first = table[table["year"] == base]
    later = table[table["year"] > base]
    if first.empty or later.empty:
        record["reason"] = "D mangler i basisåret eller i alle senere målinger"
        return pd.DataFrame([record])[GAP_COLUMNS]
    b, latest = first.iloc[0], later.sort_values("year").iloc[-1]
    change = abs(latest["d"]) - abs(b["d"])
    se = float(np.hypot(latest["d_se"], b["d_se"]))
    z = stats.norm.ppf(1 - alpha / 2)
    p_value = float(2 * stats.norm.sf(abs(change) / se)) if se > 0 else np.nan
    gap = "uændret" if not p_value < alpha else ("mindre" if change < 0 else "større")
    record.update(
        latest=int(latest["year"]),
        value_baseline=float(b["d"]),
        value_latest=float(latest["d"]),
        change=float(change),
        change_ci_low=float(change - z * se),
        change_ci_high=float(change + z * se),
        p_value=p_value,
        gap=gap,
    )
    return pd.DataFrame([record])[GAP_COLUMNS]
