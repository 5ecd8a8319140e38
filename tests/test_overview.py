"""Tests of analyse.publish.overview: the agreement's overview page and the status counts.

Expected values are read straight from the processed parquet files with pandas (not through
the module), so a wrong join, level or year in the overview would show.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from analyse.errors import ParameterError
from analyse.publish import overview, report
from analyse.reference import geography
from analyse.reference.catalogue import load_agreement

REGION = "1083"


def _text(markup: str) -> str:
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", markup))
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


@pytest.fixture(scope="module")
def page(small_processed) -> str:
    return overview.overview_html(small_processed.processed)


@pytest.fixture(scope="module")
def matrix(page) -> dict:
    """The area × indicator table: {row header text: [cell texts]} and the column headers."""
    table = page.split('<h2 id="tabel">')[1].split("</table>")[0]
    headers = [_text(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        head = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, flags=re.S)
        if head:
            rows.setdefault(
                _text(head.group(1)),
                [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)],
            )
    return {"headers": headers, "rows": rows, "html": table}


def test_status_counts_and_summary_sentence():
    counts = overview.status_counts(["bedre", "Uændret", None, "dårligere", "uændret", np.nan])
    assert counts == {"bedre": 1, "uændret": 2, "dårligere": 1, "kan ikke vurderes": 2}
    assert overview.summary_sentence(counts, baseline_year=2021) == (
        "Status for 6 indikatorer siden basisåret 2021: 1 bedre, 2 uændret, 1 dårligere og 2 "
        "kan ikke vurderes."
    )
    assert overview.summary_sentence(
        {"bedre": 1}, baseline_year=2021, area_name="Odense Kommune"
    ).startswith("Status for 1 indikator i Odense Kommune siden basisåret 2021: 1 bedre, 0 ")
    with pytest.raises(ParameterError, match="unknown status"):
        overview.status_counts(["better"])


def test_area_statuses_one_row_per_area_and_indicator(small_processed):
    agreement = load_agreement()
    codes = ["461", "825"]
    table = overview.area_statuses(small_processed.processed, agreement, "kommune", codes)
    indicators = overview.status_indicators(agreement)
    assert len(indicators) == 11
    assert len(table) == 22 and set(table["area_code"]) == set(codes)
    raw = pd.read_parquet(small_processed.path("register_status"))
    row = raw[
        (raw["area_level"] == "kommune")
        & (raw["area_code"] == "461")
        & (raw["breakdown"] == "total")
        & (raw["indicator"] == "employment_somatic")
    ].iloc[0]
    mine = table[(table["area_code"] == "461") & (table["indicator"] == "employment_somatic")]
    assert mine["status"].item() == row["status"]


def test_overview_rows_every_area_grouped_by_klynge(matrix, page):
    kommuner = [geography.display_name("kommune", k) for k in geography.members("region", REGION)]
    assert len(kommuner) == 22
    assert set(kommuner) <= set(matrix["rows"])
    assert list(matrix["rows"])[0] == "Region Syddanmark"
    klynger = geography.areas("sundhedsklynge")
    klynger = klynger[klynger["region_code"] == int(REGION)]
    for code in klynger["area_code"]:
        name = geography.display_name("sundhedsklynge", code)
        assert f'scope="rowgroup" role="rowheader">{html.escape(name)}</th>' in matrix["html"]
        assert name in matrix["rows"]
    # Area, the status counts, then the 11 indicators.
    assert matrix["headers"][:2] == ["Område", "Status i alt"] and len(matrix["headers"]) == 13
    assert (
        "Status for 11 indikatorer i Region Syddanmark siden basisåret 2021 (registerdata: 2023):"
        in page
    )


def test_the_baseline_of_a_register_only_agreement_is_the_year_before_its_period():
    from analyse.reference.catalogue import load_agreement

    # KL's vision is followed with register indicators only, 2024-2027: baseline 2023.
    assert overview.baseline_text(load_agreement("kl-sundhed-for-de-mange")) == "2023"
    # Syddanmark's status table holds survey (baseline wave 2021) and register indicators.
    assert overview.baseline_text(load_agreement("syddanmark-2024-2027")) == (
        "2021 (registerdata: 2023)"
    )


def test_overview_cells_show_status_word_and_latest_value(small_processed, matrix):
    processed = small_processed.processed
    agreement = load_agreement()
    status = pd.read_parquet(small_processed.path("status"))
    estimates = pd.read_parquet(processed / "estimates.parquet")
    column = 2 + overview.status_indicators(agreement).index("physically_active") - 1
    checked = 0
    for code in ("461", "479", "492"):
        name = geography.display_name("kommune", code)
        cell = matrix["rows"][name][column]
        word = status[
            (status["indicator"] == "physically_active")
            & (status["area_level"] == "kommune")
            & (status["area_code"] == code)
            & (status["breakdown"] == "total")
        ]["status"]
        expected_word = report.status_word(word.iloc[0] if len(word) else None)
        rows = estimates[
            (estimates["indicator"] == "physically_active")
            & (estimates["area_level"] == "kommune")
            & (estimates["area_code"] == code)
            & (estimates["breakdown"] == "total")
            & (estimates["year"].isin(agreement.kommune_waves))
        ].sort_values("year")
        latest = rows.iloc[-1]
        value = report.pct(latest["estimate"], suppressed=bool(latest["suppressed"]))
        assert cell.startswith(f"{report.status_symbol(expected_word)} {expected_word} {value}")
        checked += 1
    assert checked == 3


def test_overview_worse_or_better_than_the_region_follows_the_desired_direction(
    small_processed, matrix
):
    agreement = load_agreement()
    estimates = pd.read_parquet(small_processed.processed / "estimates.parquet")
    indicators = overview.status_indicators(agreement)
    kommuner = {str(k) for k in geography.members("region", REGION)}
    latest_year = max(agreement.kommune_waves)
    sure = estimates[
        (estimates["area_level"] == "kommune")
        & estimates["area_code"].isin(kommuner)
        & (estimates["breakdown"] == "total")
        & (estimates["year"] == latest_year)
        & estimates["indicator"].isin(indicators)
        & (estimates["vs_region_p"] < 0.05)
        & ~estimates["suppressed"]
    ]
    assert len(sure) >= 3  # enough statistically sure differences to test both words
    for row in sure.itertuples():
        direction = agreement.indicator(row.indicator).direction
        # Higher is worse for an indicator that should fall (e.g. daily smoking).
        worse = (row.vs_region_diff > 0) == (direction == "decrease")
        cell = matrix["rows"][geography.display_name("kommune", row.area_code)][
            1 + indicators.index(row.indicator)
        ]
        expected = "▼ Ringere end resten af regionen" if worse else "▲ Bedre end resten af regionen"
        assert cell.endswith(expected), (row.area_code, row.indicator, cell)


def test_overview_kort_fortalt_names_every_area_that_got_worse(small_processed, tmp_path):
    import shutil

    from analyse.cube import build as cube_build

    agreement = load_agreement()
    # At this scale (most cells hidden) hardly any area is surely worse: two are made so, in a
    # copy of the processed folder, besides those the data have.
    processed = tmp_path / "processed"
    shutil.copytree(small_processed.processed, processed)
    path = cube_build.table_path(processed, "status", agreement.id)
    table = pd.read_parquet(path)
    first = overview.status_indicators(agreement)[0]
    made = (
        (table["indicator"] == first)
        & (table["breakdown"] == "total")
        & table["area_code"].astype(str).isin(["461", REGION])
    )
    assert made.sum() == 2
    table.loc[made, "status"] = "dårligere"
    table.to_parquet(path)
    page = overview.overview_html(processed)
    frames = [
        pd.read_parquet(cube_build.table_path(processed, n, agreement.id))
        for n in ("status", "register_status")
    ]
    status = pd.concat(frames)
    klynger = geography.areas("sundhedsklynge")
    codes = {
        "region": {REGION},
        "sundhedsklynge": set(klynger.loc[klynger["region_code"] == int(REGION), "area_code"]),
        "kommune": {str(k) for k in geography.members("region", REGION)},
    }
    worse = status[
        (status["breakdown"] == "total")
        & (status["status"] == "dårligere")
        & status["indicator"].isin(overview.status_indicators(agreement))
        & np.array(
            [
                code in codes.get(lv, ())
                for lv, code in zip(status["area_level"], status["area_code"], strict=True)
            ]
        )
    ]
    section = page.split('<h2 id="kort">')[1].split("<h3>Statistisk sikkert")[0]
    items = {
        _text(m.group(1)): _text(m.group(2))
        for m in re.finditer(r"<li><strong>(.*?)</strong>: (.*?)</li>", section)
    }
    assert len(worse) >= 2
    for row in worse.itertuples():
        ind = agreement.indicator(row.indicator)
        label = next(k for k in items if k.startswith(ind.label))
        assert geography.display_name(row.area_level, row.area_code) in items[label]


def test_overview_has_a_dot_chart_and_its_numbers_per_indicator(page):
    charts = page.split('<h2 id="kommuner">')[1]
    assert charts.count("<figure") == 11
    assert charts.count('<details class="data">') == 11
    alts = re.findall(r'alt="([^"]+)"', charts)
    assert all(a.startswith("Punktdiagram: ") for a in alts)
    # Each data table lists the region and every kommune with an interval or the mark.
    first = charts.split("<details")[1].split("</details>")[0]
    assert first.count('<th scope="row"') == 23


def test_overview_rejects_a_folder_without_processed_data(tmp_path):
    with pytest.raises(ParameterError, match="no processed data"):
        overview.overview_html(tmp_path)
