"""Danish tables for the analysis notebooks: the frames of :mod:`analyse.cube.analysis` as
pandas Stylers a reader can take into a report.

Every table has Danish column headers, decimal comma, "pct." for shares, the U+2212 minus, the
suppression mark "–" for a hidden or missing number, no index, and a caption that states the
design (calibration weights, strata, the interval method and level, where the numbers come
from) and the suppression rule. With ``internal=True`` (no suppression) the caption opens with
the banner :data:`INTERNAL_BANNER`. The styler's id is derived from its content, so the same
table gives the same HTML (a test compares a notebook's output with a direct call).
"""

from __future__ import annotations

import hashlib
import html

import pandas as pd
from pandas.io.formats.style import Styler

from analyse.cube.analysis import TrendModel
from analyse.publish import report
from analyse.stats import disclosure

INTERNAL_BANNER = "Kun til intern brug — må ikke offentliggøres"
_BANNER_STYLE = (
    "display:block;padding:0.3em 0.6em;margin-bottom:0.3em;background:#fff3cd;"
    "border:2px solid #8a5a00;color:#3d2800;font-weight:bold"
)
DESIGN_TEXT = (
    "Vægtede andele (kalibreringsvægte), strata: kommune × bølge, hver svarperson sin egen "
    "enhed; Taylor-linearisering (som R survey)."
)
REGISTER_TEXT = (
    "Registertal: andele af alle personer i gruppen (ingen stikprøve), Wilson-intervaller."
)


def _design(method) -> str:
    return REGISTER_TEXT if str(method) == "wilson" else DESIGN_TEXT


_BREAKDOWN_DA = {
    "total": "I alt",
    "sex": "køn",
    "age_group": "aldersgruppe",
    "sex_age": "køn og alder",
    "education": "uddannelse",
    "labour_market": "arbejdsmarkedstilknytning",
}
_SOURCE_DA = {"kuben": "de beregnede tabeller (kuben)", "mikrodata": "mikrodata (svarpersoner)"}
_MISSING = report.SUPPRESSED_MARK


def banner_html(internal: bool) -> str:
    """The internal-use banner as HTML (empty when ``internal`` is False)."""
    if not internal:
        return ""
    return f'<strong role="note" style="{_BANNER_STYLE}">{INTERNAL_BANNER}</strong>'


class Banner:
    """Displays :func:`banner_html` in a notebook (nothing when not internal)."""

    def __init__(self, internal: bool) -> None:
        self.internal = bool(internal)

    def _repr_html_(self) -> str:
        return banner_html(self.internal)

    def __repr__(self) -> str:
        return INTERNAL_BANNER if self.internal else ""


def breakdown_label(breakdown: str) -> str:
    """Danish name of a breakdown: ``"sex,education"`` → ``"køn og uddannelse"``."""
    parts = [_BREAKDOWN_DA.get(p, p) for p in str(breakdown).split(",")]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]


def share_title(breakdown: str) -> str:
    """ "Andel i alt" for the whole area, else "Andel efter køn og uddannelse" (figures, tables)."""
    if str(breakdown) == "total":
        return "Andel i alt"
    return f"Andel efter {breakdown_label(breakdown)}"


def _level_text(level) -> str:
    return f"{report.number(float(level) * 100)} pct."


def _styler(display: pd.DataFrame, caption: str, internal: bool) -> Styler:
    text = html.escape(caption)
    if internal:
        text = banner_html(True) + text
    digest = hashlib.sha256((display.to_csv() + caption + str(internal)).encode()).hexdigest()
    styler = display.style.hide(axis="index").set_caption(text).set_uuid(digest[:12])
    return styler.set_table_styles(
        [
            {"selector": "caption", "props": "caption-side: top; text-align: left;"},
            {"selector": "td", "props": "text-align: right;"},
        ]
    )


def _suppression_note(internal: bool) -> str:
    if internal:
        return "Intet er skjult (intern brug): små celler vises."
    return disclosure.footnote()


