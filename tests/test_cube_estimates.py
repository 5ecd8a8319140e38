"""Tests of analyse.cube.estimates: the cube against the general survey engine, and its disclosure.

Expected values come from :func:`analyse.stats.survey.proportion` (the general Taylor-linearisation
engine, itself checked against R's ``survey`` in ``test_survey.py``) run on the whole respondent
table with the indicator's population and wave expressed as a *domain* (outcome set to missing
outside it, DESIGN.md §4: subgroups are domains), or worked out by hand (counts, rest-of-parent
differences, rounding). Nothing is copied from the cube's own output.

The respondents are those of the session's small synthetic delivery (``small_raw``, scale 0.05,
about 50 respondents per kommune and wave): many natural small cells for the disclosure tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analyse.cube import estimates
from analyse.data import clean
from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.reference.catalogue import load_agreement
from analyse.stats import disclosure, survey

DESIGN = survey.Design(weight="weight", strata="stratum")
KEYS = ["indicator", "year", "area_level", "area_code", "breakdown", "group"]
VALUE_COLUMNS = ["estimate", "se", "ci_low", "ci_high"]
COMPARISON_COLUMNS = [
    f"vs_{parent}_{field}"
    for parent in ("region", "land")
    for field in ("diff", "ci_low", "ci_high", "p")
]
# Label for rows outside a domain or with a missing group (never compared).
OUTSIDE = "<uden for>"
VEJEN = 575
VEJEN_KLYNGER = ("syddanmark-lillebaelt", "syddanmark-sydvestjylland")
SYDDANMARK = "1083"
RTOL = 1e-9
ATOL = 1e-12
# Cells where every respondent has the outcome (p = 1) have se = 0; the cube's one-pass sums leave
# a rounding residue of up to ~5e-9 there (cancellation of Σw² terms). Harmless (such cells are
# always suppressed by the min_cases rule and the CI collapses to the point), so SEs get an
# absolute tolerance that is still 1e-6 of a typical SE.
ATOL_SE = 1e-8


# ---------------------------------------------------------------------------------------------
# Fixtures (built once per module)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agreement():
    return load_agreement()


@pytest.fixture(scope="module")
def respondents(small_raw):
    table, _report = clean.load_survey(small_raw)
    return table


@pytest.fixture(scope="module")
def raw_cube(respondents, agreement):
    """The cube before disclosure control (exact n and cases)."""
    return estimates.build(respondents, agreement, suppress=False)


@pytest.fixture(scope="module")
def published_cube(raw_cube):
    """The cube as the per-table rules publish it (default rules): what these tests are about.
    The build hides more cells on top (the linked protection, whose complementary cells need
    no partner of their own: tests/test_cube_protection.py and tests/test_audit_run.py)."""
    return estimates.suppress_cube(estimates.published_rows(raw_cube))


@pytest.fixture(scope="module")
def paired(raw_cube, published_cube):
    """Published cells with the exact ``n`` and ``cases`` of the same cell before suppression."""
    # Sex × age is published for regions and Denmark only (estimates.published_rows).
    raw_cube = estimates.published_rows(raw_cube)
    exact = raw_cube[KEYS + ["n", "cases"]].rename(columns={"n": "n_exact", "cases": "cases_exact"})
    # The session's build holds every shipped agreement's indicators; these tests use Region
    # Syddanmark's (the raw cube's).
    published_cube = published_cube[published_cube["indicator"].isin(set(raw_cube["indicator"]))]
    table = published_cube.merge(exact, on=KEYS, how="outer", validate="one_to_one", indicator=True)
    assert (table["_merge"] == "both").all(), "published and unsuppressed cubes differ in cells"
    return table.drop(columns="_merge")


# ---------------------------------------------------------------------------------------------
# Helpers: the reference computation
# ---------------------------------------------------------------------------------------------


def _whole_design_df(respondents: pd.DataFrame) -> int:
    """PSUs − strata of the whole design (each respondent its own PSU)."""
    return len(respondents) - respondents["stratum"].nunique()


def _population(respondents: pd.DataFrame, indicator) -> pd.Series:
    pop = indicator.population
    assert pop.sex == "all"  # every survey indicator of the shipped agreements
    upper = np.inf if pop.age_max is None else pop.age_max
    inside = respondents["age"].between(pop.age_min, upper)
    if pop.labour_market:  # e.g. the employed only
        inside &= respondents["labour_market"].isin(pop.labour_market)
    return inside


def _group_column(respondents: pd.DataFrame, breakdown: str) -> pd.Series:
    """Group labels as the cube names them; rows without a group get OUTSIDE."""
    if breakdown == "total":
        return pd.Series(estimates.TOTAL_LABEL, index=respondents.index)
    if breakdown == "sex_age":
        sex, age = respondents["sex"].astype(object), respondents["age_group"].astype(object)
        label = sex.astype(str) + ", " + age.astype(str)
        return label.where(sex.notna() & age.notna(), OUTSIDE)
    values = respondents[breakdown].astype(object)
    return values.astype(str).where(values.notna(), OUTSIDE)


def reference(
    respondents: pd.DataFrame,
    agreement,
    indicator_id: str,
    year: int,
    domain: pd.Series,
    breakdown: str,
) -> pd.DataFrame:
    """survey.proportion per area_code × group on the whole design, with hand-counted cases.

    ``domain`` holds the area code of each respondent (OUTSIDE for none). The indicator's
    population and the wave are a domain too: the outcome is missing outside them.
    """
    indicator = agreement.indicator(indicator_id)
    in_scope = _population(respondents, indicator) & (respondents["year"] == year)
    data = respondents.assign(
        _y=respondents[indicator.variable].where(in_scope),
        _area=domain.astype(object),
        _group=_group_column(respondents, breakdown),
    )
    result = survey.proportion(data, "_y", DESIGN, by=["_area", "_group"])
    cases = data.groupby(["_area", "_group"], observed=True)["_y"].apply(
        lambda y: int((y == 1).sum())
    )
    result = result.merge(cases.rename("cases").reset_index(), on=["_area", "_group"])
    keep = (result["_area"] != OUTSIDE) & (result["_group"] != OUTSIDE) & (result["n"] > 0)
    return result[keep].rename(columns={"_area": "area_code", "_group": "group"})


def cube_cells(cube, indicator_id, year, area_level, breakdown, area_codes=None) -> pd.DataFrame:
    rows = cube[
        (cube["indicator"] == indicator_id)
        & (cube["year"] == year)
        & (cube["area_level"] == area_level)
        & (cube["breakdown"] == breakdown)
    ]
    if area_codes is not None:
        rows = rows[rows["area_code"].isin(area_codes)]
    return rows


def assert_cells_equal(cells: pd.DataFrame, expected: pd.DataFrame, df_whole: int) -> None:
    """Same cells; estimate, SE, CI, n and cases equal to the reference."""
    assert not expected.empty
    got = cells.set_index(["area_code", "group"]).sort_index()
    want = expected.astype({"area_code": str, "group": str}).set_index(["area_code", "group"])
    want = want.sort_index()
    assert got.index.equals(want.index)
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got["se"], want["se"], rtol=RTOL, atol=ATOL_SE)
    # The cube's CI uses df of the whole design (all waves); so does the reference, which was
    # run on the whole respondent table.
    assert (want["df"] == df_whole).all() and (got["df"] == df_whole).all()
    low, high = survey.proportion_interval(want["estimate"], want["se"], df_whole)
    np.testing.assert_allclose(got["ci_low"], low, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got["ci_high"], high, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got["ci_low"], want["ci_low"], rtol=RTOL, atol=ATOL)
    assert (got["n"].to_numpy() == want["n"].to_numpy()).all()
    assert (got["cases"].to_numpy() == want["cases"].to_numpy()).all()


# ---------------------------------------------------------------------------------------------
# 1. Cells equal the general engine
# ---------------------------------------------------------------------------------------------


def test_build_kommune_by_sex_equals_survey_proportion(respondents, agreement, raw_cube):
    expected = reference(
        respondents,
        agreement,
        "high_stress_all",
        2021,
        respondents["kommune_code"].astype(str),
        "sex",
    )
    cells = cube_cells(raw_cube, "high_stress_all", 2021, "kommune", "sex")
    assert cells["area_code"].nunique() == 98
    assert_cells_equal(cells, expected, _whole_design_df(respondents))


def test_build_region_by_education_equals_survey_proportion(respondents, agreement, raw_cube):
    region = respondents["kommune_code"].map(
        geography.kommuner().set_index("kommune_code")["region_code"].astype(str)
    )
    expected = reference(respondents, agreement, "daily_smoking", 2025, region, "education")
    cells = cube_cells(raw_cube, "daily_smoking", 2025, "region", "education")
    assert cells["area_code"].nunique() == 5
    assert set(cells["group"]) == set(respondents["education"].cat.categories)
    assert_cells_equal(cells, expected, _whole_design_df(respondents))


@pytest.mark.parametrize("klynge", VEJEN_KLYNGER)
@pytest.mark.parametrize("breakdown", ["total", "sex_age", "labour_market"])
def test_build_klynge_with_vejen_equals_survey_proportion(
    respondents, agreement, raw_cube, klynge, breakdown
):
    # Vejen sits in two klynger; each klynge's estimate must include all of Vejen.
    geo = geography.load_geography()
    kommuner = geo.loc[geo["sundhedsklynge_code"] == klynge, "kommune_code"]
    assert VEJEN in set(kommuner)
    domain = pd.Series(
        np.where(respondents["kommune_code"].isin(kommuner), klynge, OUTSIDE),
        index=respondents.index,
    )
    expected = reference(respondents, agreement, "poor_mental_health_all", 2021, domain, breakdown)
    cells = cube_cells(
        raw_cube, "poor_mental_health_all", 2021, "sundhedsklynge", breakdown, [klynge]
    )
    assert_cells_equal(cells, expected, _whole_design_df(respondents))


@pytest.mark.parametrize("breakdown", ["total", "sex", "age_group", "education", "labour_market"])
def test_build_land_national_wave_equals_survey_proportion(
    respondents, agreement, raw_cube, breakdown
):
    # 2023 is national only: one national stratum, land cells only.
    domain = pd.Series(geography.COUNTRY_CODE, index=respondents.index)
    expected = reference(respondents, agreement, "alcohol_over_10", 2023, domain, breakdown)
    cells = cube_cells(raw_cube, "alcohol_over_10", 2023, "land", breakdown)
    assert_cells_equal(cells, expected, _whole_design_df(respondents))
    wave_2023 = raw_cube[raw_cube["year"] == 2023]
    assert set(wave_2023["area_level"]) == {"land"}


@pytest.mark.parametrize("breakdown", ["total", "sex", "age_group"])
def test_build_age_restricted_indicator_equals_survey_proportion(
    respondents, agreement, raw_cube, breakdown
):
    population = agreement.indicator("high_stress").population
    assert (population.age_min, population.age_max) == (16, 24)
    expected = reference(
        respondents,
        agreement,
        "high_stress",
        2025,
        respondents["kommune_code"].astype(str),
        breakdown,
    )
    cells = cube_cells(raw_cube, "high_stress", 2025, "kommune", breakdown)
    assert_cells_equal(cells, expected, _whole_design_df(respondents))
    # Only 16-24-year-olds count: no other age group, no education groups (25+ only).
    own = raw_cube[raw_cube["indicator"] == "high_stress"]
    assert set(own.loc[own["breakdown"] == "age_group", "group"]) == {"16-24"}
    assert not (own["breakdown"] == "education").any()
    in_band = respondents["age"].between(16, 24) & (respondents["year"] == 2025)
    land_total = cube_cells(raw_cube, "high_stress", 2025, "land", "total")
    assert land_total["n"].item() == respondents.loc[in_band, "high_stress"].notna().sum()


def test_build_indicator_from_2021_equals_survey_proportion(respondents, agreement, raw_cube):
    expected = reference(
        respondents,
        agreement,
        "loneliness_all",
        2021,
        respondents["kommune_code"].astype(str),
        "sex",
    )
    cells = cube_cells(raw_cube, "loneliness_all", 2021, "kommune", "sex")
    assert_cells_equal(cells, expected, _whole_design_df(respondents))
    assert set(raw_cube.loc[raw_cube["indicator"] == "loneliness_all", "year"]) == {
        2021,
        2023,
        2025,
    }


def test_build_no_cells_before_first_comparable_wave(respondents, agreement):
    # Loneliness was first asked comparably in 2021: even if an older wave held answers, the cube
    # must not estimate it there.
    filled = respondents.copy()
    older = filled["year"] < 2021
    filled.loc[older, "loneliness"] = (filled.loc[older, "age"] % 2).astype(float)
    cube = estimates.build(
        filled, agreement, levels=("land",), breakdowns=("total",), suppress=False
    )
    assert set(cube.loc[cube["indicator"] == "loneliness_all", "year"]) == {2021, 2023, 2025}
    assert set(cube.loc[cube["indicator"] == "poor_mental_health_all", "year"]) == set(
        agreement.waves
    )


# ---------------------------------------------------------------------------------------------
# 2. Comparison with the rest of the parent area
# ---------------------------------------------------------------------------------------------


def _rest_comparison(respondents, agreement, indicator_id, year, in_area, in_parent, breakdown):
    """Area minus rest of parent from two survey.proportion domains, se = √(se_a² + se_rest²)."""
    domain = pd.Series(
        np.select([in_area, in_parent & ~in_area], ["area", "rest"], OUTSIDE),
        index=respondents.index,
    )
    both = reference(respondents, agreement, indicator_id, year, domain, breakdown)
    area = both[both["area_code"] == "area"].set_index("group")
    rest = both[both["area_code"] == "rest"].set_index("group")
    # The rest must pass the disclosure rules itself (estimate − diff reveals it): otherwise the
    # cube leaves the comparison out.
    rules = disclosure.Rules()
    rest_ok = (
        (rest["n"] >= rules.min_n)
        & (rest["cases"] >= rules.min_cases)
        & (rest["n"] - rest["cases"] >= rules.min_cases)
    )
    diff = (area["estimate"] - rest["estimate"]).where(
        rest_ok.reindex(area.index, fill_value=False)
    )
    se = np.hypot(area["se"], rest["se"])
    df_whole = _whole_design_df(respondents)
    quantile = stats.t.ppf(0.975, df_whole)
    return pd.DataFrame(
        {
            "diff": diff,
            "ci_low": diff - quantile * se,
            "ci_high": diff + quantile * se,
            "p": 2 * stats.t.sf(np.abs(diff / se), df_whole),
        }
    ).dropna()


def _assert_comparison(cells: pd.DataFrame, prefix: str, expected: pd.DataFrame) -> None:
    got = cells.set_index("group")
    hidden = got.index.difference(expected.index)
    assert got.loc[hidden, f"{prefix}_diff"].isna().all()  # rests that break the rules
    got = got.loc[expected.index]
    for field in ("diff", "ci_low", "ci_high", "p"):
        np.testing.assert_allclose(
            got[f"{prefix}_{field}"], expected[field], rtol=1e-8, atol=1e-12, err_msg=field
        )


@pytest.mark.parametrize("kommune", [461, VEJEN, 825])
def test_build_kommune_vs_rest_of_region_and_land(respondents, agreement, raw_cube, kommune):
    in_area = (respondents["kommune_code"] == kommune).to_numpy()
    region = geography.kommuner().set_index("kommune_code").loc[kommune, "region_code"]
    in_region = respondents["kommune_code"].isin(geography.members("region", region)).to_numpy()
    cells = cube_cells(raw_cube, "high_stress_all", 2021, "kommune", "sex", [str(kommune)])
    expected = _rest_comparison(
        respondents, agreement, "high_stress_all", 2021, in_area, in_region, "sex"
    )
    assert len(expected) == 2
    _assert_comparison(cells, "vs_region", expected)
    everywhere = np.ones(len(respondents), dtype=bool)
    expected = _rest_comparison(
        respondents, agreement, "high_stress_all", 2021, in_area, everywhere, "sex"
    )
    _assert_comparison(cells, "vs_land", expected)


def test_build_vs_region_diff_agrees_with_compare_to_parent(respondents, agreement, raw_cube):
    # A second, jointly linearised reference (survey.compare_to_parent) for one kommune.
    indicator = agreement.indicator("high_stress_all")
    in_scope = _population(respondents, indicator) & (respondents["year"] == 2021)
    data = respondents.assign(_y=respondents[indicator.variable].where(in_scope))
    expected = survey.compare_to_parent(
        data, "_y", DESIGN, "kommune_code", 461, parent={"region_code": int(SYDDANMARK)}, by="sex"
    )
    cells = cube_cells(raw_cube, "high_stress_all", 2021, "kommune", "sex", ["461"])
    got = cells.set_index("group").loc[expected["sex"].astype(str)]
    np.testing.assert_allclose(got["vs_region_diff"], expected["estimate"], rtol=1e-8)
    np.testing.assert_allclose(got["vs_region_ci_low"], expected["ci_low"], rtol=1e-8)
    np.testing.assert_allclose(got["vs_region_p"], expected["p_value"], rtol=1e-6)


def test_build_klynge_and_region_vs_rest(respondents, agreement, raw_cube):
    klynge = "syddanmark-sydvestjylland"
    in_klynge = respondents["kommune_code"].isin(geography.members("sundhedsklynge", klynge))
    in_region = respondents["kommune_code"].isin(geography.members("region", SYDDANMARK))
    cells = cube_cells(raw_cube, "daily_smoking", 2025, "sundhedsklynge", "age_group", [klynge])
    expected = _rest_comparison(
        respondents,
        agreement,
        "daily_smoking",
        2025,
        in_klynge.to_numpy(),
        in_region.to_numpy(),
        "age_group",
    )
    assert 5 <= len(expected) <= 7  # age groups whose rest of the region passes the rules
    _assert_comparison(cells, "vs_region", expected)

    everywhere = np.ones(len(respondents), dtype=bool)
    cells = cube_cells(raw_cube, "daily_smoking", 2025, "region", "age_group", [SYDDANMARK])
    expected = _rest_comparison(
        respondents,
        agreement,
        "daily_smoking",
        2025,
        in_region.to_numpy(),
        everywhere,
        "age_group",
    )
    _assert_comparison(cells, "vs_land", expected)


def test_build_comparison_columns_by_level(raw_cube):
    vs_region = [c for c in COMPARISON_COLUMNS if c.startswith("vs_region")]
    land = raw_cube[raw_cube["area_level"] == "land"]
    assert land[COMPARISON_COLUMNS].isna().all().all()
    region = raw_cube[raw_cube["area_level"] == "region"]
    assert region[vs_region].isna().all().all()
    # Missing only where the rest of Denmark breaks the disclosure rules (too few respondents, or
    # too few with or without the outcome: estimate − diff would reveal it).
    rules = disclosure.Rules()
    keys = ["indicator", "year", "breakdown", "group"]
    land_n = land.set_index(keys)[["n", "cases"]].rename(
        columns={"n": "land_n", "cases": "land_cases"}
    )
    region = region.join(land_n, on=keys)
    rest_n = region["land_n"] - region["n"]
    rest_cases = region["land_cases"] - region["cases"]
    rest_small = (
        (rest_n < rules.min_n)
        | (rest_cases < rules.min_cases)
        | (rest_n - rest_cases < rules.min_cases)
    )
    assert (region["vs_land_diff"].notna() == ~rest_small).all()
    assert rest_small.sum() < 0.05 * len(region)
    for level in ("sundhedsklynge", "kommune"):
        rows = raw_cube[raw_cube["area_level"] == level]
        assert rows["vs_region_diff"].notna().mean() > 0.75  # small rests left out
        assert rows["vs_land_diff"].notna().mean() > 0.9


# ---------------------------------------------------------------------------------------------
# 3. Disclosure control in the cube (issue 8)
# ---------------------------------------------------------------------------------------------


def test_build_default_publishes_no_cell_under_the_threshold(paired):
    rules = disclosure.Rules()
    shown = paired[~paired["suppressed"]]
    under_n = int((shown["n_exact"] < rules.min_n).sum())
    few_cases = int(
        (
            (shown["cases_exact"] < rules.min_cases)
            | (shown["n_exact"] - shown["cases_exact"] < rules.min_cases)
        ).sum()
    )
    assert under_n == 0, f"{under_n} shown cells rest on fewer than {rules.min_n} respondents"
    assert few_cases == 0, f"{few_cases} shown cells have fewer than {rules.min_cases} (non-)cases"
    # The test is only meaningful if the small delivery has many small cells.
    primary = (paired["n_exact"] < rules.min_n).sum()
    assert primary > 10_000
    assert paired.loc[paired["n_exact"] < rules.min_n, "suppressed"].all()
    assert len(shown) > 10_000


def test_build_suppressed_rows_hide_every_value(published_cube):
    hidden = published_cube[published_cube["suppressed"]]
    assert len(hidden) > 0
    assert hidden[VALUE_COLUMNS + COMPARISON_COLUMNS].isna().all().all()
    assert hidden["n"].isna().all()
    assert hidden["weighted_n"].isna().all()
    assert hidden["suppression_reason"].notna().all()
    shown = published_cube[~published_cube["suppressed"]]
    assert shown["estimate"].notna().all() and shown["suppression_reason"].isna().all()


def test_build_shown_counts_are_rounded_and_exact_counts_dropped(paired, published_cube):
    assert "cases" not in published_cube.columns
    shown = paired[~paired["suppressed"]]
    n = shown["n"].astype("int64")
    assert (n % 10 == 0).all()
    # Half up to a multiple of 10, worked out by hand: 25 → 30, 24 → 20.
    expected = (shown["n_exact"] + 5) // 10 * 10
    assert (n.to_numpy() == expected.to_numpy()).all()
    weighted = shown["weighted_n"].dropna().astype("int64")
    assert (weighted % 10 == 0).all()
    assert (weighted >= disclosure.Rules().min_weighted_population).all()


def test_build_sex_table_with_one_small_group_hides_both(paired):
    # Complementary cells from real geography: in a sex table where only one sex has fewer than
    # 20 respondents, the other sex could be recovered as total minus the small one.
    rules = disclosure.Rules()
    table_keys = ["indicator", "year", "area_level", "area_code"]
    sex = paired[paired["breakdown"] == "sex"].assign(small=lambda t: t["n_exact"] < rules.min_n)
    per_table = sex.groupby(table_keys).agg(
        small=("small", "sum"), groups=("small", "size"), hidden=("suppressed", "sum")
    )
    candidates = per_table[(per_table["small"] == 1) & (per_table["groups"] == 2)]
    assert len(candidates) > 50
    assert (candidates["hidden"] == 2).all(), candidates[candidates["hidden"] != 2].head()

    # The larger group is hidden *because* of the small one where it passes the primary rules.
    big = sex[~sex["small"]].merge(candidates.reset_index()[table_keys], on=table_keys)
    passes_primary = (big["cases_exact"] >= rules.min_cases) & (
        big["n_exact"] - big["cases_exact"] >= rules.min_cases
    )
    assert passes_primary.sum() > 50
    assert (big.loc[passes_primary, "suppression_reason"] == disclosure.REASON_SECONDARY).all()

    # The total itself stays published in most of these tables.
    totals = paired[paired["breakdown"] == "total"].merge(
        candidates.reset_index()[table_keys], on=table_keys
    )
    assert len(totals) == len(candidates)
    assert (~totals["suppressed"]).sum() > len(totals) / 2


def test_build_constructed_one_small_sex_group_hides_the_other(respondents, agreement):
    # Constructed: in the largest kommune of 2025 keep all women but only three men.
    wave = respondents[respondents["year"] == 2025]
    kommune = wave["kommune_code"].value_counts().idxmax()
    men = (
        (respondents["year"] == 2025)
        & (respondents["kommune_code"] == kommune)
        & (respondents["sex"] == "Mænd")
    )
    drop = respondents.index[men][3:]
    filtered = respondents.drop(index=drop)
    rules = disclosure.Rules(min_cases=0)  # isolate the n rule
    cube = estimates.build(
        filtered, agreement, rules=rules, levels=("kommune",), breakdowns=("total", "sex")
    )
    raw = estimates.build(
        filtered, agreement, levels=("kommune",), breakdowns=("total", "sex"), suppress=False
    )
    cells = cube_cells(cube, "poor_mental_health_all", 2025, "kommune", "sex", [str(kommune)])
    exact = cube_cells(raw, "poor_mental_health_all", 2025, "kommune", "sex", [str(kommune)])
    n_exact = exact.set_index("group")["n"]
    assert n_exact["Mænd"] <= 3 and n_exact["Kvinder"] >= 20
    by_group = cells.set_index("group")
    assert by_group.loc["Mænd", "suppression_reason"] == "færre end 20 svar"
    assert by_group.loc["Kvinder", "suppression_reason"] == disclosure.REASON_SECONDARY
    total = cube_cells(cube, "poor_mental_health_all", 2025, "kommune", "total", [str(kommune)])
    assert not total["suppressed"].item()
    assert total["estimate"].notna().item()


@pytest.fixture(scope="module")
def strict_cube(respondents, agreement):
    return estimates.build(respondents, agreement, rules=disclosure.Rules(min_n=200))


def test_build_small_cells_suppressed_at_every_level(raw_cube, strict_cube):
    # With min_n = 200 the small delivery has small cells at every level and in every breakdown
    # (kommune × sex × age × education); all of them must be hidden.
    min_n = 200
    table = strict_cube.merge(
        raw_cube[KEYS + ["n"]].rename(columns={"n": "n_exact"}), on=KEYS, validate="one_to_one"
    )
    assert len(table) == len(raw_cube)
    small = table[table["n_exact"] < min_n]
    counts = small.groupby(["area_level", "breakdown"]).size()
    for level in estimates.LEVELS:
        for breakdown in ("sex", "age_group", "sex_age", "education"):
            assert counts.get((level, breakdown), 0) > 0, (level, breakdown)
    assert small["suppressed"].all()
    shown_under = int(((table["n_exact"] < min_n) & ~table["suppressed"]).sum())
    assert shown_under == 0
    assert (~table["suppressed"]).sum() > 0
    # Most kommune cells fall under 200 respondents.
    kommune = table[table["area_level"] == "kommune"]
    assert kommune["suppressed"].mean() > 0.99


def _hidden_count_never_one(members: pd.DataFrame, by: list[str], what: str) -> None:
    hidden = members.groupby(by, dropna=False)["suppressed"].sum()
    bad = hidden[hidden == 1]
    assert bad.empty, (
        f"{len(bad)} {what} constraints with exactly one hidden cell, e.g. {bad.index[:3].tolist()}"
    )


def test_build_no_hidden_cell_recoverable_within_a_table(published_cube):
    # Within a table, the groups add up to the total: exactly one hidden cell among the total and
    # its groups could be recovered by subtraction.
    cube = published_cube
    table = ["indicator", "year", "area_level", "area_code"]
    totals = cube[cube["breakdown"] == "total"][table + ["suppressed"]]
    groups = cube[cube["breakdown"] != "total"]
    with_total = pd.concat(
        [
            groups[table + ["breakdown", "suppressed"]],
            groups[table + ["breakdown"]].drop_duplicates().merge(totals, on=table),
        ]
    )
    _hidden_count_never_one(with_total, table + ["breakdown"], "breakdown")

    # Crossed sex × age cells add up to each sex margin and to each age margin.
    crossed = cube[cube["breakdown"] == "sex_age"]
    parts = crossed["group"].str.split(", ", n=1, expand=True)
    for position, margin in enumerate(("sex", "age_group")):
        cells = crossed[table + ["suppressed"]].assign(_margin=parts[position])
        margins = cube[cube["breakdown"] == margin][table + ["group", "suppressed"]]
        margins = margins.rename(columns={"group": "_margin"})
        members = pd.concat([cells, margins.merge(cells[table + ["_margin"]].drop_duplicates())])
        _hidden_count_never_one(members, table + ["_margin"], f"sex_age/{margin}")


def test_build_no_hidden_cell_recoverable_across_areas(published_cube):
    # A klynge or region is the sum of its kommuner, Denmark the sum of its regions.
    cube = published_cube
    cell = ["indicator", "year", "breakdown", "group"]
    geo = geography.load_geography()
    links = pd.concat(
        [
            pd.DataFrame(
                {
                    "parent_level": "sundhedsklynge",
                    "parent_code": geo["sundhedsklynge_code"],
                    "child_level": "kommune",
                    "child_code": geo["kommune_code"].astype(str),
                }
            ),
            pd.DataFrame(
                {
                    "parent_level": "region",
                    "parent_code": geo["region_code"].astype(str),
                    "child_level": "kommune",
                    "child_code": geo["kommune_code"].astype(str),
                }
            ),
            pd.DataFrame(
                {
                    "parent_level": "land",
                    "parent_code": geography.COUNTRY_CODE,
                    "child_level": "region",
                    "child_code": geo["region_code"].astype(str),
                }
            ),
        ]
    ).drop_duplicates()
    children = cube.merge(
        links,
        left_on=["area_level", "area_code"],
        right_on=["child_level", "child_code"],
    )[cell + ["parent_level", "parent_code", "suppressed"]]
    parents = cube.rename(columns={"area_level": "parent_level", "area_code": "parent_code"})
    parents = parents[cell + ["parent_level", "parent_code", "suppressed"]].merge(
        children[cell + ["parent_level", "parent_code"]].drop_duplicates()
    )
    members = pd.concat([children, parents])
    _hidden_count_never_one(members, cell + ["parent_level", "parent_code"], "area")


def _shown_comparisons_with_rest(paired: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Shown cells with a shown ``{prefix}_diff``, with the exact n and cases of the rest."""
    cell = ["indicator", "year", "breakdown", "group"]
    if prefix == "vs_land":
        parent_of = pd.DataFrame(
            {"area_level": ["region", "sundhedsklynge", "kommune"], "parent_level": "land"}
        ).merge(geography.all_areas()[["area_level", "area_code"]])
        parent_of["parent_code"] = geography.COUNTRY_CODE
    else:
        parent_of = pd.concat([geography.areas(level) for level in ("sundhedsklynge", "kommune")])[
            ["area_level", "area_code", "region_code"]
        ]
        parent_of = parent_of.assign(
            parent_level="region", parent_code=parent_of["region_code"].astype(str)
        ).drop(columns="region_code")
    parents = paired[cell + ["area_level", "area_code", "n_exact", "cases_exact"]].rename(
        columns={
            "area_level": "parent_level",
            "area_code": "parent_code",
            "n_exact": "parent_n",
            "cases_exact": "parent_cases",
        }
    )
    shown = paired[~paired["suppressed"] & paired[f"{prefix}_diff"].notna()]
    table = shown.merge(parent_of, on=["area_level", "area_code"]).merge(
        parents, on=cell + ["parent_level", "parent_code"]
    )
    assert len(table) == len(shown)
    return table.assign(
        rest_n=table["parent_n"] - table["n_exact"],
        rest_cases=table["parent_cases"] - table["cases_exact"],
    )


