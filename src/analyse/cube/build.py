"""Build the processed data (the "cube") from a raw delivery, once per data and code version.

``build_processed`` reads the raw delivery, cleans and validates it, and writes every table the
notebooks and briefs read to ``data/processed/``. The estimates are computed **once for all
agreements** of the build (every shipped agreement, plus the user's own): an indicator id means
the same in every agreement, so each indicator × wave × area cell is estimated once. What depends
on an agreement (its baseline, period and so its changes, status and projections) is computed
once per distinct baseline and period and written per agreement:

==================================  ==========================================================
``estimates.parquet``               survey indicator × wave × area × breakdown (suppressed)
``model_estimates.parquet``         model-based (Fay–Herriot) companion estimates per kommune
                                    cell, from the published estimates only
                                    (:mod:`analyse.cube.smallarea`)
``klynge_comparisons.parquet``      each kommune against the rest of its sundhedsklynge
``inequality.parquet``              education and labour-market inequality per cell
``register.parquet``                register indicators per year × area × breakdown (suppressed)
``quality.parquet``                 data-quality aggregates per wave × kommune (no microdata)
``coverage.parquet``                per source, wave and area: kommuner in the delivery, and
                                    whether the area is covered (only covered areas are
                                    estimated or compared with)
``agreements/<id>/changes.parquet`` changes between waves and from the agreement's baseline
``agreements/<id>/status.parquet``  direction status (bedre/uændret/dårligere/kan ikke vurderes)
                                    with the Healthy People 2030 and SDG progress categories
                                    (the agreement's targets)
``agreements/<id>/trends.parquet``  trend model per indicator × area; projection to the end of
                                    the agreement from the pooled forecast across all areas of
                                    a level
``agreements/<id>/gap_change``      whether the education gap narrows since the baseline
``agreements/<id>/register_*``      changes, status (with progress) and trends of the register
                                    indicators
``agreements/<id>/activity_status`` the klynge activity status of the agreement
``manifest.json``                   input checksums, agreements, code version, codebook, rules,
                                    weight warnings, coverage, timings, row counts
==================================  ==========================================================

The cache key is the SHA-256 of every raw file, the code (all package files), the agreements
(a user's agreement file by its content), the codebook (its files, including what it extends)
and the options; when it matches the manifest and every table file still has the SHA-256 the
manifest records for it (``tables``), nothing is recomputed. Every column of every
table is described in ``docs/data_dictionary.md``. Files are written atomically (temporary
file, then rename), so an interrupted build never leaves a half-written table behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

import analyse
from analyse.errors import DataValidationError, ParameterError
from analyse.reference import catalogue
from analyse.stats import disclosure

MANIFEST = "manifest.json"
SYNTHETIC_MARKER = "SYNTETISKE_DATA.json"
REGISTER_FILE = "registerdata.csv"
STATUS_FILE = "klyngestatus.csv"
#: Tables computed once for all agreements (top level of the processed folder).
SHARED_TABLES = (
    "estimates",
    "model_estimates",
    "klynge_comparisons",
    "inequality",
    "register",
    "quality",
    "coverage",
)
#: Tables of one agreement (``agreements/<id>/``).
AGREEMENT_TABLES = (
    "changes",
    "status",
    "trends",
    "gap_change",
    "register_changes",
    "register_status",
    "register_trends",
    "activity_status",
)
TABLES = SHARED_TABLES + AGREEMENT_TABLES
AGREEMENT_DIR = "agreements"
#: Internal tables (full precision, never published or shared): ``internal/``.
INTERNAL_DIR = "internal"
#: Every published cell's true value, weight and primary flag, for ``analyse audit``.
INTERNAL_CELLS = "protection_cells.parquet"


@dataclass
class BuildResult:
    """What :func:`build_processed` did."""

    processed: Path
    reused: bool
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)

    def path(self, table: str, agreement: str | None = None) -> Path:
        """Path of a table; an agreement's table needs the agreement id (default: the default
        agreement, Region Syddanmark's, if the build has it, else the build's first)."""
        built = [record["id"] for record in self.manifest["agreements"]]
        default = catalogue.DEFAULT_AGREEMENT if catalogue.DEFAULT_AGREEMENT in built else built[0]
        return table_path(self.processed, table, agreement or default)


def table_path(processed: str | Path, table: str, agreement_id: str | None = None) -> Path:
    """Where a processed table lives: shared tables at the top, an agreement's in its folder.

    Raises
    ------
    ParameterError
        An unknown table, or an agreement table without an agreement id.
    """
    processed = Path(processed)
    if table in SHARED_TABLES:
        return processed / f"{table}.parquet"
    if table not in AGREEMENT_TABLES:
        raise ParameterError(f"unknown processed table {table!r}; tables: {', '.join(TABLES)}")
    if not agreement_id:
        raise ParameterError(f"the table {table!r} belongs to an agreement: give its id")
    return processed / AGREEMENT_DIR / agreement_id / f"{table}.parquet"


def code_version() -> str:
    """Package version plus a hash of every file of the installed package (code, YAML, CSV)."""
    root = Path(str(files("analyse")))
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if (
            path.is_file()
            and path.suffix in (".py", ".yml", ".csv")
            and "__pycache__" not in path.parts
        ):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{analyse.__version__}+{digest.hexdigest()[:12]}"


def input_checksums(raw: Path) -> dict[str, str]:
    """SHA-256 of every file in the raw delivery (READMEs and hidden files excluded)."""
    if not raw.is_dir():
        raise DataValidationError("the raw data folder does not exist", file=str(raw))
    out = {}
    for path in sorted(raw.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.name != "README.md":
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            out[path.name] = digest.hexdigest()
    return out


def is_synthetic(raw: Path) -> bool:
    return (raw / SYNTHETIC_MARKER).exists()


def _cache_key(
    checksums: dict,
    version: str,
    agreements: list,
    rules: disclosure.Rules,
    codebook: str = "",
) -> str:
    payload = json.dumps(
        {
            "inputs": checksums,
            "code": version,
            "agreements": agreements,
            "rules": rules.as_dict(),
            "codebook": codebook,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def build_agreements(agreement: str | Path | None = None) -> list[str | Path]:
    """The agreements a build covers: every shipped agreement, plus ``agreement`` when it is
    the path of the user's own file (a shipped id is already among them)."""
    chosen: list[str | Path] = list(catalogue.list_agreements())
    if agreement is not None and catalogue.is_path(agreement):
        chosen.append(Path(agreement))
    elif agreement is not None and str(agreement) not in chosen:
        catalogue.load_agreement(agreement)  # raises the "unknown agreement" message
    return chosen


