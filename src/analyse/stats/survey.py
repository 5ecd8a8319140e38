"""Design-based estimation for complex surveys, equal to R's ``survey`` package (Lumley).

Means, proportions and totals are Taylor-linearised Hájek / Horvitz-Thompson estimators for a
stratified (optionally clustered, optionally finite-population-corrected) design; subgroups are
*domains* of the whole design; missing outcomes are dropped as a domain. Logistic regression is
``svyglm(family = quasibinomial())`` with its sandwich variance. See ``docs/methods.md`` section 3
and Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, Wiley.

The vectorised engine for many overlapping domains (used by the cube builder) is
:func:`domain_ratio` / :func:`domain_total`, re-exported from :mod:`analyse.stats.linearise`.

One unit of about 1,000 lines because every estimator here shares one design object, one
validation of the design columns and one set of domain rules, which R's ``survey`` also keeps
together; the heavy arithmetic is in :mod:`analyse.stats.linearise`.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import scipy.sparse as sp
from scipy import special, stats

from analyse.errors import ParameterError, example_rows
from analyse.stats.linearise import (
    DesignCodes,
    DomainResult,
    covariance_dense,
    domain_ratio,
    domain_total,
    encode_design,
    linearised_ratio,
    variance_sparse,
)

__all__ = [
    "Design",
    "DesignCodes",
    "DomainResult",
    "LogisticFit",
    "LogisticMatrixFit",
    "compare_to_parent",
    "compare_waves",
    "design_codes",
    "domain_matrix",
    "domain_ratio",
    "domain_total",
    "logistic",
    "logistic_matrix",
    "mean",
    "proportion",
    "proportion_interval",
    "total",
]

# Columns every estimating function returns besides the grouping columns (DESIGN.md section 4).
RESULT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "n", "df", "method", "level")


@dataclass(frozen=True)
class Design:
    """Column names that describe the sampling design (like R's ``svydesign``).

    Parameters
    ----------
    weight : str
        Sampling or calibration weight (>= 0, no missing values).
    strata : str, optional
        Stratum (Sundhedsprofilen: kommune x wave). None = one stratum.
    psu : str, optional
        Primary sampling unit, nested within strata (a label may repeat across strata). None =
        each row is its own unit, as ``svydesign(id = ~1, ...)``.
    fpc : str, optional
        Finite population correction per row, constant within a stratum: the population number of
        PSUs in the stratum, or the sampling fraction when every value is <= 1 (as in R).
    """

    weight: str
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None

    def __post_init__(self) -> None:
        for role in ("weight", "strata", "psu", "fpc"):
            value = getattr(self, role)
            if value is None and role != "weight":
                continue
            if not isinstance(value, str) or not value:
                raise ParameterError(f"Design.{role} must be a column name (a non-empty string)")

    @property
    def columns(self) -> list[str]:
        """The design's column names that are set."""
        return [c for c in (self.weight, self.strata, self.psu, self.fpc) if c is not None]


# --------------------------------------------------------------------------------------------
# Validation helpers: plain-language errors naming the column, the rule and example rows.


def check_level(level: float) -> float:
    """``level`` as a float in (0, 1), or a :class:`ParameterError`."""
    if not isinstance(level, int | float) or not 0 < float(level) < 1:
        raise ParameterError(f"level must be a number between 0 and 1 (got {level!r}), e.g. 0.95")
    return float(level)


def require_columns(data: pd.DataFrame, columns: Sequence[str], role: str) -> None:
    """Raise :class:`ParameterError` naming the ``role`` columns that ``data`` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"data must be a pandas DataFrame (got {type(data).__name__})")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(
            f"{role} column(s) {', '.join(repr(c) for c in missing)} not found in the data; "
            f"available columns: {', '.join(map(str, data.columns[:20]))}"
            + (" ..." if len(data.columns) > 20 else "")
        )


def row_note(mask: np.ndarray) -> str:
    """ "3 rows; e.g. row 4, 9, 12": how many rows ``mask`` marks, with examples."""
    positions = np.flatnonzero(mask)
    rows = ", ".join(str(r) for r in example_rows(positions))
    return f"{positions.size} row{'s' if positions.size != 1 else ''}; e.g. row {rows}"


def numeric_column(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """``column`` as floats (NaN for missing), or a :class:`ParameterError` if it is not numeric."""
    series = data[column]
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float).to_numpy()
    if not pd.api.types.is_numeric_dtype(series):
        raise ParameterError(
            f"{role} column {column!r} must be numeric (found dtype {series.dtype}); "
            "recode it to numbers first"
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def binary_column(data: pd.DataFrame, column: str) -> np.ndarray:
    """A 0/1 outcome column as floats, or a :class:`ParameterError` naming other values."""
    y = numeric_column(data, column, "outcome")
    bad = ~np.isnan(y) & (y != 0) & (y != 1)
    if bad.any():
        raise ParameterError(
            f"outcome column {column!r} must be coded 0/1 (or True/False) for a proportion; "
            f"other values found ({row_note(bad)})"
        )
    return y


def design_codes(data: pd.DataFrame, design: Design) -> DesignCodes:
    """Validate the design columns of ``data`` and encode them for the variance engine.

    Raises
    ------
    ParameterError
        Unknown design column; weight not numeric, missing or negative; missing strata or PSU
        labels; fpc not numeric, missing, non-positive or not constant within a stratum.
    """
    if not isinstance(design, Design):
        raise ParameterError(
            f"design must be an analyse.stats.survey.Design (got {type(design).__name__})"
        )
    require_columns(data, design.columns, "design")
    weights = numeric_column(data, design.weight, "weight")
    if np.isnan(weights).any():
        raise ParameterError(
            f"weight column {design.weight!r} must not have missing values "
            f"({row_note(np.isnan(weights))})"
        )
    if (weights < 0).any():
        raise ParameterError(
            f"weight column {design.weight!r} must not be negative ({row_note(weights < 0)})"
        )
    labels = {}
    for role in ("strata", "psu"):
        column = getattr(design, role)
        if column is None:
            labels[role] = None
            continue
        missing = data[column].isna().to_numpy()
        if missing.any():
            raise ParameterError(
                f"{role} column {column!r} must not have missing values ({row_note(missing)})"
            )
        labels[role] = data[column].to_numpy()
    fpc = None
    if design.fpc is not None:
        fpc = numeric_column(data, design.fpc, "fpc")
        bad = np.isnan(fpc) | (fpc <= 0)
        if bad.any():
            raise ParameterError(
                f"fpc column {design.fpc!r} must be positive and not missing ({row_note(bad)})"
            )
    try:
        return encode_design(weights, labels["strata"], labels["psu"], fpc)
    except ParameterError as error:
        raise ParameterError(f"fpc column {design.fpc!r}: {error}") from None


def domain_matrix(
    data: pd.DataFrame, by: str | Sequence[str] | None
) -> tuple[sp.csr_matrix, pd.DataFrame]:
    """One-hot domain matrix (n_rows x n_groups) for the groups of ``by`` and their keys.

    Groups are sorted as R's ``svyby`` sorts them; only combinations present in the data appear.

    Raises
    ------
    ParameterError
        Unknown ``by`` column or missing values in it.
    """
    n = len(data)
    if by is None:
        return sp.csr_matrix(np.ones((n, 1))), pd.DataFrame(index=range(1))
    columns = [by] if isinstance(by, str) else list(by)
    require_columns(data, columns, "by")
    for column in columns:
        missing = data[column].isna().to_numpy()
        if missing.any():
            raise ParameterError(
                f"by column {column!r} has missing values ({row_note(missing)}); "
                "give them a category (e.g. 'Uoplyst') or drop them explicitly"
            )
    # groupby numbers groups in sorted order and respects the order of categorical levels, as
    # svyby does with factor levels; observed=True keeps only combinations that occur.
    grouped = data[columns].groupby(columns, sort=True, observed=True)
    codes = grouped.ngroup().to_numpy()
    keys = grouped.size().index.to_frame(index=False)
    keys.columns = columns
    matrix = sp.csr_matrix((np.ones(n), codes, np.arange(n + 1)), shape=(n, len(keys)))
    return matrix, keys


def t_quantile(level: float, df: float) -> float:
    """Two-sided t quantile at ``level`` (normal for infinite ``df``)."""
    return float(stats.t.ppf(0.5 + level / 2, df)) if df > 0 else np.nan


def logit_interval(
    estimate: np.ndarray, se: np.ndarray, quantile: float
) -> tuple[np.ndarray, np.ndarray]:
    """``svyciprop(method = "logit")``: Wald interval for logit(p), transformed back to [0, 1].

    Where p is 0 or 1 the logit is infinite and the interval collapses to the estimate.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        link = special.logit(estimate)
        link_se = se / (estimate * (1 - estimate))
        low = special.expit(link - quantile * link_se)
        high = special.expit(link + quantile * link_se)
    boundary = (estimate == 0) | (estimate == 1)
    low = np.where(boundary, estimate, low)
    high = np.where(boundary, estimate, high)
    return low, high


def proportion_interval(
    estimate: np.ndarray, se: np.ndarray, df: float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Logit confidence interval of proportions (``svyciprop(method = "logit")``) with t(df).

    Public so that code building many estimates outside :func:`proportion` (the cube) uses the
    same interval. Never outside [0, 1]; collapses to the point at 0 and 1.
    """
    level = check_level(level)
    return logit_interval(np.asarray(estimate, float), np.asarray(se, float), t_quantile(level, df))


def _frame(
    keys: pd.DataFrame,
    result: DomainResult,
    ci: tuple[np.ndarray, np.ndarray],
    method: str,
    level: float,
) -> pd.DataFrame:
    out = keys.copy()
    out["estimate"] = result.estimate
    out["se"] = result.se
    out["ci_low"], out["ci_high"] = ci
    out["n"] = result.n
    out["df"] = result.df
    out["method"] = method
    out["level"] = level
    return out


def _estimate(data, variable, design, by, level, kind) -> pd.DataFrame:
    level = check_level(level)
    codes = design_codes(data, design)
    require_columns(data, [variable], "outcome")
    y = (
        binary_column(data, variable)
        if kind == "proportion"
        else numeric_column(data, variable, "outcome")
    )
    domains, keys = domain_matrix(data, by)
    weights = data[design.weight].to_numpy(dtype=float)
    engine = domain_total if kind == "total" else domain_ratio
    result = engine(y, weights, None, None, domains, codes=codes)
    quantile = t_quantile(level, result.df)
    if kind == "proportion":
        ci = logit_interval(result.estimate, result.se, quantile)
        method = "taylor-logit"
    else:
        ci = (result.estimate - quantile * result.se, result.estimate + quantile * result.se)
        method = "taylor-total" if kind == "total" else "taylor-ratio"
    return _frame(keys, result, ci, method, level)


_ESTIMATE_DOC = """
    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    variable : str
        Outcome column (numeric; NaN = missing).
    design : Design
        Column names of weight, strata, PSU and fpc.
    by : str or list of str, optional
        Grouping columns: each group is a *domain* of the whole design (R ``svyby``), never a
        re-declared design on a subset. Missing values in ``by`` are an error.
    level : float
        Confidence level, default 0.95.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns (groups sorted), ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n``
        (unweighted respondents with a non-missing outcome in the group), ``df`` (design degrees
        of freedom: PSUs - strata of the whole design), ``method`` and ``level``.

    Raises
    ------
    ParameterError
        Unknown column, non-numeric outcome, missing or negative weights, missing strata/PSU
        labels, bad fpc, missing values in a ``by`` column, level outside (0, 1).

    Notes
    -----
    Rows with a missing outcome stay in the design with zero contribution, so their PSUs still
    count per stratum: equal to R ``svymean(~y, design, na.rm = TRUE)`` and
    ``svyby(~y, ~g, design, svymean, na.rm = TRUE)``. Strata with a single PSU are handled as
    ``options(survey.lonely.psu = "adjust")``: the PSU's linearised total is centred at zero (the
    grand mean) rather than at its stratum mean. The variance formula is in
    :mod:`analyse.stats.linearise`. Reference: Lumley (2010), ch. 2; R package ``survey``.
"""


def mean(
    data: pd.DataFrame,
    variable: str,
    design: Design,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Design-based mean: ratio (Hájek) estimator with Taylor-linearised SE, like ``svymean``.

    The confidence interval is ``estimate ± t(df) · se`` with the design degrees of freedom
    (``confint(svymean(...), df = degf(design))``). ``method`` is ``"taylor-ratio"``.
    """
    return _estimate(data, variable, design, by, level, "mean")


def proportion(
    data: pd.DataFrame,
    variable: str,
    design: Design,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Design-based proportion of a 0/1 outcome, with a logit confidence interval.

    The estimate and SE are those of ``svymean`` on the 0/1 variable. The interval is
    ``svyciprop(~y, design, method = "logit", df = degf(design))``: a Wald interval
    ``logit(p) ± t(df) · se / (p (1 - p))`` transformed back with expit, so it never leaves
    [0, 1]; at p = 0 or 1 it collapses to the point. ``method`` is ``"taylor-logit"``.
    """
    return _estimate(data, variable, design, by, level, "proportion")


def total(
    data: pd.DataFrame,
    variable: str,
    design: Design,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Design-based (Horvitz-Thompson) total with Taylor SE, like ``svytotal``.

    Interval ``estimate ± t(df) · se``. ``method`` is ``"taylor-total"``.
    """
    return _estimate(data, variable, design, by, level, "total")


for _function in (mean, proportion, total):
    _function.__doc__ += _ESTIMATE_DOC


# --------------------------------------------------------------------------------------------
# Comparisons


def _as_frame(value: pd.DataFrame | pd.Series, name: str) -> pd.DataFrame:
    if isinstance(value, pd.Series):
        value = value.to_frame().T
    if not isinstance(value, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame or a row (Series) from mean/proportion")
    require_columns(value, ["estimate", "se"], f"{name}'s result")
    return value


def compare_waves(
    a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series, level: float = 0.95
) -> pd.DataFrame:
    """Difference ``b - a`` between two independent estimates (e.g. two survey waves).

    ``se = sqrt(se_a² + se_b²)`` (independent samples), normal-theory interval
    ``difference ± z · se`` and two-sided normal p-value (DESIGN.md section 4).

    Parameters
    ----------
    a, b : pandas.DataFrame or pandas.Series
        Results of :func:`mean` / :func:`proportion` (or single rows of them). Frames are matched
        on their grouping columns (all columns that are not result columns); only keys present
        in both are returned. Pass the earlier wave as ``a`` to get the change over time.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``estimate_a``, ``se_a``, ``estimate_b``, ``se_b``, ``estimate``
        (= b - a), ``se``, ``ci_low``, ``ci_high``, ``z``, ``p_value``, ``method``
        (``"independent-normal"``), ``level``.
    """
    level = check_level(level)
    a, b = _as_frame(a, "a"), _as_frame(b, "b")
    keys_a = [c for c in a.columns if c not in RESULT_COLUMNS]
    keys_b = [c for c in b.columns if c not in RESULT_COLUMNS]
    if sorted(keys_a) != sorted(keys_b):
        raise ParameterError(
            f"a and b must have the same grouping columns (a: {keys_a}, b: {keys_b})"
        )
    left = a[keys_a + ["estimate", "se"]].rename(columns={"estimate": "estimate_a", "se": "se_a"})
    right = b[keys_a + ["estimate", "se"]].rename(columns={"estimate": "estimate_b", "se": "se_b"})
    if keys_a:
        out = left.merge(right, on=keys_a, how="inner")
    else:
        if len(left) != 1 or len(right) != 1:
            raise ParameterError("without grouping columns a and b must each hold exactly one row")
        out = pd.concat([left.reset_index(drop=True), right.reset_index(drop=True)], axis=1)
    out = out.astype({c: float for c in ("estimate_a", "se_a", "estimate_b", "se_b")})
    out["estimate"] = out["estimate_b"] - out["estimate_a"]
    out["se"] = np.hypot(out["se_a"], out["se_b"])
    quantile = stats.norm.ppf(0.5 + level / 2)
    out["ci_low"] = out["estimate"] - quantile * out["se"]
    out["ci_high"] = out["estimate"] + quantile * out["se"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = out["estimate"] / out["se"]
    out["p_value"] = 2 * stats.norm.sf(np.abs(out["z"]))
    out["method"] = "independent-normal"
    out["level"] = level
    return out


def _parent_mask(data: pd.DataFrame, parent) -> np.ndarray:
    if parent is None:
        return np.ones(len(data), dtype=bool)
    if isinstance(parent, Mapping):
        require_columns(data, list(parent), "parent")
        mask = np.ones(len(data), dtype=bool)
        for column, values in parent.items():
            values = [values] if np.isscalar(values) else list(values)
            mask &= data[column].isin(values).to_numpy()
        return mask
    mask = np.asarray(parent)
    if mask.dtype != bool or mask.shape != (len(data),):
        raise ParameterError(
            f"parent must be None, a {{column: value(s)}} mapping or a boolean mask with one "
            f"entry per row ({len(data)})"
        )
    return mask


def compare_to_parent(
    data: pd.DataFrame,
    variable: str,
    design: Design,
    area_column: str,
    area_value,
    parent: Mapping[str, object] | np.ndarray | pd.Series | None = None,
    by: str | Sequence[str] | None = None,
    kind: str = "proportion",
    level: float = 0.95,
) -> pd.DataFrame:
    """Compare an area with the *rest* of its parent (region or Denmark), as domains.

    The area domain is ``data[area_column] == area_value``; the rest is the parent's rows outside
    the area. Both ratio estimates come from the same whole design, and the SE of the difference
    is linearised jointly (``z_area - z_rest``), so it is exact; when area and rest share no
    strata (strata = kommune x wave) it equals ``sqrt(se_area² + se_rest²)``. Equal to
    ``svycontrast(svyby(~y, ~g, design, svymean, covmat = TRUE), c(1, -1))``. The interval is
    ``difference ± t(df) · se`` and the p-value two-sided from t(df), df = PSUs - strata.

    Parameters
    ----------
    data, variable, design, by, level
        As :func:`mean`.
    area_column, area_value
        Column holding the area code and the area to compare.
    parent : None, mapping or boolean mask
        Rows of the parent: None = all rows (Denmark), ``{"region": "Syddanmark"}`` (values may be
        lists), or a boolean array with one entry per row. The area must lie inside the parent.
    kind : {"proportion", "mean"}
        ``"proportion"`` checks that the outcome is 0/1.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``estimate_area``, ``se_area``, ``n_area``, ``estimate_rest``,
        ``se_rest``, ``n_rest``, ``estimate`` (area - rest), ``se``, ``ci_low``, ``ci_high``,
        ``t``, ``p_value``, ``df``, ``method`` (``"taylor-difference"``), ``level``.
    """
    level = check_level(level)
    if kind not in ("proportion", "mean"):
        raise ParameterError(f"kind must be 'proportion' or 'mean' (got {kind!r})")
    codes = design_codes(data, design)
    require_columns(data, [variable, area_column], "outcome/area")
    y = (
        binary_column(data, variable)
        if kind == "proportion"
        else numeric_column(data, variable, "outcome")
    )
    in_area = (data[area_column] == area_value).to_numpy()
    in_parent = _parent_mask(data, parent)
    if not in_area.any():
        raise ParameterError(f"no rows with {area_column} == {area_value!r}")
    outside = in_area & ~in_parent
    if outside.any():
        raise ParameterError(
            f"area {area_value!r} has rows outside the parent ({row_note(outside)})"
        )
    rest = in_parent & ~in_area
    groups, keys = domain_matrix(data, by)
    area_domains = sp.diags(in_area.astype(float)) @ groups
    rest_domains = sp.diags(rest.astype(float)) @ groups
    both = sp.hstack([area_domains, rest_domains]).tocsr()
    both.eliminate_zeros()
    weights = data[design.weight].to_numpy(dtype=float)
    estimate, z, n, _ = linearised_ratio(y, weights, both)
    se = np.sqrt(variance_sparse(z, codes))
    k = groups.shape[1]
    difference_z = z[:, :k] - z[:, k:]
    out = keys.copy()
    out["estimate_area"], out["se_area"], out["n_area"] = estimate[:k], se[:k], n[:k]
    out["estimate_rest"], out["se_rest"], out["n_rest"] = estimate[k:], se[k:], n[k:]
    out["estimate"] = estimate[:k] - estimate[k:]
    out["se"] = np.sqrt(variance_sparse(difference_z, codes))
    quantile = t_quantile(level, codes.df)
    out["ci_low"] = out["estimate"] - quantile * out["se"]
    out["ci_high"] = out["estimate"] + quantile * out["se"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["t"] = out["estimate"] / out["se"]
    out["p_value"] = 2 * stats.t.sf(np.abs(out["t"]), codes.df) if codes.df > 0 else np.nan
    out["df"] = codes.df
    out["method"] = "taylor-difference"
    out["level"] = level
    return out


# --------------------------------------------------------------------------------------------
# Survey-weighted logistic regression

# Names patsy provides inside formulas; anything else that is not a data column is a typo.
_FORMULA_ENV = patsy.EvalEnvironment([{"np": np}])
_IRLS_TOLERANCE = 1e-12
_IRLS_MAX_ITER = 100
# Keep fitted probabilities away from exactly 0/1, as R's binomial family does (mu.eta floor).
_MU_EPS = 1e-15


def _formula_columns(formula: str, data: pd.DataFrame, sides: str = "both") -> list[str]:
    """Data columns referenced in a patsy formula (names, and Q("...") strings).

    ``sides`` is ``"both"`` or ``"rhs"`` (the covariates only).
    """
    try:
        description = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as error:
        raise ParameterError(f"cannot parse formula {formula!r}: {error}") from None
    columns: list[str] = []
    unknown: list[str] = []
    termlist = description.rhs_termlist
    if sides == "both":
        termlist = description.lhs_termlist + termlist
    for term in termlist:
        for factor in term.factors:
            tree = ast.parse(factor.name().strip(), mode="eval")
            called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
            attribute_bases = {
                id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Q":
                    columns.extend(a.value for a in node.args if isinstance(a, ast.Constant))
                elif (
                    isinstance(node, ast.Name)
                    and id(node) not in called
                    and id(node) not in attribute_bases
                ):
                    (columns if node.id in data.columns else unknown).append(node.id)
    if unknown:
        raise ParameterError(
            f"formula {formula!r} uses column(s) not in the data: "
            + ", ".join(repr(c) for c in dict.fromkeys(unknown))
        )
    require_columns(data, columns, "formula")
    return list(dict.fromkeys(columns))


def _response_vector(outcome: pd.DataFrame, formula: str) -> np.ndarray:
    # A logical response (e.g. I(api00 > 700)) comes back from patsy as two indicator columns.
    if outcome.shape[1] == 2 and str(outcome.columns[1]).endswith("[True]"):
        return outcome.iloc[:, 1].to_numpy(dtype=float)
    if outcome.shape[1] != 1:
        raise ParameterError(f"the response of {formula!r} must be one 0/1 column")
    y = outcome.iloc[:, 0].to_numpy(dtype=float)
    if ((y < 0) | (y > 1)).any():
        raise ParameterError(f"the response of {formula!r} must lie in [0, 1] (0/1 outcome)")
    return y


def _irls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Weighted logistic IRLS (Fisher scoring), starting like R's ``binomial()$initialize``."""
    mu = (w * y + 0.5) / (w + 1)
    eta = special.logit(mu)
    deviance_old = np.inf
    beta = np.zeros(x.shape[1])
    for iteration in range(1, _IRLS_MAX_ITER + 1):
        variance = mu * (1 - mu)
        working = eta + (y - mu) / variance
        xw = x.T * (w * variance)
        beta = np.linalg.solve(xw @ x, xw @ working)
        eta = x @ beta
        mu = np.clip(special.expit(eta), _MU_EPS, 1 - _MU_EPS)
        deviance = -2 * np.sum(w * special.xlogy(y, mu) + w * special.xlogy(1 - y, 1 - mu))
        if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < _IRLS_TOLERANCE:
            return beta, mu, iteration, True
        deviance_old = deviance
    return beta, mu, _IRLS_MAX_ITER, False


@dataclass
class LogisticFit:
    """Result of :func:`logistic`: coefficients, design-based covariance and margins.

    Attributes
    ----------
    formula : str
    coefficients : pandas.DataFrame
        ``term``, ``estimate`` (log-odds), ``se``, ``ci_low``, ``ci_high``, ``t``, ``p_value``,
        ``df``, ``odds_ratio``, ``or_ci_low``, ``or_ci_high``.
    vcov : pandas.DataFrame
        Sandwich covariance of the coefficients (term x term).
    df : int
        Residual design df: PSUs - strata of the fitted rows + 1 - number of coefficients.
    n : int
        Rows used in the fit.
    level : float
    converged : bool
    iterations : int
    """

    formula: str
    coefficients: pd.DataFrame
    vcov: pd.DataFrame
    df: int
    n: int
    level: float
    converged: bool
    iterations: int
    _design_info: patsy.DesignInfo = field(repr=False)
    _design: Design = field(repr=False)
    _data: pd.DataFrame = field(repr=False)
    _rows: np.ndarray = field(repr=False)
    _codes: DesignCodes = field(repr=False)

    @property
    def params(self) -> np.ndarray:
        return self.coefficients["estimate"].to_numpy()

    def _matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        try:
            (matrix,) = patsy.build_design_matrices(
                [self._design_info], newdata, NA_action=patsy.NAAction(NA_types=[])
            )
        except patsy.PatsyError as error:
            raise ParameterError(f"cannot build the model matrix for new data: {error}") from None
        return np.asarray(matrix)

    def predict(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """Predicted probability per row of ``newdata`` with delta-method SE.

        Equal to R ``predict(fit, newdata, type = "response")``: se = p(1-p) sqrt(x' V x). The
        interval is the Wald interval on the logit scale with the model's residual df,
        transformed back (inside [0, 1]). Columns ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``link``, ``link_se``, ``df``, ``level``; index as ``newdata``.
        """
        x = self._matrix(newdata)
        vcov = self.vcov.to_numpy()
        link = x @ self.params
        link_se = np.sqrt(np.einsum("ij,jk,ik->i", x, vcov, x))
        p = special.expit(link)
        quantile = t_quantile(self.level, self.df)
        return pd.DataFrame(
            {
                "estimate": p,
                "se": p * (1 - p) * link_se,
                "ci_low": special.expit(link - quantile * link_se),
                "ci_high": special.expit(link + quantile * link_se),
                "link": link,
                "link_se": link_se,
                "df": self.df,
                "level": self.level,
            },
            index=newdata.index,
        )

    def _averaging(self, data: pd.DataFrame | None, variable: str):
        """Rows to average over, their weights, and (for svypredmeans SEs) the design codes."""
        if data is None:
            rows = self._rows
            weights = self._data[self._design.weight].to_numpy(float)
            return self._data.loc[rows], weights, rows, self._codes
        codes = design_codes(data, self._design)
        others = [c for c in _formula_columns(self.formula, data, "rhs") if c != variable]
        rows = data[others].notna().all(axis=1).to_numpy()
        return data.loc[rows], data[self._design.weight].to_numpy(float), rows, codes

    def _margins(self, variable, values, data, se_method, derivative=False):
        if se_method not in ("delta", "svypredmeans"):
            raise ParameterError(f"se_method must be 'delta' or 'svypredmeans' (got {se_method!r})")
        frame, all_weights, rows, codes = self._averaging(data, variable)
        if variable not in frame.columns:
            raise ParameterError(f"column {variable!r} not found in the data")
        w = all_weights[rows]
        w_sum = w.sum()
        beta = self.params
        estimates, gradients, influence = [], [], []
        if derivative:
            x_values = numeric_column(frame, variable, "marginal-effect variable")
            step = 1e-4 * max(1.0, float(np.nanstd(x_values)))
            upper = self._matrix(frame.assign(**{variable: x_values + step}))
            lower = self._matrix(frame.assign(**{variable: x_values - step}))
            centre = self._matrix(frame)
            slope_x = (upper - lower) / (2 * step)
            p = special.expit(centre @ beta)
            slope = slope_x @ beta
            dp = p * (1 - p)
            per_row = dp * slope
            grad_rows = (dp * (1 - 2 * p) * slope)[:, None] * centre + dp[:, None] * slope_x
            estimates.append(w @ per_row / w_sum)
            gradients.append(w @ grad_rows / w_sum)
            influence.append(w * (per_row - estimates[-1]) / w_sum)
        else:
            for value in values:
                x = self._matrix(frame.assign(**{variable: value}))
                p = special.expit(x @ beta)
                estimates.append(w @ p / w_sum)
                gradients.append((w * p * (1 - p)) @ x / w_sum)
                influence.append(w * (p - estimates[-1]) / w_sum)
        gradient = np.column_stack(gradients)
        covariance = gradient.T @ self.vcov.to_numpy() @ gradient
        if se_method == "svypredmeans":
            # svypredmeans adds the sampling variance of averaging over the sample (the
            # covariance between the two parts is ignored, as in R).
            covariance = covariance + covariance_dense(np.column_stack(influence), codes, rows)
        return np.asarray(estimates), covariance

    def marginal_mean(
        self,
        variable: str,
        values: Sequence,
        data: pd.DataFrame | None = None,
        se_method: str = "delta",
    ) -> pd.DataFrame:
        """Predictive margins: weighted mean predicted probability with ``variable`` set to each value.

        ``M(v) = sum_i w_i expit(x_i(v)' b) / sum_i w_i`` over the fitted rows (or over the rows
        of ``data`` with complete covariates). ``se_method="delta"`` (default) gives the
        delta-method SE from ``vcov`` only, treating the covariate distribution as fixed;
        ``"svypredmeans"`` adds the design variance of the average, exactly like R
        ``svypredmeans``. Interval on the logit scale with the residual df.

        Returns a frame with ``variable``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df``,
        ``method``, ``level``.
        """
        values = list(values)
        estimate, covariance = self._margins(variable, values, data, se_method)
        se = np.sqrt(np.diag(covariance))
        low, high = logit_interval(estimate, se, t_quantile(self.level, self.df))
        return pd.DataFrame(
            {
                variable: values,
                "estimate": estimate,
                "se": se,
                "ci_low": low,
                "ci_high": high,
                "df": self.df,
                "method": f"predictive-margin-{se_method}",
                "level": self.level,
            }
        )

    def _difference_frame(self, estimate, se, method) -> pd.DataFrame:
        quantile = t_quantile(self.level, self.df)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = estimate / se
        return pd.DataFrame(
            {
                "estimate": [estimate],
                "se": [se],
                "ci_low": [estimate - quantile * se],
                "ci_high": [estimate + quantile * se],
                "t": [t],
                "p_value": [2 * stats.t.sf(abs(t), self.df) if self.df > 0 else np.nan],
                "df": [self.df],
                "method": [method],
                "level": [self.level],
            }
        )

    def contrast(
        self,
        variable: str,
        value,
        reference,
        data: pd.DataFrame | None = None,
        se_method: str = "delta",
    ) -> pd.DataFrame:
        """Difference of predictive margins ``M(value) - M(reference)`` (probability scale).

        E.g. the slope index of inequality: ``contrast("ridit", 1, 0)``. SE by the delta method
        from ``vcov`` (plus the averaging variance with ``se_method="svypredmeans"``, like
        ``svycontrast(svypredmeans(...), c(1, -1))``). Interval ``± t(df) · se``; two-sided
        t-test. One row: ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``t``, ``p_value``,
        ``df``, ``method``, ``level``.
        """
        estimate, covariance = self._margins(variable, [value, reference], data, se_method)
        contrast = np.array([1.0, -1.0])
        se = float(np.sqrt(max(contrast @ covariance @ contrast, 0.0)))
        return self._difference_frame(
            float(estimate[0] - estimate[1]), se, f"margin-contrast-{se_method}"
        )

    def average_marginal_effect(
        self, variable: str, data: pd.DataFrame | None = None, se_method: str = "delta"
    ) -> pd.DataFrame:
        """Average derivative of the probability with respect to a numeric ``variable``.

        ``AME = sum_i w_i p_i (1 - p_i) d(eta_i)/dx / sum_i w_i``; with ``variable`` = year it is
        the average annual change (probability scale; x100 for percentage points). The
        derivative of the linear predictor is taken by central differences of the model matrix,
        so interactions and transformations of ``variable`` are respected. SE by the delta
        method from ``vcov`` (gradient ``sum_i w_i [p(1-p)(1-2p) x_i eta'_i + p(1-p) x'_i]/W``).
        Same columns as :meth:`contrast`.
        """
        estimate, covariance = self._margins(variable, None, data, se_method, derivative=True)
        se = float(np.sqrt(max(covariance[0, 0], 0.0)))
        return self._difference_frame(
            float(estimate[0]), se, f"average-marginal-effect-{se_method}"
        )


@dataclass(frozen=True)
class LogisticMatrixFit:
    """Arrays from :func:`logistic_matrix`: ``params``, ``vcov``, ``df``, ``n``, convergence."""

    params: np.ndarray
    vcov: np.ndarray
    df: int
    n: int
    converged: bool
    iterations: int


def logistic_matrix(
    y: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    codes: DesignCodes,
    rows: np.ndarray | None = None,
) -> LogisticMatrixFit:
    """Matrix-level engine of :func:`logistic` for many fits on one design (no formula parsing).

    Build the model matrix once for the whole data (e.g. with patsy) and call this per domain
    with a boolean ``rows`` mask; ``codes`` comes from :func:`design_codes` on the whole data.

    Parameters
    ----------
    y : array, shape (n,) or (m,)
        0/1 response for all design rows, or for the ``rows`` only (then length ``rows.sum()``).
    x : array, shape (n, p) or (m, p)
        Model matrix, aligned like ``y``.
    weights : array, shape (n,)
        Design weights of all rows.
    codes : DesignCodes
        The whole design.
    rows : array of bool, shape (n,), optional
        Rows in the fit (domain and complete cases). Default: rows with finite ``y`` and ``x``.

    Returns
    -------
    LogisticMatrixFit
        Coefficients, sandwich covariance (R ``svy.varcoef``) and ``df = degf + 1 - p`` where
        degf counts PSUs - strata among the fitted rows with weight > 0 (``summary.svyglm``).
    """
    weights = np.asarray(weights, dtype=float)
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    n = weights.shape[0]
    if rows is None:
        rows = np.isfinite(y) & np.isfinite(x).all(axis=1)
    rows = np.asarray(rows, dtype=bool)
    if y.shape[0] == n and rows.sum() != n:
        y, x = y[rows], x[rows]
    w = weights[rows]
    # R rescales weights to mean 1 for numerical stability; estimates and SEs do not change.
    w_scaled = w / w.mean()
    beta, mu, iterations, converged = _irls(x, y, w_scaled)
    information = (x.T * (w_scaled * mu * (1 - mu))) @ x
    a_inv = np.linalg.inv(information)
    influence = (x * (w_scaled * (y - mu))[:, None]) @ a_inv
    vcov = covariance_dense(influence, codes, rows=rows)
    df = codes.degrees_of_freedom(rows & (weights > 0)) + 1 - x.shape[1]
    return LogisticMatrixFit(
        params=beta,
        vcov=vcov,
        df=int(df),
        n=int(rows.sum()),
        converged=converged,
        iterations=iterations,
    )


def logistic(
    data: pd.DataFrame,
    formula: str,
    design: Design,
    level: float = 0.95,
    domain: str | np.ndarray | pd.Series | None = None,
) -> LogisticFit:
    """Survey-weighted logistic regression, equal to ``svyglm(formula, design, family = quasibinomial())``.

    Coefficients by weighted IRLS (the pseudo-likelihood). Their covariance is R's
    ``svy.varcoef``: the estimating functions ``U_i = x_i w_i (y_i - p_i)`` times
    ``A^{-1} = (X' diag(w p (1-p)) X)^{-1}`` are linearised with the design (strata, PSUs, fpc,
    lonely PSUs as ``"adjust"``; Binder 1983; Lumley 2010, ch. 5). Tests are t-tests with
    ``df = degf + 1 - p`` where ``degf`` counts PSUs - strata of the fitted rows, as
    ``summary.svyglm`` does on the design after dropping incomplete rows.

    Parameters
    ----------
    data : pandas.DataFrame
        Not modified.
    formula : str
        patsy formula, e.g. ``"smoker ~ year + C(sex) + C(age_group)"``; the response must be a
        0/1 (or boolean) expression. Column names that are not identifiers go in ``Q("...")``.
    design : Design
    level : float
        Confidence level of the intervals.
    domain : str, array of bool or None
        Fit in a domain only (a boolean column name or mask), like ``svyglm(..., design =
        subset(design, domain))``: other rows stay in the design with zero contribution.

    Returns
    -------
    LogisticFit

    Notes
    -----
    Rows with a missing value in any column the formula uses are dropped as a domain (zero
    contribution, PSUs kept), as R does via ``na.action``. Note that pandas comparisons of a
    missing value are False, but such rows are dropped before the formula is evaluated, so
    ``I(x > 1)`` with missing ``x`` is missing, as in R.

    Raises
    ------
    ParameterError
        Unknown columns, unparsable formula, non-0/1 response, collinear terms, bad design
        columns.
    """
    level = check_level(level)
    codes = design_codes(data, design)
    columns = _formula_columns(formula, data)
    rows = data[columns].notna().all(axis=1).to_numpy() if columns else np.ones(len(data), bool)
    if domain is not None:
        if isinstance(domain, str):
            require_columns(data, [domain], "domain")
            domain = data[domain]
        mask = np.asarray(domain)
        if mask.dtype != bool or mask.shape != (len(data),):
            raise ParameterError("domain must be a boolean column or mask with one entry per row")
        rows = rows & mask
    weights_all = data[design.weight].to_numpy(dtype=float)
    if not rows.any():
        raise ParameterError(f"no complete rows to fit {formula!r}")
    try:
        outcome, matrix = patsy.dmatrices(
            formula,
            data.loc[rows],
            eval_env=_FORMULA_ENV,
            NA_action="raise",
            return_type="dataframe",
        )
    except patsy.PatsyError as error:
        raise ParameterError(f"cannot build the model for {formula!r}: {error}") from None
    y = _response_vector(outcome, formula)
    x = matrix.to_numpy(dtype=float)
    terms = list(matrix.columns)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        empty = [term for term, column in zip(terms, x.T, strict=True) if not column.any()]
        hint = (
            f"; these columns are all zero (a category without respondents?): {empty}"
            if empty
            else ""
        )
        raise ParameterError(f"the terms of {formula!r} are collinear in the fitted rows{hint}")
    engine = logistic_matrix(y, x, weights_all, codes, rows=rows)
    beta, vcov, df = engine.params, engine.vcov, engine.df
    converged, iterations = engine.converged, engine.iterations
    if not converged:
        warnings.warn(
            f"logistic({formula!r}) did not converge in {iterations} iterations "
            "(separation?); estimates may be unreliable",
            RuntimeWarning,
            stacklevel=2,
        )
    se = np.sqrt(np.diag(vcov))
    quantile = t_quantile(level, df)
    t = beta / se
    coefficients = pd.DataFrame(
        {
            "term": terms,
            "estimate": beta,
            "se": se,
            "ci_low": beta - quantile * se,
            "ci_high": beta + quantile * se,
            "t": t,
            "p_value": 2 * stats.t.sf(np.abs(t), df) if df > 0 else np.nan,
            "df": df,
            "odds_ratio": np.exp(beta),
            "or_ci_low": np.exp(beta - quantile * se),
            "or_ci_high": np.exp(beta + quantile * se),
        }
    )
    return LogisticFit(
        formula=formula,
        coefficients=coefficients,
        vcov=pd.DataFrame(vcov, index=terms, columns=terms),
        df=int(df),
        n=int(rows.sum()),
        level=level,
        converged=converged,
        iterations=iterations,
        _design_info=matrix.design_info,
        _design=design,
        _data=data,
        _rows=rows,
        _codes=codes,
    )
