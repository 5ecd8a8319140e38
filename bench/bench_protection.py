"""Benchmark of linked interval protection (analyse.stats.protection) on synthetic tables.

Each table is a 2-D table of shares: 100 kommuner in 5 regions plus the whole country, times
15 groups in 3 supergroups plus all groups (106 x 19 = 2,014 cells), linked by weighted-mean
relations in both directions (a parent share is the respondent-weighted mean of its children).
Shown shares are rounded to 0.001 (interval ±0.0005), hidden ones lie in 0..1, and the primary
cells (a random ``--primary`` fraction of all cells, drawn among the kommune x group
cells) need ±0.05 protection. Tables are independent blocks of
one big problem, as the agreements' indicators are.

Prints the time of the singleton rule, of :func:`protect`, of an exact :func:`audit` of the
result with HiGHS (highspy, one warm-started model per component), and of the same attacker
LPs with ``scipy.optimize.linprog(method="highs")`` per target (on a subset). Audits run with
the full attacker (shown cells as LP variables) and the relaxed one (shown cells as constants).

    PYTHONPATH=src python bench/bench_protection.py --tables 50 --primary 0.2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from analyse.stats.protection import _engine, attack, audit, bounds, protect

N_KOMMUNER, N_REGIONS, N_GROUPS, N_SUPER = 100, 5, 15, 3


def table(rng: np.random.Generator, offset: int):
    """One table: (true shares, respondents, relation triplets) with cells from ``offset``."""
    n_area = N_KOMMUNER + N_REGIONS + 1
    n_group = N_GROUPS + N_SUPER + 1
    n = np.zeros((n_area, n_group))
    p = np.zeros((n_area, n_group))
    n[:N_KOMMUNER, :N_GROUPS] = rng.poisson(30, (N_KOMMUNER, N_GROUPS)) + 1
    p[:N_KOMMUNER, :N_GROUPS] = rng.beta(2, 5, (N_KOMMUNER, N_GROUPS))
    area_parent = [N_KOMMUNER + k // (N_KOMMUNER // N_REGIONS) for k in range(N_KOMMUNER)]
    area_parent += [n_area - 1] * N_REGIONS
    group_parent = [N_GROUPS + g // (N_GROUPS // N_SUPER) for g in range(N_GROUPS)]
    group_parent += [n_group - 1] * N_SUPER
    # Aggregate counts and weighted sums bottom-up (kommuner -> regions -> country).
    s = n * p
    for a in range(N_KOMMUNER + N_REGIONS):
        for g in range(N_GROUPS):
            n[area_parent[a], g] += n[a, g]
            s[area_parent[a], g] += s[a, g]
    for a in range(n_area):
        for g in range(N_GROUPS + N_SUPER):
            n[a, group_parent[g]] += n[a, g]
            s[a, group_parent[g]] += s[a, g]
    p = s / n
    cell = offset + np.arange(n_area * n_group).reshape(n_area, n_group)
    rows, cols, vals, r = [], [], [], 0
    # Area relations for every group column; group relations for every area row.
    for g in range(n_group):
        for parent in range(N_KOMMUNER, n_area):
            children = [a for a in range(n_area - 1) if area_parent[a] == parent]
            for a in children:
                rows.append(r), cols.append(cell[a, g]), vals.append(n[a, g] / n[parent, g])
            rows.append(r), cols.append(cell[parent, g]), vals.append(-1.0)
            r += 1
    for a in range(n_area):
        for parent in range(N_GROUPS, n_group):
            children = [g for g in range(n_group - 1) if group_parent[g] == parent]
            for g in children:
                rows.append(r), cols.append(cell[a, g]), vals.append(n[a, g] / n[a, parent])
            rows.append(r), cols.append(cell[a, parent]), vals.append(-1.0)
            r += 1
    return p.ravel(), n.ravel(), (np.array(rows), np.array(cols), np.array(vals), r)


def problem(tables: int, primary_share: float, seed: int, anywhere: bool = False):
    rng = np.random.default_rng(seed)
    trues, sizes, rs, cs, vs, offset, row0 = [], [], [], [], [], 0, 0
    for _ in range(tables):
        p, n, (r, c, v, n_rows) = table(rng, offset)
        trues.append(p), sizes.append(n), rs.append(r + row0), cs.append(c), vs.append(v)
        offset += p.size
        row0 += n_rows
    true, size = np.concatenate(trues), np.concatenate(sizes)
    matrix = sparse.csr_matrix(
        (np.concatenate(vs), (np.concatenate(rs), np.concatenate(cs))), shape=(row0, offset)
    )
    # Primary cells are small cells: kommune x group (interior) cells only, at random.
    per_table = (N_KOMMUNER + N_REGIONS + 1) * (N_GROUPS + N_SUPER + 1)
    local = np.arange(offset) % per_table
    interior = (local // (N_GROUPS + N_SUPER + 1) < N_KOMMUNER) & (
        local % (N_GROUPS + N_SUPER + 1) < N_GROUPS
    )
    share_of_interior = primary_share * per_table / (N_KOMMUNER * N_GROUPS)
    if anywhere:  # aggregates too: large linked components
        primary = rng.random(offset) < primary_share
    else:
        primary = interior & (rng.random(offset) < share_of_interior)
    return true, size, matrix, primary


def linprog_attack(lower, upper, matrix, hidden, targets, tolerance=1e-9):
    """Reference: one scipy linprog call per bound over the target's whole table block."""
    hidden_idx = np.flatnonzero(hidden)
    sub = matrix[:, hidden_idx].tocsr()
    shown = matrix[:, ~hidden]
    lo_s, up_s = lower[~hidden], upper[~hidden]
    pos, neg = shown.maximum(0), shown.minimum(0)
    scale = np.fmax(1.0, np.fmax(np.abs(lower), np.abs(upper)))
    tol = tolerance * (abs(matrix) @ scale)
    row_lo = -tol - (pos @ up_s + neg @ lo_s)
    row_hi = tol - (pos @ lo_s + neg @ up_s)
    a_ub = sparse.vstack([sub, -sub]).tocsr()
    b_ub = np.concatenate([row_hi, -row_lo])
    col_bounds = np.column_stack([lower[hidden_idx], upper[hidden_idx]])
    where = {c: i for i, c in enumerate(hidden_idx)}
    low, high = [], []
    for t in targets:
        c = np.zeros(hidden_idx.size)
        c[where[t]] = 1.0
        low.append(linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=col_bounds, method="highs").fun)
        high.append(-linprog(-c, A_ub=a_ub, b_ub=b_ub, bounds=col_bounds, method="highs").fun)
    return np.array(low), np.array(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--primary", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--linprog-targets", type=int, default=200)
    parser.add_argument(
        "--anywhere", action="store_true", help="draw primary cells among all cells"
    )
    args = parser.parse_args()

    tick = time.perf_counter()
    true, size, matrix, primary = problem(args.tables, args.primary, args.seed, args.anywhere)
    m = true.size
    shown = np.round(true, 3)
    shown_lower, shown_upper = shown - 0.0005, shown + 0.0005
    natural_lower, natural_upper = np.zeros(m), np.ones(m)
    protection = np.where(primary, 0.05, 0.0)
    print(
        f"problem: {args.tables} tables, {m:,} cells, {matrix.shape[0]:,} relations, "
        f"{primary.sum():,} primary cells (built in {time.perf_counter() - tick:.1f} s)"
    )

    tick = time.perf_counter()
    result = protect(
        true,
        shown_lower,
        shown_upper,
        natural_lower,
        natural_upper,
        matrix,
        primary,
        protection,
        protection,
        size,
    )
    total = time.perf_counter() - tick
    t = result.timings
    print(
        f"protect: {total:.1f} s (singleton rule {t['singleton']:.2f} s hid "
        f"{t['singleton_hidden']:,}; {result.rounds} audit rounds, audits {t['audit']:.1f} s, "
        f"{t['lp_solves']:,} LP solves); complementary cells {result.complementary.sum():,}; "
        f"exposed after {int(result.audit['exposed'].sum())}"
    )
    hidden = result.hidden
    lower, upper = bounds(hidden, shown_lower, shown_upper, natural_lower, natural_upper)

    for full in (True, False):
        for exact in (True, False):
            tick = time.perf_counter()
            frame = audit(
                true,
                shown_lower,
                shown_upper,
                matrix,
                hidden,
                protection,
                protection,
                natural_lower,
                natural_upper,
                exact=exact,
                shown_in_lp=full,
            )
            a = frame.attrs
            print(
                f"audit shown_in_lp={full} exact={exact}: {time.perf_counter() - tick:.1f} s for "
                f"{a['targets']:,} targets; {a['components']:,} LP components (largest "
                f"{a['largest_component']:,} variables), {a['lp_solves']:,} LP solves, "
                f"exposed {a['exposed']}"
            )

    # The singleton rule alone, audited: how much it leaves exposed.
    tick = time.perf_counter()
    alone = protect(
        true,
        shown_lower,
        shown_upper,
        natural_lower,
        natural_upper,
        matrix,
        primary,
        protection,
        protection,
        size,
        max_rounds=0,
    )
    print(
        f"singleton rule only: {alone.complementary.sum():,} complementary cells, "
        f"{int(alone.audit['exposed'].sum()):,} primary cells exposed "
        f"({time.perf_counter() - tick:.1f} s)"
    )

    # highspy (warm-started per component) vs scipy linprog per target, same targets, both
    # with the relaxed attacker (shown cells as constants).
    targets = np.flatnonzero(primary)[: args.linprog_targets]
    tick = time.perf_counter()
    res = _engine(matrix, lower, upper, hidden, targets, tolerance=1e-9, shown_in_lp=False)
    t_highs = time.perf_counter() - tick
    first = np.flatnonzero(primary)[: args.linprog_targets]
    block = first < 2014  # stay in the first table, so linprog solves one table per target
    targets = first[block]
    tick = time.perf_counter()
    t_lo, t_hi = linprog_attack(
        lower[:2014],
        upper[:2014],
        matrix[:, :2014][np.unique(matrix[:, :2014].tocoo().row)],
        hidden[:2014],
        targets,
    )
    t_linprog = time.perf_counter() - tick
    lo_h, hi_h = attack(lower, upper, matrix, hidden, targets, shown_in_lp=False)
    agree = np.allclose(t_lo, lo_h, atol=1e-6) and np.allclose(t_hi, hi_h, atol=1e-6)
    print(
        f"relaxed attacker LPs: highspy engine {t_highs / max(res.low.size, 1) * 1e3:.2f} ms per target "
        f"({res.low.size} targets, {res.stats['lp_solves']} solves); scipy linprog "
        f"{t_linprog / max(targets.size, 1) * 1e3:.1f} ms per target ({targets.size} targets, "
        f"2 solves each); results agree: {agree}"
    )


if __name__ == "__main__":
    main()
