"""Write the analysis notebooks of an agreement from one template: one per målsætning with a
survey or register follow-up, and ``udforsk`` (any indicator, from the microdata).

The template (``analyse/run/templates/maalsaetning.py``, jupytext percent format) holds every
cell; only the parameters' defaults and the Danish headings differ between the notebooks. So a
notebook for one's own agreement is ``analyse notebooks --agreement my-agreement.yml``, and a
change to the analysis is made once, in the template. Each notebook is written as ``.py``
(percent) and ``.ipynb`` without outputs, paired by jupytext (docs/notebooks.md).
"""

from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path

import jupytext

from analyse.errors import ParameterError
from analyse.reference.catalogue import load_agreement

TEMPLATE = "maalsaetning.py"
EXPLORE_NAME = "udforsk"
DEFAULT_KOMMUNE = 461
_JUPYTEXT = {
    "cell_metadata_filter": "tags,-papermill,-execution",
    "formats": "ipynb,py:percent",
    "notebook_metadata_filter": "kernelspec,jupytext,-papermill",
}
_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def template_text() -> str:
    """The template's text (placeholders in braces)."""
    return (files("analyse.run") / "templates" / TEMPLATE).read_text(encoding="utf-8")


def notebook_name(objective_id: str) -> str:
    """File stem of a målsætning's notebook: ``maal_<objective id>``."""
    return f"maal_{objective_id}"


def default_area(agreement) -> tuple[str, str]:
    """The notebooks' default area: Odense Kommune where the agreement's scope holds it (as the
    brief's notebook), else the scope's first area."""
    if DEFAULT_KOMMUNE in agreement.scope.members:
        return "kommune", str(DEFAULT_KOMMUNE)
    return agreement.scope.level, str(agreement.scope.areas[0])


def notebook_texts(agreement_id: str = "syddanmark-2024-2027") -> dict[str, str]:
    """The percent-format text of every analysis notebook of the agreement, by file stem.

    Raises
    ------
    ParameterError
        Unknown agreement, or an agreement without survey or register indicators.
    """
    agreement = load_agreement(agreement_id)
    template = template_text()
    area_level, area_code = default_area(agreement)
    texts = {}
    for objective in agreement.objectives:
        ids = [*objective.indicators, *objective.context_indicators]
        if not ids:
            continue  # followed up by the klynge status only: nothing to estimate
        texts[notebook_name(objective.id)] = template.format(
            title=f"Målsætning: {objective.id.replace('_', ' ').capitalize()}",
            objective_text=objective.text,
            follow_up=" ".join(objective.follow_up.split()),
            agreement_title=agreement.title,
            agreement_id=agreement.id,
            objective_id=objective.id,
            indicator_id=ids[0],
            indicator_ids=", ".join(ids),
            microdata="False",
            area_level=area_level,
            area_code=area_code,
        )
    survey = [ind.id for ind in agreement.indicators_by_source("survey")]
    if not texts and not survey:
        raise ParameterError(f"agreement {agreement.id!r} has no survey or register indicators")
    if survey:
        texts[EXPLORE_NAME] = template.format(
            title="Udforsk mikrodata",
            objective_text="alle (vælg en indikator fra aftalen).",
            follow_up="estimater fra svarpersonerne i den rensede levering.",
            agreement_title=agreement.title,
            agreement_id=agreement.id,
            objective_id="",
            indicator_id=survey[0],
            indicator_ids="any survey indicator of the agreement",
            microdata="True",
            area_level=area_level,
            area_code=area_code,
        )
    return texts


def write_notebooks(
    agreement_id: str = "syddanmark-2024-2027", folder: str | Path = "notebooks"
) -> list[Path]:
    """Write ``<stem>.py`` and ``<stem>.ipynb`` (no outputs) for :func:`notebook_texts`.

    Returns the written ``.ipynb`` paths. Existing files of the same names are replaced (they
    are generated; edit the template or copy a notebook under another name to keep changes).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, text in notebook_texts(agreement_id).items():
        notebook = jupytext.reads(text, fmt="py:percent")
        notebook.metadata["jupytext"] = dict(_JUPYTEXT)
        notebook.metadata["kernelspec"] = dict(_KERNELSPEC)
        for index, cell in enumerate(notebook.cells):  # stable ids: regenerating changes nothing
            cell.id = hashlib.sha256(f"{stem}-{index}".encode()).hexdigest()[:8]
        jupytext.write(notebook, folder / f"{stem}.py", fmt="py:percent")
        jupytext.write(notebook, folder / f"{stem}.ipynb")
        written.append(folder / f"{stem}.ipynb")
    return written
