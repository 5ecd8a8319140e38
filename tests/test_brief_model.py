"""The brief's model-based section (analyse.publish.smallarea): shown only where the direct
estimate is suppressed or imprecise, always labelled, never in status, changes or trends."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from analyse.publish.brief import Brief
from analyse.publish.smallarea import MODEL_LABEL
from analyse.reference.catalogue import load_agreement
from analyse.stats.disclosure import SUPPRESSED_MARK

LABEL = (
    "modelbaseret skøn — forventet ud fra befolkningens sammensætning; viser ikke lokale ændringer"
)


@pytest.fixture(scope="module")
def shown(small_processed) -> pd.DataFrame:
    """Shown model estimates of the latest wave for the indicators of the målsætninger."""
    agreement = load_agreement("syddanmark-2024-2027")
    ids = {i for v in agreement.visions for o in v.objectives for i in o.indicators}
    table = pd.read_parquet(small_processed.path("model_estimates"))
    return table[
        table["show"]
        & (table["breakdown"] == "total")
        & (table["year"] == 2025)
        & table["indicator"].isin(ids)
    ]


@pytest.fixture(scope="module")
def kommune(small_processed, shown):
    # The kommune with the most shown model estimates in the latest wave.
    code = shown["area_code"].value_counts().index[0]
    return Brief.open(small_processed.processed, area_level="kommune", area_code=code)


def test_the_label_is_exactly_the_agreed_text():
    assert MODEL_LABEL == LABEL


def test_every_shown_model_estimate_is_in_the_brief_with_its_label(kommune, shown):
    markup = str(kommune.model_estimates())
    text = html.unescape(markup)
    mine = shown[shown["area_code"] == kommune.code]
    assert len(mine) > 0
    assert text.count(LABEL) == len(mine)
    body = text.split("<tbody", 1)[1]
    assert body.count("<tr") == len(mine)
    for row in mine.itertuples():
        indicator = kommune.agreement.indicator(row.indicator)
        value = f"{100 * row.estimate:.1f}".replace(".", ",") + " pct."
        low = f"{100 * row.ci_low:.1f}".replace(".", ",")
        high = f"{100 * row.ci_high:.1f}".replace(".", ",")
        assert f"{value} ({low}–{high})" in text, row.indicator
        assert indicator.label[1:] in text
    # A suppressed direct estimate stays hidden beside its model estimate.
    if mine["direct_suppressed"].any():
        assert f">{SUPPRESSED_MARK}<" in markup


def test_status_changes_and_trends_never_show_model_estimates(kommune):
    for section in (kommune.status_table(), kommune.visions()):
        assert LABEL not in html.unescape(str(section))


def test_no_model_section_outside_a_kommune(small_processed):
    region = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    assert str(region.model_estimates()) == ""


def test_nothing_is_shown_where_the_direct_estimate_is_precise(small_processed, shown):
    """Odense (large) has precise totals: no row unless the table says show."""
    brief = Brief.open(small_processed.processed, area_level="kommune", area_code="461")
    expected = len(shown[shown["area_code"] == "461"])
    assert html.unescape(str(brief.model_estimates())).count(LABEL) == expected


def test_the_batch_renders_the_labelled_section(small_run):
    """The rendered Odense brief of the session's batch run (also the page the browser tests
    check with axe) has the section: at the test scale several of its totals are suppressed."""
    page = html.unescape((small_run.out / "kommune-odense.html").read_text(encoding="utf-8"))
    assert 'id="modelskoen"' in page
    assert LABEL in page


def test_the_export_has_exactly_the_brief_s_model_estimates(kommune, shown):
    from analyse.publish import export

    table = export.published_values(kommune)
    rows = table[table["Mål"] == "Modelbaseret skøn"]
    mine = shown[shown["area_code"] == kommune.code]
    assert len(rows) == len(mine) > 0
    assert (rows["Vurdering"] == LABEL).all()
    page = html.unescape(str(kommune.model_estimates()))
    for row in rows.itertuples():
        value = f"{row.Værdi:.1f}".replace(".", ",")
        low = f"{row._9:.1f}".replace(".", ",")
        high = f"{row._10:.1f}".replace(".", ",")
        assert f"{value} pct. ({low}–{high})" in page
