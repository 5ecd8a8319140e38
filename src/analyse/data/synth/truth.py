"""The calibrated truth: per indicator and wave, logit p = α(kommune) + β(cell).

The gradients β are plausible odds ratios, some calibrated to published national figures
(``reference/data/synth_targets_national.csv``); the kommune intercepts α are solved so that the
*population* prevalence of every kommune equals its published danskernessundhed.dk value
(``reference/data/danskernessundhed_kommune_indicators.csv``). Indicators without kommune figures
borrow kommune variation from a related published indicator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from analyse.data.codebook import load_codebook
from analyse.data.synth.population import (
    AGE_BOUNDS,
    KOMMUNE_WAVES,
    NATIONAL_WAVE,
    SEXES,
    WAVES,
    Population,
    build_population,
    data_path,
)

# Survey indicators the generator produces, and the published indicator each one is calibrated to
# (None: no kommune figures are published; national figures and plausible variation are used).
# The first eight are drawn from each wave's own random stream; the ADDED ones (the diet,
# self-rated health, social support, long-term illness and symptom items of the klynge and
# kommune agreements) from a child stream of it, so adding them left the first eight unchanged.
FIRST_INDICATORS = (
    "poor_mental_health",
    "high_stress",
    "loneliness",
    "physically_active",
    "severe_obesity",
    "alcohol_over_10",
    "daily_smoking",
    "other_nicotine_use",
)
ADDED_INDICATORS = (
    "unhealthy_diet",
    "good_self_rated_health",
    "low_social_support",
    "long_term_illness",
    "depressive_symptoms",
)
INDICATORS = FIRST_INDICATORS + ADDED_INDICATORS
PUBLISHED = {
    "poor_mental_health": "mentalt_helbred",
    "daily_smoking": "rygning",
    "alcohol_over_10": "alkohol",
    "physically_active": "fysisk_aktivitet",  # published as the complement (not meeting WHO)
    "severe_obesity": "svaer_overvaegt",
    "loneliness": "ensomhed",
    "unhealthy_diet": "kost",
    "good_self_rated_health": "selvvurderet_helbred",
    "low_social_support": "social_stoette",
}
COMPLEMENT = {"physically_active"}
FIRST_WAVE = {"loneliness": 2021, "physically_active": 2021, "other_nicotine_use": 2021}
# Indicators without kommune figures borrow kommune variation from a related published one:
# logit(target_k) = logit(national) + LAMBDA × (logit(published_k) − logit(published_national)).
BORROWED_VARIATION = {
    "high_stress": ("poor_mental_health", 0.6),
    "other_nicotine_use": ("daily_smoking", 0.5),
    # Long-term illness is more common where fewer rate their health as good (assumed strength);
    # feeling very down follows poor mental health (assumed strength).
    "long_term_illness": ("good_self_rated_health", -1.0),
    "depressive_symptoms": ("poor_mental_health", 0.8),
}


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
    # Men eat less healthily in every age group (Rådet for Sund Mad on the 2021 profile; the
    # women's level and the education rows are calibrated, see synth_targets_national.csv).
    "unhealthy_diet": Gradient(
        sex=_or(1, 0.55),
        age=_or(1.6, 1.3, 1.1, 1, 0.85, 0.75, 0.9),
        edu=_or(5.0, 2.0, 3.2, 2.3, 1.6, 1),
        lm=_or(1, 1.5, 1.0, 1.6, 1.0, 1.5),
    ),
    # Men and the young rate their health better (Altinget on the 2021 profile); grundskole,
    # lang videregående and førtidspensionister calibrated.
    "good_self_rated_health": Gradient(
        sex=_or(1, 0.85),
        age=_or(2.0, 1.6, 1.3, 1, 0.8, 0.75, 0.45),
        edu=_or(0.35, 0.7, 0.55, 0.7, 0.85, 1),
        lm=_or(1, 0.45, 1.0, 0.10, 0.8, 0.2),
    ),
    "low_social_support": Gradient(
        sex=_or(1, 0.6),
        age=_or(0.8, 0.9, 1.0, 1, 1.1, 1.1, 1.3),
        edu=_or(2.2, 1.3, 1.5, 1.3, 1.1, 1),
        lm=_or(1, 2.0, 1.0, 2.5, 1.1, 2.5),
        herkomst=_or(1, 2.0),
    ),
    "long_term_illness": Gradient(
        sex=_or(1, 1.15),
        age=_or(0.35, 0.5, 0.65, 1, 1.5, 2.0, 2.6),
        edu=_or(1.5, 1.0, 1.3, 1.2, 1.1, 1),
        lm=_or(1, 1.5, 0.9, 8.0, 1.3, 2.5),
    ),
    "depressive_symptoms": Gradient(
        sex=_or(1, 1.7),
        age=_or(2.2, 1.5, 1.2, 1, 0.8, 0.6, 0.8),
        edu=_or(1.6, 1.2, 1.3, 1.15, 1.05, 1),
        lm=_or(1, 2.5, 1.3, 4.0, 0.8, 4.0),
    ),
}


@lru_cache(maxsize=1)
def published_kommune_targets() -> pd.DataFrame:
    """The published kommune prevalences the generator calibrates to, in its indicator ids.

    Returns
    -------
    DataFrame with ``indicator``, ``year``, ``kommune_code``, ``published_indicator``,
    ``published_pct`` (as published) and ``target`` (proportion 0–1 for the indicator as defined
    here: ``physically_active`` is 1 − the published "does not meet the WHO recommendation").
    """
    raw = pd.read_csv(data_path("danskernessundhed_kommune_indicators.csv"))
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
    table = pd.read_csv(data_path("synth_targets_national.csv"))
    table["target"] = table["target_pct"] / 100
    return table


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


def national_mask(pop: Population, row: pd.Series) -> np.ndarray:
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
                mask = national_mask(pop, row)
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
                    mask = national_mask(pop, row)
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
