"""Tests of analyse.publish.plots: Danish axes, gaps for suppressed points, deterministic HTML output."""

import base64
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analyse.errors import ParameterError
from analyse.publish import plots
from analyse.stats.disclosure import SUPPRESSED_MARK, SUPPRESSED_TEXT

MINUS = "\u2212"
WAVES = [2010, 2013, 2017, 2021, 2023, 2025]


def trend_series(suppress_odense_2017=True):
    rows = []
    for label, start in (("Odense", 0.128), ("Region Syddanmark", 0.12), ("Hele landet", 0.115)):
        for i, year in enumerate(WAVES):
            if year == 2023 and label != "Hele landet":
                continue  # the national-only wave: not measured, not a gap
            estimate = start + 0.01 * i
            rows.append(
                {
                    "label": label,
                    "year": year,
                    "estimate": estimate,
                    "ci_low": estimate - 0.015,
                    "ci_high": estimate + 0.015,
                    "suppressed": suppress_odense_2017 and label == "Odense" and year == 2017,
                }
            )
    return pd.DataFrame(rows)


def gradient_groups():
    return pd.DataFrame(
        {
            "group": [
                "Grundskole",
                "Gymnasial eller erhvervsfaglig",
                "Kort videregående",
                "Mellemlang videregående",
                "Lang videregående",
            ],
            "estimate": [0.251, 0.20, 0.17, 0.15, 0.105],
            "ci_low": [0.21, 0.18, 0.12, 0.13, 0.08],
            "ci_high": [0.29, 0.22, 0.22, 0.17, 0.13],
            "suppressed": [False, False, True, False, False],
        }
    )


def sii_series():
    return pd.DataFrame(
        {
            "year": [2010, 2013, 2017, 2021, 2025],
            "sii": [-0.082, -0.09, -0.07, -0.05, -0.06],
            "ci_low": [-0.10, -0.11, -0.09, -0.07, -0.08],
            "ci_high": [-0.06, -0.07, -0.05, 0.01, -0.04],
        }
    )


def line(fig: Figure, label: str):
    (ax,) = fig.axes
    return next(ln for ln in ax.get_lines() if ln.get_label() == label)


# ---------------------------------------------------------------------------------------------
# trend_chart


def test_trend_chart_suppressed_point_is_a_gap_not_interpolated():
    fig = plots.trend_chart(trend_series(), title="Dårligt mentalt helbred", baseline_year=2021)
    odense = line(fig, "Odense")
    x, y = np.asarray(odense.get_xdata()), np.asarray(odense.get_ydata(), dtype=float)
    assert list(x) == [2010, 2013, 2017, 2021, 2025]
    assert np.isnan(y[2]) and np.isfinite(y[[0, 1, 3, 4]]).all()
    assert y[0] == pytest.approx(12.8)  # drawn in percent
    # the unmeasured 2023 wave of the region is joined, not a gap
    region = np.asarray(line(fig, "Region Syddanmark").get_ydata(), dtype=float)
    assert np.isfinite(region).all()
    texts = [t.get_text() for t in fig.texts] + [fig.get_supxlabel()]
    assert any("Manglende punkter: for få svar til at vise tallet." in t for t in texts)


def test_trend_chart_suppressed_value_is_not_drawn_even_if_present():
    series = trend_series()
    series.loc[series["suppressed"], "estimate"] = 0.9  # must never appear
    fig = plots.trend_chart(series, title="T")
    assert not np.any(np.isclose(np.asarray(line(fig, "Odense").get_ydata(), float), 90.0))


def test_trend_chart_axes_danish_real_years_and_baseline():
    fig = plots.trend_chart(trend_series(), title="T", baseline_year=2021, note="COVID-19-note")
    (ax,) = fig.axes
    assert list(ax.get_xticks()) == WAVES  # ticks at the waves, real spacing
    assert ax.get_ylabel() == "Andel (pct.)" and ax.get_xlabel() == "År"
    formatter = ax.yaxis.get_major_formatter()
    assert formatter(12.5, 0) == "12,5" and formatter(20.0, 0) == "20"
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all("." not in t for t in labels)
    assert ax.get_ylim()[0] == 0
    assert any(t.get_text() == "Basisår" for t in ax.texts)
    assert "COVID-19-note" in fig.get_supxlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Odense", "Region Syddanmark", "Hele landet"]


