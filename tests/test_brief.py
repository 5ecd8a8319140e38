"""Tests of analyse.publish.brief: the brief's content from the processed data (in-process, no kernel)."""

import html
import re

import numpy as np
import pytest

from analyse.errors import ParameterError
from analyse.publish import report
from analyse.publish.brief import Brief, report_join
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
    assert "Hvis udviklingen fortsætter" in text or "for få" in text
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
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert SUPPRESSED_MARK in cells
    assert not [c for c in cells if c.count(SUPPRESSED_MARK) > 1]
    # The model's waves as an enumeration; the model table has real column headings.
    region = Brief.open(small_processed.processed, area_level="region", area_code="1083")
    html = region.indicator_detail("daily_smoking")
    assert re.search(r"Målinger i modellen</td><td[^>]*>(\d{4}, )+\d{4} og \d{4}<", html)
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
    # Recomputing the stored 95 % Wilson intervals from p and the binomial SE gives them back:
    # the exact denominator p(1 − p)/se² is recovered although the shown n is rounded to 10.
    again = _at_level(register.assign(level=0.9), 0.95)
    for column in ("ci_low", "ci_high"):
        assert np.allclose(again.loc[shown, column], register.loc[shown, column], atol=1e-12)
    narrow = Brief.open(
        small_processed.processed, area_level="region", area_code="1083", confidence_level=0.9
    ).tables["register"]
    width = (narrow["ci_high"] - narrow["ci_low"])[shown]
    assert (width < (register["ci_high"] - register["ci_low"])[shown]).all()


def test_kommune_table_uses_the_brief_level_and_danish_order(small_processed):
    brief = Brief.open(
        small_processed.processed, area_level="kommune", area_code="461", confidence_level=0.8
    )
    html = brief.indicator_detail("employment_somatic")  # register: a value for every kommune
    table = html.split("<h5>Kommunerne i")[1]
    rows = re.findall(r"<tr[^>]*><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>", table)
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
    table = brief.status_table()
    headers = [_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
    gap = headers.index("Uddannelsesforskel (D / SII)")
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
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
    assert f"{NOT_APPLICABLE} = ikke relevant" in _text(table)


def test_status_table_klynge_status_spans_the_table(odense):
    table = odense.status_table()
    # A wrapping text across all columns, not an unbreakable number cell that widens a column.
    assert re.search(
        r'<td colspan="10">Sundhedsklyngernes årlige status på aktiviteterne: \d{4}: ', table
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
    names = re.findall(r"<tr[^>]*><td[^>]*>([^<]+)</td>", section)
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
    assert len(re.findall(r"<tr[^>]*><td", section)) == 22
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
