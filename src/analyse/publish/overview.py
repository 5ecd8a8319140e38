"""The agreement's overview: every area of the agreement's scope × every indicator on one page.

The page the committee (Sundhedssamarbejdsudvalget) opens first: for the agreement's scope
(a region, its sundhedsklynger and its kommuner; a klynge and its kommuner; one kommune and
the areas it is compared with; Denmark, its regions and its klynger), the direction status of
each indicator (symbol and word) with the latest value, where an area is statistically sure
worse or better than the rest of the scope's area (the region, the klynge, Denmark; for one
kommune: the first area it is compared with), and per indicator a dot chart of every area one
level down against that area with intervals (after the spine and "compare areas" charts of
OHID's Fingertips and Public Health Scotland's ScotPHO profiles). It is built from the processed
tables only, like the briefs.

The status counts and the summary sentence ("3 bedre, 6 uændret, 2 dårligere og 1 kan ikke
vurderes") are shared with the briefs (:mod:`analyse.publish.brief`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analyse.cube.build import table_path
from analyse.errors import ParameterError
from analyse.publish import plots, report
from analyse.publish.html import Html, esc, html_table
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, load_agreement
from analyse.stats import disclosure

#: File names in a batch run folder: the overview and the index of all briefs.
OVERVIEW_FILE = "overview.html"
INDEX_FILE = "index.html"
#: Direction statuses in the order they are counted and listed.
STATUS_ORDER = ("bedre", "uændret", "dårligere", "kan ikke vurderes")


def status_key(status) -> str:
    """The status as one of :data:`STATUS_ORDER` (missing → "kan ikke vurderes")."""
    return report.status_word(status).lower()


def status_counts(statuses: Iterable) -> dict[str, int]:
    """How many of the statuses are bedre, uændret, dårligere and kan ikke vurderes.

    A missing status counts as "kan ikke vurderes", as in the status table; an unknown one
    raises :class:`~analyse.errors.ParameterError` (from :func:`report.status_word`).
    """
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for status in statuses:
        counts[status_key(status)] += 1
    return counts


def counts_text(counts: dict[str, int]) -> str:
    """Danish enumeration of status counts: "3 bedre, 6 uændret, 2 dårligere og 1 kan ikke
    vurderes" (every status, also those with 0, so the four numbers add up)."""
    items = [f"{counts.get(key, 0)} {key}" for key in STATUS_ORDER]
    return ", ".join(items[:-1]) + " og " + items[-1]


def baseline_text(agreement: Agreement) -> str:
    """The baseline year(s) of the status table's indicators: "2021" (survey: the baseline
    wave), "2023" (register: the year before the period) or "2021 (registerdata: 2023)"."""
    sources = {agreement.indicator(i).source for i in status_indicators(agreement)}
    survey, register = str(agreement.baseline_wave), str(agreement.period_start - 1)
    if sources == {"register"} or survey == register:
        return register
    if "register" in sources:
        return f"{survey} (registerdata: {register})"
    return survey


def summary_sentence(
    counts: dict[str, int], *, baseline_year: int | str, area_name: str | None = None
) -> str:
    """The sentence a brief opens with: "Status for 11 indikatorer siden basisåret 2021: 3
    bedre, 6 uændret, 2 dårligere og 0 kan ikke vurderes." (with ``area_name``: "… indikatorer
    i Region Syddanmark siden …"); ``baseline_year`` as :func:`baseline_text` gives it."""
    total = sum(counts.values())
    noun = "indikator" if total == 1 else "indikatorer"
    where = f" i {area_name}" if area_name else ""
    return (
        f"Status for {total} {noun}{where} siden basisåret {baseline_year}: {counts_text(counts)}."
    )


def status_indicators(agreement: Agreement) -> list[str]:
    """The indicators of the status table, in its order (each målsætning's indicators)."""
    return list(
        dict.fromkeys(i for objective in agreement.objectives for i in objective.indicators)
    )


