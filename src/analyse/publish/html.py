"""HTML building blocks shared by the brief, the data-quality report and the batch's pages.

Everything here returns text that is safe to put in a page: cells and captions are expected to
be escaped by the caller with :func:`esc` (or to be markup made here), and :func:`html_page`
wraps a body in a self-contained document with the briefs' stylesheet inline.
"""

from __future__ import annotations

import hashlib
import html
import re
from importlib.resources import files
from pathlib import Path


class Html(str):
    """A string of HTML that Jupyter (and nbconvert) renders as HTML.

    Only the HTML goes into the notebook output, with a one-line plain-text stand-in: the
    default plain text of a ``str`` would be the whole quoted HTML again (≈ 1 MB per brief
    with its embedded figures), doubling what the kernel sends and the notebook stores.
    """

    def _repr_html_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(f"<HTML, {len(self)} tegn>")


def esc(text) -> str:
    """``text`` as HTML-escaped text (quotes included)."""
    return html.escape(str(text))


def plain(text) -> str:
    """Cell or header HTML as plain text for an attribute: tags, soft hyphens and breaks out."""
    text = re.sub(r"<br\s*/?>", " ", str(text))
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\u00ad", "")
    return " ".join(text.split())


def html_table(
    headers: list[str],
    rows: list[list[str] | str],
    *,
    numeric: set[int] = frozenset(),
    caption: str | None = None,
    row_classes: list[str] | None = None,
    group_class: str | None = None,
    table_class: str = "",
    stack: bool | None = None,
) -> str:
    """An accessible HTML table (cells already escaped/formatted).

    - ``caption`` (escaped HTML) names the table; the wrapper, which scrolls sideways where the
      table is wider than the screen, is a labelled region reachable by keyboard
      (``tabindex="0"``; WCAG 2.1.1, axe ``scrollable-region-focusable``).
    - The first cell of every data row is a row header (``<th scope="row">``), so a screen
      reader names the row ("Ryger dagligt") with each of its cells.
    - A row given as a string is a heading row across the table. Rows whose class is
      ``group_class`` start a new ``<tbody>`` and are ``<th scope="rowgroup">``; other heading
      rows stay ``<td colspan>`` (a second group header in one ``tbody`` would wrongly apply to
      the rows of the next group).
    - ``stack`` (default: more than three columns): on a phone the table is shown as one card
      per row, each value labelled from its ``data-label`` (see ``templates/brief.css``); the
      explicit ARIA roles keep the table semantics when CSS changes how the cells display.
    - The caption's id is a hash of the table, so the same table gives the same bytes.
    """
    stack = len(headers) > 3 if stack is None else stack
    n = len(headers)

    def role(name: str) -> str:
        return f' role="{name}"' if stack else ""

    def cls(*names: str) -> str:
        names = [x for x in names if x]
        return f' class="{" ".join(names)}"' if names else ""

    labels = [html.escape(plain(h), quote=True) for h in headers]
    head = "".join(
        f'<th scope="col"{cls("num" if i in numeric else "")}{role("columnheader")}>{h}</th>'
        for i, h in enumerate(headers)
    )
    groups: list[list[str]] = [[]]
    for r, row in enumerate(rows):
        row_class = row_classes[r] if row_classes and row_classes[r] else ""
        if isinstance(row, str):  # a heading row across the whole table
            if group_class and row_class == group_class:
                if groups[-1]:
                    groups.append([])
                groups[-1].append(
                    f'<tr{cls(row_class)}{role("row")}><th colspan="{n}" scope="rowgroup"'
                    f"{role('rowheader')}>{row}</th></tr>"
                )
            else:
                groups[-1].append(
                    f'<tr{cls(row_class)}{role("row")}><td colspan="{n}"{role("cell")}>'
                    f"{row}</td></tr>"
                )
            continue
        cells = []
        for i, c in enumerate(row):
            num = "num" if i in numeric else ""
            if i == 0:
                cells.append(f'<th scope="row"{cls(num)}{role("rowheader")}>{c}</th>')
            else:
                cells.append(f'<td{cls(num)} data-label="{labels[i]}"{role("cell")}>{c}</td>')
        groups[-1].append(f"<tr{cls(row_class)}{role('row')}>{''.join(cells)}</tr>")
    body = "".join(f"<tbody{role('rowgroup')}>{''.join(g)}</tbody>" for g in groups if g)
    key = hashlib.sha1(f"{caption}|{head}|{body}".encode()).hexdigest()[:10]
    cap, label = "", ""
    if caption:
        cap = f'<caption id="cap-{key}">{caption}</caption>'
        label = f' role="region" aria-labelledby="cap-{key}"'
    table_cls = cls(table_class, "stack" if stack else "")
    return (
        f'<div class="table-wrap" tabindex="0"{label}>'
        f"<table{table_cls}{role('table')}>{cap}<thead{role('rowgroup')}><tr{role('row')}>"
        f"{head}</tr></thead>{body}</table></div>"
    )


def page_css() -> str:
    """The briefs' stylesheet (``templates/brief.css``)."""
    return Path(str(files("analyse.publish") / "templates" / "brief.css")).read_text(
        encoding="utf-8"
    )


def html_page(title: str, body: str, *, lang: str = "da", kind: str = "brief") -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external resources).

    ``kind`` is the class of ``<main>``: "brief" (briefs, the index) or "overview" (the
    agreement's overview, printed on landscape A4); ``<main id="indhold">`` is the target of
    the pages' skip links.
    """
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{page_css()}\n</style>\n</head>\n"
        f'<body>\n<main class="{html.escape(kind)}" id="indhold">\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )
