"""Tests of analyse.publish.leaks: the leak check over produced files."""

import base64
import json

import pytest

from analyse.errors import ParameterError
from analyse.publish.leaks import assert_no_leaks, check_outputs
from analyse.stats.disclosure import DisclosureError, Rules

# --------------------------------------------------------------------------------- leak check

RAW_NAMES = ["koen", "rygning_dgl", "højde_cm"]

CLEAN_BRIEF = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Rebild Kommune</title></head>
<body>
<h1>Sundhedsaftalen 2024–2027: Rebild Kommune</h1>
<p class="mark">Syntetiske data. Sundhedsprofilen 2010–2025, 1.230 svar i 2025.</p>
<table class="status">
<thead><tr><th>Indikator</th><th>2021</th><th>2025</th><th>Retning</th></tr></thead>
<tbody>
<tr><td>Ryger dagligt</td><td>14,2 %</td><td>11,9 %</td><td>▲ bedre</td></tr>
<tr><td>Svær overvægt</td><td>18,0 %</td><td>–</td><td>kan ikke vurderes</td></tr>
</tbody></table>
<p>– betyder, at tallet ikke vises. Køn (variabel koen) og rygning er selvrapporteret.</p>
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk">
</body></html>
"""


def test_check_outputs_passes_a_clean_brief(tmp_path):
    (tmp_path / "rebild.html").write_text(CLEAN_BRIEF, encoding="utf-8")
    (tmp_path / "manifest.json").write_text(
        json.dumps({"run": "r1", "rules": Rules().as_dict(), "areas": ["840", "846"]}),
        encoding="utf-8",
    )
    assert check_outputs(tmp_path, raw_variable_names=RAW_NAMES, respondent_count=50) == []
    assert_no_leaks(tmp_path, raw_variable_names=RAW_NAMES, respondent_count=50)


def test_check_outputs_finds_respondent_id_in_html(tmp_path):
    leaking = CLEAN_BRIEF.replace("1.230 svar i 2025.", "1.230 svar i 2025.\nSe SP21-0012345.")
    path = tmp_path / "brief.html"
    path.write_text(leaking, encoding="utf-8")
    findings = check_outputs(path)
    assert [(f.kind, f.location) for f in findings] == [("respondent_id", "linje 6")]
    assert "0012345" not in findings[0].detail  # the report does not repeat the id
    with pytest.raises(DisclosureError) as error:
        assert_no_leaks([path])
    assert error.value.findings == findings


def test_check_outputs_finds_csv_with_a_row_per_respondent(tmp_path):
    rows = "\n".join(f"{i};{i % 2};0" for i in range(50))
    (tmp_path / "many.csv").write_text("nr;sex;smoker\n" + rows + "\n", encoding="utf-8")
    (tmp_path / "fewer.csv").write_text(
        "nr;sex;smoker\n" + "\n".join(rows.splitlines()[:49]) + "\n", encoding="utf-8"
    )
    findings = check_outputs(tmp_path, respondent_count=50)
    assert [(f.file.endswith("many.csv"), f.kind) for f in findings] == [(True, "respondent_table")]
    assert "50 rows" in findings[0].detail


def test_check_outputs_finds_raw_variables_with_values(tmp_path):
    (tmp_path / "record.json").write_text('{"koen": 2, "note": "ok"}', encoding="utf-8")
    (tmp_path / "text.html").write_text("<p>højde_cm = 182</p>\n", encoding="utf-8")
    (tmp_path / "series.html").write_text(
        "<table><tr><th>rygning_dgl</th><td>1</td></tr></table>", encoding="utf-8"
    )
    (tmp_path / "columns.csv").write_text("Koen,value\n1,2\n", encoding="utf-8")
    findings = check_outputs(tmp_path, raw_variable_names=RAW_NAMES)
    found = sorted((f.file.rsplit("/", 1)[-1], f.kind, f.location) for f in findings)
    assert found == [
        ("columns.csv", "raw_variable", "tabel 1 (CSV)"),
        ("record.json", "raw_variable", "linje 1"),
        ("series.html", "raw_variable", "tabel 1 (linje 1)"),
        ("text.html", "raw_variable", "linje 1"),
    ]


def test_check_outputs_reads_embedded_svg_charts_and_text(tmp_path):
    from matplotlib.figure import Figure

    from analyse.publish import plots

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1, 2], [3, 4], label="koen: 2")
    ax.legend()
    ax.set_title("Svar fra SP21-0012345")
    chart = plots.figure_html(fig, alt="Diagram")  # SVG, text as outlines with comments
    note = base64.b64encode(b"Se SP23-7654321").decode()
    page = CLEAN_BRIEF.replace(
        "</body>", f'{chart}\n<a href="data:text/plain;base64,{note}">note</a>\n</body>'
    )
    path = tmp_path / "brief.html"
    path.write_text(page, encoding="utf-8")
    findings = check_outputs(path, raw_variable_names=RAW_NAMES)
    found = sorted((f.kind, f.location) for f in findings)
    assert found == [
        ("raw_variable", "linje 14, indlejret fil 2 (image/svg+xml)"),
        ("respondent_id", "linje 14, indlejret fil 2 (image/svg+xml)"),
        ("respondent_id", "linje 15, indlejret fil 3 (text/plain)"),
    ]
    # The clean brief's own embedded PNG (file 1) has no text to check and gives nothing.
    assert check_outputs(tmp_path, raw_variable_names=RAW_NAMES, respondent_count=50) == findings


def test_check_outputs_finds_json_columns_and_records(tmp_path):
    columns = {"koen": [1, 2, 1], "score": list(range(40))}
    (tmp_path / "columns.json").write_text(json.dumps(columns), encoding="utf-8")
    records = {"data": [{"x": i} for i in range(39)]}
    (tmp_path / "records.json").write_text(json.dumps(records), encoding="utf-8")
    findings = check_outputs(tmp_path, raw_variable_names=RAW_NAMES, respondent_count=40)
    found = sorted((f.file.rsplit("/", 1)[-1], f.kind, f.location) for f in findings)
    # "score" has 40 values (= respondents); "data" has 39 records (fewer: fine).
    assert found == [
        ("columns.json", "raw_variable", "$"),
        ("columns.json", "respondent_table", "$.score"),
    ]


def test_check_outputs_finds_id_columns_and_notebook_tables(tmp_path):
    (tmp_path / "ids.csv").write_text("respondent_id,x\n17,1\n", encoding="utf-8")
    html_table = (
        "<table><thead><tr><th></th><th>alder</th></tr></thead><tbody>"
        + "".join(f"<tr><th>{i}</th><td>{20 + i}</td></tr>" for i in range(60))
        + "</tbody></table>"
    )
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Brief"]},
            {"cell_type": "code", "outputs": [{"data": {"text/html": [html_table]}}]},
        ]
    }
    (tmp_path / "brief.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    findings = check_outputs(tmp_path, respondent_count=60)
    found = sorted((f.file.rsplit("/", 1)[-1], f.kind, f.location) for f in findings)
    assert found == [
        ("brief.ipynb", "respondent_table", "celle 2, tabel 1 (linje 1)"),
        ("ids.csv", "id_column", "tabel 1 (CSV)"),
    ]


def test_check_outputs_validates_arguments(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        check_outputs(tmp_path / "missing.html")
    with pytest.raises(ParameterError):
        check_outputs(tmp_path, respondent_count=0)
