"""Tests of analyse.publish.report: Danish number formatting and generated sentences.

Expected strings are written by hand from the wording rules in the module docstring, not copied
from the function output.
"""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from analyse.errors import ParameterError
from analyse.publish import report
from analyse.reference.catalogue import load_agreement
from analyse.stats.disclosure import SUPPRESSED_MARK, SUPPRESSED_TEXT

MINUS = "\u2212"


@pytest.fixture(scope="module")
def agreement():
    return load_agreement("syddanmark-2024-2027")


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.213, "21,3 pct."),
        (0.2135, "21,4 pct."),  # half up on the written value (float is 0.21349999…)
        (0.2145, "21,5 pct."),  # half up, not to even
        (0.21349, "21,3 pct."),
        (0.0, "0,0 pct."),
        (1.0, "100,0 pct."),
        (np.float64(0.5), "50,0 pct."),
    ],
)
def test_pct_decimal_comma_and_half_up(p, expected):
    assert report.pct(p) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, math.inf])
def test_pct_missing_gives_mark(missing):
    assert report.pct(missing) == SUPPRESSED_MARK
    assert report.pct_number(missing) == SUPPRESSED_MARK
    assert report.pp(missing) == SUPPRESSED_MARK
    assert report.number(missing) == SUPPRESSED_MARK
    assert report.ratio(missing) == SUPPRESSED_MARK
    assert report.ci(missing, 0.2) == SUPPRESSED_MARK


def test_pct_suppressed_flag_hides_number():
    assert report.pct(0.25, suppressed=True) == SUPPRESSED_MARK


def test_pct_decimals_and_number_only():
    assert report.pct(0.35, 0) == "35 pct."
    assert report.pct_number(0.2135) == "21,4"
    assert report.pct_number(0.21354, 2) == "21,35"


def test_pct_rejects_percentages_and_text():
    with pytest.raises(ParameterError, match="0-1 scale"):
        report.pct(21.3)
    with pytest.raises(ParameterError, match="must be a number"):
        report.pct("0.2")


def test_pp_sign_minus_and_zero():
    assert report.pp(0.027) == "+2,7 procentpoint"
    assert report.pp(-0.01) == f"{MINUS}1,0 procentpoint"
    assert report.pp(-0.0125) == f"{MINUS}1,3 procentpoint"  # half away from zero
    assert report.pp(0.027, sign=False) == "2,7 procentpoint"
    assert report.pp(-0.0004) == "0,0 procentpoint"  # no "−0,0"
    assert report.pp(2.7, in_points=True) == "+2,7 procentpoint"
    assert report.pp(0.027, unit=False) == "+2,7"


def test_pp_rejects_points_without_flag():
    with pytest.raises(ParameterError, match="in_points=True"):
        report.pp(2.7)


def test_ci_proportion_and_difference():
    assert report.ci(0.191, 0.236) == "(19,1–23,6)"
    assert report.ci(0.191, 0.236, parens=False) == "19,1–23,6"
    assert report.ci(-0.012, 0.034, points=True) == f"({MINUS}1,2 til 3,4)"
    assert report.ci(0.5, 3.4, points=True, in_points=True) == "(0,5–3,4)"
    assert report.ci(0.19, 0.24, suppressed=True) == SUPPRESSED_MARK


def test_number_ratio_thousands_dot():
    assert report.number(12345) == "12.345"
    assert report.number(1234567.25, 1) == "1.234.567,3"
    assert report.number(-4500) == f"{MINUS}4.500"
    assert report.number(np.int64(999)) == "999"
    assert report.ratio(1.454) == "1,45"
    assert report.ratio(1.455) == "1,46"
    assert report.ratio(0.8) == "0,80"


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0004, "p < 0,001"),
        (0.001, "p = 0,001"),
        (0.0051, "p = 0,005"),
        (0.034, "p = 0,03"),
        (0.0496, "p = 0,0496"),  # 0,05 would contradict "statistisk sikker"
        (0.05, "p = 0,05"),
        (0.512, "p = 0,51"),
        (1.0, "p = 1,00"),
    ],
)
def test_pvalue(p, expected):
    assert report.pvalue(p) == expected


