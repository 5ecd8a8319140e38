"""The Sundhedsaftaler as data: vision → målsætning → indicators and klynge status questions.

Each agreement is a YAML file in ``analyse/agreements``. It is validated when loaded, so a typo in
a field name, a missing Danish label or an unknown direction fails with a message naming the file
and the place, instead of surfacing later as a wrong brief.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from analyse.errors import DataValidationError, ParameterError

SOURCES = ("survey", "register", "status")
DIRECTIONS = ("increase", "decrease")
SEXES = ("all", "female", "male")
SCOPES = ("kommune", "national")

_AGREEMENT_KEYS = {
    "id": True,
    "title": True,
    "parties": True,
    "region_code": True,
    "period_start": True,
    "period_end": True,
    "baseline_wave": True,
    "source": True,
    "overall_vision": True,
    "survey_waves": True,
    "status_categories": True,
    "visions": True,
    "indicators": True,
}
_VISION_KEYS = {"id": True, "title": True, "objectives": True}
_OBJECTIVE_KEYS = {
    "id": True,
    "text": True,
    "follow_up": True,
    "indicators": False,
    "context_indicators": False,
    "status_question": False,
}
_INDICATOR_KEYS = {
    "label": True,
    "short_label": True,
    "definition": True,
    "source": True,
    "variable": False,
    "direction": True,
    "population": True,
    "first_wave": True,
    "comparability": True,
    "target": False,
}
_TARGET_KEYS = {"value_pct": True, "year": False, "source": True}
_POPULATION_KEYS = {"age_min": True, "age_max": True, "sex": True}
_WAVE_KEYS = {"year": True, "scope": True, "note": False}


@dataclass(frozen=True)
class Population:
    """Who an indicator is about: an age band (completed years, inclusive) and sex."""

    age_min: int
    age_max: int | None
    sex: str

    @property
    def label(self) -> str:
        """Danish description, e.g. ``"16-24 år"`` or ``"16 år og derover"``."""
        if self.age_max is None:
            ages = f"{self.age_min} år og derover"
        elif self.age_min == self.age_max:
            ages = f"{self.age_min} år"
        else:
            ages = f"{self.age_min}-{self.age_max} år"
        sex = {"all": "", "female": "kvinder, ", "male": "mænd, "}[self.sex]
        return sex + ages


@dataclass(frozen=True)
class Target:
    """A numeric target for an indicator: the share to reach (0-1) by ``year``, and its source."""

    value: float
    year: int
    source: str


@dataclass(frozen=True)
class Indicator:
    """One indicator of an agreement (see the YAML file for the meaning of each field)."""

    id: str
    label: str
    short_label: str
    definition: str
    source: str
    variable: str
    direction: str
    population: Population
    first_wave: int
    comparability: str
    target: Target | None = None

    @property
    def desired_label(self) -> str:
        """Danish text for the desired direction: ``"skal stige"`` / ``"skal falde"``."""
        return "skal stige" if self.direction == "increase" else "skal falde"


@dataclass(frozen=True)
class Objective:
    """A målsætning: its text, how it is followed up, and the indicators that measure it."""

    id: str
    vision_id: str
    text: str
    follow_up: str
    indicators: tuple[str, ...] = ()
    context_indicators: tuple[str, ...] = ()
    status_question: str | None = None


@dataclass(frozen=True)
class Vision:
    id: str
    title: str
    objectives: tuple[Objective, ...]


@dataclass(frozen=True)
class SurveyWave:
    year: int
    scope: str
    note: str | None = None


@dataclass(frozen=True)
class Agreement:
    """A Sundhedsaftale as loaded from its YAML file."""

    id: str
    title: str
    parties: str
    region_code: int
    period_start: int
    period_end: int
    baseline_wave: int
    source: str
    overall_vision: dict[str, str]
    survey_waves: tuple[SurveyWave, ...]
    status_categories: dict[str, str]
    visions: tuple[Vision, ...]
    indicators: dict[str, Indicator] = field(repr=False)

    @property
    def objectives(self) -> list[Objective]:
        """All målsætninger, in the agreement's order."""
        return [obj for vision in self.visions for obj in vision.objectives]

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id; raises :class:`ParameterError` if the agreement lacks it."""
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise ParameterError(
                f"agreement {self.id!r} has no indicator {indicator_id!r}; "
                f"it has: {', '.join(self.indicators)}"
            ) from None

    def indicators_by_source(self, source: str) -> list[Indicator]:
        """Indicators of one source (``survey``, ``register``), in catalogue order."""
        if source not in SOURCES:
            raise ParameterError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
        return [ind for ind in self.indicators.values() if ind.source == source]

    @property
    def kommune_waves(self) -> list[int]:
        """Waves that are representative per kommune (and so per klynge and region)."""
        return [w.year for w in self.survey_waves if w.scope == "kommune"]

    @property
    def waves(self) -> list[int]:
        return [w.year for w in self.survey_waves]

    def comparable_waves(self, indicator_id: str, level: str = "kommune") -> list[int]:
        """Waves in which an indicator can be estimated and compared at an area level.

        The national-only wave (2023) counts only for ``level="land"``.
        """
        ind = self.indicator(indicator_id)
        if ind.source != "survey":
            raise ParameterError(f"{indicator_id!r} is a {ind.source} indicator, not a survey one")
        years = self.waves if level == "land" else self.kommune_waves
        return [y for y in years if y >= ind.first_wave]

    def objective_of(self, indicator_id: str) -> Objective:
        """The målsætning an indicator follows up (primary or context indicator)."""
        for obj in self.objectives:
            if indicator_id in obj.indicators or indicator_id in obj.context_indicators:
                return obj
        raise ParameterError(f"indicator {indicator_id!r} belongs to no målsætning")


def _agreement_dir() -> Path:
    return Path(str(files("analyse.reference") / "agreements"))


def list_agreements() -> list[str]:
    """Ids of the agreements that ship with the package."""
    return sorted(p.stem for p in _agreement_dir().glob("*.yml"))


def load_agreement(agreement_id: str | Path = "syddanmark-2024-2027") -> Agreement:
    """Load and validate an agreement by id (shipped) or by path to a YAML file.

    Raises
    ------
    ParameterError
        If no agreement with that id ships with the package.
    DataValidationError
        If the file breaks the catalogue schema (unknown or missing fields, bad direction ...).
    """
    path = Path(agreement_id)
    if path.suffix not in (".yml", ".yaml"):
        path = _agreement_dir() / f"{agreement_id}.yml"
        if not path.exists():
            raise ParameterError(
                f"unknown agreement {agreement_id!r}; available: {', '.join(list_agreements())}"
            )
    return _load(str(path.resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> Agreement:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DataValidationError(f"cannot read the agreement YAML: {exc}", file=path) from exc
    return _parse(raw, path)


class _Checker:
    """Collects the schema checks of one file so each error names the file and the place."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, rule: str) -> None:
        raise DataValidationError(f"{where}: {rule}", file=self.path)

    def mapping(self, value: Any, where: str, keys: dict[str, bool]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "expected a mapping of fields")
        unknown = sorted(set(value) - set(keys))
        if unknown:
            self.fail(where, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(keys)}")
        missing = [k for k, required in keys.items() if required and k not in value]
        if missing:
            self.fail(where, f"missing required field(s) {', '.join(missing)}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be a non-empty Danish text")
        return " ".join(value.split())

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"must be a whole number, got {value!r}")
        return value

    def choice(self, value: Any, where: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            self.fail(where, f"{value!r} is not one of {', '.join(allowed)}")
        return value


def _target(
    check: _Checker, spec: Any, where: str, period_start: Any, period_end: Any
) -> Target | None:
    """The optional ``target:`` of an indicator (percent in the YAML, a proportion inside)."""
    if spec is None:
        return None
    spec = check.mapping(spec, where, _TARGET_KEYS)
    value = spec["value_pct"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 100:
        check.fail(f"{where}.value_pct", f"must be a percentage between 0 and 100, got {value!r}")
    year = check.integer(spec.get("year", period_end), f"{where}.year")
    if isinstance(period_start, int) and year < period_start:
        check.fail(f"{where}.year", f"{year} is before the agreement period ({period_start}-)")
    return Target(
        value=float(value) / 100,
        year=year,
        source=check.text(spec["source"], f"{where}.source"),
    )


def _parse(raw: Any, path: str) -> Agreement:
    check = _Checker(path)
    top = check.mapping(raw, "agreement", _AGREEMENT_KEYS)

    indicators: dict[str, Indicator] = {}
    raw_indicators = top["indicators"]
    if not isinstance(raw_indicators, dict) or not raw_indicators:
        check.fail("indicators", "must be a non-empty mapping of indicator id → fields")
    for ind_id, spec in raw_indicators.items():
        where = f"indicators.{ind_id}"
        spec = check.mapping(spec, where, _INDICATOR_KEYS)
        pop = check.mapping(spec["population"], f"{where}.population", _POPULATION_KEYS)
        age_max = pop["age_max"]
        population = Population(
            age_min=check.integer(pop["age_min"], f"{where}.population.age_min"),
            age_max=None
            if age_max is None
            else check.integer(age_max, f"{where}.population.age_max"),
            sex=check.choice(pop["sex"], f"{where}.population.sex", SEXES),
        )
        if population.age_max is not None and population.age_max < population.age_min:
            check.fail(f"{where}.population", "age_max is below age_min")
        indicators[ind_id] = Indicator(
            id=ind_id,
            label=check.text(spec["label"], f"{where}.label"),
            short_label=check.text(spec["short_label"], f"{where}.short_label"),
            definition=check.text(spec["definition"], f"{where}.definition"),
            source=check.choice(spec["source"], f"{where}.source", SOURCES),
            variable=spec.get("variable") or ind_id,
            direction=check.choice(spec["direction"], f"{where}.direction", DIRECTIONS),
            population=population,
            first_wave=check.integer(spec["first_wave"], f"{where}.first_wave"),
            comparability=check.text(spec["comparability"], f"{where}.comparability"),
            target=_target(
                check, spec.get("target"), f"{where}.target", top["period_start"], top["period_end"]
            ),
        )

    waves = []
    for i, spec in enumerate(top["survey_waves"] or []):
        spec = check.mapping(spec, f"survey_waves[{i}]", _WAVE_KEYS)
        waves.append(
            SurveyWave(
                year=check.integer(spec["year"], f"survey_waves[{i}].year"),
                scope=check.choice(spec["scope"], f"survey_waves[{i}].scope", SCOPES),
                note=check.text(spec["note"], f"survey_waves[{i}].note")
                if "note" in spec
                else None,
            )
        )

    categories = top["status_categories"]
    if not isinstance(categories, dict) or not categories:
        check.fail("status_categories", "must map category ids to Danish labels")
    for key, label in categories.items():
        check.text(label, f"status_categories.{key}")

    visions = []
    seen: set[str] = set()
    for i, vspec in enumerate(top["visions"] or []):
        vwhere = f"visions[{i}]"
        vspec = check.mapping(vspec, vwhere, _VISION_KEYS)
        objectives = []
        for j, ospec in enumerate(vspec["objectives"] or []):
            owhere = f"{vwhere}.objectives[{j}]"
            ospec = check.mapping(ospec, owhere, _OBJECTIVE_KEYS)
            obj_id = ospec["id"]
            if obj_id in seen:
                check.fail(owhere, f"duplicated målsætning id {obj_id!r}")
            seen.add(obj_id)
            refs = tuple(ospec.get("indicators") or ())
            context = tuple(ospec.get("context_indicators") or ())
            for ref in refs + context:
                if ref not in indicators:
                    check.fail(
                        owhere,
                        f"refers to indicator {ref!r}, which is not defined under indicators",
                    )
            question = ospec.get("status_question")
            if not refs and not question:
                check.fail(owhere, "has no follow-up: give indicators or a status_question")
            objectives.append(
                Objective(
                    id=obj_id,
                    vision_id=vspec["id"],
                    text=check.text(ospec["text"], f"{owhere}.text"),
                    follow_up=check.text(ospec["follow_up"], f"{owhere}.follow_up"),
                    indicators=refs,
                    context_indicators=context,
                    status_question=check.text(question, f"{owhere}.status_question")
                    if question
                    else None,
                )
            )
        if not objectives:
            check.fail(vwhere, "has no målsætninger")
        visions.append(
            Vision(
                id=vspec["id"],
                title=check.text(vspec["title"], f"{vwhere}.title"),
                objectives=tuple(objectives),
            )
        )
    if not visions:
        check.fail("visions", "the agreement has no visions")

    used = {
        ref for v in visions for o in v.objectives for ref in o.indicators + o.context_indicators
    }
    orphans = sorted(set(indicators) - used)
    if orphans:
        check.fail("indicators", f"defined but used by no målsætning: {', '.join(orphans)}")

    overall = check.mapping(top["overall_vision"], "overall_vision", {"title": True, "text": True})
    baseline = check.integer(top["baseline_wave"], "baseline_wave")
    if baseline not in [w.year for w in waves]:
        check.fail("baseline_wave", f"{baseline} is not one of the survey_waves")
    return Agreement(
        id=check.text(top["id"], "id"),
        title=check.text(top["title"], "title"),
        parties=check.text(top["parties"], "parties"),
        region_code=check.integer(top["region_code"], "region_code"),
        period_start=check.integer(top["period_start"], "period_start"),
        period_end=check.integer(top["period_end"], "period_end"),
        baseline_wave=baseline,
        source=check.text(top["source"], "source"),
        overall_vision={k: check.text(v, f"overall_vision.{k}") for k, v in overall.items()},
        survey_waves=tuple(waves),
        status_categories={k: " ".join(v.split()) for k, v in categories.items()},
        visions=tuple(visions),
        indicators=indicators,
    )
