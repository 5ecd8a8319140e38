"""Tests of analyse.reference.population: the 16+ population per kommune for the weight check."""

from __future__ import annotations

import pytest

from analyse.reference.population import kommune_population_16plus


def test_kommune_population_16plus_sums_to_the_national_16plus_population():
    table = kommune_population_16plus()
    assert len(table) == 98 and table["kommune_code"].is_unique
    # DST FOLK1A 2025K4, ages 16+ summed in standard_population_dk.csv: 5,023,359.
    assert table["population_16plus"].sum() == pytest.approx(5_023_359)
    # Odense: 213,168 of all ages (folketal_2026.csv) × 5,023,359 / 6,025,511 = 177,714.3.
    odense = table.set_index("kommune_code").loc[461, "population_16plus"]
    assert odense == pytest.approx(213_168 * 5_023_359 / 6_025_511)
    assert round(odense) == 177_714
