"""Sample, response and calibration weights of one wave, and the wave's raw table.

About 2,000 invited per kommune and wave (at most 60 % of a small kommune's 16+ population),
response from a logit model (lower for young men, short education and immigrants) with the
wave's national rate; 2023 is a national sample of 25,000. Weights: design weight × bounded
raking to the population margins, never the true response probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from analyse.data.codebook import load_codebook
from analyse.data.synth.items import make_items
from analyse.data.synth.population import AGE_BOUNDS, NATIONAL_WAVE, Population
from analyse.data.synth.truth import ADDED_INDICATORS, FIRST_INDICATORS, FIRST_WAVE, Truth

INVITED_PER_KOMMUNE = 2000
INVITED_NATIONAL = 25_000
# Small kommuner cannot send 2,000 invitations; at most this share of the 16+ population is invited.
MAX_SAMPLING_FRACTION = 0.6

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
    pop: Population,
    truth: Truth,
    year: int,
    rng: np.random.Generator,
    scale: float,
    added_rng: np.random.Generator | None = None,
) -> Wave:
    """Draw the invited sample, response, weights, outcomes and items of one wave.

    The outcomes and items of :data:`~analyse.data.synth.truth.ADDED_INDICATORS` come from
    ``added_rng`` (default: ``rng`` after everything else), so that adding them did not change
    the draws of the others.
    """
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
    for indicator in FIRST_INDICATORS:
        if year < FIRST_WAVE.get(indicator, 2010):
            continue
        p = expit(truth.alpha[(indicator, year)][k_idx] + truth.eta[(indicator, year)][cells])
        outcomes[indicator] = (rng.random(n) < p).astype(np.int8)
    added = {}
    for indicator in ADDED_INDICATORS:
        if year < FIRST_WAVE.get(indicator, 2010):
            continue
        p = expit(truth.alpha[(indicator, year)][k_idx] + truth.eta[(indicator, year)][cells])
        added[indicator] = p

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
    added_rng = added_rng or rng
    for indicator, p in added.items():
        outcomes[indicator] = (added_rng.random(n) < p).astype(np.int8)
    items, item_truth = make_items(
        rng, year, outcomes, sex, pop.age[cells], load_codebook(), added_rng=added_rng
    )
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
