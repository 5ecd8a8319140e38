"""The synthetic 16+ population: kommune × sex × age group × education × labour market × herkomst.

Deterministic (no randomness): each kommune's 16+ population (DST FOLK1A, 1 January 2026) is
split into cells from national templates shifted by how urban the kommune is and by an
education score. The templates are plausible, not official statistics (``docs/raw_format.md``
§3.1 lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from analyse.reference import geography

KOMMUNE_WAVES = (2010, 2013, 2017, 2021, 2025)
NATIONAL_WAVE = 2023
WAVES = (2010, 2013, 2017, 2021, 2023, 2025)

AGE_GROUPS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
AGE_BOUNDS = ((16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 99))
SEXES = ("male", "female")  # raw codes 1, 2
EDU_CODES = (1, 2, 3, 4, 5, 6)  # raw `udd`
LM_CODES = (1, 2, 3, 4, 5, 6)  # raw `beskaeft`
HERKOMST = (1, 2)

# --- population templates (shares; see docs/raw_format.md) -------------------------------------
AGE_SHARE = np.array([0.135, 0.155, 0.140, 0.155, 0.150, 0.130, 0.135])
# How the age profile shifts with urbanity u (log scale per unit of u).
AGE_URBAN_SHIFT = np.array([0.35, 0.35, 0.05, -0.05, -0.15, -0.30, -0.30])
FEMALE_SHARE = np.array([0.49, 0.49, 0.495, 0.50, 0.505, 0.515, 0.57])
EDU_BY_AGE = np.array(
    [
        [0.55, 0.33, 0.08, 0.01, 0.03, 0.00],
        [0.14, 0.12, 0.26, 0.06, 0.24, 0.18],
        [0.15, 0.07, 0.32, 0.06, 0.23, 0.17],
        [0.19, 0.05, 0.38, 0.06, 0.20, 0.12],
        [0.24, 0.04, 0.40, 0.05, 0.18, 0.09],
        [0.32, 0.04, 0.36, 0.04, 0.16, 0.08],
        [0.45, 0.04, 0.28, 0.03, 0.14, 0.06],
    ]
)
# Education shift per unit of the kommune's education score (log scale), and for women.
EDU_KOMMUNE_SHIFT = np.array([-0.5, 0.1, -0.25, 0.0, 0.3, 0.8])
EDU_FEMALE_SHIFT = np.array([0.0, 0.1, -0.25, -0.1, 0.3, 0.0])
LM_BY_AGE = np.array(
    [
        [0.40, 0.03, 0.52, 0.005, 0.0, 0.045],
        [0.80, 0.05, 0.08, 0.02, 0.0, 0.05],
        [0.86, 0.04, 0.01, 0.03, 0.0, 0.06],
        [0.85, 0.04, 0.005, 0.05, 0.0, 0.055],
        [0.70, 0.04, 0.0, 0.09, 0.10, 0.07],
        [0.18, 0.005, 0.0, 0.0, 0.80, 0.015],
        [0.02, 0.0, 0.0, 0.0, 0.98, 0.0],
    ]
)
# Short education raises unemployment, early retirement and "other outside" (log scale).
LM_EDU_SHIFT = np.array(
    [
        [0.0, 0.7, 0.0, 0.8, 0.0, 0.6],
        [0.0, 0.2, 0.2, 0.2, 0.0, 0.2],
        [0.0, 0.2, 0.0, 0.3, 0.0, 0.2],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, -0.2, 0.0, -0.4, 0.0, -0.2],
        [0.0, -0.4, 0.0, -0.7, 0.0, -0.4],
    ]
)
IMMIGRANT_AGE = np.array([1.2, 1.4, 1.3, 1.1, 0.8, 0.5, 0.3])
IMMIGRANT_SHARE = {
    183: 0.38,
    153: 0.38,
    165: 0.30,
    169: 0.28,
    101: 0.26,
    167: 0.24,
    175: 0.24,
    161: 0.22,
    163: 0.22,
    159: 0.20,
    461: 0.20,
    751: 0.19,
    147: 0.18,
    185: 0.17,
}
UNIVERSITY_TOWNS = {101: 1.4, 147: 1.2, 751: 1.3, 461: 1.1, 851: 1.1}
HIGH_EDUCATION = {
    157: 1.5,
    230: 1.4,
    173: 1.3,
    223: 1.2,
    147: 1.2,
    101: 1.0,
    751: 0.9,
    201: 0.8,
    190: 0.6,
    461: 0.4,
    851: 0.4,
    159: 0.3,
}


def data_path(name: str) -> Path:
    """Path of a package data file of :mod:`analyse.reference` (``reference/data/<name>``)."""
    return Path(str(files("analyse.reference") / "data" / name))


@dataclass
class Population:
    """Cell counts of the 16+ population: ``counts[k, c]`` for kommune k and cell c."""

    kommune_codes: np.ndarray
    region_codes: np.ndarray
    kommune_names: list[str]
    counts: np.ndarray
    sex: np.ndarray  # per cell: 0 men, 1 women
    age: np.ndarray  # 0..6
    edu: np.ndarray  # 0..5 (raw code − 1)
    lm: np.ndarray  # 0..5
    herkomst: np.ndarray  # 0 Danish, 1 immigrant
    urbanity: np.ndarray = field(repr=False)

    @property
    def totals(self) -> np.ndarray:
        return self.counts.sum(axis=1)


def build_population() -> Population:
    """The synthetic 16+ population per kommune, cell by cell (deterministic, no randomness)."""
    folk = pd.read_csv(data_path("folketal_2026.csv"))
    kommuner = geography.kommuner().merge(
        folk[["kommune_kode", "folketal"]], left_on="kommune_code", right_on="kommune_kode"
    )
    kommuner = kommuner.sort_values("kommune_code").reset_index(drop=True)
    pop_all = kommuner["folketal"].to_numpy(float)
    codes = kommuner["kommune_code"].to_numpy()
    urban = np.clip((np.log(pop_all) - np.log(50_000)) / 1.5, -1.0, 1.0)
    urban = np.array([UNIVERSITY_TOWNS.get(int(c), u) for c, u in zip(codes, urban, strict=True)])
    edu_score = np.array(
        [HIGH_EDUCATION.get(int(c), 0.35 * u) for c, u in zip(codes, urban, strict=True)]
    )
    share16 = np.where(urban > 1.0, 0.85, 0.82)
    n16 = pop_all * share16

    grid = np.stack(
        np.meshgrid(range(2), range(7), range(6), range(6), range(2), indexing="ij"), -1
    )
    sex, age, edu, lm, her = (grid.reshape(-1, 5)[:, i] for i in range(5))

    counts = np.empty((len(codes), sex.size))
    for k in range(len(codes)):
        p_age = AGE_SHARE * np.exp(AGE_URBAN_SHIFT * urban[k])
        p_age /= p_age.sum()
        p_sex = np.stack([1 - FEMALE_SHARE, FEMALE_SHARE])  # [sex, age]
        p_edu = EDU_BY_AGE[None, :, :] * np.exp(
            EDU_KOMMUNE_SHIFT[None, None, :] * edu_score[k]
            + EDU_FEMALE_SHIFT[None, None, :] * np.arange(2)[:, None, None]
        )
        p_edu /= p_edu.sum(axis=2, keepdims=True)  # [sex, age, edu]
        p_lm = LM_BY_AGE[:, None, :] * np.exp(LM_EDU_SHIFT[None, :, :])
        p_lm /= p_lm.sum(axis=2, keepdims=True)  # [age, edu, lm]
        base = IMMIGRANT_SHARE.get(
            int(codes[k]), float(np.clip(0.10 + 0.05 * urban[k], 0.06, 0.16))
        )
        p_imm = np.clip(base * IMMIGRANT_AGE, 0, 0.9)  # [age]
        p_her = np.stack([1 - p_imm, p_imm], axis=-1)  # [age, her]
        cell = (
            p_age[age]
            * p_sex[sex, age]
            * p_edu[sex, age, edu]
            * p_lm[age, edu, lm]
            * p_her[age, her]
        )
        counts[k] = n16[k] * cell / cell.sum()
    return Population(
        kommune_codes=codes,
        region_codes=kommuner["region_code"].to_numpy(),
        kommune_names=kommuner["kommune"].tolist(),
        counts=counts,
        sex=sex,
        age=age,
        edu=edu,
        lm=lm,
        herkomst=her,
        urbanity=urban,
    )


def population_table() -> pd.DataFrame:
    """The synthetic 16+ population per kommune × sex × age group × education (long format).

    The population tables of the synthetic delivery, in the format that
    :func:`analyse.cube.smallarea.model_estimates` reads for its composition covariates (for a
    real delivery: DST FOLK1A and HFUDD). Education is the codebook's grouping (all ages).

    Returns
    -------
    DataFrame with ``kommune_code`` (int), ``sex`` (Mænd/Kvinder), ``age_group``
    (16-24 … 75+), ``education`` and ``population`` (persons, not rounded).
    """
    from analyse.data.codebook import load_codebook

    pop = build_population()
    book = load_codebook()
    edu_labels = np.array(book.recodes["education"].labels, dtype=object)
    edu_group = np.array([0, 1, 1, 2, 3, 4])[pop.edu]
    cell = pd.DataFrame(
        {
            "sex": np.array(book.recodes["sex"].labels, dtype=object)[pop.sex],
            "age_group": np.array(AGE_GROUPS, dtype=object)[pop.age],
            "education": edu_labels[edu_group],
        }
    )
    frames = []
    for k, code in enumerate(pop.kommune_codes):
        frames.append(cell.assign(kommune_code=int(code), population=pop.counts[k]))
    long = pd.concat(frames, ignore_index=True)
    keys = ["kommune_code", "sex", "age_group", "education"]
    return long.groupby(keys, sort=True, as_index=False)["population"].sum()
