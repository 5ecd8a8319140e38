"""Reading raw survey deliveries: Parquet, CSV, SPSS, Stata, SAS — files opened read-only.

Every reader returns a :class:`RawTable`: the data as delivered (raw names, raw codes), the value
labels and variable labels the file carries, and where the data came from (path, format,
SHA-256 of the bytes, and for CSV the encoding, separator and decimal mark that were used).
Nothing here renames, recodes or drops anything; that is :mod:`analyse.data.clean`'s job.

Raw files are never written: text formats are read into memory from a file opened with mode
``"rb"``; the binary formats are opened by pyarrow/pyreadstat, which only read. A file that is
empty, truncated or not what its extension says raises :class:`DataValidationError` naming it.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analyse.errors import DataValidationError

# Survey files are recognised by extension; other files in a delivery folder (README, the
# synthetic-data marker, register tables, klynge status) are skipped by content, see
# `survey_files`.
READERS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".txt": "csv",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xpt",
}
FORMAT_NAMES = {
    "parquet": "Parquet",
    "csv": "CSV",
    "sav": "SPSS (.sav)",
    "dta": "Stata (.dta)",
    "sas7bdat": "SAS (.sas7bdat)",
    "xpt": "SAS transport (.xpt)",
}
# A file whose name says it is a Sundhedsprofil file is always read (so a broken one is reported
# rather than silently skipped); other files are read only when they hold the respondent id.
SURVEY_NAME = re.compile(r"sundhedsprofil|hvordan|hhd", re.IGNORECASE)
# How much of a text file is inspected to detect separator and decimal mark.
SNIFF_LINES = 200
# The 32 bytes that open every .sas7bdat file (Shotton's sas7bdat notes, as used by ReadStat).
SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")


@dataclass
class RawTable:
    """One raw survey file as delivered.

    Attributes
    ----------
    data : the table with the file's own column names and codes.
    path : the file it was read from.
    format : ``parquet``, ``csv``, ``sav``, ``dta``, ``sas7bdat`` or ``xpt``.
    sha256 : checksum of the file's bytes (provenance: which delivery was cleaned).
    value_labels : column → {code: label} as stored in the file (SPSS, Stata, xpt).
    column_labels : column → variable label as stored in the file.
    encoding, separator, decimal : for CSV, what was used to read it.
    """

    data: pd.DataFrame
    path: Path
    format: str
    sha256: str
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    separator: str | None = None
    decimal: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (the file is only read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    text_columns: Iterable[str] = (),
) -> RawTable:
    """Read one raw survey file; the format is chosen by the file's extension.

    Parameters
    ----------
    path : the file.
    encoding, sep, decimal : CSV only; detected when None (UTF-8 with or without BOM, else
        Windows-1252/Latin-1; ``;``, ``,`` or tab; decimal comma when numbers like ``1,78``
        occur in a file that is not comma-separated). Give them to override the detection.
    text_columns : columns to keep as text in a CSV (respondent ids: ``007`` must stay ``007``).

    Raises
    ------
    DataValidationError
        When the file does not exist, is empty, is truncated or damaged, or is not what its
        extension says.
    """
    path = Path(path)
    fmt = READERS.get(path.suffix.lower())
    if fmt is None:
        raise DataValidationError(
            f"unknown file type {path.suffix!r}; supported: {', '.join(sorted(READERS))}",
            file=str(path),
        )
    if not path.is_file():
        raise DataValidationError("the file does not exist", file=str(path))
    if path.stat().st_size == 0:
        raise DataValidationError("the file is empty (0 bytes)", file=str(path))
    if fmt == "csv":
        return _read_csv(path, encoding, sep, decimal, set(text_columns))
    _check_signature(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_readstat(path, fmt)


def read_columns(path: str | Path) -> list[str]:
    """The column names of a survey file, reading as little as the format allows.

    Raises
    ------
    DataValidationError
        As :func:`read_table`, for a file whose header cannot be read.
    """
    path = Path(path)
    fmt = READERS.get(path.suffix.lower())
    if fmt is None or not path.is_file():
        return read_table(path).data.columns.tolist()  # raises the readable error
    if path.stat().st_size == 0:
        raise DataValidationError("the file is empty (0 bytes)", file=str(path))
    if fmt == "csv":
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
        text = _decode(head, None, path, partial=True)[0]
        first = text.splitlines()[0] if text.strip() else ""
        return next(csv.reader([first], delimiter=_sniff_separator(text, path)), [])
    _check_signature(path, fmt)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_schema(path).names
        except Exception as exc:  # pyarrow raises several types for broken files
            raise _broken(path, fmt, exc) from exc
    reader = _readstat_function(fmt)
    try:
        _, meta = reader(str(path), metadataonly=True)
    except Exception as exc:
        raise _broken(path, fmt, exc) from exc
    return list(meta.column_names)


def survey_files(path: str | Path, id_columns: Iterable[str] = ("lbnr",)) -> list[Path]:
    """The survey files of a delivery: the file itself, or the survey files in a folder.

    In a folder, a file is a survey file when its extension is a supported format and either its
    name says so (``sundhedsprofil_2021.sav``) or its header holds the respondent id column
    (any of ``id_columns``, ignoring case). README, marker, register and status files are
    therefore skipped without being named in a list here.

    Raises
    ------
    DataValidationError
        When the path does not exist or a folder holds no survey file.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.exists():
        raise DataValidationError("no such file or folder", file=str(path))
    wanted = {name.casefold() for name in id_columns}
    found = []
    for candidate in sorted(path.iterdir()):
        if not candidate.is_file() or candidate.name.startswith("."):
            continue
        if candidate.suffix.lower() not in READERS:
            continue
        if SURVEY_NAME.search(candidate.stem):
            found.append(candidate)
            continue
        columns = {str(c).casefold() for c in read_columns(candidate)}
        if columns & wanted:
            found.append(candidate)
    if not found:
        raise DataValidationError(
            "the folder holds no survey file (a supported file type whose name contains "
            "'sundhedsprofil' or whose columns include the respondent id "
            f"{', '.join(sorted(id_columns))})",
            file=str(path),
        )
    return found


