"""The trend of a plain series of estimates: one row per wave or year, no agreement needed.

A series is a tidy frame with a year column and either an estimate and its standard error per
wave (survey estimates, 0-1 scale) or a numerator and denominator per year (register counts).
:func:`trend_series` fits weighted least squares of logit(p) on year with known variances per
cell of ``keys`` (an area, an indicator × area, ...) and projects the target year with the
pooled forecast of :func:`analyse.stats.forecast.forecast` (all cells of a ``group`` fitted
jointly); :func:`projection` returns the projection columns with the fit and linearity notes.
Register counts also get the Fingertips chi-square test for linear trend and the annual percent
change. The building blocks (:func:`slope_summary`, :func:`wls_logit`,
:func:`between_wave_variance`, :func:`projection_summary`) are shared with the microdata trend of
:mod:`analyse.stats.trend`.

Which waves are comparable, which year is the baseline and which direction is desired are the
caller's: the cube layer takes them from an agreement, a user passes them as arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from analyse.errors import ParameterError
from analyse.stats import forecast as pooled

__all__ = [
    "COUNT_COLUMNS",
    "PROJECTION_COLUMNS",
    "TREND_COLUMNS",
    "annual_percent_change",
    "chi2_trend",
    "projection",
    "trend_series",
]

DIRECTIONS = ("increase", "decrease")
# Fingertips (PHE) computes its chi-square test for trend on the five most recent points.
TREND_POINTS = 5
FEW_WAVES_NOTE = "færre end to sammenlignelige målinger"


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float in (0, 1), or a :class:`ParameterError`."""
    if not isinstance(confidence, int | float) or not 0 < float(confidence) < 1:
        raise ParameterError(
            f"confidence must be a number between 0 and 1 (got {confidence!r}), e.g. 0.95"
        )
    return float(confidence)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`ParameterError` naming the columns of ``columns`` that ``frame`` lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{what} must be a pandas DataFrame (got {type(frame).__name__})")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )


def check_direction(direction: str) -> str:
    """``direction`` if it is ``"increase"`` or ``"decrease"``, else a :class:`ParameterError`."""
    if direction not in DIRECTIONS:
        raise ParameterError(
            f"direction must be 'increase' (higher is better) or 'decrease' (lower is better), "
            f"or the name of a column holding one of them per row; got {direction!r}"
        )
    return direction


# ---------------------------------------------------------------------------------------------
# Shared building blocks (also used by the microdata trend)


def quantile(confidence: float, df: float) -> float:
    """Two-sided quantile: t with ``df`` degrees of freedom, normal when ``df`` is infinite."""
    if not np.isfinite(df):
        return float(stats.norm.ppf(0.5 + confidence / 2))
    return float(stats.t.ppf(0.5 + confidence / 2, df)) if df > 0 else np.nan


def two_sided(t: float, df: float) -> float:
    """Two-sided p-value of a t (or, with infinite ``df``, normal) statistic."""
    if not np.isfinite(df):
        return float(2 * stats.norm.sf(abs(t)))
    return float(2 * stats.t.sf(abs(t), df)) if df > 0 else np.nan


def empty_result(reason: str) -> dict:
    """The result of a fit that could not be made: only its Danish ``fit_note``."""
    return {"fit_note": reason}


def slope_summary(b, se, ame, ame_se, df, confidence) -> dict:
    """Odds ratio and average annual change (percentage points) with intervals and p-values."""
    q = quantile(confidence, df)
    return {
        "log_odds_slope": b,
        "log_odds_se": se,
        "odds_ratio": np.exp(b),
        "or_ci_low": np.exp(b - q * se),
        "or_ci_high": np.exp(b + q * se),
        "slope_p_value": two_sided(b / se, df) if se > 0 else np.nan,
        "annual_change_pp": 100 * ame,
        "annual_change_se_pp": 100 * ame_se,
        "annual_change_ci_low_pp": 100 * (ame - q * ame_se),
        "annual_change_ci_high_pp": 100 * (ame + q * ame_se),
        "annual_change_p_value": two_sided(ame / ame_se, df) if ame_se > 0 else np.nan,
        "df": df,
    }


