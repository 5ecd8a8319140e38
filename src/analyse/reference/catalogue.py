"""The agreements as data: scope, vision → målsætning → indicators and klynge status questions.

Each shipped agreement is a YAML file in ``analyse/reference/agreements``; a user's agreement is a
YAML file anywhere, loaded by path. Indicators are defined once, in the indicator library
(``analyse/reference/indicators.yml``), and named by id in the målsætninger; an agreement adds
per indicator only what belongs to it (``note``, ``target``, ``dimensions``) or defines an
indicator of its own under a new id. An id means the same in every agreement, so one set of
estimates serves them all (:func:`combine`).

Every file is validated when loaded, so a typo in a field name, an unknown indicator, an area
outside the geography or a målsætning without follow-up fails with a message naming the file and
the place, instead of surfacing later as a wrong brief. The scope (which areas the agreement
covers) is checked against :mod:`analyse.reference.geography`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analyse.errors import DataValidationError, ParameterError
from analyse.reference import geography

SOURCES = ("survey", "register", "status")
DIRECTIONS = ("increase", "decrease")
DIRECTION_WORDS = {"increase": "skal stige", "decrease": "skal falde"}
SEXES = ("all", "female", "male")
SCOPES = ("kommune", "national")
LEVELS = geography.LEVELS
#: Inequality dimensions a brief can show for an indicator.
DIMENSIONS = ("education", "labour_market")
#: Levels compared with: a brief of an area is compared with its parent area of each level.
COMPARISON_LEVELS = ("sundhedsklynge", "region", "land")
#: Briefs rendered for a scope of each level when the agreement does not say.
DEFAULT_BRIEFS = {
    "land": ("land", "sundhedsklynge"),
    "region": ("region", "sundhedsklynge", "kommune"),
    "sundhedsklynge": ("sundhedsklynge", "kommune"),
    "kommune": ("kommune",),
}
DEFAULT_COMPARISONS = ("region", "land")
DEFAULT_AGREEMENT = "syddanmark-2024-2027"

_AGREEMENT_KEYS = {
    "id": True,
    "title": True,
    "parties": True,
    "scope": False,  # required unless the older `region_code` is given
    "region_code": False,
    "comparisons": False,
    "period_start": True,
    "period_end": True,
    "baseline_wave": True,
    "source": True,
    "note": False,
    "overall_vision": True,
    "survey_waves": False,
    "status_categories": False,
    "visions": True,
    "indicators": False,
}
_SCOPE_KEYS = {"level": True, "areas": True, "briefs": False}
_VISION_KEYS = {"id": True, "title": True, "objectives": True}
_OBJECTIVE_KEYS = {
    "id": True,
    "text": True,
    "follow_up": True,
    "indicators": False,
    "context_indicators": False,
    "status_question": False,
    "note": False,
}
# What defines an indicator (the library's fields) and what an agreement may add to it.
_DEFINITION_KEYS = {
    "label": True,
    "short_label": True,
    "definition": True,
    "source": True,
    "variable": False,
    "direction": True,
    "population": True,
    "first_wave": True,
    "comparability": True,
}
_AGREEMENT_INDICATOR_KEYS = {"note": False, "target": False, "dimensions": False}
_TARGET_KEYS = {"value_pct": True, "year": False, "source": True}
_POPULATION_KEYS = {"age_min": True, "age_max": True, "sex": True, "labour_market": False}
_WAVE_KEYS = {"year": True, "scope": True, "note": False}
_LIBRARY_KEYS = {"survey_waves": True, "status_categories": True, "indicators": True}


@dataclass(frozen=True)
class Population:
    """Who an indicator is about: an age band (completed years, inclusive), sex and, optionally,
    labour-market groups (labels of the codebook's ``labour_market`` recode)."""

    age_min: int
    age_max: int | None
    sex: str
    labour_market: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Danish description, e.g. ``"16-24 år"``, ``"16 år og derover"`` or
        ``"25-64 år (beskæftiget)"``."""
        if self.age_max is None:
            ages = f"{self.age_min} år og derover"
        elif self.age_min == self.age_max:
            ages = f"{self.age_min} år"
        else:
            ages = f"{self.age_min}-{self.age_max} år"
        sex = {"all": "", "female": "kvinder, ", "male": "mænd, "}[self.sex]
        groups = (
            f" ({', '.join(g.lower() for g in self.labour_market)})" if self.labour_market else ""
        )
        return sex + ages + groups


@dataclass(frozen=True)
class Target:
    """A numeric target for an indicator: the share to reach (0-1) by ``year``, and its source."""

    value: float
    year: int
    source: str


@dataclass(frozen=True)
class Indicator:
    """One indicator of an agreement: the library's definition (or the agreement's own) plus
    the agreement's ``note``, ``target`` and ``dimensions``."""

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
    #: Why the agreement follows this measure (Danish), where the analyst chose it.
    note: str | None = None
    #: The agreement's numeric target (share, year, source), if it states one.
    target: Target | None = None
    #: Inequality dimensions the briefs show (``education``, ``labour_market``).
    dimensions: tuple[str, ...] = ("education",)

    @property
    def desired_label(self) -> str:
        """Danish text for the desired direction: ``"skal stige"`` / ``"skal falde"``."""
        return DIRECTION_WORDS[self.direction]

    def definition_fields(self) -> dict[str, Any]:
        """The fields that define the indicator (equal wherever the id is used)."""
        return {
            "label": self.label,
            "short_label": self.short_label,
            "definition": self.definition,
            "source": self.source,
            "variable": self.variable,
            "direction": self.direction,
            "population": self.population,
            "first_wave": self.first_wave,
            "comparability": self.comparability,
        }


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
    note: str | None = None


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
class Comparison:
    """What briefs are compared with: the parent area of a ``level`` (``area`` None), or one
    named area of that level, which must contain the whole scope."""

    level: str
    area: str | None = None


