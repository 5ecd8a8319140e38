"""Bring your own agreement: a commented skeleton to start from, and a check of the file.

``analyse agreement new --scope kommune --area 657 --out mit.yml`` writes a skeleton that already
passes the check: the scope, comparisons that fit it, one vision with one målsætning, and the
indicator library listed in comments. ``analyse agreement check mit.yml`` runs the catalogue's
validation (:mod:`analyse.reference.catalogue`: fields, indicator ids, direction words, areas,
baseline wave, follow-up of every målsætning) and then checks the file against what the package
and the data can deliver: no clash with a shipped agreement's id or indicator definitions, survey
variables the cleaning derives, the baseline wave and each indicator's waves in the processed
data, the register indicators in the raw delivery. docs/agreements.md walks through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analyse.cube import build as cube_build
from analyse.data.clean import INDICATORS as SURVEY_VARIABLES
from analyse.errors import DataValidationError, ParameterError
from analyse.reference import catalogue, geography

#: Comparisons written into a skeleton, per scope level.
SKELETON_COMPARISONS = {
    "land": ["region", "land"],
    "region": ["region", "land"],
    "sundhedsklynge": ["sundhedsklynge", "region", "land"],
    "kommune": ["sundhedsklynge", "region", "land"],
}


def write_skeleton(
    out: str | Path,
    *,
    scope: str,
    areas: list[str],
    agreement_id: str | None = None,
    force: bool = False,
) -> Path:
    """Write a commented agreement skeleton for a scope to ``out``.

    Raises
    ------
    ParameterError
        Unknown level or area code, a kommune or region scope with more than one area, an id
        of a shipped agreement, or ``out`` exists and ``force`` is False.
    """
    out = Path(out)
    if out.suffix not in (".yml", ".yaml"):
        raise ParameterError(f"the agreement file must end in .yml, got {out.name}")
    if out.exists() and not force:
        raise ParameterError(f"{out} exists; choose another --out or pass --force")
    if scope not in geography.LEVELS:
        raise ParameterError(f"unknown scope {scope!r}; use one of {', '.join(geography.LEVELS)}")
    codes = [str(geography.area(scope, a)["area_code"]) for a in areas]
    if scope != "sundhedsklynge" and len(codes) != 1:
        raise ParameterError(f"a {scope} scope covers exactly one area, got {len(codes)}")
    ident = agreement_id or geography.slugify(out.stem)
    if ident in catalogue.list_agreements():
        raise ParameterError(f"{ident!r} is the id of a shipped agreement; give --id another one")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_skeleton(ident, scope, codes), encoding="utf-8")
    return out


def _skeleton(ident: str, level: str, codes: list[str]) -> str:
    names = [geography.display_name(level, c) for c in codes]
    scope_name = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]
    library = catalogue.indicator_library()
    waves = [w.year for w in library.survey_waves if w.scope == "kommune"]
    comparisons = SKELETON_COMPARISONS[level]
    areas = ", ".join(f'"{c}"' for c in codes)
    example = "daily_smoking"
    lines = [
        f"# Your agreement for {scope_name}, as data for `analyse`.",
        "# Fill in the Danish texts (the briefs show them as written), add a målsætning per goal,",
        "# follow each up with indicators from the list at the end and/or a status question, then",
        f"#   analyse agreement check {ident}.yml",
        f"#   analyse run --agreement {ident}.yml      (or: analyse briefs --agreement …)",
        "# The fields are explained in docs/agreements.md.",
        f"id: {ident}",
        'title: "Titel på aftalen eller politikken"',
        'parties: "Hvem der har vedtaget den"',
        "scope:",
        f"  level: {level}",
        f"  areas: [{areas}]   # {', '.join(names)}",
        f"comparisons: [{', '.join(comparisons)}]   # each brief against the rest of these areas",
        "period_start: 2024",
        "period_end: 2027",
        f"baseline_wave: {waves[-2] if len(waves) > 1 else waves[-1]}"
        f"   # a Sundhedsprofil wave: {', '.join(map(str, waves))}",
        'source: "Dokumentets titel, udgiver og dato"',
        "# note: A sentence the briefs show under the title, e.g. how the period was chosen.",
        "",
        "overall_vision:",
        '  title: "Overskrift på den samlede vision"',
        '  text: "Visionen, ordret fra dokumentet."',
        "",
        "visions:",
        "  - id: vision_1",
        '    title: "Overskrift på første indsatsområde"',
        "    objectives:",
        "      - id: maalsaetning_1",
        '        text: "Målsætningen, ordret fra dokumentet."',
        "        follow_up: >-",
        "          Vi måler på, om andelen af borgere, der ryger dagligt, bliver mindre.",
        f"        indicators: [{example}]   # ids from the list below",
        "        # context_indicators: [alcohol_over_10]   # shown as background, no status",
        "        # note: Hvorfor netop disse indikatorer (vises i briefen).",
        "        # status_question: Hvad er status på klyngens aktiviteter for …?",
        "",
        "# Optional, per indicator of the library: why it was chosen (note), a numeric target",
        "# (target: value_pct in percent, year (default period_end) and its source), and the",
        "# inequality dimensions shown (education, labour_market).",
        "# An indicator of your own needs a new id and all fields (see docs/agreements.md).",
        "indicators:",
        f"  {example}:",
        "    dimensions: [education, labour_market]",
        '    # note: "Valgt, fordi …"',
        '    # target: {value_pct: 10, year: 2027, source: "Hvor målet står"}',
        "",
        "# Available indicators (the indicator library; ↑ skal stige, ↓ skal falde):",
    ]
    for source, heading in (("survey", "Sundhedsprofilen"), ("register", "registerdata")):
        lines.append(f"#   {heading}:")
        for ind in library.indicators.values():
            if ind.source == source:
                arrow = "↑" if ind.direction == "increase" else "↓"
                lines.append(
                    f"#     {ind.id:<26} {arrow} {ind.label} ({ind.population.label}, fra "
                    f"{ind.first_wave})"
                )
    return "\n".join(lines) + "\n"


@dataclass
class CheckReport:
    """What :func:`check_agreement` found: errors (the file cannot be used), notes (facts)."""

    path: Path
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self) -> str:
        lines = [f"{self.path}:"]
        lines += [f"  FEJL: {e}" for e in self.errors]
        lines += [f"  {n}" for n in self.notes]
        lines.append("  OK: aftalen kan bruges." if self.ok else "  Aftalen kan ikke bruges endnu.")
        return "\n".join(lines)


def check_agreement(
    path: str | Path,
    *,
    processed: str | Path | None = "data/processed",
    raw: str | Path | None = "data/raw",
) -> CheckReport:
    """Validate a user's agreement file, and check it against the package and the data.

    Errors name the place in the file: schema errors of :func:`load_agreement` (one at a
    time: the first found), a shipped agreement's id, an indicator id defined differently from
    a shipped agreement's, a survey variable the cleaning does not derive, a baseline wave or an
    indicator's waves absent from the processed data (if ``processed`` has a build), a register
    indicator without rows in ``raw``'s ``registerdata.csv`` (if there is one).
    """
    path = Path(path)
    report = CheckReport(path)
    if not path.exists():
        report.errors.append(f"the file {path} does not exist")
        return report
    try:
        agreement = catalogue.load_agreement(path)
    except DataValidationError as exc:
        report.errors.append(exc.rule if exc.file else str(exc))
        return report
    except ParameterError as exc:
        report.errors.append(str(exc))
        return report
    shipped_ids = catalogue.list_agreements()
    if (
        agreement.id in shipped_ids
        and Path(agreement.path).parent != catalogue.agreement_dir().resolve()
    ):
        report.errors.append(
            f"id: {agreement.id!r} is the id of a shipped agreement; give yours another id"
        )
    try:
        catalogue.combine([agreement, *catalogue.load_agreements(shipped_ids)])
    except ParameterError as exc:
        report.errors.append(f"indicators: {exc}")
    for ind in agreement.indicators_by_source("survey"):
        if ind.variable not in SURVEY_VARIABLES:
            report.errors.append(
                f"indicators.{ind.id}.variable: {ind.variable!r} is not a survey indicator the "
                f"cleaning derives ({', '.join(SURVEY_VARIABLES)})"
            )
    _check_against_processed(agreement, processed, report)
    _check_against_raw(agreement, raw, report)
    briefs = agreement.scope.brief_areas()
    report.notes.append(
        f"Omfang: {agreement.scope.name}; {len(briefs)} brief(s) "
        f"({', '.join(sorted(set(briefs['area_level'])))}); sammenlignet med "
        f"{', '.join(c.area or c.level for c in agreement.comparisons) or 'intet'}."
    )
    report.notes.append(
        f"{len(agreement.objectives)} målsætning(er), {len(agreement.indicators)} indikator(er) "
        f"({len(agreement.indicators_by_source('survey'))} fra Sundhedsprofilen, "
        f"{len(agreement.indicators_by_source('register'))} fra registre), "
        f"{len(agreement.status_objectives())} statusspørgsmål."
    )
    return report


def _check_against_processed(agreement, processed, report: CheckReport) -> None:
    if processed is None:
        return
    manifest = cube_build.read_manifest(Path(processed))
    if not manifest:
        report.notes.append(f"Ingen beregnede data i {processed}: bølgerne er ikke tjekket.")
        return
    waves = [int(w) for w in manifest.get("waves", [])]
    if agreement.baseline_wave not in waves:
        report.errors.append(
            f"baseline_wave: {agreement.baseline_wave} is not a wave in the data in {processed} "
            f"({', '.join(map(str, waves))})"
        )
    for ind in agreement.indicators_by_source("survey"):
        usable = [w for w in agreement.comparable_waves(ind.id) if w in waves]
        if not usable:
            report.errors.append(
                f"indicators.{ind.id}: no kommune wave in the data from its first_wave "
                f"{ind.first_wave} (the data have {', '.join(map(str, waves))})"
            )
        elif ind.id in agreement.indicators and max(usable) < agreement.baseline_wave:
            report.errors.append(
                f"indicators.{ind.id}: no wave after the baseline {agreement.baseline_wave} "
                "in the data"
            )
    built = [r.get("id") for r in manifest.get("agreements", [])]
    if agreement.id not in built:
        report.notes.append(
            f"De beregnede data har ikke denne aftale endnu: `analyse build --agreement "
            f"{agreement.path}` (eller run/briefs med --agreement) tager den med."
        )


def _check_against_raw(agreement, raw, report: CheckReport) -> None:
    register = agreement.indicators_by_source("register")
    if raw is None or not register:
        return
    path = Path(raw) / cube_build.REGISTER_FILE
    if not path.exists():
        report.notes.append(f"Ingen {path}: registerindikatorerne er ikke tjekket.")
        return
    import pandas as pd

    try:
        delivered = set(
            pd.read_csv(path, sep=None, engine="python", usecols=["indikator"], dtype=str)[
                "indikator"
            ]
        )
    except (ValueError, pd.errors.ParserError) as exc:
        report.errors.append(f"{path}: cannot read the indikator column ({exc})")
        return
    for ind in register:
        if ind.id not in delivered:
            report.errors.append(
                f"indicators.{ind.id}: the register delivery {path} has no rows for it"
            )
