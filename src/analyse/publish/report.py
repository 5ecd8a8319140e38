"""Danish number formatting and generated sentences for the briefs.

Everything a reader sees is Danish: decimal comma, thousands dot, "pct.", "procentpoint", the
true minus sign, Danish month names. Every function here is pure, takes numbers from the
library and returns a ``str``; none ever returns ``"nan"`` or ``"None"``. A missing or hidden
number becomes :data:`analyse.stats.disclosure.SUPPRESSED_MARK` in a table cell and
:data:`analyse.stats.disclosure.SUPPRESSED_TEXT` in a sentence, so no suppressed value can leak into a
brief through a formatting path.

The formatting helpers and the sentences that use them are one unit: every sentence is built
from the same few number formats and rounding rules, and splitting them would scatter the
conventions below over several modules.

Conventions (decided once, tested in ``tests/test_report.py``):

- **Scale.** Proportions are 0-1 inside the library; :func:`pct` and :func:`pp` multiply by 100.
  A proportion outside [0, 1] (or a difference outside [-1, 1]) raises :class:`ParameterError`,
  because it almost always means percentages were passed where proportions were expected.
  Trend outputs already in percentage points (``change_pp`` ...) are formatted with
  ``pp(x, in_points=True)``.
- **Rounding.** Half up (away from zero) on the number as it is written, i.e. on the shortest
  decimal representation of the float: 0.2135 → "21,4 pct.", -0.0125 → "−1,3 procentpoint".
  This is what a reader gets when rounding the printed value by hand or in a spreadsheet;
  Python's ``round`` would give 21,3 for 0.2135 because the binary float is 0.21349999...
- **Minus sign.** U+2212 (−) for negative numbers everywhere, as matplotlib does on the axes, so
  tables, sentences and figures look the same. A value that rounds to zero is printed without
  a sign ("0,0 procentpoint").
- **Intervals.** "(19,1–23,6)" with an en dash; when a bound is negative the dash would read as
  a minus, so " til " is used instead: "(−1,2 til 3,4)".
- **Status symbols** carry *better/worse*, not *up/down*: for an indicator that should fall, a
  fall is "bedre". Arrows would contradict the word, so the symbols are ✓ (bedre), = (uændret),
  ✗ (dårligere) and ○ (kan ikke vurderes): four different shapes, readable in greyscale and
  without colour, always printed together with the word. The colours (Okabe-Ito blue and
  vermillion) only reinforce.

Sentences name the population from the catalogue (``Population``): "16-24-årige", "borgere på
16 år og derover", "25-årige"; and the indicator either as "med <short_label>" (noun phrases such
as "dårligt mentalt helbred") or as a relative clause ", der <short_label>," (verb phrases such as
"ryger dagligt"). The few indicators whose short label fits neither pattern are in
:data:`INDICATOR_PHRASES`.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Any

from analyse.errors import ParameterError
from analyse.reference.catalogue import Indicator, Population
from analyse.stats.disclosure import SUPPRESSED_MARK, SUPPRESSED_TEXT

__all__ = [
    "INDICATOR_PHRASES",
    "MINUS",
    "MONTHS",
    "STATUS_STYLES",
    "change_sentence",
    "ci",
    "comparison_sentence",
    "date_da",
    "gap_sentence",
    "indicator_subject",
    "is_missing",
    "month_da",
    "number",
    "pct",
    "pct_number",
    "population_phrase",
    "pp",
    "progress_sentence",
    "projection_sentence",
    "pvalue",
    "ratio",
    "status_colour",
    "status_html",
    "status_label",
    "status_symbol",
    "status_word",
    "weighting_sentence",
]

#: The minus sign used for negative numbers (U+2212), as in Danish typeset tables.
MINUS = "\u2212"
#: Range dash in intervals (en dash, U+2013).
RANGE_DASH = "\u2013"
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)

#: Status → (symbol, word, colour). Shapes differ so colour is never the only cue; the colours
#: are Okabe-Ito blue and a darker shade of Okabe-Ito vermillion (distinguishable with all
#: common colour-vision deficiencies) and greys. Each is text in a table cell, so each has at
#: least 4.5:1 contrast (WCAG 1.4.3) on white and on the tables' tints (#f3f6f9, #e8f1f8,
#: #fafafa): #0072B2 5.19 (4.54 on #e8f1f8), #555555 7.46, #B34700 5.50, #666666 5.74.
#: Keep in step with the status colours in publish/templates/brief.css.
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "bedre": ("\u2713", "Bedre", "#0072B2"),
    "uændret": ("=", "Uændret", "#555555"),
    "dårligere": ("\u2717", "Dårligere", "#B34700"),
    "kan ikke vurderes": ("\u25cb", "Kan ikke vurderes", "#666666"),
}

#: Danish names of the Healthy People 2030 categories (:mod:`analyse.stats.progress`).
HP2030_LABELS: dict[str, str] = {
    "target met or exceeded": "Mål nået",
    "improving": "Forbedring",
    "little or no detectable change": "Ingen sikker ændring",
    "getting worse": "Forværring",
    "cannot be assessed": "Kan ikke vurderes",
}
#: Danish names of the Eurostat/UN SDG categories for indicators with a numeric target.
SDG_LABELS: dict[str, str] = {
    "target met": "Mål nået",
    "significant progress": "Betydelig fremgang",
    "moderate progress": "Moderat fremgang",
    "insufficient progress": "Utilstrækkelig fremgang",
    "movement away from target": "Bevæger sig væk fra målet",
}
#: Danish names of the forecast's models (:data:`analyse.stats.forecast.METHODS`).
FORECAST_LABELS: dict[str, str] = {
    "damped": "Dæmpet trend",
    "trend": "Fuld lineær trend",
    "level": "Uden trend (niveau)",
}

#: How an indicator attaches to its population in a sentence, for indicators whose catalogue
#: ``short_label`` is neither a noun phrase ("med …") nor a verb phrase (", der …"). Keyed by
#: indicator id; the text follows the population ("16-24-årige", "18-64-årige" ...).
#: The register indicators' short labels name their own population ("borgere med somatisk
#: sygdom i beskæftigelse"), so they are spelt out from their definitions here.
INDICATOR_PHRASES: dict[str, str] = {
    "physically_active": ", der er fysisk aktive",
    "employment_somatic": " med somatisk sygdom, der er tilknyttet arbejdsmarkedet",
    "employment_mental": " med psykisk sygdom, der er tilknyttet arbejdsmarkedet",
    "youth_education_mental": " med psykiske lidelser, der har fuldført en ungdomsuddannelse",
    "low_social_support": ", der aldrig eller næsten aldrig har nogen at tale med",
    "depressive_symptoms": ", der er meget generet af nedtrykthed",
    "high_stress_employed": " i beskæftigelse med højt stressniveau",
    "daily_smoking_employed": " i beskæftigelse, der ryger dagligt",
    "long_sick_leave": " i beskæftigelse med et sygedagpengeforløb på mere end 8 uger",
    "preventable_admissions_65": " med en forebyggelig indlæggelse i året",
    "chronic_disease": " med en registreret kronisk sygdom",
}
#: Indicators whose denominator is not the population (the whole subject is spelt out).
INDICATOR_SUBJECTS: dict[str, str] = {
    "readmission_65": (
        "andelen af indlæggelser af borgere på 65 år og derover, der følges af en akut "
        "genindlæggelse inden for 30 dage"
    ),
}
# First words of catalogue short labels that are verbs (present tense): the label then reads as
# a relative clause, "borgere, der ryger dagligt".
_VERBS = frozenset(
    {"ryger", "drikker", "bruger", "har", "er", "spiser", "dyrker", "føler", "oplever", "får"}
)
_SEX_NOUN = {"female": "kvinder", "male": "mænd", "all": "borgere"}
_GAP_STATUS = ("mindre", "uændret", "større")


# ---------------------------------------------------------------------------------------------
# Numbers


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas NA/NaT and infinite numbers (nothing to show)."""
    if value is None:
        return True
    try:
        number_value = float(value)
    except (TypeError, ValueError):
        return repr(value) in ("<NA>", "NaT")
    return not math.isfinite(number_value)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        # numpy scalars are Real; strings and others are not numbers to format.
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                value = float(value)
            else:
                raise TypeError
        except TypeError:
            raise ParameterError(f"{what} must be a number, got {value!r}") from None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    # repr gives the shortest decimal string that round-trips: round what a reader would see.
    return Decimal(repr(float(value)))