def area_statuses(
    processed: str | Path, agreement: Agreement, level: str, codes: Sequence[str]
) -> pd.DataFrame:
    """The direction status of every status-table indicator for the given areas of one level.

    Reads ``status.parquet`` (survey) and ``register_status.parquet`` (register), the rows of
    the whole population (breakdown "total"). Returns one row per area × indicator with
    ``area_code``, ``indicator`` and ``status`` (one of :data:`STATUS_ORDER`; an indicator
    without a status row "kan ikke vurderes", as in the status table).

    Raises
    ------
    ParameterError
        If the processed folder lacks the status tables (run ``analyse build``).
    """
    processed = Path(processed)
    codes = [str(c) for c in codes]
    indicators = status_indicators(agreement)
    frames = []
    for name in ("status", "register_status"):
        path = table_path(processed, name, agreement.id)
        if not path.exists():
            raise ParameterError(
                f"no {name} table of {agreement.id} in {processed}: run `analyse build` first"
            )
        if not codes:
            continue
        frames.append(
            pq.read_table(
                path,
                columns=["indicator", "area_level", "area_code", "breakdown", "status"],
                filters=[
                    ("area_level", "=", level),
                    ("area_code", "in", codes),
                    ("breakdown", "=", "total"),
                ],
            ).to_pandas()
        )
    found = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    known = {}
    if not found.empty:
        found = found[found["indicator"].isin(indicators)]
        known = {
            (r.area_code, r.indicator): r.status
            for r in found.drop_duplicates(["area_code", "indicator"]).itertuples()
        }
    rows = [
        (code, ind, status_key(known.get((code, ind), np.nan)))
        for code in codes
        for ind in indicators
    ]
    return pd.DataFrame(rows, columns=["area_code", "indicator", "status"])


# ---------------------------------------------------------------------------------------------
# The overview page

#: Level of the tests behind "ringere/bedre end resten af regionen" (as the briefs').
ALPHA = 0.05
_LEVELS = ("land", "region", "sundhedsklynge", "kommune")
#: "resten af …" per level of the area the rows are compared with.
_REST = {"land": "landet", "region": "regionen", "sundhedsklynge": "klyngen"}


def _comparison_text(reference_level: str) -> dict[str, tuple[str, str, str]]:
    rest = _REST[reference_level]
    return {
        "ringere": ("cmp-worse", "▼", f"Ringere end resten af {rest}"),
        "bedre": ("cmp-better", "▲", f"Bedre end resten af {rest}"),
    }


def overview_title(agreement: Agreement) -> str:
    """The overview's <title> and h1: "Region Syddanmark: overblik over Sundhedsaftalen …"."""
    return f"{agreement.scope.name}: overblik over {agreement.title}"


def _areas(agreement: Agreement) -> dict[str, list[str]]:
    """The areas shown, per level (codes as text): the scope's areas and the areas inside them
    (Denmark: its regions and klynger; a region: its klynger and kommuner; a klynge: its
    kommuner); for a kommune, the kommune and the areas it is compared with."""
    scope = agreement.scope
    out: dict[str, list[str]] = {level: [] for level in _LEVELS}
    if scope.level == "kommune":
        out["kommune"] = [str(c) for c in scope.areas]
        for level, code in agreement.comparison_areas("kommune", scope.areas[0]):
            out[level].append(str(code))
        return out
    out[scope.level] = [str(c) for c in scope.areas]
    klynger = geography.areas("sundhedsklynge")
    if scope.level == "land":
        out["region"] = list(geography.areas("region")["area_code"])
        out["sundhedsklynge"] = list(klynger["area_code"])
        return out
    if scope.level == "region":
        out["sundhedsklynge"] = [
            c for c in klynger["area_code"] if scope.contains("sundhedsklynge", c)
        ]
    out["kommune"] = [str(k) for k in scope.members]
    return out


def _reference(agreement: Agreement, areas: dict) -> tuple[str, str]:
    """The area the rows are compared with ("resten af …"): the scope's (first) area; for a
    kommune, the first area it is compared with."""
    scope = agreement.scope
    if scope.level != "kommune":
        return scope.level, str(scope.areas[0])
    for level in ("sundhedsklynge", "region", "land"):
        if areas[level]:
            return level, areas[level][0]
    return "kommune", str(scope.areas[0])