def test_pvalue_missing_and_out_of_range():
    assert report.pvalue(None) == SUPPRESSED_MARK
    with pytest.raises(ParameterError):
        report.pvalue(1.5)


def test_date_and_month_danish():
    assert report.date_da(dt.date(2026, 11, 22)) == "22. november 2026"
    assert report.date_da("2024-05-01") == "1. maj 2024"
    assert report.date_da(pd.Timestamp("2025-03-09 14:00")) == "9. marts 2025"
    assert report.month_da(2) == "februar"
    assert report.month_da(dt.date(2025, 6, 1)) == "juni"
    with pytest.raises(ParameterError):
        report.month_da(13)
    with pytest.raises(ParameterError):
        report.date_da("i går")


def test_decimals_argument_is_checked():
    with pytest.raises(ParameterError, match="decimals"):
        report.pct(0.2, -1)


# ---------------------------------------------------------------------------------------------
# Status


def test_status_label_symbol_and_word():
    assert report.status_label("bedre") == "\u2713 Bedre"
    assert report.status_label("uændret") == "= Uændret"
    assert report.status_label("dårligere") == "\u2717 Dårligere"
    assert report.status_label("kan ikke vurderes") == "\u25cb Kan ikke vurderes"
    assert report.status_label(None) == "\u25cb Kan ikke vurderes"
    assert report.status_label(float("nan")) == "\u25cb Kan ikke vurderes"
    symbols = {report.status_symbol(s) for s in report.STATUS_STYLES}
    assert len(symbols) == 4  # shapes differ; no arrows that would mean up/down
    assert not symbols & {"▲", "▼", "↑", "↓"}


def test_status_html_has_word_and_hidden_symbol():
    text = report.status_html("dårligere")
    assert "Dårligere" in text and 'aria-hidden="true"' in text and "status-daarligere" in text


def test_status_unknown_raises():
    with pytest.raises(ParameterError, match="unknown status"):
        report.status_label("better")


# ---------------------------------------------------------------------------------------------
# Change sentences: every branch, exact wording

MH_SUBJECT = "andelen af 16-24-årige med dårligt mentalt helbred"


def test_change_rise_significant_undesired(agreement):
    ind = agreement.indicator("poor_mental_health")  # should fall
    text = report.change_sentence(ind, None, 2021, 0.213, 2025, 0.240, p_value=0.001)
    assert text == (
        "Andelen af 16-24-årige med dårligt mentalt helbred er steget fra 21,3 pct. i 2021 til "
        "24,0 pct. i 2025 (forskellen er statistisk sikker). Det er den modsatte retning af "
        "målsætningen."
    )


def test_change_fall_significant_desired_with_area(agreement):
    ind = agreement.indicator("poor_mental_health")
    text = report.change_sentence(
        ind, "Odense", 2021, 0.240, 2025, 0.213, significant=True, status="bedre"
    )
    assert text == (
        "I Odense er andelen af 16-24-årige med dårligt mentalt helbred faldet fra 24,0 pct. i "
        "2021 til 21,3 pct. i 2025 (forskellen er statistisk sikker). Det er i den ønskede "
        "retning."
    )


def test_change_rise_significant_desired(agreement):
    ind = agreement.indicator("physically_active")  # should rise
    text = report.change_sentence(ind, "Hele landet", 2021, 0.55, 2025, 0.58, significant=True)
    assert text == (
        "I hele landet er andelen af borgere på 16 år og derover, der er fysisk aktive, steget "
        "fra 55,0 pct. i 2021 til 58,0 pct. i 2025 (forskellen er statistisk sikker). Det er i "
        "den ønskede retning."
    )


def test_change_fall_significant_undesired(agreement):
    ind = agreement.indicator("physically_active")
    text = report.change_sentence(ind, None, 2021, 0.58, 2025, 0.55, significant=True)
    assert text.endswith(
        "er faldet fra 58,0 pct. i 2021 til 55,0 pct. i 2025 (forskellen er statistisk sikker). "
        "Det er den modsatte retning af målsætningen."
    )


