"""Does the gap narrow? The rank x wave interaction of the survey SII with its design-based test."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as t_dist

from analyse.errors import ParameterError
from analyse.stats.disclosure import Rules
from analyse.stats.inequality.common import check_frame, direction_sign, numeric, z_value
from analyse.stats.inequality.tally import (
    GAP_NARROWER,
    GAP_UNCHANGED,
    GAP_UNKNOWN,
    GAP_WIDER,
    REASON_FEW_WAVES,
    REASON_NOT_CONVERGED,
    Tally,
    by_cells,
    cell_measures,
    check_rules,
    fit_logistic,
    group_word,
    optional_direction,
    prepare_survey,
    rule_reasons,
    tally_cells,
    tally_covariance,
)
from analyse.stats.survey import DesignCodes


def _interaction_model(
    tally: Tally, n_groups: int, times: np.ndarray, rules: Rules, word: str
) -> dict[str, np.ndarray]:
    """Fit ``y ~ ridit * t`` per cell; keys are (wave * n_groups + group) * 2 + y.

    The ridit is computed within each cell x wave. Waves without respondents in a cell are left
    out; the cell is fitted when at least two waves remain and every group of every remaining
    wave meets the disclosure rules. Returns the coefficients' estimates and covariances, the
    residual df, the mean of the remaining waves' t and a reason per cell.
    """
    n_cells, n_waves = tally.n_cells, len(times)
    weight = tally.weight.reshape(n_cells, n_waves, n_groups, 2)
    count = tally.count.reshape(n_cells, n_waves, n_groups, 2)
    n = count.sum(axis=3)  # cells x waves x groups
    has_wave = n.sum(axis=2) > 0
    reasons = np.full(n_cells, "", dtype=object)
    for wave in range(n_waves):
        wave_reasons = rule_reasons(
            n[:, wave], count[:, wave, :, 1], np.ones_like(n[:, wave], dtype=bool), rules, word
        )
        take = (reasons == "") & has_wave[:, wave] & (wave_reasons != "")
        reasons[take] = wave_reasons[take]
    reasons[(reasons == "") & (has_wave.sum(axis=1) < 2)] = REASON_FEW_WAVES
    group_weight = weight.sum(axis=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = group_weight / group_weight.sum(axis=2, keepdims=True)
    share = np.nan_to_num(share)
    rank = np.cumsum(share, axis=2) - share / 2  # cells x waves x groups
    key = np.arange(tally.n_keys)
    key_y = (key % 2).astype(float)
    key_group = (key // 2) % n_groups
    key_wave = key // (2 * n_groups)
    r = rank[:, key_wave, key_group]
    t = np.broadcast_to(times[key_wave], r.shape)
    x = np.stack([np.ones_like(r), r, t, r * t], axis=2)
    beta, influence, converged, _ = fit_logistic(tally.weight, x, key_y, reasons == "")
    reasons[(reasons == "") & ~converged] = REASON_NOT_CONVERGED
    vcov = tally_covariance(tally, influence, full=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = (has_wave * times[None, :]).sum(axis=1) / has_wave.sum(axis=1)
    return {
        "beta": beta,
        "vcov": vcov,
        "df": tally.degf + 1 - 4,
        "mean_t": mean_t,
        "waves": has_wave,
        "reason": reasons,
    }


def gap_cells(
    y: np.ndarray,
    groups: np.ndarray,
    labels: list[Hashable],
    weights: np.ndarray,
    codes: DesignCodes,
    rows: np.ndarray,
    cells: np.ndarray,
    n_cells: int,
    years: np.ndarray,
    waves: list[int],
    baseline: int,
    latest: int,
    *,
    direction: str | None,
    rules: Rules,
    word: str,
    level: float,
) -> pd.DataFrame:
    """gap_change for respondent/cell pairs (``rows``, ``cells``); one output row per cell."""
    n_groups = len(labels)
    keep = ~np.isnan(y[rows]) & (groups[rows] >= 0)
    rows, cells, row_years = rows[keep], cells[keep], years[rows[keep]]
    outcome = y[rows].astype(np.int64)
    group = groups[rows]

    # SII per cell in the baseline and the latest wave (independent samples)
    ends = {}
    for name, wave in (("baseline", baseline), ("latest", latest)):
        in_wave = row_years == wave
        tally = tally_cells(
            rows[in_wave],
            cells[in_wave],
            group[in_wave] * 2 + outcome[in_wave],
            n_cells,
            2 * n_groups,
            weights,
            codes,
        )
        ends[name] = cell_measures(
            tally,
            labels,
            ordered=True,
            direction=direction or "increase",
            rules=rules,
            word=word,
            level=level,
        )
    base, last = ends["baseline"], ends["latest"]
    z = z_value(level)
    alpha = 1 - level
    change = (last["sii"] - base["sii"]).to_numpy()
    change_se = np.hypot(base["sii_se"], last["sii_se"]).to_numpy()
    abs_change = (last["sii"].abs() - base["sii"].abs()).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_p = 2 * norm.sf(np.abs(abs_change / change_se))
    computed = np.isfinite(abs_change) & np.isfinite(change_se)
    significant = computed & (abs_p < alpha)
    gap = np.where(
        ~computed,
        GAP_UNKNOWN,
        np.where(
            significant & (abs_change < 0),
            GAP_NARROWER,
            np.where(significant & (abs_change > 0), GAP_WIDER, GAP_UNCHANGED),
        ),
    )

    # rank x wave interaction models: baseline vs latest (t = 0/1) and all waves (t = years)
    models = {}
    for name, model_waves, times in (
        ("two", [baseline, latest], np.array([0.0, 1.0])),
        ("trend", waves, np.asarray(waves, dtype=float) - baseline),
    ):
        wave_index = pd.Index(model_waves).get_indexer(row_years)
        inside = wave_index >= 0
        tally = tally_cells(
            rows[inside],
            cells[inside],
            (wave_index[inside] * n_groups + group[inside]) * 2 + outcome[inside],
            n_cells,
            2 * n_groups * len(model_waves),
            weights,
            codes,
        )
        models[name] = _interaction_model(tally, n_groups, times, rules, word)

    out: dict[str, Any] = {
        "baseline": baseline,
        "latest": latest,
        "sii_baseline": base["sii"].to_numpy(),
        "se_baseline": base["sii_se"].to_numpy(),
        "sii_latest": last["sii"].to_numpy(),
        "se_latest": last["sii_se"].to_numpy(),
        "sii_change": change,
        "sii_change_se": change_se,
        "sii_change_ci_low": change - z * change_se,
        "sii_change_ci_high": change + z * change_se,
        "abs_sii_change": abs_change,
        "abs_sii_change_ci_low": abs_change - z * change_se,
        "abs_sii_change_ci_high": abs_change + z * change_se,
        "abs_sii_change_p": abs_p,
        "gap": gap,
    }
    for name, prefix in (("two", "interaction"), ("trend", "trend_interaction")):
        model = models[name]
        coef = model["beta"][:, 3]
        se = np.sqrt(model["vcov"][:, 3, 3])
        with np.errstate(divide="ignore", invalid="ignore"):
            p_value = np.where(
                model["df"] > 0,
                2 * t_dist.sf(np.abs(coef / se), np.where(model["df"] > 0, model["df"], 1)),
                np.nan,
            )
        out[prefix] = coef
        out[f"{prefix}_se"] = se
        out[f"{prefix}_p"] = p_value
        if name == "trend":
            slope_mid = model["beta"][:, 1] + coef * model["mean_t"]
            oriented = np.sign(slope_mid) * coef
            fitted = np.isfinite(p_value)
            sig = fitted & (p_value < alpha)
            out["trend_waves"] = [
                ", ".join(str(w) for w, has in zip(waves, row, strict=True) if has)
                for row in model["waves"]
            ]
            out["gap_trend"] = np.where(
                ~fitted,
                GAP_UNKNOWN,
                np.where(
                    sig & (oriented < 0),
                    GAP_NARROWER,
                    np.where(sig & (oriented > 0), GAP_WIDER, GAP_UNCHANGED),
                ),
            )
            out["trend_reason"] = model["reason"]
    if direction is None:
        out["least_advantaged_worse_off"] = pd.array([pd.NA] * n_cells, dtype="boolean")
    else:
        worse = last["sii"] * direction_sign(direction) > 0
        out["least_advantaged_worse_off"] = worse.astype("boolean").where(last["sii"].notna())
    reason = np.where(base["reason"] != "", "bølge " + str(baseline) + ": " + base["reason"], "")
    reason = np.where(
        (reason == "") & (last["reason"] != ""),
        "bølge " + str(latest) + ": " + last["reason"],
        reason,
    )
    out["reason"] = reason
    out["n_baseline"] = base["n"].to_numpy()
    out["n_latest"] = last["n"].to_numpy()
    frame = pd.DataFrame(out)
    frame["direction"] = direction
    frame["method"] = (
        "change in |SII| (svyglm on the ridit per wave, independent waves); "
        "ridit x wave interaction in svyglm quasibinomial, design-based Wald t-test"
    )
    frame["level"] = level
    return frame


def gap_change(
    data: pd.DataFrame,
    indicator: str,
    dimension: str = "education",
    *,
    baseline: int = 2021,
    latest: int | None = None,
    waves: Sequence[int] | None = None,
    year: str = "year",
    weight: str = "weight",
    strata: str | None = "stratum",
    psu: str | None = None,
    by: str | Sequence[str] | None = None,
    order: Sequence[Hashable] | None = None,
    direction: str | None = None,
    rules: Rules | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Whether the social gap (SII on the ridit) narrows between waves, per ``by`` group.

    Two questions, each answered with ``mindre`` (narrower), ``uændret`` or ``større`` (wider),
    or ``kan ikke vurderes`` (see ``docs/methods.md`` §5 for the rule):

    * ``gap`` -- baseline wave against the latest: the change in the absolute SII,
      ``|SII_latest| - |SII_baseline|``, with se = sqrt(se_b^2 + se_l^2) (independent waves,
      DESIGN.md §4; delta method) and a two-sided z-test at ``1 - level``: significant and
      negative = ``mindre``, significant and positive = ``større``, otherwise ``uændret``.
      The SIIs are those of :func:`sii_survey`. Also reported: the signed change in SII with
      its interval, and the design-based Wald test of the ridit x wave interaction in the
      survey-weighted logistic model ``indicator ~ ridit * latest_wave`` on the two waves
      (``interaction``: the change in the log-odds slope; ``interaction_p``).
    * ``gap_trend`` -- over all comparable ``waves``: the ridit x year interaction in
      ``indicator ~ ridit * (year - baseline)`` (survey-weighted, ridit within each wave), its
      design-based Wald t-test, oriented by the sign of the ridit slope at the mean year: a
      significant interaction of the same sign as that slope means the gap (on the log-odds
      scale) grows (``større``), of the opposite sign that it shrinks (``mindre``).

    The indicator's desired direction does not enter the rule: a gap that favours the more
    educated and one that favours the less educated are both gaps, and ``mindre`` always means
    closer to equality. ``least_advantaged_worse_off`` (latest wave, needs ``direction``) says
    which side the gap is on.

    Parameters
    ----------
    data
        Respondents of several waves; not modified.
    indicator, dimension, weight, strata, psu, order, rules, level
        As :func:`sii_survey`. Strata must be wave-specific (e.g. ``"2021-461"``): the waves
        are independent samples.
    baseline, latest
        The agreement's baseline wave (default 2021) and the wave it is compared with (default:
        the latest wave in ``waves``).
    waves
        The comparable waves of the indicator (the catalogue's ``comparable_waves``); default
        all waves with data. ``baseline`` and ``latest`` must be among them.
    year
        Column with the wave (year).
    by
        Column(s) of separate analyses (e.g. the area); ``year`` must not be among them.
    direction
        ``"increase"``/``"decrease"``, fills ``least_advantaged_worse_off``.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group: the ``by`` columns, ``baseline``, ``latest``,
        ``sii_baseline``, ``se_baseline``, ``sii_latest``, ``se_latest``, ``sii_change``,
        ``sii_change_se``, ``sii_change_ci_low``, ``sii_change_ci_high``, ``abs_sii_change``,
        ``abs_sii_change_ci_low``, ``abs_sii_change_ci_high``, ``abs_sii_change_p``, ``gap``,
        ``interaction``, ``interaction_se``, ``interaction_p``, ``trend_interaction``,
        ``trend_interaction_se``, ``trend_interaction_p``, ``trend_waves``, ``gap_trend``,
        ``trend_reason``, ``least_advantaged_worse_off``, ``reason``, ``n_baseline``,
        ``n_latest``, ``direction``, ``method``, ``level``.

    Raises
    ------
    ParameterError
        As :func:`sii_survey`; also ``year`` in ``by``, baseline/latest not among the waves or
        baseline not before latest.
    DataValidationError
        As :func:`sii_survey`; a ``year`` that is not a whole number.

    References
    ----------
    WHO. Handbook on health inequality monitoring, 2024 (monitoring change in inequality).
    Moreno-Betancur M et al. Epidemiology. 2015;26(4):518-527 (the SII/RII regression
    framework, including interactions with time). Lumley T. Complex surveys, Wiley 2010, ch. 5.
    """
    function = "gap_change"
    direction = optional_direction(direction, function)
    rules = check_rules(rules, function)
    by_cols, y, groups, labels, codes, level = prepare_survey(
        data, indicator, dimension, weight, strata, psu, by, order, level, function
    )
    check_frame(data, [year], function)
    if year in by_cols:
        raise ParameterError(f"{function}: the wave column {year!r} cannot also be in by")
    years = numeric(data, year, allow_missing=True).to_numpy()
    waves, baseline, latest = _check_waves(years, y, waves, baseline, latest, function)
    cells, keys = by_cells(data, by_cols, function)
    rows = np.flatnonzero(np.isin(years, waves))
    result = gap_cells(
        y,
        groups,
        labels,
        data[weight].to_numpy(dtype=float),
        codes,
        rows,
        cells[rows],
        len(keys),
        years,
        waves,
        baseline,
        latest,
        direction=direction,
        rules=rules,
        word=group_word(dimension),
        level=level,
    )
    return pd.concat([keys.reset_index(drop=True), result], axis=1)


def _check_waves(
    years: np.ndarray,
    y: np.ndarray,
    waves: Sequence[int] | None,
    baseline: int,
    latest: int | None,
    function: str,
) -> tuple[list[int], int, int]:
    observed = sorted({int(v) for v in years[~np.isnan(years) & ~np.isnan(y)]})
    waves = observed if waves is None else sorted({int(w) for w in waves})
    if latest is None:
        if not waves:
            raise ParameterError(f"{function}: no waves with data")
        latest = waves[-1]
    for name, wave in (("baseline", baseline), ("latest", latest)):
        if isinstance(wave, bool) or not isinstance(wave, int | np.integer):
            raise ParameterError(f"{function}: {name} must be a year (whole number), got {wave!r}")
        if wave not in waves:
            raise ParameterError(
                f"{function}: {name} wave {wave} is not among the comparable waves {waves}"
            )
    if baseline >= latest:
        raise ParameterError(
            f"{function}: the baseline wave ({baseline}) must come before the latest ({latest})"
        )
    return [int(w) for w in waves], int(baseline), int(latest)


# ---- the cube --------------------------------------------------------------------------------
