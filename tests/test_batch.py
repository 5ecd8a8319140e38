"""Tests of analyse.run.batch: rendering briefs with papermill parameters, warm kernels and nbconvert."""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analyse.errors import ParameterError
from analyse.reference.catalogue import load_agreement
from analyse.run import batch

ROOT = Path(__file__).resolve().parents[1]
BRIEF = ROOT / "notebooks" / "brief.ipynb"


def _notebook(path: Path, *cells: str) -> Path:
    """A small test notebook: the brief's parameters cell, then the given code cells."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = new_code_cell(
        'agreement_id = "syddanmark-2024-2027"  # agreement\n'
        'area_level = "kommune"  # level\n'
        'area_code = "461"  # code\n'
        'processed_dir = "data/processed"  # processed data\n',
        metadata={"tags": ["parameters"]},
    )
    nb.cells = [params] + [new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def _visible(markup: str) -> str:
    text = re.sub(r"<style>.*?</style>", " ", markup, flags=re.S)
    text = re.sub(r'src="data:[^"]+"', "", text)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


@pytest.fixture(scope="module")
def rendered(small_raw, small_processed, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = batch.run_briefs(
        level="kommune",
        areas=["461"],
        workers=1,
        out=out,
        raw=small_raw,
        processed=small_processed.processed,
        notebook=BRIEF,
        progress=None,
    )
    return result


def test_run_briefs_renders_a_complete_brief_without_code_or_leftovers(rendered):
    assert not rendered.failed
    page = (rendered.out / "kommune-odense.html").read_text(encoding="utf-8")
    text = _visible(page)
    for objective in load_agreement().objectives:
        assert objective.text in text
    assert "Syntetiske data" in text
    assert re.search(r"\d+,\d pct\.", text)
    # No code cells, no tracebacks, no Python leftovers, nothing loaded from outside the file.
    assert "from analyse" not in page and "Brief.open" not in page
    assert "Traceback" not in text and "Error" not in text
    assert not re.search(r"\bnan\b|\bNone\b|\bNaN\b", text)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script" not in page
    assert '<html lang="da">' in page


def test_run_briefs_writes_index_and_manifest(rendered):
    index = (rendered.out / "index.html").read_text(encoding="utf-8")
    assert 'href="kommune-odense.html"' in index
    assert "Region Syddanmark" in index
    manifest = json.loads((rendered.out / "manifest.json").read_text(encoding="utf-8"))
    area = manifest["areas"]["kommune-odense"]
    assert area["status"] == "ok"
    assert set(area["timings"]) == {"kernel", "execute", "export", "export_files"}
    assert manifest["synthetic"] is True
    assert manifest["rules"]["min_n"] == 20
    assert manifest["inputs"]


def test_run_briefs_second_run_skips_unchanged_and_force_redoes(
    rendered, small_raw, small_processed
):
    kwargs = dict(
        level="kommune",
        areas=["461"],
        workers=1,
        out=rendered.out.parent,
        raw=small_raw,
        processed=small_processed.processed,
        notebook=BRIEF,
        progress=None,
    )
    again = batch.run_briefs(**kwargs)
    assert [r.status for r in again.results] == ["skipped"]


def test_run_briefs_continues_past_a_failing_area_and_reports_it(
    small_raw, small_processed, tmp_path
):
    notebook = _notebook(
        tmp_path / "fails.ipynb",
        'assert area_code != "147", "injected failure for Frederiksberg"\nprint("ok")',
    )
    result = batch.run_briefs(
        level="kommune",
        areas=["101", "147", "151"],
        workers=1,
        out=tmp_path / "out",
        raw=small_raw,
        processed=small_processed.processed,
        notebook=notebook,
        progress=None,
    )
    status = {r.area_code: r.status for r in result.results}
    assert status == {"101": "ok", "147": "failed", "151": "ok"}
    failed = result.failed[0]
    assert "injected failure for Frederiksberg" in failed.error
    assert "FAILED kommune 147" in result.summary()
    assert not (result.out / "kommune-frederiksberg.html").exists()
    assert not list(result.out.glob(".*.tmp"))


def test_warm_kernel_keeps_no_state_from_the_previous_area(small_raw, small_processed, tmp_path):
    notebook = _notebook(
        tmp_path / "state.ipynb",
        'print("previous:", globals().get("previous_area"))\nprevious_area = area_code',
        "import matplotlib\nprint('rc:', matplotlib.rcParams['lines.linewidth'])\n"
        "matplotlib.rcParams['lines.linewidth'] = 9",
    )
    result = batch.run_briefs(
        level="kommune",
        areas=["101", "147"],
        workers=1,
        out=tmp_path / "out",
        raw=small_raw,
        processed=small_processed.processed,
        notebook=notebook,
        progress=None,
    )
    assert not result.failed
    for slug in ("kommune-koebenhavn", "kommune-frederiksberg"):
        text = _visible((result.out / f"{slug}.html").read_text(encoding="utf-8"))
        assert "previous: None" in text
        assert "rc: 1.5" in text


def test_warm_kernel_brief_equals_fresh_kernel_brief(
    rendered, small_raw, small_processed, tmp_path
):
    # Frederiksberg rendered after Odense in the same kernel, and alone in a fresh kernel.
    common = dict(
        level="kommune",
        workers=1,
        raw=small_raw,
        processed=small_processed.processed,
        notebook=BRIEF,
        progress=None,
    )
    warm = batch.run_briefs(areas=["461", "147"], out=tmp_path / "warm", **common)
    fresh = batch.run_briefs(areas=["147"], out=tmp_path / "fresh", **common)
    a = (warm.out / "kommune-frederiksberg.html").read_bytes()
    b = (fresh.out / "kommune-frederiksberg.html").read_bytes()
    assert a == b


def test_leak_check_fails_a_brief_that_prints_respondent_rows(small_raw, small_processed, tmp_path):
    notebook = _notebook(
        tmp_path / "leaky.ipynb",
        f'import pandas as pd\nrows = pd.read_parquet(r"{small_raw}/sundhedsprofil_2021.parquet")\n'
        'rows[["lbnr", "kom", "rygning"]].head(30)',
    )
    result = batch.run_briefs(
        level="kommune",
        areas=["461"],
        workers=1,
        out=tmp_path / "out",
        raw=small_raw,
        processed=small_processed.processed,
        notebook=notebook,
        progress=None,
    )
    assert result.failed and "leak check" in result.failed[0].error
    # Checked before it was kept: neither the brief nor a temporary file is left to publish.
    assert sorted(p.name for p in result.out.iterdir()) == [
        "index.html",
        "manifest.json",
        "overview.html",
    ]
    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["areas"]["kommune-odense"]["status"] == "failed"  # rendered again next run


def test_run_briefs_rejects_bad_parameters(small_raw, small_processed, tmp_path):
    with pytest.raises(ParameterError, match="unknown area code"):
        batch.run_briefs(
            level="kommune",
            areas=["999"],
            raw=small_raw,
            processed=small_processed.processed,
            out=tmp_path,
            progress=None,
        )
    with pytest.raises(ParameterError, match="not found"):
        batch.run_briefs(
            notebook=tmp_path / "missing.ipynb",
            raw=small_raw,
            processed=small_processed.processed,
            out=tmp_path,
            progress=None,
        )
    with pytest.raises(ParameterError, match="workers"):
        batch.run_briefs(
            workers=0,
            raw=small_raw,
            processed=small_processed.processed,
            out=tmp_path,
            notebook=BRIEF,
            progress=None,
        )


def test_brief_opens_in_headless_chromium_without_console_errors(rendered, tmp_path):
    from analyse.errors import ParameterError
    from analyse.run.pdf import find_chromium

    try:
        chromium = find_chromium()
    except ParameterError as exc:  # as tests/test_browser.py: a failure on CI, else a skip
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium on CI: {exc}", pytrace=False)
        pytest.skip(f"headless Chromium is not installed: {exc}")
    page = rendered.out / "kommune-odense.html"
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Status for målsætningerne" in completed.stdout
    console = [
        line for line in completed.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line
    ]
    assert console == []


def test_check_html_renders_the_data_quality_notebook_without_microdata(
    small_raw, tmp_path, capsys
):
    from analyse.run.cli import main

    out = tmp_path / "kvalitet.html"
    assert main(["check", str(small_raw), "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    text = _visible(page)
    assert "Svarpersoner pr. bølge" in text and "Manglende svar pr. spørgsmål" in text
    assert not re.search(r"SP\d{2}-\d{6,}", page)  # no respondent ids
    assert "from analyse" not in page and "Traceback" not in text


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("vision_*.ipynb")), ids=lambda p: p.stem
)
def test_vision_notebook_runs_with_its_defaults_and_other_parameters(
    notebook, small_processed, tmp_path
):
    """What an epidemiologist does: run the analysis notebook for another area (papermill
    parameters, fresh kernel) and read the HTML: the vision, no errors, no microdata."""
    agreement = load_agreement()
    vision_titles = [v.title for v in agreement.visions]
    out = batch.render_notebook(
        notebook,
        {
            "area_level": "region",
            "area_code": "1083",
            "processed_dir": str(small_processed.processed),
        },
        tmp_path / f"{notebook.stem}.html",
        title=notebook.stem,
    )
    page = out.read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", page)))
    assert "Region Syddanmark" in text
    assert sum(title in text for title in vision_titles) >= 1
    assert not re.search(r"Traceback|\bnan\b|\bNone\b|NaN|Error", text)
    assert not re.search(r"\d\.\d+ pct", text)  # no English decimal point
    # Figures in Danish; the gode-overgange vision is followed up by the klynge status only.
    assert re.search(r"\d+,\d pct\.", text) or re.search(r"<th[^>]*>Status</th>", page)
    assert "<pre" not in page  # no code or stream output, only the rendered HTML


def test_index_lists_areas_in_danish_alphabetical_order():
    results = [
        batch.AreaResult(r.area_level, str(r.area_code), r.area_name, r.slug, "ok")
        for r in batch.select_areas("all").itertuples()
    ]
    index = batch._index_html(load_agreement(), results, synthetic=False)
    nordjylland = index.split('<h2 id="region-1081">Region Nordjylland</h2>')[1].split("<h2")[0]
    kommuner = re.findall(r">([^<]+)</a>", nordjylland.split("<h3>Kommuner</h3>")[1])
    # Danish order, by hand: æ, ø, å after z, and the old spelling "Aa" counts as "Å".
    assert kommuner == [
        "Brønderslev",
        "Frederikshavn",
        "Hjørring",
        "Jammerbugt",
        "Læsø",
        "Mariagerfjord",
        "Morsø",
        "Rebild",
        "Thisted",
        "Vesthimmerlands",
        "Aalborg",
    ]


# --- briefs for an agreement's scope ---------------------------------------------------------


@pytest.mark.parametrize(
    ("agreement_id", "expected"),
    [
        ("syddanmark-2024-2027", {"region": 1, "sundhedsklynge": 4, "kommune": 22}),
        ("horsensklyngen-pejlemaerker", {"sundhedsklynge": 1, "kommune": 4}),
        ("herning-sundhedspolitik", {"kommune": 1}),
        ("kl-sundhed-for-de-mange", {"land": 1, "sundhedsklynge": 22}),
    ],
)
def test_select_areas_follows_the_scope(agreement_id, expected):
    areas = batch.select_areas("all", None, load_agreement(agreement_id))
    assert areas["area_level"].value_counts().to_dict() == expected
    # Region Syddanmark's agreement no longer renders other regions' kommuner (126 → 27).
    if agreement_id == "syddanmark-2024-2027":
        assert set(areas["region_code"].dropna()) == {1083}


def test_select_areas_level_within_the_scope_and_explicit_codes_outside_it():
    horsens = load_agreement("horsensklyngen-pejlemaerker")
    kommuner = batch.select_areas("kommune", None, horsens)
    assert sorted(kommuner["area_code"]) == ["615", "727", "746", "766"]
    # An area asked for by code is rendered even outside the scope (the brief says so).
    assert list(batch.select_areas("kommune", ["461"], horsens)["area_code"]) == ["461"]


HEADER_ONLY = (
    "from analyse.publish.brief import Brief\n"
    "brief = Brief.open(processed_dir, agreement_id, area_level, area_code)\n"
    "brief.header()",
    "brief.status_table()",
)


def test_kommune_agreement_renders_one_brief_compared_with_klynge_region_and_country(
    small_raw, small_processed, tmp_path
):
    [result] = batch.run_agreements(
        ["herning-sundhedspolitik"],
        workers=1,
        out=tmp_path / "out",
        raw=small_raw,
        processed=small_processed.processed,
        notebook=BRIEF,
        progress=None,
    )
    assert [(r.area_level, r.area_code, r.status) for r in result.results] == [
        ("kommune", "657", "ok")
    ]
    text = _visible((result.out / "kommune-herning.html").read_text(encoding="utf-8"))
    assert "Sammenlignet med Sundhedsklynge Midtjylland Vestklyngen/Gødstrupklyngen" in text
    for heading in ("Mod resten af klyngen", "Mod resten af regionen", "Mod resten af landet"):
        assert heading in text
    assert "resten af Region Midtjylland" in text
    assert "udmøntes i 2015 via en 4-årig sundhedsstrategi" in text  # the agreement's note
    assert "Mellem grupperne på arbejdsmarkedet" in text or "grupperne på arbejdsmarkedet" in text
    assert not re.search(r"\bnan\b|\bNone\b|Traceback", text)
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="herning-sundhedspolitik/index.html"' in index


def test_klynge_agreement_renders_the_klynge_and_its_kommuner(small_raw, small_processed, tmp_path):
    notebook = _notebook(tmp_path / "header.ipynb", *HEADER_ONLY)
    [result] = batch.run_agreements(
        ["horsensklyngen-pejlemaerker"],
        workers=1,
        out=tmp_path / "out",
        raw=small_raw,
        processed=small_processed.processed,
        notebook=notebook,
        progress=None,
    )
    assert not result.failed
    assert sorted(r.area_code for r in result.results) == [
        "615",
        "727",
        "746",
        "766",
        "midtjylland-horsensklyngen",
    ]
    klynge = _visible(
        (
            result.out / "sundhedsklynge-midtjylland-horsensklyngen-regionshospitalet-horsens.html"
        ).read_text(encoding="utf-8")
    )
    # The klynge against its region and Denmark; a member kommune also against its klynge.
    assert "Sammenlignet med Region Midtjylland og Hele landet" in klynge
    odder = _visible((result.out / "kommune-odder.html").read_text(encoding="utf-8"))
    assert "Sammenlignet med Sundhedsklynge Midtjylland Horsensklyngen" in odder
    index = (result.out / "index.html").read_text(encoding="utf-8")
    briefs = re.findall(r'<li><a href="(?:kommune|sundhedsklynge)-[^"]+\.html">', index)
    assert len(briefs) == 5 and "Odder" in index and "Odense" not in index


def test_users_agreement_from_a_path_through_build_and_briefs(small_raw, small_processed, tmp_path):
    processed = tmp_path / "processed"
    shutil.copytree(small_processed.processed, processed)
    path = tmp_path / "mine" / "mit.yml"
    path.parent.mkdir()
    from analyse.run import agreements as own

    own.write_skeleton(path, scope="kommune", areas=["657"])
    text = path.read_text(encoding="utf-8").replace(
        'title: "Titel på aftalen eller politikken"', "title: Min egen sundhedspolitik"
    )
    path.write_text(text, encoding="utf-8")
    result = batch.run_briefs(
        agreement_id=path,
        workers=1,
        out=tmp_path / "out",
        raw=small_raw,
        processed=processed,
        notebook=BRIEF,
        progress=None,
    )
    assert [r.status for r in result.results] == ["ok"]
    assert result.out == tmp_path / "out" / "mit"
    page = (result.out / "kommune-herning.html").read_text(encoding="utf-8")
    text = _visible(page)
    assert "Herning Kommune: opfølgning på Min egen sundhedspolitik" in text
    assert "Ryger dagligt" in text and "Mod resten af klyngen" in text
    manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["agreements"][-1]["path"] == str(path.resolve())
    overview = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Min egen sundhedspolitik" in overview


def test_index_links_the_overview_and_every_region_section():
    results = [
        batch.AreaResult(r.area_level, str(r.area_code), r.area_name, r.slug, "ok")
        for r in batch.select_areas("all").itertuples()
    ]
    index = batch._index_html(load_agreement(), results, synthetic=False)
    assert '<a href="overview.html">Overblik over alle områder i Region Syddanmark</a>' in index
    assert '<a href="../index.html">Alle aftaler</a>' in index
    # A table of contents with an anchor per region, and a skip link to it.
    anchors = re.findall(r'<a href="#(region-\d+)">', index)
    assert len(anchors) == 5 and all(f'<h2 id="{a}">' in index for a in anchors)
    assert '<a class="skip-link" href="#omraader">' in index and 'id="omraader"' in index
    # File names without the repeated level (not "region-region-syddanmark.html").
    assert 'href="region-syddanmark.html"' in index and "region-region" not in index


def test_run_writes_the_overview_and_an_index_that_links_it(small_run):
    overview = small_run.overview.read_text(encoding="utf-8")
    assert overview.startswith("<!DOCTYPE html>") and '<main class="overview"' in overview
    assert "<title>Region Syddanmark: overblik over Sundhedsaftalen 2024-2027</title>" in overview
    # Rendered briefs are linked from the overview, areas without a brief in this run are not.
    assert 'href="kommune-odense.html"' in overview
    assert 'href="kommune-assens.html"' not in overview and "Assens Kommune" in overview
    index = small_run.index.read_text(encoding="utf-8")
    assert 'href="overview.html"' in index
    assert "<title>Sundhedsaftalen 2024-2027 — oversigt over områderne</title>" in index
    assert not small_run.leaks


def test_briefs_pdf_without_chromium_is_a_clear_error(
    small_raw, small_processed, tmp_path, monkeypatch, capsys
):
    from analyse.run.cli import main

    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium"))
    code = main(
        [
            "briefs",
            "--raw",
            str(small_raw),
            "--processed",
            str(small_processed.processed),
            "--out",
            str(tmp_path / "out"),
            "--level",
            "kommune",
            "--area",
            "461",
            "--pdf",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "no-chromium is not an executable file" in err
    assert not (tmp_path / "out").exists()  # said before anything was rendered
