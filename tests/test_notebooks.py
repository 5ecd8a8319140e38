"""Notebook hygiene: one parameters cell, thin code, paired .py in sync, no committed outputs."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert "brief" in names
    assert "00_datakvalitet" in names
    assert len([n for n in names if n.startswith("vision_")]) == 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_exactly_one_parameters_cell_with_commented_primitives(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse(tagged[0].source)
    lines = tagged[0].source.splitlines()
    for node in tree.body:
        # `name: type = value  # help`: papermill --help-notebook shows the type and the help.
        assert isinstance(node, ast.AnnAssign), "the parameters cell only assigns typed values"
        assert isinstance(node.value, ast.Constant), (
            f"parameter on line {node.lineno} is not a primitive"
        )
        assert ast.unparse(node.annotation) == type(node.value.value).__name__
        line = lines[node.lineno - 1]
        assert "#" in line, f"parameter on line {node.lineno} has no comment"
        # papermill cannot parse a parameter line with a second "=" (its comment included).
        assert line.count("=") == 1, f"line {node.lineno}: no '=' in the comment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_no_def_class_or_loops(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(
                node,
                ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.ListComp | ast.Lambda,
            ), f"{path.name}: helper logic belongs in src/analyse ({type(node).__name__})"
        imports = [
            n
            for n in ast.walk(ast.parse(cell.source))
            if isinstance(n, ast.Import | ast.ImportFrom)
        ]
        for node in imports:
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            assert all(m.split(".")[0] == "analyse" for m in modules), (
                f"{path.name} imports {modules}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_paired_py_agree(path):
    paired = path.with_suffix(".py")
    assert paired.exists(), f"{paired.name} missing: run `jupytext --sync {path}`"
    a = jupytext.read(path)
    b = jupytext.read(paired)
    assert [(c.cell_type, c.source.strip()) for c in a.cells] == [
        (c.cell_type, c.source.strip()) for c in b.cells
    ]
    assert [c.metadata.get("tags", []) for c in a.cells] == [
        c.metadata.get("tags", []) for c in b.cells
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_help_lists_every_parameter_with_type_and_help(path):
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), "--help-notebook", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert "Unable to parse" not in output and "Unknown type" not in output
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for node in ast.parse(cell.source).body:
        name, kind = node.target.id, ast.unparse(node.annotation)
        assert re.search(rf"^  {name}: {kind} \(default ", output, re.M), name


# ================================================================================================
# Notebooks run where users run them
# ================================================================================================

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(small_processed, tmp_path_factory) -> Path:
    """A project folder as a user has it: pyproject.toml, notebooks/, data/processed."""
    root = tmp_path_factory.mktemp("projekt")
    (root / "pyproject.toml").write_text('[project]\nname = "analyse"\n', encoding="utf-8")
    (root / "notebooks").mkdir()
    for path in NOTEBOOKS:
        (root / "notebooks" / path.name).write_bytes(path.read_bytes())
    (root / "data").mkdir()
    (root / "data" / "processed").symlink_to(small_processed.processed, target_is_directory=True)
    return root


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                parts.append(f"ERROR {output['ename']}: {output['evalue']}")
            for value in output.get("data", {}).values():
                parts.append(str(value))
            parts.append(str(output.get("text", "")))
    return "\n".join(parts)


# Each vision notebook at another allowed confidence level; the brief at its default.
LEVELS = {
    "brief": None,
    "vision_1_mental_trivsel": 0.8,
    "vision_2_gode_overgange": 0.9,
    "vision_3_sundhedsfremme": 0.99,
    "vision_4_sammenhaeng": 0.9,
}


@pytest.mark.parametrize("name", sorted(LEVELS))
def test_notebook_runs_as_in_jupyterlab_with_the_kernel_in_notebooks(project, name, monkeypatch):
    """JupyterLab starts the kernel in the notebook's folder: the default parameters
    (processed_dir "data/processed") must still find the project's processed data."""
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    monkeypatch.delenv("ANALYSE_PROJECT", raising=False)
    path = project / "notebooks" / f"{name}.ipynb"
    nb = load_notebook_node(str(path))
    if LEVELS[name] is not None:
        nb = parameterize_notebook(nb, {"confidence_level": LEVELS[name]})
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    text = _outputs_text(nb)
    assert "ERROR" not in text
    assert "Odense Kommune" in text


def _papermill(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "ANALYSE_PROJECT"}
    environment.update(env or {})
    return subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_papermill_with_cwd_notebooks_finds_the_processed_data(project, tmp_path):
    out = tmp_path / "brief_0_9.ipynb"
    done = _papermill(
        str(project / "notebooks" / "brief.ipynb"), str(out), "--cwd", "notebooks",
        "-p", "area_level", "region", "-p", "area_code", "1083", "-p", "confidence_level", "0.9",
        cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Unable to parse" not in done.stderr
    text = _outputs_text(nbformat.read(out, as_version=4))
    assert "Region Syddanmark" in text and "90 pct.-konfidensintervaller" in text


def test_papermill_from_any_folder_with_the_project_in_the_environment(project, tmp_path):
    out = tmp_path / "brief.ipynb"
    done = _papermill(
        str(project / "notebooks" / "brief.ipynb"), str(out),
        cwd=tmp_path, env={"ANALYSE_PROJECT": str(project)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Odense Kommune" in _outputs_text(nbformat.read(out, as_version=4))


def test_unknown_wave_or_area_stops_with_the_valid_ones(project, tmp_path):
    out = tmp_path / "bad.ipynb"
    done = _papermill(
        str(project / "notebooks" / "brief.ipynb"), str(out), "-p", "waves", "2019,2021",
        cwd=project,
    )  # fmt: skip
    assert done.returncode != 0
    assert "wave(s) 2019 are not in the processed data; the waves are 2010" in done.stderr
    done = _papermill(
        str(project / "notebooks" / "brief.ipynb"), str(out), "-p", "area_code", "999",
        cwd=project,
    )  # fmt: skip
    assert done.returncode != 0
    assert "unknown kommune code '999'; the kommune codes are: 101, 147" in done.stderr