@dataclass(frozen=True)
class Scope:
    """The areas an agreement covers: one region, one kommune, one or more sundhedsklynger, or
    the whole country, and the levels its briefs are rendered for."""

    level: str
    areas: tuple[str, ...]
    briefs: tuple[str, ...]

    @property
    def members(self) -> list[int]:
        """Kommune codes covered (a kommune in two of the scope's klynger counts once)."""
        codes: set[int] = set()
        for code in self.areas:
            codes.update(geography.members(self.level, code))
        return sorted(codes)

    @property
    def name(self) -> str:
        """Danish name: "Region Syddanmark", "Sundhedsklynge …", "Herning Kommune", "Hele landet"."""
        names = [geography.display_name(self.level, code) for code in self.areas]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]

    def contains(self, level: str, code: str | int) -> bool:
        """Whether the area lies inside the scope (all its kommuner are members, and it is not
        above the scope's level)."""
        if LEVELS.index(level) < LEVELS.index(self.level):
            return False
        if self.level == "land":
            return True
        return set(geography.members(level, code)) <= set(self.members)

    def brief_areas(self) -> pd.DataFrame:
        """The areas briefs are rendered for: every area of the brief levels inside the scope,
        as rows of :func:`analyse.reference.geography.areas` (same columns, same order)."""
        parts = []
        for level in self.briefs:
            table = geography.areas(level)
            inside = [self.contains(level, code) for code in table["area_code"]]
            parts.append(table[inside])
        return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Agreement:
    """An agreement (Sundhedsaftale, klynge priorities, a kommune's health policy, a national
    vision) as loaded from its YAML file."""

    id: str
    title: str
    parties: str
    scope: Scope
    comparisons: tuple[Comparison, ...]
    period_start: int
    period_end: int
    baseline_wave: int
    source: str
    overall_vision: dict[str, str]
    survey_waves: tuple[SurveyWave, ...]
    status_categories: dict[str, str]
    visions: tuple[Vision, ...]
    indicators: dict[str, Indicator] = field(repr=False)
    note: str | None = None
    #: The YAML file the agreement was read from.
    path: str | None = None

    @property
    def region_code(self) -> int | None:
        """The region of a region, klynge or kommune scope (None for the whole country or a
        scope spanning regions)."""
        regions = {geography.parent_region(k) for k in self.scope.members}
        if self.scope.level == "land" or len(regions) != 1:
            return None
        return regions.pop()

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

    def comparison_areas(self, level: str, code: str | int) -> list[tuple[str, str]]:
        """The areas a brief of ``(level, code)`` is compared with, in the agreement's order.

        For each level of :attr:`comparisons` above the area: its sundhedsklynge (a kommune in
        two klynger is compared with those of the scope, or with both), its region, Denmark.
        Returns ``(level, code)`` pairs; codes as in :mod:`analyse.reference.geography`.
        """
        row = geography.area(level, code)
        code = str(row["area_code"])
        out: list[tuple[str, str]] = []
        for comparison in self.comparisons:
            parent = comparison.level
            if LEVELS.index(parent) >= LEVELS.index(level):
                continue
            if comparison.area is not None:
                inside = set(geography.members(level, code)) <= set(
                    geography.members(parent, comparison.area)
                )
                if inside:
                    out.append((parent, comparison.area))
            elif parent == "land":
                out.append(("land", geography.COUNTRY_CODE))
            elif parent == "region":
                out.append(("region", str(int(row["region_code"]))))
            elif level == "kommune":
                links = geography.membership("sundhedsklynge")
                klynger = list(links.loc[links["kommune_code"] == int(code), "area_code"])
                mine = [
                    k
                    for k in klynger
                    if self.scope.level == "sundhedsklynge" and k in self.scope.areas
                ]
                out += [("sundhedsklynge", k) for k in (mine or klynger)]
        return out

    def status_objectives(self) -> list[Objective]:
        """The målsætninger followed up by a klynge status question."""
        return [o for o in self.objectives if o.status_question]

    def status_klynger(self) -> list[str]:
        """Codes of the sundhedsklynger asked the status questions: those with a kommune in the
        scope (all for the whole country)."""
        links = geography.membership("sundhedsklynge")
        inside = links[links["kommune_code"].isin(self.scope.members)]
        return sorted(inside["area_code"].unique())


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------


