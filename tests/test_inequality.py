"""Tests for analyse.stats.inequality (grouped data).

Expected values come from independent references: the PHEindicatormethods SII workbook
(tests/data/phe), WHO healthequal's tests, reference pages and vignette (tests/data/who; each number
quoted with its source), and small cases worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.errors import DataValidationError, ParameterError
from analyse.stats.inequality import (
    bgv,
    concentration_index,
    paf,
    ridit,
    sii_grouped,
    sii_logistic_grouped,
    simple_gap,
)

DATA = Path(__file__).parent / "data"
# PHEindicatormethods' testSII.R compares the simulated limits with `tolerance = 0.05`, using
# 10,000 repetitions; numpy's random generator is not R's, so the limits can only agree within
# such a Monte Carlo tolerance. The SII, RII and intercept are deterministic and must match.
PHE_TOLERANCE = 0.05
PHE_TEST_REPETITIONS = 10_000


@pytest.fixture(scope="module")
def phe_workbook() -> pd.DataFrame:
    return pd.read_csv(DATA / "phe" / "testdata_SII.csv")


@pytest.fixture(scope="module")
def ordered_sample() -> pd.DataFrame:
    return pd.read_csv(DATA / "who" / "OrderedSample.csv")


@pytest.fixture(scope="module")
def nonordered_sample() -> pd.DataFrame:
    return pd.read_csv(DATA / "who" / "NonorderedSample.csv")


@pytest.fixture(scope="module")
def five_groups() -> pd.DataFrame:
    return pd.read_csv(DATA / "who" / "healthequal_tests_5group_inputs.csv")


@pytest.fixture(scope="module")
def twentyfive_groups() -> pd.DataFrame:
    return pd.read_csv(DATA / "who" / "healthequal_tests_25group_inputs.csv")


def _block(workbook: pd.DataFrame, first: int, size: int = 20) -> pd.DataFrame:
    return workbook[workbook["RecordNo"].between(first, first + size - 1)]


def _expected(block: pd.DataFrame) -> pd.DataFrame:
    return block.dropna(subset=["sii"]).set_index("Area")


def _gradient_frame() -> pd.DataFrame:
    """Five ordered groups with a clear gradient, for invariants (proportions)."""
    return pd.DataFrame(
        {
            "education": [1, 2, 3, 4, 5],
            "population": [1200.0, 2500.0, 900.0, 1600.0, 1100.0],
            "prevalence": [0.31, 0.26, 0.22, 0.17, 0.12],
            "se": [0.020, 0.015, 0.020, 0.015, 0.018],
        }
    )


# ---------------------------------------------------------------------------------------------
# ridit
# ---------------------------------------------------------------------------------------------


def test_ridit_matches_phe_worked_example():
    # phe_sii documentation: a group with 12 % of the population gets 0.12 / 2 = 0.06, the next
    # with 10 % gets 0.12 + 0.10 / 2 = 0.17; the last (78 %) 0.22 + 0.78 / 2 = 0.61.
    assert ridit(["q1", "q2", "q3"], [12, 10, 78]) == pytest.approx([0.06, 0.17, 0.61])


def test_ridit_on_microdata_uses_summed_weights_and_given_order():
    # weights per group: low 1 + 3 = 4, high 4 -> shares 0.5, 0.5 -> ridits 0.25 and 0.75
    groups = ["high", "low", "low", "high"]
    weights = [2.0, 1.0, 3.0, 2.0]
    result = ridit(groups, weights, order=["low", "high"])
    assert result == pytest.approx([0.75, 0.25, 0.25, 0.75])


def test_ridit_uses_categorical_order():
    groups = pd.Categorical(["b", "a", "c"], categories=["c", "b", "a"], ordered=True)
    # order c, b, a with equal sizes: c 1/6, b 1/2, a 5/6
    assert ridit(groups, [1, 1, 1]) == pytest.approx([0.5, 5 / 6, 1 / 6])


def test_ridit_rejects_bad_input():
    with pytest.raises(ParameterError, match="differ in length"):
        ridit(["a", "b"], [1.0])
    with pytest.raises(ParameterError, match="not in the given order"):
        ridit(["a", "b"], [1.0, 1.0], order=["a"])
    with pytest.raises(ParameterError, match="not negative"):
        ridit(["a", "b"], [1.0, -1.0])


# ---------------------------------------------------------------------------------------------
# sii_grouped: PHEindicatormethods workbook
# ---------------------------------------------------------------------------------------------

# First record of each block with an expected SII, and the phe_sii settings its description
# names (value type, transformation, multiplier).
PHE_ESTIMATE_BLOCKS = [
    (1, 20, "normal", False, 1),
    (21, 20, "normal", False, 1),
    (41, 20, "normal", False, 1),
    (61, 10, "normal", False, 1),  # quintiles
    (71, 20, "rate", False, 1),
    (91, 20, "proportion", False, 1),
    (111, 20, "proportion", False, 100),
    (131, 20, "proportion", False, -100),
    (246, 20, "normal", False, 1),
    (266, 20, "rate", False, 1),
    (286, 20, "proportion", False, 1),
    (306, 20, "rate", True, 1),
    (326, 20, "proportion", True, 1),
    (346, 20, "proportion", True, -1),
    (386, 20, "rate", True, -1),
    (426, 20, "rate", True, 1),
    (446, 20, "proportion", True, 1),
]


@pytest.mark.parametrize(
    ("first", "size", "value_type", "transform", "multiplier"), PHE_ESTIMATE_BLOCKS
)
def test_sii_grouped_reproduces_phe_workbook_estimates(
    phe_workbook, first, size, value_type, transform, multiplier
):
    block = _block(phe_workbook, first, size)
    result = sii_grouped(
        block,
        "Quantile",
        "Population",
        "Value",
        lower="LowerCL",
        upper="UpperCL",
        by="Area",
        value_type=value_type,
        transform=transform,
        multiplier=multiplier,
        repetitions=1000,
    ).set_index("Area")
    expected = _expected(block)
    # The workbook holds full double precision; the regression is deterministic.
    assert result["sii"].to_numpy() == pytest.approx(expected["sii"].to_numpy(), rel=1e-9)
    if expected["rii"].notna().all():  # the "without rii" blocks hold no RII
        assert result["rii"].to_numpy() == pytest.approx(expected["rii"].to_numpy(), rel=1e-9)
    if expected["Intercept"].notna().all():
        assert result["intercept"].to_numpy() == pytest.approx(
            expected["Intercept"].to_numpy(), rel=1e-9
        )


# (first record, value type, transform, multiplier, input: "se" or "cl", level, suffix of the
# expected columns). The 98 % blocks are named in TestDescription only.
PHE_CI_CASES = [
    (1, "normal", False, 1, "se", 0.95, "1"),
    (1, "normal", False, 1, "cl", 0.95, "1"),
    (21, "normal", False, 1, "cl", 0.99, "1"),
    (226, "normal", False, 1, "se", 0.99, "2"),
    (71, "rate", False, 1, "se", 0.95, "1"),
    (71, "rate", False, 1, "cl", 0.95, "1"),
    (91, "proportion", False, 1, "se", 0.95, "1"),
    (91, "proportion", False, 1, "cl", 0.95, "1"),
    (111, "proportion", False, 100, "cl", 0.95, "1"),
    (131, "proportion", False, -100, "cl", 0.95, "1"),
    (306, "rate", True, 1, "cl", 0.95, "1"),
    (366, "rate", True, 1, "cl", 0.98, "2"),
    (386, "rate", True, -1, "cl", 0.95, "1"),
    (406, "rate", True, 1, "cl", 0.98, "1"),
    (326, "proportion", True, 1, "cl", 0.95, "1"),
    (346, "proportion", True, -1, "cl", 0.95, "1"),
    (466, "proportion", True, 1, "cl", 0.98, "1"),
    (486, "proportion", True, 1, "cl", 0.98, "2"),
]


@pytest.mark.parametrize(
    ("first", "value_type", "transform", "multiplier", "source", "level", "suffix"), PHE_CI_CASES
)
def test_sii_grouped_simulated_limits_within_phe_tolerance(
    phe_workbook, first, value_type, transform, multiplier, source, level, suffix
):
    block = _block(phe_workbook, first)
    uncertainty = (
        {"se": "StandardError"} if source == "se" else {"lower": "LowerCL", "upper": "UpperCL"}
    )
    result = sii_grouped(
        block,
        "Quantile",
        "Population",
        "Value",
        **uncertainty,
        by="Area",
        value_type=value_type,
        transform=transform,
        multiplier=multiplier,
        level=level,
        repetitions=PHE_TEST_REPETITIONS,
    ).set_index("Area")
    expected = _expected(block)
    for ours, theirs in [
        ("sii_ci_low", f"sii_lowercl_{suffix}"),
        ("sii_ci_high", f"sii_uppercl_{suffix}"),
        ("rii_ci_low", f"rii_lowercl_{suffix}"),
        ("rii_ci_high", f"rii_uppercl_{suffix}"),
    ]:
        assert result[ours].to_numpy() == pytest.approx(
            expected[theirs].to_numpy(), rel=PHE_TOLERANCE
        ), ours


def test_sii_grouped_default_repetitions_agree_closely_with_workbook(phe_workbook):
    # With phe_sii's default 100,000 draws the Monte Carlo error is small: within 1 %.
    block = _block(phe_workbook, 1)
    result = sii_grouped(
        block, "Quantile", "Population", "Value", se="StandardError", by="Area"
    ).set_index("Area")
    expected = _expected(block)
    assert result["sii_ci_low"].to_numpy() == pytest.approx(
        expected["sii_lowercl_1"].to_numpy(), rel=0.01
    )
    assert result["sii_ci_high"].to_numpy() == pytest.approx(
        expected["sii_uppercl_1"].to_numpy(), rel=0.01
    )


def test_sii_grouped_rii_false_omits_rii_columns(phe_workbook):
    block = _block(phe_workbook, 426)
    result = sii_grouped(
        block,
        "Quantile",
        "Population",
        "Value",
        lower="LowerCL",
        upper="UpperCL",
        by="Area",
        value_type="rate",
        transform=True,
        rii=False,
        repetitions=1000,
    )
    assert "rii" not in result.columns
    assert {"sii", "sii_ci_low", "sii_ci_high", "method", "level"} <= set(result.columns)


def test_sii_grouped_same_seed_same_limits_and_seed_matters(phe_workbook):
    block = _block(phe_workbook, 1)
    args = ("Quantile", "Population", "Value")
    first = sii_grouped(block, *args, se="StandardError", by="Area", repetitions=2000, seed=5)
    again = sii_grouped(block, *args, se="StandardError", by="Area", repetitions=2000, seed=5)
    other = sii_grouped(block, *args, se="StandardError", by="Area", repetitions=2000, seed=6)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["sii_ci_low"], other["sii_ci_low"])


def test_sii_grouped_reliability_stat_reports_small_mad(phe_workbook):
    block = _block(phe_workbook, 1)
    result = sii_grouped(
        block,
        "Quantile",
        "Population",
        "Value",
        se="StandardError",
        by="Area",
        repetitions=2000,
        reliability_stat=True,
    )
    assert (result["sii_mad"] > 0).all()
    # the spread between batches is small relative to the interval width
    width = result["sii_ci_high"] - result["sii_ci_low"]
    assert (result["sii_mad"] < 0.2 * width).all()


def test_sii_grouped_reports_method_level_and_settings(phe_workbook):
    result = sii_grouped(
        _block(phe_workbook, 91),
        "Quantile",
        "Population",
        "Value",
        se="StandardError",
        by="Area",
        value_type="proportion",
        level=0.9,
        repetitions=1000,
    )
    assert list(result["Area"]) == ["area1", "area2"]
    assert (result["level"] == 0.9).all()
    assert (result["value_type"] == "proportion").all()
    assert result["method"].str.contains("phe_sii").all()


def test_sii_grouped_two_groups_by_hand():
    # Two groups: populations 100 and 300 -> shares a = 0.25, 0.75; ridits b = 0.125, 0.625.
    # Two points are fitted exactly: slope = (0.10 - 0.20) / (0.625 - 0.125) = -0.2,
    # intercept = 0.20 + 0.2 * 0.125 = 0.225, RII = (0.225 - 0.2) / 0.225 = 1/9.
    groups = pd.DataFrame(
        {"edu": [1, 2], "pop": [100, 300], "value": [0.20, 0.10], "se": [0.01, 0.01]}
    )
    result = sii_grouped(groups, "edu", "pop", "value", se="se", min_groups=2, repetitions=1000)
    assert result.loc[0, "sii"] == pytest.approx(-0.2)
    assert result.loc[0, "intercept"] == pytest.approx(0.225)
    assert result.loc[0, "rii"] == pytest.approx(1 / 9)
    assert result.loc[0, "sii_ci_low"] < -0.2 < result.loc[0, "sii_ci_high"]


def test_sii_grouped_no_gradient_gives_zero_sii_and_unit_rii():
    flat = _gradient_frame().assign(prevalence=0.2)
    result = sii_grouped(flat, "education", "population", "prevalence", se="se", repetitions=1000)
    assert result.loc[0, "sii"] == pytest.approx(0.0, abs=1e-12)
    assert result.loc[0, "rii"] == pytest.approx(1.0)


def test_sii_grouped_reversed_order_flips_sign():
    groups = _gradient_frame()
    reversed_groups = groups.assign(education=6 - groups["education"])
    args = ("education", "population", "prevalence")
    forward = sii_grouped(groups, *args, se="se", repetitions=1000)
    backward = sii_grouped(reversed_groups, *args, se="se", repetitions=1000)
    assert backward.loc[0, "sii"] == pytest.approx(-forward.loc[0, "sii"])


def test_sii_grouped_population_scale_does_not_matter():
    groups = _gradient_frame()
    scaled = groups.assign(population=groups["population"] * 37.5)
    args = ("education", "population", "prevalence")
    base = sii_grouped(groups, *args, se="se", repetitions=1000)
    bigger = sii_grouped(scaled, *args, se="se", repetitions=1000)
    pd.testing.assert_frame_equal(base, bigger)


def test_sii_grouped_leaves_input_unchanged(phe_workbook):
    block = _block(phe_workbook, 1).copy()
    before = block.copy()
    sii_grouped(
        block, "Quantile", "Population", "Value", se="StandardError", by="Area", repetitions=1000
    )
    pd.testing.assert_frame_equal(block, before)


def test_sii_grouped_warns_and_leaves_missing_when_a_value_is_missing(phe_workbook):
    # phe_sii drops an area with missing data and warns; here the row stays with missing SII.
    block = _block(phe_workbook, 1).copy()
    block.loc[block.index[3], "Value"] = np.nan
    with pytest.warns(UserWarning, match="missing"):
        result = sii_grouped(
            block,
            "Quantile",
            "Population",
            "Value",
            se="StandardError",
            by="Area",
            repetitions=1000,
        ).set_index("Area")
    assert np.isnan(result.loc["area1", "sii"])
    assert result.loc["area2", "sii"] == pytest.approx(12.54784664, rel=1e-8)


def test_sii_grouped_warns_on_many_quantiles(phe_workbook):
    # workbook block "warning handling - large number of quantiles (>10)": 15 quantiles
    with pytest.warns(UserWarning, match="15 groups"):
        sii_grouped(
            _block(phe_workbook, 211, 15),
            "Quantile",
            "Population",
            "Value",
            se="StandardError",
            repetitions=1000,
        )


# --- sii_grouped: every validation branch ----------------------------------------------------


def test_sii_grouped_rejects_missing_column(phe_workbook):
    with pytest.raises(ParameterError, match="'Populaton' not in the data"):
        sii_grouped(_block(phe_workbook, 1), "Quantile", "Populaton", "Value", se="StandardError")


def test_sii_grouped_rejects_non_numeric_value(phe_workbook):
    block = _block(phe_workbook, 1).astype({"Value": object})
    block.loc[block.index[2], "Value"] = "12,5"
    with pytest.raises(DataValidationError, match=r"column 'Value': must be numeric.*row 2"):
        sii_grouped(block, "Quantile", "Population", "Value", se="StandardError", by="Area")


def test_sii_grouped_rejects_negative_population(phe_workbook):
    # workbook block "error handling - negative populations"
    with pytest.raises(
        DataValidationError, match=r"column 'Population': population must be a positive"
    ):
        sii_grouped(
            _block(phe_workbook, 151, 10), "Quantile", "Population", "Value", se="StandardError"
        )


def test_sii_grouped_rejects_missing_population(phe_workbook):
    # workbook block "warning handling - missing populations, counts or values"
    with pytest.raises(DataValidationError, match="zero, negative or missing"):
        sii_grouped(
            _block(phe_workbook, 201, 10), "Quantile", "Population", "Value", se="StandardError"
        )


def test_sii_grouped_rejects_negative_standard_error(phe_workbook):
    # workbook block "error handling - negative counts/standard error"
    with pytest.raises(DataValidationError, match="standard errors must not be negative"):
        sii_grouped(
            _block(phe_workbook, 161, 10), "Quantile", "Population", "Value", se="StandardError"
        )


def test_sii_grouped_rejects_proportion_limits_outside_0_1(phe_workbook):
    # workbook block "error handling - invalid proportion in CLs" (limits 11 and 8)
    with pytest.raises(
        DataValidationError, match=r"column '(Lower|Upper)CL': proportions must lie between 0 and 1"
    ):
        sii_grouped(
            _block(phe_workbook, 171, 10),
            "Quantile",
            "Population",
            "Value",
            lower="LowerCL",
            upper="UpperCL",
            value_type="proportion",
        )


def test_sii_grouped_rejects_proportions_outside_0_1_with_transform():
    groups = _gradient_frame().assign(prevalence=[31.0, 26.0, 22.0, 17.0, 12.0])
    groups = groups.assign(low=groups["prevalence"] - 2, high=groups["prevalence"] + 2)
    with pytest.raises(
        DataValidationError, match=r"column 'prevalence'.*between 0 and 1.*multiplier=100"
    ):
        sii_grouped(
            groups,
            "education",
            "population",
            "prevalence",
            lower="low",
            upper="high",
            value_type="proportion",
            transform=True,
        )


def test_sii_grouped_rejects_zero_proportion_for_logit():
    groups = _gradient_frame().assign(prevalence=[0.3, 0.2, 0.1, 0.05, 0.0])
    groups = groups.assign(low=groups["prevalence"] * 0.5, high=groups["prevalence"] * 1.5)
    with pytest.raises(DataValidationError, match="strictly between 0 and 1"):
        sii_grouped(
            groups,
            "education",
            "population",
            "prevalence",
            lower="low",
            upper="high",
            value_type="proportion",
            transform=True,
        )


def test_sii_grouped_rejects_non_positive_rate_for_log():
    groups = _gradient_frame().assign(rate=[5.0, 4.0, 3.0, 2.0, 0.0], se=0.1)
    with pytest.raises(DataValidationError, match="rates must be positive"):
        sii_grouped(groups, "education", "population", "rate", se="se", value_type="rate")


def test_sii_grouped_rejects_too_few_quantiles():
    # phe_sii: "Number of quantiles must be between 5 and 100"
    groups = _gradient_frame().iloc[:4]
    with pytest.raises(DataValidationError, match="at least 5 groups, found 4"):
        sii_grouped(groups, "education", "population", "prevalence", se="se")


def test_sii_grouped_rejects_fewer_than_two_groups_even_when_allowed():
    groups = _gradient_frame().iloc[:1]
    with pytest.raises(DataValidationError, match="at least 2 groups, found 1"):
        sii_grouped(groups, "education", "population", "prevalence", se="se", min_groups=2)
    with pytest.raises(ParameterError, match="min_groups"):
        sii_grouped(groups, "education", "population", "prevalence", se="se", min_groups=1)


def test_sii_grouped_rejects_more_than_100_quantiles():
    many = pd.DataFrame({"q": range(1, 102), "pop": 10.0, "value": 1.0, "se": 0.1})
    with pytest.raises(DataValidationError, match="at most 100 groups"):
        sii_grouped(many, "q", "pop", "value", se="se")


def test_sii_grouped_rejects_duplicate_group(phe_workbook):
    block = _block(phe_workbook, 1, 10).copy()
    block.loc[block.index[1], "Quantile"] = 1
    block = pd.concat([block, _block(phe_workbook, 10, 1)])
    with pytest.raises(DataValidationError, match="appear only once"):
        sii_grouped(block, "Quantile", "Population", "Value", se="StandardError")


def test_sii_grouped_requires_se_or_both_limits(phe_workbook):
    # phe_sii: "requires either lower_cl and upper_cl fields, or se field"
    with pytest.raises(ParameterError, match="give either se= or both lower= and upper="):
        sii_grouped(_block(phe_workbook, 1), "Quantile", "Population", "Value", lower="LowerCL")


def test_sii_grouped_rejects_se_with_transform(phe_workbook):
    with pytest.raises(ParameterError, match="instead of se="):
        sii_grouped(
            _block(phe_workbook, 71),
            "Quantile",
            "Population",
            "Value",
            se="StandardError",
            value_type="rate",
            transform=True,
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"value_type": "count"}, "value_type must be one of"),
        ({"transform": True}, "transform=True applies to"),
        ({"multiplier": 0}, "multiplier must be a non-zero number"),
        ({"multiplier": "none"}, "multiplier must be a non-zero number"),
        ({"repetitions": 999}, "at least 1000"),
        ({"level": 95}, "between 0 and 1"),
        ({"level": 0}, "between 0 and 1"),
    ],
)
def test_sii_grouped_rejects_invalid_options(phe_workbook, options, message):
    with pytest.raises(ParameterError, match=message):
        sii_grouped(
            _block(phe_workbook, 1),
            "Quantile",
            "Population",
            "Value",
            lower="LowerCL",
            upper="UpperCL",
            **options,
        )


def test_sii_grouped_rejects_non_dataframe():
    with pytest.raises(ParameterError, match="pandas DataFrame"):
        sii_grouped({"q": [1]}, "q", "pop", "value", se="se")


# ---------------------------------------------------------------------------------------------
# sii_logistic_grouped: WHO healthequal sii/rii
# ---------------------------------------------------------------------------------------------


def test_sii_logistic_grouped_reproduces_healthequal_tests(five_groups):
    # healthequal tests/testthat/test-sii.R and test-rii.R (5 groups, est 20..60 %):
    # sii 44.44502, se 0.02190822 (0-1 scale), ci 40.15109 .. 48.73895;
    # rii 3.159506, se 0.07644001 (log scale), ci 2.719902 .. 3.67016.
    result = sii_logistic_grouped(five_groups, "subgroup_order", "est", "pop", scale=100)
    row = result.iloc[0]
    assert row["sii"] == pytest.approx(44.44502, rel=1e-6)
    assert row["sii_se"] == pytest.approx(100 * 0.02190822, rel=1e-6)
    assert row["sii_ci_low"] == pytest.approx(40.15109, rel=1e-6)
    assert row["sii_ci_high"] == pytest.approx(48.73895, rel=1e-6)
    assert row["rii"] == pytest.approx(3.159506, rel=1e-6)
    assert row["rii_log_se"] == pytest.approx(0.07644001, rel=1e-6)
    assert row["rii_ci_low"] == pytest.approx(2.719902, rel=1e-6)
    assert row["rii_ci_high"] == pytest.approx(3.67016, rel=1e-6)


def test_sii_logistic_grouped_reproduces_healthequal_ordered_sample(ordered_sample):
    # healthequal reference/rii.html, example 2 on OrderedSample:
    # rii 1.466089, se 0.04372912, ci 1.345669 .. 1.597286
    result = sii_logistic_grouped(
        ordered_sample, "subgroup_order", "estimate", "population", scale=100
    )
    row = result.iloc[0]
    assert row["rii"] == pytest.approx(1.466089, rel=1e-6)
    assert row["rii_log_se"] == pytest.approx(0.04372912, rel=1e-6)
    assert row["rii_ci_low"] == pytest.approx(1.345669, rel=1e-6)
    assert row["rii_ci_high"] == pytest.approx(1.597286, rel=1e-6)


def test_sii_logistic_grouped_proportion_scale_equals_percent_scale(five_groups):
    percent = sii_logistic_grouped(five_groups, "subgroup_order", "est", "pop", scale=100)
    proportion = sii_logistic_grouped(
        five_groups.assign(est=five_groups["est"] / 100), "subgroup_order", "est", "pop"
    )
    assert proportion.loc[0, "sii"] * 100 == pytest.approx(percent.loc[0, "sii"])
    assert proportion.loc[0, "rii"] == pytest.approx(percent.loc[0, "rii"])


def test_sii_logistic_grouped_reversed_order_flips_sign(five_groups):
    reversed_groups = five_groups.assign(subgroup_order=6 - five_groups["subgroup_order"])
    forward = sii_logistic_grouped(five_groups, "subgroup_order", "est", "pop", scale=100)
    backward = sii_logistic_grouped(reversed_groups, "subgroup_order", "est", "pop", scale=100)
    assert backward.loc[0, "sii"] == pytest.approx(-forward.loc[0, "sii"])
    assert backward.loc[0, "rii"] == pytest.approx(1 / forward.loc[0, "rii"])


def test_sii_logistic_grouped_population_scale_does_not_matter():
    # whole counts at both scales, so healthequal's rounding of counts plays no part
    groups = pd.DataFrame(
        {
            "edu": [1, 2, 3, 4, 5],
            "pop": [100, 200, 150, 250, 300],
            "share": [0.3, 0.25, 0.2, 0.16, 0.1],
        }
    )
    base = sii_logistic_grouped(groups, "edu", "share", "pop")
    bigger = sii_logistic_grouped(groups.assign(pop=groups["pop"] * 10), "edu", "share", "pop")
    cols = ["sii", "sii_se", "rii", "rii_log_se"]
    assert bigger[cols].to_numpy() == pytest.approx(base[cols].to_numpy(), rel=1e-8)


def test_sii_logistic_grouped_by_groups_equal_separate_calls(five_groups, ordered_sample):
    both = pd.concat(
        [
            five_groups.rename(columns={"est": "estimate", "pop": "population"}).assign(area="a"),
            ordered_sample[["subgroup_order", "estimate", "population"]].assign(area="b"),
        ]
    )
    combined = sii_logistic_grouped(
        both, "subgroup_order", "estimate", "population", by="area", scale=100
    ).set_index("area")
    alone = sii_logistic_grouped(
        ordered_sample, "subgroup_order", "estimate", "population", scale=100
    )
    assert combined.loc["b", "sii"] == pytest.approx(alone.loc[0, "sii"])
    assert combined.loc["a", "sii"] == pytest.approx(44.44502, rel=1e-6)


def test_sii_logistic_grouped_rejects_bad_input(five_groups):
    with pytest.raises(DataValidationError, match="same value"):
        sii_logistic_grouped(five_groups.assign(est=40), "subgroup_order", "est", "pop", scale=100)
    with pytest.raises(DataValidationError, match="between 0 and scale=1"):
        sii_logistic_grouped(five_groups, "subgroup_order", "est", "pop")
    with pytest.raises(DataValidationError, match="at least 3 groups"):
        sii_logistic_grouped(five_groups.iloc[:2], "subgroup_order", "est", "pop", scale=100)
    with pytest.raises(ParameterError, match="scale must be a positive number"):
        sii_logistic_grouped(five_groups, "subgroup_order", "est", "pop", scale=0)
    with pytest.raises(ParameterError, match="cannot tell the order"):
        sii_logistic_grouped(
            five_groups.assign(subgroup_order=list("abcde")),
            "subgroup_order",
            "est",
            "pop",
            scale=100,
        )


# ---------------------------------------------------------------------------------------------
# concentration_index: WHO healthequal aci/rci
# ---------------------------------------------------------------------------------------------


def test_concentration_index_reproduces_healthequal_tests(five_groups):
    # healthequal tests/testthat/test-aci.R: aci 7.3284202, se .29368517;
    # test-rci.R: rci .17776859, se .0071240491, ci 0.16380545 .. 0.19173172 (tolerance 1e-3).
    row = concentration_index(five_groups, "subgroup_order", "est", "pop").iloc[0]
    assert row["aci"] == pytest.approx(7.3284202, rel=1e-6)
    assert row["aci_se"] == pytest.approx(0.29368517, rel=1e-6)
    assert row["rci"] == pytest.approx(0.17776859, rel=1e-6)
    assert row["rci_se"] == pytest.approx(0.0071240491, rel=1e-6)
    # the quoted limits differ from estimate -/+ 1.959964 * se in the 7th digit: rel=1e-5
    assert row["rci_ci_low"] == pytest.approx(0.16380545, rel=1e-5)
    assert row["rci_ci_high"] == pytest.approx(0.19173172, rel=1e-5)


def test_concentration_index_reproduces_healthequal_vignette(ordered_sample):
    # healthequal vignette (articles/healthequal-package-demo.html), aci on OrderedSample:
    # estimate 4.30052, se 1.284031, ci 1.783865 .. 6.817174
    row = concentration_index(ordered_sample, "subgroup_order", "estimate", "population").iloc[0]
    assert row["aci"] == pytest.approx(4.30052, rel=1e-6)
    assert row["aci_se"] == pytest.approx(1.284031, rel=1e-6)
    assert row["aci_ci_low"] == pytest.approx(1.783865, rel=1e-6)
    assert row["aci_ci_high"] == pytest.approx(6.817174, rel=1e-6)


def test_concentration_index_three_equal_groups_by_hand():
    # Three equal groups, values 1, 2, 3: ridits 1/6, 1/2, 5/6, mean 2.
    # RCI = 2/mu * sum p*y*r - 1 = (1/3) * (1/6 + 2/2 + 15/6) - 1 = 22/18 - 1 = 2/9;
    # ACI = mu * RCI = 4/9. The points lie on a line, so the standard errors are 0.
    groups = pd.DataFrame({"g": [1, 2, 3], "pop": [10, 10, 10], "y": [1.0, 2.0, 3.0]})
    row = concentration_index(groups, "g", "y", "pop").iloc[0]
    assert row["rci"] == pytest.approx(2 / 9)
    assert row["aci"] == pytest.approx(4 / 9)
    assert row["aci_se"] == pytest.approx(0, abs=1e-12)


def test_concentration_index_invariants():
    groups = _gradient_frame()
    args = ("education", "prevalence", "population")
    base = concentration_index(groups, *args).iloc[0]
    flat = concentration_index(groups.assign(prevalence=0.2), *args).iloc[0]
    reversed_ = concentration_index(groups.assign(education=6 - groups["education"]), *args).iloc[0]
    scaled = concentration_index(groups.assign(population=groups["population"] * 3), *args).iloc[0]
    assert flat["aci"] == pytest.approx(0, abs=1e-12)
    assert reversed_["aci"] == pytest.approx(-base["aci"])
    assert scaled["aci"] == pytest.approx(base["aci"])
    assert base["aci"] < 0  # prevalence concentrated among the least advantaged


def test_concentration_index_rejects_too_few_groups():
    groups = _gradient_frame().iloc[:2]
    with pytest.raises(DataValidationError, match="at least 3 groups, found 2"):
        concentration_index(groups, "education", "prevalence", "population")


# ---------------------------------------------------------------------------------------------
# paf: WHO healthequal paf/parisk
# ---------------------------------------------------------------------------------------------


def test_paf_reproduces_healthequal_ordered_tests(five_groups):
    # healthequal test-paf.R: paf 45.544548 (percent), se .10689361 (fraction scale);
    # test-parisk.R: par 18.775509, se 4.4066348, ci 10.138505 .. 27.412513 (tolerance 1e-2).
    row = paf(five_groups, "subgroup_order", "est", "pop", scale=100).iloc[0]
    assert row["paf"] * 100 == pytest.approx(45.544548, rel=1e-6)
    assert row["paf_se"] == pytest.approx(0.10689361, rel=1e-6)
    assert row["par"] == pytest.approx(18.775509, rel=1e-6)
    assert row["par_se"] == pytest.approx(4.4066348, rel=1e-6)
    assert row["par_ci_low"] == pytest.approx(10.138505, rel=1e-4)
    assert row["par_ci_high"] == pytest.approx(27.412513, rel=1e-4)
    assert row["reference_group"] == 5


def test_paf_reproduces_healthequal_nonordered_tests(twentyfive_groups):
    # healthequal test-paf-nonordered.R: paf 24.06426 (percent), se .01771526;
    # test-par-nonordered.R: par 16.293152, se 1.1994447, ci 13.94224 .. 18.644063 (tol 1e-4).
    row = paf(twentyfive_groups, "subgroup", "est", "pop", ordered=False, scale=100).iloc[0]
    assert row["paf"] * 100 == pytest.approx(24.06426, rel=1e-5)
    assert row["paf_se"] == pytest.approx(0.01771526, rel=1e-5)
    assert row["par"] == pytest.approx(16.293152, rel=1e-6)
    assert row["par_se"] == pytest.approx(1.1994447, rel=1e-5)
    assert row["par_ci_low"] == pytest.approx(13.94224, rel=1e-4)
    assert row["par_ci_high"] == pytest.approx(18.644063, rel=1e-4)
    assert row["reference_group"] == 22  # the highest estimate, 84 %


def test_paf_reproduces_healthequal_ordered_sample(ordered_sample):
    # healthequal reference/paf.html example on OrderedSample: paf 8.327116, se 0.003681919.
    # (Its interval 8.319899 .. 8.334332 adds the fraction-scale se to the percent PAF; ours is
    # on the fraction scale throughout, so only estimate and se are compared.)
    row = paf(ordered_sample, "subgroup_order", "estimate", "population", scale=100).iloc[0]
    assert row["paf"] * 100 == pytest.approx(8.327116, rel=1e-6)
    assert row["paf_se"] == pytest.approx(0.003681919, rel=1e-6)
    assert row["paf_ci_low"] < row["paf"] < row["paf_ci_high"]


def test_paf_two_groups_by_hand():
    # Adverse indicator (lower is better), least advantaged first: 0.20 (pop 100), 0.10 (pop 300).
    # mean = (100*0.20 + 300*0.10) / 400 = 0.125; reference = most advantaged (0.10);
    # PAR = 0.10 - 0.125 = -0.025; PAF = -0.025 / 0.125 = -0.2.
    groups = pd.DataFrame({"edu": [1, 2], "pop": [100, 300], "smoking": [0.20, 0.10]})
    row = paf(groups, "edu", "smoking", "pop", direction="decrease").iloc[0]
    assert row["mean"] == pytest.approx(0.125)
    assert row["par"] == pytest.approx(-0.025)
    assert row["paf"] == pytest.approx(-0.2)


def test_paf_is_zero_when_reference_is_not_better_than_mean():
    # favourable indicator, but the most advantaged group is below the mean -> no gain: 0
    groups = pd.DataFrame({"edu": [1, 2, 3], "pop": [100, 100, 100], "y": [0.5, 0.6, 0.4]})
    row = paf(groups, "edu", "y", "pop").iloc[0]
    assert row["par"] == 0
    assert row["paf"] == 0


def test_paf_rejects_bad_input(five_groups):
    with pytest.raises(DataValidationError, match="between 0 and scale=1"):
        paf(five_groups, "subgroup_order", "est", "pop")
    with pytest.raises(ParameterError, match="scale must be a positive number"):
        paf(five_groups, "subgroup_order", "est", "pop", scale=-1)
    with pytest.raises(ParameterError, match="direction must be"):
        paf(five_groups, "subgroup_order", "est", "pop", scale=100, direction="up")
    with pytest.raises(DataValidationError, match="population must be a positive"):
        paf(five_groups.assign(pop=-five_groups["pop"]), "subgroup_order", "est", "pop", scale=100)


# ---------------------------------------------------------------------------------------------
# bgv: WHO healthequal bgv
# ---------------------------------------------------------------------------------------------


def test_bgv_reproduces_healthequal_tests(twentyfive_groups):
    # healthequal test-bgv.R: bgv 46.198326, se 17.134647
    row = bgv(twentyfive_groups, "subgroup", "est", "pop", se="se").iloc[0]
    assert row["bgv"] == pytest.approx(46.198326, rel=1e-6)
    assert row["bgv_se"] == pytest.approx(17.134647, rel=1e-6)


def test_bgv_reproduces_healthequal_vignette(nonordered_sample):
    # healthequal vignette, bgv on NonorderedSample: 50.42023, se 9.560196, ci 31.68259 .. 69.15787
    row = bgv(nonordered_sample, "subgroup", "estimate", "population", se="se").iloc[0]
    assert row["bgv"] == pytest.approx(50.42023, rel=1e-6)
    assert row["bgv_se"] == pytest.approx(9.560196, rel=1e-6)
    assert row["bgv_ci_low"] == pytest.approx(31.68259, rel=1e-6)
    assert row["bgv_ci_high"] == pytest.approx(69.15787, rel=1e-6)


def test_bgv_two_groups_by_hand():
    # shares 0.25 / 0.75, values 0.2 / 0.1: mean 0.125;
    # BGV = 0.25 * 0.075^2 + 0.75 * 0.025^2 = 0.00140625 + 0.00046875 = 0.001875
    groups = pd.DataFrame({"g": ["a", "b"], "pop": [100, 300], "y": [0.2, 0.1]})
    row = bgv(groups, "g", "y", "pop").iloc[0]
    assert row["bgv"] == pytest.approx(0.001875)
    assert np.isnan(row["bgv_se"])


def test_bgv_rejects_missing_population_column(twentyfive_groups):
    with pytest.raises(ParameterError, match="'population' not in the data"):
        bgv(twentyfive_groups, "subgroup", "est", "population")


# ---------------------------------------------------------------------------------------------
# simple_gap: WHO healthequal d/r
# ---------------------------------------------------------------------------------------------


def test_simple_gap_reproduces_healthequal_d_and_r_examples(nonordered_sample):
    # healthequal reference/d.html example on NonorderedSample (reference group aceh,
    # favourable indicator): d 30.92258, se 7.217724, ci 16.7761 .. 45.06906
    row = simple_gap(
        nonordered_sample, "subgroup", "estimate", se="se", ordered=False, reference="aceh"
    ).iloc[0]
    assert row["d"] == pytest.approx(30.92258, rel=1e-6)
    assert row["d_se"] == pytest.approx(7.217724, rel=1e-6)
    assert row["d_ci_low"] == pytest.approx(16.7761, rel=1e-5)
    assert row["d_ci_high"] == pytest.approx(45.06906, rel=1e-6)
    assert row["reference_group"] == "aceh"
    # healthequal reference/r.html, same call with r(): r 1.481696, se 0.1110345 (log scale),
    # ci 1.191918 .. 1.841924
    assert row["r"] == pytest.approx(1.481696, rel=1e-6)
    assert row["r_log_se"] == pytest.approx(0.1110345, rel=1e-6)
    assert row["r_ci_low"] == pytest.approx(1.191918, rel=1e-6)
    assert row["r_ci_high"] == pytest.approx(1.841924, rel=1e-6)


def test_simple_gap_two_groups_by_hand():
    # Daily smoking (lower is better), least advantaged "basic" 0.20 (se 0.02), most
    # advantaged "long" 0.10 (se 0.01): D = 0.20 - 0.10 = 0.10, se = sqrt(0.02^2 + 0.01^2)
    # = 0.0223607; R = 0.20 / 0.10 = 2, se(log R) = sqrt((0.02/0.20)^2 + (0.01/0.10)^2) = 0.141421;
    # 95 % CI of R = 2 * exp(-/+ 1.959964 * 0.141421) = 2 * exp(-/+ 0.277181) = 1.51583 .. 2.63881.
    groups = pd.DataFrame(
        {
            "education": pd.Categorical(
                ["long", "basic"], categories=["basic", "long"], ordered=True
            ),
            "smoking": [0.10, 0.20],
            "se": [0.01, 0.02],
        }
    )
    row = simple_gap(groups, "education", "smoking", se="se", direction="decrease").iloc[0]
    assert row["comparison_group"] == "basic"
    assert row["reference_group"] == "long"
    assert row["d"] == pytest.approx(0.10)
    assert row["d_se"] == pytest.approx(0.0223607, rel=1e-5)
    assert row["r"] == pytest.approx(2.0)
    assert row["r_log_se"] == pytest.approx(0.141421, rel=1e-5)
    assert row["r_ci_low"] == pytest.approx(1.51583, rel=1e-5)
    assert row["r_ci_high"] == pytest.approx(2.63881, rel=1e-5)


def test_simple_gap_direction_decides_sign():
    # Same numbers, favourable indicator: D = most advantaged - least advantaged = -0.10 (the
    # least advantaged do better), R = 0.10 / 0.20 = 0.5.
    groups = pd.DataFrame({"edu": [1, 2], "y": [0.20, 0.10]})
    row = simple_gap(groups, "edu", "y", direction="increase").iloc[0]
    assert row["d"] == pytest.approx(-0.10)
    assert row["r"] == pytest.approx(0.5)


def test_simple_gap_nonordered_default_compares_worst_with_best():
    groups = pd.DataFrame({"work": ["employed", "unemployed", "retired"], "y": [0.15, 0.30, 0.20]})
    row = simple_gap(groups, "work", "y", ordered=False, direction="decrease").iloc[0]
    assert row["reference_group"] == "employed"
    assert row["comparison_group"] == "unemployed"
    assert row["d"] == pytest.approx(0.15)
    assert row["r"] == pytest.approx(2.0)


def test_simple_gap_by_returns_one_row_per_grouping():
    groups = pd.DataFrame(
        {"area": ["x", "x", "y", "y"], "edu": [1, 2, 1, 2], "y": [0.3, 0.1, 0.2, 0.2]}
    )
    result = simple_gap(groups, "edu", "y", by="area", direction="decrease")
    assert list(result["area"]) == ["x", "y"]
    assert result["d"].to_numpy() == pytest.approx([0.2, 0.0])
    assert {"method", "level", "direction"} <= set(result.columns)


def test_simple_gap_rejects_bad_input():
    groups = pd.DataFrame({"edu": ["basic", "long"], "y": [0.2, 0.1]})
    with pytest.raises(ParameterError, match="cannot tell the order"):
        simple_gap(groups, "edu", "y")
    with pytest.raises(ParameterError, match="reference= is for non-ordered"):
        simple_gap(groups, "edu", "y", reference="long")
    with pytest.raises(ParameterError, match="reference group 'short' not found"):
        simple_gap(groups, "edu", "y", ordered=False, reference="short")
    with pytest.raises(ParameterError, match="direction must be"):
        simple_gap(groups, "edu", "y", ordered=False, direction="higher")
    with pytest.raises(DataValidationError, match="at least 2 groups, found 1"):
        simple_gap(groups.iloc[:1], "edu", "y", ordered=False)
    with pytest.raises(DataValidationError, match="column 'y': has missing values"):
        simple_gap(groups.assign(y=[0.2, None]), "edu", "y", ordered=False)
