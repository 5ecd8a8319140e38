"""HTML building blocks shared by the brief, the data-quality report and the batch's pages.

Everything here returns text that is safe to put in a page: cells and captions are expected to
be escaped by the caller with :func:`esc` (or to be markup made here), and :func:`html_page`
wraps a body in a self-contained document with the briefs' stylesheet inline.
"""

from __future__ import annotations

import html
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


def html_table(
    headers: list[str],
    rows: list[list[str] | str],
    *,
    numeric: set[int] = frozenset(),
    caption: str | None = None,
    row_classes: list[str] | None = None,
) -> str:
    """An HTML table (cells already escaped/formatted), wrapped so it scrolls on a phone."""
    head = "".join(
        f'<th scope="col" class="{"num" if i in numeric else ""}">{h}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for r, row in enumerate(rows):
        css = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        if isinstance(row, str):  # a heading row across the whole table
            body.append(f'<tr{css}><td colspan="{len(headers)}">{row}</td></tr>')
            continue
        cells = "".join(
            f'<td class="{"num" if i in numeric else ""}">{c}</td>' for i, c in enumerate(row)
        )
        body.append(f"<tr{css}>{cells}</tr>")
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def page_css() -> str:
    """The briefs' stylesheet (``templates/brief.css``)."""
    return Path(str(files("analyse.publish") / "templates" / "brief.css")).read_text(
        encoding="utf-8"
    )


def html_page(title: str, body: str, *, lang: str = "da") -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external resources)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{page_css()}\n</style>\n</head>\n"
        f'<body>\n<main class="brief">\n{body}\n</main>\n</body>\n</html>\n'
    )
