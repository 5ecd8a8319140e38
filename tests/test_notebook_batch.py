"""Tests of the notebook manifest: ``analyse briefs --notebooks manifest.yml`` renders notebook ×
parameter sets per area into the brief's index (analyse.run.notebook_manifest, analyse.run.batch).
"""

import json
import re
from pathlib import Path

import pytest

from analyse.errors import ParameterError
from analyse.run import batch, cli
from analyse.run.notebook_manifest import default_name, load_manifest

ROOT = Path(__file__).resolve().parents[1]
ALKOHOL = ROOT / "notebooks" / "maal_alkohol.ipynb"


def _manifest(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _visible(markup: str) -> str:
    text = re.sub(r"<style>.*?</style>", " ", markup, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))


@pytest.fixture(scope="module")
def two_sets(small_raw, small_processed, tmp_path_factory):
    """maal_alkohol twice (by sex, by education) for Odense only: two pages."""
    folder = tmp_path_factory.mktemp("manifest")
    manifest = _manifest(
        folder / "analyser.yml",
        f"notebooks:\n"
        f"  - notebook: {ALKOHOL}\n"
        f"    parameters: {{breakdown: sex}}\n"
        f"    name: alkohol-koen\n"
        f"  - notebook: {ALKOHOL}\n"
        f'    parameters: {{breakdown: "education"}}\n',
    )
    out = folder / "reports"
    result = batch.run_briefs(
        level="kommune",
        areas=["461"],
        workers=1,
        out=out,
        raw=small_raw,
        processed=small_processed.processed,
        notebooks=manifest,  # the batch passes raw_dir (the microdata) itself
        progress=None,
    )
    return result, manifest


def test_one_notebook_with_two_parameter_sets_gives_two_pages_in_the_index(two_sets):
    result, _ = two_sets
    assert result.ok, [r.error for r in result.failed]
    education_name = default_name(ALKOHOL, {"breakdown": "education"})
    assert re.fullmatch(r"maal_alkohol-[0-9a-f]{6}", education_name)
    by_sex = result.out / "kommune-odense--alkohol-koen.html"
    by_education = result.out / f"kommune-odense--{education_name}.html"
    sex_text = _visible(by_sex.read_text(encoding="utf-8"))
    education_text = _visible(by_education.read_text(encoding="utf-8"))
    # The shown estimates table follows the parameter: its caption names the breakdown
    # (tables.breakdown_label: sex -> "køn", education -> "uddannelse") and its rows the groups.
    assert "Andel efter køn" in sex_text and "Andel efter køn" not in education_text
    assert "Andel efter uddannelse" in education_text and "Andel efter uddannelse" not in sex_text
    assert "Kvinder" in sex_text
    assert "Kun til intern brug" not in sex_text + education_text
    index = result.index.read_text(encoding="utf-8")
    assert 'href="kommune-odense--alkohol-koen.html"' in index
    assert f'href="kommune-odense--{education_name}.html"' in index
    # Readable Danish link texts: the notebook's heading and the parameters in Danish.
    assert "Målsætning: Alkohol — opdeling: køn</a>" in index
    assert "Målsætning: Alkohol — opdeling: uddannelse</a>" in index
    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    record = manifest["areas"]["kommune-odense--alkohol-koen"]
    assert record["status"] == "ok"
    assert record["notebook"] == "maal_alkohol.ipynb"
    assert record["parameters"] == {"breakdown": "sex"}
    assert [e["name"] for e in manifest["notebooks"]] == ["alkohol-koen", education_name]
    # The top-level index counts the pages apart from the briefs (there are none here).
    top = (result.out.parent / "index.html").read_text(encoding="utf-8")
    assert "(0 briefs, 2 analyser)" in top