def _pct_cells(frame: pd.DataFrame, value: str = "estimate") -> tuple[list[str], list[str]]:
    hidden = frame.get("suppressed", pd.Series(False, index=frame.index)).fillna(False)
    values = [
        report.pct_number(v, suppressed=bool(h)) for v, h in zip(frame[value], hidden, strict=True)
    ]
    intervals = [
        report.ci(lo, hi, parens=False, suppressed=bool(h))
        for lo, hi, h in zip(frame["ci_low"], frame["ci_high"], hidden, strict=True)
    ]
    return values, intervals


def data_table(data: pd.DataFrame, *, internal: bool = False) -> Styler:
    """The data step: the cube's total per wave, or the respondent counts per wave."""
    if "respondents" in data.columns:
        display = pd.DataFrame(
            {
                "År": data["year"].astype(str),
                "Svarpersoner i området": [report.number(v) for v in data["respondents"]],
                "I indikatorens befolkning": [report.number(v) for v in data["in_population"]],
                "Med svar på spørgsmålet": [report.number(v) for v in data["answered"]],
                "Vægtet befolkning": [report.number(v) for v in data["weighted_population"]],
            }
        )
        caption = "Mikrodata: svarpersoner pr. måling i området (ingen enkeltpersoner vises). " + (
            "" if internal else "Antal er afrundet til nærmeste 10."
        )
        return _styler(display, caption, internal)
    values, intervals = _pct_cells(data)
    display = pd.DataFrame(
        {
            "År": data["year"].astype(str),
            "Andel (pct.)": values,
            "Konfidensinterval": intervals,
            "Antal svar": [
                report.number(v, suppressed=bool(h))
                for v, h in zip(data["n"], data["suppressed"].fillna(False), strict=True)
            ],
        }
    )
    level = _level_text(data["level"].iloc[0]) if len(data) else ""
    caption = (
        f"Kuben: hele området pr. måling. {_design(data['method'].iloc[0] if len(data) else '')} {level}-konfidensintervaller. "
        + _suppression_note(False)
    )
    return _styler(display, caption, internal)


def estimates_table(estimates: pd.DataFrame, *, internal: bool = False) -> Styler:
    """Estimates by a breakdown: År, Gruppe, Andel (pct.), Konfidensinterval, Antal svar."""
    values, intervals = _pct_cells(estimates)
    hidden = estimates["suppressed"].fillna(False)
    display = pd.DataFrame(
        {
            "År": estimates["year"].astype(str),
            "Gruppe": estimates["group"].astype(str),
            "Andel (pct.)": values,
            "Konfidensinterval": intervals,
            "Antal svar": [
                report.number(v, suppressed=bool(h))
                for v, h in zip(estimates["n"], hidden, strict=True)
            ],
        }
    )
    if len(estimates):
        first = estimates.iloc[0]
        method = (
            "logit-transformeret, t-fordeling med designets frihedsgrader (R svyciprop)"
            if first["method"] == "taylor-logit"
            else f"{first['method']}"
        )
        caption = (
            f"{share_title(first['breakdown'])}; kilde: "
            f"{_SOURCE_DA.get(first['source'], first['source'])}. {_design(first['method'])} "
            f"{_level_text(first['level'])}-konfidensintervaller: {method}. "
            + _suppression_note(internal)
        )
    else:
        caption = "Ingen estimater for dette valg."
    return _styler(display, caption, internal)


def _ratio_ci(low, high) -> str:
    if report.is_missing(low) or report.is_missing(high):
        return _MISSING
    return f"{report.ratio(low)}–{report.ratio(high)}"