@pytest.mark.parametrize(
    ("baseline", "latest", "verb"), [(0.20, 0.21, "steget"), (0.21, 0.20, "faldet")]
)
def test_change_not_significant(agreement, baseline, latest, verb):
    ind = agreement.indicator("daily_smoking")
    text = report.change_sentence(
        ind, "Odense", 2021, baseline, 2025, latest, p_value=0.2, status="uændret"
    )
    assert text == (
        f"I Odense er andelen af borgere på 16 år og derover, der ryger dagligt, {verb} fra "
        f"{report.pct(baseline)} i 2021 til {report.pct(latest)} i 2025. Udviklingen er ikke "
        "statistisk sikker."
    )


def test_change_flat(agreement):
    ind = agreement.indicator("severe_obesity")
    text = report.change_sentence(ind, None, 2021, 0.1801, 2025, 0.1799, p_value=0.9)
    assert text == (
        "Andelen af borgere på 16 år og derover med svær overvægt var 18,0 pct. i både 2021 og "
        "2025."
    )


def test_change_significant_but_equal_when_rounded_shows_more_decimals(agreement):
    ind = agreement.indicator("severe_obesity")
    text = report.change_sentence(ind, None, 2021, 0.1801, 2025, 0.1799, significant=True)
    assert "fra 18,01 pct. i 2021 til 17,99 pct. i 2025" in text
    assert text.endswith("Det er i den ønskede retning.")


def test_change_suppressed_has_no_numbers(agreement):
    ind = agreement.indicator("daily_smoking")
    text = report.change_sentence(ind, "Odense", 2021, 0.2, 2025, 0.1, suppressed=True)
    assert text == (
        f"I Odense er der {SUPPRESSED_TEXT} for andelen af borgere på 16 år og derover, der "
        "ryger dagligt. Udviklingen kan derfor ikke vurderes."
    )
    missing = report.change_sentence(ind, None, 2021, 0.2, 2025, float("nan"))
    assert missing.startswith(f"Der er {SUPPRESSED_TEXT} for andelen")
    assert "pct." not in text + missing


def test_change_with_only_the_baseline_hidden_shows_the_latest_value(agreement):
    # The latest value is in the status table anyway; the sentence must not say it is hidden.
    ind = agreement.indicator("daily_smoking")
    text = report.change_sentence(ind, "Odense", 2021, None, 2025, 0.102, suppressed=True)
    assert text == (
        "I Odense var andelen af borgere på 16 år og derover, der ryger dagligt, 10,2 pct. i "
        f"2025. Tallet for 2021 kan ikke vises ({SUPPRESSED_TEXT}); udviklingen kan derfor "
        "ikke vurderes."
    )
    # A hidden latest value never reaches the sentence, whatever the baseline.
    hidden = report.change_sentence(ind, "Odense", 2021, None, 2025, None, suppressed=True)
    assert "pct." not in hidden


def test_change_only_one_wave(agreement):
    ind = agreement.indicator("loneliness")
    text = report.change_sentence(ind, None, None, None, 2025, 0.123)
    assert text == (
        "Andelen af 16-24-årige med tegn på svær ensomhed var 12,3 pct. i 2025. Indikatoren er "
        "kun målt i 2025; udviklingen kan endnu ikke vurderes."
    )
    same = report.change_sentence(ind, None, 2025, 0.123, 2025, 0.123)
    assert same == text


def test_change_no_baseline_value(agreement):
    ind = agreement.indicator("loneliness")
    text = report.change_sentence(ind, None, 2021, float("nan"), 2025, 0.123)
    assert text.endswith(
        "var 12,3 pct. i 2025. Der er ingen sammenlignelig måling i 2021; udviklingen kan ikke "
        "vurderes."
    )


