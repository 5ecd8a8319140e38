"""Tests of analyse.cube.build.build_processed: the processed tables, the manifest and the cache.

The first build is the session fixture ``small_processed`` (a real, complete build from
``small_raw``); the tests of the written tables and the manifest use it. Rebuild tests work on
copies in ``tmp_path`` (the raw delivery and/or the processed folder), so the session's folders
stay as they are. They test the cache decision, not the statistics, so the slow model-fitting
steps (trend and inequality models, tested in their own modules) are replaced by a stub table
there (:func:`fast_models`), and the linked protection's LPs replay the session build's pattern;
cleaning, the estimates cube and the per-table disclosure rules run for real.

The cache key includes a hash of the package's files. In a shared working copy the package can
change while the session runs (and the session build then no longer matches), so the reuse and
rebuild tests pin :func:`analyse.cube.build.code_version` to the version the session build recorded
(:func:`session_code_version`): they test inputs, rules and ``force``, not code edits.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analyse
from analyse.cube import build as cube_build
from analyse.cube import inequality
from analyse.cube import protection as cube_protection
from analyse.cube import trends as cube_trends
from analyse.errors import DataValidationError, ParameterError
from analyse.publish import audit
from analyse.reference import catalogue
from analyse.stats import disclosure
from conftest import replay_protection


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_checksums(raw: Path) -> dict[str, str]:
    """SHA-256 of every delivered file, worked out independently of the pipeline."""
    return {
        p.name: sha256(p)
        for p in sorted(raw.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.name != "README.md"
    }


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime in ns, inode) of every file, the agreements' folders included: a rewrite (atomic
    replace) changes both."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
        for p in folder.rglob("*")
        if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


SYDDANMARK = "syddanmark-2024-2027"


# Each stub has the key columns the build's coverage step reads (an area the small delivery
# covers: Denmark).
STUB = pd.DataFrame(
    {
        "stub": ["model step replaced in test_pipeline"],
        "year": [2021],
        "area_level": ["land"],
        "area_code": ["DK"],
        "baseline": [2021],
        "latest": [2025],
        "waves": ["2021"],
    }
)
# The trend stub has the key columns the build's disclosure step (suppress_models) reads.
STUB_TRENDS = pd.DataFrame(
    {
        "indicator": ["daily_smoking"],
        "area_level": ["land"],
        "area_code": ["DK"],
        "waves": ["2021,2025"],
        "n": [100],
        "projected": [0.1],
        "fit_note": [""],
    }
)


@pytest.fixture
def fast_models(monkeypatch, small_processed) -> None:
    """Replace the slow model fits of a build by a one-row stub table (see module docstring)."""
    for module, name in (
        (cube_trends, "trends_for_cube"),
        (cube_trends, "trends_from_estimates"),
        (inequality, "inequality_for_cube"),
        (inequality, "gap_change_for_cube"),
    ):
        stub = STUB_TRENDS if name == "trends_for_cube" else STUB
        monkeypatch.setattr(module, name, lambda *args, stub=stub, **kwargs: stub.copy())
    # The linked protection's LPs (tested on the session build and in test_cube_protection):
    # these tests are about what is rebuilt when; the session build's pattern is replayed.
    monkeypatch.setattr(
        cube_protection, "protect_cube", replay_protection(small_processed.processed)
    )


@pytest.fixture
def session_code_version(monkeypatch, small_processed) -> str:
    """Pin the code part of the cache key to the session build's (see module docstring)."""
    version = small_processed.manifest["code_version"]
    monkeypatch.setattr(cube_build, "code_version", lambda: version)
    return version


@pytest.fixture
def processed_copy(small_processed, tmp_path, session_code_version) -> Path:
    """A copy of the session's processed folder (timestamps kept), safe to rebuild into."""
    target = tmp_path / "processed"
    shutil.copytree(small_processed.processed, target)
    return target


