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


# ================================================================================================
# A user's codebook that extends the shipped one
# ================================================================================================

FOREIGN = Path(__file__).parent / "data" / "foreign" / "region.yml"


def write(tmp_path: Path, text: str, name: str = "region.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extending_codebook_states_only_what_differs(codebook):
    region = load_codebook(FOREIGN)
    assert region.name == "region-syddanmark-udtraek"
    assert region.rename["bopkom"] == "kom" and region.rename["vægt_kalib"] == "vaegt_kal"
    sex = region.variables["koen"]
    # The file's codes, and by label the shipped codes they stand for (shipped: 1 Mand, 2 Kvinde).
    assert sex.file_coding == {1: "Kvinde", 2: "Mand"}
    assert sex.codes == codebook.variables["koen"].codes
    assert sex.to_codebook_codes() == {1: 2, 2: 1}
    assert sex.missing == (7, 9)
    assert region.variables["herkomst"].required
    # Everything not mentioned is the shipped codebook's: items, recodes, derivations.
    assert region.variables["pss04"] == codebook.variables["pss04"]
    assert region.recodes == codebook.recodes
    assert region.derivations == codebook.derivations
    assert region.sources == (str(FOREIGN.resolve()), codebook.path)
    assert region.sha256 and region.sha256 != codebook.sha256


def test_extending_codebook_rename_only(tmp_path, codebook):
    # The README's "small codebook with a rename: section".
    region = load_codebook(write(tmp_path, "extends: sundhedsprofil\nrename: {PNR: lbnr}\n"))
    assert region.match_columns(["PNR"]).mapping == {"PNR": "lbnr"}
    assert region.variables == codebook.variables


def test_extending_codebook_can_extend_a_file_next_to_it(tmp_path):
    write(tmp_path, "extends: sundhedsprofil\nrename: {PNR: lbnr}\n", "base.yml")
    child = load_codebook(
        write(tmp_path, "extends: base.yml\nvariables:\n  alder: {range: [18, 110]}\n")
    )
    assert child.rename["PNR"] == "lbnr"
    assert child.variables["alder"].range == (18, 110)
    assert len(child.sources) == 3


def test_extending_codebook_digest_changes_when_the_file_changes(tmp_path):
    path = write(tmp_path, "extends: sundhedsprofil\nrename: {PNR: lbnr}\n")
    first = load_codebook(path).sha256
    path.write_text("extends: sundhedsprofil\nrename: {PERSONNR: lbnr}\n", encoding="utf-8")
    import os

    os.utime(path, ns=(1, 1))  # another modification time, even within the clock's resolution
    assert load_codebook(path).sha256 != first


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "extends: sundhedsprofil\nvariables:\n  koen: {codes: {1: Kvinder, 2: Mænd}}\n",
            "label 'Kvinder' of code 1 is not a label of this variable in sundhedsprofil.yml "
            "(Mand, Kvinde)",
        ),
        (
            "extends: sundhedsprofil\nvariables:\n  koen: {codes: {1: Kvinde, 2: kvinde}}\n",
            "codes 1 and 2 both mean 'kvinde'",
        ),
        (
            "extends: sundhedsprofil\nvariables:\n  koen: {type: integer}\n",
            "cannot change type",
        ),
        (
            "extends: sundhedsprofil\nvariables:\n  vaegt_kal: {required: false}\n",
            "must be required",
        ),
        (
            "extends: sundhedsprofil\nrecodes:\n  sex: {from: koen}\n",
            "cannot change the recodes",
        ),
        ("extends: findes_ikke\n", "'findes_ikke' is neither a shipped codebook"),
        ("extends: region.yml\n", "extend each other in a circle"),
        ("rename: {PNR: lbnr}\n", "start the file with `extends: sundhedsprofil`"),
        ("extends: sundhedsprofil\nvariablr: {}\n", "unknown field(s) variablr"),
    ],
)
def test_extending_codebook_errors_name_the_place(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DataValidationError) as err:
        load_codebook(path)
    assert message in str(err.value)
    assert str(path.resolve()) in str(err.value)
