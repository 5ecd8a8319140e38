"""Tests of analyse.publish.plots: Danish axes, gaps for suppressed points, deterministic HTML output."""

import base64
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
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
    assert [ln.get_color() for ln in lines] == list(plots.SERIES_COLOURS[:3])


def test_trend_chart_size_and_fonts():
    # 4.6 in wide with text of at least 11 pt: on a 390 px phone the figure is shown at about
    # 366 px (390 px less the page's padding), so 11 pt × 96/72 px × 366/(4.6 × 96) = 12,2 px
    # (the issue asks at least 10 px).
    fig = plots.trend_chart(trend_series(False), title="T")
    width, height = fig.get_size_inches()
    assert width == 4.6 and 3.0 <= height <= 3.3  # 3.0 in, + a second legend row
    fig.canvas.draw()
    texts = fig.findobj(a_text)
    assert texts and min(t.get_fontsize() for t in texts) >= 11
    assert 11 * 96 / 72 * 366 / (width * 96) >= 10


def a_text(artist) -> bool:
    """A visible matplotlib Text with something written in it."""
    from matplotlib.text import Text

    return isinstance(artist, Text) and artist.get_visible() and artist.get_text().strip() != ""


def _inside(fig) -> list[str]:
    """Texts (and legend boxes) that reach outside the figure, as drawn."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    # Tick labels of ticks outside the axis limits exist but are not drawn.
    undrawn = set()
    for ax in fig.axes:
        for labels, limits, i in (
            (ax.get_xticklabels(), sorted(ax.get_xlim()), 0),
            (ax.get_yticklabels(), sorted(ax.get_ylim()), 1),
        ):
            undrawn |= {
                id(t)
                for t in labels
                if not limits[0] - 1e-9 <= t.get_position()[i] <= limits[1] + 1e-9
            }
    out = []
    for artist in fig.findobj(a_text):
        if id(artist) in undrawn:
            continue
        extent = artist.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - 0.5
            or extent.x1 > box.x1 + 0.5
            or extent.y0 < box.y0 - 0.5
            or extent.y1 > box.y1 + 0.5
        ):
            out.append(artist.get_text())
    return out


def test_charts_keep_titles_legends_and_labels_inside_the_figure():
    long_title = (
        "Borgere med somatisk sygdom, der fastholdes på arbejdsmarkedet, 18-64 år (titlen er "
        "bredere end figuren)"
    )
    five = trend_series(False)
    five = pd.concat(
        [five, five.assign(label="Sundhedsklynge Syddanmark Sydvestjylland (Sydvestjysk Sygehus)")]
    )
    dots = pd.DataFrame(
        {
            "indicator": ["Ryger dagligt"] * 5,
            "group": gradient_groups()["group"],
            "estimate": [0.2, 0.18, 0.15, 0.12, 0.08],
            "ci_low": [0.18, 0.16, 0.13, 0.1, 0.06],
            "ci_high": [0.22, 0.2, 0.17, 0.14, 0.1],
            "suppressed": [False] * 5,
        }
    )
    figures = {
        "trend": plots.trend_chart(five, title=long_title, baseline_year=2021),
        "gradient": plots.gradient_chart(gradient_groups(), title=long_title),
        "dots": plots.gradient_dots(dots, title=long_title),
        "sii": plots.sii_chart(
            pd.concat(
                [
                    sii_series().assign(label="Fysisk aktive"),
                    sii_series().assign(label="Ryger dagligt"),
                ]
            ),
            title=long_title,
        ),
    }
    for name, fig in figures.items():
        assert _inside(fig) == [], name
        # The title wraps instead of being cut: every word of it is drawn.
        assert " ".join(fig.get_suptitle().split()) == long_title, name


def test_chart_colours_have_3_to_1_contrast_on_white():
    # WCAG 1.4.11: lines and markers ≥ 3:1 against the white background. Relative luminance
    # by the WCAG 2.1 formula (sRGB → linear, 0.2126 R + 0.7152 G + 0.0722 B); e.g. #A86800:
    # R 168 → 0.392, G 104 → 0.138, B 0 → 0, L = 0.1821, (1.05)/(0.2321) = 4.52.
    def luminance(colour: str) -> float:
        rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    ratio = {c: 1.05 / (luminance(c) + 0.05) for c in plots.SERIES_COLOURS}
    assert ratio["#A86800"] == pytest.approx(4.52, abs=0.01)
    assert min(ratio.values()) >= 3
    assert plots.OKABE_ITO[1] not in plots.SERIES_COLOURS  # the orange of 2.25:1 is gone
    for _text, _marker, colour, _filled in plots.COMPARISON_STYLES.values():
        assert 1.05 / (luminance(colour) + 0.05) >= 3
    # A band's outline is drawn in the full series colour (its fill is a light tint).
    fig = plots.trend_chart(trend_series(False), title="T")
    bands = fig.axes[0].collections
    assert bands and all(
        tuple(np.round(b.get_edgecolor()[0][:3], 3))
        in {tuple(np.round(to_rgba(c)[:3], 3)) for c in plots.SERIES_COLOURS}
        for b in bands
        if len(b.get_edgecolor())
    )


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
    assert sorted(round(b.get_y() + b.get_height() / 2) for b in bars) == [0, 1, 3, 4]
    assert [t.get_text() for t in ax.texts if t.get_position()[1] == 2] == [SUPPRESSED_MARK]
    assert "25,1" in [t.get_text() for t in ax.texts]
    assert SUPPRESSED_TEXT in fig.get_supxlabel()
    # Horizontal bars: the group names on the y axis, top to bottom, wrapped at word breaks.
    assert ax.get_yticklabels()[1].get_text() == "Gymnasial eller\nerhvervsfaglig"


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
    assert 'width="442"' in text and 'style="max-width:100%;height:auto"' in text
    assert text.endswith("<figcaption>Kilde: Sundhedsprofilen</figcaption></figure>")
    svg = base64.b64decode(re.search(r"base64,([^\"]+)\"", text).group(1)).decode("utf-8")
    assert svg.startswith("<svg")
    # Real text (selectable, found by search and by PDF text extraction) in a declared font.
    titles = re.findall(r"<text[^>]*>Mentalt helbred</text>", svg)
    assert len(titles) == 1 and "font-family: 'DejaVu Sans', 'Arial'" in titles[0]
    assert "font-weight: 700; font-size: 12px" in titles[0]
    assert "<metadata>" not in svg and "<dc:date>" not in svg  # nothing that changes per run


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


# ---------------------------------------------------------------------------------------------
# area_dots (the overview's dot chart)


def area_rows():
    return pd.DataFrame(
        {
            "label": ["Langeland", "Odense", "Ærø", "Læsø"],
            "estimate": [0.30, 0.20, 0.15, np.nan],
            "ci_low": [0.25, 0.18, 0.10, np.nan],
            "ci_high": [0.35, 0.22, 0.20, np.nan],
            "suppressed": [False, False, False, True],
            "comparison": ["ringere", "som resten", "bedre", "som resten"],
        }
    )


def test_area_dots_rows_in_order_markers_by_comparison_and_reference_band():
    fig = plots.area_dots(area_rows(), title="Ryger dagligt", reference=("Region", 0.2, 0.19, 0.21))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Langeland", "Odense", "Ærø", "Læsø"]
    by_label = {ln.get_label(): ln for ln in ax.get_lines()}
    worse = by_label["Ringere end resten af regionen"]
    assert worse.get_marker() == "v" and list(worse.get_ydata()) == [0]
    assert list(worse.get_xdata()) == [pytest.approx(30.0)]
    better = by_label["Bedre end resten af regionen"]
    assert better.get_marker() == "^" and list(better.get_ydata()) == [2]
    # The reference: a line at 20 pct. labelled with its value, its interval as a band.
    assert "Region: 20,0 pct." in by_label
    band = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0.9, 0.9, 0.9))]
    assert len(band) == 1
    # The hidden row keeps its place with the mark and a footnote; it has no marker.
    assert [t.get_text().strip() for t in ax.texts] == [SUPPRESSED_MARK]
    assert SUPPRESSED_TEXT in fig.get_supxlabel()
    assert _inside(fig) == []


def test_area_dots_rejects_unknown_comparison():
    with pytest.raises(ParameterError, match="unknown comparison"):
        plots.area_dots(area_rows().assign(comparison="værre"), title="T")


def test_alt_text_area_dots_names_worse_and_better_areas():
    text = plots.alt_text_area_dots(area_rows(), "Ryger dagligt", ("Region", 0.2, 0.19, 0.21))
    assert text == (
        "Punktdiagram: Ryger dagligt. Region: 20,0 pct. Statistisk sikkert ringere end resten "
        "af regionen: Langeland (30,0 pct.). Statistisk sikkert bedre end resten af regionen: "
        "Ærø (15,0 pct.). 1 område adskiller sig ikke statistisk sikkert fra resten. For få "
        "svar til at vise tallet: Læsø."
    )


# ---------------------------------------------------------------------------------------------
# Disclosure (issue #14): a figure carries no more precision than it shows (0.1 point)


def _svg(fig: Figure, alt: str = "Figur") -> str:
    html = plots.figure_html(fig, alt=alt)
    data = re.search(r"base64,([^\"]+)\"", html).group(1)
    return base64.b64decode(data).decode("utf-8")


def _shift(frame: pd.DataFrame, columns, delta: float) -> pd.DataFrame:
    return frame.assign(**{c: frame[c] + delta for c in columns})


# Every base value below is on the 0.001 grid; +0.0001234 and +0.0001274 both round back to
# it (0.1 point = 0.001), so the three inputs must give byte-identical SVG and alt text.
_DELTAS = (0.0, 0.0001234, 0.0001274)
_REFERENCE = ("Region", 0.2, 0.19, 0.21)


@pytest.mark.parametrize(
    "draw, alt, data, columns",
    [
        (
            lambda f: plots.trend_chart(f, title="Ryger", baseline_year=2017),
            lambda f: plots.alt_text_trend(f, "Ryger", baseline_year=2017),
            trend_series,
            ("estimate", "ci_low", "ci_high"),
        ),
        (
            lambda f: plots.gradient_chart(f, title="Ryger"),
            lambda f: plots.alt_text_gradient(f, "Ryger"),
            gradient_groups,
            ("estimate", "ci_low", "ci_high"),
        ),
        (
            lambda f: plots.sii_chart(f, title="Ulighed"),
            lambda f: plots.alt_text_sii(f, "Ulighed"),
            sii_series,
            ("sii", "ci_low", "ci_high"),
        ),
        (
            lambda f: plots.gradient_dots(f, title="Efter uddannelse"),
            lambda f: plots.alt_text_gradient_dots(f, "Efter uddannelse"),
            lambda: pd.DataFrame(
                {
                    "indicator": ["Ryger dagligt"] * 2 + ["Svær overvægt"] * 2,
                    "group": ["Grundskole", "Lang videregående"] * 2,
                    "estimate": [0.20, 0.08, 0.25, 0.12],
                    "ci_low": [0.18, 0.06, 0.22, 0.10],
                    "ci_high": [0.22, 0.10, 0.28, 0.14],
                    "suppressed": [False] * 4,
                }
            ),
            ("estimate", "ci_low", "ci_high"),
        ),
        (
            lambda f: plots.area_dots(f, title="Ryger", reference=_REFERENCE),
            lambda f: plots.alt_text_area_dots(f, "Ryger", _REFERENCE),
            area_rows,
            ("estimate", "ci_low", "ci_high"),
        ),
    ],
    ids=["trend", "gradient", "sii", "gradient_dots", "area_dots"],
)
def test_figures_are_drawn_from_values_rounded_to_the_shown_precision(draw, alt, data, columns):
    svgs = {_svg(draw(_shift(data(), columns, d))) for d in _DELTAS}
    alts = {alt(_shift(data(), columns, d)) for d in _DELTAS}
    assert len(svgs) == 1 and len(alts) == 1
    # A difference that shows (0.3 point) changes the figure: the test can fail.
    assert _svg(draw(_shift(data(), columns, 0.003))) not in svgs


def test_area_dots_reference_is_rounded_too():
    shifted = ("Region", 0.2001234, 0.1901234, 0.2101234)
    svg = _svg(plots.area_dots(area_rows(), title="Ryger", reference=shifted))
    assert svg == _svg(plots.area_dots(area_rows(), title="Ryger", reference=_REFERENCE))
    assert plots.alt_text_area_dots(area_rows(), "Ryger", shifted) == plots.alt_text_area_dots(
        area_rows(), "Ryger", _REFERENCE
    )


def test_notebook_figures_are_drawn_from_rounded_values():
    from analyse.publish import figures

    def estimates(delta):
        return pd.DataFrame(
            {
                "year": [2017, 2021, 2025] * 2,
                "group": ["Mænd"] * 3 + ["Kvinder"] * 3,
                "breakdown": "sex",
                "estimate": np.array([0.20, 0.21, 0.19, 0.25, 0.24, 0.26]) + delta,
                "ci_low": np.array([0.18, 0.19, 0.17, 0.23, 0.22, 0.24]) + delta,
                "ci_high": np.array([0.22, 0.23, 0.21, 0.27, 0.26, 0.28]) + delta,
                "suppressed": False,
            }
        )

    svgs = {_svg(figures.estimates_figure(estimates(d)).figure) for d in _DELTAS}
    assert len(svgs) == 1
    assert _svg(figures.estimates_figure(estimates(0.003)).figure) not in svgs