def _format(value: Decimal, decimals: int, *, sign: bool = False, thousands: bool = True) -> str:
    """Round half up and write with decimal comma, thousands dot and U+2212."""
    if not isinstance(decimals, int) or isinstance(decimals, bool) or decimals < 0:
        raise ParameterError(f"decimals must be a whole number >= 0, got {decimals!r}")
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    negative = rounded < 0
    magnitude = abs(rounded)
    text = f"{magnitude:,.{decimals}f}" if thousands else f"{magnitude:.{decimals}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    if negative:
        return MINUS + text
    if sign and rounded > 0:
        return "+" + text
    return text


def _proportion(p: Any, what: str = "proportion") -> Decimal:
    value = _decimal(p, what)
    if value < Decimal("-1e-9") or value > Decimal("1.000000001"):
        raise ParameterError(
            f"{what} must be on the 0-1 scale, got {p!r}; pass proportions (0.213), not "
            "percentages (21.3)"
        )
    return value


def pct_number(p: Any, decimals: int = 1, *, suppressed: bool = False) -> str:
    """A proportion as a percentage without unit, for table cells: 0.213 → ``"21,3"``.

    Missing or suppressed → :data:`SUPPRESSED_MARK`. Raises :class:`ParameterError` if ``p`` is
    not on the 0-1 scale.
    """
    if suppressed or is_missing(p):
        return SUPPRESSED_MARK
    return _format(_proportion(p) * 100, decimals)


def pct(p: Any, decimals: int = 1, *, suppressed: bool = False) -> str:
    """A proportion as a Danish percentage: 0.213 → ``"21,3 pct."``; missing → ``"–"``."""
    text = pct_number(p, decimals, suppressed=suppressed)
    return text if text == SUPPRESSED_MARK else f"{text} pct."


def pp(
    d: Any,
    decimals: int = 1,
    sign: bool = True,
    *,
    in_points: bool = False,
    unit: bool = True,
    suppressed: bool = False,
) -> str:
    """A difference of proportions in percentage points: 0.027 → ``"+2,7 procentpoint"``.

    ``d`` is a difference of proportions (0-1 scale) unless ``in_points=True`` (the ``*_pp``
    columns of :mod:`analyse.stats.trend`). ``sign`` adds "+" to positive values; negative values
    always get U+2212; a value that rounds to zero has no sign. ``unit=False`` leaves out
    " procentpoint" (table cells). Missing or suppressed → :data:`SUPPRESSED_MARK`.
    """
    if suppressed or is_missing(d):
        return SUPPRESSED_MARK
    value = _decimal(d, "difference")
    if not in_points:
        if abs(value) > Decimal("1.000000001"):
            raise ParameterError(
                f"difference must be on the 0-1 scale, got {d!r}; for values already in "
                "percentage points use pp(..., in_points=True)"
            )
        value = value * 100
    text = _format(value, decimals, sign=sign)
    return f"{text} procentpoint" if unit else text


