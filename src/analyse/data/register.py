"""Register indicators and klynge activity status: reading and validating the delivered tables.

Register indicators arrive as counts per year × kommune × group (numerator, denominator); the
klynge activity status as one row per year × sundhedsklynge × målsætning. Both are checked
here (file, column, rule, rows); the area estimates are made in :mod:`analyse.cube.register`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analyse.errors import DataValidationError
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, indicator_library

REGISTER_COLUMNS = ("indikator", "aar", "kommunekode", "koen", "uddannelse", "taeller", "naevner")
STATUS_COLUMNS = ("aar", "sundhedsklynge", "maalsaetning", "status", "tekst")
#: Optional column of ``klyngestatus.csv``: the agreement a row answers.
AGREEMENT_COLUMN = "aftale"
TOTAL_LABEL = "I alt"


def _read_table(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    if not path.exists():
        raise DataValidationError(f"the {what} file is missing", file=str(path))
    try:
        table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", dtype=str)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataValidationError(
            f"cannot read the {what} file as CSV: {exc}", file=str(path)
        ) from exc
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataValidationError(
            f"missing required column(s) {', '.join(missing)}; expected {', '.join(columns)}",
            file=str(path),
        )
    if table.empty:
        raise DataValidationError(f"the {what} file has no rows", file=str(path))
    return table


def _integers(table: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() | (values < 0) | (values != np.floor(values))
    if bad.any():
        raise DataValidationError(
            "must be a whole number ≥ 0",
            file=str(path),
            column=column,
            rows=table.index[bad.to_numpy()].to_numpy() + 2,
            count=int(bad.sum()),
            hint="row numbers count the header as row 1",
        )
    return values.astype("int64")


def read_register(path: str | Path, agreement: Agreement) -> pd.DataFrame:
    """Read and validate the register table (``registerdata.csv``).

    Raises
    ------
    DataValidationError
        Missing columns, unknown indicators or kommune codes, counts that are not whole numbers
        ≥ 0, numerators above denominators, duplicated cells — naming file, column, rule and rows.
    """
    path = Path(path)
    table = _read_table(path, REGISTER_COLUMNS, "register")
    wanted = {ind.id for ind in agreement.indicators_by_source("register")}
    library = {i for i, ind in indicator_library().indicators.items() if ind.source == "register"}
    known = wanted | library
    unknown = ~table["indikator"].isin(known)
    if unknown.any():
        raise DataValidationError(
            f"unknown register indicator(s) {sorted(table.loc[unknown, 'indikator'].unique())}; "
            f"the indicator library and the agreement have {', '.join(sorted(known))}",
            file=str(path),
            column="indikator",
            rows=np.flatnonzero(unknown) + 2,
            count=int(unknown.sum()),
        )
    # Indicators of the library that no agreement of this build follows are left out.
    # Row numbers in messages stay those of the file (the index is kept).
    table = table[table["indikator"].isin(wanted)]
    out = pd.DataFrame(
        {
            "indicator": table["indikator"],
            "year": _integers(table, "aar", path),
            "kommune_code": _integers(table, "kommunekode", path),
            "sex": table["koen"],
            "education": table["uddannelse"],
            "numerator": _integers(table, "taeller", path),
            "denominator": _integers(table, "naevner", path),
        }
    )
    bad_kommune = ~out["kommune_code"].isin(geography.kommuner()["kommune_code"])
    if bad_kommune.any():
        raise DataValidationError(
            "unknown kommune code",
            file=str(path),
            column="kommunekode",
            rows=out.index[bad_kommune.to_numpy()].to_numpy() + 2,
            count=int(bad_kommune.sum()),
        )
    over = out["numerator"] > out["denominator"]
    if over.any():
        raise DataValidationError(
            "numerator (taeller) is larger than denominator (naevner)",
            file=str(path),
            column="taeller",
            rows=out.index[over.to_numpy()].to_numpy() + 2,
            count=int(over.sum()),
        )
    dup = out.duplicated(["indicator", "year", "kommune_code", "sex", "education"], keep=False)
    if dup.any():
        raise DataValidationError(
            "the same indicator × year × kommune × sex × education appears more than once",
            file=str(path),
            rows=out.index[dup.to_numpy()].to_numpy() + 2,
            count=int(dup.sum()),
        )
    return out.reset_index(drop=True)


def read_status(path: str | Path, agreement: Agreement) -> pd.DataFrame:
    """Read and validate the klynge activity status (``klyngestatus.csv``) of one agreement.

    A file with the optional column ``aftale`` (agreement id) holds the status of several
    agreements: only the rows of ``agreement`` are read and checked. Without it, every row is
    the agreement's.

    Returns ``year``, ``sundhedsklynge`` (name), ``sundhedsklynge_code``, ``objective``,
    ``status`` (category id), ``status_label`` (Danish) and ``text``.
    """
    path = Path(path)
    table = _read_table(path, STATUS_COLUMNS, "klynge status")
    if AGREEMENT_COLUMN in table.columns:
        # Row numbers in messages must stay those of the file: keep the original index.
        table = table[table[AGREEMENT_COLUMN].fillna("").str.strip() == agreement.id]
    klynger = geography.areas("sundhedsklynge")
    code_by_name = dict(zip(klynger["area_name"], klynger["area_code"], strict=True))
    problems = [
        ("sundhedsklynge", ~table["sundhedsklynge"].isin(code_by_name), "unknown sundhedsklynge"),
        (
            "maalsaetning",
            ~table["maalsaetning"].isin([o.id for o in agreement.objectives if o.status_question]),
            "not a målsætning followed up by a status question",
        ),
        (
            "status",
            ~table["status"].isin(agreement.status_categories),
            "unknown status category; use " + ", ".join(agreement.status_categories),
        ),
    ]
    for column, mask, rule in problems:
        if mask.any():
            raise DataValidationError(
                rule,
                file=str(path),
                column=column,
                rows=table.index[mask.to_numpy()].to_numpy() + 2,
                count=int(mask.sum()),
            )
    return pd.DataFrame(
        {
            "year": _integers(table, "aar", path),
            "sundhedsklynge": table["sundhedsklynge"],
            "sundhedsklynge_code": table["sundhedsklynge"].map(code_by_name),
            "objective": table["maalsaetning"],
            "status": table["status"],
            "status_label": table["status"].map(agreement.status_categories),
            "text": table["tekst"].fillna(""),
        }
    )
