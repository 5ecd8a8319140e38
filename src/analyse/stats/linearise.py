"""Taylor-linearisation variance engine shared by every estimator in :mod:`analyse.stats.survey`.

The engine works on integer codes and numpy/scipy.sparse arrays only, so the cube builder can call
it for tens of thousands of (possibly overlapping) domains at once. Validation of user data and
column names happens in :mod:`analyse.stats.survey`; here arguments are checked only for shape and
internal consistency.

Variance formula (Lumley 2010, ch. 2.2; R ``survey:::onestrat``), for a linearised variable
``z`` (one column per estimate) with strata ``h`` holding ``n_h`` PSUs ``j`` of the *whole*
design::

    Z_hj  = sum of z over the rows of PSU j in stratum h
    S1_h  = sum_j Z_hj          S2_h = sum_j Z_hj**2
    var   = sum_h  f_h * n_h / (n_h - 1) * (S2_h - S1_h**2 / n_h)      if n_h > 1
          + sum_h  f_h * S2_h                                          if n_h = 1

with ``f_h = (N_h - n_h) / N_h`` when the population size ``N_h`` is known (fpc) and ``f_h = 1``
otherwise. The single-PSU line is R's ``options(survey.lonely.psu = "adjust")``: the lone PSU's
total is centred at zero -- the grand mean of a linearised ratio/regression variable -- instead of
at its own stratum mean (which would give zero variance), and no ``n/(n-1)`` factor is applied.
Rows outside a domain (or with a missing outcome) have ``z = 0`` but their PSUs still count in
``n_h``, which is exactly R's domain estimation with ``svyby``/``na.rm = TRUE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analyse.errors import ParameterError

# R's onestrat treats a stratum with f < 1e-7 as a census (zero variance); we copy the threshold
# so a fully enumerated stratum gives exactly zero, not a rounding residue.
_CENSUS_TOLERANCE = 1e-7


@dataclass(frozen=True)
class DesignCodes:
    """Integer-coded sampling design for ``n`` rows.

    Attributes
    ----------
    stratum : ndarray of int, shape (n,)
        Stratum code 0..n_strata-1 of each row.
    unit : ndarray of int, shape (n,)
        PSU code 0..n_units-1 of each row, unique across strata (PSUs nested in strata).
    unit_stratum : ndarray of int, shape (n_units,)
        Stratum of each PSU.
    n_psu : ndarray of int, shape (n_strata,)
        Number of PSUs per stratum in the whole design.
    scale : ndarray of float, shape (n_strata,)
        Coefficient of ``S2_h`` in the variance formula.
    centre : ndarray of float, shape (n_strata,)
        Coefficient of ``S1_h**2`` (subtracted) in the variance formula.
    df : int
        Design degrees of freedom: PSUs minus strata (R ``degf``), counting rows with weight > 0.
    rows_are_units : bool
        True when every row is its own PSU (no aggregation to PSU totals needed).
    """

    stratum: np.ndarray
    unit: np.ndarray
    unit_stratum: np.ndarray
    n_psu: np.ndarray
    scale: np.ndarray
    centre: np.ndarray
    df: int
    rows_are_units: bool

    @property
    def n_rows(self) -> int:
        return int(self.stratum.shape[0])

    @property
    def n_strata(self) -> int:
        return int(self.n_psu.shape[0])

    @property
    def n_units(self) -> int:
        return int(self.unit_stratum.shape[0])

    def unit_to_stratum(self) -> sp.csr_matrix:
        """Sparse indicator (n_strata x n_units) that sums PSU totals into stratum totals."""
        n_units = self.n_units
        return sp.csr_matrix(
            (np.ones(n_units), (self.unit_stratum, np.arange(n_units))),
            shape=(self.n_strata, n_units),
        )

    def row_to_unit(self) -> sp.csr_matrix:
        """Sparse indicator (n_units x n_rows) that sums row values into PSU totals."""
        n = self.n_rows
        return sp.csr_matrix((np.ones(n), (self.unit, np.arange(n))), shape=(self.n_units, n))

    def degrees_of_freedom(self, rows: np.ndarray) -> int:
        """PSUs minus strata among the rows in the boolean mask ``rows`` (R ``degf`` of a subset)."""
        return _psus_minus_strata(rows, self.unit, self.unit_stratum, self.n_strata)


def _psus_minus_strata(
    rows: np.ndarray, unit: np.ndarray, unit_stratum: np.ndarray, n_strata: int
) -> int:
    """Number of PSUs minus number of strata that have at least one row in ``rows``."""
    # bincount instead of np.unique: linear time, which matters at 900,000 rows.
    used_units = np.bincount(unit[rows], minlength=unit_stratum.shape[0]) > 0
    used_strata = np.bincount(unit_stratum[used_units], minlength=n_strata) > 0
    return int(used_units.sum() - used_strata.sum())


def _codes(values: np.ndarray | None, n: int) -> np.ndarray:
    """Factorise any labels to 0..k-1 (None -> all zeros)."""
    if values is None:
        return np.zeros(n, dtype=np.int64)
    codes, _ = pd.factorize(np.asarray(values), sort=True)
    if (codes < 0).any():
        raise ParameterError("design codes must not contain missing values")
    return codes.astype(np.int64, copy=False)


def encode_design(
    weights: np.ndarray,
    strata: np.ndarray | None = None,
    psu: np.ndarray | None = None,
    fpc: np.ndarray | None = None,
) -> DesignCodes:
    """Build :class:`DesignCodes` from per-row weights, stratum labels, PSU labels and fpc.

    ``psu`` labels are nested within strata (the same label in two strata is two PSUs, like
    ``svydesign(..., nest = TRUE)``). ``fpc`` is per row and constant within a stratum: the
    population number of PSUs, or the sampling fraction when every value is <= 1 (as in R).
    """
    weights = np.asarray(weights, dtype=float)
    n = weights.shape[0]
    stratum = _codes(strata, n)
    n_strata = int(stratum.max()) + 1 if n else 0
    if psu is None:
        unit = np.arange(n, dtype=np.int64)
        rows_are_units = True
    else:
        psu_codes = _codes(psu, n)
        # PSUs are nested in strata: a (stratum, psu) pair is one unit.
        unit, _ = pd.factorize(stratum * (int(psu_codes.max()) + 1) + psu_codes, sort=True)
        unit = unit.astype(np.int64, copy=False)
        rows_are_units = bool(np.array_equal(unit, np.arange(n)))
    n_units = int(unit.max()) + 1 if n else 0
    unit_stratum = np.zeros(n_units, dtype=np.int64)
    unit_stratum[unit] = stratum
    n_psu = np.bincount(unit_stratum, minlength=n_strata)

    f = np.ones(n_strata)
    if fpc is not None:
        fpc = np.asarray(fpc, dtype=float)
        first = np.zeros(n_strata)
        first[stratum] = fpc
        if not np.allclose(first[stratum], fpc, rtol=1e-12, atol=0.0):
            raise ParameterError("fpc must be constant within each stratum")
        # R's svydesign: values <= 1 are sampling fractions, larger values population sizes.
        population = n_psu / first if np.all(first <= 1) else first
        if np.any(population < n_psu * (1 - 1e-12)):
            raise ParameterError(
                "fpc implies more sampled PSUs than the population holds in some stratum"
            )
        f = np.where(np.isinf(population), 1.0, (population - n_psu) / population)
        f = np.where(f < _CENSUS_TOLERANCE, 0.0, f)

    multi = n_psu > 1
    safe = np.where(multi, n_psu - 1, 1)
    scale = np.where(multi, f * n_psu / safe, f)
    centre = np.where(multi, f / safe, 0.0)

    # R's degf counts only rows with weight > 0 (zero weights mark rows outside a subset).
    df = _psus_minus_strata(weights > 0, unit, unit_stratum, n_strata)
    return DesignCodes(
        stratum=stratum,
        unit=unit,
        unit_stratum=unit_stratum,
        n_psu=n_psu,
        scale=scale,
        centre=centre,
        df=df,
        rows_are_units=rows_are_units,
    )


def variance_sparse(z: sp.spmatrix, codes: DesignCodes) -> np.ndarray:
    """Design variance of each column of a sparse linearised matrix ``z`` (n_rows x k).

    Returns the k variances (the diagonal only), using the formula in the module docstring.
    """
    z = sp.csr_matrix(z)
    unit_totals = z if codes.rows_are_units else codes.row_to_unit() @ z
    to_stratum = codes.unit_to_stratum()
    s1 = to_stratum @ unit_totals
    squared = unit_totals.copy()
    squared.data **= 2
    s2 = to_stratum @ squared
    s1.data **= 2
    var = codes.scale @ s2 - codes.centre @ s1
    # Rounding can leave -1e-30 where the true variance is zero.
    return np.maximum(np.asarray(var).ravel(), 0.0)


def _group_sum(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``values`` (m x k) within ``groups`` (m codes 0..n_groups-1)."""
    m = groups.shape[0]
    indicator = sp.csr_matrix((np.ones(m), (groups, np.arange(m))), shape=(n_groups, m))
    return np.asarray(indicator @ values)


