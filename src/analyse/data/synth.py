"""The embedded default: a seeded synthetic Sundhedsprofil raw delivery for all 98 kommuner.

Real Sundhedsprofil microdata cannot be shipped, so a fresh clone runs on data that behave like a
real delivery: the same design (a sample per kommune, stratified by kommune, calibration weights),
the same raw layout (Danish names, numeric codes, missing codes, items rather than indicators,
items absent in the waves where they were not asked) and the same published levels.

How it works (see ``docs/raw_format.md`` for the details and every assumption):

1. **Population.** Each kommune's 16+ population is split into cells of sex × age group ×
   education × labour market × herkomst from national templates, shifted by how urban the kommune
   is (university towns are younger and have more long education).
2. **Truth.** For every indicator and wave a person's probability is
   ``logit p = α(kommune, wave) + β(sex, age, education, labour market)``. The gradients β are
   plausible odds ratios, some calibrated to the published national gradients
   (``data/synth_targets_national.csv``); the kommune × wave effects α are solved so that the
   *population* prevalence of every kommune equals its published danskernessundhed.dk value
   (``data/danskernessundhed_kommune_indicators.csv``). Weighted estimates therefore reproduce
   the published figures within sampling error.
3. **Sample and response.** About 2,000 invited per kommune and wave (fewer in the smallest
   kommuner), response 50–65 % that is lower for young men, short education and immigrants; the
   2023 wave is a national sample of 25,000 without kommune stratification.
4. **Weights** are made as a statistics office makes them: design weight × raking to the
   kommune's population margins (sex × age group, education, herkomst), bounded to 0.2–5 × the
   design weight, not the true response probabilities.
5. **Items.** Each person's answers are generated from their true indicator values (PSS-10 items
   that sum to a stress score on the right side of the cut-off, seven weekday alcohol counts, height
   and weight, …), with realistic missing codes, implausible values and unit slips. The generator
   keeps the truth — the indicator value the answers define — so tests can check the cleaning.

Everything is driven by one seed: the same seed gives byte-identical files.

One unit of about 1,500 lines because the population, the truth, the sample, the weights and
the items share one seeded random stream and one set of calibrated parameters: splitting it
would scatter the generator's assumptions (each documented in ``docs/raw_format.md``) over
modules that cannot be used on their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from analyse.data.codebook import Codebook, load_codebook
from analyse.errors import ParameterError
from analyse.reference import geography

DEFAULT_SEED = 20240101
FORMATS = ("sav", "parquet", "csv", "dta")
DEFAULT_FORMAT = "sav"
KOMMUNE_WAVES = (2010, 2013, 2017, 2021, 2025)
NATIONAL_WAVE = 2023
WAVES = (2010, 2013, 2017, 2021, 2023, 2025)
INVITED_PER_KOMMUNE = 2000
INVITED_NATIONAL = 25_000
# Small kommuner cannot send 2,000 invitations; at most this share of the 16+ population is invited.
MAX_SAMPLING_FRACTION = 0.6
REGISTER_YEARS = tuple(range(2015, 2026))
STATUS_YEARS = (2024, 2025, 2026)
MARKER_FILE = "SYNTETISKE_DATA.json"

AGE_GROUPS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
AGE_BOUNDS = ((16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 99))
SEXES = ("male", "female")  # raw codes 1, 2
EDU_CODES = (1, 2, 3, 4, 5, 6)  # raw `udd`
LM_CODES = (1, 2, 3, 4, 5, 6)  # raw `beskaeft`
HERKOMST = (1, 2)

# Survey indicators the generator produces, and the published indicator each one is calibrated to
# (None: no kommune figures are published; national figures and plausible variation are used).
INDICATORS = (
    "poor_mental_health",
    "high_stress",
    "loneliness",
    "physically_active",
    "severe_obesity",
    "alcohol_over_10",
    "daily_smoking",
    "other_nicotine_use",
)
PUBLISHED = {
    "poor_mental_health": "mentalt_helbred",
    "daily_smoking": "rygning",
    "alcohol_over_10": "alkohol",
    "physically_active": "fysisk_aktivitet",  # published as the complement (not meeting WHO)
    "severe_obesity": "svaer_overvaegt",
    "loneliness": "ensomhed",
}
COMPLEMENT = {"physically_active"}
FIRST_WAVE = {"loneliness": 2021, "physically_active": 2021, "other_nicotine_use": 2021}
# Indicators without kommune figures borrow kommune variation from a related published one:
# logit(target_k) = logit(national) + LAMBDA × (logit(published_k) − logit(published_national)).
BORROWED_VARIATION = {
    "high_stress": ("poor_mental_health", 0.6),
    "other_nicotine_use": ("daily_smoking", 0.5),
}

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

# --- response propensity (logit scale) ----------------------------------------------------------
RESPONSE_SEX_AGE = np.array(
    [
        [-1.1, -0.8, -0.5, -0.2, 0.1, 0.35, 0.05],  # men
        [-0.5, -0.3, 0.0, 0.2, 0.4, 0.55, 0.1],  # women
    ]
)
RESPONSE_EDU = np.array([-0.75, -0.1, -0.25, 0.0, 0.3, 0.45])
RESPONSE_IMMIGRANT = -0.9
RESPONSE_REGION = {1081: 0.12, 1082: 0.05, 1083: 0.15, 1084: -0.15, 1085: 0.0}
# Raked weights stay within these multiples of the design weight.
RAKING_BOUNDS = (0.2, 5.0)
RESPONSE_RATE = {2010: 0.595, 2013: 0.54, 2017: 0.59, 2021: 0.567, 2023: 0.55, 2025: 0.50}


@dataclass(frozen=True)
class Gradient:
    """Log odds ratios of one indicator (reference: men, 45-54, LVU, employed, Danish origin)."""

    sex: tuple[float, float]
    age: tuple[float, ...]
    edu: tuple[float, ...]
    lm: tuple[float, ...]
    herkomst: tuple[float, float] = (0.0, 0.0)


def _or(*values: float) -> tuple[float, ...]:
    return tuple(float(np.log(v)) for v in values)


# Plausible odds ratios (assumptions documented in docs/raw_format.md); the ones with a national
# target are recalibrated below.
GRADIENTS = {
    "poor_mental_health": Gradient(
        sex=_or(1, 1.4),
        age=_or(1.9, 1.3, 1.1, 1, 0.8, 0.55, 0.75),
        edu=_or(1.5, 1.2, 1.25, 1.12, 1.06, 1),
        lm=_or(1, 3.0, 1.4, 3.8, 0.8, 4.3),
    ),
    "high_stress": Gradient(
        sex=_or(1, 1.5),
        age=_or(1.8, 1.2, 1.05, 1, 0.85, 0.6, 0.7),
        edu=_or(1.5, 1.2, 1.2, 1.1, 1.05, 1),
        lm=_or(1, 2.5, 1.5, 3.0, 0.7, 2.8),
    ),
    "loneliness": Gradient(
        sex=_or(1, 1.15),
        age=_or(2.2, 1.4, 1.0, 1, 0.9, 0.8, 1.3),
        edu=_or(1.6, 1.2, 1.25, 1.1, 1.05, 1),
        lm=_or(1, 2.2, 1.2, 3.0, 1.0, 2.5),
        herkomst=_or(1, 1.5),
    ),
    "physically_active": Gradient(
        sex=_or(1, 0.9),
        age=_or(1.5, 1.1, 0.95, 1, 1.0, 0.9, 0.5),
        edu=_or(0.6, 0.85, 0.75, 0.9, 1.0, 1),
        lm=_or(1, 0.8, 1.1, 0.5, 1.0, 0.6),
    ),
    "severe_obesity": Gradient(
        sex=_or(1, 0.95),
        age=_or(0.45, 0.8, 1.0, 1, 1.15, 1.1, 0.75),
        edu=_or(2.3, 1.7, 2.0, 1.6, 1.3, 1),
        lm=_or(1, 1.3, 0.8, 1.8, 1.0, 1.5),
    ),
    "alcohol_over_10": Gradient(
        sex=_or(1, 0.32),
        age=_or(1.6, 0.9, 0.8, 1, 1.3, 1.4, 0.9),
        edu=_or(0.9, 1.0, 1.0, 1.0, 0.95, 1),
        lm=_or(1, 1.2, 1.0, 1.1, 1.0, 1.2),
        herkomst=_or(1, 0.5),
    ),
    "daily_smoking": Gradient(
        sex=_or(1, 0.87),
        age=_or(0.8, 1.0, 1.1, 1, 1.1, 0.85, 0.45),
        edu=_or(2.6, 1.3, 2.0, 1.5, 1.1, 1),
        lm=_or(1, 1.8, 0.7, 2.0, 1.0, 1.6),
        herkomst=_or(1, 1.3),
    ),
    "other_nicotine_use": Gradient(
        sex=_or(1, 0.45),
        age=_or(6.0, 3.0, 1.5, 1, 0.6, 0.3, 0.15),
        edu=_or(1.3, 1.2, 1.5, 1.1, 0.9, 1),
        lm=_or(1, 1.3, 1.0, 1.2, 1.0, 1.2),
    ),
}


# ================================================================================================
# Package data
# ================================================================================================


def _data_path(name: str) -> Path:
    return Path(str(files("analyse.reference") / "data" / name))


@lru_cache(maxsize=1)
def published_kommune_targets() -> pd.DataFrame:
    """The published kommune prevalences the generator calibrates to, in its indicator ids.

    Returns
    -------
    DataFrame with ``indicator``, ``year``, ``kommune_code``, ``published_indicator``,
    ``published_pct`` (as published) and ``target`` (proportion 0–1 for the indicator as defined
    here: ``physically_active`` is 1 − the published "does not meet the WHO recommendation").
    """
    raw = pd.read_csv(_data_path("danskernessundhed_kommune_indicators.csv"))
    reverse = {v: k for k, v in PUBLISHED.items()}
    raw = raw[raw["indicator_id"].isin(reverse)].copy()
    raw["indicator"] = raw["indicator_id"].map(reverse)
    pct = raw["raw_value"].astype(float)
    raw["target"] = np.where(raw["indicator"].isin(COMPLEMENT), 1 - pct / 100, pct / 100)
    out = raw.rename(
        columns={
            "kommune_kode": "kommune_code",
            "aar": "year",
            "indicator_id": "published_indicator",
            "raw_value": "published_pct",
        }
    )
    cols = ["indicator", "year", "kommune_code", "published_indicator", "published_pct", "target"]
    return out[cols].sort_values(["indicator", "year", "kommune_code"]).reset_index(drop=True)


@lru_cache(maxsize=1)
def national_targets() -> pd.DataFrame:
    """National gradients from the published sources (``data/synth_targets_national.csv``)."""
    table = pd.read_csv(_data_path("synth_targets_national.csv"))
    table["target"] = table["target_pct"] / 100
    return table


# ================================================================================================
# Population
# ================================================================================================


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
    folk = pd.read_csv(_data_path("folketal_2026.csv"))
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
    pop = build_population()
    edu_labels = np.array(load_codebook().recodes["education"].labels, dtype=object)
    edu_group = np.array([0, 1, 1, 2, 3, 4])[pop.edu]
    cell = pd.DataFrame(
        {
            "sex": np.array(SEX_LABELS, dtype=object)[pop.sex],
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


# ================================================================================================
# Calibrated truth
# ================================================================================================


def _eta(pop: Population, grad: Gradient, youth: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Linear predictor per cell from a gradient (plus wave-specific young-men/women terms)."""
    eta = (
        np.asarray(grad.sex)[pop.sex]
        + np.asarray(grad.age)[pop.age]
        + np.asarray(grad.edu)[pop.edu]
        + np.asarray(grad.lm)[pop.lm]
        + np.asarray(grad.herkomst)[pop.herkomst]
    )
    return eta + np.where(pop.age == 0, np.asarray(youth)[pop.sex], 0.0)