def test_change_status_cannot_judge_with_values(agreement):
    ind = agreement.indicator("daily_smoking")
    text = report.change_sentence(
        ind, None, 2021, 0.15, 2025, 0.13, p_value=float("nan"), status="kan ikke vurderes"
    )
    assert text == (
        "Andelen af borgere på 16 år og derover, der ryger dagligt, er faldet fra 15,0 pct. i "
        "2021 til 13,0 pct. i 2025. Usikkerheden på ændringen kan ikke beregnes; udviklingen kan "
        "ikke vurderes."
    )


def test_change_status_contradiction_raises(agreement):
    ind = agreement.indicator("poor_mental_health")
    with pytest.raises(ParameterError, match="contradicts"):
        report.change_sentence(ind, None, 2021, 0.2, 2025, 0.25, significant=True, status="bedre")
    with pytest.raises(ParameterError):
        report.change_sentence(ind, None, 2021, 0.2, 2025, 0.25, suppressed=True, status="bedre")


EXPECTED_SUBJECTS = {
    "poor_mental_health": "andelen af 16-24-årige med dårligt mentalt helbred",
    "high_stress": "andelen af 16-24-årige med højt stressniveau",
    "loneliness": "andelen af 16-24-årige med tegn på svær ensomhed",
    "poor_mental_health_all": "andelen af borgere på 16 år og derover med dårligt mentalt helbred",
    "high_stress_all": "andelen af borgere på 16 år og derover med højt stressniveau",
    "loneliness_all": "andelen af borgere på 16 år og derover med tegn på svær ensomhed",
    "physically_active": "andelen af borgere på 16 år og derover, der er fysisk aktive,",
    "severe_obesity": "andelen af borgere på 16 år og derover med svær overvægt",
    "alcohol_over_10": (
        "andelen af borgere på 16 år og derover, der drikker mere end 10 genstande om ugen,"
    ),
    "daily_smoking": "andelen af borgere på 16 år og derover, der ryger dagligt,",
    "other_nicotine_use": (
        "andelen af borgere på 16 år og derover, der bruger øvrige tobaks- og nikotinprodukter,"
    ),
    "employment_somatic": "andelen af 18-64-årige med somatisk sygdom, der er tilknyttet "
    "arbejdsmarkedet,",
    "employment_mental": "andelen af 18-64-årige med psykisk sygdom, der er tilknyttet "
    "arbejdsmarkedet,",
    "youth_education_mental": "andelen af 25-årige med psykiske lidelser, der har fuldført en "
    "ungdomsuddannelse,",
}


def test_indicator_subject_every_catalogue_indicator(agreement):
    assert set(EXPECTED_SUBJECTS) == set(agreement.indicators)
    for ind_id, expected in EXPECTED_SUBJECTS.items():
        assert report.indicator_subject(agreement.indicator(ind_id)) == expected


def test_every_indicator_every_branch_reads_cleanly(agreement):
    cases = [
        dict(baseline_year=2021, baseline=0.213, latest_year=2025, latest=0.24, significant=True),
        dict(baseline_year=2021, baseline=0.24, latest_year=2025, latest=0.213, significant=True),
        dict(baseline_year=2021, baseline=0.213, latest_year=2025, latest=0.22, p_value=0.3),
        dict(baseline_year=2021, baseline=0.213, latest_year=2025, latest=0.213, p_value=0.9),
        dict(baseline_year=2021, baseline=0.2, latest_year=2025, latest=None, suppressed=True),
        dict(baseline_year=None, baseline=None, latest_year=2025, latest=0.1),
    ]
    for ind in agreement.indicators.values():
        for area in (None, "Odense", "Hele landet"):
            for case in cases:
                text = report.change_sentence(ind, area, **case)
                lowered = text.lower()
                assert "nan" not in lowered.split() and "none" not in lowered
                assert ",," not in text and ".." not in text and "  " not in text
                assert text[0].isupper() and text.endswith(".")
                # the subject (a relative clause closed by its comma) precedes the verb
                if SUPPRESSED_TEXT not in text:
                    assert report.indicator_subject(ind) + " " in lowered


