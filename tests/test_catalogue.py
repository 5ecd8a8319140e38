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


def _minimal() -> dict:
    """A small valid agreement of one kommune (a user's file), for the validation tests."""
    return {
        "id": "mit",
        "title": "Min aftale",
        "parties": "Herning Kommune",
        "scope": {"level": "kommune", "areas": ["657"]},
        "comparisons": ["sundhedsklynge", "region", "land"],
        "period_start": 2024,
        "period_end": 2027,
        "baseline_wave": 2021,
        "source": "Et dokument",
        "overall_vision": {"title": "Vision", "text": "Visionen."},
        "visions": [
            {
                "id": "v1",
                "title": "Første",
                "objectives": [
                    {
                        "id": "o1",
                        "text": "Færre skal ryge.",
                        "follow_up": "Vi måler på daglig rygning.",
                        "indicators": ["daily_smoking", "my_smoking"],
                    }
                ],
            }
        ],
        "indicators": {
            "daily_smoking": {
                "dimensions": ["education", "labour_market"],
                "target": {"value_pct": 10, "source": "Et dokument"},
            },
            "my_smoking": {
                "label": "Ryger dagligt, 30-64 år",
                "short_label": "ryger dagligt",
                "definition": "Andel 30-64-årige, der ryger dagligt.",
                "source": "survey",
                "variable": "daily_smoking",
                "direction": "decrease",
                "population": {"age_min": 30, "age_max": 64, "sex": "all"},
                "first_wave": 2010,
                "comparability": "Sammenlignelig.",
            },
        },
    }


def _write(tmp_path, data, name="variant.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_minimal_user_agreement_loads_with_library_and_own_indicators(tmp_path):
    agreement = catalogue.load_agreement(_write(tmp_path, _minimal()))
    assert agreement.scope == catalogue.Scope("kommune", ("657",), ("kommune",))
    smoking = agreement.indicator("daily_smoking")
    # The library's definition with the agreement's own fields.
    assert smoking.label == "Ryger dagligt" and smoking.direction == "decrease"
    assert smoking.dimensions == ("education", "labour_market")
    # The structured target (percent in the file, a share inside; year: the period's end).
    assert (smoking.target.value, smoking.target.year) == (0.1, 2027)
    assert agreement.indicator("my_smoking").population.label == "30-64 år"
    assert agreement.region_code == 1082


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _pop(path):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1])

    return mutate


