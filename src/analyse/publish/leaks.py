"""Leak check over produced files: nothing respondent-level may leave the project.

Reads every HTML, CSV, JSON and notebook file that is about to be published (embedded figures
decoded, SVG text included) and reports respondent ids, raw variable names followed by values,
and tables with a row per respondent. The batch runs it on every brief before it is written.
The suppression rules themselves live in :mod:`analyse.stats.disclosure`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

from analyse.errors import ParameterError
from analyse.stats.disclosure import DisclosureError

#: Default pattern of a respondent id in the Sundhedsprofil deliveries (real and synthetic):
#: "SP", the two-digit wave, a hyphen and at least six digits, e.g. ``SP21-004711``.
DEFAULT_ID_PATTERN = r"\bSP\d{2}-\d{6,}\b"
#: Column headers that name a respondent-level identifier. A bare "id" is deliberately not
#: included: briefs legitimately show indicator ids.
DEFAULT_ID_COLUMN_PATTERN = (
    r"(?i)(respondent|resp|svarperson|person|besvarelse)[ _-]?(id|nr|nummer)|"
    r"cpr([ _-]?nr)?|pnr|lbnr|løbenr|loebenr"
)
#: File types :func:`check_outputs` reads when given a directory.
OUTPUT_SUFFIXES = (".html", ".htm", ".csv", ".json", ".ipynb")


# ---------------------------------------------------------------------------------------------
# Leak check over produced files
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One possible leak in a produced file.

    ``kind`` is ``"respondent_id"``, ``"raw_variable"``, ``"respondent_table"`` or
    ``"id_column"``; ``location`` says where ("linje 12", "tabel 2 (linje 40)", "$.data").
    """

    file: str
    kind: str
    detail: str
    location: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.kind}: {self.detail}"


def check_outputs(
    paths: str | Path | Iterable[str | Path],
    *,
    id_pattern: str = DEFAULT_ID_PATTERN,
    raw_variable_names: Iterable[str] = (),
    respondent_count: int | None = None,
    id_column_pattern: str = DEFAULT_ID_COLUMN_PATTERN,
    suffixes: Sequence[str] = OUTPUT_SUFFIXES,
) -> list[Finding]:
    """Scan produced HTML, CSV, JSON and notebook files for microdata; return the findings.

    Looks for

    * respondent ids matching ``id_pattern`` anywhere in the text (default
      :data:`DEFAULT_ID_PATTERN`, ``SP`` + two-digit wave + ``-`` + ≥ 6 digits; pass the
      pattern of the delivery at hand);
    * raw variable names followed by a value (``koen: 2``, ``"koen": 2``, ``koen = 2``,
      ``koen  2``), a table column headed by a raw name, or an HTML table row that starts with
      a raw name (a printed respondent record);
    * tables (HTML ``<table>``, CSV, JSON lists of records, notebook output tables) with at
      least ``respondent_count`` data rows, i.e. one row per respondent or more. Pass the
      number of respondents the outputs can describe; to be strict in a batch, the smallest
      area's count. ``None`` skips this check;
    * table columns whose header names a respondent identifier (``id_column_pattern``).

    Parameters
    ----------
    paths
        Files and/or directories (searched recursively for ``suffixes``).

    Returns
    -------
    list of Finding
        Empty if nothing was found. Ids are shown truncated, so the report itself leaks nothing.

    Raises
    ------
    ParameterError
        If a path does not exist or ``respondent_count`` is not a positive whole number.
    """
    if respondent_count is not None and (
        isinstance(respondent_count, bool)
        or not isinstance(respondent_count, int | np.integer)
        or respondent_count < 1
    ):
        raise ParameterError(
            f"respondent_count must be a positive whole number, got {respondent_count!r}"
        )
    scanner = _Scanner(
        re.compile(id_pattern),
        [str(name) for name in raw_variable_names if str(name).strip()],
        respondent_count,
        re.compile(id_column_pattern),
    )
    findings: list[Finding] = []
    for path in _output_files(paths, suffixes):
        findings.extend(scanner.scan(path))
    return findings


def assert_no_leaks(paths: str | Path | Iterable[str | Path], **options: Any) -> None:
    """Run :func:`check_outputs` and raise :class:`DisclosureError` if anything is found."""
    findings = check_outputs(paths, **options)
    if findings:
        listing = "\n".join(f"  - {finding}" for finding in findings[:50])
        more = f"\n  … and {len(findings) - 50} more" if len(findings) > 50 else ""
        raise DisclosureError(
            f"{len(findings)} possible leak(s) of microdata in the outputs:\n{listing}{more}",
            findings=findings,
        )