def test_relative_clause_then_value(agreement):
    ind = agreement.indicator("daily_smoking")
    text = report.change_sentence(ind, None, None, None, 2025, 0.1)
    assert text.startswith(
        "Andelen af borgere på 16 år og derover, der ryger dagligt, var 10,0 pct. i 2025."
    )


# ---------------------------------------------------------------------------------------------
# Comparison, gap, projection


def test_comparison_sentence_branches():
    assert report.comparison_sentence("Odense", "Region Syddanmark", 0.031, 0.002) == (
        "Andelen i Odense er statistisk sikkert højere end i resten af Region Syddanmark "
        "(3,1 procentpoint)."
    )
    assert report.comparison_sentence("Odense", "Hele landet", -0.0205, 0.01) == (
        "Andelen i Odense er statistisk sikkert lavere end i resten af landet (2,1 procentpoint)."
    )
    assert report.comparison_sentence("Odense", "Region Syddanmark", 0.01, 0.4) == (
        "Andelen i Odense adskiller sig ikke statistisk sikkert fra resten af Region Syddanmark."
    )
    assert report.comparison_sentence("Odense", "Region Syddanmark", 0.01, 0.01, True) == (
        f"Sammenligningen mellem Odense og resten af Region Syddanmark kan ikke vises: der er "
        f"{SUPPRESSED_TEXT}."
    )
    assert SUPPRESSED_TEXT in report.comparison_sentence("Odense", "Hele landet", None, None)


@pytest.mark.parametrize(
    ("status", "last"),
    [
        ("mindre", "Uligheden er blevet mindre siden 2021."),
        ("større", "Uligheden er blevet større siden 2021."),
        ("uændret", "Uligheden har ikke ændret sig statistisk sikkert siden 2021."),
        (None, "Det kan ikke vurderes, om uligheden har ændret sig siden 2021."),
        (float("nan"), "Det kan ikke vurderes, om uligheden har ændret sig siden 2021."),
    ],
)
def test_gap_sentence_status(status, last):
    text = report.gap_sentence(0.082, None, status)
    assert text == (
        "Forskellen mellem borgere med grundskole og borgere med lang videregående uddannelse er "
        f"8,2 procentpoint. {last}"
    )


def test_gap_sentence_direction_and_sii():
    # smoking (should fall): D > 0 means the least educated smoke more; SII < 0: falls with
    # education.
    text = report.gap_sentence(0.082, -0.101, "mindre", direction="decrease")
    assert text == (
        "Andelen er 8,2 procentpoint højere blandt borgere med grundskole end blandt borgere med "
        "lang videregående uddannelse. Over alle uddannelsesgrupper falder andelen med stigende "
        "uddannelse (hældningsindeks, SII: 10,1 procentpoint). Uligheden er blevet mindre siden "
        "2021."
    )
    # physically active (should rise): D > 0 means the least educated are less active.
    active = report.gap_sentence(0.05, 0.07, "uændret", direction="increase")
    assert active.startswith("Andelen er 5,0 procentpoint lavere blandt borgere med grundskole")
    assert "stiger andelen med stigende uddannelse" in active


def test_gap_sentence_suppressed_and_unknown_status():
    text = report.gap_sentence(0.08, 0.1, "mindre", suppressed=True)
    assert SUPPRESSED_TEXT in text and "procentpoint" not in text
    with pytest.raises(ParameterError, match="gap_status"):
        report.gap_sentence(0.08, None, "smaller")


