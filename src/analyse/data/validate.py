"""Validation of survey deliveries: fatal rules that stop the cleaning, and the data-quality report.

Fatal problems raise :class:`~analyse.errors.DataValidationError` with the file, the column, the
rule, how many rows break it and a few example rows. Rows are counted from 1 = the first
respondent in the file (in a CSV that is line 2, after the header).

Soft problems (implausible height or weight, BMI outside the plausible range, too many missing
PSS items, "ved ikke" answers, unknown columns …) do not stop anything: the value is set missing
and counted in a :class:`DataQualityReport`, which holds aggregates only — never a respondent's
row — so it can be shown and shared.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analyse.data.codebook import Codebook, Variable
from analyse.errors import DataValidationError

# How many distinct offending values an error message quotes (codes, not personal data).
QUOTED_VALUES = 3


def _rows(mask: np.ndarray) -> np.ndarray:
    """1-based row numbers where ``mask`` is true."""
    return np.flatnonzero(mask) + 1


def _quote(values: Iterable) -> str:
    distinct = []
    for value in values:
        text = _format_value(value)
        if text not in distinct:
            distinct.append(text)
        if len(distinct) == QUOTED_VALUES:
            break
    return ", ".join(distinct)


def _format_value(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


# ================================================================================================
# Fatal rules
# ================================================================================================


def check_not_empty(n_rows: int, file: str | None) -> None:
    """A survey file must hold at least one respondent."""
    if n_rows == 0:
        raise DataValidationError(
            "the wave has no respondents: the file holds a header but no data rows", file=file
        )


def check_required_columns(
    present: Iterable[str], codebook: Codebook, file: str | None, unknown: Iterable[str] = ()
) -> None:
    """Every variable the codebook marks ``required`` must be a column of the file."""
    present = set(present)
    absent = [name for name in codebook.required if name not in present]
    if absent:
        labels = "; ".join(f"{name} ({codebook.variables[name].label})" for name in absent)
        unknown = list(unknown)
        hint = (
            "If your file uses other names, add them to the rename section of your codebook "
            "(`analyse codebook init DIR` drafts one that extends the shipped codebook), e.g. "
            f"rename: {{{unknown[0]}: {absent[0]}}}, and pass it with --codebook"
            if unknown
            else "Check that this is a Sundhedsprofil respondent file"
        )
        raise DataValidationError(
            f"missing required column(s): {labels}",
            file=file,
            column=absent[0],
            hint=hint,
        )


def check_numeric(values: pd.Series, column: str, file: str | None, decimal: str | None = None):
    """Convert a column to numbers; text that is not a number is fatal.

    Returns
    -------
    numpy float array with NaN for blanks.
    """
    # Always a fresh array: the cleaning sets values missing in place and must never write
    # into the caller's raw table.
    if values.dtype.kind in "biuf":
        return values.to_numpy(dtype=float, copy=True)
    try:
        return values.to_numpy(dtype=float, na_value=np.nan, copy=True)
    except (TypeError, ValueError):
        pass
    text = values.astype("str").str.strip()
    blank = values.isna().to_numpy() | (text == "").to_numpy()
    numbers = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = ~blank & np.isnan(numbers)
    if bad.any():
        examples = _quote(text[bad].tolist())
        hint = None
        if any("," in str(v) for v in text[bad].head(20)) and decimal != ",":
            hint = "The file seems to use a decimal comma: read it with decimal=','"
        raise DataValidationError(
            f"holds text where a number is expected (e.g. {examples})",
            file=file,
            column=column,
            rows=_rows(bad),
            count=int(bad.sum()),
            hint=hint,
        )
    return numbers


def check_no_missing(values: np.ndarray | pd.Series, what: str, column: str, file: str | None):
    """Values that every respondent must have (id, year, kommune, stratum, age)."""
    missing = pd.isna(values)
    missing = np.asarray(missing)
    if missing.any():
        raise DataValidationError(
            f"{what} is missing",
            file=file,
            column=column,
            rows=_rows(missing),
            count=int(missing.sum()),
        )


def check_whole_numbers(values: np.ndarray, variable: Variable, column: str, file: str | None):
    """Codes and integer variables must be whole numbers."""
    bad = ~np.isnan(values) & (values != np.round(values))
    if bad.any():
        raise DataValidationError(
            f"holds values that are not whole numbers (e.g. {_quote(values[bad])}); "
            f"{variable.label} is a whole number in the codebook",
            file=file,
            column=column,
            rows=_rows(bad),
            count=int(bad.sum()),
        )


def check_codes(values: np.ndarray, variable: Variable, column: str, file: str | None):
    """Codes (after missing codes are removed) must be codes of the codebook."""
    known = np.array(sorted(variable.file_coding), dtype=float)
    bad = ~np.isnan(values) & ~np.isin(values, known)
    if bad.any():
        allowed = ", ".join(str(c) for c in sorted(variable.file_coding))
        missing = ", ".join(_format_value(float(c)) for c in variable.missing)
        raise DataValidationError(
            f"codes outside the codebook (e.g. {_quote(values[bad])}); {variable.label} has "
            f"codes {allowed}" + (f" and missing codes {missing}" if missing else ""),
            file=file,
            column=column,
            rows=_rows(bad),
            count=int(bad.sum()),
            hint="Correct the file, or add the code to the codebook if it is a real answer",
        )


def out_of_range(values: np.ndarray, variable: Variable, column: str, file: str | None):
    """Values outside the variable's valid range.

    Returns
    -------
    Boolean mask of implausible values (to be set missing and counted).

    Raises
    ------
    DataValidationError
        When the codebook marks values outside the range as ``invalid`` (e.g. age, year).
    """
    if variable.range is None:
        return np.zeros(values.shape, dtype=bool)
    low, high = variable.range
    outside = (values < low) | (values > high)  # NaN compares False
    if outside.any() and variable.out_of_range == "invalid":
        raise DataValidationError(
            f"values outside the valid range {_format_value(float(low))}–"
            f"{_format_value(float(high))} (e.g. {_quote(values[outside])}) for {variable.label}",
            file=file,
            column=column,
            rows=_rows(outside),
            count=int(outside.sum()),
        )
    return outside


def check_weights(weights: np.ndarray, column: str, file: str | None) -> None:
    """Calibration weights must be present, finite and positive for every respondent."""
    missing = np.isnan(weights)
    if missing.any():
        raise DataValidationError(
            "weight is missing; every respondent needs a calibration weight",
            file=file,
            column=column,
            rows=_rows(missing),
            count=int(missing.sum()),
        )
    bad = ~np.isfinite(weights) | (weights <= 0)
    if bad.any():
        raise DataValidationError(
            f"weight is zero, negative or infinite (e.g. {_quote(weights[bad])}); calibration "
            "weights must be positive",
            file=file,
            column=column,
            rows=_rows(bad),
            count=int(bad.sum()),
        )


def check_kommune_codes(codes: np.ndarray, known: Iterable[int], column: str, file: str | None):
    """Kommune codes must be codes of the 98 kommuner (analyse.reference.geography)."""
    bad = ~np.isin(codes, np.fromiter(known, dtype=float))
    if bad.any():
        raise DataValidationError(
            f"unknown kommune codes (e.g. {_quote(codes[bad])}); expected the three-digit codes "
            "of the 98 kommuner (101 København … 860 Hjørring)",
            file=file,
            column=column,
            rows=_rows(bad),
            count=int(bad.sum()),
        )


def check_waves(years: np.ndarray, codebook: Codebook, column: str, file: str | None) -> None:
    """Every year must be a wave the codebook knows (its items' availability depends on it)."""
    if not codebook.waves:
        return
    bad = ~np.isin(years, np.array(codebook.waves, dtype=float))
    if bad.any():
        raise DataValidationError(
            f"year {_quote(years[bad])} is not a wave of the codebook "
            f"({', '.join(map(str, codebook.waves))})",
            file=file,
            column=column,
            rows=_rows(bad),
            count=int(bad.sum()),
            hint="Correct the year, or add the wave to the codebook's waves",
        )


# Two labels are "the same" when they are equal without case and extra white space, or spelt
# almost alike (difflib ratio ≥ 0.9: "Kvinder" ~ "Kvinde" 0.92; "Kort videregående uddannelse"
# vs "Lang videregående uddannelse" 0.86 stays apart).
SAME_LABEL_RATIO = 0.9


def _label_score(a: str, b: str) -> float:
    a, b = " ".join(str(a).split()).casefold(), " ".join(str(b).split()).casefold()
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b).ratio()