def test_build_processed_writes_every_table_and_the_manifest(small_raw, small_processed):
    folder = small_processed.processed
    assert not small_processed.reused
    rows = small_processed.manifest["rows"]
    for table in cube_build.SHARED_TABLES:
        path = folder / f"{table}.parquet"
        assert path.is_file(), table
        assert len(pd.read_parquet(path)) == rows[table], table
    built = [record["id"] for record in small_processed.manifest["agreements"]]
    assert built == catalogue.list_agreements()  # every shipped agreement, by default
    for agreement_id in built:
        for table in cube_build.AGREEMENT_TABLES:
            path = folder / "agreements" / agreement_id / f"{table}.parquet"
            assert path.is_file(), (agreement_id, table)
            assert len(pd.read_parquet(path)) == rows[f"{agreement_id}/{table}"], table
    on_disk = json.loads((folder / cube_build.MANIFEST).read_text(encoding="utf-8"))
    assert on_disk == small_processed.manifest
    assert on_disk["synthetic"] is True
    assert on_disk["inputs"] == raw_checksums(small_raw)
    assert any(name.startswith("sundhedsprofil_") for name in on_disk["inputs"])
    assert (
        cube_build.STATUS_FILE in on_disk["inputs"]
        and cube_build.REGISTER_FILE in on_disk["inputs"]
    )
    assert on_disk["rules"] == {
        "min_n": 20,
        "min_cases": 5,
        "count_base": 10,
        "min_weighted_population": 50,
        "model_max_cv": 0.20,
        "model_max_half_width": 0.10,
        "model_min_areas": 20,
        "register_min_cases": 10,
        "protection_width": 0.05,
    }
    assert re.fullmatch(re.escape(analyse.__version__) + r"\+[0-9a-f]{12}", on_disk["code_version"])
    assert leftovers(folder) == []


def test_build_processed_estimates_are_suppressed(small_processed):
    cube = pd.read_parquet(small_processed.path("estimates"))
    assert "suppressed" in cube.columns and "cases" not in cube.columns
    assert cube["suppressed"].any()
    shown = cube[~cube["suppressed"]]
    assert (shown["n"] >= 20).all() and (shown["n"] % 10 == 0).all()


def test_build_processed_leaves_raw_files_unchanged(small_raw, small_processed):
    # The manifest's checksums were taken before the build; the files must still match them.
    assert raw_checksums(small_raw) == small_processed.manifest["inputs"]


def test_build_processed_reuses_when_nothing_changed(small_raw, small_processed, processed_copy):
    before = stamps(processed_copy)
    messages: list[str] = []
    result = cube_build.build_processed(small_raw, processed_copy, progress=messages.append)
    assert result.reused is True
    assert result.manifest == small_processed.manifest
    assert stamps(processed_copy) == before  # nothing rewritten
    assert any("Genbruger" in message for message in messages)


def test_build_processed_rebuilds_when_an_input_file_changes(
    small_raw, processed_copy, tmp_path, fast_models
):
    raw = tmp_path / "raw"
    shutil.copytree(small_raw, raw)
    old_key = json.loads((processed_copy / cube_build.MANIFEST).read_text())["cache_key"]
    # The copies alone do not invalidate the cache (the key is about content, not paths) …
    assert cube_build.build_processed(raw, processed_copy).reused is True

    # … but editing one activity text does.
    status = raw / cube_build.STATUS_FILE
    text = status.read_text(encoding="utf-8")
    assert "Aktiviteten er igangsat" in text
    status.write_text(
        text.replace("Aktiviteten er igangsat", "Indsatsen er sat i gang", 1), "utf-8"
    )
    before = stamps(processed_copy)
    checksums_before = raw_checksums(raw)

    result = cube_build.build_processed(raw, processed_copy)

    assert result.reused is False
    assert result.manifest["cache_key"] != old_key
    assert result.manifest["inputs"][cube_build.STATUS_FILE] == sha256(status)
    after = stamps(processed_copy)
    assert all(after[name] != before[name] for name in before if name.endswith(".parquet"))
    activity = pd.read_parquet(cube_build.table_path(processed_copy, "activity_status", SYDDANMARK))
    assert activity["text"].str.contains("Indsatsen er sat i gang").sum() == 1
    assert raw_checksums(raw) == checksums_before  # raw is read-only input
    assert leftovers(processed_copy) == []