def test_a_rerun_renders_only_the_missing_page(two_sets, small_raw, small_processed, monkeypatch):
    result, manifest = two_sets
    rendered = []

    def fake_run_tasks(tasks, results, notebook, workers, say):
        for task in tasks:
            assert task["parameters"]["raw_dir"] == str(small_raw.resolve())
            rendered.append((Path(task["html"]).name, task["parameters"]["breakdown"]))
            results[task["slug"]].status = "ok"
            Path(task["html"]).write_text("<html></html>", encoding="utf-8")

    monkeypatch.setattr(batch, "_run_tasks", fake_run_tasks)
    # The run's audit and overview (seconds each, tested in test_batch) are not the point here.
    monkeypatch.setattr(batch, "_disclosure_audit", lambda *a: [])
    monkeypatch.setattr(batch, "_write_overview", lambda *a: [])
    arguments = dict(
        level="kommune",
        areas=["461"],
        out=result.out.parent,
        raw=small_raw,
        processed=small_processed.processed,
        notebooks=manifest,
        progress=None,
    )
    again = batch.run_briefs(**arguments)
    assert rendered == [] and {r.status for r in again.results} == {"skipped"}
    (result.out / "kommune-odense--alkohol-koen.html").unlink()
    batch.run_briefs(**arguments)
    assert rendered == [("kommune-odense--alkohol-koen.html", "sex")]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - notebook: notebooks/findes_ikke.ipynb\n", "entry 2: notebook notebooks/findes_ikke"),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{brekdown: sex}}\n",
            "entry 2: parameter 'brekdown' is not in the parameters cell of maal_alkohol.ipynb",
        ),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{internal: true}}\n",
            "entry 2: maal_alkohol.ipynb: internal = True",
        ),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{area_code: '147'}}\n",
            "entry 2: parameter 'area_code': the batch sets the area",
        ),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{raw_dir: data/raw}}\n",
            "entry 2: parameter 'raw_dir': the batch passes its raw delivery (--raw)",
        ),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{microdata: 'ja'}}\n",
            "entry 2: parameter 'microdata' = 'ja' is a str; maal_alkohol.ipynb expects a bool",
        ),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{breakdown: 'sex,education'}}\n",
            "entry 2: maal_alkohol.ipynb: breakdown = 'sex,education' is estimated from the "
            "microdata; the linked protection",
        ),
        (
            f"  - notebook: {ALKOHOL}\n    parameters: {{breakdown: sex_age}}\n    level: kommune\n",
            "breakdown = 'sex_age' for the kommune level is estimated from the microdata",
        ),
        (f"  - notebook: {ALKOHOL}\n    name: alkohol\n", "entry 2: name 'alkohol' is also"),
        (f"  - notebook: {ALKOHOL}\n    levels: kommune\n", "entry 2: unknown key(s) levels"),
    ],
)
def test_bad_entries_are_refused_naming_file_entry_and_problem(tmp_path, entry, message):
    path = _manifest(
        tmp_path / "m.yml",
        f"notebooks:\n  - notebook: {ALKOHOL}\n    name: alkohol\n" + entry,
    )
    with pytest.raises(ParameterError) as error:
        load_manifest(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_sex_age_is_published_for_regions_and_denmark_only(tmp_path):
    entry = f"  - notebook: {ALKOHOL}\n    parameters: {{breakdown: sex_age}}\n"
    path = _manifest(tmp_path / "m.yml", "notebooks:\n" + entry + "    level: region\n")
    assert [e.parameters for e in load_manifest(path)] == [{"breakdown": "sex_age"}]
    # Without a level of its own, the run's level decides (all: the kommuner too).
    path = _manifest(tmp_path / "n.yml", "notebooks:\n" + entry)
    with pytest.raises(ParameterError, match="for all levels"):
        batch.run_briefs(level="all", notebooks=path, progress=None, out=tmp_path / "r")


def test_malformed_yaml_is_refused_naming_the_file(tmp_path):
    path = _manifest(tmp_path / "m.yml", "notebooks:\n  - notebook: [x\n")
    with pytest.raises(ParameterError, match=r"m\.yml: not valid YAML"):
        load_manifest(path)
    path.write_text("- notebook: x\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="a list `notebooks:`"):
        load_manifest(path)


def test_cli_refuses_an_internal_entry_before_any_work(tmp_path, capsys):
    path = _manifest(
        tmp_path / "m.yml",
        f"notebooks:\n  - notebook: {ALKOHOL}\n    parameters: {{internal: true}}\n",
    )
    for command in ("briefs", "run"):
        code = cli.main(
            [command, "--notebooks", str(path), "--raw", str(tmp_path / "none"),
             "--processed", str(tmp_path / "p"), "--out", str(tmp_path / "out")]
        )  # fmt: skip
        assert code == 2
        err = capsys.readouterr().err
        assert f"{path}, entry 1" in err and "Kun til intern brug" in err
        assert not (tmp_path / "p").exists() and not (tmp_path / "none").exists()


def test_the_shipped_example_manifest_loads_and_names_distinct_pages():
    entries = load_manifest(ROOT / "notebooks" / "eksempel_manifest.yml")
    names = [e.name for e in entries]
    assert len(set(names)) == len(names) == 3
    assert entries[2].level == "kommune"
    assert entries[2].label.endswith("opdeling: aldersgruppe")


def test_an_entry_with_a_level_renders_only_that_level(
    small_raw, small_processed, tmp_path, monkeypatch
):
    manifest = _manifest(
        tmp_path / "m.yml",
        f"notebooks:\n"
        f"  - notebook: {ALKOHOL}\n    name: kommuner\n    level: kommune\n"
        f"  - notebook: {ALKOHOL}\n    name: alle\n",
    )
    levels: dict[str, set] = {"kommuner": set(), "alle": set()}

    def fake_run_tasks(tasks, results, notebook, workers, say):
        for task in tasks:
            levels[task["slug"].rsplit("--", 1)[1]].add(task["parameters"]["area_level"])
            results[task["slug"]].status = "ok"

    monkeypatch.setattr(batch, "_run_tasks", fake_run_tasks)
    monkeypatch.setattr(batch, "_disclosure_audit", lambda *a: [])
    monkeypatch.setattr(batch, "_write_overview", lambda *a: [])
    batch.run_briefs(
        level="all",
        out=tmp_path / "reports",
        raw=small_raw,
        processed=small_processed.processed,
        notebooks=manifest,
        progress=None,
    )
    assert levels["kommuner"] == {"kommune"}
    # Syddanmark's scope: the region, its klynger and kommuner, as far as the delivery covers.
    assert {"kommune", "region"} <= levels["alle"]
