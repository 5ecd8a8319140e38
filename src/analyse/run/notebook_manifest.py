"""A manifest of notebook × parameter sets for the batch (``analyse briefs --notebooks FILE``).

A small YAML file lists the analysis notebooks to render per area, each with its own parameters::

    notebooks:
      - notebook: notebooks/maal_alkohol.ipynb
        parameters: {breakdown: "sex"}
      - notebook: notebooks/maal_alkohol.ipynb
        parameters: {breakdown: "sex,education"}
        level: kommune                  # optional: only this level's areas (as --level)
        name: alkohol-koen-uddannelse   # optional: the page is <area>--<name>.html
        label: "Alkohol efter køn og uddannelse"   # optional: the index's link text

Everything is checked before anything is rendered, and every error names the manifest file and
the entry (numbered from 1): a notebook that does not exist, a parameter its parameters cell
does not have (or of another type than its default), a parameter the batch sets per area, a
notebook whose parameters turn suppression off (``internal: true``), two entries with the same
page name, malformed YAML.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import yaml

from analyse.errors import ParameterError
from analyse.run import batch
from analyse.run.batch import NotebookEntry

#: Keys an entry may have.
ENTRY_KEYS = ("notebook", "parameters", "level", "name", "label")
#: Parameters the batch sets for every area (or from the command line): not per entry.
BATCH_PARAMETERS = {
    "agreement_id": "the batch renders the run's agreement (--agreement)",
    "area_level": "the batch sets the area (use `level:` or --level/--area)",
    "area_code": "the batch sets the area (use `level:` or --level/--area)",
    "processed_dir": "the batch passes its processed data (--processed)",
    "raw_dir": "the batch passes its raw delivery (--raw)",
}
LEVELS = ("all", "land", "region", "sundhedsklynge", "kommune")
_NAME = re.compile(r"^[a-z0-9_]+(-[a-z0-9_]+)*$")

#: Danish words for the parameters in a default index label.
_PARAMETER_DA = {
    "indicator_id": "indikator",
    "breakdown": "opdeling",
    "trend_formula": "model",
    "dimension": "ulighed",
    "waves": "målinger",
    "confidence_level": "konfidensniveau",
    "microdata": "mikrodata",
}


def load_manifest(path: str | Path) -> list[NotebookEntry]:
    """The entries of a notebook manifest, every one checked (see the module docstring).

    Relative notebook paths are looked up from the working directory, then the project folder,
    then the manifest's own folder.

    Raises
    ------
    ParameterError
        Naming the manifest file, the entry number and what is wrong with it.
    """
    from analyse.run.paths import project_path

    path = Path(path)
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"notebook manifest {where}: cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise ParameterError(f"notebook manifest {where}: not valid YAML: {detail}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("notebooks"), list):
        raise ParameterError(
            f"notebook manifest {where}: expected a mapping with a list `notebooks:` of entries "
            "(each with `notebook:` and optionally `parameters:`, `level:`, `name:`, `label:`)"
        )
    if not data["notebooks"]:
        raise ParameterError(f"notebook manifest {where}: the list `notebooks:` is empty")
    entries: list[NotebookEntry] = []
    names: dict[str, int] = {}
    for number, raw in enumerate(data["notebooks"], start=1):
        at = f"notebook manifest {where}, entry {number}"
        if not isinstance(raw, dict) or "notebook" not in raw:
            raise ParameterError(f"{at}: expected a mapping with a `notebook:` path, got {raw!r}")
        unknown = sorted(set(raw) - set(ENTRY_KEYS))
        if unknown:
            raise ParameterError(
                f"{at}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(ENTRY_KEYS)})"
            )
        given = Path(str(raw["notebook"]))
        candidates = [given] if given.is_absolute() else [given, project_path(given)]
        if not given.is_absolute():
            candidates.append(path.parent / given)
        notebook = next((c.resolve() for c in candidates if c.is_file()), None)
        if notebook is None:
            raise ParameterError(f"{at}: notebook {given} not found")
        if notebook.name == batch.DEFAULT_NOTEBOOK.name:
            raise ParameterError(
                f"{at}: {given} is the brief; render it with `analyse briefs` without --notebooks"
            )
        parameters = raw.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise ParameterError(f"{at}: `parameters:` must be a mapping name: value")
        _check_parameters(at, notebook, parameters)
        try:
            batch.check_publishable(notebook, parameters, raw.get("level"))
        except ParameterError as exc:
            raise ParameterError(f"{at}: {exc}") from exc
        level = raw.get("level")
        if level is not None and level not in LEVELS:
            raise ParameterError(f"{at}: level {level!r} is not one of {', '.join(LEVELS)}")
        name = raw.get("name")
        if name is None:
            name = default_name(notebook, parameters)
        elif not isinstance(name, str) or not _NAME.match(name):
            raise ParameterError(
                f"{at}: name {name!r}: use lower-case letters, digits, _ and single - only "
                "(it becomes part of the page's file name)"
            )
        if name in names:
            raise ParameterError(
                f"{at}: name {name!r} is also the page name of entry {names[name]}; pages "
                "would overwrite each other: give one of them another `name:`"
            )
        names[name] = number
        label = raw.get("label")
        if label is not None and not isinstance(label, str):
            raise ParameterError(f"{at}: label must be text")
        entries.append(
            NotebookEntry(
                notebook=notebook,
                parameters=dict(parameters),
                level=level,
                name=name,
                label=label or default_label(notebook, parameters),
                source=f"{where}, entry {number}",
            )
        )
    return entries


def _check_parameters(at: str, notebook: Path, parameters: dict) -> None:
    defaults = batch.notebook_parameters(notebook)
    for name, value in parameters.items():
        if name in BATCH_PARAMETERS:
            raise ParameterError(f"{at}: parameter {name!r}: {BATCH_PARAMETERS[name]}")
        if name not in defaults:
            raise ParameterError(
                f"{at}: parameter {name!r} is not in the parameters cell of {notebook.name} "
                f"(its parameters: {', '.join(sorted(defaults))})"
            )
        default = defaults[name]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        elif isinstance(default, int | float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = True
        if not ok:
            raise ParameterError(
                f"{at}: parameter {name!r} = {value!r} is a {type(value).__name__}; "
                f"{notebook.name} expects a {type(default).__name__} (default {default!r}; "
                "quote text in YAML)"
            )


def default_name(notebook: Path, parameters: dict) -> str:
    """The notebook's stem, plus a short hash of the parameters when there are any
    (``maal_alkohol-3f9a1c``), so two parameter sets of one notebook get two pages."""
    if not parameters:
        return notebook.stem
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
    return f"{notebook.stem}-{digest[:6]}"


def default_label(notebook: Path, parameters: dict) -> str:
    """A Danish link text: the notebook's heading, then its parameters in Danish
    (``"Målsætning: Alkohol — opdeling: køn og uddannelse"``)."""
    from analyse.publish.tables import breakdown_label

    title = batch.notebook_title(notebook)
    parts = []
    for name, value in parameters.items():
        word = _PARAMETER_DA.get(name, name)
        if name in ("breakdown", "dimension") and isinstance(value, str):
            text = breakdown_label(value)
        elif isinstance(value, bool):
            text = "ja" if value else "nej"
        elif isinstance(value, float):
            text = f"{value:g}".replace(".", ",")
        else:
            text = str(value)
        parts.append(f"{word}: {text}")
    return title + (" — " + ", ".join(parts) if parts else "")
