"""Figures for the HTML briefs: trends, the education gradient and inequality over time.

Each chart function takes a small tidy frame with the library's numbers (proportions 0-1) and
returns a :class:`matplotlib.figure.Figure`; :func:`figure_html` turns it into a self-contained
``<figure>`` with an embedded SVG (or PNG) and a required text alternative, and releases the
figure.

Design choices, for readers who cannot rely on colour or who print on A4:

- Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), and each series also gets its
  own line style and marker shape, so colour is never the only cue.
- Danish on every axis: decimal comma and the U+2212 minus on tick labels, "Andel (pct.)" as
  the axis label with plain numbers ("20") on the ticks; Danish titles, labels and notes.
- A suppressed value is never drawn and never interpolated across: the line breaks there and a
  footnote says "Manglende punkter: for få svar til at vise tallet." A wave that simply was not
  measured for a series (the national-only 2023 wave for a kommune) is not a gap: the line
  joins the waves that exist.
- The x axis uses real years (the waves are irregular: 2010, 2013, 2017, 2021, 2023, 2025) with
  a tick at each wave; the y axis of a proportion starts at 0, so a change is not exaggerated.
- 4.6 × 3.0 inches with text of 11 pt or larger: on a 390 px phone the figure is scaled to
  ≈ 366 px, which keeps every text ≥ 12 CSS px (11 pt × 96/72 × 366/442); a brief prints it
  74 mm wide beside its text (≈ 7 pt), so a kommune brief fits in ≤ 10 A4 pages. Titles and
  footnotes wrap to that width; legends are laid out in columns that fit inside it.
- Lines, markers and whiskers use darker shades of the Okabe-Ito colours (:data:`SERIES_COLOURS`)
  with at least 3:1 contrast on white (WCAG 1.4.11); an interval band is a light tint with an
  outline in the series colour, so its extent is visible at 3:1 too.
- Embedded as SVG with real text (``svg.fonttype: none``) in DejaVu Sans (the font matplotlib
  lays the text out with), falling back to Arial/Helvetica/sans-serif, which are narrower, so
  text never outgrows its place: selectable, found by search and by PDF text extraction, and
  a third of the bytes of text drawn as outlines (and the XML prolog, metadata and line
  breaks are left out: :func:`_compact_svg`). No date and fixed element ids, so the same
  input gives the same bytes. PNG (fixed dpi, no "Software" tag) remains available with
  ``image_format="png"``.

One unit of about 1,000 lines because every chart shares the same style (the rc settings,
colours, markers), the margin arithmetic of :func:`_new_figure`, the legend placement and the
SVG embedding; splitting the chart types apart would split those.

The figures are built on a :class:`~matplotlib.figure.Figure` with its own Agg canvas instead of
``pyplot``: nothing is registered in pyplot's global figure list (no memory growth over 125
briefs, no duplicate inline display in a notebook), and the caller's matplotlib backend is left
alone. The seaborn "whitegrid" theme is applied per figure through an rc context.
"""

from __future__ import annotations

import base64
import html
import io
import re
import sys
import textwrap
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory

from analyse.errors import ParameterError
from analyse.publish import report
from analyse.stats.disclosure import SUPPRESSED_MARK, SUPPRESSED_TEXT, round_share

__all__ = [
    "DPI",
    "IMAGE_FORMATS",
    "FIGSIZE",
    "OKABE_ITO",
    "SERIES_COLOURS",
    "alt_text_area_dots",
    "alt_text_gradient",
    "alt_text_sii",
    "alt_text_trend",
    "area_dots",
    "figure_html",
    "gradient_chart",
    "sii_chart",
    "trend_chart",
]

#: Okabe-Ito colours, in the order series get them (blue, orange, green, purple, sky blue,
#: vermillion, yellow, black); black is last because it is reserved for reference lines.
OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
#: The colours lines, markers and whiskers are drawn in: the Okabe-Ito hues, darkened where
#: needed to at least 3:1 contrast on white (WCAG 1.4.11 non-text contrast). Ratios on white:
#: 5.19, 4.52, 5.34, 5.02, 3.35, 5.20, 4.85, 21 (Okabe-Ito: 5.19, 2.25, 3.42, 3.06, 2.31, 3.87,
#: 1.32, 21).
SERIES_COLOURS = (
    "#0072B2",
    "#A86800",
    "#007A5A",
    "#A8508A",
    "#4593C8",
    "#B34F00",
    "#7A7400",
    "#000000",
)
#: Opacity of an interval band's fill (the band's outline is drawn in the full colour).
BAND_ALPHA = 0.15
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", (0, (1, 1.5)), (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
#: Width × height in inches: narrow enough that 11 pt text stays ≥ 12 px on a 390 px phone.
FIGSIZE = (4.6, 3.0)
#: Resolution of an embedded PNG; 150 dpi is sharp on high-density phone screens.
DPI = 150
#: Image formats :func:`figure_html` can embed, with their MIME types.
IMAGE_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# SVG output: real text with a declared font stack, fixed id salt (same bytes every run).
_SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "analyse", "svg.image_inline": True}
#: CSS pixels per inch, for the <img> width/height attributes.
_CSS_DPI = 96
#: What the SII's sign means as the cube stores it (WHO healthequal: P(rank 1) − P(rank 0)).
SII_NOTE = (
    "SII: forskellen i procentpoint mellem toppen og bunden af uddannelsesskalaen, beregnet ud "
    "fra alle uddannelsesgrupper. Over 0: andelen stiger med uddannelse."
)
MISSING_POINTS_NOTE = f"Manglende punkter: {SUPPRESSED_TEXT}."
SUPPRESSED_BAR_NOTE = f"{SUPPRESSED_MARK}: {SUPPRESSED_TEXT}."
# Characters per line of a footnote (11 pt) / title (12 pt bold) on a 4.6 in wide figure.
_NOTE_WIDTH = 54
_TITLE_WIDTH = 42
# Characters per line of a legend entry and of a category label on an axis.
_LEGEND_WIDTH = 22
_CATEGORY_WIDTH = 18