def _latest_values(processed: Path, agreement: Agreement, areas: dict) -> pd.DataFrame:
    """The latest value of every status-table indicator per area (whole population), with its
    interval and, for survey indicators, the comparison with the rest of the reference area
    (:func:`_reference`)."""
    indicators = status_indicators(agreement)
    ref_level, ref_code = _reference(agreement, areas)
    versus = (
        [f"vs_{ref_level}_diff", f"vs_{ref_level}_p"] if ref_level in ("region", "land") else []
    )
    columns = ["indicator", "year", "area_level", "area_code", "estimate", "ci_low", "ci_high"]
    codes = [c for level in _LEVELS for c in areas[level]]
    frames = []
    for name, extra in (("estimates", ["suppressed", *versus]), ("register", ["suppressed"])):
        path = table_path(processed, name)
        if not path.exists():
            raise ParameterError(f"no {path.name} in {processed}: run `analyse build` first")
        table = pq.read_table(
            path,
            columns=columns + extra,
            filters=[
                ("breakdown", "=", "total"),
                ("area_level", "in", list(_LEVELS)),
                ("area_code", "in", codes),
                ("indicator", "in", indicators),
            ],
        ).to_pandas()
        if name == "estimates":  # the waves measured in every kommune (2023: Denmark only)
            table = table[table["year"].isin(agreement.kommune_waves)]
        frames.append(table)
    values = pd.concat(frames, ignore_index=True)
    # Rows of the wrong level for a code (a code is unique per level) are dropped here.
    wanted = {(level, code) for level in _LEVELS for code in areas[level]}
    keep = [
        (lv, c) in wanted for lv, c in zip(values["area_level"], values["area_code"], strict=True)
    ]
    values = values[keep]
    latest = values.groupby(["indicator", "area_level", "area_code"])["year"].transform("max")
    values = values[values["year"] == latest].drop_duplicates(
        ["indicator", "area_level", "area_code"]
    )
    values = values.rename(columns={c: c.replace(f"vs_{ref_level}", "vs") for c in versus})
    if ref_level == "sundhedsklynge":  # the kommuner against the rest of their klynge
        klynger = [c for c in areas["sundhedsklynge"]] or [ref_code]
        rest = pq.read_table(
            table_path(processed, "klynge_comparisons"),
            columns=["indicator", "year", "area_code", "parent_code", "diff", "p"],
            filters=[("parent_code", "in", klynger), ("indicator", "in", indicators)],
        ).to_pandas()
        rest = rest.drop_duplicates(["indicator", "year", "area_code"]).rename(
            columns={"diff": "vs_diff", "p": "vs_p"}
        )
        values = values.merge(
            rest.drop(columns="parent_code").assign(area_level="kommune"),
            on=["indicator", "year", "area_level", "area_code"],
            how="left",
        )
    below = _LEVELS.index(ref_level) if ref_level in _LEVELS else len(_LEVELS)
    values["compared"] = [_LEVELS.index(lv) > below for lv in values["area_level"]]
    direction = {i: agreement.indicator(i).direction for i in indicators}
    values["comparison"] = [
        _comparison(r, direction[r.indicator]) for r in values.itertuples(index=False)
    ]
    return values.reset_index(drop=True)


def _comparison(row, direction: str) -> str:
    """ "ringere", "bedre", "som resten" or "ikke testet" (direction-aware)."""
    diff = getattr(row, "vs_diff", np.nan)
    p_value = getattr(row, "vs_p", np.nan)
    if not row.compared or report.is_missing(diff) or report.is_missing(p_value):
        return "ikke testet"
    if float(p_value) >= ALPHA or diff == 0:
        return "som resten"
    worse = (diff > 0) == (direction == "decrease")
    return "ringere" if worse else "bedre"


def _value_text(row) -> str:
    if row is None:
        return "Ikke målt"
    return report.pct(row.estimate, suppressed=bool(row.suppressed))


def _interval_text(row) -> str:
    if row is None:
        return "Ikke målt"
    hidden = bool(row.suppressed)
    return report.with_interval(
        report.pct(row.estimate, suppressed=hidden),
        report.ci(row.ci_low, row.ci_high, suppressed=hidden),
    )


def _link(level: str, code: str, available: set[str] | None, *, short: bool = False) -> str:
    area = geography.area(level, code)
    name = area["area_name"] if short else geography.display_name(level, code)
    slug = str(area["slug"])
    if available is not None and slug not in available:
        return esc(name)
    return f'<a href="{esc(slug)}.html">{esc(name)}</a>'