def ci(
    low: Any,
    high: Any,
    decimals: int = 1,
    *,
    points: bool = False,
    in_points: bool = False,
    parens: bool = True,
    suppressed: bool = False,
) -> str:
    """A confidence interval of a proportion in pct.: (0.191, 0.236) → ``"(19,1–23,6)"``.

    ``points=True`` formats an interval of a difference (may be negative; ``in_points`` as in
    :func:`pp`). With a negative bound the separator is " til " so the dash cannot be read as a
    minus: ``"(−1,2 til 3,4)"``. A missing bound or ``suppressed`` → :data:`SUPPRESSED_MARK`.
    """
    if suppressed or is_missing(low) or is_missing(high):
        return SUPPRESSED_MARK
    if points:
        lo = pp(low, decimals, sign=False, in_points=in_points, unit=False)
        hi = pp(high, decimals, sign=False, in_points=in_points, unit=False)
    else:
        lo, hi = pct_number(low, decimals), pct_number(high, decimals)
    joiner = " til " if (lo.startswith(MINUS) or hi.startswith(MINUS)) else RANGE_DASH
    text = f"{lo}{joiner}{hi}"
    return f"({text})" if parens else text


def danish_sort_key(name: str) -> str:
    """Key for Danish alphabetical order: æ, ø, å after z, and the old spelling "Aa" as "Å"
    ("Aabenraa" and "Aalborg" come last, as in the official lists)."""
    text = str(name).lower()
    if text.startswith("aa"):
        text = "å" + text[2:]
    return text.translate(str.maketrans({"æ": "{", "ø": "|", "å": "}"}))


def with_interval(value: str, interval: str) -> str:
    """A formatted value and its formatted interval as one table cell: "21,3 pct. (19,1–23,6)".

    A hidden or missing value gives one :data:`SUPPRESSED_MARK` (not "– –"); a value without an
    interval gives the value alone.
    """
    if value == SUPPRESSED_MARK:
        return SUPPRESSED_MARK
    if interval == SUPPRESSED_MARK or not interval:
        return value
    return f"{value} {interval}"


def number(n: Any, decimals: int = 0, *, suppressed: bool = False) -> str:
    """A count or other number with thousands dot: 12345 → ``"12.345"``; missing → ``"–"``."""
    if suppressed or is_missing(n):
        return SUPPRESSED_MARK
    return _format(_decimal(n, "number"), decimals)


def ratio(r: Any, decimals: int = 2, *, suppressed: bool = False) -> str:
    """A ratio (rate ratio, RII, odds ratio): 1.454 → ``"1,45"``; missing → ``"–"``."""
    if suppressed or is_missing(r):
        return SUPPRESSED_MARK
    return _format(_decimal(r, "ratio"), decimals)


def pvalue(p: Any, alpha: float = 0.05) -> str:
    """A p-value: ``"p < 0,001"``, ``"p = 0,003"``, ``"p = 0,03"``; missing → ``"–"``.

    Two decimals from 0.01, three below; below 0.001 only "p < 0,001". Decimals are added when
    rounding would carry the value across ``alpha`` (0.0496 is shown as "p = 0,0496", not as
    "p = 0,05"), so the printed p-value never contradicts "statistisk sikker".
    """
    if is_missing(p):
        return SUPPRESSED_MARK
    value = _decimal(p, "p-value")
    if value < 0 or value > 1:
        raise ParameterError(f"p-value must be between 0 and 1, got {p!r}")
    if value < Decimal("0.001"):
        return "p < 0,001"
    decimals = 2 if value >= Decimal("0.01") else 3
    threshold = _decimal(alpha, "alpha")
    while decimals < 6:
        rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if (rounded < threshold) == (value < threshold):
            break
        decimals += 1
    return "p = " + _format(value, decimals)


def _as_date(d: Any) -> _dt.date:
    if isinstance(d, _dt.datetime):
        return d.date()
    if isinstance(d, _dt.date):
        return d
    if hasattr(d, "to_pydatetime"):  # pandas Timestamp
        return d.to_pydatetime().date()
    if isinstance(d, str):
        try:
            return _dt.date.fromisoformat(d[:10])
        except ValueError:
            pass
    raise ParameterError(f"expected a date (datetime.date or 'YYYY-MM-DD'), got {d!r}")


def date_da(d: Any) -> str:
    """A date in Danish long form: 2026-11-22 → ``"22. november 2026"``."""
    day = _as_date(d)
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def month_da(m: Any) -> str:
    """Danish month name (lower case) of a month number 1-12 or a date: 11 → ``"november"``."""
    if isinstance(m, int) and not isinstance(m, bool):
        if not 1 <= m <= 12:
            raise ParameterError(f"month must be 1-12, got {m!r}")
        return MONTHS[m - 1]
    return MONTHS[_as_date(m).month - 1]


# ---------------------------------------------------------------------------------------------
# Status


