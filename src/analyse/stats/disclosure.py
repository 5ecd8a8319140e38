"""Disclosure control: the one place where suppression, rounding and leak checks live.

Every table, figure, sentence and export that leaves the project passes through :func:`suppress`
first; the presentation layer then calls :func:`assert_publishable` on what it is about to show,
and the batch runs the leak check of :mod:`analyse.publish.leaks` over every produced file. The rules are described for
readers in ``docs/methods.md`` §6.

Primary suppression hides a cell that rests on too few respondents (``Rules.min_n``) or too few
respondents with or without the outcome (``Rules.min_cases``). Secondary (complementary)
suppression hides further cells so that no hidden cell can be recovered by subtraction, within a
breakdown (total minus the other groups) and across the area hierarchy (a sundhedsklynge or
region minus its other kommuner). This follows the usual practice of statistical offices
(Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, ch. 4: threshold rule plus
complementary suppression); we use the simple "no constraint with exactly one hidden cell"
heuristic rather than an optimising solver, see :func:`suppress`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from numbers import Real
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analyse.errors import AnalyseError, DataValidationError, ParameterError, example_rows

# ---------------------------------------------------------------------------------------------
# Texts the reader sees (Danish). One home, so tables, figures and sentences say the same thing.
# ---------------------------------------------------------------------------------------------

#: Used in generated sentences in place of a hidden number.
SUPPRESSED_TEXT = "for få svar til at vise tallet"
#: Marker in table cells in place of a hidden number (an en dash, explained by the footnote).
SUPPRESSED_MARK = "–"
#: Footnote explaining :data:`SUPPRESSED_MARK`; the exact thresholds are in :func:`footnote`.
SUPPRESSED_FOOTNOTE = (
    "– betyder, at tallet ikke vises, fordi det bygger på for få svar eller kan udregnes ud fra "
    "andre tal i tabellen."
)

REASON_FEW_RESPONDENTS = "færre end {min_n} svar"
# One reason for both sides on purpose: saying *which* side is small ("under 5 uden udfaldet")
# would tell the reader that (almost) everybody in the group has the outcome.
REASON_FEW_CASES = "under {min_cases} med/uden udfaldet"
REASON_UNKNOWN_N = "antal svar ukendt"
REASON_SECONDARY = "sekundær: kan udregnes fra andre celler"


class DisclosureError(AnalyseError):
    """Something is about to be published that could disclose a person or a small group."""

    def __init__(self, message: str, *, findings: Sequence[Any] = ()) -> None:
        self.findings = list(findings)
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """Thresholds of the disclosure control, fixed per run and recorded in the run manifest.

    Parameters
    ----------
    min_n
        No estimate, confidence interval or count is shown for a cell with fewer than ``min_n``
        respondents (unweighted, with a non-missing outcome). Default 20 (DESIGN.md §4).
    min_cases
        No proportion is shown where fewer than ``min_cases`` respondents have the outcome, or
        fewer than ``min_cases`` lack it (otherwise "0 %"/"100 %"-like results say something
        about nearly every person in a small group). Default 5; 0 switches the rule off.
    count_base
        Shown respondent counts are rounded half up to a multiple of ``count_base``. Default 10.
    min_weighted_population
        No weighted population count (estimated number of people) below this is shown. Default
        50: the threshold only bites in the smallest kommuner (Læsø, Fanø, Samsø, Ærø: 1,700–6,000
        inhabitants), where calibration weights are close to 1–5, so a weighted count under 50
        is little more than a head count of a few dozen neighbours and its relative standard
        error is very large anyway.
    model_max_cv, model_max_half_width
        A model-based companion estimate (:mod:`analyse.cube.smallarea`) is shown beside a
        direct estimate only where the direct one is suppressed or imprecise: its coefficient
        of variation se / estimate is above ``model_max_cv`` (default 0.20: the direct 95 %
        interval is then wider than about ±40 % of the estimate), or the half-width of its
        interval is above ``model_max_half_width`` (default 0.10, i.e. 10 percentage points; the
        CV alone misses imprecise shares near 50 %, e.g. 51,5 pct. (38,3–64,5)).
    model_min_areas
        No model-based estimate is published from a fit with fewer shown kommuner than this
        (suppressed cells never enter a fit). Default 20.
    protection_width
        Interval protection of a primary-suppressed survey share (:mod:`analyse.cube.protection`):
        an attacker who solves every published relation at once (linear programming over the
        published, rounded values) must not be able to narrow the share to less than ± this
        around its true value (within 0–1). Default 0.05 (5 percentage points). Register cells
        are protected on the count scale instead: no hidden count can be pinned down to better
        than ± ``count_base / 2`` persons.
    register_min_cases
        No register proportion is shown where fewer than ``register_min_cases`` persons have
        the outcome or fewer than ``register_min_cases`` lack it (:mod:`analyse.cube.register`).
        Default 10, the usual count threshold for register microdata statistics (register counts
        are whole populations, so a small count is a head count of identifiable people; a cell
        with 0 cases or 0 persons is suppressed too). 0 switches the rule off.

    Raises
    ------
    ParameterError
        If a threshold is not a whole number where one is needed, is negative, or if ``min_n``
        is so small that a shown count would round to 0 (``2 * min_n < count_base``).
    """

    min_n: int = 20
    min_cases: int = 5
    count_base: int = 10
    min_weighted_population: float = 50
    model_max_cv: float = 0.20
    model_max_half_width: float = 0.10
    model_min_areas: int = 20
    protection_width: float = 0.05
    register_min_cases: int = 10

    def __post_init__(self) -> None:
        for name, lowest in (
            ("min_n", 1),
            ("min_cases", 0),
            ("count_base", 1),
            ("model_min_areas", 2),
            ("register_min_cases", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ParameterError(f"Rules.{name} must be a whole number, got {value!r}")
            if value < lowest:
                raise ParameterError(f"Rules.{name} must be at least {lowest}, got {value}")
        weighted = self.min_weighted_population
        if (
            isinstance(weighted, bool)
            or not isinstance(weighted, Real)
            or not math.isfinite(weighted)
            or weighted < 0
        ):
            raise ParameterError(
                "Rules.min_weighted_population must be a finite number ≥ 0, got "
                f"{self.min_weighted_population!r}"
            )
        for name in ("model_max_cv", "model_max_half_width", "protection_width"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, Real)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ParameterError(f"Rules.{name} must be a finite number ≥ 0, got {value!r}")
        if 2 * self.min_n < self.count_base:
            # Otherwise a shown count of min_n respondents would be rounded to 0, which reads as
            # "nobody" and is wrong.
            raise ParameterError(
                f"Rules.min_n ({self.min_n}) must be at least half of Rules.count_base "
                f"({self.count_base}), so that no shown count is rounded to 0"
            )

    def as_dict(self) -> dict[str, float]:
        """The rules as a plain dict, for the run manifest."""
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Rounding
# ---------------------------------------------------------------------------------------------


def round_count(n: Any, base: int = 10) -> Any:
    """Round counts half up to a multiple of ``base`` (15 → 20, 14 → 10, 0 → 0).

    Works on a scalar, a NumPy array or a pandas Series (missing values stay missing; a Series
    keeps its index). Arithmetic only: a count of 1–4 becomes 0 here. :func:`suppress` never
    shows a count below ``Rules.min_n`` and :class:`Rules` requires ``2 * min_n >= count_base``,
    so a published count is never a misleading 0 (a true zero cell is suppressed as well).

    Raises
    ------
    ParameterError
        If ``base`` is not a positive whole number or a count is negative.
    """
    if isinstance(base, bool) or not isinstance(base, int | np.integer) or base < 1:
        raise ParameterError(f"base must be a positive whole number, got {base!r}")
    if isinstance(n, pd.Series):
        values = pd.to_numeric(n).astype("float64")
        return pd.Series(_round_half_up(values.to_numpy(), base), index=n.index, name=n.name)
    if np.ndim(n) == 0:
        if n is None or (isinstance(n, float) and math.isnan(n)) or n is pd.NA:
            return n
        value = _round_half_up(np.asarray([n], dtype="float64"), base)[0]
        return int(value)
    return _round_half_up(np.asarray(n, dtype="float64"), base)


def _round_half_up(values: np.ndarray, base: int) -> np.ndarray:
    if np.any(values < 0):
        raise ParameterError("counts to round must not be negative")
    # np.round rounds half to even (25 → 20); publication practice is half up (25 → 30).
    return np.floor(values / base + 0.5) * base


#: Decimals of a published proportion on the 0-1 scale: 3, i.e. 0.1 percentage point, the
#: precision every table, sentence and figure shows ("12,3 pct.").
SHARE_DECIMALS = 3


def round_share(values: Any, decimals: int = SHARE_DECIMALS) -> Any:
    """Round proportions (0-1 scale; also differences of proportions) to the shown precision.

    The default 3 decimals is 0.1 percentage point. Everything a reader can see or compute
    (figure coordinates, alt texts, exported files, the register cube) goes through this, so no
    published number carries more precision than is shown: values that differ by less than the
    rounding give identical output. Works on a scalar, a NumPy array or a pandas Series (a
    Series keeps its index and name); missing values stay missing. Rounds half away from zero
    on the written decimal value, as the text formatting does
    (:mod:`analyse.publish.report`: 0.1225 → "12,3 pct."), so a figure is drawn where its text
    says: binary noise is removed first (0.1225 × 1000 = 122.49999999999999 counts as 122.5).
    −0.0 becomes 0.0.

    Raises
    ------
    ParameterError
        If ``decimals`` is not a whole number ≥ 0.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int | np.integer) or decimals < 0:
        raise ParameterError(f"decimals must be a whole number ≥ 0, got {decimals!r}")
    if isinstance(values, pd.Series):
        numbers = pd.to_numeric(values).astype("float64").to_numpy()
        return pd.Series(_round_half_away(numbers, decimals), index=values.index, name=values.name)
    if np.ndim(values) == 0:
        if values is None or values is pd.NA:
            return values
        return float(_round_half_away(np.asarray([float(values)]), decimals)[0])
    return _round_half_away(np.asarray(values, dtype="float64"), decimals)


