"""Tests for analyse.stats.progress: Healthy People 2030 and SDG categories on hand-worked cases.

Sources of the rules and thresholds:
- Healthy People 2030: NCHS, "Healthy People 2030 methods"
  (cdc.gov/nchs/healthy-people/hp2030/methods): percent of targeted change achieved =
  100 (recent - baseline) / (target - baseline), for objectives moving towards the target;
  percent change from baseline = 100 (recent - baseline) / baseline; four categories (target
  met or exceeded, improving, little or no detectable change, getting worse) from these and
  their statistical significance.
- Healthy People 2020 Final Progress Table notes (data.cdc.gov): without standard errors,
  "improved" = at least 10 % of the targeted change achieved, "got worse" = moved 10 % or more
  relative to the baseline; target met also when baseline and recent both met it (the percent
  of targeted change is then not assessed).
- SDG: Eurostat, "Sustainable development in the European Union - monitoring report"
  (methodological introduction) and the same rule in Statistics Canada's "Progress measurement
  methodology" (open-sdg/open-sdg docs/progress-methodology.md): R = observed CAGR / required
  CAGR, on track (significant progress) R >= 95 %, acceleration needed (moderate) 60-95 %,
  limited (insufficient) 0-60 %, deterioration (movement away) R < 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from analyse.errors import ParameterError
from analyse.stats import progress


def test_hp2030_categories_with_standard_errors():
    # Decrease desired, baseline 20 %, target 15 %, SE 0.5 on both sides: a change is
    # significant (two-sided 0.05) when |change| > 1.96 * sqrt(0.5^2 + 0.5^2) = 1.386.
    out = progress.hp2030_status(
        baseline=[20, 20, 20, 20],
        recent=[14, 17, 19.5, 23],
        target=15,
        direction="decrease",
        baseline_se=0.5,
        recent_se=0.5,
    )
    assert list(out["hp2030_status"]) == [
        "target met or exceeded",  # 14 <= 15
        "improving",  # -3, |z| = 4.24
        "little or no detectable change",  # -0.5, |z| = 0.71
        "getting worse",  # +3, away from the target, |z| = 4.24
    ]
    # 100 (17 - 20) / (15 - 20) = 60 % of the targeted change; 100 (14 - 20)/(15 - 20) = 120 %.
    assert out["pct_targeted_change"].iloc[1] == pytest.approx(60.0)
    assert out["pct_targeted_change"].iloc[0] == pytest.approx(120.0)
    # Moving away from the target: the percent of targeted change is not computed.
    assert np.isnan(out["pct_targeted_change"].iloc[3])
    # percent change from baseline: 100 (23 - 20) / 20 = 15 %
    assert out["pct_change_from_baseline"].iloc[3] == pytest.approx(15.0)
    # p-value of -3 with se sqrt(0.5): 2 * Phi(-4.2426) = 2.2090e-05
    assert out["p_value"].iloc[1] == pytest.approx(2.2090497e-05, rel=1e-5)


def test_hp2030_without_standard_errors_uses_the_ten_percent_rules():
    # Decrease desired, baseline 20, target 15 (targeted change -5):
    # 19.6 achieves 8 % of it (< 10 %: little change); 19.4 achieves 12 % (improving);
    # 21.9 moved +9.5 % from the baseline (< 10 %: little change); 22.1 moved +10.5 % (worse).
    out = progress.hp2030_status(
        baseline=20, recent=[19.6, 19.4, 21.9, 22.1], target=15, direction="decrease"
    )
    assert list(out["hp2030_status"]) == [
        "little or no detectable change",
        "improving",
        "little or no detectable change",
        "getting worse",
    ]
    assert out["p_value"].isna().all()


def test_hp2030_given_p_value_and_no_target():
    # Increase desired, no target (HP2030 "informational"): judged on the direction and the
    # given p-value alone; the percent of targeted change is NaN.
    out = progress.hp2030_status(
        baseline=[0.50, 0.50, 0.50],
        recent=[0.53, 0.53, 0.47],
        direction="increase",
        p_value=[0.01, 0.20, 0.001],
    )
    assert list(out["hp2030_status"]) == [
        "improving",
        "little or no detectable change",
        "getting worse",
    ]
    assert out["pct_targeted_change"].isna().all()


def test_hp2030_baseline_already_met_and_missing_values():
    # Increase desired, target 0.51, baseline 0.537 already above it: target met, and the
    # percent of targeted change is not assessed (HP2020 final progress table, case ii).
    out = progress.hp2030_status(
        baseline=[0.537, np.nan], recent=[0.561, 0.5], target=0.51, direction="increase"
    )
    assert list(out["hp2030_status"]) == ["target met or exceeded", "cannot be assessed"]
    assert out["pct_targeted_change"].isna().all()


def test_sdg_categories():
    # Decrease desired from 20 (2021) to 15 by 2030: required CAGR (15/20)^(1/9) - 1 = -0.031459.
    # Observed 2021 -> 2025: 17 -> (17/20)^(1/4) - 1 = -0.039815, R = 1.266 (significant);
    # 18.5 -> -0.019302, R = 0.614 (moderate); 19.5 -> -0.006309, R = 0.201 (insufficient);
    # 21 -> +0.012272, R = -0.390 (movement away); 14 -> at or below the target (target met).
    out = progress.sdg_progress(
        baseline=20,
        recent=[17, 18.5, 19.5, 21, 14],
        target=15,
        baseline_year=2021,
        recent_year=2025,
        target_year=2030,
        direction="decrease",
    )
    assert list(out["sdg_category"]) == [
        "significant progress",
        "moderate progress",
        "insufficient progress",
        "movement away from target",
        "target met",
    ]
    required = (15 / 20) ** (1 / 9) - 1
    assert out["cagr_required"].iloc[0] == pytest.approx(required)
    assert required == pytest.approx(-0.031459, abs=1e-6)
    assert out["sdg_ratio"].iloc[0] == pytest.approx(((17 / 20) ** 0.25 - 1) / required)
    assert out["sdg_ratio"].iloc[1] == pytest.approx(0.614, abs=1e-3)


def test_sdg_increase_and_baseline_past_the_target():
    # Increase desired, target 0.82 by 2027 from 0.786 in 2023: required (0.82/0.786)^(1/4) - 1
    # = 0.010643; observed to 0.7925 in 2025: (0.7925/0.786)^(1/2) - 1 = 0.004127, R = 0.388
    # (insufficient). Baseline 0.84 already past 0.82 and recent 0.83: still at or above the
    # target (target met); recent 0.80: below it, moved the wrong way, R < 0 (the sign
    # correction d * observed / |required| keeps it negative).
    out = progress.sdg_progress(
        baseline=[0.786, 0.84, 0.84],
        recent=[0.7925, 0.83, 0.80],
        target=0.82,
        baseline_year=2023,
        recent_year=2025,
        target_year=2027,
        direction="increase",
    )
    assert list(out["sdg_category"]) == [
        "insufficient progress",
        "target met",
        "movement away from target",
    ]
    assert out["sdg_ratio"].iloc[0] == pytest.approx(0.388, abs=1e-3)
    assert out["sdg_ratio"].iloc[2] < 0


def test_sdg_without_target_is_empty():
    out = progress.sdg_progress(
        baseline=[0.2, 0.2],
        recent=[0.18, 0.18],
        target=[np.nan, 0.15],
        baseline_year=2021,
        recent_year=[2025, 2021],
        target_year=2027,
    )
    assert list(out["sdg_category"]) == ["", ""]  # no target; no later recent year
    assert out["sdg_ratio"].isna().all()


def test_progress_parameter_errors():
    with pytest.raises(ParameterError, match="direction"):
        progress.hp2030_status(0.2, 0.1, direction="down")
    with pytest.raises(ParameterError, match="alpha"):
        progress.hp2030_status(0.2, 0.1, alpha=5)
    with pytest.raises(ParameterError, match="positive"):
        progress.sdg_progress(0, 0.1, 0.2, baseline_year=2021, recent_year=2025, target_year=2027)
    with pytest.raises(ParameterError, match="target_year"):
        progress.sdg_progress(0.2, 0.1, 0.1, baseline_year=2021, recent_year=2025, target_year=2020)