def _status_key(status: Any) -> str:
    if is_missing(status) or status == "":
        return "kan ikke vurderes"
    key = str(status).strip().lower()
    if key not in STATUS_STYLES:
        raise ParameterError(
            f"unknown status {status!r}; expected one of {', '.join(STATUS_STYLES)}"
        )
    return key


def status_symbol(status: Any) -> str:
    """Symbol of a direction status: ✓ bedre, = uændret, ✗ dårligere, ○ kan ikke vurderes."""
    return STATUS_STYLES[_status_key(status)][0]


def status_word(status: Any) -> str:
    """Capitalised Danish word of a direction status (missing → "Kan ikke vurderes")."""
    return STATUS_STYLES[_status_key(status)][1]


def status_colour(status: Any) -> str:
    """Hex colour of a status (reinforcement only; symbol and word carry the meaning)."""
    return STATUS_STYLES[_status_key(status)][2]


def status_label(status: Any) -> str:
    """Symbol and word of a direction status: ``"✓ Bedre"``, ``"✗ Dårligere"`` ...

    The symbol says better/worse relative to the målsætning, never up/down: for an indicator
    that should fall, a statistically sure fall is "✓ Bedre".
    """
    symbol, word, _ = STATUS_STYLES[_status_key(status)]
    return f"{symbol} {word}"


def status_html(status: Any) -> str:
    """The status label as an HTML span for a table cell (symbol hidden from screen readers)."""
    key = _status_key(status)
    symbol, word, colour = STATUS_STYLES[key]
    css = "status-" + key.replace(" ", "-").replace("æ", "ae").replace("å", "aa")
    return (
        f'<span class="status {css}" style="color:{colour}">'
        f'<span aria-hidden="true">{html.escape(symbol)}</span> {html.escape(word)}</span>'
    )


# ---------------------------------------------------------------------------------------------
# Sentences


def population_phrase(population: Population) -> str:
    """Who an indicator is about, as a plural noun phrase: "16-24-årige", "borgere på 16 år og
    derover", "25-årige", "kvinder på 16 år og derover", "16-24-årige kvinder"."""
    noun = _SEX_NOUN[population.sex]
    if population.age_max is None:
        return f"{noun} på {population.age_min} år og derover"
    if population.age_min == population.age_max:
        ages = f"{population.age_min}-årige"
    else:
        ages = f"{population.age_min}-{population.age_max}-årige"
    return ages if population.sex == "all" else f"{ages} {noun}"


def _qualifier(indicator: Indicator) -> str:
    if indicator.id in INDICATOR_PHRASES:
        return INDICATOR_PHRASES[indicator.id]
    label = indicator.short_label.strip()
    if label.split(" ", 1)[0].lower() in _VERBS:
        return f", der {label}"
    return f" med {label}"


def indicator_subject(indicator: Indicator, *, clause_comma: bool = True) -> str:
    """The subject "andelen af <population> <indicator>" in lower case.

    With a relative clause the closing comma is included when ``clause_comma`` (the subject is
    followed by its verb: "andelen af borgere på 16 år og derover, der ryger dagligt, er …");
    leave it out when the subject ends the sentence.
    """
    if indicator.id in INDICATOR_SUBJECTS:
        subject = INDICATOR_SUBJECTS[indicator.id]
        return subject + ("," if clause_comma and ", der " in subject else "")
    qualifier = _qualifier(indicator)
    subject = f"andelen af {population_phrase(indicator.population)}{qualifier}"
    if clause_comma and ", der " in qualifier:
        subject += ","
    return subject


def _area_in(area_name: str | None) -> str | None:
    if area_name is None or is_missing(area_name) or not str(area_name).strip():
        return None
    name = str(area_name).strip()
    # "Hele landet" is a phrase, not a proper noun: "i hele landet".
    if name.lower().startswith("hele "):
        name = name[0].lower() + name[1:]
    return f"I {name}"