def check_value_labels(
    value_labels: Mapping[str, Mapping[float, str]],
    where: Mapping[str, str],
    codebook: Codebook,
    file: str | None,
) -> pd.DataFrame:
    """Value labels stored in the file (SPSS, Stata) against the codebook's codes.

    A code whose label in the file is the codebook's label of *another* code of the same
    variable (compared without case; close spellings such as "Kvinder"/"Kvinde" count as the
    same) means the file is coded differently from what the codebook says: men would be counted
    as women. That is fatal, unless the codebook marks the variable ``trust_codes: true`` (the
    codes are right, the labels wrong). Other differences (a label the codebook does not know,
    another spelling) are only reported.

    Returns
    -------
    DataFrame of every label that differs from the codebook: ``file``, ``variable``, ``code``,
    ``file_label``, ``codebook_label`` (empty when they all agree).

    Raises
    ------
    DataValidationError
        Naming the file, the variable, each contradicting code and both labels.
    """
    rows, fatal = [], []
    for var_name, column in where.items():
        labels = value_labels.get(column)
        var = codebook.variables[var_name]
        coding = var.file_coding
        if not labels or not coding:
            continue
        missing = {float(c) for c in var.missing}
        contradictions = []
        for code, label in labels.items():
            if float(code) in missing:
                continue
            own = coding.get(int(code)) if float(code).is_integer() else None
            own_score = _label_score(label, own) if own is not None else 0.0
            if own_score == 1.0:
                continue
            rows.append(
                {
                    "file": file,
                    "variable": var_name,
                    "code": float(code),
                    "file_label": str(label),
                    "codebook_label": own,
                }
            )
            others = [
                (_label_score(label, other_label), other_code)
                for other_code, other_label in coding.items()
                if float(other_code) != float(code)
            ]
            best, other_code = max(others, default=(0.0, None))
            if best >= SAME_LABEL_RATIO and best > own_score:
                contradictions.append((code, str(label), own, other_code))
        if contradictions and not var.trust_codes:
            fatal.append((var_name, column, contradictions))
    if fatal:
        var_name, column, contradictions = fatal[0]
        coding = codebook.variables[var_name].file_coding
        details = "; ".join(
            f"code {_format_value(float(code))} is {label!r} in the file but {own!r} in the "
            f"codebook (where {coding[other]!r} is code {other})"
            for code, label, own, other in contradictions
        )
        by_label = {
            _format_value(float(code)): str(label)
            for code, label in value_labels[column].items()
            if float(code) not in {float(c) for c in codebook.variables[var_name].missing}
        }
        suggestion = ", ".join(f"{code}: {label}" for code, label in by_label.items())
        others = [name for name, _, _ in fatal[1:]]
        raise DataValidationError(
            f"the file's value labels contradict the codebook's codes for {var_name} "
            f"({codebook.variables[var_name].label}): {details}"
            + (f" (also in {', '.join(others)})" if others else ""),
            file=file,
            column=column,
            hint=(
                "If the file's labels are right, state its codes in your codebook (extends: "
                f"sundhedsprofil, then variables: {{{var_name}: {{codes: {{{suggestion}}}}}}}); "
                f"if the codes are right and the labels wrong, add trust_codes: true to "
                f"variables.{var_name}"
            ),
        )
    return pd.DataFrame(rows, columns=["file", "variable", "code", "file_label", "codebook_label"])


