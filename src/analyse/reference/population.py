"""Population tables shipped with the package: the standard population for direct standardisation.

The tables are package data (``analyse/reference/data``) with their sources in
``data/SOURCES.md``.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

from analyse.errors import ParameterError

__all__ = ["DEFAULT_STANDARD", "STANDARDS", "load_standard"]

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
