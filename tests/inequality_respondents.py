"""Hand-made respondents with an education gradient, shared by the inequality tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse.stats import inequality as ie

SURVEY_VARIABLES = (
    "poor_mental_health",
    "high_stress",
    "loneliness",
    "physically_active",
    "severe_obesity",
    "alcohol_over_10",
    "daily_smoking",
    "other_nicotine_use",
)


def hand_respondents(
    seed: int = 1,
    n: int = 700,
    kommuner: tuple[int, ...] = (461, 410),
    waves: tuple[int, ...] = (2021, 2025),
    slope: float = -1.2,
) -> pd.DataFrame:
    """Canonical-looking respondents with an education gradient (log-odds slope per rank)."""
    rng = np.random.default_rng(seed)
    frames = []
    for year in waves:
        for kommune in kommuner:
            age = rng.integers(16, 90, n)
            edu_code = rng.choice(5, n, p=[0.25, 0.35, 0.08, 0.2, 0.12])
            education = np.array(ie.EDUCATION_LEVELS, dtype=object)[edu_code]
            education[age < 25] = None
            labour = rng.choice(np.array(ie.LABOUR_MARKET_LEVELS, dtype=object), n)
            frame = pd.DataFrame(
                {
                    "respondent_id": [f"SP{year % 100}-{kommune}{i:05d}" for i in range(n)],
                    "year": year,
                    "kommune_code": kommune,
                    "region_code": 1083,
                    "stratum": f"{year}-{kommune}",
                    "weight": rng.uniform(20, 80, n),
                    "sex": rng.choice(["Mænd", "Kvinder"], n),
                    "age": age,
                    "education": education,
                    "labour_market": labour,
                }
            )
            for position, variable in enumerate(SURVEY_VARIABLES):
                eta = -1.0 + 0.1 * position + slope * edu_code / 4
                values = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
                values[rng.random(n) < 0.03] = np.nan
                frame[variable] = values
            frames.append(frame)
    respondents = pd.concat(frames, ignore_index=True)
    respondents["education"] = pd.Categorical(
        respondents["education"], categories=ie.EDUCATION_LEVELS, ordered=True
    )
    respondents["labour_market"] = pd.Categorical(
        respondents["labour_market"], categories=ie.LABOUR_MARKET_LEVELS
    )
    return respondents


def exact_wave(year: int, prevalences: list[float], per_group: int = 400) -> pd.DataFrame:
    """One wave where group g has exactly prevalences[g] (equal weights, two strata)."""
    rows = []
    for g, p in enumerate(prevalences):
        cases = round(p * per_group)
        y = np.r_[np.ones(cases), np.zeros(per_group - cases)]
        rows.append(
            pd.DataFrame(
                {
                    "year": year,
                    "stratum": [f"{year}-{i % 2}" for i in range(per_group)],
                    "weight": 10.0,
                    "education": ie.EDUCATION_LEVELS[g],
                    "y": y,
                    "area": "X",
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
