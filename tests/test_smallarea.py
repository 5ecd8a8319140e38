"""Tests of analyse.stats.smallarea (Fay–Herriot): R cross-check, invariants, benchmarking,
disclosure property, bad input.

Cross-check against R's ``sae`` package (Molina & Marhuenda, version 1.3; not in Debian, so it was
installed from its CRAN source into a scratch library with R 4.2.2 from Debian; its only
dependencies MASS and lme4 are Debian packages r-cran-mass and r-cran-lme4). The R script and its
output, pasted verbatim, are the reference values below::

    .libPaths(c("/tmp/Rlib", .libPaths()))
    suppressMessages(library(sae))
    options(digits = 15)
    data(milk)
    milk$var <- milk$SD^2
    r <- mseFH(yi ~ as.factor(MajorArea), var, method = "REML", PRECISION = 1e-12, data = milk)
    cat("milk refvar", sprintf("%.12f", r$est$fit$refvar), "\\n")
    cat("milk beta", sprintf("%.12f", r$est$fit$estcoef$beta), "\\n")
    cat("milk eblup[1:5]", sprintf("%.12f", r$est$eblup[1:5]), "\\n")
    cat("milk mse[1:5]", sprintf("%.12f", r$mse[1:5]), "\\n")
    cat("milk eblup[39:43]", sprintf("%.12f", r$est$eblup[39:43]), "\\n")
    cat("milk mse[39:43]", sprintf("%.12f", r$mse[39:43]), "\\n")
    # Small example on the arcsine scale: 10 areas, one covariate
    d <- data.frame(
      y = asin(sqrt(c(0.05, 0.38, 0.15, 0.52, 0.10, 0.20, 0.45, 0.09, 0.31, 0.40))),
      x = c(0.10, 0.28, 0.20, 0.35, 0.15, 0.30, 0.31, 0.12, 0.22, 0.26),
      n = c(40, 55, 80, 35, 120, 60, 45, 150, 70, 30)
    )
    d$psi <- 1.1 / (4 * d$n)
    r2 <- mseFH(y ~ x, psi, method = "REML", PRECISION = 1e-12, data = d)
    cat("small refvar", sprintf("%.12f", r2$est$fit$refvar), "\\n")
    cat("small beta", sprintf("%.12f", r2$est$fit$estcoef$beta), "\\n")
    cat("small eblup", sprintf("%.12f", r2$est$eblup), "\\n")
    cat("small mse", sprintf("%.12f", r2$mse), "\\n")
    # Boundary: residual variation smaller than the sampling variances -> REML 0
    d$y0 <- asin(sqrt(c(0.12, 0.29, 0.22, 0.37, 0.17, 0.30, 0.32, 0.12, 0.23, 0.27)))
    r3 <- mseFH(y0 ~ x, psi, method = "REML", PRECISION = 1e-12, data = d)
    cat("zero refvar", sprintf("%.12f", r3$est$fit$refvar), "\\n")
    cat("zero eblup", sprintf("%.12f", r3$est$eblup), "\\n")
    cat("zero mse", sprintf("%.12f", r3$mse), "\\n")

Output::

    milk refvar 0.018550334763
    milk beta 0.968188986975 0.132780305457 0.226946224521 -0.241301039945
    milk eblup[1:5] 1.021970544151 1.047601951442 1.067951426304 0.760816565089 0.846157043779
    milk mse[1:5] 0.013460256460 0.005372879733 0.005701994717 0.008541752019 0.009579609714
    milk eblup[39:43] 0.754899633112 0.770191965716 0.748116423846 0.804077515804 0.681086885061
    milk mse[39:43] 0.007209948012 0.008470292522 0.005484865134 0.009205151259 0.009903647797
    small refvar 0.003679335158
    small beta 0.035858911981 2.086311211660
    small eblup 0.237874612017 0.638758687446 0.424468649499 0.778613180768 0.332134261123
                0.573537013657 0.702420156257 0.298548008480 0.541106898801 0.608780326463
    small mse 0.004514099064 0.003527791555 0.002802554370 0.004974425359 0.002240086725
              0.003509323880 0.004060499952 0.001955054549 0.003001518493 0.004165460740
    zero refvar 0.000000000000
    zero eblup 0.347802197930 0.569088355285 0.470738952016 0.655144083146 0.409270574973
               0.593675706103 0.605969381511 0.372389548747 0.495326302833 0.544501004468
    zero mse 0.001838564015 0.001804189655 0.001854670336 0.002502609757 0.002767475099
             0.002130822065 0.001996594461 0.003586066253 0.001692976538 0.001168355264

The same milk fit was also reproduced (σ̂²_u = 0.0185503, identical EBLUP and MSE to 1e-9) with
samplics 0.6.0 (``EblupAreaModel``) and svy-sae 0.4.1 (``AreaLevel.fh``) in throwaway venvs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analyse.stats.smallarea as fh
from analyse.errors import ParameterError
from analyse.stats.smallarea import FayHerriotError, fay_herriot

# --- R's sae::milk (Rao & Molina 2015, Example 6.3.1 data): yi, SD, MajorArea -------------------
MILK = pd.DataFrame(
    {
        "area": range(1, 44),
        "yi": [
            1.099,
            1.075,
            1.105,
            0.628,
            0.753,
            0.981,
            1.257,
            1.095,
            1.405,
            1.356,
            0.615,
            1.46,
            1.338,
            0.854,
            1.176,
            1.111,
            1.257,
            1.43,
            1.278,
            1.292,
            1.002,
            1.183,
            1.044,
            1.267,
            1.193,
            0.791,
            0.795,
            0.759,
            0.796,
            0.565,
            0.886,
            0.952,
            0.807,
            0.582,
            0.684,
            0.787,
            0.44,
            0.759,
            0.77,
            0.8,
            0.756,
            0.865,
            0.64,
        ],
        "SD": [
            0.163,
            0.08,
            0.083,
            0.109,
            0.119,
            0.141,
            0.202,
            0.127,
            0.168,
            0.178,
            0.1,
            0.201,
            0.148,
            0.143,
            0.149,
            0.145,
            0.135,
            0.172,
            0.137,
            0.163,
            0.125,
            0.247,
            0.14,
            0.171,
            0.106,
            0.121,
            0.121,
            0.259,
            0.106,
            0.089,
            0.225,
            0.205,
            0.119,
            0.067,
            0.106,
            0.126,
            0.092,
            0.132,
            0.1,
            0.113,
            0.083,
            0.121,
            0.129,
        ],
        "MajorArea": [1] * 7 + [2] * 7 + [3] * 11 + [4] * 18,
    }
)
for _k in (2, 3, 4):
    MILK[f"ma{_k}"] = (MILK["MajorArea"] == _k).astype(float)

SMALL = pd.DataFrame(
    {
        "area": list("abcdefghij"),
        "p": [0.05, 0.38, 0.15, 0.52, 0.10, 0.20, 0.45, 0.09, 0.31, 0.40],
        "p0": [0.12, 0.29, 0.22, 0.37, 0.17, 0.30, 0.32, 0.12, 0.23, 0.27],
        "x": [0.10, 0.28, 0.20, 0.35, 0.15, 0.30, 0.31, 0.12, 0.22, 0.26],
        "n": [40, 55, 80, 35, 120, 60, 45, 150, 70, 30],
    }
)
SMALL["se"] = np.sqrt(1.1 * SMALL["p"] * (1 - SMALL["p"]) / SMALL["n"])


def _milk(**kw):
    return fay_herriot(
        MILK,
        area="area",
        estimate="yi",
        se="SD",
        n=None,
        covariates=["ma2", "ma3", "ma4"],
        transform="identity",
        variance="direct",
        **kw,
    )


# =================================================================================================
# R cross-check
# =================================================================================================


def test_matches_r_sae_milk():
    r = _milk()
    fit = r.attrs["fit"]
    assert fit["sigma2_u"] == pytest.approx(0.018550334763, abs=1e-11)
    np.testing.assert_allclose(
        fit["beta"], [0.968188986975, 0.132780305457, 0.226946224521, -0.241301039945], atol=1e-10
    )
    np.testing.assert_allclose(
        r["estimate"].iloc[:5],
        [1.021970544151, 1.047601951442, 1.067951426304, 0.760816565089, 0.846157043779],
        atol=1e-10,
    )
    np.testing.assert_allclose(
        r["mse_theta"].iloc[:5],
        [0.013460256460, 0.005372879733, 0.005701994717, 0.008541752019, 0.009579609714],
        atol=1e-11,
    )
    np.testing.assert_allclose(
        r["estimate"].iloc[38:],
        [0.754899633112, 0.770191965716, 0.748116423846, 0.804077515804, 0.681086885061],
        atol=1e-10,
    )
    np.testing.assert_allclose(
        r["mse_theta"].iloc[38:],
        [0.007209948012, 0.008470292522, 0.005484865134, 0.009205151259, 0.009903647797],
        atol=1e-11,
    )


def test_matches_r_sae_on_the_arcsine_scale_with_the_gvf():
    # ψ = deff / (4 n) with deff = 1.1, exactly what the R script feeds to mseFH.
    r = fay_herriot(
        SMALL,
        area="area",
        estimate="p",
        se="se",
        n="n",
        covariates=["x"],
        transform="arcsin",
        variance="gvf",
        deff=1.1,
    )
    assert r.attrs["fit"]["sigma2_u"] == pytest.approx(0.003679335158, abs=1e-11)
    np.testing.assert_allclose(r.attrs["fit"]["beta"], [0.035858911981, 2.086311211660], atol=1e-9)
    np.testing.assert_allclose(
        r["theta"],
        [
            0.237874612017,
            0.638758687446,
            0.424468649499,
            0.778613180768,
            0.332134261123,
            0.573537013657,
            0.702420156257,
            0.298548008480,
            0.541106898801,
            0.608780326463,
        ],
        atol=1e-10,
    )
    np.testing.assert_allclose(
        r["mse_theta"],
        [
            0.004514099064,
            0.003527791555,
            0.002802554370,
            0.004974425359,
            0.002240086725,
            0.003509323880,
            0.004060499952,
            0.001955054549,
            0.003001518493,
            0.004165460740,
        ],
        atol=1e-11,
    )
    # proportions and back-transformed intervals
    np.testing.assert_allclose(r["estimate"], np.sin(r["theta"]) ** 2)
    assert (r["ci_low"] <= r["estimate"]).all() and (r["estimate"] <= r["ci_high"]).all()


def test_matches_r_sae_at_the_boundary_sigma2_zero():
    r = fay_herriot(SMALL, area="area", estimate="p0", se="se", n="n", covariates=["x"], deff=1.1)
    assert r.attrs["fit"]["sigma2_u"] == 0.0
    np.testing.assert_allclose(
        r["theta"],
        [
            0.347802197930,
            0.569088355285,
            0.470738952016,
            0.655144083146,
            0.409270574973,
            0.593675706103,
            0.605969381511,
            0.372389548747,
            0.495326302833,
            0.544501004468,
        ],
        atol=1e-10,
    )
    np.testing.assert_allclose(
        r["mse_theta"],
        [
            0.001838564015,
            0.001804189655,
            0.001854670336,
            0.002502609757,
            0.002767475099,
            0.002130822065,
            0.001996594461,
            0.003586066253,
            0.001692976538,
            0.001168355264,
        ],
        atol=1e-11,
    )


def test_fast_score_and_information_equal_the_explicit_projection():
    rng = np.random.default_rng(1)
    m, p = 30, 3
    X = np.column_stack([np.ones(m), rng.normal(size=(m, p - 1))])
    y = X @ [0.5, 0.1, -0.2] + rng.normal(0, 0.1, m)
    v = 0.01 + rng.uniform(0.001, 0.02, m)
    vi = np.diag(1 / v)
    P = vi - vi @ X @ np.linalg.inv(X.T @ vi @ X) @ X.T @ vi
    score, info, _, _ = fh._score_information(y, X, v)
    assert score == pytest.approx(-0.5 * np.trace(P) + 0.5 * y @ P @ P @ y, rel=1e-10)
    assert info == pytest.approx(0.5 * np.trace(P @ P), rel=1e-10)


def test_reml_is_the_maximum_of_the_restricted_likelihood():
    y = MILK["yi"].to_numpy()
    X = np.column_stack([np.ones(43), MILK[["ma2", "ma3", "ma4"]].to_numpy()])
    psi = MILK["SD"].to_numpy() ** 2
    fit = fh.reml(y, X, psi)
    grid = fit.sigma2_u * np.array([0.9, 0.99, 1.01, 1.1])
    assert all(fh._restricted_loglik(s, y, X, psi) < fit.loglik for s in grid)


# =================================================================================================
# Invariants
# =================================================================================================


def test_sigma2_zero_gives_the_synthetic_regression_estimate():
    r = fay_herriot(SMALL, area="area", estimate="p0", n="n", covariates=["x"], deff=1.1)
    assert r.attrs["fit"]["sigma2_u"] == 0.0
    assert (r["gamma"] == 0).all()
    np.testing.assert_allclose(r["estimate"], r["synthetic"], rtol=1e-12)
    # synthetic = x'β with β the GLS (weights 1/ψ) regression of asin √p on x
    y = np.arcsin(np.sqrt(SMALL["p0"].to_numpy()))
    X = np.column_stack([np.ones(10), SMALL["x"]])
    w = 4 * SMALL["n"].to_numpy() / 1.1
    beta = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))
    np.testing.assert_allclose(r["theta"], X @ beta, rtol=1e-12)


def test_huge_sampling_variance_gives_the_synthetic_estimate():
    data = MILK.copy()
    data.loc[4, "SD"] = 1e6
    r = fay_herriot(
        data,
        area="area",
        estimate="yi",
        se="SD",
        n=None,
        covariates=["ma2", "ma3", "ma4"],
        transform="identity",
        variance="direct",
    )
    assert r.loc[4, "gamma"] < 1e-12
    assert r.loc[4, "estimate"] == pytest.approx(r.loc[4, "synthetic"], abs=1e-12)
    # its MSE tends to that of the synthetic estimator: σ² + x'Qx
    assert r.loc[4, "mse_theta"] == pytest.approx(
        r.attrs["fit"]["sigma2_u"] + r.loc[4, "g2"], rel=1e-6
    )


def test_zero_sampling_variance_gives_the_direct_estimate():
    data = MILK.copy()
    data.loc[7, "SD"] = 0.0
    r = fay_herriot(
        data,
        area="area",
        estimate="yi",
        se="SD",
        n=None,
        covariates=["ma2", "ma3", "ma4"],
        transform="identity",
        variance="direct",
    )
    assert r.loc[7, "estimate"] == data.loc[7, "yi"]
    assert r.loc[7, "gamma"] == 1.0 and r.loc[7, "mse"] == 0.0
    assert r.loc[7, "method"] == "direct"
    assert r.loc[7, "ci_low"] == r.loc[7, "ci_high"] == data.loc[7, "yi"]


def test_gamma_tends_to_one_as_sampling_variance_vanishes():
    data = MILK.copy()
    data.loc[7, "SD"] = 1e-8
    r = fay_herriot(
        data,
        area="area",
        estimate="yi",
        se="SD",
        n=None,
        covariates=["ma2", "ma3", "ma4"],
        transform="identity",
        variance="direct",
    )
    assert r.loc[7, "gamma"] > 1 - 1e-10
    assert r.loc[7, "estimate"] == pytest.approx(data.loc[7, "yi"], abs=1e-9)


def test_missing_direct_is_predicted_synthetically_and_does_not_change_the_fit():
    data = SMALL.copy()
    data.loc[3, "p"] = np.nan
    full = fay_herriot(data, area="area", estimate="p", n="n", covariates=["x"], deff=1.1)
    dropped = fay_herriot(
        data.drop(index=3), area="area", estimate="p", n="n", covariates=["x"], deff=1.1
    )
    assert full.loc[3, "method"] == "synthetic" and full.loc[3, "gamma"] == 0
    assert full.loc[3, "estimate"] == pytest.approx(full.loc[3, "synthetic"])
    s2 = full.attrs["fit"]["sigma2_u"]
    x = np.array([1.0, data.loc[3, "x"]])
    assert full.loc[3, "mse_theta"] == pytest.approx(s2 + x @ full.attrs["fit"]["beta_cov"] @ x)
    np.testing.assert_allclose(full.drop(index=3)["estimate"], dropped["estimate"])


def test_zero_direct_estimate_is_used_on_the_arcsine_scale_but_not_on_the_logit_scale():
    data = SMALL.copy()
    data.loc[0, "p"] = 0.0
    arcsin = fay_herriot(data, area="area", estimate="p", n="n", covariates=["x"], deff=1.1)
    assert arcsin.loc[0, "method"] == "eblup" and 0 < arcsin.loc[0, "estimate"] < 0.1
    logit = fay_herriot(
        data, area="area", estimate="p", n="n", covariates=["x"], deff=1.1, transform="logit"
    )
    assert logit.loc[0, "method"] == "synthetic"


def test_excluded_cells_do_not_influence_any_published_number():
    """The disclosure property: with exclude=, nothing depends on the hidden direct value."""
    rng = np.random.default_rng(5)
    data = SMALL.assign(
        region=list("AAAAABBBBB"),
        pop=np.arange(10) + 100.0,
        hidden=[False, True, False, False, False, False, False, True, False, False],
    )
    kw = {
        "area": "area",
        "estimate": "p",
        "se": "se",
        "n": "n",
        "covariates": ["x"],
        "exclude": "hidden",
        "benchmark": "ratio",
        "benchmark_by": "region",
        "benchmark_target": {"A": 0.25, "B": 0.3},
        "weight": "pop",
    }
    ref = fay_herriot(data, **kw)
    assert (ref.loc[data["hidden"], "gamma"] == 0).all()
    assert set(ref.loc[data["hidden"], "method"]) == {"synthetic+ratio"}
    cols = ["estimate", "ci_low", "ci_high", "se", "gamma", "synthetic", "sigma2_u", "deff"]
    for _ in range(20):
        other = data.copy()
        other.loc[data["hidden"], "p"] = rng.uniform(0, 1, 2)
        other.loc[data["hidden"], "se"] = rng.uniform(0, 0.3, 2)
        other.loc[data["hidden"], "n"] = rng.integers(1, 100, 2)
        out = fay_herriot(other, **kw)
        pd.testing.assert_frame_equal(out[cols], ref[cols], check_exact=True)


def test_naive_eblup_of_a_hidden_cell_reveals_its_direct_value():
    r = fay_herriot(SMALL, area="area", estimate="p", n="n", covariates=["x"], deff=1.1)
    g = r["gamma"].to_numpy()
    theta_syn = np.arcsin(np.sqrt(r["synthetic"].to_numpy()))
    recovered = np.sin((r["theta"].to_numpy() - (1 - g) * theta_syn) / g) ** 2
    np.testing.assert_allclose(recovered, SMALL["p"], atol=1e-12)


def test_li_lahiri_is_positive_at_the_reml_boundary_and_maximises_the_adjusted_likelihood():
    r = fay_herriot(
        SMALL, area="area", estimate="p0", n="n", covariates=["x"], deff=1.1, estimator="li-lahiri"
    )
    s2 = r.attrs["fit"]["sigma2_u"]
    assert s2 > 0
    y = np.arcsin(np.sqrt(SMALL["p0"].to_numpy()))
    X = np.column_stack([np.ones(10), SMALL["x"]])
    psi = 1.1 / (4 * SMALL["n"].to_numpy())

    def adjusted(s):
        return np.log(s) + fh._restricted_loglik(s, y, X, psi)

    assert all(adjusted(s2) > adjusted(s2 * f) for f in (0.8, 0.98, 1.02, 1.25))
    assert (r["gamma"] > 0).all()


def test_covariate_measured_with_error_raises_gamma_and_mse():
    data = SMALL.assign(x_se=0.0)
    plain = fay_herriot(data, area="area", estimate="p", n="n", covariates=["x"], deff=1.1)
    zero = fay_herriot(
        data,
        area="area",
        estimate="p",
        n="n",
        covariates=["x"],
        deff=1.1,
        covariate_se={"x": "x_se"},
    )
    pd.testing.assert_frame_equal(plain, zero)
    noisy = fay_herriot(
        data.assign(x_se=0.03),
        area="area",
        estimate="p",
        n="n",
        covariates=["x"],
        deff=1.1,
        covariate_se={"x": "x_se"},
    )
    offset = noisy.attrs["fit"]["offset"]
    np.testing.assert_allclose(offset, noisy.attrs["fit"]["beta"][1] ** 2 * 0.03**2)
    s2 = noisy.attrs["fit"]["sigma2_u"]
    psi = noisy["psi"].to_numpy()
    np.testing.assert_allclose(noisy["gamma"], (s2 + offset) / (s2 + offset + psi))


def test_gvf_design_effect_is_recovered_from_consistent_standard_errors():
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.25])
    n = np.array([30, 50, 80, 120, 60])
    se = np.sqrt(1.3 * p * (1 - p) / n)
    assert fh.estimate_deff(p, se, n) == pytest.approx(1.3)
    r = fay_herriot(
        pd.DataFrame({"a": range(5), "p": p, "se": se, "n": n, "x": [1, 3, 2, 5, 4]}),
        area="a",
        estimate="p",
        covariates=["x"],
    )
    assert r["deff"].iloc[0] == pytest.approx(1.3)
    np.testing.assert_allclose(r["psi"], 1.3 / (4 * n))


def test_intervals_are_proper_and_nested_by_level():
    r95 = fay_herriot(SMALL, area="area", estimate="p", n="n", covariates=["x"], deff=1.1)
    r80 = fay_herriot(
        SMALL, area="area", estimate="p", n="n", covariates=["x"], deff=1.1, level=0.8
    )
    for r in (r95, r80):
        assert ((0 <= r["ci_low"]) & (r["ci_low"] <= r["estimate"])).all()
        assert ((r["estimate"] <= r["ci_high"]) & (r["ci_high"] <= 1)).all()
    assert (r80["ci_low"] >= r95["ci_low"]).all() and (r80["ci_high"] <= r95["ci_high"]).all()


def test_flag_marks_model_estimates_more_than_one_direct_half_width_away():
    data = SMALL.assign(lo=SMALL["p"] - 0.01, hi=SMALL["p"] + 0.01)
    r = fay_herriot(
        data,
        area="area",
        estimate="p",
        n="n",
        covariates=["x"],
        deff=1.1,
        ci_low="lo",
        ci_high="hi",
    )
    np.testing.assert_array_equal(r["flag"], (r["estimate"] - data["p"]).abs() > 0.01)
    assert r["flag"].any() and not r["flag"].all()


# =================================================================================================
# Benchmarking
# =================================================================================================


@pytest.mark.parametrize("method", ["ratio", "difference"])
def test_benchmarked_estimates_add_up_to_the_region(method):
    data = SMALL.assign(
        region=list("AABBBCCCCA"), pop=[500, 800, 300, 1200, 90, 400, 700, 2500, 650, 100]
    )
    targets = {"A": 0.21, "B": 0.33, "C": 0.18}
    base = fay_herriot(data, area="area", estimate="p", n="n", covariates=["x"], deff=1.1)
    r = fay_herriot(
        data,
        area="area",
        estimate="p",
        n="n",
        covariates=["x"],
        deff=1.1,
        benchmark=method,
        benchmark_by="region",
        benchmark_target=targets,
        weight="pop",
    )
    for region, target in targets.items():
        rows = data["region"] == region
        mean = np.average(r.loc[rows, "estimate"], weights=data.loc[rows, "pop"])
        assert mean == pytest.approx(target, abs=1e-12)
        change = r.loc[rows, "estimate"] / base.loc[rows, "estimate"]
        diff = r.loc[rows, "estimate"] - base.loc[rows, "estimate"]
        if method == "ratio":
            np.testing.assert_allclose(change, change.iloc[0])
        else:
            np.testing.assert_allclose(diff, diff.iloc[0])
    assert (r["mse_theta"] >= base["mse_theta"]).all()
    assert (r["method"] == f"eblup+{method}").all()


def test_benchmark_proportions_accepts_a_series_of_targets():
    out = fh.benchmark_proportions(
        [0.1, 0.2, 0.4], [1, 1, 2], [1, 3, 2], pd.Series({"1": 0.35, "2": 0.2})
    )
    assert np.average(out[:2], weights=[1, 3]) == pytest.approx(0.35)
    assert out[2] == pytest.approx(0.2)


# =================================================================================================
# Bad input
# =================================================================================================


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (None, {"estimate": "nope"}, "not in the frame"),
        (None, {"covariates": ["nope"]}, "not in the frame"),
        (None, {"covariates": "x"}, "list of column names"),
        (None, {"transform": "probit"}, "transform must be"),
        (None, {"variance": "bootstrap"}, "variance must be"),
        (None, {"estimator": "ml"}, "estimator must be"),
        (None, {"benchmark": "raking"}, "benchmark must be"),
        (None, {"benchmark": "ratio"}, "needs benchmark_by"),
        (None, {"level": 95}, "level must be"),
        (None, {"level": True}, "level must be"),
        (None, {"deff": -1.0}, "deff must be"),
        (None, {"exclude": "x"}, "boolean"),
        (None, {"covariate_se": {"n": "se"}}, "not a covariate"),
        (lambda d: d.assign(p=d["p"] * 100), {}, "proportions in"),
        (lambda d: d.assign(se=-d["se"]), {}, "≥ 0"),
        (lambda d: d.assign(x=[np.nan] + list(d["x"][1:])), {}, "finite in every row"),
        (lambda d: d.assign(area="a"), {}, "more than once"),
        (lambda d: d.assign(x=d["area"]), {}, "must be numeric"),
        (lambda d: d.assign(x2=2 * d["x"]), {"covariates": ["x", "x2"]}, "collinear"),
        (lambda d: d.iloc[:2], {}, "more areas than coefficients"),
        (lambda d: d.iloc[:0], {}, "no rows"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(change, kwargs, message):
    data = SMALL.copy() if change is None else change(SMALL.copy())
    options = {"area": "area", "estimate": "p", "se": "se", "n": "n", "covariates": ["x"]}
    options.update(kwargs)
    with pytest.raises(FayHerriotError, match=message):
        fay_herriot(data, **options)


def test_not_a_dataframe_is_rejected():
    with pytest.raises(FayHerriotError, match="DataFrame"):
        fay_herriot(SMALL.to_dict(), area="area", estimate="p")


def test_missing_benchmark_target_is_rejected():
    data = SMALL.assign(region=list("AAAAABBBBB"), pop=100.0)
    with pytest.raises(FayHerriotError, match="no benchmark target"):
        fay_herriot(
            data,
            area="area",
            estimate="p",
            n="n",
            covariates=["x"],
            benchmark="ratio",
            benchmark_by="region",
            benchmark_target={"A": 0.2},
            weight="pop",
        )


def test_nonpositive_benchmark_weights_are_rejected():
    data = SMALL.assign(region="A", pop=0.0)
    with pytest.raises(FayHerriotError, match="weights"):
        fay_herriot(
            data,
            area="area",
            estimate="p",
            n="n",
            covariates=["x"],
            benchmark="ratio",
            benchmark_by="region",
            benchmark_target={"A": 0.2},
            weight="pop",
        )


def test_reml_rejects_nonpositive_sampling_variances():
    with pytest.raises(FayHerriotError, match="psi"):
        fh.reml(np.zeros(5), np.ones((5, 1)), np.array([0.1, 0.1, 0.0, 0.1, 0.1]))


def test_errors_are_the_projects_parameter_errors():
    with pytest.raises(ParameterError, match="transform must be one of"):
        fay_herriot(MILK, area="area", estimate="yi", transform="probit")