def overview_html(
    processed: str | Path,
    agreement_id: str = "syddanmark-2024-2027",
    *,
    available: set[str] | None = None,
    synthetic: bool | None = None,
) -> Html:
    """The body of the agreement's overview page (see the module docstring).

    Parameters
    ----------
    processed
        Folder with the processed tables (``analyse build``).
    agreement_id
        The agreement; its region's klynger and kommuner are shown.
    available
        File stems (slugs) of the briefs rendered beside the page: names link to those only
        (``None``: link every area).
    synthetic
        Show the synthetic-data mark (default: from the processed manifest).

    Returns
    -------
    Html
        Sections: the region's summary sentence and links; "Kort fortalt" (which areas got
        worse and which kommuner are statistically sure worse than the rest of the region, per
        indicator); the area × indicator table grouped by klynge; one dot chart per indicator
        (every kommune against the region, worst first) with its numbers in a ``<details>``;
        a short method note.

    Raises
    ------
    ParameterError
        Unknown agreement or a processed folder without the tables.
    """
    processed = Path(processed)
    if not (processed / "manifest.json").exists():
        raise ParameterError(
            f"no processed data in {processed}: run `analyse build` (or `make run`) first"
        )
    agreement = load_agreement(agreement_id)
    manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
    if synthetic is None:
        synthetic = bool(manifest.get("synthetic"))
    areas = _areas(agreement)
    indicators = [agreement.indicator(i) for i in status_indicators(agreement)]
    statuses = pd.concat(
        [
            area_statuses(processed, agreement, level, areas[level]).assign(area_level=level)
            for level in _LEVELS
        ],
        ignore_index=True,
    )
    status_of = {(r.area_level, r.area_code, r.indicator): r.status for r in statuses.itertuples()}
    values = _latest_values(processed, agreement, areas)
    value_of = {(r.area_level, r.area_code, r.indicator): r for r in values.itertuples()}
    top_level, top_code = agreement.scope.level, str(agreement.scope.areas[0])
    ref = _reference(agreement, areas)
    ref_name = geography.display_name(*ref)
    rest = _REST.get(ref[0], "området")
    child_level = "sundhedsklynge" if top_level == "land" else "kommune"
    children = "Sundhedsklyngerne" if child_level == "sundhedsklynge" else "Kommunerne"

    parts = ['<a class="skip-link" href="#tabel">Gå til tabellen over alle områder</a>']
    if synthetic:
        parts.append(
            '<p class="synthetic">Syntetiske data — tallene er genereret til afprøvning og '
            "beskriver ikke rigtige personer.</p>"
        )
    parts.append(f"<h1>{esc(overview_title(agreement))}</h1>")
    top_counts = status_counts(
        statuses.loc[
            (statuses["area_level"] == top_level) & (statuses["area_code"] == top_code), "status"
        ].tolist()
    )
    parts.append(
        '<p class="summary">'
        + esc(
            summary_sentence(
                top_counts,
                baseline_year=baseline_text(agreement),
                area_name=_in_name(geography.display_name(top_level, top_code)),
            )
        )
        + "</p>"
    )
    shown = (
        "området og de områder, det sammenlignes med"
        if top_level == "kommune"
        else ("området og hvert område i det")
    )
    parts.append(
        f"<p>Siden viser for {esc(shown)}, hvordan aftalens indikatorer har udviklet sig "
        "siden basisåret (status), det seneste tal, og hvor et område ligger statistisk "
        f"sikkert dårligere eller bedre end resten af {esc(rest)}"
        + (f" ({esc(ref_name)})" if ref[0] != "land" else "")
        + ". Hvert områdes brief har tallene i detaljer.</p>"
    )
    parts.append(
        '<nav class="links" aria-label="Links"><ul>'
        f'<li><a href="{INDEX_FILE}">Alle områders briefs</a></li>'
        f"<li>{_link(top_level, top_code, available)} (aftaleområdets brief)</li>"
        f'<li><a href="../{INDEX_FILE}">Alle aftaler</a></li>'
        "</ul></nav>"
    )
    parts.append(
        '<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">Indhold</h2><ol>'
        '<li><a href="#kort">Kort fortalt: hvor står det dårligst til?</a></li>'
        '<li><a href="#tabel">Status og seneste tal for alle områder</a></li>'
        f'<li><a href="#kommuner">{children} på hver indikator</a></li>'
        '<li><a href="#metode">Sådan læses siden</a></li></ol></nav>'
    )
    parts.append(_hot_spots(agreement, indicators, areas, status_of, value_of, available, ref))
    parts.append(_matrix(agreement, indicators, areas, status_of, value_of, available, ref))
    parts.append(
        _spines(agreement, indicators, areas, status_of, value_of, ref, child_level, children)
    )
    parts.append(_method_note(agreement, manifest, ref))
    return Html("\n".join(parts))


