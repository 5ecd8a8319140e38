"""Print checks of a brief's A4 PDF (helpers for tests/test_browser.py; poppler-utils).

A column cut off at the page edge loses its glyphs in Chromium's PDF, so a cut header is
missing from ``pdftotext`` or comes out in pieces ("Mo / re / re"). For a brief (HTML) and its
PDF:

- :func:`status_table` parses the status table's column headers and first full indicator row
  from the HTML (the first ``<table>`` after the heading "Status for målsætningerne");
- :func:`find_missing` looks each header up in the PDF text between that heading and the
  table's legend, whitespace- and hyphen-insensitive, or word by word in order with a bounded
  gap (a header wrapped in a narrow column is interleaved with its neighbours);
- :func:`find_missing_words` checks a row's cells word by word in any order (pdftotext reads a
  wrapped table row column by column);
- :func:`page_texts` gives the text of every page (page count = its length).

Adapted from the helper's prototype in /work/proto18 (print_check.py).
"""

from __future__ import annotations

import html as htmllib
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

STATUS_HEADING = "Status for målsætningerne"
#: The legend right after the status table; ends the PDF text segment that is searched.
LEGEND_START = "Status: ✓ Bedre"


class _StatusTable(HTMLParser):
    """Header cells and the first full data row of the first table after the status heading
    (cell text with ``<br>`` as a space)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.heading: list[str] | None = None
        self.after_heading = self.in_table = self.done = self.in_thead = False
        self.headers: list[str] = []
        self.first_row: list[str] = []
        self.row: list[str] = []
        self.row_spans = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if re.fullmatch(r"h[1-6]", tag) and not self.in_table:
            self.heading = []
        elif self.after_heading and tag == "table":
            self.in_table = True
        elif not self.in_table:
            return
        elif tag == "thead":
            self.in_thead = True
        elif tag == "tr":
            self.row, self.row_spans = [], False
        elif tag in ("td", "th"):
            self.cell = []
            if dict(attrs).get("colspan") not in (None, "1"):
                self.row_spans = True
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if self.done:
            return
        if re.fullmatch(r"h[1-6]", tag) and self.heading is not None:
            if " ".join("".join(self.heading).split()) == STATUS_HEADING:
                self.after_heading = True
            self.heading = None
        elif not self.in_table:
            return
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr":
            if self.in_thead and not self.headers:
                self.headers = list(self.row)
            elif (
                not self.in_thead
                and not self.first_row
                and not self.row_spans
                and len(self.row) == len(self.headers)
            ):
                self.first_row = list(self.row)
        elif tag == "thead":
            self.in_thead = False
        elif tag == "table":
            self.done = True

    def handle_data(self, data):
        if self.heading is not None:
            self.heading.append(data)
        if self.cell is not None:
            self.cell.append(data)


def status_table(html_text: str) -> dict:
    """Headers and first full data row of the status table (empty lists if there is none)."""
    parser = _StatusTable()
    parser.feed(html_text)
    return {"headers": parser.headers, "first_row": parser.first_row}


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def page_texts(pdf: Path) -> list[str]:
    """The text of each page (``pdftotext``; pages are separated by form feeds)."""
    text = _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def squash(text: str) -> str:
    """Text without whitespace and hyphens (ASCII, U+2010 and the soft hyphen, which Chromium
    may print as "-" where it breaks a word)."""
    return re.sub(r"[\s\-\u2010\u00ad]+", "", text)


def _present(item: str, text: str, window: int = 400) -> bool:
    hay = squash(text)
    if squash(item) in hay:
        return True
    pos = -1
    for word in re.split(r"[\s\u00ad]+", item):
        if not squash(word):
            continue
        found = hay.find(squash(word), pos + 1)
        if found < 0 or (pos >= 0 and found - pos > window):
            return False
        pos = found
    return True


def find_missing(items: list[str], text: str) -> list[str]:
    """The items (e.g. column headers) not found in ``text`` (see the module docstring)."""
    return [i for i in items if i and not _present(i, text)]


def find_missing_words(items: list[str], text: str) -> list[str]:
    """The items with a word that is nowhere in ``text`` (any order)."""
    hay = squash(text)
    return [i for i in items if any(squash(w) and squash(w) not in hay for w in i.split())]


def status_segment(text: str) -> str:
    """The text from the status heading to the table's legend ("" if there is no heading)."""
    start = text.find(STATUS_HEADING)
    if start < 0:
        return ""
    end = text.find(LEGEND_START, start + len(STATUS_HEADING))
    return text[start : end if end > 0 else len(text)]


def heading_text(html_text: str, tag: str = "h1") -> list[str]:
    """The text of every ``<tag>`` in the page (tags removed, entities decoded)."""
    return [
        " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", m)).split())
        for m in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html_text, flags=re.S)
    ]