# DejaVu Sans ships with matplotlib (æøå and U+2212 everywhere) and lays the text out; the rest
# of the stack is written into the SVG for readers without DejaVu Sans (narrower fonts, so the
# text can only get shorter than laid out).
_FONT_RC = {
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"],
}
_RC = {
    **sns.axes_style("whitegrid"),
    **_FONT_RC,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.unicode_minus": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "0.3",
    "grid.color": "0.88",
    "xtick.bottom": True,
    "ytick.left": True,
}

TREND_COLUMNS = ("label", "year", "estimate", "ci_low", "ci_high", "suppressed")
GRADIENT_COLUMNS = ("group", "estimate", "ci_low", "ci_high", "suppressed")
SII_COLUMNS = ("year", "sii", "ci_low", "ci_high")


# ---------------------------------------------------------------------------------------------
# Checks and helpers


def _check_frame(
    data: pd.DataFrame, columns: Sequence[str], function: str, what: str
) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"{function}: {what} must be a pandas DataFrame, got {type(data)}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(
            f"{function}: {what} lacks column(s) {', '.join(map(repr, missing))}; it has: "
            f"{', '.join(map(str, data.columns))}"
        )
    if data.empty:
        raise ParameterError(f"{function}: {what} has no rows; there is nothing to draw")
    return data.reset_index(drop=True)


def _numeric(frame: pd.DataFrame, column: str, function: str) -> np.ndarray:
    try:
        return pd.to_numeric(frame[column], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{function}: column {column!r} must be numeric") from None


def _hidden(frame: pd.DataFrame) -> np.ndarray:
    if "suppressed" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["suppressed"].fillna(False).astype(bool).to_numpy()


def _proportions(
    frame: pd.DataFrame,
    columns: Sequence[str],
    function: str,
    *,
    signed: bool = False,
    scale: float = 100.0,
) -> dict[str, np.ndarray]:
    """Numeric columns times ``scale`` (percentages), NaN where suppressed; checks the 0-1 scale.

    Every value is rounded to the shown precision (0.1 percentage point,
    :func:`analyse.stats.disclosure.round_share`) *before* it is drawn or written into a text
    alternative: the SVG's path coordinates would otherwise carry the unrounded value.
    """
    hidden = _hidden(frame)
    out = {}
    for column in columns:
        values = _numeric(frame, column, function)
        values = np.where(hidden, np.nan, values)
        low = -1.0 if signed else 0.0
        bad = np.isfinite(values) & ((values < low - 1e-9) | (values > 1 + 1e-9))
        if bad.any():
            rows = ", ".join(str(i) for i in np.flatnonzero(bad)[:5])
            raise ParameterError(
                f"{function}: column {column!r} must be on the 0-1 scale (proportions, not "
                f"percentages); {int(bad.sum())} value(s) outside it, e.g. row {rows}"
            )
        values = round_share(values)
        out[column] = values * scale if scale != 1 else values
    return out


def _tick_text(value: float) -> str:
    """Danish tick label: decimal comma, U+2212, no trailing zeros (20, 12,5, −2)."""
    for decimals in (0, 1, 2):
        if abs(value - round(value, decimals)) < 1e-9:
            break
    return report.number(float(value), decimals)


_DANISH_TICKS = FuncFormatter(lambda value, _pos: _tick_text(value))
_YEAR_TICKS = FuncFormatter(lambda value, _pos: str(int(round(value))))


def _wrap(text: str, width: int) -> str:
    """Lines of at most ``width`` characters; a longer word is kept whole, not cut."""
    words = " ".join(str(text).split())
    return "\n".join(textwrap.wrap(words, width, break_long_words=False)) if text else ""


def _new_figure(
    title: str,
    notes: Sequence[str],
    *,
    legend: bool = False,
    tick_lines: int = 1,
    legend_rows: int = 1,
    axis_label: bool = True,
    extra_height: float = 0.0,
) -> tuple[Figure, object]:
    """A figure with fixed margins, a left-aligned title and footnotes under the axes.

    ``axis_label=False``: no label under the x axis (e.g. years), 0.2 in less height.
    ``extra_height`` (inches) goes to the axes (e.g. one row per area), not to the margins.

    The margins are computed from the number of text lines rather than by matplotlib's
    constrained layout: the layout pass draws every figure twice, which made it the largest cost
    of rendering ≈ 15 figures in each of ≈ 125 briefs.
    """
    if not isinstance(title, str) or not title.strip():
        raise ParameterError("a figure needs a title (a non-empty Danish text)")
    title_text = _wrap(title, _TITLE_WIDTH)
    note_text = "\n".join(_wrap(n, _NOTE_WIDTH) for n in notes if n)
    title_lines = title_text.count("\n") + 1
    note_lines = note_text.count("\n") + 1 if note_text else 0
    width = FIGSIZE[0]
    extra_legend = 0.22 * (legend_rows - 1) if legend else 0.0
    height = (
        FIGSIZE[1]
        + 0.21 * note_lines
        + 0.23 * (title_lines - 1)
        + 0.19 * (tick_lines - 1)
        + extra_legend
        - (0 if axis_label else 0.2)
        + extra_height
    )
    top = 0.1 + 0.23 * title_lines + (0.36 + extra_legend if legend else 0.12)
    bottom = (
        (0.66 if axis_label else 0.46)
        + 0.19 * (tick_lines - 1)
        + (0.21 * note_lines + 0.08 if note_lines else 0)
    )
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=0.72 / width, right=1 - 0.15 / width, top=1 - top / height, bottom=bottom / height
    )
    fig.suptitle(title_text, x=0.01, y=1 - 0.08 / height, ha="left", va="top")
    if note_text:
        fig.supxlabel(
            note_text,
            x=0.01,
            y=0.06 / height,
            ha="left",
            va="bottom",
            fontsize=11,
            color="0.3",
            linespacing=1.3,
        )
    ax = fig.add_subplot()
    return fig, ax


