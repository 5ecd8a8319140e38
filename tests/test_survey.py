"""Tests for analyse.stats.survey against R's survey package (reference values as literals).

Every R-derived value was produced with R 4.x and survey 4.1.1; the exact R code is in the comment
above it. Shared R setup (run once before the snippets):

    library(survey); data(api); options(digits = 15)
    dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
    dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)

Tests never call R; the data are copies in tests/data/ (see SOURCE.md there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import special, stats

from analyse.errors import ParameterError
from analyse.stats import survey

DATA = Path(__file__).parent / "data"
# DESIGN.md section 4: estimates and SEs equal R to 1e-6 relative. The linear estimators agree to
# rounding, so they are held to a tighter tolerance; IRLS fits to R's glm convergence.
EXACT = 1e-9
RTOL = 1e-6

STRAT = survey.Design(weight="pw", strata="stype", fpc="fpc")
CLUS1 = survey.Design(weight="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "api" / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(DATA / "api" / "apiclus1.csv")


@pytest.fixture(scope="module")
def apiclus1_na(apiclus1) -> pd.DataFrame:
    # R: apiclus1na <- apiclus1; apiclus1na$api00[c(1, 5, 10, 20, 50)] <- NA
    #    dclus1na <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1na, fpc = ~fpc)
    data = apiclus1.copy()
    data.loc[[0, 4, 9, 19, 49], "api00"] = np.nan
    return data


@pytest.fixture(scope="module")
def strat_fit(apistrat) -> survey.LogisticFit:
    return survey.logistic(apistrat, "I(api00 > 700) ~ ell + meals + stype", STRAT)


def row(frame: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in keys.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1
    return frame.loc[mask].iloc[0]


# ---------------------------------------------------------------------------------------------
# The four reference values named in the task


def test_mean_matches_r_stratified_with_fpc(apistrat):
    # R: m <- svymean(~api00, dstrat); c(coef(m), SE(m))
    result = survey.mean(apistrat, "api00", STRAT)
    assert result["estimate"].iloc[0] == pytest.approx(662.28736315932076, rel=EXACT)
    assert result["se"].iloc[0] == pytest.approx(9.40894080278458, rel=EXACT)
    # R: degf(dstrat)
    assert result["df"].iloc[0] == 197
    assert result["n"].iloc[0] == 200
    assert result["method"].iloc[0] == "taylor-ratio"


def test_total_matches_r_stratified_with_fpc(apistrat):
    # R: m <- svytotal(~enroll, dstrat); c(coef(m), SE(m))
    result = survey.total(apistrat, "enroll", STRAT)
    assert result["estimate"].iloc[0] == pytest.approx(3687177.53243828, rel=EXACT)
    assert result["se"].iloc[0] == pytest.approx(114641.71610078, rel=EXACT)


def test_mean_matches_r_one_stage_cluster(apiclus1):
    # R: m <- svymean(~api00, dclus1); c(coef(m), SE(m))
    result = survey.mean(apiclus1, "api00", CLUS1)
    assert result["estimate"].iloc[0] == pytest.approx(644.169398907104, rel=EXACT)
    assert result["se"].iloc[0] == pytest.approx(23.542240693781, rel=EXACT)
    # R: degf(dclus1)
    assert result["df"].iloc[0] == 14


def test_total_matches_r_one_stage_cluster(apiclus1):
    # R: m <- svytotal(~enroll, dclus1); c(coef(m), SE(m))
    result = survey.total(apiclus1, "enroll", CLUS1)
    assert result["estimate"].iloc[0] == pytest.approx(3404940.134529114, rel=EXACT)
    assert result["se"].iloc[0] == pytest.approx(932235.027041215, rel=EXACT)


# ---------------------------------------------------------------------------------------------
# Intervals, domains and missing outcomes


def test_mean_ci_uses_t_with_design_df(apistrat):
    # R: confint(svymean(~api00, dstrat), df = degf(dstrat))
    result = survey.mean(apistrat, "api00", STRAT)
    assert result["ci_low"].iloc[0] == pytest.approx(643.732188272086, rel=EXACT)
    assert result["ci_high"].iloc[0] == pytest.approx(680.842538046555, rel=EXACT)


def test_mean_by_matches_svyby(apistrat):
    # R: b <- svyby(~api00, ~stype, dstrat, svymean); coef(b); SE(b)
    result = survey.mean(apistrat, "api00", STRAT, by="stype")
    assert list(result["stype"]) == ["E", "H", "M"]
    np.testing.assert_allclose(result["estimate"], [674.43, 625.82, 636.60], rtol=EXACT)
    np.testing.assert_allclose(
        result["se"], [12.3824797939073, 14.9371291853931, 16.2147073081845], rtol=EXACT
    )
    assert list(result["n"]) == [100, 50, 50]
    assert (result["df"] == 197).all()


def test_mean_by_follows_categorical_level_order(apistrat):
    # svyby orders groups by factor level; unused levels give no row.
    data = apistrat.assign(
        school=pd.Categorical(apistrat["stype"], categories=["M", "H", "E", "Other"])
    )
    result = survey.mean(data, "api00", STRAT, by="school")
    assert list(result["school"]) == ["M", "H", "E"]
    np.testing.assert_allclose(result["estimate"], [636.60, 625.82, 674.43], rtol=EXACT)


def test_mean_by_cluster_matches_svyby(apiclus1):
    # R: b <- svyby(~api00, ~stype, dclus1, svymean); coef(b); SE(b)
    result = survey.mean(apiclus1, "api00", CLUS1, by="stype")
    np.testing.assert_allclose(
        result["estimate"], [648.868055555556, 618.571428571429, 631.44], rtol=EXACT
    )
    np.testing.assert_allclose(
        result["se"], [22.3624088938319, 38.0202493594075, 31.6094652272455], rtol=EXACT
    )


def test_total_by_matches_svyby(apiclus1):
    # R: b <- svyby(~enroll, ~stype, dclus1, svytotal); coef(b); SE(b)
    result = survey.total(apiclus1, "enroll", CLUS1, by="stype")
    np.testing.assert_allclose(
        result["estimate"], [2109717.126834869, 535594.869567871, 759628.138126373], rtol=EXACT
    )
    np.testing.assert_allclose(
        result["se"], [631349.386275110, 226716.594706410, 213635.484268131], rtol=EXACT
    )


def test_mean_missing_outcome_dropped_as_domain(apiclus1_na):
    # R: m <- svymean(~api00, dclus1na, na.rm = TRUE); c(coef(m), SE(m))
    result = survey.mean(apiclus1_na, "api00", CLUS1)
    assert result["estimate"].iloc[0] == pytest.approx(644.0224719101124, rel=EXACT)
    assert result["se"].iloc[0] == pytest.approx(24.1312078771199, rel=EXACT)
    assert result["n"].iloc[0] == 183 - 5
    # the design keeps every PSU: df is that of the whole design
    assert result["df"].iloc[0] == 14


def test_mean_by_missing_outcome_matches_svyby_na_rm(apiclus1_na):
    # R: b <- svyby(~api00, ~stype, dclus1na, svymean, na.rm = TRUE); coef(b); SE(b)
    result = survey.mean(apiclus1_na, "api00", CLUS1, by="stype")
    np.testing.assert_allclose(
        result["estimate"], [648.666666666667, 619.384615384615, 630.083333333333], rtol=EXACT
    )
    np.testing.assert_allclose(
        result["se"], [22.7716058347126, 40.8647770528538, 32.8202515443884], rtol=EXACT
    )


def test_mean_missing_outcome_is_a_domain_in_a_design_of_single_row_psus(apistrat):
    # Each school its own PSU in strata (as each respondent in Sundhedsprofilen): rows with a
    # missing outcome still count in n_h, the number of PSUs per stratum. A new design on the
    # complete rows would give another SE (R: 9.49030829641809 for the mean), so this catches
    # dropping the rows instead of keeping them as a domain.
    # R: apistratna <- apistrat; apistratna$api00[c(1, 5, 10, 20, 50)] <- NA
    #    dstratna <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistratna,
    #                          fpc = ~fpc)
    #    m <- svymean(~api00, dstratna, na.rm = TRUE); c(coef(m), SE(m))
    #    b <- svyby(~api00, ~awards, dstratna, svymean, na.rm = TRUE); coef(b); SE(b)
    data = apistrat.copy()
    data.loc[[0, 4, 9, 19, 49], "api00"] = np.nan
    result = survey.mean(data, "api00", STRAT).iloc[0]
    assert result["estimate"] == pytest.approx(659.744410656093, rel=EXACT)
    assert result["se"] == pytest.approx(9.48515370263878, rel=EXACT)
    assert result["n"] == 195
    by_awards = survey.mean(data, "api00", STRAT, by="awards")
    np.testing.assert_allclose(
        by_awards["estimate"], [628.763776115182, 677.142517224701], rtol=EXACT
    )
    np.testing.assert_allclose(by_awards["se"], [15.4581177498105, 11.8959370238288], rtol=EXACT)


# ---------------------------------------------------------------------------------------------
# Proportions with logit intervals


def test_proportion_matches_svyciprop_logit(apistrat):
    data = apistrat.assign(high=(apistrat["api00"] > 700).astype(int))
    # R: ci <- svyciprop(~I(api00 > 700), dstrat, method = "logit", df = degf(dstrat))
    #    c(coef(ci), SE(ci), attr(ci, "ci"))
    result = survey.proportion(data, "high", STRAT).iloc[0]
    assert result["estimate"] == pytest.approx(0.4043396816110399, rel=RTOL)
    assert result["se"] == pytest.approx(0.0374753900501934, rel=EXACT)
    assert result["ci_low"] == pytest.approx(0.3330850275256668, rel=RTOL)
    assert result["ci_high"] == pytest.approx(0.4798694546087890, rel=RTOL)
    assert result["method"] == "taylor-logit"


def test_proportion_domain_matches_svyciprop_on_subset(apistrat):
    data = apistrat.assign(high=(apistrat["api00"] > 700).astype(int))
    # R: ci <- svyciprop(~I(api00 > 700), subset(dstrat, stype == "H"), method = "logit",
    #                    df = degf(dstrat)); c(coef(ci), SE(ci), attr(ci, "ci"))
    result = row(survey.proportion(data, "high", STRAT, by="stype"), stype="H")
    assert result["estimate"] == pytest.approx(0.3, rel=RTOL)
    assert result["se"] == pytest.approx(0.0632605101748912, rel=EXACT)
    assert result["ci_low"] == pytest.approx(0.1913335979172233, rel=RTOL)
    assert result["ci_high"] == pytest.approx(0.4370292029735265, rel=RTOL)


def test_proportion_cluster_matches_svyciprop(apiclus1):
    data = apiclus1.assign(yes=apiclus1["sch.wide"] == "Yes")  # booleans are accepted
    # R: ci <- svyciprop(~I(sch.wide == "Yes"), dclus1, method = "logit", df = degf(dclus1))
    #    c(coef(ci), SE(ci), attr(ci, "ci"))
    result = survey.proportion(data, "yes", CLUS1).iloc[0]
    assert result["estimate"] == pytest.approx(0.8743169398870401, rel=RTOL)
    assert result["se"] == pytest.approx(0.0203594772446274, rel=EXACT)
    assert result["ci_low"] == pytest.approx(0.8237988923790337, rel=RTOL)
    assert result["ci_high"] == pytest.approx(0.9119000770212227, rel=RTOL)


def test_proportion_stratified_cluster_with_missing_matches_r():
    yrbs = pd.read_csv(DATA / "samplics" / "yrbs.csv")
    yrbs["y"] = np.where(yrbs["qn8"].isna(), np.nan, (yrbs["qn8"] == 1).astype(float))
    design = survey.Design(weight="weight", strata="stratum", psu="psu")
    # R: yrbs <- read.csv("yrbs.csv"); yrbs$y <- as.numeric(yrbs$qn8 == 1)
    #    dy <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, data = yrbs, nest = TRUE)
    #    m <- svymean(~y, dy, na.rm = TRUE); c(coef(m), SE(m)); degf(dy)
    #    ci <- svyciprop(~y, dy, method = "logit", df = degf(dy), na.rm = TRUE); attr(ci, "ci")
    result = survey.proportion(yrbs, "y", design).iloc[0]
    assert result["estimate"] == pytest.approx(0.8136225043654783, rel=EXACT)
    assert result["se"] == pytest.approx(0.0200890064520652, rel=EXACT)
    assert result["df"] == 41
    assert result["ci_low"] == pytest.approx(0.7696221080643091, rel=RTOL)
    assert result["ci_high"] == pytest.approx(0.8508478025356091, rel=RTOL)


# ---------------------------------------------------------------------------------------------
# Stratified cluster designs without fpc; lonely PSUs


def test_mean_stratified_cluster_without_fpc_matches_r(apistrat):
    design = survey.Design(weight="pw", strata="stype", psu="dnum")
    # R: dsc <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apistrat, nest = TRUE)
    #    m <- svymean(~api00, dsc); c(coef(m), SE(m)); degf(dsc)
    result = survey.mean(apistrat, "api00", design).iloc[0]
    assert result["estimate"] == pytest.approx(662.2873631593208, rel=EXACT)
    assert result["se"] == pytest.approx(11.1896322079279, rel=EXACT)
    assert result["df"] == 159
    # R: m <- svytotal(~enroll, dsc); c(coef(m), SE(m))
    totals = survey.total(apistrat, "enroll", design).iloc[0]
    assert totals["estimate"] == pytest.approx(3687177.532438278, rel=EXACT)
    assert totals["se"] == pytest.approx(270767.611152381, rel=EXACT)
    # R: b <- svyby(~api00, ~awards, dsc, svymean); coef(b); SE(b)
    by = survey.mean(apistrat, "api00", design, by="awards")
    np.testing.assert_allclose(by["estimate"], [633.734911659413, 678.422405614438], rtol=EXACT)
    np.testing.assert_allclose(by["se"], [17.5064459200100, 14.5888550640618], rtol=EXACT)


def test_mean_lonely_psu_adjust_matches_r(apistrat):
    # Los Angeles Unified (dnum 401) becomes a stratum with a single PSU.
    data = apistrat.assign(
        st=np.where(apistrat["dnum"] == 401, "LA", apistrat["stype"].astype(str))
    )
    design = survey.Design(weight="pw", strata="st", psu="dnum")
    # R: options(survey.lonely.psu = "adjust")
    #    apil <- apistrat; apil$st <- ifelse(apil$dnum == 401, "LA", as.character(apil$stype))
    #    dlon <- svydesign(id = ~dnum, strata = ~st, weights = ~pw, data = apil, nest = TRUE)
    #    m <- svymean(~api00, dlon); c(coef(m), SE(m)); degf(dlon)
    result = survey.mean(data, "api00", design).iloc[0]
    assert result["estimate"] == pytest.approx(662.2873631593208, rel=EXACT)
    assert result["se"] == pytest.approx(11.8946378474967, rel=EXACT)
    assert result["df"] == 156
    # R: m <- svytotal(~enroll, dlon); c(coef(m), SE(m))
    totals = survey.total(data, "enroll", design).iloc[0]
    assert totals["se"] == pytest.approx(430847.821845729, rel=EXACT)
    # R: b <- svyby(~api00, ~stype, dlon, svymean); SE(b)
    by = survey.mean(data, "api00", design, by="stype")
    np.testing.assert_allclose(
        by["se"], [15.1920060079825, 17.9176557361726, 17.7184987342424], rtol=EXACT
    )


def test_mean_lonely_single_row_stratum_matches_r(apistrat):
    data = apistrat.assign(st2=apistrat["stype"].astype(str))
    data.loc[0, "st2"] = "solo"
    design = survey.Design(weight="pw", strata="st2")
    # R: options(survey.lonely.psu = "adjust")
    #    apil$st2 <- ifelse(seq_len(nrow(apil)) == 1, "solo", as.character(apil$stype))
    #    dlon2 <- svydesign(id = ~1, strata = ~st2, weights = ~pw, data = apil)
    #    m <- svymean(~api00, dlon2); SE(m); m <- svytotal(~enroll, dlon2); SE(m)
    assert survey.mean(data, "api00", design)["se"].iloc[0] == pytest.approx(
        9.54619443983343, rel=EXACT
    )
    assert survey.total(data, "enroll", design)["se"].iloc[0] == pytest.approx(
        117786.580209858, rel=EXACT
    )


# ---------------------------------------------------------------------------------------------
# The vectorised engine


def test_domain_ratio_overlapping_domains_equal_mean_by(apiclus1_na):
    data = apiclus1_na
    by_type = survey.mean(data, "api00", CLUS1, by="stype")
    not_high = survey.mean(data.assign(g=data["stype"] != "H"), "api00", CLUS1, by="g")
    overall = survey.mean(data, "api00", CLUS1)
    # Columns: E, H, M, E-or-M (overlaps E and M) and everyone (overlaps all).
    membership = np.column_stack(
        [data["stype"] == s for s in ("E", "H", "M")]
        + [data["stype"] != "H", np.ones(len(data), dtype=bool)]
    ).astype(float)
    result = survey.domain_ratio(
        data["api00"].to_numpy(),
        data["pw"].to_numpy(),
        None,
        data["dnum"].to_numpy(),
        sp.csr_matrix(membership),
        fpc=data["fpc"].to_numpy(),
    )
    expected_estimate = list(by_type["estimate"]) + [
        row(not_high, g=True)["estimate"],
        overall["estimate"].iloc[0],
    ]
    expected_se = list(by_type["se"]) + [row(not_high, g=True)["se"], overall["se"].iloc[0]]
    np.testing.assert_allclose(result.estimate, expected_estimate, rtol=1e-12)
    np.testing.assert_allclose(result.se, expected_se, rtol=1e-12)
    assert list(result.n) == list(by_type["n"]) + [row(not_high, g=True)["n"], 178]
    assert result.df == 14


def test_domain_ratio_empty_domain_is_nan(apistrat):
    membership = sp.csr_matrix(np.column_stack([np.ones(200), np.zeros(200)]))
    result = survey.domain_ratio(
        apistrat["api00"].to_numpy(), apistrat["pw"].to_numpy(), None, None, membership
    )
    assert np.isnan(result.estimate[1]) and np.isnan(result.se[1]) and result.n[1] == 0


def test_domain_total_matches_total_by(apiclus1):
    membership = sp.csr_matrix(
        np.column_stack([apiclus1["stype"] == s for s in ("E", "H", "M")]).astype(float)
    )
    result = survey.domain_total(
        apiclus1["enroll"].to_numpy(),
        apiclus1["pw"].to_numpy(),
        None,
        apiclus1["dnum"].to_numpy(),
        membership,
        fpc=apiclus1["fpc"].to_numpy(),
    )
    expected = survey.total(apiclus1, "enroll", CLUS1, by="stype")
    np.testing.assert_allclose(result.estimate, expected["estimate"], rtol=1e-12)
    np.testing.assert_allclose(result.se, expected["se"], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Invariants


def test_mean_equal_weights_give_textbook_srs_formulas():
    # With equal weights and no strata, z_i = (y_i - ybar)/n and var = n/(n-1) * sum z_i², so
    # se(mean) = s / sqrt(n) with s² = sum (y - ybar)² / (n - 1), and for a 0/1 outcome
    # se(p) = sqrt(p (1 - p) / (n - 1)), i.e. the usual sqrt(p(1-p)/n) times sqrt(n/(n-1)).
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {"y": rng.normal(10, 2, 137), "b": rng.integers(0, 2, 137), "w": np.full(137, 3.5)}
    )
    design = survey.Design(weight="w")
    result = survey.mean(data, "y", design).iloc[0]
    assert result["estimate"] == pytest.approx(data["y"].mean(), rel=1e-12)
    assert result["se"] == pytest.approx(data["y"].std(ddof=1) / np.sqrt(137), rel=1e-12)
    share = survey.proportion(data, "b", design).iloc[0]
    p = data["b"].mean()
    assert share["estimate"] == pytest.approx(p, rel=1e-12)
    assert share["se"] == pytest.approx(np.sqrt(p * (1 - p) / 136), rel=1e-12)
    assert share["df"] == 136


@pytest.mark.parametrize("successes", [0, 1, 2, 498, 499, 500])
def test_proportion_ci_contains_estimate_inside_unit_interval(successes):
    data = pd.DataFrame(
        {"y": [1] * successes + [0] * (500 - successes), "w": np.linspace(1, 3, 500)}
    )
    result = survey.proportion(data, "y", survey.Design(weight="w")).iloc[0]
    assert 0 <= result["ci_low"] <= result["estimate"] <= result["ci_high"] <= 1
    if 0 < successes < 500:
        assert result["ci_low"] < result["estimate"] < result["ci_high"]


def test_mean_does_not_mutate_inputs(apiclus1_na, strat_fit):
    before = apiclus1_na.copy(deep=True)
    survey.mean(apiclus1_na, "api00", CLUS1, by="stype")
    survey.proportion(apiclus1_na.assign(y=apiclus1_na["api00"] > 700), "y", CLUS1)
    survey.total(apiclus1_na, "enroll", CLUS1, by=["stype", "awards"])
    survey.compare_to_parent(apiclus1_na, "api00", CLUS1, "stype", "E", kind="mean")
    fit = survey.logistic(apiclus1_na, "I(api00 > 700) ~ ell + meals", CLUS1)
    fit.marginal_mean("meals", [10, 50])
    pd.testing.assert_frame_equal(apiclus1_na, before)


# ---------------------------------------------------------------------------------------------
# Logistic regression


def test_logistic_matches_svyglm(strat_fit):
    # R: fit <- svyglm(I(api00 > 700) ~ ell + meals + stype, dstrat, family = quasibinomial())
    #    coef(fit); SE(fit); fit$df.residual; coef(summary(fit))[, 4]; confint(fit)
    table = strat_fit.coefficients.set_index("term")
    terms = ["Intercept", "ell", "meals", "stype[T.H]", "stype[T.M]"]
    r_coef = [5.8365994481131063, -0.0735376886604915, -0.0961475044315707,
              -4.0956407432161743, -2.8416100443593351]  # fmt: skip
    r_se = [1.1144306091653886, 0.0324489480489569, 0.0216695382533154,
            0.8605793322445124, 0.7780758956102112]  # fmt: skip
    r_p = [4.24090516095189e-07, 2.45451757440148e-02, 1.53132012578579e-05,
           3.80362510893452e-06, 3.34971256011239e-04]  # fmt: skip
    r_low = [3.63857265717985934, -0.13753777674369994, -0.13888702112845230,
             -5.79298861973717916, -4.37623377944450009]  # fmt: skip
    r_high = [8.03462623904635365, -0.00953760057728313, -0.05340798773468918,
              -2.39829286669516950, -1.30698630927416981]  # fmt: skip
    np.testing.assert_allclose(table.loc[terms, "estimate"], r_coef, rtol=RTOL)
    np.testing.assert_allclose(table.loc[terms, "se"], r_se, rtol=RTOL)
    np.testing.assert_allclose(table.loc[terms, "p_value"], r_p, rtol=1e-5)
    np.testing.assert_allclose(table.loc[terms, "ci_low"], r_low, rtol=RTOL)
    np.testing.assert_allclose(table.loc[terms, "ci_high"], r_high, rtol=RTOL)
    assert strat_fit.df == 193
    assert (table["df"] == 193).all()
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["estimate"]))
    np.testing.assert_allclose(np.sqrt(np.diag(strat_fit.vcov)), table["se"])


def test_logistic_missing_values_dropped_as_domain(apiclus1_na):
    # R's glm stops at deviance change < 1e-8 and computes the SEs from working weights one
    # iteration behind; on this fit that leaves the default SEs 2e-5 (relative) from the
    # converged values, so the reference is svyglm run to convergence:
    # R: fitna <- svyglm(I(api00 > 700) ~ ell + meals, dclus1na, family = quasibinomial(),
    #                    control = glm.control(epsilon = 1e-14, maxit = 100))
    #    coef(fitna); SE(fitna); fitna$df.residual
    fit = survey.logistic(apiclus1_na, "I(api00 > 700) ~ ell + meals", CLUS1)
    table = fit.coefficients.set_index("term")
    np.testing.assert_allclose(
        table["estimate"], [4.210632188179126, -0.015949895831763, -0.110967072144749], rtol=RTOL
    )
    np.testing.assert_allclose(
        table["se"], [0.8294259171837907, 0.0273445484109750, 0.0238465338264514], rtol=RTOL
    )
    assert fit.df == 12
    assert fit.n == 178


def test_logistic_domain_equals_fit_with_other_rows_missing(apistrat):
    domain = (apistrat["stype"] != "H").to_numpy()
    fit = survey.logistic(apistrat, "I(api00 > 700) ~ ell + meals", STRAT, domain=domain)
    masked = apistrat.assign(api00=apistrat["api00"].where(domain))
    expected = survey.logistic(masked, "I(api00 > 700) ~ ell + meals", STRAT)
    pd.testing.assert_frame_equal(fit.coefficients, expected.coefficients)


def test_logistic_matrix_per_domain_equals_logistic_with_domain(apistrat):
    # The cube path: one model matrix for all rows, one engine call per domain.
    import patsy

    outcome, matrix = patsy.dmatrices("I(api00 > 700) ~ ell + meals", apistrat)
    codes = survey.design_codes(apistrat, STRAT)
    for stype in ("E", "M"):
        domain = (apistrat["stype"] == stype).to_numpy()
        engine = survey.logistic_matrix(
            np.asarray(outcome)[:, 1], np.asarray(matrix), apistrat["pw"].to_numpy(), codes, domain
        )
        fit = survey.logistic(apistrat, "I(api00 > 700) ~ ell + meals", STRAT, domain=domain)
        np.testing.assert_allclose(engine.params, fit.coefficients["estimate"], rtol=1e-12)
        np.testing.assert_allclose(engine.vcov, fit.vcov.to_numpy(), rtol=1e-10)
        assert engine.df == fit.df


def test_logistic_predict_matches_r(strat_fit, apistrat):
    # R: pr <- predict(fit, newdata = apistrat[1:3, ], type = "response"); coef(pr); SE(pr)
    prediction = strat_fit.predict(apistrat.iloc[:3])
    np.testing.assert_allclose(
        prediction["estimate"], [6.95358017203260e-01, 9.62699544206956e-05, 1.18343858617357e-01],
        rtol=RTOL,
    )  # fmt: skip
    np.testing.assert_allclose(
        prediction["se"], [0.117816609626440652, 0.000183125870209896, 0.051320826389199915],
        rtol=RTOL,
    )  # fmt: skip
    assert ((prediction["ci_low"] >= 0) & (prediction["ci_high"] <= 1)).all()


def test_logistic_marginal_mean_matches_svypredmeans(strat_fit):
    # R: adj <- svyglm(I(api00 > 700) ~ ell + meals, dstrat, family = quasibinomial())
    #    pm <- svypredmeans(adj, ~stype); coef(pm); SE(pm)      (order E, M, H)
    margins = strat_fit.marginal_mean("stype", ["E", "M", "H"], se_method="svypredmeans")
    np.testing.assert_allclose(
        margins["estimate"], [0.502537354913089, 0.266342165738459, 0.165194386364398], rtol=RTOL
    )
    np.testing.assert_allclose(
        margins["se"], [0.0430712971842490, 0.0460729113507023, 0.0311889370975093], rtol=RTOL
    )
    assert list(margins["stype"]) == ["E", "M", "H"]


def test_logistic_marginal_mean_delta_matches_r(strat_fit):
    # Delta method from vcov only, computed explicitly in R:
    # R: w <- weights(dstrat); V <- vcov(fit); b <- coef(fit)
    #    for (lev in c("E", "H", "M")) {
    #      mf <- apistrat; mf$stype <- factor(lev, levels = levels(apistrat$stype))
    #      mm <- model.matrix(~ ell + meals + stype, mf); pp <- drop(plogis(mm %*% b))
    #      M <- sum(w * pp) / sum(w); g <- colSums(w * pp * (1 - pp) * mm) / sum(w)
    #      print(c(M, sqrt(drop(t(g) %*% V %*% g)))) }
    margins = strat_fit.marginal_mean("stype", ["E", "H", "M"])
    np.testing.assert_allclose(
        margins["estimate"], [0.5025373549130890, 0.1651943863643984, 0.266342165738459], rtol=RTOL
    )
    np.testing.assert_allclose(
        margins["se"], [0.0296004929288919, 0.0252307438183558, 0.038748190684240], rtol=RTOL
    )


def test_logistic_contrast_matches_svycontrast(strat_fit):
    # R: ct <- svycontrast(pm, c(E = 1, H = -1)); c(coef(ct), SE(ct))   (pm from svypredmeans)
    result = strat_fit.contrast("stype", "E", "H", se_method="svypredmeans").iloc[0]
    assert result["estimate"] == pytest.approx(0.3373429685486908, rel=RTOL)
    assert result["se"] == pytest.approx(0.0446974239619216, rel=RTOL)
    quantile = stats.t.ppf(0.975, 193)
    assert result["ci_low"] == pytest.approx(result["estimate"] - quantile * result["se"])


def test_logistic_average_marginal_effect_matches_r(strat_fit):
    # R (explicit delta method): mm <- model.matrix(~ ell + meals + stype, apistrat)
    #    pp <- drop(plogis(mm %*% b)); ame <- sum(w * pp * (1 - pp) * b["ell"]) / sum(w)
    #    g <- colSums(w * pp * (1 - pp) * (1 - 2 * pp) * b["ell"] * mm) / sum(w)
    #    g["ell"] <- g["ell"] + sum(w * pp * (1 - pp)) / sum(w); sqrt(t(g) %*% V %*% g)
    result = strat_fit.average_marginal_effect("ell").iloc[0]
    assert result["estimate"] == pytest.approx(-0.00617015384419230, rel=RTOL)
    assert result["se"] == pytest.approx(0.00246887344335886, rel=RTOL)


# ---------------------------------------------------------------------------------------------
# Comparisons


def test_compare_to_parent_matches_svycontrast(apistrat):
    # R: b <- svyby(~api00, ~I(stype == "E"), dstrat, svymean, covmat = TRUE)
    #    ct <- svycontrast(b, c(-1, 1)); c(coef(ct), SE(ct))
    result = survey.compare_to_parent(apistrat, "api00", STRAT, "stype", "E", kind="mean").iloc[0]
    assert result["estimate"] == pytest.approx(42.4204681206802, rel=EXACT)
    assert result["se"] == pytest.approx(16.7469365501911, rel=EXACT)
    # strata = stype, so area and rest share no strata: the independent formula holds exactly
    assert result["se"] == pytest.approx(np.hypot(result["se_area"], result["se_rest"]))
    assert result["p_value"] == pytest.approx(
        2 * stats.t.sf(42.4204681206802 / 16.7469365501911, 197)
    )


def test_compare_to_parent_shared_clusters_matches_svycontrast(apiclus1):
    # The area (elementary schools) and the rest share clusters (school districts, dnum), so
    # their estimates are correlated and the SE of the difference is not sqrt(se_a² + se_r²).
    # R: dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
    #    b <- svyby(~api00, ~I(stype == "E"), dclus1, svymean, covmat = TRUE)
    #    ct <- svycontrast(b, c(-1, 1)); c(coef(ct), SE(ct)); SE(b)   # FALSE (rest), TRUE (E)
    result = survey.compare_to_parent(apiclus1, "api00", CLUS1, "stype", "E", kind="mean").iloc[0]
    assert result["estimate"] == pytest.approx(22.0475427350427, rel=EXACT)
    assert result["se"] == pytest.approx(13.6284507811508, rel=EXACT)
    assert result["se_area"] == pytest.approx(22.3624088938319, rel=EXACT)
    assert result["se_rest"] == pytest.approx(30.0483533700454, rel=EXACT)
    # Treating the two as independent would give 37.5: the covariance matters here.
    assert np.hypot(result["se_area"], result["se_rest"]) > 2.5 * result["se"]
    assert result["df"] == 14
    # The same for a proportion.
    # R: b2 <- svyby(~I(api00 > 700), ~I(stype == "E"), dclus1, svymean, covmat = TRUE)
    #    ct2 <- svycontrast(b2, c(0, 0, -1, 1)); c(coef(ct2), SE(ct2)); SE(b2)
    data = apiclus1.assign(high=(apiclus1["api00"] > 700).astype(int))
    share = survey.compare_to_parent(data, "high", CLUS1, "stype", "E").iloc[0]
    assert share["estimate"] == pytest.approx(0.104700854700855, rel=EXACT)
    assert share["se"] == pytest.approx(0.084125034746684, rel=EXACT)
    assert share["se_area"] == pytest.approx(0.0784632065221734, rel=EXACT)
    assert share["se_rest"] == pytest.approx(0.1110501779224611, rel=EXACT)


def test_compare_to_parent_with_parent_mask_and_by(apistrat):
    data = apistrat.assign(high=(apistrat["api00"] > 700).astype(int))
    parent = {"stype": ["E", "M"]}
    result = survey.compare_to_parent(data, "high", STRAT, "stype", "M", parent=parent, by="awards")
    expected = survey.proportion(data, "high", STRAT, by=["stype", "awards"])
    for _, line in result.iterrows():
        area = row(expected, stype="M", awards=line["awards"])
        rest = row(expected, stype="E", awards=line["awards"])
        assert line["estimate"] == pytest.approx(area["estimate"] - rest["estimate"])
        assert line["se"] == pytest.approx(np.hypot(area["se"], rest["se"]))


def test_compare_waves_independent_difference():
    a = pd.DataFrame({"sex": ["F", "M"], "estimate": [0.20, 0.30], "se": [0.03, 0.04]})
    b = pd.DataFrame({"sex": ["M", "F"], "estimate": [0.25, 0.26], "se": [0.02, 0.04]})
    result = survey.compare_waves(a, b).set_index("sex")
    assert result.loc["F", "estimate"] == pytest.approx(0.06)
    assert result.loc["F", "se"] == pytest.approx(0.05)  # sqrt(0.03² + 0.04²)
    assert result.loc["F", "ci_low"] == pytest.approx(0.06 - 1.959963984540054 * 0.05)
    assert result.loc["F", "p_value"] == pytest.approx(2 * stats.norm.sf(0.06 / 0.05))
    assert result.loc["M", "estimate"] == pytest.approx(-0.05)


def test_compare_waves_accepts_single_rows(apistrat):
    first = survey.mean(apistrat, "api99", STRAT).iloc[0]
    second = survey.mean(apistrat, "api00", STRAT).iloc[0]
    result = survey.compare_waves(first, second).iloc[0]
    assert result["estimate"] == pytest.approx(second["estimate"] - first["estimate"])


# ---------------------------------------------------------------------------------------------
# Validation errors


def test_mean_rejects_unknown_outcome_column(apistrat):
    with pytest.raises(ParameterError, match="'api2000'.*not found"):
        survey.mean(apistrat, "api2000", STRAT)


def test_mean_rejects_unknown_design_column(apistrat):
    with pytest.raises(ParameterError, match="'weight_x'.*not found"):
        survey.mean(apistrat, "api00", survey.Design(weight="weight_x"))


def test_mean_rejects_non_numeric_outcome(apistrat):
    with pytest.raises(ParameterError, match="'sname' must be numeric"):
        survey.mean(apistrat, "sname", STRAT)


def test_mean_rejects_negative_weight(apistrat):
    data = apistrat.assign(pw=apistrat["pw"].where(apistrat.index != 3, -1.0))
    with pytest.raises(ParameterError, match=r"'pw' must not be negative \(1 row; e.g. row 3\)"):
        survey.mean(data, "api00", STRAT)


def test_mean_rejects_missing_weight(apistrat):
    data = apistrat.assign(pw=apistrat["pw"].where(~apistrat.index.isin([5, 7])))
    with pytest.raises(ParameterError, match=r"'pw' must not have missing.*2 rows; e.g. row 5, 7"):
        survey.mean(data, "api00", STRAT)


def test_mean_rejects_missing_by_values(apistrat):
    data = apistrat.assign(group=apistrat["awards"].where(apistrat.index != 0))
    with pytest.raises(ParameterError, match=r"by column 'group' has missing values \(1 row"):
        survey.mean(data, "api00", STRAT, by="group")


def test_mean_rejects_unknown_by_column(apistrat):
    with pytest.raises(ParameterError, match="by column.*'region'"):
        survey.mean(apistrat, "api00", STRAT, by=["stype", "region"])


def test_mean_rejects_missing_strata(apistrat):
    data = apistrat.assign(stype=apistrat["stype"].where(apistrat.index != 9))
    with pytest.raises(ParameterError, match="strata column 'stype' must not have missing"):
        survey.mean(data, "api00", STRAT)


def test_mean_rejects_fpc_varying_within_stratum(apistrat):
    data = apistrat.assign(fpc=apistrat["fpc"] + np.arange(200))
    with pytest.raises(ParameterError, match="fpc.*constant within each stratum"):
        survey.mean(data, "api00", STRAT)


def test_mean_rejects_bad_level(apistrat):
    with pytest.raises(ParameterError, match="level must be"):
        survey.mean(apistrat, "api00", STRAT, level=95)


def test_proportion_rejects_non_binary_outcome(apistrat):
    with pytest.raises(ParameterError, match="'api00' must be coded 0/1.*200 rows"):
        survey.proportion(apistrat, "api00", STRAT)


def test_logistic_rejects_unknown_formula_column(apistrat):
    with pytest.raises(ParameterError, match="not in the data: 'income'"):
        survey.logistic(apistrat, "I(api00 > 700) ~ income + meals", STRAT)


def test_logistic_rejects_collinear_terms(apistrat):
    data = apistrat.assign(meals2=2 * apistrat["meals"])
    with pytest.raises(ParameterError, match="collinear"):
        survey.logistic(data, "I(api00 > 700) ~ meals + meals2", STRAT)


def test_domain_ratio_rejects_wrong_shape(apistrat):
    with pytest.raises(ParameterError, match="domains has 3 rows"):
        survey.domain_ratio(
            apistrat["api00"].to_numpy(), apistrat["pw"].to_numpy(), None, None,
            sp.csr_matrix(np.ones((3, 1))),
        )  # fmt: skip


def test_design_rejects_non_string_columns():
    with pytest.raises(ParameterError, match="Design.strata must be a column name"):
        survey.Design(weight="w", strata=3)


def test_logit_interval_helper_is_svyciprop_formula():
    # svyciprop(method = "logit"): expit(logit(p) ± t · se / (p (1 - p)))
    low, high = survey.logit_interval(np.array([0.3]), np.array([0.05]), 2.0)
    assert low[0] == pytest.approx(special.expit(special.logit(0.3) - 2 * 0.05 / 0.21))
    assert high[0] == pytest.approx(special.expit(special.logit(0.3) + 2 * 0.05 / 0.21))