def _round_half_away(values: np.ndarray, decimals: int) -> np.ndarray:
    scale = 10.0**decimals
    # Six further decimals absorb the binary error of the scaling before the half is judged.
    scaled = np.round(np.abs(values) * scale, 6)
    return np.sign(values) * np.floor(scaled + 0.5) / scale + 0.0


# ---------------------------------------------------------------------------------------------
# Suppression
# ---------------------------------------------------------------------------------------------

#: Crossed breakdowns of the cube and their two margin breakdowns (see :func:`suppress`).
DEFAULT_CROSSED: Mapping[str, tuple[str, str]] = MappingProxyType({"sex_age": ("sex", "age_group")})


def suppress(
    table: pd.DataFrame,
    rules: Rules | None = None,
    *,
    keys: Sequence[str] = ("indicator", "year"),
    area_columns: tuple[str, str] | None = ("area_level", "area_code"),
    group_column: str | None = "group",
    breakdown_column: str | None = "breakdown",
    total_breakdown: str = "total",
    total_label: str = "I alt",
    crossed: Mapping[str, Sequence[str]] | None = DEFAULT_CROSSED,
    cross_separator: str = ", ",
    hierarchy: pd.DataFrame | None = None,
    value_columns: Sequence[str] = ("estimate", "se", "ci_low", "ci_high"),
    n_column: str = "n",
    cases_column: str | None = "cases",
    weighted_columns: Sequence[str] = ("weighted_n",),
    exact_count_columns: Sequence[str] = ("cases",),
) -> pd.DataFrame:
    """Apply primary and secondary suppression and round counts, ready for publication.

    Primary suppression (per row):

    * ``n < rules.min_n`` (or ``n`` missing): reason ``"færre end 20 svar"``;
    * ``cases < rules.min_cases`` or ``n - cases < rules.min_cases``: reason
      ``"under 5 med/uden udfaldet"``. Rows whose ``cases`` is missing are taken to be means,
      not proportions, and this rule does not apply to them.

    Secondary suppression: cells are linked by additive constraints "parent = sum of
    children". Whenever exactly one cell of a constraint is hidden it could be recovered by
    subtraction, so the shown child with the smallest ``n`` is hidden too (reason
    ``"sekundær: kan udregnes fra andre celler"``); this repeats until no constraint has exactly
    one hidden cell. The total itself is never chosen, except when a constraint has no other
    shown child (then the parent is hidden). The constraints are:

    * breakdowns: within one table (``keys`` × area × breakdown), the groups other than
      ``total_label`` add up to the total (the row of the same breakdown with ``group ==
      total_label``, else the row of ``total_breakdown``). We assume this *even if a category
      such as "ukendt" is not shown*: the total minus the shown groups then recovers the hidden
      group plus the few unknowns, which is close enough to be a disclosure, so over-suppressing
      slightly is the safe choice;
    * crossed breakdowns (default ``{"sex_age": ("sex", "age_group")}``, group labels joined
      by ``cross_separator``, e.g. ``"Kvinder, 16-24 år"``): the cells of each row add up to the
      margin of the first breakdown, the cells of each column to the margin of the second. A
      crossed label without the separator adds no margin constraints (the crossed cells still
      add up to the total);
    * areas: per ``keys`` × breakdown × group, the children of each parent in ``hierarchy``
      (e.g. :func:`analyse.reference.geography.area_hierarchy`: klynge and region = their
      kommuner, Denmark = its regions).

    A parent row that is not in ``table`` is treated as shown (it may be published elsewhere),
    and only child rows present in ``table`` take part; both err on the side of hiding more.
    The heuristic protects each constraint separately; it is not a full linear-programming
    audit of every combination of constraints (Hundepool et al. 2012, §4.4).

    Parameters
    ----------
    table
        Tidy estimates, one row per cell. Not modified.
    rules
        Thresholds; default :class:`Rules()`.
    keys
        Columns that, with the area and breakdown columns, identify one table (add e.g.
        ``"standardised"`` if the cube holds variants of the same cell).
    area_columns
        ``(level column, code column)``; ``None`` or absent columns: no area constraints.
    group_column, breakdown_column
        Group within a breakdown and the breakdown name; ``None``: no breakdown constraints.
    total_breakdown, total_label
        The breakdown holding the overall total and the label of a total row.
    crossed
        Crossed breakdowns and their two margin breakdowns (``None`` or ``{}``: none).
    cross_separator
        Separator between the two margin labels in a crossed group label.
    hierarchy
        ``None`` (default: no area constraints) or a DataFrame with ``parent_level``,
        ``parent_code``, ``child_level``, ``child_code`` (the cube passes
        :func:`analyse.reference.geography.area_hierarchy`).
    value_columns
        Columns set to missing where a cell is suppressed (absent ones are skipped).
    n_column
        Unweighted respondents in the cell. In the result it is *rounded in place* (nullable
        integer, multiple of ``rules.count_base``; missing where suppressed), so the exact count
        cannot be shown by mistake.
    cases_column
        Unweighted respondents with the outcome (``None``: the rule is not applied).
    weighted_columns
        Weighted population counts: missing where suppressed or below
        ``rules.min_weighted_population``, otherwise rounded to ``rules.count_base``.
    exact_count_columns
        Columns dropped from the result because they hold exact counts (``cases_column`` is
        always dropped).

    Returns
    -------
    DataFrame
        A copy of ``table`` with value columns hidden, counts rounded, exact counts dropped, and
        two new columns: ``suppressed`` (bool) and ``suppression_reason`` (Danish, missing for
        shown cells). ``result.attrs["disclosure_rules"]`` holds ``rules.as_dict()``.

    Raises
    ------
    ParameterError
        If a named column is missing.
    DataValidationError
        If counts are negative or non-numeric, ``cases > n``, or a cell appears twice.
    """
    rules = Rules() if rules is None else rules
    if not isinstance(rules, Rules):
        raise ParameterError(f"rules must be a disclosure.Rules, got {type(rules).__name__}")
    keys = list(keys)
    area_cols = (
        list(area_columns)
        if area_columns is not None and all(c in table.columns for c in area_columns)
        else []
    )
    use_breakdown = group_column is not None and breakdown_column is not None
    needed = keys + [n_column]
    if use_breakdown:
        needed += [breakdown_column, group_column]
    if cases_column is not None:
        needed.append(cases_column)
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ParameterError(
            f"column(s) {', '.join(map(repr, missing))} not in the table; present: "
            f"{', '.join(map(str, table.columns))}"
        )

    n = _counts(table, n_column)
    cases = _counts(table, cases_column) if cases_column is not None else None
    if cases is not None:
        bad = np.flatnonzero(cases > n)
        if bad.size:
            raise DataValidationError(
                f"more respondents with the outcome ({cases_column}) than respondents ({n_column})",
                column=cases_column,
                rows=bad.tolist(),
            )
    cell_columns = keys + area_cols + ([breakdown_column, group_column] if use_breakdown else [])
    duplicated = np.flatnonzero(table.duplicated(cell_columns, keep=False).to_numpy())
    if duplicated.size:
        raise DataValidationError(
            f"the same cell ({' × '.join(cell_columns)}) appears more than once",
            rows=duplicated.tolist(),
            hint="add the column that tells the rows apart to `keys`",
        )

    # Primary suppression.
    reason = np.full(len(table), None, dtype=object)
    few_cases = np.zeros(len(table), dtype=bool)
    if cases is not None and rules.min_cases > 0:
        with np.errstate(invalid="ignore"):
            few_cases = ~np.isnan(cases) & (
                (cases < rules.min_cases) | (n - cases < rules.min_cases)
            )
    reason[few_cases] = REASON_FEW_CASES.format(min_cases=rules.min_cases)
    with np.errstate(invalid="ignore"):
        few_respondents = n < rules.min_n
    reason[few_respondents] = REASON_FEW_RESPONDENTS.format(min_n=rules.min_n)
    reason[np.isnan(n)] = REASON_UNKNOWN_N
    suppressed = few_respondents | few_cases | np.isnan(n)

    # Secondary suppression.
    work = _working_frame(table, cell_columns, area_cols)
    constraints = []
    if use_breakdown:
        constraints += _breakdown_constraints(
            work,
            keys + area_cols,
            breakdown_column,
            group_column,
            total_breakdown,
            total_label,
            dict(crossed or {}),
            cross_separator,
        )
    if area_cols and hierarchy is not None:
        if not isinstance(hierarchy, pd.DataFrame):
            raise ParameterError(
                f"hierarchy must be None or a DataFrame of parent-child links, got {hierarchy!r}"
            )
        links = hierarchy
        group_cols = [breakdown_column, group_column] if use_breakdown else []
        constraints += _hierarchy_constraints(work, keys + group_cols, area_cols, links)
    secondary = _complementary(suppressed, n, constraints)
    reason[secondary] = REASON_SECONDARY
    suppressed = suppressed | secondary

    # Build the publishable table.
    result = table.copy()
    for column in value_columns:
        if column in result.columns:
            result[column] = pd.to_numeric(result[column]).astype("float64").where(~suppressed)
    shown_n = round_count(np.where(suppressed | np.isnan(n), np.nan, n), rules.count_base)
    result[n_column] = pd.array(shown_n, dtype="Float64").astype("Int64")
    for column in weighted_columns:
        if column in result.columns:
            weighted = _counts(table, column)
            with np.errstate(invalid="ignore"):
                hide = suppressed | ~(weighted >= rules.min_weighted_population)
            rounded = round_count(np.where(hide, np.nan, weighted), rules.count_base)
            result[column] = pd.array(rounded, dtype="Float64").astype("Int64")
    drop = set(exact_count_columns) | ({cases_column} if cases_column else set())
    result = result.drop(columns=[c for c in result.columns if c in drop and c != n_column])
    result["suppressed"] = suppressed
    result["suppression_reason"] = pd.array(reason, dtype="string")
    result.attrs["disclosure_rules"] = rules.as_dict()
    return result


