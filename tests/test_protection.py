"""Linked interval protection (analyse.stats.protection) on small hand-checkable tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from analyse.errors import DataValidationError, ParameterError
from analyse.stats.protection import attack, audit, bounds, protect


def relations_from(rows: list[dict[int, float]], m: int) -> sparse.csr_matrix:
    """A sparse relation matrix from one {cell: coefficient} dict per relation."""
    r, c, v = [], [], []
    for i, row in enumerate(rows):
        for cell, coef in row.items():
            r.append(i), c.append(cell), v.append(coef)
    return sparse.csr_matrix((v, (r, c)), shape=(len(rows), m))


def run_protect(true, relations, primary, protection, cost, *, natural=(0.0, 1.0), **kw):
    """protect() with exact shown values (interval of width 0) and uniform natural bounds."""
    m = len(true)
    true = np.asarray(true, dtype=float)
    prot = np.where(primary, protection, 0.0)
    return protect(
        true,
        true,
        true,
        np.full(m, natural[0]),
        np.full(m, natural[1]),
        relations,
        primary,
        prot,
        prot,
        np.asarray(cost, dtype=float),
        **kw,
    )


def run_audit(true, relations, hidden, protection, *, natural=(0.0, 1.0)):
    m = len(true)
    true = np.asarray(true, dtype=float)
    prot = np.where(hidden, protection, 0.0)
    return audit(
        true,
        true,
        true,
        relations,
        hidden,
        prot,
        prot,
        np.full(m, natural[0]),
        np.full(m, natural[1]),
    )


# ---------------------------------------------------------------------------------------------
# 1. A 2 x 3 table of shares with equal-weight margins: the singleton rule leaves a rectangle
# ---------------------------------------------------------------------------------------------
#   cells            a=0    b=1    e=2  | row means R0=6, R1=7
#                    c=3    d=4    f=5  |
#   column means     C0=8   C1=9   C2=10; grand mean G=11
SHARES = {0: 0.50, 1: 0.02, 2: 0.40, 3: 0.30, 4: 0.60, 5: 0.50}


def share_table():
    true = np.zeros(12)
    for cell, value in SHARES.items():
        true[cell] = value
    true[6] = (0.50 + 0.02 + 0.40) / 3
    true[7] = (0.30 + 0.60 + 0.50) / 3
    true[8] = (0.50 + 0.30) / 2
    true[9] = (0.02 + 0.60) / 2
    true[10] = (0.40 + 0.50) / 2
    true[11] = (true[6] + true[7]) / 2
    rows = [
        {0: 1, 1: 1, 2: 1, 6: -3},
        {3: 1, 4: 1, 5: 1, 7: -3},
        {0: 1, 3: 1, 8: -2},
        {1: 1, 4: 1, 9: -2},
        {2: 1, 5: 1, 10: -2},
        {6: 1, 7: 1, 11: -2},
        {8: 1, 9: 1, 10: 1, 11: -3},
    ]
    # Interior cells: cost 1 for b and d, 5 for e and f (the singleton rule then picks b, c,
    # d); margins cost 100 (never worth hiding).
    cost = np.array([1, 1, 5, 1, 1, 5, 100, 100, 100, 100, 100, 100], dtype=float)
    return true, relations_from(rows, 12), cost


def test_singleton_rule_leaves_a_rectangle_that_the_lp_exposes_and_protect_fixes():
    true, relations, cost = share_table()
    primary = np.zeros(12, dtype=bool)
    primary[0] = True

    singleton = run_protect(true, relations, primary, 0.05, cost, max_rounds=0)
    assert np.flatnonzero(singleton.hidden).tolist() == [0, 1, 3, 4]  # a, b, c, d
    # Hand calculation: with the margins shown, a+b, c+d, a+c and b+d are known, so
    # (a, b, c, d) = (0.50 + t, 0.02 - t, 0.30 - t, 0.60 + t) with every cell in 0..1:
    # t <= 0.02 (b >= 0), t >= -0.50 (a >= 0); the others allow more. Hence
    # a in [0, 0.52], b in [0, 0.52], c in [0.28, 0.80], d in [0.10, 0.62].
    lower, upper = bounds(singleton.hidden, true, true, np.zeros(12), np.ones(12))
    low, high = attack(lower, upper, relations, singleton.hidden)
    np.testing.assert_allclose(low, [0.0, 0.0, 0.28, 0.10], atol=1e-6)
    np.testing.assert_allclose(high, [0.52, 0.52, 0.80, 0.62], atol=1e-6)
    # a needs [0.45, 0.55]: its maximum 0.52 falls short.
    before = audit(
        true,
        true,
        true,
        relations,
        singleton.hidden,
        np.where(primary, 0.05, 0),
        np.where(primary, 0.05, 0),
        np.zeros(12),
        np.ones(12),
    )
    assert before["exposed"].tolist() == [True]
    assert before["attacker_max"].iloc[0] == pytest.approx(0.52, abs=1e-6)

    fixed = run_protect(true, relations, primary, 0.05, cost)
    assert fixed.rounds >= 1
    assert not fixed.audit["exposed"].any()
    # The fix hides the third column (e, then f by the singleton rule), not the margins.
    assert np.flatnonzero(fixed.hidden).tolist() == [0, 1, 2, 3, 4, 5]
    assert fixed.complementary.sum() == 5
    after = audit(
        true,
        true,
        true,
        relations,
        fixed.hidden,
        np.where(primary, 0.05, 0),
        np.where(primary, 0.05, 0),
        np.zeros(12),
        np.ones(12),
    )
    assert not after["exposed"].any()
    # With e, f hidden a can also move along a-e-f-c: a = 0.50 + t + s with t <= 0.02 (b),
    # t + s <= 0.30 (c >= 0), so the maximum is 0.80; the minimum stays 0.
    assert after["attacker_max"].iloc[0] == pytest.approx(0.80, abs=1e-6)
    assert after["attacker_min"].iloc[0] == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# 2. A kommune in two klynger
# ---------------------------------------------------------------------------------------------
#   cells k1=0 k2=1 k3=2 k4=3, klynge A=4 (k1+k2+k3), klynge B=5 (k3+k4), region R=6 (all four)
KLYNGE_TRUE = np.array([10, 20, 3, 7, 33, 10, 40], dtype=float)
KLYNGE_RELATIONS = relations_from(
    [{4: 1, 0: -1, 1: -1, 2: -1}, {5: 1, 2: -1, 3: -1}, {6: 1, 0: -1, 1: -1, 2: -1, 3: -1}], 7
)


def test_kommune_in_two_klynger_is_recovered_across_relations_and_protect_fixes_it():
    primary = np.zeros(7, dtype=bool)
    primary[2] = True
    cost = KLYNGE_TRUE  # hide small cells first
    # The per-relation rule: klynge A hides k1 (cheaper than k2), klynge B hides k4; the region
    # then has three hidden members and looks safe.
    singleton = run_protect(
        KLYNGE_TRUE, KLYNGE_RELATIONS, primary, 5.0, cost, natural=(0, 1000), max_rounds=0
    )
    assert np.flatnonzero(singleton.hidden).tolist() == [0, 2, 3]
    # But R - A = k4 = 7, then B - k4 = k3 = 3: the attacker pins k3 exactly.
    lower, upper = bounds(singleton.hidden, KLYNGE_TRUE, KLYNGE_TRUE, np.zeros(7), np.full(7, 1e3))
    low, high = attack(lower, upper, KLYNGE_RELATIONS, singleton.hidden, targets=[2])
    assert low[0] == pytest.approx(3.0, abs=1e-5) and high[0] == pytest.approx(3.0, abs=1e-5)
    assert singleton.audit["exposed"].tolist() == [True]

    fixed = run_protect(KLYNGE_TRUE, KLYNGE_RELATIONS, primary, 5.0, cost, natural=(0, 1000))
    assert not fixed.audit["exposed"].any()
    # It hides klynge B (cost 10, in a relation with two hidden members), after which only
    # k1 + k3 = A - k2 = 33 - 20 = 13 is known (k4 = R - A = 7 is still recovered, but B is
    # hidden now): k3 in [0, 13].
    assert np.flatnonzero(fixed.hidden).tolist() == [0, 2, 3, 5]
    lower, upper = bounds(fixed.hidden, KLYNGE_TRUE, KLYNGE_TRUE, np.zeros(7), np.full(7, 1e3))
    low, high = attack(lower, upper, KLYNGE_RELATIONS, fixed.hidden, targets=[2])
    assert (low[0], high[0]) == pytest.approx((0.0, 13.0), abs=1e-5)


# ---------------------------------------------------------------------------------------------
# 3. A published difference reveals a group
# ---------------------------------------------------------------------------------------------
#   cells p_low=0, p_high=1, total T=2 (equal-weight mean), difference D=3 = p_high - p_low


def test_published_difference_reveals_a_group_and_protect_hides_it():
    true = np.array([0.25, 0.40, 0.325, 0.15])
    relations = relations_from([{0: 1, 1: 1, 2: -2}, {1: 1, 0: -1, 3: -1}], 4)
    natural_lower = np.array([0, 0, 0, -1.0])
    primary = np.array([True, False, False, False])
    hidden = np.array([True, True, False, False])  # the total's rule alone: hide p_high too
    prot = np.where(primary, 0.05, 0)
    report = audit(true, true, true, relations, hidden, prot, prot, natural_lower, np.ones(4))
    # p_low + p_high = 0.65 and p_high - p_low = 0.15 give p_low = 0.25 exactly.
    assert report["exposed"].tolist() == [True]
    assert report["attacker_min"].iloc[0] == pytest.approx(0.25, abs=1e-6)
    assert report["attacker_max"].iloc[0] == pytest.approx(0.25, abs=1e-6)

    cost = np.array([1, 1, 10, 1.0])  # D is cheaper to hide than the total
    fixed = protect(
        true, true, true, natural_lower, np.ones(4), relations, primary, prot, prot, cost
    )
    assert not fixed.audit["exposed"].any()
    assert fixed.hidden.tolist() == [True, True, False, True]
    # Without D only p_low + p_high = 0.65 is known: p_low in [0, 0.65].
    after = audit(true, true, true, relations, fixed.hidden, prot, prot, natural_lower, np.ones(4))
    assert (after["attacker_min"].iloc[0], after["attacker_max"].iloc[0]) == pytest.approx(
        (0.0, 0.65), abs=1e-6
    )


# ---------------------------------------------------------------------------------------------
# 4. Twins
# ---------------------------------------------------------------------------------------------


def test_twin_cells_expose_each_other():
    true = np.array([0.3, 0.3])
    relations = relations_from([{0: 1, 1: -1}], 2)
    hidden = np.array([True, False])
    low, high = attack(*bounds(hidden, true, true, np.zeros(2), np.ones(2)), relations, hidden)
    assert (low[0], high[0]) == pytest.approx((0.3, 0.3), abs=1e-6)
    report = run_audit(true, relations, hidden, 0.05)
    assert report["exposed"].tolist() == [True]
    fixed = run_protect(true, relations, hidden, 0.05, np.ones(2))
    assert fixed.hidden.tolist() == [True, True]
    assert fixed.complementary.tolist() == [False, True]
    assert not fixed.audit["exposed"].any()


# ---------------------------------------------------------------------------------------------
# 5. Counts: a register-like 2 x 3 table with margins
# ---------------------------------------------------------------------------------------------
#             age1  age2  age3 | total
#   area 1      3    40    57  |  100        cells 0 1 2 | 6
#   area 2     20     1    79  |  100        cells 3 4 5 | 7
#   total      23    41   136  |  200        cells 8 9 10 | 11


def count_table():
    true = np.array([3, 40, 57, 20, 1, 79, 100, 100, 23, 41, 136, 200], dtype=float)
    rows = [
        {0: 1, 1: 1, 2: 1, 6: -1},
        {3: 1, 4: 1, 5: 1, 7: -1},
        {0: 1, 3: 1, 8: -1},
        {1: 1, 4: 1, 9: -1},
        {2: 1, 5: 1, 10: -1},
        {6: 1, 7: 1, 11: -1},
        {8: 1, 9: 1, 10: 1, 11: -1},
    ]
    return true, relations_from(rows, 12)


def test_small_count_narrowed_by_sums_is_protected():
    true, relations = count_table()
    primary = np.zeros(12, dtype=bool)
    primary[0] = True
    cost = true  # hide small counts first (cost = count)
    singleton = run_protect(true, relations, primary, 5.0, cost, natural=(0, 200), max_rounds=0)
    # The singleton rule: row 1 -> 40, column 1 -> 20, row 2 -> 1 (cheapest): a rectangle.
    assert np.flatnonzero(singleton.hidden).tolist() == [0, 1, 3, 4]
    # (3 + t, 40 - t, 20 - t, 1 + t) with counts >= 0: t >= -1 (the 1), t <= 20 (the 20):
    # the 3 lies in [2, 23], but must be able to reach max(0, 3 - 5) = 0.
    lower, upper = bounds(singleton.hidden, true, true, np.zeros(12), np.full(12, 200.0))
    low, high = attack(lower, upper, relations, singleton.hidden, targets=[0])
    assert (low[0], high[0]) == pytest.approx((2.0, 23.0), abs=1e-5)
    assert singleton.audit["exposed"].tolist() == [True]

    fixed = run_protect(true, relations, primary, 5.0, cost, natural=(0, 200))
    assert not fixed.audit["exposed"].any()
    prot = np.where(primary, 5.0, 0)
    again = audit(
        true, true, true, relations, fixed.hidden, prot, prot, np.zeros(12), np.full(12, 200.0)
    )
    assert not again["exposed"].any()
    assert again["attacker_min"].iloc[0] <= 1e-6


def test_always_hidden_remainder_counts_as_hidden_without_complementary_cells():
    # total = a + b + remainder; the remainder is never published (natural 0..100), so the
    # hidden a lies in [0, total - b] = [0, 60] and needs no complementary cell.
    true = np.array([10.0, 40.0, 50.0, 100.0])
    relations = relations_from([{0: 1, 1: 1, 2: 1, 3: -1}], 4)
    primary = np.array([True, False, False, False])
    always = np.array([False, False, True, False])
    fixed = run_protect(true, relations, primary, 5.0, true, natural=(0, 100), always_hidden=always)
    assert fixed.hidden.tolist() == [True, False, True, False]
    assert not fixed.complementary.any()
    assert fixed.audit["cell"].tolist() == [0]  # the remainder is not a target


# ---------------------------------------------------------------------------------------------
# 6. Rounding intervals
# ---------------------------------------------------------------------------------------------


def weighted_table(seed: int = 3):
    """A 4 x 3 table of shares with respondent-weighted margins (rows, columns, grand)."""
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 60, size=(4, 3)).astype(float)
    p = rng.uniform(0.05, 0.6, size=(4, 3))
    rows_p = (n * p).sum(1) / n.sum(1)
    cols_p = (n * p).sum(0) / n.sum(0)
    grand = (n * p).sum() / n.sum()
    true = np.concatenate([p.ravel(), rows_p, cols_p, [grand]])
    cell = np.arange(12).reshape(4, 3)
    rel = []
    for i in range(4):
        rel.append({**{int(cell[i, j]): n[i, j] / n[i].sum() for j in range(3)}, 12 + i: -1.0})
    for j in range(3):
        rel.append({**{int(cell[i, j]): n[i, j] / n[:, j].sum() for i in range(4)}, 16 + j: -1.0})
    rel.append({**{12 + i: n[i].sum() / n.sum() for i in range(4)}, 19: -1.0})
    rel.append({**{16 + j: n[:, j].sum() / n.sum() for j in range(3)}, 19: -1.0})
    return true, relations_from(rel, 20), n


def test_rounded_intervals_keep_the_true_table_feasible_and_protect_passes():
    true, relations, n = weighted_table()
    m = true.size
    shown = np.round(true, 3)
    lower, upper = shown - 0.0005, shown + 0.0005
    # The rounded values themselves do not satisfy the weighted relations ...
    assert np.abs(relations @ shown).max() > 1e-6
    primary = np.zeros(m, dtype=bool)
    primary[[0, 7]] = True
    prot = np.where(primary, 0.05, 0.0)
    zero, one = np.zeros(m), np.ones(m)
    # ... but the intervals contain the truth: no false infeasibility, and a primary cell
    # alone in its row and column is recovered up to the rounding (exposed).
    report = audit(true, lower, upper, relations, primary, prot, prot, zero, one)
    assert report["exposed"].all()
    assert (report["attacker_min"] <= report["true"] + 1e-9).all()
    assert (report["attacker_max"] >= report["true"] - 1e-9).all()
    assert (report["attacker_max"] - report["attacker_min"] < 0.05).all()

    fixed = protect(
        true,
        lower,
        upper,
        zero,
        one,
        relations,
        primary,
        prot,
        prot,
        n.ravel().tolist() + [1e3] * 8,
    )
    assert not fixed.audit["exposed"].any()
    final = audit(true, lower, upper, relations, fixed.hidden, prot, prot, zero, one)
    assert final.attrs["exposed"] == 0 and final["exact"].all()


# ---------------------------------------------------------------------------------------------
# 7. Bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input_is_named():
    true, relations = count_table()
    m = true.size
    prot = np.zeros(m)
    hidden = np.zeros(m, dtype=bool)
    args = (true, true, relations, hidden, prot, prot, np.zeros(m), np.full(m, 200.0))
    with pytest.raises(ParameterError, match="lower has 11 cells, expected 12"):
        audit(true, true[:-1], *args[1:])
    bad = true.copy()
    bad[4] = np.nan
    with pytest.raises(DataValidationError, match="true must not be NaN.*row 4"):
        audit(bad, *args)
    broken = true.copy()
    broken[9] = 42.0  # column 2 should total 41: relation 3 breaks, and relation 6
    with pytest.raises(
        DataValidationError, match="relation 3 is not satisfied by the true values: residual -1 "
    ):
        audit(broken, broken, broken, *args[2:])
    with pytest.raises(ParameterError, match="relations have 5 columns"):
        audit(true, true, true, relations[:, :5], *args[3:])
    with pytest.raises(DataValidationError, match="outside the attacker's bounds .cell 2"):
        shifted = true.copy()
        shifted[2] += 0.5
        audit(true, shifted, shifted, *args[2:])
    with pytest.raises(ParameterError, match="targets must be hidden"):
        attack(true, true, relations, hidden, targets=[0])


def test_attack_agrees_with_one_scipy_linprog_per_bound():
    # An independent formulation: every cell a variable (shown ones within their rounding
    # interval), the relations as equalities, one cold linprog per bound, against the
    # warm-started per-component HiGHS models of attack().
    from scipy.optimize import linprog

    true, relations, _ = weighted_table(seed=11)
    m = true.size
    rng = np.random.default_rng(5)
    hidden = rng.random(m) < 0.5
    shown = np.round(true, 3)
    lower, upper = bounds(hidden, shown - 0.0005, shown + 0.0005, np.zeros(m), np.ones(m))
    low, high = attack(lower, upper, relations, hidden)
    dense = relations.toarray()
    expected_low, expected_high = [], []
    for cell in np.flatnonzero(hidden):
        c = np.zeros(m)
        c[cell] = 1.0
        box = list(zip(lower, upper, strict=True))
        kw = {"A_eq": dense, "b_eq": np.zeros(len(dense)), "bounds": box, "method": "highs"}
        expected_low.append(linprog(c, **kw).fun)
        expected_high.append(-linprog(-c, **kw).fun)
    assert hidden.sum() >= 6
    np.testing.assert_allclose(low, expected_low, atol=1e-6)
    np.testing.assert_allclose(high, expected_high, atol=1e-6)
    assert (high - low > 1e-3).any()  # not a degenerate all-pinned case
    # The relaxed attacker (shown cells as constants over their whole interval) is weaker:
    # never narrower, and here visibly wider somewhere (rounding propagated through relations).
    relaxed_low, relaxed_high = attack(lower, upper, relations, hidden, shown_in_lp=False)
    assert (relaxed_low <= low + 1e-9).all() and (relaxed_high >= high - 1e-9).all()
    assert (relaxed_high - relaxed_low > high - low + 1e-5).any()


def test_candidates_are_respected_and_a_pinned_cell_is_reported_unprotectable():
    # Klynge B may not be hidden: protect must find another way (k2 or klynge A).
    primary = np.zeros(7, dtype=bool)
    primary[2] = True
    candidates = np.ones(7, dtype=bool)
    candidates[5] = False
    fixed = run_protect(
        KLYNGE_TRUE,
        KLYNGE_RELATIONS,
        primary,
        5.0,
        KLYNGE_TRUE,
        natural=(0, 1000),
        candidates=candidates,
    )
    assert not fixed.hidden[5]
    assert not fixed.audit["exposed"].any()
    assert fixed.timings["outside_candidates"] == 0

    # a + b = 0 with both in 0..1 pins a at 0 whatever is hidden: reported, not looped on.
    rounds = []
    pinned = run_protect(
        np.zeros(2),
        relations_from([{0: 1, 1: 1}], 2),
        np.array([True, False]),
        0.05,
        np.ones(2),
        progress=lambda *args: rounds.append(args),
    )
    assert pinned.hidden.tolist() == [True, True]
    assert pinned.audit["exposed"].tolist() == [True]
    assert pinned.audit.attrs["unprotectable"] == [0]
    assert rounds[0] == (0, 1, 2)  # (round, exposed, hidden) after the singleton rule
