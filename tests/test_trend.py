"""Tests for analyse.stats.trend and analyse.stats.series: the models on plain data.

No agreement is loaded here: waves, baseline, target year and direction are arguments. R-derived
values were produced with R 4 and survey 4.1.1 (numDeriv for numerical gradients); the exact R
code is in the comment above each value. Shared R setup:

    library(survey); library(numDeriv); options(digits = 15)
    d <- read.csv("tests/data/trend/small_design.csv")
    des <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, data = d)
    fit <- svyglm(y ~ year + sex + age_group, des, family = quasibinomial())

Tests never call R; the data file and its origin are described in tests/data/trend/SOURCE.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from analyse.errors import ParameterError
from analyse.stats import forecast, series, survey, trend

DATA = Path(__file__).parent / "data" / "trend"
RTOL = 1e-6
# Representative exact ages of the test file's age groups (the population filter needs `age`).
AGES = {"16-24": 20, "25-44": 35, "45-64": 55, "65+": 70}
# What an agreement would otherwise supply: the baseline, the projection year, the direction.
PLAIN = {"baseline_year": 2021, "target_year": 2027, "direction": "decrease"}


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """The small stratified design, with `y` as the daily_smoking column."""
    data = pd.read_csv(DATA / "small_design.csv").rename(columns={"y": "daily_smoking"})
    data["age"] = data["age_group"].map(AGES)
    return data


def only(frame: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in keys.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, f"{mask.sum()} rows match {keys}"
    return frame.loc[mask].iloc[0]


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


def wave_estimates(data: pd.DataFrame) -> pd.DataFrame:
    return survey.proportion(data, "daily_smoking", trend.DEFAULT_DESIGN, by="year")


# ---------------------------------------------------------------------------------------------
# trend on respondents: agreement with R svyglm


def test_trend_matches_r_svyglm(small):
    result = only(trend.trend(small, "daily_smoking", **PLAIN))
    # R: cbind(coef(fit), SE(fit))["year", ]; fit$df.residual
    assert result["log_odds_slope"] == pytest.approx(-0.0441865893272593, rel=RTOL)
    assert result["log_odds_se"] == pytest.approx(0.0222501077547699, rel=RTOL)
    assert result["df"] == 494
    assert result["odds_ratio"] == pytest.approx(np.exp(-0.0441865893272593), rel=RTOL)
    assert result["waves"] == "2013,2017,2021,2025"
    assert result["formula"] == "daily_smoking ~ year + C(sex) + C(age_group)"


def test_trend_average_marginal_effect_matches_r(small):
    result = only(trend.trend(small, "daily_smoking", **PLAIN))
    # R: X <- model.matrix(fit); w <- weights(des)
    #    ame <- function(b) sum(w * plogis(X %*% b) * (1 - plogis(X %*% b))) * b["year"] / sum(w)
    #    g <- grad(ame, coef(fit)); c(ame(coef(fit)), sqrt(t(g) %*% vcov(fit) %*% g))
    assert result["annual_change_pp"] == pytest.approx(100 * -0.00990622550579441, rel=RTOL)
    assert result["annual_change_se_pp"] == pytest.approx(100 * 0.00489526632804835, rel=1e-5)


def test_trend_linearity_test_matches_r_regtermtest(small):
    result = only(trend.trend(small, "daily_smoking", **PLAIN))
    # R: d$d2017 <- as.numeric(d$year == 2017); d$d2021 <- as.numeric(d$year == 2021)
    #    des2 <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, data = d)
    #    fit2 <- svyglm(y ~ year + sex + age_group + d2017 + d2021, des2, family = quasibinomial())
    #    tt <- regTermTest(fit2, ~ d2017 + d2021, method = "Wald"); c(tt$Ftest, tt$df, tt$ddf, tt$p)
    assert result["nonlinearity_stat"] == pytest.approx(3.2957658141617419, rel=RTOL)
    assert result["nonlinearity_df1"] == 2
    assert result["nonlinearity_df2"] == 492
    assert result["nonlinearity_p_value"] == pytest.approx(0.0378591093704165, rel=RTOL)
    assert result["nonlinearity_test"] == "design-wald-F"


def test_projection_margin_matches_r(small):
    result = only(trend.projection(small, "daily_smoking", **PLAIN))
    # R: X25 <- X[d$year == 2025, ]; X25[, "year"] <- 2027; w25 <- w[d$year == 2025]
    #    pm <- function(b) sum(w25 * plogis(X25 %*% b)) / sum(w25)
    #    g2 <- grad(pm, coef(fit)); c(pm(coef(fit)), sqrt(t(g2) %*% vcov(fit) %*% g2))
    p = result["projected"]
    assert p == pytest.approx(0.2839422521943363, rel=RTOL)
    assert result["trend_se_logit"] * p * (1 - p) == pytest.approx(0.0408996399533852, rel=1e-5)
    # R: svyby(~y, ~year, des, svymean)["2021", "y"]
    assert result["baseline_estimate"] == pytest.approx(0.319050745472398, rel=RTOL)
    assert result["projection_year"] == 2027
    # The prediction interval includes the trend uncertainty and contains the projection.
    assert result["projected_pi_low"] < p < result["projected_pi_high"]


def test_trend_domain_matches_r_subset(small):
    # Kommune 461, waves from 2017: a domain of the whole design.
    result = only(
        trend.trend(
            small,
            "daily_smoking",
            domain=small["kommune_code"] == 461,
            waves=[2017, 2021, 2025],
            **PLAIN,
        )
    )
    # R: fit3 <- svyglm(y ~ year + sex + age_group,
    #                   subset(des, kommune_code == 461 & year >= 2017), family = quasibinomial())
    #    cbind(coef(fit3), SE(fit3))["year", ]; fit3$df.residual
    assert result["log_odds_slope"] == pytest.approx(-0.130984485792024, rel=RTOL)
    assert result["log_odds_se"] == pytest.approx(0.0639624368610867, rel=RTOL)
    assert result["df"] == 112
    assert result["waves"] == "2017,2021,2025"


def test_trend_recovers_known_log_odds_slope():
    result = only(trend.trend(simulated(-0.05), "daily_smoking", **PLAIN))
    # The simulated model is the fitted one: the slope lies within 2 SE of the truth.
    assert abs(result["log_odds_slope"] - -0.05) < 2 * result["log_odds_se"]
    assert result["or_ci_low"] < np.exp(-0.05) < result["or_ci_high"]
    assert result["annual_change_pp"] < 0
    # A straight line on the logit scale: no evidence of departure from linearity.
    assert result["nonlinearity_p_value"] > 0.05


def test_trend_without_variation_gives_a_note_not_an_error():
    # Nobody in the domain has the outcome: no logistic fit exists (the MLE is at −∞), so the
    # model is left out with a Danish note instead of failing the whole cube.
    data = simulated(-0.05).assign(daily_smoking=0.0)
    result = only(trend.trend(data, "daily_smoking", **PLAIN))
    assert result["fit_note"] == trend.NO_VARIATION_NOTE
    assert pd.isna(result.get("projected")) and pd.isna(result.get("log_odds_slope"))


def test_trend_by_group_drops_the_by_variable():
    result = trend.trend(simulated(-0.05), "daily_smoking", by="sex", **PLAIN)
    assert list(result["group"]) == ["Kvinder", "Mænd"]
    assert (result["breakdown"] == "sex").all()
    assert result["formula"].iloc[0] == "daily_smoking ~ year + C(age_group)"


def test_projection_two_waves_is_flagged(small):
    two = small[small["year"].isin([2021, 2025])]
    result = only(trend.projection(two, "daily_smoking", **PLAIN))
    assert result["n_waves"] == 2
    assert "kun på to målinger (2021 og 2025)" in result["projection_note"]
    # Between-wave variation cannot be estimated from two waves.
    assert result["between_wave_sd_logit"] == 0


def test_projection_probability_of_desired_side(small):
    result = only(trend.projection(small, "daily_smoking", **PLAIN))
    # daily_smoking should fall; the projection lies below the 2021 value, so P > 0.5; it is
    # the normal probability on the logit scale with the interval's total SE.
    total_se = np.hypot(result["trend_se_logit"], result["between_wave_sd_logit"])
    z = (special.logit(result["baseline_estimate"]) - special.logit(result["projected"])) / total_se
    assert result["prob_desired_side"] == pytest.approx(special.ndtr(z), rel=1e-12)
    assert result["prob_desired_side"] > 0.5


def test_trend_aggregated_two_waves_equals_microdata(small):
    two = small[small["year"].isin([2021, 2025])].reset_index(drop=True)
    aggregated = only(series.trend_series(wave_estimates(two), **PLAIN))
    microdata = only(trend.trend(two, "daily_smoking", covariates=(), **PLAIN))
    # With two waves y ~ year is saturated: its slope is logit(p2) - logit(p1) and its sandwich
    # variance is the delta-method variance of that difference, which is what the WLS on the
    # wave estimates gives. Equal to rounding. (The projections differ by design: the series'
    # is the pooled forecast of analyse.stats.forecast, tested in test_forecast.py.)
    for column in ("log_odds_slope", "log_odds_se"):
        assert aggregated[column] == pytest.approx(microdata[column], rel=1e-8), column
    assert aggregated["input"] == "estimates"
    assert aggregated["method"] == "wls-logit"


def test_trend_aggregated_four_waves_close_to_microdata(small):
    aggregated = only(series.trend_series(wave_estimates(small), **PLAIN))
    microdata = only(trend.trend(small, "daily_smoking", covariates=(), **PLAIN))
    # With more waves than parameters the two estimators differ at order 1/n: minimum logit
    # chi-square versus pseudo-ML, and model-based versus sandwich variance where the line
    # does not fit perfectly (this data has a departure at 2017). Tolerance: the slopes within
    # a tenth of their SE, SEs within 5 %.
    se = microdata["log_odds_se"]
    assert abs(aggregated["log_odds_slope"] - microdata["log_odds_slope"]) < 0.1 * se
    assert aggregated["log_odds_se"] == pytest.approx(se, rel=0.05)


def test_chi2_trend_matches_hand_calculation():
    # r = 20, 25, 30, 38, 45 of n = 100 each, scores t = 1..5: R = 158, N = 500,
    # Σrt = 537, Σnt = 1500, Σnt² = 5500.
    # N Σrt - R Σnt = 268500 - 237000 = 31500
    # X² = 500 · 31500² / (158 · 342 · (500 · 5500 - 1500²)) = 496125000000 / 27018000000
    #    = 18.36276...
    # R: prop.trend.test(c(20, 25, 30, 38, 45), rep(100, 5))$statistic  # 18.3627581612258
    statistic, p_value = series.chi2_trend([20, 25, 30, 38, 45], [100] * 5)
    assert statistic == pytest.approx(496125000000 / 27018000000, rel=1e-12)
    assert statistic == pytest.approx(18.3627581612258, rel=1e-12)
    assert 0 < p_value < 0.001


def test_chi2_trend_matches_r_prop_trend_test():
    # R: r <- prop.trend.test(c(410, 430, 445, 470, 480), c(1000, 1010, 995, 1005, 990))
    #    c(r$statistic, r$p.value)
    statistic, p_value = series.chi2_trend([410, 430, 445, 470, 480], [1000, 1010, 995, 1005, 990])
    assert statistic == pytest.approx(14.8225212367793, rel=1e-10)
    assert p_value == pytest.approx(1.18116494779939e-04, rel=1e-8)


def test_annual_percent_change_exact_log_linear_series():
    # p_t = 0.2 · 1.05^(t - 2019) is exactly log-linear: the APC is 5 % whatever the weights.
    years = np.arange(2019, 2024)
    denominator = np.full(5, 10_000.0)
    numerator = denominator * 0.2 * 1.05 ** (years - 2019)
    result = series.annual_percent_change(years, numerator, denominator)
    assert result["apc"] == pytest.approx(5.0, rel=1e-10)
    assert result["apc_ci_low"] < 5.0 < result["apc_ci_high"]


def test_trend_single_age_group_population_uses_exact_age(small):
    young = trend.population_mask(small, age_min=16, age_max=24)
    result = only(trend.trend(small, "daily_smoking", population=young, **PLAIN))
    # One age group in the population, so exact age replaces age_group.
    assert result["formula"] == "daily_smoking ~ year + C(sex) + age"
    assert result["n"] == (small["age_group"] == "16-24").sum()


def test_trend_one_sex_population_drops_sex(small):
    women = trend.population_mask(small, sex="Kvinder")
    result = only(trend.trend(small, "daily_smoking", population=women, **PLAIN))
    assert result["formula"] == "daily_smoking ~ year + C(age_group)"


# ---------------------------------------------------------------------------------------------
# A plain series, no agreement (issue: project a tidy series and compute without a catalogue)


def plain_series() -> pd.DataFrame:
    # Two areas, four waves each; area A on a straight logit line.
    years = np.array([2013, 2017, 2021, 2025])
    line = special.expit(special.logit(0.2) - 0.05 * (years - 2021))
    return pd.DataFrame(
        {
            "area": ["A"] * 4 + ["B"] * 4,
            "year": np.tile(years, 2),
            "estimate": np.concatenate([line, [0.30, 0.28, 0.31, 0.27]]),
            "se": 0.01,
        }
    )


def test_projection_of_a_plain_tidy_series_needs_no_agreement():
    frame = plain_series()
    result = series.projection(frame, keys=["area"], **PLAIN).set_index("area")
    # The projection is the pooled forecast of the two areas (no catalogue ids needed).
    pooled = forecast.forecast(
        frame, direction="decrease", baseline_year=2021, target_year=2027, levels=(0.8, 0.95)
    ).set_index("area")
    for column, expected in (
        ("projected", "projected"),
        ("projected_pi_low", "pi95_low"),
        ("projected_pi_high", "pi95_high"),
        ("projected_pi80_low", "pi80_low"),
        ("prob_desired_side", "prob_desired_side"),
        ("forecast_df", "df"),
    ):
        np.testing.assert_allclose(result[column], pooled[expected], rtol=1e-12, err_msg=column)
    assert result.loc["A", "baseline_estimate"] == pytest.approx(0.2)
    assert (result["projected_pi_low"] < result["projected_pi80_low"]).all()
    assert (result["projected_pi80_high"] < result["projected_pi_high"]).all()
    assert list(result.columns[:2]) == ["input", "waves"]
    # The fit and the linearity test travel with the projection (issue 16).
    for column in ("fit_note", "nonlinearity_test", "nonlinearity_p_value", "forecast_note"):
        assert column in result.columns
    assert (result["nonlinearity_test"] == "residual-Q-chisq").all()
    # No `n` column: the count is missing, not zero.
    assert np.isnan(series.trend_series(frame, keys=["area"], **PLAIN)["n"]).all()


def test_projection_says_why_the_probability_is_missing():
    frame = plain_series()
    without = frame[frame["year"] != 2021]
    result = series.projection(without, keys=["area"], **PLAIN).set_index("area")
    assert result["projected"].notna().all()
    assert result["prob_desired_side"].isna().all()
    assert result["probability_note"].str.contains("ingen måling i basisåret 2021").all()
    # An explicit baseline (value and SE) gives the probability back.
    explicit = series.projection(
        without, keys=["area"], baseline_value=0.2, baseline_se=0.01, **PLAIN
    ).set_index("area")
    assert explicit["prob_desired_side"].between(0, 1).all()
    assert (explicit["probability_note"] == "").all()
    assert explicit["baseline_estimate"].eq(0.2).all()


def test_trend_series_direction_and_baseline_from_columns():
    frame = pd.DataFrame(
        {
            "area": ["A", "A", "B", "B"],
            "year": [2021, 2025, 2021, 2025],
            "estimate": [0.2, 0.25, 0.2, 0.25],
            "se": 0.01,
            "wanted": ["increase", "increase", "decrease", "decrease"],
            "base": 2021,
        }
    )
    result = series.trend_series(
        frame, keys=["area"], baseline_year="base", target_year=2027, direction="wanted"
    ).set_index("area")
    assert result.loc["A", "prob_desired_side"] == pytest.approx(
        1 - result.loc["B", "prob_desired_side"], rel=1e-12
    )
    with pytest.raises(ParameterError, match="direction"):
        series.trend_series(frame, baseline_year=2021, target_year=2027, direction="down")


# ---------------------------------------------------------------------------------------------
# wave_changes and status on plain estimates


def plain_estimates(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["area", "year", "estimate", "se", "suppressed"])


def test_wave_changes_plain_hand_calculation():
    estimates = plain_estimates(
        [("A", 2017, 0.15, 0.005, False), ("A", 2021, 0.13, 0.004, False),
         ("A", 2025, 0.10, 0.004, False)]
    )  # fmt: skip
    changes = trend.wave_changes(estimates, baseline=2021, keys=["area"])
    row = only(changes, comparison="baseline")
    # 2025 - 2021 = -3 pp; se = sqrt(0.004² + 0.004²) = 0.56569 pp; 95 % CI = -3 ± 1.959964 ·
    # 0.56569 = (-4.1087, -1.8913).
    assert row["change_pp"] == pytest.approx(-3.0)
    assert row["ci_low_pp"] == pytest.approx(-4.108717, rel=1e-5)
    consecutive = changes[changes["comparison"] == "consecutive"]
    pairs = set(zip(consecutive["year_from"], consecutive["year_to"], strict=True))
    assert pairs == {(2017, 2021), (2021, 2025)}
    judged = only(trend.status(changes, direction="decrease", keys=["area"]))
    assert judged["status"] == "bedre"
    assert judged["direction"] == "decrease"


def test_status_plain_rejects_unknown_direction():
    estimates = plain_estimates([("A", 2021, 0.1, 0.01, False), ("A", 2025, 0.2, 0.01, False)])
    changes = trend.wave_changes(estimates, baseline=2021, keys=["area"])
    with pytest.raises(ParameterError, match="direction"):
        trend.status(changes, direction="up", keys=["area"])