def _end(text: str) -> str:
    """Close a sentence with a full stop unless it already ends with one ("… 35 pct.")."""
    return text if text.endswith(".") else text + "."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def change_sentence(
    indicator: Indicator,
    area_name: str | None,
    baseline_year: int | None,
    baseline: Any,
    latest_year: int,
    latest: Any,
    p_value: Any = None,
    significant: bool | None = None,
    status: str | None = None,
    *,
    suppressed: bool = False,
    alpha: float = 0.05,
    decimals: int = 1,
    judge: bool = True,
) -> str:
    """One or two Danish sentences on the change from the baseline to the latest wave.

    Branches (exact wording in ``tests/test_report.py``):

    - significant rise/fall: "… er steget fra 21,3 pct. i 2021 til 24,0 pct. i 2025 (forskellen
      er statistisk sikker)." followed by "Det er i den ønskede retning." or "Det er den modsatte
      retning af målsætningen.", from the sign and the indicator's desired direction;
    - not significant: "… er steget/faldet fra … til …. Udviklingen er ikke statistisk sikker.";
    - both values equal when shown: "… var 21,3 pct. i både 2021 og 2025." (if such a difference
      is nevertheless significant, more decimals are shown until the values differ);
    - ``suppressed`` (baseline or latest hidden): "… er der for få svar til at vise tallet for
      …. Udviklingen kan derfor ikke vurderes." with no number; when only the baseline is hidden
      (``baseline`` missing, ``latest`` given): "… var 10,2 pct. i 2025. Tallet for 2021 kan
      ikke vises (for få svar til at vise tallet); udviklingen kan derfor ikke vurderes.";
    - only one wave (``baseline_year`` None or equal to ``latest_year``): the latest value and
      "Indikatoren er kun målt i 2025; udviklingen kan endnu ikke vurderes.";
    - no comparable baseline value: the latest value and "Der er ingen sammenlignelig måling i
      2021; udviklingen kan ikke vurderes.";
    - ``status="kan ikke vurderes"`` with both values (the change has no standard error): the
      values and "Usikkerheden på ændringen kan ikke beregnes; udviklingen kan ikke vurderes."

    ``baseline`` and ``latest`` are proportions (0-1). Significance is ``significant`` if given,
    else ``p_value < alpha``. ``status`` (from :func:`analyse.stats.trend.status`) is optional; if
    given it must agree with the numbers, otherwise :class:`ParameterError` (a wiring error
    between tables must not produce a sentence that contradicts the status column).
    ``area_name`` None leaves out "I <område>". ``judge=False`` leaves out the judgement
    against the desired direction (for a context indicator, which has no status).
    """
    area = _area_in(area_name)
    subject = indicator_subject(indicator)
    subject_end = indicator_subject(indicator, clause_comma=False)
    status_key = None if status is None else _status_key(status)

    def opening(rest: str) -> str:
        # "I Odense er andelen af … steget …" / "Andelen af … er steget …"
        verb, _, tail = rest.partition(" ")
        if area:
            return f"{area} {verb} {subject} {tail}"
        return f"{_cap(subject)} {rest}"

    if suppressed or is_missing(latest):
        if status_key not in (None, "kan ikke vurderes"):
            raise ParameterError(f"status {status!r} given for a suppressed change")
        if not is_missing(latest) and is_missing(baseline) and baseline_year is not None:
            # The latest value is shown (in the status table too); only the baseline is hidden.
            first = opening(f"var {pct(latest, decimals)} i {latest_year}.")
            return (
                f"{first} Tallet for {baseline_year} kan ikke vises ({SUPPRESSED_TEXT}); "
                "udviklingen kan derfor ikke vurderes."
            )
        where = f"{area} er der" if area else "Der er"
        return f"{where} {SUPPRESSED_TEXT} for {subject_end}. Udviklingen kan derfor ikke vurderes."
    latest_text = pct(latest, decimals)
    single = baseline_year is None or int(baseline_year) >= int(latest_year)
    if single or is_missing(baseline):
        if status_key not in (None, "kan ikke vurderes"):
            raise ParameterError(f"status {status!r} given but there is no change to judge")
        first = opening(f"var {latest_text} i {latest_year}.")
        if single:
            return (
                f"{first} Indikatoren er kun målt i {latest_year}; udviklingen kan endnu ikke "
                "vurderes."
            )
        return (
            f"{first} Der er ingen sammenlignelig måling i {baseline_year}; udviklingen kan "
            "ikke vurderes."
        )

    diff = _proportion(latest, "latest") - _proportion(baseline, "baseline")
    if status_key == "kan ikke vurderes":
        # Both values exist, but the change could not be tested (no standard error).
        base_text, latest_text = pct(baseline, decimals), pct(latest, decimals)
        if base_text == latest_text:
            first = opening(f"var {latest_text} i både {baseline_year} og {latest_year}.")
        else:
            verb = "steget" if diff > 0 else "faldet"
            first = opening(
                f"er {verb} fra {base_text} i {baseline_year} til {latest_text} i {latest_year}."
            )
        return (
            f"{first} Usikkerheden på ændringen kan ikke beregnes; udviklingen kan ikke vurderes."
        )
    if significant is None:
        significant = (not is_missing(p_value)) and float(p_value) < alpha
    significant = bool(significant)
    shown = decimals
    while significant and diff != 0 and shown < 3 and pct(baseline, shown) == pct(latest, shown):
        shown += 1
    base_text, latest_text = pct(baseline, shown), pct(latest, shown)

    if base_text == latest_text:
        expected = "uændret"
        text = opening(f"var {latest_text} i både {baseline_year} og {latest_year}.")
        if significant:  # diff == 0 exactly: nothing to call significant
            significant = False
    else:
        verb = "steget" if diff > 0 else "faldet"
        period = f"fra {base_text} i {baseline_year} til {latest_text} i {latest_year}"
        if significant:
            desired = (diff > 0) == (indicator.direction == "increase")
            expected = "bedre" if desired else "dårligere"
            judgement = (
                "Det er i den ønskede retning."
                if desired
                else "Det er den modsatte retning af målsætningen."
            )
            if not judge:
                judgement = ""
            text = opening(f"er {verb} {period} (forskellen er statistisk sikker). {judgement}")
            text = text.rstrip()
        else:
            expected = "uændret"
            text = opening(f"er {verb} {period}. Udviklingen er ikke statistisk sikker.")
    if status_key is not None and status_key != expected:
        raise ParameterError(
            f"status {status!r} contradicts the numbers for {indicator.id} ({area_name}): "
            f"{baseline_year} {baseline!r} → {latest_year} {latest!r}, significant={significant} "
            f"gives {expected!r}"
        )
    return text


def _rest_of(parent_name: str) -> str:
    name = str(parent_name).strip()
    if name.lower().startswith("hele "):  # "Hele landet" → "resten af landet"
        return "resten af " + name.split(" ", 1)[1]
    return f"resten af {name}"


