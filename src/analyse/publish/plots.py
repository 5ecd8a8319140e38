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
- 7 × 3.5 inches (A4 text width, readable on a phone when scaled), fonts 9 pt or larger.
- Embedded as SVG with the text drawn as outlines: sharp at any zoom and in print, the same
  look in every browser (no font is needed on the reader's machine), and ≈ 40 % cheaper to
  write than a 150 dpi PNG (no rasterising or PNG compression; that was the largest cost of a
  brief). No date and fixed element ids, so the same input gives the same bytes. PNG (fixed
  dpi, no "Software" tag) remains available with ``image_format="png"``.

The figures are built on a :class:`~matplotlib.figure.Figure` with its own Agg canvas instead of
``pyplot``: nothing is registered in pyplot's global figure list (no memory growth over 125
briefs, no duplicate inline display in a notebook), and the caller's matplotlib backend is left
alone. The seaborn "whitegrid" theme is applied per figure through an rc context.
"""

from __future__ import annotations

import base64
import html
import io
import sys
import textwrap
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from analyse.errors import ParameterError
from analyse.publish import report
from analyse.stats.disclosure import SUPPRESSED_MARK, SUPPRESSED_TEXT

__all__ = [
    "DPI",
    "IMAGE_FORMATS",
    "FIGSIZE",
    "OKABE_ITO",
    "alt_text_gradient",
    "alt_text_sii",
    "alt_text_trend",
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
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", (0, (1, 1.5)), (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
#: Width × height in inches: fits A4 text width and scales down to a phone.
FIGSIZE = (7.0, 3.5)
#: Resolution of an embedded PNG; 150 dpi is sharp on high-density phone screens at 7 in wide.
DPI = 150
#: Image formats :func:`figure_html` can embed, with their MIME types.
IMAGE_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# SVG output: text as outlines (no font needed to view), fixed id salt (same bytes every run).
_SVG_RC = {"svg.fonttype": "path", "svg.hashsalt": "analyse", "svg.image_inline": True}
#: CSS pixels per inch, for the <img> width/height attributes.
_CSS_DPI = 96
MISSING_POINTS_NOTE = f"Manglende punkter: {SUPPRESSED_TEXT}."
SUPPRESSED_BAR_NOTE = f"{SUPPRESSED_MARK}: {SUPPRESSED_TEXT}."
# Characters per line of a footnote / title at 9-12 pt on a 7 in wide figure.
_NOTE_WIDTH = 105
_TITLE_WIDTH = 80

_RC = {
    **sns.axes_style("whitegrid"),
    "font.family": "DejaVu Sans",  # ships with matplotlib: æøå and U+2212 everywhere
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
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
    """Numeric columns times ``scale`` (percentages), NaN where suppressed; checks the 0-1 scale."""
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
    return "\n".join(textwrap.wrap(" ".join(str(text).split()), width)) if text else ""


def _new_figure(
    title: str,
    notes: Sequence[str],
    *,
    legend: bool = False,
    tick_lines: int = 1,
    legend_rows: int = 1,
) -> tuple[Figure, object]:
    """A figure with fixed margins, a left-aligned title and footnotes under the axes.

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
    extra_legend = 0.24 * (legend_rows - 1) if legend else 0.0
    height = (
        FIGSIZE[1]
        + 0.17 * note_lines
        + 0.2 * (title_lines - 1)
        + 0.16 * (tick_lines - 1)
        + extra_legend
    )
    top = 0.12 + 0.22 * title_lines + (0.38 + extra_legend if legend else 0.12)
    bottom = 0.62 + 0.16 * (tick_lines - 1) + (0.17 * note_lines + 0.08 if note_lines else 0)
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=0.72 / width, right=1 - 0.25 / width, top=1 - top / height, bottom=bottom / height
    )
    fig.suptitle(title_text, x=0.01, y=1 - 0.08 / height, ha="left", va="top")
    if note_text:
        fig.supxlabel(
            note_text,
            x=0.01,
            y=0.06 / height,
            ha="left",
            va="bottom",
            fontsize=9,
            color="0.3",
            linespacing=1.3,
        )
    ax = fig.add_subplot()
    return fig, ax


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
        fig, ax = _new_figure(title, notes, legend=True)
        labels = list(dict.fromkeys(frame["label"].astype(str)))
        label_of = frame["label"].astype(str).to_numpy()
        for i, label in enumerate(labels):
            rows = np.flatnonzero(label_of == label)
            rows = rows[np.argsort(years[rows], kind="stable")]
            x = years[rows]
            y, low, high = (values[c][rows] for c in ("estimate", "ci_low", "ci_high"))
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            band = np.isfinite(low) & np.isfinite(high) & np.isfinite(y)
            ax.fill_between(x, low, high, where=band, color=colour, alpha=0.15, lw=0)
            # A point with no drawn neighbour has no band width: show its interval as a whisker.
            alone = band & ~_has_neighbour(np.isfinite(y))
            _whiskers(
                ax, x, y, low, high, alone, axis="y", ecolor=colour, alpha=0.5, capsize=0, lw=3
            )
            ax.plot(
                x,
                y,
                color=colour,
                linestyle=LINESTYLES[i % len(LINESTYLES)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=6,
                lw=2,
                label=label,
            )
        waves = np.unique(years[np.isfinite(years)])
        ax.xaxis.set_major_locator(FixedLocator(waves))
        ax.xaxis.set_major_formatter(_YEAR_TICKS)
        ax.set_xlim(waves.min() - 0.8, waves.max() + 0.8)
        ax.grid(axis="x", visible=False)
        ax.set_xlabel(xlabel)
        _style_value_axis(ax, ylabel)
        ax.set_ylim(*_value_limits(values["estimate"], values["ci_high"]))
        if baseline_year is not None and waves.min() <= baseline_year <= waves.max():
            _mark_baseline(ax, baseline_year)
        # Above the axes, under the title: never covers data, reads left to right on a phone.
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.02),
            ncols=min(len(labels), 4),
            frameon=False,
            borderaxespad=0.0,
            handlelength=3.2,
        )
    return fig


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
        fontsize=9,
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

    ``groups`` has ``group`` (labels, drawn in the given order: least to most educated),
    ``estimate``, ``ci_low``, ``ci_high`` (0-1) and ``suppressed``. A suppressed group gets no
    bar, only the mark "–" and a footnote. Raises :class:`ParameterError` as
    :func:`trend_chart`.
    """
    function = "gradient_chart"
    frame = _check_frame(groups, GRADIENT_COLUMNS, function, "groups")
    values = _proportions(frame, ("estimate", "ci_low", "ci_high"), function)
    hidden = _hidden(frame) | ~np.isfinite(values["estimate"])
    notes = [note] if note else []
    if hidden.any():
        notes.append(SUPPRESSED_BAR_NOTE)
    with mpl.rc_context(_RC):
        fig, ax = _new_figure(title, notes, tick_lines=3)
        x = np.arange(len(frame))
        y = values["estimate"]
        shown = ~hidden
        ax.bar(x[shown], y[shown], width=0.6, color=OKABE_ITO[0], alpha=0.85, zorder=2)
        low, high = values["ci_low"], values["ci_high"]
        whisker = shown & np.isfinite(low) & np.isfinite(high)
        _whiskers(
            ax, x, y, low, high, whisker, axis="y", ecolor="0.15", capsize=4, lw=1.2, zorder=3
        )
        limits = _value_limits(y, high)
        top = np.where(np.isfinite(high), high, y)
        raw = _proportions(frame, ("estimate",), function, scale=1)["estimate"]
        for xi, ri, ti, is_hidden in zip(x, raw, top, hidden, strict=True):
            if is_hidden:
                ax.text(xi, limits[1] * 0.03, SUPPRESSED_MARK, ha="center", va="bottom", size=16)
            else:
                ax.annotate(
                    report.pct_number(float(ri)),
                    xy=(xi, ti),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=9,
                )
        ax.set_xticks(x, [_wrap(g, 16) for g in frame["group"].astype(str)])
        ax.grid(axis="x", visible=False)
        ax.set_xlim(-0.6, len(frame) - 0.4)
        ax.set_xlabel(xlabel)
        _style_value_axis(ax, ylabel)
        ax.set_ylim(*limits)
    return fig


def sii_chart(
    series: pd.DataFrame,
    *,
    title: str,
    ylabel: str = "SII (procentpoint)",
    xlabel: str = "År",
    baseline_year: int | None = None,
    note: str | None = None,
) -> Figure:
    """The slope index of inequality over the waves, in percentage points, with a zero line.

    ``series`` has ``year``, ``sii``, ``ci_low``, ``ci_high`` (differences of proportions, -1 to
    1) and optionally ``suppressed``; suppressed or missing waves are gaps. With a ``label``
    column (e.g. one per indicator) each label is its own line with a legend. Raises
    :class:`ParameterError` as :func:`trend_chart`.
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
    notes.append(
        "SII: forskellen i procentpoint mellem toppen og bunden af uddannelsesskalaen, beregnet "
        "ud fra alle uddannelsesgrupper. Over 0: andelen stiger med uddannelse."
    )
    labels = (
        list(dict.fromkeys(frame["label"].astype(str))) if "label" in frame.columns else ["SII"]
    )
    label_of = frame["label"].astype(str).to_numpy() if "label" in frame.columns else None
    with mpl.rc_context(_RC):
        legend_columns = 2
        shown_labels = {label: _wrap(label, 34) for label in labels}
        lines = sum(text.count("\n") for text in shown_labels.values())
        fig, ax = _new_figure(
            title,
            notes,
            legend=len(labels) > 1,
            legend_rows=-(-len(labels) // legend_columns) + -(-lines // legend_columns),
        )
        ax.axhline(0, color="0.1", lw=1, zorder=1)
        # Several indicators: one line each (colour, line style and marker), dodged a little on
        # the x axis so the intervals do not hide each other.
        for i, label in enumerate(labels):
            rows = np.arange(len(frame)) if label_of is None else np.flatnonzero(label_of == label)
            x = years[rows] + (i - (len(labels) - 1) / 2) * 0.25
            y, low, high = (values[c][rows] for c in ("sii", "ci_low", "ci_high"))
            colour = OKABE_ITO[i % len(OKABE_ITO)]
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
            ax.legend(
                loc="lower left",
                bbox_to_anchor=(0.0, 1.02),
                ncols=legend_columns,
                frameon=False,
                borderaxespad=0.0,
                handlelength=3.2,
            )
        y, low, high = values["sii"], values["ci_low"], values["ci_high"]
        waves = np.unique(years[np.isfinite(years)])
        ax.xaxis.set_major_locator(FixedLocator(waves))
        ax.xaxis.set_major_formatter(_YEAR_TICKS)
        ax.set_xlim(waves.min() - 0.8, waves.max() + 0.8)
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
    legend_columns = 3
    with mpl.rc_context(_RC):
        fig, ax = _new_figure(
            title, notes, legend=True, legend_rows=-(-len(levels) // legend_columns)
        )
        fig.set_figheight(fig.get_figheight() + 0.32 * max(len(rows) - 3, 0))
        fig.subplots_adjust(left=2.3 / FIGSIZE[0])
        offsets = (np.arange(len(levels)) - (len(levels) - 1) / 2) * 0.13
        for j, level in enumerate(levels):
            pick = (level_of == j) & ~hidden
            y = row_of[pick] + offsets[j]
            x, low, high = (values[c][pick] for c in ("estimate", "ci_low", "ci_high"))
            colour = OKABE_ITO[j % len(OKABE_ITO)]
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
                label=level,
                zorder=3,
            )
        ax.set_yticks(np.arange(len(rows)), [_wrap(r, 28) for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(_DANISH_TICKS)
        ax.set_xlabel(xlabel)
        low_limit, high_limit = _value_limits(values["estimate"], values["ci_high"])
        ax.set_xlim(low_limit, high_limit)
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.02),
            ncols=legend_columns,
            frameon=False,
            borderaxespad=0.0,
            handlelength=1.5,
        )
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

    ``image_format`` is "svg" (default: vector, text as outlines, no date and fixed ids) or
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
        with mpl.rc_context(_SVG_RC):
            fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
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
