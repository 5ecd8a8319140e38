"""The whole delivery: generate it in memory and write it as files in a delivery format."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analyse.data.codebook import Codebook, load_codebook
from analyse.data.synth.population import WAVES, Population
from analyse.data.synth.register import (
    added_register_tables,
    register_tables,
    status_reports,
)
from analyse.data.synth.sample import Wave, generate_wave
from analyse.data.synth.truth import Truth, calibrated_model
from analyse.errors import ParameterError

DEFAULT_SEED = 20240101
FORMATS = ("sav", "parquet", "csv", "dta")
DEFAULT_FORMAT = "sav"
MARKER_FILE = "SYNTETISKE_DATA.json"

# ================================================================================================
# The delivery
# ================================================================================================


@dataclass
class Delivery:
    """A whole synthetic delivery in memory."""

    waves: dict[int, Wave]
    register: pd.DataFrame
    status: pd.DataFrame
    population: Population
    truth_model: Truth
    seed: int
    scale: float


def generate(
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    waves: tuple[int, ...] = WAVES,
    agreements: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Delivery:
    """Generate the synthetic delivery in memory (see the module docstring).

    Parameters
    ----------
    seed : the seed of everything; the same seed gives the same data.
    scale : fraction of the real sample sizes (``0.05`` for fast tests).
    waves : which survey waves to generate.
    agreements : whose klynge status questions the status table answers (ids or paths;
        default every shipped agreement).

    Raises
    ------
    ParameterError
        For a scale outside (0, 2] or an unknown wave.
    """
    if not 0 < scale <= 2:
        raise ParameterError(f"scale must be in (0, 2], got {scale}")
    unknown = sorted(set(waves) - set(WAVES))
    if unknown:
        raise ParameterError(
            f"unknown wave(s) {unknown}; the survey has {', '.join(map(str, WAVES))}"
        )
    pop, truth = calibrated_model()
    streams = np.random.SeedSequence(seed).spawn(len(WAVES) + 2)
    generated = {}
    for year, stream in zip(WAVES, streams, strict=False):
        if year not in waves:
            continue
        if progress:
            progress(f"bølge {year}")
        # The added indicators draw from a child of the wave's stream (see generate_wave).
        added = np.random.default_rng(stream.spawn(1)[0])
        generated[year] = generate_wave(
            pop, truth, year, np.random.default_rng(stream), scale, added_rng=added
        )
    register_stream = streams[len(WAVES)]
    register = pd.concat(
        [
            register_tables(pop, np.random.default_rng(register_stream)),
            # Added indicators from a child stream: the first tables' counts stay as they were.
            added_register_tables(pop, np.random.default_rng(register_stream.spawn(1)[0])),
        ],
        ignore_index=True,
    )
    status = status_reports(agreements, streams[len(WAVES) + 1])
    return Delivery(generated, register, status, pop, truth, seed, scale)


def write_delivery(
    out: str | Path = "data/raw",
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    fmt: str = DEFAULT_FORMAT,
    *,
    force: bool = False,
    progress: bool = False,
) -> list[Path]:
    """Generate the delivery and write it as files: one survey file per wave, register table,
    klynge status and a marker file saying the data are synthetic.

    Raises
    ------
    ParameterError
        For an unknown format, or when ``out`` already holds a delivery and ``force`` is False.
    """
    if fmt not in FORMATS:
        raise ParameterError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    existing = [p for p in out.iterdir() if p.name != "README.md" and not p.name.startswith(".")]
    if existing and not force:
        raise ParameterError(
            f"{out} already holds files ({existing[0].name} …); raw data are never overwritten — "
            "choose another --out or pass --force to replace a synthetic delivery"
        )
    if existing and force:
        marker = out / MARKER_FILE
        if not marker.exists():
            raise ParameterError(
                f"{out} holds files that are not a synthetic delivery (no {MARKER_FILE}); "
                "refusing to overwrite them"
            )
        for path in existing:
            if path.is_file():
                path.unlink()
    report = print if progress else None
    delivery = generate(seed=seed, scale=scale, progress=report)
    codebook = load_codebook()
    written = []
    for year, wave in delivery.waves.items():
        path = out / f"sundhedsprofil_{year}.{fmt}"
        _write_table(wave.raw, path, fmt, codebook, year)
        written.append(path)
        if progress:
            print(
                f"  {path.name}: {len(wave.raw):,} svar af {wave.invited:,} inviterede".replace(
                    ",", "."
                )
            )
    register_path = out / "registerdata.csv"
    delivery.register.to_csv(
        register_path, sep=";", index=False, encoding="utf-8", lineterminator="\n"
    )
    status_path = out / "klyngestatus.csv"
    delivery.status.to_csv(status_path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
    marker = out / MARKER_FILE
    marker.write_text(
        json.dumps(
            {
                "synthetic": True,
                "generator": "analyse.data.synth",
                "seed": seed,
                "scale": scale,
                "format": fmt,
                "note": "Syntetiske data: ingen rigtige personer. Kalibreret til danskernessundhed.dk.",
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    written += [register_path, status_path, marker]
    return written


def _write_table(table: pd.DataFrame, path: Path, fmt: str, codebook: Codebook, year: int) -> None:
    """Write one wave in a delivery format, with labels where the format has them."""
    import pyreadstat

    labels = {
        name: codebook.variables[name].label for name in table.columns if name in codebook.variables
    }
    value_labels = {
        name: {float(k): v for k, v in codebook.variables[name].codes.items()}
        for name in table.columns
        if name in codebook.variables and codebook.variables[name].codes
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    if fmt in ("parquet", "csv"):
        # Whole-number answers are written as integers (no "1,0" in a CSV).
        table = table.copy()
        for name in table.columns:
            col = table[name]
            if (
                col.dtype.kind == "f"
                and np.all(np.isnan(col) | (col == np.round(col)))
                and name != "vaegt_kal"
            ):
                table[name] = col.astype("Int64")
    if fmt == "parquet":
        table.to_parquet(tmp, index=False, engine="pyarrow")
    elif fmt == "csv":
        # As many Danish extracts look: semicolons, decimal comma, Windows-1252.
        table.to_csv(
            tmp, sep=";", decimal=",", index=False, encoding="cp1252", lineterminator="\r\n"
        )
    elif fmt == "sav":
        pyreadstat.write_sav(
            table,
            str(tmp),
            column_labels=labels,
            variable_value_labels=value_labels,
            file_label=f"Sundhedsprofilen {year}",
        )
        _fix_sav_timestamp(tmp, year)
    elif fmt == "dta":
        dta_labels = {k: {int(c): v for c, v in lab.items()} for k, lab in value_labels.items()}
        # Stata allows variable labels of at most 80 characters.
        short = {k: v if len(v) <= 80 else v[:79] + "…" for k, v in labels.items()}
        pyreadstat.write_dta(
            table,
            str(tmp),
            column_labels=short,
            variable_value_labels=dta_labels,
            file_label=f"Sundhedsprofilen {year}",
        )
        _fix_dta_timestamp(tmp, year)
    tmp.replace(path)


def _fix_sav_timestamp(path: Path, year: int) -> None:
    """Overwrite the creation date/time in a .sav header so the same seed gives the same bytes."""
    data = bytearray(path.read_bytes())
    # Header: "$FL2"(4) product(60) layout(4) nominal_case_size(4) compression(4) weight_index(4)
    # ncases(4) bias(8) → creation date (9 bytes) at offset 92, creation time (8) at 101.
    data[92:101] = f"01 Jun {year % 100:02d}".encode("ascii")
    data[101:109] = b"00:00:00"
    path.write_bytes(bytes(data))


def _fix_dta_timestamp(path: Path, year: int) -> None:
    data = path.read_bytes()
    stamp = f"01 Jun {year} 00:00".encode("ascii")
    fixed = re.sub(
        rb"<timestamp>\x11.{17}</timestamp>",
        b"<timestamp>\x11" + stamp + b"</timestamp>",
        data,
        count=1,
        flags=re.DOTALL,
    )
    path.write_bytes(fixed)
