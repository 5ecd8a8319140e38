"""Population tables shipped with the package: the standard population for direct standardisation
and the population aged 16+ per kommune (for the plausibility check of survey weights).

The tables are package data (``analyse/reference/data``) with their sources in
``data/SOURCES.md``.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

from analyse.errors import ParameterError

__all__ = [
    "DEFAULT_STANDARD",
    "POPULATION_16PLUS_SOURCE",
    "STANDARDS",
    "kommune_population_16plus",
    "load_standard",
]

_POPULATION = "population"
_SHARE = "share"

# The shipped standards: name -> file in analyse/reference/data. The name says what and when, so a brief
# that prints it tells the reader which population the rates are standardised to.
STANDARDS = {"dk-folk1a-2025k4-16plus": "standard_population_dk.csv"}
DEFAULT_STANDARD = "dk-folk1a-2025k4-16plus"


def load_standard(name: str | None = None) -> pd.DataFrame:
    """Return a shipped standard population.

    Parameters
    ----------
    name : str, optional
        Name of the standard; None gives :data:`DEFAULT_STANDARD`, the Danish population aged
        16+ on 1 October 2025 by sex (``"Mænd"``, ``"Kvinder"``) and age group (``"16-24"``,
        ``"25-34"``, ..., ``"65-74"``, ``"75+"``), summed from single years of age in DST
        StatBank table FOLK1A, 2025K4, all of Denmark (source in ``analyse/reference/data/SOURCES.md``).

    Returns
    -------
    pandas.DataFrame
        Columns ``sex``, ``age_group``, ``population`` (persons) and ``share`` (population /
        total, recomputed from ``population`` so the shares sum to 1 exactly). The frame's
        ``attrs["name"]`` holds the standard's name.

    Raises
    ------
    ParameterError
        Unknown name.
    """
    name = DEFAULT_STANDARD if name is None else name
    if name not in STANDARDS:
        raise ParameterError(
            f"unknown standard population {name!r}; shipped standards: {', '.join(STANDARDS)}. "
            "Pass your own as a DataFrame with the stratum columns and 'population'"
        )
    path = files("analyse.reference") / "data" / STANDARDS[name]
    with path.open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype={"sex": str, "age_group": str})
    table[_SHARE] = table[_POPULATION] / table[_POPULATION].sum()
    table.attrs["name"] = name
    return table


#: The national share of the population aged 16+ (see :func:`kommune_population_16plus`).
POPULATION_16PLUS_SOURCE = (
    "folketal pr. kommune 1. januar 2026 (DST FOLK1A 2026K1, alle aldre) gange landets andel på "
    "16 år og derover (DST FOLK1A 2025K4: 5.023.359 af 6.025.511 = 83,4 pct.)"
)


def kommune_population_16plus() -> pd.DataFrame:
    """Population aged 16+ per kommune, approximated from shipped tables.

    No kommune × age table ships with the package, so the 16+ population of a kommune is its
    population of all ages on 1 January 2026 (``folketal_2026.csv``, DST FOLK1A 2026K1) times
    the national share aged 16+: 5,023,359 persons aged 16+ on 1 October 2025
    (``standard_population_dk.csv``, DST FOLK1A 2025K4) over 6,025,511 of all ages, i.e.
    83.4 %. The real share varies between kommuner (about 80–87 %: university towns have more
    young adults, suburbs more children), and populations have changed since the early waves
    (Denmark grew by about 8 % from 2010 to 2026, København by about 20 %), so the figure is
    only good for a plausibility check of calibration weights, which sum to the 16+ population
    of the wave (analyse.data.validate.weight_checks allows for that).

    Returns
    -------
    DataFrame with ``kommune_code`` (int) and ``population_16plus`` (float), 98 rows.
    """
    with (files("analyse.reference") / "data" / "folketal_2026.csv").open(encoding="utf-8") as h:
        folk = pd.read_csv(h)
    national_16plus = load_standard()[_POPULATION].sum()
    share = national_16plus / folk["folketal"].sum()
    return pd.DataFrame(
        {
            "kommune_code": folk["kommune_kode"].astype("int64"),
            "population_16plus": folk["folketal"].astype(float) * share,
        }
    )