def solve_intercepts(counts: np.ndarray, eta: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """α per kommune so that Σ_c N_kc expit(α_k + η_c) / N_k equals ``targets[k]`` (Newton)."""
    weights = counts / counts.sum(axis=1, keepdims=True)
    alpha = logit(np.clip(targets, 1e-4, 1 - 1e-4)) - (weights * eta).sum(axis=1)
    for _ in range(50):
        p = expit(alpha[:, None] + eta[None, :])
        f = (weights * p).sum(axis=1) - targets
        slope = (weights * p * (1 - p)).sum(axis=1)
        step = f / np.maximum(slope, 1e-12)
        alpha -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    return alpha


@dataclass
class Truth:
    """Per indicator and wave: kommune intercepts and the cell linear predictor."""

    alpha: dict[tuple[str, int], np.ndarray]
    eta: dict[tuple[str, int], np.ndarray]
    gradients: dict[str, Gradient]
    youth: dict[tuple[str, int], tuple[float, float]]

    def probability(self, indicator: str, year: int) -> np.ndarray:
        """Probability per kommune × cell."""
        return expit(self.alpha[(indicator, year)][:, None] + self.eta[(indicator, year)][None, :])


def _kommune_targets(pop: Population, indicator: str, year: int) -> np.ndarray | None:
    """Target prevalence per kommune (population order) for a kommune wave, or None if not set."""
    published = published_kommune_targets()
    if indicator in PUBLISHED:
        rows = published[(published["indicator"] == indicator) & (published["year"] == year)]
        if rows.empty:
            return None
        return rows.set_index("kommune_code").loc[pop.kommune_codes, "target"].to_numpy()
    donor, strength = BORROWED_VARIATION[indicator]
    national = national_targets()
    row = national[
        (national["indicator"] == indicator)
        & (national["year"] == year)
        & national["sex"].isna()
        & national["age_max"].isna()
        & national["education"].isna()
        & national["labour_market"].isna()
    ]
    if row.empty:
        return None
    donor_rows = published[(published["indicator"] == donor) & (published["year"] == year)]
    donor_k = donor_rows.set_index("kommune_code").loc[pop.kommune_codes, "target"].to_numpy()
    donor_national = np.average(donor_k, weights=pop.totals)
    shift = strength * (logit(donor_k) - logit(donor_national))
    national_target = float(row["target"].iloc[0])
    # A common logit shift keeps the population-weighted mean at the national figure.
    centre = logit(national_target)
    for _ in range(50):
        p = expit(centre + shift)
        f = np.average(p, weights=pop.totals) - national_target
        centre -= f / np.average(p * (1 - p), weights=pop.totals)
        if abs(f) < 1e-12:
            break
    return expit(centre + shift)


def _national_mask(pop: Population, row: pd.Series) -> np.ndarray:
    mask = np.ones(pop.sex.size, bool)
    if isinstance(row["sex"], str):
        mask &= pop.sex == SEXES.index(row["sex"])
    lo = np.array([b[0] for b in AGE_BOUNDS])[pop.age]
    hi = np.array([b[1] for b in AGE_BOUNDS])[pop.age]
    mask &= lo >= row["age_min"]
    if not pd.isna(row["age_max"]):
        mask &= hi <= row["age_max"]
    codebook = load_codebook()
    if isinstance(row["education"], str):
        codes = [
            c
            for c, lab in codebook.recodes["education"].code_to_label.items()
            if lab == row["education"]
        ]
        mask &= np.isin(pop.edu + 1, codes)
    if isinstance(row["labour_market"], str):
        codes = [
            c
            for c, lab in codebook.recodes["labour_market"].code_to_label.items()
            if lab == row["labour_market"]
        ]
        mask &= np.isin(pop.lm + 1, codes)
    return mask


def calibrate(pop: Population, iterations: int = 40) -> Truth:
    """Solve the kommune × wave intercepts and the calibrated gradient terms.

    Gradient terms with a national target are updated by fixed-point steps
    ``β ← β + logit(target) − logit(current)``, re-solving the kommune intercepts after each step,
    until every national target and every kommune target is met.
    """
    national = national_targets()
    grads = {
        k: Gradient(**{f: list(getattr(g, f)) for f in ("sex", "age", "edu", "lm", "herkomst")})
        for k, g in GRADIENTS.items()
    }
    youth: dict[tuple[str, int], list[float]] = {
        (i, y): [0.0, 0.0] for i in INDICATORS for y in WAVES
    }
    alpha: dict[tuple[str, int], np.ndarray] = {}
    eta: dict[tuple[str, int], np.ndarray] = {}
    totals = pop.totals

    for indicator in INDICATORS:
        grad = grads[indicator]
        rows = national[(national["indicator"] == indicator) & (national["year"] != NATIONAL_WAVE)]
        waves = [y for y in KOMMUNE_WAVES if y >= FIRST_WAVE.get(indicator, 2010)]
        for _ in range(iterations):
            worst = 0.0
            for year in waves:
                e = _eta(pop, grad, tuple(youth[(indicator, year)]))
                alpha[(indicator, year)] = solve_intercepts(
                    pop.counts, e, _kommune_targets(pop, indicator, year)
                )
                eta[(indicator, year)] = e
            for _, row in rows.iterrows():
                year = int(row["year"])
                if year not in waves:
                    continue
                p = expit(alpha[(indicator, year)][:, None] + eta[(indicator, year)][None, :])
                mask = _national_mask(pop, row)
                current = (pop.counts[:, mask] * p[:, mask]).sum() / pop.counts[:, mask].sum()
                step = float(logit(row["target"]) - logit(current))
                worst = max(worst, abs(step))
                _apply_step(grad, youth, indicator, year, row, step)
            if worst < 1e-6:
                break
        # The 2023 national wave: halfway between 2021 and 2025, shifted to the national target.
        if NATIONAL_WAVE >= FIRST_WAVE.get(indicator, 2010):
            y23 = youth[(indicator, NATIONAL_WAVE)]
            y23[:] = [
                (a + b) / 2
                for a, b in zip(youth[(indicator, 2021)], youth[(indicator, 2025)], strict=True)
            ]
            e = _eta(pop, grad, tuple(y23))
            a = (alpha[(indicator, 2021)] + alpha[(indicator, 2025)]) / 2
            rows23 = national[
                (national["indicator"] == indicator) & (national["year"] == NATIONAL_WAVE)
            ]
            for _ in range(iterations):
                worst = 0.0
                for _, row in rows23.iterrows():
                    mask = _national_mask(pop, row)
                    if mask.all():
                        delta = _shift_to(pop.counts, a, e, totals, float(row["target"]))
                        a = a + delta
                        worst = max(worst, abs(delta))
                        continue
                    # Young people in 2023: move their term to the target.
                    p = expit(a[:, None] + e[None, :])
                    current = (pop.counts[:, mask] * p[:, mask]).sum() / pop.counts[:, mask].sum()
                    step = float(logit(row["target"]) - logit(current))
                    worst = max(worst, abs(step))
                    y23[SEXES.index(row["sex"])] += step
                    e = _eta(pop, grad, tuple(y23))
                if worst < 1e-7:
                    break
            alpha[(indicator, NATIONAL_WAVE)] = a
            eta[(indicator, NATIONAL_WAVE)] = e
        grads[indicator] = grad
    return Truth(
        alpha=alpha,
        eta=eta,
        gradients={
            k: Gradient(
                **{f: tuple(getattr(g, f)) for f in ("sex", "age", "edu", "lm", "herkomst")}
            )
            for k, g in grads.items()
        },
        youth={k: (v[0], v[1]) for k, v in youth.items()},
    )


@lru_cache(maxsize=1)
def calibrated_model() -> tuple[Population, Truth]:
    """The population and its calibrated truth (deterministic, so computed once per process)."""
    pop = build_population()
    return pop, calibrate(pop)


def _shift_to(counts, alpha, eta, totals, target) -> float:
    """Common shift δ of all kommune intercepts so the national prevalence equals ``target``."""
    delta = 0.0
    for _ in range(50):
        p = expit(alpha[:, None] + delta + eta[None, :])
        current = (counts * p).sum() / totals.sum()
        slope = (counts * p * (1 - p)).sum() / totals.sum()
        step = (current - target) / slope
        delta -= step
        if abs(step) < 1e-12:
            break
    return delta


def _apply_step(
    grad: Gradient, youth, indicator: str, year: int, row: pd.Series, step: float
) -> None:
    """Move the gradient term that a national target row controls."""
    if not pd.isna(row["age_max"]) and row["age_max"] <= 24:
        youth[(indicator, year)][SEXES.index(row["sex"])] += step
    elif isinstance(row["education"], str):
        code = {"Grundskole": 0, "Lang videregående": 5}[row["education"]]
        if code == 5:  # LVU is the reference: move all other groups the other way
            for i in range(5):
                grad.edu[i] -= step
        else:
            grad.edu[code] += step
    elif isinstance(row["labour_market"], str):
        code = load_codebook().recodes["labour_market"].labels.index(row["labour_market"])
        grad.lm[code] += step
    elif isinstance(row["sex"], str):
        grad.sex[1] += step if row["sex"] == "female" else -step
    # Totals of indicators with kommune targets are met through the intercepts.


# ================================================================================================
# Sample, response, weights
# ================================================================================================


def _draw_cells(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(probs.size, size=size, p=probs / probs.sum())


def _exact_age(rng: np.random.Generator, age_group: np.ndarray) -> np.ndarray:
    lo = np.array([b[0] for b in AGE_BOUNDS])[age_group]
    hi = np.array([b[1] for b in AGE_BOUNDS])[age_group]
    age = lo + np.floor(rng.random(age_group.size) * (hi - lo + 1)).astype(int)
    old = age_group == 6
    age[old] = np.minimum(75 + np.floor(rng.exponential(6.5, old.sum())).astype(int), 102)
    return age


def _response_logit(pop: Population, region_codes: np.ndarray, cells: np.ndarray) -> np.ndarray:
    return (
        RESPONSE_SEX_AGE[pop.sex[cells], pop.age[cells]]
        + RESPONSE_EDU[pop.edu[cells]]
        + RESPONSE_IMMIGRANT * pop.herkomst[cells]
        + np.array([RESPONSE_REGION[int(r)] for r in region_codes])
    )


def _response_intercept(pop: Population, year: int) -> float:
    """Intercept giving the wave's overall response rate in the invited population."""
    lin = (
        RESPONSE_SEX_AGE[pop.sex, pop.age]
        + RESPONSE_EDU[pop.edu]
        + RESPONSE_IMMIGRANT * pop.herkomst
    )[None, :] + np.array([RESPONSE_REGION[int(r)] for r in pop.region_codes])[:, None]
    weights = pop.counts / pop.counts.sum()
    a = 0.0
    for _ in range(50):
        p = expit(a + lin)
        f = (weights * p).sum() - RESPONSE_RATE[year]
        a -= f / (weights * p * (1 - p)).sum()
        if abs(f) < 1e-12:
            break
    return a


def rake(
    weights: np.ndarray,
    groups: np.ndarray,
    margins: list[tuple[np.ndarray, np.ndarray]],
    max_iter: int = 100,
    tol: float = 1e-10,
    bounds: tuple[float, float] = RAKING_BOUNDS,
) -> np.ndarray:
    """Bounded iterative proportional fitting (raking) of ``weights`` to known margins.

    Parameters
    ----------
    weights : design weights of the respondents.
    groups : calibration group (kommune, or one national group) of each respondent, 0..G-1.
    margins : list of (cell code per respondent, population total per group × cell) pairs; cell
        codes must already be collapsed so that every (group, cell) with respondents has a total.
    bounds : the raked weight stays within ``[low, high] ×`` the design weight, as statistics
        offices bound calibration weights; in sparse groups unbounded raking can drive a weight
        to zero. Where a bound binds, the margins are met as closely as the bounds allow; the
        group total is always met exactly.

    Returns the raked weights; the input is not changed.
    """
    design = weights.astype(float)
    w = design.copy()
    low, high = bounds[0] * design, bounds[1] * design
    for _ in range(max_iter):
        worst = 0.0
        for cell, totals in margins:
            ncell = totals.shape[1]
            key = groups * ncell + cell
            current = np.bincount(key, weights=w, minlength=totals.size)
            ratio = np.divide(totals.ravel(), current, out=np.ones_like(current), where=current > 0)
            w = np.clip(w * ratio[key], low, high)
            worst = max(worst, float(np.max(np.abs(ratio[np.unique(key)] - 1))))
        if worst < tol:
            break
    # The group totals (all margins share them) are met exactly.
    cell, totals = margins[0]
    group_total = totals.sum(axis=1)
    current = np.bincount(groups, weights=w, minlength=group_total.size)
    return w * np.divide(group_total, current, out=np.ones_like(current), where=current > 0)[groups]


def _collapse(
    cells: np.ndarray, groups: np.ndarray, ncell: int, ngroup: int, min_count: int
) -> np.ndarray:
    """Merge margin cells with fewer than ``min_count`` respondents into their neighbour.

    Returns a (group × cell) → collapsed cell map, so that raking never chases an empty cell.
    Cells are merged with the next cell in their order (the previous one for the last cell).
    """
    counts = np.bincount(groups * ncell + cells, minlength=ngroup * ncell).reshape(ngroup, ncell)
    mapping = np.tile(np.arange(ncell), (ngroup, 1))
    for g in range(ngroup):
        labels = list(range(ncell))
        sizes = dict(enumerate(counts[g]))
        while True:
            live = sorted(set(labels))
            small = [c for c in live if sizes[c] < min_count]
            if not small or len(live) == 1:
                break
            c = small[0]
            i = live.index(c)
            target = live[i + 1] if i + 1 < len(live) else live[i - 1]
            labels = [target if lab == c else lab for lab in labels]
            sizes[target] += sizes[c]
            sizes[c] = 0
        mapping[g] = labels
    return mapping


# ================================================================================================
# One wave
# ================================================================================================


@dataclass
class Wave:
    """One generated wave: the raw delivery table and the truth behind it."""

    year: int
    raw: pd.DataFrame
    truth: pd.DataFrame
    invited: int


def _invited(pop: Population, scale: float) -> np.ndarray:
    n = np.minimum(INVITED_PER_KOMMUNE, MAX_SAMPLING_FRACTION * pop.totals) * scale
    return np.maximum(np.round(n).astype(int), 2)


def generate_wave(
    pop: Population, truth: Truth, year: int, rng: np.random.Generator, scale: float
) -> Wave:
    """Draw the invited sample, response, weights, outcomes and items of one wave."""
    if year == NATIONAL_WAVE:
        n_national = max(int(round(INVITED_NATIONAL * scale)), 10)
        flat = pop.counts.ravel()
        draws = _draw_cells(rng, flat, n_national)
        k_idx, cells = np.divmod(draws, pop.sex.size)
        design_weight = np.full(n_national, pop.totals.sum() / n_national)
        stratum = np.ones(n_national, int)
    else:
        n_inv = _invited(pop, scale)
        k_idx = np.repeat(np.arange(len(pop.kommune_codes)), n_inv)
        cells = np.concatenate([_draw_cells(rng, pop.counts[k], n) for k, n in enumerate(n_inv)])
        design_weight = (pop.totals / n_inv)[k_idx]
        stratum = pop.kommune_codes[k_idx]
    invited = k_idx.size
    a = _response_intercept(pop, year)
    responds = rng.random(invited) < expit(a + _response_logit(pop, pop.region_codes[k_idx], cells))
    k_idx, cells, design_weight, stratum = (
        k_idx[responds],
        cells[responds],
        design_weight[responds],
        stratum[responds],
    )
    n = k_idx.size

    # Calibration weights: raking to sex × age, education and herkomst margins (register
    # information a statistics office has), per kommune in kommune waves and nationally in 2023.
    if year == NATIONAL_WAVE:
        groups = np.zeros(n, int)
        group_counts = pop.counts.sum(axis=0, keepdims=True)
    else:
        groups = k_idx
        group_counts = pop.counts
    sexage = pop.sex[cells] * 7 + pop.age[cells]
    edu = pop.edu[cells]
    margins = []
    herkomst = pop.herkomst[cells]
    for cell_code, ncell, cell_of in (
        (sexage, 14, pop.sex * 7 + pop.age),
        (edu, 6, pop.edu),
        (herkomst, 2, pop.herkomst),
    ):
        ngroup = group_counts.shape[0]
        mapping = _collapse(cell_code, groups, ncell, ngroup, min_count=3)
        collapsed = mapping[groups, cell_code]
        totals = np.zeros((ngroup, ncell))
        for c in range(ncell):
            cell_total = group_counts[:, cell_of == c].sum(axis=1)
            np.add.at(totals, (np.arange(ngroup), mapping[:, c]), cell_total)
        margins.append((collapsed, totals))
    weight = rake(design_weight, groups, margins)

    # True outcomes.
    outcomes = {}
    for indicator in INDICATORS:
        if year < FIRST_WAVE.get(indicator, 2010):
            continue
        p = expit(truth.alpha[(indicator, year)][k_idx] + truth.eta[(indicator, year)][cells])
        outcomes[indicator] = (rng.random(n) < p).astype(np.int8)

    sex = pop.sex[cells]
    age = _exact_age(rng, pop.age[cells])
    person = pd.DataFrame(
        {
            "lbnr": [f"SP{year % 100:02d}-{i:07d}" for i in rng.permutation(n) + 1],
            "aar": year,
            "kom": pop.kommune_codes[k_idx],
            "kommunenavn": np.array(pop.kommune_names, dtype=object)[k_idx],
            "stratum": stratum,
            "vaegt_kal": np.round(weight, 6),
            "koen": sex + 1,
            "alder": age,
            "udd": pop.edu[cells] + 1,
            "beskaeft": pop.lm[cells] + 1,
            "herkomst": pop.herkomst[cells] + 1,
        }
    )
    items, item_truth = make_items(rng, year, outcomes, sex, pop.age[cells], load_codebook())
    raw = pd.concat([person, items], axis=1)
    _background_missing(rng, raw)
    truth_table = pd.DataFrame({"respondent_id": person["lbnr"], "year": year, **item_truth})
    # Rows in a random order, as a real extract sorted by id would not reveal the design.
    order = np.argsort(person["lbnr"].to_numpy())
    return Wave(
        year,
        raw.iloc[order].reset_index(drop=True),
        truth_table.iloc[order].reset_index(drop=True),
        invited,
    )


def _background_missing(rng: np.random.Generator, raw: pd.DataFrame) -> None:
    """Register-based background with the odd unknown value (education unknown for some immigrants)."""
    n = len(raw)
    immigrant = raw["herkomst"].to_numpy() == 2
    unknown_edu = rng.random(n) < np.where(immigrant, 0.08, 0.005)
    raw.loc[unknown_edu, "udd"] = 9
    raw.loc[rng.random(n) < 0.004, "beskaeft"] = 9
    raw.loc[rng.random(n) < 0.002, "herkomst"] = 9


# ================================================================================================
# Items from the truth
# ================================================================================================


def make_items(
    rng: np.random.Generator,
    year: int,
    outcomes: dict[str, np.ndarray],
    sex: np.ndarray,
    age_group: np.ndarray,
    codebook: Codebook,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Questionnaire answers consistent with the true outcomes, and the truth they define.

    The truth is the outcome, or missing where the answers do not define the indicator (too many
    missing items, an implausible value): exactly what a correct cleaning must derive.
    """
    n = sex.size
    d = codebook.derivations
    items: dict[str, np.ndarray] = {}
    truth: dict[str, np.ndarray] = {}

    # Mental component score (SF-12 MCS): below the cut-off ⇔ poor mental health.
    cut = d["poor_mental_health"]["mcs_below"]
    y = outcomes["poor_mental_health"]
    low = cut - 0.01 - rng.gamma(2.0, 4.0, n)
    high = cut + 0.01 + rng.gamma(3.0, 5.0, n)
    mcs = np.clip(np.round(np.where(y == 1, low, high), 2), 0.0, 80.0)
    mcs = np.where((y == 1) & (mcs >= cut), cut - 0.01, mcs)
    t = y.astype(float)
    gone = rng.random(n) < 0.04  # SF-12 incomplete
    mcs[gone] = np.nan
    t[gone] = np.nan
    items["mcs"] = mcs
    truth["poor_mental_health"] = t

    items.update(_pss_items(rng, outcomes["high_stress"], d["high_stress"], truth))
    if "loneliness" in outcomes:
        items.update(_tils_items(rng, outcomes["loneliness"], d["loneliness"]["cutoff"], truth))
    items.update(_body_items(rng, outcomes["severe_obesity"], sex, d["severe_obesity"], truth))
    items.update(
        _alcohol_items(rng, outcomes["alcohol_over_10"], d["alcohol_over_10"]["units_above"], truth)
    )
    items.update(_smoking_items(rng, outcomes["daily_smoking"], age_group, truth))
    if "other_nicotine_use" in outcomes:
        items.update(_nicotine_items(rng, outcomes["other_nicotine_use"], sex, age_group, truth))
    if "physically_active" in outcomes:
        items.update(
            _activity_items(rng, outcomes["physically_active"], d["physically_active"], truth)
        )
    table = pd.DataFrame(items)
    present = [name for name in codebook.asked(year) if name in table.columns]
    return table[present], truth


def _pss_items(rng, y, spec, truth) -> dict[str, np.ndarray]:
    """PSS-10 answers whose score (4 items reverse-scored) is ≥ cut-off exactly when y = 1."""
    n = y.size
    cutoff, max_missing = spec["cutoff"], spec["max_missing_items"]
    reverse = [int(name[-2:]) - 1 for name in spec["reverse_items"]]
    # Score: high-stress people 18..40, others 0..17, shaped like the observed distribution.
    score = np.where(
        y == 1,
        cutoff + np.minimum(rng.binomial(22, 0.25, n), 40 - cutoff),
        np.minimum(rng.binomial(cutoff - 1, 0.55, n), cutoff - 1),
    )
    # Spread the score over 10 items of 0..4 at random.
    scored = np.zeros((n, 10), int)
    remaining = score.copy()
    for _ in range(40):
        active = remaining > 0
        if not active.any():
            break
        col = rng.integers(0, 10, n)
        room = scored[np.arange(n), col] < 4
        add = active & room
        scored[np.arange(n)[add], col[add]] += 1
        remaining[add] -= 1
    for i in np.flatnonzero(remaining > 0):  # rare: fill deterministically
        for j in range(10):
            take = min(4 - scored[i, j], remaining[i])
            scored[i, j] += take
            remaining[i] -= take
    raw = scored.astype(float)
    raw[:, reverse] = 4 - raw[:, reverse]
    t = y.astype(float)

    # Item non-response: some skip one or two items (pro-rated), a few skip many (no score);
    # "ved ikke" (8) and "uoplyst" (9) codes as in the questionnaire data.
    u = rng.random(n)
    few = u < 0.05
    many = (u >= 0.05) & (u < 0.07)
    for i in np.flatnonzero(few):
        k = 1 if rng.random() < 0.7 else max_missing
        drop = rng.choice(10, k, replace=False)
        keep = np.setdiff1d(np.arange(10), drop)
        prorated = scored[i, keep].mean() * 10
        if (prorated >= cutoff) == bool(y[i]):  # the pro-rated score tells the same story
            raw[i, drop] = np.where(rng.random(k) < 0.5, 8, np.nan)
    for i in np.flatnonzero(many):
        drop = rng.choice(10, rng.integers(max_missing + 1, 11), replace=False)
        raw[i, drop] = np.where(rng.random(drop.size) < 0.3, 9, np.nan)
        t[i] = np.nan
    truth["high_stress"] = t
    return {f"pss{j + 1:02d}": raw[:, j] for j in range(10)}


def _tils_items(rng, y, cutoff, truth) -> dict[str, np.ndarray]:
    """T-ILS answers (1..3 each) whose sum is ≥ cut-off exactly when y = 1."""
    n = y.size
    combos = np.array([(a, b, c) for a in (1, 2, 3) for b in (1, 2, 3) for c in (1, 2, 3)])
    sums = combos.sum(axis=1)
    lonely = combos[sums >= cutoff]
    not_lonely = combos[sums < cutoff]
    # Low scores are more common among the not lonely.
    p_not = np.exp(-0.9 * (not_lonely.sum(axis=1) - 3))
    pick_lonely = lonely[rng.integers(0, len(lonely), n)]
    pick_not = not_lonely[rng.choice(len(not_lonely), n, p=p_not / p_not.sum())]
    answers = np.where(y[:, None] == 1, pick_lonely, pick_not).astype(float)
    t = y.astype(float)
    gone = rng.random(n) < 0.03
    col = rng.integers(0, 3, n)
    answers[np.flatnonzero(gone), col[gone]] = np.where(rng.random(gone.sum()) < 0.3, 8, np.nan)
    t[gone] = np.nan
    truth["loneliness"] = t
    return {f"tils{j + 1}": answers[:, j] for j in range(3)}


def _body_items(rng, y, sex, spec, truth) -> dict[str, np.ndarray]:
    """Height (cm) and weight (kg) with BMI ≥ 30 exactly when y = 1; slips and gaps as in reality."""
    n = y.size
    cutoff = spec["bmi_cutoff"]
    height = np.round(np.where(sex == 0, rng.normal(180, 7, n), rng.normal(167, 6.5, n)))
    height = np.clip(height, 145, 210)
    bmi = np.where(
        y == 1,
        cutoff + rng.gamma(1.6, 2.8, n),
        np.minimum(17.5 + rng.gamma(6.0, 1.25, n), cutoff - 0.3),
    )
    weight = np.round(bmi * (height / 100) ** 2)
    # Rounding to whole kg must not move anyone across the cut-off.
    real_bmi = weight / (height / 100) ** 2
    weight = np.where((y == 1) & (real_bmi < cutoff), weight + 1, weight)
    weight = np.where((y == 0) & (real_bmi >= cutoff), weight - 1, weight)
    t = y.astype(float)
    u = rng.random(n)
    metres = u < 0.003  # height written in metres (1,78)
    swapped = (u >= 0.003) & (u < 0.004)  # height and weight in each other's boxes
    silly = (u >= 0.004) & (u < 0.006)  # out-of-range typing errors
    h, w = height.astype(float), weight.astype(float)
    h[metres] = height[metres] / 100
    h[swapped], w[swapped] = weight[swapped], height[swapped]
    w[silly] = np.where(rng.random(silly.sum()) < 0.5, 7.0, 712.0)
    lo_h, hi_h = 120, 230
    lo_w, hi_w = 30, 300
    implausible = (h < lo_h) | (h > hi_h) | (w < lo_w) | (w > hi_w)
    t[implausible] = np.nan
    missing_h = rng.random(n) < 0.015
    missing_w = rng.random(n) < 0.025
    h[missing_h] = np.where(rng.random(missing_h.sum()) < 0.3, 999, np.nan)
    w[missing_w] = np.where(rng.random(missing_w.sum()) < 0.3, 999, np.nan)
    t[missing_h | missing_w] = np.nan
    # A few BMIs that are plausible per item but implausible together are already excluded by
    # the ranges above; check the joint range too, as the cleaning does.
    ok = ~(missing_h | missing_w | implausible)
    joint = w / (h / 100) ** 2
    lo_b, hi_b = spec["bmi_range"]
    t[ok & ((joint < lo_b) | (joint > hi_b))] = np.nan
    truth["severe_obesity"] = t
    return {"hoejde": h, "kropsvaegt": w}


def _alcohol_items(rng, y, above, truth) -> dict[str, np.ndarray]:
    """Seven weekday counts whose sum is > ``above`` exactly when y = 1."""
    n = y.size
    total = np.where(
        y == 1,
        above + 1 + rng.geometric(0.09, n) - 1,
        np.minimum(rng.geometric(0.28, n) - 1, above),
    )
    total = np.where((y == 0) & (rng.random(n) < 0.3), 0, total)
    day_share = np.array([0.08, 0.08, 0.10, 0.12, 0.22, 0.28, 0.12])
    days = rng.multinomial(total, day_share).astype(float)
    t = y.astype(float)
    # Days without drinking are often left blank: blank counts as 0 when another day is answered.
    zero = days == 0
    blank = zero & (rng.random(days.shape) < 0.35)
    days[blank] = np.nan
    all_blank = rng.random(n) < 0.03
    days[all_blank] = np.nan
    t[all_blank] = np.nan
    # Every day blank or 99 also happens through the zero-day blanks: then nothing is known.
    t[np.isnan(days).all(axis=1)] = np.nan
    coded = zero & ~blank & (rng.random(days.shape) < 0.005)
    days[coded] = 99
    t[(np.isnan(days) | (days == 99)).all(axis=1)] = np.nan
    names = ("alk_man", "alk_tir", "alk_ons", "alk_tor", "alk_fre", "alk_loer", "alk_soen")
    truth["alcohol_over_10"] = t
    return {name: days[:, j] for j, name in enumerate(names)}


def _smoking_items(rng, y, age_group, truth) -> dict[str, np.ndarray]:
    n = y.size
    p_former = np.array([0.08, 0.2, 0.28, 0.33, 0.4, 0.45, 0.45])[age_group]
    u = rng.random(n)
    other = np.where(u < 0.06, 2, np.where(u < 0.06 + p_former, 3, 4))
    answer = np.where(y == 1, 1, other).astype(float)
    t = y.astype(float)
    gone = rng.random(n) < 0.012
    answer[gone] = np.where(rng.random(gone.sum()) < 0.5, 9, np.nan)
    t[gone] = np.nan
    truth["daily_smoking"] = t
    return {"rygning": answer}


def _nicotine_items(rng, y, sex, age_group, truth) -> dict[str, np.ndarray]:
    """Four products (1 daily, 2 weekly, 3 less often, 4 no); use = any of 1-3."""
    n = y.size
    young_man = (sex == 0) & (age_group <= 1)
    # Which product users use: young men nicotine pouches and snus, others e-cigarettes.
    prefs = np.where(young_man[:, None], [0.2, 0.3, 0.45, 0.05], [0.5, 0.15, 0.25, 0.10])
    first = (rng.random(n)[:, None] > np.cumsum(prefs, axis=1)).sum(axis=1)
    answers = np.full((n, 4), 4.0)
    freq = rng.choice([1, 2, 3], n, p=[0.45, 0.25, 0.30]).astype(float)
    users = np.flatnonzero(y == 1)
    answers[users, first[users]] = freq[users]
    second = (rng.random(n) < 0.2) & (y == 1)
    other_product = (first + 1 + rng.integers(0, 3, n)) % 4
    answers[np.flatnonzero(second), other_product[second]] = 3
    t = y.astype(float)
    # Non-users who skip a product cannot be classified; users who skip another product can.
    skip = rng.random(n) < 0.03
    col = rng.integers(0, 4, n)
    for i in np.flatnonzero(skip):
        if y[i] == 1 and answers[i, col[i]] != 4:
            continue
        answers[i, col[i]] = np.nan if rng.random() < 0.7 else 9
        if y[i] == 0:
            t[i] = np.nan
    truth["other_nicotine_use"] = t
    names = ("nik_ecig", "nik_snus", "nik_poser", "nik_opvarmet")
    return {name: answers[:, j] for j, name in enumerate(names)}


def _activity_items(rng, y, spec, truth) -> dict[str, np.ndarray]:
    """Minutes of moderate and vigorous activity a week; active ⇔ moderate + 2 × vigorous ≥ 150."""
    n = y.size
    need, factor = spec["minutes"], spec["vigorous_factor"]
    equivalent = np.where(y == 1, need + rng.gamma(1.5, 120, n), rng.uniform(0, need, n))
    equivalent = np.where((y == 0) & (rng.random(n) < 0.25), 0, equivalent)
    vig_share = rng.beta(1.2, 3.0, n)
    vigorous = np.round(vig_share * equivalent / factor / 5) * 5
    moderate = np.round(np.maximum(equivalent - factor * vigorous, 0) / 5) * 5
    value = moderate + factor * vigorous
    moderate = np.where(
        (y == 1) & (value < need), moderate + np.ceil((need - value) / 5) * 5, moderate
    )
    value = moderate + factor * vigorous
    over = (y == 0) & (value >= need)
    moderate = np.where(
        over, np.maximum(moderate - (np.floor((value - need) / 5) + 1) * 5, 0), moderate
    )
    value = moderate + factor * vigorous
    vigorous = np.where((y == 0) & (value >= need), 0, vigorous)
    moderate, vigorous = moderate.astype(float), vigorous.astype(float)
    t = y.astype(float)
    gone_m = rng.random(n) < 0.025
    gone_v = rng.random(n) < 0.03
    moderate[gone_m] = np.where(rng.random(gone_m.sum()) < 0.2, 9999, np.nan)
    vigorous[gone_v] = np.where(rng.random(gone_v.sum()) < 0.2, 9999, np.nan)
    silly = rng.random(n) < 0.002  # e.g. minutes a day typed as minutes a week × 60
    moderate[silly] = 6000
    t[gone_m | gone_v | silly] = np.nan
    truth["physically_active"] = t
    return {"akt_moderat": moderate, "akt_haard": vigorous}


# ================================================================================================
# Register tables and klynge status
# ================================================================================================

REGISTER_SPEC = {
    # indicator: (share of the 18-64 population in the denominator, level in 2017, yearly change,
    #             log-odds by education group, log-odds for women)
    "employment_somatic": (0.20, 0.81, 0.003, (-0.9, -0.3, 0.0, 0.2, 0.45), -0.1),
    "employment_mental": (0.06, 0.50, 0.006, (-0.9, -0.2, 0.1, 0.3, 0.5), 0.05),
}


def register_tables(pop: Population, rng: np.random.Generator) -> pd.DataFrame:
    """Annual register counts 2015-2025 per kommune × sex × education (numerator/denominator).

    Levels follow the published ones: labour-market attachment ≈ 82 % (somatic illness) and
    ≈ 51 % (mental illness); completed youth education among 25-year-olds with a psychiatric
    contact in 2017: men 50 %, women 63 % (by sex only: education is the outcome there).
    """
    edu_labels = load_codebook().recodes["education"].labels
    edu_group = np.array([0, 1, 1, 2, 3, 4])[pop.edu]
    working_age = np.isin(pop.age, [1, 2, 3, 4])  # 25-64 as the register base (18-24 omitted)
    rows = []
    for indicator, (share, level, change, edu_effect, female) in REGISTER_SPEC.items():
        for year in REGISTER_YEARS:
            base = logit(level + change * (year - 2017))
            for sex in (0, 1):
                for g in range(5):
                    mask = working_age & (pop.sex == sex) & (edu_group == g)
                    denom = rng.poisson(pop.counts[:, mask].sum(axis=1) * share)
                    local = 0.15 * np.tanh(pop.urbanity)  # a little kommune variation
                    p = expit(base + edu_effect[g] + female * sex - 0.1 + local)
                    num = rng.binomial(denom, p)
                    rows.append(
                        pd.DataFrame(
                            {
                                "indikator": indicator,
                                "aar": year,
                                "kommunekode": pop.kommune_codes,
                                "koen": SEX_LABELS[sex],
                                "uddannelse": edu_labels[g],
                                "taeller": num,
                                "naevner": denom,
                            }
                        )
                    )
    # Youth education: 25-year-olds ≈ 1.25 % of the 16+ population, 9 % of them with a psychiatric contact.
    for year in REGISTER_YEARS:
        for sex, level in ((0, 0.50), (1, 0.63)):
            denom = rng.poisson(pop.totals * 0.0125 * 0.5 * 0.09)
            p = expit(logit(level + 0.006 * (year - 2017)) + 0.1 * np.tanh(pop.urbanity))
            rows.append(
                pd.DataFrame(
                    {
                        "indikator": "youth_education_mental",
                        "aar": year,
                        "kommunekode": pop.kommune_codes,
                        "koen": SEX_LABELS[sex],
                        "uddannelse": "I alt",
                        "taeller": rng.binomial(denom, p),
                        "naevner": denom,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


SEX_LABELS = ("Mænd", "Kvinder")

STATUS_TEXTS = {
    "ikke_startet": "Aktiviteten er endnu ikke startet; klyngen afventer en fælles ramme fra Sundhedssamarbejdsudvalget.",
    "planlagt": "Klyngen har beskrevet aktiviteten og aftalt ansvar og tidsplan med kommunerne og sygehuset.",
    "igangsat": "Aktiviteten er igangsat i dele af klyngen; de første forløb er i gang og evalueres løbende.",
    "i_drift": "Aktiviteten er i drift i alle klyngens kommuner og følges op på klyngemøderne.",
    "afsluttet": "Aktiviteten er gennemført og evalueret; erfaringerne deles med de øvrige klynger.",
}


def status_reports(agreement_id: str, rng: np.random.Generator) -> pd.DataFrame:
    """Yearly activity status per sundhedsklynge and status målsætning (2024-2026)."""
    from analyse.reference.catalogue import load_agreement

    agreement = load_agreement(agreement_id)
    klynger = geography.areas("sundhedsklynge")
    klynger = klynger[klynger["region_code"] == agreement.region_code]
    order = list(agreement.status_categories)
    rows = []
    for obj in agreement.objectives:
        if not obj.status_question:
            continue
        for klynge in klynger.itertuples():
            level = int(rng.integers(0, 2))
            for year in STATUS_YEARS:
                level = min(level + int(rng.random() < 0.6), len(order) - 1)
                category = order[level]
                rows.append(
                    {
                        "aar": year,
                        "sundhedsklynge": klynge.area_name,
                        "maalsaetning": obj.id,
                        "status": category,
                        "tekst": STATUS_TEXTS[category],
                    }
                )
    return pd.DataFrame(rows)


# ================================================================================================
# The delivery
# ================================================================================================


@dataclass
class Delivery:
    """A whole synthetic delivery in memory."""

    waves: dict[int, Wave]
    register: pd.DataFrame
    status: pd.DataFrame
    population: Population
    truth_model: Truth
    seed: int
    scale: float


def generate(
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    waves: tuple[int, ...] = WAVES,
    agreement_id: str = "syddanmark-2024-2027",
    progress: Callable[[str], None] | None = None,
) -> Delivery:
    """Generate the synthetic delivery in memory (see the module docstring).

    Parameters
    ----------
    seed : the seed of everything; the same seed gives the same data.
    scale : fraction of the real sample sizes (``0.05`` for fast tests).
    waves : which survey waves to generate.

    Raises
    ------
    ParameterError
        For a scale outside (0, 2] or an unknown wave.
    """
    if not 0 < scale <= 2:
        raise ParameterError(f"scale must be in (0, 2], got {scale}")
    unknown = sorted(set(waves) - set(WAVES))
    if unknown:
        raise ParameterError(
            f"unknown wave(s) {unknown}; the survey has {', '.join(map(str, WAVES))}"
        )
    pop, truth = calibrated_model()
    streams = np.random.SeedSequence(seed).spawn(len(WAVES) + 2)
    generated = {}
    for year, stream in zip(WAVES, streams, strict=False):
        if year not in waves:
            continue
        if progress:
            progress(f"bølge {year}")
        generated[year] = generate_wave(pop, truth, year, np.random.default_rng(stream), scale)
    register = register_tables(pop, np.random.default_rng(streams[-2]))
    status = status_reports(agreement_id, np.random.default_rng(streams[-1]))
    return Delivery(generated, register, status, pop, truth, seed, scale)


def write_delivery(
    out: str | Path = "data/raw",
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    fmt: str = DEFAULT_FORMAT,
    *,
    force: bool = False,
    progress: bool = False,
) -> list[Path]:
    """Generate the delivery and write it as files: one survey file per wave, register table,
    klynge status and a marker file saying the data are synthetic.

    Raises
    ------
    ParameterError
        For an unknown format, or when ``out`` already holds a delivery and ``force`` is False.
    """
    if fmt not in FORMATS:
        raise ParameterError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    existing = [p for p in out.iterdir() if p.name != "README.md" and not p.name.startswith(".")]
    if existing and not force:
        raise ParameterError(
            f"{out} already holds files ({existing[0].name} …); raw data are never overwritten — "
            "choose another --out or pass --force to replace a synthetic delivery"
        )
    if existing and force:
        marker = out / MARKER_FILE
        if not marker.exists():
            raise ParameterError(
                f"{out} holds files that are not a synthetic delivery (no {MARKER_FILE}); "
                "refusing to overwrite them"
            )
        for path in existing:
            if path.is_file():
                path.unlink()
    report = print if progress else None
    delivery = generate(seed=seed, scale=scale, progress=report)
    codebook = load_codebook()
    written = []
    for year, wave in delivery.waves.items():
        path = out / f"sundhedsprofil_{year}.{fmt}"
        _write_table(wave.raw, path, fmt, codebook, year)
        written.append(path)
        if progress:
            print(
                f"  {path.name}: {len(wave.raw):,} svar af {wave.invited:,} inviterede".replace(
                    ",", "."
                )
            )
    register_path = out / "registerdata.csv"
    delivery.register.to_csv(
        register_path, sep=";", index=False, encoding="utf-8", lineterminator="\n"
    )
    status_path = out / "klyngestatus.csv"
    delivery.status.to_csv(status_path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
    marker = out / MARKER_FILE
    marker.write_text(
        json.dumps(
            {
                "synthetic": True,
                "generator": "analyse.data.synth",
                "seed": seed,
                "scale": scale,
                "format": fmt,
                "note": "Syntetiske data: ingen rigtige personer. Kalibreret til danskernessundhed.dk.",
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    written += [register_path, status_path, marker]
    return written


def _write_table(table: pd.DataFrame, path: Path, fmt: str, codebook: Codebook, year: int) -> None:
    """Write one wave in a delivery format, with labels where the format has them."""
    import pyreadstat

    labels = {
        name: codebook.variables[name].label for name in table.columns if name in codebook.variables
    }
    value_labels = {
        name: {float(k): v for k, v in codebook.variables[name].codes.items()}
        for name in table.columns
        if name in codebook.variables and codebook.variables[name].codes
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    if fmt in ("parquet", "csv"):
        # Whole-number answers are written as integers (no "1,0" in a CSV).
        table = table.copy()
        for name in table.columns:
            col = table[name]
            if (
                col.dtype.kind == "f"
                and np.all(np.isnan(col) | (col == np.round(col)))
                and name != "vaegt_kal"
            ):
                table[name] = col.astype("Int64")
    if fmt == "parquet":
        table.to_parquet(tmp, index=False, engine="pyarrow")
    elif fmt == "csv":
        # As many Danish extracts look: semicolons, decimal comma, Windows-1252.
        table.to_csv(
            tmp, sep=";", decimal=",", index=False, encoding="cp1252", lineterminator="\r\n"
        )
    elif fmt == "sav":
        pyreadstat.write_sav(
            table,
            str(tmp),
            column_labels=labels,
            variable_value_labels=value_labels,
            file_label=f"Sundhedsprofilen {year}",
        )
        _fix_sav_timestamp(tmp, year)
    elif fmt == "dta":
        dta_labels = {k: {int(c): v for c, v in lab.items()} for k, lab in value_labels.items()}
        # Stata allows variable labels of at most 80 characters.
        short = {k: v if len(v) <= 80 else v[:79] + "…" for k, v in labels.items()}
        pyreadstat.write_dta(
            table,
            str(tmp),
            column_labels=short,
            variable_value_labels=dta_labels,
            file_label=f"Sundhedsprofilen {year}",
        )
        _fix_dta_timestamp(tmp, year)
    tmp.replace(path)


def _fix_sav_timestamp(path: Path, year: int) -> None:
    """Overwrite the creation date/time in a .sav header so the same seed gives the same bytes."""
    data = bytearray(path.read_bytes())
    # Header: "$FL2"(4) product(60) layout(4) nominal_case_size(4) compression(4) weight_index(4)
    # ncases(4) bias(8) → creation date (9 bytes) at offset 92, creation time (8) at 101.
    data[92:101] = f"01 Jun {year % 100:02d}".encode("ascii")
    data[101:109] = b"00:00:00"
    path.write_bytes(bytes(data))


def _fix_dta_timestamp(path: Path, year: int) -> None:
    data = path.read_bytes()
    stamp = f"01 Jun {year} 00:00".encode("ascii")
    fixed = re.sub(
        rb"<timestamp>\x11.{17}</timestamp>",
        b"<timestamp>\x11" + stamp + b"</timestamp>",
        data,
        count=1,
        flags=re.DOTALL,
    )
    path.write_bytes(fixed)
