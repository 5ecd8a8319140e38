"""The agreement's overview: every area of the region × every indicator on one page.

The page the committee (Sundhedssamarbejdsudvalget) opens first: for the agreement's region,
its sundhedsklynger and its kommuner, the direction status of each indicator (symbol and word)
with the latest value, where an area is statistically sure worse or better than the rest of the
region, and per indicator a dot chart of every kommune against the region with intervals (after
the spine and "compare areas" charts of OHID's Fingertips and Public Health Scotland's ScotPHO
profiles). It is built from the processed tables only, like the briefs.

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


def summary_sentence(
    counts: dict[str, int], *, baseline_year: int, area_name: str | None = None
) -> str:
    """The sentence a brief opens with: "Status for 11 indikatorer siden basisåret 2021: 3
    bedre, 6 uændret, 2 dårligere og 0 kan ikke vurderes." (with ``area_name``: "… indikatorer
    i Region Syddanmark siden …")."""
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
        path = processed / f"{name}.parquet"
        if not path.exists():
            raise ParameterError(f"no {path.name} in {processed}: run `analyse build` first")
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
_LEVELS = ("region", "sundhedsklynge", "kommune")
_COMPARISON_TEXT = {
    "ringere": ("cmp-worse", "▼", "Ringere end resten af regionen"),
    "bedre": ("cmp-better", "▲", "Bedre end resten af regionen"),
}


def overview_title(agreement: Agreement) -> str:
    """The overview's <title> and h1: "Region Syddanmark: overblik over Sundhedsaftalen …"."""
    region = geography.area("region", agreement.region_code)["area_name"]
    return f"{region}: overblik over {agreement.title}"


def _areas(agreement: Agreement) -> dict[str, list[str]]:
    """The region's code, its klynger and its kommuner (codes as text), per level."""
    region = str(agreement.region_code)
    klynger = geography.areas("sundhedsklynge")
    klynger = klynger[klynger["region_code"] == agreement.region_code]
    return {
        "region": [region],
        "sundhedsklynge": list(klynger["area_code"]),
        "kommune": [str(k) for k in geography.members("region", region)],
    }


def _latest_values(processed: Path, agreement: Agreement, areas: dict) -> pd.DataFrame:
    """The latest value of every status-table indicator per area (whole population), with its
    interval and, for survey indicators, the comparison with the rest of the region."""
    indicators = status_indicators(agreement)
    columns = ["indicator", "year", "area_level", "area_code", "estimate", "ci_low", "ci_high"]
    frames = []
    for name, extra in (
        ("estimates", ["suppressed", "vs_region_diff", "vs_region_p"]),
        ("register", ["suppressed"]),
    ):
        path = processed / f"{name}.parquet"
        if not path.exists():
            raise ParameterError(f"no {path.name} in {processed}: run `analyse build` first")
        codes = [c for level in _LEVELS for c in areas[level]]
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
    direction = {i: agreement.indicator(i).direction for i in indicators}
    values["comparison"] = [
        _comparison(r, direction[r.indicator]) for r in values.itertuples(index=False)
    ]
    return values.reset_index(drop=True)