def _rest_breaks_rules(table: pd.DataFrame, rules: disclosure.Rules) -> pd.Series:
    return (
        (table["rest_n"] < rules.min_n)
        | (table["rest_cases"] < rules.min_cases)
        | (table["rest_n"] - table["rest_cases"] < rules.min_cases)
    )


def test_build_shown_vs_land_comparison_rests_on_enough_respondents(paired):
    # estimate − vs_land_diff is the estimate for the rest of Denmark, exactly: it must obey the
    # same rules as a shown cell.
    table = _shown_comparisons_with_rest(paired, "vs_land")
    assert not _rest_breaks_rules(table, disclosure.Rules()).any()


def test_build_shown_vs_region_comparison_rests_on_enough_respondents(paired):
    # E.g. scale 0.05, seed 5: poor_mental_health_all 2010, klynge hovedstaden-syd, Arbejdsløs:
    # estimate 0.884 and vs_region_diff 0.769 are shown, so the rest of Region Hovedstaden is
    # 0.115, from 32 respondents of whom 3 have the outcome; sjaelland-oest 2021 Arbejdsløs:
    # rest of Region Sjælland 16 respondents.
    table = _shown_comparisons_with_rest(paired, "vs_region")
    offending = table[_rest_breaks_rules(table, disclosure.Rules())]
    assert offending.empty, offending[KEYS + ["n_exact", "rest_n", "rest_cases"]].head(10)


