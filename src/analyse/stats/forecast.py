"""Forecasts of survey prevalences to an agreement's end year, with calibrated intervals.

Pure functions on a plain tidy series (area, year, estimate, se, optional n; numpy, pandas and
scipy only; no files, no agreement):

- :func:`forecast` -- per area (and group, e.g. indicator): the projected prevalence in the target
  year, prediction intervals for the next *published* estimate, the probability of ending on the
  desired side of the baseline, and the diagnostics behind them;
- :func:`dl_meta_regression` -- DerSimonian-Laird meta-regression of one series (the building
  block of the between-wave variance; pinned to R ``metafor::rma(method = "DL")`` in the tests).

Model (docs/methods.md section 4): on the logit scale each area's published estimate is
``y_it = mu_t + d_it + e_it``: a group-wide (e.g. national) level ``mu_t``, the area's deviation
from it ``d_it`` and the sampling error ``e_it`` (variance known from ``se``). The group level (the
mean logit over the group's areas) is a random walk with a drift, fitted by generalised least
squares; its innovation variance per year (``shock_var``) is estimated by REML pooled over the
groups and the drift is damped towards zero by empirical Bayes. The COVID-19 wave gets its own
effect (left out of the group level) or is down-weighted by an extra variance estimated by REML.
The deviation is a per-area line whose slope is shrunk towards the mean slope by empirical Bayes
across all areas of the group (``slope_shrinkage``), with one DerSimonian-Laird between-wave
variance ``tau2`` pooled over all areas. The prediction interval adds the target wave's own
sampling error and uses a t quantile with Satterthwaite degrees of freedom from how the variances
were estimated. Which candidate (no trend, damped trend, full trend; three COVID-19 treatments)
``method="auto"`` uses was chosen by the leave-last-wave-out backtest on the published kommune
series (``bench/backtest_projection.py``; figures in the README).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analyse.errors import ParameterError

__all__ = [
    "AUTO_COVID",
    "AUTO_METHOD",
    "COVID_MODES",
    "METHODS",
    "dl_meta_regression",
    "forecast",
]

#: Candidate projection methods. ``level``: no trend (the group level is carried forward as a
#: random walk, the area's deviation as its precision-weighted mean). ``damped``: the group drift
#: and the area slopes shrunk towards "no extra trend" by empirical Bayes. ``trend``: unshrunk
#: drift and slopes (plain linear extrapolation with honest variances).
METHODS = ("level", "damped", "trend")
#: What ``method="auto"`` uses, chosen by the leave-last-wave-out backtest on the published
#: kommune series (bench/backtest_projection.py; docs/methods.md section 4) by a rule fixed
#: before looking at the winner: among the candidates that treat the COVID-19 wave explicitly
#: (its own effect or down-weighted), keep those that meet every target of the brief's promise in
#: every horizon (80 % interval covering 0.75-0.85 and 95 % covering 0.92-0.98 of the published
#: values, MAE no worse than carrying the last value forward, Brier score below 0.25), and take
#: the best mean log score among them. Only ``level`` with the COVID wave down-weighted passes;
#: ``damped`` scores better on MAE and log score but its intervals are too wide (95 % coverage
#: 0.99 in two horizons), so it stays available as ``method="damped"``.
AUTO_METHOD = "level"
AUTO_COVID = "downweight"
COVID_MODES = ("downweight", "effect", "ignore")
_DIRECTIONS = ("increase", "decrease")


# ---------------------------------------------------------------------------------------------
# Argument checks


def _columns(frame: pd.DataFrame, names: Mapping[str, str | None], what: str = "series") -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{what} must be a pandas DataFrame (got {type(frame).__name__})")
    for role, name in names.items():
        if name is not None and name not in frame.columns:
            raise ParameterError(
                f"{what} has no {role} column {name!r}; it has {', '.join(map(str, frame.columns))}"
            )


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_levels(levels) -> tuple[float, ...]:
    levels = tuple(float(x) for x in np.atleast_1d(levels))
    if not levels or any(not 0 < x < 1 for x in levels):
        raise ParameterError(
            f"levels must be numbers between 0 and 1, e.g. (0.8, 0.95); got {levels}"
        )
    return levels


def _direction_of(direction, keys: pd.DataFrame, group: list[str]) -> np.ndarray:
    """Desired direction per group row: one string for all, or a mapping group -> direction."""
    if isinstance(direction, str):
        values = np.full(len(keys), direction, dtype=object)
    elif isinstance(direction, Mapping):
        if not group:
            raise ParameterError("direction is a mapping but no group column was given")
        labels = [k[0] if len(k) == 1 else tuple(k) for k in keys[group].itertuples(index=False)]
        missing = sorted({str(k) for k in labels if k not in direction})
        if missing:
            raise ParameterError(f"direction has no entry for group(s) {', '.join(missing)}")
        values = np.array([direction[k] for k in labels], dtype=object)
    else:
        raise ParameterError(
            "direction must be 'increase', 'decrease' or a mapping group -> direction"
        )
    bad = sorted({str(v) for v in values if v not in _DIRECTIONS})
    if bad:
        raise ParameterError(f"direction must be 'increase' or 'decrease' (got {', '.join(bad)})")
    return values


# ---------------------------------------------------------------------------------------------
# Building blocks


def dl_meta_regression(y, v, x) -> dict:
    """DerSimonian-Laird random-effects meta-regression of ``y`` on ``x`` with known variances.

    The method-of-moments estimator of the extra (between-wave) variance of a weighted regression
    with known sampling variances (DerSimonian & Laird 1986; Raudenbush 2009, eq. 16.6), the same
    as R ``metafor::rma(yi, vi, mods = ~ x, method = "DL")``::

        Q    = sum w (y - X b_FE)^2,  w = 1/v
        tau2 = max(0, (Q - (k - p)) / (sum w - tr((X'WX)^-1 X'W^2 X)))

    Parameters
    ----------
    y, v : array_like
        Outcomes and their sampling variances (k values).
    x : array_like
        Moderator(s) without the intercept column (k values or k x q); an intercept is added.

    Returns
    -------
    dict
        ``beta`` (random-effects coefficients), ``vcov`` (their covariance with tau2 added to the
        weights), ``tau2``, ``q`` (residual heterogeneity statistic), ``df`` (k - p).
    """
    y = np.asarray(y, float)
    v = np.asarray(v, float)
    x = np.column_stack([np.ones_like(y), np.asarray(x, float).reshape(len(y), -1)])
    if np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ParameterError("sampling variances v must be positive and finite")
    k, p = x.shape
    w = 1 / v
    xtwx_inv = np.linalg.inv((x.T * w) @ x)
    beta_fe = xtwx_inv @ (x.T * w) @ y
    q = float(np.sum(w * (y - x @ beta_fe) ** 2))
    c = w.sum() - np.trace(xtwx_inv @ ((x.T * w**2) @ x))
    tau2 = max(0.0, (q - (k - p)) / c) if k > p and c > 0 else 0.0
    w_re = 1 / (v + tau2)
    vcov = np.linalg.inv((x.T * w_re) @ x)
    beta = vcov @ (x.T * w_re) @ y
    return {"beta": beta, "vcov": vcov, "tau2": tau2, "q": q, "df": k - p}


def _wide(frame: pd.DataFrame, values: Sequence[str], areas, years) -> dict:
    """Areas x waves arrays of several columns from one pivot (NaN where a wave is missing)."""
    table = frame.pivot(index="_area", columns="_year", values=list(values))
    return {v: table[v].reindex(index=areas, columns=years).to_numpy(float) for v in values}


def _area_component(dev, var, t, target, slopes: bool, shrink: bool) -> dict:
    """Deviation of each area from the group level: pooled DL tau2, EB-shrunk slopes, forecast.

    ``dev``/``var`` are areas x waves (NaN where missing). The stacked model has one intercept
    (and slope) per area, so its DL estimate is the sum of the per-area Q and c over all areas:
    tau2 = max(0, (sum_i Q_i - sum_i df_i) / sum_i c_i).
    """
    ok = np.isfinite(dev) & np.isfinite(var)
    k = ok.sum(axis=1)
    dev = np.where(ok, dev, 0.0)
    t = np.broadcast_to(t, dev.shape)
    slopes = slopes and bool(np.any(k >= 3))

    def fit(extra):
        w = np.where(ok, 1 / (np.where(ok, var, 1.0) + extra), 0.0)
        sw = w.sum(axis=1)
        tbar = (w * t).sum(axis=1) / sw
        a = (w * dev).sum(axis=1) / sw
        dt = np.where(ok, t - tbar[:, None], 0.0)
        sxx = (w * dt**2).sum(axis=1)
        use = slopes & (k >= 2) & (sxx > 0)
        b = np.where(use, (w * dt * dev).sum(axis=1) / np.where(use, sxx, 1.0), 0.0)
        return w, sw, tbar, a, b, dt, sxx, use

    w, sw, _, a, b, dt, sxx, use = fit(0.0)
    resid = np.where(ok, dev - a[:, None] - b[:, None] * dt, 0.0)
    q = (w * resid**2).sum(axis=1)
    c = sw - (w**2).sum(axis=1) / sw
    c = c - np.where(use, (w**2 * dt**2).sum(axis=1) / np.where(use, sxx, 1.0), 0.0)
    df = k - 1 - use
    pool = df > 0
    df_tau = int(df[pool].sum())
    tau2 = max(0.0, (q[pool].sum() - df_tau) / c[pool].sum()) if df_tau > 0 else 0.0

    w, sw, tbar, a, b, dt, sxx, use = fit(tau2)
    var_a = 1 / sw
    shrinkage = np.where(use, 1.0, 0.0)
    var_b = np.where(use, 1 / np.where(use, sxx, 1.0), 0.0)
    slope = b
    if shrink and use.sum() >= 3:
        omega = np.where(use, 1 / np.where(use, var_b, 1.0), 0.0)
        bbar = (omega * b).sum() / omega.sum()
        qb = (omega * (b - bbar) ** 2).sum()
        cb = omega.sum() - (omega**2).sum() / omega.sum()
        sigma_b2 = max(0.0, (qb - (use.sum() - 1)) / cb)
        denominator = np.where(use, sigma_b2 + var_b, 1.0)
        shrinkage = np.where(use & (denominator > 0), sigma_b2 / denominator, 0.0)
        slope = np.where(use, bbar + shrinkage * (b - bbar), 0.0)
    horizon = target - tbar
    return {
        "dev": a + slope * horizon,
        # level uncertainty + posterior slope variance + the target wave's own area shock
        "var": var_a + horizon**2 * shrinkage * var_b + tau2,
        "tau2": tau2,
        "df_tau": df_tau,
        "shrinkage": np.where(use, shrinkage, np.nan),
    }


def _gls(t, m, r, sigma2, drift, prior_var=np.inf):
    """GLS fit of the group level: Brownian motion (variance sigma2 per year) + drift + noise.

    ``m_j = alpha + beta (t_j - t_1) + W(t_j) + e_j``, ``Cov(W(t_i), W(t_j)) = sigma2 (min - t_1)``,
    ``Var(e_j) = r_j`` (sampling variance, plus kappa2 for a COVID wave). ``alpha`` has a flat
    prior, ``beta`` a N(0, prior_var) prior (``inf``: flat = full trend; ``drift=False``: beta = 0).
    Returns the pieces needed for REML and for prediction.
    """
    dt = t - t[0]
    sigma = sigma2 * np.minimum.outer(dt, dt) + np.diag(r)
    x = np.column_stack([np.ones_like(t), dt]) if drift else np.ones((len(t), 1))
    si = np.linalg.inv(sigma)
    info = x.T @ si @ x
    flat = np.linalg.inv(info)
    beta_flat = flat @ x.T @ si @ m
    prior = np.zeros_like(info)
    if drift and np.isfinite(prior_var):
        prior[1, 1] = 1 / prior_var if prior_var > 0 else 1e12
    post = np.linalg.inv(info + prior)
    beta = post @ x.T @ si @ m
    return {
        "x": x,
        "sigma": sigma,
        "si": si,
        "info": info,
        "flat": flat,
        "beta_flat": beta_flat,
        "post": post,
        "beta": beta,
        "dt": dt,
    }


def _reml(t, m, r, sigma2, drift) -> float:
    """Restricted log-likelihood of one group level (flat priors on alpha and beta)."""
    f = _gls(t, m, r, sigma2, drift)
    res = m - f["x"] @ f["beta_flat"]
    return -0.5 * (
        np.linalg.slogdet(f["sigma"])[1] + np.linalg.slogdet(f["info"])[1] + res @ f["si"] @ res
    )


def _group_levels(series: list[dict], method: str, covid: str, target: float, pool: bool):
    """Fit the group (national) level of every group and predict it at ``target``.

    The innovation variance ``sigma2`` (per year) and, with ``covid="downweight"``, the extra
    variance ``kappa2`` of a COVID-19 wave's group level are estimated by REML, pooled over the
    groups (``pool``) or per group. The drift prior variance A (``damped``) is the moment estimate
    mean(beta_g^2 - var(beta_g)) over the pooled groups (Efron-Morris, prior mean 0); each
    group's drift is then shrunk by ``A / (A + var(beta_g))``.
    """
    drift = method != "level"
    for g in series:
        keep = ~g["is_covid"] if covid == "effect" and not g["is_covid"].all() else g["ok"]
        g["t"], g["m"], g["s2"] = g["t_all"][keep], g["m_all"][keep], g["s2_all"][keep]
        g["covid"] = (g["is_covid"][keep] & (covid == "downweight")).astype(float)
        g["dropped"] = [int(y) for y in g["t_all"][~keep]]
        g["p"] = 1 + drift
    pools = [series] if pool else [[g] for g in series]
    for members in pools:
        usable = [g for g in members if len(g["t"]) > g["p"]]
        df = sum(len(g["t"]) - g["p"] for g in usable)
        # kappa2 needs a degree of freedom of its own; without one the wave keeps full weight
        fit_kappa = covid == "downweight" and any(g["covid"].any() for g in members) and df > 1
        df -= int(fit_kappa)
        for g in members:
            g["covid_full"] = covid == "downweight" and not fit_kappa and bool(g["covid"].any())
            if g["covid_full"]:
                g["covid"] = np.zeros_like(g["covid"])

        def negloglik(theta, usable=usable, fit_kappa=fit_kappa):
            s2, k2 = np.exp(theta[0]), (np.exp(theta[1]) if fit_kappa else 0.0)
            return -sum(_reml(g["t"], g["m"], g["s2"] + k2 * g["covid"], s2, drift) for g in usable)

        if df > 0:
            start = np.log([0.005, 0.01])[: 1 + fit_kappa]
            bounds = [(-18.0, 2.0)] * (1 + fit_kappa)
            best = optimize.minimize(negloglik, start, method="L-BFGS-B", bounds=bounds)
            sigma2 = float(np.exp(best.x[0]))
            sigma2 = 0.0 if best.x[0] <= -17.9 else sigma2
            kappa2 = float(np.exp(best.x[1])) if fit_kappa and best.x[1] > -17.9 else 0.0
        else:
            sigma2, kappa2 = np.nan, 0.0
        for g in members:
            g["sigma2"], g["kappa2"], g["df_sigma"] = sigma2, kappa2, max(df, 0)
        # drift prior (damped): moments over the pooled groups
        prior = np.inf
        if method == "damped":
            est = []
            for g in members:
                if len(g["t"]) >= 2 and np.isfinite(g["sigma2"]):
                    f = _gls(g["t"], g["m"], g["s2"] + g["kappa2"] * g["covid"], g["sigma2"], True)
                    est.append(f["beta_flat"][1] ** 2 - f["flat"][1, 1])
            prior = max(0.0, float(np.mean(est))) if est else 0.0
        for g in members:
            g["prior"] = prior
    for g in series:
        _predict_level(g, drift, target)
    return series


def _predict_level(g: dict, drift: bool, target: float) -> None:
    """Kriging prediction of the group level at ``target`` and its variance (in place)."""
    t, m = g["t"], g["m"]
    r = g["s2"] + g["kappa2"] * g["covid"]
    sigma2 = g["sigma2"] if np.isfinite(g["sigma2"]) else 0.0
    drift = drift and len(t) >= 2
    out = {}
    for s2 in (sigma2, 0.0):  # with and without the random-walk part (Satterthwaite split)
        f = _gls(t, m, r, s2, drift, g["prior"] if drift else np.inf)
        c = s2 * f["dt"]
        xt = np.array([1.0, target - t[0]])[: f["x"].shape[1]]
        w = f["si"] @ c
        mean = xt @ f["beta"] + w @ (m - f["x"] @ f["beta"])
        u = xt - f["x"].T @ w
        out[s2 == 0.0] = (mean, s2 * (target - t[0]) - c @ w + u @ f["post"] @ u, f)
    mean, var, f = out[sigma2 == 0.0]
    g["yhat"], g["var"] = mean, var
    g["shock_part"] = max(0.0, var - out[True][1]) if sigma2 > 0 else 0.0
    g["use_drift"] = drift
    g["damping"] = (
        float(f["beta"][1] / f["beta_flat"][1]) if drift and f["beta_flat"][1] != 0 else np.nan
    )


def _fit_levels(series_g: list[dict], target: float, pool_groups: bool) -> dict:
    """Group levels for every group under its (method, COVID mode), pooled where asked.

    Each (method, mode) is fitted on all groups when ``pool_groups`` (the variances are then
    shared), else on its own groups. A trend that no residual degree of freedom can judge falls
    back to no trend with the COVID wave down-weighted.
    """
    fitted = {}

    def run(members, method, mode, mark=None):
        pool = series_g if pool_groups else members
        copies = _group_levels([dict(g) for g in pool], method, mode, target, pool_groups)
        for g0, g1 in zip(pool, copies, strict=True):
            if any(g0 is g for g in members):
                g1["method"], g1["mode"] = method, mode
                if mark:
                    g1["fallback"] = True
                fitted[id(g0)] = g1

    for key in {(g["method"], g["mode"]) for g in series_g}:
        run([g for g in series_g if (g["method"], g["mode"]) == key], *key)
    unjudged = [g for g in series_g if g["method"] != "level" and fitted[id(g)]["df_sigma"] == 0]
    if unjudged:
        mode = "downweight" if unjudged[0]["mode"] == "effect" else unjudged[0]["mode"]
        run(unjudged, "level", mode, mark=True)
    return fitted


# ---------------------------------------------------------------------------------------------
# Forecast


def forecast(
    series: pd.DataFrame,
    *,
    area: str = "area",
    year: str = "year",
    estimate: str = "estimate",
    se: str | None = "se",
    n: str | None = None,
    group: str | Sequence[str] | None = None,
    direction: str | Mapping = "decrease",
    baseline_year: int | None = 2021,
    baseline_value: float | str | None = None,
    baseline_se: float | str | None = None,
    target_year: int = 2027,
    target_se: float | str | None = None,
    covid_years: Sequence[int] = (2021,),
    covid: str = "effect",
    levels: Sequence[float] = (0.8, 0.95),
    method: str = "auto",
    pool_groups: bool = True,
) -> pd.DataFrame:
    """Project each area's prevalence to ``target_year`` with honest prediction intervals.

    Strength is borrowed across all areas within a group (e.g. an indicator): the between-wave
    variance ``tau2`` of the areas' deviations from the group level is one DerSimonian-Laird
    estimate pooled over all areas, and each area's own slope is shrunk towards the group's mean
    slope by empirical Bayes (``slope_shrinkage`` = sigma_b^2 / (sigma_b^2 + var(b_i)), Efron &
    Morris 1975). The group level (the mean logit over areas per wave) is a random walk with a
    drift; its innovation variance per year (``shock_var``) is a REML estimate pooled over the
    groups (``pool_groups``) and the drift is damped towards zero by empirical Bayes
    (``trend_damping``). Waves in ``covid_years`` get their own effect (``covid="effect"``): they
    are left out of the group level but still inform the areas' deviations; with
    ``covid="downweight"`` they are kept with an extra variance estimated by REML (``covid_var``).
    ``method="auto"`` is the candidate the backtest chose (:data:`AUTO_METHOD` with
    :data:`AUTO_COVID`: no trend, the COVID wave down-weighted; the rule is in their comment).

    The prediction interval is for the next *published* estimate: on the logit scale
    ``yhat +/- t(df) * sqrt(V_group + V_area + v_target)``, where ``v_target`` is the target wave's
    own sampling variance and df follows Satterthwaite from the degrees of freedom of
    ``shock_var`` and ``tau2``. Everything is computed on the logit scale and back-transformed.

    Parameters
    ----------
    series : pandas.DataFrame
        Tidy: one row per area (x group) x wave. Not modified. Rows with a missing estimate are
        dropped (a suppressed or missing wave).
    area, year, estimate : str
        Column names: area identifier, wave year, estimate on the 0-1 scale (not percent).
    se : str or None
        Column with the sampling standard error (0-1 scale). ``None``: computed as
        ``sqrt(p(1-p)/n)`` from the ``n`` column.
    n : str or None
        Optional column with the (effective) sample size; reported as ``n_last``. Absent -> NaN.
    group : str or sequence of str or None
        Column(s) within which strength is borrowed across all areas (e.g. ``"indicator"``).
    direction : {"increase", "decrease"} or mapping
        Desired direction, for all groups or per group (keys = group values; tuples for several
        group columns).
    baseline_year : int or None
        Year of the baseline the probability compares with (2021 for the agreement).
    baseline_value, baseline_se : float or str or None
        Explicit baseline (0-1 scale) and its standard error, a number or a column name (read from
        the area's rows), used when the baseline year is not among the waves. Without them such
        areas get ``prob_desired_side = NaN`` and a note saying why.
    target_year : int
        Year to project to; must be after every group's last wave.
    target_se : float or str or None
        Sampling SE of the future published estimate (number or column, 0-1 scale). Default: the
        area's latest SE (the same sample size again).
    covid_years : sequence of int
        Waves collected under COVID-19 restrictions (default: the Sundhedsprofil wave of 2021;
        pass ``()`` for a series without one).
    covid : {"effect", "downweight", "ignore"}
        ``effect``: those waves get their own effect (left out of the group level).
        ``downweight``: kept, with an extra variance of their group level estimated by REML.
        ``ignore``: treated like the other waves.
    levels : sequence of float
        Prediction-interval levels.
    method : {"auto", "level", "damped", "trend"}
        Candidate model (see :data:`METHODS`); ``auto`` = :data:`AUTO_METHOD` with
        :data:`AUTO_COVID` (``covid`` is then not used), the candidate chosen by the backtest
        (docs/methods.md section 4).
    pool_groups : bool
        Pool the group-level innovation variance and drift prior over all groups (needed for
        groups with only two waves).

    Returns
    -------
    pandas.DataFrame
        One row per group x area: group columns, the area column (named as ``area``), ``n_waves``, ``waves``, ``last_year``,
        ``last_estimate``, ``n_last``, ``target_year``, ``projected``; ``pi{L}_low`` and
        ``pi{L}_high`` for each level (0-1 scale; the name carries the level in percent, e.g.
        ``pi95_low``); ``se_logit``, the predictive SD incl. the target wave's sampling error,
        with ``se_logit**2 = var_group + var_area + var_sampling`` (the group level's forecast
        variance, the area deviation's incl. ``tau2``, and the target wave's own sampling
        variance, all on the logit scale); ``baseline_year``, ``baseline_estimate``,
        ``direction``, ``prob_desired_side``, ``method``, ``tau2`` (between-wave variance of
        the areas' deviations, logit scale), ``shock_var`` (group-level innovation variance per
        year), ``covid_var`` (extra variance of a down-weighted COVID wave), ``slope_shrinkage``
        (EB weight kept of the area's own slope, 0-1), ``trend_damping`` (EB factor kept of the
        group drift, 0-1), ``df`` (t degrees of freedom), ``note`` (English).

    Raises
    ------
    ParameterError
        Missing columns, estimates outside (0, 1), non-positive SEs, duplicate rows, a target year
        not after the data, unknown method/direction/covid mode.

    Notes
    -----
    ``prob_desired_side`` is P(true target value on the desired side of the true baseline value):
    ``F_t((yhat_T - logit p_B) / sqrt(V_group + V_area + v_B))`` with the sign of the direction,
    where ``v_B`` is the baseline estimate's own sampling variance. With equally precise waves
    this equals the probability that the published target estimate beats the published baseline
    estimate, which is what the backtest checks.
    """
    group = _as_list(group)
    _columns(series, {"area": area, "year": year, "estimate": estimate, "se": se, "n": n})
    for g in group:
        _columns(series, {"group": g})
    for role, value in (
        ("target_se", target_se),
        ("baseline_value", baseline_value),
        ("baseline_se", baseline_se),
    ):
        if isinstance(value, str):
            _columns(series, {role: value})
    if se is None and n is None:
        raise ParameterError("give either an se column or an n column (se = sqrt(p(1-p)/n))")
    if method not in ("auto", *METHODS):
        raise ParameterError(
            f"method must be 'auto' or one of {', '.join(METHODS)} (got {method!r})"
        )
    if covid not in COVID_MODES:
        raise ParameterError(f"covid must be one of {', '.join(COVID_MODES)} (got {covid!r})")
    levels = _check_levels(levels)

    frame = pd.DataFrame({"_area": series[area].to_numpy(), "_year": series[year].to_numpy()})
    for g in group:
        frame[g] = series[g].to_numpy()
    frame["_p"] = pd.to_numeric(series[estimate], errors="coerce").to_numpy(float)
    frame["_n"] = (
        pd.to_numeric(series[n], errors="coerce").to_numpy(float) if n is not None else np.nan
    )
    frame["_se"] = (
        pd.to_numeric(series[se], errors="coerce").to_numpy(float) if se is not None else np.nan
    )
    for name, value in (("_tse", target_se), ("_bv", baseline_value), ("_bse", baseline_se)):
        frame[name] = (
            pd.to_numeric(series[value], errors="coerce").to_numpy(float)
            if isinstance(value, str)
            else (np.nan if value is None else float(value))
        )
    frame = frame[frame["_p"].notna()].copy()
    if frame.empty:
        raise ParameterError(f"series has no non-missing values in column {estimate!r}")
    if not np.all(np.isfinite(frame["_year"].astype(float))):
        raise ParameterError(f"column {year!r} must hold numeric years")
    frame["_year"] = frame["_year"].astype(float)
    if ((frame["_p"] <= 0) | (frame["_p"] >= 1)).any():
        bad = frame.loc[(frame["_p"] <= 0) | (frame["_p"] >= 1), "_p"].iloc[0]
        raise ParameterError(
            f"column {estimate!r} must be a proportion strictly between 0 and 1 (found {bad}); "
            "divide percentages by 100"
        )
    if se is None:
        frame["_se"] = np.sqrt(frame["_p"] * (1 - frame["_p"]) / frame["_n"])
    if not ((frame["_se"] > 0) & np.isfinite(frame["_se"])).all():
        raise ParameterError(
            f"column {se or n!r} gives a missing or non-positive standard error for some rows"
        )
    if frame.duplicated(group + ["_area", "_year"]).any():
        raise ParameterError(
            f"series has duplicate rows for the same {', '.join(group + [area, year])}"
        )
    frame["_y"] = special.logit(frame["_p"])
    frame["_v"] = (frame["_se"] / (frame["_p"] * (1 - frame["_p"]))) ** 2

    covid_years = {float(y) for y in covid_years}
    groups = list(frame.groupby(group, sort=True)) if group else [((), frame)]
    # ---- group level per group: mean logit over areas per wave
    series_g = []
    for key, cell in groups:
        last = cell["_year"].max()
        if target_year <= last:
            raise ParameterError(
                f"target_year {target_year} must be after the last wave ({int(last)})"
            )
        wave = cell.groupby("_year").agg(m=("_y", "mean"), sv=("_v", "sum"), n=("_y", "size"))
        is_covid = wave.index.isin(covid_years)
        if method == "auto":
            chosen, mode = AUTO_METHOD, AUTO_COVID
        else:
            chosen, mode = method, covid
        series_g.append(
            {
                "key": key,
                "t_all": wave.index.to_numpy(float),
                "m_all": wave["m"].to_numpy(float),
                "s2_all": (wave["sv"] / wave["n"] ** 2).to_numpy(float),
                "is_covid": is_covid,
                "ok": np.ones(len(wave), bool),
                "k_all": len(wave),
                "method": chosen,
                "mode": mode,
            }
        )
    fitted = _fit_levels(series_g, target_year, pool_groups)
    rows = []
    for (key, cell), g0 in zip(groups, series_g, strict=True):
        g = fitted[id(g0)]
        rows.append(_forecast_group(cell, g, key, group, target_year, g["mode"], covid_years))
    out = pd.concat(rows, ignore_index=True)

    # ---- intervals and probability
    tq = {lv: stats.t.ppf(0.5 + lv / 2, out["df"]) for lv in levels}
    out["direction"] = _direction_of(direction, out, group)
    p_hat = special.expit(out["_yhat"])
    v_target = np.where(
        np.isfinite(out["_tse"]), (out["_tse"] / (p_hat * (1 - p_hat))) ** 2, out["_vlast"]
    )
    total = np.sqrt(out["_vtheta"] + v_target)
    out["projected"] = p_hat
    out["var_sampling"] = v_target
    out["se_logit"] = total
    for lv in levels:
        tag = f"pi{round(100 * lv):d}"
        out[f"{tag}_low"] = special.expit(out["_yhat"] - tq[lv] * total)
        out[f"{tag}_high"] = special.expit(out["_yhat"] + tq[lv] * total)
    base_p, base_v, base_note = _baseline(out, baseline_year)
    sign = np.where(out["direction"] == "increase", 1.0, -1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = sign * (out["_yhat"] - special.logit(base_p)) / np.sqrt(out["_vtheta"] + base_v)
    out["baseline_year"] = baseline_year
    out["baseline_estimate"] = base_p
    out["prob_desired_side"] = stats.t.cdf(z, out["df"])
    out["note"] = [
        " ".join(x for x in parts if x) for parts in zip(out["note"], base_note, strict=True)
    ]
    columns = (
        group
        + [
            "area",
            "n_waves",
            "waves",
            "last_year",
            "last_estimate",
            "n_last",
            "target_year",
            "projected",
        ]
        + [f"pi{round(100 * lv):d}_{s}" for lv in levels for s in ("low", "high")]
        + [
            "se_logit",
            "var_group",
            "var_area",
            "var_sampling",
            "baseline_year",
            "baseline_estimate",
            "direction",
            "prob_desired_side",
            "method",
            "tau2",
            "shock_var",
            "covid_var",
            "slope_shrinkage",
            "trend_damping",
            "df",
            "note",
        ]
    )
    return out[columns].rename(columns={"area": area}) if area != "area" else out[columns]


def _forecast_group(cell, g, key, group, target_year, covid, covid_years) -> pd.DataFrame:
    """Forecast every area of one group (logit scale) and collect diagnostics."""
    method = g["method"]
    areas = np.sort(cell["_area"].unique())
    years = np.sort(cell["_year"].unique())
    wide = _wide(cell, ["_y", "_v", "_p", "_n"], areas, years)
    y, v = wide["_y"], wide["_v"]
    n_areas = np.isfinite(y).sum(axis=0)
    level = np.nanmean(y, axis=0)
    s2_wave = np.nansum(v, axis=0) / n_areas**2
    notes = []

    # group level (fitted by _group_levels)
    sigma2, df_sigma = g["sigma2"], g["df_sigma"]
    if not np.isfinite(sigma2):
        notes.append("The group level's year-to-year variance cannot be estimated.")
    if sigma2 == 0:
        notes.append(
            f"Group-level variance estimated as 0 (on {df_sigma} df): the interval may be too "
            "narrow."
        )
    if g.get("fallback"):
        notes.append("Too few waves to judge a trend: no-trend model used.")
    yhat_level, var_level, shock_part, psi = g["yhat"], g["var"], g["shock_part"], g["damping"]
    if not np.isfinite(sigma2):
        var_level = np.nan  # no interval rather than a falsely narrow one

    # area deviations from the group level (all waves, COVID included)
    if len(areas) > 1:
        var_dev = v * (1 - 2 / n_areas) + s2_wave
        comp = _area_component(
            y - level,
            var_dev,
            years,
            target_year,
            slopes=method != "level",
            shrink=method == "damped",
        )
    else:
        comp = {
            "dev": np.zeros(1),
            "var": np.zeros(1),
            "tau2": np.nan,
            "df_tau": 0,
            "shrinkage": np.full(1, np.nan),
        }
        notes.append("Single area: no between-area borrowing; the series is its own group level.")
    tau2 = comp["tau2"] if np.isfinite(comp["tau2"]) else 0.0
    # Satterthwaite df: the shock part rests on df_sigma, the area shock on df_tau
    vtheta = var_level + comp["var"]
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = (shock_part**2 / df_sigma if df_sigma > 0 else 0.0) + (
            tau2**2 / comp["df_tau"] if comp["df_tau"] > 0 else 0.0
        )
        vlast = np.array([v[i][np.isfinite(v[i])][-1] for i in range(len(areas))])
        df = np.where(denom > 0, (vtheta + vlast) ** 2 / denom, np.inf)
    k_area = np.isfinite(y).sum(axis=1)
    if g["k_all"] < 3:
        notes.append(
            f"Only {g['k_all']} wave{'s' if g['k_all'] != 1 else ''}: no trend is judged; "
            "wide interval."
        )
    if g.get("covid_full"):
        notes.append(
            "COVID-19 wave kept with full weight (too few waves to estimate its extra variance)."
        )
    if g["covid"].any():
        notes.append(
            f"COVID-19 wave down-weighted (extra variance {g['kappa2']:.3g} on the logit scale)."
        )
    if g["dropped"]:
        notes.append(
            f"COVID-19 wave {', '.join(map(str, g['dropped']))} has its own effect "
            "(left out of the group trend)."
        )
    elif covid == "ignore" and covid_years & set(years):
        notes.append("COVID-19 wave treated like the others.")
    if float(target_year) in covid_years:
        notes.append("Target is a COVID-19 wave: its own shock is not in the model.")
    last_idx = [np.flatnonzero(np.isfinite(y[i]))[-1] for i in range(len(areas))]
    p, nn = wide["_p"], wide["_n"]
    first = cell.drop_duplicates("_area").set_index("_area").reindex(areas)
    out = pd.DataFrame(
        {
            "area": areas,
            "n_waves": k_area,
            "waves": [
                ",".join(str(int(yr)) for yr in years[np.isfinite(y[i])]) for i in range(len(areas))
            ],
            "last_year": years[last_idx].astype(int),
            "last_estimate": p[np.arange(len(areas)), last_idx],
            "n_last": nn[np.arange(len(areas)), last_idx],
            "target_year": target_year,
            "method": method,
            "tau2": comp["tau2"],
            "shock_var": sigma2,
            "covid_var": g["kappa2"] if g["covid"].any() else np.nan,
            "slope_shrinkage": comp["shrinkage"],
            "trend_damping": psi if g["use_drift"] else np.nan,
            "df": df,
            "var_group": var_level,
            "var_area": comp["var"],
            "_yhat": yhat_level + comp["dev"],
            "_vtheta": vtheta,
            "_vlast": vlast,
            "_tse": first["_tse"].to_numpy(float),
            "_bv": first["_bv"].to_numpy(float),
            "_bse": first["_bse"].to_numpy(float),
        }
    )
    # baseline from the series
    out["_base_p"] = np.nan
    out["_base_v"] = np.nan
    out["_years"] = [years[np.isfinite(y[i])] for i in range(len(areas))]
    out["_p_wide"] = list(p)
    out["_v_wide"] = list(v)
    out["_all_years"] = [years] * len(areas)
    for col, value in zip(group, key if isinstance(key, tuple) else (key,), strict=True):
        out.insert(group.index(col), col, value)
    out["note"] = " ".join(notes)
    out.loc[k_area < 2, "note"] = out.loc[k_area < 2, "note"] + " Area has one wave only."
    return out


def _baseline(out: pd.DataFrame, baseline_year):
    """Baseline estimate and its sampling variance (logit) per row, with a note when missing."""
    base_p = np.full(len(out), np.nan)
    base_v = np.full(len(out), np.nan)
    notes = [""] * len(out)
    for i, (years, p, v, bv, bse) in enumerate(
        zip(out["_all_years"], out["_p_wide"], out["_v_wide"], out["_bv"], out["_bse"], strict=True)
    ):
        if baseline_year is None:
            notes[i] = "No baseline year given: no probability."
            continue
        hit = np.flatnonzero(years == baseline_year)
        if len(hit) and np.isfinite(p[hit[0]]):
            base_p[i], base_v[i] = p[hit[0]], v[hit[0]]
        elif np.isfinite(bv) and np.isfinite(bse) and 0 < bv < 1 and bse > 0:
            base_p[i], base_v[i] = bv, (bse / (bv * (1 - bv))) ** 2
        elif np.isfinite(bv) and 0 < bv < 1:
            notes[i] = "Explicit baseline given without its SE: no probability."
        else:
            notes[i] = (
                f"Baseline year {baseline_year} is not among this area's waves and no "
                "baseline_value/baseline_se was given: no probability."
            )
    return base_p, base_v, notes