def _in_name(name: str) -> str:
    """A name after "i": "Hele landet" is a phrase, not a proper noun ("i hele landet")."""
    return name[0].lower() + name[1:] if name.lower().startswith("hele ") else name


def _indicator_label(ind) -> str:
    population = ind.population.label
    if population.split(" ")[0] in ind.label:
        return ind.label
    return f"{ind.label}, {population}"


def _hot_spots(agreement, indicators, areas, status_of, value_of, available, ref) -> str:
    """Per indicator: the areas that got worse since the baseline, and the areas statistically
    sure worse than the rest of the reference area."""
    rest = _REST.get(ref[0], "området")
    worse_rows, below_rows = [], []
    for ind in indicators:
        worse = [
            _link(level, code, available)
            for level in _LEVELS
            for code in _sorted(level, areas[level])
            if status_of.get((level, code, ind.id)) == "dårligere"
        ]
        below = [
            _link(level, code, available) + f" ({_value_text(value_of[(level, code, ind.id)])})"
            for level in _LEVELS
            for code in _sorted(level, areas[level])
            if (level, code, ind.id) in value_of
            and value_of[(level, code, ind.id)].comparison == "ringere"
            and not bool(value_of[(level, code, ind.id)].suppressed)
        ]
        label = esc(_indicator_label(ind))
        if worse:
            worse_rows.append(f"<li><strong>{label}</strong>: {report_join(worse)}</li>")
        if below:
            below_rows.append(f"<li><strong>{label}</strong>: {report_join(below)}</li>")
    baseline = agreement.baseline_wave
    out = ['<h2 id="kort">Kort fortalt: hvor står det dårligst til?</h2>']
    out.append(
        f"<h3>Blevet dårligere siden basisåret (✗ Dårligere; basisår {baseline}, "
        f"registerdata {agreement.period_start - 1})</h3>"
    )
    out.append(
        f"<ul>{''.join(worse_rows)}</ul>"
        if worse_rows
        else "<p>Ingen indikator er statistisk sikkert blevet dårligere i noget område.</p>"
    )
    out.append(f"<h3>Statistisk sikkert ringere end resten af {rest} (seneste måling)</h3>")
    out.append(
        f"<ul>{''.join(below_rows)}</ul>"
        if below_rows
        else f"<p>Intet område ligger statistisk sikkert ringere end resten af {rest}.</p>"
    )
    out.append(
        f'<p class="footnote">Registerindikatorerne testes ikke mod resten af {rest}; deres '
        "tal står i tabellen og figurerne nedenfor.</p>"
    )
    return "\n".join(out)


def _sorted(level: str, codes: Sequence[str]) -> list[str]:
    return sorted(codes, key=lambda c: report.danish_sort_key(geography.display_name(level, c)))


def _cell(status: str, row, comparison_text: dict) -> str:
    # Block spans, not <br>: on a phone each piece is one row of the card's grid.
    text = report.status_html(status) + f'<span class="val">{_value_text(row)}</span>'
    if row is not None and row.comparison in comparison_text and not bool(row.suppressed):
        css, symbol, words = comparison_text[row.comparison]
        text += f'<span class="cmp {css}"><span aria-hidden="true">{symbol}</span> {words}</span>'
    return text


