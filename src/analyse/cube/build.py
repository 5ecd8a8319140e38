"""Build the processed data (the "cube") from a raw delivery, once per data and code version.

``build_processed`` reads the raw delivery, cleans and validates it, and writes every table the
notebooks and briefs read to ``data/processed/``:

==========================  ===================================================================
``estimates.parquet``       survey indicator × wave × area × breakdown (suppressed)
``model_estimates.parquet`` model-based (Fay–Herriot) companion estimates per kommune cell,
                            from the published estimates only (:mod:`analyse.cube.smallarea`)
``changes.parquet``         changes between waves and from the baseline (2021), per cell
``status.parquet``          direction status (bedre/uændret/dårligere/kan ikke vurderes) per cell,
                            with the Healthy People 2030 and SDG progress categories
``trends.parquet``          trend model per indicator × area; projection to 2027 from the pooled
                            forecast across all areas of a level
``inequality.parquet``      education and labour-market inequality per indicator × wave × area
``gap_change.parquet``      whether the education gap narrows, per indicator × area
``register.parquet``        register indicators per year × area × breakdown (suppressed)
``register_changes``, ``register_status``, ``register_trends``: the same for register data
``activity_status.parquet`` the klynge activity status
``quality.parquet``         data-quality aggregates per wave × kommune (no microdata)
``coverage.parquet``        per source, wave and area: kommuner in the delivery, and whether the
                            area is covered (only covered areas are estimated or compared with)
``manifest.json``           input checksums, code version, codebook, rules, weight warnings,
                            coverage, timings, row counts
==========================  ===================================================================

The cache key is the SHA-256 of every raw file, the code (all package files), the codebook
(its files, including what it extends) and the options; when it matches the manifest, nothing
is recomputed. Every column of every table is described in ``docs/data_dictionary.md``. Files are written atomically (temporary
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

import pandas as pd

import analyse
from analyse.errors import DataValidationError
from analyse.reference.catalogue import load_agreement
from analyse.stats import disclosure

MANIFEST = "manifest.json"
SYNTHETIC_MARKER = "SYNTETISKE_DATA.json"
REGISTER_FILE = "registerdata.csv"
STATUS_FILE = "klyngestatus.csv"
TABLES = (
    "estimates",
    "model_estimates",
    "changes",
    "status",
    "trends",
    "inequality",
    "gap_change",
    "register",
    "register_changes",
    "register_status",
    "register_trends",
    "activity_status",
    "quality",
    "coverage",
)


@dataclass
class BuildResult:
    """What :func:`build_processed` did."""

    processed: Path
    reused: bool
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)

    def path(self, table: str) -> Path:
        return self.processed / f"{table}.parquet"


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
    checksums: dict, version: str, agreement_id: str, rules: disclosure.Rules, codebook: str = ""
) -> str:
    payload = json.dumps(
        {
            "inputs": checksums,
            "code": version,
            "agreement": agreement_id,
            "rules": rules.as_dict(),
            "codebook": codebook,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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
    agreement_id: str = "syddanmark-2024-2027",
    rules: disclosure.Rules | None = None,
    codebook: str | Path | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Clean the raw delivery and compute every processed table, or reuse them if unchanged.

    Parameters
    ----------
    raw, processed : the delivery (read only) and the folder of the processed tables.
    agreement_id : the agreement whose indicators are estimated.
    rules : disclosure rules.
    codebook : the user's codebook YAML (None: the shipped one); part of the cache key and
        recorded in the manifest.
    force : rebuild even if nothing changed.

    Only areas the delivery covers are estimated (:mod:`analyse.cube.coverage`); weights that do
    not look like calibration weights are recorded in the manifest (``weights``) and the
    briefs say so.

    Raises
    ------
    DataValidationError
        From the cleaning and validation of the raw files (naming file, column, rule and rows)
        and from reading the codebook.
    """
    from analyse.data.codebook import load_codebook

    raw, processed = Path(raw), Path(processed)
    rules = rules or disclosure.Rules()
    say = progress or (lambda _message: None)
    checksums = input_checksums(raw)
    version = code_version()
    book = load_codebook(codebook)
    key = _cache_key(checksums, version, agreement_id, rules, book.sha256)
    manifest = read_manifest(processed)
    if (
        not force
        and manifest is not None
        and manifest.get("cache_key") == key
        and all((processed / f"{t}.parquet").exists() for t in TABLES)
    ):
        say(f"Genbruger de beregnede tabeller i {processed} (uændrede data og kode).")
        return BuildResult(processed, True, manifest)

    from analyse.cube import changes, coverage, estimates, inequality, progress, register, trends
    from analyse.data import clean
    from analyse.data import register as register_data

    agreement = load_agreement(agreement_id)
    timings: dict[str, float] = {}

    def step(name: str, label: str, function):
        say(f"- {label} ...")
        start = time.perf_counter()
        value = function()
        timings[name] = round(time.perf_counter() - start, 2)
        say(f"  {label}: {timings[name]:.1f} s")
        return value

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
    tables: dict[str, pd.DataFrame] = {}
    tables["estimates"] = step(
        "estimates",
        "estimater for alle indikatorer, bølger og områder",
        lambda: coverage.restrict(
            estimates.build(respondents, agreement, rules=rules), survey_coverage
        ),
    )
    tables["model_estimates"] = step(
        "model_estimates",
        "modelbaserede skøn for små grupper",
        lambda: _model_estimates(raw, tables["estimates"], agreement, rules),
    )
    tables["changes"] = changes.wave_changes(tables["estimates"], agreement)
    tables["status"] = progress.assess(changes.status(tables["changes"], agreement), agreement)
    tables["trends"] = step(
        "trends",
        "udviklingsmodeller og fremskrivning til 2027",
        lambda: coverage.restrict_models(
            trends.suppress_models(
                trends.trends_for_cube(respondents, agreement, estimates=tables["estimates"]),
                tables["estimates"],
            ),
            survey_coverage,
        ),
    )
    tables["inequality"] = step(
        "inequality",
        "social ulighed",
        lambda: coverage.restrict(
            inequality.inequality_for_cube(respondents, agreement, rules=rules), survey_coverage
        ),
    )
    tables["gap_change"] = step(
        "gap_change",
        "ændring i uddannelsesforskellen",
        lambda: coverage.restrict_gap_change(
            inequality.gap_change_for_cube(respondents, agreement, rules=rules), survey_coverage
        ),
    )
    register_table = register_data.read_register(raw / REGISTER_FILE, agreement)
    register_coverage = coverage.coverage_table(register_table, source="register")
    tables["register"] = step(
        "register",
        "registerindikatorer",
        lambda: coverage.restrict(
            register.register_estimates(register_table, rules=rules), register_coverage, "register"
        ),
    )
    tables["register_changes"] = changes.wave_changes(tables["register"], agreement)
    tables["register_status"] = progress.assess(
        changes.status(tables["register_changes"], agreement), agreement
    )
    register_total = tables["register"][tables["register"]["breakdown"] == "total"]
    tables["register_trends"] = step(
        "register_trends",
        "udvikling i registerindikatorer",
        lambda: coverage.restrict_models(
            trends.trends_from_estimates(register_total, agreement), register_coverage, "register"
        ),
    )
    tables["activity_status"] = register_data.read_status(raw / STATUS_FILE, agreement)
    tables["quality"] = report.by_wave()
    tables["coverage"] = pd.concat([survey_coverage, register_coverage], ignore_index=True)

    processed.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        _write_atomic_parquet(table, processed / f"{name}.parquet")
    manifest = {
        "cache_key": key,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": version,
        "agreement": agreement_id,
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
        "rows": {name: int(len(table)) for name, table in tables.items()},
        "model_estimates": {
            key: tables["model_estimates"].attrs.get(key)
            for key in ("population", "fits", "skipped")
        },
        "timings": timings,
    }
    _write_atomic_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", processed / MANIFEST
    )
    return BuildResult(processed, False, manifest, timings)


def _model_estimates(raw: Path, published: pd.DataFrame, agreement, rules) -> pd.DataFrame:
    """The Fay–Herriot companion estimates (:mod:`analyse.cube.smallarea`) of the kommune waves
    from the baseline on, from the published estimates. The population table of the synthetic
    delivery is the generator's; no population table ships for a real delivery yet, so there
    the table is empty (and the manifest says so)."""
    from analyse.cube import smallarea
    from analyse.data import synth

    if not is_synthetic(raw):
        table = smallarea.empty_table()
        table.attrs.update(population=None, fits=0, skipped=0)
        return table
    years = [w for w in agreement.kommune_waves if w >= agreement.baseline_wave]
    table = smallarea.model_estimates(
        published, agreement, synth.population_table(), rules=rules, years=years
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
