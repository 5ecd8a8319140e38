"""Tests of analyse.data.validate: the corpus of broken inputs (each with its exact message), the rule
functions, and the data-quality report."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.data import validate
from analyse.data.clean import load_survey
from analyse.data.codebook import load_codebook
from analyse.errors import DataValidationError

BAD = Path(__file__).parent / "data" / "bad"
SMALL = Path(__file__).parent / "data" / "formats" / "sundhedsprofil_2021_small.csv"
with open(BAD / "cases.csv", encoding="utf-8", newline="") as handle:
    CASES = list(csv.DictReader(handle))


def _tree_digest(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_load_survey_rejects_broken_input_with_its_message(case):
    path = BAD / case["file"]
    before = _tree_digest(path)
    with pytest.raises(DataValidationError) as err:
        load_survey(path)
    message = str(err.value)
    assert case["expected"] in message
    assert case["file"] in message  # the message names the file (or folder)
    if case["column"]:
        assert f"column {case['column']!r}" in message
    assert _tree_digest(path) == before  # broken input is not "repaired" in place either


def test_bad_corpus_has_25_rules_and_every_file_is_listed():
    listed = {case["file"] for case in CASES}
    present = {
        p.name for p in BAD.iterdir() if p.name not in {"cases.csv", "README.md", "make_bad.py"}
    }
    assert listed == present
    assert len({case["rule"] for case in CASES}) >= 25


# ================================================================================================
# Rule functions
# ================================================================================================


def test_check_weights_names_rows_from_one():
    with pytest.raises(DataValidationError, match=r"\(2 rows; e\.g\. row 1, 3\)"):
        validate.check_weights(np.array([0.0, 1.5, -2.0]), "w", "f.csv")


def test_check_numeric_hints_at_decimal_comma():
    values = pd.Series(["1,78", "180", ""], dtype="str")
    with pytest.raises(DataValidationError, match="decimal=','") as err:
        validate.check_numeric(values, "hoejde", "f.csv", decimal=".")
    assert "(1 row; e.g. row 1)" in str(err.value)


def test_check_numeric_blank_text_is_missing_not_an_error():
    values = pd.Series(["1", " ", None, "4.5"], dtype="str")
    result = validate.check_numeric(values, "x", None)
    np.testing.assert_array_equal(result, [1.0, np.nan, np.nan, 4.5])


def test_out_of_range_soft_for_implausible_and_fatal_for_invalid():
    codebook = load_codebook()
    height = codebook.variables["hoejde"]
    mask = validate.out_of_range(np.array([1.78, 180, np.nan, 231]), height, "hoejde", None)
    assert mask.tolist() == [True, False, False, True]
    with pytest.raises(DataValidationError, match="valid range 16–110"):
        validate.out_of_range(np.array([15.0]), codebook.variables["alder"], "alder", None)


def test_check_required_columns_suggests_a_rename():
    codebook = load_codebook()
    columns = [c for c in codebook.required if c != "kom"] + ["KOMKODE"]
    with pytest.raises(DataValidationError, match=r"rename: \{KOMKODE: kom\}"):
        validate.check_required_columns(columns, codebook, "x.sav", unknown=["KOMKODE"])


# ================================================================================================
# The report
# ================================================================================================


@pytest.fixture(scope="module")
def report():
    _, report = load_survey(SMALL)
    return report


def test_report_by_wave_counts(report):
    by_wave = report.by_wave()
    assert by_wave.to_dict("records") == [
        {
            "year": 2021,
            "respondents": 8,
            "kommuner": 8,
            "weight_sum": pytest.approx(1991.0),
            # 6 in the answers, plus 5 "item asked but absent": the hand-typed file predates the
            # diet, self-rated health, support, long-term illness and symptom items.
            "soft_problems": 11,
            "ved_ikke": 5,
        }
    ]


def test_report_summary_names_files_problems_and_kommuner(report):
    text = report.summary()
    assert "sundhedsprofil_2021_small.csv (csv, utf-8, separator ',', decimal '.')" in text
    assert "Usandsynlig værdi sat til manglende: hoejde: 2" in text
    assert "2021       101       1" in text
    assert "SP21-" not in text  # no respondent ids


def test_report_availability_and_unknown_columns(tmp_path):
    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"}).drop(columns=["nik_snus"])
    raw["fritekst_note"] = "x"
    path = tmp_path / "sundhedsprofil_2021.csv"
    raw.to_csv(path, index=False)
    respondents, report = load_survey(path)
    assert respondents["other_nicotine_use"].isna().all()
    row = report.availability.query("variable == 'nik_snus'").iloc[0]
    assert (bool(row["asked"]), bool(row["present"])) == (True, False)
    soft = report.soft_problems
    problems = set(zip(soft["problem"], soft["variable"], strict=True))
    assert ("item_absent", "nik_snus") in problems
    assert ("unknown_column", "fritekst_note") in problems
    assert report.files["unknown_columns"].tolist() == ["fritekst_note"]
    assert "nik_snus" in report.summary()


def _sav_with_labels(tmp_path: Path, labels: dict) -> tuple[Path, pd.DataFrame]:
    import pyreadstat

    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"})
    path = tmp_path / "sundhedsprofil_2021.sav"
    pyreadstat.write_sav(raw, str(path), variable_value_labels=labels)
    return path, raw


def _codebook(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "region.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_value_labels_that_swap_the_codes_stop_the_cleaning(tmp_path):
    # The file says 1 = Kvinde, the codebook 1 = Mand: cleaning on would swap men and women.
    path, _ = _sav_with_labels(tmp_path, {"koen": {1: "Kvinde", 2: "Mand"}})
    before = _tree_digest(path)
    with pytest.raises(DataValidationError) as err:
        load_survey(path)
    message = str(err.value)
    assert str(path) in message and "column 'koen'" in message
    assert "code 1 is 'Kvinde' in the file but 'Mand' in the codebook" in message
    assert "code 2 is 'Mand' in the file but 'Kvinde' in the codebook" in message
    assert "variables: {koen: {codes: {1: Kvinde, 2: Mand}}}" in message
    assert "trust_codes: true" in message
    assert _tree_digest(path) == before


def test_value_labels_close_spelling_counts_as_the_same_label(tmp_path):
    # "Kvinder" for code 1 is the codebook's "Kvinde" (code 2) spelt in the plural: a swap.
    path, _ = _sav_with_labels(tmp_path, {"koen": {1: "Kvinder", 2: "Mænd"}})
    with pytest.raises(DataValidationError, match="code 1 is 'Kvinder' in the file"):
        load_survey(path)


def test_value_labels_that_only_differ_are_reported_not_fatal(tmp_path):
    # Another wording of the same codes is no contradiction: reported in the quality report.
    path, _ = _sav_with_labels(
        tmp_path, {"koen": {1: "Han", 2: "Hun"}, "udd": {4: "Kort videregående"}}
    )
    _, report = load_survey(path)
    mismatches = report.label_mismatches
    assert mismatches[["variable", "code", "file_label"]].values.tolist() == [
        ["koen", 1.0, "Han"],
        ["koen", 2.0, "Hun"],
        ["udd", 4.0, "Kort videregående"],
    ]
    assert "label_mismatch" in set(report.soft_problems["problem"])


def test_value_labels_trust_codes_keeps_the_codes_and_reports(tmp_path):
    path, raw = _sav_with_labels(tmp_path, {"koen": {1: "Kvinde", 2: "Mand"}})
    codebook = _codebook(
        tmp_path, "extends: sundhedsprofil\nvariables:\n  koen: {trust_codes: true}\n"
    )
    respondents, report = load_survey(path, codebook)
    # Codes trusted: code 1 stays "Mænd" whatever the label says.
    expected = raw["koen"].map({1: "Mænd", 2: "Kvinder"})
    assert respondents["sex"].astype(object).equals(expected.astype(object))
    assert set(report.label_mismatches["variable"]) == {"koen"}


def test_value_labels_agree_with_an_extending_codebook_that_states_the_file_codes(tmp_path):
    # The same file, with the codebook saying what the codes mean: labels agree, sexes right.
    path, raw = _sav_with_labels(tmp_path, {"koen": {1: "Kvinde", 2: "Mand"}})
    codebook = _codebook(
        tmp_path,
        "extends: sundhedsprofil\nvariables:\n  koen:\n    codes: {1: Kvinde, 2: Mand}\n",
    )
    respondents, report = load_survey(path, codebook)
    expected = raw["koen"].map({1: "Kvinder", 2: "Mænd"})
    assert respondents["sex"].astype(object).equals(expected.astype(object))
    assert report.label_mismatches.empty


# ================================================================================================
# `analyse check`
# ================================================================================================


def test_cli_check_synthetic_delivery_exits_0(tmp_path, capsys):
    from analyse.data import synth
    from analyse.run.cli import main

    # Scale 0.12: at smaller scales the generator still rakes a few weights to 0 (issue 3),
    # which `check` rightly rejects.
    synth.write_delivery(tmp_path, scale=0.12, fmt="parquet")
    assert main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sundhedsprofil_2023.parquet (parquet)" in out
    assert "no fatal problems" in out
    assert "registerdata" not in out  # register and status tables are not survey files
    for year in ("2010", "2013", "2017", "2021", "2023", "2025"):
        assert f"\n{year} " in out


def test_cli_check_bad_file_exits_non_zero_with_the_message(capsys):
    from analyse.run.cli import main

    assert main(["check", str(BAD / "unknown_kommune.csv")]) != 0
    err = capsys.readouterr().err
    assert "unknown_kommune.csv" in err
    assert "unknown kommune codes (e.g. 999)" in err


def test_cli_check_uses_the_given_codebook(tmp_path, capsys):
    from analyse.run.cli import main

    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"}).rename(columns={"vaegt_kal": "VGT"})
    path = tmp_path / "udtraek.csv"
    raw.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252")
    assert main(["check", str(path)]) != 0
    assert "rename: {VGT: vaegt_kal}" in capsys.readouterr().err
    source = Path(load_codebook().path).read_text(encoding="utf-8")
    codebook = tmp_path / "kodebog.yml"
    codebook.write_text(source.replace("rename: {}", "rename: {VGT: vaegt_kal}"), encoding="utf-8")
    assert main(["check", str(path), "--codebook", str(codebook)]) == 0
    assert "renamed: VGT → vaegt_kal" in capsys.readouterr().out


# ================================================================================================
# Weights: warnings when they do not look like calibration weights
# ================================================================================================


def _wave(weights, kommuner, year=2021, national=False) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": year,
            "kommune_code": kommuner,
            "stratum": [f"{year}-DK" if national else f"{year}-{k}" for k in kommuner],
            "weight": np.asarray(weights, dtype=float),
        }
    )


def test_weight_checks_hand_computed_design_effect_and_sum():
    # Kommune 1: weights 10, 20, 30 → n Σw²/(Σw)² = 3·1400/3600 = 7/6. Kommune 2: 40, 40 → 1.
    # Pooled with the strata's respondents as weights: (3·7/6 + 2·1)/5 = 1.1.
    wave = _wave([10, 20, 30, 40, 40], [1, 1, 1, 2, 2])
    checks = validate.weight_checks(wave, {1: 80, 2: 60, 3: 1000})
    row = checks.iloc[0]
    assert row["deff_within"] == pytest.approx(1.1, abs=1e-12)
    assert row["weight_sum"] == 140 and row["population_16plus"] == 140  # kommune 3 absent
    assert row["sum_ratio"] == 1.0 and row["problems"] == "" and row["message"] == ""


def test_weight_checks_constant_weights_say_unweighted():
    checks = validate.weight_checks(_wave([1, 1, 1, 1], [1, 1, 2, 2]), {1: 2000, 2: 2000})
    row = checks.iloc[0]
    assert row["problems"] == "constant,sum"
    assert "every weight is 1: the estimates of this wave are unweighted" in row["message"]
    assert "0.1% of the population aged 16+ of the 2 kommuner present (4,000)" in row["message"]


def test_weight_checks_sum_far_from_the_population():
    # Calibration weights rescaled to mean 1 (sum = respondents): a factor 1,000 off.
    wave = _wave([0.5, 1.5, 0.8, 1.2], [1, 1, 2, 2])
    checks = validate.weight_checks(wave, {1: 2000, 2: 2000})
    assert checks.iloc[0]["problems"] == "sum"
    # Within the tolerance (population since changed, approximated 16+ share): no warning.
    ok = _wave([1000, 1700, 1100, 1500], [1, 1, 2, 2])
    assert validate.weight_checks(ok, {1: 2000, 2: 2000}).iloc[0]["problems"] == ""
    # A national wave is compared with the whole population.
    national = _wave([800.0, 1200.0], [1, 2], year=2023, national=True)
    row = validate.weight_checks(national, {1: 700, 2: 700, 3: 700}).iloc[0]
    assert row["population_16plus"] == 2100 and row["problems"] == ""


def test_weight_checks_implausible_design_effect_both_ends():
    # Design weights only: constant within each kommune, different between them.
    design = _wave([500, 500, 1500, 1500], [1, 1, 2, 2])
    row = validate.weight_checks(design, {1: 1000, 2: 3000}).iloc[0]
    assert row["problems"] == "deff" and row["deff_within"] == 1.0
    assert "do not vary within a kommune" in row["message"]
    # One respondent carries nearly all the weight: n Σw²/(Σw)² = 8·(7 + 4000²)/4007² ≈ 7.97.
    heavy = _wave([1, 1, 1, 1, 1, 1, 1, 4000], [1] * 8)
    row = validate.weight_checks(heavy, {1: 4007}).iloc[0]
    assert row["problems"] == "deff"
    assert row["deff_within"] == pytest.approx(8 * (7 + 4000**2) / 4007**2)
    assert "a few respondents carry most of the weight" in row["message"]


def test_load_survey_reports_the_weight_check_and_check_prints_it(tmp_path, capsys):
    from analyse.run.cli import main

    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"})
    raw["vaegt_kal"] = 1.0
    path = tmp_path / "sundhedsprofil_2021.csv"
    raw.to_csv(path, index=False)
    _, report = load_survey(path)
    assert report.weights["problems"].tolist() == ["constant,sum"]
    assert report.weight_warnings()[0].startswith("2021: every weight is 1")
    assert main(["check", str(path)]) == 0  # a warning, not fatal
    out = capsys.readouterr().out
    assert "WARNING: weights that do not look like calibration weights" in out
    assert "1 wave(s) with weight warnings" in out