def _counts(table: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as float (NaN for missing), validated as numeric and non-negative."""
    try:
        values = pd.to_numeric(table[column]).astype("float64").to_numpy()
    except (TypeError, ValueError) as error:
        raise DataValidationError(f"counts must be numbers ({error})", column=column) from None
    with np.errstate(invalid="ignore"):
        negative = np.flatnonzero(values < 0)
    if negative.size:
        raise DataValidationError("counts must not be negative", column=column, rows=negative)
    return values


def _working_frame(
    table: pd.DataFrame, cell_columns: list[str], area_cols: list[str]
) -> pd.DataFrame:
    """The identifying columns plus the row position; area codes as strings for matching."""
    work = table[cell_columns].reset_index(drop=True).copy()
    for column in area_cols:
        values = work[column]
        if pd.api.types.is_float_dtype(values) and values.dropna().mod(1).eq(0).all():
            values = values.astype("Int64")  # 461.0 must match the geography's "461"
        work[column] = values.astype("string")
    work["_row"] = np.arange(len(work))
    return work


def _constraint(
    children: pd.DataFrame, parents: pd.DataFrame, by: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Constraints "parent = sum of children", one per distinct value of ``by`` among children.

    Returns local constraint ids, row positions and a parent flag, member by member.
    """
    if children.empty:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=bool)
    cid = children.groupby(by, dropna=False, sort=False).ngroup().to_numpy()
    heads = children[by].assign(_cid=cid).drop_duplicates("_cid")
    matched = heads.merge(parents[by + ["_row"]], on=by, how="inner")
    return (
        np.concatenate([cid, matched["_cid"].to_numpy()]),
        np.concatenate([children["_row"].to_numpy(), matched["_row"].to_numpy()]),
        np.concatenate([np.zeros(len(children), bool), np.ones(len(matched), bool)]),
    )