# ---------------------------------------------------------------------------------------------
# 4. Invariants and errors
# ---------------------------------------------------------------------------------------------


def test_build_does_not_modify_respondents(respondents, agreement):
    before = respondents.copy(deep=True)
    estimates.build(respondents, agreement, levels=("land", "region"), breakdowns=("total", "sex"))
    pd.testing.assert_frame_equal(respondents, before)


def test_build_rows_are_unique_cells_with_sane_values(raw_cube):
    assert not raw_cube.duplicated(KEYS).any()
    finite = raw_cube.dropna(subset=["se"])
    assert ((finite["estimate"] >= 0) & (finite["estimate"] <= 1)).all()
    assert (finite["ci_low"] <= finite["estimate"] + 1e-12).all()
    assert (finite["ci_high"] >= finite["estimate"] - 1e-12).all()
    assert ((finite["ci_low"] >= 0) & (finite["ci_high"] <= 1)).all()
    assert (raw_cube["n"] > 0).all() and (raw_cube["cases"] <= raw_cube["n"]).all()


def test_build_unknown_breakdown_raises(respondents, agreement):
    with pytest.raises(ParameterError, match="kommune_type"):
        estimates.build(respondents, agreement, breakdowns=("total", "kommune_type"))


def test_build_unknown_level_raises(respondents, agreement):
    with pytest.raises(ParameterError, match="sogn"):
        estimates.build(respondents, agreement, levels=("land", "sogn"))


