"""Tests of analyse.run.agreements and the `analyse agreement new|check` commands: a user's own
agreement, from a skeleton to a checked file with precise messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analyse.errors import ParameterError
from analyse.reference import catalogue
from analyse.run import agreements
from analyse.run.cli import main


@pytest.fixture
def skeleton(tmp_path) -> Path:
    path = tmp_path / "mit.yml"
    assert (
        main(["agreement", "new", "--scope", "kommune", "--area", "657", "--out", str(path)]) == 0
    )
    return path


def _check(path: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["agreement", "check", str(path), *extra])
    return code, capsys.readouterr().out


def test_new_writes_a_skeleton_that_passes_the_check(skeleton, tmp_path, capsys):
    text = skeleton.read_text(encoding="utf-8")
    assert 'areas: ["657"]   # Herning Kommune' in text
    assert "comparisons: [sundhedsklynge, region, land]" in text
    # Every indicator of the library is listed, with its direction.
    for ind_id in catalogue.indicator_library().indicators:
        assert re.search(rf"^#\s+{ind_id}\s+[↑↓] ", text, flags=re.M), ind_id
    code, out = _check(skeleton, capsys, "--processed", str(tmp_path / "none"))
    assert code == 0 and "OK: aftalen kan bruges." in out
    agreement = catalogue.load_agreement(skeleton)
    assert agreement.id == "mit" and agreement.scope.members == [657]


def test_new_refuses_bad_requests(tmp_path, skeleton):
    with pytest.raises(ParameterError, match="exists"):
        agreements.write_skeleton(skeleton, scope="kommune", areas=["657"])
    with pytest.raises(ParameterError, match="unknown kommune code '999'"):
        agreements.write_skeleton(tmp_path / "a.yml", scope="kommune", areas=["999"])
    with pytest.raises(ParameterError, match="covers exactly one area"):
        agreements.write_skeleton(tmp_path / "b.yml", scope="kommune", areas=["657", "661"])
    with pytest.raises(ParameterError, match="id of a shipped agreement"):
        agreements.write_skeleton(
            tmp_path / "herning-sundhedspolitik.yml", scope="kommune", areas=["657"]
        )
    # Several klynger make one scope.
    path = agreements.write_skeleton(
        tmp_path / "to.yml",
        scope="sundhedsklynge",
        areas=["midtjylland-horsensklyngen", "midtjylland-vestklyngen-goedstrupklyngen"],
    )
    assert len(catalogue.load_agreement(path).scope.members) == 10


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "indicators: [daily_smoking]",
            "indicators: [daily_smokin]",
            "visions[0].objectives[0]: refers to indicator 'daily_smokin', which is neither in the "
            "indicator library nor defined under indicators (unknown indicator id; did you mean "
            "'daily_smoking'?",
        ),
        (
            "    dimensions: [education, labour_market]",
            "    dimensions: [education, labour_market]\n    direction: up",
            "indicators.daily_smoking: direction belong(s) to the indicator library's definition",
        ),
        (
            "comparisons: [sundhedsklynge, region, land]",
            'comparisons: [{level: region, area: "1083"}]',
            "comparisons[0].area: the scope (Herning Kommune) lies outside Region Syddanmark",
        ),
        (
            'areas: ["657"]',
            'areas: ["midtjylland-horsensklyngen"]',
            "scope.areas: unknown kommune code 'midtjylland-horsensklyngen'",
        ),
        (
            "baseline_wave: 2021",
            "baseline_wave: 2023",
            "baseline_wave: 2023 is a national-only wave",
        ),
        (
            "        indicators: [daily_smoking]   # ids from the list below",
            "",
            "visions[0].objectives[0]: has no follow-up: give indicators or a status_question",
        ),
    ],
)
def test_check_names_the_place_and_the_rule(skeleton, capsys, tmp_path, old, new, message):
    text = skeleton.read_text(encoding="utf-8")
    assert old in text
    skeleton.write_text(text.replace(old, new), encoding="utf-8")
    code, out = _check(skeleton, capsys, "--processed", str(tmp_path / "none"))
    assert code == 2
    assert f"FEJL: {message}" in out
    assert "Aftalen kan ikke bruges endnu." in out


def test_check_direction_word_of_an_own_indicator(skeleton, capsys, tmp_path):
    text = skeleton.read_text(encoding="utf-8").replace(
        "indicators: [daily_smoking]", "indicators: [daily_smoking, my_smoking]"
    )
    text += (
        "  my_smoking:\n"
        "    label: Ryger dagligt, 30-64 år\n"
        "    short_label: ryger dagligt\n"
        "    definition: Andel 30-64-årige, der ryger dagligt.\n"
        "    source: survey\n"
        "    variable: smoking\n"
        "    direction: up\n"
        "    population: {age_min: 30, age_max: 64, sex: all}\n"
        "    first_wave: 2010\n"
        "    comparability: Sammenlignelig.\n"
    )
    skeleton.write_text(text, encoding="utf-8")
    _, out = _check(skeleton, capsys, "--processed", str(tmp_path / "none"))
    assert (
        "FEJL: indicators.my_smoking.direction: 'up' is not one of increase, decrease "
        "(increase = skal stige, decrease = skal falde)"
    ) in out
    skeleton.write_text(text.replace("direction: up", "direction: decrease"), encoding="utf-8")
    _, out = _check(skeleton, capsys, "--processed", str(tmp_path / "none"))
    assert "FEJL: indicators.my_smoking.variable: 'smoking' is not a survey indicator" in out


def test_check_baseline_wave_not_in_the_data(skeleton, capsys, tmp_path):
    processed = tmp_path / "processed"
    processed.mkdir()
    (processed / "manifest.json").write_text(
        json.dumps({"waves": [2010, 2013, 2017], "agreements": []}), encoding="utf-8"
    )
    code, out = _check(skeleton, capsys, "--processed", str(processed))
    assert code == 2
    assert (
        f"FEJL: baseline_wave: 2021 is not a wave in the data in {processed} (2010, 2013, 2017)"
    ) in out


def test_check_register_indicator_missing_from_the_delivery(skeleton, capsys, tmp_path):
    text = skeleton.read_text(encoding="utf-8").replace(
        "indicators: [daily_smoking]", "indicators: [daily_smoking, long_sick_leave]"
    )
    skeleton.write_text(text, encoding="utf-8")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "registerdata.csv").write_text(
        "indikator;aar;kommunekode;koen;uddannelse;taeller;naevner\n"
        "employment_mental;2023;657;Mænd;I alt;10;20\n",
        encoding="utf-8",
    )
    code, out = _check(skeleton, capsys, "--processed", str(tmp_path / "none"), "--raw", str(raw))
    assert code == 2
    assert "FEJL: indicators.long_sick_leave: the register delivery" in out


def test_check_refuses_a_shipped_id(skeleton, capsys, tmp_path):
    text = skeleton.read_text(encoding="utf-8").replace("id: mit", "id: herning-sundhedspolitik")
    skeleton.write_text(text, encoding="utf-8")
    code, out = _check(skeleton, capsys, "--processed", str(tmp_path / "none"))
    assert code == 2 and "is the id of a shipped agreement" in out


def test_every_shipped_agreement_passes_the_check(capsys, tmp_path):
    for agreement_id in catalogue.list_agreements():
        path = catalogue.agreement_dir() / f"{agreement_id}.yml"
        report = agreements.check_agreement(path, processed=None, raw=None)
        assert report.ok, (agreement_id, report.errors)


def test_cli_catalogue_shows_a_users_file(skeleton, capsys):
    # (`analyse briefs --area 461` without --agreement renders Syddanmark's brief:
    # tests/test_foreign_delivery.py.)
    assert main(["catalogue", "--agreement", str(skeleton)]) == 0
    out = capsys.readouterr().out
    assert "Herning Kommune, 2024-2027, baseline 2021" in out and "daily_smoking" in out
