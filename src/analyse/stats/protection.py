"""Linked interval protection of suppressed cells: the attacker's LP audit and a greedy fix.

Statistical disclosure control of linked tables (Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, §4.3–4.4; de Wolf et al., *τ-ARGUS user's manual*; Meindl's R package
sdcTable, ``protectTable`` with its "SIMPLEHEURISTIC"/"HITAS"/"OPT" methods) asks more of a
suppression pattern than "no sum has exactly one hidden cell". The attacker is assumed to know

- every published value, as the interval its rounding allows (``value ± 0.0005`` for a share
  published with three decimals),
- for every hidden cell only its natural range (``0..1`` for a share, ``0..N`` for a count),
- every linear relation between the cells (a region is the weighted sum of its kommuner, a total
  is the sum of its groups, a difference is the difference of its two shares ...),

and to solve, for each hidden cell, the two linear programmes "minimise / maximise the cell
subject to all of that". A primary-suppressed cell is *protected* when the attacker's interval
``[attacker_min, attacker_max]`` still covers its required protection interval
``[true - protect_below, true + protect_above]`` (cut to the natural range). This is the
"interval protection" audit of τ-ARGUS and sdcTable (Hundepool et al. 2012, §4.3.2 the
attacker problem, §4.4 the secondary suppression problem).

Functions
---------
:func:`bounds`
    the attacker's per-cell knowledge (shown interval or natural range);
:func:`attack`
    the attacker's minimum and maximum of each hidden cell;
:func:`audit`
    :func:`attack` on the primary cells plus the verdict "exposed or not";
:func:`protect`
    a suppression pattern that passes :func:`audit`: the classic singleton rule first, then a
    greedy loop that hides one more cell next to each exposed cell until nothing is exposed
    (a heuristic in the spirit of sdcTable's SIMPLEHEURISTIC; not cost-optimal like HITAS/OPT).

Method
------
The full attacker (``shown_in_lp=True``, the default) has every cell that appears in a
relation as an LP variable: hidden cells within their natural range, shown cells within their
shown interval, so relations among shown cells narrow the shown intervals before these narrow
the hidden cells. The problem falls apart into independent components (cells linked by
relations: in practice one per table); each gets one HiGHS model (:mod:`highspy`) in which only
the objective changes between solves, so every solve starts from the previous optimal basis
(primal simplex, no presolve). The relaxed attacker (``shown_in_lp=False``) moves each shown
cell's contribution into the row bounds (a constant anywhere in its interval), so the LPs have
only the hidden cells, linked through relations that contain more than one of them: much
smaller and about five times faster, but weaker by the rounding propagated through the
relations. Its intervals are never narrower than the full attacker's, so what it exposes is
exposed; :func:`protect` runs its rounds with it first and confirms with the full one.

A component with a single variable has its interval in closed form. Every optimal vertex is a
feasible table, so the values it gives the other targets of the component are *witnesses*
(the attacker's minimum is at most, the maximum at least, that value); they settle many
targets without their own LP: exactly when the witness reaches the cell's natural bound, and
for the yes/no question (``audit(exact=False)`` and :func:`protect`) as soon as the witness
reaches the required protection bound.

Each relation row ``a·x = 0`` is imposed as ``|a·x| <= tolerance * sum_j |a_j| s_j`` with
``s_j = max(1, |lower_j|, |upper_j|)`` (finite bounds only), so the true table, whose relations
hold up to floating-point error, is always feasible. The slack favours the cells (it can only
widen the attacker's interval).

Pure functions on arrays (numpy, scipy, pandas; HiGHS through highspy). The attacker's LPs,
the witnesses and certificates that settle cells without an LP, and the choice of complementary
cells share one engine and one set of invariants (a certificate is a feasible table of the
attacker), so the module is kept as one unit.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from analyse.errors import DataValidationError, ParameterError

__all__ = ["ProtectResult", "attack", "audit", "bounds", "protect"]

#: Exposure margin relative to the cell's scale: an interval short of the required one by less than
#: this (10⁻⁴ percentage point) is not exposed; it stays above the LP solvers' feasibility
#: tolerance (10⁻⁷), so a solution that reaches a bound within tolerance decides correctly.
_EPS = 1e-6


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


def _vector(name: str, values, m: int | None, *, dtype=float, allow_nan: bool = False):
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ParameterError(f"{name} must be one-dimensional, got shape {array.shape}")
    if m is not None and array.shape[0] != m:
        raise ParameterError(f"{name} has {array.shape[0]} cells, expected {m}")
    if dtype is float and not allow_nan:
        bad = np.flatnonzero(np.isnan(array))
        if bad.size:
            raise DataValidationError(f"{name} must not be NaN", column=name, rows=bad)
    return array


def _relations(relations, m: int) -> sparse.csr_matrix:
    if not sparse.issparse(relations):
        relations = sparse.csr_matrix(np.atleast_2d(np.asarray(relations, dtype=float)))
    matrix = sparse.csr_matrix(relations, dtype=float)
    if matrix.shape[1] != m:
        raise ParameterError(
            f"relations have {matrix.shape[1]} columns, expected one per cell ({m})"
        )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    if not np.isfinite(matrix.data).all():
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        bad = rows[~np.isfinite(matrix.data)]
        raise DataValidationError(
            "relation coefficients must be finite", column="relations", rows=np.unique(bad)
        )
    return matrix


def _row_tolerance(matrix: sparse.csr_matrix, lower, upper, tolerance: float) -> np.ndarray:
    """``tolerance * sum_j |a_ij| s_j`` with ``s_j = max(1, |finite bounds|)``."""
    with np.errstate(invalid="ignore"):
        scale = np.fmax(np.abs(np.where(np.isfinite(lower), lower, 0.0)), 1.0)
        scale = np.fmax(scale, np.abs(np.where(np.isfinite(upper), upper, 0.0)))
    return tolerance * (abs(matrix) @ scale)


def bounds(hidden, shown_lower, shown_upper, natural_lower, natural_upper):
    """The attacker's per-cell knowledge: the shown interval, or the natural range if hidden.

    Parameters
    ----------
    hidden : array_like of bool, shape (m,)
    shown_lower, shown_upper : array_like of float, shape (m,)
        The interval a published value stands for (e.g. value ± half a rounding unit).
    natural_lower, natural_upper : array_like of float, shape (m,)
        What anyone knows about a cell without seeing it (e.g. 0 and 1 for a share).

    Returns
    -------
    lower, upper : numpy.ndarray
    """
    hidden = _vector("hidden", hidden, None, dtype=bool)
    m = hidden.shape[0]
    arrays = [
        _vector(name, values, m, allow_nan=True)
        for name, values in (
            ("shown_lower", shown_lower),
            ("shown_upper", shown_upper),
            ("natural_lower", natural_lower),
            ("natural_upper", natural_upper),
        )
    ]
    lower = np.where(hidden, arrays[2], arrays[0])
    upper = np.where(hidden, arrays[3], arrays[1])
    return lower, upper


# ---------------------------------------------------------------------------------------------
# The attacker's LPs
# ---------------------------------------------------------------------------------------------


@dataclass
class _Intervals:
    """Attacker intervals for targets; ``exact_*`` False where only a witness is known."""

    low: np.ndarray
    high: np.ndarray
    exact_low: np.ndarray
    exact_high: np.ndarray
    component: np.ndarray  # component label of each LP variable (-1 for other cells)
    stats: dict = field(default_factory=dict)


def _engine(
    matrix: sparse.csr_matrix,
    lower: np.ndarray,
    upper: np.ndarray,
    hidden: np.ndarray,
    targets: np.ndarray,
    *,
    tolerance: float,
    need_low: np.ndarray | None = None,
    need_high: np.ndarray | None = None,
    shown_in_lp: bool = True,
    witness_only: bool = False,
) -> _Intervals:
    """Minimise and maximise every target cell over the attacker's feasible set.

    With ``need_low``/``need_high`` (per target) the question is only "does the interval reach
    these bounds?": a target is settled as soon as a witness reaches its bound, and its other
    side is skipped once one side is known to fall short.
    """
    started = time.perf_counter()
    m = matrix.shape[1]
    decide = need_low is not None
    if targets.size and not hidden[targets].all():
        bad = targets[~hidden[targets]]
        raise ParameterError(
            "targets must be hidden cells; shown: " + ", ".join(str(int(c)) for c in bad[:5])
        )
    if shown_in_lp:
        # The full attacker: shown cells are variables too (within their intervals), so the
        # relations among shown cells can narrow them before they narrow the hidden ones.
        hidden = hidden | (np.diff(sparse.csc_matrix(matrix).indptr) > 0)
    n_t = targets.size
    low = np.full(n_t, np.nan)
    high = np.full(n_t, np.nan)
    exact_low = np.zeros(n_t, dtype=bool)
    exact_high = np.zeros(n_t, dtype=bool)

    hidden_idx = np.flatnonzero(hidden)
    local = np.full(m, -1)
    local[hidden_idx] = np.arange(hidden_idx.size)
    k = hidden_idx.size

    # Shown cells -> row bounds.
    tol = _row_tolerance(matrix, lower, upper, tolerance)
    shown = sparse.csc_matrix(matrix)[:, ~hidden] if (~hidden).any() else None
    if shown is not None:
        pos, neg = shown.maximum(0), shown.minimum(0)
        lo_s, up_s = lower[~hidden], upper[~hidden]
        contrib_min = pos @ lo_s + neg @ up_s
        contrib_max = pos @ up_s + neg @ lo_s
    else:
        contrib_min = contrib_max = np.zeros(matrix.shape[0])
    row_lo = -tol - contrib_max
    row_hi = tol - contrib_min

    sub = sparse.csr_matrix(matrix[:, hidden_idx])
    per_row = np.diff(sub.indptr)
    active = np.flatnonzero(per_row > 0)
    sub_a = sub[active]
    coo = sub_a.tocoo()
    # Bipartite graph: hidden cells 0..k-1, active relations k..k+len(active)-1.
    graph = sparse.coo_matrix(
        (np.ones(coo.nnz), (coo.col, coo.row + k)), shape=(k + active.size, k + active.size)
    )
    n_comp, labels = csgraph.connected_components(graph, directed=False)
    cell_comp = labels[:k]
    row_comp = labels[k:]
    component = np.full(m, -1)
    component[hidden_idx] = cell_comp
    comp_size = np.bincount(cell_comp, minlength=n_comp)

    t_local = local[targets]
    col_lo = lower[hidden_idx].astype(float)
    col_hi = upper[hidden_idx].astype(float)

    # Closed form for components of one hidden cell: intersect the natural range with every
    # relation's implied interval.
    cell_low = col_lo.copy()
    cell_high = col_hi.copy()
    single_rows = comp_size[row_comp] == 1
    if single_rows.any():
        rows_s = np.flatnonzero(single_rows)
        a = sub_a[rows_s].tocoo()
        coef = a.data
        r_lo, r_hi = row_lo[active[rows_s]][a.row], row_hi[active[rows_s]][a.row]
        lo_i = np.where(coef > 0, r_lo / coef, r_hi / coef)
        hi_i = np.where(coef > 0, r_hi / coef, r_lo / coef)
        np.maximum.at(cell_low, a.col, lo_i)
        np.minimum.at(cell_high, a.col, hi_i)
    target_comp = cell_comp[t_local]
    single_t = comp_size[target_comp] == 1
    low[single_t] = cell_low[t_local[single_t]]
    high[single_t] = cell_high[t_local[single_t]]
    exact_low[single_t] = exact_high[single_t] = True
    crossed = low > high + 1e-9 * np.fmax(1.0, np.abs(high))
    if crossed.any():
        bad = targets[crossed]
        raise DataValidationError(
            "the attacker's problem is infeasible: the shown intervals and relations contradict "
            "each other around cell(s) " + ", ".join(str(int(c)) for c in bad[:5]),
            column="relations",
        )

    # LPs for the rest, one model per component.
    n_solves = 0
    multi = np.flatnonzero(~single_t)
    if multi.size:
        order = np.argsort(target_comp[multi], kind="stable")
        multi = multi[order]
        comps, starts = np.unique(target_comp[multi], return_index=True)
        ends = np.append(starts[1:], multi.size)
        rows_by_comp = pd.Series(np.arange(active.size)).groupby(row_comp).indices
        cells_by_comp = pd.Series(np.arange(k)).groupby(cell_comp).indices
        for comp, start, end in zip(comps, starts, ends, strict=True):
            which = multi[start:end]
            n_solves += _solve_component(
                sub_a,
                rows_by_comp[comp],
                cells_by_comp[comp],
                row_lo[active],
                row_hi[active],
                col_lo,
                col_hi,
                t_local[which],
                which,
                low,
                high,
                exact_low,
                exact_high,
                None if not decide else need_low,
                None if not decide else need_high,
                witness_only=witness_only and decide,
            )
    stats = {
        "components": int((comp_size > 1).sum()),
        "largest_component": int(comp_size.max()) if comp_size.size else 0,
        "lp_solves": n_solves,
        "seconds": time.perf_counter() - started,
    }
    return _Intervals(low, high, exact_low, exact_high, component, stats)


_BANNER_SILENCED = False


def _new_highs() -> highspy.Highs:
    """A quiet HiGHS instance (the first one in a process prints a banner to fd 1: muted)."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        h = highspy.Highs()
    else:
        _BANNER_SILENCED = True
        try:
            sys.stdout.flush()
            saved = os.dup(1)
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                try:
                    h = highspy.Highs()
                finally:
                    os.dup2(saved, 1)
                    os.close(saved)
        except OSError:  # no real file descriptor 1
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # Only the objective changes between solves: the optimal basis stays primal feasible, so
    # the primal simplex continues from it (about twice as fast here as the default).
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 4)
    return h