def wls_logit(years, estimate, se, centre):
    """Inverse-variance weighted least squares of logit(p) on year (known variances).

    Returns coefficients, their covariance (X'WX)^-1, the residual statistic Q, the logit values
    and their variances.
    """
    link = special.logit(estimate)
    variance = (se / (estimate * (1 - estimate))) ** 2
    x = np.column_stack([np.ones_like(years, dtype=float), years - centre])
    w = 1 / variance
    xtwx = (x.T * w) @ x
    vcov = np.linalg.inv(xtwx)
    beta = vcov @ (x.T * w) @ link
    q = float(np.sum(w * (link - x @ beta) ** 2))
    return beta, vcov, q, link, variance, x, w


def between_wave_variance(q: float, x: np.ndarray, w: np.ndarray, vcov: np.ndarray) -> float:
    """Method-of-moments (DerSimonian-Laird for meta-regression) extra variance on the logit scale.

    ``tau² = max(0, (Q - (k - p)) / (sum w - tr((X'WX)^-1 X'W²X)))`` (Raudenbush 2009, eq. 16.6).
    Zero when there are only two waves (k - p = 0: nothing to estimate it from).
    """
    k, p = x.shape
    if k <= p:
        return 0.0
    denominator = w.sum() - np.trace(vcov @ ((x.T * w**2) @ x))
    return max(0.0, (q - (k - p)) / denominator) if denominator > 0 else 0.0


def projection_summary(link, link_se2, tau2, df, baseline, direction, target, confidence) -> dict:
    """Projected value (expit of the link) with a prediction interval and P(desired side)."""
    total_se = np.sqrt(link_se2 + tau2)
    q = quantile(confidence, df)
    estimate = special.expit(link)
    if baseline is None or not np.isfinite(baseline) or not 0 < baseline < 1:
        probability = np.nan
    else:
        distance = (link - special.logit(baseline)) / total_se
        probability = stats.norm.cdf(distance if direction == "increase" else -distance)
    return {
        "projection_year": target,
        "projected": estimate,
        "projected_se": estimate * (1 - estimate) * total_se,
        "projected_pi_low": special.expit(link - q * total_se),
        "projected_pi_high": special.expit(link + q * total_se),
        "trend_se_logit": np.sqrt(link_se2),
        "between_wave_sd_logit": np.sqrt(tau2),
        "baseline_estimate": baseline,
        "prob_desired_side": probability,
    }


# ---------------------------------------------------------------------------------------------
# Aggregated series


def counts_as_estimates(counts: pd.DataFrame) -> pd.DataFrame:
    """Numerator/denominator → proportion with binomial SE ``sqrt(p(1-p)/n)``."""
    numerator = counts["numerator"].to_numpy(float)
    denominator = counts["denominator"].to_numpy(float)
    bad = (denominator <= 0) | (numerator < 0) | (numerator > denominator)
    if bad.any():
        raise ParameterError(
            f"counts need 0 <= numerator <= denominator and denominator > 0; "
            f"{int(bad.sum())} rows break this"
        )
    p = numerator / denominator
    out = counts.copy()
    out["estimate"] = p
    out["se"] = np.sqrt(p * (1 - p) / denominator)
    out["n"] = denominator
    return out


def chi2_trend(numerator, denominator, score=None) -> tuple[float, float]:
    """Chi-square test for linear trend in proportions (Cochran-Armitage, 1 df).

    ``X² = N (N Σ rᵢtᵢ - R Σ nᵢtᵢ)² / (R (N - R) (N Σ nᵢtᵢ² - (Σ nᵢtᵢ)²))`` with rᵢ events of
    nᵢ in period i with score tᵢ (default 1, 2, ...), R = Σ rᵢ and N = Σ nᵢ. This is the formula
    of the PHE Fingertips trend marker for proportions and equals R's ``prop.trend.test``
    (Armitage 1955; Altman 1991, sec. 10.7.4). Returns ``(statistic, p_value)``.
    """
    r = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    t = np.arange(1, r.size + 1, dtype=float) if score is None else np.asarray(score, float)
    big_n, big_r = n.sum(), r.sum()
    numerator_ = big_n * (big_n * (r * t).sum() - big_r * (n * t).sum()) ** 2
    denominator_ = big_r * (big_n - big_r) * (big_n * (n * t**2).sum() - (n * t).sum() ** 2)
    if denominator_ <= 0:
        return np.nan, np.nan
    statistic = numerator_ / denominator_
    return float(statistic), float(stats.chi2.sf(statistic, 1))