@pytest.mark.parametrize("column", ["stratum", "weight", "education", "loneliness"])
def test_build_missing_column_raises_naming_it(respondents, agreement, column):
    with pytest.raises(ParameterError, match=column):
        estimates.build(respondents.drop(columns=column), agreement)


def _tiny_respondents(agreement) -> pd.DataFrame:
    """Two kommuner of one wave, 40 respondents each, weights and outcomes by formula."""
    rows = []
    for k, kommune in enumerate((461, 479)):
        for i in range(40):
            rows.append(
                {
                    "respondent_id": f"SP21-{kommune}{i:04d}",
                    "year": 2021,
                    "kommune_code": kommune,
                    "stratum": f"2021-{kommune}",
                    "weight": 20.0 + 3 * ((i * 7 + k) % 11),
                    "sex": "Kvinder" if i % 2 else "Mænd",
                    "age": 30 + (i * 13) % 50,
                    "y": float((i * 37 + 11 * k) % 10 < 3 + k),
                }
            )
    data = pd.DataFrame(rows)
    data["age_group"] = pd.cut(
        data["age"],
        [24, 34, 44, 54, 64, 74, 200],
        labels=["25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    )
    data["education"] = "Grundskole"
    data["labour_market"] = "Beskæftiget"
    for indicator in agreement.indicators_by_source("survey"):
        data[indicator.variable] = data["y"]
    return data


def test_build_interval_matches_r_svyciprop(agreement):
    # The cube's logit interval with t on the whole design's df, against R (not against the
    # helper the cube itself calls). The data are those of _tiny_respondents, written to CSV:
    # R: des <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, data = d)
    #    ci <- svyciprop(~y, subset(des, kommune_code == 461), method = "logit", df = degf(des))
    #    c(coef(ci), SE(ci), attr(ci, "ci")); the same for 479 and for des (Denmark); degf(des)
    expected = {
        "461": (0.298719772404518, 0.0763642868886364, 0.170919075342411, 0.468124358892306),
        "479": (0.393113342898135, 0.0810548262729128, 0.247754372359872, 0.560240196278369),
        "DK": (0.345714285714317, 0.0556410919781591, 0.244594580572588, 0.463015077586272),
    }
    cube = estimates.build(
        _tiny_respondents(agreement),
        agreement,
        levels=("land", "kommune"),
        breakdowns=("total",),
        suppress=False,
    )
    cells = cube[cube["indicator"] == "daily_smoking"].set_index("area_code")
    assert (cells["df"] == 78).all()
    for code, (estimate, se, low, high) in expected.items():
        cell = cells.loc[code]
        assert cell["estimate"] == pytest.approx(estimate, rel=1e-9)
        assert cell["se"] == pytest.approx(se, rel=1e-9)
        assert cell["ci_low"] == pytest.approx(low, rel=1e-9)
        assert cell["ci_high"] == pytest.approx(high, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Kommune against the rest of its sundhedsklynge; a population restricted to the employed
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def herning():
    return load_agreement("herning-sundhedspolitik")


@pytest.fixture(scope="module")
def klynge_table(respondents, agreement, raw_cube):
    # The raw cube stands in for the published one: every kommune cell counts as shown.
    shown = raw_cube.assign(suppressed=False)
    return estimates.klynge_comparisons(respondents, agreement, shown)


@pytest.mark.parametrize(
    ("kommune", "klynge"),
    [(VEJEN, VEJEN_KLYNGER[0]), (VEJEN, VEJEN_KLYNGER[1]), (461, "syddanmark-fyn")],
)
def test_klynge_comparisons_equal_two_survey_domains(
    respondents, agreement, klynge_table, kommune, klynge
):
    # Kommune minus the rest of the klynge, each a domain of the whole design (se = √(a² + b²)).
    in_area = (respondents["kommune_code"] == kommune).to_numpy()
    in_klynge = respondents["kommune_code"].isin(geography.members("sundhedsklynge", klynge))
    expected = _rest_comparison(
        respondents, agreement, "daily_smoking", 2021, in_area, in_klynge.to_numpy(), "total"
    )
    got = klynge_table[
        (klynge_table["indicator"] == "daily_smoking")
        & (klynge_table["year"] == 2021)
        & (klynge_table["area_code"] == str(kommune))
        & (klynge_table["parent_code"] == klynge)
    ]
    assert len(expected) == len(got) == 1
    for field in ("diff", "ci_low", "ci_high", "p"):
        np.testing.assert_allclose(got[field], expected[field], rtol=1e-8, atol=1e-12)


def test_klynge_comparisons_vejen_against_both_its_klynger(klynge_table):
    rows = klynge_table[(klynge_table["area_code"] == str(VEJEN))]
    assert set(rows["parent_code"]) == set(VEJEN_KLYNGER)
    assert set(klynge_table["breakdown"]) == {"total"}
    assert set(klynge_table["area_level"]) == {"kommune"}


def test_klynge_comparisons_hidden_where_the_kommune_cell_is_hidden(
    respondents, agreement, raw_cube
):
    hidden = raw_cube.assign(suppressed=raw_cube["area_code"] == "461")
    table = estimates.klynge_comparisons(respondents, agreement, hidden)
    assert "461" not in set(table["area_code"]) and "479" in set(table["area_code"])


def test_build_employed_population_equals_survey_proportion(respondents, herning):
    # Daily smoking among the employed 25-64: the labour-market restriction is a domain.
    cube = estimates.build(
        respondents,
        herning,
        suppress=False,
        levels=("region",),
        breakdowns=("total", "education"),
    )
    for breakdown in ("total", "education"):
        cells = cube_cells(cube, "daily_smoking_employed", 2021, "region", breakdown)
        domain = respondents["region_code"].astype(str)
        expected = reference(
            respondents, herning, "daily_smoking_employed", 2021, domain, breakdown
        )
        assert_cells_equal(cells, expected, _whole_design_df(respondents))
    everyone = cube_cells(cube, "daily_smoking", 2021, "region", "total")
    employed = cube_cells(cube, "daily_smoking_employed", 2021, "region", "total")
    assert (employed["n"].to_numpy() < everyone["n"].to_numpy()).all()
