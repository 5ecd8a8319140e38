"""Register tables (counts per kommune × sex × education) and the klynge activity status."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from analyse.data.codebook import load_codebook
from analyse.data.synth.population import Population
from analyse.reference import geography

REGISTER_YEARS = tuple(range(2015, 2026))
STATUS_YEARS = (2024, 2025, 2026)

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
