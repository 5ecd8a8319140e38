"""Model-based companion estimates per kommune: the Fay–Herriot driver of the cube.

For every survey indicator × wave × breakdown (total, sex, age group, sex × age) × group, one
area-level Fay–Herriot fit over the kommuner (:func:`analyse.stats.smallarea.fay_herriot`:
arcsine scale, GVF sampling variances, REML, Prasad–Rao MSE, ratio-benchmarked to the region's
direct estimate). The covariates per kommune need no microdata:

* the composition of the cell's population from a population table (kommune × sex × age group
  × education): share of women, mean age group, share with only grundskole, share with a long
  higher education; for the synthetic delivery :func:`analyse.data.synth.population_table`, for
  a real one DST FOLK1A and HFUDD in the same format;
* the log of the kommune's population aged 16+ (:mod:`analyse.reference.population`), a proxy
  for urbanity;
* the kommune's published all-ages estimate of the same outcome (logit), treated as measured
  with error (Ybarra & Lohr 2008) — for a 16–24 indicator its 16+ companion, for a breakdown
  of a 16+ indicator its total; a 16+ indicator's kommune total has no such covariate.

Disclosure (the "safe" variant, ``docs/methods.md`` §7): the driver reads only the
*published* cube — suppressed cells are hidden there, so they are left out of the fit and get
the purely synthetic estimate; n is the published (rounded) count; covariates and benchmark
targets are published numbers. Every model estimate is therefore a function of published
numbers only and cannot narrow a suppressed direct cell. No fit is made with fewer than
``Rules.model_min_areas`` shown kommuner. The model estimates are for presentation beside the
direct ones only where those are suppressed or imprecise (``show``: ``Rules.model_max_cv``,
``Rules.model_max_half_width``);
changes, status and trends stay on the direct estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analyse.errors import DataValidationError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator
from analyse.reference.population import kommune_population_16plus
from analyse.stats import disclosure
from analyse.stats.smallarea import FayHerriotError, fay_herriot

BREAKDOWNS = ("total", "sex", "age_group", "sex_age")
POPULATION_COLUMNS = ("kommune_code", "sex", "age_group", "education", "population")
EDUCATION_LOW = "Grundskole"
EDUCATION_HIGH = "Lang videregående"
CROSS_SEPARATOR = ", "
SEXES = {"male": "Mænd", "female": "Kvinder"}
COMPOSITION = ("log_population", "share_female", "age_mean", "share_grundskole", "share_lvu")
COLUMNS = (
    "indicator",
    "year",
    "area_level",
    "area_code",
    "breakdown",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "flag",
    "method",
    "direct_suppressed",
    "direct_cv",
    "show",
    "kommuner_fitted",
    "level",
)
#: Logit of a published covariate is taken of the estimate clipped to this range (0 and 1 have
#: no logit; the arcsine scale of the cell itself needs no clipping).
_CLIP = (0.005, 0.995)


def empty_table() -> pd.DataFrame:
    """The model-estimates table with no rows (a delivery without a population table)."""
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "float64")) for c in COLUMNS})


_DTYPES = {
    "indicator": "object",
    "area_level": "object",
    "area_code": "object",
    "breakdown": "object",
    "group": "object",
    "method": "object",
    "year": "int64",
    "flag": "bool",
    "direct_suppressed": "bool",
    "show": "bool",
    "kommuner_fitted": "int64",
}


def _check_population(population: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in POPULATION_COLUMNS if c not in population.columns]
    if missing:
        raise DataValidationError(
            f"the population table lacks column(s) {', '.join(missing)}",
            column=missing[0],
            hint="expected one row per kommune_code × sex × age_group × education with population",
        )
    values = pd.to_numeric(population["population"], errors="coerce")
    bad = np.flatnonzero(~(values >= 0).to_numpy())
    if bad.size:
        raise DataValidationError(
            "population must be a number ≥ 0", column="population", rows=bad.tolist()
        )
    for label in (EDUCATION_LOW, EDUCATION_HIGH):
        if label not in set(population["education"]):
            raise DataValidationError(
                f"the population table has no education group {label!r}", column="education"
            )
    out = population[list(POPULATION_COLUMNS)].copy()
    out["kommune_code"] = out["kommune_code"].astype("int64").astype(str)
    out["population"] = values.astype(float)
    return out


def _age_bounds(label: str) -> tuple[int, int | None]:
    """ "16-24" → (16, 24); "75+" → (75, None)."""
    if label.endswith("+"):
        return int(label[:-1]), None
    low, high = label.split("-")
    return int(low), int(high)


def in_population(population: pd.DataFrame, indicator: Indicator) -> np.ndarray:
    """Rows of the population table inside the indicator's population (whole age groups)."""
    spec = indicator.population
    bounds = {a: _age_bounds(a) for a in population["age_group"].unique()}
    low = population["age_group"].map({a: b[0] for a, b in bounds.items()}).to_numpy(float)
    high = (
        population["age_group"]
        .map({a: np.inf if b[1] is None else b[1] for a, b in bounds.items()})
        .to_numpy(float)
    )
    mask = low >= spec.age_min
    if spec.age_max is not None:
        mask &= high <= spec.age_max
    if spec.sex in SEXES:
        mask &= (population["sex"] == SEXES[spec.sex]).to_numpy()
    return mask