def test_trend_chart_single_wave_and_baseline_outside(recwarn):
    one = trend_series(False).query("year == 2025")
    fig = plots.trend_chart(one, title="T", baseline_year=2021)
    plots.figure_html(fig, alt="x")
    assert not [w for w in recwarn if "constrained_layout" in str(w.message)]
    assert not any(t.get_text() == "Basisår" for t in fig.axes[0].texts)


def test_trend_chart_series_differ_by_more_than_colour():
    fig = plots.trend_chart(trend_series(False), title="T")
    lines = [line(fig, label) for label in ("Odense", "Region Syddanmark", "Hele landet")]
    assert len({ln.get_marker() for ln in lines}) == 3
    assert len({str(ln.get_linestyle()) for ln in lines}) == 3
    assert [ln.get_color() for ln in lines] == list(plots.OKABE_ITO[:3])


def test_trend_chart_size_and_fonts():
    fig = plots.trend_chart(trend_series(False), title="T")
    width, height = fig.get_size_inches()
    assert width == 7.0 and height == pytest.approx(3.5)
    (ax,) = fig.axes
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert min(sizes) >= 9


def test_trend_chart_missing_columns_and_bad_scale():
    with pytest.raises(ParameterError, match="'ci_low'"):
        plots.trend_chart(trend_series().drop(columns="ci_low"), title="T")
    percent = trend_series().assign(estimate=lambda f: f["estimate"] * 100)
    with pytest.raises(ParameterError, match="0-1 scale"):
        plots.trend_chart(percent, title="T")
    with pytest.raises(ParameterError, match="no rows"):
        plots.trend_chart(trend_series().iloc[0:0], title="T")
    with pytest.raises(ParameterError, match="title"):
        plots.trend_chart(trend_series(), title=" ")


def test_trend_chart_input_not_modified():
    series = trend_series()
    before = series.copy()
    plots.trend_chart(series, title="T")
    pd.testing.assert_frame_equal(series, before)


# ---------------------------------------------------------------------------------------------
# gradient_chart and sii_chart


def test_gradient_chart_suppressed_group_has_mark_and_no_bar():
    fig = plots.gradient_chart(gradient_groups(), title="Daglig rygning efter uddannelse")
    (ax,) = fig.axes
    bars = ax.patches
    assert len(bars) == 4
    assert sorted(round(b.get_x() + b.get_width() / 2) for b in bars) == [0, 1, 3, 4]
    assert [t.get_text() for t in ax.texts if t.get_position()[0] == 2] == [SUPPRESSED_MARK]
    assert "25,1" in [t.get_text() for t in ax.texts]
    assert SUPPRESSED_TEXT in fig.get_supxlabel()
    assert ax.get_xticklabels()[1].get_text() == "Gymnasial eller\nerhvervsfaglig"


def test_gradient_chart_missing_column():
    with pytest.raises(ParameterError, match="'group'"):
        plots.gradient_chart(gradient_groups().drop(columns="group"), title="T")


def test_sii_chart_percentage_points_minus_sign_and_zero_line():
    fig = plots.sii_chart(sii_series(), title="Ulighed i daglig rygning")
    (ax,) = fig.axes
    drawn = np.asarray(line(fig, "SII").get_ydata(), float)
    assert drawn[0] == pytest.approx(-8.2)
    assert any(list(ln.get_ydata()) == [0, 0] for ln in ax.get_lines())  # axhline(0)
    assert ax.yaxis.get_major_formatter()(-2.5, 0) == f"{MINUS}2,5"
    assert ax.get_ylabel() == "SII (procentpoint)"
    with pytest.raises(ParameterError, match="'sii'"):
        plots.sii_chart(sii_series().drop(columns="sii"), title="T")


# ---------------------------------------------------------------------------------------------
# figure_html and alt texts