def check_unique_ids(
    ids: pd.Series, years: np.ndarray, column: str, file: str | None, row_numbers=None
) -> None:
    """A respondent id may occur only once within a wave."""
    keys = pd.DataFrame({"id": ids.to_numpy(), "year": years})
    duplicated = keys.duplicated(keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        rows = row_numbers[rows] if row_numbers is not None else rows + 1
        first = keys[duplicated].iloc[0]
        raise DataValidationError(
            f"duplicated respondent ids within a wave (e.g. {first['id']!r} in "
            f"{int(first['year'])}); each respondent must occur once per wave",
            file=file,
            column=column,
            rows=rows,
            count=int(duplicated.sum()),
        )


# ================================================================================================
# Weights: warnings, not fatal (the estimates can be made, but may not be what they claim)
# ================================================================================================

#: Calibration weights sum to the wave's population aged 16+; outside this ratio the sum is
#: "far" from it. Wide, because the population is approximated (the national 16+ share, the
#: population of 2026; see analyse.reference.population.kommune_population_16plus): Denmark
#: grew by about 8 % and København by about 20 % between 2010 and 2026. Weights that are all 1,
#: normalised to mean 1 or in thousands are off by a factor of 10 or more.
WEIGHT_SUM_RATIO = (2 / 3, 3 / 2)
#: Plausible Kish design effect of the weights within a kommune (stratum), pooled over the
#: wave: n Σw² / (Σw)² per stratum, averaged with the strata's respondents as weights.
#: Calibration to sex, age, education and origin gives about 1.1–1.5 (the synthetic default:
#: 1.11–1.16 at full scale, 1.4 at scale 0.05). Exactly 1 means
#: the weights do not vary within a kommune (design weights, not calibrated for non-response);
#: above 4 a few respondents dominate (weights in the wrong column or unit, or failed raking).
DEFF_RANGE = (1.005, 4.0)


def weight_checks(
    respondents: pd.DataFrame,
    population_16plus: Mapping[int, float],
    *,
    weight: str = "weight",
    year: str = "year",
    kommune: str = "kommune_code",
    stratum: str = "stratum",
    national_suffix: str = "-DK",
) -> pd.DataFrame:
    """Per wave: do the weights look like calibration weights?

    Three checks, each a warning (the estimates are made with the weights as delivered):

    - ``constant``: every weight of the wave is the same — the estimates are unweighted;
    - ``sum``: the weights sum to less than 2/3 or more than 3/2 of the population aged 16+ of
      the kommuner present in the wave (of Denmark in a national wave) — calibration weights
      sum to that population (:data:`WEIGHT_SUM_RATIO`);
    - ``deff``: the pooled within-kommune Kish design effect (Kish 1965, §11.7: 1 + CV² of the
      weights) is outside :data:`DEFF_RANGE`.

    Parameters
    ----------
    respondents : the canonical respondent table (not modified).
    population_16plus : kommune code → population aged 16+.

    Returns
    -------
    DataFrame, one row per wave: ``year``, ``respondents``, ``kommuner``, ``weight_sum``,
    ``population_16plus``, ``sum_ratio``, ``deff_within`` (pooled Kish design effect within
    strata), ``weight_min``, ``weight_max``, ``problems`` (comma-separated: ``constant``,
    ``sum``, ``deff``; empty when none) and ``message`` (English, for ``analyse check``).
    """
    rows = []
    total = float(sum(population_16plus.values()))
    for wave, group in respondents.groupby(year, sort=True):
        w = group[weight].to_numpy(float)
        national = group[stratum].astype(str).str.endswith(national_suffix).all()
        present = group[kommune].unique()
        population = (
            total if national else float(sum(population_16plus.get(int(k), 0.0) for k in present))
        )
        sums = pd.DataFrame({"s": group[stratum].to_numpy(), "w": w, "w2": w * w})
        per = sums.groupby("s").agg(n=("w", "size"), sw=("w", "sum"), sw2=("w2", "sum"))
        deff_h = per["n"] * per["sw2"] / per["sw"] ** 2
        deff = float((per["n"] * deff_h).sum() / per["n"].sum())
        ratio = float(w.sum() / population) if population > 0 else np.nan
        constant = bool(w.max() <= w.min() * (1 + 1e-9))
        problems, notes = [], []
        if constant:
            problems.append("constant")
            notes.append(
                f"every weight is {_format_value(float(w[0]))}: the estimates of this wave are "
                "unweighted (no correction for who answers)"
            )
        if not WEIGHT_SUM_RATIO[0] <= ratio <= WEIGHT_SUM_RATIO[1]:
            problems.append("sum")
            notes.append(
                f"the weights sum to {w.sum():,.0f}, {ratio:.1%} of the population aged 16+ of "
                f"{'Denmark' if national else f'the {len(present)} kommuner present'} "
                f"({population:,.0f}); calibration weights sum to that population"
            )
        if not constant and not DEFF_RANGE[0] <= deff <= DEFF_RANGE[1]:
            problems.append("deff")
            notes.append(
                f"the design effect of the weights within kommuner is {deff:.3f}"
                + (
                    ": they do not vary within a kommune (design weights, not calibrated)"
                    if deff < DEFF_RANGE[0]
                    else ": a few respondents carry most of the weight"
                )
            )
        rows.append(
            {
                "year": int(wave),
                "respondents": len(group),
                "kommuner": len(present),
                "weight_sum": float(w.sum()),
                "population_16plus": population,
                "sum_ratio": ratio,
                "deff_within": deff,
                "weight_min": float(w.min()),
                "weight_max": float(w.max()),
                "problems": ",".join(problems),
                "message": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows)


# ================================================================================================
# The data-quality report
# ================================================================================================

# Soft problems: key → Danish description (what a reader of the quality report sees).
SOFT_PROBLEMS = {
    "implausible_value": "Usandsynlig værdi sat til manglende",
    "bmi_outside_range": "BMI uden for det plausible interval sat til manglende",
    "pss_too_many_missing": "For mange manglende PSS-spørgsmål (ingen stressscore)",
    "many_missing_items": "Over halvdelen af spørgsmålene ubesvaret",
    "not_asked_ignored": "Svar i en bølge, hvor spørgsmålet ikke blev stillet (ignoreret)",
    "stratum_differs": "Stratum afviger fra bopælskommunen",
    "unknown_column": "Ukendt kolonne (ikke i kodebogen)",
    "item_absent": "Spørgsmål stillet i bølgen, men ikke i filen",
    "label_mismatch": "Værdilabel i filen afviger fra kodebogen",
}


@dataclass
class DataQualityReport:
    """What the cleaning found, as tidy aggregate tables (no respondent-level rows).

    Attributes
    ----------
    files : one row per file read: ``file``, ``format``, ``sha256``, ``rows``, ``waves``,
        ``encoding``, ``separator``, ``decimal``, ``renamed`` and ``unknown_columns``.
    respondents : per ``year`` × ``kommune_code``: ``respondents``, ``weight_min``,
        ``weight_median``, ``weight_max``, ``weight_sum``.
    missingness : per ``year`` × ``kommune_code`` × ``variable`` (items present in the wave):
        ``respondents``, ``missing`` (after cleaning), ``missing_share``.
    missing_codes : per ``year`` × ``kommune_code`` × ``variable`` × ``code``: ``label``
        (e.g. "ved ikke") and ``count``.
    recodes : per ``year`` × ``kommune_code`` × ``recode`` × ``raw_code``: ``category`` and
        ``count`` (the raw codes behind each canonical category; missing shown as ``<NA>``).
    soft_problems : per ``year`` × ``kommune_code`` (NA for file-level problems) × ``problem``
        × ``variable``: ``count``, with ``description`` in Danish.
    availability : per ``year`` × ``variable``: ``asked`` (codebook) and ``present`` (file).
    label_mismatches : per ``file`` × ``variable`` × ``code``: ``file_label``,
        ``codebook_label``.
    weights : per ``year``: the plausibility of the weights (:func:`weight_checks`).
    """

    files: pd.DataFrame
    respondents: pd.DataFrame
    missingness: pd.DataFrame
    missing_codes: pd.DataFrame
    recodes: pd.DataFrame
    soft_problems: pd.DataFrame
    availability: pd.DataFrame
    label_mismatches: pd.DataFrame = field(default_factory=pd.DataFrame)
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)

    def weight_warnings(self) -> list[str]:
        """One line per wave whose weights do not look like calibration weights."""
        if self.weights.empty:
            return []
        flagged = self.weights[self.weights["problems"] != ""]
        return [f"{row.year}: {row.message}" for row in flagged.itertuples(index=False)]

    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by name (copies), e.g. for a notebook to show."""
        return {
            "files": self.files.copy(),
            "respondents": self.respondents.copy(),
            "missingness": self.missingness.copy(),
            "missing_codes": self.missing_codes.copy(),
            "recodes": self.recodes.copy(),
            "soft_problems": self.soft_problems.copy(),
            "availability": self.availability.copy(),
            "label_mismatches": self.label_mismatches.copy(),
            "weights": self.weights.copy(),
        }

    def by_wave(self) -> pd.DataFrame:
        """One row per wave: respondents, kommuner, weight sum, soft problems, "ved ikke" answers."""
        resp = self.respondents.groupby("year").agg(
            respondents=("respondents", "sum"),
            kommuner=("kommune_code", "nunique"),
            weight_sum=("weight_sum", "sum"),
        )
        soft = (
            self.soft_problems.dropna(subset=["year"])
            .groupby("year")["count"]
            .sum()
            .rename("soft_problems")
        )
        codes = self.missing_codes
        dont_know = (
            codes[codes["label"] == "ved ikke"].groupby("year")["count"].sum().rename("ved_ikke")
        )
        out = resp.join(soft).join(dont_know).fillna({"soft_problems": 0, "ved_ikke": 0})
        out[["soft_problems", "ved_ikke"]] = out[["soft_problems", "ved_ikke"]].astype("int64")
        out.index = out.index.astype("int64")
        return out.reset_index()

    def summary(self, kommuner: bool = True, max_kommuner: int | None = None) -> str:
        """A plain-text summary for the terminal: files, waves, problems, and per kommune."""
        lines = []
        for row in self.files.itertuples(index=False):
            extra = ""
            if row.format == "csv":
                extra = f", {row.encoding}, separator {row.separator!r}, decimal {row.decimal!r}"
            lines.append(
                f"File {row.file} ({row.format}{extra}): {row.rows:,} rows, waves {row.waves}, "
                f"sha256 {row.sha256[:12]}…"
            )
            if row.renamed:
                lines.append(f"  renamed: {row.renamed}")
            if row.unknown_columns:
                lines.append(f"  unknown columns (ignored): {row.unknown_columns}")
        lines.append("")
        lines.append(
            f"{'Wave':<6}{'Respondents':>13}{'Kommuner':>10}{'Soft problems':>15}{'Ved ikke':>10}"
        )
        for row in self.by_wave().itertuples(index=False):
            lines.append(
                f"{row.year:<6}{row.respondents:>13,}{row.kommuner:>10}"
                f"{row.soft_problems:>15,}{row.ved_ikke:>10,}"
            )
        soft = self.soft_problems
        if len(soft):
            lines.append("")
            lines.append("Soft problems (set missing or ignored, not fatal):")
            totals = soft.groupby(["problem", "variable"], dropna=False)["count"].sum()
            for (problem, variable), count in totals.items():
                lines.append(f"  {SOFT_PROBLEMS.get(problem, problem)}: {variable}: {count:,}")
        warnings = self.weight_warnings()
        if warnings:
            lines.append("")
            lines.append(
                "WARNING: weights that do not look like calibration weights (estimates are made "
                "with them as delivered; the briefs say so):"
            )
            lines += [f"  {line}" for line in warnings]
        absent = self.availability[self.availability["asked"] & ~self.availability["present"]]
        if len(absent):
            lines.append("")
            lines.append(
                "Items asked in a wave but absent from its file (derived indicators missing):"
            )
            for year, group in absent.groupby("year"):
                lines.append(f"  {year}: {', '.join(group['variable'])}")
        if kommuner:
            lines.append("")
            lines.append(
                f"{'Wave':<6}{'Kommune':>8}{'Resp.':>8}{'Weight min':>12}{'median':>10}"
                f"{'max':>10}{'sum':>12}{'Soft':>7}"
            )
            per_kommune = self.soft_problems.dropna(subset=["kommune_code"])
            soft_k = per_kommune.groupby(["year", "kommune_code"])["count"].sum()
            table = self.respondents
            if max_kommuner is not None:
                table = table.groupby("year").head(max_kommuner)
            for row in table.itertuples(index=False):
                n_soft = int(soft_k.get((row.year, row.kommune_code), 0))
                lines.append(
                    f"{row.year:<6}{row.kommune_code:>8}{row.respondents:>8,}"
                    f"{row.weight_min:>12.1f}{row.weight_median:>10.1f}{row.weight_max:>10.1f}"
                    f"{row.weight_sum:>12,.0f}{n_soft:>7,}"
                )
        return "\n".join(lines)