def test_a_gap_withheld_by_the_linked_protection_says_why():
    from analyse.cube.protection import WITHHELD_REASONS, withhold_inequality

    # The reason withhold_inequality records for an education gap, as the brief passes it on.
    inequality = pd.DataFrame(
        {"indicator": ["x"], "year": [2021], "area_level": ["kommune"], "area_code": ["461"],
         "dimension": ["education"], "reason": pd.array([None], dtype="string"), "d": [0.08]}
    )  # fmt: skip
    groups = pd.DataFrame(
        {"indicator": "x", "year": 2021, "area_level": "kommune", "area_code": "461",
         "breakdown": "education", "suppressed": [False, True]}
    )  # fmt: skip
    reason = withhold_inequality(inequality, groups)["reason"].iloc[0]
    assert reason in WITHHELD_REASONS
    text = report.gap_sentence(None, None, None, suppressed=True, withheld=reason)
    assert text.startswith(
        "Forskellen mellem borgere med grundskole og borgere med lang videregående uddannelse "
        "vises ikke, fordi tallet sammen med de viste tal ville afsløre en skjult "
        "uddannelsesgruppe."
    )
    assert SUPPRESSED_TEXT not in text
    # A shown D is shown whatever reason is passed.
    assert "8,0 procentpoint" in report.gap_sentence(0.08, None, None, withheld=reason)
    labour = report.labour_market_sentence(None, None, None, direction="decrease", withheld=reason)
    assert labour.startswith("Forskellen mellem grupperne på arbejdsmarkedet vises ikke, fordi")


def test_projection_sentence_branches():
    assert report.projection_sentence(0.231, 0.19, 0.275, 0.35, 3) == (
        "Hvis udviklingen fortsætter som hidtil, vil andelen i 2027 være omkring 23,1 pct. "
        "(usikkerhedsinterval for en måling i 2027: 19,0–27,5 pct.). Sandsynligheden for, at "
        "andelen i 2027 er bedre end i 2021 (i målsætningens retning), er 35 pct."
    )
    two = report.projection_sentence(0.231, 0.19, 0.275, 0.9991, 2)
    assert two.endswith(
        "er over 99 pct. Fremskrivningen bygger kun på to målinger og er derfor meget usikker."
    )
    assert "under 1 pct." in report.projection_sentence(0.2, 0.1, 0.3, 0.001, 4)
    assert report.projection_sentence(0.2, 0.1, 0.3, 0.5, 1) == (
        "Der er for få målinger til at fremskrive udviklingen til 2027."
    )
    hidden = report.projection_sentence(float("nan"), None, None, None, 3)
    assert SUPPRESSED_TEXT in hidden and "pct" not in hidden
    no_interval = report.projection_sentence(0.2, None, None, None, 3)
    assert no_interval == (
        "Hvis udviklingen fortsætter som hidtil, vil andelen i 2027 være omkring 20,0 pct."
    )
    level = report.projection_sentence(0.2, None, None, None, 3, method="level")
    assert level == "Holder det nuværende niveau, vil andelen i 2027 være omkring 20,0 pct."


def test_projection_sentence_reconciles_status_and_probability():
    basis = "alle målingerne og udviklingen i alle landets kommuner"
    # "uændret" next to a 1 % probability: say what each means.
    text = report.projection_sentence(
        0.231, 0.19, 0.275, 0.01, 5, status="uændret", latest_year=2025, basis=basis
    )
    assert text.endswith(
        "er 1 pct. Status »uændret« betyder kun, at ændringen fra 2021 til 2025 ikke er "
        "statistisk sikker; sandsynligheden er et skøn for 2027, som bygger på alle målingerne "
        "og udviklingen i alle landets kommuner."
    )
    # "bedre" next to a probability under one half, "dårligere" next to one over one half.
    better = report.projection_sentence(0.2, 0.1, 0.3, 0.3, 5, status="bedre", latest_year=2025)
    assert "Status »bedre« gælder ændringen fra 2021 til 2025" in better
    assert "kan pege i hver sin retning" in better
    worse = report.projection_sentence(0.2, 0.1, 0.3, 0.7, 5, status="dårligere", latest_year=2025)
    assert "Status »dårligere« gælder ændringen" in worse
    # No apparent clash, or no status given: no extra sentence.
    for status, probability in (("uændret", 0.5), ("bedre", 0.9), ("dårligere", 0.1)):
        quiet = report.projection_sentence(
            0.2, 0.1, 0.3, probability, 5, status=status, latest_year=2025
        )
        assert "Status" not in quiet
    assert "Status" not in report.projection_sentence(0.2, 0.1, 0.3, 0.01, 5)


