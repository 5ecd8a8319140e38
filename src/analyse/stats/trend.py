"""Trends over survey waves and register years: changes, trend models, direction status, projection.

Answers the committee's questions per indicator and area: *are we moving in the desired
direction?* and *will we get there by 2027?* (DESIGN.md section 4; ``docs/methods.md`` section 4).

- :func:`wave_changes` -- change between consecutive comparable waves and from the agreement's
  baseline to the latest wave, in percentage points, from a tidy estimates frame.
- :func:`status` -- ``bedre`` / ``uændret`` / ``dårligere`` / ``kan ikke vurderes`` from the
  baseline-to-latest change and the indicator's desired direction.
- :func:`trend` -- the trend model for one indicator and area: survey-weighted logistic regression
  on respondents (R ``svyglm(y ~ year + sex + age_group, family = quasibinomial())``), or, for
  aggregated input, weighted least squares on the logit scale (estimate + se per wave, or
  numerator/denominator per year; register series also get the chi-square test for linear trend
  and the annual percent change).
- :func:`projection` -- the value in the agreement's end year from the trend model, with a
  prediction interval and the probability of being on the desired side of the baseline.
- :func:`trends_for_cube` / :func:`trends_from_estimates` -- the same for every indicator × area.

Only comparable waves enter one comparison or model: waves before an indicator's ``first_wave``
never do, and the national-only wave (2023) only at ``land`` level. The COVID-19 note of the 2021
wave is carried into every output that uses 2021 (``covid_flag``, ``note``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator
from analyse.stats.linearise import covariance_dense
from analyse.stats.survey import Design, design_codes

__all__ = [
    "DEFAULT_DESIGN",
    "STATUS_LABELS",
    "TOTAL",
    "projection",
    "status",
    "trend",
    "trends_for_cube",
    "trends_from_estimates",
    "wave_changes",
]

# Sundhedsprofilen: calibration weight, strata = kommune × wave, each respondent its own PSU.
DEFAULT_DESIGN = Design(weight="weight", strata="stratum")
STATUS_LABELS = ("bedre", "uændret", "dårligere", "kan ikke vurderes")
# breakdown/group label of the whole population in the estimates cube.
TOTAL = "total"
KEYS = ("indicator", "area_level", "area_code", "breakdown", "group")
# Fingertips (PHE) computes its chi-square test for trend on the five most recent points.
TREND_POINTS = 5
# Map the catalogue's population sex to the respondent table's labels (Danish, as cleaned).
SEX_LABELS = {"female": "Kvinder", "male": "Mænd"}
_CATEGORICAL = ("sex", "age_group")


# ---------------------------------------------------------------------------------------------
# Argument checks and catalogue helpers


def _check_confidence(confidence: float) -> float:
    if not isinstance(confidence, int | float) or not 0 < float(confidence) < 1:
        raise ParameterError(
            f"confidence must be a number between 0 and 1 (got {confidence!r}), e.g. 0.95"
        )
    return float(confidence)


def _check_agreement(agreement: Agreement) -> None:
    if not isinstance(agreement, Agreement):
        raise ParameterError(
            "agreement must be an analyse.reference.catalogue.Agreement, e.g. catalogue.load_agreement() "
            f"(got {type(agreement).__name__})"
        )


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{what} must be a pandas DataFrame (got {type(frame).__name__})")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )


def _check_level(level: str) -> None:
    if level not in geography.LEVELS:
        raise ParameterError(
            f"unknown area level {level!r}; use one of: {', '.join(geography.LEVELS)}"
        )


def _baseline(agreement: Agreement, indicator: Indicator) -> int:
    """Baseline year: the agreement's baseline wave (survey) or the year before its period."""
    if indicator.source == "register":
        return agreement.period_start - 1
    return agreement.baseline_wave


def _comparable(agreement: Agreement, indicator: Indicator, area_level: str, year: int) -> bool:
    if year < indicator.first_wave:
        return False
    if indicator.source == "register":
        return True
    scope = {w.year: w.scope for w in agreement.survey_waves}.get(int(year))
    if scope is None:
        return False
    return scope == "kommune" or area_level == "land"


def _wave_notes(agreement: Agreement, years) -> tuple[bool, str]:
    """COVID flag and the Danish catalogue notes of the survey waves among ``years``."""
    notes = {w.year: w.note for w in agreement.survey_waves if w.note}
    used = [notes[int(y)] for y in sorted(set(years)) if int(y) in notes]
    covid = any("COVID" in note for note in used)
    return covid, " ".join(used)


def _indicator(agreement: Agreement, indicator: str, sources=("survey", "register")) -> Indicator:
    ind = agreement.indicator(indicator)
    if ind.source not in sources:
        raise ParameterError(
            f"{indicator!r} is a {ind.source} indicator; trends need a survey or register one"
        )
    return ind


# ---------------------------------------------------------------------------------------------
# 1. Wave changes


