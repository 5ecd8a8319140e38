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
