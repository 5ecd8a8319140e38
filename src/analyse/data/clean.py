"""Cleaning: any Sundhedsprofil delivery → one validated canonical respondent table.

``load_survey(path)`` reads a file or a folder of files (:mod:`analyse.data.io`), matches the columns
to the codebook (:mod:`analyse.data.codebook`, with the user's ``rename:`` section), removes missing
codes, checks codes and ranges (:mod:`analyse.data.validate`), recodes background variables into
Danish categories and derives the survey indicators from the questionnaire items — each by its
own small function below, with the parameters from the codebook's ``derivations:`` section. The
definitions and their sources are in ``docs/methods.md`` §2.

The canonical respondent table (one row per respondent and wave):

=================== ========================= ===============================================
column              type                      content
=================== ========================= ===============================================
respondent_id       str                       the delivery's id (``lbnr``), as text
year                int64                     wave
kommune_code        int64                     kommune of residence (3-digit code)
region_code         int64                     its region (1081–1085, analyse.reference.geography)
stratum             str                       ``"2021-461"`` (kommune × wave) in kommune
                                              waves, ``"2023-DK"`` in the national wave
weight              float64                   calibration weight (> 0)
sex                 category                  "Mænd", "Kvinder" (missing if unknown)
age                 int64                     age in years
age_group           category (ordered)        16-24, 25-34, 35-44, 45-54, 55-64, 65-74, 75+
education           category (ordered)        five groups, missing under 25 and if unknown
labour_market       category                  six groups (not ordered), missing if unknown
poor_mental_health  float64                   1.0 / 0.0 / NaN, and the same for
high_stress, …                                the other indicators in INDICATORS
=================== ========================= ===============================================

Indicators are float (1.0, 0.0, NaN) rather than nullable integers: the estimators average them
directly and NaN is what ``svymean(..., na.rm = TRUE)`` drops.

One unit of about 1,050 lines because every step of cleaning a file — missing codes, validation,
recodes, the derivations and the quality aggregates — works on the same cleaned items in one
pass; the derivations are the small functions at the top, each usable and tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analyse.data import io as raw_io
from analyse.data.codebook import DERIVATION_PARAMETERS, Codebook, Recode, load_codebook
from analyse.data.validate import (
    SOFT_PROBLEMS,
    DataQualityReport,
    check_codes,
    check_kommune_codes,
    check_no_missing,
    check_not_empty,
    check_numeric,
    check_required_columns,
    check_unique_ids,
    check_value_labels,
    check_waves,
    check_weights,
    check_whole_numbers,
    out_of_range,
    weight_checks,
)
from analyse.errors import DataValidationError
from analyse.reference import geography
from analyse.reference.population import kommune_population_16plus

INDICATORS = tuple(DERIVATION_PARAMETERS)
AGE_GROUPS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
AGE_LOWER = np.array([16, 25, 35, 45, 55, 65, 75])
NATIONAL_STRATUM = "DK"
CANONICAL_COLUMNS = (
    "respondent_id",
    "year",
    "kommune_code",
    "region_code",
    "stratum",
    "weight",
    "sex",
    "age",
    "age_group",
    "education",
    "labour_market",
    *INDICATORS,
)
# Canonical names the cleaning needs from the codebook (the raw names may differ).
DESIGN = ("respondent_id", "year", "kommune_code", "stratum_raw", "weight", "sex", "age")
# Shown in the recode table for respondents without a category.
NO_CATEGORY = "Mangler"
BELOW_MIN_AGE = "Under {age} år (ikke opgjort)"
# A respondent who left more than this share of the wave's items unanswered is counted as a
# soft problem ("many missing items").
MANY_MISSING_SHARE = 0.5


# ================================================================================================
# Derivations: one small function per indicator. Inputs are cleaned items (missing codes and
# implausible values already NaN); outputs are float arrays of 1.0 / 0.0 / NaN.
# ================================================================================================


def _values(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _matrix(items: Mapping[str, Any]) -> np.ndarray:
    return np.column_stack([_values(items[name]) for name in items])


def _indicator(condition: np.ndarray, defined: np.ndarray) -> np.ndarray:
    out = condition.astype(float)
    out[~defined] = np.nan
    return out


def poor_mental_health(mcs, *, mcs_below: float) -> np.ndarray:
    """Poor mental health: SF-12 mental component score below the cut-off (35.76).

    Missing when the score is missing.
    """
    mcs = _values(mcs)
    return _indicator(mcs < mcs_below, ~np.isnan(mcs))


def pss_score(
    items: Mapping[str, Any],
    *,
    reverse_items: tuple[str, ...] | list[str] = (),
    max_missing_items: int = 2,
    scale_max: int = 4,
) -> np.ndarray:
    """Perceived Stress Scale (PSS-10) score, 0–40 (Cohen, Kamarck & Mermelstein 1983).

    Items are answered 0–``scale_max``; the positively worded ``reverse_items`` are scored
    ``scale_max − answer``. With at most ``max_missing_items`` items missing the score is
    pro-rated: mean of the answered (scored) items × number of items. With more missing, the
    score is missing.
    """
    names = list(items)
    matrix = _matrix(items)
    flip = [names.index(name) for name in reverse_items if name in names]
    matrix[:, flip] = scale_max - matrix[:, flip]
    answered = (~np.isnan(matrix)).sum(axis=1)
    total = np.nansum(matrix, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = total / answered * len(names)
    score[len(names) - answered > max_missing_items] = np.nan
    return score


def high_stress(
    items: Mapping[str, Any],
    *,
    reverse_items: tuple[str, ...] | list[str],
    max_missing_items: int,
    cutoff: float,
    scale_max: int = 4,
) -> np.ndarray:
    """High stress: PSS-10 score (:func:`pss_score`) of ``cutoff`` (18) or more."""
    score = pss_score(
        items, reverse_items=reverse_items, max_missing_items=max_missing_items, scale_max=scale_max
    )
    # A pro-rated score is a ratio; the tolerance keeps e.g. 17.999999999 from float division
    # on the right side of the cut-off.
    return _indicator(score >= cutoff - 1e-9, ~np.isnan(score))


def tils_score(items: Mapping[str, Any]) -> np.ndarray:
    """Three-Item Loneliness Scale sum, 3–9 (Hughes et al. 2004); missing if any item is."""
    return _matrix(items).sum(axis=1)  # NaN propagates: any missing item → missing


def loneliness(items: Mapping[str, Any], *, cutoff: float) -> np.ndarray:
    """Signs of (severe) loneliness: T-ILS sum of ``cutoff`` (7) or more."""
    score = tils_score(items)
    return _indicator(score >= cutoff, ~np.isnan(score))


def bmi(height_cm, weight_kg, *, bmi_range: tuple[float, float] | list[float]) -> np.ndarray:
    """Body-mass index, kg/m², from self-reported height (cm) and weight (kg).

    Missing when height or weight is missing (implausible values are already missing) and when
    the BMI itself lies outside ``bmi_range`` (e.g. height and weight swapped).
    """
    height, weight = _values(height_cm), _values(weight_kg)
    value = weight / (height / 100) ** 2
    low, high = bmi_range
    value[(value < low) | (value > high)] = np.nan
    return value


def severe_obesity(bmi_values, *, bmi_cutoff: float) -> np.ndarray:
    """Severe obesity: BMI of ``bmi_cutoff`` (30) or more."""
    value = _values(bmi_values)
    return _indicator(value >= bmi_cutoff, ~np.isnan(value))


def weekly_units(days: Mapping[str, Any], *, unusable=None) -> np.ndarray:
    """Units of alcohol in a typical week: the sum of the seven weekday answers.

    A blank day counts as 0 when at least one day is answered (people leave the days they do
    not drink blank); when every day is blank the week is missing. ``unusable`` marks
    respondents with an implausible day, whose week is missing too (the day is not zero).
    """
    matrix = _matrix(days)
    total = np.nansum(matrix, axis=1)
    total[np.isnan(matrix).all(axis=1)] = np.nan
    if unusable is not None:
        total[np.asarray(unusable, dtype=bool)] = np.nan
    return total


def alcohol_over_10(days: Mapping[str, Any], *, units_above: float, unusable=None) -> np.ndarray:
    """More than ``units_above`` (10) units a week (Sundhedsstyrelsen's recommendation 2022)."""
    units = weekly_units(days, unusable=unusable)
    return _indicator(units > units_above, ~np.isnan(units))


def daily_smoking(answer, *, daily_code: int) -> np.ndarray:
    """Daily smoking: the smoking question answered "Ja, dagligt" (``daily_code``)."""
    answer = _values(answer)
    return _indicator(answer == daily_code, ~np.isnan(answer))


def other_nicotine_use(items: Mapping[str, Any], *, use_codes: list[int]) -> np.ndarray:
    """Use of other nicotine products (e-cigarettes, snus, pouches, heated tobacco).

    1 when any product is used (an answer in ``use_codes``: daily, weekly or less often), even
    if another product is unanswered; 0 when every product is answered "Nej"; otherwise missing.
    """
    matrix = _matrix(items)
    uses = np.isin(matrix, np.asarray(use_codes, dtype=float)).any(axis=1)
    complete = ~np.isnan(matrix).any(axis=1)
    return _indicator(uses, uses | complete)


def physically_active(moderate, vigorous, *, minutes: float, vigorous_factor: float) -> np.ndarray:
    """WHO minimum: moderate + ``vigorous_factor`` × vigorous minutes a week ≥ ``minutes``.

    (WHO 2020: 150 minutes moderate or 75 minutes vigorous activity, or an equivalent mix.)
    Missing when either answer is missing or implausible.
    """
    total = _values(moderate) + vigorous_factor * _values(vigorous)
    return _indicator(total >= minutes, ~np.isnan(total))


def _answer_in(answer, codes) -> np.ndarray:
    """1 where the (cleaned) answer is one of ``codes``, 0 for any other answer, NaN if missing."""
    answer = _values(answer)
    return _indicator(np.isin(answer, np.asarray(codes, dtype=float)), ~np.isnan(answer))


def unhealthy_diet(pattern, *, unhealthy_codes: list[int]) -> np.ndarray:
    """Unhealthy diet: the kostmønster group "Usundt" (``unhealthy_codes``, 3).

    The group is the lowest band of the Sundhedsprofil's diet score (fruit, vegetables, fish and
    fat), delivered by the data provider as a category, as the SF-12 score is; missing when the
    group is missing.
    """
    return _answer_in(pattern, unhealthy_codes)


def good_self_rated_health(answer, *, good_codes: list[int]) -> np.ndarray:
    """Good self-rated health: "Fremragende", "Vældig godt" or "Godt" (codes 1-3 of 5), as in
    the national reports; "Mindre godt" and "Dårligt" count as 0 (SF-12/SF-36 item 1)."""
    return _answer_in(answer, good_codes)


def low_social_support(answer, *, low_codes: list[int]) -> np.ndarray:
    """Low social support: "Nej, aldrig eller næsten aldrig" to having someone to talk to when
    one has problems or needs support (danskernessundhed.dk "Aldrig nogen at tale med")."""
    return _answer_in(answer, low_codes)


def long_term_illness(answer, *, yes_codes: list[int]) -> np.ndarray:
    """Long-term illness: "Ja" to a long-standing illness, after-effect of injury, disability
    or other long-standing condition (at least six months)."""
    return _answer_in(answer, yes_codes)


def depressive_symptoms(answer, *, bothered_codes: list[int]) -> np.ndarray:
    """Depressive symptoms: "Ja, meget generet" of feeling down, depressed or unhappy in the
    last 14 days; "lidt generet" and "Nej" count as 0. A single symptom item, not a scale."""
    return _answer_in(answer, bothered_codes)


# The single-item indicators: derivation function and the name of its codes parameter.
_SINGLE_ITEM = {
    "unhealthy_diet": (unhealthy_diet, "unhealthy_codes"),
    "good_self_rated_health": (good_self_rated_health, "good_codes"),
    "low_social_support": (low_social_support, "low_codes"),
    "long_term_illness": (long_term_illness, "yes_codes"),
    "depressive_symptoms": (depressive_symptoms, "bothered_codes"),
}


def derive_indicators(
    items: Mapping[str, np.ndarray],
    n: int,
    codebook: Codebook,
    implausible: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """All survey indicators from the cleaned items, with the codebook's parameters.

    An indicator whose items are absent (not asked in the wave, or not in the extract) is
    missing for everyone.
    """
    d = codebook.derivations
    implausible = implausible or {}
    missing = np.full(n, np.nan)

    def have(*names: str) -> bool:
        return all(name in items for name in names)

    def pick(names: list[str]) -> dict[str, np.ndarray]:
        return {name: items[name] for name in names}

    out: dict[str, np.ndarray] = {}
    p = d["poor_mental_health"]
    out["poor_mental_health"] = (
        poor_mental_health(items[p["item"]], mcs_below=p["mcs_below"])
        if have(p["item"])
        else missing.copy()
    )
    p = d["high_stress"]
    out["high_stress"] = (
        high_stress(
            pick(p["items"]),
            reverse_items=p["reverse_items"],
            max_missing_items=p["max_missing_items"],
            cutoff=p["cutoff"],
            scale_max=max(codebook.variables[p["items"][0]].codes),
        )
        if have(*p["items"])
        else missing.copy()
    )
    p = d["loneliness"]
    out["loneliness"] = (
        loneliness(pick(p["items"]), cutoff=p["cutoff"]) if have(*p["items"]) else missing.copy()
    )
    p = d["severe_obesity"]
    out["severe_obesity"] = (
        severe_obesity(
            bmi(items[p["height"]], items[p["weight"]], bmi_range=p["bmi_range"]),
            bmi_cutoff=p["bmi_cutoff"],
        )
        if have(p["height"], p["weight"])
        else missing.copy()
    )
    p = d["alcohol_over_10"]
    if have(*p["items"]):
        unusable = np.zeros(n, dtype=bool)
        for name in p["items"]:
            if name in implausible:
                unusable |= implausible[name]
        out["alcohol_over_10"] = alcohol_over_10(
            pick(p["items"]), units_above=p["units_above"], unusable=unusable
        )
    else:
        out["alcohol_over_10"] = missing.copy()
    p = d["daily_smoking"]
    out["daily_smoking"] = (
        daily_smoking(items[p["item"]], daily_code=p["daily_code"])
        if have(p["item"])
        else missing.copy()
    )
    p = d["other_nicotine_use"]
    out["other_nicotine_use"] = (
        other_nicotine_use(pick(p["items"]), use_codes=p["use_codes"])
        if have(*p["items"])
        else missing.copy()
    )
    p = d["physically_active"]
    out["physically_active"] = (
        physically_active(
            items[p["moderate"]],
            items[p["vigorous"]],
            minutes=p["minutes"],
            vigorous_factor=p["vigorous_factor"],
        )
        if have(p["moderate"], p["vigorous"])
        else missing.copy()
    )
    for indicator, (function, codes) in _SINGLE_ITEM.items():
        p = d[indicator]
        out[indicator] = (
            function(items[p["item"]], **{codes: p[codes]}) if have(p["item"]) else missing.copy()
        )
    return out


# ================================================================================================
# Cleaning one table
# ================================================================================================


@dataclass
class _Cleaned:
    """A cleaned file: the canonical table and what the quality report needs (aggregates)."""

    respondents: pd.DataFrame
    quality: dict[str, pd.DataFrame] = field(default_factory=dict)
    availability: list[dict] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def clean_survey(
    raw: pd.DataFrame,
    codebook: Codebook | str | Path | None = None,
    *,
    file: str | None = None,
    value_labels: Mapping[str, Mapping[float, str]] | None = None,
) -> pd.DataFrame:
    """Turn one raw survey table (one or more waves) into the canonical respondent table.

    Parameters
    ----------
    raw : the table as delivered (raw names, raw codes); it is not modified.
    codebook : a :class:`~analyse.data.codebook.Codebook`, the path of a codebook YAML, or None for
        the shipped one.
    file : the file the table came from, named in error messages.
    value_labels : the file's value labels (from :func:`analyse.data.io.read_table`); labels that
        contradict the codebook's codes stop the cleaning (see
        :func:`~analyse.data.validate.check_value_labels`), other differences are reported.

    Returns
    -------
    DataFrame with :data:`CANONICAL_COLUMNS` (see the module docstring for their types).

    Raises
    ------
    DataValidationError
        For a table without respondents, missing required columns, value labels that contradict
        the codebook's codes, text in number columns,
        missing ids/years/kommuner/ages, years that are not waves of the codebook, unknown
        kommune codes, missing or non-positive weights, codes outside the codebook, ages out of
        range, and respondent ids duplicated within a wave.
    """
    return _clean(raw, _codebook(codebook), file=file, value_labels=value_labels).respondents


def _codebook(codebook: Codebook | str | Path | None) -> Codebook:
    return codebook if isinstance(codebook, Codebook) else load_codebook(codebook)


def _ids(values: pd.Series, column: str, file: str | None) -> pd.Series:
    """Respondent ids as text (numeric ids from SPSS/Stata arrive as floats: 17.0 → "17")."""
    if values.dtype.kind == "f":
        whole = values.dropna()
        if (whole == np.round(whole)).all():
            values = values.astype("Int64")
    text = values.astype("str").str.strip()
    blank = values.isna().to_numpy() | (text == "").to_numpy()
    check_no_missing(np.where(blank, np.nan, 0.0), "respondent id", column, file)
    return text.reset_index(drop=True)


def _clean(
    raw: pd.DataFrame,
    codebook: Codebook,
    *,
    file: str | None = None,
    value_labels: Mapping[str, Mapping[float, str]] | None = None,
    decimal: str | None = None,
    collect: bool = False,
) -> _Cleaned:
    check_not_empty(len(raw), file)
    match = codebook.match_columns(raw.columns, file=file)
    where = {target: column for column, target in match.mapping.items()}  # name → file column
    check_required_columns(where, codebook, file, match.unknown)
    # Before any number is read: value labels that contradict the codes stop the cleaning.
    mismatches = check_value_labels(value_labels or {}, where, codebook, file)
    name = {canonical: codebook.raw_name(canonical) for canonical in DESIGN}
    n = len(raw)

    ids = _ids(raw[where[name["respondent_id"]]], where[name["respondent_id"]], file)

    # Numbers: every non-text variable, missing codes removed, codes and ranges checked.
    values: dict[str, np.ndarray] = {}
    year_var = codebook.variables[name["year"]]
    year_col = where[name["year"]]
    years = check_numeric(raw[year_col], year_col, file, decimal)
    check_no_missing(years, "year", year_col, file)
    check_whole_numbers(years, year_var, year_col, file)
    out_of_range(years, year_var, year_col, file)
    check_waves(years, codebook, year_col, file)

    code_hits: dict[str, dict[float, np.ndarray]] = {}
    implausible: dict[str, np.ndarray] = {}
    ignored: dict[str, np.ndarray] = {}
    asked: dict[str, np.ndarray] = {}
    for var_name, column in where.items():
        var = codebook.variables[var_name]
        if var.type in ("id", "text"):
            continue
        x = years if var_name == name["year"] else check_numeric(raw[column], column, file, decimal)
        if var.missing:
            hits = {code: x == code for code in var.missing}
            code_hits[var_name] = hits
            x[np.logical_or.reduce(list(hits.values()))] = np.nan
        if var.type in ("code", "integer"):
            check_whole_numbers(x, var, column, file)
        if var.type == "code":
            check_codes(x, var, column, file)
            if var.file_codes:  # the file's codes → the codebook's codes with the same label
                x = _translate_codes(x, var.to_codebook_codes())
        bad = out_of_range(x, var, column, file)
        if bad.any():
            implausible[var_name] = bad
            x[bad] = np.nan
        if var.first_wave is not None:
            in_wave = years >= var.first_wave
            asked[var_name] = in_wave
            stray = ~in_wave & ~np.isnan(x)
            if stray.any():
                ignored[var_name] = stray
                x = np.where(in_wave, x, np.nan)
        values[var_name] = x

    kom_col = where[name["kommune_code"]]
    kommune = values[name["kommune_code"]]
    check_no_missing(kommune, "kommune code", kom_col, file)
    known = geography.kommuner()
    check_kommune_codes(kommune, known["kommune_code"], kom_col, file)
    check_no_missing(values[name["stratum_raw"]], "stratum", where[name["stratum_raw"]], file)
    check_weights(values[name["weight"]], where[name["weight"]], file)
    check_no_missing(values[name["age"]], "age", where[name["age"]], file)
    check_unique_ids(ids, years, where[name["respondent_id"]], file)

    years_i = years.astype("int64")
    kommune_i = kommune.astype("int64")
    age = values[name["age"]].astype("int64")
    region_of = np.zeros(1000, dtype="int64")
    region_of[known["kommune_code"].to_numpy()] = known["region_code"].to_numpy()
    national = _national_waves(years_i, values[name["stratum_raw"]], kommune_i)
    stratum_kommune = pd.Series(kommune_i).astype("str")
    stratum_kommune[np.isin(years_i, national)] = NATIONAL_STRATUM
    stratum = pd.Series(years_i).astype("str") + "-" + stratum_kommune

    columns: dict[str, Any] = {
        "respondent_id": ids,
        "year": years_i,
        "kommune_code": kommune_i,
        "region_code": region_of[kommune_i],
        "stratum": stratum.astype("str"),
        "weight": values[name["weight"]],
        "sex": _recode(values, codebook.recodes["sex"], age),
        "age": age,
        "age_group": pd.Categorical.from_codes(
            np.searchsorted(AGE_LOWER, age, side="right") - 1,
            dtype=pd.CategoricalDtype(AGE_GROUPS, ordered=True),
        ),
        "education": _recode(values, codebook.recodes["education"], age, ordered=True),
        "labour_market": _recode(values, codebook.recodes["labour_market"], age),
    }
    items = {k: v for k, v in values.items() if not codebook.variables[k].required}
    columns.update(derive_indicators(items, n, codebook, implausible))
    respondents = pd.DataFrame(columns)[list(CANONICAL_COLUMNS)]

    result = _Cleaned(respondents, renamed=match.renamed, unknown=match.unknown)
    if collect:
        result.quality = _quality(
            respondents,
            values,
            items,
            codebook,
            code_hits,
            implausible,
            ignored,
            asked,
            stratum_raw=values[name["stratum_raw"]],
            national=national,
        )
        result.availability = [
            {
                "year": int(year),
                "variable": var_name,
                "asked": var.asked_in(int(year)),
                "present": var_name in where,
            }
            for year in np.unique(years_i)
            for var_name, var in codebook.variables.items()
        ]
        result.quality["label_mismatches"] = mismatches
    return result


def _national_waves(years: np.ndarray, stratum_raw: np.ndarray, kommune: np.ndarray) -> list[int]:
    """Waves sampled nationally: a single stratum although respondents live in several kommuner."""
    national = []
    for year in np.unique(years):
        in_wave = years == year
        if np.unique(stratum_raw[in_wave]).size == 1 and np.unique(kommune[in_wave]).size > 1:
            national.append(int(year))
    return national


def _recode(
    values: Mapping[str, np.ndarray], recode: Recode, age: np.ndarray, ordered: bool = False
) -> pd.Categorical:
    """Raw codes → the recode's categories; missing for unknown codes and below ``min_age``."""
    dtype = pd.CategoricalDtype(list(recode.labels), ordered=ordered)
    if recode.source not in values:
        return pd.Categorical.from_codes(np.full(age.size, -1), dtype=dtype)
    raw = values[recode.source]
    lookup = np.full(int(max(recode.code_to_label)) + 2, -1)
    for code, label in recode.code_to_label.items():
        lookup[code] = recode.labels.index(label)
    index = np.where(np.isnan(raw), -1, raw).astype("int64")
    codes = np.where(index >= 0, lookup[np.clip(index, 0, lookup.size - 1)], -1)
    if recode.min_age is not None:
        codes[age < recode.min_age] = -1
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _translate_codes(x: np.ndarray, mapping: Mapping[int, int]) -> np.ndarray:
    """Codes translated by ``mapping`` (missing stays missing; every code is in the mapping,
    :func:`~analyse.data.validate.check_codes` has made sure)."""
    out = x.copy()
    for source, target in mapping.items():
        out[x == source] = target
    return out


# ================================================================================================
# Quality aggregates (per wave × kommune; no respondent-level rows leave this function)
# ================================================================================================


def _quality(
    respondents: pd.DataFrame,
    values: Mapping[str, np.ndarray],
    items: Mapping[str, np.ndarray],
    codebook: Codebook,
    code_hits: Mapping[str, Mapping[float, np.ndarray]],
    implausible: Mapping[str, np.ndarray],
    ignored: Mapping[str, np.ndarray],
    asked: Mapping[str, np.ndarray],
    *,
    stratum_raw: np.ndarray,
    national: list[int],
) -> dict[str, pd.DataFrame]:
    year = respondents["year"].to_numpy()
    kommune = respondents["kommune_code"].to_numpy()
    group, keys = pd.factorize(year * 1000 + kommune, sort=True)
    n_groups = keys.size
    key_year, key_kommune = np.divmod(np.asarray(keys), 1000)
    everyone = np.ones(year.size, dtype=bool)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=mask, minlength=n_groups).astype("int64")

    def long(rows: list[dict], columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)

    def spread(counts: np.ndarray, **fixed) -> list[dict]:
        return [
            {
                "year": int(key_year[g]),
                "kommune_code": int(key_kommune[g]),
                **fixed,
                "count": int(counts[g]),
            }
            for g in np.flatnonzero(counts)
        ]

    weights = pd.DataFrame({"year": year, "kommune_code": kommune, "w": respondents["weight"]})
    per_kommune = (
        weights.groupby(["year", "kommune_code"])["w"]
        .agg(["size", "min", "median", "max", "sum"])
        .reset_index()
    )
    per_kommune.columns = [
        "year", "kommune_code", "respondents", "weight_min", "weight_median", "weight_max",
        "weight_sum",
    ]  # fmt: skip

    missing_frames = []
    for var_name, x in values.items():
        in_wave = asked.get(var_name, everyone)
        n_asked = count(in_wave)
        n_missing = count(in_wave & np.isnan(x))
        keep = n_asked > 0
        missing_frames.append(
            pd.DataFrame(
                {
                    "year": key_year[keep],
                    "kommune_code": key_kommune[keep],
                    "variable": var_name,
                    "respondents": n_asked[keep],
                    "missing": n_missing[keep],
                }
            )
        )
    missingness = pd.concat(missing_frames, ignore_index=True)
    missingness["missing_share"] = missingness["missing"] / missingness["respondents"]

    code_rows: list[dict] = []
    for var_name, hits in code_hits.items():
        in_wave = asked.get(var_name, everyone)
        for code, hit in hits.items():
            label = codebook.missing_labels.get(int(code), "manglende")
            code_rows += spread(count(hit & in_wave), variable=var_name, code=code, label=label)
    missing_codes = long(code_rows, ["year", "kommune_code", "variable", "code", "label", "count"])
    missing_codes["code"] = missing_codes["code"].astype(float)

    recode_frames = []
    age = respondents["age"].to_numpy()
    for recode_name, recode in codebook.recodes.items():
        raw = values.get(recode.source)
        if raw is None:
            continue
        frame = pd.DataFrame({"group": group, "raw_code": raw})
        if recode.min_age is not None:
            frame["young"] = age < recode.min_age
        else:
            frame["young"] = False
        counted = frame.groupby(["group", "raw_code", "young"], dropna=False).size()
        counted = counted.rename("count").reset_index()
        counted["category"] = [
            BELOW_MIN_AGE.format(age=recode.min_age)
            if young
            else (NO_CATEGORY if np.isnan(c) else recode.code_to_label[int(c)])
            for c, young in zip(counted["raw_code"], counted["young"], strict=True)
        ]
        # Shown as the file's codes (the values were translated to the codebook's codes).
        back = {v: k for k, v in codebook.variables[recode.source].to_codebook_codes().items()}
        counted["raw_code"] = [
            c if np.isnan(c) else float(back.get(int(c), c)) for c in counted["raw_code"]
        ]
        counted["year"] = key_year[counted["group"]]
        counted["kommune_code"] = key_kommune[counted["group"]]
        counted["recode"] = recode_name
        recode_frames.append(
            counted[["year", "kommune_code", "recode", "raw_code", "category", "count"]]
        )
    recodes = pd.concat(recode_frames, ignore_index=True) if recode_frames else pd.DataFrame()
    if len(recodes):
        recodes = (
            recodes.groupby(
                ["year", "kommune_code", "recode", "raw_code", "category"], dropna=False, sort=False
            )["count"]
            .sum()
            .reset_index()
        )

    soft: list[dict] = []
    for var_name, mask in implausible.items():
        soft += spread(count(mask), problem="implausible_value", variable=var_name)
    for var_name, mask in ignored.items():
        soft += spread(count(mask), problem="not_asked_ignored", variable=var_name)
    d = codebook.derivations
    body = d["severe_obesity"]
    if body["height"] in items and body["weight"] in items:
        h, w = items[body["height"]], items[body["weight"]]
        value = w / (h / 100) ** 2
        low, high = body["bmi_range"]
        soft += spread(
            count(~np.isnan(value) & ((value < low) | (value > high))),
            problem="bmi_outside_range",
            variable=f"{body['height']}/{body['weight']}",
        )
    pss = d["high_stress"]
    if all(name in items for name in pss["items"]):
        n_missing = np.column_stack([np.isnan(items[name]) for name in pss["items"]]).sum(axis=1)
        soft += spread(
            count(n_missing > pss["max_missing_items"]),
            problem="pss_too_many_missing",
            variable="pss",
        )
    questionnaire = [k for k in items if codebook.variables[k].type != "text"]
    if questionnaire:
        n_asked = np.zeros(year.size)
        n_blank = np.zeros(year.size)
        for var_name in questionnaire:
            in_wave = asked.get(var_name, everyone)
            n_asked += in_wave
            n_blank += in_wave & np.isnan(items[var_name])
        with np.errstate(invalid="ignore", divide="ignore"):
            many = n_blank / n_asked > MANY_MISSING_SHARE
        soft += spread(count(many), problem="many_missing_items", variable="(alle)")
    kommune_wave = ~np.isin(year, national)
    differs = kommune_wave & (stratum_raw != kommune)
    soft += spread(count(differs), problem="stratum_differs", variable="stratum")
    soft_problems = long(soft, ["year", "kommune_code", "problem", "variable", "count"])
    return {
        "respondents": per_kommune,
        "missingness": missingness,
        "missing_codes": missing_codes,
        "recodes": recodes,
        "soft_problems": soft_problems,
    }


# ================================================================================================
# Read + clean + validate a delivery
# ================================================================================================


def load_survey(
    path: str | Path,
    codebook: Codebook | str | Path | None = None,
    *,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
) -> tuple[pd.DataFrame, DataQualityReport]:
    """Read, clean and validate a survey delivery: one file, or a folder with one file per wave.

    :func:`read_respondents` does the same without the data-quality report.

    Parameters
    ----------
    path : a survey file (.parquet, .csv, .sav, .dta, .sas7bdat, .xpt) or a folder of them;
        other files in the folder (README, register and status tables) are skipped.
    codebook : a Codebook, the path of a codebook YAML, or None for the shipped one.
    encoding, sep, decimal : override the CSV detection (see :func:`analyse.data.io.read_table`).

    Returns
    -------
    respondents : the canonical respondent table of all waves (see the module docstring).
    report : :class:`~analyse.data.validate.DataQualityReport` with aggregates only, including
        per wave whether the weights look like calibration weights (``report.weights``).

    Raises
    ------
    DataValidationError
        For every fatal rule of :func:`clean_survey`, for a file that is empty, truncated or not
        what its extension says, for a folder without survey files, and for respondent ids that
        occur twice in one wave across files.
    """
    return _load_survey(path, codebook, True, encoding, sep, decimal)  # type: ignore[return-value]


def read_respondents(
    path: str | Path, codebook: Codebook | str | Path | None = None
) -> pd.DataFrame:
    """The cleaned respondents of :func:`load_survey`, with the same checks (every fatal rule
    raises the same error), without its data-quality report (per-wave counts, code hits, weight
    checks): ≈ 20 % less time, for the analysis notebooks, which only use the respondents."""
    return _load_survey(path, codebook, False, None, None, None)[0]


def _load_survey(
    path, codebook, quality: bool, encoding, sep, decimal
) -> tuple[pd.DataFrame, DataQualityReport | None]:
    codebook = _codebook(codebook)
    files = raw_io.survey_files(path, codebook.id_columns())
    cleaned, file_rows, tables = [], [], []
    for file_path in files:
        raw = raw_io.read_table(
            file_path,
            encoding=encoding,
            sep=sep,
            decimal=decimal,
            text_columns=codebook.id_columns(),
        )
        result = _clean(
            raw.data,
            codebook,
            file=str(file_path),
            value_labels=raw.value_labels,
            decimal=raw.decimal,
            collect=quality,
        )
        cleaned.append(result)
        tables.append(result.respondents)
        file_rows.append(
            {
                "file": file_path.name,
                "format": raw.format,
                "sha256": raw.sha256,
                "rows": len(raw.data),
                "waves": ", ".join(str(y) for y in sorted(result.respondents["year"].unique())),
                "encoding": raw.encoding,
                "separator": raw.separator,
                "decimal": raw.decimal,
                "renamed": ", ".join(f"{a} → {b}" for a, b in result.renamed.items()),
                "unknown_columns": ", ".join(result.unknown),
            }
        )
    _check_ids_across_files(tables, files, codebook)
    respondents = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    if not quality:
        return respondents, None
    report = _report(cleaned, file_rows, codebook)
    population = kommune_population_16plus()
    report.weights = weight_checks(
        respondents,
        dict(zip(population["kommune_code"], population["population_16plus"], strict=True)),
    )
    return respondents, report


def _check_ids_across_files(
    tables: list[pd.DataFrame], files: list[Path], codebook: Codebook
) -> None:
    """The same respondent id in one wave in two files (e.g. a wave delivered twice)."""
    if len(tables) < 2:
        return
    keys = pd.concat(
        [
            pd.DataFrame(
                {
                    "id": t["respondent_id"].to_numpy(),
                    "year": t["year"].to_numpy(),
                    "file": i,
                    "row": np.arange(len(t)) + 1,
                }
            )
            for i, t in enumerate(tables)
        ],
        ignore_index=True,
    )
    again = keys.duplicated(["id", "year"], keep="first").to_numpy()
    if again.any():
        later = keys[again]
        first_file = int(later["file"].iloc[0])
        in_file = later[later["file"] == first_file]
        earlier = keys[
            ~again
            & keys.set_index(["id", "year"]).index.isin(later.set_index(["id", "year"]).index)
        ]
        other = files[int(earlier["file"].iloc[0])].name if len(earlier) else "another file"
        raise DataValidationError(
            f"duplicated respondent ids within a wave: {int(again.sum())} ids of wave "
            f"{int(later['year'].iloc[0])} also occur in {other}; each respondent must occur "
            "once per wave (is the wave delivered twice?)",
            file=str(files[first_file]),
            column=codebook.raw_name("respondent_id"),
            rows=in_file["row"].to_numpy(),
            count=len(in_file),
        )


def _report(
    cleaned: list[_Cleaned], file_rows: list[dict], codebook: Codebook
) -> DataQualityReport:
    def gather(name: str) -> pd.DataFrame:
        frames = [c.quality[name] for c in cleaned if len(c.quality.get(name, ()))]
        return pd.concat(frames, ignore_index=True) if frames else cleaned[0].quality[name]

    files = pd.DataFrame(file_rows)
    availability = pd.DataFrame([row for c in cleaned for row in c.availability])
    availability = (
        availability.groupby(["year", "variable"], sort=False)
        .agg(asked=("asked", "any"), present=("present", "any"))
        .reset_index()
    )
    soft = gather("soft_problems")
    extra = []
    for row, result in zip(file_rows, cleaned, strict=True):
        for column in result.unknown:
            extra.append(
                {
                    "year": pd.NA,
                    "kommune_code": pd.NA,
                    "problem": "unknown_column",
                    "variable": column,
                    "count": 1,
                    "file": row["file"],
                }
            )
    absent = availability[availability["asked"] & ~availability["present"]]
    for item in absent.itertuples(index=False):
        extra.append(
            {
                "year": item.year,
                "kommune_code": pd.NA,
                "problem": "item_absent",
                "variable": item.variable,
                "count": 1,
            }
        )
    mismatches = gather("label_mismatches")
    for (file, variable), group in mismatches.groupby(["file", "variable"]):
        extra.append(
            {
                "year": pd.NA,
                "kommune_code": pd.NA,
                "problem": "label_mismatch",
                "variable": variable,
                "count": len(group),
                "file": Path(file).name,
            }
        )
    if extra:
        soft = pd.concat([soft, pd.DataFrame(extra)], ignore_index=True)
    if "file" not in soft.columns:
        soft["file"] = pd.NA
    soft["year"] = soft["year"].astype("Int64")
    soft["kommune_code"] = soft["kommune_code"].astype("Int64")
    soft["description"] = soft["problem"].map(SOFT_PROBLEMS)
    return DataQualityReport(
        files=files,
        respondents=gather("respondents").sort_values(["year", "kommune_code"], ignore_index=True),
        missingness=gather("missingness"),
        missing_codes=gather("missing_codes"),
        recodes=gather("recodes"),
        soft_problems=soft,
        availability=availability,
        label_mismatches=mismatches,
    )


# Danish headings for the data-quality notebook.
_DANISH = {
    "year": "År",
    "kommune_code": "Kommunekode",
    "kommune": "Kommune",
    "respondents": "Svarpersoner",
    "weight_min": "Vægt, mindste",
    "weight_median": "Vægt, median",
    "weight_max": "Vægt, største",
    "weight_sum": "Vægt, sum",
    "variable": "Variabel",
    "missing": "Manglende",
    "missing_share": "Andel manglende",
    "code": "Kode",
    "label": "Betydning",
    "count": "Antal",
    "recode": "Omkodning",
    "raw_code": "Rå kode",
    "category": "Kategori",
    "problem": "Problem",
    "description": "Beskrivelse",
    "asked": "Stillet i bølgen",
    "present": "I filen",
    "file": "Fil",
    "format": "Format",
    "rows": "Rækker",
    "waves": "Bølger",
    "encoding": "Tegnsæt",
    "separator": "Skilletegn",
    "decimal": "Decimaltegn",
    "renamed": "Omdøbt",
    "unknown_columns": "Ukendte kolonner",
    "sha256": "SHA-256",
    "file_label": "Label i filen",
    "codebook_label": "Label i kodebogen",
}


def quality_tables(report: DataQualityReport) -> dict[str, pd.DataFrame]:
    """The report's tables with Danish headings and kommune names, for the quality notebook.

    Aggregates only (counts per wave × kommune), so they can be rendered to HTML.
    """
    names = geography.kommuner().set_index("kommune_code")["kommune"]
    out = {}
    for key, table in report.tables().items():
        table = table.copy()
        if "kommune_code" in table.columns:
            position = table.columns.get_loc("kommune_code") + 1
            table.insert(position, "kommune", table["kommune_code"].map(names))
        out[key] = table.rename(columns=_DANISH)
    out["by_wave"] = report.by_wave().rename(
        columns={
            **_DANISH,
            "kommuner": "Kommuner",
            "soft_problems": "Bløde problemer",
            "ved_ikke": "Ved ikke",
        }
    )
    return out