def _comparison(row, direction: str) -> str:
    """ "ringere", "bedre", "som resten" or "ikke testet" (direction-aware)."""
    diff = getattr(row, "vs_region_diff", np.nan)
    p_value = getattr(row, "vs_region_p", np.nan)
    if row.area_level == "region" or report.is_missing(diff) or report.is_missing(p_value):
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
    region_code = areas["region"][0]
    region_name = geography.display_name("region", region_code)

    parts = ['<a class="skip-link" href="#tabel">Gå til tabellen over alle områder</a>']
    if synthetic:
        parts.append(
            '<p class="synthetic">Syntetiske data — tallene er genereret til afprøvning og '
            "beskriver ikke rigtige personer.</p>"
        )
    parts.append(f"<h1>{esc(overview_title(agreement))}</h1>")
    region_counts = status_counts(
        statuses.loc[statuses["area_level"] == "region", "status"].tolist()
    )
    parts.append(
        '<p class="summary">'
        + esc(
            summary_sentence(
                region_counts, baseline_year=agreement.baseline_wave, area_name=region_name
            )
        )
        + "</p>"
    )
    parts.append(
        "<p>Siden viser for regionen, hver sundhedsklynge og hver kommune, hvordan aftalens "
        "indikatorer har udviklet sig siden basisåret (status), det seneste tal, og hvor en "
        "kommune eller klynge ligger statistisk sikkert dårligere eller bedre end resten af "
        "regionen. Hvert områdes brief har tallene i detaljer.</p>"
    )
    parts.append(
        '<nav class="links" aria-label="Links"><ul>'
        f'<li><a href="{INDEX_FILE}">Alle områders briefs</a></li>'
        f"<li>{_link('region', region_code, available)} (regionens brief)</li>"
        "</ul></nav>"
    )
    parts.append(
        '<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">Indhold</h2><ol>'
        '<li><a href="#kort">Kort fortalt: hvor står det dårligst til?</a></li>'
        '<li><a href="#tabel">Status og seneste tal for alle områder</a></li>'
        '<li><a href="#kommuner">Kommunerne på hver indikator</a></li>'
        '<li><a href="#metode">Sådan læses siden</a></li></ol></nav>'
    )
    parts.append(_hot_spots(agreement, indicators, areas, status_of, value_of, available))
    parts.append(_matrix(agreement, indicators, areas, status_of, value_of, available))
    parts.append(_spines(agreement, indicators, areas, status_of, value_of, region_name))
    parts.append(_method_note(agreement, manifest))
    return Html("\n".join(parts))


def _indicator_label(ind) -> str:
    population = ind.population.label
    if population.split(" ")[0] in ind.label:
        return ind.label
    return f"{ind.label}, {population}"


def _hot_spots(agreement, indicators, areas, status_of, value_of, available) -> str:
    """Per indicator: the areas that got worse since the baseline, and the kommuner and
    klynger statistically sure worse than the rest of the region."""
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
            for level in ("sundhedsklynge", "kommune")
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
    out.append("<h3>Statistisk sikkert ringere end resten af regionen (seneste måling)</h3>")
    out.append(
        f"<ul>{''.join(below_rows)}</ul>"
        if below_rows
        else "<p>Ingen kommune eller klynge ligger statistisk sikkert ringere end resten af "
        "regionen.</p>"
    )
    out.append(
        '<p class="footnote">Registerindikatorerne testes ikke mod resten af regionen; deres '
        "tal står i tabellen og figurerne nedenfor.</p>"
    )
    return "\n".join(out)


def _sorted(level: str, codes: Sequence[str]) -> list[str]:
    return sorted(codes, key=lambda c: report.danish_sort_key(geography.display_name(level, c)))


def _cell(status: str, row) -> str:
    # Block spans, not <br>: on a phone each piece is one row of the card's grid.
    text = report.status_html(status) + f'<span class="val">{_value_text(row)}</span>'
    if row is not None and row.comparison in _COMPARISON_TEXT and not bool(row.suppressed):
        css, symbol, words = _COMPARISON_TEXT[row.comparison]
        text += f'<span class="cmp {css}"><span aria-hidden="true">{symbol}</span> {words}</span>'
    return text


