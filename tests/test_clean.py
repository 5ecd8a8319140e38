"""Tests of analyse.data.clean: each derivation on hand-worked cases, the canonical table, and the
synthetic delivery's truth reproduced exactly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.data import synth
from analyse.data.clean import (
    AGE_GROUPS,
    CANONICAL_COLUMNS,
    INDICATORS,
    alcohol_over_10,
    bmi,
    clean_survey,
    daily_smoking,
    depressive_symptoms,
    good_self_rated_health,
    high_stress,
    load_survey,
    loneliness,
    long_term_illness,
    low_social_support,
    other_nicotine_use,
    physically_active,
    poor_mental_health,
    pss_score,
    quality_tables,
    severe_obesity,
    tils_score,
    unhealthy_diet,
    weekly_units,
)
from analyse.data.codebook import load_codebook
from analyse.errors import DataValidationError

FORMATS = Path(__file__).parent / "data" / "formats"
SMALL = FORMATS / "sundhedsprofil_2021_small.csv"
EXPECTED = FORMATS / "sundhedsprofil_2021_small_expected.csv"
NAN = np.nan
PSS = [f"pss{i:02d}" for i in range(1, 11)]
REVERSE = ["pss04", "pss05", "pss07", "pss08"]


def same(actual, expected) -> bool:
    """Equal arrays with NaN in the same places."""
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    return actual.shape == expected.shape and bool(
        np.all((actual == expected) | (np.isnan(actual) & np.isnan(expected)))
    )


def pss(*rows) -> dict[str, list[float]]:
    return {name: [row[j] for row in rows] for j, name in enumerate(PSS)}


# ================================================================================================
# Derivations, hand-worked
# ================================================================================================


def test_poor_mental_health_below_cutoff_only():
    result = poor_mental_health([20.0, 35.75, 35.76, 50.0, NAN], mcs_below=35.76)
    assert same(result, [1, 1, 0, 0, NAN])


def test_pss_score_reverse_items_and_prorating():
    rows = [
        [2] * 10,  # 10 × 2 (reversed 4 − 2 = 2) = 20
        [1, 1, 1, 3, 3, 1, 3, 3, 1, 1],  # positive items answered 3 score 1: 10 × 1 = 10
        [4, 4, 4, 0, 0, 4, NAN, 0, 4, 4],  # one missing: 9 × 4 = 36, 36 / 9 × 10 = 40
        [1, 2, NAN, 3, 4, 1, 2, 4, NAN, 0],  # two missing: 1+2+1+0+1+2+0+0 = 7, 7/8 × 10 = 8.75
        [NAN, NAN, NAN, 2, 2, 2, 2, 2, 2, 2],  # three missing: no score
    ]
    score = pss_score(pss(*rows), reverse_items=REVERSE, max_missing_items=2)
    assert same(score, [20, 10, 40, 8.75, NAN])


def test_high_stress_cutoff_18_inclusive_and_prorated():
    rows = [
        [2, 2, 2, 2, 2, 2, 2, 2, 1, 1],  # 18 → high
        [2, 2, 2, 2, 2, 2, 2, 2, 1, 0],  # 17 → not high
        [2, 2, 2, 2, 2, 2, 2, 2, 1, NAN],  # 17 / 9 × 10 = 18.9 → high
        [2, 2, 2, 2, 2, 2, 2, 2, 0, NAN],  # 16 / 9 × 10 = 17.8 → not high
        [NAN, NAN, NAN, 0, 0, 0, 0, 0, 0, 0],  # too many missing
    ]
    result = high_stress(pss(*rows), reverse_items=REVERSE, max_missing_items=2, cutoff=18)
    assert same(result, [1, 0, 1, 0, NAN])


def test_high_stress_each_reverse_item_of_the_shipped_codebook_flips_a_respondent():
    # One respondent per positively worded item k (pss04, pss05, pss07, pss08): k answered 0
    # (scored 4 − 0 = 4), the other three reverse items answered 2 (scored 2), the six negative
    # items 2, 2, 1, 1, 1, 1 (sum 8): score = 8 + 3 × 2 + 4 = 18 → high stress. Were k scored
    # as answered (not reversed), the score would be 8 + 6 + 0 = 14 → not high: each row fails
    # if its item is missing from the codebook's reverse list, and a fifth row (every reverse
    # item answered 4, scored 0: 8 + 0 = 8 wrongly becoming 24) fails if an item is added.
    parameters = load_codebook().derivations["high_stress"]
    negative = iter([2, 2, 1, 1, 1, 1])
    base = {name: (2 if name in REVERSE else next(negative)) for name in PSS}
    rows = [[0 if name == k else base[name] for name in PSS] for k in REVERSE]
    rows.append([4 if name in REVERSE else base[name] for name in PSS])
    items = pss(*rows)
    assert same(pss_score(items, reverse_items=parameters["reverse_items"]), [18] * 4 + [8])
    result = high_stress(
        items,
        reverse_items=parameters["reverse_items"],
        max_missing_items=parameters["max_missing_items"],
        cutoff=parameters["cutoff"],
    )
    assert same(result, [1, 1, 1, 1, 0])


def test_tils_score_and_loneliness_any_missing_item_is_missing():
    items = {"tils1": [1, 3, 2, 3, 3], "tils2": [1, 2, 2, 3, 3], "tils3": [1, 2, 2, 3, NAN]}
    assert same(tils_score(items), [3, 7, 6, 9, NAN])
    assert same(loneliness(items, cutoff=7), [0, 1, 0, 1, NAN])


def test_bmi_formula_range_and_severe_obesity():
    height = [180, 200, 150, 125, NAN, 230]
    weight = [81, 120, 150, 200, 70, 30]
    # 81 / 1.8² = 25; 120 / 2² = 30; 150 / 1.5² = 66.7; 200 / 1.25² = 128 (outside 12-70);
    # height missing; 30 / 2.3² = 5.7 (outside).
    values = bmi(height, weight, bmi_range=[12, 70])
    assert same(values, [25, 30, 150 / 1.5**2, NAN, NAN, NAN])
    assert same(severe_obesity(values, bmi_cutoff=30), [0, 1, 1, NAN, NAN, NAN])


def test_weekly_units_blank_days_count_as_zero_unless_all_blank():
    days = {
        "man": [NAN, NAN, NAN, 0, 2, 1],
        "tir": [NAN, NAN, NAN, 0, 2, NAN],
        "ons": [NAN, NAN, NAN, 0, 2, NAN],
        "tor": [NAN, NAN, NAN, 0, 2, NAN],
        "fre": [5, NAN, NAN, 0, 2, NAN],
        "loer": [6, 10, NAN, 0, 2, NAN],
        "soen": [NAN, NAN, NAN, 0, 0, NAN],
    }
    unusable = [False, False, False, False, False, True]
    assert same(weekly_units(days, unusable=unusable), [11, 10, NAN, 0, 12, NAN])
    assert same(alcohol_over_10(days, units_above=10, unusable=unusable), [1, 0, NAN, 0, 1, NAN])


def test_daily_smoking_code_1_only():
    assert same(daily_smoking([1, 2, 3, 4, NAN], daily_code=1), [1, 0, 0, 0, NAN])


def test_other_nicotine_use_any_product_or_all_answered_no():
    items = {
        "ecig": [4, 1, NAN, NAN, 4, 4],
        "snus": [4, 4, 3, 4, 4, 4],
        "poser": [4, 4, 4, 4, 2, 4],
        "opvarmet": [4, 4, 4, 4, 4, NAN],
    }
    # all "Nej" → 0; daily e-cigarettes → 1; snus while e-cig unanswered → 1;
    # "Nej" to three but one unanswered → missing; weekly pouches → 1; one unanswered → missing.
    result = other_nicotine_use(items, use_codes=[1, 2, 3])
    assert same(result, [0, 1, 1, NAN, 1, NAN])


def test_physically_active_who_minimum_with_vigorous_counting_double():
    moderate = [150, 100, 100, NAN, 0, 149]
    vigorous = [0, 25, 24, 100, 75, NAN]
    result = physically_active(moderate, vigorous, minutes=150, vigorous_factor=2)
    assert same(result, [1, 1, 0, NAN, 1, NAN])


def test_unhealthy_diet_is_the_usundt_group_only():
    # 1 Sundt, 2 Middel, 3 Usundt; a missing group stays missing.
    assert same(unhealthy_diet([1, 2, 3, NAN], unhealthy_codes=[3]), [0, 0, 1, NAN])


def test_good_self_rated_health_fremragende_to_godt():
    # 1 Fremragende, 2 Vældig godt, 3 Godt → 1; 4 Mindre godt, 5 Dårligt → 0.
    result = good_self_rated_health([1, 2, 3, 4, 5, NAN], good_codes=[1, 2, 3])
    assert same(result, [1, 1, 1, 0, 0, NAN])


def test_low_social_support_never_or_almost_never_only():
    # "Ja, nogle gange" (3) is support, however seldom; only 4 "Nej, aldrig eller næsten aldrig".
    assert same(low_social_support([1, 2, 3, 4, NAN], low_codes=[4]), [0, 0, 0, 1, NAN])


def test_long_term_illness_yes_only():
    assert same(long_term_illness([1, 2, NAN], yes_codes=[1]), [1, 0, NAN])


def test_depressive_symptoms_very_bothered_only():
    # 1 "Ja, meget generet" → 1; 2 "Ja, lidt generet" and 3 "Nej" → 0.
    assert same(depressive_symptoms([1, 2, 3, NAN], bothered_codes=[1]), [1, 0, 0, NAN])


def test_clean_survey_single_item_indicators_hand_worked(small_raw):
    # The eight hand-typed respondents with the five single items added, missing codes included;
    # the expected values are read off the codebook's codes by hand.
    raw = small_raw.assign(
        kostmoenster=[3, 1, 2, 9, NAN, 3, 2, 1],
        selvvurd_helbred=[1, 3, 4, 5, 8, 9, NAN, 2],
        stoette=[4, 3, 1, 8, 4, 2, 9, NAN],
        langv_sygdom=[1, 2, 2, 1, 9, 8, 1, NAN],
        gener_nedtrykt=[2, 1, 3, 1, 8, NAN, 9, 3],
    )
    result = clean_survey(raw)
    assert same(result["unhealthy_diet"], [1, 0, 0, NAN, NAN, 1, 0, 0])
    assert same(result["good_self_rated_health"], [1, 1, 0, 0, NAN, NAN, NAN, 1])
    assert same(result["low_social_support"], [1, 0, 0, NAN, 1, 0, NAN, NAN])
    assert same(result["long_term_illness"], [1, 0, 0, 1, NAN, NAN, 1, NAN])
    assert same(result["depressive_symptoms"], [0, 1, 0, 1, NAN, NAN, NAN, 0])


def test_derivations_read_parameters_from_the_codebook(tmp_path):
    text = load_codebook().path
    source = Path(text).read_text(encoding="utf-8")
    stricter = source.replace("{item: mcs, mcs_below: 35.76}", "{item: mcs, mcs_below: 50}")
    assert stricter != source
    path = tmp_path / "codebook.yml"
    path.write_text(stricter, encoding="utf-8")
    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"})
    result = clean_survey(raw, path)
    # MCS 52.3, 30.1, -, 35.76, 35.75, 60, 40, 999 against a cut-off of 50
    assert same(result["poor_mental_health"], [0, 1, NAN, 1, 1, 0, 1, NAN])


# ================================================================================================
# clean_survey: the canonical table
# ================================================================================================


@pytest.fixture(scope="module")
def small_raw() -> pd.DataFrame:
    return pd.read_csv(SMALL, dtype={"lbnr": "str"})


def test_clean_survey_hand_worked_respondents(small_raw):
    result = clean_survey(small_raw, file=str(SMALL))
    expected = pd.read_csv(EXPECTED)
    assert result["respondent_id"].tolist() == expected["respondent_id"].tolist()
    for column in INDICATORS:
        assert same(result[column], expected[column]), column
    for column in ("sex", "age_group", "education", "labour_market"):
        got = [None if pd.isna(v) else v for v in result[column]]
        want = [None if pd.isna(v) else v for v in expected[column]]
        assert got == want, column


def test_clean_survey_columns_and_types(small_raw):
    result = clean_survey(small_raw)
    assert tuple(result.columns) == CANONICAL_COLUMNS
    for column in ("year", "kommune_code", "region_code", "age"):
        assert result[column].dtype == "int64", column
    assert result["weight"].dtype == "float64"
    assert pd.api.types.is_string_dtype(result["respondent_id"])
    assert pd.api.types.is_string_dtype(result["stratum"])
    assert list(result["sex"].cat.categories) == ["Mænd", "Kvinder"]
    assert not result["sex"].cat.ordered
    assert tuple(result["age_group"].cat.categories) == AGE_GROUPS
    assert result["age_group"].cat.ordered
    assert result["education"].cat.ordered
    assert list(result["education"].cat.categories) == [
        "Grundskole",
        "Gymnasial eller erhvervsfaglig",
        "Kort videregående",
        "Mellemlang videregående",
        "Lang videregående",
    ]
    assert not result["labour_market"].cat.ordered
    for column in INDICATORS:
        assert result[column].dtype == "float64"
        assert set(result[column].dropna()) <= {0.0, 1.0}


def test_clean_survey_region_and_kommune_strata(small_raw):
    result = clean_survey(small_raw)
    assert result["region_code"].tolist() == [1083, 1082, 1081, 1084, 1081, 1084, 1085, 1083]
    assert result["stratum"].tolist()[:3] == ["2021-461", "2021-751", "2021-851"]


def test_clean_survey_national_wave_has_one_stratum(small_raw):
    national = small_raw.assign(aar=2023, stratum=1)
    result = clean_survey(national)
    assert set(result["stratum"]) == {"2023-DK"}
    assert result["kommune_code"].tolist() == small_raw["kom"].tolist()


def test_clean_survey_education_missing_under_25(small_raw):
    result = clean_survey(small_raw)
    young = result["age"] < 25
    assert result.loc[young, "education"].isna().all()
    assert result.loc[result["age"] == 25, "education"].tolist() == ["Mellemlang videregående"]


def test_clean_survey_age_group_boundaries():
    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"}).head(7)
    raw["alder"] = [16, 24, 25, 64, 65, 74, 75]
    result = clean_survey(raw)
    assert result["age_group"].tolist() == [
        "16-24",
        "16-24",
        "25-34",
        "55-64",
        "65-74",
        "65-74",
        "75+",
    ]


def test_clean_survey_does_not_change_its_input(small_raw):
    before = small_raw.copy()
    clean_survey(small_raw)
    pd.testing.assert_frame_equal(small_raw, before)


def test_clean_survey_does_not_write_into_its_input_without_missing_codes(small_raw, tmp_path):
    # Without a missing code for MCS, 999 is merely implausible and set missing: in the copy.
    source = Path(load_codebook().path).read_text(encoding="utf-8")
    block = "    range: [0, 100]\n    out_of_range: implausible\n    missing: [999]\n"
    assert block in source
    path = tmp_path / "codebook.yml"
    path.write_text(source.replace(block, block.replace("    missing: [999]\n", "")), "utf-8")
    parquet = tmp_path / "sundhedsprofil_2021.parquet"
    small_raw.to_parquet(parquet)
    raw = pd.read_parquet(parquet)
    before = raw.copy()
    result = clean_survey(raw, path)
    assert np.isnan(result["poor_mental_health"].iloc[7])
    pd.testing.assert_frame_equal(raw, before)


def test_clean_survey_items_absent_give_missing_indicators(small_raw):
    without = small_raw.drop(columns=["tils1", "tils2", "tils3", "akt_moderat", "akt_haard"])
    result = clean_survey(without)
    assert result["loneliness"].isna().all()
    assert result["physically_active"].isna().all()
    assert result["daily_smoking"].notna().any()


def test_clean_survey_items_before_their_first_wave_are_ignored(small_raw):
    # A 2017 file that (wrongly) holds the 2021 items: loneliness is not comparable, so unused.
    result = clean_survey(small_raw.assign(aar=2017))
    for column in ("loneliness", "other_nicotine_use", "physically_active"):
        assert result[column].isna().all(), column
    assert same(result["daily_smoking"], [0, 1, NAN, 0, 0, NAN, 0, 1])


def test_clean_survey_renamed_extract(small_raw, tmp_path):
    # A user's extract: other names (and SAS-style upper case) handled by the rename section.
    renamed = small_raw.rename(
        columns={"lbnr": "PNR_LOEBENR", "kom": "KOMKODE", "vaegt_kal": "WGT", "alder": "ALDER"}
    )
    renamed["ekstra_variabel"] = 1
    source = Path(load_codebook().path).read_text(encoding="utf-8")
    text = source.replace("rename: {}", "rename: {PNR_LOEBENR: lbnr, KOMKODE: kom, WGT: vaegt_kal}")
    path = tmp_path / "mit_udtraek.yml"
    path.write_text(text, encoding="utf-8")
    result = clean_survey(renamed, path)
    reference = clean_survey(small_raw)
    pd.testing.assert_frame_equal(result, reference)


def test_clean_survey_without_rename_names_the_missing_column(small_raw):
    renamed = small_raw.rename(columns={"vaegt_kal": "WGT"})
    with pytest.raises(DataValidationError, match=r"missing required column.*vaegt_kal") as err:
        clean_survey(renamed, file="mit_udtraek.csv")
    assert "rename: {WGT: vaegt_kal}" in str(err.value)
    assert "mit_udtraek.csv" in str(err.value)


def test_clean_survey_numeric_ids_become_text(small_raw):
    raw = small_raw.assign(lbnr=np.arange(1, 9, dtype=float))
    result = clean_survey(raw)
    assert result["respondent_id"].tolist() == [str(i) for i in range(1, 9)]


# ================================================================================================
# load_survey and the report
# ================================================================================================


def test_load_survey_report_counts_soft_problems(tmp_path):
    path = tmp_path / SMALL.name
    path.write_bytes(SMALL.read_bytes())
    respondents, report = load_survey(path)
    assert len(respondents) == 8
    soft = report.soft_problems.groupby(["problem", "variable"])["count"].sum().to_dict()
    assert soft[("implausible_value", "hoejde")] == 2  # 1.78 m and 231 cm
    assert soft[("implausible_value", "alk_man")] == 1  # 70 units on a Monday
    assert soft[("implausible_value", "akt_moderat")] == 1  # 6000 minutes
    assert soft[("bmi_outside_range", "hoejde/kropsvaegt")] == 1  # 125 cm, 200 kg
    assert soft[("pss_too_many_missing", "pss")] == 1
    dont_know = report.missing_codes[report.missing_codes["label"] == "ved ikke"]
    assert dont_know["count"].sum() == 5  # pss01, tils3, pss09, rygning, nik_ecig
    assert report.respondents["respondents"].sum() == 8
    assert report.respondents["weight_sum"].sum() == pytest.approx(1991.0)
    row = report.missingness.query("variable == 'mcs'")
    assert row["missing"].sum() == 2  # a blank and 999
    education = report.recodes.query("recode == 'education'")
    assert education.loc[education["raw_code"] == 6, "count"].sum() == 2
    assert education.loc[education["category"].str.startswith("Under 25"), "count"].sum() == 2


def test_report_holds_no_respondent_rows(tmp_path):
    path = tmp_path / SMALL.name
    path.write_bytes(SMALL.read_bytes())
    respondents, report = load_survey(path)
    ids = set(respondents["respondent_id"])
    for name, table in report.tables().items():
        assert "respondent_id" not in table.columns, name
        assert not ids & set(table.astype(str).to_numpy().ravel()), name


def test_quality_tables_have_danish_headings(tmp_path):
    path = tmp_path / SMALL.name
    path.write_bytes(SMALL.read_bytes())
    _, report = load_survey(path)
    tables = quality_tables(report)
    assert {"Kommune", "Svarpersoner", "Vægt, median"} <= set(tables["respondents"].columns)
    assert "Ved ikke" in tables["by_wave"].columns
    assert "København" in set(tables["respondents"]["Kommune"])


def test_load_survey_folder_skips_other_files_and_checks_ids_across_files(tmp_path):
    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"})
    raw.to_csv(tmp_path / "sundhedsprofil_2021.csv", index=False)
    raw.assign(aar=2025).to_csv(tmp_path / "sundhedsprofil_2025.csv", index=False)
    (tmp_path / "README.md").write_text("Data", encoding="utf-8")
    pd.DataFrame({"aar": [2024], "kommunekode": [101]}).to_csv(
        tmp_path / "registerdata.csv", index=False
    )
    respondents, report = load_survey(tmp_path)
    assert respondents.groupby("year").size().to_dict() == {2021: 8, 2025: 8}
    assert report.files["file"].tolist() == ["sundhedsprofil_2021.csv", "sundhedsprofil_2025.csv"]
    raw.to_csv(tmp_path / "sundhedsprofil_2021_igen.csv", index=False)
    with pytest.raises(DataValidationError, match="also occur in sundhedsprofil_2021.csv"):
        load_survey(tmp_path)


# ================================================================================================
# The synthetic delivery: the cleaning reproduces the generator's truth exactly
# ================================================================================================


def _truth(delivery: synth.Delivery) -> pd.DataFrame:
    return pd.concat([w.truth for w in delivery.waves.values()], ignore_index=True)


def _assert_truth_reproduced(respondents: pd.DataFrame, truth: pd.DataFrame) -> None:
    merged = respondents.merge(
        truth, on=["respondent_id", "year"], how="outer", suffixes=("", "_truth"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), "respondents lost or invented"
    for indicator in INDICATORS:
        expected = merged.get(f"{indicator}_truth", pd.Series(np.nan, index=merged.index))
        # The truth has no column for waves where the items were not asked: missing there.
        assert same(merged[indicator], expected.astype(float)), indicator


@pytest.fixture(scope="module")
def small_delivery() -> synth.Delivery:
    return synth.generate(scale=0.05)


@pytest.mark.parametrize("fmt", synth.FORMATS)
def test_clean_survey_reproduces_synthetic_truth_in_every_format(fmt, small_delivery, tmp_path):
    from analyse.data import io

    synth.write_delivery(tmp_path, scale=0.05, fmt=fmt)
    parts = []
    for path in io.survey_files(tmp_path):
        raw = io.read_table(path, text_columns=["lbnr"]).data
        # The small-scale generator sometimes rakes a weight down to 0 (reported to issue 3);
        # weights are not what this test is about, so they are made positive in memory only.
        weight = raw["vaegt_kal"].astype(float)
        raw = raw.assign(vaegt_kal=weight.where(weight > 0, 1.0))
        parts.append(clean_survey(raw, file=str(path)))
    _assert_truth_reproduced(pd.concat(parts, ignore_index=True), _truth(small_delivery))


@pytest.mark.slow
def test_load_survey_full_default_reproduces_truth(tmp_path):
    delivery = synth.generate(scale=1.0)
    paths = synth.write_delivery(tmp_path, scale=1.0, fmt="parquet")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    respondents, report = load_survey(tmp_path)  # speed is measured in bench/, not asserted
    assert len(respondents) == sum(len(w.raw) for w in delivery.waves.values())
    _assert_truth_reproduced(respondents, _truth(delivery))
    assert set(respondents.loc[respondents["year"] == 2023, "stratum"]) == {"2023-DK"}
    assert respondents.loc[respondents["year"] == 2021, "stratum"].nunique() == 98
    assert report.respondents["respondents"].sum() == len(respondents)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths} == before
