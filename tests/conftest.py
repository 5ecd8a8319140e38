"""Shared fixtures: one small synthetic delivery and its processed data per test session.

Scale 0.05 (about 100 invited per kommune) keeps the session fast while exercising every code
path, including many suppressed cells.
"""

from pathlib import Path

import pytest

from analyse.cube import build as cube_build
from analyse.cube import protection as cube_protection
from analyse.data import synth

SMALL_SCALE = 0.05
SMALL_SEED = 5
#: The linked protection itself (the autouse fixture below replaces it in other builds).
_REAL_PROTECT_CUBE = cube_protection.protect_cube


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    """A small synthetic raw delivery (parquet) in a temporary folder."""
    out = tmp_path_factory.mktemp("raw")
    synth.write_delivery(out, seed=SMALL_SEED, scale=SMALL_SCALE, fmt="parquet")
    return out


@pytest.fixture(scope="session")
def small_processed(small_raw, tmp_path_factory) -> cube_build.BuildResult:
    """The processed tables built from :func:`small_raw`, with the whole disclosure control: the
    per-table rules and the linked protection's LPs (in one process; about half a minute of the
    build: at this scale 57 % of all cells are primary-suppressed). Other builds skip the LPs
    (:func:`_builds_without_linked_lps`); this one is what the session's briefs and the audit
    test (tests/test_audit_run.py) publish."""
    with pytest.MonkeyPatch.context() as patch:
        # The autouse stub of the test that first asks for this fixture may be active.
        patch.setattr(cube_protection, "protect_cube", _REAL_PROTECT_CUBE)
        return cube_build.build_processed(small_raw, tmp_path_factory.mktemp("processed"))


#: The areas of the session's small batch run: one brief per level (Denmark, Region
#: Syddanmark, the Fyn klynge, Odense), with the index and the agreement's overview.
SMALL_RUN_AREAS = ("DK", "1083", "syddanmark-fyn", "461")


@pytest.fixture(scope="session")
def small_run(small_raw, small_processed, tmp_path_factory):
    """One small batch run (papermill, nbconvert, index, overview), rendered once per session.

    PDFs are printed too (``pdf=True``, as ``analyse briefs --pdf``) when this machine has a
    Chromium; the browser tests (tests/test_browser.py) say so when it has not.
    """
    from analyse.errors import ParameterError
    from analyse.run import batch
    from analyse.run import pdf as pdf_print

    try:
        pdf_print.find_chromium()
        with_pdf = True
    except ParameterError:
        with_pdf = False
    return batch.run_briefs(
        level="all",
        areas=list(SMALL_RUN_AREAS),
        workers=2,
        out=tmp_path_factory.mktemp("run"),
        raw=small_raw,
        processed=small_processed.processed,
        notebook=Path(__file__).resolve().parents[1] / "notebooks" / "brief.ipynb",
        progress=None,
        pdf=with_pdf,
    )


def without_linked_protection():
    """A context in which builds skip the linked protection's LPs (per-table rules only).

    For module fixtures whose subject is something else (e.g. partial coverage) and that would
    otherwise pay the LPs of a whole small build again; the linked protection itself runs in the
    session build (audited by tests/test_audit_run.py) and in tests/test_cube_protection.py.
    """
    from analyse.cube import protection

    patch = pytest.MonkeyPatch.context()
    context = patch.__enter__()
    context.setattr(protection, "protect_cube", per_table_only)
    return patch


def per_table_only(cells, hidden_before, **kwargs):
    """Stands in for ``protection.protect_cube``: the per-table pattern, nothing added."""
    import numpy as np
    import pandas as pd

    from analyse.cube import protection

    hidden = np.asarray(hidden_before, dtype=bool)
    return protection.Protection(
        hidden,
        np.zeros_like(hidden),
        pd.DataFrame({"exposed": []}),
        {"primary": 0, "hidden_by_linked_protection": 0, "exposed": 0, "skipped": True},
    )


@pytest.fixture(autouse=True)
def _builds_without_linked_lps(request, monkeypatch):
    """Every build inside a test uses the per-table rules only (or a replay of the session
    build's pattern, :func:`replay_protection`), except the session build itself
    (:func:`small_processed`) and tests marked ``linked_protection``, which run the LPs."""
    if request.node.get_closest_marker("linked_protection"):
        return
    from analyse.cube import protection

    monkeypatch.setattr(protection, "protect_cube", per_table_only)


def replay_protection(processed: Path):
    """Stands in for ``protection.protect_cube`` in a rebuild of the same data: the cells that
    the build of ``processed`` had get its hidden pattern again (so an unchanged rebuild equals
    it, without the LPs); cells it did not have (changed inputs or rules) the per-table one."""
    import numpy as np
    import pandas as pd

    internal = pd.read_parquet(processed / cube_build.INTERNAL_DIR / cube_build.INTERNAL_CELLS)
    record = cube_build.read_manifest(processed)["protection"]
    keys = ["source", *cube_protection.CELL_KEYS]

    def replay(cells, hidden_before, **kwargs):
        same = len(cells) == len(internal) and cells[keys].astype(str).equals(
            internal[keys].astype(str)
        )
        if not same:
            return per_table_only(cells, hidden_before)
        before = np.asarray(hidden_before, dtype=bool)
        hidden = internal["hidden"].to_numpy(bool) | before
        return cube_protection.Protection(
            hidden, hidden & ~before, pd.DataFrame({"exposed": []}), record
        )

    return replay
