"""Tests of analyse.stats.rates: Wilson intervals against the PHE reference and by hand."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.stats.rates import wilson_interval

PHE = Path(__file__).parent / "data" / "phe_proportion" / "testdata_Proportion__testdata_Prop.csv"


def test_wilson_interval_equals_phe_proportion_reference():
    ref = pd.read_csv(PHE).dropna(subset=["Numerator", "Denominator"])
    # Rows with multiplier 100 give the same limits as percentages.
    for column in ("lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"):
        ref[column] = ref[column] / ref["multiplier"]
    low, high = wilson_interval(ref["Numerator"], ref["Denominator"], 0.95)
    np.testing.assert_allclose(low, ref["lower95_0cl"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(high, ref["upper95_0cl"], rtol=1e-9, atol=1e-12)
    low, high = wilson_interval(ref["Numerator"], ref["Denominator"], 0.998)
    np.testing.assert_allclose(low, ref["lower99_8cl"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(high, ref["upper99_8cl"], rtol=1e-9, atol=1e-12)


def test_wilson_interval_hand_worked():
    # x = 0, n = 10, z = 1.959964: low = 0, high = z² / (n + z²) = 3.8415 / 13.8415 = 0.27754
    low, high = wilson_interval(np.array([0]), np.array([10]))
    assert low[0] == pytest.approx(0.0)
    assert high[0] == pytest.approx(3.841459 / 13.841459, rel=1e-6)