def agreement_dir() -> Path:
    """The folder of the shipped agreements."""
    return Path(str(files("analyse.reference") / "agreements"))


def _library_path() -> Path:
    return Path(str(files("analyse.reference") / "indicators.yml"))


def list_agreements() -> list[str]:
    """Ids of the agreements that ship with the package."""
    return sorted(p.stem for p in agreement_dir().glob("*.yml"))


def is_path(agreement_id: str | Path) -> bool:
    """Whether ``agreement_id`` names a YAML file (a user's agreement) rather than a shipped id."""
    return isinstance(agreement_id, Path) or Path(str(agreement_id)).suffix in (".yml", ".yaml")


def load_agreement(agreement_id: str | Path = DEFAULT_AGREEMENT) -> Agreement:
    """Load and validate an agreement by id (shipped) or by path to a YAML file.

    Raises
    ------
    ParameterError
        If no agreement with that id ships with the package, or the file does not exist.
    DataValidationError
        If the file breaks the catalogue schema (unknown or missing fields, an unknown
        indicator, a bad direction word, an area outside the geography or the scope, a baseline
        wave that is not a survey wave, a målsætning without follow-up ...), naming the file and
        the place.
    """
    if is_path(agreement_id):
        path = Path(agreement_id)
        if not path.exists():
            raise ParameterError(f"agreement file {path} does not exist")
    else:
        path = agreement_dir() / f"{agreement_id}.yml"
        if not path.exists():
            raise ParameterError(
                f"unknown agreement {agreement_id!r}; available: {', '.join(list_agreements())} "
                "(or give the path of your own agreement's .yml file)"
            )
    resolved = path.resolve()
    return _load(str(resolved), resolved.stat().st_mtime_ns)


