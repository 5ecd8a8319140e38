"""Tests of the survey-microdata measures of analyse.stats.inequality: sii_survey and gap_change.

Reference values come from R ``survey`` (Lumley) on a subset of WHO healthequal's individual-level
sample (tests/data/inequality/SOURCE.md); the rest are invariants, hand calculations and
agreement with the grouped-data functions of the same module (which are themselves checked
against PHEindicatormethods and healthequal in tests/test_inequality.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.errors import DataValidationError, ParameterError
from analyse.stats import inequality as ie
from analyse.stats import survey
from analyse.stats.disclosure import Rules
from inequality_respondents import exact_wave, hand_respondents

DATA = Path(__file__).parent / "data" / "inequality"
# Groups as small as the WHO subset's need a lower threshold than the publication rule.
OPEN_RULES = Rules(min_n=10, min_cases=0)
WHO_DESIGN = {"weight": "weight", "strata": "strata", "psu": "psu"}


@pytest.fixture(scope="module")
def who_sample() -> pd.DataFrame:
    sample = pd.read_csv(DATA / "who_individual_strata_1_12.csv")
    sample["area"] = np.where(sample["strata"] <= 6, "A", "B")
    return sample


# ---------------------------------------------------------------------------------------------
# sii_survey against R svyglm
# ---------------------------------------------------------------------------------------------
#
# R 4, survey (tests/data/inequality/SOURCE.md has the whole script):
#   ridit_of <- function(g, w) { tot <- tapply(w, g, sum); share <- tot / sum(tot)
#     mid <- cumsum(share) - share / 2; unname(mid[as.character(g)]) }
#   d$r <- ridit_of(d$subgroup_order, d$weight)        # (dtp3: among rows with dtp3 known;
#                                                      #  by area: within area)
#   des <- svydesign(ids = ~psu, strata = ~strata, weights = ~weight, data = d, nest = TRUE)
#   fit <- svyglm(sba ~ r, design = des, family = quasibinomial(),
#                 control = glm.control(epsilon = 1e-14, maxit = 100))
#   p <- predict(fit, newdata = data.frame(r = c(0, 1)), type = "response", vcov = TRUE)
#   svycontrast(p, c(-1, 1))                           # SII and se
#   svycontrast(p, quote(log(`2`) - log(`1`)))         # log RII and se
#   fit$df.residual
# By area: the same with design = subset(des, area == "A") (area = strata <= 6 ? "A" : "B").
# (R's default glm epsilon 1e-8 stops IRLS early enough to move the se in the 5th digit.)
R_SVYGLM = {
    # case: (p0, p1, sii, se, log_rii, log_rii_se, df)
    "sba": (
        0.460503897559536,
        0.933067643161561,
        0.472563745602025,
        0.0464356776640585,
        0.70615637951304,
        0.0925538902436575,
        332,
    ),
    "dtp3": (
        0.546988510155821,
        0.765427372510942,
        0.21843886235512,
        0.0738376380517605,
        0.336006537711151,
        0.1194523520572,
        273,
    ),
    "A": (
        0.446232629707977,
        0.953158465744702,
        0.506925836036725,
        0.0597405710391036,
        0.758940763468269,
        0.125717781565088,
        227,
    ),
    "B": (
        0.451706728153633,
        0.912654363090788,
        0.460947634937155,
        0.0714698607747138,
        0.7033240984494,
        0.142553298124345,
        104,
    ),
}


def _check_against_r(row: pd.Series, expected: tuple) -> None:
    p0, p1, sii, se, log_rii, log_rii_se, df = expected
    assert row["p0"] == pytest.approx(p0, rel=1e-8)
    assert row["p1"] == pytest.approx(p1, rel=1e-8)
    assert row["sii"] == pytest.approx(sii, rel=1e-8)
    assert row["se"] == pytest.approx(se, rel=1e-6)
    assert np.log(row["rii"]) == pytest.approx(log_rii, rel=1e-8)
    assert row["rii_log_se"] == pytest.approx(log_rii_se, rel=1e-6)
    assert row["df"] == df


@pytest.mark.parametrize("indicator", ["sba", "dtp3"])
def test_sii_survey_matches_r_svyglm(who_sample, indicator):
    result = ie.sii_survey(who_sample, indicator, "subgroup_order", **WHO_DESIGN, rules=OPEN_RULES)
    assert len(result) == 1
    _check_against_r(result.iloc[0], R_SVYGLM[indicator])
    assert result["reason"].iloc[0] == ""


def test_sii_survey_by_groups_are_domains_matching_r(who_sample):
    result = ie.sii_survey(
        who_sample, "sba", "subgroup_order", **WHO_DESIGN, by="area", rules=OPEN_RULES
    )
    assert result["area"].tolist() == ["A", "B"]
    for _, row in result.iterrows():
        _check_against_r(row, R_SVYGLM[row["area"]])


def test_sii_survey_interval_uses_t_with_model_df(who_sample):
    from scipy.stats import t

    row = ie.sii_survey(who_sample, "sba", "subgroup_order", **WHO_DESIGN, rules=OPEN_RULES).iloc[0]
    q = t.ppf(0.975, 332)
    assert row["ci_low"] == pytest.approx(row["sii"] - q * row["se"])
    assert row["ci_high"] == pytest.approx(row["sii"] + q * row["se"])
    assert row["rii_ci_low"] == pytest.approx(np.exp(np.log(row["rii"]) - q * row["rii_log_se"]))


# ---------------------------------------------------------------------------------------------
# Hand-made respondents
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def respondents() -> pd.DataFrame:
    return hand_respondents()


def test_sii_survey_equals_survey_logistic_contrast(respondents):
    """Rows as PSUs, strata per kommune x wave, by year: each cell equals a domain svyglm fit."""
    design = survey.Design(weight="weight", strata="stratum")
    result = ie.sii_survey(respondents, "daily_smoking", by=["year", "kommune_code"])
    assert len(result) == 4
    for _, row in result.iterrows():
        cell = (
            (respondents["year"] == row["year"])
            & (respondents["kommune_code"] == row["kommune_code"])
            & respondents["daily_smoking"].notna()
            & respondents["education"].notna()
        ).to_numpy()
        data = respondents.assign(r=np.nan)
        data.loc[cell, "r"] = ie.ridit(
            data.loc[cell, "education"], data.loc[cell, "weight"], order=ie.EDUCATION_LEVELS
        )
        fit = survey.logistic(data, "daily_smoking ~ r", design, domain=cell)
        contrast = fit.contrast("r", 1, 0).iloc[0]
        assert row["sii"] == pytest.approx(contrast["estimate"], rel=1e-8)
        assert row["se"] == pytest.approx(contrast["se"], rel=1e-7)
        assert row["df"] == fit.df
        assert row["n"] == cell.sum()


def test_sii_survey_reversed_order_flips_sign(respondents):
    kwargs = {"by": "year"}
    forward = ie.sii_survey(respondents, "daily_smoking", **kwargs)
    backward = ie.sii_survey(
        respondents, "daily_smoking", order=list(reversed(ie.EDUCATION_LEVELS)), **kwargs
    )
    np.testing.assert_allclose(backward["sii"], -forward["sii"], rtol=1e-9)
    np.testing.assert_allclose(backward["se"], forward["se"], rtol=1e-7)
    np.testing.assert_allclose(backward["rii"], 1 / forward["rii"], rtol=1e-9)
    np.testing.assert_allclose(backward["sii_linear"], -forward["sii_linear"], rtol=1e-9)


def test_sii_survey_no_gradient_gives_zero():
    flat = exact_wave(2021, [0.2] * 5)
    row = ie.sii_survey(flat, "y").iloc[0]
    assert row["sii"] == pytest.approx(0.0, abs=1e-12)
    assert row["rii"] == pytest.approx(1.0)
    assert row["sii_linear"] == pytest.approx(0.0, abs=1e-12)


def test_sii_survey_random_data_without_gradient_within_two_se():
    data = hand_respondents(seed=7, slope=0.0, waves=(2021,), kommuner=(461,), n=3000)
    for variable in ("daily_smoking", "loneliness", "severe_obesity"):
        row = ie.sii_survey(data, variable).iloc[0]
        assert abs(row["sii"]) < 2 * row["se"]


def test_sii_survey_linear_variant_equals_sii_grouped(respondents):
    wave = respondents[respondents["year"] == 2021]
    row = ie.sii_survey(wave, "daily_smoking").iloc[0]
    known = wave.dropna(subset=["daily_smoking", "education"])
    grouped = (
        known.assign(wy=known["weight"] * known["daily_smoking"])
        .groupby("education", observed=True)
        .agg(population=("weight", "sum"), cases=("wy", "sum"))
        .reset_index()
    )
    grouped["value"] = grouped["cases"] / grouped["population"]
    grouped["quantile"] = np.arange(1, 6)
    grouped["se"] = 0.1
    phe = ie.sii_grouped(
        grouped, "quantile", "population", "value", se="se", repetitions=1000
    ).iloc[0]
    assert row["sii_linear"] == pytest.approx(phe["sii"], rel=1e-10)
    assert row["rii_linear"] == pytest.approx(phe["rii"], rel=1e-10)


def test_sii_survey_direction_says_who_is_worse_off(respondents):
    # slope < 0: the least educated smoke more; smoking should decrease -> they are worse off
    row = ie.sii_survey(respondents, "daily_smoking", direction="decrease").iloc[0]
    assert row["sii"] < 0
    assert row["least_advantaged_worse_off"] is True or row["least_advantaged_worse_off"]
    row = ie.sii_survey(respondents, "daily_smoking", direction="increase").iloc[0]
    assert not row["least_advantaged_worse_off"]


# ---------------------------------------------------------------------------------------------
# Disclosure
# ---------------------------------------------------------------------------------------------


def test_sii_survey_small_group_is_not_computed():
    wave = exact_wave(2021, [0.5, 0.45, 0.4, 0.35, 0.3], per_group=40)
    # leave 19 respondents in the most advantaged group
    drop = wave.index[wave["education"] == ie.EDUCATION_LEVELS[-1]][19:]
    small = wave.drop(index=drop)
    row = ie.sii_survey(small, "y").iloc[0]
    assert np.isnan(row["sii"]) and np.isnan(row["se"]) and np.isnan(row["rii"])
    assert row["reason"] == "for få svar i en uddannelsesgruppe (færre end 20 svar)"
    assert row["n"] == 4 * 40 + 19
    # 20 respondents is enough
    ok = wave.drop(index=drop[1:])
    assert ie.sii_survey(ok, "y").iloc[0]["reason"] == ""


def test_sii_survey_few_cases_in_a_group_is_not_computed():
    wave = exact_wave(2021, [0.3, 0.25, 0.2, 0.15, 4 / 40], per_group=40)
    row = ie.sii_survey(wave, "y").iloc[0]
    assert np.isnan(row["sii"])
    assert row["reason"] == "for få svar i en uddannelsesgruppe (under 5 med/uden udfaldet)"
    lenient = ie.sii_survey(wave, "y", rules=Rules(min_n=20, min_cases=4)).iloc[0]
    assert lenient["reason"] == "" and np.isfinite(lenient["sii"])


# ---------------------------------------------------------------------------------------------
# gap_change
# ---------------------------------------------------------------------------------------------


def _two_waves(first: list[float], second: list[float]) -> pd.DataFrame:
    return pd.concat([exact_wave(2021, first), exact_wave(2025, second)], ignore_index=True)


def test_gap_change_no_gradient_is_unchanged():
    data = _two_waves([0.2] * 5, [0.2] * 5)
    row = ie.gap_change(data, "y").iloc[0]
    assert row["gap"] == "uændret"
    assert row["gap_trend"] == "uændret"
    assert row["sii_baseline"] == pytest.approx(0, abs=1e-12)


def test_gap_change_same_gradient_is_unchanged():
    gradient = [0.30, 0.26, 0.22, 0.18, 0.14]
    row = ie.gap_change(_two_waves(gradient, gradient), "y").iloc[0]
    assert row["gap"] == "uændret"
    assert row["abs_sii_change"] == pytest.approx(0, abs=1e-12)


def test_gap_change_widening_gap_is_larger():
    data = _two_waves([0.26, 0.24, 0.22, 0.20, 0.18], [0.45, 0.37, 0.29, 0.21, 0.13])
    row = ie.gap_change(data, "y", by="area", direction="decrease").iloc[0]
    assert row["area"] == "X"
    assert row["gap"] == "større"
    assert row["gap_trend"] == "større"
    assert row["sii_change"] < 0  # more negative: the least educated fare relatively worse
    assert row["least_advantaged_worse_off"]


def test_gap_change_narrowing_gap_is_smaller():
    data = _two_waves([0.45, 0.37, 0.29, 0.21, 0.13], [0.26, 0.24, 0.22, 0.20, 0.18])
    row = ie.gap_change(data, "y").iloc[0]
    assert row["gap"] == "mindre"
    assert row["gap_trend"] == "mindre"
    # a reversed gradient of the same size is the same gap: the rule is about |SII|
    flipped = _two_waves([0.13, 0.21, 0.29, 0.37, 0.45], [0.18, 0.20, 0.22, 0.24, 0.26])
    assert ie.gap_change(flipped, "y").iloc[0]["gap"] == "mindre"


def test_gap_change_uses_independent_wave_se(respondents):
    change = ie.gap_change(respondents, "daily_smoking", by="kommune_code")
    per_wave = ie.sii_survey(respondents, "daily_smoking", by=["kommune_code", "year"])
    for _, row in change.iterrows():
        waves = per_wave[per_wave["kommune_code"] == row["kommune_code"]].set_index("year")
        assert row["sii_baseline"] == pytest.approx(waves.loc[2021, "sii"])
        assert row["sii_latest"] == pytest.approx(waves.loc[2025, "sii"])
        se = np.hypot(waves.loc[2021, "se"], waves.loc[2025, "se"])
        assert row["sii_change_se"] == pytest.approx(se)
        assert row["sii_change"] == pytest.approx(waves.loc[2025, "sii"] - waves.loc[2021, "sii"])
        assert row["abs_sii_change_ci_high"] - row["abs_sii_change"] == pytest.approx(1.959964 * se)


def test_gap_change_interaction_equals_survey_logistic(respondents):
    """The rank x wave interaction equals an svyglm-equivalent fit with the ridit per wave."""
    data = respondents.assign(r=np.nan, t=(respondents["year"] - 2021).astype(float))
    cell = (data["kommune_code"] == 461).to_numpy()
    for wave in (2021, 2025):
        rows = cell & (data["year"] == wave).to_numpy()
        rows &= data["daily_smoking"].notna().to_numpy() & data["education"].notna().to_numpy()
        data.loc[rows, "r"] = ie.ridit(
            data.loc[rows, "education"], data.loc[rows, "weight"], order=ie.EDUCATION_LEVELS
        )
    fit = survey.logistic(
        data, "daily_smoking ~ r * t", survey.Design("weight", "stratum"), domain=cell
    )
    coef = fit.coefficients.set_index("term").loc["r:t"]
    change = ie.gap_change(respondents, "daily_smoking", by="kommune_code")
    row = change.set_index("kommune_code").loc[461]
    assert row["trend_interaction"] == pytest.approx(coef["estimate"], rel=1e-8)
    assert row["trend_interaction_se"] == pytest.approx(coef["se"], rel=1e-7)
    assert row["trend_interaction_p"] == pytest.approx(coef["p_value"], rel=1e-6)
    # with two waves, t = 0/1 gives the same test on a coefficient 4 times as large
    assert row["interaction"] == pytest.approx(4 * coef["estimate"], rel=1e-8)
    assert row["interaction_p"] == pytest.approx(coef["p_value"], rel=1e-6)


def test_gap_change_small_group_cannot_be_assessed():
    data = _two_waves([0.3, 0.25, 0.2, 0.15, 0.1], [0.3, 0.25, 0.2, 0.15, 0.1])
    drop = data.index[(data["year"] == 2025) & (data["education"] == "Lang videregående")][10:]
    row = ie.gap_change(data.drop(index=drop), "y").iloc[0]
    assert row["gap"] == "kan ikke vurderes"
    assert row["reason"].startswith("bølge 2025: for få svar i en uddannelsesgruppe")
    assert row["gap_trend"] == "kan ikke vurderes"


# ---------------------------------------------------------------------------------------------
# Inputs and parameter errors
# ---------------------------------------------------------------------------------------------


def test_survey_functions_do_not_mutate_inputs(respondents):
    before = respondents.copy(deep=True)
    ie.sii_survey(respondents, "daily_smoking", by="year")
    ie.gap_change(respondents, "daily_smoking", by="kommune_code")
    pd.testing.assert_frame_equal(respondents, before)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"indicator": "nope"}, ParameterError, "'nope'"),
        ({"level": 1.5}, ParameterError, "level"),
        ({"direction": "up"}, ParameterError, "direction"),
        ({"by": "daily_smoking"}, ParameterError, "cannot also be in by"),
        ({"order": ["a", "b"]}, DataValidationError, "not in the order"),
        ({"rules": {"min_n": 5}}, ParameterError, "Rules"),
        ({"strata": "missing_column"}, ParameterError, "missing_column"),
    ],
)
def test_sii_survey_parameter_errors(respondents, kwargs, error, text):
    arguments = {"indicator": "daily_smoking", **kwargs}
    with pytest.raises(error, match=text):
        ie.sii_survey(respondents, **arguments)


def test_sii_survey_rejects_non_binary_indicator(respondents):
    data = respondents.assign(daily_smoking=respondents["daily_smoking"] * 2)
    with pytest.raises(DataValidationError, match="1/0"):
        ie.sii_survey(data, "daily_smoking")


def test_sii_survey_needs_an_order_for_unknown_text_groups(respondents):
    data = respondents.assign(group=np.where(respondents["age"] > 50, "old", "young"))
    with pytest.raises(ParameterError, match="order"):
        ie.sii_survey(data, "daily_smoking", "group")
    result = ie.sii_survey(data, "daily_smoking", "group", order=["old", "young"])
    assert np.isfinite(result["sii"].iloc[0])


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"baseline": 2017}, "not among the comparable waves"),
        ({"baseline": 2025, "latest": 2021}, "must come before"),
        ({"by": "year"}, "cannot also be in by"),
        ({"year": "no_such_year"}, "no_such_year"),
    ],
)
def test_gap_change_parameter_errors(respondents, kwargs, text):
    with pytest.raises(ParameterError, match=text):
        ie.gap_change(respondents, "daily_smoking", **kwargs)


def _five_groups(cases_by_group: list[int], n_per_group: int = 40) -> pd.DataFrame:
    """Equal-weight respondents in the five education groups with given numbers of cases."""
    rows = []
    for group, cases in zip(ie.EDUCATION_LEVELS, cases_by_group, strict=True):
        for i in range(n_per_group):
            rows.append({"education": group, "y": float(i < cases)})
    data = pd.DataFrame(rows)
    data["education"] = pd.Categorical(
        data["education"], categories=ie.EDUCATION_LEVELS, ordered=True
    )
    return data.assign(weight=1.0, stratum="s", year=2021)


def test_sii_survey_min_cases_applies_to_the_compared_groups_only():
    # A middle group (kort videregående) with 2 of 40 cases: the SII is a fitted slope and does
    # not reveal that group's prevalence, so it is computed.
    middle = ie.sii_survey(_five_groups([20, 15, 2, 10, 8]), "y", rules=Rules())
    assert middle["reason"].iloc[0] == ""
    assert np.isfinite(middle["sii"].iloc[0])
    # The most advantaged group with 2 cases: D and R (and PAF) would reveal its prevalence.
    extreme = ie.sii_survey(_five_groups([20, 15, 12, 10, 2]), "y", rules=Rules())
    assert "under 5 med/uden udfaldet" in extreme["reason"].iloc[0]
    assert extreme["sii"].isna().all()
    # Fewer than 20 respondents in any group (also a middle one) still stops the measures.
    few = _five_groups([10, 8, 6, 5, 5], n_per_group=19)
    assert "færre end 20 svar" in ie.sii_survey(few, "y", rules=Rules())["reason"].iloc[0]
