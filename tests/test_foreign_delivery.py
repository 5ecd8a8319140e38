"""A delivery in another layout, start to finish, as a regional epidemiologist brings it.

The small synthetic delivery (conftest) is converted into a regional extract's layout by
``tests/data/foreign/make_foreign.py`` (renamed columns, sex codes swapped, cp1252 after a UTF-8
BOM, ``;`` and decimal commas, a junk column) and described by the small extending codebook
``tests/data/foreign/region.yml``. Through the command line with ``--codebook`` (what
``make run CODEBOOK=…`` calls), every processed table must equal the one built from the same data
in the shipped layout, and the brief and its CSV/Excel numbers must be rendered.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analyse.cube import build as cube_build
from analyse.cube import protection as cube_protection
from analyse.reference import catalogue
from analyse.run.cli import main
from conftest import replay_protection

ROOT = Path(__file__).resolve().parents[1]
FOREIGN = Path(__file__).parent / "data" / "foreign"
CODEBOOK = FOREIGN / "region.yml"


def _converter():
    spec = importlib.util.spec_from_file_location("make_foreign", FOREIGN / "make_foreign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def foreign_raw(small_raw, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("foreign")
    _converter().convert(small_raw, out)
    return out


@pytest.fixture(scope="module")
def foreign_processed(foreign_raw, small_processed, tmp_path_factory) -> Path:
    processed = tmp_path_factory.mktemp("foreign_processed")
    # The subject here is the codebook, not the LPs: the session build's pattern is replayed
    # for the same cells (a foreign layout that changed a cell would not match).
    patch = pytest.MonkeyPatch()
    patch.setattr(cube_protection, "protect_cube", replay_protection(small_processed.processed))
    code = main(
        [
            "build",
            "--raw",
            str(foreign_raw),
            "--processed",
            str(processed),
            "--codebook",
            str(CODEBOOK),
        ]
    )
    patch.undo()
    assert code == 0
    return processed


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_fixture_is_in_the_foreign_layout(foreign_raw):
    survey = sorted(foreign_raw.glob("hhd_udtraek_*.csv"))
    assert len(survey) == 6
    data = survey[0].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].split(b"\r\n", 1)[0].decode("cp1252").split(";")
    assert {"LOEBENR", "bopkom", "vægt_kalib", "koen", "eksportdato"} <= set(header)
    assert "vaegt_kal" not in header and "kom" not in header
    with pytest.raises(UnicodeDecodeError):
        data[3:].decode("utf-8")  # really cp1252 after the mark, not UTF-8
    assert b";" in data and b"," in data.split(b"\r\n")[1]


def test_foreign_delivery_gives_the_same_processed_tables_as_the_shipped_layout(
    foreign_processed, small_processed
):
    for table in cube_build.TABLES:
        if table == "quality":
            continue  # the weight sums etc. are equal; the file list differs by design
        for agreement_id in catalogue.list_agreements():
            foreign = pd.read_parquet(cube_build.table_path(foreign_processed, table, agreement_id))
            shipped = pd.read_parquet(small_processed.path(table, agreement_id))
            pd.testing.assert_frame_equal(foreign, shipped, obj=f"{agreement_id}/{table}")
            if table in cube_build.SHARED_TABLES:
                break
    manifest = json.loads((foreign_processed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["codebook"]["name"] == "region-syddanmark-udtraek"
    assert manifest["codebook"]["files"] == ["region.yml", "sundhedsprofil.yml"]
    assert manifest["codebook"]["sha256"] != small_processed.manifest["codebook"]["sha256"]
    assert manifest["cache_key"] != small_processed.manifest["cache_key"]


def test_raw_files_are_unchanged_after_the_build(foreign_raw, foreign_processed, small_raw):
    before = _digests(foreign_raw)
    assert main(
        ["build", "--raw", str(foreign_raw), "--processed", str(foreign_processed),
         "--codebook", str(CODEBOOK)]
    ) == 0  # fmt: skip
    assert _digests(foreign_raw) == before


def test_build_without_the_codebook_names_the_forgotten_option(
    foreign_raw, foreign_processed, capsys
):
    code = main(["build", "--raw", str(foreign_raw), "--processed", str(foreign_processed)])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing required column(s)" in err
    assert f"--codebook {CODEBOOK}" in err


def test_check_with_the_codebook_reports_renames_and_the_junk_column(foreign_raw, capsys):
    assert main(["check", str(foreign_raw), "--codebook", str(CODEBOOK)]) == 0
    out = capsys.readouterr().out
    assert "LOEBENR → lbnr, bopkom → kom, vægt_kalib → vaegt_kal" in out
    assert "unknown columns (ignored): eksportdato" in out
    assert "cp1252+BOM, separator ';', decimal ','" in out
    assert "Briefs can be made for: 1 land, 5 regions" in out


def test_briefs_with_the_codebook_render_a_brief_and_its_numbers(
    foreign_raw, foreign_processed, tmp_path
):
    code = main(
        ["briefs", "--raw", str(foreign_raw), "--processed", str(foreign_processed),
         "--codebook", str(CODEBOOK), "--out", str(tmp_path), "--level", "kommune",
         "--area", "461", "--workers", "1"]
    )  # fmt: skip
    assert code == 0
    run = tmp_path / "syddanmark-2024-2027"
    assert {p.name for p in run.iterdir()} >= {
        "kommune-odense.html",
        "kommune-odense.csv",
        "kommune-odense.xlsx",
        "index.html",
    }
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["codebook"]["name"] == "region-syddanmark-udtraek"


def test_make_passes_the_codebook_to_every_command():
    for target, command in (
        ("run", "analyse run --codebook region.yml"),
        ("check", "analyse check data/raw --codebook region.yml"),
        ("build", "analyse build --codebook region.yml"),
        ("briefs", "analyse briefs --codebook region.yml"),
    ):
        dry = subprocess.run(
            ["make", "-n", "-o", ".venv/.installed", target, "CODEBOOK=region.yml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert command in dry.stdout, (target, dry.stdout)
    plain = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run"], cwd=ROOT, capture_output=True, text=True
    )
    assert "--codebook" not in plain.stdout


def test_codebook_init_drafts_a_codebook_that_reads_the_delivery(foreign_raw, tmp_path, capsys):
    out = tmp_path / "draft.yml"
    assert main(["codebook", "init", str(foreign_raw), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        "guessed: bopkom → kom" in printed
        and "not in the codebook (ignored): eksportdato" in printed
    )
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Starting codebook") and "extends: sundhedsprofil" in text
    assert "bopkom: kom  # guessed" in text and "vægt_kalib: vaegt_kal  # guessed" in text
    assert "LOEBENR: lbnr  # guessed" in text
    # CSV files carry no value labels: the draft says the codes must be checked by hand.
    assert "compare the codes of the coded variables" in text
    # It reads the delivery (the sex codes still need the user's edit, as the comment says).
    assert main(["check", str(foreign_raw), "--codebook", str(out)]) == 0
    # It does not overwrite without --force.
    assert main(["codebook", "init", str(foreign_raw), "--out", str(out)]) == 2
