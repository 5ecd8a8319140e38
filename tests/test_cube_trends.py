"""Tests for analyse.cube.trends and analyse.cube.changes: the agreement's rules around the models.

The statistics themselves (R values) are tested in test_trend.py on the plain API; here the
cube layer's wrappers must give the same numbers with the agreement's waves, baseline,
direction and notes.

R-derived values were produced with R 4 and survey 4.1.1 (numDeriv for numerical gradients);
the exact R code is in the comment above each value. Shared R setup:

    library(survey); library(numDeriv); options(digits = 15)
    d <- read.csv("tests/data/trend/small_design.csv")
    des <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, data = d)
    fit <- svyglm(y ~ year + sex + age_group, des, family = quasibinomial())

Tests never call R; the data file and its origin are described in tests/data/trend/SOURCE.md.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from analyse.cube import changes as cube_changes
from analyse.cube import estimates as cube_estimates
from analyse.cube import trends
from analyse.errors import ParameterError
from analyse.reference import catalogue
from analyse.stats import forecast, series, survey
from analyse.stats import trend as stats_trend

DATA = Path(__file__).parent / "data" / "trend"
RTOL = 1e-6
# Representative exact ages of the test file's age groups (the population filter needs `age`).
AGES = {"16-24": 20, "25-44": 35, "45-64": 55, "65+": 70}


@pytest.fixture(scope="module")
def agreement() -> catalogue.Agreement:
    return catalogue.load_agreement()


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """The small stratified design, with `y` as the daily_smoking column."""
    data = pd.read_csv(DATA / "small_design.csv").rename(columns={"y": "daily_smoking"})
    data["age"] = data["age_group"].map(AGES)
    # The estimates cube behind the pooled forecast needs these (not used by the models).
    data["respondent_id"] = np.arange(len(data))
    data["education"] = data["labour_market"] = None
    return data


def with_first_wave(agreement, indicator, first_wave):
    """The agreement with one indicator's first comparable wave changed."""
    changed = dataclasses.replace(agreement.indicator(indicator), first_wave=first_wave)
    return dataclasses.replace(agreement, indicators={**agreement.indicators, indicator: changed})


def estimates_frame(rows) -> pd.DataFrame:
    """Tidy estimates from (indicator, level, area, year, estimate, se[, suppressed])."""
    records = []
    for row in rows:
        indicator, level, area, year, estimate, se, *rest = row
        records.append(
            {
                "indicator": indicator,
                "area_level": level,
                "area_code": area,
                "breakdown": "total",
                "group": "total",
                "year": year,
                "estimate": estimate,
                "se": se,
                "n": 500,
                "suppressed": bool(rest[0]) if rest else False,
            }
        )
    return pd.DataFrame(records)