def annual_percent_change(years, numerator, denominator, confidence=0.95) -> dict:
    """Annual percent change of a proportion from a log-linear model, ``100 (e^b - 1)``.

    ``log pₜ = a + b t`` fitted by weighted least squares with the binomial inverse variance of
    log pₜ, ``nₜ pₜ / (1 - pₜ)``, as weights (the weighted log-linear fit of NCI's Joinpoint,
    with binomial instead of Poisson variance because the series are proportions). Interval
    ``100 (exp(b ± z se) - 1)``.
    """
    t = np.asarray(years, dtype=float)
    n = np.asarray(denominator, dtype=float)
    p = np.asarray(numerator, dtype=float) / n
    if t.size < 2 or np.any(p <= 0) or np.any(p >= 1):
        return {"apc": np.nan, "apc_ci_low": np.nan, "apc_ci_high": np.nan}
    w = n * p / (1 - p)
    x = np.column_stack([np.ones_like(t), t - t.mean()])
    vcov = np.linalg.inv((x.T * w) @ x)
    b = vcov @ (x.T * w) @ np.log(p)
    se = np.sqrt(vcov[1, 1])
    z = stats.norm.ppf(0.5 + confidence / 2)
    return {
        "apc": 100 * np.expm1(b[1]),
        "apc_ci_low": 100 * np.expm1(b[1] - z * se),
        "apc_ci_high": 100 * np.expm1(b[1] + z * se),
    }


def _fit_series(cell: pd.DataFrame, baseline_year, confidence, counts):
    """Trend and linearity test of one series (rows of one cell); the projection is pooled."""
    cell = cell.sort_values("year")
    usable = cell[
        ~cell["suppressed"] & (cell["estimate"] > 0) & (cell["estimate"] < 1) & (cell["se"] > 0)
    ]
    years = usable["year"].to_numpy(float)
    result = {
        "waves": ",".join(str(int(y)) for y in years),
        "n_waves": int(years.size),
        "n": float(usable["n"].sum(min_count=1)) if "n" in usable else np.nan,
    }
    if years.size < 2:
        return result | empty_result(FEW_WAVES_NOTE)
    estimate = usable["estimate"].to_numpy(float)
    se = usable["se"].to_numpy(float)
    centre = baseline_year
    beta, vcov, q, _, _, x, w = wls_logit(years, estimate, se, centre)
    fitted = special.expit(x @ beta)
    dp = fitted * (1 - fitted)
    # AME: the waves weighted equally (each wave's weights sum to the population, which changes
    # little between waves), the analogue of the respondent-weighted average in svyglm.
    ame = float(dp.mean() * beta[1])
    gradient = (dp * (1 - 2 * fitted) * beta[1]) @ x / years.size
    gradient[1] += dp.mean()
    ame_se = float(np.sqrt(gradient @ vcov @ gradient))
    result |= slope_summary(
        float(beta[1]), float(np.sqrt(vcov[1, 1])), ame, ame_se, np.inf, confidence
    )
    k = years.size
    if k >= 3:
        result |= {
            "nonlinearity_stat": q,
            "nonlinearity_df1": k - 2,
            "nonlinearity_df2": np.inf,
            "nonlinearity_p_value": float(stats.chi2.sf(q, k - 2)),
            "nonlinearity_test": "residual-Q-chisq",
        }
    result["method"] = "wls-logit"
    if counts:
        last = usable.tail(TREND_POINTS)
        statistic, p_value = chi2_trend(last["numerator"], last["denominator"])
        result |= {
            "chi2_trend": statistic,
            "chi2_trend_p_value": p_value,
            "chi2_trend_years": ",".join(str(int(y)) for y in last["year"]),
        } | annual_percent_change(last["year"], last["numerator"], last["denominator"], confidence)
        result["method"] = "wls-logit-counts"
    return result


