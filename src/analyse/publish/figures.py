"""Seaborn figures for the analysis notebooks, each drawn from the table the step just showed.

Every function takes the tidy frame of :mod:`analyse.cube.analysis` (the one
:mod:`analyse.publish.tables` formats), so a changed table changes the figure; hidden
(suppressed) values are not drawn. It returns a :class:`Chart`: the matplotlib figure
(``chart.figure``) that displays itself in a notebook as an embedded SVG with a Danish text
alternative (:func:`analyse.publish.plots.figure_html`). With ``internal=True`` the figure
carries the banner "Kun til intern brug — må ikke offentliggøres".
"""

from __future__ import annotations

import textwrap

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analyse.cube.analysis import TrendModel
from analyse.publish import plots, report
from analyse.publish.tables import INTERNAL_BANNER, breakdown_label, share_title
from analyse.stats.disclosure import round_share

FIGSIZE = (7.0, 3.8)
_RC = {"font.size": 10, "axes.titlesize": 11, "axes.titlelocation": "left"}


class Chart:
    """A figure and its text alternative; shown in a notebook as an embedded SVG."""

    def __init__(self, figure: Figure, alt: str) -> None:
        self.figure = figure
        self.alt = alt
        self._html: str | None = None

    def _repr_html_(self) -> str:
        if self._html is None:
            self._html = plots.figure_html(self.figure, alt=self.alt)
        return self._html

    def __repr__(self) -> str:
        return f"<Chart: {self.alt}>"


def _figure(title: str, internal: bool) -> tuple[Figure, object]:
    fig = Figure(figsize=FIGSIZE)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title)
    if internal:
        fig.text(
            0.5,
            0.99,
            INTERNAL_BANNER,
            ha="center",
            va="top",
            fontsize=11,
            fontweight="bold",
            color="#3d2800",
            bbox={"facecolor": "#fff3cd", "edgecolor": "#8a5a00", "boxstyle": "square,pad=0.3"},
        )
    fig.subplots_adjust(top=0.8 if internal else 0.88, bottom=0.15, right=0.66, left=0.1)
    return fig, ax


def _legend(ax) -> None:
    """Legend right of the axes, long group names wrapped so they stay inside the figure."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        wrapped = [textwrap.fill(str(label), 24) for label in labels]
        ax.legend(
            handles, wrapped, title=None, bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8
        )


def _wave_ticks(ax, years) -> None:
    """A tick at each wave (the waves are irregular), not at matplotlib's round numbers."""
    waves = sorted({int(y) for y in years})
    if waves:
        ax.set_xticks(waves)
        ax.set_xticklabels([str(w) for w in waves], rotation=45 if len(waves) > 6 else 0)


def _pct_axis(ax, axis: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _p: report.number(v).replace("-", report.MINUS))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _pct(values):
    """Proportions (or differences) in percent, rounded to the shown 0.1 point first
    (:func:`analyse.stats.disclosure.round_share`): the SVG carries no more precision."""
    return 100 * round_share(values)


def _shown(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    hidden = frame.get("suppressed", pd.Series(False, index=frame.index)).fillna(False)
    return frame[~hidden.astype(bool) & frame[value].notna()]


def _alt(title: str, internal: bool) -> str:
    return (f"{INTERNAL_BANNER}. " if internal else "") + title


def estimates_figure(estimates: pd.DataFrame, *, internal: bool = False) -> Chart:
    """Shares (pct.) over the waves, one line per group, with confidence intervals."""
    shown = _shown(estimates, "estimate").assign(
        pct=lambda f: _pct(f["estimate"]),
        low=lambda f: _pct(f["ci_low"]),
        high=lambda f: _pct(f["ci_high"]),
    )
    breakdown = estimates["breakdown"].iloc[0] if len(estimates) else "total"
    title = share_title(breakdown)
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig, ax = _figure(title, internal)
        if not shown.empty:
            sns.lineplot(
                data=shown, x="year", y="pct", hue="group", style="group", markers=True, ax=ax
            )
            for _, row in shown.iterrows():
                ax.vlines(row["year"], row["low"], row["high"], color="0.5", linewidth=0.8)
            _legend(ax)
            _wave_ticks(ax, shown["year"])
        ax.set_xlabel("År")
        ax.set_ylabel("Andel (pct.)")
        ax.set_ylim(bottom=0)
        _pct_axis(ax)
    hidden = len(estimates) - len(shown)
    alt = _alt(title, internal) + (f". {hidden} tal er skjult (for få svar)." if hidden else ".")
    return Chart(fig, alt)


def data_figure(data: pd.DataFrame, *, internal: bool = False) -> Chart:
    """The data step: respondents with an answer per wave (microdata), or the total share."""
    if "respondents" in data.columns:
        title = "Svarpersoner med svar pr. måling"
        with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
            fig, ax = _figure(title, internal)
            sns.barplot(data=data.astype({"year": str}), x="year", y="answered", ax=ax)
            ax.set_xlabel("År")
            ax.set_ylabel("Antal svar")
            _pct_axis(ax)
        return Chart(fig, _alt(title, internal) + ".")
    return estimates_figure(data.assign(group="I alt"), internal=internal)


def coefficients_figure(model: TrendModel, *, internal: bool = False) -> Chart:
    """Odds ratios of the trend model's terms (log scale) with intervals; intercept left out."""
    rows = model.coefficients[model.coefficients["term"] != "Intercept"].dropna(
        subset=["odds_ratio"]
    )
    title = "Trendmodellens odds ratioer"
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig, ax = _figure(title, internal)
        if not rows.empty:
            sns.pointplot(data=rows, x="odds_ratio", y="term", linestyle="none", ax=ax)
            y = np.arange(len(rows))
            ax.hlines(y, rows["or_ci_low"], rows["or_ci_high"], color="0.3")
            ax.set_xscale("log")
        ax.axvline(1, color="0.5", linestyle="--", linewidth=0.8)
        ax.set_xlabel("Odds ratio (log-skala)")
        ax.set_ylabel("")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: report.ratio(v)))
        fig.subplots_adjust(left=0.35, right=0.95)
    return Chart(fig, _alt(title, internal) + f": {model.summary['formula'].iloc[0]}.")