def _agreement_record(agreement: catalogue.Agreement) -> dict:
    """How the manifest (and the cache key) names an agreement: id, title and, for a user's
    file, its path and the SHA-256 of its content."""
    record = {"id": agreement.id, "title": agreement.title}
    if agreement.path and Path(agreement.path).parent != catalogue.agreement_dir():
        record["path"] = agreement.path
        record["sha256"] = hashlib.sha256(Path(agreement.path).read_bytes()).hexdigest()
    return record


def read_manifest(processed: Path) -> dict | None:
    path = processed / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def _write_atomic_parquet(table: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(path)


def _write_atomic_text(text: str, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def build_processed(
    raw: str | Path = "data/raw",
    processed: str | Path = "data/processed",
    *,
    agreements: list[str | Path] | None = None,
    agreement_id: str | Path | None = None,
    rules: disclosure.Rules | None = None,
    codebook: str | Path | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> BuildResult:
    """Clean the raw delivery and compute every processed table, or reuse them if unchanged.

    Parameters
    ----------
    raw, processed : the delivery (read only) and the folder of the processed tables.
    agreements : ids of shipped agreements and paths of users' agreement files; default
        :func:`build_agreements` (every shipped agreement, plus ``agreement_id`` if it is a path).
    agreement_id : one agreement to make sure of (an id or a path), added to the default set.
    rules : disclosure rules.
    codebook : the user's codebook YAML (None: the shipped one); part of the cache key and
        recorded in the manifest.
    force, progress : rebuild even when unchanged; progress messages.
    workers : processes for the linked protection (its tables are independent problems; the
        result does not depend on the number). More than 1 starts "spawn" processes, which
        re-import the calling script: call from under ``if __name__ == "__main__":`` (the
        ``analyse`` command does).

    Only areas the delivery covers are estimated (:mod:`analyse.cube.coverage`); weights that do
    not look like calibration weights are recorded in the manifest (``weights``) and the
    briefs say so. Changes, status (with the Healthy People 2030 and SDG assessments against the
    agreement's own targets) and the forecast-based trends are computed per agreement (once per
    distinct baseline and period) from the covered, published estimates.

    Raises
    ------
    DataValidationError
        From the cleaning and validation of the raw files (naming file, column, rule and rows),
        from reading the codebook, or from an agreement file.
    ParameterError
        Unknown agreement; two agreements with the same id; an indicator id defined
        differently in two agreements.
    """
    from analyse.data.codebook import load_codebook

    raw, processed = Path(raw), Path(processed)
    rules = rules or disclosure.Rules()
    if workers < 1:
        raise ParameterError(f"workers must be at least 1, got {workers}")
    say = progress or (lambda _message: None)
    chosen = agreements if agreements is not None else build_agreements(agreement_id)
    loaded = catalogue.load_agreements(chosen)
    union = catalogue.combine(loaded)  # checks that every id means the same everywhere
    if not union.indicators_by_source("survey"):
        raise ParameterError(
            "the build needs at least one Sundhedsprofil indicator among its agreements "
            f"({', '.join(a.id for a in loaded)}); add a shipped agreement"
        )
    records = [_agreement_record(a) for a in loaded]
    checksums = input_checksums(raw)
    version = code_version()
    book = load_codebook(codebook)
    key = _cache_key(checksums, version, records, rules, book.sha256)
    manifest = read_manifest(processed)
    if (
        not force
        and manifest is not None
        and manifest.get("cache_key") == key
        and all(table_path(processed, t, a.id).exists() for t in TABLES for a in loaded)
    ):
        changed = _changed_table(processed, manifest)
        if changed is None:
            say(f"Genbruger de beregnede tabeller i {processed} (uændrede data, aftaler og kode).")
            return BuildResult(processed, True, manifest)
        say(changed)

    from analyse.cube import changes, coverage, estimates, inequality, protection, register, trends
    from analyse.cube import progress as progress_assessment
    from analyse.data import clean
    from analyse.data import register as register_data

    timings: dict[str, float] = {}

    def step(name: str, label: str, function):
        say(f"- {label} ...")
        start = time.perf_counter()
        value = function()
        timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 2)
        say(f"  {label}: {time.perf_counter() - start:.1f} s")
        return value

    say(
        f"Aftaler: {', '.join(a.id for a in loaded)} ({len(union.indicators)} indikatorer, "
        "beregnet én gang)"
    )
    respondents, report = step(
        "clean",
        "indlæser og renser surveydata",
        lambda: _load_survey(raw, book, codebook, manifest),
    )
    for warning in report.weight_warnings():
        say(f"  ADVARSEL om vægtene: {warning}")
    national = respondents["stratum"].str.endswith(f"-{clean.NATIONAL_STRATUM}")
    survey_coverage = coverage.coverage_table(
        respondents, national_years=set(respondents.loc[national, "year"].astype(int))
    )
    shared: dict[str, pd.DataFrame] = {}
    survey_raw = step(
        "estimates",
        "estimater for alle indikatorer, bølger og områder",
        lambda: estimates.published_rows(
            coverage.restrict(
                estimates.build(respondents, union, rules=rules, suppress=False), survey_coverage
            )
        ),
    )
    register_table = register_data.read_register(raw / REGISTER_FILE, union)
    register_coverage = coverage.coverage_table(register_table, source="register")
    register_raw = step(
        "register",
        "registerindikatorer",
        lambda: coverage.restrict(
            register.register_estimates(register_table, rules=rules, suppress=False),
            register_coverage,
            "register",
        ),
    )
    published, protection_record, internal_cells = step(
        "protection",
        "diskretionering på tværs af alle tabeller (lineær programmering)",
        lambda: _protect(
            survey_raw,
            register_raw,
            register_table,
            register_coverage,
            rules,
            {i.id: i.variable for i in union.indicators_by_source("survey")},
            workers,
        ),
    )
    say(
        f"  {protection_record['primary']} primært skjulte celler, "
        f"{protection_record['hidden_by_linked_protection']} skjult ekstra på tværs af tabellerne, "
        f"{protection_record['exposed']} afsløret"
    )
    shared["estimates"] = published["estimates"]
    shared["model_estimates"] = step(
        "model_estimates",
        "modelbaserede skøn for små grupper",
        lambda: _model_estimates(raw, shared["estimates"], union, loaded, rules),
    )
    shared["klynge_comparisons"] = step(
        "klynge_comparisons",
        "kommunerne mod resten af deres sundhedsklynge",
        lambda: protection.round_published(
            protection.hide_klynge_comparisons(
                coverage.restrict_comparisons(
                    estimates.klynge_comparisons(
                        respondents, union, shared["estimates"], rules=rules
                    ),
                    survey_coverage,
                ),
                shared["estimates"],
            ),
            rules,
        ),
    )
    shared["inequality"] = step(
        "inequality",
        "social ulighed",
        lambda: protection.round_published(
            protection.withhold_inequality(
                coverage.restrict(
                    inequality.inequality_for_cube(respondents, union, rules=rules),
                    survey_coverage,
                ),
                shared["estimates"],
            ),
            rules,
        ),
    )
    shared["register"] = published["register"]
    shared["quality"] = report.by_wave()
    shared["coverage"] = pd.concat([survey_coverage, register_coverage], ignore_index=True)

    # What depends on an agreement's baseline and period: once per distinct baseline and period.
    per_agreement: dict[str, dict[str, pd.DataFrame]] = {}
    groups: dict[tuple[int, int, int], list[catalogue.Agreement]] = {}
    for agreement in loaded:
        timing = (agreement.baseline_wave, agreement.period_start, agreement.period_end)
        groups.setdefault(timing, []).append(agreement)
    for members in groups.values():
        group = catalogue.combine(members)
        tables = {}
        survey_cells = shared["estimates"][shared["estimates"]["indicator"].isin(group.indicators)]
        register_cells = shared["register"][shared["register"]["indicator"].isin(group.indicators)]
        if survey_cells.empty:  # e.g. KL's vision: register indicators only
            for name in ("changes", "status", "trends", "gap_change"):
                tables[name] = _empty_table()
        else:
            tables["changes"] = changes.wave_changes(survey_cells, group)
            tables["status"] = changes.status(tables["changes"], group)
            tables["trends"] = step(
                "trends",
                f"udviklingsmodeller og fremskrivning til {group.period_end}",
                lambda group=group, cells=survey_cells: coverage.restrict_models(
                    trends.suppress_models(
                        trends.trends_for_cube(respondents, group, estimates=cells), cells
                    ),
                    survey_coverage,
                ),
            )
            tables["gap_change"] = step(
                "gap_change",
                "ændring i uddannelsesforskellen",
                lambda group=group: protection.round_published(
                    protection.withhold_gap_change(
                        coverage.restrict_gap_change(
                            inequality.gap_change_for_cube(respondents, group, rules=rules),
                            survey_coverage,
                        ),
                        shared["inequality"],
                    ),
                    rules,
                ),
            )
        if register_cells.empty:  # an agreement with survey indicators only
            for name in ("register_changes", "register_status", "register_trends"):
                tables[name] = _empty_table()
        else:
            tables["register_changes"] = changes.wave_changes(register_cells, group)
            tables["register_status"] = changes.status(tables["register_changes"], group)
            register_total = register_cells[register_cells["breakdown"] == "total"]
            tables["register_trends"] = step(
                "register_trends",
                "udvikling i registerindikatorer",
                lambda group=group, total=register_total: coverage.restrict_models(
                    trends.trends_from_estimates(total, group), register_coverage, "register"
                ),
            )
        for agreement in members:
            mine = set(agreement.indicators)
            own = {
                name: table[table["indicator"].isin(mine)].reset_index(drop=True)
                if "indicator" in table.columns
                else table
                for name, table in tables.items()
            }
            # The standard assessments use the agreement's own targets (an agreement field).
            for name in ("status", "register_status"):
                if "estimate_from" in own[name].columns:  # not an empty source's table
                    own[name] = progress_assessment.assess(own[name], agreement)
            own["activity_status"] = register_data.read_status(raw / STATUS_FILE, agreement)
            per_agreement[agreement.id] = own

    processed.mkdir(parents=True, exist_ok=True)
    (processed / INTERNAL_DIR).mkdir(exist_ok=True)
    _write_atomic_parquet(internal_cells, processed / INTERNAL_DIR / INTERNAL_CELLS)
    for name, table in shared.items():
        _write_atomic_parquet(table, table_path(processed, name))
    for agreement_id, tables in per_agreement.items():
        folder = processed / AGREEMENT_DIR / agreement_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            _write_atomic_parquet(table, table_path(processed, name, agreement_id))
    manifest = {
        "cache_key": key,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": version,
        "agreements": records,
        "synthetic": is_synthetic(raw),
        "inputs": checksums,
        "rules": rules.as_dict(),
        "codebook": {
            "name": book.name,
            "path": str(codebook) if codebook is not None else None,
            "files": [Path(p).name for p in book.sources],
            "sha256": book.sha256,
        },
        "weights": _weight_records(report.weights),
        "coverage": _coverage_summary(survey_coverage),
        "respondents": int(len(respondents)),
        "waves": sorted(int(y) for y in respondents["year"].unique()),
        "indicators": list(union.indicators),
        "rows": {
            **{name: int(len(table)) for name, table in shared.items()},
            **{
                f"{agreement_id}/{name}": int(len(table))
                for agreement_id, tables in per_agreement.items()
                for name, table in tables.items()
            },
        },
        "model_estimates": {
            key: shared["model_estimates"].attrs.get(key)
            for key in ("population", "fits", "skipped")
        },
        "protection": protection_record,
        "timings": timings,
        "tables": _table_checksums(processed, loaded),
    }
    _write_atomic_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", processed / MANIFEST
    )
    return BuildResult(processed, False, manifest, timings)


def _protect(
    survey_cells, register_cells, register_table, register_coverage, rules, variables, workers=1
):
    """Per-table rules, then the linked protection over all relations, then rounding.

    Returns the published ``estimates`` and ``register`` tables, the manifest record of the
    protection and the internal cell table (true values, for ``analyse audit``).
    """
    from analyse.cube import coverage, estimates, protection, register

    survey_published = estimates.suppress_cube(survey_cells, rules)
    register_published = coverage.restrict(
        register.register_estimates(register_table, rules=rules), register_coverage, "register"
    )
    cells = protection.cell_frame(
        survey_cells,
        register_cells,
        survey_published=survey_published,
        register_published=register_published,
        rules=rules,
        variables=variables,
    )
    before = np.concatenate(
        [
            survey_published["suppressed"].to_numpy(bool),
            register_published["suppressed"].to_numpy(bool),
        ]
    )
    result = protection.protect_cube(cells, before, rules=rules, workers=workers)
    k = len(survey_published)
    survey_published = protection.hide(survey_published, result.added[:k])
    register_published = protection.hide(register_published, result.added[k:])
    survey_published = protection.round_published(
        protection.hide_comparisons(survey_published), rules
    )
    # The register table is already published at the precision shown (rates, intervals and
    # standard errors from the rounded rate and denominator: cube.register).
    internal = cells.assign(hidden=result.hidden)
    return (
        {"estimates": survey_published, "register": register_published},
        result.summary,
        internal,
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_checksums(processed: Path, loaded: list) -> dict[str, str]:
    """SHA-256 of every table file of the build, by its path relative to ``processed``
    (POSIX separators): the manifest's ``tables``, checked before the tables are reused."""
    paths = {table_path(processed, t, a.id) for t in TABLES for a in loaded}
    paths.add(processed / INTERNAL_DIR / INTERNAL_CELLS)
    return {p.relative_to(processed).as_posix(): file_sha256(p) for p in sorted(paths)}


def _changed_table(processed: Path, manifest: dict) -> str | None:
    """Why the tables may not be reused although the cache key matches: the first table file
    whose content no longer matches the manifest's checksum (changed, damaged or missing), or a
    manifest without checksums (written before they were recorded); None when all match."""
    recorded = manifest.get("tables")
    if not recorded:
        return "Manifestet har ingen kontrolsummer for tabellerne – bygger igen."
    for name, checksum in recorded.items():
        path = processed / name
        if not path.is_file() or file_sha256(path) != checksum:
            return f"Tabellen {name} er ændret eller beskadiget siden byggeriet – bygger igen."
    return None


def _empty_table() -> pd.DataFrame:
    """An agreement table without rows (no indicator of that source): the key columns a brief
    selects on, so reading it by area works."""
    columns = ["indicator", "area_level", "area_code", "breakdown", "group", "year"]
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" else "str") for c in columns})


def built_agreements(processed: str | Path) -> list[str]:
    """Ids of the agreements whose tables are in a processed folder (from its manifest)."""
    manifest = read_manifest(Path(processed)) or {}
    return [record["id"] for record in manifest.get("agreements", [])]


def _model_estimates(
    raw: Path, published: pd.DataFrame, union, loaded: list, rules
) -> pd.DataFrame:
    """The Fay–Herriot companion estimates (:mod:`analyse.cube.smallarea`) of every indicator
    of the build's agreements (``union``), once, for the kommune waves from each agreement's
    baseline on, from the published estimates. The population table of the synthetic delivery
    is the generator's; no population table ships for a real delivery yet, so there the table
    is empty (and the manifest says so)."""
    from analyse.cube import smallarea
    from analyse.data import synth

    if not is_synthetic(raw):
        table = smallarea.empty_table()
        table.attrs.update(population=None, fits=0, skipped=0)
        return table
    years = sorted({w for a in loaded for w in a.kommune_waves if w >= a.baseline_wave})
    table = smallarea.model_estimates(
        published, union, synth.population_table(), rules=rules, years=years
    )
    table.attrs["population"] = "synthetic population tables (analyse.data.synth)"
    return table


def _load_survey(raw: Path, book, codebook, previous: dict | None):
    """Clean the delivery; if it fails with the shipped codebook while the previous build used
    one of the user's, say so (a forgotten ``--codebook``)."""
    from analyse.data import clean

    try:
        return clean.load_survey(raw, book)
    except DataValidationError as exc:
        used = ((previous or {}).get("codebook") or {}).get("path")
        if codebook is None and used:
            raise DataValidationError(
                f"{exc} — the processed data in this folder were built with the codebook {used}; "
                f"pass it again (--codebook {used}, or make ... CODEBOOK={used})"
            ) from exc
        raise


def _weight_records(weights: pd.DataFrame) -> list[dict]:
    """Per wave, the weight check's figures and problems, for the manifest (and the briefs)."""
    records = []
    for row in weights.itertuples(index=False):
        records.append(
            {
                "year": int(row.year),
                "problems": [p for p in row.problems.split(",") if p],
                "weight_sum": round(float(row.weight_sum), 1),
                "population_16plus": round(float(row.population_16plus)),
                "sum_ratio": round(float(row.sum_ratio), 4),
                "deff_within": round(float(row.deff_within), 3),
                "message": row.message,
            }
        )
    return records


def _coverage_summary(survey_coverage: pd.DataFrame) -> dict:
    """Per wave: the kommuner present and whether Denmark is covered (details in coverage.parquet)."""
    land = survey_coverage[survey_coverage["area_level"] == "land"]
    regions = survey_coverage[
        (survey_coverage["area_level"] == "region") & survey_coverage["covered"]
    ]
    return {
        str(int(row.year)): {
            "kommuner": int(row.kommuner_present),
            "land_covered": bool(row.covered),
            "regions_covered": sorted(regions.loc[regions["year"] == row.year, "area_code"]),
        }
        for row in land.itertuples(index=False)
    }