TREND_COLUMNS = [
    "input",
    "waves",
    "n_waves",
    "n",
    "log_odds_slope",
    "log_odds_se",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
    "slope_p_value",
    "annual_change_pp",
    "annual_change_se_pp",
    "annual_change_ci_low_pp",
    "annual_change_ci_high_pp",
    "annual_change_p_value",
    "df",
    "nonlinearity_test",
    "nonlinearity_stat",
    "nonlinearity_df1",
    "nonlinearity_df2",
    "nonlinearity_p_value",
    "projection_year",
    "projected",
    "projected_se",
    "projected_pi_low",
    "projected_pi_high",
    "projected_pi80_low",
    "projected_pi80_high",
    "trend_se_logit",
    "between_wave_sd_logit",
    "baseline_estimate",
    "prob_desired_side",
    "direction",
    "projection_note",
    "probability_note",
    "forecast_method",
    "forecast_df",
    "forecast_note",
    "fit_note",
    "method",
    "level",
]
COUNT_COLUMNS = [
    "chi2_trend",
    "chi2_trend_p_value",
    "chi2_trend_years",
    "apc",
    "apc_ci_low",
    "apc_ci_high",
]


PROJECTION_COLUMNS = [
    "input",
    "waves",
    "n_waves",
    "projection_year",
    "baseline_estimate",
    "projected",
    "projected_se",
    "projected_pi_low",
    "projected_pi_high",
    "projected_pi80_low",
    "projected_pi80_high",
    "trend_se_logit",
    "between_wave_sd_logit",
    "prob_desired_side",
    "direction",
    "projection_note",
    "probability_note",
    "forecast_method",
    "forecast_df",
    "forecast_note",
    "nonlinearity_test",
    "nonlinearity_p_value",
    "fit_note",
    "method",
    "level",
]
#: The level of the narrower prediction interval (``projected_pi80_low``/``_high``).
INNER_LEVEL = 0.8


def projection_note(waves: str, n_waves: float) -> str:
    """Danish note on how much a projection rests on (two waves only, or too few)."""
    if n_waves == 2:
        return (
            f"Fremskrivningen bygger kun på to målinger ({waves.replace(',', ' og ')}) og er "
            "derfor meget usikker."
        )
    return "" if n_waves > 2 else "Der er for få målinger til en fremskrivning."