def load_agreements(agreement_ids) -> list[Agreement]:
    """Several agreements (ids or paths); their ids must differ.

    Raises
    ------
    ParameterError
        Two agreements with the same id (e.g. a user's file that reuses a shipped id).
    """
    loaded = [load_agreement(a) for a in agreement_ids]
    seen: dict[str, Agreement] = {}
    for agreement in loaded:
        other = seen.get(agreement.id)
        if other is not None and other.path != agreement.path:
            raise ParameterError(
                f"two agreements have the id {agreement.id!r} ({other.path} and "
                f"{agreement.path}); give your own agreement another id"
            )
        seen[agreement.id] = agreement
    return list(seen.values())


@lru_cache(maxsize=32)
def _load(path: str, _mtime: int) -> Agreement:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DataValidationError(f"cannot read the agreement YAML: {exc}", file=path) from exc
    return _parse(raw, path)


@dataclass(frozen=True)
class Library:
    """The indicator library: shared definitions, the survey waves and the status categories."""

    indicators: dict[str, Indicator]
    survey_waves: tuple[SurveyWave, ...]
    status_categories: dict[str, str]


@lru_cache(maxsize=1)
def indicator_library() -> Library:
    """The indicator library (``analyse/reference/indicators.yml``), validated.

    Raises
    ------
    DataValidationError
        If the library file breaks the schema.
    """
    path = str(_library_path())
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataValidationError(f"cannot read the indicator library: {exc}", file=path) from exc
    check = _Checker(path)
    top = check.mapping(raw, "library", _LIBRARY_KEYS)
    indicators = {}
    for ind_id, spec in top["indicators"].items():
        indicators[ind_id] = _definition(check, ind_id, spec, f"indicators.{ind_id}", {})
    return Library(
        indicators=indicators,
        survey_waves=_waves(check, top["survey_waves"]),
        status_categories=_categories(check, top["status_categories"]),
    )


def combine(agreements: list[Agreement]) -> Agreement:
    """One agreement holding every indicator of ``agreements`` (for estimating them once).

    The result has the first agreement's fields (period, baseline, scope …) and the union of
    the indicators in order of first use; it is meant for the computations that do not depend
    on the agreement (estimates, inequality), not for a brief.

    Raises
    ------
    ParameterError
        No agreements; agreements with different survey waves; an indicator id defined
        differently in two agreements (naming the id, the field and both agreements).
    """
    if not agreements:
        raise ParameterError("combine needs at least one agreement")
    first = agreements[0]
    union: dict[str, Indicator] = {}
    owner: dict[str, str] = {}
    for agreement in agreements:
        if agreement.survey_waves != first.survey_waves:
            raise ParameterError(
                f"agreements {first.id!r} and {agreement.id!r} list different survey_waves; "
                "the processed data are computed once for all agreements and need one wave list"
            )
        for ind_id, ind in agreement.indicators.items():
            known = union.get(ind_id)
            if known is None:
                union[ind_id], owner[ind_id] = ind, agreement.id
                continue
            mine, theirs = ind.definition_fields(), known.definition_fields()
            differ = [k for k in mine if mine[k] != theirs[k]]
            if differ:
                raise ParameterError(
                    f"indicator {ind_id!r} is defined differently in {owner[ind_id]!r} and "
                    f"{agreement.id!r} ({', '.join(differ)}); an id must mean the same in every "
                    "agreement: give one of them another id"
                )
    return replace(first, id="+".join(a.id for a in agreements), indicators=union)


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------


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

    def choice(self, value: Any, where: str, allowed: tuple[str, ...], hint: str = "") -> str:
        if value not in allowed:
            self.fail(where, f"{value!r} is not one of {', '.join(allowed)}{hint}")
        return value

    def text_list(self, value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, list):
            self.fail(where, f"must be a list, e.g. [a, b], got {value!r}")
        return tuple(str(v).strip() for v in value)