def test_build_processed_rebuilds_when_the_rules_change(
    small_raw, small_processed, processed_copy, fast_models
):
    rules = disclosure.Rules(min_n=30)
    result = cube_build.build_processed(small_raw, processed_copy, rules=rules)
    assert result.reused is False
    assert result.manifest["cache_key"] != small_processed.manifest["cache_key"]
    assert result.manifest["rules"]["min_n"] == 30
    written = json.loads((processed_copy / cube_build.MANIFEST).read_text(encoding="utf-8"))
    assert written["rules"]["min_n"] == 30
    cube = pd.read_parquet(processed_copy / "estimates.parquet")
    assert (cube.loc[~cube["suppressed"], "n"] >= 30).all()
    assert cube["suppression_reason"].eq("færre end 30 svar").any()
    # The same rules again: reused.
    assert cube_build.build_processed(small_raw, processed_copy, rules=rules).reused is True
    assert leftovers(processed_copy) == []


def test_build_processed_force_rebuilds(small_raw, small_processed, processed_copy, fast_models):
    before = stamps(processed_copy)
    result = cube_build.build_processed(small_raw, processed_copy, force=True)
    assert result.reused is False
    assert result.manifest["cache_key"] == small_processed.manifest["cache_key"]
    after = stamps(processed_copy)
    # (The batch's audit verdict, kept under the tables' checksums, is not a table of the build.)
    kept = f"{cube_build.INTERNAL_DIR}/{audit.AUDIT_CACHE}"
    assert all(after[name] != before[name] for name in before if name != kept)
    assert pd.read_parquet(processed_copy / "inequality.parquet").equals(STUB)  # really recomputed
    # Same inputs, same code, same rules: the same (really computed) tables.
    for table in ("estimates", "status", "activity_status"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(cube_build.table_path(processed_copy, table, SYDDANMARK)),
            pd.read_parquet(small_processed.path(table, SYDDANMARK)),
        )
    assert leftovers(processed_copy) == []


class _Rebuilding(Exception):
    """Raised by the first step of a rebuild (see the test below)."""


