"""Danish Styler tables of the analysis notebooks: formatting, suppression mark, design caption,
internal banner, and figures that follow their table."""

import numpy as np
import pandas as pd

from analyse.publish import figures, tables


def _estimates(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "indicator": "daily_smoking",
            "year": [2021, 2021],
            "area_level": "kommune",
            "area_code": "461",
            "breakdown": "sex",
            "group": ["Mænd", "Kvinder"],
            "estimate": [0.2134, np.nan],
            "se": [0.01, np.nan],
            "ci_low": [0.1912, np.nan],
            "ci_high": [0.2368, np.nan],
            "n": pd.array([1230, pd.NA], dtype="Int64"),
            "df": 100,
            "method": "taylor-logit",
            "level": 0.95,
            "suppressed": [False, True],
            "suppression_reason": [pd.NA, "færre end 20 svar"],
            "source": "mikrodata",
        }
    )
    return frame.assign(**changes)


def test_estimates_table_is_danish_with_the_suppression_mark_and_the_design():
    styler = tables.estimates_table(_estimates())
    shown = styler.data
    assert list(shown.columns) == [
        "År",
        "Gruppe",
        "Andel (pct.)",
        "Konfidensinterval",
        "Antal svar",
    ]
    assert shown.iloc[0].tolist() == ["2021", "Mænd", "21,3", "19,1–23,7", "1.230"]
    assert shown.iloc[1].tolist()[2:] == ["–", "–", "–"]
    html = styler.to_html()
    assert "kalibreringsvægte" in html and "strata: kommune × bølge" in html
    assert "95 pct.-konfidensintervaller" in html and "svyciprop" in html
    assert "Kun til intern brug" not in html


def test_internal_tables_and_figures_carry_the_banner():
    html = tables.estimates_table(_estimates(), internal=True).to_html()
    assert "Kun til intern brug — må ikke offentliggøres" in html
    assert tables.Banner(True)._repr_html_().count("Kun til intern brug") == 1
    assert tables.Banner(False)._repr_html_() == ""
    chart = figures.estimates_figure(_estimates(), internal=True)
    assert "Kun til intern brug" in chart.alt
    assert "Kun til intern brug" in chart._repr_html_()  # drawn in the SVG as real text


def test_same_table_same_html_and_a_changed_table_changes_table_and_figure():
    a, b = _estimates(), _estimates(estimate=[0.25, np.nan], ci_high=[0.27, np.nan])
    assert tables.estimates_table(a).to_html() == tables.estimates_table(a).to_html()
    assert tables.estimates_table(a).uuid != tables.estimates_table(b).uuid
    assert figures.estimates_figure(a)._repr_html_() != figures.estimates_figure(b)._repr_html_()


def test_breakdown_label_in_danish():
    assert tables.breakdown_label("sex,education") == "køn og uddannelse"
    assert tables.breakdown_label("labour_market") == "arbejdsmarkedstilknytning"


def test_share_titles_read_as_danish():
    from analyse.publish.tables import share_title

    assert share_title("total") == "Andel i alt"  # not "Andel efter I alt"
    assert share_title("sex") == "Andel efter køn"
    assert share_title("sex,education") == "Andel efter køn og uddannelse"