def _legend(ax, *, ncols: int, handlelength: float) -> None:
    """The legend above the axes and under the title, starting at the figure's left edge (not
    the axes'), so that its columns fit inside the figure."""
    fig = ax.get_figure()
    left = 0.06 / fig.get_figwidth()
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(left, 1.02),
        bbox_transform=blended_transform_factory(fig.transFigure, ax.transAxes),
        ncols=ncols,
        frameon=False,
        borderaxespad=0.0,
        borderpad=0.0,
        handlelength=handlelength,
        columnspacing=1.0,
    )


def _style_value_axis(ax, label: str, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(_DANISH_TICKS)
    target.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(label)


def _value_limits(*arrays: np.ndarray, include_zero: bool = True) -> tuple[float, float]:
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (0.0, 100.0)
    low, high = float(values.min()), float(values.max())
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    span = high - low or 1.0
    return (low - (0.08 * span if low < 0 else 0.0), high + 0.12 * span)


# ---------------------------------------------------------------------------------------------
# Charts


def _whiskers(ax, x, y, low, high, mask, *, axis: str = "y", **style) -> None:
    """Interval whiskers from ``low`` to ``high`` at the points in ``mask`` (none if empty)."""
    if not mask.any():
        return
    error = [
        (x if axis == "x" else y)[mask] - low[mask],
        high[mask] - (x if axis == "x" else y)[mask],
    ]
    ax.errorbar(x[mask], y[mask], **{f"{axis}err": error}, fmt="none", **style)


def trend_chart(
    series: pd.DataFrame,
    *,
    title: str,
    ylabel: str = "Andel (pct.)",
    xlabel: str = "År",
    baseline_year: int | None = None,
    note: str | None = None,
) -> Figure:
    """Line chart of an indicator over the waves for several areas, with confidence bands.

    Parameters
    ----------
    series : pandas.DataFrame
        One row per area × wave: ``label`` (legend text, e.g. "Odense", "Region Syddanmark",
        "Hele landet"; drawn in order of first appearance), ``year``, ``estimate``, ``ci_low``,
        ``ci_high`` (proportions 0-1) and ``suppressed`` (bool). Not modified.
    title, ylabel, xlabel : str
        Danish texts.
    baseline_year : int, optional
        Marked with a dotted vertical line labelled "Basisår" (if within the waves drawn).
    note : str, optional
        Footnote under the chart (e.g. the COVID-19 note of the 2021 wave).

    Returns
    -------
    matplotlib.figure.Figure
        Lines with markers (one colour, line style and marker per area), a shaded band for each
        interval, suppressed points left out as gaps with a footnote.

    Raises
    ------
    ParameterError
        Missing columns, no rows, non-numeric values, proportions outside 0-1, no title.
    """
    function = "trend_chart"
    frame = _check_frame(series, TREND_COLUMNS, function, "series")
    values = _proportions(frame, ("estimate", "ci_low", "ci_high"), function)
    years = _numeric(frame, "year", function)
    hidden = _hidden(frame)
    notes = [note] if note else []
    if (hidden | ~np.isfinite(values["estimate"])).any():
        notes.append(MISSING_POINTS_NOTE)
    with mpl.rc_context(_RC):
        labels = list(dict.fromkeys(frame["label"].astype(str)))
        shown_labels = {label: _wrap(label, _LEGEND_WIDTH * 2) for label in labels}
        # One column unless every entry is short: the legend must fit inside the figure.
        columns = 2 if max(len(t) for t in shown_labels.values()) <= _LEGEND_WIDTH - 4 else 1
        rows = -(-len(labels) // columns) + sum(t.count("\n") for t in shown_labels.values())
        fig, ax = _new_figure(title, notes, legend=True, legend_rows=rows, axis_label=bool(xlabel))
        label_of = frame["label"].astype(str).to_numpy()
        for i, label in enumerate(labels):
            rows = np.flatnonzero(label_of == label)
            rows = rows[np.argsort(years[rows], kind="stable")]
            x = years[rows]
            y, low, high = (values[c][rows] for c in ("estimate", "ci_low", "ci_high"))
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            band = np.isfinite(low) & np.isfinite(high) & np.isfinite(y)
            # Light tint, outlined in the series colour (the outline carries the 3:1 contrast).
            ax.fill_between(
                x,
                low,
                high,
                where=band,
                facecolor=to_rgba(colour, BAND_ALPHA),
                edgecolor=colour,
                lw=0.6,
            )
            # A point with no drawn neighbour has no band width: show its interval as a whisker.
            alone = band & ~_has_neighbour(np.isfinite(y))
            _whiskers(ax, x, y, low, high, alone, axis="y", ecolor=colour, capsize=3, lw=1.5)
            ax.plot(
                x,
                y,
                color=colour,
                linestyle=LINESTYLES[i % len(LINESTYLES)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=6,
                lw=2,
                label=shown_labels[label],
            )
        waves = np.unique(years[np.isfinite(years)])
        _year_axis(ax, waves)
        ax.grid(axis="x", visible=False)
        ax.set_xlabel(xlabel)
        _style_value_axis(ax, ylabel)
        ax.set_ylim(*_value_limits(values["estimate"], values["ci_high"]))
        if baseline_year is not None and waves.min() <= baseline_year <= waves.max():
            _mark_baseline(ax, baseline_year)
        # Above the axes, under the title, inside the figure: never covers data, reads top to
        # bottom on a phone.
        _legend(ax, ncols=columns, handlelength=2.6)
    return fig


def _year_axis(ax, waves: np.ndarray) -> None:
    """A tick at every wave; with more than seven (yearly register data) a label on every
    second or third, counted back from the latest, so the labels never run together."""
    step = -(-len(waves) // 6) if len(waves) > 7 else 1
    labelled = waves[::-1][::step][::-1]
    ax.xaxis.set_major_locator(FixedLocator(labelled))
    ax.xaxis.set_major_formatter(_YEAR_TICKS)
    if step > 1:
        ax.xaxis.set_minor_locator(FixedLocator(waves))
        ax.tick_params(axis="x", which="minor", bottom=True, length=2.5)
    ax.set_xlim(waves.min() - 0.8, waves.max() + 0.8)


def _has_neighbour(finite: np.ndarray) -> np.ndarray:
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    return before | after


def _mark_baseline(ax, baseline_year: int) -> None:
    ax.axvline(baseline_year, color="0.35", linestyle=":", lw=1.3, zorder=1)
    ax.annotate(
        "Basisår",
        xy=(baseline_year, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=11,
        color="0.3",
    )


def gradient_chart(
    groups: pd.DataFrame,
    *,
    title: str,
    ylabel: str = "Andel (pct.)",
    xlabel: str = "Højeste fuldførte uddannelse",
    note: str | None = None,
) -> Figure:
    """Bar chart of an indicator by education group (one wave), with confidence intervals.

    ``groups`` has ``group`` (labels, drawn top to bottom in the given order: least to most
    educated), ``estimate``, ``ci_low``, ``ci_high`` (0-1) and ``suppressed``. The bars are
    horizontal, so the group names stay readable on a narrow figure; ``ylabel`` names the
    value axis, ``xlabel`` the groups. A suppressed group gets no bar, only the mark "–" and a
    footnote. Raises :class:`ParameterError` as :func:`trend_chart`.
    """
    function = "gradient_chart"
    frame = _check_frame(groups, GRADIENT_COLUMNS, function, "groups")
    values = _proportions(frame, ("estimate", "ci_low", "ci_high"), function)
    hidden = _hidden(frame) | ~np.isfinite(values["estimate"])
    notes = [note] if note else []
    if hidden.any():
        notes.append(SUPPRESSED_BAR_NOTE)
    n = len(frame)
    with mpl.rc_context(_RC):
        fig, ax = _new_figure(title, notes, extra_height=0.3 * max(n - 5, 0))
        fig.subplots_adjust(left=1.95 / FIGSIZE[0], right=1 - 0.35 / FIGSIZE[0])
        y = np.arange(n)
        x = values["estimate"]
        shown = ~hidden
        ax.barh(y[shown], x[shown], height=0.6, color=SERIES_COLOURS[0], zorder=2)
        low, high = values["ci_low"], values["ci_high"]
        whisker = shown & np.isfinite(low) & np.isfinite(high)
        _whiskers(
            ax, x, y, low, high, whisker, axis="x", ecolor="0.15", capsize=4, lw=1.2, zorder=3
        )
        limits = _value_limits(x, high)
        end = np.where(np.isfinite(high), high, x)
        raw = _proportions(frame, ("estimate",), function, scale=1)["estimate"]
        for yi, ri, ei, is_hidden in zip(y, raw, end, hidden, strict=True):
            if is_hidden:
                ax.text(limits[1] * 0.02, yi, SUPPRESSED_MARK, ha="left", va="center", size=16)
            else:
                ax.annotate(
                    report.pct_number(float(ri)),
                    xy=(ei, yi),
                    xytext=(4, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=11,
                )
        ax.set_yticks(y, [_wrap(g, _CATEGORY_WIDTH) for g in frame["group"].astype(str)])
        ax.set_ylim(n - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_ylabel(xlabel)
        _style_value_axis(ax, ylabel, axis="x")
        # Room for the value labels after the longest interval.
        ax.set_xlim(limits[0], limits[1] * 1.1)
    return fig


def sii_chart(
    series: pd.DataFrame,
    *,
    title: str,
    ylabel: str = "SII (procentpoint)",
    xlabel: str = "År",
    baseline_year: int | None = None,
    note: str | None = None,
    sign_note: str = SII_NOTE,
) -> Figure:
    """The slope index of inequality over the waves, in percentage points, with a zero line.

    ``series`` has ``year``, ``sii``, ``ci_low``, ``ci_high`` (differences of proportions, -1 to
    1) and optionally ``suppressed``; suppressed or missing waves are gaps. With a ``label``
    column (e.g. one per indicator) each label is its own line with a legend. ``sign_note``,
    the footnote that says what the sign means, must match the values given (the default is
    healthequal's sign, as the cube stores it). Raises :class:`ParameterError` as
    :func:`trend_chart`.
    """
    function = "sii_chart"
    frame = _check_frame(series, SII_COLUMNS, function, "series")
    frame = frame.sort_values("year", kind="stable").reset_index(drop=True)
    values = _proportions(frame, ("sii", "ci_low", "ci_high"), function, signed=True)
    years = _numeric(frame, "year", function)
    hidden = _hidden(frame) | ~np.isfinite(values["sii"])
    notes = [note] if note else []
    if hidden.any():
        notes.append(MISSING_POINTS_NOTE)
    notes.append(sign_note)
    labels = (
        list(dict.fromkeys(frame["label"].astype(str))) if "label" in frame.columns else ["SII"]
    )
    label_of = frame["label"].astype(str).to_numpy() if "label" in frame.columns else None
    with mpl.rc_context(_RC):
        legend_columns = 2
        shown_labels = {label: _wrap(label, _LEGEND_WIDTH - 4) for label in labels}
        lines = sum(text.count("\n") for text in shown_labels.values())
        fig, ax = _new_figure(
            title,
            notes,
            legend=len(labels) > 1,
            legend_rows=-(-len(labels) // legend_columns) + -(-lines // legend_columns),
            axis_label=bool(xlabel),
        )
        ax.axhline(0, color="0.1", lw=1, zorder=1)
        # Several indicators: one line each (colour, line style and marker), dodged a little on
        # the x axis so the intervals do not hide each other.
        for i, label in enumerate(labels):
            rows = np.arange(len(frame)) if label_of is None else np.flatnonzero(label_of == label)
            x = years[rows] + (i - (len(labels) - 1) / 2) * 0.25
            y, low, high = (values[c][rows] for c in ("sii", "ci_low", "ci_high"))
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            whisker = ~hidden[rows] & np.isfinite(low) & np.isfinite(high)
            _whiskers(
                ax, x, y, low, high, whisker, axis="y", ecolor=colour, capsize=3, lw=1.1, zorder=2
            )
            ax.plot(
                x,
                np.where(hidden[rows], np.nan, y),
                color=colour,
                linestyle=LINESTYLES[i % len(LINESTYLES)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=6,
                lw=2,
                zorder=3,
                label=shown_labels[label],
            )
        if len(labels) > 1:
            _legend(ax, ncols=legend_columns, handlelength=2.4)
        y, low, high = values["sii"], values["ci_low"], values["ci_high"]
        waves = np.unique(years[np.isfinite(years)])
        _year_axis(ax, waves)
        ax.grid(axis="x", visible=False)
        ax.set_xlabel(xlabel)
        _style_value_axis(ax, ylabel)
        ax.set_ylim(*_value_limits(y, low, high))
        if baseline_year is not None and waves.min() <= baseline_year <= waves.max():
            _mark_baseline(ax, baseline_year)
    return fig


DOT_COLUMNS = ("indicator", "group", "estimate", "ci_low", "ci_high", "suppressed")


def gradient_dots(
    groups: pd.DataFrame,
    *,
    title: str,
    xlabel: str = "Andel (pct.)",
    note: str | None = None,
) -> Figure:
    """Several indicators' education gradients in one dot plot (one row per indicator).

    ``groups`` has ``indicator`` (row label), ``group`` (education groups, in order),
    ``estimate``, ``ci_low``, ``ci_high`` (proportions) and ``suppressed``. Each education group
    has its own marker and colour (so colour is not the only cue) with its interval as a
    whisker; hidden groups are left out with a footnote. One figure per vision instead of one
    per indicator keeps a brief cheap to render.
    """
    function = "gradient_dots"
    frame = _check_frame(groups, DOT_COLUMNS, function, "groups")
    values = _proportions(frame, ("estimate", "ci_low", "ci_high"), function)
    hidden = _hidden(frame) | ~np.isfinite(values["estimate"])
    notes = [note] if note else []
    if hidden.any():
        notes.append(MISSING_POINTS_NOTE)
    rows = list(dict.fromkeys(frame["indicator"].astype(str)))
    levels = list(dict.fromkeys(frame["group"].astype(str)))
    row_of = frame["indicator"].astype(str).map({r: i for i, r in enumerate(rows)}).to_numpy()
    level_of = frame["group"].astype(str).map({g: i for i, g in enumerate(levels)}).to_numpy()
    legend_columns = 2
    shown_levels = {level: _wrap(level, _LEGEND_WIDTH - 4) for level in levels}
    legend_rows = -(-len(levels) // legend_columns) + -(
        -sum(t.count("\n") for t in shown_levels.values()) // legend_columns
    )
    with mpl.rc_context(_RC):
        fig, ax = _new_figure(
            title,
            notes,
            legend=True,
            legend_rows=legend_rows,
            extra_height=0.4 * max(len(rows) - 3, 0),
        )
        fig.subplots_adjust(left=1.55 / FIGSIZE[0])
        offsets = (np.arange(len(levels)) - (len(levels) - 1) / 2) * 0.13
        for j, level in enumerate(levels):
            pick = (level_of == j) & ~hidden
            y = row_of[pick] + offsets[j]
            x, low, high = (values[c][pick] for c in ("estimate", "ci_low", "ci_high"))
            colour = SERIES_COLOURS[j % len(SERIES_COLOURS)]
            whisker = np.isfinite(low) & np.isfinite(high)
            _whiskers(
                ax, x, y, low, high, whisker, axis="x", ecolor=colour, lw=1.1, capsize=0, zorder=2
            )
            ax.plot(
                x,
                y,
                linestyle="none",
                marker=MARKERS[j % len(MARKERS)],
                markersize=6,
                color=colour,
                label=shown_levels[level],
                zorder=3,
            )
        ax.set_yticks(np.arange(len(rows)), [_wrap(r, _CATEGORY_WIDTH) for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(_DANISH_TICKS)
        ax.set_xlabel(xlabel)
        low_limit, high_limit = _value_limits(values["estimate"], values["ci_high"])
        ax.set_xlim(low_limit, high_limit)
        _legend(ax, ncols=legend_columns, handlelength=1.5)
    return fig


def alt_text_gradient_dots(groups: pd.DataFrame, title: str) -> str:
    """Danish text alternative for :func:`gradient_dots`: each indicator's value per group."""
    function = "alt_text_gradient_dots"
    frame = _check_frame(groups, DOT_COLUMNS, function, "groups")
    values = _proportions(frame, ("estimate",), function, scale=1)["estimate"]
    hidden = _hidden(frame)
    indicators = frame["indicator"].astype(str).to_numpy()
    parts = []
    for name in dict.fromkeys(indicators):
        rows = np.flatnonzero(indicators == name)
        text = "; ".join(
            f"{frame['group'].iloc[i]}: {_value_or_text(values[i], hidden[i], report.pct)}"
            for i in rows
        )
        parts.append(f"{name}: {text}.")
    return _sentence(f"Diagram: {' '.join(title.split())}. {' '.join(parts)}")


AREA_COLUMNS = ("label", "estimate", "ci_low", "ci_high", "suppressed", "comparison")
#: How an area compares with the rest of the region in :func:`area_dots`: (legend text, marker,
#: colour, filled). Shape, fill and the legend's words carry the meaning, colour reinforces it
#: (the colours have ≥ 3:1 contrast on white, WCAG 1.4.11).
COMPARISON_STYLES = {
    "ringere": ("Ringere end resten af regionen", "v", "#B34F00", True),
    "som resten": ("Ingen sikker forskel", "o", "#555555", True),
    "bedre": ("Bedre end resten af regionen", "^", "#0072B2", True),
    "ikke testet": ("Ikke testet mod resten", "D", "#1A1A1A", False),
}


def area_dots(
    areas: pd.DataFrame,
    *,
    title: str,
    reference: tuple[str, float, float, float] | None = None,
    xlabel: str = "Andel (pct.)",
    note: str | None = None,
) -> Figure:
    """Every area's value with its interval on one row each, against a reference (the region).

    A dot chart after the "compare areas" and spine charts of OHID Fingertips and ScotPHO: one
    row per area (drawn top to bottom in the given order, e.g. worst first), the value as a
    marker whose shape, fill and colour say how the area compares with the rest of the region,
    the interval as a whisker, and the reference as a vertical line with its interval as a
    band.

    Parameters
    ----------
    areas : pandas.DataFrame
        ``label`` (area name), ``estimate``, ``ci_low``, ``ci_high`` (proportions 0-1),
        ``suppressed`` (bool; such a row shows the mark "–" and a footnote) and ``comparison``
        (a key of :data:`COMPARISON_STYLES`: "ringere", "som resten", "bedre", "ikke testet").
    title, xlabel : str
        Danish texts.
    reference : (label, estimate, ci_low, ci_high), optional
        The region's value (proportions), drawn as a line with a band.
    note : str, optional
        Footnote under the chart.

    Raises
    ------
    ParameterError
        As :func:`trend_chart`, and for an unknown ``comparison``.
    """
    function = "area_dots"
    frame = _check_frame(areas, AREA_COLUMNS, function, "areas")
    values = _proportions(frame, ("estimate", "ci_low", "ci_high"), function)
    hidden = _hidden(frame) | ~np.isfinite(values["estimate"])
    comparison = frame["comparison"].astype(str).to_numpy()
    unknown = sorted(set(comparison) - set(COMPARISON_STYLES))
    if unknown:
        raise ParameterError(
            f"{function}: unknown comparison(s) {', '.join(map(repr, unknown))}; use one of "
            f"{', '.join(COMPARISON_STYLES)}"
        )
    notes = [note] if note else []
    if hidden.any():
        notes.append(SUPPRESSED_BAR_NOTE)
    shown = [key for key in COMPARISON_STYLES if (comparison[~hidden] == key).any()]
    ref_values = None
    if reference is not None:
        ref_label, *numbers = reference
        ref_values = [round_share(float(v)) * 100 if v is not None else np.nan for v in numbers]
        ref_text = f"{ref_label}: {report.pct(numbers[0])}"
    legend_rows = len(shown) + (ref_values is not None)
    n = len(frame)
    with mpl.rc_context(_RC):
        fig, ax = _new_figure(
            title,
            notes,
            legend=True,
            legend_rows=legend_rows,
            extra_height=0.2 * max(n - 8, 0),
        )
        fig.subplots_adjust(left=1.45 / FIGSIZE[0])
        rows = np.arange(n)
        if ref_values is not None:
            value, low, high = ref_values
            if np.isfinite(low) and np.isfinite(high):
                ax.axvspan(low, high, facecolor="0.9", edgecolor="0.45", lw=0.6, zorder=0)
            ax.axvline(value, color="0.1", lw=1.4, zorder=1, label=_wrap(ref_text, 30))
        for key in shown:
            text, marker, colour, filled = COMPARISON_STYLES[key]
            pick = (comparison == key) & ~hidden
            x, low, high = (values[c][pick] for c in ("estimate", "ci_low", "ci_high"))
            y = rows[pick]
            whisker = np.isfinite(low) & np.isfinite(high)
            _whiskers(
                ax, x, y, low, high, whisker, axis="x", ecolor=colour, lw=1.2, capsize=0, zorder=2
            )
            ax.plot(
                x,
                y,
                linestyle="none",
                marker=marker,
                markersize=7,
                color=colour,
                markerfacecolor=colour if filled else "white",
                markeredgewidth=1.3,
                label=_wrap(text, 30),
                zorder=3,
            )
        limits = _value_limits(
            values["estimate"], values["ci_high"], np.array(ref_values or [np.nan])
        )
        for i in np.flatnonzero(hidden):
            ax.text(limits[0], i, f" {SUPPRESSED_MARK}", ha="left", va="center", size=13)
        ax.set_yticks(rows, [_wrap(str(label), 22) for label in frame["label"]])
        ax.set_ylim(n - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        _style_value_axis(ax, xlabel, axis="x")
        ax.set_xlim(*limits)
        _legend(ax, ncols=1, handlelength=1.4)
    return fig


def alt_text_area_dots(
    areas: pd.DataFrame, title: str, reference: tuple[str, float, float, float] | None = None
) -> str:
    """Danish text alternative for :func:`area_dots`: the reference, then the areas that are
    worse and better than the rest of the region with their values, and how many are not
    (statistically sure) different, not tested or hidden."""
    function = "alt_text_area_dots"
    frame = _check_frame(areas, AREA_COLUMNS, function, "areas")
    values = _proportions(frame, ("estimate",), function, scale=1)["estimate"]
    hidden = _hidden(frame) | ~np.isfinite(values)
    comparison = frame["comparison"].astype(str).to_numpy()
    labels = frame["label"].astype(str).to_numpy()
    parts = [f"Punktdiagram: {' '.join(title.split())}."]
    if reference is not None:
        parts.append(_sentence(f"{reference[0]}: {report.pct(round_share(reference[1]))}"))
    for key, text in (
        ("ringere", "Statistisk sikkert ringere end resten af regionen"),
        ("bedre", "Statistisk sikkert bedre end resten af regionen"),
    ):
        pick = np.flatnonzero((comparison == key) & ~hidden)
        if pick.size:
            items = [f"{labels[i]} ({report.pct(values[i])})" for i in pick]
            parts.append(f"{text}: {_join_da(items)}.")
    same = int(((comparison == "som resten") & ~hidden).sum())
    untested = np.flatnonzero((comparison == "ikke testet") & ~hidden)
    if same:
        noun = "område adskiller" if same == 1 else "områder adskiller"
        parts.append(f"{same} {noun} sig ikke statistisk sikkert fra resten.")
    if untested.size:
        items = [f"{labels[i]} ({report.pct(values[i])})" for i in untested]
        parts.append(f"Ikke testet mod resten af regionen: {_join_da(items)}.")
    if hidden.any():
        parts.append(f"{SUPPRESSED_TEXT.capitalize()}: {_join_da(list(labels[hidden]))}.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# HTML and text alternatives


def figure_html(
    fig: Figure,
    *,
    alt: str,
    caption: str | None = None,
    image_format: str = "svg",
    dpi: int = DPI,
) -> str:
    """A self-contained ``<figure>`` with the chart as an embedded image; closes the figure.

    ``image_format`` is "svg" (default: vector, real text, no date and fixed ids) or
    "png" (at ``dpi``, without a "Software" tag); either way the same figure gives the same
    bytes. ``alt`` (the text alternative, e.g. from :func:`alt_text_trend`) is required; ``alt``
    and ``caption`` are HTML-escaped. The figure is removed from pyplot's registry if it was
    made there, and must not be used afterwards.

    Raises
    ------
    ParameterError
        Empty ``alt``, an unknown ``image_format``, or ``fig`` is not a matplotlib Figure.
    """
    if not isinstance(fig, Figure):
        raise ParameterError(f"figure_html needs a matplotlib Figure, got {type(fig)}")
    if not isinstance(alt, str) or not alt.strip():
        raise ParameterError(
            "figure_html: alt text is required (a Danish description of the chart)"
        )
    if image_format not in IMAGE_FORMATS:
        raise ParameterError(
            f"figure_html: image_format must be one of {sorted(IMAGE_FORMATS)}, "
            f"got {image_format!r}"
        )
    buffer = io.BytesIO()
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    if image_format == "svg":
        # The font stack is read when the SVG is written, so it is set here too.
        with mpl.rc_context({**_SVG_RC, **_FONT_RC}):
            fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
        buffer = io.BytesIO(_compact_svg(buffer.getvalue().decode("utf-8")).encode("utf-8"))
    else:
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    width, height = fig.get_size_inches()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    img = (
        f'<img src="data:{IMAGE_FORMATS[image_format]};base64,{data}" '
        f'alt="{html.escape(" ".join(alt.split()))}" '
        f'width="{round(width * _CSS_DPI)}" height="{round(height * _CSS_DPI)}" '
        'style="max-width:100%;height:auto">'
    )
    figcaption = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="chart">{img}{figcaption}</figure>'


def _compact_svg(svg: str) -> str:
    """Matplotlib's SVG without what a browser does not need: the XML prolog, the DOCTYPE and
    the RDF metadata, the no-op rotations of unrotated text, and the line breaks and
    indentation between path commands and elements (≈ 20 % of a chart's bytes)."""
    svg = re.sub(r"\A<\?xml[^>]*>\s*<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r' transform="rotate\(-?0 [^)"]*\)"', "", svg)
    svg = re.sub(r" \n(?=[LMCQz])", " ", svg)  # inside path data: "M 0 0 \nL 1 1"
    return re.sub(r">\s+<", "><", svg)


def _sentence(text: str) -> str:
    """End with a full stop unless the text already does ("… 10,5 pct.")."""
    return text if text.endswith(".") else text + "."


def _join_da(items: Sequence[str]) -> str:
    """Join Danish style: "a, b og c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]


def _value_or_text(value: float, hidden: bool, formatter) -> str:
    return SUPPRESSED_TEXT if hidden or not np.isfinite(value) else formatter(value)


def alt_text_trend(series: pd.DataFrame, title: str, *, baseline_year: int | None = None) -> str:
    """Danish text alternative for :func:`trend_chart`: every value of every line.

    "Linjediagram: <title>. Odense: 12,8 pct. i 2010, 13,1 pct. i 2013 og for få svar til at vise
    tallet i 2017; Region Syddanmark: …. Basisåret 2021 er markeret."
    """
    function = "alt_text_trend"
    frame = _check_frame(series, TREND_COLUMNS, function, "series")
    values = _proportions(frame, ("estimate",), function, scale=1)["estimate"]
    hidden = _hidden(frame)
    years = _numeric(frame, "year", function)
    parts = []
    label_of = frame["label"].astype(str).to_numpy()
    for label in dict.fromkeys(label_of):
        rows = np.flatnonzero(label_of == label)
        rows = rows[np.argsort(years[rows], kind="stable")]
        points = [
            f"{_value_or_text(values[r], hidden[r], report.pct)} i {int(years[r])}" for r in rows
        ]
        parts.append(f"{label}: {_join_da(points)}")
    text = _sentence(f"Linjediagram: {' '.join(title.split())}. {'; '.join(parts)}")
    if baseline_year is not None:
        text += f" Basisåret {int(baseline_year)} er markeret med en lodret prikket linje."
    return text


def alt_text_gradient(groups: pd.DataFrame, title: str) -> str:
    """Danish text alternative for :func:`gradient_chart`: the value of every group."""
    function = "alt_text_gradient"
    frame = _check_frame(groups, GRADIENT_COLUMNS, function, "groups")
    values = _proportions(frame, ("estimate",), function, scale=1)["estimate"]
    hidden = _hidden(frame)
    parts = [
        f"{group}: {_value_or_text(values[i], hidden[i], report.pct)}"
        for i, group in enumerate(frame["group"].astype(str))
    ]
    return _sentence(f"Søjlediagram: {' '.join(title.split())}. {'; '.join(parts)}")


def alt_text_sii(series: pd.DataFrame, title: str) -> str:
    """Danish text alternative for :func:`sii_chart`: the SII of every wave in procentpoint
    (per label, when the series has a ``label`` column)."""
    function = "alt_text_sii"
    frame = _check_frame(series, SII_COLUMNS, function, "series")
    frame = frame.sort_values("year", kind="stable").reset_index(drop=True)
    values = _proportions(frame, ("sii",), function, signed=True, scale=1)["sii"]
    hidden = _hidden(frame)
    years = _numeric(frame, "year", function)
    labels = frame["label"].astype(str).to_numpy() if "label" in frame.columns else None

    def waves(rows) -> str:
        return "; ".join(
            f"{int(years[i])}: {_value_or_text(values[i], hidden[i], report.pp)}" for i in rows
        )

    if labels is None:
        body = waves(range(len(frame)))
    else:
        body = " ".join(
            f"{label}: {waves(np.flatnonzero(labels == label))}." for label in dict.fromkeys(labels)
        )
    return _sentence(
        f"Diagram over ulighedens hældningsindeks (SII): {' '.join(title.split())}. {body}"
    )