def comparison_sentence(
    area_name: str,
    parent_name: str,
    diff: Any,
    p_value: Any,
    suppressed: bool = False,
    *,
    alpha: float = 0.05,
    decimals: int = 1,
) -> str:
    """The area against the rest of its region or of Denmark (``vs_region_*`` / ``vs_land_*``).

    ``diff`` is area minus rest, on the 0-1 scale. "Andelen i Odense er statistisk sikkert
    højere end i resten af Region Syddanmark (3,1 procentpoint)." / "Andelen i Odense adskiller
    sig ikke statistisk sikkert fra resten af Region Syddanmark." A missing or suppressed
    difference gives the suppression sentence without numbers.
    """
    rest = _rest_of(parent_name)
    if suppressed or is_missing(diff):
        return (
            f"Sammenligningen mellem {area_name} og {rest} kan ikke vises: der er "
            f"{SUPPRESSED_TEXT}."
        )
    significant = (not is_missing(p_value)) and float(p_value) < alpha
    value = _decimal(diff, "difference")
    if not significant or pp(diff, decimals, sign=False) == pp(0.0, decimals, sign=False):
        return f"Andelen i {area_name} adskiller sig ikke statistisk sikkert fra {rest}."
    word = "højere" if value > 0 else "lavere"
    size = pp(abs(value), decimals, sign=False)
    return f"Andelen i {area_name} er statistisk sikkert {word} end i {rest} ({size})."


def gap_sentence(
    d: Any,
    sii: Any = None,
    gap_status: Any = None,
    *,
    direction: str | None = None,
    low_group: str = "grundskole",
    high_group: str = "lang videregående uddannelse",
    baseline_year: int = 2021,
    suppressed: bool = False,
    withheld: str | None = None,
    decimals: int = 1,
) -> str:
    """The education gap: the difference D, the slope index SII and whether the gap narrows.

    ``d`` is :func:`analyse.stats.inequality.simple_gap`'s D (0-1 scale; positive = the least
    educated are worse off). With the indicator's ``direction`` the sentence says which group
    has the higher share: "Andelen er 8,2 procentpoint højere blandt borgere med grundskole end
    blandt borgere med lang videregående uddannelse."; without it: "Forskellen mellem borgere med
    grundskole og borgere med lang videregående uddannelse er 8,2 procentpoint." ``sii`` (fitted
    most minus least educated, 0-1 scale) adds "Over alle uddannelsesgrupper falder andelen med
    stigende uddannelse (hældningsindeks, SII: 10,1 procentpoint)." ``gap_status`` is "mindre",
    "uændret", "større" or missing. ``withheld``: the reason a D that could be computed is not
    shown ("vises ikke, fordi tallet sammen med de viste tal ville afsløre en skjult
    uddannelsesgruppe", the linked protection) instead of the few-answers sentence.
    """
    sentences = []
    pair = f"borgere med {low_group} og borgere med {high_group}"
    if withheld and (suppressed or is_missing(d)):
        sentences.append(f"Forskellen mellem {pair} {withheld}.")
    elif suppressed or is_missing(d):
        sentences.append(f"Forskellen mellem {pair} kan ikke vises: der er {SUPPRESSED_TEXT}.")
    else:
        value = _decimal(d, "gap")
        size = pp(abs(value), decimals, sign=False)
        if direction is None or size == pp(0.0, decimals, sign=False):
            sentences.append(f"Forskellen mellem {pair} er {size}.")
        else:
            if direction not in ("increase", "decrease"):
                raise ParameterError(f"direction must be increase/decrease, got {direction!r}")
            # D > 0: least educated worse off, i.e. higher share if the share should fall.
            low_higher = (value > 0) == (direction == "decrease")
            word = "højere" if low_higher else "lavere"
            sentences.append(
                f"Andelen er {size} {word} blandt borgere med {low_group} end blandt borgere "
                f"med {high_group}."
            )
    if not suppressed and not is_missing(sii):
        value = _decimal(sii, "SII")
        size = pp(abs(value), decimals, sign=False)
        if size == pp(0.0, decimals, sign=False):
            sentences.append(
                "Over alle uddannelsesgrupper ændrer andelen sig ikke med uddannelse "
                f"(hældningsindeks, SII: {size})."
            )
        else:
            trend_word = "stiger" if value > 0 else "falder"
            sentences.append(
                f"Over alle uddannelsesgrupper {trend_word} andelen med stigende uddannelse "
                f"(hældningsindeks, SII: {size})."
            )
    if is_missing(gap_status) or gap_status in ("", "kan ikke vurderes"):
        sentences.append(
            f"Det kan ikke vurderes, om uligheden har ændret sig siden {baseline_year}."
        )
    elif gap_status == "mindre":
        sentences.append(f"Uligheden er blevet mindre siden {baseline_year}.")
    elif gap_status == "større":
        sentences.append(f"Uligheden er blevet større siden {baseline_year}.")
    elif gap_status == "uændret":
        sentences.append(f"Uligheden har ikke ændret sig statistisk sikkert siden {baseline_year}.")
    else:
        raise ParameterError(
            f"unknown gap_status {gap_status!r}; expected one of {', '.join(_GAP_STATUS)} or "
            "missing"
        )
    return " ".join(sentences)


#: Labour-market groups (the codebook's labels) as a sentence names them.
LABOUR_MARKET_PHRASES = {
    "Beskæftiget": "beskæftigede",
    "Arbejdsløs": "arbejdsløse",
    "Under uddannelse": "borgere under uddannelse",
    "Førtidspensionist": "førtidspensionister",
    "Alderspensionist": "alderspensionister",
    "Anden uden for arbejdsmarkedet": "andre uden for arbejdsmarkedet",
}


