"""Tests of analyse.cube.register: register proportions per area, summed from the kommuner."""

import numpy as np
import pandas as pd
import pytest

from analyse.cube import register as cube_register
from analyse.data import register, synth
from analyse.reference.catalogue import load_agreement
from analyse.stats import disclosure


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


# ------------------------------------------------------------------ published values (issue #14)


def _hand_register() -> pd.DataFrame:
    """København (101) 2020: 1234 persons, 56 cases (617/28 per sex). Frederiksberg (147):
    Kvinder with 7 cases (2020), 0 cases (2021) and 0 persons (2022); Mænd large."""
    rows = [("employment_mental", 2020, 101, sex, 617, 28) for sex in ("Kvinder", "Mænd")]
    for year, (n_women, cases_women) in zip(
        (2020, 2021, 2022), ((500, 7), (500, 0), (0, 0)), strict=True
    ):
        rows += [
            ("employment_mental", year, 147, "Kvinder", n_women, cases_women),
            ("employment_mental", year, 147, "Mænd", 500, 100),
        ]
    frame = pd.DataFrame(
        rows, columns=["indicator", "year", "kommune_code", "sex", "denominator", "numerator"]
    )
    return frame.assign(education="I alt")[
        ["indicator", "year", "kommune_code", "sex", "education", "numerator", "denominator"]
    ]


def _cell(cells, year, code, group="I alt"):
    row = cells[
        (cells["year"] == year)
        & (cells["area_level"] == "kommune")
        & (cells["area_code"].astype(str) == str(code))
        & (cells["group"] == group)
    ]
    assert len(row) == 1
    return row.iloc[0]


def test_register_published_values_come_from_rounded_rate_and_denominator():
    cells = cube_register.register_estimates(_hand_register())
    row = _cell(cells, 2020, 101)
    assert not row["suppressed"]
    # 56 / 1234 = 0.04538 → published 0.045 (4,5 pct.); n = 1234 → 1230.
    assert row["estimate"] == 0.045
    assert row["n"] == 1230
    # Wilson from p = 0.045, N = 1230, z = 1.959964: x = pN = 55.35,
    # centre = 2x + z² = 114.5415, spread = z·√(z² + 4x(1 − p)) = 28.7573,
    # low = (114.5415 − 28.7573) / (2(1230 + z²)) = 0.03476 → 0.035,
    # high = (114.5415 + 28.7573) / 2467.683 = 0.05807 → 0.058.
    assert (row["ci_low"], row["ci_high"]) == (0.035, 0.058)
    # se = √(0.045 · 0.955 / 1230) = 0.0059109; p(1 − p)/se² gives 1230, not the exact 1234
    # (from the exact 56/1234 and 1234 it would give 1234).
    assert row["se"] == pytest.approx(0.0059109, abs=1e-7)
    assert row["estimate"] * (1 - row["estimate"]) / row["se"] ** 2 == pytest.approx(1230)
    assert "cases" not in cells.columns


def test_register_small_and_zero_counts_are_suppressed_alike():
    cells = cube_register.register_estimates(_hand_register())
    seven = _cell(cells, 2020, 147, "Kvinder")  # 7 cases < 10
    zero = _cell(cells, 2021, 147, "Kvinder")  # 0 cases: present, same look
    for row in (seven, zero):
        assert row["suppressed"]
        assert row["suppression_reason"] == "under 10 med/uden udfaldet"
        assert np.isnan(row["estimate"]) and np.isnan(row["ci_low"]) and pd.isna(row["n"])
    # 0 persons: the row is kept and suppressed like any cell under min_n.
    empty = _cell(cells, 2022, 147, "Kvinder")
    assert empty["suppressed"] and empty["suppression_reason"] == "færre end 20 svar"
    assert np.isnan(empty["estimate"]) and pd.isna(empty["n"])
    # The other sex is hidden too (secondary), so the total cannot give the hidden cell.
    assert _cell(cells, 2021, 147, "Mænd")["suppressed"]


def test_register_min_cases_is_a_rule():
    cells = cube_register.register_estimates(
        _hand_register(), rules=disclosure.Rules(register_min_cases=5)
    )
    row = _cell(cells, 2020, 147, "Kvinder")  # 7 cases ≥ 5: shown, 7/500 = 0.014
    assert not row["suppressed"] and row["estimate"] == 0.014
    assert _cell(cells, 2021, 147, "Kvinder")["suppression_reason"] == "under 5 med/uden udfaldet"


def test_register_rate_rounded_to_zero_keeps_a_positive_se():
    # 12 of 30,000 = 0.0004 → published 0.000; se from p = 0.0005 (the edge of the rounding)
    # and n = 30,000: √(0.0005 · 0.9995 / 30000) = 0.00012907.
    frame = pd.DataFrame(
        {
            "indicator": "employment_mental",
            "year": 2020,
            "kommune_code": 101,
            "sex": ["Kvinder", "Mænd"],
            "education": "I alt",
            "numerator": [6, 6],
            "denominator": [15000, 15000],
        }
    )
    cells = cube_register.register_estimates(frame, rules=disclosure.Rules(register_min_cases=5))
    row = _cell(cells, 2020, 101)
    assert not row["suppressed"] and row["estimate"] == 0.0
    assert row["se"] == pytest.approx(0.00012907, rel=1e-4)
