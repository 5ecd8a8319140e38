"""Tests of analyse.stats.disclosure: rules, rounding, primary and secondary suppression.

Every expected value is worked out by hand in the comments next to the constructed cells.
"""

import numpy as np
import pandas as pd
import pytest

from analyse.errors import DataValidationError, ParameterError
from analyse.reference import geography
from analyse.stats import disclosure
from analyse.stats.disclosure import (
    SUPPRESSED_TEXT,
    DisclosureError,
    Rules,
    assert_publishable,
    is_publishable,
    round_count,
    suppress,
)

PRIMARY_N = "færre end 20 svar"
PRIMARY_CASES = "under 5 med/uden udfaldet"
SECONDARY = "sekundær: kan udregnes fra andre celler"


def cell(
    group="I alt",
    n=200,
    *,
    breakdown=None,
    cases=None,
    level="kommune",
    code="A",
    indicator="daily_smoking",
    year=2021,
    estimate=0.25,
):
    """One cube row; cases default to a quarter of n (far from both min_cases limits)."""
    if breakdown is None:
        breakdown = "total" if group == "I alt" else "sex"
    return {
        "indicator": indicator,
        "year": year,
        "area_level": level,
        "area_code": code,
        "breakdown": breakdown,
        "group": group,
        "estimate": estimate,
        "se": 0.02,
        "ci_low": estimate - 0.04,
        "ci_high": estimate + 0.04,
        "n": n,
        "cases": n // 4 if cases is None else cases,
    }


def frame(*cells):
    return pd.DataFrame(list(cells))


def status(result, **where):
    """(suppressed, reason) of the single row matching ``where``."""
    mask = np.ones(len(result), dtype=bool)
    for column, value in where.items():
        mask &= (result[column] == value).to_numpy()
    assert mask.sum() == 1, where
    row = result[mask].iloc[0]
    reason = row["suppression_reason"]
    return bool(row["suppressed"]), (None if pd.isna(reason) else reason)


# --------------------------------------------------------------------------------- Rules


def test_rules_defaults():
    rules = Rules()
    assert (rules.min_n, rules.min_cases, rules.count_base) == (20, 5, 10)
    assert rules.min_weighted_population == 50
    assert rules.as_dict() == {
        "min_n": 20,
        "min_cases": 5,
        "count_base": 10,
        "min_weighted_population": 50,
        "model_max_cv": 0.20,
        "model_max_half_width": 0.10,
        "model_min_areas": 20,
        "protection_width": 0.05,
        "register_min_cases": 10,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_n": 0},
        {"min_n": 2.5},
        {"min_n": True},
        {"min_cases": -1},
        {"register_min_cases": -1},
        {"register_min_cases": 2.5},
        {"count_base": 0},
        {"min_weighted_population": -1},
        {"min_weighted_population": float("nan")},
        {"min_n": 4, "count_base": 10},  # a count of 4 would be shown as 0
        {"model_max_cv": -0.1},
        {"model_max_cv": float("inf")},
        {"model_max_half_width": -0.01},
        {"model_min_areas": 1},
        {"model_min_areas": 2.5},
    ],
)
def test_rules_invalid_values_raise_parameter_error(kwargs):
    with pytest.raises(ParameterError):
        Rules(**kwargs)


def test_rules_are_frozen():
    with pytest.raises(AttributeError):
        Rules().min_n = 5


# --------------------------------------------------------------------------------- round_count


@pytest.mark.parametrize(
    ("n", "base", "expected"),
    [(0, 10, 0), (4, 10, 0), (5, 10, 10), (14, 10, 10), (15, 10, 20), (25, 10, 30),
     (1234, 10, 1230), (12, 5, 10), (13, 5, 15)],
)  # fmt: skip
def test_round_count_half_up(n, base, expected):
    assert round_count(n, base) == expected


def test_round_count_series_keeps_missing_and_index():
    counts = pd.Series([15, None, 104], index=[7, 8, 9], dtype="Int64")
    rounded = round_count(counts)
    assert list(rounded.index) == [7, 8, 9]
    assert rounded.iloc[0] == 20 and np.isnan(rounded.iloc[1]) and rounded.iloc[2] == 100


