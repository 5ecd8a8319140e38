"""A4 PDFs of the rendered pages with the machine's headless Chromium (``--print-to-pdf``).

The pages carry their own print stylesheet (A4, margins, page breaks; see
``publish/templates/brief.css``), so Chromium only has to print them: no header or footer, no
network, a throw-away profile. Chromium is ``$CHROMIUM`` if set, otherwise the first of
``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH; nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from analyse.errors import ParameterError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Flags for a quiet, offline, throw-away headless Chromium.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-pdf-header-footer",
)
TIMEOUT = 180


def find_chromium() -> str:
    """The Chromium executable to print with.

    Raises
    ------
    ParameterError
        When ``$CHROMIUM`` points to no executable file, or no Chromium is on the PATH; the
        message says how to install one.
    """
    configured = os.environ.get("CHROMIUM")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ParameterError(f"CHROMIUM={configured} is not an executable file")
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ParameterError(
        "PDFs need a headless Chromium, and none was found (looked for "
        f"{', '.join(BROWSERS)} on the PATH): install it (Debian/Ubuntu: `apt-get install "
        "chromium`) or set CHROMIUM to its path"
    )


def html_to_pdf(
    html: str | Path, pdf: str | Path | None = None, *, chromium: str | None = None
) -> Path:
    """Print one HTML file to an A4 PDF beside it (or at ``pdf``); returns the PDF's path.

    The PDF is written to a temporary name and renamed when Chromium has finished, so a failed
    print never leaves a truncated PDF.

    Raises
    ------
    ParameterError
        No Chromium (see :func:`find_chromium`) or the HTML file does not exist.
    RuntimeError
        Chromium failed or wrote no PDF (its last output lines are in the message).
    """
    html = Path(html).resolve()
    if not html.is_file():
        raise ParameterError(f"no HTML file {html} to print")
    pdf = Path(pdf) if pdf is not None else html.with_suffix(".pdf")
    chromium = chromium or find_chromium()
    tmp = pdf.with_name(f".{pdf.stem}.{os.getpid()}.tmp.pdf")
    with tempfile.TemporaryDirectory(prefix="analyse-chromium-") as profile:
        done = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={tmp}",
                html.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"Chromium could not print {html.name} (exit {done.returncode}): {tail}")
    tmp.replace(pdf)
    return pdf


def write_pdfs(pages: Iterable[str | Path], *, workers: int = 2, force: bool = False) -> list[Path]:
    """PDFs beside the HTML pages, ``workers`` Chromium processes at a time.

    A PDF newer than its HTML is kept unless ``force``. Returns the PDF paths in the order of
    ``pages``.

    Raises
    ------
    ParameterError
        No Chromium, before anything is printed.
    RuntimeError
        When a page could not be printed (the others are still printed).
    """
    pages = [Path(p) for p in pages]
    chromium = find_chromium()

    def one(page: Path) -> Path:
        pdf = page.with_suffix(".pdf")
        if not force and pdf.exists() and pdf.stat().st_mtime >= page.stat().st_mtime:
            return pdf
        return html_to_pdf(page, pdf, chromium=chromium)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, page) for page in pages]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} PDF(s) failed; first: {errors[0]}")
    return [f.result() for f in futures]