def coefficients_table(model: TrendModel, *, internal: bool = False) -> Styler:
    """The trend model's coefficients: log-odds, odds ratio with interval, p-value."""
    rows = model.coefficients
    summary = model.summary.iloc[0]
    display = pd.DataFrame(
        {
            "Led": rows["term"].astype(str),
            "Log-odds": [
                _MISSING if report.is_missing(v) else report.number(v, 3) for v in rows["estimate"]
            ],
            "Odds ratio": [report.ratio(v, 3) for v in rows["odds_ratio"]],
            "Konfidensinterval": [
                _ratio_ci(lo, hi)
                for lo, hi in zip(rows["or_ci_low"], rows["or_ci_high"], strict=True)
            ],
            "p-værdi": [report.pvalue(p) for p in rows["p_value"]],
        }
    )
    register = str(summary["formula"]).startswith("logit(andel)")
    model_text = (
        f"Registertal: vægtet lineær regression af årenes logit-andele på år, {summary['formula']}"
        f"; år {summary['waves'].replace(',', ', ')}. {REGISTER_TEXT} "
        if register
        else f"Surveyvægtet logistisk regression {summary['formula']} (R svyglm, quasibinomial), "
        f"år centreret om basisåret; målinger {summary['waves'].replace(',', ', ')}. "
        f"{DESIGN_TEXT} {_level_text(summary['level'])}-konfidensintervaller, t-fordeling med "
        f"{report.number(summary['df'])} frihedsgrader. "
    )
    caption = model_text + (
        f"Modellen vises ikke: {summary['suppression_reason']}."
        if bool(summary["suppressed"])
        else ""
    )
    return _styler(display, caption, internal)


def trend_table(model: TrendModel, *, internal: bool = False) -> Styler:
    """The trend model's summary: odds ratio per year and the average annual change."""
    s = model.summary.iloc[0]
    hidden = bool(s["suppressed"])
    display = pd.DataFrame(
        {
            "Model": [s["formula"]],
            "Målinger": [s["waves"].replace(",", ", ")],
            "Antal svar": [report.number(s["n"])],
            "Odds ratio pr. år": [report.ratio(s["odds_ratio"], 3, suppressed=hidden)],
            "Gns. årlig ændring (procentpoint)": [
                report.pp(s["annual_change_pp"], 2, in_points=True, unit=False, suppressed=hidden)
            ],
            "Konfidensinterval": [
                report.ci(
                    s["annual_change_ci_low_pp"],
                    s["annual_change_ci_high_pp"],
                    2,
                    points=True,
                    in_points=True,
                    parens=False,
                    suppressed=hidden,
                )
            ],
            "p-værdi": [_MISSING if hidden else report.pvalue(s["annual_change_p_value"])],
        }
    )
    caption = (
        "Gennemsnitlig årlig ændring: den gennemsnitlige marginale effekt af år i modellen "
        "(procentpoint pr. år, deltametoden). "
        + (f"Ikke vist: {s['suppression_reason']}." if hidden else "")
    )
    return _styler(display, caption, internal)


def forecast_table(forecast: pd.DataFrame, *, internal: bool = False) -> Styler:
    """The forecast to the agreement's end year with its prediction interval."""
    display = pd.DataFrame(
        {
            "Målinger": forecast["waves"].astype(str).str.replace(",", ", "),
            "Basisår (pct.)": [report.pct_number(v) for v in forecast["baseline_estimate"]],
            "Fremskrevet år": [
                _MISSING if report.is_missing(v) else str(int(v))
                for v in forecast["projection_year"]
            ],
            "Fremskrevet (pct.)": [report.pct_number(v) for v in forecast["projected"]],
            "Prædiktionsinterval": [
                report.ci(lo, hi, parens=False)
                for lo, hi in zip(
                    forecast["projected_pi_low"], forecast["projected_pi_high"], strict=True
                )
            ],
            "Sandsynlighed for at være bedre end basisåret": [
                report.pct(p, 0) for p in forecast["prob_desired_side"]
            ],
        }
    )
    caption = (
        "Fremskrivning fra kuben: puljet model på tværs af alle områder på samme niveau "
        "(mellem-bølge-variation og dæmpet hældning), 95 pct.-prædiktionsinterval inkl. næste "
        "målings usikkerhed; se docs/methods.md."
    )
    return _styler(display, caption, internal)


