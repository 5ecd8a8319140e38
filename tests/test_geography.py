"""Tests of analyse.reference.geography against the shared facts (98 kommuner, 5 regions, klynger)."""

import pytest

from analyse.errors import ParameterError
from analyse.reference import geography


def test_load_geography_has_98_kommuner_with_unique_codes():
    kommuner = geography.kommuner()
    assert len(kommuner) == 98
    assert kommuner["kommune_code"].is_unique
    assert kommuner["kommune"].is_unique


def test_load_geography_columns_and_membership_source():
    geo = geography.load_geography()
    for col in [
        "kommune_code",
        "kommune",
        "region_code",
        "region",
        "sundhedsklynge",
        "membership_source",
    ]:
        assert col in geo.columns
    assert set(geo["membership_source"]) == {"confirmed", "inferred"}


def test_regions_count_and_kommuner_per_region():
    # Counts per region from the shared facts (sundhedsprofil.md §5).
    counts = geography.kommuner().groupby("region")["kommune_code"].nunique().to_dict()
    assert counts == {
        "Region Hovedstaden": 29,
        "Region Sjælland": 17,
        "Region Syddanmark": 22,
        "Region Midtjylland": 19,
        "Region Nordjylland": 11,
    }
    assert len(geography.members("region", 1083)) == 22


def test_every_kommune_is_in_at_least_one_klynge_and_some_in_two():
    geo = geography.load_geography()
    per_kommune = geo.groupby("kommune_code")["sundhedsklynge"].nunique()
    assert (per_kommune >= 1).all()
    assert set(per_kommune[per_kommune == 2].index) == {101, 575}  # København, Vejen


def test_klynger_stay_within_one_region():
    geo = geography.load_geography()
    assert (geo.groupby("sundhedsklynge")["region_code"].nunique() == 1).all()
    assert len(geography.areas("sundhedsklynge")) == 22


def test_areas_columns_codes_unique_and_slugs_ascii():
    table = geography.all_areas()
    assert list(table.columns) == ["area_level", "area_code", "area_name", "region_code", "slug"]
    assert len(table) == 1 + 5 + 22 + 98
    assert table["slug"].is_unique
    assert all(slug.isascii() and " " not in slug for slug in table["slug"])
    for level in geography.LEVELS:
        assert geography.areas(level)["area_code"].is_unique


def test_slugify_transliterates_danish_letters():
    assert geography.slugify("Ærø") == "aeroe"
    assert geography.slugify("Høje-Taastrup") == "hoeje-taastrup"
    assert geography.slugify("Aabenraa Å") == "aabenraa-aa"


def test_members_of_land_klynge_and_kommune():
    assert len(geography.members("land", "DK")) == 98
    sonderjylland = geography.members("sundhedsklynge", "syddanmark-soenderjylland")
    # Haderslev, Aabenraa, Sønderborg, Tønder (confirmed in the shared facts)
    assert sonderjylland == [510, 540, 550, 580]
    assert geography.members("kommune", "461") == [461]
    assert geography.members("kommune", 461) == [461]


def test_membership_table_counts_vejen_in_both_klynger():
    table = geography.membership("sundhedsklynge")
    assert (table["kommune_code"] == 575).sum() == 2
    assert len(geography.membership("kommune")) == 98


@pytest.mark.parametrize(
    ("level", "code"),
    [("kommune", "999"), ("region", "1099"), ("sundhedsklynge", "nowhere"), ("land", "SE")],
)
def test_members_unknown_code_raises_parameter_error(level, code):
    with pytest.raises(ParameterError, match=f"unknown {level} code '{code}'"):
        geography.members(level, code)


def test_areas_unknown_level_raises_parameter_error():
    with pytest.raises(ParameterError, match="unknown area level 'county'"):
        geography.areas("county")
