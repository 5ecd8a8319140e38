"""Tests of analyse.data.io: every reader on files written in its format, CSV detection and overrides,
value labels kept, folders of deliveries, and raw files left untouched."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analyse.data import io
from analyse.data.clean import load_survey
from analyse.data.codebook import load_codebook
from analyse.errors import DataValidationError

FORMATS = Path(__file__).parent / "data" / "formats"
SMALL = FORMATS / "sundhedsprofil_2021_small.csv"
SAS7BDAT = FORMATS / "sundhedsprofil_2021_small.sas7bdat"


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return pd.read_csv(SMALL, dtype={"lbnr": "str"})


def _labels() -> tuple[dict, dict]:
    codebook = load_codebook()
    column_labels = {name: var.label[:80] for name, var in codebook.variables.items()}
    value_labels = {
        name: {int(code): label for code, label in var.codes.items()}
        for name, var in codebook.variables.items()
        if var.codes
    }
    return column_labels, value_labels


def write(table: pd.DataFrame, path: Path) -> Path:
    """Write the small wave in the format the extension names (pyreadstat / pandas)."""
    column_labels, value_labels = _labels()
    column_labels = {k: v for k, v in column_labels.items() if k in table.columns}
    value_labels = {k: v for k, v in value_labels.items() if k in table.columns}
    if path.suffix == ".sav":
        pyreadstat.write_sav(
            table, str(path), column_labels=column_labels, variable_value_labels=value_labels
        )
    elif path.suffix == ".dta":
        pyreadstat.write_dta(
            table, str(path), column_labels=column_labels, variable_value_labels=value_labels
        )
    elif path.suffix == ".xpt":
        pyreadstat.write_xport(table, str(path), column_labels=column_labels)
    elif path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        raise AssertionError(path)
    return path


def assert_same_data(read: pd.DataFrame, original: pd.DataFrame) -> None:
    assert list(read.columns) == list(original.columns)
    for column in original.columns:
        if original[column].dtype.kind in "biuf":
            np.testing.assert_array_equal(
                read[column].to_numpy(float), original[column].to_numpy(float), err_msg=column
            )
        else:
            assert read[column].tolist() == original[column].tolist(), column


# ================================================================================================
# CSV
# ================================================================================================


@pytest.mark.parametrize(
    ("encoding", "sep", "decimal", "detected"),
    [
        ("utf-8", ",", ".", "utf-8"),
        ("utf-8-sig", ",", ".", "utf-8-sig"),
        ("cp1252", ";", ",", "cp1252"),
        ("utf-8", ";", ",", "utf-8"),
        ("cp1252", ",", ".", "cp1252"),
        ("latin-1", "\t", ",", "cp1252"),  # æ, ø, å have the same bytes in Latin-1 and cp1252
    ],
)
def test_read_table_csv_detects_encoding_separator_and_decimal(
    small, tmp_path, encoding, sep, decimal, detected
):
    path = tmp_path / "sundhedsprofil_2021.csv"
    small.to_csv(path, sep=sep, decimal=decimal, encoding=encoding, index=False)
    table = io.read_table(path, text_columns=["lbnr"])
    assert (table.encoding, table.separator, table.decimal) == (detected, sep, decimal)
    assert_same_data(table.data, small)
    assert "Ærø" in table.data["kommunenavn"].tolist()
    assert table.data["hoejde"].tolist()[2] == 1.78


def test_read_table_csv_windows_line_ends(small, tmp_path):
    path = tmp_path / "sundhedsprofil_2021.csv"
    small.to_csv(path, sep=";", decimal=",", encoding="cp1252", index=False, lineterminator="\r\n")
    assert_same_data(io.read_table(path, text_columns=["lbnr"]).data, small)


def test_read_table_csv_overrides_are_used(small, tmp_path):
    path = tmp_path / "sundhedsprofil_2021.csv"
    small.to_csv(path, sep=";", decimal=",", encoding="cp1252", index=False)
    table = io.read_table(path, encoding="cp1252", sep=";", decimal=".", text_columns=["lbnr"])
    assert (table.encoding, table.separator, table.decimal) == ("cp1252", ";", ".")
    assert table.data["hoejde"].tolist()[2] == "1,78"  # decimal comma not applied: text
    with pytest.raises(DataValidationError, match="cannot be read with encoding 'utf-8'"):
        io.read_table(path, encoding="utf-8")


def test_read_table_csv_keeps_ids_as_text(tmp_path, small):
    path = tmp_path / "udtraek.csv"
    small.assign(lbnr=[f"{i:05d}" for i in range(8)]).to_csv(path, index=False)
    assert io.read_table(path, text_columns=["LBNR"]).data["lbnr"].tolist()[:2] == [
        "00000",
        "00001",
    ]


# ================================================================================================
# Binary formats
# ================================================================================================


@pytest.mark.parametrize("suffix", [".sav", ".dta", ".xpt", ".parquet"])
def test_read_table_binary_formats_round_trip(small, tmp_path, suffix):
    path = write(small, tmp_path / f"sundhedsprofil_2021{suffix}")
    table = io.read_table(path)
    assert table.format == io.READERS[suffix]
    assert_same_data(table.data, small)
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_read_table_keeps_value_and_variable_labels(small, tmp_path, suffix):
    path = write(small, tmp_path / f"sundhedsprofil_2021{suffix}")
    table = io.read_table(path)
    assert table.value_labels["koen"] == {1.0: "Mand", 2.0: "Kvinde"}
    assert table.value_labels["rygning"][1.0] == "Ja, dagligt"
    assert table.column_labels["alder"] == "Alder (år) på svartidspunktet"


def test_read_table_xpt_keeps_variable_labels(small, tmp_path):
    table = io.read_table(write(small, tmp_path / "sundhedsprofil_2021.xpt"))
    assert table.column_labels["koen"] == "Køn"


def test_read_table_sas7bdat_fixture_matches_its_csv(small):
    table = io.read_table(SAS7BDAT)
    assert table.format == "sas7bdat"
    assert_same_data(table.data, small)


@pytest.mark.parametrize("suffix", [".sav", ".dta", ".xpt", ".parquet", ".csv", ".sas7bdat"])
def test_load_survey_gives_the_same_respondents_in_every_format(small, tmp_path, suffix):
    if suffix == ".sas7bdat":
        path = tmp_path / SAS7BDAT.name
        path.write_bytes(SAS7BDAT.read_bytes())
    elif suffix == ".csv":
        path = tmp_path / "sundhedsprofil_2021.csv"
        small.to_csv(path, sep=";", decimal=",", encoding="cp1252", index=False)
    else:
        path = write(small, tmp_path / f"sundhedsprofil_2021{suffix}")
    reference, _ = load_survey(SMALL)
    respondents, report = load_survey(path)
    pd.testing.assert_frame_equal(respondents, reference)
    assert report.files["format"].tolist() == [io.READERS[suffix]]


# ================================================================================================
# Raw files are read-only input
# ================================================================================================


@pytest.mark.parametrize("suffix", [".sav", ".dta", ".xpt", ".parquet", ".csv"])
def test_load_survey_leaves_raw_files_unchanged(small, tmp_path, suffix):
    if suffix == ".csv":
        path = tmp_path / "sundhedsprofil_2021.csv"
        small.to_csv(path, index=False)
    else:
        path = write(small, tmp_path / f"sundhedsprofil_2021{suffix}")
    (tmp_path / "README.md").write_text("rådata", encoding="utf-8")
    before = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
              for p in tmp_path.iterdir()}  # fmt: skip
    os.chmod(path, 0o444)
    _, report = load_survey(tmp_path)
    after = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
             for p in tmp_path.iterdir()}  # fmt: skip
    assert after == before
    assert report.files["sha256"].tolist() == [before[path.name][0]]


# ================================================================================================
# Folders
# ================================================================================================


def test_survey_files_skips_readme_marker_register_and_status(small, tmp_path):
    small.to_csv(tmp_path / "sundhedsprofil_2021.csv", index=False)
    small.to_csv(tmp_path / "udtraek_b.csv", index=False)  # no telling name, but has lbnr
    (tmp_path / "README.md").write_text("x", encoding="utf-8")
    (tmp_path / "SYNTETISKE_DATA.json").write_text("{}", encoding="utf-8")
    pd.DataFrame({"aar": [2024], "kommunekode": [101], "taeller": [1]}).to_csv(
        tmp_path / "registerdata.csv", sep=";", index=False
    )
    pd.DataFrame({"aar": [2024], "status": ["i_drift"]}).to_csv(
        tmp_path / "klyngestatus.csv", sep=";", index=False
    )
    found = io.survey_files(tmp_path)
    assert [p.name for p in found] == ["sundhedsprofil_2021.csv", "udtraek_b.csv"]


def test_read_columns_reads_only_the_header(small, tmp_path):
    for suffix in (".sav", ".dta", ".parquet"):
        path = write(small, tmp_path / f"x{suffix}")
        assert io.read_columns(path) == list(small.columns)
    path = tmp_path / "x.csv"
    small.to_csv(path, sep=";", index=False, encoding="cp1252")
    assert io.read_columns(path) == list(small.columns)


def test_read_table_unknown_extension_is_named(tmp_path):
    path = tmp_path / "sundhedsprofil_2021.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataValidationError, match=r"sundhedsprofil_2021.xlsx.*unknown file type"):
        io.read_table(path)
