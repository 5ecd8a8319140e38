"""The architecture of DESIGN.md §3, checked: layers, contracts, private names, module size.

The layer contracts live in pyproject.toml ([tool.importlinter]) and ``make test`` runs
``lint-imports``; here the contracts are shown to exist and to fail on a forbidden import (on a
copy of the package), and the rules import-linter cannot express are checked on the source:
no module imports another module's private names, and a module over about 1,000 lines says in
its docstring why it is one unit.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "analyse"
LAYERS = ("reference", "data", "stats", "cube", "publish", "run")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_sits_in_a_layer():
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "errors"}
    assert top == set(), f"modules outside the layer packages: {sorted(top)}"
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").exists(), layer


def test_pyproject_declares_the_layer_contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["layers"] == [
        "analyse.run",
        "analyse.publish",
        "analyse.cube",
        "analyse.stats | analyse.data",
        "analyse.reference",
    ]
    forbidden = {c["source_modules"][0]: set(c["forbidden_modules"]) for c in contracts[1:]}
    assert {"analyse.data", "analyse.stats"} <= forbidden["analyse.reference"]
    assert {"analyse.reference", "analyse.data"} <= forbidden["analyse.stats"]


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(source_root))
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source_root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_contracts_hold_on_the_package_and_fail_on_a_forbidden_import(tmp_path):
    assert _lint_imports(ROOT / "src").returncode == 0
    # The same package with one statistics module that looks up an agreement.
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "analyse", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "analyse" / "stats" / "rates.py"
    target.write_text(
        target.read_text(encoding="utf-8") + "\nfrom analyse.reference import catalogue\n",
        encoding="utf-8",
    )
    broken = _lint_imports(copy)
    assert broken.returncode != 0
    assert "analyse.stats.rates -> analyse.reference.catalogue" in broken.stdout


def _private_imports(path: Path) -> list[str]:
    """``from analyse.x import _name`` and ``module._name`` on an imported analyse module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _module_name(path)
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analyse"):
            for alias in node.names:
                imported = f"{node.module}.{alias.name}"
                if (
                    alias.name.startswith("_")
                    and not alias.name.startswith("__")
                    and node.module != own
                ):
                    found.append(f"from {node.module} import {alias.name}")
                if any(imported == _module_name(p) for p in _modules()):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("analyse") and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    problems = {
        str(p.relative_to(ROOT)): found for p in _modules() if (found := _private_imports(p))
    }
    assert problems == {}


def test_private_name_check_finds_a_private_import(tmp_path):
    fake = PACKAGE / "publish" / "_probe_for_test.py"
    try:
        fake.write_text(
            "from analyse.stats.series import _fit_series\n"
            "from analyse.stats import survey\n"
            "x = survey._check_level\n",
            encoding="utf-8",
        )
        assert _private_imports(fake) == [
            "from analyse.stats.series import _fit_series",
            "survey._check_level",
        ]
    finally:
        fake.unlink()


def test_long_modules_say_why_they_are_one_unit():
    for path in _modules():
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > 1000:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "one unit" in doc.lower(), f"{path.relative_to(ROOT)} has {lines} lines"


def test_statistics_run_without_any_agreement_or_geography():
    # A plain tidy series is projected and a grouped SII computed in a fresh interpreter; the
    # reference layer (agreements, geography) must never be imported on the way.
    code = """
import sys
import pandas as pd
from analyse.stats import inequality, series

wave_series = pd.DataFrame({
    "area": ["A"] * 3, "year": [2017, 2021, 2025],
    "estimate": [0.20, 0.18, 0.16], "se": [0.01, 0.01, 0.01],
})
projected = series.projection(
    wave_series, keys=["area"], baseline_year=2021, target_year=2027, direction="decrease"
)
groups = pd.DataFrame({
    "quintile": [1, 2, 3, 4, 5], "population": [100.0] * 5,
    "value": [0.30, 0.25, 0.20, 0.15, 0.10], "se": [0.02] * 5,
})
sii = inequality.sii_grouped(
    groups, "quintile", "population", "value", "se", repetitions=1000, seed=1
)
loaded = sorted(m for m in sys.modules if m.startswith("analyse.reference"))
print(loaded, round(float(projected["projected"].iloc[0]), 6), round(float(sii["sii"].iloc[0]), 6))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded, projected, sii = result.stdout.rsplit(" ", 2)
    assert loaded == "[]"
    # The pooled forecast of 0.20, 0.18, 0.16 (2021 a COVID wave: no trend judged on two
    # typical waves) stays within the series' range.
    assert 0.15 < float(projected) < 0.20
    # Five equal groups on a straight line from 0.30 to 0.10: the linear SII is the difference
    # between the fitted values at rank 1 and rank 0, (0.10 - 0.30) / 0.8 = -0.25.
    assert float(sii) == pytest.approx(-0.25, abs=1e-9)