def _groups(agreement, areas) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """The matrix's rows as groups: (heading or None, [(level, code), ...]). Denmark then per
    region its klynger; a region then per klynge its kommuner (a kommune in two klynger under
    both); per klynge its kommuner; a kommune then the areas it is compared with."""
    level = agreement.scope.level
    members = geography.membership("sundhedsklynge")
    if level == "kommune":
        context = [(lv, c) for lv in ("sundhedsklynge", "region", "land") for c in areas[lv]]
        groups = [(None, [("kommune", c) for c in areas["kommune"]])]
        return groups + ([("Sammenlignes med", context)] if context else [])
    groups = []
    if level in ("land", "region"):
        groups.append((None, [(level, c) for c in areas[level]]))
    if level == "land":
        klynger = geography.areas("sundhedsklynge")
        for region in _sorted("region", areas["region"]):
            mine = klynger.loc[klynger["region_code"] == int(region), "area_code"]
            rows = [("region", region)] + [("sundhedsklynge", k) for k in _sorted(
                "sundhedsklynge", [k for k in mine if k in areas["sundhedsklynge"]]
            )]  # fmt: skip
            groups.append((geography.display_name("region", region), rows))
        return groups
    for klynge in _sorted("sundhedsklynge", areas["sundhedsklynge"]):
        kommuner = members.loc[members["area_code"] == klynge, "kommune_code"]
        rows = [("sundhedsklynge", klynge)] + [
            ("kommune", k)
            for k in _sorted("kommune", [str(k) for k in kommuner])
            if k in areas["kommune"]
        ]
        groups.append((geography.display_name("sundhedsklynge", klynge), rows))
    return groups


def _matrix(agreement, indicators, areas, status_of, value_of, available, ref) -> str:
    """Areas × indicators: status and latest value, grouped (by klynge or by region)."""
    top = agreement.scope.level
    comparison_text = _comparison_text(ref[0]) if ref[0] in _REST else {}
    years = {}
    for ind in indicators:
        found = [int(r.year) for (lv, _c, i), r in value_of.items() if i == ind.id and lv == top]
        years[ind.id] = max(found) if found else None
    # The catalogue's short labels: thirteen columns must fit a landscape A4 page.
    headers = ["Område", "Status i alt"] + [
        esc(ind.short_label[:1].upper() + ind.short_label[1:])
        + (f" <span class='meta'>({years[ind.id]})</span>" if years[ind.id] else "")
        for ind in indicators
    ]

    def row(level: str, code: str, *, short: bool = False) -> list[str]:
        counts = status_counts(status_of.get((level, code, ind.id)) for ind in indicators)
        summary = "".join(
            f'<span class="count">{counts[key]} {esc(key)}</span>' for key in STATUS_ORDER
        )
        return [_link(level, code, available, short=short), summary] + [
            _cell(
                status_of.get((level, code, ind.id), "kan ikke vurderes"),
                value_of.get((level, code, ind.id)),
                comparison_text,
            )
            for ind in indicators
        ]

    rows, classes = [], []
    for heading, members in _groups(agreement, areas):
        if heading is not None:
            rows.append(esc(heading))
            classes.append("klynge")
        for level, code in members:
            rows.append(row(level, code))
            classes.append(f"area-{level}")
    caption = (
        "Status siden basisåret og seneste tal for hver indikator: "
        + {
            "land": "hele landet, og for hver region regionen og dens sundhedsklynger",
            "region": "regionen, og for hver sundhedsklynge klyngen og dens kommuner (en "
            "kommune i to klynger står under begge)",
            "sundhedsklynge": "sundhedsklyngen og dens kommuner",
            "kommune": "kommunen og de områder, den sammenlignes med",
        }[top]
    )
    rest = _REST.get(ref[0], "området")
    legend = (
        '<p class="footnote">Status: ✓ Bedre = statistisk sikker ændring i den ønskede retning '
        "siden basisåret; = Uændret = ingen statistisk sikker ændring; ✗ Dårligere = statistisk "
        "sikker ændring mod den ønskede retning; ○ Kan ikke vurderes = for få målinger eller for "
        f"få svar. ▼ Ringere / ▲ Bedre end resten af {rest}: seneste måling, statistisk sikker "
        "forskel i forhold til målsætningens retning (kun Sundhedsprofilens indikatorer). "
        f"Årstallet i kolonnens overskrift er seneste måling. {esc(disclosure.footnote())}</p>"
    )
    return (
        '<h2 id="tabel">Status og seneste tal for alle områder</h2>'
        + html_table(
            headers,
            rows,
            row_classes=classes,
            caption=caption,
            group_class="klynge",
            table_class="matrix",
        )
        + legend
    )