def test_figure_html_img_alt_and_svg_data_uri():
    fig = plots.trend_chart(trend_series(), title="Mentalt helbred")
    text = plots.figure_html(fig, alt='Linjediagram "T" & mere', caption="Kilde: Sundhedsprofilen")
    assert text.startswith('<figure class="chart"><img src="data:image/svg+xml;base64,')
    assert 'alt="Linjediagram &quot;T&quot; &amp; mere"' in text
    assert 'width="672"' in text and 'style="max-width:100%;height:auto"' in text
    assert text.endswith("<figcaption>Kilde: Sundhedsprofilen</figcaption></figure>")
    svg = base64.b64decode(re.search(r"base64,([^\"]+)\"", text).group(1)).decode("utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg
    # Text drawn as outlines (no font needed in the browser), each text named in a comment.
    assert "<text" not in svg and "<!-- Mentalt helbred -->" in svg
    assert "<dc:date>" not in svg  # no timestamp: the same figure gives the same bytes


def test_figure_html_png_on_request():
    fig = plots.trend_chart(trend_series(), title="T")
    text = plots.figure_html(fig, alt="a", image_format="png", dpi=80)
    assert text.startswith('<figure class="chart"><img src="data:image/png;base64,')
    payload = base64.b64decode(re.search(r"base64,([^\"]+)\"", text).group(1))
    assert payload[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in payload
    with pytest.raises(ParameterError, match="image_format must be one of"):
        plots.figure_html(plots.trend_chart(trend_series(), title="T"), alt="a", image_format="gif")


def test_figure_html_deterministic_bytes():
    first = plots.figure_html(plots.trend_chart(trend_series(), title="T"), alt="a")
    second = plots.figure_html(plots.trend_chart(trend_series(), title="T"), alt="a")
    assert first == second


def test_figure_html_requires_alt():
    fig = plots.sii_chart(sii_series(), title="T")
    with pytest.raises(ParameterError, match="alt text"):
        plots.figure_html(fig, alt="  ")
    with pytest.raises(ParameterError):
        plots.figure_html("not a figure", alt="x")


def test_figure_html_closes_pyplot_figures():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    number = fig.number
    plots.figure_html(fig, alt="x")
    assert number not in plt.get_fignums()


def test_alt_text_trend_lists_values_and_hides_suppressed():
    series = trend_series()
    series.loc[series["suppressed"], "estimate"] = 0.999
    text = plots.alt_text_trend(series, "Dårligt mentalt helbred", baseline_year=2021)
    assert text.startswith(
        "Linjediagram: Dårligt mentalt helbred. Odense: 12,8 pct. i 2010, 13,8 pct. i 2013, "
        f"{SUPPRESSED_TEXT} i 2017, 15,8 pct. i 2021 og 17,8 pct. i 2025; Region Syddanmark: "
        "12,0 pct. i 2010"
    )
    assert "Hele landet: 11,5 pct. i 2010" in text and "15,5 pct. i 2023" in text
    assert text.endswith("Basisåret 2021 er markeret med en lodret prikket linje.")
    assert "99,9" not in text and "nan" not in text.lower()


def test_alt_text_gradient_and_sii():
    assert plots.alt_text_gradient(gradient_groups(), "Rygning") == (
        "Søjlediagram: Rygning. Grundskole: 25,1 pct.; Gymnasial eller erhvervsfaglig: 20,0 "
        f"pct.; Kort videregående: {SUPPRESSED_TEXT}; Mellemlang videregående: 15,0 pct.; Lang "
        "videregående: 10,5 pct."
    )
    text = plots.alt_text_sii(sii_series(), "Ulighed")
    assert text.startswith(
        f"Diagram over ulighedens hældningsindeks (SII): Ulighed. 2010: {MINUS}8,2 procentpoint; "
    )
    assert text.endswith(f"2025: {MINUS}6,0 procentpoint.")


def test_gradient_dots_one_row_per_indicator_hidden_groups_left_out():
    groups = pd.DataFrame(
        {
            "indicator": ["Ryger dagligt"] * 2 + ["Svær overvægt"] * 2,
            "group": ["Grundskole", "Lang videregående"] * 2,
            "estimate": [0.20, 0.08, 0.25, np.nan],
            "ci_low": [0.18, 0.06, 0.22, np.nan],
            "ci_high": [0.22, 0.10, 0.28, np.nan],
            "suppressed": [False, False, False, True],
        }
    )
    fig = plots.gradient_dots(groups, title="Efter uddannelse")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ryger dagligt", "Svær overvægt"]
    # One marker series per education group; the hidden LVU value of the second row is absent.
    lvu = [line for line in ax.get_lines() if line.get_label() == "Lang videregående"][0]
    assert len(lvu.get_xdata()) == 1
    assert "for få svar til at vise tallet" in fig.get_supxlabel()
    alt = plots.alt_text_gradient_dots(groups, "Efter uddannelse")
    assert "Ryger dagligt: Grundskole: 20,0 pct.; Lang videregående: 8,0 pct." in alt
    assert "Svær overvægt: Grundskole: 25,0 pct.; Lang videregående: for få svar" in alt
    html = plots.figure_html(fig, alt=alt)
    assert html.startswith('<figure class="chart">')
