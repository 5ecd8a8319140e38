"""Tests of analyse.stats.standardise: direct standardisation with design-based SEs.

R reference values: R 4.x, survey 4.1.1, on the api data in tests/data/api (see
tests/data/standardise/SOURCE.md). Every R value has the R code that produced it above it; the
common set-up is::

    library(survey)
    apistrat <- read.csv("tests/data/api/apistrat.csv")
    apiclus1 <- read.csv("tests/data/api/apiclus1.csv")
    prep <- function(d) {
      d$sex <- factor(ifelse(d$snum %% 2 == 0, "Kvinder", "Maend"),
                      levels = c("Maend", "Kvinder"))
      d$agegrp <- cut(d$meals, c(-1, 30, 60, 101), labels = c("a1", "a2", "a3"))
      d$y <- as.numeric(d$api00 > 700)
      d$y[d$snum %% 13 == 0] <- NA
      d
    }
    apistrat <- prep(apistrat); apiclus1 <- prep(apiclus1)
    pop <- expand.grid(sex = levels(apistrat$sex), agegrp = levels(apistrat$agegrp))
    pop$Freq <- c(120, 110, 200, 210, 90, 130)
    dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
    dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.errors import ParameterError
from analyse.reference.population import DEFAULT_STANDARD, load_standard
from analyse.stats.standardise import METHOD, direct
from analyse.stats.survey import Design, proportion

DATA = Path(__file__).parent / "data"
RTOL = 1e-6

STRATA = ["sex", "agegrp"]
R_STANDARD = pd.DataFrame(
    {
        "sex": ["Maend", "Kvinder"] * 3,
        "agegrp": ["a1", "a1", "a2", "a2", "a3", "a3"],
        "population": [120, 110, 200, 210, 90, 130],
    }
)
DESIGNS = {
    "apistrat": Design("pw", strata="stype", fpc="fpc"),
    "apiclus1": Design("pw", psu="dnum", fpc="fpc"),
}


def _api(name: str) -> pd.DataFrame:
    """The api sample with the stratum variables and outcome of the R set-up (module docstring)."""
    data = pd.read_csv(DATA / "api" / f"{name}.csv")
    data["sex"] = np.where(data["snum"] % 2 == 0, "Kvinder", "Maend")
    data["agegrp"] = pd.cut(data["meals"], [-1, 30, 60, 101], labels=["a1", "a2", "a3"])
    data["y"] = (data["api00"] > 700).astype(float)
    data.loc[data["snum"] % 13 == 0, "y"] = np.nan
    return data


# --- R agreement ------------------------------------------------------------------------------

# s <- svystandardize(d, by = ~sex + agegrp, over = ~awards, population = pop,
#                     excluding.missing = ~y)
# r <- svyby(~y, ~awards, s, svymean); coef(r); SE(r)
# svyby(~y, ~awards, s, svyciprop, method = "logit", df = degf(d), vartype = "ci")
# (d = dstrat, then d = dclus1)
R_PROPORTION_BY_AWARDS = {
    "apistrat": {
        "estimate": [0.317473868451339, 0.459424474507514],
        "se": [0.0574295916972723, 0.0446165047803322],
        "ci_low": [0.216177702694013, 0.373567570707622],
        "ci_high": [0.439613931483786, 0.547759553861549],
    },
    "apiclus1": {
        "estimate": [0.260842774796263, 0.40141196013289],
        "se": [0.0619850375970396, 0.0382391389829439],
        "ci_low": [0.150443574449193, 0.322804109144208],
        "ci_high": [0.412883116971695, 0.485440155024],
    },
}

# s1 <- svystandardize(d, by = ~sex + agegrp, over = ~1, population = pop,
#                      excluding.missing = ~y)
# m <- svymean(~y, s1); coef(m); SE(m)
# attr(svyciprop(~y, s1, method = "logit", df = degf(d)), "ci")
R_PROPORTION_OVERALL = {
    "apistrat": {
        "estimate": [0.409857048063215],
        "se": [0.0348845379230487],
        "ci_low": [0.34321913750843],
        "ci_high": [0.479977853830181],
    },
    "apiclus1": {
        "estimate": [0.353994973839245],
        "se": [0.0397971497821489],
        "ci_low": [0.273929294613748],
        "ci_high": [0.443178582877452],
    },
}

# s2 <- svystandardize(d, by = ~sex + agegrp, over = ~awards, population = pop,
#                      excluding.missing = ~api00)
# r <- svyby(~api00, ~awards, s2, svymean); coef(r); SE(r); confint(r, df = degf(d))
R_MEAN_BY_AWARDS = {
    "apistrat": {
        "estimate": [638.737773831867, 687.743851963791],
        "se": [12.2646579205413, 6.62093847424309],
        "ci_low": [614.550899090302, 674.686838014799],
        "ci_high": [662.924648573432, 700.800865912783],
    },
    "apiclus1": {
        "estimate": [630.748126614987, 662.75926910299],
        "se": [13.9628879254001, 8.59900623396345],
        "ci_low": [600.800710467701, 644.316235003063],
        "ci_high": [660.695542762274, 681.202303202917],
    },
}


def _assert_matches(result: pd.DataFrame, expected: dict[str, list[float]]) -> None:
    for column, values in expected.items():
        np.testing.assert_allclose(result[column], values, rtol=RTOL, err_msg=column)


@pytest.mark.parametrize("name", ["apistrat", "apiclus1"])
def test_direct_matches_r_svystandardize_by_area(name):
    result = direct(_api(name), "y", DESIGNS[name], by="awards", standard=R_STANDARD, strata=STRATA)
    assert result["awards"].tolist() == ["No", "Yes"]
    _assert_matches(result, R_PROPORTION_BY_AWARDS[name])


@pytest.mark.parametrize("name", ["apistrat", "apiclus1"])
def test_direct_matches_r_svystandardize_whole_sample(name):
    result = direct(_api(name), "y", DESIGNS[name], standard=R_STANDARD, strata=STRATA)
    assert len(result) == 1
    _assert_matches(result, R_PROPORTION_OVERALL[name])


@pytest.mark.parametrize("name", ["apistrat", "apiclus1"])
def test_direct_mean_matches_r_svystandardize(name):
    result = direct(
        _api(name),
        "api00",
        DESIGNS[name],
        by="awards",
        standard=R_STANDARD,
        strata=STRATA,
        kind="mean",
    )
    _assert_matches(result, R_MEAN_BY_AWARDS[name])


def test_direct_returns_tidy_columns():
    data = _api("apistrat")
    result = direct(data, "y", DESIGNS["apistrat"], by="awards", standard=R_STANDARD, strata=STRATA)
    assert list(result.columns) == [
        "awards",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "n",
        "df",
        "method",
        "level",
        "standard",
    ]
    answered = data["y"].notna()
    assert result["n"].tolist() == [
        int((answered & (data["awards"] == "No")).sum()),
        int((answered & (data["awards"] == "Yes")).sum()),
    ]
    # degf(dstrat) = 197: the df of the whole design, as for crude estimates.
    assert result["df"].tolist() == [197, 197]
    assert (result["method"] == METHOD).all()
    assert (result["standard"] == "user-supplied").all()
    assert (result["level"] == 0.95).all()


# --- hand-worked cases ------------------------------------------------------------------------


def _two_strata() -> pd.DataFrame:
    """Stratum 16-24: 3 of 10 yes (p = 0.3); stratum 25-34: 6 of 10 yes (p = 0.6)."""
    return pd.DataFrame(
        {
            "age_group": ["16-24"] * 10 + ["25-34"] * 10,
            "y": [1] * 3 + [0] * 7 + [1] * 6 + [0] * 4,
            "w": 1.0,
        }
    )


HALF_HALF = pd.DataFrame({"age_group": ["16-24", "25-34"], "population": [500, 500]})


def test_direct_equal_shares_is_mean_of_stratum_prevalences():
    result = direct(_two_strata(), "y", Design("w"), standard=HALF_HALF, strata="age_group")
    assert result["estimate"].iloc[0] == pytest.approx((0.3 + 0.6) / 2, rel=1e-12)


def test_direct_se_independent_strata_is_root_sum_of_squared_shares_times_variances():
    # Design strata = age groups, so the stratum estimates are independent and each has the
    # with-replacement variance p (1 - p) / (n_s - 1): 0.21 / 9 and 0.24 / 9.
    # se = sqrt(0.5^2 * 0.21/9 + 0.5^2 * 0.24/9) = sqrt(0.0125)
    result = direct(
        _two_strata(),
        "y",
        Design("w", strata="age_group"),
        standard=HALF_HALF,
        strata="age_group",
    )
    assert result["se"].iloc[0] == pytest.approx(math.sqrt(0.0125), rel=1e-12)


def test_direct_se_one_design_stratum_equal_weights():
    # One design stratum of n = 20 rows: domain s has z_i = (y_i - p_s) / 10, the domains do not
    # overlap and each sums to zero, so var = 20/19 * sum_s P_s^2 p_s (1 - p_s) / n_s
    #                                     = 20/19 * 0.25 * (0.21 + 0.24) / 10.
    result = direct(_two_strata(), "y", Design("w"), standard=HALF_HALF, strata="age_group")
    expected = math.sqrt(20 / 19 * 0.25 * 0.045)
    assert result["se"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_direct_equals_crude_when_every_area_has_the_standard_composition():
    # Standard: 30 % / 70 %. Each area's weighted stratum shares are 30 % / 70 % as well (area A:
    # weights 1 + 2 | 3 + 4; area B: 2 + 4 | 5 + 9), so standardising changes nothing.
    data = pd.DataFrame(
        {
            "area": ["A"] * 4 + ["B"] * 4,
            "age_group": ["16-24", "16-24", "25-34", "25-34"] * 2,
            "w": [1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 5.0, 9.0],
            "y": [1, 0, 1, 1, 0, 1, 0, 1],
        }
    )
    standard = pd.DataFrame({"age_group": ["16-24", "25-34"], "population": [300, 700]})
    design = Design("w")
    standardised = direct(data, "y", design, by="area", standard=standard, strata="age_group")
    crude = proportion(data, "y", design, by="area")
    np.testing.assert_allclose(standardised["estimate"], crude["estimate"], rtol=1e-12)
    # By hand: A = (1*1 + 0 + 3 + 4) / 10 = 0.8; B = (0 + 4 + 0 + 9) / 20 = 0.65.
    np.testing.assert_allclose(standardised["estimate"], [0.8, 0.65], rtol=1e-12)


def test_direct_interval_contains_estimate_and_stays_in_unit_interval():
    result = direct(
        _api("apiclus1"),
        "y",
        DESIGNS["apiclus1"],
        by="awards",
        standard=R_STANDARD,
        strata=STRATA,
        level=0.99,
    )
    assert (
        (result["ci_low"] <= result["estimate"]) & (result["estimate"] <= result["ci_high"])
    ).all()
    assert ((result["ci_low"] >= 0) & (result["ci_high"] <= 1)).all()
    assert (result["level"] == 0.99).all()


def test_direct_inputs_not_mutated():
    data = _api("apistrat")
    standard = R_STANDARD.copy()
    data_before, standard_before = data.copy(), standard.copy()
    direct(data, "y", DESIGNS["apistrat"], by="awards", standard=standard, strata=STRATA)
    pd.testing.assert_frame_equal(data, data_before)
    pd.testing.assert_frame_equal(standard, standard_before)


# --- the shipped standard ---------------------------------------------------------------------

AGE_BANDS = {
    "16-24": (16, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65-74": (65, 74),
    "75+": (75, 125),
}


def _folk1a_by_sex_and_age() -> dict[tuple[str, int], int]:
    """Single-year population by sex from the FOLK1A 2025Q4 export, summed over marital status."""
    path = DATA / "standardise" / "folk1a_2025k4_denmark_marital_age_sex.csv"
    counts: dict[tuple[str, int], int] = {}
    with path.open(encoding="utf-8") as handle:
        for row in list(csv.reader(handle))[6:]:
            if row[2].strip():  # a marital-status heading
                continue
            age = int(row[3].split()[0])
            total, men, women = (int(v) for v in row[4:7])
            assert total == men + women
            for sex, count in (("Mænd", men), ("Kvinder", women)):
                counts[(sex, age)] = counts.get((sex, age), 0) + count
    return counts


def test_load_standard_is_folk1a_2025k4_summed_to_age_groups():
    counts = _folk1a_by_sex_and_age()
    expected = pd.DataFrame(
        [
            (sex, band, sum(counts[(sex, age)] for age in range(lo, hi + 1)))
            for sex in ("Mænd", "Kvinder")
            for band, (lo, hi) in AGE_BANDS.items()
        ],
        columns=["sex", "age_group", "population"],
    )
    standard = load_standard()
    assert standard.attrs["name"] == DEFAULT_STANDARD
    pd.testing.assert_frame_equal(standard[["sex", "age_group", "population"]], expected)
    assert standard["population"].sum() == 5_023_359
    assert standard["share"].sum() == pytest.approx(1.0, abs=1e-12)


def test_load_standard_file_shares_agree_with_population():
    shipped = pd.read_csv(
        Path(__file__).parents[1]
        / "src"
        / "analyse"
        / "reference"
        / "data"
        / "standard_population_dk.csv"
    )
    np.testing.assert_allclose(
        shipped["share"], shipped["population"] / shipped["population"].sum(), atol=1e-9
    )


def test_direct_default_standard_by_hand():
    # Equal weights, every sex x age cell present with 2 respondents, one of whom has y = 1 in
    # the cells of men and none in the cells of women: estimate = 0.5 * (share of men).
    standard = load_standard()
    data = pd.DataFrame(
        {
            "sex": np.repeat(standard["sex"].to_numpy(), 2),
            "age_group": np.repeat(standard["age_group"].to_numpy(), 2),
            "y": [1, 0] * 7 + [0, 0] * 7,
            "w": 1.0,
        }
    )
    result = direct(data, "y", Design("w"), standard=standard)
    share_men = standard.loc[standard["sex"] == "Mænd", "population"].sum() / 5_023_359
    assert result["estimate"].iloc[0] == pytest.approx(0.5 * share_men, rel=1e-12)
    assert result["standard"].iloc[0] == DEFAULT_STANDARD


def test_direct_age_only_sums_the_standard_over_sex():
    standard = load_standard()
    data = pd.DataFrame(
        {
            "age_group": np.repeat(list(AGE_BANDS), 2),
            "y": [1, 0] + [0, 0] * 6,
            "w": 1.0,
        }
    )
    result = direct(data, "y", Design("w"), standard=standard, strata="age_group")
    young = standard.loc[standard["age_group"] == "16-24", "population"].sum() / 5_023_359
    assert result["estimate"].iloc[0] == pytest.approx(0.5 * young, rel=1e-12)


def test_direct_accepts_categorical_strata_and_share_only_standard():
    data = _two_strata().astype({"age_group": "category"})
    standard = pd.DataFrame({"age_group": ["16-24", "25-34"], "share": [0.25, 0.75]})
    result = direct(data, "y", Design("w"), standard=standard, strata="age_group")
    assert result["estimate"].iloc[0] == pytest.approx(0.25 * 0.3 + 0.75 * 0.6, rel=1e-12)


# --- errors -----------------------------------------------------------------------------------


def test_direct_unknown_outcome_column():
    with pytest.raises(ParameterError, match="'smoker' not found"):
        direct(_two_strata(), "smoker", Design("w"), standard=HALF_HALF, strata="age_group")


def test_direct_unknown_stratum_column():
    with pytest.raises(ParameterError, match="stratum column.*'sex' not found"):
        direct(_two_strata(), "y", Design("w"), standard=HALF_HALF)


def test_direct_unknown_by_column():
    with pytest.raises(ParameterError, match="by column.*'kommune' not found"):
        direct(
            _two_strata(), "y", Design("w"), by="kommune", standard=HALF_HALF, strata="age_group"
        )


def test_direct_data_stratum_missing_from_standard():
    standard = pd.DataFrame({"age_group": ["16-24"], "population": [1]})
    with pytest.raises(ParameterError, match="'25-34'.*that the standard population lacks"):
        direct(_two_strata(), "y", Design("w"), standard=standard, strata="age_group")


def test_direct_standard_stratum_missing_from_data():
    standard = pd.DataFrame({"age_group": ["16-24", "25-34", "35-44"], "population": [1, 1, 1]})
    with pytest.raises(ParameterError, match="'35-44'.*no respondents in the data"):
        direct(_two_strata(), "y", Design("w"), standard=standard, strata="age_group")


@pytest.mark.parametrize("bad", [0, -5, np.nan])
def test_direct_standard_population_not_positive(bad):
    standard = pd.DataFrame({"age_group": ["16-24", "25-34"], "population": [10, bad]})
    with pytest.raises(ParameterError, match="'population' must be positive"):
        direct(_two_strata(), "y", Design("w"), standard=standard, strata="age_group")


def test_direct_standard_without_stratum_column():
    standard = pd.DataFrame({"alder": ["16-24", "25-34"], "population": [1, 1]})
    with pytest.raises(ParameterError, match="lacks column.*'age_group'"):
        direct(_two_strata(), "y", Design("w"), standard=standard, strata="age_group")


def test_direct_standard_with_duplicate_stratum():
    standard = pd.DataFrame({"age_group": ["16-24", "16-24", "25-34"], "population": [1, 1, 1]})
    with pytest.raises(ParameterError, match="more than one row per stratum"):
        direct(_two_strata(), "y", Design("w"), standard=standard, strata="age_group")


def test_direct_group_without_respondents_in_a_stratum():
    data = _two_strata()
    data["area"] = ["A"] * 10 + ["A"] * 5 + ["B"] * 5  # area B has nobody aged 16-24
    with pytest.raises(ParameterError, match=r"area='B' in '16-24'"):
        direct(data, "y", Design("w"), by="area", standard=HALF_HALF, strata="age_group")


def test_direct_cell_with_only_missing_answers_is_empty():
    data = _two_strata().astype({"y": float})
    data.loc[data["age_group"] == "16-24", "y"] = np.nan
    with pytest.raises(ParameterError, match="no respondents"):
        direct(data, "y", Design("w"), standard=HALF_HALF, strata="age_group")


def test_direct_outcome_not_binary_for_proportion():
    data = _two_strata()
    data.loc[0, "y"] = 2
    with pytest.raises(ParameterError, match="coded 0/1"):
        direct(data, "y", Design("w"), standard=HALF_HALF, strata="age_group")


def test_direct_unknown_standard_name_and_kind():
    with pytest.raises(ParameterError, match="unknown standard population 'who2000'"):
        load_standard("who2000")
    with pytest.raises(ParameterError, match="standard must be a DataFrame"):
        direct(_two_strata(), "y", Design("w"), standard="who2000", strata="age_group")
    with pytest.raises(ParameterError, match="kind must be"):
        direct(_two_strata(), "y", Design("w"), standard=HALF_HALF, kind="rate")


def test_direct_missing_stratum_label_among_respondents():
    data = _two_strata()
    data.loc[3, "age_group"] = None
    with pytest.raises(ParameterError, match="stratum column 'age_group' has missing values"):
        direct(data, "y", Design("w"), standard=HALF_HALF, strata="age_group")