OBJECTIVE = ("visions", 0, "objectives", 0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            _set(("indicators", "my_smoking", "direction"), "down"),
            "indicators.my_smoking.direction: 'down' is not one of increase, decrease "
            "(increase = skal stige, decrease = skal falde)",
        ),
        (
            _pop(("indicators", "my_smoking", "label")),
            "indicators.my_smoking: missing required field(s) label",
        ),
        (
            _set(("indicators", "my_smoking", "colour"), "red"),
            "indicators.my_smoking: unknown field(s) colour",
        ),
        (
            _set(("indicators", "my_smoking", "label"), "  "),
            "indicators.my_smoking.label: must be a non-empty Danish text",
        ),
        (
            _set((*OBJECTIVE, "indicators"), ["daily_smokin"]),
            "visions[0].objectives[0]: refers to indicator 'daily_smokin', which is neither in "
            "the indicator library nor defined under indicators (unknown indicator id; did you "
            "mean 'daily_smoking'?",
        ),
        (
            _set(("indicators", "daily_smoking", "direction"), "increase"),
            "indicators.daily_smoking: direction belong(s) to the indicator library's definition "
            "of 'daily_smoking' (Ryger dagligt, skal falde)",
        ),
        (
            _set(("baseline_wave",), 2019),
            "baseline_wave: 2019 is not one of the survey_waves (2010, 2013, 2017, 2021, 2023, "
            "2025)",
        ),
        (
            _set(("baseline_wave",), 2023),
            "baseline_wave: 2023 is a national-only wave (no figures for regions, klynger and "
            "kommuner); use one of 2010, 2013, 2017, 2021, 2025",
        ),
        (
            _pop((*OBJECTIVE, "indicators")),
            "visions[0].objectives[0]: has no follow-up: give indicators or a status_question",
        ),
        (
            _pop((*OBJECTIVE, "follow_up")),
            "visions[0].objectives[0]: missing required field(s) follow_up",
        ),
        (
            _set(("scope", "areas"), ["999"]),
            "scope.areas: unknown kommune code '999'",
        ),
        (
            _set(("scope", "level"), "klynge"),
            "scope.level: 'klynge' is not one of land, region, sundhedsklynge, kommune",
        ),
        (
            _set(("scope", "briefs"), ["region", "kommune"]),
            "scope.briefs: 'region' is above the scope's level 'kommune'",
        ),
        (
            _set(
                ("comparisons",),
                [{"level": "sundhedsklynge", "area": "midtjylland-horsensklyngen"}],
            ),
            "comparisons[0].area: the scope (Herning Kommune) lies outside Sundhedsklynge "
            "Midtjylland Horsensklyngen (Regionshospitalet Horsens) (outside it: Herning Kommune)",
        ),
        (
            _set(("comparisons",), ["kommune"]),
            "comparisons[0]: 'kommune' is not one of sundhedsklynge, region, land",
        ),
        (
            _set(("region_code",), 1082),
            "region_code: give either scope or region_code, not both",
        ),
        (
            _set(("indicators", "daily_smoking", "target"), 10),
            "indicators.daily_smoking.target: expected a mapping of fields",
        ),
        (
            _set(("indicators", "daily_smoking", "dimensions"), ["income"]),
            "indicators.daily_smoking.dimensions: 'income' is not one of education, labour_market",
        ),
        (
            _set(("indicators", "alcohol_over_10"), {"note": "x"}),
            "indicators: defined but used by no målsætning: alcohol_over_10",
        ),
        (
            _set(("indicators", "my_smoking", "population", "sex"), "x"),
            "population.sex: 'x' is not one of all, female, male",
        ),
        (
            _set(("period_end",), 2020),
            "period_end: 2020 is before period_start 2024",
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
    data = _minimal()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(DataValidationError) as err:
        catalogue.load_agreement(path)
    assert message in str(err.value)
    assert "variant.yml" in str(err.value)


def test_older_agreement_with_region_code_is_a_region_scope(tmp_path):
    data = _minimal()
    data.pop("scope")
    data.pop("comparisons")
    data["region_code"] = 1083
    agreement = catalogue.load_agreement(_write(tmp_path, data))
    assert agreement.scope.level == "region" and agreement.scope.areas == ("1083",)
    assert [c.level for c in agreement.comparisons] == ["region", "land"]
    assert len(agreement.scope.brief_areas()) == 1 + 4 + 22


def test_combine_refuses_an_id_defined_differently(tmp_path):
    data = _minimal()
    data["indicators"]["my_smoking"]["population"]["age_min"] = 35
    other = _write(tmp_path, {**data, "id": "other"}, "other.yml")
    mine = _write(tmp_path, _minimal(), "mine.yml")
    agreements = catalogue.load_agreements([mine, other])
    with pytest.raises(
        ParameterError,
        match=r"'my_smoking' is defined differently in 'mit' and 'other' \(population\)",
    ):
        catalogue.combine(agreements)
    same = catalogue.combine([agreements[0], catalogue.load_agreement()])
    assert "my_smoking" in same.indicators and "youth_education_mental" in same.indicators


def test_two_agreements_with_one_id_are_refused(tmp_path):
    first = _write(tmp_path, _minimal(), "a.yml")
    second = _write(tmp_path, _minimal(), "b.yml")
    with pytest.raises(ParameterError, match="two agreements have the id 'mit'"):
        catalogue.load_agreements([first, second])


def test_indicator_lookup_unknown_raises():
    agreement = catalogue.load_agreement()
    with pytest.raises(ParameterError, match=re.escape("has no indicator 'happiness'")):
        agreement.indicator("happiness")


# --- the shipped agreements: scope, comparisons, quotes ------------------------------------------

SEEDS = Path(__file__).parent / "data" / "seeds"
SHIPPED = {
    # id: (scope level, scope areas, briefs by level)
    "syddanmark-2024-2027": (
        "region",
        ("1083",),
        {"region": 1, "sundhedsklynge": 4, "kommune": 22},
    ),
    "horsensklyngen-pejlemaerker": (
        "sundhedsklynge",
        ("midtjylland-horsensklyngen",),
        {"sundhedsklynge": 1, "kommune": 4},
    ),
    "goedstrup-klyngen": (
        "sundhedsklynge",
        ("midtjylland-vestklyngen-goedstrupklyngen",),
        {"sundhedsklynge": 1, "kommune": 6},
    ),
    "herning-sundhedspolitik": ("kommune", ("657",), {"kommune": 1}),
    "kl-sundhed-for-de-mange": ("land", ("DK",), {"land": 1, "sundhedsklynge": 22}),
}


def test_every_shipped_agreement_loads_with_its_scope():
    assert catalogue.list_agreements() == sorted(SHIPPED)
    for agreement_id, (level, areas, briefs) in SHIPPED.items():
        agreement = catalogue.load_agreement(agreement_id)
        assert agreement.id == agreement_id
        assert (agreement.scope.level, agreement.scope.areas) == (level, areas)
        counts = agreement.scope.brief_areas()["area_level"].value_counts().to_dict()
        assert counts == briefs, agreement_id


def test_scope_members_are_the_klynge_kommuner_of_the_geography():
    horsens = catalogue.load_agreement("horsensklyngen-pejlemaerker").scope
    # Horsens 615, Odder 727, Skanderborg 746, Hedensted 766 (geography.csv).
    assert horsens.members == [615, 727, 746, 766]
    goedstrup = catalogue.load_agreement("goedstrup-klyngen").scope
    assert goedstrup.members == [657, 661, 665, 671, 756, 760]
    assert goedstrup.contains("kommune", "657") and not goedstrup.contains("kommune", "615")
    assert not goedstrup.contains("region", "1082")


def test_comparisons_each_brief_with_its_parents():
    herning = catalogue.load_agreement("herning-sundhedspolitik")
    assert herning.comparison_areas("kommune", "657") == [
        ("sundhedsklynge", "midtjylland-vestklyngen-goedstrupklyngen"),
        ("region", "1082"),
        ("land", "DK"),
    ]
    horsens = catalogue.load_agreement("horsensklyngen-pejlemaerker")
    assert horsens.comparison_areas("sundhedsklynge", "midtjylland-horsensklyngen") == [
        ("region", "1082"),
        ("land", "DK"),
    ]
    kl = catalogue.load_agreement("kl-sundhed-for-de-mange")
    assert kl.comparison_areas("land", "DK") == []
    assert kl.comparison_areas("sundhedsklynge", "syddanmark-fyn") == [
        ("region", "1083"),
        ("land", "DK"),
    ]
    syd = catalogue.load_agreement()
    assert syd.comparison_areas("kommune", "461") == [("region", "1083"), ("land", "DK")]


def test_kommune_in_two_klynger_is_compared_with_both_unless_the_scope_names_one(tmp_path):
    data = _minimal()
    data["scope"] = {"level": "kommune", "areas": ["101"]}
    both = catalogue.load_agreement(_write(tmp_path, data))
    klynger = [
        c for level, c in both.comparison_areas("kommune", "101") if level == "sundhedsklynge"
    ]
    assert len(klynger) == 2
    data["comparisons"] = [{"level": "sundhedsklynge", "area": klynger[1]}, "land"]
    one = catalogue.load_agreement(_write(tmp_path, data, "one.yml"))
    assert one.comparison_areas("kommune", "101") == [
        ("sundhedsklynge", klynger[1]),
        ("land", "DK"),
    ]


def _squash(text: str) -> str:
    """Whitespace-normalised text without markdown emphasis and bullets."""
    text = re.sub(r"[*#•]|<sup>\d</sup>", " ", text)
    return " ".join(text.split())


def _skeleton(text: str) -> str:
    """The consonants of a text, lower case, nothing else: survives the OCR of seed 003, which
    misreads vowels and æ/ø/å ("skrebelige ®ldre") and hyphenates across lines."""
    text = text.lower().replace("-\n", "")
    return re.sub(r"[^bcdfghjklmnpqrstvwxz]", "", text)


@pytest.mark.parametrize(
    ("agreement_id", "seed"),
    [
        ("horsensklyngen-pejlemaerker", "horsensklyngen_000.txt"),
        ("herning-sundhedspolitik", "herning_002.txt"),
        ("goedstrup-klyngen", "goedstrup_004.txt"),
    ],
)
def test_quoted_maalsaetninger_and_visions_stand_verbatim_in_the_seed(agreement_id, seed):
    agreement = catalogue.load_agreement(agreement_id)
    text = _squash((SEEDS / seed).read_text(encoding="utf-8"))
    quotes = [agreement.overall_vision["text"]]
    for vision in agreement.visions:
        quotes.append(vision.title)
        quotes += [objective.text for objective in vision.objectives]
    for quote in quotes:
        # Sentence by sentence: Gødstrup's overall vision joins the bullets of one slide.
        for sentence in _squash(quote).rstrip(".").split(". "):
            assert sentence in text, quote


def test_kl_quotes_match_the_ocr_seed_up_to_its_misread_letters():
    agreement = catalogue.load_agreement("kl-sundhed-for-de-mange")
    lines = (SEEDS / "kl_003.txt").read_text(encoding="utf-8").splitlines()
    seed = _skeleton("\n".join(lines))
    # Lines 240-248 print two headings in two columns, interleaved line by line ("Sammenhang
    # Sammenhang / for skrebelige for mennesker / ®ldre med psykiske …"): there every word of
    # the heading must stand in those lines; elsewhere the whole quote, in order.
    two_columns = {_skeleton(w) for w in " ".join(lines[239:248]).split()}
    quotes = [agreement.overall_vision["text"]]
    for vision in agreement.visions:
        quotes.append(vision.title)
        quotes += [o.text for o in vision.objectives]
    interleaved = 0
    for quote in quotes:
        if _skeleton(quote) in seed:
            continue
        words = [_skeleton(w) for w in quote.split() if _skeleton(w)]
        assert all(w in two_columns for w in words), quote
        interleaved += 1
    # The elderly and the psychiatric headings (målsætninger of two visions).
    assert interleaved == 2
    # The check can fail: a sentence that is not in the publication.
    assert _skeleton("Klyngerne skal lukke alle sygehuse.") not in seed


def test_every_shipped_indicator_is_in_the_library_and_derived_by_the_cleaning():
    from analyse.data.clean import INDICATORS as derived

    library = catalogue.indicator_library()
    for agreement_id in catalogue.list_agreements():
        for ind in catalogue.load_agreement(agreement_id).indicators.values():
            assert ind.definition_fields() == library.indicators[ind.id].definition_fields()
            if ind.source == "survey":
                assert ind.variable in derived, ind.id
    # One set of estimates serves all five: no id defined two ways.
    union = catalogue.combine([catalogue.load_agreement(a) for a in catalogue.list_agreements()])
    assert len(union.indicators) == len(library.indicators)


def test_seed_choices_have_notes_where_the_analysis_chose_the_indicator():
    # Every målsætning of the four new agreements that the seed does not follow up itself
    # carries an explanation: on the målsætning or on one of its indicators.
    for agreement_id in SHIPPED:
        if agreement_id == "syddanmark-2024-2027":
            continue
        agreement = catalogue.load_agreement(agreement_id)
        assert agreement.note, agreement_id
        for objective in agreement.objectives:
            notes = [objective.note] + [agreement.indicator(i).note for i in objective.indicators]
            assert any(notes) or len(objective.indicators) <= 2, (agreement_id, objective.id)


def test_vulnerable_groups_are_followed_by_education_and_labour_market():
    herning = catalogue.load_agreement("herning-sundhedspolitik")
    for ind_id in herning.objectives[0].indicators:
        assert herning.indicator(ind_id).dimensions == ("education", "labour_market"), ind_id
    employed = herning.indicator("high_stress_employed").population
    assert employed.labour_market == ("Beskæftiget",)
    assert employed.label == "25-64 år (beskæftiget)"
    goedstrup = catalogue.load_agreement("goedstrup-klyngen")
    assert "labour_market" in goedstrup.indicator("good_self_rated_health").dimensions
    # The Herning policy's own period (2015-2018) has ended: followed up in 2024-2027.
    assert (herning.period_start, herning.period_end, herning.baseline_wave) == (2024, 2027, 2021)
    assert "udmøntes i 2015 via en 4-årig sundhedsstrategi" in herning.note


def test_no_raw_variable_name_is_a_word_of_the_texts_the_briefs_show():
    # The leak check stops a brief that shows a raw variable name followed by a value; a raw
    # name that is also a Danish word ("helbred 2021") would stop ordinary briefs.
    from analyse.data.codebook import load_codebook

    # The items added for the new agreements (the older ones, e.g. "rygning" and "alder", are
    # words, but sentences never put a number right after them).
    added = ("kostmoenster", "selvvurd_helbred", "stoette", "langv_sygdom", "gener_nedtrykt")
    names = {n.lower() for n in load_codebook().variables if n in added}
    assert len(names) == 5
    texts = []
    library = catalogue.indicator_library()
    for ind in library.indicators.values():
        texts += [ind.label, ind.short_label, ind.definition, ind.comparability]
    for agreement_id in catalogue.list_agreements():
        agreement = catalogue.load_agreement(agreement_id)
        texts += [agreement.title, agreement.overall_vision["text"], agreement.note or ""]
        for vision in agreement.visions:
            texts.append(vision.title)
            for objective in vision.objectives:
                texts += [objective.text, objective.follow_up, objective.note or ""]
    words = {w for text in texts for w in re.findall(r"[\w-]+", text.lower())}
    assert names & words == set()


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
