"""Change, direction status and the survey-weighted trend model, from data and arguments alone.

Answers, per series, *are we moving in the desired direction?* and *where does the trend lead?*
(DESIGN.md section 4; ``docs/methods.md`` section 4). Which waves are comparable, which wave is
the baseline and which direction is desired come in as arguments; the cube layer
(:mod:`analyse.cube.changes`, :mod:`analyse.cube.trends`) takes them from an agreement.

- :func:`wave_changes` -- change between consecutive waves and from the baseline to the latest
  wave, in percentage points, from a tidy estimates frame.
- :func:`status` -- ``bedre`` / ``uændret`` / ``dårligere`` / ``kan ikke vurderes`` from the
  baseline-to-latest change and the desired direction.
- :func:`trend` / :func:`projection` -- survey-weighted logistic regression on respondents
  (R ``svyglm(y ~ year + sex + age_group, family = quasibinomial())``) in a domain of the whole
  design, with the average annual change, a test of departure from linearity and the
  projection to a target year; :func:`fit_domains` runs it for many domains at once.

A plain series of estimates (no respondents) has its own module, :mod:`analyse.stats.series`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analyse.errors import ParameterError
from analyse.stats.linearise import covariance_dense
from analyse.stats.series import (
    FEW_WAVES_NOTE,
    PROJECTION_COLUMNS,
    between_wave_variance,
    check_confidence,
    check_direction,
    empty_result,
    finish,
    projection_summary,
    require_columns,
    slope_summary,
    wls_logit,
)
from analyse.stats.survey import Design, design_codes

__all__ = [
    "DEFAULT_DESIGN",
    "STATUS_LABELS",
    "TOTAL",
    "default_covariates",
    "fit_domains",
    "population_mask",
    "projection",
    "status",
    "trend",
    "wave_changes",
]

# Sundhedsprofilen: calibration weight, strata = kommune × wave, each respondent its own PSU.
DEFAULT_DESIGN = Design(weight="weight", strata="stratum")
STATUS_LABELS = ("bedre", "uændret", "dårligere", "kan ikke vurderes")
# breakdown/group label of the whole population in the estimates cube.
TOTAL = "total"
KEYS = ("indicator", "area_level", "area_code", "breakdown", "group")
_CATEGORICAL = ("sex", "age_group")


# ---------------------------------------------------------------------------------------------
# 1. Wave changes


def wave_changes(
    estimates: pd.DataFrame,
    *,
    baseline: int | str,
    previous: pd.DataFrame | None = None,
    confidence: float = 0.95,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """Change between waves, in percentage points, per cell (``keys``).

    Two kinds of comparison per cell: each wave against the previous wave
    (``comparison = "consecutive"``), and the baseline against the latest wave in the cell
    (``comparison = "baseline"``; one row per cell even when a wave is missing, so
    :func:`status` can say why it cannot judge). Every row of ``estimates`` is taken to be
    comparable: leave out waves that are not (before an indicator's first wave, a national-only
    wave below country level) before calling.

    Waves are independent samples, so ``se = sqrt(se_from² + se_to²)``; interval
    ``change ± z · se`` and two-sided normal p-value (the design df of a wave is in the thousands,
    so t and normal agree to the shown precision; same as :func:`analyse.stats.survey.compare_waves`).
    A pair with a suppressed side gets no change (a difference would reveal the suppressed
    value).

    Parameters
    ----------
    estimates : pandas.DataFrame
        Tidy estimates: ``keys`` columns, ``year``, ``estimate`` and ``se`` on the 0-1 scale;
        optional ``n`` and ``suppressed`` (bool). Not modified.
    baseline : int or str
        The baseline year, or the name of a column of ``estimates`` that holds it per row (one
        value per cell).
    previous : pandas.DataFrame, optional
        Which wave each wave is compared with: columns ``year`` and ``year_from`` plus any of
        ``keys`` the pairs depend on (e.g. ``indicator`` and ``area_level``). Default: the
        previous year present in the same cell.
    confidence : float
        Confidence level of the intervals.
    keys : sequence of str
        Columns that identify a cell (default indicator, area_level, area_code, breakdown, group).

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``comparison``, ``year_from``, ``year_to``, ``estimate_from``, ``se_from``,
        ``n_from``, ``estimate_to``, ``se_to``, ``n_to``, ``suppressed``, ``change_pp``,
        ``se_pp``, ``ci_low_pp``, ``ci_high_pp``, ``z``, ``p_value``, ``n_waves`` (waves in the
        cell), ``method`` (``"independent-normal"``), ``level``.

    Raises
    ------
    ParameterError
        Missing columns, a bad confidence level.
    """
    confidence = check_confidence(confidence)
    keys = list(keys)
    require_columns(estimates, keys + ["year", "estimate", "se"], "estimates")
    frame = estimates[keys + ["year", "estimate", "se"]].copy()
    frame["n"] = estimates["n"].to_numpy() if "n" in estimates else np.nan
    frame["suppressed"] = (
        estimates["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in estimates
        else False
    )
    frame["year"] = frame["year"].astype(int)
    if isinstance(baseline, str):
        require_columns(estimates, [baseline], "estimates (baseline)")
        frame["_baseline"] = estimates[baseline].astype(int).to_numpy()
    else:
        frame["_baseline"] = int(baseline)

    if previous is None:
        previous = frame[keys + ["year"]].drop_duplicates().sort_values("year")
        previous["year_from"] = previous.groupby(keys, dropna=False)["year"].shift(1)
        previous = previous.dropna(subset=["year_from"])
    pair_keys = [c for c in previous.columns if c not in ("year", "year_from")]
    require_columns(previous, ["year", "year_from"], "previous")
    prev = previous[pair_keys + ["year", "year_from"]].astype({"year": int, "year_from": int})

    value_cols = ["estimate", "se", "n", "suppressed"]
    to_side = frame.drop(columns="_baseline").rename(
        columns={c: f"{c}_to" for c in value_cols} | {"year": "year_to"}
    )
    from_side = frame.drop(columns="_baseline").rename(
        columns={c: f"{c}_from" for c in value_cols} | {"year": "year_from"}
    )
    consecutive = to_side.merge(
        prev.rename(columns={"year": "year_to"}), on=pair_keys + ["year_to"]
    ).merge(from_side, on=keys + ["year_from"], how="inner")
    consecutive["comparison"] = "consecutive"

    # Baseline to latest: one row per cell.
    cells = frame.groupby(keys, sort=False, dropna=False).agg(
        year_to=("year", "max"), n_waves=("year", "size"), year_from=("_baseline", "first")
    )
    cells = cells.reset_index()
    cells["year_from"] = cells["year_from"].astype(int)
    baseline_rows = cells.merge(to_side, on=keys + ["year_to"], how="left").merge(
        from_side, on=keys + ["year_from"], how="left"
    )
    baseline_rows["comparison"] = "baseline"
    later = baseline_rows["year_to"] > baseline_rows["year_from"]
    baseline_rows.loc[~later, [f"{c}_to" for c in ("estimate", "se", "n")]] = np.nan

    out = pd.concat([consecutive, baseline_rows.drop(columns="n_waves")], ignore_index=True)
    out = out.merge(cells[keys + ["n_waves"]], on=keys, how="left")
    out["suppressed"] = out["suppressed_from"].fillna(False).astype(bool) | out[
        "suppressed_to"
    ].fillna(False).astype(bool)
    for side in ("from", "to"):
        out.loc[out["suppressed"], f"estimate_{side}"] = np.nan
        out.loc[out["suppressed"], f"se_{side}"] = np.nan
    change = out["estimate_to"] - out["estimate_from"]
    se = np.hypot(out["se_from"], out["se_to"])
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    out["change_pp"] = 100 * change
    out["se_pp"] = 100 * se
    out["ci_low_pp"] = 100 * (change - quantile * se)
    out["ci_high_pp"] = 100 * (change + quantile * se)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = change / se
    out["p_value"] = 2 * stats.norm.sf(np.abs(out["z"]))
    out["method"] = "independent-normal"
    out["level"] = confidence
    columns = keys + CHANGE_COLUMNS
    out = out[columns].astype({"year_from": int, "year_to": int, "n_waves": int})
    return out.sort_values(keys + ["comparison", "year_to"], kind="stable").reset_index(drop=True)


#: Columns of :func:`wave_changes` after the keys.
CHANGE_COLUMNS = [
    "comparison",
    "year_from",
    "year_to",
    "estimate_from",
    "se_from",
    "n_from",
    "estimate_to",
    "se_to",
    "n_to",
    "suppressed",
    "change_pp",
    "se_pp",
    "ci_low_pp",
    "ci_high_pp",
    "z",
    "p_value",
    "n_waves",
    "method",
    "level",
]


# ---------------------------------------------------------------------------------------------
# 2. Direction status


def status(
    changes: pd.DataFrame,
    *,
    direction: str = "direction",
    alpha: float = 0.05,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """Direction status per cell from the baseline-to-latest change and the desired direction.

    Rule (``docs/methods.md`` section 4), applied in this order:

    1. no comparable measurement in the baseline year → ``kan ikke vurderes``;
    2. no comparable measurement after the baseline → ``kan ikke vurderes`` (fewer than two
       comparable waves);
    3. the baseline or the latest cell is suppressed, or the change has no standard error →
       ``kan ikke vurderes``;
    4. ``p_value < alpha`` (equivalently, the ``1 - alpha`` interval of the change excludes 0) and
       the change is in the desired direction → ``bedre``; against it → ``dårligere``;
    5. otherwise ``uændret``.

    Parameters
    ----------
    changes : pandas.DataFrame
        Output of :func:`wave_changes` (rows with ``comparison == "baseline"`` are used). Not
        modified.
    direction : str
        The desired direction, ``"increase"`` or ``"decrease"``, or the name of a column of
        ``changes`` holding it per row (default ``"direction"``).
    alpha : float
        Significance level (0.05: the 95 % interval excludes 0).
    keys : sequence of str

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``year_from``, ``year_to``, ``estimate_from``, ``estimate_to``, ``change_pp``,
        ``ci_low_pp``, ``ci_high_pp``, ``p_value``, ``direction``, ``status`` (one of
        :data:`STATUS_LABELS`), ``status_reason`` (Danish), ``covid_flag``, ``note``, ``alpha``.

    Raises
    ------
    ParameterError
        Missing columns, an unknown direction, alpha outside (0, 1).
    """
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1 (got {alpha!r}), e.g. 0.05")
    keys = list(keys)
    needed = keys + [
        "comparison",
        "year_from",
        "year_to",
        "estimate_from",
        "estimate_to",
        "se_pp",
        "change_pp",
        "ci_low_pp",
        "ci_high_pp",
        "p_value",
        "suppressed",
        "n_waves",
    ]
    require_columns(changes, needed, "changes (from wave_changes)")
    rows = changes[changes["comparison"] == "baseline"].copy()
    for column in ("covid_flag", "note"):
        if column not in rows:
            rows[column] = False if column == "covid_flag" else ""
    if direction in rows.columns:
        for value in rows[direction].unique():
            check_direction(value)
        rows["direction"] = rows[direction]
    else:
        rows["direction"] = check_direction(direction)

    year_from = rows["year_from"].astype(int).astype(str)
    year_to = rows["year_to"].astype(int).astype(str)
    no_baseline = rows["estimate_from"].isna() & ~rows["suppressed"]
    no_later = rows["year_to"] <= rows["year_from"]
    suppressed = rows["suppressed"].astype(bool)
    no_se = rows["se_pp"].isna() | rows["change_pp"].isna()
    significant = rows["p_value"] < alpha
    desired = np.where(rows["direction"] == "increase", 1.0, -1.0)
    sign = np.sign(rows["change_pp"].to_numpy(dtype=float))
    conditions = [
        no_later,
        no_baseline,
        suppressed,
        no_se,
        significant & (sign == desired),
        significant & (sign == -desired),
    ]
    word_good = np.where(rows["direction"] == "increase", "stigning", "fald")
    word_bad = np.where(rows["direction"] == "increase", "fald", "stigning")
    # Danish agreement: "et statistisk sikkert fald", "en statistisk sikker stigning".
    word_good = np.where(word_good == "fald", "sikkert fald", "sikker stigning")
    word_bad = np.where(word_bad == "fald", "sikkert fald", "sikker stigning")
    period = "fra " + year_from + " til " + year_to
    reasons = [
        "Kun én sammenlignelig måling fra basisåret " + year_from + " og frem; udviklingen kan "
        "først vurderes efter næste måling.",
        "Ingen sammenlignelig måling i basisåret " + year_from + ".",
        "For få svarpersoner til at vise tallet i " + year_from + " eller " + year_to + ".",
        pd.Series("Usikkerheden på ændringen kan ikke beregnes.", index=rows.index),
        "Statistisk "
        + pd.Series(word_good, index=rows.index)
        + " "
        + period
        + " i den ønskede retning.",
        "Statistisk "
        + pd.Series(word_bad, index=rows.index)
        + " "
        + period
        + ", modsat den ønskede retning.",
    ]
    labels = ["kan ikke vurderes"] * 4 + ["bedre", "dårligere"]
    rows["status"] = np.select(conditions, labels, default="uændret")
    rows["status_reason"] = np.select(
        conditions,
        [r.to_numpy() for r in reasons],
        default=("Ingen statistisk sikker ændring " + period + ".").to_numpy(),
    )
    rows["alpha"] = float(alpha)
    columns = keys + [
        "year_from",
        "year_to",
        "estimate_from",
        "estimate_to",
        "change_pp",
        "ci_low_pp",
        "ci_high_pp",
        "p_value",
        "direction",
        "status",
        "status_reason",
        "covid_flag",
        "note",
        "alpha",
    ]
    return rows[columns].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Microdata trend engine


# ---------------------------------------------------------------------------------------------
# 3. Trend model on respondents


@dataclass(frozen=True)
class _Model:
    """One model matrix for the whole respondent table (built once, reused for every area)."""

    x: np.ndarray
    names: list[str]
    year_column: int
    centre: int


def _model_matrix(respondents: pd.DataFrame, covariates: Sequence[str], centre: int) -> _Model:
    """Intercept, year - centre, treatment dummies (R's default contrasts) and numeric terms.

    Categorical covariates get one column per level except the first in sorted order (R sorts
    factor levels the same way; a pandas Categorical keeps its own order). Missing values stay
    NaN so the row drops out of every fit, as with R's ``na.omit``.
    """
    n = len(respondents)
    blocks = [np.ones((n, 1)), (respondents["year"].to_numpy(float) - centre)[:, None]]
    names = ["Intercept", "year"]
    for covariate in covariates:
        series = respondents[covariate]
        if covariate in _CATEGORICAL or not pd.api.types.is_numeric_dtype(series):
            categorical = pd.Categorical(series)
            levels = list(categorical.categories)
            if not isinstance(series.dtype, pd.CategoricalDtype):
                levels = sorted(levels, key=str)
                categorical = pd.Categorical(series, categories=levels)
            codes = categorical.codes
            dummies = (codes[:, None] == np.arange(1, len(levels))[None, :]).astype(float)
            dummies[codes < 0] = np.nan
            blocks.append(dummies)
            names += [f"C({covariate})[T.{level}]" for level in levels[1:]]
        else:
            blocks.append(series.to_numpy(dtype=float, na_value=np.nan)[:, None])
            names.append(covariate)
    return _Model(np.hstack(blocks), names, 1, centre)


def default_covariates(
    respondents: pd.DataFrame,
    population: np.ndarray | None = None,
    *,
    exclude: Sequence[str] = (),
    sex: str = "sex",
    age: str = "age",
    age_group: str = "age_group",
) -> list[str]:
    """``sex`` and ``age_group``, or ``sex`` and exact ``age`` for a one-age-group population.

    In a population of one age group (16-24 år) ``age_group`` is constant; exact age (linear,
    1 df) keeps the adjustment for a shifting age mix inside the band. Sex is left out when the
    population (the rows of the boolean mask ``population``; default all rows) holds one sex;
    ``exclude`` (e.g. a ``by`` variable, constant in each group) is left out.
    """
    inside = slice(None) if population is None else np.asarray(population, dtype=bool)
    sexes = respondents.loc[inside, sex].dropna().unique()
    covariates = [sex] if len(sexes) > 1 else []
    groups = respondents.loc[inside, age_group].dropna().unique()
    covariates.append(age_group if len(groups) > 1 else age)
    return [c for c in covariates if c not in exclude]


def population_mask(
    respondents: pd.DataFrame,
    *,
    age_min: float = 0,
    age_max: float | None = None,
    sex: str | None = None,
    age_column: str = "age",
    sex_column: str = "sex",
) -> np.ndarray:
    """Rows in an indicator's population: ``age_min ≤ age ≤ age_max`` and, if given, one sex
    (``sex`` is the label in ``sex_column``, e.g. ``"Kvinder"``)."""
    ages = respondents[age_column].to_numpy(float)
    mask = ages >= age_min
    if age_max is not None:
        mask &= ages <= age_max
    if sex is not None:
        mask &= (respondents[sex_column] == sex).to_numpy()
    return mask


@dataclass(frozen=True)
class _Context:
    """Everything a microdata fit needs that is shared by all areas of one indicator."""

    y: np.ndarray
    weights: np.ndarray
    codes: object
    model: _Model
    years: np.ndarray
    usable: np.ndarray  # population, comparable waves not yet applied, y and x complete


_IRLS_TOLERANCE = 1e-10  # on the largest change of a coefficient; R's glm stops earlier
_IRLS_MAX_ITER = 50


def _irls(x, y, w, start=None):
    """Weighted logistic regression by Newton-Raphson (= IRLS, Fisher scoring for the logit).

    Starts like R's ``binomial()$initialize`` or from ``start`` (a nearby fit: the same model on
    a larger area, or the linear model for the extended one), which saves most iterations.
    """
    if start is None:
        mu = (w * y + 0.5) / (w + 1)
        eta = special.logit(mu)
        xw = x.T * (w * mu * (1 - mu))
        beta = np.linalg.solve(xw @ x, xw @ (eta + (y - mu) / (mu * (1 - mu))))
    else:
        beta = np.asarray(start, dtype=float).copy()
    for iteration in range(1, _IRLS_MAX_ITER + 1):
        mu = special.expit(x @ beta)
        variance = mu * (1 - mu)
        step = np.linalg.solve((x.T * (w * variance)) @ x, x.T @ (w * (y - mu)))
        beta = beta + step
        if np.max(np.abs(step)) < _IRLS_TOLERANCE:
            return beta, iteration, True
    return beta, _IRLS_MAX_ITER, False


@dataclass(frozen=True)
class _SubsetFit:
    params: np.ndarray
    vcov: np.ndarray
    df: int


def _degf(codes, index: np.ndarray, weights: np.ndarray) -> int:
    """PSUs minus strata among the rows ``index`` with weight > 0 (R ``degf`` of a subset)."""
    index = index[weights[index] > 0]
    strata = np.count_nonzero(np.bincount(codes.stratum[index], minlength=codes.n_strata))
    units = index.size if codes.rows_are_units else np.unique(codes.unit[index]).size
    return int(units - strata)


def _logistic_subset(x, y, weights, codes, index, start=None) -> _SubsetFit:
    """``svyglm(family = quasibinomial())`` on the rows ``index`` of the whole design.

    The same estimator as :func:`analyse.stats.survey.logistic_matrix` (sandwich covariance of the
    estimating functions linearised with the whole design, df = degf + 1 - p), but every step
    touches only the selected rows, so 1,000 area fits on 600,000 respondents stay cheap.
    """
    w = weights[index]
    w_scaled = w / w.mean()  # as R: estimates and SEs do not depend on the scale of the weights
    beta, _, converged = _irls(x, y, w_scaled, start)
    if not converged and start is not None:
        beta, _, converged = _irls(x, y, w_scaled)
    if not converged:
        raise np.linalg.LinAlgError("no convergence")
    mu = special.expit(x @ beta)
    a_inv = np.linalg.inv((x.T * (w_scaled * mu * (1 - mu))) @ x)
    influence = (x * (w_scaled * (y - mu))[:, None]) @ a_inv
    vcov = _covariance(influence, codes, index)
    return _SubsetFit(beta, vcov, _degf(codes, index, weights) + 1 - x.shape[1])


def _covariance(z: np.ndarray, codes, index: np.ndarray) -> np.ndarray:
    """Design covariance of linearised columns ``z`` living on the rows ``index``.

    The formula of :func:`analyse.stats.linearise.covariance_dense`; when every row is its own PSU
    (Sundhedsprofilen) the stratum sums are taken directly with ``bincount``, which avoids
    factorising PSU labels for each of the ~1,000 area fits.
    """
    if not codes.rows_are_units:
        return covariance_dense(z, codes, rows=index)
    stratum = codes.stratum[index]
    s1 = np.column_stack(
        [np.bincount(stratum, weights=z[:, c], minlength=codes.n_strata) for c in range(z.shape[1])]
    )
    weighted = z * np.sqrt(codes.scale[stratum])[:, None]
    centred = s1 * np.sqrt(codes.centre)[:, None]
    return weighted.T @ weighted - centred.T @ centred


def _wave_estimates(y, w, wave, k, codes, index):
    """Hájek proportion per wave in the domain and its linearised SE (= ``svyby(svymean)``)."""
    w_sum = np.bincount(wave, weights=w, minlength=k)
    estimate = np.bincount(wave, weights=w * y, minlength=k) / w_sum
    z = np.zeros((y.size, k))
    z[np.arange(y.size), wave] = w * (y - estimate[wave]) / w_sum[wave]
    se = np.sqrt(np.maximum(np.diag(_covariance(z, codes, index)), 0.0))
    return estimate, se


NO_VARIATION_NOTE = "ingen eller alle svarpersoner har udfaldet, så der kan ikke laves en model"


def _fit_microdata(
    ctx: _Context,
    index: np.ndarray,
    *,
    baseline_year: int,
    direction: str,
    target: int,
    confidence: float,
    linearity: bool = True,
    start: np.ndarray | None = None,
) -> dict:
    """Trend, linearity test and projection for one domain of the whole design.

    ``index``: positions of the domain's usable rows in the comparable waves.
    """
    years = ctx.years[index]
    present = sorted(int(v) for v in np.unique(years))
    result = {"waves": ",".join(map(str, present)), "n_waves": len(present), "n": index.size}
    if len(present) < 2:
        return result | empty_result(FEW_WAVES_NOTE)
    x = ctx.model.x[index]
    # A covariate level absent in the domain would make the matrix singular: drop its column.
    keep = np.ones(x.shape[1], dtype=bool)
    keep[2:] = np.abs(x[:, 2:]).sum(axis=0) > 0
    x = x[:, keep] if not keep.all() else x
    if start is not None:
        start = start[keep] if start.size == keep.size else None
    y = ctx.y[index]
    w = ctx.weights[index]
    if y.min() == y.max():  # nobody or everybody has the outcome: no logistic fit exists
        return result | empty_result(NO_VARIATION_NOTE)
    try:
        fit = _logistic_subset(x, y, ctx.weights, ctx.codes, index, start)
    except np.linalg.LinAlgError:
        return result | empty_result("modellen kan ikke estimeres (for få svarpersoner)")
    beta, vcov = fit.params, fit.vcov
    j = ctx.model.year_column
    w_sum = w.sum()
    p = special.expit(x @ beta)
    dp = p * (1 - p)
    # Average marginal effect of year: sum w p(1-p) b_year / W; gradient for the delta method.
    ame = float(w @ dp) * beta[j] / w_sum
    gradient = (w * dp * (1 - 2 * p) * beta[j]) @ x / w_sum
    gradient[j] += float(w @ dp) / w_sum
    ame_se = float(np.sqrt(max(gradient @ vcov @ gradient, 0.0)))
    result |= slope_summary(
        float(beta[j]), float(np.sqrt(vcov[j, j])), ame, ame_se, fit.df, confidence
    )
    result["_params"] = beta if keep.all() else None

    # Departure from linearity: add indicators of the interior waves (year stays linear, so
    # the extra terms span exactly the saturated wave effects) and Wald-test them, as
    # regTermTest(fit, ~ interior dummies, method = "Wald"): F = W / q on (q, residual df).
    if linearity and len(present) >= 3:
        interior = np.array(present[1:-1], dtype=float)
        k = interior.size
        extended = np.hstack([x, (years[:, None] == interior[None, :]).astype(float)])
        try:
            ext = _logistic_subset(
                extended, y, ctx.weights, ctx.codes, index, np.concatenate([beta, np.zeros(k)])
            )
            b_extra = ext.params[-k:]
            wald = float(b_extra @ np.linalg.solve(ext.vcov[-k:, -k:], b_extra))
            result |= {
                "nonlinearity_stat": wald / k,
                "nonlinearity_df1": k,
                "nonlinearity_df2": ext.df,
                "nonlinearity_p_value": float(stats.f.sf(wald / k, k, ext.df)),
                "nonlinearity_test": "design-wald-F",
            }
        except np.linalg.LinAlgError:
            pass

    # Projection: predictive margin with year = target over the latest wave's respondents.
    latest = years == present[-1]
    x_latest = x[latest].copy()
    x_latest[:, j] = target - ctx.model.centre
    w_latest = w[latest]
    p_latest = special.expit(x_latest @ beta)
    margin = float(w_latest @ p_latest / w_latest.sum())
    if not 0 < margin < 1:  # a separated fit: the projection is degenerate
        return result | empty_result(NO_VARIATION_NOTE)
    grad_margin = (w_latest * p_latest * (1 - p_latest)) @ x_latest / w_latest.sum()
    link_se2 = float(grad_margin @ vcov @ grad_margin) / (margin * (1 - margin)) ** 2

    # Wave estimates in the domain give the baseline value and the between-wave variation
    # around the fitted logit line.
    wave = np.searchsorted(present, years)
    wave_est, wave_se = _wave_estimates(y, w, wave, len(present), ctx.codes, index)
    ok = (wave_est > 0) & (wave_est < 1) & (wave_se > 0)
    tau2 = 0.0
    if ok.sum() >= 3:
        _, v_w, q_w, _, _, x_w, w_w = wls_logit(
            np.asarray(present, float)[ok], wave_est[ok], wave_se[ok], ctx.model.centre
        )
        tau2 = between_wave_variance(q_w, x_w, w_w, v_w)
    base = float(wave_est[present.index(baseline_year)]) if baseline_year in present else None
    result |= projection_summary(
        special.logit(margin), link_se2, tau2, fit.df, base, direction, target, confidence
    )
    result["method"] = "svyglm-quasibinomial"
    return result


def _formula(outcome: str, covariates: Sequence[str]) -> str:
    return f"{outcome} ~ year" + "".join(
        f" + C({c})" if c in _CATEGORICAL else f" + {c}" for c in covariates
    )


def _outcome(respondents: pd.DataFrame, outcome: str) -> np.ndarray:
    y = respondents[outcome].to_numpy(dtype=float, na_value=np.nan)
    bad = np.isfinite(y) & (y != 0) & (y != 1)
    if bad.any():
        raise ParameterError(
            f"outcome column {outcome!r} must be 0/1 (or missing); "
            f"{int(bad.sum())} rows have other values"
        )
    return y


def fit_domains(
    respondents: pd.DataFrame,
    outcome: str,
    domains: Iterable[tuple[Mapping, np.ndarray, Sequence[int]]],
    *,
    population: np.ndarray | None = None,
    covariates: Sequence[str] | None = None,
    design: Design = DEFAULT_DESIGN,
    baseline_year: int,
    target_year: int,
    direction: str = "decrease",
    confidence: float = 0.95,
    linearity: bool = True,
    warm_start: bool = True,
    cache: dict | None = None,
) -> pd.DataFrame:
    """:func:`trend` for many domains of one design at once (e.g. every area of a level).

    Each domain is ``(labels, rows, waves)``: the label columns of its output row, the row
    positions of its respondents (all of them; the population, the waves and complete cases
    are selected here) and the waves to use. The design is encoded and the model matrix built
    once; each domain is fitted on its own rows with the sandwich variance of the whole
    design. With ``warm_start`` the first successful fit starts the others, which saves most
    Newton steps. ``cache`` (a dict the caller keeps) reuses the design codes and model
    matrices across calls with the same respondents.

    Returns one row per domain: the labels, ``input`` (``"microdata"``), ``formula`` and the
    result columns of :func:`trend`.
    """
    confidence = check_confidence(confidence)
    check_direction(direction)
    require_columns(respondents, ["year", outcome], "respondents")
    in_population = (
        np.ones(len(respondents), dtype=bool)
        if population is None
        else np.asarray(population, dtype=bool)
    )
    if covariates is None:
        covariates = default_covariates(respondents, in_population)
    covariates = list(covariates)
    require_columns(respondents, covariates, "respondents (covariates)")
    cache = {} if cache is None else cache
    if ("codes", design) not in cache:
        cache[("codes", design)] = design_codes(respondents, design)
    key = ("model", tuple(covariates), int(baseline_year))
    if key not in cache:
        cache[key] = _model_matrix(respondents, covariates, int(baseline_year))
    model = cache[key]
    y = _outcome(respondents, outcome)
    ctx = _Context(
        y=y,
        weights=respondents[design.weight].to_numpy(float),
        codes=cache[("codes", design)],
        model=model,
        years=respondents["year"].to_numpy(int),
        usable=in_population & np.isfinite(y) & np.isfinite(model.x).all(axis=1),
    )
    formula = _formula(outcome, covariates)
    rows, start = [], None
    for labels, index, waves in domains:
        index = np.asarray(index, dtype=np.int64)
        index = index[ctx.usable[index] & np.isin(ctx.years[index], waves)]
        result = _fit_microdata(
            ctx,
            index,
            baseline_year=int(baseline_year),
            direction=direction,
            target=int(target_year),
            confidence=confidence,
            linearity=linearity,
            start=start,
        )
        params = result.pop("_params", None)
        if warm_start and start is None and params is not None:
            start = params
        rows.append(dict(labels) | {"input": "microdata", "formula": formula} | result)
    return pd.DataFrame(rows)


def trend(
    respondents: pd.DataFrame,
    outcome: str,
    *,
    baseline_year: int,
    target_year: int,
    direction: str = "decrease",
    domain: np.ndarray | pd.Series | None = None,
    population: np.ndarray | pd.Series | None = None,
    waves: Sequence[int] | None = None,
    by: str | None = None,
    covariates: Sequence[str] | None = None,
    design: Design = DEFAULT_DESIGN,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Trend over the waves of one domain, from respondents, with projection.

    Survey-weighted logistic regression ``outcome ~ year + C(sex) + C(age_group)`` on the
    respondents of the domain (``domain`` & ``population``) in ``waves``; equal to R
    ``svyglm(y ~ year + sex + age_group, design, family = quasibinomial())`` with the domain as
    a subset of the whole design (``subset(design, ...)``). In a population of one age group
    (16-24 år) ``age_group`` is constant and exact ``age`` (linear) is used instead; with ``by``
    the by-variable is left out (see :func:`default_covariates`). Reported:

    - ``odds_ratio`` per year (``exp`` of the year coefficient) with a t(df) interval;
    - ``annual_change_pp``: the average marginal effect of year, ``Σ wᵢ pᵢ(1-pᵢ) b_year / Σ wᵢ``
      in percentage points per year, delta-method SE from the sandwich covariance, t(df) test;
    - with ≥ 3 waves, the test of departure from linearity: the model plus indicators of the
      interior waves (together with linear year they span the saturated wave effects); Wald
      test of those terms, ``F = W / q`` on ``(q, df)`` with the residual design df, exactly R
      ``regTermTest(fit, ~ d2 + d3 ..., method = "Wald")``;
    - the projection to ``target_year``: the predictive margin over the latest wave's
      respondents in the domain, ``M = Σ wᵢ expit(xᵢ(target)'b) / Σ wᵢ`` (Graubard & Korn 1999),
      with delta-method variance; the prediction interval adds the between-wave variance τ²
      of the wave estimates around the fitted logit line (method of moments, DerSimonian-Laird
      for meta-regression; Raudenbush 2009); ``prob_desired_side`` is the probability of being
      on the desired side of the baseline wave's estimate.

    Parameters
    ----------
    respondents : pandas.DataFrame
        One row per respondent: ``year``, the outcome (1/0/missing), the design columns and the
        covariates (default ``sex`` and ``age_group``/``age``). Not modified.
    outcome : str
        The 0/1 indicator column.
    baseline_year, target_year : int
        Centre of the year scale and reference of ``prob_desired_side``; the projection year.
    direction : str
        ``"increase"`` or ``"decrease"`` (desired direction).
    domain, population : boolean arrays, optional
        The rows of the area, and of the indicator's population (:func:`population_mask`);
        default all rows. Both are domains of the whole design, not subsets.
    waves : sequence of int, optional
        Waves to use (default every wave in the data).
    by : str, optional
        A column to fit the trend in each of its groups (domains).
    covariates : sequence of str, optional
        Adjustment terms instead of the default; ``()`` fits ``y ~ year``. Categorical columns
        (``sex``, ``age_group``, non-numeric) get treatment dummies (R's default contrasts).
    design : Design
    confidence : float

    Returns
    -------
    pandas.DataFrame
        One row per group: ``breakdown``, ``group``, ``input``, ``waves`` (comma-separated years
        used), ``n_waves``, ``n``, ``log_odds_slope``, ``log_odds_se``, ``odds_ratio``,
        ``or_ci_low``, ``or_ci_high``, ``slope_p_value``, ``annual_change_pp``,
        ``annual_change_se_pp``, ``annual_change_ci_low_pp``, ``annual_change_ci_high_pp``,
        ``annual_change_p_value``, ``df``, ``nonlinearity_test``, ``nonlinearity_stat``,
        ``nonlinearity_df1``, ``nonlinearity_df2``, ``nonlinearity_p_value``, the projection
        columns (:data:`analyse.stats.series.PROJECTION_COLUMNS`), ``direction``,
        ``projection_note``, ``fit_note`` (Danish; why a fit is missing), ``method``, ``level``,
        ``formula``.

    Raises
    ------
    ParameterError
        Missing columns, a non-0/1 outcome, a bad direction or confidence level.

    References
    ----------
    Lumley T (2010) *Complex Surveys*, ch. 5-6 (svyglm, regTermTest); Graubard BI, Korn EL
    (1999) Predictive margins with survey data, *Biometrics* 55:652-659.
    """
    confidence = check_confidence(confidence)
    if not isinstance(respondents, pd.DataFrame):
        raise ParameterError(
            f"respondents must be a pandas DataFrame (got {type(respondents).__name__})"
        )
    require_columns(respondents, ["year", outcome], "respondents")
    rows_all = np.ones(len(respondents), dtype=bool)
    in_domain = rows_all if domain is None else np.asarray(domain, dtype=bool)
    in_population = rows_all if population is None else np.asarray(population, dtype=bool)
    years = respondents["year"].to_numpy(int)
    waves = sorted({int(y) for y in years}) if waves is None else [int(w) for w in waves]
    if by is None:
        groups = [(TOTAL, TOTAL, rows_all)]
        exclude: list[str] = []
    else:
        require_columns(respondents, [by], "respondents (by)")
        values = respondents[by]
        levels = (
            list(values.cat.categories)
            if isinstance(values.dtype, pd.CategoricalDtype)
            else sorted(values.dropna().unique(), key=str)
        )
        groups = [(by, str(v), (values == v).to_numpy()) for v in levels]
        exclude = [by, "age_group"] if by == "age" else [by]
    if covariates is None:
        covariates = default_covariates(respondents, in_population, exclude=exclude)
    domains = [
        ({"breakdown": b, "group": g}, np.flatnonzero(in_domain & mask), waves)
        for b, g, mask in groups
    ]
    frame = fit_domains(
        respondents,
        outcome,
        domains,
        population=in_population,
        covariates=covariates,
        design=design,
        baseline_year=baseline_year,
        target_year=target_year,
        direction=direction,
        confidence=confidence,
        warm_start=False,
    )
    frame["direction"] = direction
    return finish(frame, confidence)


def projection(respondents: pd.DataFrame, outcome: str, **kwargs) -> pd.DataFrame:
    """The projection columns of :func:`trend` (same arguments), one row per group."""
    result = trend(respondents, outcome, **kwargs)
    return result[["breakdown", "group"] + [c for c in PROJECTION_COLUMNS if c in result]]