def test_progress_sentence():
    assert report.progress_sentence("improving") == "Healthy People-kategori: Forbedring."
    assert report.progress_sentence("little or no detectable change", np.nan, "") == (
        "Healthy People-kategori: Ingen sikker ændring."
    )
    assert report.progress_sentence(
        "improving", 19.1, "insufficient progress", target=0.82, target_year=2027
    ) == (
        "Healthy People-kategori: Forbedring. Målet er 82,0 pct. i 2027; 19 pct. af den ønskede "
        "ændring fra basisåret er nået. SDG-kategori (Eurostat/FN): Utilstrækkelig fremgang."
    )
    # The targeted change is not defined when the baseline already met the target.
    assert report.progress_sentence(
        "target met or exceeded", np.nan, "target met", target=0.51, target_year=2027
    ) == (
        "Healthy People-kategori: Mål nået. Målet er 51,0 pct. i 2027. "
        "SDG-kategori (Eurostat/FN): Mål nået."
    )
    assert report.progress_sentence(None) == ""
    with pytest.raises(ParameterError, match="Healthy People"):
        report.progress_sentence("better")
    with pytest.raises(ParameterError, match="SDG"):
        report.progress_sentence("improving", 10, "on track", target=0.5)


def test_population_phrase_sexes():
    from analyse.reference.catalogue import Population

    assert report.population_phrase(Population(16, 24, "female")) == "16-24-årige kvinder"
    assert report.population_phrase(Population(16, None, "male")) == "mænd på 16 år og derover"
    assert report.population_phrase(Population(25, 25, "all")) == "25-årige"


def test_with_interval_one_cell_one_mark():
    assert report.with_interval("21,3 pct.", "(19,1–23,6)") == "21,3 pct. (19,1–23,6)"
    # Hidden value: one mark, never "– –" or a lone interval.
    assert report.with_interval(SUPPRESSED_MARK, SUPPRESSED_MARK) == SUPPRESSED_MARK
    assert report.with_interval(SUPPRESSED_MARK, "(19,1–23,6)") == SUPPRESSED_MARK
    # A value without an interval stands alone.
    assert report.with_interval("21,3 pct.", SUPPRESSED_MARK) == "21,3 pct."
    assert report.with_interval("1,25", "") == "1,25"


def test_labour_market_sentence_names_the_groups_and_the_direction():
    # D = 0.123 worse-off minus best-off; for a share that should fall, worse = higher.
    text = report.labour_market_sentence(
        "Førtidspensionist", "Beskæftiget", 0.123, direction="decrease"
    )
    assert text == (
        "Mellem grupperne på arbejdsmarkedet er forskellen størst mellem førtidspensionister og "
        "beskæftigede: andelen er 12,3 procentpoint højere blandt førtidspensionister."
    )
    # For a share that should rise (good self-rated health) the worse-off group has less.
    text = report.labour_market_sentence(
        "Arbejdsløs", "Under uddannelse", 0.2, direction="increase"
    )
    assert "andelen er 20,0 procentpoint lavere blandt arbejdsløse" in text
    assert "borgere under uddannelse" in text
    hidden = report.labour_market_sentence(None, None, float("nan"), direction="decrease")
    assert (
        hidden
        == f"Forskellen mellem grupperne på arbejdsmarkedet kan ikke vises: der er {SUPPRESSED_TEXT}."
    )
    with pytest.raises(ParameterError, match="direction"):
        report.labour_market_sentence("Arbejdsløs", "Beskæftiget", 0.1, direction="up")


def test_change_sentence_without_judgement_for_context_indicators():
    ind = load_agreement().indicator("daily_smoking")
    judged = report.change_sentence(ind, "Odense", 2021, 0.15, 2025, 0.10, 0.001)
    plain = report.change_sentence(ind, "Odense", 2021, 0.15, 2025, 0.10, 0.001, judge=False)
    assert judged == plain + " Det er i den ønskede retning."
    assert plain.endswith("(forskellen er statistisk sikker).")
