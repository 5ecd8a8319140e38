"""Tests of analyse.run.paths: the project folder is found wherever a kernel or command runs."""

from __future__ import annotations

from pathlib import Path

from analyse.run import paths

ROOT = Path(__file__).resolve().parents[1]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "projekt"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "analyse"\n', encoding="utf-8")
    return root


def test_project_root_walks_up_from_the_notebooks_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ENVIRONMENT_VARIABLE, raising=False)
    root = _project(tmp_path)
    monkeypatch.chdir(root / "notebooks")  # where JupyterLab starts a notebook's kernel
    assert paths.project_root() == root
    assert paths.project_path("data/processed") == root / "data" / "processed"


def test_project_root_ignores_other_projects(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ENVIRONMENT_VARIABLE, raising=False)
    other = tmp_path / "andet"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "noget-andet"\n', encoding="utf-8")
    monkeypatch.chdir(other)
    # Not this project: the installed package's own project folder (editable install).
    assert paths.project_root() == ROOT


def test_environment_variable_wins(tmp_path, monkeypatch):
    root = _project(tmp_path)
    monkeypatch.setenv(paths.ENVIRONMENT_VARIABLE, str(root))
    monkeypatch.chdir(tmp_path)
    assert paths.project_root() == root


def test_absolute_paths_stay_as_they_are(tmp_path):
    assert paths.project_path(tmp_path / "x") == tmp_path / "x"