def _solve_component(
    sub_a,
    rows,
    cells,
    row_lo,
    row_hi,
    col_lo,
    col_hi,
    t_cells,
    t_index,
    low,
    high,
    exact_low,
    exact_high,
    need_low,
    need_high,
    *,
    witness_only: bool = False,
) -> int:
    """Fill ``low``/``high`` for the targets of one component; returns the number of solves.

    ``witness_only`` (yes/no question only): a target that the capped witnesses do not settle
    is reported with its witness values (so as exposed) instead of getting LPs of its own — the
    safe side for :func:`protect`, which then hides more around it."""
    cells = np.sort(cells)
    block = sparse.csc_matrix(sub_a[rows][:, cells])
    n = cells.size
    pos = np.searchsorted(cells, t_cells)  # targets' columns in the block
    c_lo, c_hi = col_lo[cells], col_hi[cells]

    h = _new_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = rows.size
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = np.where(np.isfinite(c_lo), c_lo, -highspy.kHighsInf)
    lp.col_upper_ = np.where(np.isfinite(c_hi), c_hi, highspy.kHighsInf)
    lp.row_lower_ = np.where(np.isfinite(row_lo[rows]), row_lo[rows], -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(row_hi[rows]), row_hi[rows], highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = block.indptr.astype(np.int32)
    lp.a_matrix_.index_ = block.indices.astype(np.int32)
    lp.a_matrix_.value_ = block.data
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = rows.size
    h.passModel(lp)

    # Witnesses: the lowest / highest value seen for each target in a feasible solution.
    seen_low = np.full(t_cells.size, np.inf)
    seen_high = np.full(t_cells.size, -np.inf)
    solves = 0

    def run(cost: np.ndarray | None, column: int | None, sense) -> float:
        nonlocal solves
        if column is None:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        else:
            h.changeColCost(int(column), 1.0)
        h.changeObjectiveSense(sense)
        h.run()
        solves += 1
        status = h.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            # (The true table is feasible, so this is unbounded.) HiGHS can report a wrong
            # optimum when it continues from the state an unbounded solve leaves: drop it.
            h.clearSolver()
            if column is not None:
                h.changeColCost(int(column), 0.0)
            return np.inf if sense == highspy.ObjSense.kMaximize else -np.inf
        if status == highspy.HighsModelStatus.kInfeasible:
            raise DataValidationError(
                "the attacker's problem is infeasible: the shown intervals and relations "
                "contradict each other in the component of hidden cells "
                + ", ".join(str(int(c)) for c in cells[:5]),
                column="relations",
            )
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"HiGHS did not solve the attacker's LP: {h.modelStatusToString(status)}"
            )
        x = np.asarray(h.getSolution().col_value)[pos]
        np.minimum(seen_low, x, out=seen_low)
        np.maximum(seen_high, x, out=seen_high)
        value = h.getInfo().objective_function_value
        if column is not None:
            h.changeColCost(int(column), 0.0)
        return value

    minimise, maximise = highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize
    if t_cells.size > 2:  # a first pair of LPs pushes all targets down / up at once
        cost = np.zeros(n)
        cost[pos] = 1.0
        run(cost, None, minimise)
        run(cost, None, maximise)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))

    if need_low is not None and t_cells.size > 2:
        solves += _capped_witnesses(
            block,
            row_lo[rows],
            row_hi[rows],
            c_lo,
            c_hi,
            pos,
            need_low[t_index],
            need_high[t_index],
            seen_low,
            seen_high,
        )

        if witness_only:
            low[t_index] = seen_low
            high[t_index] = seen_high
            return solves

    with np.errstate(invalid="ignore"):
        tol_lo = 1e-12 * np.fmax(1.0, np.where(np.isfinite(c_lo[pos]), np.abs(c_lo[pos]), 0.0))
        tol_hi = 1e-12 * np.fmax(1.0, np.where(np.isfinite(c_hi[pos]), np.abs(c_hi[pos]), 0.0))
    for j, col in enumerate(pos):
        out = t_index[j]
        # Lower side.
        if seen_low[j] <= c_lo[col] + tol_lo[j]:
            low[out], exact_low[out] = c_lo[col], True
        elif need_low is not None and seen_low[j] <= need_low[out]:
            low[out] = seen_low[j]
        else:
            low[out], exact_low[out] = run(None, col, minimise), True
        if need_low is not None and exact_low[out] and low[out] > need_low[out]:
            high[out] = seen_high[j]  # exposed already: the other side does not matter
            continue
        # Upper side.
        if seen_high[j] >= c_hi[col] - tol_hi[j]:
            high[out], exact_high[out] = c_hi[col], True
        elif need_high is not None and seen_high[j] >= need_high[out]:
            high[out] = seen_high[j]
        else:
            high[out], exact_high[out] = run(None, col, maximise), True
    return solves


