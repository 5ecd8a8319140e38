"""Changes between waves and direction status for the cube, with the agreement's rules.

The agreement decides which waves are comparable (an indicator's first wave; the national-only
wave at country level only), the baseline (the agreement's baseline wave for survey indicators,
the year before the agreement period for register indicators), the desired direction and the
wave notes (the COVID-19 note of 2021). The arithmetic is :mod:`analyse.stats.trend`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator
from analyse.stats import trend as stats_trend
from analyse.stats.series import check_confidence, require_columns

KEYS = stats_trend.KEYS


def check_agreement(agreement: Agreement) -> None:
    """Raise :class:`ParameterError` unless ``agreement`` is a loaded :class:`Agreement`."""
    if not isinstance(agreement, Agreement):
        raise ParameterError(
            "agreement must be an analyse.reference.catalogue.Agreement, e.g. "
            f"catalogue.load_agreement() (got {type(agreement).__name__})"
        )


def check_level(level: str) -> None:
    """Raise :class:`ParameterError` unless ``level`` is an area level of the geography."""
    if level not in geography.LEVELS:
        raise ParameterError(
            f"unknown area level {level!r}; use one of: {', '.join(geography.LEVELS)}"
        )


def baseline_year(agreement: Agreement, indicator: Indicator) -> int:
    """Baseline year: the agreement's baseline wave (survey) or the year before its period."""
    if indicator.source == "register":
        return agreement.period_start - 1
    return agreement.baseline_wave


def comparable(agreement: Agreement, indicator: Indicator, area_level: str, year: int) -> bool:
    """Whether ``year`` of ``indicator`` can be compared at ``area_level``."""
    if year < indicator.first_wave:
        return False
    if indicator.source == "register":
        return True
    scope = {w.year: w.scope for w in agreement.survey_waves}.get(int(year))
    if scope is None:
        return False
    return scope == "kommune" or area_level == "land"


def wave_notes(agreement: Agreement, years) -> tuple[bool, str]:
    """COVID flag and the Danish catalogue notes of the survey waves among ``years``."""
    notes = {w.year: w.note for w in agreement.survey_waves if w.note}
    used = [notes[int(y)] for y in sorted(set(years)) if int(y) in notes]
    covid = any("COVID" in note for note in used)
    return covid, " ".join(used)


def indicator(agreement: Agreement, indicator_id: str, sources=("survey", "register")) -> Indicator:
    """The agreement's indicator, which must come from one of ``sources``."""
    ind = agreement.indicator(indicator_id)
    if ind.source not in sources:
        raise ParameterError(
            f"{indicator_id!r} is a {ind.source} indicator; trends need a survey or register one"
        )
    return ind


def wave_changes(
    estimates: pd.DataFrame,
    agreement: Agreement,
    *,
    confidence: float = 0.95,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """:func:`analyse.stats.trend.wave_changes` with the agreement's comparable waves and baseline.

    Waves that are not comparable are left out before pairs are formed; consecutive survey
    waves follow the catalogue's wave list (a pair never joins waves that are not comparable),
    register years the years present per indicator and level. Adds ``covid_flag`` and ``note``
    (the Danish wave notes of the waves compared) before ``method``.

    Raises
    ------
    ParameterError
        Missing columns, an indicator the agreement does not have, a bad confidence level.
    """
    confidence = check_confidence(confidence)
    check_agreement(agreement)
    keys = list(keys)
    require_columns(estimates, keys + ["year", "estimate", "se"], "estimates")
    frame = estimates.assign(year=estimates["year"].astype(int))
    # Comparability per indicator × level × year: a small table, then one merge.
    combos = frame[["indicator", "area_level", "year"]].drop_duplicates().reset_index(drop=True)
    indicators = {i: indicator(agreement, i) for i in combos["indicator"].unique()}
    combos = combos[
        [
            comparable(agreement, indicators[i], lvl, y)
            for i, lvl, y in combos.itertuples(index=False)
        ]
    ]
    frame = frame.merge(combos, on=["indicator", "area_level", "year"], how="inner")
    frame["_baseline"] = frame["indicator"].map(lambda i: baseline_year(agreement, indicators[i]))

    # Previous comparable wave: survey waves from the catalogue, register years as present.
    waves = combos.sort_values("year")
    waves = waves.assign(year_from=waves.groupby(["indicator", "area_level"])["year"].shift(1))
    survey_prev = []
    for (ind_id, lvl), _ in waves.groupby(["indicator", "area_level"]):
        ind = indicators[ind_id]
        if ind.source == "survey":
            listed = [y for y in agreement.waves if comparable(agreement, ind, lvl, y)]
            survey_prev += [
                (ind_id, lvl, b, a) for a, b in zip(listed[:-1], listed[1:], strict=True)
            ]
    prev = waves.dropna(subset=["year_from"])
    prev = prev[prev["indicator"].map(lambda i: indicators[i].source == "register")]
    previous = pd.concat(
        [
            prev[["indicator", "area_level", "year", "year_from"]],
            pd.DataFrame(survey_prev, columns=["indicator", "area_level", "year", "year_from"]),
        ],
        ignore_index=True,
    )
    out = stats_trend.wave_changes(
        frame, baseline="_baseline", previous=previous, confidence=confidence, keys=keys
    )
    flags = [
        wave_notes(agreement, (a, b) if indicators[i].source == "survey" else ())
        for i, a, b in out[["indicator", "year_from", "year_to"]].itertuples(index=False)
    ]
    position = out.columns.get_loc("method")
    out.insert(position, "covid_flag", [f for f, _ in flags])
    out.insert(position + 1, "note", [n for _, n in flags])
    return out


def status(
    changes: pd.DataFrame,
    agreement: Agreement,
    *,
    alpha: float = 0.05,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """:func:`analyse.stats.trend.status` with each indicator's desired direction from the agreement.

    Raises
    ------
    ParameterError
        Missing columns, unknown indicator, alpha outside (0, 1).
    """
    check_agreement(agreement)
    require_columns(changes, list(keys) + ["comparison"], "changes (from wave_changes)")
    directions = {i: indicator(agreement, i).direction for i in changes["indicator"].unique()}
    with_direction = changes.assign(direction=changes["indicator"].map(directions))
    return stats_trend.status(with_direction, direction="direction", alpha=alpha, keys=keys)
