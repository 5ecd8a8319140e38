"""Tests of analyse.cube.coverage: a delivery decides which areas can be estimated and compared.

A regional extract (the small synthetic delivery cut to Region Syddanmark's 22 kommuner) must
not give a "Hele landet" made of Syddanmark alone, a "rest of Denmark" equal to the rest of the
region, or briefs for areas it holds no data for.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyse.cube import build as cube_build
from analyse.cube import coverage
from analyse.errors import ParameterError
from analyse.publish.brief import Brief
from analyse.reference import geography
from analyse.run import batch
from analyse.run.cli import main
from conftest import without_linked_protection

SYDDANMARK = 1083


def _syddanmark() -> list[int]:
    return geography.members("region", SYDDANMARK)


@pytest.fixture(scope="module")
def regional_raw(small_raw, tmp_path_factory) -> Path:
    """The small delivery cut to Region Syddanmark (survey waves and register counts)."""
    out = tmp_path_factory.mktemp("regional")
    keep = _syddanmark()
    for path in small_raw.iterdir():
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
            table[table["kom"].isin(keep)].to_parquet(out / path.name, index=False)
        elif path.name == cube_build.REGISTER_FILE:
            table = pd.read_csv(path, sep=";")
            table[table["kommunekode"].isin(keep)].to_csv(out / path.name, sep=";", index=False)
        elif path.is_file():
            shutil.copyfile(path, out / path.name)
    return out


@pytest.fixture(scope="module")
def regional(regional_raw, tmp_path_factory) -> cube_build.BuildResult:
    patch = without_linked_protection()  # the subject here is coverage, not the LPs
    try:
        return cube_build.build_processed(
            regional_raw, tmp_path_factory.mktemp("regional_processed")
        )
    finally:
        patch.__exit__(None, None, None)


def test_coverage_table_counts_the_kommuner_of_every_area():
    keep = _syddanmark()
    data = pd.DataFrame({"year": [2021] * len(keep) + [2025], "kommune_code": keep + [keep[0]]})
    table = coverage.coverage_table(data)
    row = table[(table["year"] == 2021) & (table["area_level"] == "region")].set_index("area_code")
    assert row.loc[str(SYDDANMARK), "kommuner_present"] == 22
    assert row.loc[str(SYDDANMARK), "covered"]
    assert not row.loc["1084", "covered"] and row.loc["1084", "kommuner_present"] == 0
    land = table[(table["area_level"] == "land")].set_index("year")
    assert land.loc[2021, "kommuner_present"] == 22 and land.loc[2021, "kommuner_total"] == 98
    assert not land["covered"].any()
    # 2025 holds one kommune: that kommune is covered, its region is not.
    in_2025 = table[(table["year"] == 2025) & table["covered"]]
    assert in_2025[["area_level", "area_code"]].values.tolist() == [["kommune", str(keep[0])]]


def test_coverage_table_national_wave_covers_only_land_when_every_region_answers():
    kommuner = geography.kommuner()
    one_per_region = kommuner.groupby("region_code")["kommune_code"].first().tolist()
    data = pd.DataFrame({"year": 2023, "kommune_code": one_per_region})
    table = coverage.coverage_table(data, national_years={2023})
    assert table[table["covered"]][["area_level", "area_code"]].values.tolist() == [["land", "DK"]]
    regional_only = coverage.coverage_table(data.iloc[:4], national_years={2023})
    assert not regional_only["covered"].any()


def test_restrict_drops_uncovered_areas_and_comparisons_with_uncovered_parents():
    keep = _syddanmark()
    cover = coverage.coverage_table(pd.DataFrame({"year": 2021, "kommune_code": keep}))
    cells = pd.DataFrame(
        {
            "year": 2021,
            "area_level": ["kommune", "kommune", "region", "land"],
            "area_code": ["461", "101", str(SYDDANMARK), "DK"],
            "estimate": [0.2, 0.3, 0.25, 0.26],
            "vs_region_diff": [0.01, 0.02, np.nan, np.nan],
            "vs_land_diff": [0.03, 0.04, 0.05, np.nan],
        }
    )
    kept = coverage.restrict(cells, cover)
    assert kept["area_code"].tolist() == ["461", str(SYDDANMARK)]
    assert kept["vs_region_diff"].tolist()[0] == 0.01  # the region is covered
    assert kept["vs_land_diff"].isna().all()  # Denmark is not: no "rest of Denmark"


def test_regional_build_estimates_only_the_region_and_never_all_of_denmark(regional):
    estimates = pd.read_parquet(regional.path("estimates"))
    areas = estimates[["area_level", "area_code"]].drop_duplicates()
    assert set(areas["area_level"]) == {"region", "sundhedsklynge", "kommune"}
    assert set(areas[areas["area_level"] == "region"]["area_code"]) == {str(SYDDANMARK)}
    assert set(areas[areas["area_level"] == "kommune"]["area_code"].astype(int)) == set(
        _syddanmark()
    )
    assert estimates["vs_land_diff"].isna().all()
    assert estimates["vs_region_diff"].notna().any()
    for table in ("trends", "inequality", "gap_change", "register", "register_trends"):
        rows = pd.read_parquet(regional.path(table))
        assert "land" not in set(rows["area_level"]), table
        assert "1084" not in set(rows["area_code"]), table
    manifest = regional.manifest
    assert manifest["coverage"]["2021"] == {
        "kommuner": 22,
        "land_covered": False,
        "regions_covered": [str(SYDDANMARK)],
    }


def test_regional_build_comparisons_with_the_region_equal_the_full_build(regional, small_processed):
    # The rest of Region Syddanmark is the same in both deliveries: the same comparison.
    key = ["indicator", "year", "area_level", "area_code", "breakdown", "group"]
    part = pd.read_parquet(regional.path("estimates"))
    full = pd.read_parquet(small_processed.path("estimates"))
    odense = part[(part["area_code"] == "461") & (part["breakdown"] == "total")].set_index(key)
    same = full.set_index(key).loc[odense.index]
    # (The full build's linked protection hides some cells the regional one shows: compare
    # what both show.)
    shown = odense["vs_region_diff"].notna() & same["vs_region_diff"].notna()
    assert shown.sum() > 5
    assert np.allclose(odense.loc[shown, "vs_region_diff"], same.loc[shown, "vs_region_diff"])
    both = odense["estimate"].notna() & same["estimate"].notna()
    assert both.sum() > 5
    assert np.allclose(odense.loc[both, "estimate"], same.loc[both, "estimate"])


def test_brief_of_an_uncovered_area_is_refused_with_the_covered_ones_listed(regional):
    with pytest.raises(ParameterError) as err:
        Brief.open(regional.processed, area_level="land", area_code="DK")
    assert "does not cover Hele landet: at most 22 of its 98 kommuner" in str(err.value)
    with pytest.raises(ParameterError) as err:
        Brief.open(regional.processed, area_level="kommune", area_code="101")
    message = str(err.value)
    assert "holds no survey data for Københavns Kommune" in message
    assert "461 (Odense Kommune)" in message and "101 (" not in message


def test_brief_says_the_rest_of_denmark_is_not_in_the_data(regional):
    brief = Brief.open(regional.processed, area_level="kommune", area_code="461")
    text = brief.visions()
    assert "og resten af landet kan ikke laves: leverancen dækker ikke hele landet" in text
    assert "Ikke i data" in brief.status_table()
    assert "Leverancen dækker kun Region Syddanmark" in brief.methods()


def test_batch_renders_only_covered_areas_and_refuses_a_land_brief(
    regional, regional_raw, tmp_path
):
    selection = batch.select_areas("all")
    kept = batch._covered_selection(selection, regional.processed, "all", None, lambda _m: None)
    assert kept["area_level"].value_counts().to_dict() == {
        "region": 1,
        "sundhedsklynge": 4,
        "kommune": 22,
    }
    with pytest.raises(ParameterError, match="no brief: the delivery does not cover Hele landet"):
        batch.run_briefs(
            agreement_id="kl-sundhed-for-de-mange",  # the agreement whose scope has Denmark
            level="land",
            raw=regional_raw,
            processed=regional.processed,
            out=tmp_path,
            progress=None,
        )


def test_check_prints_coverage_per_region(regional_raw, capsys):
    assert main(["check", str(regional_raw)]) == 0
    out = capsys.readouterr().out
    assert "Region Syddanmark 22/22" in out and "Region Hovedstaden 0/29" in out
    assert "Denmark NOT covered" in out
    assert "Briefs can be made for: 0 land, 1 regions, 4 sundhedsklynger, 22 kommuner" in out