def _output_files(paths: str | Path | Iterable[str | Path], suffixes: Sequence[str]) -> list[Path]:
    if isinstance(paths, str | Path):
        paths = [paths]
    wanted = {s.lower() for s in suffixes}
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise ParameterError(f"output path {str(path)!r} does not exist")
    return files


def _mask(identifier: str) -> str:
    return identifier[:5] + "…"


class _Scanner:
    def __init__(
        self,
        id_regex: re.Pattern[str],
        raw_names: list[str],
        respondent_count: int | None,
        id_column_regex: re.Pattern[str],
    ) -> None:
        self.id_regex = id_regex
        self.raw_names = {name.casefold() for name in raw_names}
        self.respondent_count = respondent_count
        self.id_column_regex = id_column_regex
        self.raw_regex = None
        if raw_names:
            names = "|".join(re.escape(name) for name in sorted(raw_names, key=len, reverse=True))
            value = r"""(?:-?\d[\d.,]*|"[^"]*"|'[^']*')"""
            # The look-ahead on the names' first letters lets most positions fail at once
            # (≈ 10× faster on markup and whitespace than trying every name everywhere).
            first = "".join(sorted({c for n in raw_names for c in (n[0].lower(), n[0].upper())}))
            self.raw_regex = re.compile(
                rf"""(?<![\w-])(?=[{re.escape(first)}])({names})(?![\w-])"""
                rf"""(?:["']?\s*[:=]\s*|[ \t]+){value}""",
                re.IGNORECASE,
            )

    def scan(self, path: Path) -> list[Finding]:
        text, embedded = _split_embedded(_read_text(path))
        suffix = path.suffix.lower()
        findings = self._scan_text(path, text)
        for number, (mime, payload, line) in enumerate(embedded, start=1):
            findings += self._scan_embedded(
                path, mime, payload, f"linje {line}, indlejret fil {number} ({mime})"
            )
        if suffix in (".html", ".htm"):
            findings += self._scan_html(path, text, prefix="")
        elif suffix == ".csv":
            findings += self._scan_csv(path, text)
        elif suffix == ".ipynb":
            findings += self._scan_notebook(path, text)
        elif suffix == ".json":
            findings += self._scan_json(path, text)
        return findings

    def _scan_text(self, path: Path, text: str) -> list[Finding]:
        findings = []
        for number, line in enumerate(text.splitlines(), start=1):
            findings += self._pattern_findings(path, line, f"linje {number}")
        return findings

    def _pattern_findings(self, path: Path, text: str, location: str) -> list[Finding]:
        """Respondent ids and raw variable names with a value in ``text``."""
        findings = [
            Finding(str(path), "respondent_id", f"respondent id {_mask(m.group(0))}", location)
            for m in self.id_regex.finditer(text)
        ]
        if self.raw_regex is not None:
            findings += [
                Finding(
                    str(path), "raw_variable", f"raw variable {m.group(1)!r} with a value", location
                )
                for m in self.raw_regex.finditer(text)
            ]
        return findings

    def _scan_embedded(self, path: Path, mime: str, payload: str, location: str) -> list[Finding]:
        """An embedded SVG or text file: its readable text (SVG tags dropped, comments kept).

        Matplotlib writes each text it draws as outlines preceded by a comment with the text,
        so labels of an SVG chart are checked. Raster images (PNG, JPEG) hold no text to check.
        """
        if not (mime.startswith("text/") or mime.endswith(("+xml", "/xml", "/json"))):
            return []
        try:
            content = base64.b64decode(payload, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return []
        if mime.endswith("xml"):
            content = _MARKUP_TAG.sub(" ", content)
        return self._pattern_findings(path, content, location)

    def _check_table(
        self, path: Path, header: list[str], rows: list[list[str]], location: str
    ) -> list[Finding]:
        findings = []
        if self.respondent_count is not None and len(rows) >= self.respondent_count:
            findings.append(
                Finding(
                    str(path),
                    "respondent_table",
                    f"table with {len(rows)} rows, at least one per respondent "
                    f"({self.respondent_count} respondents)",
                    location,
                )
            )
        for cell in header:
            label = cell.strip()
            if label and self.id_column_regex.fullmatch(label):
                findings.append(
                    Finding(
                        str(path), "id_column", f"column {label!r} names a respondent id", location
                    )
                )
            if rows and label.casefold() in self.raw_names:
                findings.append(
                    Finding(
                        str(path), "raw_variable", f"column {label!r} is a raw variable", location
                    )
                )
        for row in rows:
            # A printed respondent record (a pandas Series as HTML): raw name, then a value.
            if len(row) >= 2 and row[0].strip().casefold() in self.raw_names and row[1].strip():
                findings.append(
                    Finding(
                        str(path),
                        "raw_variable",
                        f"row {row[0].strip()!r} shows a raw variable with a value",
                        location,
                    )
                )
        return findings

    def _scan_html(self, path: Path, text: str, prefix: str) -> list[Finding]:
        parser = _TableParser()
        parser.feed(text)
        parser.close()
        findings = []
        for number, table in enumerate(parser.tables, start=1):
            location = f"{prefix}tabel {number} (linje {table['line']})"
            findings += self._check_table(path, table["header"], table["rows"], location)
        return findings

    def _scan_csv(self, path: Path, text: str) -> list[Finding]:
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return []
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        records = list(csv.reader(io.StringIO("\n".join(lines)), dialect))
        return self._check_table(path, records[0], records[1:], "tabel 1 (CSV)")

    def _scan_json(self, path: Path, text: str) -> list[Finding]:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return []
        findings = []
        stack: list[tuple[Any, str]] = [(document, "$")]
        while stack:
            node, where = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if self.id_column_regex.fullmatch(str(key)):
                        findings.append(
                            Finding(
                                str(path), "id_column", f"key {key!r} names a respondent id", where
                            )
                        )
                    # A raw name holding a list is a column of raw values ({"koen": [1, 2]});
                    # a raw name with a single value is found by the line scan.
                    if str(key).casefold() in self.raw_names and isinstance(value, list):
                        findings.append(
                            Finding(
                                str(path),
                                "raw_variable",
                                f"key {key!r} holds values of a raw variable",
                                where,
                            )
                        )
                    stack.append((value, f"{where}.{key}"))
            elif isinstance(node, list):
                # Records or a column of single values: either way one element per respondent.
                if self.respondent_count is not None and len(node) >= self.respondent_count:
                    findings.append(
                        Finding(
                            str(path),
                            "respondent_table",
                            f"list of {len(node)} elements, at least one per respondent "
                            f"({self.respondent_count} respondents)",
                            where,
                        )
                    )
                stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node))
        return findings

    def _scan_notebook(self, path: Path, text: str) -> list[Finding]:
        try:
            notebook = json.loads(text)
        except json.JSONDecodeError:
            return []
        findings = []
        for index, cell in enumerate(notebook.get("cells", []), start=1):
            for output in cell.get("outputs", []) or []:
                html = (output.get("data") or {}).get("text/html")
                if html:
                    html = "".join(html) if isinstance(html, list) else str(html)
                    findings += self._scan_html(path, html, prefix=f"celle {index}, ")
        return findings


