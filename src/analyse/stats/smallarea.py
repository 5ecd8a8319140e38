"""Area-level Fay–Herriot (FH) small-area estimates of proportions: EBLUP, REML, Prasad–Rao MSE.

The model-based companion to the direct (design-based) estimates of the cube for cells where the
direct estimate is suppressed or imprecise (young people, small kommuner). Only numpy, scipy and
pandas. Everything is a pure function of a frame with one row per area; column names are
arguments (no agreements, no geography, no files: those meet in
:mod:`analyse.cube.smallarea`, which assembles the covariates per kommune and applies the
disclosure rules of the published variant).

The model (Fay & Herriot 1979; Rao & Molina 2015, ch. 6), on a transformed scale θ = h(p):

    θ̂_k = θ_k + e_k,        e_k ~ N(0, ψ_k)       (sampling model, ψ_k known)
    θ_k = x_kᵀβ + u_k,      u_k ~ N(0, σ²_u)      (linking model)

EBLUP:  θ̃_k = γ_k θ̂_k + (1 − γ_k) x_kᵀβ̂,   γ_k = σ̂²_u / (σ̂²_u + ψ_k),

with β̂ the GLS estimate given σ̂²_u and σ̂²_u the REML estimate (Fisher scoring, truncated at 0).

Choices (reasoning in ``docs/methods.md`` §7; validation on the synthetic truth by
``bench/bench_smallarea.py``, figures in the README):

* **Scale: arcsine square root** (default ``transform="arcsin"``), θ = asin(√p). It is the
  variance-stabilising transform of a binomial proportion, var(θ̂) ≈ 1 / (4 n_eff), so the
  sampling variance depends on the effective sample size only and not on the noisy estimate
  itself. On the logit (or raw) scale the direct variance p̂(1 − p̂)/n is a function of p̂: a cell
  that happens to have a low p̂ gets a small variance, is trusted too much and drags the fit
  (a known bias of FH with direct variances for proportions), and p̂ = 0 or 1 has no logit at
  all. The arcsine scale is the one used for proportions by Efron & Morris (1975), Casas-Cordero,
  Encina & Lahiri (2016) and Schmid et al. (2017), and is offered by R's emdi (Kreutzmann et al.
  2019). ``"logit"`` and ``"identity"`` are available for comparisons and cross-checks.
* **Sampling variances: a generalised variance function** (``variance="gvf"``):
  ψ_k = deff / (4 n_k) on the arcsine scale, i.e. p(1 − p) / n_eff with n_eff = n / deff, where
  ``deff`` is one design effect for the whole fit, the median over the fitted areas (n ≥ 20,
  0 < p̂ < 1) of the design-based deff_k = se_k² n_k / (p̂_k (1 − p̂_k)). This smooths away the
  noise of small-sample variance estimates (Wolter 2007, ch. 7; Rao & Molina 2015, §6.4.1).
  ``variance="direct"`` uses the direct se instead (delta method onto the transformed scale).
* **MSE: Prasad–Rao** (Prasad & Rao 1990; Datta & Lahiri 2000 for REML):
  mse_k = g1_k + g2_k + 2 g3_k, on the transformed scale; the interval θ̃_k ± z √mse_k is
  back-transformed (so it stays in [0, 1]). Areas predicted synthetically (no usable direct
  estimate, or excluded) get mse = σ̂²_u + x_kᵀ(XᵀV⁻¹X)⁻¹x_k (Rao & Molina 2015, §6.2).
  A parametric bootstrap (Butar & Lahiri 2003) was not chosen: the analytic MSE costs
  microseconds inside the cube build and the validation shows adequate coverage.
* **Covariates that are estimates themselves** (the kommune's published all-ages prevalence as
  a covariate for a 16–24 or age × sex cell) are treated as measured with error
  (``covariate_se``, Ybarra & Lohr 2008): the synthetic part then carries the covariate's noise,
  c_k = Σ β_j² se_kj², and γ_k = (σ²_u + c_k)/(σ²_u + c_k + ψ_k). Without this the REML
  σ̂²_u is 0 in most fits (the covariate's noise is absorbed nowhere), γ = 0 everywhere and the
  Prasad–Rao intervals under-cover (0.88 instead of 0.95 on the synthetic truth).
* **σ²_u estimator**: REML truncated at 0 (default), or the Li & Lahiri (2010) adjusted REML
  (``estimator="li-lahiri"``), which is always positive; on the synthetic truth it did not
  improve coverage (its bias-corrected MSE is smaller), so REML stays the default.
* **Benchmarking** (``benchmark="ratio"`` or ``"difference"``) after back-transformation, so that
  the population-weighted mean of the areas of each benchmark group (region) equals the group's
  direct estimate: ratio p_k^B = p_k · T_g / Σ w p / Σ w (Pfeffermann & Barnard 1991; Datta,
  Ghosh, Steorts & Maples 2011); difference p_k^B = p_k + (T_g − Σ w p / Σ w) (Wang, Fuller & Qu
  2008 discuss both and a self-benchmarking alternative). The MSE of a benchmarked estimate is
  taken as mse_k + (θ_k^B − θ_k)² on the transformed scale: the squared adjustment estimates the
  O(1/m) excess MSE of benchmarking (Steorts & Ghosh 2013), a simple approximation.

References
----------
Butar, F. B. & Lahiri, P. (2003). On measures of uncertainty of empirical Bayes small-area
    estimators. *J. Statist. Plann. Inference* 112, 63–76.
Casas-Cordero, C., Encina, J. & Lahiri, P. (2016). Poverty mapping for the Chilean comunas. In
    Pratesi (ed.), *Analysis of Poverty Data by Small Area Estimation*, Wiley, ch. 20.
Datta, G. S. & Lahiri, P. (2000). A unified measure of uncertainty of estimated best linear
    unbiased predictors in small area estimation problems. *Statistica Sinica* 10, 613–627.
Datta, G. S., Ghosh, M., Steorts, R. & Maples, J. (2011). Bayesian benchmarking with
    applications to small area estimation. *TEST* 20, 574–588.
Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
    *JASA* 70, 311–319.
Fay, R. E. & Herriot, R. A. (1979). Estimates of income for small places: an application of
    James–Stein procedures to census data. *JASA* 74, 269–277.
Kreutzmann, A.-K., Pannier, S., Rojas-Perilla, N., Schmid, T., Templ, M. & Tzavidis, N. (2019).
    The R package emdi for estimating and mapping regionally disaggregated indicators. *Journal of
    Statistical Software* 91(7).
Pfeffermann, D. & Barnard, C. H. (1991). Some new estimators for small-area means with
    application to the assessment of farmland values. *J. Business & Economic Statistics* 9, 73–84.
Prasad, N. G. N. & Rao, J. N. K. (1990). The estimation of the mean squared error of small-area
    estimators. *JASA* 85, 163–171.
Rao, J. N. K. & Molina, I. (2015). *Small Area Estimation*, 2nd ed. Wiley. Ch. 6 (basic area
    level model), §6.4 (practical issues: benchmarking, variance smoothing).
Schmid, T., Bruckschen, F., Salvati, N. & Zbiranski, T. (2017). Constructing sociodemographic
    indicators for national statistical institutes by using mobile phone data: estimating literacy
    rates in Senegal. *JRSS A* 180, 1163–1190.
Steorts, R. C. & Ghosh, M. (2013). On estimation of mean squared errors of benchmarked empirical
    Bayes estimators. *Statistica Sinica* 23, 749–767.
Wang, J., Fuller, W. A. & Qu, Y. (2008). Small area estimation under a restriction. *Survey
    Methodology* 34, 29–36.
Li, H. & Lahiri, P. (2010). An adjusted maximum likelihood method for solving small area
    estimation problems. *J. Multivariate Analysis* 101, 882–892.
Ybarra, L. M. R. & Lohr, S. L. (2008). Small area estimation when auxiliary information is
    measured with error. *Biometrika* 95, 919–931.
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit, logit

from analyse.errors import ParameterError

TRANSFORMS = ("arcsin", "logit", "identity")
VARIANCES = ("gvf", "direct")
ESTIMATORS = ("reml", "li-lahiri")
BENCHMARKS = ("ratio", "difference")
#: Areas with fewer respondents than this do not enter the design-effect estimate of the GVF.
DEFF_MIN_N = 20

__all__ = [
    "FayHerriotError",
    "REMLFit",
    "benchmark_proportions",
    "estimate_deff",
    "fay_herriot",
    "prasad_rao_mse",
    "reml",
]


class FayHerriotError(ParameterError):
    """Bad input to the Fay–Herriot functions (missing column, wrong range, singular design …)."""


# =================================================================================================
# REML fit of the linear mixed model with known sampling variances
# =================================================================================================


@dataclass(frozen=True)
class REMLFit:
    """Result of :func:`reml`.

    Attributes
    ----------
    beta : GLS regression coefficients given ``sigma2_u``.
    beta_cov : (XᵀV⁻¹X)⁻¹, the covariance of ``beta`` given ``sigma2_u``.
    sigma2_u : REML estimate of the area-effect variance, ≥ 0.
    iterations : Fisher-scoring iterations used.
    converged : whether Fisher scoring met the tolerance (otherwise a bounded 1-d optimiser of the
        restricted likelihood was used, and this is still False).
    loglik : restricted log-likelihood at ``sigma2_u`` (up to a constant).
    """

    beta: np.ndarray
    beta_cov: np.ndarray
    sigma2_u: float
    iterations: int
    converged: bool
    loglik: float
    history: tuple[float, ...] = field(default=(), repr=False)


def _gls(y: np.ndarray, X: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """β̂, Q = (XᵀV⁻¹X)⁻¹ and the residual r = y − Xβ̂ for diagonal V = diag(v)."""
    vi = 1.0 / v
    xtvi = X.T * vi
    q = np.linalg.inv(xtvi @ X)
    beta = q @ (xtvi @ y)
    return beta, q, y - X @ beta


def _score_information(
    y: np.ndarray, X: np.ndarray, v: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """REML score and Fisher information at V = diag(v), in O(m p²) without forming P.

    With P = V⁻¹ − V⁻¹XQXᵀV⁻¹ and A_k = XᵀV⁻ᵏX: Py = V⁻¹r, tr(P) = Σ v⁻¹ − tr(Q A₂),
    tr(PP) = Σ v⁻² − 2 tr(Q A₃) + tr(Q A₂ Q A₂).
    """
    beta, q, r = _gls(y, X, v)
    vi = 1.0 / v
    a2 = (X.T * vi**2) @ X
    a3 = (X.T * vi**3) @ X
    qa2 = q @ a2
    tr_p = vi.sum() - np.trace(qa2)
    tr_pp = (vi**2).sum() - 2 * np.trace(q @ a3) + np.sum(qa2 * qa2.T)
    py = vi * r
    return float(-0.5 * tr_p + 0.5 * py @ py), float(0.5 * tr_pp), beta, q


def _restricted_loglik(s2: float, y: np.ndarray, X: np.ndarray, psi: np.ndarray) -> float:
    """Restricted log-likelihood up to a constant: −½ [log|V| + log|XᵀV⁻¹X| + yᵀPy]."""
    v = s2 + psi
    _, q, r = _gls(y, X, v)
    _, logdet_q = np.linalg.slogdet(q)
    return float(-0.5 * (np.log(v).sum() - logdet_q + r @ (r / v)))


def reml(
    y: np.ndarray,
    X: np.ndarray,
    psi: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
    start: float | None = None,
    adjusted: bool = False,
    offset: np.ndarray | None = None,
) -> REMLFit:
    """REML estimate of σ²_u in the Fay–Herriot model by Fisher scoring, truncated at 0.

    Score and information of the restricted likelihood (Rao & Molina 2015, §6.1.2):
    s(σ²) = −½ tr(P) + ½ yᵀPPy and I(σ²) = ½ tr(PP), with V = diag(σ² + ψ) and
    P = V⁻¹ − V⁻¹X(XᵀV⁻¹X)⁻¹XᵀV⁻¹. Update σ² ← max(0, σ² + s/I). At the boundary σ² = 0 the
    iteration stops when the score there is ≤ 0 (the restricted likelihood decreases into the
    interior), which is the constrained maximum. The start is median(ψ), as in R's ``sae``.

    Parameters
    ----------
    y : (m,) direct estimates on the model scale.
    X : (m, p) design matrix including the intercept column.
    psi : (m,) sampling variances, all > 0.
    max_iter, tol : at most ``max_iter`` steps; converged when the step is below
        ``tol × max(σ², median ψ)``. If Fisher scoring does not converge, the restricted
        likelihood is maximised by a bounded scalar optimiser instead (``converged`` False).
    start : starting value (default median(ψ)).
    adjusted : maximise the adjusted restricted likelihood σ² · L_R(σ²) of Li & Lahiri (2010)
        instead (score + 1/σ²), whose maximum is always > 0. With few areas or small σ²_u relative
        to ψ, plain REML is 0 in a large share of samples; then γ = 0 for every area and the
        Prasad–Rao MSE ignores the area effect, which under-covers (``docs/methods.md`` §7).
    offset : (m,) known extra model variance per area, c_k ≥ 0, so that V = diag(σ² + c + ψ):
        the variance β'C_kβ that a covariate measured with error adds to the synthetic part
        (Ybarra & Lohr 2008). Default 0.

    Returns
    -------
    REMLFit

    Raises
    ------
    FayHerriotError
        If shapes disagree, ψ is not positive and finite, m ≤ p, or X is rank deficient.
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    psi = np.asarray(psi, float)
    m = y.size
    if X.ndim != 2 or X.shape[0] != m or psi.shape != (m,):
        raise FayHerriotError(f"shapes do not agree: y {y.shape}, X {X.shape}, psi {psi.shape}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(X))):
        raise FayHerriotError("y and X must be finite")
    if not np.all(np.isfinite(psi) & (psi > 0)):
        raise FayHerriotError("sampling variances psi must be finite and > 0 in the fit")
    p = X.shape[1]
    if m <= p:
        raise FayHerriotError(
            f"{m} area(s) with a usable direct estimate for {p} regression coefficient(s): "
            "REML needs more areas than coefficients"
        )
    if np.linalg.matrix_rank(X) < p:
        raise FayHerriotError(
            "the covariates are collinear (design matrix rank deficient among the fitted areas); "
            "drop constant or redundant covariates"
        )
    c = np.zeros(m) if offset is None else np.asarray(offset, float)
    if c.shape != (m,) or not np.all(np.isfinite(c) & (c >= 0)):
        raise FayHerriotError("offset must be finite, ≥ 0 and one value per area")
    psi_c = psi + c  # σ² enters V only through σ² + (ψ + c)
    scale = float(np.median(psi))
    s2 = scale if start is None else max(float(start), 0.0)
    history = [s2]
    converged = False
    iterations = 0
    if adjusted and s2 <= 0:
        s2 = scale
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        score, info, _, _ = _score_information(y, X, s2 + psi_c)
        if adjusted:
            score += 1.0 / s2
            info += 1.0 / s2**2
            new = s2 + score / info
            if new <= 0:  # stay inside (0, ∞): the adjusted likelihood is −∞ at 0
                new = s2 / 10
        else:
            if s2 == 0.0 and score <= 0:
                converged = True
                break
            new = max(s2 + score / info, 0.0)
        history.append(new)
        step = abs(new - s2)
        s2 = new
        if step <= tol * max(s2, scale):
            converged = True
            break
    if not converged:
        upper = max(10 * float(np.var(y)), 10 * float(np.max(psi)))
        penalty = (lambda s: np.log(s)) if adjusted else (lambda s: 0.0)
        res = optimize.minimize_scalar(
            lambda s: -_restricted_loglik(s, y, X, psi_c) - penalty(s),
            bounds=(tol * scale if adjusted else 0.0, upper),
            method="bounded",
            options={"xatol": tol * scale},
        )
        s2 = float(res.x)
        if not adjusted and -res.fun < _restricted_loglik(0.0, y, X, psi_c):
            s2 = 0.0
    beta, q, _ = _gls(y, X, s2 + psi_c)
    return REMLFit(
        beta=beta,
        beta_cov=q,
        sigma2_u=float(s2),
        iterations=iterations,
        converged=converged,
        loglik=_restricted_loglik(s2, y, X, psi_c),
        history=tuple(history),
    )


def prasad_rao_mse(
    X: np.ndarray,
    psi: np.ndarray,
    sigma2_u: float,
    beta_cov: np.ndarray,
    *,
    adjusted: bool = False,
    offset: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Prasad–Rao MSE of the EBLUP with REML σ̂²_u: g1 + g2 + 2 g3 (fitted areas).

    g1_k = γ_k ψ_k,  g2_k = (1 − γ_k)² x_kᵀ Q x_k,  g3_k = (1 − γ_k)² V̄(σ̂²) / (σ̂² + ψ_k),
    V̄(σ̂²) = 2 / Σ_j (σ̂² + ψ_j)⁻² (asymptotic variance of the REML estimator), Q = (XᵀV⁻¹X)⁻¹.
    Prasad & Rao (1990) eq. 3.4 with the REML variance of Datta & Lahiri (2000); identical to
    ``sae::mseFH(method = "REML")``.

    With ``adjusted=True`` (σ̂²_u from the Li–Lahiri adjusted REML) the bias of σ̂²_u,
    b = 2 / (σ̂²_u Σ_j (σ̂²_u + ψ_j)⁻²), is subtracted as (1 − γ_k)² b (Li & Lahiri 2010; as in
    R's emdi, method "amrl"); the result is floored at g2 + 2 g3 so it cannot turn negative.

    With an ``offset`` c_k (covariate measurement error, see :func:`reml`) the model variance of
    area k is σ² + c_k and γ_k = (σ² + c_k) / (σ² + c_k + ψ_k) (Ybarra & Lohr 2008); the same
    formulas apply with V_k = σ² + c_k + ψ_k.

    Returns
    -------
    dict with ``g1``, ``g2``, ``g3``, ``mse`` (arrays of length m) and ``gamma``.
    """
    X = np.asarray(X, float)
    psi = np.asarray(psi, float)
    c = np.zeros_like(psi) if offset is None else np.asarray(offset, float)
    v = sigma2_u + c + psi
    gamma = (sigma2_u + c) / v
    b = 1.0 - gamma
    var_s2 = 2.0 / np.sum(v**-2.0)
    g1 = gamma * psi
    g2 = b**2 * np.einsum("ij,jk,ik->i", X, beta_cov, X)
    g3 = b**2 * var_s2 / v
    mse = g1 + g2 + 2 * g3
    if adjusted and sigma2_u > 0:
        mse = np.maximum(mse - b**2 * var_s2 / sigma2_u, g2 + 2 * g3)
    return {"g1": g1, "g2": g2, "g3": g3, "mse": mse, "gamma": gamma}


# =================================================================================================
# Transforms and the GVF
# =================================================================================================


def _forward(p: np.ndarray, transform: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if transform == "arcsin":
            return np.arcsin(np.sqrt(p))
        if transform == "logit":
            return logit(p)
    return np.asarray(p, float)


def _inverse(theta: np.ndarray, transform: str) -> np.ndarray:
    if transform == "arcsin":
        return np.sin(np.clip(theta, 0.0, np.pi / 2)) ** 2
    if transform == "logit":
        return expit(theta)
    return np.asarray(theta, float)


def _derivative_inverse(theta: np.ndarray, transform: str) -> np.ndarray:
    """dp/dθ, for the delta-method MSE on the proportion scale."""
    if transform == "arcsin":
        return np.sin(2 * np.clip(theta, 0.0, np.pi / 2))
    if transform == "logit":
        p = expit(theta)
        return p * (1 - p)
    return np.ones_like(np.asarray(theta, float))


def estimate_deff(
    p: np.ndarray, se: np.ndarray, n: np.ndarray, *, min_n: int = DEFF_MIN_N
) -> float:
    """One design effect for a GVF: the median of se² n / (p(1 − p)) over usable areas.

    Usable: finite values, 0 < p < 1, se > 0 and n ≥ ``min_n`` (if fewer than 3 areas qualify,
    every area with n ≥ 2 is used). The median is robust to the noisy variance estimates of small
    cells, which is the point of smoothing (Wolter 2007, ch. 7).

    Raises
    ------
    FayHerriotError
        If no area allows an estimate (then pass ``deff`` explicitly).
    """
    p, se, n = (np.asarray(a, float) for a in (p, se, n))
    ok = np.isfinite(p) & np.isfinite(se) & np.isfinite(n) & (p > 0) & (p < 1) & (se > 0)
    for floor in (min_n, 2):
        use = ok & (n >= floor)
        if use.sum() >= 3 or (floor == 2 and use.any()):
            d = se[use] ** 2 * n[use] / (p[use] * (1 - p[use]))
            return float(np.median(d))
    raise FayHerriotError(
        "cannot estimate a design effect for the GVF (no area with 0 < p < 1, se > 0 and n ≥ 2); "
        "pass deff= explicitly"
    )


def _psi(
    p: np.ndarray, se: np.ndarray, n: np.ndarray, transform: str, variance: str, deff: float
) -> np.ndarray:
    """Sampling variance on the model scale (inf where not defined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if variance == "gvf":
            if transform == "arcsin":
                psi = deff / (4.0 * n)
            elif transform == "logit":
                psi = deff / (n * p * (1 - p))
            else:
                psi = deff * p * (1 - p) / n
        else:  # direct, delta method
            if transform == "arcsin":
                psi = se**2 / (4 * p * (1 - p))
            elif transform == "logit":
                psi = se**2 / (p * (1 - p)) ** 2
            else:
                psi = se**2
    psi = np.where(np.isnan(psi), np.inf, psi)
    return psi


# =================================================================================================
# Benchmarking
# =================================================================================================


def benchmark_proportions(
    estimate: np.ndarray,
    group: np.ndarray,
    weight: np.ndarray,
    target: Mapping | pd.Series,
    method: str = "ratio",
) -> np.ndarray:
    """Adjust estimates so that, per group, Σ w_k p_k / Σ w_k equals the group's target.

    ``ratio``: p_k · T_g / p̄_g (keeps p ≥ 0 and relative differences between areas);
    ``difference``: p_k + (T_g − p̄_g) (keeps absolute differences; may leave [0, 1]).
    Here p̄_g = Σ_{k∈g} w_k p_k / Σ_{k∈g} w_k. References: Pfeffermann & Barnard (1991); Wang,
    Fuller & Qu (2008); Datta et al. (2011); Rao & Molina (2015), §6.4.4.

    Parameters
    ----------
    estimate : (m,) model estimates on the proportion scale.
    group : (m,) benchmark group of each area (e.g. region code).
    weight : (m,) population weights (e.g. the group's population in each kommune), > 0.
    target : group → target proportion (the group's direct estimate).
    method : ``"ratio"`` or ``"difference"``.

    Returns
    -------
    ndarray of benchmarked estimates (not clipped).

    Raises
    ------
    FayHerriotError
        Unknown method, non-positive or missing weights, or a group without a target.
    """
    if method not in BENCHMARKS:
        raise FayHerriotError(f"benchmark must be one of {BENCHMARKS} or None, got {method!r}")
    est = np.asarray(estimate, float)
    w = np.asarray(weight, float)
    if not (np.all(np.isfinite(w)) and np.all(w > 0)):
        raise FayHerriotError("benchmark weights must be finite and > 0")
    codes, uniques = pd.factorize(pd.Series(np.asarray(group, dtype=object)).astype(str))
    lookup = {str(k): v for k, v in dict(target).items()}
    missing = sorted(str(u) for u in uniques if u not in lookup)
    if (codes < 0).any() or missing:
        raise FayHerriotError(f"no benchmark target for group(s) {missing or ['<missing>']}")
    t = np.array([lookup[u] for u in uniques], dtype=float)[codes]
    if not np.all(np.isfinite(t)):
        raise FayHerriotError("benchmark targets must be finite")
    sw = np.bincount(codes, weights=w)
    swp = np.bincount(codes, weights=w * est)
    mean = (swp / sw)[codes]
    if method == "ratio":
        if np.any(mean <= 0):
            raise FayHerriotError("ratio benchmarking needs a positive weighted mean in each group")
        return est * t / mean
    return est + (t - mean)


# =================================================================================================
# The frame-level function
# =================================================================================================


def _column(frame: pd.DataFrame, name: str, what: str) -> np.ndarray:
    if name not in frame.columns:
        raise FayHerriotError(
            f"{what} column {name!r} is not in the frame; present: {', '.join(map(str, frame.columns))}"
        )
    column = frame[name]
    if column.dtype == object or isinstance(column.dtype, pd.StringDtype) or column.dtype == bool:
        raise FayHerriotError(f"{what} column {name!r} must be numeric, not {column.dtype}")
    try:
        return column.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise FayHerriotError(f"{what} column {name!r} must be numeric") from exc


def fay_herriot(
    direct: pd.DataFrame,
    *,
    area: str = "area_code",
    estimate: str = "estimate",
    se: str | None = "se",
    n: str | None = "n",
    covariates: Sequence[str] = (),
    covariate_se: Mapping[str, str] | None = None,
    transform: str = "arcsin",
    variance: str = "gvf",
    estimator: str = "reml",
    deff: float | None = None,
    exclude: str | None = None,
    benchmark: str | None = None,
    benchmark_by: str | None = None,
    benchmark_target: Mapping | pd.Series | None = None,
    weight: str | None = None,
    level: float = 0.95,
    ci_low: str | None = None,
    ci_high: str | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> pd.DataFrame:
    """Fay–Herriot EBLUP of a proportion per area, with Prasad–Rao MSE and optional benchmarking.

    Parameters
    ----------
    direct
        One row per area: the direct estimate (proportion 0–1; may be missing), its standard error,
        the number of respondents and the covariates. Not modified.
    area, estimate, se, n
        Column names. ``se`` is needed for ``variance="direct"`` and to estimate the design
        effect when ``deff`` is not given; ``n`` (respondents with an answer) for the GVF.
    covariates
        Columns of area-level covariates known for every area without microdata (population
        composition, urbanity, a published related estimate …). An intercept is always added.
        They must be finite in every row; constant or collinear covariates are an error.
    covariate_se
        Covariates that are themselves estimates (e.g. the kommune's published all-ages
        prevalence): covariate name → column with its standard error. Their error variance
        enters the model as c_k = Σ_j β_j² se_kj² (Ybarra & Lohr 2008): γ_k = (σ² + c_k) /
        (σ² + c_k + ψ_k), so an area whose covariate is noisy leans more on its direct estimate,
        and the MSE includes the covariate noise. β is re-estimated until stable (≤ 20 rounds).
        A possible correlation between the covariate's error and the direct estimate's (shared
        respondents) is ignored.
    transform
        ``"arcsin"`` (default, θ = asin √p), ``"logit"`` or ``"identity"``.
    variance
        ``"gvf"`` (default): ψ_k from n_k and one design effect (see :func:`estimate_deff`);
        ``"direct"``: ψ_k from the direct se by the delta method.
    estimator
        ``"reml"`` (default; Fisher scoring, σ̂²_u truncated at 0) or ``"li-lahiri"`` (adjusted
        REML of Li & Lahiri 2010, always > 0, with their bias-corrected MSE).
    deff
        Design effect for the GVF; default estimated from the fitted areas.
    exclude
        Name of a boolean column: rows whose direct estimate must not be used at all (e.g.
        suppressed cells). They are left out of the fit (β̂, σ̂²_u, deff do not depend on them)
        and get the synthetic estimate x_kᵀβ̂ (γ = 0). This is the disclosure-safe option
        (``docs/methods.md`` §7).
    benchmark, benchmark_by, benchmark_target, weight
        ``benchmark`` ``"ratio"`` or ``"difference"`` (default None: no benchmarking);
        ``benchmark_by`` the column with each area's benchmark group (region code);
        ``benchmark_target`` group → direct estimate of the group; ``weight`` the column with the
        population weights of the areas (e.g. the population of the cell in each kommune).
    level
        Confidence level of the intervals.
    ci_low, ci_high
        Columns with the direct interval, used for ``flag``; default ± z·se.
    max_iter, tol
        Fisher scoring controls (see :func:`reml`).

    Returns
    -------
    DataFrame, one row per input row in the same order, with the area column and:
    ``direct``, ``direct_se``, ``n``; ``estimate`` (model estimate, 0–1), ``se`` (√mse),
    ``mse`` (delta method on the proportion scale), ``ci_low``, ``ci_high`` (back-transformed
    interval), ``theta``, ``mse_theta`` (transformed scale), ``g1``, ``g2``, ``g3``,
    ``gamma`` (shrinkage weight of the direct estimate), ``synthetic`` (x_kᵀβ̂ back-transformed),
    ``sigma2_u``, ``deff``, ``method`` (``eblup``, ``synthetic`` or ``direct`` for ψ = 0, plus
    ``+ratio``/``+difference`` when benchmarked) and ``flag`` (model estimate more than one
    direct half-width from the direct estimate). ``result.attrs["fit"]`` holds β̂, its
    covariance, σ̂²_u, deff, the iterations and the covariate names.

    Notes
    -----
    Rows without a usable direct estimate (missing estimate, n = 0, infinite ψ, or on the logit
    scale p̂ ∈ {0, 1}; with ``variance="direct"`` on a transformed scale also p̂ ∈ {0, 1}, whose
    design-based se of 0 is an artefact) are predicted synthetically, like excluded rows.
    A row with ψ = 0 (identity scale, se 0) is taken as exact: estimate = direct, γ = 1,
    mse = 0, and it is left out of the REML fit, whose likelihood it would make degenerate.

    References
    ----------
    Fay & Herriot (1979); Prasad & Rao (1990); Datta & Lahiri (2000); Rao & Molina (2015), ch. 6;
    Wang, Fuller & Qu (2008); see the module docstring for the full list.

    Raises
    ------
    FayHerriotError
        For a missing or non-numeric column, duplicated areas, proportions outside [0, 1] on a
        proportion scale, negative se or n, non-finite covariates, unknown options, a level
        outside (0, 1), incomplete benchmark arguments, too few fitted areas or collinear
        covariates.
    """
    if not isinstance(direct, pd.DataFrame):
        raise FayHerriotError(f"direct must be a pandas DataFrame, got {type(direct).__name__}")
    if transform not in TRANSFORMS:
        raise FayHerriotError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    if variance not in VARIANCES:
        raise FayHerriotError(f"variance must be one of {VARIANCES}, got {variance!r}")
    if estimator not in ESTIMATORS:
        raise FayHerriotError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    adjusted = estimator == "li-lahiri"
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise FayHerriotError(f"benchmark must be one of {BENCHMARKS} or None, got {benchmark!r}")
    if isinstance(level, bool) or not (isinstance(level, (int, float)) and 0 < level < 1):
        raise FayHerriotError(f"level must be in (0, 1), got {level!r}")
    if isinstance(covariates, str):
        raise FayHerriotError("covariates must be a list of column names, not one string")
    if len(direct) == 0:
        raise FayHerriotError("the frame has no rows")
    if area not in direct.columns:
        raise FayHerriotError(f"area column {area!r} is not in the frame")
    if direct[area].duplicated().any():
        dup = direct.loc[direct[area].duplicated(), area].iloc[0]
        raise FayHerriotError(f"area {dup!r} appears more than once; pass one row per area")

    m = len(direct)
    p_hat = _column(direct, estimate, "estimate")
    se_v = _column(direct, se, "se") if se is not None else np.full(m, np.nan)
    n_v = _column(direct, n, "n") if n is not None else np.full(m, np.nan)
    if variance == "gvf" and n is None:
        raise FayHerriotError("variance='gvf' needs the n column")
    if variance == "direct" and se is None:
        raise FayHerriotError("variance='direct' needs the se column")
    if np.any(se_v < 0) or np.any(n_v < 0):
        raise FayHerriotError("se and n must be ≥ 0")
    if transform != "identity" and np.any((p_hat < 0) | (p_hat > 1)):
        raise FayHerriotError(
            f"estimates must be proportions in [0, 1] for transform={transform!r} (percentages?)"
        )
    if transform == "identity" and variance == "gvf" and np.any((p_hat < 0) | (p_hat > 1)):
        raise FayHerriotError("the GVF needs proportions in [0, 1]")
    cov_names = list(covariates)
    X = np.ones((m, 1 + len(cov_names)))
    for j, name in enumerate(cov_names):
        X[:, j + 1] = _column(direct, name, "covariate")
    if not np.all(np.isfinite(X)):
        raise FayHerriotError(
            "covariates must be finite in every row (they are needed for the synthetic part); "
            "drop the areas without covariates before calling"
        )
    excluded = np.zeros(m, bool)
    if exclude is not None:
        if exclude not in direct.columns:
            raise FayHerriotError(f"exclude column {exclude!r} is not in the frame")
        col = direct[exclude]
        if col.isna().any() or not all(
            isinstance(v, (bool, np.bool_)) for v in col.to_numpy(object)
        ):
            raise FayHerriotError(
                f"exclude column {exclude!r} must be boolean without missing values"
            )
        excluded = col.to_numpy(bool)
    if benchmark is not None and (
        benchmark_by is None or benchmark_target is None or weight is None
    ):
        raise FayHerriotError("benchmarking needs benchmark_by, benchmark_target and weight")

    # --- which rows carry usable direct information ------------------------------------------
    have = np.isfinite(p_hat) & ~excluded
    if variance == "gvf":
        have &= np.isfinite(n_v) & (n_v > 0)
    if transform == "logit" or (variance == "direct" and transform != "identity"):
        have &= (p_hat > 0) & (p_hat < 1)
    if variance == "direct":
        have &= np.isfinite(se_v)
    if variance == "gvf":
        if deff is None:
            deff = estimate_deff(p_hat[have], se_v[have], n_v[have])
        if not (np.isfinite(deff) and deff > 0):
            raise FayHerriotError(f"deff must be finite and > 0, got {deff!r}")
    deff_used = float(deff) if deff is not None else float("nan")
    psi = np.full(m, np.inf)
    psi[have] = _psi(p_hat[have], se_v[have], n_v[have], transform, variance, deff_used)
    exact = have & (psi == 0)
    fit_rows = have & np.isfinite(psi) & (psi > 0)
    theta_hat = np.full(m, np.nan)
    theta_hat[have] = _forward(p_hat[have], transform)

    se_x = np.zeros_like(X)
    for name, se_column in (covariate_se or {}).items():
        if name not in cov_names:
            raise FayHerriotError(f"covariate_se names {name!r}, which is not a covariate")
        values = _column(direct, se_column, "covariate se")
        if not np.all(np.isfinite(values) & (values >= 0)):
            raise FayHerriotError(f"covariate se column {se_column!r} must be finite and ≥ 0")
        se_x[:, 1 + cov_names.index(name)] = values
    offset = np.zeros(m)
    for _ in range(20):
        fit = reml(
            theta_hat[fit_rows],
            X[fit_rows],
            psi[fit_rows],
            max_iter=max_iter,
            tol=tol,
            adjusted=adjusted,
            offset=offset[fit_rows],
        )
        new_offset = (se_x**2) @ (fit.beta**2)
        if not covariate_se or np.max(np.abs(new_offset - offset)) <= 1e-8 * np.median(
            psi[fit_rows]
        ):
            break
        offset = new_offset
    s2 = fit.sigma2_u
    synth_theta = X @ fit.beta
    gamma = np.zeros(m)
    theta = synth_theta.copy()
    g1 = np.full(m, np.nan)
    g2 = np.full(m, np.nan)
    g3 = np.full(m, np.nan)
    pr = prasad_rao_mse(
        X[fit_rows], psi[fit_rows], s2, fit.beta_cov, adjusted=adjusted, offset=offset[fit_rows]
    )
    gamma[fit_rows] = pr["gamma"]
    theta[fit_rows] = synth_theta[fit_rows] + pr["gamma"] * (
        theta_hat[fit_rows] - synth_theta[fit_rows]
    )
    g1[fit_rows], g2[fit_rows], g3[fit_rows] = pr["g1"], pr["g2"], pr["g3"]
    mse_theta = np.empty(m)
    mse_theta[fit_rows] = pr["mse"]
    other = ~fit_rows & ~exact
    # Synthetic prediction: MSE = σ² + xᵀQx (the u_k of an area without data is not predicted).
    xqx = np.einsum("ij,jk,ik->i", X[other], fit.beta_cov, X[other])
    mse_theta[other] = s2 + offset[other] + xqx
    g1[other], g2[other], g3[other] = s2 + offset[other], xqx, 0.0
    gamma[exact] = 1.0
    theta[exact] = theta_hat[exact]
    mse_theta[exact] = 0.0
    g1[exact] = g2[exact] = g3[exact] = 0.0
    method = np.where(fit_rows, "eblup", np.where(exact, "direct", "synthetic")).astype(object)

    est = _inverse(theta, transform)
    if benchmark is not None:
        groups = direct[benchmark_by].to_numpy(dtype=object)
        w = _column(direct, weight, "weight")
        est_b = benchmark_proportions(est, groups, w, benchmark_target, benchmark)
        if transform == "arcsin":
            est_b_clipped = np.clip(est_b, 0.0, 1.0)
        elif transform == "logit":
            est_b_clipped = np.clip(est_b, 1e-12, 1 - 1e-12)
        else:
            est_b_clipped = est_b
        theta_b = _forward(est_b_clipped, transform)
        mse_theta = mse_theta + (theta_b - theta) ** 2
        theta, est = theta_b, est_b
        method = method + "+" + benchmark

    z = stats.norm.ppf(0.5 + level / 2)
    half = z * np.sqrt(mse_theta)
    lo = _inverse(theta - half, transform)
    hi = _inverse(theta + half, transform)
    mse_p = _derivative_inverse(theta, transform) ** 2 * mse_theta

    if ci_low is not None and ci_high is not None:
        d_half = (_column(direct, ci_high, "ci_high") - _column(direct, ci_low, "ci_low")) / 2
    else:
        d_half = z * se_v
    with np.errstate(invalid="ignore"):
        flag = np.abs(est - p_hat) > d_half
    flag = np.where(np.isfinite(p_hat) & np.isfinite(d_half), flag, False)

    out = pd.DataFrame(
        {
            area: direct[area].to_numpy(),
            "direct": p_hat,
            "direct_se": se_v,
            "n": n_v,
            "estimate": est,
            "se": np.sqrt(mse_p),
            "mse": mse_p,
            "ci_low": lo,
            "ci_high": hi,
            "theta": theta,
            "mse_theta": mse_theta,
            "g1": g1,
            "g2": g2,
            "g3": g3,
            "gamma": gamma,
            "synthetic": _inverse(synth_theta, transform),
            "sigma2_u": s2,
            "deff": deff_used,
            "psi": psi,
            "method": method,
            "flag": flag.astype(bool),
        },
        index=direct.index,
    )
    out.attrs["fit"] = {
        "covariates": ["(intercept)", *cov_names],
        "beta": fit.beta,
        "beta_cov": fit.beta_cov,
        "sigma2_u": s2,
        "deff": deff_used,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "m_fit": int(fit_rows.sum()),
        "offset": offset,
        "transform": transform,
        "variance": variance,
        "estimator": estimator,
        "benchmark": benchmark,
        "level": level,
    }
    return out
