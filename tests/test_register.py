"""Tests of analyse.data.register: Wilson intervals (PHE reference), reading and area estimates."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.data import register, synth
from analyse.errors import DataValidationError
from analyse.reference.catalogue import load_agreement

PHE = Path(__file__).parent / "data" / "phe_proportion" / "testdata_Proportion__testdata_Prop.csv"


def test_wilson_interval_equals_phe_proportion_reference():
    ref = pd.read_csv(PHE).dropna(subset=["Numerator", "Denominator"])
    # Rows with multiplier 100 give the same limits as percentages.
    for column in ("lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"):
        ref[column] = ref[column] / ref["multiplier"]
    low, high = register.wilson_interval(ref["Numerator"], ref["Denominator"], 0.95)
    np.testing.assert_allclose(low, ref["lower95_0cl"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(high, ref["upper95_0cl"], rtol=1e-9, atol=1e-12)
    low, high = register.wilson_interval(ref["Numerator"], ref["Denominator"], 0.998)
    np.testing.assert_allclose(low, ref["lower99_8cl"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(high, ref["upper99_8cl"], rtol=1e-9, atol=1e-12)


def test_wilson_interval_hand_worked():
    # x = 0, n = 10, z = 1.959964: low = 0, high = z² / (n + z²) = 3.8415 / 13.8415 = 0.27754
    low, high = register.wilson_interval(np.array([0]), np.array([10]))
    assert low[0] == pytest.approx(0.0)
    assert high[0] == pytest.approx(3.841459 / 13.841459, rel=1e-6)


@pytest.fixture(scope="module")
def delivery_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    synth.write_delivery(out, seed=11, scale=0.02, fmt="parquet")
    return out


def test_register_estimates_aggregate_kommuner_to_areas(delivery_dir):
    agreement = load_agreement()
    table = register.read_register(delivery_dir / "registerdata.csv", agreement)
    cells = register.register_estimates(table, suppress=False)
    land = cells[(cells["area_level"] == "land") & (cells["breakdown"] == "total")]
    by_year = table.groupby(["indicator", "year"])[["numerator", "denominator"]].sum()
    for row in land.itertuples():
        num, den = by_year.loc[(row.indicator, row.year)]
        assert row.estimate == pytest.approx(num / den)
        assert row.n == den
    # A sundhedsklynge sums its member kommuner (Vejen counts in both of its klynger).
    klynge = cells[
        (cells["area_level"] == "sundhedsklynge")
        & (cells["area_code"] == "syddanmark-lillebaelt")
        & (cells["breakdown"] == "total")
        & (cells["indicator"] == "employment_mental")
        & (cells["year"] == 2020)
    ]
    members = table[
        (table["kommune_code"].isin([607, 621, 410, 630, 575]))
        & (table["year"] == 2020)
        & (table["indicator"] == "employment_mental")
    ]
    assert klynge["n"].iloc[0] == members["denominator"].sum()


def test_register_estimates_suppress_small_denominators(delivery_dir):
    agreement = load_agreement()
    table = register.read_register(delivery_dir / "registerdata.csv", agreement)
    cells = register.register_estimates(table)
    small = cells[cells["suppressed"]]
    assert len(small) > 0  # youth education in small kommuner
    assert small["estimate"].isna().all()
    assert "cases" not in cells.columns


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