def test_round_count_rejects_negative_counts_and_bad_base():
    with pytest.raises(ParameterError):
        round_count(-1)
    with pytest.raises(ParameterError):
        round_count(10, base=0)


# --------------------------------------------------------------------------------- round_share


def test_round_share_to_a_tenth_of_a_percentage_point():
    # 0.12344 -> 12.344 % -> 12.3 % = 0.123; 0.12351 -> 12.4 % = 0.124; -0.00004 -> 0 (not -0).
    assert disclosure.round_share(0.12344) == 0.123
    assert disclosure.round_share(0.12351) == 0.124
    assert str(disclosure.round_share(-0.00004)) == "0.0"
    rounded = disclosure.round_share(pd.Series([0.12340, np.nan], index=[3, 4], name="x"))
    assert rounded.index.tolist() == [3, 4] and rounded.name == "x"
    assert rounded.iloc[0] == 0.123 and np.isnan(rounded.iloc[1])
    # Half away from zero on the written value, as the text: 0.1225 → "12,3 pct." (binary
    # 0.1225 · 1000 = 122.49999999999999), −0.0015 → −0.002.
    np.testing.assert_array_equal(
        disclosure.round_share(np.array([0.0455, 0.1225, -0.0015, 1.0])),
        [0.046, 0.123, -0.002, 1.0],
    )
    with pytest.raises(ParameterError):
        disclosure.round_share(0.5, decimals=-1)


# --------------------------------------------------------------------------------- primary