def forecast_figure(
    estimates: pd.DataFrame, forecast: pd.DataFrame, *, internal: bool = False
) -> Chart:
    """The total's series (from the estimates table) and the forecast with its interval."""
    total = _shown(estimates[estimates["group"] == "I alt"], "estimate")
    title = "Udvikling og fremskrivning"
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig, ax = _figure(title, internal)
        if not total.empty:
            sns.lineplot(
                x=total["year"], y=_pct(total["estimate"]), marker="o", label="Målt", ax=ax
            )
            ax.vlines(total["year"], _pct(total["ci_low"]), _pct(total["ci_high"]), color="0.5")
        row = forecast.iloc[0] if len(forecast) else None
        if row is not None and not report.is_missing(row["projected"]):
            year = row["projection_year"]
            projected, low, high = (
                _pct(row[c]) for c in ("projected", "projected_pi_low", "projected_pi_high")
            )
            ax.errorbar(
                [year],
                [projected],
                yerr=[[projected - low], [high - projected]],
                fmt="D",
                color="#a6611a",
                label=f"Fremskrevet {int(year)}",
            )
        _legend(ax)
        _wave_ticks(ax, [*total["year"], *forecast.get("projection_year", pd.Series()).dropna()])
        ax.set_xlabel("År")
        ax.set_ylabel("Andel (pct.)")
        ax.set_ylim(bottom=0)
        _pct_axis(ax)
    return Chart(fig, _alt(title, internal) + ".")


def inequality_figure(inequality: pd.DataFrame, *, internal: bool = False) -> Chart:
    """D (and SII where the dimension is ordered) per wave with intervals, in points."""
    long = []
    for measure in ("d", "sii"):
        part = inequality[["year", measure, f"{measure}_ci_low", f"{measure}_ci_high"]].dropna()
        part.columns = ["year", "value", "low", "high"]
        long.append(part.assign(measure=measure.upper()))
    frame = pd.concat(long, ignore_index=True)
    dimension = inequality["dimension"].iloc[0] if len(inequality) else "education"
    title = f"Social ulighed efter {breakdown_label(dimension)}"
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig, ax = _figure(title, internal)
        if not frame.empty:
            frame = frame.assign(value=_pct(frame["value"]))
            sns.lineplot(data=frame, x="year", y="value", hue="measure", marker="o", ax=ax)
            ax.vlines(frame["year"], _pct(frame["low"]), _pct(frame["high"]), color="0.5")
            _legend(ax)
            _wave_ticks(ax, frame["year"])
        ax.axhline(0, color="0.4", linewidth=0.8)
        ax.set_xlabel("År")
        ax.set_ylabel("Forskel (procentpoint)")
        _pct_axis(ax)
    return Chart(fig, _alt(title, internal) + ".")


def _year(value) -> str:
    return report.SUPPRESSED_MARK if report.is_missing(value) else str(int(value))


def gap_figure(gap: pd.DataFrame, *, internal: bool = False) -> Chart:
    """The gap at the baseline and in the latest wave (absolute value, points)."""
    row = gap.iloc[0]
    frame = pd.DataFrame(
        {
            "måling": [_year(row["baseline"]), _year(row["latest"])],
            "værdi": [_pct(abs(row["value_baseline"])), _pct(abs(row["value_latest"]))],
        }
    ).dropna()
    title = f"Numerisk forskel ({row['measure']}): {row['gap']}"
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig, ax = _figure(title, internal)
        if not frame.empty:
            sns.barplot(data=frame, x="måling", y="værdi", ax=ax)
        ax.set_xlabel("Måling")
        ax.set_ylabel("Forskel (procentpoint)")
        _pct_axis(ax)
    return Chart(fig, _alt(title, internal) + ".")