def only(frame: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in keys.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, f"{mask.sum()} rows match {keys}"
    return frame.loc[mask].iloc[0]


# ---------------------------------------------------------------------------------------------
# trend on respondents: agreement with R svyglm


# ---------------------------------------------------------------------------------------------
# trend: known answers and behaviour


def simulated(slope: float, years=(2010, 2013, 2017, 2021, 2025), n=4000, seed=7):
    """Respondents with a known conditional log-odds slope per year, sex and age effects."""
    rng = np.random.default_rng(seed)
    frames = []
    for year in years:
        sex = rng.choice(["Kvinder", "Mænd"], n)
        age_group = rng.choice(list(AGES), n)
        eta = -1.2 + slope * (year - 2021) + 0.5 * (sex == "Mænd") - 0.4 * (age_group == "65+")
        frames.append(
            pd.DataFrame(
                {
                    "year": year,
                    "kommune_code": rng.choice([461, 479], n),
                    "sex": sex,
                    "age_group": age_group,
                    "weight": rng.uniform(0.5, 1.5, n),
                    "daily_smoking": (rng.random(n) < special.expit(eta)).astype(float),
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    data["stratum"] = data["year"].astype(str) + "-" + data["kommune_code"].astype(str)
    data["age"] = data["age_group"].map(AGES)
    return data


def test_trend_single_age_group_population_uses_exact_age(small, agreement):
    data = small.assign(high_stress=small["daily_smoking"])
    result = only(trends.trend(data, "high_stress", agreement))
    # high_stress is for 16-24-year-olds: one age group, so exact age replaces age_group.
    assert result["formula"] == "high_stress ~ year + C(sex) + age"
    assert result["n"] == (small["age_group"] == "16-24").sum()


def test_trend_carries_covid_note(small, agreement):
    result = only(trends.trend(small, "daily_smoking", agreement))
    assert bool(result["covid_flag"])
    assert "COVID-19" in result["note"]
    early = only(trends.trend(small[small["year"] < 2021], "daily_smoking", agreement))
    assert not early["covid_flag"]
    assert early["note"] == ""


# ---------------------------------------------------------------------------------------------
# Aggregated input equals microdata


def wave_estimates(data: pd.DataFrame) -> pd.DataFrame:
    result = survey.proportion(data, "daily_smoking", stats_trend.DEFAULT_DESIGN, by="year")
    return result.assign(indicator="daily_smoking", area_level="land", area_code="DK")


# ---------------------------------------------------------------------------------------------
# Register counts: chi-square test for trend and annual percent change


def register_counts() -> pd.DataFrame:
    years = np.arange(2015, 2026)
    return pd.DataFrame(
        {
            "indicator": "youth_education_mental",
            "area_level": "land",
            "area_code": "DK",
            "year": years,
            "numerator": [410, 420, 428, 440, 445, 452, 460, 470, 480, 487, 495],
            "denominator": [1000] * 11,
        }
    )


def test_trend_register_counts_gives_chi2_and_apc(agreement):
    counts = register_counts()
    result = only(trends.trend(counts, "youth_education_mental", agreement))
    last = counts.tail(5)
    assert result["chi2_trend_years"] == "2021,2022,2023,2024,2025"
    expected = series.chi2_trend(last["numerator"], last["denominator"])
    assert result["chi2_trend"] == pytest.approx(expected[0], rel=1e-12)
    assert result["apc"] > 0
    assert result["input"] == "counts"
    # Register baseline = the year before the agreement period (2023).
    assert result["baseline_estimate"] == pytest.approx(0.480)
    assert not result["covid_flag"]


def test_wave_changes_register_baseline_is_year_before_period(agreement):
    counts = series.counts_as_estimates(register_counts())
    changes = cube_changes.wave_changes(
        counts, agreement, keys=("indicator", "area_level", "area_code")
    )
    baseline = only(changes, comparison="baseline")
    assert (baseline["year_from"], baseline["year_to"]) == (2023, 2025)
    assert baseline["change_pp"] == pytest.approx(1.5)
    # Year-to-year changes: 2016 vs 2015 ... 2025 vs 2024.
    assert (changes["comparison"] == "consecutive").sum() == 10


# ---------------------------------------------------------------------------------------------
# wave_changes


@pytest.fixture
def hand_estimates() -> pd.DataFrame:
    return estimates_frame(
        [
            ("daily_smoking", "land", "DK", 2017, 0.15, 0.005),
            ("daily_smoking", "land", "DK", 2021, 0.13, 0.004),
            ("daily_smoking", "land", "DK", 2023, 0.12, 0.006),
            ("daily_smoking", "land", "DK", 2025, 0.10, 0.004),
            # A kommune row for 2023 is not comparable (national-only wave): never paired.
            ("daily_smoking", "kommune", "461", 2021, 0.14, 0.010),
            ("daily_smoking", "kommune", "461", 2023, 0.50, 0.010),
            ("daily_smoking", "kommune", "461", 2025, 0.15, 0.010),
            # Loneliness starts in 2021: the 2017 row is left out.
            ("loneliness", "land", "DK", 2017, 0.30, 0.010),
            ("loneliness", "land", "DK", 2021, 0.10, 0.010),
        ]
    )


def test_wave_changes_hand_calculation(hand_estimates, agreement):
    changes = cube_changes.wave_changes(hand_estimates, agreement)
    row = only(changes, indicator="daily_smoking", area_code="DK", comparison="baseline")
    # 2025 - 2021 = 0.10 - 0.13 = -3 pp; se = sqrt(0.004² + 0.004²) = 0.0056569 = 0.56569 pp;
    # z = -0.03 / 0.0056569 = -5.3033; 95 % CI = -3 ± 1.959964 · 0.56569 = (-4.1087, -1.8913).
    assert (row["year_from"], row["year_to"]) == (2021, 2025)
    assert row["change_pp"] == pytest.approx(-3.0)
    assert row["se_pp"] == pytest.approx(0.565685, rel=1e-5)
    assert row["z"] == pytest.approx(-5.303301, rel=1e-6)
    assert row["ci_low_pp"] == pytest.approx(-4.108717, rel=1e-5)
    assert row["ci_high_pp"] == pytest.approx(-1.891283, rel=1e-5)
    assert row["covid_flag"]
    consecutive = changes[(changes["comparison"] == "consecutive") & (changes["area_code"] == "DK")]
    # At land level 2023 is a wave: 2021→2023 and 2023→2025; 2017→2021 too.
    pairs = set(zip(consecutive["year_from"], consecutive["year_to"], strict=True))
    assert pairs == {(2017, 2021), (2021, 2023), (2023, 2025)}
    step = only(consecutive, year_from=2023)
    assert step["change_pp"] == pytest.approx(-2.0)


def test_wave_changes_never_joins_incomparable_waves(hand_estimates, agreement):
    changes = cube_changes.wave_changes(hand_estimates, agreement)
    kommune = changes[changes["area_code"] == "461"]
    assert 2023 not in set(kommune["year_from"]) | set(kommune["year_to"])
    step = only(kommune, comparison="consecutive")
    assert (step["year_from"], step["year_to"]) == (2021, 2025)
    assert step["change_pp"] == pytest.approx(1.0)
    loneliness = changes[changes["indicator"] == "loneliness"]
    assert 2017 not in set(loneliness["year_from"])
    assert only(loneliness, comparison="baseline")["n_waves"] == 1


def test_wave_changes_suppressed_cell_has_no_change(agreement):
    estimates = estimates_frame(
        [
            ("daily_smoking", "land", "DK", 2021, 0.13, 0.004),
            ("daily_smoking", "land", "DK", 2025, 0.10, 0.004, True),
        ]
    )
    row = only(cube_changes.wave_changes(estimates, agreement), comparison="baseline")
    assert row["suppressed"]
    assert np.isnan(row["change_pp"]) and np.isnan(row["estimate_to"])


# ---------------------------------------------------------------------------------------------
# status


def status_of(agreement, rows) -> pd.DataFrame:
    return cube_changes.status(
        cube_changes.wave_changes(estimates_frame(rows), agreement), agreement
    )


def test_status_flat_series_is_unchanged(agreement):
    result = status_of(
        agreement,
        [
            ("daily_smoking", "land", "DK", 2021, 0.13, 0.004),
            ("daily_smoking", "land", "DK", 2025, 0.131, 0.004),
        ],
    )
    assert only(result)["status"] == "uændret"
    assert only(result)["status_reason"] == "Ingen statistisk sikker ændring fra 2021 til 2025."


def test_status_significant_fall_in_decrease_indicator_is_better(agreement):
    result = only(
        status_of(
            agreement,
            [
                ("daily_smoking", "land", "DK", 2021, 0.13, 0.004),
                ("daily_smoking", "land", "DK", 2025, 0.10, 0.004),
            ],
        )
    )
    assert result["status"] == "bedre"
    assert result["direction"] == "decrease"
    assert "fald" in result["status_reason"]


def test_status_significant_rise_in_decrease_indicator_is_worse(agreement):
    result = only(
        status_of(
            agreement,
            [
                ("daily_smoking", "land", "DK", 2021, 0.10, 0.004),
                ("daily_smoking", "land", "DK", 2025, 0.13, 0.004),
            ],
        )
    )
    assert result["status"] == "dårligere"


def test_status_increase_indicator_is_symmetric(agreement):
    rise = only(
        status_of(
            agreement,
            [
                ("physically_active", "land", "DK", 2021, 0.50, 0.005),
                ("physically_active", "land", "DK", 2025, 0.55, 0.005),
            ],
        )
    )
    fall = only(
        status_of(
            agreement,
            [
                ("physically_active", "land", "DK", 2021, 0.55, 0.005),
                ("physically_active", "land", "DK", 2025, 0.50, 0.005),
            ],
        )
    )
    assert (rise["status"], fall["status"]) == ("bedre", "dårligere")


def test_status_boundary_uses_p_below_alpha(agreement):
    # change / se = 1.95 (p = 0.0512): not significant at 0.05, significant at 0.06.
    rows = [
        ("daily_smoking", "land", "DK", 2021, 0.13, 0.01),
        ("daily_smoking", "land", "DK", 2025, 0.13 - 1.95 * np.sqrt(2) * 0.01, 0.01),
    ]
    changes = cube_changes.wave_changes(estimates_frame(rows), agreement)
    assert only(cube_changes.status(changes, agreement))["status"] == "uændret"
    assert only(cube_changes.status(changes, agreement, alpha=0.06))["status"] == "bedre"


def test_status_too_few_waves_cannot_be_judged(agreement):
    result = status_of(
        agreement,
        [
            ("loneliness", "land", "DK", 2021, 0.10, 0.01),
            ("daily_smoking", "kommune", "461", 2017, 0.10, 0.01),
            ("daily_smoking", "kommune", "461", 2025, 0.08, 0.01),
            ("daily_smoking", "land", "DK", 2021, 0.13, 0.004),
            ("daily_smoking", "land", "DK", 2025, 0.10, 0.004, True),
        ],
    )
    only_one = only(result, indicator="loneliness")
    no_baseline = only(result, indicator="daily_smoking", area_code="461")
    suppressed = only(result, indicator="daily_smoking", area_code="DK")
    for row in (only_one, no_baseline, suppressed):
        assert row["status"] == "kan ikke vurderes"
    assert "Kun én sammenlignelig måling" in only_one["status_reason"]
    assert "Ingen sammenlignelig måling i basisåret 2021" in no_baseline["status_reason"]
    assert "For få svarpersoner" in suppressed["status_reason"]
    assert set(result["status"]) <= set(stats_trend.STATUS_LABELS)


# ---------------------------------------------------------------------------------------------
# trends_for_cube


def test_trends_for_cube_equals_trend_per_area(small, agreement):
    cube = trends.trends_for_cube(
        small, agreement, levels=("land", "kommune"), indicators=["daily_smoking"]
    )
    assert len(cube) == 1 + 98
    for level, code in (("land", "DK"), ("kommune", "461")):
        one = only(trends.trend(small, "daily_smoking", agreement, level=level, area_code=code))
        row = only(cube, area_level=level, area_code=code)
        for column in ("log_odds_slope", "log_odds_se", "annual_change_se_pp", "odds_ratio"):
            assert row[column] == pytest.approx(one[column], rel=1e-8), column
        assert row["nonlinearity_p_value"] == pytest.approx(one["nonlinearity_p_value"], rel=1e-6)
    empty = only(cube, area_level="kommune", area_code="101")
    assert np.isnan(empty["log_odds_slope"])
    assert empty["fit_note"] == "færre end to sammenlignelige målinger"


def test_trends_for_cube_projection_comes_from_the_pooled_forecast(small, agreement):
    # The projection columns of the trends table are the pooled forecast of the published
    # estimates (all kommuner of the level jointly), with the agreement's baseline 2021, end
    # year 2027, direction and COVID-19 wave -- not the single-domain model's.
    cube = trends.trends_for_cube(
        small, agreement, levels=("land", "kommune"), indicators=["daily_smoking"]
    )
    published = cube_estimates.build(
        small, agreement, levels=("land", "kommune"), breakdowns=("total",),
        indicators=["daily_smoking"],
    )  # fmt: skip
    kommuner = published[
        (published["area_level"] == "kommune")
        & (published["year"] != 2023)
        & ~published["suppressed"]
    ]
    expected = forecast.forecast(
        kommuner,
        area="area_code",
        direction="decrease",
        baseline_year=2021,
        target_year=2027,
        covid_years=(2021,),
        levels=(0.8, 0.95),
    ).set_index("area_code")
    rows = cube[cube["area_level"] == "kommune"].set_index("area_code")
    fitted = expected.index.intersection(rows.index)
    assert len(fitted) == 3
    np.testing.assert_allclose(rows.loc[fitted, "projected"], expected.loc[fitted, "projected"])
    np.testing.assert_allclose(
        rows.loc[fitted, "projected_pi_low"], expected.loc[fitted, "pi95_low"]
    )
    np.testing.assert_allclose(
        rows.loc[fitted, "projected_pi80_high"], expected.loc[fitted, "pi80_high"]
    )
    np.testing.assert_allclose(
        rows.loc[fitted, "prob_desired_side"], expected.loc[fitted, "prob_desired_side"]
    )
    assert (rows.loc[fitted, "forecast_method"] == expected.loc[fitted, "method"]).all()
    # ... and the same as the cube's own forecast step from the published table.
    pooled = trends.forecasts_for_cube(
        published, agreement, ("land", "kommune"), indicators=["daily_smoking"]
    ).set_index(["area_level", "area_code"])
    for column in trends.FORECAST_COLUMNS:
        left = cube.set_index(["area_level", "area_code"]).loc[pooled.index, column]
        pd.testing.assert_series_equal(left, pooled[column], check_names=False, check_dtype=False)
    # The single-area model (microdata predictive margin) is a different projection.
    one = only(trends.trend(small, "daily_smoking", agreement, level="kommune", area_code=461))
    assert rows.loc["461", "projected"] != pytest.approx(one["projected"], rel=1e-3)
    # Kommuner without published estimates get no projection.
    assert np.isnan(rows.loc["101", "projected"])


def test_with_forecasts_replaces_only_the_projection_columns(small, agreement):
    models = pd.DataFrame(
        {
            "indicator": ["daily_smoking"] * 2,
            "area_level": ["kommune"] * 2,
            "area_code": ["461", "999"],
            "breakdown": ["total"] * 2,
            "group": ["total"] * 2,
            "odds_ratio": [0.9, 1.1],
            "projected": [0.5, 0.5],
        }
    )
    forecasts = pd.DataFrame(
        {"indicator": ["daily_smoking"], "area_level": ["kommune"], "area_code": ["461"],
         "breakdown": ["total"], "group": ["total"]}
        | {c: [0.2] for c in trends.FORECAST_COLUMNS}
    )  # fmt: skip
    forecasts[["projection_note", "probability_note", "forecast_note"]] = "x"
    out = trends.with_forecasts(models, forecasts).set_index("area_code")
    assert list(out["odds_ratio"]) == [0.9, 1.1]
    assert out.loc["461", "projected"] == 0.2
    assert np.isnan(out.loc["999", "projected"])
    assert out.loc["999", "forecast_note"] == ""


# ---------------------------------------------------------------------------------------------
# Inputs are not mutated; parameter errors


def test_functions_do_not_mutate_inputs(small, hand_estimates, agreement):
    data, estimates = small.copy(), hand_estimates.copy()
    changes = cube_changes.wave_changes(hand_estimates, agreement)
    changes_copy = changes.copy()
    cube_changes.status(changes, agreement)
    trends.trend(small, "daily_smoking", agreement)
    trends.trends_for_cube(small, agreement, levels=("land",), indicators=["daily_smoking"])
    pd.testing.assert_frame_equal(small, data)
    pd.testing.assert_frame_equal(hand_estimates, estimates)
    pd.testing.assert_frame_equal(changes, changes_copy)


def test_trend_parameter_errors(small, agreement):
    with pytest.raises(ParameterError, match="no indicator 'smoking'"):
        trends.trend(small, "smoking", agreement)
    with pytest.raises(ParameterError, match="register indicator"):
        trends.trend(small, "employment_mental", agreement)
    with pytest.raises(ParameterError, match="unknown area level"):
        trends.trend(small, "daily_smoking", agreement, level="amt")
    with pytest.raises(ParameterError, match="area_code is needed"):
        trends.trend(small, "daily_smoking", agreement, level="kommune")
    with pytest.raises(ParameterError, match="confidence"):
        trends.trend(small, "daily_smoking", agreement, confidence=95)
    with pytest.raises(ParameterError, match="must be 0/1"):
        trends.trend(small.assign(daily_smoking=2.0), "daily_smoking", agreement)
    with pytest.raises(ParameterError, match="lacks column"):
        trends.trend(small.drop(columns="age"), "daily_smoking", agreement)
    with pytest.raises(ParameterError, match="Agreement"):
        trends.trend(small, "daily_smoking", "syddanmark-2024-2027")


def test_wave_changes_and_status_parameter_errors(hand_estimates, agreement):
    with pytest.raises(ParameterError, match="lacks column"):
        cube_changes.wave_changes(hand_estimates.drop(columns="se"), agreement)
    with pytest.raises(ParameterError, match="no indicator"):
        cube_changes.wave_changes(hand_estimates.assign(indicator="x"), agreement)
    changes = cube_changes.wave_changes(hand_estimates, agreement)
    with pytest.raises(ParameterError, match="alpha"):
        cube_changes.status(changes, agreement, alpha=5)
    with pytest.raises(ParameterError, match="lacks column"):
        cube_changes.status(changes.drop(columns="p_value"), agreement)
    with pytest.raises(ParameterError, match="numerator"):
        trends.trend(register_counts().assign(numerator=2000), "youth_education_mental", agreement)


def test_cube_trend_is_the_plain_trend_with_the_agreements_arguments(small, agreement):
    # The wrapper adds only the agreement's choices: kommune 461, comparable waves, baseline
    # 2021, projection year 2027, direction of daily_smoking, the population 16+.
    via_cube = only(trends.trend(small, "daily_smoking", agreement, level="kommune", area_code=461))
    plain = only(
        stats_trend.trend(
            small,
            "daily_smoking",
            baseline_year=2021,
            target_year=2027,
            direction="decrease",
            domain=small["kommune_code"] == 461,
            waves=agreement.comparable_waves("daily_smoking", "kommune"),
        )
    )
    for column in ("log_odds_slope", "log_odds_se", "projected", "prob_desired_side", "df"):
        assert via_cube[column] == plain[column], column
    assert via_cube["covid_flag"] and "COVID-19" in via_cube["note"]