def _spines(agreement, indicators, areas, status_of, value_of, ref, child_level, children) -> str:
    """One dot chart per indicator: every area one level down against the reference area,
    worst first."""
    ref_level, ref_code = ref
    ref_name = geography.display_name(ref_level, ref_code)
    rest = _REST.get(ref_level, "området")
    noun = "kommunes" if child_level == "kommune" else "sundhedsklynges"
    out = [
        f'<h2 id="kommuner">{children} på hver indikator</h2>',
        f"<p>Hver {noun} seneste tal med 95 pct.-konfidensinterval, den dårligste øverst. "
        f"Den lodrette linje er {esc(ref_name)}, det grå bånd dens interval. Formen "
        f"viser, om området ligger statistisk sikkert ringere (▼) eller bedre (▲) end resten af "
        f"{rest}; ◇ = ikke testet (registerindikatorer).</p>",
        '<div class="figures spines">',
    ]
    for ind in indicators:
        rows = [value_of.get((child_level, c, ind.id)) for c in areas[child_level]]
        rows = [r for r in rows if r is not None]
        if not rows:
            continue
        frame = pd.DataFrame(
            {
                "code": [r.area_code for r in rows],
                "label": [geography.area(child_level, r.area_code)["area_name"] for r in rows],
                "estimate": [r.estimate for r in rows],
                "ci_low": [r.ci_low for r in rows],
                "ci_high": [r.ci_high for r in rows],
                "suppressed": [bool(r.suppressed) for r in rows],
                "comparison": [
                    "ikke testet" if ind.source == "register" else r.comparison for r in rows
                ],
            }
        )
        frame["shown"] = ~frame["suppressed"] & frame["estimate"].notna()
        worst_first = ind.direction == "increase"  # low is bad for an indicator that should rise
        frame = frame.sort_values(
            ["shown", "estimate"], ascending=[False, worst_first], kind="stable"
        )
        parent = value_of.get((ref_level, ref_code, ind.id))
        reference = None
        if parent is not None and not bool(parent.suppressed):
            reference = (ref_name, parent.estimate, parent.ci_low, parent.ci_high)
        year = int(max(r.year for r in rows))
        title = f"{_indicator_label(ind)}, {year}"
        fig = plots.area_dots(frame, title=title, reference=reference)
        figure = plots.figure_html(
            fig,
            alt=plots.alt_text_area_dots(frame, title, reference)
            + " Tallene med konfidensintervaller står i tabellen under figuren.",
        )
        body = [
            [
                esc(geography.display_name(child_level, r.code)),
                _interval_text(value_of[(child_level, r.code, ind.id)]),
                esc(plots.COMPARISON_STYLES[r.comparison][0])
                if not r.suppressed
                else disclosure.SUPPRESSED_MARK,
                report.status_html(status_of.get((child_level, r.code, ind.id))),
            ]
            for r in frame.itertuples()
        ]
        if reference is not None:
            body.insert(
                0,
                [
                    esc(ref_name),
                    _interval_text(parent),
                    "",
                    report.status_html(status_of.get((ref_level, ref_code, ind.id))),
                ],
            )
        table = html_table(
            ["Område", "Andel", f"Mod resten af {rest}", "Status"],
            body,
            numeric={1},
            caption=f"Tallene bag figuren: {esc(title)}",
            stack=True,
        )
        out.append(
            f'<div>{figure}<details class="data"><summary>Tallene bag figuren, med '
            f"konfidensintervaller</summary>{table}</details></div>"
        )
    out.append("</div>")
    return "\n".join(out)


def _method_note(agreement, manifest: dict, ref) -> str:
    rest = _REST.get(ref[0], "området")
    return (
        '<h2 id="metode">Sådan læses siden</h2>'
        f"<p><strong>Status</strong> sammenligner seneste måling med basisåret "
        f"{agreement.baseline_wave} (registerdata: {agreement.period_start - 1}) med en test på "
        "5 pct.-niveau; ✓ Bedre og ✗ Dårligere er i forhold til målsætningens ønskede retning. "
        f"<strong>Ringere/bedre end resten af {rest}</strong> sammenligner området med resten "
        f"af {esc(geography.display_name(*ref))} i seneste måling (5 pct.-niveau), også i "
        "forhold til den ønskede retning. Intervallerne er 95 pct.-konfidensintervaller; "
        "Sundhedsprofilens tal er vægtede og designbaserede, registertallene "
        "(Wilson-intervaller) dækker hele befolkningen. Metoden står i hvert områdes brief.</p>"
        f"<p class='meta'>Programversion {esc(manifest.get('code_version', ''))}; data beregnet "
        f"{esc(manifest.get('created', ''))}.</p>"
    )


def report_join(items: list[str]) -> str:
    """Danish enumeration: "a, b og c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]