def in_group(population: pd.DataFrame, breakdown: str, group: str) -> np.ndarray:
    if breakdown == "total":
        return np.ones(len(population), bool)
    if breakdown == "sex":
        return (population["sex"] == group).to_numpy()
    if breakdown == "age_group":
        return (population["age_group"] == group).to_numpy()
    sex, age = group.split(CROSS_SEPARATOR, 1)
    return ((population["sex"] == sex) & (population["age_group"] == age)).to_numpy()


def _composition(population: pd.DataFrame) -> pd.DataFrame:
    """Per kommune: population of the cell and its composition shares."""
    ages = sorted(population["age_group"].unique(), key=lambda a: _age_bounds(a)[0])
    rank = population["age_group"].map({a: i for i, a in enumerate(ages)}).to_numpy(float)
    w = population["population"].to_numpy(float)
    parts = pd.DataFrame(
        {
            "kommune_code": population["kommune_code"].to_numpy(),
            "population": w,
            "female": w * (population["sex"] == SEXES["female"]).to_numpy(),
            "age": w * rank,
            "low": w * (population["education"] == EDUCATION_LOW).to_numpy(),
            "high": w * (population["education"] == EDUCATION_HIGH).to_numpy(),
        }
    )
    sums = parts.groupby("kommune_code").sum()
    size = sums["population"]
    return pd.DataFrame(
        {
            "population": size,
            "share_female": sums["female"] / size,
            "age_mean": sums["age"] / size,
            "share_grundskole": sums["low"] / size,
            "share_lvu": sums["high"] / size,
        }
    )


def base_indicator(agreement: Agreement, indicator: Indicator) -> Indicator | None:
    """The 16+ (all ages, both sexes) survey indicator of the same outcome, if the agreement
    has one: its kommune total is the published covariate of the fits."""
    if indicator.population.age_max is None and indicator.population.sex == "all":
        return indicator
    for other in agreement.indicators_by_source("survey"):
        pop = other.population
        if (
            other.variable == indicator.variable
            and pop.age_max is None
            and pop.sex == "all"
            and pop.age_min <= indicator.population.age_min
        ):
            return other
    return None