def _definition(
    check: _Checker, ind_id: str, spec: Any, where: str, agreement_keys: dict[str, bool]
) -> Indicator:
    """An indicator from its defining fields (and the agreement's ``note``/``target``/…)."""
    spec = check.mapping(spec, where, {**_DEFINITION_KEYS, **agreement_keys})
    pop = check.mapping(spec["population"], f"{where}.population", _POPULATION_KEYS)
    age_max = pop["age_max"]
    population = Population(
        age_min=check.integer(pop["age_min"], f"{where}.population.age_min"),
        age_max=None if age_max is None else check.integer(age_max, f"{where}.population.age_max"),
        sex=check.choice(pop["sex"], f"{where}.population.sex", SEXES),
        labour_market=check.text_list(pop["labour_market"], f"{where}.population.labour_market")
        if pop.get("labour_market")
        else (),
    )
    if population.age_max is not None and population.age_max < population.age_min:
        check.fail(f"{where}.population", "age_max is below age_min")
    hint = " (increase = skal stige, decrease = skal falde)"
    return Indicator(
        id=ind_id,
        label=check.text(spec["label"], f"{where}.label"),
        short_label=check.text(spec["short_label"], f"{where}.short_label"),
        definition=check.text(spec["definition"], f"{where}.definition"),
        source=check.choice(spec["source"], f"{where}.source", SOURCES[:2]),
        variable=spec.get("variable") or ind_id,
        direction=check.choice(spec["direction"], f"{where}.direction", DIRECTIONS, hint),
        population=population,
        first_wave=check.integer(spec["first_wave"], f"{where}.first_wave"),
        comparability=check.text(spec["comparability"], f"{where}.comparability"),
    )


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
    # Without a year the target is the period's end (a bad period is reported on its own).
    if isinstance(period_start, int) and "year" in spec and year < period_start:
        check.fail(f"{where}.year", f"{year} is before the agreement period ({period_start}-)")
    return Target(
        value=float(value) / 100,
        year=year,
        source=check.text(spec["source"], f"{where}.source"),
    )


def _agreement_fields(
    check: _Checker, ind: Indicator, spec: dict, where: str, period_start: Any, period_end: Any
) -> Indicator:
    """The agreement's own fields of an indicator: note, target, dimensions."""
    note = check.text(spec["note"], f"{where}.note") if spec.get("note") is not None else None
    target = _target(check, spec.get("target"), f"{where}.target", period_start, period_end)
    dimensions = ind.dimensions
    if spec.get("dimensions") is not None:
        dimensions = check.text_list(spec["dimensions"], f"{where}.dimensions")
        for value in dimensions:
            check.choice(value, f"{where}.dimensions", DIMENSIONS)
    return replace(ind, note=note, target=target, dimensions=dimensions)


def _waves(check: _Checker, value: Any) -> tuple[SurveyWave, ...]:
    if not isinstance(value, list) or not value:
        check.fail("survey_waves", "must be a non-empty list of {year, scope}")
    waves = []
    for i, spec in enumerate(value):
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
    return tuple(waves)


