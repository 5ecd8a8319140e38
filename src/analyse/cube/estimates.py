"""The estimates cube: every survey indicator × wave × area × breakdown, with SEs, in one pass.

Why not call :func:`analyse.stats.survey.proportion` cell by cell? The Sundhedsprofil design is
stratified by kommune × wave and every area (kommune, sundhedsklynge, region, Denmark) is a union
of whole strata. The Taylor-linearised variance of a ratio in a domain that is a union of whole
strata intersected with a subgroup needs only a handful of sums per stratum × subgroup (see
:func:`_stratum_sums`); those sums add up over strata. So the cube is: one pass over the
respondents to get the sums per stratum × subgroup, a sparse aggregation to every area, and a
few array operations per cell. The result equals the general linearisation engine
(:func:`analyse.stats.survey.proportion`, itself checked against R's ``survey``) exactly — a test
compares them — and the comparison of an area with the *rest* of its region or of Denmark falls
out of the same sums (parent minus area).

All cells go through :func:`analyse.stats.disclosure.suppress` before the cube is returned, so nothing
downstream (notebooks, briefs, CSV exports) can read an unsuppressed small cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator
from analyse.stats import disclosure
from analyse.stats.survey import proportion_interval

LEVELS = ("land", "region", "sundhedsklynge", "kommune")
BREAKDOWNS = ("total", "sex", "age_group", "sex_age", "education", "labour_market")
TOTAL_LABEL = "I alt"
CROSS_SEPARATOR = ", "
REQUIRED_COLUMNS = (
    "respondent_id",
    "year",
    "kommune_code",
    "stratum",
    "weight",
    "sex",
    "age",
    "age_group",
    "education",
    "labour_market",
)
# Sums per stratum × subgroup that the variance needs (see _stratum_sums).
_SUMS = ("w", "wy", "cA", "cB", "cC", "D2", "DE", "E2", "n", "cases")
CUBE_COLUMNS = (
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
    "n",
    "weighted_n",
    "df",
    "method",
    "level",
)


def _check(respondents: pd.DataFrame, agreement: Agreement, indicators=None) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in respondents.columns]
    variables = sorted(
        {
            ind.variable
            for ind in agreement.indicators_by_source("survey")
            if indicators is None or ind.id in indicators
        }
    )
    missing += [v for v in variables if v not in respondents.columns]
    if missing:
        raise ParameterError(
            f"the respondent table lacks column(s) {', '.join(missing)}; build it with "
            "analyse.data.clean.load_survey"
        )


def _group_labels(respondents: pd.DataFrame) -> dict[str, np.ndarray]:
    """Group label of each respondent in each breakdown (None where not applicable)."""

    def labels(column: str) -> pd.Series:
        series = respondents[column]
        return series.astype(str).where(series.notna(), None)

    sex, age = labels("sex"), labels("age_group")
    sex_age = (sex + CROSS_SEPARATOR + age).where(sex.notna() & age.notna(), None)
    return {
        "total": np.full(len(respondents), TOTAL_LABEL, dtype=object),
        "sex": sex.to_numpy(dtype=object),
        "age_group": age.to_numpy(dtype=object),
        "sex_age": sex_age.to_numpy(dtype=object),
        "education": labels("education").to_numpy(dtype=object),
        "labour_market": labels("labour_market").to_numpy(dtype=object),
    }


def _category_order(respondents: pd.DataFrame) -> dict[str, list[str]]:
    """Display order of the groups: categorical order where the respondent table has one."""
    order = {"total": [TOTAL_LABEL]}
    for column in ("sex", "age_group", "education", "labour_market"):
        series = respondents[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            order[column] = [str(c) for c in series.cat.categories]
        else:
            order[column] = sorted(str(v) for v in series.dropna().unique())
    order["sex_age"] = [
        f"{s}{CROSS_SEPARATOR}{a}" for s in order["sex"] for a in order["age_group"]
    ]
    return order


def _stratum_sums(
    strata: np.ndarray,
    n_h: np.ndarray,
    weight: np.ndarray,
    y: np.ndarray,
    group: np.ndarray,
    n_groups: int,
) -> dict[str, np.ndarray]:
    """Per stratum h × subgroup g, the sums that the linearised variance of a ratio needs.

    For a domain d (a union of whole strata, within one subgroup) with ratio r = Σ w y / Σ w,
    the linearised values are z_i = w_i d_i (y_i − r) / W. With, per stratum h,
    D_h = Σ w y, E_h = Σ w (in-domain rows), and c_h = n_h / (n_h − 1) (n_h = all respondents of
    the stratum, in or out of the domain, as in R's ``svyrecvar``):

        W² var(r) = Σ_h c_h [Σ w²y² − 2r Σ w²y + r² Σ w²] − Σ_h (c_h / n_h) (D_h − r E_h)²

    and (D − rE)² = D² − 2r DE + r² E². Every term is a sum over strata of per-stratum
    quantities that do not depend on r, so they can be added over the strata of any area.
    Rows with a missing outcome or outside the subgroup contribute nothing but still count in n_h.
    """
    ok = np.isfinite(y) & (group >= 0)
    key = strata[ok] * n_groups + group[ok]
    size = len(n_h) * n_groups
    w, yy = weight[ok], y[ok]

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=values, minlength=size)

    sums = {
        "w": total(w),
        "wy": total(w * yy),
        "w2y2": total(w * w * yy * yy),
        "w2y": total(w * w * yy),
        "w2": total(w * w),
        "n": np.bincount(key, minlength=size).astype(float),
        "cases": total((yy == 1).astype(float)),
    }
    nh = np.repeat(n_h.astype(float), n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(nh > 1, nh / (nh - 1), 0.0)
        c_over_n = np.where(nh > 1, c / nh, 0.0)
    return {
        "w": sums["w"],
        "wy": sums["wy"],
        "cA": c * sums["w2y2"],
        "cB": c * sums["w2y"],
        "cC": c * sums["w2"],
        "D2": c_over_n * sums["wy"] ** 2,
        "DE": c_over_n * sums["wy"] * sums["w"],
        "E2": c_over_n * sums["w"] ** 2,
        "n": sums["n"],
        "cases": sums["cases"],
    }


def _ratio_from_sums(sums: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and linearised SE of the ratio from summed per-stratum quantities."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sums["wy"].to_numpy() / sums["w"].to_numpy()
        quad = (
            sums["cA"].to_numpy()
            - 2 * r * sums["cB"].to_numpy()
            + r * r * sums["cC"].to_numpy()
            - (
                sums["D2"].to_numpy()
                - 2 * r * sums["DE"].to_numpy()
                + r * r * sums["E2"].to_numpy()
            )
        )
        se = np.sqrt(np.maximum(quad, 0.0)) / sums["w"].to_numpy()
    return r, se


def _area_map(
    strata_table: pd.DataFrame, levels: Sequence[str], kommune_waves: set[int]
) -> pd.DataFrame:
    """Stratum → (area_level, area_code) for every level; national-only waves only to ``land``."""
    parts = []
    for level in levels:
        members = geography.membership(level)
        if level == "land":
            mapped = strata_table.assign(area_level="land", area_code=geography.COUNTRY_CODE)
        else:
            local = strata_table[strata_table["year"].isin(kommune_waves)]
            mapped = local.merge(members[["area_code", "kommune_code"]], on="kommune_code").assign(
                area_level=level
            )
        parts.append(mapped[["stratum_index", "year", "area_level", "area_code"]])
    return pd.concat(parts, ignore_index=True)


def build(
    respondents: pd.DataFrame,
    agreement: Agreement,
    *,
    rules: disclosure.Rules | None = None,
    levels: Sequence[str] = LEVELS,
    breakdowns: Sequence[str] = BREAKDOWNS,
    level: float = 0.95,
    progress: Callable[[str], None] | None = None,
    suppress: bool = True,
    sums: bool = False,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Build the estimates cube from the canonical respondent table.

    Parameters
    ----------
    respondents : the table from :func:`analyse.data.clean.load_survey` (not modified).
    agreement : the catalogue; every survey indicator is estimated on its population (age band,
        sex) in every wave from its first comparable wave; the national-only wave (2023) only for
        ``land``.
    rules : disclosure rules (default :class:`analyse.stats.disclosure.Rules`).
    levels, breakdowns : which area levels and breakdowns to compute.
    level : confidence level.
    suppress : apply :func:`analyse.stats.disclosure.suppress` (always, except in tests that compare
        raw cells with the general engine).
    sums : with ``suppress=False``, keep the per-cell linearisation sums (for
        :func:`klynge_comparisons`); never published.
    indicators : ids of the survey indicators to estimate (default: all of the agreement's).

    Returns
    -------
    DataFrame, one row per indicator × year × area × breakdown × group: ``indicator``, ``year``,
    ``area_level``, ``area_code``, ``breakdown``, ``group``, ``estimate``, ``se``, ``ci_low``,
    ``ci_high`` (logit interval with t on the design df, as ``svyciprop``), ``n`` (respondents
    with an answer; rounded after suppression), ``weighted_n``, ``df``, ``method``, ``level``,
    the comparison with the rest of the region and of Denmark (``vs_region_diff``,
    ``vs_region_ci_low``, ``vs_region_ci_high``, ``vs_region_p`` and the same with ``vs_land_``),
    ``suppressed`` and ``suppression_reason``. Proportions on the 0–1 scale.

    Notes
    -----
    Design: strata = ``stratum`` (kommune × wave; one national stratum in 2023), each respondent
    its own PSU, calibration weights, no finite population correction. Equal to
    ``svyby(~y, ~group, subset(design, area), svymean, na.rm = TRUE)`` for every cell.

    Every area with respondents is estimated from the kommuner present; an area (or a parent of
    a comparison) that the respondents cover only in part is dropped afterwards by
    :func:`analyse.cube.coverage.restrict`, which :func:`analyse.cube.build.build_processed`
    applies to the cube.
    """
    unknown = [b for b in breakdowns if b not in BREAKDOWNS]
    if unknown:
        raise ParameterError(f"unknown breakdown(s) {unknown}; use {', '.join(BREAKDOWNS)}")
    bad_levels = [lv for lv in levels if lv not in LEVELS]
    if bad_levels:
        raise ParameterError(f"unknown area level(s) {bad_levels}; use {', '.join(LEVELS)}")
    _check(respondents, agreement, indicators)

    stratum_codes, stratum_labels = pd.factorize(respondents["stratum"], sort=True)
    n_h = np.bincount(stratum_codes, minlength=len(stratum_labels))
    strata_table = pd.DataFrame(
        {
            "stratum_index": np.arange(len(stratum_labels)),
            "year": respondents.groupby(stratum_codes)["year"].first().to_numpy(),
            "kommune_code": respondents.groupby(stratum_codes)["kommune_code"].first().to_numpy(),
            # A stratum spanning many kommuner is a national sample (2023): it maps to land only.
            "national": respondents.groupby(stratum_codes)["kommune_code"].nunique().to_numpy() > 1,
        }
    )
    kommune_waves = set(agreement.kommune_waves)
    area_map = _area_map(strata_table[~strata_table["national"]], levels, kommune_waves)
    if "land" in levels:
        national = strata_table[strata_table["national"]].assign(
            area_level="land", area_code=geography.COUNTRY_CODE
        )
        area_map = pd.concat(
            [area_map, national[["stratum_index", "year", "area_level", "area_code"]]]
        )
    df = int(len(respondents) - len(stratum_labels))  # PSUs − strata of the whole design

    labels = _group_labels(respondents)
    factorized = {b: pd.factorize(pd.Series(labels[b]), sort=False) for b in breakdowns}
    order = _category_order(respondents)
    weight = respondents["weight"].to_numpy(float)
    age = respondents["age"].to_numpy(float)
    sex = respondents["sex"].astype(object).to_numpy()
    labour_market = respondents["labour_market"].astype(object).to_numpy()
    pieces = []
    for indicator in agreement.indicators_by_source("survey"):
        if indicators is not None and indicator.id not in indicators:
            continue
        if progress:
            progress(indicator.id)
        in_population = _population_mask(indicator, age, sex, labour_market)
        waves = set(agreement.comparable_waves(indicator.id, level="land"))
        in_waves = respondents["year"].isin(waves).to_numpy()
        y = respondents[indicator.variable].to_numpy(float).copy()
        y[~(in_population & in_waves)] = np.nan
        for breakdown in breakdowns:
            group_codes, group_labels = factorized[breakdown]
            sums = _stratum_sums(stratum_codes, n_h, weight, y, group_codes, len(group_labels))
            table = pd.DataFrame(sums)
            table["stratum_index"] = np.repeat(np.arange(len(n_h)), len(group_labels))
            table["group"] = np.tile(np.asarray(group_labels, dtype=object), len(n_h))
            table = table[table["n"] > 0]
            if table.empty:
                continue
            cells = table.merge(area_map, on="stratum_index")
            cells = cells.groupby(["year", "area_level", "area_code", "group"], sort=False)[
                list(_SUMS)
            ].sum()
            cells = cells.reset_index()
            cells.insert(0, "indicator", indicator.id)
            cells.insert(4, "breakdown", breakdown)
            pieces.append(cells)
    rules = rules or disclosure.Rules()
    cube = _add_comparisons(pd.concat(pieces, ignore_index=True), level, df, rules)
    cube["estimate"], cube["se"] = _ratio_from_sums(cube)
    cube["ci_low"], cube["ci_high"] = proportion_interval(cube["estimate"], cube["se"], df, level)
    cube["n"] = cube["n"].astype("int64")
    cube["cases"] = cube["cases"].round().astype("int64")
    cube["weighted_n"] = cube["w"]
    cube["df"] = df
    cube["method"] = "taylor-logit"
    cube["level"] = level
    cube = _sorted(cube, order, agreement)
    columns = list(CUBE_COLUMNS[:11]) + ["cases"] + list(CUBE_COLUMNS[11:]) + _COMPARISON_COLUMNS
    if sums and not suppress:
        return cube[columns + [c for c in _SUMS if c not in columns]]
    cube = cube[columns]
    if not suppress:
        return cube
    return suppress_cube(cube, rules)


#: Breakdowns published only at some area levels. Sex × age in a kommune or sundhedsklynge rests
#: on a handful of respondents per cell, and protecting its cells against the sex and age margins
#: and the area sums together (:mod:`analyse.cube.protection`) would hide a large part of the
#: kommuner's sex and age tables that the briefs show; the briefs do not show sex × age, so the
#: cube publishes it for regions and Denmark only (table redesign, Hundepool et al. 2012, §4.2).
#: Notebooks estimate it for a kommune from the microdata (internal work).
PUBLISHED_LEVELS: dict[str, tuple[str, ...]] = {"sex_age": ("region", "land")}


def published_rows(cube: pd.DataFrame) -> pd.DataFrame:
    """The rows of a cube that are published (:data:`PUBLISHED_LEVELS`)."""
    keep = np.ones(len(cube), dtype=bool)
    for breakdown, levels in PUBLISHED_LEVELS.items():
        keep &= ~((cube["breakdown"] == breakdown) & ~cube["area_level"].isin(levels)).to_numpy()
    sums = [c for c in _SUMS if c in cube.columns and c not in ("n", "cases")]
    return cube[keep].drop(columns=sums).reset_index(drop=True)


def suppress_cube(cube: pd.DataFrame, rules: disclosure.Rules | None = None) -> pd.DataFrame:
    """The per-table disclosure rules of :func:`analyse.stats.disclosure.suppress` applied to an
    unsuppressed cube of :func:`build` (``suppress=False``): primary suppression, complementary
    suppression within breakdowns, crossed margins and the area hierarchy, rounded counts. The
    linked protection over all relations at once follows in :mod:`analyse.cube.protection`."""
    return disclosure.suppress(
        cube,
        rules,
        keys=("indicator", "year"),
        value_columns=("estimate", "se", "ci_low", "ci_high", *_COMPARISON_COLUMNS),
        crossed={"sex_age": ("sex", "age_group")},
        cross_separator=CROSS_SEPARATOR,
        hierarchy=geography.area_hierarchy(),
    )


def _population_mask(
    indicator: Indicator, age: np.ndarray, sex: np.ndarray, labour_market: np.ndarray
) -> np.ndarray:
    pop = indicator.population
    mask = age >= pop.age_min
    if pop.labour_market:
        mask &= np.isin(labour_market, pop.labour_market)
    if pop.age_max is not None:
        mask &= age <= pop.age_max
    if pop.sex != "all":
        wanted = {"female": ("Kvinder", "Kvinde", "female"), "male": ("Mænd", "Mand", "male")}[
            pop.sex
        ]
        mask &= np.isin(sex, wanted)
    return mask


_COMPARISON_COLUMNS = [
    f"vs_{parent}_{field}"
    for parent in ("region", "land")
    for field in ("diff", "ci_low", "ci_high", "p")
]


def _add_comparisons(
    cells: pd.DataFrame, level: float, df: int, rules: disclosure.Rules
) -> pd.DataFrame:
    """Area against the rest of its region and the rest of Denmark (same year and group).

    The rest of a parent is the parent's strata minus the area's: independent strata, so the
    difference has se = √(se_area² + se_rest²) (DESIGN.md §4). Kommuner and klynger are compared
    with their region and Denmark, regions with Denmark.

    A shown estimate and a shown difference together give the rest's estimate
    (estimate − difference), so the rest must pass the same disclosure rules as any cell: where it
    has fewer than ``rules.min_n`` respondents, or fewer than ``rules.min_cases`` with or without
    the outcome, the comparison is left out (NaN).
    """
    out = cells.copy()
    for col in _COMPARISON_COLUMNS:
        out[col] = np.nan
    quantile = stats.t.ppf(0.5 + level / 2, df)
    keys = ["indicator", "breakdown", "year", "area_level", "area_code", "group"]
    keyed = cells.set_index(keys)[list(_SUMS)]
    parents = _parent_table()
    for parent_level, prefix in (("region", "vs_region"), ("land", "vs_land")):
        rel = parents[parents["parent_level"] == parent_level]
        children, diff, low, high, p = _versus_rest(cells, keyed, rel, quantile, df, rules)
        if children.empty:
            continue
        index = children.index
        out.loc[index, f"{prefix}_diff"] = diff
        out.loc[index, f"{prefix}_ci_low"] = low
        out.loc[index, f"{prefix}_ci_high"] = high
        out.loc[index, f"{prefix}_p"] = p
    return out


def _versus_rest(
    cells: pd.DataFrame,
    keyed: pd.DataFrame,
    links: pd.DataFrame,
    quantile: float,
    df: int,
    rules: disclosure.Rules,
):
    """Each child cell against the rest of its parent (``links``: child → parent areas).

    Returns the children's rows (indexed by their row in ``cells``; a child with two parents
    appears twice) and the difference child − rest with its interval and p-value; the rest must
    pass the disclosure rules (else NaN), as in :func:`_add_comparisons`.
    """
    children = (
        cells.reset_index(names="row")
        .merge(links, left_on=["area_level", "area_code"], right_on=["child_level", "child_code"])
        .set_index("row")
    )
    if children.empty:
        empty = np.array([])
        return children, empty, empty, empty, empty
    parent_keys = pd.MultiIndex.from_arrays(
        [
            children["indicator"],
            children["breakdown"],
            children["year"],
            children["parent_level"],
            children["parent_code"],
            children["group"],
        ]
    )
    found = parent_keys.isin(keyed.index)
    children = children[found]
    parent_sums = keyed.loc[parent_keys[found]].to_numpy()
    rest = pd.DataFrame(parent_sums - children[list(_SUMS)].to_numpy(), columns=list(_SUMS))
    rest_est, rest_se = _ratio_from_sums(rest)
    rest_n, rest_cases = rest["n"].to_numpy(), np.round(rest["cases"].to_numpy())
    publishable = (
        (rest_n >= rules.min_n)
        & (rest_cases >= rules.min_cases)
        & (rest_n - rest_cases >= rules.min_cases)
    )
    rest_est = np.where(publishable, rest_est, np.nan)
    child_est, child_se = _ratio_from_sums(children[list(_SUMS)].reset_index(drop=True))
    diff = child_est - rest_est
    diff_se = np.sqrt(child_se**2 + rest_se**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(diff / diff_se), df)
    return children, diff, diff - quantile * diff_se, diff + quantile * diff_se, p


KLYNGE_COMPARISON_COLUMNS = (
    "indicator",
    "year",
    "area_level",
    "area_code",
    "breakdown",
    "group",
    "parent_level",
    "parent_code",
    "diff",
    "ci_low",
    "ci_high",
    "p",
    "level",
)


def klynge_comparisons(
    respondents: pd.DataFrame,
    agreement: Agreement,
    cube: pd.DataFrame,
    *,
    rules: disclosure.Rules | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Each kommune against the rest of its sundhedsklynge (or klynger), every survey indicator
    and kommune wave, total breakdown.

    The same estimator as the cube's comparisons with the rest of the region
    (:func:`build`, DESIGN.md §4): the rest is the klynge's strata minus the kommune's, so the
    two samples are independent and the difference has se = √(se_kommune² + se_rest²), with t
    on the design's df. A kommune in two klynger (København, Vejen) is compared with each. The
    rest must pass the disclosure rules; where the kommune's own cell in ``cube`` (the suppressed
    cube of :func:`build`) is hidden, so is its comparison.

    Returns
    -------
    DataFrame with :data:`KLYNGE_COMPARISON_COLUMNS`: the kommune (``area_level``,
    ``area_code``), the klynge (``parent_level``, ``parent_code``), ``diff`` (kommune − rest of
    the klynge, 0–1 scale), ``ci_low``, ``ci_high``, ``p`` and ``level``. Rows where the
    comparison cannot be shown are left out.
    """
    _check(respondents, agreement)
    rules = rules or disclosure.Rules()
    unsuppressed = build(
        respondents,
        agreement,
        rules=rules,
        levels=("sundhedsklynge", "kommune"),
        breakdowns=("total",),
        level=level,
        suppress=False,
        sums=True,
    )
    links = geography.membership("sundhedsklynge").rename(
        columns={"area_code": "parent_code", "kommune_code": "child_code"}
    )
    links = links.assign(
        child_level="kommune",
        parent_level="sundhedsklynge",
        child_code=links["child_code"].astype(str),
    )[["child_level", "child_code", "parent_level", "parent_code"]]
    keys = ["indicator", "breakdown", "year", "area_level", "area_code", "group"]
    keyed = unsuppressed.set_index(keys)[list(_SUMS)]
    df = int(unsuppressed["df"].iloc[0]) if len(unsuppressed) else 0
    quantile = stats.t.ppf(0.5 + level / 2, df) if df else np.nan
    children, diff, low, high, p = _versus_rest(unsuppressed, keyed, links, quantile, df, rules)
    out = pd.DataFrame(
        {
            "indicator": children["indicator"].to_numpy(),
            "year": children["year"].to_numpy(),
            "area_level": "kommune",
            "area_code": children["area_code"].to_numpy(),
            "breakdown": children["breakdown"].to_numpy(),
            "group": children["group"].to_numpy(),
            "parent_level": children["parent_level"].to_numpy(),
            "parent_code": children["parent_code"].to_numpy(),
            "diff": diff,
            "ci_low": low,
            "ci_high": high,
            "p": p,
            "level": level,
        }
    )
    shown = cube[(cube["breakdown"] == "total") & (cube["area_level"] == "kommune")]
    shown = shown.loc[~shown["suppressed"].astype(bool), ["indicator", "year", "area_code"]]
    out = out.merge(shown, on=["indicator", "year", "area_code"], how="inner")
    out = out[out["diff"].notna()]
    return out[list(KLYNGE_COMPARISON_COLUMNS)].reset_index(drop=True)


def parent_table() -> pd.DataFrame:
    """Child area → parent region and Denmark (the parents of the comparison columns)."""
    return _parent_table()


@lru_cache(maxsize=1)
def _parent_table() -> pd.DataFrame:
    """Child area → parent region and Denmark."""
    rows = []
    for level in ("kommune", "sundhedsklynge"):
        table = geography.areas(level)
        rows.append(
            pd.DataFrame(
                {
                    "child_level": level,
                    "child_code": table["area_code"],
                    "parent_level": "region",
                    "parent_code": table["region_code"].astype(str),
                }
            )
        )
    for level in ("region", "sundhedsklynge", "kommune"):
        table = geography.areas(level)
        rows.append(
            pd.DataFrame(
                {
                    "child_level": level,
                    "child_code": table["area_code"],
                    "parent_level": "land",
                    "parent_code": geography.COUNTRY_CODE,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _sorted(cube: pd.DataFrame, order: dict[str, list[str]], agreement: Agreement) -> pd.DataFrame:
    indicator_rank = {ind: i for i, ind in enumerate(agreement.indicators)}
    level_rank = {lv: i for i, lv in enumerate(LEVELS)}
    breakdown_rank = {b: i for i, b in enumerate(BREAKDOWNS)}
    group_rank = {(b, g): i for b, groups in order.items() for i, g in enumerate(groups)}
    keys = pd.DataFrame(
        {
            "i": cube["indicator"].map(indicator_rank),
            "y": cube["year"],
            "l": cube["area_level"].map(level_rank),
            "a": cube["area_code"],
            "b": cube["breakdown"].map(breakdown_rank),
            "g": [
                group_rank.get((b, g), 999)
                for b, g in zip(cube["breakdown"], cube["group"], strict=True)
            ],
        }
    )
    index = keys.sort_values(["i", "y", "l", "a", "b", "g"]).index
    return cube.loc[index].reset_index(drop=True)