def labour_market_sentence(
    worst: Any,
    best: Any,
    d: Any,
    *,
    direction: str,
    withheld: str | None = None,
    decimals: int = 1,
) -> str:
    """The largest gap between labour-market groups (not ordered): worst- against best-off.

    ``d`` is the inequality table's D for ``labour_market`` (0-1 scale, positive = ``worst`` is
    worse off than ``best``). "Mellem grupperne på arbejdsmarkedet er forskellen størst mellem
    førtidspensionister og beskæftigede: andelen er 12,3 procentpoint højere blandt
    førtidspensionister." A missing D gives the suppression sentence, or with ``withheld`` (the
    linked protection's reason) "Forskellen mellem grupperne på arbejdsmarkedet vises ikke, fordi
    …".
    """
    if withheld and (is_missing(d) or is_missing(worst) or is_missing(best)):
        return f"Forskellen mellem grupperne på arbejdsmarkedet {withheld}."
    if is_missing(d) or is_missing(worst) or is_missing(best):
        return f"Forskellen mellem grupperne på arbejdsmarkedet kan ikke vises: der er {SUPPRESSED_TEXT}."
    if direction not in ("increase", "decrease"):
        raise ParameterError(f"direction must be increase/decrease, got {direction!r}")
    low, high = (LABOUR_MARKET_PHRASES.get(str(g), str(g).lower()) for g in (worst, best))
    value = _decimal(d, "gap")
    size = pp(abs(value), decimals, sign=False)
    worse_higher = (value > 0) == (direction == "decrease")
    word = "højere" if worse_higher else "lavere"
    return (
        f"Mellem grupperne på arbejdsmarkedet er forskellen størst mellem {low} og {high}: "
        f"andelen er {size} {word} blandt {low}."
    )


def projection_sentence(
    value: Any,
    low: Any,
    high: Any,
    prob_desired: Any,
    n_waves: int,
    *,
    target_year: int = 2027,
    baseline_year: int = 2021,
    suppressed: bool = False,
    decimals: int = 1,
    status: str | None = None,
    latest_year: int | None = None,
    basis: str = "alle målingerne",
    method: str | None = None,
) -> str:
    """The projected value in the agreement's end year from :mod:`analyse.stats.forecast`.

    ``method`` is the forecast's model: ``"level"`` (no trend, the default of the forecast)
    opens "Holder det nuværende niveau, vil andelen i 2027 være omkring …", a trend model (or
    None) "Hvis udviklingen fortsætter som hidtil, …".

    "Hvis udviklingen fortsætter som hidtil, vil andelen i 2027 være omkring 23,1 pct.
    (usikkerhedsinterval for en måling i 2027: 19,0–27,5 pct.). Sandsynligheden for, at andelen
    i 2027 er bedre end i 2021 (i målsætningens retning), er 35 pct." The interval is the
    forecast's prediction interval for the next *published* figure (it includes that survey's
    own sampling error). Two waves add "Fremskrivningen bygger kun på to målinger og er derfor
    meget usikker."; fewer than two give "Der er for få målinger til at fremskrive udviklingen
    til 2027." Probabilities are shown in whole per cent, clipped to "under 1 pct." /
    "over 99 pct." (a model never makes the future certain).

    With the area's direction ``status`` (and ``latest_year``), the sentence reconciles the two
    when they seem to disagree -- "uændret" next to a probability of 20 % or less or 80 % or
    more, "bedre" next to a probability under 50 %, "dårligere" next to one over 50 % -- by
    saying what each means: the status judges whether the change from the baseline to the
    latest wave is statistically certain; the probability is a forecast for the end year that
    rests on ``basis`` (e.g. "alle målingerne og udviklingen i alle landets kommuner").
    """
    if n_waves is None or is_missing(n_waves) or int(n_waves) < 2:
        return f"Der er for få målinger til at fremskrive udviklingen til {target_year}."
    if suppressed or is_missing(value):
        return f"Fremskrivningen til {target_year} kan ikke vises: der er {SUPPRESSED_TEXT}."
    opening = (
        "Holder det nuværende niveau"
        if method == "level"
        else "Hvis udviklingen fortsætter som hidtil"
    )
    text = f"{opening}, vil andelen i {target_year} være omkring {pct(value, decimals)}"
    interval = ci(low, high, decimals, parens=False)
    if interval != SUPPRESSED_MARK:
        text += f" (usikkerhedsinterval for en måling i {target_year}: {interval} pct.)"
    text = _end(text)
    if not is_missing(prob_desired):
        probability = _proportion(prob_desired, "probability")
        if probability < Decimal("0.005"):
            shown = "under 1 pct."
        elif probability >= Decimal("0.995"):
            shown = "over 99 pct."
        else:
            shown = pct(probability, 0)
        text += _end(
            f" Sandsynligheden for, at andelen i {target_year} er bedre end i {baseline_year} "
            f"(i målsætningens retning), er {shown}"
        )
        text += _reconcile(status, probability, baseline_year, latest_year, target_year, basis)
    if int(n_waves) == 2:
        text += " Fremskrivningen bygger kun på to målinger og er derfor meget usikker."
    return text