def wave_changes(
    estimates: pd.DataFrame,
    agreement: Agreement,
    *,
    confidence: float = 0.95,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """Change between comparable waves, in percentage points, per indicator × area × group.

    Two kinds of comparison per cell (``keys``): each comparable wave against the previous
    comparable wave (``comparison = "consecutive"``), and the agreement's baseline against the
    latest comparable wave in the cell (``comparison = "baseline"``; one row per cell even when a
    wave is missing, so :func:`status` can say why it cannot judge). The baseline is the
    agreement's ``baseline_wave`` (2021) for survey indicators and the year before the agreement
    period (``period_start - 1`` = 2023) for register indicators.

    Waves are independent samples, so ``se = sqrt(se_from² + se_to²)``; interval
    ``change ± z · se`` and two-sided normal p-value (the design df of a wave is in the thousands,
    so t and normal agree to the shown precision; same as :func:`analyse.stats.survey.compare_waves`).
    A pair never joins waves that are not comparable: waves before the indicator's
    ``first_wave``, or the national-only wave (2023) below ``land`` level, are left out before
    pairs are formed. A pair with a suppressed side gets no change (a difference would reveal
    the suppressed value).

    Parameters
    ----------
    estimates : pandas.DataFrame
        Tidy estimates: ``keys`` columns, ``year``, ``estimate`` and ``se`` on the 0-1 scale;
        optional ``n`` and ``suppressed`` (bool). Not modified.
    agreement : Agreement
        Gives each indicator's source, first wave and the waves' scope and notes.
    confidence : float
        Confidence level of the intervals.
    keys : sequence of str
        Columns that identify a cell (default indicator, area_level, area_code, breakdown, group).

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``comparison``, ``year_from``, ``year_to``, ``estimate_from``, ``se_from``,
        ``n_from``, ``estimate_to``, ``se_to``, ``n_to``, ``suppressed``, ``change_pp``,
        ``se_pp``, ``ci_low_pp``, ``ci_high_pp``, ``z``, ``p_value``, ``n_waves`` (comparable
        waves in the cell), ``covid_flag``, ``note`` (Danish wave notes), ``method``
        (``"independent-normal"``), ``level``.

    Raises
    ------
    ParameterError
        Missing columns, an indicator the agreement does not have, a bad confidence level.
    """
    confidence = _check_confidence(confidence)
    _check_agreement(agreement)
    keys = list(keys)
    _require(estimates, keys + ["year", "estimate", "se"], "estimates")
    columns = keys + ["year", "estimate", "se"]
    frame = estimates[columns].copy()
    frame["n"] = estimates["n"].to_numpy() if "n" in estimates else np.nan
    frame["suppressed"] = (
        estimates["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in estimates
        else False
    )
    frame["year"] = frame["year"].astype(int)

    # Comparability per indicator × level × year: a small table, then one merge.
    combos = frame[["indicator", "area_level", "year"]].drop_duplicates().reset_index(drop=True)
    indicators = {i: _indicator(agreement, i) for i in combos["indicator"].unique()}
    combos["comparable"] = [
        _comparable(agreement, indicators[i], lvl, y)
        for i, lvl, y in combos.itertuples(index=False)
    ]
    combos = combos[combos["comparable"]].drop(columns="comparable")
    frame = frame.merge(combos, on=["indicator", "area_level", "year"], how="inner")

    # Previous comparable wave: survey waves from the catalogue, register years as present.
    waves = combos.sort_values("year")
    waves["year_from"] = waves.groupby(["indicator", "area_level"])["year"].shift(1)
    survey_prev = []
    for (ind_id, lvl), _ in waves.groupby(["indicator", "area_level"]):
        ind = indicators[ind_id]
        if ind.source == "survey":
            catalogue = [y for y in agreement.waves if _comparable(agreement, ind, lvl, y)]
            survey_prev += [
                (ind_id, lvl, b, a) for a, b in zip(catalogue[:-1], catalogue[1:], strict=True)
            ]
    prev = waves.dropna(subset=["year_from"])
    prev = prev[prev["indicator"].map(lambda i: indicators[i].source == "register")]
    prev = pd.concat(
        [
            prev[["indicator", "area_level", "year", "year_from"]],
            pd.DataFrame(survey_prev, columns=["indicator", "area_level", "year", "year_from"]),
        ],
        ignore_index=True,
    ).astype({"year": int, "year_from": int})

    value_cols = ["estimate", "se", "n", "suppressed"]
    to_side = frame.rename(columns={c: f"{c}_to" for c in value_cols}).rename(
        columns={"year": "year_to"}
    )
    from_side = frame.rename(columns={c: f"{c}_from" for c in value_cols}).rename(
        columns={"year": "year_from"}
    )
    consecutive = to_side.merge(
        prev.rename(columns={"year": "year_to"}), on=["indicator", "area_level", "year_to"]
    ).merge(from_side, on=keys + ["year_from"], how="inner")
    consecutive["comparison"] = "consecutive"

    # Baseline to latest: one row per cell.
    cells = frame.groupby(keys, sort=False, dropna=False)["year"].agg(["max", "size"])
    cells = cells.rename(columns={"max": "year_to", "size": "n_waves"}).reset_index()
    cells["year_from"] = (
        cells["indicator"].map(lambda i: _baseline(agreement, indicators[i])).astype(int)
    )
    baseline = cells.merge(to_side, on=keys + ["year_to"], how="left").merge(
        from_side, on=keys + ["year_from"], how="left"
    )
    baseline["comparison"] = "baseline"
    later = baseline["year_to"] > baseline["year_from"]
    baseline.loc[~later, [f"{c}_to" for c in ("estimate", "se", "n")]] = np.nan

    out = pd.concat([consecutive, baseline.drop(columns="n_waves")], ignore_index=True)
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
    flags = [
        _wave_notes(agreement, (a, b) if indicators[i].source == "survey" else ())
        for i, a, b in out[["indicator", "year_from", "year_to"]].itertuples(index=False)
    ]
    out["covid_flag"] = [f for f, _ in flags]
    out["note"] = [n for _, n in flags]
    out["method"] = "independent-normal"
    out["level"] = confidence
    columns = keys + [
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
        "covid_flag",
        "note",
        "method",
        "level",
    ]
    out = out[columns].astype({"year_from": int, "year_to": int, "n_waves": int})
    return out.sort_values(keys + ["comparison", "year_to"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# 3. Direction status


def status(
    changes: pd.DataFrame,
    agreement: Agreement,
    *,
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
    agreement : Agreement
        Gives each indicator's desired direction (``increase``/``decrease``).
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
        Missing columns, unknown indicator, alpha outside (0, 1).
    """
    _check_agreement(agreement)
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
    _require(changes, needed, "changes (from wave_changes)")
    rows = changes[changes["comparison"] == "baseline"].copy()
    for column in ("covid_flag", "note"):
        if column not in rows:
            rows[column] = False if column == "covid_flag" else ""
    directions = {i: _indicator(agreement, i).direction for i in rows["indicator"].unique()}
    rows["direction"] = rows["indicator"].map(directions)

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


def _covariates(respondents: pd.DataFrame, indicator: Indicator, exclude: Sequence[str]) -> list:
    """``sex`` and ``age_group``, or ``sex`` and exact ``age`` for a one-age-group population.

    In a population of one age group (16-24 år) ``age_group`` is constant; exact age (linear,
    1 df) keeps the adjustment for a shifting age mix inside the band. Sex is left out when the
    population is one sex; a ``by`` variable is left out because it is constant in each group.
    """
    pop = indicator.population
    covariates = [] if pop.sex != "all" else ["sex"]
    ages = respondents["age"].to_numpy(float)
    inside = (ages >= pop.age_min) & (ages <= (np.inf if pop.age_max is None else pop.age_max))
    groups = respondents.loc[inside, "age_group"].dropna().unique()
    covariates.append("age_group" if len(groups) > 1 else "age")
    return [c for c in covariates if c not in exclude]


def _population_mask(respondents: pd.DataFrame, indicator: Indicator, sex_labels) -> np.ndarray:
    pop = indicator.population
    age = respondents["age"].to_numpy(float)
    mask = age >= pop.age_min
    if pop.age_max is not None:
        mask &= age <= pop.age_max
    if pop.sex != "all":
        mask &= (respondents["sex"] == sex_labels[pop.sex]).to_numpy()
    return mask


def _quantile(confidence: float, df: float) -> float:
    if not np.isfinite(df):
        return float(stats.norm.ppf(0.5 + confidence / 2))
    return float(stats.t.ppf(0.5 + confidence / 2, df)) if df > 0 else np.nan


def _two_sided(t: float, df: float) -> float:
    if not np.isfinite(df):
        return float(2 * stats.norm.sf(abs(t)))
    return float(2 * stats.t.sf(abs(t), df)) if df > 0 else np.nan


def _empty_result(reason: str) -> dict:
    return {"fit_note": reason}


def _slope_summary(b, se, ame, ame_se, df, confidence) -> dict:
    """Odds ratio and average annual change (percentage points) with intervals and p-values."""
    q = _quantile(confidence, df)
    return {
        "log_odds_slope": b,
        "log_odds_se": se,
        "odds_ratio": np.exp(b),
        "or_ci_low": np.exp(b - q * se),
        "or_ci_high": np.exp(b + q * se),
        "slope_p_value": _two_sided(b / se, df) if se > 0 else np.nan,
        "annual_change_pp": 100 * ame,
        "annual_change_se_pp": 100 * ame_se,
        "annual_change_ci_low_pp": 100 * (ame - q * ame_se),
        "annual_change_ci_high_pp": 100 * (ame + q * ame_se),
        "annual_change_p_value": _two_sided(ame / ame_se, df) if ame_se > 0 else np.nan,
        "df": df,
    }


def _wls_logit(years, estimate, se, centre):
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


def _between_wave_variance(q: float, x: np.ndarray, w: np.ndarray, vcov: np.ndarray) -> float:
    """Method-of-moments (DerSimonian-Laird for meta-regression) extra variance on the logit scale.

    ``tau² = max(0, (Q - (k - p)) / (sum w - tr((X'WX)^-1 X'W²X)))`` (Raudenbush 2009, eq. 16.6).
    Zero when there are only two waves (k - p = 0: nothing to estimate it from).
    """
    k, p = x.shape
    if k <= p:
        return 0.0
    denominator = w.sum() - np.trace(vcov @ ((x.T * w**2) @ x))
    return max(0.0, (q - (k - p)) / denominator) if denominator > 0 else 0.0


def _projection_summary(link, link_se2, tau2, df, baseline, direction, target, confidence) -> dict:
    """Projected value (expit of the link) with a prediction interval and P(desired side)."""
    total_se = np.sqrt(link_se2 + tau2)
    q = _quantile(confidence, df)
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
        return result | _empty_result("færre end to sammenlignelige målinger")
    x = ctx.model.x[index]
    # A covariate level absent in the domain would make the matrix singular: drop its column.
    keep = np.ones(x.shape[1], dtype=bool)
    keep[2:] = np.abs(x[:, 2:]).sum(axis=0) > 0
    x = x[:, keep] if not keep.all() else x
    if start is not None:
        start = start[keep] if start.size == keep.size else None
    y = ctx.y[index]
    w = ctx.weights[index]
    try:
        fit = _logistic_subset(x, y, ctx.weights, ctx.codes, index, start)
    except np.linalg.LinAlgError:
        return result | _empty_result("modellen kan ikke estimeres (for få svarpersoner)")
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
    result |= _slope_summary(
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
    grad_margin = (w_latest * p_latest * (1 - p_latest)) @ x_latest / w_latest.sum()
    link_se2 = float(grad_margin @ vcov @ grad_margin) / (margin * (1 - margin)) ** 2

    # Wave estimates in the domain give the baseline value and the between-wave variation
    # around the fitted logit line.
    wave = np.searchsorted(present, years)
    wave_est, wave_se = _wave_estimates(y, w, wave, len(present), ctx.codes, index)
    ok = (wave_est > 0) & (wave_est < 1) & (wave_se > 0)
    tau2 = 0.0
    if ok.sum() >= 3:
        _, v_w, q_w, _, _, x_w, w_w = _wls_logit(
            np.asarray(present, float)[ok], wave_est[ok], wave_se[ok], ctx.model.centre
        )
        tau2 = _between_wave_variance(q_w, x_w, w_w, v_w)
    base = float(wave_est[present.index(baseline_year)]) if baseline_year in present else None
    result |= _projection_summary(
        special.logit(margin), link_se2, tau2, fit.df, base, direction, target, confidence
    )
    result["method"] = "svyglm-quasibinomial"
    return result


def _area_mask(respondents: pd.DataFrame, level: str, area_code) -> tuple[np.ndarray, str]:
    _check_level(level)
    if level == "land":
        return np.ones(len(respondents), dtype=bool), geography.COUNTRY_CODE
    if area_code is None:
        raise ParameterError(f"area_code is needed for level {level!r}")
    code = str(area_code).strip()
    members = geography.members(level, code)
    return respondents["kommune_code"].isin(members).to_numpy(), code


def _context(respondents, ind, covariates, design, baseline_year, sex_labels) -> _Context:
    codes = design_codes(respondents, design)
    model = _model_matrix(respondents, covariates, baseline_year)
    y = respondents[ind.variable].to_numpy(dtype=float, na_value=np.nan)
    bad = np.isfinite(y) & (y != 0) & (y != 1)
    if bad.any():
        raise ParameterError(
            f"indicator column {ind.variable!r} must be 0/1 (or missing); "
            f"{int(bad.sum())} rows have other values"
        )
    usable = (
        _population_mask(respondents, ind, sex_labels)
        & np.isfinite(y)
        & np.isfinite(model.x).all(axis=1)
    )
    return _Context(
        y=y,
        weights=respondents[design.weight].to_numpy(float),
        codes=codes,
        model=model,
        years=respondents["year"].to_numpy(int),
        usable=usable,
    )


_MICRODATA_COLUMNS = ["year", "kommune_code", "age", "age_group", "sex"]


def _trend_microdata(
    respondents,
    ind,
    agreement,
    level,
    area_code,
    by,
    design,
    confidence,
    target,
    sex_labels,
    covariates=None,
) -> pd.DataFrame:
    _require(respondents, _MICRODATA_COLUMNS + [ind.variable], "respondents")
    area, code = _area_mask(respondents, level, area_code)
    waves = agreement.comparable_waves(ind.id, "land" if level == "land" else "kommune")
    baseline_year = _baseline(agreement, ind)
    if by is None:
        groups = [(TOTAL, TOTAL, np.ones(len(respondents), dtype=bool))]
        exclude: list[str] = []
    else:
        _require(respondents, [by], "respondents (by)")
        values = respondents[by]
        levels = (
            list(values.cat.categories)
            if isinstance(values.dtype, pd.CategoricalDtype)
            else sorted(values.dropna().unique(), key=str)
        )
        groups = [(by, str(v), (values == v).to_numpy()) for v in levels]
        exclude = [by, "age_group"] if by == "age" else [by]
    if covariates is None:
        covariates = _covariates(respondents, ind, exclude)
    else:
        covariates = list(covariates)
        _require(respondents, covariates, "respondents (covariates)")
    ctx = _context(respondents, ind, covariates, design, baseline_year, sex_labels)
    formula = f"{ind.variable} ~ year" + "".join(
        f" + C({c})" if c in _CATEGORICAL else f" + {c}" for c in covariates
    )
    rows = []
    for breakdown, group, mask in groups:
        result = _fit_microdata(
            ctx,
            np.flatnonzero(ctx.usable & area & mask & np.isin(ctx.years, waves)),
            baseline_year=baseline_year,
            direction=ind.direction,
            target=target,
            confidence=confidence,
        )
        result.pop("_params", None)
        rows.append(
            {
                "indicator": ind.id,
                "area_level": level,
                "area_code": code,
                "breakdown": breakdown,
                "group": group,
                "input": "microdata",
                "formula": formula,
            }
            | result
        )
    return _finish(pd.DataFrame(rows), agreement, confidence)


# ---------------------------------------------------------------------------------------------
# Aggregated inputs


def _counts_as_estimates(counts: pd.DataFrame) -> pd.DataFrame:
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


def _fit_aggregated(cell: pd.DataFrame, baseline_year, direction, target, confidence, counts):
    cell = cell.sort_values("year")
    usable = cell[
        ~cell["suppressed"] & (cell["estimate"] > 0) & (cell["estimate"] < 1) & (cell["se"] > 0)
    ]
    years = usable["year"].to_numpy(float)
    result = {
        "waves": ",".join(str(int(y)) for y in years),
        "n_waves": int(years.size),
        "n": float(usable["n"].sum()) if "n" in usable else np.nan,
    }
    if years.size < 2:
        return result | _empty_result("færre end to sammenlignelige målinger")
    estimate = usable["estimate"].to_numpy(float)
    se = usable["se"].to_numpy(float)
    centre = baseline_year
    beta, vcov, q, _, _, x, w = _wls_logit(years, estimate, se, centre)
    fitted = special.expit(x @ beta)
    dp = fitted * (1 - fitted)
    # AME: the waves weighted equally (each wave's weights sum to the population, which changes
    # little between waves), the analogue of the respondent-weighted average in svyglm.
    ame = float(dp.mean() * beta[1])
    gradient = (dp * (1 - 2 * fitted) * beta[1]) @ x / years.size
    gradient[1] += dp.mean()
    ame_se = float(np.sqrt(gradient @ vcov @ gradient))
    result |= _slope_summary(
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
    tau2 = _between_wave_variance(q, x, w, vcov)
    x_target = np.array([1.0, target - centre])
    base = usable.loc[usable["year"] == baseline_year, "estimate"]
    result |= _projection_summary(
        float(x_target @ beta),
        float(x_target @ vcov @ x_target),
        tau2,
        np.inf,
        float(base.iloc[0]) if len(base) else None,
        direction,
        target,
        confidence,
    )
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


def trends_from_estimates(
    estimates: pd.DataFrame,
    agreement: Agreement,
    *,
    confidence: float = 0.95,
    target: int | None = None,
    keys: Sequence[str] = KEYS,
) -> pd.DataFrame:
    """Trend and projection per cell from aggregated input (one row per ``keys`` cell).

    Input is either ``estimate`` + ``se`` per wave (survey estimates, 0-1 scale) or
    ``numerator`` + ``denominator`` per year (register counts; turned into p and the binomial
    SE). Only comparable, unsuppressed waves with 0 < p < 1 enter. The trend is weighted least
    squares of logit(p) on year with inverse-variance weights ``(p(1-p)/se)²`` and known
    variances (no residual scaling; Berkson's minimum logit chi-square for counts), so with two
    waves it equals the survey-weighted logistic model on the same respondents exactly. The
    residual ``Q = Σ w (logit p - fitted)²`` is the test of departure from linearity (chi-square,
    k - 2 df). Register counts also get the Fingertips chi-square test for linear trend over the
    last five points (:func:`chi2_trend`) and the annual percent change over the same points
    (:func:`annual_percent_change`). Output columns as :func:`trend`.
    """
    confidence = _check_confidence(confidence)
    _check_agreement(agreement)
    keys = list(keys)
    counts = "numerator" in estimates.columns and "denominator" in estimates.columns
    if counts:
        _require(estimates, keys + ["year", "numerator", "denominator"], "counts")
        frame = _counts_as_estimates(estimates)
    else:
        _require(estimates, keys + ["year", "estimate", "se"], "estimates")
        frame = estimates.copy()
    frame["suppressed"] = (
        frame["suppressed"].fillna(False).astype(bool) if "suppressed" in frame else False
    )
    if "n" not in frame:
        frame["n"] = np.nan
    target = agreement.period_end if target is None else int(target)
    indicators = {i: _indicator(agreement, i) for i in frame["indicator"].unique()}
    combos = frame[["indicator", "area_level", "year"]].drop_duplicates()
    combos = combos[
        [
            _comparable(agreement, indicators[i], lvl, int(y))
            for i, lvl, y in combos.itertuples(index=False)
        ]
    ]
    frame = frame.merge(combos, on=["indicator", "area_level", "year"], how="inner")
    rows = []
    for key, cell in frame.groupby(keys, sort=True, dropna=False):
        ind = indicators[key[0]]
        rows.append(
            dict(zip(keys, key, strict=True))
            | {"input": "counts" if counts else "estimates"}
            | _fit_aggregated(
                cell, _baseline(agreement, ind), ind.direction, target, confidence, counts
            )
        )
    return _finish(pd.DataFrame(rows), agreement, confidence)


# ---------------------------------------------------------------------------------------------
# Output


_TREND_COLUMNS = [
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
    "trend_se_logit",
    "between_wave_sd_logit",
    "baseline_estimate",
    "prob_desired_side",
    "direction",
    "covid_flag",
    "note",
    "projection_note",
    "fit_note",
    "method",
    "level",
]
_COUNT_COLUMNS = [
    "chi2_trend",
    "chi2_trend_p_value",
    "chi2_trend_years",
    "apc",
    "apc_ci_low",
    "apc_ci_high",
]


def _finish(frame: pd.DataFrame, agreement: Agreement, confidence: float) -> pd.DataFrame:
    """Add notes and the fixed column order."""
    for column in _TREND_COLUMNS + (["formula"] if "formula" in frame else []):
        if column not in frame:
            frame[column] = np.nan
    frame["direction"] = [agreement.indicator(i).direction for i in frame["indicator"]]
    notes = [
        _wave_notes(agreement, [int(y) for y in str(w).split(",") if y])
        if agreement.indicator(i).source == "survey" and isinstance(w, str)
        else (False, "")
        for i, w in zip(frame["indicator"], frame["waves"], strict=True)
    ]
    frame["covid_flag"] = [c for c, _ in notes]
    frame["note"] = [n for _, n in notes]
    frame["projection_note"] = [
        f"Fremskrivningen bygger kun på to målinger ({w.replace(',', ' og ')}) og er derfor "
        "meget usikker."
        if k == 2
        else ("" if k > 2 else "Der er for få målinger til en fremskrivning.")
        for w, k in zip(frame["waves"].astype(str), frame["n_waves"].fillna(0), strict=True)
    ]
    for column in ("fit_note", "nonlinearity_test"):
        frame[column] = [v if isinstance(v, str) else "" for v in frame[column]]
    frame["level"] = confidence
    keys = [k for k in frame.columns if k not in _TREND_COLUMNS + _COUNT_COLUMNS + ["formula"]]
    extra = [c for c in _COUNT_COLUMNS if c in frame] + (["formula"] if "formula" in frame else [])
    return frame[keys + _TREND_COLUMNS + extra].reset_index(drop=True)


def _is_aggregated(data: pd.DataFrame) -> bool:
    return {"estimate", "se"} <= set(data.columns) or {"numerator", "denominator"} <= set(
        data.columns
    )


# ---------------------------------------------------------------------------------------------
# 2. and 4. Public entry points


def trend(
    data: pd.DataFrame,
    indicator: str,
    agreement: Agreement,
    *,
    level: str = "land",
    area_code: str | int | None = None,
    by: str | None = None,
    design: Design = DEFAULT_DESIGN,
    confidence: float = 0.95,
    target: int | None = None,
    covariates: Sequence[str] | None = None,
    sex_labels: Mapping[str, str] = SEX_LABELS,
) -> pd.DataFrame:
    """Trend over the comparable waves for one indicator and area, with projection.

    **Respondents** (one row per respondent): survey-weighted logistic regression
    ``indicator ~ year + C(sex) + C(age_group)`` on the respondents of the indicator's
    population (catalogue age band and sex) in the area, over the comparable waves; equal to R
    ``svyglm(y ~ year + sex + age_group, design, family = quasibinomial())`` with the area,
    population and waves as a domain of the whole design (``subset(design, ...)``). For a
    population of one age group (16-24 år) ``age_group`` is constant and exact ``age`` (linear)
    is used instead; with ``by`` the by-variable is left out. Reported:

    - ``odds_ratio`` per year (``exp`` of the year coefficient) with a t(df) interval;
    - ``annual_change_pp``: the average marginal effect of year, ``Σ wᵢ pᵢ(1-pᵢ) b_year / Σ wᵢ``
      in percentage points per year, delta-method SE from the sandwich covariance, t(df) test;
    - with ≥ 3 waves, the test of departure from linearity: the model plus indicators of the
      interior waves (together with linear year they span the saturated wave effects); Wald
      test of those terms, ``F = W / q`` on ``(q, df)`` with the residual design df, exactly R
      ``regTermTest(fit, ~ d2 + d3 ..., method = "Wald")``;
    - the projection of :func:`projection`.

    **Aggregated input** (columns ``estimate`` + ``se`` or ``numerator`` + ``denominator``, with
    ``indicator``, ``area_level``, ``area_code``, ``year`` and optionally ``breakdown``,
    ``group``, ``suppressed``): see :func:`trends_from_estimates`.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (``year``, ``kommune_code``, ``sex``, ``age``, ``age_group``, the indicator
        column, the design columns) or aggregated estimates/counts. Not modified.
    indicator : str
        Indicator id of the agreement (its ``variable`` is the respondent column).
    agreement : Agreement
    level : {"land", "region", "sundhedsklynge", "kommune"}
        Area level; the national-only wave enters only at ``land``.
    area_code : str or int, optional
        Area code (``geography.areas``); not needed for ``land``.
    by : str, optional
        Respondents: a column to fit the trend in each of its groups (domains). Aggregated: the
        ``breakdown`` to use (default the total).
    design : Design
        Survey design (default weight ``weight``, strata ``stratum``).
    confidence : float
    target : int, optional
        Projection year (default the agreement's ``period_end``, 2027).
    covariates : sequence of str, optional
        Respondents: adjustment terms instead of the default (``sex`` and ``age_group``, or
        ``sex`` and ``age`` for a one-age-group population); ``()`` fits ``y ~ year``.
        Categorical columns (``sex``, ``age_group``, non-numeric) get treatment dummies.
    sex_labels : mapping
        Labels of the ``sex`` column for a one-sex population.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``indicator``, ``area_level``, ``area_code``, ``breakdown``,
        ``group``, ``input``, ``waves`` (comma-separated years used), ``n_waves``, ``n``,
        ``log_odds_slope``, ``log_odds_se``, ``odds_ratio``, ``or_ci_low``, ``or_ci_high``,
        ``slope_p_value``, ``annual_change_pp``, ``annual_change_se_pp``,
        ``annual_change_ci_low_pp``, ``annual_change_ci_high_pp``, ``annual_change_p_value``,
        ``df`` (inf = normal), ``nonlinearity_test``, ``nonlinearity_stat``,
        ``nonlinearity_df1``, ``nonlinearity_df2``, ``nonlinearity_p_value``, the projection
        columns of :func:`projection`, ``direction``, ``covid_flag``, ``note`` (Danish wave
        notes), ``projection_note``, ``fit_note`` (Danish; why a fit is missing), ``method``,
        ``level``; count input adds ``chi2_trend``, ``chi2_trend_p_value``,
        ``chi2_trend_years``, ``apc``, ``apc_ci_low``, ``apc_ci_high``; respondents add
        ``formula``.

    Raises
    ------
    ParameterError
        Unknown indicator, level or area; missing columns; a non-0/1 indicator column; a bad
        confidence level.

    References
    ----------
    Lumley T (2010) *Complex Surveys*, ch. 5-6 (svyglm, regTermTest); Graubard BI, Korn EL
    (1999) Predictive margins with survey data, *Biometrics* 55:652-659.
    """
    confidence = _check_confidence(confidence)
    _check_agreement(agreement)
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"data must be a pandas DataFrame (got {type(data).__name__})")
    _check_level(level)
    ind = _indicator(agreement, indicator)
    target = agreement.period_end if target is None else int(target)
    if _is_aggregated(data):
        return _trend_aggregated(data, ind, agreement, level, area_code, by, confidence, target)
    if ind.source != "survey":
        raise ParameterError(
            f"{indicator!r} is a register indicator: give numerator/denominator per year"
        )
    return _trend_microdata(
        data,
        ind,
        agreement,
        level,
        area_code,
        by,
        design,
        confidence,
        target,
        sex_labels,
        covariates,
    )


def _trend_aggregated(data, ind, agreement, level, area_code, by, confidence, target):
    _require(data, ["indicator", "area_level", "area_code", "year"], "aggregated data")
    code = geography.COUNTRY_CODE if level == "land" else area_code
    if code is None:
        raise ParameterError(f"area_code is needed for level {level!r}")
    mask = (
        (data["indicator"] == ind.id)
        & (data["area_level"] == level)
        & (data["area_code"].astype(str) == str(code))
    )
    frame = data.loc[mask].copy()
    if "breakdown" not in frame:
        frame["breakdown"], frame["group"] = TOTAL, TOTAL
    frame = frame[frame["breakdown"] == (TOTAL if by is None else by)]
    if frame.empty:
        raise ParameterError(
            f"no rows for indicator {ind.id!r}, {level} {code!r}"
            + (f", breakdown {by!r}" if by else "")
        )
    return trends_from_estimates(frame, agreement, confidence=confidence, target=target)


_PROJECTION_COLUMNS = [
    "indicator",
    "area_level",
    "area_code",
    "breakdown",
    "group",
    "input",
    "waves",
    "n_waves",
    "projection_year",
    "baseline_estimate",
    "projected",
    "projected_se",
    "projected_pi_low",
    "projected_pi_high",
    "trend_se_logit",
    "between_wave_sd_logit",
    "prob_desired_side",
    "direction",
    "covid_flag",
    "projection_note",
    "method",
    "level",
]


def projection(
    data: pd.DataFrame,
    indicator: str,
    agreement: Agreement,
    **kwargs,
) -> pd.DataFrame:
    """Projected value in the agreement's end year (2027), from the trend model.

    Respondents: the predictive margin at ``year = target`` over the latest wave's respondents
    in the domain (their sex and age mix), ``M = Σ wᵢ expit(xᵢ(target)'b) / Σ wᵢ`` (Graubard &
    Korn 1999), with delta-method variance ``g'Vg`` from the sandwich covariance. Aggregated
    input: ``expit(a + b · target)`` from the logit WLS line. The prediction interval is on the
    logit scale, ``logit(M) ± q · sqrt(var_trend + tau²)``, where tau² is the extra wave-to-wave
    variation of the wave estimates around the fitted logit line beyond their sampling error
    (method of moments, DerSimonian-Laird for meta-regression; Raudenbush 2009). With two waves
    tau² cannot be estimated and is 0, and ``projection_note`` says that the projection rests on
    two waves only. ``prob_desired_side`` is the probability that the 2027 value lies on the
    desired side of the observed baseline value (baseline treated as fixed), a normal
    approximation on the logit scale: ``Φ(±(logit M - logit p_baseline) / sqrt(var + tau²))``.

    Takes the same arguments as :func:`trend` and returns its projection columns:
    ``indicator``, ``area_level``, ``area_code``, ``breakdown``, ``group``, ``input``,
    ``waves``, ``n_waves``, ``projection_year``, ``baseline_estimate``, ``projected``,
    ``projected_se``, ``projected_pi_low``, ``projected_pi_high``, ``trend_se_logit``,
    ``between_wave_sd_logit``, ``prob_desired_side``, ``direction``, ``covid_flag``,
    ``projection_note`` (Danish), ``method``, ``level``.
    """
    return trend(data, indicator, agreement, **kwargs)[_PROJECTION_COLUMNS]


def trends_for_cube(
    respondents: pd.DataFrame,
    agreement: Agreement,
    levels: Sequence[str] = geography.LEVELS,
    *,
    indicators: Sequence[str] | None = None,
    design: Design = DEFAULT_DESIGN,
    confidence: float = 0.95,
    target: int | None = None,
    linearity: bool = True,
    sex_labels: Mapping[str, str] = SEX_LABELS,
) -> pd.DataFrame:
    """:func:`trend` for every survey indicator × area of ``levels`` (breakdown ``total``).

    The design is encoded and the model matrix built once per covariate set; each area is a
    boolean domain of the whole design fitted with :func:`analyse.stats.survey.logistic_matrix`
    (numpy IRLS and sandwich variance, no formula parsing per fit). Areas come from
    :func:`analyse.reference.geography.membership` (a kommune in two klynger counts in both). Output:
    the columns of :func:`trend`, one row per indicator × area; an area without enough data
    has NaN results and a Danish ``fit_note``. ``linearity=False`` skips the extra model of the
    linearity test.

    Runtime (full synthetic default, 565,000 respondents, 8 indicators × 126 areas, 2 cores):
    about 12 s with single-threaded BLAS (``OPENBLAS_NUM_THREADS=1``) and about 22 s with
    OpenBLAS's default threads, which cost more than they give on these small p × p products.
    """
    confidence = _check_confidence(confidence)
    _check_agreement(agreement)
    for level in levels:
        _check_level(level)
    target = agreement.period_end if target is None else int(target)
    chosen = (
        [i.id for i in agreement.indicators_by_source("survey")]
        if indicators is None
        else list(indicators)
    )
    _require(respondents, _MICRODATA_COLUMNS, "respondents")
    # Row positions per kommune, once: an area's rows are the union of its kommuner's.
    kommune = respondents["kommune_code"].to_numpy()
    order = np.argsort(kommune, kind="stable")
    codes_present, first = np.unique(kommune[order], return_index=True)
    by_kommune = dict(zip(codes_present.tolist(), np.split(order, first[1:]), strict=True))
    empty = np.zeros(0, dtype=np.int64)
    contexts: dict = {}
    codes = design_codes(respondents, design)
    memberships = {
        level: [
            (code, group.to_numpy())
            for code, group in geography.membership(level).groupby("area_code", sort=False)[
                "kommune_code"
            ]
        ]
        for level in levels
    }
    rows = []
    for indicator_id in chosen:
        ind = _indicator(agreement, indicator_id, ("survey",))
        _require(respondents, [ind.variable], "respondents")
        baseline_year = _baseline(agreement, ind)
        covariates = tuple(_covariates(respondents, ind, []))
        key = (covariates, baseline_year)
        if key not in contexts:
            contexts[key] = _model_matrix(respondents, covariates, baseline_year)
        model = contexts[key]
        y = respondents[ind.variable].to_numpy(dtype=float, na_value=np.nan)
        ctx = _Context(
            y=y,
            weights=respondents[design.weight].to_numpy(float),
            codes=codes,
            model=model,
            years=respondents["year"].to_numpy(int),
            usable=_population_mask(respondents, ind, sex_labels)
            & np.isfinite(y)
            & np.isfinite(model.x).all(axis=1),
        )
        formula = f"{ind.variable} ~ year" + "".join(
            f" + C({c})" if c in _CATEGORICAL else f" + {c}" for c in covariates
        )
        start = None  # the first (largest) fit of the indicator warm-starts the others
        for level in levels:
            waves = agreement.comparable_waves(ind.id, "land" if level == "land" else "kommune")
            eligible = ctx.usable & np.isin(ctx.years, waves)
            for area_code, members in memberships[level]:
                index = np.sort(np.concatenate([by_kommune.get(k, empty) for k in members]))
                result = _fit_microdata(
                    ctx,
                    index[eligible[index]],
                    baseline_year=baseline_year,
                    direction=ind.direction,
                    target=target,
                    confidence=confidence,
                    linearity=linearity,
                    start=start,
                )
                params = result.pop("_params", None)
                if start is None and params is not None:
                    start = params
                rows.append(
                    {
                        "indicator": ind.id,
                        "area_level": level,
                        "area_code": str(area_code),
                        "breakdown": TOTAL,
                        "group": TOTAL,
                        "input": "microdata",
                        "formula": formula,
                    }
                    | result
                )
    return _finish(pd.DataFrame(rows), agreement, confidence)
