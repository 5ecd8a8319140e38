"""Questionnaire answers generated from each respondent's true indicator values.

The answers are made so that the documented derivations (:mod:`analyse.data.clean`) give back
exactly the truth, with realistic missing codes, implausible values and unit slips; the truth is
missing exactly where the answers cannot define the indicator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse.data.codebook import Codebook

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
    added_rng: np.random.Generator | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Questionnaire answers consistent with the true outcomes, and the truth they define.

    The truth is the outcome, or missing where the answers do not define the indicator (too many
    missing items, an implausible value): exactly what a correct cleaning must derive. The
    single items of the added indicators (:data:`SINGLE_ITEMS`) are drawn from ``added_rng``
    (default: ``rng`` after the other items).
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
    items.update(_single_items(added_rng or rng, outcomes, d, truth))
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


# Single items of the added indicators: the codes parameter of the derivation, how the answers
# spread over the codes that give 1 and over those that give 0 (shares, in code order), and the
# share left blank and the share coded 8/9 (assumed rates, like the other items' quirks).
SINGLE_ITEMS = {
    # Kostmønster: 3 groups; of the not-unhealthy about one in five "Sundt" (RegionH on the 2017
    # profile: 66 % in the middle group).
    "unhealthy_diet": ("unhealthy_codes", (1.0,), (0.21, 0.79), 0.01, 0.02),
    # Self-rated health: good = fremragende / vældig godt / godt; not good = mindre godt / dårligt.
    "good_self_rated_health": ("good_codes", (0.15, 0.40, 0.45), (0.75, 0.25), 0.01, 0.008),
    # Someone to talk to: altid / for det meste / nogle gange among those not lacking support.
    "low_social_support": ("low_codes", (1.0,), (0.65, 0.22, 0.13), 0.012, 0.01),
    "long_term_illness": ("yes_codes", (1.0,), (1.0,), 0.015, 0.01),
    # Very bothered → 1; a little bothered or not at all → 0.
    "depressive_symptoms": ("bothered_codes", (1.0,), (0.30, 0.70), 0.02, 0.01),
}


def _single_items(rng, outcomes, derivations, truth) -> dict[str, np.ndarray]:
    """One answer per added indicator: a code that gives 1 exactly when y = 1, else one that
    gives 0; blanks and missing codes (8 or 9, whichever the item has) make the truth missing."""
    from analyse.data.codebook import load_codebook

    variables = load_codebook().variables
    out = {}
    for indicator, (key, yes_share, no_share, blank, coded) in SINGLE_ITEMS.items():
        if indicator not in outcomes:
            continue
        y = outcomes[indicator]
        spec = derivations[indicator]
        item = variables[spec["item"]]
        yes_codes = [float(c) for c in spec[key]]
        no_codes = [float(c) for c in sorted(item.codes) if c not in spec[key]]
        n = y.size
        answer = np.where(
            y == 1,
            rng.choice(yes_codes, n, p=yes_share),
            rng.choice(no_codes, n, p=no_share),
        ).astype(float)
        t = y.astype(float)
        u = rng.random(n)
        gone = u < blank
        answer[gone] = np.nan
        codes = rng.choice(np.asarray(item.missing, dtype=float), n)
        miscoded = (u >= blank) & (u < blank + coded)
        answer[miscoded] = codes[miscoded]
        t[gone | miscoded] = np.nan
        truth[indicator] = t
        out[spec["item"]] = answer
    return out
