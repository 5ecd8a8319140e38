"""Build the processed data (the "cube") from a raw delivery, once per data and code version.

``build_processed`` reads the raw delivery, cleans and validates it, and writes every table the
notebooks and briefs read to ``data/processed/``:

==========================  ===================================================================
``estimates.parquet``       survey indicator × wave × area × breakdown (suppressed)
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
``manifest.json``           input checksums, code version, rules, timings, row counts
==========================  ===================================================================

The cache key is the SHA-256 of every raw file, the code (all package files) and the options;
when it matches the manifest, nothing is recomputed. Files are written atomically (temporary
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


def _cache_key(checksums: dict, version: str, agreement_id: str, rules: disclosure.Rules) -> str:
    payload = json.dumps(
        {"inputs": checksums, "code": version, "agreement": agreement_id, "rules": rules.as_dict()},
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
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Clean the raw delivery and compute every processed table, or reuse them if unchanged.

    Raises
    ------
    DataValidationError
        From the cleaning and validation of the raw files (naming file, column, rule and rows).
    """
    raw, processed = Path(raw), Path(processed)
    rules = rules or disclosure.Rules()
    say = progress or (lambda _message: None)
    checksums = input_checksums(raw)
    version = code_version()
    key = _cache_key(checksums, version, agreement_id, rules)
    manifest = read_manifest(processed)
    if (
        not force
        and manifest is not None
        and manifest.get("cache_key") == key
        and all((processed / f"{t}.parquet").exists() for t in TABLES)
    ):
        say(f"Genbruger de beregnede tabeller i {processed} (uændrede data og kode).")
        return BuildResult(processed, True, manifest)

    from analyse.cube import changes, estimates, inequality, progress, register, trends
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
        "clean", "indlæser og renser surveydata", lambda: clean.load_survey(raw)
    )
    tables: dict[str, pd.DataFrame] = {}
    tables["estimates"] = step(
        "estimates",
        "estimater for alle indikatorer, bølger og områder",
        lambda: estimates.build(respondents, agreement, rules=rules),
    )
    tables["changes"] = changes.wave_changes(tables["estimates"], agreement)
    tables["status"] = progress.assess(changes.status(tables["changes"], agreement), agreement)
    tables["trends"] = step(
        "trends",
        "udviklingsmodeller og fremskrivning til 2027",
        lambda: trends.suppress_models(
            trends.trends_for_cube(respondents, agreement, estimates=tables["estimates"]),
            tables["estimates"],
        ),
    )
    tables["inequality"] = step(
        "inequality",
        "social ulighed",
        lambda: inequality.inequality_for_cube(respondents, agreement, rules=rules),
    )
    tables["gap_change"] = step(
        "gap_change",
        "ændring i uddannelsesforskellen",
        lambda: inequality.gap_change_for_cube(respondents, agreement, rules=rules),
    )
    register_table = register_data.read_register(raw / REGISTER_FILE, agreement)
    tables["register"] = step(
        "register",
        "registerindikatorer",
        lambda: register.register_estimates(register_table, rules=rules),
    )
    tables["register_changes"] = changes.wave_changes(tables["register"], agreement)
    tables["register_status"] = progress.assess(
        changes.status(tables["register_changes"], agreement), agreement
    )
    register_total = tables["register"][tables["register"]["breakdown"] == "total"]
    tables["register_trends"] = step(
        "register_trends",
        "udvikling i registerindikatorer",
        lambda: trends.trends_from_estimates(register_total, agreement),
    )
    tables["activity_status"] = register_data.read_status(raw / STATUS_FILE, agreement)
    tables["quality"] = report.by_wave()

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
        "respondents": int(len(respondents)),
        "waves": sorted(int(y) for y in respondents["year"].unique()),
        "rows": {name: int(len(table)) for name, table in tables.items()},
        "timings": timings,
    }
    _write_atomic_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", processed / MANIFEST
    )
    return BuildResult(processed, False, manifest, timings)