def inequality_table(inequality: pd.DataFrame, *, internal: bool = False) -> Styler:
    """D, R, SII and RII with intervals per wave."""
    points = {"points": True, "parens": False}
    display = pd.DataFrame(
        {
            "År": inequality["year"].astype(str),
            "Mest udsatte gruppe": inequality["comparison_group"].fillna(_MISSING).astype(str),
            "Sammenlignet med": inequality["reference_group"].fillna(_MISSING).astype(str),
            "D (procentpoint)": [report.pp(v, unit=False) for v in inequality["d"]],
            "D, interval": [
                report.ci(lo, hi, **points)
                for lo, hi in zip(inequality["d_ci_low"], inequality["d_ci_high"], strict=True)
            ],
            "R": [report.ratio(v) for v in inequality["r"]],
            "R, interval": [
                _ratio_ci(lo, hi)
                for lo, hi in zip(inequality["r_ci_low"], inequality["r_ci_high"], strict=True)
            ],
            "SII (procentpoint)": [report.pp(v, unit=False) for v in inequality["sii"]],
            "SII, interval": [
                report.ci(lo, hi, **points)
                for lo, hi in zip(inequality["sii_ci_low"], inequality["sii_ci_high"], strict=True)
            ],
            "RII": [report.ratio(v) for v in inequality["rii"]],
            "RII, interval": [
                _ratio_ci(lo, hi)
                for lo, hi in zip(inequality["rii_ci_low"], inequality["rii_ci_high"], strict=True)
            ],
            "Bemærkning": inequality["reason"].fillna("").astype(str),
        }
    )
    dimension = inequality["dimension"].iloc[0] if len(inequality) else "education"
    text = (
        "Uddannelse (25 år og derover, fem ordnede grupper): D og R mellem korteste og længste "
        "uddannelse; SII og RII fra en surveyvægtet logistisk model på den vægtede ridit "
        "(WHO/healthequal)."
        if dimension == "education"
        else "Arbejdsmarkedstilknytning (ikke ordnet): D og R mellem den dårligst og den bedst "
        "stillede gruppe i hver måling; SII og RII gælder kun ordnede dimensioner."
    )
    caption = (
        f"Social ulighed efter {breakdown_label(dimension)}. {text} {DESIGN_TEXT} 95 pct.-"
        "konfidensintervaller (t-fordeling; R og RII på log-skala). " + _suppression_note(False)
    )
    return _styler(display, caption, internal)


def gap_table(gap: pd.DataFrame, *, internal: bool = False) -> Styler:
    """The gap-change test: baseline against the latest wave."""
    display = pd.DataFrame(
        {
            "Mål": gap["measure"],
            "Basisår": [_MISSING if report.is_missing(v) else str(int(v)) for v in gap["baseline"]],
            "Seneste": [_MISSING if report.is_missing(v) else str(int(v)) for v in gap["latest"]],
            "Basisår (procentpoint)": [report.pp(v, unit=False) for v in gap["value_baseline"]],
            "Seneste (procentpoint)": [report.pp(v, unit=False) for v in gap["value_latest"]],
            "Ændring i numerisk forskel": [report.pp(v, unit=False) for v in gap["change"]],
            "Konfidensinterval": [
                report.ci(lo, hi, points=True, parens=False)
                for lo, hi in zip(gap["change_ci_low"], gap["change_ci_high"], strict=True)
            ],
            "p-værdi": [report.pvalue(p) for p in gap["p_value"]],
            "Forskellen er blevet": gap["gap"].astype(str),
            "Bemærkning": gap["reason"].fillna("").astype(str),
        }
    )
    caption = (
        "Bliver forskellen mindre? Ændringen i den numeriske forskel (|SII| for uddannelse, "
        "|D| for arbejdsmarkedstilknytning) fra basisåret til seneste måling; uafhængige "
        "stikprøver, se = √(se₁² + se₂²), tosidet test på 5 pct.-niveau."
    )
    return _styler(display, caption, internal)
