"""Tests of analyse.cube.register: register proportions per area, summed from the kommuner."""

import pytest

from analyse.cube import register as cube_register
from analyse.data import register, synth
from analyse.reference.catalogue import load_agreement


@pytest.fixture(scope="module")
def delivery_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    synth.write_delivery(out, seed=11, scale=0.02, fmt="parquet")
    return out


def test_register_estimates_aggregate_kommuner_to_areas(delivery_dir):
    agreement = load_agreement()
    table = register.read_register(delivery_dir / "registerdata.csv", agreement)
    cells = cube_register.register_estimates(table, suppress=False)
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
    cells = cube_register.register_estimates(table)
    small = cells[cells["suppressed"]]
    assert len(small) > 0  # youth education in small kommuner
    assert small["estimate"].isna().all()
    assert "cases" not in cells.columns
