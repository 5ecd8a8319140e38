"""Register tables (counts per kommune × sex × education) and the klynge activity status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class RegisterSpec:
    """How one added register indicator is generated (every level is in ``docs/raw_format.md``
    §3.5 with its source, or marked as assumed there and in ``reference/data/SOURCES.md``).

    ``per_person`` is the expected number of denominator units (persons or admissions) per
    person of an age group (population order 16-24 … 75+; 16-24 counts only its 18-24-year-olds
    where the register starts at 18); ``employed_only`` restricts the denominator to the
    employed. The national share is ``level`` in ``level_year`` and changes by ``change`` a year;
    each person's log-odds add the age, education (five register groups) and sex terms and a
    kommune effect drawn once (standard deviation ``kommune_sd``), and the intercept of each year
    is solved so the national share is met exactly in expectation.
    """

    per_person: tuple[float, ...]
    level: float
    level_year: int
    change: float
    age: tuple[float, ...]
    education: tuple[float, ...]
    female: float
    kommune_sd: float
    first_year: int = 2015
    employed_only: bool = False


_EIGHTEEN_PLUS = 7 / 9  # 18-24-year-olds among the 16-24-year-olds (equal single years assumed)
ADDED_REGISTER = {
    # Share of somatic admissions of 65+ followed by an acute readmission within 30 days: no
    # national figure found; 15 % assumed (general practices' deciles 11-22 % in 2018, SDS 2020).
    "readmission_65": RegisterSpec(
        per_person=(0, 0, 0, 0, 0, 0.22, 0.45),
        level=0.15,
        level_year=2023,
        change=0.0,
        age=(0, 0, 0, 0, 0, -0.15, 0.05),
        education=(0.15, 0.08, 0.05, 0.02, 0.0),
        female=-0.10,
        kommune_sd=0.12,
    ),
    # Share of 65+ with at least one preventable admission in the year: ≈ 5 % (SDS 2020: the
    # tenth of practices with fewest had < 3.5 % of their older patients with one, the tenth
    # with most 7 %), rising steeply with age.
    "preventable_admissions_65": RegisterSpec(
        per_person=(0, 0, 0, 0, 0, 1.0, 1.0),
        level=0.05,
        level_year=2023,
        change=0.0,
        age=(0, 0, 0, 0, 0, -0.55, 0.55),
        education=(0.35, 0.20, 0.15, 0.08, 0.0),
        female=-0.05,
        kommune_sd=0.15,
    ),
    # Share of the employed 18-64 with a sickness-benefit spell of more than 8 weeks: no published
    # share found; 3.0 % in 2023 assumed (≈ 85,000 such spells a year over ≈ 2.9 million
    # employed), slowly rising; DST's statistics are comparable from 2020.
    "long_sick_leave": RegisterSpec(
        per_person=(_EIGHTEEN_PLUS, 1, 1, 1, 1, 0, 0),
        level=0.030,
        level_year=2023,
        change=0.001,
        age=(-0.4, -0.2, 0.0, 0.1, 0.25, 0, 0),
        education=(0.50, 0.35, 0.20, 0.10, 0.0),
        female=0.35,
        kommune_sd=0.15,
        first_year=2020,
        employed_only=True,
    ),
    # Share of 18+ with at least one RUKS chronic disease: 20 % in 2015 (SSI 2015: "hver femte
    # voksne"), 45 % among 85+; the rise after 2015 (0.25 points a year) is assumed.
    "chronic_disease": RegisterSpec(
        per_person=(_EIGHTEEN_PLUS, 1, 1, 1, 1, 1, 1),
        level=0.20,
        level_year=2015,
        change=0.0025,
        age=(-1.9, -1.5, -1.1, -0.6, -0.1, 0.35, 0.9),
        education=(0.45, 0.25, 0.20, 0.10, 0.0),
        female=0.05,
        kommune_sd=0.10,
    ),
}


def added_register_tables(pop: Population, rng: np.random.Generator) -> pd.DataFrame:
    """Annual counts of the :data:`ADDED_REGISTER` indicators per kommune × sex × education.

    Each indicator's intercept is solved per year so that the expected national share equals
    its level; the counts are Poisson denominators and binomial numerators around it.
    """
    edu_labels = load_codebook().recodes["education"].labels
    edu_group = np.array([0, 1, 1, 2, 3, 4])[pop.edu]
    rows = []
    for indicator, spec in ADDED_REGISTER.items():
        units = pop.counts * np.asarray(spec.per_person)[pop.age][None, :]
        if spec.employed_only:
            units = units * (pop.lm == 0)[None, :]
        eta = (
            np.asarray(spec.age)[pop.age]
            + np.asarray(spec.education)[edu_group]
            + spec.female * pop.sex
        )[None, :] + rng.normal(0.0, spec.kommune_sd, len(pop.kommune_codes))[:, None]
        for year in REGISTER_YEARS:
            if year < spec.first_year:
                continue
            target = spec.level + spec.change * (year - spec.level_year)
            p = expit(_intercept(units, eta, target) + eta)
            for sex in (0, 1):
                for g in range(5):
                    cell = (pop.sex == sex) & (edu_group == g)
                    expected = units[:, cell].sum(axis=1)
                    share = np.divide(
                        (units[:, cell] * p[:, cell]).sum(axis=1),
                        expected,
                        out=np.zeros_like(expected),
                        where=expected > 0,
                    )
                    denom = rng.poisson(expected)
                    rows.append(
                        pd.DataFrame(
                            {
                                "indikator": indicator,
                                "aar": year,
                                "kommunekode": pop.kommune_codes,
                                "koen": SEX_LABELS[sex],
                                "uddannelse": edu_labels[g],
                                "taeller": rng.binomial(denom, share),
                                "naevner": denom,
                            }
                        )
                    )
    return pd.concat(rows, ignore_index=True)


def _intercept(units: np.ndarray, eta: np.ndarray, target: float) -> float:
    """a with Σ units · expit(a + η) / Σ units = target (Newton)."""
    total = units.sum()
    a = float(logit(target))
    for _ in range(100):
        p = expit(a + eta)
        f = (units * p).sum() / total - target
        a -= f / ((units * p * (1 - p)).sum() / total)
        if abs(f) < 1e-12:
            break
    return a


STATUS_TEXTS = {
    "ikke_startet": "Aktiviteten er endnu ikke startet; klyngen afventer en fælles ramme fra Sundhedssamarbejdsudvalget.",
    "planlagt": "Klyngen har beskrevet aktiviteten og aftalt ansvar og tidsplan med kommunerne og sygehuset.",
    "igangsat": "Aktiviteten er igangsat i dele af klyngen; de første forløb er i gang og evalueres løbende.",
    "i_drift": "Aktiviteten er i drift i alle klyngens kommuner og følges op på klyngemøderne.",
    "afsluttet": "Aktiviteten er gennemført og evalueret; erfaringerne deles med de øvrige klynger.",
}


def status_reports(
    agreement_ids: Sequence[str] | None, stream: np.random.SeedSequence
) -> pd.DataFrame:
    """Yearly activity status (2024-2026) per agreement, sundhedsklynge and status målsætning.

    Each agreement's status questions are put to the sundhedsklynger of its scope. Region
    Syddanmark's agreement draws from ``stream`` itself (its rows are those of the first
    release), every other agreement from a child stream. ``agreement_ids`` None: every shipped
    agreement. The table has the columns of ``klyngestatus.csv``, ``aftale`` (the agreement id)
    last.
    """
    from analyse.reference.catalogue import list_agreements, load_agreement

    ids = list(agreement_ids) if agreement_ids is not None else list_agreements()
    children = stream.spawn(len(ids))
    tables = []
    for agreement_id, child in zip(ids, children, strict=True):
        first = agreement_id == "syddanmark-2024-2027"
        rng = np.random.default_rng(stream if first else child)
        table = _status_rows(load_agreement(agreement_id), rng)
        tables.insert(0 if first else len(tables), table.assign(aftale=agreement_id))
    columns = ["aar", "sundhedsklynge", "maalsaetning", "status", "tekst", "aftale"]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)


def _status_rows(agreement, rng: np.random.Generator) -> pd.DataFrame:
    klynger = geography.areas("sundhedsklynge")
    klynger = klynger[klynger["area_code"].isin(agreement.status_klynger())]
    order = list(agreement.status_categories)
    rows = []
    for obj in agreement.status_objectives():
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
    return pd.DataFrame(rows, columns=["aar", "sundhedsklynge", "maalsaetning", "status", "tekst"])
