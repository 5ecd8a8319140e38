"""Coverage: which areas a delivery can estimate, wave by wave.

A delivery may hold only some kommuner (a region's own extract). An area is *covered* in a wave
when every kommune of the area is in the delivery's data for that wave; only covered areas are
estimated, and an area is compared with "the rest of" its region or Denmark only where that
parent is covered too (otherwise the "rest" would be the part of the parent that happens to be
delivered, and "Hele landet" could be Region Syddanmark alone).

In a national wave (one stratum for all of Denmark, 2023) only ``land`` is estimated, and it is
covered when respondents from all five regions are present (a national sample; a region's
share of it would be regional, not national).

The processed table ``coverage.parquet`` (:func:`coverage_table`) records, per source, wave and
area, how many of its kommuner were present; the briefs and the batch read it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse.errors import ParameterError
from analyse.reference import geography

COLUMNS = (
    "source",
    "year",
    "area_level",
    "area_code",
    "kommuner_present",
    "kommuner_total",
    "covered",
)
_COMPARISONS = {"vs_region": "region", "vs_land": "land"}


def coverage_table(
    data: pd.DataFrame,
    *,
    source: str = "survey",
    national_years: set[int] | frozenset[int] = frozenset(),
    year: str = "year",
    kommune: str = "kommune_code",
) -> pd.DataFrame:
    """Per wave and area: the area's kommuner present in ``data`` and whether it is covered.

    Parameters
    ----------
    data : rows with a year and a kommune code (respondents, register counts); not modified.
    source : ``"survey"`` or ``"register"``, written to the ``source`` column.
    national_years : waves sampled nationally (one stratum): only ``land`` is estimated in them,
        covered when every region has respondents.

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per year × area of every level.
    """
    present = data[[year, kommune]].drop_duplicates()
    rows = []
    regions = geography.kommuner()[["kommune_code", "region_code"]]
    for wave, group in present.groupby(year, sort=True):
        codes = set(group[kommune].astype("int64"))
        national = int(wave) in national_years
        regions_present = regions.loc[regions["kommune_code"].isin(codes), "region_code"]
        all_regions = regions_present.nunique() == regions["region_code"].nunique()
        for level in geography.LEVELS:
            members = geography.membership(level)
            members = members.assign(here=members["kommune_code"].isin(codes))
            counts = members.groupby("area_code", sort=False)["here"].agg(["sum", "size"])
            for area_code, (n_present, n_total) in counts.iterrows():
                if national:
                    covered = level == "land" and all_regions
                else:
                    covered = n_present == n_total
                rows.append(
                    {
                        "source": source,
                        "year": int(wave),
                        "area_level": level,
                        "area_code": str(area_code),
                        "kommuner_present": int(n_present),
                        "kommuner_total": int(n_total),
                        "covered": bool(covered),
                    }
                )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _covered_keys(coverage: pd.DataFrame, source: str) -> pd.MultiIndex:
    rows = coverage[(coverage["source"] == source) & coverage["covered"]]
    return pd.MultiIndex.from_frame(rows[["year", "area_level", "area_code"]])


def restrict(table: pd.DataFrame, coverage: pd.DataFrame, source: str = "survey") -> pd.DataFrame:
    """The rows of ``table`` (with ``year``, ``area_level``, ``area_code``) for covered areas.

    Comparison columns (``vs_region_*``, ``vs_land_*``) are emptied where the parent is not
    covered in that wave: the rest of a partly delivered parent is not the rest of the parent.
    """
    keys = _covered_keys(coverage, source)
    rows = pd.MultiIndex.from_arrays(
        [table["year"].astype("int64"), table["area_level"], table["area_code"].astype(str)]
    )
    out = table[rows.isin(keys)].copy()
    for prefix, parent_level in _COMPARISONS.items():
        columns = [c for c in out.columns if c.startswith(f"{prefix}_")]
        if not columns or out.empty:
            continue
        parent = _parent_codes(out, parent_level)
        parent_keys = pd.MultiIndex.from_arrays(
            [out["year"].astype("int64"), np.full(len(out), parent_level), parent]
        )
        uncovered = ~parent_keys.isin(keys)
        out.loc[uncovered, columns] = np.nan
    return out.reset_index(drop=True)


def restrict_comparisons(table: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """The rows of a comparison table (an area, ``area_level``/``area_code``, against the rest
    of a named parent, ``parent_level``/``parent_code``, in ``year``) whose area and parent are
    both covered in that wave — e.g. a kommune against the rest of its sundhedsklynge: the rest
    of a partly delivered klynge is not the rest of the klynge."""
    keys = _covered_keys(coverage, "survey")
    year = table["year"].astype("int64")
    area = pd.MultiIndex.from_arrays([year, table["area_level"], table["area_code"].astype(str)])
    parent = pd.MultiIndex.from_arrays(
        [year, table["parent_level"], table["parent_code"].astype(str)]
    )
    return table[area.isin(keys) & parent.isin(keys)].reset_index(drop=True)


def _parent_codes(table: pd.DataFrame, parent_level: str) -> np.ndarray:
    if parent_level == "land":
        return np.full(len(table), geography.COUNTRY_CODE, dtype=object)
    lookup = {}
    for level in ("sundhedsklynge", "kommune"):
        areas = geography.areas(level)
        lookup.update(
            {
                (level, code): str(region)
                for code, region in zip(areas["area_code"], areas["region_code"], strict=True)
            }
        )
    return np.array(
        [
            lookup.get((level, str(code)), "")
            for level, code in zip(table["area_level"], table["area_code"], strict=True)
        ],
        dtype=object,
    )


def restrict_models(
    table: pd.DataFrame, coverage: pd.DataFrame, source: str = "survey", waves: str = "waves"
) -> pd.DataFrame:
    """Rows of a model table (trend per area over ``waves``, a comma-separated list) whose area
    is covered in every wave the model uses (and in at least one wave)."""
    keys = set(_covered_keys(coverage, source))
    anywhere = {(level, code) for _, level, code in keys}
    keep = [
        (level, str(code)) in anywhere
        and all((int(y), level, str(code)) in keys for y in str(listed).split(",") if y.strip())
        for level, code, listed in zip(
            table["area_level"], table["area_code"], table[waves].fillna(""), strict=True
        )
    ]
    return table[np.asarray(keep, dtype=bool)].reset_index(drop=True)


def restrict_gap_change(table: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Rows of the gap-change table whose area is covered in its baseline and latest wave (and,
    where both are missing, in some wave)."""
    keys = set(_covered_keys(coverage, "survey"))
    anywhere = {(level, code) for _, level, code in keys}
    keep = []
    for level, code, *years in zip(
        table["area_level"], table["area_code"], table["baseline"], table["latest"], strict=True
    ):
        known = [int(y) for y in years if pd.notna(y)]
        keep.append(
            all((y, level, str(code)) in keys for y in known) and (level, str(code)) in anywhere
        )
    return table[np.asarray(keep, dtype=bool)].reset_index(drop=True)


