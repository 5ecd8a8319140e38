"""Paths relative to the project folder, wherever a notebook or command runs.

JupyterLab starts a notebook's kernel in the notebook's own folder (``notebooks/``), papermill
in the folder it was called from (or ``--cwd``), the batch in the project folder. The notebooks'
default paths (``data/processed``, ``data/raw``) are written relative to the project folder, and
:func:`project_path` resolves them there, so the same parameters work in all three.

The project folder is, in this order: the environment variable ``ANALYSE_PROJECT`` (for a
server where the notebooks live elsewhere); the nearest folder, from the working directory
upwards, that holds a ``pyproject.toml`` of the ``analyse`` project; the folder of the installed
package's ``pyproject.toml`` (an editable install, as ``make setup`` makes); else the working
directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from analyse.reference.catalogue import is_path

ENVIRONMENT_VARIABLE = "ANALYSE_PROJECT"
_PROJECT_NAME = re.compile(r'^name\s*=\s*"analyse"\s*$', re.MULTILINE)


def _is_project(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    try:
        return bool(_PROJECT_NAME.search(pyproject.read_text(encoding="utf-8")))
    except OSError:
        return False


def project_root(start: str | Path | None = None) -> Path:
    """The project folder (see the module docstring for the order of the rules)."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        return Path(configured).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_project(folder):
            return folder
    package = Path(__file__).resolve().parent
    for folder in package.parents:
        if _is_project(folder):
            return folder
    return here


def project_path(path: str | Path) -> Path:
    """An absolute path: ``path`` itself if absolute, else ``path`` under the project folder.

    ``project_path("data/processed")`` is the same folder whether the kernel runs in the project
    folder, in ``notebooks/`` or anywhere else.
    """
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_root() / path


def project_agreement(agreement_id: str | Path) -> str:
    """A shipped agreement's id unchanged; the path of a user's agreement file like
    :func:`project_path`.

    ``project_agreement("mit.yml")`` is the project folder's ``mit.yml`` whether the kernel runs
    in the project folder, in ``notebooks/`` or anywhere else; ``"syddanmark-2024-2027"`` stays
    the id of the shipped agreement.
    """
    if is_path(agreement_id):
        return str(project_path(agreement_id))
    return str(agreement_id)
