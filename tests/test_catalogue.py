"""Tests of analyse.reference.catalogue: the Sundhedsaftale 2024-2027 as data, and its validation."""

import re
from pathlib import Path

import pytest
import yaml

from analyse.errors import DataValidationError, ParameterError
from analyse.reference import catalogue

SEED = Path(__file__).parent / "data" / "sundhedsaftale_2024_2027_excerpt.txt"


def _seed_objectives() -> list[str]:
    """The målsætning column of the agreement's tables (lines 'Målsætning<TAB>Opfølgning' follow)."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    objectives = []
    for line in lines:
        if "\t" in line and line.startswith("Vi vil samarbejde"):
            objectives.append(line.split("\t")[0].strip())
    return objectives


def test_list_agreements_lists_the_shipped_one():
    assert "syddanmark-2024-2027" in catalogue.list_agreements()


def test_every_objective_in_the_seed_is_in_the_catalogue_with_a_follow_up():
    agreement = catalogue.load_agreement("syddanmark-2024-2027")
    seed_objectives = _seed_objectives()
    assert len(seed_objectives) == 8
    texts = [obj.text for obj in agreement.objectives]
    for text in seed_objectives:
        assert text in texts, text
    for obj in agreement.objectives:
        assert obj.indicators or obj.status_question


def test_four_visions_and_overall_vision():
    agreement = catalogue.load_agreement()
    assert len(agreement.visions) == 4
    assert "lighed i sundhed" in agreement.overall_vision["text"]
    assert agreement.baseline_wave == 2021
    assert (agreement.period_start, agreement.period_end) == (2024, 2027)


def test_required_indicator_ids_sources_and_directions():
    agreement = catalogue.load_agreement()
    survey = {i.id for i in agreement.indicators_by_source("survey")}
    register = {i.id for i in agreement.indicators_by_source("register")}
    assert {
        "poor_mental_health",
        "high_stress",
        "loneliness",
        "physically_active",
        "severe_obesity",
        "alcohol_over_10",
        "daily_smoking",
        "other_nicotine_use",
    } <= survey
    assert register == {"employment_somatic", "employment_mental", "youth_education_mental"}
    for ind in agreement.indicators.values():
        assert ind.direction in ("increase", "decrease")
    # Directions as the agreement words them ("stiger/øges" vs "bliver mindre").
    assert agreement.indicator("physically_active").direction == "increase"
    assert agreement.indicator("daily_smoking").direction == "decrease"
    assert agreement.indicator("youth_education_mental").direction == "increase"


def test_youth_trivsel_indicators_are_16_to_24_and_short_series_start_2021():
    agreement = catalogue.load_agreement()
    for ind_id in ("poor_mental_health", "high_stress", "loneliness"):
        pop = agreement.indicator(ind_id).population
        assert (pop.age_min, pop.age_max) == (16, 24)
        assert pop.label == "16-24 år"
    assert agreement.indicator("loneliness").first_wave == 2021
    assert agreement.indicator("physically_active").first_wave == 2021
    assert agreement.indicator("other_nicotine_use").first_wave == 2021
    assert agreement.comparable_waves("physically_active") == [2021, 2025]
    assert agreement.comparable_waves("daily_smoking", level="land") == [
        2010,
        2013,
        2017,
        2021,
        2023,
        2025,
    ]
    assert 2023 not in agreement.comparable_waves("daily_smoking", level="kommune")


def test_status_questions_for_the_four_status_objectives():
    agreement = catalogue.load_agreement()
    with_status = [o.id for o in agreement.objectives if o.status_question]
    assert len(with_status) == 4


def test_unknown_agreement_raises_parameter_error():
    with pytest.raises(ParameterError, match="unknown agreement 'nordjylland-2030'"):
        catalogue.load_agreement("nordjylland-2030")


def _write_variant(tmp_path, mutate) -> Path:
    source = Path(catalogue._agreement_dir()) / "syddanmark-2024-2027.yml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "variant.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["indicators"]["daily_smoking"].update(direction="down"),
            "indicators.daily_smoking.direction: 'down' is not one of increase, decrease",
        ),
        (
            lambda d: d["indicators"]["daily_smoking"].pop("label"),
            "indicators.daily_smoking: missing required field(s) label",
        ),
        (
            lambda d: d["indicators"]["daily_smoking"].update(colour="red"),
            "indicators.daily_smoking: unknown field(s) colour",
        ),
        (
            lambda d: d["indicators"]["daily_smoking"].update(label="  "),
            "indicators.daily_smoking.label: must be a non-empty Danish text",
        ),
        (
            lambda d: d["visions"][2]["objectives"][1].update(indicators=["beer"]),
            "refers to indicator 'beer'",
        ),
        (
            lambda d: d.update(baseline_wave=2019),
            "baseline_wave: 2019 is not one of the survey_waves",
        ),
        (
            lambda d: d["indicators"]["loneliness"]["population"].update(sex="x"),
            "population.sex: 'x' is not one of all, female, male",
        ),
        (
            lambda d: d["indicators"]["daily_smoking"].update(target={"value_pct": 0.1}),
            "indicators.daily_smoking.target: missing required field(s) source",
        ),
        (
            lambda d: d["indicators"]["daily_smoking"].update(
                target={"value_pct": 110, "source": "x"}
            ),
            "target.value_pct: must be a percentage between 0 and 100, got 110",
        ),
        (
            lambda d: d["indicators"]["daily_smoking"].update(
                target={"value_pct": 10, "year": 2020, "source": "x"}
            ),
            "target.year: 2020 is before the agreement period",
        ),
    ],
)
def test_load_agreement_invalid_file_names_file_and_place(tmp_path, mutate, message):
    path = _write_variant(tmp_path, mutate)
    with pytest.raises(DataValidationError) as err:
        catalogue.load_agreement(path)
    assert message in str(err.value)
    assert "variant.yml" in str(err.value)


def test_indicator_lookup_unknown_raises():
    agreement = catalogue.load_agreement()
    with pytest.raises(ParameterError, match=re.escape("has no indicator 'happiness'")):
        agreement.indicator("happiness")


def test_targets_of_the_labour_market_indicators():
    # The 2019-2023 agreement's 82 % and 51 % (shared/facts/sundhedsprofil.md, docs/methods.md
    # section 1), kept as reference targets for the end of the 2024-2027 agreement.
    agreement = catalogue.load_agreement()
    somatic = agreement.indicator("employment_somatic").target
    mental = agreement.indicator("employment_mental").target
    assert (somatic.value, somatic.year) == (0.82, 2027)
    assert (mental.value, mental.year) == (0.51, 2027)
    assert "2019-2023" in somatic.source and "2019-2023" in mental.source
    others = [
        i for i in agreement.indicators if i not in ("employment_somatic", "employment_mental")
    ]
    assert all(agreement.indicator(i).target is None for i in others)