def _matrix(agreement, indicators, areas, status_of, value_of, available) -> str:
    """Areas × indicators: status and latest value, grouped by klynge."""
    years = {}
    for ind in indicators:
        found = [
            int(r.year) for (lv, _c, i), r in value_of.items() if i == ind.id and lv == "region"
        ]
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
            )
            for ind in indicators
        ]

    rows, classes = [row("region", areas["region"][0])], ["area-region"]
    members = geography.membership("sundhedsklynge")
    for klynge in _sorted("sundhedsklynge", areas["sundhedsklynge"]):
        rows.append(esc(geography.display_name("sundhedsklynge", klynge)))
        classes.append("klynge")
        rows.append(row("sundhedsklynge", klynge))
        classes.append("area-sundhedsklynge")
        kommuner = members.loc[members["area_code"] == klynge, "kommune_code"]
        for kommune in _sorted("kommune", [str(k) for k in kommuner]):
            rows.append(row("kommune", kommune))
            classes.append("area-kommune")
    caption = (
        "Status siden basisåret og seneste tal for hver indikator: regionen, og for hver "
        "sundhedsklynge klyngen og dens kommuner (en kommune i to klynger står under begge)"
    )
    legend = (
        '<p class="footnote">Status: ✓ Bedre = statistisk sikker ændring i den ønskede retning '
        "siden basisåret; = Uændret = ingen statistisk sikker ændring; ✗ Dårligere = statistisk "
        "sikker ændring mod den ønskede retning; ○ Kan ikke vurderes = for få målinger eller for "
        "få svar. ▼ Ringere / ▲ Bedre end resten af regionen: seneste måling, statistisk sikker "
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


def _spines(agreement, indicators, areas, status_of, value_of, region_name) -> str:
    """One dot chart per indicator: every kommune against the region, worst first."""
    out = [
        '<h2 id="kommuner">Kommunerne på hver indikator</h2>',
        "<p>Hver kommunes seneste tal med 95 pct.-konfidensinterval, den dårligste øverst. "
        f"Den lodrette linje er {esc(region_name)}, det grå bånd regionens interval. Formen "
        "viser, om kommunen ligger statistisk sikkert ringere (▼) eller bedre (▲) end resten af "
        "regionen; ◇ = ikke testet (registerindikatorer).</p>",
        '<div class="figures spines">',
    ]
    region_code = areas["region"][0]
    for ind in indicators:
        rows = [value_of.get(("kommune", c, ind.id)) for c in areas["kommune"]]
        rows = [r for r in rows if r is not None]
        if not rows:
            continue
        frame = pd.DataFrame(
            {
                "code": [r.area_code for r in rows],
                "label": [geography.area("kommune", r.area_code)["area_name"] for r in rows],
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
        region = value_of.get(("region", region_code, ind.id))
        reference = None
        if region is not None and not bool(region.suppressed):
            reference = (region_name, region.estimate, region.ci_low, region.ci_high)
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
                esc(geography.display_name("kommune", r.code)),
                _interval_text(value_of[("kommune", r.code, ind.id)]),
                esc(plots.COMPARISON_STYLES[r.comparison][0])
                if not r.suppressed
                else disclosure.SUPPRESSED_MARK,
                report.status_html(status_of.get(("kommune", r.code, ind.id))),
            ]
            for r in frame.itertuples()
        ]
        if reference is not None:
            body.insert(
                0,
                [
                    esc(region_name),
                    _interval_text(region),
                    "",
                    report.status_html(status_of.get(("region", region_code, ind.id))),
                ],
            )
        table = html_table(
            ["Område", "Andel", "Mod resten af regionen", "Status"],
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


def _method_note(agreement, manifest: dict) -> str:
    return (
        '<h2 id="metode">Sådan læses siden</h2>'
        f"<p><strong>Status</strong> sammenligner seneste måling med basisåret "
        f"{agreement.baseline_wave} (registerdata: {agreement.period_start - 1}) med en test på "
        "5 pct.-niveau; ✓ Bedre og ✗ Dårligere er i forhold til målsætningens ønskede retning. "
        "<strong>Ringere/bedre end resten af regionen</strong> sammenligner kommunen eller "
        "klyngen med resten af regionen i seneste måling (5 pct.-niveau), også i forhold til "
        "den ønskede retning. Intervallerne er 95 pct.-konfidensintervaller; Sundhedsprofilens "
        "tal er vægtede og designbaserede, registertallene (Wilson-intervaller) dækker hele "
        "befolkningen. Metoden står i hvert områdes brief.</p>"
        f"<p class='meta'>Programversion {esc(manifest.get('code_version', ''))}; data beregnet "
        f"{esc(manifest.get('created', ''))}.</p>"
    )


def report_join(items: list[str]) -> str:
    """Danish enumeration: "a, b og c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]
