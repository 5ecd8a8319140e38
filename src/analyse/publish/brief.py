"""The brief for one area: tables, figures and generated Danish text from the processed data.

The notebooks stay thin: each cell calls one method of :class:`Brief` and the method returns
HTML (an :class:`Html` string that Jupyter displays). The brief reads only the processed tables
(``data/processed``), which have already been through :mod:`analyse.stats.disclosure`; before anything
is rendered the tables are checked once more with :func:`analyse.stats.disclosure.assert_publishable`,
so a notebook cannot show an unsuppressed value by mistake.

One unit of about 1,000 lines because every section of a brief reads the same area's rows,
which :class:`Brief` loads and indexes once; the formatting and the figures it uses live in
:mod:`analyse.publish.report` and :mod:`analyse.publish.plots`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analyse.cube import coverage
from analyse.cube.build import table_path
from analyse.cube.protection import WITHHELD_REASONS
from analyse.errors import ParameterError
from analyse.publish import overview, plots, report
from analyse.publish.html import Html, esc, html_table
from analyse.reference import geography
from analyse.reference.catalogue import Agreement, Indicator, is_path, load_agreement
from analyse.stats import disclosure
from analyse.stats.rates import wilson_interval
from analyse.stats.survey import proportion_interval

TOTAL = "I alt"
EDUCATION_LOW = "Grundskole"
EDUCATION_HIGH = "Lang videregående"
#: Shown where a number does not exist (unlike the suppression mark, which hides one).
NOT_APPLICABLE = "i.r."
#: The SII figure's footnote (the sign as in SIGN_NOTE).
SII_FIGURE_NOTE = (
    "SII: forskellen i procentpoint mellem bunden og toppen af uddannelsesskalaen, beregnet ud "
    "fra alle uddannelsesgrupper. Over 0: borgere med kortest uddannelse har det dårligst i "
    "forhold til målsætningen."
)
#: Ends the text alternative of every figure that has a data table under it.
DATA_POINTER = " Tallene med konfidensintervaller står i tabellen under figuren."
#: The sign convention of every education gap the brief shows (tables, figures, footnotes).
SIGN_NOTE = (
    "D = forskellen i procentpoint mellem grundskole og lang videregående uddannelse (25 år og "
    "derover); SII = hældningsindekset over alle uddannelsesgrupper. Begge har samme fortegn: "
    "over 0 har borgere med kortest uddannelse det dårligst i forhold til målsætningen, under 0 "
    "borgere med længst uddannelse."
)

_AREA_TABLES = (
    "estimates",
    "status",
    "trends",
    "inequality",
    "gap_change",
    "register",
    "register_status",
    "register_trends",
)
#: Column headings and sentence names of the comparison areas, per level.
_REST_OF = {
    "sundhedsklynge": "Mod resten af klyngen",
    "region": "Mod resten af regionen",
    "land": "Mod resten af landet",
}


@dataclass
class Brief:
    """Everything one brief shows, for one area and agreement."""

    agreement: Agreement
    area: pd.Series
    region: pd.Series | None
    tables: dict[str, pd.DataFrame]
    manifest: dict
    processed: Path
    level: float = 0.95
    waves: list[int] | None = None
    today: date = field(default_factory=date.today)
    #: The areas the brief compares with, per the agreement: (level, code, name).
    comparisons: list[tuple[str, str, str]] = field(default_factory=list)

    # ------------------------------------------------------------------ loading

    @classmethod
    def open(
        cls,
        processed_dir: str | Path = "data/processed",
        agreement_id: str = "syddanmark-2024-2027",
        area_level: str = "kommune",
        area_code: str | int = "461",
        *,
        waves: str | list[int] | None = None,
        confidence_level: float = 0.95,
    ) -> Brief:
        """Read the processed tables for an area, its region and Denmark.

        Raises
        ------
        ParameterError
            Unknown area, a missing processed folder (run ``analyse build``), a bad wave list or
            confidence level.
        """
        processed = Path(processed_dir)
        if not (processed / "manifest.json").exists():
            raise ParameterError(
                f"no processed data in {processed}: run `analyse build` (or `make run`) first"
            )
        if not 0 < confidence_level < 1:
            raise ParameterError(
                f"confidence_level must be between 0 and 1, got {confidence_level}"
            )
        agreement = load_agreement(agreement_id)
        manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
        built = [record.get("id") for record in manifest.get("agreements", [])]
        if agreement.id not in built:
            hint = f" --agreement {agreement.path}" if is_path(agreement_id) else ""
            raise ParameterError(
                f"the processed data in {processed} were built without the agreement "
                f"{agreement.id!r} (they hold {', '.join(built) or 'none'}): run "
                f"`analyse build{hint}`"
            )
        area = geography.area(area_level, area_code)
        comparisons = [
            (level, code, _comparison_name(level, code))
            for level, code in agreement.comparison_areas(area_level, area["area_code"])
        ]
        region = next(
            (geography.area("region", code) for level, code, _ in comparisons if level == "region"),
            None,
        )
        codes = {str(area["area_code"]), geography.COUNTRY_CODE}
        codes.update(code for _, code, _ in comparisons)
        tables = {}
        for name in _AREA_TABLES:
            tables[name] = pq.read_table(
                table_path(processed, name, agreement.id),
                filters=[("area_code", "in", sorted(codes))],
            ).to_pandas()
        tables["activity_status"] = pd.read_parquet(
            table_path(processed, "activity_status", agreement.id)
        )
        tables["klynge_comparisons"] = pq.read_table(
            table_path(processed, "klynge_comparisons"),
            filters=[("area_code", "=", str(area["area_code"]))],
        ).to_pandas()
        if table_path(processed, "coverage").exists():
            tables["coverage"] = pd.read_parquet(table_path(processed, "coverage"))
            coverage.check_covered(tables["coverage"], area_level, str(area["area_code"]))
        wave_list = _parse_waves(waves)
        _check_waves(wave_list, manifest.get("waves", []))
        brief = cls(
            agreement,
            area,
            region,
            tables,
            manifest,
            processed,
            confidence_level,
            wave_list,
            comparisons=comparisons,
        )
        brief._check_publishable()
        return brief

    def _check_publishable(self) -> None:
        for name in ("estimates", "register"):
            disclosure.assert_publishable(self.tables[name])
            self.tables[name] = _at_level(self.tables[name], self.level)

    def _interval_note(self) -> str:
        """What the intervals are: the brief's level for the shares; the derived results
        (changes, status, education gaps, trend models) keep the level they were built at."""
        levels = [
            float(v)
            for name in ("trends", "gap_change")
            if "level" in self.tables.get(name, ())
            for v in self.tables[name]["level"].dropna().unique()
        ]
        built = levels[0] if levels else 0.95
        percent = round(self.level * 100, 6)
        shares = report.number(percent, 0 if percent.is_integer() else 1)
        if np.isclose(built, self.level):
            return f"Intervaller er {shares} pct.-konfidensintervaller."
        return (
            f"Intervaller for andelene er {shares} pct.-konfidensintervaller; ændringer, status, "
            f"uddannelsesforskelle og udviklingsmodeller er beregnet med "
            f"{report.number(built * 100)} pct.-konfidensintervaller."
        )

    # ------------------------------------------------------------------ helpers

    @property
    def name(self) -> str:
        cache = self.__dict__.setdefault("_name_cache", {})
        if "name" not in cache:
            cache["name"] = geography.display_name(self.level_name, self.code)
        return cache["name"]

    @property
    def code(self) -> str:
        return str(self.area["area_code"])

    @property
    def level_name(self) -> str:
        return str(self.area["area_level"])

    @property
    def file_stem(self) -> str:
        """The brief's file name without suffix in a batch run ("kommune-odense"); its data
        files are ``<file_stem>.csv`` and ``.xlsx`` beside it."""
        return str(self.area["slug"])

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    def _areas_compared(self) -> list[tuple[str, str, str]]:
        """(level, code, name) of the area and of the areas it is compared with (the
        agreement's comparisons: its klynge, region and Denmark), in that order."""
        return [(self.level_name, self.code, self.name), *self.comparisons]

    def _versus(self, ind: Indicator, latest: pd.Series | None, level: str, code: str):
        """(difference, p-value) of the area against the rest of a comparison area, or None.

        Region and Denmark: the cube's ``vs_region``/``vs_land`` columns; a sundhedsklynge:
        the kommune against the rest of the klynge (``klynge_comparisons``). Survey only.
        """
        if latest is None or ind.source != "survey":
            return None
        if level in ("region", "land"):
            diff = latest.get(f"vs_{level}_diff")
            return None if pd.isna(diff) else (diff, latest.get(f"vs_{level}_p"))
        table = self.tables["klynge_comparisons"]
        rows = table[
            (table["indicator"] == ind.id)
            & (table["year"] == latest["year"])
            & (table["parent_code"] == code)
        ]
        if rows.empty or pd.isna(rows.iloc[0]["diff"]):
            return None
        return rows.iloc[0]["diff"], rows.iloc[0]["p"]

    def _register_comparisons(self, ind: Indicator, latest: pd.Series) -> list[str]:
        """ "Til sammenligning er andelen i Region Midtjylland 12,3 pct. i 2024.": the value of
        each comparison area in the same year (register indicators, which are not tested)."""
        out = []
        for level, code, name in self.comparisons:
            rows = self._estimates(ind, level, code)
            rows = rows[rows["year"] == latest["year"]]
            if rows.empty or bool(rows.iloc[0]["suppressed"]):
                continue
            where = name[0].lower() + name[1:] if name.lower().startswith("hele ") else name
            out.append(
                f"Til sammenligning er andelen i {where} "
                f"{report.pct(rows.iloc[0]['estimate'])} i {int(latest['year'])}."
            )
        return out

    def _estimates(
        self,
        indicator: Indicator,
        level: str | None = None,
        code: str | None = None,
        breakdown: str = "total",
    ) -> pd.DataFrame:
        name = "register" if indicator.source == "register" else "estimates"
        key = (indicator.id, breakdown, level or self.level_name, code or self.code)
        rows = self._cells(name).get(key)
        if rows is None:
            rows = self.tables[name].iloc[0:0]
        if self.waves and indicator.source == "survey":
            rows = rows[rows["year"].isin(self.waves)]
        return rows.sort_values("year")

    def _cells(self, name: str) -> dict:
        """The table's rows grouped by indicator × breakdown × area (computed once per brief)."""
        cache = self.__dict__.setdefault("_cell_cache", {})
        if name not in cache:
            table = self.tables[name]
            cache[name] = {
                key: rows
                for key, rows in table.groupby(
                    ["indicator", "breakdown", "area_level", "area_code"], sort=False
                )
            }
        return cache[name]

    def _one(self, name: str, indicator: Indicator, **match) -> pd.Series | None:
        """The first row of the area's rows for the indicator with the given column values."""
        cache = self.__dict__.setdefault("_area_cache", {})
        if name not in cache:  # this area's rows per indicator, grouped once per brief
            table = self.tables[name]
            mine = table[
                (table["area_level"] == self.level_name) & (table["area_code"] == self.code)
            ]
            cache[name] = dict(tuple(mine.groupby("indicator", sort=False)))
        rows = cache[name].get(indicator.id)
        if rows is None:
            return None
        for column, value in match.items():
            rows = rows[rows[column] == value]
        return None if rows.empty else rows.iloc[0]

    def _status_row(self, indicator: Indicator) -> pd.Series | None:
        name = "register_status" if indicator.source == "register" else "status"
        return self._one(name, indicator, breakdown="total")

    def _latest(self, indicator: Indicator) -> pd.Series | None:
        rows = self._estimates(indicator)
        return None if rows.empty else rows.iloc[-1]

    def _inequality(self, indicator: Indicator, year: int) -> pd.Series | None:
        return self._one("inequality", indicator, dimension="education", year=year)

    # ------------------------------------------------------------------ sections

    def header(self) -> Html:
        """Title, the one-sentence status summary, links (overview, index, the brief's data
        files), area, agreement, data used, date, the synthetic-data mark and the contents."""
        ag = self.agreement
        waves = self.manifest.get("waves", [])
        survey_waves = report_join([str(w) for w in waves if w in ag.kommune_waves])
        national = [str(w) for w in waves if w not in ag.kommune_waves]
        parts = ['<a class="skip-link" href="#status">Gå til status for målsætningerne</a>']
        if self.synthetic:
            parts.append(
                '<p class="synthetic">Syntetiske data — tallene er genereret til afprøvning og '
                "beskriver ikke rigtige personer.</p>"
            )
        # The area in the h1: every brief's main heading (and so its outline) is distinct.
        parts.append(f"<h1>{esc(self.name)}: opfølgning på {esc(ag.title)}</h1>")
        parts.append(f'<p class="summary">{esc(self.summary_sentence())}</p>')
        parts.append(self._links())
        data_text = f"Sundhedsprofilen {survey_waves}"
        if national:
            data_text += f" (for hele landet også {report_join(national)})"
        register_years = sorted(self.tables["register"]["year"].unique())
        if register_years:
            data_text += f", registerdata {register_years[0]}–{register_years[-1]}"
        status_years = sorted(self.tables["activity_status"]["year"].unique())
        if status_years:
            data_text += f" og sundhedsklyngernes status {status_years[0]}–{status_years[-1]}"
        compared = report_join([name for _, _, name in self.comparisons])
        parts.append(
            f'<p class="meta">Aftale: {esc(ag.title)} ({esc(ag.parties)}), for '
            f"{esc(ag.scope.name)}, {ag.period_start}–{ag.period_end}. Data: {esc(data_text)}. "
            f"Basisår: {ag.baseline_wave}"
            + (
                f" (registerdata: {ag.period_start - 1})."
                if ag.indicators_by_source("register")
                else "."
            )
            + (f" Sammenlignet med {esc(compared)}." if compared else "")
            + f" Udarbejdet {report.date_da(self.today)}.</p>"
        )
        if ag.note:
            parts.append(f'<p class="note">{esc(ag.note)}</p>')
        if not ag.scope.contains(self.level_name, self.code):
            parts.append(
                f'<p class="note">Aftalen gælder {esc(ag.scope.name)}. Tallene for '
                f"{esc(self.name)} vises, så de kan sammenlignes med aftalens mål.</p>"
            )
        parts.append(f"<p>{esc(ag.overall_vision['text'])}</p>")
        parts.append(self._contents())
        return Html("\n".join(parts))

    def status_counts(self) -> dict[str, int]:
        """How many of the status table's indicators are bedre, uændret, dårligere and kan
        ikke vurderes for the area (:func:`analyse.publish.overview.status_counts`)."""
        statuses = []
        for ind_id in overview.status_indicators(self.agreement):
            row = self._status_row(self.agreement.indicator(ind_id))
            statuses.append(None if row is None else row["status"])
        return overview.status_counts(statuses)

    def summary_sentence(self) -> str:
        """ "Status for 11 indikatorer siden basisåret 2021: 3 bedre, 6 uændret, …"."""
        return overview.summary_sentence(
            self.status_counts(), baseline_year=overview.baseline_text(self.agreement)
        )

    def _links(self) -> str:
        """Links to the agreement's overview, the index of all briefs and the brief's own data
        files (named like the brief: ``<file_stem>.csv``/``.xlsx`` in the same folder)."""
        scope = esc(self.agreement.scope.name)
        items = [
            f'<a href="{overview.OVERVIEW_FILE}">Overblik over alle områder i {scope}</a>',
            f'<a href="{overview.INDEX_FILE}">Alle områders briefs</a>',
            f'<a href="{esc(self.file_stem)}.csv">Tallene i denne brief (CSV)</a>',
            f'<a href="{esc(self.file_stem)}.xlsx">Tallene i denne brief (Excel)</a>',
        ]
        return (
            '<nav class="links" aria-label="Links"><ul>'
            + "".join(f"<li>{item}</li>" for item in items)
            + "</ul></nav>"
        )

    def _contents(self) -> str:
        """Table of contents: links to the status table, each vision and the method."""
        items = ['<li><a href="#status">Status for målsætningerne</a></li>']
        items += [
            f'<li><a href="#{_vision_anchor(v.id)}">{esc(v.title)}</a></li>'
            for v in self.agreement.visions
        ]
        items.append('<li><a href="#metode">Metode og datagrundlag</a></li>')
        return (
            '<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">Indhold</h2>'
            f"<ol>{''.join(items)}</ol></nav>"
        )

    def status_table(self) -> Html:
        """One row per indicator under each målsætning (DESIGN.md §5.2)."""
        ag = self.agreement
        headers = [
            "Indikator",
            "Seneste måling",
            # The year is in each cell: 2021 for the survey, the year before the agreement for
            # the register indicators.
            "Basisår",
            "Ændring",
            "Ønsket retning",
            "Status",
            # A soft hyphen: the heading breaks cleanly in a narrow printed column.
            "Uddannelses&shy;forskel (D / SII)",
            "Uligheden",
            *[_REST_OF[c.level] for c in ag.comparisons],
        ]
        rows, classes = [], []
        for vision in ag.visions:
            rows.append(f"{esc(vision.title)}")
            classes.append("vision")
            for objective in vision.objectives:
                rows.append(f"{esc(objective.text)}")
                classes.append("objective")
                for ind_id in objective.indicators:
                    rows.append(self._status_cells(ag.indicator(ind_id)))
                    classes.append("")
                if objective.status_question:
                    # One cell across the table: the text wraps instead of widening a
                    # number column.
                    rows.append(
                        "Sundhedsklyngernes årlige status på aktiviteterne: "
                        f"{self._activity_summary(objective.id)}"
                    )
                    classes.append("activity")
        legend = (
            '<p class="footnote">Status: ✓ Bedre = statistisk sikker ændring i den ønskede retning; '
            "= Uændret = ingen statistisk sikker ændring; ✗ Dårligere = statistisk sikker ændring "
            "mod den ønskede retning; ○ Kan ikke vurderes = for få målinger eller for få svar. "
            f"Basisåret er {ag.baseline_wave} for Sundhedsprofilen og {ag.period_start - 1} "
            "(året før aftalen) for registerindikatorerne. "
            f"{self._interval_note()} "
            f"{SIGN_NOTE} "
            f"{NOT_APPLICABLE} = ikke relevant: uddannelse opgøres for 25 år og derover, "
            "registerindikatorerne opdeles ikke efter uddannelse og testes ikke mod resten af "
            "de områder, de sammenlignes med (overblikket viser alle kommuners tal med "
            "intervaller), og et område sammenlignes ikke med sig selv eller et mindre område. "
            f"{esc(disclosure.footnote())}</p>"
        )
        caption = (
            f"Indikatorerne for {esc(self.name)}: seneste måling, udvikling siden basisåret og "
            "sammenligninger"
        )
        return Html(
            '<h2 id="status">Status for målsætningerne</h2>'
            + html_table(
                headers,
                rows,
                numeric={1, 2, 3, 6},
                row_classes=classes,
                caption=caption,
                group_class="vision",
                table_class="status-table",
            )
            + legend
            + self._member_table()
        )

    def _member_table(self) -> str:
        """A region's or klynge's kommuner (Denmark's regions) with their status counts, each
        linked to its brief."""
        member_level = {"region": "kommune", "sundhedsklynge": "kommune", "land": "region"}
        level = member_level.get(self.level_name)
        if level is None:
            return ""
        if level == "kommune":
            codes = [str(c) for c in geography.members(self.level_name, self.code)]
        else:
            codes = list(geography.areas("region")["area_code"])
        statuses = overview.area_statuses(self.processed, self.agreement, level, codes)
        rows = []
        for code in sorted(
            codes, key=lambda c: report.danish_sort_key(geography.display_name(level, c))
        ):
            counts = overview.status_counts(statuses.loc[statuses["area_code"] == code, "status"])
            area = geography.area(level, code)
            name = esc(geography.display_name(level, code))
            rows.append(
                [f'<a href="{esc(area["slug"])}.html">{name}</a>']
                + [str(counts[key]) for key in overview.STATUS_ORDER]
            )
        headers = ["Kommune" if level == "kommune" else "Region"] + [
            report.status_html(key) for key in overview.STATUS_ORDER
        ]
        plural = "Kommunerne" if level == "kommune" else "Regionerne"
        title = f"{plural} i {esc(self.name)}"
        return f"<h3>{title}</h3>" + html_table(
            headers,
            rows,
            numeric={1, 2, 3, 4},
            caption=f"{title}: antal indikatorer med hver status siden basisåret",
            table_class="counts",
        )

    def _status_cells(self, ind: Indicator) -> list[str]:
        latest = self._latest(ind)
        status = self._status_row(ind)
        baseline_year = (
            self.agreement.baseline_wave
            if ind.source == "survey"
            else self.agreement.period_start - 1
        )
        base_rows = self._estimates(ind)
        base = base_rows[base_rows["year"] == baseline_year]
        label = esc(_label_with_population(ind))
        if latest is None:
            latest_text = "Ikke målt"
        else:
            # Value, interval and year on their own lines: keeps the ten columns narrow.
            hidden = bool(latest["suppressed"])
            latest_text = (
                report.with_interval(
                    report.pct(latest["estimate"], suppressed=hidden),
                    report.ci(latest["ci_low"], latest["ci_high"], suppressed=hidden),
                ).replace(" (", "<br>(", 1)
                + f"<br><span class='meta'>{int(latest['year'])}</span>"
            )
        # The baseline's year in the cell: it differs between survey and register rows.
        base_text = (
            report.pct(base.iloc[0]["estimate"], suppressed=bool(base.iloc[0]["suppressed"]))
            if not base.empty
            else "Ikke målt"
        ) + f"<br><span class='meta'>{baseline_year}</span>"
        if status is None or pd.isna(status.get("change_pp")):
            change_text = disclosure.SUPPRESSED_MARK
        else:
            change_text = (
                f"{report.pp(status['change_pp'], in_points=True)}<br>"
                f"{report.ci(status['ci_low_pp'], status['ci_high_pp'], in_points=True, points=True)}"
            )
        status_text = report.status_html(
            status["status"] if status is not None else "kan ikke vurderes"
        )
        gap_text, gap_status = self._gap_cells(ind, latest)
        # An area is not compared with itself or a smaller area, and the register indicators
        # are not tested against the rest: not applicable, not hidden.
        versus = []
        for comparison in self.agreement.comparisons:
            mine = [
                (lv, code)
                for lv, code, _ in self.comparisons
                if lv == comparison.level and comparison.area in (None, code)
            ]
            if not mine or ind.source != "survey":
                versus.append(NOT_APPLICABLE)
                continue
            versus.append("<br>".join(self._vs_text(ind, latest, lv, code) for lv, code in mine))
        return [
            label,
            latest_text,
            base_text,
            change_text,
            esc(ind.desired_label),
            status_text,
            gap_text,
            gap_status,
            *versus,
        ]

    def _gap_cells(self, ind: Indicator, latest: pd.Series | None) -> tuple[str, str]:
        if (
            ind.source != "survey"
            or ind.population.age_max is not None
            and ind.population.age_max < 25
        ):
            # Not the suppression mark: nothing is hidden, there is no such number.
            return NOT_APPLICABLE, NOT_APPLICABLE
        if latest is None:
            return "–", "–"
        row = self._inequality(ind, int(latest["year"]))
        gap = self._one("gap_change", ind)
        gap_word = "–" if gap is None or pd.isna(gap.get("gap")) else esc(gap["gap"])
        if row is None or pd.isna(row.get("d")):
            return disclosure.SUPPRESSED_MARK, gap_word
        # Both with the same sign: above 0 the least educated are worse off (SIGN_NOTE).
        d = report.pp(row["d"], unit=False)
        sii = (
            report.pp(worse_off_sii(row["sii"], ind.direction), unit=False)
            if pd.notna(row.get("sii"))
            else disclosure.SUPPRESSED_MARK
        )
        return f"{d} / {sii}", gap_word

    def _parent_covered(self, source: str, level: str, code: str, year: int) -> bool:
        """Whether a comparison area (klynge, region or Denmark) is covered by the delivery in
        that year (without a coverage table, from an older build: assumed)."""
        table = self.tables.get("coverage")
        if table is None:
            return True
        cache = self.__dict__.setdefault("_coverage_cache", {})
        if "covered" not in cache:  # (source, year, level, code) of every covered area, once
            rows = table[table["covered"]]
            cache["covered"] = set(
                zip(rows["source"], rows["year"].astype(int), rows["area_level"],
                    rows["area_code"], strict=True)
            )  # fmt: skip
        return (source, int(year), level, str(code)) in cache["covered"]

    def _uncovered_rest(
        self, ind: Indicator, latest: pd.Series, level: str, code: str, name: str
    ) -> str:
        """The sentence for a comparison whose area the delivery does not cover ("" if it does)."""
        if self._parent_covered(ind.source, level, code, int(latest["year"])):
            return ""
        parent = "hele landet" if level == "land" else name
        rest = "resten af landet" if level == "land" else f"resten af {name}"
        return (
            f"Sammenligningen mellem {self.name} og {rest} kan ikke laves: leverancen dækker ikke "
            f"{parent} i {int(latest['year'])}."
        )

    def _vs_text(self, ind: Indicator, latest: pd.Series | None, level: str, code: str) -> str:
        if latest is not None and not self._parent_covered(
            ind.source, level, code, int(latest["year"])
        ):
            return "Ikke i data"
        versus = self._versus(ind, latest, level, code)
        if versus is None:
            return "–"
        diff, p = versus
        if p >= 1 - self.level:
            return f"Som resten<br><span class='meta'>{report.pp(diff, unit=False)} pp</span>"
        word = "Højere" if diff > 0 else "Lavere"
        return f"{word}<br><span class='meta'>{report.pp(diff, unit=False)} pp</span>"

    def _activity_rows(self) -> pd.DataFrame:
        status = self.tables["activity_status"]
        if self.level_name == "sundhedsklynge":
            return status[status["sundhedsklynge_code"] == self.code]
        if self.level_name == "kommune":
            codes = geography.membership("sundhedsklynge")
            mine = codes.loc[codes["kommune_code"] == int(self.code), "area_code"]
            return status[status["sundhedsklynge_code"].isin(mine)]
        if self.level_name == "region":
            klynger = geography.areas("sundhedsklynge")
            mine = klynger.loc[klynger["region_code"] == int(self.code), "area_code"]
            return status[status["sundhedsklynge_code"].isin(mine)]
        return status

    def _activity_summary(self, objective_id: str) -> str:
        rows = self._activity_rows()
        rows = rows[rows["objective"] == objective_id]
        if rows.empty:
            return "Ingen statusopgørelse for området"
        latest = rows[rows["year"] == rows["year"].max()]
        counts = latest["status_label"].value_counts()
        return esc(
            f"{int(latest['year'].iloc[0])}: "
            + ", ".join(f"{v} × {k.lower()}" if len(latest) > 1 else k for k, v in counts.items())
        )

    def visions(self) -> Html:
        """Per vision: per målsætning the indicators' sentences and figures, then the education
        gap over time for the vision's indicators."""
        parts = []
        for vision in self.agreement.visions:
            parts.append(
                f'<h2 class="vision" id="{_vision_anchor(vision.id)}">{esc(vision.title)}</h2>'
            )
            indicators = []
            for objective in vision.objectives:
                parts.append(f"<h3>{esc(objective.text)}</h3>")
                parts.append(f'<p class="meta">Opfølgning: {esc(objective.follow_up)}</p>')
                if objective.note:
                    parts.append(f'<p class="meta">Valg af indikatorer: {esc(objective.note)}</p>')
                for ind_id in objective.indicators:
                    indicators.append(self.agreement.indicator(ind_id))
                    parts.append(self._indicator_section(indicators[-1], gradient=False))
                parts.append(self._context_section(objective.context_indicators))
                if objective.status_question:
                    parts.append(self._activity_table(objective.id, objective.status_question))
            # The vision's two education figures side by side (in print and on a wide screen).
            figures = [self._gradient_dots(indicators), self._sii_figure(vision.title, indicators)]
            figures = [f"<div>{f}</div>" for f in figures if f]
            if figures:
                parts.append(f'<div class="figures">{"".join(figures)}</div>')
        return Html("\n".join(parts))

    def _sii_figure(self, vision_title: str, indicators: list[Indicator]) -> str:
        """SII over the waves for the vision's survey indicators with an education measure."""
        table = self.tables["inequality"]
        frames = []
        for ind in indicators:
            if ind.source != "survey" or (
                ind.population.age_max is not None and ind.population.age_max < 25
            ):
                continue
            rows = table[
                (table["indicator"] == ind.id)
                & (table["dimension"] == "education")
                & (table["area_level"] == self.level_name)
                & (table["area_code"] == self.code)
            ]
            if self.level_name != "land":
                rows = rows[rows["year"].isin(self.agreement.kommune_waves)]
            # The sign of D (SIGN_NOTE): the table, the text and this figure agree. Negating
            # the SII swaps its interval's bounds.
            low, high = (
                worse_off_sii(rows[c], ind.direction) for c in ("sii_ci_low", "sii_ci_high")
            )
            frames.append(
                pd.DataFrame(
                    {
                        "label": ind.short_label[:1].upper() + ind.short_label[1:],
                        "year": rows["year"],
                        "sii": worse_off_sii(rows["sii"], ind.direction),
                        "ci_low": np.fmin(low, high),
                        "ci_high": np.fmax(low, high),
                        "suppressed": rows["sii"].isna(),
                    }
                )
            )
        if not frames:
            return ""
        series = pd.concat(frames, ignore_index=True)
        if series["sii"].notna().sum() == 0:
            return (
                f'<p class="meta">Uddannelsesforskellen over tid kan ikke vises for {esc(self.name)}: '
                f"{esc(disclosure.SUPPRESSED_TEXT)}.</p>"
            )
        title = f"Uddannelsesforskel over tid (SII), 25 år og derover — {self.name}"
        fig = plots.sii_chart(
            series,
            title=title,
            xlabel="",
            baseline_year=self.agreement.baseline_wave,
            sign_note=SII_FIGURE_NOTE,
        )
        return (
            "<h3>Uligheden over tid</h3>"
            + plots.figure_html(fig, alt=plots.alt_text_sii(series, title) + DATA_POINTER)
            + figure_data(
                series.rename(columns={"sii": "value"}),
                row="label",
                column="year",
                value="value",
                caption=title,
                row_header="Indikator",
                points=True,
            )
        )

    def vision(self, vision_id: str) -> Html:
        """One vision's section (as in :meth:`visions`)."""
        for vision in self.agreement.visions:
            if vision.id == vision_id:
                parts = [f"<h2>{esc(vision.title)}</h2>"]
                for objective in vision.objectives:
                    parts.append(f"<h3>{esc(objective.text)}</h3>")
                    parts.append(f'<p class="meta">Opfølgning: {esc(objective.follow_up)}</p>')
                    if objective.status_question:
                        parts.append(self._activity_table(objective.id, objective.status_question))
                return Html("\n".join(parts))
        known = ", ".join(v.id for v in self.agreement.visions)
        raise ParameterError(f"unknown vision {vision_id!r}; the agreement has {known}")

    def indicator_detail(self, indicator_id: str) -> Html:
        """Everything about one indicator for the area: text, trend figure, breakdowns, model,
        inequality over the waves and the kommuner of the region."""
        ind = self.agreement.indicator(indicator_id)
        parts = [self._indicator_section(ind), self._breakdown_table(ind), self._model_table(ind)]
        if ind.source == "survey":
            parts.append(self._inequality_table(ind))
        parts.append(self._kommune_table(ind))
        return Html("\n".join(p for p in parts if p))

    def _breakdown_table(self, ind: Indicator) -> str:
        table = self.tables["register" if ind.source == "register" else "estimates"]
        rows = table[
            (table["indicator"] == ind.id)
            & (table["area_level"] == self.level_name)
            & (table["area_code"] == self.code)
            & (table["breakdown"] != "total")
        ]
        latest = self._latest(ind)
        if rows.empty or latest is None:
            return ""
        years = [
            y
            for y in (
                self.agreement.baseline_wave
                if ind.source == "survey"
                else self.agreement.period_start - 1,
                int(latest["year"]),
            )
            if y in set(rows["year"])
        ]
        years = sorted(set(years))
        names = {
            "sex": "Køn",
            "age_group": "Alder",
            "sex_age": "Køn og alder",
            "education": "Uddannelse (25+)",
            "labour_market": "Arbejdsmarkedstilknytning",
        }
        body = []
        for breakdown in ("sex", "age_group", "education", "labour_market"):
            part = rows[rows["breakdown"] == breakdown]
            for group in dict.fromkeys(part["group"]):
                cells = [names[breakdown], esc(group)]
                for year in years:
                    cell = part[(part["group"] == group) & (part["year"] == year)]
                    if cell.empty:
                        cells.append("–")
                        continue
                    c = cell.iloc[0]
                    hidden = bool(c["suppressed"])
                    cells.append(
                        report.with_interval(
                            report.pct(c["estimate"], suppressed=hidden),
                            report.ci(c["ci_low"], c["ci_high"], suppressed=hidden),
                        )
                    )
                body.append(cells)
        if not body:
            return ""
        return "<h5>Efter køn, alder, uddannelse og arbejdsmarkedstilknytning</h5>" + html_table(
            ["Opdeling", "Gruppe"] + [str(y) for y in years],
            body,
            numeric=set(range(2, 2 + len(years))),
            caption=f"{esc(ind.label)} efter opdeling, {esc(self.name)}",
        )

    def _model_table(self, ind: Indicator) -> str:
        row = self._one("register_trends" if ind.source == "register" else "trends", ind)
        if row is None or pd.isna(row.get("annual_change_pp")):
            return ""
        body = [
            ["Målinger i modellen", esc(_wave_list(row.get("waves", "")))],
            [
                "Odds ratio pr. år",
                f"{report.ratio(row['odds_ratio'], 3)} "
                f"({report.ratio(row['or_ci_low'], 3)}–{report.ratio(row['or_ci_high'], 3)})",
            ],
            [
                "Gennemsnitlig ændring pr. år",
                f"{report.pp(row['annual_change_pp'], 2, in_points=True)} "
                f"{report.ci(row['annual_change_ci_low_pp'], row['annual_change_ci_high_pp'], 2, in_points=True, points=True)}",
            ],
            ["Test for ændring", report.pvalue(row["annual_change_p_value"])],
        ]
        if pd.notna(row.get("nonlinearity_p_value")):
            body.append(
                [
                    "Test for afvigelse fra lineær udvikling",
                    report.pvalue(row["nonlinearity_p_value"]),
                ]
            )
        if pd.notna(row.get("projected")):
            body.append(
                [
                    f"Fremskrevet værdi {int(row['projection_year'])}",
                    f"{report.pct(row['projected'])} {report.ci(row['projected_pi_low'], row['projected_pi_high'])}",
                ]
            )
            if pd.notna(row.get("projected_pi80_low")):
                body.append(
                    [
                        "80 pct.-usikkerhedsinterval",
                        report.ci(row["projected_pi80_low"], row["projected_pi80_high"]),
                    ]
                )
            if row.get("forecast_method") in report.FORECAST_LABELS:
                body.append(["Fremskrivningsmodel", report.FORECAST_LABELS[row["forecast_method"]]])
        if pd.notna(row.get("prob_desired_side")):
            body.append(
                [
                    "Sandsynlighed for at være bedre end basisåret",
                    report.pct(row["prob_desired_side"], 0),
                ]
            )
        status = self._status_row(ind)
        if status is not None and status.get("hp2030_status") in report.HP2030_LABELS:
            body.append(["Healthy People-kategori", report.HP2030_LABELS[status["hp2030_status"]]])
            if pd.notna(status.get("target")):
                body.append(
                    ["Målværdi", f"{report.pct(status['target'])} i {int(status['target_year'])}"]
                )
                if pd.notna(status.get("pct_targeted_change")):
                    body.append(
                        [
                            "Andel af den ønskede ændring nået",
                            f"{report.number(status['pct_targeted_change'], 0)} pct.",
                        ]
                    )
            if status.get("sdg_category") in report.SDG_LABELS:
                body.append(
                    ["SDG-kategori (Eurostat/FN)", report.SDG_LABELS[status["sdg_category"]]]
                )
        return "<h5>Udviklingsmodel</h5>" + html_table(["Mål", "Resultat"], body)

    def _inequality_table(self, ind: Indicator) -> str:
        table = self.tables["inequality"]
        rows = table[
            (table["indicator"] == ind.id)
            & (table["dimension"] == "education")
            & (table["area_level"] == self.level_name)
            & (table["area_code"] == self.code)
        ]
        if rows.empty or (rows["n"] == 0).all():
            return ""
        count_base = int(self.manifest.get("rules", {}).get("count_base", 10))
        body = []
        for r in rows.sort_values("year").itertuples():
            if r.reason:
                body.append([str(int(r.year)), esc(r.reason), "", "", "", ""])
                continue
            # SII and RII with the sign of D (SIGN_NOTE): for an indicator that should fall
            # the SII is negated and the RII inverted, bounds swapped.
            sii = worse_off_sii(np.array([r.sii, r.sii_ci_low, r.sii_ci_high]), ind.direction)
            rii = np.array([r.rii, r.rii_ci_low, r.rii_ci_high], dtype=float)
            if ind.direction == "decrease":
                with np.errstate(divide="ignore"):
                    rii = 1 / rii
            body.append(
                [
                    str(int(r.year)),
                    report.with_interval(
                        report.pp(r.d, unit=False),
                        report.ci(r.d_ci_low, r.d_ci_high, points=True),
                    ),
                    report.with_interval(
                        report.pp(sii[0], unit=False),
                        report.ci(min(sii[1:]), max(sii[1:]), points=True),
                    ),
                    report.with_interval(
                        report.ratio(rii[0]),
                        _ratio_interval(np.nanmin(rii[1:]), np.nanmax(rii[1:]))
                        if np.isfinite(rii[1:]).all()
                        else disclosure.SUPPRESSED_MARK,
                    ),
                    report.pct(r.paf) if pd.notna(r.paf) and 0 <= r.paf <= 1 else "–",
                    # An estimated number of people: shown rounded like every count.
                    report.number(disclosure.round_count(abs(r.par_persons), count_base))
                    if pd.notna(r.par_persons)
                    else "–",
                ]
            )
        return (
            "<h5>Uddannelsesforskelle (25 år og derover)</h5>"
            + html_table(
                [
                    "År",
                    "D (procentpoint)",
                    "SII (procentpoint)",
                    "RII",
                    "PAF",
                    "Personer, der kunne undgå udfaldet (PAR)",
                ],
                body,
                numeric={1, 2, 3, 4, 5},
                caption=f"Uddannelsesforskelle for {esc(ind.label)}, {esc(self.name)}",
            )
            + f'<p class="footnote">{esc(SIGN_NOTE)} RII over 1 betyder det samme som SII over 0. SII/RII: hældnings- og '
            "ulighedsindeks fra en vægtet logistisk model på uddannelsens relative rang. PAF/PAR: andel og "
            "antal personer, der ikke ville have udfaldet, hvis alle havde samme forekomst som borgere med "
            "lang videregående uddannelse.</p>"
        )

    def _kommune_table(self, ind: Indicator) -> str:
        """The latest value of the areas one level down, side by side: the kommuner of a
        region or klynge (for a kommune: of the first area it is compared with), the
        sundhedsklynger of Denmark; each against the rest of that area where it can be."""
        if self.level_name == "land":
            parent_level, parent_code = "land", geography.COUNTRY_CODE
        elif self.level_name in ("region", "sundhedsklynge"):
            parent_level, parent_code = self.level_name, self.code
        elif self.comparisons:
            parent_level, parent_code = self.comparisons[0][:2]
        else:
            return ""
        child_level = "sundhedsklynge" if parent_level == "land" else "kommune"
        latest = self._latest(ind)
        if latest is None:
            return ""
        if child_level == "kommune":
            children = [str(k) for k in geography.members(parent_level, parent_code)]
        else:
            children = list(geography.areas("sundhedsklynge")["area_code"])
        name = "register" if ind.source == "register" else "estimates"
        table = pq.read_table(
            table_path(self.processed, name),
            filters=[
                ("indicator", "=", ind.id),
                ("area_level", "=", child_level),
                ("breakdown", "=", "total"),
                ("year", "=", int(latest["year"])),
            ],
        ).to_pandas()
        table = _at_level(table[table["area_code"].isin(children)], self.level)
        versus = self._children_versus(ind, table, parent_level, parent_code)
        body = []
        for r in sorted(
            table.itertuples(),
            key=lambda r: report.danish_sort_key(geography.display_name(child_level, r.area_code)),
        ):
            hidden = bool(r.suppressed)
            vs = "–"
            if r.area_code in versus:
                diff, p = versus[r.area_code]
                sig = p < 1 - self.level
                vs = ("Højere" if diff > 0 else "Lavere") if sig else "Som resten"
            body.append(
                [
                    esc(geography.display_name(child_level, r.area_code)),
                    report.with_interval(
                        report.pct(r.estimate, suppressed=hidden),
                        report.ci(r.ci_low, r.ci_high, suppressed=hidden),
                    ),
                    vs,
                ]
            )
        heading = "Kommune" if child_level == "kommune" else "Sundhedsklynge"
        where = (
            "Sundhedsklyngerne"
            if child_level == "sundhedsklynge"
            else f"Kommunerne i {geography.display_name(parent_level, parent_code)}"
        )
        rest = {"land": "landet", "region": "regionen", "sundhedsklynge": "klyngen"}[parent_level]
        plural = "kommunerne" if child_level == "kommune" else "sundhedsklyngerne"
        return f"<h5>{esc(where)}, {int(latest['year'])}</h5>" + html_table(
            [heading, "Andel", f"Mod resten af {rest}"],
            body,
            numeric={1},
            caption=f"{esc(ind.label)} i {plural}, {int(latest['year'])}",
        )

    def _children_versus(self, ind, table, parent_level, parent_code) -> dict:
        """Difference and p-value of each child area against the rest of the parent (survey)."""
        if ind.source != "survey" or table.empty:
            return {}
        if parent_level in ("region", "land"):
            column = f"vs_{parent_level}"
            shown = table[table[f"{column}_diff"].notna()]
            return {
                r.area_code: (getattr(r, f"{column}_diff"), getattr(r, f"{column}_p"))
                for r in shown.itertuples()
            }
        rows = pq.read_table(
            table_path(self.processed, "klynge_comparisons"),
            filters=[
                ("indicator", "=", ind.id),
                ("parent_code", "=", parent_code),
                ("year", "=", int(table["year"].iloc[0])),
            ],
        ).to_pandas()
        return {r.area_code: (r.diff, r.p) for r in rows.itertuples()}

    def _gradient_dots(self, indicators: list[Indicator]) -> str:
        """The education gradient of the latest wave for the vision's 16+ survey indicators."""
        frames, years = [], set()
        for ind in indicators:
            if ind.source != "survey" or (
                ind.population.age_max is not None and ind.population.age_max < 25
            ):
                continue
            latest = self._latest(ind)
            if latest is None:
                continue
            rows = self._estimates(ind, breakdown="education")
            rows = rows[rows["year"] == latest["year"]]
            years.add(int(latest["year"]))
            label = ind.short_label[:1].upper() + ind.short_label[1:]
            frames.append(
                rows.assign(indicator=label)[
                    ["indicator", "group", "estimate", "ci_low", "ci_high", "suppressed"]
                ]
            )
        if not frames:
            return ""
        groups = pd.concat(frames, ignore_index=True)
        when = report_join([str(y) for y in sorted(years)])
        title = f"Andel efter uddannelse, {when} (25 år og derover) — {self.name}"
        fig = plots.gradient_dots(groups, title=title)
        return (
            "<h3>Forskelle mellem uddannelsesgrupper</h3>"
            + plots.figure_html(fig, alt=plots.alt_text_gradient_dots(groups, title) + DATA_POINTER)
            + figure_data(
                groups,
                row="indicator",
                column="group",
                value="estimate",
                caption=title,
                row_header="Indikator",
                order_columns=False,
            )
        )

    def _indicator_section(self, ind: Indicator, *, gradient: bool = True) -> str:
        """The indicator's sentences and definition beside its trend figure (and, with
        ``gradient``, its education figure), each figure followed by its numbers."""
        anchor = f"indikator-{_vision_anchor(ind.id)[len('vision-') :]}"
        sentences = self._sentences(ind)
        text = (
            "<div>"
            + "<p>"
            + " ".join(esc(s) for s in sentences)
            + "</p>"
            + f'<p class="footnote">{esc(ind.definition)} {esc(ind.comparability)}'
            + (f" Valg af indikator: {esc(ind.note)}" if ind.note else "")
            + "</p>"
            + "</div>"
        )
        figures = [self._trend_figure(ind)]
        if (
            gradient
            and ind.source == "survey"
            and (ind.population.age_max is None or ind.population.age_max >= 25)
        ):
            figures.append(self._gradient_figure(ind))
        return (
            f'<section class="indicator" aria-labelledby="{anchor}">'
            f'<h4 id="{anchor}">{esc(_label_with_population(ind))}</h4>'
            + text
            + f"<div>{''.join(figures)}</div></section>"
        )

    def _change_without_status(self, ind: Indicator, latest: pd.Series) -> str:
        """The change since the baseline in words, without judging the direction (context)."""
        status = self._status_row(ind)
        if status is None or pd.isna(status.get("year_from")):
            return report.change_sentence(
                ind,
                self.name,
                None,
                None,
                int(latest["year"]),
                latest["estimate"],
                suppressed=bool(latest["suppressed"]),
            )
        hidden = (
            bool(latest["suppressed"])
            or pd.isna(status.get("estimate_from"))
            or pd.isna(status.get("estimate_to"))
        )
        return report.change_sentence(
            ind,
            self.name,
            int(status["year_from"]),
            status.get("estimate_from"),
            int(status["year_to"]),
            status.get("estimate_to"),
            status.get("p_value"),
            suppressed=hidden,
            alpha=1 - self.level,
            judge=False,
        )

    def _context_section(self, indicator_ids) -> str:
        """The målsætning's context indicators: one line each (latest value and change), no
        status: they show the background, not whether the målsætning is met."""
        lines = []
        for ind_id in indicator_ids:
            ind = self.agreement.indicator(ind_id)
            latest = self._latest(ind)
            if latest is None:
                text = f"{ind.label} er ikke målt for {self.name}."
            else:
                text = self._change_without_status(ind, latest)
            lines.append(f"<li>{esc(_label_with_population(ind))}: {esc(text)}</li>")
        if not lines:
            return ""
        return (
            '<p class="meta">Baggrund (indgår ikke i status):</p><ul class="context">'
            + "".join(lines)
            + "</ul>"
        )

    def _sentences(self, ind: Indicator) -> list[str]:
        status = self._status_row(ind)
        latest = self._latest(ind)
        out = []
        if latest is None:
            return [f"{ind.label} er ikke målt for {self.name}."]
        if status is None or pd.isna(status.get("year_from")):
            out.append(
                report.change_sentence(
                    ind,
                    self.name,
                    None,
                    None,
                    int(latest["year"]),
                    latest["estimate"],
                    suppressed=bool(latest["suppressed"]),
                )
            )
        else:
            hidden = (
                bool(latest["suppressed"])
                or pd.isna(status.get("estimate_from"))
                or pd.isna(status.get("estimate_to"))
            )
            baseline_only = not bool(latest["suppressed"]) and int(latest["year"]) == int(
                status["year_to"]
            )
            out.append(
                report.change_sentence(
                    ind,
                    self.name,
                    int(status["year_from"]),
                    None if hidden else status.get("estimate_from"),
                    int(status["year_to"]),
                    latest["estimate"]
                    if hidden and baseline_only
                    else (None if hidden else status.get("estimate_to")),
                    status.get("p_value"),
                    status=status["status"],
                    suppressed=hidden,
                    # The status was judged at the build's level; the sentence must agree with it
                    # whatever the brief's confidence level (the footnote says which applies).
                    alpha=float(status.get("alpha", 0.05)),
                )
            )
        if ind.source == "register":
            # The register indicators are not tested against the rest of an area: the
            # comparison areas' values for comparison, not a "hidden" comparison.
            out.extend(self._register_comparisons(ind, latest))
        for level, code, name in self.comparisons if ind.source == "survey" else ():
            versus = self._versus(ind, latest, level, code)
            out.append(
                self._uncovered_rest(ind, latest, level, code, name)
                or report.comparison_sentence(
                    self.name,
                    name,
                    None if versus is None else versus[0],
                    None if versus is None else versus[1],
                    bool(latest["suppressed"]),
                    alpha=1 - self.level,
                )
            )
        if ind.source == "survey" and (
            ind.population.age_max is None or ind.population.age_max >= 25
        ):
            row = self._inequality(ind, int(latest["year"]))
            gap = self._one("gap_change", ind)
            out.append(
                report.gap_sentence(
                    None if row is None else row.get("d"),
                    None if row is None else row.get("sii"),
                    None if gap is None else gap.get("gap"),
                    direction=ind.direction,
                    baseline_year=self.agreement.baseline_wave,
                    suppressed=row is None or pd.isna(row.get("d")),
                    withheld=_withheld(row),
                )
            )
        if ind.source == "survey" and "labour_market" in ind.dimensions:
            row = self._one("inequality", ind, dimension="labour_market", year=int(latest["year"]))
            out.append(
                report.labour_market_sentence(
                    None if row is None else row.get("comparison_group"),
                    None if row is None else row.get("reference_group"),
                    None if row is None else row.get("d"),
                    direction=ind.direction,
                    withheld=_withheld(row),
                )
            )
        trend_row = self._one("register_trends" if ind.source == "register" else "trends", ind)
        if trend_row is not None and pd.notna(trend_row.get("projected")):
            out.append(
                report.projection_sentence(
                    trend_row["projected"],
                    trend_row["projected_pi_low"],
                    trend_row["projected_pi_high"],
                    trend_row.get("prob_desired_side"),
                    int(trend_row["n_waves"]),
                    target_year=self.agreement.period_end,
                    baseline_year=self.agreement.baseline_wave
                    if ind.source == "survey"
                    else self.agreement.period_start - 1,
                    method=trend_row.get("forecast_method"),
                    **self._reconcile_with(status),
                )
            )
        if status is not None and isinstance(status.get("hp2030_status"), str):
            out.append(
                report.progress_sentence(
                    status["hp2030_status"],
                    status.get("pct_targeted_change"),
                    status.get("sdg_category"),
                    target=status.get("target"),
                    target_year=None
                    if pd.isna(status.get("target_year"))
                    else int(status["target_year"]),
                )
            )
        return out

    def _reconcile_with(self, status: pd.Series | None) -> dict:
        """What the projection sentence needs to reconcile itself with the area's status."""
        if status is None or pd.isna(status.get("year_to")):
            return {}
        pooled = {
            "kommune": " og udviklingen i alle landets kommuner",
            "sundhedsklynge": " og udviklingen i alle sundhedsklynger",
            "region": " og udviklingen i alle regioner",
        }.get(self.level_name, "")
        return {
            "status": status.get("status"),
            "latest_year": int(status["year_to"]),
            "basis": "alle målingerne" + pooled,
        }

    def _trend_figure(self, ind: Indicator) -> str:
        frames = []
        for level, code, name in self._areas_compared():
            rows = self._estimates(ind, level, code)
            if level != "land":
                rows = (
                    rows[rows["year"].isin(self.agreement.kommune_waves)]
                    if ind.source == "survey"
                    else rows
                )
            frames.append(rows.assign(label=name))
        series = pd.concat(frames, ignore_index=True)
        if series.empty:
            return ""
        series = series[["label", "year", "estimate", "ci_low", "ci_high", "suppressed"]]
        title = _label_with_population(ind)
        covid = (
            "Bølgen i 2021 blev indsamlet under COVID-19-restriktioner."
            if ind.source == "survey" and 2021 in set(series["year"])
            else None
        )
        baseline = (
            self.agreement.baseline_wave
            if ind.source == "survey"
            else self.agreement.period_start - 1
        )
        # No "År" under the axis: the ticks are years (and the figure is shorter in print).
        fig = plots.trend_chart(series, title=title, xlabel="", baseline_year=baseline, note=covid)
        return plots.figure_html(
            fig, alt=plots.alt_text_trend(series, title, baseline_year=baseline) + DATA_POINTER
        ) + figure_data(series, row="label", column="year", value="estimate", caption=title)

    def _gradient_figure(self, ind: Indicator) -> str:
        latest = self._latest(ind)
        if latest is None:
            return ""
        rows = self._estimates(ind, breakdown="education")
        rows = rows[rows["year"] == latest["year"]]
        if rows.empty:
            return ""
        groups = rows[["group", "estimate", "ci_low", "ci_high", "suppressed"]]
        title = f"{ind.label} efter uddannelse, {int(latest['year'])} (25 år og derover)"
        fig = plots.gradient_chart(groups, title=title)
        return plots.figure_html(
            fig, alt=plots.alt_text_gradient(groups, title) + DATA_POINTER
        ) + figure_data(
            groups.assign(label=self.name),
            row="label",
            column="group",
            value="estimate",
            caption=title,
            row_header="Område",
            order_columns=False,
        )

    def _activity_table(self, objective_id: str, question: str) -> str:
        rows = self._activity_rows()
        rows = rows[rows["objective"] == objective_id].sort_values(["sundhedsklynge", "year"])
        if rows.empty:
            return (
                '<p class="meta">Sundhedsklyngernes status opgøres for klyngerne i '
                f"{esc(self.agreement.scope.name)}.</p>"
            )
        body = [
            [esc(r.sundhedsklynge), str(int(r.year)), esc(r.status_label), esc(r.text)]
            for r in rows.itertuples()
        ]
        return html_table(
            ["Sundhedsklynge", "År", "Status", "Beskrivelse"],
            body,
            numeric={1},
            caption=esc(question),
            table_class="activity-table",
        )

    def weighting_note(self) -> str:
        """The method note's sentence on the weights, from the build's weight check."""
        shown = set(int(y) for y in self.tables["estimates"]["year"].unique())
        checks = [w for w in self.manifest.get("weights", []) if int(w["year"]) in shown]
        return report.weighting_sentence(checks)

    def coverage_note(self) -> str:
        """Which part of the country the delivery covers, when it is not all of it."""
        summary = self.manifest.get("coverage") or {}
        partial = {y: c for y, c in summary.items() if not c.get("land_covered")}
        if not summary or not partial:
            return ""
        regions = sorted({r for c in partial.values() for r in c.get("regions_covered", [])})
        names = report_join([geography.display_name("region", r) for r in regions])
        covered = f"kun {names}" if names else "kun en del af landet"
        return (
            f"Leverancen dækker {covered} i {report_join(sorted(partial))}; tal og "
            "sammenligninger vises kun for områder, hvis kommuner alle er med i data."
        )

    # ------------------------------------------------------------------ for the export
    # The cells the brief shows, for analyse.publish.export (one selection for both).

    def compared_areas(self) -> list[tuple[str, str, str]]:
        """(level, code, name) of the area and the areas it is compared with (the agreement's
        comparisons: klynge, region, Denmark), as in the trend figures."""
        return self._areas_compared()

    def series(
        self, indicator: Indicator, level: str | None = None, code: str | None = None,
        breakdown: str = "total",
    ) -> pd.DataFrame:  # fmt: skip
        """An area's rows of an indicator over the waves shown (the brief's wave selection)."""
        return self._estimates(indicator, level, code, breakdown)

    def latest(self, indicator: Indicator) -> pd.Series | None:
        """The area's latest shown row of an indicator (suppressed or not)."""
        return self._latest(indicator)

    def status_row(self, indicator: Indicator) -> pd.Series | None:
        """The area's status row (change since the baseline) of an indicator."""
        return self._status_row(indicator)

    def inequality_row(self, indicator: Indicator, year: int) -> pd.Series | None:
        """The area's education-inequality row of an indicator in a wave."""
        return self._inequality(indicator, year)

    def area_row(self, table: str, indicator: Indicator) -> pd.Series | None:
        """The area's first row of an indicator in a processed table (trends, gap_change ...)."""
        return self._one(table, indicator)

    def versus(
        self, indicator: Indicator, latest: pd.Series | None, level: str, code: str
    ) -> tuple | None:
        """(difference, p-value) of the area against the rest of a comparison area, or None
        (survey indicators; the comparison areas are :attr:`comparisons`)."""
        return self._versus(indicator, latest, level, code)

    def rest_not_covered(
        self, indicator: Indicator, latest: pd.Series, level: str, code: str, name: str
    ) -> str:
        """The sentence the brief prints when the delivery does not cover a comparison area
        (``level``, ``code``, ``name`` as in :attr:`comparisons`); empty when it does."""
        return self._uncovered_rest(indicator, latest, level, code, name)

    def model_estimates(self) -> Html:
        """Model-based companion estimates beside the direct ones, only where those are
        suppressed or imprecise, always labelled (:mod:`analyse.publish.smallarea`); empty
        outside a kommune's brief or where nothing is shown."""
        from analyse.publish import smallarea

        return Html(smallarea.model_section(self))

    def methods(self) -> Html:
        """Definitions, weighting, CI method, suppression rule and provenance."""
        rules = self.manifest.get("rules", {})
        min_n = rules.get("min_n", disclosure.Rules().min_n)
        inputs = self.manifest.get("inputs", {})
        items = "".join(
            f"<li><code>{esc(name)}</code>: sha256 {digest[:16]}…</li>"
            for name, digest in inputs.items()
        )
        return Html(
            '<h2 id="metode">Metode og datagrundlag</h2>'
            "<p><strong>Sundhedsprofilen</strong> er en spørgeskemaundersøgelse blandt borgere på 16 år og "
            f"derover, udtrukket tilfældigt i hver kommune. {esc(self.weighting_note())} "
            f"{esc(self.coverage_note())} "
            "Usikkerheden er beregnet designbaseret (Taylor-linearisering med kommunerne som strata), "
            "som i R-pakken survey. Konfidensintervaller for andele er beregnet på logit-skala. "
            "Forskelle mellem år er testet som uafhængige stikprøver; et område sammenlignes med resten "
            "af de større områder, det ligger i (sundhedsklynge, region, landet).</p>"
            f"<p><strong>Status</strong> sammenligner seneste måling med basisåret "
            f"{self.agreement.baseline_wave} (registerdata: {self.agreement.period_start - 1}). "
            "<strong>Uddannelsesforskellen</strong> er opgjort for 25 år og derover: D er forskellen mellem "
            "grundskole og lang videregående uddannelse, SII er hældningsindekset fra en vægtet logistisk "
            f"model på uddannelsens relative rang. {esc(SIGN_NOTE)} <strong>Fremskrivningen</strong> til "
            f"{self.agreement.period_end} bygger på de offentliggjorte tal for alle områder på samme "
            "niveau: det nuværende niveau føres frem uden trend (den model holdt bedst, hvad den "
            "lovede, da den blev afprøvet på de offentliggjorte kommunetal 2010–2025), og hvert "
            "område beholder sin egen afvigelse fra landsniveauet; 2021-målingen vægtes ned "
            "(COVID-19). Usikkerhedsintervallet gælder en måling i slutåret og rummer også målingens "
            "egen usikkerhed. Healthy People- og SDG-kategorierne er de internationale standarder "
            "for at vurdere fremskridt mod et mål.</p>"
            f"<p><strong>Diskretion:</strong> Der vises ingen tal bygget på færre end {min_n} svar, ingen andele "
            "med færre end 5 personer med eller uden udfaldet, og ingen tal, der kan regnes ud fra andre "
            "viste tal. Antal svar er afrundet.</p>"
            "<p><strong>Registerindikatorer</strong> er opgjort for hele befolkningen; intervallerne "
            "(Wilson) udtrykker tilfældig variation.</p>"
            "<h3>Datagrundlag</h3>"
            f"<ul>{items}</ul>"
            f"<p class='meta'>Programversion {esc(self.manifest.get('code_version', ''))}; data beregnet "
            f"{esc(self.manifest.get('created', ''))}.</p>"
        )


def _withheld(row) -> str | None:
    """The linked protection's reason when an inequality row's measures were withheld."""
    reason = None if row is None else row.get("reason")
    return str(reason) if isinstance(reason, str) and reason in WITHHELD_REASONS else None


def _at_level(table: pd.DataFrame, level: float) -> pd.DataFrame:
    """The table with its intervals recomputed at ``level`` (unchanged if already at it).

    Survey rows (``method`` "taylor-logit"): the logit interval with t on the design's degrees
    of freedom, as built. Register rows ("wilson"): the Wilson interval from the published
    (rounded) rate and the published ``n`` (rounded to ``Rules.count_base``), as
    :mod:`analyse.cube.register` computes it, limits rounded to 0.1 point: no exact count is
    used or recoverable.
    """
    if table.empty or np.allclose(table["level"].astype(float), level):
        return table
    out = table.copy()
    p, se = out["estimate"].astype(float), out["se"].astype(float)
    survey = (out["method"] != "wilson").to_numpy()
    if survey.any():
        df = out["df"].astype(float) if "df" in out else pd.Series(np.inf, index=out.index)
        for d in df[survey].unique():  # one t quantile per design
            rows = survey & (df == d).to_numpy()
            low, high = proportion_interval(p[rows], se[rows], float(d), level)
            out.loc[rows, "ci_low"], out.loc[rows, "ci_high"] = low, high
    if (~survey).any():
        rows = ~survey
        n = out.loc[rows, "n"].astype(float)
        low, high = wilson_interval(p[rows] * n, n, level)
        out.loc[rows, "ci_low"] = disclosure.round_share(low)
        out.loc[rows, "ci_high"] = disclosure.round_share(high)
    # Suppressed rows keep no interval (they have none to begin with).
    if "suppressed" in out:
        hidden = out["suppressed"].astype(bool)
        out.loc[hidden, ["ci_low", "ci_high"]] = np.nan
    out["level"] = level
    return out


def _comparison_name(level: str, code: str) -> str:
    """How a comparison area is named in sentences: "Region Midtjylland", "Sundhedsklynge …",
    "Hele landet"."""
    return geography.display_name(level, code)


def figure_data(
    frame: pd.DataFrame,
    *,
    row: str,
    column: str,
    value: str,
    caption: str,
    row_header: str = "Område",
    points: bool = False,
    order_columns: bool = True,
) -> str:
    """The numbers behind a figure, with their intervals, as a table in a closed ``<details>``.

    One table row per value of ``row`` (in order of appearance), one column per value of
    ``column`` (sorted, or in order of appearance with ``order_columns=False``); a cell is the
    value with its interval (``ci_low``/``ci_high``) as a share, or in procentpoint with
    ``points``; the suppression mark where ``suppressed``; "ikke målt" where there is no row.
    The details are closed (and not printed): the figure shows the same numbers.
    """
    if frame.empty:
        return ""
    rows = list(dict.fromkeys(frame[row].astype(str)))
    columns = list(dict.fromkeys(frame[column]))
    if order_columns:
        columns = sorted(columns)
    cells = {(str(r[row]), r[column]): r for _, r in frame.iterrows()}
    hidden_column = "suppressed" in frame
    body = []
    for name in rows:
        line = [esc(name)]
        for col in columns:
            cell = cells.get((name, col))
            if cell is None:
                line.append("ikke målt")
                continue
            hidden = bool(cell["suppressed"]) if hidden_column else False
            hidden = hidden or report.is_missing(cell[value])
            if points:
                shown = report.with_interval(
                    report.pp(cell[value], unit=False, suppressed=hidden),
                    report.ci(cell["ci_low"], cell["ci_high"], points=True, suppressed=hidden),
                )
            else:
                shown = report.with_interval(
                    report.pct(cell[value], suppressed=hidden),
                    report.ci(cell["ci_low"], cell["ci_high"], suppressed=hidden),
                )
            line.append(shown)
        body.append(line)
    table = html_table(
        [row_header] + [esc(c) for c in columns],
        body,
        numeric=set(range(1, len(columns) + 1)),
        caption=f"Tallene bag figuren: {esc(caption)}",
    )
    return (
        '<details class="data"><summary>Tallene bag figuren, med konfidensintervaller</summary>'
        f"{table}</details>"
    )


def worse_off_sii(sii, direction: str):
    """The SII with the sign of D: above 0 the least educated are worse off (see SIGN_NOTE).

    The cube's SII is WHO healthequal's, P(rank 1) − P(rank 0): above 0 the share rises with
    education, whatever the desired direction. D (:func:`analyse.stats.inequality.simple_gap`)
    is direction-aware instead: above 0 the least educated are worse off. For an indicator that
    should rise the two signs already agree; for one that should fall the SII is negated.
    Works on numbers and on arrays/Series.
    """
    if direction not in ("increase", "decrease"):
        raise ParameterError(f"direction must be increase/decrease, got {direction!r}")
    return sii if direction == "increase" else -sii


def _vision_anchor(vision_id: str) -> str:
    """The id of a vision's heading (for the table of contents)."""
    return "vision-" + re.sub(r"[^a-z0-9_-]+", "-", str(vision_id).lower())


def _ratio_interval(low, high) -> str:
    """A ratio's interval, "(1,02–1,31)"; the suppression mark if a bound is missing."""
    if report.is_missing(low) or report.is_missing(high):
        return disclosure.SUPPRESSED_MARK
    return f"({report.ratio(low)}–{report.ratio(high)})"


def _wave_list(waves: str) -> str:
    """A model's waves as stored in the trend table, as Danish text: "2010, 2013 og 2017"."""
    return report_join([w.strip() for w in str(waves).split(",") if w.strip()])


def _label_with_population(ind: Indicator) -> str:
    """The indicator's label, with the age band added unless the label already names it."""
    population = ind.population.label
    if population.split(" ")[0] in ind.label:
        return ind.label
    return f"{ind.label}, {population}"


def report_join(items: list[str]) -> str:
    """Danish enumeration: "a, b og c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]


def _check_waves(waves: list[int] | None, known: list[int]) -> None:
    """Every requested wave must be a wave of the processed data."""
    unknown = sorted(set(waves or []) - {int(w) for w in known})
    if unknown and known:
        raise ParameterError(
            f"wave(s) {', '.join(map(str, unknown))} are not in the processed data; the waves "
            f"are {', '.join(str(w) for w in known)}"
        )


def _parse_waves(waves) -> list[int] | None:
    if waves in (None, "", []):
        return None
    if isinstance(waves, str):
        try:
            return [int(w) for w in waves.replace(" ", "").split(",") if w]
        except ValueError:
            raise ParameterError(
                f"waves must be a comma-separated list of years, got {waves!r}"
            ) from None
    return [int(w) for w in waves]
