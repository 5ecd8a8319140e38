"""Tests of analyse.publish.brief: the brief's content from the processed data (in-process, no kernel)."""

import html
import re

import numpy as np
import pandas as pd
import pytest

from analyse.errors import ParameterError
from analyse.publish import report
from analyse.publish.brief import NOT_APPLICABLE, Brief, report_join
from analyse.reference.catalogue import load_agreement
from analyse.stats.disclosure import SUPPRESSED_MARK


@pytest.fixture(scope="module")
def odense(small_processed):
    return Brief.open(small_processed.processed, area_level="kommune", area_code="461")


def _text(markup: str) -> str:
    """Visible text: tags and embedded images removed, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", markup))
    return re.sub(r"\s+", " ", html.unescape(text))


def test_header_names_area_agreement_waves_and_synthetic_mark(odense):
    header = odense.header()
    assert "Odense Kommune" in header
    assert "Sundhedsaftalen 2024-2027" in header
    assert "2010, 2013, 2017, 2021 og 2025" in header
    assert "Syntetiske data" in header


def test_status_table_has_every_objective_and_primary_indicator(odense):
    table = odense.status_table()
    text = _text(table)
    agreement = load_agreement()
    for objective in agreement.objectives:
        assert objective.text in text
        for ind_id in objective.indicators:
            assert agreement.indicator(ind_id).label in text
    # Danish formatting: decimal commas, "pct.", no English or missing-value leftovers.
    assert re.search(r"\d+,\d pct\.", table)
    assert not re.search(r"\bnan\b|None|NaN", _text(table))


def test_small_scale_cells_show_the_suppression_mark_not_numbers(small_processed):
    # Læsø (825) at scale 0.05 has only a handful of respondents: every survey number is hidden.
    brief = Brief.open(small_processed.processed, area_level="kommune", area_code="825")
    table = _text(brief.status_table())
    assert SUPPRESSED_MARK in table
    section = _text(brief.visions())
    assert "for få svar til at vise tallet" in section
    assert not re.search(r"\bnan\b|None", section)


def test_visions_have_sentences_figures_with_alt_text_and_no_nan(odense):
    html = odense.visions()
    assert html.count("<figure") >= 11
    assert all('alt="' in img and 'alt=""' not in img for img in re.findall(r"<img[^>]+>", html))
    text = _text(html)
    assert "Holder det nuværende niveau" in text or "for få" in text
    assert not re.search(r"\bnan\b|None|NaN", text)


def test_indicator_detail_and_vision_for_every_indicator(small_processed):
    brief = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    agreement = load_agreement()
    for ind_id in agreement.indicators:
        html = brief.indicator_detail(ind_id)
        assert not re.search(r"\bnan\b|None", _text(html)), ind_id
    for vision in agreement.visions:
        assert vision.title in _text(brief.vision(vision.id))


def test_indicator_detail_tables_read_as_danish_text(odense, small_processed):
    html = odense.indicator_detail("daily_smoking")
    # A suppressed cell shows one mark, not a mark for the value and one for the interval.
    cells = re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", html)
    assert SUPPRESSED_MARK in cells
    assert not [c for c in cells if c.count(SUPPRESSED_MARK) > 1]
    # The model's waves as an enumeration; the model table has real column headings.
    region = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    html = region.indicator_detail("daily_smoking")
    assert re.search(r"Målinger i modellen</th><td[^>]*>(\d{4}, )+\d{4} og \d{4}<", html)
    assert '<th scope="col" class=""></th>' not in html


def test_land_brief_has_no_comparison_with_itself(small_processed):
    brief = Brief.open(small_processed.processed, area_level="land", area_code="DK")
    assert "Hele landet" in brief.header()
    assert "resten af landet" not in _text(brief.visions())


def test_methods_names_the_rules_and_the_input_checksums(odense, small_processed):
    methods = odense.methods()
    assert "færre end 20 svar" in methods
    for name in small_processed.manifest["inputs"]:
        assert name in methods


def test_open_rejects_unknown_area_missing_data_and_bad_parameters(small_processed, tmp_path):
    with pytest.raises(ParameterError, match="unknown kommune code '999'"):
        Brief.open(small_processed.processed, area_level="kommune", area_code="999")
    with pytest.raises(ParameterError, match="no processed data"):
        Brief.open(tmp_path)
    with pytest.raises(ParameterError, match="confidence_level"):
        Brief.open(small_processed.processed, confidence_level=95)
    with pytest.raises(ParameterError, match="waves must be"):
        Brief.open(small_processed.processed, waves="2021;2025")
    brief = Brief.open(small_processed.processed)
    with pytest.raises(ParameterError, match="unknown vision"):
        brief.vision("nope")


def test_confidence_level_changes_the_intervals(small_processed):
    wide = Brief.open(
        small_processed.processed, area_level="region", area_code="1083", confidence_level=0.99
    )
    narrow = Brief.open(
        small_processed.processed, area_level="region", area_code="1083", confidence_level=0.9
    )
    est_w, est_n = wide.tables["estimates"], narrow.tables["estimates"]
    shown = est_w["estimate"].notna()
    assert (
        (est_w["ci_high"] - est_w["ci_low"])[shown] > (est_n["ci_high"] - est_n["ci_low"])[shown]
    ).all()


def test_register_intervals_follow_the_confidence_level(small_processed):
    from analyse.publish.brief import _at_level

    stored = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    register = stored.tables["register"]
    shown = register["estimate"].between(0, 1, inclusive="neither")
    assert shown.any()
    # Recomputing the stored 95 % Wilson intervals gives them back: both come from the
    # published (rounded) rate and the published n rounded to 10, never the exact counts
    # (issue #14), with limits rounded to 0.1 point.
    again = _at_level(register.assign(level=0.9), 0.95)
    for column in ("ci_low", "ci_high"):
        assert np.allclose(again.loc[shown, column], register.loc[shown, column], atol=1e-12)
    narrow = Brief.open(
        small_processed.processed, area_level="region", area_code="1083", confidence_level=0.9
    ).tables["register"]
    width = (narrow["ci_high"] - narrow["ci_low"])[shown]
    wide = (register["ci_high"] - register["ci_low"])[shown]
    # Limits are rounded to 0.001, so narrow widths can tie; from a 95 % width of 0.02 the
    # 90 % one is ≥ 0.02 · (1 − 1.645/1.960) = 0.0032 narrower, more than the rounding (0.002).
    assert (width <= wide + 1e-12).all()
    assert (width < wide)[wide >= 0.02].all() and (wide >= 0.02).sum() > 10


def test_kommune_table_uses_the_brief_level_and_danish_order(small_processed):
    brief = Brief.open(
        small_processed.processed, area_level="kommune", area_code="461", confidence_level=0.8
    )
    html = brief.indicator_detail("employment_somatic")  # register: a value for every kommune
    table = html.split("<h5>Kommunerne i")[1]
    # The kommune is the row header (th scope="row"), its share the first cell.
    rows = re.findall(r'<tr[^>]*><th scope="row"[^>]*>([^<]+)</th><td[^>]*>([^<]+)</td>', table)
    names = [name for name, _ in rows]
    assert names[0] == "Assens Kommune" and names[-1] == "Aabenraa Kommune"
    odense = dict(rows)["Odense Kommune"]
    latest = brief._latest(brief.agreement.indicator("employment_somatic"))
    assert latest["level"] == 0.8
    expected = f"({report.pct_number(latest['ci_low'])}–{report.pct_number(latest['ci_high'])})"
    assert odense.endswith(expected)


def test_footnote_says_which_intervals_follow_the_confidence_level(small_processed):
    default = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    assert "Intervaller er 95 pct.-konfidensintervaller." in _text(default.status_table())
    other = Brief.open(
        small_processed.processed, area_level="region", area_code="1083", confidence_level=0.9
    )
    text = _text(other.status_table())
    assert "Intervaller for andelene er 90 pct.-konfidensintervaller" in text
    assert "status, uddannelsesforskelle og udviklingsmodeller er beregnet med 95 pct." in text


def test_status_table_marks_gaps_that_do_not_exist_as_not_applicable(small_processed):
    from analyse.publish.brief import NOT_APPLICABLE

    brief = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    table = brief.status_table().split("</table>")[0]  # the status table, not the kommuner
    headers = [
        _text(h).strip().replace("\xad", "")
        for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)
    ]
    gap = headers.index("Uddannelsesforskel (D / SII)")
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = [
            _text(c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        ]
        if len(cells) == len(headers):
            rows[cells[0]] = cells
    youth = next(c for label, c in rows.items() if label.startswith("Dårligt mentalt helbred"))
    register = next(c for label, c in rows.items() if label.startswith("Borgere med somatisk"))
    adults = next(c for label, c in rows.items() if label.startswith("Ryger dagligt"))
    assert youth[gap] == youth[gap + 1] == NOT_APPLICABLE  # education is for 25+ only
    assert register[gap] == NOT_APPLICABLE
    assert adults[gap] != NOT_APPLICABLE
    # A region brief has no "rest of the region" to compare with; Denmark still is one.
    vs_region = headers.index("Mod resten af regionen")
    assert adults[vs_region] == NOT_APPLICABLE
    assert adults[vs_region + 1] != NOT_APPLICABLE
    assert f"{NOT_APPLICABLE} = ikke relevant" in _text(brief.status_table())


def test_status_table_klynge_status_spans_the_table(odense):
    table = odense.status_table()
    # A wrapping text across all columns, not an unbreakable number cell that widens a column.
    assert re.search(
        r'<td colspan="10"[^>]*>Sundhedsklyngernes årlige status på aktiviteterne: \d{4}: ', table
    )
    assert not re.search(r'<td class="num">\d{4}: ', table)


def test_report_join_danish_enumeration():
    assert report_join(["2010", "2013", "2017"]) == "2010, 2013 og 2017"
    assert report_join(["2025"]) == "2025"


# --- briefs that know their agreement's scope ------------------------------------------------


def test_kommune_brief_is_compared_with_its_klynge_region_and_country(small_processed):
    brief = Brief.open(small_processed.processed, "herning-sundhedspolitik", "kommune", "657")
    assert [level for level, _, _ in brief.comparisons] == ["sundhedsklynge", "region", "land"]
    header = _text(brief.header())
    assert "for Herning Kommune, 2024–2027" in header
    assert "udmøntes i 2015 via en 4-årig sundhedsstrategi" in header  # the agreement's note
    assert "Aftalen gælder" not in header  # inside the scope
    table = _text(brief.status_table())
    for heading in ("Mod resten af klyngen", "Mod resten af regionen", "Mod resten af landet"):
        assert heading in table
    # The kommune table lists the klynge's six kommuner, against the rest of the klynge.
    detail = brief.indicator_detail("long_sick_leave")
    section = detail.split("<h5>Kommunerne i Sundhedsklynge Midtjylland Vestklyngen")[1]
    names = re.findall(r'<tr[^>]*><th scope="row"[^>]*>([^<]+)</th>', section)
    assert names == [
        "Herning Kommune",
        "Holstebro Kommune",
        "Ikast-Brande Kommune",
        "Lemvig Kommune",
        "Ringkøbing-Skjern Kommune",
        "Struer Kommune",
    ]
    assert "Mod resten af klyngen" in section


def test_klynge_comparison_in_a_sentence_uses_the_klynge_table(small_processed):
    brief = Brief.open(small_processed.processed, "horsensklyngen-pejlemaerker", "kommune", "615")
    ind = brief.agreement.indicator("daily_smoking")
    latest = brief._latest(ind)
    versus = brief._versus(ind, latest, "sundhedsklynge", "midtjylland-horsensklyngen")
    rows = brief.tables["klynge_comparisons"]
    row = rows[(rows["indicator"] == "daily_smoking") & (rows["year"] == latest["year"])]
    if row.empty:  # hidden at the small scale: the sentence says so
        assert versus is None
    else:
        assert versus == (row.iloc[0]["diff"], row.iloc[0]["p"])
    sentences = " ".join(brief._sentences(ind))
    assert "resten af Sundhedsklynge Midtjylland Horsensklyngen" in sentences


def test_land_brief_of_the_national_vision_lists_the_klynger(small_processed):
    brief = Brief.open(small_processed.processed, "kl-sundhed-for-de-mange", "land", "DK")
    assert brief.comparisons == []
    detail = brief.indicator_detail("readmission_65")
    section = detail.split("<h5>Sundhedsklyngerne")[1]
    assert len(re.findall(r'<tr[^>]*><th scope="row"', section)) == 22
    klynge = Brief.open(
        small_processed.processed, "kl-sundhed-for-de-mange", "sundhedsklynge", "syddanmark-fyn"
    )
    assert [level for level, _, _ in klynge.comparisons] == ["region", "land"]
    # Register indicators: not compared with other areas (i.r., not a hidden number).
    assert "i.r." in klynge.status_table()


def test_area_outside_the_scope_says_whose_agreement_it_is(small_processed):
    brief = Brief.open(small_processed.processed, "horsensklyngen-pejlemaerker", "kommune", "461")
    assert "Aftalen gælder Sundhedsklynge Midtjylland Horsensklyngen" in _text(brief.header())


def test_context_indicators_are_shown_without_status(small_processed):
    brief = Brief.open(
        small_processed.processed,
        "horsensklyngen-pejlemaerker",
        "sundhedsklynge",
        "midtjylland-horsensklyngen",
    )
    text = _text(brief.visions())
    assert "Baggrund (indgår ikke i status):" in text
    assert "Langvarig sygdom (selvrapporteret)" in text
    assert "Valg af indikator:" in text  # the agreement's note on its chosen measures
    table = _text(brief.status_table())
    assert "Langvarig sygdom" not in table  # context, not followed up


def test_open_an_agreement_the_data_were_not_built_for(small_processed, tmp_path):
    path = tmp_path / "mit.yml"
    from analyse.run.agreements import write_skeleton

    write_skeleton(path, scope="kommune", areas=["657"])
    with pytest.raises(
        ParameterError, match=r"built without the agreement 'mit'.*analyse build --agreement"
    ):
        Brief.open(small_processed.processed, str(path), "kommune", "657")


def test_indicator_section_shows_the_pooled_forecast_and_the_progress_categories(
    small_processed,
):
    brief = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    trends = pd.read_parquet(small_processed.path("trends"))
    row = trends[(trends["indicator"] == "daily_smoking") & (trends["area_code"] == "1083")].iloc[0]
    # The sentence's value, interval and probability are the pooled forecast's columns.
    expected = report.projection_sentence(
        row["projected"],
        row["projected_pi_low"],
        row["projected_pi_high"],
        row["prob_desired_side"],
        int(row["n_waves"]),
        method=row["forecast_method"],
        **brief._reconcile_with(brief._status_row(brief.agreement.indicator("daily_smoking"))),
    )
    detail = _text(brief.indicator_detail("daily_smoking"))
    assert expected in detail
    assert "usikkerhedsinterval for en måling i 2027" in detail
    assert "Healthy People-kategori:" in detail
    assert "Fremskrivningsmodel" in detail
    # A register indicator with a catalogue target shows the target and the SDG category.
    register = _text(brief.indicator_detail("employment_somatic"))
    assert "Målet er 82,0 pct. i 2027" in register
    assert "SDG-kategori (Eurostat/FN):" in register
    methods = _text(brief.methods())
    assert "uden trend" in methods and "vægtet logistisk trendmodel" not in methods


def _cells(table: str) -> dict[str, list[str]]:
    """Status table rows: {indicator label: [cell texts after the row header]}."""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        head = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, flags=re.S)
        if head:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            rows[_text(head.group(1)).strip()] = [_text(c).strip() for c in cells]
    return rows


def test_header_opens_with_status_summary_links_and_a_distinct_h1(odense, small_processed):
    header = odense.header()
    assert "<h1>Odense Kommune: opfølgning på Sundhedsaftalen 2024-2027</h1>" in header
    assert header.startswith('<a class="skip-link" href="#status">')
    # The counts, read from the status tables by hand: one status per status-table indicator.
    agreement = load_agreement()
    wanted = [i for o in agreement.objectives for i in o.indicators]
    frames = [pd.read_parquet(small_processed.path(n)) for n in ("status", "register_status")]
    status = pd.concat(frames)
    status = status[
        (status["area_level"] == "kommune")
        & (status["area_code"] == "461")
        & (status["breakdown"] == "total")
        & status["indicator"].isin(wanted)
    ].set_index("indicator")["status"]
    words = [status.get(i, "kan ikke vurderes") for i in wanted]
    counts = {w: words.count(w) for w in ("bedre", "uændret", "dårligere", "kan ikke vurderes")}
    expected = (
        # Three of the 11 are register indicators, followed from the year before the period.
        f"Status for 11 indikatorer siden basisåret 2021 (registerdata: 2023): "
        f"{counts['bedre']} bedre, "
        f"{counts['uændret']} uændret, {counts['dårligere']} dårligere og "
        f"{counts['kan ikke vurderes']} kan ikke vurderes."
    )
    assert f'<p class="summary">{expected}</p>' in header
    for href in ("overview.html", "index.html", "kommune-odense.csv", "kommune-odense.xlsx"):
        assert f'href="{href}"' in header
    assert header.count('<a href="#') == 6  # contents: status, four visions, method


def test_status_table_baseline_year_per_row_and_register_rows_not_compared(odense):
    rows = _cells(odense.status_table().split("</table>")[0])
    smoking = rows["Ryger dagligt, 16 år og derover"]
    register = next(c for label, c in rows.items() if label.startswith("Borgere med somatisk"))
    # Cells: latest, baseline, change, direction, status, gap, gap status, vs region, vs land.
    assert smoking[1].endswith("2021") and register[1].endswith("2023")
    assert register[7:] == [NOT_APPLICABLE, NOT_APPLICABLE]
    assert NOT_APPLICABLE not in smoking[7:]
    # The sentences say the register indicators are not tested, not that answers are missing.
    section = _text(odense.visions())
    somatic = section.split("Borgere med somatisk sygdom")[1][:600]
    assert "kan ikke vises" not in somatic and "Til sammenligning er andelen i Region" in somatic


def test_gap_cell_d_and_sii_have_one_sign_in_table_figure_and_footnote(small_processed):
    brief = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    inequality = pd.read_parquet(small_processed.processed / "inequality.parquet")
    rows = _cells(brief.status_table().split("</table>")[0])
    checked = 0
    for label, ind_id, sign in (
        ("Ryger dagligt, 16 år og derover", "daily_smoking", -1),  # should fall: SII negated
        (
            "Fysisk aktive (opfylder WHO's minimumsanbefaling), 16 år og derover",
            "physically_active",
            1,
        ),
    ):
        row = inequality[
            (inequality["indicator"] == ind_id)
            & (inequality["area_level"] == "region")
            & (inequality["area_code"] == "1083")
            & (inequality["dimension"] == "education")
            & (inequality["year"] == 2025)
        ].iloc[0]
        if pd.isna(row["d"]) or pd.isna(row["sii"]):
            continue
        expected = f"{report.pp(row['d'], unit=False)} / {report.pp(sign * row['sii'], unit=False)}"
        assert rows[label][5] == expected
        checked += 1
    assert checked >= 1
    assert "Begge har samme fortegn" in _text(brief.status_table())
    # The SII figure's numbers (its data table) carry the table's sign too.
    visions = brief.visions()
    sii_table = visions.split("Tallene bag figuren: Uddannelsesforskel over tid (SII)")[1]
    sii_table = sii_table.split("</table>")[0]
    smoking = inequality[
        (inequality["indicator"] == "daily_smoking")
        & (inequality["area_level"] == "region")
        & (inequality["area_code"] == "1083")
        & (inequality["dimension"] == "education")
        & (inequality["year"] == 2025)
    ].iloc[0]
    if pd.notna(smoking["sii"]):
        assert report.pp(-smoking["sii"], unit=False) in _text(sii_table)


def test_worse_off_sii_takes_the_sign_of_d():
    from analyse.publish.brief import worse_off_sii

    # healthequal's SII is P(most educated) − P(least educated). For daily smoking (should
    # fall) a negative SII means the least educated smoke more, i.e. are worse off: +.
    assert worse_off_sii(-0.09, "decrease") == 0.09
    assert worse_off_sii(0.28, "increase") == 0.28  # physically active: more among educated
    with pytest.raises(ParameterError, match="direction"):
        worse_off_sii(0.1, "up")


def test_region_brief_lists_its_kommuner_with_status_counts(small_processed, odense):
    region = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    table = region.status_table().split("<h3>Kommunerne i Region Syddanmark</h3>")[1]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        head = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, flags=re.S)
        if head:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            rows[_text(head.group(1)).strip()] = [int(_text(c)) for c in cells]
    assert len(rows) == 22 and all(sum(c) == 11 for c in rows.values())
    assert rows["Odense Kommune"] == list(odense.status_counts().values())
    assert '<a href="kommune-odense.html">Odense Kommune</a>' in table
    assert "<h3>Kommunerne i" not in odense.status_table()  # a kommune lists no members


def test_every_figure_has_its_numbers_in_a_details_table(odense):
    visions = odense.visions()
    assert visions.count("<figure") == visions.count('<details class="data">') >= 11
    assert all(
        alt.endswith("Tallene med konfidensintervaller står i tabellen under figuren.")
        for alt in re.findall(r'alt="([^"]+)"', visions)
    )
    first = visions.split('<details class="data">')[1].split("</details>")[0]
    assert re.search(r"\d+,\d pct\. \(\d+,\d–\d+,\d\)", _text(first))
    # Each vision heading is an anchor of the contents; the indicator sections are labelled.
    assert visions.count('<h2 class="vision" id="vision-') == 4
    assert visions.count('<section class="indicator" aria-labelledby="indikator-') == 11


@pytest.mark.parametrize("confidence_level", [0.8, 0.9, 0.99])
def test_every_section_renders_at_each_allowed_confidence_level(small_processed, confidence_level):
    """The parameter comment allows 0.8, 0.9, 0.95 and 0.99. The shares' intervals follow the
    level; status and change sentences keep the build's level (their p-values were judged at
    it), so a sentence never contradicts the status column (this crashed at 0.9 before)."""
    for level, code in (("kommune", "461"), ("region", "1083")):
        brief = Brief.open(
            small_processed.processed,
            area_level=level,
            area_code=code,
            confidence_level=confidence_level,
        )
        # visions() writes every indicator's sentences (the vision notebooks' indicator_detail
        # uses the same sentences; they run at 0.9 in test_notebooks).
        parts = [brief.header(), brief.status_table(), brief.visions(), brief.methods()]
        text = _text("".join(parts))
        assert not re.search(r"\bnan\b|None|NaN", text)
        percent = report.number(confidence_level * 100)
        assert f"Intervaller for andelene er {percent} pct.-konfidensintervaller" in text
        assert "beregnet med 95 pct.-konfidensintervaller" in text


def test_change_sentences_agree_with_the_status_at_another_level(small_processed):
    # At 0.9 some changes with 0.05 <= p < 0.10 would read as significant if judged at the
    # brief's level; the status column (judged at the build's 0.95) says "uændret".
    status = __import__("pandas").read_parquet(small_processed.path("status"))
    between = status[
        (status["breakdown"] == "total")
        & (status["status"] == "uændret")
        & status["p_value"].between(0.05, 0.10)
    ]
    assert len(between) > 0  # the case exists in the data
    row = between.iloc[0]
    brief = Brief.open(
        small_processed.processed,
        area_level=row["area_level"],
        area_code=row["area_code"],
        confidence_level=0.9,
    )
    sentences = brief._sentences(brief.agreement.indicator(row["indicator"]))
    assert "Udviklingen er ikke statistisk sikker." in sentences[0]


def test_open_rejects_an_unknown_wave_listing_the_waves(small_processed):
    with pytest.raises(ParameterError) as err:
        Brief.open(small_processed.processed, waves="2019,2021")
    assert str(err.value) == (
        "wave(s) 2019 are not in the processed data; the waves are 2010, 2013, 2017, 2021, "
        "2023, 2025"
    )


def test_unknown_area_lists_the_valid_codes(small_processed):
    with pytest.raises(ParameterError) as err:
        Brief.open(small_processed.processed, area_level="region", area_code="1099")
    assert "1081 (Region Nordjylland)" in str(err.value)
    with pytest.raises(ParameterError) as err:
        Brief.open(small_processed.processed, area_level="kommune", area_code="999")
    assert "101, 147, 151" in str(err.value) and "860" in str(err.value)


def test_weighting_note_claims_calibration_only_for_checked_waves(small_processed):
    brief = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    assert "Alle tal er vægtede med kalibreringsvægte" in _text(brief.methods())
    flagged = [dict(w) for w in brief.manifest["weights"]]
    for record in flagged:
        if record["year"] == 2021:
            record["problems"] = ["constant", "sum"]
    brief.manifest = {**brief.manifest, "weights": flagged}
    text = _text(brief.methods())
    assert "Alle tal er vægtede med kalibreringsvægte" not in text
    assert "I 2021 er alle vægte ens, så tallene for 2021 er uvægtede tal" in text
    assert "Tallene for 2010, 2013, 2017, 2023 og 2025 er vægtede med kalibreringsvægte" in text


def test_header_links_to_the_brief_s_own_csv_and_excel(odense):
    header = odense.header()
    assert 'href="kommune-odense.xlsx"' in header and 'href="kommune-odense.csv"' in header


def test_inequality_table_shows_par_persons_rounded_to_10(small_processed):
    """Issue #14: PAR is an estimated number of people; it is shown rounded like any count."""
    brief = Brief.open(small_processed.processed, area_level="land", area_code="DK")
    shown = []
    for ind in brief.agreement.indicators_by_source("survey"):
        detail = brief.indicator_detail(ind.id)
        if "<h5>Uddannelsesforskelle" not in detail:
            continue
        table = detail.split("<h5>Uddannelsesforskelle")[1].split("</table>")[0]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)[1:]:
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
            if len(cells) == 6 and cells[5].strip() not in ("", "–"):
                shown.append(int(cells[5].replace(".", "")))
    assert shown and all(value % 10 == 0 for value in shown), shown