def covariance_dense(
    z: np.ndarray, codes: DesignCodes, rows: np.ndarray | None = None
) -> np.ndarray:
    """Design covariance matrix (k x k) of the columns of a dense linearised matrix.

    ``z`` has one row per design row (n_rows x k), or, when ``rows`` (integer positions or a
    boolean mask) is given, one row per selected row; all other rows count as zero. Only the
    selected rows are touched, so a small domain of a 900,000-row design costs little, while the
    PSU counts per stratum (``n_h``) remain those of the whole design.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    if rows is None:
        stratum_of = codes.unit_stratum
        if codes.rows_are_units:
            unit_totals = z
        else:
            unit_totals = _group_sum(z, codes.unit, codes.n_units)
    else:
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        local, units = pd.factorize(codes.unit[rows])
        unit_totals = _group_sum(z, local, units.shape[0])
        stratum_of = codes.unit_stratum[units]
    s1 = _group_sum(unit_totals, stratum_of, codes.n_strata)
    weighted = unit_totals * np.sqrt(codes.scale[stratum_of])[:, None]
    second = weighted.T @ weighted
    centred = s1 * np.sqrt(codes.centre)[:, None]
    return second - centred.T @ centred


@dataclass(frozen=True)
class DomainResult:
    """Arrays returned by :func:`domain_ratio` / :func:`domain_total`, one entry per domain.

    Attributes
    ----------
    estimate, se : ndarray of float
        Point estimate and Taylor-linearised standard error (NaN for an empty domain).
    n : ndarray of int
        Unweighted number of rows in the domain with a non-missing outcome.
    weight_sum : ndarray of float
        Sum of weights of those rows (the ratio's denominator, an estimated population size).
    df : int
        Design degrees of freedom of the whole design (PSUs - strata).
    """

    estimate: np.ndarray
    se: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    df: int


def _check_domains(domains: sp.spmatrix, n: int) -> sp.csr_matrix:
    matrix = sp.csr_matrix(domains)
    if matrix.shape[0] != n:
        raise ParameterError(
            f"domains has {matrix.shape[0]} rows but the data have {n}; "
            "it must be an (n_rows x n_domains) 0/1 matrix"
        )
    matrix.eliminate_zeros()
    if matrix.nnz and not np.all(matrix.data == 1):
        raise ParameterError("domains must be a 0/1 membership matrix (found other values)")
    return matrix


def _row_index(matrix: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def linearised_ratio(
    y: np.ndarray, weights: np.ndarray, domains: sp.csr_matrix
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray]:
    """Hájek ratios per domain and their influence values as a sparse matrix.

    Returns ``(estimate, z, n, weight_sum)`` where ``z[i, d] = w_i (y_i - R_d) / W_d`` for rows in
    domain ``d`` with non-missing ``y`` and zero elsewhere.
    """
    observed = ~np.isnan(y)
    wm = np.where(observed, weights, 0.0)
    wy = np.where(observed, weights * np.where(observed, y, 0.0), 0.0)
    weight_sum = np.asarray(domains.T @ wm).ravel()
    y_sum = np.asarray(domains.T @ wy).ravel()
    n = np.asarray(domains.T @ observed.astype(np.float64)).ravel().round().astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = y_sum / weight_sum
        rows = _row_index(domains)
        cols = domains.indices
        inverse = np.where(weight_sum > 0, 1.0 / weight_sum, 0.0)
        values = (wy[rows] - np.nan_to_num(estimate)[cols] * wm[rows]) * inverse[cols]
    z = sp.csr_matrix((values, domains.indices, domains.indptr), shape=domains.shape)
    return estimate, z, n, weight_sum


def domain_ratio(
    y: np.ndarray,
    weights: np.ndarray,
    strata_codes: np.ndarray | None,
    psu_codes: np.ndarray | None,
    domains: sp.spmatrix,
    fpc: np.ndarray | None = None,
    *,
    codes: DesignCodes | None = None,
) -> DomainResult:
    """Ratio (Hájek) means of ``y`` in many possibly overlapping domains, vectorised.

    For domain ``d`` with membership ``D_id`` and non-missing indicator ``m_i``::

        W_d = sum_i w_i D_id m_i            (estimated domain population)
        R_d = sum_i w_i D_id m_i y_i / W_d  (the estimate)
        z_id = w_i D_id m_i (y_i - R_d) / W_d

    and ``var(R_d)`` is the stratified between-PSU variance of ``z_.d`` from the module
    docstring (sums per stratum of PSU totals and their squares, ``n_h/(n_h-1)`` scaling, fpc,
    lonely PSUs as R's ``survey.lonely.psu = "adjust"``). This equals R
    ``svyby(~y, ~g, design, svymean, na.rm = TRUE)`` (Lumley 2010, sec. 2.3-2.4).

    Parameters
    ----------
    y : array of float, shape (n,)
        Outcome; NaN is a missing value (zero membership, but its PSU stays in the design).
    weights : array of float, shape (n,)
        Sampling (or calibration) weights, >= 0.
    strata_codes, psu_codes : array, shape (n,), or None
        Stratum and PSU labels (any hashable values; PSUs nested in strata). None = one stratum /
        each row its own PSU.
    domains : scipy.sparse matrix, shape (n, n_domains)
        0/1 membership; columns may overlap.
    fpc : array, shape (n,), optional
        Population PSU count or sampling fraction per row (constant within strata), as in R.
    codes : DesignCodes, optional
        A pre-encoded design (from :func:`encode_design`) to skip re-encoding in repeated calls;
        then ``strata_codes``, ``psu_codes`` and ``fpc`` are ignored.

    Returns
    -------
    DomainResult
        ``estimate``, ``se``, ``n``, ``weight_sum`` per domain and the design ``df``.
    """
    y = np.asarray(y, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if codes is None:
        codes = encode_design(weights, strata_codes, psu_codes, fpc)
    matrix = _check_domains(domains, y.shape[0])
    estimate, z, n, weight_sum = linearised_ratio(y, weights, matrix)
    se = np.sqrt(variance_sparse(z, codes))
    se = np.where(weight_sum > 0, se, np.nan)
    return DomainResult(estimate=estimate, se=se, n=n, weight_sum=weight_sum, df=codes.df)


def domain_total(
    y: np.ndarray,
    weights: np.ndarray,
    strata_codes: np.ndarray | None,
    psu_codes: np.ndarray | None,
    domains: sp.spmatrix,
    fpc: np.ndarray | None = None,
    *,
    codes: DesignCodes | None = None,
) -> DomainResult:
    """Horvitz-Thompson totals ``sum_i w_i D_id y_i`` per domain, with ``z_id = w_i D_id y_i``.

    Same arguments and variance formula as :func:`domain_ratio`; equals R
    ``svyby(~y, ~g, design, svytotal, na.rm = TRUE)``.
    """
    y = np.asarray(y, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if codes is None:
        codes = encode_design(weights, strata_codes, psu_codes, fpc)
    matrix = _check_domains(domains, y.shape[0])
    observed = ~np.isnan(y)
    wm = np.where(observed, weights, 0.0)
    wy = np.where(observed, weights * np.where(observed, y, 0.0), 0.0)
    weight_sum = np.asarray(matrix.T @ wm).ravel()
    estimate = np.asarray(matrix.T @ wy).ravel()
    n = np.asarray(matrix.T @ observed.astype(np.float64)).ravel().round().astype(np.int64)
    z = sp.csr_matrix((wy[_row_index(matrix)], matrix.indices, matrix.indptr), shape=matrix.shape)
    se = np.sqrt(variance_sparse(z, codes))
    return DomainResult(estimate=estimate, se=se, n=n, weight_sum=weight_sum, df=codes.df)
