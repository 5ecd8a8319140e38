"""Tests of analyse.data.codebook_draft: a starting codebook from a delivery's names and labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from analyse.data.clean import load_survey
from analyse.data.codebook import load_codebook
from analyse.data.codebook_draft import draft_codebook

SMALL = Path(__file__).parent / "data" / "formats" / "sundhedsprofil_2021_small.csv"


def _sav_delivery(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """An SPSS extract with other names, sex coded 1 = Kvinde and a 'Ved ikke' code 8."""
    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"})
    raw["koen"] = raw["koen"].map({1: 2, 2: 1}).fillna(8)
    raw = raw.rename(columns={"lbnr": "pnr", "koen": "KON", "alder": "age", "kom": "bopkom"})
    folder = tmp_path / "levering"
    folder.mkdir()
    pyreadstat.write_sav(
        raw,
        str(folder / "sundhedsprofil_2021.sav"),
        variable_value_labels={"KON": {1: "Kvinde", 2: "Mand", 8: "Ved ikke"}},
        column_labels={"age": "Alder (år) på svartidspunktet"},
    )
    return folder, raw


def test_draft_codebook_matches_names_labels_and_finds_swapped_codes(tmp_path):
    folder, raw = _sav_delivery(tmp_path)
    draft = draft_codebook(folder)
    assert draft.guessed == {"pnr": "lbnr", "bopkom": "kom", "KON": "koen", "age": "alder"}
    assert draft.not_found == [] and draft.recoded == ["koen"]
    assert "koen: {codes: {1: Kvinde, 2: Mand}, missing: [8]}" in draft.text
    assert "age: alder  # guessed (variable label resembles that of alder" in draft.text
    # The draft is a valid codebook and reads the delivery with the sexes right.
    path = tmp_path / "udkast.yml"
    path.write_text(draft.text, encoding="utf-8")
    codebook = load_codebook(path)
    assert codebook.variables["koen"].to_codebook_codes() == {1: 2, 2: 1}
    respondents, report = load_survey(folder, codebook)
    expected = raw["KON"].map({1: "Kvinder", 2: "Mænd"})
    assert respondents["sex"].astype(object).equals(expected.astype(object))
    assert report.label_mismatches.empty


def test_draft_codebook_lists_what_it_could_not_match(tmp_path):
    raw = pd.read_csv(SMALL, dtype={"lbnr": "str"}).drop(columns=["stratum"])
    raw = raw.rename(columns={"vaegt_kal": "zz_faktor"})
    raw["eksportdato"] = "2026-03-12"
    path = tmp_path / "sundhedsprofil_2021.csv"
    raw.to_csv(path, index=False)
    draft = draft_codebook(path)
    assert draft.not_found == ["stratum", "vaegt_kal"]
    assert "# NOT FOUND: stratum (Stratum" in draft.text
    assert "# NOT FOUND: vaegt_kal (Kalibreringsvægt) is required" in draft.text
    assert "eksportdato" in draft.unknown and "zz_faktor" in draft.unknown
    assert "compare the codes of the coded variables" in draft.text