def _categories(check: _Checker, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        check.fail("status_categories", "must map category ids to Danish labels")
    return {key: check.text(label, f"status_categories.{key}") for key, label in value.items()}


def _scope(check: _Checker, top: dict) -> Scope:
    """The scope, from ``scope:`` or from the older ``region_code:`` (a region's agreement)."""
    if "scope" in top and "region_code" in top:
        check.fail("region_code", "give either scope or region_code, not both")
    if "scope" not in top:
        if "region_code" not in top:
            check.fail("agreement", "missing required field(s) scope")
        code = check.integer(top["region_code"], "region_code")
        raw = {"level": "region", "areas": [code]}
    else:
        raw = top["scope"]
    spec = check.mapping(raw, "scope", _SCOPE_KEYS)
    level = check.choice(spec["level"], "scope.level", LEVELS)
    areas = spec["areas"]
    if not isinstance(areas, list) or not areas:
        check.fail("scope.areas", "must be a non-empty list of area codes (see `analyse areas`)")
    codes = []
    for value in areas:
        try:
            codes.append(str(geography.area(level, value)["area_code"]))
        except ParameterError as exc:
            check.fail("scope.areas", str(exc))
    if level in ("land", "region", "kommune") and len(codes) != 1:
        check.fail("scope.areas", f"a {level} scope covers exactly one area, got {len(codes)}")
    briefs = DEFAULT_BRIEFS[level]
    if spec.get("briefs") is not None:
        briefs = check.text_list(spec["briefs"], "scope.briefs")
        for brief_level in briefs:
            check.choice(brief_level, "scope.briefs", LEVELS)
            if LEVELS.index(brief_level) < LEVELS.index(level):
                check.fail(
                    "scope.briefs",
                    f"{brief_level!r} is above the scope's level {level!r}: briefs are made for "
                    "the scope and the areas inside it",
                )
    return Scope(level=level, areas=tuple(dict.fromkeys(codes)), briefs=tuple(briefs))


def _comparisons(check: _Checker, value: Any, scope: Scope) -> tuple[Comparison, ...]:
    """``comparisons``: levels (each brief against its parent of that level) or named areas
    ``{level: …, area: …}``, which must contain the whole scope."""
    if value is None:
        return tuple(Comparison(level) for level in DEFAULT_COMPARISONS)
    if isinstance(value, str) or not isinstance(value, list):
        check.fail("comparisons", f"must be a list, e.g. [region, land], got {value!r}")
    out = []
    for i, item in enumerate(value):
        where = f"comparisons[{i}]"
        if isinstance(item, dict):
            item = check.mapping(item, where, {"level": True, "area": True})
            level = check.choice(item["level"], f"{where}.level", COMPARISON_LEVELS)
            try:
                code = str(geography.area(level, item["area"])["area_code"])
            except ParameterError as exc:
                check.fail(f"{where}.area", str(exc))
            outside = sorted(set(scope.members) - set(geography.members(level, code)))
            if scope.level == "land" and level != "land" or outside:
                names = ", ".join(geography.display_name("kommune", k) for k in outside[:3])
                check.fail(
                    f"{where}.area",
                    f"the scope ({scope.name}) lies outside {geography.display_name(level, code)} "
                    f"(outside it: {names}{' …' if len(outside) > 3 else ''}): a brief is "
                    "compared with an area it lies in",
                )
            out.append(Comparison(level, code))
        else:
            out.append(Comparison(check.choice(item, where, COMPARISON_LEVELS)))
    return tuple(out)


def _parse(raw: Any, path: str) -> Agreement:
    check = _Checker(path)
    top = check.mapping(raw, "agreement", _AGREEMENT_KEYS)
    library = indicator_library()
    scope = _scope(check, top)
    comparisons = _comparisons(check, top.get("comparisons"), scope)

    # The agreement's indicator section: its own indicators, and its fields of library ones.
    section = top.get("indicators") or {}
    if not isinstance(section, dict):
        check.fail("indicators", "must be a mapping of indicator id → fields")
    own: dict[str, Indicator] = {}
    for ind_id, spec in section.items():
        where = f"indicators.{ind_id}"
        shared = library.indicators.get(ind_id)
        if shared is None:
            if not isinstance(spec, dict) or not set(_DEFINITION_KEYS) & set(spec):
                check.fail(
                    where,
                    f"{ind_id!r} is not in the indicator library; define it here (label, "
                    "short_label, definition, source, direction, population, first_wave, "
                    "comparability) or use a library id (see `analyse agreement new`)",
                )
            ind = _definition(check, ind_id, spec, where, _AGREEMENT_INDICATOR_KEYS)
        else:
            spec = spec or {}
            given = [k for k in _DEFINITION_KEYS if k in spec]
            lacking = [k for k, required in _DEFINITION_KEYS.items() if required and k not in spec]
            if given and lacking:
                word = DIRECTION_WORDS[shared.direction]
                check.fail(
                    where,
                    f"{', '.join(given)} belong(s) to the indicator library's definition of "
                    f"{ind_id!r} ({shared.label}, {word}); an agreement gives only note, target "
                    "and dimensions for a library indicator — for another definition or "
                    "direction, define your own indicator under a new id",
                )
            if given:
                mine = _definition(check, ind_id, spec, where, _AGREEMENT_INDICATOR_KEYS)
                differ = [
                    k
                    for k, v in mine.definition_fields().items()
                    if v != shared.definition_fields()[k]
                ]
                if differ:
                    check.fail(
                        where,
                        f"differs from the indicator library's {ind_id!r} in "
                        f"{', '.join(differ)}; an id means the same in every agreement: give "
                        "only note, target and dimensions here, or define your own indicator "
                        "under a new id",
                    )
            else:
                check.mapping(spec, where, _AGREEMENT_INDICATOR_KEYS)
            ind = shared
        own[ind_id] = _agreement_fields(
            check, ind, spec, where, top["period_start"], top["period_end"]
        )

    waves = _waves(check, top["survey_waves"]) if "survey_waves" in top else library.survey_waves
    categories = (
        _categories(check, top["status_categories"])
        if "status_categories" in top
        else library.status_categories
    )

    indicators: dict[str, Indicator] = {}
    visions = []
    seen: set[str] = set()
    if not isinstance(top["visions"], list) or not top["visions"]:
        check.fail("visions", "the agreement has no visions")
    for i, vspec in enumerate(top["visions"]):
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
            refs = check.text_list(ospec.get("indicators") or [], f"{owhere}.indicators")
            context = check.text_list(
                ospec.get("context_indicators") or [], f"{owhere}.context_indicators"
            )
            for ref in refs + context:
                found = own.get(ref) or library.indicators.get(ref)
                if found is None:
                    close = get_close_matches(ref, [*own, *library.indicators], n=1)
                    check.fail(
                        owhere,
                        f"refers to indicator {ref!r}, which is neither in the indicator library "
                        "nor defined under indicators (unknown indicator id"
                        + (f"; did you mean {close[0]!r}?" if close else "")
                        + "; `analyse agreement new` lists the library)",
                    )
                indicators.setdefault(ref, found)
            question = ospec.get("status_question")
            if not refs and not question:
                check.fail(
                    owhere,
                    "has no follow-up: give indicators or a status_question (context_indicators "
                    "alone do not follow a målsætning up)",
                )
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
                    note=check.text(ospec["note"], f"{owhere}.note") if ospec.get("note") else None,
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

    orphans = sorted(set(own) - set(indicators))
    if orphans:
        check.fail("indicators", f"defined but used by no målsætning: {', '.join(orphans)}")
    if any(obj.status_question for v in visions for obj in v.objectives) and not categories:
        check.fail("status_categories", "needed for the status questions")

    overall = check.mapping(top["overall_vision"], "overall_vision", {"title": True, "text": True})
    baseline = check.integer(top["baseline_wave"], "baseline_wave")
    if baseline not in [w.year for w in waves]:
        check.fail(
            "baseline_wave",
            f"{baseline} is not one of the survey_waves ({', '.join(str(w.year) for w in waves)})",
        )
    local = [w.year for w in waves if w.scope == "kommune"]
    if scope.level != "land" and baseline not in local:
        check.fail(
            "baseline_wave",
            f"{baseline} is a national-only wave (no figures for regions, klynger and kommuner); "
            f"use one of {', '.join(map(str, local))}",
        )
    start = check.integer(top["period_start"], "period_start")
    end = check.integer(top["period_end"], "period_end")
    if end < start:
        check.fail("period_end", f"{end} is before period_start {start}")
    return Agreement(
        id=check.text(top["id"], "id"),
        title=check.text(top["title"], "title"),
        parties=check.text(top["parties"], "parties"),
        scope=scope,
        comparisons=comparisons,
        period_start=start,
        period_end=end,
        baseline_wave=baseline,
        source=check.text(top["source"], "source"),
        overall_vision={k: check.text(v, f"overall_vision.{k}") for k, v in overall.items()},
        survey_waves=waves,
        status_categories=categories,
        visions=tuple(visions),
        indicators={k: own.get(k, v) for k, v in indicators.items()},
        note=check.text(top["note"], "note") if top.get("note") else None,
        path=path,
    )