def _capped_witnesses(
    block, row_lo, row_hi, c_lo, c_hi, pos, need_low, need_high, seen_low, seen_high, rounds=8
) -> int:
    """Witness tables that bring as many targets as possible to their required bounds at once.

    For the yes/no question only. Maximising the plain sum of the targets drives some far up and
    leaves others down; maximising ``Σ min(x_j, need_high_j)`` (an extra variable ``z_j ≤ x_j``
    with upper bound ``need_high_j`` per target) asks for a feasible table in which as many
    targets as the relations allow reach their required upper bound together — in a table where
    most cells are hidden, one or two solves settle nearly all of them. The same downwards with
    ``z_j ≥ x_j``, ``z_j ≥ need_low_j``. Repeated on the targets still open while a solve settles
    any; the rest get their own LPs. Updates ``seen_low``/``seen_high`` in place.
    """
    n, t = block.shape[1], pos.size
    n_rows = block.shape[0]
    link = sparse.csc_matrix(
        (
            np.concatenate([np.ones(t), -np.ones(t)]),
            (np.concatenate([np.arange(t), np.arange(t)]), np.concatenate([n + np.arange(t), pos])),
        ),
        shape=(t, n + t),
    )
    matrix = sparse.vstack(
        [sparse.hstack([block, sparse.csc_matrix((n_rows, t))]), link], format="csc"
    )
    inf = highspy.kHighsInf

    def finite(values, fill):
        return np.where(np.isfinite(values), values, fill)

    solves = 0
    for up in (True, False):
        h = _new_highs()
        lp = highspy.HighsLp()
        lp.num_col_ = n + t
        lp.num_row_ = n_rows + t
        target_lo, target_hi = c_lo[pos], c_hi[pos]
        if up:
            z_lo, z_hi = target_lo, np.minimum(need_high, target_hi)
            link_lo, link_hi = np.full(t, -inf), np.zeros(t)
        else:
            z_lo, z_hi = np.maximum(need_low, target_lo), target_hi
            link_lo, link_hi = np.zeros(t), np.full(t, inf)
        lp.col_cost_ = np.zeros(n + t)
        lp.col_lower_ = finite(np.concatenate([c_lo, z_lo]), -inf)
        lp.col_upper_ = finite(np.concatenate([c_hi, z_hi]), inf)
        lp.row_lower_ = np.concatenate([finite(row_lo, -inf), link_lo])
        lp.row_upper_ = np.concatenate([finite(row_hi, inf), link_hi])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        lp.a_matrix_.num_col_ = n + t
        lp.a_matrix_.num_row_ = n_rows + t
        h.passModel(lp)
        # A fresh model with a new objective: the dual simplex from scratch is about twice as
        # fast here as the primal one the per-target solves use.
        h.setOptionValue("simplex_strategy", 1)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if up else highspy.ObjSense.kMinimize)
        for _ in range(rounds):
            open_ = seen_high < need_high if up else seen_low > need_low
            if not open_.any():
                break
            cost = np.zeros(n + t)
            cost[n + np.flatnonzero(open_)] = 1.0
            h.changeColsCost(n + t, np.arange(n + t, dtype=np.int32), cost)
            h.run()
            solves += 1
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break  # the per-target LPs that follow decide (and report) properly
            x = np.asarray(h.getSolution().col_value)[:n][pos]
            np.minimum(seen_low, x, out=seen_low)
            np.maximum(seen_high, x, out=seen_high)
            still = seen_high < need_high if up else seen_low > need_low
            if still.sum() >= open_.sum():
                break
    return solves