def _breakdown_constraints(
    work: pd.DataFrame,
    table_keys: list[str],
    breakdown: str,
    group: str,
    total_breakdown: str,
    total_label: str,
    crossed: dict[str, Sequence[str]],
    separator: str,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    is_total_row = work[group] == total_label
    grand_totals = work[is_total_row & (work[breakdown] == total_breakdown)]
    own_totals = work[is_total_row & (work[breakdown] != total_breakdown)]
    children = work[~is_total_row & (work[breakdown] != total_breakdown)]
    by = table_keys + [breakdown]
    # Parent of a breakdown: its own "I alt" row if it has one, else the overall total.
    parents = pd.concat(
        [
            own_totals,
            children[by]
            .drop_duplicates()
            .merge(own_totals[by], on=by, how="left", indicator=True)
            .query("_merge == 'left_only'")
            .drop(columns="_merge")
            .merge(grand_totals.drop(columns=[breakdown, group]), on=table_keys, how="inner"),
        ],
        ignore_index=True,
    )
    out = [_constraint(children, parents, by)]
    for crossed_name, margins in crossed.items():
        if len(margins) != 2:
            raise ParameterError(
                f"crossed breakdown {crossed_name!r} needs exactly two margin breakdowns, "
                f"got {margins!r}"
            )
        cells = children[children[breakdown] == crossed_name]
        parts = cells[group].astype("string").str.split(separator, n=1, expand=True, regex=False)
        if cells.empty or parts.shape[1] < 2:
            continue
        for position, margin in enumerate(margins):
            margin_cells = cells.assign(_margin=parts[position].to_numpy())
            margin_rows = work[(work[breakdown] == margin) & ~is_total_row]
            margin_rows = margin_rows.assign(_margin=margin_rows[group].astype("string"))
            out.append(_constraint(margin_cells, margin_rows, table_keys + ["_margin"]))
    return out


def _hierarchy_constraints(
    work: pd.DataFrame, cell_keys: list[str], area_cols: list[str], links: pd.DataFrame
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    required = {"parent_level", "parent_code", "child_level", "child_code"}
    if not required <= set(links.columns):
        raise ParameterError(
            f"hierarchy needs columns {sorted(required)}, got {list(links.columns)}"
        )
    level, code = area_cols
    links = links.astype({"parent_code": "string", "child_code": "string"})
    out = []
    for (parent_level, child_level), pairs in links.groupby(["parent_level", "child_level"]):
        children = work[work[level] == child_level].merge(
            pairs[["child_code", "parent_code"]].rename(columns={"child_code": code}), on=code
        )
        parents = work[work[level] == parent_level].assign(parent_code=lambda w: w[code])
        out.append(_constraint(children, parents, cell_keys + ["parent_code"]))
    return out


def _complementary(
    primary: np.ndarray,
    n: np.ndarray,
    constraints: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Rows to hide so that no constraint has exactly one hidden member (vectorised).

    Each round finds every constraint with exactly one hidden member and hides its smallest
    shown child (ties: first row). A loop over rounds, not rows: a few rounds suffice.
    """
    cids, rows, parents, offset = [], [], [], 0
    for cid, row, is_parent in constraints:
        if cid.size:
            cids.append(cid + offset)
            rows.append(row)
            parents.append(is_parent)
            offset += int(cid.max()) + 1
    hidden = primary.copy()
    if not cids:
        return hidden & ~primary
    cid, row, is_parent = np.concatenate(cids), np.concatenate(rows), np.concatenate(parents)
    size = np.where(np.isnan(n), -1.0, n)
    while True:
        hidden_members = np.bincount(cid, weights=hidden[row], minlength=offset)
        exposed = hidden_members == 1
        if not exposed.any():
            break
        candidate = exposed[cid] & ~hidden[row] & ~is_parent
        cand_cid, cand_row = cid[candidate], row[candidate]
        order = np.lexsort((cand_row, size[cand_row], cand_cid))
        cand_cid, cand_row = cand_cid[order], cand_row[order]
        first = np.ones(cand_cid.size, dtype=bool)
        first[1:] = cand_cid[1:] != cand_cid[:-1]
        has_candidate = np.zeros(offset, dtype=bool)
        has_candidate[cand_cid[first]] = True
        # A constraint with one child (a klynge of one kommune, an "ukendt"-only breakdown):
        # the only cell left to hide is the parent.
        lone_parent = is_parent & (exposed & ~has_candidate)[cid] & ~hidden[row]
        chosen = np.concatenate([cand_row[first], row[lone_parent]])
        if chosen.size == 0:
            break
        hidden[chosen] = True
    return hidden & ~primary


# ---------------------------------------------------------------------------------------------
# Presentation helpers
# ---------------------------------------------------------------------------------------------


def footnote(rules: Rules | None = None) -> str:
    """Danish footnote for a table that uses :data:`SUPPRESSED_MARK`, with the thresholds."""
    rules = Rules() if rules is None else rules
    return (
        f"{SUPPRESSED_MARK} betyder, at tallet ikke vises: det bygger på færre end "
        f"{rules.min_n} svar, under {rules.min_cases} svarpersoner med eller uden udfaldet, "
        "eller det kan udregnes ud fra andre tal. Antal svar er afrundet til nærmeste "
        f"{rules.count_base}."
    )


def value_or_text(
    value: Any, formatter=str, *, suppressed: bool = False, text: str = SUPPRESSED_TEXT
) -> str:
    """Format a number for a sentence, or return :data:`SUPPRESSED_TEXT` if it is hidden/missing."""
    if (
        suppressed
        or value is None
        or value is pd.NA
        or (isinstance(value, float) and math.isnan(value))
    ):
        return text
    return formatter(value)


def value_or_mark(value: Any, formatter=str, *, suppressed: bool = False) -> str:
    """Format a number for a table cell, or return :data:`SUPPRESSED_MARK` if it is hidden."""
    return value_or_text(value, formatter, suppressed=suppressed, text=SUPPRESSED_MARK)


def publication_problems(
    table: pd.DataFrame,
    rules: Rules | None = None,
    *,
    value_columns: Sequence[str] = ("estimate", "se", "ci_low", "ci_high"),
    n_column: str = "n",
    weighted_columns: Sequence[str] = ("weighted_n",),
    exact_count_columns: Sequence[str] = ("cases",),
) -> list[str]:
    """Reasons why ``table`` may not be shown (empty list: publishable).

    Checks that the table went through :func:`suppress` (a ``suppressed`` column), that it holds
    no exact-count column, that no value is shown for a suppressed row or a row with fewer than
    ``rules.min_n`` respondents (or no respondent count), and that counts are rounded. It cannot
    re-check secondary suppression, which needs the exact counts: that is why every table must
    come from :func:`suppress`.
    """
    rules = Rules() if rules is None else rules
    problems: list[str] = []
    if "suppressed" not in table.columns:
        problems.append("the table has no 'suppressed' column: pass it through disclosure.suppress")
    exact = [c for c in exact_count_columns if c in table.columns]
    if exact:
        problems.append(f"exact counts in column(s) {', '.join(exact)}")
    values = [c for c in value_columns if c in table.columns]
    if not values:
        return problems
    # A formatted frame ("12,3 %") counts as shown too; only missing values, the table mark
    # and the sentence text count as hidden.
    hidden_texts = ["", SUPPRESSED_MARK, SUPPRESSED_TEXT]
    shown = np.zeros(len(table), dtype=bool)
    for column in values:
        cells = table[column]
        as_text = cells.astype("string").str.strip()
        shown |= (cells.notna() & ~as_text.isin(hidden_texts)).to_numpy(dtype=bool, na_value=False)
    if "suppressed" in table.columns:
        flagged = table["suppressed"].fillna(True).astype(bool).to_numpy()
        _add_problem(problems, shown & flagged, "a value is shown for a suppressed cell")
    if n_column not in table.columns:
        if shown.any():
            problems.append(f"values are shown but there is no respondent count {n_column!r}")
        return problems
    n = pd.to_numeric(table[n_column], errors="coerce").astype("float64").to_numpy()
    # Shown counts are rounded, and rounding is monotone: n >= min_n ⇔ at least round(min_n).
    lowest = round_count(rules.min_n, rules.count_base)
    with np.errstate(invalid="ignore"):
        _add_problem(
            problems,
            shown & ~(n >= lowest),
            f"a value is shown for a cell with fewer than {rules.min_n} respondents or no count",
        )
        _add_problem(
            problems,
            ~np.isnan(n) & (np.mod(n, rules.count_base) != 0),
            f"{n_column} is not rounded to a multiple of {rules.count_base}",
        )
    for column in weighted_columns:
        if column in table.columns:
            weighted = pd.to_numeric(table[column], errors="coerce").astype("float64").to_numpy()
            with np.errstate(invalid="ignore"):
                _add_problem(
                    problems,
                    ~np.isnan(weighted)
                    & (
                        (weighted < rules.min_weighted_population)
                        | (np.mod(weighted, rules.count_base) != 0)
                    ),
                    f"{column} is below {rules.min_weighted_population:g} or not rounded",
                )
    return problems


def _add_problem(problems: list[str], mask: np.ndarray, text: str) -> None:
    rows = np.flatnonzero(mask)
    if rows.size:
        examples = ", ".join(str(r) for r in example_rows(rows))
        problems.append(f"{text} ({rows.size} rows; e.g. row {examples})")


def is_publishable(table: pd.DataFrame, rules: Rules | None = None, **columns: Any) -> bool:
    """True if :func:`publication_problems` finds nothing."""
    return not publication_problems(table, rules, **columns)


def assert_publishable(table: pd.DataFrame, rules: Rules | None = None, **columns: Any) -> None:
    """Raise :class:`DisclosureError` listing every problem :func:`publication_problems` finds.

    The presentation layer (tables, figures, sentences, CSV export) calls this on every frame
    before showing it.
    """
    problems = publication_problems(table, rules, **columns)
    if problems:
        raise DisclosureError(
            "table may not be published: " + "; ".join(problems), findings=problems
        )