# A base64 data URI (an embedded figure); the payload is checked decoded, not as base64.
_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,([A-Za-z0-9+/=]*)")
# An XML/SVG tag other than a comment.
_MARKUP_TAG = re.compile(r"<(?!!--)[^>]*>")


def _split_embedded(text: str) -> tuple[str, list[tuple[str, str, int]]]:
    """The text with data-URI payloads removed, and the payloads as (mime type, base64, line).

    Scanning ≈ 1 MB of base64 per brief line by line was most of the leak check's time and
    could only ever find chance matches; the payloads are checked decoded instead.
    """
    embedded = []
    for match in _DATA_URI.finditer(text):
        if match.group(2):
            line = text.count("\n", 0, match.start()) + 1
            embedded.append((match.group(1).lower(), match.group(2), line))
    if not embedded:
        return text, []
    return _DATA_URI.sub(lambda m: f"data:{m.group(1)};base64,", text), embedded


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Danish CSV exports are often cp1252.
        return data.decode("cp1252", errors="replace")


class _TableParser(HTMLParser):
    """Collects every <table> as header cells (rows of <th> only) and data rows (rows with <td>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []
        self._cell: list[str] | None = None
        self._row: list[tuple[str, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._close_row()
            table = {"line": self.getpos()[0], "header": [], "rows": []}
            self.tables.append(table)  # numbered by where they start
            self._open.append(table)
        elif tag == "tr" and self._open:
            self._close_row()
            self._row = []
        elif tag in ("td", "th") and self._open:
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell = [tag]

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table" and self._open:
            self._close_row()
            self._open.pop()

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], "".join(self._cell[1:]).strip()))
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row and self._open:
            table = self._open[-1]
            texts = [text for _, text in self._row]
            if any(tag == "td" for tag, _ in self._row):
                table["rows"].append(texts)
            else:
                table["header"].extend(texts)
        self._row = None
