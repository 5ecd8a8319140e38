"""A brief's numbers as CSV and Excel: every number the brief shows, as the brief shows it.

One row per number (tidy, for pivot tables): the area of the brief, the area the number is
about (the area itself, its region or Hele landet, as in the brief's figures), the indicator,
what the number is (``Mål``), group, year, the value with its interval, unit, the rounded
number of respondents where the processed data publish one, the judgement the brief prints
(status, "Højere"/"Lavere"/"Som resten", whether the gap narrows) and the suppression mark.
The columns are described in ``docs/data_dictionary.md``.

Where the values come from: :func:`published_values` is the one place that selects and
rounds what is published. It reads the processed tables through :class:`~analyse.publish.brief.Brief`
(the same tables, after the same disclosure check and at the same confidence level as the
brief), takes exactly the cells the brief shows, and rounds every value with the brief's own
formatting (:mod:`analyse.publish.report`: half up on the written value, 1 decimal for
percentages and percentage points, whole per cent for probabilities). A value the brief hides is
the suppression mark here too, and nothing the brief does not show is added — so an export never
tells more than its brief. (When the disclosure audit publishes its own table of published
values, that table can replace :func:`published_values` without touching the writers.)

CSV: ``;``-separated, decimal comma, UTF-8 with a byte-order mark (so Excel reads æ, ø, å),
ASCII minus sign (so spreadsheets read negative numbers as numbers). Excel: the same table on
the sheet "Tal", with number formats, and a sheet "Om tallene" with the notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analyse.errors import ParameterError
from analyse.publish import report
from analyse.publish.brief import Brief
from analyse.reference import geography
from analyse.stats.disclosure import SUPPRESSED_MARK

#: The export's columns (Danish headings), in order.
COLUMNS = (
    "Område",
    "Tallet gælder",
    "Indikator",
    "Mål",
    "Opdeling",
    "Gruppe",
    "År",
    "Værdi",
    "Nedre grænse",
    "Øvre grænse",
    "Enhed",
    "Antal svar (afrundet)",
    "Vurdering",
    "Skjult",
)
NUMBER_COLUMNS = ("Værdi", "Nedre grænse", "Øvre grænse")
PERCENT = "pct."
POINTS = "procentpoint"
HIDDEN_TEXT = "for få svar"
_BREAKDOWN_NAMES = {"total": "I alt", "education": "Uddannelse (25+)"}


def shown_number(text: str) -> float | str:
    """The number a formatted Danish value shows (``"−1,3"`` → -1.3, ``"21,3 pct."`` → 21.3);
    the suppression mark stays the mark. Used so that every exported value is rounded exactly
    as the brief writes it."""
    if text == SUPPRESSED_MARK:
        return SUPPRESSED_MARK
    cleaned = (
        text.replace(" pct.", "").replace(" procentpoint", "").replace(".", "").replace(",", ".")
    )
    return float(cleaned.replace(report.MINUS, "-").replace("+", "").strip())


def _row(brief: Brief, about: str, indicator, measure: str, **fields) -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        {
            "Område": brief.name,
            "Tallet gælder": about,
            "Indikator": indicator.label,
            "Mål": measure,
            "Opdeling": "I alt",
            "Gruppe": "I alt",
        }
    )
    row.update(fields)
    return row


_SHARE_COLUMNS = ("year", "group", "estimate", "ci_low", "ci_high", "n", "suppressed")


def _records(frame: pd.DataFrame, columns: Sequence[str] = _SHARE_COLUMNS) -> list[dict]:
    """Rows as dicts of plain values (much faster than ``DataFrame.to_dict`` for small frames)."""
    present = [c for c in columns if c in frame.columns]
    values = [frame[c].tolist() for c in present]
    return [dict(zip(present, row, strict=True)) for row in zip(*values, strict=True)]


def _share_fields(cell: dict) -> dict:
    """A share with its interval and rounded n, as the brief writes them (or the mark)."""
    hidden = bool(cell.get("suppressed", False))
    value = shown_number(report.pct_number(cell["estimate"], suppressed=hidden))
    if value == SUPPRESSED_MARK:
        return {"Værdi": SUPPRESSED_MARK, "Enhed": PERCENT, "Skjult": HIDDEN_TEXT}
    low = report.pct_number(cell["ci_low"], suppressed=hidden)
    high = report.pct_number(cell["ci_high"], suppressed=hidden)
    n = cell.get("n")
    return {
        "Værdi": value,
        "Nedre grænse": shown_number(low) if low != SUPPRESSED_MARK else "",
        "Øvre grænse": shown_number(high) if high != SUPPRESSED_MARK else "",
        "Enhed": PERCENT,
        "Antal svar (afrundet)": "" if report.is_missing(n) else int(n),
    }


def published_values(brief: Brief) -> pd.DataFrame:
    """Every number the brief shows, selected and rounded as the brief shows it.

    The one place that decides what is published in an export (see the module docstring).

    Parameters
    ----------
    brief : an opened :class:`~analyse.publish.brief.Brief` (its tables are the published,
        suppressed processed tables at the brief's confidence level).

    Returns
    -------
    DataFrame with :data:`COLUMNS`; numbers are floats already rounded to the shown decimals
    (ints for the rounded respondent counts), hidden values are the suppression mark.
    """
    rows: list[dict] = []
    agreement = brief.agreement
    alpha = 1 - brief.level
    # The indicators of the målsætninger, in the brief's order (not the agreement's extra
    # comparison indicators, which only the vision notebooks show).
    shown = [i for v in agreement.visions for o in v.objectives for i in o.indicators]
    education = _education_rows(brief)
    for ind_id in dict.fromkeys(shown):
        ind = agreement.indicator(ind_id)
        # Shares over the waves: the area, its region and Denmark, as in the trend figure.
        for level, code, name in brief.compared_areas():
            series = brief.series(ind, level, code)
            if level != "land" and ind.source == "survey":
                series = series[series["year"].isin(agreement.kommune_waves)]
            for cell in _records(series):
                rows.append(
                    _row(brief, name, ind, "Andel", År=int(cell["year"]), **_share_fields(cell))
                )
        latest = brief.latest(ind)
        if latest is None:
            continue
        year = int(latest["year"])
        # The education gradient of the latest wave (16+ survey indicators).
        if ind.source == "survey" and (
            ind.population.age_max is None or ind.population.age_max >= 25
        ):
            groups = brief.series(ind, breakdown="education")
            for cell in _records(groups[groups["year"] == year]):
                rows.append(
                    _row(
                        brief,
                        brief.name,
                        ind,
                        "Andel",
                        Opdeling=_BREAKDOWN_NAMES["education"],
                        Gruppe=str(cell["group"]),
                        År=year,
                        **_share_fields(cell),
                    )
                )
        rows += _status_rows(brief, ind)
        rows += _comparison_rows(brief, ind, latest, alpha)
        rows += _inequality_rows(brief, ind, year, education)
        rows += _projection_rows(brief, ind)
    rows += _model_rows(brief)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _model_rows(brief: Brief) -> list[dict]:
    """The model-based estimates the brief shows (:mod:`analyse.publish.smallarea`), each
    with its label in ``Vurdering``."""
    from analyse.publish import smallarea

    rows = []
    for ind, _direct, model in smallarea.shown_model_estimates(brief):
        fields = _share_fields({**model, "suppressed": False, "n": None})
        rows.append(
            _row(
                brief,
                brief.name,
                ind,
                smallarea.MODEL_MEASURE,
                År=int(model["year"]),
                Vurdering=smallarea.MODEL_LABEL,
                **fields,
            )
        )
    return rows


def _status_rows(brief: Brief, ind) -> list[dict]:
    status = brief.status_row(ind)
    word = report.status_word(status["status"] if status is not None else None)
    if status is None or pd.isna(status.get("change_pp")):
        return [
            _row(brief, brief.name, ind, "Ændring siden basisår", Værdi=SUPPRESSED_MARK,
                 Enhed=POINTS, Vurdering=word, Skjult=HIDDEN_TEXT)
        ]  # fmt: skip
    value = report.pp(status["change_pp"], in_points=True, unit=False)
    low = report.pp(status["ci_low_pp"], in_points=True, sign=False, unit=False)
    high = report.pp(status["ci_high_pp"], in_points=True, sign=False, unit=False)
    return [
        _row(
            brief,
            brief.name,
            ind,
            f"Ændring {int(status['year_from'])}–{int(status['year_to'])}",
            År=int(status["year_to"]),
            Værdi=shown_number(value),
            **{
                "Nedre grænse": shown_number(low) if low != SUPPRESSED_MARK else "",
                "Øvre grænse": shown_number(high) if high != SUPPRESSED_MARK else "",
            },
            Enhed=POINTS,
            Vurdering=word,
        )
    ]


def _comparison_rows(brief: Brief, ind, latest: pd.Series, alpha: float) -> list[dict]:
    rows = []
    # Register indicators are not compared with other areas (the brief shows "i.r."): no rows.
    # The survey indicators against the rest of each of the agreement's comparison areas.
    for level, code, name in brief.comparisons if ind.source == "survey" else ():
        rest = "resten af landet" if level == "land" else f"resten af {name}"
        measure = f"Forskel til {rest}"
        if brief.rest_not_covered(ind, latest, level, code, name):
            rows.append(
                _row(brief, brief.name, ind, measure, År=int(latest["year"]), Enhed=POINTS,
                     Vurdering="Ikke i data")
            )  # fmt: skip
            continue
        versus = brief.versus(ind, latest, level, code)
        if bool(latest["suppressed"]) or versus is None or report.is_missing(versus[0]):
            rows.append(
                _row(brief, brief.name, ind, measure, År=int(latest["year"]),
                     Værdi=SUPPRESSED_MARK, Enhed=POINTS, Skjult=HIDDEN_TEXT)
            )  # fmt: skip
            continue
        diff, p = versus
        word = "Som resten" if p >= alpha else ("Højere" if diff > 0 else "Lavere")
        rows.append(
            _row(
                brief,
                brief.name,
                ind,
                measure,
                År=int(latest["year"]),
                Værdi=shown_number(report.pp(diff, unit=False)),
                Enhed=POINTS,
                Vurdering=word,
            )
        )
    return rows


def _inequality_rows(brief: Brief, ind, year: int, education: dict) -> list[dict]:
    if ind.source != "survey" or (
        ind.population.age_max is not None and ind.population.age_max < 25
    ):
        return []
    rows = []
    row = brief.inequality_row(ind, year)
    gap = brief.area_row("gap_change", ind)
    gap_word = "" if gap is None or pd.isna(gap.get("gap")) else str(gap["gap"])
    if row is None or pd.isna(row.get("d")):
        rows.append(
            _row(brief, brief.name, ind, "Uddannelsesforskel D (grundskole minus lang "
                 "videregående)", År=year, Værdi=SUPPRESSED_MARK, Enhed=POINTS,
                 Vurdering=gap_word, Skjult=HIDDEN_TEXT)
        )  # fmt: skip
    else:
        rows.append(
            _row(brief, brief.name, ind, "Uddannelsesforskel D (grundskole minus lang "
                 "videregående)", År=year, Værdi=shown_number(report.pp(row["d"], unit=False)),
                 Enhed=POINTS, Vurdering=gap_word)
        )  # fmt: skip
    # The SII over the waves, as in the figure "Uligheden over tid" (signed, with its interval).
    series = education.get(ind.id)
    if series is None:
        return rows
    if brief.level_name != "land":
        series = series[series["year"].isin(brief.agreement.kommune_waves)]
    for cell in _records(series.sort_values("year"), ("year", "sii", "sii_ci_low", "sii_ci_high")):
        hidden = report.is_missing(cell["sii"])
        value = report.pp(cell["sii"], unit=False, suppressed=hidden)
        low = report.pp(cell["sii_ci_low"], sign=False, unit=False, suppressed=hidden)
        high = report.pp(cell["sii_ci_high"], sign=False, unit=False, suppressed=hidden)
        rows.append(
            _row(
                brief,
                brief.name,
                ind,
                "Uddannelsesforskel SII (hældningsindeks)",
                År=int(cell["year"]),
                Værdi=shown_number(value),
                **{
                    "Nedre grænse": "" if low == SUPPRESSED_MARK else shown_number(low),
                    "Øvre grænse": "" if high == SUPPRESSED_MARK else shown_number(high),
                },
                Enhed=POINTS,
                Skjult=HIDDEN_TEXT if hidden else "",
            )
        )
    return rows


def _education_rows(brief: Brief) -> dict[str, pd.DataFrame]:
    """The area's education-inequality rows per indicator (grouped once per export)."""
    table = brief.tables["inequality"]
    mine = table[
        (table["dimension"] == "education")
        & (table["area_level"] == brief.level_name)
        & (table["area_code"] == brief.code)
    ]
    return dict(tuple(mine.groupby("indicator", sort=False)))


def _projection_rows(brief: Brief, ind) -> list[dict]:
    trend = brief.area_row("register_trends" if ind.source == "register" else "trends", ind)
    if trend is None or pd.isna(trend.get("projected")) or int(trend["n_waves"]) < 2:
        return []
    target = int(brief.agreement.period_end)
    low = report.pct_number(trend["projected_pi_low"])
    high = report.pct_number(trend["projected_pi_high"])
    rows = [
        _row(
            brief,
            brief.name,
            ind,
            f"Fremskrevet andel {target}",
            År=target,
            Værdi=shown_number(report.pct_number(trend["projected"])),
            **{
                "Nedre grænse": "" if low == SUPPRESSED_MARK else shown_number(low),
                "Øvre grænse": "" if high == SUPPRESSED_MARK else shown_number(high),
            },
            Enhed=PERCENT,
        )
    ]
    probability = trend.get("prob_desired_side")
    if not report.is_missing(probability):
        if probability < 0.005:
            value, word = "", "under 1 pct."
        elif probability >= 0.995:
            value, word = "", "over 99 pct."
        else:
            value, word = shown_number(report.pct_number(probability, 0)), ""
        rows.append(
            _row(brief, brief.name, ind, f"Sandsynlighed for at være bedre i {target} end i "
                 "basisåret", År=target, Værdi=value, Enhed=PERCENT, Vurdering=word)
        )  # fmt: skip
    return rows


# ---------------------------------------------------------------------------------------------
# Writers


def to_csv_text(table: pd.DataFrame) -> str:
    """The table as Danish CSV text: ``;``, decimal comma, no thousands separator, ASCII minus."""
    out = table.copy()
    decimals = [0 if "Sandsynlighed" in str(m) else 1 for m in out["Mål"]]
    for column in NUMBER_COLUMNS:
        out[column] = [
            f"{value:.{d}f}".replace(".", ",")
            if isinstance(value, float | int) and not isinstance(value, bool)
            else value
            for value, d in zip(out[column], decimals, strict=True)
        ]
    return out.to_csv(sep=";", index=False, lineterminator="\r\n")


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    tmp.write_text(to_csv_text(table), encoding="utf-8-sig", newline="")
    tmp.replace(path)
    return path


def write_xlsx(table: pd.DataFrame, path: str | Path, notes: Sequence[str] = ()) -> Path:
    """The table on the sheet "Tal" (numbers as numbers with the shown decimals) and the notes on
    the sheet "Om tallene"."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    book = Workbook(write_only=True)  # streamed: about 5 times faster for these small sheets
    sheet = book.create_sheet("Tal")
    sheet.freeze_panes = "A2"
    widths = (26, 26, 40, 40, 16, 22, 6, 8, 8, 8, 12, 10, 16, 12)
    for column, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    header = []
    for name in table.columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    number_at = {table.columns.get_loc(c) for c in NUMBER_COLUMNS}
    for record in table.to_dict("records"):
        fmt = "0" if "Sandsynlighed" in str(record["Mål"]) else "0.0"
        cells = []
        for index, value in enumerate(record.values()):
            if isinstance(value, str) and value == "":
                value = None
            cell = WriteOnlyCell(sheet, value=value)
            if index in number_at and isinstance(value, float | int):
                cell.number_format = fmt
            cells.append(cell)
        sheet.append(cells)
    about = book.create_sheet("Om tallene")
    about.column_dimensions["A"].width = 120
    for line in notes:
        if line:
            about.append([line])
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    book.save(tmp)
    tmp.replace(path)
    return path


def notes(brief: Brief) -> list[str]:
    """What a reader of the spreadsheet needs to know (Danish), from the brief's own texts."""
    percent = round(brief.level * 100, 6)
    level_text = report.number(percent, 0 if float(percent).is_integer() else 1)
    return [
        f"{brief.name}: tallene fra rapporten om {brief.agreement.title}.",
        f"Nedre og øvre grænse er {level_text} pct.-konfidensintervaller for andelene; ændringer "
        "og status er vurderet som i rapporten.",
        brief.weighting_note(),
        brief.coverage_note(),
        f"{SUPPRESSED_MARK} betyder, at tallet ikke vises, fordi der er for få svar (eller fordi "
        "det ellers kunne regnes ud fra andre viste tal). Antal svar er afrundet til nærmeste 10.",
        "Tallene er afrundet som i rapporten (1 decimal). Enheden står i kolonnen Enhed.",
        f"Data beregnet {brief.manifest.get('created', '')}; programversion "
        f"{brief.manifest.get('code_version', '')}.",
        *(["Syntetiske data: tallene beskriver ikke rigtige personer."] if brief.synthetic else []),
    ]


def write_area(
    processed: str | Path,
    out: str | Path,
    *,
    agreement_id: str = "syddanmark-2024-2027",
    level: str = "kommune",
    code: str = "461",
    confidence_level: float = 0.95,
    waves: str = "",
    formats: Sequence[str] = ("csv", "xlsx"),
) -> list[Path]:
    """Write one area's numbers as ``<out>/<slug>.csv`` and/or ``.xlsx``; returns the paths.

    Raises
    ------
    ParameterError
        As :meth:`Brief.open` (unknown or uncovered area, missing processed data, bad level),
        and for an unknown format.
    """
    unknown = sorted(set(formats) - {"csv", "xlsx"})
    if unknown:
        raise ParameterError(f"unknown export format(s) {', '.join(unknown)}; use csv or xlsx")
    brief = Brief.open(
        processed, agreement_id, level, code, waves=waves, confidence_level=confidence_level
    )
    return [Path(p) for p in write_brief(brief, out, formats=formats)]


def write_brief(
    brief: Brief | None,
    out: str | Path,
    *,
    formats: Sequence[str] = ("csv", "xlsx"),
    **open_arguments,
) -> list[str]:
    """Write the numbers of an opened brief (the batch calls this in the brief's own kernel,
    with the notebook's ``brief``, so the export holds exactly the values it rendered); without
    a :class:`Brief`, one is opened from ``open_arguments`` (as :func:`write_area`). Returns
    the written paths as text."""
    if not isinstance(brief, Brief):
        return [str(p) for p in write_area(out=out, formats=formats, **open_arguments)]
    table = published_values(brief)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / str(brief.area["slug"])
    written = []
    if "csv" in formats:
        written.append(write_csv(table, stem.with_suffix(".csv")))
    if "xlsx" in formats:
        written.append(write_xlsx(table, stem.with_suffix(".xlsx"), notes(brief)))
    return [str(p) for p in written]


def export_areas(
    processed: str | Path,
    out: str | Path,
    *,
    agreement_id: str = "syddanmark-2024-2027",
    level: str = "all",
    areas: Sequence[str] | None = None,
    formats: Sequence[str] = ("csv", "xlsx"),
    confidence_level: float = 0.95,
) -> list[Path]:
    """``analyse export``: the numbers of every covered area of ``level`` (or of ``areas``).

    Raises
    ------
    ParameterError
        Unknown level or codes, areas the delivery does not cover, missing processed data.
    """
    from analyse.cube import coverage

    processed = Path(processed)
    if level == "all":
        table = geography.all_areas()
    else:
        table = geography.areas(level)
    if areas:
        wanted = [str(a).strip() for a in areas]
        unknown = sorted(set(wanted) - set(table["area_code"]))
        if unknown:
            raise ParameterError(
                f"unknown area code(s) {', '.join(unknown)} for level {level!r} "
                "(see `analyse areas`)"
            )
        table = table[table["area_code"].isin(wanted)]
    cover_path = processed / "coverage.parquet"
    if cover_path.exists() and not (areas or level == "land"):
        cover = pd.read_parquet(cover_path)
        keep = np.array(
            [coverage.is_covered(cover, r.area_level, r.area_code) for r in table.itertuples()],
            dtype=bool,
        )
        table = table[keep]
    written = []
    for row in table.itertuples(index=False):
        written += write_area(
            processed,
            out,
            agreement_id=agreement_id,
            level=row.area_level,
            code=str(row.area_code),
            confidence_level=confidence_level,
            formats=formats,
        )
    return written
