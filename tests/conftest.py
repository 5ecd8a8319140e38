"""Shared fixtures: one small synthetic delivery and its processed data per test session.

Scale 0.05 (about 100 invited per kommune) keeps the session fast while exercising every code
path, including many suppressed cells.
"""

from pathlib import Path

import pytest

from analyse.cube import build as cube_build
from analyse.data import synth

SMALL_SCALE = 0.05
SMALL_SEED = 5


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    """A small synthetic raw delivery (parquet) in a temporary folder."""
    out = tmp_path_factory.mktemp("raw")
    synth.write_delivery(out, seed=SMALL_SEED, scale=SMALL_SCALE, fmt="parquet")
    return out


@pytest.fixture(scope="session")
def small_processed(small_raw, tmp_path_factory) -> cube_build.BuildResult:
    """The processed tables built from :func:`small_raw`."""
    return cube_build.build_processed(small_raw, tmp_path_factory.mktemp("processed"))
