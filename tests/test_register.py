"""Tests of analyse.data.register: reading and validating register and klynge status tables."""

import pytest

from analyse.data import register, synth
from analyse.errors import DataValidationError
from analyse.reference.catalogue import load_agreement


@pytest.fixture(scope="module")
def delivery_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    synth.write_delivery(out, seed=11, scale=0.02, fmt="parquet")
    return out


def test_read_register_bad_rows_name_file_column_and_rows(tmp_path):
    agreement = load_agreement()
    path = tmp_path / "registerdata.csv"
    path.write_text(
        "indikator;aar;kommunekode;koen;uddannelse;taeller;naevner\n"
        "employment_mental;2020;461;Mænd;Grundskole;60;50\n",
        encoding="utf-8",
    )
    with pytest.raises(
        DataValidationError, match=r"numerator \(taeller\) is larger than denominator.*row 2"
    ):
        register.read_register(path, agreement)
    path.write_text(
        "indikator;aar;kommunekode;koen;uddannelse;taeller;naevner\n"
        "employment_mental;2020;999;Mænd;Grundskole;6;50\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError, match="column 'kommunekode': unknown kommune code"):
        register.read_register(path, agreement)
    path.write_text("indikator;aar;kommunekode\nx;1;2\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="missing required column"):
        register.read_register(path, agreement)


def test_read_status_validates_categories(delivery_dir, tmp_path):
    agreement = load_agreement()
    status = register.read_status(delivery_dir / "klyngestatus.csv", agreement)
    assert set(status["status_label"]) <= set(agreement.status_categories.values())
    text = (
        (delivery_dir / "klyngestatus.csv").read_text(encoding="utf-8").replace("i_drift", "super")
    )
    bad = tmp_path / "klyngestatus.csv"
    bad.write_text(text, encoding="utf-8")
    if "super" in text:
        with pytest.raises(DataValidationError, match="column 'status': unknown status category"):
            register.read_status(bad, agreement)
