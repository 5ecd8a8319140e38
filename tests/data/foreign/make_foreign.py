"""Convert a delivery in the shipped layout into the regional layout that ``region.yml`` describes.

    python tests/data/foreign/make_foreign.py SOURCE_DIR TARGET_DIR

Only pandas and pyarrow/pyreadstat readers are used (not the analyse package), so the fixture
does not depend on the code it tests. What changes (see README.md): one ``;``-separated CSV per
wave, a UTF-8 byte-order mark followed by Windows-1252 text, decimal commas, the columns
``lbnr``, ``kom`` and ``vaegt_kal`` renamed to ``LOEBENR``, ``bopkom`` and ``vægt_kalib``, the sex
codes swapped (1 = Kvinde, 2 = Mand) with missing sex written as 7, and a junk column
``eksportdato``. Other files (register, klynge status, the synthetic-data marker) are copied.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

RENAME = {"lbnr": "LOEBENR", "kom": "bopkom", "vaegt_kal": "vægt_kalib"}
SEX_SWAP = {1: 2, 2: 1}
BOM = b"\xef\xbb\xbf"


def read_wave(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    import pyreadstat

    reader = {".sav": pyreadstat.read_sav, ".dta": pyreadstat.read_dta}[path.suffix]
    return reader(str(path))[0]


def convert_wave(table: pd.DataFrame) -> bytes:
    """One wave as the regional extract's CSV bytes."""
    out = table.copy()
    sex = out["koen"]
    out["koen"] = sex.map(SEX_SWAP).where(sex.isin([1, 2]), 7).astype("Int64")
    out = out.rename(columns=RENAME)
    out.insert(3, "eksportdato", "12-03-2026")
    # Integers stay integers (nullable), other numbers keep their exact decimals (repr).
    for column in out.columns:
        values = out[column]
        if values.dtype.kind == "f" and values.dropna().eq(values.dropna().round()).all():
            out[column] = values.astype("Int64")
    text = out.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n")
    return BOM + text.encode("cp1252")


def convert(source: Path, target: Path) -> list[Path]:
    """Write the regional layout of every survey file in ``source`` to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source.iterdir()):
        if not path.is_file():
            continue
        if path.name.startswith("sundhedsprofil_") and path.suffix in (".parquet", ".sav", ".dta"):
            year = path.stem.split("_")[1]
            dest = target / f"hhd_udtraek_{year}.csv"
            dest.write_bytes(convert_wave(read_wave(path)))
        else:
            dest = target / path.name
            shutil.copyfile(path, dest)
        written.append(dest)
    return written


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
