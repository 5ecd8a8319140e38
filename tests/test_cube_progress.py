"""Tests for analyse.cube.progress: the standard progress assessments with the agreement's targets.

The categories themselves are tested on hand-worked cases in test_progress.py (with their
sources); here the cube wrapper must take the target, its year and the direction from the
catalogue, apply a target to the whole population only, and never judge a change our own status
cannot judge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyse.cube import progress
from analyse.errors import ParameterError
from analyse.reference import catalogue


@pytest.fixture(scope="module")
def agreement() -> catalogue.Agreement:
    return catalogue.load_agreement()


def status_rows(rows) -> pd.DataFrame:
    columns = [
        "indicator",
        "area_level",
        "area_code",
        "breakdown",
        "group",
        "year_from",
        "year_to",
        "estimate_from",
        "estimate_to",
        "p_value",
        "status",
    ]
    return pd.DataFrame(rows, columns=columns)


def test_assess_uses_the_catalogue_target_direction_and_status(agreement):
    status = status_rows(
        [
            # employment_somatic, target 82 % by 2027, increase desired.
            ("employment_somatic", "land", "DK", "total", "total", 2023, 2025, 0.786, 0.7925,
             0.001, "bedre"),
            # the same change in a subgroup: no target for a subgroup
            ("employment_somatic", "land", "DK", "sex", "Kvinder", 2023, 2025, 0.786, 0.7925,
             0.001, "bedre"),
            # employment_mental, target 51 %, already met at baseline
            ("employment_mental", "land", "DK", "total", "total", 2023, 2025, 0.537, 0.561,
             0.02, "bedre"),
            # a survey indicator (no target), decrease desired, significant rise
            ("daily_smoking", "kommune", "461", "total", "total", 2021, 2025, 0.10, 0.13,
             0.001, "dårligere"),
            # not significant
            ("daily_smoking", "kommune", "147", "total", "total", 2021, 2025, 0.10, 0.09,
             0.30, "uændret"),
            # our own status cannot judge (suppressed): neither can the standard ones
            ("daily_smoking", "kommune", "101", "total", "total", 2021, 2025, np.nan, np.nan,
             np.nan, "kan ikke vurderes"),
        ]
    )  # fmt: skip
    out = progress.assess(status, agreement)
    assert list(out.columns[: len(status.columns)]) == list(status.columns)
    assert list(out["hp2030_status"]) == [
        "improving",
        "improving",
        "target met or exceeded",
        "getting worse",
        "little or no detectable change",
        "cannot be assessed",
    ]
    # 100 (0.7925 - 0.786) / (0.82 - 0.786) = 19.12 % of the targeted change.
    assert out["pct_targeted_change"].iloc[0] == pytest.approx(100 * 0.0065 / 0.034)
    assert out["target"].iloc[0] == 0.82 and out["target_year"].iloc[0] == 2027
    # SDG: required (0.82/0.786)^(1/4) - 1 = 0.010643, observed (0.7925/0.786)^(1/2) - 1 =
    # 0.004127, R = 0.388: insufficient progress (test_progress.py works the same case).
    assert out["sdg_ratio"].iloc[0] == pytest.approx(0.388, abs=1e-3)
    assert out["sdg_category"].iloc[0] == "insufficient progress"
    assert out["sdg_category"].iloc[2] == "target met"
    # No target for the subgroup and the survey indicator: no SDG category, no targeted change.
    assert np.isnan(out["target"].iloc[1]) and out["sdg_category"].iloc[1] == ""
    assert (out["sdg_category"].iloc[3:] == "").all()
    assert out["pct_targeted_change"].iloc[3:].isna().all()


def test_assess_does_not_modify_its_input_and_checks_arguments(agreement):
    status = status_rows(
        [("daily_smoking", "land", "DK", "total", "total", 2021, 2025, 0.1, 0.09, 0.01, "bedre")]
    )
    copy = status.copy()
    progress.assess(status, agreement)
    pd.testing.assert_frame_equal(status, copy)
    with pytest.raises(ParameterError, match="lacks column"):
        progress.assess(status.drop(columns="p_value"), agreement)
    with pytest.raises(ParameterError, match="alpha"):
        progress.assess(status, agreement, alpha=5)
    with pytest.raises(ParameterError, match="no indicator"):
        progress.assess(status.assign(indicator="beer"), agreement)


def test_built_status_tables_carry_the_assessments(small_processed):
    status = pd.read_parquet(small_processed.path("status"))
    register = pd.read_parquet(small_processed.path("register_status"))
    for table in (status, register):
        for column in progress.PROGRESS_COLUMNS:
            assert column in table.columns
        agree = table[table["status"] == "bedre"]
        assert agree["hp2030_status"].isin(["improving", "target met or exceeded"]).all()
        assert (
            table.loc[table["status"] == "kan ikke vurderes", "hp2030_status"]
            == "cannot be assessed"
        ).all()
    totals = register[(register["breakdown"] == "total") & register["target"].notna()]
    assert set(totals["indicator"]) == {"employment_somatic", "employment_mental"}
    assert totals["sdg_category"].ne("").any()
