"""The disclosure audit: what an attacker can recover from everything that was published.

``analyse audit DIR`` re-reads what a run published — the processed tables an epidemiologist
would share (``data/processed``, without ``internal/``) and, for a run folder, the CSV exports of
the briefs — and attacks it:

* **linear programming** (:func:`analyse.stats.protection.audit`): every relation between the
  published cells (:func:`analyse.cube.protection.relations`: groups → total, crossed margins,
  kommuner → sundhedsklynge and region, regions → Denmark, twin indicators), every shown value as
  the interval its rounding leaves, every hidden share in 0–1. For each primary-suppressed cell
  the attacker's minimum and maximum must leave its protection interval open (± the protection
  width around the true share; register cells ± half the count rounding base in persons). The
  relation families are attacked one at a time and all together, so the report says which
  family would expose a cell;
* **precision**: every published share, interval limit and difference is on the grid of the
  precision shown (0.1 percentage point), every count is a multiple of the rounding base, no
  exact count (``cases``) is in any published table, and a hidden cell carries no value;
* **count recovery**: no register denominator can be recovered from a shown rate and its
  standard error (n = p(1 − p)/se²) beyond the published, rounded count;
* **exports**: every exported number is rounded as shown and every count is rounded.

The true values come from the internal table ``internal/protection_cells.parquet`` the build
writes for this purpose (never published). A run with an exposed cell or a failed check fails
like a leak (:mod:`analyse.run.batch`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analyse.cube import build as cube_build
from analyse.cube import protection
from analyse.errors import ParameterError
from analyse.stats import disclosure

#: Published tables whose share columns must be on the grid.
_GRID_TOLERANCE = 1e-9
#: The shared tables whose shares are published at 0.1 percentage point, and those columns.
_SHARES = ("estimate", "ci_low", "ci_high")
_GRID_COLUMNS = {
    "estimates.parquet": _SHARES,
    "register.parquet": _SHARES,
    "klynge_comparisons.parquet": ("diff", "ci_low", "ci_high"),
    "inequality.parquet": ("d", "d_ci_low", "d_ci_high", "sii", "sii_ci_low", "sii_ci_high"),
}
_GRID_TABLES = tuple(_GRID_COLUMNS)
#: Every numeric column a shared table may carry (estimates, their intervals and tests, rounded
#: counts, model and status figures). A numeric column outside this list is reported: it may be
#: an internal quantity that leaks (e.g. the linearisation sums w, wy, cA … of the estimator,
#: from which exact weighted totals follow). A new published column is added here on purpose.
PUBLISHED_NUMERIC = frozenset(
    {
        "abs_sii_change",
        "abs_sii_change_ci_high",
        "abs_sii_change_ci_low",
        "abs_sii_change_p",
        "aci",
        "aci_ci_high",
        "aci_ci_low",
        "aci_se",
        "alpha",
        "annual_change_ci_high_pp",
        "annual_change_ci_low_pp",
        "annual_change_p_value",
        "annual_change_pp",
        "annual_change_se_pp",
        "baseline",
        "baseline_estimate",
        "between_wave_sd_logit",
        "bgv",
        "bgv_ci_high",
        "bgv_ci_low",
        "bgv_se",
        "change_pp",
        "ci_high",
        "ci_high_pp",
        "ci_low",
        "ci_low_pp",
        "d",
        "d_ci_high",
        "d_ci_low",
        "d_se",
        "df",
        "diff",
        "direct_cv",
        "estimate",
        "estimate_from",
        "estimate_to",
        "forecast_df",
        "interaction",
        "interaction_p",
        "interaction_se",
        "kommuner",
        "kommuner_fitted",
        "kommuner_present",
        "kommuner_total",
        "latest",
        "level",
        "log_odds_se",
        "log_odds_slope",
        "n",
        "n_baseline",
        "n_from",
        "n_groups",
        "n_latest",
        "n_to",
        "n_waves",
        "nonlinearity_df1",
        "nonlinearity_df2",
        "nonlinearity_p_value",
        "nonlinearity_stat",
        "odds_ratio",
        "or_ci_high",
        "or_ci_low",
        "p",
        "p0",
        "p1",
        "p_value",
        "paf",
        "paf_ci_high",
        "paf_ci_low",
        "paf_se",
        "par",
        "par_ci_high",
        "par_ci_low",
        "par_persons",
        "par_persons_ci_high",
        "par_persons_ci_low",
        "par_se",
        "pct_change_from_baseline",
        "pct_targeted_change",
        "population",
        "prevalence",
        "prevalence_se",
        "prob_desired_side",
        "projected",
        "projected_pi80_high",
        "projected_pi80_low",
        "projected_pi_high",
        "projected_pi_low",
        "projected_se",
        "projection_year",
        "r",
        "r_ci_high",
        "r_ci_low",
        "rci",
        "rci_ci_high",
        "rci_ci_low",
        "rci_se",
        "respondents",
        "rii",
        "rii_ci_high",
        "rii_ci_low",
        "rii_linear",
        "rii_log_se",
        "sdg_ratio",
        "se",
        "se_baseline",
        "se_from",
        "se_latest",
        "se_pp",
        "se_to",
        "sii",
        "sii_baseline",
        "sii_change",
        "sii_change_ci_high",
        "sii_change_ci_low",
        "sii_change_se",
        "sii_ci_high",
        "sii_ci_low",
        "sii_latest",
        "sii_linear",
        "sii_linear_ci_high",
        "sii_linear_ci_low",
        "sii_linear_se",
        "sii_se",
        "slope_p_value",
        "soft_problems",
        "target",
        "target_year",
        "trend_interaction",
        "trend_interaction_p",
        "trend_interaction_se",
        "trend_se_logit",
        "ved_ikke",
        "vs_land_ci_high",
        "vs_land_ci_low",
        "vs_land_diff",
        "vs_land_p",
        "vs_region_ci_high",
        "vs_region_ci_low",
        "vs_region_diff",
        "vs_region_p",
        "weight_sum",
        "weighted_n",
        "year",
        "year_from",
        "year_to",
        "z",
    }
)
_FAMILY_NAMES = {
    "groups": "grupper → i alt",
    "crossed": "køn × alder → marginer",
    "areas": "kommuner → klynge/region → land",
    "twins": "tvillingindikatorer",
    "all": "alle relationer samtidig",
}


@dataclass
class AuditReport:
    """What :func:`audit` found."""

    processed: Path
    families: pd.DataFrame  # family, relations, targets, exposed
    checks: pd.DataFrame  # check, problems, example
    seconds: float
    details: dict = field(default_factory=dict)

    @property
    def exposed(self) -> int:
        row = self.families[self.families["family"] == "all"]
        return int(row["exposed"].iloc[0]) if len(row) else 0

    @property
    def ok(self) -> bool:
        return bool((self.families["exposed"] == 0).all() and (self.checks["problems"] == 0).all())

    def text(self) -> str:
        lines = [f"Diskretioneringsrevision af {self.processed} ({self.seconds:.1f} s)"]
        lines.append(
            f"  {'relationsfamilie':<36} {'relationer':>10} {'primære':>8} {'afsløret':>9}"
        )
        for row in self.families.itertuples():
            lines.append(
                f"  {_FAMILY_NAMES.get(row.family, row.family):<36} {row.relations:>10} "
                f"{row.targets:>8} {row.exposed:>9}"
            )
        for row in self.checks.itertuples():
            mark = "ok" if row.problems == 0 else f"{row.problems} FEJL, fx {row.example}"
            lines.append(f"  {row.check}: {mark}")
        lines.append("  Resultat: " + ("bestået" if self.ok else "IKKE bestået"))
        return "\n".join(lines)


#: The attack's verdict per state of the tables (``attack="auto"``), in ``internal/``.
AUDIT_CACHE = "audit.json"


def _tables_digest(manifest: dict) -> str | None:
    """One checksum over the build's table checksums (None: the manifest has none)."""
    tables = manifest.get("tables")
    if not tables:
        return None
    text = json.dumps(sorted(tables.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cached_families(cache: Path, digest: str | None) -> pd.DataFrame | None:
    """The attack's families table kept for exactly these tables, else None."""
    if digest is None or not cache.is_file():
        return None
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if kept.get("tables") != digest or not kept.get("families"):
        return None
    return pd.DataFrame(kept["families"])


def _check_unchanged(processed: Path, manifest: dict) -> dict:
    """The processed tables are byte for byte those the build recorded (and audited)."""
    changed = [
        name
        for name, checksum in manifest.get("tables", {}).items()
        if not (processed / name).is_file() or cube_build.file_sha256(processed / name) != checksum
    ]
    return {
        "check": "tabellerne er dem, bygningen reviderede",
        "problems": len(changed),
        "example": ", ".join(changed[:3]),
    }


def _find_processed(path: Path, processed: Path | None) -> Path:
    if processed is not None:
        return processed
    if (path / cube_build.MANIFEST).exists() and (path / cube_build.INTERNAL_DIR).exists():
        return path
    return Path("data/processed")


def audit(
    path: str | Path,
    *,
    processed: str | Path | None = None,
    families: bool = True,
    rules: disclosure.Rules | None = None,
    hierarchy: pd.DataFrame | None = None,
    attack: bool | str = True,
) -> AuditReport:
    """Attack everything published in ``path`` (a processed folder or a run folder).

    Parameters
    ----------
    path : a processed folder (with ``manifest.json`` and ``internal/``) or a run folder
        (``reports/`` or one agreement's folder) whose exports are checked too.
    processed : the processed folder of the run (default: ``path`` if it is one, else
        ``data/processed``).
    families : also attack each relation family on its own (slower; says which family exposes).
    rules : the disclosure rules (default: the build manifest's).
    hierarchy : area links (default: :func:`analyse.reference.geography.area_hierarchy`).
    attack : run the LP attack (default). False: the checks of precision, counts, hidden
        values and exports only, with the LP verdict the build recorded for exactly these tables
        (its manifest's ``protection``; the tables' checksums are verified against the
        manifest, so a changed table is caught). ``"auto"`` (the batch after rendering): the
        attack's own verdict for these tables — run once per state of the tables and kept in
        ``internal/audit.json`` under their checksums, so a batch that re-renders some areas
        does not pay it again; a build whose protection was skipped (the tests' stub) gets the
        checks only.

    Raises
    ------
    ParameterError
        The folder or the internal cell table is missing.
    """
    from analyse.stats import protection as lp

    start = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"{path}: no such folder to audit")
    processed = _find_processed(path, Path(processed) if processed is not None else None)
    internal = processed / cube_build.INTERNAL_DIR / cube_build.INTERNAL_CELLS
    if not internal.exists():
        raise ParameterError(
            f"{internal}: the internal cell table is missing; rebuild the processed data with "
            "this version (`analyse build --force`)"
        )
    manifest = cube_build.read_manifest(processed) or {}
    if rules is None:
        known = {
            k: v
            for k, v in manifest.get("rules", {}).items()
            if k in disclosure.Rules.__dataclass_fields__
        }
        rules = disclosure.Rules(**known)
    cells = pd.read_parquet(internal)
    published = _published_cells(processed, cells)
    checks = [
        _check_values_of_hidden(published),
        *_check_tables(processed, rules),
        _check_register_counts(processed, rules),
    ]
    if path != processed:
        checks.append(_check_exports(path, rules))

    cache = processed / cube_build.INTERNAL_DIR / AUDIT_CACHE
    digest = _tables_digest(manifest)
    if attack == "auto":
        cached = _cached_families(cache, digest)
        if cached is not None:
            checks.append(_check_unchanged(processed, manifest))
            return AuditReport(
                processed, cached, pd.DataFrame(checks), round(time.perf_counter() - start, 1)
            )
        attack = not manifest.get("protection", {}).get("skipped", False)
    if not attack:
        record = manifest.get("protection", {})
        check = _check_unchanged(processed, manifest)
        if not record:
            check = {**check, "problems": check["problems"] + 1}
            check["example"] = check["example"] or "ingen revision i manifestet"
        checks.append(check)
        families_table = pd.DataFrame(
            [
                {
                    "family": "all",
                    "relations": int(record.get("relations", 0)),
                    "targets": int(record.get("primary", 0)),
                    "exposed": int(record.get("exposed", 0)),
                }
            ]
        )
        return AuditReport(
            processed, families_table, pd.DataFrame(checks), round(time.perf_counter() - start, 1)
        )
    problem = protection.relations(cells.drop(columns=["hidden"], errors="ignore"), hierarchy)
    frame = problem.frame
    m, n_cells = len(frame), len(cells)
    true = protection.remainder_values(problem)
    hidden = np.ones(m, dtype=bool)
    hidden[:n_cells] = published["suppressed"].to_numpy(bool)
    shown_value = np.zeros(m)
    shown_value[:n_cells] = np.nan_to_num(published["estimate"].to_numpy(float))
    # A shown value its cell's true value does not round to: the tables and the internal cell
    # table disagree (a stale or edited table). Reported, and the true rounding used instead.
    off = ~hidden & (
        np.abs(shown_value - np.nan_to_num(true)) > protection.ROUNDING_HALF_WIDTH + 1e-9
    )
    off[n_cells:] = False
    checks.append(
        {
            "check": "viste tal svarer til de beregnede",
            "problems": int(off.sum()),
            "example": _example(published[off[:n_cells]]),
        }
    )
    shown_value[off] = np.round(true[off], protection.PUBLISHED_DECIMALS)
    shown_lower = np.clip(shown_value - protection.ROUNDING_HALF_WIDTH, 0, 1)
    shown_upper = np.clip(shown_value + protection.ROUNDING_HALF_WIDTH, 0, 1)
    primary = np.zeros(m, dtype=bool)
    primary[:n_cells] = cells["primary"].to_numpy(bool)
    need = np.where(primary & hidden, frame["protect"].to_numpy(float), 0.0)
    zeros, ones = np.zeros(m), np.ones(m)
    lower, upper = lp.bounds(hidden, shown_lower, shown_upper, zeros, ones)
    # A shown primary cell is itself a failure of the per-table rules.
    shown_primary = int((primary & ~hidden).sum())
    checks.append(
        {
            "check": "primært skjulte celler er skjult",
            "problems": shown_primary,
            "example": _example(published[(primary & ~hidden)[:n_cells]]),
        }
    )
    block_of = protection.blocks(frame)
    certify = protection.hypercube_certifier(problem, hierarchy)
    rows = []
    subsets = [*sorted(set(problem.families)), "all"] if families else ["all"]
    worst = None
    for family in subsets:
        keep = np.ones(problem.relations.shape[0], bool)
        if family != "all":
            keep = problem.families == family
        relations = problem.relations[np.flatnonzero(keep)]
        result = lp.audit(
            true, lower, upper, relations, hidden, need, need, zeros, ones,
            exact=False, blocks=block_of,
            certify=certify,
        )  # fmt: skip
        exposed = int(result["exposed"].sum()) if len(result) else 0
        rows.append(
            {
                "family": family,
                "relations": int(keep.sum()),
                "targets": int(len(result)),
                "exposed": exposed,
            }
        )
        if family == "all":
            worst = result
    families_table = pd.DataFrame(rows)
    if digest is not None and not _check_unchanged(processed, manifest)["problems"]:
        cache.write_text(
            json.dumps({"tables": digest, "families": rows}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    details = {}
    if worst is not None and len(worst) and worst["exposed"].any():
        bad = worst[worst["exposed"]].head(10)
        details["exposed_examples"] = frame.iloc[bad["cell"].to_numpy()].assign(
            attacker_min=bad["attacker_min"].to_numpy(), attacker_max=bad["attacker_max"].to_numpy()
        )
    return AuditReport(
        processed,
        families_table,
        pd.DataFrame(checks),
        round(time.perf_counter() - start, 1),
        details,
    )


def _example(rows: pd.DataFrame) -> str:
    if rows.empty:
        return ""
    row = rows.iloc[0]
    return " × ".join(str(row[c]) for c in protection.CELL_KEYS if c in row.index)


def _published_cells(processed: Path, cells: pd.DataFrame) -> pd.DataFrame:
    """The published row of every internal cell (same order), from the shared tables."""
    pieces = []
    for source, name in (("survey", "estimates"), ("register", "register")):
        table = pd.read_parquet(cube_build.table_path(processed, name))
        pieces.append(table.assign(source=source, area_code=table["area_code"].astype(str)))
    published = pd.concat(pieces, ignore_index=True)
    keys = ["source", *protection.CELL_KEYS]
    probe = cells[keys].astype({"area_code": str})
    merged = probe.merge(published, on=keys, how="left", indicator=True)
    missing = merged["_merge"] != "both"
    if missing.any() or len(merged) != len(cells):
        raise ParameterError(
            f"{processed}: {int(missing.sum())} cells of the internal table are not in the "
            "published tables (or appear twice); the processed folder is inconsistent — rebuild "
            f"it (first: {_example(merged[missing])})"
        )
    return merged


def _check_values_of_hidden(published: pd.DataFrame) -> dict:
    hidden = published["suppressed"].to_numpy(bool)
    columns = [c for c in ("estimate", "se", "ci_low", "ci_high") if c in published.columns]
    carries = hidden & published[columns].notna().any(axis=1).to_numpy()
    return {
        "check": "skjulte celler har ingen værdi",
        "problems": int(carries.sum()),
        "example": _example(published[carries]),
    }


def _published_tables(processed: Path):
    for path in sorted(processed.rglob("*.parquet")):
        if cube_build.INTERNAL_DIR in path.relative_to(processed).parts:
            continue
        yield path, pd.read_parquet(path)


def _check_tables(processed: Path, rules: disclosure.Rules) -> list[dict]:
    exact, grid, counts, unknown = [], [], [], []
    for path, table in _published_tables(processed):
        name = str(path.relative_to(processed))
        if "cases" in table.columns:
            exact.append(name)
        for column in table.columns:
            dtype = table[column].dtype
            if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
                continue
            if column not in PUBLISHED_NUMERIC:
                unknown.append(f"{name}:{column}")
            values = pd.to_numeric(table[column], errors="coerce")
            values = values.astype("float64").to_numpy()
            finite = values[np.isfinite(values)]
            if not finite.size:
                continue
            if name in _GRID_TABLES and column in _GRID_COLUMNS.get(name, ()) + (
                tuple(
                    c
                    for c in table.columns
                    if c.startswith(("vs_region_", "vs_land_")) and not c.endswith("_p")
                )
            ):
                off = (
                    np.abs(
                        finite * 10**protection.PUBLISHED_DECIMALS
                        - np.round(finite * 10**protection.PUBLISHED_DECIMALS)
                    )
                    > 1e-6
                )
                if off.any():
                    grid.append(f"{name}:{column} ({int(off.sum())})")
            if column in protection.COUNT_COLUMNS:
                off = np.abs(finite / rules.count_base - np.round(finite / rules.count_base)) > 1e-9
                if off.any():
                    counts.append(f"{name}:{column} ({int(off.sum())})")
    return [
        {
            "check": "ingen eksakte antal (cases) i delte tabeller",
            "problems": len(exact),
            "example": ", ".join(exact[:3]),
        },
        {
            "check": "kun kendte talkolonner i delte tabeller",
            "problems": len(unknown),
            "example": ", ".join(unknown[:3]),
        },
        {
            "check": "andele afrundet til 0,1 procentpoint",
            "problems": len(grid),
            "example": ", ".join(grid[:3]),
        },
        {
            "check": f"antal afrundet til {rules.count_base}",
            "problems": len(counts),
            "example": ", ".join(counts[:3]),
        },
    ]


def _check_register_counts(processed: Path, rules: disclosure.Rules) -> dict:
    """No exact register denominator behind a shown rate and its standard error."""
    table = pd.read_parquet(cube_build.table_path(processed, "register"))
    shown = table[~table["suppressed"].astype(bool)]
    problems = 0
    example = ""
    if "se" in shown.columns and len(shown):
        p = shown["estimate"].to_numpy(float)
        se = shown["se"].to_numpy(float)
        n = pd.to_numeric(shown["n"]).astype(float).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            implied = p * (1 - p) / se**2
        exact = np.isfinite(implied) & (np.abs(implied - np.round(implied)) < 0.01)
        differs = (
            exact
            & (np.abs(np.round(implied) - n) >= 1)
            & (np.round(implied) % rules.count_base != 0)
        )
        problems = int(differs.sum())
        if problems:
            example = _example(shown[differs])
    return {
        "check": "ingen eksakte nævnere i registertal",
        "problems": problems,
        "example": example,
    }


def _check_exports(path: Path, rules: disclosure.Rules) -> dict:
    """Every exported number as shown (one decimal) and every count rounded."""
    problems, example = 0, ""
    for csv in sorted(path.rglob("*.csv")):
        table = pd.read_csv(csv, sep=";", dtype=str, encoding="utf-8-sig")
        for column in ("Værdi", "Nedre grænse", "Øvre grænse"):
            if column not in table.columns:
                continue
            text = table[column].dropna().astype(str)
            text = text[text.str.match(r"^-?\d")]
            bad = text[text.str.contains(r",\d{2,}")]
            problems += len(bad)
            if len(bad) and not example:
                example = f"{csv.name}: {column} = {bad.iloc[0]}"
        column = "Antal svar (afrundet)"
        if column in table.columns:
            values = pd.to_numeric(table[column].str.replace(".", "", regex=False), errors="coerce")
            bad = values.dropna() % rules.count_base != 0
            problems += int(bad.sum())
            if bad.any() and not example:
                example = f"{csv.name}: {column}"
    return {"check": "eksporter afrundet som vist", "problems": problems, "example": example}