def model_estimates(
    estimates: pd.DataFrame,
    agreement: Agreement,
    population: pd.DataFrame,
    *,
    rules: disclosure.Rules | None = None,
    breakdowns: Sequence[str] = BREAKDOWNS,
    years: Sequence[int] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fay–Herriot companion estimates for every kommune cell of the published cube.

    Parameters
    ----------
    estimates
        The *published* (suppressed) estimates cube (:func:`analyse.cube.estimates.build`):
        hidden cells have no estimate, ``n`` is rounded. Nothing else about the survey is read.
    agreement
        Its survey indicators are modelled.
    population
        Population table, one row per kommune × sex × age group × education with columns
        ``kommune_code``, ``sex`` (Mænd/Kvinder), ``age_group`` (as in the cube),
        ``education`` (the codebook's groups, must include Grundskole and Lang videregående)
        and ``population``.
    rules
        ``model_min_areas`` (fewest shown kommuner in a fit); ``model_max_cv`` and
        ``model_max_half_width`` (the direct estimate's CV or interval half-width above which
        the model estimate is shown, ``show``).
    breakdowns
        Breakdowns modelled (default total, sex, age group, sex × age).
    years
        Waves modelled (default None: every wave with kommune estimates; the build passes the
        kommune waves from the agreement's baseline on, the ones a brief shows).
    level
        Level of the model intervals.

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per kommune cell that got a model estimate:
    ``estimate``, ``se``, ``ci_low``, ``ci_high`` (the benchmarked EBLUP, proportions 0–1, with
    the Prasad–Rao interval back-transformed from the arcsine scale), ``flag`` (model more than
    one direct half-width from the published direct estimate), ``method``
    (``eblup+ratio``; ``synthetic+ratio`` where the direct estimate is suppressed),
    ``direct_suppressed``, ``direct_cv`` (published se / estimate), ``show`` (suppressed, or
    CV above ``rules.model_max_cv`` or interval half-width above
    ``rules.model_max_half_width``; and not flagged), ``kommuner_fitted`` and ``level``.
    ``attrs["fits"]`` and ``attrs["skipped"]`` count the fits made and those skipped (too few
    shown kommuner, a singular design, or a regression prediction outside [0, 1] for some
    kommune), with reasons in ``attrs["skipped_reasons"]``.

    A kommune gets no model estimate where its covariate (the published all-ages estimate) is
    suppressed, where it has no population, or where its region's direct estimate (the
    benchmark) is not published.

    Raises
    ------
    DataValidationError
        A population table without the needed columns, groups or valid counts.
    """
    rules = rules or disclosure.Rules()
    population = _check_population(population)
    composition_rows = {}
    kommune_rows = estimates[
        (estimates["area_level"] == "kommune") & estimates["breakdown"].isin(breakdowns)
    ]
    if years is not None:
        kommune_rows = kommune_rows[kommune_rows["year"].isin(list(years))]
    region_rows = estimates[estimates["area_level"] == "region"]
    targets = {
        key: float(row)
        for key, row in region_rows[~region_rows["suppressed"].fillna(True).astype(bool)]
        .set_index(["indicator", "year", "breakdown", "group", "area_code"])["estimate"]
        .items()
    }
    totals = (
        kommune_rows[kommune_rows["breakdown"] == "total"]
        .set_index(["indicator", "year", "area_code"])[["estimate", "se", "suppressed"]]
        .sort_index()
    )
    regions = (
        geography.kommuner()
        .assign(area_code=lambda k: k["kommune_code"].astype(str))
        .set_index("area_code")["region_code"]
        .astype(str)
    )
    size = kommune_population_16plus()
    log_population = pd.Series(
        np.log(size["population_16plus"].to_numpy()),
        index=size["kommune_code"].astype(str),
    )
    blocks, skipped = [], []
    fits = 0
    for (indicator_id, year, breakdown, group), cells in kommune_rows.groupby(
        ["indicator", "year", "breakdown", "group"], sort=True
    ):
        if indicator_id not in agreement.indicators:
            continue
        indicator = agreement.indicators[indicator_id]
        if indicator.source != "survey":
            continue
        key = (indicator_id, breakdown, group)
        if key not in composition_rows:
            mask = in_population(population, indicator) & in_group(population, breakdown, group)
            composition_rows[key] = _composition(population[mask]) if mask.any() else None
        composition = composition_rows[key]
        if composition is None:
            continue
        frame = cells.set_index("area_code")[
            ["estimate", "se", "ci_low", "ci_high", "n", "suppressed"]
        ].join(composition, how="inner")
        frame["log_population"] = log_population.reindex(frame.index).to_numpy()
        frame["region_code"] = regions.reindex(frame.index).to_numpy()
        frame["suppressed"] = frame["suppressed"].fillna(True).astype(bool)
        frame["hidden"] = frame["suppressed"] | frame["estimate"].isna()
        base = base_indicator(agreement, indicator)
        covariates = list(COMPOSITION)
        if base is not None and not (base.id == indicator_id and breakdown == "total"):
            try:
                published = totals.loc[(base.id, year)].reindex(frame.index)
            except KeyError:
                published = pd.DataFrame(index=frame.index, columns=totals.columns)
            p = np.clip(published["estimate"].to_numpy(float), *_CLIP)
            frame["logit_total"] = np.log(p / (1 - p))
            frame["logit_total_se"] = published["se"].to_numpy(float) / (p * (1 - p))
            ok = ~published["suppressed"].fillna(True).astype(bool).to_numpy()
            frame = frame[ok & np.isfinite(frame["logit_total_se"].to_numpy())]
            covariates.insert(0, "logit_total")
        target = {
            code: targets[(indicator_id, year, breakdown, group, code)]
            for code in frame["region_code"].dropna().unique()
            if (indicator_id, year, breakdown, group, code) in targets
        }
        frame = frame[
            frame["region_code"].isin(list(target))
            & (frame["population"] > 0)
            & frame["log_population"].notna()
        ]
        shown = int((~frame["hidden"]).sum())
        what = f"{indicator_id} {int(year)} {breakdown} {group}"
        if shown < rules.model_min_areas:
            skipped.append(f"{what}: {shown} shown kommuner < {rules.model_min_areas}")
            continue
        usable = [c for c in covariates if frame[c].std() > 1e-9]
        options = {
            "area": "area_code",
            "covariates": usable,
            "exclude": "hidden",
            "benchmark": "ratio",
            "benchmark_by": "region_code",
            "benchmark_target": target,
            "weight": "population",
            "ci_low": "ci_low",
            "ci_high": "ci_high",
            "level": level,
        }
        if "logit_total" in usable:
            options["covariate_se"] = {"logit_total": "logit_total_se"}
        data = frame.reset_index().rename(columns={"index": "area_code"})
        # Hidden cells carry no value in the published cube; the estimator needs numbers in
        # its columns even for the rows it excludes.
        data.loc[data["hidden"], ["estimate", "se", "n"]] = np.nan
        try:
            # A pathological fit can give a negative MSE approximation (NaN interval); it is
            # rejected below, so numpy's warning is not needed.
            with np.errstate(invalid="ignore"):
                fit = fay_herriot(data, **options)
        except FayHerriotError as exc:
            skipped.append(f"{what}: {exc}")
            continue
        values = fit[["estimate", "ci_low", "ci_high"]].to_numpy(float)
        synthetic = fit["synthetic"].to_numpy(float)
        if not (
            np.isfinite(values).all()
            and ((values >= 0) & (values <= 1)).all()
            and ((synthetic > 0) & (synthetic < 1)).all()
        ):
            # The regression part extrapolates beyond [0, 1] for some kommune (few, selected
            # shown kommuner): no model estimate rather than a clipped one.
            skipped.append(f"{what}: regression prediction outside [0, 1]")
            continue
        fits += 1
        published_se = data["se"].to_numpy(float)
        direct = data["estimate"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(direct > 0, published_se / direct, np.inf)
        cv = np.where(data["hidden"], np.nan, cv)
        hidden = data["hidden"].to_numpy(bool)
        half_width = (data["ci_high"] - data["ci_low"]).to_numpy(float) / 2
        imprecise = ~hidden & (
            (cv > rules.model_max_cv) | (half_width > rules.model_max_half_width)
        )
        flag = fit["flag"].to_numpy(bool)
        blocks.append(
            pd.DataFrame(
                {
                    "indicator": indicator_id,
                    "year": int(year),
                    "area_level": "kommune",
                    "area_code": data["area_code"].to_numpy(),
                    "breakdown": breakdown,
                    "group": group,
                    "estimate": fit["estimate"].to_numpy(float),
                    "se": fit["se"].to_numpy(float),
                    "ci_low": fit["ci_low"].to_numpy(float),
                    "ci_high": fit["ci_high"].to_numpy(float),
                    "flag": flag,
                    "method": fit["method"].to_numpy(object),
                    "direct_suppressed": hidden,
                    "direct_cv": cv,
                    "show": (hidden | imprecise) & ~flag,
                    "kommuner_fitted": shown,
                    "level": level,
                }
            )
        )
    table = pd.concat(blocks, ignore_index=True) if blocks else empty_table()
    table = table.astype({c: t for c, t in _DTYPES.items() if c in table.columns})
    table.attrs.update(fits=fits, skipped=len(skipped), skipped_reasons=skipped)
    return table[list(COLUMNS)]
