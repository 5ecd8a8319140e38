"""Tests of analyse.data.codebook: the shipped codebook, column matching with renames, per-wave
availability and the schema errors a user's own codebook can run into."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyse.data.codebook import DERIVATION_PARAMETERS, load_codebook
from analyse.errors import DataValidationError


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def source(codebook) -> str:
    return Path(codebook.path).read_text(encoding="utf-8")


def write_variant(tmp_path: Path, source: str, old: str, new: str) -> Path:
    assert old in source, old
    path = tmp_path / "codebook.yml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    return path


def test_load_codebook_shipped_design_variables_are_required(codebook):
    assert codebook.required == [
        "lbnr", "aar", "kom", "stratum", "vaegt_kal", "koen", "alder", "udd", "beskaeft",
    ]  # fmt: skip
    assert codebook.raw_name("weight") == "vaegt_kal"
    assert codebook.raw_name("respondent_id") == "lbnr"


def test_load_codebook_every_derivation_has_its_parameters(codebook):
    for indicator, keys in DERIVATION_PARAMETERS.items():
        assert set(keys) <= set(codebook.derivations[indicator]), indicator
    assert codebook.derivations["high_stress"]["reverse_items"] == [
        "pss04", "pss05", "pss07", "pss08",
    ]  # fmt: skip


def test_load_codebook_recodes_in_danish(codebook):
    assert codebook.recodes["sex"].labels == ("Mænd", "Kvinder")
    assert codebook.recodes["education"].min_age == 25
    assert len(codebook.recodes["education"].labels) == 5
    assert codebook.missing_labels[8] == "ved ikke"


def test_availability_items_asked_from_2021(codebook):
    table = codebook.availability()
    assert table.loc["tils1"].to_dict() == {
        2010: False, 2013: False, 2017: False, 2021: True, 2023: True, 2025: True,
    }  # fmt: skip
    assert table.loc["pss01"].all()
    assert "akt_haard" not in codebook.asked(2017)
    assert "akt_haard" in codebook.asked(2023)


def test_match_columns_exact_rename_and_case(tmp_path, source):
    path = write_variant(tmp_path, source, "rename: {}", "rename: {PNR: lbnr, Vaegt: vaegt_kal}")
    codebook = load_codebook(path)
    match = codebook.match_columns(["PNR", "vaegt", "AAR", "kom", "note"])
    assert match.mapping == {"PNR": "lbnr", "vaegt": "vaegt_kal", "AAR": "aar", "kom": "kom"}
    assert match.renamed == {"PNR": "lbnr", "vaegt": "vaegt_kal", "AAR": "aar"}
    assert match.unknown == ["note"]
    assert codebook.id_columns() == {"lbnr", "PNR"}


def test_match_columns_two_columns_for_one_variable(codebook):
    with pytest.raises(DataValidationError, match="both 'alder' and 'ALDER' match") as err:
        codebook.match_columns(["alder", "ALDER"], file="udtraek.sav")
    assert "udtraek.sav" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("rename: {}", "rename: {X: ukendt}", "renames to 'ukendt'"),
        ("waves: [", "vaerdier: 1\nwaves: [", "unknown field(s) vaerdier"),
        ("  loneliness: {items: [tils1, tils2, tils3], cutoff: 7}", "", "derivations.loneliness"),
        ("{item: rygning, daily_code: 1}", "{item: rygning}", "missing parameter(s) daily_code"),
        ("{item: rygning, daily_code: 1}", "{item: ryger, daily_code: 1}", "['ryger']"),
        ("      - {label: Kort videregående, codes: [4]}\n", "", "codes [4] of udd"),
        ("    type: id\n", "    type: tekst\n", "type 'tekst'"),
    ],
)
def test_load_codebook_schema_errors_name_the_place(tmp_path, source, old, new, message):
    path = write_variant(tmp_path, source, old, new)
    with pytest.raises(DataValidationError) as err:
        load_codebook(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_load_codebook_missing_file_is_named(tmp_path):
    with pytest.raises(DataValidationError, match="cannot open the codebook"):
        load_codebook(tmp_path / "findes_ikke.yml")
