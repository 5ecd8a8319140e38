"""Tests of analyse.cube.inequality: every measure per indicator × wave × area, with the agreement.

The measures themselves are tested in test_inequality.py and test_inequality_survey.py; here the
cube must equal them cell by cell and follow the agreement's waves, populations and the
disclosure rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyse.cube import inequality as cube_inequality
from analyse.errors import DataValidationError, ParameterError
from analyse.reference import catalogue
from analyse.stats import inequality as ie
from analyse.stats import survey
from analyse.stats.disclosure import Rules
from inequality_respondents import hand_respondents


@pytest.fixture(scope="module")
def respondents() -> pd.DataFrame:
    return hand_respondents()


@pytest.fixture(scope="module")
def cube(respondents) -> pd.DataFrame:
    return cube_inequality.inequality_for_cube(respondents, levels=("land", "region", "kommune"))


def _cell(cube, indicator, year, level, code, dimension) -> pd.Series:
    rows = cube[
        (cube["indicator"] == indicator)
        & (cube["year"] == year)
        & (cube["area_level"] == level)
        & (cube["area_code"] == code)
        & (cube["dimension"] == dimension)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def _grouped(respondents, variable, year, kommune, dimension, min_age=25):
    rows = respondents[
        (respondents["year"] == year)
        & (respondents["kommune_code"] == kommune)
        & (respondents["age"] >= min_age)
    ].dropna(subset=[variable, dimension])
    table = (
        rows.assign(wy=rows["weight"] * rows[variable])
        .groupby(dimension, observed=True)
        .agg(population=("weight", "sum"), cases=("wy", "sum"))
        .reset_index()
    )
    table["value"] = table["cases"] / table["population"]
    return table


def test_inequality_for_cube_shape(cube):
    agreement = catalogue.load_agreement()
    n_indicators = len(agreement.indicators_by_source("survey"))
    # 2 waves x (land + 5 regions + 98 kommuner) x 2 dimensions per indicator
    assert len(cube) == n_indicators * 2 * 104 * 2
    assert not cube.duplicated(["indicator", "year", "area_level", "area_code", "dimension"]).any()
    # areas without respondents say so
    empty = _cell(cube, "daily_smoking", 2021, "kommune", "101", "education")
    assert empty["n"] == 0 and empty["reason"] != ""


def test_inequality_for_cube_education_measures_match_grouped_functions(respondents, cube):
    row = _cell(cube, "daily_smoking", 2021, "kommune", "461", "education")
    assert row["reason"] == ""
    table = _grouped(respondents, "daily_smoking", 2021, 461, "education")
    gap = ie.simple_gap(table, "education", "value", direction="decrease").iloc[0]
    assert row["d"] == pytest.approx(gap["d"])
    assert row["r"] == pytest.approx(gap["r"])
    assert row["reference_group"] == "Lang videregående"
    attributable = ie.paf(table, "education", "value", "population", direction="decrease").iloc[0]
    assert row["paf"] == pytest.approx(attributable["paf"])
    assert row["par"] == pytest.approx(attributable["par"])
    concentration = ie.concentration_index(table, "education", "value", "population").iloc[0]
    assert row["aci"] == pytest.approx(concentration["aci"])
    assert row["rci"] == pytest.approx(concentration["rci"])
    assert row["prevalence"] == pytest.approx(attributable["mean"])
    table["quantile"] = np.arange(1, 6)
    table["se"] = 0.1
    phe = ie.sii_grouped(table, "quantile", "population", "value", se="se", repetitions=1000)
    assert row["sii_linear"] == pytest.approx(phe["sii"].iloc[0])
    # the logistic SII equals sii_survey on the same cell as a domain (education is NaN < 25)
    cells = ie.sii_survey(respondents, "daily_smoking", by=["year", "kommune_code"])
    single = cells.set_index(["year", "kommune_code"]).loc[(2021, 461)]
    assert row["sii"] == pytest.approx(single["sii"], rel=1e-10)
    assert row["sii_se"] == pytest.approx(single["se"], rel=1e-10)


def test_inequality_for_cube_se_are_domain_estimates(respondents, cube):
    """prevalence_se is svyby's domain se; D's se is the domain contrast of two groups."""
    design = survey.Design(weight="weight", strata="stratum")
    data = respondents.assign(
        smoke=respondents["daily_smoking"].where(
            (respondents["age"] >= 25) & respondents["education"].notna()
        )
    )
    row = _cell(cube, "daily_smoking", 2025, "kommune", "410", "education")
    domain = survey.proportion(data, "smoke", design, by=["year", "kommune_code"])
    expected = domain.set_index(["year", "kommune_code"]).loc[(2025, 410)]
    assert row["prevalence_se"] == pytest.approx(expected["se"], rel=1e-10)
    # D (decrease: Grundskole - Lang videregående) is the domain contrast of the two end groups
    ends = data["education"].isin(["Grundskole", "Lang videregående"])
    in_cell = (data["year"] == 2025) & (data["kommune_code"] == 410)
    contrast = survey.compare_to_parent(
        data.assign(
            smoke=data["smoke"].where(ends & in_cell), low=data["education"] == "Grundskole"
        ),
        "smoke",
        design,
        "low",
        True,
    ).iloc[0]
    assert row["d"] == pytest.approx(contrast["estimate"], rel=1e-10)
    assert row["d_se"] == pytest.approx(contrast["se"], rel=1e-8)


def test_inequality_for_cube_par_persons_by_hand(respondents, cube):
    row = _cell(cube, "physically_active", 2025, "region", "1083", "education")
    people = respondents[(respondents["year"] == 2025) & (respondents["age"] >= 25)]
    population = people["weight"].sum()  # both kommuner are in Region Syddanmark (1083)
    assert row["population"] == pytest.approx(population)
    assert row["par_persons"] == pytest.approx(row["paf"] * row["prevalence"] * population)
    assert row["par_persons_ci_low"] == pytest.approx(row["par_ci_low"] * population)
    # land and region hold the same respondents here
    land = _cell(cube, "physically_active", 2025, "land", "DK", "education")
    assert land["sii"] == pytest.approx(row["sii"])


def test_inequality_for_cube_labour_market(respondents, cube):
    row = _cell(cube, "severe_obesity", 2021, "kommune", "461", "labour_market")
    table = _grouped(respondents, "severe_obesity", 2021, 461, "labour_market", min_age=16)
    assert row["reason"] == ""
    between = ie.bgv(table, "labour_market", "value", "population").iloc[0]
    assert row["bgv"] == pytest.approx(between["bgv"])
    gap = ie.simple_gap(table, "labour_market", "value", ordered=False, direction="decrease").iloc[
        0
    ]
    assert row["d"] == pytest.approx(gap["d"])
    assert row["r"] == pytest.approx(gap["r"])
    assert row["reference_group"] == gap["reference_group"]
    attributable = ie.paf(
        table, "labour_market", "value", "population", ordered=False, direction="decrease"
    ).iloc[0]
    assert row["paf"] == pytest.approx(attributable["paf"])
    assert np.isnan(row["sii"])


def test_inequality_for_cube_youth_indicators_have_no_education_gap(cube):
    row = _cell(cube, "loneliness", 2021, "kommune", "461", "education")
    assert np.isnan(row["d"]) and np.isnan(row["sii"])
    assert row["reason"] == "uddannelse opgøres kun for personer på 25 år og derover"


def test_inequality_for_cube_national_wave_only_for_denmark():
    data = hand_respondents(n=300, waves=(2021, 2023))
    data.loc[data["year"] == 2023, "stratum"] = "2023-DK"
    cube = cube_inequality.inequality_for_cube(
        data, levels=("land", "kommune"), dimensions=("education",)
    )
    assert set(cube.loc[cube["year"] == 2023, "area_level"]) == {"land"}


def test_inequality_for_cube_small_groups_follow_disclosure(respondents):
    strict = cube_inequality.inequality_for_cube(
        respondents, levels=("kommune",), rules=Rules(min_n=150), dimensions=("education",)
    )
    shown = strict[strict["n"] > 0]
    assert (shown["reason"] == "").sum() == 0
    assert shown["d"].isna().all() and shown["paf"].isna().all()


def test_inequality_for_cube_parameter_errors(respondents):
    with pytest.raises(ParameterError, match="unknown area level"):
        cube_inequality.inequality_for_cube(respondents, levels=("planet",))
    with pytest.raises(ParameterError, match="dimension"):
        cube_inequality.inequality_for_cube(respondents, dimensions=("income",))
    with pytest.raises(DataValidationError, match="kommune codes"):
        cube_inequality.inequality_for_cube(respondents.assign(kommune_code=9999), levels=("land",))


def test_gap_change_for_cube_equals_gap_change_per_area(respondents):
    cube = cube_inequality.gap_change_for_cube(respondents, levels=("region", "kommune"))
    row = cube[
        (cube["indicator"] == "daily_smoking")
        & (cube["area_level"] == "kommune")
        & (cube["area_code"] == "461")
    ].iloc[0]
    single = ie.gap_change(
        respondents, "daily_smoking", by="kommune_code", direction="decrease"
    ).set_index("kommune_code")
    expected = single.loc[461]
    for column in ("sii_change", "sii_change_se", "trend_interaction", "trend_interaction_se"):
        assert row[column] == pytest.approx(expected[column], rel=1e-10)
    assert row["gap"] == expected["gap"]
    youth = cube[(cube["indicator"] == "loneliness") & (cube["area_code"] == "461")].iloc[0]
    assert youth["gap"] == "kan ikke vurderes"
    assert youth["reason"] == "uddannelse opgøres kun for personer på 25 år og derover"
    # 103 areas (5 regions + 98 kommuner) per indicator
    assert len(cube) == len(catalogue.load_agreement().indicators_by_source("survey")) * 103


def test_cube_inequality_does_not_mutate_inputs(respondents):
    before = respondents.copy(deep=True)
    cube_inequality.inequality_for_cube(respondents, levels=("kommune",))
    pd.testing.assert_frame_equal(respondents, before)