def _reconcile(status, probability, baseline_year, latest_year, target_year, basis) -> str:
    """The sentence that says what status and probability each mean, where they seem to clash."""
    if status is None or latest_year is None or is_missing(status):
        return ""
    key = _status_key(status)
    period = f"fra {baseline_year} til {latest_year}"
    forecast = f"sandsynligheden er et skøn for {target_year}, som bygger på {basis}"
    if key == "uændret" and (probability <= Decimal("0.2") or probability >= Decimal("0.8")):
        return (
            f" Status »uændret« betyder kun, at ændringen {period} ikke er statistisk sikker; "
            f"{forecast}."
        )
    if (key == "bedre" and probability < Decimal("0.5")) or (
        key == "dårligere" and probability > Decimal("0.5")
    ):
        return (
            f" Status »{key}« gælder ændringen {period}; {forecast}, så de to kan pege i hver "
            "sin retning."
        )
    return ""


def progress_sentence(
    hp2030_status: Any,
    pct_targeted_change: Any = None,
    sdg_category: Any = None,
    *,
    target: Any = None,
    target_year: int | None = None,
) -> str:
    """The standard progress assessments in Danish: Healthy People 2030 and, with a target, SDG.

    "Healthy People-kategori: Forbedring." With a numeric target: "Målet er 82,0 pct. i 2027;
    19 pct. af den ønskede ændring fra basisåret er nået. SDG-kategori (Eurostat/FN):
    Utilstrækkelig fremgang." The percent of targeted change is left out where it is not
    defined (moving away from the target, or the target was already met at baseline). Empty
    when there is no category.
    """
    if is_missing(hp2030_status) or not str(hp2030_status):
        return ""
    if hp2030_status not in HP2030_LABELS:
        raise ParameterError(
            f"unknown Healthy People category {hp2030_status!r}; expected one of "
            f"{', '.join(HP2030_LABELS)}"
        )
    text = f"Healthy People-kategori: {HP2030_LABELS[hp2030_status]}."
    if is_missing(target):
        return text
    goal = f"Målet er {pct(target)}" + (f" i {target_year}" if target_year else "")
    if not is_missing(pct_targeted_change) and float(pct_targeted_change) >= 0:
        share = f"{number(pct_targeted_change, 0)} pct."
        goal += f"; {share} af den ønskede ændring fra basisåret er nået"
    text += " " + _end(goal)
    if not is_missing(sdg_category) and str(sdg_category):
        if sdg_category not in SDG_LABELS:
            raise ParameterError(
                f"unknown SDG category {sdg_category!r}; expected one of {', '.join(SDG_LABELS)}"
            )
        text += f" SDG-kategori (Eurostat/FN): {SDG_LABELS[sdg_category]}."
    return text


# ---------------------------------------------------------------------------------------------
# Method note


def _years(years: list[int]) -> str:
    items = [str(y) for y in sorted(years)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " og " + items[-1]


def weighting_sentence(checks: list[dict]) -> str:
    """The method note's sentence on the weights, from the build's weight check per wave.

    ``checks`` are the manifest's ``weights`` records (``year``, ``problems`` from
    :func:`analyse.data.validate.weight_checks`: ``constant``, ``sum``, ``deff``; ``sum_ratio``;
    ``deff_within``). Without problems the sentence says the figures are calibration-weighted;
    a wave whose weights are all equal is said to give "uvægtede tal"; a wave whose weights do
    not look like calibration weights is said to be weighted with the delivery's weights, which
    cannot be confirmed as calibration weights. No claim of calibration is made for those waves.
    """
    calibrated = ("så de afspejler befolkningen og tager højde for, at nogle grupper svarer "
                  "mindre end andre")  # fmt: skip
    constant = [int(c["year"]) for c in checks if "constant" in c.get("problems", [])]
    doubtful = [c for c in checks if c.get("problems") and "constant" not in c.get("problems", [])]
    fine = [int(c["year"]) for c in checks if not c.get("problems")]
    if not constant and not doubtful:
        return f"Alle tal er vægtede med kalibreringsvægte, {calibrated}."
    sentences = []
    if constant:
        if not doubtful and not fine:
            sentences.append(
                "Tallene er uvægtede tal: alle vægte i leverancen er ens, så der er ikke taget "
                "højde for, at nogle grupper svarer mindre end andre."
            )
        else:
            sentences.append(
                f"I {_years(constant)} er alle vægte ens, så tallene for {_years(constant)} er "
                "uvægtede tal: de tager ikke højde for, at nogle grupper svarer mindre end andre."
            )
    if doubtful:
        reasons = []
        for c in sorted(doubtful, key=lambda c: int(c["year"])):
            parts = []
            if "sum" in c["problems"]:
                parts.append(
                    f"vægtene summerer til {number(c['sum_ratio'] * 100, 1)} pct. af befolkningen "
                    "på 16 år og derover"
                )
            if "deff" in c["problems"]:
                parts.append(
                    f"designeffekten af vægtene inden for kommunerne er {ratio(c['deff_within'])}"
                )
            reasons.append(f"{int(c['year'])}: {' og '.join(parts)}")
        years = sorted(int(c["year"]) for c in doubtful)
        sentences.append(
            f"I {_years(years)} ligner vægtene ikke kalibreringsvægte ({'; '.join(reasons)}); "
            "tallene er vægtede med leverancens vægte, men det kan ikke bekræftes, at de retter "
            "for skævheder i, hvem der svarer."
        )
    if fine:
        sentences.append(
            f"Tallene for {_years(fine)} er vægtede med kalibreringsvægte, {calibrated}."
        )
    return " ".join(sentences)
