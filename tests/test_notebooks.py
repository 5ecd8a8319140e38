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