def test_build_processed_records_table_checksums_and_rebuilds_a_changed_table(
    small_raw, small_processed, processed_copy, monkeypatch
):
    folder = small_processed.processed
    recorded = small_processed.manifest["tables"]
    # One SHA-256 per table file: 7 shared tables + 8 tables for each of the 5 agreements.
    built = [record["id"] for record in small_processed.manifest["agreements"]]
    expected = {f"{t}.parquet" for t in cube_build.SHARED_TABLES} | {
        f"agreements/{a}/{t}.parquet" for a in built for t in cube_build.AGREEMENT_TABLES
    }
    expected.add(f"{cube_build.INTERNAL_DIR}/{cube_build.INTERNAL_CELLS}")
    assert set(recorded) == expected and len(expected) == 7 + 8 * 5 + 1
    assert all(recorded[name] == sha256(folder / name) for name in expected)

    # Untouched: reused (the checksums are verified, nothing is rewritten).
    before = stamps(processed_copy)
    assert cube_build.build_processed(small_raw, processed_copy).reused is True
    assert stamps(processed_copy) == before

    # The decision to rebuild is what is tested here (a rebuild itself: the tests above); the
    # first step of a rebuild, reading the delivery, stops it.
    def first_step(*_args, **_kwargs):
        raise _Rebuilding

    monkeypatch.setattr(cube_build, "_load_survey", first_step)

    # Eight bytes of the estimates overwritten: rebuilt, and the message names the table.
    estimates = processed_copy / "estimates.parquet"
    damaged = bytearray(estimates.read_bytes())
    damaged[100:108] = b"\x00" * 8 if damaged[100:108] != b"\x00" * 8 else b"\xff" * 8
    estimates.write_bytes(bytes(damaged))
    messages: list[str] = []
    with pytest.raises(_Rebuilding):
        cube_build.build_processed(small_raw, processed_copy, progress=messages.append)
    assert messages[0] == (
        "Tabellen estimates.parquet er ændret eller beskadiget siden byggeriet – bygger igen."
    )

    # An agreement's table, changed to another valid table: rebuilt too.
    shutil.copy(folder / "estimates.parquet", estimates)
    status = cube_build.table_path(processed_copy, "status", SYDDANMARK)
    table = pd.read_parquet(status)
    table.iloc[:1].to_parquet(status, index=False)
    messages.clear()
    with pytest.raises(_Rebuilding):
        cube_build.build_processed(small_raw, processed_copy, progress=messages.append)
    assert messages[0] == (
        f"Tabellen agreements/{SYDDANMARK}/status.parquet er ændret eller beskadiget siden "
        "byggeriet – bygger igen."
    )

    # A manifest from before the checksums were recorded: rebuilt once.
    shutil.copy(small_processed.path("status", SYDDANMARK), status)
    manifest = json.loads((processed_copy / cube_build.MANIFEST).read_text(encoding="utf-8"))
    del manifest["tables"]
    (processed_copy / cube_build.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    messages.clear()
    with pytest.raises(_Rebuilding):
        cube_build.build_processed(small_raw, processed_copy, progress=messages.append)
    assert "ingen kontrolsummer" in messages[0]


def test_build_processed_missing_raw_folder_raises(tmp_path):
    processed = tmp_path / "processed"
    with pytest.raises(DataValidationError, match="does not exist"):
        cube_build.build_processed(tmp_path / "no-such-folder", processed)
    assert not processed.exists()


def test_suppress_models_blanks_a_trend_resting_on_a_hidden_wave():
    # Hand-made: kommune 825 has its 2013 cell hidden, kommune 461 none.
    cube = pd.DataFrame(
        {
            "indicator": "daily_smoking",
            "area_level": "kommune",
            "area_code": ["825", "825", "461", "461"],
            "breakdown": "total",
            "year": [2013, 2021, 2013, 2021],
            "suppressed": [True, False, False, False],
        }
    )
    trends = pd.DataFrame(
        {
            "indicator": "daily_smoking",
            "area_level": "kommune",
            "area_code": ["825", "461"],
            "waves": ["2013,2021", "2013,2021"],
            "n": [57, 1234],
            "projected": [0.2, 0.1],
            "annual_change_pp": [1.0, -0.5],
            "projected_pi80_low": [0.15, 0.08],
            "fit_note": "",
            "forecast_note": "COVID-19 wave 2021 has its own effect.",
        }
    )
    out = cube_trends.suppress_models(trends, cube).set_index("area_code")
    assert np.isnan(out.loc["825", "projected"]) and np.isnan(out.loc["825", "annual_change_pp"])
    assert np.isnan(out.loc["825", "projected_pi80_low"])
    assert out.loc["825", "fit_note"] == cube_trends.MODEL_SUPPRESSED_NOTE
    assert out.loc["825", "forecast_note"] == ""
    assert out.loc["461", "forecast_note"] != ""
    assert out.loc["461", "projected"] == 0.1
    assert out.loc["461", "n"] == 1230  # rounded to 10
    assert trends["projected"].notna().all()  # input unchanged


# --- one cube for all agreements -------------------------------------------------------------


def test_build_processed_estimates_each_indicator_once_for_all_agreements(small_processed):
    cube = pd.read_parquet(small_processed.path("estimates"))
    keys = ["indicator", "year", "area_level", "area_code", "breakdown", "group"]
    assert not cube.duplicated(keys).any()
    agreements = [catalogue.load_agreement(a) for a in catalogue.list_agreements()]
    survey = {i.id for a in agreements for i in a.indicators_by_source("survey")}
    assert set(cube["indicator"]) == survey
    assert small_processed.manifest["indicators"] == list(catalogue.combine(agreements).indicators)


def test_build_processed_agreement_tables_hold_only_the_agreements_indicators(small_processed):
    for agreement_id in catalogue.list_agreements():
        agreement = catalogue.load_agreement(agreement_id)
        for table in ("status", "trends", "register_status"):
            rows = pd.read_parquet(small_processed.path(table, agreement_id))
            assert set(rows["indicator"]) <= set(agreement.indicators), (agreement_id, table)
        activity = pd.read_parquet(small_processed.path("activity_status", agreement_id))
        assert set(activity["objective"]) <= {o.id for o in agreement.status_objectives()}
    # Herning's policy asks no status question; KL's asks every klynge.
    assert pd.read_parquet(small_processed.path("activity_status", "herning-sundhedspolitik")).empty
    kl = pd.read_parquet(small_processed.path("activity_status", "kl-sundhed-for-de-mange"))
    assert kl["sundhedsklynge_code"].nunique() == 22


def _user_agreement(tmp_path, *, age_min=30) -> Path:
    path = tmp_path / "mit.yml"
    text = f"""
id: mit
title: Min aftale
parties: Herning Kommune
scope: {{level: kommune, areas: ["657"]}}
comparisons: [sundhedsklynge, region, land]
period_start: 2024
period_end: 2030
baseline_wave: 2017
source: Et dokument
overall_vision: {{title: Vision, text: Visionen.}}
visions:
  - id: v1
    title: Første
    objectives:
      - id: o1
        text: Færre skal ryge.
        follow_up: Vi måler på daglig rygning blandt 30-64-årige.
        indicators: [daily_smoking_30_64]
indicators:
  daily_smoking_30_64:
    label: Ryger dagligt, 30-64 år
    short_label: ryger dagligt
    definition: Andel 30-64-årige, der ryger dagligt.
    source: survey
    variable: daily_smoking
    direction: decrease
    population: {{age_min: {age_min}, age_max: 64, sex: all}}
    first_wave: 2010
    comparability: Sammenlignelig 2010-2025.
"""
    path.write_text(text, encoding="utf-8")
    return path


def test_build_processed_with_a_users_agreement_file(
    small_raw, small_processed, processed_copy, tmp_path, fast_models
):
    path = _user_agreement(tmp_path)
    chosen = cube_build.build_agreements(path)
    assert chosen[:-1] == catalogue.list_agreements() and chosen[-1] == path
    result = cube_build.build_processed(small_raw, processed_copy, agreements=chosen)
    assert result.reused is False
    record = result.manifest["agreements"][-1]
    assert record["id"] == "mit" and record["path"] == str(path.resolve())
    # Its own indicator joins the one cube; its baseline (2017) and end (2030) give its own
    # changes, computed apart from the shipped agreements'.
    cube = pd.read_parquet(cube_build.table_path(processed_copy, "estimates"))
    assert "daily_smoking_30_64" in set(cube["indicator"])
    changes = pd.read_parquet(cube_build.table_path(processed_copy, "changes", "mit"))
    baseline = changes[changes["comparison"] == "baseline"]
    assert set(baseline["year_from"]) == {2017}
    assert set(changes["indicator"]) == {"daily_smoking_30_64"}
    # Unchanged: reused; an edited agreement file: rebuilt.
    assert cube_build.build_processed(small_raw, processed_copy, agreements=chosen).reused
    path.write_text(path.read_text().replace("Min aftale", "Min nye aftale"), encoding="utf-8")
    assert not cube_build.build_processed(small_raw, processed_copy, agreements=chosen).reused


def test_build_processed_refuses_an_id_defined_two_ways(small_raw, processed_copy, tmp_path):
    first = _user_agreement(tmp_path)
    second = tmp_path / "other.yml"
    text = first.read_text(encoding="utf-8")
    second.write_text(
        text.replace("id: mit", "id: other").replace("age_min: 30", "age_min: 35"),
        encoding="utf-8",
    )
    with pytest.raises(ParameterError, match="'daily_smoking_30_64' is defined differently"):
        cube_build.build_processed(small_raw, processed_copy, agreements=[first, second])


def test_data_dictionary_describes_every_table_and_column(small_processed):
    root = Path(__file__).resolve().parents[1]
    dictionary = (root / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    listing = (root / "data" / "processed" / "README.md").read_text(encoding="utf-8")
    # Every table, and an agreement's tables for every shipped agreement (their columns
    # differ: an agreement without register indicators has empty register tables).
    tables = [(t, None) for t in cube_build.SHARED_TABLES] + [
        (t, a) for t in cube_build.AGREEMENT_TABLES for a in catalogue.list_agreements()
    ]
    for table, agreement_id in tables:
        assert f"`{table}.parquet`" in listing, table
        assert f"{table}.parquet" in dictionary, table
        columns = pd.read_parquet(small_processed.path(table, agreement_id)).columns
        # A column is described by name, or as a suffix of a described stem ("`d` (+ `_se`").
        undocumented = [
            c
            for c in columns
            if f"`{c}`" not in dictionary
            and not any(
                f"`{c[: -len(s)]}`" in dictionary and f"`{s}`" in dictionary
                for s in ("_se", "_ci_low", "_ci_high", "_p")
                if c.endswith(s)
            )
        ]
        assert undocumented == [], (table, agreement_id, undocumented)
    from analyse.publish.export import COLUMNS

    for column in COLUMNS:
        assert f"| `{column}` |" in dictionary or f"`{column}`" in dictionary, column
