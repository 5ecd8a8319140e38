"""The brief's section of model-based companion estimates (``model_estimates.parquet``).

A kommune's brief shows the model-based (Fay–Herriot) estimate of an indicator beside the
direct one only where the direct estimate of the latest wave is suppressed or imprecise (the
``show`` column, decided in :mod:`analyse.cube.smallarea` by ``Rules.model_max_cv`` and
``Rules.model_max_half_width``), and
always with :data:`MODEL_LABEL`. Status, changes and trends stay on the direct estimates;
nothing else in the brief reads the model table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from analyse.cube.build import table_path
from analyse.publish import report
from analyse.publish.html import esc, html_table
from analyse.stats import disclosure

#: The label every model-based number carries (issue 19: exactly this text).
MODEL_LABEL = (
    "modelbaseret skøn — forventet ud fra befolkningens sammensætning; viser ikke lokale ændringer"
)
#: ``Mål`` of the model-based rows in a brief's CSV/Excel export.
MODEL_MEASURE = "Modelbaseret skøn"
SECTION_ID = "modelskoen"


def read_model_estimates(processed: Path, area_level: str, area_code: str) -> pd.DataFrame:
    """The area's rows of the model table (empty for a build without one, or a non-kommune)."""
    path = table_path(processed, "model_estimates")
    if area_level != "kommune" or not path.exists():
        return pd.DataFrame()
    return pq.read_table(
        path, filters=[("area_level", "=", "kommune"), ("area_code", "=", str(area_code))]
    ).to_pandas()


def shown_model_estimates(brief) -> list[tuple]:
    """(indicator, latest direct row, model row) for every survey indicator of the brief's
    målsætninger whose latest direct measurement for the kommune (total) is suppressed or imprecise and has
    a shown model estimate of the same wave (the ``show`` column), in the agreement's order.
    The brief's section and its CSV/Excel export both show exactly these."""
    table = read_model_estimates(brief.processed, brief.level_name, brief.code)
    if table.empty:
        return []
    table = table[table["show"] & (table["breakdown"] == "total")]
    out = []
    agreement = brief.agreement
    # The indicators of the målsætninger, in the brief's order (not the extra comparison
    # indicators, which only the vision notebooks show).
    ids = [i for v in agreement.visions for o in v.objectives for i in o.indicators]
    for ind in (agreement.indicator(i) for i in dict.fromkeys(ids)):
        if ind.source != "survey":
            continue
        row = brief.latest(ind)
        if row is None:
            continue
        match = table[(table["indicator"] == ind.id) & (table["year"] == int(row["year"]))]
        if not match.empty:
            out.append((ind, row, match.iloc[0]))
    return out


def indicator_label(ind) -> str:
    """The indicator's label with a capital and its population (once)."""
    label = ind.label[:1].upper() + ind.label[1:]
    if ind.population.label not in label:
        label += f" ({ind.population.label})"
    return label


def model_section(brief) -> str:
    """HTML of the section for a :class:`analyse.publish.brief.Brief` ("" when nothing to show):
    one row per entry of :func:`shown_model_estimates`."""
    rows, level = [], 0.95
    for ind, direct_row, model in shown_model_estimates(brief):
        year = int(model["year"])
        level = float(model["level"])
        hidden = bool(direct_row["suppressed"])
        direct = report.with_interval(
            report.pct(direct_row["estimate"], suppressed=hidden),
            report.ci(direct_row["ci_low"], direct_row["ci_high"], suppressed=hidden),
        )
        modelled = (
            report.with_interval(
                report.pct(model["estimate"]), report.ci(model["ci_low"], model["ci_high"])
            )
            + f'<br><span class="meta">{esc(MODEL_LABEL)}</span>'
        )
        rows.append([esc(indicator_label(ind)), str(year), direct, modelled])
    if not rows:
        return ""
    percent = report.number(level * 100, 0)
    rules = brief.manifest.get("rules", {})
    defaults = disclosure.Rules()
    cv = rules.get("model_max_cv", defaults.model_max_cv)
    half = rules.get("model_max_half_width", defaults.model_max_half_width)
    return (
        f'<h2 id="{SECTION_ID}">Modelbaserede skøn, hvor målingen er usikker</h2>'
        f"<p>For nogle indikatorer er målingen for {esc(brief.name)} skjult eller meget usikker, "
        "fordi der er få svar. Her vises et modelbaseret skøn ved siden af målingen. Skønnet "
        "bygger på kommunens befolkningssammensætning (køn, alder, uddannelse), kommunens "
        "størrelse og kommunens samlede niveau for alle aldre, og kommunerne i regionen giver "
        "tilsammen regionens måling. Det viser, hvad man kan forvente ud fra befolkningen, og "
        "kan ikke vise en lokal udvikling, der afviger fra det. Status, ændringer og udvikling "
        "bygger derfor kun på målingerne.</p>"
        + html_table(
            ["Indikator", "År", "Måling", "Modelbaseret skøn"],
            rows,
            numeric={1, 2, 3},
            caption=f"Målinger og modelbaserede skøn for {esc(brief.name)}",
        )
        + '<p class="footnote">Skønnet vises kun, hvor målingen er skjult eller usikker '
        f"(variationskoefficient over {report.number(cv * 100, 0)} pct. eller et interval på "
        f"mere end ±{report.number(half * 100, 0)} procentpoint), og ikke hvor skønnet ligger "
        "længere fra målingen end målingens egen usikkerhed. "
        f"Skønnets interval er et {percent} pct.-interval. {esc(disclosure.SUPPRESSED_FOOTNOTE)}"
        "</p>"
    )