def tables(matrix: sparse.csr_matrix) -> np.ndarray:
    """Connected components of the relation graph over all cells (a table with its twins)."""
    m = matrix.shape[1]
    pattern = sparse.csr_matrix(
        (np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape
    )
    graph = sparse.bmat([[None, pattern.T], [pattern, None]], format="csr")
    _, labels = csgraph.connected_components(graph, directed=False)
    return labels[:m]


def _within_tables(blocks: np.ndarray, table_of: np.ndarray) -> np.ndarray:
    """Split the caller's blocks by table: a block never spans two connected tables, and a
    table's cells linked to another (twin indicators) share its blocks."""
    key = pd.DataFrame({"block": blocks, "table": table_of})
    ids = key.groupby(["block", "table"], sort=False).ngroup().to_numpy()
    return np.where(blocks >= 0, ids, -1).astype(np.int64)


def _block_witnesses(
    matrix: sparse.csr_matrix,
    lower: np.ndarray,
    upper: np.ndarray,
    hidden: np.ndarray,
    true: np.ndarray,
    blocks: np.ndarray,
    targets: np.ndarray,
    need_low: np.ndarray,
    need_high: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Witnesses from small local LPs: the hidden cells of one block move, everything else stays
    at its true value.

    A feasible solution of such an LP, completed with the true values outside the block, is a
    feasible table of the whole problem (every shown cell at its true value lies in its shown
    interval, every relation holds), so the values it gives the block's targets are sound
    witnesses — an inner approximation of the attacker's interval. Blocks are chosen by the
    caller so that a cell can usually be balanced inside its own (e.g. the kommuner of a
    sundhedsklynge and the klynge in one wave of one indicator); targets without a block
    (``blocks < 0``) or not settled here need the component's LPs. Returns the lowest and highest
    witness per target and the number of LP solves.
    """
    seen_low = np.full(targets.size, np.inf)
    seen_high = np.full(targets.size, -np.inf)
    tol = _row_tolerance(matrix, lower, upper, tolerance)
    target_block = blocks[targets]
    solves = 0
    csc = sparse.csc_matrix(matrix)
    for block in np.unique(target_block[target_block >= 0]):
        cells = np.flatnonzero((blocks == block) & hidden)
        which = np.flatnonzero(target_block == block)
        sub = csc[:, cells]
        rows = np.flatnonzero(np.diff(sparse.csr_matrix(sub).indptr) > 0)
        if rows.size == 0:
            seen_low[which] = lower[targets[which]]
            seen_high[which] = upper[targets[which]]
            continue
        inside = np.zeros(matrix.shape[1], dtype=bool)
        inside[cells] = True
        rest = matrix[rows] @ np.where(inside, 0.0, true)
        low_t = np.full(which.size, np.inf)
        high_t = np.full(which.size, -np.inf)
        pos = np.searchsorted(cells, targets[which])
        solves += _capped_witnesses(
            sparse.csc_matrix(matrix[rows][:, cells]),
            -tol[rows] - rest,
            tol[rows] - rest,
            lower[cells],
            upper[cells],
            pos,
            need_low[which],
            need_high[which],
            low_t,
            high_t,
        )
        # The true table itself is a witness too.
        seen_low[which] = np.minimum(low_t, true[targets[which]])
        seen_high[which] = np.maximum(high_t, true[targets[which]])
    return seen_low, seen_high, solves


def attack(lower, upper, relations, hidden, targets=None, *, tolerance=1e-9, shown_in_lp=True):
    """The attacker's minimum and maximum of each target cell.

    Parameters
    ----------
    lower, upper : array_like of float, shape (m,)
        What the attacker knows of each cell (see :func:`bounds`); infinite bounds allowed.
    relations : scipy.sparse matrix, shape (r, m)
        One homogeneous linear equality per row: ``relations @ x = 0`` (each row is imposed up
        to ``tolerance`` times its scale, see the module docstring).
    hidden : array_like of bool, shape (m,)
        Cells the attacker does not see (the LP variables).
    targets : array_like of int, optional
        Hidden cells to attack (default: every hidden cell).
    tolerance : float
        Relative slack of each relation.
    shown_in_lp : bool
        True (default): the full attacker; shown cells are LP variables within their
        intervals, so relations among shown cells narrow them first (a table's relations then
        form one LP). False: shown cells are constants spanning their whole interval, moved
        into the row bounds; the LPs only have the hidden cells linked through relations, are
        much smaller and faster, but the attacker is weaker by up to the rounding propagated
        through the relations (intervals can come out wider than the full attacker's, by
        about 0.006 on a share with three decimals in the benchmark).

    Returns
    -------
    attacker_min, attacker_max : numpy.ndarray
        One value per target, in the order of ``targets``.

    Raises
    ------
    ParameterError
        Shapes do not match, a target is not hidden, or ``lower > upper``.
    DataValidationError
        The bounds and relations contradict each other (no table satisfies them).
    """
    lower = _vector("lower", lower, None)
    m = lower.shape[0]
    upper = _vector("upper", upper, m)
    hidden = _vector("hidden", hidden, m, dtype=bool)
    matrix = _relations(relations, m)
    bad = np.flatnonzero(lower > upper)
    if bad.size:
        raise ParameterError(
            f"lower bound above upper bound for {bad.size} cell(s), e.g. cell {int(bad[0])}"
        )
    targets = np.flatnonzero(hidden) if targets is None else np.asarray(targets, dtype=int)
    if targets.size and (targets.min() < 0 or targets.max() >= m):
        raise ParameterError(f"targets must be cell indices 0..{m - 1}")
    result = _engine(
        matrix, lower, upper, hidden, targets, tolerance=tolerance, shown_in_lp=shown_in_lp
    )
    return result.low, result.high


# ---------------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------------


def _validate_table(
    true, lower_shown, upper_shown, natural_lower, natural_upper, matrix, hidden, tolerance
):
    """The true table must satisfy what the attacker is told, else the audit means nothing."""
    lower, upper = bounds(hidden, lower_shown, upper_shown, natural_lower, natural_upper)
    missing = np.flatnonzero(np.isnan(lower) | np.isnan(upper))
    if missing.size:
        raise DataValidationError(
            "a shown cell has no shown interval (NaN in shown_lower/shown_upper)",
            column="shown_lower",
            rows=missing,
        )
    slack = 1e-9 * np.fmax(1.0, np.abs(true))
    unnatural = np.flatnonzero((true < natural_lower - slack) | (true > natural_upper + slack))
    if unnatural.size:
        c = int(unnatural[0])
        raise DataValidationError(
            f"true value outside its natural range (cell {c}: {true[c]!r} not in "
            f"[{natural_lower[c]!r}, {natural_upper[c]!r}])",
            column="true",
            rows=unnatural,
        )
    outside = np.flatnonzero((true < lower - slack) | (true > upper + slack))
    if outside.size:
        c = int(outside[0])
        kind = "natural range" if hidden[c] else "shown interval"
        raise DataValidationError(
            f"true value outside the attacker's bounds (cell {c}: {true[c]!r} not in its {kind} "
            f"[{lower[c]!r}, {upper[c]!r}])",
            column="true",
            rows=outside,
        )
    residual = matrix @ true
    tol = _row_tolerance(matrix, np.fmin(lower, true), np.fmax(upper, true), tolerance)
    broken = np.flatnonzero(np.abs(residual) > tol)
    if broken.size:
        r = int(broken[0])
        raise DataValidationError(
            f"relation {r} is not satisfied by the true values: residual {residual[r]:.6g} "
            f"(allowed {tol[r]:.3g}); {broken.size} relation(s) broken",
            column="relations",
            rows=broken,
        )
    return lower, upper


def _requirements(true, protect_below, protect_above, natural_lower, natural_upper):
    required_low = np.fmax(natural_lower, true - protect_below)
    required_high = np.fmin(natural_upper, true + protect_above)
    scale = np.fmax(1.0, np.fmax(np.abs(true), np.fmax(protect_below, protect_above)))
    return required_low, required_high, _EPS * scale


def _audit_frame(cells, true, result: _Intervals, req_low, req_high, eps) -> pd.DataFrame:
    exposed = (result.low > req_low + eps) | (result.high < req_high - eps)
    return pd.DataFrame(
        {
            "cell": cells,
            "true": true,
            "attacker_min": result.low,
            "attacker_max": result.high,
            "required_low": req_low,
            "required_high": req_high,
            "exposed": exposed,
            "exact": result.exact_low & result.exact_high,
        }
    )


def audit(
    true,
    lower,
    upper,
    relations,
    hidden,
    protect_below,
    protect_above,
    natural_lower,
    natural_upper,
    *,
    tolerance=1e-9,
    exact=True,
    shown_in_lp=True,
    blocks=None,
    certify=None,
):
    """Check every hidden cell that needs protection against the attacker's LPs.

    With ``exact=False`` and ``blocks`` (see :func:`protect`), small local LPs certify most
    targets first; the rest get the component's LPs, so the verdict is the same.

    Parameters
    ----------
    true : array_like of float, shape (m,)
        The true values; they must satisfy the relations and lie in the attacker's bounds.
    lower, upper : array_like of float, shape (m,)
        The shown intervals (used for shown cells; hidden cells get the natural range).
    relations : scipy.sparse matrix, shape (r, m)
    hidden : array_like of bool, shape (m,)
    protect_below, protect_above : array_like of float, shape (m,)
        Required protection; targets are hidden cells with either one positive.
    natural_lower, natural_upper : array_like of float, shape (m,)
    tolerance : float
        Relative slack of each relation.
    exact : bool
        True (default): ``attacker_min``/``attacker_max`` are the LP optima. False: stop as soon
        as the verdict is known; where column ``exact`` is False the figures are witnesses
        (a feasible value at or beyond the required bound), not optima.
    shown_in_lp : bool
        The full attacker (default) or the faster relaxed one, see :func:`attack`.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``cell, true, attacker_min, attacker_max, required_low,
        required_high, exposed, exact``. A cell is exposed if
        ``attacker_min > max(natural_lower, true - protect_below) + eps`` or
        ``attacker_max < min(natural_upper, true + protect_above) - eps`` with
        ``eps = 1e-7 * max(1, |true|, protection)``. ``attrs``: ``targets``, ``exposed``,
        ``components``, ``largest_component``, ``lp_solves``, ``seconds``.
    """
    true = _vector("true", true, None)
    m = true.shape[0]
    lower = _vector("lower", lower, m, allow_nan=True)
    upper = _vector("upper", upper, m, allow_nan=True)
    hidden = _vector("hidden", hidden, m, dtype=bool)
    protect_below = _vector("protect_below", protect_below, m)
    protect_above = _vector("protect_above", protect_above, m)
    natural_lower = _vector("natural_lower", natural_lower, m)
    natural_upper = _vector("natural_upper", natural_upper, m)
    matrix = _relations(relations, m)
    _check_protection(protect_below, protect_above)
    att_lower, att_upper = _validate_table(
        true, lower, upper, natural_lower, natural_upper, matrix, hidden, tolerance
    )
    targets = np.flatnonzero(hidden & ((protect_below > 0) | (protect_above > 0)))
    req_low, req_high, eps = _requirements(
        true[targets],
        protect_below[targets],
        protect_above[targets],
        natural_lower[targets],
        natural_upper[targets],
    )
    open_ = np.ones(targets.size, dtype=bool)
    low = np.full(targets.size, np.inf)
    high = np.full(targets.size, -np.inf)
    solves = 0
    started = time.perf_counter()
    if certify is not None and not exact:
        ok_low, ok_high = certify(hidden, targets, req_low + eps, req_high - eps)
        low = np.where(ok_low, req_low + eps, low)
        high = np.where(ok_high, req_high - eps, high)
        open_ = ~(ok_low & ok_high)
    if blocks is not None and not exact and open_.any():
        block_of = _within_tables(_vector("blocks", blocks, m, dtype=np.int64), tables(matrix))
        b_low, b_high, solves = _block_witnesses(
            matrix, att_lower, att_upper, hidden, true, block_of, targets[open_],
            (req_low + eps)[open_], (req_high - eps)[open_], tolerance,
        )  # fmt: skip
        low[open_] = np.minimum(low[open_], b_low)
        high[open_] = np.maximum(high[open_], b_high)
        open_ = (low > req_low + eps) | (high < req_high - eps)
    local_seconds = time.perf_counter() - started
    rest = _engine(
        matrix,
        att_lower,
        att_upper,
        hidden,
        targets[open_],
        tolerance=tolerance,
        need_low=None if exact else (req_low + eps)[open_],
        need_high=None if exact else (req_high - eps)[open_],
        shown_in_lp=shown_in_lp,
    )
    if open_.all():
        result = rest
    else:
        low[open_], high[open_] = rest.low, rest.high
        result = _Intervals(
            low,
            high,
            np.zeros(targets.size, dtype=bool),
            np.zeros(targets.size, dtype=bool),
            rest.component,
            {
                **rest.stats,
                "lp_solves": rest.stats["lp_solves"] + solves,
                "seconds": rest.stats["seconds"] + local_seconds,
                "settled_locally": int((~open_).sum()),
            },
        )
    frame = _audit_frame(targets, true[targets], result, req_low, req_high, eps)
    frame.attrs.update(
        {"targets": int(targets.size), "exposed": int(frame["exposed"].sum()), **result.stats}
    )
    return frame


def _check_protection(protect_below, protect_above):
    for name, values in (("protect_below", protect_below), ("protect_above", protect_above)):
        bad = np.flatnonzero(values < 0)
        if bad.size:
            raise DataValidationError(f"{name} must not be negative", column=name, rows=bad)


# ---------------------------------------------------------------------------------------------
# Protection
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtectResult:
    """The outcome of :func:`protect`.

    Attributes
    ----------
    hidden : numpy.ndarray of bool
        Every cell not to publish (primary, always hidden and complementary).
    complementary : numpy.ndarray of bool
        ``hidden & ~primary & ~always_hidden``: the cells hidden to protect others.
    audit : pandas.DataFrame
        The final audit (see :func:`audit`, computed with ``exact=False``); ``exposed`` is False
        everywhere unless a cell cannot be protected at all (see ``attrs["unprotectable"]``).
    rounds : int
        Audit rounds after the singleton rule.
    timings : dict
        Seconds per step and counts (``singleton``, ``audit``, ``lp_solves`` ...).
    """

    hidden: np.ndarray
    complementary: np.ndarray
    audit: pd.DataFrame
    rounds: int
    timings: dict


def _singleton_rule(
    pattern: sparse.csr_matrix, hidden: np.ndarray, free: np.ndarray, allowed: np.ndarray, cost
) -> np.ndarray:
    """Hide cells until no relation has exactly one hidden member (``free`` cells excepted).

    A relation whose only hidden member is a cell nobody needs protected (an unpublished
    helper cell) is left alone. In each round every relation with exactly one hidden member
    hides its cheapest ``allowed`` shown member (ties: lowest index). Returns the new hidden.
    """
    hidden = hidden.copy()
    coo = pattern.tocoo()
    row, col = coo.row, coo.col
    n_rows = pattern.shape[0]
    while True:
        n_hidden = np.bincount(row, weights=hidden[col], minlength=n_rows)
        n_free = np.bincount(row, weights=(hidden & free)[col], minlength=n_rows)
        single = (n_hidden == 1) & (n_free == 0)
        if not single.any():
            break
        candidate = single[row] & ~hidden[col] & allowed[col]
        c_row, c_col = row[candidate], col[candidate]
        if c_row.size == 0:
            break
        order = np.lexsort((c_col, cost[c_col], c_row))
        c_row, c_col = c_row[order], c_col[order]
        first = np.ones(c_row.size, dtype=bool)
        first[1:] = c_row[1:] != c_row[:-1]
        hidden[c_col[first]] = True
    return hidden


def _choose(
    exposed_cells: np.ndarray,
    pattern: sparse.csr_matrix,
    hidden: np.ndarray,
    allowed: np.ndarray,
    cost: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One cell to hide per exposed target: an ``allowed`` shown member of one of its relations.

    Prefers the relation with the fewest hidden members, then the cheapest cell, then the
    lowest index. Returns the chosen cells and the targets that found none.
    """
    by_cell = sparse.csr_matrix(pattern.T)
    tr = by_cell[exposed_cells].tocoo()
    pairs = pd.DataFrame({"target": exposed_cells[tr.row], "relation": tr.col})
    n_hidden = pattern @ hidden.astype(float)
    rel = pattern[np.unique(tr.col)].tocoo() if tr.nnz else None
    if rel is None or rel.nnz == 0:
        return np.array([], dtype=int), exposed_cells
    rel_ids = np.unique(tr.col)[rel.row]
    members = pd.DataFrame({"relation": rel_ids, "cell": rel.col})
    members = members[~hidden[members["cell"].to_numpy()] & allowed[members["cell"].to_numpy()]]
    joined = pairs.merge(members, on="relation")
    if joined.empty:
        return np.array([], dtype=int), exposed_cells
    joined["n_hidden"] = n_hidden[joined["relation"].to_numpy()]
    joined["cost"] = cost[joined["cell"].to_numpy()]
    joined = joined.sort_values(["target", "n_hidden", "cost", "cell"], kind="stable")
    best = joined.drop_duplicates("target")
    chosen = np.unique(best["cell"].to_numpy())
    missing = np.setdiff1d(exposed_cells, best["target"].to_numpy())
    return chosen, missing


def _choose_nearby(
    target: int,
    pattern: sparse.csr_matrix,
    by_cell: sparse.csr_matrix,
    hidden: np.ndarray,
    allowed: np.ndarray,
    cost: np.ndarray,
    n_hidden: np.ndarray,
) -> int | None:
    """Fallback: the nearest ``allowed`` shown cell, searching outwards from ``target``.

    Walks the graph "cell - relation - hidden cell - relation ..." breadth first and, in the
    first ring of relations that has an allowed shown member, takes the member of the relation
    with the fewest hidden members, then the cheapest, then the lowest index. None if the
    whole component has no allowed shown cell left.
    """
    frontier = np.array([target])
    seen_rows = np.zeros(pattern.shape[0], dtype=bool)
    seen_cells = np.zeros(pattern.shape[1], dtype=bool)
    seen_cells[target] = True
    while frontier.size:
        rows = np.unique(by_cell[frontier].indices)
        rows = rows[~seen_rows[rows]]
        if rows.size == 0:
            return None
        seen_rows[rows] = True
        sub = pattern[rows].tocoo()
        r, c = rows[sub.row], sub.col
        cand = ~hidden[c] & allowed[c]
        if cand.any():
            r, c = r[cand], c[cand]
            order = np.lexsort((c, cost[c], n_hidden[r]))
            return int(c[order[0]])
        nxt = np.unique(c[hidden[c] & ~seen_cells[c]])
        seen_cells[nxt] = True
        frontier = nxt
    return None


def protect(
    true,
    shown_lower,
    shown_upper,
    natural_lower,
    natural_upper,
    relations,
    primary,
    protect_below,
    protect_above,
    cost,
    *,
    candidates=None,
    always_hidden=None,
    max_rounds=100,
    progress: Callable[[int, int, int], None] | None = None,
    tolerance=1e-9,
    shown_in_lp=True,
    blocks=None,
    local=None,
    certify=None,
) -> ProtectResult:
    """Choose complementary cells so that every protected hidden cell passes :func:`audit`.

    ``blocks`` (optional, int per cell, −1 for none): groups of cells within which a target can
    usually be balanced (:func:`_block_witnesses`); small local LPs certify most targets before
    the component's LPs see the rest. A certificate is always a feasible table of the whole
    problem, so blocks change the speed and possibly the number of complementary cells, never
    the safety of the result. ``local`` (bool per cell, default ``blocks >= 0``): targets that
    the rounds before the final audit may treat as exposed when their block does not settle
    them (cheap, may hide a little more); the others always get the component's LPs.
    ``certify`` (optional): ``certify(hidden, targets, need_low, need_high) -> (ok_low,
    ok_high)``, a cheap caller-side certificate (e.g. the hypercubes of
    :func:`analyse.cube.protection.hypercube_certifier`): a side marked ok must be reachable in
    a feasible table of the attacker with the given hidden cells. Targets it settles need no LP.

    Parameters
    ----------
    true, shown_lower, shown_upper, natural_lower, natural_upper : array_like, shape (m,)
        True values, the interval each value stands for when shown, and the natural range.
    relations : scipy.sparse matrix, shape (r, m)
        Homogeneous linear equalities ``relations @ true = 0``.
    primary : array_like of bool, shape (m,)
        Cells that must be hidden (the primary suppressions).
    protect_below, protect_above : array_like of float, shape (m,)
        Required protection of each cell (cells with both zero are never targets).
    cost : array_like of float, shape (m,)
        Price of hiding a cell (e.g. its number of respondents); cheaper cells are hidden first.
    candidates : array_like of bool, optional
        Cells that may be hidden as complementary (default: every non-primary cell).
    always_hidden : array_like of bool, optional
        Unpublished helper cells (e.g. remainders): hidden from the start, targets only if they
        have protection, never counted as complementary.
    max_rounds : int
        Upper limit of audit rounds after the singleton rule.
    progress : callable, optional
        Called after each audit as ``progress(round, exposed, hidden)``.
    tolerance : float
        Relative slack of each relation.
    shown_in_lp : bool
        The attacker of the final audit (see :func:`attack`); the rounds run the relaxed
        attacker first and switch to the full one after its first confirmation.

    Returns
    -------
    ProtectResult

    Notes
    -----
    1. Singleton rule: while some relation has exactly one hidden member, hide its cheapest
       candidate member (the classic rule; cheap and vectorised).
    2. Audit all targets; for every exposed target hide one more candidate cell that shares a
       relation with it (the relation with the fewest hidden members first, then the cheapest
       cell, then the lowest index), followed by the singleton rule again (a new cell alone
       in a relation would be recovered exactly). Hiding a cell only widens the attacker's intervals, so
       only the exposed targets are audited again. If no candidate is left next to a target,
       the nearest candidate further out in its component is hidden instead (breadth-first
       through hidden cells), and when no candidate is left at all, the nearest shown cell
       (counted in ``timings["outside_candidates"]``). A target still exposed after five
       rounds gets 2, 4, 8 ... further nearest candidates per round.
    3. A final audit of all targets confirms the pattern. A cell that stays exposed with
       everything around it hidden is pinned by the relations and natural ranges alone; it is
       reported in ``audit`` and ``audit.attrs["unprotectable"]``.
    The result is a greedy heuristic, not a cost-optimal pattern.
    """
    started = time.perf_counter()
    true = _vector("true", true, None)
    m = true.shape[0]
    shown_lower = _vector("shown_lower", shown_lower, m, allow_nan=True)
    shown_upper = _vector("shown_upper", shown_upper, m, allow_nan=True)
    natural_lower = _vector("natural_lower", natural_lower, m)
    natural_upper = _vector("natural_upper", natural_upper, m)
    primary = _vector("primary", primary, m, dtype=bool)
    protect_below = _vector("protect_below", protect_below, m)
    protect_above = _vector("protect_above", protect_above, m)
    cost = _vector("cost", cost, m)
    always = (
        np.zeros(m, dtype=bool)
        if always_hidden is None
        else _vector("always_hidden", always_hidden, m, dtype=bool)
    )
    block_of = None if blocks is None else _vector("blocks", blocks, m, dtype=np.int64)
    if block_of is not None:
        block_of = _within_tables(block_of, tables(_relations(relations, m)))
    if local is None:
        local_of = np.zeros(m, dtype=bool) if block_of is None else block_of >= 0
    else:
        local_of = _vector("local", local, m, dtype=bool)
    allowed = ~primary if candidates is None else _vector("candidates", candidates, m, dtype=bool)
    allowed = allowed & ~primary & ~always
    if max_rounds < 0:
        raise ParameterError(f"max_rounds must be >= 0, got {max_rounds}")
    matrix = _relations(relations, m)
    _check_protection(protect_below, protect_above)
    has_protection = (protect_below > 0) | (protect_above > 0)
    # Validate against the most-hidden pattern, so later audits cannot fail on the data.
    _validate_table(
        true,
        shown_lower,
        shown_upper,
        natural_lower,
        natural_upper,
        matrix,
        primary | always,
        tolerance,
    )
    pattern = sparse.csr_matrix(
        (np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape
    )
    timings: dict = {"validate": time.perf_counter() - started}

    tick = time.perf_counter()
    hidden = primary | always
    free = always & ~has_protection
    hidden = _singleton_rule(pattern, hidden, free, allowed, cost)
    timings["singleton"] = time.perf_counter() - tick
    timings["singleton_hidden"] = int((hidden & ~primary & ~always).sum())

    req_low_all, req_high_all, eps_all = _requirements(
        true, protect_below, protect_above, natural_lower, natural_upper
    )

    cert_low = np.zeros(m, dtype=bool)
    cert_high = np.zeros(m, dtype=bool)

    def run_audit(
        targets: np.ndarray,
        full: bool,
        local_only: bool = False,
        decide: bool = False,
        engine: bool = True,
    ) -> tuple[_Intervals, np.ndarray]:
        # engine=False: only the sound cheap steps (certificates, local witnesses); a target
        # they do not settle counts as exposed.
        lower, upper = bounds(hidden, shown_lower, shown_upper, natural_lower, natural_upper)
        need_low = req_low_all[targets] + eps_all[targets]
        need_high = req_high_all[targets] - eps_all[targets]
        low = np.full(targets.size, np.inf)
        high = np.full(targets.size, -np.inf)
        stats = {"seconds": 0.0, "lp_solves": 0}
        # Certificates found earlier stay valid: hiding more only widens the attacker's set.
        low = np.where(cert_low[targets], need_low, low)
        high = np.where(cert_high[targets], need_high, high)
        open_ = ~(cert_low[targets] & cert_high[targets])
        if certify is not None and open_.any():
            ok_low, ok_high = certify(hidden, targets[open_], need_low[open_], need_high[open_])
            low[open_] = np.where(ok_low, need_low[open_], low[open_])
            high[open_] = np.where(ok_high, need_high[open_], high[open_])
            open_ = (low > need_low) | (high < need_high)
        if block_of is not None and open_.any():
            tick = time.perf_counter()
            b_low, b_high, solves = _block_witnesses(
                matrix, lower, upper, hidden, true, block_of, targets[open_], need_low[open_],
                need_high[open_], tolerance,
            )  # fmt: skip
            low[open_] = np.minimum(low[open_], b_low)
            high[open_] = np.maximum(high[open_], b_high)
            open_ = (low > need_low) | (high < need_high)
            stats = {"seconds": time.perf_counter() - tick, "lp_solves": solves}
        # What the sound steps so far settled (caller's certificates, local witnesses).
        cert_low[targets] |= low <= need_low
        cert_high[targets] |= high >= need_high
        if local_only:
            # Rounds: a locally decidable target that its block cannot settle counts as exposed
            # (the safe side); the others go to the component's LPs.
            open_ = open_ & ~local_of[targets]
        if engine and open_.any():
            rest = _engine(
                matrix,
                lower,
                upper,
                hidden,
                targets[open_],
                tolerance=tolerance,
                need_low=need_low[open_],
                need_high=need_high[open_],
                shown_in_lp=full,
                witness_only=not decide,
            )
            low[open_] = np.minimum(low[open_], rest.low)
            high[open_] = np.maximum(high[open_], rest.high)
            if full:  # witnesses of the full attacker are feasible tables: sound certificates
                cert_low[targets] |= low <= need_low
                cert_high[targets] |= high >= need_high
            stats = {
                **rest.stats,
                "seconds": stats["seconds"] + rest.stats["seconds"],
                "lp_solves": stats["lp_solves"] + rest.stats["lp_solves"],
            }
        result = _Intervals(
            low,
            high,
            np.zeros(targets.size, dtype=bool),
            np.zeros(targets.size, dtype=bool),
            np.full(m, -1),
            stats,
        )
        exposed = (result.low > need_low) | (result.high < need_high)
        if local_only:
            exposed |= local_of[targets] & ((low > need_low) | (high < need_high))
        timings["audit"] = timings.get("audit", 0.0) + result.stats["seconds"]
        timings["lp_solves"] = timings.get("lp_solves", 0) + result.stats["lp_solves"]
        return result, exposed

    if block_of is not None:
        return _protect_by_lp(
            matrix, true, shown_lower, shown_upper, natural_lower, natural_upper, primary,
            always, has_protection, hidden, allowed, cost, block_of, local_of, req_low_all,
            req_high_all, eps_all, tolerance, shown_in_lp, max_rounds, progress, timings,
            started, run_audit, certify, cert_low, cert_high,
        )  # fmt: skip
    rounds = 0
    outside = 0
    # The relaxed attacker first (shown cells as constants: small LPs, fast); what it exposes,
    # the full attacker exposes too. The requested attacker then confirms on all targets.
    full = False
    attempts = np.zeros(m, dtype=int)
    targets = np.flatnonzero(hidden & has_protection)
    result, exposed = run_audit(targets, full)
    if progress is not None:
        progress(rounds, int(exposed.sum()), int(hidden.sum()))
    pending = targets[exposed]
    while True:
        stuck = changed = False
        while pending.size and rounds < max_rounds:
            rounds += 1
            chosen, missing = _choose(pending, pattern, hidden, allowed, cost)
            if missing.size:
                by_cell = sparse.csr_matrix(pattern.T)
                n_hidden = pattern @ hidden.astype(float)
                extra = []
                for target in missing:
                    cell = _choose_nearby(target, pattern, by_cell, hidden, allowed, cost, n_hidden)
                    if cell is None:  # no candidate left in the component: any shown cell
                        cell = _choose_nearby(
                            target, pattern, by_cell, hidden, ~hidden, cost, n_hidden
                        )
                        outside += cell is not None
                    if cell is not None:
                        extra.append(cell)
                chosen = np.union1d(chosen, np.asarray(extra, dtype=int))
            hidden[chosen] = True
            # A target still exposed after a few rounds gets more cells per round (doubling),
            # nearest first, so a stubborn cell does not take one round per cell.
            attempts[pending] += 1
            by_cell = sparse.csr_matrix(pattern.T)
            for target in pending[attempts[pending] > 5]:
                n_hidden = pattern @ hidden.astype(float)
                for _ in range(2 ** min(int(attempts[target]) - 5, 10)):
                    cell = _choose_nearby(target, pattern, by_cell, hidden, allowed, cost, n_hidden)
                    if cell is None:
                        break
                    hidden[cell] = True
                    chosen = np.append(chosen, cell)
            if chosen.size == 0:
                stuck = True
                break
            changed = True
            # A new cell alone in some relation is recovered exactly there and helps nobody:
            # the singleton rule gives it a partner at once.
            hidden = _singleton_rule(pattern, hidden, free, allowed, cost)
            result, exposed = run_audit(pending, full)
            if progress is not None:
                progress(rounds, int(exposed.sum()), int(hidden.sum()))
            pending = pending[exposed]
        if changed or full != shown_in_lp:
            # Confirm on all targets with the requested attacker (hiding only widens the
            # attacker's intervals while shown intervals lie inside the natural ranges, which
            # is not taken on trust).
            full = shown_in_lp
            targets = np.flatnonzero(hidden & has_protection)
            result, exposed = run_audit(targets, full)
            pending = targets[exposed]
        if not pending.size or stuck or rounds >= max_rounds:
            break

    return _protect_result(
        targets, true, result, req_low_all, req_high_all, eps_all, hidden, primary, always,
        rounds, outside, timings, started,
    )  # fmt: skip


#: Price of a unit of unmet requirement in :func:`_complement_lp` (moving a cell costs ≤ 100).
_SLACK_PENALTY = 1e5
#: Rounds in which a block's exposed targets share one LP per direction before each gets its own.
_JOINT_ATTEMPTS = 3
#: Rounds in which a target's LP sees only its block before it sees its whole table.
_BLOCK_ATTEMPTS = 4


def _protect_result(
    targets, true, result, req_low_all, req_high_all, eps_all, hidden, primary, always, rounds,
    outside, timings, started,
) -> ProtectResult:  # fmt: skip
    """The :class:`ProtectResult` of the final audit (``result`` over ``targets``)."""
    req_low, req_high, eps = req_low_all[targets], req_high_all[targets], eps_all[targets]
    frame = _audit_frame(targets, true[targets], result, req_low, req_high, eps)
    frame.attrs.update(
        {
            "targets": int(targets.size),
            "exposed": int(frame["exposed"].sum()),
            "unprotectable": frame.loc[frame["exposed"], "cell"].tolist(),
            **result.stats,
        }
    )
    timings["outside_candidates"] = outside
    timings["total"] = time.perf_counter() - started
    return ProtectResult(
        hidden=hidden,
        complementary=hidden & ~primary & ~always,
        audit=frame,
        rounds=rounds,
        timings=timings,
    )


def _protect_by_lp(
    matrix, true, shown_lower, shown_upper, natural_lower, natural_upper, primary, always,
    has_protection, hidden, allowed, cost, block_of, local_of, req_low_all, req_high_all,
    eps_all, tolerance, shown_in_lp, max_rounds, progress, timings, started, run_audit,
    certify=None, cert_low=None, cert_high=None,
) -> ProtectResult:  # fmt: skip
    """Complementary cells chosen by linear programming, block by block.

    For the exposed targets of a block (the cells of one region in one table; Denmark's and
    the regions' cells: their whole table), one LP per direction finds a table in which every
    such target reaches its required bound while the shown cells move as little as possible
    outside their shown intervals (cost per unit of change: the cell's ``cost``; cells outside
    ``candidates`` cost 10⁴ times more). The shown cells that had to move are hidden: the LP's
    table is then a feasible table of the attacker, i.e. a certificate for every target it
    brought to its bound (Fischetti & Salazar-González's separation of the cell suppression
    problem, Hundepool et al. 2012, §4.4, solved here as a heuristic per block). Targets the LP
    could not bring there (a slack variable with a large penalty) try again in the next round
    on the whole table. A final audit of all targets confirms the pattern.
    """
    m = true.shape[0]
    # Whole tables: connected components of the relation graph over all cells.
    table_of = tables(matrix)
    csc = sparse.csc_matrix(matrix)
    csr = sparse.csr_matrix(matrix)
    cells_of_block = pd.Series(np.arange(m)).groupby(block_of).indices
    cells_of_table = pd.Series(np.arange(m)).groupby(table_of).indices
    rounds = 0
    outside = 0
    targets = np.flatnonzero(hidden & has_protection)
    # Every target that no certificate (the caller's, local witnesses) settles goes to the
    # rounds, not only those an LP audit would find exposed: a safe but uncertified target
    # would otherwise reach the final audit, which solves LPs on its whole table one target at
    # a time (minutes on the full default), where a joint LP per block certifies it at once.
    result, exposed = run_audit(targets, shown_in_lp, engine=False)
    if progress is not None:
        progress(rounds, int(exposed.sum()), int(hidden.sum()))
    pending = targets[exposed]
    whole = np.zeros(m, dtype=bool)  # targets that go to the whole table next time
    attempts = np.zeros(m, dtype=int)  # rounds of a target in its current phase (block/whole)
    confirmed = 0
    while True:
        while pending.size and rounds < max_rounds:
            rounds += 1
            complete = getattr(certify, "complete", None)
            if complete is not None and rounds == 1:
                # The caller's cheap construction first (e.g. hypercubes): hide what it asks
                # for; the targets it serves in both directions are certified by ``certify``.
                chosen, served = complete(
                    hidden,
                    pending,
                    req_low_all[pending] + eps_all[pending],
                    req_high_all[pending] - eps_all[pending],
                )
                hidden[chosen] = True
                pending = pending[~served]
                if not pending.size:
                    break
            attempts[pending] += 1
            groups = np.where(
                (block_of[pending] >= 0) & ~whole[pending] & local_of[pending],
                block_of[pending],
                -1 - table_of[pending],
            )
            unsettled = []
            idle = np.zeros(m, dtype=bool)
            # First all exposed targets of a block together; a target the joint LP could not
            # serve (pushing all of them the same way can conflict) then gets its own LPs. On
            # the whole table (large LPs) one joint round only.
            batches = []
            for group in np.unique(groups):
                which = pending[groups == group]
                alone = attempts[which] > np.where(whole[which], 1, _JOINT_ATTEMPTS)
                if (~alone).any():
                    batches.append((group, which[~alone]))
                batches += [(group, np.array([target])) for target in which[alone]]
            for group, which in batches:
                cells = cells_of_block[group] if group >= 0 else cells_of_table[-1 - group]
                moved = 0
                failed_any = np.zeros(which.size, dtype=bool)
                for up in (True, False):
                    new, failed = _complement_lp(
                        csc, csr, true, shown_lower, shown_upper, natural_lower, natural_upper,
                        hidden, cells, which, req_low_all[which] + eps_all[which] / 2,
                        req_high_all[which] - eps_all[which] / 2, cost, allowed, tolerance, up,
                        eps_all[which] / 2,
                    )  # fmt: skip
                    outside += int((~allowed[new]).sum())
                    moved += int((~hidden[new]).sum())
                    hidden[new] = True
                    failed_any |= failed
                    unsettled.append(which[failed])
                    # The LP's table is a feasible table once its moved cells are hidden.
                    (cert_high if up else cert_low)[which[~failed]] = True
                if moved == 0 and failed_any.any():
                    if which.size == 1:
                        # Its own LP moved no shown cell and still falls short: hiding more
                        # cells of this block (or table) cannot help.
                        idle[which[0]] = True
                    elif whole[which].any():
                        # The joint LP would only repeat itself: their own LPs next round.
                        attempts[which] = np.maximum(attempts[which], 1)
                    else:
                        # No shown cell of the block helps any of them (the LP would move one
                        # if it did): the whole table next round.
                        idle[which[failed_any]] = True
            stuck = np.unique(np.concatenate(unsettled)) if unsettled else np.array([], int)
            # A target its block cannot serve goes to its whole table (at once when its own
            # LP found nothing to hide, else after a few rounds); one its whole table cannot
            # serve is left to the final audit.
            escalate = ~whole[stuck] & (idle[stuck] | (attempts[stuck] > _BLOCK_ATTEMPTS))
            whole[stuck[escalate]] = True
            attempts[stuck[escalate]] = 0
            give_up = whole[stuck] & ~escalate & (idle[stuck] | (attempts[stuck] > 2))
            stuck = stuck[~give_up]
            if progress is not None:
                progress(rounds, int(stuck.size), int(hidden.sum()))
            pending = stuck
        targets = np.flatnonzero(hidden & has_protection)
        # Confirm on all targets with the full attacker.
        # The final audit decides: a target no witness settles gets its own LPs.
        result, exposed = run_audit(targets, shown_in_lp, local_only=False, decide=True)
        pending = targets[exposed]
        if not pending.size or rounds >= max_rounds or confirmed >= 3:
            break
        confirmed += 1
        whole[pending] = True
    return _protect_result(
        targets, true, result, req_low_all, req_high_all, eps_all, hidden, primary, always,
        rounds, outside, timings, started,
    )  # fmt: skip


def _complement_lp(
    csc, csr, true, shown_lower, shown_upper, natural_lower, natural_upper, hidden, cells,
    targets, need_low, need_high, cost, allowed, tolerance, up, margin,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One direction of :func:`_protect_by_lp` for the targets of one block.

    ``need_low``/``need_high`` lie ``margin`` (per target) inside the bound the audit asks for:
    a target counts as served when its slack is within ``margin`` (above the solver's
    feasibility tolerance of 10⁻⁷), so a certificate still reaches the audit's bound.
    Returns the shown cells to hide and a mask of the targets the LP could not certify.
    """
    cells = np.sort(cells)
    sub = csc[:, cells]
    rows = np.flatnonzero(np.diff(sparse.csr_matrix(sub).indptr) > 0)
    if rows.size == 0:
        return np.array([], dtype=int), np.zeros(targets.size, dtype=bool)
    block = sparse.csr_matrix(sub)[rows]
    inside = np.zeros(true.shape[0], dtype=bool)
    inside[cells] = True
    rest = csr[rows] @ np.where(inside, 0.0, true)
    scale = np.fmax(np.abs(true), 1.0)
    tol = tolerance * (abs(block) @ scale[cells]) + tolerance
    n = cells.size
    shown = ~hidden[cells]
    s_idx = np.flatnonzero(shown)
    k = s_idx.size
    pos = np.searchsorted(cells, targets)
    t = targets.size
    # Variables: x (n), d (k: deviation of shown cells outside their interval), s (t: slack).
    # Costs scaled to [0.01, 1] (cells outside the candidates x 100) and a slack penalty of
    # 10^5: objective coefficients within seven orders of magnitude. Raw costs (respondents,
    # up to 10^4) times 10^4 with a penalty of 10^6 times their maximum spanned 22 orders, and
    # the simplex then took seconds on blocks of a few hundred cells or gave up.
    base = np.where(np.isfinite(cost[cells]), cost[cells], 0.0)[s_idx]
    top = base.max() if k and base.max() > 0 else 1.0
    c_d = np.clip(base / top, 0.01, 1.0) * np.where(allowed[cells][s_idx], 1.0, 100.0)
    penalty = _SLACK_PENALTY
    col_cost = np.concatenate([np.zeros(n), c_d, np.full(t, penalty)])
    col_lower = np.concatenate([natural_lower[cells], np.zeros(k), np.zeros(t)])
    col_upper = np.concatenate(
        [natural_upper[cells], np.full(k, highspy.kHighsInf), np.full(t, highspy.kHighsInf)]
    )
    # Rows: relations; d_j - x_j >= -upper_j; d_j + x_j >= lower_j; x_t +/- s_t vs need.
    eye_k = sparse.csr_matrix((np.ones(k), (np.arange(k), s_idx)), shape=(k, n))
    eye_t = sparse.csr_matrix((np.ones(t), (np.arange(t), pos)), shape=(t, n))
    blocks_ = [
        [block, None, None],
        [-eye_k, sparse.identity(k), None],
        [eye_k, sparse.identity(k), None],
        [eye_t, None, sparse.identity(t) if up else -sparse.identity(t)],
    ]
    shapes = [(rows.size, k, t), (k, k, t), (k, k, t), (t, k, t)]
    full_blocks = []
    for row, (height, kk, tt) in zip(blocks_, shapes, strict=True):
        full_blocks.append(
            [
                row[0],
                row[1] if row[1] is not None else sparse.csr_matrix((height, kk)),
                row[2] if row[2] is not None else sparse.csr_matrix((height, tt)),
            ]
        )
    a = sparse.bmat(full_blocks, format="csc")
    inf = highspy.kHighsInf
    lo_shown = np.where(
        np.isnan(shown_lower[cells][s_idx]), natural_lower[cells][s_idx], shown_lower[cells][s_idx]
    )
    hi_shown = np.where(
        np.isnan(shown_upper[cells][s_idx]), natural_upper[cells][s_idx], shown_upper[cells][s_idx]
    )
    if up:
        t_lo, t_hi = need_high, np.full(t, inf)
    else:
        t_lo, t_hi = np.full(t, -inf), need_low
    row_lower = np.concatenate([-tol - rest, -hi_shown, lo_shown, t_lo])
    row_upper = np.concatenate([tol - rest, np.full(k, inf), np.full(k, inf), t_hi])
    h = _new_highs()
    h.setOptionValue("simplex_strategy", 1)
    h.setOptionValue("presolve", "on")
    lp = highspy.HighsLp()
    lp.num_col_ = n + k + t
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = col_cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_ = n + k + t
    lp.a_matrix_.num_row_ = a.shape[0]
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return np.array([], dtype=int), np.ones(t, dtype=bool)
    solution = np.asarray(h.getSolution().col_value)
    d = solution[n : n + k]
    slack = solution[n + k :]
    moved = cells[s_idx[d > 1e-9]]
    failed = slack > margin
    return moved, failed