def finish(
    frame: pd.DataFrame, confidence: float, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every result column present (NaN where a fit is missing), notes, the fixed column order.

    Key columns first, then ``columns`` (default :data:`TREND_COLUMNS`; a caller that adds
    columns of its own, such as the cube's wave notes, passes its longer list), then the count
    and formula columns that apply.
    """
    columns = list(TREND_COLUMNS if columns is None else columns)
    for column in columns + (["formula"] if "formula" in frame else []):
        if column not in frame:
            frame[column] = np.nan
    frame["projection_note"] = [
        projection_note(w, k)
        for w, k in zip(frame["waves"].astype(str), frame["n_waves"].fillna(0), strict=True)
    ]
    for column in ("fit_note", "nonlinearity_test", "probability_note", "forecast_note"):
        frame[column] = [v if isinstance(v, str) else "" for v in frame[column]]
    frame["level"] = confidence
    known = columns + COUNT_COLUMNS + ["formula"]
    keys = [k for k in frame.columns if k not in known]
    extra = [c for c in COUNT_COLUMNS if c in frame] + (["formula"] if "formula" in frame else [])
    return frame[keys + columns + extra].reset_index(drop=True)


def _per_row(frame: pd.DataFrame, value, name: str, check=None):
    """A constant argument, or the values of the column it names, one per row of ``frame``."""
    if isinstance(value, str) and value in frame.columns:
        values = frame[value]
        if check is not None:
            for v in values.unique():
                check(v)
        return values.to_numpy()
    if check is not None:
        check(value)
    return np.full(len(frame), value, dtype=object)


def _cell_values(frame: pd.DataFrame, value, name: str) -> np.ndarray | None:
    """An optional per-cell argument: None, a number, or the values of the column it names."""
    if value is None:
        return None
    if isinstance(value, str):
        require_columns(frame, [value], "series")
        return pd.to_numeric(frame[value], errors="coerce").to_numpy(float)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ParameterError(f"{name} must be a number, a column name or None (got {value!r})")
    return np.full(len(frame), float(value))


def _pooled_projection(
    frame: pd.DataFrame,
    group: list[str],
    target_year: int,
    confidence: float,
    covid_years: Sequence[int],
) -> pd.DataFrame:
    """Projection columns per cell from one pooled forecast per baseline year.

    ``frame`` holds the usable rows with ``_cell`` (cell number), ``_baseline``, ``_direction``
    and optional ``_base_value``/``_base_se``; cells of the same ``group`` values borrow strength
    from each other. The probability is computed for ``increase`` and flipped for cells that
    should decrease (the predictive distribution is continuous, so P(below) = 1 - P(above)).
    """
    levels = tuple(sorted({INNER_LEVEL, confidence}))
    tag = f"pi{round(100 * confidence):d}"
    inner = f"pi{round(100 * INNER_LEVEL):d}"
    pieces = []
    for base, part in frame.groupby("_baseline", sort=True):
        out = pooled.forecast(
            part,
            area="_cell",
            year="year",
            estimate="estimate",
            se="se",
            group=group or None,
            direction="increase",
            baseline_year=int(base),
            baseline_value="_base_value" if "_base_value" in part else None,
            baseline_se="_base_se" if "_base_se" in part else None,
            target_year=int(target_year),
            covid_years=covid_years,
            levels=levels,
        )
        pieces.append(out)
    out = pd.concat(pieces, ignore_index=True).set_index("_cell")
    direction = frame.groupby("_cell")["_direction"].first().reindex(out.index)
    p = out["projected"]
    prob = np.where(direction == "increase", out["prob_desired_side"], 1 - out["prob_desired_side"])
    result = pd.DataFrame(
        {
            "projection_year": int(target_year),
            "projected": p,
            "projected_se": p * (1 - p) * out["se_logit"],
            "projected_pi_low": out[f"{tag}_low"],
            "projected_pi_high": out[f"{tag}_high"],
            "projected_pi80_low": out[f"{inner}_low"],
            "projected_pi80_high": out[f"{inner}_high"],
            "trend_se_logit": np.sqrt(out["var_group"] + out["var_area"]),
            "between_wave_sd_logit": np.sqrt(out["tau2"]),
            "baseline_estimate": out["baseline_estimate"],
            "prob_desired_side": prob,
            "probability_note": [
                BASELINE_MISSING_NOTE.format(year=int(b)) if np.isnan(v) else ""
                for b, v in zip(out["baseline_year"], prob, strict=True)
            ],
            "forecast_method": out["method"],
            "forecast_df": out["df"],
            "forecast_note": out["note"],
        },
        index=out.index,
    )
    return result


#: Why ``prob_desired_side`` is missing although there is a projection (Danish, for readers).
BASELINE_MISSING_NOTE = (
    "Der er ingen måling i basisåret {year} og ingen basisværdi at sammenligne med; "
    "sandsynligheden for at være bedre end basisåret kan derfor ikke beregnes."
)


def trend_series(
    series: pd.DataFrame,
    *,
    keys: Sequence[str] = (),
    group: Sequence[str] = (),
    year: str = "year",
    estimate: str = "estimate",
    se: str = "se",
    n: str | None = "n",
    numerator: str | None = None,
    denominator: str | None = None,
    suppressed: str | None = "suppressed",
    baseline_year: int | str,
    baseline_value: float | str | None = None,
    baseline_se: float | str | None = None,
    target_year: int,
    direction: str = "decrease",
    confidence: float = 0.95,
    covid_years: Sequence[int] = (2021,),
) -> pd.DataFrame:
    """Trend and projection of a series, one row per cell of ``keys`` (the whole frame if none).

    Input is either ``estimate`` + ``se`` per wave (survey estimates, 0-1 scale) or
    ``numerator`` + ``denominator`` per year (register counts, turned into p and the binomial
    SE √(p(1−p)/n)). Every row enters, except suppressed ones and those with p at 0 or 1 or no
    SE: choosing the comparable waves is the caller's job.

    *Trend* (per cell): weighted least squares of logit(p) on year with inverse-variance
    weights ``(p(1-p)/se)²`` and known variances (no residual scaling; Berkson's minimum logit
    chi-square for counts), so with two waves it equals the survey-weighted logistic model on
    the same respondents exactly. The residual ``Q = Σ w (logit p - fitted)²`` is the test of
    departure from linearity (chi-square, k - 2 df). Counts also get the Fingertips chi-square
    test for linear trend over the last five points (:func:`chi2_trend`) and the annual percent
    change over the same points (:func:`annual_percent_change`).

    *Projection* (all cells jointly): :func:`analyse.stats.forecast.forecast` with the cells as
    areas and ``group`` as the groups within which they borrow strength (a group-level random
    walk with an empirically damped drift, each cell's deviation with an empirical-Bayes slope
    and a DerSimonian-Laird between-wave variance pooled over the group's cells; the COVID-19
    wave with its own effect). The intervals are prediction intervals for the next *published*
    estimate (t quantiles, the target wave's sampling error included), and
    ``prob_desired_side`` is the probability that the target-year value is better than the
    baseline, allowing for the baseline's own sampling error. A cell with fewer than two usable
    waves gets no projection (it still informs the group level).

    Parameters
    ----------
    series : pandas.DataFrame
        One row per cell × year. Not modified.
    keys : sequence of str
        Columns that identify a series (e.g. ``["area"]`` or ``["indicator", "area_code"]``).
    group : sequence of str
        The columns of ``keys`` within which the projection borrows strength (e.g.
        ``["indicator"]`` when ``keys`` is ``["indicator", "area_code"]``); empty: all cells
        are areas of one group. Use cells of one area level per group.
    year, estimate, se, n, suppressed : str
        Column names (``n`` and ``suppressed`` are optional: None or absent → NaN / False).
    numerator, denominator : str, optional
        Count columns; when both are given, ``estimate``/``se`` are computed from them.
    baseline_year : int or str
        The baseline wave (centre of the year scale and the reference of
        ``prob_desired_side``), or the name of a column holding it per row.
    baseline_value, baseline_se : float or str or None
        An explicit baseline (0-1 scale) and its standard error, numbers or column names, used
        for cells whose baseline year is not among their waves. Without them such cells get
        ``prob_desired_side`` NaN and a Danish ``probability_note`` saying why.
    target_year : int
        The year to project to (e.g. the agreement's end year).
    direction : str
        ``"increase"`` or ``"decrease"`` (the desired direction), or the name of a column.
    confidence : float
        Level of every interval (the projection also gets an 80 % interval).
    covid_years : sequence of int
        Waves collected under COVID-19 restrictions (own effect in the projection; ``()`` for
        none, e.g. register series).

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``input`` (``"estimates"`` or ``"counts"``), ``waves``, ``n_waves``, ``n``
        (NaN without an ``n`` column), ``log_odds_slope``, ``log_odds_se``, ``odds_ratio``,
        ``or_ci_low``, ``or_ci_high``, ``slope_p_value``, ``annual_change_pp``,
        ``annual_change_se_pp``, ``annual_change_ci_low_pp``, ``annual_change_ci_high_pp``,
        ``annual_change_p_value``, ``df``, ``nonlinearity_test``, ``nonlinearity_stat``,
        ``nonlinearity_df1``, ``nonlinearity_df2``, ``nonlinearity_p_value``, the projection
        columns (``projection_year``, ``projected``, ``projected_se``, ``projected_pi_low``,
        ``projected_pi_high`` at ``confidence``, ``projected_pi80_low``,
        ``projected_pi80_high``, ``trend_se_logit`` (predictive SD of the true value, logit),
        ``between_wave_sd_logit`` (√τ²), ``baseline_estimate``, ``prob_desired_side``),
        ``direction``, ``projection_note`` and ``probability_note`` (Danish),
        ``forecast_method``, ``forecast_df``, ``forecast_note`` (English diagnostics of the
        pooled forecast), ``fit_note`` (Danish; why a fit is missing), ``method``, ``level``;
        counts add ``chi2_trend``, ``chi2_trend_p_value``, ``chi2_trend_years``, ``apc``,
        ``apc_ci_low``, ``apc_ci_high``.

    Raises
    ------
    ParameterError
        Missing columns, a bad direction or confidence level, a ``group`` column that is not
        a key, counts with numerator above denominator.
    """
    confidence = check_confidence(confidence)
    keys = list(keys)
    group = list(group)
    if not set(group) <= set(keys):
        raise ParameterError(f"group {group} must be a subset of keys {keys}")
    counts = numerator is not None and denominator is not None
    if counts:
        require_columns(series, keys + [year, numerator, denominator], "counts")
        frame = series.rename(
            columns={numerator: "numerator", denominator: "denominator", year: "year"}
        )
        frame = counts_as_estimates(frame)
    else:
        require_columns(series, keys + [year, estimate, se], "series")
        frame = series.rename(columns={estimate: "estimate", se: "se", year: "year"})
        frame = frame.assign(n=series[n].to_numpy() if n and n in series else np.nan)
    frame = frame.assign(
        suppressed=(
            series[suppressed].fillna(False).astype(bool).to_numpy()
            if suppressed and suppressed in series
            else False
        ),
        _baseline=_per_row(series, baseline_year, "baseline_year"),
        _direction=_per_row(series, direction, "direction", check_direction),
    )
    for name, value, column in (
        ("baseline_value", baseline_value, "_base_value"),
        ("baseline_se", baseline_se, "_base_se"),
    ):
        values = _cell_values(series, value, name)
        if values is not None:
            frame[column] = values
    rows = []
    cells = (
        frame.groupby(keys, sort=True, dropna=False).ngroup()
        if keys
        else pd.Series(0, index=frame.index)
    )
    frame["_cell"] = cells.to_numpy()
    groups = frame.groupby(keys, sort=True, dropna=False) if keys else [((), frame)]
    for key, cell in groups:
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            dict(zip(keys, key, strict=True))
            | {
                "_cell": int(cell["_cell"].iloc[0]),
                "input": "counts" if counts else "estimates",
                "direction": cell["_direction"].iloc[0],
            }
            | _fit_series(cell, int(cell["_baseline"].iloc[0]), confidence, counts)
        )
    result = pd.DataFrame(rows).set_index("_cell")
    usable = frame[
        ~frame["suppressed"]
        & (frame["estimate"] > 0)
        & (frame["estimate"] < 1)
        & (frame["se"] > 0)
        & np.isfinite(frame["se"])
    ]
    if not usable.empty:
        projected = _pooled_projection(usable, group, int(target_year), confidence, covid_years)
        # A cell with fewer than two waves informs the group level but gets no projection.
        projected = projected[projected.index.isin(result.index[result["n_waves"] >= 2])]
        for column in projected.columns:
            result[column] = projected[column].reindex(result.index)
    return finish(result.reset_index(drop=True), confidence)


def projection(series: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """The projection columns (:data:`PROJECTION_COLUMNS`) of :func:`trend_series`.

    Takes the same arguments; keys columns come first. The fit and linearity notes
    (``fit_note``, ``nonlinearity_test``, ``nonlinearity_p_value``) stay with the projection.
    Example, with no agreement::

        projection(series, keys=["area"], baseline_year=2021, target_year=2027,
                   direction="decrease")
    """
    result = trend_series(series, **kwargs)
    keys = list(kwargs.get("keys", ()))
    return result[keys + [c for c in PROJECTION_COLUMNS if c in result.columns]]