def covered_areas(coverage: pd.DataFrame, source: str = "survey") -> pd.DataFrame:
    """Areas covered in at least one wave: ``area_level``, ``area_code``, ``years`` (list)."""
    rows = coverage[(coverage["source"] == source) & coverage["covered"]]
    grouped = rows.groupby(["area_level", "area_code"], sort=False)["year"].apply(sorted)
    return grouped.rename("years").reset_index()


def is_covered(coverage: pd.DataFrame, level: str, code: str, source: str = "survey") -> bool:
    """Whether an area is covered in at least one wave of the delivery."""
    rows = coverage[
        (coverage["source"] == source)
        & (coverage["area_level"] == level)
        & (coverage["area_code"] == str(code))
    ]
    return bool(rows["covered"].any())


def region_summary(coverage: pd.DataFrame, source: str = "survey") -> pd.DataFrame:
    """Per wave and region: kommuner present of all, and whether the region and Denmark are
    covered (what ``analyse check`` prints)."""
    rows = coverage[(coverage["source"] == source) & (coverage["area_level"] == "region")]
    land = coverage[(coverage["source"] == source) & (coverage["area_level"] == "land")]
    names = geography.areas("region").set_index("area_code")["area_name"]
    out = rows.assign(region=rows["area_code"].map(names))
    land_covered = land.set_index("year")["covered"]
    out = out.assign(land_covered=out["year"].map(land_covered).fillna(False).astype(bool))
    return out[
        [
            "year",
            "area_code",
            "region",
            "kommuner_present",
            "kommuner_total",
            "covered",
            "land_covered",
        ]
    ].reset_index(drop=True)


def uncovered_message(coverage: pd.DataFrame, level: str, code: str) -> str:
    """Why an area cannot be estimated from this delivery, and which areas of its level can."""
    rows = coverage[
        (coverage["source"] == "survey")
        & (coverage["area_level"] == level)
        & (coverage["area_code"] == str(code))
    ]
    name = geography.display_name(level, code)
    present = int(rows["kommuner_present"].max()) if len(rows) else 0
    if present == 0:
        why = f"the delivery holds no survey data for {name}"
    else:
        why = (
            f"the delivery does not cover {name}: at most {present} of its "
            f"{int(rows['kommuner_total'].max())} kommuner are in the data of a wave, and "
            "estimates for an area need all its kommuner"
        )
    covered = covered_areas(coverage)
    same = covered[covered["area_level"] == level]["area_code"]
    if len(same):
        listed = ", ".join(f"{c} ({geography.display_name(level, c)})" for c in same)
        return f"{why}. Covered {level} areas: {listed}"
    return f"{why}. The delivery covers no {level} area (see `analyse check`)"


def check_covered(coverage: pd.DataFrame, level: str, code: str) -> None:
    """Raise :class:`ParameterError` (with :func:`uncovered_message`) unless the area is covered."""
    if not is_covered(coverage, level, code):
        raise ParameterError(uncovered_message(coverage, level, code))
