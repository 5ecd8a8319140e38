"""Danish geography: kommune → region → sundhedsklynge, and the areas a brief can be made for.

The lookup ships as package data (``data/geography.csv``, copied from the project's shared facts,
which cite their sources). A kommune can sit in two sundhedsklynger (København, Vejen); the
``membership_source`` column says whether a membership was confirmed in a public source or
inferred from hospital catchment areas.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from importlib.resources import files

import pandas as pd

from analyse.errors import ParameterError

LEVELS = ("land", "region", "sundhedsklynge", "kommune")
COUNTRY_CODE = "DK"
COUNTRY_NAME = "Hele landet"

# Danish letters are transliterated the Danish way before any other ASCII folding,
# so "Ærø" becomes "aeroe" and not "ro".
_DANISH_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def slugify(text: str) -> str:
    """Return an ASCII file-name slug: ``"Sønderjylland (Sygehus)"`` → ``"soenderjylland-sygehus"``."""
    folded = unicodedata.normalize("NFKD", text.translate(_DANISH_ASCII))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def klynge_code(name: str) -> str:
    """Area code of a sundhedsklynge: its name without the hospital in brackets, slugified."""
    return slugify(re.sub(r"\(.*?\)", "", name))


@lru_cache(maxsize=1)
def _geography() -> pd.DataFrame:
    path = files("analyse.reference") / "data" / "geography.csv"
    with path.open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype={"kommune_code": "int64", "region_code": "int64"})
    table["sundhedsklynge_code"] = table["sundhedsklynge"].map(klynge_code)
    return table


def load_geography() -> pd.DataFrame:
    """One row per kommune × sundhedsklynge membership.

    Returns
    -------
    DataFrame with ``kommune_code`` (int), ``kommune``, ``region_code`` (int), ``region``,
    ``sundhedsklynge``, ``sundhedsklynge_code`` and ``membership_source``
    (``confirmed``/``inferred``).
    """
    return _geography().copy()


def kommuner() -> pd.DataFrame:
    """One row per kommune: ``kommune_code``, ``kommune``, ``region_code``, ``region``."""
    cols = ["kommune_code", "kommune", "region_code", "region"]
    return _geography()[cols].drop_duplicates("kommune_code").reset_index(drop=True)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ParameterError(f"unknown area level {level!r}; use one of: {', '.join(LEVELS)}")


@cache
def _areas(level: str) -> pd.DataFrame:
    geo = _geography()
    if level == "land":
        rows = pd.DataFrame(
            {"area_code": [COUNTRY_CODE], "area_name": [COUNTRY_NAME], "region_code": [pd.NA]}
        )
    elif level == "region":
        rows = geo.drop_duplicates("region_code")[["region_code", "region"]].rename(
            columns={"region": "area_name"}
        )
        rows["area_code"] = rows["region_code"].astype(str)
    elif level == "sundhedsklynge":
        rows = geo.drop_duplicates("sundhedsklynge_code")[
            ["sundhedsklynge_code", "sundhedsklynge", "region_code"]
        ].rename(columns={"sundhedsklynge_code": "area_code", "sundhedsklynge": "area_name"})
    else:
        rows = geo.drop_duplicates("kommune_code")[["kommune_code", "kommune", "region_code"]]
        rows = rows.rename(columns={"kommune": "area_name"})
        rows["area_code"] = rows["kommune_code"].astype(str)
    rows = rows.assign(area_level=level)
    rows["region_code"] = rows["region_code"].astype("Int64")
    rows["slug"] = [_slug(level, name) for name in rows["area_name"]]
    out = rows[["area_level", "area_code", "area_name", "region_code", "slug"]]
    return out.sort_values(["region_code", "area_code"], na_position="first").reset_index(drop=True)


def _slug(level: str, name: str) -> str:
    """The level, then the name, without repeating the level: "kommune-odense",
    "region-syddanmark" (not "region-region-syddanmark"), "land-danmark"."""
    if level == "land":
        return "land-danmark"
    name = slugify(name)
    return name if name.startswith(f"{level}-") else f"{level}-{name}"


def areas(level: str) -> pd.DataFrame:
    """Areas of one level (``land``, ``region``, ``sundhedsklynge``, ``kommune``).

    Returns
    -------
    DataFrame with ``area_level``, ``area_code`` (str: ``"DK"``, ``"1083"``, a klynge slug or a
    kommune code such as ``"461"``), ``area_name`` (Danish), ``region_code`` (nullable int; missing
    for ``land``) and ``slug`` (ASCII, unique across levels, for file names).

    Raises
    ------
    ParameterError
        If ``level`` is not one of the four levels.
    """
    _check_level(level)
    return _areas(level).copy()


def all_areas() -> pd.DataFrame:
    """All areas of all levels, in the order land, regions, klynger, kommuner."""
    return pd.concat([_areas(level) for level in LEVELS], ignore_index=True)


def area(level: str, area_code: str | int) -> pd.Series:
    """The row of :func:`areas` for one area; raises :class:`ParameterError` if unknown."""
    table = areas(level)
    code = str(area_code).strip()
    match = table[table["area_code"] == code]
    if match.empty:
        if level == "kommune":
            known = ", ".join(sorted(table["area_code"], key=int))
        else:
            known = ", ".join(
                f"{c} ({n})" for c, n in zip(table["area_code"], table["area_name"], strict=True)
            )
        raise ParameterError(
            f"unknown {level} code {code!r}; the {level} codes are: {known} "
            f"(names: `analyse areas {level}`)"
        )
    return match.iloc[0]


# Official names that are not "<name> Kommune".
_KOMMUNE_NAMES = {101: "Københavns Kommune", 400: "Bornholms Regionskommune"}


def display_name(level: str, area_code: str | int) -> str:
    """The name a reader expects: "Odense Kommune", "Region Syddanmark", "Hele landet"."""
    row = area(level, area_code)
    if level == "kommune":
        code = int(row["area_code"])
        return _KOMMUNE_NAMES.get(code, f"{row['area_name']} Kommune")
    if level == "sundhedsklynge":
        return f"Sundhedsklynge {row['area_name']}"
    return str(row["area_name"])


def members(level: str, area_code: str | int) -> list[int]:
    """Kommune codes (sorted) that make up an area.

    Raises
    ------
    ParameterError
        If the level or the code is unknown.
    """
    area(level, area_code)  # validates level and code
    geo = _geography()
    code = str(area_code).strip()
    if level == "land":
        selected = geo["kommune_code"]
    elif level == "region":
        selected = geo.loc[geo["region_code"].astype(str) == code, "kommune_code"]
    elif level == "sundhedsklynge":
        selected = geo.loc[geo["sundhedsklynge_code"] == code, "kommune_code"]
    else:
        selected = geo.loc[geo["kommune_code"].astype(str) == code, "kommune_code"]
    return sorted(int(k) for k in selected.unique())


def membership(level: str) -> pd.DataFrame:
    """Long table ``area_code`` × ``kommune_code`` for every area of a level.

    Used to aggregate kommune-level data to any level in one pass (a kommune that sits in two
    klynger appears under both).
    """
    _check_level(level)
    return _membership(level).copy()


@cache
def _membership(level: str) -> pd.DataFrame:
    geo = _geography()
    if level == "land":
        table = pd.DataFrame({"area_code": COUNTRY_CODE, "kommune_code": geo["kommune_code"]})
    elif level == "region":
        table = pd.DataFrame(
            {"area_code": geo["region_code"].astype(str), "kommune_code": geo["kommune_code"]}
        )
    elif level == "sundhedsklynge":
        table = geo[["sundhedsklynge_code", "kommune_code"]].rename(
            columns={"sundhedsklynge_code": "area_code"}
        )
    else:
        table = pd.DataFrame(
            {"area_code": geo["kommune_code"].astype(str), "kommune_code": geo["kommune_code"]}
        )
    table = table.drop_duplicates().assign(area_level=level)
    return table[["area_level", "area_code", "kommune_code"]].reset_index(drop=True)


def parent_region(kommune_code: int) -> int:
    """Region code of a kommune; raises :class:`ParameterError` if the kommune is unknown."""
    row = area("kommune", kommune_code)
    return int(row["region_code"])


def area_hierarchy() -> pd.DataFrame:
    """Parent–child links between areas along which cells add up, from :mod:`analyse.reference.geography`.

    Returns
    -------
    DataFrame with ``parent_level``, ``parent_code``, ``child_level``, ``child_code`` (codes as
    strings): every sundhedsklynge and region with its kommuner, and Denmark with its regions.
    A kommune in two klynger is a child of both.
    """
    links = []
    for level in ("sundhedsklynge", "region"):
        members = membership(level)
        links.append(
            pd.DataFrame(
                {
                    "parent_level": level,
                    "parent_code": members["area_code"].astype(str),
                    "child_level": "kommune",
                    "child_code": members["kommune_code"].astype(str),
                }
            )
        )
    regions = areas("region")
    links.append(
        pd.DataFrame(
            {
                "parent_level": "land",
                "parent_code": COUNTRY_CODE,
                "child_level": "region",
                "child_code": regions["area_code"].astype(str),
            }
        )
    )
    return pd.concat(links, ignore_index=True)
