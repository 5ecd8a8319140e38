"""Tests for analyse.stats.forecast: the pooled forecast with calibrated intervals.

Reference values from R 4.2.2 with metafor 3.8-1 (Debian r-cran-metafor 3.8-1-1), never from the
code under test; the R code and its output are in the comment above each value:

    library(metafor); options(digits = 15)
    # 1. one series
    year <- c(2010, 2013, 2017, 2021, 2025)
    p <- c(0.22, 0.17, 0.21, 0.15, 0.16); n <- 800
    yi <- qlogis(p); vi <- 1 / (n * p * (1 - p))
    fit <- rma(yi, vi, mods = ~ I(year - 2021), method = "DL")
    c(tau2 = fit$tau2, b0 = coef(fit)[[1]], b1 = coef(fit)[[2]], se0 = fit$se[1],
      se1 = fit$se[2], QE = fit$QE)
    #  tau2 0.0211102744507400  b0 -1.6027148666073388  b1 -0.0242228786681557
    #  se0  0.0953155729933704  se1 0.0143139173739046  QE 10.4702113281547202
    pr <- predict(fit, newmods = 2027 - 2021)
    #  pred -1.748052138616273  se 0.161598644218223
    #  pi.lb -2.173975340120891  pi.ub -1.322128937111654
    # 2. four areas: deviations from the wave mean, one intercept and slope per area
    d <- data.frame(area = rep(c("a", "b", "c", "d"), each = 4),
                    year = rep(c(2010, 2013, 2017, 2021), 4),
                    p = c(0.20, 0.18, 0.17, 0.15,  0.25, 0.27, 0.22, 0.23,
                          0.15, 0.12, 0.14, 0.10,  0.30, 0.26, 0.27, 0.22), n = 900)
    d$y <- qlogis(d$p); d$v <- 1 / (d$n * d$p * (1 - d$p)); N <- 4
    d$m <- ave(d$y, d$year); d$s2 <- ave(d$v, d$year, FUN = sum) / N^2
    d$dev <- d$y - d$m; d$vd <- d$v * (1 - 2 / N) + d$s2
    fit2 <- rma(dev, vd, mods = ~ 0 + factor(area) + factor(area):I(year - 2015),
                data = d, method = "DL")
    #  tau2 0.00480359647229317  QE 15.10469584092569484  df 8
    pr2 <- predict(fit2, newmods = cbind(diag(4), diag(4) * (2025 - 2015)))
    #  area pred               se                 pi.lb
    #  a    -0.160071074082864  0.133716237066726 -0.4552629183005076
    #  b     0.382806171400442  0.127332021410461  0.0986651953614976
    #  c    -0.552787962993851  0.142313997061642 -0.8630377577907670
    #  d     0.337432722083835  0.126997683416771  0.0538671264659423

The backtest tests use the published kommune series copied to
tests/data/danskernessundhed/ (see its SOURCE.md) through bench/backtest_projection.py, the
script whose figures the README reports.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from analyse.errors import ParameterError
from analyse.stats import forecast as fc

ROOT = Path(__file__).resolve().parent.parent


def _backtest_module():
    spec = importlib.util.spec_from_file_location(
        "backtest_projection", ROOT / "bench" / "backtest_projection.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["backtest_projection"] = module
    spec.loader.exec_module(module)
    return module


backtest = _backtest_module()

YEARS = np.array([2010, 2013, 2017, 2021, 2025.0])
P1 = np.array([0.22, 0.17, 0.21, 0.15, 0.16])
AREAS = pd.DataFrame(
    {
        "area": np.repeat(list("abcd"), 4),
        "year": np.tile([2010, 2013, 2017, 2021], 4),
        "estimate": [0.20, 0.18, 0.17, 0.15]
        + [0.25, 0.27, 0.22, 0.23]
        + [0.15, 0.12, 0.14, 0.10]
        + [0.30, 0.26, 0.27, 0.22],
        "n": 900,
    }
)
R_TAU2 = 0.00480359647229317
R_AREA = pd.DataFrame(
    {
        "pred": [-0.160071074082864, 0.382806171400442, -0.552787962993851, 0.337432722083835],
        "se": [0.133716237066726, 0.127332021410461, 0.142313997061642, 0.126997683416771],
        "pi_lb": [-0.4552629183005076, 0.0986651953614976, -0.8630377577907670, 0.0538671264659423],
    },
    index=list("abcd"),
)
Z975 = 1.959963984540054  # metafor's prediction interval uses the normal quantile


# ---------------------------------------------------------------------------------------------
# The between-wave variance and the area part of the interval against metafor


def test_dl_meta_regression_matches_metafor():
    vi = 1 / (800 * P1 * (1 - P1))
    fit = fc.dl_meta_regression(special.logit(P1), vi, YEARS - 2021)
    assert fit["tau2"] == pytest.approx(0.0211102744507400, rel=1e-9)
    assert fit["q"] == pytest.approx(10.4702113281547202, rel=1e-9)
    np.testing.assert_allclose(fit["beta"], [-1.6027148666073388, -0.0242228786681557], rtol=1e-9)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit["vcov"])), [0.0953155729933704, 0.0143139173739046], rtol=1e-9
    )
    x = np.array([1.0, 2027 - 2021])
    pred, se = x @ fit["beta"], np.sqrt(x @ fit["vcov"] @ x)
    assert pred == pytest.approx(-1.748052138616273, rel=1e-9)
    assert se == pytest.approx(0.161598644218223, rel=1e-9)
    half = Z975 * np.sqrt(se**2 + fit["tau2"])  # metafor's PI: z * sqrt(se^2 + tau2)
    assert pred - half == pytest.approx(-2.173975340120891, rel=1e-9)
    assert pred + half == pytest.approx(-1.322128937111654, rel=1e-9)


def test_pooled_tau2_and_area_interval_match_metafor():
    # forecast's tau2 is ONE DerSimonian-Laird estimate over all areas (the stacked model with
    # an intercept and slope per area); the area part of the variance is metafor's prediction
    # variance se^2 + tau2 of that model. A per-area tau2 or a missing tau2 fails here.
    out = fc.forecast(
        AREAS,
        se=None,
        n="n",
        baseline_year=2021,
        target_year=2025,
        method="trend",
        covid="ignore",
    ).set_index("area")
    assert out["tau2"].iloc[0] == pytest.approx(R_TAU2, rel=1e-8)
    assert (out["tau2"] == out["tau2"].iloc[0]).all()
    np.testing.assert_allclose(out["var_area"], R_AREA["se"] ** 2 + R_TAU2, rtol=1e-8)
    half = R_AREA["pred"] - R_AREA["pi_lb"]
    np.testing.assert_allclose(out["var_area"], (half / Z975) ** 2, rtol=1e-8)


def test_interval_adds_every_variance_component():
    # Fails if tau2 or the target wave's sampling error is left out of the interval, or if the
    # quantile is not t with the reported df.
    out = fc.forecast(
        AREAS, se=None, n="n", baseline_year=2021, target_year=2025, method="trend", covid="ignore"
    )
    assert (out["tau2"] > 0).all()
    np.testing.assert_allclose(
        out["se_logit"] ** 2, out["var_group"] + out["var_area"] + out["var_sampling"]
    )
    assert (out["var_area"] > out["tau2"]).all()
    # default target SE = the area's latest SE (a survey of the same size again), logit scale
    last = AREAS[AREAS["year"] == 2021].set_index("area")["estimate"]
    np.testing.assert_allclose(out.set_index("area")["var_sampling"], 1 / (900 * last * (1 - last)))
    q = stats.t.ppf(0.975, out["df"])
    width = special.logit(out["pi95_high"]) - special.logit(out["pi95_low"])
    np.testing.assert_allclose(width, 2 * q * out["se_logit"])
    assert (out["df"] < 1000).all()  # tau2 on 8 df: not a normal quantile
    # an explicit target SE replaces the default
    out2 = fc.forecast(
        AREAS,
        se=None,
        n="n",
        baseline_year=2021,
        target_year=2025,
        method="trend",
        covid="ignore",
        target_se=0.03,
    )
    p = out2["projected"]
    np.testing.assert_allclose(out2["var_sampling"], (0.03 / (p * (1 - p))) ** 2)


# ---------------------------------------------------------------------------------------------
# The group level (random walk with drift) against a hand calculation


def national(method: str) -> pd.Series:
    # One area with (almost) no sampling error: the group level is the series itself.
    logits = np.array([-1.0, -1.1, -1.3, -1.35, -1.5])
    frame = pd.DataFrame(
        {"area": "DK", "year": YEARS, "estimate": special.expit(logits), "se": 1e-6}
    )
    return fc.forecast(
        frame, method=method, covid_years=(), baseline_year=2021, target_year=2027
    ).iloc[0]


def test_random_walk_level_matches_hand_calculation():
    # Increments d = -0.1, -0.2, -0.05, -0.15 over gaps g = 3, 4, 4, 4 years. Without a drift
    # the REML variance per year is the mean of d^2/g over the k - 1 = 4 increments:
    # (0.01/3 + 0.04/4 + 0.0025/4 + 0.0225/4) / 4 = 0.0195833/4 = 0.00489583; the forecast
    # is the last value, -1.5, with variance sigma2 * h = 2 * 0.00489583 = 0.00979167, on
    # 4 degrees of freedom.
    row = national("level")
    assert special.logit(row["projected"]) == pytest.approx(-1.5, abs=1e-6)
    assert row["shock_var"] == pytest.approx(0.0195833333 / 4, rel=1e-4)
    assert row["var_group"] == pytest.approx(2 * 0.0195833333 / 4, rel=1e-4)
    assert row["df"] == pytest.approx(4, rel=1e-4)


def test_random_walk_drift_matches_hand_calculation():
    # With a drift: beta = sum d / sum g = -0.5/15 = -0.0333333; residuals d - beta g = 0,
    # -0.0666667, 0.0833333, -0.0166667; REML sigma2 = sum r^2/g / (k - 2) = 0.0029167/3 =
    # 0.000972222. Forecast -1.5 + 2 beta = -1.5666667 with variance
    # sigma2 h (1 + h/span) = 0.000972222 * 2 * (1 + 2/15) = 0.00220370 on 3 df.
    row = national("trend")
    assert special.logit(row["projected"]) == pytest.approx(-1.5666667, abs=1e-6)
    assert row["shock_var"] == pytest.approx(0.000972222, rel=1e-4)
    assert row["var_group"] == pytest.approx(0.00220370, rel=1e-4)
    assert row["df"] == pytest.approx(3, rel=1e-4)
    # Empirical-Bayes damping with one group: A = beta^2 - var(beta) and
    # psi = A / (A + var(beta)) = 1 - var(beta)/beta^2, var(beta) = sigma2/15 = 6.48148e-5,
    # so psi = 1 - 6.48148e-5/0.00111111 = 0.941667; forecast -1.5 + 2 psi beta = -1.5627778
    # with variance sigma2 h + h^2 psi var(beta) = 0.00194444 + 0.00024414 = 0.00218858.
    damped = national("damped")
    assert damped["trend_damping"] == pytest.approx(0.941667, rel=1e-4)
    assert special.logit(damped["projected"]) == pytest.approx(-1.5627778, abs=1e-6)
    assert damped["var_group"] == pytest.approx(0.00218858, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# The backtest on the published kommune series (bench/backtest_projection.py)


@pytest.fixture(scope="module")
def backtests():
    data = backtest.five_wave(backtest.load())
    return {h: backtest.run(data, *h, 1000, baselines=False) for h in backtest.HORIZONS}


def test_copied_series_is_the_documented_file():
    raw = pd.read_csv(backtest.DATA)
    assert len(raw) == 3822
    assert raw["kommune_kode"].nunique() == 98
    assert sorted(raw["aar"].unique()) == [2010, 2013, 2017, 2021, 2025]


def test_coverage_regression_guard(backtests):
    # Regression guard (issue 16), not the target: the former per-area projection held 72 %.
    o = backtests[((2010, 2013, 2017, 2021), 2025)]
    scores = backtest.metrics(o)
    assert scores["cov95"] >= 0.90
    assert scores["cov80"] >= 0.75
    assert scores["mae"] <= scores["mae_lvcf"]


def test_every_horizon_beats_lvcf_and_a_coin(backtests):
    for horizon, o in backtests.items():
        scores = backtest.metrics(o)
        assert scores["mae"] <= scores["mae_lvcf"], horizon
        assert scores["brier"] < 0.25, horizon


def test_probability_is_reliable(backtests):
    o = pd.concat(backtests.values())
    better = backtest.better(o)
    prob = o["prob_desired_side"]
    assert ((prob - better) ** 2).mean() < 0.25  # the constant 0.5 scores 0.25 (issue 16 target)
    # The former method: 49 % ended on the desired side where it said prob <= 0.2.
    assert better[prob <= 0.2].mean() <= 0.4
    assert better[prob >= 0.8].mean() >= 0.75
    table = backtest.reliability(o, bins=(0, 0.35, 0.5, 0.65, 1))
    assert table["observed"].is_monotonic_increasing
    assert (table["observed"] - table["mean_prob"]).abs().max() < 0.15


# ---------------------------------------------------------------------------------------------
# The plain-series API and its friction points


def test_plain_series_without_agreement():
    frame = pd.DataFrame({"area": "land", "year": YEARS, "estimate": P1, "se": 0.004})
    row = only(fc.forecast(frame, direction="decrease"))
    assert (
        0
        < row["pi95_low"]
        < row["pi80_low"]
        < row["projected"]
        < row["pi80_high"]
        < row["pi95_high"]
        < 1
    )
    assert row["method"] == fc.AUTO_METHOD == "level"
    assert 0 <= row["prob_desired_side"] <= 1
    assert row["baseline_estimate"] == pytest.approx(0.15)
    assert "Single area" in row["note"]
    assert "COVID-19 wave down-weighted" in row["note"]


def only(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1
    return frame.iloc[0]


def test_baseline_not_in_series_says_why_or_takes_an_explicit_baseline():
    without = AREAS[AREAS["year"] != 2021]
    out = fc.forecast(without, se=None, n="n", baseline_year=2021, target_year=2025)
    assert out["prob_desired_side"].isna().all()
    assert out["note"].str.contains("Baseline year 2021 is not among").all()
    explicit = fc.forecast(
        without,
        se=None,
        n="n",
        baseline_year=2021,
        target_year=2025,
        baseline_value=0.2,
        baseline_se=0.013,
    )
    assert explicit["prob_desired_side"].between(0, 1).all()
    assert explicit["baseline_estimate"].eq(0.2).all()
    # The baseline's own sampling error widens the probability's spread: a more precise
    # baseline moves the probability away from 1/2.
    precise = fc.forecast(
        without,
        se=None,
        n="n",
        baseline_year=2021,
        target_year=2025,
        baseline_value=0.2,
        baseline_se=0.001,
    )
    assert (
        (precise["prob_desired_side"] - 0.5).abs() > (explicit["prob_desired_side"] - 0.5).abs()
    ).all()


def test_probability_allows_for_the_baseline_error():
    out = fc.forecast(
        AREAS, se=None, n="n", baseline_year=2017, target_year=2025, method="trend", covid="ignore"
    )
    base = AREAS[AREAS["year"] == 2017].set_index("area")["estimate"]
    v_base = 1 / (900 * base * (1 - base))
    row = out.set_index("area")
    # decrease: P = F_t(-(yhat - logit p_B) / sqrt(V_group + V_area + v_B))
    z = -(special.logit(row["projected"]) - special.logit(base)) / np.sqrt(
        row["var_group"] + row["var_area"] + v_base
    )
    np.testing.assert_allclose(row["prob_desired_side"], stats.t.cdf(z, row["df"]), rtol=1e-10)


def test_n_absent_is_nan_not_zero():
    frame = AREAS.assign(se=np.sqrt(AREAS["estimate"] * (1 - AREAS["estimate"]) / 900))
    assert fc.forecast(frame.drop(columns="n"), target_year=2025)["n_last"].isna().all()
    assert (fc.forecast(frame, n="n", target_year=2025)["n_last"] == 900).all()


def test_two_waves_give_wide_honest_intervals():
    two = AREAS[AREAS["year"].isin([2017, 2021])]
    out = fc.forecast(two, se=None, n="n", target_year=2025)
    assert (out["method"] == "level").all()
    assert out["note"].str.contains("Only 2 waves").all()
    w95 = out["pi95_high"] - out["pi95_low"]
    w80 = out["pi80_high"] - out["pi80_low"]
    assert np.isfinite(w95).all() and (w95 > w80).all()


def test_area_column_keeps_its_name_and_groups_borrow_separately():
    frame = pd.concat([AREAS.assign(ind="x"), AREAS.assign(ind="y")]).rename(
        columns={"area": "kommune"}
    )
    out = fc.forecast(
        frame,
        area="kommune",
        se=None,
        n="n",
        group="ind",
        direction={"x": "decrease", "y": "increase"},
        target_year=2025,
    )
    assert list(out.columns[:2]) == ["ind", "kommune"]
    row = out.set_index(["ind", "kommune"])
    np.testing.assert_allclose(
        row.loc["x", "prob_desired_side"], 1 - row.loc["y", "prob_desired_side"], rtol=1e-12
    )


def test_inputs_are_not_modified():
    frame = AREAS.copy()
    fc.forecast(frame, se=None, n="n", target_year=2025)
    pd.testing.assert_frame_equal(frame, AREAS)


def test_parameter_errors():
    s = AREAS.assign(ind="x")
    with pytest.raises(ParameterError, match="no entry for group"):
        fc.forecast(s, se=None, n="n", group="ind", direction={"y": "increase"}, target_year=2025)
    with pytest.raises(ParameterError, match="'estimate' must be a proportion"):
        fc.forecast(
            AREAS.assign(estimate=AREAS["estimate"] * 100), se=None, n="n", target_year=2025
        )
    with pytest.raises(ParameterError, match="no se column 'se'"):
        fc.forecast(AREAS, target_year=2025)
    with pytest.raises(ParameterError, match="duplicate rows"):
        fc.forecast(pd.concat([AREAS, AREAS]), se=None, n="n", target_year=2025)
    with pytest.raises(ParameterError, match="must be after the last wave"):
        fc.forecast(AREAS, se=None, n="n", target_year=2021)
    with pytest.raises(ParameterError, match="method must be"):
        fc.forecast(AREAS, se=None, n="n", target_year=2025, method="linear")
    with pytest.raises(ParameterError, match="covid must be"):
        fc.forecast(AREAS, se=None, n="n", target_year=2025, covid="skip")
    with pytest.raises(ParameterError, match="levels"):
        fc.forecast(AREAS, se=None, n="n", target_year=2025, levels=(95,))
