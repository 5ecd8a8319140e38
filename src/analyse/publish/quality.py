"""Data-quality overview of a raw delivery, for the data-quality notebook (aggregates only).

Reads the delivery with :func:`analyse.data.clean.load_survey`, keeps only the report's aggregate
tables (the respondent rows are dropped at once) and renders them as Danish HTML tables. Counts
between 1 and 4 are shown as "<5", as for any output that leaves the analysis server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analyse.data import clean
from analyse.publish import report
from analyse.publish.html import Html, esc, html_table

SMALL = 5


def _count(n) -> str:
    if pd.isna(n):
        return "–"
    n = int(n)
    return f"<{SMALL}" if 0 < n < SMALL else report.number(n)


@dataclass
class Quality:
    """The data-quality tables of one raw delivery."""

    path: Path
    tables: dict[str, pd.DataFrame]
    summary_text: str

    @classmethod
    def open(cls, raw_path: str | Path = "data/raw", codebook: str | None = None) -> Quality:
        """Clean and validate the delivery; fatal problems raise ``DataValidationError``."""
        respondents, quality_report = clean.load_survey(raw_path, codebook or None)
        del respondents  # only aggregates leave this function
        return cls(Path(raw_path), clean.quality_tables(quality_report), quality_report.summary())

    def overview(self) -> Html:
        """Files read and respondents per wave."""
        files = self.tables["files"]
        rows = [
            [
                esc(r["Fil"]),
                esc(r["Format"]),
                _count(r["Rækker"]),
                esc(r["Bølger"]),
                esc(r["Tegnsæt"] or "–"),
                esc(r["Ukendte kolonner"] or "–"),
            ]
            for _, r in files.iterrows()
        ]
        waves = self.tables["by_wave"]
        wave_rows = [
            [
                str(int(r["År"])),
                _count(r["Svarpersoner"]),
                _count(r["Kommuner"]),
                report.number(r["Vægt, sum"]),
                _count(r["Bløde problemer"]),
                _count(r["Ved ikke"]),
            ]
            for _, r in waves.iterrows()
        ]
        return Html(
            "<h2>Filer i leverancen</h2>"
            + html_table(
                ["Fil", "Format", "Rækker", "Bølger", "Tegnsæt", "Ukendte kolonner"],
                rows,
                numeric={2},
            )
            + "<h2>Svarpersoner pr. bølge</h2>"
            + html_table(
                [
                    "År",
                    "Svarpersoner",
                    "Kommuner",
                    "Vægtsum (befolkning)",
                    "Bløde problemer",
                    "Ved ikke",
                ],
                wave_rows,
                numeric={1, 2, 3, 4, 5},
            )
        )

    def respondents(self) -> Html:
        """Respondents per kommune (rows) and wave (columns), and the weight range per wave."""
        table = self.tables["respondents"]
        wide = table.pivot_table(
            index="Kommune", columns="År", values="Svarpersoner", aggfunc="sum"
        )
        years = list(wide.columns)
        rows = [
            [esc(k)] + [_count(v) for v in values]
            for k, values in zip(wide.index, wide.to_numpy(), strict=True)
        ]
        weights = table.groupby("År").agg(
            lowest=("Vægt, mindste", "min"),
            middle=("Vægt, median", "median"),
            highest=("Vægt, største", "max"),
        )
        weight_rows = [
            [
                str(int(y)),
                report.number(r["lowest"], 1),
                report.number(r["middle"], 1),
                report.number(r["highest"], 1),
            ]
            for y, r in weights.iterrows()
        ]
        return Html(
            "<h2>Svarpersoner pr. kommune og bølge</h2>"
            + html_table(
                ["Kommune"] + [str(int(y)) for y in years],
                rows,
                numeric=set(range(1, len(years) + 1)),
            )
            + "<h2>Kalibreringsvægte</h2>"
            + html_table(
                ["År", "Mindste vægt", "Median (af kommunernes medianer)", "Største vægt"],
                weight_rows,
                numeric={1, 2, 3},
            )
        )

    def missingness(self) -> Html:
        """Share of respondents without an answer, per item and wave."""
        table = self.tables["missingness"]
        sums = table.groupby(["Variabel", "År"])[["Svarpersoner", "Manglende"]].sum()
        share = (sums["Manglende"] / sums["Svarpersoner"]).unstack("År")
        years = list(share.columns)
        rows = [
            [esc(item)] + [report.pct(v) if pd.notna(v) else "ikke stillet" for v in values]
            for item, values in zip(share.index, share.to_numpy(), strict=True)
        ]
        return Html(
            "<h2>Manglende svar pr. spørgsmål</h2>"
            + html_table(
                ["Variabel"] + [str(int(y)) for y in years],
                rows,
                numeric=set(range(1, len(years) + 1)),
            )
        )

    def recodes(self) -> Html:
        """How raw codes were recoded into the canonical categories (all kommuner together)."""
        table = self.tables["recodes"]
        sums = table.groupby(["Omkodning", "Rå kode", "Kategori"])["Antal"].sum().reset_index()
        rows = [
            [esc(r["Omkodning"]), esc(r["Rå kode"]), esc(r["Kategori"]), _count(r["Antal"])]
            for _, r in sums.iterrows()
        ]
        return Html(
            "<h2>Omkodninger</h2>"
            + html_table(["Omkodning", "Rå kode", "Kategori", "Antal"], rows, numeric={3})
        )

    def soft_problems(self) -> Html:
        """Implausible values and other soft problems, per wave; counts under 5 shown as "<5"."""
        table = self.tables["soft_problems"]
        sums = table.groupby(["År", "Problem", "Variabel"])["Antal"].sum().reset_index()
        rows = [
            [str(int(r["År"])), esc(r["Problem"]), esc(r["Variabel"]), _count(r["Antal"])]
            for _, r in sums.iterrows()
        ]
        return Html(
            "<h2>Bløde problemer (sat til manglende og talt med)</h2>"
            + html_table(["År", "Problem", "Variabel", "Antal"], rows, numeric={3})
        )