# ================================================================================================
# CSV
# ================================================================================================


def _read_csv(
    path: Path, encoding: str | None, sep: str | None, decimal: str | None, text_columns: set[str]
) -> RawTable:
    with open(path, "rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = _decode(data, encoding, path)
    if not text.strip():
        raise DataValidationError("the file holds only blank lines", file=str(path))
    sep = sep or _sniff_separator(text, path)
    decimal = decimal or _sniff_decimal(text, sep)
    header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=sep))
    _check_complete_last_line(text, sep, len(header), path)
    folded = {name.casefold() for name in text_columns}
    dtype = {name: "str" for name in header if name.casefold() in folded}
    try:
        table = pd.read_csv(
            _io.StringIO(text),
            sep=sep,
            decimal=decimal,
            dtype=dtype or None,
            keep_default_na=False,
            na_values=["", " ", "NA", "NaN", "."],
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected, line, saw = found.groups()
            raise DataValidationError(
                f"line {line} has {saw} fields but the header has {expected}; the file is "
                f"damaged or the separator {sep!r} also occurs inside a value",
                file=str(path),
            ) from exc
        raise DataValidationError(f"the CSV file cannot be parsed: {exc}", file=str(path)) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError("the file holds no header line", file=str(path)) from exc
    return RawTable(
        data=table,
        path=path,
        format="csv",
        sha256=digest,
        encoding=encoding,
        separator=sep,
        decimal=decimal,
    )


def _decode(data: bytes, encoding: str | None, path: Path, partial: bool = False):
    """Text of a CSV file and the encoding used: the override, UTF-8 (BOM or not), cp1252, Latin-1.

    A UTF-8 byte-order mark is removed before the text is decoded; text after it that is not
    UTF-8 is read as cp1252 (reported as ``"cp1252+BOM"``).
    """
    if b"\x00" in data[:8192]:
        raise DataValidationError(
            "the file is not a text (CSV) file: it holds binary data; check that the extension "
            "matches the format",
            file=str(path),
        )
    if encoding is not None:
        if data.startswith(b"\xef\xbb\xbf") and encoding.replace("_", "-").lower() != "utf-16":
            data = data[3:]  # the byte-order mark is not part of the first column's name
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataValidationError(
                f"the file cannot be read with encoding {encoding!r}: {exc}", file=str(path)
            ) from exc
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        # Some export tools write a UTF-8 byte-order mark in front of Windows-1252 text: the
        # mark alone does not make the rest UTF-8, so the text after it is tried like any other.
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as exc:
        if partial and exc.start > len(data) - 4:  # a character cut at the end of the sample
            return data[: exc.start].decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    # Danish extracts from Windows tools are Windows-1252; bytes it does not define fall back
    # to Latin-1, which decodes anything.
    try:
        return data.decode("cp1252"), "cp1252+BOM" if bom else "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1+BOM" if bom else "latin-1"


def _sniff_separator(text: str, path: Path) -> str:
    """The separator: whichever of ``;``, tab and ``,`` splits the header into most fields."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise DataValidationError(
            "cannot find the separator: the header line holds no ';', ',' or tab; pass sep= "
            "if the file uses another one",
            file=str(path),
        )
    return best


_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


def _sniff_decimal(text: str, sep: str) -> str:
    """Decimal comma when a field looks like ``1,78`` in a file that is not comma-separated."""
    if sep == ",":
        return "."
    lines = text.split("\n", SNIFF_LINES + 1)[1 : SNIFF_LINES + 1]
    for line in lines:
        for value in line.rstrip("\r").split(sep):
            if _DECIMAL_COMMA.match(value.strip('"')):
                return ","
    # Numbers with decimals may first appear further down: look for any digit,digit pattern.
    if re.search(rf"(?:^|{re.escape(sep)})-?\d+,\d+(?:{re.escape(sep)}|\r?$)", text, re.M):
        return ","
    return "."


def _check_complete_last_line(text: str, sep: str, n_fields: int, path: Path) -> None:
    """A file cut off mid-write ends without a newline and with a short last row."""
    if text.endswith("\n"):
        return
    last = text.rsplit("\n", 1)[-1]
    if not last.strip():
        return
    fields = next(csv.reader([last], delimiter=sep), [])
    if len(fields) < n_fields:
        line = text.count("\n") + 1
        raise DataValidationError(
            f"the file is truncated: the last line ({line}) stops after {len(fields)} of "
            f"{n_fields} fields and has no line end; ask for the complete file",
            file=str(path),
        )


# ================================================================================================
# Binary formats
# ================================================================================================


def _check_signature(path: Path, fmt: str) -> None:
    """Compare the file's first (and, where the format has them, last) bytes with the format's."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(64)
        handle.seek(max(size - 16, 0))
        tail = handle.read()
    ok = {
        "parquet": head.startswith(b"PAR1"),
        "sav": head[:4] in (b"$FL2", b"$FL3"),
        # Stata 13+ (XML-like header) or the older binary formats 104-115: release byte, byte
        # order (1 or 2), file type 1.
        "dta": head.startswith(b"<stata_dta>")
        or (len(head) > 2 and 104 <= head[0] <= 115 and head[1] in (1, 2) and head[2] == 1),
        "sas7bdat": head[:32] == SAS7BDAT_MAGIC,
        "xpt": head.startswith(b"HEADER RECORD*******LIB"),
    }[fmt]
    if not ok:
        what = "text" if _looks_like_text(head) else "something else"
        raise DataValidationError(
            f"the file is not in {FORMAT_NAMES[fmt]} format (its first bytes look like {what}); "
            "check that the extension matches the format",
            file=str(path),
        )
    truncated = {
        "parquet": not tail.endswith(b"PAR1"),
        "dta": head.startswith(b"<stata_dta>") and not tail.rstrip().endswith(b"</stata_dta>"),
        # Transport files are written in 80-byte records.
        "xpt": size % 80 != 0,
    }.get(fmt, False)
    if truncated:
        raise DataValidationError(
            f"the {FORMAT_NAMES[fmt]} file is truncated (its end is missing); ask for the "
            "complete file",
            file=str(path),
        )


def _looks_like_text(head: bytes) -> bool:
    return bool(head) and all(b in b"\t\r\n" or 32 <= b < 127 or b >= 128 for b in head)


def _broken(path: Path, fmt: str, exc: Exception) -> DataValidationError:
    return DataValidationError(
        f"the {FORMAT_NAMES[fmt]} file is damaged or truncated and cannot be read ({exc})",
        file=str(path),
    )


def _read_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    digest = file_sha256(path)
    try:
        table = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for broken files
        raise _broken(path, "parquet", exc) from exc
    return RawTable(data=table, path=path, format="parquet", sha256=digest)


def _readstat_function(fmt: str):
    import pyreadstat

    return {
        "sav": pyreadstat.read_sav,
        "dta": pyreadstat.read_dta,
        "sas7bdat": pyreadstat.read_sas7bdat,
        "xpt": pyreadstat.read_xport,
    }[fmt]


def _read_readstat(path: Path, fmt: str) -> RawTable:
    digest = file_sha256(path)
    reader = _readstat_function(fmt)
    try:
        # user_missing=False: SPSS user-missing values arrive as missing (NaN); the codebook's
        # missing codes catch those that were not declared in the file.
        table, meta = reader(str(path))
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise _broken(path, fmt, exc) from exc
    expected = getattr(meta, "number_rows", None)
    if expected is not None and expected >= 0 and len(table) < expected:
        raise DataValidationError(
            f"the {FORMAT_NAMES[fmt]} file is truncated: its header announces {expected} rows, "
            f"only {len(table)} could be read",
            file=str(path),
        )
    labels = {
        col: {float(k): str(v) for k, v in mapping.items()}
        for col, mapping in (meta.variable_value_labels or {}).items()
    }
    column_labels = {
        col: lab for col, lab in (meta.column_names_to_labels or {}).items() if lab is not None
    }
    return RawTable(
        data=table,
        path=path,
        format=fmt,
        sha256=digest,
        value_labels=labels,
        column_labels=column_labels,
    )