@pytest.mark.parametrize(
    ("level", "code"),
    [("land", "DK"), ("region", "1083"), ("sundhedsklynge", "K"), ("kommune", "A")],
)
@pytest.mark.parametrize(
    ("breakdown", "groups"),
    [
        ("sex", ["Kvinder", "Mænd"]),
        ("age_group", ["16-24 år", "25-34 år", "35-44 år"]),
        ("education", ["Grundskole", "Gymnasial/erhvervsfaglig", "Kort videregående"]),
    ],
)
def test_suppress_small_cells_at_every_level_and_breakdown(level, code, breakdown, groups):
    # First group 19 respondents (< 20: primary), second 20 (the smallest other: secondary, as
    # the first could otherwise be recovered from the total), the rest 300 (shown).
    sizes = [19, 20] + [300] * (len(groups) - 2)
    rows = [cell(n=sum(sizes), level=level, code=code)]
    rows += [
        cell(g, size, breakdown=breakdown, level=level, code=code)
        for g, size in zip(groups, sizes, strict=True)
    ]
    result = suppress(frame(*rows), hierarchy=None)
    assert status(result, group=groups[0]) == (True, PRIMARY_N)
    assert status(result, group=groups[1]) == (True, SECONDARY)
    for g in groups[2:]:
        assert status(result, group=g) == (False, None)
    assert status(result, group="I alt") == (False, None)
    hidden = result[result["suppressed"]]
    assert hidden[["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    assert hidden["n"].isna().all()


def test_suppress_min_cases_on_both_sides():
    # Each indicator is its own table of one total cell, so no secondary suppression.
    table = frame(
        cell(n=100, cases=4, indicator="four_with"),  # 4 with the outcome → hidden
        cell(n=100, cases=96, indicator="four_without"),  # 100 - 96 = 4 without → hidden
        cell(n=100, cases=5, indicator="five_with"),  # exactly 5 each side → shown
        cell(n=100, cases=95, indicator="five_without"),
    )
    result = suppress(table)
    assert status(result, indicator="four_with") == (True, PRIMARY_CASES)
    assert status(result, indicator="four_without") == (True, PRIMARY_CASES)
    assert status(result, indicator="five_with") == (False, None)
    assert status(result, indicator="five_without") == (False, None)


def test_suppress_missing_cases_means_a_mean_and_min_n_still_applies():
    table = frame(
        cell(n=100, indicator="mean_score") | {"cases": np.nan},
        cell(n=10, indicator="small_mean") | {"cases": np.nan},
    )
    result = suppress(table)
    assert status(result, indicator="mean_score") == (False, None)
    assert status(result, indicator="small_mean") == (True, PRIMARY_N)


def test_suppress_missing_n_is_suppressed():
    result = suppress(frame(cell(n=100) | {"n": np.nan, "cases": np.nan}))
    assert status(result, group="I alt") == (True, "antal svar ukendt")


def test_suppress_rules_are_configurable():
    table = frame(cell(n=40))
    assert status(suppress(table, Rules(min_n=50)), group="I alt") == (
        True,
        "færre end 50 svar",
    )
    assert status(suppress(table), group="I alt") == (False, None)


# --------------------------------------------------------------------------------- secondary


def test_suppress_sex_one_small_group_hides_the_other_and_keeps_the_total():
    table = frame(cell(n=195), cell("Kvinder", 15), cell("Mænd", 180))
    result = suppress(table, hierarchy=None)
    assert status(result, group="Kvinder") == (True, PRIMARY_N)
    assert status(result, group="Mænd") == (True, SECONDARY)
    assert status(result, group="I alt") == (False, None)
    total = result[result["group"] == "I alt"].iloc[0]
    assert total["estimate"] == 0.25 and total["n"] == 200  # 195 rounded half up


def test_suppress_education_hides_the_smallest_other_group_despite_unknown_category():
    # Five groups add to 10+60+45+80+120 = 315; the total (345) also holds 30 with unknown
    # education, which are not shown. We still treat the groups as additive: total minus the
    # shown groups would give the hidden group plus 30 unknowns.
    sizes = {
        "Grundskole": 10,  # primary
        "Gymnasial/erhvervsfaglig": 60,
        "Kort videregående": 45,  # smallest other → secondary
        "Mellemlang videregående": 80,
        "Lang videregående": 120,
    }
    table = frame(cell(n=345), *[cell(g, n, breakdown="education") for g, n in sizes.items()])
    result = suppress(table, hierarchy=None)
    expected = {
        "Grundskole": (True, PRIMARY_N),
        "Gymnasial/erhvervsfaglig": (False, None),
        "Kort videregående": (True, SECONDARY),
        "Mellemlang videregående": (False, None),
        "Lang videregående": (False, None),
        "I alt": (False, None),
    }
    assert {g: status(result, group=g) for g in expected} == expected


def test_suppress_two_primary_groups_need_no_secondary():
    # Two hidden groups: total minus the others gives only their sum.
    sizes = {"16-24 år": 12, "25-34 år": 15, "35-44 år": 100, "45-54 år": 90}
    table = frame(cell(n=217), *[cell(g, n, breakdown="age_group") for g, n in sizes.items()])
    result = suppress(table, hierarchy=None)
    assert result["suppressed"].tolist() == [False, True, True, False, False]
    assert (result["suppression_reason"] == SECONDARY).sum() == 0


def test_suppress_breakdown_own_total_row_is_the_parent():
    # The sex breakdown carries its own "I alt" row and there is no "total" breakdown.
    table = frame(cell("I alt", 195, breakdown="sex"), cell("Kvinder", 15), cell("Mænd", 180))
    result = suppress(table, hierarchy=None)
    assert result["suppressed"].tolist() == [False, True, True]


def test_suppress_hierarchy_klynge_of_three_kommuner():
    # Klynge K = A + B + C. A has 15 respondents (primary); K minus B minus C would recover it,
    # so the smaller of B (300) and C (250) is hidden: C.
    links = pd.DataFrame(
        {
            "parent_level": "sundhedsklynge",
            "parent_code": "K",
            "child_level": "kommune",
            "child_code": ["A", "B", "C"],
        }
    )
    table = frame(
        cell(n=565, level="sundhedsklynge", code="K"),
        cell(n=15, code="A"),
        cell(n=300, code="B"),
        cell(n=250, code="C"),
    )
    result = suppress(table, hierarchy=links)
    assert status(result, area_code="K") == (False, None)
    assert status(result, area_code="A") == (True, PRIMARY_N)
    assert status(result, area_code="B") == (False, None)
    assert status(result, area_code="C") == (True, SECONDARY)


def test_suppress_geography_hierarchy():
    # Sundhedsklynge Syd in Nordjylland = Vesthimmerland (820), Rebild (840), Mariagerfjord
    # (846). Rebild has 18 respondents; Vesthimmerland (210) is smaller than Mariagerfjord
    # (400), so it is hidden too. Codes given as integers must match the geography's strings.
    table = frame(
        cell(n=628, level="sundhedsklynge", code="nordjylland-klynge-syd"),
        cell(n=210, code=820),
        cell(n=18, code=840),
        cell(n=400, code=846),
    )
    assert table["area_code"].tolist()[1:] == [820, 840, 846]
    result = suppress(table, hierarchy=geography.area_hierarchy())
    assert result["suppressed"].tolist() == [False, True, True, False]
    assert result["suppression_reason"].tolist()[1:3] == [SECONDARY, PRIMARY_N]


def test_suppress_secondary_repeats_until_no_cell_is_recoverable():
    # Klynge K = A + B + C, breakdown sex. Worked by hand, round by round:
    # 1. A-Kvinder (15) primary. Sex table of A: hide A-Mænd. Kvinder across K: hide the
    #    smallest other kommune, B-Kvinder (150 < C 160).
    # 2. Sex table of B: hide B-Mænd. Mænd across K: only A-Mænd hidden → hide the smallest
    #    shown, C-Mænd (140 < B 250).
    # 3. Sex table of C: hide C-Kvinder. Now every kommune's sex cells are hidden; totals and
    #    the klynge's sex cells stay shown.
    links = pd.DataFrame(
        {
            "parent_level": "sundhedsklynge",
            "parent_code": "K",
            "child_level": "kommune",
            "child_code": ["A", "B", "C"],
        }
    )
    sizes = {
        "K": (900, 325, 575),
        "A": (200, 15, 185),
        "B": (400, 150, 250),
        "C": (300, 160, 140),
    }
    rows = []
    for code, (total, women, men) in sizes.items():
        level = "sundhedsklynge" if code == "K" else "kommune"
        rows += [
            cell(n=total, level=level, code=code),
            cell("Kvinder", women, level=level, code=code),
            cell("Mænd", men, level=level, code=code),
        ]
    result = suppress(frame(*rows), hierarchy=links)
    hidden = set(
        result.loc[result["suppressed"], ["area_code", "group"]].itertuples(index=False, name=None)
    )
    assert hidden == {
        ("A", "Kvinder"),
        ("A", "Mænd"),
        ("B", "Kvinder"),
        ("B", "Mænd"),
        ("C", "Kvinder"),
        ("C", "Mænd"),
    }
    assert status(result, area_code="A", group="Kvinder") == (True, PRIMARY_N)


def sex_age_table():
    cells = {
        "Kvinder, 16-24 år": 12,
        "Kvinder, 25+ år": 100,
        "Mænd, 16-24 år": 90,
        "Mænd, 25+ år": 110,
    }
    rows = [cell(n=312), cell("Kvinder", 112), cell("Mænd", 200)]
    rows += [
        cell("16-24 år", 102, breakdown="age_group"),
        cell("25+ år", 210, breakdown="age_group"),
    ]
    rows += [cell(g, n, breakdown="sex_age") for g, n in cells.items()]
    return frame(*rows)


def test_suppress_crossed_sex_age_margins_by_default():
    # 2 × 2 table with both margins shown: one hidden cell forces its row and column partner,
    # which force the fourth cell (a 2 × 2 table cannot be protected with fewer).
    result = suppress(sex_age_table(), hierarchy=None)
    crossed = result[result["breakdown"] == "sex_age"]
    assert crossed["suppressed"].all()
    assert not result.loc[result["breakdown"] != "sex_age", "suppressed"].any()


def test_suppress_without_margins_only_protects_the_grand_total():
    # crossed={}: only "sex_age cells add up to the total" is known. Hiding Kvinder 16-24 (12)
    # hides the smallest other cell, Mænd 16-24 (90), and stops — yet Kvinder (112) minus
    # Kvinder 25+ (100) would give the 12 back. This is why the margins are declared.
    result = suppress(sex_age_table(), hierarchy=None, crossed={})
    hidden = result.loc[result["suppressed"], "group"].tolist()
    assert hidden == ["Kvinder, 16-24 år", "Mænd, 16-24 år"]


def test_suppress_lone_child_hides_its_parent():
    # A klynge of one kommune: the klynge cell equals the kommune cell. Here the klynge row
    # differs (e.g. other respondents' codes) but would still reveal the kommune, so it is hidden.
    links = pd.DataFrame(
        {"parent_level": ["sundhedsklynge"], "parent_code": ["K"],
         "child_level": ["kommune"], "child_code": ["A"]}
    )  # fmt: skip
    table = frame(cell(n=21, level="sundhedsklynge", code="K"), cell(n=19, code="A"))
    result = suppress(table, hierarchy=links)
    assert result["suppressed"].tolist() == [True, True]
    assert result["suppression_reason"].tolist() == [SECONDARY, PRIMARY_N]


# --------------------------------------------------------------------------------- output


def test_suppress_rounds_counts_hides_weighted_counts_and_drops_cases():
    table = frame(
        cell(n=25, indicator="a") | {"weighted_n": 1234.6},
        cell(n=134, indicator="b") | {"weighted_n": 45.0},
        cell(n=15, indicator="c") | {"weighted_n": 800.0},
    )
    result = suppress(table)
    assert "cases" not in result.columns
    # 25 → 30 (half up), 134 → 130; 15 respondents: hidden.
    assert result["n"].tolist()[:2] == [30, 130] and pd.isna(result["n"].iloc[2])
    # 1234.6 → 1230; 45 < 50 → hidden; row c is suppressed → hidden.
    assert result["weighted_n"].iloc[0] == 1230
    assert result["weighted_n"].iloc[1:].isna().all()
    assert result["estimate"].iloc[1] == 0.25  # a small weighted count does not hide the estimate
    assert result.attrs["disclosure_rules"]["min_n"] == 20


def test_suppress_does_not_mutate_input():
    table = frame(cell(n=195), cell("Kvinder", 15), cell("Mænd", 180))
    table.index = [10, 20, 30]
    before = table.copy(deep=True)
    result = suppress(table, hierarchy=None)
    pd.testing.assert_frame_equal(table, before)
    assert list(result.index) == [10, 20, 30]
    assert result["suppressed"].tolist() == [False, True, True]


def test_suppress_validation_errors():
    good = frame(cell(n=100))
    with pytest.raises(ParameterError, match="year"):
        suppress(good.drop(columns="year"))
    with pytest.raises(DataValidationError, match="negative"):
        suppress(frame(cell(n=-1, cases=0)))
    with pytest.raises(DataValidationError, match="more respondents with the outcome"):
        suppress(frame(cell(n=10, cases=11)))
    with pytest.raises(DataValidationError, match="more than once"):
        suppress(frame(cell(n=100), cell(n=100)))
    with pytest.raises(ParameterError):
        suppress(good, rules={"min_n": 20})
    with pytest.raises(ParameterError):
        suppress(good, hierarchy="regions")


def test_suppress_large_table_is_consistent():
    # ~200,000 rows: 20 indicators × 5 years × 200 areas (180 "kommuner" in 20 klynger of 9) × 10 cells (total, 2 sexes, 7 age groups). Checked against the invariants: no shown
    # value below 20, and no table or klynge with exactly one hidden cell.
    rng = np.random.default_rng(1)
    kommuner = np.array([f"k{i}" for i in range(180)])
    links = pd.DataFrame(
        {
            "parent_level": "sundhedsklynge",
            "parent_code": [f"K{i // 9}" for i in range(180)],
            "child_level": "kommune",
            "child_code": kommuner,
        }
    )
    areas = pd.DataFrame(
        {
            "area_level": ["kommune"] * 180 + ["sundhedsklynge"] * 20,
            "area_code": list(kommuner) + [f"K{i}" for i in range(20)],
        }
    )
    groups = pd.DataFrame(
        {
            "breakdown": ["total"] + ["sex"] * 2 + ["age_group"] * 7,
            "group": ["I alt", "Kvinder", "Mænd"] + [f"age{i}" for i in range(7)],
        }
    )
    table = (
        pd.DataFrame({"indicator": [f"i{i}" for i in range(20)]})
        .merge(pd.DataFrame({"year": [2010, 2013, 2017, 2021, 2025]}), how="cross")
        .merge(areas, how="cross")
        .merge(groups, how="cross")
    )
    # Group cells get random sizes (about 1 in 8 below 20); totals are large so they are shown.
    n = rng.integers(5, 160, len(table))
    n[table["group"].eq("I alt").to_numpy()] = 2000
    table["n"] = n
    table["cases"] = n // 3
    table["estimate"] = 0.3
    table["se"] = table["ci_low"] = table["ci_high"] = 0.01
    assert len(table) == 200_000

    result = suppress(table, hierarchy=links)

    assert result.loc[table["n"].to_numpy() < 20, "suppressed"].all()
    assert result.loc[~result["suppressed"], "n"].ge(20).all()
    assert result.loc[result["suppressed"], "estimate"].isna().all()
    hidden = result["suppressed"].astype(int)
    per_table = (
        hidden[result["breakdown"] != "total"]
        .groupby([result[c] for c in ["indicator", "year", "area_code", "breakdown"]])
        .sum()
    )
    assert (per_table != 1).all() and (per_table >= 2).any()
    # Per klynge × indicator × year × group: hidden kommuner plus the hidden klynge cell.
    parent = result["area_code"].map(links.set_index("child_code")["parent_code"])
    klynge = parent.fillna(result["area_code"])
    per_klynge = hidden.groupby(
        [klynge] + [result[c] for c in ["indicator", "year", "group"]]
    ).sum()
    assert (per_klynge != 1).all()
    assert assert_publishable(result) is None


# --------------------------------------------------------------------------------- publishable


def test_assert_publishable_accepts_suppressed_output_and_rejects_raw_tables():
    table = frame(cell(n=195), cell("Kvinder", 15), cell("Mænd", 180))
    result = suppress(table, hierarchy=None)
    assert is_publishable(result)
    assert not is_publishable(table)  # never went through suppress, holds exact counts
    with pytest.raises(DisclosureError, match="suppressed"):
        assert_publishable(table)


def test_assert_publishable_catches_tampering():
    result = suppress(frame(cell(n=195), cell("Kvinder", 15), cell("Mænd", 180)), hierarchy=None)
    shown_again = result.copy()
    shown_again.loc[1, "estimate"] = 0.4  # a hidden value put back
    with pytest.raises(DisclosureError, match="suppressed cell"):
        assert_publishable(shown_again)
    exact = result.copy()
    exact["n"] = exact["n"].astype("Float64")
    exact.loc[0, "n"] = 195  # an exact count
    with pytest.raises(DisclosureError, match="not rounded"):
        assert_publishable(exact)
    small = result.copy()
    small.loc[0, "n"] = 10  # a shown value with a rounded count below 20
    with pytest.raises(DisclosureError, match="fewer than 20"):
        assert_publishable(small)


def test_assert_publishable_reads_formatted_tables():
    result = suppress(frame(cell(n=195), cell("Kvinder", 15), cell("Mænd", 180)), hierarchy=None)
    formatted = result.copy()
    for column in ["estimate", "se", "ci_low", "ci_high"]:
        formatted[column] = [
            disclosure.value_or_mark(v, lambda x: f"{100 * x:.1f} %".replace(".", ","))
            for v in result[column]
        ]
    assert formatted["estimate"].tolist() == ["25,0 %", "–", "–"]
    assert_publishable(formatted)
    formatted.loc[2, "estimate"] = "31,0 %"  # a hidden value typed back in as text
    with pytest.raises(DisclosureError, match="suppressed cell"):
        assert_publishable(formatted)


def test_texts_for_sentences_and_tables():
    assert SUPPRESSED_TEXT == "for få svar til at vise tallet"
    assert disclosure.value_or_text(np.nan) == SUPPRESSED_TEXT
    assert disclosure.value_or_text(0.25, lambda v: f"{v:.0%}") == "25%"
    assert disclosure.value_or_text(0.25, suppressed=True) == SUPPRESSED_TEXT
    assert disclosure.value_or_mark(None) == disclosure.SUPPRESSED_MARK == "–"
    assert "færre end 30 svar" in disclosure.footnote(Rules(min_n=30))
